pub mod admin;
pub mod bookings;
pub mod hold;
pub mod home;
pub mod login;
pub mod not_found;
pub mod reschedule;
pub mod venue;
