//! The booking engine: hold, book, confirm, release, cancel, availability.
//!
//! Each operation is one transaction, as `shared/BOOKING-PROTOCOL.md`
//! describes: lock the resources (Postgres `FOR UPDATE` in id order; SQLite
//! `BEGIN IMMEDIATE`), read what decides under the locks, expire lapsed
//! holds, check the venue's rules and the claims, insert the booking and
//! its claims under the schema's guards, commit. `place` is the only code
//! that claims; `shortcut` and `look` may only refuse or advise. Staff work
//! (`backend::staff`) goes through the same pieces: one cancellation, one
//! lock set, one placement, one `Day`. Nothing here knows about HTTP or
//! Leptos.
//!
//! May use: `backend::store` (every statement), `backend::db` (the two
//! backends), `backend::stats`, `backend::pauses`, and `domain`.

mod alternatives;
mod availability;
mod clock;
mod counters;
pub mod day;
mod failure;
mod holds;
mod locks;
mod look;
mod moves;
mod need;
mod place;
mod rows;
mod rules;
mod shortcut;
mod waitlist;

pub use availability::DayCount;
pub(crate) use availability::{able_resources, move_times_attempt};
pub use clock::Clock;
pub use counters::{Counters, MessageCounters, Outcomes};

pub(crate) use day::{Day, Openness};
pub(crate) use failure::{retrying, settle, settle_app, Failure};
pub(crate) use holds::{cancel_in, Canceller};
pub(crate) use locks::{begin_write, lock_booking_resources, LockSet};
pub(crate) use moves::{Moved, Mover};
pub(crate) use rows::{booking_from_row, lapsed};
pub(crate) use rules::{venue_zone, Rules};
pub(crate) use waitlist::{entry_views, offer_waiting, Lines, OfferRun};

use crate::domain::booking::{
    Availability, Booking, BookingError, BookingRequest, ContactDetails, Offer, ResourceChoice,
};
use crate::domain::ids::{BookingId, UserId, VenueId};
use chrono::NaiveDate;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::db::{is_guard_violation, with_backend, Backend, Db};
use super::pauses::{self, Point};
use super::stats::{Event, Recorder};
use super::store::Overlap;
use crate::backend::store::prelude::*;
use holds::{confirm_attempt, end_attempt, may_see, Ending};
use look::{look, Hint, Looked};
use place::{attempt_place, fingerprint, replayed, Placed};
use rules::Mode;
use shortcut::Shortcut;

/// Who is acting: the customer themself, or staff of the venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub is_staff: bool,
}

impl Actor {
    pub fn customer(user: UserId) -> Self {
        Self {
            user,
            is_staff: false,
        }
    }

    pub fn staff(user: UserId) -> Self {
        Self {
            user,
            is_staff: true,
        }
    }
}

/// The booking engine over one database.
#[derive(Clone, Debug)]
pub struct Engine {
    db: Db,
    clock: Clock,
    counters: Arc<Counters>,
    stats: Arc<Recorder>,
    shortcut: Arc<Shortcut>,
}

impl Engine {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self {
            db,
            clock,
            counters: Arc::default(),
            stats: Arc::default(),
            shortcut: Arc::default(),
        }
    }

    /// Something this instance wrote changed what is free. Returns the new
    /// generation.
    pub(crate) fn changed(&self) -> u64 {
        self.shortcut.changed()
    }

    /// Moves on whenever this instance writes something that changes what
    /// is free (or, from the admin pages, what is offered): what was
    /// computed under an older generation may be out of date.
    pub fn generation(&self) -> u64 {
        self.shortcut.generation()
    }

    pub(crate) fn recorder(&self) -> &Recorder {
        &self.stats
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Places a hold: the slot is claimed until the venue's hold time runs
    /// out, unless confirmed first.
    #[tracing::instrument(skip_all, fields(venue = %req.venue, customer = %req.customer))]
    pub async fn hold(&self, req: &BookingRequest) -> Result<Booking, BookingError> {
        self.place(req, Mode::Hold, Rules::Customer).await
    }

    /// Books directly: hold and confirm in one transaction.
    #[tracing::instrument(skip_all, fields(venue = %req.venue, customer = %req.customer))]
    pub async fn book(&self, req: &BookingRequest) -> Result<Booking, BookingError> {
        self.place(req, Mode::Book, Rules::Customer).await
    }

    /// Books for a customer on staff's word: see `Rules::Staff`.
    pub(crate) async fn book_as_staff(
        &self,
        req: &BookingRequest,
        by: UserId,
    ) -> Result<Booking, BookingError> {
        self.place(req, Mode::Book, Rules::Staff { by }).await
    }

    async fn place(
        &self,
        req: &BookingRequest,
        mode: Mode,
        rules: Rules,
    ) -> Result<Booking, BookingError> {
        let result = with_backend!(&self.db, |b| self.place_on(b, req, mode, rules).await);
        let o = &self.counters.outcomes;
        let counter = match (&result, mode) {
            (Ok(_), Mode::Book) => &o.booked,
            (Ok(_), Mode::Hold) => &o.held,
            (Err(BookingError::SlotTaken { .. }), _) => &o.taken,
            (Err(BookingError::Busy | BookingError::Internal), _) => &o.failed,
            (Err(_), _) => &o.refused,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        result
    }

    /// Look, take the slot's turn, run the transaction, remember.
    async fn place_on<B: Backend>(
        &self,
        b: &B,
        req: &BookingRequest,
        mode: Mode,
        rules: Rules,
    ) -> Result<Booking, BookingError> {
        let turn = self.shortcut.turn(req);
        let looked = {
            let _others_writing = turn.read().await;
            self.look(b, req, rules).await
        };
        let Some(hint) = looked else {
            return self.repeat_or_conflict(b, req, mode, rules, true).await;
        };
        pauses::pause(Point::AfterLook).await;
        let result = {
            // The look stands when nobody of this instance was in the slot's
            // turn: the uncontended booking reads its inputs once (a write
            // elsewhere meanwhile is the transaction's to find, as another
            // instance's is). After a wait for the turn, the request before
            // it may have taken the slot: look again; a storm's losers end
            // here.
            let (_turn, waited) = match turn.try_write() {
                Ok(t) => (t, false),
                Err(_) => (turn.write().await, true),
            };
            let hint = if waited {
                self.look(b, req, rules).await
            } else {
                Some(hint)
            };
            match hint {
                None => None,
                Some(hint) => Some(
                    retrying(&self.counters, || {
                        attempt_place(
                            b,
                            &self.clock,
                            req,
                            mode,
                            rules,
                            &hint,
                            &self.stats,
                            &self.counters,
                        )
                    })
                    .await,
                ),
            }
        };
        let Some(result) = result else {
            return self.repeat_or_conflict(b, req, mode, rules, true).await;
        };
        match result {
            Ok(placed) => Ok(self.remember(req, mode, placed)),
            Err(Failure::Taken) => Err(self.conflict(b, req).await),
            // A guard of the schema caught what the checks did not see: a
            // concurrent request with the same idempotency key, a claim, an
            // overlapping occupancy. Told apart by looking, not by reading
            // the error's text.
            Err(Failure::Db(e)) if is_guard_violation(&e) => {
                self.counters
                    .unique_violations
                    .fetch_add(1, Ordering::Relaxed);
                self.repeat_or_conflict(b, req, mode, rules, false).await
            }
            Err(f) => Err(settle(f)),
        }
    }

    /// The read-only look (see `look`): `None` when the slot is taken,
    /// else the hint for the transaction.
    async fn look<B: Backend>(&self, b: &B, req: &BookingRequest, rules: Rules) -> Option<Hint> {
        // Read before looking: a write meanwhile outdates the answer.
        let generation = self.shortcut.generation();
        let now = self.clock.now();
        if self.shortcut.remembers_taken(req, generation, now, rules) {
            self.counters
                .remembered_refusals
                .fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match look(b, now, req, rules).await {
            Ok(Looked::Taken(taken)) => {
                self.shortcut.remember_taken(req, generation, taken);
                None
            }
            Ok(Looked::Free(hint)) => Some(hint),
            // Only an optimisation: on any trouble, the transaction decides.
            Err(f) => {
                tracing::debug!(failure = ?f, "fast refusal check skipped");
                Some(Hint::default())
            }
        }
    }

    /// A request that was not placed: refused by the look (or the memory
    /// of one, `looked`), or caught by a guard of the schema. A repeat of
    /// a request the customer made before is answered as the transaction
    /// would (its booking, wherever it is now, or why not): the memory
    /// knows only who holds the slot now, not a booking since moved or
    /// ended. Otherwise the conflict, with alternatives.
    async fn repeat_or_conflict<B: Backend>(
        &self,
        b: &B,
        req: &BookingRequest,
        mode: Mode,
        rules: Rules,
        looked: bool,
    ) -> Result<Booking, BookingError> {
        match self.replay(b, req, mode, rules).await {
            Ok(Some(existing)) => Ok(existing),
            Ok(None) if looked => Err(self.refuse(b, req).await),
            Ok(None) => Err(self.conflict(b, req).await),
            Err(f) => Err(settle(f)),
        }
    }

    /// The look found the slot taken.
    async fn refuse<B: Backend>(&self, b: &B, req: &BookingRequest) -> BookingError {
        self.counters.fast_refusals.fetch_add(1, Ordering::Relaxed);
        self.conflict(b, req).await
    }

    /// The slot is taken: counted, and answered with alternatives.
    async fn conflict<B: Backend>(&self, b: &B, req: &BookingRequest) -> BookingError {
        self.stats
            .record(req.venue.0, self.clock.now(), Event::Conflict);
        self.slot_taken(b, req).await
    }

    /// A placement made: what is free changed, and when it took every
    /// candidate the others of a storm need not look.
    fn remember(&self, req: &BookingRequest, mode: Mode, placed: Placed) -> Booking {
        if placed.fresh {
            let generation = self.changed();
            if let Some(taken) = placed.taken {
                self.shortcut.remember_taken(req, generation, taken);
            }
            let event = match mode {
                Mode::Hold => Event::HoldPlaced,
                Mode::Book => Event::Booked,
            };
            self.stats.record(req.venue.0, self.clock.now(), event);
        }
        placed.booking
    }

    /// The booking this customer already made with this idempotency key
    /// (refused if the key was made for another request).
    async fn replay<B: Backend>(
        &self,
        b: &B,
        req: &BookingRequest,
        mode: Mode,
        rules: Rules,
    ) -> Result<Option<Booking>, Failure> {
        let mut tx = b.begin_read().await?;
        match tx
            .booking_by_key(req.customer.0, req.idempotency_key.as_str())
            .await?
        {
            Some(row) => {
                let asked = fingerprint(req, mode, rules);
                Ok(Some(replayed(&mut tx, row, req, &asked).await?))
            }
            None => Ok(None),
        }
    }

    /// Turns this customer's unexpired hold into a booking. Its claims stay.
    pub async fn confirm_hold(
        &self,
        customer: UserId,
        id: BookingId,
    ) -> Result<Booking, BookingError> {
        self.confirm_hold_with(customer, id, &ContactDetails::default())
            .await
    }

    /// Confirms a hold with what the customer tells the venue (a note, a
    /// phone number), written in the same update.
    #[tracing::instrument(skip(self, details))]
    pub async fn confirm_hold_with(
        &self,
        customer: UserId,
        id: BookingId,
        details: &ContactDetails,
    ) -> Result<Booking, BookingError> {
        with_backend!(&self.db, |b| {
            retrying(&self.counters, || {
                confirm_attempt(b, &self.clock, customer, id, details, &self.stats)
            })
            .await
            .map_err(settle)
        })
    }

    /// Gives up a hold: its slot is free again at once.
    #[tracing::instrument(skip(self))]
    pub async fn release_hold(&self, actor: Actor, id: BookingId) -> Result<Booking, BookingError> {
        self.end(actor, id, Ending::Release).await
    }

    /// Cancels a booking or hold. Customers may cancel until the venue's
    /// cancellation window; staff at any time.
    #[tracing::instrument(skip(self))]
    pub async fn cancel(&self, actor: Actor, id: BookingId) -> Result<Booking, BookingError> {
        self.end(actor, id, Ending::Cancel).await
    }

    async fn end(&self, actor: Actor, id: BookingId, how: Ending) -> Result<Booking, BookingError> {
        let ended = with_backend!(&self.db, |b| {
            retrying(&self.counters, || {
                end_attempt(b, &self.clock, actor, id, how)
            })
            .await
            .map_err(settle)
        });
        ended.map(|(booking, run)| {
            self.changed();
            self.after_offers(&run);
            booking
        })
    }

    /// A booking, if `actor` may see it.
    pub async fn booking(&self, actor: Actor, id: BookingId) -> Result<Booking, BookingError> {
        with_backend!(&self.db, |b| {
            async {
                let mut tx = b.begin_read().await?;
                let row = tx.booking(id.0).await?.ok_or(BookingError::NotFound)?;
                if !may_see(&mut tx, actor, &row).await? {
                    return Err(Failure::Refused(BookingError::NotFound));
                }
                booking_from_row(&mut tx, row).await
            }
            .await
            .map_err(settle)
        })
    }

    /// A customer's bookings and holds, soonest first.
    pub async fn bookings_of(&self, customer: UserId) -> Result<Vec<Booking>, BookingError> {
        with_backend!(&self.db, |b| {
            async {
                let mut tx = b.begin_read().await?;
                let mut out = Vec::new();
                for row in tx.bookings_of_customer(customer.0).await? {
                    out.push(booking_from_row(&mut tx, row).await?);
                }
                Ok::<_, Failure>(out)
            }
            .await
            .map_err(settle)
        })
    }

    /// The grid of start times at `venue` on `date` for a service or a party
    /// size, with which suitable resources are free at each.
    #[tracing::instrument(skip(self))]
    pub async fn availability(
        &self,
        venue: VenueId,
        date: NaiveDate,
        offer: Offer,
        choice: ResourceChoice,
    ) -> Result<Availability, BookingError> {
        with_backend!(&self.db, |b| {
            retrying(&self.counters, || {
                availability::availability_attempt(b, self.clock.now(), venue, date, offer, choice)
            })
            .await
            .map_err(settle)
        })
    }

    /// How each bookable day from `from` to `to` looks for a service or a
    /// party size and a resource choice: its start times, the free ones,
    /// the first free one. With `until_free`, the days up to the first
    /// with a free time. With `moving` (a booking the caller has checked
    /// may be moved), its own claims are read as free, as on its grid.
    pub async fn day_counts(
        &self,
        venue: VenueId,
        dates: (NaiveDate, NaiveDate),
        offer: Offer,
        choice: ResourceChoice,
        until_free: bool,
        moving: Option<BookingId>,
    ) -> Result<Vec<DayCount>, BookingError> {
        with_backend!(&self.db, |b| {
            retrying(&self.counters, || {
                availability::day_counts_attempt(
                    b,
                    self.clock.now(),
                    venue,
                    dates,
                    offer,
                    choice,
                    until_free,
                    moving,
                )
            })
            .await
            .map_err(settle)
        })
    }

    /// The times the customer's booking `id` may move to on `date`, for
    /// `choice` (its therapist or table, another, or any): the customer's
    /// grid, read as if the booking's own claims were free.
    pub async fn move_times(
        &self,
        customer: UserId,
        id: BookingId,
        date: NaiveDate,
        choice: ResourceChoice,
    ) -> Result<Availability, BookingError> {
        with_backend!(&self.db, |b| {
            retrying(&self.counters, || {
                availability::move_times_attempt(
                    b,
                    self.clock.now(),
                    Some(customer),
                    id,
                    date,
                    choice,
                )
            })
            .await
            .map_err(settle)
        })
    }

    /// Expires every hold past its time (the periodic sweeper; booking
    /// transactions also expire lapsed holds on the resources they lock).
    pub async fn expire_due_holds(&self) -> Result<usize, BookingError> {
        with_backend!(&self.db, |b| {
            retrying(&self.counters, || async {
                let now = self.clock.now();
                let due = {
                    let mut tx = b.begin_read().await?;
                    tx.due_holds(now, 100).await?
                };
                let mut expired = 0;
                // One short transaction a hold (see `expire_one`), which
                // offers its time to the waitlist.
                for id in due {
                    let run = holds::expire_one(b, id, now).await?;
                    expired += run.expired.len();
                    self.after_offers(&run);
                }
                Ok::<usize, Failure>(expired)
            })
            .await
            .map_err(settle)
        })
    }

    /// The invariant checks of the protocol, read in one snapshot. Every
    /// list is always empty.
    pub async fn invariants(&self) -> Result<Invariants, BookingError> {
        self.check(Check::ALL).await
    }

    /// Live bookings that overlap on a resource.
    pub async fn overlapping_bookings(&self) -> Result<Vec<Overlap>, BookingError> {
        Ok(self.check(&[Check::Overlaps]).await?.overlaps)
    }

    /// Bookings that are not live but still own claims or occupancy rows.
    pub async fn ghost_claims(&self) -> Result<Vec<BookingId>, BookingError> {
        Ok(self.check(&[Check::GhostClaims]).await?.ghost_claims)
    }

    /// Live bookings still to come whose claims or occupancy rows do not
    /// match their time, resources and the venue's grid.
    pub async fn half_made_bookings(&self) -> Result<Vec<BookingId>, BookingError> {
        Ok(self.check(&[Check::HalfMade]).await?.half_made)
    }

    /// Runs the asked invariant queries in one read snapshot; the others'
    /// lists stay empty.
    async fn check(&self, asked: &[Check]) -> Result<Invariants, BookingError> {
        let now = self.clock.now();
        with_backend!(&self.db, |b| {
            async {
                let mut tx = b.begin_read().await?;
                let mut found = Invariants::default();
                if asked.contains(&Check::Overlaps) {
                    found.overlaps = tx.overlaps().await?;
                }
                if asked.contains(&Check::GhostClaims) {
                    found.ghost_claims = ids(tx.ghost_claims().await?);
                }
                if asked.contains(&Check::HalfMade) {
                    found.half_made = ids(tx.half_made(now).await?);
                }
                if asked.contains(&Check::Untold) {
                    found.untold = ids(tx.untold().await?);
                }
                if asked.contains(&Check::Waitlist) {
                    found.waitlist_astray = tx.waitlist_astray().await?;
                }
                Ok::<_, Failure>(found)
            }
            .await
            .map_err(settle)
        })
    }
}

/// One invariant query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Overlaps,
    GhostClaims,
    HalfMade,
    Untold,
    Waitlist,
}

impl Check {
    const ALL: &'static [Check] = &[
        Check::Overlaps,
        Check::GhostClaims,
        Check::HalfMade,
        Check::Untold,
        Check::Waitlist,
    ];
}

/// What the invariant checks found: always nothing.
#[derive(Debug, Default)]
pub struct Invariants {
    /// Live bookings that overlap on a resource.
    pub overlaps: Vec<Overlap>,
    /// Bookings not live that still own claims or occupancy rows.
    pub ghost_claims: Vec<BookingId>,
    /// Live bookings still to come whose claims or occupancy rows do not
    /// match their time, resources and the venue's grid.
    pub half_made: Vec<BookingId>,
    /// Bookings whose outbox does not tell what became of them: a
    /// confirmed booking with no confirmation (or two), a cancelled one
    /// told of its cancellation without having been confirmed, or not told
    /// though it had been.
    pub untold: Vec<BookingId>,
    /// Waitlist entries whose state does not match their hold, or waiting
    /// entries passed over for a later one with the very same wish.
    pub waitlist_astray: Vec<i64>,
}

fn ids(rows: Vec<i64>) -> Vec<BookingId> {
    rows.into_iter().map(BookingId).collect()
}
