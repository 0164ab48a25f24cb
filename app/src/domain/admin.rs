//! What staff see and send: the day view, the venue's set-up, the audit
//! trail and the statistics.

use super::booking::BookingStatus;
use super::ids::{BookingId, ResourceId, ServiceId, VenueId};
use super::input::InvalidInput;
use super::venue::ResourceKind;
use super::views::BookingView;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What to do with live bookings that a change would leave outside the
/// hours, inside a closure or on a resource that no longer takes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StrandChoice {
    /// Refuse the change and list the bookings (the default).
    #[default]
    Ask,
    /// Make the change; the bookings stay as they are.
    Keep,
    /// Make the change and cancel the bookings ("cancelled by the venue").
    Cancel,
}

impl StrandChoice {
    /// From a form field: "keep", "cancel", or anything else for "ask".
    pub fn from_form(s: Option<&str>) -> Self {
        match s {
            Some("keep") => StrandChoice::Keep,
            Some("cancel") => StrandChoice::Cancel,
            _ => StrandChoice::Ask,
        }
    }
}

/// A live booking that a change would strand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StrandedBooking {
    pub id: BookingId,
    /// "Alice Customer, Full body massage with Anna, Tuesday 2 June, 10:00".
    pub summary: String,
}

/// One row of a venue's settings as staff edit them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueSettings {
    pub id: VenueId,
    pub name: String,
    pub timezone: String,
    pub grid_minutes: i64,
    pub hold_minutes: i64,
    pub cancellation_window_minutes: i64,
    pub min_notice_minutes: i64,
    pub advance_days: i64,
    pub seating_minutes: Option<i64>,
    pub max_holds_per_customer: i64,
    pub max_upcoming_per_customer: i64,
    pub version: i64,
    pub currency: String,
    pub address: String,
    /// How long before a booking its customer is reminded (0: never).
    pub reminder_minutes: i64,
    /// How long a waitlist offer is held for its customer.
    pub offer_minutes: i64,
}

/// "09:30" → 570. "24:00" is allowed as the end of a day.
pub fn parse_clock(s: &str) -> Option<i64> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    let total = h * 60 + m;
    ((0..60).contains(&m) && (0..=1440).contains(&total)).then_some(total)
}

pub fn format_clock(minute: i64) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Opening hours of one weekday, as the weekly editor shows them: times
/// as "09:00"; empty when closed or without a break.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekdayHours {
    /// 0 is Monday.
    pub weekday: i64,
    pub opens: String,
    pub closes: String,
    pub break_starts: String,
    pub break_ends: String,
}

const OPENS: [&str; 7] = [
    "opens-0", "opens-1", "opens-2", "opens-3", "opens-4", "opens-5", "opens-6",
];
const CLOSES: [&str; 7] = [
    "closes-0", "closes-1", "closes-2", "closes-3", "closes-4", "closes-5", "closes-6",
];
const BREAK_STARTS: [&str; 7] = [
    "break_starts-0",
    "break_starts-1",
    "break_starts-2",
    "break_starts-3",
    "break_starts-4",
    "break_starts-5",
    "break_starts-6",
];

impl WeekdayHours {
    /// The weekday as windows of minutes: the hours, and the break; or
    /// what is wrong, named by the editor's field (opens-0 … break_ends-6).
    pub fn windows(&self) -> Result<(Option<(i64, i64)>, Option<(i64, i64)>), InvalidInput> {
        let day = self;
        // The field names the pages use: opens-0 … break_ends-6.
        let d = day.weekday.clamp(0, 6) as usize;
        let field = |s: &str| -> &'static str {
            match s {
                "opens" => OPENS[d],
                "closes" => CLOSES[d],
                _ => BREAK_STARTS[d],
            }
        };
        let time = |name: &str, s: &str| -> Result<Option<i64>, InvalidInput> {
            if s.trim().is_empty() {
                return Ok(None);
            }
            parse_clock(s)
                .map(Some)
                .ok_or_else(|| InvalidInput::new(field(name), "Use a time like 09:00."))
        };
        let opens = time("opens", &day.opens)?;
        let closes = time("closes", &day.closes)?;
        let break_starts = time("break_starts", &day.break_starts)?;
        let break_ends = time("break_ends", &day.break_ends)?;
        let hours = match (opens, closes) {
            (None, None) => None,
            (Some(o), Some(c)) if o < c => Some((o, c)),
            (Some(_), Some(_)) => {
                return Err(InvalidInput::new(
                    field("closes"),
                    "Closing comes after opening.",
                ))
            }
            _ => {
                return Err(InvalidInput::new(
                    field("opens"),
                    "Give both the opening and the closing time, or neither (closed).",
                ))
            }
        };
        let pause = match (break_starts, break_ends, hours) {
            (None, None, _) => None,
            (Some(s), Some(e), Some((o, c))) if o < s && s < e && e < c => Some((s, e)),
            _ => {
                return Err(InvalidInput::new(
                    field("break_starts"),
                    "A break starts and ends inside the opening hours.",
                ))
            }
        };
        Ok((hours, pause))
    }
}

pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSetup {
    pub id: ResourceId,
    pub kind: ResourceKind,
    pub name: String,
    pub capacity: Option<i64>,
    pub active: bool,
    pub version: i64,
    /// For therapists: the services they offer.
    pub offers: Vec<ServiceId>,
    /// Monday to Sunday.
    pub week: Vec<WeekdayHours>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSetup {
    pub id: ServiceId,
    pub name: String,
    pub duration_minutes: i64,
    pub cleanup_minutes: i64,
    pub needs_room: bool,
    pub active: bool,
    pub version: i64,
    /// Minor units of the venue's currency; none for no price shown.
    pub price_cents: Option<i64>,
    pub description: String,
}

/// One treatment's row of the set-up's services form, as typed: the
/// form names its fields `services[0][name]` … and sends every row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceForm {
    pub id: i64,
    pub version: i64,
    pub name: String,
    pub duration_minutes: String,
    pub cleanup_minutes: String,
    /// Checkboxes: present when ticked.
    #[serde(default)]
    pub needs_room: Option<String>,
    #[serde(default)]
    pub active: Option<String>,
    #[serde(default)]
    pub price: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

impl ServiceForm {
    /// The row's fields under the names the form gave them.
    pub fn fields(&self, i: usize) -> Vec<(String, String)> {
        let tick = |v: &Option<String>| v.clone().unwrap_or_default();
        [
            ("id", self.id.to_string()),
            ("version", self.version.to_string()),
            ("name", self.name.clone()),
            ("duration_minutes", self.duration_minutes.clone()),
            ("cleanup_minutes", self.cleanup_minutes.clone()),
            ("needs_room", tick(&self.needs_room)),
            ("active", tick(&self.active)),
            ("price", tick(&self.price)),
            ("description", tick(&self.description)),
        ]
        .into_iter()
        .map(|(f, v)| (format!("services[{i}][{f}]"), v))
        .collect()
    }
}

/// A closure or time off, as listed for staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClosureView {
    pub id: i64,
    pub resource: Option<ResourceId>,
    /// "the whole venue" or the resource's name.
    pub what: String,
    /// "Tuesday 2 June, 10:00 to Tuesday 2 June, 12:00" in the venue's time.
    pub when: String,
    pub reason: String,
}

/// Everything the set-up page edits for one venue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueSetup {
    pub settings: VenueSettings,
    pub resources: Vec<ResourceSetup>,
    pub services: Vec<ServiceSetup>,
    /// Closures that have not ended yet, soonest first.
    pub closures: Vec<ClosureView>,
}

/// A venue a staff member may run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffVenue {
    pub id: VenueId,
    pub name: String,
    /// Today in the venue's zone, for the day view's first link.
    pub today: NaiveDate,
    /// Messages to its customers that could not be sent, newest first
    /// (at most 20): the booking, and what it should have told.
    pub undelivered: Vec<(BookingId, MessageLine)>,
}

/// What one cell of the day view shows: a resource during one grid unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DayCell {
    /// Open and unclaimed.
    Free,
    /// Outside the resource's hours.
    Off,
    /// A break in the weekly hours.
    Break,
    Closed {
        reason: String,
    },
    /// Taken by a booking or hold. `first` marks the unit it starts in;
    /// `cleanup` the units of its buffer after the appointment.
    Booking {
        id: BookingId,
        status: BookingStatus,
        label: String,
        first: bool,
        cleanup: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DayRow {
    /// "10:15" in the venue's time.
    pub time: String,
    /// Where the unit ends: "10:30".
    pub until: String,
    pub start: DateTime<Utc>,
    /// Whether the present moment falls in this unit.
    pub now: bool,
    /// One per resource of `DayView::resources`, in that order.
    pub cells: Vec<DayCell>,
}

/// A booking on the day, for the list beside the grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DayBooking {
    pub id: BookingId,
    pub status: BookingStatus,
    /// "10:00–11:00".
    pub time: String,
    pub customer: String,
    pub what: String,
    pub with: String,
    /// "held until 10:05" for holds, the status otherwise.
    pub status_label: String,
}

/// A venue's schedule for one day, for staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DayView {
    pub venue: VenueId,
    pub venue_name: String,
    pub date: NaiveDate,
    /// "Tuesday 2 June 2026".
    pub date_label: String,
    pub resources: Vec<(ResourceId, String)>,
    pub rows: Vec<DayRow>,
    pub bookings: Vec<DayBooking>,
    /// Closures touching the day.
    pub closures: Vec<ClosureView>,
    /// What staff can book here: treatments, or tables (party sizes).
    pub services: Vec<(ServiceId, String)>,
    pub tables: bool,
    /// Fresh at each load: the idempotency key of the form that books for
    /// a customer (a resubmitted form finds the booking already made).
    pub form_key: String,
    /// The day's waitlist, in line order, with who waits.
    pub waitlist: Vec<super::waitlist::WaitlistEntry>,
}

/// Consecutive units of one resource that show the same thing: one
/// booking (or its cleanup), one closure, a break, time off. Free units
/// stay one each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayBlock {
    pub first_row: usize,
    pub rows: usize,
    pub cell: DayCell,
    /// "10:00" and "11:00": where the block starts and ends.
    pub from: String,
    pub to: String,
}

impl DayCell {
    /// Whether `next` continues the same block as `self`.
    fn continues(&self, next: &DayCell) -> bool {
        match (self, next) {
            (
                DayCell::Booking {
                    id: a, cleanup: ca, ..
                },
                DayCell::Booking {
                    id: b,
                    cleanup: cb,
                    first: false,
                    ..
                },
            ) => a == b && ca == cb,
            (DayCell::Closed { reason: a }, DayCell::Closed { reason: b }) => a == b,
            (DayCell::Break, DayCell::Break) | (DayCell::Off, DayCell::Off) => true,
            _ => false,
        }
    }
}

impl DayView {
    /// The blocks of the `column`-th resource, top to bottom.
    pub fn blocks(&self, column: usize) -> Vec<DayBlock> {
        let mut blocks: Vec<DayBlock> = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            let Some(cell) = row.cells.get(column) else {
                continue;
            };
            match blocks.last_mut() {
                Some(b) if b.first_row + b.rows == i && b.cell.continues(cell) => {
                    b.rows += 1;
                    b.to = row.until.clone();
                }
                _ => blocks.push(DayBlock {
                    first_row: i,
                    rows: 1,
                    cell: cell.clone(),
                    from: row.time.clone(),
                    to: row.until.clone(),
                }),
            }
        }
        blocks
    }
}

/// An entry of the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// "Tuesday 2 June, 10:03" in the venue's time.
    pub at_label: String,
    pub actor: String,
    pub venue: VenueId,
    pub resource: Option<ResourceId>,
    pub resource_name: Option<String>,
    pub booking: Option<BookingId>,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A booking with what staff need to act on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingDetail {
    pub view: BookingView,
    pub customer_name: String,
    pub customer_email: String,
    /// False for an account staff made without a password: staff may give
    /// the customer a claim link.
    pub customer_has_password: bool,
    /// When the booking or hold was made, in the venue's time.
    pub created_label: String,
    /// Staff changes to it, oldest first.
    pub history: Vec<AuditEntry>,
    /// Whether it has started: only then may it be marked completed or a
    /// no-show.
    pub started: bool,
    /// The local date, for the day view link and the move form.
    pub date: NaiveDate,
    /// "10:15", for the move form.
    pub time: String,
    /// Who could take it instead, with names: the therapists who offer its
    /// treatment, the tables that seat its party.
    pub movable_to: Vec<(ResourceId, String)>,
    /// Its own therapist or table.
    pub current_resource: Option<ResourceId>,
    /// What its customer was told, or is to be told, oldest first.
    pub messages: Vec<MessageLine>,
}

/// One message to a booking's customer, as staff read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageLine {
    /// "Booking confirmed", "Cancelled by the venue", "Reminder".
    pub what: String,
    /// "sent", "waiting", "not sent yet, will try again", "could not be sent".
    pub state: String,
    /// Whether it was given up on: staff may need to tell the customer.
    pub undelivered: bool,
    /// When it was written, and when it was sent, in the venue's time.
    pub written_label: String,
    pub sent_label: Option<String>,
    pub attempts: i64,
    /// Why the last attempt failed.
    pub error: Option<String>,
}

/// The free times staff may move a booking to on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveTimes {
    pub date: NaiveDate,
    /// The resource the times are for; 0 is anyone who can do the job.
    pub resource: i64,
    pub times: crate::domain::booking::Availability,
}

/// Booking activity of one venue in one hour.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HourStats {
    pub venue: VenueId,
    pub venue_name: String,
    pub hour_start: DateTime<Utc>,
    /// Bookings made in one step (the JSON API, staff).
    pub booked: i64,
    /// "Slot taken" answers.
    pub conflicts: i64,
    pub holds_placed: i64,
    pub holds_confirmed: i64,
    pub holds_expired: i64,
}

/// Statistics: per venue and hour, newest first, and totals per venue.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Stats {
    pub hours: Vec<HourStats>,
    pub totals: Vec<HourStats>,
}

/// Roles, from least to most trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Staff,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "customer" => Some(Role::Customer),
            "staff" => Some(Role::Staff),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn is_staff(self) -> bool {
        matches!(self, Role::Staff | Role::Admin)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A one-time link with which a customer whom staff booked without a
/// password sets one: `path` is shown once, to be passed on to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClaimLink {
    /// `/claim?token=…`, on this site.
    pub path: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A staff member or admin, as the admin's staff page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: super::ids::UserId,
    pub email: String,
    pub name: String,
    /// Staff or admin.
    pub role: Role,
    /// The venues a staff member runs (admins run all).
    pub venues: Vec<VenueId>,
}

#[cfg(test)]
mod weekday_tests {
    use super::{format_clock, parse_clock, WeekdayHours};

    #[test]
    fn clock_times_parse_strictly() {
        assert_eq!(parse_clock("09:30"), Some(570));
        assert_eq!(parse_clock(" 9:05 "), Some(545));
        assert_eq!(parse_clock("24:00"), Some(1440));
        for bad in [
            "24:01", "9:5", "09:60", "-1:00", "0930", "", "ab:cd", "123:00",
        ] {
            assert_eq!(parse_clock(bad), None, "{bad:?}");
        }
        assert_eq!(format_clock(570), "09:30");
    }

    #[test]
    fn a_weekday_is_open_with_an_inner_break_or_closed() {
        let day = |o: &str, c: &str, bs: &str, be: &str| WeekdayHours {
            weekday: 2,
            opens: o.into(),
            closes: c.into(),
            break_starts: bs.into(),
            break_ends: be.into(),
        };
        assert_eq!(
            day("09:00", "18:00", "13:00", "14:00").windows().ok(),
            Some((Some((540, 1080)), Some((780, 840))))
        );
        assert_eq!(day("", "", "", "").windows().ok(), Some((None, None)));
        for bad in [
            day("18:00", "09:00", "", ""),
            day("09:00", "", "", ""),
            day("09:00", "18:00", "08:00", "10:00"),
            day("09:00", "18:00", "13:00", ""),
            day("", "", "13:00", "14:00"),
        ] {
            assert!(bad.windows().is_err(), "{bad:?}");
        }
    }
}

/// What an audit entry's action code (`booking.move`) says, for people.
pub fn audit_action_label(code: &str) -> &str {
    match code {
        "booking.create" => "Booked for the customer",
        "booking.cancel" => "Cancelled the booking",
        "booking.move" => "Moved the booking",
        "booking.reschedule" => "Rescheduled the booking",
        "booking.complete" => "Marked it completed",
        "booking.no_show" => "Marked it a no-show",
        "customer.claim_link" => "Made a sign-in link for the customer",
        "closure.add" => "Closed a time",
        "closure.remove" => "Reopened a closed time",
        "resource.add" => "Added a resource",
        "resource.edit" => "Changed a resource",
        "resource.hours" => "Changed weekly hours",
        "resource.services" => "Changed the treatments offered",
        "service.add" => "Added a treatment",
        "service.edit" => "Changed a treatment",
        "staff.set" => "Changed a person's staff access",
        "venue.add" => "Added the venue",
        "venue.settings" => "Changed the venue's settings",
        other => other,
    }
}
