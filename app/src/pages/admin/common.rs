//! What several admin pages share: reading numbers and flags from the
//! address, the answer to a refused load, values typed again after a
//! conflict, and the prompt about stranded bookings.

use crate::domain::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_query_map};

pub(super) fn number(s: Option<String>) -> Option<i64> {
    s.and_then(|v| v.parse().ok())
}

/// Whether the address carries `name` (`?closed=1` after a save). It
/// follows the address: with JavaScript the save's redirect arrives as a
/// client-side navigation, possibly after the page has re-rendered.
pub(super) fn query_flag(name: &'static str) -> Signal<bool> {
    let query = use_query_map();
    Signal::derive(move || query.read().get(name).is_some())
}

/// What a failed load shows: the login page for visitors, a refusal for
/// customers and staff of other venues.
pub(super) fn refusal(e: AppError) -> AnyView {
    // The page answers with the error's status too (403 for customers).
    #[cfg(feature = "ssr")]
    if !matches!(e, AppError::Unauthorized) {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(
                axum::http::StatusCode::from_u16(e.status())
                    .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
    }
    match e {
        AppError::Unauthorized => {
            let here = use_location();
            let next = format!(
                "{}{}",
                here.pathname.get_untracked(),
                here.search.get_untracked()
            );
            let path = format!("/login?next={}", crate::pages::login::urlencoding(&next));
            view! { <Redirect path=path/> }.into_any()
        }
        AppError::Forbidden => view! {
            <Title text="Not allowed"/>
            <h1>"Not allowed"</h1>
            <p role="alert">"This page is for the venue's staff."</p>
        }
        .into_any(),
        other => view! { <p role="alert">{other.to_string()}</p> }.into_any(),
    }
}

/// A form value offered again after a refusal, a version conflict or a
/// question about stranded bookings, else `current`. `id` tells list
/// items apart.
pub(super) fn typed(
    error: Signal<Option<AppError>>,
    id: i64,
    field: &str,
    current: String,
) -> String {
    let submitted = match error.get_untracked() {
        Some(
            AppError::Stale { submitted }
            | AppError::Strands { submitted, .. }
            | AppError::Invalid { submitted, .. },
        ) => submitted,
        _ => return current,
    };
    let same_item = submitted.get("id").is_none_or(|v| v == &id.to_string());
    match submitted.get(field) {
        Some(v) if same_item => v.clone(),
        _ => current,
    }
}

/// The answer to a change that would strand bookings: the list, and a form
/// sending the same values again with the choice. A plain form, so it works
/// the same with JavaScript off.
#[component]
pub(super) fn StrandsPrompt(
    #[prop(into)] error: Signal<Option<AppError>>,
    endpoint: &'static str,
) -> impl IntoView {
    move || match error.get() {
        Some(AppError::Strands {
            bookings,
            submitted,
        }) => Some(view! {
            <section class="banner" role="alert" aria-labelledby="strands-title">
                <h2 id="strands-title">"This change affects live bookings"</h2>
                <ul>
                    {bookings.into_iter().map(|b| view! {
                        <li><a href=format!("/admin/bookings/{}", b.id)>{b.summary}</a></li>
                    }).collect_view()}
                </ul>
                <form method="post" action=format!("/api/admin/{endpoint}")>
                    {submitted.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()}
                    <button type="submit" name="choice" value="keep">"Make the change and keep these bookings"</button>
                    " "
                    <button type="submit" name="choice" value="cancel">"Make the change and cancel these bookings"</button>
                </form>
                <p class="muted">"Cancelled bookings show “cancelled by the venue” to their customers."</p>
            </section>
        }),
        _ => None,
    }
}
