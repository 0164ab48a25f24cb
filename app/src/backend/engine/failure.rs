//! How an attempt fails, what is tried again, and what the caller is told:
//! transient database errors are retried here and nowhere else, and an
//! internal cause is logged once, when it is settled.

use crate::domain::booking::{BookingError, RuleViolation};
use rand::Rng;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::counters::Counters;
use crate::backend::db::is_transient;

/// Attempts of one operation when the database reports a transient failure.
const MAX_ATTEMPTS: u32 = 6;

/// How an attempt ended, before it becomes a `BookingError`.
#[derive(Debug)]
pub(crate) enum Failure {
    Refused(BookingError),
    /// The slot is claimed; alternatives are computed after the rollback.
    Taken,
    /// A staff operation's own answer (a stale version, stranded bookings).
    App(crate::domain::error::AppError),
    Db(sqlx::Error),
}

impl From<crate::domain::error::AppError> for Failure {
    fn from(e: crate::domain::error::AppError) -> Self {
        Failure::App(e)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Db(e)
    }
}

impl From<RuleViolation> for Failure {
    fn from(v: RuleViolation) -> Self {
        Failure::Refused(BookingError::Rejected(v))
    }
}

impl From<BookingError> for Failure {
    fn from(e: BookingError) -> Self {
        Failure::Refused(e)
    }
}

/// Turns what is left of a failure into the caller's error, logging the
/// internal cause once, here.
pub(crate) fn settle(f: Failure) -> BookingError {
    match f {
        Failure::Refused(e) => e,
        Failure::Taken => BookingError::SlotTaken {
            alternatives: Vec::new(),
        },
        Failure::App(e) => {
            tracing::error!(error = %e, "a staff answer reached a booking operation");
            BookingError::Internal
        }
        Failure::Db(e) if is_transient(&e) => {
            tracing::warn!(error = %e, "database still busy after retries");
            BookingError::Busy
        }
        Failure::Db(e) => {
            tracing::error!(error = %e, "database error");
            BookingError::Internal
        }
    }
}

/// Runs `op` again, after a jittered, growing pause, while it fails with a
/// transient database error; at most `MAX_ATTEMPTS` times.
pub(crate) async fn retrying<T, F, Fut>(counters: &Counters, mut op: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut attempt = 1;
    loop {
        let started = std::time::Instant::now();
        let result = op().await;
        counters.transaction_seconds.observe(started.elapsed());
        match result {
            Err(Failure::Db(e)) if is_transient(&e) && attempt < MAX_ATTEMPTS => {
                counters.retries.fetch_add(1, Ordering::Relaxed);
                let ceiling_ms = 4u64 << attempt.min(6);
                let pause = rand::thread_rng().gen_range(1..=ceiling_ms);
                tracing::debug!(attempt, pause_ms = pause, error = %e, "retrying transaction");
                tokio::time::sleep(Duration::from_millis(pause)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// A failure as the pages and the API say it.
pub(crate) fn settle_app(f: Failure) -> crate::domain::error::AppError {
    match f {
        Failure::App(e) => e,
        other => settle(other).into(),
    }
}
