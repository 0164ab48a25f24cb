use super::{ApiResult, Body};
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogIn {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    email: String,
    name: String,
    password: String,
}

#[derive(Serialize)]
pub struct UserView {
    id: i64,
    email: String,
    name: String,
    role: &'static str,
}

impl From<accounts::AuthUser> for UserView {
    fn from(u: accounts::AuthUser) -> Self {
        UserView {
            id: u.id.0,
            email: u.email,
            name: u.display_name,
            role: u.role.as_str(),
        }
    }
}

/// POST /api/v1/session
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

/// DELETE /api/v1/session
pub async fn log_out(session: Session) -> ApiResult<StatusCode> {
    auth::sign_out(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// POST /api/v1/users: creates a customer account (not signed in).
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

/// Who is signed in: `GET /session` (401 when nobody is).
pub async fn me(super::SignedIn(user): super::SignedIn) -> Json<UserView> {
    Json(user.into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    token: String,
    password: String,
}

/// POST /api/v1/claim: the customer of a claim link sets a password and is
/// signed in.
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
