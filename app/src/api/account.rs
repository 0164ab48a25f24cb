//! Signing up, in and out, from the pages.

use crate::domain::error::AppError;
use crate::domain::views::SessionUser;
use leptos::prelude::*;

/// Where to go after logging in: a path on this site, never elsewhere.
/// Browsers drop tabs and newlines from addresses (`/\t/evil` becomes
/// `//evil`), so only visible ASCII is accepted.
pub fn safe_next(next: &str) -> String {
    let visible = next.bytes().all(|b| (0x21..0x7f).contains(&b));
    let ok = visible && next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if ok {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::auth;
    use crate::backend::accounts::AuthUser;
    use crate::domain::error::AppError;
    use tower_sessions::Session;

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|_| {
            tracing::error!("no session layer in front of a server function");
            AppError::Internal
        })
    }

    /// The signed-in user; `Unauthorized` otherwise.
    pub async fn signed_in() -> Result<AuthUser, AppError> {
        let state = super::super::state()?;
        let session = session().await?;
        auth::current_user(&session, state.engine.db(), state.engine.clock().now())
            .await?
            .ok_or(AppError::Unauthorized)
    }

    /// The client's address, for log-in throttling.
    pub async fn client_address() -> String {
        let peer = leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .await
            .map(|c| c.0);
        let parts = leptos::prelude::use_context::<axum::http::request::Parts>();
        let trust = super::super::state()
            .map(|s| s.trust_forwarded_for)
            .unwrap_or(false);
        match (peer, parts) {
            (Ok(peer), Some(parts)) => crate::auth::client_address(&parts.headers, peer, trust),
            (Ok(peer), None) => peer.ip().to_string(),
            _ => "unknown".to_owned(),
        }
    }
}

/// The signed-in user's id, for server routes outside Leptos.
#[cfg(feature = "ssr")]
pub async fn current_user_id(
    session: &tower_sessions::Session,
    db: &crate::backend::db::Db,
    now: i64,
) -> Result<crate::domain::ids::UserId, AppError> {
    crate::auth::current_user(session, db, now)
        .await?
        .map(|u| u.id)
        .ok_or(AppError::Unauthorized)
}

/// Who is signed in, if anyone.
#[server(prefix = "/api", endpoint = "me")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    match ssr::signed_in().await {
        Ok(u) => Ok(Some(SessionUser {
            name: u.display_name,
            email: u.email,
            is_staff: u.role.is_staff(),
        })),
        Err(AppError::Unauthorized) => Ok(None),
        Err(e) => Err(e),
    }
}

#[server(prefix = "/api", endpoint = "log_in")]
pub async fn log_in(email: String, password: String, next: String) -> Result<(), AppError> {
    use crate::backend::accounts;
    let state = super::state()?;
    let now = state.engine.clock().now();
    let address = ssr::client_address().await;
    let user = accounts::log_in(state.engine.db(), &email, &password, &address, now).await?;
    crate::auth::sign_in(&ssr::session().await?, &user, now).await?;
    leptos_axum::redirect(&safe_next(&next));
    Ok(())
}

#[server(prefix = "/api", endpoint = "register")]
pub async fn register(
    email: String,
    name: String,
    password: String,
    next: String,
) -> Result<(), AppError> {
    use crate::backend::accounts;
    use crate::domain::input::{DisplayName, Email, Password};
    let state = super::state()?;
    let email = Email::parse(&email)?;
    let name = DisplayName::parse(&name)?;
    let password = Password::parse(&password)?;
    let now = state.engine.clock().now();
    let address = ssr::client_address().await;
    let user =
        accounts::register(state.engine.db(), &email, &name, &password, &address, now).await?;
    crate::auth::sign_in(&ssr::session().await?, &user, now).await?;
    leptos_axum::redirect(&safe_next(&next));
    Ok(())
}

/// A customer whom staff booked without a password sets one with the link
/// staff gave them, and is signed in.
#[server(prefix = "/api", endpoint = "claim_account")]
pub async fn claim_account(token: String, password: String) -> Result<(), AppError> {
    use crate::backend::accounts;
    use crate::domain::input::Password;
    let state = super::state()?;
    let password = Password::parse(&password)?;
    let now = state.engine.clock().now();
    let user = accounts::claim_account(state.engine.db(), &token, &password, now).await?;
    crate::auth::sign_in(&ssr::session().await?, &user, now).await?;
    leptos_axum::redirect("/bookings");
    Ok(())
}

#[server(prefix = "/api", endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    crate::auth::sign_out(&ssr::session().await?).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn after_log_in_only_paths_on_this_site_are_followed() {
        assert_eq!(safe_next("/bookings"), "/bookings");
        assert_eq!(
            safe_next("/venues/1?date=2026-06-02"),
            "/venues/1?date=2026-06-02"
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "",
            "bookings",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }
}
