//! Server functions of the admin pages. Every one checks, on the server,
//! that a staff member or admin is signed in (`Unauthorized` otherwise,
//! `Forbidden` for customers); the engine then checks that they run the
//! venue concerned. All live under `/api/admin/`.
//!
//! This module holds what they share (the `ssr` helpers and the form
//! values kept for a retry); each page's server functions live in their
//! own file and are all re-exported here.

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    // The backend items these server functions use, in one place.
    use crate::backend::staff::{parse_clock, Staff};
    pub use crate::backend::staff::{Change, StaffAccount, StaffBooking};
    use crate::domain::error::AppError;
    use std::collections::BTreeMap;

    /// The signed-in staff member or admin.
    pub async fn staff() -> Result<Staff, AppError> {
        let user = crate::api::account::ssr::signed_in().await?;
        if user.role.is_staff() {
            Ok(Staff { user: user.id })
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// A date staff typed: a real date within two years of today (so
    /// that no time arithmetic meets the ends of the calendar).
    pub fn date(field: &str, s: &str) -> Result<chrono::NaiveDate, AppError> {
        let invalid = |message: &str| AppError::invalid(field.to_owned(), message.to_owned());
        let date = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| invalid("Use a date like 2026-06-02."))?;
        let now = crate::api::state()?.engine.clock().now();
        let today = crate::domain::schedule::to_datetime(now).date_naive();
        if crate::domain::schedule::date_within_staff_horizon(date, today) {
            Ok(date)
        } else {
            Err(invalid("Choose a date within two years of today."))
        }
    }

    pub fn clock(field: &str, s: &str) -> Result<i64, AppError> {
        parse_clock(s)
            .ok_or_else(|| AppError::invalid(field.to_owned(), "Use a time like 09:30.".to_owned()))
    }

    /// A checkbox: present when ticked.
    pub fn ticked(v: &Option<String>) -> bool {
        v.as_deref().is_some_and(|v| !v.is_empty() && v != "false")
    }

    /// What the form sent, kept in a refusal, a version conflict or a
    /// stranded-bookings question so that the page can offer it again.
    pub fn keep(e: AppError, submitted: BTreeMap<String, String>) -> AppError {
        match e {
            AppError::Stale { .. } => AppError::Stale { submitted },
            AppError::Invalid { field, message, .. } => AppError::Invalid {
                field,
                message,
                submitted,
            },
            AppError::Strands { bookings, .. } => AppError::Strands {
                bookings,
                submitted,
            },
            other => other,
        }
    }

    /// The venue's local instant for a date and a time of day.
    pub async fn instant(
        venue: i64,
        date: chrono::NaiveDate,
        minute: i64,
    ) -> Result<i64, AppError> {
        let state = crate::api::state()?;
        let tz = crate::backend::views::venue_zone(state.engine.db(), venue)
            .await
            .map_err(crate::domain::error::internal("reading a venue's zone"))?
            .ok_or(AppError::NotFound)?;
        Ok(crate::domain::schedule::local_instant(
            tz,
            date,
            minute,
            crate::domain::schedule::Ambiguity::Earliest,
        ))
    }

    /// Runs a set-up change for the signed-in staff member.
    pub async fn change(
        venue: i64,
        change: Change,
        choice: &Option<String>,
        submitted: BTreeMap<String, String>,
    ) -> Result<(), AppError> {
        use crate::domain::admin::StrandChoice;
        use crate::domain::ids::VenueId;
        let staff = staff().await?;
        crate::api::state()?
            .engine
            .change(
                staff,
                VenueId(venue),
                &change,
                StrandChoice::from_form(choice.as_deref()),
            )
            .await
            .map_err(|e| keep(e, submitted))
    }
}

/// `[("venue", "1"), …]` as a map, for `ssr::keep`.
#[cfg(feature = "ssr")]
macro_rules! submitted {
    ($($name:ident),* $(,)?) => {{
        let mut m = std::collections::BTreeMap::new();
        $( m.insert(stringify!($name).to_owned(), $crate::api::admin::Field::field(&$name)); )*
        m
    }};
}

/// A form value as the form would send it again.
#[cfg(feature = "ssr")]
pub(crate) trait Field {
    fn field(&self) -> String;
}

#[cfg(feature = "ssr")]
impl Field for String {
    fn field(&self) -> String {
        self.clone()
    }
}

#[cfg(feature = "ssr")]
impl Field for i64 {
    fn field(&self) -> String {
        self.to_string()
    }
}

#[cfg(feature = "ssr")]
impl<T: Field> Field for Option<T> {
    fn field(&self) -> String {
        self.as_ref().map(Field::field).unwrap_or_default()
    }
}

// After the macro above, so that the files below can use `submitted!`.
mod audit;
mod booking;
mod day;
mod home;
mod setup;
mod staff;
mod stats;

pub use audit::*;
pub use booking::*;
pub use day::*;
pub use home::*;
pub use setup::*;
pub use staff::*;
pub use stats::*;
