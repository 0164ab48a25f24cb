//! Venues, their resources and services, who offers what, the weekly hours and the closures: the set-up bookings are judged by.

use sqlx::{Postgres, Sqlite, Transaction};
use std::future::Future;

use super::rows::*;
use super::DbResult;
use super::{query, query_as, query_scalar};
use crate::domain::venue::ResourceKind;

/// Venues, their resources and services, who offers what, the weekly hours and the closures: the set-up bookings are judged by.
pub trait Catalog: Send {
    fn venue(&mut self, id: i64) -> impl Future<Output = DbResult<Option<VenueRow>>> + Send;

    fn venues(&mut self) -> impl Future<Output = DbResult<Vec<VenueRow>>> + Send;

    fn resources(&mut self, venue: i64) -> impl Future<Output = DbResult<Vec<ResourceRow>>> + Send;

    fn services(&mut self, venue: i64) -> impl Future<Output = DbResult<Vec<ServiceRow>>> + Send;

    fn service(&mut self, id: i64) -> impl Future<Output = DbResult<Option<ServiceRow>>> + Send;

    /// (therapist, service) pairs of a venue.
    fn offers(&mut self, venue: i64) -> impl Future<Output = DbResult<Vec<(i64, i64)>>> + Send;

    fn weekly_hours(
        &mut self,
        venue: i64,
        weekday: i64,
    ) -> impl Future<Output = DbResult<Vec<WeeklyRow>>> + Send;

    fn weekly_breaks(
        &mut self,
        venue: i64,
        weekday: i64,
    ) -> impl Future<Output = DbResult<Vec<WeeklyRow>>> + Send;

    /// Closures of the venue or its resources that overlap `[from, to)`.
    fn closures(
        &mut self,
        venue: i64,
        from: i64,
        to: i64,
    ) -> impl Future<Output = DbResult<Vec<ClosureRow>>> + Send;

    fn venue_count(&mut self) -> impl Future<Output = DbResult<i64>> + Send;

    fn insert_venue(&mut self, v: &NewVenueRow<'_>) -> impl Future<Output = DbResult<i64>> + Send;

    fn insert_resource(
        &mut self,
        venue: i64,
        kind: ResourceKind,
        name: &str,
        capacity: Option<i64>,
    ) -> impl Future<Output = DbResult<i64>> + Send;

    fn insert_service(
        &mut self,
        venue: i64,
        name: &str,
        duration_minutes: i64,
        cleanup_minutes: i64,
        needs_room: bool,
        price_cents: Option<i64>,
        description: &str,
    ) -> impl Future<Output = DbResult<i64>> + Send;

    fn insert_offer(
        &mut self,
        therapist: i64,
        service: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    fn insert_weekly_hours(
        &mut self,
        resource: i64,
        weekday: i64,
        from_minute: i64,
        to_minute: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    fn insert_weekly_break(
        &mut self,
        resource: i64,
        weekday: i64,
        from_minute: i64,
        to_minute: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    fn insert_closure(
        &mut self,
        venue: i64,
        resource: Option<i64>,
        starts_at: i64,
        ends_at: i64,
        reason: &str,
    ) -> impl Future<Output = DbResult<i64>> + Send;

    fn closure(&mut self, id: i64) -> impl Future<Output = DbResult<Option<ClosureRow>>> + Send;

    fn delete_closure(&mut self, id: i64) -> impl Future<Output = DbResult<()>> + Send;

    /// Settings of the venue, only if its version is still `version`;
    /// bumps the version. False when someone else changed it first.
    fn update_venue(
        &mut self,
        v: &VenueRow,
        version: i64,
    ) -> impl Future<Output = DbResult<bool>> + Send;

    fn update_resource(
        &mut self,
        r: &ResourceRow,
        version: i64,
    ) -> impl Future<Output = DbResult<bool>> + Send;

    fn update_service(
        &mut self,
        s: &ServiceRow,
        version: i64,
    ) -> impl Future<Output = DbResult<bool>> + Send;

    fn resource(&mut self, id: i64) -> impl Future<Output = DbResult<Option<ResourceRow>>> + Send;

    fn weekly_of(
        &mut self,
        resource: i64,
    ) -> impl Future<Output = DbResult<Vec<WeeklyEntry>>> + Send;

    /// Takes out one weekday's hours and breaks of a resource.
    fn clear_weekday(
        &mut self,
        resource: i64,
        weekday: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    fn delete_offer(
        &mut self,
        therapist: i64,
        service: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
}

/// One body per statement for both databases: see the module `store`.
macro_rules! impl_catalog {
    ($db:ty) => {
        impl<'c> Catalog for Transaction<'c, $db> {
            async fn venue(&mut self, id: i64) -> DbResult<Option<VenueRow>> {
                query_as::<$db, VenueRow>(&format!(
                    "SELECT {VENUE_COLUMNS} FROM venues WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&mut **self)
                .await
            }

            async fn venues(&mut self) -> DbResult<Vec<VenueRow>> {
                query_as::<$db, VenueRow>(&format!(
                    "SELECT {VENUE_COLUMNS} FROM venues ORDER BY name, id"
                ))
                .fetch_all(&mut **self)
                .await
            }

            async fn resources(&mut self, venue: i64) -> DbResult<Vec<ResourceRow>> {
                query_as::<$db, ResourceRow>(
                    "SELECT id, venue_id, kind, name, capacity, active, version FROM resources \
                     WHERE venue_id = $1 ORDER BY id",
                )
                .bind(venue)
                .fetch_all(&mut **self)
                .await
            }

            async fn services(&mut self, venue: i64) -> DbResult<Vec<ServiceRow>> {
                query_as::<$db, ServiceRow>(
                    "SELECT id, venue_id, name, duration_minutes, cleanup_minutes, needs_room, active, \
                     version, price_cents, description FROM services WHERE venue_id = $1 ORDER BY duration_minutes, name, id",
                )
                .bind(venue)
                .fetch_all(&mut **self)
                .await
            }

            async fn service(&mut self, id: i64) -> DbResult<Option<ServiceRow>> {
                query_as::<$db, ServiceRow>(
                    "SELECT id, venue_id, name, duration_minutes, cleanup_minutes, needs_room, active, \
                     version, price_cents, description FROM services WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut **self)
                .await
            }

            async fn offers(&mut self, venue: i64) -> DbResult<Vec<(i64, i64)>> {
                query_as::<$db, (i64, i64)>(
                    "SELECT ts.resource_id, ts.service_id FROM therapist_services ts \
                     JOIN resources r ON r.id = ts.resource_id WHERE r.venue_id = $1",
                )
                .bind(venue)
                .fetch_all(&mut **self)
                .await
            }

            async fn weekly_hours(&mut self, venue: i64, weekday: i64) -> DbResult<Vec<WeeklyRow>> {
                query_as::<$db, WeeklyRow>(
                    "SELECT h.resource_id, h.opens_minute AS from_minute, h.closes_minute AS to_minute \
                     FROM weekly_hours h JOIN resources r ON r.id = h.resource_id \
                     WHERE r.venue_id = $1 AND h.weekday = $2",
                )
                .bind(venue)
                .bind(weekday)
                .fetch_all(&mut **self)
                .await
            }

            async fn weekly_breaks(&mut self, venue: i64, weekday: i64) -> DbResult<Vec<WeeklyRow>> {
                query_as::<$db, WeeklyRow>(
                    "SELECT b.resource_id, b.starts_minute AS from_minute, b.ends_minute AS to_minute \
                     FROM weekly_breaks b JOIN resources r ON r.id = b.resource_id \
                     WHERE r.venue_id = $1 AND b.weekday = $2",
                )
                .bind(venue)
                .bind(weekday)
                .fetch_all(&mut **self)
                .await
            }

            async fn closures(&mut self, venue: i64, from: i64, to: i64) -> DbResult<Vec<ClosureRow>> {
                query_as::<$db, ClosureRow>(
                    "SELECT id, venue_id, resource_id, starts_at, ends_at, reason FROM closures \
                     WHERE venue_id = $1 AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at, id",
                )
                .bind(venue)
                .bind(from)
                .bind(to)
                .fetch_all(&mut **self)
                .await
            }

            async fn venue_count(&mut self) -> DbResult<i64> {
                query_scalar::<$db, i64>("SELECT COUNT(*) FROM venues")
                    .fetch_one(&mut **self)
                    .await
            }

            async fn insert_venue(&mut self, v: &NewVenueRow<'_>) -> DbResult<i64> {
                query_scalar::<$db, i64>(
                    "INSERT INTO venues (name, timezone, grid_minutes, hold_minutes, \
                     cancellation_window_minutes, min_notice_minutes, advance_days, seating_minutes, \
                     currency, address) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(v.name)
                .bind(v.timezone)
                .bind(v.grid_minutes)
                .bind(v.hold_minutes)
                .bind(v.cancellation_window_minutes)
                .bind(v.min_notice_minutes)
                .bind(v.advance_days)
                .bind(v.seating_minutes)
                .bind(v.currency)
                .bind(v.address)
                .fetch_one(&mut **self)
                .await
            }

            async fn insert_resource(
                &mut self,
                venue: i64,
                kind: ResourceKind,
                name: &str,
                capacity: Option<i64>,
            ) -> DbResult<i64> {
                query_scalar::<$db, i64>(
                    "INSERT INTO resources (venue_id, kind, name, capacity) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(venue)
                .bind(kind.as_str())
                .bind(name)
                .bind(capacity)
                .fetch_one(&mut **self)
                .await
            }

            async fn insert_service(
                &mut self,
                venue: i64,
                name: &str,
                duration_minutes: i64,
                cleanup_minutes: i64,
                needs_room: bool,
                price_cents: Option<i64>,
                description: &str,
            ) -> DbResult<i64> {
                query_scalar::<$db, i64>(
                    "INSERT INTO services (venue_id, name, duration_minutes, cleanup_minutes, needs_room, \
                     price_cents, description) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(venue)
                .bind(name)
                .bind(duration_minutes)
                .bind(cleanup_minutes)
                .bind(needs_room)
                .bind(price_cents)
                .bind(description)
                .fetch_one(&mut **self)
                .await
            }

            async fn insert_offer(&mut self, therapist: i64, service: i64) -> DbResult<()> {
                query::<$db>(
                    "INSERT INTO therapist_services (resource_id, service_id) VALUES ($1, $2)",
                )
                .bind(therapist)
                .bind(service)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn insert_weekly_hours(
                &mut self,
                resource: i64,
                weekday: i64,
                from_minute: i64,
                to_minute: i64,
            ) -> DbResult<()> {
                query::<$db>(
                    "INSERT INTO weekly_hours (resource_id, weekday, opens_minute, closes_minute) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(resource)
                .bind(weekday)
                .bind(from_minute)
                .bind(to_minute)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn insert_weekly_break(
                &mut self,
                resource: i64,
                weekday: i64,
                from_minute: i64,
                to_minute: i64,
            ) -> DbResult<()> {
                query::<$db>(
                    "INSERT INTO weekly_breaks (resource_id, weekday, starts_minute, ends_minute) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(resource)
                .bind(weekday)
                .bind(from_minute)
                .bind(to_minute)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }

            async fn insert_closure(
                &mut self,
                venue: i64,
                resource: Option<i64>,
                starts_at: i64,
                ends_at: i64,
                reason: &str,
            ) -> DbResult<i64> {
                query_scalar::<$db, i64>(
                    "INSERT INTO closures (venue_id, resource_id, starts_at, ends_at, reason) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(venue)
                .bind(resource)
                .bind(starts_at)
                .bind(ends_at)
                .bind(reason)
                .fetch_one(&mut **self)
                .await
            }

            async fn closure(&mut self, id: i64) -> DbResult<Option<ClosureRow>> {
                query_as::<$db, ClosureRow>(
                    "SELECT id, venue_id, resource_id, starts_at, ends_at, reason FROM closures \
                     WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut **self)
                .await
            }

            async fn delete_closure(&mut self, id: i64) -> DbResult<()> {
                query::<$db>("DELETE FROM closures WHERE id = $1")
                    .bind(id)
                    .execute(&mut **self)
                    .await
                    .map(|_| ())
            }

            async fn update_venue(&mut self, v: &VenueRow, version: i64) -> DbResult<bool> {
                Ok(query::<$db>(
                    "UPDATE venues SET name = $3, grid_minutes = $4, hold_minutes = $5, \
                     cancellation_window_minutes = $6, min_notice_minutes = $7, advance_days = $8, \
                     seating_minutes = $9, max_holds_per_customer = $10, \
                     max_upcoming_per_customer = $11, currency = $12, address = $13, \
                     reminder_minutes = $14, offer_minutes = $15, version = version + 1 \
                     WHERE id = $1 AND version = $2",
                )
                .bind(v.id)
                .bind(version)
                .bind(&v.name)
                .bind(v.grid_minutes)
                .bind(v.hold_minutes)
                .bind(v.cancellation_window_minutes)
                .bind(v.min_notice_minutes)
                .bind(v.advance_days)
                .bind(v.seating_minutes)
                .bind(v.max_holds_per_customer)
                .bind(v.max_upcoming_per_customer)
                .bind(&v.currency)
                .bind(&v.address)
                .bind(v.reminder_minutes)
                .bind(v.offer_minutes)
                .execute(&mut **self)
                .await?
                .rows_affected()
                    == 1)
            }

            async fn update_resource(&mut self, r: &ResourceRow, version: i64) -> DbResult<bool> {
                Ok(query::<$db>(
                    "UPDATE resources SET name = $3, capacity = $4, active = $5, \
                     version = version + 1 WHERE id = $1 AND version = $2",
                )
                .bind(r.id)
                .bind(version)
                .bind(&r.name)
                .bind(r.capacity)
                .bind(r.active)
                .execute(&mut **self)
                .await?
                .rows_affected()
                    == 1)
            }

            async fn update_service(&mut self, s: &ServiceRow, version: i64) -> DbResult<bool> {
                Ok(query::<$db>(
                    "UPDATE services SET name = $3, duration_minutes = $4, cleanup_minutes = $5, \
                     needs_room = $6, active = $7, price_cents = $8, description = $9, \
                     version = version + 1 WHERE id = $1 AND version = $2",
                )
                .bind(s.id)
                .bind(version)
                .bind(&s.name)
                .bind(s.duration_minutes)
                .bind(s.cleanup_minutes)
                .bind(s.needs_room)
                .bind(s.active)
                .bind(s.price_cents)
                .bind(&s.description)
                .execute(&mut **self)
                .await?
                .rows_affected()
                    == 1)
            }

            async fn resource(&mut self, id: i64) -> DbResult<Option<ResourceRow>> {
                query_as::<$db, ResourceRow>(
                    "SELECT id, venue_id, kind, name, capacity, active, version FROM resources \
                     WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut **self)
                .await
            }

            async fn weekly_of(&mut self, resource: i64) -> DbResult<Vec<WeeklyEntry>> {
                query_as::<$db, WeeklyEntry>(
                    "SELECT weekday, opens_minute AS from_minute, closes_minute AS to_minute, \
                     FALSE AS is_break FROM weekly_hours WHERE resource_id = $1 \
                     UNION ALL SELECT weekday, starts_minute, ends_minute, TRUE \
                     FROM weekly_breaks WHERE resource_id = $1 ORDER BY 1, 4, 2",
                )
                .bind(resource)
                .fetch_all(&mut **self)
                .await
            }

            async fn clear_weekday(&mut self, resource: i64, weekday: i64) -> DbResult<()> {
                for table in ["weekly_hours", "weekly_breaks"] {
                    query::<$db>(&format!(
                        "DELETE FROM {table} WHERE resource_id = $1 AND weekday = $2"
                    ))
                    .bind(resource)
                    .bind(weekday)
                    .execute(&mut **self)
                    .await?;
                }
                Ok(())
            }

            async fn delete_offer(&mut self, therapist: i64, service: i64) -> DbResult<()> {
                query::<$db>(
                    "DELETE FROM therapist_services WHERE resource_id = $1 AND service_id = $2",
                )
                .bind(therapist)
                .bind(service)
                .execute(&mut **self)
                .await
                .map(|_| ())
            }
        }
    };
}

impl_catalog!(Sqlite);
impl_catalog!(Postgres);
