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
use utoipa::IntoParams;

/// Venues with their resources and services.
#[utoipa::path(
    get,
    path = "/venues",
    tag = "venues",
    operation_id = "list_venues",
    responses(
        (status = 200, description = "The venues.", body = Vec<VenueOverview>),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<VenueOverview>>> {
    catalog::overview(state.engine.db())
        .await
        .map(Json)
        .map_err(|e| ApiError(internal("listing venues")(e)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// The day, in the venue's time: YYYY-MM-DD.
    #[param(format = Date)]
    date: String,
    /// For treatments; or give party_size.
    service_id: Option<i64>,
    /// For tables; or give service_id.
    #[param(minimum = 1, maximum = 50)]
    party_size: Option<i64>,
    /// Only this therapist or table.
    resource_id: Option<i64>,
}

/// The offer a request names: a service or a party size, exactly one.
pub fn offer(service_id: Option<i64>, party_size: Option<i64>) -> Result<Offer, ApiError> {
    Ok(Offer::parse(service_id, party_size, "service_id")?)
}

pub fn choice(resource_id: Option<i64>) -> ResourceChoice {
    ResourceChoice::from_id(resource_id)
}

/// A day's start times, with the resources free at each.
///
/// A start with no free resources is taken (listed, not left out).
#[utoipa::path(
    get,
    path = "/venues/{id}/availability",
    tag = "venues",
    params(("id" = i64, Path, description = "The venue."), AvailabilityQuery),
    responses(
        (status = 200, description = "The day's slots.", body = Availability),
        (status = 400, description = "Invalid input: `field` names it (the date, a treatment or a party size, exactly one, an unknown treatment or resource).", body = ApiError),
        (status = 404, description = "No such venue.", body = ApiError),
        (status = 422, description = "Refused by a rule of the venue (message says which).", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
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
