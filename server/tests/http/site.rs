//! The pages, served by the real app over HTTP, on both databases.

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
