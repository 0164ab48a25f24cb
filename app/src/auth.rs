//! The typed session: who is signed in, and since when.
//!
//! The session itself (its id, cookie and idle timeout) is tower-sessions'
//! and lives in the database, so any app instance serves any session. A
//! sign-in also has an absolute lifetime, whatever the activity.

use crate::backend::accounts::{self, AuthUser};
use crate::backend::db::Db;
use crate::domain::error::AppError;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const SIGNED_IN: &str = "signed_in";

/// A sign-in ends this long after it began, active or not.
pub const ABSOLUTE_LIFETIME_SECONDS: i64 = 7 * 24 * 3600;
/// A session ends after this long without a request.
pub const IDLE_TIMEOUT_SECONDS: i64 = 12 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct SignedIn {
    user_id: i64,
    since: i64,
    /// The last time the session was saved: it is saved again (and so its
    /// idle timeout restarts) at most every `TOUCH_EVERY_SECONDS`.
    #[serde(default)]
    seen: i64,
}

/// How often an active session is saved to move its idle timeout on.
const TOUCH_EVERY_SECONDS: i64 = 10 * 60;

/// The session store failed even after its retries: the database is out
/// of reach (a restart), so the client is asked to try again (503).
fn session_failed(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %e, "session store failed");
    AppError::Unavailable
}

/// Records `user` as signed in. The session id changes, so an id planted
/// before the log-in is worth nothing after it.
pub async fn sign_in(session: &Session, user: &AuthUser, now: i64) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_failed)?;
    session
        .insert(
            SIGNED_IN,
            SignedIn {
                user_id: user.id.0,
                since: now,
                seen: now,
            },
        )
        .await
        .map_err(session_failed)
}

/// Ends the session and its record.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_failed)
}

/// The signed-in user, if any: `None` when nobody signed in, the sign-in
/// outlived its absolute lifetime, or the account is gone.
pub async fn current_user(
    session: &Session,
    db: &Db,
    now: i64,
) -> Result<Option<AuthUser>, AppError> {
    let Some(signed_in) = session
        .get::<SignedIn>(SIGNED_IN)
        .await
        .map_err(session_failed)?
    else {
        return Ok(None);
    };
    if now - signed_in.since > ABSOLUTE_LIFETIME_SECONDS {
        sign_out(session).await?;
        return Ok(None);
    }
    if now - signed_in.seen > TOUCH_EVERY_SECONDS {
        // Changing the session makes the store save it with a new expiry.
        session
            .insert(
                SIGNED_IN,
                SignedIn {
                    seen: now,
                    ..signed_in
                },
            )
            .await
            .map_err(session_failed)?;
        return Ok(accounts::user(db, crate::domain::ids::UserId(signed_in.user_id)).await?);
    }
    Ok(accounts::user(db, crate::domain::ids::UserId(signed_in.user_id)).await?)
}

/// The client's address for throttling: the TCP peer, or, behind a
/// reverse proxy the operator trusts (`SLOTKEEPER_TRUST_FORWARDED_FOR`),
/// the address that proxy put last in `X-Forwarded-For`.
pub fn client_address(
    headers: &axum::http::HeaderMap,
    peer: std::net::SocketAddr,
    trust_forwarded_for: bool,
) -> String {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
            .last();
        if let Some(a) = forwarded {
            return a.to_owned();
        }
    }
    peer.ip().to_string()
}

/// Whether `address` (as `client_address` gives it) is this machine's own
/// (loopback). Counts kept per address alone skip such a client: it is the
/// machine itself (a script, a test) or a reverse proxy on it whose
/// X-Forwarded-For is not trusted, and counting that one address would
/// throttle every client behind the proxy together. Counts per email still
/// apply to it.
pub fn is_local(address: &str) -> bool {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{client_address, is_local};

    #[test]
    fn loopback_addresses_are_local_and_others_are_not() {
        for a in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            assert!(is_local(a), "{a}");
        }
        for a in [
            "192.0.2.1",
            "10.0.0.1",
            "2001:db8::1",
            "::ffff:192.0.2.1",
            "unknown",
        ] {
            assert!(!is_local(a), "{a}");
        }
    }
    use axum::http::{HeaderMap, HeaderValue};

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let peer = "10.0.0.2:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 198.51.100.7"),
        );
        assert_eq!(client_address(&h, peer, false), "10.0.0.2");
        assert_eq!(
            client_address(&h, peer, true),
            "198.51.100.7",
            "the proxy's own entry, not the client's claim"
        );
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("not an address"),
        );
        assert_eq!(client_address(&h, peer, true), "10.0.0.2");
    }
}
