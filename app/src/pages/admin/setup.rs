//! A venue's set-up: its settings, resources (with their offers and
//! weekly hours), services and closures to come.

use super::common::{number, query_flag, refusal, typed, StrandsPrompt};
use crate::api::admin::{
    load_setup, AddResource, AddService, EditResource, RemoveClosure, SaveHours, SaveServices,
    SaveSettings, ToggleOffer,
};
use crate::components::feedback::{action_error, field_error, FormError};
use crate::domain::admin::{ResourceSetup, ServiceSetup, VenueSetup, WEEKDAYS};
use crate::domain::error::AppError;
use crate::domain::venue::ResourceKind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn AdminSetupPage() -> impl IntoView {
    let params = use_params_map();
    let venue = move || number(params.read().get("id")).unwrap_or(0);
    let settings = ServerAction::<SaveSettings>::new();
    let edit_resource = ServerAction::<EditResource>::new();
    let add_resource = ServerAction::<AddResource>::new();
    let offer = ServerAction::<ToggleOffer>::new();
    let hours = ServerAction::<SaveHours>::new();
    let add_service = ServerAction::<AddService>::new();
    let services = ServerAction::<SaveServices>::new();
    let reopen = ServerAction::<RemoveClosure>::new();
    let setup = Resource::new(
        move || {
            (
                venue(),
                settings.version().get(),
                edit_resource.version().get(),
                add_resource.version().get(),
                offer.version().get(),
                hours.version().get(),
                add_service.version().get(),
                services.version().get() + reopen.version().get(),
            )
        },
        |(v, ..)| load_setup(v),
    );
    let actions = SetupActions {
        settings,
        edit_resource,
        add_resource,
        offer,
        hours,
        add_service,
        services,
        reopen,
    };
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(s) => view! { <Setup setup=s actions=actions/> }.into_any(),
                    Err(e) => refusal(e),
                }
            })}
        </Transition>
    }
}

#[derive(Clone, Copy)]
struct SetupActions {
    settings: ServerAction<SaveSettings>,
    edit_resource: ServerAction<EditResource>,
    add_resource: ServerAction<AddResource>,
    offer: ServerAction<ToggleOffer>,
    hours: ServerAction<SaveHours>,
    add_service: ServerAction<AddService>,
    services: ServerAction<SaveServices>,
    reopen: ServerAction<RemoveClosure>,
}

#[component]
fn Setup(setup: VenueSetup, actions: SetupActions) -> impl IntoView {
    let s = setup.settings.clone();
    let venue = s.id.0;
    let error = action_error(actions.settings.value());
    let t =
        move |field: &'static str, current: i64| typed(error, venue, field, current.to_string());
    let stale = move || matches!(error.get(), Some(AppError::Stale { .. }));
    let spoken = |minutes: i64| {
        let (n, unit) = crate::domain::input::in_largest_unit(minutes);
        format!(
            "{n} {}",
            if n == 1 {
                unit.trim_end_matches('s')
            } else {
                unit
            }
        )
    };
    let current = format!(
        "Saved now: name “{}”, grid {} min, holds {} min, cancellation window {}, minimum notice {}, reminder {}, advance window {} days, at most {} holds and {} upcoming bookings per customer.",
        s.name, s.grid_minutes, s.hold_minutes, spoken(s.cancellation_window_minutes), spoken(s.min_notice_minutes), if s.reminder_minutes == 0 { "none".to_owned() } else { format!("{} before", spoken(s.reminder_minutes)) }, s.advance_days, s.max_holds_per_customer, s.max_upcoming_per_customer
    );
    let saved = query_flag("saved");
    let services = setup.services.clone();
    view! {
        <Title text=format!("Set-up — {}", s.name)/>
        <h1>{format!("Set-up — {}", s.name)}</h1>
        <p><a href="/admin">"Admin"</a> " · " <a href=format!("/admin/venues/{venue}/audit")>"Audit trail"</a></p>
        {move || saved.get().then(|| view! { <p class="notice" role="status">"Saved."</p> })}

        <h2 id="settings-heading">"Venue settings"</h2>
        <StrandsPrompt error=error endpoint="settings"/>
        <ActionForm action=actions.settings attr:class="stacked" attr:aria-labelledby="settings-heading">
            <FormError error=Signal::derive(move || error.get().filter(|e| !matches!(e, AppError::Strands { .. } | AppError::Invalid { .. })))/>
            {move || stale().then(|| view! { <p class="current">{current.clone()}</p> })}
            <input type="hidden" name="venue" value=venue/>
            <input type="hidden" name="version" value=s.version/>
            <label for="s-name">"Name"</label>
            <input id="s-name" name="name" value=typed(error, venue, "name", s.name.clone()) required/>
            <span class="field-error">{field_error(error, "name")}</span>
            <label for="s-grid">"Grid (minutes: 5, 10, 15, 20, 30 or 60)"</label>
            <input id="s-grid" name="grid_minutes" type="number" value=t("grid_minutes", s.grid_minutes) required/>
            <span class="field-error">{field_error(error, "grid_minutes")}</span>
            <label for="s-hold">"Hold minutes"</label>
            <input id="s-hold" name="hold_minutes" type="number" value=t("hold_minutes", s.hold_minutes) required/>
            <span class="field-error">{field_error(error, "hold_minutes")}</span>
            <DurationField error=error venue=venue id="s-cancel" name="cancellation_window" minutes=s.cancellation_window_minutes
                label="Free cancellation until, before the start" engine_field="cancellation_window_minutes"/>
            <DurationField error=error venue=venue id="s-notice" name="min_notice" minutes=s.min_notice_minutes
                label="Minimum notice for a booking" engine_field="min_notice_minutes"/>
            <DurationField error=error venue=venue id="s-reminder" name="reminder" minutes=s.reminder_minutes
                label="Email customers a reminder, before the start (0 for none)" engine_field="reminder_minutes"/>
            <label for="s-offer">"Hold a freed time for the next on the waitlist (minutes)"</label>
            <input id="s-offer" name="offer_minutes" type="number" min="5" max="1440" value=t("offer_minutes", s.offer_minutes) required/>
            <span class="field-error">{field_error(error, "offer_minutes")}</span>
            <label for="s-advance">"Advance window (days)"</label>
            <input id="s-advance" name="advance_days" type="number" value=t("advance_days", s.advance_days) required/>
            <span class="field-error">{field_error(error, "advance_days")}</span>
            {s.seating_minutes.map(|m| view! {
                <label for="s-seating">"Seating (minutes)"</label>
                <input id="s-seating" name="seating_minutes" type="number" value=t("seating_minutes", m)/>
                <span class="field-error">{field_error(error, "seating_minutes")}</span>
            })}
            <label for="s-max-holds">"Most holds one customer may have at once"</label>
            <input id="s-max-holds" name="max_holds_per_customer" type="number" min="1" max="100" value=t("max_holds_per_customer", s.max_holds_per_customer) required/>
            <span class="field-error">{field_error(error, "max_holds_per_customer")}</span>
            <label for="s-max-upcoming">"Most upcoming bookings one customer may have (holds included)"</label>
            <input id="s-max-upcoming" name="max_upcoming_per_customer" type="number" min="1" max="1000" value=t("max_upcoming_per_customer", s.max_upcoming_per_customer) required/>
            <span class="field-error">{field_error(error, "max_upcoming_per_customer")}</span>
            <label for="s-address">"Address (shown to customers)"</label>
            <input id="s-address" name="address" maxlength="200" value=typed(error, venue, "address", s.address.clone())/>
            <span class="field-error">{field_error(error, "address")}</span>
            <label for="s-currency">"Currency of prices (three letters, e.g. EUR)"</label>
            <input id="s-currency" name="currency" maxlength="3" value=typed(error, venue, "currency", s.currency.clone()) required/>
            <span class="field-error">{field_error(error, "currency")}</span>
            <button type="submit" class="primary">"Save settings"</button>
        </ActionForm>

        <h2>"Resources"</h2>
        <FormError error=action_error(actions.offer.value())/>
        <FormError error=action_error(actions.hours.value())/>
        <StrandsPrompt error=action_error(actions.edit_resource.value()) endpoint="edit_resource"/>
        <StrandsPrompt error=action_error(actions.hours.value()) endpoint="hours"/>
        <StrandsPrompt error=action_error(actions.offer.value()) endpoint="offer"/>
        {setup.resources.into_iter().map(|r| view! { <ResourceEditor r=r venue=venue services=services.clone() actions=actions/> }).collect_view()}
        <AddResourceForm venue=venue action=actions.add_resource/>

        {s.seating_minutes.is_none().then(|| view! {
            <h2 id="services-heading">"Services"</h2>
            <ServicesForm services=setup.services.clone() venue=venue action=actions.services/>
            <AddServiceForm venue=venue action=actions.add_service/>
        })}

        <h2>"Closures and time off to come"</h2>
        <p class="muted">"Add them from the day view."</p>
        <FormError error=action_error(actions.reopen.value())/>
        <ul>
            {setup.closures.into_iter().map(|c| view! {
                <li>
                    {format!("{}: {} {}", c.what, c.when, if c.reason.is_empty() { String::new() } else { format!("({})", c.reason) })}
                    <ActionForm action=actions.reopen attr:class="inline-form">
                        <input type="hidden" name="venue" value=venue/>
                        <input type="hidden" name="id" value=c.id/>
                        <button type="submit">{format!("Remove closure of {}", c.what)}</button>
                    </ActionForm>
                </li>
            }).collect_view()}
        </ul>
    }
}

/// A length of time with its unit: "1" "days" for 1440 minutes.
#[component]
fn DurationField(
    error: Signal<Option<AppError>>,
    venue: i64,
    id: &'static str,
    name: &'static str,
    minutes: i64,
    label: &'static str,
    /// The field the engine names when it refuses the value.
    engine_field: &'static str,
) -> impl IntoView {
    let (amount, unit) = crate::domain::input::in_largest_unit(minutes);
    let unit_name = format!("{name}_unit");
    let amount = typed(error, venue, name, amount.to_string());
    let unit = typed(error, venue, &unit_name, unit.to_owned());
    let unit_id = format!("{id}-unit");
    view! {
        <label for=id>{label}</label>
        <span class="duration">
            <input id=id name=name type="number" min="0" value=amount required/>
            <select id=unit_id.clone() name=unit_name aria-label=format!("{label}: unit")>
                {crate::domain::input::DURATION_UNITS.iter().map(|(u, _)| view! { <option value=*u selected=unit == *u>{*u}</option> }).collect_view()}
            </select>
        </span>
        <span class="field-error">{field_error(error, name)}{field_error(error, engine_field)}</span>
    }
}

#[component]
fn ResourceEditor(
    r: ResourceSetup,
    venue: i64,
    services: Vec<ServiceSetup>,
    actions: SetupActions,
) -> impl IntoView {
    let error = action_error(actions.edit_resource.value());
    let hours_error = action_error(actions.hours.value());
    let id = r.id.0;
    let heading = format!("resource-{id}");
    let heading_ref = heading.clone();
    let stale = move || match error.get() {
        Some(AppError::Stale { submitted }) if submitted.get("id") == Some(&id.to_string()) => true,
        _ => false,
    };
    let name = r.name.clone();
    let week_label = format!("Weekly hours of {name}");
    let save_week = format!("Save the week of {name}");
    let title = format!(
        "{} ({}){}",
        r.name,
        r.kind,
        if r.active { "" } else { " — inactive" }
    );
    let offers_now = r.offers.clone();
    let name_for_offers = r.name.clone();
    let week = r.week.clone();
    let is_table = r.kind == ResourceKind::Table;
    let is_therapist = r.kind == ResourceKind::Therapist;
    let version = r.version;
    let current = format!(
        "Saved now: “{}”, {}{}.",
        r.name,
        if r.active { "active" } else { "inactive" },
        r.capacity
            .map(|c| format!(", seats {c}"))
            .unwrap_or_default()
    );
    view! {
        <section class="resource" aria-labelledby=heading_ref>
            <h3 id=heading>{title}</h3>
            <ActionForm action=actions.edit_resource attr:class="inline-form">
                {move || stale().then(|| view! { <p class="form-error" role="alert">{AppError::Stale { submitted: Default::default() }.to_string()} " " {current.clone()}</p> })}
                <input type="hidden" name="venue" value=venue/>
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="version" value=version/>
                <label for=format!("r-name-{id}")>"Name"</label>
                <input id=format!("r-name-{id}") name="name" value=typed(error, id, "name", r.name.clone()) required/>
                {is_table.then(|| view! {
                    <label for=format!("r-cap-{id}")>"Seats"</label>
                    <input id=format!("r-cap-{id}") name="capacity" type="number" min="1" max="100" value=typed(error, id, "capacity", r.capacity.unwrap_or(0).to_string())/>
                })}
                <label class="check"><input type="checkbox" name="active" value="on" checked=r.active/>" Active (bookable)"</label>
                <button type="submit">{format!("Save {}", r.name)}</button>
            </ActionForm>
            {is_therapist.then(|| view! {
                <div class="offers" role="group" aria-label=format!("Treatments {} offers", name_for_offers)>"Offers: "
                    {services.into_iter().map(|s| {
                        let offers = offers_now.contains(&s.id);
                        view! {
                            <ActionForm action=actions.offer attr:class="inline-form">
                                <input type="hidden" name="venue" value=venue/>
                                <input type="hidden" name="id" value=id/>
                                <input type="hidden" name="version" value=version/>
                                <input type="hidden" name="service" value=s.id.0/>
                                <input type="hidden" name="offer" value=if offers { "no" } else { "yes" }/>
                                <button type="submit" aria-pressed=if offers { "true" } else { "false" }>
                                    {format!("{} {}", if offers { "✓" } else { "+" }, s.name)}
                                </button>
                            </ActionForm>
                        }
                    }).collect_view()}
                </div>
            })}
            <details>
                <summary>{format!("Weekly hours of {}", name)}</summary>
                <ActionForm action=actions.hours attr:class="week-form" attr:aria-label=week_label>
                    <input type="hidden" name="venue" value=venue/>
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="version" value=version/>
                    <table class="hours">
                        <thead><tr><th scope="col">"Day"</th><th scope="col">"Opens"</th><th scope="col">"Closes"</th><th scope="col">"Break from"</th><th scope="col">"Break to"</th></tr></thead>
                        <tbody>
                            {week.into_iter().enumerate().map(|(i, d)| {
                                let day = WEEKDAYS[d.weekday as usize];
                                let name_of = move |field: &str| format!("days[{i}][{field}]");
                                let value = move |field: &str, saved: String| typed(hours_error, id, &name_of(field), saved);
                                view! {
                                    <tr>
                                        <th scope="row">{day}<input type="hidden" name=name_of("weekday") value=d.weekday/></th>
                                        <td><input name=name_of("opens") type="time" aria-label=format!("{} opens", day) value=value("opens", d.opens.clone())/></td>
                                        <td><input name=name_of("closes") type="time" aria-label=format!("{} closes", day) value=value("closes", d.closes.clone())/></td>
                                        <td><input name=name_of("break_starts") type="time" aria-label=format!("{} break from", day) value=value("break_starts", d.break_starts.clone())/></td>
                                        <td><input name=name_of("break_ends") type="time" aria-label=format!("{} break to", day) value=value("break_ends", d.break_ends.clone())/></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <p class="muted">"Leave opening and closing empty for a day off."</p>
                    <button type="submit">{save_week}</button>
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn AddResourceForm(venue: i64, action: ServerAction<AddResource>) -> impl IntoView {
    let error = action_error(action.value());
    view! {
        <h3 id="add-resource">"Add a resource"</h3>
        <ActionForm action=action attr:class="stacked" attr:aria-labelledby="add-resource">
            <FormError error=error/>
            <input type="hidden" name="venue" value=venue/>
            <label for="ar-kind">"Kind"</label>
            <select id="ar-kind" name="kind">
                <option value="therapist">"Therapist"</option>
                <option value="room">"Treatment room"</option>
                <option value="table">"Table"</option>
            </select>
            <label for="ar-name">"Name"</label>
            <input id="ar-name" name="name" required/>
            <label for="ar-cap">"Seats (tables)"</label>
            <input id="ar-cap" name="capacity" type="number" min="1" max="100"/>
            <button type="submit">"Add"</button>
        </ActionForm>
    }
}

/// Every treatment in one form with one Save: a row per treatment.
#[component]
fn ServicesForm(
    services: Vec<ServiceSetup>,
    venue: i64,
    action: ServerAction<SaveServices>,
) -> impl IntoView {
    let error = action_error(action.value());
    let stale = move || matches!(error.get(), Some(AppError::Stale { .. }));
    let saved_now = services
        .iter()
        .map(|s| {
            format!(
                "“{}” {} min, cleanup {} min{}",
                s.name,
                s.duration_minutes,
                s.cleanup_minutes,
                if s.needs_room { ", needs a room" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let rows = services
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let id = s.id.0;
            let name = move |field: &str| format!("services[{i}][{field}]");
            let dom = move |field: &str| format!("sv-{field}-{id}");
            let value = move |field: &str, saved: String| typed(error, id, &name(field), saved);
            let price = s.price_cents.map(crate::domain::money::plain).unwrap_or_default();
            view! {
                <fieldset class="service-form">
                    <legend>{s.name.clone()}</legend>
                    <input type="hidden" name=name("id") value=id/>
                    <input type="hidden" name=name("version") value=s.version/>
                    <div class="field">
                        <label for=dom("name")>"Name"</label>
                        <input id=dom("name") name=name("name") value=value("name", s.name.clone()) required/>
                        <span class="field-error">{field_error(error, &name("name"))}</span>
                    </div>
                    <div class="field">
                        <label for=dom("dur")>"Length (minutes)"</label>
                        <input id=dom("dur") name=name("duration_minutes") type="number" value=value("duration_minutes", s.duration_minutes.to_string())/>
                        <span class="field-error">{field_error(error, &name("duration_minutes"))}</span>
                    </div>
                    <div class="field">
                        <label for=dom("clean")>"Cleanup (minutes)"</label>
                        <input id=dom("clean") name=name("cleanup_minutes") type="number" value=value("cleanup_minutes", s.cleanup_minutes.to_string())/>
                        <span class="field-error">{field_error(error, &name("cleanup_minutes"))}</span>
                    </div>
                    <div class="field">
                        <label for=dom("price")>"Price"</label>
                        <input id=dom("price") name=name("price") inputmode="decimal" size="8" value=value("price", price)/>
                        <span class="field-error">{field_error(error, &name("price"))}</span>
                    </div>
                    <div class="field wide">
                        <label for=dom("desc")>"Description"</label>
                        <input id=dom("desc") name=name("description") maxlength="500" value=value("description", s.description.clone())/>
                        <span class="field-error">{field_error(error, &name("description"))}</span>
                    </div>
                    <label class="check"><input type="checkbox" name=name("needs_room") value="on" checked=s.needs_room/>" Needs a room"</label>
                    <label class="check"><input type="checkbox" name=name("active") value="on" checked=s.active/>" Offered"</label>
                </fieldset>
            }
        })
        .collect_view();
    view! {
        <StrandsPrompt error=error endpoint="services"/>
        <ActionForm action=action attr:class="services-form" attr:aria-labelledby="services-heading">
            <FormError error=Signal::derive(move || error.get().filter(|e| !matches!(e, AppError::Strands { .. } | AppError::Invalid { .. })))/>
            {move || stale().then(|| view! { <p class="current">{format!("Saved now: {saved_now}.")}</p> })}
            <input type="hidden" name="venue" value=venue/>
            {rows}
            <button type="submit" class="primary">"Save services"</button>
        </ActionForm>
    }
}

#[component]
fn AddServiceForm(venue: i64, action: ServerAction<AddService>) -> impl IntoView {
    let error = action_error(action.value());
    view! {
        <h3 id="add-service">"Add a service"</h3>
        <ActionForm action=action attr:class="stacked" attr:aria-labelledby="add-service">
            <FormError error=error/>
            <input type="hidden" name="venue" value=venue/>
            <label for="as-name">"Name"</label>
            <input id="as-name" name="name" required/>
            <label for="as-dur">"Length (minutes)"</label>
            <input id="as-dur" name="duration_minutes" type="number" min="5" max="720" required/>
            <label for="as-clean">"Cleanup minutes"</label>
            <input id="as-clean" name="cleanup_minutes" type="number" min="0" max="240" value="0"/>
            <label for="as-price">"Price " <span class="muted">"(optional, e.g. 65.00)"</span></label>
            <input id="as-price" name="price" inputmode="decimal"/>
            <label for="as-desc">"Description " <span class="muted">"(optional)"</span></label>
            <input id="as-desc" name="description" maxlength="500"/>
            <label class="check"><input type="checkbox" name="needs_room" value="on"/>" Needs a room"</label>
            <button type="submit">"Add service"</button>
        </ActionForm>
    }
}
