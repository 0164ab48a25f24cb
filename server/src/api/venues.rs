use super::{invalid, ApiError, ApiResult, Id, Query};
use app::backend::catalog;
use app::domain::booking::{Availability, BookingError, Offer, ResourceChoice, RuleViolation};
use app::domain::error::{internal, AppError};
use app::domain::ids::VenueId;
use app::domain::venue::VenueOverview;
use app::state::AppState;
use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;

/// GET /api/v1/venues
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<VenueOverview>>> {
    catalog::overview(state.engine.db())
        .await
        .map(Json)
        .map_err(|e| ApiError(internal("listing venues")(e)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityQuery {
    date: String,
    service_id: Option<i64>,
    party_size: Option<i64>,
    resource_id: Option<i64>,
}

/// The offer a request names: a service or a party size, exactly one.
pub fn offer(service_id: Option<i64>, party_size: Option<i64>) -> Result<Offer, ApiError> {
    Ok(Offer::parse(service_id, party_size, "service_id")?)
}

pub fn choice(resource_id: Option<i64>) -> ResourceChoice {
    ResourceChoice::from_id(resource_id)
}

/// GET /api/v1/venues/{id}/availability?date=YYYY-MM-DD&service_id=…|party_size=…[&resource_id=…]
pub async fn availability(
    State(state): State<AppState>,
    Id(venue): Id,
    Query(q): Query<AvailabilityQuery>,
) -> ApiResult<Json<Availability>> {
    let date = NaiveDate::parse_from_str(&q.date, "%Y-%m-%d")
        .map_err(|_| invalid("date", "A date is written YYYY-MM-DD, e.g. 2026-06-02."))?;
    let offer = offer(q.service_id, q.party_size)?;
    match state
        .engine
        .availability(VenueId(venue), date, offer, choice(q.resource_id))
        .await
    {
        Ok(a) => Ok(Json(a)),
        Err(BookingError::Rejected(RuleViolation::UnknownVenue)) => {
            Err(ApiError(AppError::NotFound))
        }
        Err(e) => Err(ApiError::from(e)),
    }
}
