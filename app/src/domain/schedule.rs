//! The rules of time: grids, opening hours, breaks and daylight saving.
//!
//! Instants are UTC seconds since the epoch; a venue's IANA zone is used
//! only to turn its local opening hours into instants and to label slots.
//! Every interval is half-open: `[start, end)`.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A half-open span of time in UTC seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    pub fn new(start: i64, end: i64) -> Self {
        debug_assert!(start <= end, "a span ends after it starts");
        Self { start, end }
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// How far from now staff may look or act: two years either side (a day
/// more for leap years). Further dates are refused as input, so the time
/// arithmetic never meets the ends of the calendar.
pub const STAFF_HORIZON_DAYS: i64 = 731;

/// Whether the instant `t` lies within the staff horizon of `now`.
pub fn within_staff_horizon(t: i64, now: i64) -> bool {
    t.checked_sub(now)
        .is_some_and(|d| d.abs() <= STAFF_HORIZON_DAYS * 86_400)
}

/// Whether `date` lies within the staff horizon of `today`.
pub fn date_within_staff_horizon(date: NaiveDate, today: NaiveDate) -> bool {
    date.signed_duration_since(today).num_days().abs() <= STAFF_HORIZON_DAYS
}

/// Monday is 0, Sunday is 6: the `weekday` column of weekly hours.
pub fn weekday_index(date: NaiveDate) -> i64 {
    i64::from(date.weekday().num_days_from_monday())
}

/// Rounds `t` up to the grid (`unit` seconds, anchored at the epoch).
pub fn ceil_to_grid(t: i64, unit: i64) -> i64 {
    t.div_euclid(unit) * unit + if t.rem_euclid(unit) == 0 { 0 } else { unit }
}

pub fn is_on_grid(t: i64, unit: i64) -> bool {
    t.rem_euclid(unit) == 0
}

/// The grid units a booking claims: every unit that `[start, occupied_until)`
/// touches. Claims on these units are what makes overlaps impossible.
pub fn claim_units(span: Span, unit: i64) -> Vec<i64> {
    let first = span.start.div_euclid(unit) * unit;
    (0..)
        .map(|k| first + k * unit)
        .take_while(|u| *u < span.end)
        .collect()
}

/// Which instant to take when a wall-clock time happens twice (the autumn
/// change): the earlier for an opening, the later for a closing, so that a
/// window covers every real minute the clock shows it open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ambiguity {
    Earliest,
    Latest,
}

/// The instant a local wall-clock time on `date` denotes. `minute` may be
/// 1440 (the midnight that ends the day). A time that does not exist (the
/// spring change skips it) maps to the first instant after the gap.
pub fn local_instant(tz: Tz, date: NaiveDate, minute: i64, pick: Ambiguity) -> i64 {
    let midnight = date.and_time(NaiveTime::MIN);
    // At the very end of the calendar there is no later minute: stay at
    // midnight rather than overflow (callers bound their dates anyway).
    let Some(mut local) = midnight.checked_add_signed(Duration::minutes(minute)) else {
        return midnight.and_utc().timestamp();
    };
    // Gaps are at most a few hours; step forward minute by minute out of one.
    for _ in 0..=24 * 60 {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => return t.timestamp(),
            LocalResult::Ambiguous(a, b) => {
                let (early, late) = if a < b { (a, b) } else { (b, a) };
                return match pick {
                    Ambiguity::Earliest => early.timestamp(),
                    Ambiguity::Latest => late.timestamp(),
                };
            }
            LocalResult::None => match local.checked_add_signed(Duration::minutes(1)) {
                Some(next) => local = next,
                None => break,
            },
        }
    }
    // No zone has a day-long gap; treat the date as UTC rather than fail.
    let local = midnight
        .checked_add_signed(Duration::minutes(minute))
        .unwrap_or(midnight);
    Utc.from_utc_datetime(&local).timestamp()
}

/// The instants a local calendar day covers (23, 24 or 25 hours).
pub fn local_day(tz: Tz, date: NaiveDate) -> Span {
    Span::new(
        local_instant(tz, date, 0, Ambiguity::Earliest),
        local_instant(tz, date, 24 * 60, Ambiguity::Earliest),
    )
}

/// The local calendar date of an instant.
pub fn local_date(tz: Tz, t: i64) -> NaiveDate {
    to_datetime(t).with_timezone(&tz).date_naive()
}

pub fn to_datetime(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A window of the weekly timetable, in minutes after local midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalWindow {
    pub from_minute: i64,
    pub to_minute: i64,
}

/// A window of the weekly timetable on `date`, as instants: an ambiguous
/// start (a clock time that happens twice when the clocks go back) is its
/// first occurrence, an ambiguous end its last, so the window holds every
/// minute its wall-clock times name.
pub fn window_span(tz: Tz, date: NaiveDate, w: &LocalWindow) -> Span {
    Span::new(
        local_instant(tz, date, w.from_minute, Ambiguity::Earliest),
        local_instant(tz, date, w.to_minute, Ambiguity::Latest),
    )
}

/// The open spans of one resource on one local date: its opening windows for
/// that weekday, less its breaks, as instants.
pub fn open_spans(
    tz: Tz,
    date: NaiveDate,
    hours: &[LocalWindow],
    breaks: &[LocalWindow],
) -> Vec<Span> {
    let to_span = |w: &LocalWindow| window_span(tz, date, w);
    let mut open: Vec<Span> = hours
        .iter()
        .map(to_span)
        .filter(|s| s.start < s.end)
        .collect();
    for b in breaks.iter().map(to_span) {
        open = open.into_iter().flat_map(|o| subtract(o, b)).collect();
    }
    open.sort();
    open
}

/// `a` without `b`: zero, one or two spans.
fn subtract(a: Span, b: Span) -> Vec<Span> {
    if !a.overlaps(&b) {
        return vec![a];
    }
    let mut out = Vec::with_capacity(2);
    if a.start < b.start {
        out.push(Span::new(a.start, b.start));
    }
    if b.end < a.end {
        out.push(Span::new(b.end, a.end));
    }
    out
}

/// The grid starts at which an appointment of `length` seconds fits wholly
/// inside `open`.
pub fn grid_starts(open: Span, unit: i64, length: i64) -> impl Iterator<Item = i64> {
    let first = ceil_to_grid(open.start, unit);
    (0..)
        .map(move |k| first + k * unit)
        .take_while(move |t| t + length <= open.end)
}

/// A slot's name for people, in the venue's time: "Tuesday 2 June, 10:00".
pub fn label(tz: Tz, t: i64) -> String {
    to_datetime(t)
        .with_timezone(&tz)
        .format("%A %-d %B, %H:%M")
        .to_string()
}

/// The wall-clock time alone: "10:00".
pub fn clock(tz: Tz, t: i64) -> String {
    to_datetime(t)
        .with_timezone(&tz)
        .format("%H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: i64 = 15 * 60;
    const LONDON: Tz = chrono_tz::Europe::London;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn w(from_h: i64, to_h: i64) -> LocalWindow {
        LocalWindow {
            from_minute: from_h * 60,
            to_minute: to_h * 60,
        }
    }

    #[test]
    fn grid_alignment_rounds_up_and_recognises_grid_points() {
        assert_eq!(ceil_to_grid(0, Q), 0);
        assert_eq!(ceil_to_grid(1, Q), Q);
        assert_eq!(ceil_to_grid(Q, Q), Q);
        assert_eq!(ceil_to_grid(-1, Q), 0);
        assert!(is_on_grid(3 * Q, Q));
        assert!(!is_on_grid(3 * Q + 60, Q));
    }

    #[test]
    fn spans_overlap_only_when_they_share_time() {
        let a = Span::new(0, 10);
        assert!(a.overlaps(&Span::new(9, 20)));
        assert!(
            !a.overlaps(&Span::new(10, 20)),
            "touching is not overlapping"
        );
        assert!(!Span::new(10, 20).overlaps(&a));
        assert!(a.overlaps(&Span::new(2, 3)));
        assert!(a.contains(&Span::new(2, 10)));
        assert!(!a.contains(&Span::new(2, 11)));
    }

    #[test]
    fn a_booking_claims_every_unit_it_touches_including_its_buffer() {
        // 60 minutes plus a 10-minute buffer touches five quarter-hours.
        let units = claim_units(Span::new(0, 70 * 60), Q);
        assert_eq!(units, vec![0, Q, 2 * Q, 3 * Q, 4 * Q]);
        assert_eq!(claim_units(Span::new(Q, 2 * Q), Q), vec![Q]);
    }

    #[test]
    fn a_lunch_break_splits_the_day_into_two_open_spans() {
        let d = date(2026, 6, 2);
        let open = open_spans(LONDON, d, &[w(9, 18)], &[w(13, 14)]);
        assert_eq!(open.len(), 2);
        assert_eq!(clock(LONDON, open[0].start), "09:00");
        assert_eq!(clock(LONDON, open[0].end), "13:00");
        assert_eq!(clock(LONDON, open[1].start), "14:00");
        assert_eq!(clock(LONDON, open[1].end), "18:00");
        // An hour-long treatment fits 09:00..12:00 and 14:00..17:00, quarterly.
        let starts: Vec<i64> = open.iter().flat_map(|s| grid_starts(*s, Q, 3600)).collect();
        assert_eq!(starts.len(), 13 + 13);
        assert_eq!(clock(LONDON, *starts.last().unwrap()), "17:00");
        assert!(!starts.iter().any(|t| clock(LONDON, *t) == "12:15"));
    }

    #[test]
    fn a_break_outside_the_hours_changes_nothing() {
        let d = date(2026, 6, 2);
        let open = open_spans(LONDON, d, &[w(9, 12)], &[w(13, 14)]);
        assert_eq!(
            open,
            vec![Span::new(
                local_instant(LONDON, d, 9 * 60, Ambiguity::Earliest),
                local_instant(LONDON, d, 12 * 60, Ambiguity::Latest)
            )]
        );
    }

    #[test]
    fn the_spring_change_day_loses_the_skipped_hour_and_no_more() {
        // 29 March 2026: London clocks go from 01:00 to 02:00.
        let d = date(2026, 3, 29);
        assert_eq!(
            local_day(LONDON, d).end - local_day(LONDON, d).start,
            23 * 3600
        );
        let open = open_spans(LONDON, d, &[w(0, 4)], &[]);
        assert_eq!(open.len(), 1);
        // Four hours on the clock, three in reality.
        assert_eq!(open[0].end - open[0].start, 3 * 3600);
        let starts: Vec<String> = grid_starts(open[0], Q, Q)
            .map(|t| clock(LONDON, t))
            .collect();
        assert_eq!(starts.len(), 12);
        assert!(starts.contains(&"00:45".to_owned()));
        assert!(
            !starts.iter().any(|s| s.starts_with("01:")),
            "01:xx does not exist"
        );
        assert!(starts.contains(&"02:00".to_owned()));
    }

    #[test]
    fn the_autumn_change_day_offers_the_repeated_hour_twice() {
        // 25 October 2026: London clocks go back from 02:00 to 01:00.
        let d = date(2026, 10, 25);
        assert_eq!(
            local_day(LONDON, d).end - local_day(LONDON, d).start,
            25 * 3600
        );
        let open = open_spans(LONDON, d, &[w(0, 4)], &[]);
        assert_eq!(open[0].end - open[0].start, 5 * 3600);
        let starts: Vec<String> = grid_starts(open[0], Q, Q)
            .map(|t| clock(LONDON, t))
            .collect();
        assert_eq!(starts.len(), 20);
        assert_eq!(starts.iter().filter(|s| *s == "01:30").count(), 2);
        // Every slot is a distinct instant: none lost, none merged.
        let instants: std::collections::BTreeSet<i64> = grid_starts(open[0], Q, Q).collect();
        assert_eq!(instants.len(), 20);
    }

    #[test]
    fn an_ordinary_day_has_twenty_four_hours_and_labels_in_local_time() {
        let d = date(2026, 6, 2);
        let day = local_day(LONDON, d);
        assert_eq!(day.end - day.start, 24 * 3600);
        // 10:00 in London in June is 09:00 UTC.
        let t = local_instant(LONDON, d, 600, Ambiguity::Earliest);
        assert_eq!(to_datetime(t).to_rfc3339(), "2026-06-02T09:00:00+00:00");
        assert_eq!(label(LONDON, t), "Tuesday 2 June, 10:00");
        assert_eq!(local_date(LONDON, t), d);
        assert_eq!(weekday_index(d), 1);
    }
}
