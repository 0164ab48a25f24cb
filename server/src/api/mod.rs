//! The JSON API under /api/v1: scripts and integrations, on the same engine
//! as the pages. Errors answer with a status and
//! `{"error": code, "message": text, ...}`; never database text.

pub(crate) mod admin;
mod bookings;
pub mod document;
mod session;
mod venues;
mod waitlist;

use app::auth;
use app::domain::error::AppError;
use app::state::AppState;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tower_sessions::Session;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The API's router: exactly the routes of `routes`, and a JSON 404 for
/// anything else.
pub fn router() -> Router<AppState> {
    let (router, _) = routes().split_for_parts();
    router.fallback(|| async { ApiError(AppError::NotFound) })
}

/// Every route of the API with its document entry. Each `routes!` takes
/// the path and method from the handler's `#[utoipa::path]` and gives them
/// to the router and to the document alike, so the two cannot drift apart:
/// a handler without the attribute does not compile here. Add routes here
/// only this way (the test `the_openapi_document_describes_every_route`
/// reads the router's paths and fails on any the document lacks).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(document::ApiDoc::openapi())
        .routes(routes!(session::log_in, session::me, session::log_out))
        .routes(routes!(session::register))
        .routes(routes!(session::claim))
        .routes(routes!(venues::list))
        .routes(routes!(venues::availability))
        .routes(routes!(bookings::hold))
        .routes(routes!(bookings::confirm))
        .routes(routes!(bookings::release))
        .routes(routes!(bookings::book, bookings::mine))
        .routes(routes!(bookings::cancel))
        .routes(routes!(admin::move_booking))
        .routes(routes!(bookings::reschedule))
        .routes(routes!(admin::claim_link))
        .routes(routes!(admin::day))
        .routes(routes!(admin::close))
        .routes(routes!(admin::stats))
        .routes(routes!(waitlist::join, waitlist::mine))
        .routes(routes!(waitlist::leave))
        .routes(routes!(waitlist::venue_day))
        .routes(routes!(document::openapi))
}

/// An `AppError` answering as JSON.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = serde_json::to_value(&e).unwrap_or_else(|_| serde_json::json!({}));
        body["message"] = serde_json::Value::String(e.to_string());
        let mut res = (status, Json(body)).into_response();
        if let Some(seconds) = e.retry_after_seconds() {
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError(AppError::invalid(field.to_owned(), message.into()))
}

/// A JSON body; a malformed one answers 400 naming what is wrong. A text
/// with a control character in it (a NUL, a bell) is refused here, with
/// its field named, whatever the route: no name, reason or email has one,
/// and the database would not store some of them.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
            .is_some_and(|m| m == "application/json" || m.ends_with("+json"));
        if !is_json {
            return Err(invalid(
                "body",
                "Send JSON with Content-Type: application/json.",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError(AppError::TooLarge),
                _ => invalid("body", "The body could not be read."),
            })?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| invalid("body", format!("The body is not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(invalid("body", "The body is a JSON object."));
        }
        if let Some(field) = control_character_in(&value, "") {
            return Err(invalid(&field, "Text cannot contain control characters."));
        }
        match Json::<T>::from_bytes(&bytes) {
            Ok(Json(v)) => Ok(Body(v)),
            Err(JsonRejection::JsonDataError(e)) => {
                // "field: problem" from serde's path, without axum's preamble.
                let text = e.body_text();
                let detail = text
                    .rsplit_once("target type: ")
                    .map(|(_, d)| d)
                    .unwrap_or(&text);
                // serde names a missing field only in its text.
                let field = match detail.strip_prefix("missing field `") {
                    Some(rest) => rest.split_once('`').map(|(f, _)| f),
                    None => detail.split_once(':').map(|(f, _)| f),
                }
                .unwrap_or("body");
                Err(invalid(field, detail.to_owned()))
            }
            Err(e) => Err(invalid(
                "body",
                format!("The body is not valid JSON: {}", e.body_text()),
            )),
        }
    }
}

/// A JSON body that may be left out: a request without one (no
/// Content-Type and nothing sent) reads as `T::default()`; one sent is
/// read as `Body` reads it.
pub struct OptionalBody<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared = req.headers().contains_key(header::CONTENT_TYPE);
        let length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if !declared && length.is_none_or(|n| n == 0) {
            return Ok(OptionalBody(T::default()));
        }
        Body::<T>::from_request(req, state)
            .await
            .map(|Body(v)| OptionalBody(v))
    }
}

/// The path of the first string (or object key) in `v` that holds a
/// control character: `name`, `items[2].reason`.
fn control_character_in(v: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let bad = |s: &str| s.chars().any(char::is_control);
    let name = |path: &str| {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }
    };
    match v {
        Value::String(s) if bad(s) => Some(name(path)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| control_character_in(item, &format!("{}[{i}]", name(path)))),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if bad(k) {
                Some(name(path))
            } else {
                control_character_in(item, &here)
            }
        }),
        _ => None,
    }
}

/// Query parameters; malformed ones answer 400.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| invalid("query", e.body_text()))
    }
}

/// A numeric id in the path; anything else is a 404 (there is no such thing).
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|p| Id(p.0))
            .map_err(|_: PathRejection| ApiError(AppError::NotFound))
    }
}

/// The client's address, as the throttles count it (see
/// `auth::client_address`).
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer =
            axum::extract::ConnectInfo::<std::net::SocketAddr>::from_request_parts(parts, state)
                .await
                .map(|c| c.0)
                .map_err(|_| ApiError(AppError::Internal))?;
        Ok(ClientAddress(auth::client_address(
            &parts.headers,
            peer,
            state.trust_forwarded_for,
        )))
    }
}

/// The signed-in user; 401 without one.
pub struct SignedIn(pub app::backend::accounts::AuthUser);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError(AppError::Internal))?;
        let now = state.engine.clock().now();
        auth::current_user(&session, state.engine.db(), now)
            .await?
            .map(SignedIn)
            .ok_or(ApiError(AppError::Unauthorized))
    }
}
