//! End-to-end metrics benchmark: every docs/metrics.md metric, by site, for the 10 financial years
//! of the national-scale synthetic dataset (2003-04 .. 2012-13), side by side with a bare
//! polars CSV read of the same files, in one run. Each measurement runs in a fresh child
//! process so that its peak memory (VmHWM) is its own; stages are interleaved.
//!
//! ```sh
//! cargo run --release -p swp-bench --bin metrics-bench -- /tmp/swp-national [REPEATS]
//! ```
//! The dataset is generated (`synth --scale national --seed 1`) when DIR does not exist.
//! The `metrics` stage reports its own split: load + validate, index, the metrics.

mod common;

use common::{bare_polars_read, ensure_national, median, print_stage, run_stages};
use std::path::Path;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn stage(kind: &str, dir: &Path) {
    let started = Instant::now();
    let (load, index_s, rows) = if kind == "polars" {
        (0.0, 0.0, bare_polars_read(dir))
    } else {
        let loaded = swp_data::load(dir).expect("dataset directory");
        assert!(!loaded.report.has_problems(), "the benchmark dataset must be valid");
        let load = started.elapsed().as_secs_f64();
        let params = swp_metrics::ValidMetricsParams::defaults(swp_metrics::GroupBy::Site);
        let index = params.index(&loaded.dataset);
        let index_s = started.elapsed().as_secs_f64() - load;
        let periods: Vec<swp_metrics::Period> = (2003..2013).map(swp_metrics::Period::financial_year).collect();
        (load, index_s, swp_metrics::metrics_of(&index, &periods, params.caseload_threshold).len())
    };
    print_stage(kind, started, &format!(",\"load\":{load:.4},\"index\":{index_s:.4}"), rows);
}

/// Seconds of each metric family over the 10 years, in one process (`--detail DIR`).
fn detail(dir: &Path) {
    let loaded = swp_data::load(dir).expect("dataset directory");
    let params = swp_metrics::ValidMetricsParams::defaults(swp_metrics::GroupBy::Site);
    let started = Instant::now();
    let index = params.index(&loaded.dataset);
    println!("index {:.3}", started.elapsed().as_secs_f64());
    let periods: Vec<swp_metrics::Period> = (2003..2013).map(swp_metrics::Period::financial_year).collect();
    type Family = fn(&swp_metrics::Index, swp_metrics::Period) -> Vec<swp_metrics::MetricRow>;
    let families: [(&str, Family); 5] = [
        ("workforce", swp_metrics::workforce::workforce_rows),
        ("caseload", |i, p| swp_metrics::caseload::caseload_rows(i, p, 20)),
        ("changes", swp_metrics::changes::change_rows),
        ("contacts", swp_metrics::contacts::contact_rows),
        ("placements", swp_metrics::placements::placement_rows),
    ];
    for (name, f) in families {
        let started = Instant::now();
        let rows: usize = periods.iter().map(|&p| f(&index, p).len()).sum();
        println!("{name} {:.3} ({rows} rows)", started.elapsed().as_secs_f64());
    }
    let started = Instant::now();
    let rows = swp_metrics::metrics_of(&index, &periods, 20).len();
    println!("metrics_of {:.3} ({rows} rows)", started.elapsed().as_secs_f64());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 3 && args[1] == "--detail" {
        detail(Path::new(&args[2]));
        return;
    }
    if args.len() >= 4 && args[1] == "--stage" {
        stage(&args[2], Path::new(&args[3]));
        return;
    }
    if args.get(1).is_some_and(|a| a.starts_with('-')) {
        // an unknown flag (--help included) is not taken for the dataset directory
        eprintln!("usage: metrics-bench [DIR [REPEATS]] | --stage polars|metrics DIR | --detail DIR");
        std::process::exit(if args[1] == "--help" || args[1] == "-h" { 0 } else { 2 });
    }
    let dir = Path::new(args.get(1).map_or("/tmp/swp-national", String::as_str)).to_path_buf();
    let repeats: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    ensure_national(&dir);
    let runs = run_stages(&dir, &["polars", "metrics"], repeats);
    let med = |kind: &str, key: &str| {
        median(runs.iter().filter(|(k, _)| *k == kind).map(|(_, v)| v[key].as_f64().unwrap_or(f64::NAN)).collect())
    };
    let read = med("polars", "seconds");
    let (total, load, index) = (med("metrics", "seconds"), med("metrics", "load"), med("metrics", "index"));
    let metrics = median(
        runs.iter()
            .filter(|(k, _)| *k == "metrics")
            .map(|(_, v)| {
                let f = |key: &str| v[key].as_f64().unwrap_or(f64::NAN);
                f("seconds") - f("load") - f("index")
            })
            .collect(),
    );
    println!("{repeats} interleaved runs of each stage, each in a fresh process (medians)");
    println!("| stage | seconds | peak RSS MiB |");
    println!("|---|---|---|");
    println!("| bare polars CSV read (the same 6 files) | {read:.2} | {:.0} |", med("polars", "peak_rss_mib"));
    println!("| swp-data load + validate | {load:.2} | |");
    println!("| metrics index (intern ids, group and sort) | {index:.2} | |");
    println!("| every metric, by site, 10 financial years | {metrics:.2} | |");
    println!("| whole metrics run (load + index + metrics) | {total:.2} | {:.0} |", med("metrics", "peak_rss_mib"));
    println!(
        "ratio to the bare read (target <= 3.00): index + metrics {:.2}; whole run including load {:.2}",
        (index + metrics) / read,
        total / read
    );
}
