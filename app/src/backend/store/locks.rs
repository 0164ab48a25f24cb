//! Locking, the only code that differs between the databases. SQLite's
//! write transaction holds the database's write lock from `BEGIN
//! IMMEDIATE`; Postgres locks rows (`FOR UPDATE`, in id order) and takes
//! advisory locks.

use sqlx::{Postgres, Sqlite, Transaction};
use std::future::Future;

use super::accounts::Accounts;
use super::bookings::Bookings;
use super::rows::{BookingRow, UserRow, BOOKING_COLUMNS};
use super::DbResult;
use super::{query, query_as};

/// How a transaction locks, and ends.
pub trait Locks: Send {
    /// Whether the transaction holds the lock that serialises writers from
    /// its first statement (SQLite's `BEGIN IMMEDIATE`), so that every
    /// read in it is already a read under the lock.
    const LOCKS_AT_BEGIN: bool;

    /// Makes concurrent writers of these resources wait for this
    /// transaction. Postgres: `FOR UPDATE` on the resource rows, in id order
    /// so two multi-resource bookings cannot deadlock. SQLite: nothing to
    /// do, `BEGIN IMMEDIATE` already holds the database's write lock.
    fn lock_resources(&mut self, ids: &[i64]) -> impl Future<Output = DbResult<()>> + Send;

    /// Makes every booking of the venue wait for this transaction (a staff
    /// change that must see a settled schedule), and moves the venue's
    /// `setup_version` on. Postgres: the venue row, then `FOR UPDATE` on all
    /// its resources in id order; SQLite: `BEGIN IMMEDIATE` did it.
    fn lock_venue(&mut self, venue: i64) -> impl Future<Output = DbResult<()>> + Send;

    /// Serialises demo seeding between instances starting together.
    fn lock_for_seeding(&mut self) -> impl Future<Output = DbResult<()>> + Send;

    fn commit(self) -> impl Future<Output = DbResult<()>> + Send;

    /// The booking, its row locked until the transaction ends (Postgres),
    /// so that a concurrent confirm or cancel waits and then sees the change.
    fn lock_booking(
        &mut self,
        id: i64,
    ) -> impl Future<Output = DbResult<Option<BookingRow>>> + Send;

    /// Makes this customer's other bookings wait for this transaction, so
    /// that the count of what they have (`customer_load`) stays true until
    /// COMMIT. Postgres: `FOR NO KEY UPDATE` on the user row, taken after
    /// the resources (every path takes it last, so no cycle), which does
    /// not block the key-share lock a booking's foreign key takes on it.
    /// SQLite: `BEGIN IMMEDIATE` did it.
    fn lock_customer(&mut self, customer: i64) -> impl Future<Output = DbResult<()>> + Send;

    /// The account with this email, its row locked until the transaction
    /// ends (Postgres), so that two admins changing one person's role and
    /// venues apply their changes one after the other.
    fn lock_user_by_email(
        &mut self,
        email: &str,
    ) -> impl Future<Output = DbResult<Option<UserRow>>> + Send;

    /// Serialises sign-ups from this address, so that parallel ones are
    /// counted one after another.
    fn lock_signups(&mut self, address: &str) -> impl Future<Output = DbResult<()>> + Send;

    /// Serialises log-in checks for this email and this address, so that
    /// parallel guesses are counted one after another.
    fn lock_login(
        &mut self,
        email: &str,
        address: &str,
    ) -> impl Future<Output = DbResult<()>> + Send;
}

impl<'c> Locks for Transaction<'c, Sqlite> {
    async fn commit(self) -> DbResult<()> {
        Transaction::commit(self).await
    }

    const LOCKS_AT_BEGIN: bool = true;

    async fn lock_resources(&mut self, _ids: &[i64]) -> DbResult<()> {
        // BEGIN IMMEDIATE took the database's write lock already.
        Ok(())
    }

    async fn lock_venue(&mut self, venue: i64) -> DbResult<()> {
        // BEGIN IMMEDIATE holds the write lock; the version still moves on.
        query::<Sqlite>("UPDATE venues SET setup_version = setup_version + 1 WHERE id = $1")
            .bind(venue)
            .execute(&mut **self)
            .await
            .map(|_| ())
    }

    async fn lock_for_seeding(&mut self) -> DbResult<()> {
        Ok(())
    }

    async fn lock_booking(&mut self, id: i64) -> DbResult<Option<BookingRow>> {
        self.booking(id).await
    }

    async fn lock_user_by_email(&mut self, email: &str) -> DbResult<Option<UserRow>> {
        self.user_by_email(email).await
    }

    async fn lock_customer(&mut self, _customer: i64) -> DbResult<()> {
        // BEGIN IMMEDIATE holds the write lock already.
        Ok(())
    }

    async fn lock_signups(&mut self, _address: &str) -> DbResult<()> {
        // BEGIN IMMEDIATE holds the write lock already.
        Ok(())
    }

    async fn lock_login(&mut self, _email: &str, _address: &str) -> DbResult<()> {
        // BEGIN IMMEDIATE holds the write lock already.
        Ok(())
    }
}

impl<'c> Locks for Transaction<'c, Postgres> {
    async fn commit(self) -> DbResult<()> {
        Transaction::commit(self).await
    }

    const LOCKS_AT_BEGIN: bool = false;

    async fn lock_resources(&mut self, ids: &[i64]) -> DbResult<()> {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        query::<Postgres>("SELECT id FROM resources WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(&sorted)
            .fetch_all(&mut **self)
            .await
            .map(|_| ())
    }

    async fn lock_venue(&mut self, venue: i64) -> DbResult<()> {
        // The venue row first: set-up changes of one venue queue there even
        // when it has no resources yet. An UPDATE of a column that is no key
        // takes NO KEY UPDATE, which does not block the KEY SHARE lock that
        // a booking's foreign key takes on its venue (FOR UPDATE would, and
        // a booker holding its resources would wait here in a cycle).
        query::<Postgres>("UPDATE venues SET setup_version = setup_version + 1 WHERE id = $1")
            .bind(venue)
            .execute(&mut **self)
            .await?;
        query::<Postgres>("SELECT id FROM resources WHERE venue_id = $1 ORDER BY id FOR UPDATE")
            .bind(venue)
            .fetch_all(&mut **self)
            .await
            .map(|_| ())
    }

    async fn lock_for_seeding(&mut self) -> DbResult<()> {
        // A transaction-scoped advisory lock; the key is arbitrary but fixed.
        query::<Postgres>("SELECT pg_advisory_xact_lock(7301)")
            .execute(&mut **self)
            .await
            .map(|_| ())
    }

    async fn lock_booking(&mut self, id: i64) -> DbResult<Option<BookingRow>> {
        query_as::<Postgres, BookingRow>(&format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut **self)
        .await
    }

    async fn lock_customer(&mut self, customer: i64) -> DbResult<()> {
        query::<Postgres>("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(customer)
            .fetch_optional(&mut **self)
            .await
            .map(|_| ())
    }

    async fn lock_user_by_email(&mut self, email: &str) -> DbResult<Option<UserRow>> {
        query_as::<Postgres, UserRow>(
            "SELECT id, email, password_hash, display_name, role FROM users \
             WHERE email = $1 FOR NO KEY UPDATE",
        )
        .bind(email)
        .fetch_optional(&mut **self)
        .await
    }

    async fn lock_signups(&mut self, address: &str) -> DbResult<()> {
        query::<Postgres>("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("signup-address:{address}"))
            .execute(&mut **self)
            .await
            .map(|_| ())
    }

    async fn lock_login(&mut self, email: &str, address: &str) -> DbResult<()> {
        // Transaction-scoped advisory locks, email first then address, so
        // two checks cannot wait on each other in a cycle.
        for key in [
            format!("login-email:{email}"),
            format!("login-address:{address}"),
        ] {
            query::<Postgres>("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(key)
                .execute(&mut **self)
                .await?;
        }
        Ok(())
    }
}
