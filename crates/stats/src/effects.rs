//! Effect sizes for two groups (treated vs control), each with the reference it agrees with.
//!
//! - [`welch`]: difference in means, Welch standard error, Welch-Satterthwaite df, t interval
//!   and p (R `t.test`).
//! - [`standardised`]: Cohen's d (pooled SD) and Hedges' g with the exact small-sample
//!   correction J = Gamma(df/2) / (sqrt(df/2) Gamma((df - 1)/2)), and their intervals from the
//!   noncentral t (R effectsize 0.8.3, which finds the same bounds by optimisation).
//! - [`risks`]: risk difference, risk ratio and odds ratio of a 0/1 outcome with Wald intervals
//!   (the saturated binomial GLMs with identity, log and logit links).
//! - [`rate_ratio`]: the rate ratio of a count with exposure from a Poisson GLM with a
//!   log-exposure offset and HC0 robust errors (R `glm` + `sandwich::vcovHC(type = "HC0")`).
//! - [`cliffs_delta`]: Cliff's delta (the rank-biserial correlation) with effectsize's Fisher-z
//!   interval, and the Mann-Whitney test with tie and continuity corrections (R `wilcox.test`,
//!   normal approximation).
//!
//! # Examples
//! ```
//! use swp_stats::effects::welch;
//! let w = welch(&[5.0, 6.0, 7.0, 8.0], &[4.0, 5.0, 5.0, 6.0]).unwrap();
//! assert!((w.estimate - 1.5).abs() < 1e-12);
//! ```

use crate::distributions::{ncp_interval, pnorm, qnorm};
use crate::error::{Result, StatsError};
use crate::glm::{Family, GlmParams};
use crate::linalg::Matrix;
use crate::regression::{wls, Hc, Inference};
use statrs::function::gamma::ln_gamma;

use crate::moments::{mean, sample_var as var};

fn need(n: usize, min: usize) -> Result<()> {
    if n < min {
        Err(StatsError::TooFewObservations { min, got: n })
    } else {
        Ok(())
    }
}

/// Difference in means (treated - control) with Welch's standard error and df.
///
/// # Errors
/// Fewer than two units in a group, or no variation in either.
pub fn welch(treated: &[f64], control: &[f64]) -> Result<Inference> {
    need(treated.len().min(control.len()), 2)?;
    let (n1, n0) = (treated.len() as f64, control.len() as f64);
    let (v1, v0) = (var(treated) / n1, var(control) / n0);
    let se = (v1 + v0).sqrt();
    if se == 0.0 {
        return Err(StatsError::NoVariation { context: " within either group" });
    }
    let df = (v1 + v0).powi(2) / (v1 * v1 / (n1 - 1.0) + v0 * v0 / (n0 - 1.0));
    Ok(Inference::t(mean(treated) - mean(control), se, df))
}

/// Cohen's d and Hedges' g with 95% intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standardised {
    /// Cohen's d (pooled SD).
    pub cohens_d: f64,
    /// Its interval.
    pub cohens_d_ci: (f64, f64),
    /// Hedges' g.
    pub hedges_g: f64,
    /// Its interval.
    pub hedges_g_ci: (f64, f64),
}

/// Cohen's d and Hedges' g of treated vs control.
///
/// # Errors
/// Fewer than two units in a group, or no variation.
pub fn standardised(treated: &[f64], control: &[f64]) -> Result<Standardised> {
    standardised_weighted(treated, &vec![1.0; treated.len()], control, &vec![1.0; control.len()])
}

/// Weighted mean and variance sum w(x - m)^2 / (sum w - sum w^2 / sum w) (with unit weights the
/// sample variance).
fn weighted_moments(x: &[f64], w: &[f64]) -> (f64, f64) {
    weighted_moments_of(x.iter().copied().zip(w.iter().copied()))
}

/// [`weighted_moments`] of (value, weight) pairs, summed in the same order.
pub(crate) fn weighted_moments_of(pairs: impl Iterator<Item = (f64, f64)> + Clone) -> (f64, f64) {
    let sw: f64 = pairs.clone().map(|(_, w)| w).sum();
    let m = pairs.clone().map(|(a, b)| a * b).sum::<f64>() / sw;
    let ss: f64 = pairs.clone().map(|(a, b)| b * (a - m) * (a - m)).sum();
    (m, ss / (sw - pairs.map(|(_, v)| v * v).sum::<f64>() / sw))
}

/// Cohen's d and Hedges' g with weights (e.g. match weights): weighted means over the pooled
/// weighted SD, intervals from the noncentral t with the groups' unit counts. With unit
/// weights, [`standardised`] exactly.
///
/// # Errors
/// As [`standardised`]; lengths that differ.
pub fn standardised_weighted(
    treated: &[f64],
    w_treated: &[f64],
    control: &[f64],
    w_control: &[f64],
) -> Result<Standardised> {
    need(treated.len().min(control.len()), 2)?;
    if treated.len() != w_treated.len() || control.len() != w_control.len() {
        return Err(StatsError::LengthMismatch { inputs: "outcomes and weights" });
    }
    let groups =
        [(treated.len(), weighted_moments(treated, w_treated)), (control.len(), weighted_moments(control, w_control))];
    standardised_of_moments(groups, true)
}

/// [`standardised_weighted`] from each group's units and weighted mean and variance (treated
/// first; at least two units each). Without `intervals` the noncentral-t intervals (the costly
/// part: a root search on the noncentral t distribution) are left NaN.
///
/// # Errors
/// No variation.
pub(crate) fn standardised_of_moments(groups: [(usize, (f64, f64)); 2], intervals: bool) -> Result<Standardised> {
    let [(n1, (m1, v1)), (n0, (m0, v0))] = groups;
    let (n1, n0) = (n1 as f64, n0 as f64);
    let df = n1 + n0 - 2.0;
    let pooled = (((n1 - 1.0) * v1 + (n0 - 1.0) * v0) / df).sqrt();
    if pooled.is_nan() || pooled <= 0.0 {
        return Err(StatsError::NoVariation { context: ": no standardised difference" });
    }
    let d = (m1 - m0) / pooled;
    let hn = (1.0 / n1 + 1.0 / n0).sqrt();
    let (lo, hi) = if intervals { ncp_interval(d / hn, df, 0.95) } else { (f64::NAN, f64::NAN) };
    let j = (ln_gamma(df / 2.0) - (df / 2.0).sqrt().ln() - ln_gamma((df - 1.0) / 2.0)).exp();
    Ok(Standardised {
        cohens_d: d,
        cohens_d_ci: (lo * hn, hi * hn),
        hedges_g: d * j,
        hedges_g_ci: (lo * hn * j, hi * hn * j),
    })
}

/// An estimate with a 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Estimate.
    pub estimate: f64,
    /// Lower end.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
}

/// Risk difference, risk ratio and odds ratio of a 0/1 outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Risks {
    /// p1 - p0.
    pub risk_difference: Estimate,
    /// p1 / p0.
    pub risk_ratio: Estimate,
    /// odds1 / odds0.
    pub odds_ratio: Estimate,
}

/// Wald risk measures of 0/1 outcomes (treated, control).
///
/// # Errors
/// Values other than 0/1; an empty group; a cell of the 2x2 table that is empty (the ratio is
/// then undefined).
pub fn risks(treated: &[f64], control: &[f64]) -> Result<Risks> {
    risks_weighted(treated, &vec![1.0; treated.len()], control, &vec![1.0; control.len()])
}

/// Weighted mean of 0/1 values and the robust (HC0) variance of that mean,
/// sum w^2 (y - p)^2 / (sum w)^2 (with unit weights p(1 - p)/n).
fn weighted_proportion(y: &[f64], w: &[f64]) -> (f64, f64) {
    let sw: f64 = w.iter().sum();
    let p = y.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / sw;
    let v = y.iter().zip(w).map(|(a, b)| b * b * (a - p) * (a - p)).sum::<f64>() / (sw * sw);
    (p, v)
}

/// Wald risk measures of 0/1 outcomes with weights (e.g. match weights): weighted proportions,
/// and the delta method on their robust variances. With unit weights these are the 2x2-table
/// formulas exactly (var p = p(1 - p)/n, var log RR = 1/a - 1/n1 + 1/c - 1/n0,
/// var log OR = 1/a + 1/b + 1/c + 1/d).
///
/// # Errors
/// As [`risks`]; lengths that differ; weights that are not positive.
pub fn risks_weighted(treated: &[f64], w_treated: &[f64], control: &[f64], w_control: &[f64]) -> Result<Risks> {
    need(treated.len().min(control.len()), 1)?;
    if treated.len() != w_treated.len() || control.len() != w_control.len() {
        return Err(StatsError::LengthMismatch { inputs: "outcomes and weights" });
    }
    if w_treated.iter().chain(w_control).any(|&w| !(w > 0.0 && w.is_finite())) {
        return Err(StatsError::OutOfRange { what: "weights", allowed: "positive" });
    }
    if treated.iter().chain(control).any(|&v| v != 0.0 && v != 1.0) {
        return Err(StatsError::OutOfRange { what: "the outcome of risk measures", allowed: "0 or 1" });
    }
    let (p1, v1) = weighted_proportion(treated, w_treated);
    let (p0, v0) = weighted_proportion(control, w_control);
    if [p1, p0].iter().any(|&p| p == 0.0 || p == 1.0) {
        return Err(StatsError::EmptyCell);
    }
    let z = qnorm(0.975);
    let rd = p1 - p0;
    let rd_se = (v1 + v0).sqrt();
    let log_rr = (p1 / p0).ln();
    let rr_se = (v1 / (p1 * p1) + v0 / (p0 * p0)).sqrt();
    let log_or = (p1 / (1.0 - p1) / (p0 / (1.0 - p0))).ln();
    let or_se = (v1 / (p1 * (1.0 - p1)).powi(2) + v0 / (p0 * (1.0 - p0)).powi(2)).sqrt();
    let exp_ci = |l: f64, s: f64| Estimate { estimate: l.exp(), ci_low: (l - z * s).exp(), ci_high: (l + z * s).exp() };
    Ok(Risks {
        risk_difference: Estimate { estimate: rd, ci_low: rd - z * rd_se, ci_high: rd + z * rd_se },
        risk_ratio: exp_ci(log_rr, rr_se),
        odds_ratio: exp_ci(log_or, or_se),
    })
}

/// Rate ratio (treated / control) of counts with exposure: Poisson GLM of count on the group
/// with a log-exposure offset, HC0 robust standard error of the log rate ratio.
///
/// # Errors
/// Non-positive exposure, negative counts, lengths that differ, model errors.
pub fn rate_ratio(count: &[f64], exposure: &[f64], treated: &[bool]) -> Result<(Estimate, f64)> {
    rate_ratio_weighted(count, exposure, treated, None)
}

/// [`rate_ratio`] with prior weights (e.g. match weights): the weighted Poisson GLM and its HC0
/// sandwich, M (sum w_i^2 (y_i - mu_i)^2 x_i x_i') M with M = (X' diag(w mu) X)^-1 (R `glm(weights
/// = )` + `sandwich::vcovHC(type = "HC0")`).
///
/// # Errors
/// As [`rate_ratio`]; weights that are not positive.
pub fn rate_ratio_weighted(
    count: &[f64],
    exposure: &[f64],
    treated: &[bool],
    weights: Option<&[f64]>,
) -> Result<(Estimate, f64)> {
    let n = count.len();
    if exposure.len() != n || treated.len() != n {
        return Err(StatsError::LengthMismatch { inputs: "count, exposure and group" });
    }
    if exposure.iter().any(|&e| !(e > 0.0 && e.is_finite())) {
        return Err(StatsError::OutOfRange { what: "exposure", allowed: "positive" });
    }
    let x = Matrix::from_rows(&treated.iter().map(|&t| vec![1.0, f64::from(u8::from(t))]).collect::<Vec<_>>());
    let names = vec!["(Intercept)".to_string(), "treated".to_string()];
    let offset: Vec<f64> = exposure.iter().map(|e| e.ln()).collect();
    let fit = GlmParams::new(Family::Poisson).check()?.fit_weighted(&x, &names, count, Some(&offset), weights)?;
    // HC0: M (sum_i (y_i - mu_i)^2 x_i x_i') M, M = (X' diag(mu) X)^-1
    let mut xwx = [0.0; 4];
    let mut meat = [0.0; 4];
    for (i, (&mu, &y)) in fit.fitted.iter().zip(count).enumerate() {
        let xi = x.row(i);
        let w = weights.map_or(1.0, |w| w[i]);
        let r = w * (y - mu);
        for a in 0..2 {
            for b in 0..2 {
                xwx[a * 2 + b] += w * mu * xi[a] * xi[b];
                meat[a * 2 + b] += r * r * xi[a] * xi[b];
            }
        }
    }
    let det = xwx[0] * xwx[3] - xwx[1] * xwx[2];
    let m = [xwx[3] / det, -xwx[1] / det, -xwx[2] / det, xwx[0] / det];
    // (M meat M)[1][1]
    let row = [m[2], m[3]];
    let mm: Vec<f64> = (0..2).map(|j| (0..2).map(|l| row[l] * meat[l * 2 + j]).sum()).collect();
    let var: f64 = (0..2).map(|j| mm[j] * m[j * 2 + 1]).sum();
    let se = var.sqrt();
    let b = fit.coef[1];
    let z = qnorm(0.975);
    Ok((Estimate { estimate: b.exp(), ci_low: (b - z * se).exp(), ci_high: (b + z * se).exp() }, se))
}

/// Cliff's delta with its interval, and the Mann-Whitney test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ordinal {
    /// P(T > C) - P(T < C) (ties count half each way).
    pub cliffs_delta: Estimate,
    /// The Mann-Whitney statistic W of the treated group.
    pub mann_whitney_w: f64,
    /// Two-sided p-value (normal approximation, tie and continuity corrected).
    pub p_value: f64,
}

/// Mid-ranks of values (ties share the mean rank) and the tie term sum(t^3 - t).
fn ranks(values: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut ties = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    (out, ties)
}

/// Cliff's delta of ordinal outcomes (treated, control) and the Mann-Whitney test.
///
/// # Errors
/// An empty group.
pub fn cliffs_delta(treated: &[f64], control: &[f64]) -> Result<Ordinal> {
    need(treated.len().min(control.len()), 1)?;
    let (n1, n0) = (treated.len() as f64, control.len() as f64);
    let all: Vec<f64> = treated.iter().chain(control).copied().collect();
    let (r, ties) = ranks(&all);
    let u1 = r[..treated.len()].iter().sum::<f64>() - n1 * (n1 + 1.0) / 2.0;
    let u0 = r[treated.len()..].iter().sum::<f64>() - n0 * (n0 + 1.0) / 2.0;
    let delta = (u1 - u0) / (n1 * n0);
    let z = qnorm(0.975);
    let se = ((n1 + n0 + 1.0) / (3.0 * n1 * n0)).sqrt();
    let zf = delta.atanh();
    let n = n1 + n0;
    let sigma = ((n1 * n0 / 12.0) * ((n + 1.0) - ties / (n * (n - 1.0)))).sqrt();
    let centred = u1 - n1 * n0 / 2.0;
    let p_value = if sigma == 0.0 {
        1.0
    } else {
        let zstat = (centred - 0.5 * centred.signum()) / sigma;
        (2.0 * pnorm(-zstat.abs())).min(1.0)
    };
    Ok(Ordinal {
        cliffs_delta: Estimate { estimate: delta, ci_low: (zf - z * se).tanh(), ci_high: (zf + z * se).tanh() },
        mann_whitney_w: u1,
        p_value,
    })
}

/// The difference in weighted means (treated - control) by weighted least squares of the
/// outcome on the group, with HC2 errors (for unit weights: Welch's standard error) and t on
/// Welch-Satterthwaite df computed from the weighted variances. Used without clusters when
/// match weights are given.
///
/// # Errors
/// Model errors.
pub fn weighted_difference(y: &[f64], treated: &[bool], weights: &[f64]) -> Result<Inference> {
    let x = Matrix::from_rows(&treated.iter().map(|&t| vec![1.0, f64::from(u8::from(t))]).collect::<Vec<_>>());
    let fit = wls(&x, y, Some(weights))?;
    let v = fit.vcov_hc(Hc::Hc2);
    let se = v[3].sqrt();
    // Welch-Satterthwaite with the HC2 pieces of each group
    let part = |g: bool| -> f64 {
        let idx: Vec<usize> = fit.kept().iter().copied().filter(|&i| treated[i] == g).collect();
        let w: Vec<f64> = idx.iter().map(|&i| weights[i]).collect();
        let sw: f64 = w.iter().sum();
        let m = idx.iter().zip(&w).map(|(&i, wi)| wi * y[i]).sum::<f64>() / sw;
        // HC2 of a group mean: sum w_i^2 e_i^2 / (1 - h_i) / sw^2 with h_i = w_i / sw
        idx.iter().zip(&w).map(|(&i, wi)| wi * wi * (y[i] - m).powi(2) / (1.0 - wi / sw)).sum::<f64>() / (sw * sw)
    };
    let (v1, v0) = (part(true), part(false));
    let count = |g: bool| fit.kept().iter().filter(|&&i| treated[i] == g).count() as f64;
    let df = (v1 + v0).powi(2) / (v1 * v1 / (count(true) - 1.0) + v0 * v0 / (count(false) - 1.0));
    Ok(Inference::t(fit.coef[1], se, df))
}
