//! Generalised linear models fitted by iteratively reweighted least squares, step for step as
//! R's `glm.fit` (same starting values, same convergence rule), so coefficients and standard
//! errors agree with R's `glm` to far better than 1e-6.
//!
//! # Formula
//! Each iteration solves the weighted least squares of the working response
//! z = eta - offset + (y - mu) / (dmu/deta) with weights (dmu/deta)^2 / V(mu), until
//! |dev - dev_old| / (|dev| + 0.1) < epsilon (R's default 1e-8, at most 25 iterations).
//! Standard errors are the square roots of the diagonal of (X'WX)^-1 from the last solve
//! (dispersion 1: binomial and Poisson).
//!
//! R solves each step by a QR of sqrt(W)[X z]. Here a step is solved by the normal equations
//! (X'WX by Cholesky, one parallel pass over the rows) while every column stays at least 1e-3
//! (relative) away from the span of the others, and after the first step as the correction
//! b + (X'WX)^-1 X'W(z - Xb), whose rounding error shrinks with the step: the iterates equal R's
//! to rounding and the fit converges to the score's zero. A design closer to collinear is solved
//! by the QR, as R does, for the rest of the fit (and R's rule for dependent columns applies).
//!
//! # Errors
//! A constant covariate ([`StatsError::Constant`]), collinear covariates
//! ([`StatsError::Collinear`]), fitted probabilities of 0 or 1 ([`StatsError::Separation`]) and
//! non-convergence ([`StatsError::NotConverged`]) are reported instead of returning estimates
//! that mean nothing.
//!
//! # Examples
//! ```
//! use swp_stats::glm::{Family, GlmParams};
//! use swp_stats::Matrix;
//! // log(rate) = 0.5 + 0.2 x with exposure 2: counts 3, 4, 5, 6, 7 at x = 0..4
//! let x = Matrix::from_rows(&(0..5).map(|i| vec![1.0, f64::from(i)]).collect::<Vec<_>>());
//! let y = [3.0, 4.0, 5.0, 6.0, 7.0];
//! let offset = [2f64.ln(); 5];
//! let names = vec!["(Intercept)".to_string(), "x".to_string()];
//! let fit = GlmParams::new(Family::Poisson).check().unwrap().fit(&x, &names, &y, Some(&offset)).unwrap();
//! assert!(fit.converged && fit.coef[1] > 0.0);
//! ```

use crate::error::{Result, StatsError};
use crate::linalg::{
    cholesky, cholesky_inverse, cholesky_solve, weighted_cross_products, weighted_least_squares, ColumnRef, Matrix,
    MatrixRef,
};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

/// Model family and link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Binomial with the logit link (logistic regression).
    Logit,
    /// Binomial with the probit link.
    Probit,
    /// Poisson with the log link (counts; exposure as a log offset).
    Poisson,
}

/// Settings of a fit (defaults as R's `glm.control()`), unchecked; [`GlmParams::check`]
/// validates them into [`ValidGlmParams`], which fits.
#[derive(Debug, Clone, Copy)]
pub struct GlmParams {
    family: Family,
    epsilon: f64,
    max_iter: usize,
    as_r: bool,
}

/// Checked settings of a fit.
#[derive(Debug, Clone, Copy)]
pub struct ValidGlmParams(GlmParams);

/// A fitted model.
#[derive(Debug, Clone)]
pub struct GlmFit {
    /// Column names.
    pub names: Vec<String>,
    /// Coefficients.
    pub coef: Vec<f64>,
    /// Standard errors.
    pub se: Vec<f64>,
    /// Linear predictor (offset included).
    pub linear_predictor: Vec<f64>,
    /// Fitted means (probabilities, or expected counts).
    pub fitted: Vec<f64>,
    /// Residual deviance.
    pub deviance: f64,
    /// IRLS iterations.
    pub iterations: usize,
    /// Whether the deviance criterion was met.
    pub converged: bool,
    /// (X'WX)^-1, row-major p x p.
    pub covariance: Vec<f64>,
}

const EPS: f64 = f64::EPSILON;
const LOGIT_THRESH: f64 = 30.0;

fn standard_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("valid parameters")
}

/// Rows per block of the parallel passes over the units.
const ROWS: usize = 8192;

/// A fit of at least this many rows starts from the fit on a strided subsample of about
/// [`WARM_SAMPLE`] rows (its own fit from the means): Newton's method then needs one or two
/// steps on all rows where it needs four to six from the means, and it stops by the same rule
/// (the deviance's relative change below epsilon), so the estimates are the same to that
/// tolerance. R's `as_r` path keeps R's start.
const WARM_ROWS: usize = 1 << 16;
const WARM_SAMPLE: usize = 1 << 14;

impl Family {
    fn link(self, mu: f64) -> f64 {
        match self {
            Family::Logit => (mu / (1.0 - mu)).ln(),
            Family::Probit => standard_normal().inverse_cdf(mu),
            Family::Poisson => mu.ln(),
        }
    }

    /// mu from eta, with R's guards against 0 and 1.
    fn inverse_link(self, eta: f64) -> f64 {
        match self {
            Family::Logit => {
                let t = if eta < -LOGIT_THRESH {
                    EPS
                } else if eta > LOGIT_THRESH {
                    1.0 / EPS
                } else {
                    eta.exp()
                };
                t / (1.0 + t)
            }
            Family::Probit => {
                let thresh = -standard_normal().inverse_cdf(EPS);
                standard_normal().cdf(eta.clamp(-thresh, thresh))
            }
            Family::Poisson => eta.exp().max(EPS),
        }
    }

    /// mu and dmu/deta together: the same bits as [`Family::inverse_link`] and
    /// [`Family::mu_eta`], with the logit's and Poisson's exponential taken once.
    fn mean_and_slope(self, eta: f64) -> (f64, f64) {
        match self {
            Family::Logit => {
                if (-LOGIT_THRESH..=LOGIT_THRESH).contains(&eta) {
                    let e = eta.exp();
                    (e / (1.0 + e), e / ((1.0 + e) * (1.0 + e)))
                } else {
                    (self.inverse_link(eta), EPS)
                }
            }
            Family::Poisson => {
                let m = eta.exp().max(EPS);
                (m, m)
            }
            Family::Probit => (self.inverse_link(eta), self.mu_eta(eta)),
        }
    }

    /// dmu/deta.
    fn mu_eta(self, eta: f64) -> f64 {
        match self {
            Family::Logit => {
                if !(-LOGIT_THRESH..=LOGIT_THRESH).contains(&eta) {
                    EPS
                } else {
                    let e = eta.exp();
                    e / ((1.0 + e) * (1.0 + e))
                }
            }
            Family::Probit => standard_normal().pdf(eta).max(EPS),
            Family::Poisson => eta.exp().max(EPS),
        }
    }

    fn variance(self, mu: f64) -> f64 {
        match self {
            Family::Logit | Family::Probit => mu * (1.0 - mu),
            Family::Poisson => mu,
        }
    }

    /// The deviance: blocks of rows summed in parallel, the blocks' sums added in order (the
    /// same bits for any number of threads).
    fn deviance(self, y: &[f64], mu: &[f64], prior: &[f64]) -> f64 {
        use rayon::prelude::*;
        let block = |b: usize| {
            let rows = b * ROWS..((b + 1) * ROWS).min(y.len());
            self.deviance_of(&y[rows.clone()], &mu[rows.clone()], &prior[rows])
        };
        let sums: Vec<f64> = (0..y.len().div_ceil(ROWS)).into_par_iter().map(block).collect();
        sums.iter().sum()
    }

    fn deviance_of(self, y: &[f64], mu: &[f64], prior: &[f64]) -> f64 {
        let y_log_y = |y: f64, mu: f64| if y != 0.0 { y * (y / mu).ln() } else { 0.0 };
        y.iter()
            .zip(mu)
            .zip(prior)
            .map(|((&y, &mu), &pw)| {
                pw * match self {
                    Family::Logit | Family::Probit => 2.0 * (y_log_y(y, mu) + y_log_y(1.0 - y, 1.0 - mu)),
                    Family::Poisson => {
                        if y > 0.0 {
                            2.0 * (y * (y / mu).ln() - (y - mu))
                        } else {
                            2.0 * mu
                        }
                    }
                }
            })
            .sum()
    }

    fn start(self, y: f64, prior: f64) -> f64 {
        match self {
            Family::Logit | Family::Probit => (prior * y + 0.5) / (prior + 1.0),
            Family::Poisson => y + 0.1,
        }
    }
}

/// `f`, remembering its last input and result: a run of equal inputs (the same bits) is
/// computed once.
fn repeat_last<T: Copy + Bits, R: Copy>(f: impl Fn(T) -> R) -> impl FnMut(T) -> R {
    let mut last: Option<(T::Key, R)> = None;
    move |t| match last {
        Some((key, r)) if key == t.bits() => r,
        _ => {
            let r = f(t);
            last = Some((t.bits(), r));
            r
        }
    }
}

/// Inputs compared by their bits (so -0.0 and 0.0 differ, and a NaN equals itself).
trait Bits {
    type Key: PartialEq + Copy;
    fn bits(self) -> Self::Key;
}

impl Bits for f64 {
    type Key = u64;
    fn bits(self) -> u64 {
        self.to_bits()
    }
}

impl Bits for (f64, f64) {
    type Key = (u64, u64);
    fn bits(self) -> (u64, u64) {
        (self.0.to_bits(), self.1.to_bits())
    }
}

/// The first column after the intercept's (0) whose values are all equal, in one parallel
/// pass over the rows (a column at a time would read the whole row-major matrix per column).
fn constant_column(x: &MatrixRef<'_>) -> Option<usize> {
    use rayon::prelude::*;
    let p = x.p;
    let ranges = |rows: std::ops::Range<usize>| {
        let mut r = vec![(f64::INFINITY, f64::NEG_INFINITY); p];
        for i in rows {
            for ((lo, hi), &v) in r.iter_mut().zip(x.row(i)) {
                (*lo, *hi) = (lo.min(v), hi.max(v));
            }
        }
        r
    };
    let blocks: Vec<Vec<(f64, f64)>> =
        (0..x.n.div_ceil(ROWS)).into_par_iter().map(|b| ranges(b * ROWS..((b + 1) * ROWS).min(x.n))).collect();
    (1..p).find(|&j| {
        let (lo, hi) =
            blocks.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| (a.min(r[j].0), b.max(r[j].1)));
        hi - lo <= 0.0
    })
}

impl GlmParams {
    /// R's defaults for `family`: epsilon 1e-8, 25 iterations.
    pub fn new(family: Family) -> Self {
        GlmParams { family, epsilon: 1e-8, max_iter: 25, as_r: false }
    }

    /// Return the last iterate as R's `glm` does, with fitted probabilities of 0 or 1 or no
    /// convergence (R warns and goes on), instead of an error (false). For a propensity
    /// score, which only orders units (MatchIt matches on R's fit whatever its warnings); never
    /// for an effect estimate.
    pub fn as_r(mut self, as_r: bool) -> Self {
        self.as_r = as_r;
        self
    }

    /// Relative deviance change that stops the iterations (R's `epsilon`, 1e-8).
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Iteration limit (R's `maxit`, 25).
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Checks the settings once, before any fit.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for an epsilon that is not a positive number below 1, or an
    /// iteration limit of 0.
    pub fn check(self) -> Result<ValidGlmParams> {
        if !(self.epsilon > 0.0 && self.epsilon < 1.0) {
            return Err(StatsError::OutOfRange {
                what: "the convergence epsilon",
                allowed: "a number between 0 and 1 (1e-8)",
            });
        }
        if self.max_iter == 0 {
            return Err(StatsError::OutOfRange { what: "the iteration limit", allowed: "at least 1 (25)" });
        }
        Ok(ValidGlmParams(self))
    }
}

impl ValidGlmParams {
    /// The family and link.
    pub fn family(&self) -> Family {
        self.0.family
    }

    /// Fits the model of `y` on the columns of `x` (the first column the intercept, named in
    /// `names`), with an optional offset (log exposure for Poisson rates).
    ///
    /// # Errors
    /// See the module page; also [`StatsError::OutOfRange`] for y outside the family's range or
    /// lengths that differ.
    pub fn fit<'x, 'y>(
        &self,
        x: impl Into<MatrixRef<'x>>,
        names: &[String],
        y: impl Into<ColumnRef<'y>>,
        offset: Option<&[f64]>,
    ) -> Result<GlmFit> {
        self.fit_rows_from(&x.into(), names, &y.into(), offset, None, true)
    }

    /// [`ValidGlmParams::fit`] with prior weights (R's `glm(weights = )`), all positive.
    ///
    /// # Errors
    /// As [`ValidGlmParams::fit`]; weights that are not positive and finite.
    pub fn fit_weighted<'x, 'y>(
        &self,
        x: impl Into<MatrixRef<'x>>,
        names: &[String],
        y: impl Into<ColumnRef<'y>>,
        offset: Option<&[f64]>,
        weights: Option<&[f64]>,
    ) -> Result<GlmFit> {
        self.fit_rows_from(&x.into(), names, &y.into(), offset, weights, true)
    }

    /// The coefficients of the fit on every s-th row (about [`WARM_SAMPLE`] rows), or None
    /// when that fit fails (a column constant in the subsample, separation) or does not
    /// converge: the full fit then starts from the means, as R's `glm.fit`.
    fn warm_start(
        &self,
        x: &MatrixRef<'_>,
        names: &[String],
        y: &[f64],
        offset: &[f64],
        prior: &[f64],
    ) -> Option<Vec<f64>> {
        let step = x.n / WARM_SAMPLE;
        let rows: Vec<usize> = (0..x.n).step_by(step).collect();
        let values: Vec<f64> = rows.iter().flat_map(|&i| x.row(i).iter().copied()).collect();
        let sub = MatrixRef { n: rows.len(), p: x.p, values: std::borrow::Cow::Owned(values) };
        let pick = |v: &[f64]| -> Vec<f64> { rows.iter().map(|&i| v[i]).collect() };
        let fit = self.fit_rows_from(&sub, names, &pick(y), Some(&pick(offset)), Some(&pick(prior)), true).ok()?;
        fit.converged.then_some(fit.coef)
    }

    /// The fit; `may_warm`: a large fit may start from its subsample's ([`WARM_ROWS`]).
    fn fit_rows_from(
        &self,
        x: &MatrixRef<'_>,
        names: &[String],
        y: &[f64],
        offset: Option<&[f64]>,
        weights: Option<&[f64]>,
        may_warm: bool,
    ) -> Result<GlmFit> {
        let (n, p) = (x.n, x.p);
        let ones = vec![1.0; n];
        let prior = weights.unwrap_or(&ones);
        if prior.len() != n || prior.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
            return Err(StatsError::OutOfRange { what: "prior weights", allowed: "positive, one per unit" });
        }
        let family = self.0.family;
        if y.len() != n || names.len() != p || offset.is_some_and(|o| o.len() != n) {
            return Err(StatsError::LengthMismatch { inputs: "the outcome, offset and design" });
        }
        if n < p + 1 {
            return Err(StatsError::TooFewObservations { min: p + 1, got: n });
        }
        let bad_y = match family {
            Family::Logit | Family::Probit => y.iter().any(|&v| !(0.0..=1.0).contains(&v)),
            Family::Poisson => y.iter().any(|&v| v < 0.0 || !v.is_finite()),
        };
        if bad_y {
            return Err(match family {
                Family::Poisson => {
                    StatsError::OutOfRange { what: "a Poisson outcome", allowed: "a non-negative count" }
                }
                _ => StatsError::OutOfRange { what: "a binomial outcome", allowed: "0 or 1" },
            });
        }
        if let Some(j) = constant_column(x) {
            return Err(StatsError::Constant { name: names[j].clone() });
        }
        let zero = vec![0.0; n];
        let offset = offset.unwrap_or(&zero);
        // the start, and mu and dmu/deta at it: a binomial outcome with equal prior weights
        // has two starting values, so each is computed once per run of equal inputs
        let mut start_of = repeat_last(|(v, pw): (f64, f64)| family.link(family.start(v, pw)));
        let mut eta: Vec<f64> = y.iter().zip(prior).map(|(&v, &pw)| start_of((v, pw))).collect();
        let mut mean_of = repeat_last(|e: f64| family.mean_and_slope(e));
        let (mut mu, mut slope): (Vec<f64>, Vec<f64>) = eta.iter().map(|&e| mean_of(e)).unzip();
        let mut dev_old = family.deviance(y, &mu, prior);
        let tol = 1e-7f64.min(self.0.epsilon / 1000.0);
        let mut coef_old: Option<Vec<f64>> = None;
        let mut last_cov = Unscaled::Covariance(Vec::new());
        let mut coef = vec![0.0; p];
        let mut converged = false;
        let mut iterations = 0;
        let mut dev = dev_old;
        // Newton steps by the normal equations while they are well conditioned: X'WX by
        // Cholesky, and after the first step the correction X'W(z - Xb), whose rounding error
        // shrinks with the step, so the fit converges to the score's zero as closely as the
        // score's sum allows. A column within 1e-3 (relative) of the span of the others switches
        // the fit to the QR of sqrt(W)[X z] for its remaining steps, as R's glm.fit solves every
        // step (and its rule for dependent columns then applies).
        let working = |mu: &[f64], slope: &[f64], i: usize| {
            let d = slope[i];
            (prior[i] * d * d / family.variance(mu[i]), (y[i] - mu[i]) / d)
        };
        // eta, mu and dmu/deta at coefficients b, and the deviance there: each block's deviance
        // summed as it is predicted, the blocks' sums added in order (as `Family::deviance`)
        let predict = |b: &[f64], eta: &mut [f64], mu: &mut [f64], slope: &mut [f64]| -> f64 {
            use rayon::prelude::*;
            let blocks = eta.par_chunks_mut(ROWS).zip(mu.par_chunks_mut(ROWS)).zip(slope.par_chunks_mut(ROWS));
            let sums: Vec<f64> = blocks
                .enumerate()
                .map(|(block, ((eta, mu), slope))| {
                    let first = block * ROWS;
                    for (j, ((e, m), d)) in eta.iter_mut().zip(mu.iter_mut()).zip(slope).enumerate() {
                        let i = first + j;
                        *e = x.row(i).iter().zip(b).map(|(a, b)| a * b).sum::<f64>() + offset[i];
                        (*m, *d) = family.mean_and_slope(*e);
                    }
                    let rows = first..first + mu.len();
                    family.deviance_of(&y[rows.clone()], mu, &prior[rows])
                })
                .collect();
            sums.iter().sum()
        };
        // a large fit starts from the fit on a strided subsample of its rows: one or two
        // Newton steps on all rows from there, instead of the four to six from the means
        let warm =
            (may_warm && n >= WARM_ROWS && !self.0.as_r).then(|| self.warm_start(x, names, y, offset, prior)).flatten();
        if let Some(b) = &warm {
            dev_old = predict(b, &mut eta, &mut mu, &mut slope);
            if !dev_old.is_finite() {
                // a warm start whose deviance is not finite: from the means, as R
                return self.fit_rows_from(x, names, y, Some(offset), weights, false);
            }
            coef.clone_from(b);
            coef_old = Some(b.clone());
        }
        let mut by_qr = false;
        for iter in 1..=self.0.max_iter {
            iterations = iter;
            let normal = if by_qr {
                None
            } else {
                // the first step solves for b (no b yet: the start is a mean); later ones for b's change
                let from_start = iter == 1 && warm.is_none();
                let (h, v) = weighted_cross_products(x, |i| {
                    let (w, r) = working(&mu, &slope, i);
                    (w, if from_start { r + eta[i] - offset[i] } else { r })
                });
                cholesky(&h, p, 1e-3).map(|l| {
                    let delta = cholesky_solve(&l, &v);
                    let b = if from_start { delta } else { coef.iter().zip(&delta).map(|(c, d)| c + d).collect() };
                    (b, Unscaled::Factor(l))
                })
            };
            let (mut start, cov) = match normal {
                Some(step) => step,
                None => {
                    by_qr = true;
                    let (mut z, mut w) = (vec![0.0; n], vec![0.0; n]);
                    for i in 0..n {
                        let (wi, r) = working(&mu, &slope, i);
                        z[i] = eta[i] - offset[i] + r;
                        w[i] = wi;
                    }
                    let ls = weighted_least_squares(x, &z, &w, tol).map_err(|dependent| StatsError::Collinear {
                        names: dependent.0.iter().map(|&j| names[j].clone()).collect(),
                    })?;
                    (ls.coef, Unscaled::Covariance(ls.unscaled_cov))
                }
            };
            last_cov = cov;
            dev = predict(&start, &mut eta, &mut mu, &mut slope);
            // step halving while the deviance is not finite (R's inner loop)
            let mut halvings = 0;
            while !dev.is_finite() {
                let Some(old) = &coef_old else {
                    return Err(StatsError::NotConverged { iterations: iter });
                };
                halvings += 1;
                if halvings > self.0.max_iter {
                    return Err(StatsError::NotConverged { iterations: iter });
                }
                start = start.iter().zip(old).map(|(s, o)| (s + o) / 2.0).collect();
                dev = predict(&start, &mut eta, &mut mu, &mut slope);
            }
            coef = start;
            // from a warm start, at least three steps on all rows: the covariance is that of the
            // last step's weights, at the iterate before the last, and the first step's iterate
            // is only as close as the subsample's estimate allows (the second's as the fit
            // from the means at convergence)
            let settled = warm.is_none() || iter > 2;
            if settled && (dev - dev_old).abs() / (dev.abs() + 0.1) < self.0.epsilon {
                converged = true;
                break;
            }
            dev_old = dev;
            coef_old = Some(coef.clone());
        }
        if matches!(family, Family::Logit | Family::Probit) && !self.0.as_r {
            let n_extreme = mu.iter().filter(|&&m| m <= 10.0 * EPS || m >= 1.0 - 10.0 * EPS).count();
            if n_extreme > 0 {
                return Err(StatsError::Separation { n_extreme });
            }
            // complete separation that stopped before the probabilities reached 0 or 1 (the
            // deviance stops changing first): no unit with y = 1 has a linear predictor as low
            // as any unit with y = 0 (Albert and Anderson 1984). The estimates run off to
            // infinity, so it is an error, not a fit.
            let (mut max0, mut min1) = (f64::NEG_INFINITY, f64::INFINITY);
            for (&e, &yi) in eta.iter().zip(y) {
                if yi == 0.0 {
                    max0 = max0.max(e);
                } else if yi == 1.0 {
                    min1 = min1.min(e);
                }
            }
            if max0.is_finite() && min1.is_finite() && max0 < min1 {
                return Err(StatsError::Separation { n_extreme: y.len() });
            }
        }
        if !converged && !self.0.as_r {
            return Err(StatsError::NotConverged { iterations });
        }
        // the covariance of the last step only (each step's would be O(p^3) thrown away)
        let last_cov = match last_cov {
            Unscaled::Factor(l) => cholesky_inverse(&l, p),
            Unscaled::Covariance(c) => c,
        };
        let se = (0..p).map(|j| last_cov[j * p + j].sqrt()).collect();
        Ok(GlmFit {
            names: names.to_vec(),
            coef,
            se,
            linear_predictor: eta,
            fitted: mu,
            deviance: dev,
            iterations,
            converged,
            covariance: last_cov,
        })
    }
}

/// An IRLS step's unscaled covariance (X'WX)^-1: the Cholesky factor of X'WX from the normal
/// equations, inverted only for the step that turns out to be the last, or the QR's inverse.
enum Unscaled {
    Factor(Vec<f64>),
    Covariance(Vec<f64>),
}

impl GlmFit {
    /// The model as R `clubSandwich::vcovCR` sees a `glm`: the Jacobian D = (dmu/deta) X, the
    /// response residuals y - mu and the weights prior / V(mu) (whose inverse is the working
    /// variance, the target of its CR2 adjustment), for [`crate::regression::cr2_inverse_variance`].
    ///
    /// # Errors
    /// Lengths that differ.
    pub fn sandwich_parts<'x>(
        &self,
        family: Family,
        x: impl Into<MatrixRef<'x>>,
        y: &[f64],
        prior: Option<&[f64]>,
    ) -> Result<(Matrix, Vec<f64>, Vec<f64>)> {
        let x = x.into();
        let n = x.n;
        if y.len() != n || self.fitted.len() != n {
            return Err(StatsError::LengthMismatch { inputs: "the outcome and the fitted model" });
        }
        let mut values = Vec::with_capacity(n * x.p);
        let mut residuals = Vec::with_capacity(n);
        let mut weights = Vec::with_capacity(n);
        for i in 0..n {
            let (eta, mu) = (self.linear_predictor[i], self.fitted[i]);
            let d = family.mu_eta(eta);
            values.extend(x.row(i).iter().map(|v| v * d));
            residuals.push(y[i] - mu);
            weights.push(prior.map_or(1.0, |p| p[i]) / family.variance(mu));
        }
        Ok((Matrix { n, p: x.p, values }, residuals, weights))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(columns: &[&[f64]]) -> (Matrix, Vec<String>) {
        let n = columns[0].len();
        let rows: Vec<Vec<f64>> =
            (0..n).map(|i| std::iter::once(1.0).chain(columns.iter().map(|c| c[i])).collect()).collect();
        let names =
            std::iter::once("(Intercept)".to_string()).chain((1..=columns.len()).map(|k| format!("x{k}"))).collect();
        (Matrix::from_rows(&rows), names)
    }

    /// A fit of more than [`WARM_ROWS`] rows started from its subsample's fit reaches the
    /// estimates, standard errors and deviance of the fit from the means, in fewer steps on all
    /// rows: a logistic model, and a Poisson model with an offset and prior weights.
    #[test]
    fn a_warm_start_reaches_the_cold_fit() {
        let mut rng = crate::rng::Rng::new(17, 2);
        let n = WARM_ROWS + 4321;
        let (x1, x2): (Vec<f64>, Vec<f64>) =
            (0..n).map(|_| (rng.normal(), f64::from(u8::from(rng.chance(0.3))))).unzip();
        let (x, names) = design(&[&x1, &x2]);
        let treat: Vec<f64> = (0..n)
            .map(|i| f64::from(u8::from(rng.chance(1.0 / (1.0 + (1.2 - 0.8 * x1[i] + 0.5 * x2[i]).exp())))))
            .collect();
        let exposure: Vec<f64> = (0..n).map(|_| 0.5 + rng.uniform()).collect();
        let offset: Vec<f64> = exposure.iter().map(|e| e.ln()).collect();
        let count: Vec<f64> = (0..n).map(|i| f64::from(rng.poisson(exposure[i] * (0.3 + 0.2 * x1[i]).exp()))).collect();
        let prior: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let x = MatrixRef::from(&x);
        for (family, y, offset, prior) in
            [(Family::Logit, &treat, None, None), (Family::Poisson, &count, Some(&offset[..]), Some(&prior[..]))]
        {
            let params = GlmParams::new(family).check().unwrap();
            let warm = params.fit_rows_from(&x, &names, y, offset, prior, true).unwrap();
            let cold = params.fit_rows_from(&x, &names, y, offset, prior, false).unwrap();
            assert!(warm.iterations < cold.iterations, "{family:?}: {} against {}", warm.iterations, cold.iterations);
            // the standard errors are those of the last step's weights, at the iterate before
            // the last: each path's is compared with the maximum's (a fit run to 1e-13)
            let exact = GlmParams::new(family).epsilon(1e-13).check().unwrap();
            let exact = exact.fit_rows_from(&x, &names, y, offset, prior, false).unwrap();
            for (a, b) in warm.coef.iter().zip(&exact.coef).chain(warm.se.iter().zip(&exact.se)) {
                assert!((a - b).abs() <= 1e-7 * b.abs().max(1.0), "{family:?}: {a} against {b}");
            }
            for (a, b) in cold.coef.iter().zip(&exact.coef) {
                assert!((a - b).abs() <= 1e-7 * b.abs().max(1.0), "{family:?}: {a} against {b}");
            }
            assert!((warm.deviance - cold.deviance).abs() <= 1e-9 * cold.deviance, "{family:?}");
        }
    }

    #[test]
    fn complete_separation_is_reported_though_the_deviance_stops_first() {
        // x equals y: the fit stops with probabilities 1e-12 from 0 and 1, not at them
        let y: Vec<f64> = (0..40).map(|i| f64::from(u8::from(i < 20))).collect();
        let x = Matrix::from_rows(&y.iter().map(|&v| vec![1.0, v]).collect::<Vec<_>>());
        let names = vec!["(Intercept)".to_string(), "x".to_string()];
        let err = GlmParams::new(Family::Logit).check().unwrap().fit_weighted(&x, &names, &y, None, None).unwrap_err();
        assert!(matches!(err, StatsError::Separation { n_extreme: 40 }), "{err:?}");
    }

    #[test]
    fn separation_constant_and_collinear_covariates_are_reported() {
        let x1 = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let (x, names) = design(&[&x1]);
        let err = GlmParams::new(Family::Logit)
            .check()
            .unwrap()
            .fit(&x, &names, &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0], None)
            .unwrap_err();
        assert!(matches!(err, StatsError::Separation { .. }), "{err:?}");
        let (x, names) = design(&[&x1, &[2.0; 6]]);
        let err = GlmParams::new(Family::Logit)
            .check()
            .unwrap()
            .fit(&x, &names, &[0.0, 1.0, 0.0, 1.0, 1.0, 0.0], None)
            .unwrap_err();
        assert_eq!(err, StatsError::Constant { name: "x2".into() });
        let doubled: Vec<f64> = x1.iter().map(|v| 2.0 * v).collect();
        let (x, names) = design(&[&x1, &doubled]);
        let err = GlmParams::new(Family::Logit)
            .check()
            .unwrap()
            .fit(&x, &names, &[0.0, 1.0, 0.0, 1.0, 1.0, 0.0], None)
            .unwrap_err();
        assert_eq!(err, StatsError::Collinear { names: vec!["x2".into()] });
        let err = GlmParams::new(Family::Logit)
            .check()
            .unwrap()
            .fit(&x, &names, &[0.0, 2.0, 0.0, 1.0, 1.0, 0.0], None)
            .unwrap_err();
        assert_eq!(err, StatsError::OutOfRange { what: "a binomial outcome", allowed: "0 or 1" });
    }

    #[test]
    fn settings_are_checked_before_fitting() {
        for epsilon in [0.0, -1e-8, f64::NAN, 1.0] {
            assert!(matches!(
                GlmParams::new(Family::Logit).epsilon(epsilon).check(),
                Err(StatsError::OutOfRange { what: "the convergence epsilon", .. })
            ));
        }
        assert!(GlmParams::new(Family::Logit).max_iter(0).check().is_err());
        assert!(GlmParams::new(Family::Probit).epsilon(1e-10).max_iter(50).check().is_ok());
    }

    #[test]
    fn too_few_iterations_is_non_convergence() {
        let (x, names) = design(&[&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]);
        let params = GlmParams::new(Family::Logit).max_iter(1).check().unwrap();
        let err = params.fit(&x, &names, &[0.0, 1.0, 0.0, 1.0, 1.0, 1.0], None).unwrap_err();
        assert_eq!(err, StatsError::NotConverged { iterations: 1 });
    }
}
