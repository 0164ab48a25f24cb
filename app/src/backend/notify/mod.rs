//! Telling customers what happened to their bookings: the dispatcher that
//! sends the outbox's due messages as email.
//!
//! The booking engine writes a message into the outbox in the same
//! transaction as the change it tells of (`backend::store::Outbox`), and
//! sends nothing itself. The dispatcher, in every app instance, takes due
//! messages in a short transaction of its own (on Postgres `FOR UPDATE
//! SKIP LOCKED`, so that instances share the work and never take the same
//! row at once; on SQLite the one process), sends each after that
//! transaction, and marks it sent. A claim lasts `LEASE`: an instance that
//! dies between sending and marking leaves the row to be taken again when
//! the claim runs out, so delivery is at least once, and every attempt
//! carries the same Message-ID for receivers to recognise. A failed
//! attempt is tried again later (`backoff`), up to `MAX_ATTEMPTS`; then
//! the message is dead, and staff see it.
//!
//! May use: `backend::store`, `backend::db`, `backend::engine` (its clock,
//! counters and read models), `backend::views`, and `domain`.

mod ics;
mod letter;

pub use ics::{calendar_file, CalendarUse};
pub use letter::Letter;

use crate::backend::config::MailSettings;
use crate::backend::db::{with_backend, Backend};
use crate::backend::engine::{booking_from_row, retrying, settle, Engine, Failure};
use crate::backend::store::prelude::*;
use crate::backend::store::{MessageKind, MessageRow, QueueRow};
use crate::backend::views::booking_views;
use crate::domain::booking::{BookingError, BookingStatus};
use crate::domain::ids::BookingId;
use crate::domain::schedule;
use lettre::message::Mailbox;
use lettre::transport::file::AsyncFileTransport;
use lettre::transport::stub::AsyncStubTransport;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

/// Attempts of one message before it is dead.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a dispatcher's claim on a message lasts: longer than one SMTP
/// attempt may take (its timeout is a minute).
pub const LEASE_SECONDS: i64 = 120;
/// Messages taken at once by one dispatcher round.
pub const BATCH: i64 = 20;
/// How long before its start a calendar reminds of a booking.
const CALENDAR_ALARM_MINUTES: i64 = 60;

/// When a message that failed its `attempt`th time is tried again: after
/// 30 seconds, then twice as long each time, at most an hour.
pub fn backoff(attempt: i64) -> i64 {
    let doublings = u32::try_from(attempt.clamp(1, 8) - 1).unwrap_or(0);
    (30i64 << doublings).min(3600)
}

/// Where email goes.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a folder: the embedded default, without a server.
    Folder(AsyncFileTransport<Tokio1Executor>, PathBuf),
    /// lettre's stub transport: keeps what it is given (tests).
    Stub(AsyncStubTransport),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Mailer {
    /// The mailer the settings name: their SMTP server, else their folder
    /// (made if missing).
    pub fn from_settings(s: &MailSettings) -> Result<Self, String> {
        match &s.smtp_url {
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|b| Mailer::Smtp(b.build()))
                .map_err(|e| format!("SLOTKEEPER_SMTP_URL: {e}")),
            None => {
                std::fs::create_dir_all(&s.folder).map_err(|e| {
                    format!(
                        "SLOTKEEPER_MAIL_DIR: cannot make {}: {e}",
                        s.folder.display()
                    )
                })?;
                Ok(Mailer::Folder(
                    AsyncFileTransport::new(&s.folder),
                    s.folder.clone(),
                ))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(_) => "email through SMTP".to_owned(),
            Mailer::Folder(_, dir) => format!("email as .eml files in {}", dir.display()),
            Mailer::Stub(_) => "email kept by a stub".to_owned(),
        }
    }

    async fn send(&self, email: Message) -> Result<(), String> {
        match self {
            Mailer::Smtp(t) => t.send(email).await.map(|_| ()).map_err(|e| e.to_string()),
            Mailer::Folder(t, _) => t.send(email).await.map(|_| ()).map_err(|e| e.to_string()),
            Mailer::Stub(t) => t.send(email).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// What one round of the dispatcher did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Reminders that fell due and were written.
    pub reminders: u64,
    /// Messages taken (a full batch: more may be due at once).
    pub claimed: usize,
    pub sent: usize,
    /// Attempts that failed and will be tried again.
    pub failed: usize,
    /// Messages given up on in this round.
    pub dead: usize,
    /// Reminders found out of date.
    pub dropped: usize,
    /// Messages sent whose claim ran out meanwhile, so that another
    /// dispatcher took them too (delivery is at least once).
    pub overtaken: usize,
}

/// Sends the outbox's due messages (see the module).
#[derive(Clone, Debug)]
pub struct Dispatcher {
    engine: Engine,
    mailer: Mailer,
    from: Mailbox,
    public_url: String,
}

/// How a message's attempt ended.
enum Sending {
    Sent,
    /// Worth trying again.
    Failed(String),
    /// Never going to work (no such booking, an address mail cannot go to).
    Undeliverable(String),
    /// A reminder of a time the booking no longer has.
    OutOfDate,
}

impl Dispatcher {
    /// `from` is checked by the settings (`SLOTKEEPER_MAIL_FROM`).
    pub fn new(
        engine: Engine,
        mailer: Mailer,
        from: &str,
        public_url: &str,
    ) -> Result<Self, String> {
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("SLOTKEEPER_MAIL_FROM: {e}"))?;
        Ok(Self {
            engine,
            mailer,
            from,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// One round: writes the reminders that fell due, then takes the due
    /// messages and sends each.
    pub async fn run_once(&self) -> Result<Round, BookingError> {
        let db = self.engine.db();
        let counters = self.engine.counters();
        let now = self.engine.clock().now();
        // Read first: a round with nothing to do takes no write lock (on
        // SQLite, the one writer the bookings need).
        let (reminders_due, messages_due) = with_backend!(db, |b| {
            async {
                let mut tx = b.begin_read().await?;
                Ok::<_, Failure>((tx.reminders_due(now).await?, tx.messages_due(now).await?))
            }
            .await
            .map_err(settle)
        })?;
        let reminders = if reminders_due {
            with_backend!(db, |b| {
                retrying(counters, || async {
                    let mut tx = b.begin_write().await?;
                    let n = tx.write_due_reminders(now).await?;
                    tx.commit().await?;
                    Ok::<u64, Failure>(n)
                })
                .await
                .map_err(settle)
            })?
        } else {
            0
        };
        let claimed = if messages_due || reminders > 0 {
            with_backend!(db, |b| {
                retrying(counters, || async {
                    let mut tx = b.begin_write().await?;
                    let rows = tx.claim_due(now, now + LEASE_SECONDS, BATCH).await?;
                    tx.commit().await?;
                    Ok::<Vec<MessageRow>, Failure>(rows)
                })
                .await
                .map_err(settle)
            })?
        } else {
            Vec::new()
        };
        let mut round = Round {
            reminders,
            claimed: claimed.len(),
            ..Round::default()
        };
        for m in claimed {
            let sending = self.attempt(&m, now).await;
            let now = self.engine.clock().now();
            let how = match &sending {
                Sending::Sent => Settle::Sent(now),
                Sending::OutOfDate => Settle::Dropped,
                Sending::Failed(e) if m.attempts < MAX_ATTEMPTS => {
                    Settle::Retry(e, now + backoff(m.attempts))
                }
                Sending::Failed(e) | Sending::Undeliverable(e) => Settle::Dead(e),
            };
            if !self.settle(&m, how).await? {
                // Its claim ran out and another dispatcher took it meanwhile.
                tracing::warn!(message = m.id, "a message's claim ran out while sending");
                if matches!(how, Settle::Sent(_)) {
                    round.overtaken += 1;
                }
                continue;
            }
            let c = &counters.messages;
            match how {
                Settle::Sent(_) => {
                    round.sent += 1;
                    c.sent.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        message = m.id,
                        booking = m.booking_id,
                        kind = m.kind.as_str(),
                        "message sent"
                    );
                }
                Settle::Dropped => round.dropped += 1,
                Settle::Retry(..) => round.failed += 1,
                Settle::Dead(_) => {
                    round.dead += 1;
                    c.dead.fetch_add(1, Ordering::Relaxed);
                }
            }
            if let Settle::Retry(e, _) | Settle::Dead(e) = how {
                c.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    message = m.id,
                    booking = m.booking_id,
                    attempt = m.attempts,
                    error = %e,
                    "sending a message failed"
                );
            }
        }
        Ok(round)
    }

    /// Reads what the message tells, and sends it.
    async fn attempt(&self, m: &MessageRow, now: i64) -> Sending {
        let letter = match self.letter(m, now).await {
            Ok(Some(l)) => l,
            Ok(None) => return Sending::OutOfDate,
            Err(Undeliverable(e)) => return Sending::Undeliverable(e),
        };
        let email = match letter.email(&self.from) {
            Ok(e) => e,
            Err(e) => return Sending::Undeliverable(format!("the message cannot be built: {e}")),
        };
        match self.mailer.send(email).await {
            Ok(()) => Sending::Sent,
            Err(e) => Sending::Failed(e),
        }
    }

    /// What the message tells, read now: the booking (at the time the
    /// message speaks of), its customer, the venue. `None` for a reminder
    /// whose booking is no longer confirmed at that time.
    async fn letter(&self, m: &MessageRow, now: i64) -> Result<Option<Letter>, Undeliverable> {
        let db = self.engine.db();
        let read = with_backend!(db, |b| read_facts(b, m.booking_id).await);
        let (mut booking, email, name) = match read {
            Ok(Some(found)) => found,
            Ok(None) => return Err(Undeliverable("its booking is gone".to_owned())),
            Err(e) => return Err(Undeliverable(format!("reading its booking failed: {e:?}"))),
        };
        if m.kind == MessageKind::Reminder
            && (booking.status != BookingStatus::Confirmed
                || booking.start.timestamp() != m.starts_at)
        {
            return Ok(None);
        }
        // An offer taken or gone before its turn came is not sent: its
        // confirmation tells the rest.
        if m.kind == MessageKind::WaitlistOffer
            && (booking.status != BookingStatus::Held
                || booking.hold_expires_at.is_none_or(|t| t.timestamp() <= now))
        {
            return Ok(None);
        }
        booking.start = schedule::to_datetime(m.starts_at);
        booking.end = schedule::to_datetime(m.ends_at);
        let view = match booking_views(db, vec![booking], now).await {
            Ok(mut v) => v
                .pop()
                .ok_or_else(|| Undeliverable("its venue is gone".to_owned()))?,
            Err(e) => return Err(Undeliverable(format!("reading its venue failed: {e}"))),
        };
        let to = match email.parse() {
            Ok(address) => Mailbox::new(Some(name.clone()), address),
            Err(e) => {
                return Err(Undeliverable(format!(
                    "the customer's address {email:?} is not one mail can go to: {e}"
                )))
            }
        };
        Ok(Some(Letter {
            message_id: m.id,
            kind: m.kind,
            view,
            detail: m.detail.clone(),
            to,
            customer_name: name,
            public_url: self.public_url.clone(),
            remind_before: Some(chrono::Duration::minutes(CALENDAR_ALARM_MINUTES)),
            stamp: schedule::to_datetime(m.created_at),
        }))
    }

    /// Writes how the attempt ended, if the claim is still this one's.
    async fn settle(&self, m: &MessageRow, how: Settle<'_>) -> Result<bool, BookingError> {
        let db = self.engine.db();
        with_backend!(db, |b| {
            retrying(self.engine.counters(), || async {
                let mut tx = b.begin_write().await?;
                let kept = match how {
                    Settle::Sent(now) => tx.mark_sent(m.id, m.attempts, now).await?,
                    Settle::Dropped => tx.mark_dropped(m.id, m.attempts).await?,
                    Settle::Retry(e, at) => {
                        tx.mark_failed(m.id, m.attempts, &clip(e), Some(at)).await?
                    }
                    Settle::Dead(e) => tx.mark_failed(m.id, m.attempts, &clip(e), None).await?,
                };
                tx.commit().await?;
                Ok::<bool, Failure>(kept)
            })
            .await
            .map_err(settle)
        })
    }
}

#[derive(Clone, Copy)]
enum Settle<'a> {
    Sent(i64),
    Dropped,
    Retry(&'a str, i64),
    Dead(&'a str),
}

struct Undeliverable(String);

/// An error as the outbox keeps it: at most 1,000 characters.
fn clip(e: &str) -> String {
    e.chars().take(1000).collect()
}

/// A booking and its customer's address and name.
async fn read_facts<B: Backend>(
    b: &B,
    booking: i64,
) -> Result<Option<(crate::domain::booking::Booking, String, String)>, Failure> {
    let mut tx = b.begin_read().await?;
    let Some(row) = tx.booking(booking).await? else {
        return Ok(None);
    };
    let Some(user) = tx.user(row.customer_id).await? else {
        return Ok(None);
    };
    let booking = booking_from_row(&mut tx, row).await?;
    Ok(Some((booking, user.email, user.display_name)))
}

impl Engine {
    /// A booking's messages, oldest first (no check of who asks: for the
    /// dispatcher, staff pages that checked, and tests).
    pub async fn messages_of(&self, booking: BookingId) -> Result<Vec<MessageRow>, BookingError> {
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                Ok::<_, Failure>(tx.messages_of(booking.0).await?)
            }
            .await
            .map_err(settle)
        })
    }

    /// The outbox's queue now, for `/metrics`.
    pub async fn outbox_queue(&self) -> Result<QueueRow, BookingError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                Ok::<_, Failure>(tx.queue(now).await?)
            }
            .await
            .map_err(settle)
        })
    }
}
