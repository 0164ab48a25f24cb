//! The slots booked: the storm's day and slot, the distinct slots of the
//! spread, and a slot as the API's JSON body and as the engine's request.

use app::domain::booking::{BookingRequest, Offer, ResourceChoice};
use app::domain::ids::{ResourceId, ServiceId, UserId, VenueId};
use app::domain::input::{IdempotencyKey, PartySize};
use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::London;

/// The first Tuesday to Saturday at least two days ahead: every demo
/// venue is open, and no rule of notice gets in the way.
pub fn storm_day() -> NaiveDate {
    let mut d = Utc::now().with_timezone(&London).date_naive() + Days::new(2);
    while matches!(d.weekday(), Weekday::Sun | Weekday::Mon) {
        d = d + Days::new(1);
    }
    d
}

fn london(d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    London
        .with_ymd_and_hms(d.year(), d.month(), d.day(), h, m, 0)
        .single()
        .expect("a plain local time")
        .with_timezone(&Utc)
}

/// The storm's slot: Anna's 10:00 on `day`.
pub fn storm_slot(day: NaiveDate) -> Slot {
    Slot {
        venue: 1,
        service: Some(1),
        party: None,
        resource: 1,
        start: london(day, 10, 0),
    }
}

/// A bookable slot of the demo data: (venue, offer, resource, start).
#[derive(Clone, Copy)]
pub struct Slot {
    pub venue: i64,
    pub service: Option<i64>,
    pub party: Option<i64>,
    pub resource: i64,
    pub start: DateTime<Utc>,
}

/// Distinct slots that never overlap: Anna and Ben's 30-minute treatments
/// (45 minutes with cleanup) on the spa's working days, and the
/// restaurant's six tables at five seatings a day, from the day after
/// `from` on.
pub fn distinct_slots(from: NaiveDate, days: u64) -> Vec<Slot> {
    let mut out = Vec::new();
    for n in 1..=days {
        let d = from + Days::new(n);
        if d.weekday() != Weekday::Sun {
            for resource in [1, 2] {
                for (h, m) in [
                    (9, 0),
                    (9, 45),
                    (10, 30),
                    (11, 15),
                    (12, 0),
                    (14, 0),
                    (14, 45),
                    (15, 30),
                    (16, 15),
                    (17, 0),
                ] {
                    out.push(Slot {
                        venue: 1,
                        service: Some(1),
                        party: None,
                        resource,
                        start: london(d, h, m),
                    });
                }
            }
        }
        for resource in 6..=11 {
            for (h, m) in [(12, 0), (13, 30), (18, 0), (19, 30), (21, 0)] {
                out.push(Slot {
                    venue: 2,
                    service: None,
                    party: Some(2),
                    resource,
                    start: london(d, h, m),
                });
            }
        }
    }
    out
}

pub fn body(slot: &Slot, key: &str) -> serde_json::Value {
    let mut b = serde_json::json!({
        "venue_id": slot.venue,
        "resource_id": slot.resource,
        "start": slot.start,
        "idempotency_key": key,
    });
    match (slot.service, slot.party) {
        (Some(s), _) => b["service_id"] = s.into(),
        (_, Some(p)) => b["party_size"] = p.into(),
        _ => {}
    }
    b
}

pub fn request(slot: &Slot, customer: UserId, key: String) -> BookingRequest {
    BookingRequest {
        customer,
        venue: VenueId(slot.venue),
        offer: match (slot.service, slot.party) {
            (Some(s), _) => Offer::Service(ServiceId(s)),
            (_, Some(p)) => Offer::Table(PartySize::parse(p).expect("a party size")),
            _ => unreachable!(),
        },
        resource: ResourceChoice::Specific(ResourceId(slot.resource)),
        start: slot.start,
        idempotency_key: IdempotencyKey::parse(key).expect("a key"),
    }
}
