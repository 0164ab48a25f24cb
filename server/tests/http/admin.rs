//! The admin side over HTTP, on both databases: every admin server
//! function, page and API route refuses customers and visitors; staff
//! close a day and answer the stranded-bookings question without
//! JavaScript; a save from an old version keeps what was typed.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Every field any admin server function reads, with a plausible value:
/// enough for each to get past reading its arguments to the role check.
const ANY_ARGS: &[(&str, &str)] = &[
    ("venue", "1"),
    ("id", "1"),
    ("version", "1"),
    ("date", "2026-06-02"),
    ("time", "10:00"),
    ("status", "completed"),
    ("name", "Someone"),
    ("email", "someone@example.com"),
    ("key", "admin-test-key"),
    ("kind", "therapist"),
    ("grid_minutes", "15"),
    ("hold_minutes", "10"),
    ("cancellation_window", "60"),
    ("cancellation_window_unit", "minutes"),
    ("min_notice", "1"),
    ("min_notice_unit", "hours"),
    ("days[0][weekday]", "0"),
    ("days[0][opens]", "09:00"),
    ("days[0][closes]", "17:00"),
    ("days[0][break_starts]", ""),
    ("days[0][break_ends]", ""),
    ("advance_days", "30"),
    ("weekday", "0"),
    ("opens", "09:00"),
    ("closes", "17:00"),
    ("break_starts", ""),
    ("break_ends", ""),
    ("service", "1"),
    ("offer", "yes"),
    ("duration_minutes", "30"),
    ("cleanup_minutes", "0"),
    ("reason", "test"),
    ("role", "staff"),
    ("timezone", "Europe/London"),
];

const ADMIN_PAGES: &[&str] = &[
    "/admin",
    "/admin/stats",
    "/admin/staff",
    "/admin/bookings/1",
    "/admin/venues/1/day?date=2026-06-02",
    "/admin/venues/1/setup",
    "/admin/venues/1/audit",
];

/// (method, path, JSON body) of each staff route of the JSON API.
fn api_routes() -> Vec<(Method, &'static str, Option<serde_json::Value>)> {
    vec![
        (Method::GET, "/api/v1/stats", None),
        (Method::GET, "/api/v1/venues/1/day?date=2026-06-02", None),
        (
            Method::POST,
            "/api/v1/bookings/1/move",
            Some(json!({"start": london(2, 11, 0)})),
        ),
        (
            Method::POST,
            "/api/v1/venues/1/closures",
            Some(json!({"starts_at": london(2, 9, 0), "ends_at": london(2, 10, 0)})),
        ),
        (Method::GET, "/metrics", None),
    ]
}

async fn staff(app: &TestApp, email: &str) -> Client {
    let mut c = app.client();
    c.log_in(email, "slotkeeper-demo").await;
    c
}

/// Owned form fields as the client sends them.
fn post(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect()
}

on_both_databases! {
    async fn a_customer_booked_at_the_desk_claims_the_account_with_a_link_from_staff(app) {
        let mut sam = staff(&app, "staff@slotkeeper.test").await;
        let day = "/admin/venues/1/day?date=2026-06-02";
        let (_, _, html) = sam.page(day).await;
        let key = html.split(r#"name="key" value=""#).nth(1).and_then(|r| r.split('"').next()).expect("the form's key").to_owned();
        let fields = [
            ("venue", "1"), ("email", "desk.guest@example.com"), ("name", "Desk Guest"), ("date", "2026-06-02"),
            ("time", "10:00"), ("service", "1"), ("resource", "0"), ("key", key.as_str()),
        ];
        let (_, location) = sam.form_post("/api/admin/book", &fields, day).await;
        let id: i64 = location.trim_start_matches("/admin/bookings/").split('?').next().unwrap().parse().expect("the booking's page");
        // No password yet: nobody logs in as the guest.
        let mut guest = app.client();
        let none = guest.send(Method::POST, "/api/v1/session", Some(json!({"email": "desk.guest@example.com", "password": "anything at all"}))).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED);
        // The staff page offers a link; without JavaScript it comes back in the address.
        let (_, _, page) = sam.page(&location).await;
        assert!(page.contains("Make a sign-in link"), "{page}");
        let (status, back) = sam.form_post("/api/admin/claim_link", &[("id", &id.to_string())], &location).await;
        assert_eq!(status, StatusCode::FOUND);
        let token = back.split("claim=").nth(1).expect("the link in the address").to_owned();
        let (_, _, shown) = sam.page(&back).await;
        assert!(shown.contains(&format!("/claim?token={token}")), "the page shows the link");
        // The JSON API makes one too.
        let api = sam.send(Method::POST, &format!("/api/v1/bookings/{id}/claim-link"), None).await;
        assert_eq!(api.status, StatusCode::CREATED, "{}", api.json);
        assert!(api.json["path"].as_str().unwrap().starts_with("/claim?token="));
        // A customer may not make one.
        let mut alice = app.client();
        alice.log_in("alice@slotkeeper.test", "slotkeeper-demo").await;
        assert_eq!(alice.send(Method::POST, &format!("/api/v1/bookings/{id}/claim-link"), None).await.status, StatusCode::FORBIDDEN);

        // The guest chooses a password with the page's link, and is signed in.
        let (status, _, claim_page) = guest.page(&format!("/claim?token={token}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(claim_page.contains("Choose a password"));
        let short = guest.form_post("/api/claim_account", &[("token", &token), ("password", "short")], "/claim").await;
        assert!(short.1.contains("__err="), "a short password comes back: {}", short.1);
        let (status, to) = guest.form_post("/api/claim_account", &[("token", &token), ("password", "the guest's own password")], "/claim").await;
        assert_eq!((status, to.as_str()), (StatusCode::FOUND, "/bookings"));
        let mine = guest.send(Method::GET, "/api/v1/bookings", None).await;
        assert_eq!(mine.json[0]["id"], id, "{}", mine.json);
        let mut again = app.client();
        again.log_in("desk.guest@example.com", "the guest's own password").await;
        // A link works once; the other link the API made is refused now that
        // the account has a password, and so is a made-up one.
        let reuse = app.client().send(Method::POST, "/api/v1/claim", Some(json!({"token": token, "password": "someone else's pass"}))).await;
        assert_eq!((reuse.status, reuse.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("token")), "{}", reuse.json);
        let other = api.json["token"].as_str().unwrap();
        let late = app.client().send(Method::POST, "/api/v1/claim", Some(json!({"token": other, "password": "someone else's pass"}))).await;
        assert_eq!(late.status, StatusCode::BAD_REQUEST, "{}", late.json);
        let made_up = app.client().send(Method::POST, "/api/v1/claim", Some(json!({"token": "0".repeat(64), "password": "someone else's pass"}))).await;
        assert_eq!(made_up.status, StatusCode::BAD_REQUEST);
        let refused = sam.send(Method::POST, &format!("/api/v1/bookings/{id}/claim-link"), None).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "a customer with a password needs no link: {}", refused.json);
        // Links expire after a week.
        let fresh = {
            let (_, _, html) = sam.page(day).await;
            let key = html.split(r#"name="key" value=""#).nth(1).and_then(|r| r.split('"').next()).unwrap().to_owned();
            let fields = [
                ("venue", "1"), ("email", "phone.guest@example.com"), ("name", "Phone Guest"), ("date", "2026-06-03"),
                ("time", "10:00"), ("service", "1"), ("resource", "0"), ("key", key.as_str()),
            ];
            let (_, location) = sam.form_post("/api/admin/book", &fields, day).await;
            location.trim_start_matches("/admin/bookings/").split('?').next().unwrap().to_owned()
        };
        let link = sam.send(Method::POST, &format!("/api/v1/bookings/{fresh}/claim-link"), None).await;
        app.clock.set(app.clock.now() + 7 * 86_400 + 1);
        let expired = app.client().send(Method::POST, "/api/v1/claim", Some(json!({"token": link.json["token"], "password": "too late a password"}))).await;
        assert_eq!(expired.status, StatusCode::BAD_REQUEST, "{}", expired.json);
    }

    async fn metrics_for_a_staff_member_show_only_the_venues_they_run(app) {
        // Activity at both demo venues.
        let mut alice = app.client();
        alice.log_in("alice@slotkeeper.test", "slotkeeper-demo").await;
        let r = alice.send(Method::POST, "/api/v1/bookings", Some(json!({"venue_id": 1, "service_id": 1, "start": london(2, 10, 0)}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        let r = alice.send(Method::POST, "/api/v1/bookings", Some(json!({"venue_id": 2, "party_size": 2, "start": london(2, 19, 0)}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        // Bob becomes staff of the spa alone.
        let mut ada = app.client();
        ada.log_in("admin@slotkeeper.test", "slotkeeper-demo").await;
        let r = ada.call("/api/admin/set_staff", &[("email", "bob@slotkeeper.test"), ("role", "staff"), ("venue", "1")]).await;
        assert!(r.status.is_success() || r.status.is_redirection(), "{:?} {}", r.status, r.json);
        let mut bob = app.client();
        bob.log_in("bob@slotkeeper.test", "slotkeeper-demo").await;
        let text = |r: Reply| r.text;
        let for_bob = text(bob.send(Method::GET, "/metrics", None).await);
        assert!(for_bob.contains("venue=\"Harbour Spa\""), "{for_bob}");
        assert!(!for_bob.contains("Olive Table"), "a venue Bob does not run: {for_bob}");
        let for_ada = text(ada.send(Method::GET, "/metrics", None).await);
        assert!(for_ada.contains("Harbour Spa") && for_ada.contains("Olive Table"), "an admin runs every venue: {for_ada}");
        let for_token = text(app.client().send_with(Method::GET, "/metrics", None, &[("authorization", &format!("Bearer {METRICS_TOKEN}"))]).await);
        assert!(for_token.contains("Harbour Spa") && for_token.contains("Olive Table"), "{for_token}");
    }

    async fn every_admin_server_function_page_and_route_refuses_customers_and_visitors(app) {
        let paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
            .map(|(p, _)| p)
            .filter(|p| p.starts_with("/api/admin/"))
            .collect();
        assert!(paths.len() >= 20, "the admin server functions are all found: {paths:?}");
        let mut visitor = app.client();
        let mut customer = app.customer("cust@example.com").await;
        // Booking 1, for the booking page.
        let r = customer.send(Method::POST, "/api/v1/bookings", Some(json!({"venue_id": 1, "service_id": 1, "resource_id": 1, "start": london(4, 10, 0)}))).await;
        assert_eq!(r.json["id"], 1);
        let mut sam = staff(&app, "staff@slotkeeper.test").await;
        for path in &paths {
            let r = visitor.call(path, ANY_ARGS).await;
            assert_eq!((r.status, r.json["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")), "{path} for a visitor: {}", r.json);
            let r = customer.call(path, ANY_ARGS).await;
            assert_eq!((r.status, r.json["error"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{path} for a customer: {}", r.json);
        }
        // Staff get past the role check; the admin's own functions refuse them.
        for path in ["/api/admin/staff", "/api/admin/set_staff", "/api/admin/add_venue"] {
            assert!(paths.contains(&path), "{path}");
            let r = sam.call(path, ANY_ARGS).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} for staff: {}", r.json);
        }
        assert_eq!(sam.call("/api/admin/venues", &[]).await.status, StatusCode::OK);

        for page in ADMIN_PAGES {
            let (status, location, _) = visitor.page(page).await;
            assert_eq!(status, StatusCode::FOUND, "{page} for a visitor");
            assert!(location.starts_with("/login?next=/admin"), "{page}: {location}");
            let (status, _, html) = customer.page(page).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{page} for a customer");
            assert!(html.contains("This page is for the venue"), "{page}");
            assert!(!html.contains("Harbour Spa —"), "{page} shows nothing of the venue");
        }
        for page in ADMIN_PAGES.iter().filter(|p| **p != "/admin/staff") {
            let (status, _, html) = sam.page(page).await;
            assert_eq!(status, StatusCode::OK, "{page} for staff: {html}");
        }

        for (method, path, body) in api_routes() {
            let r = visitor.send(method.clone(), path, body.clone()).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path} for a visitor");
            let r = customer.send(method.clone(), path, body.clone()).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path} for a customer");
        }
        assert_eq!(sam.send(Method::GET, "/api/v1/stats", None).await.status, StatusCode::OK);
        let r = visitor.send_with(Method::GET, "/metrics", None, &[("authorization", &format!("Bearer {METRICS_TOKEN}"))]).await;
        assert_eq!(r.status, StatusCode::OK, "a scraper with the token");
        let r = visitor.send_with(Method::GET, "/metrics", None, &[("authorization", "Bearer wrong")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }

    async fn the_day_view_shows_each_booking_once_over_its_time_with_the_treatment_and_a_line_at_now(app) {
        let mut alice = app.customer("ada.day@example.com").await;
        let r = alice.send(Method::POST, "/api/v1/bookings", Some(json!({"venue_id": 1, "service_id": 2, "resource_id": 1, "start": london(2, 10, 0)}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        let id = r.json["id"].as_i64().unwrap();
        let mut sam = staff(&app, "staff@slotkeeper.test").await;
        let (_, _, html) = sam.page("/admin/venues/1/day?date=2026-06-02").await;
        let html = html.replace("<!>", "");
        // One cell over the hour (four units), naming the customer and the treatment.
        let cell = format!(r#"<td rowspan="4" title="10:00–11:00 Test Customer — Full body massage" class="cell booked"><a href="/admin/bookings/{id}""#);
        assert_eq!(html.matches(&cell).count(), 2, "Anna's and the room's: {html}");
        assert!(html.contains(r#"<span class="what">Full body massage</span>"#), "{html}");
        assert!(html.contains(r#"<span class="span">10:00–11:00</span>"#), "{html}");
        assert!(!html.contains("↓"), "{html}");
        assert!(!html.contains(r#"<td class="cell free">free"#), "free units are left blank: {html}");
        // Lunch is one cell per therapist, not four.
        assert_eq!(html.matches(r#"<td rowspan="4" title="13:00–14:00" class="cell break">break"#).count(), 3, "{html}");
        assert!(!html.contains(r#"class="now""#), "no line at now on another day");
        // Today, the unit that holds the present moment carries the line (10:07 now).
        app.clock.set(parse_time(&london(1, 10, 7)).timestamp());
        let (_, _, html) = sam.page("/admin/venues/1/day?date=2026-06-01").await;
        let html = html.replace("<!>", "");
        assert!(html.contains(r#"<tr class="now"><th scope="row">10:00<span class="now-mark"> now"#), "{html}");
    }

    async fn staff_close_a_day_and_choose_what_happens_to_its_bookings_without_javascript(app) {
        let mut alice = app.customer("alice2@example.com").await;
        let r = alice.send(Method::POST, "/api/v1/bookings", Some(json!({"venue_id": 1, "service_id": 1, "resource_id": 1, "start": london(3, 10, 0)}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        let booking = r.json["id"].as_i64().unwrap();
        let mut sam = staff(&app, "staff@slotkeeper.test").await;

        // Tuesday: nothing booked; the day closes and its times go.
        let day = "/admin/venues/1/day?date=2026-06-02";
        let close = |date: &'static str| vec![("venue", "1"), ("date", date), ("resource", "0"), ("reason", "Boiler repair")];
        let (status, location) = sam.form_post("/api/admin/close", &close("2026-06-02"), day).await;
        assert_eq!((status, location.as_str()), (StatusCode::FOUND, "/admin/venues/1/day?date=2026-06-02&closed=1"));
        let r = alice.send(Method::GET, "/api/v1/venues/1/availability?date=2026-06-02&service_id=1", None).await;
        assert_eq!(r.json["slots"].as_array().map(Vec::len), Some(0), "{}", r.json);
        let (_, _, html) = sam.page(day).await;
        assert!(html.contains("closed: Boiler repair"), "the day view shows the closure");

        // Wednesday has Alice's booking: the answer lists it and asks.
        let (_, back) = sam.form_post("/api/admin/close", &close("2026-06-03"), "/admin/venues/1/day?date=2026-06-03").await;
        assert!(back.contains("__err="), "{back}");
        let (_, _, html) = sam.page(&back).await;
        assert!(html.contains("This change affects live bookings"), "{html}");
        assert!(html.contains(&format!("/admin/bookings/{booking}")));
        assert!(html.contains(r#"name="choice" value="cancel""#));
        let r = alice.send(Method::GET, "/api/v1/bookings", None).await;
        assert_eq!(r.json[0]["status"], "confirmed", "nothing changed yet");

        let mut fields = close("2026-06-03");
        fields.push(("choice", "cancel"));
        let (status, _) = sam.form_post("/api/admin/close", &fields, &back).await;
        assert_eq!(status, StatusCode::FOUND);
        let r = alice.send(Method::GET, "/api/v1/bookings", None).await;
        assert_eq!((r.json[0]["status"].as_str(), r.json[0]["cancelled_by"].as_str()), (Some("cancelled"), Some("venue")), "{}", r.json);
        let (_, _, html) = alice.page("/bookings").await;
        assert!(html.contains("cancelled by the venue"));
        let (_, _, html) = sam.page("/admin/venues/1/audit?date=2026-06-01").await;
        assert!(html.contains("closure.add") && html.contains("booking.cancel"), "{html}");
    }

    async fn staff_book_for_a_customer_from_the_day_view_and_a_resubmitted_form_books_once(app) {
        let mut sam = staff(&app, "staff@slotkeeper.test").await;
        let day = "/admin/venues/1/day?date=2026-06-02";
        let key = |html: &str| html.split(r#"name="key" value=""#).nth(1).and_then(|r| r.split('"').next()).expect("the form's key").to_owned();
        let (_, _, first) = sam.page(day).await;
        let (_, _, second) = sam.page(day).await;
        let (k1, k2) = (key(&first), key(&second));
        assert_ne!(k1, k2, "each load of the form has its own key");
        let book = |k: &str, time: &str| vec![
            ("venue", "1".to_owned()), ("email", "walk.in@example.com".to_owned()), ("name", "Walk In".to_owned()),
            ("date", "2026-06-02".to_owned()), ("time", time.to_owned()), ("service", "1".to_owned()),
            ("resource", "0".to_owned()), ("key", k.to_owned()),
        ];
        let mut made = Vec::new();
        for (k, time) in [(&k1, "10:00"), (&k2, "11:00"), (&k1, "10:00")] {
            let fields = book(k, time);
            let fields: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (*a, b.as_str())).collect();
            let (status, location) = sam.form_post("/api/admin/book", &fields, day).await;
            assert_eq!(status, StatusCode::FOUND);
            assert!(location.starts_with("/admin/bookings/"), "{location}");
            made.push(location);
        }
        assert_ne!(made[0], made[1], "two forms, two bookings for the same customer");
        assert_eq!(made[0], made[2], "the same form sent again finds its booking");
        let (_, _, html) = sam.page(day).await;
        assert_eq!(html.matches("Walk In — Head and shoulder massage (").count(), 2, "the day lists both: {html}");
    }

    async fn set_up_saves_a_week_in_one_form_and_takes_lengths_of_time_with_their_unit(app) {
        let mut sam = staff(&app, "staff@slotkeeper.test").await;
        let setup = "/admin/venues/1/setup";
        let (_, _, html) = sam.page(setup).await;
        let html = html.replace("<!>", "");
        assert!(html.contains("Save the week of Anna") && !html.contains("Save Monday"), "one Save for the week: {html}");
        assert!(html.contains(r#"id="s-cancel" name="cancellation_window" type="number" min="0" value="1""#), "1440 minutes read as 1 day: {html}");
        assert!(html.contains(r#"<option value="days" selected>days"#), "{html}");
        assert!(html.contains(r#"<label class="check"><input type="checkbox" name="needs_room""#), "{html}");

        // 36 hours and 2 hours are stored as minutes and shown in hours.
        let settings = |amount: &'static str, unit: &'static str| vec![
            ("venue", "1"), ("version", "1"), ("name", "Harbour Spa"), ("grid_minutes", "15"), ("hold_minutes", "10"),
            ("cancellation_window", amount), ("cancellation_window_unit", unit), ("min_notice", "2"), ("min_notice_unit", "hours"), ("advance_days", "60"),
        ];
        let (_, back) = sam.form_post("/api/admin/settings", &settings("36", "fortnights"), setup).await;
        let (_, _, html) = sam.page(&back).await;
        assert!(html.contains("Choose minutes, hours or days."), "{html}");
        let (status, location) = sam.form_post("/api/admin/settings", &settings("36", "hours"), setup).await;
        assert_eq!((status, location.as_str()), (StatusCode::FOUND, "/admin/venues/1/setup?saved=settings"));
        let (_, _, html) = sam.page(setup).await;
        assert!(html.contains(r#"name="cancellation_window" type="number" min="0" value="36""#), "{html}");
        assert!(html.contains(r#"name="min_notice" type="number" min="0" value="2""#), "{html}");
        let mut alice = app.customer("ann.week@example.com").await;
        let r = alice.send(Method::POST, "/api/v1/bookings", Some(json!({"venue_id": 1, "service_id": 1, "resource_id": 1, "start": london(1, 9, 30)}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "two hours' notice now: {}", r.json);

        // Anna's whole week in one post: Mondays until 17:00, Saturdays off.
        let version = html.split(r#"aria-label="Weekly hours of Anna""#).nth(1)
            .and_then(|r| r.split(r#"name="version" value=""#).nth(1)).and_then(|r| r.split('"').next()).expect("the week form's version").to_owned();
        let mut fields: Vec<(String, String)> = vec![("venue".into(), "1".into()), ("id".into(), "1".into()), ("version".into(), version)];
        for d in 0..7 {
            let (opens, closes, lunch) = match d { 0 => ("09:00", "17:00", true), 5 | 6 => ("", "", false), _ => ("09:00", "18:00", true) };
            for (k, v) in [("weekday", d.to_string()), ("opens", opens.into()), ("closes", closes.into()),
                           ("break_starts", if lunch { "13:00" } else { "" }.into()), ("break_ends", if lunch { "14:00" } else { "" }.into())] {
                fields.push((format!("days[{d}][{k}]"), v));
            }
        }
        let fields: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let (status, location) = sam.form_post("/api/admin/hours", &fields, setup).await;
        assert_eq!((status, location.as_str()), (StatusCode::FOUND, "/admin/venues/1/setup?saved=hours"));
        let mut visitor = app.client();
        let mut last_start = Vec::new();
        for date in ["2026-06-08", "2026-06-09", "2026-06-06"] {
            let r = visitor.send(Method::GET, &format!("/api/v1/venues/1/availability?date={date}&service_id=1&resource_id=1"), None).await;
            last_start.push(r.json["slots"].as_array().unwrap().last().map(|s| parse_time(s["start"].as_str().unwrap())));
        }
        assert_eq!(last_start, vec![Some(parse_time(&london(8, 16, 30))), Some(parse_time(&london(9, 17, 30))), None], "Monday ends at 17:00, Tuesday as before, Saturday off");
    }

    async fn set_up_saves_every_treatment_in_one_form_and_a_bad_row_saves_none(app) {
        let mut sam = staff(&app, "staff@slotkeeper.test").await;
        let setup = "/admin/venues/1/setup";
        let (_, _, html) = sam.page(setup).await;
        let html = html.replace("<!>", "");
        assert_eq!(html.matches("Save services").count(), 1, "one Save for the section: {html}");
        assert!(!html.contains("Save Head and shoulder massage"), "{html}");
        // What the form shows, row by row, as it would send it.
        let value_of = |html: &str, name: &str| {
            html.split(&format!(r#"name="{name}""#)).nth(1)
                .and_then(|r| r.split(r#"value=""#).nth(1)).and_then(|r| r.split('"').next())
                .unwrap_or_else(|| panic!("no {name} in {html}")).to_owned()
        };
        let rows = html.matches(r#"][id]""#).count();
        assert_eq!(rows, 3, "the spa's three treatments");
        let form = |html: &str, edits: &[(&str, &str)]| {
            let mut fields = vec![("venue".to_owned(), "1".to_owned())];
            for i in 0..rows {
                for f in ["id", "version", "name", "duration_minutes", "cleanup_minutes", "price", "description"] {
                    let name = format!("services[{i}][{f}]");
                    let v = edits.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()).unwrap_or_else(|| value_of(html, &name));
                    fields.push((name, v));
                }
                for f in ["needs_room", "active"] {
                    let name = format!("services[{i}][{f}]");
                    let tag = html.split(&format!(r#"name="{name}""#)).nth(1).and_then(|r| r.split('>').next()).unwrap_or_default();
                    if tag.contains("checked") {
                        fields.push((name, "on".to_owned()));
                    }
                }
            }
            fields
        };
        let prices = |json: &serde_json::Value| json[0]["services"].as_array().unwrap().iter().map(|s| s["price_cents"].clone()).collect::<Vec<_>>();
        let mut visitor = app.client();
        let before = prices(&visitor.send(Method::GET, "/api/v1/venues", None).await.json);

        // A new price on the first row and a garbled length on the third:
        // nothing is saved, the message is next to the field, the typing stays.
        let bad = form(&html, &[("services[0][price]", "52.50"), ("services[2][duration_minutes]", "long")]);
        let (status, back) = sam.form_post("/api/admin/services", &post(&bad), setup).await;
        assert_eq!(status, StatusCode::FOUND);
        let (_, _, page) = sam.page(&back).await;
        let page = page.replace("<!>", "");
        assert!(page.contains("Use a whole number of minutes."), "{page}");
        assert_eq!(value_of(&page, "services[0][price]"), "52.50", "what was typed is offered again");
        assert_eq!(value_of(&page, "services[2][duration_minutes]"), "long");
        assert_eq!(prices(&visitor.send(Method::GET, "/api/v1/venues", None).await.json), before, "nothing saved");
        // A bad row the engine refuses (too short) names its row too.
        let short = form(&html, &[("services[0][price]", "52.50"), ("services[1][duration_minutes]", "2")]);
        let r = sam.call("/api/admin/services", &post(&short)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(r.text.contains("services[1][duration_minutes]"), "{}", r.text);
        assert_eq!(prices(&visitor.send(Method::GET, "/api/v1/venues", None).await.json), before, "nothing saved");

        // Right, it saves in one step; the rows not changed keep their version.
        let good = form(&html, &[("services[0][price]", "52.50"), ("services[2][description]", "Warm stones along the back")]);
        let (status, location) = sam.form_post("/api/admin/services", &post(&good), setup).await;
        assert_eq!((status, location.as_str()), (StatusCode::FOUND, "/admin/venues/1/setup?saved=services"));
        let venues = visitor.send(Method::GET, "/api/v1/venues", None).await.json;
        assert_eq!(venues[0]["services"][0]["price_cents"], 5250);
        assert_eq!(venues[0]["services"][2]["description"], "Warm stones along the back");
        let (_, _, after) = sam.page(setup).await;
        let version = |html: &str, i: usize| value_of(html, &format!("services[{i}][version]")).parse::<i64>().unwrap();
        assert_eq!([version(&after, 0), version(&after, 1), version(&after, 2)], [version(&html, 0) + 1, version(&html, 1), version(&html, 2) + 1]);
        // The same form again (old versions) is a conflict, not a silent overwrite.
        let r = sam.call("/api/admin/services", &post(&good)).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    }

    async fn a_save_from_an_old_version_is_refused_and_keeps_what_was_typed(app) {
        let mut sam = staff(&app, "staff@slotkeeper.test").await;
        let mut ada = staff(&app, "admin@slotkeeper.test").await;
        let setup = "/admin/venues/1/setup";
        let fields = |hold: &'static str| vec![
            ("venue", "1"), ("version", "1"), ("name", "Harbour Spa"), ("grid_minutes", "15"),
            ("hold_minutes", hold), ("cancellation_window", "1"), ("cancellation_window_unit", "days"), ("min_notice", "60"), ("min_notice_unit", "minutes"), ("advance_days", "60"),
        ];
        let (status, location) = sam.form_post("/api/admin/settings", &fields("12"), setup).await;
        assert_eq!((status, location.as_str()), (StatusCode::FOUND, "/admin/venues/1/setup?saved=settings"));
        let (_, back) = ada.form_post("/api/admin/settings", &fields("17"), setup).await;
        assert!(back.contains("__err="), "{back}");
        let (_, _, html) = ada.page(&back).await;
        assert!(html.contains("changed by someone else since you opened it"), "{html}");
        assert!(html.contains("holds 12 min"), "the current values are shown");
        assert!(html.contains(r#"name="hold_minutes" type="number" value="17""#), "what Ada typed is kept: {html}");
        assert!(html.contains(r#"name="version" value="2""#), "saving again applies it");
        // As the hydrated page does: the same answer in JSON.
        let r = ada.call("/api/admin/settings", &fields("17")).await;
        assert_eq!((r.status, r.json["error"].as_str()), (StatusCode::CONFLICT, Some("stale")));
        assert_eq!(r.json["submitted"]["hold_minutes"], "17");
        // Bad input: a message by the field, nothing saved.
        let mut bad = fields("500");
        bad[1] = ("version", "2");
        let r = ada.call("/api/admin/settings", &bad).await;
        assert_eq!((r.status, r.json["field"].as_str()), (StatusCode::BAD_REQUEST, Some("hold_minutes")));
    }

    async fn staff_move_a_booking_from_the_free_times_of_those_who_can_do_the_job(app) {
        let mut alice = app.customer("alice4@example.com").await;
        let mut bob = app.customer("bob4@example.com").await;
        let a = alice.send(Method::POST, "/api/v1/bookings", Some(json!({"venue_id": 1, "service_id": 1, "resource_id": 1, "start": london(2, 10, 0)}))).await.json["id"].as_i64().unwrap();
        bob.send(Method::POST, "/api/v1/bookings", Some(json!({"venue_id": 1, "service_id": 1, "resource_id": 1, "start": london(2, 11, 0)}))).await;
        let mut sam = staff(&app, "staff@slotkeeper.test").await;
        let page = format!("/admin/bookings/{a}");
        let (_, _, html) = sam.page(&page).await;
        let html = html.replace("<!>", "");
        // Chloe does not do the head and shoulder massage: not offered.
        assert!(html.contains(r#"<option value="1" selected>Anna"#) && html.contains(r#"<option value="2">Ben"#), "{html}");
        assert!(!html.contains(">Chloe<"), "{html}");
        // Its own day and therapist: its own time and those overlapping only it are free; Bob's is not.
        assert!(html.contains(r#"aria-label="Move to Tuesday 2 June, 10:15, Anna""#), "{html}");
        assert!(!html.contains(r#"aria-label="Move to Tuesday 2 June, 11:00, Anna""#), "{html}");
        // Another day, anyone who can: its own therapist first when free.
        let (_, _, html) = sam.page(&format!("{page}?move_date=2026-06-03&move_resource=0")).await;
        let html = html.replace("<!>", "");
        assert!(html.contains(r#"<option value="0" selected>Anyone who can"#), "{html}");
        assert!(html.contains(r#"aria-label="Move to Wednesday 3 June, 09:00, Anna""#), "{html}");
        let start = london(3, 9, 0);
        assert!(html.contains(&format!(r#"name="start" value="{}""#, parse_time(&start).to_rfc3339())), "{html}");
        // One click moves it there.
        let (_, moved) = sam.form_post("/api/admin/move", &[("id", &a.to_string()), ("start", &parse_time(&start).to_rfc3339()), ("resource", "1")], &page).await;
        assert_eq!(moved, format!("/admin/bookings/{a}?moved=1"));
        let r = alice.send(Method::GET, "/api/v1/bookings", None).await;
        let mine = r.json.as_array().unwrap().iter().find(|b| b["id"].as_i64() == Some(a)).cloned().unwrap_or_default();
        assert_eq!(mine["start"].as_str().map(parse_time), Some(parse_time(&start)), "{}", r.json);
        // A garbled day is a clear answer, not a 500.
        let (status, _, html) = sam.page(&format!("{page}?move_date=soon")).await;
        assert!(status.is_success() || status.is_client_error(), "{status}");
        assert!(html.contains(r#"role="alert""#), "{html}");
    }

    async fn staff_move_a_booking_over_the_api_and_a_taken_target_answers_with_alternatives(app) {
        let mut alice = app.customer("alice3@example.com").await;
        let mut bob = app.customer("bob3@example.com").await;
        let a = alice.send(Method::POST, "/api/v1/bookings", Some(json!({"venue_id": 1, "service_id": 1, "resource_id": 1, "start": london(2, 10, 0)}))).await.json["id"].as_i64().unwrap();
        bob.send(Method::POST, "/api/v1/bookings", Some(json!({"venue_id": 1, "service_id": 1, "resource_id": 1, "start": london(2, 11, 0)}))).await;
        let mut sam = staff(&app, "staff@slotkeeper.test").await;
        let r = sam.send(Method::POST, &format!("/api/v1/bookings/{a}/move"), Some(json!({"start": london(2, 11, 0)}))).await;
        assert_eq!((r.status, r.json["error"].as_str()), (StatusCode::CONFLICT, Some("slot_taken")), "{}", r.json);
        assert!(!r.json["alternatives"].as_array().unwrap().is_empty());
        let r = sam.send(Method::POST, &format!("/api/v1/bookings/{a}/move"), Some(json!({"start": london(2, 14, 0), "resource": 2}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        assert_eq!(r.json["resources"], json!([2]));
        let r = sam.send(Method::GET, "/api/v1/venues/1/day?date=2026-06-02", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json["bookings"].as_array().unwrap().len(), 2);
        let (_, _, html) = sam.page(&format!("/admin/bookings/{a}")).await;
        assert!(html.contains("booking.move") && html.contains("Ben"), "the history shows the move");
        assert!(html.contains(">Moved the booking<"), "in words, the code beside it: {html}");
        // On the page (no JavaScript): a move onto a taken time says what is
        // in the way and offers the free times nearby as buttons.
        let page = format!("/admin/bookings/{a}");
        let (_, back) = sam.form_post("/api/admin/move", &[("id", &a.to_string()), ("date", "2026-06-02"), ("time", "11:00"), ("resource", "1")], &page).await;
        let (_, _, taken) = sam.page(&back).await;
        assert!(taken.contains("That time is not free") && !taken.contains("just taken"), "{taken}");
        let start = taken.split(r#"name="start" value=""#).nth(1).and_then(|r| r.split('"').next()).unwrap_or_else(|| panic!("a free time to move to: {taken}")).to_owned();
        assert!(taken.contains(">Move to "), "{taken}");
        let (_, moved) = sam.form_post("/api/admin/move", &[("id", &a.to_string()), ("start", &start), ("resource", "1")], &back).await;
        assert_eq!(moved, format!("/admin/bookings/{a}?moved=1"));
        // Completed and no-show are offered once the booking has started, not before.
        assert!(!html.contains("Mark completed") && !html.contains("Mark no-show"), "{html}");
        app.clock.set(parse_time(&london(2, 23, 0)).timestamp());
        let (_, _, html) = sam.page(&format!("/admin/bookings/{a}")).await;
        assert!(html.contains("Mark completed") && html.contains("Mark no-show"), "{html}");
        let r = sam.send(Method::GET, "/api/v1/stats", None).await;
        assert_eq!(r.json["totals"][0]["booked"], 2, "{}", r.json);
        let r = sam.send(Method::GET, "/metrics", None).await;
        let text = r.headers.get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(text.starts_with("text/plain"), "{text}");
    }
}
