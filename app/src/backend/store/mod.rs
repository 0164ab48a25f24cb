//! Every SQL statement of the app, as small functions named by intent.
//!
//! Each takes the transaction it runs in, so a booking attempt reads and
//! writes through one connection from BEGIN to COMMIT. The statements are
//! written once: both engines accept `$n` parameters, integer times and
//! `RETURNING`, and one macro per concern instantiates the same bodies
//! for the SQLite and the Postgres transaction types. Only locking differs
//! (`locks`). One trait per concern; `Store` is all of them.

use sqlx::database::HasStatementCache;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Database, FromRow};
use std::sync::atomic::{AtomicBool, Ordering};

mod accounts;
mod activity;
mod audit;
mod bookings;
mod catalog;
mod invariants;
mod locks;
mod outbox;
mod rows;
mod team;
mod waitlist;

pub use accounts::Accounts;
pub use activity::Activity;
pub use audit::Audit;
pub use bookings::Bookings;
pub use catalog::Catalog;
pub use invariants::Checks;
pub use locks::Locks;
pub use outbox::{MessageKind, MessageRow, MessageState, NewMessage, Outbox, QueueRow};
pub use rows::*;
pub use team::Team;
pub use waitlist::{EntryRow, NewEntry, Waitlist};

pub type DbResult<T> = Result<T, sqlx::Error>;

/// Whether Postgres statements are prepared unnamed, afresh each time:
/// behind a transaction pooler, a statement kept prepared on one server
/// connection is missing on the next, and its name taken on another. Set
/// once at start-up (`Db::connect`) and never unset: a process that has
/// one pooled database prepares nothing for keeps on Postgres.
static UNNAMED_STATEMENTS: AtomicBool = AtomicBool::new(false);

pub(crate) fn set_unnamed_statements() {
    UNNAMED_STATEMENTS.store(true, Ordering::Relaxed);
}

/// Whether a statement on `DB` may be kept prepared.
pub(crate) fn kept<DB: Database>() -> bool {
    DB::NAME != "PostgreSQL" || !UNNAMED_STATEMENTS.load(Ordering::Relaxed)
}

/// `sqlx::query`, kept prepared unless `set_unnamed_statements`. Every
/// statement of the app goes through these three, or is built by a
/// `QueryBuilder` and marked with `kept`.
pub(crate) fn query<DB: Database + HasStatementCache>(
    sql: &str,
) -> Query<'_, DB, <DB as Database>::Arguments<'_>> {
    sqlx::query::<DB>(sql).persistent(kept::<DB>())
}

/// `sqlx::query_as`, as `query`.
pub(crate) fn query_as<'q, DB, O>(
    sql: &'q str,
) -> QueryAs<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    DB: Database + HasStatementCache,
    O: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, O>(sql).persistent(kept::<DB>())
}

/// `sqlx::query_scalar`, as `query`.
pub(crate) fn query_scalar<'q, DB, O>(
    sql: &'q str,
) -> QueryScalar<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    DB: Database + HasStatementCache,
    (O,): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_scalar::<DB, O>(sql).persistent(kept::<DB>())
}

/// The statements of the app, on one transaction: every concern's.
pub trait Store:
    Locks + Catalog + Bookings + Checks + Accounts + Team + Audit + Activity + Outbox + Waitlist
{
}

impl<T> Store for T where
    T: Locks + Catalog + Bookings + Checks + Accounts + Team + Audit + Activity + Outbox + Waitlist
{
}

/// Every concern's trait, for code that calls statements on a concrete
/// transaction (inside `with_backend!`): `use crate::backend::store::prelude::*`.
pub mod prelude {
    pub use super::{
        Accounts, Activity, Audit, Bookings, Catalog, Checks, Locks, Outbox, Store, Team, Waitlist,
    };
}
