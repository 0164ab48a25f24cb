//! The waitlist over HTTP: the API's join, list and leave, its refusals,
//! the offer a cancellation makes (and its email), staff's list; and the
//! pages without JavaScript: a full day offers the waitlist, My bookings
//! lists and leaves it, the staff day shows the line.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The demo spa, its head massage and Anna (the demo data's first of each).
const SPA: i64 = 1;
const HEAD: i64 = 1;
const ANNA: i64 = 1;

fn head_at(start: &str) -> Value {
    json!({"venue_id": SPA, "service_id": HEAD, "resource_id": ANNA, "start": start})
}

fn wish(date: &str, from: &str, to: &str) -> Value {
    json!({"venue_id": SPA, "service_id": HEAD, "resource_id": ANNA, "date": date, "from": from, "to": to})
}

on_both_databases! {
    async fn the_api_joins_refuses_offers_a_freed_time_and_leaves(app) {
        let mut bob = app.customer("bob.waits@example.com").await;
        let mut alice = app.customer("alice.waits@example.com").await;
        let booked = bob.send(Method::POST, "/api/v1/bookings", Some(head_at(&london(2, 10, 0)))).await;
        assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.json);
        let bobs = booked.json["id"].as_i64().unwrap();

        let joined = alice.send(Method::POST, "/api/v1/waitlist", Some(wish("2026-06-02", "10:00", "10:00"))).await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.json);
        assert_eq!(joined.json["state"], "waiting");
        assert_eq!(joined.json["ahead"], 0);
        assert_eq!(joined.json["what"], "Head and shoulder massage");
        assert_eq!(joined.json["with"], "Anna");
        let entry = joined.json["id"].as_i64().unwrap();

        // Refusals: each a clear 4xx naming what is wrong, nothing written.
        for (body, status, code, field) in [
            (wish("2026-06-02", "10:00", "10:00"), StatusCode::CONFLICT, "duplicate", None),
            (wish("2026-05-01", "", ""), StatusCode::UNPROCESSABLE_ENTITY, "refused", None),
            (wish("2026-06-07", "", ""), StatusCode::UNPROCESSABLE_ENTITY, "refused", None),
            (wish("2026-13-01", "", ""), StatusCode::BAD_REQUEST, "invalid", Some("date")),
            (wish("2026-06-02", "25:00", ""), StatusCode::BAD_REQUEST, "invalid", Some("from")),
            (wish("2026-06-02", "11:00", "10:00"), StatusCode::BAD_REQUEST, "invalid", Some("to")),
            (json!({"venue_id": SPA, "service_id": HEAD, "party_size": 2, "date": "2026-06-02"}), StatusCode::BAD_REQUEST, "invalid", Some("service_id")),
            (json!({"venue_id": 999, "service_id": HEAD, "date": "2026-06-02"}), StatusCode::BAD_REQUEST, "invalid", Some("venue_id")),
        ] {
            let r = alice.send(Method::POST, "/api/v1/waitlist", Some(body.clone())).await;
            assert_eq!(r.status, status, "{body}: {}", r.json);
            assert_eq!(r.json["error"], code, "{body}: {}", r.json);
            if let Some(field) = field {
                assert_eq!(r.json["field"], field, "{body}: {}", r.json);
            }
        }
        assert_eq!(app.client().send(Method::POST, "/api/v1/waitlist", Some(wish("2026-06-02", "", ""))).await.status, StatusCode::UNAUTHORIZED);
        let mine = alice.send(Method::GET, "/api/v1/waitlist", None).await;
        assert_eq!(mine.json.as_array().unwrap().len(), 1, "{}", mine.json);

        // Staff see the line; a customer may not.
        let mut staff = app.client();
        staff.log_in("staff@slotkeeper.test", "slotkeeper-demo").await;
        let line = staff.send(Method::GET, &format!("/api/v1/venues/{SPA}/waitlist?date=2026-06-02"), None).await;
        assert_eq!(line.status, StatusCode::OK, "{}", line.json);
        assert_eq!(line.json[0]["customer_email"], "alice.waits@example.com");
        assert_eq!(alice.send(Method::GET, &format!("/api/v1/venues/{SPA}/waitlist?date=2026-06-02"), None).await.status, StatusCode::FORBIDDEN);
        let day = staff.send(Method::GET, &format!("/api/v1/venues/{SPA}/day?date=2026-06-02"), None).await;
        assert_eq!(day.json["waitlist"][0]["id"], entry, "the day view carries the line");

        // Bob cancels: the time is held for Alice, who is emailed and confirms it.
        assert!(bob.send(Method::DELETE, &format!("/api/v1/bookings/{bobs}"), None).await.status.is_success());
        let offered = alice.send(Method::GET, "/api/v1/waitlist", None).await.json[0].clone();
        assert_eq!(offered["state"], "offered", "{offered}");
        let hold = offered["hold"].as_i64().unwrap();
        assert!(offered["hold_expires_at"].is_string());
        let mail = app.wait_for_mail(&["alice.waits@example.com", "A time came free"]).await;
        assert!(mail.contains(&format!("/holds/{hold}")), "{mail}");
        assert!(!mail.contains("text/calendar"), "no calendar file before it is booked: {mail}");
        // Nobody else can take it meanwhile.
        let taken = bob.send(Method::POST, "/api/v1/bookings", Some(head_at(&london(2, 10, 0)))).await;
        assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.json);
        let confirmed = alice.send(Method::POST, &format!("/api/v1/holds/{hold}/confirm"), None).await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.json);
        assert_eq!(alice.send(Method::GET, "/api/v1/waitlist", None).await.json[0]["state"], "booked");

        // Leaving: once, twice (the same answer), and another's or no entry: 404.
        let other = alice.send(Method::POST, "/api/v1/waitlist", Some(wish("2026-06-03", "", ""))).await;
        assert_eq!(other.status, StatusCode::CREATED, "{}", other.json);
        let other_id = other.json["id"].as_i64().unwrap();
        assert_eq!(other.json["state"], "offered", "a free time in range is offered at once");
        for _ in 0..2 {
            let left = alice.send(Method::DELETE, &format!("/api/v1/waitlist/{other_id}"), None).await;
            assert_eq!(left.status, StatusCode::OK, "{}", left.json);
            assert_eq!(left.json["state"], "left");
        }
        let released = alice.my_booking(&other.json["hold"].to_string()).await;
        assert_eq!(released["status"], "cancelled", "the time held goes back when leaving");
        assert_eq!(bob.send(Method::DELETE, &format!("/api/v1/waitlist/{other_id}"), None).await.status, StatusCode::NOT_FOUND);
        assert_eq!(alice.send(Method::DELETE, "/api/v1/waitlist/999999", None).await.status, StatusCode::NOT_FOUND);
    }

    async fn without_javascript_a_full_day_offers_the_waitlist_and_my_bookings_lists_and_leaves_it(app) {
        // Anna's Tuesday, every head massage start taken.
        let mut fillers = Vec::new();
        for i in 0..3 {
            fillers.push(app.customer(&format!("filler{i}@example.com")).await);
        }
        let starts = [(9, 0), (9, 45), (10, 30), (11, 15), (12, 0), (14, 0), (14, 45), (15, 30), (16, 15), (17, 0)];
        for (i, (h, m)) in starts.iter().enumerate() {
            let r = fillers[i % 3].send(Method::POST, "/api/v1/bookings", Some(head_at(&london(2, *h, *m)))).await;
            assert_eq!(r.status, StatusCode::CREATED, "{h}:{m}: {}", r.json);
        }
        let mut c = app.customer("carol.waits@example.com").await;
        let page = format!("/venues/{SPA}?service={HEAD}&resource={ANNA}&date=2026-06-02");
        let (status, _, html) = c.page(&page).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Fully booked on Tuesday 2 June."), "{html}");
        assert!(html.contains("Join the waitlist for Tuesday 2 June") && html.contains("/api/join_waitlist"), "{html}");

        // A range that ends before it starts comes back to the page.
        let bad = [("venue", "1"), ("date", "2026-06-02"), ("service", "1"), ("resource", "1"), ("from", "12:00"), ("to", "09:00")];
        let (_, back) = c.form_post("/api/join_waitlist", &bad, &page).await;
        assert!(back.starts_with("/venues/1") && back.contains("__err"), "{back}");
        let (_, _, html) = c.page(&back).await;
        assert!(html.contains("The latest start is not before the earliest."), "{html}");

        let fields = [("venue", "1"), ("date", "2026-06-02"), ("service", "1"), ("resource", "1"), ("from", ""), ("to", "")];
        let (status, location) = c.form_post("/api/join_waitlist", &fields, &page).await;
        assert!(status.is_redirection(), "{status}");
        assert!(location.starts_with("/bookings?waiting="), "{location}");
        let (_, _, mine) = c.page(&location).await;
        assert!(mine.contains("You are on the waitlist."), "{mine}");
        assert!(mine.contains("Head and shoulder massage at Harbour Spa, Tuesday 2 June"), "{mine}");
        assert!(mine.contains("Waiting: you are next in line."), "{mine}");
        assert!(mine.contains("With Anna · any time"), "{mine}");

        let mut staff = app.client();
        staff.log_in("staff@slotkeeper.test", "slotkeeper-demo").await;
        let (_, _, day) = staff.page(&format!("/admin/venues/{SPA}/day?date=2026-06-02")).await;
        assert!(day.contains("carol.waits@example.com") && day.contains(">waiting<"), "{day}");

        let id = location.trim_start_matches("/bookings?waiting=").split('#').next().unwrap().to_owned();
        let (_, left) = c.form_post("/api/leave_waitlist", &[("id", &id)], "/bookings").await;
        assert!(left.starts_with(&format!("/bookings?left={id}")), "{left}");
        let (_, _, mine) = c.page(&left).await;
        assert!(mine.contains("You left the waitlist.") && mine.contains("Earlier entries"), "{mine}");
        let (_, _, day) = staff.page(&format!("/admin/venues/{SPA}/day?date=2026-06-02")).await;
        assert!(day.contains("left the waitlist"), "{day}");
    }
}
