//! The real server on a random port against a fresh database, and the
//! HTTP helpers its tests share.

use app::backend::config::Settings;
use app::backend::engine::Clock;
use app::backend::testing::{TestDatabase, TestEngine};
use chrono::{DateTime, TimeZone, Utc};
use leptos::config::LeptosOptions;
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use slotkeeper::Application;
use std::collections::HashMap;

pub use app::backend::testing::TestEngine as Engine;

/// Monday 1 June 2026 at 07:00 UTC (08:00 in London), the tests' now.
/// The bearer token test apps accept for /metrics.
pub const METRICS_TOKEN: &str = "test-metrics-token";

pub fn monday_morning() -> i64 {
    Utc.with_ymd_and_hms(2026, 6, 1, 7, 0, 0)
        .unwrap()
        .timestamp()
}

/// A wall-clock time in London on a June 2026 day, as RFC 3339.
pub fn london(day: u32, hour: u32, minute: u32) -> String {
    chrono_tz::Europe::London
        .with_ymd_and_hms(2026, 6, day, hour, minute, 0)
        .unwrap()
        .with_timezone(&Utc)
        .to_rfc3339()
}

pub fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Servers run one at a time in a test process. Leptos keeps its reactive
/// state in process-wide globals, and servers on several Tokio runtimes at
/// once (one per parallel test) were seen to stall each other's page
/// responses now and then; the app itself runs on one runtime. Seen on
/// Leptos 0.8.23: about one run in five of these tests in parallel, none in
/// 8 runs one at a time, none in 1,200 concurrent requests to the binary.
static ONE_SERVER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A running server and the database it owns; `stop` removes both.
pub struct TestApp {
    pub base: String,
    pub clock: Clock,
    /// Where the app writes its mail (no SMTP server in these tests).
    pub mail_dir: std::path::PathBuf,
    database: TestDatabase,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// A response: status, JSON body (Null when not JSON), headers.
pub struct Reply {
    pub status: StatusCode,
    pub json: Value,
    pub headers: reqwest::header::HeaderMap,
    /// The body as text (for what is not JSON).
    pub text: String,
}

/// An HTTP client with its own session cookie, like one browser.
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    pub cookie: Option<String>,
}

impl TestApp {
    pub async fn spawn(engine: TestEngine) -> TestApp {
        Self::spawn_with(engine, &[]).await
    }

    /// An app with `settings` on top of the tests' own.
    pub async fn spawn_with(engine: TestEngine, settings: &[(&str, &str)]) -> TestApp {
        Self::spawn_configured(engine, |_| {
            settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .await
    }

    /// An app with the settings `more` gives for its new database's URL on
    /// top of the tests' own.
    pub async fn spawn_configured(
        engine: TestEngine,
        more: impl FnOnce(&str) -> Vec<(String, String)>,
    ) -> TestApp {
        let turn = ONE_SERVER_AT_A_TIME.lock().await;
        let database = TestDatabase::create(engine).await;
        let mail_dir = std::env::temp_dir().join(format!(
            "slotkeeper-mail-{}-{}",
            std::process::id(),
            database
                .url
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or("db")
                .replace(['.', '?', '='], "-")
        ));
        let mut env: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".to_owned(), database.url.clone()),
            ("SLOTKEEPER_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
            ("DATABASE_POOL_SIZE".to_owned(), "16".to_owned()),
            // Tests play clients at several addresses through X-Forwarded-For.
            ("SLOTKEEPER_TRUST_FORWARDED_FOR".to_owned(), "on".to_owned()),
            (
                "SLOTKEEPER_METRICS_TOKEN".to_owned(),
                METRICS_TOKEN.to_owned(),
            ),
            // The tests book the demo venues as the demo accounts.
            ("SLOTKEEPER_DEMO_DATA".to_owned(), "on".to_owned()),
            (
                "SLOTKEEPER_MAIL_DIR".to_owned(),
                mail_dir.display().to_string(),
            ),
            ("SLOTKEEPER_MAIL_POLL_MS".to_owned(), "100".to_owned()),
        ]);
        env.extend(more(&database.url));
        let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings");
        let options = LeptosOptions::builder().output_name("slotkeeper").build();
        let clock = Clock::manual(monday_morning());
        let app = Application::build_with_clock(settings, options, clock.clone())
            .await
            .expect("the app starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(app.run_until_stopped());
        TestApp {
            base,
            clock,
            mail_dir,
            database,
            server,
            _turn: turn,
        }
    }

    pub fn database_url(&self) -> String {
        self.database.url.clone()
    }

    /// On Postgres: the app's database name, and a connection to the
    /// server as the tests' admin, to do to the app what an outage would.
    pub async fn postgres_admin(&self) -> (String, sqlx::PgConnection) {
        use sqlx::Connection;
        let url = self.database_url();
        let name = url
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let admin_url =
            std::env::var("SLOTKEEPER_TEST_POSTGRES_URL").expect("the Postgres tests' server");
        let admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect as admin");
        (name, admin)
    }

    pub async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
        self.database.remove().await;
        let _ = std::fs::remove_dir_all(&self.mail_dir);
    }

    /// The messages the app has written to its mail folder so far.
    pub fn mail(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.mail_dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect()
    }

    /// Waits (up to ten seconds) until the mail folder holds a message
    /// that contains every one of `parts`, and returns it.
    pub async fn wait_for_mail(&self, parts: &[&str]) -> String {
        for _ in 0..100 {
            if let Some(m) = self
                .mail()
                .into_iter()
                .find(|m| parts.iter().all(|p| m.contains(p)))
            {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!(
            "no message with {parts:?} in {} after ten seconds; there are {}",
            self.mail_dir.display(),
            self.mail().len()
        );
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let res = reqwest::get(format!("{}{path}", self.base))
            .await
            .expect("GET");
        let status = res.status().as_u16();
        (status, res.text().await.expect("body"))
    }

    pub fn client(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: http_client(),
            cookie: None,
        }
    }

    /// A client signed in as a new customer.
    pub async fn customer(&self, email: &str) -> Client {
        let mut c = self.client();
        let r = c
            .send(
                Method::POST,
                "/api/v1/users",
                Some(serde_json::json!({
                    "email": email, "name": "Test Customer", "password": "a long enough password"
                })),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "register {email}: {}",
            r.json
        );
        c.log_in(email, "a long enough password").await;
        c
    }
}

impl Client {
    /// One of the signed-in customer's bookings, as the API lists it.
    pub async fn my_booking(&mut self, id: &str) -> Value {
        let list = self.send(Method::GET, "/api/v1/bookings", None).await.json;
        list.as_array()
            .unwrap_or_else(|| panic!("a list of bookings: {list}"))
            .iter()
            .find(|b| b["id"].to_string() == id)
            .cloned()
            .unwrap_or_else(|| panic!("booking {id} among {list}"))
    }

    /// A client of a server at `base` ("http://127.0.0.1:port").
    pub fn at(base: &str) -> Client {
        Client {
            base: base.to_owned(),
            http: http_client(),
            cookie: None,
        }
    }

    pub async fn send(&mut self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.send_with(method, path, body, &[]).await
    }

    pub async fn send_with(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = body.map(|b| b.to_string());
        // A body the server refuses unread (413) ends its connection: send
        // such a body on a connection of its own.
        let http = match &body {
            Some(b) if b.len() > 60_000 => http_client(),
            _ => self.http.clone(),
        };
        let mut req = http.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        self.keep_cookie(&res);
        Reply::read(res).await
    }

    /// A JSON request whose transport may fail (a server stopping): the
    /// status and body, or the client's error.
    pub async fn try_send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let res = req.send().await?;
        let status = res.status();
        let json = res.json().await.unwrap_or(Value::Null);
        Ok((status, json))
    }

    /// Sends raw bytes as a JSON body, on a connection of its own: a body
    /// refused unread (413) ends its connection.
    pub async fn send_raw(&mut self, method: Method, path: &str, body: String) -> Reply {
        let mut req = http_client().request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c);
        }
        let res = req
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        Reply::read(res).await
    }

    /// Calls a server function as the hydrated page does: a urlencoded
    /// form, answered in JSON (errors with their status).
    pub async fn call(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.call_with(path, fields, &[]).await
    }

    /// `call` with extra request headers.
    pub async fn call_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = form_body(fields);
        let mut req = no_redirect_client()
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("origin", self.base.clone())
            .body(body);
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("call {path}: {e}"));
        self.keep_cookie(&res);
        Reply::read(res).await
    }

    /// Posts a form as a browser without JavaScript does (no redirects
    /// followed): returns the status and the Location.
    pub async fn form_post(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        from: &str,
    ) -> (StatusCode, String) {
        let http = no_redirect_client();
        let body = form_body(fields);
        let mut req = http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", format!("{}{from}", self.base))
            .header("origin", self.base.clone())
            .body(body);
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("form post {path}: {e}"));
        self.keep_cookie(&res);
        let location = res
            .headers()
            .get("location")
            .map(|l| {
                l.to_str()
                    .unwrap()
                    .trim_start_matches(&self.base)
                    .to_owned()
            })
            .unwrap_or_default();
        (res.status(), location)
    }

    /// GETs a page as HTML, without following redirects.
    pub async fn page(&mut self, path: &str) -> (StatusCode, String, String) {
        let http = no_redirect_client();
        let mut req = http
            .get(format!("{}{path}", self.base))
            .header("accept", "text/html");
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location, res.text().await.unwrap_or_default())
    }

    /// Keeps the session cookie a response sets, as a browser does.
    fn keep_cookie(&mut self, res: &reqwest::Response) {
        if let Some(set) = res.headers().get(SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            self.cookie = Some(pair.to_owned());
        }
    }

    pub async fn log_in(&mut self, email: &str, password: &str) -> Reply {
        let r = self
            .send(
                Method::POST,
                "/api/v1/session",
                Some(serde_json::json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "log in {email}: {}", r.json);
        r
    }
}

/// No request of these tests takes long; one that does has hung.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// A client that reports redirects instead of following them.
fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .build()
        .unwrap()
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(TIMEOUT).build().unwrap()
}

/// Percent-encodes a form value.
/// `a=1&b=2`, each part encoded as a browser encodes a form.
fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Reply {
    /// The status, headers and body, as JSON (`Null` when not JSON) and
    /// as text.
    async fn read(res: reqwest::Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            json,
            headers,
            text,
        }
    }
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Declares a test that runs on SQLite and on Postgres; the app and its
/// database are removed afterwards, also when the test failed.
#[macro_export]
macro_rules! on_both_databases {
    ($(async fn $name:ident($app:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use futures::FutureExt;
            use std::panic::AssertUnwindSafe;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let $app = crate::support::TestApp::spawn(crate::support::Engine::Sqlite).await;
                let outcome = AssertUnwindSafe(async { $body }).catch_unwind().await;
                $app.stop().await;
                if let Err(panic) = outcome {
                    std::panic::resume_unwind(panic);
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let $app = crate::support::TestApp::spawn(crate::support::Engine::Postgres).await;
                let outcome = AssertUnwindSafe(async { $body }).catch_unwind().await;
                $app.stop().await;
                if let Err(panic) = outcome {
                    std::panic::resume_unwind(panic);
                }
            }
        }
    )*};
}
