//! "Join the waitlist": the form a full day and a taken time offer, with
//! an optional range of start times. Works with and without JavaScript.

use crate::api::waitlist::JoinWaitlist;
use crate::components::feedback::{action_error, field_error, FormError};
use leptos::prelude::*;

/// The join form for one day and one choice (treatment or party, and the
/// therapist or table, or anyone).
#[component]
pub fn WaitlistJoin(
    venue_id: i64,
    /// YYYY-MM-DD.
    date: String,
    /// "Tuesday 2 June".
    day_label: String,
    service: Option<i64>,
    party: Option<i64>,
    resource: Option<i64>,
    /// What the form says first: why one would wait.
    lead: String,
) -> impl IntoView {
    let join = ServerAction::<JoinWaitlist>::new();
    let error = action_error(join.value());
    let from_error = field_error(error, "from");
    let to_error = field_error(error, "to");
    let id = format!("waitlist-{date}");
    let from_id = format!("{id}-from");
    let to_id = format!("{id}-to");
    let labelled_by = id.clone();
    view! {
        <section class="waitlist-join" aria-labelledby=labelled_by>
            <h3 id=id>{format!("Join the waitlist for {day_label}")}</h3>
            <p>{lead}</p>
            <FormError error=error/>
            <ActionForm action=join attr:class="waitlist-form">
                <input type="hidden" name="venue" value=venue_id/>
                <input type="hidden" name="date" value=date/>
                {service.map(|s| view! { <input type="hidden" name="service" value=s/> })}
                {party.map(|p| view! { <input type="hidden" name="party" value=p/> })}
                {resource.map(|r| view! { <input type="hidden" name="resource" value=r/> })}
                <div class="range">
                    <label for=from_id.clone()>"Earliest start (optional)"</label>
                    <input id=from_id name="from" type="time" step="300"/>
                    <span class="field-error">{from_error}</span>
                    <label for=to_id.clone()>"Latest start (optional)"</label>
                    <input id=to_id name="to" type="time" step="300"/>
                    <span class="field-error">{to_error}</span>
                </div>
                <button type="submit">"Join the waitlist"</button>
            </ActionForm>
            <p class="muted">"If a time comes free, the first in line gets it held for them and an email; you can leave the waitlist on My bookings."</p>
        </section>
    }
}
