//! Site level, staggered (docs/evaluation.md "Site level"): Callaway and Sant'Anna's (2021)
//! group-time effects of the pilots on each site metric by financial year, their aggregates,
//! the pre-trend test and randomisation inference on the simple ATT.
//!
//! A pilot's group is the first financial year that starts on or after its go-live. When a
//! go-live falls inside a financial year, that year is partly under the pilot: it is treated as
//! an anticipation period (δ = 1), so every pilot's changes are measured from the last year
//! wholly before its go-live and the go-live year enters no aggregate (it is the event study's
//! e = -1). The panel keeps the years in which every site has a value (a year outside a table's
//! coverage at any site is left out): the estimator needs a balanced panel. Standard errors are
//! the influence function's, clustered on site (each site is a unit). Randomisation inference
//! gives the pilots' groups to every set of as many sites (the k-th chosen site, in site order,
//! takes the k-th pilot's group) and recomputes the simple ATT over its standard error (the ATT
//! itself with one pilot site).

use super::cohort::Site;
use crate::config::{SiteControl, ValidConfig};
use crate::results::SiteDidRow;
use swp_metrics::{financial_year_label, Period};
use swp_stats::did::staggered::{att_gt, normal_interval, Aggregate, Aggregation, Base, Control, Options, Panel};
use swp_stats::distributions::pnorm;
use swp_stats::randomisation::randomisation_test;

/// The balanced panel of one metric: years (start years), each site's values in them, and the
/// share of each site-year on or after the site's go-live (site-major, as the values).
struct SitePanel {
    years: Vec<i64>,
    y: Vec<f64>,
    treated_share: Vec<f64>,
}

/// The years in which every site has a finite value, and the values (site-major).
fn balanced(sites: &[&Site], periods: &[Period], value: &impl Fn(&Site, usize) -> Option<f64>) -> SitePanel {
    let kept: Vec<usize> =
        (0..periods.len()).filter(|&t| sites.iter().all(|s| value(s, t).is_some_and(f64::is_finite))).collect();
    let years = kept.iter().map(|&t| i64::from(swp_data::date::civil_from_days(periods[t].from).0)).collect();
    let y = sites.iter().flat_map(|s| kept.iter().map(|&t| value(s, t).unwrap_or(f64::NAN))).collect();
    let treated_share = sites.iter().flat_map(|s| kept.iter().map(|&t| share_after(periods[t], s.go_live))).collect();
    SitePanel { years, y, treated_share }
}

/// Share of `p` on or after `go_live`.
pub(crate) fn share_after(p: Period, go_live: Option<i32>) -> f64 {
    match go_live {
        None => 0.0,
        Some(g) if g <= p.from => 1.0,
        Some(g) if g > p.to => 0.0,
        Some(g) => f64::from(p.to - g + 1) / f64::from(p.to - p.from + 1),
    }
}

/// The start year of the first financial year that starts on or after `go_live`.
fn group_of(go_live: Option<i32>, periods: &[Period]) -> Option<i64> {
    let g = go_live?;
    let first = periods.iter().find(|p| p.from >= g).map(|p| p.from).unwrap_or_else(|| {
        // after the last period: the next financial year (never treated within the panel)
        let (y, m, _) = swp_data::date::civil_from_days(g);
        swp_data::date::days_from_civil(if m >= 4 { y + 1 } else { y }, 4, 1)
    });
    Some(i64::from(swp_data::date::civil_from_days(first).0))
}

fn label(year: i64) -> String {
    financial_year_label(i32::try_from(year).unwrap_or_default())
}

/// The staggered rows of one metric for `sites` (pilots: those with a go-live): with
/// `full`, every cell, aggregate and the pre-trend test with standard errors; otherwise the
/// simple ATT with its randomisation p-value only (one pilot site).
pub fn rows(
    metric: &str,
    pilots_label: &str,
    sites: &[&Site],
    periods: &[Period],
    value: impl Fn(&Site, usize) -> Option<f64>,
    config: &ValidConfig,
    full: bool,
) -> Vec<SiteDidRow> {
    let panel = balanced(sites, periods, &value);
    let groups: Vec<Option<i64>> = sites.iter().map(|s| group_of(s.go_live, periods)).collect();
    let partial = sites.iter().any(|s| s.go_live.is_some_and(|g| periods.iter().all(|p| p.from != g)));
    let options = Options {
        control: match config.site_control() {
            SiteControl::Never => Control::Never,
            SiteControl::NotYet => Control::NotYet,
        },
        base: Base::Varying,
        anticipation: i64::from(partial),
    };
    let base_row = SiteDidRow {
        metric: metric.to_string(),
        pilots: pilots_label.to_string(),
        estimator: "cs".into(),
        kind: "simple".into(),
        anticipation: Some(options.anticipation),
        n_sites: sites.len(),
        n_pilot_sites: groups.iter().flatten().count(),
        n_site_years: sites.len() * panel.years.len(),
        ..SiteDidRow::default()
    };
    let fit_on = |first_treated: &[Option<i64>], y: &[f64]| {
        att_gt(&Panel { periods: &panel.years, first_treated, y, cluster: None }, &options).ok()
    };
    let Some(fit) = fit_on(&groups, &panel.y) else { return vec![base_row] };
    let simple = fit.aggregate(Aggregation::Simple);
    let treated: Vec<usize> = (0..sites.len()).filter(|&s| groups[s].is_some()).collect();
    let pilot_groups: Vec<Option<i64>> = treated.iter().map(|&s| groups[s]).collect();
    // the ATT over its error; the ATT itself with one pilot site, or where the error is 0
    let studentise = treated.len() > 1 && simple.overall.se.is_some();
    let inference = config.inference();
    // randomisation inference on outcomes `y` (the observed ones, or with an effect taken out)
    let ri_on = |y: &[f64]| {
        randomisation_test(sites.len(), &treated, inference.randomisation_assignments, inference.seed, |set| {
            let mut assigned = vec![None; sites.len()];
            for (k, &s) in set.iter().enumerate() {
                assigned[s] = pilot_groups[k];
            }
            let simple = fit_on(&assigned, y)?.aggregate(Aggregation::Simple).overall;
            if studentise {
                simple.se.map(|se| simple.att / se)
            } else {
                Some(simple.att)
            }
        })
        .ok()
    };
    let ri = ri_on(&panel.y);
    let mut simple_row = SiteDidRow { estimate: Some(simple.overall.att), ..base_row.clone() };
    if let Some(ri) = &ri {
        simple_row.ri_p_value = Some(ri.p_value);
        simple_row.ri_assignments = Some(ri.assignments);
        simple_row.ri_exact = Some(ri.enumerated);
        simple_row.ri_min_p = Some(1.0 / ri.assignments as f64);
    }
    if !full {
        return vec![simple_row];
    }
    // the randomisation interval: every effect tau that the test does not reject once tau times
    // each site-year's treated share is taken out of the pilots' values (test inversion)
    if let (Some(se), true) = (simple.overall.se, studentise) {
        let p_at = |tau: f64| {
            let y: Vec<f64> = panel.y.iter().zip(&panel.treated_share).map(|(y, share)| y - tau * share).collect();
            ri_on(&y).map_or(0.0, |r| r.p_value)
        };
        let (low, high) = ri_interval(simple.overall.att, se, 0.05, p_at);
        simple_row.ri_ci_low = low;
        simple_row.ri_ci_high = high;
    }
    let with_se = |row: SiteDidRow, att: f64, se: Option<f64>| {
        let (ci_low, ci_high) = normal_interval(att, se, 0.05);
        SiteDidRow {
            estimate: Some(att),
            se,
            ci_low,
            ci_high,
            p_value: se.map(|se| 2.0 * (1.0 - pnorm((att / se).abs()))),
            ..row
        }
    };
    let mut out = vec![with_se(simple_row, simple.overall.att, simple.overall.se)];
    // the dynamic aggregate serves its rows and the pre-trend test
    let aggregates = [Aggregation::Dynamic, Aggregation::Group, Aggregation::Calendar].map(|kind| fit.aggregate(kind));
    out.extend(aggregate_rows(&aggregates, &base_row, &with_se));
    for cell in &fit.cells {
        let row = SiteDidRow {
            kind: "att_gt".into(),
            group: Some(label(cell.group)),
            time: Some(label(cell.time)),
            event: Some(cell.time - cell.group),
            ..base_row.clone()
        };
        out.push(with_se(row, cell.att, cell.se));
    }
    if let Some(w) = fit.pretrend(&aggregates[0]) {
        out.push(SiteDidRow {
            kind: "pretrend".into(),
            estimate: Some(w.statistic),
            df: Some(w.df as f64),
            p_value: Some(w.p_value),
            ..base_row
        });
    }
    out
}

/// The ends of {tau : p(tau) > alpha} around `estimate` (where p is largest), found by
/// stepping out in multiples of `se` until the test rejects, then bisecting to 1e-4 of `se`;
/// None on a side where no rejection is found within 64 standard errors.
fn ri_interval(estimate: f64, se: f64, alpha: f64, p_at: impl Fn(f64) -> f64) -> (Option<f64>, Option<f64>) {
    let end = |direction: f64| {
        let mut inside = estimate;
        let mut step = se;
        let outside = loop {
            let tau = estimate + direction * step;
            if p_at(tau) <= alpha {
                break tau;
            }
            inside = tau;
            step *= 2.0;
            if step > 64.0 * se {
                return None;
            }
        };
        let (mut a, mut b) = (inside, outside);
        while (b - a).abs() > 1e-4 * se {
            let mid = 0.5 * (a + b);
            if p_at(mid) > alpha {
                a = mid;
            } else {
                b = mid;
            }
        }
        Some(0.5 * (a + b))
    };
    (end(-1.0), end(1.0))
}

/// The rows of aggregates (dynamic, group, calendar): the overall figure, then one row per
/// event time, group or year.
fn aggregate_rows(
    aggregates: &[Aggregate],
    base_row: &SiteDidRow,
    with_se: &impl Fn(SiteDidRow, f64, Option<f64>) -> SiteDidRow,
) -> Vec<SiteDidRow> {
    let mut out = Vec::new();
    for aggregate in aggregates {
        let name = match aggregate.kind {
            Aggregation::Dynamic => "dynamic",
            Aggregation::Group => "group",
            Aggregation::Calendar => "calendar",
            Aggregation::Simple => "simple",
        };
        let row = SiteDidRow { kind: name.into(), ..base_row.clone() };
        out.push(with_se(row.clone(), aggregate.overall.att, aggregate.overall.se));
        for e in &aggregate.by {
            let at = e.at.unwrap_or_default();
            let placed = match aggregate.kind {
                Aggregation::Dynamic => SiteDidRow { event: Some(at), ..row.clone() },
                Aggregation::Group => SiteDidRow { group: Some(label(at)), ..row.clone() },
                _ => SiteDidRow { time: Some(label(at)), ..row.clone() },
            };
            out.push(with_se(placed, e.att, e.se));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::vocab::Arm;
    use swp_data::date::days_from_civil as d;

    fn site(id: &str, go_live: Option<i32>) -> Site {
        Site {
            id: id.into(),
            arm: if go_live.is_some() { Arm::Pilot } else { Arm::Comparison },
            model: id.into(),
            go_live,
        }
    }

    /// Two pilots going live inside a financial year gain exactly 2 from the first year wholly
    /// under the pilot, on common trends with site effects: the simple ATT is 2, the go-live
    /// year is e = -1 and enters no aggregate, and every pre-period effect is 0.
    #[test]
    fn a_planted_step_is_recovered_and_the_go_live_year_is_left_out() {
        let sites = [
            site("P1", Some(d(2009, 9, 1))),
            site("P2", Some(d(2010, 6, 1))),
            site("C1", None),
            site("C2", None),
            site("C3", None),
        ];
        let refs: Vec<&Site> = sites.iter().collect();
        let periods: Vec<Period> = (2005..2013).map(Period::financial_year).collect();
        let value = |s: &Site, t: usize| {
            let year = 2005 + t as i32;
            let level = f64::from(s.id.as_bytes()[1] - b'0') + if s.id.starts_with('P') { 3.0 } else { 0.0 };
            let group = group_of(s.go_live, &periods).map(|g| g as i32);
            let step = if group.is_some_and(|g| year >= g) { 2.0 } else { 0.0 };
            // the go-live year itself moves half way (partly treated): it must not count
            let half = if group.is_some_and(|g| year == g - 1) { 7.0 } else { 0.0 };
            Some(level + 0.5 * f64::from(year - 2005) + step + half)
        };
        let config = Config::default().check().unwrap();
        let rows = rows("turnover_rate", "all", &refs, &periods, value, &config, true);
        let simple = rows.iter().find(|r| r.kind == "simple").unwrap();
        assert!((simple.estimate.unwrap() - 2.0).abs() < 1e-12, "{simple:?}");
        assert!(simple.ri_p_value.is_some() && simple.ri_exact == Some(true));
        assert_eq!(simple.ri_assignments, Some(10), "C(5, 2) assignments");
        let pre: Vec<&SiteDidRow> =
            rows.iter().filter(|r| r.kind == "dynamic" && r.event.is_some_and(|e| e < -1)).collect();
        assert!(!pre.is_empty() && pre.iter().all(|r| r.estimate.unwrap().abs() < 1e-12));
        let go_live_year = rows.iter().find(|r| r.kind == "dynamic" && r.event == Some(-1)).unwrap();
        assert!((go_live_year.estimate.unwrap() - 7.0).abs() < 1e-12, "e = -1 is the partly treated year");
        let groups: Vec<_> = rows.iter().filter(|r| r.kind == "group" && r.group.is_some()).collect();
        assert_eq!(groups.iter().map(|r| r.group.clone().unwrap()).collect::<Vec<_>>(), ["2010-11", "2011-12"]);
        assert!(rows.iter().any(|r| r.kind == "att_gt") && rows.iter().all(|r| r.estimator == "cs"));
        // one pilot: the simple ATT and its randomisation p only
        let one = rows_for_one(&sites, &periods, value, &config);
        assert!(one.se.is_none() && one.ci_low.is_none() && one.p_value.is_none() && one.ri_p_value.is_some());
        assert!((one.estimate.unwrap() - 2.0).abs() < 1e-12);
    }

    /// Test inversion finds where p crosses alpha on both sides, and leaves a side open when
    /// the test never rejects there.
    #[test]
    fn the_randomisation_interval_inverts_the_test() {
        let p = |tau: f64| (-(tau - 1.0) * (tau - 1.0)).exp();
        let half = 20f64.ln().sqrt();
        let (low, high) = ri_interval(1.2, 0.5, 0.05, p);
        assert!((low.unwrap() - (1.0 - half)).abs() < 1e-3, "{low:?}");
        assert!((high.unwrap() - (1.0 + half)).abs() < 1e-3, "{high:?}");
        let (low, high) = ri_interval(0.0, 1.0, 0.05, |tau| if tau > 3.0 { 0.01 } else { 0.5 });
        assert!(low.is_none() && (high.unwrap() - 3.0).abs() < 1e-3);
    }

    fn rows_for_one(
        sites: &[Site],
        periods: &[Period],
        value: impl Fn(&Site, usize) -> Option<f64>,
        config: &ValidConfig,
    ) -> SiteDidRow {
        let refs: Vec<&Site> = [&sites[0], &sites[2], &sites[3], &sites[4]].into_iter().collect();
        let mut r = rows("turnover_rate", "P1", &refs, periods, value, config, false);
        assert_eq!(r.len(), 1);
        r.remove(0)
    }
}
