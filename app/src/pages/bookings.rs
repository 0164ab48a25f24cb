//! My bookings: upcoming, past and cancelled; cancel; add to a calendar.

use crate::api::booking::{my_bookings, CancelBooking};
use crate::components::feedback::{action_error, FormError};
use crate::domain::booking::BookingStatus;
use crate::domain::error::AppError;
use crate::domain::views::BookingView;
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
    view! {
        <Title text="My bookings"/>
        <h1>"My bookings"</h1>
        {move || confirmed().map(|_| view! { <p class="notice" role="status">"Booked. See you then!"</p> })}
        {move || cancelled().map(|_| view! { <p class="notice" role="status">"Cancelled. The time is free for others again."</p> })}
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
    let cancel_label = format!("Cancel {}", heading);
    view! {
        <li class="booking">
            <article aria-label=heading.clone()>
                <h3>{heading.clone()}</h3>
                <p>{format!("{} · with {} · {}", b.venue_name, b.with, b.span_label)}</p>
                <p class="status">{format!("Status: {}", b.status_label)}</p>
                {(live && b.upcoming).then(|| view! {
                    <p class="muted">{b.cancel_note()}</p>
                    <div class="actions">
                        {b.is_held().then(|| view! { <a href=format!("/holds/{id}")>"Confirm this hold"</a> })}
                        {b.customer_may_cancel().then(|| view! {
                            <ActionForm action=cancel attr:class="inline-form">
                                <input type="hidden" name="id" value=id/>
                                <button type="submit" aria-label=cancel_label>"Cancel"</button>
                            </ActionForm>
                        })}
                        {(b.booking.status == BookingStatus::Confirmed).then(|| view! {
                            <a href=format!("/bookings/{id}/calendar.ics") download="">"Add to calendar (.ics)"</a>
                        })}
                    </div>
                })}
            </article>
        </li>
    }
}
