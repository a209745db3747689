//! Costs (docs/metrics.md v1.1; only when the dataset has a `costs` table): `cost_per_child_year`,
//! `staff_cost_per_fte`, `agency_cost_share`, `outcome_payment_share`.
//!
//! Defined when the period is exactly one financial year (null otherwise). A category with no
//! row counts as 0; 0 / 0 is null. For a group of several sites only the sites with a costs row
//! for the year enter the numerators and denominators; a group with none gets null value,
//! numerator and denominator.
//! - child-years: the days each child of the site is looked after in P / 365.25 (the
//!   denominator of `placement_moves_per_child_year`);
//! - fte: the mean over P's 12 month ends of all fte in post that day at the site, agency
//!   included (counted roles, as the denominator of `agency_rate`); a month end with nobody in
//!   post counts as 0.

use crate::caseload::month_ends;
use crate::cost_table::CostRecord;
use crate::index::{care_days, Index};
use crate::period::{MetricRow, Period};
use swp_data::date::{civil_from_days, days_from_civil, format_date};

/// The cost metrics, in docs/metrics.md order.
pub const COST_METRICS: [&str; 4] =
    ["cost_per_child_year", "staff_cost_per_fte", "agency_cost_share", "outcome_payment_share"];

/// The financial year `p` is exactly (its first calendar year), if it is one.
pub fn financial_year_of(p: Period) -> Option<i32> {
    let (y, m, d) = civil_from_days(p.from);
    (m == 4 && d == 1 && p.to == days_from_civil(y + 1, 3, 31)).then_some(y)
}

/// Each site's spending by category in financial year `year` (None for sites without a row).
pub fn site_spending(costs: &[CostRecord], sites: usize, year: i32) -> Vec<Option<[f64; 7]>> {
    let mut out: Vec<Option<[f64; 7]>> = vec![None; sites];
    for c in costs.iter().filter(|c| c.year == year) {
        out[c.site].get_or_insert([0.0; 7])[c.category] += c.amount;
    }
    out
}

/// Child-years looked after in `p` at each site.
pub fn child_years_by_site(index: &Index, p: Period) -> Vec<f64> {
    child_years_by_site_in(index, &[p]).pop().unwrap_or_default()
}

/// Child-years looked after at each site in each of `periods`, in one pass over the children
/// (in parallel: care days are whole numbers, summed exactly, so the order does not matter).
pub fn child_years_by_site_in(index: &Index, periods: &[Period]) -> Vec<Vec<f64>> {
    let sites = index.groups.site_ids.len();
    let days = crate::index::fold_children(
        index,
        || vec![0i64; periods.len() * sites],
        |days, c| {
            let (episodes, site) = (index.episodes.of(c), index.child_site[c] as usize);
            for (j, &p) in periods.iter().enumerate() {
                days[j * sites + site] += care_days(episodes, p);
            }
        },
        |total, part| add_days(total, part),
    );
    child_years_of_days(&days, sites, periods.len())
}

/// Adds `part`'s care days to `total`'s.
pub(crate) fn add_days(total: &mut [i64], part: Vec<i64>) {
    total.iter_mut().zip(part).for_each(|(x, y)| *x += y);
}

/// Child-years per period and site from care days per (period, site), period-major.
pub(crate) fn child_years_of_days(days: &[i64], sites: usize, periods: usize) -> Vec<Vec<f64>> {
    // whole days below 2^53 convert exactly: the same values as adding them one by one in f64
    days.chunks(sites.max(1)).take(periods).map(|d| d.iter().map(|&d| d as f64 / 365.25).collect()).collect()
}

/// The mean over `p`'s month ends of all fte in post (counted roles, agency included) at each site.
pub fn mean_fte_by_site(index: &Index, p: Period) -> Vec<f64> {
    let ends = month_ends(p);
    let mut fte = vec![0.0; index.groups.site_ids.len()];
    for s in index.spells.iter().filter(|s| s.counted) {
        let days = ends.iter().filter(|&&d| s.in_post(d)).count();
        fte[s.site] += s.fte * days as f64;
    }
    let n = ends.len().max(1) as f64;
    fte.into_iter().map(|f| f / n).collect()
}

/// The four cost metrics of every group for period `p`, in docs/metrics.md order per group.
pub fn cost_rows(index: &Index, p: Period) -> Vec<MetricRow> {
    if index.costs.is_none() {
        return Vec::new();
    }
    cost_rows_with(index, p, &child_years_by_site(index, p))
}

/// [`cost_rows`] given the child-years of each site in `p` ([`child_years_by_site_in`]).
pub fn cost_rows_with(index: &Index, p: Period, child_years: &[f64]) -> Vec<MetricRow> {
    let Some(costs) = &index.costs else { return Vec::new() };
    let groups = &index.groups;
    let null = |name: &str, metric: &'static str| MetricRow {
        group: name.to_string(),
        metric,
        value: None,
        numerator: None,
        denominator: None,
        period_from: format_date(p.from),
        period_to: format_date(p.to),
    };
    let Some(year) = financial_year_of(p) else {
        return groups.names.iter().flat_map(|name| COST_METRICS.map(|m| null(name, m))).collect();
    };
    let spending = site_spending(costs, groups.site_ids.len(), year);
    let fte = mean_fte_by_site(index, p);
    // per group: [total, staff + agency, agency, outcome payment, child-years, fte], sites with a row
    let mut sums: Vec<Option<[f64; 6]>> = vec![None; groups.names.len()];
    for (site, s) in spending.iter().enumerate() {
        let Some(s) = s else { continue };
        let g = sums[groups.group_of_site[site]].get_or_insert([0.0; 6]);
        g[0] += s.iter().sum::<f64>();
        g[1] += s[0] + s[1];
        g[2] += s[1];
        g[3] += s[5];
        g[4] += child_years[site];
        g[5] += fte[site];
    }
    let mut rows = Vec::new();
    for (name, g) in groups.names.iter().zip(sums) {
        match g {
            None => rows.extend(COST_METRICS.map(|m| null(name, m))),
            Some(g) => {
                rows.push(MetricRow::ratio(name, "cost_per_child_year", p, g[0], g[4]));
                rows.push(MetricRow::ratio(name, "staff_cost_per_fte", p, g[1], g[5]));
                rows.push(MetricRow::ratio(name, "agency_cost_share", p, g[2], g[1]));
                rows.push(MetricRow::ratio(name, "outcome_payment_share", p, g[3], g[0]));
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::d;

    /// The parallel, several-period pass gives each site's child-years as the definition reads:
    /// every child's care days in the period, added child by child.
    #[test]
    fn child_years_in_one_pass_equal_the_definition() {
        let index = crate::test_support::synthetic_by_arm(5);
        let periods = [Period::financial_year(2009), Period::financial_year(2011), Period { from: 14_700, to: 15_100 }];
        let all = child_years_by_site_in(&index, &periods);
        assert_eq!(all.len(), periods.len());
        for (&p, got) in periods.iter().zip(&all) {
            let mut days = vec![0.0; index.groups.site_ids.len()];
            for c in 0..index.children() {
                if let Some(slot) = days.get_mut(index.child_site[c] as usize) {
                    *slot += care_days(index.episodes.of(c), p) as f64;
                }
            }
            let want: Vec<f64> = days.into_iter().map(|d| d / 365.25).collect();
            assert!(want.iter().any(|&y| y > 10.0), "children looked after in the period");
            assert_eq!(got, &want);
            assert_eq!(child_years_by_site(&index, p), want);
        }
    }

    #[test]
    fn periods_and_month_ends() {
        assert_eq!(financial_year_of(Period::financial_year(2009)), Some(2009));
        assert_eq!(financial_year_of(Period { from: d(2009, 4, 1), to: d(2010, 3, 30) }), None);
        assert_eq!(financial_year_of(Period { from: d(2009, 1, 1), to: d(2009, 12, 31) }), None);
        let ends = month_ends(Period::financial_year(2011));
        assert_eq!(ends.len(), 12);
        assert_eq!(ends[0], d(2011, 4, 30));
        assert_eq!(ends[10], d(2012, 2, 29));
        assert_eq!(ends[11], d(2012, 3, 31));
    }
}
