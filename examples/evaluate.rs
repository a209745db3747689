//! The library route an analyst takes from Rust: load a dataset, look at a metric, run the
//! evaluation of docs/evaluation.md with a config, and read the results.
//!
//! ```sh
//! cargo run --release --example evaluate -- data/sample data/evaluation.toml
//! ```

use std::path::Path;
use swp_eval::evaluation::config::Config;
use swp_eval::evaluation::{publish, Evaluation};
use swp_eval::metrics::{financial_years, metrics_of, GroupBy, Period, ValidMetricsParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.first().map_or("data/sample", String::as_str);
    let config_path = args.get(1).map_or("data/evaluation.toml", String::as_str);

    // 1. load and validate
    let loaded = swp_eval::data::load(Path::new(dir))?;
    if loaded.report.has_problems() {
        return Err(format!("{dir} has {} validation problem(s)", loaded.report.total()).into());
    }
    let dataset = &loaded.dataset;

    // 2. a metric by arm for one financial year
    let index = ValidMetricsParams::defaults(GroupBy::Arm).index(dataset);
    let year: Vec<Period> = financial_years(Period::financial_year(2010).from, Period::financial_year(2010).to);
    for row in metrics_of(&index, &year, 20).iter().filter(|r| r.metric == "sw_changes_per_child_year") {
        println!("{:<12} sw_changes_per_child_year 2010-11: {:.3}", row.group, row.value.unwrap_or(f64::NAN));
    }

    // 3. the evaluation, with the config as an evaluator writes it
    let config = Config::from_toml(&std::fs::read_to_string(config_path)?)?;
    let results = publish(Evaluation::new(config)?.run(dataset)?, 5);

    // 4. read the results
    println!(
        "index date {}; matched {:?} pilot children",
        results.design.index_date, results.balance.n.matched_treated
    );
    for e in results.effects.iter().filter(|e| e.primary) {
        println!(
            "{:<24} {:<16} {:>7.3} [{:.3}, {:.3}]  p = {:.3}  Holm p = {:.3}",
            e.outcome,
            e.estimate_type,
            e.estimate.unwrap_or(f64::NAN),
            e.ci_low.unwrap_or(f64::NAN),
            e.ci_high.unwrap_or(f64::NAN),
            e.p_value.unwrap_or(f64::NAN),
            e.p_holm.unwrap_or(f64::NAN)
        );
    }
    for w in &results.warnings {
        println!("warning: {w}");
    }
    Ok(())
}
