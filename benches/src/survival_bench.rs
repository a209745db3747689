//! The swp-eval side of the survival benchmark: read a `time,event,treated` CSV as a Rust user of
//! the library would (swp-data's table reader), then the Kaplan-Meier curve of everyone and the
//! Cox model of time to event on treatment (Efron ties) with swp-stats. No swp-eval command runs
//! survival on a user's table, so this is the library route, timed as a whole process.
//!
//! ```sh
//! survival-bench FILE.csv     # prints {"seconds", "km_median", "cox_coef", "cox_se"}
//! ```

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;
use swp_stats::survival::{cox, kaplan_meier};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn column(frame: &polars::prelude::DataFrame, name: &str) -> Result<Vec<f64>, String> {
    use polars::prelude::*;
    let c = frame.column(name).map_err(|e| format!("no column `{name}`: {e}"))?;
    let c = c.cast(&DataType::Float64).map_err(|e| e.to_string())?;
    Ok(c.f64().map_err(|e| e.to_string())?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

fn run(path: &Path) -> Result<String, String> {
    let started = Instant::now();
    let frame = swp_data::read::user_table(path)?;
    let time = column(&frame, "time")?;
    let event: Vec<bool> = column(&frame, "event")?.iter().map(|&v| v == 1.0).collect();
    let treated: Vec<bool> = column(&frame, "treated")?.iter().map(|&v| v == 1.0).collect();
    let km = kaplan_meier(&time, &event).map_err(|e| e.to_string())?;
    let model = cox(&time, &event, &treated).map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(serde_json::json!({
        "seconds": seconds,
        "km_median": km.median(),
        "cox_coef": model.coef,
        "cox_se": model.se,
    })
    .to_string())
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: survival-bench FILE.csv");
        return ExitCode::from(2);
    };
    match run(Path::new(&path)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("survival-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
