//! Server-side only: the database, the booking engine, accounts, settings.
//! Nothing here knows about HTTP or Leptos.

pub mod accounts;
pub mod admin;
pub mod catalog;
pub mod config;
pub mod day;
pub mod db;
pub mod engine;
pub mod file_lock;
pub mod pauses;
pub mod seed;
pub mod stats;
pub mod store;
pub mod testing;
pub mod views;
