//! My bookings: upcoming, past and cancelled; cancel; add to a calendar.

use crate::api::booking::{my_booking, my_bookings, CancelBooking};
use crate::components::booking::{booking_id_param, booking_unavailable, BookingSummary};
use crate::components::feedback::{action_error, FormError};
use crate::domain::booking::BookingStatus;
use crate::domain::error::AppError;
use crate::domain::views::BookingView;
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
    view! {
        <Title text="My bookings"/>
        <h1>"My bookings"</h1>
        {move || confirmed().map(|_| view! { <p class="notice" role="status">"Booked. See you then!"</p> })}
        {move || cancelled().map(|_| view! { <p class="notice" role="status">"Cancelled. The time is free for others again."</p> })}
        {move || rescheduled().map(|_| view! { <p class="notice" role="status">"Rescheduled. Your booking has its new time below."</p> })}
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
