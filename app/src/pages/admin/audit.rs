//! The audit trail of a venue, and the table of audit entries the
//! booking page shows too.

use super::common::{number, refusal};
use crate::api::admin::{audit_trail, load_setup};
use crate::domain::admin::{audit_action_label, AuditEntry};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub(super) fn AuditTable(entries: Vec<AuditEntry>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p>"No staff changes."</p> }.into_any();
    }
    view! {
        <table class="audit">
            <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"About"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
            <tbody>
                {entries.into_iter().map(|e| view! {
                    <tr>
                        <td>{e.at_label}</td>
                        <td>{e.actor}</td>
                        <td title=e.action.clone()>{audit_action_label(&e.action).to_owned()}</td>
                        <td>
                            {e.resource_name.unwrap_or_default()}
                            {e.booking.map(|b| view! { " " <a href=format!("/admin/bookings/{b}")>{format!("booking #{b}")}</a> })}
                        </td>
                        <td class="json">{e.before.unwrap_or_default()}</td>
                        <td class="json">{e.after.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let venue = move || number(params.read().get("id")).unwrap_or(0);
    let filter = move || {
        (
            query.read().get("date"),
            number(query.read().get("resource")),
        )
    };
    let entries = Resource::new(
        move || (venue(), filter()),
        |(v, (d, r))| audit_trail(v, d, r),
    );
    let setup = Resource::new(venue, load_setup);
    view! {
        <Title text="Audit trail"/>
        <h1>"Audit trail"</h1>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (entries.await, setup.await) {
                    (Ok(list), Ok(s)) => {
                        let (date, resource) = filter();
                        view! {
                            <p><a href="/admin">"Admin"</a> " · " {s.settings.name.clone()}</p>
                            <form method="get" class="filters">
                                <label for="audit-date">"Day"</label>
                                <input id="audit-date" type="date" name="date" value=date.unwrap_or_default()/>
                                <label for="audit-resource">"Resource"</label>
                                <select id="audit-resource" name="resource">
                                    <option value="">"All"</option>
                                    {s.resources.iter().map(|r| view! {
                                        <option value=r.id.0 selected=resource == Some(r.id.0)>{r.name.clone()}</option>
                                    }).collect_view()}
                                </select>
                                <button type="submit">"Filter"</button>
                            </form>
                            <AuditTable entries=list/>
                        }.into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => refusal(e),
                }
            })}
        </Transition>
    }
}
