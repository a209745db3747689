//! Site level (docs/evaluation.md "Site level"): per site and financial year the four workforce and
//! caseload metrics, and for each the difference-in-differences of pilot vs control sites with
//! site and year fixed effects, CR2 clustered on site, the wild cluster bootstrap and
//! randomisation inference over which sites are pilots.
//!
//! Treatment D_st is the share of financial year t on or after site s's go-live (0 before, 1
//! in every year after, a fraction in the year it went live), so a pilot's go-live year is
//! neither dropped nor counted as wholly before; b is the effect of a whole year under the
//! pilot. Randomisation inference reassigns the pilots' go-live dates to every set of as many
//! sites (the k-th chosen site, in site order, takes the k-th pilot's date).

use super::cohort::Site;
pub(crate) use super::staggered::share_after;
use crate::config::{ValidConfig, SITE_METRICS};
use crate::error::{at, Result};
use crate::results::{PanelRow, SiteDidRow};
use crate::vocab::Arm;
use swp_data::columns::DateView;
use swp_data::date::format_date;
use swp_data::Dataset;
use swp_metrics::{financial_years, metrics_of, suppress};
use swp_metrics::{MetricRow, Period};
use swp_stats::bootstrap::{BootType, WildParams, WildProblem};
use swp_stats::did::twfe_coefficient;
use swp_stats::randomisation::randomisation_test;
use swp_stats::regression::wls;
use swp_stats::Matrix;

/// The panel rows of `sites` (by site index, aligned with `rows`' groups).
pub fn panel(sites: &[Site], periods: &[Period], rows: &[(MetricRow, bool)]) -> Vec<PanelRow> {
    let mut out = Vec::new();
    for (row, suppressed) in rows {
        if !SITE_METRICS.contains(&row.metric) {
            continue;
        }
        let Some(site) = sites.iter().find(|s| s.id == row.group) else { continue };
        let Some(p) = periods.iter().find(|p| swp_data::date::format_date(p.from) == row.period_from) else {
            continue;
        };
        let (y, _, _) = swp_data::date::civil_from_days(p.from);
        out.push(PanelRow {
            site: site.id.clone(),
            arm: site.arm,
            model: site.model.clone(),
            year: swp_metrics::financial_year_label(y),
            metric: row.metric.to_string(),
            value: row.value,
            numerator: row.numerator,
            denominator: row.denominator,
            treated_share: share_after(*p, site.go_live),
            suppressed: *suppressed,
        });
    }
    out
}

/// The difference-in-differences of one metric among `sites` (pilots: those with a go-live),
/// from the unsuppressed values `values[(site, period)]`.
pub fn did(
    metric: &str,
    pilots_label: &str,
    sites: &[&Site],
    periods: &[Period],
    value: impl Fn(&Site, usize) -> Option<f64>,
    config: &ValidConfig,
) -> Result<SiteDidRow> {
    let (mut unit, mut period, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for (s, site) in sites.iter().enumerate() {
        for t in 0..periods.len() {
            if let Some(v) = value(site, t).filter(|v| v.is_finite()) {
                unit.push(s);
                period.push(t);
                y.push(v);
            }
        }
    }
    // relabel periods present as 0..T so the design has no empty dummy
    let mut present: Vec<usize> = period.clone();
    present.sort_unstable();
    present.dedup();
    let period_label: Vec<usize> = period.iter().map(|p| present.binary_search(p).expect("present")).collect();
    let mut units_present: Vec<usize> = unit.clone();
    units_present.sort_unstable();
    units_present.dedup();
    let unit_label: Vec<usize> = unit.iter().map(|u| units_present.binary_search(u).expect("present")).collect();
    let go_lives: Vec<Option<i32>> = units_present.iter().map(|&u| sites[u].go_live).collect();
    let treated: Vec<usize> = (0..units_present.len()).filter(|&u| go_lives[u].is_some()).collect();
    let d_of = |assigned: &[Option<i32>]| -> Vec<f64> {
        (0..y.len()).map(|i| share_after(periods[period[i]], assigned[unit_label[i]])).collect()
    };
    let d = d_of(&go_lives);
    let mut out = SiteDidRow {
        metric: metric.to_string(),
        pilots: pilots_label.to_string(),
        estimator: "twfe".into(),
        kind: "simple".into(),
        estimate: None,
        se: None,
        df: None,
        ci_low: None,
        ci_high: None,
        p_value: None,
        wild_p_value: None,
        ri_p_value: None,
        ri_assignments: None,
        ri_exact: None,
        ri_min_p: None,
        n_sites: units_present.len(),
        n_pilot_sites: treated.len(),
        n_site_years: y.len(),
        ..SiteDidRow::default()
    };
    let Some(estimate) = twfe_coefficient(&unit_label, &period_label, &y, &d) else { return Ok(out) };
    out.estimate = Some(estimate);
    // Site fixed effects are cluster-specific, so they are absorbed exactly: CR2 and its
    // Bell-McCaffrey df of the full dummy-variable model (with Moore-Penrose adjustments, as
    // clubSandwich) equal those of the site-demeaned regression on the year dummies and D
    // (Pustejovsky and Tipton 2018, section 3), at O(T) columns instead of O(G + T).
    let units = units_present.len();
    let x = within_design(&unit_label, &period_label, &d, units, present.len());
    let yw = demean(&unit_label, &y, units);
    let coef = x.p - 1;
    let step = format!("site-level {metric}");
    let fit = wls(&x, &yw, None).map_err(at(step.clone()))?;
    let inference = &config.inference();
    // one treated site: a cluster-robust SE, interval or p and the wild bootstrap are not valid
    // (MacKinnon and Webb 2017; Conley and Taber 2011); only randomisation inference is shown
    if treated.len() > 1 {
        if let Ok(cr2) = fit.cr2_inference(&unit_label, coef) {
            out.se = cr2.se.is_finite().then_some(cr2.se);
            out.df = cr2.df.is_finite().then_some(cr2.df);
            out.ci_low = cr2.ci_low.is_finite().then_some(cr2.ci_low);
            out.ci_high = cr2.ci_high.is_finite().then_some(cr2.ci_high);
            out.p_value = cr2.p_value.is_finite().then_some(cr2.p_value);
        }
        if let Ok(problem) = WildProblem::new(&x, &yw, None, &unit_label, coef) {
            let params = WildParams {
                reps: inference.bootstrap_reps,
                weights: inference.bootstrap_weights,
                kind: BootType::Wcr,
                seed: inference.seed,
            };
            // the config's check keeps the replications in range, so this holds
            if let Ok(params) = params.check() {
                let p = problem.test(0.0, &params).p_value;
                out.wild_p_value = p.is_finite().then_some(p);
            }
        }
    }
    // randomisation inference on t (the coefficient over its CR2 error; the coefficient itself
    // where the error cannot be computed, as with one treated site)
    let pilot_dates: Vec<Option<i32>> = treated.iter().map(|&u| go_lives[u]).collect();
    let studentise = treated.len() > 1;
    let ri = randomisation_test(units, &treated, inference.randomisation_assignments, inference.seed, |set| {
        let mut assigned = vec![None; units];
        for (k, &u) in set.iter().enumerate() {
            assigned[u] = pilot_dates[k];
        }
        let d = d_of(&assigned);
        if !studentise {
            return twfe_coefficient(&unit_label, &period_label, &y, &d);
        }
        let x = within_design(&unit_label, &period_label, &d, units, present.len());
        let fit = wls(&x, &yw, None).ok()?;
        let se = fit.cr2_inference(&unit_label, coef).ok()?.se;
        let t = fit.coef[coef] / se;
        t.is_finite().then_some(t)
    });
    if let Ok(ri) = ri {
        out.ri_p_value = Some(ri.p_value);
        out.ri_assignments = Some(ri.assignments);
        out.ri_exact = Some(ri.enumerated);
        out.ri_min_p = Some(1.0 / ri.assignments as f64);
    }
    Ok(out)
}

/// `v` minus its mean within each unit.
fn demean(unit: &[usize], v: &[f64], units: usize) -> Vec<f64> {
    let (mut sum, mut n) = (vec![0.0; units], vec![0.0; units]);
    for (u, x) in unit.iter().zip(v) {
        sum[*u] += x;
        n[*u] += 1.0;
    }
    unit.iter().zip(v).map(|(u, x)| x - sum[*u] / n[*u]).collect()
}

/// The site-demeaned design: year dummies (all but the first year) and D, no intercept.
fn within_design(unit: &[usize], period: &[usize], d: &[f64], units: usize, periods: usize) -> Matrix {
    let k = periods.saturating_sub(1) + 1;
    let mut columns: Vec<Vec<f64>> = Vec::with_capacity(k);
    for t in 1..periods {
        let dummy: Vec<f64> = period.iter().map(|&p| f64::from(u8::from(p == t))).collect();
        columns.push(demean(unit, &dummy, units));
    }
    columns.push(demean(unit, d, units));
    let n = unit.len();
    let mut values = Vec::with_capacity(n * k);
    for i in 0..n {
        values.extend(columns.iter().map(|c| c[i]));
    }
    Matrix { n, p: k, values }
}

/// Site-level metrics by financial year and their difference-in-differences: per metric, the
/// staggered rows of all pilots ([`super::staggered`]), the fixed-effects row, then each pilot's
/// staggered simple ATT and fixed-effects row.
pub(crate) fn site_level(
    config: &ValidConfig,
    dataset: &Dataset,
    index: &swp_metrics::Index,
    sites: &[Site],
    baseline_from: i32,
    extract_date: i32,
) -> Result<(Vec<SiteDidRow>, Vec<PanelRow>, Vec<Period>)> {
    let first = [DateView::new(&dataset.episodes.frame, "decom"), DateView::new(&dataset.workers.frame, "start_date")]
        .iter()
        .filter_map(DateView::min)
        .min()
        .unwrap_or(baseline_from)
        .max(baseline_from - 5 * 366);
    let periods: Vec<Period> =
        financial_years(first, extract_date).into_iter().filter(|p| p.to <= extract_date).collect();
    let rows: Vec<_> =
        metrics_of(index, &periods, 20).into_iter().filter(|r| SITE_METRICS.contains(&r.metric)).collect();
    let published = suppress(rows.clone(), config.threshold());
    let flagged: Vec<(swp_metrics::MetricRow, bool)> = published.into_iter().map(|p| (p.row, p.suppressed)).collect();
    let in_analysis: Vec<&Site> =
        sites.iter().filter(|s| s.arm == Arm::Pilot || config.cohort().controls.includes(s.arm)).collect();
    let panel_rows = panel(&in_analysis.iter().map(|s| (*s).clone()).collect::<Vec<_>>(), &periods, &flagged);
    let period_of = |from: &str| periods.iter().position(|p| format_date(p.from) == from);
    let mut value: std::collections::HashMap<(&str, &str, usize), f64> = std::collections::HashMap::new();
    for r in &rows {
        if let (Some(v), Some(t)) = (r.value, period_of(&r.period_from)) {
            value.insert((r.group.as_str(), r.metric, t), v);
        }
    }
    let mut out = Vec::new();
    let controls: Vec<&Site> = in_analysis.iter().copied().filter(|s| s.arm != Arm::Pilot).collect();
    for metric in SITE_METRICS {
        let lookup = |s: &Site, t: usize| value.get(&(s.id.as_str(), metric, t)).copied();
        out.extend(super::staggered::rows(metric, "all", &in_analysis, &periods, lookup, config, true));
        out.push(did(metric, "all", &in_analysis, &periods, lookup, config)?);
        for pilot in in_analysis.iter().filter(|s| s.arm == Arm::Pilot) {
            let mut group: Vec<&Site> = vec![pilot];
            group.extend(controls.iter().copied());
            out.extend(super::staggered::rows(metric, &pilot.model, &group, &periods, lookup, config, false));
            out.push(did(metric, &pilot.model, &group, &periods, lookup, config)?);
        }
    }
    Ok((out, panel_rows, periods))
}

#[cfg(test)]
mod tests {
    use super::*;
    use swp_data::date::days_from_civil as d;

    #[test]
    fn the_go_live_year_is_treated_for_the_share_after_go_live() {
        let p = Period::financial_year(2009); // 365 days
        assert_eq!(share_after(p, None), 0.0);
        assert_eq!(share_after(p, Some(d(2009, 4, 1))), 1.0);
        assert_eq!(share_after(p, Some(d(2010, 4, 1))), 0.0);
        let s = share_after(p, Some(d(2009, 9, 1)));
        assert!((s - 212.0 / 365.0).abs() < 1e-12, "{s}");
    }
}
