//! The read-only look before the write transaction: is every suitable
//! resource already claimed for the requested time? It may only refuse; a
//! request it lets through still goes through the transaction, which alone
//! can claim. Under a storm for one slot it answers the losers without
//! queueing them for the write lock, and what it read is the winner's hint.

use crate::domain::booking::BookingRequest;
use std::collections::HashMap;

use super::failure::Failure;
use super::need::{need_for, Need};
use super::rules::{check_time_rules, Rules};
use super::shortcut::Taken;
use crate::backend::db::Backend;
use crate::backend::store::prelude::*;

/// What the read-only look found.
pub(crate) enum Looked {
    /// Every suitable resource is claimed then.
    Taken(Taken),
    /// Not taken as far as the look could tell.
    Free(Hint),
}

/// What the look read of a request, for its transaction: which resources
/// to lock, and the need with the venue's set-up version it was read at.
/// Only ever a hint: the transaction reads the venue again under its locks
/// and the need too unless that version is still the venue's.
#[derive(Clone, Debug, Default)]
pub(crate) struct Hint {
    pub lock_set: Vec<i64>,
    pub seen: Option<(i64, Need)>,
}

/// One read-only snapshot: the venue, the need, the claims of its
/// candidates; the idempotency key only when the slot is taken (a repeat
/// of the customer's own request is answered by the transaction).
pub(crate) async fn look<B: Backend>(
    b: &B,
    now: i64,
    req: &BookingRequest,
    rules: Rules,
) -> Result<Looked, Failure> {
    let mut tx = b.begin_read().await?;
    let Some(venue) = tx.venue(req.venue.0).await? else {
        return Ok(Looked::Free(Hint::default()));
    };
    let need = need_for(&mut tx, &venue, req.offer, req.resource).await?;
    let hint = Hint {
        lock_set: need.lock_set(),
        seen: Some((venue.setup_version, need.clone())),
    };
    let start = req.start.timestamp();
    if check_time_rules(&venue, now, start, rules).is_err() {
        return Ok(Looked::Free(hint));
    }
    let (_, occupied) = need.spans(start, venue.grid_minutes * 60);
    // For each claimed resource: until when its claims here last at least.
    let mut claimed: HashMap<i64, i64> = HashMap::new();
    let mut owners = Vec::new();
    for c in tx
        .live_claims(venue.id, occupied.start, occupied.end, now)
        .await?
    {
        if !need.candidates.iter().any(|r| r.id == c.resource_id) {
            continue;
        }
        let until = c.held_until.unwrap_or(i64::MAX);
        let longest = claimed.entry(c.resource_id).or_insert(until);
        *longest = (*longest).max(until);
        let owner = (c.customer_id, c.idempotency_key);
        if !owners.contains(&owner) {
            owners.push(owner);
        }
    }
    let until = need
        .candidates
        .iter()
        .map(|r| claimed.get(&r.id).copied())
        .collect::<Option<Vec<i64>>>()
        .and_then(|u| u.into_iter().min());
    let Some(until) = until else {
        return Ok(Looked::Free(hint));
    };
    let taken = Taken {
        until,
        owners,
        venue,
    };
    let repeat = taken.is_owner(req)
        || tx
            .booking_by_key(req.customer.0, req.idempotency_key.as_str())
            .await?
            .is_some();
    Ok(if repeat {
        Looked::Free(hint)
    } else {
        Looked::Taken(taken)
    })
}
