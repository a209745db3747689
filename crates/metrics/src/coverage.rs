//! Coverage (docs/data.md "Coverage"): for each table and site, the first day the table
//! covers. A table covers a site from its start to the extract date; the start is the
//! dataset.toml `[coverage]` entry (`absences = "2007-04-01"`, or per site
//! `absences = { C001 = "2008-04-01", default = "2007-04-01" }`), else the earliest date the
//! table holds for that site (episodes: start; allocations: start; workers: start; absences:
//! start; contacts: date; costs: the first financial year's 1 April). A site with no row in a
//! table has no coverage of it.
//!
//! A metric whose numerator or denominator reads a table is null (never 0) for a period that
//! starts before that table's coverage: [`Coverage::apply`]. For a group of several sites the
//! latest start among the group's sites that the table covers is used (a site a table does not
//! cover adds nothing to the group's sums); a one-site group without coverage is null
//! throughout.

use crate::period::{MetricRow, Period, SiteGroups};
use swp_data::date::format_date;

/// The tables coverage is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `episodes`.
    Episodes,
    /// `allocations`.
    Allocations,
    /// `workers`.
    Workers,
    /// `absences`.
    Absences,
    /// `contacts`.
    Contacts,
    /// `costs`.
    Costs,
}

impl Source {
    /// Every table, in docs/data.md's order.
    pub const ALL: [Source; 6] =
        [Source::Episodes, Source::Workers, Source::Allocations, Source::Absences, Source::Contacts, Source::Costs];

    /// The table's file stem.
    pub fn name(self) -> &'static str {
        match self {
            Source::Episodes => "episodes",
            Source::Allocations => "allocations",
            Source::Workers => "workers",
            Source::Absences => "absences",
            Source::Contacts => "contacts",
            Source::Costs => "costs",
        }
    }

    fn index(self) -> usize {
        Source::ALL.iter().position(|s| *s == self).unwrap_or_default()
    }
}

/// The tables a metric's numerator or denominator reads (docs/metrics.md).
pub fn tables_of(metric: &str) -> &'static [Source] {
    match metric {
        "fte_in_post"
        | "turnover_rate"
        | "stability_index"
        | "recruitment_rate"
        | "agency_rate"
        | "median_service_years"
        | "leavers" => &[Source::Workers],
        "caseload_per_fte" => &[Source::Allocations, Source::Workers],
        "sickness_absence_rate" => &[Source::Absences, Source::Workers],
        "mean_caseload" | "share_caseload_over_20" | "caseload" => &[Source::Allocations],
        "sw_changes_per_child_year" | "mean_distinct_workers" | "pct_3plus_workers" => {
            &[Source::Episodes, Source::Allocations]
        }
        "visits_per_child_month" | "share_visits_seen_alone" | "contact_minutes_per_child_month" => {
            &[Source::Episodes, Source::Contacts]
        }
        "cost_per_child_year" => &[Source::Costs, Source::Episodes],
        "staff_cost_per_fte" => &[Source::Costs, Source::Workers],
        "agency_cost_share" | "outcome_payment_share" => &[Source::Costs],
        _ => &[Source::Episodes],
    }
}

/// Each table's first covered day per site (None: the table does not cover the site).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coverage {
    start: Vec<Vec<Option<i32>>>,
    /// Entries of dataset.toml's `[coverage]` that could not be used (what and why).
    pub ignored: Vec<String>,
}

fn earliest(slot: &mut Option<i32>, day: i32) {
    *slot = Some(slot.map_or(day, |d| d.min(day)));
}

impl Coverage {
    /// The coverage the rows show: each table's earliest date per site, from (table, site
    /// index, date) of every row (sites outside 0..sites are ignored).
    pub(crate) fn observed(sites: usize, days: impl IntoIterator<Item = (Source, usize, i32)>) -> Coverage {
        let mut start = vec![vec![None; sites]; Source::ALL.len()];
        for (source, site, day) in days {
            if let Some(slot) = start[source.index()].get_mut(site) {
                earliest(slot, day);
            }
        }
        Coverage { start, ignored: Vec::new() }
    }

    /// Adds the costs table's coverage: each site's first financial year's 1 April.
    pub(crate) fn observe_costs(&mut self, costs: Option<&[crate::cost_table::CostRecord]>) {
        let slot = Source::Costs.index();
        for r in costs.into_iter().flatten() {
            if let Some(start) = self.start[slot].get_mut(r.site) {
                earliest(start, swp_data::date::days_from_civil(r.year, 4, 1));
            }
        }
    }

    /// Applies dataset.toml's `[coverage]`: a date for every site, or per site with a default.
    pub(crate) fn apply_manifest(&mut self, manifest: &swp_data::model::Manifest, site_ids: &[String]) {
        let Some(table) = manifest.extra.get("coverage").and_then(|v| v.as_table()) else { return };
        for (name, value) in table {
            let Some(source) = Source::ALL.iter().copied().find(|s| s.name() == name) else {
                self.ignored.push(format!("[coverage] {name}: not a table with coverage ({})", names()));
                continue;
            };
            let date = |v: &toml::Value| v.as_str().and_then(|s| swp_data::date::parse_date(s).ok());
            let slot = &mut self.start[source.index()];
            match value {
                toml::Value::String(_) => match date(value) {
                    Some(d) => slot.iter_mut().for_each(|s| *s = Some(d)),
                    None => self.ignored.push(format!("[coverage] {name}: give a date as YYYY-MM-DD")),
                },
                toml::Value::Table(per_site) => {
                    let default = per_site.get("default").and_then(date);
                    for (k, site) in site_ids.iter().enumerate() {
                        match per_site.get(site) {
                            Some(v) => match date(v) {
                                Some(d) => slot[k] = Some(d),
                                None => {
                                    self.ignored.push(format!("[coverage] {name}.{site}: give a date as YYYY-MM-DD"))
                                }
                            },
                            None => {
                                if let Some(d) = default {
                                    slot[k] = Some(d);
                                }
                            }
                        }
                    }
                }
                _ => self.ignored.push(format!("[coverage] {name}: give a date, or a table of site = date")),
            }
        }
    }

    /// The first day `source` covers at site `site` (by site index).
    pub fn start(&self, source: Source, site: usize) -> Option<i32> {
        self.start.get(source.index()).and_then(|s| s.get(site)).copied().flatten()
    }

    /// The first day a group's sites are covered by every table `metric` reads: the latest
    /// start among the group's covered sites; None when no site of the group is covered.
    fn group_start(&self, metric: &str, groups: &SiteGroups, group: usize) -> Option<i32> {
        let mut latest = i32::MIN;
        for &source in tables_of(metric) {
            let starts = (0..groups.site_ids.len())
                .filter(|&s| groups.group_of_site.get(s) == Some(&group))
                .filter_map(|s| self.start(source, s));
            latest = latest.max(starts.max()?);
        }
        Some(latest)
    }

    /// Nulls the rows of period `p` that start before their tables' coverage.
    pub fn apply(&self, rows: &mut [MetricRow], groups: &SiteGroups, p: Period) {
        for row in rows {
            let Some(g) = groups.names.iter().position(|n| *n == row.group) else { continue };
            if self.group_start(row.metric, groups, g).is_none_or(|start| p.from < start) {
                row.value = None;
                row.numerator = None;
                row.denominator = None;
            }
        }
    }

    /// For each table and site the coverage starts after `first` (a period starting on `first`
    /// or later before the start is null): (table, site id, start `YYYY-MM-DD`), and the
    /// tables a site has no row in: (table, site id, None).
    pub fn limits(&self, site_ids: &[String], first: i32) -> Vec<(Source, String, Option<String>)> {
        let mut out = Vec::new();
        for source in Source::ALL {
            for (k, site) in site_ids.iter().enumerate() {
                match self.start(source, k) {
                    Some(d) if d > first => out.push((source, site.clone(), Some(format_date(d)))),
                    Some(_) => {}
                    None => out.push((source, site.clone(), None)),
                }
            }
        }
        out
    }

    /// Every table and site with its start (None: not covered).
    pub fn all(&self, site_ids: &[String]) -> Vec<(Source, String, Option<String>)> {
        Source::ALL
            .iter()
            .flat_map(|&source| {
                site_ids
                    .iter()
                    .enumerate()
                    .map(move |(k, site)| (source, site.clone(), self.start(source, k).map(format_date)))
            })
            .collect()
    }
}

fn names() -> String {
    Source::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::d;

    fn groups() -> SiteGroups {
        SiteGroups {
            site_ids: vec!["S0".into(), "S1".into()],
            names: vec!["S0".into(), "S1".into()],
            group_of_site: vec![0, 1],
        }
    }

    fn row(group: &str, metric: &'static str, p: Period) -> MetricRow {
        MetricRow::ratio(group, metric, p, 2.0, 4.0)
    }

    /// A metric is null for a period starting before the coverage of a table it reads, and at
    /// a site a table does not cover; dataset.toml's `[coverage]` overrides the rows' dates.
    #[test]
    fn metrics_outside_coverage_are_null_and_the_manifest_overrides() {
        let days = [
            (Source::Absences, 0, d(2007, 4, 18)),
            (Source::Workers, 0, d(2000, 1, 1)),
            (Source::Workers, 1, d(2000, 1, 1)),
            (Source::Absences, 9, d(1990, 1, 1)), // a site outside the groups: ignored
        ];
        let mut coverage = Coverage::observed(2, days);
        let fy = |y| Period::financial_year(y);
        let check = |coverage: &Coverage, group: &str, metric: &'static str, year: i32| {
            let mut rows = vec![row(group, metric, fy(year))];
            coverage.apply(&mut rows, &groups(), fy(year));
            rows[0].value.is_some()
        };
        assert!(!check(&coverage, "S0", "sickness_absence_rate", 2007), "FY 2007-08 starts before 18 April 2007");
        assert!(check(&coverage, "S0", "sickness_absence_rate", 2008));
        assert!(check(&coverage, "S0", "turnover_rate", 2007), "turnover reads workers only");
        assert!(!check(&coverage, "S1", "sickness_absence_rate", 2010), "S1 has no absences: never covered");
        let mut extra = toml::Table::new();
        extra.insert(
            "coverage".into(),
            toml::Value::Table(
                toml::from_str("absences = { S1 = \"2006-04-01\", default = \"2007-04-01\" }\nnope = \"2001-01-01\"")
                    .unwrap(),
            ),
        );
        let manifest = swp_data::model::Manifest { extra, ..Default::default() };
        coverage.apply_manifest(&manifest, &groups().site_ids);
        assert!(check(&coverage, "S0", "sickness_absence_rate", 2007), "the default covers S0 from 1 April 2007");
        assert!(check(&coverage, "S1", "sickness_absence_rate", 2006));
        assert!(!check(&coverage, "S1", "sickness_absence_rate", 2005));
        assert_eq!(coverage.ignored.len(), 1, "{:?}", coverage.ignored);
        assert_eq!(coverage.start(Source::Absences, 1).map(format_date).as_deref(), Some("2006-04-01"));
    }
}
