//! Bookings, holds, and the ways a booking attempt can fail.

use super::ids::{BookingId, ResourceId, ServiceId, UserId, VenueId};
use super::input::{IdempotencyKey, InvalidInput, PartySize};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The life of a booking. Only `Held` and `Confirmed` occupy time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Reserved for a few minutes while the customer confirms.
    Held,
    Confirmed,
    Cancelled,
    Completed,
    NoShow,
    /// A hold whose time ran out before it was confirmed.
    Expired,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Held => "held",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Completed => "completed",
            BookingStatus::NoShow => "no_show",
            BookingStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "held" => BookingStatus::Held,
            "confirmed" => BookingStatus::Confirmed,
            "cancelled" => BookingStatus::Cancelled,
            "completed" => BookingStatus::Completed,
            "no_show" => BookingStatus::NoShow,
            "expired" => BookingStatus::Expired,
            _ => return None,
        })
    }

    /// Whether a booking in this status holds claims on its resources.
    pub fn is_live(self) -> bool {
        matches!(self, BookingStatus::Held | BookingStatus::Confirmed)
    }
}

impl fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is being booked: a treatment, or a table for a party.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Offer {
    Service(ServiceId),
    Table(PartySize),
}

/// A start time as requests give it (RFC 3339, any offset), in UTC.
pub fn parse_start(s: &str) -> Result<DateTime<Utc>, InvalidInput> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            InvalidInput::new(
                "start",
                "Choose a time from the grid (a start is a time like 2026-06-02T09:00:00Z).",
            )
        })
}

impl Offer {
    /// The offer a request names: a service or a party size, exactly one.
    /// `field` is the name the caller's input gives the service (the page
    /// form's `service`, the API's `service_id`), for the error.
    pub fn parse(
        service: Option<i64>,
        party_size: Option<i64>,
        field: &'static str,
    ) -> Result<Offer, InvalidInput> {
        match (service, party_size) {
            (Some(s), None) => Ok(Offer::Service(ServiceId(s))),
            (None, Some(p)) => Ok(Offer::Table(PartySize::parse(p)?)),
            _ => Err(InvalidInput::new(
                field,
                "Choose a treatment or a party size (one of them).",
            )),
        }
    }
}

/// Which resource: one the customer chose, or the engine's best pick
/// ("any therapist"; for tables, the smallest that seats the party).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceChoice {
    Any,
    Specific(ResourceId),
}

impl ResourceChoice {
    /// A resource the request names, or any.
    pub fn from_id(resource: Option<i64>) -> ResourceChoice {
        resource.map_or(ResourceChoice::Any, |r| {
            ResourceChoice::Specific(ResourceId(r))
        })
    }
}

/// A request to hold or book a time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRequest {
    pub customer: UserId,
    pub venue: VenueId,
    pub offer: Offer,
    pub resource: ResourceChoice,
    pub start: DateTime<Utc>,
    pub idempotency_key: IdempotencyKey,
}

/// A booking or hold as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Booking {
    pub id: BookingId,
    pub customer: UserId,
    pub venue: VenueId,
    pub service: Option<ServiceId>,
    pub party_size: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The end of the cleanup buffer: the resources are claimed until then.
    pub occupied_until: DateTime<Utc>,
    pub status: BookingStatus,
    pub hold_expires_at: Option<DateTime<Utc>>,
    /// Sorted by id; a treatment that needs a room has its therapist and room.
    pub resources: Vec<ResourceId>,
    /// Set when staff cancelled it: "venue"; when the customer did: "customer".
    pub cancelled_by: Option<String>,
    pub version: i64,
    /// The treatment's price when it was booked, in minor units of
    /// `currency` (6500 is 65.00); none for a table or an unpriced treatment.
    pub price_cents: Option<i64>,
    /// ISO 4217, e.g. "EUR", with a price.
    pub currency: Option<String>,
    /// What the customer told the venue when confirming.
    pub note: Option<String>,
    pub phone: Option<String>,
}

/// What a customer tells the venue with a booking, checked
/// (`input::parse_note`, `input::parse_phone`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactDetails {
    pub note: Option<String>,
    pub phone: Option<String>,
}

impl ContactDetails {
    pub fn parse(
        note: Option<&str>,
        phone: Option<&str>,
    ) -> Result<Self, super::input::InvalidInput> {
        Ok(Self {
            note: super::input::parse_note(note)?,
            phone: super::input::parse_phone(phone)?,
        })
    }
}

/// Why an alternative is offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlternativeKind {
    /// The same resource, the nearest free start earlier that day.
    Earlier,
    /// The same resource, the nearest free start later that day.
    Later,
    /// Another suitable resource at the requested time.
    OtherResource,
    /// The same time on the next day it is free.
    NextOpenDay,
}

impl AlternativeKind {
    /// How a button names it: "earlier", "same time".
    pub fn word(self) -> &'static str {
        match self {
            AlternativeKind::Earlier => "earlier",
            AlternativeKind::Later => "later",
            AlternativeKind::OtherResource => "same time",
            AlternativeKind::NextOpenDay => "next day",
        }
    }
}

/// A free time offered when the requested one was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Alternative {
    pub kind: AlternativeKind,
    pub start: DateTime<Utc>,
    pub resource: ResourceId,
    pub resource_name: String,
    /// The start in the venue's time, for people: "Tuesday 2 June, 10:00".
    pub label: String,
}

/// A rule of the venue that a request broke. Each message says what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RuleViolation {
    #[error("That venue does not exist.")]
    UnknownVenue,
    #[error("That service is not offered here.")]
    UnknownService,
    #[error("That resource is not bookable here.")]
    UnknownResource,
    #[error("This therapist does not offer that service.")]
    ServiceNotOffered,
    #[error("Bookings start on the venue's {grid_minutes}-minute grid.")]
    OffGrid { grid_minutes: i64 },
    #[error("That time is outside the opening hours.")]
    OutsideHours,
    #[error("The venue is closed then.")]
    Closed,
    #[error("That is too soon: the earliest bookable time is {earliest}.")]
    TooSoon { earliest: DateTime<Utc> },
    #[error("That is too far ahead: bookings open up to {latest}.")]
    TooFarAhead { latest: DateTime<Utc> },
    #[error("No table here seats a party of {party_size}; the largest seats {largest}.")]
    PartyTooLarge { party_size: i64, largest: i64 },
    #[error("That table seats {capacity}, fewer than the party of {party_size}.")]
    TableTooSmall { capacity: i64, party_size: i64 },
    #[error("This venue takes {expected} bookings.")]
    WrongOffer { expected: String },
}

/// Why a booking operation did not happen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum BookingError {
    /// Someone else holds or booked this time; here are free ones nearby.
    #[error("That time was just taken by someone else.")]
    SlotTaken { alternatives: Vec<Alternative> },
    #[error("{0}")]
    Rejected(RuleViolation),
    /// No such booking, or not this customer's (the two look the same).
    #[error("That booking was not found.")]
    NotFound,
    #[error("The hold has expired; the time may since have been taken.")]
    HoldExpired,
    /// A hold is confirmed or given up, not moved.
    #[error("A hold cannot be moved: confirm it first, or release it and hold another time.")]
    HoldNotMovable,
    /// A reschedule to the time and resource the booking already has.
    #[error("That is already this booking's time; choose another.")]
    SameTime,
    /// The customer holds as many times here as the venue allows at once.
    #[error("You are already holding {limit} time(s) here, the most at once: confirm or release one first.")]
    HoldLimit { limit: i64 },
    /// The customer has as many upcoming bookings here (holds included)
    /// as the venue takes from one customer.
    #[error("You already have {limit} upcoming booking(s) here, the most this venue takes from one customer: cancel one first, or contact the venue.")]
    BookingLimit { limit: i64 },
    #[error("That booking is {status} and can no longer be changed.")]
    NotChangeable { status: BookingStatus },
    #[error("Cancellation closed at {deadline}; please contact the venue.")]
    CancellationClosed { deadline: DateTime<Utc> },
    /// The idempotency key was first sent with another request (another
    /// time, resource, treatment, venue, or a hold instead of a booking).
    #[error("This idempotency key was already used for a different request; send a new key to book something else.")]
    IdempotencyMismatch,
    /// The key's booking has since been cancelled or has lapsed: answering
    /// it again would tell the customer they hold a time they do not.
    #[error("This request was already made, and its booking is {status} now; send a new idempotency key to book again.")]
    IdempotencyKeySpent { status: BookingStatus },
    /// The database stayed busy through every retry.
    #[error("We are very busy right now; please try again.")]
    Busy,
    /// Logged where it happened; the customer sees only this sentence.
    #[error("Something went wrong on our side; please try again.")]
    Internal,
}

impl From<RuleViolation> for BookingError {
    fn from(v: RuleViolation) -> Self {
        BookingError::Rejected(v)
    }
}

/// A start time on the slot picker, with the resources free then. A start
/// whose list is empty is taken: shown as taken, not hidden.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlotView {
    pub start: DateTime<Utc>,
    /// The venue's wall-clock time: "10:15".
    pub time: String,
    /// The full name for people and screen readers: "Tuesday 2 June, 10:15".
    pub label: String,
    pub free: Vec<ResourceId>,
}

/// The grid of start times for one venue, day and service or party size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Availability {
    pub venue: VenueId,
    pub date: chrono::NaiveDate,
    pub grid_minutes: i64,
    /// The suitable resources, in the order the engine prefers them.
    pub resources: Vec<super::venue::ResourceSummary>,
    pub slots: Vec<SlotView>,
    /// The stretches inside the day's hours when none of the suitable
    /// resources works: breaks and closures, shown as gaps between times.
    pub gaps: Vec<GapView>,
}

/// A stretch of a day with no start times: a break, or a closure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GapView {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// "12:00 to 13:00" in the venue's time.
    pub label: String,
    pub kind: GapKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// Nobody suitable works then (a break between hours).
    Break,
    /// The venue, or every suitable resource, is closed then.
    Closed,
}

impl GapKind {
    pub fn word(self) -> &'static str {
        match self {
            GapKind::Break => "Break",
            GapKind::Closed => "Closed",
        }
    }
}
