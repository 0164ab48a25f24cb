//! The final invariant check, after every phase: double bookings, and
//! bookings no longer live that still claim time.

use crate::args::die;
use crate::database::overlaps;
use crate::setup::Bench;

pub async fn run(bench: &Bench) {
    println!(
        "\nfinal invariant check: {} double bookings, {} bookings not live that still claim time",
        overlaps(&bench.engine).await,
        bench
            .engine
            .ghost_claims()
            .await
            .map(|g| g.len())
            .unwrap_or_else(|e| die(&format!("the ghost-claims query failed: {e}")))
    );
}
