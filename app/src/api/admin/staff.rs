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
    use crate::backend::accounts::Role;
    use crate::domain::ids::VenueId;
    use crate::domain::input::Email;
    use ssr::StaffAccount;
    let admin = ssr::staff().await?;
    let engine = &crate::api::state()?.engine;
    let email = Email::parse(&email)?;
    let role = Role::parse(&role).ok_or_else(|| AppError::Invalid {
        field: "role".to_owned(),
        message: "Choose customer, staff or admin.".to_owned(),
    })?;
    let mut venues: Vec<VenueId> = engine
        .staff_members(admin)
        .await?
        .into_iter()
        .find(|m| m.email == email.as_str())
        .map(|m| m.venues)
        .unwrap_or_default();
    if let Some(v) = venue.filter(|v| *v > 0) {
        if ssr::ticked(&remove) {
            venues.retain(|x| x.0 != v);
        } else if !venues.contains(&VenueId(v)) {
            venues.push(VenueId(v));
        }
    }
    engine
        .set_staff(admin, &email, &StaffAccount { role, venues })
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
