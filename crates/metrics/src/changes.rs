//! Social-worker change metrics (METRICS.md, "Social-worker changes"):
//! `sw_changes_per_child_year`, `mean_distinct_workers`, `pct_3plus_workers`.
//!
//! Children counted: looked after on at least one day of P (short-break days count);
//! days(c) = days of P on which c is looked after. A change is an allocation starting inside P
//! to a worker other than the worker of the child's previous allocation (by start date); a
//! child's first allocation is not a change. An allocation overlaps P when it is in force on a
//! day of P (after a same-day handover the earlier allocation is not in force that day).

use crate::caseload::Allocation;
use crate::period::{MetricRow, Period, SiteGroups};
use std::collections::{BTreeMap, BTreeSet};
use swp_data::validate::{date_column, text_column};
use swp_data::Dataset;

/// A child: (site_id, child_id).
pub type ChildKey = (String, String);

/// Each child's episodes as (start, end) days (None: open), sorted.
pub fn care_spans(dataset: &Dataset) -> CareSpans {
    let e = &dataset.episodes.frame;
    let children = text_column(e, "child_id");
    let sites = text_column(e, "site_id");
    let starts = date_column(e, "decom");
    let ends = date_column(e, "dec");
    let mut spans: BTreeMap<ChildKey, Vec<(i32, Option<i32>)>> = BTreeMap::new();
    for row in 0..e.height() {
        let (Some(child), Some(site), Some(start)) = (children[row], sites[row], starts[row]) else { continue };
        spans.entry((site.to_string(), child.to_string())).or_default().push((start, ends[row]));
    }
    for v in spans.values_mut() {
        v.sort();
    }
    spans
}

/// Days of `p` covered by the spans (each day once).
pub fn days_in(spans: &[(i32, Option<i32>)], p: Period) -> i64 {
    let mut days = 0i64;
    let mut covered_to = p.from - 1;
    for &(start, end) in spans {
        let a = start.max(covered_to + 1);
        let b = end.unwrap_or(p.to).min(p.to);
        if b >= a {
            days += i64::from(b - a + 1);
            covered_to = b;
        }
    }
    days
}

/// One episode's span: (start, end; None: open).
pub type Span = (i32, Option<i32>);

/// Care spans of each child: (site_id, child_id) -> episodes as spans.
pub type CareSpans = BTreeMap<ChildKey, Vec<Span>>;

/// A counted child: key, spans, days(c) in the period, group index.
pub type Counted<'a> = (&'a ChildKey, &'a [Span], i64, usize);

/// The children counted in period `p` (looked after on at least one day of it), with their
/// spans, days(c) and group index. Shared by the change and contact metrics.
pub fn counted_children<'a>(
    spans: &'a CareSpans,
    groups: &'a SiteGroups,
    p: Period,
) -> impl Iterator<Item = Counted<'a>> + 'a {
    spans.iter().filter_map(move |(child, child_spans)| {
        let days = days_in(child_spans, p);
        let site = groups.site_index(&child.0)?;
        (days > 0).then(|| (child, child_spans.as_slice(), days, groups.group_of_site[site]))
    })
}

/// The social-worker change metrics of every group for period `p`.
pub fn change_rows(spans: &CareSpans, allocations: &[Allocation], groups: &SiteGroups, p: Period) -> Vec<MetricRow> {
    // allocations per child, in start order (as `apply_handovers` leaves them)
    let mut by_child: BTreeMap<&ChildKey, Vec<&Allocation>> = BTreeMap::new();
    for a in allocations {
        by_child.entry(&a.child).or_default().push(a);
    }
    // per group: (children, days, changes, distinct-worker total, children with 3+)
    let mut acc = vec![(0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64); groups.names.len()];
    for (child, _, days, g) in counted_children(spans, groups, p) {
        let allocs = by_child.get(child).map(Vec::as_slice).unwrap_or(&[]);
        let changes = allocs.windows(2).filter(|w| p.contains(w[1].start) && w[1].worker != w[0].worker).count();
        let workers: BTreeSet<&str> = allocs
            .iter()
            .filter(|a| a.start <= p.to && a.last.is_none_or(|l| l >= p.from && l >= a.start))
            .map(|a| a.worker.as_str())
            .collect();
        let e = &mut acc[g];
        e.0 += 1.0;
        e.1 += days as f64;
        e.2 += changes as f64;
        e.3 += workers.len() as f64;
        e.4 += f64::from(u8::from(workers.len() >= 3));
    }
    let mut rows = Vec::new();
    for (g, name) in groups.names.iter().enumerate() {
        let (children, days, changes, distinct, three_plus) = acc[g];
        rows.push(MetricRow::ratio(name, "sw_changes_per_child_year", p, changes, days / 365.25));
        rows.push(MetricRow::ratio(name, "mean_distinct_workers", p, distinct, children));
        rows.push(MetricRow::ratio(name, "pct_3plus_workers", p, three_plus, children));
    }
    rows
}

/// Convenience: the social-worker change metrics of `dataset` for period `p`.
pub fn changes(dataset: &Dataset, groups: &SiteGroups, p: Period) -> Vec<MetricRow> {
    change_rows(&care_spans(dataset), &crate::caseload::allocations_of(dataset), groups, p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caseload::apply_handovers;
    use swp_data::typed::days_from_civil;

    fn d(y: i32, m: u32, day: u32) -> i32 {
        days_from_civil(y, m, day)
    }

    fn key(c: &str) -> ChildKey {
        ("S".to_string(), c.to_string())
    }

    fn alloc(child: &str, worker: &str, start: i32, end: Option<i32>) -> Allocation {
        Allocation { child: key(child), worker: worker.into(), start, last: end }
    }

    /// The generator's effects on changes (reallocations x 0.6 and leaving x 0.6 at pilots from
    /// go-live) show up in `sw_changes_per_child_year` by arm.
    #[test]
    fn synthetic_change_effect_shows_in_sw_changes_per_child_year() {
        let (dataset, groups) = crate::test_support::synthetic_by_arm(14);
        let rows = changes(&dataset, &groups, Period::financial_year(2011));
        let value = |g: &str| {
            rows.iter().find(|r| r.group == g && r.metric == "sw_changes_per_child_year").unwrap().value.unwrap()
        };
        let ratio = value("pilot") / value("comparison");
        assert!((0.4..0.8).contains(&ratio), "change ratio {ratio} (true about 0.6)");
    }

    #[test]
    fn days_in_counts_each_day_once_and_clips_to_the_period() {
        let p = Period { from: d(2012, 1, 1), to: d(2012, 3, 31) }; // 91 days (leap year)
        assert_eq!(days_in(&[(d(2011, 1, 1), None)], p), 91);
        // a handover day shared by two episodes counts once
        assert_eq!(days_in(&[(d(2011, 1, 1), Some(d(2012, 1, 10))), (d(2012, 1, 10), Some(d(2012, 1, 20)))], p), 20);
        // a gap: 1..5 Jan and 10..12 Feb
        assert_eq!(days_in(&[(d(2012, 1, 1), Some(d(2012, 1, 5))), (d(2012, 2, 10), Some(d(2012, 2, 12)))], p), 8);
        assert_eq!(days_in(&[(d(2012, 4, 1), None)], p), 0);
    }

    /// Worked by hand for 2012-01-01 .. 2012-03-31 (91 days), one site:
    /// - a: in care all period; allocations W1 (from 2011) -> W2 on 2012-02-01 -> W3 on
    ///   2012-03-01: 2 changes, 3 distinct workers.
    /// - b: in care 2012-01-01 .. 2012-01-30 (30 days); first allocation ever to W1 on
    ///   2012-01-01 (not a change), then W1 again on 2012-01-15 (same worker: not a change).
    /// - c: in care all period; W1 handed over to W2 on 2012-01-01 (= P.from): one change;
    ///   W1 is not in force on P.from, so c had 1 distinct worker in P.
    /// - d: left care before P: not counted, its change in P is ignored.
    #[test]
    fn change_metrics_by_hand() {
        let p = Period { from: d(2012, 1, 1), to: d(2012, 3, 31) };
        let groups = SiteGroups { site_ids: vec!["S".into()], names: vec!["S".into()], group_of_site: vec![0] };
        let mut spans = BTreeMap::new();
        spans.insert(key("a"), vec![(d(2010, 1, 1), None)]);
        spans.insert(key("b"), vec![(d(2012, 1, 1), Some(d(2012, 1, 30)))]);
        spans.insert(key("c"), vec![(d(2011, 1, 1), None)]);
        spans.insert(key("d"), vec![(d(2010, 1, 1), Some(d(2011, 6, 30)))]);
        let allocations = apply_handovers(vec![
            alloc("a", "W1", d(2011, 1, 1), Some(d(2012, 2, 1))),
            alloc("a", "W2", d(2012, 2, 1), Some(d(2012, 3, 1))),
            alloc("a", "W3", d(2012, 3, 1), None),
            alloc("b", "W1", d(2012, 1, 1), Some(d(2012, 1, 15))),
            alloc("b", "W1", d(2012, 1, 15), Some(d(2012, 1, 30))),
            alloc("c", "W1", d(2011, 1, 1), Some(d(2012, 1, 1))),
            alloc("c", "W2", d(2012, 1, 1), None),
            alloc("d", "W1", d(2010, 1, 1), Some(d(2012, 2, 1))),
            alloc("d", "W2", d(2012, 2, 1), None),
        ]);
        let rows = change_rows(&spans, &allocations, &groups, p);
        let get = |m: &str| {
            let r = rows.iter().find(|r| r.metric == m).unwrap();
            (r.value, r.numerator, r.denominator)
        };
        // changes 2 (a) + 0 (b) + 1 (c) = 3; days 91 + 30 + 91 = 212
        let (v, n, dnm) = get("sw_changes_per_child_year");
        assert_eq!(n, Some(3.0));
        assert!((dnm.unwrap() - 212.0 / 365.25).abs() < 1e-12);
        assert!((v.unwrap() - 3.0 / (212.0 / 365.25)).abs() < 1e-12);
        // distinct workers: a 3, b 1, c 1 -> mean 5/3; 3+: a only -> 1/3
        assert_eq!(get("mean_distinct_workers"), (Some(5.0 / 3.0), Some(5.0), Some(3.0)));
        assert_eq!(get("pct_3plus_workers"), (Some(1.0 / 3.0), Some(1.0), Some(3.0)));
    }
}
