//! The app instances: starting them (the server binary, on ports of their
//! own), which one serves a request, their counters from `/metrics`, and
//! the machine's memory for the heading.

use crate::args::{die, Args};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const METRICS_TOKEN: &str = "bench-metrics-token";

/// The app instances this run started; stopped when dropped.
pub struct Instances {
    children: Vec<Child>,
    pub urls: Vec<String>,
}

impl Instances {
    /// Starts `args.instances` instances on `database_url`, one after the
    /// other.
    pub async fn start(args: &Args, database_url: &str) -> Instances {
        // The first instance creates, migrates and seeds the database.
        let mut instances = Instances {
            children: Vec::new(),
            urls: Vec::new(),
        };
        for _ in 0..args.instances {
            let (child, url) = start_instance(args, database_url).await;
            instances.children.push(child);
            instances.urls.push(url);
        }
        instances
    }

    /// The base URL for the `i`th request: the instances in turn.
    pub fn url(&self, i: usize) -> String {
        self.urls[i % self.urls.len()].clone()
    }
}

impl Drop for Instances {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.start_kill();
        }
    }
}

async fn start_instance(args: &Args, database_url: &str) -> (Child, String) {
    let mut command = Command::new(&args.server);
    match &args.pooler {
        // The same database, through the pooler; migrations go direct.
        Some(pooler) => {
            let name = database_url.rsplit('/').next().unwrap_or_default();
            let base = pooler.rsplit_once('/').map_or(pooler.as_str(), |(b, _)| b);
            command
                .env("DATABASE_URL", format!("{base}/{name}"))
                .env("SLOTKEEPER_POSTGRES_POOLER", "transaction")
                .env("SLOTKEEPER_MIGRATION_DATABASE_URL", database_url)
        }
        None => command.env("DATABASE_URL", database_url),
    };
    let mut child = command
        .env("SLOTKEEPER_ADDR", "127.0.0.1:0")
        .env("DATABASE_POOL_SIZE", args.pool.to_string())
        // Warnings only, but the line that says where it listens.
        .env("RUST_LOG", "warn,slotkeeper=info")
        .env("SLOTKEEPER_METRICS_TOKEN", METRICS_TOKEN)
        // The load runs against the demo venues and accounts.
        .env("SLOTKEEPER_DEMO_DATA", "on")
        // Every simulated customer books from this one address.
        .env("SLOTKEEPER_BOOKING_ATTEMPTS_PER_MINUTE", "0")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            die(&format!(
                "cannot start {}: {e} (build it with scripts/bench)",
                args.server
            ))
        });
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(i) = line.find("listening on http://") {
                return line[i + "listening on ".len()..]
                    .split_whitespace()
                    .next()
                    .map(str::to_owned);
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    let Some(url) = url else {
        let _ = child.start_kill();
        die("the app did not say where it listens")
    };
    // Keep reading its output so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

/// The fast-refusal and retry counters of the instances, from /metrics.
pub async fn engine_counters(instances: &Instances, http: &reqwest::Client) -> Option<String> {
    let mut fast = 0u64;
    let mut remembered = 0u64;
    let mut retries = 0u64;
    for u in &instances.urls {
        let text = http
            .get(format!("{u}/metrics"))
            .header("authorization", format!("Bearer {}", METRICS_TOKEN))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        for line in text.lines() {
            let value = |name: &str| {
                line.strip_prefix(name)
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            fast += value("slotkeeper_fast_refusals_total").unwrap_or(0);
            remembered += value("slotkeeper_remembered_refusals_total").unwrap_or(0);
            retries += value("slotkeeper_transaction_retries_total").unwrap_or(0);
        }
    }
    Some(format!("answered by the read-only pre-check: {fast} of the conflicts ({remembered} of them from the slots remembered as taken, without a database read); transaction retries: {retries}"))
}

/// The machine's memory, as the heading prints it.
pub fn memory() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
            })
        })
        .map_or("memory unknown".to_owned(), |kb| {
            format!("{:.0} GiB memory", kb as f64 / 1024.0 / 1024.0)
        })
}
