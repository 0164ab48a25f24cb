//! The API's OpenAPI document, generated: each path from its handler's
//! `#[utoipa::path]`, each schema from its type's `ToSchema`, collected by
//! the same `routes!` calls that build the router (see `super::routes`).
//! What is written here is only what belongs to no one handler: the info
//! block, the session cookie's scheme and the error body.

use super::ApiError;
use app::domain::error::AppError;
use axum::http::header;
use axum::response::IntoResponse;
use std::borrow::Cow;
use std::sync::OnceLock;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

/// The name operations that need sign-in give in their `security`.
pub const SESSION_SCHEME: &str = "session";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Slotkeeper API",
        version = "1",
        description = "Book therapists and tables. Sign in with POST /session; the session cookie authenticates the other calls. A slot is never sold twice: a conflicting request answers 409 slot_taken with alternatives. Errors answer with a status and {\"error\": code, \"message\": text, ...}. State-changing requests sent by a browser from another site are refused (403)."
    ),
    servers((url = "/api/v1")),
    components(schemas(ApiError)),
    modifiers(&SessionCookie)
)]
pub struct ApiDoc;

/// The session cookie as an API key in a cookie; and no license (utoipa
/// would name the package's, which is empty).
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.info.license = None;
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::SESSION_COOKIE,
                "Set by POST /session (and POST /claim); HTTP-only.",
            ))),
        );
    }
}

/// The error body: an `AppError` as serde writes it (the `error` code and
/// the variant's fields) with the `message` for people beside it, exactly
/// as `ApiError::into_response` builds it.
impl PartialSchema for ApiError {
    fn schema() -> RefOr<Schema> {
        AllOfBuilder::new()
            .item(Ref::from_schema_name(AppError::name()))
            .item(
                ObjectBuilder::new()
                    .property(
                        "message",
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .description(Some("What went wrong, for people.")),
                    )
                    .required("message"),
            )
            .description(Some(
                "An error: `error` is the code (invalid, slot_taken, not_found, throttled, busy, ...), `message` the text for people; some codes carry more (`field`, `alternatives`, `bookings`).",
            ))
            .into()
    }
}

impl ToSchema for ApiError {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Error")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((AppError::name().into_owned(), AppError::schema()));
        AppError::schemas(schemas);
    }
}

/// The document, built once from the routes.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        super::routes()
            .into_openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    })
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "document",
    responses(
        (status = 200, description = "This document (OpenAPI 3.1).", content_type = "application/json", body = Object),
    )
)]
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}
