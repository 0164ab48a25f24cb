//! The spread: bookings over distinct slots at concurrency C, over HTTP
//! and through the engine directly (the ceiling), then the invariant
//! query.

use crate::args::die;
use crate::database::overlaps;
use crate::measure::{at_concurrency, Phase, Sample};
use crate::setup::Bench;
use crate::slots::{body, distinct_slots, request, Slot};
use app::backend::engine::Engine;
use app::domain::ids::UserId;
use chrono::NaiveDate;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

pub async fn run(bench: &Bench, day: NaiveDate) {
    let (args, http, cookies) = (&bench.args, &bench.http, &bench.cookies);
    let slots = distinct_slots(day, 330);
    if slots.len() < 2 * args.spread {
        die(&format!(
            "only {} distinct slots for a spread of {} twice",
            slots.len(),
            args.spread
        ));
    }
    // Interleaved halves: both runs book the same mix of venues and days.
    let http_slots: Vec<Slot> = slots.iter().step_by(2).take(args.spread).copied().collect();
    let engine_slots: Vec<Slot> = slots
        .iter()
        .skip(1)
        .step_by(2)
        .take(args.spread)
        .copied()
        .collect();
    println!(
        "\n== spread: {} bookings over distinct slots at concurrency {}",
        args.spread, args.concurrency
    );
    let over_http = at_concurrency(
        "spread: POST /api/v1/bookings",
        args.spread,
        args.concurrency,
        |i| {
            http.post(format!("{}/api/v1/bookings", bench.url(i)))
                .header("cookie", &cookies[i % cookies.len()])
                .json(&body(&http_slots[i], &format!("spread-{i}")))
        },
    )
    .await;
    let direct = engine_spread(
        &bench.engine,
        &engine_slots,
        &bench.customers,
        args.concurrency,
    )
    .await;
    over_http.print();
    direct.print();
    println!(
        "  HTTP / engine-only bookings per second: {:.2}",
        over_http.rps() / direct.rps().max(1e-9)
    );
    println!(
        "  double bookings (invariant query): {}",
        overlaps(&bench.engine).await
    );
}

/// The same spread through the engine directly: no HTTP, no session.
async fn engine_spread(engine: &Engine, slots: &[Slot], customers: &[UserId], c: usize) -> Phase {
    let gate = Arc::new(Semaphore::new(c));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        let req = request(
            slot,
            customers[i % customers.len()],
            format!("engine-spread-{i}"),
        );
        let engine = engine.clone();
        let permit = gate.clone().acquire_owned().await.expect("the gate");
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let status = match engine.book(&req).await {
                Ok(_) => 201,
                Err(app::domain::booking::BookingError::SlotTaken { .. }) => 409,
                Err(e) => app::domain::error::AppError::from(e).status(),
            };
            drop(permit);
            Sample {
                status,
                latency: t.elapsed(),
                alternatives: false,
            }
        }));
    }
    Phase::gather("spread, engine only (ceiling)", tasks, t).await
}
