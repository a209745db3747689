//! The weighted Cox model with several covariates (Efron ties, strata, a robust variance
//! clustered on a label): the covariate-adjusted hazard ratio of docs/evaluation.md "Estimation
//! after matching" (a conditional hazard ratio: the treatment's coefficient with the covariates
//! held fixed). [`crate::survival`] has the one-covariate model the unadjusted rows use; this is
//! its generalisation to a coefficient vector, from the same sources (Therneau and Grambsch
//! 2000, sections 3.3 and 7.2; Lin and Wei 1989 for the robust variance).
//!
//! # Examples
//! ```
//! use swp_stats::cox::cox_adjusted;
//! use swp_stats::Matrix;
//! // treated (first column) and one covariate; every unit has the event
//! let time = [5.0, 8.0, 3.0, 9.0, 4.0, 7.0, 6.0, 2.0];
//! let event = [true; 8];
//! let x = Matrix::from_rows(&[
//!     vec![1.0, 0.3], vec![1.0, 1.2], vec![1.0, 0.1], vec![1.0, 2.0],
//!     vec![0.0, 0.5], vec![0.0, 1.0], vec![0.0, 0.2], vec![0.0, 0.9],
//! ]);
//! let fit = cox_adjusted(&time, &event, &x, &[1.0; 8], None, None).unwrap();
//! assert_eq!(fit.coef.len(), 2);
//! assert!(fit.se_robust(0) > 0.0);
//! ```

use crate::error::{Result, StatsError};
use crate::linalg::{cholesky, cholesky_inverse, cholesky_solve, weighted_cross_products, Matrix, MatrixRef};

/// A fitted weighted Cox model.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxFit {
    /// Coefficients, in the design's column order (log hazard ratios).
    pub coef: Vec<f64>,
    /// The inverse information at the estimate (model-based covariance), row-major p x p.
    pub vcov_model: Vec<f64>,
    /// The robust covariance: sum over clusters g of s_g s_g', s_g = sum_{i in g} w_i U_i I^-1
    /// (R `coxph(..., weights = w, cluster = g)$var`, no small-sample factor).
    pub vcov_robust: Vec<f64>,
    /// Number of clusters in the robust variance.
    pub clusters: usize,
    /// Log partial likelihood at the estimate.
    pub loglik: f64,
}

impl CoxFit {
    /// The robust standard error of coefficient `j`.
    pub fn se_robust(&self, j: usize) -> f64 {
        self.vcov_robust[j * self.coef.len() + j].sqrt()
    }
}

/// The Efron log partial likelihood and score of one stratum (`order`: its units by increasing
/// time) at `beta`, added to `acc`, and its information as two Gram matrices.
///
/// At a time t with d deaths, Efron's step l (f = l / d) adds wmean ((S2 - f E2) / a0 -
/// m m') to the information, S2 the risk set's sum of r_j x_j x_j', E2 the deaths', a0 = S0 - f
/// E0 and m = (S1 - f E1) / a0. Summed over the steps and times, the second moments are one
/// weighted Gram matrix X' diag(c) X: a unit j at risk through the times t <= t_j carries
/// c_j = r_j (sum over those times of wmean sum_l 1/a0) less, if it dies, r_j wmean sum_l f/a0
/// at its own time (written into `gram_weight`). The means' outer products are another, of the rows
/// m with weight wmean (pushed onto `means` and `mean_weights`). Each Gram matrix is then a
/// single pass over its rows ([`crate::linalg::weighted_cross_products`]) instead of an
/// O(p^2) update per unit and per time.
#[allow(clippy::too_many_arguments)]
fn efron(
    x: &Matrix,
    time: &[f64],
    event: &[bool],
    w: &[f64],
    order: &[usize],
    eta: &[f64],
    acc: &mut Sums,
    gram_weight: &mut [f64],
    means: &mut Vec<f64>,
    mean_weights: &mut Vec<f64>,
) {
    let p = x.p;
    let (mut s0, mut s1) = (0.0, vec![0.0; p]);
    let (mut e1, mut wx, mut mean) = (vec![0.0; p], vec![0.0; p], vec![0.0; p]);
    // the deaths at the current time, with their risk weights
    let mut events: Vec<(usize, f64)> = Vec::new();
    // per time, latest first: its units' range in `order` and the weight wmean sum_l 1/a0 of S2
    // there; and each death's own E2 weight r_k wmean sum_l f/a0
    let mut times: Vec<(usize, usize, f64)> = Vec::new();
    let mut own: Vec<(usize, f64)> = Vec::new();
    let mut i = order.len();
    while i > 0 {
        let t = time[order[i - 1]];
        let mut j = i;
        let (mut e0, mut wsum) = (0.0, 0.0);
        events.clear();
        while j > 0 && time[order[j - 1]] == t {
            let k = order[j - 1];
            let wr = w[k] * eta[k].exp();
            s0 += wr;
            s1.iter_mut().zip(x.row(k)).for_each(|(a, b)| *a += wr * b);
            gram_weight[k] = wr;
            if event[k] {
                events.push((k, wr));
            }
            j -= 1;
        }
        let mut by_s2 = 0.0;
        if !events.is_empty() {
            let d = events.len() as f64;
            e1.fill(0.0);
            wx.fill(0.0);
            for &(k, wr) in &events {
                let xk = x.row(k);
                e0 += wr;
                e1.iter_mut().zip(xk).for_each(|(a, b)| *a += wr * b);
                wsum += w[k];
                wx.iter_mut().zip(xk).for_each(|(a, b)| *a += w[k] * b);
                acc.loglik += w[k] * eta[k];
            }
            let wmean = wsum / d;
            acc.score.iter_mut().zip(&wx).for_each(|(a, b)| *a += b);
            let mut by_e2 = 0.0;
            for l in 0..events.len() {
                let f = l as f64 / d;
                let a0 = s0 - f * e0;
                let inverse = 1.0 / a0;
                by_s2 += inverse;
                by_e2 += f * inverse;
                mean.iter_mut().enumerate().for_each(|(a, m)| *m = (s1[a] - f * e1[a]) * inverse);
                acc.loglik -= wmean * a0.ln();
                acc.score.iter_mut().zip(&mean).for_each(|(s, m)| *s -= wmean * m);
                means.extend_from_slice(&mean);
                mean_weights.push(wmean);
            }
            by_s2 *= wmean;
            // a death's own E2 term (none without ties: f = 0)
            if events.len() > 1 {
                own.extend(events.iter().map(|&(k, wr)| (k, wr * wmean * by_e2)));
            }
        }
        times.push((j, i, by_s2));
        i = j;
    }
    // earliest time first: each unit's S2 weight summed over the times it is at risk (gram_weight
    // holds r_k until here)
    let mut through = 0.0;
    for &(start, end, by_s2) in times.iter().rev() {
        through += by_s2;
        order[start..end].iter().for_each(|&k| gram_weight[k] *= through);
    }
    own.iter().for_each(|&(k, e2)| gram_weight[k] -= e2);
}

/// Log partial likelihood, score and information summed over strata.
struct Sums {
    loglik: f64,
    score: Vec<f64>,
    info: Vec<f64>,
}

/// The score residuals U_i (p per unit, unweighted) of one stratum at the linear predictor
/// `eta`, written into `out` (row-major n x p): Efron's ties split into d steps, a unit dying
/// at a time at risk in step l with weight 1 - l/d (Therneau and Grambsch 2000, section 7.2).
fn score_residuals(x: &Matrix, time: &[f64], event: &[bool], w: &[f64], order: &[usize], eta: &[f64], out: &mut [f64]) {
    let p = x.p;
    let n = order.len();
    let r: Vec<f64> = eta.iter().map(|e| e.exp()).collect();
    struct AtTime {
        start: usize,
        end: usize,
        h: f64,
        a: Vec<f64>,
        hd: f64,
        ad: Vec<f64>,
        mean: Vec<f64>,
    }
    let mut times: Vec<AtTime> = Vec::new();
    let mut i = 0;
    while i < n {
        let t = time[order[i]];
        let mut j = i;
        while j < n && time[order[j]] == t {
            j += 1;
        }
        times.push(AtTime { start: i, end: j, h: 0.0, a: vec![0.0; p], hd: 0.0, ad: vec![0.0; p], mean: vec![0.0; p] });
        i = j;
    }
    let (mut s0, mut s1) = (0.0, vec![0.0; p]);
    for at in times.iter_mut().rev() {
        let (mut d, mut e0, mut e1, mut wsum) = (0.0, 0.0, vec![0.0; p], 0.0);
        for &k in &order[at.start..at.end] {
            let wr = w[k] * r[k];
            s0 += wr;
            s1.iter_mut().zip(x.row(k)).for_each(|(a, b)| *a += wr * b);
            if event[k] {
                d += 1.0;
                e0 += wr;
                e1.iter_mut().zip(x.row(k)).for_each(|(a, b)| *a += wr * b);
                wsum += w[k];
            }
        }
        if d == 0.0 {
            continue;
        }
        let wmean = wsum / d;
        for l in 0..d as usize {
            let f = l as f64 / d;
            let a0 = s0 - f * e0;
            let h = wmean / a0;
            at.h += h;
            at.hd += (1.0 - f) * h;
            for a in 0..p {
                let mean = (s1[a] - f * e1[a]) / a0;
                at.a[a] += mean * h;
                at.ad[a] += (1.0 - f) * mean * h;
                at.mean[a] += mean / d;
            }
        }
    }
    let (mut cum_h, mut cum_a) = (0.0, vec![0.0; p]);
    for at in &times {
        for &k in &order[at.start..at.end] {
            let xk = x.row(k);
            for a in 0..p {
                out[k * p + a] = if event[k] {
                    -r[k] * (xk[a] * cum_h - cum_a[a]) + (xk[a] - at.mean[a]) - r[k] * (xk[a] * at.hd - at.ad[a])
                } else {
                    -r[k] * (xk[a] * (cum_h + at.h) - (cum_a[a] + at.a[a]))
                };
            }
        }
        cum_h += at.h;
        cum_a.iter_mut().zip(&at.a).for_each(|(c, a)| *c += a);
    }
}

/// The weighted Cox model of the time to event on the columns of `x` (no intercept; the
/// treatment first by this crate's convention), Efron ties, stratified on `strata` (None: one
/// stratum), with its robust covariance clustered on `cluster` (None: each unit its own), as R
/// `coxph(Surv(time, event) ~ x + strata(s), weights = w, cluster = g, ties = "efron")`.
///
/// # Formula
/// Newton-Raphson on the weighted Efron log partial likelihood from beta = 0, a step halved
/// while the likelihood falls, until its relative change is below 1e-12. Robust covariance:
/// I^-1 (sum_g s_g s_g') I^-1 with s_g = sum_{i in g} w_i U_i and U_i the score residuals at the
/// estimate (Lin and Wei 1989).
///
/// # Errors
/// Lengths that differ; times that are negative or not finite; weights that are not positive
/// and finite; no events; an arm (column 0 all 0 or all 1) missing; a singular information
/// (collinear columns: drop them first, [`crate::linalg::independent_columns`]); no convergence
/// in 50 iterations.
pub fn cox_adjusted(
    time: &[f64],
    event: &[bool],
    x: &Matrix,
    weights: &[f64],
    cluster: Option<&[usize]>,
    strata: Option<&[usize]>,
) -> Result<CoxFit> {
    let (n, p) = (time.len(), x.p);
    if event.len() != n
        || x.n != n
        || weights.len() != n
        || cluster.is_some_and(|c| c.len() != n)
        || strata.is_some_and(|s| s.len() != n)
        || p == 0
    {
        return Err(StatsError::LengthMismatch { inputs: "times, events, design, weights, clusters and strata" });
    }
    if time.iter().any(|t| !t.is_finite() || *t < 0.0) {
        return Err(StatsError::OutOfRange { what: "times", allowed: "finite and not negative" });
    }
    if weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(StatsError::OutOfRange { what: "Cox case weights", allowed: "positive and finite" });
    }
    if !event.iter().any(|&e| e) {
        return Err(StatsError::NoEvents { model: "Cox model" });
    }
    let first = x.at(0, 0);
    if (0..n).all(|i| x.at(i, 0) == first) {
        return Err(StatsError::NeedsBothArms { method: "the Cox model" });
    }
    let mut labels: Vec<usize> = strata.map_or_else(Vec::new, <[usize]>::to_vec);
    labels.sort_unstable();
    labels.dedup();
    let mut orders: Vec<Vec<usize>> = if labels.len() <= 1 {
        vec![(0..n).collect()]
    } else {
        let s = strata.unwrap_or(&[]);
        labels.iter().map(|&l| (0..n).filter(|&i| s[i] == l).collect()).collect()
    };
    for order in &mut orders {
        order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    }
    let eta_of = |beta: &[f64]| -> Vec<f64> { (0..n).map(|i| crate::moments::dot_fast(x.row(i), beta)).collect() };
    let at = |beta: &[f64]| -> Sums {
        let eta = eta_of(beta);
        let mut acc = Sums { loglik: 0.0, score: vec![0.0; p], info: Vec::new() };
        let (mut gram_weight, mut means, mut mean_weights) = (vec![0.0; n], Vec::new(), Vec::new());
        for order in &orders {
            efron(x, time, event, weights, order, &eta, &mut acc, &mut gram_weight, &mut means, &mut mean_weights);
        }
        let (second, _) = weighted_cross_products(&x.into(), |i| (gram_weight[i], 0.0));
        let rows = mean_weights.len();
        let means = MatrixRef { n: rows, p, values: std::borrow::Cow::Owned(means) };
        let (outer, _) = weighted_cross_products(&means, |i| (mean_weights[i], 0.0));
        acc.info = second.iter().zip(&outer).map(|(a, b)| a - b).collect();
        acc
    };
    let singular = || StatsError::Collinear { names: vec!["the Cox model's columns".to_string()] };
    let mut beta = vec![0.0; p];
    let mut sums = at(&beta);
    let mut converged = false;
    for _ in 0..50 {
        let l = cholesky(&sums.info, p, 1e-10).ok_or_else(singular)?;
        let step = cholesky_solve(&l, &sums.score);
        let mut next: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + s).collect();
        let mut next_sums = at(&next);
        let mut halvings = 0;
        // a NaN likelihood (an overflowing step) is halved too
        while (next_sums.loglik < sums.loglik || next_sums.loglik.is_nan()) && halvings < 30 {
            next = next.iter().zip(&beta).map(|(a, b)| (a + b) / 2.0).collect();
            next_sums = at(&next);
            halvings += 1;
        }
        let change = ((next_sums.loglik - sums.loglik) / next_sums.loglik.abs().max(1e-300)).abs();
        let small = step.iter().all(|s| s.abs() < 1e-12);
        beta = next;
        sums = next_sums;
        if change < 1e-12 || small {
            converged = beta.iter().all(|b| b.is_finite());
            break;
        }
    }
    if !converged {
        return Err(StatsError::NotConverged { iterations: 50 });
    }
    let l = cholesky(&sums.info, p, 1e-10).ok_or_else(singular)?;
    let inverse = cholesky_inverse(&l, p);
    let eta = eta_of(&beta);
    let mut u = vec![0.0; n * p];
    for order in &orders {
        score_residuals(x, time, event, weights, order, &eta, &mut u);
    }
    let own: Vec<usize> = (0..n).collect();
    let ids = cluster.unwrap_or(&own);
    let mut sums_by: std::collections::BTreeMap<usize, Vec<f64>> = std::collections::BTreeMap::new();
    for i in 0..n {
        let s = sums_by.entry(ids[i]).or_insert_with(|| vec![0.0; p]);
        s.iter_mut().zip(&u[i * p..(i + 1) * p]).for_each(|(a, b)| *a += weights[i] * b);
    }
    let mut meat = vec![0.0; p * p];
    for s in sums_by.values() {
        for a in 0..p {
            for b in 0..p {
                meat[a * p + b] += s[a] * s[b];
            }
        }
    }
    let mut vcov_robust = vec![0.0; p * p];
    for a in 0..p {
        for b in 0..p {
            vcov_robust[a * p + b] = (0..p)
                .map(|c| inverse[a * p + c] * (0..p).map(|d| meat[c * p + d] * inverse[d * p + b]).sum::<f64>())
                .sum();
        }
    }
    Ok(CoxFit { coef: beta, vcov_model: inverse, vcov_robust, clusters: sums_by.len(), loglik: sums.loglik })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::survival::cox_weighted_stratified;

    /// With treatment alone it is the one-covariate model of [`crate::survival`] (estimate and
    /// robust error, stratified and clustered, ties included).
    #[test]
    fn one_column_equals_the_one_covariate_model() {
        let mut rng = Rng::new(3, 1);
        let n = 120;
        let treated: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
        let time: Vec<f64> =
            (0..n).map(|i| (1.0 + rng.uniform() * 40.0).floor() + if treated[i] { 5.0 } else { 0.0 }).collect();
        let event: Vec<bool> = (0..n).map(|i| i % 5 != 0).collect();
        let w: Vec<f64> = (0..n).map(|i| if i % 4 == 0 { 0.5 } else { 1.0 }).collect();
        let cluster: Vec<usize> = (0..n).map(|i| i % 7).collect();
        let strata: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let one = cox_weighted_stratified(&time, &event, &treated, &w, Some(&cluster), Some(&strata)).unwrap();
        let x = Matrix::from_rows(&treated.iter().map(|&t| vec![f64::from(u8::from(t))]).collect::<Vec<_>>());
        let many = cox_adjusted(&time, &event, &x, &w, Some(&cluster), Some(&strata)).unwrap();
        assert!((many.coef[0] - one.coef).abs() < 1e-9, "{} vs {}", many.coef[0], one.coef);
        assert!((many.se_robust(0) - one.se_robust).abs() < 1e-9 * one.se_robust);
        assert_eq!(many.clusters, 7);
    }

    /// Collinear columns are refused with a named error, not a number.
    #[test]
    fn collinear_columns_are_refused() {
        let time: Vec<f64> = (0..10).map(f64::from).collect();
        let event = vec![true; 10];
        let x = Matrix::from_rows(&(0..10).map(|i| vec![f64::from(i % 2), f64::from(i % 2)]).collect::<Vec<_>>());
        assert!(matches!(cox_adjusted(&time, &event, &x, &[1.0; 10], None, None), Err(StatsError::Collinear { .. })));
    }
}
