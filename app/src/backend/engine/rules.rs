//! The venue's time rules: the grid, the minimum notice, the advance
//! window; whose rules apply (a customer's or staff's); the venue's zone.

use crate::domain::booking::RuleViolation;
use crate::domain::ids::UserId;
use crate::domain::schedule;
use chrono_tz::Tz;

use super::failure::Failure;
use crate::backend::store::VenueRow;

/// A hold (claimed until it lapses unless confirmed) or a booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Hold,
    Book,
}

/// Whose rules a booking follows. Staff book for customers (a phone call,
/// a walk-in): the minimum notice and the advance window do not apply to
/// them, but the past, the grid, the hours and the claims do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rules {
    Customer,
    /// Booked by this staff member; audited in the booking's transaction.
    Staff {
        by: UserId,
    },
}

pub(crate) fn venue_zone(venue: &VenueRow) -> Result<Tz, Failure> {
    venue.timezone.parse::<Tz>().map_err(|_| {
        tracing::error!(venue = venue.id, zone = %venue.timezone, "venue has an unknown time zone");
        Failure::Refused(crate::domain::booking::BookingError::Internal)
    })
}

/// The earliest and latest bookable starts at `venue` as of `now`.
pub(crate) fn bookable_range(venue: &VenueRow, now: i64) -> (i64, i64) {
    (
        now + venue.min_notice_minutes * 60,
        now + venue.advance_days * 86_400,
    )
}

pub(crate) fn check_time_rules(
    venue: &VenueRow,
    now: i64,
    start: i64,
    rules: Rules,
) -> Result<(), Failure> {
    let unit = venue.grid_minutes * 60;
    if !schedule::is_on_grid(start, unit) {
        return Err(RuleViolation::OffGrid {
            grid_minutes: venue.grid_minutes,
        }
        .into());
    }
    let (earliest, latest) = match rules {
        Rules::Customer => bookable_range(venue, now),
        // Staff may book the unit under way (a walk-in) and any later one.
        Rules::Staff { .. } => (now - now.rem_euclid(unit), i64::MAX),
    };
    if start < earliest {
        return Err(RuleViolation::TooSoon {
            earliest: schedule::to_datetime(schedule::ceil_to_grid(earliest, unit)),
        }
        .into());
    }
    if start > latest {
        return Err(RuleViolation::TooFarAhead {
            latest: schedule::to_datetime(latest),
        }
        .into());
    }
    Ok(())
}
