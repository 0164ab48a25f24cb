//! The booking transaction: steps 1-7 of the booking protocol, and the
//! placement a staff move shares with it. This is the only code that
//! claims time: everything else that answers a booking request (the look,
//! the remembered slots, the alternatives) may only refuse or advise.

use crate::domain::booking::{Booking, BookingRequest, BookingStatus, Offer, ResourceChoice};
use crate::domain::ids::{BookingId, ResourceId, ServiceId};
use crate::domain::schedule::{self, Span};
use chrono_tz::Tz;

use super::clock::Clock;
use super::counters::Counters;
use super::day::{Day, Openness};
use super::failure::Failure;
use super::locks::{begin_write, LockSet};
use super::look::Hint;
use super::need::{need_for, Need};
use super::rows::booking_from_row;
use super::rules::{check_time_rules, venue_zone, Mode, Rules};
use super::shortcut::Taken;
use super::waitlist::expire_and_offer;
use crate::backend::db::Backend;
use crate::backend::pauses::{self, Point};
use crate::backend::stats::{Event, Recorder};
use crate::backend::store::prelude::*;
use crate::backend::store::{
    BookingRow, Freed, MessageKind, NewAudit, NewBooking, NewMessage, Store, VenueRow,
};
use crate::domain::booking::{BookingError, RuleViolation};

/// The answer of a placing attempt: the booking, and whether this attempt
/// made it (rather than finding it by its idempotency key).
pub(crate) struct Placed {
    pub booking: Booking,
    pub fresh: bool,
    /// A fresh booking that claims every candidate of its request: the
    /// slot is taken now.
    pub taken: Option<Taken>,
}

/// What an idempotency key stands for: the request as asked (mode, whose
/// rules, venue, offer, resource choice, start). Stored with the booking;
/// a repeat of the key must ask for the same.
pub(crate) fn fingerprint(req: &BookingRequest, mode: Mode, rules: Rules) -> String {
    let offer = match req.offer {
        Offer::Service(s) => format!("service:{s}"),
        Offer::Table(p) => format!("party:{}", p.get()),
    };
    let resource = match req.resource {
        ResourceChoice::Any => "any".to_owned(),
        ResourceChoice::Specific(r) => format!("resource:{r}"),
    };
    format!(
        "{}|{}|venue:{}|{offer}|{resource}|start:{}",
        match mode {
            Mode::Hold => "hold",
            Mode::Book => "book",
        },
        match rules {
            Rules::Customer => "customer",
            Rules::Staff { .. } => "staff",
        },
        req.venue,
        req.start.timestamp()
    )
}

/// The answer to a repeated idempotency key: the booking it made, if the
/// key is repeated with the same request and that booking still stands;
/// otherwise a refusal (an unrelated booking is never answered).
pub(crate) async fn replayed<S: Store>(
    tx: &mut S,
    row: BookingRow,
    req: &BookingRequest,
    fingerprint: &str,
) -> Result<Booking, Failure> {
    let same = match &row.request {
        Some(asked) => asked == fingerprint,
        // Made before requests were recorded: what can still be compared.
        None => {
            let offer = match req.offer {
                Offer::Service(s) => (Some(s.0), None),
                Offer::Table(p) => (None, Some(p.get())),
            };
            row.venue_id == req.venue.0
                && (row.service_id, row.party_size) == offer
                && row.starts_at == req.start.timestamp()
        }
    };
    if !same {
        return Err(BookingError::IdempotencyMismatch.into());
    }
    let booking = booking_from_row(tx, row).await?;
    match booking.status {
        // Its time was given up: answering it as made would tell the
        // customer they hold a time they do not.
        status @ (BookingStatus::Cancelled | BookingStatus::Expired) => {
            Err(BookingError::IdempotencyKeySpent { status }.into())
        }
        _ => Ok(booking),
    }
}

/// The venue's limits on what one customer has at once, counted under a
/// lock on the customer taken after the resources' (the last lock of the
/// transaction), so that a burst of requests from one customer is counted
/// one by one. A hold needs room under both limits (it becomes a booking
/// on confirming); a booking under the bookings limit.
async fn check_customer_limits<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    req: &BookingRequest,
    mode: Mode,
    now: i64,
) -> Result<(), Failure> {
    tx.lock_customer(req.customer.0).await?;
    let (holds, upcoming) = tx.customer_load(req.customer.0, venue.id, now).await?;
    if mode == Mode::Hold && holds >= venue.max_holds_per_customer {
        return Err(BookingError::HoldLimit {
            limit: venue.max_holds_per_customer,
        }
        .into());
    }
    if upcoming >= venue.max_upcoming_per_customer {
        return Err(BookingError::BookingLimit {
            limit: venue.max_upcoming_per_customer,
        }
        .into());
    }
    Ok(())
}

/// One attempt at a hold or booking, in one write transaction: the steps
/// of the booking protocol.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn attempt_place<B: Backend>(
    b: &B,
    clock: &Clock,
    req: &BookingRequest,
    mode: Mode,
    rules: Rules,
    hint: &Hint,
    stats: &Recorder,
    counters: &Counters,
) -> Result<Placed, Failure> {
    let asked = fingerprint(req, mode, rules);
    let repeat = |booking| Placed {
        booking,
        fresh: false,
        taken: None,
    };
    let waiting = std::time::Instant::now();
    let mut tx = begin_write(b).await?;
    let begun = waiting.elapsed();

    // Lock first, then decide on what is read under the locks. Which
    // resources to lock comes from data (the therapists who offer the
    // service, the rooms, the tables): the look read it a moment ago
    // (`hint`), or it is read here; it is locked, and the venue is read
    // under the locks. Every set-up change moves the venue's set-up version
    // on, under a lock of every resource of the venue: if the version is
    // still the one the need was read at, nothing in it changed since and
    // nothing can until COMMIT; otherwise the need is read again, and
    // locked further if it grew.
    let mut locks = LockSet::default();
    if !hint.lock_set.is_empty() {
        locks.covers(&mut tx, &hint.lock_set).await?;
    }
    // A repeated request answers with what the first one made, even if the
    // rules would refuse it now (the minimum notice may have passed since).
    let key_read_under_lock = locks.holds_any::<B::Tx>();
    if let Some(existing) = tx
        .booking_by_key(req.customer.0, req.idempotency_key.as_str())
        .await?
    {
        return Ok(repeat(replayed(&mut tx, existing, req, &asked).await?));
    }
    let mut known = hint.seen.clone();
    let (venue, need) = loop {
        let venue = tx
            .venue(req.venue.0)
            .await?
            .ok_or(RuleViolation::UnknownVenue)?;
        let need = match known.take() {
            Some((version, need)) if version == venue.setup_version => need,
            _ => need_for(&mut tx, &venue, req.offer, req.resource).await?,
        };
        if locks.covers(&mut tx, &need.lock_set()).await? {
            break (venue, need);
        }
        known = Some((venue.setup_version, need));
    };
    counters.lock_wait_seconds.observe(begun + locks.waited());
    // The time too is read under the locks: a wait for them may have let
    // the minimum notice pass or a hold lapse.
    let now = clock.now();
    // Again under the lock when the first look at the key was not: a
    // duplicate sent at the same moment has committed by now.
    if !key_read_under_lock {
        if let Some(existing) = tx
            .booking_by_key(req.customer.0, req.idempotency_key.as_str())
            .await?
        {
            return Ok(repeat(replayed(&mut tx, existing, req, &asked).await?));
        }
    }
    if rules == Rules::Customer {
        check_customer_limits(&mut tx, &venue, req, mode, now).await?;
    }
    let tz = venue_zone(&venue)?;
    let spot = find_spot(
        &mut tx,
        &venue,
        tz,
        &need,
        req.start.timestamp(),
        rules,
        &mut locks,
        now,
    )
    .await?;

    let (status, hold_expires_at) = match mode {
        Mode::Hold => (BookingStatus::Held, Some(now + venue.hold_minutes * 60)),
        Mode::Book => (BookingStatus::Confirmed, None),
    };
    let (service_id, party_size) = match req.offer {
        Offer::Service(s) => (Some(s.0), None),
        Offer::Table(p) => (None, Some(p.get())),
    };
    let id = write_booking(
        &mut tx,
        &NewBooking {
            customer_id: req.customer.0,
            venue_id: venue.id,
            service_id,
            party_size,
            starts_at: spot.span.start,
            ends_at: spot.span.end,
            occupied_until: spot.occupied.end,
            status,
            hold_expires_at,
            idempotency_key: req.idempotency_key.as_str(),
            request: &asked,
            now,
            price_cents: need.price_cents,
            currency: need.price_cents.map(|_| venue.currency.as_str()),
        },
        &spot.resources,
        spot.occupied,
        spot.unit,
    )
    .await?;
    // A booking made at once is told; a hold is told when confirmed.
    if status == BookingStatus::Confirmed {
        tx.insert_message(&NewMessage {
            booking_id: id,
            kind: MessageKind::Booked,
            starts_at: spot.span.start,
            ends_at: spot.span.end,
            detail: None,
            now,
        })
        .await?;
    }
    if let Rules::Staff { by } = rules {
        tx.insert_audit(&NewAudit {
            at: now,
            actor_id: by.0,
            venue_id: venue.id,
            resource_id: Some(spot.primary),
            booking_id: Some(id),
            action: "booking.create",
            after: Some(format!(
                "{} for customer #{}",
                schedule::label(tz, spot.span.start),
                req.customer
            )),
            ..NewAudit::default()
        })
        .await?;
    }
    pauses::pause(Point::BeforeCommit).await;
    tx.commit().await?;
    tracing::info!(booking = id, resources = ?spot.resources, status = %status, "booking placed");
    for venue in spot.expired {
        stats.record(venue, now, Event::HoldExpired);
    }

    let booking = Booking {
        id: BookingId(id),
        customer: req.customer,
        venue: req.venue,
        service: service_id.map(ServiceId),
        party_size,
        start: schedule::to_datetime(spot.span.start),
        end: schedule::to_datetime(spot.span.end),
        occupied_until: schedule::to_datetime(spot.occupied.end),
        status,
        hold_expires_at: hold_expires_at.map(schedule::to_datetime),
        resources: spot.resources.into_iter().map(ResourceId).collect(),
        cancelled_by: None,
        version: 1,
        price_cents: need.price_cents,
        currency: need.price_cents.map(|_| venue.currency.clone()),
        note: None,
        phone: None,
    };
    let covers = need
        .candidates
        .iter()
        .all(|c| booking.resources.contains(&ResourceId(c.id)));
    let taken = covers.then(|| Taken {
        until: hold_expires_at.unwrap_or(i64::MAX),
        owners: vec![(req.customer.0, req.idempotency_key.as_str().to_owned())],
        venue,
    });
    Ok(Placed {
        booking,
        fresh: true,
        taken,
    })
}

/// Writes a booking and what it takes: its row, its resources and its
/// claims, under the schema's guards. The booking transaction and a
/// waitlist offer write with it.
pub(crate) async fn write_booking<S: Store>(
    tx: &mut S,
    booking: &NewBooking<'_>,
    resources: &[i64],
    occupied: Span,
    unit: i64,
) -> Result<i64, Failure> {
    let id = tx.insert_booking(booking).await?;
    tx.insert_booking_resources(id, resources).await?;
    tx.insert_claims(id, resources, occupied, unit).await?;
    Ok(id)
}

/// Where a booking of `need` at `start` goes, decided under the locks:
/// the venue's time rules for `rules`, the lapsed holds on the locked
/// resources expired (and their time offered to the waitlist first, which
/// may lock more), the first free candidate with a room if needed. A
/// booking and a staff move place with it.
pub(crate) struct Spot {
    pub span: Span,
    /// The span with the buffer, up to the grid: what the claims cover.
    pub occupied: Span,
    pub unit: i64,
    pub primary: i64,
    /// Every resource taken, in id order.
    pub resources: Vec<i64>,
    /// The venues of holds expired on the way, for the statistics.
    pub expired: Vec<i64>,
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn find_spot<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    tz: Tz,
    need: &Need,
    start: i64,
    rules: Rules,
    locks: &mut LockSet,
    now: i64,
) -> Result<Spot, Failure> {
    check_time_rules(venue, now, start, rules)?;
    let unit = venue.grid_minutes * 60;
    let (span, occupied) = need.spans(start, unit);
    let expired = expire_and_offer(tx, locks, venue.id, now).await?.expired;
    let (primary, resources) = pick(tx, venue, tz, need, span, occupied, now).await?;
    Ok(Spot {
        span,
        occupied,
        unit,
        primary,
        resources,
        expired,
    })
}

/// Expires the lapsed holds on `resources` (locked by the caller), so that
/// they let go of their claims; returns where their time was. Their rows are
/// locked in id order, like everything else, so two bookers expiring
/// overlapping sets of holds cannot deadlock.
pub(crate) async fn expire_lapsed<S: Store>(
    tx: &mut S,
    resources: &[i64],
    now: i64,
) -> Result<Vec<Freed>, Failure> {
    let mut due = Vec::new();
    for r in resources {
        due.extend(tx.due_holds_on(*r, now).await?);
    }
    due.sort_unstable();
    due.dedup();
    let mut expired = Vec::new();
    for id in due {
        expired.extend(tx.expire_hold(id, now).await?);
    }
    Ok(expired)
}

/// The resources a booking of `need` takes for `span` on the day as the
/// transaction sees it: (the primary, all of them in id order).
pub(crate) async fn pick<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    tz: Tz,
    need: &Need,
    span: schedule::Span,
    occupied: schedule::Span,
    now: i64,
) -> Result<(i64, Vec<i64>), Failure> {
    let date = schedule::local_date(tz, span.start);
    let day = Day::load(tx, venue, tz, date, Some(occupied), now).await?;
    let (primary, room) = choose(&day, need, span, occupied)?;
    let mut resources: Vec<i64> = std::iter::once(primary).chain(room).collect();
    resources.sort_unstable();
    Ok((primary, resources))
}

/// The first candidate free for `span` (and its buffer), with a room when
/// the service needs one; or why there is none.
pub(crate) fn choose(
    day: &Day,
    need: &Need,
    span: schedule::Span,
    occupied: schedule::Span,
) -> Result<(i64, Option<i64>), Failure> {
    let mut any_open = false;
    let mut any_closed = false;
    for c in &need.candidates {
        match day.openness(c.id, span) {
            Openness::Open => {
                any_open = true;
                if day.is_unclaimed(c.id, occupied) {
                    if let Some(room) = need.free_room(day, span, occupied) {
                        return Ok((c.id, room));
                    }
                }
            }
            Openness::Closed => any_closed = true,
            Openness::OutsideHours => {}
        }
    }
    Err(if any_open {
        Failure::Taken
    } else if any_closed {
        RuleViolation::Closed.into()
    } else {
        RuleViolation::OutsideHours.into()
    })
}
