//! The team: who is staff or admin and which venues each runs, and new
//! venues. Admins only.

use crate::domain::admin::{Role, StaffMember};
use crate::domain::error::AppError;
use crate::domain::ids::{UserId, VenueId};
use crate::domain::input::Email;
use chrono_tz::Tz;

use super::changes::settings_json;
use super::{authorize_admin, check_name, invalid, Staff};
use crate::backend::db::{with_backend, Backend};
use crate::backend::engine::{settle_app, Engine, Failure};
use crate::backend::store::prelude::*;
use crate::backend::store::{NewAudit, NewVenueRow};

/// What an admin changes for one account: its role and, for staff, the
/// venues added and the venues taken away. A change, not the whole list,
/// so that two admins editing one person at once both land.
#[derive(Clone, Debug)]
pub struct StaffAccount {
    pub role: Role,
    pub add: Vec<VenueId>,
    pub remove: Vec<VenueId>,
}

impl Engine {
    /// Staff and admins, with the venues each runs. Admins only.
    pub async fn staff_members(&self, admin: Staff) -> Result<Vec<StaffMember>, AppError> {
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_read().await?;
                authorize_admin(&mut tx, admin).await?;
                let pairs = tx.staff_assignments().await?;
                Ok::<_, Failure>(
                    tx.staff_members()
                        .await?
                        .into_iter()
                        .map(|u| StaffMember {
                            venues: pairs
                                .iter()
                                .filter(|(user, _)| *user == u.id)
                                .map(|(_, v)| VenueId(*v))
                                .collect(),
                            id: UserId(u.id),
                            email: u.email,
                            name: u.display_name,
                            role: u.role,
                        })
                        .collect(),
                )
            }
            .await
            .map_err(settle_app)
        })
    }

    /// Makes the account with `email` staff or admin (or a customer again)
    /// and, for staff, adds and takes away venues; an admin or customer
    /// runs none by assignment. The account's row is locked first, so the
    /// changes of two admins apply one after the other. Admins only; nobody
    /// changes their own role, so the last admin cannot lock everyone out
    /// by accident.
    pub async fn set_staff(
        &self,
        admin: Staff,
        email: &Email,
        account: &StaffAccount,
    ) -> Result<UserId, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_write().await?;
                authorize_admin(&mut tx, admin).await?;
                let user = tx
                    .lock_user_by_email(email.as_str())
                    .await?
                    .ok_or_else(|| {
                        invalid(
                            "email",
                            "No account has this email; ask them to register first.",
                        )
                    })?;
                if user.id == admin.user.0 {
                    return Err(invalid("email", "You cannot change your own role."));
                }
                let known = tx.venues().await?;
                let named = account.add.iter().chain(&account.remove);
                if named.clone().any(|v| !known.iter().any(|k| k.id == v.0)) {
                    return Err(invalid("venue", "Choose venues from the list."));
                }
                let role = account.role;
                let before = format!("{} of {:?}", user.role, tx.venues_run_by(user.id).await?);
                tx.set_role(user.id, role).await?;
                if role == Role::Staff {
                    for v in &account.add {
                        tx.assign_staff(user.id, v.0).await?;
                    }
                    for v in &account.remove {
                        tx.unassign_staff_from(user.id, v.0).await?;
                    }
                } else {
                    tx.unassign_staff(user.id).await?;
                }
                let after = format!("{role} of {:?}", tx.venues_run_by(user.id).await?);
                // The trail of staff changes lives with each venue concerned.
                let mut touched: Vec<i64> = named.map(|v| v.0).collect();
                touched.extend(known.iter().filter(|_| role != Role::Staff).map(|k| k.id));
                touched.sort_unstable();
                touched.dedup();
                for venue in touched {
                    tx.insert_audit(&NewAudit {
                        at: now,
                        actor_id: admin.user.0,
                        venue_id: venue,
                        action: "staff.set",
                        before: Some(format!("{}: {before}", user.email)),
                        after: Some(format!("{}: {after}", user.email)),
                        ..NewAudit::default()
                    })
                    .await?;
                }
                tx.commit().await?;
                Ok::<_, Failure>(UserId(user.id))
            }
            .await
            .map_err(settle_app)
        })
    }

    /// A new venue with default rules and nothing to book yet; its
    /// resources, services and hours are added on its set-up page.
    /// Admins only.
    pub async fn add_venue(
        &self,
        admin: Staff,
        name: &str,
        timezone: &str,
        tables: bool,
    ) -> Result<VenueId, AppError> {
        let now = self.clock().now();
        with_backend!(self.db(), |b| {
            async {
                let mut tx = b.begin_write().await?;
                authorize_admin(&mut tx, admin).await?;
                let name = check_name("name", name)?;
                if timezone.parse::<Tz>().is_err() {
                    return Err(invalid(
                        "timezone",
                        "Use a time zone name like Europe/London.",
                    ));
                }
                if tx.venues().await?.iter().any(|v| v.name == name) {
                    return Err(invalid("name", "Another venue has this name."));
                }
                let id = tx
                    .insert_venue(&NewVenueRow {
                        name: &name,
                        timezone,
                        grid_minutes: 15,
                        hold_minutes: 10,
                        cancellation_window_minutes: 24 * 60,
                        min_notice_minutes: 60,
                        advance_days: 60,
                        seating_minutes: tables.then_some(90),
                        currency: "EUR",
                        address: "",
                    })
                    .await?;
                let row = tx
                    .venue(id)
                    .await?
                    .ok_or(Failure::App(AppError::Internal))?;
                tx.insert_audit(&NewAudit {
                    at: now,
                    actor_id: admin.user.0,
                    venue_id: id,
                    action: "venue.add",
                    after: Some(settings_json(&row)),
                    ..NewAudit::default()
                })
                .await?;
                tx.commit().await?;
                Ok::<_, Failure>(VenueId(id))
            }
            .await
            .map_err(settle_app)
        })
    }
}
