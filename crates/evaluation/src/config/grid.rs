//! The specification curve's grid: every combination of the `[specification_curve]` choices
//! MatchIt allows, each as a whole config (the other settings as written).

use super::{CaliperSetting, Config, NoCaliper};
use swp_stats::matching::Distance;

/// The specification curve's grid of configs (every combination MatchIt allows), in a fixed
/// order.
pub fn specification_grid(base: &Config) -> Vec<Config> {
    let g = &base.specification_curve;
    let mut out = Vec::new();
    for index in &g.index {
        for &controls in &g.controls {
            for &follow in &g.follow_up_months {
                for &months in &g.min_months_in_care {
                    for &distance in &g.distance {
                        for &caliper in &g.caliper {
                            let none = matches!(caliper, CaliperSetting::Word(NoCaliper::None));
                            if distance == Distance::Mahalanobis && !none {
                                continue;
                            }
                            for &ratio in &g.ratio {
                                for (&replace, estimation) in
                                    g.replace.iter().flat_map(|r| g.estimation.iter().map(move |e| (r, e)))
                                {
                                    let weighting = matches!(estimation.as_str(), "ps_weighting" | "entropy");
                                    // weighting ignores the matching choices: one specification
                                    // per cohort choice, at the matching choices' first values
                                    let first = distance == g.distance[0]
                                        && caliper == g.caliper[0]
                                        && ratio == g.ratio[0]
                                        && replace == g.replace[0];
                                    if weighting && !first {
                                        continue;
                                    }
                                    let mut c = base.clone();
                                    if weighting {
                                        c.estimation.method = "weighting".into();
                                        c.estimation.weighting =
                                            if estimation == "entropy" { "entropy" } else { "ps" }.into();
                                    } else {
                                        c.estimation.method = "matching".into();
                                        c.estimation.adjust = estimation == "matching_adjusted";
                                    }
                                    c.cohort.index = Some(index.clone());
                                    c.cohort.index_date = None;
                                    c.cohort.controls = controls;
                                    c.cohort.follow_up_months = follow;
                                    c.cohort.min_months_in_care = months;
                                    c.matching.distance = distance;
                                    c.matching.caliper = caliper;
                                    c.matching.ratio = ratio;
                                    c.matching.replace = replace;
                                    c.inference.bootstrap_reps = 99;
                                    c.specification_curve.enabled = false;
                                    out.push(c);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    out
}
