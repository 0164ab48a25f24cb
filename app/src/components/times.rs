//! A day's start times as customers see them, on the venue page and on the
//! reschedule page: grouped Morning / Afternoon / Evening, with breaks and
//! closures as gaps between them, under a key. Each page draws its own
//! buttons; this draws where they go.

use crate::domain::booking::{GapView, SlotView};
use leptos::prelude::*;

/// The key to the times; `own` adds "your booking now" (rescheduling).
#[component]
pub fn TimesLegend(#[prop(optional)] own: bool) -> impl IntoView {
    view! {
        <ul class="legend" aria-label="Key to the times">
            <li><span class="chip free" aria-hidden="true"></span>"Free"</li>
            <li><span class="chip taken" aria-hidden="true"></span>"Taken"</li>
            {own.then(|| view! { <li><span class="chip current" aria-hidden="true"></span>"Your booking now"</li> })}
            <li><span class="chip gap" aria-hidden="true"></span>"Break or closed"</li>
        </ul>
    }
}

/// Breaks and closures as items of a time list: "Break 13:00 to 14:00".
pub fn gap_items(gaps: &[GapView]) -> impl IntoView {
    gaps.iter()
        .map(|g| view! { <li class="gap">{format!("{} {}", g.kind.word(), g.label)}</li> })
        .collect_view()
}

/// The day's times under their part of the day, each drawn by `slot`,
/// with the gaps in their place.
pub fn grouped_times(
    slots: &[SlotView],
    gaps: &[GapView],
    slot: impl Fn(SlotView) -> AnyView,
) -> impl IntoView {
    part_of_day_groups(slots, gaps)
        .into_iter()
        .map(|(part, slots, gaps)| {
            let heading_id = format!("part-{}", part.to_lowercase());
            let items = merge_by_start(slots, gaps)
                .into_iter()
                .map(|item| match item {
                    Item::Gap(g) => gap_items(std::slice::from_ref(&g)).into_any(),
                    Item::Slot(s) => slot(s),
                })
                .collect_view();
            view! {
                <h3 id=heading_id.clone() class="part-of-day">{part}</h3>
                <ul class="slots" aria-labelledby=heading_id>{items}</ul>
            }
        })
        .collect_view()
}

enum Item {
    Slot(SlotView),
    Gap(GapView),
}

/// Slots and gaps in the order of their start.
fn merge_by_start(slots: Vec<SlotView>, gaps: Vec<GapView>) -> Vec<Item> {
    let mut items: Vec<Item> = slots
        .into_iter()
        .map(Item::Slot)
        .chain(gaps.into_iter().map(Item::Gap))
        .collect();
    items.sort_by_key(|i| match i {
        Item::Slot(s) => s.start,
        Item::Gap(g) => g.start,
    });
    items
}

/// "Morning" before 12:00, "Afternoon" to 17:00, "Evening" after, by the
/// venue's clock ("09:15").
fn part_of_day(clock: &str) -> &'static str {
    match clock.get(..2).and_then(|h| h.parse::<u32>().ok()) {
        Some(h) if h < 12 => "Morning",
        Some(h) if h < 17 => "Afternoon",
        _ => "Evening",
    }
}

type Group = (&'static str, Vec<SlotView>, Vec<GapView>);

/// The day's slots and gaps under their part of the day, in order, parts
/// without a start time or gap left out.
fn part_of_day_groups(slots: &[SlotView], gaps: &[GapView]) -> Vec<Group> {
    let mut groups: Vec<Group> = ["Morning", "Afternoon", "Evening"]
        .into_iter()
        .map(|p| (p, Vec::new(), Vec::new()))
        .collect();
    for s in slots {
        if let Some(g) = groups.iter_mut().find(|g| g.0 == part_of_day(&s.time)) {
            g.1.push(s.clone());
        }
    }
    for gap in gaps {
        let part = part_of_day(&gap.label);
        if let Some(g) = groups.iter_mut().find(|g| g.0 == part) {
            g.2.push(gap.clone());
        }
    }
    groups.retain(|g| !g.1.is_empty() || !g.2.is_empty());
    groups
}

#[cfg(test)]
mod tests {
    use super::part_of_day;

    #[test]
    fn the_parts_of_the_day_follow_the_venues_clock() {
        assert_eq!(part_of_day("09:15"), "Morning");
        assert_eq!(part_of_day("11:45"), "Morning");
        assert_eq!(part_of_day("12:00"), "Afternoon");
        assert_eq!(part_of_day("16:45"), "Afternoon");
        assert_eq!(part_of_day("17:00"), "Evening");
        assert_eq!(part_of_day("22:30"), "Evening");
    }
}
