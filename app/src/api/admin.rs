//! Server functions of the admin pages. Every one checks, on the server,
//! that a staff member or admin is signed in (`Unauthorized` otherwise,
//! `Forbidden` for customers); the engine then checks that they run the
//! venue concerned. All live under `/api/admin/`.

use crate::domain::admin::{
    AuditEntry, BookingDetail, DayView, StaffMember, StaffVenue, Stats, VenueSetup,
};
use crate::domain::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::backend::staff::Staff;
    use crate::domain::error::AppError;
    use std::collections::BTreeMap;

    /// The signed-in staff member or admin.
    pub async fn staff() -> Result<Staff, AppError> {
        let user = crate::api::account::ssr::signed_in().await?;
        if user.role.is_staff() {
            Ok(Staff { user: user.id })
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// A date staff typed: a real date within two years of today (so
    /// that no time arithmetic meets the ends of the calendar).
    pub fn date(field: &str, s: &str) -> Result<chrono::NaiveDate, AppError> {
        let invalid = |message: &str| AppError::Invalid {
            field: field.to_owned(),
            message: message.to_owned(),
        };
        let date = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| invalid("Use a date like 2026-06-02."))?;
        let now = crate::api::state()?.engine.clock().now();
        let today = crate::domain::schedule::to_datetime(now).date_naive();
        if crate::domain::schedule::date_within_staff_horizon(date, today) {
            Ok(date)
        } else {
            Err(invalid("Choose a date within two years of today."))
        }
    }

    pub fn clock(field: &str, s: &str) -> Result<i64, AppError> {
        crate::backend::staff::parse_clock(s).ok_or_else(|| AppError::Invalid {
            field: field.to_owned(),
            message: "Use a time like 09:30.".to_owned(),
        })
    }

    /// A checkbox: present when ticked.
    pub fn ticked(v: &Option<String>) -> bool {
        v.as_deref().is_some_and(|v| !v.is_empty() && v != "false")
    }

    /// What the form sent, kept in a version conflict or a stranded-
    /// bookings question so that the page can offer it again.
    pub fn keep(e: AppError, submitted: BTreeMap<String, String>) -> AppError {
        match e {
            AppError::Stale { .. } => AppError::Stale { submitted },
            AppError::Strands { bookings, .. } => AppError::Strands {
                bookings,
                submitted,
            },
            other => other,
        }
    }

    /// The venue's local instant for a date and a time of day.
    pub async fn instant(
        venue: i64,
        date: chrono::NaiveDate,
        minute: i64,
    ) -> Result<i64, AppError> {
        let state = crate::api::state()?;
        let tz = crate::backend::views::venue_zone(state.engine.db(), venue)
            .await
            .map_err(crate::domain::error::internal("reading a venue's zone"))?
            .ok_or(AppError::NotFound)?;
        Ok(crate::domain::schedule::local_instant(
            tz,
            date,
            minute,
            crate::domain::schedule::Ambiguity::Earliest,
        ))
    }
}

/// `[("venue", "1"), …]` as a map, for `ssr::keep`.
#[cfg(feature = "ssr")]
macro_rules! submitted {
    ($($name:ident),* $(,)?) => {{
        let mut m = std::collections::BTreeMap::new();
        $( m.insert(stringify!($name).to_owned(), $crate::api::admin::Field::field(&$name)); )*
        m
    }};
}

/// A form value as the form would send it again.
#[cfg(feature = "ssr")]
pub(crate) trait Field {
    fn field(&self) -> String;
}

#[cfg(feature = "ssr")]
impl Field for String {
    fn field(&self) -> String {
        self.clone()
    }
}

#[cfg(feature = "ssr")]
impl Field for i64 {
    fn field(&self) -> String {
        self.to_string()
    }
}

#[cfg(feature = "ssr")]
impl<T: Field> Field for Option<T> {
    fn field(&self) -> String {
        self.as_ref().map(Field::field).unwrap_or_default()
    }
}

/// The venues the signed-in staff member runs.
#[server(prefix = "/api/admin", endpoint = "venues")]
pub async fn admin_venues() -> Result<Vec<StaffVenue>, AppError> {
    let staff = ssr::staff().await?;
    super::state()?.engine.venues_run_by(staff).await
}

#[server(prefix = "/api/admin", endpoint = "day")]
pub async fn load_day(venue: i64, date: String) -> Result<DayView, AppError> {
    use crate::domain::ids::VenueId;
    let staff = ssr::staff().await?;
    let date = ssr::date("date", &date)?;
    super::state()?
        .engine
        .day_view(staff, VenueId(venue), date)
        .await
}

#[server(prefix = "/api/admin", endpoint = "booking")]
pub async fn load_booking(id: i64) -> Result<BookingDetail, AppError> {
    use crate::domain::ids::BookingId;
    let staff = ssr::staff().await?;
    super::state()?
        .engine
        .booking_detail(staff, BookingId(id))
        .await
}

#[server(prefix = "/api/admin", endpoint = "cancel")]
pub async fn staff_cancel(id: i64) -> Result<(), AppError> {
    use crate::backend::engine::Actor;
    use crate::domain::ids::BookingId;
    let staff = ssr::staff().await?;
    super::state()?
        .engine
        .cancel(Actor::staff(staff.user), BookingId(id))
        .await?;
    leptos_axum::redirect(&format!("/admin/bookings/{id}"));
    Ok(())
}

/// Marks a booking "completed" or "no_show".
#[server(prefix = "/api/admin", endpoint = "mark")]
pub async fn mark_booking(id: i64, status: String) -> Result<(), AppError> {
    use crate::domain::booking::BookingStatus;
    use crate::domain::ids::BookingId;
    let staff = ssr::staff().await?;
    let status = match BookingStatus::parse(&status) {
        Some(s @ (BookingStatus::Completed | BookingStatus::NoShow)) => s,
        _ => {
            return Err(AppError::Invalid {
                field: "status".to_owned(),
                message: "Mark a booking completed or a no-show.".to_owned(),
            })
        }
    };
    super::state()?
        .engine
        .mark(staff, BookingId(id), status)
        .await?;
    leptos_axum::redirect(&format!("/admin/bookings/{id}"));
    Ok(())
}

/// Moves a booking to `date` at `time` (the venue's), on `resource` or
/// the one it has.
#[server(prefix = "/api/admin", endpoint = "move")]
pub async fn move_booking(
    id: i64,
    date: String,
    time: String,
    resource: Option<i64>,
) -> Result<(), AppError> {
    use crate::domain::ids::{BookingId, ResourceId};
    let staff = ssr::staff().await?;
    let state = super::state()?;
    let detail = state.engine.booking_detail(staff, BookingId(id)).await?;
    let day = ssr::date("date", &date)?;
    let minute = ssr::clock("time", &time)?;
    let at = ssr::instant(detail.view.venue_id, day, minute).await?;
    state
        .engine
        .move_booking(
            staff,
            BookingId(id),
            crate::domain::schedule::to_datetime(at),
            resource.filter(|r| *r > 0).map(ResourceId),
        )
        .await?;
    leptos_axum::redirect(&format!("/admin/bookings/{id}?moved=1"));
    Ok(())
}

/// A booking made by staff for a customer (found or created by email).
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "book")]
pub async fn staff_book(
    venue: i64,
    email: String,
    name: String,
    date: String,
    time: String,
    service: Option<i64>,
    party: Option<i64>,
    resource: Option<i64>,
    key: String,
) -> Result<(), AppError> {
    use crate::backend::staff::StaffBooking;
    use crate::domain::booking::{Offer, ResourceChoice};
    use crate::domain::ids::{ResourceId, ServiceId, VenueId};
    use crate::domain::input::{DisplayName, Email, IdempotencyKey, PartySize};
    let staff = ssr::staff().await?;
    let day = ssr::date("date", &date)?;
    let minute = ssr::clock("time", &time)?;
    let offer = match (service.filter(|s| *s > 0), party) {
        (Some(s), _) => Offer::Service(ServiceId(s)),
        (None, Some(p)) => Offer::Table(PartySize::parse(p)?),
        (None, None) => {
            return Err(AppError::Invalid {
                field: "service".to_owned(),
                message: "Choose a treatment or a party size.".to_owned(),
            })
        }
    };
    let req = StaffBooking {
        venue: VenueId(venue),
        customer_email: Email::parse(&email)?,
        customer_name: DisplayName::parse(&name)?,
        offer,
        resource: resource
            .filter(|r| *r > 0)
            .map_or(ResourceChoice::Any, |r| {
                ResourceChoice::Specific(ResourceId(r))
            }),
        start: crate::domain::schedule::to_datetime(ssr::instant(venue, day, minute).await?),
        idempotency_key: IdempotencyKey::parse(key)?,
    };
    let booking = super::state()?.engine.staff_book(staff, &req).await?;
    leptos_axum::redirect(&format!("/admin/bookings/{}", booking.id));
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "setup")]
pub async fn load_setup(venue: i64) -> Result<VenueSetup, AppError> {
    use crate::domain::ids::VenueId;
    let staff = ssr::staff().await?;
    super::state()?
        .engine
        .venue_setup(staff, VenueId(venue))
        .await
}

/// Runs a set-up change for the signed-in staff member.
#[cfg(feature = "ssr")]
async fn change(
    venue: i64,
    change: crate::backend::staff::Change,
    choice: &Option<String>,
    submitted: std::collections::BTreeMap<String, String>,
) -> Result<(), AppError> {
    use crate::domain::admin::StrandChoice;
    use crate::domain::ids::VenueId;
    let staff = ssr::staff().await?;
    super::state()?
        .engine
        .change(
            staff,
            VenueId(venue),
            &change,
            StrandChoice::from_form(choice.as_deref()),
        )
        .await
        .map_err(|e| ssr::keep(e, submitted))
}

#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "settings")]
pub async fn save_settings(
    venue: i64,
    version: i64,
    name: String,
    grid_minutes: i64,
    hold_minutes: i64,
    cancellation_window_minutes: i64,
    min_notice_minutes: i64,
    advance_days: i64,
    seating_minutes: Option<i64>,
    choice: Option<String>,
) -> Result<(), AppError> {
    let submitted = submitted!(
        venue,
        version,
        name,
        grid_minutes,
        hold_minutes,
        cancellation_window_minutes,
        min_notice_minutes,
        advance_days,
        seating_minutes
    );
    let c = crate::backend::staff::Change::Settings {
        version,
        name,
        grid_minutes,
        hold_minutes,
        cancellation_window_minutes,
        min_notice_minutes,
        advance_days,
        seating_minutes,
    };
    change(venue, c, &choice, submitted).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=settings"));
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "add_resource")]
pub async fn add_resource(
    venue: i64,
    kind: String,
    name: String,
    capacity: Option<i64>,
) -> Result<(), AppError> {
    use crate::domain::venue::ResourceKind;
    let kind = ResourceKind::parse(&kind).ok_or_else(|| AppError::Invalid {
        field: "kind".to_owned(),
        message: "Choose a therapist, a room or a table.".to_owned(),
    })?;
    let c = crate::backend::staff::Change::AddResource {
        kind,
        name,
        capacity,
    };
    change(venue, c, &None, Default::default()).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=resource"));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "edit_resource")]
pub async fn edit_resource(
    venue: i64,
    id: i64,
    version: i64,
    name: String,
    capacity: Option<i64>,
    active: Option<String>,
    choice: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::ids::ResourceId;
    let submitted = submitted!(venue, id, version, name, capacity, active);
    let c = crate::backend::staff::Change::EditResource {
        id: ResourceId(id),
        version,
        name,
        capacity,
        active: ssr::ticked(&active),
    };
    change(venue, c, &choice, submitted).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=resource"));
    Ok(())
}

/// Starts (`offer` = "yes") or stops a therapist offering a service.
#[server(prefix = "/api/admin", endpoint = "offer")]
pub async fn toggle_offer(
    venue: i64,
    id: i64,
    version: i64,
    service: i64,
    offer: String,
    choice: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::ids::{ResourceId, ServiceId, VenueId};
    let staff = ssr::staff().await?;
    let submitted = submitted!(venue, id, version, service, offer);
    let setup = super::state()?
        .engine
        .venue_setup(staff, VenueId(venue))
        .await?;
    let r = setup
        .resources
        .iter()
        .find(|r| r.id.0 == id)
        .ok_or(AppError::NotFound)?;
    let mut services: Vec<ServiceId> = r
        .offers
        .iter()
        .copied()
        .filter(|s| s.0 != service)
        .collect();
    if offer == "yes" {
        services.push(ServiceId(service));
    }
    let c = crate::backend::staff::Change::Offers {
        resource: ResourceId(id),
        version,
        services,
    };
    change(venue, c, &choice, submitted).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=resource"));
    Ok(())
}

/// One weekday's hours and break of a resource.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "hours")]
pub async fn save_hours(
    venue: i64,
    id: i64,
    version: i64,
    weekday: i64,
    opens: String,
    closes: String,
    break_starts: String,
    break_ends: String,
    choice: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::admin::WeekdayHours;
    use crate::domain::ids::{ResourceId, VenueId};
    let staff = ssr::staff().await?;
    let submitted = submitted!(
        venue,
        id,
        version,
        weekday,
        opens,
        closes,
        break_starts,
        break_ends
    );
    let setup = super::state()?
        .engine
        .venue_setup(staff, VenueId(venue))
        .await?;
    let r = setup
        .resources
        .iter()
        .find(|r| r.id.0 == id)
        .ok_or(AppError::NotFound)?;
    let mut week = r.week.clone();
    let day = week
        .iter_mut()
        .find(|d| d.weekday == weekday)
        .ok_or(AppError::BadRequest)?;
    *day = WeekdayHours {
        weekday,
        opens,
        closes,
        break_starts,
        break_ends,
    };
    let c = crate::backend::staff::Change::Week {
        resource: ResourceId(id),
        version,
        week,
    };
    change(venue, c, &choice, submitted).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=hours"));
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "add_service")]
pub async fn add_service(
    venue: i64,
    name: String,
    duration_minutes: i64,
    cleanup_minutes: i64,
    needs_room: Option<String>,
) -> Result<(), AppError> {
    let c = crate::backend::staff::Change::AddService {
        name,
        duration_minutes,
        cleanup_minutes,
        needs_room: ssr::ticked(&needs_room),
    };
    change(venue, c, &None, Default::default()).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=service"));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "edit_service")]
pub async fn edit_service(
    venue: i64,
    id: i64,
    version: i64,
    name: String,
    duration_minutes: i64,
    cleanup_minutes: i64,
    needs_room: Option<String>,
    active: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::ids::ServiceId;
    let submitted = submitted!(
        venue,
        id,
        version,
        name,
        duration_minutes,
        cleanup_minutes,
        needs_room,
        active
    );
    let c = crate::backend::staff::Change::EditService {
        id: ServiceId(id),
        version,
        name,
        duration_minutes,
        cleanup_minutes,
        needs_room: ssr::ticked(&needs_room),
        active: ssr::ticked(&active),
    };
    change(venue, c, &None, submitted).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=service"));
    Ok(())
}

/// Closes the venue (no resource) or one resource from `date` `from` to
/// `until_date` `to` (the same day when empty). An empty `from` is the
/// start of the day, an empty `to` its end: the whole day.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/admin", endpoint = "close")]
pub async fn add_closure(
    venue: i64,
    resource: Option<i64>,
    date: String,
    from: Option<String>,
    until_date: Option<String>,
    to: Option<String>,
    reason: String,
    choice: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::ids::ResourceId;
    let submitted = submitted!(venue, resource, date, from, until_date, to, reason);
    let start_day = ssr::date("date", &date)?;
    let end_day = match until_date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => ssr::date("until_date", d)?,
        None => start_day,
    };
    let from_minute = match from.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => ssr::clock("from", t)?,
        None => 0,
    };
    let to_minute = match to.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => ssr::clock("to", t)?,
        None => 24 * 60,
    };
    let starts_at = ssr::instant(venue, start_day, from_minute).await?;
    let ends_at = if to_minute == 24 * 60 {
        let next = end_day.succ_opt().ok_or(AppError::BadRequest)?;
        ssr::instant(venue, next, 0).await?
    } else {
        ssr::instant(venue, end_day, to_minute).await?
    };
    let c = crate::backend::staff::Change::AddClosure {
        resource: resource.filter(|r| *r > 0).map(ResourceId),
        starts_at,
        ends_at,
        reason,
    };
    change(venue, c, &choice, submitted).await?;
    leptos_axum::redirect(&format!(
        "/admin/venues/{venue}/day?date={start_day}&closed=1"
    ));
    Ok(())
}

#[server(prefix = "/api/admin", endpoint = "reopen")]
pub async fn remove_closure(venue: i64, id: i64) -> Result<(), AppError> {
    let c = crate::backend::staff::Change::RemoveClosure { id };
    change(venue, c, &None, Default::default()).await?;
    leptos_axum::redirect(&format!("/admin/venues/{venue}/setup?saved=closure"));
    Ok(())
}

/// The audit trail of a venue, for a day (`YYYY-MM-DD`) or the latest, for
/// one resource or all.
#[server(prefix = "/api/admin", endpoint = "audit")]
pub async fn audit_trail(
    venue: i64,
    date: Option<String>,
    resource: Option<i64>,
) -> Result<Vec<AuditEntry>, AppError> {
    use crate::domain::ids::{ResourceId, VenueId};
    let staff = ssr::staff().await?;
    let date = match date.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => Some(ssr::date("date", d)?),
        None => None,
    };
    super::state()?
        .engine
        .audit_trail(
            staff,
            VenueId(venue),
            date,
            resource.filter(|r| *r > 0).map(ResourceId),
        )
        .await
}

#[server(prefix = "/api/admin", endpoint = "stats")]
pub async fn load_stats() -> Result<Stats, AppError> {
    let staff = ssr::staff().await?;
    super::state()?.engine.stats(staff).await
}

/// Staff and admins. Admins only.
#[server(prefix = "/api/admin", endpoint = "staff")]
pub async fn load_staff() -> Result<Vec<StaffMember>, AppError> {
    let staff = ssr::staff().await?;
    super::state()?.engine.staff_members(staff).await
}

/// Gives the account with `email` a role; staff also run `venue` (added
/// to the venues they run). Admins only.
#[server(prefix = "/api/admin", endpoint = "set_staff")]
pub async fn set_staff(
    email: String,
    role: String,
    venue: Option<i64>,
    remove: Option<String>,
) -> Result<(), AppError> {
    use crate::backend::accounts::Role;
    use crate::backend::staff::StaffAccount;
    use crate::domain::ids::VenueId;
    use crate::domain::input::Email;
    let admin = ssr::staff().await?;
    let engine = &super::state()?.engine;
    let email = Email::parse(&email)?;
    let role = Role::parse(&role).ok_or_else(|| AppError::Invalid {
        field: "role".to_owned(),
        message: "Choose customer, staff or admin.".to_owned(),
    })?;
    let mut venues: Vec<VenueId> = engine
        .staff_members(admin)
        .await?
        .into_iter()
        .find(|m| m.email == email.as_str())
        .map(|m| m.venues)
        .unwrap_or_default();
    if let Some(v) = venue.filter(|v| *v > 0) {
        if ssr::ticked(&remove) {
            venues.retain(|x| x.0 != v);
        } else if !venues.contains(&VenueId(v)) {
            venues.push(VenueId(v));
        }
    }
    engine
        .set_staff(admin, &email, &StaffAccount { role, venues })
        .await?;
    leptos_axum::redirect("/admin/staff?saved=1");
    Ok(())
}

/// A new venue (a spa, or a restaurant when `kind` is "restaurant"). Admins only.
#[server(prefix = "/api/admin", endpoint = "add_venue")]
pub async fn add_venue(name: String, timezone: String, kind: String) -> Result<(), AppError> {
    let admin = ssr::staff().await?;
    let id = super::state()?
        .engine
        .add_venue(admin, &name, timezone.trim(), kind == "restaurant")
        .await?;
    leptos_axum::redirect(&format!("/admin/venues/{id}/setup?saved=venue"));
    Ok(())
}
