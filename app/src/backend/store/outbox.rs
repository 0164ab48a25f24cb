//! The outbox: the messages a change owes its customer, written in the
//! change's own transaction, and the dispatcher's statements that take,
//! send and settle them (see migration 0012).

use sqlx::{FromRow, Postgres, Sqlite, Transaction};
use std::future::Future;

use super::DbResult;
use super::{query, query_as, query_scalar};

/// What a message tells its customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    /// A booking made at once (by the customer, or by staff for them).
    Booked,
    /// A hold confirmed.
    Confirmed,
    /// Cancelled by the customer.
    Cancelled,
    /// Cancelled by the venue; the detail says why.
    VenueCancelled,
    /// Moved by the customer; the detail is the earlier time.
    Rescheduled,
    /// Moved by the venue; the detail is the earlier time.
    Moved,
    /// The booking is soon.
    Reminder,
    /// A time came free for a waitlist entry; the booking is the hold
    /// kept for the customer to confirm.
    WaitlistOffer,
}

impl MessageKind {
    pub const ALL: [MessageKind; 8] = [
        MessageKind::Booked,
        MessageKind::Confirmed,
        MessageKind::Cancelled,
        MessageKind::VenueCancelled,
        MessageKind::Rescheduled,
        MessageKind::Moved,
        MessageKind::Reminder,
        MessageKind::WaitlistOffer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Booked => "booked",
            MessageKind::Confirmed => "confirmed",
            MessageKind::Cancelled => "cancelled",
            MessageKind::VenueCancelled => "venue_cancelled",
            MessageKind::Rescheduled => "rescheduled",
            MessageKind::Moved => "moved",
            MessageKind::Reminder => "reminder",
            MessageKind::WaitlistOffer => "waitlist_offer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a message is on its way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageState {
    /// Waiting for its due time, or for a dispatcher.
    Pending,
    Sent,
    /// Gave up after the last attempt; staff see it.
    Dead,
    /// A reminder whose booking was cancelled or moved before it went.
    Dropped,
}

impl MessageState {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Pending => "pending",
            MessageState::Sent => "sent",
            MessageState::Dead => "dead",
            MessageState::Dropped => "dropped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            MessageState::Pending,
            MessageState::Sent,
            MessageState::Dead,
            MessageState::Dropped,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

super::rows::read_by_name!(MessageKind, "message kind");
super::rows::read_by_name!(MessageState, "message state");

#[derive(Clone, Debug, FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub booking_id: i64,
    #[sqlx(try_from = "String")]
    pub kind: MessageKind,
    pub starts_at: i64,
    pub ends_at: i64,
    pub detail: Option<String>,
    pub created_at: i64,
    pub due_at: i64,
    #[sqlx(try_from = "String")]
    pub state: MessageState,
    pub attempts: i64,
    pub claimed_until: Option<i64>,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
}

/// The confirmed bookings whose reminder is due at `$1` (see
/// `write_due_reminders`): per venue, those starting within its reminder
/// time (a range of the venue's bookings by start), with no message about
/// them written since that time began and no reminder yet.
const DUE_REMINDERS: &str = "FROM venues v JOIN bookings b ON b.venue_id = v.id \
     WHERE v.reminder_minutes > 0 AND b.status = 'confirmed' \
     AND b.starts_at > $1 AND b.starts_at <= $1 + v.reminder_minutes * 60 \
     AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.booking_id = b.id \
         AND o.state <> 'dropped' \
         AND (o.kind = 'reminder' OR o.created_at > b.starts_at - v.reminder_minutes * 60))";

const MESSAGE_COLUMNS: &str = "id, booking_id, kind, starts_at, ends_at, detail, created_at, \
     due_at, state, attempts, claimed_until, last_error, sent_at";

/// A message a change owes, due at once.
#[derive(Clone, Copy, Debug)]
pub struct NewMessage<'a> {
    pub booking_id: i64,
    pub kind: MessageKind,
    pub starts_at: i64,
    pub ends_at: i64,
    pub detail: Option<&'a str>,
    pub now: i64,
}

/// How many messages are in each state, and how long the oldest due one
/// has waited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromRow)]
pub struct QueueRow {
    pub pending: i64,
    pub due: i64,
    pub dead: i64,
    /// When the oldest message due now became due; none when none is.
    pub oldest_due: Option<i64>,
}

/// The outbox's statements.
pub trait Outbox: Send {
    fn insert_message(&mut self, m: &NewMessage<'_>) -> impl Future<Output = DbResult<()>> + Send;

    /// A booking's messages, oldest first.
    fn messages_of(
        &mut self,
        booking: i64,
    ) -> impl Future<Output = DbResult<Vec<MessageRow>>> + Send;

    /// The messages of a venue's bookings in a state, newest first.
    fn messages_at(
        &mut self,
        venue: i64,
        state: MessageState,
        limit: i64,
    ) -> impl Future<Output = DbResult<Vec<MessageRow>>> + Send;

    /// A booking's reminder that has not gone yet will not: the booking
    /// was cancelled or moved.
    fn drop_reminder(&mut self, booking: i64) -> impl Future<Output = DbResult<()>> + Send;

    /// Writes a reminder for every confirmed booking that starts within
    /// its venue's reminder time of `now` and of which its customer has
    /// heard nothing since that time began (no reminder yet, and no
    /// confirmation or move that came later than a reminder would have).
    /// Returns how many it wrote.
    fn write_due_reminders(&mut self, now: i64) -> impl Future<Output = DbResult<u64>> + Send;

    /// Whether `write_due_reminders` would write any: read first, so that
    /// a round with nothing to do takes no write lock.
    fn reminders_due(&mut self, now: i64) -> impl Future<Output = DbResult<bool>> + Send;

    /// Whether a message is due that no dispatcher holds.
    fn messages_due(&mut self, now: i64) -> impl Future<Output = DbResult<bool>> + Send;

    /// Takes up to `limit` due messages that no other dispatcher holds,
    /// until `until`, counting the attempt. On Postgres the rows another
    /// dispatcher is taking at the same moment are skipped, not waited for.
    fn claim_due(
        &mut self,
        now: i64,
        until: i64,
        limit: i64,
    ) -> impl Future<Output = DbResult<Vec<MessageRow>>> + Send;

    /// Marks a message sent, if this dispatcher's claim (`attempt`) is still
    /// the last one.
    fn mark_sent(
        &mut self,
        id: i64,
        attempt: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<bool>> + Send;

    /// After a failed attempt: due again at `retry_at`, or dead without one.
    fn mark_failed(
        &mut self,
        id: i64,
        attempt: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> impl Future<Output = DbResult<bool>> + Send;

    /// A reminder found out of date when its turn came.
    fn mark_dropped(
        &mut self,
        id: i64,
        attempt: i64,
    ) -> impl Future<Output = DbResult<bool>> + Send;

    /// The queue at `now`.
    fn queue(&mut self, now: i64) -> impl Future<Output = DbResult<QueueRow>> + Send;

    /// Bookings whose messages do not tell their story: a confirmed (or
    /// completed, or no-show) booking has exactly one booked or confirmed
    /// message and no cancellation; a cancelled one has a cancellation
    /// exactly when it had been confirmed; a hold has none.
    fn untold(&mut self) -> impl Future<Output = DbResult<Vec<i64>>> + Send;
}

/// One body per statement for both databases: see the module `store`.
/// `$skip` ends the subquery that picks due rows: Postgres skips rows
/// another transaction has locked; SQLite has one writer at a time.
macro_rules! impl_outbox {
    ($db:ty, $skip:literal) => {
        impl<'c> Outbox for Transaction<'c, $db> {
            async fn insert_message(&mut self, m: &NewMessage<'_>) -> DbResult<()> {
                query::<$db>(
                    "INSERT INTO outbox (booking_id, kind, starts_at, ends_at, detail, created_at, due_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(m.booking_id)
                .bind(m.kind.as_str())
                .bind(m.starts_at)
                .bind(m.ends_at)
                .bind(m.detail)
                .bind(m.now)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn messages_of(&mut self, booking: i64) -> DbResult<Vec<MessageRow>> {
                query_as::<$db, MessageRow>(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM outbox WHERE booking_id = $1 ORDER BY id"
                ))
                .bind(booking)
                .fetch_all(&mut **self)
                .await
            }

            async fn messages_at(
                &mut self,
                venue: i64,
                state: MessageState,
                limit: i64,
            ) -> DbResult<Vec<MessageRow>> {
                query_as::<$db, MessageRow>(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM outbox WHERE state = $2 AND booking_id IN \
                     (SELECT id FROM bookings WHERE venue_id = $1) ORDER BY id DESC LIMIT $3"
                ))
                .bind(venue)
                .bind(state.as_str())
                .bind(limit)
                .fetch_all(&mut **self)
                .await
            }

            async fn drop_reminder(&mut self, booking: i64) -> DbResult<()> {
                query::<$db>(
                    "UPDATE outbox SET state = 'dropped', claimed_until = NULL \
                     WHERE booking_id = $1 AND kind = 'reminder' AND state = 'pending'",
                )
                .bind(booking)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn write_due_reminders(&mut self, now: i64) -> DbResult<u64> {
                query::<$db>(&format!(
                    "INSERT INTO outbox (booking_id, kind, starts_at, ends_at, created_at, due_at) \
                     SELECT b.id, 'reminder', b.starts_at, b.ends_at, $1, $1 {DUE_REMINDERS} \
                     ON CONFLICT (booking_id) WHERE kind = 'reminder' AND state <> 'dropped' DO NOTHING"
                ))
                .bind(now)
                .execute(&mut **self)
                .await
                .map(|r| r.rows_affected())
            }

            async fn reminders_due(&mut self, now: i64) -> DbResult<bool> {
                query_scalar::<$db, bool>(&format!(
                    "SELECT EXISTS (SELECT 1 {DUE_REMINDERS})"
                ))
                .bind(now)
                .fetch_one(&mut **self)
                .await
            }

            async fn messages_due(&mut self, now: i64) -> DbResult<bool> {
                query_scalar::<$db, bool>(
                    "SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending' AND due_at <= $1 \
                     AND (claimed_until IS NULL OR claimed_until <= $1))",
                )
                .bind(now)
                .fetch_one(&mut **self)
                .await
            }

            async fn claim_due(
                &mut self,
                now: i64,
                until: i64,
                limit: i64,
            ) -> DbResult<Vec<MessageRow>> {
                let mut rows = query_as::<$db, MessageRow>(&format!(
                    "UPDATE outbox SET claimed_until = $2, attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND due_at <= $1 \
                         AND (claimed_until IS NULL OR claimed_until <= $1) \
                         ORDER BY due_at, id LIMIT $3{}) \
                     RETURNING {MESSAGE_COLUMNS}",
                    $skip
                ))
                .bind(now)
                .bind(until)
                .bind(limit)
                .fetch_all(&mut **self)
                .await?;
                rows.sort_by_key(|r| (r.due_at, r.id));
                Ok(rows)
            }

            async fn mark_sent(&mut self, id: i64, attempt: i64, now: i64) -> DbResult<bool> {
                query::<$db>(
                    "UPDATE outbox SET state = 'sent', sent_at = $3, claimed_until = NULL, \
                     last_error = NULL WHERE id = $1 AND attempts = $2 AND state = 'pending'",
                )
                .bind(id)
                .bind(attempt)
                .bind(now)
                .execute(&mut **self)
                .await
                .map(|r| r.rows_affected() == 1)
            }

            async fn mark_failed(
                &mut self,
                id: i64,
                attempt: i64,
                error: &str,
                retry_at: Option<i64>,
            ) -> DbResult<bool> {
                query::<$db>(
                    "UPDATE outbox SET claimed_until = NULL, last_error = $3, \
                     state = CASE WHEN $4 IS NULL THEN 'dead' ELSE 'pending' END, \
                     due_at = COALESCE($4, due_at) \
                     WHERE id = $1 AND attempts = $2 AND state = 'pending'",
                )
                .bind(id)
                .bind(attempt)
                .bind(error)
                .bind(retry_at)
                .execute(&mut **self)
                .await
                .map(|r| r.rows_affected() == 1)
            }

            async fn mark_dropped(&mut self, id: i64, attempt: i64) -> DbResult<bool> {
                query::<$db>(
                    "UPDATE outbox SET state = 'dropped', claimed_until = NULL \
                     WHERE id = $1 AND attempts = $2 AND state = 'pending'",
                )
                .bind(id)
                .bind(attempt)
                .execute(&mut **self)
                .await
                .map(|r| r.rows_affected() == 1)
            }

            async fn queue(&mut self, now: i64) -> DbResult<QueueRow> {
                query_as::<$db, QueueRow>(
                    "SELECT \
                     COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS pending, \
                     COALESCE(SUM(CASE WHEN state = 'pending' AND due_at <= $1 THEN 1 ELSE 0 END), 0) AS due, \
                     COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS dead, \
                     MIN(CASE WHEN state = 'pending' AND due_at <= $1 THEN created_at END) AS oldest_due \
                     FROM outbox WHERE state IN ('pending', 'dead')",
                )
                .bind(now)
                .fetch_one(&mut **self)
                .await
            }

            async fn untold(&mut self) -> DbResult<Vec<i64>> {
                query_scalar::<$db, i64>(
                    "SELECT b.id FROM bookings b LEFT JOIN \
                     (SELECT booking_id, \
                        SUM(CASE WHEN kind IN ('booked', 'confirmed') THEN 1 ELSE 0 END) AS made, \
                        SUM(CASE WHEN kind IN ('cancelled', 'venue_cancelled') THEN 1 ELSE 0 END) AS ended \
                      FROM outbox GROUP BY booking_id) o ON o.booking_id = b.id \
                     WHERE CASE \
                       WHEN b.status IN ('confirmed', 'completed', 'no_show') \
                         THEN COALESCE(o.made, 0) <> 1 OR COALESCE(o.ended, 0) <> 0 \
                       WHEN b.status = 'cancelled' \
                         THEN COALESCE(o.made, 0) > 1 OR COALESCE(o.ended, 0) <> COALESCE(o.made, 0) \
                       ELSE COALESCE(o.made, 0) <> 0 OR COALESCE(o.ended, 0) <> 0 END \
                     ORDER BY b.id",
                )
                .fetch_all(&mut **self)
                .await
            }
        }
    };
}

impl_outbox!(Sqlite, "");
impl_outbox!(Postgres, " FOR UPDATE SKIP LOCKED");
