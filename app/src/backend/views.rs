//! Read models for pages: bookings and venues with the names people read,
//! times in the venue's zone.

use crate::domain::booking::{Booking, BookingStatus};
use crate::domain::schedule;
use crate::domain::views::{BookingView, DayChoice, VenuePage};
use chrono_tz::Tz;
use std::collections::HashMap;

use super::catalog;
use super::db::{with_backend, Backend, Db};
use super::store::{DbResult, MessageKind, MessageRow, MessageState, VenueRow};
use crate::backend::store::prelude::*;

/// How a venue's time is shown.
fn zone(v: &VenueRow) -> Tz {
    v.timezone.parse().unwrap_or(chrono_tz::UTC)
}

/// A venue's booking page: what it offers and the days open for booking.
pub async fn venue_page(db: &Db, venue: i64, now: i64) -> DbResult<Option<VenuePage>> {
    let Some(row) = with_backend!(db, |b| {
        let mut tx = b.begin_read().await?;
        tx.venue(venue).await?
    }) else {
        return Ok(None);
    };
    let Some(overview) = catalog::overview(db)
        .await?
        .into_iter()
        .find(|v| v.id.0 == venue)
    else {
        return Ok(None);
    };
    let tz = zone(&row);
    let first = schedule::local_date(tz, now + row.min_notice_minutes * 60);
    let last = schedule::local_date(tz, now + row.advance_days * 86_400);
    let days = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|date| DayChoice {
            date,
            label: date.format("%a %-d %b").to_string(),
        })
        .collect();
    Ok(Some(VenuePage {
        venue: overview,
        hold_minutes: row.hold_minutes,
        days,
        // The page puts in its own (`crate::one_time::nonce`).
        nonce: String::new(),
    }))
}

/// Bookings with names, times and what the customer may still do.
pub async fn booking_views(
    db: &Db,
    bookings: Vec<Booking>,
    now: i64,
) -> DbResult<Vec<BookingView>> {
    with_backend!(db, |b| {
        let mut tx = b.begin_read().await?;
        let mut venues: HashMap<i64, VenueRow> = HashMap::new();
        let mut names: HashMap<i64, String> = HashMap::new();
        let mut services: HashMap<i64, String> = HashMap::new();
        let mut out = Vec::with_capacity(bookings.len());
        for booking in bookings {
            let venue_id = booking.venue.0;
            if !venues.contains_key(&venue_id) {
                let Some(v) = tx.venue(venue_id).await? else {
                    continue;
                };
                for r in tx.resources(venue_id).await? {
                    names.insert(r.id, r.name);
                }
                for s in tx.services(venue_id).await? {
                    services.insert(s.id, s.name);
                }
                venues.insert(venue_id, v);
            }
            let venue = &venues[&venue_id];
            let tz = zone(venue);
            let what = match (booking.service, booking.party_size) {
                (Some(s), _) => services.get(&s.0).cloned().unwrap_or_default(),
                (None, Some(p)) => format!("Table for {p}"),
                (None, None) => String::new(),
            };
            let with = booking
                .resources
                .iter()
                .filter_map(|r| names.get(&r.0).cloned())
                .collect::<Vec<_>>()
                .join(", ");
            let start = booking.start.timestamp();
            let cancel_until = start - venue.cancellation_window_minutes * 60;
            let status_label = match (booking.status, booking.cancelled_by.as_deref()) {
                (BookingStatus::Cancelled, Some("venue")) => "cancelled by the venue".to_owned(),
                (BookingStatus::NoShow, _) => "no-show".to_owned(),
                (BookingStatus::Held, _) => "held, not yet confirmed".to_owned(),
                (s, _) => s.as_str().to_owned(),
            };
            out.push(BookingView {
                venue_id,
                venue_name: venue.name.clone(),
                what,
                with,
                when: schedule::label(tz, start),
                hold_expires_label: booking
                    .hold_expires_at
                    .map(|t| schedule::clock(tz, t.timestamp())),
                cancel_until_label: schedule::label(tz, cancel_until),
                cancel_until: schedule::to_datetime(cancel_until),
                cancel_open: now <= cancel_until,
                status_label,
                upcoming: booking.end.timestamp() > now,
                span_label: {
                    let end = booking.end.timestamp();
                    format!(
                        "{} to {}, {} minutes",
                        schedule::clock(tz, start),
                        schedule::clock(tz, end),
                        (end - start) / 60
                    )
                },
                times_link: times_link(venue_id, &booking, tz),
                price_label: booking
                    .price_cents
                    .zip(booking.currency.as_deref())
                    .map(|(cents, currency)| crate::domain::money::format(cents, currency)),
                venue_address: venue.address.clone(),
                hold_lapsed: booking.status == BookingStatus::Held
                    && booking
                        .hold_expires_at
                        .is_some_and(|t| t.timestamp() <= now),
                booking,
            });
        }
        Ok(out)
    })
}

/// The grid `booking` was chosen from (see `BookingView::times_link`).
fn times_link(venue: i64, booking: &crate::domain::booking::Booking, tz: Tz) -> String {
    let mut link = format!("/venues/{venue}?");
    match (booking.service, booking.party_size) {
        // The therapist too; a table is left to the venue's choice again.
        (Some(s), _) => {
            link.push_str(&format!("service={}&", s.0));
            if let Some(r) = booking.resources.first() {
                link.push_str(&format!("resource={}&", r.0));
            }
        }
        (None, Some(p)) => link.push_str(&format!("party={p}&")),
        (None, None) => {}
    }
    let day = booking.start.with_timezone(&tz).date_naive();
    link.push_str(&format!("date={}", day.format("%Y-%m-%d")));
    link
}

/// A venue's time zone, if the venue exists.
pub async fn venue_zone(db: &Db, venue: i64) -> DbResult<Option<Tz>> {
    let row = with_backend!(db, |b| {
        let mut tx = b.begin_read().await?;
        tx.venue(venue).await?
    });
    Ok(row.map(|v| zone(&v)))
}

/// A message as staff read it, times in the venue's zone `tz`.
pub fn message_line(m: &MessageRow, tz: chrono_tz::Tz) -> crate::domain::admin::MessageLine {
    let what = match m.kind {
        MessageKind::Booked => "Booking confirmed",
        MessageKind::Confirmed => "Hold confirmed",
        MessageKind::Cancelled => "Cancelled by the customer",
        MessageKind::VenueCancelled => "Cancelled by the venue",
        MessageKind::Rescheduled => "Rescheduled by the customer",
        MessageKind::Moved => "Moved by the venue",
        MessageKind::Reminder => "Reminder",
        MessageKind::WaitlistOffer => "Waitlist offer",
    };
    let state = match m.state {
        MessageState::Sent => "sent".to_owned(),
        MessageState::Pending if m.attempts == 0 => "waiting to be sent".to_owned(),
        MessageState::Pending => format!(
            "not sent yet: will try again at {}",
            schedule::clock(tz, m.due_at)
        ),
        MessageState::Dead => format!("could not be sent ({} attempts)", m.attempts),
        MessageState::Dropped => "not needed: the booking changed first".to_owned(),
    };
    crate::domain::admin::MessageLine {
        what: what.to_owned(),
        state,
        undelivered: m.state == MessageState::Dead,
        written_label: schedule::label(tz, m.created_at),
        sent_label: m.sent_at.map(|t| schedule::label(tz, t)),
        attempts: m.attempts,
        error: m.last_error.clone(),
    }
}
