//! The operator's path to a new deployment, through the real binary: no
//! demo data unless asked, the start-up hint, and `slotkeeper create-admin`.

use crate::support::*;
use app::backend::testing::TestDatabase;
use chrono::TimeZone;
use reqwest::{Method, StatusCode};
use std::io::Write;
use std::process::{Command, Stdio};
use tokio::io::{AsyncBufReadExt, BufReader};

const BINARY: &str = env!("CARGO_BIN_EXE_slotkeeper");

/// `slotkeeper create-admin …` on `database`, with `stdin` given:
/// (exit code, stdout, stderr).
fn create_admin(database: &str, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(BINARY)
        .arg("create-admin")
        .args(args)
        .env("DATABASE_URL", database)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run slotkeeper create-admin");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input
            .write_all(text.as_bytes())
            .expect("write the password");
    }
    drop(input);
    let out = child.wait_with_output().expect("create-admin ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts the server binary on `database` with the settings `env` (no
/// demo data unless they ask); returns it, its address, and what it logged
/// before it listened. The rest of its log goes to `rest` when given.
async fn serve(
    database: &str,
    env: &[(&str, &str)],
    rest: Option<tokio::sync::mpsc::UnboundedSender<String>>,
) -> (tokio::process::Child, String, String) {
    let mut command = tokio::process::Command::new(BINARY);
    command
        .env_remove("SLOTKEEPER_DEMO_DATA")
        .env_remove("SLOTKEEPER_LOG_FORMAT");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command
        .env("DATABASE_URL", database)
        .env("SLOTKEEPER_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "slotkeeper")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start slotkeeper");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut log = String::new();
    let base = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read the log") {
            log.push_str(&line);
            log.push('\n');
            if let Some(at) = line.find("listening on http://") {
                // Up to the end of the address (a JSON line goes on).
                let rest = &line[at + "listening on ".len()..];
                let end = rest["http://".len()..]
                    .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'))
                    .map_or(rest.len(), |i| i + "http://".len());
                return rest[..end].to_owned();
            }
        }
        panic!("the server stopped before it listened:\n{log}")
    })
    .await
    .expect("the server listens within a minute");
    // Keep reading, so that the server never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = &rest {
                let _ = rest.send(line);
            }
        }
    });
    (child, base, log)
}

async fn fresh_database_and_first_admin(engine: Engine) {
    use futures::FutureExt;
    let db = TestDatabase::create(engine).await;
    let outcome = std::panic::AssertUnwindSafe(first_admin_on(&db.url))
        .catch_unwind()
        .await;
    db.remove().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn first_admin_on(database: &str) {
    let (mut server, base, log) = serve(database, &[], None).await;
    assert!(
        log.contains("no admin account yet") && log.contains("slotkeeper create-admin --email"),
        "the log says how to make the first admin:\n{log}"
    );
    let mut visitor = Client::at(&base);
    let venues = visitor.send(Method::GET, "/api/v1/venues", None).await;
    assert_eq!(
        (venues.status, venues.json.clone()),
        (StatusCode::OK, serde_json::json!([])),
        "no demo venues"
    );
    let demo = visitor
        .send(
            Method::POST,
            "/api/v1/session",
            Some(serde_json::json!({"email": "admin@slotkeeper.test", "password": "slotkeeper-demo"})),
        )
        .await;
    assert_eq!(demo.status, StatusCode::UNAUTHORIZED, "no demo admin");

    // With the password on standard input.
    let (code, out, err) = create_admin(
        database,
        &["--email", "Boss@Example.com", "--password-stdin"],
        Some("correct horse battery 7\n"),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Created the admin boss@example.com"), "{out}");
    let mut boss = Client::at(&base);
    boss.log_in("boss@example.com", "correct horse battery 7")
        .await;
    assert_eq!(
        boss.send(Method::GET, "/api/v1/stats", None).await.status,
        StatusCode::OK,
        "an admin reads the staff routes"
    );

    // An existing customer is promoted and keeps the password.
    let mut carol = Client::at(&base);
    let made = carol
        .send(
            Method::POST,
            "/api/v1/users",
            Some(serde_json::json!({"email": "carol@example.com", "name": "Carol", "password": "carol's own password"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    carol
        .log_in("carol@example.com", "carol's own password")
        .await;
    assert_eq!(
        carol.send(Method::GET, "/api/v1/stats", None).await.status,
        StatusCode::FORBIDDEN
    );
    let (code, out, err) = create_admin(database, &["--email", "carol@example.com"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("carol@example.com is an admin now; its password is unchanged"),
        "{out}"
    );
    let mut carol = Client::at(&base);
    carol
        .log_in("carol@example.com", "carol's own password")
        .await;
    assert_eq!(
        carol.send(Method::GET, "/api/v1/stats", None).await.status,
        StatusCode::OK
    );

    // A new account without a password gets a generated one, shown once.
    let (code, out, err) = create_admin(
        database,
        &["--email", "dan@example.com", "--name", "Dan"],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let password = out
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 20 && l.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| panic!("a generated password in:\n{out}"))
        .to_owned();
    Client::at(&base).log_in("dan@example.com", &password).await;

    // Bad input: a clear message and exit code 1; nothing is made.
    let (code, _, err) = create_admin(
        database,
        &["--email", "not an email", "--password-stdin"],
        Some("correct horse battery 7\n"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("--email"), "{err}");
    let (code, _, err) = create_admin(
        database,
        &["--email", "eve@example.com", "--password-stdin"],
        Some("short\n"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("password"), "{err}");
    let eve = Client::at(&base)
        .send(
            Method::POST,
            "/api/v1/session",
            Some(serde_json::json!({"email": "eve@example.com", "password": "short"})),
        )
        .await;
    assert_eq!(eve.status, StatusCode::UNAUTHORIZED);

    // The help explains the command and the settings.
    let help = Command::new(BINARY)
        .args(["create-admin", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--password-stdin") && help.contains("SLOTKEEPER_DEMO_DATA"),
        "{help}"
    );

    server.kill().await.ok();
    let _ = server.wait().await;
}

mod a_new_database_has_no_demo_data_and_create_admin_makes_the_first_admin {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        fresh_database_and_first_admin(Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        fresh_database_and_first_admin(Engine::Postgres).await;
    }
}

/// SIGTERM in the middle of a burst of bookings: the server stops
/// accepting, finishes what it started, and exits 0; every booking it
/// acknowledged is in the database afterwards.
async fn stopping_under_load(engine: Engine) {
    use futures::FutureExt;
    let db = TestDatabase::create(engine).await;
    let outcome = std::panic::AssertUnwindSafe(stop_under_load_on(&db.url))
        .catch_unwind()
        .await;
    db.remove().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn stop_under_load_on(database: &str) {
    let (log_tx, mut log_rx) = tokio::sync::mpsc::unbounded_channel();
    let (mut server, base, _) =
        serve(database, &[("SLOTKEEPER_DEMO_DATA", "on")], Some(log_tx)).await;
    // Eight customers, each asking for five times at once: forty requests.
    let mut customers = Vec::new();
    for i in 0..8 {
        let mut c = Client::at(&base);
        let email = format!("stopper{i}@example.com");
        let made = c
            .send(Method::POST, "/api/v1/users", Some(serde_json::json!({"email": email, "name": "Stopper", "password": "a long enough password"})))
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
        c.log_in(&email, "a long enough password").await;
        customers.push(c);
    }
    let venues = Client::at(&base)
        .send(Method::GET, "/api/v1/venues", None)
        .await
        .json;
    let olive = venues
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "Olive Table")
        .unwrap()
        .clone();
    let table_ids: Vec<i64> = olive["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let day = (chrono::Utc::now() + chrono::Duration::days(3)).date_naive();
    let mut tasks = Vec::new();
    for (i, c) in customers.into_iter().enumerate() {
        for k in 0..5usize {
            let mut c = c.clone();
            // Forty (table, time) pairs for two: dinner from 18:00 London
            // time, on the half hour, neighbours on one table overlapping.
            let n = i * 5 + k;
            let table = table_ids[n % table_ids.len()];
            let at = chrono_tz::Europe::London
                .from_local_datetime(&day.and_hms_opt(18, 0, 0).unwrap())
                .earliest()
                .unwrap()
                .with_timezone(&chrono::Utc)
                + chrono::Duration::minutes(30 * (n / table_ids.len()) as i64);
            let body = serde_json::json!({"venue_id": olive["id"], "party_size": 2, "resource_id": table, "start": at.to_rfc3339()});
            let asked = (i, table, at);
            tasks.push(tokio::spawn(async move {
                (
                    asked,
                    c.try_send(Method::POST, "/api/v1/bookings", Some(body))
                        .await,
                )
            }));
        }
    }
    // Stop it while they run.
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let pid = server.id().expect("the server's pid");
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let mut acknowledged = Vec::new();
    let mut unanswered = Vec::new();
    let mut answered = 0;
    for t in tasks {
        let (asked, result) = t.await.unwrap();
        match result {
            Ok((status, json)) => {
                answered += 1;
                assert!(
                    status != StatusCode::INTERNAL_SERVER_ERROR,
                    "a request in flight got a 500: {json}"
                );
                if status == StatusCode::CREATED {
                    acknowledged.push(json["id"].as_i64().unwrap());
                }
            }
            // Refused at connect, or reset while queued for a server that
            // had stopped accepting: judged below by what the database has.
            Err(e) => unanswered.push((asked, e)),
        }
    }
    let exit = tokio::time::timeout(std::time::Duration::from_secs(30), server.wait())
        .await
        .expect("the server stops within the drain time")
        .expect("wait for the server");
    assert!(exit.success(), "a graceful stop exits 0: {exit:?}");
    let mut log = String::new();
    while let Ok(line) = log_rx.try_recv() {
        log.push_str(&line);
        log.push('\n');
    }
    assert!(
        log.contains("stopping: no new connections") && log.contains("stopped"),
        "{log}"
    );
    eprintln!(
        "{answered} answered, {} not, {} booked",
        unanswered.len(),
        acknowledged.len()
    );
    // Every acknowledged booking is there, confirmed.
    let db = app::backend::db::Db::connect(database, &Default::default())
        .await
        .expect("open the database again");
    let engine = app::backend::engine::Engine::new(db.clone(), app::backend::engine::Clock::System);
    let now = chrono::Utc::now().timestamp();
    let admin = app::backend::accounts::log_in(
        &db,
        "admin@slotkeeper.test",
        "slotkeeper-demo",
        "test",
        now,
    )
    .await
    .expect("the demo admin logs in");
    for id in acknowledged {
        let b = engine
            .booking(
                app::backend::engine::Actor::staff(admin.id),
                app::domain::ids::BookingId(id),
            )
            .await;
        assert!(
            matches!(&b, Ok(b) if b.status == app::domain::booking::BookingStatus::Confirmed),
            "booking #{id} acknowledged but {b:?}"
        );
    }
    // A request without an answer made nothing: the server never started
    // it. (Each asked for its own table and time.)
    for ((i, table, at), e) in unanswered {
        let customer = app::backend::accounts::log_in(
            &db,
            &format!("stopper{i}@example.com"),
            "a long enough password",
            "test",
            now,
        )
        .await
        .expect("the customer logs in");
        let made = engine
            .bookings_of(customer.id)
            .await
            .expect("their bookings");
        assert!(
            !made
                .iter()
                .any(|b| b.start == at && b.resources == vec![app::domain::ids::ResourceId(table)]),
            "a request that the server carried out lost its answer: {e:?}"
        );
    }
    db.close().await;
}

mod sigterm_under_load_finishes_what_started_and_loses_nothing_acknowledged {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        stopping_under_load(Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        stopping_under_load(Engine::Postgres).await;
    }
}

/// `SLOTKEEPER_LOG_FORMAT=json`: every log line is a JSON object, and what
/// is logged inside a request names the request's id, which the response
/// carries back (the caller's own, or one made for it).
mod json_logs_name_each_request_by_the_id_its_response_carries {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        use futures::FutureExt;
        let db = TestDatabase::create(Engine::Sqlite).await;
        let outcome = std::panic::AssertUnwindSafe(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let env = [("SLOTKEEPER_DEMO_DATA", "on"), ("SLOTKEEPER_LOG_FORMAT", "json")];
            let (mut server, base, log) = serve(&db.url, &env, Some(tx)).await;
            for line in log.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                assert!(v["fields"]["message"].is_string() && v["level"].is_string(), "{line}");
            }
            let http = reqwest::Client::new();
            let mine = http.get(format!("{base}/healthz")).header("x-request-id", "from-the-proxy-7").send().await.unwrap();
            assert_eq!(mine.headers()["x-request-id"], "from-the-proxy-7");
            let made = http.get(format!("{base}/healthz")).send().await.unwrap();
            let id = made.headers()["x-request-id"].to_str().unwrap().to_owned();
            assert!(id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
            // A log-in logs "signed in" inside its request.
            let r = http
                .post(format!("{base}/api/v1/session"))
                .header("x-request-id", "login-42")
                .json(&serde_json::json!({"email": "alice@slotkeeper.test", "password": "slotkeeper-demo"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let mut found = None;
            for _ in 0..50 {
                while let Ok(line) = rx.try_recv() {
                    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                    if v["fields"]["message"] == "signed in" {
                        found = Some(v);
                    }
                }
                if found.is_some() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            let line = found.expect("the log-in is logged");
            let spans = line["spans"].as_array().unwrap_or_else(|| panic!("the spans of {line}"));
            assert!(spans.iter().any(|s| s["request_id"] == "login-42"), "{line}");
            server.kill().await.ok();
        })
        .catch_unwind()
        .await;
        db.remove().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}
