//! End-to-end ingest benchmark: load + validate a national-scale dataset with swp-data, side by
//! side with a bare polars CSV read of the same files, in one run. Each measurement runs in a
//! fresh child process so that its peak memory (VmHWM) is its own.
//!
//! ```sh
//! cargo run --release -p swp-bench --bin ingest-bench -- /tmp/swp-national [REPEATS]
//! ```
//! The dataset is generated (`synth --scale national --seed 1`) when DIR does not exist.

mod common;

use common::{bare_polars_read, ensure_national, median, print_stage, run_stages};
use std::path::Path;

// The allocator polars recommends; both stages below run with it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;

fn stage(kind: &str, dir: &Path) {
    let started = Instant::now();
    let rows = match kind {
        "polars" => bare_polars_read(dir),
        _ => {
            let loaded = swp_data::load(dir).expect("dataset directory");
            assert!(!loaded.report.has_problems(), "the benchmark dataset must be valid");
            let d = &loaded.dataset;
            [&d.sites, &d.children, &d.episodes, &d.workers, &d.allocations, &d.absences]
                .iter()
                .map(|t| t.frame.height())
                .sum()
        }
    };
    print_stage(kind, started, "", rows);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 4 && args[1] == "--stage" {
        stage(&args[2], Path::new(&args[3]));
        return;
    }
    if args.get(1).is_some_and(|a| a.starts_with('-')) {
        // an unknown flag (--help included) is not taken for the dataset directory
        eprintln!("usage: ingest-bench [DIR [REPEATS]] | --stage polars|swp DIR");
        std::process::exit(if args[1] == "--help" || args[1] == "-h" { 0 } else { 2 });
    }
    let dir = Path::new(args.get(1).map_or("/tmp/swp-national", String::as_str)).to_path_buf();
    let repeats: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(9);
    ensure_national(&dir);
    /// One run: stage, wall seconds, system CPU seconds, peak RSS.
    struct Run {
        kind: &'static str,
        seconds: f64,
        system: f64,
        peak: f64,
    }
    let runs: Vec<Run> = run_stages(&dir, &["polars", "swp"], repeats)
        .into_iter()
        .map(|(kind, v)| {
            let num = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            Run { kind, seconds: num("seconds"), system: num("system"), peak: num("peak_rss_mib") }
        })
        .collect();
    // This VM sometimes spends a second or more of system time faulting in fresh memory, in
    // either stage; runs with under 0.3 s of system time are reported apart ("quiet").
    let stats = |k: &str| {
        let all: Vec<&Run> = runs.iter().filter(|r| r.kind == k).collect();
        let quiet: Vec<f64> = all.iter().filter(|r| r.system < 0.3).map(|r| r.seconds).collect();
        let median_all = median(all.iter().map(|r| r.seconds).collect());
        let fastest = all.iter().map(|r| r.seconds).fold(f64::INFINITY, f64::min);
        let quiet_median = if quiet.is_empty() { f64::NAN } else { median(quiet.clone()) };
        (median_all, quiet_median, quiet.len(), fastest, median(all.iter().map(|r| r.peak).collect()))
    };
    let (p_all, p_quiet, p_n, p_min, p_mem) = stats("polars");
    let (s_all, s_quiet, s_n, s_min, s_mem) = stats("swp");
    println!("{repeats} interleaved runs of each stage, each in a fresh process");
    println!("| stage | median s (all runs) | median s (quiet runs) | fastest s | peak RSS MiB |");
    println!("|---|---|---|---|---|");
    println!(
        "| bare polars CSV read (the same 6 files) | {p_all:.2} | {p_quiet:.2} ({p_n}) | {p_min:.2} | {p_mem:.0} |"
    );
    println!("| swp-data load + validate | {s_all:.2} | {s_quiet:.2} ({s_n}) | {s_min:.2} | {s_mem:.0} |");
    println!(
        "ratio load+validate / bare read (target <= 2.00): {:.2} all runs, {:.2} quiet runs, {:.2} fastest runs",
        s_all / p_all,
        s_quiet / p_quiet,
        s_min / p_min
    );
}
