//! Distribution functions the estimates need beyond statrs: the noncentral t CDF (the series of
//! Guenther 1978 and Lenth 1989, AS 243, written for this crate; it agrees with R's `pt` with
//! `ncp` to 1e-10 on the reference values) and the inversion that turns a t statistic into a
//! confidence interval for its noncentrality.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use statrs::function::beta::beta_reg;
use statrs::function::gamma::ln_gamma;

/// Standard normal CDF.
pub fn pnorm(x: f64) -> f64 {
    Normal::new(0.0, 1.0).expect("valid").cdf(x)
}

/// Standard normal quantile (NaN for p outside [0, 1]).
pub fn qnorm(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    Normal::new(0.0, 1.0).expect("valid").inverse_cdf(p)
}

/// Central t CDF (NaN when t is NaN or df is not positive). statrs 0.18 panics inside its
/// incomplete beta function on a NaN argument (found by the held-out corrupted-data sweep: a
/// site-level difference with no variation gave t = NaN), so NaN is answered here.
pub fn pt(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t < 0.0 { 0.0 } else { 1.0 };
    }
    StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |d| d.cdf(t))
}

/// Central t quantile (NaN when p is outside [0, 1] or df is not positive).
pub fn qt(p: f64, df: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |d| d.inverse_cdf(p))
}

/// Upper tail of the chi-squared distribution with `df` degrees of freedom (NaN for a NaN or
/// negative statistic: statrs would panic).
pub fn pchisq_upper(x: f64, df: f64) -> f64 {
    if x.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    statrs::distribution::ChiSquared::new(df).map_or(f64::NAN, |d| d.sf(x))
}

/// P(T <= t) for T noncentral t with `df` degrees of freedom and noncentrality `ncp`.
///
/// # Formula
/// For t >= 0, with x = t^2 / (t^2 + df) and lambda = ncp^2 / 2 (Guenther 1978; Lenth 1989,
/// Applied Statistics AS 243, equation 2):
///
/// F(t) = Phi(-ncp) + 1/2 sum_{j >= 0} [ p_j I_x(j + 1/2, df/2) + q_j I_x(j + 1, df/2) ],
/// p_j = e^-lambda lambda^j / j!, q_j = ncp e^-lambda lambda^j / (sqrt 2 Gamma(j + 3/2)),
///
/// with I_x the regularised incomplete beta function; for t < 0, F(t; ncp) = 1 - F(-t; -ncp).
/// The weights are Poisson probabilities (and bounded multiples of them), so the sum runs over
/// j from 0 to lambda + 12 sqrt(lambda) + 40, past which the Poisson mass left is below 1e-16;
/// each weight is computed in logs so a large ncp does not underflow. For df above 4e5 the
/// normal approximation of Abramowitz and Stegun 26.7.10 is used.
///
/// # Examples
/// ```
/// // R: pt(3, 250, 2.5) = 0.688844978236547
/// let p = swp_stats::distributions::pt_noncentral(3.0, 250.0, 2.5);
/// assert!((p - 0.688844978236547).abs() < 1e-10);
/// ```
pub fn pt_noncentral(t: f64, df: f64, ncp: f64) -> f64 {
    if ncp == 0.0 {
        return pt(t, df);
    }
    if t.is_nan() || ncp.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if !t.is_finite() {
        return if t < 0.0 { 0.0 } else { 1.0 };
    }
    if t < 0.0 {
        return 1.0 - upper_half(-t, df, -ncp);
    }
    upper_half(t, df, ncp)
}

/// F(t) for t >= 0 by the Poisson-weighted series of [`pt_noncentral`].
fn upper_half(t: f64, df: f64, ncp: f64) -> f64 {
    if df > 4e5 {
        let s = 1.0 / (4.0 * df);
        return pnorm((t * (1.0 - s) - ncp) / (1.0 + t * t * 2.0 * s).sqrt());
    }
    let x = t * t / (t * t + df);
    let base = pnorm(-ncp);
    if x == 0.0 {
        return base;
    }
    let lambda = 0.5 * ncp * ncp;
    let half_df = 0.5 * df;
    let last = (lambda + 12.0 * lambda.sqrt() + 40.0).ceil() as u64;
    let ln_lambda = lambda.ln();
    let ln_abs_ncp = ncp.abs().ln();
    let mut sum = 0.0;
    for j in 0..=last {
        let jf = j as f64;
        let ln_poisson = -lambda + jf * ln_lambda - ln_gamma(jf + 1.0);
        let p_j = ln_poisson.exp();
        let q_j = ncp.signum()
            * (ln_abs_ncp - lambda + jf * ln_lambda - 0.5 * std::f64::consts::LN_2 - ln_gamma(jf + 1.5)).exp();
        if p_j == 0.0 && q_j == 0.0 && jf > lambda {
            break;
        }
        sum += p_j * beta_reg(jf + 0.5, half_df, x) + q_j * beta_reg(jf + 1.0, half_df, x);
    }
    (base + 0.5 * sum).clamp(0.0, 1.0)
}

/// The noncentrality parameters ncp with P(T <= t) = 1 - alpha/2 and alpha/2 (the lower and
/// upper ends of the 1 - alpha interval for ncp), by bisection to 1e-12.
pub fn ncp_interval(t: f64, df: f64, level: f64) -> (f64, f64) {
    let alpha = 1.0 - level;
    let solve = |target: f64| {
        // pt_noncentral is decreasing in ncp
        let (mut lo, mut hi) = (t - 10.0, t + 10.0);
        while pt_noncentral(t, df, lo) < target {
            lo -= 10.0;
        }
        while pt_noncentral(t, df, hi) > target {
            hi += 10.0;
        }
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if pt_noncentral(t, df, mid) > target {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo < 1e-12 {
                break;
            }
        }
        0.5 * (lo + hi)
    };
    (solve(1.0 - alpha / 2.0), solve(alpha / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the held-out corrupted-data sweep: a NaN statistic reached statrs, which panics.
    #[test]
    fn nan_and_infinite_arguments_give_nan_or_the_limit_never_a_panic() {
        assert!(pt(f64::NAN, 5.0).is_nan());
        assert!(pt(1.0, f64::NAN).is_nan() && pt(1.0, 0.0).is_nan());
        assert_eq!((pt(f64::NEG_INFINITY, 5.0), pt(f64::INFINITY, 5.0)), (0.0, 1.0));
        assert!(qt(f64::NAN, 5.0).is_nan() && qt(1.5, 5.0).is_nan());
        assert!(qnorm(f64::NAN).is_nan() && qnorm(-0.1).is_nan());
        assert!(pchisq_upper(f64::NAN, 1.0).is_nan());
        assert_eq!((pchisq_upper(0.0, 1.0), pchisq_upper(f64::INFINITY, 1.0)), (1.0, 0.0));
        // R: pchisq(3.84, 1, lower.tail = FALSE) = 0.05004352
        assert!((pchisq_upper(3.84, 1.0) - 0.050_043_521_248_705_2).abs() < 1e-12);
        assert!(pt_noncentral(f64::NAN, 5.0, 1.0).is_nan());
    }
}
