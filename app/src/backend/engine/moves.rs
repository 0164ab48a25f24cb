//! A booking moved to another start or resource, by staff or by its
//! customer (a reschedule), in one transaction: its old claims go and the
//! new ones are inserted under the same locks, so it is never without a
//! time nor holding two. The new place is found as a booking's is
//! (`find_spot`), under the mover's rules.

use crate::domain::booking::ResourceChoice;
use crate::domain::booking::{Booking, BookingError, BookingRequest, BookingStatus, Offer};
use crate::domain::error::AppError;
use crate::domain::ids::{BookingId, ResourceId, ServiceId, UserId, VenueId};
use crate::domain::input::{IdempotencyKey, PartySize};
use crate::domain::schedule;
use crate::domain::venue::ResourceKind;
use std::collections::HashMap;

use super::alternatives::alternatives;
use super::clock::Clock;
use super::failure::{retrying, settle, Failure};
use super::locks::{begin_write, LockSet};
use super::need::need_for;
use super::place::find_spot;
use super::rows::{booking_from_row, lapsed};
use super::rules::{venue_zone, Rules};
use super::waitlist::{expire_and_offer, offer_waiting, Lines};
use super::Engine;
use crate::backend::db::{is_guard_violation, with_backend, Backend};
use crate::backend::pauses::{self, Point};
use crate::backend::stats::Event;
use crate::backend::store::prelude::*;
use crate::backend::store::{BookingRow, MessageKind, NewAudit, NewMessage};

/// Who moves a booking, and so under whose rules.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mover {
    /// Staff of the booking's venue: not held to the minimum notice, the
    /// advance window or the cancellation window.
    Staff(UserId),
    /// The booking's customer: every rule a booking follows, and only
    /// while the booking may still be cancelled.
    Customer(UserId),
}

/// What a booking row books.
pub(crate) fn offer_of(row: &BookingRow) -> Result<Offer, Failure> {
    match (row.service_id, row.party_size) {
        (Some(s), _) => Ok(Offer::Service(ServiceId(s))),
        (None, Some(p)) => Ok(Offer::Table(
            PartySize::parse(p).map_err(|_| Failure::Refused(BookingError::Internal))?,
        )),
        _ => Err(Failure::Refused(BookingError::Internal)),
    }
}

impl Engine {
    /// The customer moves their confirmed booking to `start` (and `resource`,
    /// or the therapist or table it has): one transaction, under the
    /// venue's rules for customers, while the booking is still inside its
    /// cancellation window. A taken time answers with alternatives; the
    /// booking is then unchanged.
    pub async fn reschedule(
        &self,
        customer: UserId,
        id: BookingId,
        start: chrono::DateTime<chrono::Utc>,
        resource: Option<ResourceId>,
    ) -> Result<Booking, BookingError> {
        match self
            .move_booking_as(Mover::Customer(customer), id, start, resource)
            .await
        {
            Ok(b) => Ok(b),
            Err(Moved::Taken(alternatives)) => Err(BookingError::SlotTaken { alternatives }),
            Err(Moved::Failed(f)) => Err(settle(f)),
        }
    }

    /// A move by either mover; a taken target comes back with alternatives.
    pub(crate) async fn move_booking_as(
        &self,
        mover: Mover,
        id: BookingId,
        start: chrono::DateTime<chrono::Utc>,
        resource: Option<ResourceId>,
    ) -> Result<Booking, Moved> {
        with_backend!(self.db(), |b| {
            let result = retrying(self.counters(), || {
                move_attempt(b, self.clock(), mover, id, start.timestamp(), resource)
            })
            .await;
            match result {
                Ok(booking) => {
                    self.changed();
                    Ok(booking)
                }
                Err(Failure::Taken) => {
                    Err(Moved::Taken(self.move_taken(b, id, start, resource).await))
                }
                Err(Failure::Db(e)) if is_guard_violation(&e) => {
                    Err(Moved::Taken(self.move_taken(b, id, start, resource).await))
                }
                Err(f) => Err(Moved::Failed(f)),
            }
        })
    }

    /// Free times near a move's taken target, as a booking's conflict has.
    async fn move_taken<B: Backend>(
        &self,
        b: &B,
        id: BookingId,
        start: chrono::DateTime<chrono::Utc>,
        resource: Option<ResourceId>,
    ) -> Vec<crate::domain::booking::Alternative> {
        let req = async {
            let mut tx = b.begin_read().await?;
            let row = tx
                .booking(id.0)
                .await?
                .ok_or(Failure::Refused(BookingError::NotFound))?;
            self.recorder()
                .record(row.venue_id, self.clock().now(), Event::Conflict);
            Ok::<_, Failure>(BookingRequest {
                customer: UserId(row.customer_id),
                venue: VenueId(row.venue_id),
                offer: offer_of(&row)?,
                resource: resource.map_or(ResourceChoice::Any, ResourceChoice::Specific),
                start,
                idempotency_key: IdempotencyKey::parse(format!("move-booking-{}", row.id))
                    .map_err(|_| Failure::Refused(BookingError::Internal))?,
            })
        }
        .await;
        match req {
            Ok(req) => alternatives(b, self.clock().now(), &req)
                .await
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }
}

/// How a move did not happen.
pub(crate) enum Moved {
    /// The target was taken: free times near it.
    Taken(Vec<crate::domain::booking::Alternative>),
    Failed(Failure),
}

async fn move_attempt<B: Backend>(
    b: &B,
    clock: &Clock,
    mover: Mover,
    id: BookingId,
    start: i64,
    target: Option<ResourceId>,
) -> Result<Booking, Failure> {
    let mut tx = begin_write(b).await?;
    let first = tx
        .booking(id.0)
        .await?
        .ok_or(Failure::Refused(BookingError::NotFound))?;
    // Not the mover's to move: answered as if it did not exist.
    let allowed = match mover {
        Mover::Staff(user) => tx.may_run(user.0, first.venue_id).await?,
        Mover::Customer(user) => first.customer_id == user.0,
    };
    if !allowed {
        return Err(match mover {
            Mover::Staff(_) => Failure::App(AppError::Forbidden),
            Mover::Customer(_) => Failure::Refused(BookingError::NotFound),
        });
    }
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
            .ok_or(Failure::Refused(BookingError::Internal))?;
        let row = tx
            .booking(id.0)
            .await?
            .ok_or(Failure::Refused(BookingError::NotFound))?;
        let used = tx.booking_resources(row.id).await?;
        let resources = tx.resources(venue.id).await?;
        // Without a new resource, the booking keeps its therapist or table.
        let primary = used.iter().copied().find(|u| {
            resources
                .iter()
                .any(|r| r.id == *u && r.kind != ResourceKind::Room)
        });
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
        .ok_or(Failure::Refused(BookingError::NotFound))?;
    let now = clock.now();
    let tz = venue_zone(&venue)?;
    let rules = match mover {
        Mover::Staff(user) => {
            check_staff_move(&row, tz, now)?;
            Rules::Staff { by: user }
        }
        Mover::Customer(_) => {
            check_customer_move(&row, &venue, &used, start, target, now)?;
            Rules::Customer
        }
    };
    // Lapsed holds let go (their time offered to the waitlist) before the
    // booking's own claims go, so that no offer is made of its own time;
    // then it may move within its own time, and is placed as a booking is.
    expire_and_offer(&mut tx, &mut locks, venue.id, now).await?;
    tx.delete_claims(row.id).await?;
    let spot = find_spot(&mut tx, &venue, tz, &need, start, rules, &mut locks, now).await?;
    let (span, new_resources) = (spot.span, spot.resources);
    tx.delete_booking_resources(row.id).await?;
    tx.insert_booking_resources(row.id, &new_resources).await?;
    tx.insert_claims(row.id, &new_resources, spot.occupied, spot.unit)
        .await?;
    tx.reschedule(row.id, span.start, span.end, spot.occupied.end, now)
        .await?;
    // The time it had is free: the waitlist of that day comes first.
    offer_waiting(
        &mut tx,
        &mut locks,
        venue.id,
        Lines::Freed(&[row.starts_at]),
        now,
    )
    .await?;
    // The customer of a confirmed booking is told, with the time it had;
    // a reminder not sent yet was for that time.
    if row.status == BookingStatus::Confirmed {
        let earlier = schedule::label(tz, row.starts_at);
        tx.insert_message(&NewMessage {
            booking_id: row.id,
            kind: match mover {
                Mover::Staff(_) => MessageKind::Moved,
                Mover::Customer(_) => MessageKind::Rescheduled,
            },
            starts_at: span.start,
            ends_at: span.end,
            detail: Some(&earlier),
            now,
        })
        .await?;
        tx.drop_reminder(row.id).await?;
    }
    let names: HashMap<i64, String> = resources.iter().map(|r| (r.id, r.name.clone())).collect();
    let with = |rs: &[i64]| {
        rs.iter()
            .filter_map(|r| names.get(r).cloned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (actor, action) = match mover {
        Mover::Staff(user) => (user, "booking.move"),
        Mover::Customer(user) => (user, "booking.reschedule"),
    };
    tx.insert_audit(&NewAudit {
        at: now,
        actor_id: actor.0,
        venue_id: venue.id,
        resource_id: Some(spot.primary),
        booking_id: Some(row.id),
        action,
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
        .ok_or(Failure::Refused(BookingError::Internal))?;
    let booking = booking_from_row(&mut tx, moved).await?;
    pauses::pause(Point::BeforeCommit).await;
    tx.commit().await?;
    tracing::info!(booking = row.id, start, resources = ?new_resources, ?mover, "booking moved");
    Ok(booking)
}

/// Staff move any live booking but a hold that lapsed unswept: its time is
/// no longer the customer's, and moving it would claim time for a booking
/// that is gone.
fn check_staff_move(row: &BookingRow, tz: chrono_tz::Tz, now: i64) -> Result<(), Failure> {
    let status = row.status;
    if !status.is_live() {
        return Err(Failure::App(AppError::Refused {
            message: format!("That booking is {status} and can no longer be moved."),
        }));
    }
    if lapsed(row, now) {
        return Err(Failure::App(AppError::Refused {
            message: format!(
                "That hold lapsed at {} and can no longer be moved; book the time for the customer instead.",
                row.hold_expires_at
                    .map(|t| schedule::clock(tz, t))
                    .unwrap_or_default()
            ),
        }));
    }
    Ok(())
}

/// A customer reschedules a confirmed booking, to another time or
/// resource, while it may still be cancelled.
fn check_customer_move(
    row: &BookingRow,
    venue: &crate::backend::store::VenueRow,
    used: &[i64],
    start: i64,
    target: Option<ResourceId>,
    now: i64,
) -> Result<(), Failure> {
    match row.status {
        BookingStatus::Confirmed => {}
        BookingStatus::Held => return Err(BookingError::HoldNotMovable.into()),
        status => return Err(BookingError::NotChangeable { status }.into()),
    }
    let deadline = row.starts_at - venue.cancellation_window_minutes * 60;
    if now > deadline {
        return Err(BookingError::CancellationClosed {
            deadline: schedule::to_datetime(deadline),
        }
        .into());
    }
    if start == row.starts_at && target.is_none_or(|t| used.contains(&t.0)) {
        return Err(BookingError::SameTime.into());
    }
    Ok(())
}
