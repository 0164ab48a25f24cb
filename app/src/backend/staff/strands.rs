//! Bookings a set-up change strands (a resource inactive, outside its
//! hours, in a closure, a therapist who no longer offers the service, a
//! table too small), and the claims of every booking moved onto a new grid.

use crate::domain::admin::StrandedBooking;
use crate::domain::error::AppError;
use crate::domain::ids::{BookingId, VenueId};
use crate::domain::schedule::{self, Span};
use crate::domain::venue::ResourceKind;
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::{HashMap, HashSet};

use super::{invalid, venue_for, Names, Staff};
use crate::backend::db::{is_guard_violation, with_backend, Backend};
use crate::backend::engine::{settle_app, Day, Engine, Failure, Openness};
use crate::backend::store::{BookingRow, ResourceRow, Store, VenueRow};

pub(super) async fn stranded<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    tz: Tz,
    now: i64,
) -> Result<Vec<(BookingRow, Vec<i64>)>, Failure> {
    let resources: HashMap<i64, ResourceRow> = tx
        .resources(venue.id)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let offers: HashSet<(i64, i64)> = tx.offers(venue.id).await?.into_iter().collect();
    let mut days: HashMap<NaiveDate, Day> = HashMap::new();
    let mut out = Vec::new();
    for row in tx.live_bookings_after(venue.id, now).await? {
        let used = tx.booking_resources(row.id).await?;
        let date = schedule::local_date(tz, row.starts_at);
        if !days.contains_key(&date) {
            let day = Day::load(tx, venue, tz, date, None, now).await?;
            days.insert(date, day);
        }
        let day = &days[&date];
        let span = Span::new(row.starts_at, row.ends_at);
        let fits = |r: &i64| {
            let Some(res) = resources.get(r) else {
                return false;
            };
            let offered = match (res.kind, row.service_id) {
                (ResourceKind::Therapist, Some(s)) => offers.contains(&(*r, s)),
                (ResourceKind::Table, _) => res.capacity >= row.party_size,
                _ => true,
            };
            res.active && offered && day.openness(*r, span) == Openness::Open
        };
        if !used.iter().all(fits) {
            out.push((row, used));
        }
    }
    Ok(out)
}

pub(super) async fn describe<S: Store>(
    tx: &mut S,
    venue: i64,
    tz: Tz,
    rows: &[(BookingRow, Vec<i64>)],
) -> Result<Vec<StrandedBooking>, Failure> {
    let only: Vec<BookingRow> = rows.iter().map(|(r, _)| r.clone()).collect();
    let names = Names::load(tx, venue, &only).await?;
    Ok(rows
        .iter()
        .map(|(r, used)| StrandedBooking {
            id: BookingId(r.id),
            summary: format!(
                "{}: {} with {}, {}",
                names.customer(r),
                names.what(r),
                names.with(used),
                schedule::label(tz, r.starts_at)
            ),
        })
        .collect())
}

/// After a change of grid unit, the venue's bookings still to come claim
/// the units of the new grid: otherwise a new booking, claiming new units,
/// would not collide with an old one on the unique index.
pub(super) async fn reclaim_on_new_grid<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    now: i64,
) -> Result<(), Failure> {
    let unit = venue.grid_minutes * 60;
    let live = tx.live_bookings_after(venue.id, now).await?;
    if let Some(off) = live
        .iter()
        .find(|b| !schedule::is_on_grid(b.starts_at, unit))
    {
        return Err(invalid(
            "grid_minutes",
            format!(
                "Booking #{} starts off a {}-minute grid; move it first, or keep the grid.",
                off.id, venue.grid_minutes
            ),
        ));
    }
    // In id order, as every other writer of booking rows does.
    let mut live = live;
    live.sort_by_key(|b| b.id);
    for b in &live {
        // Its row locked and read again: a hold that lapsed and was swept
        // since the list was read gets no claims back.
        match tx.lock_booking(b.id).await? {
            Some(row) if row.status.is_live() => {}
            _ => continue,
        }
        let cleanup = match b.service_id {
            Some(s) => tx.service(s).await?.map_or(0, |s| s.cleanup_minutes * 60),
            None => 0,
        };
        let occupied = Span::new(
            b.starts_at,
            schedule::ceil_to_grid(b.ends_at + cleanup, unit),
        );
        let resources = tx.booking_resources(b.id).await?;
        tx.delete_claims(b.id).await?;
        tx.reschedule(b.id, b.starts_at, b.ends_at, occupied.end, now)
            .await?;
        if let Err(e) = tx.insert_claims(b.id, &resources, occupied, unit).await {
            return Err(if is_guard_violation(&e) {
                invalid(
                    "grid_minutes",
                    format!(
                        "On a {}-minute grid, booking #{} would share time with another; keep the grid.",
                        venue.grid_minutes, b.id
                    ),
                )
            } else {
                e.into()
            });
        }
    }
    Ok(())
}
impl Engine {
    /// Live bookings of the venue, still to come or under way, that its
    /// set-up no longer takes (see `stranded`): the ones staff chose to
    /// keep through a change. A booking made after a change is never among
    /// them: it was decided on the new set-up.
    pub async fn stranded_bookings(
        &self,
        staff: Staff,
        venue: VenueId,
    ) -> Result<Vec<BookingId>, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                let (v, tz) = venue_for(&mut tx, staff, venue).await?;
                Ok::<_, Failure>(
                    stranded(&mut tx, &v, tz, now)
                        .await?
                        .into_iter()
                        .map(|(row, _)| BookingId(row.id))
                        .collect(),
                )
            }
            .await
            .map_err(settle_app)
        })
    }
}
