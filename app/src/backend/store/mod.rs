//! Every SQL statement of the app, as small functions named by intent.
//!
//! Each takes the transaction it runs in, so a booking attempt reads and
//! writes through one connection from BEGIN to COMMIT. The statements are
//! written once: both engines accept `$n` parameters, integer times and
//! `RETURNING`, and one macro per concern instantiates the same bodies
//! for the SQLite and the Postgres transaction types. Only locking differs
//! (`locks`). One trait per concern; `Store` is all of them.

mod accounts;
mod activity;
mod audit;
mod bookings;
mod catalog;
mod invariants;
mod locks;
mod rows;
mod team;

pub use accounts::Accounts;
pub use activity::Activity;
pub use audit::Audit;
pub use bookings::Bookings;
pub use catalog::Catalog;
pub use invariants::Checks;
pub use locks::Locks;
pub use rows::*;
pub use team::Team;

pub type DbResult<T> = Result<T, sqlx::Error>;

/// The statements of the app, on one transaction: every concern's.
pub trait Store: Locks + Catalog + Bookings + Checks + Accounts + Team + Audit + Activity {}

impl<T> Store for T where T: Locks + Catalog + Bookings + Checks + Accounts + Team + Audit + Activity
{}

/// Every concern's trait, for code that calls statements on a concrete
/// transaction (inside `with_backend!`): `use crate::backend::store::prelude::*`.
pub mod prelude {
    pub use super::{Accounts, Activity, Audit, Bookings, Catalog, Checks, Locks, Store, Team};
}
