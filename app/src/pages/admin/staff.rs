//! Staff and venues (admins): the staff list, setting a role and adding
//! a venue.

use super::common::refusal;
use crate::api::admin::{admin_venues, load_staff, AddVenue, SetStaff};
use crate::components::feedback::{action_error, FormError};
use crate::domain::admin::{Role, StaffMember};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminStaffPage() -> impl IntoView {
    let set = ServerAction::<SetStaff>::new();
    let add_venue = ServerAction::<AddVenue>::new();
    let staff = Resource::new(
        move || (set.version().get(), add_venue.version().get()),
        |_| load_staff(),
    );
    let venues = Resource::new(move || add_venue.version().get(), |_| admin_venues());
    let set_error = action_error(set.value());
    let venue_error = action_error(add_venue.value());
    view! {
        <Title text="Staff and venues"/>
        <h1>"Staff and venues"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (staff.await, venues.await) {
                    (Ok(list), Ok(vs)) => {
                        let name_of = |id: i64| vs.iter().find(|v| v.id.0 == id).map(|v| v.name.clone()).unwrap_or_default();
                        view! {
                            <table class="staff">
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Runs"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|m: StaffMember| view! {
                                        <tr>
                                            <td>{m.name}</td><td>{m.email}</td><td>{m.role.as_str()}</td>
                                            <td>{if m.role == Role::Admin { "every venue".to_owned() } else { m.venues.iter().map(|v| name_of(v.0)).collect::<Vec<_>>().join(", ") }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <h2 id="set-staff">"Set a role"</h2>
                            <ActionForm action=set attr:class="stacked" attr:aria-labelledby="set-staff">
                                <FormError error=set_error/>
                                <label for="st-email">"Email of the account"</label>
                                <input id="st-email" name="email" type="email" required/>
                                <label for="st-role">"Role"</label>
                                <select id="st-role" name="role">
                                    <option value="staff">"Staff"</option>
                                    <option value="admin">"Admin"</option>
                                    <option value="customer">"Customer (no staff rights)"</option>
                                </select>
                                <label for="st-venue">"Runs venue (staff)"</label>
                                <select id="st-venue" name="venue">
                                    <option value="0">"(no change)"</option>
                                    {vs.iter().map(|v| view! { <option value=v.id.0>{v.name.clone()}</option> }).collect_view()}
                                </select>
                                <label><input type="checkbox" name="remove" value="on"/>" Remove them from this venue instead"</label>
                                <button type="submit" class="primary">"Save"</button>
                            </ActionForm>
                            <h2 id="add-venue">"Add a venue"</h2>
                            <ActionForm action=add_venue attr:class="stacked" attr:aria-labelledby="add-venue">
                                <FormError error=venue_error/>
                                <label for="av-name">"Name"</label>
                                <input id="av-name" name="name" required/>
                                <label for="av-tz">"Time zone"</label>
                                <input id="av-tz" name="timezone" value="Europe/London" required/>
                                <label for="av-kind">"Kind"</label>
                                <select id="av-kind" name="kind">
                                    <option value="spa">"Spa (treatments)"</option>
                                    <option value="restaurant">"Restaurant (tables)"</option>
                                </select>
                                <button type="submit">"Add venue"</button>
                            </ActionForm>
                        }.into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => refusal(e),
                }
            })}
        </Transition>
    }
}
