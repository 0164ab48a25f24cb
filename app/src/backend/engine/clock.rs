//! The engine's idea of now. Every decision reads it under its locks.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The engine's idea of now, in UTC seconds. Tests set it by hand.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(at: i64) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(at)))
    }

    pub fn now(&self) -> i64 {
        match self {
            Clock::System => chrono::Utc::now().timestamp(),
            Clock::Manual(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock; a system clock ignores it.
    pub fn set(&self, at: i64) {
        if let Clock::Manual(t) = self {
            t.store(at, Ordering::SeqCst);
        }
    }
}
