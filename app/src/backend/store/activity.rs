//! Booking activity counted per venue and hour.

use sqlx::{Postgres, Sqlite, Transaction};
use std::future::Future;

use super::rows::*;
use super::DbResult;
use super::{query, query_as};

/// Booking activity counted per venue and hour.
pub trait Activity: Send {
    /// Adds `n` to a venue's counter for an hour.
    fn add_stat(
        &mut self,
        venue: i64,
        hour_start: i64,
        kind: &str,
        n: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    fn stats_since(&mut self, since: i64) -> impl Future<Output = DbResult<Vec<StatRow>>> + Send;

    /// Totals per venue and kind, all time.
    fn stat_totals(&mut self) -> impl Future<Output = DbResult<Vec<StatRow>>> + Send;
}

/// One body per statement for both databases: see the module `store`.
macro_rules! impl_activity {
    ($db:ty) => {
        impl<'c> Activity for Transaction<'c, $db> {
            async fn add_stat(&mut self, venue: i64, hour_start: i64, kind: &str, n: i64) -> DbResult<()> {
                query::<$db>(
                    "INSERT INTO venue_hourly_stats (venue_id, hour_start, kind, count) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (venue_id, hour_start, kind) \
                     DO UPDATE SET count = venue_hourly_stats.count + excluded.count",
                )
                .bind(venue)
                .bind(hour_start)
                .bind(kind)
                .bind(n)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn stats_since(&mut self, since: i64) -> DbResult<Vec<StatRow>> {
                query_as::<$db, StatRow>(
                    "SELECT venue_id, hour_start, kind, count FROM venue_hourly_stats \
                     WHERE hour_start >= $1 ORDER BY hour_start DESC, venue_id",
                )
                .bind(since)
                .fetch_all(&mut **self)
                .await
            }

            async fn stat_totals(&mut self) -> DbResult<Vec<StatRow>> {
                query_as::<$db, StatRow>(
                    "SELECT venue_id, CAST(0 AS BIGINT) AS hour_start, kind, \
                     CAST(SUM(count) AS BIGINT) AS count \
                     FROM venue_hourly_stats GROUP BY venue_id, kind ORDER BY venue_id, kind",
                )
                .fetch_all(&mut **self)
                .await
            }
        }
    };
}

impl_activity!(Sqlite);
impl_activity!(Postgres);
