//! slotkeeper-bench: load against real app instances, with the ceilings
//! they are measured against, in one run.
//!
//! It starts the app (the release binary) on a fresh database, N instances
//! on their own ports for Postgres, signs in N customers, then runs:
//!
//! - storm: N concurrent `POST /api/v1/bookings` for one slot, beside a
//!   burst of N authenticated trivial requests (`GET /api/v1/session`, the
//!   HTTP and session floor; each customer's connection is opened before
//!   either burst), and the same storm through a deliberately naive
//!   check-then-insert that lives only here;
//! - spread: bookings over distinct slots at concurrency C, over HTTP and
//!   through the engine directly (same database, pool size, concurrency);
//! - browse: the server-rendered booking page (as a visitor not signed in
//!   gets it, and as a signed-in customer, rendered for each request) and
//!   the availability API at concurrency C, beside a trivial handler
//!   (`/healthz`);
//!
//! and after each booking phase the invariant query of the booking
//! protocol (double bookings; always 0 for the engine).
//!
//! Usage: slotkeeper-bench [--database sqlite|postgres] [--instances N]
//!        [--storm N] [--spread N] [--browse N] [--concurrency C]
//!        [--pool N] [--server PATH] [--postgres URL]

use app::backend::accounts::{self, NewUser, Role};
use app::backend::db::{Db, DbOptions};
use app::backend::engine::{Clock, Engine};
use app::domain::booking::{BookingRequest, Offer, ResourceChoice};
use app::domain::ids::{ResourceId, ServiceId, UserId, VenueId};
use app::domain::input::{DisplayName, Email, IdempotencyKey, PartySize, Password};
use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::London;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Barrier, Semaphore};

const PASSWORD: &str = "bench-password-1";

struct Args {
    database: String,
    instances: usize,
    storm: usize,
    spread: usize,
    browse: usize,
    concurrency: usize,
    pool: u32,
    server: String,
    postgres: String,
}

fn args() -> Args {
    let mut a = Args {
        database: "sqlite".into(),
        instances: 1,
        storm: 1000,
        spread: 1000,
        browse: 2000,
        concurrency: 32,
        pool: 8,
        server: "target/release/slotkeeper".into(),
        postgres: "postgres://postgres@127.0.0.1:5432/postgres".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| die(&format!("{flag} needs a value")))
        };
        let number = |v: String| {
            v.parse::<usize>()
                .unwrap_or_else(|_| die(&format!("{flag}: not a number: {v}")))
        };
        match flag.as_str() {
            "--database" => a.database = value(),
            "--instances" => a.instances = number(value()).max(1),
            "--storm" => a.storm = number(value()).max(2),
            "--spread" => a.spread = number(value()),
            "--browse" => a.browse = number(value()),
            "--concurrency" => a.concurrency = number(value()).max(1),
            "--pool" => a.pool = number(value()).max(1) as u32,
            "--server" => a.server = value(),
            "--postgres" => a.postgres = value(),
            "--help" | "-h" => {
                println!(
                    "{}",
                    include_str!("main.rs")
                        .lines()
                        .take_while(|l| l.starts_with("//!"))
                        .map(|l| l.trim_start_matches("//!").trim_start())
                        .collect::<Vec<_>>()
                        .join("\n")
                );
                std::process::exit(0);
            }
            other => die(&format!("unknown option {other}; see --help")),
        }
    }
    if a.database != "sqlite" && a.database != "postgres" {
        die("--database is sqlite or postgres");
    }
    if a.database == "sqlite" && a.instances > 1 {
        die("SQLite is for one app instance; use --database postgres for more");
    }
    a
}

fn die(msg: &str) -> ! {
    eprintln!("slotkeeper-bench: {msg}");
    std::process::exit(2)
}

/// One request's answer, as the tables count it.
struct Sample {
    status: u16,
    latency: Duration,
    /// A 409 that carries alternatives.
    alternatives: bool,
}

struct Phase {
    name: String,
    samples: Vec<Sample>,
    elapsed: Duration,
}

impl Phase {
    /// Waits for every task of a phase that started at `started`.
    async fn gather(
        name: &str,
        tasks: Vec<tokio::task::JoinHandle<Sample>>,
        started: Instant,
    ) -> Phase {
        let samples = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(|r| r.expect("a request task"))
            .collect();
        Phase {
            name: name.to_owned(),
            samples,
            elapsed: started.elapsed(),
        }
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut l: Vec<Duration> = self.samples.iter().map(|s| s.latency).collect();
        l.sort_unstable();
        if l.is_empty() {
            return Duration::ZERO;
        }
        l[((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1]
    }

    fn rps(&self) -> f64 {
        self.samples.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn count(&self, f: impl Fn(&Sample) -> bool) -> usize {
        self.samples.iter().filter(|s| f(s)).count()
    }

    fn print(&self) {
        let ok = self.count(|s| (200..300).contains(&s.status));
        let conflicts = self.count(|s| s.status == 409);
        let with_alternatives = self.count(|s| s.status == 409 && s.alternatives);
        let mut others: BTreeMap<u16, usize> = BTreeMap::new();
        for s in self
            .samples
            .iter()
            .filter(|s| !(200..300).contains(&s.status) && s.status != 409)
        {
            *others.entry(s.status).or_default() += 1;
        }
        let others = if others.is_empty() {
            "none".to_owned()
        } else {
            others
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}×{v}",
                        if *k == 0 {
                            "error".to_owned()
                        } else {
                            k.to_string()
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "  {:<34} {:>6} req  {:>6} ok  {:>6} conflicts ({} with alternatives)  other: {}",
            self.name,
            self.samples.len(),
            ok,
            conflicts,
            with_alternatives,
            others
        );
        println!(
            "  {:<34} p50 {:>7.1} ms  p90 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  {:>8.0} req/s",
            "",
            ms(self.percentile(0.50)),
            ms(self.percentile(0.90)),
            ms(self.percentile(0.99)),
            ms(self.percentile(1.0)),
            self.rps()
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The app instances this run started; stopped when dropped.
struct Instances {
    children: Vec<Child>,
    urls: Vec<String>,
}

impl Drop for Instances {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.start_kill();
        }
    }
}

async fn start_instance(args: &Args, database_url: &str) -> (Child, String) {
    let mut child = Command::new(&args.server)
        .env("DATABASE_URL", database_url)
        .env("SLOTKEEPER_ADDR", "127.0.0.1:0")
        .env("DATABASE_POOL_SIZE", args.pool.to_string())
        // Warnings only, but the line that says where it listens.
        .env("RUST_LOG", "warn,slotkeeper=info")
        .env("SLOTKEEPER_METRICS_TOKEN", METRICS_TOKEN)
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

/// The first Tuesday to Saturday at least two days ahead: every demo
/// venue is open, and no rule of notice gets in the way.
fn storm_day() -> NaiveDate {
    let mut d = Utc::now().with_timezone(&London).date_naive() + Days::new(2);
    while matches!(d.weekday(), Weekday::Sun | Weekday::Mon) {
        d = d + Days::new(1);
    }
    d
}

fn london(d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    London
        .with_ymd_and_hms(d.year(), d.month(), d.day(), h, m, 0)
        .single()
        .expect("a plain local time")
        .with_timezone(&Utc)
}

/// A bookable slot of the demo data: (venue, offer, resource, start).
#[derive(Clone, Copy)]
struct Slot {
    venue: i64,
    service: Option<i64>,
    party: Option<i64>,
    resource: i64,
    start: DateTime<Utc>,
}

/// Distinct slots that never overlap: Anna and Ben's 30-minute treatments
/// (45 minutes with cleanup) on the spa's working days, and the
/// restaurant's six tables at five seatings a day, from the day after
/// `from` on.
fn distinct_slots(from: NaiveDate, days: u64) -> Vec<Slot> {
    let mut out = Vec::new();
    for n in 1..=days {
        let d = from + Days::new(n);
        if d.weekday() != Weekday::Sun {
            for resource in [1, 2] {
                for (h, m) in [
                    (9, 0),
                    (9, 45),
                    (10, 30),
                    (11, 15),
                    (12, 0),
                    (14, 0),
                    (14, 45),
                    (15, 30),
                    (16, 15),
                    (17, 0),
                ] {
                    out.push(Slot {
                        venue: 1,
                        service: Some(1),
                        party: None,
                        resource,
                        start: london(d, h, m),
                    });
                }
            }
        }
        for resource in 6..=11 {
            for (h, m) in [(12, 0), (13, 30), (18, 0), (19, 30), (21, 0)] {
                out.push(Slot {
                    venue: 2,
                    service: None,
                    party: Some(2),
                    resource,
                    start: london(d, h, m),
                });
            }
        }
    }
    out
}

fn body(slot: &Slot, key: &str) -> serde_json::Value {
    let mut b = serde_json::json!({
        "venue_id": slot.venue,
        "resource_id": slot.resource,
        "start": slot.start,
        "idempotency_key": key,
    });
    match (slot.service, slot.party) {
        (Some(s), _) => b["service_id"] = s.into(),
        (_, Some(p)) => b["party_size"] = p.into(),
        _ => {}
    }
    b
}

fn request(slot: &Slot, customer: UserId, key: String) -> BookingRequest {
    BookingRequest {
        customer,
        venue: VenueId(slot.venue),
        offer: match (slot.service, slot.party) {
            (Some(s), _) => Offer::Service(ServiceId(s)),
            (_, Some(p)) => Offer::Table(PartySize::parse(p).expect("a party size")),
            _ => unreachable!(),
        },
        resource: ResourceChoice::Specific(ResourceId(slot.resource)),
        start: slot.start,
        idempotency_key: IdempotencyKey::parse(key).expect("a key"),
    }
}

async fn timed(req: reqwest::RequestBuilder) -> Sample {
    let t = Instant::now();
    match req.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            let text = res.text().await.unwrap_or_default();
            Sample {
                status,
                latency: t.elapsed(),
                alternatives: status == 409 && text.contains("\"alternatives\":[{"),
            }
        }
        Err(_) => Sample {
            status: 0,
            latency: t.elapsed(),
            alternatives: false,
        },
    }
}

/// Sends every request at once (a barrier releases them together).
async fn burst<F>(name: &str, n: usize, make: F) -> Phase
where
    F: Fn(usize) -> reqwest::RequestBuilder,
{
    let barrier = Arc::new(Barrier::new(n + 1));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let req = make(i);
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            timed(req).await
        }));
    }
    barrier.wait().await;
    let t = Instant::now();
    Phase::gather(name, tasks, t).await
}

/// Runs `n` requests, at most `c` at a time.
async fn at_concurrency<F>(name: &str, n: usize, c: usize, make: F) -> Phase
where
    F: Fn(usize) -> reqwest::RequestBuilder,
{
    let gate = Arc::new(Semaphore::new(c));
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let req = make(i);
        let permit = gate.clone().acquire_owned().await.expect("the gate");
        tasks.push(tokio::spawn(async move {
            let s = timed(req).await;
            drop(permit);
            s
        }));
    }
    Phase::gather(name, tasks, t).await
}

/// The same spread through the engine directly: no HTTP, no session.
async fn engine_spread(engine: &Engine, slots: &[Slot], customers: &[UserId], c: usize) -> Phase {
    let gate = Arc::new(Semaphore::new(c));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        let req = request(
            slot,
            customers[i % customers.len()],
            format!("engine-spread-{i}"),
        );
        let engine = engine.clone();
        let permit = gate.clone().acquire_owned().await.expect("the gate");
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let status = match engine.book(&req).await {
                Ok(_) => 201,
                Err(app::domain::booking::BookingError::SlotTaken { .. }) => 409,
                Err(e) => app::domain::error::AppError::from(e).status(),
            };
            drop(permit);
            Sample {
                status,
                latency: t.elapsed(),
                alternatives: false,
            }
        }));
    }
    Phase::gather("spread, engine only (ceiling)", tasks, t).await
}

/// The naive way: look, then insert, in two statements with no lock and
/// no claims. Lives here only, to show what the engine prevents.
async fn naive_storm(db: &Db, slot: &Slot, customers: &[UserId]) -> (usize, Duration) {
    let barrier = Arc::new(Barrier::new(customers.len()));
    let end = slot.start.timestamp() + 45 * 60;
    let t = Instant::now();
    let tasks: Vec<_> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (db, barrier, c, start, resource) = (db.clone(), barrier.clone(), c.0, slot.start.timestamp(), slot.resource);
            tokio::spawn(async move {
                barrier.wait().await;
                let check = "SELECT COUNT(*) FROM bookings b JOIN booking_resources br ON br.booking_id = b.id \
                             WHERE br.resource_id = $1 AND b.status IN ('held', 'confirmed') \
                             AND b.starts_at < $3 AND b.occupied_until > $2";
                let insert = "INSERT INTO bookings (customer_id, venue_id, service_id, starts_at, ends_at, \
                              occupied_until, status, idempotency_key, created_at, updated_at) \
                              VALUES ($1, 1, 1, $2, $3, $3, 'confirmed', $4, $2, $2) RETURNING id";
                let link = "INSERT INTO booking_resources (booking_id, resource_id) VALUES ($1, $2)";
                let key = format!("naive-{i}");
                let made = match &db {
                    Db::Sqlite(s) => {
                        let taken: i64 = sqlx::query_scalar(check).bind(resource).bind(start).bind(end).fetch_one(&s.read).await.unwrap_or(1);
                        if taken > 0 {
                            return false;
                        }
                        let Ok(id) = sqlx::query_scalar::<_, i64>(insert).bind(c).bind(start).bind(end).bind(&key).fetch_one(&s.write).await else { return false };
                        sqlx::query(link).bind(id).bind(resource).execute(&s.write).await.is_ok()
                    }
                    Db::Postgres(p) => {
                        let taken: i64 = sqlx::query_scalar(check).bind(resource).bind(start).bind(end).fetch_one(&p.pool).await.unwrap_or(1);
                        if taken > 0 {
                            return false;
                        }
                        let Ok(id) = sqlx::query_scalar::<_, i64>(insert).bind(c).bind(start).bind(end).bind(&key).fetch_one(&p.pool).await else { return false };
                        sqlx::query(link).bind(id).bind(resource).execute(&p.pool).await.is_ok()
                    }
                };
                made
            })
        })
        .collect();
    let made = futures::future::join_all(tasks)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(true)))
        .count();
    (made, t.elapsed())
}

#[tokio::main]
async fn main() {
    let args = args();
    let stamp = format!("{}_{}", Utc::now().timestamp(), std::process::id());
    let scratch = std::env::temp_dir().join(format!("slotkeeper-bench-{stamp}"));
    let database_url = match args.database.as_str() {
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
    println!("slotkeeper-bench: {} with {} app instance(s); pool {} per instance; storm {}; spread {} at concurrency {}; browse {} at concurrency {}",
        args.database, args.instances, args.pool, args.storm, args.spread, args.concurrency, args.browse, args.concurrency);
    println!(
        "machine: {} cores; {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory()
    );

    // The first instance creates, migrates and seeds the database.
    let mut instances = Instances {
        children: Vec::new(),
        urls: Vec::new(),
    };
    for _ in 0..args.instances {
        let (child, url) = start_instance(&args, &database_url).await;
        instances.children.push(child);
        instances.urls.push(url);
    }
    println!("instances: {}", instances.urls.join(" "));
    let db = Db::connect(
        &database_url,
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
    .unwrap_or_else(|e| die(&format!("open the database: {e}")));
    let engine = Engine::new(db.clone(), Clock::System);
    // A year of bookable days, for enough distinct slots.
    let widen = "UPDATE venues SET advance_days = 365";
    match &db {
        Db::Sqlite(s) => sqlx::query(widen).execute(&s.write).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(widen).execute(&p.pool).await.map(|_| ()),
    }
    .unwrap_or_else(|e| die(&format!("widen the advance window: {e}")));

    // Customers: inserted with one hash, then signed in over HTTP (each
    // log-in verifies the password, as a real one does).
    let hash = accounts::hash_password(&Password::parse(PASSWORD).expect("a password"))
        .await
        .expect("hash");
    let mut customers = Vec::with_capacity(args.storm);
    let now = Utc::now().timestamp();
    for i in 0..args.storm {
        let user = NewUser {
            email: Email::parse(&format!("bench{i}@example.com")).expect("an email"),
            display_name: DisplayName::parse(&format!("Bench {i}")).expect("a name"),
            role: Role::Customer,
        };
        let id = accounts::insert_user(&db, &user, &hash, now)
            .await
            .expect("insert a customer")
            .expect("a new email");
        customers.push(id);
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(2048)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client");
    let url = |i: usize| instances.urls[i % instances.urls.len()].clone();
    let t = Instant::now();
    let gate = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::with_capacity(args.storm);
    for i in 0..args.storm {
        let req = http.post(format!("{}/api/v1/session", url(i))).json(
            &serde_json::json!({"email": format!("bench{i}@example.com"), "password": PASSWORD}),
        );
        let permit = gate.clone().acquire_owned().await.expect("the gate");
        tasks.push(tokio::spawn(async move {
            let res = req.send().await;
            drop(permit);
            res.ok().and_then(|r| {
                r.headers()
                    .get("set-cookie")?
                    .to_str()
                    .ok()?
                    .split(';')
                    .next()
                    .map(str::to_owned)
            })
        }));
    }
    let cookies: Vec<String> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.ok().flatten().unwrap_or_else(|| die("a log-in failed")))
        .collect();
    println!(
        "signed in {} customers in {:.1} s (each log-in verifies an argon2 hash)",
        args.storm,
        t.elapsed().as_secs_f64()
    );

    let day = storm_day();
    let storm_slot = Slot {
        venue: 1,
        service: Some(1),
        party: None,
        resource: 1,
        start: london(day, 10, 0),
    };
    println!(
        "\n== storm: {} customers book Anna, {} at once",
        args.storm,
        storm_slot
            .start
            .with_timezone(&London)
            .format("%a %-d %b %H:%M")
    );
    // Each customer's connection is opened first, so that neither burst
    // below pays for connecting and both are measured alike.
    let warm = burst("warm-up", args.storm, |i| {
        http.get(format!("{}/api/v1/session", url(i)))
            .header("cookie", &cookies[i])
    })
    .await;
    if warm.count(|s| s.status != 200) > 0 {
        die("the warm-up requests failed");
    }
    let floor = burst("floor: authenticated trivial", args.storm, |i| {
        http.get(format!("{}/api/v1/session", url(i)))
            .header("cookie", &cookies[i])
    })
    .await;
    let storm = burst("storm: POST /api/v1/bookings", args.storm, |i| {
        http.post(format!("{}/api/v1/bookings", url(i)))
            .header("cookie", &cookies[i])
            .json(&body(&storm_slot, &format!("storm-key-{i}")))
    })
    .await;
    floor.print();
    storm.print();
    println!(
        "  p99 storm / p99 floor: {:.2}",
        ms(storm.percentile(0.99)) / ms(floor.percentile(0.99)).max(1e-9)
    );
    let fast = engine_counters(&instances, &http).await;
    println!(
        "  double bookings after the storm (invariant query): {}",
        overlaps(&engine).await
    );
    if let Some(f) = fast {
        println!("  {f}");
    }

    let naive_slot = Slot {
        resource: 2,
        ..storm_slot
    };
    let before = overlaps(&engine).await;
    let (made, took) = naive_storm(&db, &naive_slot, &customers).await;
    let naive_double = overlaps(&engine).await - before;
    println!(
        "  naive check-then-insert, same storm on Ben: {made} bookings made for one slot, {naive_double} double-booked pairs, in {:.0} ms (the engine: 1 booking, 0 double bookings)",
        ms(took)
    );
    // Those rows would fail every later invariant check: remove them.
    let forget = ["DELETE FROM booking_resources WHERE booking_id IN (SELECT id FROM bookings WHERE idempotency_key LIKE 'naive-%')", "DELETE FROM bookings WHERE idempotency_key LIKE 'naive-%'"];
    for sql in forget {
        match &db {
            Db::Sqlite(s) => sqlx::query(sql).execute(&s.write).await.map(|_| ()),
            Db::Postgres(p) => sqlx::query(sql).execute(&p.pool).await.map(|_| ()),
        }
        .expect("remove the naive rows");
    }

    if args.spread > 0 {
        let slots = distinct_slots(day, 330);
        if slots.len() < 2 * args.spread {
            die(&format!(
                "only {} distinct slots for a spread of {} twice",
                slots.len(),
                args.spread
            ));
        }
        // Interleaved halves: both runs book the same mix of venues and days.
        let http_slots: Vec<Slot> = slots.iter().step_by(2).take(args.spread).copied().collect();
        let engine_slots: Vec<Slot> = slots
            .iter()
            .skip(1)
            .step_by(2)
            .take(args.spread)
            .copied()
            .collect();
        println!(
            "\n== spread: {} bookings over distinct slots at concurrency {}",
            args.spread, args.concurrency
        );
        let over_http = at_concurrency(
            "spread: POST /api/v1/bookings",
            args.spread,
            args.concurrency,
            |i| {
                http.post(format!("{}/api/v1/bookings", url(i)))
                    .header("cookie", &cookies[i % cookies.len()])
                    .json(&body(&http_slots[i], &format!("spread-{i}")))
            },
        )
        .await;
        let direct = engine_spread(&engine, &engine_slots, &customers, args.concurrency).await;
        over_http.print();
        direct.print();
        println!(
            "  HTTP / engine-only bookings per second: {:.2}",
            over_http.rps() / direct.rps().max(1e-9)
        );
        println!(
            "  double bookings (invariant query): {}",
            overlaps(&engine).await
        );
    }

    if args.browse > 0 {
        let date = day.format("%Y-%m-%d");
        println!(
            "\n== browse: {} requests each at concurrency {} (not signed in, unless said)",
            args.browse, args.concurrency
        );
        let page_url = |i: usize| format!("{}/venues/1?service=1&resource=1&date={date}", url(i));
        let page = at_concurrency(
            "booking page (server-rendered)",
            args.browse,
            args.concurrency,
            |i| http.get(page_url(i)),
        )
        .await;
        // A signed-in customer's page is rendered for every request.
        let rendered = at_concurrency(
            "booking page, signed in (rendered each time)",
            args.browse,
            args.concurrency,
            |i| {
                http.get(page_url(i))
                    .header("cookie", &cookies[i % cookies.len()])
            },
        )
        .await;
        let api = at_concurrency("availability API", args.browse, args.concurrency, |i| {
            http.get(format!(
                "{}/api/v1/venues/1/availability?date={date}&service_id=1&resource_id=1",
                url(i)
            ))
        })
        .await;
        let trivial = at_concurrency(
            "trivial handler (/healthz)",
            args.browse,
            args.concurrency,
            |i| http.get(format!("{}/healthz", url(i))),
        )
        .await;
        page.print();
        rendered.print();
        api.print();
        trivial.print();
        println!(
            "  page / trivial req/s: {:.2}; signed-in page / trivial: {:.2}; API / trivial: {:.2}",
            page.rps() / trivial.rps().max(1e-9),
            rendered.rps() / trivial.rps().max(1e-9),
            api.rps() / trivial.rps().max(1e-9)
        );
    }
    println!(
        "\nfinal invariant check: {} double bookings, {} bookings not live that still claim time",
        overlaps(&engine).await,
        engine
            .ghost_claims()
            .await
            .map(|g| g.len())
            .unwrap_or_else(|e| die(&format!("the ghost-claims query failed: {e}")))
    );
    db.close().await;
    drop(instances);
    if args.database == "sqlite" {
        let _ = std::fs::remove_dir_all(&scratch);
    } else {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let admin = sqlx::PgPool::connect(&args.postgres).await;
        if let Ok(admin) = admin {
            let name = database_url.rsplit('/').next().unwrap_or_default();
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&admin)
                .await;
        }
    }
}

async fn overlaps(engine: &Engine) -> usize {
    engine
        .overlapping_bookings()
        .await
        .map(|o| o.len())
        .unwrap_or_else(|e| die(&format!("the invariant query failed: {e}")))
}

/// The fast-refusal and retry counters of the instances, from /metrics.
async fn engine_counters(instances: &Instances, http: &reqwest::Client) -> Option<String> {
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

const METRICS_TOKEN: &str = "bench-metrics-token";

fn memory() -> String {
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
