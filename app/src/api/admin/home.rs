//! The server function of the admin home page: the venues a staff
//! member runs (the staff page lists them too).

#[cfg(feature = "ssr")]
use super::ssr;
use crate::domain::admin::StaffVenue;
use crate::domain::error::AppError;
use leptos::prelude::*;

/// The venues the signed-in staff member runs.
#[server(prefix = "/api/admin", endpoint = "venues")]
pub async fn admin_venues() -> Result<Vec<StaffVenue>, AppError> {
    let staff = ssr::staff().await?;
    crate::api::state()?.engine.venues_run_by(staff).await
}
