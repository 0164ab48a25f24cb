//! My bookings: upcoming, past and cancelled; cancel; add to a calendar.

use crate::api::booking::{my_booking, my_bookings, CancelBooking};
use crate::api::waitlist::{my_waitlist, LeaveWaitlist};
use crate::components::booking::{booking_id_param, booking_unavailable, BookingSummary};
use crate::components::feedback::{action_error, FormError};
use crate::domain::booking::BookingStatus;
use crate::domain::error::AppError;
use crate::domain::views::BookingView;
use crate::domain::waitlist::{WaitlistEntry, WaitlistState};
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

#[component]
pub fn BookingsPage() -> impl IntoView {
    let cancel = ServerAction::<CancelBooking>::new();
    let bookings = Resource::new(move || cancel.version().get(), |_| my_bookings());
    let cancel_error = action_error(cancel.value());
    let query = use_query_map();
    let confirmed = move || query.read().get("confirmed");
    let cancelled = move || query.read().get("cancelled");
    let rescheduled = move || query.read().get("rescheduled");
    let waiting = move || query.read().get("waiting");
    let left = move || query.read().get("left");
    view! {
        <Title text="My bookings"/>
        <h1>"My bookings"</h1>
        {move || confirmed().map(|_| view! { <p class="notice" role="status">"Booked. See you then!"</p> })}
        {move || cancelled().map(|_| view! { <p class="notice" role="status">"Cancelled. The time is free for others again."</p> })}
        {move || rescheduled().map(|_| view! { <p class="notice" role="status">"Rescheduled. Your booking has its new time below."</p> })}
        {move || waiting().map(|_| view! { <p class="notice" role="status">"You are on the waitlist. If a time comes free, it is held for you and we email you."</p> })}
        {move || left().map(|_| view! { <p class="notice" role="status">"You left the waitlist."</p> })}
        <FormError error=cancel_error/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match bookings.await {
                    Ok(list) => {
                        // Upcoming holds only what is still on; a
                        // cancelled booking has its own list.
                        let (cancelled, rest): (Vec<_>, Vec<_>) = list
                            .into_iter()
                            .filter(|b| b.booking.status != BookingStatus::Expired)
                            .partition(|b| b.booking.status == BookingStatus::Cancelled);
                        let (upcoming, past): (Vec<_>, Vec<_>) = rest.into_iter().partition(|b| b.upcoming);
                        let cancelled_list = (!cancelled.is_empty()).then(|| view! {
                            <h2>"Cancelled"</h2>
                            <List items=cancelled.into_iter().rev().collect() cancel=cancel empty=().into_any()/>
                        });
                        view! {
                            <h2>"Upcoming"</h2>
                            <List items=upcoming cancel=cancel empty=view! { <p>"Nothing booked yet. " <a href="/">"Find a time"</a></p> }.into_any()/>
                            <h2>"Past"</h2>
                            <List items=past.into_iter().rev().collect() cancel=cancel empty=view! { <p>"No past bookings."</p> }.into_any()/>
                            {cancelled_list}
                        }.into_any()
                    }
                    Err(AppError::Unauthorized) => view! { <Redirect path="/login?next=/bookings"/> }.into_any(),
                    Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <Waitlist/>
    }
}

/// The customer's waitlist entries: those still in line (or offered a
/// time) with a way to leave, then what became of the others.
#[component]
fn Waitlist() -> impl IntoView {
    let leave = ServerAction::<LeaveWaitlist>::new();
    let entries = Resource::new(move || leave.version().get(), |_| my_waitlist());
    let error = action_error(leave.value());
    view! {
        <section id="waitlist" aria-labelledby="waitlist-heading">
            <h2 id="waitlist-heading">"Waitlist"</h2>
            <FormError error=error/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(list) if list.is_empty() => view! {
                            <p>"You are not waiting for anything. When a day is full, you can join its waitlist from the venue's page."</p>
                        }.into_any(),
                        Ok(list) => {
                            let (live, ended): (Vec<_>, Vec<_>) = list.into_iter().partition(|e| e.state.is_live() && !e.past);
                            view! {
                                <ul class="bookings">
                                    {live.into_iter().map(|e| view! { <WaitlistItem e=e leave=Some(leave)/> }).collect_view()}
                                </ul>
                                {(!ended.is_empty()).then(|| view! {
                                    <h3>"Earlier entries"</h3>
                                    <ul class="bookings">
                                        {ended.into_iter().take(10).map(|e| view! { <WaitlistItem e=e leave=None/> }).collect_view()}
                                    </ul>
                                })}
                            }.into_any()
                        }
                        Err(AppError::Unauthorized) => ().into_any(),
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn WaitlistItem(e: WaitlistEntry, leave: Option<ServerAction<LeaveWaitlist>>) -> impl IntoView {
    let heading = format!("{} at {}, {}", e.what, e.venue_name, e.day_label);
    let leave_label = format!("Leave the waitlist: {heading}");
    let offered = e
        .hold
        .filter(|_| e.state == WaitlistState::Offered && e.hold_expires_at.is_some());
    view! {
        <li class="booking waitlist-entry">
            <article aria-label=heading.clone()>
                <h3>{heading.clone()}</h3>
                <p>{format!("With {} · {}", e.with, e.range_label())}</p>
                <p class="status">{e.status_label.clone()}</p>
                <div class="actions">
                    {offered.map(|h| view! { <a href=format!("/holds/{h}")>"Confirm the time held for you"</a> })}
                    {leave.map(|leave| view! {
                        <ActionForm action=leave attr:class="inline-form">
                            <input type="hidden" name="id" value=e.id/>
                            <button type="submit" aria-label=leave_label>"Leave the waitlist"</button>
                        </ActionForm>
                    })}
                </div>
            </article>
        </li>
    }
}

#[component]
fn List(
    items: Vec<BookingView>,
    cancel: ServerAction<CancelBooking>,
    empty: AnyView,
) -> impl IntoView {
    if items.is_empty() {
        return empty;
    }
    view! {
        <ul class="bookings">
            {items.into_iter().map(|b| view! { <Item b=b cancel=cancel/> }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn Item(b: BookingView, cancel: ServerAction<CancelBooking>) -> impl IntoView {
    let id = b.booking.id.0;
    let live = matches!(
        b.booking.status,
        BookingStatus::Held | BookingStatus::Confirmed
    );
    let heading = format!("{} — {}", b.what, b.when);
    let confirmed = b.booking.status == BookingStatus::Confirmed;
    view! {
        <li class="booking">
            <article aria-label=heading.clone()>
                <h3>{heading.clone()}</h3>
                <p>{format!("{} · with {} · {}", b.venue_line(), b.with, b.length_and_price())}</p>
                {b.booking.note.clone().map(|n| view! { <p class="muted">{format!("Your note: {n}")}</p> })}
                <p class="status">{format!("Status: {}", b.status_label)}</p>
                {(live && b.upcoming).then(|| view! {
                    <p class="muted">{b.cancel_note()}</p>
                    <div class="actions">
                        {b.is_held().then(|| view! { <a href=format!("/holds/{id}")>"Confirm this hold"</a> })}
                        {b.customer_may_reschedule().then(|| view! {
                            <a href=format!("/bookings/{id}/reschedule") aria-label=format!("Reschedule {heading}")>"Reschedule"</a>
                        })}
                        {b.customer_may_cancel().then(|| view! { <CancelAsk b=b.clone() cancel=cancel/> })}
                        {confirmed.then(|| view! {
                            <a href=format!("/bookings/{id}/calendar.ics") download="">"Add to calendar (.ics)"</a>
                        })}
                    </div>
                })}
            </article>
        </li>
    }
}

/// "Cancel": asks first. The link opens the confirm page; with
/// JavaScript, the same question in a dialog on this page.
#[component]
fn CancelAsk(b: BookingView, cancel: ServerAction<CancelBooking>) -> impl IntoView {
    let id = b.booking.id.0;
    let heading = format!("{} — {}", b.what, b.when);
    let dialog = NodeRef::<html::Dialog>::new();
    let title_id = format!("cancel-title-{id}");
    let labelled_by = title_id.clone();
    let open = move |ev: leptos::ev::MouseEvent| {
        if let Some(d) = dialog.get() {
            if d.show_modal().is_ok() {
                ev.prevent_default();
            }
        }
    };
    let close = move |_| {
        if let Some(d) = dialog.get() {
            d.close();
        }
    };
    view! {
        <a href=format!("/bookings/{id}/cancel") aria-label=format!("Cancel {heading}") on:click=open>"Cancel"</a>
        <dialog node_ref=dialog class="confirm-dialog" aria-labelledby=labelled_by>
            <h2 id=title_id>{cancel_question(&b)}</h2>
            <p>{heading.clone()}</p>
            <p class="muted">{b.cancel_note()}</p>
            <div class="actions">
                <ActionForm action=cancel attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="danger">{cancel_yes(&b)}</button>
                </ActionForm>
                <button type="button" on:click=close>"Keep it"</button>
            </div>
        </dialog>
    }
}

fn cancel_question(b: &BookingView) -> &'static str {
    if b.is_held() {
        "Release this hold?"
    } else {
        "Cancel this booking?"
    }
}

fn cancel_yes(b: &BookingView) -> &'static str {
    if b.is_held() {
        "Yes, release it"
    } else {
        "Yes, cancel it"
    }
}

/// The question before a cancellation, as a page: where the Cancel link
/// goes without JavaScript.
#[component]
pub fn CancelPage() -> impl IntoView {
    let id = booking_id_param();
    let cancel = ServerAction::<CancelBooking>::new();
    let error = action_error(cancel.value());
    let booking = Resource::new(id, my_booking);
    view! {
        <Title text="Cancel a booking"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match booking.await {
                    Ok(b) if b.customer_may_cancel() && b.upcoming => {
                        let id = b.booking.id.0;
                        view! {
                            <h1>{cancel_question(&b)}</h1>
                            <BookingSummary b=b.clone() label="The booking"/>
                            <p class="muted">{b.cancel_note()}</p>
                            <FormError error=error/>
                            <div class="actions">
                                <ActionForm action=cancel attr:class="inline-form">
                                    <input type="hidden" name="id" value=id/>
                                    <button type="submit" class="danger">{cancel_yes(&b)}</button>
                                </ActionForm>
                                <a href="/bookings">"Keep it"</a>
                            </div>
                        }.into_any()
                    }
                    Ok(b) => view! {
                        <h1>"This booking cannot be cancelled here"</h1>
                        <p>{format!("{} with {}, {}: {}.", b.what, b.with, b.when, b.status_label)}</p>
                        <p>{b.cancel_note()}</p>
                        <p><a href="/bookings">"See your bookings"</a></p>
                    }.into_any(),
                    Err(e) => booking_unavailable(e, format!("/bookings/{}/cancel", id()), "booking"),
                }
            })}
        </Transition>
    }
}
