//! What staff do: the day view, bookings made and moved for customers,
//! schedules, resources, services and settings, the audit trail and the
//! statistics.
//!
//! Every operation checks in the database that the user may run the venue
//! (an admin, or staff assigned to it), whatever the session says. Changes
//! run in one write transaction that first locks the venue's resources, so
//! bookings of the venue wait for them and the check for stranded bookings
//! sees a settled schedule; each writes its audit row in that transaction.

use crate::domain::admin::{
    AuditEntry, BookingDetail, ClosureView, DayBooking, DayCell, DayRow, DayView, HourStats,
    ResourceSetup, ServiceSetup, StaffMember, StaffVenue, Stats, StrandChoice, StrandedBooking,
    VenueSettings, VenueSetup, WeekdayHours,
};
use crate::domain::booking::{Booking, BookingRequest, BookingStatus, Offer, ResourceChoice};
use crate::domain::error::AppError;
use crate::domain::ids::{BookingId, ResourceId, ServiceId, UserId, VenueId};
use crate::domain::input::{DisplayName, Email, IdempotencyKey, InvalidInput, PartySize};
use crate::domain::schedule::{self, Span};
use crate::domain::venue::ResourceKind;
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::day::{kind_of, Day, Openness};
use super::db::{is_guard_violation, with_backend, Backend};
use super::engine::{
    alternatives, booking_from_row, check_time_rules, expire_lapsed, lock_booking_resources,
    need_for, pick, retrying, settle_app, venue_zone, Clock, Engine, Failure, Rules,
};
use super::pauses::{self, Point};
use super::stats::{hour_of, Event};
use super::store::{
    BookingRow, ClosureRow, NewAudit, ResourceRow, ServiceRow, StatRow, Store, VenueRow,
};

/// A signed-in staff member or admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Staff {
    pub user: UserId,
}

/// A change to a venue's set-up. Edits of existing things carry the
/// version the editor opened.
#[derive(Clone, Debug)]
pub enum Change {
    Settings {
        version: i64,
        name: String,
        grid_minutes: i64,
        hold_minutes: i64,
        cancellation_window_minutes: i64,
        min_notice_minutes: i64,
        advance_days: i64,
        seating_minutes: Option<i64>,
    },
    AddResource {
        kind: ResourceKind,
        name: String,
        capacity: Option<i64>,
    },
    EditResource {
        id: ResourceId,
        version: i64,
        name: String,
        capacity: Option<i64>,
        active: bool,
    },
    /// The services a therapist offers.
    Offers {
        resource: ResourceId,
        version: i64,
        services: Vec<ServiceId>,
    },
    /// A resource's weekly hours and breaks, Monday to Sunday.
    Week {
        resource: ResourceId,
        version: i64,
        week: Vec<WeekdayHours>,
    },
    AddService {
        name: String,
        duration_minutes: i64,
        cleanup_minutes: i64,
        needs_room: bool,
    },
    EditService {
        id: ServiceId,
        version: i64,
        name: String,
        duration_minutes: i64,
        cleanup_minutes: i64,
        needs_room: bool,
        active: bool,
    },
    /// A closure of the venue, or time off or a blocked slot of one resource.
    AddClosure {
        resource: Option<ResourceId>,
        starts_at: i64,
        ends_at: i64,
        reason: String,
    },
    RemoveClosure {
        id: i64,
    },
}

/// What a change did, for its audit row.
struct Applied {
    action: &'static str,
    resource: Option<i64>,
    service: Option<i64>,
    before: Option<String>,
    after: Option<String>,
}

/// A booking staff make for a customer.
#[derive(Clone, Debug)]
pub struct StaffBooking {
    pub venue: VenueId,
    pub customer_email: Email,
    /// Used when the customer has no account yet: one is made, without a
    /// password, so nobody can log in to it.
    pub customer_name: DisplayName,
    pub offer: Offer,
    pub resource: ResourceChoice,
    pub start: chrono::DateTime<chrono::Utc>,
    pub idempotency_key: IdempotencyKey,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Failure {
    Failure::App(InvalidInput::new(field, message).into())
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

fn check_name(field: &'static str, name: &str) -> Result<String, Failure> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid(field, "Give a name of 1 to 100 characters."));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(field, "A name cannot contain control characters."));
    }
    Ok(name.to_owned())
}

/// An instant staff gave, within two years of now (see
/// `schedule::STAFF_HORIZON_DAYS`): further ones are refused as input.
fn check_staff_instant(field: &'static str, t: i64, now: i64) -> Result<(), Failure> {
    if schedule::within_staff_horizon(t, now) {
        Ok(())
    } else {
        Err(invalid(field, "Choose a time within two years of today."))
    }
}

/// A date staff gave, within two years of the venue's today.
fn check_staff_date(field: &'static str, date: NaiveDate, tz: Tz, now: i64) -> Result<(), Failure> {
    if schedule::date_within_staff_horizon(date, schedule::local_date(tz, now)) {
        Ok(())
    } else {
        Err(invalid(field, "Choose a date within two years of today."))
    }
}

fn check_range(field: &'static str, v: i64, lo: i64, hi: i64, what: &str) -> Result<i64, Failure> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(invalid(field, format!("{what} must be from {lo} to {hi}.")))
    }
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

/// One weekday of the weekly editor as windows: the hours, and the break.
fn week_windows(day: &WeekdayHours) -> Result<(Option<(i64, i64)>, Option<(i64, i64)>), Failure> {
    // The field names the pages use: opens-0 … break_ends-6.
    let d = day.weekday.clamp(0, 6) as usize;
    let field = |s: &str| -> &'static str {
        match s {
            "opens" => OPENS[d],
            "closes" => CLOSES[d],
            _ => BREAK_STARTS[d],
        }
    };
    let time = |name: &str, s: &str| -> Result<Option<i64>, Failure> {
        if s.trim().is_empty() {
            return Ok(None);
        }
        parse_clock(s)
            .map(Some)
            .ok_or_else(|| invalid(field(name), "Use a time like 09:00."))
    };
    let opens = time("opens", &day.opens)?;
    let closes = time("closes", &day.closes)?;
    let break_starts = time("break_starts", &day.break_starts)?;
    let break_ends = time("break_ends", &day.break_ends)?;
    let hours = match (opens, closes) {
        (None, None) => None,
        (Some(o), Some(c)) if o < c => Some((o, c)),
        (Some(_), Some(_)) => return Err(invalid(field("closes"), "Closing comes after opening.")),
        _ => {
            return Err(invalid(
                field("opens"),
                "Give both the opening and the closing time, or neither (closed).",
            ))
        }
    };
    let pause = match (break_starts, break_ends, hours) {
        (None, None, _) => None,
        (Some(s), Some(e), Some((o, c))) if o < s && s < e && e < c => Some((s, e)),
        _ => {
            return Err(invalid(
                field("break_starts"),
                "A break starts and ends inside the opening hours.",
            ))
        }
    };
    Ok((hours, pause))
}

/// Whether `user` may run `venue`; `Forbidden` otherwise.
async fn authorize<S: Store>(tx: &mut S, staff: Staff, venue: i64) -> Result<(), Failure> {
    if tx.may_run(staff.user.0, venue).await? {
        Ok(())
    } else {
        Err(Failure::App(AppError::Forbidden))
    }
}

async fn authorize_admin<S: Store>(tx: &mut S, staff: Staff) -> Result<(), Failure> {
    match tx.user(staff.user.0).await? {
        Some(u) if u.role == "admin" => Ok(()),
        _ => Err(Failure::App(AppError::Forbidden)),
    }
}

/// Names of a venue's resources, services and the customers of `rows`.
struct Names {
    resources: HashMap<i64, ResourceRow>,
    services: HashMap<i64, String>,
    users: HashMap<i64, (String, String)>,
}

impl Names {
    async fn load<S: Store>(tx: &mut S, venue: i64, rows: &[BookingRow]) -> Result<Names, Failure> {
        let resources = tx
            .resources(venue)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let services = tx
            .services(venue)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let mut users = HashMap::new();
        for r in rows {
            if let std::collections::hash_map::Entry::Vacant(e) = users.entry(r.customer_id) {
                if let Some(u) = tx.user(r.customer_id).await? {
                    e.insert((u.display_name, u.email));
                }
            }
        }
        Ok(Names {
            resources,
            services,
            users,
        })
    }

    fn what(&self, row: &BookingRow) -> String {
        match (row.service_id, row.party_size) {
            (Some(s), _) => self.services.get(&s).cloned().unwrap_or_default(),
            (None, Some(p)) => format!("Party of {p}"),
            _ => String::new(),
        }
    }

    fn customer(&self, row: &BookingRow) -> String {
        self.users
            .get(&row.customer_id)
            .map(|u| u.0.clone())
            .unwrap_or_else(|| format!("Customer #{}", row.customer_id))
    }

    fn resource(&self, id: i64) -> String {
        self.resources
            .get(&id)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    }

    fn with(&self, resources: &[i64]) -> String {
        resources
            .iter()
            .map(|r| self.resource(*r))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Live bookings of the venue, still to come or under way, that no longer
/// fit its set-up: a resource inactive, outside its hours, in a closure, a
/// therapist who no longer offers the service, a table too small.
async fn stranded<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    tz: Tz,
    now: i64,
) -> Result<Vec<(BookingRow, Vec<i64>)>, Failure> {
    let resources: HashMap<i64, ResourceRow> = tx
        .resources(venue.id)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let offers: HashSet<(i64, i64)> = tx.offers(venue.id).await?.into_iter().collect();
    let mut days: HashMap<NaiveDate, Day> = HashMap::new();
    let mut out = Vec::new();
    for row in tx.live_bookings_after(venue.id, now).await? {
        let used = tx.booking_resources(row.id).await?;
        let date = schedule::local_date(tz, row.starts_at);
        if !days.contains_key(&date) {
            let day = Day::load(tx, venue, tz, date, None, now).await?;
            days.insert(date, day);
        }
        let day = &days[&date];
        let span = Span::new(row.starts_at, row.ends_at);
        let fits = |r: &i64| {
            let Some(res) = resources.get(r) else {
                return false;
            };
            let offered = match (kind_of(res), row.service_id) {
                (Some(ResourceKind::Therapist), Some(s)) => offers.contains(&(*r, s)),
                (Some(ResourceKind::Table), _) => res.capacity >= row.party_size,
                _ => true,
            };
            res.active && offered && day.openness(*r, span) == Openness::Open
        };
        if !used.iter().all(fits) {
            out.push((row, used));
        }
    }
    Ok(out)
}

async fn describe<S: Store>(
    tx: &mut S,
    venue: i64,
    tz: Tz,
    rows: &[(BookingRow, Vec<i64>)],
) -> Result<Vec<StrandedBooking>, Failure> {
    let only: Vec<BookingRow> = rows.iter().map(|(r, _)| r.clone()).collect();
    let names = Names::load(tx, venue, &only).await?;
    Ok(rows
        .iter()
        .map(|(r, used)| StrandedBooking {
            id: BookingId(r.id),
            summary: format!(
                "{}: {} with {}, {}",
                names.customer(r),
                names.what(r),
                names.with(used),
                schedule::label(tz, r.starts_at)
            ),
        })
        .collect())
}

/// Cancels a booking on the venue's behalf, in `tx`, with its audit row.
async fn cancel_by_venue<S: Store>(
    tx: &mut S,
    staff: Staff,
    row: &BookingRow,
    now: i64,
    why: &str,
) -> Result<(), Failure> {
    tx.delete_claims(row.id).await?;
    tx.set_status(
        row.id,
        BookingStatus::Cancelled.as_str(),
        Some("venue"),
        now,
    )
    .await?;
    tx.insert_audit(&NewAudit {
        at: now,
        actor_id: staff.user.0,
        venue_id: row.venue_id,
        booking_id: Some(row.id),
        action: "booking.cancel",
        before: Some(row.status.clone()),
        after: Some(format!("cancelled by the venue ({why})")),
        ..NewAudit::default()
    })
    .await?;
    Ok(())
}

fn settings_json(v: &VenueRow) -> String {
    serde_json::json!({
        "name": v.name,
        "grid_minutes": v.grid_minutes,
        "hold_minutes": v.hold_minutes,
        "cancellation_window_minutes": v.cancellation_window_minutes,
        "min_notice_minutes": v.min_notice_minutes,
        "advance_days": v.advance_days,
        "seating_minutes": v.seating_minutes,
    })
    .to_string()
}

fn resource_json(r: &ResourceRow) -> String {
    serde_json::json!({
        "name": r.name,
        "kind": r.kind,
        "capacity": r.capacity,
        "active": r.active,
    })
    .to_string()
}

fn service_json(s: &ServiceRow) -> String {
    serde_json::json!({
        "name": s.name,
        "duration_minutes": s.duration_minutes,
        "cleanup_minutes": s.cleanup_minutes,
        "needs_room": s.needs_room,
        "active": s.active,
    })
    .to_string()
}

async fn week_json<S: Store>(tx: &mut S, resource: i64) -> Result<String, Failure> {
    let entries: Vec<String> = tx
        .weekly_of(resource)
        .await?
        .into_iter()
        .map(|w| {
            format!(
                "{} {}{}-{}",
                &crate::domain::admin::WEEKDAYS[w.weekday.clamp(0, 6) as usize][..3],
                if w.is_break { "break " } else { "" },
                format_clock(w.from_minute),
                format_clock(w.to_minute)
            )
        })
        .collect();
    Ok(serde_json::Value::from(entries).to_string())
}

async fn resource_of_venue<S: Store>(
    tx: &mut S,
    venue: i64,
    id: ResourceId,
) -> Result<ResourceRow, Failure> {
    tx.resource(id.0)
        .await?
        .filter(|r| r.venue_id == venue)
        .ok_or(Failure::App(AppError::NotFound))
}

fn stale() -> Failure {
    Failure::App(AppError::Stale {
        submitted: BTreeMap::new(),
    })
}

/// Applies one change inside the transaction.
async fn apply<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    change: &Change,
    now: i64,
) -> Result<Applied, Failure> {
    match change {
        Change::Settings {
            version,
            name,
            grid_minutes,
            hold_minutes,
            cancellation_window_minutes,
            min_notice_minutes,
            advance_days,
            seating_minutes,
        } => {
            if ![5, 10, 15, 20, 30, 60].contains(grid_minutes) {
                return Err(invalid(
                    "grid_minutes",
                    "Choose 5, 10, 15, 20, 30 or 60 minutes.",
                ));
            }
            let new = VenueRow {
                name: check_name("name", name)?,
                grid_minutes: *grid_minutes,
                hold_minutes: check_range("hold_minutes", *hold_minutes, 1, 120, "Hold minutes")?,
                cancellation_window_minutes: check_range(
                    "cancellation_window_minutes",
                    *cancellation_window_minutes,
                    0,
                    60 * 24 * 60,
                    "The cancellation window",
                )?,
                min_notice_minutes: check_range(
                    "min_notice_minutes",
                    *min_notice_minutes,
                    0,
                    60 * 24 * 60,
                    "The minimum notice",
                )?,
                advance_days: check_range(
                    "advance_days",
                    *advance_days,
                    1,
                    730,
                    "The advance window",
                )?,
                seating_minutes: match (venue.seating_minutes, seating_minutes) {
                    (Some(_), Some(m)) => {
                        Some(check_range("seating_minutes", *m, 15, 720, "A seating")?)
                    }
                    (old, _) => old,
                },
                ..venue.clone()
            };
            let taken = tx
                .venues()
                .await?
                .into_iter()
                .any(|v| v.id != venue.id && v.name == new.name);
            if taken {
                return Err(invalid("name", "Another venue has this name."));
            }
            if !tx.update_venue(&new, *version).await? {
                return Err(stale());
            }
            if new.grid_minutes != venue.grid_minutes {
                reclaim_on_new_grid(tx, &new, now).await?;
            }
            Ok(Applied {
                action: "venue.settings",
                resource: None,
                service: None,
                before: Some(settings_json(venue)),
                after: Some(settings_json(&new)),
            })
        }
        Change::AddResource {
            kind,
            name,
            capacity,
        } => {
            let name = check_name("name", name)?;
            let capacity = match (kind, capacity) {
                (ResourceKind::Table, Some(c)) => {
                    Some(check_range("capacity", *c, 1, 100, "Seats")?)
                }
                (ResourceKind::Table, None) => {
                    return Err(invalid("capacity", "A table needs its number of seats."))
                }
                _ => None,
            };
            if tx.resources(venue.id).await?.iter().any(|r| r.name == name) {
                return Err(invalid("name", "Another resource here has this name."));
            }
            let id = tx
                .insert_resource(venue.id, kind.as_str(), &name, capacity)
                .await?;
            let row = tx
                .resource(id)
                .await?
                .ok_or(Failure::App(AppError::Internal))?;
            Ok(Applied {
                action: "resource.add",
                resource: Some(id),
                service: None,
                before: None,
                after: Some(resource_json(&row)),
            })
        }
        Change::EditResource {
            id,
            version,
            name,
            capacity,
            active,
        } => {
            let old = resource_of_venue(tx, venue.id, *id).await?;
            let name = check_name("name", name)?;
            if tx
                .resources(venue.id)
                .await?
                .iter()
                .any(|r| r.id != old.id && r.name == name)
            {
                return Err(invalid("name", "Another resource here has this name."));
            }
            let capacity = match (old.kind.as_str(), capacity) {
                ("table", Some(c)) => Some(check_range("capacity", *c, 1, 100, "Seats")?),
                ("table", None) => {
                    return Err(invalid("capacity", "A table needs its number of seats."))
                }
                _ => None,
            };
            let new = ResourceRow {
                name,
                capacity,
                active: *active,
                ..old.clone()
            };
            if !tx.update_resource(&new, *version).await? {
                return Err(stale());
            }
            Ok(Applied {
                action: "resource.edit",
                resource: Some(old.id),
                service: None,
                before: Some(resource_json(&old)),
                after: Some(resource_json(&new)),
            })
        }
        Change::Offers {
            resource,
            version,
            services,
        } => {
            let old = resource_of_venue(tx, venue.id, *resource).await?;
            if old.kind != "therapist" {
                return Err(invalid("services", "Only therapists offer services."));
            }
            let known: HashMap<i64, String> = tx
                .services(venue.id)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
            if services.iter().any(|s| !known.contains_key(&s.0)) {
                return Err(invalid("services", "Choose services of this venue."));
            }
            let before: Vec<String> = tx
                .offers(venue.id)
                .await?
                .into_iter()
                .filter(|(r, _)| *r == old.id)
                .filter_map(|(_, s)| known.get(&s).cloned())
                .collect();
            if !tx.update_resource(&old, *version).await? {
                return Err(stale());
            }
            tx.clear_offers(old.id).await?;
            let mut unique: Vec<i64> = services.iter().map(|s| s.0).collect();
            unique.sort_unstable();
            unique.dedup();
            for s in &unique {
                tx.insert_offer(old.id, *s).await?;
            }
            let after: Vec<String> = unique
                .iter()
                .filter_map(|s| known.get(s).cloned())
                .collect();
            Ok(Applied {
                action: "resource.services",
                resource: Some(old.id),
                service: None,
                before: Some(serde_json::Value::from(before).to_string()),
                after: Some(serde_json::Value::from(after).to_string()),
            })
        }
        Change::Week {
            resource,
            version,
            week,
        } => {
            let old = resource_of_venue(tx, venue.id, *resource).await?;
            let mut windows = Vec::new();
            for day in week {
                if !(0..7).contains(&day.weekday) {
                    return Err(invalid("weekday", "A week has seven days."));
                }
                windows.push((day.weekday, week_windows(day)?));
            }
            let before = week_json(tx, old.id).await?;
            if !tx.update_resource(&old, *version).await? {
                return Err(stale());
            }
            tx.clear_week(old.id).await?;
            for (weekday, (hours, pause)) in windows {
                if let Some((o, c)) = hours {
                    tx.insert_weekly_hours(old.id, weekday, o, c).await?;
                }
                if let Some((s, e)) = pause {
                    tx.insert_weekly_break(old.id, weekday, s, e).await?;
                }
            }
            Ok(Applied {
                action: "resource.hours",
                resource: Some(old.id),
                service: None,
                before: Some(before),
                after: Some(week_json(tx, old.id).await?),
            })
        }
        Change::AddService {
            name,
            duration_minutes,
            cleanup_minutes,
            needs_room,
        } => {
            if venue.seating_minutes.is_some() {
                return Err(invalid(
                    "name",
                    "This venue takes table bookings, not treatments.",
                ));
            }
            let name = check_name("name", name)?;
            let duration = check_range(
                "duration_minutes",
                *duration_minutes,
                5,
                720,
                "A treatment's length",
            )?;
            let cleanup = check_range(
                "cleanup_minutes",
                *cleanup_minutes,
                0,
                240,
                "The cleanup buffer",
            )?;
            if tx.services(venue.id).await?.iter().any(|s| s.name == name) {
                return Err(invalid("name", "Another service here has this name."));
            }
            let id = tx
                .insert_service(venue.id, &name, duration, cleanup, *needs_room)
                .await?;
            let row = tx
                .service(id)
                .await?
                .ok_or(Failure::App(AppError::Internal))?;
            Ok(Applied {
                action: "service.add",
                resource: None,
                service: Some(id),
                before: None,
                after: Some(service_json(&row)),
            })
        }
        Change::EditService {
            id,
            version,
            name,
            duration_minutes,
            cleanup_minutes,
            needs_room,
            active,
        } => {
            let old = tx
                .service(id.0)
                .await?
                .filter(|s| s.venue_id == venue.id)
                .ok_or(Failure::App(AppError::NotFound))?;
            let name = check_name("name", name)?;
            if tx
                .services(venue.id)
                .await?
                .iter()
                .any(|s| s.id != old.id && s.name == name)
            {
                return Err(invalid("name", "Another service here has this name."));
            }
            let new = ServiceRow {
                name,
                duration_minutes: check_range(
                    "duration_minutes",
                    *duration_minutes,
                    5,
                    720,
                    "A treatment's length",
                )?,
                cleanup_minutes: check_range(
                    "cleanup_minutes",
                    *cleanup_minutes,
                    0,
                    240,
                    "The cleanup buffer",
                )?,
                needs_room: *needs_room,
                active: *active,
                ..old.clone()
            };
            if !tx.update_service(&new, *version).await? {
                return Err(stale());
            }
            Ok(Applied {
                action: "service.edit",
                resource: None,
                service: Some(old.id),
                before: Some(service_json(&old)),
                after: Some(service_json(&new)),
            })
        }
        Change::AddClosure {
            resource,
            starts_at,
            ends_at,
            reason,
        } => {
            check_staff_instant("starts_at", *starts_at, now)?;
            check_staff_instant("ends_at", *ends_at, now)?;
            if starts_at >= ends_at {
                return Err(invalid("ends", "The end comes after the start."));
            }
            if *ends_at <= now {
                return Err(invalid("ends", "That time is already over."));
            }
            if ends_at - starts_at > 366 * 86_400 {
                return Err(invalid("ends", "Close for at most a year at a time."));
            }
            let reason = reason.trim();
            if reason.chars().count() > 200 {
                return Err(invalid("reason", "Keep the reason under 200 characters."));
            }
            if reason.chars().any(char::is_control) {
                return Err(invalid(
                    "reason",
                    "A reason cannot contain control characters.",
                ));
            }
            let name = match resource {
                Some(r) => resource_of_venue(tx, venue.id, *r).await?.name,
                None => "the whole venue".to_owned(),
            };
            let id = tx
                .insert_closure(
                    venue.id,
                    resource.map(|r| r.0),
                    *starts_at,
                    *ends_at,
                    reason,
                )
                .await?;
            let tz = venue_zone(venue)?;
            Ok(Applied {
                action: "closure.add",
                resource: resource.map(|r| r.0),
                service: None,
                before: None,
                after: Some(format!(
                    "closure #{id} of {name}: {} to {} {reason:?}",
                    schedule::label(tz, *starts_at),
                    schedule::label(tz, *ends_at)
                )),
            })
        }
        Change::RemoveClosure { id } => {
            let c = tx
                .closure(*id)
                .await?
                .filter(|c| c.venue_id == venue.id)
                .ok_or(Failure::App(AppError::NotFound))?;
            tx.delete_closure(c.id).await?;
            let tz = venue_zone(venue)?;
            Ok(Applied {
                action: "closure.remove",
                resource: c.resource_id,
                service: None,
                before: Some(format!(
                    "closure #{}: {} to {} {:?}",
                    c.id,
                    schedule::label(tz, c.starts_at),
                    schedule::label(tz, c.ends_at),
                    c.reason
                )),
                after: None,
            })
        }
    }
}

/// After a change of grid unit, the venue's bookings still to come claim
/// the units of the new grid: otherwise a new booking, claiming new units,
/// would not collide with an old one on the unique index.
async fn reclaim_on_new_grid<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    now: i64,
) -> Result<(), Failure> {
    let unit = venue.grid_minutes * 60;
    let live = tx.live_bookings_after(venue.id, now).await?;
    if let Some(off) = live
        .iter()
        .find(|b| !schedule::is_on_grid(b.starts_at, unit))
    {
        return Err(invalid(
            "grid_minutes",
            format!(
                "Booking #{} starts off a {}-minute grid; move it first, or keep the grid.",
                off.id, venue.grid_minutes
            ),
        ));
    }
    // In id order, as every other writer of booking rows does.
    let mut live = live;
    live.sort_by_key(|b| b.id);
    for b in &live {
        let cleanup = match b.service_id {
            Some(s) => tx.service(s).await?.map_or(0, |s| s.cleanup_minutes * 60),
            None => 0,
        };
        let occupied = Span::new(
            b.starts_at,
            schedule::ceil_to_grid(b.ends_at + cleanup, unit),
        );
        let resources = tx.booking_resources(b.id).await?;
        tx.delete_claims(b.id).await?;
        tx.reschedule(b.id, b.starts_at, b.ends_at, occupied.end, now)
            .await?;
        if let Err(e) = tx.insert_claims(b.id, &resources, occupied, unit).await {
            return Err(if is_guard_violation(&e) {
                invalid(
                    "grid_minutes",
                    format!(
                        "On a {}-minute grid, booking #{} would share time with another; keep the grid.",
                        venue.grid_minutes, b.id
                    ),
                )
            } else {
                e.into()
            });
        }
    }
    Ok(())
}

impl Engine {
    /// Writes the counts gathered in memory to the database.
    pub async fn flush_stats(&self) -> Result<(), AppError> {
        let pending = self.recorder().take();
        if pending.is_empty() {
            return Ok(());
        }
        let written = with_backend!(self.db(), |b| {
            retrying(self.counters(), || async {
                let mut tx = b.begin_write().await?;
                for ((venue, hour, event), n) in &pending {
                    tx.add_stat(*venue, *hour, event.kind(), *n).await?;
                }
                tx.commit().await?;
                Ok::<_, Failure>(())
            })
            .await
        });
        if let Err(f) = written {
            self.recorder().restore(pending);
            return Err(settle_app(f));
        }
        Ok(())
    }

    /// The venues `staff` may run.
    pub async fn venues_run_by(&self, staff: Staff) -> Result<Vec<StaffVenue>, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                let ids = tx.venues_run_by(staff.user.0).await?;
                let mut out = Vec::new();
                for v in tx.venues().await? {
                    if ids.contains(&v.id) {
                        let tz = venue_zone(&v)?;
                        out.push(StaffVenue {
                            id: VenueId(v.id),
                            name: v.name,
                            today: schedule::local_date(tz, now),
                        });
                    }
                }
                Ok::<_, Failure>(out)
            }
            .await
            .map_err(settle_app)
        })
    }

    /// A set-up change, with the stranded-bookings check: see `StrandChoice`.
    pub async fn change(
        &self,
        staff: Staff,
        venue: VenueId,
        change: &Change,
        choice: StrandChoice,
    ) -> Result<(), AppError> {
        let done = with_backend!(self.db(), |b| {
            retrying(self.counters(), || {
                change_attempt(b, self.clock(), staff, venue, change, choice)
            })
            .await
            .map_err(settle_app)
        });
        if done.is_ok() {
            self.changed();
        }
        done
    }

    /// Live bookings of the venue, still to come or under way, that its
    /// set-up no longer takes (see `stranded`): the ones staff chose to
    /// keep through a change. A booking made after a change is never among
    /// them: it was decided on the new set-up.
    pub async fn stranded_bookings(
        &self,
        staff: Staff,
        venue: VenueId,
    ) -> Result<Vec<BookingId>, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                authorize(&mut tx, staff, venue.0).await?;
                let v = tx
                    .venue(venue.0)
                    .await?
                    .ok_or(Failure::App(AppError::NotFound))?;
                let tz = venue_zone(&v)?;
                Ok::<_, Failure>(
                    stranded(&mut tx, &v, tz, now)
                        .await?
                        .into_iter()
                        .map(|(row, _)| BookingId(row.id))
                        .collect(),
                )
            }
            .await
            .map_err(settle_app)
        })
    }

    /// Everything the set-up page edits.
    pub async fn venue_setup(&self, staff: Staff, venue: VenueId) -> Result<VenueSetup, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                authorize(&mut tx, staff, venue.0).await?;
                let v = tx
                    .venue(venue.0)
                    .await?
                    .ok_or(Failure::App(AppError::NotFound))?;
                let tz = venue_zone(&v)?;
                let offers = tx.offers(v.id).await?;
                let rows = tx.resources(v.id).await?;
                let mut resources = Vec::new();
                for r in &rows {
                    let entries = tx.weekly_of(r.id).await?;
                    let week = (0..7)
                        .map(|d| {
                            let mut day = WeekdayHours {
                                weekday: d,
                                ..WeekdayHours::default()
                            };
                            for e in entries.iter().filter(|e| e.weekday == d) {
                                let (from, to) =
                                    (format_clock(e.from_minute), format_clock(e.to_minute));
                                if e.is_break {
                                    (day.break_starts, day.break_ends) = (from, to);
                                } else {
                                    (day.opens, day.closes) = (from, to);
                                }
                            }
                            day
                        })
                        .collect();
                    let Some(kind) = kind_of(r) else { continue };
                    resources.push(ResourceSetup {
                        id: ResourceId(r.id),
                        kind,
                        name: r.name.clone(),
                        capacity: r.capacity,
                        active: r.active,
                        version: r.version,
                        offers: offers
                            .iter()
                            .filter(|(t, _)| *t == r.id)
                            .map(|(_, s)| ServiceId(*s))
                            .collect(),
                        week,
                    });
                }
                let services = tx
                    .services(v.id)
                    .await?
                    .into_iter()
                    .map(|s| ServiceSetup {
                        id: ServiceId(s.id),
                        name: s.name,
                        duration_minutes: s.duration_minutes,
                        cleanup_minutes: s.cleanup_minutes,
                        needs_room: s.needs_room,
                        active: s.active,
                        version: s.version,
                    })
                    .collect();
                let names: HashMap<i64, String> =
                    rows.iter().map(|r| (r.id, r.name.clone())).collect();
                let closures = tx
                    .closures(v.id, now, i64::MAX)
                    .await?
                    .iter()
                    .map(|c| closure_view(c, tz, &names))
                    .collect();
                Ok::<_, Failure>(VenueSetup {
                    settings: VenueSettings {
                        id: VenueId(v.id),
                        name: v.name.clone(),
                        timezone: v.timezone.clone(),
                        grid_minutes: v.grid_minutes,
                        hold_minutes: v.hold_minutes,
                        cancellation_window_minutes: v.cancellation_window_minutes,
                        min_notice_minutes: v.min_notice_minutes,
                        advance_days: v.advance_days,
                        seating_minutes: v.seating_minutes,
                        version: v.version,
                    },
                    resources,
                    services,
                    closures,
                })
            }
            .await
            .map_err(settle_app)
        })
    }

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
                authorize(&mut tx, staff, venue.0).await?;
                let v = tx
                    .venue(venue.0)
                    .await?
                    .ok_or(Failure::App(AppError::NotFound))?;
                let tz = venue_zone(&v)?;
                check_staff_date("date", date, tz, now)?;
                build_day(&mut tx, &v, tz, date, now).await
            }
            .await
            .map_err(settle_app)
        })
    }

    /// A booking with its customer and history, for staff of its venue.
    pub async fn booking_detail(
        &self,
        staff: Staff,
        id: BookingId,
    ) -> Result<BookingDetail, AppError> {
        let now = self.clock().now();
        let (booking, customer, history, created, date, time, movable) =
            with_backend!(self.db(), |b| {
                async {
                    let mut tx = b.begin_read().await?;
                    let row = tx
                        .booking(id.0)
                        .await?
                        .ok_or(Failure::App(AppError::NotFound))?;
                    authorize(&mut tx, staff, row.venue_id).await?;
                    let v = tx
                        .venue(row.venue_id)
                        .await?
                        .ok_or(Failure::App(AppError::NotFound))?;
                    let tz = venue_zone(&v)?;
                    let created = row.created_at;
                    let customer = tx.user(row.customer_id).await?;
                    let audit_rows = tx.audit_of_booking(row.id).await?;
                    let history = audit_entries(&mut tx, &v, tz, audit_rows).await?;
                    let used = tx.booking_resources(row.id).await?;
                    let resources = tx.resources(v.id).await?;
                    let kind = used
                        .iter()
                        .filter_map(|u| resources.iter().find(|r| r.id == *u))
                        .find(|r| r.kind != "room")
                        .map(|r| r.kind.clone());
                    let movable: Vec<(ResourceId, String)> = resources
                        .iter()
                        .filter(|r| r.active && Some(&r.kind) == kind.as_ref())
                        .map(|r| (ResourceId(r.id), r.name.clone()))
                        .collect();
                    let date = schedule::local_date(tz, row.starts_at);
                    let time = schedule::clock(tz, row.starts_at);
                    let booking = booking_from_row(&mut tx, row).await?;
                    Ok::<_, Failure>((
                        booking,
                        customer
                            .map(|u| (u.display_name, u.email))
                            .unwrap_or_default(),
                        history,
                        schedule::label(tz, created),
                        date,
                        time,
                        movable,
                    ))
                }
                .await
                .map_err(settle_app)
            })?;
        let view = super::views::booking_views(self.db(), vec![booking], now)
            .await
            .map_err(crate::domain::error::internal("loading a booking"))?
            .pop()
            .ok_or(AppError::NotFound)?;
        Ok(BookingDetail {
            view,
            customer_name: customer.0,
            customer_email: customer.1,
            created_label: created,
            history,
            date,
            time,
            movable_to: movable,
        })
    }

    /// Books for a customer (a phone call, a walk-in). A customer without
    /// an account gets one, without a password.
    pub async fn staff_book(&self, staff: Staff, req: &StaffBooking) -> Result<Booking, AppError> {
        let now = self.clock().now();
        check_staff_instant("start", req.start.timestamp(), now).map_err(settle_app)?;
        let customer = with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_write().await?;
                authorize(&mut tx, staff, req.venue.0).await?;
                let id = match tx.user_by_email(req.customer_email.as_str()).await? {
                    Some(u) => u.id,
                    None => tx
                        .insert_user(
                            req.customer_email.as_str(),
                            // Not a PHC string: no password opens it.
                            "!",
                            req.customer_name.as_str(),
                            "customer",
                            now,
                        )
                        .await?
                        .ok_or(Failure::App(AppError::Busy))?,
                };
                tx.commit().await?;
                Ok::<_, Failure>(UserId(id))
            }
            .await
            .map_err(settle_app)
        })?;
        let request = BookingRequest {
            customer,
            venue: req.venue,
            offer: req.offer,
            resource: req.resource,
            start: req.start,
            idempotency_key: req.idempotency_key.clone(),
        };
        Ok(self.book_as_staff(&request, staff.user).await?)
    }

    /// Moves a booking to another start or resource in one transaction:
    /// its old claims go and the new ones are inserted under the same
    /// locks, so it is never without a time nor holding two. A taken
    /// target answers with alternatives, as for customers.
    pub async fn move_booking(
        &self,
        staff: Staff,
        id: BookingId,
        start: chrono::DateTime<chrono::Utc>,
        resource: Option<ResourceId>,
    ) -> Result<Booking, AppError> {
        check_staff_instant("start", start.timestamp(), self.clock().now()).map_err(settle_app)?;
        with_backend!(self.db(), |b| {
            let result = retrying(self.counters(), || {
                move_attempt(b, self.clock(), staff, id, start.timestamp(), resource)
            })
            .await;
            match result {
                Ok(booking) => {
                    self.changed();
                    Ok(booking)
                }
                Err(Failure::Taken) => Err(self.move_taken(b, id, start, resource).await),
                Err(Failure::Db(e)) if is_guard_violation(&e) => {
                    Err(self.move_taken(b, id, start, resource).await)
                }
                Err(f) => Err(settle_app(f)),
            }
        })
    }

    async fn move_taken<B: Backend>(
        &self,
        b: &B,
        id: BookingId,
        start: chrono::DateTime<chrono::Utc>,
        resource: Option<ResourceId>,
    ) -> AppError {
        let req = async {
            let mut tx = b.begin_read().await?;
            let row = tx
                .booking(id.0)
                .await?
                .ok_or(Failure::App(AppError::NotFound))?;
            self.recorder()
                .record(row.venue_id, self.clock().now(), Event::Conflict);
            Ok::<_, Failure>(BookingRequest {
                customer: UserId(row.customer_id),
                venue: VenueId(row.venue_id),
                offer: offer_of(&row)?,
                resource: resource.map_or(ResourceChoice::Any, ResourceChoice::Specific),
                start,
                idempotency_key: IdempotencyKey::parse(format!("move-booking-{}", row.id))
                    .map_err(|e| Failure::App(e.into()))?,
            })
        }
        .await;
        let alternatives = match req {
            Ok(req) => alternatives(b, self.clock().now(), &req)
                .await
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        AppError::SlotTaken { alternatives }
    }

    /// Marks a confirmed booking completed or a no-show, once it started.
    /// A no-show frees the rest of its time.
    pub async fn mark(
        &self,
        staff: Staff,
        id: BookingId,
        status: BookingStatus,
    ) -> Result<Booking, AppError> {
        if !matches!(status, BookingStatus::Completed | BookingStatus::NoShow) {
            return Err(AppError::BadRequest);
        }
        with_backend!(self.db(), |b| {
            retrying(self.counters(), || async {
                let mut tx = b.begin_write().await?;
                let row = tx
                    .booking(id.0)
                    .await?
                    .ok_or(Failure::App(AppError::NotFound))?;
                authorize(&mut tx, staff, row.venue_id).await?;
                lock_booking_resources(&mut tx, row.id).await?;
                let row = tx
                    .lock_booking(id.0)
                    .await?
                    .ok_or(Failure::App(AppError::NotFound))?;
                let now = self.clock().now();
                let current =
                    BookingStatus::parse(&row.status).ok_or(Failure::App(AppError::Internal))?;
                if current == status {
                    return Ok(booking_from_row(&mut tx, row).await?);
                }
                if current != BookingStatus::Confirmed {
                    return Err(Failure::App(AppError::Refused {
                        message: format!(
                            "Only a confirmed booking can be marked; this one is {current}."
                        ),
                    }));
                }
                if row.starts_at > now {
                    return Err(Failure::App(AppError::Refused {
                        message: "A booking can be marked once it has started.".to_owned(),
                    }));
                }
                if status == BookingStatus::NoShow {
                    tx.delete_claims(row.id).await?;
                }
                tx.set_status(row.id, status.as_str(), None, now).await?;
                tx.insert_audit(&NewAudit {
                    at: now,
                    actor_id: staff.user.0,
                    venue_id: row.venue_id,
                    booking_id: Some(row.id),
                    action: if status == BookingStatus::NoShow {
                        "booking.no_show"
                    } else {
                        "booking.complete"
                    },
                    before: Some(current.as_str().to_owned()),
                    after: Some(status.as_str().to_owned()),
                    ..NewAudit::default()
                })
                .await?;
                let row = tx
                    .booking(row.id)
                    .await?
                    .ok_or(Failure::App(AppError::Internal))?;
                let booking = booking_from_row(&mut tx, row).await?;
                tx.commit().await?;
                self.changed();
                Ok::<Booking, Failure>(booking)
            })
            .await
            .map_err(settle_app)
        })
    }

    /// The audit trail of a venue: a day's entries (venue time), or the
    /// latest 500; only those about one resource when given.
    pub async fn audit_trail(
        &self,
        staff: Staff,
        venue: VenueId,
        date: Option<NaiveDate>,
        resource: Option<ResourceId>,
    ) -> Result<Vec<AuditEntry>, AppError> {
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                authorize(&mut tx, staff, venue.0).await?;
                let v = tx
                    .venue(venue.0)
                    .await?
                    .ok_or(Failure::App(AppError::NotFound))?;
                let tz = venue_zone(&v)?;
                let (from, to) = match date {
                    Some(d) => {
                        check_staff_date("date", d, tz, self.clock().now())?;
                        let span = schedule::local_day(tz, d);
                        (span.start, span.end)
                    }
                    None => (i64::MIN, i64::MAX),
                };
                let rows = tx.audit(v.id, from, to, resource.map(|r| r.0)).await?;
                audit_entries(&mut tx, &v, tz, rows).await
            }
            .await
            .map_err(settle_app)
        })
    }

    /// Booking activity of the venues `staff` runs: the last 48 hours hour
    /// by hour, and totals.
    pub async fn stats(&self, staff: Staff) -> Result<Stats, AppError> {
        self.flush_stats().await?;
        let since = hour_of(self.clock().now()) - 47 * 3600;
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                let ids = tx.venues_run_by(staff.user.0).await?;
                let names: HashMap<i64, String> = tx
                    .venues()
                    .await?
                    .into_iter()
                    .filter(|v| ids.contains(&v.id))
                    .map(|v| (v.id, v.name))
                    .collect();
                let hours = group_stats(tx.stats_since(since).await?, &names);
                let totals = group_stats(tx.stat_totals().await?, &names);
                Ok::<_, Failure>(Stats { hours, totals })
            }
            .await
            .map_err(settle_app)
        })
    }

    /// Totals of every venue, for `/metrics`: (venue name, kind, count).
    pub async fn stat_totals(&self) -> Result<Vec<(String, &'static str, i64)>, AppError> {
        self.flush_stats().await?;
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                let names: HashMap<i64, String> = tx
                    .venues()
                    .await?
                    .into_iter()
                    .map(|v| (v.id, v.name))
                    .collect();
                Ok::<_, Failure>(
                    tx.stat_totals()
                        .await?
                        .into_iter()
                        .filter_map(|r| {
                            Some((
                                names.get(&r.venue_id)?.clone(),
                                Event::parse(&r.kind)?.kind(),
                                r.count,
                            ))
                        })
                        .collect(),
                )
            }
            .await
            .map_err(settle_app)
        })
    }
}

/// What an admin sets for a staff account.
#[derive(Clone, Debug)]
pub struct StaffAccount {
    pub role: super::accounts::Role,
    pub venues: Vec<VenueId>,
}

impl Engine {
    /// Staff and admins, with the venues each runs. Admins only.
    pub async fn staff_members(&self, admin: Staff) -> Result<Vec<StaffMember>, AppError> {
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                authorize_admin(&mut tx, admin).await?;
                let pairs = tx.staff_assignments().await?;
                Ok::<_, Failure>(
                    tx.staff_members()
                        .await?
                        .into_iter()
                        .map(|u| StaffMember {
                            venues: pairs
                                .iter()
                                .filter(|(user, _)| *user == u.id)
                                .map(|(_, v)| VenueId(*v))
                                .collect(),
                            id: UserId(u.id),
                            email: u.email,
                            name: u.display_name,
                            role: u.role,
                        })
                        .collect(),
                )
            }
            .await
            .map_err(settle_app)
        })
    }

    /// Makes the account with `email` staff or admin (or a customer again)
    /// and sets the venues it runs. Admins only; nobody changes their own
    /// role, so the last admin cannot lock everyone out by accident.
    pub async fn set_staff(
        &self,
        admin: Staff,
        email: &Email,
        account: &StaffAccount,
    ) -> Result<UserId, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_write().await?;
                authorize_admin(&mut tx, admin).await?;
                let user = tx.user_by_email(email.as_str()).await?.ok_or_else(|| {
                    invalid(
                        "email",
                        "No account has this email; ask them to register first.",
                    )
                })?;
                if user.id == admin.user.0 {
                    return Err(invalid("email", "You cannot change your own role."));
                }
                let known = tx.venues().await?;
                if account
                    .venues
                    .iter()
                    .any(|v| !known.iter().any(|k| k.id == v.0))
                {
                    return Err(invalid("venues", "Choose venues from the list."));
                }
                let role = account.role.as_str();
                let before = format!("{} of {:?}", user.role, tx.venues_run_by(user.id).await?);
                tx.set_role(user.id, role).await?;
                tx.unassign_staff(user.id).await?;
                if role == "staff" {
                    for v in &account.venues {
                        tx.assign_staff(user.id, v.0).await?;
                    }
                }
                let after = format!("{role} of {:?}", tx.venues_run_by(user.id).await?);
                // The trail of staff changes lives with each venue concerned.
                let mut touched: Vec<i64> = account.venues.iter().map(|v| v.0).collect();
                touched.extend(known.iter().filter(|_| role != "staff").map(|k| k.id));
                touched.sort_unstable();
                touched.dedup();
                for venue in touched {
                    tx.insert_audit(&NewAudit {
                        at: now,
                        actor_id: admin.user.0,
                        venue_id: venue,
                        action: "staff.set",
                        before: Some(format!("{}: {before}", user.email)),
                        after: Some(format!("{}: {after}", user.email)),
                        ..NewAudit::default()
                    })
                    .await?;
                }
                tx.commit().await?;
                Ok::<_, Failure>(UserId(user.id))
            }
            .await
            .map_err(settle_app)
        })
    }

    /// A new venue with default rules and nothing to book yet; its
    /// resources, services and hours are added on its set-up page.
    /// Admins only.
    pub async fn add_venue(
        &self,
        admin: Staff,
        name: &str,
        timezone: &str,
        tables: bool,
    ) -> Result<VenueId, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_write().await?;
                authorize_admin(&mut tx, admin).await?;
                let name = check_name("name", name)?;
                if timezone.parse::<Tz>().is_err() {
                    return Err(invalid(
                        "timezone",
                        "Use a time zone name like Europe/London.",
                    ));
                }
                if tx.venues().await?.iter().any(|v| v.name == name) {
                    return Err(invalid("name", "Another venue has this name."));
                }
                let id = tx
                    .insert_venue(&super::store::NewVenueRow {
                        name: &name,
                        timezone,
                        grid_minutes: 15,
                        hold_minutes: 10,
                        cancellation_window_minutes: 24 * 60,
                        min_notice_minutes: 60,
                        advance_days: 60,
                        seating_minutes: tables.then_some(90),
                    })
                    .await?;
                let row = tx
                    .venue(id)
                    .await?
                    .ok_or(Failure::App(AppError::Internal))?;
                tx.insert_audit(&NewAudit {
                    at: now,
                    actor_id: admin.user.0,
                    venue_id: id,
                    action: "venue.add",
                    after: Some(settings_json(&row)),
                    ..NewAudit::default()
                })
                .await?;
                tx.commit().await?;
                Ok::<_, Failure>(VenueId(id))
            }
            .await
            .map_err(settle_app)
        })
    }
}

fn group_stats(rows: Vec<StatRow>, names: &HashMap<i64, String>) -> Vec<HourStats> {
    let mut grouped: BTreeMap<(std::cmp::Reverse<i64>, i64), HourStats> = BTreeMap::new();
    for r in rows {
        let Some(name) = names.get(&r.venue_id) else {
            continue;
        };
        let s = grouped
            .entry((std::cmp::Reverse(r.hour_start), r.venue_id))
            .or_insert_with(|| HourStats {
                venue: VenueId(r.venue_id),
                venue_name: name.clone(),
                hour_start: schedule::to_datetime(r.hour_start),
                ..HourStats::default()
            });
        match Event::parse(&r.kind) {
            Some(Event::Booked) => s.booked += r.count,
            Some(Event::Conflict) => s.conflicts += r.count,
            Some(Event::HoldPlaced) => s.holds_placed += r.count,
            Some(Event::HoldConfirmed) => s.holds_confirmed += r.count,
            Some(Event::HoldExpired) => s.holds_expired += r.count,
            None => {}
        }
    }
    grouped.into_values().collect()
}

async fn audit_entries<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    tz: Tz,
    rows: Vec<super::store::AuditRow>,
) -> Result<Vec<AuditEntry>, Failure> {
    let names: HashMap<i64, String> = tx
        .resources(venue.id)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|a| AuditEntry {
            id: a.id,
            at: schedule::to_datetime(a.at),
            at_label: schedule::label(tz, a.at),
            actor: a.actor_name,
            venue: VenueId(a.venue_id),
            resource: a.resource_id.map(ResourceId),
            resource_name: a.resource_id.and_then(|r| names.get(&r).cloned()),
            booking: a.booking_id.map(BookingId),
            action: a.action,
            before: a.before,
            after: a.after,
        })
        .collect())
}

fn closure_view(c: &ClosureRow, tz: Tz, names: &HashMap<i64, String>) -> ClosureView {
    ClosureView {
        id: c.id,
        resource: c.resource_id.map(ResourceId),
        what: match c.resource_id {
            Some(r) => names.get(&r).cloned().unwrap_or_else(|| format!("#{r}")),
            None => "the whole venue".to_owned(),
        },
        when: format!(
            "{} to {}",
            schedule::label(tz, c.starts_at),
            schedule::label(tz, c.ends_at)
        ),
        reason: c.reason.clone(),
    }
}

fn offer_of(row: &BookingRow) -> Result<Offer, Failure> {
    match (row.service_id, row.party_size) {
        (Some(s), _) => Ok(Offer::Service(ServiceId(s))),
        (None, Some(p)) => Ok(Offer::Table(
            PartySize::parse(p).map_err(|e| Failure::App(e.into()))?,
        )),
        _ => Err(Failure::App(AppError::Internal)),
    }
}

async fn change_attempt<B: Backend>(
    b: &B,
    clock: &Clock,
    staff: Staff,
    venue: VenueId,
    change: &Change,
    choice: StrandChoice,
) -> Result<(), Failure> {
    if B::Tx::LOCKS_AT_BEGIN {
        pauses::pause(Point::BeforeLock).await;
    }
    let mut tx = b.begin_write().await?;
    authorize(&mut tx, staff, venue.0).await?;
    if !B::Tx::LOCKS_AT_BEGIN {
        pauses::pause(Point::BeforeLock).await;
    }
    // Every booker of the venue queues behind this; everything below is
    // read under the lock, the time included.
    tx.lock_venue(venue.0).await?;
    let now = clock.now();
    let before_row = tx
        .venue(venue.0)
        .await?
        .ok_or(Failure::App(AppError::NotFound))?;
    let tz = venue_zone(&before_row)?;
    let already: HashSet<i64> = stranded(&mut tx, &before_row, tz, now)
        .await?
        .into_iter()
        .map(|(r, _)| r.id)
        .collect();
    let applied = apply(&mut tx, &before_row, change, now).await?;
    let after_row = tx
        .venue(venue.0)
        .await?
        .ok_or(Failure::App(AppError::Internal))?;
    let newly: Vec<(BookingRow, Vec<i64>)> = stranded(&mut tx, &after_row, tz, now)
        .await?
        .into_iter()
        .filter(|(r, _)| !already.contains(&r.id))
        .collect();
    let mut note = String::new();
    if !newly.is_empty() {
        match choice {
            StrandChoice::Ask => {
                let bookings = describe(&mut tx, venue.0, tz, &newly).await?;
                return Err(Failure::App(AppError::Strands {
                    bookings,
                    submitted: BTreeMap::new(),
                }));
            }
            StrandChoice::Cancel => {
                // In id order, as every other writer of booking rows does.
                let mut newly = newly.clone();
                newly.sort_by_key(|(r, _)| r.id);
                for (row, _) in &newly {
                    cancel_by_venue(&mut tx, staff, row, now, applied.action).await?;
                }
                note = format!(" (cancelled {} booking(s))", newly.len());
            }
            StrandChoice::Keep => {
                note = format!(
                    " (kept booking(s) {})",
                    newly
                        .iter()
                        .map(|(r, _)| format!("#{}", r.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }
    tx.insert_audit(&NewAudit {
        at: now,
        actor_id: staff.user.0,
        venue_id: venue.0,
        resource_id: applied.resource,
        service_id: applied.service,
        booking_id: None,
        action: applied.action,
        before: applied.before,
        after: applied
            .after
            .map(|a| a + &note)
            .or((!note.is_empty()).then(|| note.trim().to_owned())),
    })
    .await?;
    pauses::pause(Point::BeforeCommit).await;
    tx.commit().await?;
    tracing::info!(venue = venue.0, action = applied.action, "staff change");
    Ok(())
}

async fn move_attempt<B: Backend>(
    b: &B,
    clock: &Clock,
    staff: Staff,
    id: BookingId,
    start: i64,
    target: Option<ResourceId>,
) -> Result<Booking, Failure> {
    if B::Tx::LOCKS_AT_BEGIN {
        pauses::pause(Point::BeforeLock).await;
    }
    let mut tx = b.begin_write().await?;
    let first = tx
        .booking(id.0)
        .await?
        .ok_or(Failure::App(AppError::NotFound))?;
    authorize(&mut tx, staff, first.venue_id).await?;
    // Lock first, then read everything that decides: the booking's own
    // resources and those of the target, read again under the locks until
    // they are the ones locked (a set-up change or another move may change
    // them meanwhile). Set-up changes lock every resource of the venue, so
    // the venue, the need and the booking read in the last round are
    // settled until COMMIT.
    let mut locked: Vec<i64> = Vec::new();
    let (venue, used, resources, need) = loop {
        let venue = tx
            .venue(first.venue_id)
            .await?
            .ok_or(Failure::App(AppError::Internal))?;
        let row = tx
            .booking(id.0)
            .await?
            .ok_or(Failure::App(AppError::NotFound))?;
        let used = tx.booking_resources(row.id).await?;
        let resources = tx.resources(venue.id).await?;
        // Without a new resource, the booking keeps its therapist or table.
        let primary = used
            .iter()
            .copied()
            .find(|u| resources.iter().any(|r| r.id == *u && r.kind != "room"));
        let choice = match target.map(|r| r.0).or(primary) {
            Some(r) => ResourceChoice::Specific(ResourceId(r)),
            None => ResourceChoice::Any,
        };
        let need = need_for(&mut tx, &venue, offer_of(&row)?, choice).await?;
        let mut wanted = need.lock_set();
        wanted.extend(&used);
        if B::Tx::LOCKS_AT_BEGIN || wanted.iter().all(|r| locked.contains(r)) {
            break (venue, used, resources, need);
        }
        pauses::pause(Point::BeforeLock).await;
        locked.extend(wanted);
        locked.sort_unstable();
        locked.dedup();
        tx.lock_resources(&locked).await?;
    };
    if B::Tx::LOCKS_AT_BEGIN {
        locked = need.lock_set();
        locked.extend(&used);
    }
    // The booking's own row, locked: its status and expiry decide, at the
    // time read now.
    let row = tx
        .lock_booking(id.0)
        .await?
        .ok_or(Failure::App(AppError::NotFound))?;
    let now = clock.now();
    let status = BookingStatus::parse(&row.status).ok_or(Failure::App(AppError::Internal))?;
    if !status.is_live() {
        return Err(Failure::App(AppError::Refused {
            message: format!("That booking is {status} and can no longer be moved."),
        }));
    }
    let tz = venue_zone(&venue)?;
    if let (BookingStatus::Held, Some(lapsed)) = (status, row.hold_expires_at) {
        // Lapsed but not yet swept: its time is no longer the customer's,
        // and moving it would claim time for a booking that is gone.
        if lapsed <= now {
            return Err(Failure::App(AppError::Refused {
                message: format!(
                    "That hold lapsed at {} and can no longer be moved; book the time for the customer instead.",
                    schedule::clock(tz, lapsed)
                ),
            }));
        }
    }
    check_time_rules(&venue, now, start, Rules::Staff { by: staff.user })?;
    let unit = venue.grid_minutes * 60;
    let (span, occupied) = need.spans(start, unit);
    expire_lapsed(&mut tx, &locked, now).await?;
    // Its own claims go first, so that it may move within its own time.
    tx.delete_claims(row.id).await?;
    let (primary, new_resources) = pick(&mut tx, &venue, tz, &need, span, occupied, now).await?;
    tx.delete_booking_resources(row.id).await?;
    tx.insert_booking_resources(row.id, &new_resources).await?;
    tx.insert_claims(row.id, &new_resources, occupied, unit)
        .await?;
    tx.reschedule(row.id, span.start, span.end, occupied.end, now)
        .await?;
    let names: HashMap<i64, String> = resources.iter().map(|r| (r.id, r.name.clone())).collect();
    let with = |rs: &[i64]| {
        rs.iter()
            .filter_map(|r| names.get(r).cloned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    tx.insert_audit(&NewAudit {
        at: now,
        actor_id: staff.user.0,
        venue_id: venue.id,
        resource_id: Some(primary),
        booking_id: Some(row.id),
        action: "booking.move",
        before: Some(format!(
            "{}, {}",
            schedule::label(tz, row.starts_at),
            with(&used)
        )),
        after: Some(format!(
            "{}, {}",
            schedule::label(tz, span.start),
            with(&new_resources)
        )),
        ..NewAudit::default()
    })
    .await?;
    let moved = tx
        .booking(row.id)
        .await?
        .ok_or(Failure::App(AppError::Internal))?;
    let booking = booking_from_row(&mut tx, moved).await?;
    pauses::pause(Point::BeforeCommit).await;
    tx.commit().await?;
    tracing::info!(booking = row.id, start, resources = ?new_resources, "booking moved");
    Ok(booking)
}

async fn build_day<S: Store>(
    tx: &mut S,
    v: &VenueRow,
    tz: Tz,
    date: NaiveDate,
    now: i64,
) -> Result<DayView, Failure> {
    let day_span = schedule::local_day(tz, date);
    let unit = v.grid_minutes * 60;
    let weekday = schedule::weekday_index(date);
    let resources: Vec<ResourceRow> = tx
        .resources(v.id)
        .await?
        .into_iter()
        .filter(|r| r.active)
        .collect();
    let to_span = |from: i64, to: i64| {
        Span::new(
            schedule::local_instant(tz, date, from, schedule::Ambiguity::Earliest),
            schedule::local_instant(tz, date, to, schedule::Ambiguity::Earliest),
        )
    };
    let hours: Vec<(i64, Span)> = tx
        .weekly_hours(v.id, weekday)
        .await?
        .into_iter()
        .map(|h| (h.resource_id, to_span(h.from_minute, h.to_minute)))
        .collect();
    let breaks: Vec<(i64, Span)> = tx
        .weekly_breaks(v.id, weekday)
        .await?
        .into_iter()
        .map(|h| (h.resource_id, to_span(h.from_minute, h.to_minute)))
        .collect();
    let closures = tx.closures(v.id, day_span.start, day_span.end).await?;
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
            !(r.status == "held" && r.hold_expires_at.is_some_and(|t| t <= now))
                && matches!(
                    r.status.as_str(),
                    "held" | "confirmed" | "completed" | "no_show"
                )
        })
        .collect();
    // Rows from the earliest opening to the latest closing (or the
    // bookings beyond them), 09:00-18:00 on a day nobody works.
    let first = hours
        .iter()
        .map(|(_, s)| s.start)
        .chain(shown.iter().map(|r| r.starts_at))
        .min()
        .unwrap_or(to_span(9 * 60, 18 * 60).start)
        .max(day_span.start);
    let last = hours
        .iter()
        .map(|(_, s)| s.end)
        .chain(shown.iter().map(|r| r.occupied_until))
        .max()
        .unwrap_or(to_span(9 * 60, 18 * 60).end)
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
                    let status =
                        BookingStatus::parse(&b.status).unwrap_or(BookingStatus::Confirmed);
                    let label = match status {
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
                        status,
                        label,
                        first: b.starts_at >= t && b.starts_at < t + unit,
                        cleanup: t >= b.ends_at,
                    };
                }
                if let Some(c) = closures.iter().find(|c| {
                    (c.resource_id.is_none() || c.resource_id == Some(res.id))
                        && Span::new(c.starts_at, c.ends_at).overlaps(&cell_span)
                }) {
                    return DayCell::Closed {
                        reason: if c.reason.is_empty() {
                            "closed".to_owned()
                        } else {
                            c.reason.clone()
                        },
                    };
                }
                if breaks
                    .iter()
                    .any(|(r, s)| *r == res.id && s.overlaps(&cell_span))
                {
                    return DayCell::Break;
                }
                if hours
                    .iter()
                    .any(|(r, s)| *r == res.id && s.contains(&cell_span))
                {
                    DayCell::Free
                } else {
                    DayCell::Off
                }
            })
            .collect();
        grid_rows.push(DayRow {
            time: schedule::clock(tz, t),
            start: schedule::to_datetime(t),
            cells,
        });
        t += unit;
    }
    let bookings = rows
        .iter()
        .filter(|r| r.status != "expired")
        .map(|r| {
            let status = BookingStatus::parse(&r.status).unwrap_or(BookingStatus::Confirmed);
            DayBooking {
                id: BookingId(r.id),
                status,
                time: format!(
                    "{}–{}",
                    schedule::clock(tz, r.starts_at),
                    schedule::clock(tz, r.ends_at)
                ),
                customer: names.customer(r),
                what: names.what(r),
                with: names.with(used.get(&r.id).map(Vec::as_slice).unwrap_or(&[])),
                status_label: match (status, r.cancelled_by.as_deref()) {
                    (BookingStatus::Held, _) => format!(
                        "held until {}",
                        r.hold_expires_at
                            .map(|h| schedule::clock(tz, h))
                            .unwrap_or_default()
                    ),
                    (BookingStatus::Cancelled, Some("venue")) => {
                        "cancelled by the venue".to_owned()
                    }
                    (BookingStatus::Cancelled, _) => "cancelled by the customer".to_owned(),
                    (BookingStatus::NoShow, _) => "no-show".to_owned(),
                    (s, _) => s.as_str().to_owned(),
                },
            }
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
        closures: closures
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
    })
}

#[cfg(test)]
mod tests {
    use super::{format_clock, parse_clock, week_windows};
    use crate::domain::admin::WeekdayHours;

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
            week_windows(&day("09:00", "18:00", "13:00", "14:00")).ok(),
            Some((Some((540, 1080)), Some((780, 840))))
        );
        assert_eq!(week_windows(&day("", "", "", "")).ok(), Some((None, None)));
        for bad in [
            day("18:00", "09:00", "", ""),
            day("09:00", "", "", ""),
            day("09:00", "18:00", "08:00", "10:00"),
            day("09:00", "18:00", "13:00", ""),
            day("", "", "13:00", "14:00"),
        ] {
            assert!(week_windows(&bad).is_err(), "{bad:?}");
        }
    }
}
