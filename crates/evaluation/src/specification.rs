//! The specification curve (Simonsohn, Simmons and Nelson 2020): the evaluation's primary
//! estimates rerun over a grid of reasonable analysis choices (caliper, ratio, replacement,
//! distance, control arm, follow-up length, minimum time in care, index rule, estimation after
//! matching), specifications in parallel.
//! Each specification is a full run of the cohort, the matching and the primary estimates
//! (CR2 on site; the wild bootstrap is left out), so the curve shows how much the answer
//! depends on choices an evaluator could defensibly have made.

use crate::config::{CaliperSetting, Config};
use crate::error::Result;
use crate::pipeline::{matching, Evaluation, Progress, Silent, Stage};
use crate::results::{EffectRow, SpecRow, SpecSummary, SpecificationCurve};
use crate::vocab::Outcome;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use swp_data::Dataset;
use swp_stats::matching::{Distance, MatchData, ValidMatchParams};

/// One specification's rows from its primary effects (or why it has none).
fn spec_rows(spec: usize, config: &Config, effects: Result<Vec<EffectRow>>) -> Vec<SpecRow> {
    let m = &config.matching;
    let caliper = match m.caliper {
        CaliperSetting::Sd(x) => Some(x),
        CaliperSetting::Word(_) => None,
    };
    let index = config.cohort.index.clone().or_else(|| config.cohort.index_date.clone());
    let row = |outcome: Outcome| SpecRow {
        spec,
        index: index.clone().unwrap_or_else(|| "per_pilot".into()),
        caliper,
        ratio: m.ratio,
        replace: m.replace,
        distance: m.distance,
        controls: config.cohort.controls.name().to_string(),
        follow_up_months: config.cohort.follow_up_months,
        min_months_in_care: config.cohort.min_months_in_care,
        estimation: match (config.estimation.method.as_str(), config.estimation.weighting.as_str()) {
            ("weighting", "entropy") => "entropy",
            ("weighting", _) => "ps_weighting",
            _ if config.estimation.adjust => "matching_adjusted",
            _ => "matching",
        }
        .to_string(),
        outcome,
        estimate_type: outcome.primary(),
        estimate: None,
        ci_low: None,
        ci_high: None,
        p_value: None,
        error: None,
    };
    match effects {
        Ok(effects) => Outcome::CHILD
            .iter()
            .map(|&o| {
                let mut r = row(o);
                if let Some(e) = effects.iter().find(|e| e.outcome == o && e.estimate_type == o.primary()) {
                    (r.estimate, r.ci_low, r.ci_high, r.p_value) = (e.estimate, e.ci_low, e.ci_high, e.p_value);
                }
                if r.estimate.is_none() {
                    r.error = Some("not estimable".into());
                }
                r
            })
            .collect(),
        Err(err) => Outcome::CHILD.iter().map(|&o| SpecRow { error: Some(err.to_string()), ..row(o) }).collect(),
    }
}

/// Runs every specification of `grid` (see [`crate::config::ValidConfig::specification_grid`])
/// on `dataset`, in parallel; the result does not depend on the number of threads.
pub fn specification_curve(grid: &[Config], dataset: &Dataset) -> SpecificationCurve {
    specification_curve_with(grid, dataset, &Silent)
}

/// [`specification_curve`], telling `progress` as specifications finish.
pub fn specification_curve_with(grid: &[Config], dataset: &Dataset, progress: &dyn Progress) -> SpecificationCurve {
    let configs = grid;
    let done = AtomicU64::new(0);
    let total = configs.len() as u64;
    // the dataset indexed once for every specification
    let index = Evaluation::index(dataset);
    // specifications with the same cohort settings share the cohort, its covariates and the
    // propensity models (a caliper, ratio or replacement does not change them)
    let mut groups: Vec<(Vec<usize>, &Config)> = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        let key = |c: &Config| {
            (c.cohort.index.clone(), c.cohort.controls, c.cohort.follow_up_months, c.cohort.min_months_in_care)
        };
        match groups.iter_mut().find(|(_, first)| key(first) == key(c)) {
            Some((members, _)) => members.push(i),
            None => groups.push((vec![i], c)),
        }
    }
    let mut per_spec: Vec<(usize, Vec<SpecRow>)> = groups
        .par_iter()
        .flat_map(|(members, first)| {
            let shared = Evaluation::new((*first).clone()).and_then(|e| {
                let stage = e.cohort_stage(dataset, &index, &Silent)?;
                let covariates = matching::covariates(e.config(), &stage.cohort)?;
                Ok((stage, covariates))
            });
            // one logit and one probit model per stack
            let stacks = shared.as_ref().map_or(1, |(stage, _)| stage.stacks.len());
            let logit: Vec<OnceLock<_>> = (0..stacks).map(|_| OnceLock::new()).collect();
            let probit: Vec<OnceLock<_>> = (0..stacks).map(|_| OnceLock::new()).collect();
            let propensity = |k: usize, p: &ValidMatchParams, d: &MatchData<'_>| {
                let cell = match p.distance() {
                    Distance::Glm | Distance::LinearLogit => &logit[k],
                    Distance::Probit => &probit[k],
                    Distance::Mahalanobis => return p.propensity_as_r(d),
                };
                cell.get_or_init(|| p.propensity_as_r(d)).clone()
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
                    progress.tick(Stage::SpecificationCurve, done.fetch_add(1, Ordering::Relaxed) + 1, total);
                    (spec, spec_rows(spec, config, effects))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    per_spec.sort_by_key(|(spec, _)| *spec);
    let per_spec: Vec<Vec<SpecRow>> = per_spec.into_iter().map(|(_, rows)| rows).collect();
    let rows: Vec<SpecRow> = per_spec.into_iter().flatten().collect();
    let mut summary = Vec::new();
    for outcome in Outcome::CHILD {
        let estimate_type = outcome.primary();
        let these: Vec<&SpecRow> = rows.iter().filter(|r| r.outcome == outcome).collect();
        let estimated: Vec<&SpecRow> = these.iter().copied().filter(|r| r.estimate.is_some()).collect();
        let null = estimate_type.null();
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
            outcome,
            estimate_type,
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
    use crate::config::grid::specification_grid as grid;
    use crate::config::Controls;
    use std::path::Path;
    use swp_stats::matching::Distance;

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
        g.distance = vec![Distance::LinearLogit];
        g.controls = vec![Controls::Comparison];
        g.follow_up_months = vec![24];
        g.min_months_in_care = vec![6];
        g.index = vec!["per_pilot".into()];
        g.estimation = vec!["matching_adjusted".into()];
        assert_eq!(grid(&config).len(), 2);
        let curve = specification_curve(&grid(&config), &loaded.dataset);
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
        let first = curve.rows.iter().find(|r| r.spec == 0 && r.outcome == Outcome::SwChanges).unwrap();
        let second = curve.rows.iter().find(|r| r.spec == 1 && r.outcome == Outcome::SwChanges).unwrap();
        assert_eq!(second.ratio, 2);
        assert_ne!(first.estimate, second.estimate);
        let s = &curve.summary[0];
        assert_eq!((s.specifications, s.estimated), (2, 2));
        assert!(s.share_significant_lower.unwrap() + s.share_significant_higher.unwrap() <= 1.0);
        // a caliper with the Mahalanobis distance is not a specification
        config.specification_curve.distance = vec![Distance::Mahalanobis];
        assert!(grid(&config).is_empty());
    }

    /// A grid with no specification, or an empty list of choices, is a config error naming the
    /// key.
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
