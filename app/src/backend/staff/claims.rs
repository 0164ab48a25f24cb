//! Claim links: staff booked a customer who has no password (at the desk,
//! on the phone); a link made here lets that customer set one.

use crate::domain::admin::ClaimLink;
use crate::domain::error::AppError;
use crate::domain::ids::BookingId;
use crate::domain::schedule;

use super::{staff_booking, Staff};
use crate::backend::accounts::{claim_token_hash, has_password, new_claim_token, CLAIM_LINK_DAYS};
use crate::backend::db::{with_backend, Backend};
use crate::backend::engine::{settle_app, Engine, Failure};
use crate::backend::store::prelude::*;
use crate::backend::store::NewAudit;

impl Engine {
    /// A one-time link, valid for `CLAIM_LINK_DAYS`, for the customer of
    /// `booking` to set a password; refused when they have one already.
    /// Staff of the booking's venue only; audited with the booking.
    pub async fn claim_link(
        &self,
        staff: Staff,
        booking: BookingId,
    ) -> Result<ClaimLink, AppError> {
        let now = self.clock().now();
        let token = new_claim_token();
        let expires_at = now + CLAIM_LINK_DAYS * 86_400;
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_write().await?;
                let row = staff_booking(&mut tx, staff, booking.0).await?;
                let customer = tx
                    .user(row.customer_id)
                    .await?
                    .ok_or(Failure::App(AppError::Internal))?;
                if has_password(&customer.password_hash) {
                    return Err(Failure::App(AppError::Refused {
                        message: "This customer has a password already: they log in with it."
                            .to_owned(),
                    }));
                }
                tx.insert_claim_link(
                    &claim_token_hash(&token),
                    customer.id,
                    staff.user.0,
                    expires_at,
                )
                .await?;
                tx.insert_audit(&NewAudit {
                    at: now,
                    actor_id: staff.user.0,
                    venue_id: row.venue_id,
                    booking_id: Some(row.id),
                    action: "customer.claim_link",
                    after: Some(format!("for {}", customer.email)),
                    ..NewAudit::default()
                })
                .await?;
                tx.commit().await?;
                Ok::<_, Failure>(ClaimLink {
                    path: format!("/claim?token={token}"),
                    token,
                    expires_at: schedule::to_datetime(expires_at),
                })
            }
            .await
            .map_err(settle_app)
        })
    }
}
