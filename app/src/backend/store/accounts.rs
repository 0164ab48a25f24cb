//! Accounts and the log-in attempts the throttle counts.

use sqlx::{Postgres, Sqlite, Transaction};
use std::future::Future;

use super::rows::*;
use super::DbResult;
use super::{query, query_as, query_scalar};
use crate::domain::admin::Role;

/// Accounts and the log-in attempts the throttle counts.
pub trait Accounts: Send {
    fn user_by_email(
        &mut self,
        email: &str,
    ) -> impl Future<Output = DbResult<Option<UserRow>>> + Send;

    fn user(&mut self, id: i64) -> impl Future<Output = DbResult<Option<UserRow>>> + Send;

    /// Records an attempt as failed until `mark_login_succeeded`; returns its id.
    fn record_login_attempt(
        &mut self,
        email: &str,
        address: &str,
        at: i64,
    ) -> impl Future<Output = DbResult<i64>> + Send;

    fn mark_login_succeeded(&mut self, attempt: i64) -> impl Future<Output = DbResult<()>> + Send;

    /// Failed log-ins since `since`: for this email from this address, for
    /// this email from anywhere, and from this address for any email.
    fn login_failures(
        &mut self,
        email: &str,
        address: &str,
        since: i64,
    ) -> impl Future<Output = DbResult<[FailureCount; 3]>> + Send;

    fn forget_login_attempts(&mut self, before: i64) -> impl Future<Output = DbResult<u64>> + Send;

    /// Sign-ups from this address since `since`: how many, and the oldest.
    fn signups_from(
        &mut self,
        address: &str,
        since: i64,
    ) -> impl Future<Output = DbResult<FailureCount>> + Send;

    fn record_signup(
        &mut self,
        address: &str,
        at: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    /// Inserts a user unless the email is taken; returns the new id, if any.
    fn insert_user(
        &mut self,
        email: &str,
        password_hash: &str,
        display_name: &str,
        role: Role,
        now: i64,
    ) -> impl Future<Output = DbResult<Option<i64>>> + Send;

    /// Replaces a user's password hash.
    fn set_password_hash(
        &mut self,
        user: i64,
        password_hash: &str,
    ) -> impl Future<Output = DbResult<()>> + Send;

    /// Whether any account is an admin.
    fn has_admin(&mut self) -> impl Future<Output = DbResult<bool>> + Send;

    /// Keeps a claim link (the hash of its secret) for `user`.
    fn insert_claim_link(
        &mut self,
        token_hash: &str,
        user: i64,
        by: i64,
        expires_at: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    /// The account a claim link opens, if it is unused and unexpired at
    /// `now`; `take` also uses it up (once: a second take finds nothing).
    fn claim_link_user(
        &mut self,
        token_hash: &str,
        now: i64,
        take: bool,
    ) -> impl Future<Output = DbResult<Option<i64>>> + Send;
}

/// One body per statement for both databases: see the module `store`.
macro_rules! impl_accounts {
    ($db:ty) => {
        impl<'c> Accounts for Transaction<'c, $db> {
            async fn user_by_email(&mut self, email: &str) -> DbResult<Option<UserRow>> {
                query_as::<$db, UserRow>(
                    "SELECT id, email, password_hash, display_name, role FROM users WHERE email = $1",
                )
                .bind(email)
                .fetch_optional(&mut **self)
                .await
            }

            async fn user(&mut self, id: i64) -> DbResult<Option<UserRow>> {
                query_as::<$db, UserRow>(
                    "SELECT id, email, password_hash, display_name, role FROM users WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut **self)
                .await
            }

            async fn record_login_attempt(&mut self, email: &str, address: &str, at: i64) -> DbResult<i64> {
                query_scalar::<$db, i64>(
                    "INSERT INTO login_attempts (email, address, attempted_at, succeeded) \
                     VALUES ($1, $2, $3, FALSE) RETURNING id",
                )
                .bind(email)
                .bind(address)
                .bind(at)
                .fetch_one(&mut **self)
                .await
            }

            async fn mark_login_succeeded(&mut self, attempt: i64) -> DbResult<()> {
                query::<$db>("UPDATE login_attempts SET succeeded = TRUE WHERE id = $1")
                    .bind(attempt)
                    .execute(&mut **self)
                    .await
                    .map(|_| ())
            }

            async fn login_failures(
                &mut self,
                email: &str,
                address: &str,
                since: i64,
            ) -> DbResult<[FailureCount; 3]> {
                let count = |filter: &'static str| {
                    format!(
                        "SELECT COUNT(*) AS failures, MIN(attempted_at) AS oldest FROM login_attempts \
                         WHERE {filter} AND attempted_at >= $3 AND NOT succeeded"
                    )
                };
                let mut out = Vec::with_capacity(3);
                for filter in ["email = $1 AND address = $2", "email = $1 AND $2 = $2", "address = $2 AND $1 = $1"] {
                    out.push(
                        query_as::<$db, FailureCount>(&count(filter))
                            .bind(email)
                            .bind(address)
                            .bind(since)
                            .fetch_one(&mut **self)
                            .await?,
                    );
                }
                let [pair, by_email, by_address]: [FailureCount; 3] =
                    out.try_into().expect("three counts");
                Ok([pair, by_email, by_address])
            }

            async fn forget_login_attempts(&mut self, before: i64) -> DbResult<u64> {
                let signups = query::<$db>("DELETE FROM signup_attempts WHERE attempted_at < $1")
                    .bind(before)
                    .execute(&mut **self)
                    .await?
                    .rows_affected();
                query::<$db>("DELETE FROM login_attempts WHERE attempted_at < $1")
                    .bind(before)
                    .execute(&mut **self)
                    .await
                    .map(|r| r.rows_affected() + signups)
            }

            async fn signups_from(&mut self, address: &str, since: i64) -> DbResult<FailureCount> {
                query_as::<$db, FailureCount>(
                    "SELECT COUNT(*) AS failures, MIN(attempted_at) AS oldest FROM signup_attempts \
                     WHERE address = $1 AND attempted_at >= $2",
                )
                .bind(address)
                .bind(since)
                .fetch_one(&mut **self)
                .await
            }

            async fn record_signup(&mut self, address: &str, at: i64) -> DbResult<()> {
                query::<$db>("INSERT INTO signup_attempts (address, attempted_at) VALUES ($1, $2)")
                    .bind(address)
                    .bind(at)
                    .execute(&mut **self)
                    .await
                    .map(|_| ())
            }

            async fn insert_user(
                &mut self,
                email: &str,
                password_hash: &str,
                display_name: &str,
                role: Role,
                now: i64,
            ) -> DbResult<Option<i64>> {
                query_scalar::<$db, i64>(
                    "INSERT INTO users (email, password_hash, display_name, role, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING RETURNING id",
                )
                .bind(email)
                .bind(password_hash)
                .bind(display_name)
                .bind(role.as_str())
                .bind(now)
                .fetch_optional(&mut **self)
                .await
            }

            async fn set_password_hash(&mut self, user: i64, password_hash: &str) -> DbResult<()> {
                query::<$db>("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(user)
                    .bind(password_hash)
                    .execute(&mut **self)
                    .await
                    .map(|_| ())
            }

            async fn has_admin(&mut self) -> DbResult<bool> {
                query_scalar::<$db, bool>(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')",
                )
                .fetch_one(&mut **self)
                .await
            }

            async fn insert_claim_link(&mut self, token_hash: &str, user: i64, by: i64, expires_at: i64) -> DbResult<()> {
                query::<$db>(
                    "INSERT INTO claim_links (token_hash, user_id, created_by, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(token_hash)
                .bind(user)
                .bind(by)
                .bind(expires_at)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn claim_link_user(&mut self, token_hash: &str, now: i64, take: bool) -> DbResult<Option<i64>> {
                let sql = if take {
                    "UPDATE claim_links SET used_at = $2 \
                     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id"
                } else {
                    "SELECT user_id FROM claim_links \
                     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2"
                };
                query_scalar::<$db, i64>(sql)
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&mut **self)
                    .await
            }
        }
    };
}

impl_accounts!(Sqlite);
impl_accounts!(Postgres);
