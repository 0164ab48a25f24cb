//! A venue's booking page: choose what, who and which day; see the grid of
//! start times; choosing one places a hold. When the time was just taken,
//! the same page comes back with a banner and one-click alternatives, with
//! or without JavaScript.

use crate::api::booking::{load_slot_grid, load_venue_page, PlaceHold};
use crate::components::day_picker::DayPicker;
use crate::components::feedback::action_error;
use crate::components::times::{gap_items, grouped_times, TimesLegend};
use crate::components::waitlist::WaitlistJoin;
use crate::domain::booking::{Alternative, SlotView};
use crate::domain::error::AppError;
use crate::domain::ids::ResourceId;
use crate::domain::views::{DayState, SlotGrid, VenuePage as Page};
use crate::pages::login::urlencoding;
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

/// What the customer chose in the form above the grid (from the query).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Choice {
    date: Option<String>,
    service: Option<i64>,
    party: Option<i64>,
    resource: Option<i64>,
}

fn number(s: Option<String>) -> Option<i64> {
    s.and_then(|v| v.parse().ok())
}

#[component]
pub fn VenuePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let venue_id = move || number(params.read().get("id")).unwrap_or(0);
    let choice = move || {
        let q = query.read();
        Choice {
            date: q.get("date"),
            service: number(q.get("service")),
            party: number(q.get("party")),
            resource: number(q.get("resource")).filter(|r| *r > 0),
        }
    };
    let hold = ServerAction::<PlaceHold>::new();
    // Both loads start here, outside the Suspense that reads them: a
    // resource created inside a Suspense's children can stall server
    // rendering.
    let page = Resource::new(venue_id, load_venue_page);
    let grid = Resource::new(
        move || (venue_id(), choice(), hold.version().get()),
        |(venue, c, _)| load_slot_grid(venue, c.date, c.service, c.party, c.resource),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (page.await, grid.await) {
                    (Ok(p), g) => view! { <Booker page=p grid=g hold=hold asked=choice()/> }.into_any(),
                    (Err(AppError::NotFound), _) => view! {
                        <Title text="Venue not found"/>
                        <h1>"Venue not found"</h1>
                        <p><a href="/">"See all venues"</a></p>
                    }.into_any(),
                    (Err(e), _) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Booker(
    page: Page,
    grid: Result<SlotGrid, AppError>,
    hold: ServerAction<PlaceHold>,
    /// What the query asked for: the choices kept when the grid could not
    /// be drawn for them.
    asked: Choice,
) -> impl IntoView {
    let venue = page.venue.clone();
    let venue_id = venue.id.0;
    let is_restaurant = venue.seating_minutes.is_some();
    // What the grid is for, defaults filled in by the server.
    let effective = match &grid {
        Ok(g) => Choice {
            date: Some(g.date.to_string()),
            service: g.service,
            party: g.party,
            resource: g.resource,
        },
        Err(_) => asked,
    };
    let names: Vec<(ResourceId, String)> = venue
        .resources
        .iter()
        .map(|r| (r.id, r.name.clone()))
        .collect();
    // Only those who can do the job: the therapists who offer the chosen
    // treatment, the tables that seat the party.
    let choosable = venue.choosable(effective.service, effective.party);
    let price_of =
        |cents: Option<i64>| cents.map(|c| crate::domain::money::format(c, &venue.currency));
    let services: Vec<(i64, String)> = venue
        .services
        .iter()
        .map(|s| {
            let label = match price_of(s.price_cents) {
                Some(p) => format!("{} ({} min, {p})", s.name, s.duration_minutes),
                None => format!("{} ({} min)", s.name, s.duration_minutes),
            };
            (s.id.0, label)
        })
        .collect();
    // What the grid is for, in a line: the treatment, its length and price,
    // and what it is; or the table and how long it is kept.
    let chosen_service = venue
        .services
        .iter()
        .find(|s| Some(s.id.0) == effective.service);
    let facts = chosen_service.map(|s| {
        let mut line = format!("{}: {} minutes", s.name, s.duration_minutes);
        if let Some(p) = price_of(s.price_cents) {
            line.push_str(&format!(", {p}"));
        }
        line.push('.');
        if !s.description.is_empty() {
            line.push_str(&format!(" {}", s.description));
        }
        line
    });
    let any_label = if is_restaurant {
        "Best table for the party"
    } else {
        "Any therapist"
    };
    let e = effective.clone();
    view! {
        <Title text=venue.name.clone()/>
        <h1>{format!("Book at {}", venue.name)}</h1>
        {(!venue.address.is_empty()).then(|| view! { <p class="address">{venue.address.clone()}</p> })}
        <p class="muted">{format!("Times are in {}. A chosen time is held for you for {} minutes while you confirm.", venue.timezone, page.hold_minutes)}</p>
        {venue.seating_minutes.map(|m| view! { <p class="muted">{format!("A table is yours for {m} minutes from the time you book.")}</p> })}
        // With JavaScript the grid follows each choice at once; without,
        // "Show times" sends them.
        <Form method="GET" action="" attr:class="choices" on:change=|ev: leptos::ev::Event| submit_form_of(&ev)>
            {if is_restaurant {
                view! {
                    <label for="party">"Party size"</label>
                    <select id="party" name="party">
                        {(1..=8).map(|n| view! { <option value=n selected=e.party == Some(n)>{if n == 1 { "1 guest".to_owned() } else { format!("{n} guests") }}</option> }).collect_view()}
                    </select>
                }.into_any()
            } else {
                view! {
                    <label for="service">"Treatment"</label>
                    <select id="service" name="service">
                        {services.into_iter().map(|(id, label)| view! { <option value=id selected=e.service == Some(id)>{label}</option> }).collect_view()}
                    </select>
                }.into_any()
            }}
            <label for="resource">{if is_restaurant { "Table" } else { "Therapist" }}</label>
            <select id="resource" name="resource">
                <option value="0" selected=e.resource.is_none()>{any_label}</option>
                {choosable.into_iter().map(|(id, label)| view! { <option value=id selected=e.resource == Some(id)>{label}</option> }).collect_view()}
            </select>
            // The day is picked on the calendar below; a new choice above
            // keeps it. Read from the address, not from the grid on screen:
            // a choice made while the next day's grid loads keeps that day.
            {
                let shown = e.date.clone();
                let query = use_query_map();
                let day = move || query.read().get("date").filter(|d| !d.is_empty()).or_else(|| shown.clone());
                view! { <input type="hidden" name="date" value=day/> }
            }
            <button type="submit">"Show times"</button>
        </Form>
        {facts.map(|f| view! { <p class="facts">{f}</p> })}
        <Conflict hold=hold effective=effective.clone() venue_id=venue_id nonce=page.nonce.clone()/>
        {match grid {
            Ok(g) => {
                let bookable = match (page.days.first(), page.days.last()) {
                    (Some(f), Some(l)) => (f.date, l.date),
                    _ => (g.date, g.date),
                };
                let picker = view! {
                    <DayPicker calendar=g.calendar.clone() selected=g.date base=choice_link(venue_id, &effective) bookable=bookable/>
                };
                view! {
                    <div class="booker">
                        {picker}
                        <Grid grid=g hold=hold effective=effective venue_id=venue_id names=names/>
                    </div>
                }.into_any()
            }
            Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
        }}
    }
}

/// The venue page for the choice, without its day: "/venues/1?service=2&resource=3".
fn choice_link(venue_id: i64, c: &Choice) -> String {
    let mut query = Vec::new();
    if let Some(s) = c.service {
        query.push(format!("service={s}"));
    }
    if let Some(p) = c.party {
        query.push(format!("party={p}"));
    }
    if let Some(r) = c.resource {
        query.push(format!("resource={r}"));
    }
    if query.is_empty() {
        format!("/venues/{venue_id}")
    } else {
        format!("/venues/{venue_id}?{}", query.join("&"))
    }
}

/// A query ("a=1&__err=…") without the parameters through which a form's
/// error comes back without JavaScript: "?a=1", or "" when nothing is left.
fn without_error_params(search: &str) -> String {
    let kept: Vec<&str> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("__path=") && !p.starts_with("__err="))
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    }
}

/// Submits the form an input event came from (through its submit event,
/// so the router's form handling runs).
pub(crate) fn submit_form_of(ev: &leptos::ev::Event) {
    use leptos::wasm_bindgen::JsCast;
    let form = ev
        .target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
        .and_then(|e| e.closest("form").ok().flatten())
        .and_then(|f| f.dyn_into::<leptos::web_sys::HtmlFormElement>().ok());
    if let Some(form) = form {
        // The day picked last is the one in the address: a choice made
        // while the new day's grid loads still shows the old form.
        let day = leptos::prelude::window()
            .location()
            .search()
            .ok()
            .and_then(|q| {
                q.trim_start_matches('?')
                    .split('&')
                    .find_map(|p| p.strip_prefix("date=").map(str::to_owned))
            });
        let hidden = form
            .query_selector("input[type=hidden][name=date]")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlInputElement>().ok());
        if let (Some(day), Some(input)) = (day.filter(|d| !d.is_empty()), hidden) {
            input.set_value(&day);
        }
        let _ = form.request_submit();
    }
}

/// The hidden fields that say what is being booked.
fn offer_fields(venue_id: i64, c: &Choice, resource: Option<i64>, key: &str) -> impl IntoView {
    view! {
        <input type="hidden" name="venue" value=venue_id/>
        {c.service.map(|s| view! { <input type="hidden" name="service" value=s/> })}
        {c.party.map(|p| view! { <input type="hidden" name="party" value=p/> })}
        {resource.map(|r| view! { <input type="hidden" name="resource" value=r/> })}
        <input type="hidden" name="key" value=key.to_owned()/>
    }
}

#[component]
fn Grid(
    grid: SlotGrid,
    hold: ServerAction<PlaceHold>,
    effective: Choice,
    venue_id: i64,
    names: Vec<(ResourceId, String)>,
) -> impl IntoView {
    let name_of = move |id: ResourceId| {
        names
            .iter()
            .find(|(r, _)| *r == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let chosen = effective.resource.map(|r| name_of(ResourceId(r)));
    let day_label = grid.date.format("%A %-d %B").to_string();
    let gaps = grid.availability.gaps.clone();
    if grid.availability.slots.is_empty() {
        let closed = grid
            .calendar
            .days()
            .any(|d| d.date == grid.date && d.state == DayState::Closed);
        let message = if closed {
            format!("Closed on {day_label}. Pick another day on the calendar.")
        } else {
            format!("No times on this day ({day_label}). Pick another day on the calendar.")
        };
        return view! {
            <section aria-labelledby="times-heading" class="times">
                <h2 id="times-heading">"Start times"</h2>
                <p>{message}</p>
                {(!gaps.is_empty()).then(|| view! { <ul class="slots">{gap_items(&gaps)}</ul> })}
            </section>
        }
        .into_any();
    }
    let key = grid.form_key.clone();
    // A day whose every time is taken: the waitlist is the way in.
    let full = grid
        .availability
        .slots
        .iter()
        .all(|s| s.free.is_empty())
        .then(|| {
            let lead = format!(
                "Every time on {day_label} is taken{}. Wait for one to come free:",
                chosen.as_ref().map(|n| format!(" with {n}")).unwrap_or_default()
            );
            view! {
                <p class="full-day" role="status">{format!("Fully booked on {day_label}.")}</p>
                <WaitlistJoin venue_id=venue_id date=grid.date.to_string() day_label=day_label.clone()
                    service=effective.service party=effective.party resource=effective.resource lead=lead/>
            }
        });
    let who = chosen.map(|n| format!(", {n}")).unwrap_or_default();
    let button = move |slot: SlotView| {
        if slot.free.is_empty() {
            let label = format!("{}{who}, taken", slot.label);
            view! {
                <li><button type="button" disabled aria-label=label class="slot taken">{slot.time}<span class="sr-hint">" taken"</span></button></li>
            }
            .into_any()
        } else {
            let label = format!("{}{who}", slot.label);
            view! {
                <li><button type="submit" name="start" value=slot.start.to_rfc3339() aria-label=label class="slot">{slot.time}</button></li>
            }
            .into_any()
        }
    };
    view! {
        <section aria-labelledby="times-heading" class="times">
            <h2 id="times-heading">"Start times"</h2>
            <p class="muted">{day_label.clone()}</p>
            {full}
            <TimesLegend/>
            <ActionForm action=hold attr:class="slot-grid">
                {offer_fields(venue_id, &effective, effective.resource, &key)}
                {grouped_times(&grid.availability.slots, &gaps, button)}
            </ActionForm>
        </section>
    }
    .into_any()
}

/// The banner when the last choice failed: taken (with alternatives), a
/// rule of the venue, or not signed in.
#[component]
fn Conflict(
    hold: ServerAction<PlaceHold>,
    effective: Choice,
    venue_id: i64,
    nonce: String,
) -> impl IntoView {
    let error = action_error(hold.value());
    let banner = NodeRef::<html::Div>::new();
    // With JavaScript, move focus to the banner so it is read at once.
    Effect::new(move |_| {
        if error.get().is_some() {
            if let Some(el) = banner.get() {
                let _ = el.focus();
            }
        }
    });
    let location = use_location();
    move || {
        let e = error.get()?;
        let body = match e {
            AppError::SlotTaken { alternatives } => {
                let c = effective.clone();
                let wait = c.date.clone().and_then(|d| {
                    let day = chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()?;
                    Some(view! {
                        <WaitlistJoin venue_id=venue_id date=d day_label=day.format("%A %-d %B").to_string()
                            service=c.service party=c.party resource=c.resource
                            lead="None of these suit you? Wait for a time on this day to come free:".to_owned()/>
                    })
                });
                view! {
                    <h2>"That time was just taken"</h2>
                    <p>"Someone else booked it a moment before you. These times are free:"</p>
                    {if alternatives.is_empty() {
                        view! { <p>"No other time is free nearby; try another day."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="alternatives">
                                {alternatives.into_iter().map(|a| view! { <AlternativeChoice a=a hold=hold c=c.clone() venue_id=venue_id nonce=nonce.clone()/> }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                    {wait}
                }.into_any()
            }
            AppError::Unauthorized => {
                // Back to these times after logging in, without the error
                // a form sent without JavaScript brought back in the query.
                let here = format!(
                    "{}{}",
                    location.pathname.get(),
                    without_error_params(&location.search.get())
                );
                let login = format!("/login?next={}", urlencoding(&here));
                let register = format!("/register?next={}", urlencoding(&here));
                view! {
                    <p>"Please " <a href=login>"log in"</a> " or " <a href=register>"create an account"</a> " to book a time."</p>
                }
                .into_any()
            }
            AppError::LimitReached { message } => view! {
                <p>{message}</p>
                <p><a href="/bookings">"See your bookings"</a></p>
            }
            .into_any(),
            other => view! { <p>{other.to_string()}</p> }.into_any(),
        };
        Some(view! {
            <div class="banner" role="alert" tabindex="-1" node_ref=banner>{body}</div>
        })
    }
}

#[component]
fn AlternativeChoice(
    a: Alternative,
    hold: ServerAction<PlaceHold>,
    c: Choice,
    venue_id: i64,
    nonce: String,
) -> impl IntoView {
    let why = a.kind.word();
    // A key of its own: a new choice, not a repeat of the failed one; the
    // same for a double click on this button.
    let key = format!("alt-{nonce}-{}-{}", a.resource.0, a.start.timestamp());
    let label = format!("{}, {} ({why})", a.label, a.resource_name);
    view! {
        <li>
            <ActionForm action=hold attr:class="inline-form">
                {offer_fields(venue_id, &c, Some(a.resource.0), &key)}
                <button type="submit" name="start" value=a.start.to_rfc3339() class="slot">{label}</button>
            </ActionForm>
        </li>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_way_back_leaves_out_the_error_of_the_last_form() {
        use super::without_error_params;
        assert_eq!(
            without_error_params("service=1&__path=%2Fapi%2Fplace_hold&__err=abc&date=2026-06-02"),
            "?service=1&date=2026-06-02"
        );
        assert_eq!(without_error_params("?__err=abc"), "");
        assert_eq!(without_error_params(""), "");
    }
}
