//! Booking activity counted per venue and hour.
//!
//! Counting must not slow the booking path: events are added up in memory
//! and written in one short transaction now and then (by the sweeper, and
//! before statistics are read). Every instance adds its own counts to the
//! same rows, so the figures cover all instances.

use std::collections::HashMap;
use std::sync::Mutex;

/// What is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A booking made in one step.
    Booked,
    /// A "slot taken" answer.
    Conflict,
    HoldPlaced,
    HoldConfirmed,
    HoldExpired,
}

impl Event {
    pub const ALL: [Event; 5] = [
        Event::Booked,
        Event::Conflict,
        Event::HoldPlaced,
        Event::HoldConfirmed,
        Event::HoldExpired,
    ];

    /// The `kind` column of `venue_hourly_stats`.
    pub fn kind(self) -> &'static str {
        match self {
            Event::Booked => "booked",
            Event::Conflict => "conflict",
            Event::HoldPlaced => "hold_placed",
            Event::HoldConfirmed => "hold_confirmed",
            Event::HoldExpired => "hold_expired",
        }
    }

    pub fn parse(kind: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.kind() == kind)
    }
}

/// The hour an instant falls in, as its first second.
pub fn hour_of(at: i64) -> i64 {
    at.div_euclid(3600) * 3600
}

/// Counts not yet written: (venue, hour, event) → count.
pub type Pending = HashMap<(i64, i64, Event), i64>;

#[derive(Debug, Default)]
pub struct Recorder {
    pending: Mutex<Pending>,
}

impl Recorder {
    pub fn record(&self, venue: i64, at: i64, event: Event) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        *p.entry((venue, hour_of(at), event)).or_default() += 1;
    }

    /// Takes every pending count, to write them.
    pub fn take(&self) -> Pending {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts counts back after a failed write, so they are not lost.
    pub fn restore(&self, counts: Pending) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for (k, n) in counts {
            *p.entry(k).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_venue_hour_and_kind_and_survive_a_failed_write() {
        let r = Recorder::default();
        r.record(1, 7200, Event::Conflict);
        r.record(1, 7200 + 3599, Event::Conflict);
        r.record(1, 7200 + 3600, Event::Conflict);
        r.record(2, 7200, Event::Booked);
        let taken = r.take();
        assert_eq!(taken[&(1, 7200, Event::Conflict)], 2);
        assert_eq!(taken[&(1, 10800, Event::Conflict)], 1);
        assert_eq!(taken[&(2, 7200, Event::Booked)], 1);
        assert!(r.take().is_empty());
        r.record(1, 7200, Event::Conflict);
        r.restore(taken);
        assert_eq!(r.take()[&(1, 7200, Event::Conflict)], 3);
        assert_eq!(hour_of(-1), -3600);
    }
}

/// A Prometheus-style histogram of durations in seconds: cumulative counts
/// per upper bound, and the sum, kept in atomics.
#[derive(Debug)]
pub struct Histogram {
    counts: [std::sync::atomic::AtomicU64; BOUNDS.len() + 1],
    sum_micros: std::sync::atomic::AtomicU64,
}

/// Upper bounds of the buckets, in seconds.
pub const BOUNDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: std::array::from_fn(|_| std::sync::atomic::AtomicU64::new(0)),
            sum_micros: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn observe(&self, d: std::time::Duration) {
        use std::sync::atomic::Ordering::Relaxed;
        let s = d.as_secs_f64();
        let i = BOUNDS.iter().position(|b| s <= *b).unwrap_or(BOUNDS.len());
        self.counts[i].fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(d.as_micros() as u64, Relaxed);
    }

    /// (upper bound, cumulative count) per bucket, `+Inf` last as `None`;
    /// then the sum in seconds and the count.
    pub fn snapshot(&self) -> (Vec<(Option<f64>, u64)>, f64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let mut total = 0;
        let mut out = Vec::with_capacity(BOUNDS.len() + 1);
        for (i, c) in self.counts.iter().enumerate() {
            total += c.load(Relaxed);
            out.push((BOUNDS.get(i).copied(), total));
        }
        (out, self.sum_micros.load(Relaxed) as f64 / 1e6, total)
    }
}

#[cfg(test)]
mod histogram_tests {
    use super::Histogram;
    use std::time::Duration;

    #[test]
    fn buckets_are_cumulative_and_the_sum_adds_up() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(20));
        h.observe(Duration::from_secs(9));
        let (buckets, sum, count) = h.snapshot();
        assert_eq!(count, 3);
        assert_eq!(buckets[0], (Some(0.001), 1));
        assert_eq!(buckets[4], (Some(0.025), 2));
        assert_eq!(buckets.last().unwrap(), &(None, 3));
        assert!((sum - 9.0205).abs() < 1e-6);
    }
}
