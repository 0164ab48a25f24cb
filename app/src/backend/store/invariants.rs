//! The invariant checks of the booking protocol: each query finds what must never exist.

use sqlx::{Postgres, Sqlite, Transaction};
use std::future::Future;

use super::rows::*;
use super::DbResult;
use super::{query_as, query_scalar};

/// The invariant checks of the booking protocol: each query finds what must never exist.
pub trait Checks: Send {
    /// The invariant query: pairs of live bookings overlapping on a resource.
    fn overlaps(&mut self) -> impl Future<Output = DbResult<Vec<Overlap>>> + Send;

    /// The second invariant query: bookings that are not live but still own
    /// claims or occupancy rows (freed time that stayed taken).
    fn ghost_claims(&mut self) -> impl Future<Output = DbResult<Vec<i64>>> + Send;

    /// Live bookings not over by `now` whose claims or occupancy rows do
    /// not match them: not one claim per unit of the venue's grid on each
    /// resource, or not one occupancy row per resource with the booking's
    /// times. (Bookings already over keep the claims of the grid they were
    /// made on: a grid change re-claims only what is still to come.)
    fn half_made(&mut self, now: i64) -> impl Future<Output = DbResult<Vec<i64>>> + Send;
}

/// One body per statement for both databases: see the module `store`.
macro_rules! impl_invariants {
    ($db:ty) => {
        impl<'c> Checks for Transaction<'c, $db> {
            async fn overlaps(&mut self) -> DbResult<Vec<Overlap>> {
                query_as::<$db, Overlap>(
                    "SELECT ra.resource_id, a.id AS first_booking, b.id AS second_booking \
                     FROM bookings a \
                     JOIN booking_resources ra ON ra.booking_id = a.id \
                     JOIN booking_resources rb ON rb.resource_id = ra.resource_id \
                          AND rb.booking_id > a.id \
                     JOIN bookings b ON b.id = rb.booking_id \
                     WHERE a.status IN ('held', 'confirmed') AND b.status IN ('held', 'confirmed') \
                     AND a.starts_at < b.occupied_until AND b.starts_at < a.occupied_until \
                     ORDER BY 1, 2, 3",
                )
                .fetch_all(&mut **self)
                .await
            }

            async fn ghost_claims(&mut self) -> DbResult<Vec<i64>> {
                query_scalar::<$db, i64>(
                    "SELECT b.id FROM bookings b WHERE b.status NOT IN ('held', 'confirmed') \
                     AND (EXISTS (SELECT 1 FROM claims c WHERE c.booking_id = b.id) \
                          OR EXISTS (SELECT 1 FROM occupancies o WHERE o.booking_id = b.id)) \
                     ORDER BY b.id",
                )
                .fetch_all(&mut **self)
                .await
            }

            async fn half_made(&mut self, now: i64) -> DbResult<Vec<i64>> {
                // A claim per unit the span touches on the venue's grid:
                // ceil(until / unit) - floor(start / unit), with whole-number
                // division that both engines do alike for these positive times.
                query_scalar::<$db, i64>(
                    "SELECT b.id FROM bookings b JOIN venues v ON v.id = b.venue_id \
                     WHERE b.status IN ('held', 'confirmed') AND b.occupied_until > $1 AND ( \
                       NOT EXISTS (SELECT 1 FROM booking_resources br WHERE br.booking_id = b.id) \
                       OR (SELECT COUNT(*) FROM claims c WHERE c.booking_id = b.id) <> \
                          (SELECT COUNT(*) FROM booking_resources br WHERE br.booking_id = b.id) \
                          * ((b.occupied_until + v.grid_minutes * 60 - 1) / (v.grid_minutes * 60) \
                             - b.starts_at / (v.grid_minutes * 60)) \
                       OR EXISTS (SELECT 1 FROM claims c WHERE c.booking_id = b.id \
                          AND (c.unit_start % (v.grid_minutes * 60) <> 0 \
                               OR c.unit_start < b.starts_at OR c.unit_start >= b.occupied_until \
                               OR NOT EXISTS (SELECT 1 FROM booking_resources br \
                                    WHERE br.booking_id = b.id AND br.resource_id = c.resource_id))) \
                       OR (SELECT COUNT(*) FROM occupancies o WHERE o.booking_id = b.id \
                           AND o.starts_at = b.starts_at AND o.occupied_until = b.occupied_until) <> \
                          (SELECT COUNT(*) FROM booking_resources br WHERE br.booking_id = b.id) \
                       OR (SELECT COUNT(*) FROM occupancies o WHERE o.booking_id = b.id) <> \
                          (SELECT COUNT(*) FROM booking_resources br WHERE br.booking_id = b.id)) \
                     ORDER BY b.id",
                )
                .bind(now)
                .fetch_all(&mut **self)
                .await
            }
        }
    };
}

impl_invariants!(Sqlite);
impl_invariants!(Postgres);
