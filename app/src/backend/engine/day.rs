//! One venue's day, loaded through a transaction: who is open when, what is
//! closed, what is claimed. The booking transaction, the availability grid
//! and the staff day view all judge time with it, so they cannot disagree.

use crate::domain::schedule::{self, LocalWindow, Span};
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap};

use crate::backend::store::{ClosureRow, DbResult, Store, VenueRow};

/// Whether a resource works during a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Openness {
    Open,
    OutsideHours,
    Closed,
}

#[derive(Debug, Default)]
struct ResourceDay {
    /// The weekly hours of the date, breaks not taken out.
    hours: Vec<Span>,
    breaks: Vec<Span>,
    /// The hours without the breaks.
    open: Vec<Span>,
    closed: Vec<Span>,
    /// Claimed units, each with the booking that claims it.
    claimed: BTreeMap<i64, i64>,
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
    /// The closures that touch the date (or the window loaded with it).
    closures: Vec<ClosureRow>,
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
            let r = resources.entry(*id).or_default();
            r.open = schedule::open_spans(tz, date, windows, b);
            r.hours = windows
                .iter()
                .map(|w| schedule::window_span(tz, date, w))
                .collect();
            r.breaks = b
                .iter()
                .map(|w| schedule::window_span(tz, date, w))
                .collect();
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
                .insert(c.unit_start, c.booking_id);
        }
        Ok(Day {
            date,
            tz,
            unit: venue.grid_minutes * 60,
            span,
            resources,
            closures,
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

    /// The day as it would be without `booking`'s claims: the times a
    /// booking may move to, its own time among them (a move deletes its
    /// claims before it places the booking again).
    pub fn without_booking(mut self, booking: i64) -> Day {
        for r in self.resources.values_mut() {
            r.claimed.retain(|_, b| *b != booking);
        }
        self
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

    /// The hours of every resource that works this date, breaks included:
    /// where a day view starts and ends.
    pub fn hours(&self) -> impl Iterator<Item = Span> + '_ {
        self.resources
            .values()
            .flat_map(|r| r.hours.iter().copied())
    }

    /// The hours of `resource` this date, breaks included.
    pub fn hours_of(&self, resource: i64) -> &[Span] {
        self.resources
            .get(&resource)
            .map(|r| r.hours.as_slice())
            .unwrap_or(&[])
    }

    /// Whether `span` is wholly inside the hours of `resource`, and
    /// whether a break touches it.
    pub fn in_hours(&self, resource: i64, span: Span) -> bool {
        self.resources
            .get(&resource)
            .is_some_and(|r| r.hours.iter().any(|h| h.contains(&span)))
    }

    pub fn in_break(&self, resource: i64, span: Span) -> bool {
        self.resources
            .get(&resource)
            .is_some_and(|r| r.breaks.iter().any(|b| b.overlaps(&span)))
    }

    /// The first closure of the venue or of `resource` that touches `span`.
    pub fn closure(&self, resource: i64, span: Span) -> Option<&ClosureRow> {
        self.closures.iter().find(|c| {
            c.resource_id.is_none_or(|r| r == resource)
                && Span::new(c.starts_at, c.ends_at).overlaps(&span)
        })
    }

    /// The closures loaded with the day.
    pub fn closures(&self) -> &[ClosureRow] {
        &self.closures
    }
}
