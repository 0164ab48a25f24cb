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
    cancellation_window: i64,
    cancellation_window_unit: String,
    min_notice: i64,
    min_notice_unit: String,
    advance_days: i64,
    seating_minutes: Option<i64>,
    max_holds_per_customer: Option<i64>,
    max_upcoming_per_customer: Option<i64>,
    currency: Option<String>,
    address: Option<String>,
    reminder: Option<i64>,
    reminder_unit: Option<String>,
    offer_minutes: Option<i64>,
    choice: Option<String>,
) -> Result<(), AppError> {
    let submitted = submitted!(
        venue,
        version,
        name,
        grid_minutes,
        hold_minutes,
        cancellation_window,
        cancellation_window_unit,
        min_notice,
        min_notice_unit,
        advance_days,
        seating_minutes,
        max_holds_per_customer,
        max_upcoming_per_customer,
        currency,
        address,
        reminder,
        reminder_unit,
        offer_minutes
    );
    use crate::domain::input::duration_minutes;
    let cancellation_window_minutes = duration_minutes(
        "cancellation_window",
        cancellation_window,
        &cancellation_window_unit,
    )
    .map_err(|e| ssr::keep(e.into(), submitted.clone()))?;
    let min_notice_minutes = duration_minutes("min_notice", min_notice, &min_notice_unit)
        .map_err(|e| ssr::keep(e.into(), submitted.clone()))?;
    let reminder_minutes = match reminder {
        Some(n) => Some(
            duration_minutes("reminder", n, reminder_unit.as_deref().unwrap_or("hours"))
                .map_err(|e| ssr::keep(e.into(), submitted.clone()))?,
        ),
        None => None,
    };
    let c = ssr::Change::Settings {
        version,
        name,
        grid_minutes,
        hold_minutes,
        cancellation_window_minutes,
        min_notice_minutes,
        advance_days,
        seating_minutes,
        max_holds_per_customer,
        max_upcoming_per_customer,
        currency,
        address,
        reminder_minutes,
        offer_minutes,
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
    let kind = ResourceKind::parse(&kind).ok_or_else(|| {
        AppError::invalid(
            "kind".to_owned(),
            "Choose a therapist, a room or a table.".to_owned(),
        )
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
    use crate::domain::ids::{ResourceId, ServiceId};
    let submitted = submitted!(venue, id, version, service, offer);
    // One offer on or off: nothing else of the set-up is read or written
    // back, so two staff editing other offers do not undo each other.
    let c = ssr::Change::Offer {
        resource: ResourceId(id),
        version,
        service: ServiceId(service),
        offered: offer == "yes",
    };
    change(venue, c, &choice, submitted).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=resource"));
    Ok(())
}

/// A resource's week of hours and breaks, saved in one step. The form
/// names its fields `days[0][opens]` … `days[6][break_ends]`.
#[server(prefix = "/api/admin", endpoint = "hours")]
pub async fn save_hours(
    venue: i64,
    id: i64,
    version: i64,
    days: Vec<crate::domain::admin::WeekdayHours>,
    choice: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::ids::ResourceId;
    let mut submitted = submitted!(venue, id, version);
    for (i, d) in days.iter().enumerate() {
        for (field, value) in [
            ("weekday", d.weekday.to_string()),
            ("opens", d.opens.clone()),
            ("closes", d.closes.clone()),
            ("break_starts", d.break_starts.clone()),
            ("break_ends", d.break_ends.clone()),
        ] {
            submitted.insert(format!("days[{i}][{field}]"), value);
        }
    }
    let c = ssr::Change::Hours {
        resource: ResourceId(id),
        version,
        days,
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
    price: Option<String>,
    description: Option<String>,
) -> Result<(), AppError> {
    let c = ssr::Change::AddService {
        name,
        duration_minutes,
        cleanup_minutes,
        needs_room: ssr::ticked(&needs_room),
        price_cents: crate::domain::money::parse_price(price.as_deref().unwrap_or_default())?,
        description: description.unwrap_or_default(),
    };
    change(venue, c, &None, Default::default()).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=service"));
    Ok(())
}

/// Every treatment of the venue in one step: the rows that changed are
/// saved in one transaction, or none is; a refusal names the row's field
/// (`services[1][duration_minutes]`) and keeps what was typed.
#[server(prefix = "/api/admin", endpoint = "services")]
pub async fn save_services(
    venue: i64,
    #[server(default)] services: Vec<crate::domain::admin::ServiceForm>,
    choice: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::admin::StrandChoice;
    use crate::domain::ids::{ServiceId, VenueId};
    let mut submitted: std::collections::BTreeMap<String, String> = services
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.fields(i))
        .collect();
    submitted.insert("venue".to_owned(), venue.to_string());
    let keep = |e: AppError| ssr::keep(e, submitted.clone());
    let staff = ssr::staff().await?;
    let state = crate::api::state()?;
    let saved = state
        .engine
        .venue_setup(staff, VenueId(venue))
        .await?
        .services;
    let minutes = |i: usize, field: &str, text: &str| {
        text.trim().parse::<i64>().map_err(|_| {
            keep(AppError::invalid(
                format!("services[{i}][{field}]"),
                "Use a whole number of minutes.",
            ))
        })
    };
    let mut changes = Vec::new();
    for (i, row) in services.iter().enumerate() {
        let price = crate::domain::money::parse_price(row.price.as_deref().unwrap_or_default())
            .map_err(|e| {
                keep(AppError::invalid(
                    format!("services[{i}][price]"),
                    e.message,
                ))
            })?;
        let wanted = crate::domain::admin::ServiceSetup {
            id: ServiceId(row.id),
            name: row.name.clone(),
            duration_minutes: minutes(i, "duration_minutes", &row.duration_minutes)?,
            cleanup_minutes: minutes(i, "cleanup_minutes", &row.cleanup_minutes)?,
            needs_room: ssr::ticked(&row.needs_room),
            active: ssr::ticked(&row.active),
            version: row.version,
            price_cents: price,
            description: row.description.clone().unwrap_or_default(),
        };
        // A row as it was opened and is still saved writes nothing; the
        // engine's version check decides the rest.
        if saved.contains(&wanted) {
            continue;
        }
        changes.push(ssr::Change::EditService {
            id: wanted.id,
            version: wanted.version,
            name: wanted.name,
            duration_minutes: wanted.duration_minutes,
            cleanup_minutes: wanted.cleanup_minutes,
            needs_room: wanted.needs_room,
            active: wanted.active,
            price_cents: wanted.price_cents,
            description: wanted.description,
        });
    }
    state
        .engine
        .change_many(
            staff,
            VenueId(venue),
            Some("services"),
            &changes,
            StrandChoice::from_form(choice.as_deref()),
        )
        .await
        .map_err(keep)?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=services"));
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "reopen")]
pub async fn remove_closure(venue: i64, id: i64) -> Result<(), AppError> {
    let c = ssr::Change::RemoveClosure { id };
    change(venue, c, &None, Default::default()).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=closure"));
    Ok(())
}
