//! End-to-end ingest benchmark: load + validate a national-scale dataset with swp-data, side by
//! side with a bare polars CSV read of the same files, in one run. Each measurement runs in a
//! fresh child process so that its peak memory (VmHWM) is its own.
//!
//! ```sh
//! cargo run --release -p swp-bench --bin ingest-bench -- /tmp/swp-national [REPEATS]
//! ```
//! The dataset is generated (`synth --scale national --seed 1`) when DIR does not exist.

use std::path::Path;

// The allocator polars recommends; both stages below run with it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::Command;
use std::time::Instant;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Every table file `swp_data::load` reads in the benchmark dataset (the synthetic national
/// dataset has no contacts or outcomes).
/// User and system CPU seconds of this process so far (/proc/self/stat, 100 ticks a second).
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN) / 100.0;
    (tick(11), tick(12))
}

const TABLES: [&str; 6] = ["sites", "children", "episodes", "workers", "allocations", "absences"];

fn stage(kind: &str, dir: &Path) {
    let started = Instant::now();
    let rows = match kind {
        "polars" => {
            use polars::prelude::*;
            let mut rows = 0;
            for t in TABLES {
                let df = CsvReadOptions::default()
                    .try_into_reader_with_file_path(Some(dir.join(format!("{t}.csv"))))
                    .expect("path")
                    .finish()
                    .expect("polars reads the file");
                rows += df.height();
            }
            rows
        }
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
    let seconds = started.elapsed().as_secs_f64();
    let (user, system) = cpu_seconds();
    println!(
        "{{\"stage\":\"{kind}\",\"seconds\":{seconds:.4},\"user\":{user:.2},\"system\":{system:.2},\"peak_rss_mib\":{:.1},\"rows\":{rows}}}",
        peak_rss_mib()
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 4 && args[1] == "--stage" {
        stage(&args[2], Path::new(&args[3]));
        return;
    }
    let dir = Path::new(args.get(1).map_or("/tmp/swp-national", String::as_str)).to_path_buf();
    let repeats: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(9);
    if !dir.exists() {
        eprintln!("generating the national dataset in {} ...", dir.display());
        let started = Instant::now();
        let params = swp_synth::SynthParams::new(swp_synth::Scale::National).seed(1).check().expect("defaults");
        let data = params.generate();
        let generated = started.elapsed().as_secs_f64();
        data.write(&dir).expect("writable");
        eprintln!(
            "synth national: {} children, {} episodes, {} allocations; generated in {generated:.1} s, written in {:.1} s",
            data.children.len(),
            data.episodes.len(),
            data.allocations.len(),
            started.elapsed().as_secs_f64()
        );
    }
    let exe = std::env::current_exe().expect("own path");
    /// One run: stage, wall seconds, system CPU seconds, peak RSS.
    struct Run {
        kind: &'static str,
        seconds: f64,
        system: f64,
        peak: f64,
    }
    let mut runs: Vec<Run> = Vec::new();
    for _ in 0..repeats {
        for kind in ["polars", "swp"] {
            let out = Command::new(&exe)
                .args(["--stage", kind, dir.to_str().expect("utf-8 path")])
                .output()
                .expect("child runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let line = String::from_utf8_lossy(&out.stdout).to_string();
            let v: serde_json::Value = serde_json::from_str(line.trim()).expect("json line");
            eprintln!("{}", line.trim());
            let num = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            runs.push(Run { kind, seconds: num("seconds"), system: num("system"), peak: num("peak_rss_mib") });
        }
    }
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
