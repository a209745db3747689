//! The effect estimates of EVALUATION.md "Outcomes" on the matched sample: one function per
//! kind of row, each returning [`EffectRow`]s with CR2 site-clustered inference (Bell-McCaffrey
//! df), the subclass-clustered secondary column and, on linear rows, the wild cluster
//! bootstrap.

use crate::error::{at, Result};
use crate::Detail;
use serde::Serialize;
use swp_stats::bootstrap::{BootType, WildParams, WildProblem};
use swp_stats::distributions::{pnorm, qnorm};
use swp_stats::effects::standardised_weighted;
use swp_stats::glm::{Family, GlmFit, GlmParams};
use swp_stats::regression::{cr2_inverse_variance, se_cr2_inverse_variance, wls, Inference, WlsFit};
use swp_stats::survival::{cox_weighted, kaplan_meier_weighted, log_rank, KaplanMeier};
use swp_stats::Matrix;

/// One estimate row of `effects.json` (EVALUATION.md "Outputs", plus the standard error, its
/// degrees of freedom and the subclass-clustered secondary column).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectRow {
    /// Outcome name.
    pub outcome: String,
    /// `count`, `binary`, `time_to_event` or `measure`.
    pub kind: &'static str,
    /// `rate_ratio`, `rate_difference`, `risk_difference`, `risk_ratio`, `odds_ratio`,
    /// `hazard_ratio`, `mean_difference`, `hedges_g` or `did`.
    pub estimate_type: &'static str,
    /// The estimate (ratios on their own scale).
    pub estimate: Option<f64>,
    /// Lower 95% limit.
    pub ci_low: Option<f64>,
    /// Upper 95% limit.
    pub ci_high: Option<f64>,
    /// Two-sided p-value (t with the row's df).
    pub p_value: Option<f64>,
    /// Holm-adjusted p-value (primary rows only).
    pub p_holm: Option<f64>,
    /// Wild cluster bootstrap p-value of the outcome's linear row (null imposed).
    pub wild_p_value: Option<f64>,
    /// `cr2`, `cr1_cox_robust` or `noncentral_t` (Hedges' g).
    pub se_method: &'static str,
    /// Matched treated children in the row.
    pub n_treated: Option<u64>,
    /// Matched control children in the row.
    pub n_control: Option<u64>,
    /// Sites in the row's sample.
    pub n_clusters: usize,
    /// Whether this is the outcome's primary row.
    pub primary: bool,
    /// Standard error (of the log for ratios).
    pub se: Option<f64>,
    /// Degrees of freedom of the t reference.
    pub df: Option<f64>,
    /// Secondary: standard error clustered on the matching subclass (ignores site clustering).
    pub se_subclass: Option<f64>,
    /// Secondary: lower limit (normal).
    pub ci_low_subclass: Option<f64>,
    /// Secondary: upper limit (normal).
    pub ci_high_subclass: Option<f64>,
    /// Secondary: p-value (normal).
    pub p_value_subclass: Option<f64>,
    /// Weighted mean (rate per child-year, risk, or mean) in the treated group.
    pub mean_treated: Option<f64>,
    /// The same in the control group.
    pub mean_control: Option<f64>,
    /// Events (count outcomes: the total count; binary: children with the outcome;
    /// time to event: events) among treated children, unweighted.
    pub events_treated: Option<f64>,
    /// The same among controls.
    pub events_control: Option<f64>,
    /// Whether a count in this row was suppressed (small numbers).
    pub suppressed: bool,
}

/// The matched sample as the estimators see it.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Treated or control.
    pub treated: Vec<bool>,
    /// Match weights (all positive).
    pub weights: Vec<f64>,
    /// Site of each child, as 0..G.
    pub site: Vec<usize>,
    /// Matching subclass of each child (None with replacement: each child its own cluster).
    pub subclass: Option<Vec<usize>>,
}

impl Sample {
    /// The sample restricted to `rows`.
    pub fn subset(&self, rows: &[usize]) -> Sample {
        Sample {
            treated: rows.iter().map(|&i| self.treated[i]).collect(),
            weights: rows.iter().map(|&i| self.weights[i]).collect(),
            site: rows.iter().map(|&i| self.site[i]).collect(),
            subclass: self.subclass.as_ref().map(|s| rows.iter().map(|&i| s[i]).collect()),
        }
    }

    fn n(&self, treated: bool) -> u64 {
        self.treated.iter().filter(|&&t| t == treated).count() as u64
    }

    fn clusters(&self) -> usize {
        let mut s = self.site.clone();
        s.sort_unstable();
        s.dedup();
        s.len()
    }

    fn secondary_clusters(&self) -> Vec<usize> {
        self.subclass.clone().unwrap_or_else(|| (0..self.treated.len()).collect())
    }

    pub(crate) fn design(&self) -> Matrix {
        Matrix::from_rows(&self.treated.iter().map(|&t| vec![1.0, f64::from(u8::from(t))]).collect::<Vec<_>>())
    }

    fn weighted_mean(&self, y: &[f64], extra: Option<&[f64]>, treated: bool) -> Option<f64> {
        let (mut s, mut w) = (0.0, 0.0);
        for i in 0..y.len() {
            if self.treated[i] == treated {
                let wi = self.weights[i] * extra.map_or(1.0, |e| e[i]);
                s += wi * y[i];
                w += wi;
            }
        }
        (w > 0.0).then(|| s / w)
    }

    pub(crate) fn total(&self, y: &[f64], treated: bool) -> f64 {
        (0..y.len()).filter(|&i| self.treated[i] == treated).map(|i| y[i]).sum()
    }
}

/// The rows of an outcome that could not be estimated: kind, estimate types and counts, no
/// numbers (EVALUATION.md's row order is kept).
pub fn empty_rows(outcome: &str, s: &Sample) -> Vec<EffectRow> {
    let (kind, types): (&'static str, &[&'static str]) = match outcome {
        "sw_changes" | "placement_moves" => ("count", &["rate_ratio", "rate_difference"]),
        "three_plus_placements" => ("binary", &["risk_difference", "risk_ratio", "odds_ratio"]),
        _ => ("time_to_event", &["hazard_ratio"]),
    };
    types
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let mut r = row(outcome, kind, t, s);
            r.primary = k == 0;
            if *t == "hazard_ratio" {
                r.se_method = "cr1_cox_robust";
            }
            r
        })
        .collect()
}

/// Settings of the wild bootstrap.
pub type Wild = WildParams;

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn row(outcome: &str, kind: &'static str, estimate_type: &'static str, sample: &Sample) -> EffectRow {
    EffectRow {
        outcome: outcome.to_string(),
        kind,
        estimate_type,
        estimate: None,
        ci_low: None,
        ci_high: None,
        p_value: None,
        p_holm: None,
        wild_p_value: None,
        se_method: "cr2",
        n_treated: Some(sample.n(true)),
        n_control: Some(sample.n(false)),
        n_clusters: sample.clusters(),
        primary: false,
        se: None,
        df: None,
        se_subclass: None,
        ci_low_subclass: None,
        ci_high_subclass: None,
        p_value_subclass: None,
        mean_treated: None,
        mean_control: None,
        events_treated: None,
        events_control: None,
        suppressed: false,
    }
}

/// Fills the estimate and interval from `inference` (a coefficient; `exp` for ratios).
fn fill(r: &mut EffectRow, inference: &Inference, coef: f64, exp: bool) {
    let t = Inference::t(coef, inference.se, inference.df);
    let f = |x: f64| if exp { x.exp() } else { x };
    r.estimate = finite(f(coef));
    r.ci_low = finite(f(t.ci_low));
    r.ci_high = finite(f(t.ci_high));
    r.p_value = finite(t.p_value);
    r.se = finite(inference.se);
    r.df = finite(inference.df);
}

/// Fills the secondary column from a standard error (normal reference).
fn fill_secondary(r: &mut EffectRow, coef: f64, se: f64, exp: bool) {
    let z = qnorm(0.975);
    let f = |x: f64| if exp { x.exp() } else { x };
    r.se_subclass = finite(se);
    r.ci_low_subclass = finite(f(coef - z * se));
    r.ci_high_subclass = finite(f(coef + z * se));
    r.p_value_subclass = finite(2.0 * pnorm(-(coef / se).abs()));
}

/// CR2 inference on coefficient 1 of a WLS, and the subclass-clustered SE.
fn cr2_pair(fit: &WlsFit, sample: &Sample, step: &str) -> Result<(Inference, f64)> {
    let site = fit.cr2_inference(&sample.site, 1).map_err(at(format!("{step}: CR2 on site")))?;
    let secondary = fit.vcov_cr2(&sample.secondary_clusters()).map_err(at(format!("{step}: CR2 on subclass")))?;
    let k = fit.k();
    Ok((site, secondary[k + 1].sqrt()))
}

/// CR2 of a GLM's treatment coefficient as clubSandwich computes it for a `glm`, on site, and
/// the subclass-clustered SE.
fn glm_cr2(
    glm: &GlmFit,
    family: Family,
    x: &Matrix,
    y: &[f64],
    s: &Sample,
    step: &str,
    detail: Detail,
) -> Result<(Inference, Option<f64>)> {
    let (d, e, w) = glm.sandwich_parts(family, x, y, Some(&s.weights)).map_err(at(step.to_string()))?;
    let (se, df) = cr2_inverse_variance(&d, &e, &w, &s.site, 1).map_err(at(format!("{step}: CR2 on site")))?;
    let se2 = match detail {
        Detail::Full => Some(
            se_cr2_inverse_variance(&d, &e, &w, &s.secondary_clusters(), 1)
                .map_err(at(format!("{step}: CR2 on subclass")))?,
        ),
        Detail::Primary => None,
    };
    Ok((Inference { estimate: glm.coef[1], se, df, p_value: f64::NAN, ci_low: f64::NAN, ci_high: f64::NAN }, se2))
}

pub(crate) fn wild_p(
    x: &Matrix,
    y: &[f64],
    w: &[f64],
    sample: &Sample,
    params: &Wild,
    step: &str,
) -> Result<Option<f64>> {
    let problem = WildProblem::new(x, y, Some(w), &sample.site, 1).map_err(at(format!("{step}: wild bootstrap")))?;
    let params =
        WildParams { kind: BootType::Wcr, ..*params }.check().map_err(at(format!("{step}: wild bootstrap")))?;
    Ok(finite(problem.test(0.0, &params).p_value))
}

/// A count outcome: the rate ratio (Poisson GLM with a log-exposure offset, prior weights =
/// match weights; CR2 of the GLM's working regression) and the rate difference (WLS of
/// count / exposure with weights = match weight x exposure). The wild bootstrap runs on the
/// rate difference; its p-value is shown on both rows.
///
/// With [`Detail::Primary`] only the rate ratio, without its secondary column.
pub fn count_rows(
    outcome: &str,
    count: &[f64],
    exposure: &[f64],
    s: &Sample,
    wild: &Wild,
    detail: Detail,
) -> Result<Vec<EffectRow>> {
    let x = s.design();
    // with no event in an arm the rate ratio is 0 or infinite (R's glm returns a huge number):
    // it is left empty, the rate difference is still estimated
    let degenerate = s.total(count, true) == 0.0 || s.total(count, false) == 0.0;
    let offset: Vec<f64> = exposure.iter().map(|e| e.ln()).collect();
    let names = vec!["(Intercept)".to_string(), "treated".to_string()];
    let step = format!("{outcome}: rate ratio");
    let mut ratio = row(outcome, "count", "rate_ratio", s);
    ratio.primary = true;
    if !degenerate {
        let glm = GlmParams::new(Family::Poisson)
            .check()
            .and_then(|g| g.fit_weighted(&x, &names, count, Some(&offset), Some(&s.weights)))
            .map_err(at(step.clone()))?;
        let (inf, se2) = glm_cr2(&glm, Family::Poisson, &x, count, s, &step, detail)?;
        fill(&mut ratio, &inf, glm.coef[1], true);
        if let Some(se2) = se2 {
            fill_secondary(&mut ratio, glm.coef[1], se2, true);
        }
    }
    if detail == Detail::Primary {
        return Ok(vec![ratio]);
    }

    let step = format!("{outcome}: rate difference");
    let rate: Vec<f64> = count.iter().zip(exposure).map(|(c, e)| c / e).collect();
    let w: Vec<f64> = s.weights.iter().zip(exposure).map(|(a, b)| a * b).collect();
    let fit = wls(&x, &rate, Some(&w)).map_err(at(step.clone()))?;
    let (inf, se2) = cr2_pair(&fit, s, &step)?;
    let mut difference = row(outcome, "count", "rate_difference", s);
    fill(&mut difference, &inf, fit.coef[1], false);
    fill_secondary(&mut difference, fit.coef[1], se2, false);
    let p = wild_p(&x, &rate, &w, s, wild, &step)?;
    for r in [&mut ratio, &mut difference] {
        r.wild_p_value = p;
        r.mean_treated = s.weighted_mean(&rate, Some(exposure), true);
        r.mean_control = s.weighted_mean(&rate, Some(exposure), false);
        r.events_treated = Some(s.total(count, true));
        r.events_control = Some(s.total(count, false));
    }
    Ok(vec![ratio, difference])
}

/// The cost outcome (kind `cost`): the difference of the arms' pooled costs per child-year,
/// as the rate difference is estimated (WLS of cost / exposure with weights = match weight x
/// exposure), with CR2 on site, the subclass column and the wild cluster bootstrap.
pub fn cost_rows(outcome: &str, cost: &[f64], exposure: &[f64], s: &Sample, wild: &Wild) -> Result<Vec<EffectRow>> {
    let x = s.design();
    let step = format!("{outcome}: mean difference");
    let per_year: Vec<f64> = cost.iter().zip(exposure).map(|(c, e)| c / e).collect();
    let w: Vec<f64> = s.weights.iter().zip(exposure).map(|(a, b)| a * b).collect();
    let fit = wls(&x, &per_year, Some(&w)).map_err(at(step.clone()))?;
    let (inf, se2) = cr2_pair(&fit, s, &step)?;
    let mut r = row(outcome, "cost", "mean_difference", s);
    fill(&mut r, &inf, fit.coef[1], false);
    fill_secondary(&mut r, fit.coef[1], se2, false);
    r.wild_p_value = wild_p(&x, &per_year, &w, s, wild, &step)?;
    r.mean_treated = s.weighted_mean(&per_year, Some(exposure), true);
    r.mean_control = s.weighted_mean(&per_year, Some(exposure), false);
    Ok(vec![r])
}

/// A binary outcome: risk difference (weighted linear probability model, the primary row and
/// the wild bootstrap's), risk ratio (log-link quasi-Poisson GLM) and odds ratio (logit
/// quasibinomial GLM), each with CR2 on site.
///
/// With [`Detail::Primary`] only the risk difference, without its secondary column.
pub fn binary_rows(outcome: &str, y: &[f64], s: &Sample, wild: &Wild, detail: Detail) -> Result<Vec<EffectRow>> {
    let x = s.design();
    let names = vec!["(Intercept)".to_string(), "treated".to_string()];
    let step = format!("{outcome}: risk difference");
    let fit = wls(&x, y, Some(&s.weights)).map_err(at(step.clone()))?;
    let mut rd = row(outcome, "binary", "risk_difference", s);
    rd.primary = true;
    if detail == Detail::Primary {
        let site = fit.cr2_inference(&s.site, 1).map_err(at(format!("{step}: CR2 on site")))?;
        fill(&mut rd, &site, fit.coef[1], false);
        return Ok(vec![rd]);
    }
    let (inf, se2) = cr2_pair(&fit, s, &step)?;
    fill(&mut rd, &inf, fit.coef[1], false);
    fill_secondary(&mut rd, fit.coef[1], se2, false);
    let p = wild_p(&x, y, &s.weights, s, wild, &step)?;
    let mut rows = vec![rd];
    // an arm where nobody (or, for the odds, everybody) has the outcome makes the ratios 0 or
    // infinite: they are left empty
    let (events_t, events_c) = (s.total(y, true), s.total(y, false));
    let all = |t: bool| s.n(t) as f64;
    for (family, estimate_type) in [(Family::Poisson, "risk_ratio"), (Family::Logit, "odds_ratio")] {
        let degenerate = events_t == 0.0
            || events_c == 0.0
            || (family == Family::Logit && (events_t == all(true) || events_c == all(false)));
        if degenerate {
            rows.push(row(outcome, "binary", estimate_type, s));
            continue;
        }
        let step = format!("{outcome}: {estimate_type}");
        let glm = GlmParams::new(family)
            .check()
            .and_then(|g| g.fit_weighted(&x, &names, y, None, Some(&s.weights)))
            .map_err(at(step.clone()))?;
        let (inf, se2) = glm_cr2(&glm, family, &x, y, s, &step, detail)?;
        let mut r = row(outcome, "binary", estimate_type, s);
        fill(&mut r, &inf, glm.coef[1], true);
        if let Some(se2) = se2 {
            fill_secondary(&mut r, glm.coef[1], se2, true);
        }
        rows.push(r);
    }
    for r in &mut rows {
        r.wild_p_value = p;
        r.mean_treated = s.weighted_mean(y, None, true);
        r.mean_control = s.weighted_mean(y, None, false);
        r.events_treated = Some(s.total(y, true));
        r.events_control = Some(s.total(y, false));
    }
    Ok(rows)
}

/// Kaplan-Meier curves by arm and the test of their difference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurvivalResult {
    /// Outcome name.
    pub outcome: String,
    /// Treated children's curve.
    pub treated: Curve,
    /// Controls' curve.
    pub control: Curve,
    /// `log_rank` (all weights 1) or `robust_score` (weighted Cox, clustered on site).
    pub test: &'static str,
    /// Chi-square statistic, 1 df.
    pub chi_square: Option<f64>,
    /// Its p-value.
    pub p_value: Option<f64>,
}

/// One Kaplan-Meier curve (steps at the event times), with the numbers at risk at fixed times.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Curve {
    /// Days since the index date (event and censoring times).
    pub time: Vec<f64>,
    /// Survival after each time.
    pub survival: Vec<f64>,
    /// Lower 95% limit (log interval).
    pub lower: Vec<Option<f64>>,
    /// Upper 95% limit.
    pub upper: Vec<Option<f64>>,
    /// Median time (R survival's rule), None if not reached.
    pub median: Option<f64>,
    /// Times of the at-risk table (every 6 months of the window).
    pub at_risk_times: Vec<f64>,
    /// Children (weighted) at risk just before each of those times (None: suppressed).
    pub at_risk: Vec<Option<f64>>,
}

fn curve(km: &KaplanMeier, grid: &[f64]) -> Curve {
    let at_risk = grid
        .iter()
        .map(|&t| {
            // at risk just before t: the risk set of the first curve time >= t
            km.time.iter().position(|&u| u >= t).map_or(Some(0.0), |i| Some(km.n_risk[i]))
        })
        .collect();
    Curve {
        time: km.time.clone(),
        survival: km.survival.clone(),
        lower: km.lower.clone(),
        upper: km.upper.clone(),
        median: km.median(),
        at_risk_times: grid.to_vec(),
        at_risk,
    }
}

/// A time-to-event outcome: the hazard ratio of the weighted Cox model (Efron ties) with the
/// site-clustered robust error times sqrt(G / (G - 1)) and t on G - 1 df; the secondary
/// column the robust error clustered on subclass (normal). Kaplan-Meier curves by arm and the
/// log-rank test (the robust score test when weights vary). With [`Detail::Primary`] the hazard
/// ratio only (empty curves, no test, no secondary column).
pub fn time_to_event_rows(
    outcome: &str,
    time: &[f64],
    event: &[bool],
    s: &Sample,
    window_days: f64,
    detail: Detail,
) -> Result<(Vec<EffectRow>, SurvivalResult)> {
    let step = format!("{outcome}: hazard ratio");
    let cox = cox_weighted(time, event, &s.treated, &s.weights, Some(&s.site)).map_err(at(step.clone()))?;
    let g = cox.clusters as f64;
    let se = cox.se_robust * (g / (g - 1.0)).sqrt();
    let mut hr = row(outcome, "time_to_event", "hazard_ratio", s);
    hr.primary = true;
    hr.se_method = "cr1_cox_robust";
    fill(
        &mut hr,
        &Inference { estimate: cox.coef, se, df: g - 1.0, p_value: 0.0, ci_low: 0.0, ci_high: 0.0 },
        cox.coef,
        true,
    );
    if detail == Detail::Primary {
        let none = Curve::default();
        let survival = SurvivalResult {
            outcome: outcome.to_string(),
            treated: none.clone(),
            control: none,
            test: "none",
            chi_square: None,
            p_value: None,
        };
        return Ok((vec![hr], survival));
    }
    let secondary = cox_weighted(time, event, &s.treated, &s.weights, Some(&s.secondary_clusters()))
        .map_err(at(format!("{step} (subclass)")))?;
    fill_secondary(&mut hr, cox.coef, secondary.se_robust, true);
    let ev: Vec<f64> = event.iter().map(|&e| f64::from(u8::from(e))).collect();
    hr.events_treated = Some(s.total(&ev, true));
    hr.events_control = Some(s.total(&ev, false));

    let arm = |treated: bool| -> Result<KaplanMeier> {
        let idx: Vec<usize> = (0..time.len()).filter(|&i| s.treated[i] == treated).collect();
        let t: Vec<f64> = idx.iter().map(|&i| time[i]).collect();
        let e: Vec<bool> = idx.iter().map(|&i| event[i]).collect();
        let w: Vec<f64> = idx.iter().map(|&i| s.weights[i]).collect();
        kaplan_meier_weighted(&t, &e, &w).map_err(at(format!("{outcome}: Kaplan-Meier")))
    };
    let grid: Vec<f64> = (0..).map(|k| 1.0 + 182.0 * k as f64).take_while(|&t| t <= window_days).collect();
    let unit = s.weights.iter().all(|&w| w == 1.0);
    let (test, chi, p) = if unit {
        let lr = log_rank(time, event, &s.treated).map_err(at(format!("{outcome}: log-rank")))?;
        ("log_rank", lr.chi_square, lr.p_value)
    } else {
        ("robust_score", cox.robust_score.0, cox.robust_score.1)
    };
    let km_treated = arm(true)?;
    let km_control = arm(false)?;
    hr.mean_treated = km_treated.median();
    hr.mean_control = km_control.median();
    let survival = SurvivalResult {
        outcome: outcome.to_string(),
        treated: curve(&km_treated, &grid),
        control: curve(&km_control, &grid),
        test,
        chi_square: finite(chi),
        p_value: finite(p),
    };
    Ok((vec![hr], survival))
}

/// An outcome measure (complete cases: baseline and follow-up both present): the difference in
/// follow-up means adjusted for the baseline value (WLS of follow-up on treatment and baseline),
/// Hedges' g of the follow-up values (weighted; noncentral-t interval, which ignores the
/// clustering), and the difference-in-differences (WLS of follow-up - baseline on treatment).
pub fn measure_rows(outcome: &str, baseline: &[f64], follow_up: &[f64], s: &Sample) -> Result<Vec<EffectRow>> {
    let step = format!("{outcome}: mean difference");
    let x = Matrix::from_rows(
        &s.treated.iter().zip(baseline).map(|(&t, &b)| vec![1.0, f64::from(u8::from(t)), b]).collect::<Vec<_>>(),
    );
    let fit = wls(&x, follow_up, Some(&s.weights)).map_err(at(step.clone()))?;
    let site = fit.cr2_inference(&s.site, 1).map_err(at(step.clone()))?;
    let secondary = fit.vcov_cr2(&s.secondary_clusters()).map_err(at(step.clone()))?;
    let mut md = row(outcome, "measure", "mean_difference", s);
    fill(&mut md, &site, fit.coef[1], false);
    fill_secondary(&mut md, fit.coef[1], secondary[fit.k() + 1].sqrt(), false);

    let mut g = row(outcome, "measure", "hedges_g", s);
    g.se_method = "noncentral_t";
    let pick = |treated: bool, v: &[f64]| -> Vec<f64> {
        (0..v.len()).filter(|&i| s.treated[i] == treated).map(|i| v[i]).collect()
    };
    if let Ok(st) = standardised_weighted(
        &pick(true, follow_up),
        &pick(true, &s.weights),
        &pick(false, follow_up),
        &pick(false, &s.weights),
    ) {
        g.estimate = finite(st.hedges_g);
        g.ci_low = finite(st.hedges_g_ci.0);
        g.ci_high = finite(st.hedges_g_ci.1);
    }

    let step = format!("{outcome}: difference in differences");
    let change: Vec<f64> = follow_up.iter().zip(baseline).map(|(f, b)| f - b).collect();
    let x2 = s.design();
    let fit = wls(&x2, &change, Some(&s.weights)).map_err(at(step.clone()))?;
    let (inf, se2) = cr2_pair(&fit, s, &step)?;
    let mut did = row(outcome, "measure", "did", s);
    fill(&mut did, &inf, fit.coef[1], false);
    fill_secondary(&mut did, fit.coef[1], se2, false);
    let mut rows = vec![md, g, did];
    for r in &mut rows {
        r.mean_treated = s.weighted_mean(follow_up, None, true);
        r.mean_control = s.weighted_mean(follow_up, None, false);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Sample {
        Sample {
            treated: (0..n).map(|i| i % 2 == 0).collect(),
            weights: vec![1.0; n],
            site: (0..n).map(|i| i % 4).collect(),
            subclass: Some((0..n).map(|i| i / 2).collect()),
        }
    }

    /// An outcome with no events cannot be estimated: the error says why, and its empty rows
    /// keep EVALUATION.md's kinds and order (the pipeline reports a warning and goes on).
    #[test]
    fn outcomes_without_events_fail_cleanly_and_keep_their_rows() {
        let s = sample(16);
        let time = vec![100.0; 16];
        let event = vec![false; 16];
        let err = time_to_event_rows("time_to_sw_change", &time, &event, &s, 730.0, Detail::Full).unwrap_err();
        assert!(err.to_string().contains("no events"), "{err}");
        let rows = empty_rows("three_plus_placements", &s);
        let kinds: Vec<&str> = rows.iter().map(|r| r.estimate_type).collect();
        assert_eq!(kinds, ["risk_difference", "risk_ratio", "odds_ratio"]);
        assert!(rows[0].primary && !rows[1].primary && rows.iter().all(|r| r.estimate.is_none()));
        assert_eq!(rows[0].n_treated, Some(8));
        assert_eq!(empty_rows("time_to_placement_move", &s)[0].se_method, "cr1_cox_robust");
        // a binary outcome that never happens among controls separates the logit: an error, not a number
        let y: Vec<f64> = (0..16).map(|i| f64::from(u8::from(i % 2 == 0 && i % 4 == 0))).collect();
        let wild = Wild { reps: 99, ..Wild::default() };
        let rows = binary_rows("three_plus_placements", &y, &s, &wild, Detail::Full).unwrap();
        assert!(rows[0].estimate.is_some(), "the risk difference is still estimated");
        assert!(rows[1].estimate.is_none() && rows[2].estimate.is_none(), "no infinite ratios");
        let counts: Vec<f64> = (0..16).map(|i| if i % 2 == 0 { 1.0 } else { 0.0 }).collect();
        let rows = count_rows("sw_changes", &counts, &[1.0; 16], &s, &wild, Detail::Full).unwrap();
        assert!(rows[0].estimate.is_none() && rows[1].estimate.is_some());
    }
}
