//! The confirm page: what is held and until when; confirm or release.

use crate::api::booking::{my_booking, ConfirmHold, ReleaseHold};
use crate::components::feedback::{action_error, FormError};
use crate::domain::booking::BookingStatus;
use crate::domain::error::AppError;
use crate::domain::views::BookingView;
use crate::pages::login::urlencoding;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

#[component]
pub fn HoldPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let booking = Resource::new(id, my_booking);
    view! {
        <Title text="Confirm your booking"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match booking.await {
                    Ok(b) => view! { <Held b=b/> }.into_any(),
                    Err(AppError::Unauthorized) => {
                        let next = format!("/holds/{}", id());
                        view! { <Redirect path=format!("/login?next={}", urlencoding(&next))/> }.into_any()
                    }
                    Err(AppError::NotFound) => view! {
                        <h1>"Not found"</h1>
                        <p>"There is no such hold among yours. " <a href="/bookings">"See your bookings"</a></p>
                    }.into_any(),
                    Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Held(b: BookingView) -> impl IntoView {
    let confirm = ServerAction::<ConfirmHold>::new();
    let release = ServerAction::<ReleaseHold>::new();
    let confirm_error = action_error(confirm.value());
    let release_error = action_error(release.value());
    let id = b.booking.id.0;
    let venue_link = format!("/venues/{}", b.venue_id);
    if b.booking.status != BookingStatus::Held {
        return view! {
            <h1>"This hold is over"</h1>
            <p>{format!("{} with {}, {}: {}.", b.what, b.with, b.when, b.status_label)}</p>
            <p><a href="/bookings">"See your bookings"</a> " · " <a href=venue_link>"Choose another time"</a></p>
        }.into_any();
    }
    let expires_at = b.booking.hold_expires_at;
    view! {
        <h1>"Confirm your booking"</h1>
        <div class="summary" role="group" aria-label="Held for you">
            <p class="what">{b.what.clone()}</p>
            <p>{format!("with {}", b.with)}</p>
            <p>{b.when.clone()}</p>
            <p>{b.venue_name.clone()}</p>
        </div>
        <p>
            {format!("We hold this time for you until {}", b.hold_expires_label.clone().unwrap_or_default())}
            <Countdown until=expires_at/>
            "."
        </p>
        <FormError error=confirm_error/>
        <FormError error=release_error/>
        <div class="actions">
            <ActionForm action=confirm attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="primary">"Confirm booking"</button>
            </ActionForm>
            <ActionForm action=release attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button type="submit">"Release"</button>
            </ActionForm>
        </div>
        <p class="muted">{b.cancel_note()}</p>
    }
    .into_any()
}

/// "(9:41 left)", ticking, once JavaScript runs; nothing before that, so
/// the page reads the same with JavaScript off.
#[component]
fn Countdown(until: Option<chrono::DateTime<chrono::Utc>>) -> impl IntoView {
    let left = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        let Some(until) = until else { return };
        let tick = move || left.set(Some((until - chrono::Utc::now()).num_seconds().max(0)));
        tick();
        if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
            on_cleanup(move || handle.clear());
        }
    });
    move || {
        left.get().map(|s| {
            let text = if s == 0 {
                " (expired)".to_owned()
            } else {
                format!(" ({}:{:02} left)", s / 60, s % 60)
            };
            // Read out when the hold is about to end, not every second.
            view! { <span class="countdown" aria-hidden="true">{text}</span> }
        })
    }
}
