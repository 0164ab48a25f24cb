//! Refuses state-changing requests that a browser sent from another site.
//!
//! Server functions and the JSON API are plain POST (and DELETE) endpoints;
//! SameSite cookies are one defence, this is the other. A browser tells
//! where a request comes from with `Sec-Fetch-Site` (modern browsers) or
//! `Origin`; a request with neither is not from a browser page (a script,
//! curl) and carries no ambient credentials to abuse.

use app::domain::error::AppError;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::ApiError;

/// The site's public origin (`SLOTKEEPER_PUBLIC_URL`), when set: behind a
/// proxy the `Host` a request arrives with may be the proxy's upstream.
#[derive(Clone, Debug, Default)]
pub struct PublicOrigin(pub Option<std::sync::Arc<str>>);

pub async fn refuse_cross_site(
    axum::extract::State(public): axum::extract::State<PublicOrigin>,
    req: Request,
    next: Next,
) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && is_cross_site(req.headers(), public.0.as_deref()) {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "refused a cross-site request");
        return ApiError(AppError::Forbidden).into_response();
    }
    next.run(req).await
}

fn is_cross_site(headers: &HeaderMap, public: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // "none": typed into the address bar or a bookmark.
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    match headers.get(header::ORIGIN) {
        None => false,
        Some(origin) => {
            let origin = origin.to_str().unwrap_or("null");
            if public.is_some_and(|p| p.eq_ignore_ascii_case(origin)) {
                return false;
            }
            let origin_host = origin.split_once("://").map(|(_, rest)| rest);
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            match (origin_host, host) {
                (Some(o), Some(h)) => !o.eq_ignore_ascii_case(h),
                _ => true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn is_cross_site_here(h: &HeaderMap) -> bool {
        is_cross_site(h, None)
    }

    #[test]
    fn behind_a_proxy_the_public_origin_is_this_site() {
        let proxied = headers(&[
            ("origin", "https://book.example.com"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(is_cross_site(&proxied, None));
        assert!(!is_cross_site(&proxied, Some("https://book.example.com")));
        assert!(is_cross_site(
            &headers(&[("origin", "https://evil.test"), ("host", "127.0.0.1:3000")]),
            Some("https://book.example.com")
        ));
    }

    #[test]
    fn browsers_on_this_site_and_scripts_pass() {
        assert!(!is_cross_site_here(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!is_cross_site_here(&headers(&[
            ("origin", "http://shop.test:3000"),
            ("host", "shop.test:3000")
        ])));
        assert!(!is_cross_site_here(&headers(&[])));
    }

    #[test]
    fn other_sites_are_refused() {
        assert!(is_cross_site_here(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(is_cross_site_here(&headers(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        assert!(is_cross_site_here(&headers(&[
            ("origin", "https://evil.test"),
            ("host", "shop.test")
        ])));
        assert!(is_cross_site_here(&headers(&[
            ("origin", "null"),
            ("host", "shop.test")
        ])));
    }
}
