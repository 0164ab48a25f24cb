//! What one instance remembers to answer a storm cheaply: the per-slot
//! turns, the slots found taken, the alternatives offered, and the
//! generation that outdates them. Everything here may only refuse or
//! advise; claiming always goes through the transaction (`place`).

use crate::domain::booking::{Alternative, BookingRequest};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

use super::rules::{check_time_rules, Rules};
use crate::backend::store::VenueRow;

/// How long a remembered answer (taken, or the alternatives) is used.
const REMEMBERED_FOR: Duration = Duration::from_secs(1);

/// The shortcuts of one engine instance, shared by its clones.
#[derive(Debug, Default)]
pub(crate) struct Shortcut {
    /// Moves on whenever this instance writes something that changes what
    /// is free: what was remembered under an older one is not used.
    generation: AtomicU64,
    turns: SlotTurns,
    taken: Mutex<HashMap<String, Remembered>>,
    offers: Mutex<HashMap<String, (u64, Instant, Vec<Alternative>)>>,
    /// One computation of alternatives per key at a time: a storm's losers
    /// wait for the first one's answer.
    computing: SlotTurns,
}

/// A slot found taken: every suitable resource is claimed then.
#[derive(Debug)]
pub(crate) struct Taken {
    /// Engine clock: the slot stays taken at least until then.
    pub until: i64,
    /// (customer, idempotency key) of the bookings that claim it.
    pub owners: Vec<(i64, String)>,
    /// For the time rules: a request they refuse gets their answer.
    pub venue: VenueRow,
}

#[derive(Debug)]
struct Remembered {
    generation: u64,
    seen: Instant,
    taken: Taken,
}

/// What a request asks for, as a key: venue, offer, resource choice, start.
fn slot_key(req: &BookingRequest) -> String {
    format!(
        "{}:{:?}:{:?}:{}",
        req.venue,
        req.offer,
        req.resource,
        req.start.timestamp()
    )
}

/// The alternatives of a slot depend on the bookable range too, which moves
/// with the clock: a minute's worth at most.
fn offers_key(req: &BookingRequest, now: i64) -> String {
    format!("{}:{}", slot_key(req), now.div_euclid(60))
}

impl Shortcut {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// Something this instance wrote changed what is free. Returns the new
    /// generation.
    pub fn changed(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The turn of the request's slot. Requests of this instance for one
    /// slot take turns at the write transaction (the write side), and each
    /// first looks read-only whether the slot is already claimed (the looks
    /// outside a turn run side by side, on the read side). A storm for one
    /// slot then costs one write and many reads instead of a queue of write
    /// transactions that each find the slot taken, and other slots are not
    /// held up behind it. Only an optimisation: the transaction and the
    /// schema's guards still decide, across instances too.
    pub fn turn(&self, req: &BookingRequest) -> Arc<RwLock<()>> {
        self.turns.gate(slot_key(req))
    }

    /// Whether the slot was found taken under `generation`, lately enough,
    /// for a request that is not one of its owners' own repeats and that
    /// the venue's time rules would not refuse anyway. A slot is
    /// remembered until the first of its holds could lapse; what another
    /// instance frees shows within the second.
    pub fn remembers_taken(
        &self,
        req: &BookingRequest,
        generation: u64,
        now: i64,
        rules: Rules,
    ) -> bool {
        let entries = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&slot_key(req)).is_some_and(|r| {
            r.generation == generation
                && r.seen.elapsed() < REMEMBERED_FOR
                && now < r.taken.until
                && !r.taken.is_owner(req)
                && check_time_rules(&r.taken.venue, now, req.start.timestamp(), rules).is_ok()
        })
    }

    /// Remembers the request's slot as taken, as seen under `generation`.
    pub fn remember_taken(&self, req: &BookingRequest, generation: u64, taken: Taken) {
        let mut entries = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= 4096 {
            entries.retain(|_, r| r.seen.elapsed() < REMEMBERED_FOR);
        }
        entries.insert(
            slot_key(req),
            Remembered {
                generation,
                seen: Instant::now(),
                taken,
            },
        );
    }

    /// The alternatives offered lately for the request's slot, if still
    /// of this generation.
    pub fn offered(
        &self,
        req: &BookingRequest,
        now: i64,
        generation: u64,
    ) -> Option<Vec<Alternative>> {
        let entries = self.offers.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&offers_key(req, now))
            .filter(|(g, at, _)| *g == generation && at.elapsed() < REMEMBERED_FOR)
            .map(|(_, _, alternatives)| alternatives.clone())
    }

    /// The turn to compute the alternatives of the request's slot.
    pub fn offering_turn(&self, req: &BookingRequest, now: i64) -> Arc<RwLock<()>> {
        self.computing.gate(offers_key(req, now))
    }

    pub fn remember_offered(
        &self,
        req: &BookingRequest,
        now: i64,
        generation: u64,
        alternatives: &[Alternative],
    ) {
        let mut entries = self.offers.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= 1024 {
            entries.retain(|_, (_, at, _)| at.elapsed() < REMEMBERED_FOR);
        }
        entries.insert(
            offers_key(req, now),
            (generation, Instant::now(), alternatives.to_vec()),
        );
    }
}

impl Taken {
    /// Whether `req` repeats the request of one of the bookings claiming
    /// the slot: the transaction answers it with that booking.
    pub fn is_owner(&self, req: &BookingRequest) -> bool {
        self.owners
            .iter()
            .any(|(c, k)| *c == req.customer.0 && k == req.idempotency_key.as_str())
    }
}

/// Keyed read-write locks, one per key in use.
#[derive(Debug, Default)]
struct SlotTurns {
    gates: Mutex<HashMap<String, Weak<RwLock<()>>>>,
}

impl SlotTurns {
    fn gate(&self, key: String) -> Arc<RwLock<()>> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(g) = gates.get(&key).and_then(Weak::upgrade) {
            return g;
        }
        if gates.len() >= 4096 {
            gates.retain(|_, g| g.strong_count() > 0);
        }
        let g = Arc::new(RwLock::new(()));
        gates.insert(key, Arc::downgrade(&g));
        g
    }
}
