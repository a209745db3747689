//! Distribution functions the estimates need beyond statrs: the noncentral t CDF (R's `pt` with
//! `ncp`, AS 243 by Lenth 1989 with Guenther's twin series, as R's `pnt.c`) and the inversion
//! that turns a t statistic into a confidence interval for its noncentrality.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use statrs::function::beta::beta_reg;
use statrs::function::gamma::ln_gamma;

/// Standard normal CDF.
pub fn pnorm(x: f64) -> f64 {
    Normal::new(0.0, 1.0).expect("valid").cdf(x)
}

/// Standard normal quantile.
pub fn qnorm(p: f64) -> f64 {
    Normal::new(0.0, 1.0).expect("valid").inverse_cdf(p)
}

/// Central t CDF (NaN when df is not positive).
pub fn pt(t: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |d| d.cdf(t))
}

/// Central t quantile (NaN when df is not positive).
pub fn qt(p: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |d| d.inverse_cdf(p))
}

/// P(T <= t) for T noncentral t with `df` degrees of freedom and noncentrality `ncp`.
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
    if !t.is_finite() {
        return if t < 0.0 { 0.0 } else { 1.0 };
    }
    let (negdel, tt, del) = if t >= 0.0 { (false, t, ncp) } else { (true, -t, -ncp) };
    if t < 0.0 && ncp > 40.0 {
        return 0.0;
    }
    if df > 4e5 || del * del > 2.0 * std::f64::consts::LN_2 * 1021.0 {
        // Abramowitz and Stegun 26.7.10
        let s = 1.0 / (4.0 * df);
        let z = (tt * (1.0 - s) - del) / (1.0 + tt * tt * 2.0 * s).sqrt();
        let p = pnorm(z);
        return if negdel { 1.0 - p } else { p };
    }
    let x = t * t / (t * t + df);
    let mut tnc = 0.0;
    if x > 0.0 {
        let lambda = del * del;
        let mut p = 0.5 * (-0.5 * lambda).exp();
        if p == 0.0 {
            return if negdel { 1.0 } else { 0.0 };
        }
        let mut q = (2.0 / std::f64::consts::PI).sqrt() * p * del;
        let mut s = 0.5 - p;
        if s < 1e-7 {
            s = -0.5 * (-0.5 * lambda).exp_m1();
        }
        let mut a = 0.5;
        let b = 0.5 * df;
        let rxb = (df / (t * t + df)).powf(b);
        let albeta = 0.5 * std::f64::consts::PI.ln() + ln_gamma(b) - ln_gamma(0.5 + b);
        let mut xodd = beta_reg(a, b, x);
        let mut godd = 2.0 * rxb * (a * x.ln() - albeta).exp();
        let mut tnc_b = b * x;
        let mut xeven = if tnc_b < f64::EPSILON { tnc_b } else { 1.0 - rxb };
        let mut geven = tnc_b * rxb;
        tnc_b = p * xodd + q * xeven;
        for it in 1..=1000 {
            a += 1.0;
            xodd -= godd;
            xeven -= geven;
            godd *= x * (a + b - 1.0) / a;
            geven *= x * (a + b - 0.5) / (a + 0.5);
            p *= lambda / (2.0 * f64::from(it));
            q *= lambda / (2.0 * f64::from(it) + 1.0);
            tnc_b += p * xodd + q * xeven;
            s -= p;
            if s < -1e-10 || (s <= 0.0 && it > 1) {
                break;
            }
            let errbd = 2.0 * s * (xodd - xeven);
            if errbd.abs() < 1e-12 {
                break;
            }
        }
        tnc = tnc_b;
    }
    tnc += pnorm(-del);
    let tmp = tnc.min(1.0);
    if negdel {
        1.0 - tmp
    } else {
        tmp
    }
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
