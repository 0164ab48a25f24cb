//! Pieces the pages about one booking share: what it is, and the answer
//! when it is not there to show.

use crate::domain::error::AppError;
use crate::domain::views::BookingView;
use crate::pages::login::urlencoding;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// What the booking is, when, how long, what it costs and where, as a
/// named group.
#[component]
pub fn BookingSummary(b: BookingView, label: &'static str) -> impl IntoView {
    view! {
        <div class="summary" role="group" aria-label=label>
            <p class="what">{b.what.clone()}</p>
            <p>{format!("with {}", b.with)}</p>
            <p>{b.when.clone()}</p>
            <p>{b.length_and_price()}</p>
            <p>{b.venue_line()}</p>
        </div>
    }
}

/// The page for a booking that could not be loaded: to the log-in page
/// and back to `here` when signed out, "no such {what} among yours" when
/// it is not the customer's, else the error.
pub fn booking_unavailable(error: AppError, here: String, what: &'static str) -> AnyView {
    match error {
        AppError::Unauthorized => {
            view! { <Redirect path=format!("/login?next={}", urlencoding(&here))/> }.into_any()
        }
        AppError::NotFound => view! {
            <h1>"Not found"</h1>
            <p>{format!("There is no such {what} among yours. ")} <a href="/bookings">"See your bookings"</a></p>
        }
        .into_any(),
        e => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
    }
}
