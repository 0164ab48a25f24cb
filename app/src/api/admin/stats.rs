//! The server function of the statistics page.

#[cfg(feature = "ssr")]
use super::ssr;
use crate::domain::admin::Stats;
use crate::domain::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api/admin", endpoint = "stats")]
pub async fn load_stats() -> Result<Stats, AppError> {
    let staff = ssr::staff().await?;
    crate::api::state()?.engine.stats(staff).await
}
