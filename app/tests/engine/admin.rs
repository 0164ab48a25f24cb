//! Staff operations: who may run what, versions, stranded bookings, moves
//! racing customers, audit rows and statistics.

use crate::on_both_databases;
use crate::support::*;
use app::backend::engine::Actor;
use app::backend::staff::{Change, Staff, StaffAccount, StaffBooking};
use app::domain::admin::Role;
use app::domain::admin::{DayCell, StrandChoice, WeekdayHours};
use app::domain::booking::Offer;
use app::domain::booking::{BookingError, BookingStatus, ResourceChoice};
use app::domain::error::AppError;
use app::domain::ids::ResourceId;
use app::domain::input::{DisplayName, Email};
use chrono::{NaiveDate, TimeZone, Utc};
use std::sync::Arc;
use tokio::sync::Barrier;

const HEAD: &str = "Head and shoulder massage";

/// The spa's hours on `weekday` (0 is Monday) with another closing time.
fn hours_closing_at(weekday: i64, closes: &str) -> WeekdayHours {
    WeekdayHours {
        weekday,
        opens: "09:00".into(),
        closes: closes.into(),
        break_starts: "13:00".into(),
        break_ends: "14:00".into(),
    }
}

fn closure(
    resource: Option<ResourceId>,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Change {
    Change::AddClosure {
        resource,
        starts_at: from.timestamp(),
        ends_at: to.timestamp(),
        reason: "Staff training".into(),
    }
}

async fn actions(ctx: &Ctx, staff: Staff, venue: app::domain::ids::VenueId) -> Vec<String> {
    let mut a: Vec<String> = ctx
        .engine
        .audit_trail(staff, venue, None, None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    a.reverse();
    a
}

on_both_databases! {
    async fn the_day_view_shows_the_hours_the_grid_offers_on_the_night_the_clocks_go_back(ctx: Ctx) {
        // Sunday 25 October 2026 in London: at 01:00 UTC the clocks go back
        // from 02:00 BST to 01:00 GMT, so 01:30 happens twice. A window
        // ending at 01:30 ends at the second one, in the grid and on the
        // staff day view alike (the day view used to end it at the first).
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        ctx.clock.set(Utc.with_ymd_and_hms(2026, 10, 20, 7, 0, 0).unwrap().timestamp());
        let anna = spa.resource("Anna");
        let setup = ctx.engine.venue_setup(staff, spa.id).await.unwrap();
        let version = setup.resources.iter().find(|r| r.id == anna).unwrap().version;
        let night = WeekdayHours { weekday: 6, opens: "00:00".into(), closes: "01:30".into(), ..WeekdayHours::default() };
        ctx.engine.change(staff, spa.id, &Change::Hours { resource: anna, version, days: vec![night] }, StrandChoice::Ask).await.unwrap();

        let date = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        let one_gmt = Utc.with_ymd_and_hms(2026, 10, 25, 1, 0, 0).unwrap();
        let grid = ctx.engine.availability(spa.id, date, Offer::Service(spa.service(HEAD)), specific(anna)).await.unwrap();
        assert!(
            grid.slots.iter().any(|s| s.start == one_gmt && s.free.contains(&anna)),
            "the grid offers 01:00 GMT: {:?}",
            grid.slots.iter().map(|s| s.start).collect::<Vec<_>>()
        );
        let view = ctx.engine.day_view(staff, spa.id, date).await.unwrap();
        let column = view.resources.iter().position(|(id, _)| *id == anna).unwrap();
        for row in view.rows.iter().filter(|r| r.start >= one_gmt - chrono::TimeDelta::minutes(30) && r.start < one_gmt + chrono::TimeDelta::minutes(30)) {
            assert_eq!(row.cells[column], DayCell::Free, "Anna at {} ({})", row.start, row.time);
        }
        assert!(view.rows.iter().any(|r| r.start == one_gmt), "the day view has a row at 01:00 GMT");
    }

    async fn only_staff_of_the_venue_and_admins_may_run_it(ctx: Ctx) {
        let spa = ctx.spa().await;
        let restaurant = ctx.restaurant().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let admin = ctx.admin().await;
        let customer = Staff { user: ctx.customer().await };
        let date = june(2);

        assert!(ctx.engine.day_view(staff, spa.id, date).await.is_ok());
        assert_eq!(ctx.engine.day_view(staff, restaurant.id, date).await.unwrap_err(), AppError::Forbidden);
        assert_eq!(ctx.engine.day_view(customer, spa.id, date).await.unwrap_err(), AppError::Forbidden);
        assert!(ctx.engine.day_view(admin, restaurant.id, date).await.is_ok());
        let close = closure(None, london(2, 9, 0), london(2, 18, 0));
        assert_eq!(
            ctx.engine.change(staff, restaurant.id, &close, StrandChoice::Ask).await.unwrap_err(),
            AppError::Forbidden
        );
        assert_eq!(
            ctx.engine.change(customer, spa.id, &close, StrandChoice::Ask).await.unwrap_err(),
            AppError::Forbidden
        );
        // Staff accounts and venues are the admin's.
        assert_eq!(ctx.engine.staff_members(staff).await.unwrap_err(), AppError::Forbidden);
        assert_eq!(ctx.engine.add_venue(staff, "Pop-up", "Europe/London", false).await.unwrap_err(), AppError::Forbidden);
        assert!(ctx.engine.add_venue(admin, "Pop-up", "Europe/London", false).await.is_ok());

        // Staff of the spa cannot touch the restaurant's bookings either.
        let c = ctx.customer().await;
        let booking = ctx.engine.book(&table_request(c, restaurant.id, 2, ResourceChoice::Any, london(2, 19, 0))).await.unwrap();
        assert_eq!(ctx.engine.cancel(Actor::staff(staff.user), booking.id).await.unwrap_err(), BookingError::NotFound);
        assert_eq!(ctx.engine.booking_detail(staff, booking.id).await.unwrap_err(), AppError::Forbidden);
        assert_eq!(
            ctx.engine.move_booking(staff, booking.id, london(2, 20, 0), None).await.unwrap_err(),
            AppError::Forbidden
        );
        assert_eq!(
            ctx.engine.mark(staff, booking.id, BookingStatus::NoShow).await.unwrap_err(),
            AppError::Forbidden
        );
        assert!(ctx.engine.booking_detail(admin, booking.id).await.is_ok());
    }

    async fn the_second_of_two_edits_from_the_same_version_is_refused(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let setup = ctx.engine.venue_setup(staff, spa.id).await.unwrap();
        let s = setup.settings.clone();
        let settings = |hold: i64| Change::Settings {
            version: s.version,
            name: s.name.clone(),
            grid_minutes: s.grid_minutes,
            hold_minutes: hold,
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
        };
        ctx.engine.change(staff, spa.id, &settings(15), StrandChoice::Ask).await.unwrap();
        assert!(matches!(
            ctx.engine.change(staff, spa.id, &settings(20), StrandChoice::Ask).await.unwrap_err(),
            AppError::Stale { .. }
        ));
        let now = ctx.engine.venue_setup(staff, spa.id).await.unwrap();
        assert_eq!(now.settings.hold_minutes, 15, "the first save stands");
        assert_eq!(now.settings.version, s.version + 1);

        // Resources and services too; a schedule edit bumps its resource.
        let anna = setup.resources.iter().find(|r| r.name == "Anna").unwrap().clone();
        let rename = |name: &str| Change::EditResource { id: anna.id, version: anna.version, name: name.into(), capacity: None, active: true };
        ctx.engine.change(staff, spa.id, &Change::Hours { resource: anna.id, version: anna.version, days: vec![hours_closing_at(0, "17:00")] }, StrandChoice::Ask).await.unwrap();
        assert!(matches!(ctx.engine.change(staff, spa.id, &rename("Anne"), StrandChoice::Ask).await.unwrap_err(), AppError::Stale { .. }));
        let head = setup.services.iter().find(|x| x.name == HEAD).unwrap().clone();
        let edit = |minutes: i64| Change::EditService { id: head.id, version: head.version, name: head.name.clone(), duration_minutes: minutes, cleanup_minutes: 15, needs_room: false, active: true, price_cents: None, description: String::new() };
        ctx.engine.change(staff, spa.id, &edit(45), StrandChoice::Ask).await.unwrap();
        assert!(matches!(ctx.engine.change(staff, spa.id, &edit(40), StrandChoice::Ask).await.unwrap_err(), AppError::Stale { .. }));
        // Bad input names its field and changes nothing.
        let bad = Change::Hours { resource: anna.id, version: anna.version + 1, days: vec![hours_closing_at(1, "8:61")] };
        assert!(matches!(ctx.engine.change(staff, spa.id, &bad, StrandChoice::Ask).await.unwrap_err(), AppError::Invalid { field, .. } if field == "closes-1"));
    }

    async fn a_week_of_hours_is_saved_in_one_step_and_one_bad_day_writes_none(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let anna = |setup: &app::domain::admin::VenueSetup| setup.resources.iter().find(|r| r.name == "Anna").unwrap().clone();
        let a = anna(&ctx.engine.venue_setup(staff, spa.id).await.unwrap());
        let mut week = a.week.clone();
        week[0].closes = "17:00".into();
        week[5] = WeekdayHours { weekday: 5, ..WeekdayHours::default() };
        week[6] = hours_closing_at(6, "12:00");
        week[6].break_starts = String::new();
        week[6].break_ends = String::new();
        ctx.engine.change(staff, spa.id, &Change::Hours { resource: a.id, version: a.version, days: week.clone() }, StrandChoice::Ask).await.unwrap();
        let saved = anna(&ctx.engine.venue_setup(staff, spa.id).await.unwrap());
        assert_eq!(saved.week, week, "Monday shorter, Saturday off, Sunday mornings");
        assert_eq!(saved.version, a.version + 1, "one step, one version");
        // One bad day among seven: nothing of the week changes.
        let mut bad = saved.week.clone();
        bad[2].closes = "18:30".into();
        bad[4].break_starts = "19:00".into();
        assert!(matches!(ctx.engine.change(staff, spa.id, &Change::Hours { resource: a.id, version: saved.version, days: bad }, StrandChoice::Ask).await.unwrap_err(), AppError::Invalid { field, .. } if field == "break_starts-4"));
        assert_eq!(anna(&ctx.engine.venue_setup(staff, spa.id).await.unwrap()).week, week);
        // A weekday twice is refused.
        let twice = vec![hours_closing_at(1, "17:00"), hours_closing_at(1, "16:00")];
        assert!(matches!(ctx.engine.change(staff, spa.id, &Change::Hours { resource: a.id, version: saved.version, days: twice }, StrandChoice::Ask).await.unwrap_err(), AppError::Invalid { field, .. } if field == "weekday"));
    }

    async fn several_treatments_are_saved_in_one_step_and_one_bad_row_writes_none(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let services = ctx.engine.venue_setup(staff, spa.id).await.unwrap().services;
        let edit_of = |s: &app::domain::admin::ServiceSetup, duration: i64, price: Option<i64>| {
            Change::EditService { id: s.id, version: s.version, name: s.name.clone(), duration_minutes: duration, cleanup_minutes: s.cleanup_minutes, needs_room: s.needs_room, active: s.active, price_cents: price, description: s.description.clone() }
        };
        let edit = |i: usize, duration: i64, price: Option<i64>| edit_of(&services[i], duration, price);
        let audited = actions(&ctx, staff, spa.id).await.len();
        // The second row is too short: neither is written, the row is named.
        let bad = [edit(0, services[0].duration_minutes, Some(9900)), edit(1, 2, services[1].price_cents)];
        let e = ctx.engine.change_many(staff, spa.id, Some("services"), &bad, StrandChoice::Ask).await.unwrap_err();
        assert!(matches!(&e, AppError::Invalid { field, .. } if field == "services[1][duration_minutes]"), "{e:?}");
        assert_eq!(ctx.engine.venue_setup(staff, spa.id).await.unwrap().services, services, "nothing written");
        assert_eq!(actions(&ctx, staff, spa.id).await.len(), audited);
        // Both right: both written, each with its audit row and its version.
        let good = [edit(0, services[0].duration_minutes, Some(9900)), edit(2, 75, services[2].price_cents)];
        ctx.engine.change_many(staff, spa.id, Some("services"), &good, StrandChoice::Ask).await.unwrap();
        let after = ctx.engine.venue_setup(staff, spa.id).await.unwrap().services;
        assert_eq!((after[0].price_cents, after[0].version), (Some(9900), services[0].version + 1));
        assert_eq!(after[1], services[1], "the row left out is untouched");
        assert_eq!((after[2].duration_minutes, after[2].version), (75, services[2].version + 1));
        let trail = actions(&ctx, staff, spa.id).await;
        assert_eq!(&trail[audited..], ["service.edit", "service.edit"]);
        // The second of them stale: the first is not written either.
        let stale = [edit_of(&after[2], 90, None), edit(0, 45, Some(100))];
        assert!(matches!(ctx.engine.change_many(staff, spa.id, Some("services"), &stale, StrandChoice::Ask).await.unwrap_err(), AppError::Stale { .. }));
        assert_eq!(ctx.engine.venue_setup(staff, spa.id).await.unwrap().services, after);
    }

    async fn a_closure_over_bookings_asks_then_keeps_or_cancels_them(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let anna = spa.resource("Anna");
        let a = ctx.engine.book(&service_request(alice, spa.id, spa.service(HEAD), specific(anna), london(2, 10, 0))).await.unwrap();
        let b = ctx.engine.book(&service_request(bob, spa.id, spa.service(HEAD), specific(anna), london(3, 10, 0))).await.unwrap();

        // Ask: refused, the booking listed, nothing written.
        let close = closure(Some(anna), london(2, 9, 0), london(2, 12, 0));
        match ctx.engine.change(staff, spa.id, &close, StrandChoice::Ask).await.unwrap_err() {
            AppError::Strands { bookings, .. } => {
                assert_eq!(bookings.iter().map(|s| s.id).collect::<Vec<_>>(), vec![a.id]);
                assert!(bookings[0].summary.contains("Anna"), "{:?}", bookings[0]);
            }
            other => panic!("expected the stranded bookings, got {other:?}"),
        }
        assert!(ctx.engine.venue_setup(staff, spa.id).await.unwrap().closures.is_empty());

        // Keep: the closure is made and the booking stays.
        ctx.engine.change(staff, spa.id, &close, StrandChoice::Keep).await.unwrap();
        assert_eq!(ctx.engine.venue_setup(staff, spa.id).await.unwrap().closures.len(), 1);
        assert_eq!(ctx.engine.booking(Actor::customer(alice), a.id).await.unwrap().status, BookingStatus::Confirmed);
        // Nobody else can book into the closure.
        let c = ctx.customer().await;
        assert!(ctx.engine.book(&service_request(c, spa.id, spa.service(HEAD), specific(anna), london(2, 11, 0))).await.is_err());

        // Cancel: the booking is cancelled by the venue and its time freed.
        let close_day = closure(None, london(3, 0, 0), london(4, 0, 0));
        ctx.engine.change(staff, spa.id, &close_day, StrandChoice::Cancel).await.unwrap();
        let cancelled = ctx.engine.booking(Actor::customer(bob), b.id).await.unwrap();
        assert_eq!(cancelled.status, BookingStatus::Cancelled);
        assert_eq!(cancelled.cancelled_by.as_deref(), Some("venue"));
        assert_eq!(ctx.orphan_claims().await, 0);
        assert_eq!(
            actions(&ctx, staff, spa.id).await.iter().filter(|a| !a.starts_with("staff.")).cloned().collect::<Vec<_>>(),
            vec!["closure.add", "booking.cancel", "closure.add"]
        );

        // Removing a closure opens the time again.
        let id = ctx.engine.venue_setup(staff, spa.id).await.unwrap().closures[0].id;
        ctx.engine.change(staff, spa.id, &Change::RemoveClosure { id }, StrandChoice::Ask).await.unwrap();
        assert!(ctx.engine.book(&service_request(c, spa.id, spa.service(HEAD), specific(anna), london(2, 11, 0))).await.is_ok());
    }

    async fn shorter_hours_deactivation_and_dropped_services_strand_bookings(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let c = ctx.customer().await;
        let anna = spa.resource("Anna");
        // Tuesday 2 June 2026 is weekday 1.
        let late = ctx.engine.book(&service_request(c, spa.id, spa.service(HEAD), specific(anna), london(2, 17, 0))).await.unwrap();
        let setup = ctx.engine.venue_setup(staff, spa.id).await.unwrap();
        let a = setup.resources.iter().find(|r| r.id == anna).unwrap().clone();

        let shorter = Change::Hours { resource: anna, version: a.version, days: vec![hours_closing_at(1, "17:00")] };
        assert!(matches!(ctx.engine.change(staff, spa.id, &shorter, StrandChoice::Ask).await.unwrap_err(),
            AppError::Strands { bookings, .. } if bookings.len() == 1 && bookings[0].id == late.id));
        let off = Change::EditResource { id: anna, version: a.version, name: "Anna".into(), capacity: None, active: false };
        assert!(matches!(ctx.engine.change(staff, spa.id, &off, StrandChoice::Ask).await.unwrap_err(), AppError::Strands { .. }));
        let drop = Change::Offer { resource: anna, version: a.version, service: spa.service(HEAD), offered: false };
        assert!(matches!(ctx.engine.change(staff, spa.id, &drop, StrandChoice::Ask).await.unwrap_err(), AppError::Strands { .. }));
        // Hours that still cover it need no choice.
        let fine = Change::Hours { resource: anna, version: a.version, days: vec![hours_closing_at(1, "17:45")] };
        ctx.engine.change(staff, spa.id, &fine, StrandChoice::Ask).await.unwrap();
        assert_eq!(ctx.engine.booking(Actor::customer(c), late.id).await.unwrap().status, BookingStatus::Confirmed);
    }

    async fn a_move_replaces_the_claims_in_one_step(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let (anna, ben) = (spa.resource("Anna"), spa.resource("Ben"));
        let a = ctx.engine.book(&service_request(alice, spa.id, spa.service(HEAD), specific(anna), london(2, 10, 0))).await.unwrap();
        // Within its own time (10:00 → 10:15) and to another therapist.
        let moved = ctx.engine.move_booking(staff, a.id, london(2, 10, 15), None).await.unwrap();
        assert_eq!((moved.start, moved.resources.clone()), (london(2, 10, 15), vec![anna]));
        let moved = ctx.engine.move_booking(staff, a.id, london(2, 15, 0), Some(ben)).await.unwrap();
        assert_eq!((moved.start, moved.resources.clone()), (london(2, 15, 0), vec![ben]));
        assert_eq!(ctx.half_made_bookings().await, 0);
        // The old time is free at once; the new one is taken.
        ctx.engine.book(&service_request(bob, spa.id, spa.service(HEAD), specific(anna), london(2, 10, 0))).await.unwrap();
        assert!(matches!(
            refused(ctx.engine.book(&service_request(bob, spa.id, spa.service(HEAD), specific(ben), london(2, 15, 0))).await),
            BookingError::SlotTaken { .. }
        ));
        // Onto a taken time: refused with alternatives, nothing changed.
        match ctx.engine.move_booking(staff, a.id, london(2, 10, 0), Some(anna)).await.unwrap_err() {
            AppError::SlotTaken { alternatives } => assert!(!alternatives.is_empty()),
            other => panic!("expected slot taken, got {other:?}"),
        }
        let still = ctx.engine.booking(Actor::customer(alice), a.id).await.unwrap();
        assert_eq!((still.start, still.resources), (london(2, 15, 0), vec![ben]));
        let detail = ctx.engine.booking_detail(staff, a.id).await.unwrap();
        assert_eq!(detail.history.iter().map(|h| h.action.as_str()).collect::<Vec<_>>(), vec!["booking.move", "booking.move"]);
        assert_eq!(ctx.overlaps().await, 0);
        assert_eq!(ctx.orphan_claims().await, 0);
    }

    async fn a_staff_move_racing_a_customer_for_the_target_slot_has_one_winner(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let other = ctx.second_engine().await;
        let anna = spa.resource("Anna");
        let (mut moves, mut books) = (0, 0);
        for round in 0..5u32 {
            // Tuesday to Saturday: the spa is closed on Sundays.
            let day = 2 + round;
            let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
            let a = ctx.engine.book(&service_request(alice, spa.id, spa.service(HEAD), specific(anna), london(day, 10, 0))).await.unwrap();
            let target = london(day, 11, 0);
            let barrier = Arc::new(Barrier::new(2));
            let (engine, b1) = (ctx.engine.clone(), barrier.clone());
            let mover = tokio::spawn(async move {
                b1.wait().await;
                engine.move_booking(staff, a.id, target, Some(anna)).await
            });
            let req = service_request(bob, spa.id, spa.service(HEAD), specific(anna), target);
            let (engine, b2) = (other.clone(), barrier.clone());
            let booker = tokio::spawn(async move {
                b2.wait().await;
                engine.book(&req).await
            });
            let (moved, booked) = (mover.await.unwrap(), booker.await.unwrap());
            match (&moved, &booked) {
                (Ok(m), Err(BookingError::SlotTaken { .. })) => {
                    assert_eq!(m.start, target);
                    moves += 1;
                }
                (Err(AppError::SlotTaken { .. }), Ok(b)) => {
                    assert_eq!(b.start, target);
                    let still = ctx.engine.booking(Actor::customer(alice), a.id).await.unwrap();
                    assert_eq!(still.start, london(day, 10, 0), "a lost move leaves the booking where it was");
                    books += 1;
                }
                other => panic!("round {round}: expected exactly one winner, got {other:?}"),
            }
            assert_eq!(ctx.overlaps().await, 0);
            assert_eq!(ctx.orphan_claims().await, 0);
            assert_eq!(ctx.half_made_bookings().await, 0);
        }
        assert_eq!(moves + books, 5);
    }

    async fn staff_book_walk_ins_mark_outcomes_and_every_step_is_audited(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        // 07:00 UTC on Monday is 08:00 in London; the spa opens at 09:00.
        ctx.clock.set(london(1, 9, 20).timestamp());
        let walk_in = StaffBooking {
            venue: spa.id,
            customer_email: Email::parse("walk.in@example.com").unwrap(),
            customer_name: DisplayName::parse("Walk In").unwrap(),
            offer: app::domain::booking::Offer::Service(spa.service(HEAD)),
            resource: ResourceChoice::Any,
            // Inside the customers' minimum notice of an hour.
            start: london(1, 9, 15),
            idempotency_key: key(),
        };
        let b = ctx.engine.staff_book(staff, &walk_in).await.unwrap();
        assert_eq!(b.status, BookingStatus::Confirmed);
        // The same form sent twice makes one booking.
        assert_eq!(ctx.engine.staff_book(staff, &walk_in).await.unwrap().id, b.id);
        // Not in the past.
        let past = StaffBooking { start: london(1, 9, 0), idempotency_key: key(), ..walk_in.clone() };
        assert!(ctx.engine.staff_book(staff, &past).await.is_err());

        ctx.clock.set(london(1, 9, 50).timestamp());
        assert_eq!(ctx.engine.mark(staff, b.id, BookingStatus::Completed).await.unwrap().status, BookingStatus::Completed);
        assert!(matches!(ctx.engine.mark(staff, b.id, BookingStatus::NoShow).await.unwrap_err(), AppError::Refused { .. }));

        let c = ctx.customer().await;
        let later = ctx.engine.book(&service_request(c, spa.id, spa.service(HEAD), ResourceChoice::Any, london(1, 11, 0))).await.unwrap();
        assert!(matches!(ctx.engine.mark(staff, later.id, BookingStatus::NoShow).await.unwrap_err(), AppError::Refused { .. }), "not before it starts");
        ctx.clock.set(london(1, 11, 5).timestamp());
        ctx.engine.mark(staff, later.id, BookingStatus::NoShow).await.unwrap();
        let cancelled = ctx.engine.book(&service_request(c, spa.id, spa.service(HEAD), ResourceChoice::Any, london(1, 14, 0))).await.unwrap();
        ctx.engine.cancel(Actor::staff(staff.user), cancelled.id).await.unwrap();
        ctx.engine.move_booking(staff, later.id, london(1, 15, 0), None).await.unwrap_err();

        let setup = ctx.engine.venue_setup(staff, spa.id).await.unwrap();
        let anna = setup.resources.iter().find(|r| r.name == "Anna").unwrap();
        let s = &setup.settings;
        for change in [
            Change::AddResource { kind: app::domain::venue::ResourceKind::Therapist, name: "Dana".into(), capacity: None },
            Change::EditResource { id: anna.id, version: anna.version, name: "Anna B".into(), capacity: None, active: true },
            Change::AddService { name: "Facial".into(), duration_minutes: 45, cleanup_minutes: 15, needs_room: true, price_cents: None, description: String::new() },
            Change::Settings { version: s.version, name: s.name.clone(), grid_minutes: 15, hold_minutes: 5, cancellation_window_minutes: 60, min_notice_minutes: 30, advance_days: 30, seating_minutes: None, max_holds_per_customer: None, max_upcoming_per_customer: None, currency: None, address: None, reminder_minutes: None, offer_minutes: None },
            closure(Some(anna.id), london(5, 9, 0), london(5, 10, 0)),
        ] {
            ctx.engine.change(staff, spa.id, &change, StrandChoice::Ask).await.unwrap();
        }
        assert_eq!(
            actions(&ctx, staff, spa.id).await.into_iter().filter(|a| !a.starts_with("staff.")).collect::<Vec<_>>(),
            vec!["booking.create", "booking.complete", "booking.no_show", "booking.cancel", "resource.add", "resource.edit", "service.add", "venue.settings", "closure.add"]
        );
        // Filtered by resource: Anna's rename and closure, and her bookings.
        let annas = ctx.engine.audit_trail(staff, spa.id, None, Some(anna.id)).await.unwrap();
        assert!(annas.iter().all(|e| e.resource == Some(anna.id) || e.booking.is_some()), "{annas:?}");
        assert!(annas.iter().any(|e| e.action == "resource.edit" && e.before.as_deref().unwrap_or("").contains("\"Anna\"")));
        // Filtered by day: nothing was changed on 2 June.
        assert!(ctx.engine.audit_trail(staff, spa.id, Some(june(2)), None).await.unwrap().is_empty());
        assert!(!ctx.engine.audit_trail(staff, spa.id, Some(june(1)), None).await.unwrap().is_empty());
    }

    async fn statistics_count_bookings_conflicts_and_holds_per_venue_and_hour(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let anna = specific(spa.resource("Anna"));
        let hold = ctx.engine.hold(&service_request(alice, spa.id, spa.service(HEAD), anna, london(2, 10, 0))).await.unwrap();
        ctx.engine.confirm_hold(alice, hold.id).await.unwrap();
        for _ in 0..3 {
            assert!(ctx.engine.book(&service_request(bob, spa.id, spa.service(HEAD), anna, london(2, 10, 0))).await.is_err());
        }
        ctx.engine.book(&service_request(bob, spa.id, spa.service(HEAD), anna, london(2, 11, 0))).await.unwrap();
        ctx.engine.hold(&service_request(bob, spa.id, spa.service(HEAD), anna, london(2, 12, 0))).await.unwrap();
        ctx.clock.set(ctx.clock.now() + 11 * 60);
        assert_eq!(ctx.engine.expire_due_holds().await.unwrap(), 1);

        let stats = ctx.engine.stats(staff).await.unwrap();
        assert_eq!(stats.hours.len(), 1, "{stats:?}");
        let h = &stats.hours[0];
        assert_eq!((h.booked, h.conflicts, h.holds_placed, h.holds_confirmed, h.holds_expired), (1, 3, 2, 1, 1), "{h:?}");
        assert_eq!(stats.totals[0].conflicts, 3);
        // A staff member of another venue sees none of it.
        let restaurant = ctx.restaurant().await;
        let other = ctx.staff_of(&[restaurant.id]).await;
        assert!(ctx.engine.stats(other).await.unwrap().hours.is_empty());
    }

    async fn a_coarser_grid_reclaims_upcoming_bookings_or_is_refused(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let c = ctx.customer().await;
        let anna = specific(spa.resource("Anna"));
        // 30 minutes and 15 of cleanup: occupies 10:00-10:45.
        let a = ctx.engine.book(&service_request(c, spa.id, spa.service(HEAD), anna, london(2, 10, 0))).await.unwrap();
        let s = ctx.engine.venue_setup(staff, spa.id).await.unwrap().settings;
        let to_grid = |version, minutes| Change::Settings { version, name: s.name.clone(), grid_minutes: minutes, hold_minutes: s.hold_minutes, cancellation_window_minutes: s.cancellation_window_minutes, min_notice_minutes: s.min_notice_minutes, advance_days: s.advance_days, seating_minutes: None, max_holds_per_customer: None, max_upcoming_per_customer: None, currency: None, address: None, reminder_minutes: None, offer_minutes: None };
        ctx.engine.change(staff, spa.id, &to_grid(s.version, 30), StrandChoice::Ask).await.unwrap();
        let now = ctx.engine.booking(Actor::customer(c), a.id).await.unwrap();
        assert_eq!(now.occupied_until, london(2, 11, 0), "its buffer now ends on the 30-minute grid");
        assert!(matches!(
            refused(ctx.engine.book(&service_request(c, spa.id, spa.service(HEAD), anna, london(2, 10, 30))).await),
            BookingError::SlotTaken { .. }
        ));
        assert_eq!(ctx.overlaps().await, 0);
        assert_eq!(ctx.orphan_claims().await, 0);
        // Back to 15 minutes, book at 10:15 elsewhere, and 30 is refused.
        ctx.engine.change(staff, spa.id, &to_grid(s.version + 1, 15), StrandChoice::Ask).await.unwrap();
        ctx.engine.book(&service_request(c, spa.id, spa.service(HEAD), specific(spa.resource("Ben")), london(2, 10, 15))).await.unwrap();
        assert!(matches!(
            ctx.engine.change(staff, spa.id, &to_grid(s.version + 2, 30), StrandChoice::Ask).await.unwrap_err(),
            AppError::Invalid { field, .. } if field == "grid_minutes"
        ));
    }
    async fn two_admins_giving_one_person_venues_at_once_both_land(ctx: Ctx) {
        let (spa, restaurant) = (ctx.spa().await, ctx.restaurant().await);
        let (ada, bea) = (ctx.admin().await, ctx.admin().await);
        let other = ctx.second_engine().await;
        let runs = |staff: Staff| {
            let engine = ctx.engine.clone();
            async move {
                let mut ids: Vec<_> = engine.venues_run_by(staff).await.unwrap().into_iter().map(|v| v.id).collect();
                ids.sort();
                ids
            }
        };
        let mut both = vec![spa.id, restaurant.id];
        both.sort();
        for round in 0..5u32 {
            let (person, email) = ctx.user_with_role(Role::Customer).await;
            let person = Staff { user: person };
            // Each admin adds one venue; read-modify-write of the whole
            // list would keep only the later one.
            let barrier = Arc::new(Barrier::new(2));
            let give = |engine: app::backend::engine::Engine, admin: Staff, venue, b: Arc<Barrier>| {
                let email = email.clone();
                tokio::spawn(async move {
                    b.wait().await;
                    let change = StaffAccount { role: Role::Staff, add: vec![venue], remove: vec![] };
                    engine.set_staff(admin, &email, &change).await
                })
            };
            let first = give(ctx.engine.clone(), ada, spa.id, barrier.clone());
            let second = give(other.clone(), bea, restaurant.id, barrier.clone());
            first.await.unwrap().unwrap();
            second.await.unwrap().unwrap();
            assert_eq!(runs(person).await, both, "round {round}: both venues are run");
            // Taking one away leaves the other, and a customer again runs none.
            ctx.engine.set_staff(bea, &email, &StaffAccount { role: Role::Staff, add: vec![], remove: vec![spa.id] }).await.unwrap();
            assert_eq!(runs(person).await, vec![restaurant.id]);
            ctx.engine.set_staff(ada, &email, &StaffAccount { role: Role::Customer, add: vec![], remove: vec![] }).await.unwrap();
            assert!(runs(person).await.is_empty());
        }
        // A venue that does not exist is named as the field at fault.
        let (_, email) = ctx.user_with_role(Role::Customer).await;
        let nowhere = app::domain::ids::VenueId(i64::MAX);
        assert!(matches!(
            ctx.engine.set_staff(ada, &email, &StaffAccount { role: Role::Staff, add: vec![nowhere], remove: vec![] }).await.unwrap_err(),
            AppError::Invalid { field, .. } if field == "venue"
        ));
    }
}
