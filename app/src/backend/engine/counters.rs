//! What one engine instance has seen since it started, for `/metrics`.

use std::sync::atomic::AtomicU64;

use crate::backend::stats::Histogram;

/// What the engine has seen since it started (one instance).
#[derive(Debug, Default)]
pub struct Counters {
    /// Transactions tried again after a transient failure.
    pub retries: AtomicU64,
    /// Attempts stopped by a guard of the schema (a unique index, the
    /// overlap guard) rather than by the checks under the lock: with the
    /// lock working, only duplicate idempotency keys sent at once.
    pub unique_violations: AtomicU64,
    /// Requests refused by the read-only look before the write transaction.
    pub fast_refusals: AtomicU64,
    /// Of those, the ones answered from the slots remembered as taken,
    /// without reading the database.
    pub remembered_refusals: AtomicU64,
    /// Booking and hold attempts by how they ended.
    pub outcomes: Outcomes,
    /// How long each transaction of the engine took, lock waits included.
    pub transaction_seconds: Histogram,
    /// How long booking transactions waited for their locks (SQLite: the
    /// writer connection and `BEGIN IMMEDIATE`; Postgres: `FOR UPDATE`).
    pub lock_wait_seconds: Histogram,
    /// What this instance's dispatcher did with the outbox's messages.
    pub messages: MessageCounters,
}

/// Messages by how their attempts ended (one instance).
#[derive(Debug, Default)]
pub struct MessageCounters {
    pub sent: AtomicU64,
    /// Attempts that failed, the last ones of dead messages among them.
    pub failed: AtomicU64,
    /// Messages given up on.
    pub dead: AtomicU64,
}

/// Booking and hold attempts by outcome.
#[derive(Debug, Default)]
pub struct Outcomes {
    pub booked: AtomicU64,
    pub held: AtomicU64,
    /// "Slot taken", by the fast refusal or the transaction.
    pub taken: AtomicU64,
    /// A rule of the venue refused it, or it repeated an idempotency key.
    pub refused: AtomicU64,
    /// Busy or an internal error.
    pub failed: AtomicU64,
}
