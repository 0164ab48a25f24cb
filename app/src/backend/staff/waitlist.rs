//! The waitlist of a venue's day, as staff see it: who waits, in order,
//! for what, and what became of each offer.

use crate::domain::error::AppError;
use crate::domain::ids::VenueId;
use crate::domain::waitlist::WaitlistEntry;
use chrono::NaiveDate;

use super::{authorize, Staff};
use crate::backend::db::{with_backend, Backend};
use crate::backend::engine::{entry_views, settle_app, Engine};
use crate::backend::store::prelude::*;

impl Engine {
    /// Every waitlist entry of the venue's `date`, in line order, with who
    /// is waiting.
    pub async fn venue_waitlist(
        &self,
        staff: Staff,
        venue: VenueId,
        date: NaiveDate,
    ) -> Result<Vec<WaitlistEntry>, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                authorize(&mut tx, staff, venue.0).await?;
                let rows = tx.entries_on(venue.0, &date.to_string()).await?;
                entry_views(&mut tx, rows, true, now).await
            }
            .await
            .map_err(settle_app)
        })
    }
}
