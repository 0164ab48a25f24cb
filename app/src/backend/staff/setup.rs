//! Changes to a venue's set-up (settings, resources, services, hours,
//! closures), each in one transaction under the venue's lock with the
//! stranded-bookings check, and the set-up page's view of it all.

use crate::domain::admin::{
    ResourceSetup, ServiceSetup, StrandChoice, VenueSettings, VenueSetup, WeekdayHours,
};
use crate::domain::error::AppError;
use crate::domain::ids::{ResourceId, ServiceId, VenueId};
use std::collections::{BTreeMap, HashMap, HashSet};

use super::changes::{apply, Change};
use super::strands::{describe, stranded};
use super::{authorize, closure_view, venue_for, Staff};
use crate::backend::db::{with_backend, Backend};
use crate::backend::engine::{
    begin_write, cancel_in, offer_waiting, retrying, settle_app, venue_zone, Canceller, Clock,
    Engine, Failure, Lines, LockSet, OfferRun,
};
use crate::backend::pauses::{self, Point};
use crate::backend::store::prelude::*;
use crate::backend::store::{BookingRow, NewAudit};
use crate::domain::admin::format_clock;

impl Engine {
    /// A set-up change, with the stranded-bookings check: see `StrandChoice`.
    pub async fn change(
        &self,
        staff: Staff,
        venue: VenueId,
        change: &Change,
        choice: StrandChoice,
    ) -> Result<(), AppError> {
        self.change_many(staff, venue, None, std::slice::from_ref(change), choice)
            .await
    }

    /// Several set-up changes in one transaction, all or none, each with
    /// its audit row; the stranded-bookings check judges them together.
    /// With `list`, a refusal of the `i`th names its field
    /// `{list}[{i}][{field}]`, as a form of rows names it.
    pub async fn change_many(
        &self,
        staff: Staff,
        venue: VenueId,
        list: Option<&str>,
        changes: &[Change],
        choice: StrandChoice,
    ) -> Result<(), AppError> {
        if changes.is_empty() {
            return Ok(());
        }
        let done = with_backend!(self.db(), |b| {
            retrying(self.counters(), || {
                change_attempt(b, self.clock(), staff, venue, (list, changes), choice)
            })
            .await
            .map_err(settle_app)
        });
        done.map(|run| {
            self.changed();
            self.after_offers(&run);
        })
    }

    /// Everything the set-up page edits.
    pub async fn venue_setup(&self, staff: Staff, venue: VenueId) -> Result<VenueSetup, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                let (v, tz) = venue_for(&mut tx, staff, venue).await?;
                let offers = tx.offers(v.id).await?;
                let rows = tx.resources(v.id).await?;
                let mut resources = Vec::new();
                for r in &rows {
                    let entries = tx.weekly_of(r.id).await?;
                    let week = (0..7)
                        .map(|d| {
                            let mut day = WeekdayHours {
                                weekday: d,
                                ..WeekdayHours::default()
                            };
                            for e in entries.iter().filter(|e| e.weekday == d) {
                                let (from, to) =
                                    (format_clock(e.from_minute), format_clock(e.to_minute));
                                if e.is_break {
                                    (day.break_starts, day.break_ends) = (from, to);
                                } else {
                                    (day.opens, day.closes) = (from, to);
                                }
                            }
                            day
                        })
                        .collect();
                    resources.push(ResourceSetup {
                        id: ResourceId(r.id),
                        kind: r.kind,
                        name: r.name.clone(),
                        capacity: r.capacity,
                        active: r.active,
                        version: r.version,
                        offers: offers
                            .iter()
                            .filter(|(t, _)| *t == r.id)
                            .map(|(_, s)| ServiceId(*s))
                            .collect(),
                        week,
                    });
                }
                let services = tx
                    .services(v.id)
                    .await?
                    .into_iter()
                    .map(|s| ServiceSetup {
                        id: ServiceId(s.id),
                        name: s.name,
                        duration_minutes: s.duration_minutes,
                        cleanup_minutes: s.cleanup_minutes,
                        needs_room: s.needs_room,
                        active: s.active,
                        version: s.version,
                        price_cents: s.price_cents,
                        description: s.description,
                    })
                    .collect();
                let names: HashMap<i64, String> =
                    rows.iter().map(|r| (r.id, r.name.clone())).collect();
                let closures = tx
                    .closures(v.id, now, i64::MAX)
                    .await?
                    .iter()
                    .map(|c| closure_view(c, tz, &names))
                    .collect();
                Ok::<_, Failure>(VenueSetup {
                    settings: VenueSettings {
                        id: VenueId(v.id),
                        name: v.name.clone(),
                        timezone: v.timezone.clone(),
                        grid_minutes: v.grid_minutes,
                        hold_minutes: v.hold_minutes,
                        cancellation_window_minutes: v.cancellation_window_minutes,
                        min_notice_minutes: v.min_notice_minutes,
                        advance_days: v.advance_days,
                        seating_minutes: v.seating_minutes,
                        max_holds_per_customer: v.max_holds_per_customer,
                        max_upcoming_per_customer: v.max_upcoming_per_customer,
                        version: v.version,
                        currency: v.currency.clone(),
                        address: v.address.clone(),
                        reminder_minutes: v.reminder_minutes,
                        offer_minutes: v.offer_minutes,
                    },
                    resources,
                    services,
                    closures,
                })
            }
            .await
            .map_err(settle_app)
        })
    }
}
async fn change_attempt<B: Backend>(
    b: &B,
    clock: &Clock,
    staff: Staff,
    venue: VenueId,
    (list, changes): (Option<&str>, &[Change]),
    choice: StrandChoice,
) -> Result<OfferRun, Failure> {
    let mut tx = begin_write(b).await?;
    authorize(&mut tx, staff, venue.0).await?;
    if !B::Tx::LOCKS_AT_BEGIN {
        pauses::pause(Point::BeforeLock).await;
    }
    // Every booker of the venue queues behind this; everything below is
    // read under the lock, the time included.
    tx.lock_venue(venue.0).await?;
    let now = clock.now();
    let before_row = tx
        .venue(venue.0)
        .await?
        .ok_or(Failure::App(AppError::NotFound))?;
    let tz = venue_zone(&before_row)?;
    let already: HashSet<i64> = stranded(&mut tx, &before_row, tz, now)
        .await?
        .into_iter()
        .map(|(r, _)| r.id)
        .collect();
    let mut applied = Vec::with_capacity(changes.len());
    for (i, change) in changes.iter().enumerate() {
        // Each change reads the venue as the ones before it left it.
        let row = match i {
            0 => before_row.clone(),
            _ => tx
                .venue(venue.0)
                .await?
                .ok_or(Failure::App(AppError::Internal))?,
        };
        match (apply(&mut tx, &row, change, now).await, list) {
            (Ok(a), _) => applied.push(a),
            (Err(Failure::App(AppError::Invalid { field, message, .. })), Some(list)) => {
                return Err(Failure::App(AppError::invalid(
                    format!("{list}[{i}][{field}]"),
                    message,
                )));
            }
            (Err(e), _) => return Err(e),
        }
    }
    let Some(reason) = applied.first().map(|a| a.action) else {
        return Ok(OfferRun::default());
    };
    let after_row = tx
        .venue(venue.0)
        .await?
        .ok_or(Failure::App(AppError::Internal))?;
    let newly: Vec<(BookingRow, Vec<i64>)> = stranded(&mut tx, &after_row, tz, now)
        .await?
        .into_iter()
        .filter(|(r, _)| !already.contains(&r.id))
        .collect();
    let mut note = String::new();
    if !newly.is_empty() {
        match choice {
            StrandChoice::Ask => {
                let bookings = describe(&mut tx, venue.0, tz, &newly).await?;
                return Err(Failure::App(AppError::Strands {
                    bookings,
                    submitted: BTreeMap::new(),
                }));
            }
            StrandChoice::Cancel => {
                // In id order, as every other writer of booking rows does.
                let mut newly = newly.clone();
                newly.sort_by_key(|(r, _)| r.id);
                for (row, _) in &newly {
                    let by = Canceller::Venue {
                        staff: staff.user,
                        reason: Some(reason),
                    };
                    cancel_in(&mut tx, row, by, now).await?;
                }
                note = format!(" (cancelled {} booking(s))", newly.len());
            }
            StrandChoice::Keep => {
                note = format!(
                    " (kept booking(s) {})",
                    newly
                        .iter()
                        .map(|(r, _)| format!("#{}", r.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }
    // Time the change freed (a closure removed, longer hours, a booking
    // cancelled) goes to those waiting first; the venue is locked whole.
    let run = offer_waiting(&mut tx, &mut LockSet::default(), venue.0, Lines::All, now).await?;
    // The note on what became of stranded bookings goes with the last.
    let last = applied.len() - 1;
    for (i, applied) in applied.iter().enumerate() {
        let note = if i == last { note.as_str() } else { "" };
        tx.insert_audit(&NewAudit {
            at: now,
            actor_id: staff.user.0,
            venue_id: venue.0,
            resource_id: applied.resource,
            service_id: applied.service,
            booking_id: None,
            action: applied.action,
            before: applied.before.clone(),
            after: applied
                .after
                .clone()
                .map(|a| a + note)
                .or((!note.is_empty()).then(|| note.trim().to_owned())),
        })
        .await?;
    }
    pauses::pause(Point::BeforeCommit).await;
    tx.commit().await?;
    tracing::info!(
        venue = venue.0,
        action = reason,
        changes = applied.len(),
        "staff change"
    );
    Ok(run)
}
