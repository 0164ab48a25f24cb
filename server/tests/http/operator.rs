//! The operator's path to a new deployment, through the real binary: no
//! demo data unless asked, the start-up hint, and `slotkeeper create-admin`.

use crate::support::*;
use app::backend::testing::TestDatabase;
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
        input.write_all(text.as_bytes()).expect("write the password");
    }
    drop(input);
    let out = child.wait_with_output().expect("create-admin ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts the server binary on `database` with no demo setting; returns
/// it, its address, and what it logged before it listened.
async fn serve(database: &str) -> (tokio::process::Child, String, String) {
    let mut child = tokio::process::Command::new(BINARY)
        .env("DATABASE_URL", database)
        .env("SLOTKEEPER_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "slotkeeper")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("SLOTKEEPER_DEMO_DATA")
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
                return line[at + "listening on ".len()..].trim().to_owned();
            }
        }
        panic!("the server stopped before it listened:\n{log}")
    })
    .await
    .expect("the server listens within a minute");
    // Keep reading, so that the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base, log)
}

async fn fresh_database_and_first_admin(engine: Engine) {
    use futures::FutureExt;
    let db = TestDatabase::create(engine).await;
    let outcome = std::panic::AssertUnwindSafe(first_admin_on(&db.url)).catch_unwind().await;
    db.remove().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn first_admin_on(database: &str) {
    let (mut server, base, log) = serve(database).await;
    assert!(
        log.contains("no admin account yet") && log.contains("slotkeeper create-admin --email"),
        "the log says how to make the first admin:\n{log}"
    );
    let mut visitor = Client::at(&base);
    let venues = visitor.send(Method::GET, "/api/v1/venues", None).await;
    assert_eq!((venues.status, venues.json.clone()), (StatusCode::OK, serde_json::json!([])), "no demo venues");
    let demo = visitor
        .send(
            Method::POST,
            "/api/v1/session",
            Some(serde_json::json!({"email": "admin@slotkeeper.test", "password": "slotkeeper-demo"})),
        )
        .await;
    assert_eq!(demo.status, StatusCode::UNAUTHORIZED, "no demo admin");

    // With the password on standard input.
    let (code, out, err) = create_admin(database, &["--email", "Boss@Example.com", "--password-stdin"], Some("correct horse battery 7\n"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Created the admin boss@example.com"), "{out}");
    let mut boss = Client::at(&base);
    boss.log_in("boss@example.com", "correct horse battery 7").await;
    assert_eq!(boss.send(Method::GET, "/api/v1/stats", None).await.status, StatusCode::OK, "an admin reads the staff routes");

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
    carol.log_in("carol@example.com", "carol's own password").await;
    assert_eq!(carol.send(Method::GET, "/api/v1/stats", None).await.status, StatusCode::FORBIDDEN);
    let (code, out, err) = create_admin(database, &["--email", "carol@example.com"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("carol@example.com is an admin now; its password is unchanged"), "{out}");
    let mut carol = Client::at(&base);
    carol.log_in("carol@example.com", "carol's own password").await;
    assert_eq!(carol.send(Method::GET, "/api/v1/stats", None).await.status, StatusCode::OK);

    // A new account without a password gets a generated one, shown once.
    let (code, out, err) = create_admin(database, &["--email", "dan@example.com", "--name", "Dan"], None);
    assert_eq!(code, 0, "{out}{err}");
    let password = out
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 20 && l.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| panic!("a generated password in:\n{out}"))
        .to_owned();
    Client::at(&base).log_in("dan@example.com", &password).await;

    // Bad input: a clear message and exit code 1; nothing is made.
    let (code, _, err) = create_admin(database, &["--email", "not an email", "--password-stdin"], Some("correct horse battery 7\n"));
    assert_eq!(code, 1);
    assert!(err.contains("--email"), "{err}");
    let (code, _, err) = create_admin(database, &["--email", "eve@example.com", "--password-stdin"], Some("short\n"));
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
    let help = Command::new(BINARY).args(["create-admin", "--help"]).output().expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--password-stdin") && help.contains("SLOTKEEPER_DEMO_DATA"), "{help}");

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
