//! Placement stability metrics (docs/metrics.md, "Placement stability"): `pct_3plus_placements`,
//! `long_term_stability`, `placement_moves_per_child_year`.
//!
//! An episode starts a placement when its rne is in [`PlacementCodes::new_carer_rne`](crate::settings::PlacementCodes::new_carer_rne) (S, P, B),
//! its place is not temporary (T0..T4), its legal status is not a short break (V3, V4), and the
//! child's previous episode (in its whole history) was not temporary. A period of care is a run
//! of episodes each starting on the day the previous one ended or the day after. On a shared
//! day the later-starting episode is in force.

use crate::index::{care_days, flag, sum_over_children, Episode, Index};
use crate::period::{MetricRow, Period};

use swp_data::date::years_before;

/// The latest-starting episode in force on `day` (on a shared day the later one is in force).
fn in_force(episodes: &[Episode], day: i32) -> Option<usize> {
    (0..episodes.len()).rev().find(|&i| episodes[i].in_force(day))
}

/// The episode that started the placement episode `i` belongs to (within its period of care).
fn placement_of(episodes: &[Episode], i: usize) -> Option<usize> {
    (episodes[i].period_start as usize..=i).rev().find(|&k| episodes[k].is(flag::STARTS_PLACEMENT))
}

/// One child's placement figures for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChildPlacements {
    /// Days of P looked after.
    pub days: i64,
    /// Placement moves in P (placements starting in P after an earlier one in the same period
    /// of care).
    pub moves: u32,
    /// Placements during P (the one in force on P.from plus those starting in P), when the
    /// child is looked after, not on a short break, on P.to (None otherwise).
    pub placements: Option<u32>,
    /// For children in the long-term group on P.to (under 16, looked after for 2.5 years or
    /// more): whether they have been in the same placement (or adopted from it) for 2 years.
    pub long_term_stable: Option<bool>,
}

/// The dates a period's placement rules compare with, computed once per period.
#[derive(Debug, Clone, Copy)]
pub struct PeriodDates {
    /// The period.
    pub p: Period,
    /// Children born after this day are under 16 on P.to.
    pub sixteen_years_before: i32,
    /// The long-term group: in the current period of care since this day or earlier.
    pub long_term_since: i32,
    /// Stable: in the current placement since this day or earlier (2 years before P.to).
    pub two_years_before: i32,
}

impl PeriodDates {
    /// The dates of period `p`.
    pub fn new(p: Period) -> Self {
        PeriodDates {
            p,
            sixteen_years_before: years_before(p.to, 16, 0),
            long_term_since: years_before(p.to, 2, 6),
            two_years_before: years_before(p.to, 2, 0),
        }
    }
}

/// The placement figures of a child with these (derived) episodes and date of birth.
pub fn child_placements(episodes: &[Episode], dob: Option<i32>, dates: &PeriodDates) -> ChildPlacements {
    child_placements_with_days(episodes, dob, dates, care_days(episodes, dates.p))
}

/// [`child_placements`] with the days of P looked after already counted.
pub(crate) fn child_placements_with_days(
    episodes: &[Episode],
    dob: Option<i32>,
    dates: &PeriodDates,
    days: i64,
) -> ChildPlacements {
    let p = dates.p;
    let mut out = ChildPlacements { days, ..ChildPlacements::default() };
    let (starting_in_p, moves) = starts_and_moves(episodes, p);
    if out.days > 0 {
        out.moves = moves;
    }
    let Some(at_end) = in_force(episodes, p.to) else { return out };
    if episodes[at_end].is(flag::SHORT_BREAK) {
        return out;
    }
    // the placement in force on P.from, unless it is one of those starting in P (on P.from)
    let at_start = in_force(episodes, p.from)
        .filter(|&i| !episodes[i].is(flag::SHORT_BREAK))
        .and_then(|i| placement_of(episodes, i))
        .filter(|&k| !p.contains(episodes[k].start));
    out.placements = Some(starting_in_p + u32::from(at_start.is_some()));

    let Some(dob) = dob else { return out };
    let under_16 = dates.sixteen_years_before < dob;
    let period_start = episodes[at_end].period_start as usize;
    if !under_16 || episodes[period_start].start > dates.long_term_since {
        return out;
    }
    let two_years = dates.two_years_before;
    let current = placement_of(episodes, at_end);
    let stable = current.is_some_and(|c| episodes[c].start <= two_years)
        || (episodes[at_end].is(flag::ADOPTION)
            && current
                .and_then(|c| c.checked_sub(1))
                .and_then(|before| (period_start..=before).rev().find(|&k| episodes[k].is(flag::STARTS_PLACEMENT)))
                .is_some_and(|prev| episodes[prev].start <= two_years));
    out.long_term_stable = Some(stable);
    out
}

/// The placements starting in `p`, and of those the moves: placements starting after an
/// earlier one in the same period of care. One pass over the episodes (sorted by start, as
/// derived): the latest placement start before episode `i` is in `i`'s period of care exactly
/// when some placement start is.
fn starts_and_moves(episodes: &[Episode], p: Period) -> (u32, u32) {
    let (mut starts, mut moves) = (0, 0);
    let mut latest: Option<usize> = None;
    for (i, e) in episodes.iter().enumerate() {
        if e.start > p.to {
            break;
        }
        if e.is(flag::STARTS_PLACEMENT) {
            if e.start >= p.from {
                starts += 1;
                moves += u32::from(latest.is_some_and(|k| k >= e.period_start as usize));
            }
            latest = Some(i);
        }
    }
    (starts, moves)
}

/// Adds a child's placement figures to a group's sums: 3+ placements, looked after on P.to,
/// stable, long-term group, moves, days.
pub(crate) fn add_child(e: &mut [f64], f: &ChildPlacements) {
    e[5] += f.days as f64;
    e[4] += f64::from(f.moves);
    if let Some(n) = f.placements {
        e[1] += 1.0;
        e[0] += f64::from(u8::from(n >= 3));
    }
    if let Some(stable) = f.long_term_stable {
        e[3] += 1.0;
        e[2] += f64::from(u8::from(stable));
    }
}

/// The rows of each group from its sums (see [`add_child`]).
pub(crate) fn rows_from<S: AsRef<[f64]>>(names: &[String], p: Period, sums: &[S]) -> Vec<MetricRow> {
    let mut rows = Vec::new();
    for (name, sum) in names.iter().zip(sums) {
        let sum = sum.as_ref();
        let three = sum[0];
        let looked_after = sum[1];
        let stable = sum[2];
        let long_term = sum[3];
        let moves = sum[4];
        let days = sum[5];
        rows.push(MetricRow::ratio(name, "pct_3plus_placements", p, three, looked_after));
        rows.push(MetricRow::ratio(name, "long_term_stability", p, stable, long_term));
        rows.push(MetricRow::ratio(name, "placement_moves_per_child_year", p, moves, days / 365.25));
    }
    rows
}

/// The placement stability metrics of every group for period `p`.
pub fn placement_rows(index: &Index, p: Period) -> Vec<MetricRow> {
    let dates = PeriodDates::new(p);
    let sums = sum_over_children::<6>(index, 1, |acc, c| {
        let f = child_placements(index.episodes.of(c), index.child_dob[c], &dates);
        add_child(&mut acc[index.group_of_child(c)], &f);
    });
    rows_from(&index.groups.names, p, &sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Builder;
    use crate::settings::PlacementCodes;
    use crate::test_support::d;
    use swp_data::date::format_date;

    #[test]
    fn years_before_is_calendar_arithmetic_clamped_to_the_month() {
        assert_eq!(format_date(years_before(d(2012, 3, 31), 2, 6)), "2009-09-30");
        assert_eq!(format_date(years_before(d(2012, 2, 29), 1, 0)), "2011-02-28");
        assert_eq!(format_date(years_before(d(2012, 3, 31), 16, 0)), "1996-03-31");
        assert_eq!(format_date(years_before(d(2012, 1, 15), 0, 2)), "2011-11-15");
    }

    type Ep = (i32, Option<i32>, &'static str, &'static str, &'static str);

    fn ep(start: i32, end: Option<i32>, rne: &'static str, ls: &'static str, place: &'static str) -> Ep {
        (start, end, rne, ls, place)
    }

    fn rows_for(children: Vec<(&'static str, Option<i32>, Vec<Ep>)>, p: Period) -> Vec<MetricRow> {
        let groups = crate::test_support::one_site();
        let mut b = Builder::new(groups);
        for (id, dob, episodes) in children {
            b.child("S", id, dob);
            for (start, end, rne, ls, place) in episodes {
                b.episode("S", id, start, end, (rne, ls, place), &PlacementCodes::default());
            }
        }
        placement_rows(&b.finish(), p)
    }

    fn get(rows: &[MetricRow], m: &str) -> (Option<f64>, Option<f64>, Option<f64>) {
        let r = rows.iter().find(|r| r.metric == m).unwrap();
        (r.value, r.numerator, r.denominator)
    }

    /// FY 2011-12 (2011-04-01 .. 2012-03-31, 366 days), worked by hand:
    /// - a: placed 2008-01-01 (S, U4); moves (P) 2011-06-01; a temporary T2 from 2011-09-01,
    ///   back to the same carer (P, U6) on 2011-09-10 (no new placement: after a temporary one);
    ///   moves again (P) 2012-01-01. Placements in P: the one in force on P.from + 2 = 3;
    ///   moves in P: 2. Under 16 (born 2000); period began 2008 (>= 2.5 years before); current
    ///   placement began 2012-01-01: not stable.
    /// - b: a series of short breaks (V3) only: looked after some days, never counted for
    ///   3+ placements (on a short break, or not looked after, on P.to) and no moves.
    /// - c: placed 2005-05-01 (S, U1), placed for adoption (B, E1, A5) 2011-02-01 and still there:
    ///   in force on P.to is A5; previous placement began 2005 (>= 2 years before): stable.
    ///   Moves in P: none (the adoption placement started before P).
    /// - d: left care 2011-01-31, re-entered (S) on 2011-12-01: a new period of care, so its
    ///   first placement is not a move; period began < 2.5 years before: not in the
    ///   long-term group. Placements in P: 1 (not in care on P.from).
    #[test]
    fn placement_metrics_by_hand() {
        let p = Period::financial_year(2011);
        let rows = rows_for(
            vec![
                (
                    "a",
                    Some(d(2000, 5, 1)),
                    vec![
                        ep(d(2008, 1, 1), Some(d(2011, 6, 1)), "S", "C2", "U4"),
                        ep(d(2011, 6, 1), Some(d(2011, 9, 1)), "P", "C2", "U4"),
                        ep(d(2011, 9, 1), Some(d(2011, 9, 10)), "P", "C2", "T2"),
                        ep(d(2011, 9, 10), Some(d(2012, 1, 1)), "P", "C2", "U6"),
                        ep(d(2012, 1, 1), None, "P", "C2", "U4"),
                    ],
                ),
                (
                    "b",
                    Some(d(2005, 1, 1)),
                    vec![
                        ep(d(2011, 5, 1), Some(d(2011, 5, 3)), "S", "V3", "U1"),
                        ep(d(2012, 3, 30), Some(d(2012, 4, 2)), "S", "V3", "U1"),
                    ],
                ),
                (
                    "c",
                    Some(d(2004, 3, 1)),
                    vec![
                        ep(d(2005, 5, 1), Some(d(2011, 2, 1)), "S", "C2", "U1"),
                        ep(d(2011, 2, 1), None, "B", "E1", "A5"),
                    ],
                ),
                (
                    "d",
                    Some(d(2003, 1, 1)),
                    vec![
                        ep(d(2010, 1, 1), Some(d(2011, 1, 31)), "S", "V2", "U4"),
                        ep(d(2011, 12, 1), None, "S", "V2", "U4"),
                    ],
                ),
            ],
            p,
        );
        // looked after on P.to, not on a short break: a, c, d; with 3+ placements: a
        assert_eq!(get(&rows, "pct_3plus_placements"), (Some(1.0 / 3.0), Some(1.0), Some(3.0)));
        // long-term group: a, c; stable: c
        assert_eq!(get(&rows, "long_term_stability"), (Some(0.5), Some(1.0), Some(2.0)));
        // moves: a 2; days: a 366 + b (1-3 May: 3, 30-31 Mar: 2) 5 + c 366 + d (1 Dec..31 Mar) 122
        let (v, n, dnm) = get(&rows, "placement_moves_per_child_year");
        assert_eq!(n, Some(2.0));
        let days = 366.0 + 5.0 + 366.0 + 122.0;
        assert!((dnm.unwrap() - days / 365.25).abs() < 1e-12);
        assert!((v.unwrap() - 2.0 / (days / 365.25)).abs() < 1e-12);
    }

    /// The generator's placement-move effect (x 0.8 at pilots from go-live) shows up in
    /// `placement_moves_per_child_year` by arm (two financial years pooled).
    #[test]
    fn synthetic_move_effect_shows_in_placement_moves() {
        let index = crate::test_support::synthetic_by_arm(15);
        let (mut pilot, mut comparison) = ((0.0, 0.0), (0.0, 0.0));
        for year in [2010, 2011] {
            let rows = placement_rows(&index, Period::financial_year(year));
            let part = |g: &str| {
                let r = rows.iter().find(|r| r.group == g && r.metric == "placement_moves_per_child_year").unwrap();
                (r.numerator.unwrap(), r.denominator.unwrap())
            };
            let (n, dnm) = part("pilot");
            pilot = (pilot.0 + n, pilot.1 + dnm);
            let (n, dnm) = part("comparison");
            comparison = (comparison.0 + n, comparison.1 + dnm);
        }
        let ratio = (pilot.0 / pilot.1) / (comparison.0 / comparison.1);
        assert!((0.65..0.95).contains(&ratio), "move ratio {ratio} (true 0.8)");
    }

    /// The one-pass count of placement starts and moves equals docs/metrics.md's definitions
    /// written out (a move: a placement starting in P with an earlier placement start in its
    /// period of care), over random runs of episodes sorted by start and random periods.
    #[test]
    fn starts_and_moves_in_one_pass_equal_the_definitions() {
        let mut state = 11u64;
        let mut next = |m: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        for _ in 0..5000 {
            let n = next(9) as usize;
            let mut start = 1000 + next(50) as i32;
            let mut episodes: Vec<Episode> = Vec::new();
            for i in 0..n {
                let period_start = if i == 0 || next(3) == 0 { i as u32 } else { episodes[i - 1].period_start };
                let flags = if next(2) == 0 { flag::STARTS_PLACEMENT } else { 0 };
                episodes.push(Episode { start, end: None, flags, period_start, row: i as u32 });
                start += next(40) as i32;
            }
            let from = 1000 + next(200) as i32;
            let p = Period { from, to: from + next(150) as i32 };
            let starts = episodes.iter().filter(|e| e.is(flag::STARTS_PLACEMENT) && p.contains(e.start)).count();
            let moves = (0..n)
                .filter(|&i| {
                    let e = &episodes[i];
                    e.is(flag::STARTS_PLACEMENT)
                        && p.contains(e.start)
                        && (e.period_start as usize..i).any(|k| episodes[k].is(flag::STARTS_PLACEMENT))
                })
                .count();
            assert_eq!(starts_and_moves(&episodes, p), (starts as u32, moves as u32), "{episodes:?} {p:?}");
        }
    }

    #[test]
    fn a_child_turning_16_on_p_to_is_not_under_16() {
        let p = Period::financial_year(2011);
        let episodes = vec![ep(d(2005, 1, 1), None, "S", "C2", "U4")];
        let rows = rows_for(vec![("e", Some(d(1996, 3, 31)), episodes.clone())], p);
        assert_eq!(get(&rows, "long_term_stability").2, Some(0.0));
        let rows = rows_for(vec![("e", Some(d(1996, 4, 1)), episodes)], p);
        assert_eq!(get(&rows, "long_term_stability"), (Some(1.0), Some(1.0), Some(1.0)));
    }

    /// Boundaries: a placement starting exactly on P.from is one placement (not counted twice
    /// as in force on P.from and starting in P) and a move when it follows another in the same
    /// period of care; an episode ending on P.from still counts that day as looked after.
    #[test]
    fn a_placement_starting_on_p_from_counts_once() {
        let p = Period::financial_year(2011);
        let rows = rows_for(
            vec![(
                "f",
                Some(d(2001, 1, 1)),
                vec![ep(d(2010, 6, 1), Some(d(2011, 4, 1)), "S", "C2", "U4"), ep(d(2011, 4, 1), None, "P", "C2", "U1")],
            )],
            p,
        );
        // placements in P: the one starting on 2011-04-01 (in force on P.from) = 1
        assert_eq!(get(&rows, "pct_3plus_placements"), (Some(0.0), Some(0.0), Some(1.0)));
        // the move on P.from is in P; days: all 366
        let (_, n, dnm) = get(&rows, "placement_moves_per_child_year");
        assert_eq!(n, Some(1.0));
        assert!((dnm.unwrap() - 366.0 / 365.25).abs() < 1e-12);
    }
}
