//! Matching benchmark, side by side with R MatchIt in one run: 1:1 nearest-neighbour matching
//! with a 0.2 caliper of 20,000 treated to 200,000 controls on 8 covariates, the logistic
//! propensity model and the balance table included; then the same at 1/8, 1/4 and 1/2 of the
//! size, to show the cost grows near n log n.
//!
//! ```sh
//! cargo run --release -p swp-bench --bin match-bench -- [REPEATS]
//! ```
//! Needs `Rscript` with MatchIt for the R side (Debian: r-base-core, r-cran-matchit); without it
//! only swp-stats is timed. The data are generated from a fixed seed and written to a CSV
//! that both read.

mod common;
mod tables;

use common::median;
use std::process::Command;
use std::time::Instant;
use swp_stats::balance::balance_table;
use swp_stats::design::{expand, Covariate, Expansion};
use swp_stats::matching::{MatchData, MatchParams};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Model, matching and balance table; returns seconds and matched treated units.
fn ours(treat: &[bool], covariates: &[Covariate]) -> (f64, usize) {
    let started = Instant::now();
    let m = MatchParams::new()
        .caliper(Some(0.2))
        .check()
        .expect("valid")
        .run(&MatchData { treat, covariates, exact: &[] })
        .expect("matches");
    let balance = expand(covariates, Expansion::Balance).expect("numeric");
    let mut columns: Vec<(String, Vec<f64>)> = balance.names.into_iter().zip(balance.columns).collect();
    columns.insert(0, ("distance".into(), m.distance.clone().expect("propensity")));
    let table = balance_table(&columns, treat, &m.weights);
    (started.elapsed().as_secs_f64(), table.counts.matched_treated)
}

fn main() {
    let repeats = common::count_argument(
        "usage: match-bench [REPEATS]   (default 3; runs R MatchIt too unless SWP_BENCH_NO_R=1)",
        3,
    );
    let (treat, covariates) = tables::matching(20_000, 200_000, 2009);
    let csv = std::env::temp_dir().join("swp-match-bench.csv");
    tables::write_matching(&csv, &treat, &covariates).expect("writable");
    // the same MatchIt peer benches/run.sh times
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/matchit.R");
    let mut r_seconds = Vec::new();
    let mut r_matched = None;
    // SWP_BENCH_NO_R=1 skips the R side (for profiling)
    let r_runs = if std::env::var_os("SWP_BENCH_NO_R").is_some() { 0 } else { repeats.min(2) };
    for _ in 0..r_runs {
        match Command::new("Rscript").args([script, csv.to_str().expect("utf-8")]).output() {
            Ok(out) if out.status.success() => {
                let v: serde_json::Value =
                    serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("json line");
                r_seconds.push(v["seconds"].as_f64().expect("seconds"));
                r_matched = v["n"]["matched_treated"].as_u64();
            }
            Ok(out) => {
                eprintln!("Rscript failed: {}", String::from_utf8_lossy(&out.stderr));
                break;
            }
            Err(e) => {
                eprintln!("no Rscript ({e}); timing swp-stats only");
                break;
            }
        }
    }
    let runs: Vec<(f64, usize)> = (0..repeats).map(|_| ours(&treat, &covariates)).collect();
    let s = median(runs.iter().map(|r| r.0).collect());
    println!("20,000 treated x 200,000 controls, 8 covariates, 1:1 nearest, caliper 0.2 SD, model + balance table");
    println!("| implementation | median seconds | matched treated |");
    println!("|---|---|---|");
    println!("| swp-stats ({repeats} runs) | {s:.3} | {} |", runs[0].1);
    if !r_seconds.is_empty() {
        let r = median(r_seconds.clone());
        println!("| R MatchIt 4.5.1 ({} runs) | {r:.2} | {} |", r_seconds.len(), r_matched.unwrap_or(0));
        println!("speed-up: {:.0}x (target >= 50x)", r / s);
    }
    println!("\nscaling (treated : controls = 1 : 10)");
    println!("| n | seconds | seconds / (n log2 n) x 1e9 |");
    println!("|---|---|---|");
    for k in [8, 4, 2, 1] {
        let (t, c) = tables::matching(20_000 / k, 200_000 / k, 2009);
        let n = (t.len()) as f64;
        let secs = median((0..repeats).map(|_| ours(&t, &c).0).collect());
        println!("| {} | {secs:.3} | {:.1} |", t.len(), secs / (n * n.log2()) * 1e9);
    }
}
