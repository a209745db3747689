//! Every metric of docs/metrics.md for a set of periods and a grouping, and small-number
//! suppression.

use crate::caseload::{case_holders, caseload_days, caseload_rows_from, Holder};
use crate::index::care_days;
use crate::index::{add_slots, fold_children, Index};
use crate::period::{GroupBy, MetricRow, Period, SiteGroups};
use crate::placements::{child_placements_with_days, PeriodDates};
use crate::settings::PlacementCodes;
use crate::workforce::workforce_rows;
use rayon::prelude::*;
use swp_data::Dataset;

/// Every metric of docs/metrics.md by name, in its order (the cost metrics last).
pub const METRICS: [&str; 23] = [
    "fte_in_post",
    "turnover_rate",
    "stability_index",
    "recruitment_rate",
    "agency_rate",
    "sickness_absence_rate",
    "median_service_years",
    "caseload_per_fte",
    "mean_caseload",
    "share_caseload_over_20",
    "sw_changes_per_child_year",
    "mean_distinct_workers",
    "pct_3plus_workers",
    "visits_per_child_month",
    "share_visits_seen_alone",
    "contact_minutes_per_child_month",
    "pct_3plus_placements",
    "long_term_stability",
    "placement_moves_per_child_year",
    "cost_per_child_year",
    "staff_cost_per_fte",
    "agency_cost_share",
    "outcome_payment_share",
];

/// The metrics whose value is a share in [0, 1] (compared in percentage points); the others are
/// rates, means or counts.
pub const SHARE_METRICS: [&str; 10] = [
    "stability_index",
    "agency_rate",
    "sickness_absence_rate",
    "share_caseload_over_20",
    "pct_3plus_workers",
    "share_visits_seen_alone",
    "pct_3plus_placements",
    "long_term_stability",
    "agency_cost_share",
    "outcome_payment_share",
];

/// Settings of a metrics run, unchecked; [`MetricsParams::check`] validates them into
/// [`ValidMetricsParams`], which indexes a dataset.
#[derive(Debug, Clone)]
pub struct MetricsParams {
    /// Grouping (default total).
    pub by: GroupBy,
    /// Caseload above which `share_caseload_over_20` counts a worker (default 20).
    pub caseload_threshold: usize,
    /// The placement code sets (default docs/metrics.md's).
    pub codes: PlacementCodes,
}

impl Default for MetricsParams {
    fn default() -> Self {
        MetricsParams { by: GroupBy::Total, caseload_threshold: 20, codes: PlacementCodes::default() }
    }
}

/// What is wrong with metrics settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// A code set holds a code its 903 list does not have (a misspelt code would silently
    /// change a metric).
    #[error("the placement setting `{setting}` holds `{code}`, which is not a {list} code; use codes from the 903 guidance ({allowed})")]
    UnknownCode {
        /// The setting (`new_carer_rne`, `temporary_places`, `short_break_ls`, `adoption_places`).
        setting: &'static str,
        /// The code.
        code: String,
        /// The code list's name.
        list: &'static str,
        /// The codes allowed.
        allowed: String,
    },
    /// No RNE code starts a placement, so every placement metric would be empty.
    #[error("the placement setting `new_carer_rne` is empty: no episode would start a placement; give at least one of S, P, B")]
    NoNewCarerCode,
}

/// Checked metrics settings.
#[derive(Debug, Clone)]
pub struct ValidMetricsParams(MetricsParams);

impl std::ops::Deref for ValidMetricsParams {
    type Target = MetricsParams;
    fn deref(&self) -> &MetricsParams {
        &self.0
    }
}

impl MetricsParams {
    /// Checks the code sets against their 903 code lists, once, before any dataset is indexed.
    ///
    /// # Errors
    /// [`MetricsError::UnknownCode`] naming the setting and code; [`MetricsError::NoNewCarerCode`].
    pub fn check(self) -> Result<ValidMetricsParams, MetricsError> {
        use swp_data::codes::{CodeList, LEGAL_STATUS, PLACE, RNE};
        let sets: [(&'static str, &[String], CodeList); 4] = [
            ("new_carer_rne", &self.codes.new_carer_rne, RNE),
            ("temporary_places", &self.codes.temporary_places, PLACE),
            ("short_break_ls", &self.codes.short_break_ls, LEGAL_STATUS),
            ("adoption_places", &self.codes.adoption_places, PLACE),
        ];
        for (setting, codes, list) in sets {
            if let Some(code) = codes.iter().find(|c| !list.contains(c)) {
                return Err(MetricsError::UnknownCode {
                    setting,
                    code: code.clone(),
                    list: list.name,
                    allowed: list.describe(),
                });
            }
        }
        if self.codes.new_carer_rne.is_empty() {
            return Err(MetricsError::NoNewCarerCode);
        }
        Ok(ValidMetricsParams(self))
    }
}

impl ValidMetricsParams {
    /// docs/metrics.md's settings (the default code sets and threshold) grouped `by`: valid as
    /// written (test `the_default_settings_are_valid`).
    pub fn defaults(by: GroupBy) -> Self {
        ValidMetricsParams(MetricsParams { by, ..MetricsParams::default() })
    }

    /// The index of `dataset` under these settings' grouping and code sets.
    pub fn index(&self, dataset: &Dataset) -> Index {
        Index::new(dataset, SiteGroups::new(dataset, self.by), &self.codes)
    }
}

/// Every metric for every period, in period order, then group order, then docs/metrics.md order.
pub fn all_metrics(dataset: &Dataset, periods: &[Period], params: &ValidMetricsParams) -> Vec<MetricRow> {
    metrics_of(&params.index(dataset), periods, params.caseload_threshold)
}

/// [`all_metrics`] over an index already built. The child-level families (social-worker
/// changes, contacts, placements) share one pass over the children for all periods, each
/// child's rows read once; the sums equal those of the per-family functions.
pub fn metrics_of(index: &Index, periods: &[Period], caseload_threshold: usize) -> Vec<MetricRow> {
    // caseloads on every period's days in one pass over the allocations
    let mut days: Vec<i32> = periods.iter().flat_map(|&p| caseload_days(p)).collect();
    days.sort_unstable();
    days.dedup();
    let holders = case_holders(index, &days);
    // changes 0..5, contacts 5..9, placements 9..15, per (period, group)
    let groups = index.groups.names.len();
    let dates: Vec<PeriodDates> = periods.iter().map(|&p| PeriodDates::new(p)).collect();
    // with costs, care days per (period, site) for the child-years, from the same care days
    let sites = if index.costs.is_some() { index.groups.site_ids.len() } else { 0 };
    let slots = groups * periods.len();
    let (sums, care_by_site) = fold_children(
        index,
        || (vec![[0.0; 15]; slots], vec![0i64; sites * periods.len()]),
        |(acc, care_by_site), c| {
            let episodes = index.episodes.of(c);
            let g = index.group_of_child(c);
            // the days the child's episodes span: a period outside them has no care day, so the
            // child adds nothing to it (every family skips a child with no care day)
            let Some(first) = episodes.iter().map(|e| e.start).min() else { return };
            let last = episodes.iter().try_fold(i32::MIN, |last, e| e.end.map(|end| last.max(end)));
            for (k, d) in dates.iter().enumerate() {
                if d.p.to < first || last.is_some_and(|last| last < d.p.from) {
                    continue;
                }
                let e = &mut acc[k * groups + g];
                let care = care_days(episodes, d.p);
                if sites > 0 {
                    care_by_site[k * sites + index.child_site[c] as usize] += care;
                }
                crate::changes::add_child(&mut e[0..5], index, c, d.p, care);
                if let Some(contacts) = &index.contacts {
                    crate::contacts::add_child(&mut e[5..9], index, contacts, c, d.p, care);
                }
                // a child not looked after in the period adds nothing to any sum (no placement is
                // in force on its last day, no move falls in it): skipped, the sums are unchanged
                if care > 0 {
                    let f = child_placements_with_days(episodes, index.child_dob[c], d, care);
                    crate::placements::add_child(&mut e[9..15], &f);
                }
            }
        },
        |(total, total_care), (part, part_care)| {
            add_slots(total, &part);
            crate::costs::add_days(total_care, part_care);
        },
    );
    let child_years = crate::costs::child_years_of_days(&care_by_site, sites, periods.len());
    let position: std::collections::HashMap<&str, usize> =
        index.groups.names.iter().enumerate().map(|(k, name)| (name.as_str(), k)).collect();
    // each period's rows are independent: built side by side, joined in period order
    let per_period: Vec<Vec<MetricRow>> = periods
        .par_iter()
        .enumerate()
        .map(|(k, &p)| {
            let part = &sums[k * groups..(k + 1) * groups];
            let pick = |from: usize, to: usize| -> Vec<&[f64]> { part.iter().map(|e| &e[from..to]).collect() };
            let mut period_rows = workforce_rows(index, p);
            let on: Vec<&[Holder]> = caseload_days(p)
                .iter()
                .map(|d| holders[days.binary_search(d).expect("a day of the union")].as_slice())
                .collect();
            period_rows.extend(caseload_rows_from(&index.groups, p, &on, caseload_threshold));
            period_rows.extend(crate::changes::rows_from(&index.groups.names, p, &pick(0, 5)));
            if index.contacts.is_some() {
                period_rows.extend(crate::contacts::rows_from(&index.groups.names, p, &pick(5, 9)));
            }
            period_rows.extend(crate::placements::rows_from(&index.groups.names, p, &pick(9, 15)));
            if index.costs.is_some() {
                period_rows.extend(crate::costs::cost_rows_with(index, p, &child_years[k]));
            }
            // outside a table's coverage a metric reading it is null, never 0
            index.coverage.apply(&mut period_rows, &index.groups, p);
            // the groups' rows in group order, keeping docs/metrics.md order within a group (a
            // stable sort)
            period_rows.retain(|r| position.contains_key(r.group.as_str()));
            period_rows.sort_by_cached_key(|r| position[r.group.as_str()]);
            period_rows
        })
        .collect();
    per_period.into_iter().flatten().collect()
}

/// Whether a metric's numerator and denominator are counts of people or events (the parts
/// small-number suppression looks at); sums of fte, days, minutes and means are not.
pub fn counted_parts(metric: &str) -> (bool, bool) {
    match metric {
        "stability_index"
        | "share_caseload_over_20"
        | "pct_3plus_workers"
        | "share_visits_seen_alone"
        | "pct_3plus_placements"
        | "long_term_stability"
        | "median_service_years"
        | "mean_distinct_workers"
        | "caseload" => (true, true),
        "caseload_per_fte"
        | "sw_changes_per_child_year"
        | "visits_per_child_month"
        | "placement_moves_per_child_year" => (true, false),
        _ => (false, false),
    }
}

/// A row after small-number suppression.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedRow {
    /// The row (value, numerator and denominator None when suppressed).
    pub row: MetricRow,
    /// Whether the figure was suppressed.
    pub suppressed: bool,
}

/// The small-number rule (docs/metrics.md "Small numbers"), the one place it is written: a
/// count from 1 to `threshold - 1` is not published. `threshold` 0 or 1 hides nothing, and 0
/// itself is never small.
pub fn is_small(count: f64, threshold: u32) -> bool {
    count >= 1.0 && count < f64::from(threshold)
}

/// Suppresses every figure whose counted numerator or denominator is between 1 and
/// `threshold - 1` ([`is_small`]).
pub fn suppress(rows: Vec<MetricRow>, threshold: u32) -> Vec<PublishedRow> {
    let small = |x: Option<f64>| x.is_some_and(|x| is_small(x, threshold));
    rows.into_iter()
        .map(|mut row| {
            let (num, den) = counted_parts(row.metric);
            let suppressed = (num && small(row.numerator)) || (den && small(row.denominator));
            if suppressed {
                row.value = None;
                row.numerator = None;
                row.denominator = None;
            }
            PublishedRow { row, suppressed }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_settings_are_valid() {
        assert!(MetricsParams::default().check().is_ok());
    }

    #[test]
    fn a_misspelt_code_or_no_new_carer_code_is_refused() {
        let mut params = MetricsParams::default();
        params.codes.temporary_places.push("T5".into());
        match params.check() {
            Err(MetricsError::UnknownCode { setting, code, .. }) => {
                assert_eq!((setting, code.as_str()), ("temporary_places", "T5"))
            }
            other => panic!("{other:?}"),
        }
        let mut params = MetricsParams::default();
        params.codes.short_break_ls = vec!["v3".into()];
        assert!(matches!(params.check(), Err(MetricsError::UnknownCode { setting: "short_break_ls", .. })));
        let mut params = MetricsParams::default();
        params.codes.new_carer_rne.clear();
        assert_eq!(params.check().unwrap_err(), MetricsError::NoNewCarerCode);
    }

    fn row(metric: &'static str, num: f64, den: f64) -> MetricRow {
        MetricRow::ratio("g", metric, Period::financial_year(2011), num, den)
    }

    #[test]
    fn small_counts_are_suppressed_and_non_counts_are_not() {
        let out = suppress(
            vec![
                row("stability_index", 3.0, 10.0), // numerator 3 < 5
                row("stability_index", 0.0, 10.0), // 0 is not a small number
                row("pct_3plus_placements", 6.0, 9.0),
                row("turnover_rate", 1.5, 2.0),    // fte: not counts
                row("caseload_per_fte", 4.0, 2.5), // 4 cases
            ],
            5,
        );
        let flags: Vec<bool> = out.iter().map(|r| r.suppressed).collect();
        assert_eq!(flags, vec![true, false, false, false, true]);
        assert_eq!(out[0].row.value, None);
        assert_eq!(out[0].row.numerator, None);
        assert_eq!(out[2].row.value, Some(6.0 / 9.0));
        assert!(suppress(vec![row("stability_index", 3.0, 10.0)], 0).iter().all(|r| !r.suppressed));
    }

    /// Over random periods and groupings of a synthetic dataset: every ratio metric's value is
    /// its numerator over its denominator (null exactly when the denominator is 0), shares are in
    /// [0, 1], and nothing is negative or non-finite.
    #[test]
    fn every_metric_is_its_ratio_and_bounded_over_random_periods() {
        let index = crate::test_support::synthetic_by_arm(33);
        let mut state: u64 = 99;
        let mut next = |n: i32| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as i32 % n
        };
        for _ in 0..25 {
            let from = 13_500 + next(2_500);
            let p = Period { from, to: from + next(800) };
            // median_service_years carries (observed ends, spells), not a ratio
            for r in metrics_of(&index, &[p], 20).into_iter().filter(|r| r.metric != "median_service_years") {
                if let (Some(n), Some(d)) = (r.numerator, r.denominator) {
                    assert!(n >= 0.0 && d >= 0.0 && n.is_finite() && d.is_finite(), "{r:?}");
                    match r.value {
                        Some(v) => assert!((v - n / d).abs() <= 1e-12 * v.abs().max(1.0), "{r:?}"),
                        None => assert_eq!(d, 0.0, "{r:?}"),
                    }
                }
                if let Some(v) = r.value {
                    assert!(v.is_finite() && v >= 0.0, "{r:?}");
                    if SHARE_METRICS.contains(&r.metric) {
                        assert!(v <= 1.0 + 1e-12, "{r:?}");
                    }
                }
            }
        }
    }

    /// The fused pass of `metrics_of` gives exactly the per-family functions' rows.
    #[test]
    fn the_fused_pass_equals_the_families() {
        let index = crate::test_support::synthetic_by_arm(21);
        let periods = [Period::financial_year(2010), Period { from: 14_700, to: 15_100 }];
        let fused = metrics_of(&index, &periods, 20);
        let mut separate = Vec::new();
        for &p in &periods {
            let mut rows = crate::workforce::workforce_rows(&index, p);
            rows.extend(crate::caseload::caseload_rows(&index, p, 20));
            rows.extend(crate::changes::change_rows(&index, p));
            rows.extend(crate::contacts::contact_rows(&index, p));
            rows.extend(crate::placements::placement_rows(&index, p));
            rows.extend(crate::costs::cost_rows(&index, p));
            for name in &index.groups.names {
                separate.extend(rows.iter().filter(|r| &r.group == name).cloned());
            }
        }
        assert_eq!(fused.len(), separate.len());
        assert_eq!(fused, separate);
    }
}
