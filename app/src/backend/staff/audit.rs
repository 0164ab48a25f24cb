//! The audit trail: every staff change, as written in its transaction.

use crate::domain::admin::AuditEntry;
use crate::domain::error::AppError;
use crate::domain::ids::{BookingId, ResourceId, VenueId};
use crate::domain::schedule;
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::HashMap;

use super::{check_staff_date, venue_for, Staff};
use crate::backend::db::{with_backend, Backend};
use crate::backend::engine::{settle_app, Engine, Failure};
use crate::backend::store::prelude::*;
use crate::backend::store::{AuditRow, Store, VenueRow};

impl Engine {
    /// The audit trail of a venue: a day's entries (venue time), or the
    /// latest 500; only those about one resource when given.
    pub async fn audit_trail(
        &self,
        staff: Staff,
        venue: VenueId,
        date: Option<NaiveDate>,
        resource: Option<ResourceId>,
    ) -> Result<Vec<AuditEntry>, AppError> {
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                let (v, tz) = venue_for(&mut tx, staff, venue).await?;
                let (from, to) = match date {
                    Some(d) => {
                        check_staff_date("date", d, tz, self.clock().now())?;
                        let span = schedule::local_day(tz, d);
                        (span.start, span.end)
                    }
                    None => (i64::MIN, i64::MAX),
                };
                let rows = tx.audit(v.id, from, to, resource.map(|r| r.0)).await?;
                audit_entries(&mut tx, &v, tz, rows).await
            }
            .await
            .map_err(settle_app)
        })
    }
}
pub(super) async fn audit_entries<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    tz: Tz,
    rows: Vec<AuditRow>,
) -> Result<Vec<AuditEntry>, Failure> {
    let names: HashMap<i64, String> = tx
        .resources(venue.id)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|a| AuditEntry {
            id: a.id,
            at: schedule::to_datetime(a.at),
            at_label: schedule::label(tz, a.at),
            actor: a.actor_name,
            venue: VenueId(a.venue_id),
            resource: a.resource_id.map(ResourceId),
            resource_name: a.resource_id.and_then(|r| names.get(&r).cloned()),
            booking: a.booking_id.map(BookingId),
            action: a.action,
            before: a.before,
            after: a.after,
        })
        .collect())
}
