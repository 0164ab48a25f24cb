//! The waitlist: a freed time is held for the first customer waiting for
//! it (first come, first served) in the freeing transaction, told through
//! the outbox, passed on when the hold lapses or is let go, never taken by
//! anyone else while on offer; and joining refuses what cannot be waited for.

use crate::on_both_databases;
use crate::support::*;
use app::backend::catalog::CreatedVenue;
use app::backend::engine::Actor;
use app::backend::staff::Change;
use app::backend::store::MessageKind;
use app::domain::admin::StrandChoice;
use app::domain::booking::{BookingError, BookingStatus, Offer};
use app::domain::error::AppError;
use app::domain::ids::UserId;
use app::domain::waitlist::{WaitlistEntry, WaitlistState, Wish, MAX_ENTRIES_PER_CUSTOMER};
use chrono::NaiveDate;

const HEAD: &str = "Head and shoulder massage";

/// A wish for Anna's head massage on `date`, starting between `from` and
/// `to` (minutes from midnight).
fn wish(spa: &CreatedVenue, customer: UserId, date: NaiveDate, from: i64, to: i64) -> Wish {
    Wish {
        customer,
        venue: spa.id,
        offer: Offer::Service(spa.service(HEAD)),
        resource: specific(spa.resource("Anna")),
        date,
        from_minute: from,
        to_minute: to,
    }
}

async fn entry(ctx: &Ctx, customer: UserId, id: i64) -> WaitlistEntry {
    ctx.engine.waitlist_entry(customer, id).await.unwrap()
}

/// The live bookings and holds of `customers`: (customer, status).
async fn holders(ctx: &Ctx, customers: &[UserId]) -> Vec<(UserId, BookingStatus)> {
    let mut out = Vec::new();
    for c in customers {
        for b in ctx.engine.bookings_of(*c).await.unwrap() {
            if matches!(b.status, BookingStatus::Held | BookingStatus::Confirmed) {
                out.push((b.customer, b.status));
            }
        }
    }
    out
}

on_both_databases! {
    async fn a_cancelled_time_goes_to_the_first_in_line_even_with_a_fourth_booking_at_once(ctx: Ctx) {
        let spa = ctx.spa().await;
        let head = spa.service(HEAD);
        let anna = spa.resource("Anna");
        // Five rounds, one a day: someone has the 10:00; three wait for it;
        // its cancellation and a fourth customer's booking of it race.
        for (round, day) in (2..=6).enumerate() {
            let [owner, first, second, third, fourth] = ctx.customers(5).await[..] else { unreachable!() };
            let at = london(day, 10, 0);
            let booked = ctx.engine.book(&service_request(owner, spa.id, head, specific(anna), at)).await.unwrap();
            let mut line = Vec::new();
            for c in [first, second, third] {
                let e = ctx.engine.join_waitlist(&wish(&spa, c, june(day), 600, 600)).await.unwrap();
                assert_eq!(e.state, WaitlistState::Waiting, "round {round}: nothing is free, so {c} waits");
                line.push((c, e.id));
            }
            assert_eq!(entry(&ctx, third, line[2].1).await.ahead, Some(2));

            let cancel = ctx.engine.cancel(Actor::customer(owner), booked.id);
            let fourth_asks = service_request(fourth, spa.id, head, specific(anna), at);
            let racer = ctx.engine.book(&fourth_asks);
            let (cancelled, raced) = tokio::join!(cancel, racer);
            cancelled.unwrap();
            assert!(matches!(refused(raced), BookingError::SlotTaken { .. }), "round {round}: the fourth customer cannot take a time the line waits for");

            let everyone = [owner, first, second, third, fourth];
            assert_eq!(holders(&ctx, &everyone).await, vec![(first, BookingStatus::Held)], "round {round}: one holder, the first in line");
            let offered = entry(&ctx, first, line[0].1).await;
            assert_eq!(offered.state, WaitlistState::Offered);
            let hold = offered.hold.unwrap();
            let messages = ctx.engine.messages_of(hold).await.unwrap();
            assert_eq!(messages.iter().map(|m| m.kind).collect::<Vec<_>>(), vec![MessageKind::WaitlistOffer]);
            assert_eq!(entry(&ctx, second, line[1].1).await.ahead, Some(0), "round {round}: second is next");
            ctx.assert_invariants(&format!("round {round}, offered")).await;

            // The first lets it lapse: the sweeper passes it to the second.
            let expires = offered.hold_expires_at.unwrap().timestamp();
            let back = ctx.clock.now();
            ctx.clock.set(expires);
            ctx.engine.expire_due_holds().await.unwrap();
            assert_eq!(entry(&ctx, first, line[0].1).await.state, WaitlistState::Lapsed);
            let second_entry = entry(&ctx, second, line[1].1).await;
            assert_eq!(second_entry.state, WaitlistState::Offered, "round {round}: the lapsed offer passes on");
            // The second leaves: the third gets it, and confirms it.
            ctx.engine.leave_waitlist(second, line[1].1).await.unwrap();
            assert_eq!(entry(&ctx, second, line[1].1).await.state, WaitlistState::Left);
            assert_eq!(ctx.engine.booking(Actor::customer(second), second_entry.hold.unwrap()).await.unwrap().status, BookingStatus::Cancelled);
            let third_entry = entry(&ctx, third, line[2].1).await;
            assert_eq!(third_entry.state, WaitlistState::Offered);
            let confirmed = ctx.engine.confirm_hold(third, third_entry.hold.unwrap()).await.unwrap();
            assert_eq!(confirmed.start, at);
            assert_eq!(entry(&ctx, third, line[2].1).await.state, WaitlistState::Booked);
            assert_eq!(holders(&ctx, &everyone).await, vec![(third, BookingStatus::Confirmed)]);
            ctx.assert_invariants(&format!("round {round}, passed on")).await;
            ctx.clock.set(back);
        }
    }

    async fn a_time_free_when_joining_is_offered_at_once_and_others_in_range_are_not_taken(ctx: Ctx) {
        let spa = ctx.spa().await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        // 10:00 is booked; 10:30 is free; Alice wants a start from 10:00 to 11:00.
        ctx.engine.book(&service_request(bob, spa.id, spa.service(HEAD), specific(spa.resource("Anna")), london(3, 10, 0))).await.unwrap();
        let e = ctx.engine.join_waitlist(&wish(&spa, alice, june(3), 600, 660)).await.unwrap();
        assert_eq!(e.state, WaitlistState::Offered);
        let hold = ctx.engine.booking(Actor::customer(alice), e.hold.unwrap()).await.unwrap();
        assert_eq!(hold.start, london(3, 10, 45), "the earliest free start in range (the 10:00 booking keeps Anna until 10:45)");
        assert_eq!(hold.status, BookingStatus::Held);
        // Held for the venue's offer time (60 minutes by default).
        assert_eq!(hold.hold_expires_at.unwrap().timestamp(), ctx.clock.now() + 3600);
        assert!(e.offer_label.unwrap().contains("held for you until"));
        ctx.assert_invariants("joined and offered").await;
    }

    async fn joining_refuses_a_past_or_closed_day_the_same_wish_twice_and_more_than_the_cap(ctx: Ctx) {
        let spa = ctx.spa().await;
        let alice = ctx.customer().await;
        let refusal = |r: Result<WaitlistEntry, AppError>| match r {
            Ok(e) => panic!("expected a refusal, got {e:?}"),
            Err(e) => e,
        };
        // Yesterday; a Sunday (the spa is closed); beyond the advance window;
        // a range with no start in it (Anna's lunch).
        for (what, date, from, to) in [
            ("a past day", NaiveDate::from_ymd_opt(2026, 5, 31).unwrap(), 0, 1440),
            ("a closed day", june(7), 0, 1440),
            ("beyond the window", NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(), 0, 1440),
            ("only lunch", june(2), 13 * 60 + 15, 13 * 60 + 30),
        ] {
            let e = refusal(ctx.engine.join_waitlist(&wish(&spa, alice, date, from, to)).await);
            assert!(matches!(e, AppError::Refused { .. }), "{what}: {e:?}");
            assert_eq!(e.status(), 422, "{what}");
        }
        // Fill Anna's 10:00 so that the wish waits; the same wish again is a 409.
        let bob = ctx.customer().await;
        ctx.engine.book(&service_request(bob, spa.id, spa.service(HEAD), specific(spa.resource("Anna")), london(2, 10, 0))).await.unwrap();
        let first = ctx.engine.join_waitlist(&wish(&spa, alice, june(2), 600, 600)).await.unwrap();
        assert_eq!(first.state, WaitlistState::Waiting);
        let again = refusal(ctx.engine.join_waitlist(&wish(&spa, alice, june(2), 600, 600)).await);
        assert!(matches!(again, AppError::Duplicate { .. }), "{again:?}");
        assert_eq!(again.status(), 409);
        // Up to the cap of live entries at the venue; one more is refused.
        for day in 3..(2 + MAX_ENTRIES_PER_CUSTOMER as u32) {
            ctx.engine.book(&service_request(bob, spa.id, spa.service(HEAD), specific(spa.resource("Anna")), london(day, 10, 0))).await.unwrap();
            ctx.engine.join_waitlist(&wish(&spa, alice, june(day), 600, 600)).await.unwrap();
        }
        let over = refusal(ctx.engine.join_waitlist(&wish(&spa, alice, june(8), 600, 600)).await);
        assert!(matches!(over, AppError::LimitReached { .. }), "{over:?}");
        // Leaving makes room; leaving again answers the same; another's entry is not found.
        ctx.engine.leave_waitlist(alice, first.id).await.unwrap();
        assert_eq!(ctx.engine.leave_waitlist(alice, first.id).await.unwrap().state, WaitlistState::Left);
        assert_eq!(ctx.engine.leave_waitlist(bob, first.id).await.unwrap_err(), AppError::NotFound);
        ctx.engine.book(&service_request(bob, spa.id, spa.service(HEAD), specific(spa.resource("Anna")), london(8, 10, 0))).await.unwrap();
        assert_eq!(ctx.engine.join_waitlist(&wish(&spa, alice, june(8), 600, 600)).await.unwrap().state, WaitlistState::Waiting);
        // The same wish may be joined again once left.
        assert_eq!(ctx.engine.waitlist_of(alice).await.unwrap().iter().filter(|e| e.state.is_live()).count() as i64, MAX_ENTRIES_PER_CUSTOMER);
        ctx.assert_invariants("refusals").await;
    }

    async fn removing_a_closure_and_moving_a_booking_offer_the_freed_time(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let [alice, bob, carol] = ctx.customers(3).await[..] else { unreachable!() };
        let anna = spa.resource("Anna");
        let head = spa.service(HEAD);
        // Anna's Tuesday: booked at 09:00 and 10:00, closed from 10:45 on.
        ctx.engine.change(staff, spa.id, &Change::AddClosure { resource: Some(anna), starts_at: london(2, 10, 45).timestamp(), ends_at: london(2, 18, 0).timestamp(), reason: "Training".to_owned() }, StrandChoice::Ask).await.unwrap();
        let nine = ctx.engine.book(&service_request(bob, spa.id, head, specific(anna), london(2, 9, 0))).await.unwrap();
        ctx.engine.book(&service_request(bob, spa.id, head, specific(anna), london(2, 10, 0))).await.unwrap();
        let e = ctx.engine.join_waitlist(&wish(&spa, alice, june(2), 0, 1440)).await.unwrap();
        assert_eq!(e.state, WaitlistState::Waiting);
        let closure = ctx.engine.venue_setup(staff, spa.id).await.unwrap().closures[0].id;
        ctx.engine.change(staff, spa.id, &Change::RemoveClosure { id: closure }, StrandChoice::Ask).await.unwrap();
        let offered = entry(&ctx, alice, e.id).await;
        assert_eq!(offered.state, WaitlistState::Offered, "the reopened time goes to the line");
        assert_eq!(ctx.engine.booking(Actor::customer(alice), offered.hold.unwrap()).await.unwrap().start, london(2, 10, 45));

        // Carol waits for 09:00 exactly; staff move Bob's 09:00 to Wednesday.
        let c = ctx.engine.join_waitlist(&wish(&spa, carol, june(2), 540, 540)).await.unwrap();
        assert_eq!(c.state, WaitlistState::Waiting);
        ctx.engine.move_booking(staff, nine.id, london(3, 9, 0), None).await.unwrap();
        let carol_entry = entry(&ctx, carol, c.id).await;
        assert_eq!(carol_entry.state, WaitlistState::Offered, "the time a move left goes to the line");
        assert_eq!(ctx.engine.booking(Actor::customer(carol), carol_entry.hold.unwrap()).await.unwrap().start, london(2, 9, 0));
        // Staff see the day's line in order, with who waits.
        let line = ctx.engine.venue_waitlist(staff, spa.id, june(2)).await.unwrap();
        assert_eq!(line.iter().map(|e| e.id).collect::<Vec<_>>(), vec![e.id, c.id]);
        assert!(line.iter().all(|e| e.customer_email.is_some()));
        ctx.assert_invariants("closure removed, booking moved").await;
    }
}
