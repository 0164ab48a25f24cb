//! The grid of start times a customer chooses from, and which suitable
//! resources are free at each: judged on the same `Day` and `Need` as the
//! booking transaction, so the two cannot disagree.

use crate::domain::booking::{
    Availability, BookingError, GapView, Offer, ResourceChoice, RuleViolation, SlotView,
};
use crate::domain::ids::{BookingId, ResourceId, UserId, VenueId};
use crate::domain::schedule;
use crate::domain::venue::ResourceSummary;
use chrono::NaiveDate;

use super::day::Day;
use super::failure::Failure;
use super::moves::offer_of;
use super::need::need_for;
use super::rules::{bookable_range, venue_zone};
use crate::backend::db::Backend;
use crate::backend::store::prelude::*;
use crate::backend::store::{BookingRow, ResourceRow, Store, VenueRow};

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
    grid_in(&mut tx, now, venue, date, offer, choice, None).await
}

/// The times booking `id` may move to on `date`: the grid of its
/// treatment or party, read as if its own claims were gone (a move frees
/// them first), so that its own time and those overlapping it show as they
/// would for the move. With `customer`, someone else's booking is not
/// found; without, the caller has checked who may see it (staff).
pub(crate) async fn move_times_attempt<B: Backend>(
    b: &B,
    now: i64,
    customer: Option<UserId>,
    id: BookingId,
    date: NaiveDate,
    choice: ResourceChoice,
) -> Result<Availability, Failure> {
    let mut tx = b.begin_read().await?;
    let row = tx
        .booking(id.0)
        .await?
        .filter(|r| customer.is_none_or(|c| r.customer_id == c.0))
        .ok_or(Failure::Refused(BookingError::NotFound))?;
    let offer = offer_of(&row)?;
    grid_in(
        &mut tx,
        now,
        VenueId(row.venue_id),
        date,
        offer,
        choice,
        Some(row.id),
    )
    .await
}

/// Who can do booking `row`'s job at its venue: the therapists who offer
/// its treatment, or the tables that seat its party, in the engine's order;
/// none when nobody can.
pub(crate) async fn able_resources<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    row: &BookingRow,
) -> Result<Vec<ResourceRow>, Failure> {
    let offer = offer_of(row)?;
    // A booking nobody can take now (its treatment no longer offered, say)
    // has nobody to move to; it is still shown.
    match need_for(tx, venue, offer, ResourceChoice::Any).await {
        Ok(need) => Ok(need.candidates),
        Err(Failure::Refused(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

async fn grid_in<S: Store>(
    tx: &mut S,
    now: i64,
    venue: VenueId,
    date: NaiveDate,
    offer: Offer,
    choice: ResourceChoice,
    moving: Option<i64>,
) -> Result<Availability, Failure> {
    let venue = tx
        .venue(venue.0)
        .await?
        .ok_or(RuleViolation::UnknownVenue)?;
    let tz = venue_zone(&venue)?;
    let need = need_for(tx, &venue, offer, choice).await?;
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
            gaps: Vec::new(),
        });
    }
    let mut day = Day::load(tx, &venue, tz, date, None, now).await?;
    if let Some(booking) = moving {
        day = day.without_booking(booking);
    }
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
    let gaps = need
        .gaps(&day, earliest)
        .into_iter()
        .map(|(span, kind)| GapView {
            start: schedule::to_datetime(span.start),
            end: schedule::to_datetime(span.end),
            label: format!(
                "{} to {}",
                schedule::clock(tz, span.start),
                schedule::clock(tz, span.end)
            ),
            kind,
        })
        .collect();
    Ok(Availability {
        venue: VenueId(venue.id),
        date,
        grid_minutes: venue.grid_minutes,
        resources,
        slots,
        gaps,
    })
}

/// How a bookable day looks for one treatment or party: how many start
/// times it has, how many are free, and the first free one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayCount {
    pub date: NaiveDate,
    /// Whether anyone who can do the job works that day (its times may
    /// all have passed).
    pub open: bool,
    pub starts: usize,
    pub free: usize,
    /// The first free time's name: "Friday 4 December, 10:00".
    pub first_free: Option<String>,
}

/// The counts of the bookable days from `from` to `to` (both included),
/// read in one transaction; with `until_free`, it stops at the first day
/// with a free time. Days outside the bookable window are left out. With
/// `moving`, that booking's own claims are read as free, as its move
/// would take them.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn day_counts_attempt<B: Backend>(
    b: &B,
    now: i64,
    venue: VenueId,
    (from, to): (NaiveDate, NaiveDate),
    offer: Offer,
    choice: ResourceChoice,
    until_free: bool,
    moving: Option<BookingId>,
) -> Result<Vec<DayCount>, Failure> {
    let mut tx = b.begin_read().await?;
    let venue = tx
        .venue(venue.0)
        .await?
        .ok_or(RuleViolation::UnknownVenue)?;
    let tz = venue_zone(&venue)?;
    let need = need_for(&mut tx, &venue, offer, choice).await?;
    let (earliest, latest) = bookable_range(&venue, now);
    let first = from.max(schedule::local_date(tz, earliest));
    let last = to.min(schedule::local_date(tz, latest));
    let mut counts = Vec::new();
    for date in first.iter_days().take_while(|d| *d <= last) {
        let mut day = Day::load(&mut tx, &venue, tz, date, None, now).await?;
        if let Some(booking) = moving {
            day = day.without_booking(booking.0);
        }
        // A day counts its start times to come; one whose times have all
        // passed (today, late) still counts as open, not as closed.
        let open = !need.grid(&day, i64::MIN, i64::MAX).is_empty();
        let grid = need.grid(&day, earliest, latest);
        let first_free = grid
            .iter()
            .find(|(_, f)| !f.is_empty())
            .map(|(t, _)| schedule::label(tz, *t));
        let found = first_free.is_some();
        counts.push(DayCount {
            date,
            open,
            starts: grid.len(),
            free: grid.iter().filter(|(_, f)| !f.is_empty()).count(),
            first_free,
        });
        if until_free && found {
            break;
        }
    }
    Ok(counts)
}
