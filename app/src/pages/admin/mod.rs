//! The admin pages: the venues a staff member runs, a venue's day, a
//! booking, the venue's set-up, the audit trail, statistics and (admins)
//! staff accounts. Every page asks the server, which refuses customers
//! (403) and sends visitors to log in. Forms work without JavaScript.
//!
//! One file a page; `common` holds the helpers several pages share.

mod audit;
mod booking;
mod common;
mod day;
mod home;
mod setup;
mod staff;
mod stats;

pub use audit::AdminAuditPage;
pub use booking::AdminBookingPage;
pub use day::AdminDayPage;
pub use home::AdminHome;
pub use setup::AdminSetupPage;
pub use staff::AdminStaffPage;
pub use stats::AdminStatsPage;
