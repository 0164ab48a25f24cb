//! slotkeeper-bench: load against real app instances, with the ceilings
//! they are measured against, in one run.
//!
//! It starts the app (the release binary) on a fresh database, N instances
//! on their own ports for Postgres, signs in N customers, then runs:
//!
//! - storm: N concurrent `POST /api/v1/bookings` for one slot, beside a
//!   burst of N authenticated trivial requests (`GET /api/v1/session`, the
//!   HTTP and session floor; each customer's connection is opened before
//!   either burst), and the same storm through a deliberately naive
//!   check-then-insert that lives only here;
//! - spread: bookings over distinct slots at concurrency C, over HTTP and
//!   through the engine directly (same database, pool size, concurrency);
//! - browse: the server-rendered booking page (as a visitor not signed in
//!   gets it, and as a signed-in customer, rendered for each request) and
//!   the availability API at concurrency C, beside a trivial handler
//!   (`/healthz`);
//!
//! and after each booking phase the invariant query of the booking
//! protocol (double bookings; always 0 for the engine).
//!
//! Usage: slotkeeper-bench [--database sqlite|postgres] [--instances N]
//!        [--storm N] [--spread N] [--browse N] [--concurrency C]
//!        [--pool N] [--server PATH] [--postgres URL] [--pooler URL]
//!
//! `--pooler URL` (Postgres): the instances reach the database through a
//! transaction-pooling PgBouncer at URL (its database name is replaced by
//! the run's), migrating over `--postgres`; the engine-only phase and the
//! checks still connect to Postgres itself.

// `--help` prints the `//!` lines above (args.rs reads this file): they
// are the tool's usage text, so keep them first and add none after.

mod args;
mod customers;
mod database;
mod instances;
mod measure;
mod phases;
mod run;
mod setup;
mod slots;

#[tokio::main]
async fn main() {
    let args = args::Args::parse();
    run::run(args).await;
}
