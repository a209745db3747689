//! Writes the generated tables of `benches/run.sh` (fixed seeds, so every run and every peer
//! reads the same bytes).
//!
//! ```sh
//! bench-data matching OUT.csv TREATED CONTROLS   # treat,x1..x8 (6 continuous, 2 binary)
//! bench-data panel OUT.csv ROWS CLUSTERS         # y,pilot,post,site (a fifth of sites pilots)
//! bench-data survival OUT.csv UNITS               # time,event,treated (hazard ratio 0.7)
//! ```

mod tables;

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| args.get(i).and_then(|v| v.replace('_', "").parse::<usize>().ok());
    let written = match (args.first().map(String::as_str), args.get(1), number(2), number(3)) {
        (Some("matching"), Some(out), Some(treated), Some(controls)) => {
            let (treat, covariates) = tables::matching(treated, controls, 2009);
            tables::write_matching(Path::new(out), &treat, &covariates)
        }
        (Some("panel"), Some(out), Some(rows), Some(clusters)) if clusters >= 5 => {
            let (x, y, cluster) = tables::panel(rows, clusters, clusters / 5, 0.0, 2009);
            tables::write_panel(Path::new(out), &x, &y, &cluster)
        }
        (Some("survival"), Some(out), Some(units), _) => {
            let (time, event, treated) = tables::survival(units, 2009);
            tables::write_survival(Path::new(out), &time, &event, &treated)
        }
        _ => {
            eprintln!(
                "usage: bench-data matching OUT.csv TREATED CONTROLS | panel OUT.csv ROWS CLUSTERS (>= 5) | survival OUT.csv UNITS"
            );
            return ExitCode::from(2);
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-data: cannot write {}: {e}", args[1]);
            ExitCode::FAILURE
        }
    }
}
