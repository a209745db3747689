//! Power and the minimum detectable effect with few pilot sites, by simulation from the data at
//! hand, for the test the report's words follow: randomisation inference over the sites.
//!
//! A simulated evaluation is a *placebo assignment*: `k` of the analysis's sites made pilots,
//! without replacement, the others its controls, on data in which no pilot was running (docs/
//! evaluation.md "Power"):
//!
//! 1. **The sites and their children.** By default the placebo in time's cohorts: every site of
//!    the analysis (pilots and controls) with every index date moved back `[placebo]
//!    shift_months`, so the design's own sites, sizes and site-to-site variation, before any
//!    pilot existed. When the data do not reach back that far, the control sites at the
//!    evaluation's own index dates (fewer sites: the warning says so).
//! 2. **Assignments.** Every set of `k` sites when there are at most `simulations` of them, else
//!    `simulations` drawn with the seed; with stacks the j-th chosen site takes the j-th pilot's
//!    go-live (cycling when `k` exceeds the pilots), as in the evaluation's randomisation
//!    inference. Each assignment's cohort is matched as the config says, once: planting an
//!    effect changes outcomes, never who is matched.
//! 3. **Planting.** For each ratio `r` of the grid, in the chosen sites' children: counts thinned
//!    (each event kept with probability `r`: a Poisson process thinned so has rate ratio `r`), a
//!    binary 1 turned to 0 with probability `1 - r` (risk ratio `r`), a time to event's event
//!    kept with probability `r`, else censored at that time (hazard ratio `r` under
//!    proportional hazards). One uniform draw per event and child row serves every ratio and
//!    every assignment, so planted outcomes are nested from the smallest effect to the largest.
//! 4. **The test.** Randomisation inference over the same assignments: for the simulated
//!    evaluation `a` and each assignment `b`, the statistic of `b`'s matched sample with the
//!    effect planted in `a`'s pilots (a site of `a` that is a control in `b` is whole there, and
//!    only its pilot part's children carry the effect); p is the share of assignments whose |statistic| is at least
//!    `a`'s own. The statistic is the matched (weighted) comparison studentised by its
//!    site-clustered delta-method SE: the log ratio of the arms' event rates for counts (events
//!    over exposure) and for times to event (events over time at risk, the exponential model's
//!    hazard ratio), the risk difference for the binary outcome; with one pilot site, the
//!    estimate itself (one cluster does not studentise). This is the report's randomisation test
//!    without the covariate adjustment and with the exponential in place of the Cox model: sums
//!    by site make the `assignments^2` statistics cheap.
//!
//! Power is the share of simulated evaluations rejecting at `alpha` (p < alpha); ratio 1 gives
//! the size, at most alpha when every assignment is enumerated (the test is exact by
//! construction: no size adjustment is needed, unlike the cluster-robust tests' simulations of
//! v1.1). The minimum detectable effect is where the power curve crosses the target,
//! interpolated linearly in log ratio. A number of pilot sites whose assignments cannot give a
//! p below alpha (`1 / C(G, k) >= alpha`), or that leaves no control site, is not simulated.
//! The draws are made before the parallel work, from a stream per outcome and stack: the result
//! does not depend on the threads.

use crate::config::{PowerConfig, ValidConfig};
use crate::pipeline::cohort::Cohort;
use crate::pipeline::{matching, Progress, Stage};
use crate::randomisation::Shared;
use crate::results::{MinimumDetectable, PowerResult, PowerRow};
use crate::vocab::{EstimateType, Outcome};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use swp_stats::rng::Rng;

/// How an outcome is compared: as a rate (events over a denominator, on the log scale) or as a
/// risk (a share, by difference).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// Counts over exposure, or events over time at risk: log rate ratio.
    Rate,
    /// A binary outcome: risk difference.
    Risk,
}

/// The outcomes simulated, with their planted measure and how they are compared.
fn simulated_outcome(outcome: Outcome) -> Option<(EstimateType, Shape)> {
    match outcome {
        Outcome::SwChanges | Outcome::PlacementMoves => Some((EstimateType::RateRatio, Shape::Rate)),
        Outcome::ThreePlusPlacements => Some((EstimateType::RiskRatio, Shape::Risk)),
        Outcome::TimeToSwChange | Outcome::TimeToPlacementMove => Some((EstimateType::HazardRatio, Shape::Rate)),
        Outcome::CostPerChildYear => None,
    }
}

/// A row's value of `outcome` (events, or 0/1) and its denominator (exposure in years, time at
/// risk in days, 1 for a binary outcome).
fn value(outcome: Outcome, cohort: &Cohort, i: usize) -> (f64, f64) {
    match outcome {
        Outcome::SwChanges => (cohort.sw_changes[i], cohort.exposure_years[i]),
        Outcome::PlacementMoves => (cohort.placement_moves[i], cohort.exposure_years[i]),
        Outcome::ThreePlusPlacements => (cohort.three_plus_placements[i], 1.0),
        Outcome::TimeToSwChange => (f64::from(u8::from(cohort.sw_change_event[i])), cohort.time_to_sw_change[i]),
        Outcome::TimeToPlacementMove | Outcome::CostPerChildYear => {
            (f64::from(u8::from(cohort.placement_move_event[i])), cohort.time_to_placement_move[i])
        }
    }
}

/// The planted value of `y` at `ratio` from its draws: each event kept when its draw is below
/// the ratio (ratio 1 keeps every event, since draws are below 1).
fn planted(y: f64, draws: &[f64], ratio: f64) -> f64 {
    let events = y.max(0.0) as usize;
    draws.iter().take(events).filter(|&&u| u < ratio).count() as f64
}

/// Per outcome, stack and row of the shared cohorts: the uniform draws that plant effects, one
/// per event (a binary outcome or a time to event has at most one).
fn draws(shared: &Shared, outcomes: &[Outcome], seed: u64) -> Vec<Vec<Vec<Vec<f64>>>> {
    outcomes
        .iter()
        .enumerate()
        .map(|(o, &outcome)| {
            (0..shared.stacks())
                .map(|k| {
                    let cohort = shared.stack_cohort(k);
                    let mut rng = Rng::new(seed, 0x5057_0000 + ((o as u64) << 8) + k as u64);
                    (0..cohort.len())
                        .map(|i| {
                            let events = value(outcome, cohort, i).0.max(0.0) as usize;
                            (0..events).map(|_| rng.uniform()).collect()
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// One assignment's matched sample summed by site (unit): per outcome the weighted
/// denominators, the weighted events of the unit's pilot part at each ratio (1 first), and
/// those of its other children (never planted).
struct Sums {
    /// Per unit: in the matched sample, and in its treated arm.
    present: Vec<bool>,
    treated: Vec<bool>,
    /// Per outcome and unit.
    denominator: Vec<Vec<f64>>,
    /// Per outcome, unit and ratio: the pilot part's events.
    events: Vec<Vec<Vec<f64>>>,
    /// Per outcome and unit: the events of the children outside the pilot part.
    rest: Vec<Vec<f64>>,
}

impl Sums {
    /// The assignment `set` matched and summed (None when it cannot be matched).
    #[allow(clippy::too_many_arguments)]
    fn new(
        config: &ValidConfig,
        shared: &Shared,
        set: &[usize],
        outcomes: &[Outcome],
        ratios: &[f64],
        draws: &[Vec<Vec<Vec<f64>>>],
        part: &[Vec<bool>],
    ) -> Option<Sums> {
        let simulated = shared.simulated(set, part)?;
        let cohort = &simulated.cohort;
        let (covariates, dropped) = matching::covariates(config, cohort).ok()?;
        let matching = matching::run(config, cohort, &covariates, &dropped, &|_, p, d| p.propensity_as_r(d)).ok()?;
        let g = shared.units();
        let mut sums = Sums {
            present: vec![false; g],
            treated: vec![false; g],
            denominator: vec![vec![0.0; g]; outcomes.len()],
            events: vec![vec![vec![0.0; ratios.len()]; g]; outcomes.len()],
            rest: vec![vec![0.0; g]; outcomes.len()],
        };
        for i in 0..cohort.len() {
            let w = matching.weights[i];
            if w <= 0.0 {
                continue;
            }
            let u = simulated.unit[i] as usize;
            let (k, row) = simulated.source[i];
            sums.present[u] = true;
            sums.treated[u] = cohort.treated[i];
            for (o, &outcome) in outcomes.iter().enumerate() {
                let (y, denominator) = value(outcome, cohort, i);
                let d = &draws[o][usize::from(k)][row as usize];
                sums.denominator[o][u] += w * denominator;
                if part[usize::from(k)][row as usize] {
                    for (r, &ratio) in ratios.iter().enumerate() {
                        sums.events[o][u][r] += w * planted(y, d, ratio);
                    }
                } else {
                    sums.rest[o][u] += w * y;
                }
            }
        }
        let arms = (0..g).filter(|&u| sums.present[u]).map(|u| sums.treated[u]);
        let (mut t, mut c) = (false, false);
        for arm in arms {
            t |= arm;
            c |= !arm;
        }
        (t && c).then_some(sums)
    }

    /// The statistic of this assignment for outcome `o` with ratio `r`'s effect planted in the
    /// units marked in `planted_in` (the simulated evaluation's pilots): the comparison over
    /// its site-clustered delta-method SE, or the comparison itself with one treated unit.
    fn statistic(&self, o: usize, shape: Shape, r: usize, planted_in: &[bool]) -> Option<f64> {
        let value = |u: usize| -> (f64, f64) {
            let events = &self.events[o][u];
            (if planted_in[u] { events[r] } else { events[0] } + self.rest[o][u], self.denominator[o][u])
        };
        let mut arm = [(0.0f64, 0.0f64, 0usize); 2];
        for u in (0..self.present.len()).filter(|&u| self.present[u]) {
            let (y, d) = value(u);
            let a = &mut arm[usize::from(self.treated[u])];
            a.0 += y;
            a.1 += d;
            a.2 += 1;
        }
        let [(yc, dc, _), (yt, dt, treated_units)] = arm;
        if dt <= 0.0 || dc <= 0.0 {
            return None;
        }
        let (rt, rc) = (yt / dt, yc / dc);
        let estimate = match shape {
            Shape::Rate if yt > 0.0 && yc > 0.0 => rt.ln() - rc.ln(),
            Shape::Rate => return None,
            Shape::Risk => rt - rc,
        };
        if treated_units == 1 {
            return Some(estimate);
        }
        // delta method: the log of a ratio estimator Y/D has influence (y_u - R d_u) / Y per
        // cluster; a share Y/D has (y_u - R d_u) / D
        let mut variance = 0.0;
        for u in (0..self.present.len()).filter(|&u| self.present[u]) {
            let (y, d) = value(u);
            let (rate, scale) = if self.treated[u] {
                (rt, if shape == Shape::Rate { yt } else { dt })
            } else {
                (rc, if shape == Shape::Rate { yc } else { dc })
            };
            variance += ((y - rate * d) / scale).powi(2);
        }
        let t = estimate / variance.sqrt();
        t.is_finite().then_some(t)
    }
}

/// The randomisation p-value of each simulated evaluation (`a` over the assignments) for
/// outcome `o` and ratio `r`: None when its own statistic is undefined.
fn p_values(sums: &[Option<Sums>], sets: &[Vec<usize>], o: usize, shape: Shape, r: usize) -> Vec<Option<f64>> {
    let g = sums.iter().flatten().next().map_or(0, |s| s.present.len());
    (0..sets.len())
        .into_par_iter()
        .map(|a| {
            let mut planted_in = vec![false; g];
            for &u in &sets[a] {
                planted_in[u] = true;
            }
            let own = sums[a].as_ref()?.statistic(o, shape, r, &planted_in)?;
            let (mut at_least, mut defined) = (0usize, 0usize);
            for s in sums.iter().flatten() {
                if let Some(t) = s.statistic(o, shape, r, &planted_in) {
                    defined += 1;
                    if t.abs() >= own.abs() * (1.0 - 1e-12) {
                        at_least += 1;
                    }
                }
            }
            Some(at_least as f64 / defined as f64)
        })
        .collect()
}

/// Per stack and row of the shared cohorts: whether the row's child is in its site's pilot part,
/// the children a placebo pilot of that site holds. An observed pilot's part is the site whole;
/// any other site's is a random subset of its children as large as one of the evaluation's
/// pilots (`pilot_sizes` taken in turn, in random order), since pilots are often far smaller
/// than comparison authorities and power depends on it.
fn pilot_parts(shared: &Shared, pilot_sizes: &[usize], seed: u64) -> Vec<Vec<bool>> {
    let g = shared.units();
    let stacks = shared.stacks();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); g];
    for k in 0..stacks {
        let cohort = shared.stack_cohort(k);
        for i in 0..cohort.len() {
            if let Some(u) = shared.unit_of(cohort.site[i]) {
                children[u].push(cohort.child[i]);
            }
        }
    }
    let mut rng = Rng::new(seed, 0x5057_5041);
    let mut sizes = pilot_sizes.to_vec();
    rng.shuffle(&mut sizes);
    let mut next = 0;
    let mut part: Vec<std::collections::HashSet<usize>> = Vec::with_capacity(g);
    for (u, mut these) in children.into_iter().enumerate() {
        these.sort_unstable();
        these.dedup();
        if !shared.is_observed(u) && !sizes.is_empty() {
            rng.shuffle(&mut these);
            these.truncate(sizes[next % sizes.len()]);
            next += 1;
        }
        part.push(these.into_iter().collect());
    }
    (0..stacks)
        .map(|k| {
            let cohort = shared.stack_cohort(k);
            (0..cohort.len())
                .map(|i| shared.unit_of(cohort.site[i]).is_some_and(|u| part[u].contains(&cohort.child[i])))
                .collect()
        })
        .collect()
}

/// Each pilot's size: its children in the evaluation's cohort (pilots in site order).
pub(crate) fn pilot_sizes(cohort: &Cohort) -> Vec<usize> {
    let mut children: Vec<(u32, usize)> =
        (0..cohort.len()).filter(|&i| cohort.treated[i]).map(|i| (cohort.site[i], cohort.child[i])).collect();
    children.sort_unstable();
    children.dedup();
    let mut sizes: Vec<usize> = Vec::new();
    let mut previous = None;
    for &(site, _) in &children {
        if previous != Some(site) {
            sizes.push(0);
            previous = Some(site);
        }
        if let Some(last) = sizes.last_mut() {
            *last += 1;
        }
    }
    sizes
}

/// Where the simulated evaluations' sites come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// The placebo in time's cohorts: every site of the analysis, index dates moved back.
    Placebo { shift_months: u32 },
    /// The control sites at the evaluation's index dates, and why the placebo could not serve.
    Controls { why: String },
}

/// C(n, k) as a float (k at most n).
fn choose(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0f64, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// The power simulation with the config's `[power]` settings `p` over the units of `shared`
/// (see the module documentation); `observed_pilots` is the evaluation's number of pilots.
pub(crate) fn power(
    config: &ValidConfig,
    p: &PowerConfig,
    shared: &Shared,
    source: &Source,
    pilot_sizes: &[usize],
    progress: &dyn Progress,
) -> PowerResult {
    let observed_pilots = pilot_sizes.len();
    let g = shared.units();
    let mut pilot_sites: Vec<usize> =
        if p.pilot_sites.is_empty() { vec![observed_pilots, 10, 20] } else { p.pilot_sites.clone() };
    pilot_sites.sort_unstable();
    pilot_sites.dedup();
    let outcomes: Vec<(Outcome, EstimateType, Shape)> =
        config.outcomes().iter().filter_map(|&o| simulated_outcome(o).map(|(e, s)| (o, e, s))).collect();
    let ratios: Vec<f64> = std::iter::once(1.0).chain(p.ratios.iter().copied()).collect();
    let seed = config.inference().seed;
    let (from, shift_months) = match source {
        Source::Placebo { shift_months } => (
            format!(
                "the {g} sites of the analysis (pilots and controls) with every index date moved back {shift_months} months (the placebo in time: no pilot was running)"
            ),
            Some(*shift_months),
        ),
        Source::Controls { .. } => {
            (format!("the {g} control sites at the evaluation's index dates (no pilot among them)"), None)
        }
    };
    let mut result = PowerResult {
        method: format!(
            "placebo evaluations built from {from}: k of them made pilots without replacement \
             (every assignment when there are at most {}, else that many drawn), a placebo \
             pilot holding as many children as one of the evaluation's pilots; each assignment \
             matched as the config says; effects planted in the placebo pilots' children by \
             thinning their events; the randomisation test over the same assignments (the \
             matched comparison studentised by its site-clustered SE, the report's test without \
             the covariate adjustment); alpha {}",
            p.simulations, p.alpha
        ),
        simulations: p.simulations,
        alpha: p.alpha,
        target: p.target,
        seed,
        observed_pilot_sites: observed_pilots,
        source_sites: g,
        shift_months,
        rows: Vec::new(),
        minimum_detectable: Vec::new(),
        warnings: Vec::new(),
    };
    if let Source::Controls { why } = source {
        result.warnings.push(format!("{why}; the power is simulated from the control sites alone"));
    }
    let mut possible = Vec::new();
    for &k in &pilot_sites {
        let assignments = if k < g { choose(g, k) } else { 0.0 };
        if k == 0 || k >= g {
            result.warnings.push(format!(
                "{k} pilot sites not simulated: the placebo evaluations draw from {g} sites, so {k} would leave no control site"
            ));
        } else if 1.0 / assignments >= p.alpha {
            result.warnings.push(format!(
                "{k} pilot sites not simulated: {k} of {g} sites can be chosen in only {assignments} ways, so the randomisation test cannot give a p-value below 1/{assignments}, above alpha {}",
                p.alpha
            ));
        } else {
            possible.push(k);
        }
    }
    let draws = draws(shared, &outcomes.iter().map(|o| o.0).collect::<Vec<_>>(), seed);
    let part = pilot_parts(shared, pilot_sizes, seed);
    let plan: Vec<(usize, Vec<Vec<usize>>, bool)> = possible
        .iter()
        .map(|&k| {
            let first: Vec<usize> = (0..k).collect();
            let (sets, exact) =
                swp_stats::randomisation::assignments(g, &first, p.simulations, seed.wrapping_add(k as u64));
            (k, sets, exact)
        })
        .collect();
    let total: u64 = plan.iter().map(|(_, sets, _)| sets.len() as u64).sum();
    let done = AtomicU64::new(0);
    let names: Vec<Outcome> = outcomes.iter().map(|o| o.0).collect();
    for (k, sets, exact) in &plan {
        let sums: Vec<Option<Sums>> = sets
            .par_iter()
            .map(|set| {
                let s = Sums::new(config, shared, set, &names, &ratios, &draws, &part);
                progress.tick(Stage::Power, done.fetch_add(1, Ordering::Relaxed) + 1, total);
                s
            })
            .collect();
        for (o, &(outcome, effect_type, shape)) in outcomes.iter().enumerate() {
            let mut curve = Vec::new();
            for (r, &ratio) in ratios.iter().enumerate() {
                let tests: Vec<f64> = p_values(&sums, sets, o, shape, r).into_iter().flatten().collect();
                let n = tests.len();
                let power = (n > 0).then(|| tests.iter().filter(|&&q| q < p.alpha).count() as f64 / n as f64);
                curve.push((ratio, power));
                result.rows.push(PowerRow {
                    outcome,
                    test: "randomisation",
                    effect_type,
                    pilot_sites: *k,
                    control_sites: g - k,
                    ratio,
                    power,
                    mc_se: power.filter(|_| !exact).map(|q| (q * (1.0 - q) / n as f64).sqrt()),
                    simulations: n,
                    failed: sets.len() - n,
                });
            }
            result.minimum_detectable.push(MinimumDetectable {
                outcome,
                effect_type,
                pilot_sites: *k,
                assignments: sets.len(),
                exact: *exact,
                ratio: minimum_detectable(&curve, p.target),
                size: curve[0].1,
            });
        }
    }
    result
}

/// Where the power curve (ratio, power), ratio 1 first and then the grid, first reaches
/// `target`, walking from no effect to the largest effect; linear in log ratio between the grid
/// points around the crossing. None when it is never reached.
pub fn minimum_detectable(curve: &[(f64, Option<f64>)], target: f64) -> Option<f64> {
    let mut points: Vec<(f64, f64)> = curve.iter().filter_map(|&(r, p)| Some((r, p?))).collect();
    points.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut previous: Option<(f64, f64)> = None;
    for (r, p) in points {
        if p >= target {
            return Some(match previous {
                Some((r0, p0)) if p > p0 => (r0.ln() + (target - p0) / (p - p0) * (r.ln() - r0.ln())).exp(),
                _ => r,
            });
        }
        previous = Some((r, p));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minimum_detectable_effect_is_interpolated_in_log_ratio() {
        let curve = [(1.0, Some(0.05)), (0.9, Some(0.3)), (0.8, Some(0.7)), (0.7, Some(0.9))];
        let m = minimum_detectable(&curve, 0.8).unwrap();
        let expected = (0.8f64.ln() + 0.5 * (0.7f64.ln() - 0.8f64.ln())).exp();
        assert!((m - expected).abs() < 1e-12, "{m}");
        assert_eq!(minimum_detectable(&curve[..3], 0.8), None);
        // a missing point is skipped; reached at the first point: that ratio
        assert_eq!(minimum_detectable(&[(1.0, Some(0.9)), (0.5, None)], 0.8), Some(1.0));
    }

    /// Thinning keeps each event below its draw: nested in the ratio, every event at 1, and
    /// near the planted share on many events.
    #[test]
    fn thinning_plants_the_ratio_and_is_monotone_in_it() {
        let mut rng = Rng::new(3, 0);
        let (mut kept, mut all) = (0.0, 0.0);
        for i in 0..4000 {
            let y = (i % 5) as f64;
            let d: Vec<f64> = (0..y as usize).map(|_| rng.uniform()).collect();
            assert_eq!(planted(y, &d, 1.0), y);
            assert!(planted(y, &d, 0.5) <= planted(y, &d, 0.8));
            kept += planted(y, &d, 0.5);
            all += y;
        }
        assert!((kept / all - 0.5).abs() < 0.03, "{}", kept / all);
    }

    /// Sums of four sites (two treated): the studentised log rate ratio and risk difference
    /// equal the delta method written out, the planted events enter only the marked sites, and
    /// one treated site gives the estimate itself.
    #[test]
    fn the_statistic_is_the_delta_method_t_of_the_site_sums() {
        let sums = Sums {
            present: vec![true; 4],
            treated: vec![true, true, false, false],
            denominator: vec![vec![10.0, 20.0, 15.0, 30.0]],
            events: vec![vec![vec![4.0, 2.0], vec![10.0, 5.0], vec![9.0, 4.0], vec![12.0, 6.0]]],
            rest: vec![vec![0.0; 4]],
        };
        let (yt, dt, yc, dc): (f64, f64, f64, f64) = (4.0 + 10.0, 30.0, 9.0 + 12.0, 45.0);
        let (rt, rc) = (yt / dt, yc / dc);
        let v = ((4.0 - rt * 10.0) / yt).powi(2)
            + ((10.0 - rt * 20.0) / yt).powi(2)
            + ((9.0 - rc * 15.0) / yc).powi(2)
            + ((12.0 - rc * 30.0) / yc).powi(2);
        let t = sums.statistic(0, Shape::Rate, 0, &[false; 4]).unwrap();
        assert!((t - (rt.ln() - rc.ln()) / v.sqrt()).abs() < 1e-12, "{t}");
        let (pt, pc) = (yt / dt, yc / dc);
        let v = ((4.0 - pt * 10.0) / dt).powi(2)
            + ((10.0 - pt * 20.0) / dt).powi(2)
            + ((9.0 - pc * 15.0) / dc).powi(2)
            + ((12.0 - pc * 30.0) / dc).powi(2);
        let t = sums.statistic(0, Shape::Risk, 0, &[false; 4]).unwrap();
        assert!((t - (pt - pc) / v.sqrt()).abs() < 1e-12, "{t}");
        // the effect planted in site 0 only: its events at the ratio's column
        let planted = sums.statistic(0, Shape::Rate, 1, &[true, false, false, false]).unwrap();
        let (yt, rt): (f64, f64) = (2.0 + 10.0, 12.0 / 30.0);
        let v = ((2.0 - rt * 10.0) / yt).powi(2)
            + ((10.0 - rt * 20.0) / yt).powi(2)
            + ((9.0 - rc * 15.0) / yc).powi(2)
            + ((12.0 - rc * 30.0) / yc).powi(2);
        assert!((planted - (rt.ln() - rc.ln()) / v.sqrt()).abs() < 1e-12, "{planted}");
        // children outside the pilot part add their events unplanted: one of site 0's four
        // events moved there gives the same sums (3 + 1 unplanted, 1 + 1 planted)
        let split = Sums {
            events: vec![vec![vec![3.0, 1.0], vec![10.0, 5.0], vec![9.0, 4.0], vec![12.0, 6.0]]],
            rest: vec![vec![1.0, 0.0, 0.0, 0.0]],
            present: sums.present.clone(),
            treated: sums.treated.clone(),
            denominator: sums.denominator.clone(),
        };
        assert_eq!(split.statistic(0, Shape::Rate, 1, &[true, false, false, false]), Some(planted));
        assert_eq!(split.statistic(0, Shape::Rate, 0, &[false; 4]), sums.statistic(0, Shape::Rate, 0, &[false; 4]));
        let one = Sums { treated: vec![true, false, false, false], ..sums };
        let (r1, r0): (f64, f64) = (4.0 / 10.0, 31.0 / 65.0);
        assert!((one.statistic(0, Shape::Rate, 0, &[false; 4]).unwrap() - (r1.ln() - r0.ln())).abs() < 1e-12);
    }
}
#[cfg(test)]
mod bundled {
    use crate::config::Config;
    use crate::vocab::Outcome;
    use crate::Evaluation;
    use std::path::Path;

    fn bundled_power(threads: usize) -> super::PowerResult {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let loaded = swp_data::load(&root.join("data/sample")).unwrap();
        let mut config = Config::default();
        config.power.enabled = true;
        config.power.simulations = 60;
        config.power.pilot_sites = vec![2, 5, 10, 11];
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| Evaluation::new(config).unwrap().run(&loaded.dataset).unwrap().power.unwrap())
    }

    /// On the bundled data (11 sites of the analysis, the placebo in time's): the same numbers
    /// on one thread and on three; 2 of 11 sites enumerated (55 assignments), 5 drawn (60 of
    /// 462); 10 (11 assignments: no p below 0.05) and 11 (no control left) not simulated, with
    /// warnings; every assignment estimable; the size of the enumerated test at most alpha (it
    /// is exact), and a planted rate ratio of 0.5 detected far more often than no effect.
    #[test]
    fn power_is_thread_independent_and_rises_with_the_planted_effect() {
        let one = bundled_power(1);
        let three = bundled_power(3);
        assert_eq!(one, three);
        assert_eq!((one.observed_pilot_sites, one.source_sites, one.shift_months), (5, 11, Some(24)));
        assert_eq!(one.rows.len(), 2 * 5 * 6);
        assert!(one.warnings.iter().any(|w| w.starts_with("10 pilot sites not simulated")), "{:?}", one.warnings);
        assert!(one.warnings.iter().any(|w| w.starts_with("11 pilot sites not simulated")), "{:?}", one.warnings);
        let m = |k: usize| one.minimum_detectable.iter().find(|m| m.pilot_sites == k).unwrap();
        assert_eq!((m(2).assignments, m(2).exact, m(5).assignments, m(5).exact), (55, true, 60, false));
        assert!(one.rows.iter().all(|r| r.failed == 0 && r.test == "randomisation"));
        for r in one.rows.iter().filter(|r| r.pilot_sites == 2 && r.ratio == 1.0) {
            assert!(r.power.unwrap() <= 0.05, "{r:?}");
        }
        let power = |outcome: Outcome, ratio: f64| {
            one.rows
                .iter()
                .find(|r| r.outcome == outcome && r.pilot_sites == 5 && r.ratio == ratio)
                .and_then(|r| r.power)
                .unwrap()
        };
        for outcome in [Outcome::SwChanges, Outcome::PlacementMoves, Outcome::TimeToPlacementMove] {
            assert!(power(outcome, 0.5) > power(outcome, 1.0) + 0.4, "{outcome}");
        }
        let m = one
            .minimum_detectable
            .iter()
            .find(|m| m.outcome == Outcome::SwChanges && m.pilot_sites == 5)
            .and_then(|m| m.ratio)
            .unwrap();
        assert!((0.5..1.0).contains(&m), "{m}");
    }

    /// When the data do not reach back to the placebo's moved baseline (moved 120 months), the
    /// placebo evaluations come from the 6 control sites at the real index dates, and with
    /// 6 sites no number of pilot sites has enough assignments for p below 0.05 (C(6, 3) = 20
    /// at most): nothing is simulated, and the warnings say why.
    #[test]
    fn without_the_placebo_in_time_the_control_sites_serve_and_too_few_assignments_are_said() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let loaded = swp_data::load(&root.join("data/sample")).unwrap();
        let mut config = Config::default();
        config.power.enabled = true;
        config.power.simulations = 20;
        config.power.pilot_sites = vec![3, 5, 6];
        config.placebo.shift_months = Some(120);
        config.specification_curve.enabled = false;
        let results = Evaluation::new(config).unwrap().run(&loaded.dataset).unwrap();
        let power = results.power.unwrap();
        assert!(results.placebo.is_none());
        assert_eq!((power.source_sites, power.shift_months), (6, None));
        assert!(power.rows.is_empty() && power.minimum_detectable.is_empty());
        let warned = |start: &str| power.warnings.iter().any(|w| w.starts_with(start));
        assert!(warned("the placebo in time's sites are not available"), "{:?}", power.warnings);
        assert!(
            warned("3 pilot sites not simulated: 3 of 6 sites can be chosen in only 20 ways"),
            "{:?}",
            power.warnings
        );
        assert!(warned("5 pilot sites not simulated") && warned("6 pilot sites not simulated"), "{:?}", power.warnings);
    }

    #[test]
    fn power_settings_are_checked() {
        for (toml, key) in [
            ("[power]\nratios = [1.2]\n", "power.ratios"),
            ("[power]\nratios = []\n", "power.ratios"),
            ("[power]\nsimulations = 5\n", "power.simulations"),
            ("[power]\npilot_sites = [0]\n", "power.pilot_sites"),
            ("[power]\ntarget = 1.5\n", "power.target"),
            ("[power]\nbootstrap_reps = 1\n", "power.bootstrap_reps"),
        ] {
            let e = Config::from_toml(toml).unwrap().check().unwrap_err().to_string();
            assert!(e.contains(key), "{toml}: {e}");
        }
    }
}
