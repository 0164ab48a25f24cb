//! Typed ids: a `ResourceId` cannot be passed where a `ServiceId` is meant.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A spa, a restaurant.
    VenueId,
    /// A therapist, a treatment room or a table.
    ResourceId,
    /// A treatment on a spa's menu.
    ServiceId,
    /// A customer, staff member or admin.
    UserId,
    /// A booking or a hold.
    BookingId,
);
