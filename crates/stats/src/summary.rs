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

use crate::bootstrap::{BootType, BootWeights, WildParams};
use crate::effects::{
    cliffs_delta, rate_ratio_weighted, risks_weighted, standardised_of_moments, weighted_difference,
    weighted_moments_of, welch,
};
use crate::regression::Inference;
use crate::two_group::TwoGroup;
use crate::{Result, StatsError};
use serde::Serialize;
use std::borrow::Cow;

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
    /// None: one treated cluster, where no cluster-robust error is valid (MacKinnon and Webb
    /// 2017; Conley and Taber 2011); randomisation inference over the clusters only.
    None,
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
    /// Wild cluster bootstrap p-value, null imposed (NaN, written null, with one treated
    /// cluster).
    pub wild_p_value: f64,
    /// The 95% wild cluster bootstrap interval by inverting the null-imposed test.
    pub wild_ci_low: f64,
    /// Its upper limit.
    pub wild_ci_high: f64,
    /// Replicates used.
    pub wild_reps: usize,
    /// Whether every distinct draw was used instead of random ones.
    pub wild_enumerated: bool,
    /// Randomisation inference over the clusters when the treatment is constant within each
    /// cluster (the treated label given to every set of as many clusters; on t, or on the
    /// difference with one treated cluster): the p-value (NaN when the treatment varies within
    /// a cluster).
    pub ri_p_value: f64,
    /// Assignments it rests on (0 when not run).
    pub ri_assignments: usize,
    /// The smallest p-value it can give (1 / assignments).
    pub ri_min_p: f64,
    /// Why some statistics are missing, when they are.
    pub note: Option<String>,
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

/// Every statistic of one outcome between two groups (docs/cli.md, `effect` output). Non-finite
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

/// Randomisation inference over clusters when the treatment is constant within each cluster:
/// the treated label given to every set of as many clusters (drawn beyond `options.reps`
/// sets), the statistic the CR2 t with two or more treated clusters, the difference of
/// weighted means with one. None when the treatment varies within a cluster.
fn cluster_randomisation(
    y: &[f64],
    weights: Option<&[f64]>,
    index: &[usize],
    fit: &TwoGroup,
    options: &EffectOptions,
) -> Option<(f64, usize)> {
    let arm = fit.cluster_arms();
    let g = arm.len();
    if arm.contains(&None) {
        return None;
    }
    let observed: Vec<usize> = (0..g).filter(|&c| arm[c] == Some(true)).collect();
    if observed.is_empty() || observed.len() >= g {
        return None;
    }
    let studentise = observed.len() > 1;
    // the rows are read once: each assignment's fit comes from the clusters' sums
    let rows = crate::two_group::cluster_rows(y, weights, index, g);
    let statistic = |set: &[usize]| -> Option<f64> {
        let mut is_treated = vec![false; g];
        set.iter().for_each(|&c| is_treated[c] = true);
        let stat = if studentise && weights.is_none() {
            crate::two_group::assigned_t_unweighted(&rows, &is_treated)?
        } else {
            let fit = TwoGroup::of_clusters(&rows, &is_treated).ok()?;
            if studentise {
                fit.cr2_t().ok()?
            } else {
                fit.difference()
            }
        };
        stat.is_finite().then_some(stat)
    };
    let result = crate::randomisation::randomisation_test(g, &observed, options.reps, options.seed, statistic).ok()?;
    Some((result.p_value, result.assignments))
}

/// Each group's outcomes and weights (none when unweighted), split in one pass (the groups'
/// rows interleave, so a pass that tests each row's group per statistic costs a mispredicted
/// branch a row); control first.
fn split_by_group(g: &[bool], y: &[f64], w: Option<&[f64]>) -> [(Vec<f64>, Vec<f64>); 2] {
    let mut parts = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    let treated_rows = g.iter().filter(|&&t| t).count();
    parts[1].0.reserve(treated_rows);
    parts[0].0.reserve(g.len() - treated_rows);
    for (i, (&gi, &yi)) in g.iter().zip(y).enumerate() {
        let part = &mut parts[usize::from(gi)];
        part.0.push(yi);
        if let Some(w) = w {
            part.1.push(w[i]);
        }
    }
    parts
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
    // rows of weight 0 are left out (copies only when there are some)
    let keep: Option<Vec<usize>> =
        data.weights.filter(|w| w.contains(&0.0)).map(|w| (0..n).filter(|&i| w[i] > 0.0).collect());
    fn pick<'a, T: Copy>(v: &'a [T], keep: &Option<Vec<usize>>) -> Cow<'a, [T]> {
        match keep {
            Some(rows) => Cow::Owned(rows.iter().map(|&i| v[i]).collect()),
            None => Cow::Borrowed(v),
        }
    }
    let g = pick(data.treated, &keep);
    let y = pick(data.y, &keep);
    let w = data.weights.map(|w| pick(w, &keep));
    // with clusters, the regression on the clusters' block sums is fitted while the groups are
    // split
    let ids = data.clusters.map(|c| pick(c, &keep));
    let (parts, numbered_fit) = rayon::join(
        || split_by_group(&g, &y, w.as_deref()),
        || {
            ids.as_ref().map(|ids| {
                // labels numbered 0..G already (the CLI's) are their own numbering
                let (index, count) = match crate::labels::dense(ids) {
                    Some(count) => (Cow::Borrowed(&ids[..]), count),
                    None => {
                        let numbered = crate::labels::number(ids);
                        let count = numbered.labels.len();
                        (Cow::Owned(numbered.index), count)
                    }
                };
                let fit = TwoGroup::fit_numbered(&y, &g, w.as_deref(), &index, count);
                (index, fit)
            })
        },
    );
    let (n_treated, n_control) = (parts[1].0.len(), parts[0].0.len());
    if n_treated < 2 || n_control < 2 {
        return Err(StatsError::TooFewPerGroup { min: 2, treated: n_treated, control: n_control });
    }
    let of_part = |(y, w): &(Vec<f64>, Vec<f64>)| {
        let weights = if w.is_empty() { None } else { Some(w) };
        weighted_moments_of(y.iter().enumerate().map(move |(i, &v)| (v, weights.map_or(1.0, |w| w[i]))))
    };
    let (treated_moments, control_moments) = rayon::join(|| of_part(&parts[1]), || of_part(&parts[0]));
    let moments = [(n_treated, treated_moments), (n_control, control_moments)];
    // the groups' outcomes and weights (1 each when unweighted), for the statistics that take
    // them apart
    let split = |want: bool| -> (Vec<f64>, Vec<f64>) {
        let (y, w) = &parts[usize::from(want)];
        (y.clone(), if w.is_empty() { vec![1.0; y.len()] } else { w.clone() })
    };
    let (inference, se_method, clustered) = match (numbered_fit, &w) {
        (None, None) => (welch(&parts[1].0, &parts[0].0)?, SeMethod::Welch, None),
        (None, Some(w)) => (weighted_difference(&y, &g, w)?, SeMethod::Hc2, None),
        (Some((index, fit)), _) => {
            let too_few = |treated, control| StatsError::TooFewClustersPerGroup { min: 2, treated, control };
            let fit = fit.map_err(|e| match e {
                // a single cluster (both groups have rows, so it holds both)
                StatsError::TooFewClusters { got, .. } => too_few(got, got),
                e => e,
            })?;
            let (in_treated, in_control) = (fit.clusters_with(true), fit.clusters_with(false));
            // the wild bootstrap (below) runs while randomisation inference does
            let both = in_treated >= 2 && in_control >= 2;
            let (ri, wild) = rayon::join(
                || cluster_randomisation(&y, w.as_deref(), &index, &fit, options),
                || -> Result<_> {
                    if !both {
                        return Ok(None);
                    }
                    let params = WildParams {
                        reps: options.reps,
                        weights: options.boot_weights,
                        kind: BootType::Wcr,
                        seed: options.seed,
                    }
                    .check()?;
                    Ok(Some(fit.wild_problem().test_and_interval(0.0, &params)))
                },
            );
            if in_treated == 1 && in_control >= 1 && ri.is_some() {
                // one treated cluster: the difference and randomisation inference only
                let difference = moments[0].1 .0 - moments[1].1 .0;
                let (p, assignments) = ri.unwrap_or((f64::NAN, 0));
                let nan = f64::NAN;
                let inference =
                    Inference { estimate: difference, se: nan, df: nan, p_value: nan, ci_low: nan, ci_high: nan };
                let summary = ClusterSummary {
                    se_cr1: nan,
                    n_clusters: fit.clusters(),
                    n_treated_clusters: 1,
                    wild_p_value: nan,
                    wild_ci_low: nan,
                    wild_ci_high: nan,
                    wild_reps: 0,
                    wild_enumerated: false,
                    ri_p_value: p,
                    ri_assignments: assignments,
                    ri_min_p: 1.0 / assignments as f64,
                    note: Some(
                        "one treated cluster: a cluster-robust standard error, interval or p-value and the wild bootstrap are not valid with one treated cluster (MacKinnon and Webb 2017; Conley and Taber 2011); the p-value is randomisation inference over which cluster is treated, and cannot go below ri_min_p"
                            .into(),
                    ),
                };
                (inference, SeMethod::None, Some(summary))
            } else {
                if in_treated < 2 || in_control < 2 {
                    return Err(too_few(in_treated, in_control));
                }
                let cr2 = fit.cr2_inference()?;
                let cr1 = fit.vcov_cr1();
                let (wild, (wild_ci_low, wild_ci_high)) = wild?.ok_or(StatsError::TooFewClustersPerGroup {
                    min: 2,
                    treated: in_treated,
                    control: in_control,
                })?;
                let (ri_p_value, ri_assignments) = ri.unwrap_or((f64::NAN, 0));
                let summary = ClusterSummary {
                    se_cr1: cr1[3].sqrt(),
                    n_clusters: fit.clusters(),
                    n_treated_clusters: in_treated,
                    wild_p_value: wild.p_value,
                    wild_ci_low,
                    wild_ci_high,
                    wild_reps: wild.reps,
                    wild_enumerated: wild.enumerated,
                    ri_p_value,
                    ri_assignments,
                    ri_min_p: if ri_assignments > 0 { 1.0 / ri_assignments as f64 } else { f64::NAN },
                    note: None,
                };
                (cr2, SeMethod::Cr2, Some(summary))
            }
        }
    };
    // its interval ignores the clusters: not reported with them, so not computed
    let standardised = standardised_of_moments(moments, data.clusters.is_none()).ok();
    let interval = |ci: fn(&crate::effects::Standardised) -> f64| {
        standardised.as_ref().filter(|_| data.clusters.is_none()).map(ci)
    };
    // a 0/1 outcome is read from every row given, weight 0 included
    let risks = if data.y.iter().all(|&v| v == 0.0 || v == 1.0) {
        let ((treated_y, w_treated), (control_y, w_control)) = (split(true), split(false));
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
            let (rr, _) = rate_ratio_weighted(&y, &pick(exposure, &keep), &g, w.as_deref())?;
            Some(RateSummary { rate_ratio: rr.estimate, rate_ratio_ci_low: rr.ci_low, rate_ratio_ci_high: rr.ci_high })
        }
        None => None,
    };
    let ordinal = match options.scale {
        OutcomeScale::Ordinal => {
            let o = cliffs_delta(&parts[1].0, &parts[0].0)?;
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
        n_treated,
        n_control,
        mean_treated: moments[0].1 .0,
        mean_control: moments[1].1 .0,
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
        // one treated cluster: the difference and randomisation over the 3 clusters only
        let treated = [true, true, false, false];
        let clusters = [0, 0, 1, 2];
        let data = EffectData { clusters: Some(&clusters), ..EffectData::new(&y, &treated) };
        let s = summarise(&data, &EffectOptions::default()).unwrap();
        assert_eq!((s.difference, s.se_method), (-2.0, SeMethod::None));
        assert!(s.se.is_nan() && s.p_value.is_nan() && s.ci_low.is_nan());
        let c = s.clustered.unwrap();
        // differences when cluster 0, 1 or 2 is treated: 1.5 - 3.5 = -2, 3 - 7/3 = 0.67 and
        // 4 - 2 = 2: two of three at least as large as the observed |-2|
        assert_eq!((c.ri_assignments, c.ri_p_value, c.ri_min_p), (3, 2.0 / 3.0, 1.0 / 3.0));
        assert!(c.wild_p_value.is_nan() && c.note.is_some());
        // a treated cluster that also holds controls: no randomisation over clusters, an error
        let clusters = [0, 0, 0, 1];
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
