//! A venue's day: the schedule grid and agenda, its bookings and
//! closures, and the forms to close time and to book for a customer.

use super::common::{number, query_flag, refusal, StrandsPrompt};
use crate::api::admin::{load_day, AddClosure, StaffBook};
use crate::components::feedback::{action_error, field_error, FormError};
use crate::domain::admin::{DayBlock, DayCell, DayView};
use crate::domain::booking::BookingStatus;
use crate::domain::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn AdminDayPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let venue = move || number(params.read().get("id")).unwrap_or(0);
    let date = move || query.read().get("date").unwrap_or_default();
    let close = ServerAction::<AddClosure>::new();
    let book = ServerAction::<StaffBook>::new();
    let day = Resource::new(
        move || (venue(), date(), close.version().get(), book.version().get()),
        |(v, d, _, _)| async move {
            let d = if d.is_empty() {
                chrono::Utc::now().date_naive().to_string()
            } else {
                d
            };
            load_day(v, d).await
        },
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match day.await {
                    Ok(d) => view! { <Day day=d close=close book=book/> }.into_any(),
                    Err(e) => refusal(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn Day(
    day: DayView,
    close: ServerAction<AddClosure>,
    book: ServerAction<StaffBook>,
) -> impl IntoView {
    let venue = day.venue.0;
    let prev = day
        .date
        .pred_opt()
        .map(|d| d.to_string())
        .unwrap_or_default();
    let next = day
        .date
        .succ_opt()
        .map(|d| d.to_string())
        .unwrap_or_default();
    let date = day.date.to_string();
    let close_error = action_error(close.value());
    let book_error = action_error(book.value());
    let title = format!("{} — {}", day.venue_name, day.date_label);
    let resources = day.resources.clone();
    let closed = query_flag("closed");
    let (date_close, date_book) = (date.clone(), date.clone());
    let (services, tables) = (day.services.clone(), day.tables);
    let (res_close, res_book) = (resources.clone(), resources.clone());
    let key = day.form_key.clone();
    view! {
        <Title text=title.clone()/>
        <h1>{title}</h1>
        <nav class="day-nav" aria-label="Days">
            <a href=format!("/admin/venues/{venue}/day?date={prev}")>"← Previous day"</a>
            <form method="get" action=format!("/admin/venues/{venue}/day") class="inline-form">
                <label for="jump">"Go to"</label>
                <input id="jump" type="date" name="date" value=date.clone()/>
                <button type="submit">"Show"</button>
            </form>
            <a href=format!("/admin/venues/{venue}/day?date={next}")>"Next day →"</a>
            " · "
            <a href=format!("/admin/venues/{venue}/setup")>"Set-up"</a>
            " · "
            <a href=format!("/admin/venues/{venue}/audit?date={date}")>"Audit trail of this day"</a>
        </nav>
        {move || closed.get().then(|| view! { <p class="notice" role="status">"Closed. Customers no longer see these times."</p> })}
        <ul class="legend" aria-label="Key to the schedule">
            <li><span class="sw cell free" aria-hidden="true">" "</span>"free"</li>
            <li><span class="sw cell booked" aria-hidden="true">" "</span>"booked"</li>
            <li><span class="sw cell held" aria-hidden="true">" "</span>"held (until its expiry)"</li>
            <li><span class="sw cell cleanup" aria-hidden="true">" "</span>"cleanup"</li>
            <li><span class="sw cell break" aria-hidden="true">" "</span>"break"</li>
            <li><span class="sw cell closed" aria-hidden="true">" "</span>"closed"</li>
            <li><span class="sw cell off" aria-hidden="true">" "</span>"off (outside hours)"</li>
            {day.rows.iter().any(|r| r.now).then(|| view! { <li><span class="sw now-sw" aria-hidden="true">" "</span>"now"</li> })}
        </ul>
        <div class="day-grid-wrap">
            <ScheduleGrid day=day.clone()/>
        </div>
        <div class="day-agenda">
            {resources.iter().enumerate().map(|(i, (_, name))| {
                let busy: Vec<DayBlock> = day.blocks(i).into_iter()
                    .filter(|b| !matches!(b.cell, DayCell::Free | DayCell::Off | DayCell::Booking { cleanup: true, .. }))
                    .collect();
                view! {
                    <h3>{name.clone()}</h3>
                    <ul class="agenda">
                        {busy.is_empty().then(|| view! { <li>"Nothing booked"</li> })}
                        {busy.into_iter().map(|b| agenda_item(&b)).collect_view()}
                    </ul>
                }
            }).collect_view()}
        </div>
        <section aria-labelledby="waitlist-heading">
            <h2 id="waitlist-heading">"Waitlist"</h2>
            {if day.waitlist.is_empty() {
                view! { <p>"Nobody is waiting for this day."</p> }.into_any()
            } else {
                view! {
                    <table class="waitlist">
                        <caption class="sr-hint">"The waitlist of this day, first in line first"</caption>
                        <thead><tr><th scope="col">"#"</th><th scope="col">"Customer"</th><th scope="col">"Wants"</th><th scope="col">"With"</th><th scope="col">"Starts"</th><th scope="col">"State"</th></tr></thead>
                        <tbody>
                            {day.waitlist.iter().enumerate().map(|(i, e)| view! {
                                <tr>
                                    <td>{i + 1}</td>
                                    <td>{format!("{} ({})", e.customer_name.clone().unwrap_or_default(), e.customer_email.clone().unwrap_or_default())}</td>
                                    <td>{e.what.clone()}</td>
                                    <td>{e.with.clone()}</td>
                                    <td>{e.range_label()}</td>
                                    <td>
                                        {staff_state(e)}
                                        {e.hold.map(|h| view! { " " <a href=format!("/admin/bookings/{h}")>{format!("booking #{h}")}</a> })}
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <h2>"Bookings"</h2>
        {day.bookings.is_empty().then(|| view! { <p>"No bookings this day."</p> })}
        <ul class="bookings">
            {day.bookings.iter().map(|b| view! {
                <li>
                    <a href=format!("/admin/bookings/{}", b.id)>{format!("{} {} — {} ({})", b.time, b.customer, b.what, b.with)}</a>
                    " — " {b.status_label.clone()}
                </li>
            }).collect_view()}
        </ul>
        {(!day.closures.is_empty()).then(|| view! {
            <h2>"Closures"</h2>
            <ul>{day.closures.iter().map(|c| view! { <li>{format!("{}: {} ({})", c.what, c.when, c.reason)}</li> }).collect_view()}</ul>
        })}

        <h2 id="close-heading">"Close or block time"</h2>
        <StrandsPrompt error=close_error endpoint="close"/>
        <ActionForm action=close attr:class="stacked" attr:aria-labelledby="close-heading">
            <FormError error=Signal::derive(move || close_error.get().filter(|e| !matches!(e, AppError::Strands { .. })))/>
            <input type="hidden" name="venue" value=venue/>
            <input type="hidden" name="date" value=date_close/>
            <label for="close-resource">"What"</label>
            <select id="close-resource" name="resource">
                <option value="0">"The whole venue"</option>
                {res_close.into_iter().map(|(id, name)| view! { <option value=id.0>{name}</option> }).collect_view()}
            </select>
            <label for="close-from">"From (empty: start of the day)"</label>
            <input id="close-from" name="from" type="time"/>
            <label for="close-to">"To (empty: end of the day)"</label>
            <input id="close-to" name="to" type="time"/>
            <label for="close-reason">"Reason"</label>
            <input id="close-reason" name="reason" maxlength="200"/>
            <span class="field-error">{field_error(close_error, "to")}{field_error(close_error, "from")}{field_error(close_error, "ends")}</span>
            <button type="submit" class="primary">"Close"</button>
        </ActionForm>

        <h2 id="book-heading">"Book for a customer"</h2>
        <ActionForm action=book attr:class="stacked" attr:aria-labelledby="book-heading">
            <FormError error=book_error/>
            <input type="hidden" name="venue" value=venue/>
            <input type="hidden" name="date" value=date_book/>
            <input type="hidden" name="key" value=key/>
            <label for="book-email">"Customer’s email"</label>
            <input id="book-email" name="email" type="email" required/>
            <label for="book-name">"Customer’s name (for a new customer)"</label>
            <input id="book-name" name="name" required/>
            <label for="book-time">"Time"</label>
            <input id="book-time" name="time" type="time" step="300" required/>
            {if tables {
                view! {
                    <label for="book-party">"Party size"</label>
                    <input id="book-party" name="party" type="number" min="1" max="50" required/>
                }.into_any()
            } else {
                view! {
                    <label for="book-service">"Treatment"</label>
                    <select id="book-service" name="service">
                        {services.into_iter().map(|(id, name)| view! { <option value=id.0>{name}</option> }).collect_view()}
                    </select>
                }.into_any()
            }}
            <label for="book-resource">"Who or which table"</label>
            <select id="book-resource" name="resource">
                <option value="0">"Any"</option>
                {res_book.into_iter().map(|(id, name)| view! { <option value=id.0>{name}</option> }).collect_view()}
            </select>
            <button type="submit" class="primary">"Book"</button>
        </ActionForm>
    }
}

fn cell_text(c: &DayCell) -> String {
    match c {
        DayCell::Free => "free".to_owned(),
        DayCell::Off => "off".to_owned(),
        DayCell::Break => "break".to_owned(),
        DayCell::Closed { reason } => format!("closed: {reason}"),
        DayCell::Booking {
            label,
            cleanup: true,
            ..
        } => format!("cleanup after {label}"),
        DayCell::Booking { label, .. } => label.clone(),
    }
}

/// Resources across, units down; a booking, closure, break or time off is
/// one cell over the units it spans, with its start and end.
#[component]
fn ScheduleGrid(day: DayView) -> impl IntoView {
    let columns: Vec<Vec<DayBlock>> = (0..day.resources.len()).map(|i| day.blocks(i)).collect();
    let rows = day.rows.iter().enumerate().map(|(r, row)| {
        let cells = columns
            .iter()
            .filter_map(|blocks| blocks.iter().find(|b| b.first_row == r))
            .map(block_cell)
            .collect_view();
        view! {
            <tr class=row.now.then_some("now")>
                <th scope="row">
                    {row.time.clone()}
                    {row.now.then(|| view! { <span class="now-mark">" now"</span> })}
                </th>
                {cells}
            </tr>
        }
    });
    view! {
        <table class="day-grid">
            <caption>{format!("Schedule of {}", day.date_label)}</caption>
            <thead>
                <tr>
                    <th scope="col">"Time"</th>
                    {day.resources.iter().map(|(_, name)| view! { <th scope="col" title=name.clone()>{name.clone()}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>{rows.collect_view()}</tbody>
        </table>
    }
}

fn block_cell(b: &DayBlock) -> AnyView {
    let span = format!("{}–{}", b.from, b.to);
    let rows = b.rows.to_string();
    match &b.cell {
        DayCell::Booking {
            id,
            status,
            cleanup,
            label,
            ..
        } => {
            let class = match (status, cleanup) {
                (_, true) => "cell cleanup",
                (BookingStatus::Held, _) => "cell held",
                _ => "cell booked",
            };
            let title = format!("{span} {}", cell_text(&b.cell));
            if *cleanup {
                return view! {
                    <td class=class rowspan=rows title=title>
                        <a href=format!("/admin/bookings/{id}") aria-label=cell_text(&b.cell)>"cleanup"</a>
                    </td>
                }
                .into_any();
            }
            // "Ada Lovelace — Full body massage": the customer on the first
            // line, what they come for on the next.
            let (who, what) = label.split_once(" — ").unwrap_or((label.as_str(), ""));
            view! {
                <td class=class rowspan=rows title=title>
                    <a href=format!("/admin/bookings/{id}") aria-label=format!("{span} {label}")>
                        <span class="who">{who.to_owned()}</span>
                        <span class="what">{what.to_owned()}</span>
                        <span class="span">{span.clone()}</span>
                    </a>
                </td>
            }
            .into_any()
        }
        DayCell::Free => {
            view! { <td class="cell free"><span class="sr-hint">"free"</span></td> }.into_any()
        }
        DayCell::Off => view! { <td class="cell off" rowspan=rows>"off"</td> }.into_any(),
        DayCell::Break => {
            view! { <td class="cell break" rowspan=rows title=span>"break"</td> }.into_any()
        }
        DayCell::Closed { reason } => {
            let shown = (b.rows > 1).then(|| span.clone());
            view! {
                <td class="cell closed" rowspan=rows title=span>
                    {format!("closed: {reason}")}
                    {shown.map(|s| view! { <span class="span">{s}</span> })}
                </td>
            }
            .into_any()
        }
    }
}

/// One line of a resource's day on a phone: "10:00–11:00 Ada — Full body massage".
fn agenda_item(b: &DayBlock) -> AnyView {
    let span = format!("{}–{}", b.from, b.to);
    match &b.cell {
        DayCell::Booking {
            id, label, status, ..
        } => {
            let class = if *status == BookingStatus::Held {
                "agenda-item held"
            } else {
                "agenda-item booked"
            };
            view! {
                <li class=class><a href=format!("/admin/bookings/{id}")><strong>{span}</strong>" "{label.clone()}</a></li>
            }
            .into_any()
        }
        other => {
            view! { <li class="agenda-item"><strong>{span}</strong>" "{cell_text(other)}</li> }
                .into_any()
        }
    }
}

/// A waitlist entry's state, as staff read it.
fn staff_state(e: &crate::domain::waitlist::WaitlistEntry) -> String {
    use crate::domain::waitlist::WaitlistState;
    match e.state {
        WaitlistState::Waiting if e.past => "waited; the day passed".to_owned(),
        WaitlistState::Waiting => "waiting".to_owned(),
        WaitlistState::Offered => match &e.offer_label {
            Some(o) => format!("offered {o}"),
            None => "offered (ran out)".to_owned(),
        },
        WaitlistState::Booked => "booked from the waitlist".to_owned(),
        WaitlistState::Lapsed => "offer not taken in time".to_owned(),
        WaitlistState::Left => "left the waitlist".to_owned(),
    }
}
