//! Randomisation inference: the observed statistic against its distribution over reassignments
//! of which units are treated (a test of the sharp null of no effect; for few treated clusters,
//! MacKinnon and Webb 2020, "Randomization inference for difference-in-differences with few
//! treated clusters", Journal of Econometrics). The difference-in-differences at the site level
//! ([`crate::did`]) and the cluster-level test of [`crate::bootstrap`] both use it.

use crate::error::{Result, StatsError};
use crate::rng::Rng;
use rayon::prelude::*;

/// A randomisation-inference test.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomisationResult {
    /// The observed statistic.
    pub estimate: f64,
    /// Share of assignments with |statistic| >= |observed| (the observed one included).
    pub p_value: f64,
    /// Assignments used.
    pub assignments: usize,
    /// Whether every assignment was used.
    pub enumerated: bool,
}

/// Randomisation inference over which `treated.len()` of `units` units are treated.
/// `statistic(set)` gives the statistic when the units in `set` (increasing) are the treated
/// ones (None: not defined for that set; left out). Sets are enumerated when C(units, g1) <=
/// `max_assignments`, else the observed set and `max_assignments - 1` sets drawn (set r from
/// stream r of `seed`, so the result does not depend on the number of threads).
///
/// # Errors
/// No treated unit, or every unit treated; the observed statistic not defined.
pub fn randomisation_test(
    units: usize,
    treated: &[usize],
    max_assignments: usize,
    seed: u64,
    statistic: impl Fn(&[usize]) -> Option<f64> + Sync,
) -> Result<RandomisationResult> {
    let mut results = randomisation_tests(units, treated, max_assignments, seed, 1, |set| vec![statistic(set)])?;
    results
        .pop()
        .flatten()
        .ok_or(StatsError::UndefinedStatistic { reason: "the statistic is not defined for the observed assignment" })
}

/// The assignments of randomisation inference: every set of `g1` of `units` units when there
/// are at most `max_assignments` (lexicographic order), else `observed` and `max_assignments -
/// 1` sets drawn from `seed`. The flag says whether they were enumerated.
pub fn assignments(units: usize, observed: &[usize], max_assignments: usize, seed: u64) -> (Vec<Vec<usize>>, bool) {
    let g1 = observed.len();
    let total = (0..g1).fold(1.0f64, |acc, i| acc * (units - i) as f64 / (i + 1) as f64);
    if total <= max_assignments as f64 {
        let mut all = Vec::new();
        let mut pick: Vec<usize> = (0..g1).collect();
        loop {
            all.push(pick.clone());
            let mut i = g1;
            while i > 0 && pick[i - 1] == units - g1 + i - 1 {
                i -= 1;
            }
            if i == 0 {
                break;
            }
            pick[i - 1] += 1;
            for j in i..g1 {
                pick[j] = pick[j - 1] + 1;
            }
        }
        (all, true)
    } else {
        let mut observed_set = observed.to_vec();
        observed_set.sort_unstable();
        // each draw has its own stream (seed, rep): drawn in parallel, the same sets in order
        let mut drawn = Vec::with_capacity(max_assignments.max(1));
        drawn.push(observed_set);
        drawn.par_extend((1..max_assignments.max(1)).into_par_iter().map(|rep| {
            let mut rng = Rng::new(seed, rep as u64);
            let mut idx: Vec<usize> = (0..units).collect();
            rng.shuffle_prefix(&mut idx, g1);
            let mut set = idx[..g1].to_vec();
            set.sort_unstable();
            set
        }));
        (drawn, false)
    }
}

/// [`randomisation_test`] of `n` statistics at once (one pass over the assignments, each
/// computed once): `statistics(set)` gives the `n` statistics of an assignment. A statistic not
/// defined for the observed set has no test (None).
///
/// # Errors
/// No treated unit, or every unit treated.
pub fn randomisation_tests(
    units: usize,
    treated: &[usize],
    max_assignments: usize,
    seed: u64,
    n: usize,
    statistics: impl Fn(&[usize]) -> Vec<Option<f64>> + Sync,
) -> Result<Vec<Option<RandomisationResult>>> {
    Ok(randomisation_distribution(units, treated, max_assignments, seed, statistics)?.tests(n))
}

/// The assignments of [`randomisation_tests`] with every statistic of each: what a sensitivity
/// analysis that weighs the assignments unequally needs
/// ([`crate::sensitivity::AssignmentSensitivity`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// The assignments (each the treated units, increasing).
    pub sets: Vec<Vec<usize>>,
    /// Whether every assignment was used.
    pub enumerated: bool,
    /// `statistics[a]`: the statistics of assignment `a`.
    pub statistics: Vec<Vec<Option<f64>>>,
    /// Where the observed assignment is among `sets`.
    pub observed_at: usize,
}

impl Distribution {
    /// Statistic `j`'s assignments (those where it is defined) and whether each is at least as
    /// extreme as the observed one (|statistic| >= |observed|, to 1e-12 relative), or None when
    /// it is not defined for the observed assignment.
    pub fn extreme(&self, j: usize) -> Option<(Vec<&[usize]>, Vec<bool>)> {
        let observed = self.statistics[self.observed_at].get(j).copied().flatten()?;
        let (sets, extreme) = self
            .sets
            .iter()
            .zip(&self.statistics)
            .filter_map(|(set, all)| {
                let t = all.get(j).copied().flatten()?;
                Some((set.as_slice(), t.abs() >= observed.abs() * (1.0 - 1e-12)))
            })
            .unzip();
        Some((sets, extreme))
    }

    /// The test of each of the first `n` statistics.
    pub fn tests(&self, n: usize) -> Vec<Option<RandomisationResult>> {
        (0..n)
            .map(|j| {
                let observed = self.statistics[self.observed_at].get(j).copied().flatten()?;
                let (_, extreme) = self.extreme(j)?;
                Some(RandomisationResult {
                    estimate: observed,
                    p_value: extreme.iter().filter(|&&e| e).count() as f64 / extreme.len() as f64,
                    assignments: extreme.len(),
                    enumerated: self.enumerated,
                })
            })
            .collect()
    }
}

/// Every assignment of [`randomisation_tests`] and its statistics.
///
/// # Errors
/// No treated unit, or every unit treated.
pub fn randomisation_distribution(
    units: usize,
    treated: &[usize],
    max_assignments: usize,
    seed: u64,
    statistics: impl Fn(&[usize]) -> Vec<Option<f64>> + Sync,
) -> Result<Distribution> {
    let g1 = treated.len();
    if g1 == 0 || g1 >= units {
        return Err(StatsError::NeedsBothArms { method: "randomisation inference" });
    }
    let mut observed_set = treated.to_vec();
    observed_set.sort_unstable();
    let (sets, enumerated) = assignments(units, &observed_set, max_assignments, seed);
    let statistics: Vec<Vec<Option<f64>>> = sets.par_iter().map(|s| statistics(s)).collect();
    let observed_at = sets.iter().position(|s| *s == observed_set).unwrap_or(0);
    Ok(Distribution { sets, enumerated, statistics, observed_at })
}
