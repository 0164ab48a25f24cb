//! One booking for staff: its details, cancelling, marking, moving and
//! its history.

use super::audit::AuditTable;
use super::common::{number, query_flag, refusal};
use crate::api::admin::{
    load_booking, load_move_times, MakeClaimLink, MarkBooking, MoveBooking, StaffCancel,
};
use crate::components::feedback::{action_error, FormError};
use crate::domain::admin::{BookingDetail, MoveTimes};
use crate::domain::booking::BookingStatus;
use crate::domain::error::AppError;
use crate::pages::venue::submit_form_of;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

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
    // The move grid's day and resource come from the address: the form
    // above it is a plain GET form, with or without JavaScript.
    let query = use_query_map();
    let move_times = Resource::new(
        move || {
            let q = query.read();
            (
                id(),
                q.get("move_date"),
                number(q.get("move_resource")),
                mover.version().get(),
            )
        },
        |(id, date, resource, _)| load_move_times(id, date, resource),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (booking.await, move_times.await) {
                    (Ok(b), times) => view! { <BookingAdmin b=b times=times cancel=cancel mark=mark mover=mover claim=claim/> }.into_any(),
                    (Err(e), _) => refusal(e),
                }
            })}
        </Transition>
    }
}

/// The free times of the chosen day, each a button that moves the booking
/// there: with the chosen therapist or table, or for "anyone", its own
/// when free then, else the first free one.
#[component]
fn MoveGrid(
    id: i64,
    current: Option<i64>,
    times: MoveTimes,
    mover: ServerAction<MoveBooking>,
) -> impl IntoView {
    let names = times.times.resources.clone();
    let name_of = move |r: i64| {
        names
            .iter()
            .find(|s| s.id.0 == r)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let free: Vec<_> = times
        .times
        .slots
        .iter()
        .filter_map(|slot| {
            let pick = if times.resource > 0 {
                slot.free.iter().map(|f| f.0).find(|f| *f == times.resource)
            } else {
                current
                    .filter(|c| slot.free.iter().any(|f| f.0 == *c))
                    .or_else(|| slot.free.first().map(|f| f.0))
            }?;
            Some((slot.clone(), pick))
        })
        .collect();
    if free.is_empty() {
        return view! { <p>"No free time that day for this booking. Try another day or “Anyone who can”."</p> }.into_any();
    }
    view! {
        <ul class="slots">
            {free.into_iter().map(|(slot, pick)| {
                let label = format!("Move to {}, {}", slot.label, name_of(pick));
                view! {
                    <li>
                        <ActionForm action=mover attr:class="inline-form">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="start" value=slot.start.to_rfc3339()/>
                            <input type="hidden" name="resource" value=pick/>
                            <button type="submit" class="slot" aria-label=label>{slot.time.clone()}</button>
                        </ActionForm>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn BookingAdmin(
    b: BookingDetail,
    times: Result<MoveTimes, AppError>,
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
    let query = use_query_map();
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
    let current = b.current_resource.map(|r| r.0);
    let (grid_date, grid_resource) = match &times {
        Ok(t) => (t.date.to_string(), t.resource),
        Err(_) => (b.date.to_string(), current.unwrap_or(0)),
    };
    let with_options = b
        .movable_to
        .iter()
        .map(|(r, name)| view! { <option value=r.0 selected=grid_resource == r.0>{name.clone()}</option> })
        .collect_view();
    let to_options = b
        .movable_to
        .iter()
        .map(|(r, name)| view! { <option value=r.0>{name.clone()}</option> })
        .collect_view();
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
            <section aria-labelledby="move-heading">
                <h2 id="move-heading">"Move"</h2>
                <Form method="GET" action="" attr:class="choices" on:change=|ev: leptos::ev::Event| submit_form_of(&ev)>
                    <label for="move-day">"Day"</label>
                    <input id="move-day" name="move_date" type="date" value=grid_date.clone()/>
                    <label for="move-with">"With"</label>
                    <select id="move-with" name="move_resource">
                        <option value="0" selected=grid_resource == 0>"Anyone who can"</option>
                        {with_options}
                    </select>
                    <button type="submit">"Show free times"</button>
                </Form>
                {match times.clone() {
                    Ok(t) => view! { <MoveGrid id=id current=current times=t mover=mover/> }.into_any(),
                    Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                }}
                <details>
                    <summary>"Or type a date and time"</summary>
                    <ActionForm action=mover attr:class="stacked" attr:aria-label="Move to a date and time">
                        <input type="hidden" name="id" value=id/>
                        <label for="move-date">"Date"</label>
                        <input id="move-date" name="date" type="date" value=b.date.to_string() required/>
                        <label for="move-time">"Time"</label>
                        <input id="move-time" name="time" type="time" step="300" value=b.time.clone() required/>
                        <label for="move-resource">"To"</label>
                        <select id="move-resource" name="resource">
                            <option value="0">"The same"</option>
                            {to_options}
                        </select>
                        <button type="submit" class="primary">"Move"</button>
                    </ActionForm>
                </details>
            </section>
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
        <h2 id="messages-heading">"Messages to the customer"</h2>
        <MessagesTable messages=b.messages.clone()/>
    }
}

/// What the customer was told, and whether it reached them.
#[component]
fn MessagesTable(messages: Vec<crate::domain::admin::MessageLine>) -> impl IntoView {
    if messages.is_empty() {
        return view! { <p class="muted">"None: a hold is told when it is confirmed."</p> }
            .into_any();
    }
    view! {
        <table class="messages" aria-labelledby="messages-heading">
            <thead><tr><th scope="col">"Message"</th><th scope="col">"Written"</th><th scope="col">"State"</th></tr></thead>
            <tbody>
                {messages.into_iter().map(|m| {
                    let class = if m.undelivered { "undelivered" } else { "" };
                    let state = match &m.sent_label {
                        Some(at) => format!("{} at {at}", m.state),
                        None => m.state.clone(),
                    };
                    view! {
                        <tr class=class>
                            <td>{m.what}</td>
                            <td>{m.written_label}</td>
                            <td>
                                {state}
                                {m.error.filter(|_| m.undelivered).map(|e| view! { <br/><span class="muted">{format!("Last error: {e}")}</span> })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
