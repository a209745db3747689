#![allow(dead_code)] // each harness uses part of it
//! What the end-to-end benchmark harnesses share: peak memory and CPU time of this process,
//! the bare polars read every ratio is taken against, the national dataset, medians.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Peak resident memory of this process so far (VmHWM), MiB.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// User and system CPU seconds of this process so far (/proc/self/stat, 100 ticks a second).
pub fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN) / 100.0;
    (tick(11), tick(12))
}

/// Every table file `swp_data::load` reads in the benchmark dataset (the synthetic national
/// dataset has no contacts or outcomes).
pub const TABLES: [&str; 6] = ["sites", "children", "episodes", "workers", "allocations", "absences"];

/// A bare polars read of every table file (all columns as polars infers them): the yardstick.
/// Returns the rows read.
pub fn bare_polars_read(dir: &Path) -> usize {
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

/// Generates the national synthetic dataset (seed 1) into `dir` unless it exists.
pub fn ensure_national(dir: &Path) {
    if dir.exists() {
        return;
    }
    eprintln!("generating the national dataset in {} ...", dir.display());
    let started = Instant::now();
    let params = swp_synth::SynthParams::new(swp_synth::Scale::National).seed(1).check().expect("defaults");
    let data = params.generate();
    let generated = started.elapsed().as_secs_f64();
    data.write(dir).expect("writable");
    eprintln!(
        "synth national: {} children, {} episodes, {} allocations; generated in {generated:.1} s, written in {:.1} s",
        data.children.len(),
        data.episodes.len(),
        data.allocations.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Median of a non-empty sample.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    v[v.len() / 2]
}

/// Prints a stage's JSON line: `extra` fields (already formatted, each with a leading comma),
/// then wall seconds since `started`, CPU time, peak memory and rows.
pub fn print_stage(kind: &str, started: Instant, extra: &str, rows: usize) {
    let seconds = started.elapsed().as_secs_f64();
    let (user, system) = cpu_seconds();
    println!(
        "{{\"stage\":\"{kind}\",\"seconds\":{seconds:.4}{extra},\"user\":{user:.2},\"system\":{system:.2},\"peak_rss_mib\":{:.1},\"rows\":{rows}}}",
        peak_rss_mib()
    );
}

/// Runs `exe --stage KIND DIR` for each kind, `repeats` times interleaved, each in a fresh
/// process (so its peak memory is its own); returns each run's kind and JSON line.
pub fn run_stages(dir: &Path, kinds: &[&'static str], repeats: usize) -> Vec<(&'static str, serde_json::Value)> {
    let exe = std::env::current_exe().expect("own path");
    let mut runs = Vec::new();
    for _ in 0..repeats {
        for &kind in kinds {
            let out = Command::new(&exe)
                .args(["--stage", kind, dir.to_str().expect("utf-8 path")])
                .output()
                .expect("child runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let line = String::from_utf8_lossy(&out.stdout).to_string();
            eprintln!("{}", line.trim());
            runs.push((kind, serde_json::from_str(line.trim()).expect("json line")));
        }
    }
    runs
}

/// The harness's one optional argument, a count (`default` when absent): `--help` or `-h`
/// prints `usage` and exits 0; anything that is not a positive whole number prints it and
/// exits 2 (rather than running the whole benchmark with the default).
pub fn count_argument(usage: &str, default: usize) -> usize {
    match std::env::args().nth(1) {
        None => default,
        Some(a) if a == "--help" || a == "-h" => {
            println!("{usage}");
            std::process::exit(0)
        }
        Some(a) => match a.replace('_', "").parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("{usage}");
                std::process::exit(2)
            }
        },
    }
}
