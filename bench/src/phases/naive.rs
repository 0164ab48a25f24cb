//! The naive storm: the same storm on Ben's slot through a check-then-
//! insert of the tool's own, to show what the engine prevents; its rows
//! are removed afterwards.

use crate::database::{execute, overlaps};
use crate::measure::ms;
use crate::setup::Bench;
use crate::slots::Slot;
use app::backend::db::Db;
use app::domain::ids::UserId;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;

pub async fn run(bench: &Bench, storm_slot: &Slot) {
    let (db, engine) = (&bench.db, &bench.engine);
    let naive_slot = Slot {
        resource: 2,
        ..*storm_slot
    };
    let before = overlaps(engine).await;
    let (made, took) = naive_storm(db, &naive_slot, &bench.customers).await;
    let naive_double = overlaps(engine).await - before;
    println!(
        "  naive check-then-insert, same storm on Ben: {made} bookings made for one slot, {naive_double} double-booked pairs, in {:.0} ms (the engine: 1 booking, 0 double bookings)",
        ms(took)
    );
    // Those rows would fail every later invariant check: remove them.
    let forget = ["DELETE FROM booking_resources WHERE booking_id IN (SELECT id FROM bookings WHERE idempotency_key LIKE 'naive-%')", "DELETE FROM bookings WHERE idempotency_key LIKE 'naive-%'"];
    for sql in forget {
        execute(db, sql).await.expect("remove the naive rows");
    }
}

/// The naive way: look, then insert, in two statements with no lock and
/// no claims. Lives here only, to show what the engine prevents.
async fn naive_storm(db: &Db, slot: &Slot, customers: &[UserId]) -> (usize, Duration) {
    let barrier = Arc::new(Barrier::new(customers.len()));
    let end = slot.start.timestamp() + 45 * 60;
    let t = Instant::now();
    let tasks: Vec<_> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (db, barrier, c, start, resource) = (db.clone(), barrier.clone(), c.0, slot.start.timestamp(), slot.resource);
            tokio::spawn(async move {
                barrier.wait().await;
                let check = "SELECT COUNT(*) FROM bookings b JOIN booking_resources br ON br.booking_id = b.id \
                             WHERE br.resource_id = $1 AND b.status IN ('held', 'confirmed') \
                             AND b.starts_at < $3 AND b.occupied_until > $2";
                let insert = "INSERT INTO bookings (customer_id, venue_id, service_id, starts_at, ends_at, \
                              occupied_until, status, idempotency_key, created_at, updated_at) \
                              VALUES ($1, 1, 1, $2, $3, $3, 'confirmed', $4, $2, $2) RETURNING id";
                let link = "INSERT INTO booking_resources (booking_id, resource_id) VALUES ($1, $2)";
                let key = format!("naive-{i}");
                let made = match &db {
                    Db::Sqlite(s) => {
                        let taken: i64 = sqlx::query_scalar(check).bind(resource).bind(start).bind(end).fetch_one(&s.read).await.unwrap_or(1);
                        if taken > 0 {
                            return false;
                        }
                        let Ok(id) = sqlx::query_scalar::<_, i64>(insert).bind(c).bind(start).bind(end).bind(&key).fetch_one(&s.write).await else { return false };
                        sqlx::query(link).bind(id).bind(resource).execute(&s.write).await.is_ok()
                    }
                    Db::Postgres(p) => {
                        let taken: i64 = sqlx::query_scalar(check).bind(resource).bind(start).bind(end).fetch_one(&p.pool).await.unwrap_or(1);
                        if taken > 0 {
                            return false;
                        }
                        let Ok(id) = sqlx::query_scalar::<_, i64>(insert).bind(c).bind(start).bind(end).bind(&key).fetch_one(&p.pool).await else { return false };
                        sqlx::query(link).bind(id).bind(resource).execute(&p.pool).await.is_ok()
                    }
                };
                made
            })
        })
        .collect();
    let made = futures::future::join_all(tasks)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(true)))
        .count();
    (made, t.elapsed())
}
