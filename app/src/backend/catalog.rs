//! Venues, their resources and services: creating them and listing them.

use crate::domain::ids::{ResourceId, ServiceId, VenueId};
use crate::domain::venue::{ResourceKind, ResourceSummary, ServiceSummary, VenueOverview};
use std::collections::HashMap;

use super::db::{with_backend, Backend, Db};
use super::store::{DbResult, NewVenueRow, Store};
use crate::backend::store::prelude::*;

/// A window of the weekly timetable: `weekday` 0 is Monday; minutes after
/// local midnight.
#[derive(Clone, Debug)]
pub struct Weekly {
    pub weekday: i64,
    pub from_minute: i64,
    pub to_minute: i64,
}

impl Weekly {
    /// The same window on each of `weekdays`: `Weekly::on(0..=5, 9, 0, 18, 0)`.
    pub fn on(
        weekdays: std::ops::RangeInclusive<i64>,
        from: (i64, i64),
        to: (i64, i64),
    ) -> Vec<Weekly> {
        weekdays
            .map(|weekday| Weekly {
                weekday,
                from_minute: from.0 * 60 + from.1,
                to_minute: to.0 * 60 + to.1,
            })
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct ResourceSpec {
    pub kind: ResourceKind,
    pub name: String,
    pub capacity: Option<i64>,
    pub hours: Vec<Weekly>,
    pub breaks: Vec<Weekly>,
    /// For therapists: the names of the services they offer.
    pub offers: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub name: String,
    pub duration_minutes: i64,
    pub cleanup_minutes: i64,
    pub needs_room: bool,
    /// Minor units of the venue's currency; none for no price shown.
    pub price_cents: Option<i64>,
    pub description: String,
}

/// A whole venue, to create in one transaction.
#[derive(Clone, Debug)]
pub struct VenueSpec {
    pub name: String,
    pub timezone: String,
    pub grid_minutes: i64,
    pub hold_minutes: i64,
    pub cancellation_window_minutes: i64,
    pub min_notice_minutes: i64,
    pub advance_days: i64,
    pub seating_minutes: Option<i64>,
    /// ISO 4217, e.g. "EUR".
    pub currency: String,
    pub address: String,
    pub services: Vec<ServiceSpec>,
    pub resources: Vec<ResourceSpec>,
}

/// The ids of a created venue and its parts, by name.
#[derive(Clone, Debug)]
pub struct CreatedVenue {
    pub id: VenueId,
    pub resources: HashMap<String, ResourceId>,
    pub services: HashMap<String, ServiceId>,
}

impl CreatedVenue {
    pub fn resource(&self, name: &str) -> ResourceId {
        self.resources[name]
    }

    pub fn service(&self, name: &str) -> ServiceId {
        self.services[name]
    }
}

/// Inserts a venue with its services, resources, hours and offers.
pub async fn add_venue<S: Store>(tx: &mut S, spec: &VenueSpec) -> DbResult<CreatedVenue> {
    let id = tx
        .insert_venue(&NewVenueRow {
            name: &spec.name,
            timezone: &spec.timezone,
            grid_minutes: spec.grid_minutes,
            hold_minutes: spec.hold_minutes,
            cancellation_window_minutes: spec.cancellation_window_minutes,
            min_notice_minutes: spec.min_notice_minutes,
            advance_days: spec.advance_days,
            seating_minutes: spec.seating_minutes,
            currency: &spec.currency,
            address: &spec.address,
        })
        .await?;
    let mut services = HashMap::new();
    for s in &spec.services {
        let sid = tx
            .insert_service(
                id,
                &s.name,
                s.duration_minutes,
                s.cleanup_minutes,
                s.needs_room,
                s.price_cents,
                &s.description,
            )
            .await?;
        services.insert(s.name.clone(), ServiceId(sid));
    }
    let mut resources = HashMap::new();
    for r in &spec.resources {
        let rid = tx.insert_resource(id, r.kind, &r.name, r.capacity).await?;
        for h in &r.hours {
            tx.insert_weekly_hours(rid, h.weekday, h.from_minute, h.to_minute)
                .await?;
        }
        for b in &r.breaks {
            tx.insert_weekly_break(rid, b.weekday, b.from_minute, b.to_minute)
                .await?;
        }
        for name in &r.offers {
            let sid = services.get(name).ok_or_else(|| {
                sqlx::Error::Protocol(format!("{} offers unknown service {name}", r.name))
            })?;
            tx.insert_offer(rid, sid.0).await?;
        }
        resources.insert(r.name.clone(), ResourceId(rid));
    }
    Ok(CreatedVenue {
        id: VenueId(id),
        resources,
        services,
    })
}

/// Creates a venue in a transaction of its own.
pub async fn create_venue(db: &Db, spec: &VenueSpec) -> DbResult<CreatedVenue> {
    with_backend!(db, |b| {
        let mut tx = b.begin_write().await?;
        let created = add_venue(&mut tx, spec).await?;
        tx.commit().await?;
        Ok(created)
    })
}

/// Closes a resource, or the whole venue when `resource` is `None`.
pub async fn add_closure(
    db: &Db,
    venue: VenueId,
    resource: Option<ResourceId>,
    starts_at: i64,
    ends_at: i64,
    reason: &str,
) -> DbResult<i64> {
    with_backend!(db, |b| {
        let mut tx = b.begin_write().await?;
        let id = tx
            .insert_closure(venue.0, resource.map(|r| r.0), starts_at, ends_at, reason)
            .await?;
        tx.commit().await?;
        Ok(id)
    })
}

/// Every venue with its active resources and services, for the home page.
pub async fn overview(db: &Db) -> DbResult<Vec<VenueOverview>> {
    with_backend!(db, |b| {
        let mut tx = b.begin_read().await?;
        let mut out = Vec::new();
        for v in tx.venues().await? {
            let resources: Vec<ResourceSummary> = tx
                .resources(v.id)
                .await?
                .into_iter()
                .filter(|r| r.active)
                .filter_map(|r| {
                    Some(ResourceSummary {
                        id: ResourceId(r.id),
                        kind: r.kind,
                        capacity: r.capacity.map(|c| c as i32),
                        name: r.name,
                    })
                })
                .collect();
            let offers = tx.offers(v.id).await?;
            let offered_by = |service: i64| -> Vec<ResourceId> {
                resources
                    .iter()
                    .filter(|r| offers.contains(&(r.id.0, service)))
                    .map(|r| r.id)
                    .collect()
            };
            let services = tx
                .services(v.id)
                .await?
                .into_iter()
                .filter(|s| s.active)
                .map(|s| ServiceSummary {
                    id: ServiceId(s.id),
                    name: s.name,
                    duration_minutes: s.duration_minutes as i32,
                    cleanup_minutes: s.cleanup_minutes as i32,
                    needs_room: s.needs_room,
                    therapists: offered_by(s.id),
                    price_cents: s.price_cents,
                    description: s.description,
                })
                .collect();
            out.push(VenueOverview {
                id: VenueId(v.id),
                name: v.name,
                timezone: v.timezone,
                resources,
                services,
                seating_minutes: v.seating_minutes.map(|m| m as i32),
                currency: v.currency,
                address: v.address,
            });
        }
        Ok(out)
    })
}
