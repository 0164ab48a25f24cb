//! A fresh database per test, on SQLite or Postgres (see
//! `app::backend::testing`), and fixtures.

use app::backend::accounts::{self, NewUser};
use app::backend::catalog::{self, CreatedVenue, ResourceSpec, ServiceSpec, VenueSpec, Weekly};
use app::backend::db::{Db, DbOptions};
use app::backend::engine::{Clock, Engine};
use app::backend::seed;
use app::backend::staff::{Staff, StaffAccount};
use app::backend::testing::{TestDatabase, TestEngine};
use app::domain::admin::Role;
use app::domain::booking::{Booking, BookingError, BookingRequest, Offer, ResourceChoice};
use app::domain::ids::{ResourceId, ServiceId, UserId, VenueId};
use app::domain::input::{DisplayName, Email, IdempotencyKey, PartySize};
use app::domain::venue::ResourceKind;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;
use rand::Rng;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

/// A password hash that no password matches; these tests never log in.
const NO_PASSWORD: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// Everything a test gets: the engine on a fresh database, its clock set to
/// Monday 1 June 2026, 08:00 in London.
#[derive(Clone)]
pub struct Ctx {
    pub engine: Engine,
    pub db: Db,
    pub clock: Clock,
    /// Where the database is, for a second app instance on it.
    pub url: String,
}

/// Monday 1 June 2026 at 07:00 UTC (08:00 in London).
pub fn monday_morning() -> i64 {
    Utc.with_ymd_and_hms(2026, 6, 1, 7, 0, 0)
        .unwrap()
        .timestamp()
}

/// A wall-clock time in London on a June 2026 day.
pub fn london(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    London
        .with_ymd_and_hms(2026, 6, day, hour, minute, 0)
        .unwrap()
        .with_timezone(&Utc)
}

pub fn june(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, day).unwrap()
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Runs `body` against a fresh, migrated database of `engine`, then
/// removes the database, even when the body panicked.
pub async fn run<F, Fut>(engine: TestEngine, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let database = TestDatabase::create(engine).await;
    let db = Db::connect(&database.url, &DbOptions::default())
        .await
        .expect("open the test database");
    db.migrate().await.expect("migrate the test database");
    let clock = Clock::manual(monday_morning());
    let ctx = Ctx {
        engine: Engine::new(db.clone(), clock.clone()),
        db: db.clone(),
        clock,
        url: database.url.clone(),
    };
    let outcome = tokio::spawn(body(ctx)).await;
    db.close().await;
    database.remove().await;
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}

/// Declares a test that runs once on SQLite and once on Postgres:
/// `name::on_sqlite` and `name::on_postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($(async fn $name:ident($ctx:ident: Ctx) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_sqlite() {
                $crate::support::run(app::backend::testing::TestEngine::Sqlite, |$ctx| async move $body).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_postgres() {
                $crate::support::run(app::backend::testing::TestEngine::Postgres, |$ctx| async move $body).await
            }
        }
    )*};
}

impl Ctx {
    /// Another engine on the same database through its own connections, as
    /// a second app instance (or, for SQLite, a second process) would have.
    pub async fn second_engine(&self) -> Engine {
        let db = Db::connect(&self.url, &DbOptions::default())
            .await
            .expect("open the database a second time");
        Engine::new(db, self.clock.clone())
    }

    /// Another engine on the same database through the transaction-pooling
    /// PgBouncer at `SLOTKEEPER_TEST_PGBOUNCER_URL` (in front of the tests'
    /// Postgres server; the test command starts one), as an app instance
    /// behind one has.
    pub async fn pooled_engine(&self) -> Engine {
        let pooler = std::env::var("SLOTKEEPER_TEST_PGBOUNCER_URL").unwrap_or_else(|_| {
            panic!(
                "set SLOTKEEPER_TEST_PGBOUNCER_URL to a PgBouncer in transaction pooling in front of \
                 SLOTKEEPER_TEST_POSTGRES_URL's server (scripts/test starts one)"
            )
        });
        let name = self.url.rsplit('/').next().expect("a database name");
        let base = pooler.rsplit_once('/').map_or(pooler.as_str(), |(b, _)| b);
        let options = DbOptions {
            postgres_pooled: true,
            migration_url: Some(self.url.clone()),
            ..DbOptions::default()
        };
        let db = Db::connect(&format!("{base}/{name}"), &options)
            .await
            .expect("open the database through the pooler");
        Engine::new(db, self.clock.clone())
    }

    /// Creates `n` customers and returns their ids.
    pub async fn customers(&self, n: usize) -> Vec<UserId> {
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let k = COUNTER.fetch_add(1, Ordering::Relaxed);
            let user = NewUser {
                email: Email::parse(&format!("customer{k}@example.com")).unwrap(),
                display_name: DisplayName::parse(&format!("Customer {k}")).unwrap(),
                role: Role::Customer,
            };
            let id = accounts::insert_user(&self.db, &user, NO_PASSWORD, self.clock.now())
                .await
                .expect("insert a customer")
                .expect("a new email");
            ids.push(id);
        }
        ids
    }

    pub async fn customer(&self) -> UserId {
        self.customers(1).await[0]
    }

    /// A user with `role` and a fresh email; returns the id and email.
    pub async fn user_with_role(&self, role: Role) -> (UserId, Email) {
        let k = COUNTER.fetch_add(1, Ordering::Relaxed);
        let email = Email::parse(&format!("{}{k}@example.com", role.as_str())).unwrap();
        let user = NewUser {
            email: email.clone(),
            display_name: DisplayName::parse(&format!("{} {k}", role.as_str())).unwrap(),
            role,
        };
        let id = accounts::insert_user(&self.db, &user, NO_PASSWORD, self.clock.now())
            .await
            .expect("insert a user")
            .expect("a new email");
        (id, email)
    }

    /// An admin.
    pub async fn admin(&self) -> Staff {
        Staff {
            user: self.user_with_role(Role::Admin).await.0,
        }
    }

    /// A staff member who runs `venues`, appointed by an admin.
    pub async fn staff_of(&self, venues: &[VenueId]) -> Staff {
        let admin = self.admin().await;
        let (_, email) = self.user_with_role(Role::Customer).await;
        let user = self
            .engine
            .set_staff(
                admin,
                &email,
                &StaffAccount {
                    role: Role::Staff,
                    add: venues.to_vec(),
                    remove: Vec::new(),
                },
            )
            .await
            .expect("appoint staff");
        Staff { user }
    }

    /// The demo spa (three therapists, two rooms, lunch 13:00-14:00).
    pub async fn spa(&self) -> CreatedVenue {
        catalog::create_venue(&self.db, &seed::demo_spa())
            .await
            .expect("create the spa")
    }

    /// The demo restaurant (tables for 2, 2, 4, 4, 6 and 8).
    pub async fn restaurant(&self) -> CreatedVenue {
        catalog::create_venue(&self.db, &seed::demo_restaurant())
            .await
            .expect("create the restaurant")
    }

    /// One therapist, "Solo", open every day 09:00-18:00, offering 30, 60
    /// and 90 minutes with a 15-minute cleanup and no room.
    pub async fn studio(&self) -> CreatedVenue {
        let service = |name: &str, minutes| ServiceSpec {
            name: name.to_owned(),
            duration_minutes: minutes,
            cleanup_minutes: 15,
            needs_room: false,
            price_cents: None,
            description: String::new(),
        };
        let spec = VenueSpec {
            name: "Solo Studio".to_owned(),
            timezone: "Europe/London".to_owned(),
            grid_minutes: 15,
            hold_minutes: 10,
            cancellation_window_minutes: 24 * 60,
            min_notice_minutes: 60,
            advance_days: 60,
            seating_minutes: None,
            currency: "EUR".to_owned(),
            address: String::new(),
            services: vec![service("30", 30), service("60", 60), service("90", 90)],
            resources: vec![ResourceSpec {
                kind: ResourceKind::Therapist,
                name: "Solo".to_owned(),
                capacity: None,
                hours: Weekly::on(0..=6, (9, 0), (18, 0)),
                breaks: Vec::new(),
                offers: vec!["30".into(), "60".into(), "90".into()],
            }],
        };
        catalog::create_venue(&self.db, &spec)
            .await
            .expect("create the studio")
    }

    pub async fn overlaps(&self) -> usize {
        self.engine
            .overlapping_bookings()
            .await
            .expect("run the invariant query")
            .len()
    }
}

pub fn key() -> IdempotencyKey {
    IdempotencyKey::parse(format!("key-{:016x}", rand::thread_rng().gen::<u64>())).unwrap()
}

pub fn service_request(
    customer: UserId,
    venue: VenueId,
    service: ServiceId,
    resource: ResourceChoice,
    start: DateTime<Utc>,
) -> BookingRequest {
    BookingRequest {
        customer,
        venue,
        offer: Offer::Service(service),
        resource,
        start,
        idempotency_key: key(),
    }
}

pub fn table_request(
    customer: UserId,
    venue: VenueId,
    party: i64,
    resource: ResourceChoice,
    start: DateTime<Utc>,
) -> BookingRequest {
    BookingRequest {
        customer,
        venue,
        offer: Offer::Table(PartySize::parse(party).unwrap()),
        resource,
        start,
        idempotency_key: key(),
    }
}

pub fn specific(r: ResourceId) -> ResourceChoice {
    ResourceChoice::Specific(r)
}

/// The refusal, or a panic naming what happened instead.
pub fn refused(result: Result<Booking, BookingError>) -> BookingError {
    match result {
        Ok(b) => panic!("expected a refusal, got booking {b:?}"),
        Err(e) => e,
    }
}

/// A header of a formatted email, unfolded.
pub fn mail_header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\r\n\r\n").next()?;
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

/// Runs one read-only statement that returns a count, on either engine.
async fn count(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(s) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&s.read).await,
        Db::Postgres(p) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&p.pool).await,
    }
    .expect("run a counting query")
}

impl Ctx {
    /// Bookings that are not live but own claims or occupancy rows: freed
    /// time that stayed claimed (the second invariant query).
    pub async fn orphan_claims(&self) -> usize {
        self.engine
            .ghost_claims()
            .await
            .expect("run the ghost-claims query")
            .len()
    }

    /// Live bookings whose claims are not exactly one per unit of the
    /// venue's grid on each of their resources, or whose occupancy rows do
    /// not match them: a half-made booking.
    pub async fn half_made_bookings(&self) -> usize {
        self.engine
            .half_made_bookings()
            .await
            .expect("run the half-made query")
            .len()
    }

    /// Every message in the outbox, whatever its state.
    pub async fn outbox_rows(&self) -> i64 {
        count(&self.db, "SELECT COUNT(*) FROM outbox").await
    }

    pub async fn live_bookings(&self) -> i64 {
        count(
            &self.db,
            "SELECT COUNT(*) FROM bookings WHERE status IN ('held', 'confirmed')",
        )
        .await
    }

    /// The invariants of the booking protocol, all at once: no overlap, no
    /// claims of a booking that is not live, no half-made booking, every
    /// booking told, no waitlist entry out of step or passed over.
    pub async fn assert_invariants(&self, when: &str) {
        let found = self.engine.invariants().await.expect("invariant queries");
        let (overlaps, ghosts, half, untold) = (
            found.overlaps,
            found.ghost_claims,
            found.half_made,
            found.untold,
        );
        assert!(
            overlaps.is_empty(),
            "{when}: overlapping live bookings {overlaps:?}"
        );
        assert!(
            ghosts.is_empty(),
            "{when}: bookings not live but still claiming {ghosts:?}"
        );
        assert!(half.is_empty(), "{when}: half-made bookings {half:?}");
        assert!(
            untold.is_empty(),
            "{when}: bookings whose messages do not tell what became of them {untold:?}"
        );
        assert!(
            found.waitlist_astray.is_empty(),
            "{when}: waitlist entries out of step with their holds, or passed over {:?}",
            found.waitlist_astray
        );
    }
}

/// The venue's settings as they are, with the per-customer limits set
/// (`None` keeps one).
pub fn settings_with_limits(
    s: &app::domain::admin::VenueSettings,
    holds: Option<i64>,
    upcoming: Option<i64>,
) -> app::backend::staff::Change {
    app::backend::staff::Change::Settings {
        version: s.version,
        name: s.name.clone(),
        grid_minutes: s.grid_minutes,
        hold_minutes: s.hold_minutes,
        cancellation_window_minutes: s.cancellation_window_minutes,
        min_notice_minutes: s.min_notice_minutes,
        advance_days: s.advance_days,
        seating_minutes: s.seating_minutes,
        max_holds_per_customer: holds,
        max_upcoming_per_customer: upcoming,
        currency: None,
        address: None,
        reminder_minutes: None,
        offer_minutes: None,
    }
}
