//! The waitlist in the API: join the line of a full day, see and leave
//! your entries; staff see a venue's line of a day.

use super::admin::{DayQuery, StaffUser};
use super::venues::{choice, offer};
use super::{invalid, ApiError, ApiResult, Body, ClientAddress, Id, Query, SignedIn};
use app::domain::ids::VenueId;
use app::domain::waitlist::{WaitlistEntry, Wish};
use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

/// What to wait for: a treatment (`service_id`) or a table for a party
/// (`party_size`), exactly one, on a day, perhaps with one therapist or
/// table, perhaps only starts in a range.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WaitlistRequest)]
pub struct JoinBody {
    venue_id: i64,
    /// For treatments; or give party_size.
    service_id: Option<i64>,
    /// For tables; or give service_id.
    #[schema(minimum = 1, maximum = 50)]
    party_size: Option<i64>,
    /// Omit for anyone who can do it.
    resource_id: Option<i64>,
    /// The day, in the venue's time: YYYY-MM-DD.
    #[schema(format = Date)]
    date: String,
    /// The earliest start wanted, HH:MM in the venue's time (omit: the
    /// day's first).
    #[schema(pattern = "^[0-9]{1,2}:[0-9]{2}$")]
    from: Option<String>,
    /// The latest start wanted, HH:MM (omit: the day's last).
    #[schema(pattern = "^[0-9]{1,2}:[0-9]{2}$")]
    to: Option<String>,
}

/// Join the waitlist of a day.
///
/// When a time that fits frees up (a cancellation, a hold that lapses, a
/// move, a closure removed), it is held for the first customer waiting
/// (first come, first served) for the venue's offer minutes, and they are
/// emailed: the entry is then `offered` with its `hold`, to confirm with
/// POST /holds/{id}/confirm. If the hold lapses it goes to the next in
/// line. A time in range that is free already is offered at once.
#[utoipa::path(
    post,
    path = "/waitlist",
    tag = "waitlist",
    operation_id = "join_waitlist",
    security(("session" = [])),
    request_body = JoinBody,
    responses(
        (status = 201, description = "The entry: waiting, or offered a time at once.", body = WaitlistEntry),
        (status = 400, description = "Invalid input: `field` names it (the date, a time not HH:MM or a range that ends before it starts, a treatment or party size, exactly one, an unknown treatment or resource).", body = ApiError),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
        (status = 409, description = "Already waiting for the very same (error duplicate).", body = ApiError),
        (status = 413, description = "The body is larger than 64 KiB.", body = ApiError),
        (status = 422, description = "Refused (message says why): the day has passed or is beyond the advance window, nobody who does it works that day, or no start in the range; error limit_reached: already waiting for as many things at the venue as one customer may.", body = ApiError),
        (status = 429, description = "Too many requests from this client address (error throttled); Retry-After says when to try again.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn join(
    State(state): State<AppState>,
    user: SignedIn,
    ClientAddress(address): ClientAddress,
    Body(body): Body<JoinBody>,
) -> ApiResult<(StatusCode, Json<WaitlistEntry>)> {
    state.count_booking_attempt(&user.0, &address)?;
    let date = NaiveDate::parse_from_str(&body.date, "%Y-%m-%d")
        .map_err(|_| invalid("date", "A date is written YYYY-MM-DD, e.g. 2026-06-02."))?;
    let (from_minute, to_minute) = Wish::range(body.from.as_deref(), body.to.as_deref())?;
    let wish = Wish {
        customer: user.0.id,
        venue: VenueId(body.venue_id),
        offer: offer(body.service_id, body.party_size)?,
        resource: choice(body.resource_id),
        date,
        from_minute,
        to_minute,
    };
    let entry = state.engine.join_waitlist(&wish).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Your waitlist entries, newest first.
#[utoipa::path(
    get,
    path = "/waitlist",
    tag = "waitlist",
    operation_id = "my_waitlist",
    security(("session" = [])),
    responses(
        (status = 200, description = "Your entries.", body = Vec<WaitlistEntry>),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn mine(
    State(state): State<AppState>,
    user: SignedIn,
) -> ApiResult<Json<Vec<WaitlistEntry>>> {
    Ok(Json(state.engine.waitlist_of(user.0.id).await?))
}

/// Leave the waitlist. A time on offer to you goes to the next in line.
/// Leaving twice answers the entry as it is.
#[utoipa::path(
    delete,
    path = "/waitlist/{id}",
    tag = "waitlist",
    operation_id = "leave_waitlist",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The entry.")),
    responses(
        (status = 200, description = "The entry, left.", body = WaitlistEntry),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
        (status = 404, description = "No such entry of yours.", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn leave(
    State(state): State<AppState>,
    user: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<WaitlistEntry>> {
    Ok(Json(state.engine.leave_waitlist(user.0.id, id).await?))
}

/// Staff: a venue's waitlist of a day, in line order, with who waits.
#[utoipa::path(
    get,
    path = "/venues/{id}/waitlist",
    tag = "staff",
    operation_id = "venue_waitlist",
    security(("session" = [])),
    params(("id" = i64, Path, description = "The venue."), DayQuery),
    responses(
        (status = 200, description = "The day's entries.", body = Vec<WaitlistEntry>),
        (status = 400, description = "Invalid input: the date.", body = ApiError),
        (status = 401, description = "Not signed in.", body = ApiError),
        (status = 403, description = "Not staff of this venue (or a customer).", body = ApiError),
        (status = 404, description = "No such venue (an id that is not one).", body = ApiError),
        (status = 503, description = "The database stayed busy; try again.", body = ApiError),
    )
)]
pub async fn venue_day(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Id(venue): Id,
    Query(q): Query<DayQuery>,
) -> ApiResult<Json<Vec<WaitlistEntry>>> {
    Ok(Json(
        state
            .engine
            .venue_waitlist(staff, VenueId(venue), q.date)
            .await?,
    ))
}
