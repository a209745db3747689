//! Randomisation inference on the child-level primary rows (docs/evaluation.md "Inference with
//! few pilot sites"; MacKinnon and Webb 2020): the pilot label reassigned to k of the G sites of
//! the analysis (pilot and control sites), the cohort, the matching and the primary rows
//! recomputed for each assignment, and each row's t compared with its distribution over the
//! assignments. With stacks, the pilots' go-live dates go to the chosen sites in go-live order
//! (the earliest date to the first chosen site in sites.csv order; the observed assignment keeps
//! the real mapping). It tests the sharp null of no effect for any child, and its size holds
//! whatever the number of sites, which cluster-robust tests cannot promise with five pilots.
//!
//! Fast because every site's eligible children, covariates and outcomes on each index date are
//! computed once (one cohort per date over every site of the analysis); an assignment only
//! picks rows, matches and estimates.

use crate::config::ValidConfig;
use crate::error::Result;
use crate::pipeline::cohort::{self, Cohort, Stack, Windows};
use crate::pipeline::{effects, matching, CohortStage, Detail};
use crate::results::EffectRow;
use crate::vocab::Outcome;
use rayon::prelude::*;
use swp_data::Dataset;
use swp_metrics::Index;
use swp_stats::randomisation::randomisation_distribution;
use swp_stats::sensitivity::AssignmentSensitivity;

/// Every site's eligible children on each stack's index date, shared by the assignments (and
/// by [`primary_rows`] and [`by_pilot`] of one run).
pub(crate) struct Shared {
    /// One cohort per stack (all sites of the analysis, `treated` false), in stack order.
    cohorts: Vec<Cohort>,
    /// The sites of the analysis (index site indices) in sites.csv order: the units.
    units: Vec<u32>,
    /// The observed pilots as units.
    observed: Vec<usize>,
    /// With stacks: the observed pilot unit of each stack.
    stack_pilot: Option<Vec<usize>>,
}

impl Shared {
    pub(crate) fn new(config: &ValidConfig, dataset: &Dataset, index: &Index, stage: &CohortStage) -> Shared {
        Self::over(config, dataset, index, stage, true)
    }

    /// [`Shared::new`] over the control sites of the analysis alone (no observed pilot): the
    /// power simulation's units when the data cannot support the placebo in time.
    pub(crate) fn controls(config: &ValidConfig, dataset: &Dataset, index: &Index, stage: &CohortStage) -> Shared {
        Self::over(config, dataset, index, stage, false)
    }

    fn over(config: &ValidConfig, dataset: &Dataset, index: &Index, stage: &CohortStage, pilots: bool) -> Shared {
        let arm_of_site: Vec<Option<bool>> =
            stage.arm_of_site.iter().map(|&a| a.filter(|&pilot| pilots || !pilot)).collect();
        let units: Vec<u32> = stage
            .sites
            .iter()
            .filter_map(|s| index.groups.site_index(&s.id))
            .filter(|&i| arm_of_site.get(i).copied().flatten().is_some())
            .map(|i| i as u32)
            .collect();
        let observed: Vec<usize> = (0..units.len()).filter(|&u| arm_of_site[units[u] as usize] == Some(true)).collect();
        let in_analysis: Vec<Option<bool>> = arm_of_site.iter().map(|a| a.map(|_| false)).collect();
        let codes = cohort::Codes::new(dataset, config);
        let cohorts = stage
            .stacks
            .iter()
            .map(|s: &Stack| {
                let windows = Windows::new(s.windows.index_date, config, s.windows.extract_date);
                cohort::build(index, &codes, &in_analysis, &windows, config, (0, None)).0
            })
            .collect();
        let stack_pilot = stage
            .stacks
            .iter()
            .map(|s| {
                let site = index.groups.site_index(s.pilot.as_deref()?)? as u32;
                units.iter().position(|&u| u == site)
            })
            .collect::<Option<Vec<usize>>>()
            .filter(|_| stage.stacks.len() > 1);
        Shared { cohorts, units, observed, stack_pilot }
    }

    /// The stacked cohort of an assignment (`set`: the chosen units, increasing), or None when
    /// a stack has no child of an arm.
    fn cohort(&self, set: &[usize]) -> Option<Cohort> {
        let chosen: Vec<u32> = set.iter().map(|&u| self.units[u]).collect();
        // which chosen unit is treated in each stack
        let treated_of_stack: Vec<Vec<u32>> = match &self.stack_pilot {
            None => vec![chosen.clone()],
            Some(observed) if set == self.observed.as_slice() => {
                observed.iter().map(|&u| vec![self.units[u]]).collect()
            }
            Some(_) => chosen.iter().map(|&s| vec![s]).collect(),
        };
        let mut out = Cohort::default();
        for (k, (base, treated_sites)) in self.cohorts.iter().zip(&treated_of_stack).enumerate() {
            let rows: Vec<usize> = (0..base.len())
                .filter(|&i| treated_sites.contains(&base.site[i]) || !chosen.contains(&base.site[i]))
                .collect();
            let treated: Vec<bool> = rows.iter().map(|&i| treated_sites.contains(&base.site[i])).collect();
            if !treated.contains(&true) || !treated.contains(&false) {
                return None;
            }
            let site = rows.iter().map(|&i| base.site[i]).collect();
            let mut part = base.resample(&rows, site, treated);
            part.stack = vec![k as u16; rows.len()];
            out.append(part);
        }
        Some(out)
    }
}

/// A simulated assignment's stacked cohort (the power simulation's placebo pilots): the
/// chosen units' rows treated, every other unit's rows control.
pub(crate) struct Simulated {
    pub(crate) cohort: Cohort,
    /// Per row: its unit (index into the units).
    pub(crate) unit: Vec<u32>,
    /// Per row: its stack and its row in that stack's shared cohort (what identifies a child's
    /// row across assignments).
    pub(crate) source: Vec<(u16, u32)>,
}

impl Shared {
    /// The number of units (sites of the analysis).
    pub(crate) fn units(&self) -> usize {
        self.units.len()
    }

    /// The number of stacks (shared cohorts).
    pub(crate) fn stacks(&self) -> usize {
        self.cohorts.len()
    }

    /// A stack's shared cohort.
    pub(crate) fn stack_cohort(&self, k: usize) -> &Cohort {
        &self.cohorts[k]
    }

    /// Whether unit `u` is an observed pilot.
    pub(crate) fn is_observed(&self, u: usize) -> bool {
        self.observed.contains(&u)
    }

    /// The unit of a site (index site index), if it is one.
    pub(crate) fn unit_of(&self, site: u32) -> Option<usize> {
        self.units.iter().position(|&x| x == site)
    }

    /// The stacked cohort with the units of `set` (increasing) as pilots, for any number of
    /// them: with stacks, the j-th chosen unit takes the j-th stack's go-live, cycling through
    /// the stacks when more units are chosen than there are stacks (a stack then has several
    /// pilots; one that no unit takes is left out); with one index date every chosen unit is a
    /// pilot on it. A chosen unit's pilot is its children with `part[stack][row]` (a pilot's
    /// size of them); an unchosen unit is a control whole. None when no stack has children of
    /// both arms.
    pub(crate) fn simulated(&self, set: &[usize], part: &[Vec<bool>]) -> Option<Simulated> {
        let stacks = self.cohorts.len();
        let mut treated_of_stack: Vec<Vec<u32>> = vec![Vec::new(); stacks];
        for (j, &u) in set.iter().enumerate() {
            treated_of_stack[j % stacks].push(self.units[u]);
        }
        let chosen: Vec<u32> = set.iter().map(|&u| self.units[u]).collect();
        let mut out = Simulated { cohort: Cohort::default(), unit: Vec::new(), source: Vec::new() };
        let mut kept = 0u16;
        for (k, (base, treated_sites)) in self.cohorts.iter().zip(&treated_of_stack).enumerate() {
            if treated_sites.is_empty() {
                continue;
            }
            let rows: Vec<usize> = (0..base.len())
                .filter(|&i| (treated_sites.contains(&base.site[i]) && part[k][i]) || !chosen.contains(&base.site[i]))
                .collect();
            let treated: Vec<bool> = rows.iter().map(|&i| treated_sites.contains(&base.site[i])).collect();
            if !treated.contains(&true) || !treated.contains(&false) {
                continue;
            }
            out.unit.extend(rows.iter().map(|&i| self.unit_of(base.site[i]).map_or(u32::MAX, |u| u as u32)));
            out.source.extend(rows.iter().map(|&i| (k as u16, i as u32)));
            let site = rows.iter().map(|&i| base.site[i]).collect();
            let mut part = base.resample(&rows, site, treated);
            // the stacks kept are numbered in turn: matching runs over 0..stacks
            part.stack = vec![kept; rows.len()];
            kept += 1;
            out.cohort.append(part);
        }
        (!out.unit.is_empty()).then_some(out)
    }
}

/// Each pilot's own primary estimates and their randomisation inference (one treated site):
/// for the stack of each pilot (with one index date, the whole cohort with that pilot alone
/// treated), the pilot's go-live given in turn to the pilot and to every control site, the
/// stack's cohort, matching and primary estimates recomputed; the statistic is the estimate
/// (log scale for ratios), since a cluster-robust t from one treated cluster does not
/// studentise. Fills `estimates`, `ri_assignments` and `ri_min_p` of `rows` (by site).
pub(crate) fn by_pilot(
    config: &ValidConfig,
    shared: &Shared,
    index: &Index,
    stage: &CohortStage,
    rows: &mut [crate::results::ModelRow],
) {
    let controls: Vec<usize> = (0..shared.units.len()).filter(|u| !shared.observed.contains(u)).collect();
    let n = config.outcomes().iter().filter(|o| Outcome::CHILD.contains(o)).count();
    for row in rows.iter_mut() {
        let Some(site) = index.groups.site_index(&row.site) else { continue };
        let Some(pilot) = shared.units.iter().position(|&u| u as usize == site) else { continue };
        // the pilot's stack (the only one with one index date)
        let k = stage.stacks.iter().position(|s| s.pilot.as_deref() == Some(row.site.as_str())).unwrap_or(0);
        let base = &shared.cohorts[k];
        let candidates: Vec<usize> = std::iter::once(pilot).chain(controls.iter().copied()).collect();
        let estimates: Vec<Vec<Option<f64>>> = candidates
            .par_iter()
            .map(|&treated_unit| match one_pilot_cohort(shared, base, &controls, treated_unit) {
                Some(cohort) => primary_estimates(config, &cohort, n),
                None => vec![None; n],
            })
            .collect();
        let types: Vec<(Outcome, crate::vocab::EstimateType)> =
            config.outcomes().iter().filter(|o| Outcome::CHILD.contains(o)).map(|&o| (o, o.primary())).collect();
        row.estimates = types
            .iter()
            .enumerate()
            .map(|(j, &(outcome, estimate_type))| {
                let observed = estimates[0][j];
                let stats: Vec<f64> = estimates.iter().filter_map(|e| e[j]).collect();
                let ri_p_value = observed.map(|o| {
                    stats.iter().filter(|s| s.abs() >= o.abs() * (1.0 - 1e-12)).count() as f64 / stats.len() as f64
                });
                let estimate = observed.map(|o| if estimate_type.is_ratio() { o.exp() } else { o });
                crate::results::PilotEstimate { outcome, estimate_type, estimate, ri_p_value }
            })
            .collect();
        row.ri_assignments = Some(candidates.len());
        row.ri_min_p = Some(1.0 / candidates.len() as f64);
    }
}

/// A one-pilot test's cohort: `base`'s children of `treated_unit` (the pilot, or a control
/// site given its go-live) treated, and of every other control site as controls, in one stack.
/// None when an arm is empty.
fn one_pilot_cohort(shared: &Shared, base: &Cohort, controls: &[usize], treated_unit: usize) -> Option<Cohort> {
    let treated_site = shared.units[treated_unit];
    let others: Vec<u32> = controls.iter().filter(|&&u| u != treated_unit).map(|&u| shared.units[u]).collect();
    let rows: Vec<usize> =
        (0..base.len()).filter(|&i| base.site[i] == treated_site || others.contains(&base.site[i])).collect();
    let treated: Vec<bool> = rows.iter().map(|&i| base.site[i] == treated_site).collect();
    if !treated.contains(&true) || !treated.contains(&false) {
        return None;
    }
    let site = rows.iter().map(|&i| base.site[i]).collect();
    let mut cohort = base.resample(&rows, site, treated);
    cohort.stack = vec![0; rows.len()];
    Some(cohort)
}

/// The primary rows' estimates of the cohort (log scale for ratios; None where a row is not
/// estimable).
fn primary_estimates(config: &ValidConfig, cohort: &Cohort, n: usize) -> Vec<Option<f64>> {
    primary_statistics(config, cohort, n, Detail::Estimate, |e| {
        e.estimate.map(|x| if e.estimate_type.is_ratio() { x.ln() } else { x }).filter(|x| x.is_finite())
    })
}

/// `statistic` of each primary row of the cohort, matched and estimated at `detail` (all None
/// when matching fails or a row is missing).
fn primary_statistics(
    config: &ValidConfig,
    cohort: &Cohort,
    n: usize,
    detail: Detail,
    statistic: impl Fn(&EffectRow) -> Option<f64>,
) -> Vec<Option<f64>> {
    let none = || vec![None; n];
    let Ok((covariates, dropped)) = matching::covariates(config, cohort) else { return none() };
    let Ok(matching) = matching::run(config, cohort, &covariates, &dropped, &|_, p, d| p.propensity_as_r(d)) else {
        return none();
    };
    let mut warnings = Vec::new();
    let outcomes = effects::child_outcomes(config, cohort, &matching, 0.0, detail, &mut warnings);
    let rows: Vec<Option<f64>> = outcomes.effects.iter().filter(|e| e.primary).map(statistic).collect();
    if rows.len() == n {
        rows
    } else {
        none()
    }
}

/// The t statistic of a row: its estimate (log for ratios) over its standard error.
fn t_of(row: &EffectRow) -> Option<f64> {
    let estimate = row.estimate?;
    let coef = if row.estimate_type.is_ratio() { estimate.ln() } else { estimate };
    let t = coef / row.se?;
    t.is_finite().then_some(t)
}

/// The primary rows' t statistics of the cohort (None where a row is not estimable).
fn primary_t(config: &ValidConfig, cohort: &Cohort, n: usize) -> Vec<Option<f64>> {
    primary_statistics(config, cohort, n, Detail::Statistic, t_of)
}

/// What [`primary_rows`] found besides the rows' p-values.
#[derive(Debug, Default)]
pub(crate) struct RandomisationRun {
    /// Assignments that could not be estimated (a stack with no child of an arm, matching
    /// that failed).
    pub(crate) failed: usize,
    /// Per primary row (its index in `effects`): the bound on its randomisation test when the
    /// sites' odds of becoming a pilot may differ through something unmeasured
    /// ([`AssignmentSensitivity`]); None when the assignments were drawn rather than
    /// enumerated, or the sites are too many to search.
    pub(crate) site_bounds: Vec<(usize, Option<AssignmentSensitivity>)>,
}

/// Randomisation inference on the primary rows of `effects` (estimated on `stage`): fills
/// `ri_p_value`, `ri_assignments`, `ri_exact` and `ri_min_p`, and bounds each test under
/// hidden bias in which sites became pilots ([`RandomisationRun::site_bounds`]).
pub(crate) fn primary_rows(
    config: &ValidConfig,
    shared: &Shared,
    effects: &mut [EffectRow],
) -> Result<RandomisationRun> {
    let primary: Vec<usize> = (0..effects.len())
        .filter(|&i| effects[i].primary && effects[i].outcome.outcome().is_some_and(|o| Outcome::CHILD.contains(&o)))
        .collect();
    let n = primary.len();
    if n == 0 || shared.observed.is_empty() || shared.observed.len() >= shared.units.len() {
        return Ok(RandomisationRun::default());
    }
    let failed = std::sync::atomic::AtomicUsize::new(0);
    let inference = config.inference();
    let units = shared.units.len();
    let distribution = randomisation_distribution(
        units,
        &shared.observed,
        inference.randomisation_assignments,
        inference.seed,
        |set| {
            let t = shared.cohort(set).map_or_else(|| vec![None; n], |c| primary_t(config, &c, n));
            if t.iter().all(Option::is_none) {
                failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            t
        },
    )
    .map_err(crate::error::at("randomisation inference"))?;
    let mut site_bounds = Vec::new();
    for (j, (&i, test)) in primary.iter().zip(distribution.tests(n)).enumerate() {
        if let Some(test) = test {
            let row = &mut effects[i];
            row.ri_p_value = Some(test.p_value);
            row.ri_assignments = Some(test.assignments);
            row.ri_exact = Some(test.enumerated);
            row.ri_min_p = Some(1.0 / test.assignments as f64);
        }
        let bound = distribution
            .extreme(j)
            .filter(|_| distribution.enumerated)
            .and_then(|(sets, extreme)| AssignmentSensitivity::new(units, &sets, &extreme).ok());
        site_bounds.push((i, bound));
    }
    Ok(RandomisationRun { failed: failed.into_inner(), site_bounds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::pipeline::{Evaluation, Silent};
    use std::path::Path;

    /// The bundled data, the default evaluation, its cohort stage and the shared cohorts.
    fn bundled() -> (swp_data::Loaded, Evaluation, CohortStage, Shared) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let loaded = swp_data::load(&root.join("data/sample")).unwrap();
        let evaluation = Evaluation::new(Config::default()).unwrap();
        let index = Evaluation::index(&loaded.dataset);
        let stage = evaluation.cohort_stage(&loaded.dataset, &index, &Silent).unwrap();
        let shared = Shared::new(evaluation.config(), &loaded.dataset, &index, &stage);
        (loaded, evaluation, stage, shared)
    }

    /// A one-pilot test's statistic, the estimate, is the same at [`Detail::Estimate`] (no
    /// standard errors) as where the errors are computed, for every primary row of each pilot's
    /// stack with the pilot alone treated and of a comparison site given its go-live.
    #[test]
    fn estimates_alone_equal_the_estimates_beside_their_errors() {
        let (_, evaluation, stage, shared) = bundled();
        let config = evaluation.config();
        let controls: Vec<usize> = (0..shared.units.len()).filter(|u| !shared.observed.contains(u)).collect();
        for (k, &pilot) in shared.observed.iter().enumerate() {
            for treated_unit in [pilot, controls[k % controls.len()]] {
                let base = &shared.cohorts[k.min(shared.cohorts.len() - 1)];
                let cohort = one_pilot_cohort(&shared, base, &controls, treated_unit).expect("both arms");
                let alone = primary_estimates(config, &cohort, 5);
                let beside = primary_statistics(config, &cohort, 5, Detail::Primary, |e| {
                    e.estimate.map(|x| if e.estimate_type.is_ratio() { x.ln() } else { x }).filter(|x| x.is_finite())
                });
                assert!(alone.iter().all(Option::is_some), "stack {k}: {alone:?}");
                assert_eq!(alone, beside, "stack {k}, unit {treated_unit}");
            }
        }
        assert_eq!(stage.stacks.len(), shared.cohorts.len());
    }

    /// The observed assignment rebuilt from the shared per-date cohorts gives exactly the
    /// evaluation's own t statistics (same children, matching and models), and the design of
    /// the bundled data has C(11, 5) = 462 assignments, all enumerated; a drawn design keeps the
    /// observed assignment first.
    #[test]
    fn the_observed_assignment_reproduces_the_evaluation() {
        let (loaded, evaluation, stage, shared) = bundled();
        let config = evaluation.config();
        assert_eq!((shared.units.len(), shared.observed.len()), (11, 5));
        let rebuilt = shared.cohort(&shared.observed).unwrap();
        assert_eq!(rebuilt.len(), stage.cohort.len());
        let ours = primary_t(config, &rebuilt, 5);
        let main = evaluation.primary_effects(&loaded.dataset).unwrap();
        let expected: Vec<Option<f64>> = main.iter().map(t_of).collect();
        assert_eq!(ours, expected);
        // another assignment moves the pilot label: other children are treated
        let other = shared.cohort(&[0, 1, 2, 3, 5]).unwrap();
        assert_ne!(other.treated, rebuilt.treated);
        let (sets, exact) = swp_stats::randomisation::assignments(11, &shared.observed, 10_000, 1);
        assert_eq!((sets.len(), exact), (462, true));
        let (sets, exact) = swp_stats::randomisation::assignments(11, &shared.observed, 100, 1);
        assert_eq!((sets.len(), exact, &sets[0]), (100, false, &shared.observed));
    }

    /// A placebo assignment for the power simulation: the chosen units' pilot parts treated in
    /// their stacks (the j-th chosen unit in the j-th stack, cycling), every other unit a control
    /// whole in every stack, a chosen unit's rows outside its part left out; the rows' sources
    /// name the shared cohorts' rows they copy.
    #[test]
    fn a_placebo_assignment_treats_the_chosen_parts_and_keeps_the_rest_as_controls() {
        let (_, _, _, shared) = bundled();
        let stacks = shared.cohorts.len();
        assert_eq!(stacks, 5);
        // every other row of each stack in the parts
        let part: Vec<Vec<bool>> = shared.cohorts.iter().map(|c| (0..c.len()).map(|i| i % 2 == 0).collect()).collect();
        let set = [0, 3, 5, 6, 7, 9, 10];
        let simulated = shared.simulated(&set, &part).unwrap();
        let c = &simulated.cohort;
        assert_eq!(c.len(), simulated.unit.len());
        for i in 0..c.len() {
            let (k, row) = simulated.source[i];
            let base = &shared.cohorts[usize::from(k)];
            assert_eq!((base.child[row as usize], base.site[row as usize]), (c.child[i], c.site[i]));
            let unit = simulated.unit[i] as usize;
            assert_eq!(shared.units[unit], c.site[i]);
            match set.iter().position(|&u| u == unit) {
                Some(j) => {
                    assert!(c.treated[i] && part[usize::from(k)][row as usize]);
                    assert_eq!(usize::from(k), j % stacks);
                }
                None => assert!(!c.treated[i]),
            }
        }
        // controls whole: every row of an unchosen unit in every stack
        for k in 0..stacks {
            let base = &shared.cohorts[k];
            let unchosen = (0..base.len()).filter(|&i| !set.contains(&shared.unit_of(base.site[i]).unwrap())).count();
            let kept =
                simulated.source.iter().zip(&c.treated).filter(|((kk, _), &t)| usize::from(*kk) == k && !t).count();
            assert_eq!(kept, unchosen, "stack {k}");
        }
        // the stacks are numbered in turn for matching
        assert_eq!(c.stacks(), stacks);
    }
}
