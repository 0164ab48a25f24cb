//! Log in and register (both send the visitor back where they came from),
//! and claim an account staff made without a password.

use crate::api::account::{safe_next, ClaimAccount, LogIn, Register};
use crate::components::feedback::{action_error, field_error, FormError};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn next_from_query() -> String {
    let query = use_query_map();
    let next = query.read_untracked().get("next").unwrap_or_default();
    safe_next(&next)
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let next = next_from_query();
    let action = ServerAction::<LogIn>::new();
    let error = action_error(action.value());
    let register_link = format!("/register?next={}", urlencoding(&next));
    view! {
        <Title text="Log in"/>
        <h1>"Log in"</h1>
        <ActionForm action=action attr:class="stacked">
            <FormError error=error/>
            <input type="hidden" name="next" value=next/>
            <label for="email">"Email"</label>
            <input id="email" type="email" name="email" autocomplete="username" required/>
            <label for="password">"Password"</label>
            <input id="password" type="password" name="password" autocomplete="current-password" required/>
            <button type="submit" class="primary">"Log in"</button>
        </ActionForm>
        <p>"No account yet? " <a href=register_link>"Register"</a></p>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let next = next_from_query();
    let action = ServerAction::<Register>::new();
    let error = action_error(action.value());
    let general = Signal::derive(move || {
        error
            .get()
            .filter(|e| !matches!(e, crate::domain::error::AppError::Invalid { .. }))
    });
    let login_link = format!("/login?next={}", urlencoding(&next));
    let field = move |name: &'static str| {
        let message = field_error(error, name);
        let id = format!("{name}-error");
        view! {
            <span class="field-error" id=id>{message}</span>
        }
    };
    view! {
        <Title text="Register"/>
        <h1>"Create an account"</h1>
        <ActionForm action=action attr:class="stacked">
            <FormError error=general/>
            <input type="hidden" name="next" value=next/>
            <label for="name">"Your name"</label>
            <input id="name" name="name" autocomplete="name" required maxlength="100" aria-describedby="name-error"/>
            {field("name")}
            <label for="email">"Email"</label>
            <input id="email" type="email" name="email" autocomplete="email" required aria-describedby="email-error"/>
            {field("email")}
            <label for="password">"Password (at least 10 characters)"</label>
            <input id="password" type="password" name="password" autocomplete="new-password" required minlength="10" aria-describedby="password-error"/>
            {field("password")}
            <button type="submit" class="primary">"Create account"</button>
        </ActionForm>
        <p>"Have an account? " <a href=login_link>"Log in"</a></p>
    }
}

/// Percent-encodes a path for use as a query value.
pub fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `/claim?token=…`: the link staff gave a customer they booked without a
/// password; the customer chooses one and is signed in.
#[component]
pub fn ClaimPage() -> impl IntoView {
    let query = use_query_map();
    let token = query.read_untracked().get("token").unwrap_or_default();
    let action = ServerAction::<ClaimAccount>::new();
    let error = action_error(action.value());
    let general = Signal::derive(move || {
        error.get().filter(|e| {
            !matches!(e, crate::domain::error::AppError::Invalid { field, .. } if field == "password")
        })
    });
    view! {
        <Title text="Choose a password"/>
        <h1>"Choose a password"</h1>
        <p>"The venue booked you without one. With a password you can see and change your bookings here."</p>
        <ActionForm action=action attr:class="stacked">
            <FormError error=general/>
            <input type="hidden" name="token" value=token/>
            <label for="password">"Password (at least 10 characters)"</label>
            <input id="password" type="password" name="password" autocomplete="new-password" minlength="10" required aria-describedby="password-error"/>
            <span class="field-error" id="password-error">{field_error(error, "password")}</span>
            <button type="submit" class="primary">"Save and log in"</button>
        </ActionForm>
    }
}
