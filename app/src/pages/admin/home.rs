//! The admin home page: the venues a staff member runs.

use super::common::refusal;
use crate::api::admin::admin_venues;
use crate::domain::admin::StaffVenue;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminHome() -> impl IntoView {
    let venues = Resource::new(|| (), |_| admin_venues());
    view! {
        <Title text="Admin"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match venues.await {
                    Ok(list) => view! {
                        <h1>"Admin"</h1>
                        <p><a href="/admin/stats">"Statistics"</a> " · " <a href="/admin/staff">"Staff and venues (admins)"</a></p>
                        <h2>"Your venues"</h2>
                        {list.is_empty().then(|| view! { <p>"You do not run any venue yet; an admin can add you to one."</p> })}
                        <ul class="venues">
                            {list.into_iter().map(|v: StaffVenue| view! {
                                <li>
                                    <strong>{v.name.clone()}</strong>
                                    " — "
                                    <a href=format!("/admin/venues/{}/day?date={}", v.id, v.today)>"Today’s schedule"</a>
                                    " · "
                                    <a href=format!("/admin/venues/{}/setup", v.id)>"Set-up"</a>
                                    " · "
                                    <a href=format!("/admin/venues/{}/audit", v.id)>"Audit trail"</a>
                                    {(!v.undelivered.is_empty()).then(|| view! {
                                        <p class="warning">{format!("Messages that could not be sent to customers ({}): tell them another way.", v.undelivered.len())}</p>
                                        <ul>
                                            {v.undelivered.iter().map(|(booking, m)| view! {
                                                <li>
                                                    <a href=format!("/admin/bookings/{booking}")>{format!("Booking #{booking}")}</a>
                                                    {format!(": {}, written {}", m.what, m.written_label)}
                                                    {m.error.clone().map(|e| format!(" ({e})"))}
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => refusal(e),
                }
            })}
        </Transition>
    }
}
