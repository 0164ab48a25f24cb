use crate::on_both_databases;
use crate::support::*;
use app::backend::catalog;
use app::backend::engine::Actor;
use app::domain::booking::{
    AlternativeKind, BookingError, BookingStatus, Offer, ResourceChoice, RuleViolation,
};
use app::domain::ids::{ResourceId, ServiceId, VenueId};

const HEAD: &str = "Head and shoulder massage";
const FULL: &str = "Full body massage";
const STONE: &str = "Hot stone therapy";

fn rule(e: BookingError) -> RuleViolation {
    match e {
        BookingError::Rejected(v) => v,
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

on_both_databases! {
    async fn a_customer_reschedules_a_booking_within_the_venues_rules(ctx: Ctx) {
        let spa = ctx.spa().await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let head = spa.service("Head and shoulder massage");
        let (anna, ben) = (spa.resource("Anna"), spa.resource("Ben"));
        let a = ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(2, 10, 0))).await.unwrap();
        let moved = ctx.engine.reschedule(alice, a.id, london(2, 11, 0), None).await.unwrap();
        assert_eq!((moved.id, moved.start, moved.resources.clone()), (a.id, london(2, 11, 0), vec![anna]), "the same booking, its therapist kept");
        // The old time is free again, the new one taken.
        ctx.engine.book(&service_request(bob, spa.id, head, specific(anna), london(2, 10, 0))).await.unwrap();
        assert!(matches!(refused(ctx.engine.book(&service_request(bob, spa.id, head, specific(anna), london(2, 11, 0))).await), BookingError::SlotTaken { .. }));
        // Refusals change nothing.
        assert_eq!(ctx.engine.reschedule(alice, a.id, london(2, 11, 0), None).await.unwrap_err(), BookingError::SameTime);
        let taken = ctx.engine.reschedule(alice, a.id, london(2, 10, 0), None).await.unwrap_err();
        assert!(matches!(&taken, BookingError::SlotTaken { alternatives } if !alternatives.is_empty()), "{taken:?}");
        assert_eq!(ctx.engine.reschedule(bob, a.id, london(3, 10, 0), None).await.unwrap_err(), BookingError::NotFound, "not Bob's");
        assert_eq!(rule(ctx.engine.reschedule(alice, a.id, london(2, 11, 5), None).await.unwrap_err()), RuleViolation::OffGrid { grid_minutes: 15 });
        assert_eq!(rule(ctx.engine.reschedule(alice, a.id, london(7, 10, 0), None).await.unwrap_err()), RuleViolation::OutsideHours, "Sunday");
        assert!(matches!(rule(ctx.engine.reschedule(alice, a.id, london(1, 8, 30), None).await.unwrap_err()), RuleViolation::TooSoon { .. }));
        assert_eq!(ctx.engine.booking(Actor::customer(alice), a.id).await.unwrap().start, london(2, 11, 0));
        // Another therapist at the same time.
        let to_ben = ctx.engine.reschedule(alice, a.id, london(2, 11, 0), Some(ben)).await.unwrap();
        assert_eq!(to_ben.resources, vec![ben]);
        // A hold is not moved; a cancelled booking is not either.
        let hold = ctx.engine.hold(&service_request(alice, spa.id, head, specific(anna), london(3, 10, 0))).await.unwrap();
        assert_eq!(ctx.engine.reschedule(alice, hold.id, london(3, 11, 0), None).await.unwrap_err(), BookingError::HoldNotMovable);
        let c = ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(4, 10, 0))).await.unwrap();
        ctx.engine.cancel(Actor::customer(alice), c.id).await.unwrap();
        assert!(matches!(ctx.engine.reschedule(alice, c.id, london(4, 11, 0), None).await.unwrap_err(), BookingError::NotChangeable { .. }));
        // Inside the cancellation window (24 hours before 11:00 on the 2nd).
        ctx.clock.set(london(1, 11, 30).timestamp());
        assert!(matches!(ctx.engine.reschedule(alice, a.id, london(3, 14, 0), None).await.unwrap_err(), BookingError::CancellationClosed { .. }));
        let e: app::domain::error::AppError = BookingError::SameTime.into();
        assert_eq!(e.status(), 400);
        assert_eq!(ctx.overlaps().await, 0);
        assert_eq!(ctx.orphan_claims().await, 0);
    }

    async fn the_times_a_booking_may_move_to_read_its_own_time_as_free(ctx: Ctx) {
        let spa = ctx.spa().await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let (anna, head) = (spa.resource("Anna"), spa.service(HEAD));
        let a = ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(2, 10, 0))).await.unwrap();
        ctx.engine.book(&service_request(bob, spa.id, head, specific(anna), london(2, 11, 0))).await.unwrap();
        let grid = ctx.engine.move_times(alice, a.id, june(2), specific(anna)).await.unwrap();
        let at = |time: &str| grid.slots.iter().find(|s| s.time == time).map(|s| s.free.clone());
        assert_eq!(at("10:00"), Some(vec![anna]), "its own time");
        assert_eq!(at("10:15"), Some(vec![anna]), "overlapping only its own time");
        assert_eq!(at("10:30"), Some(vec![]), "would run into Bob's booking");
        assert_eq!(at("11:00"), Some(vec![]), "Bob's");
        assert_eq!(at("11:45"), Some(vec![anna]));
        // The calendar counts the day as the grid reads it: its own time free.
        let offer = Offer::Service(head);
        let own = ctx.engine.day_counts(spa.id, (june(2), june(2)), offer, specific(anna), false, Some(a.id)).await.unwrap();
        let others = ctx.engine.day_counts(spa.id, (june(2), june(2)), offer, specific(anna), false, None).await.unwrap();
        assert_eq!(own[0].free, grid.slots.iter().filter(|s| !s.free.is_empty()).count());
        assert!(own[0].free > others[0].free, "{own:?} against {others:?}");
        // What the grid offers, the move does; for everyone else the time is taken.
        let moved = ctx.engine.reschedule(alice, a.id, london(2, 10, 15), None).await.unwrap();
        assert_eq!(moved.start, london(2, 10, 15));
        let everyone = ctx.engine.availability(spa.id, june(2), Offer::Service(head), specific(anna)).await.unwrap();
        assert_eq!(everyone.slots.iter().find(|s| s.time == "10:15").map(|s| s.free.clone()), Some(vec![]));
        // Any therapist: Ben is free at 11:00, Anna is not.
        let any = ctx.engine.move_times(alice, a.id, june(2), ResourceChoice::Any).await.unwrap();
        assert_eq!(any.slots.iter().find(|s| s.time == "11:00").map(|s| s.free.clone()), Some(vec![spa.resource("Ben")]));
        // Someone else's booking is not there to move.
        assert_eq!(ctx.engine.move_times(bob, a.id, june(2), specific(anna)).await.unwrap_err(), BookingError::NotFound);
    }

    async fn a_booking_keeps_the_price_it_was_made_at_and_what_the_customer_told_the_venue(ctx: Ctx) {
        use app::backend::staff::Change;
        use app::domain::admin::StrandChoice;
        use app::domain::booking::ContactDetails;
        let spa = ctx.spa().await;
        let c = ctx.customer().await;
        let (anna, head) = (spa.resource("Anna"), spa.service(HEAD));
        let hold = ctx.engine.hold(&service_request(c, spa.id, head, specific(anna), london(2, 10, 0))).await.unwrap();
        assert_eq!((hold.price_cents, hold.currency.as_deref()), (Some(4500), Some("GBP")), "the demo spa's price");
        // The venue raises the price: the hold keeps its own, new bookings pay the new one.
        let staff = ctx.staff_of(&[spa.id]).await;
        let setup = ctx.engine.venue_setup(staff, spa.id).await.unwrap();
        let s = setup.services.iter().find(|x| x.name == HEAD).unwrap().clone();
        assert_eq!(s.price_cents, Some(4500));
        let raise = Change::EditService { id: s.id, version: s.version, name: s.name.clone(), duration_minutes: s.duration_minutes, cleanup_minutes: s.cleanup_minutes, needs_room: s.needs_room, active: true, price_cents: Some(5000), description: s.description.clone() };
        ctx.engine.change(staff, spa.id, &raise, StrandChoice::Ask).await.unwrap();
        let details = ContactDetails::parse(Some(" Nut allergy "), Some("+44 20 7946 0000")).unwrap();
        let confirmed = ctx.engine.confirm_hold_with(c, hold.id, &details).await.unwrap();
        assert_eq!(confirmed.price_cents, Some(4500));
        assert_eq!((confirmed.note.as_deref(), confirmed.phone.as_deref()), (Some("Nut allergy"), Some("+44 20 7946 0000")));
        let read = ctx.engine.booking(Actor::customer(c), hold.id).await.unwrap();
        assert_eq!((read.price_cents, read.note), (Some(4500), Some("Nut allergy".to_owned())));
        let later = ctx.engine.book(&service_request(c, spa.id, head, specific(anna), london(3, 10, 0))).await.unwrap();
        assert_eq!(later.price_cents, Some(5000));
        // A table has no price; neither has a treatment the venue shows none for.
        let clear = Change::EditService { id: s.id, version: s.version + 1, name: s.name.clone(), duration_minutes: s.duration_minutes, cleanup_minutes: s.cleanup_minutes, needs_room: s.needs_room, active: true, price_cents: None, description: s.description.clone() };
        ctx.engine.change(staff, spa.id, &clear, StrandChoice::Ask).await.unwrap();
        let free = ctx.engine.book(&service_request(c, spa.id, head, specific(anna), london(4, 10, 0))).await.unwrap();
        assert_eq!((free.price_cents, free.currency), (None, None));
        // A second confirm (a double click) answers with the booking as it is.
        let again = ctx.engine.confirm_hold_with(c, hold.id, &ContactDetails::default()).await.unwrap();
        assert_eq!(again.note.as_deref(), Some("Nut allergy"));
    }

    async fn a_hold_claims_the_slot_until_confirmed_and_confirming_keeps_it(ctx: Ctx) {
        let spa = ctx.spa().await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let anna = specific(spa.resource("Anna"));
        let at = london(2, 10, 0);

        let hold = ctx.engine.hold(&service_request(alice, spa.id, spa.service(HEAD), anna, at)).await.unwrap();
        assert_eq!(hold.status, BookingStatus::Held);
        assert_eq!(hold.resources, vec![spa.resource("Anna")]);
        let expires = hold.hold_expires_at.unwrap().timestamp();
        assert_eq!(expires, ctx.clock.now() + 10 * 60, "the spa holds for 10 minutes");
        assert_eq!(hold.end, london(2, 10, 30));
        assert_eq!(hold.occupied_until, london(2, 10, 45), "30 minutes plus 15 of cleanup");

        let taken = refused(ctx.engine.hold(&service_request(bob, spa.id, spa.service(HEAD), anna, at)).await);
        assert!(matches!(&taken, BookingError::SlotTaken { alternatives } if !alternatives.is_empty()), "{taken:?}");
        // Refused by the read-only look, without taking the write lock.
        assert_eq!(ctx.engine.counters().fast_refusals.load(std::sync::atomic::Ordering::Relaxed), 1);

        let booked = ctx.engine.confirm_hold(alice, hold.id).await.unwrap();
        assert_eq!(booked.status, BookingStatus::Confirmed);
        assert_eq!(booked.hold_expires_at, None);
        assert!(matches!(
            refused(ctx.engine.book(&service_request(bob, spa.id, spa.service(HEAD), anna, at)).await),
            BookingError::SlotTaken { .. }
        ));
        // Confirming twice answers with the booking.
        assert_eq!(ctx.engine.confirm_hold(alice, hold.id).await.unwrap().status, BookingStatus::Confirmed);
        assert_eq!(ctx.overlaps().await, 0);
        assert_eq!(ctx.orphan_claims().await, 0);
    }

    async fn a_slot_remembered_as_taken_frees_at_once_and_still_answers_its_owner(ctx: Ctx) {
        use std::sync::atomic::Ordering::Relaxed;
        let spa = ctx.spa().await;
        let [alice, bob, cleo] = ctx.customers(3).await[..] else { unreachable!() };
        let anna = specific(spa.resource("Anna"));
        let head = spa.service(HEAD);
        let at = london(2, 10, 0);
        let other = ctx.second_engine().await;
        let remembered = |e: &app::backend::engine::Engine| e.counters().remembered_refusals.load(Relaxed);
        let taken = |r: Result<_, BookingError>| matches!(refused(r), BookingError::SlotTaken { .. });

        // The instance that placed Alice's hold knows the slot is taken.
        let alice_req = service_request(alice, spa.id, head, anna, at);
        let hold = ctx.engine.hold(&alice_req).await.unwrap();
        assert!(taken(ctx.engine.hold(&service_request(bob, spa.id, head, anna, at)).await));
        assert_eq!(remembered(&ctx.engine), 1, "answered without a read");
        // Another instance reads it once, then remembers.
        assert!(taken(other.hold(&service_request(bob, spa.id, head, anna, at)).await));
        assert_eq!(remembered(&other), 0);
        assert!(taken(other.hold(&service_request(cleo, spa.id, head, anna, at)).await));
        assert_eq!(remembered(&other), 1);
        // Alice repeating her request gets her hold, not "taken", on both.
        assert_eq!(ctx.engine.hold(&alice_req).await.unwrap().id, hold.id);
        assert_eq!(other.hold(&alice_req).await.unwrap().id, hold.id);

        // Once her hold has lapsed, the slot is free, remembered or not.
        ctx.clock.set(hold.hold_expires_at.unwrap().timestamp());
        let bob_hold = other.hold(&service_request(bob, spa.id, head, anna, at)).await.unwrap();
        assert!(taken(other.hold(&service_request(cleo, spa.id, head, anna, at)).await));
        let before = remembered(&other);
        assert_eq!(before, 2);

        // A release on the instance frees it there at once.
        other.release_hold(Actor::customer(bob), bob_hold.id).await.unwrap();
        other.hold(&service_request(cleo, spa.id, head, anna, at)).await.unwrap();
        assert_eq!(remembered(&other), before);
        assert_eq!(ctx.overlaps().await, 0);
        assert_eq!(ctx.orphan_claims().await, 0);
    }

    async fn the_cleanup_buffer_is_claimed_and_the_unit_after_it_is_free(ctx: Ctx) {
        let spa = ctx.spa().await;
        let c = ctx.customer().await;
        let anna = specific(spa.resource("Anna"));
        let head = spa.service(HEAD);
        ctx.engine.book(&service_request(c, spa.id, head, anna, london(2, 10, 0))).await.unwrap();
        // 10:30 is inside the cleanup buffer; 09:30 would run into the booking.
        for at in [london(2, 10, 30), london(2, 9, 30), london(2, 10, 15)] {
            assert!(matches!(
                refused(ctx.engine.book(&service_request(c, spa.id, head, anna, at)).await),
                BookingError::SlotTaken { .. }
            ), "{at} should be taken");
        }
        // A 60-minute treatment starting at 09:00 would end at 10:00 but
        // its cleanup runs to 10:15.
        assert!(matches!(
            refused(ctx.engine.book(&service_request(c, spa.id, spa.service(FULL), anna, london(2, 9, 0))).await),
            BookingError::SlotTaken { .. }
        ));
        ctx.engine.book(&service_request(c, spa.id, head, anna, london(2, 10, 45))).await.unwrap();
        ctx.engine.book(&service_request(c, spa.id, head, anna, london(2, 9, 15))).await.unwrap();
        assert_eq!(ctx.overlaps().await, 0);
        assert_eq!(ctx.orphan_claims().await, 0);
    }

    async fn a_treatment_that_needs_a_room_claims_a_free_room_in_the_same_booking(ctx: Ctx) {
        let spa = ctx.spa().await;
        let c = ctx.customer().await;
        let at = london(2, 10, 0);
        let rooms = [spa.resource("Treatment room 1"), spa.resource("Treatment room 2")];
        let mut used = Vec::new();
        for name in ["Anna", "Ben"] {
            let b = ctx.engine.book(&service_request(c, spa.id, spa.service(FULL), specific(spa.resource(name)), at)).await.unwrap();
            assert_eq!(b.resources.len(), 2, "a therapist and a room: {b:?}");
            assert!(b.resources.contains(&spa.resource(name)));
            let room = *b.resources.iter().find(|r| rooms.contains(r)).expect("a room");
            used.push(room);
        }
        used.sort();
        assert_eq!(used, rooms.to_vec(), "each booking got its own room");
        // Chloe is free, but both rooms are taken.
        let e = refused(ctx.engine.book(&service_request(c, spa.id, spa.service(FULL), specific(spa.resource("Chloe")), at)).await);
        assert!(matches!(e, BookingError::SlotTaken { .. }), "{e:?}");
        // A treatment without a room still fits Chloe... she does not offer
        // it, so the head massage goes to nobody free but Chloe's colleagues.
        assert_eq!(ctx.half_made_bookings().await, 0);
        assert_eq!(ctx.overlaps().await, 0);
        assert_eq!(ctx.orphan_claims().await, 0);
    }

    async fn any_therapist_gets_a_free_one_who_offers_the_service(ctx: Ctx) {
        let spa = ctx.spa().await;
        let c = ctx.customer().await;
        let at = london(2, 10, 0);
        let head = spa.service(HEAD);
        ctx.engine.book(&service_request(c, spa.id, head, specific(spa.resource("Anna")), at)).await.unwrap();
        let b = ctx.engine.book(&service_request(c, spa.id, head, ResourceChoice::Any, at)).await.unwrap();
        assert_eq!(b.resources, vec![spa.resource("Ben")]);
        // Chloe does not offer the head massage: nobody is left.
        let e = refused(ctx.engine.book(&service_request(c, spa.id, head, ResourceChoice::Any, at)).await);
        assert!(matches!(e, BookingError::SlotTaken { .. }), "{e:?}");
    }

    async fn a_table_goes_to_the_smallest_free_table_that_seats_the_party(ctx: Ctx) {
        let r = ctx.restaurant().await;
        let c = ctx.customer().await;
        let at = london(2, 19, 0);
        let mut got = Vec::new();
        for _ in 0..3 {
            let b = ctx.engine.book(&table_request(c, r.id, 3, ResourceChoice::Any, at)).await.unwrap();
            assert_eq!(b.party_size, Some(3));
            assert_eq!(b.end, london(2, 20, 30), "seatings last 90 minutes");
            got.push(b.resources[0]);
        }
        assert_eq!(got, vec![r.resource("Table 3"), r.resource("Table 4"), r.resource("Table 5")]);
        assert_eq!(
            rule(refused(ctx.engine.book(&table_request(c, r.id, 9, ResourceChoice::Any, at)).await)),
            RuleViolation::PartyTooLarge { party_size: 9, largest: 8 }
        );
        assert_eq!(
            rule(refused(ctx.engine.book(&table_request(c, r.id, 4, specific(r.resource("Table 1")), at)).await)),
            RuleViolation::TableTooSmall { capacity: 2, party_size: 4 }
        );
        // The last table for four or more is the 8-seater.
        let b = ctx.engine.book(&table_request(c, r.id, 4, ResourceChoice::Any, at)).await.unwrap();
        assert_eq!(b.resources, vec![r.resource("Table 6")]);
        let e = refused(ctx.engine.book(&table_request(c, r.id, 4, ResourceChoice::Any, at)).await);
        assert!(matches!(e, BookingError::SlotTaken { .. }), "{e:?}");
    }

    async fn the_venue_rules_are_checked(ctx: Ctx) {
        let spa = ctx.spa().await;
        let restaurant = ctx.restaurant().await;
        let c = ctx.customer().await;
        let anna = specific(spa.resource("Anna"));
        let head = spa.service(HEAD);
        let try_at = |at| service_request(c, spa.id, head, anna, at);

        assert_eq!(rule(refused(ctx.engine.book(&try_at(london(2, 13, 0))).await)), RuleViolation::OutsideHours, "lunch");
        assert_eq!(rule(refused(ctx.engine.book(&try_at(london(2, 12, 45))).await)), RuleViolation::OutsideHours, "runs into lunch");
        assert_eq!(rule(refused(ctx.engine.book(&try_at(london(2, 17, 45))).await)), RuleViolation::OutsideHours, "runs past closing");
        assert_eq!(rule(refused(ctx.engine.book(&try_at(london(7, 10, 0))).await)), RuleViolation::OutsideHours, "Sunday");
        assert_eq!(rule(refused(ctx.engine.book(&try_at(london(2, 10, 5))).await)), RuleViolation::OffGrid { grid_minutes: 15 });
        assert!(matches!(rule(refused(ctx.engine.book(&try_at(london(1, 8, 45))).await)), RuleViolation::TooSoon { .. }));
        ctx.engine.book(&try_at(london(1, 9, 0))).await.expect("exactly the minimum notice is fine");
        assert!(matches!(
            rule(refused(ctx.engine.book(&try_at(chrono::TimeZone::with_ymd_and_hms(&chrono_tz::Europe::London, 2026, 8, 4, 10, 0, 0).unwrap().with_timezone(&chrono::Utc))).await)),
            RuleViolation::TooFarAhead { .. }
        ));
        assert_eq!(
            rule(refused(ctx.engine.book(&service_request(c, spa.id, spa.service(STONE), specific(spa.resource("Ben")), london(2, 10, 0))).await)),
            RuleViolation::ServiceNotOffered
        );
        assert_eq!(
            rule(refused(ctx.engine.book(&service_request(c, VenueId(999_999), head, anna, london(2, 10, 0))).await)),
            RuleViolation::UnknownVenue
        );
        assert_eq!(
            rule(refused(ctx.engine.book(&service_request(c, spa.id, ServiceId(999_999), anna, london(2, 10, 0))).await)),
            RuleViolation::UnknownService
        );
        assert_eq!(
            rule(refused(ctx.engine.book(&service_request(c, spa.id, head, specific(spa.resource("Treatment room 1")), london(2, 10, 0))).await)),
            RuleViolation::UnknownResource,
            "a room is not a therapist"
        );
        assert_eq!(
            rule(refused(ctx.engine.book(&service_request(c, spa.id, head, specific(restaurant.resource("Table 1")), london(2, 10, 0))).await)),
            RuleViolation::UnknownResource,
            "another venue's resource"
        );
        assert!(matches!(
            rule(refused(ctx.engine.book(&table_request(c, spa.id, 2, ResourceChoice::Any, london(2, 10, 0))).await)),
            RuleViolation::WrongOffer { .. }
        ));
        assert_eq!(ctx.live_bookings().await, 1, "only the one valid booking was made");
    }

    async fn closures_of_the_venue_or_of_one_therapist_refuse_bookings(ctx: Ctx) {
        let spa = ctx.spa().await;
        let c = ctx.customer().await;
        let head = spa.service(HEAD);
        let anna = spa.resource("Anna");
        catalog::add_closure(&ctx.db, spa.id, None, london(2, 10, 0).timestamp(), london(2, 12, 0).timestamp(), "Staff training").await.unwrap();
        catalog::add_closure(&ctx.db, spa.id, Some(anna), london(3, 0, 0).timestamp(), london(4, 0, 0).timestamp(), "Day off").await.unwrap();

        assert_eq!(rule(refused(ctx.engine.book(&service_request(c, spa.id, head, specific(anna), london(2, 11, 0))).await)), RuleViolation::Closed);
        assert_eq!(rule(refused(ctx.engine.book(&service_request(c, spa.id, head, ResourceChoice::Any, london(2, 11, 45))).await)), RuleViolation::Closed);
        ctx.engine.book(&service_request(c, spa.id, head, specific(anna), london(2, 12, 0))).await.expect("the closure has ended");
        assert_eq!(rule(refused(ctx.engine.book(&service_request(c, spa.id, head, specific(anna), london(3, 10, 0))).await)), RuleViolation::Closed);
        let b = ctx.engine.book(&service_request(c, spa.id, head, ResourceChoice::Any, london(3, 10, 0))).await.unwrap();
        assert_eq!(b.resources, vec![spa.resource("Ben")], "Anna is off; Ben is not");
    }

    async fn the_same_idempotency_key_returns_the_booking_already_made(ctx: Ctx) {
        let spa = ctx.spa().await;
        let c = ctx.customer().await;
        let req = service_request(c, spa.id, spa.service(HEAD), specific(spa.resource("Anna")), london(2, 10, 0));
        let first = ctx.engine.hold(&req).await.unwrap();
        let again = ctx.engine.hold(&req).await.unwrap();
        assert_eq!(first.id, again.id);
        // The key stands for a hold: a booking with it is another request,
        // refused rather than answered with the hold.
        assert_eq!(refused(ctx.engine.book(&req).await), BookingError::IdempotencyMismatch);
        assert_eq!(ctx.live_bookings().await, 1);
        // Sent at the same moment, the copies still make one booking.
        let req = service_request(c, spa.id, spa.service(HEAD), specific(spa.resource("Ben")), london(2, 10, 0));
        let results = futures::future::join_all((0..10).map(|_| ctx.engine.book(&req))).await;
        let ids: std::collections::BTreeSet<_> = results
            .into_iter()
            .map(|r| {
                let b = r.unwrap();
                assert_eq!(b.status, BookingStatus::Confirmed);
                b.id
            })
            .collect();
        assert_eq!(ids.len(), 1);
        assert_eq!(ctx.live_bookings().await, 2);
    }

    async fn an_expired_hold_frees_its_slot_and_can_no_longer_be_confirmed(ctx: Ctx) {
        let spa = ctx.spa().await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let anna = specific(spa.resource("Anna"));
        let head = spa.service(HEAD);
        let hold = ctx.engine.hold(&service_request(alice, spa.id, head, anna, london(2, 10, 0))).await.unwrap();
        ctx.clock.set(ctx.clock.now() + 10 * 60);
        // The booking transaction expires the lapsed hold it finds.
        ctx.engine.book(&service_request(bob, spa.id, head, anna, london(2, 10, 0))).await.expect("the hold has lapsed");
        assert_eq!(refused(ctx.engine.confirm_hold(alice, hold.id).await), BookingError::HoldExpired);
        let staff = Actor::staff(ctx.staff_of(&[spa.id]).await.user);
        assert_eq!(ctx.engine.booking(staff, hold.id).await.unwrap().status, BookingStatus::Expired);

        // The sweeper expires holds nobody else touched.
        let hold = ctx.engine.hold(&service_request(alice, spa.id, head, anna, london(2, 11, 0))).await.unwrap();
        assert_eq!(ctx.engine.expire_due_holds().await.unwrap(), 0, "not due yet");
        ctx.clock.set(ctx.clock.now() + 10 * 60 + 1);
        assert_eq!(ctx.engine.expire_due_holds().await.unwrap(), 1);
        assert_eq!(refused(ctx.engine.confirm_hold(alice, hold.id).await), BookingError::HoldExpired);
        assert_eq!(ctx.orphan_claims().await, 0);
        assert_eq!(ctx.overlaps().await, 0);
        assert_eq!(ctx.orphan_claims().await, 0);
    }

    async fn only_the_holder_or_staff_may_confirm_or_release_a_hold(ctx: Ctx) {
        let spa = ctx.spa().await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let anna = specific(spa.resource("Anna"));
        let head = spa.service(HEAD);
        let hold = ctx.engine.hold(&service_request(alice, spa.id, head, anna, london(2, 10, 0))).await.unwrap();
        assert_eq!(refused(ctx.engine.confirm_hold(bob, hold.id).await), BookingError::NotFound);
        assert_eq!(refused(ctx.engine.release_hold(Actor::customer(bob), hold.id).await), BookingError::NotFound);
        assert_eq!(refused(ctx.engine.booking(Actor::customer(bob), hold.id).await), BookingError::NotFound);
        let released = ctx.engine.release_hold(Actor::customer(alice), hold.id).await.unwrap();
        assert_eq!(released.status, BookingStatus::Cancelled);
        ctx.engine.book(&service_request(bob, spa.id, head, anna, london(2, 10, 0))).await.expect("released at once");
        // Staff of the venue may release anyone's hold; staff of another may not.
        let hold = ctx.engine.hold(&service_request(alice, spa.id, head, anna, london(2, 11, 0))).await.unwrap();
        let elsewhere = ctx.staff_of(&[ctx.restaurant().await.id]).await;
        assert_eq!(refused(ctx.engine.release_hold(Actor::staff(elsewhere.user), hold.id).await), BookingError::NotFound);
        let staff = ctx.staff_of(&[spa.id]).await;
        ctx.engine.release_hold(Actor::staff(staff.user), hold.id).await.unwrap();
        assert_eq!(ctx.orphan_claims().await, 0);
    }

    async fn customers_cancel_until_the_window_closes_and_staff_at_any_time(ctx: Ctx) {
        let spa = ctx.spa().await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let anna = specific(spa.resource("Anna"));
        let head = spa.service(HEAD);
        let at = london(2, 10, 0);
        let b = ctx.engine.book(&service_request(alice, spa.id, head, anna, at)).await.unwrap();
        assert_eq!(refused(ctx.engine.cancel(Actor::customer(bob), b.id).await), BookingError::NotFound);
        let cancelled = ctx.engine.cancel(Actor::customer(alice), b.id).await.unwrap();
        assert_eq!(cancelled.status, BookingStatus::Cancelled);
        let b = ctx.engine.book(&service_request(bob, spa.id, head, anna, at)).await.expect("the slot is free again");

        // The window is 24 hours: cancellation closed on Monday at 10:00.
        ctx.clock.set(london(1, 10, 1).timestamp());
        assert_eq!(
            refused(ctx.engine.cancel(Actor::customer(bob), b.id).await),
            BookingError::CancellationClosed { deadline: london(1, 10, 0) }
        );
        let staff = ctx.staff_of(&[spa.id]).await;
        let by_venue = ctx.engine.cancel(Actor::staff(staff.user), b.id).await.unwrap();
        assert_eq!(by_venue.status, BookingStatus::Cancelled);
        assert_eq!(by_venue.cancelled_by.as_deref(), Some("venue"));
        assert_eq!(ctx.orphan_claims().await, 0);
        assert_eq!(ctx.live_bookings().await, 0);
    }

    async fn availability_shows_taken_times_as_taken_and_skips_breaks(ctx: Ctx) {
        let spa = ctx.spa().await;
        let c = ctx.customer().await;
        let anna = spa.resource("Anna");
        let head = spa.service(HEAD);
        ctx.engine.book(&service_request(c, spa.id, head, specific(anna), london(2, 10, 0))).await.unwrap();

        let grid = ctx.engine.availability(spa.id, june(2), Offer::Service(head), specific(anna)).await.unwrap();
        let at = |time: &str| grid.slots.iter().find(|s| s.time == time).map(|s| s.free.clone());
        assert_eq!(at("09:00"), Some(vec![anna]));
        assert_eq!(at("10:00"), Some(vec![]), "taken, and shown as taken");
        assert_eq!(at("10:15"), Some(vec![]));
        assert_eq!(at("10:45"), Some(vec![anna]));
        assert_eq!(at("12:30"), Some(vec![anna]));
        assert_eq!(at("12:45"), None, "would run into lunch");
        assert_eq!(at("13:00"), None, "lunch");
        assert_eq!(at("17:30"), Some(vec![anna]));
        assert_eq!(at("17:45"), None);
        let ten = grid.slots.iter().find(|s| s.time == "10:00").unwrap();
        assert_eq!(ten.label, "Tuesday 2 June, 10:00");
        assert_eq!(ten.start, london(2, 10, 0));

        let any = ctx.engine.availability(spa.id, june(2), Offer::Service(head), ResourceChoice::Any).await.unwrap();
        let ten = any.slots.iter().find(|s| s.time == "10:00").unwrap();
        assert_eq!(ten.free, vec![spa.resource("Ben")]);
        let names: Vec<&str> = any.resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, vec!["Anna", "Ben"], "Chloe does not offer it");

        // Monday: the minimum notice hides what is too soon; Sunday is closed.
        let monday = ctx.engine.availability(spa.id, june(1), Offer::Service(head), ResourceChoice::Any).await.unwrap();
        assert_eq!(monday.slots.first().map(|s| s.time.as_str()), Some("09:00"));
        let sunday = ctx.engine.availability(spa.id, june(7), Offer::Service(head), ResourceChoice::Any).await.unwrap();
        assert!(sunday.slots.is_empty());
    }

    async fn a_conflict_offers_earlier_later_other_therapists_and_the_next_day(ctx: Ctx) {
        let spa = ctx.spa().await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let anna = spa.resource("Anna");
        let head = spa.service(HEAD);
        ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(2, 10, 0))).await.unwrap();
        let BookingError::SlotTaken { alternatives } =
            refused(ctx.engine.book(&service_request(bob, spa.id, head, specific(anna), london(2, 10, 0))).await)
        else {
            panic!("expected slot taken");
        };
        let find = |k: AlternativeKind| {
            alternatives.iter().filter(|a| a.kind == k).map(|a| (a.resource, a.start)).collect::<Vec<(ResourceId, _)>>()
        };
        assert_eq!(find(AlternativeKind::Earlier), vec![(anna, london(2, 9, 15))]);
        assert_eq!(find(AlternativeKind::Later), vec![(anna, london(2, 10, 45))]);
        assert_eq!(find(AlternativeKind::OtherResource), vec![(spa.resource("Ben"), london(2, 10, 0))]);
        assert_eq!(find(AlternativeKind::NextOpenDay), vec![(anna, london(3, 10, 0))]);
        let later = alternatives.iter().find(|a| a.kind == AlternativeKind::Later).unwrap();
        assert_eq!(later.label, "Tuesday 2 June, 10:45");
        assert_eq!(later.resource_name, "Anna");
        // Every alternative really is bookable (each by another customer:
        // one may hold only a few times at once).
        for a in &alternatives {
            let someone = ctx.customer().await;
            ctx.engine
                .hold(&service_request(someone, spa.id, head, specific(a.resource), a.start))
                .await
                .unwrap_or_else(|e| panic!("{a:?} was offered but refused: {e:?}"));
        }
    }
}
