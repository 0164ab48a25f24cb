//! What to offer when the requested time was taken: the same resource
//! earlier and later that day, other suitable resources then, the same time
//! on the next day it is free. Advice read after the rollback, computed once
//! per slot at a time and remembered for a second (`shortcut`).

use crate::domain::booking::{
    Alternative, AlternativeKind, BookingError, BookingRequest, ResourceChoice, RuleViolation,
};
use crate::domain::ids::ResourceId;
use crate::domain::schedule::{self, Ambiguity};
use chrono::Timelike;
use std::collections::HashMap;

use super::day::Day;
use super::failure::{settle, Failure};
use super::need::need_for;
use super::rules::{bookable_range, venue_zone};
use super::Engine;
use crate::backend::db::Backend;
use crate::backend::store::prelude::*;

/// How far the next-open-day alternative looks ahead.
const NEXT_DAY_SEARCH_DAYS: i64 = 14;
/// At most this many other resources are offered at the requested time.
const OTHER_RESOURCE_ALTERNATIVES: usize = 3;

impl Engine {
    /// "Slot taken", with the alternatives to offer.
    pub(crate) async fn slot_taken<B: Backend>(&self, b: &B, req: &BookingRequest) -> BookingError {
        let alternatives = self.alternatives_for(b, req).await;
        BookingError::SlotTaken { alternatives }
    }

    /// The alternatives to a taken request; none when they cannot be
    /// read (the slot is still taken; the customer just sees no offers).
    pub(crate) async fn alternatives_for<B: Backend>(
        &self,
        b: &B,
        req: &BookingRequest,
    ) -> Vec<Alternative> {
        let now = self.clock.now();
        let generation = self.shortcut.generation();
        if let Some(offered) = self.shortcut.offered(req, now, generation) {
            return offered;
        }
        // One request computes them; the others of a storm wait for it.
        let turn = self.shortcut.offering_turn(req, now);
        let _computing = turn.write().await;
        if let Some(offered) = self.shortcut.offered(req, now, generation) {
            return offered;
        }
        match alternatives(b, now, req).await {
            Ok(a) => {
                self.shortcut.remember_offered(req, now, generation, &a);
                a
            }
            Err(f) => {
                let e = settle(f);
                tracing::warn!(error = %e, "could not compute alternatives");
                Vec::new()
            }
        }
    }
}

/// Free times to offer when the requested one was taken: the same resource
/// earlier and later that day, other suitable resources at that time, and
/// the same time on the next day it is free. Read after the rollback, in a
/// snapshot of its own: advice, not a promise.
pub(crate) async fn alternatives<B: Backend>(
    b: &B,
    now: i64,
    req: &BookingRequest,
) -> Result<Vec<Alternative>, Failure> {
    let mut tx = b.begin_read().await?;
    let venue = tx
        .venue(req.venue.0)
        .await?
        .ok_or(RuleViolation::UnknownVenue)?;
    let tz = venue_zone(&venue)?;
    let need = need_for(&mut tx, &venue, req.offer, req.resource).await?;
    // Other resources are offered even when the customer chose one.
    let others = need_for(&mut tx, &venue, req.offer, ResourceChoice::Any).await?;
    let start = req.start.timestamp();
    let date = schedule::local_date(tz, start);
    let (earliest, latest) = bookable_range(&venue, now);
    let names: HashMap<i64, String> = tx
        .resources(venue.id)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let offer = |kind, t: i64, resource: i64| Alternative {
        kind,
        start: schedule::to_datetime(t),
        resource: ResourceId(resource),
        resource_name: names.get(&resource).cloned().unwrap_or_default(),
        label: schedule::label(tz, t),
    };
    let mut out = Vec::new();

    let day = Day::load(&mut tx, &venue, tz, date, None, now).await?;
    let grid = need.grid(&day, earliest, latest);
    if let Some((t, free)) = grid.iter().rev().find(|(t, f)| *t < start && !f.is_empty()) {
        out.push(offer(AlternativeKind::Earlier, *t, free[0]));
    }
    if let Some((t, free)) = grid.iter().find(|(t, f)| *t > start && !f.is_empty()) {
        out.push(offer(AlternativeKind::Later, *t, free[0]));
    }
    let chosen: Vec<i64> = need.candidates.iter().map(|c| c.id).collect();
    if let Some((_, free)) = others
        .grid(&day, earliest, latest)
        .iter()
        .find(|(t, _)| *t == start)
    {
        for r in free
            .iter()
            .filter(|r| !(req.resource != ResourceChoice::Any && chosen.contains(r)))
            .take(OTHER_RESOURCE_ALTERNATIVES)
        {
            out.push(offer(AlternativeKind::OtherResource, start, *r));
        }
    }
    let local = schedule::to_datetime(start).with_timezone(&tz);
    let minute = i64::from(local.hour() * 60 + local.minute());
    for d in 1..=NEXT_DAY_SEARCH_DAYS {
        let Some(next) = date.checked_add_days(chrono::Days::new(d as u64)) else {
            break;
        };
        let t = schedule::local_instant(tz, next, minute, Ambiguity::Earliest);
        if t > latest {
            break;
        }
        if !schedule::is_on_grid(t, day.unit) || t < earliest {
            continue;
        }
        let next_day = Day::load(&mut tx, &venue, tz, next, None, now).await?;
        if let Some(r) = need
            .candidates
            .iter()
            .find(|c| need.fits(&next_day, c.id, t))
        {
            out.push(offer(AlternativeKind::NextOpenDay, t, r.id));
            break;
        }
    }
    Ok(out)
}
