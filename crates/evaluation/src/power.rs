//! Power and the minimum detectable effect with few pilot sites, by simulation from the data at
//! hand (issue "How far can the conclusions be trusted", part 3).
//!
//! A simulated evaluation is built from the control sites of the evaluation's cohort, so that no
//! pilot effect is in it, and keeps their site-to-site variation, which is what limits an
//! evaluation of five pilots:
//!
//! 1. each control site's eligible children are split at random into two halves, one for placebo
//!    pilot copies of the site and one for control copies, so that no child can be matched to a
//!    copy of itself; the split pairs children of adjacent outcome and sends one of each pair to
//!    each half, so both halves have the site's outcome distribution (a split at random would
//!    leave the halves' means apart by chance, an effect the simulation did not plant);
//! 2. `k` *placebo pilot* sites and as many control sites as the evaluation has are drawn with
//!    replacement, independently, from all control sites (so both arms come from one
//!    population); each drawn site's children are resampled with replacement from its half (the
//!    two-stage cluster bootstrap of Field and Welsh 2007, sites then children): a control copy
//!    as many as its site has, a placebo pilot as many as one of the evaluation's pilot sites
//!    has (the pilots' sizes taken in turn, in random order), since pilots are often smaller
//!    than comparison authorities and power depends on it;
//! 3. the config's matching is rerun on the simulated cohort (for each outcome, as the split is
//!    by outcome);
//! 4. an effect is planted in the placebo pilots' outcomes, for each ratio `r` of the grid:
//!    counts are thinned (each event kept with probability `r`: a Poisson process thinned so is
//!    one with rate ratio `r`), a binary outcome of 1 becomes 0 with probability `1 - r` (risk
//!    ratio `r`), and the first event of a time to event is kept with probability `r`, else the
//!    child is censored at that time (a hazard ratio of `r` under proportional hazards: the
//!    removed events are an independent competing censoring). The same uniform draws serve every
//!    ratio, so the power curve of one simulation is monotone in the effect;
//! 5. the evaluation's test is run: the wild cluster bootstrap (WCR, the config's weights) of the
//!    rate or risk difference for counts and the binary outcome, the Cox model's site-clustered
//!    robust Wald test (t on G - 1 df) for times to event.
//!
//! Power is the share of simulations rejecting at `alpha`; the simulations at ratio 1 give the
//! test's size. The minimum detectable effect is where the power curve crosses the target,
//! interpolated linearly in log ratio between grid points. Every simulation has its own random
//! stream, so the results do not depend on the number of threads.

use crate::cohort::Cohort;
use crate::estimates::{self, Sample};
use crate::{matched_sample, Evaluation};
use rayon::prelude::*;
use serde::Serialize;
use swp_stats::bootstrap::{BootType, WildParams};
use swp_stats::regression::Inference;
use swp_stats::rng::Rng;
use swp_stats::survival::cox_weighted;

/// The power of one test at one planted effect and number of pilot sites (`power.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerRow {
    /// Outcome.
    pub outcome: String,
    /// Test: `wild_cluster_bootstrap` or `cox_robust`.
    pub test: &'static str,
    /// The planted effect measure: `rate_ratio`, `risk_ratio` or `hazard_ratio`.
    pub effect_type: &'static str,
    /// Pilot sites simulated.
    pub pilot_sites: usize,
    /// Control sites simulated (as in the evaluation).
    pub control_sites: usize,
    /// Planted ratio (1: no effect, the size of the test).
    pub ratio: f64,
    /// Share of simulations rejecting at alpha.
    pub power: Option<f64>,
    /// Its Monte Carlo standard error, sqrt(p (1 - p) / simulations).
    pub mc_se: Option<f64>,
    /// Simulations that gave a test.
    pub simulations: usize,
    /// Simulations that gave none (no match, no events in an arm, a model failure).
    pub failed: usize,
}

/// The smallest planted effect detected with the target power.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinimumDetectable {
    /// Outcome.
    pub outcome: String,
    /// The ratio's measure.
    pub effect_type: &'static str,
    /// Pilot sites simulated.
    pub pilot_sites: usize,
    /// The ratio at which power reaches the target (None: not within the grid).
    pub ratio: Option<f64>,
    /// The test's rejection rate with no effect planted (its size).
    pub size: Option<f64>,
}

/// The power simulation's results (`power.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerResult {
    /// How the simulated evaluations were built (for the report).
    pub method: String,
    /// Simulations per number of pilot sites.
    pub simulations: usize,
    /// Wild bootstrap replications per simulated evaluation.
    pub bootstrap_reps: usize,
    /// Significance level.
    pub alpha: f64,
    /// Target power of the minimum detectable effect.
    pub target: f64,
    /// Seed of the simulation (the config's inference seed).
    pub seed: u64,
    /// Pilot sites in the evaluation.
    pub observed_pilot_sites: usize,
    /// Control sites the simulated evaluations draw from.
    pub source_sites: usize,
    /// One row per outcome, number of pilot sites and ratio.
    pub rows: Vec<PowerRow>,
    /// One row per outcome and number of pilot sites.
    pub minimum_detectable: Vec<MinimumDetectable>,
    /// Why the simulation could not run, if it could not.
    pub warnings: Vec<String>,
}

/// What is tested for each outcome.
fn test_of(outcome: &str) -> (&'static str, &'static str) {
    match outcome {
        "sw_changes" | "placement_moves" => ("wild_cluster_bootstrap", "rate_ratio"),
        "three_plus_placements" => ("wild_cluster_bootstrap", "risk_ratio"),
        _ => ("cox_robust", "hazard_ratio"),
    }
}

/// One simulated cohort: the resampled children (rows of the evaluation's cohort), their new
/// sites (0..k are placebo pilots) and arms. Sites are drawn independently for both arms from all
/// control sites (so both arms come from one population: no effect). So that no child can be
/// matched to a copy of itself, each site's children are split in two halves, pilot copies
/// resampling from one and control copies from the other; the split pairs children of adjacent
/// outcome (`key`: the outcome, then its time or exposure) and sends one of each pair to each
/// half at random, so the halves have the same outcome distribution up to one child.
fn simulated_rows(
    by_site: &[Vec<usize>],
    key: &dyn Fn(usize) -> (f64, f64),
    pilot_sizes: &[usize],
    pilot_sites: usize,
    control_sites: usize,
    rng: &mut Rng,
) -> (Vec<usize>, Vec<u32>, Vec<bool>) {
    let halves: Vec<[Vec<usize>; 2]> = by_site
        .iter()
        .map(|members| {
            let mut m = members.clone();
            for i in (1..m.len()).rev() {
                m.swap(i, rng.range(0, i as i64) as usize);
            }
            // stable: ties stay in their random order
            m.sort_by(|&a, &b| {
                let (ka, kb) = (key(a), key(b));
                ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
            });
            let mut halves = [Vec::with_capacity(m.len() / 2 + 1), Vec::with_capacity(m.len() / 2 + 1)];
            for pair in m.chunks(2) {
                let first = usize::from(rng.chance(0.5));
                halves[first].push(pair[0]);
                if let Some(&second) = pair.get(1) {
                    halves[1 - first].push(second);
                }
            }
            halves
        })
        .collect();
    // placebo pilots take the pilot sites' sizes (each size as often as the others), controls
    // their own site's
    let mut sizes: Vec<usize> = pilot_sizes.to_vec();
    for i in (1..sizes.len()).rev() {
        sizes.swap(i, rng.range(0, i as i64) as usize);
    }
    let mut rows = Vec::new();
    let mut site = Vec::new();
    let mut treated = Vec::new();
    for j in 0..pilot_sites + control_sites {
        let source = rng.range(0, by_site.len() as i64 - 1) as usize;
        let half = &halves[source][usize::from(j >= pilot_sites)];
        let half = if half.is_empty() { &halves[source][usize::from(j < pilot_sites)] } else { half };
        let size = if j < pilot_sites && !sizes.is_empty() { sizes[j % sizes.len()] } else { by_site[source].len() };
        for _ in 0..size {
            rows.push(half[rng.range(0, half.len() as i64 - 1) as usize]);
            site.push(j as u32);
            treated.push(j < pilot_sites);
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
    outcome: &str,
    sample: &Sample,
    y: &[f64],
    exposure: &[f64],
    time: &[f64],
    wild: &WildParams,
) -> Option<f64> {
    let x = sample.design();
    match outcome {
        "sw_changes" | "placement_moves" => {
            if sample.total(y, true) == 0.0 && sample.total(y, false) == 0.0 {
                return None;
            }
            let rate: Vec<f64> = y.iter().zip(exposure).map(|(c, e)| c / e).collect();
            let w: Vec<f64> = sample.weights.iter().zip(exposure).map(|(a, b)| a * b).collect();
            estimates::wild_p(&x, &rate, &w, sample, wild, outcome).ok().flatten()
        }
        "three_plus_placements" => estimates::wild_p(&x, y, &sample.weights, sample, wild, outcome).ok().flatten(),
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

/// Per outcome and ratio (1 first, then the grid): whether the simulated evaluation rejected.
type Rejections = Vec<Vec<Option<bool>>>;

impl Evaluation {
    /// One simulated evaluation (see the module documentation): per outcome, whether each ratio
    /// (1 first) was rejected.
    fn simulate_once(
        &self,
        cohort: &Cohort,
        by_site: &[Vec<usize>],
        pilot_sizes: &[usize],
        pilot_sites: usize,
        control_sites: usize,
        stream: u64,
    ) -> Rejections {
        let config = &self.config;
        let power = &config.raw.power;
        let ratios: Vec<f64> = std::iter::once(1.0).chain(power.ratios.iter().copied()).collect();
        let mut rng = Rng::new(config.inference.seed, stream);
        let wild = WildParams {
            reps: power.bootstrap_reps,
            weights: config.inference.bootstrap_weights,
            kind: BootType::Wcr,
            seed: config.inference.seed ^ stream.rotate_left(17),
        };
        let event = |v: &[bool], i: usize| f64::from(u8::from(v[i]));
        crate::primary_outcomes(config)
            .into_iter()
            .map(|outcome| {
                let key = |i: usize| -> (f64, f64) {
                    match outcome {
                        "sw_changes" => (cohort.sw_changes[i], cohort.exposure_years[i]),
                        "placement_moves" => (cohort.placement_moves[i], cohort.exposure_years[i]),
                        "three_plus_placements" => (cohort.three_plus_placements[i], cohort.exposure_years[i]),
                        "time_to_sw_change" => (event(&cohort.sw_change_event, i), cohort.time_to_sw_change[i]),
                        _ => (event(&cohort.placement_move_event, i), cohort.time_to_placement_move[i]),
                    }
                };
                let (rows, site, treated) =
                    simulated_rows(by_site, &key, pilot_sizes, pilot_sites, control_sites, &mut rng);
                let simulated = cohort.resample(&rows, site, treated);
                let Ok((_, _, matching)) = self.matching(&simulated) else { return vec![None; ratios.len()] };
                let (matched, sample) = matched_sample(&simulated, &matching);
                if !sample.treated.iter().any(|&t| t) || sample.treated.iter().all(|&t| t) {
                    return vec![None; ratios.len()];
                }
                let y: Vec<f64> = matched.iter().map(|&i| key(rows[i]).0).collect();
                let time: Vec<f64> = matched.iter().map(|&i| key(rows[i]).1).collect();
                let exposure: Vec<f64> = matched.iter().map(|&i| simulated.exposure_years[i]).collect();
                let planting = Planting::new(&sample, &y, &mut rng);
                ratios
                    .iter()
                    .map(|&ratio| {
                        let planted = planting.thinned(&y, ratio);
                        p_value(outcome, &sample, &planted, &exposure, &time, &wild).map(|p| p < power.alpha)
                    })
                    .collect()
            })
            .collect()
    }

    /// The power simulation on the evaluation's cohort (before matching).
    pub(crate) fn power(&self, cohort: &Cohort, progress: &(dyn Fn() + Sync)) -> PowerResult {
        let config = &self.config;
        let p = &config.raw.power;
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
        let outcomes = crate::primary_outcomes(config);
        let ratios: Vec<f64> = std::iter::once(1.0).chain(p.ratios.iter().copied()).collect();
        let mut result = PowerResult {
            method: format!(
                "{} simulated evaluations per number of pilot sites, built from the {} control sites \
                 (placebo pilot and control sites drawn with replacement, their children \
                 resampled from disjoint halves, placebo pilots as large as the pilot sites); the matching rerun; effects planted in \
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
            seed: config.inference.seed,
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
        let jobs: Vec<(usize, usize)> =
            pilot_sites.iter().flat_map(|&k| (0..p.simulations).map(move |r| (k, r))).collect();
        let results: Vec<Rejections> = jobs
            .par_iter()
            .map(|&(k, r)| {
                let stream = ((k as u64) << 32) | r as u64;
                let out = self.simulate_once(cohort, &by_site, &pilot_sizes, k, controls.len(), stream);
                progress();
                out
            })
            .collect();
        for &k in &pilot_sites {
            let these: Vec<&Rejections> =
                jobs.iter().zip(&results).filter(|((kk, _), _)| *kk == k).map(|(_, r)| r).collect();
            for (o, &outcome) in outcomes.iter().enumerate() {
                let (test, effect_type) = test_of(outcome);
                let mut curve = Vec::new();
                for (j, &ratio) in ratios.iter().enumerate() {
                    let tests: Vec<bool> = these.iter().filter_map(|r| r[o][j]).collect();
                    let n = tests.len();
                    let power = (n > 0).then(|| tests.iter().filter(|&&t| t).count() as f64 / n as f64);
                    curve.push((ratio, power));
                    result.rows.push(PowerRow {
                        outcome: outcome.to_string(),
                        test,
                        effect_type,
                        pilot_sites: k,
                        control_sites: controls.len(),
                        ratio,
                        power,
                        mc_se: power.map(|q| (q * (1.0 - q) / n as f64).sqrt()),
                        simulations: n,
                        failed: these.len() - n,
                    });
                }
                result.minimum_detectable.push(MinimumDetectable {
                    outcome: outcome.to_string(),
                    effect_type,
                    pilot_sites: k,
                    ratio: minimum_detectable(&curve, p.target),
                    size: curve[0].1,
                });
            }
        }
        result
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
            let key = |i: usize| ((i % 3) as f64, 0.0);
            let (rows, site, treated) = simulated_rows(&by_site, &key, &[3, 7], 5, 6, &mut rng);
            // placebo pilots take the pilot sizes in turn (3 and 7, twice each, then one of them)
            let pilot_children = treated.iter().filter(|&&t| t).count();
            assert!(pilot_children == 3 * 3 + 7 * 2 || pilot_children == 3 * 2 + 7 * 3, "{pilot_children}");
            assert_eq!(rows.len(), pilot_children + 60);
            let source = |arm: bool| -> Vec<usize> {
                let mut v: Vec<usize> =
                    rows.iter().zip(&treated).filter(|(_, &t)| t == arm).map(|(&r, _)| r / 10).collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let (p, c) = (source(true), source(false));
            // no child in both arms
            let child = |arm: bool| -> Vec<usize> {
                rows.iter().zip(&treated).filter(|(_, &t)| t == arm).map(|(&r, _)| r).collect()
            };
            let controls = child(false);
            assert!(child(true).iter().all(|r| !controls.contains(r)));
            assert!(!p.is_empty() && !c.is_empty());
            assert!(site.iter().zip(&treated).all(|(&s, &t)| (s < 5) == t));
        }
    }

    #[test]
    fn thinning_plants_the_ratio_and_is_monotone_in_it() {
        let n = 4000;
        let sample = Sample {
            treated: (0..n).map(|i| i % 2 == 0).collect(),
            weights: vec![1.0; n],
            site: (0..n).map(|i| i % 8).collect(),
            subclass: None,
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
    use crate::Evaluation;
    use std::path::Path;

    fn bundled_power(threads: usize) -> super::PowerResult {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let loaded = swp_data::load(&root.join("data/sample")).unwrap();
        let mut config = Config::default();
        config.power.enabled = true;
        config.power.simulations = 40;
        config.power.pilot_sites = vec![5, 8];
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
        assert_eq!(one.rows.len(), 2 * 5 * 6);
        assert!(one.rows.iter().all(|r| r.simulations + r.failed == 40));
        let power = |outcome: &str, ratio: f64| {
            one.rows
                .iter()
                .find(|r| r.outcome == outcome && r.pilot_sites == 5 && r.ratio == ratio)
                .and_then(|r| r.power)
                .unwrap()
        };
        for outcome in ["sw_changes", "placement_moves", "time_to_placement_move"] {
            assert!(power(outcome, 0.5) > power(outcome, 1.0) + 0.4, "{outcome}");
        }
        let m = one
            .minimum_detectable
            .iter()
            .find(|m| m.outcome == "sw_changes" && m.pilot_sites == 5)
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
