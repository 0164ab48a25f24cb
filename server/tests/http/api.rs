//! The JSON API, driven over HTTP against the real app on both databases.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The demo spa's ids, looked up by name.
struct Spa {
    venue: i64,
    head: i64,
    full: i64,
    anna: i64,
    ben: i64,
}

async fn spa(c: &mut Client) -> Spa {
    let r = c.send(Method::GET, "/api/v1/venues", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let venue = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "Harbour Spa")
        .unwrap();
    let find = |list: &str, name: &str| {
        venue[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    Spa {
        venue: venue["id"].as_i64().unwrap(),
        head: find("services", "Head and shoulder massage"),
        full: find("services", "Full body massage"),
        anna: find("resources", "Anna"),
        ben: find("resources", "Ben"),
    }
}

fn head_with(s: &Spa, therapist: i64, start: &str) -> Value {
    json!({"venue_id": s.venue, "service_id": s.head, "resource_id": therapist, "start": start})
}

async fn count_my_bookings(c: &mut Client) -> usize {
    let r = c.send(Method::GET, "/api/v1/bookings", None).await;
    assert_eq!(r.status, StatusCode::OK);
    r.json.as_array().unwrap().len()
}

/// The paths the API's router serves, read from its route table: axum
/// lists no routes, but its `Debug` output names each route's path
/// (`RouteId(3): "/holds"`). A route added without a document entry shows
/// up here and fails the test below.
fn served_paths() -> Vec<String> {
    let table = format!("{:?}", slotkeeper::api::router());
    // Not the fallback's own table (`/` and a catch-all).
    let (table, _) = table
        .split_once("fallback_router")
        .expect("axum's Router debug output");
    let mut paths: Vec<String> = table
        .split("RouteId(")
        .filter_map(|part| {
            part.split_once("): \"")
                .and_then(|(_, rest)| rest.split_once('"'))
        })
        .map(|(path, _)| path.to_owned())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// Every `$ref` in a document.
fn collect_refs(v: &Value, refs: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, item) in map {
                match (k.as_str(), item) {
                    ("$ref", Value::String(r)) => refs.push(r.clone()),
                    _ => collect_refs(item, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
        _ => {}
    }
}

on_both_databases! {
    async fn a_customer_reschedules_a_booking_through_the_api(app) {
        let mut c = app.customer("resched@example.com").await;
        let s = spa(&mut c).await;
        let made = c.send(Method::POST, "/api/v1/bookings", Some(head_with(&s, s.anna, &london(2, 10, 0)))).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
        let id = made.json["id"].as_i64().unwrap();
        let path = format!("/api/v1/bookings/{id}/reschedule");
        let r = c.send(Method::POST, &path, Some(json!({"start": london(2, 11, 0)}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        assert_eq!((r.json["id"].as_i64(), parse_time(r.json["start"].as_str().unwrap())), (Some(id), parse_time(&london(2, 11, 0))));
        // Bad requests change nothing.
        let same = c.send(Method::POST, &path, Some(json!({"start": london(2, 11, 0)}))).await;
        assert_eq!((same.status, same.json["error"].as_str(), same.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid"), Some("start")), "{}", same.json);
        let garbled = c.send(Method::POST, &path, Some(json!({"start": "tomorrow"}))).await;
        assert_eq!((garbled.status, garbled.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("start")));
        let unknown = c.send(Method::POST, &path, Some(json!({"start": london(2, 12, 0), "when": 1}))).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        let sunday = c.send(Method::POST, &path, Some(json!({"start": london(7, 10, 0)}))).await;
        assert_eq!(sunday.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", sunday.json);
        let mut other = app.customer("other@example.com").await;
        let theirs = other.send(Method::POST, &path, Some(json!({"start": london(3, 10, 0)}))).await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
        let blocker = other.send(Method::POST, "/api/v1/bookings", Some(head_with(&s, s.anna, &london(2, 14, 0)))).await;
        assert_eq!(blocker.status, StatusCode::CREATED);
        let taken = c.send(Method::POST, &path, Some(json!({"start": london(2, 14, 0)}))).await;
        assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.json);
        assert_eq!(taken.json["error"], "slot_taken");
        assert!(!taken.json["alternatives"].as_array().unwrap().is_empty());
        let mine = c.send(Method::GET, "/api/v1/bookings", None).await;
        assert_eq!(parse_time(mine.json[0]["start"].as_str().unwrap()), parse_time(&london(2, 11, 0)), "still where it was moved");
        // Another therapist at the same time.
        let to_ben = c.send(Method::POST, &path, Some(json!({"start": london(2, 11, 0), "resource_id": s.ben}))).await;
        assert_eq!((to_ben.status, to_ben.json["resources"].clone()), (StatusCode::OK, json!([s.ben])), "{}", to_ben.json);
        assert_eq!(app.client().send(Method::POST, &path, Some(json!({"start": london(2, 12, 0)}))).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn one_address_may_open_twenty_accounts_an_hour(app) {
        let sign_up = |n: usize, from: &'static str| {
            let mut c = app.client();
            async move {
                c.send_with(
                    Method::POST,
                    "/api/v1/users",
                    Some(json!({"email": format!("many{n}@example.com"), "name": "Many", "password": "a long enough password"})),
                    &[("x-forwarded-for", from)],
                )
                .await
            }
        };
        for n in 0..20 {
            let r = sign_up(n, "203.0.113.9").await;
            assert_eq!(r.status, StatusCode::CREATED, "{n}: {}", r.json);
        }
        let r = sign_up(20, "203.0.113.9").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.json);
        assert_eq!(r.json["error"], "throttled");
        assert!(r.json["message"].as_str().unwrap().contains("new accounts"), "{}", r.json);
        let retry: i64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=3600).contains(&retry), "{retry}");
        // Nothing was made, and another address is not held to it.
        let mut c = app.client();
        let no = c.send(Method::POST, "/api/v1/session", Some(json!({"email": "many20@example.com", "password": "a long enough password"}))).await;
        assert_eq!(no.status, StatusCode::UNAUTHORIZED);
        assert_eq!(sign_up(21, "198.51.100.7").await.status, StatusCode::CREATED);
        // A taken email is answered before the address's count is spent.
        let again = sign_up(0, "192.0.2.1").await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        // An hour later the address may sign up again.
        app.clock.set(app.clock.now() + 3601);
        assert_eq!(sign_up(22, "203.0.113.9").await.status, StatusCode::CREATED);
        // This machine's own address is not counted.
        for n in 30..52 {
            assert_eq!(sign_up(n, "127.0.0.1").await.status, StatusCode::CREATED, "local sign-up {n}");
        }
    }

    async fn a_customer_past_the_venues_hold_limit_is_told_422_limit_reached(app) {
        let mut c = app.customer("limits@example.com").await;
        let s = spa(&mut c).await;
        // The spa lets one customer hold three times at once.
        for (i, at) in [london(2, 10, 0), london(2, 11, 0), london(2, 12, 0)].iter().enumerate() {
            let r = c.send(Method::POST, "/api/v1/holds", Some(head_with(&s, if i % 2 == 0 { s.anna } else { s.ben }, at))).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        }
        let fourth = c.send(Method::POST, "/api/v1/holds", Some(head_with(&s, s.anna, &london(3, 10, 0)))).await;
        assert_eq!(fourth.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", fourth.json);
        assert_eq!(fourth.json["error"], "limit_reached");
        assert!(fourth.json["message"].as_str().unwrap().contains("3 time(s)"), "{}", fourth.json);
        // Nothing was made by the refused request.
        let mine = c.send(Method::GET, "/api/v1/bookings", None).await;
        assert_eq!(mine.json.as_array().unwrap().len(), 3);
    }

    async fn customers_register_log_in_and_out(app) {
        let mut c = app.client();
        let r = c.send(Method::POST, "/api/v1/users", Some(json!({
            "email": "Dana@Example.com", "name": "Dana", "password": "correct horse battery"
        }))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        assert_eq!(r.json["email"], "dana@example.com");
        assert_eq!(r.json["role"], "customer");
        let again = c.send(Method::POST, "/api/v1/users", Some(json!({
            "email": "dana@example.com", "name": "Dana", "password": "another long password"
        }))).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.json["error"], "email_in_use");

        assert_eq!(c.send(Method::GET, "/api/v1/bookings", None).await.status, StatusCode::UNAUTHORIZED);
        let r = c.log_in("dana@example.com", "correct horse battery").await;
        assert_eq!(r.json["name"], "Dana");
        assert_eq!(count_my_bookings(&mut c).await, 0);
        let signed_in = c.cookie.clone();
        assert_eq!(c.send(Method::DELETE, "/api/v1/session", None).await.status, StatusCode::NO_CONTENT);
        assert_eq!(c.send(Method::GET, "/api/v1/bookings", None).await.status, StatusCode::UNAUTHORIZED);
        // The session is gone on the server, not only from this browser.
        let mut replay = app.client();
        replay.cookie = signed_in;
        assert_eq!(replay.send(Method::GET, "/api/v1/bookings", None).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn expired_sessions_are_deleted_from_the_table(app) {
        use app::backend::db::Db;
        let first = app.customer("vera@example.com").await;
        let _second = app.customer("walt@example.com").await;
        let id = first.cookie.clone().unwrap().trim_start_matches("slotkeeper.sid=").to_owned();
        let db = Db::connect(&app.database_url(), &Default::default()).await.unwrap();
        let count = |db: &Db| {
            let db = db.clone();
            async move {
                let n: i64 = match &db {
                    Db::Sqlite(s) => sqlx::query_scalar("SELECT COUNT(*) FROM tower_sessions").fetch_one(&s.write).await,
                    Db::Postgres(p) => sqlx::query_scalar("SELECT COUNT(*) FROM tower_sessions.session").fetch_one(&p.pool).await,
                }
                .unwrap();
                n
            }
        };
        assert_eq!(count(&db).await, 2);
        let expired = match &db {
            Db::Sqlite(s) => sqlx::query("UPDATE tower_sessions SET expiry_date = '2000-01-01 00:00:00+00:00' WHERE id = ?").bind(&id).execute(&s.write).await.unwrap().rows_affected(),
            Db::Postgres(p) => sqlx::query("UPDATE tower_sessions.session SET expiry_date = '2000-01-01T00:00:00Z' WHERE id = $1").bind(&id).execute(&p.pool).await.unwrap().rows_affected(),
        };
        assert_eq!(expired, 1);
        slotkeeper::delete_expired_sessions(&db).await.unwrap();
        assert_eq!(count(&db).await, 1, "the expired session is gone, the live one stays");
        db.close().await;
    }

    async fn the_session_id_changes_at_log_in_and_the_old_one_is_worthless(app) {
        let mut c = app.customer("erin@example.com").await;
        let first = c.cookie.clone().unwrap();
        c.log_in("erin@example.com", "a long enough password").await;
        let second = c.cookie.clone().unwrap();
        assert_ne!(first, second, "a new session id at each log-in");
        let mut old = app.client();
        old.cookie = Some(first);
        assert_eq!(old.send(Method::GET, "/api/v1/bookings", None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(c.send(Method::GET, "/api/v1/bookings", None).await.status, StatusCode::OK);
    }

    async fn a_failed_log_in_says_the_same_whether_or_not_the_email_exists(app) {
        app.customer("finn@example.com").await;
        let mut c = app.client();
        let wrong_password = c.send(Method::POST, "/api/v1/session", Some(json!({"email": "finn@example.com", "password": "not the password"}))).await;
        let no_account = c.send(Method::POST, "/api/v1/session", Some(json!({"email": "nobody@example.com", "password": "not the password"}))).await;
        assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
        assert_eq!(no_account.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong_password.json, no_account.json);
    }

    async fn repeated_failures_for_one_email_are_throttled_with_a_time_to_wait(app) {
        app.customer("gus@example.com").await;
        let mut c = app.client();
        for _ in 0..5 {
            let r = c.send(Method::POST, "/api/v1/session", Some(json!({"email": "gus@example.com", "password": "wrong password!"}))).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        // Now even the right password waits.
        let r = c.send(Method::POST, "/api/v1/session", Some(json!({"email": "gus@example.com", "password": "a long enough password"}))).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.json["error"], "throttled");
        let wait: i64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=15 * 60).contains(&wait), "{wait}");
        assert!(r.json["message"].as_str().unwrap().contains("minutes"));
        // Once the window has passed, the right password works again.
        app.clock.set(app.clock.now() + 15 * 60 + 1);
        c.log_in("gus@example.com", "a long enough password").await;
    }

    async fn confirming_may_carry_a_note_and_phone_for_the_venue_and_bad_ones_are_named(app) {
        let mut c = app.customer("noor@example.com").await;
        let s = spa(&mut c).await;
        // The venue list says what things cost and where the venue is.
        let venues = c.send(Method::GET, "/api/v1/venues", None).await.json;
        let spa_json = venues.as_array().unwrap().iter().find(|v| v["id"] == s.venue).unwrap().clone();
        assert_eq!((spa_json["currency"].as_str(), spa_json["address"].as_str()), (Some("GBP"), Some("4 Mill Lane, Bath")));
        let head = spa_json["services"].as_array().unwrap().iter().find(|x| x["id"] == s.head).unwrap().clone();
        assert_eq!(head["price_cents"], 4500);
        assert!(head["description"].as_str().unwrap().contains("neck and shoulders"));
        let hold = c.send(Method::POST, "/api/v1/holds", Some(head_with(&s, s.anna, &london(2, 10, 0)))).await;
        let id = hold.json["id"].as_i64().unwrap();
        assert_eq!(hold.json["price_cents"], 4500);
        let path = format!("/api/v1/holds/{id}/confirm");
        for (body, field) in [
            (json!({"phone": "call me"}), "phone"),
            (json!({"note": "x".repeat(501)}), "note"),
            (json!({"note": "fine", "tip": 5}), "tip"),
            (json!({"phone": 44}), "phone"),
        ] {
            let r = c.send(Method::POST, &path, Some(body.clone())).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.json);
            assert!(r.json["field"].as_str().unwrap_or_default().contains(field), "{body}: {}", r.json);
        }
        assert_eq!(c.my_booking(&id.to_string()).await["status"], "held", "refusals change nothing");
        let r = c.send(Method::POST, &path, Some(json!({"note": "  First visit  ", "phone": "+44 20 7946 0000"}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        assert_eq!((r.json["note"].as_str(), r.json["phone"].as_str()), (Some("First visit"), Some("+44 20 7946 0000")));
        // Without a body, as before: no note.
        let other = c.send(Method::POST, "/api/v1/holds", Some(head_with(&s, s.anna, &london(2, 11, 0)))).await.json["id"].as_i64().unwrap();
        let r = c.send(Method::POST, &format!("/api/v1/holds/{other}/confirm"), None).await;
        assert_eq!((r.status, r.json["note"].clone()), (StatusCode::OK, serde_json::Value::Null));
    }

    async fn a_customer_holds_confirms_lists_and_cancels_a_booking(app) {
        let mut c = app.customer("hana@example.com").await;
        let s = spa(&mut c).await;
        let hold = c.send(Method::POST, "/api/v1/holds", Some(head_with(&s, s.anna, &london(2, 10, 0)))).await;
        assert_eq!(hold.status, StatusCode::CREATED, "{}", hold.json);
        assert_eq!(hold.json["status"], "held");
        let id = hold.json["id"].as_i64().unwrap();
        let confirmed = c.send(Method::POST, &format!("/api/v1/holds/{id}/confirm"), None).await;
        assert_eq!(confirmed.status, StatusCode::OK);
        assert_eq!(confirmed.json["status"], "confirmed");
        let mine = c.send(Method::GET, "/api/v1/bookings", None).await;
        assert_eq!(mine.json[0]["id"], id);
        let cancelled = c.send(Method::DELETE, &format!("/api/v1/bookings/{id}"), None).await;
        assert_eq!(cancelled.status, StatusCode::OK);
        assert_eq!(cancelled.json["status"], "cancelled");

        // Booking directly, then the slot is taken for others, with alternatives.
        let booked = c.send(Method::POST, "/api/v1/bookings", Some(json!({
            "venue_id": s.venue, "service_id": s.full, "start": london(2, 11, 0), "idempotency_key": "hana-0001"
        }))).await;
        assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.json);
        assert_eq!(booked.json["resources"].as_array().unwrap().len(), 2, "a therapist and a room");
        // The same key again is the same booking, not a conflict.
        let again = c.send(Method::POST, "/api/v1/bookings", Some(json!({
            "venue_id": s.venue, "service_id": s.full, "start": london(2, 11, 0), "idempotency_key": "hana-0001"
        }))).await;
        assert_eq!(again.json["id"], booked.json["id"]);
        let mut other = app.customer("ivan@example.com").await;
        let taken = other.send(Method::POST, "/api/v1/bookings", Some(head_with(&s, s.anna, &london(2, 10, 0)))).await;
        assert_eq!(taken.status, StatusCode::CREATED, "free again after the cancellation");
        let taken = other.send(Method::POST, "/api/v1/bookings", Some(head_with(&s, s.anna, &london(2, 10, 0)))).await;
        assert_eq!(taken.status, StatusCode::CONFLICT);
        assert_eq!(taken.json["error"], "slot_taken");
        assert!(taken.json["message"].as_str().unwrap().contains("just taken"));
        let alternatives = taken.json["alternatives"].as_array().unwrap();
        assert!(alternatives.iter().any(|a| a["kind"] == "other_resource" && a["resource"] == s.ben));
        assert!(alternatives.iter().all(|a| a["label"].as_str().unwrap().contains("June")));
    }

    async fn availability_is_served_for_a_day_and_a_service_or_party(app) {
        let mut c = app.client();
        let s = spa(&mut c).await;
        let r = c.send(Method::GET, &format!("/api/v1/venues/{}/availability?date=2026-06-02&service_id={}", s.venue, s.head), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        let ten = r.json["slots"].as_array().unwrap().iter().find(|x| x["time"] == "10:00").unwrap();
        assert_eq!(ten["free"].as_array().unwrap().len(), 2, "Anna and Ben");
        let r = c.send(Method::GET, "/api/v1/venues/2/availability?date=2026-06-02&party_size=4", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        assert!(r.json["slots"].as_array().unwrap().iter().any(|x| x["time"] == "19:00"));
        let r = c.send(Method::GET, &format!("/api/v1/venues/999/availability?date=2026-06-02&service_id={}", s.head), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }

    async fn customers_see_and_change_only_their_own_holds_and_bookings(app) {
        let mut a = app.customer("jo@example.com").await;
        let mut b = app.customer("kim@example.com").await;
        let s = spa(&mut a).await;
        let hold = a.send(Method::POST, "/api/v1/holds", Some(head_with(&s, s.anna, &london(2, 10, 0)))).await.json["id"].as_i64().unwrap();
        let booking = a.send(Method::POST, "/api/v1/bookings", Some(head_with(&s, s.ben, &london(2, 10, 0)))).await.json["id"].as_i64().unwrap();
        for (method, path) in [
            (Method::POST, format!("/api/v1/holds/{hold}/confirm")),
            (Method::DELETE, format!("/api/v1/holds/{hold}")),
            (Method::DELETE, format!("/api/v1/bookings/{booking}")),
            (Method::DELETE, format!("/api/v1/bookings/{hold}")),
        ] {
            let r = b.send(method.clone(), &path, None).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {}", r.json);
        }
        assert_eq!(count_my_bookings(&mut b).await, 0);
        let mine = a.send(Method::GET, "/api/v1/bookings", None).await;
        let statuses: Vec<&str> = mine.json.as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, vec!["held", "confirmed"], "untouched by the other customer");
    }

    async fn cancellation_closes_at_the_venue_window(app) {
        let mut c = app.customer("lee@example.com").await;
        let s = spa(&mut c).await;
        let id = c.send(Method::POST, "/api/v1/bookings", Some(head_with(&s, s.anna, &london(2, 10, 0)))).await.json["id"].as_i64().unwrap();
        // The spa's window is 24 hours: closed from Monday 10:00.
        app.clock.set(parse_time(&london(1, 10, 1)).timestamp());
        let r = c.send(Method::DELETE, &format!("/api/v1/bookings/{id}"), None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.json["message"].as_str().unwrap().contains("Cancellation closed at 2026-06-01 09:00:00 UTC"), "{}", r.json);
        assert_eq!(c.send(Method::GET, "/api/v1/bookings", None).await.json[0]["status"], "confirmed");
    }

    async fn requests_from_another_site_are_refused_and_change_nothing(app) {
        let mut c = app.customer("max@example.com").await;
        let s = spa(&mut c).await;
        for headers in [
            vec![("origin", "https://elsewhere.example")],
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
        ] {
            let r = c.send_with(Method::POST, "/api/v1/bookings", Some(head_with(&s, s.anna, &london(2, 10, 0))), &headers).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{headers:?}");
            assert_eq!(r.json["error"], "forbidden");
            // Server functions are guarded the same way.
            let r = c.send_with(Method::POST, "/api/venues", None, &headers).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN);
        }
        assert_eq!(count_my_bookings(&mut c).await, 0);
        let host = app.base.trim_start_matches("http://").to_owned();
        let same = format!("http://{host}");
        let r = c.send_with(Method::POST, "/api/v1/bookings", Some(head_with(&s, s.anna, &london(2, 10, 0))), &[("origin", same.as_str()), ("sec-fetch-site", "same-origin")]).await;
        assert_eq!(r.status, StatusCode::CREATED, "the app's own pages may post: {}", r.json);
    }

    async fn bad_input_gets_a_clear_4xx_and_writes_nothing(app) {
        let mut c = app.customer("ned@example.com").await;
        let s = spa(&mut c).await;
        let huge = "x".repeat(1024 * 1024);
        let base = head_with(&s, s.anna, &london(2, 10, 0));
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        let without = |k: &str| {
            let mut b = base.clone();
            b.as_object_mut().unwrap().remove(k);
            b
        };
        let cases: Vec<(&str, Value, &str)> = vec![
            ("malformed date", with("start", json!("2026-02-30T10:00:00Z")), "start"),
            ("not a date", with("start", json!("tomorrow")), "start"),
            ("off the grid", with("start", json!(london(2, 10, 5))), "start"),
            ("wrong type", with("venue_id", json!("one")), "venue_id"),
            ("missing start", without("start"), "start"),
            ("missing venue", without("venue_id"), "venue_id"),
            ("unknown venue", with("venue_id", json!(999999)), "venue_id"),
            ("unknown service", with("service_id", json!(999999)), "service_id"),
            ("foreign resource", with("resource_id", json!(8)), "resource_id"),
            ("party and service", with("party_size", json!(2)), "service_id"),
            ("party zero", json!({"venue_id": 2, "party_size": 0, "start": london(2, 19, 0)}), "party_size"),
            ("party 10000", json!({"venue_id": 2, "party_size": 10000, "start": london(2, 19, 0)}), "party_size"),
            ("bad key", with("idempotency_key", json!("no spaces allowed")), "idempotency_key"),
            ("unknown field", with("colour", json!("red")), "colour"),
            ("huge key", with("idempotency_key", json!(huge.clone())), "idempotency_key"),
            ("huge start", with("start", json!(huge[..60_000].to_owned())), "start"),
        ];
        for (what, body, field) in cases {
            for path in ["/api/v1/bookings", "/api/v1/holds"] {
                let r = c.send(Method::POST, path, Some(body.clone())).await;
                assert!(r.status.is_client_error(), "{what} on {path}: {} {}", r.status, r.json);
                if r.status == StatusCode::BAD_REQUEST {
                    assert_eq!(r.json["error"], "invalid", "{what}: {}", r.json);
                    assert!(r.json["field"].as_str().unwrap_or("").contains(field) || r.json["message"].as_str().unwrap().contains(field), "{what}: {}", r.json);
                }
            }
        }
        // Bodies that are not JSON at all, or too big to read.
        for raw in ["{", "[]", "null", "\"text\""] {
            let r = c.send_raw(Method::POST, "/api/v1/bookings", raw.to_owned()).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{raw}");
        }
        let r = c.send_raw(Method::POST, "/api/v1/bookings", format!("{{\"start\": \"{huge}\"}}")).await;
        assert_eq!((r.status, r.json["error"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")), "{}", r.text);
        // Paths and queries.
        for path in [
            "/api/v1/holds/abc/confirm".to_owned(),
            "/api/v1/holds/99999999999999999999/confirm".to_owned(),
            "/api/v1/bookings/-1".to_owned(),
        ] {
            let r = c.send(Method::POST, &path, None).await;
            assert!(r.status.is_client_error(), "{path}: {}", r.status);
        }
        for q in ["date=2026-13-01&service_id=1", "date=&service_id=1", "date=2026-06-02", "date=2026-06-02&party_size=0",
                  "date=9999-12-31&service_id=1", "date=2026-06-02&service_id=abc", "nonsense=1"] {
            let r = c.send(Method::GET, &format!("/api/v1/venues/{}/availability?{q}", s.venue), None).await;
            assert!(r.status.is_client_error() || r.json["slots"].as_array().is_some_and(|x| x.is_empty()), "{q}: {} {}", r.status, r.json);
        }
        let r = c.send(Method::POST, "/api/v1/users", Some(json!({"email": "not-an-email", "name": "X", "password": "long enough pass"}))).await;
        assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("email")));
        let r = c.send(Method::POST, "/api/v1/users", Some(json!({"email": "o@example.com", "name": "O", "password": "short"}))).await;
        assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("password")));
        let r = c.send(Method::POST, "/api/v1/users", Some(json!({"email": "o@example.com", "name": huge.clone(), "password": "long enough pass"}))).await;
        assert!(r.status.is_client_error());
        assert_eq!(count_my_bookings(&mut c).await, 0, "nothing was written");
        let r = c.send(Method::GET, "/api/v1/no-such-route", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }

    async fn two_hundred_customers_posting_one_slot_at_once_get_one_booking(app) {
        use app::backend::accounts::{self, NewUser};
        use app::domain::admin::Role;
        use app::domain::input::{DisplayName, Email, Password};
        let mut first = app.client();
        let s = spa(&mut first).await;
        // Accounts made directly (one hash for all); each then signs in over HTTP.
        let db = app::backend::db::Db::connect(&app.database_url(), &Default::default()).await.unwrap();
        let hash = accounts::hash_password(&Password::parse("a long enough password").unwrap()).await.unwrap();
        let mut clients = Vec::new();
        for i in 0..200 {
            let email = format!("racer{i}@example.com");
            let user = NewUser { email: Email::parse(&email).unwrap(), display_name: DisplayName::parse("Racer").unwrap(), role: Role::Customer };
            accounts::insert_user(&db, &user, &hash, 0).await.unwrap();
            let mut c = app.client();
            c.log_in(&email, "a long enough password").await;
            clients.push(c);
        }
        db.close().await;
        for (path, start) in [("/api/v1/bookings", london(2, 10, 0)), ("/api/v1/holds", london(2, 11, 0))] {
            let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(clients.len()));
            let tasks: Vec<_> = clients.iter().cloned().map(|mut c| {
                let barrier = barrier.clone();
                let body = head_with(&s, s.anna, &start);
                tokio::spawn(async move {
                    barrier.wait().await;
                    c.send(Method::POST, path, Some(body)).await
                })
            }).collect();
            let mut created = 0;
            let mut conflicts_with_alternatives = 0;
            for t in tasks {
                let r = t.await.unwrap();
                assert!(!r.status.is_server_error(), "{path}: {} {}", r.status, r.json);
                match r.status {
                    StatusCode::CREATED => created += 1,
                    StatusCode::CONFLICT if !r.json["alternatives"].as_array().unwrap().is_empty() => conflicts_with_alternatives += 1,
                    other => panic!("{path}: unexpected {other} {}", r.json),
                }
            }
            assert_eq!((created, conflicts_with_alternatives), (1, 199), "{path}");
        }
    }

    async fn the_openapi_document_describes_every_route(app) {
        let mut c = app.client();
        let r = c.send(Method::GET, "/api/v1/openapi.json", None).await;
        assert_eq!(r.status, StatusCode::OK);
        let doc = r.json;
        assert_eq!((doc["openapi"].as_str(), doc["info"]["title"].as_str()), (Some("3.1.0"), Some("Slotkeeper API")));
        let paths = doc["paths"].as_object().expect("paths");
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        assert_eq!(doc["components"]["securitySchemes"]["session"], json!({
            "type": "apiKey", "in": "cookie", "name": "slotkeeper.sid",
            "description": doc["components"]["securitySchemes"]["session"]["description"],
        }));
        // Served and documented are the same paths, whatever they are.
        let served = served_paths();
        assert!(served.iter().any(|p| p == "/session"), "the router's paths could not be read: {served:?}");
        for path in &served {
            assert!(paths.contains_key(path), "{path} is served but missing from the document");
        }
        for path in paths.keys() {
            assert!(served.contains(path), "{path} is in the document but not served");
        }
        for (path, item) in paths {
            let url = format!("/api/v1{}", path.replace("{id}", "1"));
            // A method the document does not name is not served there.
            for method in [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
                if item.get(method.as_str().to_lowercase()).is_none() {
                    let r = c.send(method.clone(), &url, None).await;
                    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is served but not documented");
                }
            }
            for (method, op) in item.as_object().unwrap() {
                let what = format!("{} {path}", method.to_uppercase());
                let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{what}: no responses"));
                assert!(responses.keys().any(|s| s.starts_with('2')), "{what}: no success answer");
                for (status, answer) in responses {
                    let schema = &answer["content"]["application/json"]["schema"];
                    if status.starts_with('2') {
                        // A success body is a named schema (or a list of one),
                        // except this document's own.
                        let named = schema["$ref"].is_string() || schema["items"]["$ref"].is_string();
                        assert!(schema.is_null() || named || path == "/openapi.json", "{what} {status}: untyped body {schema}");
                    } else {
                        assert_eq!(schema["$ref"], "#/components/schemas/Error", "{what} {status}");
                    }
                }
                // An operation that needs sign-in says so, and answers 401
                // without it; the others never do.
                let signed_in = op["security"] == json!([{"session": []}]);
                if signed_in {
                    assert!(responses.contains_key("401"), "{what}: needs sign-in but does not list 401");
                }
                let r = app.client().send(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), &url, None).await;
                assert_eq!(r.status == StatusCode::UNAUTHORIZED, signed_in, "{what}: answered {} without a session", r.status);
            }
        }
        // Every schema referenced exists.
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r} is not a schema reference"));
            assert!(schemas.contains_key(name), "{r} does not exist");
        }
    }

    async fn a_body_that_is_not_an_object_or_lacks_a_field_names_it(app) {
        let mut c = app.customer("shapes@example.com").await;
        for body in [json!("AAA"), json!(null), json!([null, null]), json!(0)] {
            let r = c.send(Method::POST, "/api/v1/bookings", Some(body.clone())).await;
            assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("body")), "{body}: {}", r.json);
        }
        let r = c.send(Method::POST, "/api/v1/bookings", Some(json!({"venue_id": 1}))).await;
        assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("start")), "{}", r.json);
    }

    async fn parallel_guesses_are_counted_one_by_one(app) {
        app.customer("hal@example.com").await;
        let guesses: Vec<_> = (0..20)
            .map(|i| {
                let mut c = app.client();
                tokio::spawn(async move {
                    c.send(Method::POST, "/api/v1/session", Some(json!({"email": "hal@example.com", "password": format!("guess number {i}")}))).await.status
                })
            })
            .collect();
        let mut wrong = 0;
        for g in guesses {
            match g.await.unwrap() {
                StatusCode::UNAUTHORIZED => wrong += 1,
                StatusCode::TOO_MANY_REQUESTS => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(wrong, 5, "only five guesses were checked; the rest were throttled");
    }

    async fn failures_from_one_address_do_not_lock_the_customer_out_elsewhere(app) {
        app.customer("ida@example.com").await;
        let mut attacker = app.client();
        let wrong = json!({"email": "ida@example.com", "password": "not her password"});
        for _ in 0..5 {
            attacker.send_with(Method::POST, "/api/v1/session", Some(wrong.clone()), &[("x-forwarded-for", "203.0.113.9")]).await;
        }
        let r = attacker.send_with(Method::POST, "/api/v1/session", Some(wrong.clone()), &[("x-forwarded-for", "203.0.113.9")]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        let mut ida = app.client();
        let r = ida
            .send_with(Method::POST, "/api/v1/session", Some(json!({"email": "ida@example.com", "password": "a long enough password"})), &[("x-forwarded-for", "198.51.100.7")])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        // One address failing on many accounts is stopped too.
        for i in 0..20 {
            attacker.send_with(Method::POST, "/api/v1/session", Some(json!({"email": format!("u{i}@example.com"), "password": "whatever123"})), &[("x-forwarded-for", "203.0.113.10")]).await;
        }
        let r = attacker.send_with(Method::POST, "/api/v1/session", Some(json!({"email": "ida@example.com", "password": "a long enough password"})), &[("x-forwarded-for", "203.0.113.10")]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    }

    async fn an_idempotency_key_sent_with_another_request_answers_422(app) {
        let mut c = app.customer("keys@example.com").await;
        let s = spa(&mut c).await;
        let key = "the-same-key-for-two";
        let mut first = head_with(&s, s.anna, &london(2, 10, 0));
        first["idempotency_key"] = json!(key);
        let r = c.send(Method::POST, "/api/v1/bookings", Some(first.clone())).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        let id = r.json["id"].as_i64().unwrap();
        // The same request again: the same booking.
        let r = c.send(Method::POST, "/api/v1/bookings", Some(first.clone())).await;
        assert_eq!((r.status, r.json["id"].as_i64()), (StatusCode::CREATED, Some(id)));
        // Another time and therapist with the key: refused, nothing made.
        let mut other = head_with(&s, s.ben, &london(2, 14, 0));
        other["idempotency_key"] = json!(key);
        let r = c.send(Method::POST, "/api/v1/bookings", Some(other)).await;
        assert_eq!((r.status, r.json["error"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("idempotency_mismatch")), "{}", r.json);
        assert!(r.json["message"].as_str().unwrap().contains("different request"));
        // A hold with the booking's key, sent as a header this time.
        let r = c.send_with(Method::POST, "/api/v1/holds", Some(head_with(&s, s.anna, &london(2, 10, 0))), &[("idempotency-key", key)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
        assert_eq!(count_my_bookings(&mut c).await, 1);
        // After a cancel, the key's booking is not answered again.
        let r = c.send(Method::DELETE, &format!("/api/v1/bookings/{id}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        let r = c.send(Method::POST, "/api/v1/bookings", Some(first)).await;
        assert_eq!((r.status, r.json["error"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("idempotency_mismatch")), "{}", r.json);
        assert!(r.json["message"].as_str().unwrap().contains("cancelled"), "{}", r.json);
    }

    async fn control_characters_and_dates_out_of_bounds_answer_400_naming_the_field(app) {
        let mut visitor = app.client();
        for email in ["anna\u{0}@example.com", "anna@exa\u{7}mple.com"] {
            let r = visitor.send(Method::POST, "/api/v1/session", Some(json!({"email": email, "password": "whatever it is"}))).await;
            assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("email")), "{}", r.json);
        }
        let r = visitor.send(Method::POST, "/api/v1/users", Some(json!({"email": "nul@example.com", "name": "Nul\u{0}Name", "password": "a long enough password"}))).await;
        assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("name")), "{}", r.json);
        // The page's log-in form (a server function) says the same.
        let r = visitor.call("/api/log_in", &[("email", "anna\u{0}@example.com"), ("password", "whatever it is"), ("next", "/")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);

        let mut sam = app.client();
        sam.log_in("staff@slotkeeper.test", "slotkeeper-demo").await;
        let r = sam.send(Method::POST, "/api/v1/venues/1/closures", Some(json!({
            "starts_at": london(3, 9, 0), "ends_at": london(3, 10, 0), "reason": "Boiler\u{0}"
        }))).await;
        assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reason")), "{}", r.json);
        for date in ["+262142-12-31", "1000-01-01"] {
            let r = sam.send(Method::GET, &format!("/api/v1/venues/1/day?date={}", enc(date)), None).await;
            assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("date")), "{date}: {}", r.json);
        }
        let mut alice = app.customer("bounds@example.com").await;
        let s = spa(&mut alice).await;
        let id = alice.send(Method::POST, "/api/v1/bookings", Some(head_with(&s, s.anna, &london(2, 10, 0)))).await.json["id"].as_i64().unwrap();
        for start in ["+262142-12-31T10:00:00Z", "0001-01-01T00:00:00Z"] {
            let r = sam.send(Method::POST, &format!("/api/v1/bookings/{id}/move"), Some(json!({"start": start}))).await;
            assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("start")), "{start}: {}", r.json);
        }
        let r = sam.send(Method::POST, "/api/v1/venues/1/closures", Some(json!({
            "starts_at": london(3, 9, 0), "ends_at": "+262142-12-31T10:00:00Z"
        }))).await;
        assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("ends_at")), "{}", r.json);
        // The admin pages' forms answer the same, and nothing panicked.
        let r = sam.call("/api/admin/day", &[("venue", "1"), ("date", "+262142-12-31")]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
        let (status, _, _) = sam.page("/admin/venues/1/day?date=%2B262142-12-31").await;
        assert!(status.is_success() || status.is_client_error(), "{status}");
        assert_eq!(app.get("/healthz").await.0, 200);
    }
}

/// Holds, bookings and reschedules are counted per client address (five a
/// minute here): the sixth attempt from one address is 429 with
/// `Retry-After`, whichever account asks, while another address, staff and
/// a client on this machine are not held back; the address may ask again
/// once the wait is over.
mod booking_attempts_are_throttled_per_client_address {
    use super::*;

    /// POSTs `body` to `path` as a client at `address` (none: this machine).
    async fn post(c: &mut Client, path: &str, body: Value, address: Option<&str>) -> Reply {
        let from: Vec<(&str, &str)> = address
            .map(|a| ("x-forwarded-for", a))
            .into_iter()
            .collect();
        c.send_with(Method::POST, path, Some(body), &from).await
    }

    async fn run(engine: Engine) {
        let app =
            TestApp::spawn_with(engine, &[("SLOTKEEPER_BOOKING_ATTEMPTS_PER_MINUTE", "5")]).await;
        let mut alice = app.customer("throttle-a@example.com").await;
        let mut bob = app.customer("throttle-b@example.com").await;
        let s = spa(&mut alice).await;
        let here = Some("198.51.100.7");
        let booked = post(
            &mut alice,
            "/api/v1/bookings",
            head_with(&s, s.anna, &london(2, 10, 0)),
            here,
        )
        .await;
        assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.json);
        let id = booked.json["id"].as_i64().unwrap();
        let reschedule = format!("/api/v1/bookings/{id}/reschedule");
        for hour in 11..15 {
            let r = post(
                &mut alice,
                "/api/v1/holds",
                head_with(&s, s.ben, &london(2, hour, 0)),
                here,
            )
            .await;
            assert_ne!(
                r.status,
                StatusCode::TOO_MANY_REQUESTS,
                "attempt at {hour}: {}",
                r.json
            );
        }
        let sixth = post(
            &mut alice,
            "/api/v1/holds",
            head_with(&s, s.anna, &london(3, 10, 0)),
            here,
        )
        .await;
        assert_eq!(
            (sixth.status, sixth.json["error"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("throttled")),
            "{}",
            sixth.json
        );
        assert_eq!(
            sixth
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("12")
        );
        // Another account from the same address, and the other operations.
        let other = post(
            &mut bob,
            "/api/v1/bookings",
            head_with(&s, s.anna, &london(4, 10, 0)),
            here,
        )
        .await;
        assert_eq!(
            other.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            other.json
        );
        let moved = post(
            &mut alice,
            &reschedule,
            json!({"start": london(2, 16, 0)}),
            here,
        )
        .await;
        assert_eq!(
            moved.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            moved.json
        );
        // The page's hold goes through the same count.
        let fields = [
            ("venue", "1"),
            ("start", &london(4, 11, 0)),
            ("service", &s.head.to_string()),
            ("key", "throttle-page-1"),
        ];
        let page = alice
            .call_with(
                "/api/place_hold",
                &fields,
                &[("x-forwarded-for", here.unwrap())],
            )
            .await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.json);
        // The refused attempts made nothing.
        assert_eq!(count_my_bookings(&mut bob).await, 0);
        // Another address is counted apart; staff are not counted.
        let elsewhere = post(
            &mut bob,
            "/api/v1/bookings",
            head_with(&s, s.anna, &london(4, 10, 0)),
            Some("198.51.100.8"),
        )
        .await;
        assert_eq!(elsewhere.status, StatusCode::CREATED, "{}", elsewhere.json);
        let mut sam = app.client();
        sam.log_in("staff@slotkeeper.test", "slotkeeper-demo").await;
        let staff = post(
            &mut sam,
            "/api/v1/holds",
            head_with(&s, s.ben, &london(5, 10, 0)),
            here,
        )
        .await;
        assert_eq!(staff.status, StatusCode::CREATED, "{}", staff.json);
        // A client on this machine (no forwarded address) is not counted.
        for hour in 9..16 {
            let r = post(
                &mut bob,
                "/api/v1/holds",
                head_with(&s, s.ben, &london(8, hour, 0)),
                None,
            )
            .await;
            assert_ne!(
                r.status,
                StatusCode::TOO_MANY_REQUESTS,
                "local attempt at {hour}: {}",
                r.json
            );
        }
        // Twelve seconds later one more attempt may go.
        app.clock.set(app.clock.now() + 12);
        let later = post(
            &mut alice,
            &reschedule,
            json!({"start": london(2, 16, 0)}),
            here,
        )
        .await;
        assert_eq!(later.status, StatusCode::OK, "{}", later.json);
        let again = post(
            &mut alice,
            "/api/v1/holds",
            head_with(&s, s.anna, &london(3, 10, 0)),
            here,
        )
        .await;
        assert_eq!(
            again.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            again.json
        );
        app.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        run(Engine::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        run(Engine::Postgres).await;
    }
}

on_both_databases! {
    async fn a_booking_is_mailed_to_its_customer_and_staff_see_that_it_went(app) {
        let mut c = app.customer("mailme@example.com").await;
        let s = spa(&mut c).await;
        let made = c.send(Method::POST, "/api/v1/bookings", Some(head_with(&s, s.anna, &london(2, 10, 0)))).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
        let id = made.json["id"].as_i64().unwrap();
        // Without an SMTP server, the message is a .eml file in the folder.
        let mail = app.wait_for_mail(&["mailme@example.com", "Booking confirmed"]).await;
        assert!(mail.contains(&format!(".booking-{id}@localhost>")), "{mail}");
        assert!(mail.contains("text/calendar") && mail.contains("text/html"), "{mail}");
        let cancel = c.send(Method::DELETE, &format!("/api/v1/bookings/{id}"), None).await;
        assert!(cancel.status.is_success(), "{}", cancel.json);
        app.wait_for_mail(&["mailme@example.com", "Booking cancelled"]).await;
        assert_eq!(app.mail().len(), 2, "one message each");
        let metrics = app.client().send_with(Method::GET, "/metrics", None, &[("authorization", &format!("Bearer {METRICS_TOKEN}"))]).await.text;
        assert!(metrics.contains("slotkeeper_messages_total{outcome=\"sent\"} 2"), "{metrics}");
        assert!(metrics.contains("slotkeeper_outbox_messages{state=\"pending\"} 0"), "{metrics}");
        assert!(metrics.contains("slotkeeper_outbox_oldest_due_seconds 0"), "{metrics}");
        let mut staff = app.client();
        staff.log_in("staff@slotkeeper.test", "slotkeeper-demo").await;
        let (_, _, html) = staff.page(&format!("/admin/bookings/{id}")).await;
        assert!(html.contains("Messages to the customer") && html.contains("Booking confirmed") && html.contains("Cancelled by the customer"), "{html}");
        assert!(html.contains("sent at"), "{html}");
    }

    async fn a_message_that_cannot_be_sent_is_tried_again_then_shown_to_staff_as_not_sent(app) {
        let mut c = app.customer("nomail@example.com").await;
        let s = spa(&mut c).await;
        // Mail cannot be written: its folder is gone (a full disk, a server that refuses).
        std::fs::remove_dir_all(&app.mail_dir).unwrap();
        std::fs::write(&app.mail_dir, b"not a folder").unwrap();
        let made = c.send(Method::POST, "/api/v1/bookings", Some(head_with(&s, s.anna, &london(3, 10, 0)))).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
        let id = made.json["id"].as_i64().unwrap();
        let mut staff = app.client();
        staff.log_in("staff@slotkeeper.test", "slotkeeper-demo").await;
        // Each failed attempt is tried again later; the clock is moved on to each.
        let mut html = String::new();
        for _ in 0..200 {
            html = staff.page(&format!("/admin/bookings/{id}")).await.2;
            if html.contains("could not be sent") {
                break;
            }
            app.clock.set(app.clock.now() + 3600);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(html.contains("could not be sent (8 attempts)") && html.contains("Last error"), "{html}");
        let (_, _, home) = staff.page("/admin").await;
        assert!(home.contains("Messages that could not be sent to customers (1)"), "{home}");
        assert!(home.contains(&format!(r#"href="/admin/bookings/{id}""#)), "{home}");
        let metrics = app.client().send_with(Method::GET, "/metrics", None, &[("authorization", &format!("Bearer {METRICS_TOKEN}"))]).await.text;
        assert!(metrics.contains("slotkeeper_outbox_messages{state=\"dead\"} 1"), "{metrics}");
        assert!(metrics.contains("slotkeeper_messages_total{outcome=\"dead\"} 1"), "{metrics}");
        std::fs::remove_file(&app.mail_dir).unwrap();
    }
}
