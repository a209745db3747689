//! Wild cluster bootstrap benchmark, side by side with Python wildboottest in one run: a
//! difference-in-differences regression (y on pilot, post, pilot x post) with 1,000,000 rows
//! and 150 clusters, WCR with Webb weights, 9,999 replications. Target: under 2 s, and at least
//! 10x faster than wildboottest. Then a coverage simulation: 5 treated and 20 control clusters
//! under the null, rejection rates at 5% of naive child-level errors, CR2 and the bootstrap.
//!
//! ```sh
//! cargo run --release -p swp-bench --bin boot-bench -- [SIMULATIONS]
//! ```
//! Needs python3 with wildboottest for the comparison (pip install wildboottest); without it
//! only swp-stats is timed.

mod common;
mod tables;

use common::median;
use std::process::Command;
use std::time::Instant;
use swp_stats::bootstrap::{BootType, BootWeights, WildParams, WildProblem};
use swp_stats::regression::{wls, Hc, Inference};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let simulations = common::count_argument("usage: boot-bench [SIMULATIONS]   (default 1000)", 1000);
    let (x, y, cluster) = tables::panel(1_000_000, 150, 30, 0.0, 2009);
    let params =
        WildParams { reps: 9999, weights: BootWeights::Webb, kind: BootType::Wcr, seed: 1 }.check().expect("valid");
    let mut times = Vec::new();
    let mut p = 0.0;
    for _ in 0..3 {
        let started = Instant::now();
        let problem = WildProblem::new(&x, &y, None, &cluster, 3).expect("valid");
        p = problem.test(0.0, &params).p_value;
        times.push(started.elapsed().as_secs_f64());
    }
    let ours = median(times);
    println!("wild cluster bootstrap, 1,000,000 rows, 150 clusters, WCR, Webb, 9,999 reps");
    println!("| implementation | seconds | p-value |");
    println!("|---|---|---|");
    println!("| swp-stats (median of 3, setup included) | {ours:.3} | {p:.4} |");
    if std::env::var_os("SWP_BENCH_NO_PYTHON").is_none() {
        let csv = std::env::temp_dir().join("swp-boot-bench.csv");
        tables::write_panel(&csv, &x, &y, &cluster).expect("writable");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/wildboot_bench.py");
        match Command::new("python3").args([script, csv.to_str().expect("utf-8")]).output() {
            Ok(o) if o.status.success() => {
                let v: serde_json::Value =
                    serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).expect("json line");
                let theirs = v["seconds"].as_f64().expect("seconds");
                println!("| wildboottest 0.3.2 (the bootstrap call only) | {theirs:.3} | {:.4} |", v["p"]);
                println!("speed-up: {:.0}x (target >= 10x; and under 2 s)", theirs / ours);
            }
            Ok(o) => eprintln!("wildboottest failed: {}", String::from_utf8_lossy(&o.stderr)),
            Err(e) => eprintln!("no python3 ({e})"),
        }
    }

    // coverage: 5 treated and 20 control clusters, no effect
    let started = Instant::now();
    let (mut naive, mut cr2, mut wild) = (0usize, 0usize, 0usize);
    for sim in 0..simulations {
        let (x, y, cluster) = tables::panel(25 * 40, 25, 5, 0.0, 10_000 + sim as u64);
        let fit = wls(&x, &y, None).expect("fits");
        let v = fit.vcov_hc(Hc::Hc1);
        let naive_p = Inference::t(fit.coef[3], v[15].sqrt(), (x.n - 4) as f64).p_value;
        naive += usize::from(naive_p < 0.05);
        cr2 += usize::from(fit.cr2_inference(&cluster, 3).expect("cr2").p_value < 0.05);
        let problem = WildProblem::new(&x, &y, None, &cluster, 3).expect("valid");
        let params = WildParams { reps: 999, weights: BootWeights::Webb, kind: BootType::Wcr, seed: sim as u64 }
            .check()
            .expect("valid");
        wild += usize::from(problem.test(0.0, &params).p_value < 0.05);
    }
    let rate = |k: usize| 100.0 * k as f64 / simulations as f64;
    let se = 100.0 * (0.05 * 0.95 / simulations as f64).sqrt();
    println!("\ncoverage under the null: {simulations} simulations, 25 clusters (5 treated) of 40 units, 5% tests");
    println!("| inference | rejection rate (target for the bootstrap: 3% to 8%) |");
    println!("|---|---|");
    println!("| naive child-level errors (HC1, t on n - 4 df) | {:.1}% |", rate(naive));
    println!("| CR2 with Bell-McCaffrey df | {:.1}% |", rate(cr2));
    println!("| wild cluster bootstrap (WCR, Webb, 999 reps) | {:.1}% |", rate(wild));
    println!("(Monte Carlo SE of a 5% rate: {se:.1} points; {:.0} s)", started.elapsed().as_secs_f64());
}
