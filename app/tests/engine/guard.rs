//! The schema's grid-independent guard: occupancy rows of one resource
//! never overlap (Postgres: an exclusion constraint; SQLite: triggers),
//! whatever path wrote them; the engine answers it firing as "slot taken";
//! and the migration that adds it keeps existing data.

use crate::on_both_databases;
use crate::support::*;
use app::backend::db::{is_overlap_violation, Db, DbOptions};
use app::backend::testing::{TestDatabase, TestEngine};
use app::domain::booking::BookingError;

const HEAD: &str = "Head and shoulder massage";

/// Runs one statement on the write side of either engine.
async fn exec(db: &Db, sql: &str) -> Result<u64, sqlx::Error> {
    match db {
        Db::Sqlite(s) => sqlx::query(sql)
            .execute(&s.write)
            .await
            .map(|r| r.rows_affected()),
        Db::Postgres(p) => sqlx::query(sql)
            .execute(&p.pool)
            .await
            .map(|r| r.rows_affected()),
    }
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(s) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&s.write).await,
        Db::Postgres(p) => sqlx::query_scalar::<_, i64>(sql).fetch_one(&p.pool).await,
    }
    .expect("a counting query")
}

/// A confirmed booking of `resource` written straight into the tables,
/// [starts, until), with its resource row; returns its id. No claims and
/// no occupancy: the caller adds what it tests.
async fn raw_booking(
    db: &Db,
    customer: i64,
    venue: i64,
    service: i64,
    resource: i64,
    starts: i64,
    until: i64,
    key: &str,
) -> i64 {
    exec(
        db,
        &format!(
            "INSERT INTO bookings (customer_id, venue_id, service_id, starts_at, ends_at, occupied_until, \
             status, idempotency_key, created_at, updated_at) \
             VALUES ({customer}, {venue}, {service}, {starts}, {until}, {until}, 'confirmed', '{key}', 0, 0)"
        ),
    )
    .await
    .expect("insert a booking row");
    let id = scalar(
        db,
        &format!("SELECT id FROM bookings WHERE idempotency_key = '{key}'"),
    )
    .await;
    exec(
        db,
        &format!(
            "INSERT INTO booking_resources (booking_id, resource_id) VALUES ({id}, {resource})"
        ),
    )
    .await
    .expect("insert its resource");
    id
}

async fn occupy(
    db: &Db,
    booking: i64,
    resource: i64,
    starts: i64,
    until: i64,
) -> Result<u64, sqlx::Error> {
    exec(
        db,
        &format!(
            "INSERT INTO occupancies (booking_id, resource_id, starts_at, occupied_until) \
             VALUES ({booking}, {resource}, {starts}, {until})"
        ),
    )
    .await
}

on_both_databases! {
    async fn the_guard_refuses_overlapping_occupancies_of_one_resource_on_any_grid(ctx: Ctx) {
        let spa = ctx.spa().await;
        let c = ctx.customer().await;
        let (anna, ben) = (spa.resource("Anna").0, spa.resource("Ben").0);
        let head = spa.service(HEAD).0;
        let ten = london(2, 10, 0).timestamp();
        let m = |minutes: i64| ten + minutes * 60;
        let a = raw_booking(&ctx.db, c.0, spa.id.0, head, anna, ten, m(45), "guard-a").await;
        occupy(&ctx.db, a, anna, ten, m(45)).await.expect("the first occupancy");
        // 10:30 on a 30-minute grid, 10:40 on none: both overlap 10:00-10:45.
        for (key, starts) in [("guard-b", m(30)), ("guard-c", m(40)), ("guard-d", m(-20))] {
            let b = raw_booking(&ctx.db, c.0, spa.id.0, head, anna, starts, starts + 1800, key).await;
            let e = occupy(&ctx.db, b, anna, starts, starts + 1800).await.expect_err("an overlap is refused");
            assert!(is_overlap_violation(&e), "{key}: {e}");
        }
        // Back to back, and the same time on another resource: fine.
        let d = raw_booking(&ctx.db, c.0, spa.id.0, head, anna, m(45), m(90), "guard-e").await;
        occupy(&ctx.db, d, anna, m(45), m(90)).await.expect("back to back");
        let e = raw_booking(&ctx.db, c.0, spa.id.0, head, ben, ten, m(45), "guard-f").await;
        occupy(&ctx.db, e, ben, ten, m(45)).await.expect("another resource");
        // Moving a row onto another is refused too.
        let moved = exec(&ctx.db, &format!("UPDATE occupancies SET starts_at = {} WHERE booking_id = {d}", m(30))).await;
        assert!(moved.as_ref().is_err_and(is_overlap_violation), "{moved:?}");
        // Longer than a day is refused by its check.
        let f = raw_booking(&ctx.db, c.0, spa.id.0, head, ben, m(24 * 60), m(49 * 60), "guard-g").await;
        assert!(occupy(&ctx.db, f, ben, m(24 * 60), m(49 * 60)).await.is_err());
    }

    async fn a_booking_stopped_by_the_guard_is_answered_as_slot_taken_with_alternatives(ctx: Ctx) {
        let spa = ctx.spa().await;
        let [somebody, alice] = ctx.customers(2).await[..] else { unreachable!() };
        let anna = spa.resource("Anna");
        let head = spa.service(HEAD);
        // A booking whose time the claims do not show (as one written on
        // another grid would be): the checks under the lock find Anna free,
        // the guard does not.
        let ten = london(2, 10, 0).timestamp();
        let ghost = raw_booking(&ctx.db, somebody.0, spa.id.0, head.0, anna.0, ten, ten + 2700, "no-claims").await;
        occupy(&ctx.db, ghost, anna.0, ten, ten + 2700).await.unwrap();
        match ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(2, 10, 30))).await {
            Err(BookingError::SlotTaken { alternatives }) => assert!(!alternatives.is_empty()),
            other => panic!("expected slot taken, got {other:?}"),
        }
        assert_eq!(ctx.engine.counters().unique_violations.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(ctx.live_bookings().await, 1, "nothing was half written");
        assert_eq!(ctx.overlaps().await, 0);
        assert_eq!(ctx.orphan_claims().await, 0);
    }
}

/// The migration that adds the guard, on a database that has run the
/// earlier ones and holds bookings: live ones get their occupancy rows,
/// claims left behind by bookings that are not live are released.
async fn the_guard_migration_keeps_existing_data(engine: TestEngine) {
    let database = TestDatabase::create(engine).await;
    let db = Db::connect(&database.url, &DbOptions::default())
        .await
        .unwrap();
    let up_to = |mut m: sqlx::migrate::Migrator, last: i64| {
        m.migrations = std::borrow::Cow::Owned(
            m.migrations
                .iter()
                .filter(|x| x.version <= last)
                .cloned()
                .collect(),
        );
        m
    };
    match &db {
        Db::Sqlite(s) => {
            up_to(sqlx::migrate!("../migrations/sqlite"), 3)
                .run(&s.write)
                .await
        }
        Db::Postgres(p) => {
            up_to(sqlx::migrate!("../migrations/postgres"), 3)
                .run(&p.pool)
                .await
        }
    }
    .expect("the first three migrations");
    // The venue as the schema of then had it: written by hand, since the
    // catalog writes today's columns.
    for sql in [
        "INSERT INTO venues (name, timezone) VALUES ('Old Spa', 'Europe/London')",
        "INSERT INTO resources (venue_id, kind, name) SELECT id, 'therapist', 'Anna' FROM venues WHERE name = 'Old Spa'",
        "INSERT INTO services (venue_id, name, duration_minutes, cleanup_minutes) SELECT id, 'Head and shoulder massage', 30, 15 FROM venues WHERE name = 'Old Spa'",
        "INSERT INTO therapist_services (resource_id, service_id) SELECT r.id, s.id FROM resources r JOIN services s ON s.venue_id = r.venue_id",
    ] {
        exec(&db, sql).await.unwrap();
    }
    let venue = scalar(&db, "SELECT id FROM venues WHERE name = 'Old Spa'").await;
    exec(&db, "INSERT INTO users (email, password_hash, display_name, created_at) VALUES ('old@example.com', '!', 'Old', 0)")
        .await
        .unwrap();
    let customer = scalar(&db, "SELECT id FROM users WHERE email = 'old@example.com'").await;
    let anna = scalar(&db, "SELECT id FROM resources WHERE name = 'Anna'").await;
    let head = scalar(
        &db,
        &format!("SELECT id FROM services WHERE name = '{HEAD}'"),
    )
    .await;
    let ten = london(2, 10, 0).timestamp();
    let live = raw_booking(
        &db,
        customer,
        venue,
        head,
        anna,
        ten,
        ten + 2700,
        "old-live",
    )
    .await;
    let gone = raw_booking(
        &db,
        customer,
        venue,
        head,
        anna,
        ten + 3600,
        ten + 6300,
        "old-gone",
    )
    .await;
    exec(
        &db,
        &format!("UPDATE bookings SET status = 'expired' WHERE id = {gone}"),
    )
    .await
    .unwrap();
    for (booking, start) in [
        (live, ten),
        (live, ten + 900),
        (live, ten + 1800),
        (gone, ten + 3600),
    ] {
        exec(&db, &format!("INSERT INTO claims (resource_id, unit_start, booking_id) VALUES ({anna}, {start}, {booking})"))
            .await
            .unwrap();
    }
    db.migrate()
        .await
        .expect("the guard's migration on existing data");
    assert_eq!(
        scalar(
            &db,
            &format!(
                "SELECT COUNT(*) FROM occupancies WHERE booking_id = {live} AND starts_at = {ten}"
            )
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT COUNT(*) FROM claims WHERE booking_id = {gone}")
        )
        .await,
        0,
        "the expired booking's claim is released"
    );
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT COUNT(*) FROM claims WHERE booking_id = {live}")
        )
        .await,
        3
    );
    // Repeating a request made before requests were recorded still finds it.
    let engine_ = app::backend::engine::Engine::new(
        db.clone(),
        app::backend::engine::Clock::manual(monday_morning()),
    );
    let repeat = app::domain::booking::BookingRequest {
        customer: app::domain::ids::UserId(customer),
        venue: app::domain::ids::VenueId(venue),
        offer: app::domain::booking::Offer::Service(app::domain::ids::ServiceId(head)),
        resource: specific(app::domain::ids::ResourceId(anna)),
        start: london(2, 10, 0),
        idempotency_key: app::domain::input::IdempotencyKey::parse("old-live").unwrap(),
    };
    assert_eq!(engine_.book(&repeat).await.unwrap().id.0, live);
    db.close().await;
    database.remove().await;
}

mod the_guard_migration_keeps_existing_data {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        super::the_guard_migration_keeps_existing_data(super::TestEngine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        super::the_guard_migration_keeps_existing_data(super::TestEngine::Postgres).await;
    }
}
