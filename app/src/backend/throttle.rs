//! Booking attempts per client address: a token bucket per address, in the
//! instance's memory.
//!
//! The per-customer limits (live holds, upcoming bookings) are the rule
//! and are decided in the database; this only bounds how fast one address
//! can ask, whatever accounts it uses. It may only refuse: a request it
//! lets through still meets every rule under the booking's lock. Kept in
//! memory so that it costs the booking path no write; with several
//! instances behind a proxy each counts its own share.

use crate::domain::error::AppError;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Buckets kept at most; past that the full ones (those that have waited
/// long enough to be as good as new) are dropped first.
const MAX_BUCKETS: usize = 100_000;

#[derive(Debug)]
pub struct AddressThrottle {
    /// Attempts an address may make in a burst, and per minute after it.
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Attempts left, in sixtieths of an attempt (one refills per second
    /// per attempt-a-minute).
    sixtieths: u64,
    /// When it was last filled up to, in seconds.
    at: i64,
}

impl AddressThrottle {
    /// `per_minute` attempts an address may make at once and then per
    /// minute; zero lets every attempt through.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::default(),
        }
    }

    /// Counts one attempt from `address` at `now` (seconds), or refuses it
    /// with `429 throttled` and how long until the next one may try.
    /// A local address is not counted (`auth::is_local`).
    pub fn take(&self, address: &str, now: i64) -> Result<(), AppError> {
        if self.per_minute == 0 || crate::auth::is_local(address) {
            return Ok(());
        }
        let full = u64::from(self.per_minute) * 60;
        let refill = u64::from(self.per_minute);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| level(b, now, refill, full) < full);
            if buckets.len() >= MAX_BUCKETS {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(key(address)).or_insert(Bucket {
            sixtieths: full,
            at: now,
        });
        let left = level(bucket, now, refill, full);
        bucket.at = now.max(bucket.at);
        if left < 60 {
            bucket.sixtieths = left;
            let wait = (60 - left).div_ceil(refill).max(1);
            return Err(AppError::RateLimited {
                retry_after_seconds: wait as i64,
                message: format!(
                    "Too many booking attempts from your network. Try again in {wait} seconds."
                ),
            });
        }
        bucket.sixtieths = left - 60;
        Ok(())
    }
}

/// What a bucket holds at `now`: its level plus what refilled since.
fn level(b: &Bucket, now: i64, refill: u64, full: u64) -> u64 {
    let elapsed = u64::try_from(now - b.at).unwrap_or(0);
    b.sixtieths
        .saturating_add(elapsed.saturating_mul(refill))
        .min(full)
}

/// The bucket an address counts in: an IPv4 address, or the /64 network of
/// an IPv6 one (one customer's connection is given a whole /64, and could
/// otherwise change address at every request).
fn key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_after(t: &AddressThrottle, address: &str, now: i64) -> usize {
        (0..1000)
            .position(|_| t.take(address, now).is_err())
            .unwrap_or(1000)
    }

    #[test]
    fn an_address_gets_its_burst_then_one_attempt_per_refill() {
        let t = AddressThrottle::new(6);
        assert_eq!(refused_after(&t, "192.0.2.1", 100), 6);
        match t.take("192.0.2.1", 100) {
            Err(AppError::RateLimited {
                retry_after_seconds,
                ..
            }) => assert_eq!(retry_after_seconds, 10),
            other => panic!("{other:?}"),
        }
        // Another address is counted apart.
        assert!(t.take("192.0.2.2", 100).is_ok());
        // Six a minute: one more after ten seconds, not after nine.
        assert!(t.take("192.0.2.1", 109).is_err());
        assert!(t.take("192.0.2.1", 110).is_ok());
        assert!(t.take("192.0.2.1", 110).is_err());
        // A long wait fills the bucket, no further.
        assert_eq!(refused_after(&t, "192.0.2.1", 10_000), 6);
    }

    #[test]
    fn an_ipv6_network_counts_as_one_address() {
        let t = AddressThrottle::new(2);
        assert!(t.take("2001:db8:1:2::1", 0).is_ok());
        assert!(t.take("2001:db8:1:2:ffff::9", 0).is_ok());
        assert!(t.take("2001:db8:1:2::77", 0).is_err());
        assert!(t.take("2001:db8:1:3::1", 0).is_ok());
        // An IPv4 client seen through an IPv6 socket is its IPv4 address.
        assert!(t.take("::ffff:192.0.2.9", 0).is_ok());
        assert!(t.take("192.0.2.9", 0).is_ok());
        assert!(t.take("192.0.2.9", 0).is_err());
    }

    #[test]
    fn zero_lets_everything_through_and_this_machine_is_not_counted() {
        let t = AddressThrottle::new(0);
        assert_eq!(refused_after(&t, "192.0.2.1", 0), 1000);
        let t = AddressThrottle::new(5);
        assert_eq!(refused_after(&t, "127.0.0.1", 0), 1000);
        assert_eq!(refused_after(&t, "::1", 0), 1000);
    }
}
