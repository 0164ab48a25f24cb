//! The storm: every customer books the same slot at once, beside the
//! floor (as many authenticated trivial requests at once), then the
//! engine's counters and the invariant query.

use crate::args::die;
use crate::database::overlaps;
use crate::instances::engine_counters;
use crate::measure::{burst, ms};
use crate::setup::Bench;
use crate::slots::{body, Slot};
use chrono_tz::Europe::London;

pub async fn run(bench: &Bench, storm_slot: &Slot) {
    let (args, http, cookies) = (&bench.args, &bench.http, &bench.cookies);
    println!(
        "\n== storm: {} customers book Anna, {} at once",
        args.storm,
        storm_slot
            .start
            .with_timezone(&London)
            .format("%a %-d %b %H:%M")
    );
    // Each customer's connection is opened first, so that neither burst
    // below pays for connecting and both are measured alike.
    let session = |i: usize| {
        http.get(format!("{}/api/v1/session", bench.url(i)))
            .header("cookie", &cookies[i])
    };
    let warm = burst("warm-up", args.storm, session).await;
    if warm.count(|s| s.status != 200) > 0 {
        die("the warm-up requests failed");
    }
    let floor = burst("floor: authenticated trivial", args.storm, session).await;
    let storm = burst("storm: POST /api/v1/bookings", args.storm, |i| {
        http.post(format!("{}/api/v1/bookings", bench.url(i)))
            .header("cookie", &cookies[i])
            .json(&body(storm_slot, &format!("storm-key-{i}")))
    })
    .await;
    floor.print();
    storm.print();
    println!(
        "  p99 storm / p99 floor: {:.2}",
        ms(storm.percentile(0.99)) / ms(floor.percentile(0.99)).max(1e-9)
    );
    let fast = engine_counters(&bench.instances, http).await;
    println!(
        "  double bookings after the storm (invariant query): {}",
        overlaps(&bench.engine).await
    );
    if let Some(f) = fast {
        println!("  {f}");
    }
}
