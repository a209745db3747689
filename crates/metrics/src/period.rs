//! Periods, groupings and the metric row every metric produces.

use serde::Serialize;
use swp_data::columns::{code_column, text_column};
use swp_data::date::{civil_from_days, days_from_civil, format_date};
use swp_data::Dataset;

/// A period `[from, to]`, both days included (days since 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    pub from: i32,
    /// Last day.
    pub to: i32,
}

impl Period {
    /// The financial year starting 1 April of `year`.
    pub fn financial_year(year: i32) -> Self {
        Period { from: days_from_civil(year, 4, 1), to: days_from_civil(year + 1, 3, 31) }
    }

    /// Whether `day` is inside the period.
    pub fn contains(&self, day: i32) -> bool {
        self.from <= day && day <= self.to
    }
}

/// The default periods of a dataset: every financial year from the first episode or allocation
/// start to the extract date (None when the dataset has neither, or no extract date).
pub fn default_periods(dataset: &Dataset) -> Option<Vec<Period>> {
    let first = [(&dataset.episodes.frame, "decom"), (&dataset.allocations.frame, "start_date")]
        .iter()
        .filter_map(|(frame, column)| swp_data::columns::DateView::new(frame, column).min())
        .min()?;
    Some(financial_years(first, dataset.extract_date?))
}

/// A financial year as written in tables and the costs table: `2009-10` for the one starting
/// 1 April 2009.
pub fn financial_year_label(year: i32) -> String {
    format!("{year}-{:02}", (year + 1) % 100)
}

/// Every financial year that overlaps `[first, last]`.
pub fn financial_years(first: i32, last: i32) -> Vec<Period> {
    let (y, m, _) = civil_from_days(first);
    let mut year = if m >= 4 { y } else { y - 1 };
    let mut out = Vec::new();
    loop {
        let p = Period::financial_year(year);
        if p.from > last {
            return out;
        }
        out.push(p);
        year += 1;
    }
}

swp_stats::choice! {
    /// How rows are grouped.
    pub enum GroupBy {
        /// One group per site.
        Site = "site",
        /// pilot / host / comparison.
        Arm = "arm",
        /// SWP model (`none` for hosts and comparisons).
        Model = "model",
        /// All sites together.
        Total = "total",
    }
}

/// The groups of a grouping: each group's name and the indices of its sites, in sites.csv
/// order of first appearance.
#[derive(Debug, Clone)]
pub struct SiteGroups {
    /// Site ids, by site index.
    pub site_ids: Vec<String>,
    /// Group names.
    pub names: Vec<String>,
    /// Group of each site (by site index).
    pub group_of_site: Vec<usize>,
}

impl SiteGroups {
    /// The groups of `dataset`'s sites under `by`.
    pub fn new(dataset: &Dataset, by: GroupBy) -> Self {
        let frame = &dataset.sites.frame;
        let site_ids: Vec<String> =
            text_column(frame, "site_id").into_iter().map(|s| s.unwrap_or_default().to_string()).collect();
        let arms = code_column(frame, "arm");
        let models = code_column(frame, "swp_model");
        let key = |i: usize| match by {
            GroupBy::Site => site_ids[i].clone(),
            GroupBy::Arm => arms[i].clone().unwrap_or_default(),
            GroupBy::Model => models[i].clone().unwrap_or_else(|| "none".to_string()),
            GroupBy::Total => "total".to_string(),
        };
        let mut names: Vec<String> = Vec::new();
        let mut group_of_site = Vec::with_capacity(site_ids.len());
        for i in 0..site_ids.len() {
            let k = key(i);
            let g = names.iter().position(|n| *n == k).unwrap_or_else(|| {
                names.push(k);
                names.len() - 1
            });
            group_of_site.push(g);
        }
        SiteGroups { site_ids, names, group_of_site }
    }

    /// The index of site `site_id`.
    pub fn site_index(&self, site_id: &str) -> Option<usize> {
        self.site_ids.iter().position(|s| s == site_id)
    }
}

/// One published figure: a group's value of a metric in a period, with its parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricRow {
    /// Group name.
    pub group: String,
    /// Metric name (docs/metrics.md).
    pub metric: &'static str,
    /// Value; None when the denominator is 0.
    pub value: Option<f64>,
    /// Numerator.
    pub numerator: Option<f64>,
    /// Denominator (None for metrics without one).
    pub denominator: Option<f64>,
    /// First day of the period (ISO).
    pub period_from: String,
    /// Last day of the period (ISO).
    pub period_to: String,
}

impl MetricRow {
    /// A ratio row: value = numerator / denominator, None when the denominator is 0.
    pub fn ratio(group: &str, metric: &'static str, p: Period, numerator: f64, denominator: f64) -> Self {
        MetricRow {
            group: group.to_string(),
            metric,
            value: (denominator != 0.0).then(|| numerator / denominator),
            numerator: Some(numerator),
            denominator: Some(denominator),
            period_from: format_date(p.from),
            period_to: format_date(p.to),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn financial_years_cover_the_range() {
        let years = financial_years(days_from_civil(2009, 3, 31), days_from_civil(2010, 4, 1));
        let from: Vec<String> = years.iter().map(|p| format_date(p.from)).collect();
        assert_eq!(from, vec!["2008-04-01", "2009-04-01", "2010-04-01"]);
        assert_eq!(format_date(years[1].to), "2010-03-31");
    }
}
