//! A booking as an iCalendar file, for the customer's own calendar.

use app::api::account::current_user_id;
use app::backend::engine::Actor;
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
            to_ics(&view),
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

/// Escapes text for an iCalendar value (RFC 5545, 3.3.11).
fn text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

fn to_ics(v: &BookingView) -> String {
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Slotkeeper//Bookings//EN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:booking-{}@slotkeeper", v.booking.id),
        format!("DTSTAMP:{}", stamp(chrono::Utc::now())),
        format!("DTSTART:{}", stamp(v.booking.start)),
        format!("DTEND:{}", stamp(v.booking.end)),
        format!(
            "SUMMARY:{}",
            text(&format!("{} at {}", v.what, v.venue_name))
        ),
        format!("LOCATION:{}", text(&v.venue_line())),
        format!(
            "DESCRIPTION:{}",
            text(&format!(
                "{} with {}, {}. Free cancellation until {}.",
                v.what,
                v.with,
                v.length_and_price(),
                v.cancel_until_label
            ))
        ),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ]
    .iter()
    .map(|line| fold(line))
    .collect::<Vec<_>>()
    .join("\r\n")
        + "\r\n"
}

/// A content line folded at 75 octets, as RFC 5545 asks: each further
/// piece on a line of its own that starts with a space. Never inside a
/// character.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3);
    let mut used = 0;
    for c in line.chars() {
        let width = c.len_utf8();
        // The first line holds 75 octets; the rest 74 after their space.
        if used + width > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{fold, text};

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let line = format!("LOCATION:{}", "é".repeat(60));
        let folded = fold(&line);
        for piece in folded.split("\r\n") {
            assert!(piece.len() <= 75, "{piece:?} is {} octets", piece.len());
        }
        assert_eq!(folded.replace("\r\n ", ""), line);
        assert_eq!(fold("SUMMARY:short"), "SUMMARY:short");
    }

    #[test]
    fn calendar_text_escapes_its_separators() {
        assert_eq!(
            text("Anna, Room 1; notes\\x\nnext"),
            "Anna\\, Room 1\\; notes\\\\x\\nnext"
        );
    }
}
