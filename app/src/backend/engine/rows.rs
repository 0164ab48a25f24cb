//! A booking as the engine answers it, read from its row.

use crate::domain::booking::{Booking, BookingStatus};
use crate::domain::ids::{BookingId, ResourceId, ServiceId, UserId, VenueId};
use crate::domain::schedule;

use super::failure::Failure;
use crate::backend::store::{BookingRow, Store};

pub(crate) async fn booking_from_row<S: Store>(
    tx: &mut S,
    row: BookingRow,
) -> Result<Booking, Failure> {
    let resources = tx.booking_resources(row.id).await?;
    Ok(Booking {
        id: BookingId(row.id),
        customer: UserId(row.customer_id),
        venue: VenueId(row.venue_id),
        service: row.service_id.map(ServiceId),
        party_size: row.party_size,
        start: schedule::to_datetime(row.starts_at),
        end: schedule::to_datetime(row.ends_at),
        occupied_until: schedule::to_datetime(row.occupied_until),
        status: row.status,
        hold_expires_at: row.hold_expires_at.map(schedule::to_datetime),
        resources: resources.into_iter().map(ResourceId).collect(),
        cancelled_by: row.cancelled_by,
        version: row.version,
        currency: row.currency,
        price_cents: row.price_cents,
        note: row.note,
        phone: row.phone,
    })
}

/// A hold past its time that the sweeper has not expired yet: it claims
/// nothing any more, and is no longer the customer's.
pub(crate) fn lapsed(row: &BookingRow, now: i64) -> bool {
    row.status == BookingStatus::Held && row.hold_expires_at.is_some_and(|t| t <= now)
}
