//! One venue's day, loaded through a transaction: who is open when, what is
//! closed, what is claimed. The booking transaction and the availability
//! grid both judge slots with it, so they cannot disagree.

use crate::domain::schedule::{self, LocalWindow, Span};
use crate::domain::venue::ResourceKind;
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::{BTreeSet, HashMap};

use super::store::{DbResult, ResourceRow, Store, VenueRow};

/// Whether a resource works during a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Openness {
    Open,
    OutsideHours,
    Closed,
}

#[derive(Debug, Default)]
struct ResourceDay {
    open: Vec<Span>,
    closed: Vec<Span>,
    claimed: BTreeSet<i64>,
}

/// The schedule of a venue's resources for one local date.
#[derive(Debug)]
pub struct Day {
    pub date: NaiveDate,
    pub tz: Tz,
    pub unit: i64,
    /// Every instant of the local date.
    pub span: Span,
    resources: HashMap<i64, ResourceDay>,
}

impl Day {
    /// Loads `date` at `venue`, with claims read in `claims_window` too (a
    /// booking's buffer may run past midnight). Claims of holds that
    /// expired by `now` do not count.
    pub async fn load<S: Store>(
        tx: &mut S,
        venue: &VenueRow,
        tz: Tz,
        date: NaiveDate,
        extra: Option<Span>,
        now: i64,
    ) -> DbResult<Day> {
        let span = schedule::local_day(tz, date);
        let window = match extra {
            Some(e) => Span::new(span.start.min(e.start), span.end.max(e.end)),
            None => span,
        };
        let weekday = schedule::weekday_index(date);
        let mut hours: HashMap<i64, Vec<LocalWindow>> = HashMap::new();
        for h in tx.weekly_hours(venue.id, weekday).await? {
            hours.entry(h.resource_id).or_default().push(LocalWindow {
                from_minute: h.from_minute,
                to_minute: h.to_minute,
            });
        }
        let mut breaks: HashMap<i64, Vec<LocalWindow>> = HashMap::new();
        for b in tx.weekly_breaks(venue.id, weekday).await? {
            breaks.entry(b.resource_id).or_default().push(LocalWindow {
                from_minute: b.from_minute,
                to_minute: b.to_minute,
            });
        }
        let mut resources: HashMap<i64, ResourceDay> = HashMap::new();
        for (id, windows) in &hours {
            let b = breaks.get(id).map(Vec::as_slice).unwrap_or(&[]);
            resources.entry(*id).or_default().open = schedule::open_spans(tz, date, windows, b);
        }
        let closures = tx.closures(venue.id, window.start, window.end).await?;
        let venue_wide: Vec<Span> = closures
            .iter()
            .filter(|c| c.resource_id.is_none())
            .map(|c| Span::new(c.starts_at, c.ends_at))
            .collect();
        for r in resources.values_mut() {
            r.closed.extend(venue_wide.iter().copied());
        }
        for c in closures.iter().filter(|c| c.resource_id.is_some()) {
            if let Some(r) = c.resource_id.and_then(|id| resources.get_mut(&id)) {
                r.closed.push(Span::new(c.starts_at, c.ends_at));
            }
        }
        for c in tx
            .live_claims(venue.id, window.start, window.end, now)
            .await?
        {
            resources
                .entry(c.resource_id)
                .or_default()
                .claimed
                .insert(c.unit_start);
        }
        Ok(Day {
            date,
            tz,
            unit: venue.grid_minutes * 60,
            span,
            resources,
        })
    }

    /// Whether `resource` works for the whole of `span`.
    pub fn openness(&self, resource: i64, span: Span) -> Openness {
        let Some(r) = self.resources.get(&resource) else {
            return Openness::OutsideHours;
        };
        if !r.open.iter().any(|o| o.contains(&span)) {
            Openness::OutsideHours
        } else if r.closed.iter().any(|c| c.overlaps(&span)) {
            Openness::Closed
        } else {
            Openness::Open
        }
    }

    /// Whether no live booking claims any unit of `occupied` on `resource`.
    pub fn is_unclaimed(&self, resource: i64, occupied: Span) -> bool {
        self.resources.get(&resource).is_none_or(|r| {
            r.claimed
                .range(occupied.start..occupied.end)
                .next()
                .is_none()
        })
    }

    /// Open for the appointment and unclaimed through its buffer.
    pub fn is_free(&self, resource: i64, span: Span, occupied: Span) -> bool {
        self.openness(resource, span) == Openness::Open && self.is_unclaimed(resource, occupied)
    }

    /// The open spans of a resource, for building its grid.
    pub fn open_spans(&self, resource: i64) -> &[Span] {
        self.resources
            .get(&resource)
            .map(|r| r.open.as_slice())
            .unwrap_or(&[])
    }
}

/// What a booking occupies, and which resources can provide it.
#[derive(Clone, Debug)]
pub struct Need {
    /// Seconds of treatment or seating.
    pub length: i64,
    /// Seconds of cleanup after it.
    pub buffer: i64,
    /// Suitable primary resources, best first (for tables: smallest first).
    pub candidates: Vec<ResourceRow>,
    /// Rooms to pick one from, when the service needs a room.
    pub rooms: Vec<ResourceRow>,
}

impl Need {
    /// The appointment itself and what it occupies, buffer included and
    /// rounded up to the grid.
    pub fn spans(&self, start: i64, unit: i64) -> (Span, Span) {
        let span = Span::new(start, start + self.length);
        let occupied = Span::new(start, schedule::ceil_to_grid(span.end + self.buffer, unit));
        (span, occupied)
    }

    /// Every resource a booking of this need might take, in id order: what
    /// its transaction locks.
    pub fn lock_set(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .candidates
            .iter()
            .chain(&self.rooms)
            .map(|r| r.id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// A free room for the span, if the service needs one. `Some(None)`: no
    /// room needed; `None`: a room is needed and none is free.
    pub fn free_room(&self, day: &Day, span: Span, occupied: Span) -> Option<Option<i64>> {
        if self.rooms.is_empty() {
            return Some(None);
        }
        self.rooms
            .iter()
            .find(|r| day.is_free(r.id, span, occupied))
            .map(|r| Some(r.id))
    }

    /// Whether `resource` (with a room, if needed) is free at `start`.
    pub fn fits(&self, day: &Day, resource: i64, start: i64) -> bool {
        let (span, occupied) = self.spans(start, day.unit);
        day.is_free(resource, span, occupied) && self.free_room(day, span, occupied).is_some()
    }

    /// The grid starts of the day at which any candidate works, each with
    /// the candidates free then.
    pub fn grid(&self, day: &Day, earliest: i64, latest: i64) -> Vec<(i64, Vec<i64>)> {
        let mut starts = BTreeSet::new();
        for c in &self.candidates {
            for open in day.open_spans(c.id) {
                starts.extend(schedule::grid_starts(*open, day.unit, self.length));
            }
        }
        starts
            .into_iter()
            .filter(|t| *t >= earliest && *t <= latest && day.span.start <= *t && *t < day.span.end)
            .filter_map(|t| {
                let (span, _) = self.spans(t, day.unit);
                let working: Vec<&ResourceRow> = self
                    .candidates
                    .iter()
                    .filter(|c| day.openness(c.id, span) == Openness::Open)
                    .collect();
                if working.is_empty() {
                    return None;
                }
                let free = working
                    .iter()
                    .filter(|c| self.fits(day, c.id, t))
                    .map(|c| c.id)
                    .collect();
                Some((t, free))
            })
            .collect()
    }
}

pub fn kind_of(r: &ResourceRow) -> Option<ResourceKind> {
    ResourceKind::parse(&r.kind)
}
