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
        return Err(StatsError::Invalid("times and event flags have different lengths".into()));
    }
    if time.iter().any(|t| !t.is_finite() || *t < 0.0) {
        return Err(StatsError::Invalid("times must be finite and not negative".into()));
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
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    let mut at_risk = time.len() as f64;
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
            d += f64::from(u8::from(event[order[i]]));
            leaving += 1.0;
            i += 1;
        }
        if d > 0.0 {
            s *= 1.0 - d / at_risk;
            if at_risk > d {
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
        return Err(StatsError::Invalid("the log-rank test needs treated and control units".into()));
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
    let p_value = statrs::distribution::ContinuousCDF::sf(
        &statrs::distribution::ChiSquared::new(1.0).expect("valid"),
        chi_square,
    );
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

/// Efron log partial likelihood, score and information at beta for covariate x.
fn efron(time: &[f64], event: &[bool], x: &[f64], order: &[usize], beta: f64) -> (f64, f64, f64) {
    let (mut ll, mut score, mut info) = (0.0, 0.0, 0.0);
    // risk-set sums from the latest time backwards
    let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
    let mut i = order.len();
    while i > 0 {
        let t = time[order[i - 1]];
        let mut j = i;
        // add everyone with this time to the risk set; collect the events' sums
        let (mut d, mut e0, mut e1, mut e2, mut xsum) = (0.0, 0.0, 0.0, 0.0, 0.0);
        while j > 0 && time[order[j - 1]] == t {
            let k = order[j - 1];
            let r = (beta * x[k]).exp();
            s0 += r;
            s1 += r * x[k];
            s2 += r * x[k] * x[k];
            if event[k] {
                d += 1.0;
                e0 += r;
                e1 += r * x[k];
                e2 += r * x[k] * x[k];
                xsum += x[k];
            }
            j -= 1;
        }
        if d > 0.0 {
            ll += beta * xsum;
            score += xsum;
            let dn = d as usize;
            for l in 0..dn {
                let f = l as f64 / d;
                let a0 = s0 - f * e0;
                let a1 = s1 - f * e1;
                let a2 = s2 - f * e2;
                ll -= a0.ln();
                score -= a1 / a0;
                info += a2 / a0 - (a1 / a0) * (a1 / a0);
            }
        }
        i = j;
    }
    (ll, score, info)
}

/// The Cox model of the time to event on treatment (Efron ties).
///
/// # Errors
/// As [`log_rank`]; no events; non-convergence.
pub fn cox(time: &[f64], event: &[bool], treated: &[bool]) -> Result<Cox> {
    check(time, event)?;
    if treated.len() != time.len() || treated.iter().all(|&t| t) || treated.iter().all(|&t| !t) {
        return Err(StatsError::Invalid("the Cox model needs treated and control units".into()));
    }
    if !event.iter().any(|&e| e) {
        return Err(StatsError::Invalid("no events: the Cox model cannot be fitted".into()));
    }
    let x: Vec<f64> = treated.iter().map(|&t| f64::from(u8::from(t))).collect();
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    let (ll0, _, _) = efron(time, event, &x, &order, 0.0);
    let mut beta = 0.0;
    let (mut ll, mut score, mut info) = efron(time, event, &x, &order, beta);
    let mut converged = false;
    for _ in 0..50 {
        let step = score / info;
        let mut next = beta + step;
        let (mut ll_next, mut s_next, mut i_next) = efron(time, event, &x, &order, next);
        // step halving if the likelihood falls (as coxph)
        let mut halvings = 0;
        while ll_next < ll && halvings < 30 {
            next = (next + beta) / 2.0;
            (ll_next, s_next, i_next) = efron(time, event, &x, &order, next);
            halvings += 1;
        }
        let done = ((ll_next - ll) / ll_next.abs().max(1e-300)).abs() < 1e-12 || step.abs() < 1e-12;
        beta = next;
        (ll, score, info) = (ll_next, s_next, i_next);
        if done {
            converged = true;
            break;
        }
    }
    if !converged || !beta.is_finite() || info <= 0.0 {
        return Err(StatsError::NotConverged { iterations: 50 });
    }
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
