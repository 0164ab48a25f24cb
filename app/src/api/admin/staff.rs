//! The server functions of the staff page (admins only): the staff,
//! setting a role and adding a venue.

#[cfg(feature = "ssr")]
use super::ssr;
use crate::domain::admin::StaffMember;
use crate::domain::error::AppError;
use leptos::prelude::*;

/// Staff and admins. Admins only.
#[server(prefix = "/api/admin", endpoint = "staff")]
pub async fn load_staff() -> Result<Vec<StaffMember>, AppError> {
    let staff = ssr::staff().await?;
    crate::api::state()?.engine.staff_members(staff).await
}

/// Gives the account with `email` a role; staff also run `venue` (added
/// to the venues they run). Admins only.
#[server(prefix = "/api/admin", endpoint = "set_staff")]
pub async fn set_staff(
    email: String,
    role: String,
    venue: Option<i64>,
    remove: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::admin::Role;
    use crate::domain::ids::VenueId;
    use crate::domain::input::Email;
    use ssr::StaffAccount;
    let admin = ssr::staff().await?;
    let engine = &crate::api::state()?.engine;
    let email = Email::parse(&email)?;
    let role = Role::parse(&role).ok_or_else(|| {
        AppError::invalid(
            "role".to_owned(),
            "Choose customer, staff or admin.".to_owned(),
        )
    })?;
    // One venue added or taken away: the engine applies it to the venues
    // the account runs when it commits, not to a list read here.
    let named: Vec<VenueId> = venue.filter(|v| *v > 0).map(VenueId).into_iter().collect();
    let (add, remove) = if ssr::ticked(&remove) {
        (Vec::new(), named)
    } else {
        (named, Vec::new())
    };
    engine
        .set_staff(admin, &email, &StaffAccount { role, add, remove })
        .await?;
    leptos_axum::redirect("/admin/staff?saved=1");
    Ok(())
}

/// A new venue (a spa, or a restaurant when `kind` is "restaurant"). Admins only.
#[server(prefix = "/api/admin", endpoint = "add_venue")]
pub async fn add_venue(name: String, timezone: String, kind: String) -> Result<(), AppError> {
    let admin = ssr::staff().await?;
    let id = crate::api::state()?
        .engine
        .add_venue(admin, &name, timezone.trim(), kind == "restaurant")
        .await?;
    leptos_axum::redirect(&format!("/admin/venues/{id}/setup?saved=venue"));
    Ok(())
}
