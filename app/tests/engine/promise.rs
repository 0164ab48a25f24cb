//! The promise where operations mix: a booking queued behind a set-up
//! change, a move of a lapsed hold, an idempotency key reused for another
//! request, bad staff input, a transaction left open on Postgres. Each
//! interleaving is forced with the engine's pause points, so these meet
//! the worst order every time.

use crate::on_both_databases;
use crate::support::*;
use app::backend::engine::{Actor, Engine};
use app::backend::pauses::{pause_at, Point};
use app::backend::staff::{Change, Staff};
use app::domain::admin::{StrandChoice, VenueSetup};
use app::domain::booking::{Booking, BookingError, BookingRequest, BookingStatus, RuleViolation};
use app::domain::error::AppError;
use app::domain::ids::VenueId;
use chrono::NaiveDate;
use std::time::Duration;

const HEAD: &str = "Head and shoulder massage";

async fn setup(ctx: &Ctx, staff: Staff, venue: VenueId) -> VenueSetup {
    ctx.engine
        .venue_setup(staff, venue)
        .await
        .expect("the set-up page")
}

/// The venue's settings with another grid.
fn grid(setup: &VenueSetup, minutes: i64) -> Change {
    let s = &setup.settings;
    Change::Settings {
        version: s.version,
        name: s.name.clone(),
        grid_minutes: minutes,
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

/// Books `req` on `engine`, held just before it takes its locks until
/// `change` has been made by `staff`; returns the booking's answer.
async fn book_behind(
    ctx: &Ctx,
    engine: &Engine,
    req: BookingRequest,
    staff: Staff,
    venue: VenueId,
    change: Change,
) -> Result<Booking, BookingError> {
    let (plan, mut handle) = pause_at(Point::BeforeLock, Duration::from_secs(20));
    let booker = {
        let engine = engine.clone();
        tokio::spawn(plan.run(async move { engine.book(&req).await }))
    };
    assert!(
        handle.reached(Duration::from_secs(10)).await,
        "the booking reached its lock"
    );
    ctx.engine
        .change(staff, venue, &change, StrandChoice::Ask)
        .await
        .expect("the set-up change while the booking waits");
    handle.release();
    booker.await.expect("the booking task")
}

fn rule(r: Result<Booking, BookingError>) -> RuleViolation {
    match r {
        Err(BookingError::Rejected(v)) => v,
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

on_both_databases! {
    async fn a_booking_queued_behind_a_grid_change_is_decided_on_the_new_grid(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let [anna_customer, late] = ctx.customers(2).await[..] else { unreachable!() };
        let anna = specific(spa.resource("Anna"));
        let head = spa.service(HEAD);
        let other = ctx.second_engine().await;
        // 10:00-10:45 with cleanup: claims 10:00, 10:15, 10:30.
        let first = ctx.engine.book(&service_request(anna_customer, spa.id, head, anna, london(2, 10, 0))).await.unwrap();
        // 10:45 waits at the lock while the grid goes to 30 minutes and the
        // first booking is re-claimed to 11:00.
        let s = setup(&ctx, staff, spa.id).await;
        let req = service_request(late, spa.id, head, anna, london(2, 10, 45));
        let answer = book_behind(&ctx, &other, req, staff, spa.id, grid(&s, 30)).await;
        assert_eq!(rule(answer), RuleViolation::OffGrid { grid_minutes: 30 });
        let first = ctx.engine.booking(Actor::customer(anna_customer), first.id).await.unwrap();
        assert_eq!(first.occupied_until, london(2, 11, 0), "re-claimed on the new grid");
        ctx.assert_invariants("after the grid change").await;

        // On a start both grids share, the waiting booking uses the new
        // grid's units: 11:00 for 45 minutes occupies 11:00-12:00.
        let s = setup(&ctx, staff, spa.id).await;
        let back = grid(&s, 15);
        ctx.engine.change(staff, spa.id, &back, StrandChoice::Ask).await.unwrap();
        let s = setup(&ctx, staff, spa.id).await;
        let req = service_request(late, spa.id, head, anna, london(2, 11, 0));
        let booked = book_behind(&ctx, &other, req, staff, spa.id, grid(&s, 30)).await.unwrap();
        assert_eq!(booked.occupied_until, london(2, 12, 0));
        ctx.assert_invariants("after a booking behind the second grid change").await;
        assert_eq!(ctx.overlaps().await, 0);
        assert_eq!(ctx.orphan_claims().await, 0);
    }

    async fn a_booking_queued_behind_a_set_up_change_sees_the_new_set_up(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let c = ctx.customer().await;
        let other = ctx.second_engine().await;
        let (anna, ben) = (spa.resource("Anna"), spa.resource("Ben"));
        let head = spa.service(HEAD);

        // A therapist deactivated while the booking waited for her.
        let s = setup(&ctx, staff, spa.id).await;
        let a = s.resources.iter().find(|r| r.id == anna).unwrap();
        let off = Change::EditResource { id: anna, version: a.version, name: a.name.clone(), capacity: None, active: false };
        let answer = book_behind(&ctx, &other, service_request(c, spa.id, head, specific(anna), london(2, 10, 0)), staff, spa.id, off).await;
        assert_eq!(rule(answer), RuleViolation::UnknownResource);
        let s = setup(&ctx, staff, spa.id).await;
        let a = s.resources.iter().find(|r| r.id == anna).unwrap();
        let on = Change::EditResource { id: anna, version: a.version, name: a.name.clone(), capacity: None, active: true };
        ctx.engine.change(staff, spa.id, &on, StrandChoice::Ask).await.unwrap();

        // A service she no longer offers.
        let s = setup(&ctx, staff, spa.id).await;
        let a = s.resources.iter().find(|r| r.id == anna).unwrap();
        let only_full = Change::Offer { resource: anna, version: a.version, service: head, offered: false };
        let answer = book_behind(&ctx, &other, service_request(c, spa.id, head, specific(anna), london(2, 10, 0)), staff, spa.id, only_full).await;
        assert_eq!(rule(answer), RuleViolation::ServiceNotOffered);

        // A new length and cleanup: the booking takes the new ones.
        let s = setup(&ctx, staff, spa.id).await;
        let h = s.services.iter().find(|x| x.id == head).unwrap();
        let longer = Change::EditService { id: head, version: h.version, name: h.name.clone(), duration_minutes: 45, cleanup_minutes: 30, needs_room: false, active: true, price_cents: None, description: String::new() };
        let booked = book_behind(&ctx, &other, service_request(c, spa.id, head, specific(ben), london(2, 10, 0)), staff, spa.id, longer).await.unwrap();
        assert_eq!((booked.end, booked.occupied_until), (london(2, 10, 45), london(2, 11, 15)));

        // A room that is now required: the booking gets one.
        let s = setup(&ctx, staff, spa.id).await;
        let h = s.services.iter().find(|x| x.id == head).unwrap();
        let with_room = Change::EditService { id: head, version: h.version, name: h.name.clone(), duration_minutes: 45, cleanup_minutes: 30, needs_room: true, active: true, price_cents: None, description: String::new() };
        let booked = book_behind(&ctx, &other, service_request(c, spa.id, head, specific(ben), london(2, 14, 0)), staff, spa.id, with_room).await.unwrap();
        assert_eq!(booked.resources.len(), 2, "a therapist and a room: {:?}", booked.resources);

        // A service withdrawn altogether.
        let s = setup(&ctx, staff, spa.id).await;
        let h = s.services.iter().find(|x| x.id == head).unwrap();
        let gone = Change::EditService { id: head, version: h.version, name: h.name.clone(), duration_minutes: 45, cleanup_minutes: 30, needs_room: true, active: false, price_cents: None, description: String::new() };
        let answer = book_behind(&ctx, &other, service_request(c, spa.id, head, specific(ben), london(2, 16, 0)), staff, spa.id, gone).await;
        assert_eq!(rule(answer), RuleViolation::UnknownService);
        ctx.assert_invariants("after every set-up change").await;
    }

    async fn a_booking_queued_behind_a_closure_is_refused(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let c = ctx.customer().await;
        let close = Change::AddClosure {
            resource: None,
            starts_at: london(2, 9, 0).timestamp(),
            ends_at: london(2, 18, 0).timestamp(),
            reason: "Boiler".into(),
        };
        let req = service_request(c, spa.id, spa.service(HEAD), specific(spa.resource("Anna")), london(2, 10, 0));
        let engine = ctx.second_engine().await;
        assert_eq!(rule(book_behind(&ctx, &engine, req, staff, spa.id, close).await), RuleViolation::Closed);
        ctx.assert_invariants("after the closure").await;
    }

    async fn a_move_behind_a_grid_change_is_decided_on_the_new_grid(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let c = ctx.customer().await;
        let anna = spa.resource("Anna");
        let booking = ctx.engine.book(&service_request(c, spa.id, spa.service(HEAD), specific(anna), london(2, 10, 0))).await.unwrap();
        let s = setup(&ctx, staff, spa.id).await;
        let (plan, mut handle) = pause_at(Point::BeforeLock, Duration::from_secs(20));
        let mover = {
            let engine = ctx.second_engine().await;
            tokio::spawn(plan.run(async move { engine.move_booking(staff, booking.id, london(2, 11, 15), None).await }))
        };
        assert!(handle.reached(Duration::from_secs(10)).await);
        ctx.engine.change(staff, spa.id, &grid(&s, 30), StrandChoice::Ask).await.unwrap();
        handle.release();
        match mover.await.unwrap() {
            // Off the grid is bad input, named by its field, as for customers.
            Err(AppError::Invalid { field, message, .. }) => assert!(field == "start" && message.contains("30-minute"), "{field}: {message}"),
            other => panic!("expected the move to be refused off the new grid, got {other:?}"),
        }
        ctx.assert_invariants("after the move behind the grid change").await;
    }

    async fn moving_a_lapsed_hold_is_refused_and_claims_nothing(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let anna = specific(spa.resource("Anna"));
        let head = spa.service(HEAD);
        let hold = ctx.engine.hold(&service_request(alice, spa.id, head, anna, london(2, 10, 0))).await.unwrap();
        // The hold lapses; the sweeper has not run yet.
        ctx.clock.set(hold.hold_expires_at.unwrap().timestamp() + 60);
        match ctx.engine.move_booking(staff, hold.id, london(2, 11, 0), None).await {
            Err(AppError::Refused { message }) => assert!(message.contains("lapsed"), "{message}"),
            other => panic!("expected the move of a lapsed hold to be refused, got {other:?}"),
        }
        assert_eq!(ctx.orphan_claims().await, 0);
        ctx.assert_invariants("after the refused move").await;
        // Both times are free for anyone, and the day view agrees.
        ctx.engine.book(&service_request(bob, spa.id, head, anna, london(2, 11, 0))).await.unwrap();
        ctx.engine.book(&service_request(bob, spa.id, head, anna, london(2, 10, 0))).await.unwrap();
        // The lapsed hold ends cleanly.
        assert_eq!(ctx.engine.expire_due_holds().await.unwrap(), 0, "the booking at 10:00 expired it already");
        let ended = ctx.engine.booking(Actor::customer(alice), hold.id).await.unwrap();
        assert_eq!(ended.status, BookingStatus::Expired);
        assert_eq!(ctx.overlaps().await, 0);
        assert_eq!(ctx.orphan_claims().await, 0);
    }

    async fn a_hold_that_lapses_while_its_move_waits_is_not_moved(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let alice = ctx.customer().await;
        let hold = ctx.engine.hold(&service_request(alice, spa.id, spa.service(HEAD), specific(spa.resource("Anna")), london(2, 10, 0))).await.unwrap();
        let (plan, mut handle) = pause_at(Point::BeforeLock, Duration::from_secs(20));
        let mover = {
            let engine = ctx.engine.clone();
            tokio::spawn(plan.run(async move { engine.move_booking(staff, hold.id, london(2, 11, 0), None).await }))
        };
        assert!(handle.reached(Duration::from_secs(10)).await);
        ctx.clock.set(hold.hold_expires_at.unwrap().timestamp());
        handle.release();
        assert!(matches!(mover.await.unwrap(), Err(AppError::Refused { .. })));
        ctx.assert_invariants("after the lapsed move").await;
    }

    async fn an_idempotency_key_answers_only_the_request_it_was_made_for(ctx: Ctx) {
        let spa = ctx.spa().await;
        let alice = ctx.customer().await;
        let (anna, ben) = (spa.resource("Anna"), spa.resource("Ben"));
        let head = spa.service(HEAD);
        let first = service_request(alice, spa.id, head, specific(anna), london(2, 10, 0));
        let booked = ctx.engine.book(&first).await.unwrap();
        // The same request again: the same booking.
        assert_eq!(ctx.engine.book(&first).await.unwrap().id, booked.id);
        // The same key for 14:00 with Ben: refused, nothing booked.
        let other = BookingRequest { start: london(2, 14, 0), resource: specific(ben), ..first.clone() };
        assert_eq!(refused(ctx.engine.book(&other).await), BookingError::IdempotencyMismatch);
        // A hold with a booking's key.
        assert_eq!(refused(ctx.engine.hold(&first).await), BookingError::IdempotencyMismatch);
        // A booking with a hold's key.
        let held = service_request(alice, spa.id, head, specific(ben), london(3, 10, 0));
        let hold = ctx.engine.hold(&held).await.unwrap();
        assert_eq!(refused(ctx.engine.book(&held).await), BookingError::IdempotencyMismatch);
        // Repeating the hold after confirming it answers the booking.
        ctx.engine.confirm_hold(alice, hold.id).await.unwrap();
        let again = ctx.engine.hold(&held).await.unwrap();
        assert_eq!((again.id, again.status), (hold.id, BookingStatus::Confirmed));
        // A re-submit after a cancel: the key's booking is gone, not made again.
        ctx.engine.cancel(Actor::customer(alice), booked.id).await.unwrap();
        assert_eq!(
            refused(ctx.engine.book(&first).await),
            BookingError::IdempotencyKeySpent { status: BookingStatus::Cancelled }
        );
        assert_eq!(ctx.live_bookings().await, 1);
        // Also when someone else has the time since, and the engine
        // remembers it as taken (a third customer was just refused it):
        // the repeat is answered by its key, not by that memory.
        let [bob, carol] = ctx.customers(2).await[..] else { unreachable!() };
        ctx.engine.book(&BookingRequest { customer: bob, idempotency_key: key(), ..first.clone() }).await.unwrap();
        let late = BookingRequest { customer: carol, idempotency_key: key(), ..first.clone() };
        assert!(matches!(refused(ctx.engine.book(&late).await), BookingError::SlotTaken { .. }));
        assert!(matches!(refused(ctx.engine.book(&late).await), BookingError::SlotTaken { .. }));
        assert_eq!(
            refused(ctx.engine.book(&first).await),
            BookingError::IdempotencyKeySpent { status: BookingStatus::Cancelled }
        );
        assert_eq!(refused(ctx.engine.book(&other).await), BookingError::IdempotencyMismatch);
        // The AppError the pages and the API answer with.
        let e: AppError = BookingError::IdempotencyMismatch.into();
        assert_eq!(e.status(), 422);
        assert!(matches!(e, AppError::IdempotencyMismatch { .. }));
        ctx.assert_invariants("after the replays").await;
    }

    async fn two_requests_with_one_key_at_once_make_one_booking(ctx: Ctx) {
        let spa = ctx.spa().await;
        let alice = ctx.customer().await;
        let engines = [ctx.engine.clone(), ctx.second_engine().await];
        for round in 0..3u32 {
            let a = service_request(alice, spa.id, spa.service(HEAD), specific(spa.resource("Anna")), london(2 + round, 10, 0));
            let b = BookingRequest { start: london(2 + round, 15, 0), ..a.clone() };
            let (ea, eb) = (engines[0].clone(), engines[1].clone());
            let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
            let (b1, b2) = (barrier.clone(), barrier.clone());
            let ta = tokio::spawn(async move { b1.wait().await; ea.book(&a).await });
            let tb = tokio::spawn(async move { b2.wait().await; eb.book(&b).await });
            let results = [ta.await.unwrap(), tb.await.unwrap()];
            let made = results.iter().filter(|r| r.is_ok()).count();
            let mismatched = results.iter().filter(|r| matches!(r, Err(BookingError::IdempotencyMismatch))).count();
            assert_eq!((made, mismatched), (1, 1), "round {round}: {results:?}");
        }
        assert_eq!(ctx.live_bookings().await, 3);
        ctx.assert_invariants("after the same-key races").await;
    }

    async fn staff_dates_and_texts_out_of_bounds_are_refused_as_input(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let c = ctx.customer().await;
        let booking = ctx.engine.book(&service_request(c, spa.id, spa.service(HEAD), specific(spa.resource("Anna")), london(2, 10, 0))).await.unwrap();
        let invalid = |e: AppError, field: &str| match e {
            AppError::Invalid { field: f, .. } => assert_eq!(f, field),
            other => panic!("expected {field} to be refused as input, got {other:?}"),
        };
        let far = NaiveDate::from_ymd_opt(262_142, 12, 31).unwrap();
        invalid(ctx.engine.day_view(staff, spa.id, far).await.unwrap_err(), "date");
        invalid(ctx.engine.day_view(staff, spa.id, NaiveDate::MIN).await.unwrap_err(), "date");
        invalid(ctx.engine.audit_trail(staff, spa.id, Some(far), None).await.unwrap_err(), "date");
        let far_instant = far.and_hms_opt(10, 0, 0).unwrap().and_utc();
        invalid(ctx.engine.move_booking(staff, booking.id, far_instant, None).await.unwrap_err(), "start");
        invalid(ctx.engine.move_booking(staff, booking.id, chrono::DateTime::<chrono::Utc>::MIN_UTC, None).await.unwrap_err(), "start");
        let close = |starts_at: i64, ends_at: i64, reason: &str| Change::AddClosure { resource: None, starts_at, ends_at, reason: reason.into() };
        let err = ctx.engine.change(staff, spa.id, &close(london(3, 9, 0).timestamp(), far_instant.timestamp(), ""), StrandChoice::Ask).await.unwrap_err();
        invalid(err, "ends_at");
        let err = ctx.engine.change(staff, spa.id, &close(london(3, 9, 0).timestamp(), london(3, 10, 0).timestamp(), "Boiler\u{0}"), StrandChoice::Ask).await.unwrap_err();
        invalid(err, "reason");
        let s = setup(&ctx, staff, spa.id).await;
        let a = &s.resources[0];
        let rename = Change::EditResource { id: a.id, version: a.version, name: "An\u{7}na".into(), capacity: None, active: true };
        invalid(ctx.engine.change(staff, spa.id, &rename, StrandChoice::Ask).await.unwrap_err(), "name");
        // Within the bounds, the same calls work.
        assert!(ctx.engine.day_view(staff, spa.id, june(2)).await.is_ok());
        assert!(ctx.engine.move_booking(staff, booking.id, london(2, 11, 0), None).await.is_ok());
        ctx.assert_invariants("after the refused input").await;
    }
}

/// An instance whose connection hangs inside a transaction (here: one that
/// locked Anna's row and then did nothing) no longer holds every other
/// instance's bookings of Anna for ever: the lock timeout fails their
/// attempts with a transient error that the engine retries, and the idle
/// transaction is ended by the server, which frees the row. Bookings of
/// other resources never wait for it. Postgres only: SQLite has one
/// process and one writer.
mod a_transaction_left_open_elsewhere_does_not_block_bookings_for_ever {
    use super::*;
    use app::backend::db::{Db, DbOptions, PgTimeouts};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn on_postgres() {
        run(
            app::backend::testing::TestEngine::Postgres,
            |ctx| async move {
                let options = DbOptions {
                    postgres: PgTimeouts {
                        lock: Duration::from_millis(500),
                        statement: Duration::from_secs(10),
                        idle_in_transaction: Duration::from_secs(1),
                    },
                    ..DbOptions::default()
                };
                let spa = ctx.spa().await;
                let [alice, bob] = ctx.customers(2).await[..] else {
                    unreachable!()
                };
                let (anna, ben) = (spa.resource("Anna"), spa.resource("Ben"));
                let hung = Db::connect(&ctx.url, &options).await.unwrap();
                let booker = Engine::new(
                    Db::connect(&ctx.url, &options).await.unwrap(),
                    ctx.clock.clone(),
                );
                let Db::Postgres(pg) = &hung else {
                    unreachable!()
                };
                let mut stuck = pg.pool.begin().await.unwrap();
                sqlx::query("SELECT id FROM resources WHERE id = $1 FOR UPDATE")
                    .bind(anna.0)
                    .execute(&mut *stuck)
                    .await
                    .unwrap();
                // Another resource: not held up at all.
                let ben_booking = tokio::time::timeout(
                    Duration::from_secs(5),
                    booker.book(&service_request(
                        bob,
                        spa.id,
                        spa.service(HEAD),
                        specific(ben),
                        london(2, 10, 0),
                    )),
                )
                .await
                .expect("a booking of another resource does not wait");
                assert!(ben_booking.is_ok(), "{ben_booking:?}");
                // Anna: waits, retries, and gets through once the server ends
                // the idle transaction.
                let anna_booking = tokio::time::timeout(
                    Duration::from_secs(30),
                    booker.book(&service_request(
                        alice,
                        spa.id,
                        spa.service(HEAD),
                        specific(anna),
                        london(2, 10, 0),
                    )),
                )
                .await
                .expect("the booking of the locked resource is not blocked for ever");
                assert!(anna_booking.is_ok(), "{anna_booking:?}");
                assert!(
                    booker
                        .counters()
                        .retries
                        .load(std::sync::atomic::Ordering::Relaxed)
                        >= 1,
                    "a lock timeout was retried"
                );
                // The hung transaction was ended by the server.
                assert!(sqlx::query("SELECT 1").execute(&mut *stuck).await.is_err());
                drop(stuck);
                hung.close().await;
                booker.db().close().await;
                ctx.assert_invariants("after the hung transaction").await;
            },
        )
        .await;
    }
}
