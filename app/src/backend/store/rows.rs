//! The rows the statements read and write. A status, kind or role is
//! read from its text column and written back as text here and nowhere
//! else: the rest of the code sees only the enums.

use crate::domain::admin::Role;
use crate::domain::booking::BookingStatus;
use crate::domain::venue::ResourceKind;
use sqlx::FromRow;

/// A status, kind or role the database holds that the code does not know:
/// a row written by something else. Reading it fails, and is logged as
/// any database error is.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} {value:?} in the database")]
pub struct UnknownName {
    pub(super) what: &'static str,
    pub(super) value: String,
}

macro_rules! read_by_name {
    ($ty:ty, $what:literal) => {
        impl TryFrom<String> for $ty {
            type Error = $crate::backend::store::UnknownName;
            fn try_from(value: String) -> Result<Self, $crate::backend::store::UnknownName> {
                <$ty>::parse(&value)
                    .ok_or($crate::backend::store::UnknownName { what: $what, value })
            }
        }
    };
}
pub(super) use read_by_name;

read_by_name!(BookingStatus, "booking status");
read_by_name!(ResourceKind, "resource kind");
read_by_name!(Role, "role");

/// Where a booking that let go of its time had it.
#[derive(Clone, Copy, Debug, FromRow)]
pub struct Freed {
    pub venue_id: i64,
    pub starts_at: i64,
}

#[derive(Clone, Debug, FromRow)]
pub struct VenueRow {
    pub id: i64,
    pub name: String,
    pub timezone: String,
    pub grid_minutes: i64,
    pub hold_minutes: i64,
    pub cancellation_window_minutes: i64,
    pub min_notice_minutes: i64,
    pub advance_days: i64,
    pub seating_minutes: Option<i64>,
    /// The most live holds one customer may have here at once.
    pub max_holds_per_customer: i64,
    /// The most upcoming bookings (live holds included) one customer may
    /// have here at once.
    pub max_upcoming_per_customer: i64,
    pub version: i64,
    /// Moves on with every set-up change of the venue (see `lock_venue`).
    pub setup_version: i64,
    /// ISO 4217, e.g. "EUR": what its prices are in.
    pub currency: String,
    /// Where it is, as people write it; empty when not given.
    pub address: String,
    /// How long before a booking its customer is reminded (0: never).
    pub reminder_minutes: i64,
    /// How long a waitlist offer is held for its customer.
    pub offer_minutes: i64,
}

#[derive(Clone, Debug, FromRow)]
pub struct ResourceRow {
    pub id: i64,
    pub venue_id: i64,
    #[sqlx(try_from = "String")]
    pub kind: ResourceKind,
    pub name: String,
    pub capacity: Option<i64>,
    pub active: bool,
    pub version: i64,
}

#[derive(Clone, Debug, FromRow)]
pub struct ServiceRow {
    pub id: i64,
    pub venue_id: i64,
    pub name: String,
    pub duration_minutes: i64,
    pub cleanup_minutes: i64,
    pub needs_room: bool,
    pub active: bool,
    pub version: i64,
    /// In the venue's currency's minor units; none when not shown.
    pub price_cents: Option<i64>,
    pub description: String,
}

#[derive(Clone, Debug, FromRow)]
pub struct BookingRow {
    pub id: i64,
    pub customer_id: i64,
    pub venue_id: i64,
    pub service_id: Option<i64>,
    pub party_size: Option<i64>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub occupied_until: i64,
    #[sqlx(try_from = "String")]
    pub status: BookingStatus,
    pub hold_expires_at: Option<i64>,
    pub cancelled_by: Option<String>,
    pub version: i64,
    pub created_at: i64,
    /// What the idempotency key was first used for (see `NewBooking`).
    pub request: Option<String>,
    /// The treatment's price when it was booked, and its currency.
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    /// What the customer told the venue when confirming.
    pub note: Option<String>,
    pub phone: Option<String>,
}

#[derive(Clone, Debug, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// Attempts in a window (failed log-ins, sign-ups): how many, and the
/// oldest one's time.
#[derive(Clone, Debug, FromRow)]
pub struct FailureCount {
    pub failures: i64,
    pub oldest: Option<i64>,
}

/// A row of the weekly timetable: hours or a break.
#[derive(Clone, Debug, FromRow)]
pub struct WeeklyRow {
    pub resource_id: i64,
    pub from_minute: i64,
    pub to_minute: i64,
}

#[derive(Clone, Debug, FromRow)]
pub struct ClosureRow {
    pub id: i64,
    pub venue_id: i64,
    pub resource_id: Option<i64>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub reason: String,
}

/// A window of one resource's weekly timetable, for the editor.
#[derive(Clone, Debug, FromRow)]
pub struct WeeklyEntry {
    pub weekday: i64,
    pub from_minute: i64,
    pub to_minute: i64,
    pub is_break: bool,
}

/// A staff change, as the audit trail keeps it.
#[derive(Clone, Debug, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor_id: i64,
    pub actor_name: String,
    pub venue_id: i64,
    pub resource_id: Option<i64>,
    pub service_id: Option<i64>,
    pub booking_id: Option<i64>,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct NewAudit<'a> {
    pub at: i64,
    pub actor_id: i64,
    pub venue_id: i64,
    pub resource_id: Option<i64>,
    pub service_id: Option<i64>,
    pub booking_id: Option<i64>,
    pub action: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One counter of `venue_hourly_stats`.
#[derive(Clone, Debug, FromRow)]
pub struct StatRow {
    pub venue_id: i64,
    pub hour_start: i64,
    pub kind: String,
    pub count: i64,
}

/// A staff member or admin, for the admin's staff page.
#[derive(Clone, Debug, FromRow)]
pub struct StaffRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
}

#[derive(Clone, Debug, FromRow)]
pub struct ClaimRow {
    pub booking_id: i64,
    pub resource_id: i64,
    pub unit_start: i64,
    /// The hold's expiry when the claim is a hold's; none for a booking.
    pub held_until: Option<i64>,
    /// Whose claim it is: the booking's customer and idempotency key.
    pub customer_id: i64,
    pub idempotency_key: String,
}

/// Two live bookings that share time on one resource. The invariant says
/// there are none.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Overlap {
    pub resource_id: i64,
    pub first_booking: i64,
    pub second_booking: i64,
}

#[derive(Clone, Debug)]
pub struct NewBooking<'a> {
    pub customer_id: i64,
    pub venue_id: i64,
    pub service_id: Option<i64>,
    pub party_size: Option<i64>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub occupied_until: i64,
    pub status: BookingStatus,
    pub hold_expires_at: Option<i64>,
    pub idempotency_key: &'a str,
    /// The request the key stands for: a repeat with the same key must ask
    /// for the same thing.
    pub request: &'a str,
    pub now: i64,
    /// The price it is made at, in minor units of `currency`.
    pub price_cents: Option<i64>,
    pub currency: Option<&'a str>,
}

#[derive(Clone, Debug)]
pub struct NewVenueRow<'a> {
    pub name: &'a str,
    pub timezone: &'a str,
    pub grid_minutes: i64,
    pub hold_minutes: i64,
    pub cancellation_window_minutes: i64,
    pub min_notice_minutes: i64,
    pub advance_days: i64,
    pub seating_minutes: Option<i64>,
    pub currency: &'a str,
    pub address: &'a str,
}

pub(super) const VENUE_COLUMNS: &str =
    "id, name, timezone, grid_minutes, hold_minutes, cancellation_window_minutes, \
     min_notice_minutes, advance_days, seating_minutes, max_holds_per_customer, \
     max_upcoming_per_customer, version, setup_version, currency, address, reminder_minutes, \
     offer_minutes";

pub(super) const BOOKING_COLUMNS: &str =
    "id, customer_id, venue_id, service_id, party_size, starts_at, \
     ends_at, occupied_until, status, hold_expires_at, cancelled_by, version, created_at, request, \
     price_cents, currency, note, phone";
