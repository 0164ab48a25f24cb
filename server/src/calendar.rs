//! A booking as an iCalendar file, for the customer's own calendar.

use app::api::account::current_user_id;
use app::backend::engine::Actor;
use app::backend::notify::{calendar_file, CalendarUse};
use app::backend::views::booking_views;
use app::domain::booking::BookingStatus;
use app::domain::error::{internal, AppError};
use app::domain::ids::BookingId;
use app::domain::views::BookingView;
use app::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::api::{ApiError, Id};

/// GET /bookings/{id}/calendar.ics: the signed-in customer's confirmed booking.
pub async fn ics(State(state): State<AppState>, session: Session, Id(id): Id) -> Response {
    match booking(&state, &session, id).await {
        Ok(view) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/calendar; charset=utf-8".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"booking-{id}.ics\""),
                ),
            ],
            calendar_file(
                &view,
                CalendarUse::Publish,
                view.booking.version,
                Some(chrono::Duration::minutes(60)),
                chrono::Utc::now(),
            ),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn booking(state: &AppState, session: &Session, id: i64) -> Result<BookingView, ApiError> {
    let now = state.engine.clock().now();
    let user = current_user_id(session, state.engine.db(), now).await?;
    let b = state
        .engine
        .booking(Actor::customer(user), BookingId(id))
        .await?;
    if b.status != BookingStatus::Confirmed {
        return Err(ApiError(AppError::NotFound));
    }
    booking_views(state.engine.db(), vec![b], now)
        .await
        .map_err(|e| ApiError(internal("loading a booking for its calendar file")(e)))?
        .pop()
        .ok_or(ApiError(AppError::NotFound))
}
