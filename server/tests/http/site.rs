//! The pages, served by the real app over HTTP, on both databases.

on_both_databases! {
    async fn every_response_says_it_may_not_be_framed_or_sniffed_and_readyz_asks_the_database(app) {
        let mut c = app.client();
        for path in ["/", "/login", "/api/v1/venues", "/healthz", "/no-such-page", "/api/v1/nothing"] {
            let r = c.send(reqwest::Method::GET, path, None).await;
            let h = |name: &str| r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            assert_eq!(h("x-frame-options"), "DENY", "{path}");
            assert_eq!(h("content-security-policy"), "frame-ancestors 'none'", "{path}");
            assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
            assert_eq!(h("referrer-policy"), "strict-origin-when-cross-origin", "{path}");
        }
        assert_eq!(app.get("/readyz").await, (200, "ready".to_owned()));
    }

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

/// SQLite serves one server process: a second server on the same file
/// stops at start-up, saying why, instead of keeping sessions of its own.
mod a_second_server_on_one_sqlite_file_refuses_to_start {
    use crate::support::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        let app = TestApp::spawn(Engine::Sqlite).await;
        let url = app.database_url();
        let env = std::collections::HashMap::from([
            ("DATABASE_URL", url.clone()),
            ("SLOTKEEPER_ADDR", "127.0.0.1:0".to_owned()),
        ]);
        let settings =
            app::backend::config::Settings::from_lookup(|k| env.get(k).cloned()).expect("settings");
        let options = leptos::config::LeptosOptions::builder()
            .output_name("slotkeeper")
            .build();
        // Judged after the first server is stopped, so that a failure here
        // still removes its database.
        let verdict: Result<(), String> =
            match slotkeeper::Application::build(settings, options).await {
                Ok(_) => Err(format!("a second server started on {url}")),
                Err(e) => {
                    let text = e.to_string();
                    if text.contains("another Slotkeeper server") && text.contains(".lock") {
                        Ok(())
                    } else {
                        Err(text)
                    }
                }
            };
        // The first one still serves.
        let (status, _) = app.get("/healthz").await;
        app.stop().await;
        if let Err(why) = verdict {
            panic!("{why}");
        }
        assert_eq!(status, 200);
    }
}

/// A database that stops taking connections (a restart, an outage): the
/// readiness probe says so with 503 while liveness stays 200, and both are
/// 200 again once it is back. Postgres only: a SQLite file does not go away.
mod readyz_answers_503_while_the_database_refuses_connections {
    use crate::support::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        let app = TestApp::spawn(Engine::Postgres).await;
        let (name, mut admin) = app.postgres_admin().await;
        sqlx::query(&format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
            .bind(&name)
            .execute(&mut admin)
            .await
            .unwrap();
        let down = app.get("/readyz").await;
        let live = app.get("/healthz").await;
        sqlx::query(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
            .execute(&mut admin)
            .await
            .unwrap();
        let up = app.get("/readyz").await;
        app.stop().await;
        assert_eq!(down.0, 503, "{down:?}");
        assert_eq!(live.0, 200);
        assert_eq!(up, (200, "ready".to_owned()));
    }
}

/// A Postgres restart as the app sees it: every connection of the app cut
/// (`pg_terminate_backend`) again and again while customers book and
/// browse. No request is answered 500 (a 503 asks to try again), and every
/// booking acknowledged is there afterwards.
mod cutting_every_database_connection_under_load_answers_no_500_and_loses_nothing {
    use crate::support::*;
    use reqwest::{Method, StatusCode};
    use serde_json::json;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        let app = TestApp::spawn(Engine::Postgres).await;
        let (name, mut admin) = app.postgres_admin().await;
        let mut first = app.client();
        let venues = first.send(Method::GET, "/api/v1/venues", None).await.json;
        let spa = venues
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "Harbour Spa")
            .unwrap()
            .clone();
        let find = |list: &str, n: &str| {
            spa[list]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == n)
                .unwrap()["id"]
                .as_i64()
                .unwrap()
        };
        let (venue, head) = (
            spa["id"].as_i64().unwrap(),
            find("services", "Head and shoulder massage"),
        );
        let therapists = [find("resources", "Anna"), find("resources", "Ben")];
        let mut customers = Vec::new();
        for i in 0..8 {
            customers.push(app.customer(&format!("cut{i}@example.com")).await);
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let cutter = {
            let stop = stop.clone();
            let name = name.clone();
            tokio::spawn(async move {
                let mut cuts = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let cut: Vec<(bool,)> = sqlx::query_as(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                    )
                    .bind(&name)
                    .fetch_all(&mut admin)
                    .await
                    .expect("cut the app's connections");
                    cuts += cut.len() as u64;
                    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
                }
                cuts
            })
        };
        let mut tasks = Vec::new();
        for (i, mut c) in customers.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut booked = Vec::new();
                for k in 0..24usize {
                    let (path, reply) = match k % 3 {
                        0 => {
                            // Each request its own therapist and hour.
                            let n = i * 8 + k / 3;
                            let start = london(2 + (n / 8) as u32, 9 + ((n / 2) % 4) as u32, 0);
                            let body = json!({"venue_id": venue, "service_id": head, "resource_id": therapists[n % 2], "start": start});
                            ("POST /api/v1/bookings", c.try_send(Method::POST, "/api/v1/bookings", Some(body)).await)
                        }
                        1 => ("GET /api/v1/bookings", c.try_send(Method::GET, "/api/v1/bookings", None).await),
                        _ => {
                            let path = format!("/api/v1/venues/{venue}/availability?date=2026-06-0{}&service_id={head}", 2 + k % 5);
                            ("GET availability", c.try_send(Method::GET, &path, None).await)
                        }
                    };
                    match reply {
                        Ok((status, json)) => {
                            if status == StatusCode::CREATED {
                                booked.push(json["id"].as_i64().unwrap());
                            }
                            seen.push((path, status, json.to_string()));
                        }
                        Err(e) => seen.push((path, StatusCode::IM_A_TEAPOT, format!("transport: {e}"))),
                    }
                }
                (c, seen, booked)
            }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let cuts = cutter.await.unwrap();
        let mut failures = Vec::new();
        let mut unavailable = 0;
        for (_, seen, _) in &results {
            for (path, status, body) in seen {
                match *status {
                    StatusCode::SERVICE_UNAVAILABLE => unavailable += 1,
                    s if s.is_server_error() || s == StatusCode::IM_A_TEAPOT => {
                        failures.push(format!("{path}: {s} {body}"))
                    }
                    _ => {}
                }
            }
        }
        // Every acknowledged booking is there, confirmed, for its customer.
        let mut booked_total = 0;
        for (mut c, _, booked) in results {
            let mine = c.send(Method::GET, "/api/v1/bookings", None).await;
            assert_eq!(mine.status, StatusCode::OK);
            for id in booked {
                booked_total += 1;
                let b = mine
                    .json
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|b| b["id"] == id)
                    .cloned();
                assert!(
                    matches!(&b, Some(b) if b["status"] == "confirmed"),
                    "booking #{id} was acknowledged but is {b:?}"
                );
            }
        }
        app.stop().await;
        eprintln!(
            "{cuts} connections cut; {booked_total} bookings made; {unavailable} answered 503"
        );
        assert!(cuts > 0, "the test cut no connection");
        assert!(
            failures.is_empty(),
            "{} requests failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
