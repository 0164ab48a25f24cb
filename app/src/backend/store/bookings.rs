//! Bookings, their resources and their claims (with the occupancy rows the overlap guard checks), holds and their expiry.

use sqlx::{Postgres, QueryBuilder, Sqlite, Transaction};
use std::future::Future;

use super::rows::*;
use super::waitlist::Waitlist;
use super::DbResult;
use super::{kept, query, query_as, query_scalar};
use crate::domain::booking::BookingStatus;
use crate::domain::waitlist::WaitlistState;

/// Bookings, their resources and their claims (with the occupancy rows the overlap guard checks), holds and their expiry.
pub trait Bookings: Send {
    /// Claims on the venue's resources in `[from, to)`, less those of holds
    /// that expired by `now` (not yet swept, but no longer binding).
    fn live_claims(
        &mut self,
        venue: i64,
        from: i64,
        to: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<Vec<ClaimRow>>> + Send;

    /// Holds on `resource` past their expiry.
    fn due_holds_on(
        &mut self,
        resource: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<Vec<i64>>> + Send;

    /// Holds past their expiry anywhere, for the sweeper.
    fn due_holds(
        &mut self,
        now: i64,
        limit: i64,
    ) -> impl Future<Output = DbResult<Vec<i64>>> + Send;

    /// Expires one hold if it is still held and due; frees its claims, and
    /// a waitlist offer it was lapses. Returns where the freed time was
    /// when it expired it.
    fn expire_hold(
        &mut self,
        id: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<Option<Freed>>> + Send;

    fn booking(&mut self, id: i64) -> impl Future<Output = DbResult<Option<BookingRow>>> + Send;

    fn booking_by_key(
        &mut self,
        customer: i64,
        key: &str,
    ) -> impl Future<Output = DbResult<Option<BookingRow>>> + Send;

    /// What the customer has at the venue as of `now`: (live holds,
    /// upcoming live bookings with the holds among them). A lapsed hold
    /// the sweeper has not reached counts for neither.
    fn customer_load(
        &mut self,
        customer: i64,
        venue: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<(i64, i64)>> + Send;

    fn booking_resources(
        &mut self,
        booking: i64,
    ) -> impl Future<Output = DbResult<Vec<i64>>> + Send;

    fn insert_booking(&mut self, b: &NewBooking<'_>) -> impl Future<Output = DbResult<i64>> + Send;

    fn insert_booking_resources(
        &mut self,
        booking: i64,
        resources: &[i64],
    ) -> impl Future<Output = DbResult<()>> + Send;

    /// What a live booking holds on each of its resources: one claim per
    /// grid unit of `occupied` (the unique index makes a second claim of a
    /// unit fail, whatever path it came by) and one occupancy row (the
    /// grid-independent guard refuses an overlapping one). Always both.
    fn insert_claims(
        &mut self,
        booking: i64,
        resources: &[i64],
        occupied: crate::domain::schedule::Span,
        unit: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    /// Lets go of a booking's claims and occupancy rows: its time is free.
    fn delete_claims(&mut self, booking: i64) -> impl Future<Output = DbResult<()>> + Send;

    /// held → confirmed, only for this customer's unexpired hold; a waitlist
    /// offer it was is booked.
    fn confirm_hold(
        &mut self,
        id: i64,
        customer: i64,
        now: i64,
        details: &crate::domain::booking::ContactDetails,
    ) -> impl Future<Output = DbResult<bool>> + Send;

    fn set_status(
        &mut self,
        id: i64,
        status: BookingStatus,
        cancelled_by: Option<&str>,
        now: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    /// This customer's bookings, soonest first.
    fn bookings_of_customer(
        &mut self,
        customer: i64,
    ) -> impl Future<Output = DbResult<Vec<BookingRow>>> + Send;

    // --- Staff: schedules, resources, services, settings ------------------

    /// Bookings of every status at the venue that overlap `[from, to)`.
    fn bookings_between(
        &mut self,
        venue: i64,
        from: i64,
        to: i64,
    ) -> impl Future<Output = DbResult<Vec<BookingRow>>> + Send;

    /// Held and confirmed bookings of the venue still occupying time after `after`.
    fn live_bookings_after(
        &mut self,
        venue: i64,
        after: i64,
    ) -> impl Future<Output = DbResult<Vec<BookingRow>>> + Send;

    /// New times of a booking (its claims are replaced separately).
    fn reschedule(
        &mut self,
        id: i64,
        starts_at: i64,
        ends_at: i64,
        occupied_until: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    fn delete_booking_resources(
        &mut self,
        booking: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
}

/// One body per statement for both databases: see the module `store`.
macro_rules! impl_bookings {
    ($db:ty) => {
        impl<'c> Bookings for Transaction<'c, $db> {
            async fn live_claims(
                &mut self,
                venue: i64,
                from: i64,
                to: i64,
                now: i64,
            ) -> DbResult<Vec<ClaimRow>> {
                query_as::<$db, ClaimRow>(
                    "SELECT c.booking_id, c.resource_id, c.unit_start, \
                     CASE WHEN b.status = 'held' THEN b.hold_expires_at END AS held_until, \
                     b.customer_id, b.idempotency_key FROM claims c \
                     JOIN resources r ON r.id = c.resource_id \
                     JOIN bookings b ON b.id = c.booking_id \
                     WHERE r.venue_id = $1 AND c.unit_start >= $2 AND c.unit_start < $3 \
                     AND NOT (b.status = 'held' AND b.hold_expires_at <= $4)",
                )
                .bind(venue)
                .bind(from)
                .bind(to)
                .bind(now)
                .fetch_all(&mut **self)
                .await
            }

            async fn due_holds_on(&mut self, resource: i64, now: i64) -> DbResult<Vec<i64>> {
                query_scalar::<$db, i64>(
                    "SELECT b.id FROM bookings b \
                     JOIN booking_resources br ON br.booking_id = b.id \
                     WHERE br.resource_id = $1 AND b.status = 'held' AND b.hold_expires_at <= $2",
                )
                .bind(resource)
                .bind(now)
                .fetch_all(&mut **self)
                .await
            }

            async fn due_holds(&mut self, now: i64, limit: i64) -> DbResult<Vec<i64>> {
                query_scalar::<$db, i64>(
                    "SELECT id FROM bookings WHERE status = 'held' AND hold_expires_at <= $1 \
                     ORDER BY id LIMIT $2",
                )
                .bind(now)
                .bind(limit)
                .fetch_all(&mut **self)
                .await
            }

            async fn expire_hold(&mut self, id: i64, now: i64) -> DbResult<Option<Freed>> {
                let freed = query_as::<$db, Freed>(
                    "UPDATE bookings SET status = 'expired', updated_at = $2, version = version + 1 \
                     WHERE id = $1 AND status = 'held' AND hold_expires_at <= $2 \
                     RETURNING venue_id, starts_at",
                )
                .bind(id)
                .bind(now)
                .fetch_optional(&mut **self)
                .await?;
                if freed.is_some() {
                    self.delete_claims(id).await?;
                    Waitlist::settle_offer(self, id, WaitlistState::Lapsed, now).await?;
                }
                Ok(freed)
            }

            async fn booking(&mut self, id: i64) -> DbResult<Option<BookingRow>> {
                query_as::<$db, BookingRow>(&format!(
                    "SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&mut **self)
                .await
            }

            async fn customer_load(&mut self, customer: i64, venue: i64, now: i64) -> DbResult<(i64, i64)> {
                query_as::<$db, (i64, i64)>(
                    "SELECT COALESCE(SUM(CASE WHEN status = 'held' THEN 1 ELSE 0 END), 0), COUNT(*) \
                     FROM bookings WHERE customer_id = $1 AND venue_id = $2 AND ends_at > $3 \
                     AND (status = 'confirmed' OR (status = 'held' AND hold_expires_at > $3))",
                )
                .bind(customer)
                .bind(venue)
                .bind(now)
                .fetch_one(&mut **self)
                .await
            }

            async fn booking_by_key(&mut self, customer: i64, key: &str) -> DbResult<Option<BookingRow>> {
                query_as::<$db, BookingRow>(&format!(
                    "SELECT {BOOKING_COLUMNS} FROM bookings \
                     WHERE customer_id = $1 AND idempotency_key = $2"
                ))
                .bind(customer)
                .bind(key)
                .fetch_optional(&mut **self)
                .await
            }

            async fn booking_resources(&mut self, booking: i64) -> DbResult<Vec<i64>> {
                query_scalar::<$db, i64>(
                    "SELECT resource_id FROM booking_resources WHERE booking_id = $1 ORDER BY resource_id",
                )
                .bind(booking)
                .fetch_all(&mut **self)
                .await
            }

            async fn insert_booking(&mut self, b: &NewBooking<'_>) -> DbResult<i64> {
                query_scalar::<$db, i64>(
                    "INSERT INTO bookings (customer_id, venue_id, service_id, party_size, starts_at, \
                     ends_at, occupied_until, status, hold_expires_at, idempotency_key, request, \
                     created_at, updated_at, price_cents, currency) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14) \
                     RETURNING id",
                )
                .bind(b.customer_id)
                .bind(b.venue_id)
                .bind(b.service_id)
                .bind(b.party_size)
                .bind(b.starts_at)
                .bind(b.ends_at)
                .bind(b.occupied_until)
                .bind(b.status.as_str())
                .bind(b.hold_expires_at)
                .bind(b.idempotency_key)
                .bind(b.request)
                .bind(b.now)
                .bind(b.price_cents)
                .bind(b.currency)
                .fetch_one(&mut **self)
                .await
            }

            async fn insert_booking_resources(&mut self, booking: i64, resources: &[i64]) -> DbResult<()> {
                let mut q = QueryBuilder::<$db>::new(
                    "INSERT INTO booking_resources (booking_id, resource_id) ",
                );
                q.push_values(resources, |mut row, r| {
                    row.push_bind(booking).push_bind(*r);
                });
                q.build().persistent(kept::<$db>()).execute(&mut **self).await.map(|_| ())
            }

            async fn insert_claims(
                &mut self,
                booking: i64,
                resources: &[i64],
                occupied: crate::domain::schedule::Span,
                unit: i64,
            ) -> DbResult<()> {
                let units = crate::domain::schedule::claim_units(occupied, unit);
                let rows: Vec<(i64, i64)> = resources
                    .iter()
                    .flat_map(|r| units.iter().map(move |u| (*r, *u)))
                    .collect();
                let mut q = QueryBuilder::<$db>::new(
                    "INSERT INTO claims (resource_id, unit_start, booking_id) ",
                );
                q.push_values(rows, |mut row, (r, u)| {
                    row.push_bind(r).push_bind(u).push_bind(booking);
                });
                q.build().persistent(kept::<$db>()).execute(&mut **self).await?;
                let mut q = QueryBuilder::<$db>::new(
                    "INSERT INTO occupancies (booking_id, resource_id, starts_at, occupied_until) ",
                );
                q.push_values(resources, |mut row, r| {
                    row.push_bind(booking)
                        .push_bind(*r)
                        .push_bind(occupied.start)
                        .push_bind(occupied.end);
                });
                q.build().persistent(kept::<$db>()).execute(&mut **self).await.map(|_| ())
            }

            async fn delete_claims(&mut self, booking: i64) -> DbResult<()> {
                for table in ["claims", "occupancies"] {
                    query::<$db>(&format!("DELETE FROM {table} WHERE booking_id = $1"))
                        .bind(booking)
                        .execute(&mut **self)
                        .await?;
                }
                Ok(())
            }

            async fn confirm_hold(
                &mut self,
                id: i64,
                customer: i64,
                now: i64,
                details: &crate::domain::booking::ContactDetails,
            ) -> DbResult<bool> {
                Ok(query::<$db>(
                    "UPDATE bookings SET status = 'confirmed', hold_expires_at = NULL, \
                     note = $4, phone = $5, updated_at = $3, version = version + 1 \
                     WHERE id = $1 AND customer_id = $2 AND status = 'held' AND hold_expires_at > $3",
                )
                .bind(id)
                .bind(customer)
                .bind(now)
                .bind(details.note.as_deref())
                .bind(details.phone.as_deref())
                .execute(&mut **self)
                .await?
                .rows_affected()
                    == 1
                    && {
                        // A waitlist offer it was is taken.
                        Waitlist::settle_offer(self, id, WaitlistState::Booked, now).await?;
                        true
                    })
            }

            async fn set_status(
                &mut self,
                id: i64,
                status: BookingStatus,
                cancelled_by: Option<&str>,
                now: i64,
            ) -> DbResult<()> {
                query::<$db>(
                    "UPDATE bookings SET status = $2, cancelled_by = $3, updated_at = $4, \
                     version = version + 1 WHERE id = $1",
                )
                .bind(id)
                .bind(status.as_str())
                .bind(cancelled_by)
                .bind(now)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn bookings_of_customer(&mut self, customer: i64) -> DbResult<Vec<BookingRow>> {
                query_as::<$db, BookingRow>(&format!(
                    "SELECT {BOOKING_COLUMNS} FROM bookings WHERE customer_id = $1 \
                     ORDER BY starts_at, id"
                ))
                .bind(customer)
                .fetch_all(&mut **self)
                .await
            }

            async fn bookings_between(&mut self, venue: i64, from: i64, to: i64) -> DbResult<Vec<BookingRow>> {
                query_as::<$db, BookingRow>(&format!(
                    "SELECT {BOOKING_COLUMNS} FROM bookings \
                     WHERE venue_id = $1 AND starts_at < $3 AND occupied_until > $2 \
                     ORDER BY starts_at, id"
                ))
                .bind(venue)
                .bind(from)
                .bind(to)
                .fetch_all(&mut **self)
                .await
            }

            async fn live_bookings_after(&mut self, venue: i64, after: i64) -> DbResult<Vec<BookingRow>> {
                query_as::<$db, BookingRow>(&format!(
                    "SELECT {BOOKING_COLUMNS} FROM bookings \
                     WHERE venue_id = $1 AND occupied_until > $2 AND status IN ('held', 'confirmed') \
                     ORDER BY starts_at, id"
                ))
                .bind(venue)
                .bind(after)
                .fetch_all(&mut **self)
                .await
            }

            async fn reschedule(
                &mut self,
                id: i64,
                starts_at: i64,
                ends_at: i64,
                occupied_until: i64,
                now: i64,
            ) -> DbResult<()> {
                query::<$db>(
                    "UPDATE bookings SET starts_at = $2, ends_at = $3, occupied_until = $4, \
                     updated_at = $5, version = version + 1 WHERE id = $1",
                )
                .bind(id)
                .bind(starts_at)
                .bind(ends_at)
                .bind(occupied_until)
                .bind(now)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn delete_booking_resources(&mut self, booking: i64) -> DbResult<()> {
                query::<$db>("DELETE FROM booking_resources WHERE booking_id = $1")
                    .bind(booking)
                    .execute(&mut **self)
                    .await
                    .map(|_| ())
            }
        }
    };
}

impl_bookings!(Sqlite);
impl_bookings!(Postgres);
