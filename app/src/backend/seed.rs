//! Demo data: a spa and a restaurant, a staff account and two customers.
//!
//! Seeded on first start against an empty database; seeding again, from
//! this instance or another starting at the same moment, changes nothing.

use crate::domain::input::Password;
use crate::domain::venue::ResourceKind;

use super::accounts;
use super::catalog::{add_venue, ResourceSpec, ServiceSpec, VenueSpec, Weekly};
use super::db::{with_backend, Backend, Db};
use crate::backend::store::prelude::*;
use crate::domain::admin::Role;

/// The password of every demo account (the README lists them).
pub const DEMO_PASSWORD: &str = "slotkeeper-demo";

/// Demo accounts: (email, name, role).
pub const DEMO_USERS: [(&str, &str, Role); 4] = [
    ("staff@slotkeeper.test", "Sam Staff", Role::Staff),
    ("admin@slotkeeper.test", "Ada Admin", Role::Admin),
    ("alice@slotkeeper.test", "Alice Customer", Role::Customer),
    ("bob@slotkeeper.test", "Bob Customer", Role::Customer),
];

pub const SPA: &str = "Harbour Spa";
pub const RESTAURANT: &str = "Olive Table";

/// The spa: three therapists and two treatment rooms, open Monday to
/// Saturday 09:00-18:00; therapists break for lunch 13:00-14:00.
pub fn demo_spa() -> VenueSpec {
    let head = "Head and shoulder massage";
    let full = "Full body massage";
    let stone = "Hot stone therapy";
    let therapist = |name: &str, offers: &[&str]| ResourceSpec {
        kind: ResourceKind::Therapist,
        name: name.to_owned(),
        capacity: None,
        hours: Weekly::on(0..=5, (9, 0), (18, 0)),
        breaks: Weekly::on(0..=5, (13, 0), (14, 0)),
        offers: offers.iter().map(|s| s.to_string()).collect(),
    };
    let room = |name: &str| ResourceSpec {
        kind: ResourceKind::Room,
        name: name.to_owned(),
        capacity: None,
        hours: Weekly::on(0..=5, (9, 0), (18, 0)),
        breaks: Vec::new(),
        offers: Vec::new(),
    };
    VenueSpec {
        name: SPA.to_owned(),
        timezone: "Europe/London".to_owned(),
        grid_minutes: 15,
        hold_minutes: 10,
        cancellation_window_minutes: 24 * 60,
        min_notice_minutes: 60,
        advance_days: 60,
        seating_minutes: None,
        currency: "GBP".to_owned(),
        address: "4 Mill Lane, Bath".to_owned(),
        services: vec![
            ServiceSpec {
                name: head.to_owned(),
                duration_minutes: 30,
                cleanup_minutes: 15,
                needs_room: false,
                price_cents: Some(4500),
                description:
                    "A firm massage of the back, neck and shoulders, seated or lying down."
                        .to_owned(),
            },
            ServiceSpec {
                name: full.to_owned(),
                duration_minutes: 60,
                cleanup_minutes: 15,
                needs_room: true,
                price_cents: Some(7500),
                description: "A full body massage with warm oil, in a treatment room.".to_owned(),
            },
            ServiceSpec {
                name: stone.to_owned(),
                duration_minutes: 90,
                cleanup_minutes: 15,
                needs_room: true,
                price_cents: Some(9500),
                description: "Warm basalt stones and a slow massage, in a treatment room."
                    .to_owned(),
            },
        ],
        resources: vec![
            therapist("Anna", &[head, full, stone]),
            therapist("Ben", &[head, full]),
            therapist("Chloe", &[full, stone]),
            room("Treatment room 1"),
            room("Treatment room 2"),
        ],
    }
}

/// The restaurant: six tables, lunch 12:00-15:00 and dinner 18:00-23:00
/// every day, seatings of 90 minutes.
pub fn demo_restaurant() -> VenueSpec {
    let table = |name: &str, seats: i64| ResourceSpec {
        kind: ResourceKind::Table,
        name: name.to_owned(),
        capacity: Some(seats),
        hours: Weekly::on(0..=6, (12, 0), (23, 0)),
        breaks: Weekly::on(0..=6, (15, 0), (18, 0)),
        offers: Vec::new(),
    };
    VenueSpec {
        name: RESTAURANT.to_owned(),
        timezone: "Europe/London".to_owned(),
        grid_minutes: 15,
        hold_minutes: 5,
        cancellation_window_minutes: 120,
        min_notice_minutes: 30,
        advance_days: 30,
        seating_minutes: Some(90),
        currency: "GBP".to_owned(),
        address: "21 Quay Street, Bath".to_owned(),
        services: Vec::new(),
        resources: vec![
            table("Table 1", 2),
            table("Table 2", 2),
            table("Table 3", 4),
            table("Table 4", 4),
            table("Table 5", 6),
            table("Table 6", 8),
        ],
    }
}

/// What seeding did.
#[derive(Debug, PartialEq, Eq)]
pub enum Seeded {
    Demo,
    AlreadyHadData,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Hash(#[from] accounts::HashError),
}

/// Seeds the demo data if the database has no venue yet.
pub async fn seed_demo(db: &Db, now: i64) -> Result<Seeded, SeedError> {
    // Cheap look first, so that a seeded database costs no password hashing.
    let empty = with_backend!(db, |b| {
        let mut tx = b.begin_read().await?;
        tx.venue_count().await? == 0
    });
    if !empty {
        return Ok(Seeded::AlreadyHadData);
    }
    let password = Password::parse(DEMO_PASSWORD).expect("the demo password is valid");
    let hash = accounts::hash_password(&password).await?;
    let seeded = with_backend!(db, |b| {
        let mut tx = b.begin_write().await?;
        tx.lock_for_seeding().await?;
        // Another instance may have seeded while this one hashed.
        if tx.venue_count().await? > 0 {
            Seeded::AlreadyHadData
        } else {
            let spa = add_venue(&mut tx, &demo_spa()).await?;
            let restaurant = add_venue(&mut tx, &demo_restaurant()).await?;
            for (email, name, role) in DEMO_USERS {
                let id = tx.insert_user(email, &hash, name, role, now).await?;
                // The demo staff member runs both venues.
                if let (Some(id), Role::Staff) = (id, role) {
                    tx.assign_staff(id, spa.id.0).await?;
                    tx.assign_staff(id, restaurant.id.0).await?;
                }
            }
            tx.commit().await?;
            Seeded::Demo
        }
    });
    Ok(seeded)
}
