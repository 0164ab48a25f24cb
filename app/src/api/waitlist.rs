//! The waitlist from the pages: join the line of a full day, see and
//! leave your entries; staff see a day's line.

use crate::domain::error::AppError;
use crate::domain::waitlist::WaitlistEntry;
use leptos::prelude::*;

/// Joins the waitlist of a day and goes to My bookings, where the entry
/// (or the time offered at once) is shown. Signed in only.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api", endpoint = "join_waitlist")]
pub async fn join_waitlist(
    venue: i64,
    date: String,
    service: Option<i64>,
    party: Option<i64>,
    resource: Option<i64>,
    from: Option<String>,
    to: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::booking::{Offer, ResourceChoice};
    use crate::domain::ids::VenueId;
    use crate::domain::waitlist::Wish;
    let state = super::state()?;
    let user = super::account::ssr::signed_in().await?;
    state.count_booking_attempt(&user, &super::account::ssr::client_address().await)?;
    let date = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            "date".to_owned(),
            "Choose a day on the calendar.".to_owned(),
        )
    })?;
    let (from_minute, to_minute) = Wish::range(from.as_deref(), to.as_deref())?;
    let wish = Wish {
        customer: user.id,
        venue: VenueId(venue),
        offer: Offer::parse(service, party, "service")?,
        resource: ResourceChoice::from_id(resource.filter(|r| *r > 0)),
        date,
        from_minute,
        to_minute,
    };
    let entry = state.engine.join_waitlist(&wish).await?;
    leptos_axum::redirect(&format!("/bookings?waiting={}#waitlist", entry.id));
    Ok(())
}

/// Leaves a waitlist entry (a time on offer goes to the next in line).
#[server(prefix = "/api", endpoint = "leave_waitlist")]
pub async fn leave_waitlist(id: i64) -> Result<(), AppError> {
    let state = super::state()?;
    let user = super::account::ssr::signed_in().await?;
    state.engine.leave_waitlist(user.id, id).await?;
    leptos_axum::redirect(&format!("/bookings?left={id}#waitlist"));
    Ok(())
}

/// The signed-in customer's waitlist entries, newest first.
#[server(prefix = "/api", endpoint = "my_waitlist")]
pub async fn my_waitlist() -> Result<Vec<WaitlistEntry>, AppError> {
    let state = super::state()?;
    let user = super::account::ssr::signed_in().await?;
    state.engine.waitlist_of(user.id).await
}
