//! The real server on a random port, against a fresh database, over HTTP.
//! Each test runs on SQLite and on Postgres.

use app::backend::config::Settings;
use app::backend::testing::{TestDatabase, TestEngine};
use leptos::config::LeptosOptions;
use slotkeeper::Application;
use futures::FutureExt;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;

/// A running server and the database it owns; `stop` removes both, also
/// when the test failed.
struct TestApp {
    base: String,
    database: TestDatabase,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestApp {
    async fn spawn(engine: TestEngine) -> TestApp {
        let database = TestDatabase::create(engine).await;
        let env: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", database.url.clone()),
            ("SLOTKEEPER_ADDR", "127.0.0.1:0".to_owned()),
        ]);
        let settings = Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings");
        let options = LeptosOptions::builder().output_name("slotkeeper").build();
        let app = Application::build(settings, options)
            .await
            .expect("the app starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(app.run_until_stopped());
        TestApp {
            base,
            database,
            server,
        }
    }

    async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
        self.database.remove().await;
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let res = reqwest::get(format!("{}{path}", self.base))
            .await
            .expect("GET");
        let status = res.status().as_u16();
        (status, res.text().await.expect("body"))
    }
}

macro_rules! on_both_databases {
    ($(async fn $name:ident($app:ident) $body:block)*) => {$(
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let $app = TestApp::spawn(TestEngine::Sqlite).await;
                let outcome = AssertUnwindSafe(async { $body }).catch_unwind().await;
                $app.stop().await;
                if let Err(panic) = outcome {
                    std::panic::resume_unwind(panic);
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let $app = TestApp::spawn(TestEngine::Postgres).await;
                let outcome = AssertUnwindSafe(async { $body }).catch_unwind().await;
                $app.stop().await;
                if let Err(panic) = outcome {
                    std::panic::resume_unwind(panic);
                }
            }
        }
    )*};
}

on_both_databases! {
    async fn the_home_page_lists_the_venues_and_their_resources_from_the_database(app) {
        let (status, html) = app.get("/").await;
        assert_eq!(status, 200);
        for text in [
            "Harbour Spa", "Anna", "Ben", "Chloe", "Treatment room 2",
            "Hot stone therapy — 90 minutes, in a treatment room",
            "Olive Table", "Table 6 (seats 8)", "seatings of 90 minutes",
        ] {
            assert!(html.contains(text), "the page lacks {text:?}");
        }
        // Rendered whole on the server: no loading placeholder is left for
        // a browser without JavaScript.
        assert!(!html.contains("Loading venues"));
        assert!(html.contains(r#"<link id="leptos" rel="stylesheet" href="/pkg/slotkeeper.css">"#));
    }

    async fn unknown_pages_answer_404_and_health_answers_ok(app) {
        let (status, html) = app.get("/no/such/page").await;
        assert_eq!(status, 404);
        assert!(html.contains("Page not found"));
        assert_eq!(app.get("/healthz").await, (200, "ok".to_owned()));
    }

    async fn the_venue_list_is_served_as_json_to_the_page(app) {
        let res = reqwest::Client::new()
            .post(format!("{}/api/venues", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status().as_u16(), 200);
        let venues: Vec<app::domain::venue::VenueOverview> = res.json().await.expect("JSON");
        let names: Vec<&str> = venues.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["Harbour Spa", "Olive Table"]);
    }
}
