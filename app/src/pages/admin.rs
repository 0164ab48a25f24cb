//! The admin pages: the venues a staff member runs, a venue's day, a
//! booking, the venue's set-up, the audit trail, statistics and (admins)
//! staff accounts. Every page asks the server, which refuses customers
//! (403) and sends visitors to log in. Forms work without JavaScript.

use crate::api::admin::*;
use crate::components::feedback::{action_error, field_error, FormError};
use crate::domain::admin::{
    AuditEntry, BookingDetail, DayCell, DayView, ResourceSetup, ServiceSetup, StaffMember,
    StaffVenue, Stats, VenueSetup, WEEKDAYS,
};
use crate::domain::booking::BookingStatus;
use crate::domain::error::AppError;
use crate::domain::venue::ResourceKind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

fn number(s: Option<String>) -> Option<i64> {
    s.and_then(|v| v.parse().ok())
}

/// Whether the address carries `name` (`?closed=1` after a save). It
/// follows the address: with JavaScript the save's redirect arrives as a
/// client-side navigation, possibly after the page has re-rendered.
fn query_flag(name: &'static str) -> Signal<bool> {
    let query = use_query_map();
    Signal::derive(move || query.read().get(name).is_some())
}

/// What a failed load shows: the login page for visitors, a refusal for
/// customers and staff of other venues.
fn refusal(e: AppError) -> AnyView {
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

/// A form value offered again after a version conflict or a question
/// about stranded bookings, else `current`. `id` tells list items apart.
fn typed(error: Signal<Option<AppError>>, id: i64, field: &'static str, current: String) -> String {
    let submitted = match error.get_untracked() {
        Some(AppError::Stale { submitted } | AppError::Strands { submitted, .. }) => submitted,
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
fn StrandsPrompt(
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

#[component]
pub fn AdminHome() -> impl IntoView {
    let venues = Resource::new(|| (), |_| admin_venues());
    view! {
        <Title text="Admin"/>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match venues.await {
                    Ok(list) => view! {
                        <h1>"Admin"</h1>
                        <p><a href="/admin/stats">"Statistics"</a> " · " <a href="/admin/staff">"Staff and venues (admins)"</a></p>
                        <h2>"Your venues"</h2>
                        {list.is_empty().then(|| view! { <p>"You do not run any venue yet; an admin can add you to one."</p> })}
                        <ul class="venues">
                            {list.into_iter().map(|v: StaffVenue| view! {
                                <li>
                                    <strong>{v.name.clone()}</strong>
                                    " — "
                                    <a href=format!("/admin/venues/{}/day?date={}", v.id, v.today)>"Today’s schedule"</a>
                                    " · "
                                    <a href=format!("/admin/venues/{}/setup", v.id)>"Set-up"</a>
                                    " · "
                                    <a href=format!("/admin/venues/{}/audit", v.id)>"Audit trail"</a>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => refusal(e),
                }
            })}
        </Transition>
    }
}

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
        <p class="legend muted">
            <span class="sw cell free">"free"</span>
            <span class="sw cell booked">"booked"</span>
            <span class="sw cell held">"held (until its expiry)"</span>
            <span class="sw cell cleanup">"cleanup"</span>
            <span class="sw cell break">"break"</span>
            <span class="sw cell closed">"closed"</span>
            <span class="sw cell off">"off (outside hours)"</span>
        </p>
        <div class="day-grid-wrap">
            <table class="day-grid">
                <caption>{format!("Schedule of {}", day.date_label)}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        {resources.iter().map(|(_, name)| view! { <th scope="col">{name.clone()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {day.rows.iter().map(|row| view! {
                        <tr>
                            <th scope="row">{row.time.clone()}</th>
                            {row.cells.iter().map(|c| cell(c.clone())).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <div class="day-agenda">
            {resources.iter().enumerate().map(|(i, (_, name))| {
                let busy: Vec<(String, DayCell)> = day.rows.iter()
                    .filter(|r| matches!(&r.cells[i], DayCell::Booking { first: true, .. } | DayCell::Closed { .. }))
                    .map(|r| (r.time.clone(), r.cells[i].clone()))
                    .collect();
                view! {
                    <h3>{name.clone()}</h3>
                    <ul>
                        {if busy.is_empty() { Some(view! { <li>"Nothing booked"</li> }) } else { None }}
                        {busy.into_iter().map(|(t, c)| view! { <li>{t} " " {cell_text(&c)}</li> }).collect_view()}
                    </ul>
                }
            }).collect_view()}
        </div>
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

fn cell(c: DayCell) -> AnyView {
    match &c {
        DayCell::Booking {
            id,
            status,
            first,
            cleanup,
            label,
        } => {
            let class = match (status, cleanup) {
                (_, true) => "cell cleanup",
                (BookingStatus::Held, _) => "cell held",
                _ => "cell booked",
            };
            let text = if *first {
                label.clone()
            } else if *cleanup {
                "cleanup".to_owned()
            } else {
                "↓".to_owned()
            };
            view! { <td class=class><a href=format!("/admin/bookings/{id}") aria-label=cell_text(&c)>{text}</a></td> }.into_any()
        }
        DayCell::Free => view! { <td class="cell free">"free"</td> }.into_any(),
        DayCell::Off => view! { <td class="cell off">"off"</td> }.into_any(),
        DayCell::Break => view! { <td class="cell break">"break"</td> }.into_any(),
        DayCell::Closed { reason } => {
            view! { <td class="cell closed">{format!("closed: {reason}")}</td> }.into_any()
        }
    }
}

#[component]
pub fn AdminBookingPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || number(params.read().get("id")).unwrap_or(0);
    let cancel = ServerAction::<StaffCancel>::new();
    let mark = ServerAction::<MarkBooking>::new();
    let mover = ServerAction::<MoveBooking>::new();
    let booking = Resource::new(
        move || {
            (
                id(),
                cancel.version().get(),
                mark.version().get(),
                mover.version().get(),
            )
        },
        |(id, ..)| load_booking(id),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match booking.await {
                    Ok(b) => view! { <BookingAdmin b=b cancel=cancel mark=mark mover=mover/> }.into_any(),
                    Err(e) => refusal(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn BookingAdmin(
    b: BookingDetail,
    cancel: ServerAction<StaffCancel>,
    mark: ServerAction<MarkBooking>,
    mover: ServerAction<MoveBooking>,
) -> impl IntoView {
    let id = b.view.booking.id.0;
    let live = b.view.booking.status.is_live();
    let confirmed = b.view.booking.status == BookingStatus::Confirmed;
    let errors = Signal::derive(move || {
        action_error(cancel.value())
            .get()
            .or_else(|| action_error(mark.value()).get())
            .or_else(|| action_error(mover.value()).get())
    });
    let alternatives = move || match errors.get() {
        Some(AppError::SlotTaken { alternatives }) => Some(alternatives),
        _ => None,
    };
    let title = format!("Booking #{id}");
    let moved = query_flag("moved");
    view! {
        <Title text=title.clone()/>
        <h1>{title}</h1>
        <p><a href=format!("/admin/venues/{}/day?date={}", b.view.venue_id, b.date)>"Back to the day"</a></p>
        {move || moved.get().then(|| view! { <p class="notice" role="status">"Moved."</p> })}
        <FormError error=errors/>
        {move || alternatives().map(|alts| view! {
            <section class="alternatives">
                <h2>"Free instead"</h2>
                <ul>{alts.into_iter().map(|a| view! { <li>{format!("{} with {}", a.label, a.resource_name)}</li> }).collect_view()}</ul>
            </section>
        })}
        <dl class="details">
            <dt>"Customer"</dt><dd>{format!("{} <{}>", b.customer_name, b.customer_email)}</dd>
            <dt>"What"</dt><dd>{b.view.what.clone()}</dd>
            <dt>"When"</dt><dd>{b.view.when.clone()}</dd>
            <dt>"With"</dt><dd>{b.view.with.clone()}</dd>
            <dt>"Status"</dt><dd>{b.view.status_label.clone()}{b.view.hold_expires_label.clone().map(|t| format!(" (hold until {t})"))}</dd>
            <dt>"Made"</dt><dd>{b.created_label.clone()}</dd>
        </dl>
        {live.then(|| view! {
            <div class="actions">
                <ActionForm action=cancel attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <button type="submit">"Cancel booking"</button>
                </ActionForm>
                {confirmed.then(|| view! {
                    <ActionForm action=mark attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="status" value="completed"/>
                        <button type="submit">"Mark completed"</button>
                    </ActionForm>
                    <ActionForm action=mark attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="status" value="no_show"/>
                        <button type="submit">"Mark no-show"</button>
                    </ActionForm>
                })}
            </div>
            <h2 id="move-heading">"Move"</h2>
            <ActionForm action=mover attr:class="stacked" attr:aria-labelledby="move-heading">
                <input type="hidden" name="id" value=id/>
                <label for="move-date">"Date"</label>
                <input id="move-date" name="date" type="date" value=b.date.to_string() required/>
                <label for="move-time">"Time"</label>
                <input id="move-time" name="time" type="time" step="300" value=b.time.clone() required/>
                <label for="move-resource">"To"</label>
                <select id="move-resource" name="resource">
                    <option value="0">"The same"</option>
                    {b.movable_to.iter().map(|(r, name)| view! { <option value=r.0>{name.clone()}</option> }).collect_view()}
                </select>
                <button type="submit" class="primary">"Move"</button>
            </ActionForm>
        })}
        <h2>"History"</h2>
        <AuditTable entries=b.history.clone()/>
    }
}

#[component]
fn AuditTable(entries: Vec<AuditEntry>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p>"No staff changes."</p> }.into_any();
    }
    view! {
        <table class="audit">
            <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"About"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
            <tbody>
                {entries.into_iter().map(|e| view! {
                    <tr>
                        <td>{e.at_label}</td>
                        <td>{e.actor}</td>
                        <td>{e.action}</td>
                        <td>
                            {e.resource_name.unwrap_or_default()}
                            {e.booking.map(|b| view! { " " <a href=format!("/admin/bookings/{b}")>{format!("booking #{b}")}</a> })}
                        </td>
                        <td class="json">{e.before.unwrap_or_default()}</td>
                        <td class="json">{e.after.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let venue = move || number(params.read().get("id")).unwrap_or(0);
    let filter = move || {
        (
            query.read().get("date"),
            number(query.read().get("resource")),
        )
    };
    let entries = Resource::new(
        move || (venue(), filter()),
        |(v, (d, r))| audit_trail(v, d, r),
    );
    let setup = Resource::new(venue, load_setup);
    view! {
        <Title text="Audit trail"/>
        <h1>"Audit trail"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (entries.await, setup.await) {
                    (Ok(list), Ok(s)) => {
                        let (date, resource) = filter();
                        view! {
                            <p><a href="/admin">"Admin"</a> " · " {s.settings.name.clone()}</p>
                            <form method="get" class="filters">
                                <label for="audit-date">"Day"</label>
                                <input id="audit-date" type="date" name="date" value=date.unwrap_or_default()/>
                                <label for="audit-resource">"Resource"</label>
                                <select id="audit-resource" name="resource">
                                    <option value="">"All"</option>
                                    {s.resources.iter().map(|r| view! {
                                        <option value=r.id.0 selected=resource == Some(r.id.0)>{r.name.clone()}</option>
                                    }).collect_view()}
                                </select>
                                <button type="submit">"Filter"</button>
                            </form>
                            <AuditTable entries=list/>
                        }.into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => refusal(e),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn AdminStatsPage() -> impl IntoView {
    let stats = Resource::new(|| (), |_| load_stats());
    view! {
        <Title text="Statistics"/>
        <h1>"Statistics"</h1>
        <p class="muted">"Booking activity per venue and hour (UTC), the last 48 hours. Also as JSON at /api/v1/stats and as Prometheus text at /metrics."</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match stats.await {
                    Ok(s) => view! { <StatsTables stats=s/> }.into_any(),
                    Err(e) => refusal(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn StatsTables(stats: Stats) -> impl IntoView {
    let table = |caption: &'static str,
                 rows: Vec<crate::domain::admin::HourStats>,
                 hourly: bool| {
        view! {
            <table class="stats">
                <caption>{caption}</caption>
                <thead><tr>
                    {hourly.then(|| view! { <th scope="col">"Hour"</th> })}
                    <th scope="col">"Venue"</th><th scope="col">"Bookings"</th><th scope="col">"Conflicts"</th>
                    <th scope="col">"Holds placed"</th><th scope="col">"Holds confirmed"</th><th scope="col">"Holds expired"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|h| view! {
                        <tr>
                            {hourly.then(|| view! { <td>{h.hour_start.format("%Y-%m-%d %H:00").to_string()}</td> })}
                            <td>{h.venue_name}</td><td>{h.booked}</td><td>{h.conflicts}</td>
                            <td>{h.holds_placed}</td><td>{h.holds_confirmed}</td><td>{h.holds_expired}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    };
    view! {
        {table("Totals", stats.totals, false)}
        {table("Per hour", stats.hours, true)}
    }
}

#[component]
pub fn AdminSetupPage() -> impl IntoView {
    let params = use_params_map();
    let venue = move || number(params.read().get("id")).unwrap_or(0);
    let settings = ServerAction::<SaveSettings>::new();
    let edit_resource = ServerAction::<EditResource>::new();
    let add_resource = ServerAction::<AddResource>::new();
    let offer = ServerAction::<ToggleOffer>::new();
    let hours = ServerAction::<SaveHours>::new();
    let add_service = ServerAction::<AddService>::new();
    let edit_service = ServerAction::<EditService>::new();
    let reopen = ServerAction::<RemoveClosure>::new();
    let setup = Resource::new(
        move || {
            (
                venue(),
                settings.version().get(),
                edit_resource.version().get(),
                add_resource.version().get(),
                offer.version().get(),
                hours.version().get(),
                add_service.version().get(),
                edit_service.version().get() + reopen.version().get(),
            )
        },
        |(v, ..)| load_setup(v),
    );
    let actions = SetupActions {
        settings,
        edit_resource,
        add_resource,
        offer,
        hours,
        add_service,
        edit_service,
        reopen,
    };
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(s) => view! { <Setup setup=s actions=actions/> }.into_any(),
                    Err(e) => refusal(e),
                }
            })}
        </Transition>
    }
}

#[derive(Clone, Copy)]
struct SetupActions {
    settings: ServerAction<SaveSettings>,
    edit_resource: ServerAction<EditResource>,
    add_resource: ServerAction<AddResource>,
    offer: ServerAction<ToggleOffer>,
    hours: ServerAction<SaveHours>,
    add_service: ServerAction<AddService>,
    edit_service: ServerAction<EditService>,
    reopen: ServerAction<RemoveClosure>,
}

#[component]
fn Setup(setup: VenueSetup, actions: SetupActions) -> impl IntoView {
    let s = setup.settings.clone();
    let venue = s.id.0;
    let error = action_error(actions.settings.value());
    let t =
        move |field: &'static str, current: i64| typed(error, venue, field, current.to_string());
    let stale = move || matches!(error.get(), Some(AppError::Stale { .. }));
    let current = format!(
        "Saved now: name “{}”, grid {} min, holds {} min, cancellation window {} min, minimum notice {} min, advance window {} days.",
        s.name, s.grid_minutes, s.hold_minutes, s.cancellation_window_minutes, s.min_notice_minutes, s.advance_days
    );
    let saved = query_flag("saved");
    let services = setup.services.clone();
    view! {
        <Title text=format!("Set-up — {}", s.name)/>
        <h1>{format!("Set-up — {}", s.name)}</h1>
        <p><a href="/admin">"Admin"</a> " · " <a href=format!("/admin/venues/{venue}/audit")>"Audit trail"</a></p>
        {move || saved.get().then(|| view! { <p class="notice" role="status">"Saved."</p> })}

        <h2 id="settings-heading">"Venue settings"</h2>
        <StrandsPrompt error=error endpoint="settings"/>
        <ActionForm action=actions.settings attr:class="stacked" attr:aria-labelledby="settings-heading">
            <FormError error=Signal::derive(move || error.get().filter(|e| !matches!(e, AppError::Strands { .. } | AppError::Invalid { .. })))/>
            {move || stale().then(|| view! { <p class="current">{current.clone()}</p> })}
            <input type="hidden" name="venue" value=venue/>
            <input type="hidden" name="version" value=s.version/>
            <label for="s-name">"Name"</label>
            <input id="s-name" name="name" value=typed(error, venue, "name", s.name.clone()) required/>
            <span class="field-error">{field_error(error, "name")}</span>
            <label for="s-grid">"Grid (minutes: 5, 10, 15, 20, 30 or 60)"</label>
            <input id="s-grid" name="grid_minutes" type="number" value=t("grid_minutes", s.grid_minutes) required/>
            <span class="field-error">{field_error(error, "grid_minutes")}</span>
            <label for="s-hold">"Hold minutes"</label>
            <input id="s-hold" name="hold_minutes" type="number" value=t("hold_minutes", s.hold_minutes) required/>
            <span class="field-error">{field_error(error, "hold_minutes")}</span>
            <label for="s-cancel">"Cancellation window (minutes before the start)"</label>
            <input id="s-cancel" name="cancellation_window_minutes" type="number" value=t("cancellation_window_minutes", s.cancellation_window_minutes) required/>
            <span class="field-error">{field_error(error, "cancellation_window_minutes")}</span>
            <label for="s-notice">"Minimum notice (minutes)"</label>
            <input id="s-notice" name="min_notice_minutes" type="number" value=t("min_notice_minutes", s.min_notice_minutes) required/>
            <span class="field-error">{field_error(error, "min_notice_minutes")}</span>
            <label for="s-advance">"Advance window (days)"</label>
            <input id="s-advance" name="advance_days" type="number" value=t("advance_days", s.advance_days) required/>
            <span class="field-error">{field_error(error, "advance_days")}</span>
            {s.seating_minutes.map(|m| view! {
                <label for="s-seating">"Seating (minutes)"</label>
                <input id="s-seating" name="seating_minutes" type="number" value=t("seating_minutes", m)/>
                <span class="field-error">{field_error(error, "seating_minutes")}</span>
            })}
            <button type="submit" class="primary">"Save settings"</button>
        </ActionForm>

        <h2>"Resources"</h2>
        <FormError error=action_error(actions.offer.value())/>
        <FormError error=action_error(actions.hours.value())/>
        <StrandsPrompt error=action_error(actions.edit_resource.value()) endpoint="edit_resource"/>
        <StrandsPrompt error=action_error(actions.hours.value()) endpoint="hours"/>
        <StrandsPrompt error=action_error(actions.offer.value()) endpoint="offer"/>
        {setup.resources.into_iter().map(|r| view! { <ResourceEditor r=r venue=venue services=services.clone() actions=actions/> }).collect_view()}
        <AddResourceForm venue=venue action=actions.add_resource/>

        {s.seating_minutes.is_none().then(|| view! {
            <h2>"Services"</h2>
            {setup.services.into_iter().map(|x| view! { <ServiceEditor s=x venue=venue action=actions.edit_service/> }).collect_view()}
            <AddServiceForm venue=venue action=actions.add_service/>
        })}

        <h2>"Closures and time off to come"</h2>
        <p class="muted">"Add them from the day view."</p>
        <FormError error=action_error(actions.reopen.value())/>
        <ul>
            {setup.closures.into_iter().map(|c| view! {
                <li>
                    {format!("{}: {} {}", c.what, c.when, if c.reason.is_empty() { String::new() } else { format!("({})", c.reason) })}
                    <ActionForm action=actions.reopen attr:class="inline-form">
                        <input type="hidden" name="venue" value=venue/>
                        <input type="hidden" name="id" value=c.id/>
                        <button type="submit">{format!("Remove closure of {}", c.what)}</button>
                    </ActionForm>
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn ResourceEditor(
    r: ResourceSetup,
    venue: i64,
    services: Vec<ServiceSetup>,
    actions: SetupActions,
) -> impl IntoView {
    let error = action_error(actions.edit_resource.value());
    let id = r.id.0;
    let heading = format!("resource-{id}");
    let heading_ref = heading.clone();
    let stale = move || match error.get() {
        Some(AppError::Stale { submitted }) if submitted.get("id") == Some(&id.to_string()) => true,
        _ => false,
    };
    let name = r.name.clone();
    let title = format!(
        "{} ({}){}",
        r.name,
        r.kind,
        if r.active { "" } else { " — inactive" }
    );
    let offers_now = r.offers.clone();
    let name_for_offers = r.name.clone();
    let week = r.week.clone();
    let is_table = r.kind == ResourceKind::Table;
    let is_therapist = r.kind == ResourceKind::Therapist;
    let version = r.version;
    let current = format!(
        "Saved now: “{}”, {}{}.",
        r.name,
        if r.active { "active" } else { "inactive" },
        r.capacity
            .map(|c| format!(", seats {c}"))
            .unwrap_or_default()
    );
    view! {
        <section class="resource" aria-labelledby=heading_ref>
            <h3 id=heading>{title}</h3>
            <ActionForm action=actions.edit_resource attr:class="inline-form">
                {move || stale().then(|| view! { <p class="form-error" role="alert">{AppError::Stale { submitted: Default::default() }.to_string()} " " {current.clone()}</p> })}
                <input type="hidden" name="venue" value=venue/>
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="version" value=version/>
                <label for=format!("r-name-{id}")>"Name"</label>
                <input id=format!("r-name-{id}") name="name" value=typed(error, id, "name", r.name.clone()) required/>
                {is_table.then(|| view! {
                    <label for=format!("r-cap-{id}")>"Seats"</label>
                    <input id=format!("r-cap-{id}") name="capacity" type="number" min="1" max="100" value=typed(error, id, "capacity", r.capacity.unwrap_or(0).to_string())/>
                })}
                <label><input type="checkbox" name="active" value="on" checked=r.active/>" Active (bookable)"</label>
                <button type="submit">{format!("Save {}", r.name)}</button>
            </ActionForm>
            {is_therapist.then(|| view! {
                <div class="offers" role="group" aria-label=format!("Treatments {} offers", name_for_offers)>"Offers: "
                    {services.into_iter().map(|s| {
                        let offers = offers_now.contains(&s.id);
                        view! {
                            <ActionForm action=actions.offer attr:class="inline-form">
                                <input type="hidden" name="venue" value=venue/>
                                <input type="hidden" name="id" value=id/>
                                <input type="hidden" name="version" value=version/>
                                <input type="hidden" name="service" value=s.id.0/>
                                <input type="hidden" name="offer" value=if offers { "no" } else { "yes" }/>
                                <button type="submit" aria-pressed=if offers { "true" } else { "false" }>
                                    {format!("{} {}", if offers { "✓" } else { "+" }, s.name)}
                                </button>
                            </ActionForm>
                        }
                    }).collect_view()}
                </div>
            })}
            <details>
                <summary>{format!("Weekly hours of {}", name)}</summary>
                <table class="hours">
                    <thead><tr><th scope="col">"Day"</th><th scope="col">"Opens"</th><th scope="col">"Closes"</th><th scope="col">"Break from"</th><th scope="col">"Break to"</th><th scope="col"></th></tr></thead>
                    <tbody>
                        {week.into_iter().map(|d| {
                            let day = WEEKDAYS[d.weekday as usize];
                            let form = format!("hours-{id}-{}", d.weekday);
                            view! {
                                <tr>
                                    <th scope="row">{day}</th>
                                    <td><input form=form.clone() name="opens" type="time" aria-label=format!("{} opens", day) value=d.opens.clone()/></td>
                                    <td><input form=form.clone() name="closes" type="time" aria-label=format!("{} closes", day) value=d.closes.clone()/></td>
                                    <td><input form=form.clone() name="break_starts" type="time" aria-label=format!("{} break from", day) value=d.break_starts.clone()/></td>
                                    <td><input form=form.clone() name="break_ends" type="time" aria-label=format!("{} break to", day) value=d.break_ends.clone()/></td>
                                    <td>
                                        <ActionForm action=actions.hours attr:id=form.clone() attr:class="inline-form">
                                            <input type="hidden" name="venue" value=venue/>
                                            <input type="hidden" name="id" value=id/>
                                            <input type="hidden" name="version" value=version/>
                                            <input type="hidden" name="weekday" value=d.weekday/>
                                            <button type="submit">{format!("Save {}", day)}</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <p class="muted">"Leave opening and closing empty for a day off."</p>
            </details>
        </section>
    }
}

#[component]
fn AddResourceForm(venue: i64, action: ServerAction<AddResource>) -> impl IntoView {
    let error = action_error(action.value());
    view! {
        <h3 id="add-resource">"Add a resource"</h3>
        <ActionForm action=action attr:class="stacked" attr:aria-labelledby="add-resource">
            <FormError error=error/>
            <input type="hidden" name="venue" value=venue/>
            <label for="ar-kind">"Kind"</label>
            <select id="ar-kind" name="kind">
                <option value="therapist">"Therapist"</option>
                <option value="room">"Treatment room"</option>
                <option value="table">"Table"</option>
            </select>
            <label for="ar-name">"Name"</label>
            <input id="ar-name" name="name" required/>
            <label for="ar-cap">"Seats (tables)"</label>
            <input id="ar-cap" name="capacity" type="number" min="1" max="100"/>
            <button type="submit">"Add"</button>
        </ActionForm>
    }
}

#[component]
fn ServiceEditor(s: ServiceSetup, venue: i64, action: ServerAction<EditService>) -> impl IntoView {
    let error = action_error(action.value());
    let id = s.id.0;
    let mine = move || match error.get() {
        Some(AppError::Stale { submitted }) => submitted.get("id") == Some(&id.to_string()),
        _ => false,
    };
    let current = format!(
        "Saved now: “{}”, {} min, cleanup {} min{}.",
        s.name,
        s.duration_minutes,
        s.cleanup_minutes,
        if s.needs_room { ", needs a room" } else { "" }
    );
    view! {
        <ActionForm action=action attr:class="inline-form service-form">
            {move || mine().then(|| view! { <p class="form-error" role="alert">{AppError::Stale { submitted: Default::default() }.to_string()} " " {current.clone()}</p> })}
            <input type="hidden" name="venue" value=venue/>
            <input type="hidden" name="id" value=id/>
            <input type="hidden" name="version" value=s.version/>
            <label for=format!("sv-name-{id}")>"Service"</label>
            <input id=format!("sv-name-{id}") name="name" value=typed(error, id, "name", s.name.clone()) required/>
            <label for=format!("sv-dur-{id}")>"Minutes"</label>
            <input id=format!("sv-dur-{id}") name="duration_minutes" type="number" value=typed(error, id, "duration_minutes", s.duration_minutes.to_string())/>
            <label for=format!("sv-clean-{id}")>"Cleanup"</label>
            <input id=format!("sv-clean-{id}") name="cleanup_minutes" type="number" value=typed(error, id, "cleanup_minutes", s.cleanup_minutes.to_string())/>
            <label><input type="checkbox" name="needs_room" value="on" checked=s.needs_room/>" Needs a room"</label>
            <label><input type="checkbox" name="active" value="on" checked=s.active/>" Offered"</label>
            <button type="submit">{format!("Save {}", s.name)}</button>
        </ActionForm>
    }
}

#[component]
fn AddServiceForm(venue: i64, action: ServerAction<AddService>) -> impl IntoView {
    let error = action_error(action.value());
    view! {
        <h3 id="add-service">"Add a service"</h3>
        <ActionForm action=action attr:class="stacked" attr:aria-labelledby="add-service">
            <FormError error=error/>
            <input type="hidden" name="venue" value=venue/>
            <label for="as-name">"Name"</label>
            <input id="as-name" name="name" required/>
            <label for="as-dur">"Minutes"</label>
            <input id="as-dur" name="duration_minutes" type="number" min="5" max="720" required/>
            <label for="as-clean">"Cleanup minutes"</label>
            <input id="as-clean" name="cleanup_minutes" type="number" min="0" max="240" value="0"/>
            <label><input type="checkbox" name="needs_room" value="on"/>" Needs a room"</label>
            <button type="submit">"Add service"</button>
        </ActionForm>
    }
}

#[component]
pub fn AdminStaffPage() -> impl IntoView {
    let set = ServerAction::<SetStaff>::new();
    let add_venue = ServerAction::<AddVenue>::new();
    let staff = Resource::new(
        move || (set.version().get(), add_venue.version().get()),
        |_| load_staff(),
    );
    let venues = Resource::new(move || add_venue.version().get(), |_| admin_venues());
    let set_error = action_error(set.value());
    let venue_error = action_error(add_venue.value());
    view! {
        <Title text="Staff and venues"/>
        <h1>"Staff and venues"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (staff.await, venues.await) {
                    (Ok(list), Ok(vs)) => {
                        let name_of = |id: i64| vs.iter().find(|v| v.id.0 == id).map(|v| v.name.clone()).unwrap_or_default();
                        view! {
                            <table class="staff">
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Runs"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|m: StaffMember| view! {
                                        <tr>
                                            <td>{m.name}</td><td>{m.email}</td><td>{m.role.clone()}</td>
                                            <td>{if m.role == "admin" { "every venue".to_owned() } else { m.venues.iter().map(|v| name_of(v.0)).collect::<Vec<_>>().join(", ") }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <h2 id="set-staff">"Set a role"</h2>
                            <ActionForm action=set attr:class="stacked" attr:aria-labelledby="set-staff">
                                <FormError error=set_error/>
                                <label for="st-email">"Email of the account"</label>
                                <input id="st-email" name="email" type="email" required/>
                                <label for="st-role">"Role"</label>
                                <select id="st-role" name="role">
                                    <option value="staff">"Staff"</option>
                                    <option value="admin">"Admin"</option>
                                    <option value="customer">"Customer (no staff rights)"</option>
                                </select>
                                <label for="st-venue">"Runs venue (staff)"</label>
                                <select id="st-venue" name="venue">
                                    <option value="0">"(no change)"</option>
                                    {vs.iter().map(|v| view! { <option value=v.id.0>{v.name.clone()}</option> }).collect_view()}
                                </select>
                                <label><input type="checkbox" name="remove" value="on"/>" Remove them from this venue instead"</label>
                                <button type="submit" class="primary">"Save"</button>
                            </ActionForm>
                            <h2 id="add-venue">"Add a venue"</h2>
                            <ActionForm action=add_venue attr:class="stacked" attr:aria-labelledby="add-venue">
                                <FormError error=venue_error/>
                                <label for="av-name">"Name"</label>
                                <input id="av-name" name="name" required/>
                                <label for="av-tz">"Time zone"</label>
                                <input id="av-tz" name="timezone" value="Europe/London" required/>
                                <label for="av-kind">"Kind"</label>
                                <select id="av-kind" name="kind">
                                    <option value="spa">"Spa (treatments)"</option>
                                    <option value="restaurant">"Restaurant (tables)"</option>
                                </select>
                                <button type="submit">"Add venue"</button>
                            </ActionForm>
                        }.into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => refusal(e),
                }
            })}
        </Transition>
    }
}
