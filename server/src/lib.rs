//! The Slotkeeper server: builds the application from settings and serves it.

pub mod api;
mod calendar;
pub mod cli;
mod csrf;
mod metrics;
mod page_cache;
mod sessions;

use app::backend::config::Settings;
use app::backend::db::Db;
use app::backend::engine::{Clock, Engine};
use app::backend::notify::{Dispatcher, Mailer};
use app::backend::seed::{self, Seeded};
use app::backend::throttle::AddressThrottle;
use app::state::AppState;
use app::{shell, App};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "slotkeeper.sid";

/// The largest request body accepted, in bytes.
const BODY_LIMIT: usize = 64 * 1024;
use tower_sessions::cookie::time::Duration as CookieDuration;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::SqliteStore;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    SingleProcess(#[from] app::backend::file_lock::FileLockError),
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot seed the demo data: {0}")]
    Seed(#[from] seed::SeedError),
    #[error("cannot send messages: {0}")]
    Mail(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A built application: database open and migrated, listener bound.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    settings: Settings,
    /// Sends the outbox's messages while the app serves.
    dispatcher: Dispatcher,
    /// SQLite: this process's hold on the database file (see `file_lock`).
    _file_lock: Option<app::backend::file_lock::SqliteFileLock>,
}

impl Application {
    /// Opens the database, migrates it, seeds demo data when asked and the
    /// database is empty, and binds the listener (port 0: any free port).
    pub async fn build(
        settings: Settings,
        leptos_options: LeptosOptions,
    ) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, leptos_options, Clock::System).await
    }

    /// `build` with the engine's clock given (tests set the time).
    pub async fn build_with_clock(
        settings: Settings,
        mut leptos_options: LeptosOptions,
        clock: Clock,
    ) -> Result<Self, StartupError> {
        // Before anything touches the file: a second server on it stops here.
        let file_lock = app::backend::file_lock::lock_sqlite_file(&settings.database_url)?;
        let db = Db::connect(&settings.database_url, &settings.db).await?;
        db.migrate().await?;
        let engine = Engine::new(db.clone(), clock);
        if settings.demo_data {
            let now = engine.clock().now();
            if seed::seed_demo(&db, now).await? == Seeded::Demo {
                tracing::info!("seeded the demo venues and accounts");
            }
        }
        match app::backend::accounts::has_admin(&db).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                "no admin account yet: make one with `slotkeeper create-admin --email you@example.com` \
                 (add --password-stdin to give its password), on the same DATABASE_URL"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot tell whether an admin exists"),
        }
        if leptos_options.output_name.is_empty() {
            leptos_options.output_name = "slotkeeper".into();
        }
        let listener =
            TcpListener::bind(settings.addr)
                .await
                .map_err(|source| StartupError::Listen {
                    addr: settings.addr,
                    source,
                })?;
        leptos_options.site_addr =
            listener
                .local_addr()
                .map_err(|source| StartupError::Listen {
                    addr: settings.addr,
                    source,
                })?;
        // Links in messages lead to the public address, else to this one.
        let public_url = settings
            .public_origin
            .clone()
            .unwrap_or_else(|| format!("http://{}", leptos_options.site_addr));
        let mailer = Mailer::from_settings(&settings.mail).map_err(StartupError::Mail)?;
        tracing::info!("messages to customers: {}", mailer.describe());
        let dispatcher = Dispatcher::new(engine.clone(), mailer, &settings.mail.from, &public_url)
            .map_err(StartupError::Mail)?;
        let state = AppState {
            leptos_options,
            engine,
            trust_forwarded_for: settings.trust_forwarded_for,
            booking_attempts: std::sync::Arc::new(AddressThrottle::new(
                settings.booking_attempts_per_minute,
            )),
        };
        let router = match &db {
            Db::Sqlite(s) => {
                // Session writes share SQLite's single writer connection;
                // loads run on the read pool.
                // The migrations made the table.
                let write = SqliteStore::new(s.write.clone());
                let store = sessions::SqliteSessions::new(SqliteStore::new(s.read.clone()), write);
                router(&state, sessions::Retrying(store), &settings)
            }
            Db::Postgres(p) => router(
                &state,
                sessions::Retrying(sessions::PgSessions::new(p)),
                &settings,
            ),
        };
        Ok(Self {
            listener,
            router,
            state,
            settings,
            dispatcher,
            _file_lock: file_lock,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.state.leptos_options.site_addr.port()
    }

    pub fn engine(&self) -> &Engine {
        &self.state.engine
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully (see
    /// `run_until`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves, sweeping lapsed holds and sending due messages meanwhile,
    /// until `stop` completes; then stops accepting connections, lets the
    /// requests in flight finish (for at most `DRAIN`), stops and joins the
    /// sweeper and the dispatcher, and closes the database (SQLite
    /// checkpoints its log).
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let engine = self.state.engine.clone();
        let every = self.settings.hold_sweep_every;
        let (stopping, mut stopped) = tokio::sync::watch::channel(false);
        let dispatcher = self.dispatcher.clone();
        let mail_every = self.settings.mail.poll_every;
        let mut mail_stopped = stopped.clone();
        let mut sender = StopsWithMe(tokio::spawn(async move {
            let mut tick = tokio::time::interval(mail_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = mail_stopped.changed() => break,
                }
                // Rounds one after another while they take full batches.
                // Stopping does not wait for a round (an SMTP server may
                // not answer): a message it took is sent again once its
                // claim runs out.
                loop {
                    tokio::select! {
                        round = dispatcher.run_once() => match round {
                            Ok(r) if r.claimed as i64 >= app::backend::notify::BATCH => continue,
                            Ok(_) => break,
                            Err(e) => {
                                tracing::warn!(error = %e, "sending messages failed");
                                break;
                            }
                        },
                        _ = mail_stopped.changed() => return,
                    }
                }
            }
        }));
        let mut sweeper = StopsWithMe(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                if let Err(e) = engine.flush_stats().await {
                    tracing::warn!(error = %e, "writing statistics failed");
                }
                match engine.expire_due_holds().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(expired = n, "expired lapsed holds"),
                    Err(e) => tracing::warn!(error = %e, "hold sweep failed"),
                }
                let now = engine.clock().now();
                if let Err(e) =
                    app::backend::accounts::forget_old_login_attempts(engine.db(), now).await
                {
                    tracing::warn!(error = %e, "forgetting old log-in attempts failed");
                }
                if let Err(e) = delete_expired_sessions(engine.db()).await {
                    tracing::warn!(error = %e, "deleting expired sessions failed");
                }
            }
            // What the last sweep counted reaches the database.
            if let Err(e) = engine.flush_stats().await {
                tracing::warn!(error = %e, "writing statistics failed");
            }
        }));
        tracing::info!(
            "listening on http://{}",
            self.state.leptos_options.site_addr
        );
        let (signalled, mut told) = tokio::sync::watch::channel(false);
        let server = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = told.changed().await;
        })
        .into_future();
        tokio::pin!(server);
        let served = tokio::select! {
            // Serving ended by itself: the listener failed.
            result = &mut server => result,
            _ = stop => {
                tracing::info!("stopping: no new connections; finishing the requests in flight");
                let _ = signalled.send(true);
                match tokio::time::timeout(DRAIN, &mut server).await {
                    Ok(result) => result,
                    Err(_) => {
                        tracing::warn!(
                            seconds = DRAIN.as_secs(),
                            "requests still running after the drain time; stopping anyway"
                        );
                        Ok(())
                    }
                }
            }
        };
        let _ = stopping.send(true);
        if let Err(e) = (&mut sweeper.0).await {
            tracing::warn!(error = %e, "the sweeper ended badly");
        }
        if let Err(e) = (&mut sender.0).await {
            tracing::warn!(error = %e, "the dispatcher ended badly");
        }
        self.state.engine.db().close().await;
        tracing::info!("stopped");
        served
    }
}

/// The header that carries a request's id.
const REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// Request ids: 16 random hex digits, for requests that come without one.
#[derive(Clone, Copy)]
struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        use rand::Rng;
        let id = format!("{:016x}", rand::thread_rng().gen::<u64>());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// A task that ends with the future that owns it: a server dropped
/// without its shutdown (a test's, aborted) takes its sweeper along.
struct StopsWithMe(tokio::task::JoinHandle<()>);

impl Drop for StopsWithMe {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How long a stopping server lets the requests in flight finish.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(20);

/// SIGTERM (what a service manager or container runtime sends) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Deletes the sessions past their expiry from the sessions table (a
/// session ends when it expires; its row would otherwise stay for good).
pub async fn delete_expired_sessions(db: &Db) -> Result<(), tower_sessions::session_store::Error> {
    use tower_sessions::ExpiredDeletion;
    match db {
        Db::Sqlite(s) => SqliteStore::new(s.write.clone()).delete_expired().await,
        Db::Postgres(p) => sessions::PgSessions::new(p).delete_expired().await,
    }
}

fn router<S>(state: &AppState, store: S, settings: &Settings) -> Router
where
    S: SessionStore + Clone,
{
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.secure_cookies)
        .with_expiry(Expiry::OnInactivity(CookieDuration::seconds(
            app::auth::IDLE_TIMEOUT_SECONDS,
        )));
    let routes = generate_route_list(App);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get({
                let token = settings.metrics_token.clone();
                move |state, req| metrics::metrics(state, token.clone(), req)
            }),
        )
        .nest("/api/v1", api::router())
        .route("/bookings/{id}/calendar.ics", get(calendar::ics))
        .leptos_routes(state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            page_cache::PageCache::new(state.engine.clone(), SESSION_COOKIE),
            page_cache::serve,
        ))
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(axum::middleware::from_fn_with_state(
            csrf::PublicOrigin(settings.public_origin.as_deref().map(Into::into)),
            csrf::refuse_cross_site,
        ))
        // Nothing this app accepts comes near this size: larger bodies are
        // answered 413 before any handler reads them.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::middleware::from_fn(api_too_large_as_json))
        // Each request's span names its id: the caller's X-Request-Id (a
        // proxy's), or one made here; the response carries it back.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
            let id = req
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds))
        // On every response: no page may be framed by another site (a Book
        // button under a decoy), types are not sniffed, and other sites are
        // told only the origin a link came from.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .with_state(state.clone())
}

/// A body over the limit is refused by `RequestBodyLimitLayer` before any
/// handler, in plain text; the JSON API answers it as its other errors.
async fn api_too_large_as_json(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let api = req.uri().path().starts_with("/api/v1/");
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if api && res.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE && !json {
        return api::ApiError(app::domain::error::AppError::TooLarge).into_response();
    }
    res
}

/// Readiness: a query on every database pool; 503 naming the pool when one
/// fails (`/healthz` only says the process serves).
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    match state.engine.db().ready().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database does not answer",
            )
                .into_response()
        }
    }
}

/// Server functions answer every failure with 500. The app's errors carry
/// their own status (400 for bad input, 401, 409 for a taken slot, 503
/// when busy): this puts it back, reading only the bodies of such failures.
/// Form posts without JavaScript are redirects and pass untouched.
async fn server_fn_status(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::StatusCode;
    let path = req.uri().path();
    let server_fn = path.starts_with("/api/") && !path.starts_with("/api/v1/");
    let res = next.run(req).await;
    if !server_fn || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .unwrap_or_default();
    if let Ok(e) = serde_json::from_slice::<app::domain::error::AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(seconds) = e.retry_after_seconds() {
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                parts.headers.insert(header::RETRY_AFTER, v);
            }
        }
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}
