//! Booking from the pages: the slot grid, holds, confirmations, my bookings.

#[cfg(feature = "ssr")]
use crate::domain::error::internal;
use crate::domain::error::AppError;
use crate::domain::views::{BookingView, SlotGrid, VenuePage};
use leptos::prelude::*;

/// The booking page's data for one venue.
#[server(prefix = "/api", endpoint = "venue_page")]
pub async fn load_venue_page(venue: i64) -> Result<VenuePage, AppError> {
    let state = super::state()?;
    let mut page =
        crate::backend::views::venue_page(state.engine.db(), venue, state.engine.clock().now())
            .await
            .map_err(internal("loading a venue page"))?
            .ok_or(AppError::NotFound)?;
    page.nonce = crate::one_time::nonce();
    Ok(page)
}

/// What a booking form asks for: a service or a party size, and a resource
/// or "any".
#[cfg(feature = "ssr")]
fn offer_and_choice(
    service: Option<i64>,
    party: Option<i64>,
    resource: Option<i64>,
) -> Result<
    (
        crate::domain::booking::Offer,
        crate::domain::booking::ResourceChoice,
    ),
    AppError,
> {
    use crate::domain::booking::{Offer, ResourceChoice};
    let offer = Offer::parse(service, party, "service")?;
    let choice = ResourceChoice::from_id(resource);
    Ok((offer, choice))
}

/// The slot grid for a day, with a fresh key for the form that books from
/// it. Missing choices get defaults: the first day with a free time, the venue's
/// first treatment, or a table for two.
#[server(prefix = "/api", endpoint = "slot_grid")]
pub async fn load_slot_grid(
    venue: i64,
    date: Option<String>,
    service: Option<i64>,
    party: Option<i64>,
    resource: Option<i64>,
) -> Result<SlotGrid, AppError> {
    use crate::domain::ids::{ResourceId, VenueId};
    let state = super::state()?;
    let now = state.engine.clock().now();
    let page = crate::backend::views::venue_page(state.engine.db(), venue, now)
        .await
        .map_err(internal("loading a venue"))?
        .ok_or(AppError::NotFound)?;
    let date_asked = date.filter(|d| !d.is_empty());
    let date = match date_asked.clone() {
        Some(d) => chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
            AppError::invalid(
                "date".to_owned(),
                "Choose a day on the calendar.".to_owned(),
            )
        })?,
        // No day asked for: the first day with a free time (late in the
        // evening, today may have none left), else the first bookable day.
        None => page.days.first().map(|d| d.date).unwrap_or_default(),
    };
    let first_free_day = date_asked.is_none();
    let (service, party) = match (service, party, page.venue.seating_minutes) {
        (None, None, Some(_)) => (None, Some(2)),
        (None, None, None) => (page.venue.services.first().map(|s| s.id.0), None),
        chosen => (chosen.0, chosen.1),
    };
    // A therapist who does not do the chosen treatment, or a table too
    // small for the party (a choice left from before the treatment or
    // party changed), gives way to the venue's choice: the form offers
    // only those who can, and shows the grid it draws.
    let resource = resource
        .filter(|r| *r > 0)
        .filter(|r| page.venue.can_serve(ResourceId(*r), service, party));
    let (offer, choice) = offer_and_choice(service, party, resource)?;
    let date = match (first_free_day, page.days.last()) {
        (true, Some(last)) => state
            .engine
            .day_counts(VenueId(venue), (date, last.date), offer, choice, true, None)
            .await?
            .into_iter()
            .find(|d| d.first_free.is_some())
            .map_or(date, |d| d.date),
        _ => date,
    };
    let availability = state
        .engine
        .availability(VenueId(venue), date, offer, choice)
        .await?;
    let calendar = calendar(&state.engine, &page, date, offer, choice, None).await?;
    Ok(SlotGrid {
        availability,
        form_key: crate::one_time::form_key(),
        date,
        service,
        party,
        resource,
        calendar,
    })
}

/// The month of `date` for the choice, and the first free time after it
/// (looked for past the month's end when the month has none); with
/// `moving`, as that booking's reschedule grid reads it.
#[cfg(feature = "ssr")]
pub(crate) async fn calendar(
    engine: &crate::backend::engine::Engine,
    page: &VenuePage,
    date: chrono::NaiveDate,
    offer: crate::domain::booking::Offer,
    choice: crate::domain::booking::ResourceChoice,
    moving: Option<crate::domain::ids::BookingId>,
) -> Result<crate::domain::views::Calendar, AppError> {
    use crate::domain::ids::VenueId;
    use crate::domain::views::{Calendar, NextFree};
    use chrono::{Datelike, Months};
    let venue = VenueId(page.venue.id.0);
    let (Some(first), Some(last)) = (page.days.first(), page.days.last()) else {
        return Ok(Calendar::build(date, (date, date), &[], None));
    };
    let bookable = (first.date, last.date);
    // A day asked for outside the window shows the nearest month within.
    let date = date.clamp(bookable.0, bookable.1);
    let month_start = date.with_day(1).unwrap_or(date);
    let month_end = month_start
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(month_start);
    let counts = engine
        .day_counts(
            venue,
            (month_start, month_end),
            offer,
            choice,
            false,
            moving,
        )
        .await?;
    let mut next = counts
        .iter()
        .find(|c| c.date > date && c.first_free.is_some())
        .cloned();
    if next.is_none() && month_end < bookable.1 {
        next = engine
            .day_counts(
                venue,
                (month_end.succ_opt().unwrap_or(month_end), bookable.1),
                offer,
                choice,
                true,
                moving,
            )
            .await?
            .pop()
            .filter(|c| c.first_free.is_some());
    }
    let next_free = next.and_then(|c| {
        c.first_free.map(|label| NextFree {
            date: c.date,
            label,
        })
    });
    let counts: Vec<_> = counts
        .iter()
        .map(|c| (c.date, usize::from(c.open).max(c.starts), c.free))
        .collect();
    Ok(Calendar::build(date, bookable, &counts, next_free))
}

/// Places a hold and goes to its confirmation page. Signed in only.
#[server(prefix = "/api", endpoint = "place_hold")]
pub async fn place_hold(
    venue: i64,
    start: String,
    service: Option<i64>,
    party: Option<i64>,
    resource: Option<i64>,
    key: String,
) -> Result<(), AppError> {
    use crate::domain::booking::BookingRequest;
    use crate::domain::ids::VenueId;
    use crate::domain::input::IdempotencyKey;
    let state = super::state()?;
    let user = super::account::ssr::signed_in().await?;
    state.count_booking_attempt(&user, &super::account::ssr::client_address().await)?;
    let start = crate::domain::booking::parse_start(&start)?;
    let (offer, choice) = offer_and_choice(service, party, resource)?;
    let req = BookingRequest {
        customer: user.id,
        venue: VenueId(venue),
        offer,
        resource: choice,
        start,
        idempotency_key: IdempotencyKey::parse(key)?,
    };
    let hold = state.engine.hold(&req).await?;
    leptos_axum::redirect(&format!("/holds/{}", hold.id));
    Ok(())
}

/// A fresh idempotency key for a form a page shows (its "Hold it again"):
/// one per render, so that a double click repeats one request but a later
/// visit makes a new one.
#[server(prefix = "/api", endpoint = "form_key")]
pub async fn new_form_key() -> Result<String, AppError> {
    Ok(crate::one_time::fresh_form_key())
}

/// One of the signed-in customer's bookings or holds.
#[server(prefix = "/api", endpoint = "my_booking")]
pub async fn my_booking(id: i64) -> Result<BookingView, AppError> {
    use crate::backend::engine::Actor;
    use crate::domain::ids::BookingId;
    let state = super::state()?;
    let user = super::account::ssr::signed_in().await?;
    let booking = state
        .engine
        .booking(Actor::customer(user.id), BookingId(id))
        .await?;
    let now = state.engine.clock().now();
    crate::backend::views::booking_views(state.engine.db(), vec![booking], now)
        .await
        .map_err(internal("loading a booking"))?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The signed-in customer's bookings and holds, soonest first.
#[server(prefix = "/api", endpoint = "my_bookings")]
pub async fn my_bookings() -> Result<Vec<BookingView>, AppError> {
    let state = super::state()?;
    let user = super::account::ssr::signed_in().await?;
    let bookings = state.engine.bookings_of(user.id).await?;
    let now = state.engine.clock().now();
    crate::backend::views::booking_views(state.engine.db(), bookings, now)
        .await
        .map_err(internal("loading bookings"))
}

/// Confirms a hold, with an optional note and phone for the venue.
#[server(prefix = "/api", endpoint = "confirm_hold")]
pub async fn confirm_hold(
    id: i64,
    note: Option<String>,
    phone: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::booking::ContactDetails;
    use crate::domain::ids::BookingId;
    let state = super::state()?;
    let user = super::account::ssr::signed_in().await?;
    let details = ContactDetails::parse(note.as_deref(), phone.as_deref())?;
    let booking = state
        .engine
        .confirm_hold_with(user.id, BookingId(id), &details)
        .await?;
    leptos_axum::redirect(&format!("/bookings?confirmed={}", booking.id));
    Ok(())
}

/// Releases a hold and goes back to `back` (the grid it was chosen from,
/// a path on this site), else to the venue's page.
#[server(prefix = "/api", endpoint = "release_hold")]
pub async fn release_hold(id: i64, back: Option<String>) -> Result<(), AppError> {
    use crate::backend::engine::Actor;
    use crate::domain::ids::BookingId;
    let state = super::state()?;
    let user = super::account::ssr::signed_in().await?;
    let booking = state
        .engine
        .release_hold(Actor::customer(user.id), BookingId(id))
        .await?;
    let venue_page = format!("/venues/{}", booking.venue);
    let back = back
        .map(|b| super::account::safe_next(&b))
        .filter(|b| b.starts_with(&venue_page))
        .unwrap_or(venue_page);
    leptos_axum::redirect(&back);
    Ok(())
}

#[server(prefix = "/api", endpoint = "cancel_booking")]
pub async fn cancel_booking(id: i64) -> Result<(), AppError> {
    use crate::backend::engine::Actor;
    use crate::domain::ids::BookingId;
    let state = super::state()?;
    let user = super::account::ssr::signed_in().await?;
    state
        .engine
        .cancel(Actor::customer(user.id), BookingId(id))
        .await?;
    leptos_axum::redirect(&format!("/bookings?cancelled={id}"));
    Ok(())
}
