//! What anonymisation did to the analysis: every docs/metrics.md metric by site, and the
//! evaluation's balance table, computed on a dataset and on its anonymised copy.
//!
//! `swp-eval anonymise` writes this as `utility.json` beside the anonymised tables. Rows are
//! held to the bar of the anonymisation issue: a share moves by at most 2 percentage points, a
//! rate or mean by at most 5%, wherever the input's denominator is at least 100 (smaller
//! denominators move by chance alone; they are counted but neither listed nor held to the bar,
//! so that the file cannot be read back into the values of a few removed children).

use crate::pipeline::Evaluation;
use crate::results::BalanceCounts;
use serde::Serialize;
use std::collections::BTreeMap;
use swp_data::Dataset;
use swp_metrics::{all_metrics, GroupBy, MetricRow, Period, ValidMetricsParams};
// Shares (swp_metrics::all::SHARE_METRICS) are compared in percentage points; every other
// metric is a rate or a mean, compared relative to the input's value.
use swp_metrics::all::SHARE_METRICS;

/// The smallest input denominator whose rows are listed and held to the bar.
pub const MIN_DENOMINATOR: f64 = 100.0;
/// The bar for shares, in percentage points.
pub const SHARE_BAR_POINTS: f64 = 2.0;
/// The bar for rates and means, relative to the input's value.
pub const RELATIVE_BAR: f64 = 0.05;
/// Rows listed in `largest`.
pub const LISTED: usize = 10;

/// One metric of one site in one period, before and after.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MetricDifference {
    /// The site.
    pub site_id: String,
    /// The metric.
    pub metric: &'static str,
    /// First day of the period.
    pub period_from: String,
    /// Last day of the period.
    pub period_to: String,
    /// `share` or `rate or mean`.
    pub kind: &'static str,
    /// The input's denominator.
    pub denominator_input: f64,
    /// The output's denominator.
    pub denominator_output: Option<f64>,
    /// The input's value.
    pub input: f64,
    /// The output's value (None when its denominator is 0).
    pub output: Option<f64>,
    /// Output minus input: percentage points for a share, relative (output / input - 1) for a
    /// rate or mean (0 when both are 0; None when only the input is 0 or the output is missing).
    pub difference: Option<f64>,
    /// Whether the row is within the bar.
    pub within_bar: bool,
}

/// The metrics by site, compared.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MetricsComparison {
    /// Periods compared (financial years of the input).
    pub periods: usize,
    /// (site, period, metric) rows with a value in the input.
    pub rows: usize,
    /// Of them, rows whose input denominator is at least [`MIN_DENOMINATOR`].
    pub rows_held_to_bar: usize,
    /// Largest absolute change of a share held to the bar, in percentage points.
    pub max_share_points: f64,
    /// Largest absolute relative change of a rate or mean held to the bar.
    pub max_relative: f64,
    /// Rows held to the bar that break it.
    pub rows_over_bar: usize,
    /// The largest differences held to the bar, largest against its bar first.
    pub largest: Vec<MetricDifference>,
}

/// One balance row before and after anonymisation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BalanceDifference {
    /// Covariate (levels named as R).
    pub covariate: String,
    /// SMD before matching, on the input.
    pub smd_before_input: Option<f64>,
    /// SMD before matching, on the output.
    pub smd_before_output: Option<f64>,
    /// SMD after matching, on the input.
    pub smd_after_input: Option<f64>,
    /// SMD after matching, on the output.
    pub smd_after_output: Option<f64>,
}

/// The evaluation's balance table, compared.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BalanceComparison {
    /// Counts on the input.
    pub n_input: BalanceCounts,
    /// Counts on the output.
    pub n_output: BalanceCounts,
    /// Largest absolute change of an SMD before matching.
    pub max_smd_change_before: f64,
    /// Largest absolute change of an SMD after matching (each side matched on its own).
    pub max_smd_change_after: f64,
    /// Every covariate row.
    pub rows: Vec<BalanceDifference>,
}

/// `utility.json`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UtilityReport {
    /// Children in the input and the output.
    pub children_input: usize,
    /// Children in the output.
    pub children_output: usize,
    /// The metrics by site.
    pub metrics: MetricsComparison,
    /// The balance table (None when the evaluation cannot run on one of the two).
    pub balance: Option<BalanceComparison>,
    /// Why the balance table is missing, when it is.
    pub balance_error: Option<String>,
    /// The bar the rows are held to, in words.
    pub bar: String,
}

fn key(row: &MetricRow) -> (String, &'static str, String) {
    (row.group.clone(), row.metric, row.period_from.clone())
}

/// Compares every metric by site of `input` and `output` over `periods`.
pub fn compare_metrics(input: &Dataset, output: &Dataset, periods: &[Period]) -> MetricsComparison {
    let params = ValidMetricsParams::defaults(GroupBy::Site);
    let before = all_metrics(input, periods, &params);
    let after: BTreeMap<_, MetricRow> =
        all_metrics(output, periods, &params).into_iter().map(|r| (key(&r), r)).collect();
    let mut rows = 0;
    let mut held: Vec<MetricDifference> = Vec::new();
    for row in &before {
        let Some(value) = row.value else { continue };
        rows += 1;
        let Some(denominator) = row.denominator.filter(|&d| d >= MIN_DENOMINATOR) else { continue };
        let other = after.get(&key(row));
        let out = other.and_then(|r| r.value);
        let share = SHARE_METRICS.contains(&row.metric);
        let difference = match out {
            Some(o) if share => Some((o - value) * 100.0),
            Some(o) if value != 0.0 => Some(o / value - 1.0),
            Some(0.0) => Some(0.0),
            _ => None,
        };
        let bar = if share { SHARE_BAR_POINTS } else { RELATIVE_BAR };
        held.push(MetricDifference {
            site_id: row.group.clone(),
            metric: row.metric,
            period_from: row.period_from.clone(),
            period_to: row.period_to.clone(),
            kind: if share { "share" } else { "rate or mean" },
            denominator_input: denominator,
            denominator_output: other.and_then(|r| r.denominator),
            input: value,
            output: out,
            difference,
            // a small tolerance for the printing of exact equalities
            within_bar: difference.is_some_and(|d| d.abs() <= bar + 1e-12),
        });
    }
    let size = |d: &MetricDifference| {
        let bar = if d.kind == "share" { SHARE_BAR_POINTS } else { RELATIVE_BAR };
        d.difference.map_or(f64::INFINITY, |x| x.abs() / bar)
    };
    let max_of = |kind: &str| {
        held.iter().filter(|d| d.kind == kind).filter_map(|d| d.difference).map(f64::abs).fold(0.0, f64::max)
    };
    let max_share_points = max_of("share");
    let max_relative = max_of("rate or mean");
    let rows_over_bar = held.iter().filter(|d| !d.within_bar).count();
    let rows_held_to_bar = held.len();
    let mut largest = held;
    largest.sort_by(|a, b| {
        size(b)
            .total_cmp(&size(a))
            .then_with(|| (&a.site_id, a.metric, &a.period_from).cmp(&(&b.site_id, b.metric, &b.period_from)))
    });
    largest.truncate(LISTED);
    MetricsComparison {
        periods: periods.len(),
        rows,
        rows_held_to_bar,
        max_share_points,
        max_relative,
        rows_over_bar,
        largest,
    }
}

/// Compares the evaluation's balance table on `input` and `output`.
///
/// # Errors
/// The evaluation's error on either dataset, in words.
pub fn compare_balance(
    input: &Dataset,
    output: &Dataset,
    evaluation: &Evaluation,
) -> Result<BalanceComparison, String> {
    let before = evaluation.match_cohort(input).map_err(|e| format!("on the input: {e}"))?.balance;
    let after = evaluation.match_cohort(output).map_err(|e| format!("on the anonymised copy: {e}"))?.balance;
    let out: BTreeMap<&str, _> = after.balance.iter().map(|r| (r.covariate.as_str(), r)).collect();
    let mut names: Vec<&str> = before.balance.iter().map(|r| r.covariate.as_str()).collect();
    names.extend(
        after
            .balance
            .iter()
            .map(|r| r.covariate.as_str())
            .filter(|n| !before.balance.iter().any(|r| r.covariate == *n)),
    );
    let inp: BTreeMap<&str, _> = before.balance.iter().map(|r| (r.covariate.as_str(), r)).collect();
    let rows: Vec<BalanceDifference> = names
        .iter()
        .map(|&name| BalanceDifference {
            covariate: name.to_string(),
            smd_before_input: inp.get(name).map(|r| r.smd_before),
            smd_before_output: out.get(name).map(|r| r.smd_before),
            smd_after_input: inp.get(name).map(|r| r.smd_after),
            smd_after_output: out.get(name).map(|r| r.smd_after),
        })
        .collect();
    let change = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if a.is_finite() && b.is_finite() => (a - b).abs(),
        _ => 0.0,
    };
    Ok(BalanceComparison {
        n_input: before.n,
        n_output: after.n,
        max_smd_change_before: rows.iter().map(|r| change(r.smd_before_input, r.smd_before_output)).fold(0.0, f64::max),
        max_smd_change_after: rows.iter().map(|r| change(r.smd_after_input, r.smd_after_output)).fold(0.0, f64::max),
        rows,
    })
}

/// Every comparison: metrics by site over `periods` and the balance table of `evaluation`.
pub fn compare(input: &Dataset, output: &Dataset, periods: &[Period], evaluation: &Evaluation) -> UtilityReport {
    let metrics = compare_metrics(input, output, periods);
    let (balance, balance_error) = match compare_balance(input, output, evaluation) {
        Ok(b) => (Some(b), None),
        Err(e) => (None, Some(e)),
    };
    UtilityReport {
        children_input: input.children.frame.height(),
        children_output: output.children.frame.height(),
        metrics,
        balance,
        balance_error,
        bar: format!(
            "every metric by site whose input denominator is at least {MIN_DENOMINATOR}: a share moves by at most {SHARE_BAR_POINTS} percentage points, a rate or mean by at most {:.0}%",
            RELATIVE_BAR * 100.0
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn sample() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample")
    }

    /// A dataset against itself moves nothing; against a copy with a third of the contacts
    /// dropped, the contact metrics are found over the bar and listed first.
    #[test]
    fn a_copy_is_compared_row_by_row_and_changes_are_found() {
        let loaded = swp_data::load(&sample()).unwrap();
        let periods = swp_metrics::default_periods(&loaded.dataset).unwrap();
        let evaluation = Evaluation::new(Config::default()).unwrap();
        let same = compare(&loaded.dataset, &loaded.dataset, &periods, &evaluation);
        assert!(same.metrics.rows_held_to_bar > 500);
        assert_eq!(
            (same.metrics.rows_over_bar, same.metrics.max_share_points, same.metrics.max_relative),
            (0, 0.0, 0.0)
        );
        let b = same.balance.as_ref().unwrap();
        assert_eq!((b.max_smd_change_before, b.max_smd_change_after), (0.0, 0.0));
        assert!(same.metrics.largest.iter().all(|d| d.difference == Some(0.0) && d.within_bar));

        // the copy: every third contact row dropped
        let work = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(sample()).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, work.path().join(path.file_name().unwrap())).unwrap();
        }
        let text = std::fs::read_to_string(sample().join("contacts.csv")).unwrap();
        let kept: Vec<&str> = text.lines().enumerate().filter(|(i, _)| *i == 0 || i % 3 != 0).map(|(_, l)| l).collect();
        std::fs::write(work.path().join("contacts.csv"), kept.join("\n") + "\n").unwrap();
        let copy = swp_data::load(work.path()).unwrap();
        let changed = compare(&loaded.dataset, &copy.dataset, &periods, &evaluation);
        assert!(changed.metrics.rows_over_bar > 0);
        let first = &changed.metrics.largest[0];
        assert!(first.metric.contains("visits") || first.metric.contains("contact"), "{first:?}");
        assert!(!first.within_bar);
        // visits per child-month: about a third fewer
        let visits = changed.metrics.largest.iter().find(|d| d.metric == "visits_per_child_month").unwrap();
        assert!((visits.difference.unwrap() + 1.0 / 3.0).abs() < 0.05, "{visits:?}");
        // the balance table does not use contacts
        assert_eq!(changed.balance.unwrap().max_smd_change_before, 0.0);
    }
}
