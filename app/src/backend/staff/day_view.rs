//! The staff day view: resources across, grid units down, built on the
//! engine's `Day`, so it shows the hours, breaks and closures the booking
//! transaction judges by.

use crate::domain::admin::{DayBooking, DayCell, DayRow, DayView};
use crate::domain::booking::BookingStatus;
use crate::domain::error::AppError;
use crate::domain::ids::{BookingId, ResourceId, ServiceId, VenueId};
use crate::domain::schedule::{self, LocalWindow, Span};
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::HashMap;

use super::{check_staff_date, closure_view, venue_for, Names, Staff};
use crate::backend::db::{with_backend, Backend};
use crate::backend::engine::{entry_views, lapsed, settle_app, Day, Engine, Failure};
use crate::backend::store::{BookingRow, ResourceRow, Store, VenueRow};

impl Engine {
    /// A venue's day: resources across, grid units down.
    pub async fn day_view(
        &self,
        staff: Staff,
        venue: VenueId,
        date: NaiveDate,
    ) -> Result<DayView, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                let (v, tz) = venue_for(&mut tx, staff, venue).await?;
                check_staff_date("date", date, tz, now)?;
                build_day(&mut tx, &v, tz, date, now).await
            }
            .await
            .map_err(settle_app)
        })
    }
}

async fn build_day<S: Store>(
    tx: &mut S,
    v: &VenueRow,
    tz: Tz,
    date: NaiveDate,
    now: i64,
) -> Result<DayView, Failure> {
    let day = Day::load(tx, v, tz, date, None, now).await?;
    let day_span = day.span;
    let unit = day.unit;
    let resources: Vec<ResourceRow> = tx
        .resources(v.id)
        .await?
        .into_iter()
        .filter(|r| r.active)
        .collect();
    // A day nobody works shows 09:00-18:00.
    let usual = schedule::window_span(
        tz,
        date,
        &LocalWindow {
            from_minute: 9 * 60,
            to_minute: 18 * 60,
        },
    );
    let rows = tx
        .bookings_between(v.id, day_span.start, day_span.end)
        .await?;
    let names = Names::load(tx, v.id, &rows).await?;
    let mut used: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in &rows {
        used.insert(r.id, tx.booking_resources(r.id).await?);
    }
    // Shown bookings: those that occupy time, or did (completed, no-show).
    let shown: Vec<&BookingRow> = rows
        .iter()
        .filter(|r| {
            !lapsed(r, now)
                && matches!(
                    r.status,
                    BookingStatus::Held
                        | BookingStatus::Confirmed
                        | BookingStatus::Completed
                        | BookingStatus::NoShow
                )
        })
        .collect();
    // Rows from the earliest opening to the latest closing (or the
    // bookings beyond them), 09:00-18:00 on a day nobody works.
    let first = day
        .hours()
        .map(|s| s.start)
        .chain(shown.iter().map(|r| r.starts_at))
        .min()
        .unwrap_or(usual.start)
        .max(day_span.start);
    let last = day
        .hours()
        .map(|s| s.end)
        .chain(shown.iter().map(|r| r.occupied_until))
        .max()
        .unwrap_or(usual.end)
        .min(day_span.end);
    let first = first - first.rem_euclid(unit);
    let mut grid_rows = Vec::new();
    let mut t = first;
    while t < last {
        let cell_span = Span::new(t, t + unit);
        let cells = resources
            .iter()
            .map(|res| {
                if let Some(b) = shown.iter().find(|b| {
                    b.starts_at <= t
                        && t < b.occupied_until
                        && used.get(&b.id).is_some_and(|u| u.contains(&res.id))
                }) {
                    let label = match b.status {
                        BookingStatus::Held => format!(
                            "{} — {} (held until {})",
                            names.customer(b),
                            names.what(b),
                            b.hold_expires_at
                                .map(|h| schedule::clock(tz, h))
                                .unwrap_or_default()
                        ),
                        _ => format!("{} — {}", names.customer(b), names.what(b)),
                    };
                    return DayCell::Booking {
                        id: BookingId(b.id),
                        status: b.status,
                        label,
                        first: b.starts_at >= t && b.starts_at < t + unit,
                        cleanup: t >= b.ends_at,
                    };
                }
                if let Some(c) = day.closure(res.id, cell_span) {
                    return DayCell::Closed {
                        reason: if c.reason.is_empty() {
                            "closed".to_owned()
                        } else {
                            c.reason.clone()
                        },
                    };
                }
                if day.in_break(res.id, cell_span) {
                    return DayCell::Break;
                }
                if day.in_hours(res.id, cell_span) {
                    DayCell::Free
                } else {
                    DayCell::Off
                }
            })
            .collect();
        grid_rows.push(DayRow {
            time: schedule::clock(tz, t),
            until: schedule::clock(tz, t + unit),
            start: schedule::to_datetime(t),
            now: t <= now && now < t + unit,
            cells,
        });
        t += unit;
    }
    let bookings = rows
        .iter()
        .filter(|r| r.status != BookingStatus::Expired)
        .map(|r| DayBooking {
            id: BookingId(r.id),
            status: r.status,
            time: format!(
                "{}–{}",
                schedule::clock(tz, r.starts_at),
                schedule::clock(tz, r.ends_at)
            ),
            customer: names.customer(r),
            what: names.what(r),
            with: names.with(used.get(&r.id).map(Vec::as_slice).unwrap_or(&[])),
            status_label: match (r.status, r.cancelled_by.as_deref()) {
                (BookingStatus::Held, _) => format!(
                    "held until {}",
                    r.hold_expires_at
                        .map(|h| schedule::clock(tz, h))
                        .unwrap_or_default()
                ),
                (BookingStatus::Cancelled, Some("venue")) => "cancelled by the venue".to_owned(),
                (BookingStatus::Cancelled, _) => "cancelled by the customer".to_owned(),
                (BookingStatus::NoShow, _) => "no-show".to_owned(),
                (s, _) => s.as_str().to_owned(),
            },
        })
        .collect();
    let resource_names: HashMap<i64, String> = names
        .resources
        .iter()
        .map(|(id, r)| (*id, r.name.clone()))
        .collect();
    Ok(DayView {
        venue: VenueId(v.id),
        venue_name: v.name.clone(),
        date,
        date_label: date.format("%A %-d %B %Y").to_string(),
        resources: resources
            .iter()
            .map(|r| (ResourceId(r.id), r.name.clone()))
            .collect(),
        rows: grid_rows,
        bookings,
        closures: day
            .closures()
            .iter()
            .map(|c| closure_view(c, tz, &resource_names))
            .collect(),
        services: tx
            .services(v.id)
            .await?
            .into_iter()
            .filter(|s| s.active)
            .map(|s| (ServiceId(s.id), s.name))
            .collect(),
        tables: v.seating_minutes.is_some(),
        form_key: format!("staff-{:024x}", rand::random::<u128>() >> 32),
        waitlist: {
            let rows = tx.entries_on(v.id, &date.to_string()).await?;
            entry_views(tx, rows, true, now).await?
        },
    })
}
