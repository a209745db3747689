//! Placement stability metrics (METRICS.md, "Placement stability"): `pct_3plus_placements`,
//! `long_term_stability`, `placement_moves_per_child_year`.
//!
//! An episode starts a placement when its rne is in [`PlacementCodes::new_carer_rne`] (S, P, B),
//! its place is not temporary (T0..T4), its legal status is not a short break (V3, V4), and the
//! child's previous episode (in its whole history) was not temporary. A period of care is a run
//! of episodes each starting on the day the previous one ended or the day after. On a shared
//! day the later-starting episode is in force.

use crate::changes::{days_in, ChildKey};
use crate::period::{MetricRow, Period, SiteGroups};
use std::collections::BTreeMap;
use swp_data::typed::{civil_from_days, days_from_civil, days_in_month};
use swp_data::validate::{code_column, date_column, text_column};
use swp_data::Dataset;

/// The code sets of the placement rules (settings; [`Default`] gives METRICS.md's).
#[derive(Debug, Clone)]
pub struct PlacementCodes {
    /// RNE codes of a new carer.
    pub new_carer_rne: Vec<String>,
    /// Temporary placement types.
    pub temporary_places: Vec<String>,
    /// Short-break legal statuses.
    pub short_break_ls: Vec<String>,
    /// Placed-for-adoption placement types (long-term stability).
    pub adoption_places: Vec<String>,
}

impl Default for PlacementCodes {
    fn default() -> Self {
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect();
        PlacementCodes {
            new_carer_rne: v(&["S", "P", "B"]),
            temporary_places: v(&["T0", "T1", "T2", "T3", "T4"]),
            short_break_ls: v(&["V3", "V4"]),
            adoption_places: v(&["A3", "A4", "A5", "A6"]),
        }
    }
}

/// One episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// decom
    pub start: i32,
    /// dec (None: open)
    pub end: Option<i32>,
    /// rne
    pub rne: String,
    /// ls
    pub ls: String,
    /// place
    pub place: String,
}

/// A child's episodes, sorted, and date of birth.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildEpisodes {
    /// Date of birth.
    pub dob: Option<i32>,
    /// Episodes by start.
    pub episodes: Vec<Episode>,
}

/// Every child's episodes (rows missing a key are skipped).
pub fn episodes_of(dataset: &Dataset) -> BTreeMap<ChildKey, ChildEpisodes> {
    let c = &dataset.children.frame;
    let ids = text_column(c, "child_id");
    let sites = text_column(c, "site_id");
    let dobs = date_column(c, "dob");
    let mut out: BTreeMap<ChildKey, ChildEpisodes> = BTreeMap::new();
    for row in 0..c.height() {
        if let (Some(id), Some(site)) = (ids[row], sites[row]) {
            out.insert((site.to_string(), id.to_string()), ChildEpisodes { dob: dobs[row], episodes: Vec::new() });
        }
    }
    let e = &dataset.episodes.frame;
    let ids = text_column(e, "child_id");
    let sites = text_column(e, "site_id");
    let starts = date_column(e, "decom");
    let ends = date_column(e, "dec");
    let rne = code_column(e, "rne");
    let ls = code_column(e, "ls");
    let place = code_column(e, "place");
    for row in 0..e.height() {
        let (Some(id), Some(site), Some(start)) = (ids[row], sites[row], starts[row]) else { continue };
        let child = out
            .entry((site.to_string(), id.to_string()))
            .or_insert_with(|| ChildEpisodes { dob: None, episodes: Vec::new() });
        child.episodes.push(Episode {
            start,
            end: ends[row],
            rne: rne[row].clone().unwrap_or_default(),
            ls: ls[row].clone().unwrap_or_default(),
            place: place[row].clone().unwrap_or_default(),
        });
    }
    for child in out.values_mut() {
        child.episodes.sort_by_key(|e| (e.start, e.end.unwrap_or(i32::MAX)));
    }
    out
}

/// `n` years and `months` months before `day`, calendar arithmetic, clamped to the month's end.
pub fn years_before(day: i32, years: i32, months: i32) -> i32 {
    let (y, m, d) = civil_from_days(day);
    let total = y * 12 + (m as i32 - 1) - years * 12 - months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    days_from_civil(ny, nm, d.min(days_in_month(ny, nm)))
}

/// What the rules derive from one child's episodes.
struct Derived<'a> {
    episodes: &'a [Episode],
    /// Whether each episode starts a placement.
    starts_placement: Vec<bool>,
    /// Index of the first episode of each episode's period of care.
    period_start: Vec<usize>,
}

impl<'a> Derived<'a> {
    fn new(episodes: &'a [Episode], codes: &PlacementCodes) -> Self {
        let temporary = |e: &Episode| codes.temporary_places.contains(&e.place);
        let starts_placement = (0..episodes.len())
            .map(|i| {
                let e = &episodes[i];
                codes.new_carer_rne.contains(&e.rne)
                    && !temporary(e)
                    && !codes.short_break_ls.contains(&e.ls)
                    && (i == 0 || !temporary(&episodes[i - 1]))
            })
            .collect();
        let mut period_start = Vec::with_capacity(episodes.len());
        for i in 0..episodes.len() {
            let continues = i > 0 && episodes[i - 1].end.is_some_and(|prev| episodes[i].start <= prev + 1);
            period_start.push(if continues { period_start[i - 1] } else { i });
        }
        Derived { episodes, starts_placement, period_start }
    }

    /// The episode in force on `day` (the later-starting one on a shared day).
    fn in_force(&self, day: i32) -> Option<usize> {
        (0..self.episodes.len()).rev().find(|&i| {
            let e = &self.episodes[i];
            e.start <= day && e.end.is_none_or(|end| day <= end)
        })
    }

    /// The placement-starting episode in force for episode `i`: the latest placement start at
    /// or before `i` within its period of care.
    fn placement_of(&self, i: usize) -> Option<usize> {
        (self.period_start[i]..=i).rev().find(|&k| self.starts_placement[k])
    }
}

/// The placement stability metrics of every group for period `p`.
pub fn placement_rows(
    children: &BTreeMap<ChildKey, ChildEpisodes>,
    codes: &PlacementCodes,
    groups: &SiteGroups,
    p: Period,
) -> Vec<MetricRow> {
    // per group: [3+ placements, looked after on P.to], [stable, long-term children], moves, days
    let mut acc = vec![(0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64); groups.names.len()];
    for (key, child) in children {
        let Some(site) = groups.site_index(&key.0) else { continue };
        let g = groups.group_of_site[site];
        let derived = Derived::new(&child.episodes, codes);
        let spans: Vec<(i32, Option<i32>)> = child.episodes.iter().map(|e| (e.start, e.end)).collect();
        let days = days_in(&spans, p);
        let e = &mut acc[g];
        if days > 0 {
            e.5 += days as f64;
            e.4 += (0..child.episodes.len())
                .filter(|&i| {
                    // a placement starting in P that is not the first of its period of care
                    derived.starts_placement[i]
                        && p.contains(child.episodes[i].start)
                        && (derived.period_start[i]..i).any(|k| derived.starts_placement[k])
                })
                .count() as f64;
        }
        let Some(at_end) = derived.in_force(p.to) else { continue };
        if codes.short_break_ls.contains(&child.episodes[at_end].ls) {
            continue;
        }
        // placements in P: the one in force on P.from (looked after then, not on a short break)
        // plus those starting inside P; one starting on P.from counts once
        let mut placements: Vec<usize> = (0..child.episodes.len())
            .filter(|&i| derived.starts_placement[i] && p.contains(child.episodes[i].start))
            .collect();
        if let Some(at_start) = derived.in_force(p.from) {
            if !codes.short_break_ls.contains(&child.episodes[at_start].ls) {
                if let Some(k) = derived.placement_of(at_start) {
                    if !placements.contains(&k) {
                        placements.push(k);
                    }
                }
            }
        }
        e.1 += 1.0;
        e.0 += f64::from(u8::from(placements.len() >= 3));

        // long-term stability
        let Some(dob) = child.dob else { continue };
        let under_16 = years_before(p.to, 16, 0) < dob;
        let period_began = child.episodes[derived.period_start[at_end]].start;
        if !under_16 || period_began > years_before(p.to, 2, 6) {
            continue;
        }
        e.3 += 1.0;
        let two_years = years_before(p.to, 2, 0);
        let current = derived.placement_of(at_end);
        let stable = current.is_some_and(|c| child.episodes[c].start <= two_years)
            || (codes.adoption_places.contains(&child.episodes[at_end].place)
                && current
                    .and_then(|c| c.checked_sub(1))
                    .and_then(|before| {
                        (derived.period_start[at_end]..=before).rev().find(|&k| derived.starts_placement[k])
                    })
                    .is_some_and(|prev| child.episodes[prev].start <= two_years));
        e.2 += f64::from(u8::from(stable));
    }
    let mut rows = Vec::new();
    for (g, name) in groups.names.iter().enumerate() {
        let (three, looked_after, stable, long_term, moves, days) = acc[g];
        rows.push(MetricRow::ratio(name, "pct_3plus_placements", p, three, looked_after));
        rows.push(MetricRow::ratio(name, "long_term_stability", p, stable, long_term));
        rows.push(MetricRow::ratio(name, "placement_moves_per_child_year", p, moves, days / 365.25));
    }
    rows
}

/// Convenience: the placement stability metrics of `dataset` for period `p`.
pub fn placements(dataset: &Dataset, groups: &SiteGroups, p: Period, codes: &PlacementCodes) -> Vec<MetricRow> {
    placement_rows(&episodes_of(dataset), codes, groups, p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use swp_data::typed::format_date;

    fn d(y: i32, m: u32, day: u32) -> i32 {
        days_from_civil(y, m, day)
    }

    fn ep(start: i32, end: Option<i32>, rne: &str, ls: &str, place: &str) -> Episode {
        Episode { start, end, rne: rne.into(), ls: ls.into(), place: place.into() }
    }

    #[test]
    fn years_before_is_calendar_arithmetic_clamped_to_the_month() {
        assert_eq!(format_date(years_before(d(2012, 3, 31), 2, 6)), "2009-09-30");
        assert_eq!(format_date(years_before(d(2012, 2, 29), 1, 0)), "2011-02-28");
        assert_eq!(format_date(years_before(d(2012, 3, 31), 16, 0)), "1996-03-31");
        assert_eq!(format_date(years_before(d(2012, 1, 15), 0, 2)), "2011-11-15");
    }

    fn rows_for(children: Vec<(&str, Option<i32>, Vec<Episode>)>, p: Period) -> Vec<MetricRow> {
        let groups = SiteGroups { site_ids: vec!["S".into()], names: vec!["S".into()], group_of_site: vec![0] };
        let map = children
            .into_iter()
            .map(|(id, dob, episodes)| (("S".to_string(), id.to_string()), ChildEpisodes { dob, episodes }))
            .collect();
        placement_rows(&map, &PlacementCodes::default(), &groups, p)
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
        let (dataset, groups) = crate::test_support::synthetic_by_arm(15);
        let children = episodes_of(&dataset);
        let (mut pilot, mut comparison) = ((0.0, 0.0), (0.0, 0.0));
        for year in [2010, 2011] {
            let rows = placement_rows(&children, &PlacementCodes::default(), &groups, Period::financial_year(year));
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

    #[test]
    fn a_child_turning_16_on_p_to_is_not_under_16() {
        let p = Period::financial_year(2011);
        let episodes = vec![ep(d(2005, 1, 1), None, "S", "C2", "U4")];
        let rows = rows_for(vec![("e", Some(d(1996, 3, 31)), episodes.clone())], p);
        assert_eq!(get(&rows, "long_term_stability").2, Some(0.0));
        let rows = rows_for(vec![("e", Some(d(1996, 4, 1)), episodes)], p);
        assert_eq!(get(&rows, "long_term_stability"), (Some(1.0), Some(1.0), Some(1.0)));
    }
}
