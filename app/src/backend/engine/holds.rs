//! The life of a hold after it is placed: confirm, release, cancel. One
//! cancellation for everyone: a customer's, staff's, and the venue's own
//! when a set-up change cancels the bookings it strands.

use crate::domain::booking::{Booking, BookingError, BookingStatus, ContactDetails};
use crate::domain::ids::{BookingId, UserId};
use crate::domain::schedule;

use super::clock::Clock;
use super::failure::Failure;
use super::locks::{begin_write, lock_booking_resources, LockSet};
use super::rows::booking_from_row;
use super::waitlist::{offer_waiting, Lines, OfferRun};
use super::Actor;
use crate::backend::db::Backend;
use crate::backend::pauses::{self, Point};
use crate::backend::stats::{Event, Recorder};
use crate::backend::store::prelude::*;
use crate::backend::store::{BookingRow, MessageKind, NewAudit, NewMessage, Store};
use crate::domain::waitlist::WaitlistState;

pub(crate) async fn confirm_attempt<B: Backend>(
    b: &B,
    clock: &Clock,
    customer: UserId,
    id: BookingId,
    details: &ContactDetails,
    stats: &Recorder,
) -> Result<Booking, Failure> {
    let mut tx = b.begin_write().await?;
    let now = clock.now();
    // One conditional update: only this customer's hold, only before it
    // lapses. A concurrent expiry or release changes the row first or not
    // at all; the row lock decides. The note and phone go with it.
    if tx.confirm_hold(id.0, customer.0, now, details).await? {
        let row = tx.booking(id.0).await?.ok_or(BookingError::NotFound)?;
        tx.insert_message(&NewMessage {
            booking_id: row.id,
            kind: MessageKind::Confirmed,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            detail: None,
            now,
        })
        .await?;
        let booking = booking_from_row(&mut tx, row).await?;
        pauses::pause(Point::BeforeCommit).await;
        tx.commit().await?;
        stats.record(booking.venue.0, now, Event::HoldConfirmed);
        return Ok(booking);
    }
    let row = tx
        .booking(id.0)
        .await?
        .filter(|r| r.customer_id == customer.0)
        .ok_or(BookingError::NotFound)?;
    match row.status {
        // Confirming twice (a double click) answers with the booking.
        BookingStatus::Confirmed => Ok(booking_from_row(&mut tx, row).await?),
        BookingStatus::Held => {
            // Lapsed: it is expired as the sweeper would, under its
            // resources' locks, and its time offered to the waitlist.
            drop(tx);
            let run = expire_one(b, id.0, now).await?;
            for venue in run.expired {
                stats.record(venue, now, Event::HoldExpired);
            }
            Err(BookingError::HoldExpired.into())
        }
        BookingStatus::Expired | BookingStatus::Cancelled => Err(BookingError::HoldExpired.into()),
        status => Err(BookingError::NotChangeable { status }.into()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Give up a hold.
    Release,
    /// Cancel a booking (or a hold).
    Cancel,
}

pub(crate) async fn end_attempt<B: Backend>(
    b: &B,
    clock: &Clock,
    actor: Actor,
    id: BookingId,
    how: Ending,
) -> Result<(Booking, OfferRun), Failure> {
    let mut tx = begin_write(b).await?;
    let row = tx.booking(id.0).await?.ok_or(BookingError::NotFound)?;
    if !may_see(&mut tx, actor, &row).await? {
        return Err(BookingError::NotFound.into());
    }
    let mut locks = LockSet::default();
    lock_booking_resources(&mut tx, &mut locks, id.0).await?;
    // Read again under the locks: a concurrent confirm, which takes only
    // the booking's row, has either committed (and is seen here) or waits
    // for this transaction (and then finds the hold gone).
    let row = tx.lock_booking(id.0).await?.ok_or(BookingError::NotFound)?;
    let now = clock.now();
    match (how, row.status) {
        // Ending twice answers with the ended booking.
        (_, BookingStatus::Cancelled) => {
            return Ok((booking_from_row(&mut tx, row).await?, OfferRun::default()))
        }
        (Ending::Release, BookingStatus::Held) | (Ending::Cancel, BookingStatus::Held) => {}
        (Ending::Cancel, BookingStatus::Confirmed) => {
            let venue = tx
                .venue(row.venue_id)
                .await?
                .ok_or(BookingError::Internal)?;
            let deadline = row.starts_at - venue.cancellation_window_minutes * 60;
            if !actor.is_staff && now > deadline {
                return Err(BookingError::CancellationClosed {
                    deadline: schedule::to_datetime(deadline),
                }
                .into());
            }
        }
        (_, status) => return Err(BookingError::NotChangeable { status }.into()),
    }
    let by = if actor.is_staff && row.customer_id != actor.user.0 {
        Canceller::Venue {
            staff: actor.user,
            reason: None,
        }
    } else {
        Canceller::Customer
    };
    cancel_in(&mut tx, &row, by, now).await?;
    // The time is free: those waiting for it come first.
    let freed = [row.starts_at];
    let run = offer_waiting(&mut tx, &mut locks, row.venue_id, Lines::Freed(&freed), now).await?;
    let ended = tx.booking(row.id).await?.ok_or(BookingError::Internal)?;
    let booking = booking_from_row(&mut tx, ended).await?;
    pauses::pause(Point::BeforeCommit).await;
    tx.commit().await?;
    tracing::info!(booking = row.id, by = by.as_str(), "booking cancelled");
    Ok((booking, run))
}

/// Expires one lapsed hold in its own transaction, under its resources'
/// locks as every writer of claims takes them (a set-up change that
/// rewrites the venue's claims holds them all, so a hold it read as live
/// cannot lapse under it), and offers its time to the waitlist.
pub(crate) async fn expire_one<B: Backend>(b: &B, id: i64, now: i64) -> Result<OfferRun, Failure> {
    let mut tx = begin_write(b).await?;
    let mut locks = LockSet::default();
    lock_booking_resources(&mut tx, &mut locks, id).await?;
    let mut run = OfferRun::default();
    if let Some(freed) = tx.expire_hold(id, now).await? {
        let starts = [freed.starts_at];
        run = offer_waiting(
            &mut tx,
            &mut locks,
            freed.venue_id,
            Lines::Freed(&starts),
            now,
        )
        .await?;
        run.expired.push(freed.venue_id);
    }
    tx.commit().await?;
    Ok(run)
}

/// Who cancels a booking.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Canceller<'a> {
    Customer,
    /// Staff on the venue's behalf, audited; with why, when a change of the
    /// set-up cancels it.
    Venue {
        staff: UserId,
        reason: Option<&'a str>,
    },
}

impl Canceller<'_> {
    fn as_str(&self) -> &'static str {
        match self {
            Canceller::Customer => "customer",
            Canceller::Venue { .. } => "venue",
        }
    }
}

/// Cancels a live booking in `tx`, whose resources the caller has locked:
/// its row is locked and read again (a confirm, which takes only the row,
/// may have come first), its claims and occupancy go, its status says who
/// cancelled it, a venue's cancellation leaves an audit row, and the
/// customer of a confirmed booking is told (with the venue's reason). A
/// booking no longer live is left as it is.
pub(crate) async fn cancel_in<S: Store>(
    tx: &mut S,
    row: &BookingRow,
    by: Canceller<'_>,
    now: i64,
) -> Result<(), Failure> {
    let Some(row) = tx
        .lock_booking(row.id)
        .await?
        .filter(|r| r.status.is_live())
    else {
        return Ok(());
    };
    tx.delete_claims(row.id).await?;
    tx.set_status(row.id, BookingStatus::Cancelled, Some(by.as_str()), now)
        .await?;
    // An offer let go (or cancelled by the venue) is no longer on offer.
    tx.settle_offer(row.id, WaitlistState::Lapsed, now).await?;
    if row.status == BookingStatus::Confirmed {
        let (kind, detail) = match by {
            Canceller::Customer => (MessageKind::Cancelled, None),
            Canceller::Venue { reason, .. } => (MessageKind::VenueCancelled, reason),
        };
        tx.insert_message(&NewMessage {
            booking_id: row.id,
            kind,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            detail,
            now,
        })
        .await?;
        tx.drop_reminder(row.id).await?;
    }
    if let Canceller::Venue { staff, reason } = by {
        tx.insert_audit(&NewAudit {
            at: now,
            actor_id: staff.0,
            venue_id: row.venue_id,
            booking_id: Some(row.id),
            action: "booking.cancel",
            before: Some(row.status.to_string()),
            after: Some(match reason {
                Some(why) => format!("cancelled by the venue ({why})"),
                None => "cancelled by the venue".to_owned(),
            }),
            ..NewAudit::default()
        })
        .await?;
    }
    Ok(())
}

/// Whether `actor` may see and act on a booking: its customer, or staff
/// who run its venue (checked in the database, not trusted from the session).
pub(crate) async fn may_see<S: Store>(
    tx: &mut S,
    actor: Actor,
    row: &BookingRow,
) -> Result<bool, Failure> {
    if actor.is_staff {
        Ok(tx.may_run(actor.user.0, row.venue_id).await?)
    } else {
        Ok(row.customer_id == actor.user.0)
    }
}
