//! Bookings as staff handle them: the detail page, a booking made for a
//! customer, a move to another time or resource (placed as a booking is,
//! in one transaction), and marking completed or no-show.

use crate::domain::admin::{BookingDetail, Role};
use crate::domain::booking::{Booking, BookingRequest, BookingStatus, Offer, ResourceChoice};
use crate::domain::error::AppError;
use crate::domain::ids::{BookingId, ResourceId, ServiceId, UserId, VenueId};
use crate::domain::input::{DisplayName, Email, IdempotencyKey, PartySize};
use crate::domain::schedule;
use crate::domain::venue::ResourceKind;
use std::collections::HashMap;

use super::audit::audit_entries;
use super::{authorize, check_staff_instant, Staff};
use crate::backend::db::{is_guard_violation, with_backend, Backend};
use crate::backend::engine::{
    alternatives, begin_write, booking_from_row, find_spot, lapsed, lock_booking_resources,
    need_for, retrying, settle_app, venue_zone, Clock, Engine, Failure, LockSet, Rules,
};
use crate::backend::pauses::{self, Point};
use crate::backend::stats::Event;
use crate::backend::store::prelude::*;
use crate::backend::store::{BookingRow, NewAudit};

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
impl Engine {
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
                        .find(|r| r.kind != ResourceKind::Room)
                        .map(|r| r.kind);
                    let movable: Vec<(ResourceId, String)> = resources
                        .iter()
                        .filter(|r| r.active && Some(r.kind) == kind)
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
        let view = crate::backend::views::booking_views(self.db(), vec![booking], now)
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
                            Role::Customer,
                            now,
                        )
                        .await?
                        .ok_or(Failure::App(AppError::Unavailable))?,
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
                lock_booking_resources(&mut tx, &mut LockSet::default(), row.id).await?;
                let row = tx
                    .lock_booking(id.0)
                    .await?
                    .ok_or(Failure::App(AppError::NotFound))?;
                let now = self.clock().now();
                let current = row.status;
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
                tx.set_status(row.id, status, None, now).await?;
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
async fn move_attempt<B: Backend>(
    b: &B,
    clock: &Clock,
    staff: Staff,
    id: BookingId,
    start: i64,
    target: Option<ResourceId>,
) -> Result<Booking, Failure> {
    let mut tx = begin_write(b).await?;
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
    let mut locks = LockSet::default();
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
            .find(|u| resources.iter().any(|r| r.id == *u && r.kind != ResourceKind::Room));
        let choice = match target.map(|r| r.0).or(primary) {
            Some(r) => ResourceChoice::Specific(ResourceId(r)),
            None => ResourceChoice::Any,
        };
        let need = need_for(&mut tx, &venue, offer_of(&row)?, choice).await?;
        let mut wanted = need.lock_set();
        wanted.extend(&used);
        if locks.covers(&mut tx, &wanted).await? {
            break (venue, used, resources, need);
        }
    };
    // The booking's own row, locked: its status and expiry decide, at the
    // time read now.
    let row = tx
        .lock_booking(id.0)
        .await?
        .ok_or(Failure::App(AppError::NotFound))?;
    let now = clock.now();
    let status = row.status;
    if !status.is_live() {
        return Err(Failure::App(AppError::Refused {
            message: format!("That booking is {status} and can no longer be moved."),
        }));
    }
    let tz = venue_zone(&venue)?;
    if lapsed(&row, now) {
        // Lapsed but not yet swept: its time is no longer the customer's,
        // and moving it would claim time for a booking that is gone.
        return Err(Failure::App(AppError::Refused {
            message: format!(
                "That hold lapsed at {} and can no longer be moved; book the time for the customer instead.",
                row.hold_expires_at
                    .map(|t| schedule::clock(tz, t))
                    .unwrap_or_default()
            ),
        }));
    }
    // Its own claims go first, so that it may move within its own time;
    // then it is placed as a booking is.
    tx.delete_claims(row.id).await?;
    let rules = Rules::Staff { by: staff.user };
    let spot = find_spot(&mut tx, &venue, tz, &need, start, rules, &locks, now).await?;
    let (span, new_resources) = (spot.span, spot.resources);
    tx.delete_booking_resources(row.id).await?;
    tx.insert_booking_resources(row.id, &new_resources).await?;
    tx.insert_claims(row.id, &new_resources, spot.occupied, spot.unit)
        .await?;
    tx.reschedule(row.id, span.start, span.end, spot.occupied.end, now)
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
        resource_id: Some(spot.primary),
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
