//! The waitlist as customers, staff and the API see it: a wish for a full
//! day (a treatment or a table, perhaps one therapist or table, perhaps a
//! range of start times), its place in line, and what became of it.

use super::ids::{BookingId, ResourceId, ServiceId, VenueId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The most live (waiting or offered) entries one customer may have at a
/// venue at once.
pub const MAX_ENTRIES_PER_CUSTOMER: i64 = 5;

/// Where an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WaitlistState {
    /// In line for a time to free up.
    Waiting,
    /// A freed time is held for the customer to confirm (`hold`).
    Offered,
    /// The customer confirmed the offered time.
    Booked,
    /// The offer ran out or was let go; the time went to the next in line.
    Lapsed,
    /// The customer took themselves off the line.
    Left,
}

impl WaitlistState {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitlistState::Waiting => "waiting",
            WaitlistState::Offered => "offered",
            WaitlistState::Booked => "booked",
            WaitlistState::Lapsed => "lapsed",
            WaitlistState::Left => "left",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            WaitlistState::Waiting,
            WaitlistState::Offered,
            WaitlistState::Booked,
            WaitlistState::Lapsed,
            WaitlistState::Left,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Waiting or offered: the entry still holds its place.
    pub fn is_live(self) -> bool {
        matches!(self, WaitlistState::Waiting | WaitlistState::Offered)
    }
}

/// One entry of the waitlist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WaitlistEntry {
    pub id: i64,
    pub venue: VenueId,
    pub venue_name: String,
    pub service: Option<ServiceId>,
    pub party_size: Option<i64>,
    /// None: anyone who can do it.
    pub resource: Option<ResourceId>,
    /// "Full body massage" or "Table for 4".
    pub what: String,
    /// "Anna", or "anyone" when no one was asked for.
    pub with: String,
    /// The day, in the venue's calendar.
    pub date: NaiveDate,
    /// "Tuesday 2 June".
    pub day_label: String,
    /// The earliest and latest start wanted, "09:00" and "24:00" for the
    /// whole day.
    pub from: String,
    pub to: String,
    pub state: WaitlistState,
    /// Whether the day has passed (an entry still waiting then waits for
    /// nothing).
    pub past: bool,
    /// How many wait ahead of it on its day, while it waits.
    pub ahead: Option<i64>,
    /// The hold offered, while offered (and what it became after).
    pub hold: Option<BookingId>,
    /// Until when the offered time is held.
    pub hold_expires_at: Option<DateTime<Utc>>,
    /// "Tuesday 2 June, 10:30, held for you until 11:40": the offer, while offered.
    pub offer_label: Option<String>,
    /// What the entry's state means, in words.
    pub status_label: String,
    pub joined_at: DateTime<Utc>,
    /// For staff: who is waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
}

impl WaitlistEntry {
    /// "10:00 to 13:00", or "any time" for the whole day.
    pub fn range_label(&self) -> String {
        if self.from == "00:00" && self.to == "24:00" {
            "any time".to_owned()
        } else {
            format!("starting {} to {}", self.from, self.to)
        }
    }
}

/// What a customer asks to wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wish {
    pub customer: super::ids::UserId,
    pub venue: VenueId,
    pub offer: super::booking::Offer,
    pub resource: super::booking::ResourceChoice,
    pub date: NaiveDate,
    /// The earliest and latest start, in minutes from the day's midnight
    /// (0 and 1440 for the whole day).
    pub from_minute: i64,
    pub to_minute: i64,
}

impl Wish {
    /// The range of starts from the forms' and the API's "HH:MM" texts
    /// (either may be left out: the day's start, or its end).
    pub fn range(
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<(i64, i64), super::input::InvalidInput> {
        use super::input::InvalidInput;
        let read = |field: &'static str, text: Option<&str>, default: i64| match text
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => Ok(default),
            Some(t) => super::admin::parse_clock(t)
                .ok_or_else(|| InvalidInput::new(field, "Give a time like 09:30.")),
        };
        let from_minute = read("from", from, 0)?;
        let to_minute = read("to", to, 24 * 60)?;
        if from_minute > to_minute {
            return Err(InvalidInput::new(
                "to",
                "The latest start is not before the earliest.",
            ));
        }
        Ok((from_minute, to_minute))
    }
}
