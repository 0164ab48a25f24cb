//! The booking page as visitors who are not signed in see it, kept for a
//! second.
//!
//! Visitors browsing times all get the same page for the same address; it
//! is rendered once and copied. A copy is at most a second old, and none
//! outlives a write by this instance that changes what is free (the
//! engine's generation moves on). Another instance's booking can show up to
//! a second late: the page is advice, and choosing a time goes through the
//! engine's transaction, which answers a taken time with alternatives.
//! Signed-in customers and every other page are always rendered afresh.
//!
//! A shared render carries placeholders for its one-time values (the form's
//! idempotency key, the nonce of alternatives' keys); each copy served gets
//! fresh ones.

use app::backend::engine::Engine;
use app::one_time::{self, SharedRender, FORM_KEY_PLACEHOLDER, NONCE_PLACEHOLDER};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// How long a copy is served.
const FRESH: Duration = Duration::from_secs(1);
/// Addresses kept at most (a venue's days × choices).
const MAX_ENTRIES: usize = 512;
/// The most read of one render (a booking page is about 18 KB).
const MAX_BODY: usize = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct PageCache {
    engine: Engine,
    session_cookie: &'static str,
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    /// One render per address at a time: visitors arriving meanwhile wait
    /// for its copy.
    rendering: Arc<Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>>,
}

struct Entry {
    generation: u64,
    /// The engine's clock when rendered (tests move it by hand).
    clock: i64,
    rendered: Instant,
    headers: HeaderMap,
    page: Arc<Render>,
}

/// A shared render and where its placeholders are.
struct Render {
    body: Bytes,
    /// (offset, which) of every placeholder, in order.
    slots: Vec<(usize, Placeholder)>,
}

#[derive(Clone, Copy)]
enum Placeholder {
    FormKey,
    Nonce,
}

impl Render {
    fn new(body: Bytes) -> Self {
        let mut slots = Vec::new();
        for (what, text) in [
            (Placeholder::FormKey, FORM_KEY_PLACEHOLDER),
            (Placeholder::Nonce, NONCE_PLACEHOLDER),
        ] {
            let pattern = text.as_bytes();
            let mut from = 0;
            while let Some(at) = body[from..]
                .windows(pattern.len())
                .position(|w| w == pattern)
            {
                slots.push((from + at, what));
                from += at + pattern.len();
            }
        }
        slots.sort_by_key(|(at, _)| *at);
        Self { body, slots }
    }

    /// The page with fresh one-time values, in one copy.
    fn copy(&self) -> Vec<u8> {
        let (key, nonce) = (one_time::fresh_form_key(), one_time::fresh_nonce());
        let mut out = self.body.to_vec();
        for (at, what) in &self.slots {
            let value = match what {
                Placeholder::FormKey => key.as_bytes(),
                Placeholder::Nonce => nonce.as_bytes(),
            };
            out[*at..*at + value.len()].copy_from_slice(value);
        }
        out
    }
}

impl PageCache {
    pub fn new(engine: Engine, session_cookie: &'static str) -> Self {
        Self {
            engine,
            session_cookie,
            entries: Arc::default(),
            rendering: Arc::default(),
        }
    }

    fn render_turn(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut turns = self.rendering.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = turns.get(key).and_then(Weak::upgrade) {
            return t;
        }
        if turns.len() >= MAX_ENTRIES {
            turns.retain(|_, t| t.strong_count() > 0);
        }
        let t = Arc::new(tokio::sync::Mutex::new(()));
        turns.insert(key.to_owned(), Arc::downgrade(&t));
        t
    }

    /// Only a booking page (`/venues/{id}` with the choices of its form),
    /// fetched by someone without a session.
    fn key(&self, req: &Request) -> Option<String> {
        if req.method() != Method::GET {
            return None;
        }
        let id = req.uri().path().strip_prefix("/venues/")?;
        if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let known = ["date", "service", "party", "resource"];
        let query = req.uri().query().unwrap_or("");
        let plain = query.split('&').filter(|p| !p.is_empty()).all(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            known.contains(&name)
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        let signed_in = req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(self.session_cookie));
        (plain && !signed_in).then(|| req.uri().to_string())
    }

    fn get(&self, key: &str, generation: u64, clock: i64) -> Option<(HeaderMap, Arc<Render>)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let e = entries.get(key)?;
        (e.generation == generation && e.clock == clock && e.rendered.elapsed() < FRESH)
            .then(|| (e.headers.clone(), e.page.clone()))
    }

    fn put(&self, key: String, entry: Entry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.rendered.elapsed() < FRESH);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, entry);
    }
}

/// A copy of a shared render with fresh one-time values (each placeholder
/// is as long as the value it stands for).
fn copy(headers: HeaderMap, page: &Render) -> Response {
    let mut res = Response::new(Body::from(page.copy()));
    *res.headers_mut() = headers;
    res
}

pub async fn serve(State(cache): State<PageCache>, mut req: Request, next: Next) -> Response {
    let Some(key) = cache.key(&req) else {
        return next.run(req).await;
    };
    // Read before rendering: a write meanwhile leaves the copy out of date.
    let generation = cache.engine.generation();
    let clock = cache.engine.clock().now();
    if let Some((headers, page)) = cache.get(&key, generation, clock) {
        return copy(headers, &page);
    }
    let turn = cache.render_turn(&key);
    let _rendering = turn.lock().await;
    let generation = cache.engine.generation();
    let clock = cache.engine.clock().now();
    if let Some((headers, page)) = cache.get(&key, generation, clock) {
        return copy(headers, &page);
    }
    req.extensions_mut().insert(SharedRender);
    let (parts, body) = next.run(req).await.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "reading a rendered page failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let keep = parts.status == StatusCode::OK && !parts.headers.contains_key(header::SET_COOKIE);
    let page = Arc::new(Render::new(body));
    let mut res = copy(parts.headers.clone(), &page);
    *res.status_mut() = parts.status;
    if keep {
        cache.put(
            key,
            Entry {
                generation,
                clock,
                rendered: Instant::now(),
                headers: parts.headers,
                page,
            },
        );
    }
    res
}
