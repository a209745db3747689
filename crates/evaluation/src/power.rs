//! Power and the minimum detectable effect with few pilot sites, by simulation from the data at
//! hand.
//!
//! A simulated evaluation is built from the control sites of the evaluation's cohort, so that no
//! pilot effect is in it, and keeps their site-to-site variation, which is what limits an
//! evaluation of five pilots:
//!
//! 1. `k` *placebo pilot* sites and as many control sites as the evaluation has are drawn with
//!    replacement, independently, from the control sites (both arms from one population, so no
//!    effect; the sites' own variation, which limits an evaluation of few sites, is kept);
//! 2. a control copy of a site is the site whole (clusters resampled whole: Davison and Hinkley
//!    1997, section 3.8; resampling the children within them too would count the children's
//!    variation twice); a placebo pilot copy is a subsample without replacement as large as one
//!    of the evaluation's pilot sites (their sizes taken in turn, in random order), since pilots
//!    are often smaller than comparison authorities and power depends on it; the children a
//!    placebo pilot took are left out of that site's control copies, so no child is in both arms
//!    (it would be matched to itself);
//! 3. the config's matching is rerun on the simulated cohort;
//! 4. an effect is planted in the placebo pilots' outcomes, for each ratio `r` of the grid:
//!    counts are thinned (each event kept with probability `r`: a Poisson process thinned so is
//!    one with rate ratio `r`), a binary outcome of 1 becomes 0 with probability `1 - r` (risk
//!    ratio `r`), and the first event of a time to event is kept with probability `r`, else the
//!    child is censored at that time (a hazard ratio of `r` under proportional hazards: the
//!    removed events are an independent competing censoring). The same uniform draws serve every
//!    ratio, so one simulation's planted outcomes are nested from the smallest effect to the
//!    largest;
//! 5. the evaluation's test is run: the wild cluster bootstrap (WCR, the config's weights) of the
//!    rate or risk difference for counts and the binary outcome, the Cox model's site-clustered
//!    robust Wald test (t on G - 1 df) for times to event.
//!
//! Power is the share of simulations rejecting at `alpha`; the simulations at ratio 1 give the
//! test's size, and the size-adjusted power rejects at their own `alpha`-quantile instead (a site
//! drawn twice is two identical clusters to the test, so with few control sites the simulated
//! test rejects too often and the nominal power over-states; the two bracket the truth in
//! `benches/scripts/power_check.sh`). The minimum detectable effect is where the power curve
//! crosses the target, interpolated linearly in log ratio between grid points. More placebo
//! pilots than control sites are not simulated. With stacks the control sites' rows are
//! stack rows (a control child once per stack it is eligible in), resampled as they are: a
//! placebo pilot copy can then hold one child in several stacks, as the controls do. Every simulation has its own random stream, so
//! the results do not depend on the number of threads.

use crate::config::{PowerConfig, ValidConfig};
use crate::pipeline::cohort::Cohort;
use crate::pipeline::effects as estimates;
use crate::pipeline::matching::Sample;
use crate::pipeline::matching::{self, matched_sample};
use crate::pipeline::{Evaluation, Progress, Stage};
use crate::results::{MinimumDetectable, PowerResult, PowerRow};
use crate::vocab::{EstimateType, Kind, Outcome};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use swp_stats::bootstrap::{BootType, WildParams};
use swp_stats::regression::Inference;
use swp_stats::rng::Rng;
use swp_stats::survival::cox_weighted;

/// What is tested for each outcome.
fn test_of(outcome: Outcome) -> (&'static str, EstimateType) {
    match outcome.kind() {
        Kind::Count => ("wild_cluster_bootstrap", EstimateType::RateRatio),
        Kind::Binary => ("wild_cluster_bootstrap", EstimateType::RiskRatio),
        _ => ("cox_robust", EstimateType::HazardRatio),
    }
}

/// One simulated cohort: the children (rows of the evaluation's cohort), their new sites (0..k
/// are placebo pilots) and arms. Sites are drawn independently for both arms, with replacement,
/// from all control sites (so both arms come from one population: no effect). A placebo pilot
/// copy of a site is a subsample without replacement of the size of one of the pilot sites (the
/// pilots' sizes taken in turn, in random order; copies of one site take disjoint subsamples
/// while the site has children left); a control copy is the site whole, less the children its
/// placebo pilot copies took, so no child is in both arms.
fn simulated_rows(
    by_site: &[Vec<usize>],
    pilot_sizes: &[usize],
    pilot_sites: usize,
    control_sites: usize,
    rng: &mut Rng,
) -> (Vec<usize>, Vec<u32>, Vec<bool>) {
    let s = by_site.len();
    let draw = |rng: &mut Rng| rng.range(0, s as i64 - 1) as usize;
    let pilot_sources: Vec<usize> = (0..pilot_sites).map(|_| draw(rng)).collect();
    let control_sources: Vec<usize> = (0..control_sites).map(|_| draw(rng)).collect();
    let mut sizes: Vec<usize> = pilot_sizes.to_vec();
    rng.shuffle(&mut sizes);
    // each drawn site's children in a random order; pilot copies take consecutive runs of it
    let mut order: Vec<Option<Vec<usize>>> = vec![None; s];
    let mut taken = vec![0usize; s];
    let mut rows = Vec::new();
    let mut site = Vec::new();
    let mut treated = Vec::new();
    for (j, &source) in pilot_sources.iter().enumerate() {
        let members = order[source].get_or_insert_with(|| {
            let mut m = by_site[source].clone();
            rng.shuffle(&mut m);
            m
        });
        let size = if sizes.is_empty() { members.len() } else { sizes[j % sizes.len()] };
        for k in 0..size {
            rows.push(members[(taken[source] + k) % members.len()]);
            site.push(j as u32);
            treated.push(true);
        }
        taken[source] = (taken[source] + size).min(members.len());
    }
    for (j, &source) in control_sources.iter().enumerate() {
        let rest: &[usize] = match &order[source] {
            Some(members) => &members[taken[source]..],
            None => &by_site[source],
        };
        for &r in rest {
            rows.push(r);
            site.push((pilot_sites + j) as u32);
            treated.push(false);
        }
    }
    (rows, site, treated)
}

/// The planted outcome of one matched sample, for one ratio, from fixed uniform draws.
struct Planting<'a> {
    sample: &'a Sample,
    /// Per child, its uniform draws (one per event for counts, one otherwise).
    draws: Vec<Vec<f64>>,
}

impl<'a> Planting<'a> {
    fn new(sample: &'a Sample, events: &[f64], rng: &mut Rng) -> Self {
        let draws = sample
            .treated
            .iter()
            .zip(events)
            .map(|(&t, &e)| if t { (0..e.max(0.0) as usize).map(|_| rng.uniform()).collect() } else { Vec::new() })
            .collect();
        Planting { sample, draws }
    }

    /// Counts thinned at `ratio` (pilot children only).
    fn thinned(&self, y: &[f64], ratio: f64) -> Vec<f64> {
        y.iter()
            .zip(&self.draws)
            .zip(&self.sample.treated)
            .map(|((&y, d), &t)| if t { d.iter().filter(|&&u| u < ratio).count() as f64 } else { y })
            .collect()
    }
}

/// The test's p-value for one outcome on a matched sample with planted values.
fn p_value(
    outcome: Outcome,
    sample: &Sample,
    y: &[f64],
    exposure: &[f64],
    time: &[f64],
    wild: &WildParams,
) -> Option<f64> {
    let x = sample.design();
    match outcome {
        Outcome::SwChanges | Outcome::PlacementMoves => {
            if sample.total(y, true) == 0.0 && sample.total(y, false) == 0.0 {
                return None;
            }
            let rate: Vec<f64> = y.iter().zip(exposure).map(|(c, e)| c / e).collect();
            let w: Vec<f64> = sample.weights.iter().zip(exposure).map(|(a, b)| a * b).collect();
            estimates::wild(&x, &rate, &w, sample, wild, outcome.as_str(), false).ok().and_then(|b| b.p)
        }
        Outcome::ThreePlusPlacements => {
            estimates::wild(&x, y, &sample.weights, sample, wild, outcome.as_str(), false).ok().and_then(|b| b.p)
        }
        _ => {
            let event: Vec<bool> = y.iter().map(|&e| e > 0.0).collect();
            let cox = cox_weighted(time, &event, &sample.treated, &sample.weights, Some(&sample.site)).ok()?;
            let g = cox.clusters as f64;
            let se = cox.se_robust * (g / (g - 1.0)).sqrt();
            let p = Inference::t(cox.coef, se, g - 1.0).p_value;
            p.is_finite().then_some(p)
        }
    }
}

/// Per outcome and ratio (1 first, then the grid): the simulated evaluation's p-value.
type Rejections = Vec<Vec<Option<f64>>>;

/// What every simulated evaluation shares: the config, the power settings and the evaluation's
/// cohort split into its control sites' children and its pilots' sizes.
struct Simulation<'a> {
    config: &'a ValidConfig,
    power: &'a PowerConfig,
    cohort: &'a Cohort,
    by_site: Vec<Vec<usize>>,
    pilot_sizes: Vec<usize>,
}

impl Simulation<'_> {
    /// One simulated evaluation with `pilot_sites` placebo pilots (see the module
    /// documentation): per outcome, each ratio's p-value (1 first).
    fn once(&self, pilot_sites: usize, stream: u64) -> Rejections {
        let (config, power, cohort) = (self.config, self.power, self.cohort);
        let (by_site, pilot_sizes, control_sites) = (&self.by_site, &self.pilot_sizes, self.by_site.len());
        let outcomes = config.outcomes();
        let ratios: Vec<f64> = std::iter::once(1.0).chain(power.ratios.iter().copied()).collect();
        let failed = || vec![vec![None; ratios.len()]; outcomes.len()];
        let mut rng = Rng::new(config.inference().seed, stream);
        let (rows, site, treated) = simulated_rows(by_site, pilot_sizes, pilot_sites, control_sites, &mut rng);
        let simulated = cohort.resample(&rows, site, treated);
        let Ok((covariates, dropped)) = matching::covariates(config, &simulated) else { return failed() };
        let Ok(matching) = matching::run(config, &simulated, &covariates, &dropped, &|_, p, d| p.propensity_as_r(d))
        else {
            return failed();
        };
        let (matched, sample) = matched_sample(&simulated, &matching);
        if !sample.treated.iter().any(|&t| t) || sample.treated.iter().all(|&t| t) {
            return failed();
        }
        let wild = WildParams {
            reps: power.bootstrap_reps,
            weights: config.inference().bootstrap_weights,
            kind: BootType::Wcr,
            seed: config.inference().seed ^ stream.rotate_left(17),
        };
        let pick = |v: &[f64]| -> Vec<f64> { matched.iter().map(|&i| v[i]).collect() };
        let as_number = |v: &[bool]| -> Vec<f64> { matched.iter().map(|&i| f64::from(u8::from(v[i]))).collect() };
        let exposure = pick(&simulated.exposure_years);
        outcomes
            .iter()
            .map(|&outcome| {
                let (y, time) = match outcome {
                    Outcome::SwChanges => (pick(&simulated.sw_changes), Vec::new()),
                    Outcome::PlacementMoves => (pick(&simulated.placement_moves), Vec::new()),
                    Outcome::ThreePlusPlacements => (pick(&simulated.three_plus_placements), Vec::new()),
                    Outcome::TimeToSwChange => {
                        (as_number(&simulated.sw_change_event), pick(&simulated.time_to_sw_change))
                    }
                    Outcome::TimeToPlacementMove | Outcome::CostPerChildYear => {
                        (as_number(&simulated.placement_move_event), pick(&simulated.time_to_placement_move))
                    }
                };
                let planting = Planting::new(&sample, &y, &mut rng);
                ratios
                    .iter()
                    .map(|&ratio| {
                        let planted = planting.thinned(&y, ratio);
                        p_value(outcome, &sample, &planted, &exposure, &time, &wild)
                    })
                    .collect()
            })
            .collect()
    }
}

/// The power simulation on the evaluation's cohort (before matching), with the config's
/// `[power]` settings `p`.
pub(crate) fn power(evaluation: &Evaluation, p: &PowerConfig, cohort: &Cohort, progress: &dyn Progress) -> PowerResult {
    let config = evaluation.config();
    let sites_of = |treated: bool| {
        let mut s: Vec<u32> =
            (0..cohort.len()).filter(|&i| cohort.treated[i] == treated).map(|i| cohort.site[i]).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let pilots = sites_of(true);
    let controls = sites_of(false);
    let pilot_sizes: Vec<usize> = pilots
        .iter()
        .map(|&s| (0..cohort.len()).filter(|&i| cohort.treated[i] && cohort.site[i] == s).count())
        .collect();
    let by_site: Vec<Vec<usize>> = controls
        .iter()
        .map(|&s| (0..cohort.len()).filter(|&i| !cohort.treated[i] && cohort.site[i] == s).collect())
        .collect();
    let mut pilot_sites: Vec<usize> =
        if p.pilot_sites.is_empty() { vec![pilots.len(), 10, 20] } else { p.pilot_sites.clone() };
    pilot_sites.sort_unstable();
    pilot_sites.dedup();
    let outcomes = config.outcomes();
    let ratios: Vec<f64> = std::iter::once(1.0).chain(p.ratios.iter().copied()).collect();
    let mut result = PowerResult {
        method: format!(
            "{} simulated evaluations per number of pilot sites, built from the {} control sites \
                 (drawn with replacement; controls whole, placebo pilots subsampled to the pilot \
                 sites' sizes, no child in both arms); the matching rerun; effects planted in \
                 the placebo pilots' outcomes by thinning events; wild cluster bootstrap ({} \
                 replications) for counts and the binary outcome, the Cox robust test for times to \
                 event; alpha {}",
            p.simulations,
            controls.len(),
            p.bootstrap_reps,
            p.alpha
        ),
        simulations: p.simulations,
        bootstrap_reps: p.bootstrap_reps,
        alpha: p.alpha,
        target: p.target,
        seed: config.inference().seed,
        observed_pilot_sites: pilots.len(),
        source_sites: controls.len(),
        rows: Vec::new(),
        minimum_detectable: Vec::new(),
        warnings: Vec::new(),
    };
    if controls.len() < 2 {
        result.warnings.push(format!(
            "power not simulated: it needs at least two control sites in the cohort, and there are {}",
            controls.len()
        ));
        return result;
    }
    // more placebo pilots than control sites would take the same sites' children again and
    // again and leave their control copies empty: such numbers are not simulated
    let too_many: Vec<usize> = pilot_sites.iter().copied().filter(|&k| k > controls.len()).collect();
    if !too_many.is_empty() {
        result.warnings.push(format!(
                "{} pilot sites not simulated: placebo pilots are drawn from the {} control sites, so at most {} can be simulated",
                too_many.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and "),
                controls.len(),
                controls.len()
            ));
        pilot_sites.retain(|k| !too_many.contains(k));
    }
    let jobs: Vec<(usize, usize)> = pilot_sites.iter().flat_map(|&k| (0..p.simulations).map(move |r| (k, r))).collect();
    let done = AtomicU64::new(0);
    let simulation = Simulation { config, power: p, cohort, by_site, pilot_sizes };
    let results: Vec<Rejections> = jobs
        .par_iter()
        .map(|&(k, r)| {
            let stream = ((k as u64) << 32) | r as u64;
            let out = simulation.once(k, stream);
            progress.tick(Stage::Power, done.fetch_add(1, Ordering::Relaxed) + 1, jobs.len() as u64);
            out
        })
        .collect();
    let rows = Rows { p, outcomes, ratios: &ratios, control_sites: controls.len() };
    for &k in &pilot_sites {
        let these: Vec<&Rejections> =
            jobs.iter().zip(&results).filter(|((kk, _), _)| *kk == k).map(|(_, r)| r).collect();
        rows.add(&mut result, k, &these);
    }
    size_warning(&mut result, p, controls.len());
    result
}

/// The power rows' settings.
struct Rows<'a> {
    p: &'a PowerConfig,
    outcomes: &'a [Outcome],
    ratios: &'a [f64],
    control_sites: usize,
}

impl Rows<'_> {
    /// The rows and minimum detectable effects of `k` pilot sites from its simulations.
    fn add(&self, result: &mut PowerResult, k: usize, these: &[&Rejections]) {
        let (p, outcomes, ratios) = (self.p, self.outcomes, self.ratios);
        for (o, &outcome) in outcomes.iter().enumerate() {
            let (test, effect_type) = test_of(outcome);
            let mut curve = Vec::new();
            // the simulated test's own alpha-quantile under no effect
            let critical = {
                let mut null: Vec<f64> = these.iter().filter_map(|r| r[o][0]).collect();
                null.sort_by(f64::total_cmp);
                null.get((p.alpha * null.len() as f64).floor() as usize).copied()
            };
            for (j, &ratio) in ratios.iter().enumerate() {
                let tests: Vec<f64> = these.iter().filter_map(|r| r[o][j]).collect();
                let n = tests.len();
                let share = |c: f64| tests.iter().filter(|&&q| q < c).count() as f64 / n as f64;
                let power = (n > 0).then(|| share(p.alpha));
                let power_size_adjusted = critical.filter(|_| n > 0).map(share);
                curve.push((ratio, power));
                result.rows.push(PowerRow {
                    outcome,
                    test,
                    effect_type,
                    pilot_sites: k,
                    control_sites: self.control_sites,
                    ratio,
                    power,
                    power_size_adjusted,
                    mc_se: power.map(|q| (q * (1.0 - q) / n as f64).sqrt()),
                    simulations: n,
                    failed: these.len() - n,
                });
            }
            let adjusted: Vec<(f64, Option<f64>)> = result
                .rows
                .iter()
                .filter(|r| r.outcome == outcome && r.pilot_sites == k)
                .map(|r| (r.ratio, r.power_size_adjusted))
                .collect();
            result.minimum_detectable.push(MinimumDetectable {
                outcome,
                effect_type,
                pilot_sites: k,
                ratio: minimum_detectable(&curve, p.target),
                ratio_size_adjusted: minimum_detectable(&adjusted, p.target),
                size: curve[0].1,
            });
        }
    }
}

/// A simulated test far above its nominal size over-states power: say so.
fn size_warning(result: &mut PowerResult, p: &PowerConfig, controls: usize) {
    let worst = result.minimum_detectable.iter().filter_map(|m| Some((m.size?, m))).max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((size, m)) = worst.filter(|(size, _)| *size > 2.0 * p.alpha) {
        result.warnings.push(format!(
                "with {} control sites to draw from, the simulated test rejects up to {:.0}% of the time with no effect planted ({} with {} pilot sites; nominal {:.0}%): a site drawn twice is two identical clusters to the test, so the power here is over-stated; read the size-adjusted power and minimum detectable effect beside it",
                controls,
                100.0 * size,
                m.outcome.as_str().replace('_', " "),
                m.pilot_sites,
                100.0 * p.alpha
            ));
    }
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

    #[test]
    fn no_child_is_in_both_arms_of_a_simulated_evaluation() {
        let by_site: Vec<Vec<usize>> = (0..6).map(|s| (s * 10..s * 10 + 10).collect()).collect();
        for stream in 0..50 {
            let mut rng = Rng::new(1, stream);
            let (rows, site, treated) = simulated_rows(&by_site, &[3, 7], 5, 6, &mut rng);
            // placebo pilots take the pilot sizes in turn (3 and 7, then again)
            let sizes: Vec<usize> = (0..5).map(|j| site.iter().filter(|&&s| s == j).count()).collect();
            assert!(sizes == [3, 7, 3, 7, 3] || sizes == [7, 3, 7, 3, 7], "{sizes:?}");
            assert!(site.iter().zip(&treated).all(|(&s, &t)| (s < 5) == t));
            let child = |arm: bool| -> Vec<usize> {
                rows.iter().zip(&treated).filter(|(_, &t)| t == arm).map(|(&r, _)| r).collect()
            };
            let (pilot, control) = (child(true), child(false));
            assert!(pilot.iter().all(|r| !control.contains(r)), "a child in both arms");
            // a control copy is its site whole, less what placebo pilots of that site took
            for j in 5..11u32 {
                let copy: Vec<usize> = rows.iter().zip(&site).filter(|(_, &s)| s == j).map(|(&r, _)| r).collect();
                if let Some(source) = copy.first().map(|r| r / 10) {
                    let used = pilot.iter().filter(|&&r| r / 10 == source).count().min(10);
                    assert_eq!(copy.len(), 10 - used, "copy {j} of site {source}");
                    assert!(copy.iter().all(|r| r / 10 == source));
                }
            }
        }
    }

    #[test]
    fn thinning_plants_the_ratio_and_is_monotone_in_it() {
        let n = 4000;
        let sample = Sample {
            treated: (0..n).map(|i| i % 2 == 0).collect(),
            weights: vec![1.0; n],
            site: (0..n).map(|i| i % 8).collect(),
            stack: vec![0; n],
            subclass: None,
            covariates: None,
        };
        let y: Vec<f64> = (0..n).map(|i| (i % 5) as f64).collect();
        let planting = Planting::new(&sample, &y, &mut Rng::new(3, 0));
        let total = |v: &[f64], t: bool| -> f64 {
            v.iter().zip(&sample.treated).filter(|(_, &x)| x == t).map(|(y, _)| y).sum()
        };
        let (half, most) = (planting.thinned(&y, 0.5), planting.thinned(&y, 0.8));
        assert_eq!(total(&half, false), total(&y, false));
        let ratio = total(&half, true) / total(&y, true);
        assert!((ratio - 0.5).abs() < 0.03, "{ratio}");
        assert!(half.iter().zip(&most).all(|(a, b)| a <= b));
        assert_eq!(planting.thinned(&y, 1.0), y);
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
        config.power.simulations = 40;
        config.power.pilot_sites = vec![4, 5, 8];
        config.power.bootstrap_reps = 199;
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| Evaluation::new(config).unwrap().run(&loaded.dataset).unwrap().power.unwrap())
    }

    /// On the bundled data: the same numbers on one thread and on three; every simulated
    /// evaluation gives a test; a planted rate ratio of 0.5 is detected far more often than
    /// no effect (the planting reaches the test), and the minimum detectable ratio lies
    /// between them.
    #[test]
    fn power_is_thread_independent_and_rises_with_the_planted_effect() {
        let one = bundled_power(1);
        let three = bundled_power(3);
        assert_eq!(one, three);
        assert_eq!(one.observed_pilot_sites, 5);
        // 8 placebo pilots cannot be drawn from the 6 comparison sites: skipped, with a warning
        assert_eq!(one.rows.len(), 2 * 5 * 6);
        assert!(one.warnings.iter().any(|w| w.starts_with("8 pilot sites not simulated")), "{:?}", one.warnings);
        assert!(one.rows.iter().all(|r| r.pilot_sites != 8));
        assert!(one.rows.iter().all(|r| r.simulations + r.failed == 40));
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
