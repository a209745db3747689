//! The specification curve (Simonsohn, Simmons and Nelson 2020): the evaluation's primary
//! estimates rerun over a grid of reasonable analysis choices (caliper, ratio, replacement,
//! distance, control arm, follow-up length, minimum time in care), specifications in parallel.
//! Each specification is a full run of the cohort, the matching and the primary estimates
//! (CR2 on site; the wild bootstrap is left out), so the curve shows how much the answer
//! depends on choices an evaluator could defensibly have made.

use crate::config::{CaliperSetting, Config};
use crate::Evaluation;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use swp_data::Dataset;
use swp_stats::matching::{Distance, MatchData, ValidMatchParams};

/// One specification's primary estimate of one outcome (`specification_curve.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpecRow {
    /// Specification number (grid order).
    pub spec: usize,
    /// Caliper (None: no caliper).
    pub caliper: Option<f64>,
    /// Controls per treated child.
    pub ratio: usize,
    /// With replacement.
    pub replace: bool,
    /// Distance.
    pub distance: String,
    /// Control arm.
    pub controls: String,
    /// Follow-up months.
    pub follow_up_months: u32,
    /// Minimum months in care.
    pub min_months_in_care: u32,
    /// Outcome.
    pub outcome: String,
    /// Primary estimate type.
    pub estimate_type: String,
    /// Estimate.
    pub estimate: Option<f64>,
    /// Lower 95% limit.
    pub ci_low: Option<f64>,
    /// Upper 95% limit.
    pub ci_high: Option<f64>,
    /// CR2 p-value.
    pub p_value: Option<f64>,
    /// Why the specification gave no estimate.
    pub error: Option<String>,
}

/// The share of specifications with a significant effect in each direction, per outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpecSummary {
    /// Outcome.
    pub outcome: String,
    /// Primary estimate type.
    pub estimate_type: String,
    /// Specifications run.
    pub specifications: usize,
    /// Specifications that gave an estimate.
    pub estimated: usize,
    /// Median estimate.
    pub median_estimate: Option<f64>,
    /// Share (of those estimated) significant at 5% with fewer events among pilot children.
    pub share_significant_lower: Option<f64>,
    /// Share significant at 5% with more events among pilot children.
    pub share_significant_higher: Option<f64>,
}

/// The specification curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpecificationCurve {
    /// One row per specification and primary outcome.
    pub rows: Vec<SpecRow>,
    /// Per outcome.
    pub summary: Vec<SpecSummary>,
}

pub use crate::config::specification_grid as grid;

/// The primary rows of the curve.
const PRIMARY: [(&str, &str); 5] = [
    ("sw_changes", "rate_ratio"),
    ("placement_moves", "rate_ratio"),
    ("three_plus_placements", "risk_difference"),
    ("time_to_sw_change", "hazard_ratio"),
    ("time_to_placement_move", "hazard_ratio"),
];

/// One specification's rows from its primary effects (or why it has none).
fn spec_rows(spec: usize, config: &Config, effects: crate::Result<Vec<crate::estimates::EffectRow>>) -> Vec<SpecRow> {
    let m = &config.matching;
    let caliper = match m.caliper {
        CaliperSetting::Sd(x) => Some(x),
        CaliperSetting::Word(_) => None,
    };
    let row = |outcome: &str, estimate_type: &str| SpecRow {
        spec,
        caliper,
        ratio: m.ratio,
        replace: m.replace,
        distance: format!("{:?}", m.distance).to_lowercase(),
        controls: config.cohort.controls.name().to_string(),
        follow_up_months: config.cohort.follow_up_months,
        min_months_in_care: config.cohort.min_months_in_care,
        outcome: outcome.to_string(),
        estimate_type: estimate_type.to_string(),
        estimate: None,
        ci_low: None,
        ci_high: None,
        p_value: None,
        error: None,
    };
    match effects {
        Ok(effects) => PRIMARY
            .iter()
            .map(|(o, t)| {
                let mut r = row(o, t);
                if let Some(e) = effects.iter().find(|e| e.outcome == *o && e.estimate_type == *t) {
                    (r.estimate, r.ci_low, r.ci_high, r.p_value) = (e.estimate, e.ci_low, e.ci_high, e.p_value);
                }
                if r.estimate.is_none() {
                    r.error = Some("not estimable".into());
                }
                r
            })
            .collect(),
        Err(err) => PRIMARY.iter().map(|(o, t)| SpecRow { error: Some(err.to_string()), ..row(o, t) }).collect(),
    }
}

/// Runs every specification of `base`'s grid on `dataset` (in parallel; the result does not
/// depend on the number of threads).
pub fn specification_curve(base: &Config, dataset: &Dataset) -> SpecificationCurve {
    specification_curve_with(base, dataset, &|_, _| {})
}

/// [`specification_curve`], calling `tick(done, total)` as specifications finish.
pub fn specification_curve_with(
    base: &Config,
    dataset: &Dataset,
    tick: &(dyn Fn(u64, u64) + Sync),
) -> SpecificationCurve {
    let configs = grid(base);
    let done = AtomicU64::new(0);
    let total = configs.len() as u64;
    // the dataset indexed once for every specification
    let index = swp_metrics::ValidMetricsParams::defaults(swp_metrics::GroupBy::Site).index(dataset);
    // specifications with the same cohort settings share the cohort, its covariates and the
    // propensity models (a caliper, ratio or replacement does not change them)
    let mut groups: Vec<(Vec<usize>, &Config)> = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        let key = |c: &Config| (c.cohort.controls, c.cohort.follow_up_months, c.cohort.min_months_in_care);
        match groups.iter_mut().find(|(_, first)| key(first) == key(c)) {
            Some((members, _)) => members.push(i),
            None => groups.push((vec![i], c)),
        }
    }
    let mut per_spec: Vec<(usize, Vec<SpecRow>)> = groups
        .par_iter()
        .flat_map(|(members, first)| {
            let shared = Evaluation::new((*first).clone()).and_then(|e| {
                let stage = e.cohort_stage(dataset, &index, &mut |_| {})?;
                let covariates = e.covariates(&stage.cohort)?;
                Ok((stage, covariates))
            });
            let logit = OnceLock::new();
            let probit = OnceLock::new();
            let propensity = |p: &ValidMatchParams, d: &MatchData<'_>| {
                let cell = match p.distance() {
                    Distance::Glm | Distance::LinearLogit => &logit,
                    Distance::Probit => &probit,
                    Distance::Mahalanobis => return p.propensity(d),
                };
                cell.get_or_init(|| p.propensity(d)).clone()
            };
            members
                .par_iter()
                .map(|&spec| {
                    let config = &configs[spec];
                    let effects = match &shared {
                        Ok((stage, covariates)) => Evaluation::new(config.clone())
                            .and_then(|e| e.primary_effects_on(stage, covariates, &propensity)),
                        Err(e) => Err(e.clone()),
                    };
                    tick(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    (spec, spec_rows(spec, config, effects))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    per_spec.sort_by_key(|(spec, _)| *spec);
    let per_spec: Vec<Vec<SpecRow>> = per_spec.into_iter().map(|(_, rows)| rows).collect();
    let rows: Vec<SpecRow> = per_spec.into_iter().flatten().collect();
    let mut summary = Vec::new();
    for (outcome, estimate_type) in PRIMARY {
        let these: Vec<&SpecRow> = rows.iter().filter(|r| r.outcome == outcome).collect();
        let estimated: Vec<&SpecRow> = these.iter().copied().filter(|r| r.estimate.is_some()).collect();
        let null = if estimate_type == "risk_difference" { 0.0 } else { 1.0 };
        let share = |lower: bool| -> Option<f64> {
            (!estimated.is_empty()).then(|| {
                estimated
                    .iter()
                    .filter(|r| r.p_value.is_some_and(|p| p < 0.05) && (r.estimate.unwrap_or(null) < null) == lower)
                    .count() as f64
                    / estimated.len() as f64
            })
        };
        let mut values: Vec<f64> = estimated.iter().filter_map(|r| r.estimate).collect();
        values.sort_by(f64::total_cmp);
        summary.push(SpecSummary {
            outcome: outcome.to_string(),
            estimate_type: estimate_type.to_string(),
            specifications: these.len(),
            estimated: estimated.len(),
            median_estimate: (!values.is_empty()).then(|| values[values.len() / 2]),
            share_significant_lower: share(true),
            share_significant_higher: share(false),
        });
    }
    SpecificationCurve { rows, summary }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Controls, DistanceName};
    use std::path::Path;

    /// A two-specification grid on the bundled data: the specification with the config's own
    /// choices gives exactly the evaluation's primary estimates; the other differs.
    #[test]
    fn the_specification_with_the_configs_choices_equals_the_evaluation() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let loaded = swp_data::load(&root.join("data/sample")).unwrap();
        let mut config = Config::default();
        let g = &mut config.specification_curve;
        g.enabled = true;
        g.caliper = vec![CaliperSetting::Sd(0.2)];
        g.ratio = vec![1, 2];
        g.replace = vec![false];
        g.distance = vec![DistanceName::LinearLogit];
        g.controls = vec![Controls::Comparison];
        g.follow_up_months = vec![24];
        g.min_months_in_care = vec![6];
        assert_eq!(grid(&config).len(), 2);
        let curve = specification_curve(&config, &loaded.dataset);
        assert_eq!(curve.rows.len(), 10);
        let main = Evaluation::new(Config::default()).unwrap().run(&loaded.dataset).unwrap();
        for r in curve.rows.iter().filter(|r| r.spec == 0) {
            let e = main.effects.iter().find(|e| e.primary && e.outcome == r.outcome).unwrap();
            assert_eq!(
                (r.estimate, r.ci_low, r.ci_high, r.p_value),
                (e.estimate, e.ci_low, e.ci_high, e.p_value),
                "{}",
                r.outcome
            );
        }
        let first = curve.rows.iter().find(|r| r.spec == 0 && r.outcome == "sw_changes").unwrap();
        let second = curve.rows.iter().find(|r| r.spec == 1 && r.outcome == "sw_changes").unwrap();
        assert_eq!(second.ratio, 2);
        assert_ne!(first.estimate, second.estimate);
        let s = &curve.summary[0];
        assert_eq!((s.specifications, s.estimated), (2, 2));
        assert!(s.share_significant_lower.unwrap() + s.share_significant_higher.unwrap() <= 1.0);
        // a caliper with the Mahalanobis distance is not a specification
        config.specification_curve.distance = vec![DistanceName::Mahalanobis];
        assert!(grid(&config).is_empty());
    }

    /// A grid with no specification, or an empty list of choices, is a config error naming the
    /// key (it used to reach the figure and panic there).
    #[test]
    fn an_empty_grid_is_a_config_error() {
        for (toml, key) in [
            (
                "[specification_curve]\nenabled = true\ndistance = [\"mahalanobis\"]\ncaliper = [0.2]\n",
                "specification_curve.distance",
            ),
            ("[specification_curve]\nenabled = true\nratio = []\n", "specification_curve.ratio"),
            ("[specification_curve]\nenabled = true\nratio = [0]\n", "specification_curve.ratio"),
        ] {
            let e = Config::from_toml(toml).unwrap().check().unwrap_err().to_string();
            assert!(e.contains(key), "{toml}: {e}");
        }
        // off, the grid is not checked
        assert!(Config::from_toml("[specification_curve]\nratio = []\n").unwrap().check().is_ok());
    }
}
