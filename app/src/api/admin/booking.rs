//! The server functions of the staff booking page: the booking, and
//! cancelling, marking and moving it, and a claim link for its customer.

#[cfg(feature = "ssr")]
use super::ssr;
use crate::domain::admin::BookingDetail;
use crate::domain::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api/admin", endpoint = "booking")]
pub async fn load_booking(id: i64) -> Result<BookingDetail, AppError> {
    use crate::domain::ids::BookingId;
    let staff = ssr::staff().await?;
    crate::api::state()?
        .engine
        .booking_detail(staff, BookingId(id))
        .await
}

/// The free times a booking may move to on `date` (its own day when
/// absent), with `resource` (its own when absent; 0 is anyone who can).
#[server(prefix = "/api/admin", endpoint = "move_times")]
pub async fn load_move_times(
    id: i64,
    date: Option<String>,
    resource: Option<i64>,
) -> Result<crate::domain::admin::MoveTimes, AppError> {
    use crate::domain::booking::ResourceChoice;
    use crate::domain::ids::BookingId;
    let staff = ssr::staff().await?;
    let engine = &crate::api::state()?.engine;
    let (date, resource) = match (date.filter(|d| !d.is_empty()), resource) {
        (Some(d), Some(r)) => (ssr::date("date", &d)?, r),
        (d, r) => {
            let detail = engine.booking_detail(staff, BookingId(id)).await?;
            let date = match d {
                Some(d) => ssr::date("date", &d)?,
                None => detail.date,
            };
            (
                date,
                r.unwrap_or_else(|| detail.current_resource.map_or(0, |c| c.0)),
            )
        }
    };
    let choice = ResourceChoice::from_id(Some(resource).filter(|r| *r > 0));
    let times = engine
        .staff_move_times(staff, BookingId(id), date, choice)
        .await?;
    Ok(crate::domain::admin::MoveTimes {
        date,
        resource,
        times,
    })
}

#[server(prefix = "/api/admin", endpoint = "cancel")]
pub async fn staff_cancel(id: i64) -> Result<(), AppError> {
    use crate::backend::engine::Actor;
    use crate::domain::ids::BookingId;
    let staff = ssr::staff().await?;
    crate::api::state()?
        .engine
        .cancel(Actor::staff(staff.user), BookingId(id))
        .await?;
    leptos_axum::redirect(&format!("/admin/bookings/{id}"));
    Ok(())
}

/// Marks a booking "completed" or "no_show".
#[server(prefix = "/api/admin", endpoint = "mark")]
pub async fn mark_booking(id: i64, status: String) -> Result<(), AppError> {
    use crate::domain::booking::BookingStatus;
    use crate::domain::ids::BookingId;
    let staff = ssr::staff().await?;
    let status = match BookingStatus::parse(&status) {
        Some(s @ (BookingStatus::Completed | BookingStatus::NoShow)) => s,
        _ => {
            return Err(AppError::invalid(
                "status".to_owned(),
                "Mark a booking completed or a no-show.".to_owned(),
            ))
        }
    };
    crate::api::state()?
        .engine
        .mark(staff, BookingId(id), status)
        .await?;
    leptos_axum::redirect(&format!("/admin/bookings/{id}"));
    Ok(())
}

/// Moves a booking to `date` at `time` (the venue's), or to `start` (RFC
/// 3339: one of the free times offered after a conflict), on `resource` or
/// the one it has.
#[server(prefix = "/api/admin", endpoint = "move")]
pub async fn move_booking(
    id: i64,
    date: Option<String>,
    time: Option<String>,
    start: Option<String>,
    resource: Option<i64>,
) -> Result<(), AppError> {
    use crate::domain::ids::{BookingId, ResourceId};
    let staff = ssr::staff().await?;
    let state = crate::api::state()?;
    let at = match start.filter(|s| !s.is_empty()) {
        Some(start) => crate::domain::booking::parse_start(&start)?,
        None => {
            let detail = state.engine.booking_detail(staff, BookingId(id)).await?;
            let day = ssr::date("date", date.as_deref().unwrap_or_default())?;
            let minute = ssr::clock("time", time.as_deref().unwrap_or_default())?;
            let at = ssr::instant(detail.view.venue_id, day, minute).await?;
            crate::domain::schedule::to_datetime(at)
        }
    };
    state
        .engine
        .move_booking(
            staff,
            BookingId(id),
            at,
            resource.filter(|r| *r > 0).map(ResourceId),
        )
        .await?;
    leptos_axum::redirect(&format!("/admin/bookings/{id}?moved=1"));
    Ok(())
}

/// A one-time link for the booking's customer, who has no password, to set
/// one; the page shows it once (it comes back in the address).
#[server(prefix = "/api/admin", endpoint = "claim_link")]
pub async fn make_claim_link(id: i64) -> Result<(), AppError> {
    use crate::domain::ids::BookingId;
    let staff = ssr::staff().await?;
    let link = crate::api::state()?
        .engine
        .claim_link(staff, BookingId(id))
        .await?;
    leptos_axum::redirect(&format!("/admin/bookings/{id}?claim={}", link.token));
    Ok(())
}
