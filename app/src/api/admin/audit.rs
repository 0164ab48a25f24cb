//! The server function of the audit page: a venue's audit trail.

#[cfg(feature = "ssr")]
use super::ssr;
use crate::domain::admin::AuditEntry;
use crate::domain::error::AppError;
use leptos::prelude::*;

/// The audit trail of a venue, for a day (`YYYY-MM-DD`) or the latest, for
/// one resource or all.
#[server(prefix = "/api/admin", endpoint = "audit")]
pub async fn audit_trail(
    venue: i64,
    date: Option<String>,
    resource: Option<i64>,
) -> Result<Vec<AuditEntry>, AppError> {
    use crate::domain::ids::{ResourceId, VenueId};
    let staff = ssr::staff().await?;
    let date = match date.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => Some(ssr::date("date", d)?),
        None => None,
    };
    crate::api::state()?
        .engine
        .audit_trail(
            staff,
            VenueId(venue),
            date,
            resource.filter(|r| *r > 0).map(ResourceId),
        )
        .await
}
