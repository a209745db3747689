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
/// `max_assignments`, else `max_assignments` sets are drawn (set r from stream r of `seed`, so
/// the result does not depend on the number of threads).
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
    let g1 = treated.len();
    if g1 == 0 || g1 >= units {
        return Err(StatsError::NeedsBothArms { method: "randomisation inference" });
    }
    let mut observed_set = treated.to_vec();
    observed_set.sort_unstable();
    let observed = statistic(&observed_set)
        .ok_or(StatsError::UndefinedStatistic { reason: "the statistic is not defined for the observed assignment" })?;
    let total = (0..g1).fold(1.0f64, |acc, i| acc * (units - i) as f64 / (i + 1) as f64);
    let (sets, enumerated): (Vec<Vec<usize>>, bool) = if total <= max_assignments as f64 {
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
        let drawn = (0..max_assignments)
            .map(|rep| {
                let mut rng = Rng::new(seed, rep as u64 + 1);
                let mut idx: Vec<usize> = (0..units).collect();
                rng.shuffle_prefix(&mut idx, g1);
                let mut set = idx[..g1].to_vec();
                set.sort_unstable();
                set
            })
            .collect();
        (drawn, false)
    };
    let stats: Vec<Option<f64>> = sets.par_iter().map(|s| statistic(s)).collect();
    let stats: Vec<f64> = stats.into_iter().flatten().collect();
    let extreme = stats.iter().filter(|s| s.abs() >= observed.abs() * (1.0 - 1e-12)).count();
    Ok(RandomisationResult {
        estimate: observed,
        p_value: extreme as f64 / stats.len() as f64,
        assignments: stats.len(),
        enumerated,
    })
}
