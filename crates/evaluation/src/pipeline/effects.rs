//! The effect estimates of docs/evaluation.md "Outcomes" on the matched sample: one function per
//! kind of row, each returning [`EffectRow`]s with CR2 site-clustered inference (Bell-McCaffrey
//! df), the subclass-clustered secondary column and, on linear rows, the wild cluster
//! bootstrap.

use super::adjust::{cox_design, g_computation, Contrast, Model, Separation};
use super::cohort::Cohort;
use super::matching::{matched_sample, Sample};
use super::Detail;
use crate::config::ValidConfig;
use crate::error::{at, Result};
use crate::results::{Curve, EffectRow, SurvivalResult};
use crate::vocab::{Estimand, EstimateType, Outcome, RowOutcome, SeMethod};
use std::borrow::Cow;
use swp_data::Dataset;
use swp_stats::bootstrap::{BootType, WildParams, WildProblem};
use swp_stats::cox::cox_adjusted;
use swp_stats::distributions::{pnorm, qnorm};
use swp_stats::glm::{Family, GlmFit, GlmParams};
use swp_stats::matching::Matching;
use swp_stats::regression::{
    cr2_inverse_variance, se_cr2_inverse_variance, vcov_cr2_inverse_variance, wls, Inference, WlsFit,
};
use swp_stats::survival::{cox_weighted_stratified, kaplan_meier_weighted, log_rank, KaplanMeier};
use swp_stats::Matrix;

/// The rows of an outcome that could not be estimated: kind, estimate types and counts, no
/// numbers (docs/evaluation.md's row order is kept).
pub fn empty_rows(outcome: Outcome, s: &Sample) -> Vec<EffectRow> {
    outcome
        .estimate_types()
        .iter()
        .enumerate()
        .map(|(k, &t)| {
            let mut r = row(outcome, t, s);
            r.primary = k == 0;
            if t == EstimateType::HazardRatio {
                r.se_method = SeMethod::Cr1CoxRobust;
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

fn row(outcome: impl Into<RowOutcome>, estimate_type: EstimateType, sample: &Sample) -> EffectRow {
    EffectRow {
        n_treated: Some(sample.n(true)),
        n_control: Some(sample.n(false)),
        n_clusters: sample.clusters(),
        ..EffectRow::new(outcome, estimate_type)
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

/// The treatment coefficient's CR2 standard error clustered on the matching subclass.
fn secondary_se(fit: &WlsFit, sample: &Sample, step: &str) -> Result<f64> {
    let secondary = fit.vcov_cr2(&sample.secondary_clusters()).map_err(at(format!("{step}: CR2 on subclass")))?;
    Ok(secondary[fit.k() + 1].sqrt())
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
    let (se, df) = if detail == Detail::Estimate {
        (f64::NAN, f64::NAN)
    } else if detail == Detail::Statistic {
        // the t statistic needs no degrees of freedom
        let se = se_cr2_inverse_variance(&d, &e, &w, &s.site, 1).map_err(at(format!("{step}: CR2 on site")))?;
        (se, f64::NAN)
    } else {
        cr2_inverse_variance(&d, &e, &w, &s.site, 1).map_err(at(format!("{step}: CR2 on site")))?
    };
    let se2 = match detail {
        Detail::Full => Some(
            se_cr2_inverse_variance(&d, &e, &w, &s.secondary_clusters(), 1)
                .map_err(at(format!("{step}: CR2 on subclass")))?,
        ),
        Detail::Primary | Detail::Statistic | Detail::Estimate => None,
    };
    Ok((Inference { estimate: glm.coef[1], se, df, p_value: f64::NAN, ci_low: f64::NAN, ci_high: f64::NAN }, se2))
}

/// A ratio row by g-computation on the adjusted model (docs/evaluation.md "Estimation after
/// matching"): separated cells set aside, the GLM of `family` (offset `offset`) refitted on the
/// rest, the contrast of the treated's mean predicted outcomes and its delta-method standard
/// error on the CR2 covariance clustered on site (and, with [`Detail::Full`], on subclass).
/// `model`: the sample's adjusted design under its own weights when the caller has built it
/// (used when nothing is set aside). None when the contrast is out of range.
#[allow(clippy::too_many_arguments)]
fn g_ratio(
    family: Family,
    contrast: Contrast,
    y: &[f64],
    offset: Option<&[f64]>,
    s: &Sample,
    model: Option<&Model>,
    step: &str,
    detail: Detail,
) -> Result<Option<(f64, f64, Option<f64>)>> {
    let separation = Separation::find(s, y, family);
    let rows = separation.fitted_rows(s);
    let pick = |v: &[f64]| -> Vec<f64> { rows.iter().map(|&i| v[i]).collect() };
    let (sub, y_fit, offset_fit) = if separation.is_empty() {
        (Cow::Borrowed(s), Cow::Borrowed(y), offset.map(Cow::Borrowed))
    } else {
        (Cow::Owned(s.subset(&rows)), Cow::Owned(pick(y)), offset.map(|o| Cow::Owned(pick(o))))
    };
    let built;
    let model = match model.filter(|_| separation.is_empty()) {
        Some(model) => model,
        None => {
            built = Model::new(&sub, &[], &sub.weights);
            &built
        }
    };
    let glm = GlmParams::new(family)
        .check()
        .and_then(|g| g.fit_weighted(&model.x, &model.names, &y_fit[..], offset_fit.as_deref(), Some(&sub.weights)))
        .map_err(at(step.to_string()))?;
    let (d, e, w) = glm.sandwich_parts(family, &model.x, &y_fit, Some(&sub.weights)).map_err(at(step.to_string()))?;
    // the contrast alone at Detail::Estimate: no covariance, no standard error
    let vcov = (detail != Detail::Estimate)
        .then(|| vcov_cr2_inverse_variance(&d, &e, &w, &sub.site).map_err(at(format!("{step}: CR2 on site"))))
        .transpose()?;
    let Some((theta, se)) = g_computation(model, s, &separation, &glm, family, contrast, vcov.as_deref()) else {
        return Ok(None);
    };
    let se2 = if detail == Detail::Full {
        let v2 = vcov_cr2_inverse_variance(&d, &e, &w, &sub.secondary_clusters())
            .map_err(at(format!("{step}: CR2 on subclass")))?;
        g_computation(model, s, &separation, &glm, family, contrast, Some(&v2)).map(|x| x.1)
    } else {
        None
    };
    Ok(Some((theta, se, se2)))
}

/// The wild cluster bootstrap of coefficient 1 (WCR, null imposed): its p-value, and with
/// `interval` its 95% interval by test inversion.
pub(crate) fn wild(
    x: &Matrix,
    y: &[f64],
    w: &[f64],
    sample: &Sample,
    params: &Wild,
    step: &str,
    interval: bool,
) -> Result<WildOut> {
    let problem = WildProblem::new(x, y, Some(w), &sample.site, 1).map_err(at(format!("{step}: wild bootstrap")))?;
    let params =
        WildParams { kind: BootType::Wcr, ..*params }.check().map_err(at(format!("{step}: wild bootstrap")))?;
    let p = finite(problem.test(0.0, &params).p_value);
    let ci = if interval { problem.confidence_interval(&params) } else { (f64::NAN, f64::NAN) };
    Ok(WildOut { p, low: finite(ci.0), high: finite(ci.1) })
}

/// The wild bootstrap's p-value and interval.
pub(crate) struct WildOut {
    pub(crate) p: Option<f64>,
    pub(crate) low: Option<f64>,
    pub(crate) high: Option<f64>,
}

impl WildOut {
    /// Fills the p-value on `r`, and the interval when `linear` (the row the bootstrap ran on).
    fn fill(&self, r: &mut EffectRow, linear: bool) {
        r.wild_p_value = self.p;
        if linear {
            r.wild_ci_low = self.low;
            r.wild_ci_high = self.high;
        }
    }
}

/// The designs the models of a sample share, each built once per sample (on first use) rather
/// than once per outcome, since an adjusted design drops collinear columns by a pass over the
/// rows: the effect models' design under the match weights (the count outcomes' ratios when no
/// cell is separated, and the binary outcome's rows) and, with adjustment, the Cox models'.
pub(crate) struct Designs<'s> {
    sample: &'s Sample,
    model: std::cell::OnceCell<Model>,
    cox: std::cell::OnceCell<Option<Matrix>>,
}

impl<'s> Designs<'s> {
    pub(crate) fn of(sample: &'s Sample) -> Self {
        Designs { sample, model: std::cell::OnceCell::new(), cox: std::cell::OnceCell::new() }
    }

    fn model(&self) -> &Model {
        self.model.get_or_init(|| Model::new(self.sample, &[], &self.sample.weights))
    }

    /// The Cox models' design with the covariates (None without adjustment).
    fn cox(&self) -> Option<&Matrix> {
        self.cox.get_or_init(|| self.sample.covariates.as_ref().map(|_| cox_design(self.sample))).as_ref()
    }
}

/// A count outcome: the rate ratio (Poisson GLM with a log-exposure offset, prior weights =
/// match weights; CR2 of the GLM's working regression) and the rate difference (WLS of
/// count / exposure with weights = match weight x exposure). The wild bootstrap runs on the
/// rate difference; its p-value is shown on both rows.
///
/// With [`Detail::Primary`] only the rate ratio, without its secondary column.
/// `designs`: the shared designs of `s` ([`Designs::of`]).
pub(crate) fn count_rows(
    outcome: Outcome,
    count: &[f64],
    exposure: &[f64],
    s: &Sample,
    wild: &Wild,
    detail: Detail,
    designs: &Designs,
) -> Result<Vec<EffectRow>> {
    // with no event in an arm the rate ratio is 0 or infinite (R's glm returns a huge number):
    // it is left empty, the rate difference is still estimated
    let degenerate = s.total(count, true) == 0.0 || s.total(count, false) == 0.0;
    let offset: Vec<f64> = exposure.iter().map(|e| e.ln()).collect();
    let rate: Vec<f64> = count.iter().zip(exposure).map(|(c, e)| c / e).collect();
    let w: Vec<f64> = s.weights.iter().zip(exposure).map(|(a, b)| a * b).collect();
    let adjusted = s.covariates.is_some();
    let step = format!("{outcome}: rate ratio");
    let mut ratio = row(outcome, EstimateType::RateRatio, s);
    ratio.primary = true;
    ratio.adjusted = adjusted;

    // the rate difference (the linear row): with adjustment its degrees of freedom are the rate
    // ratio's too
    let linear_step = format!("{outcome}: rate difference");
    let linear = if detail == Detail::Full || (adjusted && detail == Detail::Primary) {
        let model = Model::new(s, &[], &w);
        let fit = wls(&model.x, &rate, Some(&w)).map_err(at(linear_step.clone()))?;
        let site = fit.cr2_inference(&s.site, 1).map_err(at(format!("{linear_step}: CR2 on site")))?;
        Some((model, fit, site))
    } else {
        None
    };
    if !degenerate {
        if adjusted {
            if let Some((theta, se, se2)) = g_ratio(
                Family::Poisson,
                Contrast::Ratio,
                count,
                Some(&offset),
                s,
                Some(designs.model()),
                &step,
                detail,
            )? {
                let df = linear.as_ref().map_or(f64::NAN, |l| l.2.df);
                fill(
                    &mut ratio,
                    &Inference { estimate: theta, se, df, p_value: 0.0, ci_low: 0.0, ci_high: 0.0 },
                    theta,
                    true,
                );
                if let Some(se2) = se2 {
                    fill_secondary(&mut ratio, theta, se2, true);
                }
            }
        } else {
            let x = s.design();
            let names = s.names();
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
    }
    if detail != Detail::Full {
        return Ok(vec![ratio]);
    }
    let Some((model, fit, inf)) = linear else { return Ok(vec![ratio]) };
    let se2 = secondary_se(&fit, s, &linear_step)?;
    let mut difference = row(outcome, EstimateType::RateDifference, s);
    difference.adjusted = adjusted;
    fill(&mut difference, &inf, fit.coef[1], false);
    fill_secondary(&mut difference, fit.coef[1], se2, false);
    let boot = self::wild(&model.x, &rate, &w, s, wild, &linear_step, true)?;
    boot.fill(&mut difference, true);
    for r in [&mut ratio, &mut difference] {
        boot.fill(r, false);
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
pub fn cost_rows(outcome: Outcome, cost: &[f64], exposure: &[f64], s: &Sample, wild: &Wild) -> Result<Vec<EffectRow>> {
    let step = format!("{outcome}: mean difference");
    let per_year: Vec<f64> = cost.iter().zip(exposure).map(|(c, e)| c / e).collect();
    let w: Vec<f64> = s.weights.iter().zip(exposure).map(|(a, b)| a * b).collect();
    let model = Model::new(s, &[], &w);
    let x = model.x;
    let fit = wls(&x, &per_year, Some(&w)).map_err(at(step.clone()))?;
    let (inf, se2) = cr2_pair(&fit, s, &step)?;
    let mut r = row(outcome, EstimateType::MeanDifference, s);
    r.adjusted = model.adjusted;
    fill(&mut r, &inf, fit.coef[1], false);
    fill_secondary(&mut r, fit.coef[1], se2, false);
    self::wild(&x, &per_year, &w, s, wild, &step, true)?.fill(&mut r, true);
    r.mean_treated = s.weighted_mean(&per_year, Some(exposure), true);
    r.mean_control = s.weighted_mean(&per_year, Some(exposure), false);
    Ok(vec![r])
}

/// A binary outcome: risk difference (weighted linear probability model, the primary row and
/// the wild bootstrap's), risk ratio (log-link quasi-Poisson GLM) and odds ratio (logit
/// quasibinomial GLM), each with CR2 on site.
///
/// With [`Detail::Primary`] only the risk difference, without its secondary column.
/// `designs`: the shared designs of `s` ([`Designs::of`]).
pub(crate) fn binary_rows(
    outcome: Outcome,
    y: &[f64],
    s: &Sample,
    wild: &Wild,
    detail: Detail,
    designs: &Designs,
) -> Result<Vec<EffectRow>> {
    let adjusted = s.covariates.is_some();
    let model = designs.model();
    let x = &model.x;
    let step = format!("{outcome}: risk difference");
    let fit = wls(x, y, Some(&s.weights)).map_err(at(step.clone()))?;
    let mut rd = row(outcome, EstimateType::RiskDifference, s);
    rd.primary = true;
    rd.adjusted = adjusted;
    if detail == Detail::Estimate {
        rd.estimate = finite(fit.coef[1]);
        return Ok(vec![rd]);
    }
    if detail == Detail::Statistic {
        let vcov = fit.vcov_cr2(&s.site).map_err(at(format!("{step}: CR2 on site")))?;
        rd.estimate = finite(fit.coef[1]);
        rd.se = finite(vcov[fit.k() + 1].sqrt());
        return Ok(vec![rd]);
    }
    if detail == Detail::Primary {
        let site = fit.cr2_inference(&s.site, 1).map_err(at(format!("{step}: CR2 on site")))?;
        fill(&mut rd, &site, fit.coef[1], false);
        return Ok(vec![rd]);
    }
    let (inf, se2) = cr2_pair(&fit, s, &step)?;
    fill(&mut rd, &inf, fit.coef[1], false);
    fill_secondary(&mut rd, fit.coef[1], se2, false);
    let boot = self::wild(x, y, &s.weights, s, wild, &step, true)?;
    boot.fill(&mut rd, true);
    let linear_df = inf.df;
    let mut rows = vec![rd];
    // an arm where nobody (or, for the odds, everybody) has the outcome makes the ratios 0 or
    // infinite: they are left empty
    let (events_t, events_c) = (s.total(y, true), s.total(y, false));
    let all = |t: bool| s.n(t) as f64;
    for (family, estimate_type) in
        [(Family::Poisson, EstimateType::RiskRatio), (Family::Logit, EstimateType::OddsRatio)]
    {
        let degenerate = events_t == 0.0
            || events_c == 0.0
            || (family == Family::Logit && (events_t == all(true) || events_c == all(false)));
        let mut r = row(outcome, estimate_type, s);
        r.adjusted = adjusted;
        if degenerate {
            rows.push(r);
            continue;
        }
        let step = format!("{outcome}: {estimate_type}");
        if adjusted {
            let contrast = if family == Family::Logit { Contrast::Odds } else { Contrast::Ratio };
            if let Some((theta, se, se2)) = g_ratio(family, contrast, y, None, s, Some(model), &step, detail)? {
                let inference =
                    Inference { estimate: theta, se, df: linear_df, p_value: 0.0, ci_low: 0.0, ci_high: 0.0 };
                fill(&mut r, &inference, theta, true);
                if let Some(se2) = se2 {
                    fill_secondary(&mut r, theta, se2, true);
                }
            }
        } else {
            let glm = GlmParams::new(family)
                .check()
                .and_then(|g| g.fit_weighted(x, &model.names, y, None, Some(&s.weights)))
                .map_err(at(step.clone()))?;
            let (inf, se2) = glm_cr2(&glm, family, x, y, s, &step, detail)?;
            fill(&mut r, &inf, glm.coef[1], true);
            if let Some(se2) = se2 {
                fill_secondary(&mut r, glm.coef[1], se2, true);
            }
        }
        rows.push(r);
    }
    for r in &mut rows {
        boot.fill(r, false);
        r.mean_treated = s.weighted_mean(y, None, true);
        r.mean_control = s.weighted_mean(y, None, false);
        r.events_treated = Some(s.total(y, true));
        r.events_control = Some(s.total(y, false));
    }
    Ok(rows)
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
/// `designs`: the shared designs of `s` ([`Designs::of`]).
pub(crate) fn time_to_event_rows(
    outcome: Outcome,
    time: &[f64],
    event: &[bool],
    s: &Sample,
    window_days: f64,
    detail: Detail,
    designs: &Designs,
) -> Result<(Vec<EffectRow>, SurvivalResult)> {
    let step = format!("{outcome}: hazard ratio");
    // with stacks the Cox model is stratified by stack (docs/evaluation.md "Staggered go-lives")
    let strata = (s.stacks() > 1).then_some(s.stack.as_slice());
    // with adjustment the covariates join the model (a conditional hazard ratio)
    let adjusted_design = designs.cox();
    let fit = |cluster: Option<&[usize]>| -> Result<(f64, f64, usize)> {
        match adjusted_design {
            Some(x) => cox_adjusted(time, event, x, &s.weights, cluster, strata)
                .map(|c| (c.coef[0], c.se_robust(0), c.clusters))
                .map_err(at(step.clone())),
            None => cox_weighted_stratified(time, event, &s.treated, &s.weights, cluster, strata)
                .map(|c| (c.coef, c.se_robust, c.clusters))
                .map_err(at(step.clone())),
        }
    };
    let (coef, se_robust, clusters) = if detail == Detail::Estimate {
        // the coefficient alone: no site-clustered variance
        (fit(None)?.0, f64::NAN, 0)
    } else {
        fit(Some(&s.site))?
    };
    let g = clusters as f64;
    let se = se_robust * (g / (g - 1.0)).sqrt();
    let mut hr = row(outcome, EstimateType::HazardRatio, s);
    hr.primary = true;
    hr.adjusted = adjusted_design.is_some();
    hr.se_method = SeMethod::Cr1CoxRobust;
    fill(&mut hr, &Inference { estimate: coef, se, df: g - 1.0, p_value: 0.0, ci_low: 0.0, ci_high: 0.0 }, coef, true);
    if detail != Detail::Full {
        let none = Curve::default();
        let survival = SurvivalResult {
            outcome,
            treated: none.clone(),
            control: none,
            test: "none",
            chi_square: None,
            p_value: None,
        };
        return Ok((vec![hr], survival));
    }
    let (_, se_subclass, _) = fit(Some(&s.secondary_clusters()))?;
    fill_secondary(&mut hr, coef, se_subclass, true);
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
    // the plain log-rank test needs unit weights and one stratum; else the robust score test of
    // the (stratified) weighted Cox model
    let unit = s.weights.iter().all(|&w| w == 1.0) && strata.is_none();
    let (test, chi, p) = if unit {
        let lr = log_rank(time, event, &s.treated).map_err(at(format!("{outcome}: log-rank")))?;
        ("log_rank", lr.chi_square, lr.p_value)
    } else {
        // the curves' test is the unadjusted one, whatever the hazard ratio's model
        let cox = cox_weighted_stratified(time, event, &s.treated, &s.weights, Some(&s.site), strata)
            .map_err(at(step.clone()))?;
        ("robust_score", cox.robust_score.0, cox.robust_score.1)
    };
    let km_treated = arm(true)?;
    let km_control = arm(false)?;
    hr.median_treated = km_treated.median();
    hr.median_control = km_control.median();
    let survival = SurvivalResult {
        outcome,
        treated: curve(&km_treated, &grid),
        control: curve(&km_control, &grid),
        test,
        chi_square: finite(chi),
        p_value: finite(p),
    };
    Ok((vec![hr], survival))
}

/// An outcome measure (complete cases): with a baseline wave, the difference in follow-up means
/// adjusted for the baseline value (WLS of follow-up on treatment and baseline), Hedges' g of
/// that difference (over the pooled SD of the follow-up values, with its CR2 interval on the
/// same scale), and the difference-in-differences (WLS of follow-up - baseline
/// on treatment); a measure with no baseline (`baseline` None) has the plain follow-up
/// difference (WLS on treatment) and its Hedges' g.
pub fn measure_rows(name: &str, baseline: Option<&[f64]>, follow_up: &[f64], s: &Sample) -> Result<Vec<EffectRow>> {
    let outcome = || RowOutcome::Measure(name.to_string());
    let step = format!("{name}: mean difference");
    let model = match baseline {
        Some(baseline) => Model::new(s, &[baseline], &s.weights),
        None => Model::new(s, &[], &s.weights),
    };
    let fit = wls(&model.x, follow_up, Some(&s.weights)).map_err(at(step.clone()))?;
    let site = fit.cr2_inference(&s.site, 1).map_err(at(step.clone()))?;
    let secondary = fit.vcov_cr2(&s.secondary_clusters()).map_err(at(step.clone()))?;
    let mut md = row(outcome(), EstimateType::MeanDifference, s);
    md.adjusted = model.adjusted;
    fill(&mut md, &site, fit.coef[1], false);
    fill_secondary(&mut md, fit.coef[1], secondary[fit.k() + 1].sqrt(), false);

    // Hedges' g of the reported (baseline-adjusted) difference, as the What Works Clearinghouse
    // computes it: omega x difference / pooled SD of the follow-up values (weighted, each arm's
    // unit count), omega = 1 - 3 / (4N - 9); its interval the difference's CR2 interval on the
    // same scale, so g, its interval and the difference always agree in sign and significance
    let mut g = row(outcome(), EstimateType::HedgesG, s);
    g.adjusted = md.adjusted;
    if let Some(scale) = hedges_scale(follow_up, s) {
        g.estimate = md.estimate.map(|x| x * scale);
        g.ci_low = md.ci_low.map(|x| x * scale);
        g.ci_high = md.ci_high.map(|x| x * scale);
        g.p_value = md.p_value;
        g.se = md.se.map(|x| x * scale);
        g.df = md.df;
    }
    let mut rows = vec![md, g];
    if let Some(baseline) = baseline {
        let step = format!("{name}: difference in differences");
        let change: Vec<f64> = follow_up.iter().zip(baseline).map(|(f, b)| f - b).collect();
        let model = Model::new(s, &[], &s.weights);
        let fit = wls(&model.x, &change, Some(&s.weights)).map_err(at(step.clone()))?;
        let (inf, se2) = cr2_pair(&fit, s, &step)?;
        let mut did = row(outcome(), EstimateType::Did, s);
        did.adjusted = model.adjusted;
        fill(&mut did, &inf, fit.coef[1], false);
        fill_secondary(&mut did, fit.coef[1], se2, false);
        rows.push(did);
    }
    for r in &mut rows {
        r.mean_treated = s.weighted_mean(follow_up, None, true);
        r.mean_control = s.weighted_mean(follow_up, None, false);
    }
    Ok(rows)
}

/// The matched sample and the rows (and Kaplan-Meier curves) of the child-level outcomes.
pub(crate) fn child_outcomes(
    config: &ValidConfig,
    cohort: &Cohort,
    matching: &Matching,
    window_days: f64,
    detail: Detail,
    warnings: &mut Vec<String>,
) -> ChildOutcomes {
    let (matched, mut sample) = matched_sample(cohort, matching);
    if config.estimation().adjust {
        match adjustment_columns(config, cohort, &matched) {
            Ok(columns) => sample.covariates = Some(std::sync::Arc::new(columns)),
            Err(e) => warnings.push(format!("the effects are not adjusted for the covariates: {e}")),
        }
    }
    let treated_sites = {
        let mut s: Vec<usize> = sample.site.iter().zip(&sample.treated).filter(|(_, &t)| t).map(|(&s, _)| s).collect();
        s.sort_unstable();
        s.dedup();
        s.len()
    };
    let n_sites = sample.site.iter().max().map_or(0, |m| m + 1);
    if treated_sites < 10 || n_sites - treated_sites < 10 {
        warnings.push(format!(
            "few clusters: {treated_sites} pilot site(s) and {} control site(s) in the matched sample; CR2 with Bell-McCaffrey df and the wild cluster bootstrap are used, but intervals rest on few sites",
            n_sites - treated_sites
        ));
    }
    let pick = |v: &[f64]| -> Vec<f64> { matched.iter().map(|&i| v[i]).collect() };
    let pick_bool = |v: &[bool]| -> Vec<bool> { matched.iter().map(|&i| v[i]).collect() };
    let wild = wild_params(config);
    let designs = Designs::of(&sample);
    let mut effects = Vec::new();
    let mut survival = Vec::new();
    for &outcome in config.outcomes() {
        // an outcome that cannot be estimated (no events in an arm, one site only) keeps its
        // rows, empty, and says why; the rest of the evaluation goes on
        let estimated = match outcome {
            Outcome::SwChanges | Outcome::PlacementMoves => {
                let count = if outcome == Outcome::SwChanges { &cohort.sw_changes } else { &cohort.placement_moves };
                count_rows(outcome, &pick(count), &pick(&cohort.exposure_years), &sample, &wild, detail, &designs)
            }
            Outcome::ThreePlusPlacements => {
                binary_rows(outcome, &pick(&cohort.three_plus_placements), &sample, &wild, detail, &designs)
            }
            // not a child-level outcome: the value-for-money stage estimates it
            Outcome::CostPerChildYear => continue,
            Outcome::TimeToSwChange | Outcome::TimeToPlacementMove => {
                let (time, event) = if outcome == Outcome::TimeToSwChange {
                    (&cohort.time_to_sw_change, &cohort.sw_change_event)
                } else {
                    (&cohort.time_to_placement_move, &cohort.placement_move_event)
                };
                time_to_event_rows(outcome, &pick(time), &pick_bool(event), &sample, window_days, detail, &designs).map(
                    |(rows, curves)| {
                        survival.push(curves);
                        rows
                    },
                )
            }
        };
        match estimated {
            Ok(rows) => {
                for r in rows.iter().filter(|r| r.estimate.is_none()) {
                    warnings.push(format!(
                        "{outcome}: the {} is not estimable (no events, or only events, in an arm)",
                        r.estimate_type.label()
                    ));
                }
                effects.extend(rows);
            }
            Err(e) => {
                warnings.push(format!("{outcome} not estimated: {e}"));
                effects.extend(empty_rows(outcome, &sample));
            }
        }
    }
    ChildOutcomes { matched, sample, effects, survival }
}

/// The covariates the effect models adjust for, on the matched rows `matched` of `cohort`: the
/// matching's covariates (those constant in the cohort dropped; the missing-CIN indicator
/// where it is used) as R's `model.matrix` expands them, without the intercept.
fn adjustment_columns(
    config: &ValidConfig,
    cohort: &Cohort,
    matched: &[usize],
) -> Result<super::matching::AdjustColumns> {
    let (covariates, _) = super::matching::covariates(config, cohort)?;
    let rows: Vec<swp_stats::design::Covariate> =
        covariates.iter().map(|c| super::matching::subset(c, matched)).collect();
    let expanded = swp_stats::design::expand(&rows, swp_stats::design::Expansion::Model)
        .map_err(at("covariate adjustment".to_string()))?;
    let every_level = swp_stats::design::expand(&rows, swp_stats::design::Expansion::Balance)
        .map_err(at("covariate adjustment".to_string()))?;
    let levels = every_level.columns.into_iter().filter(|c| c.iter().all(|&v| v == 0.0 || v == 1.0)).collect();
    Ok(super::matching::AdjustColumns {
        names: expanded.names.into_iter().skip(1).collect(),
        columns: expanded.columns.into_iter().skip(1).collect(),
        interactions: config.estimation().interactions,
        levels,
    })
}

/// omega / pooled SD of `y` between the arms (weighted variances with each arm's unit count,
/// omega = 1 - 3 / (4N - 9)): what turns a difference into Hedges' g (What Works Clearinghouse
/// Procedures Handbook 5.0, appendix E). None without variation or with fewer than two units
/// in an arm.
pub(crate) fn hedges_scale(y: &[f64], s: &Sample) -> Option<f64> {
    let moments = |treated: bool| -> Option<(f64, f64)> {
        let (mut sw, mut swx, mut sw2, mut n) = (0.0, 0.0, 0.0, 0.0);
        for i in (0..y.len()).filter(|&i| s.treated[i] == treated) {
            let w = s.weights[i];
            sw += w;
            swx += w * y[i];
            sw2 += w * w;
            n += 1.0;
        }
        if n < 2.0 {
            return None;
        }
        let mean = swx / sw;
        let ss: f64 =
            (0..y.len()).filter(|&i| s.treated[i] == treated).map(|i| s.weights[i] * (y[i] - mean).powi(2)).sum();
        Some((n, ss / (sw - sw2 / sw)))
    };
    let ((nt, vt), (nc, vc)) = (moments(true)?, moments(false)?);
    let pooled = (((nt - 1.0) * vt + (nc - 1.0) * vc) / (nt + nc - 2.0)).sqrt();
    let omega = 1.0 - 3.0 / (4.0 * (nt + nc) - 9.0);
    (pooled > 0.0 && pooled.is_finite()).then(|| omega / pooled)
}

/// The rows of every outcome measure (`outcomes.csv`) with both waves in the matched sample,
/// appended to `effects`; a measure that cannot be estimated is a warning.
pub(crate) fn measure_effects(
    config: &ValidConfig,
    dataset: &Dataset,
    cohort: &Cohort,
    outcomes: &mut ChildOutcomes,
    warnings: &mut Vec<String>,
) {
    let ChildOutcomes { matched, sample, effects, .. } = outcomes;
    for measure in super::cohort::measures(dataset, cohort, config.measures()) {
        // a measure nobody has a baseline value of is estimated on its follow-up wave alone
        let has_baseline = matched.iter().any(|&i| measure.baseline[i].is_some());
        let rows: Vec<usize> = (0..matched.len())
            .filter(|&k| {
                (!has_baseline || measure.baseline[matched[k]].is_some()) && measure.follow_up[matched[k]].is_some()
            })
            .collect();
        let sub = sample.subset(&rows);
        let base: Vec<f64> = rows.iter().map(|&k| measure.baseline[matched[k]].unwrap_or(f64::NAN)).collect();
        let follow: Vec<f64> = rows.iter().map(|&k| measure.follow_up[matched[k]].unwrap_or(f64::NAN)).collect();
        if !sub.treated.iter().any(|&t| t) || sub.treated.iter().all(|&t| t) {
            let waves = if has_baseline { "both waves" } else { "a follow-up value" };
            warnings.push(format!(
                "outcome measure `{}`: no matched children in one arm with {waves}; not estimated",
                measure.name
            ));
            continue;
        }
        if !has_baseline {
            warnings.push(format!(
                "outcome measure `{}` has no baseline wave: estimated as the difference in follow-up values, not adjusted for a baseline (no difference-in-differences row)",
                measure.name
            ));
        }
        match measure_rows(&measure.name, has_baseline.then_some(base.as_slice()), &follow, &sub) {
            Ok(rows) => effects.extend(rows),
            Err(e) => warnings.push(format!("outcome measure `{}` not estimated: {e}", measure.name)),
        }
    }
}

/// The multiplicity adjustment (Holm by default) across the primary rows' p-values: the
/// randomisation p-value where a row has one, else its CR2 (or Cox robust) p-value.
pub(crate) fn adjust_primary(config: &ValidConfig, effects: &mut [EffectRow]) {
    let method = config.inference().multiplicity;
    if method != swp_stats::multiplicity::Adjustment::None {
        let p_of = |e: &EffectRow| e.ri_p_value.or(e.p_value);
        let primary: Vec<usize> =
            (0..effects.len()).filter(|&i| effects[i].primary && p_of(&effects[i]).is_some()).collect();
        let p: Vec<f64> = primary.iter().filter_map(|&i| p_of(&effects[i])).collect();
        for (&i, adjusted) in primary.iter().zip(swp_stats::multiplicity::adjust(&p, method)) {
            effects[i].p_holm = Some(adjusted);
        }
    }
}

/// ATT when every pilot child of the cohort is matched, else ATM (the effect in the matched
/// treated).
pub(crate) fn estimand(cohort: &Cohort, matching: &Matching) -> Estimand {
    let dropped = (0..cohort.len()).any(|i| cohort.treated[i] && matching.weights[i] <= 0.0);
    if dropped {
        Estimand::Atm
    } else {
        Estimand::Att
    }
}

/// The wild cluster bootstrap of the config (WCR, null imposed).
pub(crate) fn wild_params(config: &ValidConfig) -> WildParams {
    WildParams {
        reps: config.inference().bootstrap_reps,
        weights: config.inference().bootstrap_weights,
        kind: BootType::Wcr,
        seed: config.inference().seed,
    }
}

/// The child-level outcomes' products: the matched children (cohort rows), their sample, the
/// effect rows and the Kaplan-Meier curves.
pub(crate) struct ChildOutcomes {
    pub(crate) matched: Vec<usize>,
    pub(crate) sample: Sample,
    pub(crate) effects: Vec<EffectRow>,
    pub(crate) survival: Vec<SurvivalResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Sample {
        Sample {
            treated: (0..n).map(|i| i % 2 == 0).collect(),
            weights: vec![1.0; n],
            site: (0..n).map(|i| i % 4).collect(),
            stack: vec![0; n],
            subclass: Some((0..n).map(|i| i / 2).collect()),
            covariates: None,
        }
    }

    /// A measure with no baseline wave is the plain difference of follow-up means (the WLS
    /// coefficient of treatment) and Hedges' g, with no difference-in-differences row; with a
    /// baseline all three rows come back.
    #[test]
    fn a_measure_without_a_baseline_is_the_follow_up_difference() {
        let s = sample(16);
        let follow: Vec<f64> = (0..16).map(|i| f64::from(i % 5) + if i % 2 == 0 { 1.5 } else { 0.0 }).collect();
        let mean = |t: bool| {
            let v: Vec<f64> = (0..16).filter(|&i| s.treated[i] == t).map(|i| follow[i]).collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let rows = measure_rows("satisfaction", None, &follow, &s).unwrap();
        let types: Vec<EstimateType> = rows.iter().map(|r| r.estimate_type).collect();
        assert_eq!(types, [EstimateType::MeanDifference, EstimateType::HedgesG]);
        let md = rows[0].estimate.unwrap();
        assert!((md - (mean(true) - mean(false))).abs() < 1e-12, "{md}");
        assert!(rows[1].estimate.unwrap() > 0.0 && rows[0].ci_low.is_some());
        let baseline: Vec<f64> = (0..16).map(|i| f64::from(i % 3)).collect();
        assert_eq!(measure_rows("sdq", Some(&baseline), &follow, &s).unwrap().len(), 3);
    }

    /// Hedges' g is the reported (baseline-adjusted) difference over the pooled SD of the
    /// follow-up values, times omega = 1 - 3 / (4N - 9), with the difference's interval on the
    /// same scale (What Works Clearinghouse): a hand computation on 16 children.
    #[test]
    fn hedges_g_scales_the_adjusted_difference() {
        let s = sample(16);
        let follow: Vec<f64> = (0..16).map(|i| f64::from(i % 5) + if i % 2 == 0 { 1.5 } else { 0.0 }).collect();
        let baseline: Vec<f64> = (0..16).map(|i| f64::from(i % 3) + if i % 2 == 0 { 0.5 } else { 0.0 }).collect();
        let rows = measure_rows("sdq", Some(&baseline), &follow, &s).unwrap();
        let (md, g) = (&rows[0], &rows[1]);
        let var = |t: bool| {
            let v: Vec<f64> = (0..16).filter(|&i| s.treated[i] == t).map(|i| follow[i]).collect();
            let m = v.iter().sum::<f64>() / v.len() as f64;
            v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)
        };
        let pooled = ((7.0 * var(true) + 7.0 * var(false)) / 14.0).sqrt();
        let omega = 1.0 - 3.0 / (4.0 * 16.0 - 9.0);
        let expected = omega * md.estimate.unwrap() / pooled;
        assert!((g.estimate.unwrap() - expected).abs() < 1e-12, "{:?} vs {expected}", g.estimate);
        assert!((g.ci_low.unwrap() - omega * md.ci_low.unwrap() / pooled).abs() < 1e-12);
        assert_eq!(g.p_value, md.p_value);
        assert_eq!(g.se_method, SeMethod::Cr2);
    }

    /// An outcome with no events cannot be estimated: the error says why, and its empty rows
    /// keep docs/evaluation.md's kinds and order (the pipeline reports a warning and goes on).
    #[test]
    fn outcomes_without_events_fail_cleanly_and_keep_their_rows() {
        let s = sample(16);
        let time = vec![100.0; 16];
        let event = vec![false; 16];
        let err = time_to_event_rows(Outcome::TimeToSwChange, &time, &event, &s, 730.0, Detail::Full, &Designs::of(&s))
            .unwrap_err();
        assert!(err.to_string().contains("no events"), "{err}");
        let rows = empty_rows(Outcome::ThreePlusPlacements, &s);
        let kinds: Vec<EstimateType> = rows.iter().map(|r| r.estimate_type).collect();
        assert_eq!(kinds, [EstimateType::RiskDifference, EstimateType::RiskRatio, EstimateType::OddsRatio]);
        assert!(rows[0].primary && !rows[1].primary && rows.iter().all(|r| r.estimate.is_none()));
        assert_eq!(rows[0].n_treated, Some(8));
        assert_eq!(empty_rows(Outcome::TimeToPlacementMove, &s)[0].se_method, SeMethod::Cr1CoxRobust);
        // a binary outcome that never happens among controls separates the logit: an error, not a number
        let y: Vec<f64> = (0..16).map(|i| f64::from(u8::from(i % 2 == 0 && i % 4 == 0))).collect();
        let wild = Wild { reps: 99, ..Wild::default() };
        let rows = binary_rows(Outcome::ThreePlusPlacements, &y, &s, &wild, Detail::Full, &Designs::of(&s)).unwrap();
        assert!(rows[0].estimate.is_some(), "the risk difference is still estimated");
        assert!(rows[1].estimate.is_none() && rows[2].estimate.is_none(), "no infinite ratios");
        let counts: Vec<f64> = (0..16).map(|i| if i % 2 == 0 { 1.0 } else { 0.0 }).collect();
        let rows =
            count_rows(Outcome::SwChanges, &counts, &[1.0; 16], &s, &wild, Detail::Full, &Designs::of(&s)).unwrap();
        assert!(rows[0].estimate.is_none() && rows[1].estimate.is_some());
    }
}
