//! The locks a write transaction takes before it decides: the resources
//! it may claim or free, in id order, grown while what is read under them
//! asks for more. On SQLite the write transaction holds the database's
//! write lock from BEGIN, and every read in it is under that lock.

use std::time::{Duration, Instant};

use crate::backend::db::Backend;
use crate::backend::pauses::{self, Point};
use crate::backend::store::prelude::*;
use crate::backend::store::{DbResult, Store};

/// Begins a write transaction. On SQLite that is where the lock is taken.
pub(crate) async fn begin_write<B: Backend>(b: &B) -> DbResult<B::Tx> {
    if B::Tx::LOCKS_AT_BEGIN {
        pauses::pause(Point::BeforeLock).await;
    }
    b.begin_write().await
}

/// The resources a transaction holds locked.
#[derive(Debug, Default)]
pub(crate) struct LockSet {
    locked: Vec<i64>,
    waited: Duration,
}

impl LockSet {
    /// Whether every resource of `wanted` is locked already. If not, locks
    /// them with those held (one statement, in id order) and answers
    /// `false`: whatever chose `wanted` must be read again under the new
    /// locks, and may want more. A set that grows so locks out of id order;
    /// the database detects the rare deadlock and the attempt is retried.
    pub async fn covers<S: Store>(&mut self, tx: &mut S, wanted: &[i64]) -> DbResult<bool> {
        let held = wanted.iter().all(|r| self.locked.contains(r));
        self.locked.extend_from_slice(wanted);
        self.locked.sort_unstable();
        self.locked.dedup();
        if S::LOCKS_AT_BEGIN || held {
            return Ok(true);
        }
        pauses::pause(Point::BeforeLock).await;
        let waiting = Instant::now();
        tx.lock_resources(&self.locked).await?;
        self.waited += waiting.elapsed();
        Ok(false)
    }

    /// Whether anything was locked yet (on SQLite: always, from BEGIN).
    pub fn holds_any<S: Store>(&self) -> bool {
        S::LOCKS_AT_BEGIN || !self.locked.is_empty()
    }

    pub fn locked(&self) -> &[i64] {
        &self.locked
    }

    /// How long the lock statements waited.
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

/// Locks the resources a booking uses, read again under the locks until
/// they are the ones locked (a move may change them meanwhile). Returns
/// them.
pub(crate) async fn lock_booking_resources<S: Store>(
    tx: &mut S,
    locks: &mut LockSet,
    booking: i64,
) -> DbResult<Vec<i64>> {
    loop {
        let used = tx.booking_resources(booking).await?;
        if locks.covers(tx, &used).await? {
            return Ok(used);
        }
    }
}
