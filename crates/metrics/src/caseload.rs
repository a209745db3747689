//! Caseload metrics (METRICS.md, "Caseloads"): `caseload_per_fte`, `mean_caseload`,
//! `share_caseload_over_20`.
//!
//! caseload(w, d) = distinct children with an allocation to worker w open on d. Every worker
//! holding a case counts (agency included), at the site of the worker's spell in post that day.
//! On a same-day handover the later-starting allocation is the one in force (as for episodes).

use crate::period::{MetricRow, Period, SiteGroups};
use crate::workforce::Spell;
use std::collections::{BTreeMap, BTreeSet};
use swp_data::typed::{civil_from_days, days_from_civil};
use swp_data::validate::{date_column, text_column};
use swp_data::Dataset;

/// One allocation, with the last day it is in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// The child: (site_id, child_id).
    pub child: (String, String),
    /// worker_id
    pub worker: String,
    /// First day.
    pub start: i32,
    /// Last day in force (None: open); a day earlier than end_date when the child's next
    /// allocation starts on end_date.
    pub last: Option<i32>,
}

impl Allocation {
    fn open_on(&self, day: i32) -> bool {
        self.start <= day && self.last.is_none_or(|l| day <= l)
    }
}

/// The dataset's allocations with handovers applied (rows missing a key are skipped).
pub fn allocations_of(dataset: &Dataset) -> Vec<Allocation> {
    let a = &dataset.allocations.frame;
    let children = text_column(a, "child_id");
    let sites = text_column(a, "site_id");
    let workers = text_column(a, "worker_id");
    let starts = date_column(a, "start_date");
    let ends = date_column(a, "end_date");
    let mut rows = Vec::with_capacity(a.height());
    for row in 0..a.height() {
        let (Some(child), Some(worker), Some(start)) = (children[row], workers[row], starts[row]) else { continue };
        rows.push(Allocation {
            child: (sites[row].unwrap_or_default().to_string(), child.to_string()),
            worker: worker.to_string(),
            start,
            last: ends[row],
        });
    }
    apply_handovers(rows)
}

/// Sets each allocation's last day in force: a day before its end when the same child's next
/// allocation starts on that end date.
pub fn apply_handovers(mut allocations: Vec<Allocation>) -> Vec<Allocation> {
    allocations.sort_by(|a, b| (&a.child, a.start).cmp(&(&b.child, b.start)));
    for i in 0..allocations.len() {
        let next_start = allocations.get(i + 1).filter(|n| n.child == allocations[i].child).map(|n| n.start);
        if let (Some(end), Some(next)) = (allocations[i].last, next_start) {
            if next == end {
                allocations[i].last = Some(end - 1);
            }
        }
    }
    allocations
}

/// Convenience: the caseload metrics of `dataset` for period `p` under `groups`.
pub fn caseloads(dataset: &Dataset, groups: &SiteGroups, p: Period, threshold: usize) -> Vec<MetricRow> {
    let (spells, _) = crate::workforce::spells_of(dataset, groups);
    caseload_rows(&allocations_of(dataset), &spells, groups, p, threshold)
}

/// Caseloads on `day`: per worker, (site index of the worker's spell in post, caseload, fte).
/// Workers with no spell in post that day are left out (their site is unknown).
pub fn caseloads_on(allocations: &[Allocation], spells: &[Spell], day: i32) -> Vec<(usize, usize, f64)> {
    let mut children: BTreeMap<&str, BTreeSet<&(String, String)>> = BTreeMap::new();
    for a in allocations.iter().filter(|a| a.open_on(day)) {
        children.entry(a.worker.as_str()).or_default().insert(&a.child);
    }
    let mut in_post: BTreeMap<&str, &Spell> = BTreeMap::new();
    for s in spells.iter().filter(|s| s.start <= day && s.end.is_none_or(|e| day <= e)) {
        in_post.entry(s.worker.as_str()).or_insert(s);
    }
    children
        .into_iter()
        .filter_map(|(worker, kids)| {
            let spell = in_post.get(worker)?;
            Some((spell.site, kids.len(), spell.fte))
        })
        .collect()
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
pub fn caseload_rows(
    allocations: &[Allocation],
    spells: &[Spell],
    groups: &SiteGroups,
    p: Period,
    threshold: usize,
) -> Vec<MetricRow> {
    let at_end = caseloads_on(allocations, spells, p.to);
    let monthly: Vec<Vec<(usize, usize, f64)>> =
        month_ends(p).into_iter().map(|d| caseloads_on(allocations, spells, d)).collect();
    let mut rows = Vec::new();
    for (g, name) in groups.names.iter().enumerate() {
        let mine = |list: &[(usize, usize, f64)]| -> Vec<(usize, f64)> {
            list.iter().filter(|(site, _, _)| groups.group_of_site[*site] == g).map(|&(_, n, fte)| (n, fte)).collect()
        };
        let holders = mine(&at_end);
        let cases: f64 = holders.iter().map(|(n, _)| *n as f64).sum();
        let fte: f64 = holders.iter().map(|(_, f)| *f).sum();
        rows.push(MetricRow::ratio(name, "caseload_per_fte", p, cases, fte));

        let means: Vec<f64> = monthly
            .iter()
            .map(|list| mine(list))
            .filter(|h| !h.is_empty())
            .map(|h| h.iter().map(|(n, _)| *n as f64).sum::<f64>() / h.len() as f64)
            .collect();
        rows.push(MetricRow::ratio(name, "mean_caseload", p, means.iter().sum(), means.len() as f64));

        let over = holders.iter().filter(|(n, _)| *n > threshold).count() as f64;
        rows.push(MetricRow::ratio(name, "share_caseload_over_20", p, over, holders.len() as f64));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use swp_data::typed::format_date;

    fn d(y: i32, m: u32, day: u32) -> i32 {
        days_from_civil(y, m, day)
    }

    fn alloc(child: &str, worker: &str, start: i32, end: Option<i32>) -> Allocation {
        Allocation { child: ("S".into(), child.into()), worker: worker.into(), start, last: end }
    }

    fn spell(worker: &str, site: usize, fte: f64, start: i32, end: Option<i32>) -> Spell {
        Spell { worker: worker.into(), site, counted: true, fte, agency: false, start, end }
    }

    /// The generator's caseload effect (pilot workers hold 0.7 times the children from go-live)
    /// shows up in `caseload_per_fte` by arm.
    #[test]
    fn synthetic_caseload_effect_shows_in_caseload_per_fte() {
        let (dataset, groups) = crate::test_support::synthetic_by_arm(13);
        let rows = caseloads(&dataset, &groups, Period::financial_year(2011), 20);
        let value =
            |g: &str| rows.iter().find(|r| r.group == g && r.metric == "caseload_per_fte").unwrap().value.unwrap();
        let ratio = value("pilot") / value("comparison");
        assert!((0.55..0.85).contains(&ratio), "caseload ratio {ratio} (true 0.7)");
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
        let mut allocations = vec![
            alloc("a", "X", d(2011, 6, 1), None),
            alloc("b", "X", d(2011, 6, 1), None),
            alloc("c", "X", d(2011, 6, 1), Some(d(2012, 2, 29))),
            alloc("c", "Y", d(2012, 2, 29), None),
            alloc("d", "Q", d(2011, 6, 1), None),
            alloc("a", "X", d(2011, 7, 1), None),
        ];
        for k in 0..21 {
            allocations.push(alloc(&format!("z{k}"), "Z", d(2011, 1, 1), None));
        }
        let allocations = apply_handovers(allocations);
        let mut spells = vec![
            spell("X", 0, 0.5, d(2010, 1, 1), None),
            spell("Y", 0, 1.0, d(2010, 1, 1), None),
            spell("Z", 1, 1.0, d(2010, 1, 1), None),
        ];
        spells[2].agency = true;
        let rows = caseload_rows(&allocations, &spells, &groups, p, 20);
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
        let rows = caseload_rows(&allocations, &spells, &groups, p, 21);
        let r = rows.iter().find(|r| r.group == "S1" && r.metric == "share_caseload_over_20").unwrap();
        assert_eq!(r.value, Some(0.0));
    }
}
