//! The waitlist: joining and leaving the line of a full day, and the offer
//! that every transaction which frees time makes to those waiting.
//!
//! An offer is made inside the freeing transaction (a cancellation, a
//! release, an expiry, a move, a set-up change, a join), under the locks
//! of every resource the line's wishes could take: the day as that
//! transaction leaves it is read, and the first entry in line (the lowest
//! id) whose wish fits a free time gets a hold of it, placed as any hold
//! is, with an outbox message. Nobody else can take that time while it is
//! on offer (it is claimed); if the hold lapses or is let go, the
//! transaction that frees it offers it to the next in the same way.

use crate::domain::booking::{BookingStatus, Offer, ResourceChoice, RuleViolation};
use crate::domain::error::AppError;
use crate::domain::ids::{BookingId, ResourceId, ServiceId, UserId, VenueId};
use crate::domain::input::PartySize;
use crate::domain::schedule::{self, Ambiguity};
use crate::domain::waitlist::{WaitlistEntry, WaitlistState, Wish, MAX_ENTRIES_PER_CUSTOMER};
use chrono::NaiveDate;
use std::collections::HashMap;

use super::day::Day;
use super::failure::{retrying, settle_app, Failure};
use super::holds::{cancel_in, Canceller};
use super::locks::{begin_write, lock_booking_resources, LockSet};
use super::need::{need_for, Need};
use super::place::{choose, expire_lapsed, write_booking};
use super::rules::{bookable_range, venue_zone};
use super::Engine;
use crate::backend::db::{with_backend, Backend};
use crate::backend::pauses::{self, Point};
use crate::backend::store::prelude::*;
use crate::backend::store::{EntryRow, MessageKind, NewBooking, NewEntry, NewMessage, VenueRow};

/// How many waiting entries one offer run reads.
const LINE_LIMIT: i64 = 200;

/// What an offer run did.
#[derive(Debug, Default)]
pub(crate) struct OfferRun {
    /// The holds it offered.
    pub offered: Vec<i64>,
    /// The venues of lapsed holds it expired on the way.
    pub expired: Vec<i64>,
}

fn entry_offer(e: &EntryRow) -> Result<Offer, Failure> {
    match (e.service_id, e.party_size) {
        (Some(s), _) => Ok(Offer::Service(ServiceId(s))),
        (None, Some(p)) => PartySize::parse(p)
            .map(Offer::Table)
            .map_err(|_| Failure::Refused(RuleViolation::UnknownService.into())),
        _ => Err(Failure::Refused(RuleViolation::UnknownService.into())),
    }
}

fn entry_date(e: &EntryRow) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&e.day, "%Y-%m-%d").ok()
}

/// Whose line an offer run reads.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Lines<'a> {
    /// The venue's days of these instants (the starts of what was freed).
    Freed(&'a [i64]),
    /// One day of the venue's calendar.
    Day(NaiveDate),
    /// Every day to come (a set-up change may free time on any).
    All,
}

/// Expires the lapsed holds on the locked resources and offers their time
/// to the waitlist: what a transaction does before it places anything.
pub(crate) async fn expire_and_offer<S: Store>(
    tx: &mut S,
    locks: &mut LockSet,
    venue_id: i64,
    now: i64,
) -> Result<OfferRun, Failure> {
    let freed = expire_lapsed(tx, locks.locked(), now).await?;
    if freed.is_empty() {
        return Ok(OfferRun::default());
    }
    let starts: Vec<i64> = freed.iter().map(|f| f.starts_at).collect();
    let mut run = offer_waiting(tx, locks, venue_id, Lines::Freed(&starts), now).await?;
    run.expired.extend(freed.iter().map(|f| f.venue_id));
    Ok(run)
}

/// Offers the free time on the days of `lines` at the venue to those
/// waiting for it, in line order, each entry at most one hold: the
/// earliest free start in its range. The caller holds the locks of what
/// it freed; `locks` grows to every resource the line could take.
pub(crate) async fn offer_waiting<S: Store>(
    tx: &mut S,
    locks: &mut LockSet,
    venue_id: i64,
    lines: Lines<'_>,
    now: i64,
) -> Result<OfferRun, Failure> {
    let mut run = OfferRun::default();
    let Some(venue) = tx.venue(venue_id).await? else {
        return Ok(run);
    };
    let tz = venue_zone(&venue)?;
    let mut days: Option<Vec<NaiveDate>> = match lines {
        Lines::Freed(starts) => Some(
            starts
                .iter()
                .map(|t| schedule::local_date(tz, *t))
                .collect(),
        ),
        Lines::Day(d) => Some(vec![d]),
        Lines::All => None,
    };
    if let Some(d) = &mut days {
        d.sort_unstable();
        d.dedup();
    }
    // Days that have passed wait for nothing.
    let today = schedule::local_date(tz, now).to_string();
    // The line, and what each wish needs, read under the locks of all of
    // it: a set that grew is read again, as the booking transaction does.
    let (line, needs) = loop {
        let mut line = match &days {
            Some(ds) => {
                let mut line = Vec::new();
                for d in ds {
                    line.extend(
                        tx.waiting_on(venue.id, Some(&d.to_string()), &today, LINE_LIMIT)
                            .await?,
                    );
                }
                line
            }
            None => tx.waiting_on(venue.id, None, &today, LINE_LIMIT).await?,
        };
        if line.is_empty() {
            return Ok(run);
        }
        line.sort_by_key(|e| e.id);
        let mut needs: Vec<Option<Need>> = Vec::with_capacity(line.len());
        let mut wanted = Vec::new();
        for e in &line {
            let need = match entry_offer(e) {
                Ok(offer) => {
                    let choice = ResourceChoice::from_id(e.resource_id);
                    match need_for(tx, &venue, offer, choice).await {
                        Ok(n) => Some(n),
                        // Nobody does it any more: the entry waits on.
                        Err(Failure::Refused(_)) => None,
                        Err(f) => return Err(f),
                    }
                }
                Err(_) => None,
            };
            if let Some(n) = &need {
                wanted.extend(n.lock_set());
            }
            needs.push(need);
        }
        wanted.sort_unstable();
        wanted.dedup();
        if !locks.covers(tx, &wanted).await? {
            continue;
        }
        // Holds that lapsed on these resources let go first; their days'
        // lines are read too (an offer that lapsed passes on).
        let freed = expire_lapsed(tx, locks.locked(), now).await?;
        run.expired.extend(freed.iter().map(|f| f.venue_id));
        if let Some(ds) = &mut days {
            let before = ds.len();
            ds.extend(freed.iter().map(|f| schedule::local_date(tz, f.starts_at)));
            ds.sort_unstable();
            ds.dedup();
            if ds.len() != before {
                continue;
            }
        }
        break (line, needs);
    };

    let (earliest, latest) = bookable_range(&venue, now);
    let mut loaded: Option<Day> = None;
    for (e, need) in line.iter().zip(needs) {
        let (Some(need), Some(date)) = (need, entry_date(e)) else {
            continue;
        };
        let lo = schedule::local_instant(tz, date, e.from_minute, Ambiguity::Earliest);
        let hi = schedule::local_instant(tz, date, e.to_minute, Ambiguity::Latest);
        if hi < earliest || lo > latest {
            continue;
        }
        // Its row, locked: a customer leaving at the same moment has left
        // (and is passed over) or waits for this offer.
        let Some(entry) = tx
            .lock_entry(e.id)
            .await?
            .filter(|x| x.state == WaitlistState::Waiting)
        else {
            continue;
        };
        let day = match loaded.take() {
            Some(d) if d.date == date => d,
            _ => Day::load(tx, &venue, tz, date, None, now).await?,
        };
        let unit = day.unit;
        let found = need
            .grid(&day, earliest.max(lo), latest.min(hi))
            .into_iter()
            .filter(|(_, free)| !free.is_empty())
            .find_map(|(t, _)| {
                let (span, occupied) = need.spans(t, unit);
                choose(&day, &need, span, occupied)
                    .ok()
                    .map(|(primary, room)| (span, occupied, primary, room))
            });
        let Some((span, occupied, primary, room)) = found else {
            loaded = Some(day);
            continue;
        };
        let mut resources: Vec<i64> = std::iter::once(primary).chain(room).collect();
        resources.sort_unstable();
        let key = format!("waitlist-{}", entry.id);
        let request = format!("waitlist|entry:{}", entry.id);
        let hold = write_booking(
            tx,
            &NewBooking {
                customer_id: entry.customer_id,
                venue_id: venue.id,
                service_id: entry.service_id,
                party_size: entry.party_size,
                starts_at: span.start,
                ends_at: span.end,
                occupied_until: occupied.end,
                status: BookingStatus::Held,
                hold_expires_at: Some((now + venue.offer_minutes * 60).min(span.start)),
                idempotency_key: &key,
                request: &request,
                now,
                price_cents: need.price_cents,
                currency: need.price_cents.map(|_| venue.currency.as_str()),
            },
            &resources,
            occupied,
            unit,
        )
        .await?;
        tx.mark_offered(entry.id, hold, now).await?;
        tx.insert_message(&NewMessage {
            booking_id: hold,
            kind: MessageKind::WaitlistOffer,
            starts_at: span.start,
            ends_at: span.end,
            detail: None,
            now,
        })
        .await?;
        tracing::info!(entry = entry.id, hold, start = span.start, "waitlist offer");
        run.offered.push(hold);
    }
    Ok(run)
}

fn refuse(message: &str) -> Failure {
    Failure::App(AppError::Refused {
        message: message.to_owned(),
    })
}

/// Checks a wish's day: to come, and within the advance window (before
/// any calendar arithmetic on it).
fn check_date(venue: &VenueRow, tz: chrono_tz::Tz, wish: &Wish, now: i64) -> Result<(), Failure> {
    let today = schedule::local_date(tz, now);
    let last = schedule::local_date(tz, bookable_range(venue, now).1);
    if wish.date < today {
        return Err(refuse("That day has passed."));
    }
    if wish.date > last {
        return Err(refuse(&format!(
            "The venue takes bookings up to {} days ahead.",
            venue.advance_days
        )));
    }
    Ok(())
}

/// Checks a wish against its day as read under the locks: someone who can
/// do it works that day, and the range has a start still to come.
fn check_day(
    venue: &VenueRow,
    wish: &Wish,
    day: &Day,
    need: &Need,
    now: i64,
) -> Result<(), Failure> {
    let tz = day.tz;
    let lo = schedule::local_instant(tz, wish.date, wish.from_minute, Ambiguity::Earliest);
    let hi = schedule::local_instant(tz, wish.date, wish.to_minute, Ambiguity::Latest);
    let starts = need.grid(day, lo, hi);
    if starts.is_empty() {
        return Err(refuse(if need.grid(day, i64::MIN, i64::MAX).is_empty() {
            "Nobody who does that works that day: the venue is closed for it."
        } else {
            "No time in that range is ever offered that day."
        }));
    }
    // Only starts a customer may still book (past the minimum notice) can
    // ever be offered.
    let earliest = bookable_range(venue, now).0;
    if starts.iter().all(|(t, _)| *t < earliest) {
        return Err(refuse(
            "Every time in that range has passed or is too soon to book.",
        ));
    }
    Ok(())
}

async fn join_attempt<B: Backend>(b: &B, engine: &Engine, wish: &Wish) -> Result<i64, Failure> {
    let mut tx = begin_write(b).await?;
    let mut locks = LockSet::default();
    // The wish's resources are locked before the entry is written, so that
    // two customers with one wish get their places in the order they
    // lock, and an offer reading the line sees every place given before.
    let (venue, need) = loop {
        let venue = tx
            .venue(wish.venue.0)
            .await?
            .ok_or(RuleViolation::UnknownVenue)?;
        let need = need_for(&mut tx, &venue, wish.offer, wish.resource).await?;
        if locks.covers(&mut tx, &need.lock_set()).await? {
            break (venue, need);
        }
    };
    let now = engine.clock().now();
    let tz = venue_zone(&venue)?;
    check_date(&venue, tz, wish, now)?;
    let day = Day::load(&mut tx, &venue, tz, wish.date, None, now).await?;
    check_day(&venue, wish, &day, &need, now)?;
    tx.lock_customer(wish.customer.0).await?;
    let (service_id, party_size) = match wish.offer {
        Offer::Service(s) => (Some(s.0), None),
        Offer::Table(p) => (None, Some(p.get())),
    };
    let resource_id = match wish.resource {
        ResourceChoice::Any => None,
        ResourceChoice::Specific(r) => Some(r.0),
    };
    let day_text = wish.date.to_string();
    let new = NewEntry {
        customer_id: wish.customer.0,
        venue_id: venue.id,
        service_id,
        party_size,
        resource_id,
        day: &day_text,
        from_minute: wish.from_minute,
        to_minute: wish.to_minute,
        now,
    };
    if tx.same_wish(&new).await?.is_some() {
        return Err(Failure::App(AppError::Duplicate {
            message: "You are already on the waitlist for that.".to_owned(),
        }));
    }
    if tx.live_entries(wish.customer.0, venue.id).await? >= MAX_ENTRIES_PER_CUSTOMER {
        return Err(Failure::App(AppError::LimitReached {
            message: format!(
                "You can wait for at most {MAX_ENTRIES_PER_CUSTOMER} things at once here: leave one first."
            ),
        }));
    }
    let id = tx.insert_entry(&new).await?;
    // A time may be free already: the first in line gets it, now.
    let run = offer_waiting(&mut tx, &mut locks, venue.id, Lines::Day(wish.date), now).await?;
    pauses::pause(Point::BeforeCommit).await;
    tx.commit().await?;
    engine.after_offers(&run);
    tracing::info!(entry = id, venue = venue.id, "waitlist joined");
    Ok(id)
}

async fn leave_attempt<B: Backend>(
    b: &B,
    engine: &Engine,
    customer: UserId,
    id: i64,
) -> Result<(), Failure> {
    let mut tx = begin_write(b).await?;
    let entry = tx
        .entry(id)
        .await?
        .filter(|e| e.customer_id == customer.0)
        .ok_or(Failure::App(AppError::NotFound))?;
    let now = engine.clock().now();
    let mut locks = LockSet::default();
    // An offer's hold is let go with it: its resources are locked first.
    if let Some(hold) = entry.hold_id {
        lock_booking_resources(&mut tx, &mut locks, hold).await?;
    }
    let first_hold = entry.hold_id;
    let Some(entry) = tx.lock_entry(id).await? else {
        return Err(Failure::App(AppError::NotFound));
    };
    if !entry.state.is_live() {
        // Leaving twice answers as the first did.
        return Ok(());
    }
    if let Some(hold) = entry.hold_id.filter(|h| Some(*h) != first_hold) {
        // Offered since it was first read (rare): its hold's resources too.
        lock_booking_resources(&mut tx, &mut locks, hold).await?;
    }
    tx.mark_left(id, now).await?;
    let mut run = OfferRun::default();
    if let (WaitlistState::Offered, Some(hold)) = (entry.state, entry.hold_id) {
        if let Some(row) = tx.booking(hold).await? {
            if row.status == BookingStatus::Held {
                cancel_in(&mut tx, &row, Canceller::Customer, now).await?;
                let freed = [row.starts_at];
                run = offer_waiting(&mut tx, &mut locks, row.venue_id, Lines::Freed(&freed), now)
                    .await?;
            }
        }
    }
    pauses::pause(Point::BeforeCommit).await;
    tx.commit().await?;
    engine.after_offers(&run);
    Ok(())
}

/// The entries with the names people read: the venue, the treatment or
/// party, who, the day and range, the place in line, the offer.
pub(crate) async fn entry_views<S: Store>(
    tx: &mut S,
    rows: Vec<EntryRow>,
    with_customer: bool,
    now: i64,
) -> Result<Vec<WaitlistEntry>, Failure> {
    let mut venues: HashMap<i64, (VenueRow, HashMap<i64, String>, HashMap<i64, String>)> =
        HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for e in rows {
        if !venues.contains_key(&e.venue_id) {
            let Some(v) = tx.venue(e.venue_id).await? else {
                continue;
            };
            let services = tx
                .services(v.id)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
            let resources = tx
                .resources(v.id)
                .await?
                .into_iter()
                .map(|r| (r.id, r.name))
                .collect();
            venues.insert(v.id, (v, services, resources));
        }
        let (venue, services, resources) = &venues[&e.venue_id];
        let tz = venue_zone(venue)?;
        let Some(date) = entry_date(&e) else {
            continue;
        };
        let what = match (e.service_id, e.party_size) {
            (Some(s), _) => services.get(&s).cloned().unwrap_or_default(),
            (None, Some(p)) => format!("Table for {p}"),
            _ => String::new(),
        };
        let with = match e.resource_id {
            Some(r) => resources.get(&r).cloned().unwrap_or_default(),
            None => "anyone".to_owned(),
        };
        let day_end = schedule::local_day(tz, date).end;
        let past = day_end <= now;
        let ahead = match e.state {
            WaitlistState::Waiting if !past => Some(tx.ahead_of(&e).await?),
            _ => None,
        };
        let hold = match e.hold_id {
            Some(h) => tx.booking(h).await?,
            None => None,
        };
        let hold_expires_at = hold
            .as_ref()
            .filter(|h| e.state == WaitlistState::Offered && h.status == BookingStatus::Held)
            .and_then(|h| h.hold_expires_at);
        let offer_label = match (&hold, hold_expires_at) {
            (Some(h), Some(until)) => Some(format!(
                "{}, held for you until {}",
                schedule::label(tz, h.starts_at),
                schedule::clock(tz, until)
            )),
            _ => None,
        };
        let status_label = match e.state {
            WaitlistState::Waiting if past => "The day passed before a time came free.".to_owned(),
            WaitlistState::Waiting => match ahead {
                Some(0) => "Waiting: you are next in line.".to_owned(),
                Some(n) => format!("Waiting: {n} ahead of you."),
                None => "Waiting.".to_owned(),
            },
            WaitlistState::Offered => match &offer_label {
                Some(o) if hold_expires_at.is_some_and(|t| t > now) => {
                    format!("A time came free: {o}. Confirm it to book it.")
                }
                _ => "The time offered has run out.".to_owned(),
            },
            WaitlistState::Booked => "Booked from the waitlist.".to_owned(),
            WaitlistState::Lapsed => {
                "A time was offered and not taken in time; it went to the next in line.".to_owned()
            }
            WaitlistState::Left => "You left the waitlist.".to_owned(),
        };
        let (customer_name, customer_email) = if with_customer {
            match tx.user(e.customer_id).await? {
                Some(u) => (Some(u.display_name), Some(u.email)),
                None => (None, None),
            }
        } else {
            (None, None)
        };
        out.push(WaitlistEntry {
            id: e.id,
            venue: VenueId(venue.id),
            venue_name: venue.name.clone(),
            service: e.service_id.map(ServiceId),
            party_size: e.party_size,
            resource: e.resource_id.map(ResourceId),
            what,
            with,
            date,
            day_label: date.format("%A %-d %B").to_string(),
            from: crate::domain::admin::format_clock(e.from_minute),
            to: crate::domain::admin::format_clock(e.to_minute),
            state: e.state,
            past,
            ahead,
            hold: e.hold_id.map(BookingId),
            hold_expires_at: hold_expires_at.map(schedule::to_datetime),
            offer_label,
            status_label,
            joined_at: schedule::to_datetime(e.created_at),
            customer_name,
            customer_email,
        });
    }
    Ok(out)
}

impl Engine {
    /// Puts the customer in line for a day (see `Wish`). A time in range
    /// that is free already goes to the first in line at once, so the
    /// entry may come back offered.
    pub async fn join_waitlist(&self, wish: &Wish) -> Result<WaitlistEntry, AppError> {
        let id = with_backend!(self.db(), |b| {
            retrying(self.counters(), || join_attempt(b, self, wish))
                .await
                .map_err(settle_app)
        })?;
        self.waitlist_entry(wish.customer, id).await
    }

    /// Takes the customer off the line; a time on offer to them goes to the
    /// next in line.
    pub async fn leave_waitlist(
        &self,
        customer: UserId,
        id: i64,
    ) -> Result<WaitlistEntry, AppError> {
        with_backend!(self.db(), |b| {
            retrying(self.counters(), || leave_attempt(b, self, customer, id))
                .await
                .map_err(settle_app)
        })?;
        self.waitlist_entry(customer, id).await
    }

    /// One of the customer's entries.
    pub async fn waitlist_entry(
        &self,
        customer: UserId,
        id: i64,
    ) -> Result<WaitlistEntry, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                let row = tx
                    .entry(id)
                    .await?
                    .filter(|e| e.customer_id == customer.0)
                    .ok_or(Failure::App(AppError::NotFound))?;
                entry_views(&mut tx, vec![row], false, now)
                    .await?
                    .pop()
                    .ok_or(Failure::App(AppError::NotFound))
            }
            .await
            .map_err(settle_app)
        })
    }

    /// The customer's waitlist entries, newest first.
    pub async fn waitlist_of(&self, customer: UserId) -> Result<Vec<WaitlistEntry>, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                let rows = tx.entries_of_customer(customer.0, 50).await?;
                entry_views(&mut tx, rows, false, now).await
            }
            .await
            .map_err(settle_app)
        })
    }

    /// What offers changed: caches that knew the free times are out of
    /// date; expiries are counted.
    pub(crate) fn after_offers(&self, run: &OfferRun) {
        if !run.offered.is_empty() || !run.expired.is_empty() {
            self.changed();
        }
        let now = self.clock().now();
        for venue in &run.expired {
            self.recorder()
                .record(*venue, now, crate::backend::stats::Event::HoldExpired);
        }
    }
}
