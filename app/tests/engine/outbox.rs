//! The outbox and its dispatcher: every change a customer must hear of
//! writes one message in its own transaction; the dispatcher sends each
//! due message once (also with two instances), tries failures again
//! later, gives up after its last attempt, and sends reminders once.

use crate::on_both_databases;
use crate::support::*;
use app::backend::engine::{Actor, Engine};
use app::backend::notify::{backoff, Dispatcher, Mailer, MAX_ATTEMPTS};
use app::backend::staff::Change;
use app::backend::store::{MessageKind, MessageState};
use app::domain::admin::StrandChoice;
use app::domain::booking::BookingError;
use app::domain::ids::BookingId;
use chrono::{TimeZone, Utc};
use chrono_tz::Europe::London;
use lettre::transport::stub::AsyncStubTransport;
use std::collections::BTreeSet;

const HEAD: &str = "Head and shoulder massage";

async fn kinds(ctx: &Ctx, id: BookingId) -> Vec<(MessageKind, Option<String>)> {
    ctx.engine
        .messages_of(id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.kind, m.detail))
        .collect()
}

fn dispatcher(engine: &Engine, stub: &AsyncStubTransport) -> Dispatcher {
    Dispatcher::new(
        engine.clone(),
        Mailer::Stub(stub.clone()),
        "Spa bookings <bookings@spa.example>",
        "https://book.example.com",
    )
    .unwrap()
}

/// The raw messages a stub was given: (recipient, formatted message).
async fn sent(stub: &AsyncStubTransport) -> Vec<(String, String)> {
    stub.messages()
        .await
        .into_iter()
        .map(|(envelope, text)| {
            let to = envelope
                .to()
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(",");
            (to, text)
        })
        .collect()
}

on_both_databases! {
    async fn every_change_a_customer_must_hear_of_writes_one_message_with_it(ctx: Ctx) {
        use MessageKind::*;
        let spa = ctx.spa().await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let staff = ctx.staff_of(&[spa.id]).await;
        let (anna, ben, head) = (spa.resource("Anna"), spa.resource("Ben"), spa.service(HEAD));

        // Booked at once: told. A hold: not yet; confirmed: told.
        let a = ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(2, 10, 0))).await.unwrap();
        assert_eq!(kinds(&ctx, a.id).await, vec![(Booked, None)]);
        let h = ctx.engine.hold(&service_request(alice, spa.id, head, specific(anna), london(2, 12, 0))).await.unwrap();
        assert_eq!(kinds(&ctx, h.id).await, vec![]);
        ctx.engine.confirm_hold(alice, h.id).await.unwrap();
        ctx.engine.confirm_hold(alice, h.id).await.unwrap();
        assert_eq!(kinds(&ctx, h.id).await, vec![(Confirmed, None)], "a second confirm tells nothing more");
        // A released hold was never told, so its end is not either.
        let r = ctx.engine.hold(&service_request(bob, spa.id, head, specific(ben), london(2, 10, 0))).await.unwrap();
        ctx.engine.release_hold(Actor::customer(bob), r.id).await.unwrap();
        assert_eq!(kinds(&ctx, r.id).await, vec![]);

        // Rescheduled by the customer, moved by the venue: with the time it had.
        ctx.engine.reschedule(alice, a.id, london(2, 11, 0), None).await.unwrap();
        assert_eq!(ctx.engine.reschedule(alice, a.id, london(2, 11, 0), None).await.unwrap_err(), BookingError::SameTime);
        ctx.engine.move_booking(staff, a.id, london(3, 11, 0), Some(ben)).await.unwrap();
        assert_eq!(
            kinds(&ctx, a.id).await,
            vec![
                (Booked, None),
                (Rescheduled, Some("Tuesday 2 June, 10:00".to_owned())),
                (Moved, Some("Tuesday 2 June, 11:00".to_owned())),
            ]
        );
        let messages = ctx.engine.messages_of(a.id).await.unwrap();
        assert_eq!(
            messages.iter().map(|m| m.starts_at).collect::<Vec<_>>(),
            vec![london(2, 10, 0).timestamp(), london(2, 11, 0).timestamp(), london(3, 11, 0).timestamp()],
            "each tells the time as it was then"
        );
        assert!(messages.iter().all(|m| m.state == MessageState::Pending && m.attempts == 0));

        // Cancelled by the customer; by the venue's staff; twice tells once.
        ctx.engine.cancel(Actor::customer(alice), h.id).await.unwrap();
        ctx.engine.cancel(Actor::customer(alice), h.id).await.unwrap();
        assert_eq!(kinds(&ctx, h.id).await, vec![(Confirmed, None), (Cancelled, None)]);
        let b = ctx.engine.book(&service_request(bob, spa.id, head, specific(anna), london(4, 10, 0))).await.unwrap();
        ctx.engine.cancel(Actor::staff(staff.user), b.id).await.unwrap();
        assert_eq!(kinds(&ctx, b.id).await, vec![(Booked, None), (VenueCancelled, None)]);

        // A closure that cancels the bookings under it gives its reason.
        let c = ctx.engine.book(&service_request(bob, spa.id, head, specific(anna), london(5, 10, 0))).await.unwrap();
        let held = ctx.engine.hold(&service_request(alice, spa.id, head, specific(ben), london(5, 10, 0))).await.unwrap();
        let close = Change::AddClosure {
            resource: None,
            starts_at: london(5, 0, 0).timestamp(),
            ends_at: london(6, 0, 0).timestamp(),
            reason: "Flood".into(),
        };
        ctx.engine.change(staff, spa.id, &close, StrandChoice::Cancel).await.unwrap();
        assert_eq!(kinds(&ctx, c.id).await, vec![(Booked, None), (VenueCancelled, Some("closure.add".to_owned()))]);
        assert_eq!(kinds(&ctx, held.id).await, vec![], "a hold cancelled by the venue was never told");

        // What was refused or taken told nobody.
        assert!(matches!(
            refused(ctx.engine.book(&service_request(alice, spa.id, head, specific(ben), london(3, 11, 0))).await),
            BookingError::SlotTaken { .. }
        ));
        ctx.assert_invariants("after every kind of change").await;
        assert_eq!(ctx.outbox_rows().await, 9);
    }

    async fn many_booking_one_time_at_once_leaves_one_message(ctx: Ctx) {
        let spa = ctx.spa().await;
        let customers = ctx.customers(8).await;
        let (anna, head) = (spa.resource("Anna"), spa.service(HEAD));
        let engines = [ctx.engine.clone(), ctx.second_engine().await];
        let tries = customers.iter().enumerate().map(|(i, c)| {
            let engine = engines[i % 2].clone();
            let req = service_request(*c, spa.id, head, specific(anna), london(2, 10, 0));
            tokio::spawn(async move { engine.book(&req).await })
        });
        let mut made = Vec::new();
        for t in tries {
            if let Ok(b) = t.await.unwrap() {
                made.push(b);
            }
        }
        assert_eq!(made.len(), 1, "one wins");
        assert_eq!(ctx.outbox_rows().await, 1, "the losers' transactions left no message");
        assert_eq!(kinds(&ctx, made[0].id).await, vec![(MessageKind::Booked, None)]);
        ctx.assert_invariants("after the storm").await;
    }

    async fn the_dispatcher_sends_each_due_message_once_with_the_bookings_facts(ctx: Ctx) {
        let spa = ctx.spa().await;
        let alice = ctx.customer().await;
        let (anna, head) = (spa.resource("Anna"), spa.service(HEAD));
        let a = ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(2, 10, 0))).await.unwrap();
        let stub = AsyncStubTransport::new_ok();
        let d = dispatcher(&ctx.engine, &stub);
        let round = d.run_once().await.unwrap();
        assert_eq!((round.sent, round.failed, round.dead), (1, 0, 0));
        assert_eq!(d.run_once().await.unwrap().sent, 0, "sent once");
        let mail = sent(&stub).await;
        assert_eq!(mail.len(), 1);
        let (to, text) = &mail[0];
        assert!(to.starts_with("customer") && to.ends_with("@example.com"), "{to}");
        let message = ctx.engine.messages_of(a.id).await.unwrap().remove(0);
        assert_eq!(message.state, MessageState::Sent);
        assert_eq!(message.attempts, 1);
        assert_eq!(
            mail_header(text, "Message-ID").as_deref(),
            Some(format!("<message-{}.booking-{}@spa.example>", message.id, a.id).as_str())
        );
        let subject = mail_header(text, "Subject").unwrap();
        assert!(subject.contains("Booking confirmed") || subject.starts_with("=?utf-8?"), "{subject}");
        assert_eq!(mail_header(text, "From").as_deref(), Some("\"Spa bookings\" <bookings@spa.example>"));
        assert!(text.contains("multipart/alternative") && text.contains("text/html"), "text and HTML parts");
        assert!(text.contains("Tuesday 2 June, 10:00"), "when, in the venue's time");
        assert!(text.contains("https://book.example.com/bookings"), "how to cancel or reschedule");
        assert!(text.contains("text/calendar"), "the calendar file");
        assert!(text.contains("booking-") && text.contains(".ics"));
        // A customer's cancellation is the next message; then nothing is due.
        ctx.engine.cancel(Actor::customer(alice), a.id).await.unwrap();
        assert_eq!(d.run_once().await.unwrap().sent, 1);
        let mail = sent(&stub).await;
        assert_eq!(mail.len(), 2);
        assert!(mail[1].1.contains("cancelled"));
        assert!(mail[1].1.contains("method=CANCEL") || mail[1].1.contains("method=\"CANCEL\""), "the calendar drops it");
        assert_eq!(ctx.engine.outbox_queue().await.unwrap().pending, 0);
    }

    async fn a_failing_mail_server_is_tried_again_later_then_given_up_on(ctx: Ctx) {
        let spa = ctx.spa().await;
        let alice = ctx.customer().await;
        let (anna, head) = (spa.resource("Anna"), spa.service(HEAD));
        let a = ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(2, 10, 0))).await.unwrap();
        let failing = dispatcher(&ctx.engine, &AsyncStubTransport::new_error());
        for attempt in 1..=MAX_ATTEMPTS {
            let round = failing.run_once().await.unwrap();
            let m = ctx.engine.messages_of(a.id).await.unwrap().remove(0);
            assert_eq!(m.attempts, attempt);
            assert!(m.last_error.is_some());
            if attempt < MAX_ATTEMPTS {
                assert_eq!((round.failed, round.dead), (1, 0), "attempt {attempt}");
                assert_eq!(m.state, MessageState::Pending);
                assert_eq!(m.due_at, ctx.clock.now() + backoff(attempt));
                // Not before it is due again.
                assert_eq!(failing.run_once().await.unwrap(), Default::default());
                ctx.clock.set(m.due_at);
            } else {
                assert_eq!((round.failed, round.dead), (0, 1));
                assert_eq!(m.state, MessageState::Dead);
            }
        }
        assert!(backoff(1) < backoff(2) && backoff(7) <= 3600);
        let queue = ctx.engine.outbox_queue().await.unwrap();
        assert_eq!((queue.pending, queue.dead), (0, 1));
        // A working server later sends what is new, not the dead one.
        let stub = AsyncStubTransport::new_ok();
        let d = dispatcher(&ctx.engine, &stub);
        assert_eq!(d.run_once().await.unwrap().sent, 0);
        let c = ctx.customer().await;
        ctx.engine.book(&service_request(c, spa.id, head, specific(anna), london(2, 11, 0))).await.unwrap();
        assert_eq!(d.run_once().await.unwrap().sent, 1);
        assert_eq!(ctx.engine.counters().messages.dead.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    async fn two_dispatchers_at_once_send_every_message_exactly_once(ctx: Ctx) {
        let spa = ctx.spa().await;
        let customers = ctx.customers(24).await;
        let head = spa.service(HEAD);
        let mut ids = BTreeSet::new();
        for (i, c) in customers.iter().enumerate() {
            let start = london(2 + (i / 8) as u32, 9 + (i % 8) as u32, 0);
            let hour = start.with_timezone(&London).format("%H").to_string();
            if hour == "13" {
                continue;
            }
            ids.insert(ctx.engine.book(&service_request(*c, spa.id, head, app::domain::booking::ResourceChoice::Any, start)).await.unwrap().id);
        }
        let second = ctx.second_engine().await;
        let (stub_a, stub_b) = (AsyncStubTransport::new_ok(), AsyncStubTransport::new_ok());
        let (a, b) = (dispatcher(&ctx.engine, &stub_a), dispatcher(&second, &stub_b));
        let run = |d: Dispatcher| tokio::spawn(async move {
            let mut sent = 0;
            loop {
                let round = d.run_once().await.unwrap();
                if round.sent == 0 {
                    return sent;
                }
                sent += round.sent;
            }
        });
        let (ta, tb) = (run(a), run(b));
        let total = ta.await.unwrap() + tb.await.unwrap();
        assert_eq!(total, ids.len());
        let mut message_ids = Vec::new();
        for stub in [&stub_a, &stub_b] {
            for (_, text) in sent(stub).await {
                message_ids.push(mail_header(&text, "Message-ID").unwrap());
            }
        }
        let distinct: BTreeSet<_> = message_ids.iter().cloned().collect();
        assert_eq!(message_ids.len(), ids.len(), "one email per message");
        assert_eq!(distinct.len(), ids.len(), "none twice");
        for id in ids {
            let m = ctx.engine.messages_of(id).await.unwrap();
            assert!(m.iter().all(|m| m.state == MessageState::Sent && m.attempts == 1), "{m:?}");
        }
    }

    async fn a_reminder_goes_once_a_day_before_and_not_for_what_was_cancelled_or_booked_late(ctx: Ctx) {
        let spa = ctx.spa().await;
        let [alice, bob, carol] = ctx.customers(3).await[..] else { unreachable!() };
        let (anna, ben, head) = (spa.resource("Anna"), spa.resource("Ben"), spa.service(HEAD));
        let a = ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(3, 10, 0))).await.unwrap();
        let b = ctx.engine.book(&service_request(bob, spa.id, head, specific(ben), london(3, 10, 0))).await.unwrap();
        let stub = AsyncStubTransport::new_ok();
        let d = dispatcher(&ctx.engine, &stub);
        assert_eq!(d.run_once().await.unwrap().reminders, 0, "not yet");
        ctx.engine.cancel(Actor::customer(bob), b.id).await.unwrap();
        // Carol books within a day of her time: her confirmation says it all.
        ctx.clock.set(london(2, 9, 0).timestamp());
        let c = ctx.engine.book(&service_request(carol, spa.id, head, specific(anna), london(2, 15, 0))).await.unwrap();
        ctx.clock.set(london(2, 9, 59).timestamp());
        assert_eq!(d.run_once().await.unwrap().reminders, 0, "a minute early");
        ctx.clock.set(london(2, 10, 0).timestamp());
        let round = d.run_once().await.unwrap();
        assert_eq!(round.reminders, 1);
        assert_eq!(d.run_once().await.unwrap().reminders, 0, "once");
        ctx.clock.set(london(3, 9, 30).timestamp());
        assert_eq!(d.run_once().await.unwrap().reminders, 0, "still once");
        let reminders = |id| {
            let engine = ctx.engine.clone();
            async move {
                engine.messages_of(id).await.unwrap().into_iter().filter(|m| m.kind == MessageKind::Reminder).count()
            }
        };
        assert_eq!((reminders(a.id).await, reminders(b.id).await, reminders(c.id).await), (1, 0, 0));
        let last = sent(&stub).await.pop().unwrap().1;
        assert!(last.contains("Reminder"), "{last}");
    }

    async fn a_reminder_counts_a_day_in_hours_across_a_change_of_clocks(ctx: Ctx) {
        // The clocks go back at 02:00 on Sunday 25 October 2026 in London.
        let studio = ctx.studio().await;
        let alice = ctx.customer().await;
        let local = |d, h| London.with_ymd_and_hms(2026, 10, d, h, 0, 0).unwrap().with_timezone(&Utc);
        ctx.clock.set(local(20, 9).timestamp());
        let start = local(25, 10);
        let a = ctx.engine.book(&service_request(alice, studio.id, studio.service("30"), app::domain::booking::ResourceChoice::Any, start)).await.unwrap();
        let stub = AsyncStubTransport::new_ok();
        let d = dispatcher(&ctx.engine, &stub);
        // 24 hours before 10:00 GMT on Sunday is 11:00 BST on Saturday.
        let due = start.timestamp() - 24 * 3600;
        assert_eq!(local(24, 11).timestamp(), due);
        ctx.clock.set(due - 60);
        assert_eq!(d.run_once().await.unwrap().reminders, 0);
        ctx.clock.set(due);
        assert_eq!(d.run_once().await.unwrap().reminders, 1);
        let text = sent(&stub).await.pop().unwrap().1;
        assert!(text.contains("Sunday 25 October, 10:00"), "the time in the venue's zone after the change");
        let m = ctx.engine.messages_of(a.id).await.unwrap();
        assert_eq!(m.iter().filter(|m| m.kind == MessageKind::Reminder && m.state == MessageState::Sent).count(), 1);
    }

    async fn a_reminder_due_before_a_move_is_not_sent_for_the_old_time(ctx: Ctx) {
        let spa = ctx.spa().await;
        let alice = ctx.customer().await;
        let (anna, head) = (spa.resource("Anna"), spa.service(HEAD));
        let a = ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(3, 10, 0))).await.unwrap();
        let failing = dispatcher(&ctx.engine, &AsyncStubTransport::new_error());
        // Booked before the day-before: its confirmation goes (here: fails).
        ctx.clock.set(london(2, 10, 0).timestamp());
        let round = failing.run_once().await.unwrap();
        assert_eq!(round.reminders, 1);
        // Moved while the reminder waits for its next attempt: it is dropped.
        ctx.clock.set(london(2, 10, 5).timestamp());
        let staff = ctx.staff_of(&[spa.id]).await;
        ctx.engine.move_booking(staff, a.id, london(4, 10, 0), None).await.unwrap();
        let m = ctx.engine.messages_of(a.id).await.unwrap();
        let reminder = m.iter().find(|m| m.kind == MessageKind::Reminder).unwrap();
        assert_eq!(reminder.state, MessageState::Dropped);
        ctx.assert_invariants("after the move").await;
    }

    async fn each_venue_sets_how_long_before_its_reminder_goes(ctx: Ctx) {
        let spa = ctx.spa().await;
        let staff = ctx.staff_of(&[spa.id]).await;
        let [alice, bob] = ctx.customers(2).await[..] else { unreachable!() };
        let (anna, head) = (spa.resource("Anna"), spa.service(HEAD));
        let set = |minutes: i64| {
            let ctx = ctx.clone();
            async move {
                let s = ctx.engine.venue_setup(staff, spa.id).await.unwrap().settings;
                let mut c = settings_with_limits(&s, None, None);
                if let Change::Settings { reminder_minutes, .. } = &mut c {
                    *reminder_minutes = Some(minutes);
                }
                ctx.engine.change(staff, spa.id, &c, StrandChoice::Ask).await
            }
        };
        match set(15 * 24 * 60).await.unwrap_err() {
            app::domain::error::AppError::Invalid { field, .. } => assert_eq!(field, "reminder_minutes"),
            other => panic!("{other:?}"),
        }
        set(48 * 60).await.unwrap();
        assert_eq!(ctx.engine.venue_setup(staff, spa.id).await.unwrap().settings.reminder_minutes, 48 * 60);
        let a = ctx.engine.book(&service_request(alice, spa.id, head, specific(anna), london(4, 10, 0))).await.unwrap();
        let d = dispatcher(&ctx.engine, &AsyncStubTransport::new_ok());
        ctx.clock.set(london(2, 9, 59).timestamp());
        assert_eq!(d.run_once().await.unwrap().reminders, 0);
        ctx.clock.set(london(2, 10, 0).timestamp());
        assert_eq!(d.run_once().await.unwrap().reminders, 1, "two days before");
        // No reminders at all.
        set(0).await.unwrap();
        let b = ctx.engine.book(&service_request(bob, spa.id, head, specific(anna), london(4, 12, 0))).await.unwrap();
        ctx.clock.set(london(4, 11, 0).timestamp());
        assert_eq!(d.run_once().await.unwrap().reminders, 0);
        assert!(ctx.engine.messages_of(b.id).await.unwrap().iter().all(|m| m.kind != MessageKind::Reminder));
        assert_eq!(ctx.engine.messages_of(a.id).await.unwrap().iter().filter(|m| m.kind == MessageKind::Reminder).count(), 1);
    }
}
