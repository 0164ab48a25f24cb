//! Who runs which venue, and roles.

use sqlx::{Postgres, Sqlite, Transaction};
use std::future::Future;

use super::rows::*;
use super::DbResult;
use super::{query, query_as, query_scalar};
use crate::domain::admin::Role;

/// Who runs which venue, and roles.
pub trait Team: Send {
    // --- Staff: who runs what -------------------------------------------

    /// Whether `user` may run `venue`: an admin, or staff assigned to it.
    fn may_run(&mut self, user: i64, venue: i64) -> impl Future<Output = DbResult<bool>> + Send;

    /// The venues `user` may run, by id.
    fn venues_run_by(&mut self, user: i64) -> impl Future<Output = DbResult<Vec<i64>>> + Send;

    fn assign_staff(&mut self, user: i64, venue: i64) -> impl Future<Output = DbResult<()>> + Send;

    /// Takes every venue from `user`.
    fn unassign_staff(&mut self, user: i64) -> impl Future<Output = DbResult<()>> + Send;

    /// Takes one venue from `user`.
    fn unassign_staff_from(
        &mut self,
        user: i64,
        venue: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    fn set_role(&mut self, user: i64, role: Role) -> impl Future<Output = DbResult<()>> + Send;

    fn staff_members(&mut self) -> impl Future<Output = DbResult<Vec<StaffRow>>> + Send;

    /// (user, venue) pairs of `staff_venues`.
    fn staff_assignments(&mut self) -> impl Future<Output = DbResult<Vec<(i64, i64)>>> + Send;
}

/// One body per statement for both databases: see the module `store`.
macro_rules! impl_team {
    ($db:ty) => {
        impl<'c> Team for Transaction<'c, $db> {
            async fn may_run(&mut self, user: i64, venue: i64) -> DbResult<bool> {
                query_scalar::<$db, bool>(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'admin') \
                     OR EXISTS (SELECT 1 FROM staff_venues sv JOIN users u ON u.id = sv.user_id \
                                WHERE sv.user_id = $1 AND sv.venue_id = $2 AND u.role = 'staff')",
                )
                .bind(user)
                .bind(venue)
                .fetch_one(&mut **self)
                .await
            }

            async fn venues_run_by(&mut self, user: i64) -> DbResult<Vec<i64>> {
                query_scalar::<$db, i64>(
                    "SELECT v.id FROM venues v WHERE EXISTS \
                     (SELECT 1 FROM users WHERE id = $1 AND role = 'admin') \
                     OR EXISTS (SELECT 1 FROM staff_venues sv JOIN users u ON u.id = sv.user_id \
                                WHERE sv.user_id = $1 AND sv.venue_id = v.id AND u.role = 'staff') \
                     ORDER BY v.name, v.id",
                )
                .bind(user)
                .fetch_all(&mut **self)
                .await
            }

            async fn assign_staff(&mut self, user: i64, venue: i64) -> DbResult<()> {
                query::<$db>(
                    "INSERT INTO staff_venues (user_id, venue_id) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(user)
                .bind(venue)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn unassign_staff(&mut self, user: i64) -> DbResult<()> {
                query::<$db>("DELETE FROM staff_venues WHERE user_id = $1")
                    .bind(user)
                    .execute(&mut **self)
                    .await
                    .map(|_| ())
            }

            async fn unassign_staff_from(&mut self, user: i64, venue: i64) -> DbResult<()> {
                query::<$db>("DELETE FROM staff_venues WHERE user_id = $1 AND venue_id = $2")
                    .bind(user)
                    .bind(venue)
                    .execute(&mut **self)
                    .await
                    .map(|_| ())
            }

            async fn set_role(&mut self, user: i64, role: Role) -> DbResult<()> {
                query::<$db>("UPDATE users SET role = $2 WHERE id = $1")
                    .bind(user)
                    .bind(role.as_str())
                    .execute(&mut **self)
                    .await
                    .map(|_| ())
            }

            async fn staff_members(&mut self) -> DbResult<Vec<StaffRow>> {
                query_as::<$db, StaffRow>(
                    "SELECT id, email, display_name, role FROM users \
                     WHERE role IN ('staff', 'admin') ORDER BY display_name, id",
                )
                .fetch_all(&mut **self)
                .await
            }

            async fn staff_assignments(&mut self) -> DbResult<Vec<(i64, i64)>> {
                query_as::<$db, (i64, i64)>(
                    "SELECT user_id, venue_id FROM staff_venues ORDER BY user_id, venue_id",
                )
                .fetch_all(&mut **self)
                .await
            }
        }
    };
}

impl_team!(Sqlite);
impl_team!(Postgres);
