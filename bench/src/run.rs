//! A run: set up, the phases in their order, tear down.

use crate::args::Args;
use crate::phases::{browse, check, naive, spread, storm};
use crate::setup::Bench;
use crate::slots::{storm_day, storm_slot};

pub async fn run(args: Args) {
    let bench = Bench::start(args).await;
    let day = storm_day();
    let storm_slot = storm_slot(day);
    storm::run(&bench, &storm_slot).await;
    naive::run(&bench, &storm_slot).await;
    if bench.args.spread > 0 {
        spread::run(&bench, day).await;
    }
    if bench.args.browse > 0 {
        browse::run(&bench, day).await;
    }
    check::run(&bench).await;
    bench.finish().await;
}
