//! Pure types and rules, compiled for the server and the browser alike.
//!
//! Nothing here touches a database or the network. Time-zone rules need the
//! IANA database, which only the server carries, so `schedule` is server-only.

pub mod admin;
pub mod booking;
pub mod error;
pub mod ids;
pub mod input;
pub mod money;
pub mod venue;
pub mod views;
pub mod waitlist;

#[cfg(feature = "ssr")]
pub mod schedule;
