//! One-time values a page carries: the idempotency key of a booking form
//! and the nonce its alternatives' keys are built from.
//!
//! The server keeps the booking page as visitors who are not signed in see
//! it for a moment and serves copies of one render (`server/src/page_cache.rs`).
//! Such a render asks for it with [`SharedRender`] among the request's
//! extensions; it then carries placeholders, and the cache puts fresh values
//! in every copy it serves, so no two visitors share a key.

use leptos::prelude::use_context;

/// Marks a request whose render is copied to many visitors.
#[derive(Clone, Copy, Debug)]
pub struct SharedRender;

/// Stands for a form key in a shared render; as long as a real one.
pub const FORM_KEY_PLACEHOLDER: &str = "form-@@@@@@@@@@@@@@@@@@@@@@@@";
/// Stands for a nonce in a shared render; as long as a real one.
pub const NONCE_PLACEHOLDER: &str = "@@@@nonce@@@@@@@";

/// A new, unguessable form key.
pub fn fresh_form_key() -> String {
    format!("form-{:024x}", rand::random::<u128>() >> 32)
}

/// A new nonce.
pub fn fresh_nonce() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn shared() -> bool {
    use_context::<axum::http::request::Parts>()
        .is_some_and(|p| p.extensions.get::<SharedRender>().is_some())
}

/// The form key for the page being rendered.
pub fn form_key() -> String {
    if shared() {
        FORM_KEY_PLACEHOLDER.to_owned()
    } else {
        fresh_form_key()
    }
}

/// The nonce for the page being rendered.
pub fn nonce() -> String {
    if shared() {
        NONCE_PLACEHOLDER.to_owned()
    } else {
        fresh_nonce()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_as_long_as_the_values_they_stand_for() {
        assert_eq!(FORM_KEY_PLACEHOLDER.len(), fresh_form_key().len());
        assert_eq!(NONCE_PLACEHOLDER.len(), fresh_nonce().len());
        assert!(!FORM_KEY_PLACEHOLDER.contains(NONCE_PLACEHOLDER));
    }
}
