//! Races, each repeated for several rounds. After each: the invariant query
//! of the booking protocol returns no rows.

use crate::on_both_databases;
use crate::support::*;
use app::backend::engine::{Actor, Engine};
use app::domain::booking::{Booking, BookingError, BookingRequest, ResourceChoice};
use app::domain::ids::UserId;
use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Barrier;

const ROUNDS: usize = 3;

/// Sends every request at the same instant (a barrier releases them
/// together) and returns the results in request order.
async fn race(ctx: &Ctx, requests: Vec<BookingRequest>) -> Vec<Result<Booking, BookingError>> {
    race_on(&[ctx.engine.clone()], requests).await
}

/// `race` with the requests dealt round-robin to several engines, each on
/// its own connections to the one database: several app instances.
async fn race_on(
    engines: &[Engine],
    requests: Vec<BookingRequest>,
) -> Vec<Result<Booking, BookingError>> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(i, req)| {
            let engine = engines[i % engines.len()].clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                engine.book(&req).await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("a booking task panicked"));
    }
    out
}

on_both_databases! {
    async fn two_hundred_customers_booking_one_slot_at_once_make_one_booking(ctx: Ctx) {
        let spa = ctx.spa().await;
        let customers = ctx.customers(200).await;
        let anna = specific(spa.resource("Anna"));
        let head = spa.service("Head and shoulder massage");
        // Two engines with their own connections: two instances of the app.
        let engines = [ctx.engine.clone(), ctx.second_engine().await];
        for (round, at) in [london(2, 10, 0), london(2, 11, 30), london(3, 15, 0)].into_iter().enumerate().take(ROUNDS) {
            let looked = |es: &[Engine]| es.iter().map(|e| e.counters().fast_refusals.load(Ordering::Relaxed)).sum::<u64>();
            let before = looked(&engines);
            let requests = customers.iter().map(|c| service_request(*c, spa.id, head, anna, at)).collect();
            let results = race_on(&engines, requests).await;
            // Each instance sends one transaction at a time for the slot and
            // its other requests look read-only in their turn: all but one
            // loser per other instance are answered without a write.
            let answered_by_look = looked(&engines) - before;
            assert!(answered_by_look >= 199 - (engines.len() as u64 - 1), "round {round}: {answered_by_look} answered by the read-only look");
            let won = results.iter().filter(|r| r.is_ok()).count();
            let taken_with_alternatives = results
                .iter()
                .filter(|r| matches!(r, Err(BookingError::SlotTaken { alternatives }) if !alternatives.is_empty()))
                .count();
            let other: Vec<_> = results
                .iter()
                .filter(|r| !matches!(r, Ok(_) | Err(BookingError::SlotTaken { .. })))
                .collect();
            assert_eq!(won, 1, "round {round}: exactly one booking");
            assert_eq!(taken_with_alternatives, 199, "round {round}: the rest are told, with alternatives");
            assert!(other.is_empty(), "round {round}: other outcomes {other:?}");
            assert_eq!(ctx.overlaps().await, 0, "round {round}");
            assert_eq!(ctx.orphan_claims().await, 0, "round {round}");
        }
        assert_eq!(ctx.live_bookings().await, ROUNDS as i64);
        // Every loser was turned away by the check under the lock, not by
        // the unique index: the lock makes bookers wait and see the winner.
        for e in &engines {
            assert_eq!(e.counters().unique_violations.load(Ordering::Relaxed), 0);
        }
    }

    async fn customers_racing_for_any_therapist_get_every_free_one(ctx: Ctx) {
        let spa = ctx.spa().await;
        let customers = ctx.customers(40).await;
        let head = spa.service("Head and shoulder massage");
        let engines = [ctx.engine.clone(), ctx.second_engine().await];
        for round in 0..ROUNDS {
            let at = london(2, 10, 0) + Duration::hours(round as i64);
            let requests = customers
                .iter()
                .map(|c| service_request(*c, spa.id, head, ResourceChoice::Any, at))
                .collect();
            let results = race_on(&engines, requests).await;
            let mut got: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).map(|b| b.resources[0]).collect();
            got.sort();
            // Anna and Ben offer the treatment; Chloe does not. Nobody is
            // refused while one of them is free.
            assert_eq!(got, vec![spa.resource("Anna"), spa.resource("Ben")], "round {round}");
            assert!(results.iter().all(|r| matches!(r, Ok(_) | Err(BookingError::SlotTaken { .. }))));
            assert_eq!(ctx.overlaps().await, 0, "round {round}");
            assert_eq!(ctx.orphan_claims().await, 0, "round {round}");
        }
        for e in &engines {
            assert_eq!(e.counters().unique_violations.load(Ordering::Relaxed), 0);
        }
    }

    async fn bookings_of_different_lengths_racing_on_one_therapist_never_overlap(ctx: Ctx) {
        let studio = ctx.studio().await;
        let solo = studio.resource("Solo");
        let customers = ctx.customers(8).await;
        for round in 0..ROUNDS {
            let day = 2 + round as u32;
            // 30, 60 and 90 minutes at each quarter hour from 10:00 to 13:45.
            let mut requests = Vec::new();
            for k in 0..16i64 {
                for (i, minutes) in ["30", "60", "90"].into_iter().enumerate() {
                    let at = london(day, 10, 0) + Duration::minutes(15 * k);
                    let who = customers[(k as usize * 3 + i) % customers.len()];
                    requests.push((service_request(who, studio.id, studio.service(minutes), specific(solo), at), minutes));
                }
            }
            let lengths: Vec<i64> = requests.iter().map(|(_, m)| m.parse::<i64>().unwrap()).collect();
            let starts: Vec<DateTime<Utc>> = requests.iter().map(|(r, _)| r.start).collect();
            let results = race(&ctx, requests.into_iter().map(|(r, _)| r).collect()).await;

            let accepted: Vec<(DateTime<Utc>, DateTime<Utc>)> = results
                .iter()
                .filter_map(|r| r.as_ref().ok())
                .map(|b| (b.start, b.occupied_until))
                .collect();
            assert!(!accepted.is_empty(), "round {round}: someone got a booking");
            for (i, r) in results.iter().enumerate() {
                match r {
                    Ok(_) => {}
                    Err(BookingError::SlotTaken { .. }) => {
                        // Each refusal really overlapped an accepted booking
                        // (its treatment plus 15 minutes of cleanup).
                        let (s, e) = (starts[i], starts[i] + Duration::minutes(lengths[i] + 15));
                        assert!(
                            accepted.iter().any(|(a, b)| s < *b && *a < e),
                            "round {round}: {s}..{e} was refused but overlaps no accepted booking"
                        );
                    }
                    Err(other) => panic!("round {round}: unexpected {other:?}"),
                }
            }
            assert_eq!(ctx.overlaps().await, 0, "round {round}");
            assert_eq!(ctx.orphan_claims().await, 0, "round {round}");
        }
    }

    async fn room_bookings_racing_single_resource_bookings_are_never_half_made(ctx: Ctx) {
        let spa = ctx.spa().await;
        let customers = ctx.customers(10).await;
        let full = spa.service("Full body massage");
        let stone = spa.service("Hot stone therapy");
        let head = spa.service("Head and shoulder massage");
        for round in 0..ROUNDS {
            let day = 2 + round as u32;
            let at = |h, m| london(day, h, m);
            let mut requests = Vec::new();
            for (i, c) in customers.iter().enumerate() {
                let anna = specific(spa.resource("Anna"));
                let ben = specific(spa.resource("Ben"));
                let chloe = specific(spa.resource("Chloe"));
                // Therapist-and-room treatments, three therapists, two rooms.
                requests.push(service_request(*c, spa.id, full, anna, at(10, 0)));
                requests.push(service_request(*c, spa.id, full, ben, at(10, 15)));
                requests.push(service_request(*c, spa.id, stone, chloe, at(10, 0)));
                requests.push(service_request(*c, spa.id, full, ResourceChoice::Any, at(10, 30)));
                // Therapist-only treatments over the same hour.
                let minute = (i as u32 % 4) * 15;
                requests.push(service_request(*c, spa.id, head, anna, at(10, minute)));
                requests.push(service_request(*c, spa.id, head, ben, at(10, minute)));
            }
            let results = race(&ctx, requests).await;
            for r in &results {
                assert!(matches!(r, Ok(_) | Err(BookingError::SlotTaken { .. })), "round {round}: {r:?}");
            }
            for b in results.iter().filter_map(|r| r.as_ref().ok()) {
                let expected = if b.service == Some(head) { 1 } else { 2 };
                assert_eq!(b.resources.len(), expected, "round {round}: {b:?}");
            }
            assert_eq!(ctx.half_made_bookings().await, 0, "round {round}");
            assert_eq!(ctx.overlaps().await, 0, "round {round}");
            assert_eq!(ctx.orphan_claims().await, 0, "round {round}");
        }
    }

    async fn a_cancellation_racing_rebookers_leaves_the_slot_booked_once(ctx: Ctx) {
        let spa = ctx.spa().await;
        let customers = ctx.customers(21).await;
        let (owner, rebookers) = customers.split_first().unwrap();
        let anna = specific(spa.resource("Anna"));
        let head = spa.service("Head and shoulder massage");
        for round in 0..ROUNDS {
            let at = london(2, 10, 0) + Duration::hours(round as i64);
            let original = ctx.engine.book(&service_request(*owner, spa.id, head, anna, at)).await.unwrap();
            let cancelled = Arc::new(AtomicBool::new(false));
            let barrier = Arc::new(Barrier::new(rebookers.len() + 1));
            let mut tasks = Vec::new();
            for c in rebookers.iter().copied() {
                let (engine, cancelled, barrier) = (ctx.engine.clone(), cancelled.clone(), barrier.clone());
                let req = service_request(c, spa.id, head, anna, at);
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    // Keep trying until booked, or refused after the
                    // cancellation was done (someone else won the freed slot).
                    for _ in 0..10_000 {
                        let after_cancel = cancelled.load(Ordering::SeqCst);
                        match engine.book(&req).await {
                            Ok(b) => return Some(b),
                            Err(BookingError::SlotTaken { .. }) if after_cancel => return None,
                            Err(BookingError::SlotTaken { .. }) => tokio::task::yield_now().await,
                            Err(other) => panic!("unexpected {other:?}"),
                        }
                    }
                    panic!("the slot never came free");
                }));
            }
            let canceller = {
                let (engine, cancelled, barrier) = (ctx.engine.clone(), cancelled.clone(), barrier.clone());
                let owner: UserId = *owner;
                tokio::spawn(async move {
                    barrier.wait().await;
                    engine.cancel(Actor::customer(owner), original.id).await.expect("cancel");
                    cancelled.store(true, Ordering::SeqCst);
                })
            };
            canceller.await.unwrap();
            let mut winners = 0;
            for t in tasks {
                if t.await.unwrap().is_some() {
                    winners += 1;
                }
            }
            assert_eq!(winners, 1, "round {round}: the freed slot was booked exactly once");
            assert_eq!(ctx.overlaps().await, 0, "round {round}");
            assert_eq!(ctx.orphan_claims().await, 0, "round {round}");
        }
        assert_eq!(ctx.live_bookings().await, ROUNDS as i64);
    }

    async fn a_release_racing_the_confirmation_of_the_same_hold_leaves_one_consistent_outcome(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await.user;
        let anna = specific(spa.resource("Anna"));
        let head = spa.service("Head and shoulder massage");
        let (mut confirmed, mut released) = (0, 0);
        for round in 0..20 {
            // A new customer each round: one may hold only a few at once.
            let customer = ctx.customer().await;
            // Five times a morning, Tuesday to Friday.
            let at = london(2 + round / 5, 9, 0) + Duration::minutes(45 * (round as i64 % 5));
            let hold = ctx.engine.hold(&service_request(customer, spa.id, head, anna, at)).await.unwrap();
            let barrier = Arc::new(Barrier::new(2));
            let (e1, b1) = (ctx.engine.clone(), barrier.clone());
            let confirm = tokio::spawn(async move {
                b1.wait().await;
                e1.confirm_hold(customer, hold.id).await
            });
            let (e2, b2) = (ctx.engine.clone(), barrier.clone());
            let release = tokio::spawn(async move {
                b2.wait().await;
                e2.release_hold(Actor::staff(staff), hold.id).await
            });
            let (c, r) = (confirm.await.unwrap(), release.await.unwrap());
            let now = ctx.engine.booking(Actor::staff(staff), hold.id).await.unwrap();
            match (&c, &r) {
                (Ok(_), Err(BookingError::NotChangeable { .. })) => {
                    confirmed += 1;
                    assert_eq!(now.status, app::domain::booking::BookingStatus::Confirmed);
                }
                (Err(BookingError::HoldExpired), Ok(_)) => {
                    released += 1;
                    assert_eq!(now.status, app::domain::booking::BookingStatus::Cancelled);
                }
                other => panic!("round {round}: both or neither won: {other:?}"),
            }
            assert_eq!(ctx.orphan_claims().await, 0, "round {round}");
            assert_eq!(ctx.half_made_bookings().await, 0, "round {round}");
        }
        assert_eq!(confirmed + released, 20);
    }
    async fn fifty_holds_at_once_from_one_customer_get_exactly_the_venues_limit(ctx: Ctx) {
        let olive = ctx.restaurant().await;
        let staff = ctx.staff_of(&[olive.id]).await;
        let engines = [ctx.engine.clone(), ctx.second_engine().await];
        let s = ctx.engine.venue_setup(staff, olive.id).await.unwrap().settings;
        assert_eq!((s.max_holds_per_customer, s.max_upcoming_per_customer), (3, 10), "the defaults");
        let tables: Vec<_> = (1..=6).map(|n| olive.resource(&format!("Table {n}"))).collect();
        // Fifty requests for two, each for its own table and time: no two
        // compete for a slot or a lock, so only the customer's count can
        // stop them, and on Postgres they run side by side.
        let slots: Vec<_> = (2..6u32)
            .flat_map(|day| [(12, 0), (13, 30), (18, 0), (19, 30), (21, 0)].map(|(h, m)| london(day, h, m)))
            .flat_map(|at| tables.iter().map(move |t| (*t, at)))
            .take(50)
            .collect();
        assert_eq!(slots.len(), 50);
        let all_at_once = |customer: UserId, slots: &[(app::domain::ids::ResourceId, DateTime<Utc>)], hold: bool| {
            let barrier = Arc::new(Barrier::new(slots.len()));
            let tasks: Vec<_> = slots
                .iter()
                .enumerate()
                .map(|(i, (table, at))| {
                    let engine = engines[i % engines.len()].clone();
                    let barrier = barrier.clone();
                    let req = table_request(customer, olive.id, 2, specific(*table), *at);
                    tokio::spawn(async move {
                        barrier.wait().await;
                        if hold { engine.hold(&req).await } else { engine.book(&req).await }
                    })
                })
                .collect();
            async move {
                let mut out = Vec::new();
                for t in tasks {
                    out.push(t.await.expect("a request task panicked"));
                }
                out
            }
        };
        let (alice, alice_email) = ctx.user_with_role(app::domain::admin::Role::Customer).await;
        let results = all_at_once(alice, &slots, true).await;
        let granted: Vec<Booking> = results.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
        assert_eq!(granted.len(), 3, "exactly the limit of holds: {results:?}");
        for r in &results {
            assert!(matches!(r, Ok(_) | Err(BookingError::HoldLimit { limit: 3 })), "{r:?}");
        }
        let e: app::domain::error::AppError = BookingError::HoldLimit { limit: 3 }.into();
        assert_eq!(e.status(), 422);
        assert_eq!(serde_json::to_value(&e).unwrap()["error"], "limit_reached");

        // Confirmed, they count as upcoming bookings: with a limit of 4,
        // fifty bookings at once get one more.
        for b in &granted {
            ctx.engine.confirm_hold(alice, b.id).await.unwrap();
        }
        let limit = |version, holds, upcoming| {
            settings_with_limits(&app::domain::admin::VenueSettings { version, ..s.clone() }, holds, upcoming)
        };
        let ask = app::domain::admin::StrandChoice::Ask;
        ctx.engine.change(staff, olive.id, &limit(s.version, None, Some(4)), ask).await.unwrap();
        let free: Vec<_> = slots.iter().copied().filter(|(t, at)| !granted.iter().any(|b| b.start == *at && b.resources == vec![*t])).collect();
        let results = all_at_once(alice, &free, false).await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "one more booking, up to the limit: {results:?}");
        for r in &results {
            assert!(matches!(r, Ok(_) | Err(BookingError::BookingLimit { limit: 4 })), "{r:?}");
        }
        // Another customer is not held to Alice's count, nor is staff
        // booking for her.
        let bob = ctx.customer().await;
        let taken: Vec<_> = ctx.engine.bookings_of(alice).await.unwrap().into_iter().map(|b| (b.resources[0], b.start)).collect();
        let open: Vec<_> = free.iter().copied().filter(|slot| !taken.contains(slot)).collect();
        ctx.engine.hold(&table_request(bob, olive.id, 2, specific(open[0].0), open[0].1)).await.unwrap();
        // A cancellation makes room again.
        ctx.engine.cancel(Actor::customer(alice), granted[0].id).await.unwrap();
        ctx.engine.book(&table_request(alice, olive.id, 2, specific(open[1].0), open[1].1)).await.unwrap();
        assert!(matches!(
            refused(ctx.engine.book(&table_request(alice, olive.id, 2, specific(open[2].0), open[2].1)).await),
            BookingError::BookingLimit { limit: 4 }
        ));
        let by_staff = app::backend::staff::StaffBooking {
            venue: olive.id,
            customer_email: alice_email,
            customer_name: app::domain::input::DisplayName::parse("Alice").unwrap(),
            offer: app::domain::booking::Offer::Table(app::domain::input::PartySize::parse(2).unwrap()),
            resource: specific(open[2].0),
            start: open[2].1,
            idempotency_key: table_request(alice, olive.id, 2, ResourceChoice::Any, open[2].1).idempotency_key,
        };
        ctx.engine.staff_book(staff, &by_staff).await.expect("staff are not held to a customer's limits");
        // A limit out of range is named by its field, and nothing changes.
        let now = ctx.engine.venue_setup(staff, olive.id).await.unwrap().settings;
        assert_eq!((now.max_holds_per_customer, now.max_upcoming_per_customer), (3, 4), "None keeps a limit");
        assert!(matches!(
            ctx.engine.change(staff, olive.id, &limit(now.version, Some(0), None), ask).await.unwrap_err(),
            app::domain::error::AppError::Invalid { field, .. } if field == "max_holds_per_customer"
        ));
        assert_eq!(ctx.overlaps().await, 0);
    }
    async fn two_customers_rescheduling_into_one_time_at_once_have_one_winner(ctx: Ctx) {
        let spa = ctx.spa().await;
        let head = spa.service("Head and shoulder massage");
        let anna = spa.resource("Anna");
        let engines = [ctx.engine.clone(), ctx.second_engine().await];
        for round in 0..5u32 {
            let day = 2 + round;
            let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
            let a = ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(day, 9, 0))).await.unwrap();
            let b = ctx.engine.book(&service_request(bob, spa.id, head, specific(anna), london(day, 10, 0))).await.unwrap();
            let target = london(day, 15, 0);
            let barrier = Arc::new(Barrier::new(2));
            let go = |engine: Engine, who, id, barrier: Arc<Barrier>| tokio::spawn(async move {
                barrier.wait().await;
                engine.reschedule(who, id, target, None).await
            });
            let first = go(engines[0].clone(), alice, a.id, barrier.clone());
            let second = go(engines[1].clone(), bob, b.id, barrier.clone());
            let (ra, rb) = (first.await.unwrap(), second.await.unwrap());
            let (winner, loser, loser_was) = match (&ra, &rb) {
                (Ok(w), Err(BookingError::SlotTaken { .. })) => (w.clone(), b.id, london(day, 10, 0)),
                (Err(BookingError::SlotTaken { .. }), Ok(w)) => (w.clone(), a.id, london(day, 9, 0)),
                other => panic!("round {round}: expected one winner, got {other:?}"),
            };
            assert_eq!(winner.start, target);
            let staff = ctx.staff_of(&[spa.id]).await;
            let untouched = ctx.engine.booking(Actor::staff(staff.user), loser).await.unwrap();
            assert_eq!(untouched.start, loser_was, "round {round}: the loser keeps its time");
            assert_eq!(ctx.overlaps().await, 0);
            assert_eq!(ctx.orphan_claims().await, 0);
        }
    }
}
