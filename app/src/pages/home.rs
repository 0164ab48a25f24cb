//! The home page: every venue, with what can be booked there.

use crate::api::venues::list_venues;
use crate::domain::venue::{ResourceKind, VenueOverview};
use leptos::prelude::*;
use leptos_meta::Title;

/// Which venues the list shows. Without JavaScript every venue is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Filter {
    All,
    Spas,
    Restaurants,
}

impl Filter {
    fn admits(self, v: &VenueOverview) -> bool {
        match self {
            Filter::All => true,
            Filter::Spas => v.seating_minutes.is_none(),
            Filter::Restaurants => v.seating_minutes.is_some(),
        }
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    let venues = OnceResource::new(list_venues());
    let filter = RwSignal::new(Filter::All);
    let filter_button = move |f: Filter, text: &'static str| {
        view! {
            <button
                type="button"
                aria-pressed=move || (filter.get() == f).to_string()
                on:click=move |_| filter.set(f)
            >
                {text}
            </button>
        }
    };
    view! {
        <Title text="Venues"/>
        <h1>"Book a treatment or a table"</h1>
        <div class="filters" role="group" aria-label="Show venues">
            {filter_button(Filter::All, "All venues")}
            {filter_button(Filter::Spas, "Spas")}
            {filter_button(Filter::Restaurants, "Restaurants")}
        </div>
        <Transition fallback=|| view! { <p>"Loading venues…"</p> }>
            <ErrorBoundary fallback=|errors| {
                view! {
                    <p role="alert">
                        {move || {
                            errors
                                .get()
                                .into_iter()
                                .map(|(_, e)| e.to_string())
                                .collect::<Vec<_>>()
                                .join(" ")
                        }}
                    </p>
                }
            }>
                {move || Suspend::new(async move {
                    venues
                        .await
                        .map(|venues| {
                            if venues.is_empty() {
                                return view! { <p>"No venues yet."</p> }.into_any();
                            }
                            view! {
                                <ul class="venues">
                                    {venues
                                        .into_iter()
                                        .map(|v| {
                                            let shown = {
                                                let v = v.clone();
                                                move || filter.get().admits(&v)
                                            };
                                            view! {
                                                <li class="venue" hidden=move || !shown()>
                                                    <VenueCard venue=v/>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn VenueCard(venue: VenueOverview) -> impl IntoView {
    let heading_id = format!("venue-{}", venue.id);
    let labelled_by = heading_id.clone();
    let noun = |k: ResourceKind| match k {
        ResourceKind::Therapist => "Therapists",
        ResourceKind::Room => "Treatment rooms",
        ResourceKind::Table => "Tables",
    };
    let groups: Vec<(ResourceKind, Vec<String>)> = [
        ResourceKind::Therapist,
        ResourceKind::Room,
        ResourceKind::Table,
    ]
    .into_iter()
    .map(|k| {
        let names = venue
            .resources
            .iter()
            .filter(|r| r.kind == k)
            .map(|r| match r.capacity {
                Some(c) => format!("{} (seats {c})", r.name),
                None => r.name.clone(),
            })
            .collect::<Vec<_>>();
        (k, names)
    })
    .filter(|(_, names)| !names.is_empty())
    .collect();
    view! {
        <article aria-labelledby=labelled_by>
            <h2 id=heading_id>{venue.name.clone()}</h2>
            <p><a class="button" href=format!("/venues/{}", venue.id)>{format!("Book at {}", venue.name)}</a></p>
            <p class="muted">
                {match venue.seating_minutes {
                    Some(m) => format!("Restaurant · seatings of {m} minutes"),
                    None => "Spa".to_owned(),
                }}
                " · times in " {venue.timezone.clone()}
            </p>
            {(!venue.services.is_empty())
                .then(|| {
                    view! {
                        <h3>"Treatments"</h3>
                        <ul>
                            {venue
                                .services
                                .iter()
                                .map(|s| {
                                    let room = if s.needs_room { ", in a treatment room" } else { "" };
                                    view! {
                                        <li>{format!("{} — {} minutes{room}", s.name, s.duration_minutes)}</li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            {groups
                .into_iter()
                .map(|(k, names)| {
                    view! {
                        <h3>{noun(k)}</h3>
                        <ul class="inline">
                            {names.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
                        </ul>
                    }
                })
                .collect_view()}
        </article>
    }
}
