//! Every SQL statement of the app, as small functions named by intent.
//!
//! Each takes the transaction it runs in, so a booking attempt reads and
//! writes through one connection from BEGIN to COMMIT. The statements are
//! written once: both engines accept `$n` parameters, integer times and
//! `RETURNING`, and `impl_store!` instantiates the same bodies for the
//! SQLite and the Postgres transaction types. Only locking differs.

use sqlx::{FromRow, Postgres, QueryBuilder, Sqlite, Transaction};
use std::future::Future;

pub type DbResult<T> = Result<T, sqlx::Error>;

#[derive(Clone, Debug, FromRow)]
pub struct VenueRow {
    pub id: i64,
    pub name: String,
    pub timezone: String,
    pub grid_minutes: i64,
    pub hold_minutes: i64,
    pub cancellation_window_minutes: i64,
    pub min_notice_minutes: i64,
    pub advance_days: i64,
    pub seating_minutes: Option<i64>,
    pub version: i64,
    /// Moves on with every set-up change of the venue (see `lock_venue`).
    pub setup_version: i64,
}

#[derive(Clone, Debug, FromRow)]
pub struct ResourceRow {
    pub id: i64,
    pub venue_id: i64,
    pub kind: String,
    pub name: String,
    pub capacity: Option<i64>,
    pub active: bool,
    pub version: i64,
}

#[derive(Clone, Debug, FromRow)]
pub struct ServiceRow {
    pub id: i64,
    pub venue_id: i64,
    pub name: String,
    pub duration_minutes: i64,
    pub cleanup_minutes: i64,
    pub needs_room: bool,
    pub active: bool,
    pub version: i64,
}

#[derive(Clone, Debug, FromRow)]
pub struct BookingRow {
    pub id: i64,
    pub customer_id: i64,
    pub venue_id: i64,
    pub service_id: Option<i64>,
    pub party_size: Option<i64>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub occupied_until: i64,
    pub status: String,
    pub hold_expires_at: Option<i64>,
    pub cancelled_by: Option<String>,
    pub version: i64,
    pub created_at: i64,
    /// What the idempotency key was first used for (see `NewBooking`).
    pub request: Option<String>,
}

#[derive(Clone, Debug, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: String,
}

/// Failed log-ins in a window: how many, and the oldest one's time.
#[derive(Clone, Debug, FromRow)]
pub struct FailureCount {
    pub failures: i64,
    pub oldest: Option<i64>,
}

/// A row of the weekly timetable: hours or a break.
#[derive(Clone, Debug, FromRow)]
pub struct WeeklyRow {
    pub resource_id: i64,
    pub from_minute: i64,
    pub to_minute: i64,
}

#[derive(Clone, Debug, FromRow)]
pub struct ClosureRow {
    pub id: i64,
    pub venue_id: i64,
    pub resource_id: Option<i64>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub reason: String,
}

/// A window of one resource's weekly timetable, for the editor.
#[derive(Clone, Debug, FromRow)]
pub struct WeeklyEntry {
    pub weekday: i64,
    pub from_minute: i64,
    pub to_minute: i64,
    pub is_break: bool,
}

/// A staff change, as the audit trail keeps it.
#[derive(Clone, Debug, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor_id: i64,
    pub actor_name: String,
    pub venue_id: i64,
    pub resource_id: Option<i64>,
    pub service_id: Option<i64>,
    pub booking_id: Option<i64>,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct NewAudit<'a> {
    pub at: i64,
    pub actor_id: i64,
    pub venue_id: i64,
    pub resource_id: Option<i64>,
    pub service_id: Option<i64>,
    pub booking_id: Option<i64>,
    pub action: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// One counter of `venue_hourly_stats`.
#[derive(Clone, Debug, FromRow)]
pub struct StatRow {
    pub venue_id: i64,
    pub hour_start: i64,
    pub kind: String,
    pub count: i64,
}

/// A staff member or admin, for the admin's staff page.
#[derive(Clone, Debug, FromRow)]
pub struct StaffRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
}

#[derive(Clone, Debug, FromRow)]
pub struct ClaimRow {
    pub resource_id: i64,
    pub unit_start: i64,
    /// The hold's expiry when the claim is a hold's; none for a booking.
    pub held_until: Option<i64>,
    /// Whose claim it is: the booking's customer and idempotency key.
    pub customer_id: i64,
    pub idempotency_key: String,
}

/// Two live bookings that share time on one resource. The invariant says
/// there are none.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct Overlap {
    pub resource_id: i64,
    pub first_booking: i64,
    pub second_booking: i64,
}

#[derive(Clone, Debug)]
pub struct NewBooking<'a> {
    pub customer_id: i64,
    pub venue_id: i64,
    pub service_id: Option<i64>,
    pub party_size: Option<i64>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub occupied_until: i64,
    pub status: &'a str,
    pub hold_expires_at: Option<i64>,
    pub idempotency_key: &'a str,
    /// The request the key stands for: a repeat with the same key must ask
    /// for the same thing.
    pub request: &'a str,
    pub now: i64,
}

#[derive(Clone, Debug)]
pub struct NewVenueRow<'a> {
    pub name: &'a str,
    pub timezone: &'a str,
    pub grid_minutes: i64,
    pub hold_minutes: i64,
    pub cancellation_window_minutes: i64,
    pub min_notice_minutes: i64,
    pub advance_days: i64,
    pub seating_minutes: Option<i64>,
}

/// The statements of the app, on one transaction.
pub trait Store: Send {
    /// Whether the transaction holds the lock that serialises writers from
    /// its first statement (SQLite's `BEGIN IMMEDIATE`), so that every
    /// read in it is already a read under the lock.
    const LOCKS_AT_BEGIN: bool;

    /// Makes concurrent writers of these resources wait for this
    /// transaction. Postgres: `FOR UPDATE` on the resource rows, in id order
    /// so two multi-resource bookings cannot deadlock. SQLite: nothing to
    /// do, `BEGIN IMMEDIATE` already holds the database's write lock.
    fn lock_resources(&mut self, ids: &[i64]) -> impl Future<Output = DbResult<()>> + Send;

    /// Makes every booking of the venue wait for this transaction (a staff
    /// change that must see a settled schedule), and moves the venue's
    /// `setup_version` on. Postgres: the venue row, then `FOR UPDATE` on all
    /// its resources in id order; SQLite: `BEGIN IMMEDIATE` did it.
    fn lock_venue(&mut self, venue: i64) -> impl Future<Output = DbResult<()>> + Send;

    /// Serialises demo seeding between instances starting together.
    fn lock_for_seeding(&mut self) -> impl Future<Output = DbResult<()>> + Send;

    fn commit(self) -> impl Future<Output = DbResult<()>> + Send;

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
    /// Claims on the venue's resources in `[from, to)`, less those of holds
    /// that expired by `now` (not yet swept, but no longer binding).
    fn live_claims(
        &mut self,
        venue: i64,
        from: i64,
        to: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<Vec<ClaimRow>>> + Send;
    /// Holds on `resource` past their expiry.
    fn due_holds_on(
        &mut self,
        resource: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<Vec<i64>>> + Send;
    /// Holds past their expiry anywhere, for the sweeper.
    fn due_holds(
        &mut self,
        now: i64,
        limit: i64,
    ) -> impl Future<Output = DbResult<Vec<i64>>> + Send;
    /// Expires one hold if it is still held and due; frees its claims.
    /// Returns the hold's venue when it expired it.
    fn expire_hold(
        &mut self,
        id: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<Option<i64>>> + Send;
    fn booking(&mut self, id: i64) -> impl Future<Output = DbResult<Option<BookingRow>>> + Send;
    /// The booking, its row locked until the transaction ends (Postgres),
    /// so that a concurrent confirm or cancel waits and then sees the change.
    fn lock_booking(
        &mut self,
        id: i64,
    ) -> impl Future<Output = DbResult<Option<BookingRow>>> + Send;
    fn booking_by_key(
        &mut self,
        customer: i64,
        key: &str,
    ) -> impl Future<Output = DbResult<Option<BookingRow>>> + Send;
    fn booking_resources(
        &mut self,
        booking: i64,
    ) -> impl Future<Output = DbResult<Vec<i64>>> + Send;
    fn insert_booking(&mut self, b: &NewBooking<'_>) -> impl Future<Output = DbResult<i64>> + Send;
    fn insert_booking_resources(
        &mut self,
        booking: i64,
        resources: &[i64],
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// What a live booking holds on each of its resources: one claim per
    /// grid unit of `occupied` (the unique index makes a second claim of a
    /// unit fail, whatever path it came by) and one occupancy row (the
    /// grid-independent guard refuses an overlapping one). Always both.
    fn insert_claims(
        &mut self,
        booking: i64,
        resources: &[i64],
        occupied: crate::domain::schedule::Span,
        unit: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// Lets go of a booking's claims and occupancy rows: its time is free.
    fn delete_claims(&mut self, booking: i64) -> impl Future<Output = DbResult<()>> + Send;
    /// held → confirmed, only for this customer's unexpired hold.
    fn confirm_hold(
        &mut self,
        id: i64,
        customer: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<bool>> + Send;
    fn set_status(
        &mut self,
        id: i64,
        status: &str,
        cancelled_by: Option<&str>,
        now: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// The invariant query: pairs of live bookings overlapping on a resource.
    fn overlaps(&mut self) -> impl Future<Output = DbResult<Vec<Overlap>>> + Send;
    /// The second invariant query: bookings that are not live but still own
    /// claims or occupancy rows (freed time that stayed taken).
    fn ghost_claims(&mut self) -> impl Future<Output = DbResult<Vec<i64>>> + Send;
    /// Live bookings not over by `now` whose claims or occupancy rows do
    /// not match them: not one claim per unit of the venue's grid on each
    /// resource, or not one occupancy row per resource with the booking's
    /// times. (Bookings already over keep the claims of the grid they were
    /// made on: a grid change re-claims only what is still to come.)
    fn half_made(&mut self, now: i64) -> impl Future<Output = DbResult<Vec<i64>>> + Send;

    fn venue_count(&mut self) -> impl Future<Output = DbResult<i64>> + Send;
    fn insert_venue(&mut self, v: &NewVenueRow<'_>) -> impl Future<Output = DbResult<i64>> + Send;
    fn insert_resource(
        &mut self,
        venue: i64,
        kind: &str,
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
    fn user_by_email(
        &mut self,
        email: &str,
    ) -> impl Future<Output = DbResult<Option<UserRow>>> + Send;
    fn user(&mut self, id: i64) -> impl Future<Output = DbResult<Option<UserRow>>> + Send;
    /// This customer's bookings, soonest first.
    fn bookings_of_customer(
        &mut self,
        customer: i64,
    ) -> impl Future<Output = DbResult<Vec<BookingRow>>> + Send;
    /// Serialises log-in checks for this email and this address, so that
    /// parallel guesses are counted one after another.
    fn lock_login(
        &mut self,
        email: &str,
        address: &str,
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// Records an attempt as failed until `mark_login_succeeded`; returns its id.
    fn record_login_attempt(
        &mut self,
        email: &str,
        address: &str,
        at: i64,
    ) -> impl Future<Output = DbResult<i64>> + Send;
    fn mark_login_succeeded(&mut self, attempt: i64) -> impl Future<Output = DbResult<()>> + Send;
    /// Failed log-ins since `since`: for this email from this address, for
    /// this email from anywhere, and from this address for any email.
    fn login_failures(
        &mut self,
        email: &str,
        address: &str,
        since: i64,
    ) -> impl Future<Output = DbResult<[FailureCount; 3]>> + Send;
    fn forget_login_attempts(&mut self, before: i64) -> impl Future<Output = DbResult<u64>> + Send;
    /// Inserts a user unless the email is taken; returns the new id, if any.
    fn insert_user(
        &mut self,
        email: &str,
        password_hash: &str,
        display_name: &str,
        role: &str,
        now: i64,
    ) -> impl Future<Output = DbResult<Option<i64>>> + Send;

    // --- Staff: who runs what -------------------------------------------

    /// Whether `user` may run `venue`: an admin, or staff assigned to it.
    fn may_run(&mut self, user: i64, venue: i64) -> impl Future<Output = DbResult<bool>> + Send;
    /// The venues `user` may run, by id.
    fn venues_run_by(&mut self, user: i64) -> impl Future<Output = DbResult<Vec<i64>>> + Send;
    fn assign_staff(&mut self, user: i64, venue: i64) -> impl Future<Output = DbResult<()>> + Send;
    fn unassign_staff(&mut self, user: i64) -> impl Future<Output = DbResult<()>> + Send;
    fn set_role(&mut self, user: i64, role: &str) -> impl Future<Output = DbResult<()>> + Send;
    fn staff_members(&mut self) -> impl Future<Output = DbResult<Vec<StaffRow>>> + Send;
    /// (user, venue) pairs of `staff_venues`.
    fn staff_assignments(&mut self) -> impl Future<Output = DbResult<Vec<(i64, i64)>>> + Send;

    // --- Staff: the audit trail and statistics ----------------------------

    fn insert_audit(&mut self, a: &NewAudit<'_>) -> impl Future<Output = DbResult<()>> + Send;
    /// Audit rows of a venue in `[from, to)`, newest first; only those
    /// about `resource` when given.
    fn audit(
        &mut self,
        venue: i64,
        from: i64,
        to: i64,
        resource: Option<i64>,
    ) -> impl Future<Output = DbResult<Vec<AuditRow>>> + Send;
    fn audit_of_booking(
        &mut self,
        booking: i64,
    ) -> impl Future<Output = DbResult<Vec<AuditRow>>> + Send;
    /// Adds `n` to a venue's counter for an hour.
    fn add_stat(
        &mut self,
        venue: i64,
        hour_start: i64,
        kind: &str,
        n: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
    fn stats_since(&mut self, since: i64) -> impl Future<Output = DbResult<Vec<StatRow>>> + Send;
    /// Totals per venue and kind, all time.
    fn stat_totals(&mut self) -> impl Future<Output = DbResult<Vec<StatRow>>> + Send;

    // --- Staff: schedules, resources, services, settings ------------------

    /// Bookings of every status at the venue that overlap `[from, to)`.
    fn bookings_between(
        &mut self,
        venue: i64,
        from: i64,
        to: i64,
    ) -> impl Future<Output = DbResult<Vec<BookingRow>>> + Send;
    /// Held and confirmed bookings of the venue still occupying time after `after`.
    fn live_bookings_after(
        &mut self,
        venue: i64,
        after: i64,
    ) -> impl Future<Output = DbResult<Vec<BookingRow>>> + Send;
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
    /// New times of a booking (its claims are replaced separately).
    fn reschedule(
        &mut self,
        id: i64,
        starts_at: i64,
        ends_at: i64,
        occupied_until: i64,
        now: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
    fn delete_booking_resources(
        &mut self,
        booking: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
}

const BOOKING_COLUMNS: &str = "id, customer_id, venue_id, service_id, party_size, starts_at, \
     ends_at, occupied_until, status, hold_expires_at, cancelled_by, version, created_at, request";

macro_rules! impl_store {
    ($db:ty) => {
        async fn commit(self) -> DbResult<()> {
            Transaction::commit(self).await
        }

        async fn venue(&mut self, id: i64) -> DbResult<Option<VenueRow>> {
            sqlx::query_as::<$db, VenueRow>(
                "SELECT id, name, timezone, grid_minutes, hold_minutes, \
                 cancellation_window_minutes, min_notice_minutes, advance_days, seating_minutes, \
                 version, setup_version FROM venues WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut **self)
            .await
        }

        async fn venues(&mut self) -> DbResult<Vec<VenueRow>> {
            sqlx::query_as::<$db, VenueRow>(
                "SELECT id, name, timezone, grid_minutes, hold_minutes, \
                 cancellation_window_minutes, min_notice_minutes, advance_days, seating_minutes, \
                 version, setup_version FROM venues ORDER BY name, id",
            )
            .fetch_all(&mut **self)
            .await
        }

        async fn resources(&mut self, venue: i64) -> DbResult<Vec<ResourceRow>> {
            sqlx::query_as::<$db, ResourceRow>(
                "SELECT id, venue_id, kind, name, capacity, active, version FROM resources \
                 WHERE venue_id = $1 ORDER BY id",
            )
            .bind(venue)
            .fetch_all(&mut **self)
            .await
        }

        async fn services(&mut self, venue: i64) -> DbResult<Vec<ServiceRow>> {
            sqlx::query_as::<$db, ServiceRow>(
                "SELECT id, venue_id, name, duration_minutes, cleanup_minutes, needs_room, active, \
                 version FROM services WHERE venue_id = $1 ORDER BY duration_minutes, name, id",
            )
            .bind(venue)
            .fetch_all(&mut **self)
            .await
        }

        async fn service(&mut self, id: i64) -> DbResult<Option<ServiceRow>> {
            sqlx::query_as::<$db, ServiceRow>(
                "SELECT id, venue_id, name, duration_minutes, cleanup_minutes, needs_room, active, \
                 version FROM services WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut **self)
            .await
        }

        async fn offers(&mut self, venue: i64) -> DbResult<Vec<(i64, i64)>> {
            sqlx::query_as::<$db, (i64, i64)>(
                "SELECT ts.resource_id, ts.service_id FROM therapist_services ts \
                 JOIN resources r ON r.id = ts.resource_id WHERE r.venue_id = $1",
            )
            .bind(venue)
            .fetch_all(&mut **self)
            .await
        }

        async fn weekly_hours(&mut self, venue: i64, weekday: i64) -> DbResult<Vec<WeeklyRow>> {
            sqlx::query_as::<$db, WeeklyRow>(
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
            sqlx::query_as::<$db, WeeklyRow>(
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
            sqlx::query_as::<$db, ClosureRow>(
                "SELECT id, venue_id, resource_id, starts_at, ends_at, reason FROM closures \
                 WHERE venue_id = $1 AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at, id",
            )
            .bind(venue)
            .bind(from)
            .bind(to)
            .fetch_all(&mut **self)
            .await
        }

        async fn live_claims(
            &mut self,
            venue: i64,
            from: i64,
            to: i64,
            now: i64,
        ) -> DbResult<Vec<ClaimRow>> {
            sqlx::query_as::<$db, ClaimRow>(
                "SELECT c.resource_id, c.unit_start, \
                 CASE WHEN b.status = 'held' THEN b.hold_expires_at END AS held_until, \
                 b.customer_id, b.idempotency_key FROM claims c \
                 JOIN resources r ON r.id = c.resource_id \
                 JOIN bookings b ON b.id = c.booking_id \
                 WHERE r.venue_id = $1 AND c.unit_start >= $2 AND c.unit_start < $3 \
                 AND NOT (b.status = 'held' AND b.hold_expires_at <= $4)",
            )
            .bind(venue)
            .bind(from)
            .bind(to)
            .bind(now)
            .fetch_all(&mut **self)
            .await
        }

        async fn due_holds_on(&mut self, resource: i64, now: i64) -> DbResult<Vec<i64>> {
            sqlx::query_scalar::<$db, i64>(
                "SELECT b.id FROM bookings b \
                 JOIN booking_resources br ON br.booking_id = b.id \
                 WHERE br.resource_id = $1 AND b.status = 'held' AND b.hold_expires_at <= $2",
            )
            .bind(resource)
            .bind(now)
            .fetch_all(&mut **self)
            .await
        }

        async fn due_holds(&mut self, now: i64, limit: i64) -> DbResult<Vec<i64>> {
            sqlx::query_scalar::<$db, i64>(
                "SELECT id FROM bookings WHERE status = 'held' AND hold_expires_at <= $1 \
                 ORDER BY id LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(&mut **self)
            .await
        }

        async fn expire_hold(&mut self, id: i64, now: i64) -> DbResult<Option<i64>> {
            let venue = sqlx::query_scalar::<$db, i64>(
                "UPDATE bookings SET status = 'expired', updated_at = $2, version = version + 1 \
                 WHERE id = $1 AND status = 'held' AND hold_expires_at <= $2 RETURNING venue_id",
            )
            .bind(id)
            .bind(now)
            .fetch_optional(&mut **self)
            .await?;
            if venue.is_some() {
                self.delete_claims(id).await?;
            }
            Ok(venue)
        }

        async fn booking(&mut self, id: i64) -> DbResult<Option<BookingRow>> {
            sqlx::query_as::<$db, BookingRow>(&format!(
                "SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(&mut **self)
            .await
        }

        async fn booking_by_key(&mut self, customer: i64, key: &str) -> DbResult<Option<BookingRow>> {
            sqlx::query_as::<$db, BookingRow>(&format!(
                "SELECT {BOOKING_COLUMNS} FROM bookings \
                 WHERE customer_id = $1 AND idempotency_key = $2"
            ))
            .bind(customer)
            .bind(key)
            .fetch_optional(&mut **self)
            .await
        }

        async fn booking_resources(&mut self, booking: i64) -> DbResult<Vec<i64>> {
            sqlx::query_scalar::<$db, i64>(
                "SELECT resource_id FROM booking_resources WHERE booking_id = $1 ORDER BY resource_id",
            )
            .bind(booking)
            .fetch_all(&mut **self)
            .await
        }

        async fn insert_booking(&mut self, b: &NewBooking<'_>) -> DbResult<i64> {
            sqlx::query_scalar::<$db, i64>(
                "INSERT INTO bookings (customer_id, venue_id, service_id, party_size, starts_at, \
                 ends_at, occupied_until, status, hold_expires_at, idempotency_key, request, \
                 created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
            )
            .bind(b.customer_id)
            .bind(b.venue_id)
            .bind(b.service_id)
            .bind(b.party_size)
            .bind(b.starts_at)
            .bind(b.ends_at)
            .bind(b.occupied_until)
            .bind(b.status)
            .bind(b.hold_expires_at)
            .bind(b.idempotency_key)
            .bind(b.request)
            .bind(b.now)
            .fetch_one(&mut **self)
            .await
        }

        async fn insert_booking_resources(&mut self, booking: i64, resources: &[i64]) -> DbResult<()> {
            let mut q = QueryBuilder::<$db>::new(
                "INSERT INTO booking_resources (booking_id, resource_id) ",
            );
            q.push_values(resources, |mut row, r| {
                row.push_bind(booking).push_bind(*r);
            });
            q.build().execute(&mut **self).await.map(|_| ())
        }

        async fn insert_claims(
            &mut self,
            booking: i64,
            resources: &[i64],
            occupied: crate::domain::schedule::Span,
            unit: i64,
        ) -> DbResult<()> {
            let units = crate::domain::schedule::claim_units(occupied, unit);
            let rows: Vec<(i64, i64)> = resources
                .iter()
                .flat_map(|r| units.iter().map(move |u| (*r, *u)))
                .collect();
            let mut q = QueryBuilder::<$db>::new(
                "INSERT INTO claims (resource_id, unit_start, booking_id) ",
            );
            q.push_values(rows, |mut row, (r, u)| {
                row.push_bind(r).push_bind(u).push_bind(booking);
            });
            q.build().execute(&mut **self).await?;
            let mut q = QueryBuilder::<$db>::new(
                "INSERT INTO occupancies (booking_id, resource_id, starts_at, occupied_until) ",
            );
            q.push_values(resources, |mut row, r| {
                row.push_bind(booking)
                    .push_bind(*r)
                    .push_bind(occupied.start)
                    .push_bind(occupied.end);
            });
            q.build().execute(&mut **self).await.map(|_| ())
        }

        async fn delete_claims(&mut self, booking: i64) -> DbResult<()> {
            for table in ["claims", "occupancies"] {
                sqlx::query::<$db>(&format!("DELETE FROM {table} WHERE booking_id = $1"))
                    .bind(booking)
                    .execute(&mut **self)
                    .await?;
            }
            Ok(())
        }

        async fn confirm_hold(&mut self, id: i64, customer: i64, now: i64) -> DbResult<bool> {
            Ok(sqlx::query::<$db>(
                "UPDATE bookings SET status = 'confirmed', hold_expires_at = NULL, \
                 updated_at = $3, version = version + 1 \
                 WHERE id = $1 AND customer_id = $2 AND status = 'held' AND hold_expires_at > $3",
            )
            .bind(id)
            .bind(customer)
            .bind(now)
            .execute(&mut **self)
            .await?
            .rows_affected()
                == 1)
        }

        async fn set_status(
            &mut self,
            id: i64,
            status: &str,
            cancelled_by: Option<&str>,
            now: i64,
        ) -> DbResult<()> {
            sqlx::query::<$db>(
                "UPDATE bookings SET status = $2, cancelled_by = $3, updated_at = $4, \
                 version = version + 1 WHERE id = $1",
            )
            .bind(id)
            .bind(status)
            .bind(cancelled_by)
            .bind(now)
            .execute(&mut **self)
            .await
            .map(|_| ())
        }

        async fn overlaps(&mut self) -> DbResult<Vec<Overlap>> {
            sqlx::query_as::<$db, Overlap>(
                "SELECT ra.resource_id, a.id AS first_booking, b.id AS second_booking \
                 FROM bookings a \
                 JOIN booking_resources ra ON ra.booking_id = a.id \
                 JOIN booking_resources rb ON rb.resource_id = ra.resource_id \
                      AND rb.booking_id > a.id \
                 JOIN bookings b ON b.id = rb.booking_id \
                 WHERE a.status IN ('held', 'confirmed') AND b.status IN ('held', 'confirmed') \
                 AND a.starts_at < b.occupied_until AND b.starts_at < a.occupied_until \
                 ORDER BY 1, 2, 3",
            )
            .fetch_all(&mut **self)
            .await
        }

        async fn ghost_claims(&mut self) -> DbResult<Vec<i64>> {
            sqlx::query_scalar::<$db, i64>(
                "SELECT b.id FROM bookings b WHERE b.status NOT IN ('held', 'confirmed') \
                 AND (EXISTS (SELECT 1 FROM claims c WHERE c.booking_id = b.id) \
                      OR EXISTS (SELECT 1 FROM occupancies o WHERE o.booking_id = b.id)) \
                 ORDER BY b.id",
            )
            .fetch_all(&mut **self)
            .await
        }

        async fn half_made(&mut self, now: i64) -> DbResult<Vec<i64>> {
            // A claim per unit the span touches on the venue's grid:
            // ceil(until / unit) - floor(start / unit), with whole-number
            // division that both engines do alike for these positive times.
            sqlx::query_scalar::<$db, i64>(
                "SELECT b.id FROM bookings b JOIN venues v ON v.id = b.venue_id \
                 WHERE b.status IN ('held', 'confirmed') AND b.occupied_until > $1 AND ( \
                   NOT EXISTS (SELECT 1 FROM booking_resources br WHERE br.booking_id = b.id) \
                   OR (SELECT COUNT(*) FROM claims c WHERE c.booking_id = b.id) <> \
                      (SELECT COUNT(*) FROM booking_resources br WHERE br.booking_id = b.id) \
                      * ((b.occupied_until + v.grid_minutes * 60 - 1) / (v.grid_minutes * 60) \
                         - b.starts_at / (v.grid_minutes * 60)) \
                   OR EXISTS (SELECT 1 FROM claims c WHERE c.booking_id = b.id \
                      AND (c.unit_start % (v.grid_minutes * 60) <> 0 \
                           OR c.unit_start < b.starts_at OR c.unit_start >= b.occupied_until \
                           OR NOT EXISTS (SELECT 1 FROM booking_resources br \
                                WHERE br.booking_id = b.id AND br.resource_id = c.resource_id))) \
                   OR (SELECT COUNT(*) FROM occupancies o WHERE o.booking_id = b.id \
                       AND o.starts_at = b.starts_at AND o.occupied_until = b.occupied_until) <> \
                      (SELECT COUNT(*) FROM booking_resources br WHERE br.booking_id = b.id) \
                   OR (SELECT COUNT(*) FROM occupancies o WHERE o.booking_id = b.id) <> \
                      (SELECT COUNT(*) FROM booking_resources br WHERE br.booking_id = b.id)) \
                 ORDER BY b.id",
            )
            .bind(now)
            .fetch_all(&mut **self)
            .await
        }

        async fn venue_count(&mut self) -> DbResult<i64> {
            sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM venues")
                .fetch_one(&mut **self)
                .await
        }

        async fn insert_venue(&mut self, v: &NewVenueRow<'_>) -> DbResult<i64> {
            sqlx::query_scalar::<$db, i64>(
                "INSERT INTO venues (name, timezone, grid_minutes, hold_minutes, \
                 cancellation_window_minutes, min_notice_minutes, advance_days, seating_minutes) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(v.name)
            .bind(v.timezone)
            .bind(v.grid_minutes)
            .bind(v.hold_minutes)
            .bind(v.cancellation_window_minutes)
            .bind(v.min_notice_minutes)
            .bind(v.advance_days)
            .bind(v.seating_minutes)
            .fetch_one(&mut **self)
            .await
        }

        async fn insert_resource(
            &mut self,
            venue: i64,
            kind: &str,
            name: &str,
            capacity: Option<i64>,
        ) -> DbResult<i64> {
            sqlx::query_scalar::<$db, i64>(
                "INSERT INTO resources (venue_id, kind, name, capacity) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(venue)
            .bind(kind)
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
        ) -> DbResult<i64> {
            sqlx::query_scalar::<$db, i64>(
                "INSERT INTO services (venue_id, name, duration_minutes, cleanup_minutes, needs_room) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(venue)
            .bind(name)
            .bind(duration_minutes)
            .bind(cleanup_minutes)
            .bind(needs_room)
            .fetch_one(&mut **self)
            .await
        }

        async fn insert_offer(&mut self, therapist: i64, service: i64) -> DbResult<()> {
            sqlx::query::<$db>(
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
            sqlx::query::<$db>(
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
            sqlx::query::<$db>(
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
            sqlx::query_scalar::<$db, i64>(
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

        async fn user_by_email(&mut self, email: &str) -> DbResult<Option<UserRow>> {
            sqlx::query_as::<$db, UserRow>(
                "SELECT id, email, password_hash, display_name, role FROM users WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(&mut **self)
            .await
        }

        async fn user(&mut self, id: i64) -> DbResult<Option<UserRow>> {
            sqlx::query_as::<$db, UserRow>(
                "SELECT id, email, password_hash, display_name, role FROM users WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut **self)
            .await
        }

        async fn bookings_of_customer(&mut self, customer: i64) -> DbResult<Vec<BookingRow>> {
            sqlx::query_as::<$db, BookingRow>(&format!(
                "SELECT {BOOKING_COLUMNS} FROM bookings WHERE customer_id = $1 \
                 ORDER BY starts_at, id"
            ))
            .bind(customer)
            .fetch_all(&mut **self)
            .await
        }

        async fn record_login_attempt(&mut self, email: &str, address: &str, at: i64) -> DbResult<i64> {
            sqlx::query_scalar::<$db, i64>(
                "INSERT INTO login_attempts (email, address, attempted_at, succeeded) \
                 VALUES ($1, $2, $3, FALSE) RETURNING id",
            )
            .bind(email)
            .bind(address)
            .bind(at)
            .fetch_one(&mut **self)
            .await
        }

        async fn mark_login_succeeded(&mut self, attempt: i64) -> DbResult<()> {
            sqlx::query::<$db>("UPDATE login_attempts SET succeeded = TRUE WHERE id = $1")
                .bind(attempt)
                .execute(&mut **self)
                .await
                .map(|_| ())
        }

        async fn login_failures(
            &mut self,
            email: &str,
            address: &str,
            since: i64,
        ) -> DbResult<[FailureCount; 3]> {
            let count = |filter: &'static str| {
                format!(
                    "SELECT COUNT(*) AS failures, MIN(attempted_at) AS oldest FROM login_attempts \
                     WHERE {filter} AND attempted_at >= $3 AND NOT succeeded"
                )
            };
            let mut out = Vec::with_capacity(3);
            for filter in ["email = $1 AND address = $2", "email = $1 AND $2 = $2", "address = $2 AND $1 = $1"] {
                out.push(
                    sqlx::query_as::<$db, FailureCount>(&count(filter))
                        .bind(email)
                        .bind(address)
                        .bind(since)
                        .fetch_one(&mut **self)
                        .await?,
                );
            }
            let [pair, by_email, by_address]: [FailureCount; 3] =
                out.try_into().expect("three counts");
            Ok([pair, by_email, by_address])
        }

        async fn forget_login_attempts(&mut self, before: i64) -> DbResult<u64> {
            sqlx::query::<$db>("DELETE FROM login_attempts WHERE attempted_at < $1")
                .bind(before)
                .execute(&mut **self)
                .await
                .map(|r| r.rows_affected())
        }

        async fn insert_user(
            &mut self,
            email: &str,
            password_hash: &str,
            display_name: &str,
            role: &str,
            now: i64,
        ) -> DbResult<Option<i64>> {
            sqlx::query_scalar::<$db, i64>(
                "INSERT INTO users (email, password_hash, display_name, role, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING RETURNING id",
            )
            .bind(email)
            .bind(password_hash)
            .bind(display_name)
            .bind(role)
            .bind(now)
            .fetch_optional(&mut **self)
            .await
        }

        async fn may_run(&mut self, user: i64, venue: i64) -> DbResult<bool> {
            sqlx::query_scalar::<$db, bool>(
                "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'admin') \
                 OR EXISTS (SELECT 1 FROM staff_venues sv JOIN users u ON u.id = sv.user_id \
                            WHERE sv.user_id = $1 AND sv.venue_id = $2 AND u.role = 'staff')",
            )
            .bind(user)
            .bind(venue)
            .fetch_one(&mut **self)
            .await
        }

        async fn venues_run_by(&mut self, user: i64) -> DbResult<Vec<i64>> {
            sqlx::query_scalar::<$db, i64>(
                "SELECT v.id FROM venues v WHERE EXISTS \
                 (SELECT 1 FROM users WHERE id = $1 AND role = 'admin') \
                 OR EXISTS (SELECT 1 FROM staff_venues sv JOIN users u ON u.id = sv.user_id \
                            WHERE sv.user_id = $1 AND sv.venue_id = v.id AND u.role = 'staff') \
                 ORDER BY v.name, v.id",
            )
            .bind(user)
            .fetch_all(&mut **self)
            .await
        }

        async fn assign_staff(&mut self, user: i64, venue: i64) -> DbResult<()> {
            sqlx::query::<$db>(
                "INSERT INTO staff_venues (user_id, venue_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(user)
            .bind(venue)
            .execute(&mut **self)
            .await
            .map(|_| ())
        }

        async fn unassign_staff(&mut self, user: i64) -> DbResult<()> {
            sqlx::query::<$db>("DELETE FROM staff_venues WHERE user_id = $1")
                .bind(user)
                .execute(&mut **self)
                .await
                .map(|_| ())
        }

        async fn set_role(&mut self, user: i64, role: &str) -> DbResult<()> {
            sqlx::query::<$db>("UPDATE users SET role = $2 WHERE id = $1")
                .bind(user)
                .bind(role)
                .execute(&mut **self)
                .await
                .map(|_| ())
        }

        async fn staff_members(&mut self) -> DbResult<Vec<StaffRow>> {
            sqlx::query_as::<$db, StaffRow>(
                "SELECT id, email, display_name, role FROM users \
                 WHERE role IN ('staff', 'admin') ORDER BY display_name, id",
            )
            .fetch_all(&mut **self)
            .await
        }

        async fn staff_assignments(&mut self) -> DbResult<Vec<(i64, i64)>> {
            sqlx::query_as::<$db, (i64, i64)>(
                "SELECT user_id, venue_id FROM staff_venues ORDER BY user_id, venue_id",
            )
            .fetch_all(&mut **self)
            .await
        }

        async fn insert_audit(&mut self, a: &NewAudit<'_>) -> DbResult<()> {
            sqlx::query::<$db>(
                "INSERT INTO audit_log (at, actor_id, venue_id, resource_id, service_id, \
                 booking_id, action, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(a.at)
            .bind(a.actor_id)
            .bind(a.venue_id)
            .bind(a.resource_id)
            .bind(a.service_id)
            .bind(a.booking_id)
            .bind(a.action)
            .bind(a.before.as_deref())
            .bind(a.after.as_deref())
            .execute(&mut **self)
            .await
            .map(|_| ())
        }

        async fn audit(
            &mut self,
            venue: i64,
            from: i64,
            to: i64,
            resource: Option<i64>,
        ) -> DbResult<Vec<AuditRow>> {
            sqlx::query_as::<$db, AuditRow>(
                "SELECT a.id, a.at, a.actor_id, u.display_name AS actor_name, a.venue_id, \
                 a.resource_id, a.service_id, a.booking_id, a.action, a.before, a.after \
                 FROM audit_log a JOIN users u ON u.id = a.actor_id \
                 WHERE a.venue_id = $1 AND a.at >= $2 AND a.at < $3 \
                 AND ($4 IS NULL OR a.resource_id = $4 OR a.booking_id IN \
                      (SELECT booking_id FROM booking_resources WHERE resource_id = $4)) \
                 ORDER BY a.at DESC, a.id DESC LIMIT 500",
            )
            .bind(venue)
            .bind(from)
            .bind(to)
            .bind(resource)
            .fetch_all(&mut **self)
            .await
        }

        async fn audit_of_booking(&mut self, booking: i64) -> DbResult<Vec<AuditRow>> {
            sqlx::query_as::<$db, AuditRow>(
                "SELECT a.id, a.at, a.actor_id, u.display_name AS actor_name, a.venue_id, \
                 a.resource_id, a.service_id, a.booking_id, a.action, a.before, a.after \
                 FROM audit_log a JOIN users u ON u.id = a.actor_id \
                 WHERE a.booking_id = $1 ORDER BY a.at, a.id",
            )
            .bind(booking)
            .fetch_all(&mut **self)
            .await
        }

        async fn add_stat(&mut self, venue: i64, hour_start: i64, kind: &str, n: i64) -> DbResult<()> {
            sqlx::query::<$db>(
                "INSERT INTO venue_hourly_stats (venue_id, hour_start, kind, count) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (venue_id, hour_start, kind) \
                 DO UPDATE SET count = venue_hourly_stats.count + excluded.count",
            )
            .bind(venue)
            .bind(hour_start)
            .bind(kind)
            .bind(n)
            .execute(&mut **self)
            .await
            .map(|_| ())
        }

        async fn stats_since(&mut self, since: i64) -> DbResult<Vec<StatRow>> {
            sqlx::query_as::<$db, StatRow>(
                "SELECT venue_id, hour_start, kind, count FROM venue_hourly_stats \
                 WHERE hour_start >= $1 ORDER BY hour_start DESC, venue_id",
            )
            .bind(since)
            .fetch_all(&mut **self)
            .await
        }

        async fn stat_totals(&mut self) -> DbResult<Vec<StatRow>> {
            sqlx::query_as::<$db, StatRow>(
                "SELECT venue_id, CAST(0 AS BIGINT) AS hour_start, kind, \
                 CAST(SUM(count) AS BIGINT) AS count \
                 FROM venue_hourly_stats GROUP BY venue_id, kind ORDER BY venue_id, kind",
            )
            .fetch_all(&mut **self)
            .await
        }

        async fn bookings_between(&mut self, venue: i64, from: i64, to: i64) -> DbResult<Vec<BookingRow>> {
            sqlx::query_as::<$db, BookingRow>(&format!(
                "SELECT {BOOKING_COLUMNS} FROM bookings \
                 WHERE venue_id = $1 AND starts_at < $3 AND occupied_until > $2 \
                 ORDER BY starts_at, id"
            ))
            .bind(venue)
            .bind(from)
            .bind(to)
            .fetch_all(&mut **self)
            .await
        }

        async fn live_bookings_after(&mut self, venue: i64, after: i64) -> DbResult<Vec<BookingRow>> {
            sqlx::query_as::<$db, BookingRow>(&format!(
                "SELECT {BOOKING_COLUMNS} FROM bookings \
                 WHERE venue_id = $1 AND occupied_until > $2 AND status IN ('held', 'confirmed') \
                 ORDER BY starts_at, id"
            ))
            .bind(venue)
            .bind(after)
            .fetch_all(&mut **self)
            .await
        }

        async fn closure(&mut self, id: i64) -> DbResult<Option<ClosureRow>> {
            sqlx::query_as::<$db, ClosureRow>(
                "SELECT id, venue_id, resource_id, starts_at, ends_at, reason FROM closures \
                 WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut **self)
            .await
        }

        async fn delete_closure(&mut self, id: i64) -> DbResult<()> {
            sqlx::query::<$db>("DELETE FROM closures WHERE id = $1")
                .bind(id)
                .execute(&mut **self)
                .await
                .map(|_| ())
        }

        async fn update_venue(&mut self, v: &VenueRow, version: i64) -> DbResult<bool> {
            Ok(sqlx::query::<$db>(
                "UPDATE venues SET name = $3, grid_minutes = $4, hold_minutes = $5, \
                 cancellation_window_minutes = $6, min_notice_minutes = $7, advance_days = $8, \
                 seating_minutes = $9, version = version + 1 WHERE id = $1 AND version = $2",
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
            .execute(&mut **self)
            .await?
            .rows_affected()
                == 1)
        }

        async fn update_resource(&mut self, r: &ResourceRow, version: i64) -> DbResult<bool> {
            Ok(sqlx::query::<$db>(
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
            Ok(sqlx::query::<$db>(
                "UPDATE services SET name = $3, duration_minutes = $4, cleanup_minutes = $5, \
                 needs_room = $6, active = $7, version = version + 1 \
                 WHERE id = $1 AND version = $2",
            )
            .bind(s.id)
            .bind(version)
            .bind(&s.name)
            .bind(s.duration_minutes)
            .bind(s.cleanup_minutes)
            .bind(s.needs_room)
            .bind(s.active)
            .execute(&mut **self)
            .await?
            .rows_affected()
                == 1)
        }

        async fn resource(&mut self, id: i64) -> DbResult<Option<ResourceRow>> {
            sqlx::query_as::<$db, ResourceRow>(
                "SELECT id, venue_id, kind, name, capacity, active, version FROM resources \
                 WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut **self)
            .await
        }

        async fn weekly_of(&mut self, resource: i64) -> DbResult<Vec<WeeklyEntry>> {
            sqlx::query_as::<$db, WeeklyEntry>(
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
                sqlx::query::<$db>(&format!(
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
            sqlx::query::<$db>(
                "DELETE FROM therapist_services WHERE resource_id = $1 AND service_id = $2",
            )
            .bind(therapist)
            .bind(service)
            .execute(&mut **self)
            .await
            .map(|_| ())
        }

        async fn reschedule(
            &mut self,
            id: i64,
            starts_at: i64,
            ends_at: i64,
            occupied_until: i64,
            now: i64,
        ) -> DbResult<()> {
            sqlx::query::<$db>(
                "UPDATE bookings SET starts_at = $2, ends_at = $3, occupied_until = $4, \
                 updated_at = $5, version = version + 1 WHERE id = $1",
            )
            .bind(id)
            .bind(starts_at)
            .bind(ends_at)
            .bind(occupied_until)
            .bind(now)
            .execute(&mut **self)
            .await
            .map(|_| ())
        }

        async fn delete_booking_resources(&mut self, booking: i64) -> DbResult<()> {
            sqlx::query::<$db>("DELETE FROM booking_resources WHERE booking_id = $1")
                .bind(booking)
                .execute(&mut **self)
                .await
                .map(|_| ())
        }
    };
}

impl<'c> Store for Transaction<'c, Sqlite> {
    const LOCKS_AT_BEGIN: bool = true;

    async fn lock_resources(&mut self, _ids: &[i64]) -> DbResult<()> {
        // BEGIN IMMEDIATE took the database's write lock already.
        Ok(())
    }

    async fn lock_venue(&mut self, venue: i64) -> DbResult<()> {
        // BEGIN IMMEDIATE holds the write lock; the version still moves on.
        sqlx::query::<Sqlite>("UPDATE venues SET setup_version = setup_version + 1 WHERE id = $1")
            .bind(venue)
            .execute(&mut **self)
            .await
            .map(|_| ())
    }

    async fn lock_for_seeding(&mut self) -> DbResult<()> {
        Ok(())
    }

    async fn lock_booking(&mut self, id: i64) -> DbResult<Option<BookingRow>> {
        self.booking(id).await
    }

    async fn lock_login(&mut self, _email: &str, _address: &str) -> DbResult<()> {
        // BEGIN IMMEDIATE holds the write lock already.
        Ok(())
    }

    impl_store!(Sqlite);
}

impl<'c> Store for Transaction<'c, Postgres> {
    const LOCKS_AT_BEGIN: bool = false;

    async fn lock_resources(&mut self, ids: &[i64]) -> DbResult<()> {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sqlx::query::<Postgres>(
            "SELECT id FROM resources WHERE id = ANY($1) ORDER BY id FOR UPDATE",
        )
        .bind(&sorted)
        .fetch_all(&mut **self)
        .await
        .map(|_| ())
    }

    async fn lock_venue(&mut self, venue: i64) -> DbResult<()> {
        // The venue row first: set-up changes of one venue queue there even
        // when it has no resources yet. An UPDATE of a column that is no key
        // takes NO KEY UPDATE, which does not block the KEY SHARE lock that
        // a booking's foreign key takes on its venue (FOR UPDATE would, and
        // a booker holding its resources would wait here in a cycle).
        sqlx::query::<Postgres>(
            "UPDATE venues SET setup_version = setup_version + 1 WHERE id = $1",
        )
        .bind(venue)
        .execute(&mut **self)
        .await?;
        sqlx::query::<Postgres>(
            "SELECT id FROM resources WHERE venue_id = $1 ORDER BY id FOR UPDATE",
        )
        .bind(venue)
        .fetch_all(&mut **self)
        .await
        .map(|_| ())
    }

    async fn lock_for_seeding(&mut self) -> DbResult<()> {
        // A transaction-scoped advisory lock; the key is arbitrary but fixed.
        sqlx::query::<Postgres>("SELECT pg_advisory_xact_lock(7301)")
            .execute(&mut **self)
            .await
            .map(|_| ())
    }

    async fn lock_booking(&mut self, id: i64) -> DbResult<Option<BookingRow>> {
        sqlx::query_as::<Postgres, BookingRow>(&format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = $1 FOR UPDATE"
        ))
        .bind(id)
        .fetch_optional(&mut **self)
        .await
    }

    async fn lock_login(&mut self, email: &str, address: &str) -> DbResult<()> {
        // Transaction-scoped advisory locks, email first then address, so
        // two checks cannot wait on each other in a cycle.
        for key in [
            format!("login-email:{email}"),
            format!("login-address:{address}"),
        ] {
            sqlx::query::<Postgres>("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(key)
                .execute(&mut **self)
                .await?;
        }
        Ok(())
    }

    impl_store!(Postgres);
}
