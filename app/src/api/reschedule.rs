//! Rescheduling from the pages: the times a booking may move to, and the
//! move itself (one transaction in the engine).

#[cfg(feature = "ssr")]
use crate::domain::error::internal;
use crate::domain::error::AppError;
use crate::domain::views::ReschedulePage;
use leptos::prelude::*;

/// The signed-in customer's booking `id` with the times it may move to on
/// `date` (else its own day, or the first bookable one), for `resource`
/// (0 or none: any who can do the job; left out: its own).
#[server(prefix = "/api", endpoint = "reschedule_page")]
pub async fn load_reschedule_page(
    id: i64,
    date: Option<String>,
    resource: Option<i64>,
) -> Result<ReschedulePage, AppError> {
    use crate::domain::booking::ResourceChoice;
    use crate::domain::ids::BookingId;
    use crate::domain::schedule;
    let state = super::state()?;
    let user = super::account::ssr::signed_in().await?;
    let booking = super::booking::my_booking(id).await?;
    let now = state.engine.clock().now();
    let page = crate::backend::views::venue_page(state.engine.db(), booking.venue_id, now)
        .await
        .map_err(internal("loading a venue for a reschedule"))?
        .ok_or(AppError::NotFound)?;
    let venue = page.venue.clone();
    let tz: chrono_tz::Tz = venue.timezone.parse().unwrap_or(chrono_tz::UTC);
    let (service, party) = (
        booking.booking.service.map(|s| s.0),
        booking.booking.party_size,
    );
    let kind = venue.booked_kind();
    let current_resource = booking
        .booking
        .resources
        .iter()
        .find(|r| {
            venue
                .resources
                .iter()
                .any(|v| v.id == **r && v.kind == kind)
        })
        .map(|r| r.0);
    let choosable = venue.choosable(service, party);
    // Left out, the booking keeps its own; 0 asks for anyone.
    let resource = match resource {
        None => current_resource,
        Some(r) => Some(r).filter(|r| *r > 0),
    }
    .filter(|r| choosable.iter().any(|(c, _)| c == r));
    // The day asked for; else the booking's own, when it can still be
    // booked, or the first day that can.
    let own_day = schedule::local_date(tz, booking.booking.start.timestamp());
    let asked = date
        .filter(|d| !d.is_empty())
        .map(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d"));
    let date = match asked {
        Some(Ok(d)) => d,
        Some(Err(_)) => own_day,
        None if page.days.iter().any(|d| d.date == own_day) => own_day,
        None => page.days.first().map(|d| d.date).unwrap_or(own_day),
    };
    let times = match asked {
        Some(Err(_)) => Err("Choose a day on the calendar.".to_owned()),
        _ => state
            .engine
            .move_times(
                user.id,
                BookingId(id),
                date,
                ResourceChoice::from_id(resource),
            )
            .await
            .map_err(|e| AppError::from(e).to_string()),
    };
    let offer = crate::domain::booking::Offer::parse(service, party, "service")?;
    let calendar = super::booking::calendar(
        &state.engine,
        &page,
        date,
        offer,
        ResourceChoice::from_id(resource),
        Some(BookingId(id)),
    )
    .await?;
    Ok(ReschedulePage {
        calendar,
        booking,
        timezone: venue.timezone.clone(),
        is_restaurant: venue.seating_minutes.is_some(),
        days: page.days.clone(),
        choosable,
        current_resource,
        date,
        resource,
        times,
        nonce: crate::one_time::nonce(),
    })
}

/// Moves the signed-in customer's booking `id` to `pick` (a resource and
/// a start, as `pick_value` writes them), then shows My bookings.
#[server(prefix = "/api", endpoint = "reschedule_booking")]
pub async fn reschedule_booking(id: i64, pick: String) -> Result<(), AppError> {
    use crate::domain::ids::{BookingId, ResourceId};
    let state = super::state()?;
    let user = super::account::ssr::signed_in().await?;
    let bad = || {
        AppError::invalid(
            "pick".to_owned(),
            "Choose one of the times shown.".to_owned(),
        )
    };
    let (resource, start) = pick.split_once('@').ok_or_else(bad)?;
    let resource = resource.parse::<i64>().map_err(|_| bad())?;
    let start = crate::domain::booking::parse_start(start)?;
    state.count_booking_attempt(&user, &super::account::ssr::client_address().await)?;
    state
        .engine
        .reschedule(user.id, BookingId(id), start, Some(ResourceId(resource)))
        .await?;
    leptos_axum::redirect(&format!("/bookings?rescheduled={id}"));
    Ok(())
}
