//! One set-up change applied inside its transaction: the input checked
//! field by field, the rows written, and what the audit row records.

use crate::domain::admin::format_clock;
use crate::domain::admin::WeekdayHours;
use crate::domain::error::AppError;
use crate::domain::ids::{ResourceId, ServiceId};
use crate::domain::schedule;
use crate::domain::venue::ResourceKind;
use std::collections::{BTreeMap, HashMap};

use super::strands::reclaim_on_new_grid;
use super::{check_name, check_range, check_staff_instant, invalid};
use crate::backend::engine::{venue_zone, Failure};
use crate::backend::store::{ResourceRow, ServiceRow, Store, VenueRow};

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
        /// The most live holds one customer may have at once (None keeps it).
        max_holds_per_customer: Option<i64>,
        /// The most upcoming bookings one customer may have (None keeps it).
        max_upcoming_per_customer: Option<i64>,
        /// ISO 4217 (None keeps it).
        currency: Option<String>,
        /// Where the venue is (None keeps it; empty clears it).
        address: Option<String>,
        /// How long before a booking its customer is reminded, 0 for
        /// never (None keeps it).
        reminder_minutes: Option<i64>,
        /// How long a waitlist offer is held (None keeps it).
        offer_minutes: Option<i64>,
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
    /// A therapist starts or stops offering one service.
    Offer {
        resource: ResourceId,
        version: i64,
        service: ServiceId,
        offered: bool,
    },
    /// Weekdays' hours and breaks of a resource (0 is Monday), in one
    /// step: the week's editor sends all seven.
    Hours {
        resource: ResourceId,
        version: i64,
        days: Vec<WeekdayHours>,
    },
    AddService {
        name: String,
        duration_minutes: i64,
        cleanup_minutes: i64,
        needs_room: bool,
        /// Minor units of the venue's currency; none shows no price.
        price_cents: Option<i64>,
        description: String,
    },
    EditService {
        id: ServiceId,
        version: i64,
        name: String,
        duration_minutes: i64,
        cleanup_minutes: i64,
        needs_room: bool,
        active: bool,
        price_cents: Option<i64>,
        description: String,
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
pub(super) struct Applied {
    pub action: &'static str,
    pub resource: Option<i64>,
    pub service: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Free text a change writes (`input::free_text`), its error as a change's.
fn check_text(field: &'static str, text: &str, max: usize, what: &str) -> Result<String, Failure> {
    crate::domain::input::free_text(field, text, max, what).map_err(|e| Failure::App(e.into()))
}

fn check_price(cents: Option<i64>) -> Result<Option<i64>, Failure> {
    match cents {
        Some(c) if !(0..=100_000_000).contains(&c) => {
            Err(invalid("price", "A price is between 0 and 1,000,000."))
        }
        other => Ok(other),
    }
}

pub(super) fn settings_json(v: &VenueRow) -> String {
    serde_json::json!({
        "name": v.name,
        "grid_minutes": v.grid_minutes,
        "hold_minutes": v.hold_minutes,
        "cancellation_window_minutes": v.cancellation_window_minutes,
        "min_notice_minutes": v.min_notice_minutes,
        "advance_days": v.advance_days,
        "seating_minutes": v.seating_minutes,
        "max_holds_per_customer": v.max_holds_per_customer,
        "max_upcoming_per_customer": v.max_upcoming_per_customer,
        "currency": v.currency,
        "address": v.address,
        "reminder_minutes": v.reminder_minutes,
        "offer_minutes": v.offer_minutes,
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
        "price_cents": s.price_cents,
        "description": s.description,
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
pub(super) async fn apply<S: Store>(
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
            max_holds_per_customer,
            max_upcoming_per_customer,
            currency,
            address,
            reminder_minutes,
            offer_minutes,
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
                max_holds_per_customer: match max_holds_per_customer {
                    Some(n) => check_range(
                        "max_holds_per_customer",
                        *n,
                        1,
                        100,
                        "The most holds per customer",
                    )?,
                    None => venue.max_holds_per_customer,
                },
                max_upcoming_per_customer: match max_upcoming_per_customer {
                    Some(n) => check_range(
                        "max_upcoming_per_customer",
                        *n,
                        1,
                        1000,
                        "The most upcoming bookings per customer",
                    )?,
                    None => venue.max_upcoming_per_customer,
                },
                currency: match currency {
                    Some(c) => crate::domain::money::parse_currency(c)
                        .map_err(|e| invalid(e.field, e.message))?,
                    None => venue.currency.clone(),
                },
                address: match address {
                    Some(a) => check_text("address", a, 200, "The address")?,
                    None => venue.address.clone(),
                },
                reminder_minutes: match reminder_minutes {
                    Some(m) if (0..=14 * 24 * 60).contains(m) => *m,
                    Some(_) => {
                        return Err(invalid(
                            "reminder_minutes",
                            "A reminder goes at most 14 days before the booking (0 for none).",
                        ))
                    }
                    None => venue.reminder_minutes,
                },
                offer_minutes: match offer_minutes {
                    Some(m) => {
                        check_range("offer_minutes", *m, 5, 24 * 60, "A waitlist offer's hold")?
                    }
                    None => venue.offer_minutes,
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
            let id = tx.insert_resource(venue.id, *kind, &name, capacity).await?;
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
            let capacity = match (old.kind, capacity) {
                (ResourceKind::Table, Some(c)) => {
                    Some(check_range("capacity", *c, 1, 100, "Seats")?)
                }
                (ResourceKind::Table, None) => {
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
        Change::Offer {
            resource,
            version,
            service,
            offered,
        } => {
            let old = resource_of_venue(tx, venue.id, *resource).await?;
            if old.kind != ResourceKind::Therapist {
                return Err(invalid("services", "Only therapists offer services."));
            }
            let known: HashMap<i64, String> = tx
                .services(venue.id)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
            if !known.contains_key(&service.0) {
                return Err(invalid("services", "Choose services of this venue."));
            }
            let offered_now: Vec<i64> = tx
                .offers(venue.id)
                .await?
                .into_iter()
                .filter(|(r, _)| *r == old.id)
                .map(|(_, s)| s)
                .collect();
            if !tx.update_resource(&old, *version).await? {
                return Err(stale());
            }
            let was = offered_now.contains(&service.0);
            if *offered && !was {
                tx.insert_offer(old.id, service.0).await?;
            } else if !*offered && was {
                tx.delete_offer(old.id, service.0).await?;
            }
            let mut after = offered_now.clone();
            after.retain(|s| *s != service.0);
            if *offered {
                after.push(service.0);
            }
            after.sort_unstable();
            let names = |ids: &[i64]| {
                let names: Vec<String> = ids.iter().filter_map(|s| known.get(s).cloned()).collect();
                serde_json::Value::from(names).to_string()
            };
            Ok(Applied {
                action: "resource.services",
                resource: Some(old.id),
                service: Some(service.0),
                before: Some(names(&offered_now)),
                after: Some(names(&after)),
            })
        }
        Change::Hours {
            resource,
            version,
            days,
        } => {
            let old = resource_of_venue(tx, venue.id, *resource).await?;
            // Every day is checked before anything is written.
            let mut windows = Vec::with_capacity(days.len());
            for (i, day) in days.iter().enumerate() {
                if !(0..7).contains(&day.weekday) {
                    return Err(invalid("weekday", "A week has seven days."));
                }
                if days[..i].iter().any(|d| d.weekday == day.weekday) {
                    return Err(invalid("weekday", "Each weekday once."));
                }
                windows.push((
                    day.weekday,
                    day.windows().map_err(|e| Failure::App(e.into()))?,
                ));
            }
            let before = week_json(tx, old.id).await?;
            if !tx.update_resource(&old, *version).await? {
                return Err(stale());
            }
            for (weekday, (hours, pause)) in windows {
                tx.clear_weekday(old.id, weekday).await?;
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
            price_cents,
            description,
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
            let description = check_text("description", description, 500, "A description")?;
            let id = tx
                .insert_service(
                    venue.id,
                    &name,
                    duration,
                    cleanup,
                    *needs_room,
                    check_price(*price_cents)?,
                    &description,
                )
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
            price_cents,
            description,
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
                price_cents: check_price(*price_cents)?,
                description: check_text("description", description, 500, "A description")?,
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
