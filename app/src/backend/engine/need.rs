//! What a request needs: the length, the buffer, which resources can
//! provide it (the therapists who offer the treatment, the tables that seat
//! the party) and the rooms; read in the transaction that decides.

use crate::domain::booking::{GapKind, Offer, ResourceChoice, RuleViolation};
use crate::domain::ids::{ResourceId, ServiceId};
use crate::domain::schedule::{self, Span};
use crate::domain::venue::ResourceKind;
use std::collections::BTreeSet;

use super::day::{Day, Openness};
use super::failure::Failure;
use crate::backend::store::{ResourceRow, Store, VenueRow};

/// What `offer` needs at `venue` and which resources can provide it, with
/// the choice of resource checked: the therapist offers the service, the
/// table seats the party.
pub(crate) async fn need_for<S: Store>(
    tx: &mut S,
    venue: &VenueRow,
    offer: Offer,
    choice: ResourceChoice,
) -> Result<Need, Failure> {
    let active: Vec<ResourceRow> = tx
        .resources(venue.id)
        .await?
        .into_iter()
        .filter(|r| r.active)
        .collect();
    let of_kind = |k: ResourceKind| -> Vec<ResourceRow> {
        active.iter().filter(|r| r.kind == k).cloned().collect()
    };
    match offer {
        Offer::Service(ServiceId(sid)) => {
            let service = tx
                .service(sid)
                .await?
                .filter(|s| s.venue_id == venue.id && s.active)
                .ok_or(RuleViolation::UnknownService)?;
            let offers = tx.offers(venue.id).await?;
            let offers_it = |t: &ResourceRow| offers.contains(&(t.id, sid));
            let therapists = of_kind(ResourceKind::Therapist);
            let candidates: Vec<ResourceRow> = match choice {
                ResourceChoice::Any => therapists.into_iter().filter(offers_it).collect(),
                ResourceChoice::Specific(ResourceId(rid)) => {
                    let t = therapists
                        .into_iter()
                        .find(|t| t.id == rid)
                        .ok_or(RuleViolation::UnknownResource)?;
                    if !offers_it(&t) {
                        return Err(RuleViolation::ServiceNotOffered.into());
                    }
                    vec![t]
                }
            };
            if candidates.is_empty() {
                return Err(RuleViolation::ServiceNotOffered.into());
            }
            Ok(Need {
                length: service.duration_minutes * 60,
                buffer: service.cleanup_minutes * 60,
                candidates,
                rooms: if service.needs_room {
                    of_kind(ResourceKind::Room)
                } else {
                    Vec::new()
                },
                price_cents: service.price_cents,
            })
        }
        Offer::Table(party) => {
            let seating = venue.seating_minutes.ok_or(RuleViolation::WrongOffer {
                expected: "treatment".to_owned(),
            })?;
            let mut tables = of_kind(ResourceKind::Table);
            tables.sort_by_key(|t| (t.capacity.unwrap_or(0), t.id));
            let largest = tables.iter().filter_map(|t| t.capacity).max().unwrap_or(0);
            let party = party.get();
            let candidates: Vec<ResourceRow> = match choice {
                ResourceChoice::Any => tables
                    .into_iter()
                    .filter(|t| t.capacity.unwrap_or(0) >= party)
                    .collect(),
                ResourceChoice::Specific(ResourceId(rid)) => {
                    let t = tables
                        .into_iter()
                        .find(|t| t.id == rid)
                        .ok_or(RuleViolation::UnknownResource)?;
                    let capacity = t.capacity.unwrap_or(0);
                    if capacity < party {
                        return Err(RuleViolation::TableTooSmall {
                            capacity,
                            party_size: party,
                        }
                        .into());
                    }
                    vec![t]
                }
            };
            if candidates.is_empty() {
                return Err(RuleViolation::PartyTooLarge {
                    party_size: party,
                    largest,
                }
                .into());
            }
            Ok(Need {
                length: seating * 60,
                buffer: 0,
                candidates,
                rooms: Vec::new(),
                price_cents: None,
            })
        }
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
    /// What the treatment costs now (the booking keeps it); none for a
    /// table or an unpriced treatment.
    pub price_cents: Option<i64>,
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

    /// The stretches from the first candidate's opening to the last one's
    /// closing, and after `earliest`, when no candidate works: each a
    /// closure when one covers a candidate then, else a break.
    pub fn gaps(&self, day: &Day, earliest: i64) -> Vec<(Span, GapKind)> {
        let hours: Vec<Span> = self
            .candidates
            .iter()
            .flat_map(|c| day.hours_of(c.id).iter().copied())
            .collect();
        let (Some(first), Some(last)) = (
            hours.iter().map(|h| h.start).min(),
            hours.iter().map(|h| h.end).max(),
        ) else {
            return Vec::new();
        };
        let mut gaps: Vec<(Span, GapKind)> = Vec::new();
        let mut t = first.max(schedule::ceil_to_grid(earliest, day.unit).min(last));
        while t < last {
            let unit = Span::new(t, (t + day.unit).min(last));
            let state = if self
                .candidates
                .iter()
                .any(|c| day.openness(c.id, unit) == Openness::Open)
            {
                None
            } else if self
                .candidates
                .iter()
                .any(|c| day.closure(c.id, unit).is_some())
            {
                Some(GapKind::Closed)
            } else {
                Some(GapKind::Break)
            };
            match (state, gaps.last_mut()) {
                (Some(kind), Some((span, k))) if *k == kind && span.end == unit.start => {
                    span.end = unit.end
                }
                (Some(kind), _) => gaps.push((unit, kind)),
                (None, _) => {}
            }
            t = unit.end;
        }
        gaps
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
