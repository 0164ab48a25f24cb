//! What pages show: shapes the server fills and the browser renders.

use super::booking::{Availability, Booking, BookingStatus};
use super::venue::VenueOverview;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The signed-in user, as the header shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub name: String,
    pub email: String,
    pub is_staff: bool,
}

/// A day a customer can pick: the date and its name ("Tue 2 Jun").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayChoice {
    pub date: NaiveDate,
    pub label: String,
}

/// A venue's booking page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenuePage {
    pub venue: VenueOverview,
    pub hold_minutes: i64,
    /// Today and the following days within the advance window.
    pub days: Vec<DayChoice>,
    /// Fresh at each load: makes the idempotency keys of the one-click
    /// alternatives unique to this visit of the page.
    pub nonce: String,
}

/// How a day of the month calendar looks for the chosen treatment or party.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DayState {
    /// Some start times are free.
    Free,
    /// Open, but every start time is taken or already past.
    Full,
    /// Nobody who can do the job works that day.
    Closed,
    /// Before today or beyond the advance window.
    Unbookable,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    /// "Friday 4 December".
    pub label: String,
    pub state: DayState,
    pub free: usize,
}

impl CalendarDay {
    /// What a screen reader hears for the day: "Friday 4 December, 12 free times".
    pub fn spoken(&self) -> String {
        match self.state {
            DayState::Free if self.free == 1 => format!("{}, 1 free time", self.label),
            DayState::Free => format!("{}, {} free times", self.label, self.free),
            DayState::Full => format!("{}, no free times", self.label),
            DayState::Closed => format!("{}, closed", self.label),
            DayState::Unbookable => format!("{}, not open for booking", self.label),
        }
    }
}

/// The first free time after the chosen day: "Friday 4 December, 10:00".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextFree {
    pub date: NaiveDate,
    pub label: String,
}

/// A month of days to pick from, Monday first, for the chosen treatment or
/// party and therapist or table: which days have free times, which are
/// full or closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    /// "December 2026".
    pub title: String,
    /// Weeks of seven; `None` pads the days of the months around it.
    pub weeks: Vec<Vec<Option<CalendarDay>>>,
    /// A day to open in the previous and the next month, when either has
    /// bookable days.
    pub previous: Option<NaiveDate>,
    pub next: Option<NaiveDate>,
    pub next_free: Option<NextFree>,
}

impl Calendar {
    /// The month of `selected`, each day judged by `counts` (date, start
    /// times, free ones) of the days in `bookable` (first and last day).
    pub fn build(
        selected: NaiveDate,
        bookable: (NaiveDate, NaiveDate),
        counts: &[(NaiveDate, usize, usize)],
        next_free: Option<NextFree>,
    ) -> Calendar {
        use chrono::{Datelike, Months};
        let first = selected.with_day(1).unwrap_or(selected);
        let next_month = first.checked_add_months(Months::new(1)).unwrap_or(first);
        let lead = first.weekday().num_days_from_monday() as usize;
        let mut cells: Vec<Option<CalendarDay>> = vec![None; lead];
        for date in first.iter_days().take_while(|d| *d < next_month) {
            let (state, free) = match counts.iter().find(|c| c.0 == date) {
                _ if date < bookable.0 || date > bookable.1 => (DayState::Unbookable, 0),
                Some((_, _, free)) if *free > 0 => (DayState::Free, *free),
                Some((_, starts, _)) if *starts > 0 => (DayState::Full, 0),
                _ => (DayState::Closed, 0),
            };
            cells.push(Some(CalendarDay {
                date,
                label: date.format("%A %-d %B").to_string(),
                state,
                free,
            }));
        }
        while cells.len() % 7 != 0 {
            cells.push(None);
        }
        let previous_month = first.checked_sub_months(Months::new(1)).unwrap_or(first);
        let previous = (first > bookable.0).then(|| previous_month.max(bookable.0));
        let next = (next_month <= bookable.1).then(|| next_month.max(bookable.0));
        Calendar {
            title: first.format("%B %Y").to_string(),
            weeks: cells.chunks(7).map(<[_]>::to_vec).collect(),
            previous,
            next,
            next_free,
        }
    }

    /// The days of the month, in order.
    pub fn days(&self) -> impl Iterator<Item = &CalendarDay> {
        self.weeks.iter().flatten().flatten()
    }
}

/// The slot grid and the key its form carries, fresh at each render: a
/// double click or a resubmitted form repeats the key and finds the hold
/// already made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotGrid {
    pub availability: Availability,
    pub form_key: String,
    /// The choice the grid is for, defaults filled in: the first day with
    /// a free time, the first treatment, or a table for two.
    pub date: NaiveDate,
    pub service: Option<i64>,
    pub party: Option<i64>,
    pub resource: Option<i64>,
    /// The month of `date`, to pick another day.
    pub calendar: Calendar,
}

/// A booking or hold, with the names people read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingView {
    pub booking: Booking,
    pub venue_id: i64,
    pub venue_name: String,
    /// "Full body massage" or "Table for 4".
    pub what: String,
    /// "Anna, Treatment room 1".
    pub with: String,
    /// "Tuesday 2 June, 10:00" in the venue's time.
    pub when: String,
    /// The hold's expiry in the venue's time, for holds.
    pub hold_expires_label: Option<String>,
    /// Until when the customer may cancel, in the venue's time.
    pub cancel_until_label: String,
    pub cancel_until: DateTime<Utc>,
    /// Whether that time is still to come (a hold may be released anyway).
    pub cancel_open: bool,
    /// "cancelled by the venue" when staff cancelled it.
    pub status_label: String,
    pub upcoming: bool,
    /// "10:00 to 10:30, 30 minutes" in the venue's time: how long it
    /// lasts (for a table, how long the table is kept).
    pub span_label: String,
    /// A hold whose time ran out (the sweeper may not have expired it yet).
    pub hold_lapsed: bool,
    /// The venue's grid this booking was chosen from: its treatment (or
    /// party), therapist or table and day, e.g.
    /// `/venues/1?service=2&resource=3&date=2026-06-02`.
    pub times_link: String,
    /// "£75.00" when the booking has a price.
    pub price_label: Option<String>,
    /// The venue's address; may be empty.
    pub venue_address: String,
}

impl BookingView {
    /// "10:00 to 11:00, 60 minutes · £75.00": how long, and the price when
    /// there is one.
    pub fn length_and_price(&self) -> String {
        match &self.price_label {
            Some(p) => format!("{} · {p}", self.span_label),
            None => self.span_label.clone(),
        }
    }

    /// "Harbour Spa, 4 Mill Lane, Bath".
    pub fn venue_line(&self) -> String {
        if self.venue_address.is_empty() {
            self.venue_name.clone()
        } else {
            format!("{}, {}", self.venue_name, self.venue_address)
        }
    }

    pub fn is_held(&self) -> bool {
        self.booking.status == BookingStatus::Held
    }

    /// Whether the customer can cancel it (or release it) now.
    pub fn customer_may_cancel(&self) -> bool {
        match self.booking.status {
            BookingStatus::Held => true,
            BookingStatus::Confirmed => self.cancel_open,
            _ => false,
        }
    }

    /// Whether the customer can move it: a confirmed booking still to come,
    /// while it may still be cancelled (the engine decides again).
    pub fn customer_may_reschedule(&self) -> bool {
        self.booking.status == BookingStatus::Confirmed && self.cancel_open && self.upcoming
    }

    /// What the customer is told about cancelling.
    pub fn cancel_note(&self) -> String {
        match (self.cancel_open, self.is_held()) {
            (true, _) => format!("Free cancellation until {}.", self.cancel_until_label),
            (false, true) => format!(
                "Once confirmed, it cannot be cancelled here: cancellation closed at {}.",
                self.cancel_until_label
            ),
            (false, false) => format!(
                "Cancellation closed at {}; please contact the venue.",
                self.cancel_until_label
            ),
        }
    }
}

/// The reschedule page: the booking, and the times it may move to on one
/// day, for its therapist or table, another who can do the job, or any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReschedulePage {
    pub booking: BookingView,
    pub timezone: String,
    pub is_restaurant: bool,
    /// The days open for booking.
    pub days: Vec<DayChoice>,
    /// Who can do the job: (resource id, "Anna" or "Table 4 (seats 4)").
    pub choosable: Vec<(i64, String)>,
    /// The booking's own therapist or table.
    pub current_resource: Option<i64>,
    /// What the grid is for: the day, and a resource or any.
    pub date: NaiveDate,
    pub resource: Option<i64>,
    /// The times that day, or why there are none to show.
    pub times: Result<Availability, String>,
    /// The month of `date`, to pick another day. Its counts are the
    /// customer's grid: the booking's own times count as taken.
    pub calendar: Calendar,
    /// Fresh at each load, like `VenuePage::nonce`.
    pub nonce: String,
}

impl ReschedulePage {
    /// What a time button moves to: the chosen resource, or for "any" the
    /// booking's own when it is free then, else the first free one.
    pub fn pick_for(&self, free: &[super::ids::ResourceId]) -> Option<i64> {
        match self.resource {
            Some(r) => Some(r),
            None => self
                .current_resource
                .filter(|c| free.iter().any(|f| f.0 == *c))
                .or_else(|| free.first().map(|f| f.0)),
        }
    }

    /// Whether a time is where the booking already is.
    pub fn is_current(&self, start: DateTime<Utc>, pick: Option<i64>) -> bool {
        start == self.booking.booking.start && pick == self.current_resource
    }
}

/// A reschedule target as the page's buttons carry it: "7@2026-06-02T10:00:00+00:00".
pub fn pick_value(resource: i64, start: DateTime<Utc>) -> String {
    format!("{resource}@{}", start.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn the_calendar_lays_out_the_month_monday_first_and_judges_each_day() {
        // December 2026 starts on a Tuesday; bookable from the 3rd to 1 February.
        let counts = [(d(12, 3), 10, 4), (d(12, 4), 10, 0), (d(12, 5), 0, 0)];
        let cal = Calendar::build(
            d(12, 3),
            (d(12, 3), d(12, 31) + chrono::Duration::days(32)),
            &counts,
            None,
        );
        assert_eq!(cal.title, "December 2026");
        assert_eq!(cal.weeks[0][0], None, "Monday 30 November is padding");
        assert_eq!(cal.weeks[0][1].as_ref().map(|c| c.date), Some(d(12, 1)));
        assert!(cal.weeks.iter().all(|w| w.len() == 7));
        let state = |day: u32| cal.days().find(|c| c.date == d(12, day)).map(|c| c.state);
        assert_eq!(state(2), Some(DayState::Unbookable), "before the window");
        assert_eq!(state(3), Some(DayState::Free));
        assert_eq!(state(4), Some(DayState::Full));
        assert_eq!(state(5), Some(DayState::Closed));
        assert_eq!(
            state(6),
            Some(DayState::Closed),
            "no count: nothing to book"
        );
        assert_eq!(cal.days().count(), 31);
        let third = cal.days().find(|c| c.date == d(12, 3)).unwrap();
        assert_eq!(third.spoken(), "Thursday 3 December, 4 free times");
        assert_eq!(
            (cal.previous, cal.next),
            (None, Some(d(1, 1) + chrono::Duration::days(365)))
        );
    }

    #[test]
    fn the_month_links_go_only_where_days_can_be_booked() {
        let cal = Calendar::build(d(2, 10), (d(1, 20), d(2, 27)), &[], None);
        assert_eq!(
            cal.previous,
            Some(d(1, 20)),
            "the first bookable day of January"
        );
        assert_eq!(cal.next, None, "nothing to book in March");
        assert_eq!(cal.weeks.len(), 5, "1 February 2026 is a Sunday: five rows");
    }
}
