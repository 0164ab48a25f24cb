use crate::on_both_databases;
#[allow(unused_imports)]
use crate::support::Ctx;
use app::backend::catalog;
use app::backend::seed::{self, Seeded};

on_both_databases! {
    async fn seeding_twice_changes_nothing(ctx: Ctx) {
        let now = ctx.clock.now();
        assert_eq!(seed::seed_demo(&ctx.db, now).await.unwrap(), Seeded::Demo);
        let first = catalog::overview(&ctx.db).await.unwrap();
        assert_eq!(seed::seed_demo(&ctx.db, now).await.unwrap(), Seeded::AlreadyHadData);
        let second = catalog::overview(&ctx.db).await.unwrap();
        assert_eq!(first, second);

        let names: Vec<&str> = first.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, vec![seed::SPA, seed::RESTAURANT]);
        let spa = &first[0];
        assert_eq!(spa.resources.len(), 5, "3 therapists and 2 rooms");
        let minutes: Vec<i32> = spa.services.iter().map(|s| s.duration_minutes).collect();
        assert_eq!(minutes, vec![30, 60, 90]);
        let seats: Vec<i32> = first[1].resources.iter().filter_map(|r| r.capacity).collect();
        assert_eq!(seats, vec![2, 2, 4, 4, 6, 8]);
        assert_eq!(first[1].seating_minutes, Some(90));
    }

    async fn two_instances_seeding_at_once_seed_once(ctx: Ctx) {
        let now = ctx.clock.now();
        let (a, b) = tokio::join!(seed::seed_demo(&ctx.db, now), seed::seed_demo(&ctx.db, now));
        let outcomes = [a.unwrap(), b.unwrap()];
        assert_eq!(outcomes.iter().filter(|o| **o == Seeded::Demo).count(), 1);
        assert_eq!(catalog::overview(&ctx.db).await.unwrap().len(), 2);
    }
}
