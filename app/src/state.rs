//! The state shared by every request: built once at start-up, reached
//! through axum state and Leptos context.

use crate::backend::engine::Engine;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub engine: Engine,
    /// Whether a reverse proxy's X-Forwarded-For names the client.
    pub trust_forwarded_for: bool,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
