//! This run's database: where it lives (a scratch folder for SQLite, a
//! database of its own on the Postgres server), the tool's own connection
//! to it, statements of the tool's own, the invariant query, and removing
//! it at the end.

use crate::args::{die, Args};
use app::backend::db::{Db, DbOptions};
use app::backend::engine::Engine;
use chrono::Utc;
use std::path::PathBuf;
use std::time::Duration;

/// Where this run's database lives.
pub struct Place {
    scratch: PathBuf,
    pub url: String,
}

impl Place {
    /// A new place for this run, named by the time and the process.
    pub fn new(args: &Args) -> Place {
        let stamp = format!("{}_{}", Utc::now().timestamp(), std::process::id());
        let scratch = std::env::temp_dir().join(format!("slotkeeper-bench-{stamp}"));
        let url = match args.database.as_str() {
            "sqlite" => {
                std::fs::create_dir_all(&scratch).expect("a scratch folder");
                format!("sqlite://{}/bench.db", scratch.display())
            }
            _ => format!(
                "{}/slotkeeper_bench_{stamp}",
                args.postgres
                    .rsplit_once('/')
                    .map_or(args.postgres.as_str(), |(base, _)| base)
            ),
        };
        Place { scratch, url }
    }

    /// Removes the database, once every connection to it is closed.
    pub async fn remove(&self, args: &Args) {
        if args.database == "sqlite" {
            let _ = std::fs::remove_dir_all(&self.scratch);
        } else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let admin = sqlx::PgPool::connect(&args.postgres).await;
            if let Ok(admin) = admin {
                let name = self.url.rsplit('/').next().unwrap_or_default();
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(&admin)
                    .await;
            }
        }
    }
}

/// The tool's own connection to the database the instances made.
pub async fn connect(args: &Args, url: &str) -> Db {
    Db::connect(
        url,
        &DbOptions {
            pool_size: args.pool,
            // The invariant query after the naive storm joins a thousand
            // overlapping bookings pairwise: longer than a statement of the
            // app may take, and not a statement of the app.
            postgres: app::backend::db::PgTimeouts {
                statement: std::time::Duration::ZERO,
                ..app::backend::db::PgTimeouts::default()
            },
            ..DbOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| die(&format!("open the database: {e}")))
}

/// Runs one statement of the tool's own (SQLite: on the writer).
pub async fn execute(db: &Db, sql: &str) -> Result<(), sqlx::Error> {
    match db {
        Db::Sqlite(s) => sqlx::query(sql).execute(&s.write).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(sql).execute(&p.pool).await.map(|_| ()),
    }
}

/// The invariant query of the booking protocol: how many double bookings.
pub async fn overlaps(engine: &Engine) -> usize {
    engine
        .overlapping_bookings()
        .await
        .map(|o| o.len())
        .unwrap_or_else(|e| die(&format!("the invariant query failed: {e}")))
}
