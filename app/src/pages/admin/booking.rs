//! One booking for staff: its details, cancelling, marking, moving and
//! its history.

use super::audit::AuditTable;
use super::common::{number, query_flag, refusal};
use crate::api::admin::{load_booking, MakeClaimLink, MarkBooking, MoveBooking, StaffCancel};
use crate::components::feedback::{action_error, FormError};
use crate::domain::admin::BookingDetail;
use crate::domain::booking::BookingStatus;
use crate::domain::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn AdminBookingPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || number(params.read().get("id")).unwrap_or(0);
    let cancel = ServerAction::<StaffCancel>::new();
    let mark = ServerAction::<MarkBooking>::new();
    let mover = ServerAction::<MoveBooking>::new();
    let claim = ServerAction::<MakeClaimLink>::new();
    let booking = Resource::new(
        move || {
            (
                id(),
                cancel.version().get(),
                mark.version().get(),
                mover.version().get(),
            )
        },
        |(id, ..)| load_booking(id),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match booking.await {
                    Ok(b) => view! { <BookingAdmin b=b cancel=cancel mark=mark mover=mover claim=claim/> }.into_any(),
                    Err(e) => refusal(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn BookingAdmin(
    b: BookingDetail,
    cancel: ServerAction<StaffCancel>,
    mark: ServerAction<MarkBooking>,
    mover: ServerAction<MoveBooking>,
    claim: ServerAction<MakeClaimLink>,
) -> impl IntoView {
    let id = b.view.booking.id.0;
    let live = b.view.booking.status.is_live();
    // Completed and no-show only once it has started (the engine refuses
    // them before).
    let markable = b.view.booking.status == BookingStatus::Confirmed && b.started;
    let errors = Signal::derive(move || {
        action_error(cancel.value())
            .get()
            .or_else(|| action_error(mark.value()).get())
            .or_else(|| action_error(mover.value()).get())
            .or_else(|| action_error(claim.value()).get())
    });
    let query = leptos_router::hooks::use_query_map();
    let made_link = move || {
        query
            .read()
            .get("claim")
            .filter(|t| t.len() == 64 && t.bytes().all(|c| c.is_ascii_hexdigit()))
            .map(|t| format!("/claim?token={t}"))
    };
    // A move onto a taken time: staff are told what is in the way, not
    // that someone just took it.
    let shown = Signal::derive(move || {
        errors.get().map(|e| match e {
            AppError::SlotTaken { .. } => AppError::Refused {
                message: "That time is not free: another booking or a closure has it. The free times nearby are below.".to_owned(),
            },
            other => other,
        })
    });
    let alternatives = move || match errors.get() {
        Some(AppError::SlotTaken { alternatives }) => Some(alternatives),
        _ => None,
    };
    let title = format!("Booking #{id}");
    let moved = query_flag("moved");
    view! {
        <Title text=title.clone()/>
        <h1>{title}</h1>
        <p><a href=format!("/admin/venues/{}/day?date={}", b.view.venue_id, b.date)>"Back to the day"</a></p>
        {move || moved.get().then(|| view! { <p class="notice" role="status">"Moved."</p> })}
        <FormError error=shown/>
        {move || alternatives().map(|alts| view! {
            <section class="alternatives" aria-labelledby="free-heading">
                <h2 id="free-heading">"Free instead"</h2>
                <ul>{alts.into_iter().map(|a| view! {
                    <li>
                        <ActionForm action=mover attr:class="inline-form">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="start" value=a.start.to_rfc3339()/>
                            <input type="hidden" name="resource" value=a.resource.0/>
                            <button type="submit">{format!("Move to {} with {}", a.label, a.resource_name)}</button>
                        </ActionForm>
                    </li>
                }).collect_view()}</ul>
            </section>
        })}
        <dl class="details">
            <dt>"Customer"</dt><dd>{format!("{} <{}>", b.customer_name, b.customer_email)}</dd>
            <dt>"What"</dt><dd>{b.view.what.clone()}</dd>
            <dt>"When"</dt><dd>{b.view.when.clone()}</dd>
            <dt>"Length"</dt><dd>{b.view.length_and_price()}</dd>
            <dt>"With"</dt><dd>{b.view.with.clone()}</dd>
            <dt>"Status"</dt><dd>{b.view.status_label.clone()}{b.view.hold_expires_label.clone().map(|t| format!(" (hold until {t})"))}</dd>
            <dt>"Made"</dt><dd>{b.created_label.clone()}</dd>
            {b.view.booking.phone.clone().map(|p| view! { <dt>"Phone"</dt><dd><a href=format!("tel:{}", p.replace(' ', ""))>{p.clone()}</a></dd> })}
            {b.view.booking.note.clone().map(|n| view! { <dt>"Customer's note"</dt><dd class="note">{n}</dd> })}
        </dl>
        {live.then(|| view! {
            <div class="actions">
                <ActionForm action=cancel attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit">"Cancel booking"</button>
                </ActionForm>
                {markable.then(|| view! {
                    <ActionForm action=mark attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="status" value="completed"/>
                        <button type="submit">"Mark completed"</button>
                    </ActionForm>
                    <ActionForm action=mark attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="status" value="no_show"/>
                        <button type="submit">"Mark no-show"</button>
                    </ActionForm>
                })}
            </div>
            <h2 id="move-heading">"Move"</h2>
            <ActionForm action=mover attr:class="stacked" attr:aria-labelledby="move-heading">
                <input type="hidden" name="id" value=id/>
                <label for="move-date">"Date"</label>
                <input id="move-date" name="date" type="date" value=b.date.to_string() required/>
                <label for="move-time">"Time"</label>
                <input id="move-time" name="time" type="time" step="300" value=b.time.clone() required/>
                <label for="move-resource">"To"</label>
                <select id="move-resource" name="resource">
                    <option value="0">"The same"</option>
                    {b.movable_to.iter().map(|(r, name)| view! { <option value=r.0>{name.clone()}</option> }).collect_view()}
                </select>
                <button type="submit" class="primary">"Move"</button>
            </ActionForm>
        })}
        {(!b.customer_has_password).then(|| view! {
            <h2 id="claim-heading">"The customer's account"</h2>
            <p>"This customer was booked without a password. A sign-in link lets them choose one and see their bookings online; it works once, for 7 days."</p>
            {move || made_link().map(|path| view! {
                <p class="notice" role="status">"Give the customer this link: " <code>{path}</code> " (on this site's address)."</p>
            })}
            <ActionForm action=claim attr:class="inline-form" attr:aria-labelledby="claim-heading">
                <input type="hidden" name="id" value=id/>
                <button type="submit">"Make a sign-in link"</button>
            </ActionForm>
        })}
        <h2>"History"</h2>
        <AuditTable entries=b.history.clone()/>
    }
}
