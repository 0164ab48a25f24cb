//! `/metrics` in Prometheus text: booking activity of every instance (from
//! the database) and this instance's engine counters and pools. Readable
//! with `Authorization: Bearer <token>` when `SLOTKEEPER_METRICS_TOKEN` is
//! set (every venue), or with a staff session (the venues it runs).

use crate::api::{admin::StaffUser, ApiError};
use app::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::atomic::Ordering;

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub async fn metrics(
    State(state): State<AppState>,
    token: Option<String>,
    req: Request,
) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let by_token =
        matches!((token.as_deref(), bearer), (Some(t), Some(b)) if !t.is_empty() && t == b);
    // The token sees every venue; a staff member only the venues they run.
    let viewer = if by_token {
        None
    } else {
        let (mut parts, _) = req.into_parts();
        match StaffUser::from_request_parts(&mut parts, &state).await {
            Ok(StaffUser(staff)) => Some(staff),
            Err(e) => return e.into_response(),
        }
    };
    let totals = match state.engine.stat_totals(viewer).await {
        Ok(t) => t,
        Err(e) => return ApiError(e).into_response(),
    };
    let mut out = String::new();
    out.push_str("# HELP slotkeeper_booking_events_total Booking activity by venue and kind, all instances.\n");
    out.push_str("# TYPE slotkeeper_booking_events_total counter\n");
    for (venue, kind, n) in totals {
        let _ = writeln!(
            out,
            "slotkeeper_booking_events_total{{venue=\"{}\",kind=\"{kind}\"}} {n}",
            label(&venue)
        );
    }
    let c = state.engine.counters();
    for (name, help, v) in [
        (
            "slotkeeper_transaction_retries_total",
            "Transactions tried again after a transient failure (this instance).",
            c.retries.load(Ordering::Relaxed),
        ),
        (
            "slotkeeper_fast_refusals_total",
            "Requests refused by the read-only look before the write transaction (this instance).",
            c.fast_refusals.load(Ordering::Relaxed),
        ),
        (
            "slotkeeper_remembered_refusals_total",
            "Of the fast refusals, those answered from slots remembered as taken, without a database read (this instance).",
            c.remembered_refusals.load(Ordering::Relaxed),
        ),
        (
            "slotkeeper_unique_violations_total",
            "Attempts stopped by a unique index (this instance).",
            c.unique_violations.load(Ordering::Relaxed),
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
        );
    }
    let o = &c.outcomes;
    out.push_str("# HELP slotkeeper_booking_attempts_total Booking and hold attempts by outcome (this instance).\n");
    out.push_str("# TYPE slotkeeper_booking_attempts_total counter\n");
    for (outcome, n) in [
        ("booked", &o.booked),
        ("held", &o.held),
        ("taken", &o.taken),
        ("refused", &o.refused),
        ("failed", &o.failed),
    ] {
        let _ = writeln!(
            out,
            "slotkeeper_booking_attempts_total{{outcome=\"{outcome}\"}} {}",
            n.load(Ordering::Relaxed)
        );
    }
    for (name, help, h) in [
        (
            "slotkeeper_transaction_seconds",
            "Engine transactions, lock waits included (this instance).",
            &c.transaction_seconds,
        ),
        (
            "slotkeeper_lock_wait_seconds",
            "Time booking transactions waited for their locks (this instance).",
            &c.lock_wait_seconds,
        ),
    ] {
        let (buckets, sum, count) = h.snapshot();
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, n) in buckets {
            let le = bound.map_or("+Inf".to_owned(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
    let m = &c.messages;
    out.push_str("# HELP slotkeeper_messages_total Messages to customers by how their attempts ended (this instance's dispatcher).\n");
    out.push_str("# TYPE slotkeeper_messages_total counter\n");
    for (outcome, n) in [("sent", &m.sent), ("failed", &m.failed), ("dead", &m.dead)] {
        let _ = writeln!(
            out,
            "slotkeeper_messages_total{{outcome=\"{outcome}\"}} {}",
            n.load(Ordering::Relaxed)
        );
    }
    // The queue is every venue's: for the token's scraper only.
    if by_token {
        match state.engine.outbox_queue().await {
            Ok(q) => {
                let age = q
                    .oldest_due
                    .map_or(0, |t| (state.engine.clock().now() - t).max(0));
                let _ = writeln!(
                    out,
                    "# HELP slotkeeper_outbox_messages Messages in the outbox by state, all instances.\n\
                     # TYPE slotkeeper_outbox_messages gauge\n\
                     slotkeeper_outbox_messages{{state=\"pending\"}} {}\n\
                     slotkeeper_outbox_messages{{state=\"due\"}} {}\n\
                     slotkeeper_outbox_messages{{state=\"dead\"}} {}\n\
                     # HELP slotkeeper_outbox_oldest_due_seconds How long the oldest message due to be sent has waited since it was written.\n\
                     # TYPE slotkeeper_outbox_oldest_due_seconds gauge\n\
                     slotkeeper_outbox_oldest_due_seconds {age}",
                    q.pending, q.due, q.dead
                );
            }
            Err(e) => return ApiError(e.into()).into_response(),
        }
    }
    out.push_str("# HELP slotkeeper_db_connections Database pool connections of this instance.\n");
    out.push_str("# TYPE slotkeeper_db_connections gauge\n");
    for (pool, size, idle) in state.engine.db().pool_stats() {
        let in_use = (size as usize).saturating_sub(idle);
        let _ = writeln!(
            out,
            "slotkeeper_db_connections{{pool=\"{pool}\",state=\"idle\"}} {idle}"
        );
        let _ = writeln!(
            out,
            "slotkeeper_db_connections{{pool=\"{pool}\",state=\"in_use\"}} {in_use}"
        );
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
        .into_response()
}
