//! What the day picker and the grid read: free times counted per day, the
//! first free one, and breaks and closures as gaps.

use crate::on_both_databases;
use crate::support::*;
use app::backend::staff::Change;
use app::domain::admin::StrandChoice;
use app::domain::booking::{GapKind, Offer};

const HEAD: &str = "Head and shoulder massage";

on_both_databases! {
    async fn each_day_counts_the_free_times_the_grid_shows_and_a_full_day_is_told_from_a_closed_one(ctx: Ctx) {
        let spa = ctx.spa().await;
        let c = ctx.customer().await;
        let (anna, head) = (spa.resource("Anna"), spa.service(HEAD));
        let offer = Offer::Service(head);
        let counts = ctx.engine.day_counts(spa.id, (june(1), june(8)), offer, specific(anna), false, None).await.unwrap();
        assert_eq!(counts.iter().map(|d| d.date).collect::<Vec<_>>(), (1..=8).map(june).collect::<Vec<_>>());
        for d in &counts {
            let grid = ctx.engine.availability(spa.id, d.date, offer, specific(anna)).await.unwrap();
            assert_eq!(d.starts, grid.slots.len(), "{}", d.date);
            assert_eq!(d.free, grid.slots.iter().filter(|s| !s.free.is_empty()).count(), "{}", d.date);
        }
        let sunday = &counts[6];
        assert_eq!((sunday.open, sunday.starts, sunday.free, sunday.first_free.clone()), (false, 0, 0, None), "the spa is closed on Sundays");
        assert!(counts[1].open);
        assert_eq!(counts[1].first_free.as_deref(), Some("Tuesday 2 June, 09:00"));
        // Today's first time is after the hour's notice (08:00 now).
        assert_eq!(counts[0].first_free.as_deref(), Some("Monday 1 June, 09:00"));

        // Book every time Anna has on Wednesday: open, but full.
        loop {
            let grid = ctx.engine.availability(spa.id, june(3), offer, specific(anna)).await.unwrap();
            let Some(slot) = grid.slots.iter().find(|s| !s.free.is_empty()) else { break };
            ctx.engine.book(&service_request(c, spa.id, head, specific(anna), slot.start)).await.unwrap();
        }
        let wednesday = ctx.engine.day_counts(spa.id, (june(3), june(3)), offer, specific(anna), false, None).await.unwrap();
        assert!(wednesday[0].open && wednesday[0].starts > 0 && wednesday[0].free == 0, "{wednesday:?}");
        // Late in the day, today's times have passed: open, nothing left.
        ctx.clock.set(london(1, 19, 0).timestamp());
        let tonight = ctx.engine.day_counts(spa.id, (june(1), june(1)), offer, specific(anna), false, None).await.unwrap();
        assert_eq!((tonight[0].open, tonight[0].starts, tonight[0].free), (true, 0, 0));
        ctx.clock.set(monday_morning());
        // Ben is still free that day: "any therapist" counts him.
        let any = ctx.engine.day_counts(spa.id, (june(3), june(3)), offer, app::domain::booking::ResourceChoice::Any, false, None).await.unwrap();
        assert!(any[0].free > 0);

        // Looking for the next free time stops at the first day with one.
        let next = ctx.engine.day_counts(spa.id, (june(3), june(30)), offer, specific(anna), true, None).await.unwrap();
        assert_eq!(next.iter().map(|d| d.date).collect::<Vec<_>>(), vec![june(3), june(4)]);
        assert_eq!(next[1].first_free.as_deref(), Some("Thursday 4 June, 09:00"));
        // Days before today and past the advance window (60 days) are left out.
        let edges = ctx.engine.day_counts(spa.id, (june(1) - chrono::Duration::days(3), june(1) + chrono::Duration::days(90)), offer, specific(anna), false, None).await.unwrap();
        assert_eq!(edges.first().map(|d| d.date), Some(june(1)));
        assert_eq!(edges.last().map(|d| d.date), Some(june(1) + chrono::Duration::days(60)));
    }

    async fn breaks_and_closures_show_as_gaps_between_the_times(ctx: Ctx) {
        let spa = ctx.spa().await;
        let (anna, head) = (spa.resource("Anna"), spa.service(HEAD));
        let offer = Offer::Service(head);
        let grid = ctx.engine.availability(spa.id, june(2), offer, specific(anna)).await.unwrap();
        let gaps: Vec<_> = grid.gaps.iter().map(|g| (g.label.as_str(), g.kind)).collect();
        assert_eq!(gaps, vec![("13:00 to 14:00", GapKind::Break)], "lunch");
        // Close Anna 10:00-11:30: a closed gap, and no start time runs into it.
        let staff = ctx.staff_of(&[spa.id]).await;
        let close = Change::AddClosure { resource: Some(anna), starts_at: london(2, 10, 0).timestamp(), ends_at: london(2, 11, 30).timestamp(), reason: "Training".into() };
        ctx.engine.change(staff, spa.id, &close, StrandChoice::Ask).await.unwrap();
        let grid = ctx.engine.availability(spa.id, june(2), offer, specific(anna)).await.unwrap();
        let gaps: Vec<_> = grid.gaps.iter().map(|g| (g.label.as_str(), g.kind)).collect();
        assert_eq!(gaps, vec![("10:00 to 11:30", GapKind::Closed), ("13:00 to 14:00", GapKind::Break)]);
        assert!(grid.slots.iter().all(|s| s.start < london(2, 10, 0) || s.start >= london(2, 11, 30)), "no start inside the closure");
        // With any therapist, Ben works through Anna's closure: no gap then.
        let any = ctx.engine.availability(spa.id, june(2), offer, app::domain::booking::ResourceChoice::Any).await.unwrap();
        assert_eq!(any.gaps.iter().map(|g| g.label.as_str()).collect::<Vec<_>>(), vec!["13:00 to 14:00"]);
        // A whole day closed is one closed gap, and no start time.
        let day = Change::AddClosure { resource: None, starts_at: london(4, 0, 0).timestamp(), ends_at: london(5, 0, 0).timestamp(), reason: "Holiday".into() };
        ctx.engine.change(staff, spa.id, &day, StrandChoice::Ask).await.unwrap();
        let closed = ctx.engine.availability(spa.id, june(4), offer, specific(anna)).await.unwrap();
        assert!(closed.slots.is_empty());
        assert_eq!(closed.gaps.iter().map(|g| (g.label.as_str(), g.kind)).collect::<Vec<_>>(), vec![("09:00 to 18:00", GapKind::Closed)]);
        let counts = ctx.engine.day_counts(spa.id, (june(4), june(4)), offer, specific(anna), false, None).await.unwrap();
        assert_eq!((counts[0].open, counts[0].starts, counts[0].free), (false, 0, 0), "closed all day");
    }
}
