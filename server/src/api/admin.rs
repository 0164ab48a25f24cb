//! Staff routes of the JSON API: the day, statistics, moves, closures and
//! claim links.
//! Customers get 403, visitors 401; the engine checks the venue.

use super::{invalid, ApiError, ApiResult, Body, Id, Query, SignedIn};
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

pub async fn stats(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
) -> ApiResult<Json<Stats>> {
    Ok(Json(state.engine.stats(staff).await?))
}

#[derive(Deserialize)]
pub struct DayQuery {
    date: NaiveDate,
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    start: DateTime<Utc>,
    resource: Option<i64>,
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureBody {
    resource: Option<i64>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    #[serde(default)]
    reason: String,
    /// "keep" or "cancel" the live bookings it would strand; without it a
    /// closure over live bookings answers 409 listing them.
    on_bookings: Option<String>,
}

pub async fn close(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Id(venue): Id,
    Body(body): Body<ClosureBody>,
) -> ApiResult<StatusCode> {
    let choice = match body.on_bookings.as_deref() {
        None => StrandChoice::Ask,
        Some("keep") => StrandChoice::Keep,
        Some("cancel") => StrandChoice::Cancel,
        Some(_) => return Err(invalid("on_bookings", "Use \"keep\" or \"cancel\".")),
    };
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

/// POST /api/v1/bookings/{id}/claim-link: a one-time link for the
/// booking's customer, booked without a password, to set one.
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
