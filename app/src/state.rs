//! The state shared by every request: built once at start-up, reached
//! through axum state and Leptos context.

use crate::backend::engine::Engine;
use crate::backend::throttle::AddressThrottle;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub engine: Engine,
    /// Whether a reverse proxy's X-Forwarded-For names the client.
    pub trust_forwarded_for: bool,
    /// Hold, booking and reschedule attempts per client address.
    pub booking_attempts: std::sync::Arc<AddressThrottle>,
}

impl AppState {
    /// Counts a customer's attempt to claim a time from `address`; staff
    /// are not counted (they book for others, often from one desk).
    pub fn count_booking_attempt(
        &self,
        user: &crate::backend::accounts::AuthUser,
        address: &str,
    ) -> Result<(), crate::domain::error::AppError> {
        if user.role.is_staff() {
            return Ok(());
        }
        self.booking_attempts
            .take(address, self.engine.clock().now())
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
