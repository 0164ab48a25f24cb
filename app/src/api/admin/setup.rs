//! The server functions of a venue's set-up page: the set-up and every
//! change to settings, resources, offers, hours, services and closures.

#[cfg(feature = "ssr")]
use super::ssr::{self, change};
use crate::domain::admin::VenueSetup;
use crate::domain::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api/admin", endpoint = "setup")]
pub async fn load_setup(venue: i64) -> Result<VenueSetup, AppError> {
    use crate::domain::ids::VenueId;
    let staff = ssr::staff().await?;
    crate::api::state()?
        .engine
        .venue_setup(staff, VenueId(venue))
        .await
}

#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "settings")]
pub async fn save_settings(
    venue: i64,
    version: i64,
    name: String,
    grid_minutes: i64,
    hold_minutes: i64,
    cancellation_window_minutes: i64,
    min_notice_minutes: i64,
    advance_days: i64,
    seating_minutes: Option<i64>,
    choice: Option<String>,
) -> Result<(), AppError> {
    let submitted = submitted!(
        venue,
        version,
        name,
        grid_minutes,
        hold_minutes,
        cancellation_window_minutes,
        min_notice_minutes,
        advance_days,
        seating_minutes
    );
    let c = ssr::Change::Settings {
        version,
        name,
        grid_minutes,
        hold_minutes,
        cancellation_window_minutes,
        min_notice_minutes,
        advance_days,
        seating_minutes,
    };
    change(venue, c, &choice, submitted).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=settings"));
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "add_resource")]
pub async fn add_resource(
    venue: i64,
    kind: String,
    name: String,
    capacity: Option<i64>,
) -> Result<(), AppError> {
    use crate::domain::venue::ResourceKind;
    let kind = ResourceKind::parse(&kind).ok_or_else(|| AppError::Invalid {
        field: "kind".to_owned(),
        message: "Choose a therapist, a room or a table.".to_owned(),
    })?;
    let c = ssr::Change::AddResource {
        kind,
        name,
        capacity,
    };
    change(venue, c, &None, Default::default()).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=resource"));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "edit_resource")]
pub async fn edit_resource(
    venue: i64,
    id: i64,
    version: i64,
    name: String,
    capacity: Option<i64>,
    active: Option<String>,
    choice: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::ids::ResourceId;
    let submitted = submitted!(venue, id, version, name, capacity, active);
    let c = ssr::Change::EditResource {
        id: ResourceId(id),
        version,
        name,
        capacity,
        active: ssr::ticked(&active),
    };
    change(venue, c, &choice, submitted).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=resource"));
    Ok(())
}

/// Starts (`offer` = "yes") or stops a therapist offering a service.
#[server(prefix = "/api/admin", endpoint = "offer")]
pub async fn toggle_offer(
    venue: i64,
    id: i64,
    version: i64,
    service: i64,
    offer: String,
    choice: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::ids::{ResourceId, ServiceId, VenueId};
    let staff = ssr::staff().await?;
    let submitted = submitted!(venue, id, version, service, offer);
    let setup = crate::api::state()?
        .engine
        .venue_setup(staff, VenueId(venue))
        .await?;
    let r = setup
        .resources
        .iter()
        .find(|r| r.id.0 == id)
        .ok_or(AppError::NotFound)?;
    let mut services: Vec<ServiceId> = r
        .offers
        .iter()
        .copied()
        .filter(|s| s.0 != service)
        .collect();
    if offer == "yes" {
        services.push(ServiceId(service));
    }
    let c = ssr::Change::Offers {
        resource: ResourceId(id),
        version,
        services,
    };
    change(venue, c, &choice, submitted).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=resource"));
    Ok(())
}

/// One weekday's hours and break of a resource.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "hours")]
pub async fn save_hours(
    venue: i64,
    id: i64,
    version: i64,
    weekday: i64,
    opens: String,
    closes: String,
    break_starts: String,
    break_ends: String,
    choice: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::admin::WeekdayHours;
    use crate::domain::ids::{ResourceId, VenueId};
    let staff = ssr::staff().await?;
    let submitted = submitted!(
        venue,
        id,
        version,
        weekday,
        opens,
        closes,
        break_starts,
        break_ends
    );
    let setup = crate::api::state()?
        .engine
        .venue_setup(staff, VenueId(venue))
        .await?;
    let r = setup
        .resources
        .iter()
        .find(|r| r.id.0 == id)
        .ok_or(AppError::NotFound)?;
    let mut week = r.week.clone();
    let day = week
        .iter_mut()
        .find(|d| d.weekday == weekday)
        .ok_or(AppError::BadRequest)?;
    *day = WeekdayHours {
        weekday,
        opens,
        closes,
        break_starts,
        break_ends,
    };
    let c = ssr::Change::Week {
        resource: ResourceId(id),
        version,
        week,
    };
    change(venue, c, &choice, submitted).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=hours"));
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "add_service")]
pub async fn add_service(
    venue: i64,
    name: String,
    duration_minutes: i64,
    cleanup_minutes: i64,
    needs_room: Option<String>,
) -> Result<(), AppError> {
    let c = ssr::Change::AddService {
        name,
        duration_minutes,
        cleanup_minutes,
        needs_room: ssr::ticked(&needs_room),
    };
    change(venue, c, &None, Default::default()).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=service"));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "edit_service")]
pub async fn edit_service(
    venue: i64,
    id: i64,
    version: i64,
    name: String,
    duration_minutes: i64,
    cleanup_minutes: i64,
    needs_room: Option<String>,
    active: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::ids::ServiceId;
    let submitted = submitted!(
        venue,
        id,
        version,
        name,
        duration_minutes,
        cleanup_minutes,
        needs_room,
        active
    );
    let c = ssr::Change::EditService {
        id: ServiceId(id),
        version,
        name,
        duration_minutes,
        cleanup_minutes,
        needs_room: ssr::ticked(&needs_room),
        active: ssr::ticked(&active),
    };
    change(venue, c, &None, submitted).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=service"));
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "reopen")]
pub async fn remove_closure(venue: i64, id: i64) -> Result<(), AppError> {
    let c = ssr::Change::RemoveClosure { id };
    change(venue, c, &None, Default::default()).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=closure"));
    Ok(())
}
