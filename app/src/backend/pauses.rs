//! Named points in the engine's write paths where a test can hold one
//! operation while others run, so that a test meets a dangerous
//! interleaving every time instead of once in ninety thousand tries: a
//! booking that read the venue before a set-up change and locks after it,
//! a cancellation held open while others queue at the lock.
//!
//! Compiled in only with the `pause-points` feature (the app's own tests
//! turn it on); otherwise `pause` is an empty inline function. A pause is
//! armed for one task at a time, through a task-local plan, so nothing is
//! threaded through the engine's calls and no other task ever waits.

/// Where an operation can be held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Point {
    /// A booking or hold after its read-only look (the fast refusal), before
    /// it takes its turn at the write transaction.
    AfterLook,
    /// In a write transaction, after its first reads and before it takes the
    /// locks that serialise it (SQLite: before `BEGIN IMMEDIATE`, which is
    /// that lock).
    BeforeLock,
    /// Every check done and every row written, before `COMMIT`: the locks
    /// are held.
    BeforeCommit,
}

#[cfg(feature = "pause-points")]
pub use armed::{pause, pause_at, PauseHandle, PausePlan};

#[cfg(not(feature = "pause-points"))]
#[inline(always)]
pub async fn pause(_point: Point) {}

#[cfg(feature = "pause-points")]
mod armed {
    use super::Point;
    use std::future::Future;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::watch;

    tokio::task_local! {
        static PLAN: Arc<PausePlan>;
    }

    /// One pause, for the task that runs under it: the first time that task
    /// reaches `point`, it waits until released or until `longest` passed
    /// (so that a pause that holds a lock others need cannot hang a test).
    #[derive(Debug)]
    pub struct PausePlan {
        point: Point,
        longest: Duration,
        used: AtomicBool,
        reached: watch::Sender<bool>,
        release: watch::Receiver<bool>,
    }

    /// The test's side of a pause.
    #[derive(Debug)]
    pub struct PauseHandle {
        reached: watch::Receiver<bool>,
        release: watch::Sender<bool>,
    }

    /// A plan to hold one operation at `point` for at most `longest`.
    pub fn pause_at(point: Point, longest: Duration) -> (Arc<PausePlan>, PauseHandle) {
        let (reached_tx, reached_rx) = watch::channel(false);
        let (release_tx, release_rx) = watch::channel(false);
        (
            Arc::new(PausePlan {
                point,
                longest,
                used: AtomicBool::new(false),
                reached: reached_tx,
                release: release_rx,
            }),
            PauseHandle {
                reached: reached_rx,
                release: release_tx,
            },
        )
    }

    impl PausePlan {
        /// Runs `op` with this plan armed for its task.
        pub async fn run<F: Future>(self: Arc<Self>, op: F) -> F::Output {
            PLAN.scope(self, op).await
        }
    }

    impl PauseHandle {
        /// Waits until the operation is held at its point; false if it did
        /// not get there within `within` (it ended, or took another path).
        pub async fn reached(&mut self, within: Duration) -> bool {
            tokio::time::timeout(within, self.reached.wait_for(|r| *r))
                .await
                .is_ok_and(|r| r.is_ok())
        }

        /// Whether the operation has been held at its point.
        pub fn was_reached(&self) -> bool {
            *self.reached.borrow()
        }

        /// Lets the operation go on.
        pub fn release(&self) {
            let _ = self.release.send(true);
        }
    }

    /// Holds the current task here if its plan names `point`.
    pub async fn pause(point: Point) {
        let Ok(plan) = PLAN.try_with(Arc::clone) else {
            return;
        };
        if plan.point != point || plan.used.swap(true, Ordering::SeqCst) {
            return;
        }
        let _ = plan.reached.send(true);
        let mut release = plan.release.clone();
        let _ = tokio::time::timeout(plan.longest, release.wait_for(|r| *r)).await;
    }
}
