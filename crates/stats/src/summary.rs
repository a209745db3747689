//! One outcome between two groups: every statistic `swp-eval effect` reports, computed by one
//! call into a typed result that serialises with its fields in a fixed order.
//!
//! ```
//! use swp_stats::summary::{summarise, EffectData, EffectOptions};
//! let y = [3.0, 4.0, 5.0, 1.0, 2.0, 2.5];
//! let treated = [true, true, true, false, false, false];
//! let s = summarise(&EffectData::new(&y, &treated), &EffectOptions::default()).unwrap();
//! assert_eq!(s.difference, 4.0 - 5.5 / 3.0);
//! assert_eq!(s.se_method, swp_stats::summary::SeMethod::Welch);
//! ```

use crate::bootstrap::{BootType, BootWeights, WildParams, WildProblem};
use crate::effects::{
    cliffs_delta, rate_ratio_weighted, risks_weighted, standardised_weighted, weighted_difference, welch,
};
use crate::regression::wls;
use crate::{Matrix, Result, StatsError};
use serde::Serialize;

/// The rows of one outcome. Rows with weight 0 are left out of every statistic.
#[derive(Debug, Clone, Copy)]
pub struct EffectData<'a> {
    /// The outcome, one value per row.
    pub y: &'a [f64],
    /// Treated (true) or control, per row.
    pub treated: &'a [bool],
    /// Weights (e.g. match weights), non-negative.
    pub weights: Option<&'a [f64]>,
    /// Exposure per row: adds a Poisson rate ratio of `y` as a count.
    pub exposure: Option<&'a [f64]>,
    /// Cluster of each row (any labels as numbers): cluster-robust inference.
    pub clusters: Option<&'a [usize]>,
}

impl<'a> EffectData<'a> {
    /// Unweighted, unclustered rows, without exposure.
    pub fn new(y: &'a [f64], treated: &'a [bool]) -> Self {
        EffectData { y, treated, weights: None, exposure: None, clusters: None }
    }
}

/// What the outcome's values mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutcomeScale {
    /// Differences of values mean something (counts, rates, scores).
    #[default]
    Interval,
    /// Only the order of values means something (a satisfaction scale): adds Cliff's delta and
    /// the Mann-Whitney test.
    Ordinal,
}

/// Settings of [`summarise`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EffectOptions {
    /// Interval or ordinal outcome.
    pub scale: OutcomeScale,
    /// The wild cluster bootstrap (with clusters): replications, weights and seed; the null is
    /// imposed (WCR).
    pub reps: usize,
    /// Bootstrap weights.
    pub boot_weights: BootWeights,
    /// Seed of the bootstrap draws.
    pub seed: u64,
}

impl Default for EffectOptions {
    fn default() -> Self {
        EffectOptions { scale: OutcomeScale::Interval, reps: 9999, boot_weights: BootWeights::Webb, seed: 2009 }
    }
}

/// How the standard error of the difference was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeMethod {
    /// Welch (unweighted, unclustered).
    Welch,
    /// HC2 of a weighted regression on the group (weighted, unclustered).
    Hc2,
    /// CR2 with Bell-McCaffrey degrees of freedom (clustered).
    Cr2,
}

/// The cluster-robust extras.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterSummary {
    /// CR1 standard error (R `sandwich::vcovCL`).
    pub se_cr1: f64,
    /// Clusters.
    pub n_clusters: usize,
    /// Clusters with a treated row.
    pub n_treated_clusters: usize,
    /// Wild cluster bootstrap p-value, null imposed.
    pub wild_p_value: f64,
    /// Replicates used.
    pub wild_reps: usize,
    /// Whether every distinct draw was used instead of random ones.
    pub wild_enumerated: bool,
}

/// Risk measures of a 0/1 outcome, with Wald intervals.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(missing_docs)] // estimate, lower and upper limit of each measure
pub struct RiskSummary {
    pub risk_difference: f64,
    pub risk_difference_ci_low: f64,
    pub risk_difference_ci_high: f64,
    pub risk_ratio: f64,
    pub risk_ratio_ci_low: f64,
    pub risk_ratio_ci_high: f64,
    pub odds_ratio: f64,
    pub odds_ratio_ci_low: f64,
    pub odds_ratio_ci_high: f64,
}

/// A Poisson rate ratio with robust (HC0) errors and a log-exposure offset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(missing_docs)]
pub struct RateSummary {
    pub rate_ratio: f64,
    pub rate_ratio_ci_low: f64,
    pub rate_ratio_ci_high: f64,
}

/// Cliff's delta and the Mann-Whitney test of an ordinal outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(missing_docs)]
pub struct OrdinalSummary {
    pub cliffs_delta: f64,
    pub cliffs_delta_ci_low: f64,
    pub cliffs_delta_ci_high: f64,
    pub mann_whitney_p_value: f64,
}

/// Every statistic of one outcome between two groups (CLI.md, `effect` output). Non-finite
/// values serialise as null; the optional groups appear only when they apply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectSummary {
    /// Treated rows (weight > 0).
    pub n_treated: usize,
    /// Control rows (weight > 0).
    pub n_control: usize,
    /// (Weighted) mean of the treated.
    pub mean_treated: f64,
    /// (Weighted) mean of the controls.
    pub mean_control: f64,
    /// Treated minus control.
    pub difference: f64,
    /// Its standard error.
    pub se: f64,
    /// How `se` was computed.
    pub se_method: SeMethod,
    /// Degrees of freedom of the t reference.
    pub df: f64,
    /// 95% interval.
    pub ci_low: f64,
    /// 95% interval.
    pub ci_high: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Hedges' g (None when the pooled SD is 0).
    pub hedges_g: Option<f64>,
    /// Its noncentral-t interval (None with clusters: it would ignore them).
    pub hedges_g_ci_low: Option<f64>,
    /// Its noncentral-t interval.
    pub hedges_g_ci_high: Option<f64>,
    /// Cohen's d.
    pub cohens_d: Option<f64>,
    /// With clusters.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub clustered: Option<ClusterSummary>,
    /// With a 0/1 outcome.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub risks: Option<RiskSummary>,
    /// With an exposure.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub rate: Option<RateSummary>,
    /// With an ordinal outcome.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ordinal: Option<OrdinalSummary>,
}

/// Every statistic of `data`'s outcome between its two groups.
///
/// # Errors
/// Lengths that differ, negative or non-finite weights ([`StatsError::LengthMismatch`],
/// [`StatsError::OutOfRange`]); fewer than 2 rows in a group ([`StatsError::TooFewPerGroup`]);
/// with clusters, fewer than 2 clusters holding either group
/// ([`StatsError::TooFewClustersPerGroup`]); and the models' own errors.
pub fn summarise(data: &EffectData<'_>, options: &EffectOptions) -> Result<EffectSummary> {
    let n = data.y.len();
    let same = |len: Option<usize>| len.is_none_or(|l| l == n);
    if data.treated.len() != n
        || !same(data.weights.map(<[f64]>::len))
        || !same(data.exposure.map(<[f64]>::len))
        || !same(data.clusters.map(<[usize]>::len))
    {
        return Err(StatsError::LengthMismatch { inputs: "the outcome, groups, weights, exposure and clusters" });
    }
    if data.weights.is_some_and(|w| w.iter().any(|v| !(v.is_finite() && *v >= 0.0))) {
        return Err(StatsError::OutOfRange { what: "weights", allowed: "non-negative numbers" });
    }
    let keep: Vec<usize> = (0..n).filter(|&i| data.weights.is_none_or(|w| w[i] > 0.0)).collect();
    let pick = |v: &[f64]| -> Vec<f64> { keep.iter().map(|&i| v[i]).collect() };
    let g: Vec<bool> = keep.iter().map(|&i| data.treated[i]).collect();
    let y = pick(data.y);
    let w = data.weights.map(pick);
    let weight = |i: usize| w.as_ref().map_or(1.0, |w| w[i]);
    let split = |want: bool| -> (Vec<f64>, Vec<f64>) {
        g.iter().enumerate().filter(|(_, &t)| t == want).map(|(i, _)| (y[i], weight(i))).unzip()
    };
    let ((treated_y, w_treated), (control_y, w_control)) = (split(true), split(false));
    let mean = |v: &[f64], wv: &[f64]| {
        let (s, sw) = v.iter().zip(wv).fold((0.0, 0.0), |(s, sw), (x, w)| (s + w * x, sw + w));
        s / sw
    };
    if treated_y.len() < 2 || control_y.len() < 2 {
        return Err(StatsError::TooFewPerGroup { min: 2, treated: treated_y.len(), control: control_y.len() });
    }
    let (inference, se_method, clustered) = match (data.clusters, &w) {
        (None, None) => (welch(&treated_y, &control_y)?, SeMethod::Welch, None),
        (None, Some(w)) => (weighted_difference(&y, &g, w)?, SeMethod::Hc2, None),
        (Some(clusters), _) => {
            let ids: Vec<usize> = keep.iter().map(|&i| clusters[i]).collect();
            let of_group = |want: bool| {
                crate::labels::count_distinct(ids.iter().zip(&g).filter(|(_, &t)| t == want).map(|(&c, _)| c))
            };
            let (in_treated, in_control) = (of_group(true), of_group(false));
            if in_treated < 2 || in_control < 2 {
                return Err(StatsError::TooFewClustersPerGroup { min: 2, treated: in_treated, control: in_control });
            }
            let mut x = Matrix::zeros(g.len(), 2);
            for (i, &t) in g.iter().enumerate() {
                x.values[2 * i] = 1.0;
                x.values[2 * i + 1] = f64::from(u8::from(t));
            }
            let fit = wls(&x, &y, w.as_deref())?;
            let cr2 = fit.cr2_inference(&ids, 1)?;
            let cr1 = fit.vcov_cr1(&ids)?;
            let problem = WildProblem::from_fit(&fit, &y, &ids, 1)?;
            let params = WildParams {
                reps: options.reps,
                weights: options.boot_weights,
                kind: BootType::Wcr,
                seed: options.seed,
            }
            .check()?;
            let wild = problem.test(0.0, &params);
            let summary = ClusterSummary {
                se_cr1: cr1[3].sqrt(),
                n_clusters: crate::labels::count_distinct(ids.iter().copied()),
                n_treated_clusters: in_treated,
                wild_p_value: wild.p_value,
                wild_reps: wild.reps,
                wild_enumerated: wild.enumerated,
            };
            (cr2, SeMethod::Cr2, Some(summary))
        }
    };
    let standardised = standardised_weighted(&treated_y, &w_treated, &control_y, &w_control).ok();
    let interval = |ci: fn(&crate::effects::Standardised) -> f64| {
        standardised.as_ref().filter(|_| data.clusters.is_none()).map(ci)
    };
    // a 0/1 outcome is read from every row given, weight 0 included
    let risks = if data.y.iter().all(|&v| v == 0.0 || v == 1.0) {
        let r = risks_weighted(&treated_y, &w_treated, &control_y, &w_control)?;
        Some(RiskSummary {
            risk_difference: r.risk_difference.estimate,
            risk_difference_ci_low: r.risk_difference.ci_low,
            risk_difference_ci_high: r.risk_difference.ci_high,
            risk_ratio: r.risk_ratio.estimate,
            risk_ratio_ci_low: r.risk_ratio.ci_low,
            risk_ratio_ci_high: r.risk_ratio.ci_high,
            odds_ratio: r.odds_ratio.estimate,
            odds_ratio_ci_low: r.odds_ratio.ci_low,
            odds_ratio_ci_high: r.odds_ratio.ci_high,
        })
    } else {
        None
    };
    let rate = match data.exposure {
        Some(exposure) => {
            let (rr, _) = rate_ratio_weighted(&y, &pick(exposure), &g, w.as_deref())?;
            Some(RateSummary { rate_ratio: rr.estimate, rate_ratio_ci_low: rr.ci_low, rate_ratio_ci_high: rr.ci_high })
        }
        None => None,
    };
    let ordinal = match options.scale {
        OutcomeScale::Ordinal => {
            let o = cliffs_delta(&treated_y, &control_y)?;
            Some(OrdinalSummary {
                cliffs_delta: o.cliffs_delta.estimate,
                cliffs_delta_ci_low: o.cliffs_delta.ci_low,
                cliffs_delta_ci_high: o.cliffs_delta.ci_high,
                mann_whitney_p_value: o.p_value,
            })
        }
        OutcomeScale::Interval => None,
    };
    Ok(EffectSummary {
        n_treated: treated_y.len(),
        n_control: control_y.len(),
        mean_treated: mean(&treated_y, &w_treated),
        mean_control: mean(&control_y, &w_control),
        difference: inference.estimate,
        se: inference.se,
        se_method,
        df: inference.df,
        ci_low: inference.ci_low,
        ci_high: inference.ci_high,
        p_value: inference.p_value,
        hedges_g: standardised.as_ref().map(|s| s.hedges_g),
        hedges_g_ci_low: interval(|s| s.hedges_g_ci.0),
        hedges_g_ci_high: interval(|s| s.hedges_g_ci.1),
        cohens_d: standardised.as_ref().map(|s| s.cohens_d),
        clustered,
        risks,
        rate,
        ordinal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_too_small_or_in_one_cluster_are_named_errors() {
        let y = [1.0, 2.0, 3.0, 4.0];
        let treated = [true, false, false, false];
        assert_eq!(
            summarise(&EffectData::new(&y, &treated), &EffectOptions::default()),
            Err(StatsError::TooFewPerGroup { min: 2, treated: 1, control: 3 })
        );
        let treated = [true, true, false, false];
        let clusters = [0, 0, 1, 2];
        let data = EffectData { clusters: Some(&clusters), ..EffectData::new(&y, &treated) };
        assert_eq!(
            summarise(&data, &EffectOptions::default()),
            Err(StatsError::TooFewClustersPerGroup { min: 2, treated: 1, control: 2 })
        );
    }

    #[test]
    fn fields_serialise_in_a_fixed_order_with_the_groups_that_apply() {
        let y = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        let treated = [true, true, true, false, false, false];
        let s = summarise(&EffectData::new(&y, &treated), &EffectOptions::default()).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let keys: Vec<&str> =
            ["\"n_treated\"", "\"difference\"", "\"cohens_d\"", "\"risk_difference\"", "\"odds_ratio_ci_high\""]
                .into_iter()
                .collect();
        let positions: Vec<usize> = keys.iter().map(|k| json.find(k).expect(k)).collect();
        assert!(positions.windows(2).all(|p| p[0] < p[1]), "{json}");
        assert!(!json.contains("rate_ratio") && !json.contains("se_cr1") && !json.contains("cliffs"));
        assert!(json.contains("\"se_method\":\"welch\""));
    }
}
