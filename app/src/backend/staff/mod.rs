//! What staff do: the day view, bookings made and moved for customers,
//! the venue's set-up, the audit trail, the team and the statistics.
//!
//! Staff work goes through the booking engine's pieces: one cancellation
//! (`engine::cancel_in`), one lock set (`engine::LockSet`), one placement
//! (`engine::find_spot`) and one `engine::Day`. Every operation checks in
//! the database that the user may run the venue (an admin, or staff
//! assigned to it), whatever the session says. Changes run in one write
//! transaction that first locks the venue, so bookings of the venue wait
//! for them and the check for stranded bookings sees a settled schedule;
//! each writes its audit row in that transaction.
//!
//! May use: `backend::engine`, `backend::store`, `backend::db`, `domain`.

mod activity;
mod audit;
mod bookings;
mod changes;
mod claims;
mod day_view;
mod setup;
mod strands;
mod team;
mod waitlist;

pub use crate::domain::admin::{format_clock, parse_clock};
pub use bookings::StaffBooking;
pub use changes::Change;
pub use team::StaffAccount;

use crate::domain::admin::{ClosureView, Role, StaffVenue};
use crate::domain::error::AppError;
use crate::domain::ids::{BookingId, ResourceId, UserId, VenueId};
use crate::domain::input::InvalidInput;
use crate::domain::schedule;
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::HashMap;

use super::db::{with_backend, Backend};
use super::engine::{settle_app, venue_zone, Engine, Failure};
use super::store::{BookingRow, ClosureRow, MessageState, ResourceRow, Store, VenueRow};
use crate::backend::store::prelude::*;

/// A signed-in staff member or admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Staff {
    pub user: UserId,
}
fn invalid(field: &'static str, message: impl Into<String>) -> Failure {
    Failure::App(InvalidInput::new(field, message).into())
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
/// Whether `user` may run `venue`; `Forbidden` otherwise.
/// Booking `id`, when `staff` work at its venue; not found otherwise.
async fn staff_booking<S: Store>(tx: &mut S, staff: Staff, id: i64) -> Result<BookingRow, Failure> {
    let row = tx
        .booking(id)
        .await?
        .ok_or(Failure::App(AppError::NotFound))?;
    authorize(tx, staff, row.venue_id).await?;
    Ok(row)
}

async fn authorize<S: Store>(tx: &mut S, staff: Staff, venue: i64) -> Result<(), Failure> {
    if tx.may_run(staff.user.0, venue).await? {
        Ok(())
    } else {
        Err(Failure::App(AppError::Forbidden))
    }
}

async fn authorize_admin<S: Store>(tx: &mut S, staff: Staff) -> Result<(), Failure> {
    match tx.user(staff.user.0).await? {
        Some(u) if u.role == Role::Admin => Ok(()),
        _ => Err(Failure::App(AppError::Forbidden)),
    }
}

/// The venue `staff` may run, with its zone; `Forbidden` or `NotFound`
/// otherwise.
async fn venue_for<S: Store>(
    tx: &mut S,
    staff: Staff,
    venue: VenueId,
) -> Result<(VenueRow, Tz), Failure> {
    authorize(tx, staff, venue.0).await?;
    let v = tx
        .venue(venue.0)
        .await?
        .ok_or(Failure::App(AppError::NotFound))?;
    let tz = venue_zone(&v)?;
    Ok((v, tz))
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
impl Engine {
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
                        let undelivered = tx
                            .messages_at(v.id, MessageState::Dead, 20)
                            .await?
                            .iter()
                            .map(|m| {
                                (
                                    BookingId(m.booking_id),
                                    crate::backend::views::message_line(m, tz),
                                )
                            })
                            .collect();
                        out.push(StaffVenue {
                            id: VenueId(v.id),
                            name: v.name,
                            today: schedule::local_date(tz, now),
                            undelivered,
                        });
                    }
                }
                Ok::<_, Failure>(out)
            }
            .await
            .map_err(settle_app)
        })
    }
}
