pub mod booking;
pub mod day_picker;
pub mod feedback;
pub mod layout;
pub mod times;
pub mod waitlist;
