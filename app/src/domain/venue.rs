//! What a venue offers, as shown to customers.

use super::ids::{ResourceId, ServiceId, VenueId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a bookable resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Therapist,
    Room,
    Table,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Therapist => "therapist",
            ResourceKind::Room => "room",
            ResourceKind::Table => "table",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "therapist" => Some(ResourceKind::Therapist),
            "room" => Some(ResourceKind::Room),
            "table" => Some(ResourceKind::Table),
            _ => None,
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource as listed on a venue page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResourceSummary {
    pub id: ResourceId,
    pub kind: ResourceKind,
    pub name: String,
    /// Seats, for tables.
    pub capacity: Option<i32>,
}

/// A service as listed on a venue page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceSummary {
    pub id: ServiceId,
    pub name: String,
    pub duration_minutes: i32,
    pub cleanup_minutes: i32,
    pub needs_room: bool,
    /// The active therapists who offer it.
    pub therapists: Vec<ResourceId>,
    /// In minor units of the venue's currency (6500 is 65.00); none when
    /// the venue shows no price.
    pub price_cents: Option<i64>,
    /// What it is, in a sentence or two; may be empty.
    pub description: String,
}

/// A venue with what can be booked there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VenueOverview {
    pub id: VenueId,
    pub name: String,
    pub timezone: String,
    pub resources: Vec<ResourceSummary>,
    pub services: Vec<ServiceSummary>,
    /// The length of a table booking, for restaurants.
    pub seating_minutes: Option<i32>,
    /// ISO 4217, e.g. "EUR": what its prices are in.
    pub currency: String,
    /// Where it is; may be empty.
    pub address: String,
}

impl VenueOverview {
    /// What a booking here is with: a table at a restaurant, else a
    /// therapist (rooms go with treatments).
    pub fn booked_kind(&self) -> ResourceKind {
        if self.seating_minutes.is_some() {
            ResourceKind::Table
        } else {
            ResourceKind::Therapist
        }
    }

    /// Who can do the job, as the forms list them: the therapists who
    /// offer `service`, the tables that seat `party`, each with its label
    /// ("Anna", "Table 4 (seats 4)").
    pub fn choosable(&self, service: Option<i64>, party: Option<i64>) -> Vec<(i64, String)> {
        let kind = self.booked_kind();
        self.resources
            .iter()
            .filter(|r| r.kind == kind && self.can_serve(r.id, service, party))
            .map(|r| {
                let label = match r.capacity {
                    Some(c) => format!("{} (seats {c})", r.name),
                    None => r.name.clone(),
                };
                (r.id.0, label)
            })
            .collect()
    }

    /// Whether `resource` can do the job: it offers treatment `service`,
    /// or (without one) it seats a `party`. What the venue does not know
    /// is left for the engine to refuse.
    pub fn can_serve(
        &self,
        resource: ResourceId,
        service: Option<i64>,
        party: Option<i64>,
    ) -> bool {
        match (service, party) {
            (Some(s), _) => self
                .services
                .iter()
                .find(|v| v.id.0 == s)
                .is_none_or(|v| v.therapists.contains(&resource)),
            (None, Some(p)) => self
                .resources
                .iter()
                .find(|r| r.id == resource)
                .and_then(|r| r.capacity)
                .is_none_or(|seats| i64::from(seats) >= p),
            (None, None) => true,
        }
    }
}
