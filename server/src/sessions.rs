//! The session store on SQLite: sessions are read on the read pool and
//! written on the single writer connection.
//!
//! Every signed-in request loads its session; on the writer those loads
//! would queue one by one behind each other and behind the booking
//! transactions. In WAL mode a read connection sees every committed write,
//! so a session saved by one request is what the next one loads.

use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions_sqlx_store::SqliteStore;

#[derive(Clone, Debug)]
pub struct SqliteSessions {
    read: SqliteStore,
    write: SqliteStore,
}

impl SqliteSessions {
    /// Both stores name the same table; `write` runs the migration.
    pub fn new(read: SqliteStore, write: SqliteStore) -> Self {
        Self { read, write }
    }
}

#[async_trait::async_trait]
impl SessionStore for SqliteSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.write.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.read.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.write.delete(id).await
    }
}
