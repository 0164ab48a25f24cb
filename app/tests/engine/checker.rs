//! The randomized concurrent checker: the net under every change to the
//! engine. Each round runs many random operations at once against the spa
//! and the restaurant (on Postgres through two engines, as two app
//! instances): holds and bookings of every kind, confirms, releases,
//! cancellations, staff bookings and moves, customers' reschedules, closures, hours, grid,
//! resource, offer and service changes, repeated idempotency keys, the
//! sweeper, the mail dispatcher, waitlist joins, leaves and offers taken,
//! and the clock jumping past hold expiry. Random load alone
//! rarely lands on the dangerous interleavings, so every round also steers:
//! it holds a few operations at the engine's pause points (after their
//! first reads and before their locks, or with their locks held before
//! COMMIT) while the rest of the round, set-up changes among them, runs.
//!
//! After every round: no two live bookings overlap, no booking that is not
//! live owns claims, none is half made, every booking an operation was
//! told about is in the database in a state some acknowledged operation
//! explains, every booking's messages tell what became of it (exactly one
//! confirmation once confirmed, a cancellation exactly when a confirmed
//! booking was cancelled), no waitlist entry is out of step with its hold or
//! passed over for a later one with the same wish (first come, first
//! served), and no customer has more live holds or upcoming bookings of
//! their own making at a venue than its limits (set low here, and one eager
//! customer sends a third of the requests, so that they are met often). No operation may fail with an internal error.
//!
//! It prints its seed; `SLOTKEEPER_CHECK_SEED=N` replays the same
//! operations and steering (the interleaving within a round is the
//! scheduler's), `SLOTKEEPER_CHECK_ROUNDS=N` runs a longer soak.

use crate::on_both_databases;
use crate::support::*;
use app::backend::catalog::CreatedVenue;
use app::backend::engine::{Actor, Engine};
use app::backend::notify::{Dispatcher, Mailer};
use app::backend::pauses::{pause_at, PauseHandle, Point};
use app::backend::staff::{Change, Staff, StaffBooking};
use app::domain::admin::Role;
use app::domain::admin::{StrandChoice, WeekdayHours};
use app::domain::booking::{Booking, BookingError, BookingRequest, BookingStatus, Offer};
use app::domain::error::AppError;
use app::domain::ids::{BookingId, ResourceId, ServiceId, UserId, VenueId};
use app::domain::input::{DisplayName, Email, IdempotencyKey, PartySize};
use app::domain::schedule;
use app::domain::waitlist::{WaitlistState, Wish};
use chrono::{DateTime, TimeDelta, Timelike, Utc};
use chrono_tz::Europe::London;
use lettre::transport::stub::AsyncStubTransport;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The venues' limits per customer in the checker: low enough that the
/// eager customer (see `request`) meets them often, high enough that the
/// others rarely do and most requests still race for slots.
const MAX_HOLDS: i64 = 2;
const MAX_UPCOMING: i64 = 4;

/// Rounds of a run in the test command; `SLOTKEEPER_CHECK_ROUNDS` for more.
const DEFAULT_ROUNDS: usize = 12;
/// Operations started together in a round.
const OPS_PER_ROUND: usize = 24;
const CUSTOMERS: usize = 10;

fn seed() -> u64 {
    match std::env::var("SLOTKEEPER_CHECK_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("SLOTKEEPER_CHECK_SEED={s:?} is not a number")),
        Err(_) => rand::thread_rng().gen(),
    }
}

fn rounds() -> usize {
    match std::env::var("SLOTKEEPER_CHECK_ROUNDS") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("SLOTKEEPER_CHECK_ROUNDS={s:?} is not a number")),
        Err(_) => DEFAULT_ROUNDS,
    }
}

/// What a set-up operation changes; its version is read when it runs.
#[derive(Clone, Debug)]
enum Setup {
    Grid(i64),
    Active(ResourceId, bool),
    /// One service on or off for a resource.
    Offer(ResourceId, ServiceId, bool),
    /// One or two services edited in one step, as the services form
    /// saves them: (service, length, cleanup, needs a room, offered).
    Services(Vec<(ServiceId, i64, i64, bool, bool)>),
    /// Weekdays' hours of a resource, saved in one step as the week's
    /// form does: (weekday, closing time, lunch break).
    Hours {
        resource: ResourceId,
        days: Vec<(i64, &'static str, bool)>,
    },
    Close {
        resource: Option<ResourceId>,
        from: DateTime<Utc>,
        hours: i64,
    },
    Reopen,
}

#[derive(Clone, Debug)]
enum Op {
    Place {
        req: BookingRequest,
        hold: bool,
    },
    /// A request sent again with its key: the same booking, or (its time
    /// given up) a refusal; with `other_start`, always a mismatch.
    Replay {
        req: BookingRequest,
        hold: bool,
        id: BookingId,
        other_start: Option<DateTime<Utc>>,
    },
    StaffBook {
        booking: StaffBooking,
    },
    Confirm {
        customer: UserId,
        id: BookingId,
    },
    Release {
        customer: UserId,
        id: BookingId,
    },
    Cancel {
        actor: Actor,
        id: BookingId,
    },
    /// A staff move, or with `customer` the customer's own reschedule.
    Move {
        id: BookingId,
        start: DateTime<Utc>,
        resource: Option<ResourceId>,
        customer: Option<UserId>,
    },
    Setup {
        venue: VenueId,
        what: Setup,
        choice: StrandChoice,
    },
    /// A customer joins the waitlist of a day (a time in range that is
    /// free already is offered at once).
    Join {
        wish: Wish,
    },
    /// A customer leaves their oldest live waitlist entry (a time on
    /// offer passes on).
    Leave {
        customer: UserId,
    },
    /// A customer confirms the time a waitlist offer holds for them.
    TakeOffer {
        customer: UserId,
    },
    Sweep,
    /// A round of the engine's mail dispatcher (one per engine, all
    /// sending to one stub transport).
    Dispatch,
    Tick {
        minutes: i64,
    },
}

/// What an operation was told.
#[derive(Debug)]
enum Outcome {
    Made {
        booking: Booking,
        req: Option<(BookingRequest, bool)>,
        hold: bool,
    },
    Confirmed(BookingId),
    Ended {
        id: BookingId,
        by_customer: bool,
    },
    Moved(Booking),
    /// Nothing the ledger keeps: a refusal the product answers on purpose
    /// (taken, a rule, a stale version, stranded bookings, …), or a change
    /// that only the invariants can judge (a set-up change, a sweep).
    Nothing,
    /// A failure no operation may end in: the text says what.
    Broken(String),
}

/// What the checker knows of a booking from acknowledged operations.
#[derive(Clone, Debug)]
struct Known {
    customer: UserId,
    venue: VenueId,
    /// Made by the customer (a hold or booking), not by staff for them:
    /// only these are held to the venue's limits.
    by_customer: bool,
    was_hold: bool,
    confirmed: bool,
    ended_by_customer: bool,
    ended_by_staff: bool,
    /// The starts it was told of: made there, or moved there.
    starts: Vec<DateTime<Utc>>,
}

#[derive(Default)]
struct Ledger {
    bookings: BTreeMap<i64, Known>,
    /// Requests whose booking was acknowledged, for replays.
    requests: Vec<(BookingRequest, bool, BookingId)>,
}

struct World {
    engines: Vec<Engine>,
    /// One mail dispatcher per engine; all send to `mail`.
    dispatchers: Vec<Dispatcher>,
    mail: AsyncStubTransport,
    /// Messages whose claim ran out while they were being sent (the clock
    /// jumps minutes at once here), which another dispatcher may send
    /// again (see `Round::overtaken`).
    overtaken: std::sync::atomic::AtomicUsize,
    ctx: Ctx,
    staff: Staff,
    spa: CreatedVenue,
    restaurant: CreatedVenue,
    customers: Vec<(UserId, Email)>,
    ledger: Mutex<Ledger>,
}

fn key(rng: &mut StdRng) -> IdempotencyKey {
    IdempotencyKey::parse(format!("check-{:016x}", rng.gen::<u64>())).unwrap()
}

impl World {
    fn therapists(&self) -> Vec<ResourceId> {
        ["Anna", "Ben", "Chloe"]
            .iter()
            .map(|n| self.spa.resource(n))
            .collect()
    }

    fn services(&self) -> Vec<ServiceId> {
        self.spa.services.values().copied().collect::<Vec<_>>()
    }

    fn tables(&self) -> Vec<ResourceId> {
        (1..=6)
            .map(|n| self.restaurant.resource(&format!("Table {n}")))
            .collect()
    }

    /// A start some days after the clock's date: mostly on the half hour
    /// (so that grid changes to 30 minutes can succeed), sometimes on a
    /// quarter.
    fn start(&self, rng: &mut StdRng, spa: bool) -> DateTime<Utc> {
        let today = schedule::local_date(London, self.ctx.clock.now());
        let day = today + TimeDelta::days(rng.gen_range(1..=6));
        let (first, last) = if spa {
            (9 * 60, 17 * 60)
        } else {
            (12 * 60, 22 * 60)
        };
        let step = if rng.gen_bool(0.85) { 30 } else { 15 };
        let minute = first + step * rng.gen_range(0..=(last - first) / step);
        schedule::to_datetime(schedule::local_instant(
            London,
            day,
            minute,
            schedule::Ambiguity::Earliest,
        ))
    }

    /// One of two popular times (Anna's first treatment at 10:00, a table
    /// for two at 19:00, in the next two days), for which lines form.
    fn popular(
        &self,
        rng: &mut StdRng,
    ) -> (
        VenueId,
        Offer,
        app::domain::booking::ResourceChoice,
        DateTime<Utc>,
    ) {
        let today = schedule::local_date(London, self.ctx.clock.now());
        let day = today + TimeDelta::days(rng.gen_range(1..=2));
        let (venue, offer, resource, minute) = if rng.gen_bool(0.5) {
            (
                self.spa.id,
                Offer::Service(self.services()[0]),
                specific(self.therapists()[0]),
                10 * 60,
            )
        } else {
            (
                self.restaurant.id,
                Offer::Table(PartySize::parse(2).unwrap()),
                app::domain::booking::ResourceChoice::Any,
                19 * 60,
            )
        };
        let start = schedule::local_instant(London, day, minute, schedule::Ambiguity::Earliest);
        (venue, offer, resource, schedule::to_datetime(start))
    }

    fn request(&self, rng: &mut StdRng) -> BookingRequest {
        // A third of the requests come from one eager customer, who meets
        // the venues' limits often; the rest are spread over the others.
        let customer = if rng.gen_bool(0.33) {
            self.customers[0].0
        } else {
            self.customers.choose(rng).unwrap().0
        };
        if rng.gen_bool(0.12) {
            let (venue, offer, resource, start) = self.popular(rng);
            return BookingRequest {
                customer,
                venue,
                offer,
                resource,
                start,
                idempotency_key: key(rng),
            };
        }
        if rng.gen_bool(0.6) {
            let resource = if rng.gen_bool(0.35) {
                app::domain::booking::ResourceChoice::Any
            } else {
                specific(*self.therapists().choose(rng).unwrap())
            };
            BookingRequest {
                customer,
                venue: self.spa.id,
                offer: Offer::Service(*self.services().choose(rng).unwrap()),
                resource,
                start: self.start(rng, true),
                idempotency_key: key(rng),
            }
        } else {
            let resource = if rng.gen_bool(0.6) {
                app::domain::booking::ResourceChoice::Any
            } else {
                specific(*self.tables().choose(rng).unwrap())
            };
            BookingRequest {
                customer,
                venue: self.restaurant.id,
                offer: Offer::Table(PartySize::parse(rng.gen_range(1..=9)).unwrap()),
                resource,
                start: self.start(rng, false),
                idempotency_key: key(rng),
            }
        }
    }

    fn known(&self) -> Vec<(i64, Known)> {
        let ledger = self.ledger.lock().unwrap();
        ledger
            .bookings
            .iter()
            .map(|(id, k)| (*id, k.clone()))
            .collect()
    }

    /// A set-up change: of `venue` when given (then a grid change more
    /// often than not, the change that once let a waiting booking write
    /// claims on the old grid), else of either venue.
    fn setup_op(&self, rng: &mut StdRng, venue: Option<VenueId>) -> Op {
        let given = venue.is_some();
        let spa = venue.map_or_else(|| rng.gen_bool(0.7), |v| v == self.spa.id);
        let venue = if spa { self.spa.id } else { self.restaurant.id };
        if given && rng.gen_bool(0.6) {
            return Op::Setup {
                venue,
                what: Setup::Grid(if rng.gen_bool(0.5) { 30 } else { 15 }),
                choice: StrandChoice::Cancel,
            };
        }
        // The spa's changes never keep what they strand, so after every
        // round none of its bookings may be stranded: one that is was
        // decided on a set-up that had already changed. The restaurant's
        // may keep them.
        let choice = match rng.gen_range(0..10) {
            0 => StrandChoice::Ask,
            1..=5 if !spa => StrandChoice::Keep,
            _ => StrandChoice::Cancel,
        };
        let resources = if spa {
            self.therapists()
        } else {
            self.tables()
        };
        let what = match rng.gen_range(0..10) {
            0 | 1 => Setup::Grid(if rng.gen_bool(0.5) { 30 } else { 15 }),
            2 => Setup::Active(*resources.choose(rng).unwrap(), rng.gen_bool(0.6)),
            3 if spa => Setup::Offer(
                *resources.choose(rng).unwrap(),
                *self.services().choose(rng).unwrap(),
                rng.gen_bool(0.5),
            ),
            4 if spa => Setup::Services({
                let n = rng.gen_range(1..=2);
                self.services()
                    .choose_multiple(rng, n)
                    .map(|id| {
                        (
                            *id,
                            *[30, 45, 60, 90].choose(rng).unwrap(),
                            *[0, 15].choose(rng).unwrap(),
                            rng.gen_bool(0.5),
                            rng.gen_bool(0.85),
                        )
                    })
                    .collect()
            }),
            5 | 6 => Setup::Hours {
                resource: *resources.choose(rng).unwrap(),
                days: {
                    let n = rng.gen_range(1..=3);
                    let weekdays: Vec<i64> = (1..=6i64)
                        .collect::<Vec<_>>()
                        .choose_multiple(rng, n)
                        .copied()
                        .collect();
                    weekdays
                        .into_iter()
                        .map(|weekday| {
                            (
                                weekday,
                                *["16:00", "17:00", "18:00", "23:00"].choose(rng).unwrap(),
                                rng.gen_bool(0.5),
                            )
                        })
                        .collect()
                },
            },
            7 | 8 => Setup::Close {
                resource: rng.gen_bool(0.5).then(|| *resources.choose(rng).unwrap()),
                from: self.start(rng, spa),
                hours: rng.gen_range(1..=3),
            },
            _ => Setup::Reopen,
        };
        Op::Setup {
            venue,
            what,
            choice,
        }
    }

    /// One random operation, drawn with `rng` against what the ledger knows.
    fn op(&self, rng: &mut StdRng) -> Op {
        let known = self.known();
        let pick = |rng: &mut StdRng, f: &dyn Fn(&Known) -> bool| {
            let fit: Vec<&(i64, Known)> = known.iter().filter(|(_, k)| f(k)).collect();
            fit.choose(rng)
                .map(|(id, k)| (BookingId(*id), (*k).clone()))
        };
        match rng.gen_range(0..112) {
            0..=29 => Op::Place {
                req: self.request(rng),
                hold: rng.gen_bool(0.5),
            },
            30..=36 => {
                let ledger = self.ledger.lock().unwrap();
                match ledger.requests.choose(rng).cloned() {
                    Some((req, hold, id)) => {
                        drop(ledger);
                        let other_start = rng.gen_bool(0.4).then(|| {
                            req.start + TimeDelta::minutes(*[30, 60, 120].choose(rng).unwrap())
                        });
                        Op::Replay {
                            req,
                            hold,
                            id,
                            other_start,
                        }
                    }
                    None => {
                        drop(ledger);
                        Op::Sweep
                    }
                }
            }
            37..=42 => {
                let req = self.request(rng);
                let (_, email) = self
                    .customers
                    .iter()
                    .find(|(c, _)| *c == req.customer)
                    .unwrap()
                    .clone();
                Op::StaffBook {
                    booking: StaffBooking {
                        venue: req.venue,
                        customer_email: email,
                        customer_name: DisplayName::parse("Checked Customer").unwrap(),
                        offer: req.offer,
                        resource: req.resource,
                        start: req.start,
                        idempotency_key: req.idempotency_key,
                    },
                }
            }
            43..=52 => match pick(rng, &|k| k.was_hold && !k.confirmed) {
                Some((id, k)) => Op::Confirm {
                    customer: k.customer,
                    id,
                },
                None => Op::Sweep,
            },
            53..=56 => match pick(rng, &|k| k.was_hold) {
                Some((id, k)) => Op::Release {
                    customer: k.customer,
                    id,
                },
                None => Op::Sweep,
            },
            57..=63 => match pick(rng, &|_| true) {
                Some((id, k)) => Op::Cancel {
                    actor: if rng.gen_bool(0.6) {
                        Actor::customer(k.customer)
                    } else {
                        Actor::staff(self.staff.user)
                    },
                    id,
                },
                None => Op::Sweep,
            },
            // Holds half the time: a move of one that lapsed unswept once
            // claimed time for a booking that was gone.
            64..=75 => match if rng.gen_bool(0.5) {
                pick(rng, &|k| k.was_hold && !k.confirmed)
            } else {
                None
            }
            .or_else(|| pick(rng, &|_| true))
            {
                Some((id, k)) => {
                    let venue_is_spa = self
                        .ledger
                        .lock()
                        .unwrap()
                        .requests
                        .iter()
                        .find(|(_, _, b)| *b == id)
                        .map(|(r, _, _)| r.venue == self.spa.id)
                        .unwrap_or(rng.gen_bool(0.5));
                    let resource = rng.gen_bool(0.3).then(|| {
                        *if venue_is_spa {
                            self.therapists()
                        } else {
                            self.tables()
                        }
                        .choose(rng)
                        .unwrap()
                    });
                    Op::Move {
                        id,
                        start: self.start(rng, venue_is_spa),
                        resource,
                        // Some moves are the customer's own reschedule.
                        customer: rng.gen_bool(0.4).then_some(k.customer),
                    }
                }
                None => Op::Sweep,
            },
            76..=91 => self.setup_op(rng, None),
            92..=93 => Op::Sweep,
            94..=95 => Op::Dispatch,
            96..=99 => Op::Tick {
                minutes: *[6, 11].choose(rng).unwrap(),
            },
            100..=106 => Op::Join {
                wish: self.wish(rng),
            },
            107..=108 => Op::Leave {
                customer: self.customers.choose(rng).unwrap().0,
            },
            _ => Op::TakeOffer {
                customer: self.customers.choose(rng).unwrap().0,
            },
        }
    }

    /// A waitlist wish like a request: a day to come, a treatment or a
    /// party, someone or anyone; the whole day, or a range of an hour or
    /// two around a start (often the very start, so that customers share
    /// one wish and their order is put to the test).
    fn wish(&self, rng: &mut StdRng) -> Wish {
        let mut req = self.request(rng);
        // Half the time a popular time, which many customers share (and
        // bookings go for often): the line's order matters only among the
        // same wish.
        let popular = rng.gen_bool(0.5);
        if popular {
            (req.venue, req.offer, req.resource, req.start) = self.popular(rng);
        }
        let tz_start = req.start.with_timezone(&London);
        let minute = i64::from(tz_start.hour()) * 60 + i64::from(tz_start.minute());
        let (from_minute, to_minute) = match rng.gen_range(0..3) {
            _ if popular => (minute, minute),
            0 => (0, 24 * 60),
            1 => (minute, minute),
            _ => (minute, (minute + 120).min(24 * 60)),
        };
        Wish {
            customer: req.customer,
            venue: req.venue,
            offer: req.offer,
            resource: req.resource,
            date: tz_start.date_naive(),
            from_minute,
            to_minute,
        }
    }
}

/// The venue an operation is about, when the checker knows it.
fn venue_of(w: &World, op: &Op) -> Option<VenueId> {
    match op {
        Op::Place { req, .. } | Op::Replay { req, .. } => Some(req.venue),
        Op::StaffBook { booking } => Some(booking.venue),
        Op::Confirm { id, .. }
        | Op::Release { id, .. }
        | Op::Cancel { id, .. }
        | Op::Move { id, .. } => w
            .ledger
            .lock()
            .unwrap()
            .requests
            .iter()
            .find(|(_, _, b)| b == id)
            .map(|(r, _, _)| r.venue),
        Op::Setup { venue, .. } => Some(*venue),
        Op::Join { wish } => Some(wish.venue),
        Op::Leave { .. } | Op::TakeOffer { .. } => None,
        Op::Sweep | Op::Dispatch | Op::Tick { .. } => None,
    }
}

fn booking_outcome(
    r: Result<Booking, BookingError>,
    req: Option<(BookingRequest, bool)>,
    hold: bool,
) -> Outcome {
    match r {
        Ok(booking) => Outcome::Made { booking, req, hold },
        Err(e @ (BookingError::Busy | BookingError::Internal)) => Outcome::Broken(format!("{e:?}")),
        Err(_) => Outcome::Nothing,
    }
}

fn app_outcome<T>(r: Result<T, AppError>, ok: impl FnOnce(T) -> Outcome) -> Outcome {
    match r {
        Ok(v) => ok(v),
        Err(e @ (AppError::Unavailable | AppError::Internal | AppError::BadRequest)) => {
            Outcome::Broken(format!("{e:?}"))
        }
        Err(_) => Outcome::Nothing,
    }
}

fn hours(weekday: i64, closes: &str, lunch: bool) -> WeekdayHours {
    WeekdayHours {
        weekday,
        opens: "09:00".into(),
        closes: closes.into(),
        break_starts: if lunch { "13:00".into() } else { String::new() },
        break_ends: if lunch { "14:00".into() } else { String::new() },
    }
}

async fn run_setup(
    w: &World,
    engine: &Engine,
    venue: VenueId,
    what: &Setup,
    choice: StrandChoice,
) -> Outcome {
    let setup = match engine.venue_setup(w.staff, venue).await {
        Ok(s) => s,
        Err(e) => return Outcome::Broken(format!("reading the set-up: {e:?}")),
    };
    let resource = |id: ResourceId| setup.resources.iter().find(|r| r.id == id).cloned();
    let change = match what {
        Setup::Grid(minutes) => {
            let s = &setup.settings;
            Change::Settings {
                version: s.version,
                name: s.name.clone(),
                grid_minutes: *minutes,
                hold_minutes: s.hold_minutes,
                cancellation_window_minutes: s.cancellation_window_minutes,
                min_notice_minutes: s.min_notice_minutes,
                advance_days: s.advance_days,
                seating_minutes: s.seating_minutes,
                max_holds_per_customer: None,
                max_upcoming_per_customer: None,
                currency: None,
                address: None,
                reminder_minutes: None,
                offer_minutes: None,
            }
        }
        Setup::Active(id, active) => {
            let Some(r) = resource(*id) else {
                return Outcome::Nothing;
            };
            Change::EditResource {
                id: *id,
                version: r.version,
                name: r.name,
                capacity: r.capacity,
                active: *active,
            }
        }
        Setup::Offer(id, service, offered) => {
            let Some(r) = resource(*id) else {
                return Outcome::Nothing;
            };
            Change::Offer {
                resource: *id,
                version: r.version,
                service: *service,
                offered: *offered,
            }
        }
        Setup::Services(edits) => {
            let mut changes = Vec::new();
            for (id, duration, cleanup, needs_room, active) in edits {
                let Some(s) = setup.services.iter().find(|s| s.id == *id) else {
                    return Outcome::Nothing;
                };
                changes.push(Change::EditService {
                    id: *id,
                    version: s.version,
                    name: s.name.clone(),
                    duration_minutes: *duration,
                    cleanup_minutes: *cleanup,
                    needs_room: *needs_room,
                    active: *active,
                    price_cents: s.price_cents,
                    description: s.description.clone(),
                });
            }
            let done = engine
                .change_many(w.staff, venue, Some("services"), &changes, choice)
                .await;
            return app_outcome(done, |_| Outcome::Nothing);
        }
        Setup::Hours { resource: id, days } => {
            let Some(r) = resource(*id) else {
                return Outcome::Nothing;
            };
            Change::Hours {
                resource: *id,
                version: r.version,
                days: days
                    .iter()
                    .map(|(weekday, closes, lunch)| hours(*weekday, closes, *lunch))
                    .collect(),
            }
        }
        Setup::Close {
            resource,
            from,
            hours,
        } => Change::AddClosure {
            resource: *resource,
            starts_at: from.timestamp(),
            ends_at: from.timestamp() + hours * 3600,
            reason: "Checker closure".into(),
        },
        Setup::Reopen => match setup.closures.first() {
            Some(c) => Change::RemoveClosure { id: c.id },
            None => return Outcome::Nothing,
        },
    };
    app_outcome(engine.change(w.staff, venue, &change, choice).await, |_| {
        Outcome::Nothing
    })
}

async fn run_op(w: Arc<World>, engine: usize, op: Op) -> (Op, Outcome) {
    let e = &w.engines[engine % w.engines.len()];
    let outcome = match &op {
        Op::Place { req, hold } => {
            let r = if *hold {
                e.hold(req).await
            } else {
                e.book(req).await
            };
            booking_outcome(r, Some((req.clone(), *hold)), *hold)
        }
        Op::Replay {
            req,
            hold,
            id,
            other_start,
        } => {
            let asked = BookingRequest {
                start: other_start.unwrap_or(req.start),
                ..req.clone()
            };
            let r = if *hold {
                e.hold(&asked).await
            } else {
                e.book(&asked).await
            };
            match (other_start, r) {
                (None, Ok(b)) if b.id == *id => Outcome::Nothing,
                (None, Ok(b)) => Outcome::Broken(format!(
                    "a repeat of booking #{}'s request answered booking #{}",
                    id, b.id
                )),
                (None, Err(BookingError::IdempotencyKeySpent { .. })) => Outcome::Nothing,
                (None, Err(other)) => Outcome::Broken(format!(
                    "a repeat of booking #{id}'s request answered {other:?}"
                )),
                (Some(_), Err(BookingError::IdempotencyMismatch)) => Outcome::Nothing,
                (Some(_), other) => Outcome::Broken(format!(
                    "booking #{id}'s key sent for another start answered {other:?}"
                )),
            }
        }
        Op::StaffBook { booking } => {
            app_outcome(e.staff_book(w.staff, booking).await, |b| Outcome::Made {
                booking: b,
                req: None,
                hold: false,
            })
        }
        // Half the confirmations carry a note and phone for the venue: the
        // same conditional update, with more written.
        Op::Confirm { customer, id } => match e
            .confirm_hold_with(*customer, *id, &confirm_details(id.0))
            .await
        {
            Ok(b) if b.status == BookingStatus::Confirmed => Outcome::Confirmed(*id),
            Ok(b) => Outcome::Broken(format!("confirming #{id} answered a {} booking", b.status)),
            Err(e @ (BookingError::Busy | BookingError::Internal)) => {
                Outcome::Broken(format!("{e:?}"))
            }
            Err(_) => Outcome::Nothing,
        },
        Op::Release { customer, id } => match e.release_hold(Actor::customer(*customer), *id).await
        {
            Ok(_) => Outcome::Ended {
                id: *id,
                by_customer: true,
            },
            Err(e @ (BookingError::Busy | BookingError::Internal)) => {
                Outcome::Broken(format!("{e:?}"))
            }
            Err(_) => Outcome::Nothing,
        },
        Op::Cancel { actor, id } => match e.cancel(*actor, *id).await {
            Ok(_) => Outcome::Ended {
                id: *id,
                by_customer: !actor.is_staff,
            },
            Err(e @ (BookingError::Busy | BookingError::Internal)) => {
                Outcome::Broken(format!("{e:?}"))
            }
            Err(_) => Outcome::Nothing,
        },
        Op::Move {
            id,
            start,
            resource,
            customer: None,
        } => app_outcome(
            e.move_booking(w.staff, *id, *start, *resource).await,
            Outcome::Moved,
        ),
        Op::Move {
            id,
            start,
            resource,
            customer: Some(customer),
        } => match e.reschedule(*customer, *id, *start, *resource).await {
            Ok(b) => Outcome::Moved(b),
            Err(e @ (BookingError::Busy | BookingError::Internal)) => {
                Outcome::Broken(format!("{e:?}"))
            }
            Err(_) => Outcome::Nothing,
        },
        Op::Setup {
            venue,
            what,
            choice,
        } => run_setup(&w, e, *venue, what, *choice).await,
        Op::Join { wish } => app_outcome(e.join_waitlist(wish).await, |_| Outcome::Nothing),
        Op::Leave { customer } => {
            let live = e
                .waitlist_of(*customer)
                .await
                .map(|list| list.into_iter().filter(|x| x.state.is_live()).last());
            match live {
                // Left, or (lapsed or taken meanwhile) ended some other way.
                Ok(Some(entry)) => {
                    app_outcome(e.leave_waitlist(*customer, entry.id).await, |left| {
                        if !left.state.is_live() {
                            Outcome::Nothing
                        } else {
                            Outcome::Broken(format!(
                                "leaving entry #{} left it {:?}",
                                left.id, left.state
                            ))
                        }
                    })
                }
                Ok(None) => Outcome::Nothing,
                Err(err) => app_outcome::<()>(Err(err), |_| Outcome::Nothing),
            }
        }
        Op::TakeOffer { customer } => {
            let offered = e.waitlist_of(*customer).await.map(|list| {
                list.into_iter()
                    .find(|x| x.state == WaitlistState::Offered)
                    .and_then(|x| x.hold)
            });
            match offered {
                Ok(Some(hold)) => match e.confirm_hold(*customer, hold).await {
                    Ok(b) if b.status == BookingStatus::Confirmed => Outcome::Nothing,
                    Ok(b) => Outcome::Broken(format!(
                        "taking offer #{hold} answered a {} booking",
                        b.status
                    )),
                    Err(err @ (BookingError::Busy | BookingError::Internal)) => {
                        Outcome::Broken(format!("{err:?}"))
                    }
                    Err(_) => Outcome::Nothing,
                },
                Ok(None) => Outcome::Nothing,
                Err(err) => app_outcome::<()>(Err(err), |_| Outcome::Nothing),
            }
        }
        Op::Sweep => match e.expire_due_holds().await {
            Ok(_) => Outcome::Nothing,
            Err(err) => Outcome::Broken(format!("the sweeper: {err:?}")),
        },
        Op::Dispatch => match w.dispatchers[engine % w.dispatchers.len()].run_once().await {
            Ok(round) => {
                w.overtaken
                    .fetch_add(round.overtaken, std::sync::atomic::Ordering::Relaxed);
                Outcome::Nothing
            }
            Err(err) => Outcome::Broken(format!("the dispatcher: {err:?}")),
        },
        Op::Tick { minutes } => {
            let clock = &w.ctx.clock;
            clock.set(clock.now() + minutes * 60);
            Outcome::Nothing
        }
    };
    (op, outcome)
}

fn record(w: &World, outcome: &Outcome) {
    let mut ledger = w.ledger.lock().unwrap();
    match outcome {
        Outcome::Made { booking, req, hold } => {
            let entry = ledger
                .bookings
                .entry(booking.id.0)
                .or_insert_with(|| Known {
                    customer: booking.customer,
                    venue: booking.venue,
                    by_customer: req.is_some(),
                    was_hold: *hold,
                    confirmed: false,
                    ended_by_customer: false,
                    ended_by_staff: false,
                    starts: vec![booking.start],
                });
            if !entry.starts.contains(&booking.start) {
                entry.starts.push(booking.start);
            }
            if let Some((req, hold)) = req {
                if !ledger.requests.iter().any(|(_, _, id)| *id == booking.id) {
                    ledger.requests.push((req.clone(), *hold, booking.id));
                }
            }
        }
        Outcome::Confirmed(id) => {
            if let Some(k) = ledger.bookings.get_mut(&id.0) {
                k.confirmed = true;
            }
        }
        Outcome::Ended { id, by_customer } => {
            if let Some(k) = ledger.bookings.get_mut(&id.0) {
                if *by_customer {
                    k.ended_by_customer = true;
                } else {
                    k.ended_by_staff = true;
                }
            }
        }
        Outcome::Moved(b) => {
            if let Some(k) = ledger.bookings.get_mut(&b.id.0) {
                k.starts.push(b.start);
            }
        }
        Outcome::Nothing | Outcome::Broken(_) => {}
    }
}

/// Every booking an operation was told about is there, in a state that an
/// acknowledged operation explains.
async fn check_ledger(w: &World, seed: u64, round: usize) {
    let now = w.ctx.clock.now();
    // Per customer and venue: (live holds, upcoming live bookings) that the
    // customer made.
    let mut load: BTreeMap<(UserId, VenueId), (i64, i64)> = BTreeMap::new();
    for (id, k) in w.known() {
        let at = format!("seed {seed}, round {round}, booking #{id}");
        let b = w
            .ctx
            .engine
            .booking(Actor::customer(k.customer), BookingId(id))
            .await
            .unwrap_or_else(|e| panic!("{at}: an acknowledged booking is gone: {e:?}"));
        assert!(
            k.starts.contains(&b.start),
            "{at}: starts at {} but was only ever told {:?}",
            b.start,
            k.starts
        );
        let lapsed = b.hold_expires_at.is_some_and(|t| t.timestamp() <= now);
        if k.by_customer
            && b.end.timestamp() > now
            && (b.status == BookingStatus::Confirmed
                || (b.status == BookingStatus::Held && !lapsed))
        {
            let entry = load.entry((k.customer, k.venue)).or_default();
            entry.0 += i64::from(b.status == BookingStatus::Held);
            entry.1 += 1;
        }
        match b.status {
            BookingStatus::Confirmed => {}
            BookingStatus::Held => {
                assert!(k.was_hold && !k.confirmed, "{at}: held again after {k:?}")
            }
            BookingStatus::Expired => {
                assert!(k.was_hold && !k.confirmed, "{at}: expired though {k:?}");
                assert!(
                    b.hold_expires_at.is_some_and(|t| t.timestamp() <= now),
                    "{at}: expired early"
                );
            }
            BookingStatus::Cancelled => match b.cancelled_by.as_deref() {
                Some("customer") => assert!(
                    k.ended_by_customer,
                    "{at}: cancelled for the customer, who never asked"
                ),
                Some("venue") => {
                    if !k.ended_by_staff {
                        let detail = w.ctx.engine.booking_detail(w.staff, b.id).await.unwrap();
                        assert!(
                            detail.history.iter().any(|h| h.action == "booking.cancel"),
                            "{at}: cancelled by the venue without a cancellation on record"
                        );
                    }
                }
                other => panic!("{at}: cancelled by {other:?}"),
            },
            other => panic!("{at}: {other} though nothing marks bookings here"),
        }
    }
    for ((customer, venue), (holds, upcoming)) in load {
        assert!(
            holds <= MAX_HOLDS && upcoming <= MAX_UPCOMING,
            "seed {seed}, round {round}: customer {customer} has {holds} live holds and {upcoming} upcoming bookings of their own at venue {venue}, over the limits of {MAX_HOLDS} and {MAX_UPCOMING}"
        );
    }
}

/// Picks the operations a round holds at a pause point, and where: at least
/// one, with a set-up change in the round to meet it.
fn steer(rng: &mut StdRng, ops: &[Op]) -> BTreeMap<usize, (Point, Duration)> {
    let candidates: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| {
            matches!(
                op,
                Op::Place { .. }
                    | Op::StaffBook { .. }
                    | Op::Move { .. }
                    | Op::Cancel { .. }
                    | Op::Release { .. }
                    | Op::Confirm { .. }
                    | Op::Join { .. }
            )
        })
        .map(|(i, _)| i)
        .collect();
    let mut steered = BTreeMap::new();
    for _ in 0..rng.gen_range(1..=3) {
        let Some(&i) = candidates.choose(rng) else {
            break;
        };
        let place = matches!(ops[i], Op::Place { .. } | Op::StaffBook { .. });
        let point = match rng.gen_range(0..10) {
            0..=5 => (Point::BeforeLock, Duration::from_secs(5)),
            6 | 7 if place => (Point::AfterLook, Duration::from_secs(5)),
            _ => (
                Point::BeforeCommit,
                Duration::from_millis(rng.gen_range(20..150)),
            ),
        };
        steered.insert(i, point);
    }
    steered
}

async fn check(ctx: Ctx, engines: Vec<Engine>) {
    let seed = seed();
    let rounds = rounds();
    eprintln!(
        "checker on {}: seed {seed}, {rounds} rounds (replay with SLOTKEEPER_CHECK_SEED={seed})",
        ctx.db.engine_name()
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let spa = ctx.spa().await;
    let restaurant = ctx.restaurant().await;
    let staff = ctx.staff_of(&[spa.id, restaurant.id]).await;
    for venue in [spa.id, restaurant.id] {
        let s = ctx.engine.venue_setup(staff, venue).await.unwrap().settings;
        let limits = settings_with_limits(&s, Some(MAX_HOLDS), Some(MAX_UPCOMING));
        ctx.engine
            .change(staff, venue, &limits, StrandChoice::Ask)
            .await
            .unwrap();
    }
    let mut customers = Vec::new();
    for _ in 0..CUSTOMERS {
        customers.push(ctx.user_with_role(Role::Customer).await);
    }
    let mail = AsyncStubTransport::new_ok();
    let dispatchers = engines
        .iter()
        .map(|e| {
            Dispatcher::new(
                e.clone(),
                Mailer::Stub(mail.clone()),
                "Bookings <bookings@check.example>",
                "http://check.example",
            )
            .unwrap()
        })
        .collect();
    let world = Arc::new(World {
        dispatchers,
        mail,
        overtaken: Default::default(),
        engines,
        ctx: ctx.clone(),
        staff,
        spa,
        restaurant,
        customers,
        ledger: Mutex::default(),
    });
    let mut told = 0usize;
    for round in 0..rounds {
        let mut ops: Vec<Op> = (0..OPS_PER_ROUND).map(|_| world.op(&mut rng)).collect();
        let steered = steer(&mut rng, &ops);
        // Each held operation meets a set-up change of its venue.
        for &i in steered.keys() {
            let venue = venue_of(&world, &ops[i]);
            let others: Vec<usize> = (0..ops.len())
                .filter(|j| !steered.contains_key(j))
                .collect();
            if let Some(&j) = others.choose(&mut rng) {
                ops[j] = world.setup_op(&mut rng, venue);
            }
        }
        let engine_of: Vec<usize> = ops
            .iter()
            .map(|_| rng.gen_range(0..world.engines.len()))
            .collect();
        // The held operations start first and get to their points; then
        // the rest of the round runs past them; then they go on.
        let mut held: Vec<(PauseHandle, tokio::task::JoinHandle<(Op, Outcome)>)> = Vec::new();
        for (&i, &(point, longest)) in &steered {
            let (plan, handle) = pause_at(point, longest);
            let task = tokio::spawn(plan.run(run_op(world.clone(), engine_of[i], ops[i].clone())));
            // Until it is held there, or has ended without getting there
            // (refused before it).
            for _ in 0..400 {
                if handle.was_reached() || task.is_finished() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            held.push((handle, task));
        }
        let free: Vec<_> = ops
            .iter()
            .enumerate()
            .filter(|(i, _)| !steered.contains_key(i))
            .map(|(i, op)| tokio::spawn(run_op(world.clone(), engine_of[i], op.clone())))
            .collect();
        let mut outcomes = Vec::new();
        for t in free {
            outcomes.push(t.await.expect("an operation panicked"));
        }
        for (handle, _) in &held {
            handle.release();
        }
        for (_, t) in held {
            outcomes.push(t.await.expect("a held operation panicked"));
        }
        for (op, outcome) in &outcomes {
            if let Outcome::Broken(why) = outcome {
                panic!("seed {seed}, round {round}: {op:?} ended in {why}");
            }
            record(&world, outcome);
            told += usize::from(matches!(outcome, Outcome::Made { .. }));
        }
        ctx.assert_invariants(&format!("seed {seed}, round {round}"))
            .await;
        check_ledger(&world, seed, round).await;
        let stranded = ctx
            .engine
            .stranded_bookings(world.staff, world.spa.id)
            .await
            .unwrap();
        assert!(
            stranded.is_empty(),
            "seed {seed}, round {round}: spa bookings its set-up does not take, though no change kept any: {stranded:?}"
        );
        if rng.gen_bool(0.5) {
            ctx.clock.set(ctx.clock.now() + 11 * 60);
        }
    }
    assert!(
        told > 0,
        "seed {seed}: no operation made a booking in {rounds} rounds"
    );
    // What is due goes out; no message was sent twice by the dispatchers
    // that ran among the operations, but for those whose claim ran out
    // while they were sent (the clock jumps minutes at once here).
    for d in &world.dispatchers {
        while d.run_once().await.expect("a last dispatcher round").sent > 0 {}
    }
    let overtaken = world.overtaken.load(std::sync::atomic::Ordering::Relaxed);
    let mut ids: Vec<String> = world
        .mail
        .messages()
        .await
        .into_iter()
        .filter_map(|(_, text)| mail_header(&text, "Message-ID"))
        .collect();
    let sent = ids.len();
    ids.sort();
    ids.dedup();
    // A message overtaken may still go only once: the dispatcher that took
    // it over may find it out of date (a reminder of a booking since
    // cancelled, an offer since taken) and drop it.
    assert!(
        sent - ids.len() <= overtaken,
        "seed {seed}: {sent} emails for {} messages, but only {overtaken} claims ran out while sending",
        ids.len()
    );
    assert_eq!(
        ctx.engine.outbox_queue().await.unwrap().due,
        0,
        "seed {seed}: messages left unsent"
    );
    let mut offers = 0;
    for (c, _) in &world.customers {
        offers += ctx
            .engine
            .waitlist_of(*c)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.hold.is_some())
            .count();
    }
    eprintln!("checker on {}: seed {seed}, {rounds} rounds, {told} bookings and holds acknowledged, {offers} waitlist offers made, every invariant held", ctx.db.engine_name());
}

on_both_databases! {
    async fn random_mixed_operations_at_once_keep_every_invariant(ctx: Ctx) {
        // Postgres: two engines on their own connections, as two instances.
        // SQLite: the one server process.
        let engines = match ctx.db {
            app::backend::db::Db::Postgres(_) => vec![ctx.engine.clone(), ctx.second_engine().await],
            app::backend::db::Db::Sqlite(_) => vec![ctx.engine.clone()],
        };
        check(ctx, engines).await;
    }
}

/// The checker with two engines that reach Postgres through a
/// transaction-pooling PgBouncer, as instances behind one do: every
/// transaction on whichever server connection the pooler hands it, nothing
/// prepared for keeps, the timeouts set in each transaction.
mod random_mixed_operations_through_a_transaction_pooler_keep_every_invariant {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn on_postgres() {
        crate::support::run(
            app::backend::testing::TestEngine::Postgres,
            |ctx| async move {
                let engines = vec![ctx.pooled_engine().await, ctx.pooled_engine().await];
                check(ctx, engines).await;
            },
        )
        .await
    }
}

/// What a confirmation in the run tells the venue.
fn confirm_details(id: i64) -> app::domain::booking::ContactDetails {
    if id % 2 == 0 {
        app::domain::booking::ContactDetails::parse(
            Some("By the window, please."),
            Some("+44 20 7946 0000"),
        )
        .expect("a valid note and phone")
    } else {
        app::domain::booking::ContactDetails::default()
    }
}
