pub mod booking;
pub mod feedback;
pub mod layout;
