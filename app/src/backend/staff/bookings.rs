//! Bookings as staff handle them: the detail page, a booking made for a
//! customer, a move to another time or resource (placed as a booking is,
//! in one transaction), and marking completed or no-show.

use crate::domain::admin::{BookingDetail, Role};
use crate::domain::booking::{Booking, BookingRequest, BookingStatus, Offer, ResourceChoice};
use crate::domain::error::AppError;
use crate::domain::ids::{BookingId, ResourceId, UserId, VenueId};
use crate::domain::input::{DisplayName, Email, IdempotencyKey};
use crate::domain::schedule;

use super::audit::audit_entries;
use super::{authorize, check_staff_instant, staff_booking, Staff};
use crate::backend::db::{with_backend, Backend};
use crate::backend::engine::{
    able_resources, booking_from_row, lock_booking_resources, move_times_attempt, offer_waiting,
    retrying, settle_app, venue_zone, Engine, Failure, Lines, LockSet, Moved, Mover, OfferRun,
};
use crate::backend::store::prelude::*;
use crate::backend::store::NewAudit;

/// A booking staff make for a customer.
#[derive(Clone, Debug)]
pub struct StaffBooking {
    pub venue: VenueId,
    pub customer_email: Email,
    /// Used when the customer has no account yet: one is made, without a
    /// password, so nobody can log in to it.
    pub customer_name: DisplayName,
    pub offer: Offer,
    pub resource: ResourceChoice,
    pub start: chrono::DateTime<chrono::Utc>,
    pub idempotency_key: IdempotencyKey,
}
impl Engine {
    /// A booking with its customer and history, for staff of its venue.
    pub async fn booking_detail(
        &self,
        staff: Staff,
        id: BookingId,
    ) -> Result<BookingDetail, AppError> {
        let now = self.clock().now();
        let (booking, customer, history, created, date, time, movable, current, messages) =
            with_backend!(self.db(), |b| {
                async {
                    let mut tx = b.begin_read().await?;
                    let row = staff_booking(&mut tx, staff, id.0).await?;
                    let v = tx
                        .venue(row.venue_id)
                        .await?
                        .ok_or(Failure::App(AppError::NotFound))?;
                    let tz = venue_zone(&v)?;
                    let created = row.created_at;
                    let customer = tx.user(row.customer_id).await?;
                    let audit_rows = tx.audit_of_booking(row.id).await?;
                    let history = audit_entries(&mut tx, &v, tz, audit_rows).await?;
                    // Only those who can do the job: the therapists who
                    // offer the treatment, the tables that seat the party.
                    let movable: Vec<(ResourceId, String)> = able_resources(&mut tx, &v, &row)
                        .await?
                        .into_iter()
                        .map(|r| (ResourceId(r.id), r.name))
                        .collect();
                    let used = tx.booking_resources(row.id).await?;
                    let current = used
                        .iter()
                        .copied()
                        .map(ResourceId)
                        .find(|u| movable.iter().any(|(m, _)| m == u));
                    let date = schedule::local_date(tz, row.starts_at);
                    let time = schedule::clock(tz, row.starts_at);
                    let messages = tx
                        .messages_of(row.id)
                        .await?
                        .into_iter()
                        .map(|m| crate::backend::views::message_line(&m, tz))
                        .collect::<Vec<_>>();
                    let booking = booking_from_row(&mut tx, row).await?;
                    Ok::<_, Failure>((
                        booking,
                        customer
                            .map(|u| {
                                let with_password =
                                    crate::backend::accounts::has_password(&u.password_hash);
                                (u.display_name, u.email, with_password)
                            })
                            .unwrap_or_default(),
                        history,
                        schedule::label(tz, created),
                        date,
                        time,
                        movable,
                        current,
                        messages,
                    ))
                }
                .await
                .map_err(settle_app)
            })?;
        let view = crate::backend::views::booking_views(self.db(), vec![booking], now)
            .await
            .map_err(crate::domain::error::internal("loading a booking"))?
            .pop()
            .ok_or(AppError::NotFound)?;
        Ok(BookingDetail {
            started: view.booking.start.timestamp() <= now,
            view,
            customer_name: customer.0,
            customer_email: customer.1,
            customer_has_password: customer.2,
            created_label: created,
            history,
            date,
            time,
            movable_to: movable,
            current_resource: current,
            messages,
        })
    }

    /// The times staff may move booking `id` to on `date`, for `choice`:
    /// the grid a customer sees for its treatment or party, read as if the
    /// booking's own claims were free.
    pub async fn staff_move_times(
        &self,
        staff: Staff,
        id: BookingId,
        date: chrono::NaiveDate,
        choice: ResourceChoice,
    ) -> Result<crate::domain::booking::Availability, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                {
                    let mut tx = b.begin_read().await?;
                    staff_booking(&mut tx, staff, id.0).await?;
                }
                move_times_attempt(b, now, None, id, date, choice).await
            }
            .await
            .map_err(settle_app)
        })
    }

    /// Books for a customer (a phone call, a walk-in). A customer without
    /// an account gets one, without a password.
    pub async fn staff_book(&self, staff: Staff, req: &StaffBooking) -> Result<Booking, AppError> {
        let now = self.clock().now();
        check_staff_instant("start", req.start.timestamp(), now).map_err(settle_app)?;
        let customer = with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_write().await?;
                authorize(&mut tx, staff, req.venue.0).await?;
                let id = match tx.user_by_email(req.customer_email.as_str()).await? {
                    Some(u) => u.id,
                    None => tx
                        .insert_user(
                            req.customer_email.as_str(),
                            // Not a PHC string: no password opens it.
                            "!",
                            req.customer_name.as_str(),
                            Role::Customer,
                            now,
                        )
                        .await?
                        .ok_or(Failure::App(AppError::Unavailable))?,
                };
                tx.commit().await?;
                Ok::<_, Failure>(UserId(id))
            }
            .await
            .map_err(settle_app)
        })?;
        let request = BookingRequest {
            customer,
            venue: req.venue,
            offer: req.offer,
            resource: req.resource,
            start: req.start,
            idempotency_key: req.idempotency_key.clone(),
        };
        Ok(self.book_as_staff(&request, staff.user).await?)
    }

    /// Moves a booking to another start or resource in one transaction
    /// (see `engine::moves`), under staff's rules. A taken target answers
    /// with alternatives, as for customers.
    pub async fn move_booking(
        &self,
        staff: Staff,
        id: BookingId,
        start: chrono::DateTime<chrono::Utc>,
        resource: Option<ResourceId>,
    ) -> Result<Booking, AppError> {
        check_staff_instant("start", start.timestamp(), self.clock().now()).map_err(settle_app)?;
        match self
            .move_booking_as(Mover::Staff(staff.user), id, start, resource)
            .await
        {
            Ok(b) => Ok(b),
            Err(Moved::Taken(alternatives)) => Err(AppError::SlotTaken { alternatives }),
            Err(Moved::Failed(f)) => Err(settle_app(f)),
        }
    }

    /// Marks a confirmed booking completed or a no-show, once it started.
    /// A no-show frees the rest of its time.
    pub async fn mark(
        &self,
        staff: Staff,
        id: BookingId,
        status: BookingStatus,
    ) -> Result<Booking, AppError> {
        if !matches!(status, BookingStatus::Completed | BookingStatus::NoShow) {
            return Err(AppError::BadRequest);
        }
        with_backend!(self.db(), |b| {
            retrying(self.counters(), || async {
                let mut tx = b.begin_write().await?;
                let row = tx
                    .booking(id.0)
                    .await?
                    .ok_or(Failure::App(AppError::NotFound))?;
                authorize(&mut tx, staff, row.venue_id).await?;
                let mut locks = LockSet::default();
                lock_booking_resources(&mut tx, &mut locks, row.id).await?;
                let row = tx
                    .lock_booking(id.0)
                    .await?
                    .ok_or(Failure::App(AppError::NotFound))?;
                let now = self.clock().now();
                let current = row.status;
                if current == status {
                    return Ok(booking_from_row(&mut tx, row).await?);
                }
                if current != BookingStatus::Confirmed {
                    return Err(Failure::App(AppError::Refused {
                        message: format!(
                            "Only a confirmed booking can be marked; this one is {current}."
                        ),
                    }));
                }
                if row.starts_at > now {
                    return Err(Failure::App(AppError::Refused {
                        message: "A booking can be marked once it has started.".to_owned(),
                    }));
                }
                tx.set_status(row.id, status, None, now).await?;
                let mut run = OfferRun::default();
                if status == BookingStatus::NoShow {
                    // The rest of its time is free: the waitlist first.
                    tx.delete_claims(row.id).await?;
                    let freed = [row.starts_at];
                    run =
                        offer_waiting(&mut tx, &mut locks, row.venue_id, Lines::Freed(&freed), now)
                            .await?;
                }
                tx.insert_audit(&NewAudit {
                    at: now,
                    actor_id: staff.user.0,
                    venue_id: row.venue_id,
                    booking_id: Some(row.id),
                    action: if status == BookingStatus::NoShow {
                        "booking.no_show"
                    } else {
                        "booking.complete"
                    },
                    before: Some(current.as_str().to_owned()),
                    after: Some(status.as_str().to_owned()),
                    ..NewAudit::default()
                })
                .await?;
                let row = tx
                    .booking(row.id)
                    .await?
                    .ok_or(Failure::App(AppError::Internal))?;
                let booking = booking_from_row(&mut tx, row).await?;
                tx.commit().await?;
                self.changed();
                self.after_offers(&run);
                Ok::<Booking, Failure>(booking)
            })
            .await
            .map_err(settle_app)
        })
    }
}
