//! Fresh, empty databases for test suites (the engine's and the server's).
//!
//! SQLite: a new file in the temporary directory. Postgres: a new database
//! on the server that `SLOTKEEPER_TEST_POSTGRES_URL` names, dropped again by
//! `remove`. Without that variable a Postgres test fails and says why; the
//! README's test command leaves Postgres tests out, saying so, when it is
//! unset.

use rand::Rng;
use sqlx::{Connection, PgConnection};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Names the Postgres server that tests may create databases on.
pub const POSTGRES_VAR: &str = "SLOTKEEPER_TEST_POSTGRES_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestEngine {
    Sqlite,
    Postgres,
}

/// An empty database that exists until `remove`.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to connect to it, as `DATABASE_URL` would give it.
    pub url: String,
    place: Place,
}

#[derive(Debug)]
enum Place {
    File(PathBuf),
    Postgres { admin_url: String, name: String },
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    format!(
        "slotkeeper_test_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::thread_rng().gen::<u32>()
    )
}

/// `postgres://u@h:p/db?x` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .unwrap_or(base.len());
    match query {
        Some(q) => format!("{}/{name}?{q}", &base[..host_end]),
        None => format!("{}/{name}", &base[..host_end]),
    }
}

impl TestDatabase {
    /// Creates an empty database. Panics, saying what to do, when Postgres
    /// is asked for and not configured or not reachable.
    pub async fn create(engine: TestEngine) -> TestDatabase {
        let name = unique_name();
        match engine {
            TestEngine::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    place: Place::File(path),
                }
            }
            TestEngine::Postgres => {
                let admin_url = std::env::var(POSTGRES_VAR).unwrap_or_else(|_| {
                    panic!(
                        "{POSTGRES_VAR} is not set: this test needs a Postgres server, for \
                         example postgres://postgres@127.0.0.1:5432/postgres. The README's \
                         test command leaves Postgres tests out, saying so, when it is unset."
                    )
                });
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach the Postgres of {POSTGRES_VAR}: {e}"));
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .await
                    .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
                TestDatabase {
                    url: with_database(&admin_url, &name),
                    place: Place::Postgres { admin_url, name },
                }
            }
        }
    }

    /// Deletes the database. Connections still open to it are closed.
    pub async fn remove(self) {
        match self.place {
            Place::File(path) => {
                for suffix in ["", "-wal", "-shm", ".lock"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Place::Postgres { admin_url, name } => {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut admin)
                            .await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_test_database_replaces_only_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
    }
}
