//! The month calendar a customer picks a day from: days with free times
//! are links, full days too (to see what is taken), closed days and days
//! outside the booking window are shown but not offered. With JavaScript
//! the arrow keys move between days, as in a date picker.

use crate::domain::views::{Calendar, CalendarDay, DayState};
use chrono::NaiveDate;
use leptos::prelude::*;

const WEEKDAYS: [(&str, &str); 7] = [
    ("Mon", "Monday"),
    ("Tue", "Tuesday"),
    ("Wed", "Wednesday"),
    ("Thu", "Thursday"),
    ("Fri", "Friday"),
    ("Sat", "Saturday"),
    ("Sun", "Sunday"),
];

/// `base` is the page's address with the other choices and no date
/// ("/venues/1?service=2&resource=3"); each day's link adds its own.
#[component]
pub fn DayPicker(
    calendar: Calendar,
    selected: NaiveDate,
    base: String,
    /// The first and last day open for booking (for scripts and tests
    /// that walk the days).
    bookable: (NaiveDate, NaiveDate),
) -> impl IntoView {
    let link = move |d: NaiveDate| {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}date={d}")
    };
    let previous = calendar.previous.map(|d| link(d));
    let next = calendar.next.map(|d| link(d));
    let next_free = calendar.next_free.clone().map(|n| (link(n.date), n.label));
    let weeks = calendar
        .weeks
        .iter()
        .map(|week| {
            let cells = week
                .iter()
                .map(|cell| match cell {
                    None => view! { <td class="pad"></td> }.into_any(),
                    Some(day) => day_cell(day, selected, &link).into_any(),
                })
                .collect_view();
            view! { <tr>{cells}</tr> }
        })
        .collect_view();
    view! {
        <section class="day-picker" aria-labelledby="calendar-title"
            data-first-day=bookable.0.to_string() data-last-day=bookable.1.to_string()>
            <div class="calendar-head">
                {match previous {
                    Some(href) => view! { <a class="month-nav" href=href>"‹ "<span class="sr-hint">"Previous month"</span></a> }.into_any(),
                    None => view! { <span class="month-nav" aria-hidden="true"></span> }.into_any(),
                }}
                <h2 id="calendar-title" aria-live="polite">{calendar.title.clone()}</h2>
                {match next {
                    Some(href) => view! { <a class="month-nav" href=href><span class="sr-hint">"Next month"</span>" ›"</a> }.into_any(),
                    None => view! { <span class="month-nav" aria-hidden="true"></span> }.into_any(),
                }}
            </div>
            <table class="calendar" aria-labelledby="calendar-title" on:keydown=move_between_days>
                <thead>
                    <tr>
                        {WEEKDAYS.iter().map(|(short, long)| view! { <th scope="col"><abbr title=*long>{*short}</abbr></th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>{weeks}</tbody>
            </table>
            <ul class="legend calendar-legend" aria-label="Key to the calendar">
                <li><span class="chip day-free" aria-hidden="true"></span>"Free times"</li>
                <li><span class="chip day-full" aria-hidden="true"></span>"No free times"</li>
                <li><span class="chip day-closed" aria-hidden="true"></span>"Closed"</li>
            </ul>
            {next_free.map(|(href, label)| view! {
                <p class="next-free"><a href=href>{format!("Next free time: {label}")}</a></p>
            })}
        </section>
    }
}

fn day_cell(
    day: &CalendarDay,
    selected: NaiveDate,
    link: &impl Fn(NaiveDate) -> String,
) -> impl IntoView {
    use chrono::Datelike;
    let class = match day.state {
        DayState::Free => "day-free",
        DayState::Full => "day-full",
        DayState::Closed => "day-closed",
        DayState::Unbookable => "day-out",
    };
    let number = day.date.day();
    let spoken = day.spoken();
    let is_selected = day.date == selected;
    let class = if is_selected {
        format!("{class} selected")
    } else {
        class.to_owned()
    };
    match day.state {
        DayState::Free | DayState::Full => view! {
            <td class=class>
                <a href=link(day.date) data-date=day.date.to_string() aria-label=spoken
                    aria-current=is_selected.then_some("date")>{number}</a>
            </td>
        }
        .into_any(),
        DayState::Closed | DayState::Unbookable => view! {
            <td class=class>
                <span aria-hidden="true">{number}</span>
                <span class="sr-hint">{spoken}</span>
            </td>
        }
        .into_any(),
    }
}

/// Arrow keys move to the offered day before or after (a week with up and
/// down; past a closed day to the next offered one), Home and End to the
/// first and last offered day of the month.
fn move_between_days(ev: leptos::ev::KeyboardEvent) {
    use chrono::Datelike;
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::{Element, HtmlElement};
    let Some(from) = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .filter(|e| e.has_attribute("data-date"))
    else {
        return;
    };
    let Some(current) = from
        .get_attribute("data-date")
        .and_then(|d| d.parse::<NaiveDate>().ok())
    else {
        return;
    };
    let Some(table) = from.closest("table").ok().flatten() else {
        return;
    };
    let month_start = current.with_day(1).unwrap_or(current);
    let (start, step) = match ev.key().as_str() {
        "ArrowRight" => (current + chrono::Duration::days(1), 1),
        "ArrowLeft" => (current - chrono::Duration::days(1), -1),
        "ArrowDown" => (current + chrono::Duration::days(7), 1),
        "ArrowUp" => (current - chrono::Duration::days(7), -1),
        "Home" => (month_start, 1),
        "End" => (
            month_start + chrono::Months::new(1) - chrono::Duration::days(1),
            -1,
        ),
        _ => return,
    };
    ev.prevent_default();
    let target = (0..31)
        .map(|k| start + chrono::Duration::days(k * step))
        .take_while(|d| d.month() == current.month())
        .find_map(|d| {
            table
                .query_selector(&format!("a[data-date='{d}']"))
                .ok()
                .flatten()
        });
    if let Some(el) = target.and_then(|t| t.dyn_into::<HtmlElement>().ok()) {
        let _ = el.focus();
    }
}
