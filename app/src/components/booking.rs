//! Pieces the pages about one booking share: what it is, and the answer
//! when it is not there to show.

use crate::domain::error::AppError;
use crate::domain::views::BookingView;
use crate::pages::login::urlencoding;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

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

/// The booking id in the page's address (`/holds/{id}`), 0 when it is
/// not a number (no booking has it: the page then says "not found").
pub fn booking_id_param() -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    }
}
