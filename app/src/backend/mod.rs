//! Server-side only: the database, the booking engine, accounts, settings.
//! Nothing here knows about HTTP or Leptos.

pub mod accounts;
pub mod catalog;
pub mod config;
pub mod db;
pub mod engine;
pub mod file_lock;
pub mod notify;
pub mod pauses;
pub mod seed;
pub mod staff;
pub mod stats;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod throttle;
pub mod views;
