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

const TABLES: [&str; 5] = ["sites", "children", "episodes", "workers", "allocations"];

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
            [&d.sites, &d.children, &d.episodes, &d.workers, &d.allocations].iter().map(|t| t.frame.height()).sum()
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"stage\":\"{kind}\",\"seconds\":{seconds:.4},\"peak_rss_mib\":{:.1},\"rows\":{rows}}}",
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
    let mut results: Vec<(String, f64, f64)> = Vec::new();
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
            results.push((
                kind.to_string(),
                v["seconds"].as_f64().unwrap_or(f64::NAN),
                v["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
            ));
        }
    }
    let pick =
        |k: &str, f: fn(&(String, f64, f64)) -> f64| median(results.iter().filter(|r| r.0 == k).map(f).collect());
    let fastest = |k: &str| results.iter().filter(|r| r.0 == k).map(|r| r.1).fold(f64::INFINITY, f64::min);
    let (p_s, p_m, p_min) = (pick("polars", |r| r.1), pick("polars", |r| r.2), fastest("polars"));
    let (s_s, s_m, s_min) = (pick("swp", |r| r.1), pick("swp", |r| r.2), fastest("swp"));
    println!("{repeats} interleaved runs of each stage, each in a fresh process");
    println!("| stage | median s | fastest s | peak RSS (MiB, median) |");
    println!("|---|---|---|---|");
    println!("| bare polars CSV read (5 required tables) | {p_s:.2} | {p_min:.2} | {p_m:.0} |");
    println!("| swp-data load + validate | {s_s:.2} | {s_min:.2} | {s_m:.0} |");
    println!(
        "ratio load+validate / bare read: {:.2} on medians, {:.2} on fastest runs (target <= 2.00)",
        s_s / p_s,
        s_min / p_min
    );
}
