//! Social-worker change metrics (docs/metrics.md, "Social-worker changes"):
//! `sw_changes_per_child_year`, `mean_distinct_workers`, `pct_3plus_workers`.
//!
//! Children counted: looked after on at least one day of P (short-break days count);
//! days(c) = days of P on which c is looked after. A change is an allocation starting inside P
//! to a worker other than the worker of the child's previous allocation (by start date); a
//! child's first allocation is not a change. An allocation overlaps P when it is in force on a
//! day of P (after a same-day handover the earlier allocation is not in force that day).

use crate::index::care_days;
use crate::index::{sum_over_children, Allocation, Index};
use crate::period::{MetricRow, Period};

/// A child's social-worker changes in `p` and the distinct workers allocated during `p`.
pub fn child_changes(allocations: &[Allocation], p: Period) -> (u32, u32) {
    let changes = allocations.windows(2).filter(|w| p.contains(w[1].start) && w[1].worker != w[0].worker).count();
    // distinct workers without allocating: a child rarely has many allocations in a period
    let mut seen = [0u32; 32];
    let mut distinct = 0usize;
    let mut overflow: Vec<u32> = Vec::new();
    for a in allocations.iter().filter(|a| a.start <= p.to && a.last.is_none_or(|l| l >= p.from && l >= a.start)) {
        if seen[..distinct.min(32)].contains(&a.worker) || overflow.contains(&a.worker) {
            continue;
        }
        if distinct < 32 {
            seen[distinct] = a.worker;
        } else {
            overflow.push(a.worker);
        }
        distinct += 1;
    }
    (changes as u32, distinct as u32)
}

/// Adds child `c`'s figures for period `p` (looked after `days` days of it) to a group's sums:
/// children, days, changes, distinct workers, children with 3 or more.
pub(crate) fn add_child(e: &mut [f64], index: &Index, c: usize, p: Period, days: i64) {
    if days == 0 {
        return;
    }
    let (changes, workers) = child_changes(index.allocations.of(c), p);
    e[0] += 1.0;
    e[1] += days as f64;
    e[2] += f64::from(changes);
    e[3] += f64::from(workers);
    e[4] += f64::from(u8::from(workers >= 3));
}

/// The rows of each group from its sums (see [`add_child`]).
pub(crate) fn rows_from<S: AsRef<[f64]>>(names: &[String], p: Period, sums: &[S]) -> Vec<MetricRow> {
    let mut rows = Vec::new();
    for (name, sum) in names.iter().zip(sums) {
        let sum = sum.as_ref();
        let children = sum[0];
        let days = sum[1];
        let changes = sum[2];
        let distinct = sum[3];
        let three_plus = sum[4];
        rows.push(MetricRow::ratio(name, "sw_changes_per_child_year", p, changes, days / 365.25));
        rows.push(MetricRow::ratio(name, "mean_distinct_workers", p, distinct, children));
        rows.push(MetricRow::ratio(name, "pct_3plus_workers", p, three_plus, children));
    }
    rows
}

/// The social-worker change metrics of every group for period `p`.
pub fn change_rows(index: &Index, p: Period) -> Vec<MetricRow> {
    let sums = sum_over_children::<5>(index, 1, |acc, c| {
        let days = care_days(index.episodes.of(c), p);
        add_child(&mut acc[index.group_of_child(c)], index, c, p, days);
    });
    rows_from(&index.groups.names, p, &sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{days_in, Builder};
    use crate::settings::PlacementCodes;
    use crate::test_support::d;

    fn codes() -> PlacementCodes {
        PlacementCodes::default()
    }

    /// The generator's effects on changes (reallocations x 0.6 and leaving x 0.6 at pilots from
    /// go-live) show up in `sw_changes_per_child_year` by arm.
    #[test]
    fn synthetic_change_effect_shows_in_sw_changes_per_child_year() {
        let index = crate::test_support::synthetic_by_arm(14);
        let rows = change_rows(&index, Period::financial_year(2011));
        let value = |g: &str| {
            rows.iter().find(|r| r.group == g && r.metric == "sw_changes_per_child_year").unwrap().value.unwrap()
        };
        let ratio = value("pilot") / value("comparison");
        assert!((0.4..0.8).contains(&ratio), "change ratio {ratio} (true about 0.6)");
    }

    #[test]
    fn days_in_counts_each_day_once_and_clips_to_the_period() {
        let p = Period { from: d(2012, 1, 1), to: d(2012, 3, 31) }; // 91 days (leap year)
        assert_eq!(days_in([(d(2011, 1, 1), None)], p), 91);
        // a handover day shared by two episodes counts once
        assert_eq!(days_in([(d(2011, 1, 1), Some(d(2012, 1, 10))), (d(2012, 1, 10), Some(d(2012, 1, 20)))], p), 20);
        // a gap: 1..5 Jan and 10..12 Feb
        assert_eq!(days_in([(d(2012, 1, 1), Some(d(2012, 1, 5))), (d(2012, 2, 10), Some(d(2012, 2, 12)))], p), 8);
        assert_eq!(days_in([(d(2012, 4, 1), None)], p), 0);
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
        let groups = crate::test_support::one_site();
        let mut b = Builder::new(groups);
        let ep =
            |b: &mut Builder, c: &'static str, start, end| b.episode("S", c, start, end, ("S", "C2", "U4"), &codes());
        ep(&mut b, "a", d(2010, 1, 1), None);
        ep(&mut b, "b", d(2012, 1, 1), Some(d(2012, 1, 30)));
        ep(&mut b, "c", d(2011, 1, 1), None);
        ep(&mut b, "d", d(2010, 1, 1), Some(d(2011, 6, 30)));
        b.allocation("S", "a", "W1", d(2011, 1, 1), Some(d(2012, 2, 1)));
        b.allocation("S", "a", "W2", d(2012, 2, 1), Some(d(2012, 3, 1)));
        b.allocation("S", "a", "W3", d(2012, 3, 1), None);
        b.allocation("S", "b", "W1", d(2012, 1, 1), Some(d(2012, 1, 15)));
        b.allocation("S", "b", "W1", d(2012, 1, 15), Some(d(2012, 1, 30)));
        b.allocation("S", "c", "W1", d(2011, 1, 1), Some(d(2012, 1, 1)));
        b.allocation("S", "c", "W2", d(2012, 1, 1), None);
        b.allocation("S", "d", "W1", d(2010, 1, 1), Some(d(2012, 2, 1)));
        b.allocation("S", "d", "W2", d(2012, 2, 1), None);
        let rows = change_rows(&b.finish(), p);
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
