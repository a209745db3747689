//! Criterion benchmarks of the kernels, in process, several sizes each (the size in the
//! benchmark id), fixed seeds:
//!
//! ```sh
//! cargo bench -p swp-bench                       # everything (about 15 minutes here)
//! cargo bench -p swp-bench -- matching/nearest   # one group
//! ```
//! What an evaluator waits for is the command, file reading included: `benches/run.sh` times
//! those against the R and Python peers. These isolate the computation, for finding regressions.

#![allow(missing_docs)] // criterion_group! defines an undocumented function

#[path = "tables.rs"]
mod tables;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::time::Duration;
use swp_stats::balance::balance_table;
use swp_stats::bootstrap::{BootType, BootWeights, WildParams, WildProblem};
use swp_stats::design::{expand, Expansion};
use swp_stats::matching::{Distance, MatchData, MatchParams, Method};
use swp_stats::regression::wls;
use swp_stats::survival::{cox, kaplan_meier};

/// Treated : controls = 1 : 10.
const MATCH_SIZES: [usize; 3] = [2_000, 20_000, 200_000];

fn matching(c: &mut Criterion) {
    let mut group = c.benchmark_group("matching");
    group.sample_size(10).measurement_time(Duration::from_secs(4));
    for controls in MATCH_SIZES {
        let (treat, covariates) = tables::matching(controls / 10, controls, 2009);
        let data = MatchData { treat: &treat, covariates: &covariates, exact: &[] };
        let n = treat.len();
        let nearest = MatchParams::new().check().expect("valid");
        let caliper = MatchParams::new().caliper(Some(0.2)).check().expect("valid");
        let cem = MatchParams::new().method(Method::Cem).check().expect("valid");
        group.bench_with_input(BenchmarkId::new("propensity_model", n), &data, |b, d| {
            b.iter(|| nearest.propensity(black_box(d)).expect("fits"))
        });
        group.bench_with_input(BenchmarkId::new("nearest", n), &data, |b, d| b.iter(|| nearest.run(black_box(d))));
        group.bench_with_input(BenchmarkId::new("nearest_caliper", n), &data, |b, d| {
            b.iter(|| caliper.run(black_box(d)))
        });
        group.bench_with_input(BenchmarkId::new("cem", n), &data, |b, d| b.iter(|| cem.run(black_box(d))));
        let matched = caliper.run(&data).expect("matches");
        let expanded = expand(&covariates, Expansion::Balance).expect("numeric");
        let columns: Vec<(String, Vec<f64>)> = expanded.names.into_iter().zip(expanded.columns).collect();
        group.bench_with_input(BenchmarkId::new("balance", n), &columns, |b, cols| {
            b.iter(|| balance_table(black_box(cols), &treat, &matched.weights))
        });
    }
    // Mahalanobis nearest matching is O(n_treated x n_control)
    for controls in [2_000, 20_000] {
        let (treat, covariates) = tables::matching(controls / 10, controls, 2009);
        let data = MatchData { treat: &treat, covariates: &covariates, exact: &[] };
        let params = MatchParams::new().distance(Distance::Mahalanobis).check().expect("valid");
        group.bench_with_input(BenchmarkId::new("mahalanobis", treat.len()), &data, |b, d| {
            b.iter(|| params.run(black_box(d)))
        });
    }
    group.finish();
}

fn clustered(c: &mut Criterion) {
    let mut group = c.benchmark_group("clustered");
    group.sample_size(10).measurement_time(Duration::from_secs(4));
    for rows in [10_000, 100_000, 1_000_000] {
        let (x, y, cluster) = tables::panel(rows, 150, 30, 0.0, 2009);
        group.bench_with_input(BenchmarkId::new("wls_cr2", rows), &rows, |b, _| {
            b.iter(|| wls(black_box(&x), &y, None).expect("fits").cr2_inference(&cluster, 3).expect("cr2"))
        });
        let params =
            WildParams { reps: 9999, weights: BootWeights::Webb, kind: BootType::Wcr, seed: 1 }.check().expect("valid");
        group.bench_with_input(BenchmarkId::new("wild_bootstrap_9999", rows), &rows, |b, _| {
            b.iter(|| WildProblem::new(black_box(&x), &y, None, &cluster, 3).expect("valid").test(0.0, &params))
        });
    }
    group.finish();
}

fn survival(c: &mut Criterion) {
    let mut group = c.benchmark_group("survival");
    group.sample_size(10).measurement_time(Duration::from_secs(3));
    for n in [10_000, 100_000] {
        let (time, event, treated) = tables::survival(n, 2009);
        group.bench_with_input(BenchmarkId::new("kaplan_meier", n), &n, |b, _| {
            b.iter(|| kaplan_meier(black_box(&time), &event).expect("fits"))
        });
        group.bench_with_input(BenchmarkId::new("cox", n), &n, |b, _| {
            b.iter(|| cox(black_box(&time), &event, &treated).expect("fits"))
        });
    }
    group.finish();
}

/// A synthetic dataset (seed 1) loaded as the CLI loads it.
fn dataset(scale: swp_synth::Scale, name: &str) -> swp_data::Dataset {
    let dir = std::env::temp_dir().join(format!("swp-kernels-{name}"));
    if !dir.join("dataset.toml").exists() {
        let data = swp_synth::SynthParams::new(scale).seed(1).check().expect("defaults").generate();
        data.write(&dir).expect("writable temp dir");
    }
    swp_data::load(&dir).expect("a dataset").dataset
}

fn metrics(c: &mut Criterion) {
    use swp_metrics::{caseload, changes, placements, workforce, GroupBy, ValidMetricsParams};
    let mut group = c.benchmark_group("metrics");
    group.sample_size(10).measurement_time(Duration::from_secs(4));
    for (scale, name) in [(swp_synth::Scale::Small, "small"), (swp_synth::Scale::Pilot, "pilot")] {
        let data = dataset(scale, name);
        let children = data.children.frame.height();
        let params = ValidMetricsParams::defaults(GroupBy::Site);
        let periods: Vec<swp_metrics::Period> = (2003..=2012).map(swp_metrics::Period::financial_year).collect();
        let p = swp_metrics::Period::financial_year(2010);
        group
            .bench_with_input(BenchmarkId::new("index", children), &data, |b, d| b.iter(|| params.index(black_box(d))));
        let index = params.index(&data);
        group.bench_with_input(BenchmarkId::new("workforce_1y", children), &index, |b, i| {
            b.iter(|| workforce::workforce_rows(black_box(i), p))
        });
        group.bench_with_input(BenchmarkId::new("caseloads_1y", children), &index, |b, i| {
            b.iter(|| caseload::caseload_rows(black_box(i), p, 20))
        });
        group.bench_with_input(BenchmarkId::new("sw_changes_1y", children), &index, |b, i| {
            b.iter(|| changes::change_rows(black_box(i), p))
        });
        group.bench_with_input(BenchmarkId::new("placements_1y", children), &index, |b, i| {
            b.iter(|| placements::placement_rows(black_box(i), p))
        });
        group.bench_with_input(BenchmarkId::new("every_metric_10y", children), &index, |b, i| {
            b.iter(|| swp_metrics::metrics_of(black_box(i), &periods, 20))
        });
    }
    group.finish();
}

fn evaluation(c: &mut Criterion) {
    use swp_evaluation::config::Config;
    use swp_evaluation::Evaluation;
    let mut group = c.benchmark_group("evaluation");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for (scale, name) in [(swp_synth::Scale::Small, "small"), (swp_synth::Scale::Pilot, "pilot")] {
        let data = dataset(scale, name);
        let evaluation = Evaluation::new(Config::default()).expect("the defaults are valid");
        group.bench_with_input(BenchmarkId::new("defaults", data.children.frame.height()), &data, |b, d| {
            b.iter(|| evaluation.run(black_box(d)).expect("evaluates"))
        });
    }
    group.finish();
}

criterion_group!(kernels, matching, clustered, survival, metrics, evaluation);
criterion_main!(kernels);
