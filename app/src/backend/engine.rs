//! The booking engine: hold, book, confirm, release, cancel, availability.
//!
//! Each operation is one transaction, as `shared/BOOKING-PROTOCOL.md`
//! describes: lock the resources (Postgres `FOR UPDATE` in id order; SQLite
//! `BEGIN IMMEDIATE`), expire lapsed holds, check the venue's rules and the
//! claims, insert the booking and its claims under the unique index,
//! commit. Every read and write of an attempt goes through that
//! transaction. Nothing here knows about HTTP or Leptos.

use crate::domain::booking::{
    Alternative, AlternativeKind, Availability, Booking, BookingError, BookingRequest,
    BookingStatus, Offer, ResourceChoice, RuleViolation, SlotView,
};
use crate::domain::ids::{BookingId, ResourceId, ServiceId, UserId, VenueId};
use crate::domain::schedule::{self, Ambiguity};
use crate::domain::venue::ResourceSummary;
use chrono::{NaiveDate, Timelike};
use chrono_tz::Tz;
use rand::Rng;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::day::{kind_of, Day, Need, Openness};
use super::db::{is_guard_violation, is_transient, with_backend, Backend, Db};
use super::pauses::{self, Point};
use super::stats::{Event, Recorder};
use super::store::{BookingRow, NewAudit, NewBooking, Overlap, ResourceRow, Store, VenueRow};
use crate::domain::venue::ResourceKind;

/// Attempts of one operation when the database reports a transient failure.
const MAX_ATTEMPTS: u32 = 6;
/// How far the next-open-day alternative looks ahead.
const NEXT_DAY_SEARCH_DAYS: i64 = 14;
/// At most this many other resources are offered at the requested time.
const OTHER_RESOURCE_ALTERNATIVES: usize = 3;

/// The engine's idea of now, in UTC seconds. Tests set it by hand.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(at: i64) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(at)))
    }

    pub fn now(&self) -> i64 {
        match self {
            Clock::System => chrono::Utc::now().timestamp(),
            Clock::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock; a system clock ignores it.
    pub fn set(&self, at: i64) {
        if let Clock::Manual(t) = self {
            t.store(at, Ordering::SeqCst);
        }
    }
}

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Hold,
    Book,
}

/// Whose rules a booking follows. Staff book for customers (a phone call,
/// a walk-in): the minimum notice and the advance window do not apply to
/// them, but the past, the grid, the hours and the claims do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rules {
    Customer,
    /// Booked by this staff member; audited in the booking's transaction.
    Staff {
        by: UserId,
    },
}

/// How an attempt ended, before it becomes a `BookingError`.
#[derive(Debug)]
pub(crate) enum Failure {
    Refused(BookingError),
    /// The slot is claimed; alternatives are computed after the rollback.
    Taken,
    /// A staff operation's own answer (a stale version, stranded bookings).
    App(crate::domain::error::AppError),
    Db(sqlx::Error),
}

impl From<crate::domain::error::AppError> for Failure {
    fn from(e: crate::domain::error::AppError) -> Self {
        Failure::App(e)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Db(e)
    }
}

impl From<RuleViolation> for Failure {
    fn from(v: RuleViolation) -> Self {
        Failure::Refused(BookingError::Rejected(v))
    }
}

impl From<BookingError> for Failure {
    fn from(e: BookingError) -> Self {
        Failure::Refused(e)
    }
}

/// Turns what is left of a failure into the caller's error, logging the
/// internal cause once, here.
pub(crate) fn settle(f: Failure) -> BookingError {
    match f {
        Failure::Refused(e) => e,
        Failure::Taken => BookingError::SlotTaken {
            alternatives: Vec::new(),
        },
        Failure::App(e) => {
            tracing::error!(error = %e, "a staff answer reached a booking operation");
            BookingError::Internal
        }
        Failure::Db(e) if is_transient(&e) => {
            tracing::warn!(error = %e, "database still busy after retries");
            BookingError::Busy
        }
        Failure::Db(e) => {
            tracing::error!(error = %e, "booking engine database error");
            BookingError::Internal
        }
    }
}

/// Runs `op` again, after a jittered, growing pause, while it fails with a
/// transient database error; at most `MAX_ATTEMPTS` times.
pub(crate) async fn retrying<T, F, Fut>(counters: &Counters, mut op: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut attempt = 1;
    loop {
        let started = std::time::Instant::now();
        let result = op().await;
        counters.transaction_seconds.observe(started.elapsed());
        match result {
            Err(Failure::Db(e)) if is_transient(&e) && attempt < MAX_ATTEMPTS => {
                counters.retries.fetch_add(1, Ordering::Relaxed);
                let ceiling_ms = 4u64 << attempt.min(6);
                let pause = rand::thread_rng().gen_range(1..=ceiling_ms);
                tracing::debug!(attempt, pause_ms = pause, error = %e, "retrying transaction");
                tokio::time::sleep(Duration::from_millis(pause)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// What the engine has seen since it started (one instance).
#[derive(Debug, Default)]
pub struct Counters {
    /// Transactions tried again after a transient failure.
    pub retries: AtomicU64,
    /// Attempts stopped by a guard of the schema (a unique index, the
    /// overlap guard) rather than by the checks under the lock: with the
    /// lock working, only duplicate idempotency keys sent at once.
    pub unique_violations: AtomicU64,
    /// Requests refused by the read-only look before the write transaction.
    pub fast_refusals: AtomicU64,
    /// Of those, the ones answered from the slots remembered as taken,
    /// without reading the database.
    pub remembered_refusals: AtomicU64,
    /// Booking and hold attempts by how they ended.
    pub outcomes: Outcomes,
    /// How long each transaction of the engine took, lock waits included.
    pub transaction_seconds: super::stats::Histogram,
    /// How long booking transactions waited for their locks (SQLite: the
    /// writer connection and `BEGIN IMMEDIATE`; Postgres: `FOR UPDATE`).
    pub lock_wait_seconds: super::stats::Histogram,
}

/// Booking and hold attempts by outcome.
#[derive(Debug, Default)]
pub struct Outcomes {
    pub booked: AtomicU64,
    pub held: AtomicU64,
    /// "Slot taken", by the fast refusal or the transaction.
    pub taken: AtomicU64,
    /// A rule of the venue refused it, or it repeated an idempotency key.
    pub refused: AtomicU64,
    /// Busy or an internal error.
    pub failed: AtomicU64,
}

/// The answer of a placing attempt: the booking, and whether this attempt
/// made it (rather than finding it by its idempotency key).
struct Placed {
    booking: Booking,
    fresh: bool,
    /// A fresh booking that claims every candidate of its request: the
    /// slot is taken now.
    taken: Option<Taken>,
}

/// The booking engine over one database.
#[derive(Clone, Debug)]
pub struct Engine {
    db: Db,
    clock: Clock,
    counters: Arc<Counters>,
    stats: Arc<Recorder>,
    turns: Arc<SlotTurns>,
    offers: Arc<OfferCache>,
    taken: Arc<TakenSlots>,
}

/// Alternatives offered for a taken slot, kept for a second: a storm's
/// losers all ask for the same ones. Anything this instance writes clears
/// it (a new generation); another instance's writes show within the second
/// — alternatives are advice, and booking one goes through the engine.
#[derive(Debug, Default)]
struct OfferCache {
    generation: AtomicU64,
    entries: std::sync::Mutex<HashMap<String, (u64, std::time::Instant, Vec<Alternative>)>>,
    /// One computation per key at a time (keyed locks, as for the turns):
    /// a storm's losers wait for the first one's answer.
    computing: SlotTurns,
}

const OFFER_CACHE_SECONDS: u64 = 1;

/// Slots this instance found taken, remembered for a second: the losers of
/// a storm are then answered without reading the database again. A slot is
/// remembered with its claims' owners (their own repeats still go to the
/// transaction, which answers with their booking), until the first of its
/// holds could lapse, and only while this instance has written nothing
/// that changes what is free (the generation). What another instance frees
/// shows within the second, as for the alternatives. Only ever a refusal:
/// claiming always goes through the transaction.
#[derive(Debug, Default)]
struct TakenSlots {
    entries: std::sync::Mutex<HashMap<String, Taken>>,
}

#[derive(Debug)]
struct Taken {
    generation: u64,
    seen: std::time::Instant,
    /// Engine clock: the slot stays taken at least until then.
    until: i64,
    /// (customer, idempotency key) of the bookings that claim it.
    owners: Vec<(i64, String)>,
    /// For the time rules: a request they refuse gets their answer.
    venue: VenueRow,
}

impl TakenSlots {
    fn remembers(
        &self,
        key: &str,
        generation: u64,
        now: i64,
        req: &BookingRequest,
        rules: Rules,
    ) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).is_some_and(|t| {
            t.generation == generation
                && t.seen.elapsed().as_secs() < OFFER_CACHE_SECONDS
                && now < t.until
                && !t
                    .owners
                    .iter()
                    .any(|(c, k)| *c == req.customer.0 && k == req.idempotency_key.as_str())
                && check_time_rules(&t.venue, now, req.start.timestamp(), rules).is_ok()
        })
    }

    fn remember(&self, key: String, taken: Taken) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= 4096 {
            entries.retain(|_, t| t.seen.elapsed().as_secs() < OFFER_CACHE_SECONDS);
        }
        entries.insert(key, taken);
    }
}

/// What a request asks for, as a key: venue, offer, resource choice, start.
fn slot_key(req: &BookingRequest) -> String {
    format!(
        "{}:{:?}:{:?}:{}",
        req.venue,
        req.offer,
        req.resource,
        req.start.timestamp()
    )
}

/// Requests of this instance for one slot take turns at the write
/// transaction, and each, in its turn, first looks read-only whether the
/// slot is already claimed (the looks outside a turn run side by side). A
/// storm for one slot then costs one write and many reads instead of a
/// queue of write transactions that each find the slot taken, and other
/// slots are not held up behind it. Only an optimisation: the transaction
/// and the unique index still decide, across instances too.
#[derive(Debug, Default)]
struct SlotTurns {
    gates: std::sync::Mutex<HashMap<String, std::sync::Weak<tokio::sync::RwLock<()>>>>,
}

impl SlotTurns {
    fn gate(&self, key: String) -> Arc<tokio::sync::RwLock<()>> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(g) = gates.get(&key).and_then(std::sync::Weak::upgrade) {
            return g;
        }
        if gates.len() >= 4096 {
            gates.retain(|_, g| g.strong_count() > 0);
        }
        let g = Arc::new(tokio::sync::RwLock::new(()));
        gates.insert(key, Arc::downgrade(&g));
        g
    }
}

impl Engine {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self {
            db,
            clock,
            counters: Arc::default(),
            stats: Arc::default(),
            turns: Arc::default(),
            offers: Arc::default(),
            taken: Arc::default(),
        }
    }

    /// Something this instance wrote changed what is free. Returns the new
    /// generation.
    pub(crate) fn changed(&self) -> u64 {
        self.offers.generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Moves on whenever this instance writes something that changes what
    /// is free (or, from the admin pages, what is offered): what was
    /// computed under an older generation may be out of date.
    pub fn generation(&self) -> u64 {
        self.offers.generation.load(Ordering::Relaxed)
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

    async fn place_on<B: Backend>(
        &self,
        b: &B,
        req: &BookingRequest,
        mode: Mode,
        rules: Rules,
    ) -> Result<Booking, BookingError> {
        let key = slot_key(req);
        let gate = self.turns.gate(key.clone());
        // The read-only look: `None` when the slot is taken, else what it
        // read, a hint for the transaction (see `Hint`).
        let look = |at| {
            let key = key.clone();
            async move {
                // Read before looking: a write meanwhile outdates the answer.
                let generation = self.generation();
                if self.taken.remembers(&key, generation, at, req, rules) {
                    self.counters
                        .remembered_refusals
                        .fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                match already_claimed(b, at, req, rules).await {
                    Ok(Looked::Taken(taken)) => {
                        self.taken.remember(
                            key,
                            Taken {
                                generation,
                                ..taken
                            },
                        );
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
        };
        let refuse = || async {
            self.counters.fast_refusals.fetch_add(1, Ordering::Relaxed);
            self.stats
                .record(req.venue.0, self.clock.now(), Event::Conflict);
            Err(self.slot_taken(b, req).await)
        };
        let looked = {
            let _others_writing = gate.read().await;
            look(self.clock.now()).await
        };
        if looked.is_none() {
            return refuse().await;
        }
        pauses::pause(Point::AfterLook).await;
        let result = {
            let _turn = gate.write().await;
            match look(self.clock.now()).await {
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
            return refuse().await;
        };
        match result {
            Ok(placed) => {
                if placed.fresh {
                    let generation = self.changed();
                    // The others of a storm need not look: it is taken.
                    if let Some(taken) = placed.taken {
                        self.taken.remember(
                            key,
                            Taken {
                                generation,
                                ..taken
                            },
                        );
                    }
                    let event = match mode {
                        Mode::Hold => Event::HoldPlaced,
                        Mode::Book => Event::Booked,
                    };
                    self.stats.record(req.venue.0, self.clock.now(), event);
                }
                Ok(placed.booking)
            }
            Err(Failure::Taken) => {
                self.stats
                    .record(req.venue.0, self.clock.now(), Event::Conflict);
                Err(self.slot_taken(b, req).await)
            }
            // A guard of the schema caught what the checks did not see: a
            // concurrent request with the same idempotency key, a claim, an
            // overlapping occupancy. Told apart by looking, not by reading
            // the error's text.
            Err(Failure::Db(e)) if is_guard_violation(&e) => {
                self.counters
                    .unique_violations
                    .fetch_add(1, Ordering::Relaxed);
                match self.replay(b, req, mode, rules).await {
                    Ok(Some(existing)) => Ok(existing),
                    Ok(None) => {
                        self.stats
                            .record(req.venue.0, self.clock.now(), Event::Conflict);
                        Err(self.slot_taken(b, req).await)
                    }
                    Err(f) => Err(settle(f)),
                }
            }
            Err(f) => Err(settle(f)),
        }
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

    async fn slot_taken<B: Backend>(&self, b: &B, req: &BookingRequest) -> BookingError {
        let now = self.clock.now();
        // The bookable range moves with the clock: a minute's worth at most.
        let key = format!("{}:{}", slot_key(req), now.div_euclid(60));
        let generation = self.offers.generation.load(Ordering::Relaxed);
        let fresh = std::time::Duration::from_secs(OFFER_CACHE_SECONDS);
        let cached = || {
            let entries = self
                .offers
                .entries
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            entries
                .get(&key)
                .filter(|(g, at, _)| *g == generation && at.elapsed() < fresh)
                .map(|(_, _, alternatives)| alternatives.clone())
        };
        if let Some(alternatives) = cached() {
            return BookingError::SlotTaken { alternatives };
        }
        // One request computes them; the others of a storm wait for it.
        let turn = self.offers.computing.gate(key.clone());
        let _computing = turn.write().await;
        if let Some(alternatives) = cached() {
            return BookingError::SlotTaken { alternatives };
        }
        let alternatives = match alternatives(b, now, req).await {
            Ok(a) => {
                let mut entries = self
                    .offers
                    .entries
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if entries.len() >= 1024 {
                    entries.retain(|_, (_, at, _)| at.elapsed() < fresh);
                }
                entries.insert(key, (generation, std::time::Instant::now(), a.clone()));
                a
            }
            Err(f) => {
                // The slot is still taken; the customer just sees no offers.
                let e = settle(f);
                tracing::warn!(error = %e, "could not compute alternatives");
                Vec::new()
            }
        };
        BookingError::SlotTaken { alternatives }
    }

    /// Turns this customer's unexpired hold into a booking. Its claims stay.
    #[tracing::instrument(skip(self))]
    pub async fn confirm_hold(
        &self,
        customer: UserId,
        id: BookingId,
    ) -> Result<Booking, BookingError> {
        with_backend!(&self.db, |b| {
            retrying(&self.counters, || {
                confirm_attempt(b, &self.clock, customer, id, &self.stats)
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
        if ended.is_ok() {
            self.changed();
        }
        ended
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
                availability_attempt(b, self.clock.now(), venue, date, offer, choice)
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
                let mut tx = b.begin_write().await?;
                let mut expired = 0;
                // Small batches in id order: short transactions that lock
                // booking rows in the same order as booking transactions do.
                let mut venues = Vec::new();
                for id in tx.due_holds(now, 100).await? {
                    if let Some(venue) = tx.expire_hold(id, now).await? {
                        venues.push(venue);
                        expired += 1;
                    }
                }
                tx.commit().await?;
                if !venues.is_empty() {
                    self.changed();
                }
                for venue in venues {
                    self.stats.record(venue, now, Event::HoldExpired);
                }
                Ok::<usize, Failure>(expired)
            })
            .await
            .map_err(settle)
        })
    }

    /// The invariant check of the protocol: live bookings that overlap on a
    /// resource. Always empty.
    pub async fn overlapping_bookings(&self) -> Result<Vec<Overlap>, BookingError> {
        with_backend!(&self.db, |b| {
            async {
                let mut tx = b.begin_read().await?;
                Ok::<_, Failure>(tx.overlaps().await?)
            }
            .await
            .map_err(settle)
        })
    }

    /// The second invariant check: bookings that are not live but still
    /// own claims or occupancy rows. Always empty.
    pub async fn ghost_claims(&self) -> Result<Vec<BookingId>, BookingError> {
        with_backend!(&self.db, |b| {
            async {
                let mut tx = b.begin_read().await?;
                Ok::<_, Failure>(
                    tx.ghost_claims()
                        .await?
                        .into_iter()
                        .map(BookingId)
                        .collect(),
                )
            }
            .await
            .map_err(settle)
        })
    }

    /// Live bookings still to come whose claims or occupancy rows do not
    /// match their time, resources and the venue's grid. Always empty.
    pub async fn half_made_bookings(&self) -> Result<Vec<BookingId>, BookingError> {
        let now = self.clock.now();
        with_backend!(&self.db, |b| {
            async {
                let mut tx = b.begin_read().await?;
                Ok::<_, Failure>(
                    tx.half_made(now)
                        .await?
                        .into_iter()
                        .map(BookingId)
                        .collect(),
                )
            }
            .await
            .map_err(settle)
        })
    }
}

pub(crate) fn venue_zone(venue: &VenueRow) -> Result<Tz, Failure> {
    venue.timezone.parse::<Tz>().map_err(|_| {
        tracing::error!(venue = venue.id, zone = %venue.timezone, "venue has an unknown time zone");
        Failure::Refused(BookingError::Internal)
    })
}

/// The earliest and latest bookable starts at `venue` as of `now`.
fn bookable_range(venue: &VenueRow, now: i64) -> (i64, i64) {
    (
        now + venue.min_notice_minutes * 60,
        now + venue.advance_days * 86_400,
    )
}

pub(crate) fn check_time_rules(
    venue: &VenueRow,
    now: i64,
    start: i64,
    rules: Rules,
) -> Result<(), Failure> {
    let unit = venue.grid_minutes * 60;
    if !schedule::is_on_grid(start, unit) {
        return Err(RuleViolation::OffGrid {
            grid_minutes: venue.grid_minutes,
        }
        .into());
    }
    let (earliest, latest) = match rules {
        Rules::Customer => bookable_range(venue, now),
        // Staff may book the unit under way (a walk-in) and any later one.
        Rules::Staff { .. } => (now - now.rem_euclid(unit), i64::MAX),
    };
    if start < earliest {
        return Err(RuleViolation::TooSoon {
            earliest: schedule::to_datetime(schedule::ceil_to_grid(earliest, unit)),
        }
        .into());
    }
    if start > latest {
        return Err(RuleViolation::TooFarAhead {
            latest: schedule::to_datetime(latest),
        }
        .into());
    }
    Ok(())
}

/// What `offer` needs at `venue` and which resources can provide it, with
/// the choice of resource checked: the therapist offers the service, the
/// table seats the party.
pub(crate) async fn need_for<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    offer: Offer,
    choice: ResourceChoice,
) -> Result<Need, Failure> {
    let active: Vec<ResourceRow> = tx
        .resources(venue.id)
        .await?
        .into_iter()
        .filter(|r| r.active)
        .collect();
    let of_kind = |k: ResourceKind| -> Vec<ResourceRow> {
        active
            .iter()
            .filter(|r| kind_of(r) == Some(k))
            .cloned()
            .collect()
    };
    match offer {
        Offer::Service(ServiceId(sid)) => {
            let service = tx
                .service(sid)
                .await?
                .filter(|s| s.venue_id == venue.id && s.active)
                .ok_or(RuleViolation::UnknownService)?;
            let offers = tx.offers(venue.id).await?;
            let offers_it = |t: &ResourceRow| offers.contains(&(t.id, sid));
            let therapists = of_kind(ResourceKind::Therapist);
            let candidates: Vec<ResourceRow> = match choice {
                ResourceChoice::Any => therapists.into_iter().filter(offers_it).collect(),
                ResourceChoice::Specific(ResourceId(rid)) => {
                    let t = therapists
                        .into_iter()
                        .find(|t| t.id == rid)
                        .ok_or(RuleViolation::UnknownResource)?;
                    if !offers_it(&t) {
                        return Err(RuleViolation::ServiceNotOffered.into());
                    }
                    vec![t]
                }
            };
            if candidates.is_empty() {
                return Err(RuleViolation::ServiceNotOffered.into());
            }
            Ok(Need {
                length: service.duration_minutes * 60,
                buffer: service.cleanup_minutes * 60,
                candidates,
                rooms: if service.needs_room {
                    of_kind(ResourceKind::Room)
                } else {
                    Vec::new()
                },
            })
        }
        Offer::Table(party) => {
            let seating = venue.seating_minutes.ok_or(RuleViolation::WrongOffer {
                expected: "treatment".to_owned(),
            })?;
            let mut tables = of_kind(ResourceKind::Table);
            tables.sort_by_key(|t| (t.capacity.unwrap_or(0), t.id));
            let largest = tables.iter().filter_map(|t| t.capacity).max().unwrap_or(0);
            let party = party.get();
            let candidates: Vec<ResourceRow> = match choice {
                ResourceChoice::Any => tables
                    .into_iter()
                    .filter(|t| t.capacity.unwrap_or(0) >= party)
                    .collect(),
                ResourceChoice::Specific(ResourceId(rid)) => {
                    let t = tables
                        .into_iter()
                        .find(|t| t.id == rid)
                        .ok_or(RuleViolation::UnknownResource)?;
                    let capacity = t.capacity.unwrap_or(0);
                    if capacity < party {
                        return Err(RuleViolation::TableTooSmall {
                            capacity,
                            party_size: party,
                        }
                        .into());
                    }
                    vec![t]
                }
            };
            if candidates.is_empty() {
                return Err(RuleViolation::PartyTooLarge {
                    party_size: party,
                    largest,
                }
                .into());
            }
            Ok(Need {
                length: seating * 60,
                buffer: 0,
                candidates,
                rooms: Vec::new(),
            })
        }
    }
}

/// Fast refusal: a read-only look, outside the write transaction, at whether
/// every suitable resource is already claimed for the requested time. It
/// may only refuse; a request it lets through still goes through the
/// transaction, which alone can claim. Under a storm for one slot this
/// answers the losers without queueing them for the write lock.
/// What the read-only look found.
enum Looked {
    /// Every suitable resource is claimed then.
    Taken(Taken),
    /// Not taken as far as the look could tell.
    Free(Hint),
}

/// What the look read of a request, for its transaction: which resources
/// to lock, and the need with the venue's set-up version it was read at.
/// Only ever a hint: the transaction reads the venue again under its locks
/// and the need too unless that version is still the venue's.
#[derive(Clone, Debug, Default)]
struct Hint {
    lock_set: Vec<i64>,
    seen: Option<(i64, Need)>,
}

async fn already_claimed<B: Backend>(
    b: &B,
    now: i64,
    req: &BookingRequest,
    rules: Rules,
) -> Result<Looked, Failure> {
    let mut tx = b.begin_read().await?;
    // A repeat of the customer's own request is answered by the transaction.
    if tx
        .booking_by_key(req.customer.0, req.idempotency_key.as_str())
        .await?
        .is_some()
    {
        return Ok(Looked::Free(Hint::default()));
    }
    let Some(venue) = tx.venue(req.venue.0).await? else {
        return Ok(Looked::Free(Hint::default()));
    };
    let need = need_for(&mut tx, &venue, req.offer, req.resource).await?;
    let hint = Hint {
        lock_set: need.lock_set(),
        seen: Some((venue.setup_version, need.clone())),
    };
    let start = req.start.timestamp();
    if check_time_rules(&venue, now, start, rules).is_err() {
        return Ok(Looked::Free(hint));
    }
    let (_, occupied) = need.spans(start, venue.grid_minutes * 60);
    // For each claimed resource: until when its claims here last at least.
    let mut claimed: HashMap<i64, i64> = HashMap::new();
    let mut owners = Vec::new();
    for c in tx
        .live_claims(venue.id, occupied.start, occupied.end, now)
        .await?
    {
        if !need.candidates.iter().any(|r| r.id == c.resource_id) {
            continue;
        }
        let until = c.held_until.unwrap_or(i64::MAX);
        let longest = claimed.entry(c.resource_id).or_insert(until);
        *longest = (*longest).max(until);
        let owner = (c.customer_id, c.idempotency_key);
        if !owners.contains(&owner) {
            owners.push(owner);
        }
    }
    let until = need
        .candidates
        .iter()
        .map(|r| claimed.get(&r.id).copied())
        .collect::<Option<Vec<i64>>>()
        .and_then(|u| u.into_iter().min());
    Ok(
        match until.map(|until| Taken {
            generation: 0,
            seen: std::time::Instant::now(),
            until,
            owners,
            venue,
        }) {
            Some(taken) => Looked::Taken(taken),
            None => Looked::Free(hint),
        },
    )
}

/// What an idempotency key stands for: the request as asked (mode, whose
/// rules, venue, offer, resource choice, start). Stored with the booking;
/// a repeat of the key must ask for the same.
fn fingerprint(req: &BookingRequest, mode: Mode, rules: Rules) -> String {
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

/// One attempt at a hold or booking, in one write transaction: the steps
/// of the booking protocol.
async fn attempt_place<B: Backend>(
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
    if B::Tx::LOCKS_AT_BEGIN {
        pauses::pause(Point::BeforeLock).await;
    }
    let waiting = std::time::Instant::now();
    let mut tx = b.begin_write().await?;
    let mut lock_wait = waiting.elapsed();

    // Lock first, then decide on what is read under the locks. Which
    // resources to lock comes from data (the therapists who offer the
    // service, the rooms, the tables): the look read it a moment ago
    // (`hint`), or it is read here; it is locked, and the venue is read
    // under the locks. Every set-up change moves the venue's set-up version
    // on, under a lock of every resource of the venue: if the version is
    // still the one the need was read at, nothing in it changed since and
    // nothing can until COMMIT; otherwise the need is read again, and
    // locked further if it grew. On SQLite the transaction holds the
    // database's write lock already, and every read in it is under it.
    let mut locked: Vec<i64> = Vec::new();
    if !B::Tx::LOCKS_AT_BEGIN && !hint.lock_set.is_empty() {
        pauses::pause(Point::BeforeLock).await;
        locked = hint.lock_set.clone();
        let waiting = std::time::Instant::now();
        tx.lock_resources(&locked).await?;
        lock_wait += waiting.elapsed();
    }
    // A repeated request answers with what the first one made, even if the
    // rules would refuse it now (the minimum notice may have passed since).
    if let Some(existing) = tx
        .booking_by_key(req.customer.0, req.idempotency_key.as_str())
        .await?
    {
        return Ok(repeat(replayed(&mut tx, existing, req, &asked).await?));
    }
    let key_read_under_lock = B::Tx::LOCKS_AT_BEGIN || !locked.is_empty();
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
        let wanted = need.lock_set();
        if B::Tx::LOCKS_AT_BEGIN || wanted.iter().all(|r| locked.contains(r)) {
            break (venue, need);
        }
        known = Some((venue.setup_version, need));
        pauses::pause(Point::BeforeLock).await;
        locked.extend(wanted);
        locked.sort_unstable();
        locked.dedup();
        // Bookers of these resources queue here until this transaction ends.
        let waiting = std::time::Instant::now();
        tx.lock_resources(&locked).await?;
        lock_wait += waiting.elapsed();
    };
    counters.lock_wait_seconds.observe(lock_wait);
    // The time too is read under the locks: a wait for them may have let
    // the minimum notice pass or a hold lapse.
    let now = clock.now();
    if B::Tx::LOCKS_AT_BEGIN {
        locked = need.lock_set();
    }
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
    let tz = venue_zone(&venue)?;
    let start = req.start.timestamp();
    check_time_rules(&venue, now, start, rules)?;
    let unit = venue.grid_minutes * 60;
    let (span, occupied) = need.spans(start, unit);
    let expired = expire_lapsed(&mut tx, &locked, now).await?;
    let (primary, resources) = pick(&mut tx, &venue, tz, &need, span, occupied, now).await?;

    let (status, hold_expires_at) = match mode {
        Mode::Hold => (BookingStatus::Held, Some(now + venue.hold_minutes * 60)),
        Mode::Book => (BookingStatus::Confirmed, None),
    };
    let (service_id, party_size) = match req.offer {
        Offer::Service(s) => (Some(s.0), None),
        Offer::Table(p) => (None, Some(p.get())),
    };
    let id = tx
        .insert_booking(&NewBooking {
            customer_id: req.customer.0,
            venue_id: venue.id,
            service_id,
            party_size,
            starts_at: span.start,
            ends_at: span.end,
            occupied_until: occupied.end,
            status: status.as_str(),
            hold_expires_at,
            idempotency_key: req.idempotency_key.as_str(),
            request: &asked,
            now,
        })
        .await?;
    tx.insert_booking_resources(id, &resources).await?;
    tx.insert_claims(id, &resources, occupied, unit).await?;
    if let Rules::Staff { by } = rules {
        tx.insert_audit(&NewAudit {
            at: now,
            actor_id: by.0,
            venue_id: venue.id,
            resource_id: Some(primary),
            booking_id: Some(id),
            action: "booking.create",
            after: Some(format!(
                "{} for customer #{}",
                schedule::label(tz, span.start),
                req.customer
            )),
            ..NewAudit::default()
        })
        .await?;
    }
    pauses::pause(Point::BeforeCommit).await;
    tx.commit().await?;
    tracing::info!(booking = id, resources = ?resources, status = %status, "booking placed");
    for venue in expired {
        stats.record(venue, now, Event::HoldExpired);
    }

    let booking = Booking {
        id: BookingId(id),
        customer: req.customer,
        venue: req.venue,
        service: service_id.map(ServiceId),
        party_size,
        start: schedule::to_datetime(span.start),
        end: schedule::to_datetime(span.end),
        occupied_until: schedule::to_datetime(occupied.end),
        status,
        hold_expires_at: hold_expires_at.map(schedule::to_datetime),
        resources: resources.into_iter().map(ResourceId).collect(),
        cancelled_by: None,
        version: 1,
    };
    let covers = need
        .candidates
        .iter()
        .all(|c| booking.resources.contains(&ResourceId(c.id)));
    let taken = covers.then(|| Taken {
        generation: 0,
        seen: std::time::Instant::now(),
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

/// Expires the lapsed holds on `resources` (locked by the caller), so that
/// they let go of their claims; returns their venues. Their rows are
/// locked in id order, like everything else, so two bookers expiring
/// overlapping sets of holds cannot deadlock.
pub(crate) async fn expire_lapsed<S: Store>(
    tx: &mut S,
    resources: &[i64],
    now: i64,
) -> Result<Vec<i64>, Failure> {
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

/// The first candidate free for `span` (and its buffer), with a room when
/// the service needs one; or why there is none.
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

/// A failure as the pages and the API say it.
pub(crate) fn settle_app(f: Failure) -> crate::domain::error::AppError {
    match f {
        Failure::App(e) => e,
        other => settle(other).into(),
    }
}

pub(crate) async fn booking_from_row<S: Store>(
    tx: &mut S,
    row: BookingRow,
) -> Result<Booking, Failure> {
    let resources = tx.booking_resources(row.id).await?;
    let status = BookingStatus::parse(&row.status).ok_or_else(|| {
        tracing::error!(booking = row.id, status = %row.status, "unknown booking status");
        Failure::Refused(BookingError::Internal)
    })?;
    Ok(Booking {
        id: BookingId(row.id),
        customer: UserId(row.customer_id),
        venue: VenueId(row.venue_id),
        service: row.service_id.map(ServiceId),
        party_size: row.party_size,
        start: schedule::to_datetime(row.starts_at),
        end: schedule::to_datetime(row.ends_at),
        occupied_until: schedule::to_datetime(row.occupied_until),
        status,
        hold_expires_at: row.hold_expires_at.map(schedule::to_datetime),
        resources: resources.into_iter().map(ResourceId).collect(),
        cancelled_by: row.cancelled_by,
        version: row.version,
    })
}

async fn confirm_attempt<B: Backend>(
    b: &B,
    clock: &Clock,
    customer: UserId,
    id: BookingId,
    stats: &Recorder,
) -> Result<Booking, Failure> {
    let mut tx = b.begin_write().await?;
    let now = clock.now();
    // One conditional update: only this customer's hold, only before it
    // lapses. A concurrent expiry or release changes the row first or not
    // at all; the row lock decides.
    if tx.confirm_hold(id.0, customer.0, now).await? {
        let row = tx.booking(id.0).await?.ok_or(BookingError::NotFound)?;
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
    match BookingStatus::parse(&row.status) {
        // Confirming twice (a double click) answers with the booking.
        Some(BookingStatus::Confirmed) => Ok(booking_from_row(&mut tx, row).await?),
        Some(BookingStatus::Held) => {
            let expired = tx.expire_hold(id.0, now).await?;
            tx.commit().await?;
            if let Some(venue) = expired {
                stats.record(venue, now, Event::HoldExpired);
            }
            Err(BookingError::HoldExpired.into())
        }
        Some(BookingStatus::Expired) | Some(BookingStatus::Cancelled) => {
            Err(BookingError::HoldExpired.into())
        }
        Some(status) => Err(BookingError::NotChangeable { status }.into()),
        None => Err(BookingError::Internal.into()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Give up a hold.
    Release,
    /// Cancel a booking (or a hold).
    Cancel,
}

async fn end_attempt<B: Backend>(
    b: &B,
    clock: &Clock,
    actor: Actor,
    id: BookingId,
    how: Ending,
) -> Result<Booking, Failure> {
    if B::Tx::LOCKS_AT_BEGIN {
        pauses::pause(Point::BeforeLock).await;
    }
    let mut tx = b.begin_write().await?;
    let row = tx.booking(id.0).await?.ok_or(BookingError::NotFound)?;
    if !may_see(&mut tx, actor, &row).await? {
        return Err(BookingError::NotFound.into());
    }
    lock_booking_resources::<B::Tx>(&mut tx, id.0).await?;
    // Read again under the locks: a concurrent confirm, which takes only
    // the booking's row, has either committed (and is seen here) or waits
    // for this transaction (and then finds the hold gone).
    let row = tx.lock_booking(id.0).await?.ok_or(BookingError::NotFound)?;
    let now = clock.now();
    let status = BookingStatus::parse(&row.status).ok_or(BookingError::Internal)?;
    match (how, status) {
        // Ending twice answers with the ended booking.
        (_, BookingStatus::Cancelled) => return Ok(booking_from_row(&mut tx, row).await?),
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
        "venue"
    } else {
        "customer"
    };
    tx.delete_claims(row.id).await?;
    tx.set_status(row.id, BookingStatus::Cancelled.as_str(), Some(by), now)
        .await?;
    let ended = tx.booking(row.id).await?.ok_or(BookingError::Internal)?;
    if by == "venue" {
        tx.insert_audit(&NewAudit {
            at: now,
            actor_id: actor.user.0,
            venue_id: row.venue_id,
            booking_id: Some(row.id),
            action: "booking.cancel",
            before: Some(status.as_str().to_owned()),
            after: Some("cancelled by the venue".to_owned()),
            ..NewAudit::default()
        })
        .await?;
    }
    let booking = booking_from_row(&mut tx, ended).await?;
    pauses::pause(Point::BeforeCommit).await;
    tx.commit().await?;
    tracing::info!(booking = row.id, by, "booking cancelled");
    Ok(booking)
}

/// Locks the resources a booking uses, read again under the locks until
/// they are the ones locked (a move may change them meanwhile). Returns
/// them. On SQLite the write transaction holds every lock already.
pub(crate) async fn lock_booking_resources<S: Store>(
    tx: &mut S,
    booking: i64,
) -> Result<Vec<i64>, Failure> {
    let mut locked: Vec<i64> = Vec::new();
    loop {
        let used = tx.booking_resources(booking).await?;
        if S::LOCKS_AT_BEGIN || used.iter().all(|r| locked.contains(r)) {
            return Ok(used);
        }
        pauses::pause(Point::BeforeLock).await;
        locked.extend(used);
        locked.sort_unstable();
        locked.dedup();
        tx.lock_resources(&locked).await?;
    }
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

fn summary(r: &ResourceRow) -> Option<ResourceSummary> {
    Some(ResourceSummary {
        id: ResourceId(r.id),
        kind: kind_of(r)?,
        name: r.name.clone(),
        capacity: r.capacity.map(|c| c as i32),
    })
}

async fn availability_attempt<B: Backend>(
    b: &B,
    now: i64,
    venue: VenueId,
    date: NaiveDate,
    offer: Offer,
    choice: ResourceChoice,
) -> Result<Availability, Failure> {
    let mut tx = b.begin_read().await?;
    let venue = tx
        .venue(venue.0)
        .await?
        .ok_or(RuleViolation::UnknownVenue)?;
    let tz = venue_zone(&venue)?;
    let need = need_for(&mut tx, &venue, offer, choice).await?;
    let (earliest, latest) = bookable_range(&venue, now);
    let bookable_dates = schedule::local_date(tz, earliest)..=schedule::local_date(tz, latest);
    let resources = need.candidates.iter().filter_map(summary).collect();
    if !bookable_dates.contains(&date) {
        // Nothing to offer that day (and no calendar arithmetic on dates far
        // from now).
        return Ok(Availability {
            venue: VenueId(venue.id),
            date,
            grid_minutes: venue.grid_minutes,
            resources,
            slots: Vec::new(),
        });
    }
    let day = Day::load(&mut tx, &venue, tz, date, None, now).await?;
    let slots = need
        .grid(&day, earliest, latest)
        .into_iter()
        .map(|(t, free)| SlotView {
            start: schedule::to_datetime(t),
            time: schedule::clock(tz, t),
            label: schedule::label(tz, t),
            free: free.into_iter().map(ResourceId).collect(),
        })
        .collect();
    Ok(Availability {
        venue: VenueId(venue.id),
        date,
        grid_minutes: venue.grid_minutes,
        resources,
        slots,
    })
}

/// Free times to offer when the requested one was taken: the same resource
/// earlier and later that day, other suitable resources at that time, and
/// the same time on the next day it is free. Read after the rollback, in a
/// snapshot of its own: advice, not a promise.
pub(crate) async fn alternatives<B: Backend>(
    b: &B,
    now: i64,
    req: &BookingRequest,
) -> Result<Vec<Alternative>, Failure> {
    let mut tx = b.begin_read().await?;
    let venue = tx
        .venue(req.venue.0)
        .await?
        .ok_or(RuleViolation::UnknownVenue)?;
    let tz = venue_zone(&venue)?;
    let need = need_for(&mut tx, &venue, req.offer, req.resource).await?;
    // Other resources are offered even when the customer chose one.
    let others = need_for(&mut tx, &venue, req.offer, ResourceChoice::Any).await?;
    let start = req.start.timestamp();
    let date = schedule::local_date(tz, start);
    let (earliest, latest) = bookable_range(&venue, now);
    let names: HashMap<i64, String> = tx
        .resources(venue.id)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let offer = |kind, t: i64, resource: i64| Alternative {
        kind,
        start: schedule::to_datetime(t),
        resource: ResourceId(resource),
        resource_name: names.get(&resource).cloned().unwrap_or_default(),
        label: schedule::label(tz, t),
    };
    let mut out = Vec::new();

    let day = Day::load(&mut tx, &venue, tz, date, None, now).await?;
    let grid = need.grid(&day, earliest, latest);
    if let Some((t, free)) = grid.iter().rev().find(|(t, f)| *t < start && !f.is_empty()) {
        out.push(offer(AlternativeKind::Earlier, *t, free[0]));
    }
    if let Some((t, free)) = grid.iter().find(|(t, f)| *t > start && !f.is_empty()) {
        out.push(offer(AlternativeKind::Later, *t, free[0]));
    }
    let chosen: Vec<i64> = need.candidates.iter().map(|c| c.id).collect();
    if let Some((_, free)) = others
        .grid(&day, earliest, latest)
        .iter()
        .find(|(t, _)| *t == start)
    {
        for r in free
            .iter()
            .filter(|r| !(req.resource != ResourceChoice::Any && chosen.contains(r)))
            .take(OTHER_RESOURCE_ALTERNATIVES)
        {
            out.push(offer(AlternativeKind::OtherResource, start, *r));
        }
    }
    let local = schedule::to_datetime(start).with_timezone(&tz);
    let minute = i64::from(local.hour() * 60 + local.minute());
    for d in 1..=NEXT_DAY_SEARCH_DAYS {
        let Some(next) = date.checked_add_days(chrono::Days::new(d as u64)) else {
            break;
        };
        let t = schedule::local_instant(tz, next, minute, Ambiguity::Earliest);
        if t > latest {
            break;
        }
        if !schedule::is_on_grid(t, day.unit) || t < earliest {
            continue;
        }
        let next_day = Day::load(&mut tx, &venue, tz, next, None, now).await?;
        if let Some(r) = need
            .candidates
            .iter()
            .find(|c| need.fits(&next_day, c.id, t))
        {
            out.push(offer(AlternativeKind::NextOpenDay, t, r.id));
            break;
        }
    }
    Ok(out)
}
