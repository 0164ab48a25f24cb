//! Database handles for SQLite and Postgres, and how their errors are read.
//!
//! Both engines speak the same SQL (see `store`); what differs is how a
//! write transaction takes its lock, how connections are set up, and the
//! error codes. `Db` picks the engine from the URL at start-up.

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Postgres, Sqlite, Transaction};
use std::future::Future;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use super::store::{set_unnamed_statements, Store};

/// How durable SQLite commits are. `Full` is the default: a confirmation
/// shown to a customer survives a power cut. `Normal` is about ten times
/// faster in WAL mode but can lose the last commits on power loss, freeing
/// a slot someone holds a confirmation for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqliteDurability {
    Full,
    Normal,
}

/// Connection settings beyond the URL.
#[derive(Clone)]
pub struct DbOptions {
    /// Connections in the pool (Postgres) or in the read pool (SQLite; its
    /// writes go through a single connection, SQLite having one writer).
    pub pool_size: u32,
    pub acquire_timeout: Duration,
    pub sqlite_durability: SqliteDurability,
    /// Postgres timeouts of the app's connections, so that one instance
    /// stuck inside a transaction cannot hold every other instance's
    /// bookings of those resources for ever.
    pub postgres: PgTimeouts,
    /// The Postgres URL is a connection pooler that hands each transaction
    /// its own server connection (PgBouncer's `pool_mode = transaction`):
    /// nothing may outlive a transaction, so statements are not kept
    /// prepared, every statement runs inside a transaction and the
    /// timeouts are set in each (`SET LOCAL`).
    pub postgres_pooled: bool,
    /// Where migrations, and creating a missing database, connect: Postgres
    /// itself. Needed behind a transaction pooler (the migration lock is
    /// held across transactions); otherwise the database URL.
    pub migration_url: Option<String>,
}

/// Postgres `lock_timeout`, `statement_timeout` and
/// `idle_in_transaction_session_timeout` (zero: none). A lock or statement
/// timeout fails the attempt with a transient error, which the engine
/// retries; an idle transaction past its timeout is ended by the server,
/// releasing its row locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PgTimeouts {
    pub lock: Duration,
    pub statement: Duration,
    pub idle_in_transaction: Duration,
}

impl Default for PgTimeouts {
    fn default() -> Self {
        Self {
            lock: Duration::from_secs(5),
            statement: Duration::from_secs(30),
            idle_in_transaction: Duration::from_secs(15),
        }
    }
}

/// The migration URL may carry a password: `Debug` shows it redacted.
impl std::fmt::Debug for DbOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbOptions")
            .field("pool_size", &self.pool_size)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("sqlite_durability", &self.sqlite_durability)
            .field("postgres", &self.postgres)
            .field("postgres_pooled", &self.postgres_pooled)
            .field(
                "migration_url",
                &self.migration_url.as_deref().map(super::config::redact_url),
            )
            .finish()
    }
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            pool_size: 8,
            acquire_timeout: Duration::from_secs(10),
            sqlite_durability: SqliteDurability::Full,
            postgres: PgTimeouts::default(),
            postgres_pooled: false,
            migration_url: None,
        }
    }
}

/// A connected database: the embedded SQLite file or a shared Postgres.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

/// SQLite has one writer at a time. Writes queue for the one connection of
/// `write` (in order, without SQLite's sleeping busy handler); reads use
/// `read` and, in WAL mode, never wait for the writer.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub write: SqlitePool,
    pub read: SqlitePool,
}

#[derive(Clone, Debug)]
pub struct PgDb {
    pub pool: PgPool,
    /// How migrations connect, without the timeouts, so that a long
    /// migration or a wait for another instance's migration lock is not
    /// cut short: the pool's URL, or `DbOptions::migration_url`.
    connect: std::sync::Arc<PgConnectOptions>,
    /// Behind a transaction pooler (`DbOptions::postgres_pooled`).
    pub pooled: bool,
    /// What opens a write and a read transaction: with the timeouts in
    /// them behind a pooler.
    begin: std::sync::Arc<(String, String)>,
}

/// Opens a read-only transaction with one snapshot for every statement
/// (READ COMMITTED would give each its own): a booking's idempotency key
/// and its claims are then seen together or not at all.
const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// `t` as `SET LOCAL` statements, for the start of a transaction.
fn local_timeouts(t: PgTimeouts) -> String {
    let ms = |d: Duration| d.as_millis();
    format!(
        "SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms'; \
         SET LOCAL idle_in_transaction_session_timeout = '{}ms'",
        ms(t.lock),
        ms(t.statement),
        ms(t.idle_in_transaction)
    )
}

/// Sets the timeouts on a new connection to Postgres itself, in one
/// statement. Behind a transaction pooler a connection's settings would land
/// on whichever server connection it had then; there `local_timeouts` sets
/// them in each transaction instead.
async fn set_timeouts(conn: &mut sqlx::PgConnection, t: PgTimeouts) -> Result<(), sqlx::Error> {
    let ms = |d: Duration| format!("{}ms", d.as_millis());
    sqlx::query(
        "SELECT set_config('lock_timeout', $1, false), \
         set_config('statement_timeout', $2, false), \
         set_config('idle_in_transaction_session_timeout', $3, false)",
    )
    .bind(ms(t.lock))
    .bind(ms(t.statement))
    .bind(ms(t.idle_in_transaction))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Runs `$body` with `$b` bound to the concrete backend of `$db`.
macro_rules! with_backend {
    ($db:expr, |$b:ident| $body:expr) => {
        match $db {
            $crate::backend::db::Db::Sqlite($b) => $body,
            $crate::backend::db::Db::Postgres($b) => $body,
        }
    };
}
pub(crate) use with_backend;

impl Db {
    /// Connects to `url` (`sqlite:…` or `postgres:…`); a SQLite file and
    /// its folder are created when missing.
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Db, sqlx::Error> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pooled = options.postgres_pooled;
            let direct = options.migration_url.as_deref().unwrap_or(url);
            if pooled && direct == url {
                return Err(sqlx::Error::Configuration(
                    "behind a transaction pooler, migrations need a direct connection to \
                     Postgres: set SLOTKEEPER_MIGRATION_DATABASE_URL"
                        .into(),
                ));
            }
            create_postgres_database(direct).await?;
            let slow = |o: PgConnectOptions| {
                o.log_slow_statements(log::LevelFilter::Warn, Duration::from_millis(250))
            };
            let mut connect = slow(PgConnectOptions::from_str(url)?);
            let timeouts = options.postgres;
            let mut pool = PgPoolOptions::new()
                .max_connections(options.pool_size)
                .acquire_timeout(options.acquire_timeout);
            let begin = if pooled {
                set_unnamed_statements();
                connect = connect.statement_cache_capacity(0);
                let set = local_timeouts(timeouts);
                (format!("BEGIN; {set}"), format!("{BEGIN_READ}; {set}"))
            } else {
                pool = pool.after_connect(move |conn, _| {
                    Box::pin(async move { set_timeouts(conn, timeouts).await })
                });
                ("BEGIN".to_owned(), BEGIN_READ.to_owned())
            };
            let pool = pool.connect_with(connect.clone()).await?;
            let migrate = slow(PgConnectOptions::from_str(direct)?);
            Ok(Db::Postgres(PgDb {
                pool,
                connect: std::sync::Arc::new(migrate),
                pooled,
                begin: std::sync::Arc::new(begin),
            }))
        } else if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(match options.sqlite_durability {
                    SqliteDurability::Full => SqliteSynchronous::Full,
                    SqliteDurability::Normal => SqliteSynchronous::Normal,
                })
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .log_slow_statements(log::LevelFilter::Warn, Duration::from_millis(250));
            if let Some(dir) = Path::new(connect.get_filename()).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
                }
            }
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(options.pool_size)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect.read_only(true))
                .await?;
            Ok(Db::Sqlite(SqliteDb { write, read }))
        } else {
            Err(sqlx::Error::Configuration(
                "DATABASE_URL must start with sqlite: or postgres:".into(),
            ))
        }
    }

    /// Brings the schema up to date. Safe to run from several instances at
    /// once: sqlx takes a database lock while migrating.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(db) => sqlx::migrate!("../migrations/sqlite").run(&db.write).await,
            Db::Postgres(db) => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect_with(&db.connect).await?;
                let done = sqlx::migrate!("../migrations/postgres")
                    .run(&mut conn)
                    .await;
                let _ = conn.close().await;
                done
            }
        }
    }

    /// "sqlite" or "postgres", for logs and test names.
    pub fn engine_name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Closes the pools. SQLite first folds its write-ahead log back into
    /// the database file, so that the file alone is the whole database.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(db) => {
                db.read.close().await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&db.write)
                    .await
                {
                    tracing::warn!(error = %e, "checkpointing the SQLite log failed");
                }
                db.write.close().await;
            }
            Db::Postgres(db) => db.pool.close().await,
        }
    }

    /// Runs a query on every pool: what a readiness probe asks. The error
    /// names the pool that failed.
    pub async fn ready(&self) -> Result<(), String> {
        let check = |name: &'static str, e: sqlx::Error| format!("{name}: {e}");
        match self {
            Db::Sqlite(db) => {
                sqlx::query("SELECT 1")
                    .execute(&db.write)
                    .await
                    .map_err(|e| check("sqlite writer", e))?;
                sqlx::query("SELECT 1")
                    .execute(&db.read)
                    .await
                    .map_err(|e| check("sqlite readers", e))?;
            }
            Db::Postgres(db) => {
                // A simple query: nothing prepared, so it also passes a pooler.
                sqlx::raw_sql("SELECT 1")
                    .execute(&db.pool)
                    .await
                    .map_err(|e| check("postgres", e))?;
            }
        }
        Ok(())
    }
}

/// Opens the transactions the engine runs in.
pub trait Backend: Send + Sync {
    type Tx: Store + Send + 'static;

    /// A transaction that may write. It holds the lock that serialises
    /// bookers from its first statement (SQLite) or from `lock_resources`
    /// (Postgres).
    fn begin_write(&self) -> impl Future<Output = Result<Self::Tx, sqlx::Error>> + Send;

    /// A read-only transaction: one consistent snapshot, no lock.
    fn begin_read(&self) -> impl Future<Output = Result<Self::Tx, sqlx::Error>> + Send;
}

impl Backend for SqliteDb {
    type Tx = Transaction<'static, Sqlite>;

    async fn begin_write(&self) -> Result<Self::Tx, sqlx::Error> {
        // IMMEDIATE takes the write lock now: a deferred BEGIN would read,
        // then fail to upgrade with SQLITE_BUSY, which no timeout fixes.
        self.write.begin_with("BEGIN IMMEDIATE").await
    }

    async fn begin_read(&self) -> Result<Self::Tx, sqlx::Error> {
        self.read.begin().await
    }
}

impl Backend for PgDb {
    type Tx = Transaction<'static, Postgres>;

    async fn begin_write(&self) -> Result<Self::Tx, sqlx::Error> {
        self.begin_with(&self.begin.0).await
    }

    async fn begin_read(&self) -> Result<Self::Tx, sqlx::Error> {
        // Read-only, so it never has to retry (see `BEGIN_READ`).
        self.begin_with(&self.begin.1).await
    }
}

impl PgDb {
    /// Opens a transaction with `begin`, on a fresh connection again when
    /// the first one turns out lost (a database restart cuts every idle
    /// connection of the pool; the pool notices one only when it is used).
    /// Every request's reads start here, so they ride over a restart as the
    /// engine's retried writes do. A pool that had no connection in time is
    /// not tried again: it has waited already.
    async fn begin_with(&self, begin: &str) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut attempt = 0;
        loop {
            match self.pool.begin_with(begin.to_owned()).await {
                Err(e)
                    if attempt < 2
                        && is_transient(&e)
                        && !matches!(e, sqlx::Error::PoolTimedOut) =>
                {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(10 << (2 * attempt))).await;
                }
                other => return other,
            }
        }
    }
}

/// Postgres unique_violation and SQLite's SQLITE_CONSTRAINT_UNIQUE (2067)
/// and SQLITE_CONSTRAINT_PRIMARYKEY (1555). Matched by code, never by text.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    db_code(e).is_some_and(|c| matches!(c.as_str(), "23505" | "2067" | "1555"))
}

/// The grid-independent guard refused an occupancy: Postgres
/// exclusion_violation (23P01, `occupancies_never_overlap`), or SQLite's
/// SQLITE_CONSTRAINT_TRIGGER (1811), which only the occupancy triggers
/// raise. Matched by code, never by text.
pub fn is_overlap_violation(e: &sqlx::Error) -> bool {
    db_code(e).is_some_and(|c| matches!(c.as_str(), "23P01" | "1811"))
}

/// A guard of the schema refused a write: a unique index (a claim, an
/// idempotency key) or the overlap guard.
pub fn is_guard_violation(e: &sqlx::Error) -> bool {
    is_unique_violation(e) || is_overlap_violation(e)
}

/// Failures that a fresh attempt of the whole transaction can cure:
/// serialization failure and deadlock, a lost connection, a statement or
/// lock timeout, an administrator's disconnect, the end of a transaction
/// left idle too long (Postgres); SQLITE_BUSY,
/// SQLITE_LOCKED and their extended codes; a pool with no connection free in
/// time. Retrying is safe: a booking's idempotency key makes a repeat find
/// what an attempt that did commit made.
pub fn is_transient(e: &sqlx::Error) -> bool {
    if matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) {
        return true;
    }
    db_code(e).is_some_and(|c| {
        matches!(
            c.as_str(),
            "40001"
                | "40P01"
                | "08000"
                | "08003"
                | "08006"
                | "57P01"
                | "57014"
                | "55P03"
                | "25P03"
                | "5"
                | "261"
                | "517"
                | "773"
                | "6"
                | "262"
        )
    })
}

fn db_code(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

impl Db {
    /// Each pool's connections: (name, open, idle), for `/metrics`.
    pub fn pool_stats(&self) -> Vec<(&'static str, u32, usize)> {
        match self {
            Db::Sqlite(s) => vec![
                ("sqlite_write", s.write.size(), s.write.num_idle()),
                ("sqlite_read", s.read.size(), s.read.num_idle()),
            ],
            Db::Postgres(p) => vec![("postgres", p.pool.size(), p.pool.num_idle())],
        }
    }
}

/// Creates the Postgres database named in `url` when it does not exist
/// yet (zero set-up, as with the SQLite file). Another instance creating
/// it at the same moment is fine; a server that refuses (no CREATEDB
/// right) leaves the error to the connection that follows.
async fn create_postgres_database(url: &str) -> Result<(), sqlx::Error> {
    use sqlx::migrate::MigrateDatabase;
    if sqlx::Postgres::database_exists(url).await.unwrap_or(true) {
        return Ok(());
    }
    match sqlx::Postgres::create_database(url).await {
        Ok(()) => {
            tracing::info!("created the Postgres database");
            Ok(())
        }
        // 42P04: duplicate_database, another instance was quicker.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "could not create the Postgres database");
            Ok(())
        }
    }
}
