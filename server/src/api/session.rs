use super::{ApiError, ApiResult, Body};
use app::auth;
use app::backend::accounts;
use app::domain::input::{DisplayName, Email, Password};
use app::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use tower_sessions::Session;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogIn {
    email: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// An address like name@example.com; one account per address.
    #[schema(format = Email)]
    email: String,
    /// The name shown to staff and on confirmations.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[schema(min_length = 10, max_length = 256)]
    password: String,
}

/// A signed-in user.
#[derive(Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    id: i64,
    email: String,
    name: String,
    role: app::domain::admin::Role,
}

impl From<accounts::AuthUser> for UserView {
    fn from(u: accounts::AuthUser) -> Self {
        UserView {
            id: u.id.0,
            email: u.email,
            name: u.display_name,
            role: u.role,
        }
    }
}

/// Sign in.
///
/// The answer sets the session cookie, which authenticates the other
/// calls. The session id changes at every sign-in.
#[utoipa::path(
    post,
    path = "/session",
    tag = "session",
    request_body = LogIn,
    responses(
        (status = 200, description = "Signed in; the session cookie is set.", body = UserView),
        (status = 400, description = "Invalid input: `field` names it.", body = ApiError),
        (status = 401, description = "The email or password is not right (the same answer whether or not the email has an account).", body = ApiError),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
        (status = 413, description = "The body is larger than 64 KiB.", body = ApiError),
        (status = 429, description = "Too many failed sign-ins for this email or from this address; Retry-After says when to try again.", body = ApiError),
        (status = 503, description = "Password hashing is saturated; try again (Retry-After).", body = ApiError),
    )
)]
pub async fn log_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    session: Session,
    Body(body): Body<LogIn>,
) -> ApiResult<Json<UserView>> {
    let now = state.engine.clock().now();
    let address = auth::client_address(&headers, peer, state.trust_forwarded_for);
    let user = accounts::log_in(
        state.engine.db(),
        &body.email,
        &body.password,
        &address,
        now,
    )
    .await?;
    auth::sign_in(&session, &user, now).await?;
    tracing::info!(user = %user.id, "signed in");
    Ok(Json(user.into()))
}

/// Sign out: the session ends (signed in or not, the answer is the same).
#[utoipa::path(
    delete,
    path = "/session",
    tag = "session",
    responses(
        (status = 204, description = "Signed out."),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
    )
)]
pub async fn log_out(session: Session) -> ApiResult<StatusCode> {
    auth::sign_out(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create a customer account (not signed in: sign in next).
#[utoipa::path(
    post,
    path = "/users",
    tag = "session",
    request_body = Register,
    responses(
        (status = 201, description = "Created (not signed in).", body = UserView),
        (status = 400, description = "Invalid input: `field` names it.", body = ApiError),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
        (status = 409, description = "An account with this email exists (error email_in_use).", body = ApiError),
        (status = 413, description = "The body is larger than 64 KiB.", body = ApiError),
        (status = 429, description = "Too many new accounts from this address; Retry-After says when to try again.", body = ApiError),
        (status = 503, description = "Password hashing is saturated; try again (Retry-After).", body = ApiError),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    Body(body): Body<Register>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let address = auth::client_address(&headers, peer, state.trust_forwarded_for);
    let email = Email::parse(&body.email)?;
    let name = DisplayName::parse(&body.name)?;
    let password = Password::parse(&body.password)?;
    let user = accounts::register(
        state.engine.db(),
        &email,
        &name,
        &password,
        &address,
        state.engine.clock().now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Who is signed in.
#[utoipa::path(
    get,
    path = "/session",
    tag = "session",
    security(("session" = [])),
    responses(
        (status = 200, description = "The signed-in user.", body = UserView),
        (status = 401, description = "Nobody is signed in.", body = ApiError),
    )
)]
pub async fn me(super::SignedIn(user): super::SignedIn) -> Json<UserView> {
    Json(user.into())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// The token of the claim link (`/claim?token=…`).
    token: String,
    #[schema(min_length = 10, max_length = 256)]
    password: String,
}

/// Set a password with a claim link, and sign in.
///
/// For an account staff made without one, at the desk or on the phone.
/// A link works once, for 7 days.
#[utoipa::path(
    post,
    path = "/claim",
    tag = "session",
    request_body = Claim,
    responses(
        (status = 200, description = "Signed in (the session cookie is set): the user.", body = UserView),
        (status = 400, description = "Invalid input, the field named: token (used up, expired or unknown), password (too short or long, or contains the email).", body = ApiError),
        (status = 403, description = "Refused: a cross-site request from a browser.", body = ApiError),
        (status = 413, description = "The body is larger than 64 KiB.", body = ApiError),
        (status = 503, description = "Password hashing is saturated; try again (Retry-After).", body = ApiError),
    )
)]
pub async fn claim(
    State(state): State<AppState>,
    session: Session,
    Body(body): Body<Claim>,
) -> ApiResult<Json<UserView>> {
    let password = Password::parse(&body.password)?;
    let now = state.engine.clock().now();
    let user = accounts::claim_account(state.engine.db(), &body.token, &password, now).await?;
    auth::sign_in(&session, &user, now).await?;
    tracing::info!(user = %user.id, "claimed an account");
    Ok(Json(user.into()))
}
