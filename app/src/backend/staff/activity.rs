//! Booking activity: the counts each instance gathers in memory, written
//! to the database, and read back per venue and hour.

use crate::domain::admin::{HourStats, Stats};
use crate::domain::error::AppError;
use crate::domain::ids::VenueId;
use crate::domain::schedule;
use std::collections::{BTreeMap, HashMap};

use super::Staff;
use crate::backend::db::{with_backend, Backend};
use crate::backend::engine::{retrying, settle_app, Engine, Failure};
use crate::backend::stats::{hour_of, Event};
use crate::backend::store::prelude::*;
use crate::backend::store::StatRow;

impl Engine {
    /// Writes the counts gathered in memory to the database.
    pub async fn flush_stats(&self) -> Result<(), AppError> {
        let pending = self.recorder().take();
        if pending.is_empty() {
            return Ok(());
        }
        let written = with_backend!(self.db(), |b| {
            retrying(self.counters(), || async {
                let mut tx = b.begin_write().await?;
                for ((venue, hour, event), n) in &pending {
                    tx.add_stat(*venue, *hour, event.kind(), *n).await?;
                }
                tx.commit().await?;
                Ok::<_, Failure>(())
            })
            .await
        });
        if let Err(f) = written {
            self.recorder().restore(pending);
            return Err(settle_app(f));
        }
        Ok(())
    }

    /// Booking activity of the venues `staff` runs: the last 48 hours hour
    /// by hour, and totals.
    pub async fn stats(&self, staff: Staff) -> Result<Stats, AppError> {
        self.flush_stats().await?;
        let since = hour_of(self.clock().now()) - 47 * 3600;
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                let ids = tx.venues_run_by(staff.user.0).await?;
                let names: HashMap<i64, String> = tx
                    .venues()
                    .await?
                    .into_iter()
                    .filter(|v| ids.contains(&v.id))
                    .map(|v| (v.id, v.name))
                    .collect();
                let hours = group_stats(tx.stats_since(since).await?, &names);
                let totals = group_stats(tx.stat_totals().await?, &names);
                Ok::<_, Failure>(Stats { hours, totals })
            }
            .await
            .map_err(settle_app)
        })
    }

    /// Totals for `/metrics`: (venue name, kind, count), of every venue, or
    /// of those `viewer` runs.
    pub async fn stat_totals(
        &self,
        viewer: Option<Staff>,
    ) -> Result<Vec<(String, &'static str, i64)>, AppError> {
        self.flush_stats().await?;
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                let allowed = match viewer {
                    Some(staff) => Some(tx.venues_run_by(staff.user.0).await?),
                    None => None,
                };
                let names: HashMap<i64, String> = tx
                    .venues()
                    .await?
                    .into_iter()
                    .filter(|v| allowed.as_ref().is_none_or(|a| a.contains(&v.id)))
                    .map(|v| (v.id, v.name))
                    .collect();
                Ok::<_, Failure>(
                    tx.stat_totals()
                        .await?
                        .into_iter()
                        .filter_map(|r| {
                            Some((
                                names.get(&r.venue_id)?.clone(),
                                Event::parse(&r.kind)?.kind(),
                                r.count,
                            ))
                        })
                        .collect(),
                )
            }
            .await
            .map_err(settle_app)
        })
    }
}
fn group_stats(rows: Vec<StatRow>, names: &HashMap<i64, String>) -> Vec<HourStats> {
    let mut grouped: BTreeMap<(std::cmp::Reverse<i64>, i64), HourStats> = BTreeMap::new();
    for r in rows {
        let Some(name) = names.get(&r.venue_id) else {
            continue;
        };
        let s = grouped
            .entry((std::cmp::Reverse(r.hour_start), r.venue_id))
            .or_insert_with(|| HourStats {
                venue: VenueId(r.venue_id),
                venue_name: name.clone(),
                hour_start: schedule::to_datetime(r.hour_start),
                ..HourStats::default()
            });
        match Event::parse(&r.kind) {
            Some(Event::Booked) => s.booked += r.count,
            Some(Event::Conflict) => s.conflicts += r.count,
            Some(Event::HoldPlaced) => s.holds_placed += r.count,
            Some(Event::HoldConfirmed) => s.holds_confirmed += r.count,
            Some(Event::HoldExpired) => s.holds_expired += r.count,
            None => {}
        }
    }
    grouped.into_values().collect()
}
