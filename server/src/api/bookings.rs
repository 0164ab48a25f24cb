use super::venues::{choice, offer};
use super::{invalid, ApiError, ApiResult, Body, ClientAddress, Id, OptionalBody, SignedIn};
use app::backend::engine::Actor;
use app::domain::booking::{Booking, BookingRequest, ContactDetails};
use app::domain::error::AppError;
use app::domain::ids::{BookingId, VenueId};
use app::domain::input::IdempotencyKey;
use app::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use rand::Rng;
use serde::Deserialize;
use utoipa::ToSchema;

/// What to hold or book: a treatment (`service_id`) or a table for a
/// party (`party_size`), exactly one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BookingRequest)]
pub struct BookingBody {
    venue_id: i64,
    /// For treatments; or give party_size.
    service_id: Option<i64>,
    /// For tables; or give service_id.
    #[schema(minimum = 1, maximum = 50)]
    party_size: Option<i64>,
    /// Omit for any suitable therapist or table.
    resource_id: Option<i64>,
    /// RFC 3339, e.g. 2026-06-02T09:00:00Z.
    #[schema(format = DateTime)]
    start: String,
    /// A retried request with the same key answers the booking already
    /// made; without one (here or in the Idempotency-Key header) each
    /// request is new.
    #[schema(pattern = "^[A-Za-z0-9_-]{8,64}$")]
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

/// Hold a time for the venue's hold minutes, to confirm or release.
#[utoipa::path(
    post,
    path = "/holds",
    tag = "bookings",
    security(("session" = [])),
    request_body = BookingBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Instead of idempotency_key in the body.")),
    responses(
        (status = 201, description = "The hold.", body = Booking, links(
            ("confirm" = (operation_id = "confirm", parameters(("id" = "$response.body#/id")), description = "Confirm the hold.")),
            ("release" = (operation_id = "release", parameters(("id" = "$response.body#/id")), description = "Release the hold.")),
        )),
        (status = 400, description = "Invalid input: `field` names it (a start off the venue's grid or not RFC 3339, an unknown treatment or resource, a party size no table seats).", body = ApiError),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
        (status = 409, description = "The time is taken (error slot_taken, with alternatives).", body = ApiError),
        (status = 413, description = "The body is larger than 64 KiB.", body = ApiError),
        (status = 422, description = "Refused by a rule of the venue (message says which); error limit_reached: the customer already has as many live holds or upcoming bookings at the venue as it allows one customer; or error idempotency_mismatch: the idempotency key was first used for another request, or its booking has since been cancelled or has lapsed.", body = ApiError),
        (status = 429, description = "Too many holds, bookings and reschedules from this client address (error throttled; see SLOTKEEPER_BOOKING_ATTEMPTS_PER_MINUTE); Retry-After says when to try again.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
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

/// Book directly: hold and confirm in one transaction.
#[utoipa::path(
    post,
    path = "/bookings",
    tag = "bookings",
    security(("session" = [])),
    request_body = BookingBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Instead of idempotency_key in the body.")),
    responses(
        (status = 201, description = "The booking.", body = Booking, links(
            ("cancel" = (operation_id = "cancel", parameters(("id" = "$response.body#/id")), description = "Cancel the booking.")),
            ("reschedule" = (operation_id = "reschedule", parameters(("id" = "$response.body#/id")), description = "Reschedule the booking.")),
            ("move" = (operation_id = "move_booking", parameters(("id" = "$response.body#/id")), description = "Staff: move the booking.")),
            ("claim_link" = (operation_id = "claim_link", parameters(("id" = "$response.body#/id")), description = "Staff: a claim link for the booking's customer.")),
        )),
        (status = 400, description = "Invalid input: `field` names it (a start off the venue's grid or not RFC 3339, an unknown treatment or resource, a party size no table seats).", body = ApiError),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
        (status = 409, description = "The time is taken (error slot_taken, with alternatives).", body = ApiError),
        (status = 413, description = "The body is larger than 64 KiB.", body = ApiError),
        (status = 422, description = "Refused by a rule of the venue (message says which); error limit_reached: the customer already has as many live holds or upcoming bookings at the venue as it allows one customer; or error idempotency_mismatch: the idempotency key was first used for another request, or its booking has since been cancelled or has lapsed.", body = ApiError),
        (status = 429, description = "Too many holds, bookings and reschedules from this client address (error throttled; see SLOTKEEPER_BOOKING_ATTEMPTS_PER_MINUTE); Retry-After says when to try again.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
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

/// What the customer tells the venue when confirming; both optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// A note for the venue, at most 500 characters.
    #[schema(max_length = 500)]
    note: Option<String>,
    /// A phone number the venue may call: 5 to 20 digits, with spaces,
    /// dashes, dots, brackets and a leading +.
    #[schema(max_length = 40)]
    phone: Option<String>,
}

/// Confirm your hold.
///
/// The body is optional: without one, the booking has no note or phone.
#[utoipa::path(
    post,
    path = "/holds/{id}/confirm",
    tag = "bookings",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The hold.")),
    request_body(content = Option<ConfirmBody>, description = "A note and phone for the venue (optional)."),
    responses(
        (status = 200, description = "The confirmed booking.", body = Booking),
        (status = 400, description = "Invalid input: `field` names it (a note over 500 characters, a phone that is not a phone number).", body = ApiError),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
        (status = 404, description = "No such booking, or not yours.", body = ApiError),
        (status = 422, description = "Refused (message says which): the hold has expired, the booking is past or cancelled, the cancellation window has closed.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn confirm(
    State(state): State<AppState>,
    user: SignedIn,
    Id(id): Id,
    OptionalBody(body): OptionalBody<ConfirmBody>,
) -> ApiResult<Json<Booking>> {
    let details = ContactDetails::parse(body.note.as_deref(), body.phone.as_deref())
        .map_err(AppError::from)?;
    Ok(Json(
        state
            .engine
            .confirm_hold_with(user.0.id, BookingId(id), &details)
            .await?,
    ))
}

/// Release your hold (staff: any hold at their venues).
#[utoipa::path(
    delete,
    path = "/holds/{id}",
    tag = "bookings",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The hold.")),
    responses(
        (status = 200, description = "The released hold.", body = Booking),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
        (status = 404, description = "No such booking, or not yours.", body = ApiError),
        (status = 422, description = "Refused (message says which): the hold has expired, the booking is past or cancelled, the cancellation window has closed.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
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

/// Your bookings and holds.
#[utoipa::path(
    get,
    path = "/bookings",
    tag = "bookings",
    security(("session" = [])),
    responses(
        (status = 200, description = "Your bookings and holds.", body = Vec<Booking>),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn mine(State(state): State<AppState>, user: SignedIn) -> ApiResult<Json<Vec<Booking>>> {
    Ok(Json(state.engine.bookings_of(user.0.id).await?))
}

/// Cancel your booking.
///
/// Until the venue's cancellation window; staff: any booking at their
/// venues.
#[utoipa::path(
    delete,
    path = "/bookings/{id}",
    tag = "bookings",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The booking.")),
    responses(
        (status = 200, description = "The cancelled booking.", body = Booking),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
        (status = 404, description = "No such booking, or not yours.", body = ApiError),
        (status = 422, description = "Refused (message says which): the hold has expired, the booking is past or cancelled, the cancellation window has closed.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    user: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Booking>> {
    Ok(Json(
        state.engine.cancel(actor(&user), BookingId(id)).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Reschedule)]
pub struct RescheduleBody {
    /// The new start, RFC 3339.
    #[schema(format = DateTime)]
    start: String,
    /// Another therapist or table; without it the booking keeps its own.
    resource_id: Option<i64>,
}

/// Reschedule your confirmed booking.
///
/// To another start (and optionally another therapist or table),
/// atomically: the new time is claimed and the old one released
/// together, or nothing changes. Allowed while the booking may still be
/// cancelled.
#[utoipa::path(
    post,
    path = "/bookings/{id}/reschedule",
    tag = "bookings",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The booking.")),
    request_body = RescheduleBody,
    responses(
        (status = 200, description = "The rescheduled booking.", body = Booking),
        (status = 400, description = "Invalid input, the field named: a start that is not RFC 3339, off the venue's grid, or the booking's own time again; an unknown resource.", body = ApiError),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
        (status = 404, description = "No such booking of yours.", body = ApiError),
        (status = 409, description = "The new time is taken (error slot_taken, with alternatives); the booking is unchanged.", body = ApiError),
        (status = 413, description = "The body is larger than 64 KiB.", body = ApiError),
        (status = 422, description = "Refused by a rule of the venue (message says which: too soon, too far ahead, outside the hours, closed), the cancellation window has closed, or the booking is a hold, cancelled or past.", body = ApiError),
        (status = 429, description = "Too many holds, bookings and reschedules from this client address (error throttled; see SLOTKEEPER_BOOKING_ATTEMPTS_PER_MINUTE); Retry-After says when to try again.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
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
