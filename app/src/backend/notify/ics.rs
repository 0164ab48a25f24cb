//! A booking as an iCalendar file (RFC 5545), for the customer's calendar:
//! attached to its messages and served for download.

use crate::domain::views::BookingView;
use chrono::{DateTime, Duration, Utc};
use icalendar::{Alarm, Calendar, Component, EventLike, EventStatus, Trigger};

/// How a calendar file speaks of its booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CalendarUse {
    /// The booking as it is now (added, or updated, in the calendar).
    Publish,
    /// The booking was cancelled: calendars that have it drop it.
    Cancel,
}

/// The calendar file of a booking: one event with a stable UID (so a
/// later file, mailed or downloaded, replaces an earlier one), the venue
/// as its location, and a
/// reminder `remind_before` its start (none for a cancellation).
/// `sequence` orders the files of one booking (its version): a later one
/// is never lower.
pub fn calendar_file(
    v: &BookingView,
    how: CalendarUse,
    sequence: i64,
    remind_before: Option<Duration>,
    stamp: DateTime<Utc>,
) -> String {
    let mut event = icalendar::Event::with_uid(&format!("booking-{}@slotkeeper", v.booking.id));
    event
        .timestamp(stamp)
        .starts(v.booking.start)
        .ends(v.booking.end)
        .summary(&format!("{} at {}", v.what, v.venue_name))
        .location(&v.venue_line())
        .description(&format!(
            "{} with {}, {}. Free cancellation until {}.",
            v.what,
            v.with,
            v.length_and_price(),
            v.cancel_until_label
        ))
        .sequence(u32::try_from(sequence.max(0)).unwrap_or(u32::MAX));
    match how {
        CalendarUse::Publish => {
            event.status(EventStatus::Confirmed);
            if let Some(before) = remind_before {
                event.alarm(Alarm::display(
                    &format!("{} at {}", v.what, v.venue_name),
                    Trigger::before_start(before),
                ));
            }
        }
        CalendarUse::Cancel => {
            event.status(EventStatus::Cancelled);
        }
    }
    // Its own header lines: `Calendar::new` would add a PRODID of its own.
    let mut calendar = Calendar::empty();
    for (key, value) in [
        ("VERSION", "2.0"),
        ("PRODID", "-//Slotkeeper//Bookings//EN"),
        ("CALSCALE", "GREGORIAN"),
        (
            "METHOD",
            match how {
                CalendarUse::Publish => "PUBLISH",
                CalendarUse::Cancel => "CANCEL",
            },
        ),
    ] {
        calendar.append_property(icalendar::Property::new(key, value));
    }
    calendar.push(event.done());
    calendar.done().to_string()
}
