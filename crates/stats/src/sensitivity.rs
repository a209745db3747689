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
//! - [`AssignmentSensitivity`]: the same model at the level of whole units assigned together
//!   (sites; Hansen, Rosenbaum and Small 2014, "Clustered treatment assignments and sensitivity
//!   to unmeasured biases in observational studies", JASA 109:133-144), for a randomisation
//!   test over which k of G units are treated: the largest p-value when the units' odds of
//!   treatment may differ by up to Gamma through an unmeasured unit characteristic.
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
use rayon::prelude::*;

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

/// Rosenbaum's sensitivity model (2002, section 4.2) for a randomisation test over which k of G
/// units are treated: with an unmeasured unit characteristic u in [0, 1]^G and odds of
/// treatment that differ by at most Gamma between units, assignment z (k units) has probability
/// proportional to Gamma^(u'z). The test's p-value under u is the weighted share of assignments
/// at least as extreme as the observed one; its upper bound is the largest over u. In each
/// coordinate of u that share is a ratio of two functions linear in Gamma^(u_s), hence monotone,
/// so the largest is at a vertex of the cube: u the indicator of a subset U of the units, and
/// u'z = |z and U|. Every subset is visited (2^G of them, G <= 24), each assignment's overlap
/// counted; the assignments' counts by overlap, extreme and all, are all that depends on U, so
/// each distinct pair of counts is kept once and any Gamma then costs O(distinct x k).
/// Exact when the assignments are every set of k of G (an enumerated randomisation test).
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentSensitivity {
    /// For each distinct subset profile: assignments by overlap m = 0..=k, extreme and all.
    profiles: Vec<(Vec<u64>, Vec<u64>)>,
}

impl AssignmentSensitivity {
    /// The largest number of units (2^G subsets are visited).
    pub const MAX_UNITS: usize = 24;
    /// The largest 2^G x assignments this does (about a second on one core).
    pub const MAX_WORK: f64 = 5e8;

    /// From the assignments `sets` (each the treated units, all of the same size, below
    /// `units`) and whether each is at least as extreme as the observed one.
    ///
    /// # Errors
    /// Lengths that differ, no assignment, sets of unequal size or naming a unit beyond `units`
    /// ([`StatsError::LengthMismatch`], [`StatsError::OutOfRange`]); more than
    /// [`Self::MAX_UNITS`] units or more work than [`Self::MAX_WORK`]
    /// ([`StatsError::OutOfRange`]).
    pub fn new(units: usize, sets: &[&[usize]], extreme: &[bool]) -> Result<Self> {
        if sets.len() != extreme.len() || sets.is_empty() {
            return Err(StatsError::LengthMismatch { inputs: "the assignments and their extreme flags" });
        }
        let k = sets[0].len();
        if sets.iter().any(|s| s.len() != k || s.iter().any(|&u| u >= units)) {
            return Err(StatsError::OutOfRange {
                what: "the assignments",
                allowed: "sets of the same size naming units below the number of units",
            });
        }
        if units > Self::MAX_UNITS || (1u64 << units) as f64 * sets.len() as f64 > Self::MAX_WORK {
            return Err(StatsError::OutOfRange {
                what: "units x assignments for a unit-level sensitivity analysis",
                allowed: "at most 24 units and 5e8 subsets x assignments",
            });
        }
        let masks: Vec<u32> = sets.iter().map(|s| s.iter().fold(0u32, |m, &u| m | (1 << u))).collect();
        let mut profiles: Vec<(Vec<u64>, Vec<u64>)> = (0..1u32 << units)
            .into_par_iter()
            .map(|subset| {
                let (mut ext, mut all) = (vec![0u64; k + 1], vec![0u64; k + 1]);
                for (mask, &e) in masks.iter().zip(extreme) {
                    let m = (mask & subset).count_ones() as usize;
                    all[m] += 1;
                    ext[m] += u64::from(e);
                }
                (ext, all)
            })
            .collect();
        profiles.sort_unstable();
        profiles.dedup();
        Ok(AssignmentSensitivity { profiles })
    }

    /// The upper bound of the p-value when units' odds of treatment differ by at most `gamma`
    /// (>= 1; at 1, the randomisation test's own p-value).
    pub fn p_upper(&self, gamma: f64) -> f64 {
        self.profiles
            .iter()
            .map(|(ext, all)| {
                let (mut num, mut den, mut power) = (0.0, 0.0, 1.0);
                for (e, a) in ext.iter().zip(all) {
                    num += power * *e as f64;
                    den += power * *a as f64;
                    power *= gamma;
                }
                num / den
            })
            .fold(0.0, f64::max)
    }
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

    /// Every set of `k` of `g` units, lexicographic.
    fn all_sets(g: usize, k: usize) -> Vec<Vec<usize>> {
        crate::randomisation::assignments(g, &(0..k).collect::<Vec<_>>(), usize::MAX, 0).0
    }

    /// The p-value of a sum statistic's randomisation test when assignment z has probability
    /// proportional to gamma^(u'z), for any u in [0, 1]^G.
    fn p_under(sets: &[Vec<usize>], extreme: &[bool], u: &[f64], gamma: f64) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for (set, &e) in sets.iter().zip(extreme) {
            let weight = gamma.powf(set.iter().map(|&s| u[s]).sum::<f64>());
            den += weight;
            if e {
                num += weight;
            }
        }
        num / den
    }

    /// For a sum statistic in one stratum (the two-sample permutation test), Rosenbaum and
    /// Krieger (1990, JASA 85:493-498) show the upper bound is attained at one of the G + 1
    /// vectors u that are 1 on the units with the largest scores and 0 on the rest: the search
    /// over all 2^G subsets gives exactly their largest p. At Gamma = 1 the bound is the
    /// randomisation p-value; it grows with Gamma; and no u inside the cube gives more.
    #[test]
    fn the_unit_level_bound_equals_rosenbaum_and_krieger_for_a_sum_statistic() {
        let mut rng = crate::rng::Rng::new(3, 7);
        for (g, k) in [(11, 5), (9, 3), (12, 6)] {
            let scores: Vec<f64> = (0..g).map(|_| rng.normal()).collect();
            let sets = all_sets(g, k);
            let total = |set: &[usize]| set.iter().map(|&s| scores[s]).sum::<f64>();
            // the observed assignment: the k highest-but-one scores, a small p-value
            let mut order: Vec<usize> = (0..g).collect();
            order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
            let observed = total(&order[1..=k]);
            let extreme: Vec<bool> = sets.iter().map(|s| total(s) >= observed - 1e-12).collect();
            let refs: Vec<&[usize]> = sets.iter().map(Vec::as_slice).collect();
            let bound = AssignmentSensitivity::new(g, &refs, &extreme).unwrap();
            let plain = extreme.iter().filter(|&&e| e).count() as f64 / sets.len() as f64;
            assert!((bound.p_upper(1.0) - plain).abs() < 1e-15);
            let mut last = plain;
            for gamma in [1.5, 2.0, 3.0, 6.0] {
                let p = bound.p_upper(gamma);
                // Rosenbaum and Krieger's candidates: u = 1 on the top j scores, j = 0..=G
                let candidates = (0..=g)
                    .map(|j| {
                        let mut u = vec![0.0; g];
                        order[..j].iter().for_each(|&s| u[s] = 1.0);
                        p_under(&sets, &extreme, &u, gamma)
                    })
                    .fold(0.0, f64::max);
                assert!((p - candidates).abs() < 1e-12 * candidates, "G {g}, Gamma {gamma}: {p} vs {candidates}");
                assert!(p >= last);
                last = p;
                for _ in 0..50 {
                    let u: Vec<f64> = (0..g).map(|_| rng.uniform()).collect();
                    assert!(p_under(&sets, &extreme, &u, gamma) <= p + 1e-12);
                }
            }
        }
        let sets = all_sets(30, 2);
        let refs: Vec<&[usize]> = sets.iter().map(Vec::as_slice).collect();
        assert!(AssignmentSensitivity::new(30, &refs, &vec![false; refs.len()]).is_err(), "2^30 subsets");
    }
}
