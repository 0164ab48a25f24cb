//! One server process per SQLite file.
//!
//! SQLite is the embedded default for a single server process: it has one
//! writer, and the server keeps a copy of each session in memory that
//! every change to the sessions passes through. A second process on the
//! same file would keep its own copy (a customer who logs out on one would
//! stay logged in on the other) and contend for the writer. So the server
//! takes an exclusive lock on a file beside the database at start-up and
//! refuses to start while another process holds it. The lock is the
//! operating system's (`flock`): it goes with the process, however that
//! ends, so a crash never leaves a stale lock behind.

use sqlx::sqlite::SqliteConnectOptions;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::str::FromStr;

/// Held for as long as the server runs.
#[derive(Debug)]
pub struct SqliteFileLock {
    _file: File,
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum FileLockError {
    #[error(
        "another Slotkeeper server already serves {database} (it holds {lock}); \
         SQLite serves one server process: stop that one first, or run several \
         instances on Postgres"
    )]
    InUse { database: String, lock: String },
    #[error("cannot lock {lock}: {source}")]
    Io {
        lock: String,
        source: std::io::Error,
    },
}

/// The lock file of a SQLite URL: the database's path with `.lock` added.
/// None for an in-memory database or a URL that is not SQLite's.
pub fn lock_path(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let file = options.get_filename();
    let name = file.to_str()?;
    if name.is_empty() || name == ":memory:" || url.contains(":memory:") {
        return None;
    }
    let mut path = file.as_os_str().to_owned();
    path.push(".lock");
    Some(PathBuf::from(path))
}

/// Takes the lock of the SQLite database at `url` (nothing to take for
/// Postgres or an in-memory database).
pub fn lock_sqlite_file(url: &str) -> Result<Option<SqliteFileLock>, FileLockError> {
    let Some(path) = lock_path(url) else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| FileLockError::Io {
            lock: shown.clone(),
            source,
        })?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| FileLockError::Io {
            lock: shown.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(Some(SqliteFileLock { _file: file, path })),
        Err(TryLockError::WouldBlock) => Err(FileLockError::InUse {
            database: path.with_extension("").display().to_string(),
            lock: shown,
        }),
        Err(TryLockError::Error(source)) => Err(FileLockError::Io {
            lock: shown,
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_sits_beside_the_database() {
        assert_eq!(
            lock_path("sqlite://data/slotkeeper.db"),
            Some(PathBuf::from("data/slotkeeper.db.lock"))
        );
        assert_eq!(lock_path("sqlite::memory:"), None);
        assert_eq!(lock_path("postgres://postgres@127.0.0.1/x"), None);
    }

    #[test]
    fn a_second_lock_of_one_file_is_refused_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("slotkeeper-lock-{}", std::process::id()));
        let url = format!("sqlite://{}/db.sqlite", dir.display());
        let first = lock_sqlite_file(&url)
            .expect("the first lock")
            .expect("a file");
        let second = lock_sqlite_file(&url).expect_err("a second lock is refused");
        assert!(matches!(second, FileLockError::InUse { .. }), "{second}");
        assert!(second.to_string().contains("another Slotkeeper server"));
        drop(first);
        assert!(lock_sqlite_file(&url).expect("free again").is_some());
        let _ = std::fs::remove_dir_all(dir);
    }
}
