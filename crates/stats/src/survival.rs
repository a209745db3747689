//! Survival analysis for times to an event (first change of social worker, first placement
//! move), as R's `survival` package computes it.
//!
//! - [`kaplan_meier`]: the product-limit estimate with Greenwood standard errors of the
//!   cumulative hazard (`std.err` of `survfit`) and the default "log" 95% interval
//!   S exp(+- z se).
//! - [`log_rank`]: the log-rank test of two groups (`survdiff`, rho = 0).
//! - [`cox`]: the Cox proportional hazards model with one binary covariate and Efron's method
//!   for ties (`coxph(ties = "efron")`): Newton-Raphson on the partial likelihood from 0, the
//!   hazard ratio with its Wald interval.
//!
//! # Examples
//! ```
//! use swp_stats::survival::kaplan_meier;
//! // three units: events at 1 and 3, censored at 2
//! let km = kaplan_meier(&[1.0, 2.0, 3.0], &[true, false, true]).unwrap();
//! assert!((km.survival[0] - 2.0 / 3.0).abs() < 1e-15 && km.survival[2] == 0.0);
//! ```

use crate::distributions::{pnorm, qnorm};
use crate::error::{Result, StatsError};

/// A Kaplan-Meier curve, one row per distinct time.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    /// Distinct times.
    pub time: Vec<f64>,
    /// At risk just before each time.
    pub n_risk: Vec<f64>,
    /// Events at each time.
    pub n_event: Vec<f64>,
    /// Survival after each time.
    pub survival: Vec<f64>,
    /// Greenwood standard error of -log S (R's `std.err`).
    pub std_err: Vec<f64>,
    /// Lower 95% limit (log interval; None where S = 0).
    pub lower: Vec<Option<f64>>,
    /// Upper 95% limit, capped at 1.
    pub upper: Vec<Option<f64>>,
}

fn check(time: &[f64], event: &[bool]) -> Result<()> {
    if time.len() != event.len() {
        return Err(StatsError::LengthMismatch { inputs: "times and event flags" });
    }
    if time.iter().any(|t| !t.is_finite() || *t < 0.0) {
        return Err(StatsError::OutOfRange { what: "times", allowed: "finite and not negative" });
    }
    if time.is_empty() {
        return Err(StatsError::TooFewObservations { min: 1, got: 0 });
    }
    Ok(())
}

/// The Kaplan-Meier estimate.
///
/// # Errors
/// Lengths that differ, negative or non-finite times, no units.
pub fn kaplan_meier(time: &[f64], event: &[bool]) -> Result<KaplanMeier> {
    check(time, event)?;
    kaplan_meier_weighted(time, event, &vec![1.0; time.len()])
}

/// A log-rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRank {
    /// Chi-square statistic (1 df).
    pub chi_square: f64,
    /// p-value.
    pub p_value: f64,
    /// Observed events (control, treated).
    pub observed: (f64, f64),
    /// Expected events (control, treated).
    pub expected: (f64, f64),
}

/// The log-rank test of treated vs control.
///
/// # Errors
/// As [`kaplan_meier`]; both groups needed.
pub fn log_rank(time: &[f64], event: &[bool], treated: &[bool]) -> Result<LogRank> {
    check(time, event)?;
    if treated.len() != time.len() || treated.iter().all(|&t| t) || treated.iter().all(|&t| !t) {
        return Err(StatsError::NeedsBothArms { method: "the log-rank test" });
    }
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    let (mut n, mut n1) = (time.len() as f64, treated.iter().filter(|&&t| t).count() as f64);
    let (mut o1, mut e1, mut v, mut o_all) = (0.0, 0.0, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let t = time[order[i]];
        let (mut d, mut d1, mut leave, mut leave1) = (0.0, 0.0, 0.0, 0.0);
        while i < order.len() && time[order[i]] == t {
            let k = order[i];
            if event[k] {
                d += 1.0;
                if treated[k] {
                    d1 += 1.0;
                }
            }
            leave += 1.0;
            if treated[k] {
                leave1 += 1.0;
            }
            i += 1;
        }
        if d > 0.0 {
            o1 += d1;
            o_all += d;
            e1 += d * n1 / n;
            if n > 1.0 {
                v += d * (n1 / n) * (1.0 - n1 / n) * (n - d) / (n - 1.0);
            }
        }
        n -= leave;
        n1 -= leave1;
    }
    let chi_square = (o1 - e1).powi(2) / v;
    let p_value = crate::distributions::pchisq_upper(chi_square, 1.0);
    Ok(LogRank { chi_square, p_value, observed: (o_all - o1, o1), expected: (o_all - e1, e1) })
}

/// A Cox model with one binary covariate (treated).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cox {
    /// log hazard ratio.
    pub coef: f64,
    /// Its model-based standard error.
    pub se: f64,
    /// Hazard ratio.
    pub hazard_ratio: f64,
    /// 95% interval of the hazard ratio.
    pub ci: (f64, f64),
    /// Wald p-value.
    pub p_value: f64,
    /// Log partial likelihood at 0 and at the estimate.
    pub loglik: (f64, f64),
}

/// The Cox model of the time to event on treatment (Efron ties).
///
/// # Errors
/// As [`log_rank`]; no events; non-convergence.
pub fn cox(time: &[f64], event: &[bool], treated: &[bool]) -> Result<Cox> {
    check(time, event)?;
    if treated.len() != time.len() || treated.iter().all(|&t| t) || treated.iter().all(|&t| !t) {
        return Err(StatsError::NeedsBothArms { method: "the Cox model" });
    }
    if !event.iter().any(|&e| e) {
        return Err(StatsError::NoEvents { model: "Cox model" });
    }
    let x: Vec<f64> = treated.iter().map(|&t| f64::from(u8::from(t))).collect();
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    let ones = vec![1.0; time.len()];
    let (ll0, _, _) = efron_weighted(time, event, &x, &ones, &order, 0.0);
    let (beta, ll, info) = newton_efron(time, event, &x, &ones, &order)?;
    let se = (1.0 / info).sqrt();
    let z = qnorm(0.975);
    Ok(Cox {
        coef: beta,
        se,
        hazard_ratio: beta.exp(),
        ci: ((beta - z * se).exp(), (beta + z * se).exp()),
        p_value: 2.0 * pnorm(-(beta / se).abs()),
        loglik: (ll0, ll),
    })
}

/// A weighted Cox model with one binary covariate and its robust (sandwich) variance.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxRobust {
    /// log hazard ratio.
    pub coef: f64,
    /// Model-based standard error, 1 / sqrt(information).
    pub se_model: f64,
    /// Robust standard error: sqrt(sum over clusters of (sum of w_i D_i)^2), D_i = U_i / I
    /// (R `coxph(..., weights = w, cluster = g)$var`, no small-sample factor).
    pub se_robust: f64,
    /// Number of clusters in the robust variance.
    pub clusters: usize,
    /// Robust score test of beta = 0 (chi-square, 1 df) and its p-value (R `coxph()$rscore`).
    pub robust_score: (f64, f64),
}

/// Score residuals U_i (unweighted, per unit) of the Efron partial likelihood at `beta`, and
/// the information. Ties at an event time are split into d steps as in Efron's approximation:
/// step l has hazard increment wmean / (S0 - (l/d) E0) and mean (S1 - (l/d) E1) /
/// (S0 - (l/d) E0); a unit dying at that time is at risk in step l with weight 1 - l/d and
/// dies 1/d in each step (Therneau and Grambsch 2000, sections 3.3 and 7.2).
fn efron_score_residuals(
    time: &[f64],
    event: &[bool],
    x: &[f64],
    w: &[f64],
    order: &[usize],
    beta: f64,
) -> (Vec<f64>, f64, f64) {
    let n = order.len();
    let r: Vec<f64> = x.iter().map(|&v| (beta * v).exp()).collect();
    // distinct times in increasing order: the per-time quantities are computed on a backward
    // pass (risk sets), the residuals on a forward pass (cumulative hazards)
    struct AtTime {
        start: usize,
        end: usize,
        h: f64,
        a: f64,
        hd: f64,
        ad: f64,
        mean_x: f64,
    }
    let mut times: Vec<AtTime> = Vec::new();
    let mut i = 0;
    while i < n {
        let t = time[order[i]];
        let mut j = i;
        while j < n && time[order[j]] == t {
            j += 1;
        }
        times.push(AtTime { start: i, end: j, h: 0.0, a: 0.0, hd: 0.0, ad: 0.0, mean_x: 0.0 });
        i = j;
    }
    let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
    let (mut info, mut score) = (0.0, 0.0);
    for at in times.iter_mut().rev() {
        let (mut d, mut e0, mut e1, mut e2, mut wsum, mut wx) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for &k in &order[at.start..at.end] {
            let wr = w[k] * r[k];
            s0 += wr;
            s1 += wr * x[k];
            s2 += wr * x[k] * x[k];
            if event[k] {
                d += 1.0;
                e0 += wr;
                e1 += wr * x[k];
                e2 += wr * x[k] * x[k];
                wsum += w[k];
                wx += w[k] * x[k];
            }
        }
        if d == 0.0 {
            continue;
        }
        let wmean = wsum / d;
        score += wx;
        for l in 0..d as usize {
            let f = l as f64 / d;
            let a0 = s0 - f * e0;
            let xbar = (s1 - f * e1) / a0;
            let h = wmean / a0;
            score -= wmean * xbar;
            info += wmean * ((s2 - f * e2) / a0 - xbar * xbar);
            at.h += h;
            at.a += xbar * h;
            at.hd += (1.0 - f) * h;
            at.ad += (1.0 - f) * xbar * h;
            at.mean_x += xbar / d;
        }
    }
    let mut residuals = vec![0.0; time.len()];
    let (mut cum_h, mut cum_a) = (0.0, 0.0);
    for at in &times {
        for &k in &order[at.start..at.end] {
            residuals[k] = if event[k] {
                -r[k] * (x[k] * cum_h - cum_a) + (x[k] - at.mean_x) - r[k] * (x[k] * at.hd - at.ad)
            } else {
                -r[k] * (x[k] * (cum_h + at.h) - (cum_a + at.a))
            };
        }
        cum_h += at.h;
        cum_a += at.a;
    }
    (residuals, score, info)
}

/// Weighted Efron log partial likelihood, score and information.
fn efron_weighted(time: &[f64], event: &[bool], x: &[f64], w: &[f64], order: &[usize], beta: f64) -> (f64, f64, f64) {
    let (mut ll, mut score, mut info) = (0.0, 0.0, 0.0);
    let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
    let mut i = order.len();
    while i > 0 {
        let t = time[order[i - 1]];
        let mut j = i;
        let (mut d, mut e0, mut e1, mut e2, mut wsum, mut wx) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        while j > 0 && time[order[j - 1]] == t {
            let k = order[j - 1];
            let wr = w[k] * (beta * x[k]).exp();
            s0 += wr;
            s1 += wr * x[k];
            s2 += wr * x[k] * x[k];
            if event[k] {
                d += 1.0;
                e0 += wr;
                e1 += wr * x[k];
                e2 += wr * x[k] * x[k];
                wsum += w[k];
                wx += w[k] * x[k];
            }
            j -= 1;
        }
        if d > 0.0 {
            let wmean = wsum / d;
            ll += beta * wx;
            score += wx;
            for l in 0..d as usize {
                let f = l as f64 / d;
                let a0 = s0 - f * e0;
                let a1 = s1 - f * e1;
                let a2 = s2 - f * e2;
                ll -= wmean * a0.ln();
                score -= wmean * a1 / a0;
                info += wmean * (a2 / a0 - (a1 / a0) * (a1 / a0));
            }
        }
        i = j;
    }
    (ll, score, info)
}

/// Newton-Raphson on the weighted Efron partial likelihood from beta = 0, halving a step when
/// the likelihood falls (as coxph): the estimate, the log likelihood and the information there.
fn newton_efron(time: &[f64], event: &[bool], x: &[f64], w: &[f64], order: &[usize]) -> Result<(f64, f64, f64)> {
    newton_efron_strata(time, event, x, w, &[order.to_vec()])
}

/// [`newton_efron`] on the stratified partial likelihood: the sum over strata, each stratum's
/// risk sets its own (`orders`: each stratum's units sorted by time).
fn newton_efron_strata(
    time: &[f64],
    event: &[bool],
    x: &[f64],
    w: &[f64],
    orders: &[Vec<usize>],
) -> Result<(f64, f64, f64)> {
    let at = |beta: f64| {
        orders.iter().fold((0.0, 0.0, 0.0), |acc, order| {
            let (l, s, i) = efron_weighted(time, event, x, w, order, beta);
            (acc.0 + l, acc.1 + s, acc.2 + i)
        })
    };
    let mut beta = 0.0;
    let (mut ll, mut score, mut info) = at(beta);
    for _ in 0..50 {
        let step = score / info;
        let mut next = beta + step;
        let (mut ll_next, mut s_next, mut i_next) = at(next);
        let mut halvings = 0;
        while ll_next < ll && halvings < 30 {
            next = (next + beta) / 2.0;
            (ll_next, s_next, i_next) = at(next);
            halvings += 1;
        }
        let done = ((ll_next - ll) / ll_next.abs().max(1e-300)).abs() < 1e-12 || step.abs() < 1e-12;
        beta = next;
        (ll, score, info) = (ll_next, s_next, i_next);
        if done {
            if !beta.is_finite() || info <= 0.0 {
                break;
            }
            return Ok((beta, ll, info));
        }
    }
    Err(StatsError::NotConverged { iterations: 50 })
}

/// The Cox model of the time to event on treatment with case weights (e.g. match weights),
/// Efron ties, and its robust variance clustered on `cluster` (each unit its own cluster when
/// None), as R `coxph(Surv(time, event) ~ treated, weights = w, cluster = g, ties = "efron")`.
///
/// # Formula
/// Newton-Raphson on the weighted Efron partial likelihood from beta = 0 (step halving when it
/// falls). Robust variance: sum over clusters g of (sum_{i in g} w_i U_i / I)^2, with U_i the
/// Efron score residuals at the estimate and I the information (Lin and Wei 1989). Robust score
/// test: (sum_i w_i U_i(0))^2 / sum_g (sum_{i in g} w_i U_i(0))^2 on 1 df.
///
/// # Errors
/// As [`cox`]; weights that are not positive and finite; labels of the wrong length.
pub fn cox_weighted(
    time: &[f64],
    event: &[bool],
    treated: &[bool],
    weights: &[f64],
    cluster: Option<&[usize]>,
) -> Result<CoxRobust> {
    cox_weighted_stratified(time, event, treated, weights, cluster, None)
}

/// [`cox_weighted`] stratified on `strata` (R `coxph(Surv(time, event) ~ treated +
/// strata(s), weights = w, cluster = g, ties = "efron")`): each stratum has its own baseline
/// hazard and risk sets; the partial likelihood, its score residuals and the robust variance
/// sum over strata (Therneau and Grambsch 2000, section 3.1). None: one stratum.
///
/// # Errors
/// As [`cox_weighted`]; strata labels of the wrong length.
pub fn cox_weighted_stratified(
    time: &[f64],
    event: &[bool],
    treated: &[bool],
    weights: &[f64],
    cluster: Option<&[usize]>,
    strata: Option<&[usize]>,
) -> Result<CoxRobust> {
    check(time, event)?;
    let n = time.len();
    if treated.len() != n
        || weights.len() != n
        || cluster.is_some_and(|c| c.len() != n)
        || strata.is_some_and(|s| s.len() != n)
    {
        return Err(StatsError::LengthMismatch { inputs: "times, groups, weights and clusters" });
    }
    if treated.iter().all(|&t| t) || treated.iter().all(|&t| !t) {
        return Err(StatsError::NeedsBothArms { method: "the Cox model" });
    }
    if weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(StatsError::OutOfRange { what: "Cox case weights", allowed: "positive and finite" });
    }
    if !event.iter().any(|&e| e) {
        return Err(StatsError::NoEvents { model: "Cox model" });
    }
    let x: Vec<f64> = treated.iter().map(|&t| f64::from(u8::from(t))).collect();
    let mut orders: Vec<Vec<usize>> = Vec::new();
    let mut labels: Vec<usize> = strata.map_or_else(Vec::new, <[usize]>::to_vec);
    labels.sort_unstable();
    labels.dedup();
    if labels.len() <= 1 {
        orders.push((0..n).collect());
    } else {
        let s = strata.unwrap_or(&[]);
        orders = labels.iter().map(|&l| (0..n).filter(|&i| s[i] == l).collect()).collect();
    }
    for order in &mut orders {
        order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    }
    let (beta, _, info) = newton_efron_strata(time, event, &x, weights, &orders)?;
    let residuals = |beta: f64| -> (Vec<f64>, f64) {
        let mut u = vec![0.0; n];
        let mut information = 0.0;
        for order in &orders {
            let (part, _, i) = efron_score_residuals(time, event, &x, weights, order, beta);
            for &k in order {
                u[k] = part[k];
            }
            information += i;
        }
        (u, information)
    };
    let own: Vec<usize> = (0..n).collect();
    let labels = cluster.unwrap_or(&own);
    let collapse = |u: &[f64], scale: f64| -> (f64, usize) {
        let mut sums: std::collections::BTreeMap<usize, f64> = std::collections::BTreeMap::new();
        for i in 0..n {
            *sums.entry(labels[i]).or_insert(0.0) += weights[i] * u[i] * scale;
        }
        (sums.values().map(|s| s * s).sum(), sums.len())
    };
    let (u, info_hat) = residuals(beta);
    let (var, clusters) = collapse(&u, 1.0 / info_hat);
    let (u0, _) = residuals(0.0);
    let total: f64 = (0..n).map(|i| weights[i] * u0[i]).sum();
    let (denominator, _) = collapse(&u0, 1.0);
    let chi = total * total / denominator;
    let p = crate::distributions::pchisq_upper(chi, 1.0);
    Ok(CoxRobust { coef: beta, se_model: (1.0 / info).sqrt(), se_robust: var.sqrt(), clusters, robust_score: (chi, p) })
}

/// The Kaplan-Meier estimate with case weights (R `survfit(weights = )`): risk sets and
/// events are sums of weights; Greenwood's formula on those sums. With unit weights it equals
/// [`kaplan_meier`].
///
/// # Errors
/// As [`kaplan_meier`]; weights that are not positive and finite.
pub fn kaplan_meier_weighted(time: &[f64], event: &[bool], weights: &[f64]) -> Result<KaplanMeier> {
    check(time, event)?;
    if weights.len() != time.len() || weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(StatsError::OutOfRange { what: "Kaplan-Meier weights", allowed: "positive, one per unit" });
    }
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    let mut at_risk: f64 = weights.iter().sum();
    let (mut s, mut greenwood) = (1.0f64, 0.0f64);
    let z = qnorm(0.975);
    let mut km = KaplanMeier {
        time: vec![],
        n_risk: vec![],
        n_event: vec![],
        survival: vec![],
        std_err: vec![],
        lower: vec![],
        upper: vec![],
    };
    let mut i = 0;
    while i < order.len() {
        let t = time[order[i]];
        let (mut d, mut leaving) = (0.0, 0.0);
        while i < order.len() && time[order[i]] == t {
            let k = order[i];
            if event[k] {
                d += weights[k];
            }
            leaving += weights[k];
            i += 1;
        }
        if d > 0.0 {
            s *= 1.0 - d / at_risk;
            if at_risk > d * (1.0 + 1e-12) {
                greenwood += d / (at_risk * (at_risk - d));
            } else {
                greenwood = f64::INFINITY;
            }
        }
        let se = greenwood.sqrt();
        km.time.push(t);
        km.n_risk.push(at_risk);
        km.n_event.push(d);
        km.survival.push(s);
        km.std_err.push(se);
        let finite = s > 0.0 && se.is_finite();
        km.lower.push(finite.then(|| s * (-z * se).exp()));
        km.upper.push(finite.then(|| (s * (z * se).exp()).min(1.0)));
        at_risk -= leaving;
    }
    Ok(km)
}

impl KaplanMeier {
    /// The median survival time as R's `print.survfit` gives it: the smallest time at which
    /// the curve is at or below 1/2 (when it equals 1/2 over an interval, the midpoint of that
    /// interval and the next event time); None if it never reaches 1/2.
    pub fn median(&self) -> Option<f64> {
        let k = self.survival.iter().position(|&s| s <= 0.5 + 1e-12)?;
        if (self.survival[k] - 0.5).abs() < 1e-12 {
            // flat at exactly 1/2: R averages this time and the next time the curve drops
            if let Some(next) = (k + 1..self.time.len()).find(|&j| self.n_event[j] > 0.0) {
                return Some((self.time[k] + self.time[next]) / 2.0);
            }
        }
        Some(self.time[k])
    }
}
