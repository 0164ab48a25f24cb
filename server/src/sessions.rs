//! The session stores: on SQLite, saves go through the single writer
//! connection and loads are answered from memory; on both, an operation
//! the database fails is tried again (`Retrying`).
//!
//! Every signed-in request loads its session. On SQLite one server process
//! owns the database, so every save and delete passes through this store:
//! a copy kept in memory is exactly what the table holds. Loads that miss
//! (after a restart, or for an unknown id) read on the read pool, never
//! queueing behind the booking transactions on the writer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions_sqlx_store::SqliteStore;

/// Sessions kept in memory at most; past that the copy starts afresh.
const MAX_KEPT: usize = 50_000;

#[derive(Clone, Debug)]
pub struct SqliteSessions {
    read: SqliteStore,
    write: SqliteStore,
    kept: Arc<Mutex<Kept>>,
}

#[derive(Debug, Default)]
struct Kept {
    records: HashMap<Id, Record>,
    /// Counts saves and deletes: a load that read the table while one ran
    /// may have read the old record, and keeps nothing.
    writes: u64,
}

impl SqliteSessions {
    /// Both stores name the same table; `write` runs the migration.
    pub fn new(read: SqliteStore, write: SqliteStore) -> Self {
        Self {
            read,
            write,
            kept: Arc::default(),
        }
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `record`; `loaded_after` is the count of writes before a load
    /// read it (none for a record just written).
    fn keep(&self, record: &Record, loaded_after: Option<u64>) {
        let mut kept = self.kept();
        match loaded_after {
            Some(w) if w != kept.writes => return,
            Some(_) => {}
            None => kept.writes += 1,
        }
        if kept.records.len() >= MAX_KEPT {
            let now = OffsetDateTime::now_utc();
            kept.records.retain(|_, r| r.expiry_date > now);
            if kept.records.len() >= MAX_KEPT {
                kept.records.clear();
            }
        }
        kept.records.insert(record.id, record.clone());
    }

    fn forget(&self, id: &Id) {
        let mut kept = self.kept();
        kept.records.remove(id);
        kept.writes += 1;
    }
}

#[async_trait::async_trait]
impl SessionStore for SqliteSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.forget(&record.id);
        self.write.create(record).await?;
        self.keep(record, None);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // Forgotten first: a failed save must not leave the old copy.
        self.forget(&record.id);
        self.write.save(record).await?;
        self.keep(record, None);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let (record, writes) = {
            let kept = self.kept();
            (kept.records.get(id).cloned(), kept.writes)
        };
        if let Some(record) = record {
            if record.expiry_date > OffsetDateTime::now_utc() {
                return Ok(Some(record));
            }
            self.forget(id);
            return Ok(None);
        }
        let record = self.read.load(id).await?;
        if let Some(r) = &record {
            self.keep(r, Some(writes));
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.forget(id);
        self.write.delete(id).await
    }
}

/// A session store that tries an operation again when it fails: a
/// connection cut by a database restart fails the one statement on it, and
/// the pool's next connection is a new one. The stores report failures only
/// as text, so every backend failure is tried again, twice at most, after a
/// short pause; loads, saves and deletes are safe to repeat, and a create
/// picks a fresh id when it collides.
#[derive(Clone, Debug)]
pub struct Retrying<S>(pub S);

const RETRIES: u32 = 2;

async fn pause(attempt: u32) {
    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
}

macro_rules! retried {
    ($call:expr) => {{
        let mut attempt = 0;
        loop {
            match $call.await {
                Err(session_store::Error::Backend(e)) if attempt < RETRIES => {
                    attempt += 1;
                    tracing::debug!(error = %e, attempt, "session store failed; trying again");
                    pause(attempt).await;
                }
                other => break other,
            }
        }
    }};
}

#[async_trait::async_trait]
impl<S: SessionStore> SessionStore for Retrying<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        retried!(self.0.create(record))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        retried!(self.0.save(record))
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        retried!(self.0.load(id))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        retried!(self.0.delete(id))
    }
}

/// The Postgres session store: the table `tower_sessions.session` (made by
/// the migrations), on the app's pool. Behind a transaction pooler each
/// operation is one transaction of unnamed statements, as the engine's are;
/// on Postgres itself a load is one prepared statement, no transaction.
#[derive(Clone, Debug)]
pub struct PgSessions {
    pool: sqlx::PgPool,
    pooled: bool,
}

const PG_TABLE: &str = r#""tower_sessions"."session""#;

/// Runs `$body` with `$c` a connection of the pool and `$kept` whether its
/// statement may be kept prepared: inside a transaction behind a pooler.
macro_rules! on_pool {
    ($self:ident, |$c:ident, $kept:ident| $body:expr) => {{
        let $kept = !$self.pooled;
        if $self.pooled {
            let mut tx = $self.pool.begin().await.map_err(backend)?;
            let out = {
                let $c = &mut *tx;
                $body.await
            }
            .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            Ok(out)
        } else {
            let mut conn = $self.pool.acquire().await.map_err(backend)?;
            let $c = &mut *conn;
            $body.await.map_err(backend)
        }
    }};
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

impl PgSessions {
    pub fn new(db: &app::backend::db::PgDb) -> Self {
        Self {
            pool: db.pool.clone(),
            pooled: db.pooled,
        }
    }

    async fn upsert(&self, record: &Record, fresh: bool) -> session_store::Result<bool> {
        let data = rmp_serde::to_vec(record).map_err(backend)?;
        let sql = if fresh {
            format!(
                "INSERT INTO {PG_TABLE} (id, data, expiry_date) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING"
            )
        } else {
            format!(
                "INSERT INTO {PG_TABLE} (id, data, expiry_date) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry_date = excluded.expiry_date"
            )
        };
        on_pool!(self, |c, kept| sqlx::query(&sql)
            .persistent(kept)
            .bind(record.id.to_string())
            .bind(&data)
            .bind(record.expiry_date)
            .execute(c))
        .map(|done: sqlx::postgres::PgQueryResult| done.rows_affected() == 1)
    }

    /// Deletes the sessions past their expiry.
    pub async fn delete_expired(&self) -> session_store::Result<()> {
        let sql = format!("DELETE FROM {PG_TABLE} WHERE expiry_date < now()");
        on_pool!(self, |c, kept| sqlx::query(&sql)
            .persistent(kept)
            .execute(c))
        .map(|_| ())
    }
}

#[async_trait::async_trait]
impl SessionStore for PgSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh id that collides (never, in practice) is drawn again.
        while !self.upsert(record, true).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.upsert(record, false).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let sql = format!("SELECT data FROM {PG_TABLE} WHERE id = $1 AND expiry_date > $2");
        let data: Option<Vec<u8>> = on_pool!(self, |c, kept| sqlx::query_scalar(&sql)
            .persistent(kept)
            .bind(id.to_string())
            .bind(OffsetDateTime::now_utc())
            .fetch_optional(c))?;
        data.map(|d| rmp_serde::from_slice(&d).map_err(backend))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let sql = format!("DELETE FROM {PG_TABLE} WHERE id = $1");
        on_pool!(self, |c, kept| sqlx::query(&sql)
            .persistent(kept)
            .bind(id.to_string())
            .execute(c))
        .map(|_| ())
    }
}
