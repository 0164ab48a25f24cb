//! Server functions: thin adapters from the browser to the backend. Each
//! gets the state, parses its input, calls the backend and maps errors to
//! `AppError`. They are public endpoints: each authorises for itself.

pub mod account;
pub mod admin;
pub mod booking;
pub mod reschedule;
pub mod venues;
pub mod waitlist;

/// The shared state, from the Leptos context the server provides.
#[cfg(feature = "ssr")]
pub(crate) fn state() -> Result<crate::state::AppState, crate::domain::error::AppError> {
    leptos::prelude::use_context::<crate::state::AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        crate::domain::error::AppError::Internal
    })
}
