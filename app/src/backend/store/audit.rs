//! The audit trail of staff changes.

use sqlx::{Postgres, Sqlite, Transaction};
use std::future::Future;

use super::rows::*;
use super::DbResult;
use super::{query, query_as};

/// The audit trail of staff changes.
pub trait Audit: Send {
    // --- Staff: the audit trail and statistics ----------------------------

    fn insert_audit(&mut self, a: &NewAudit<'_>) -> impl Future<Output = DbResult<()>> + Send;

    /// Audit rows of a venue in `[from, to)`, newest first; only those
    /// about `resource` when given.
    fn audit(
        &mut self,
        venue: i64,
        from: i64,
        to: i64,
        resource: Option<i64>,
    ) -> impl Future<Output = DbResult<Vec<AuditRow>>> + Send;

    fn audit_of_booking(
        &mut self,
        booking: i64,
    ) -> impl Future<Output = DbResult<Vec<AuditRow>>> + Send;
}

/// One body per statement for both databases: see the module `store`.
macro_rules! impl_audit {
    ($db:ty) => {
        impl<'c> Audit for Transaction<'c, $db> {
            async fn insert_audit(&mut self, a: &NewAudit<'_>) -> DbResult<()> {
                query::<$db>(
                    "INSERT INTO audit_log (at, actor_id, venue_id, resource_id, service_id, \
                     booking_id, action, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(a.at)
                .bind(a.actor_id)
                .bind(a.venue_id)
                .bind(a.resource_id)
                .bind(a.service_id)
                .bind(a.booking_id)
                .bind(a.action)
                .bind(a.before.as_deref())
                .bind(a.after.as_deref())
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn audit(
                &mut self,
                venue: i64,
                from: i64,
                to: i64,
                resource: Option<i64>,
            ) -> DbResult<Vec<AuditRow>> {
                query_as::<$db, AuditRow>(
                    "SELECT a.id, a.at, a.actor_id, u.display_name AS actor_name, a.venue_id, \
                     a.resource_id, a.service_id, a.booking_id, a.action, a.before, a.after \
                     FROM audit_log a JOIN users u ON u.id = a.actor_id \
                     WHERE a.venue_id = $1 AND a.at >= $2 AND a.at < $3 \
                     AND ($4 IS NULL OR a.resource_id = $4 OR a.booking_id IN \
                          (SELECT booking_id FROM booking_resources WHERE resource_id = $4)) \
                     ORDER BY a.at DESC, a.id DESC LIMIT 500",
                )
                .bind(venue)
                .bind(from)
                .bind(to)
                .bind(resource)
                .fetch_all(&mut **self)
                .await
            }

            async fn audit_of_booking(&mut self, booking: i64) -> DbResult<Vec<AuditRow>> {
                query_as::<$db, AuditRow>(
                    "SELECT a.id, a.at, a.actor_id, u.display_name AS actor_name, a.venue_id, \
                     a.resource_id, a.service_id, a.booking_id, a.action, a.before, a.after \
                     FROM audit_log a JOIN users u ON u.id = a.actor_id \
                     WHERE a.booking_id = $1 ORDER BY a.at, a.id",
                )
                .bind(booking)
                .fetch_all(&mut **self)
                .await
            }
        }
    };
}

impl_audit!(Sqlite);
impl_audit!(Postgres);
