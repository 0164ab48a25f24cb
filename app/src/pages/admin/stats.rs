//! The statistics page: booking activity per venue and hour.

use super::common::refusal;
use crate::api::admin::load_stats;
use crate::domain::admin::Stats;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminStatsPage() -> impl IntoView {
    let stats = Resource::new(|| (), |_| load_stats());
    view! {
        <Title text="Statistics"/>
        <h1>"Statistics"</h1>
        <p class="muted">"Booking activity per venue and hour (UTC), the last 48 hours. Also as JSON at /api/v1/stats and as Prometheus text at /metrics."</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match stats.await {
                    Ok(s) => view! { <StatsTables stats=s/> }.into_any(),
                    Err(e) => refusal(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn StatsTables(stats: Stats) -> impl IntoView {
    let table = |caption: &'static str,
                 rows: Vec<crate::domain::admin::HourStats>,
                 hourly: bool| {
        view! {
            <table class="stats">
                <caption>{caption}</caption>
                <thead><tr>
                    {hourly.then(|| view! { <th scope="col">"Hour"</th> })}
                    <th scope="col">"Venue"</th><th scope="col">"Bookings"</th><th scope="col">"Conflicts"</th>
                    <th scope="col">"Holds placed"</th><th scope="col">"Holds confirmed"</th><th scope="col">"Holds expired"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|h| view! {
                        <tr>
                            {hourly.then(|| view! { <td>{h.hour_start.format("%Y-%m-%d %H:00").to_string()}</td> })}
                            <td>{h.venue_name}</td><td>{h.booked}</td><td>{h.conflicts}</td>
                            <td>{h.holds_placed}</td><td>{h.holds_confirmed}</td><td>{h.holds_expired}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    };
    view! {
        {table("Totals", stats.totals, false)}
        {table("Per hour", stats.hours, true)}
    }
}
