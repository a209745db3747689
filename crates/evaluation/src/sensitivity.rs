//! "How robust is this?": E-values of every primary ratio estimate, Rosenbaum bounds on the
//! matched pairs, and the same bound at the level of the sites on the randomisation test
//! (docs/evaluation.md's primary outcomes; swp-stats' `sensitivity` module).

use crate::pipeline::cohort::Cohort;
use crate::results::{EffectRow, SensitivityRow};
use crate::vocab::{EstimateType, Outcome};
use swp_stats::matching::Matching;
use swp_stats::sensitivity::{
    e_value, rosenbaum_mcnemar, rosenbaum_signed_rank, sensitivity_gamma, AssignmentSensitivity, RatioScale,
};

/// The difference of two children's rates (events per child-year), computed so that equal
/// differences are equal numbers: exposure is a whole number of days over 365.25, so the
/// difference is 365.25 (y_t d_c - y_c d_t) / (d_t d_c), integers until one correctly rounded
/// division. Subtracting two rounded rates instead makes equal differences differ in the last
/// bit, and the signed-rank test then ranks ties as distinct.
fn rate_difference(y: &[f64], exposure_years: &[f64], t: usize, c: usize) -> f64 {
    let days = |i: usize| (exposure_years[i] * 365.25).round();
    let (dt, dc) = (days(t), days(c));
    if !(dt > 0.0 && dc > 0.0 && y[t].fract() == 0.0 && y[c].fract() == 0.0) {
        return y[t] / exposure_years[t] - y[c] / exposure_years[c];
    }
    (y[t] * dc - y[c] * dt) * 365.25 / (dt * dc)
}

/// Sensitivity rows of the primary outcomes.
pub fn sensitivity(
    cohort: &Cohort,
    matching: &Matching,
    effects: &[EffectRow],
    pairs_design: bool,
    site_bounds: &[(usize, Option<AssignmentSensitivity>)],
) -> Vec<SensitivityRow> {
    let find = |o: Outcome, t: EstimateType| effects.iter().find(|e| e.outcome == o && e.estimate_type == t);
    // 1:1 pairs (treated, control) of the matching, cohort indices
    let pairs: Vec<(usize, usize)> = match (&matching.match_matrix, pairs_design) {
        (Some(m), true) => {
            matching.treated.iter().zip(m).filter_map(|(&t, controls)| controls.first().map(|&c| (t, c))).collect()
        }
        _ => Vec::new(),
    };
    let share_with_event = |event: &[bool]| -> f64 {
        let matched: Vec<usize> = (0..cohort.len()).filter(|&i| matching.weights[i] > 0.0).collect();
        matched.iter().filter(|&&i| event[i]).count() as f64 / matched.len().max(1) as f64
    };
    let mut out = Vec::new();
    for (outcome, ratio_type) in [
        (Outcome::SwChanges, EstimateType::RateRatio),
        (Outcome::PlacementMoves, EstimateType::RateRatio),
        (Outcome::ThreePlusPlacements, EstimateType::RiskRatio),
        (Outcome::TimeToSwChange, EstimateType::HazardRatio),
        (Outcome::TimeToPlacementMove, EstimateType::HazardRatio),
    ] {
        let Some(row) = find(outcome, ratio_type) else { continue };
        let rare = match outcome {
            Outcome::TimeToSwChange => Some(share_with_event(&cohort.sw_change_event) < 0.15),
            Outcome::TimeToPlacementMove => Some(share_with_event(&cohort.placement_move_event) < 0.15),
            _ => None,
        };
        let scale = match rare {
            Some(r) => RatioScale::HazardRatio { common: !r },
            None => RatioScale::RiskRatio,
        };
        let e = match (row.estimate, row.ci_low, row.ci_high) {
            (Some(est), Some(lo), Some(hi)) => e_value(est, lo, hi, scale).ok(),
            _ => None,
        };
        // the report's own test of the outcome: its primary row's adjusted p-value
        let primary = effects.iter().position(|e| e.outcome == outcome && e.primary);
        let reported_p_value = primary.and_then(|i| effects[i].p_holm.or(effects[i].ri_p_value).or(effects[i].p_value));
        // the site-level bound against the row's own level under Holm: 0.05 over its multiplier
        // (its Holm p over its randomisation p), so that the Gamma is where the report's claim
        // would go, not where an unadjusted test would
        let site = primary.and_then(|i| {
            let (_, bound) = site_bounds.iter().find(|(row, _)| *row == i)?;
            let bound = bound.as_ref()?;
            let (raw, adjusted) = (effects[i].ri_p_value?, effects[i].p_holm.unwrap_or(effects[i].ri_p_value?));
            let level = if adjusted > 0.0 { 0.05 * raw / adjusted } else { 0.05 };
            sensitivity_gamma(|g| Ok(bound.p_upper(g)), level, 100.0).ok().flatten()
        });
        let rejects = reported_p_value.is_some_and(|p| p < 0.05);
        let direction = if row.estimate.is_some_and(|x| x < 1.0) { -1.0 } else { 1.0 };
        let (test, p1, gamma) = if pairs.is_empty() {
            (None, None, None)
        } else {
            match outcome {
                Outcome::SwChanges | Outcome::PlacementMoves => {
                    let y = if outcome == Outcome::SwChanges { &cohort.sw_changes } else { &cohort.placement_moves };
                    let d: Vec<f64> =
                        pairs.iter().map(|&(t, c)| rate_difference(y, &cohort.exposure_years, t, c)).collect();
                    let p1 = rosenbaum_signed_rank(&d, direction, 1.0).ok();
                    let g = sensitivity_gamma(|g| rosenbaum_signed_rank(&d, direction, g), 0.05, 100.0).ok().flatten();
                    (Some("wilcoxon_signed_rank"), p1, g)
                }
                Outcome::ThreePlusPlacements => {
                    let y = &cohort.three_plus_placements;
                    let treated_only = pairs.iter().filter(|&&(t, c)| y[t] == 1.0 && y[c] == 0.0).count() as u64;
                    let control_only = pairs.iter().filter(|&&(t, c)| y[t] == 0.0 && y[c] == 1.0).count() as u64;
                    let k = if direction < 0.0 { control_only } else { treated_only };
                    let n = treated_only + control_only;
                    let p1 = rosenbaum_mcnemar(n, k, 1.0).ok();
                    let g = sensitivity_gamma(|g| rosenbaum_mcnemar(n, k, g), 0.05, 100.0).ok().flatten();
                    (Some("mcnemar"), p1, g)
                }
                _ => (None, None, None),
            }
        };
        out.push(SensitivityRow {
            outcome,
            ratio_type,
            ratio: row.estimate,
            e_value: e.map(|e| e.point),
            e_value_ci: e.map(|e| e.limit),
            rare_outcome: rare,
            rosenbaum_test: test,
            pairs: test.map(|_| pairs.len() as u64),
            p_gamma_1: p1,
            reported_p_value,
            gamma: gamma.filter(|_| rejects),
            site_gamma: site.filter(|_| rejects),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs whose rate differences are equal are equal numbers (ties for the signed-rank test):
    /// none in 100 days against 1 in 100, and 1 in 300 against 2 in 150, both differ by -0.01
    /// events per day (subtracting the two rounded rates gives -3.6525000000000003 and -3.6525).
    #[test]
    fn equal_rate_differences_are_equal_numbers() {
        let y = [0.0, 1.0, 1.0, 2.0];
        let exposure: Vec<f64> = [100.0, 100.0, 300.0, 150.0].iter().map(|d| d / 365.25).collect();
        let naive = |t: usize, c: usize| y[t] / exposure[t] - y[c] / exposure[c];
        assert_ne!(naive(0, 1), naive(2, 3), "the case shows the rounding");
        let a = rate_difference(&y, &exposure, 0, 1);
        let b = rate_difference(&y, &exposure, 2, 3);
        assert_eq!(a, b);
        assert_eq!(a, -3.6525);
    }
}
