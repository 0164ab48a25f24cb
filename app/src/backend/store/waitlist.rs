//! The waitlist's statements: customers' wishes for a full day, the line
//! of a day in order, and what became of each (see migration 0013).

use sqlx::{FromRow, Postgres, Sqlite, Transaction};
use std::future::Future;

use super::DbResult;
use super::{query, query_as, query_scalar};
use crate::domain::waitlist::WaitlistState;

super::rows::read_by_name!(WaitlistState, "waitlist state");

#[derive(Clone, Debug, FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub customer_id: i64,
    pub venue_id: i64,
    pub service_id: Option<i64>,
    pub party_size: Option<i64>,
    pub resource_id: Option<i64>,
    /// The venue's local date, YYYY-MM-DD.
    pub day: String,
    pub from_minute: i64,
    pub to_minute: i64,
    #[sqlx(try_from = "String")]
    pub state: WaitlistState,
    pub hold_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const ENTRY_COLUMNS: &str = "id, customer_id, venue_id, service_id, party_size, resource_id, \
     day, from_minute, to_minute, state, hold_id, created_at, updated_at";

/// A wish to join the line with.
#[derive(Clone, Debug)]
pub struct NewEntry<'a> {
    pub customer_id: i64,
    pub venue_id: i64,
    pub service_id: Option<i64>,
    pub party_size: Option<i64>,
    pub resource_id: Option<i64>,
    pub day: &'a str,
    pub from_minute: i64,
    pub to_minute: i64,
    pub now: i64,
}

/// The waitlist's statements.
pub trait Waitlist: Send {
    fn insert_entry(&mut self, e: &NewEntry<'_>) -> impl Future<Output = DbResult<i64>> + Send;

    fn entry(&mut self, id: i64) -> impl Future<Output = DbResult<Option<EntryRow>>> + Send;

    /// The entry, its row locked until the transaction ends (Postgres), so
    /// that an offer and a customer leaving cannot both act on it.
    fn lock_entry(&mut self, id: i64) -> impl Future<Output = DbResult<Option<EntryRow>>> + Send;

    /// The customer's live (waiting or offered) entry for the same wish.
    fn same_wish(&mut self, e: &NewEntry<'_>)
        -> impl Future<Output = DbResult<Option<i64>>> + Send;

    /// How many live entries the customer has at the venue.
    fn live_entries(
        &mut self,
        customer: i64,
        venue: i64,
    ) -> impl Future<Output = DbResult<i64>> + Send;

    /// The line of a venue: its waiting entries in order, of one day or of
    /// every day from `first_day` on.
    fn waiting_on(
        &mut self,
        venue: i64,
        day: Option<&str>,
        first_day: &str,
        limit: i64,
    ) -> impl Future<Output = DbResult<Vec<EntryRow>>> + Send;

    /// A customer's entries, newest first.
    fn entries_of_customer(
        &mut self,
        customer: i64,
        limit: i64,
    ) -> impl Future<Output = DbResult<Vec<EntryRow>>> + Send;

    /// Every entry of a venue's day, in order.
    fn entries_on(
        &mut self,
        venue: i64,
        day: &str,
    ) -> impl Future<Output = DbResult<Vec<EntryRow>>> + Send;

    /// How many are waiting ahead of this entry on its day.
    fn ahead_of(&mut self, entry: &EntryRow) -> impl Future<Output = DbResult<i64>> + Send;

    /// A waiting entry is offered hold `hold`.
    fn mark_offered(
        &mut self,
        id: i64,
        hold: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<bool>> + Send;

    /// The offer of hold `hold`, if it is still on offer, ends as `state`
    /// (booked when confirmed, lapsed when it ran out or was let go).
    fn settle_offer(
        &mut self,
        hold: i64,
        state: WaitlistState,
        now: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    /// The customer takes a live entry off the line.
    fn mark_left(&mut self, id: i64, now: i64) -> impl Future<Output = DbResult<bool>> + Send;

    /// Entries whose state does not match their hold (an offer whose hold
    /// is not held, a booked one never confirmed, one ended with its hold
    /// still held), and waiting entries passed over: a later entry with the
    /// very same wish was offered a time while they waited.
    fn waitlist_astray(&mut self) -> impl Future<Output = DbResult<Vec<i64>>> + Send;
}

/// One body per statement for both databases; `$lock` ends a locking read.
macro_rules! impl_waitlist {
    ($db:ty, $lock:literal) => {
        impl<'c> Waitlist for Transaction<'c, $db> {
            async fn insert_entry(&mut self, e: &NewEntry<'_>) -> DbResult<i64> {
                query_scalar::<$db, i64>(
                    "INSERT INTO waitlist (customer_id, venue_id, service_id, party_size, \
                     resource_id, day, from_minute, to_minute, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
                )
                .bind(e.customer_id)
                .bind(e.venue_id)
                .bind(e.service_id)
                .bind(e.party_size)
                .bind(e.resource_id)
                .bind(e.day)
                .bind(e.from_minute)
                .bind(e.to_minute)
                .bind(e.now)
                .fetch_one(&mut **self)
                .await
            }

            async fn entry(&mut self, id: i64) -> DbResult<Option<EntryRow>> {
                query_as::<$db, EntryRow>(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM waitlist WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&mut **self)
                .await
            }

            async fn lock_entry(&mut self, id: i64) -> DbResult<Option<EntryRow>> {
                query_as::<$db, EntryRow>(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM waitlist WHERE id = $1{}",
                    $lock
                ))
                .bind(id)
                .fetch_optional(&mut **self)
                .await
            }

            async fn same_wish(&mut self, e: &NewEntry<'_>) -> DbResult<Option<i64>> {
                query_scalar::<$db, i64>(
                    "SELECT id FROM waitlist WHERE customer_id = $1 AND venue_id = $2 \
                     AND COALESCE(service_id, 0) = COALESCE($3, 0) \
                     AND COALESCE(party_size, 0) = COALESCE($4, 0) \
                     AND COALESCE(resource_id, 0) = COALESCE($5, 0) \
                     AND day = $6 AND from_minute = $7 AND to_minute = $8 \
                     AND state IN ('waiting', 'offered')",
                )
                .bind(e.customer_id)
                .bind(e.venue_id)
                .bind(e.service_id)
                .bind(e.party_size)
                .bind(e.resource_id)
                .bind(e.day)
                .bind(e.from_minute)
                .bind(e.to_minute)
                .fetch_optional(&mut **self)
                .await
            }

            async fn live_entries(&mut self, customer: i64, venue: i64) -> DbResult<i64> {
                query_scalar::<$db, i64>(
                    "SELECT COUNT(*) FROM waitlist WHERE customer_id = $1 AND venue_id = $2 \
                     AND state IN ('waiting', 'offered')",
                )
                .bind(customer)
                .bind(venue)
                .fetch_one(&mut **self)
                .await
            }

            async fn waiting_on(
                &mut self,
                venue: i64,
                day: Option<&str>,
                first_day: &str,
                limit: i64,
            ) -> DbResult<Vec<EntryRow>> {
                query_as::<$db, EntryRow>(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM waitlist WHERE venue_id = $1 \
                     AND ($2 IS NULL OR day = $2) AND day >= $3 AND state = 'waiting' \
                     ORDER BY id LIMIT $4"
                ))
                .bind(venue)
                .bind(day)
                .bind(first_day)
                .bind(limit)
                .fetch_all(&mut **self)
                .await
            }

            async fn entries_of_customer(
                &mut self,
                customer: i64,
                limit: i64,
            ) -> DbResult<Vec<EntryRow>> {
                query_as::<$db, EntryRow>(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM waitlist WHERE customer_id = $1 \
                     ORDER BY id DESC LIMIT $2"
                ))
                .bind(customer)
                .bind(limit)
                .fetch_all(&mut **self)
                .await
            }

            async fn entries_on(&mut self, venue: i64, day: &str) -> DbResult<Vec<EntryRow>> {
                query_as::<$db, EntryRow>(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM waitlist WHERE venue_id = $1 AND day = $2 \
                     ORDER BY id"
                ))
                .bind(venue)
                .bind(day)
                .fetch_all(&mut **self)
                .await
            }

            async fn ahead_of(&mut self, entry: &EntryRow) -> DbResult<i64> {
                query_scalar::<$db, i64>(
                    "SELECT COUNT(*) FROM waitlist WHERE venue_id = $1 AND day = $2 \
                     AND state = 'waiting' AND id < $3",
                )
                .bind(entry.venue_id)
                .bind(&entry.day)
                .bind(entry.id)
                .fetch_one(&mut **self)
                .await
            }

            async fn mark_offered(&mut self, id: i64, hold: i64, now: i64) -> DbResult<bool> {
                query::<$db>(
                    "UPDATE waitlist SET state = 'offered', hold_id = $2, updated_at = $3 \
                     WHERE id = $1 AND state = 'waiting'",
                )
                .bind(id)
                .bind(hold)
                .bind(now)
                .execute(&mut **self)
                .await
                .map(|r| r.rows_affected() == 1)
            }

            async fn settle_offer(
                &mut self,
                hold: i64,
                state: WaitlistState,
                now: i64,
            ) -> DbResult<()> {
                query::<$db>(
                    "UPDATE waitlist SET state = $2, updated_at = $3 \
                     WHERE hold_id = $1 AND state = 'offered'",
                )
                .bind(hold)
                .bind(state.as_str())
                .bind(now)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn mark_left(&mut self, id: i64, now: i64) -> DbResult<bool> {
                query::<$db>(
                    "UPDATE waitlist SET state = 'left', updated_at = $2 \
                     WHERE id = $1 AND state IN ('waiting', 'offered')",
                )
                .bind(id)
                .bind(now)
                .execute(&mut **self)
                .await
                .map(|r| r.rows_affected() == 1)
            }

            async fn waitlist_astray(&mut self) -> DbResult<Vec<i64>> {
                query_scalar::<$db, i64>(
                    "SELECT w.id FROM waitlist w LEFT JOIN bookings b ON b.id = w.hold_id \
                     WHERE (w.state = 'offered' AND (b.id IS NULL OR b.status <> 'held' \
                            OR b.customer_id <> w.customer_id OR b.venue_id <> w.venue_id)) \
                     OR (w.state = 'booked' AND (b.id IS NULL OR b.status IN ('held', 'expired') \
                            OR b.customer_id <> w.customer_id)) \
                     OR (w.state IN ('lapsed', 'left') AND b.status = 'held') \
                     OR (w.state = 'waiting' AND EXISTS (SELECT 1 FROM waitlist e \
                            WHERE e.id > w.id AND e.hold_id IS NOT NULL \
                            AND e.venue_id = w.venue_id AND e.day = w.day \
                            AND COALESCE(e.service_id, 0) = COALESCE(w.service_id, 0) \
                            AND COALESCE(e.party_size, 0) = COALESCE(w.party_size, 0) \
                            AND COALESCE(e.resource_id, 0) = COALESCE(w.resource_id, 0) \
                            AND e.from_minute = w.from_minute AND e.to_minute = w.to_minute)) \
                     ORDER BY w.id",
                )
                .fetch_all(&mut **self)
                .await
            }
        }
    };
}

impl_waitlist!(Sqlite, "");
impl_waitlist!(Postgres, " FOR UPDATE");
