//! Caseload metrics (docs/metrics.md, "Caseloads"): `caseload_per_fte`, `mean_caseload`,
//! `share_caseload_over_20`.
//!
//! caseload(w, d) = distinct children with an allocation to worker w open on d. Every worker
//! holding a case counts (agency included), at the site of the worker's spell in post that day.
//! On a same-day handover the later-starting allocation is the one in force (as for episodes).

use crate::index::{Allocation, Index, CHUNK};
use crate::period::{MetricRow, Period, SiteGroups};
use rayon::prelude::*;
use std::sync::atomic::{AtomicI32, Ordering};
use swp_data::date::{civil_from_days, days_from_civil};

/// A worker holding cases on a day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Holder {
    /// Worker index.
    pub worker: u32,
    /// Site of the worker's spell in post that day.
    pub site: usize,
    /// Children allocated that day.
    pub cases: u32,
    /// FTE of the spell.
    pub fte: f64,
}

/// The case holders on each of `days` (sorted ascending), workers in index order. A worker
/// with no spell in post on a day is left out that day (their site is unknown). A child's
/// overlapping or adjoining allocations to one worker are merged first, so caseloads count
/// distinct children.
///
/// One parallel pass over the children's allocations marks where each merged case opens and
/// closes among the days (a difference table per worker, integer adds, so the result does not
/// depend on the order the threads add in); then each worker's running sum gives its cases
/// on each day. Days are taken in batches that keep the table under 64 MB.
pub fn case_holders(index: &Index, days: &[i32]) -> Vec<Vec<Holder>> {
    holders_in_batches(index, days, 1 << 24)
}

/// [`case_holders`] with a difference table of at most `cells` cells (or one day's).
fn holders_in_batches(index: &Index, days: &[i32], cells: usize) -> Vec<Vec<Holder>> {
    let workers = index.worker_ids.len();
    let batch = (cells / workers.max(1)).saturating_sub(1).max(1);
    let mut out = Vec::with_capacity(days.len());
    for part in days.chunks(batch) {
        out.extend(holders_of_batch(index, part));
    }
    out
}

/// [`case_holders`] for one batch of days.
fn holders_of_batch(index: &Index, days: &[i32]) -> Vec<Vec<Holder>> {
    // workers in fixed runs, each run's holders gathered by day; then each day joins the runs
    // in order (so workers stay in index order)
    const WORKERS_PER_TASK: usize = 512;
    let workers = index.worker_ids.len();
    let width = days.len() + 1;
    let before = DaysBefore::new(days);
    // cases of worker w open on days[k] = the sum of diff[w * width ..= w * width + k]
    let diff: Vec<AtomicI32> = (0..workers * width).into_par_iter().map(|_| AtomicI32::new(0)).collect();
    let children = index.allocations.owners();
    (0..children.div_ceil(CHUNK)).into_par_iter().for_each(|b| {
        for c in b * CHUNK..children.min((b + 1) * CHUNK) {
            for_each_case(index.allocations.of(c), |worker, start, last| {
                let from = before.count(start);
                let to = last.and_then(|l| l.checked_add(1)).map_or(days.len(), |l| before.count(l));
                if from < to {
                    let row = worker as usize * width;
                    diff[row + from].fetch_add(1, Ordering::Relaxed);
                    diff[row + to].fetch_sub(1, Ordering::Relaxed);
                }
            });
        }
    });
    let runs: Vec<Vec<Vec<Holder>>> = (0..workers.div_ceil(WORKERS_PER_TASK))
        .into_par_iter()
        .map(|run| {
            let mut by_day: Vec<Vec<Holder>> = vec![Vec::new(); days.len()];
            for w in run * WORKERS_PER_TASK..workers.min((run + 1) * WORKERS_PER_TASK) {
                let mut open = 0;
                for (k, &day) in days.iter().enumerate() {
                    open += diff[w * width + k].load(Ordering::Relaxed);
                    if open > 0 {
                        if let Some(spell) = index.spell_in_post(w as u32, day) {
                            let holder =
                                Holder { worker: w as u32, site: spell.site, cases: open as u32, fte: spell.fte };
                            by_day[k].push(holder);
                        }
                    }
                }
            }
            by_day
        })
        .collect();
    (0..days.len())
        .into_par_iter()
        .map(|k| {
            let mut all = Vec::with_capacity(runs.iter().map(|r| r[k].len()).sum());
            for run in &runs {
                all.extend_from_slice(&run[k]);
            }
            all
        })
        .collect()
}

/// One child's cases: its allocations (sorted by start, handovers applied) to each worker,
/// overlapping or adjoining ones merged, as `f(worker, first day, last day or None while
/// open)`. Each worker's cases come in start order.
fn for_each_case(allocations: &[Allocation], mut f: impl FnMut(u32, i32, Option<i32>)) {
    for (i, a) in allocations.iter().enumerate() {
        // a worker's allocations are merged from their first one in this child
        if allocations[..i].iter().any(|b| b.worker == a.worker) {
            continue;
        }
        let (mut start, mut last) = (a.start, a.last);
        for b in allocations[i + 1..].iter().filter(|b| b.worker == a.worker) {
            if last.is_none_or(|l| b.start <= l + 1) {
                last = last.zip(b.last).map(|(x, y)| x.max(y));
            } else {
                f(a.worker, start, last);
                (start, last) = (b.start, b.last);
            }
        }
        f(a.worker, start, last);
    }
}

/// How many of a sorted list of days come before a day: a table over the days' span (two
/// look-ups per case instead of two binary searches; about 4 bytes a day, so a span of up to
/// 2^20 days), else a binary search.
struct DaysBefore<'a> {
    days: &'a [i32],
    /// `table[d - days[0]]`: how many days are before day `d`, for `d` in the span.
    table: Vec<u32>,
}

impl<'a> DaysBefore<'a> {
    fn new(days: &'a [i32]) -> Self {
        let table = match (days.first(), days.last()) {
            (Some(&lo), Some(&hi)) if i64::from(hi) - i64::from(lo) < 1 << 20 => {
                let mut table = Vec::with_capacity((hi - lo + 1) as usize);
                let mut k = 0;
                for d in lo..=hi {
                    while days[k] < d {
                        k += 1;
                    }
                    table.push(k as u32);
                }
                table
            }
            _ => Vec::new(),
        };
        DaysBefore { days, table }
    }

    /// How many of the days are before `day`.
    fn count(&self, day: i32) -> usize {
        if self.table.is_empty() {
            return self.days.partition_point(|&d| d < day);
        }
        match usize::try_from(i64::from(day) - i64::from(self.days[0])) {
            Err(_) => 0,
            Ok(k) => self.table.get(k).map_or(self.days.len(), |&n| n as usize),
        }
    }
}

/// The days caseloads are taken on for period `p`: its month ends, then P.to (when it is not
/// one).
pub fn caseload_days(p: Period) -> Vec<i32> {
    let mut days = month_ends(p);
    if days.last() != Some(&p.to) {
        days.push(p.to);
    }
    days
}

/// The last day of each calendar month inside the period.
pub fn month_ends(p: Period) -> Vec<i32> {
    let (mut y, mut m, _) = civil_from_days(p.from);
    let mut out = Vec::new();
    loop {
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let end = days_from_civil(ny, nm, 1) - 1;
        if end > p.to {
            return out;
        }
        if end >= p.from {
            out.push(end);
        }
        (y, m) = (ny, nm);
    }
}

/// The caseload metrics of every group for period `p`; `threshold` is the caseload above which
/// `share_caseload_over_20` counts a worker (20 by default).
pub fn caseload_rows(index: &Index, p: Period, threshold: usize) -> Vec<MetricRow> {
    let days = caseload_days(p);
    let holders = case_holders(index, &days);
    let on: Vec<&[Holder]> = holders.iter().map(Vec::as_slice).collect();
    caseload_rows_from(&index.groups, p, &on, threshold)
}

/// [`caseload_rows`] from the case holders on each of [`caseload_days`]`(p)`.
pub fn caseload_rows_from(groups: &SiteGroups, p: Period, holders: &[&[Holder]], threshold: usize) -> Vec<MetricRow> {
    let ends = month_ends(p);
    let n = groups.names.len();
    // per group: cases, holders, fte and holders over the threshold on P.to
    let mut at_end = vec![(0.0f64, 0.0f64, 0.0f64, 0.0f64); n];
    for h in *holders.last().expect("P.to is one of the days") {
        let g = &mut at_end[groups.group_of_site[h.site]];
        g.0 += f64::from(h.cases);
        g.1 += 1.0;
        g.2 += h.fte;
        g.3 += f64::from(u8::from(h.cases as usize > threshold));
    }
    // per group: the sum of the monthly mean caseloads and the month ends with case holders
    let mut means = vec![(0.0f64, 0.0f64); n];
    for list in &holders[..ends.len()] {
        let mut month = vec![(0.0f64, 0.0f64); n];
        for h in *list {
            let g = &mut month[groups.group_of_site[h.site]];
            g.0 += f64::from(h.cases);
            g.1 += 1.0;
        }
        for (m, (cases, holders)) in means.iter_mut().zip(month) {
            if holders > 0.0 {
                m.0 += cases / holders;
                m.1 += 1.0;
            }
        }
    }
    let mut rows = Vec::new();
    for (g, name) in groups.names.iter().enumerate() {
        let (cases, holders, fte, over) = at_end[g];
        rows.push(MetricRow::ratio(name, "caseload_per_fte", p, cases, fte));
        rows.push(MetricRow::ratio(name, "mean_caseload", p, means[g].0, means[g].1));
        rows.push(MetricRow::ratio(name, "share_caseload_over_20", p, over, holders));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Builder, SpellRecord};
    use crate::period::SiteGroups;
    use crate::test_support::d;
    use swp_data::date::format_date;

    fn spell(fte: f64, start: i32, end: Option<i32>) -> SpellRecord {
        SpellRecord { counted: true, fte, agency: false, start, end }
    }

    /// The generator's caseload effect (pilot workers hold 0.7 times the children from go-live)
    /// shows up in `caseload_per_fte` by arm.
    #[test]
    fn synthetic_caseload_effect_shows_in_caseload_per_fte() {
        let index = crate::test_support::synthetic_by_arm(13);
        let rows = caseload_rows(&index, Period::financial_year(2011), 20);
        let value =
            |g: &str| rows.iter().find(|r| r.group == g && r.metric == "caseload_per_fte").unwrap().value.unwrap();
        let ratio = value("pilot") / value("comparison");
        assert!((0.55..0.85).contains(&ratio), "caseload ratio {ratio} (true 0.7)");
    }

    /// Case holders equal docs/metrics.md's definition counted directly (distinct children with an
    /// allocation to the worker in force that day; workers in post that day, in index order),
    /// with the days in one batch and in batches of 1 and 3 days.
    #[test]
    fn case_holders_equal_distinct_children_in_force() {
        let index = crate::test_support::synthetic_by_arm(5);
        let days: Vec<i32> = (0..40).map(|k| d(2009, 1, 1) + 45 * k).collect();
        let workers = index.worker_ids.len();
        // (worker, child) pairs with an allocation in force, by day
        let mut pairs = vec![std::collections::BTreeSet::new(); days.len()];
        for c in 0..index.children() {
            for a in index.allocations.of(c) {
                for (k, &day) in days.iter().enumerate() {
                    if a.open_on(day) {
                        pairs[k].insert((a.worker, c));
                    }
                }
            }
        }
        let mut want: Vec<Vec<Holder>> = vec![Vec::new(); days.len()];
        for (k, &day) in days.iter().enumerate() {
            for w in 0..workers as u32 {
                let cases = pairs[k].range((w, 0)..(w + 1, 0)).count() as u32;
                if let (true, Some(spell)) = (cases > 0, index.spell_in_post(w, day)) {
                    want[k].push(Holder { worker: w, site: spell.site, cases, fte: spell.fte });
                }
            }
        }
        assert!(want.iter().map(Vec::len).sum::<usize>() > 100, "too few holders to test");
        assert!(want.iter().flatten().any(|h| h.cases > 1));
        assert_eq!(case_holders(&index, &days), want);
        for batch in [1, 3] {
            assert_eq!(holders_in_batches(&index, &days, workers * (batch + 1)), want, "batches of {batch}");
        }
    }

    /// The table counts the days before a day as a binary search does, inside the span, at its
    /// ends and outside it, with repeated days; an empty list and a span too wide for a table
    /// fall back to the search.
    #[test]
    fn days_before_equals_a_binary_search() {
        for days in [vec![10, 12, 12, 40, 41, 100], vec![5], vec![], vec![-3, 1 << 21]] {
            let before = DaysBefore::new(&days);
            for day in -10..150 {
                assert_eq!(before.count(day), days.partition_point(|&d| d < day), "{days:?} {day}");
            }
            for day in [i32::MIN, i32::MAX, 1 << 21, (1 << 21) + 1] {
                assert_eq!(before.count(day), days.partition_point(|&d| d < day), "{days:?} {day}");
            }
        }
    }

    #[test]
    fn month_ends_inside_a_period_include_a_leap_february() {
        let ends = month_ends(Period::financial_year(2011));
        assert_eq!(ends.len(), 12);
        assert_eq!(format_date(ends[0]), "2011-04-30");
        assert_eq!(format_date(ends[10]), "2012-02-29");
        assert_eq!(format_date(ends[11]), "2012-03-31");
        // a period ending mid-month has no month end for that month
        let p = Period { from: d(2011, 4, 15), to: d(2011, 6, 29) };
        assert_eq!(month_ends(p).iter().map(|&e| format_date(e)).collect::<Vec<_>>(), vec!["2011-04-30", "2011-05-31"]);
    }

    /// Worked by hand for the period 2012-01-01 .. 2012-03-31 (month ends 31 Jan, 29 Feb,
    /// 31 Mar), two sites in two groups:
    /// - worker X (site 0, 0.5 fte): children a, b all period; c until a handover to Y on
    ///   2012-02-29 (so on 29 Feb c is Y's, not X's); a second allocation of a to X (same child
    ///   twice counts once).
    /// - worker Y (site 0, 1.0 fte): c from 2012-02-29.
    /// - worker Z (site 1, 1.0 fte, an agency worker): 21 children all period.
    /// - worker Q holds d but has no spell in post: left out.
    #[test]
    fn caseload_metrics_by_hand() {
        let p = Period { from: d(2012, 1, 1), to: d(2012, 3, 31) };
        let groups = SiteGroups {
            site_ids: vec!["S0".into(), "S1".into()],
            names: vec!["S0".into(), "S1".into()],
            group_of_site: vec![0, 1],
        };
        let z: Vec<String> = (0..21).map(|k| format!("z{k}")).collect();
        let mut b = Builder::new(groups);
        b.allocation("S0", "a", "X", d(2011, 6, 1), None);
        b.allocation("S0", "b", "X", d(2011, 6, 1), None);
        b.allocation("S0", "c", "X", d(2011, 6, 1), Some(d(2012, 2, 29)));
        b.allocation("S0", "c", "Y", d(2012, 2, 29), None);
        b.allocation("S0", "d", "Q", d(2011, 6, 1), None);
        b.allocation("S0", "a", "X", d(2011, 7, 1), None); // overlaps: a still counts once for X
        for k in &z {
            b.allocation("S0", k, "Z", d(2011, 1, 1), None);
        }
        b.spell("X", "S0", spell(0.5, d(2010, 1, 1), None));
        b.spell("Y", "S0", spell(1.0, d(2010, 1, 1), None));
        b.spell("N", "S0", spell(1.0, d(2010, 1, 1), None)); // in post, no cases: not a case holder
        b.spell("Z", "S1", SpellRecord { agency: true, ..spell(1.0, d(2010, 1, 1), None) });
        let index = b.finish();
        let rows = caseload_rows(&index, p, 20);
        let get = |g: &str, m: &str| {
            let r = rows.iter().find(|r| r.group == g && r.metric == m).unwrap();
            (r.value, r.numerator, r.denominator)
        };
        // on 31 March: X holds a, b (2); Y holds c (1): 3 cases over 0.5 + 1.0 fte
        assert_eq!(get("S0", "caseload_per_fte"), (Some(2.0), Some(3.0), Some(1.5)));
        // month ends at S0: 31 Jan X 3 (a, b, c) -> mean 3; 29 Feb X 2, Y 1 -> 1.5;
        // 31 Mar X 2, Y 1 -> 1.5; mean of means = 6 / 3 = 2
        assert_eq!(get("S0", "mean_caseload"), (Some(2.0), Some(6.0), Some(3.0)));
        assert_eq!(get("S0", "share_caseload_over_20"), (Some(0.0), Some(0.0), Some(2.0)));
        // S1: the agency worker Z holds 21 > 20
        assert_eq!(get("S1", "caseload_per_fte"), (Some(21.0), Some(21.0), Some(1.0)));
        assert_eq!(get("S1", "share_caseload_over_20"), (Some(1.0), Some(1.0), Some(1.0)));
        // with the threshold at 21 nobody is over it
        let rows = caseload_rows(&index, p, 21);
        let r = rows.iter().find(|r| r.group == "S1" && r.metric == "share_caseload_over_20").unwrap();
        assert_eq!(r.value, Some(0.0));
    }
}
