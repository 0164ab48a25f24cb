//! The confirm page: what is held and until when; confirm or release.

use crate::api::booking::{my_booking, new_form_key, ConfirmHold, PlaceHold, ReleaseHold};
use crate::components::booking::{booking_id_param, booking_unavailable, BookingSummary};
use crate::components::feedback::{action_error, field_error, FormError};
use crate::domain::booking::BookingStatus;
use crate::domain::error::AppError;
use crate::domain::views::BookingView;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HoldPage() -> impl IntoView {
    let id = booking_id_param();
    let booking = Resource::new(id, my_booking);
    // "Hold it again" sends a key of this render's: holding again after a
    // release, from the page shown anew, is a new request.
    let key = Resource::new(id, |_| new_form_key());
    view! {
        <Title text="Confirm your booking"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (booking.await, key.await) {
                    (Ok(b), Ok(key)) => view! { <Held b=b again_key=key/> }.into_any(),
                    (Err(e), _) | (_, Err(e)) => booking_unavailable(e, format!("/holds/{}", id()), "hold"),
                }
            })}
        </Transition>
    }
}

#[component]
fn Held(b: BookingView, again_key: String) -> impl IntoView {
    let confirm = ServerAction::<ConfirmHold>::new();
    let release = ServerAction::<ReleaseHold>::new();
    let again = ServerAction::<PlaceHold>::new();
    let confirm_error = action_error(confirm.value());
    let note_error = field_error(confirm_error, "note");
    let phone_error = field_error(confirm_error, "phone");
    // A field's error shows next to it; the rest above the form.
    let confirm_error = Signal::derive(move || {
        confirm_error
            .get()
            .filter(|e| !matches!(e, AppError::Invalid { .. }))
    });
    let release_error = action_error(release.value());
    let again_error = action_error(again.value());
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
    // Lapsed when the page was made, or once the countdown runs out.
    let left = RwSignal::new(None::<i64>);
    let lapsed_at_render = b.hold_lapsed;
    // A memo: the view below changes when this does, not at every tick
    // of the countdown it contains.
    let lapsed = Memo::new(move |_| lapsed_at_render || left.get() == Some(0));
    let times_link = b.times_link.clone();
    let back = b.times_link.clone();
    let start = b.booking.start.to_rfc3339();
    let service = b
        .booking
        .service
        .map(|s| s.0.to_string())
        .unwrap_or_default();
    let party = b
        .booking
        .party_size
        .map(|p| p.to_string())
        .unwrap_or_default();
    let resource = if b.booking.service.is_some() {
        b.booking
            .resources
            .first()
            .map(|r| r.0.to_string())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let venue = b.venue_id;
    let expiry = b.hold_expires_label.clone().unwrap_or_default();
    view! {
        <h1>{move || if lapsed.get() { "Your hold has lapsed" } else { "Confirm your booking" }}</h1>
        <BookingSummary b=b.clone() label="Held for you"/>
        <FormError error=confirm_error/>
        <FormError error=release_error/>
        <FormError error=again_error/>
        {move || if lapsed.get() {
            let again_key = again_key.clone();
            let expiry = expiry.clone();
            let (start, times_link) = (start.clone(), times_link.clone());
            let service = (!service.is_empty()).then(|| service.clone());
            let party = (!party.is_empty()).then(|| party.clone());
            let resource = (!resource.is_empty()).then(|| resource.clone());
            view! {
                <p role="status">{format!("We held this time for you until {expiry}. It may still be free: hold it again, or choose another time.")}</p>
                <div class="actions">
                    <ActionForm action=again attr:class="inline-form">
                        <input type="hidden" name="venue" value=venue/>
                        <input type="hidden" name="start" value=start/>
                        {service.map(|v| view! { <input type="hidden" name="service" value=v/> })}
                        {party.map(|v| view! { <input type="hidden" name="party" value=v/> })}
                        {resource.map(|v| view! { <input type="hidden" name="resource" value=v/> })}
                        <input type="hidden" name="key" value=again_key/>
                        <button type="submit" class="primary">"Hold it again"</button>
                    </ActionForm>
                    <a href=times_link>"Choose another time"</a>
                </div>
            }.into_any()
        } else {
            let expiry = expiry.clone();
            let back = back.clone();
            let (note_shown, phone_shown) = (note_error.clone(), phone_error.clone());
            let (note_error, phone_error) = (note_error.clone(), phone_error.clone());
            view! {
                <p>
                    {format!("We hold this time for you until {expiry}")}
                    <Countdown until=expires_at left=left/>
                    "."
                </p>
                <ActionForm action=confirm attr:id="confirm-form" attr:class="stacked details">
                    <input type="hidden" name="id" value=id/>
                    <label for="note">"A note for the venue " <span class="muted">"(optional)"</span></label>
                    <textarea id="note" name="note" rows="2" maxlength="500"
                        aria-invalid=move || note_error().is_some().then_some("true")
                        aria-describedby="note-error"></textarea>
                    <p id="note-error" class="field-error">{note_shown}</p>
                    <label for="phone">"Phone " <span class="muted">"(optional, in case the venue needs to reach you)"</span></label>
                    <input id="phone" name="phone" type="tel" autocomplete="tel" maxlength="40"
                        aria-invalid=move || phone_error().is_some().then_some("true")
                        aria-describedby="phone-error"/>
                    <p id="phone-error" class="field-error">{phone_shown}</p>
                </ActionForm>
                <div class="actions">
                    <button type="submit" form="confirm-form" class="primary">"Confirm booking"</button>
                    <ActionForm action=release attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="back" value=back/>
                        <button type="submit">"Release"</button>
                    </ActionForm>
                </div>
            }.into_any()
        }}
        <p class="muted">{b.cancel_note()}</p>
    }
    .into_any()
}

/// "(9:41 left)", ticking, once JavaScript runs; nothing before that, so
/// the page reads the same with JavaScript off.
#[component]
fn Countdown(
    until: Option<chrono::DateTime<chrono::Utc>>,
    left: RwSignal<Option<i64>>,
) -> impl IntoView {
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
