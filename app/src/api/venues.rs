#[cfg(feature = "ssr")]
use crate::domain::error::internal;
use crate::domain::error::AppError;
use crate::domain::venue::VenueOverview;
use leptos::prelude::*;

/// Every venue with its resources and services.
#[server(prefix = "/api", endpoint = "venues")]
pub async fn list_venues() -> Result<Vec<VenueOverview>, AppError> {
    let state = super::state()?;
    crate::backend::catalog::overview(state.engine.db())
        .await
        .map_err(internal("listing venues"))
}
