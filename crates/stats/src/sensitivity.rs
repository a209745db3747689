//! Sensitivity to hidden bias: how strong would an unmeasured confounder have to be to explain
//! an effect away?
//!
//! - [`e_value`]: the E-value of a ratio estimate and of its confidence limit nearer 1
//!   (VanderWeele and Ding 2017, Annals of Internal Medicine 167:268-274): for a risk ratio
//!   RR >= 1, E = RR + sqrt(RR (RR - 1)) (for RR < 1 use 1 / RR); the limit's E-value is 1 when
//!   the interval includes 1. Odds and hazard ratios are first put on the risk-ratio scale as the
//!   paper's Table 2 says: unchanged for a rare outcome (under 15%), else sqrt(OR) for an odds
//!   ratio and (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)) for a hazard ratio. Rate ratios of
//!   counts are treated as risk ratios.
//! - [`rosenbaum_signed_rank`] and [`rosenbaum_mcnemar`]: Rosenbaum bounds for matched pairs
//!   (Rosenbaum 2002, Observational Studies, 2nd ed., sections 4.3.3 and 4.3.2): under a bias of
//!   at most Gamma in the odds of treatment within a pair, the largest one-sided p-value of the
//!   Wilcoxon signed-rank statistic (normal approximation, average ranks for ties, zero
//!   differences dropped) or of McNemar's count of discordant pairs (exact binomial); and
//!   [`sensitivity_gamma`], the largest Gamma at which the effect stays significant.
//!
//! # Examples
//! ```
//! use swp_stats::sensitivity::{e_value, RatioScale};
//! // VanderWeele and Ding's formula; EValue::evalues.RR(3.9, lo = 2.4) prints 7.263034, 4.23303
//! let e = e_value(3.9, 2.4, 6.3, RatioScale::RiskRatio).unwrap();
//! assert!((e.point - 7.263034).abs() < 1e-6 && (e.limit - 4.23303).abs() < 1e-5);
//! ```

use crate::distributions::pnorm;
use crate::error::{Result, StatsError};

/// What a ratio estimate is, for its conversion to the risk-ratio scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RatioScale {
    /// A risk ratio (or a rate ratio of counts).
    RiskRatio,
    /// An odds ratio; `common` when the outcome is not rare (15% or more).
    OddsRatio {
        /// Outcome not rare.
        common: bool,
    },
    /// A hazard ratio; `common` when the outcome is not rare.
    HazardRatio {
        /// Outcome not rare.
        common: bool,
    },
}

/// E-values of an estimate and of its confidence limit nearer 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EValue {
    /// The estimate on the risk-ratio scale.
    pub risk_ratio: f64,
    /// E-value of the estimate.
    pub point: f64,
    /// E-value of the confidence limit nearer 1 (1 when the interval includes 1).
    pub limit: f64,
}

fn to_risk_ratio(x: f64, scale: RatioScale) -> f64 {
    match scale {
        RatioScale::RiskRatio | RatioScale::OddsRatio { common: false } | RatioScale::HazardRatio { common: false } => {
            x
        }
        RatioScale::OddsRatio { common: true } => x.sqrt(),
        RatioScale::HazardRatio { common: true } => {
            (1.0 - 0.5f64.powf(x.sqrt())) / (1.0 - 0.5f64.powf((1.0 / x).sqrt()))
        }
    }
}

fn e_of(rr: f64) -> f64 {
    let rr = if rr < 1.0 { 1.0 / rr } else { rr };
    rr + (rr * (rr - 1.0)).sqrt()
}

/// The E-values of `estimate` with interval (`ci_low`, `ci_high`).
///
/// # Errors
/// Values that are not positive and finite, or an interval that does not contain the estimate.
pub fn e_value(estimate: f64, ci_low: f64, ci_high: f64, scale: RatioScale) -> Result<EValue> {
    if [estimate, ci_low, ci_high].iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(StatsError::OutOfRange {
            what: "the ratios and limits of an E-value",
            allowed: "positive and finite",
        });
    }
    if !(ci_low <= estimate && estimate <= ci_high) {
        return Err(StatsError::EstimateOutsideInterval);
    }
    let (rr, lo, hi) = (to_risk_ratio(estimate, scale), to_risk_ratio(ci_low, scale), to_risk_ratio(ci_high, scale));
    let limit = if lo <= 1.0 && 1.0 <= hi {
        1.0
    } else if rr > 1.0 {
        e_of(lo)
    } else {
        e_of(hi)
    };
    Ok(EValue { risk_ratio: rr, point: e_of(rr), limit })
}

/// The largest one-sided p-value, under a hidden bias of at most `gamma`, of the Wilcoxon
/// signed-rank test that the treated-minus-control differences `d` are shifted in the direction
/// of `sign` (+1: treated higher, -1: treated lower). Normal approximation (Rosenbaum 2002,
/// 4.3.3): T = sum of the ranks of |d| over pairs with sign(d) = `sign`, E = p S1, V = p (1 - p)
/// S2 with p = gamma / (1 + gamma), S1 and S2 the sums of the ranks and their squares.
///
/// # Errors
/// `gamma` below 1, `sign` not +-1, no non-zero difference.
pub fn rosenbaum_signed_rank(d: &[f64], sign: f64, gamma: f64) -> Result<f64> {
    if !(gamma >= 1.0 && gamma.is_finite()) || (sign != 1.0 && sign != -1.0) {
        return Err(StatsError::OutOfRange { what: "gamma and the sign", allowed: "at least 1, and +1 or -1" });
    }
    let mut nonzero: Vec<f64> = d.iter().copied().filter(|v| *v != 0.0 && v.is_finite()).collect();
    if nonzero.is_empty() {
        return Err(StatsError::TooFewObservations { min: 1, got: 0 });
    }
    nonzero.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    // average ranks of |d| over ties
    let n = nonzero.len();
    let mut ranks = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && nonzero[j + 1].abs() == nonzero[i].abs() {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        ranks[i..=j].iter_mut().for_each(|x| *x = r);
        i = j + 1;
    }
    let t: f64 = nonzero.iter().zip(&ranks).filter(|(v, _)| v.signum() == sign).map(|(_, r)| r).sum();
    let s1: f64 = ranks.iter().sum();
    let s2: f64 = ranks.iter().map(|r| r * r).sum();
    let p = gamma / (1.0 + gamma);
    let z = (t - p * s1) / (p * (1.0 - p) * s2).sqrt();
    Ok(1.0 - pnorm(z))
}

/// The largest one-sided p-value, under a hidden bias of at most `gamma`, of McNemar's test for
/// matched pairs with a binary outcome: of `discordant` pairs, `in_direction` had the outcome
/// pattern of the effect (e.g. the outcome in the control only, for a protective effect).
/// Exact: P(X >= in_direction) for X ~ Binomial(discordant, gamma / (1 + gamma)) (Rosenbaum
/// 2002, 4.3.2).
///
/// # Errors
/// `gamma` below 1, more pairs in the direction than discordant, no discordant pair.
pub fn rosenbaum_mcnemar(discordant: u64, in_direction: u64, gamma: f64) -> Result<f64> {
    if !(gamma >= 1.0 && gamma.is_finite()) || in_direction > discordant {
        return Err(StatsError::OutOfRange {
            what: "gamma and the count",
            allowed: "at least 1, and within the discordant pairs",
        });
    }
    if discordant == 0 {
        return Err(StatsError::TooFewObservations { min: 1, got: 0 });
    }
    let p = gamma / (1.0 + gamma);
    let n = discordant;
    // sum of binomial probabilities from in_direction to n, in logs for large n
    let ln_choose = |k: u64| -> f64 {
        statrs::function::gamma::ln_gamma(n as f64 + 1.0)
            - statrs::function::gamma::ln_gamma(k as f64 + 1.0)
            - statrs::function::gamma::ln_gamma((n - k) as f64 + 1.0)
    };
    let tail: f64 =
        (in_direction..=n).map(|k| (ln_choose(k) + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp()).sum();
    Ok(tail.min(1.0))
}

/// The largest Gamma (at most `max_gamma`) at which `p_upper(gamma)` stays below `alpha`, found
/// by bisection to 1e-6 (the upper-bound p-value grows with Gamma); None when the effect is not
/// significant even at Gamma = 1.
pub fn sensitivity_gamma(p_upper: impl Fn(f64) -> Result<f64>, alpha: f64, max_gamma: f64) -> Result<Option<f64>> {
    if p_upper(1.0)? >= alpha {
        return Ok(None);
    }
    if p_upper(max_gamma)? < alpha {
        return Ok(Some(max_gamma));
    }
    let (mut lo, mut hi) = (1.0f64, max_gamma);
    while hi - lo > 1e-6 {
        let mid = (lo + hi) / 2.0;
        if p_upper(mid)? < alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Some(lo))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// VanderWeele and Ding (2017): E = RR + sqrt(RR (RR - 1)); values printed by R EValue's
    /// evalues.RR (as quoted by its wrappers): RR 3.9, lower limit 2.4 -> 7.263034, 4.23303.
    #[test]
    fn e_values_follow_vanderweele_and_ding() {
        let e = e_value(3.9, 2.4, 6.3, RatioScale::RiskRatio).unwrap();
        assert!((e.point - 7.263034).abs() < 1e-6, "{}", e.point);
        assert!((e.limit - 4.23303).abs() < 1e-5, "{}", e.limit);
        // protective: the reciprocal; the limit nearer 1 is the upper one
        let e = e_value(0.5, 0.3, 0.8, RatioScale::RiskRatio).unwrap();
        assert!((e.point - (2.0 + 2f64.sqrt())).abs() < 1e-12);
        let u: f64 = 1.0 / 0.8;
        assert!((e.limit - (u + (u * (u - 1.0)).sqrt())).abs() < 1e-12);
        // an interval including 1
        assert_eq!(e_value(0.9, 0.7, 1.2, RatioScale::RiskRatio).unwrap().limit, 1.0);
        // conversions: a common odds ratio by its square root, a common hazard ratio by Table 2
        let or = e_value(4.0, 2.0, 8.0, RatioScale::OddsRatio { common: true }).unwrap();
        assert!((or.risk_ratio - 2.0).abs() < 1e-12);
        let hr = e_value(2.0, 1.5, 3.0, RatioScale::HazardRatio { common: true }).unwrap();
        let expected = (1.0 - 0.5f64.powf(2f64.sqrt())) / (1.0 - 0.5f64.powf(0.5f64.sqrt()));
        assert!((hr.risk_ratio - expected).abs() < 1e-12);
        assert!(e_value(2.0, 2.5, 3.0, RatioScale::RiskRatio).is_err());
    }

    /// At Gamma = 1 the bound is the ordinary one-sided signed-rank test (normal approximation
    /// without continuity correction: scipy.stats.wilcoxon(d, alternative="less",
    /// correction=False, method="approx") gives 0.00909 for these differences; see
    /// tests/reference/sensitivity.py for the reference values at Gamma > 1).
    #[test]
    fn signed_rank_bounds_grow_with_gamma_and_equal_wilcoxon_at_one() {
        let d = [-3.0, -1.0, -2.0, -4.0, 1.0, -5.0, -2.0, 0.0, -6.0, 2.0, -1.5, -3.5];
        let p1 = rosenbaum_signed_rank(&d, -1.0, 1.0).unwrap();
        let p2 = rosenbaum_signed_rank(&d, -1.0, 2.0).unwrap();
        assert!(p1 < p2);
        let gamma = sensitivity_gamma(|g| rosenbaum_signed_rank(&d, -1.0, g), 0.05, 100.0).unwrap().unwrap();
        assert!(gamma > 1.0 && rosenbaum_signed_rank(&d, -1.0, gamma).unwrap() < 0.05 + 1e-6);
        assert!(rosenbaum_signed_rank(&[0.0, 0.0], 1.0, 1.0).is_err());
    }

    #[test]
    fn mcnemar_bound_is_the_binomial_tail() {
        // Gamma = 1: P(X >= 8) for X ~ Bin(10, 1/2) = 56 / 1024
        assert!((rosenbaum_mcnemar(10, 8, 1.0).unwrap() - 56.0 / 1024.0).abs() < 1e-12);
        assert!(rosenbaum_mcnemar(10, 8, 2.0).unwrap() > rosenbaum_mcnemar(10, 8, 1.0).unwrap());
        assert!(sensitivity_gamma(|g| rosenbaum_mcnemar(10, 8, g), 0.05, 100.0).unwrap().is_none());
        assert!(sensitivity_gamma(|g| rosenbaum_mcnemar(40, 35, g), 0.05, 100.0).unwrap().unwrap() > 2.0);
    }
}
