use super::venues::{choice, offer};
use super::{invalid, ApiError, ApiResult, Body, ClientAddress, Id, SignedIn};
use app::backend::engine::Actor;
use app::domain::booking::{Booking, BookingRequest};
use app::domain::ids::{BookingId, VenueId};
use app::domain::input::IdempotencyKey;
use app::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use rand::Rng;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingBody {
    venue_id: i64,
    service_id: Option<i64>,
    party_size: Option<i64>,
    resource_id: Option<i64>,
    /// RFC 3339, e.g. 2026-06-02T09:00:00Z.
    start: String,
    idempotency_key: Option<String>,
}

impl BookingBody {
    fn into_request(
        self,
        user: &SignedIn,
        headers: &HeaderMap,
    ) -> Result<BookingRequest, ApiError> {
        let start = app::domain::booking::parse_start(&self.start)?;
        let header_key = headers
            .get("idempotency-key")
            .map(|v| v.to_str().map(str::to_owned))
            .transpose()
            .map_err(|_| invalid("idempotency_key", "The Idempotency-Key header is not text."))?;
        // Without a key a retried request cannot be recognised; it gets a
        // fresh one so that it still books at most once per request.
        let key = self
            .idempotency_key
            .or(header_key)
            .unwrap_or_else(|| format!("api-{:032x}", rand::thread_rng().gen::<u128>()));
        Ok(BookingRequest {
            customer: user.0.id,
            venue: VenueId(self.venue_id),
            offer: offer(self.service_id, self.party_size)?,
            resource: choice(self.resource_id),
            start,
            idempotency_key: IdempotencyKey::parse(key)?,
        })
    }
}

fn actor(user: &SignedIn) -> Actor {
    Actor {
        user: user.0.id,
        is_staff: user.0.role.is_staff(),
    }
}

/// POST /api/v1/holds
pub async fn hold(
    State(state): State<AppState>,
    user: SignedIn,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Body(body): Body<BookingBody>,
) -> ApiResult<(StatusCode, Json<Booking>)> {
    state.count_booking_attempt(&user.0, &address)?;
    let req = body.into_request(&user, &headers)?;
    let booking = state.engine.hold(&req).await?;
    Ok((StatusCode::CREATED, Json(booking)))
}

/// POST /api/v1/bookings: hold and confirm in one transaction.
pub async fn book(
    State(state): State<AppState>,
    user: SignedIn,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Body(body): Body<BookingBody>,
) -> ApiResult<(StatusCode, Json<Booking>)> {
    state.count_booking_attempt(&user.0, &address)?;
    let req = body.into_request(&user, &headers)?;
    let booking = state.engine.book(&req).await?;
    Ok((StatusCode::CREATED, Json(booking)))
}

/// POST /api/v1/holds/{id}/confirm
pub async fn confirm(
    State(state): State<AppState>,
    user: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Booking>> {
    Ok(Json(
        state.engine.confirm_hold(user.0.id, BookingId(id)).await?,
    ))
}

/// DELETE /api/v1/holds/{id}
pub async fn release(
    State(state): State<AppState>,
    user: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Booking>> {
    Ok(Json(
        state
            .engine
            .release_hold(actor(&user), BookingId(id))
            .await?,
    ))
}

/// GET /api/v1/bookings: the signed-in customer's bookings and holds.
pub async fn mine(State(state): State<AppState>, user: SignedIn) -> ApiResult<Json<Vec<Booking>>> {
    Ok(Json(state.engine.bookings_of(user.0.id).await?))
}

/// DELETE /api/v1/bookings/{id}
pub async fn cancel(
    State(state): State<AppState>,
    user: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Booking>> {
    Ok(Json(
        state.engine.cancel(actor(&user), BookingId(id)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    /// The new start, RFC 3339.
    start: String,
    /// Another therapist or table; without it the booking keeps its own.
    resource_id: Option<i64>,
}

/// POST /api/v1/bookings/{id}/reschedule: the customer moves their
/// confirmed booking, in one transaction, while it may still be cancelled.
pub async fn reschedule(
    State(state): State<AppState>,
    user: SignedIn,
    ClientAddress(address): ClientAddress,
    Id(id): Id,
    Body(body): Body<RescheduleBody>,
) -> ApiResult<Json<Booking>> {
    state.count_booking_attempt(&user.0, &address)?;
    let start = app::domain::booking::parse_start(&body.start)?;
    let resource = body.resource_id.map(app::domain::ids::ResourceId);
    Ok(Json(
        state
            .engine
            .reschedule(user.0.id, BookingId(id), start, resource)
            .await?,
    ))
}
