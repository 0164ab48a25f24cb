//! The server functions of a venue's day page: the day, a booking made
//! by staff and closing time.

#[cfg(feature = "ssr")]
use super::ssr::{self, change};
use crate::domain::admin::DayView;
use crate::domain::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api/admin", endpoint = "day")]
pub async fn load_day(venue: i64, date: String) -> Result<DayView, AppError> {
    use crate::domain::ids::VenueId;
    let staff = ssr::staff().await?;
    let date = ssr::date("date", &date)?;
    crate::api::state()?
        .engine
        .day_view(staff, VenueId(venue), date)
        .await
}

/// A booking made by staff for a customer (found or created by email).
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "book")]
pub async fn staff_book(
    venue: i64,
    email: String,
    name: String,
    date: String,
    time: String,
    service: Option<i64>,
    party: Option<i64>,
    resource: Option<i64>,
    key: String,
) -> Result<(), AppError> {
    use crate::domain::booking::{Offer, ResourceChoice};
    use crate::domain::ids::VenueId;
    use crate::domain::input::{DisplayName, Email, IdempotencyKey};
    use ssr::StaffBooking;
    let staff = ssr::staff().await?;
    let day = ssr::date("date", &date)?;
    let minute = ssr::clock("time", &time)?;
    // The day page's form sends both selects; a treatment chosen wins.
    let service = service.filter(|s| *s > 0);
    let offer = Offer::parse(service, party.filter(|_| service.is_none()), "service")?;
    let req = StaffBooking {
        venue: VenueId(venue),
        customer_email: Email::parse(&email)?,
        customer_name: DisplayName::parse(&name)?,
        offer,
        resource: ResourceChoice::from_id(resource.filter(|r| *r > 0)),
        start: crate::domain::schedule::to_datetime(ssr::instant(venue, day, minute).await?),
        idempotency_key: IdempotencyKey::parse(key)?,
    };
    let booking = crate::api::state()?.engine.staff_book(staff, &req).await?;
    leptos_axum::redirect(&format!("/admin/bookings/{}", booking.id));
    Ok(())
}

/// Closes the venue (no resource) or one resource from `date` `from` to
/// `until_date` `to` (the same day when empty). An empty `from` is the
/// start of the day, an empty `to` its end: the whole day.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "close")]
pub async fn add_closure(
    venue: i64,
    resource: Option<i64>,
    date: String,
    from: Option<String>,
    until_date: Option<String>,
    to: Option<String>,
    reason: String,
    choice: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::ids::ResourceId;
    let submitted = submitted!(venue, resource, date, from, until_date, to, reason);
    let start_day = ssr::date("date", &date)?;
    let end_day = match until_date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => ssr::date("until_date", d)?,
        None => start_day,
    };
    let from_minute = match from.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => ssr::clock("from", t)?,
        None => 0,
    };
    let to_minute = match to.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => ssr::clock("to", t)?,
        None => 24 * 60,
    };
    let starts_at = ssr::instant(venue, start_day, from_minute).await?;
    let ends_at = if to_minute == 24 * 60 {
        let next = end_day.succ_opt().ok_or(AppError::BadRequest)?;
        ssr::instant(venue, next, 0).await?
    } else {
        ssr::instant(venue, end_day, to_minute).await?
    };
    let c = ssr::Change::AddClosure {
        resource: resource.filter(|r| *r > 0).map(ResourceId),
        starts_at,
        ends_at,
        reason,
    };
    change(venue, c, &choice, submitted).await?;
    leptos_axum::redirect(&format!(
        "/admin/venues/{venue}/day?date={start_day}&closed=1"
    ));
    Ok(())
}
