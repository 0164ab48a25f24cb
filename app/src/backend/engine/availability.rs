//! The grid of start times a customer chooses from, and which suitable
//! resources are free at each: judged on the same `Day` and `Need` as the
//! booking transaction, so the two cannot disagree.

use crate::domain::booking::{Availability, Offer, ResourceChoice, RuleViolation, SlotView};
use crate::domain::ids::{ResourceId, VenueId};
use crate::domain::schedule;
use crate::domain::venue::ResourceSummary;
use chrono::NaiveDate;

use super::day::Day;
use super::failure::Failure;
use super::need::need_for;
use super::rules::{bookable_range, venue_zone};
use crate::backend::db::Backend;
use crate::backend::store::prelude::*;
use crate::backend::store::ResourceRow;

fn summary(r: &ResourceRow) -> Option<ResourceSummary> {
    Some(ResourceSummary {
        id: ResourceId(r.id),
        kind: r.kind,
        name: r.name.clone(),
        capacity: r.capacity.map(|c| c as i32),
    })
}

pub(crate) async fn availability_attempt<B: Backend>(
    b: &B,
    now: i64,
    venue: VenueId,
    date: NaiveDate,
    offer: Offer,
    choice: ResourceChoice,
) -> Result<Availability, Failure> {
    let mut tx = b.begin_read().await?;
    let venue = tx
        .venue(venue.0)
        .await?
        .ok_or(RuleViolation::UnknownVenue)?;
    let tz = venue_zone(&venue)?;
    let need = need_for(&mut tx, &venue, offer, choice).await?;
    let (earliest, latest) = bookable_range(&venue, now);
    let bookable_dates = schedule::local_date(tz, earliest)..=schedule::local_date(tz, latest);
    let resources = need.candidates.iter().filter_map(summary).collect();
    if !bookable_dates.contains(&date) {
        // Nothing to offer that day (and no calendar arithmetic on dates far
        // from now).
        return Ok(Availability {
            venue: VenueId(venue.id),
            date,
            grid_minutes: venue.grid_minutes,
            resources,
            slots: Vec::new(),
        });
    }
    let day = Day::load(&mut tx, &venue, tz, date, None, now).await?;
    let slots = need
        .grid(&day, earliest, latest)
        .into_iter()
        .map(|(t, free)| SlotView {
            start: schedule::to_datetime(t),
            time: schedule::clock(tz, t),
            label: schedule::label(tz, t),
            free: free.into_iter().map(ResourceId).collect(),
        })
        .collect();
    Ok(Availability {
        venue: VenueId(venue.id),
        date,
        grid_minutes: venue.grid_minutes,
        resources,
        slots,
    })
}
