//! Rescheduling a booking: the times it may move to, from the same grid a
//! booking is chosen from; one click moves it. The booking stays as it is
//! until the move succeeds; a time just taken brings back the banner with
//! free times near it.

use crate::api::reschedule::{load_reschedule_page, RescheduleBooking};
use crate::components::booking::{booking_id_param, booking_unavailable, BookingSummary};
use crate::components::day_picker::DayPicker;
use crate::components::feedback::action_error;
use crate::components::times::{gap_items, grouped_times, TimesLegend};
use crate::domain::booking::{Alternative, BookingStatus, SlotView};
use crate::domain::error::AppError;
use crate::domain::views::{pick_value, ReschedulePage as Page};
use crate::pages::login::urlencoding;
use crate::pages::venue::submit_form_of;
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ReschedulePage() -> impl IntoView {
    let query = use_query_map();
    let id = booking_id_param();
    let asked = move || {
        let q = query.read();
        (
            q.get("date"),
            q.get("resource").and_then(|r| r.parse::<i64>().ok()),
        )
    };
    let mv = ServerAction::<RescheduleBooking>::new();
    let page = Resource::new(
        move || (id(), asked(), mv.version().get()),
        |(id, (date, resource), _)| load_reschedule_page(id, date, resource),
    );
    view! {
        <Title text="Reschedule your booking"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <Mover p=p mv=mv/> }.into_any(),
                    Err(e) => booking_unavailable(e, format!("/bookings/{}/reschedule", id()), "booking"),
                }
            })}
        </Transition>
    }
}

#[component]
fn Mover(p: Page, mv: ServerAction<RescheduleBooking>) -> impl IntoView {
    let b = p.booking.clone();
    let id = b.booking.id.0;
    let summary = view! { <BookingSummary b=b.clone() label="Your booking now"/> };
    if !b.customer_may_reschedule() {
        let why = match b.booking.status {
            BookingStatus::Held => {
                "It is a hold: confirm it first, or release it and choose another time.".to_owned()
            }
            BookingStatus::Confirmed if b.upcoming => format!(
                "Changes closed at {}; please contact the venue.",
                b.cancel_until_label
            ),
            _ => format!("It is {}.", b.status_label),
        };
        return view! {
            <h1>"This booking cannot be rescheduled"</h1>
            {summary}
            <p>{why}</p>
            <p><a href="/bookings">"See your bookings"</a></p>
        }
        .into_any();
    }
    let who_label = if p.is_restaurant {
        "Table"
    } else {
        "Therapist"
    };
    let any_label = if p.is_restaurant {
        "Best table for the party"
    } else {
        "Any therapist"
    };
    let here = format!("/bookings/{id}/reschedule");
    let intro = format!(
        "Times are in {}. Your booking stays as it is until you choose a new time; free cancellation until {}.",
        p.timezone, b.cancel_until_label
    );
    let chosen = p.resource;
    let resources = p
        .choosable
        .iter()
        .map(|(rid, label)| view! { <option value=*rid selected=chosen == Some(*rid)>{label.clone()}</option> })
        .collect_view();
    let day = p.date;
    let query = use_query_map();
    let bookable = match (p.days.first(), p.days.last()) {
        (Some(f), Some(l)) => (f.date, l.date),
        _ => (day, day),
    };
    let base = format!("{here}?resource={}", chosen.unwrap_or(0));
    let calendar = p.calendar.clone();
    view! {
        <h1>"Reschedule your booking"</h1>
        {summary}
        <p class="muted">{intro}</p>
        <Form method="GET" action=here attr:class="choices" on:change=|ev: leptos::ev::Event| submit_form_of(&ev)>
            <label for="resource">{who_label}</label>
            <select id="resource" name="resource">
                <option value="0" selected=chosen.is_none()>{any_label}</option>
                {resources}
            </select>
            // From the address, as on the venue page.
            <input type="hidden" name="date" value=move || query.read().get("date").filter(|d| !d.is_empty()).unwrap_or_else(|| day.to_string())/>
            <button type="submit">"Show times"</button>
        </Form>
        <Banner mv=mv id=id/>
        <div class="booker">
            <DayPicker calendar=calendar selected=day base=base bookable=bookable/>
            <Times p=p mv=mv/>
        </div>
        <p><a href="/bookings">"Keep the booking as it is"</a></p>
    }
    .into_any()
}

/// The times of the chosen day: each a button that moves the booking there.
#[component]
fn Times(p: Page, mv: ServerAction<RescheduleBooking>) -> impl IntoView {
    let id = p.booking.booking.id.0;
    let availability = match &p.times {
        Ok(a) => a.clone(),
        Err(message) => return view! { <p role="alert">{message.clone()}</p> }.into_any(),
    };
    let day_label = p.date.format("%A %-d %B").to_string();
    if availability.slots.is_empty() {
        return view! {
            <section aria-labelledby="times-heading" class="times">
                <h2 id="times-heading">"New start times"</h2>
                <p>{format!("No times on this day ({day_label}). Pick another day on the calendar.")}</p>
                {(!availability.gaps.is_empty()).then(|| view! { <ul class="slots">{gap_items(&availability.gaps)}</ul> })}
            </section>
        }
        .into_any();
    }
    let names = availability.resources.clone();
    let name_of = move |r: i64| {
        names
            .iter()
            .find(|s| s.id.0 == r)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let page = p.clone();
    let button = move |slot: SlotView| {
        let pick = page.pick_for(&slot.free).filter(|_| !slot.free.is_empty());
        match pick {
            Some(r) if page.is_current(slot.start, Some(r)) => {
                let label = format!("{}, {}, your booking now", slot.label, name_of(r));
                view! {
                    <li><button type="button" disabled aria-label=label class="slot current">{slot.time}<span class="sr-hint">" now"</span></button></li>
                }
                .into_any()
            }
            Some(r) => {
                let label = format!("Move to {}, {}", slot.label, name_of(r));
                view! {
                    <li><button type="submit" name="pick" value=pick_value(r, slot.start) aria-label=label class="slot">{slot.time}</button></li>
                }
                .into_any()
            }
            None => {
                let label = format!("{}, taken", slot.label);
                view! {
                    <li><button type="button" disabled aria-label=label class="slot taken">{slot.time}<span class="sr-hint">" taken"</span></button></li>
                }
                .into_any()
            }
        }
    };
    view! {
        <section aria-labelledby="times-heading" class="times">
            <h2 id="times-heading">"New start times"</h2>
            <p class="muted">{day_label}</p>
            <TimesLegend own=true/>
            <ActionForm action=mv attr:class="slot-grid">
                <input type="hidden" name="id" value=id/>
                {grouped_times(&availability.slots, &availability.gaps, button)}
            </ActionForm>
        </section>
    }
    .into_any()
}

/// Why the last move did not happen: the time was just taken (with free
/// times near it, one click each), or a rule.
#[component]
fn Banner(mv: ServerAction<RescheduleBooking>, id: i64) -> impl IntoView {
    let error = action_error(mv.value());
    let banner = NodeRef::<html::Div>::new();
    Effect::new(move |_| {
        if error.get().is_some() {
            if let Some(el) = banner.get() {
                let _ = el.focus();
            }
        }
    });
    move || {
        let body = match error.get()? {
            AppError::SlotTaken { alternatives } => view! {
                <h2>"That time was just taken"</h2>
                <p>"Someone else booked it a moment before you; your booking has not changed. These times are free:"</p>
                {if alternatives.is_empty() {
                    view! { <p>"No other time is free nearby; try another day."</p> }.into_any()
                } else {
                    view! {
                        <ul class="alternatives">
                            {alternatives.into_iter().map(|a| view! { <AlternativeMove a=a mv=mv id=id/> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            }
            .into_any(),
            AppError::Unauthorized => view! {
                <p>"Please " <a href=format!("/login?next={}", urlencoding(&format!("/bookings/{id}/reschedule")))>"log in"</a> " again."</p>
            }
            .into_any(),
            other => view! {
                <p>{other.to_string()}</p>
                <p>"Your booking has not changed."</p>
            }
            .into_any(),
        };
        Some(view! { <div class="banner" role="alert" tabindex="-1" node_ref=banner>{body}</div> })
    }
}

#[component]
fn AlternativeMove(a: Alternative, mv: ServerAction<RescheduleBooking>, id: i64) -> impl IntoView {
    let why = a.kind.word();
    let label = format!("{}, {} ({why})", a.label, a.resource_name);
    view! {
        <li>
            <ActionForm action=mv attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button type="submit" name="pick" value=pick_value(a.resource.0, a.start) class="slot">{label}</button>
            </ActionForm>
        </li>
    }
}
