//! Staff routes of the JSON API: the day, statistics, moves, closures and
//! claim links.
//! Customers get 403, visitors 401; the engine checks the venue.

use super::{ApiError, ApiResult, Body, Id, Query, SignedIn};
use app::backend::staff::{Change, Staff};
use app::domain::admin::{DayView, Stats, StrandChoice};
use app::domain::booking::Booking;
use app::domain::error::AppError;
use app::domain::ids::{BookingId, ResourceId, VenueId};
use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The signed-in user, if staff or admin.
pub struct StaffUser(pub Staff);

impl axum::extract::FromRequestParts<AppState> for StaffUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedIn(user) = SignedIn::from_request_parts(parts, state).await?;
        if user.role.is_staff() {
            Ok(StaffUser(Staff { user: user.id }))
        } else {
            Err(ApiError(AppError::Forbidden))
        }
    }
}

/// Staff: booking statistics.
///
/// Bookings, conflicts, holds placed, confirmed and expired per venue and
/// hour (last 48 hours) and totals, for the venues you run.
#[utoipa::path(
    get,
    path = "/stats",
    tag = "staff",
    security(("session" = [])),
    responses(
        (status = 200, description = "Statistics.", body = Stats),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Not staff (a customer), or a cross-site request from a browser.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn stats(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
) -> ApiResult<Json<Stats>> {
    Ok(Json(state.engine.stats(staff).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// The day, in the venue's time: YYYY-MM-DD.
    pub date: NaiveDate,
}

/// Staff: a venue's day: resources, grid rows, bookings, closures.
#[utoipa::path(
    get,
    path = "/venues/{id}/day",
    tag = "staff",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The venue."), DayQuery),
    responses(
        (status = 200, description = "The day view.", body = DayView),
        (status = 400, description = "Invalid input, the field named: a date more than two years from today.", body = ApiError),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Not staff of this venue (or a customer), or a cross-site request from a browser.", body = ApiError),
        (status = 404, description = "No such venue.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn day(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Id(venue): Id,
    Query(q): Query<DayQuery>,
) -> ApiResult<Json<DayView>> {
    Ok(Json(
        state.engine.day_view(staff, VenueId(venue), q.date).await?,
    ))
}

/// Where to move a booking: another start, another resource, or both.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Move)]
pub struct MoveBody {
    start: DateTime<Utc>,
    /// Another therapist or table; without it the booking keeps its own.
    resource: Option<i64>,
}

/// Staff: move a booking to another start and/or resource, atomically.
#[utoipa::path(
    post,
    path = "/bookings/{id}/move",
    tag = "staff",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The booking.")),
    request_body = MoveBody,
    responses(
        (status = 200, description = "The moved booking.", body = Booking),
        (status = 400, description = "Invalid input, the field named: a start off the grid or more than two years from today, an unknown resource, the booking's own time again.", body = ApiError),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Not staff of this venue (or a customer), or a cross-site request from a browser.", body = ApiError),
        (status = 404, description = "No such booking.", body = ApiError),
        (status = 409, description = "The target is taken (error slot_taken, with alternatives).", body = ApiError),
        (status = 413, description = "The body is larger than 64 KiB.", body = ApiError),
        (status = 422, description = "Refused by a rule of the venue (message says which), or the booking is a hold, cancelled or past.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn move_booking(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Id(id): Id,
    Body(body): Body<MoveBody>,
) -> ApiResult<Json<Booking>> {
    Ok(Json(
        state
            .engine
            .move_booking(
                staff,
                BookingId(id),
                body.start,
                body.resource.map(ResourceId),
            )
            .await?,
    ))
}

/// A closure of the whole venue (no resource) or time off for one resource.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Closure)]
pub struct ClosureBody {
    /// The resource; without it the whole venue closes.
    resource: Option<i64>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    #[serde(default)]
    #[schema(max_length = 200)]
    reason: String,
    /// "keep" or "cancel" the live bookings it would strand; without it
    /// (or "ask") a closure over live bookings answers 409 listing them.
    on_bookings: Option<StrandChoice>,
}

/// Staff: close the venue (no resource) or block one resource for a span.
#[utoipa::path(
    post,
    path = "/venues/{id}/closures",
    tag = "staff",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The venue.")),
    request_body = ClosureBody,
    responses(
        (status = 201, description = "Closed."),
        (status = 400, description = "Invalid input, the field named: an end before the start, a time more than two years from today, an unknown resource, a reason too long or with a control character.", body = ApiError),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Not staff of this venue (or a customer), or a cross-site request from a browser.", body = ApiError),
        (status = 404, description = "No such venue.", body = ApiError),
        (status = 409, description = "It would strand live bookings (error strands, with the bookings); send on_bookings to keep or cancel them.", body = ApiError),
        (status = 413, description = "The body is larger than 64 KiB.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn close(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Id(venue): Id,
    Body(body): Body<ClosureBody>,
) -> ApiResult<StatusCode> {
    let choice = body.on_bookings.unwrap_or_default();
    let change = Change::AddClosure {
        resource: body.resource.map(ResourceId),
        starts_at: body.starts_at.timestamp(),
        ends_at: body.ends_at.timestamp(),
        reason: body.reason,
    };
    state
        .engine
        .change(staff, VenueId(venue), &change, choice)
        .await?;
    Ok(StatusCode::CREATED)
}

/// Staff: a claim link for a booking's customer.
///
/// A one-time link (valid 7 days) for the booking's customer, booked
/// without a password, to set one.
#[utoipa::path(
    post,
    path = "/bookings/{id}/claim-link",
    tag = "staff",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The booking.")),
    responses(
        (status = 201, description = "The link: path (/claim?token=…), token, expires_at.", body = app::domain::admin::ClaimLink),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Not staff of this venue (or a customer), or a cross-site request from a browser.", body = ApiError),
        (status = 404, description = "No such booking.", body = ApiError),
        (status = 422, description = "The customer has a password already.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn claim_link(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<app::domain::admin::ClaimLink>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.engine.claim_link(staff, BookingId(id)).await?),
    ))
}
