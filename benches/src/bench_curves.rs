//! Draws the scaling curves of `benches/run.sh` from its `results.json`: for each task, the
//! median seconds of every contender against the size of the work on log-log axes, with the
//! slope of log(seconds) on log(size) fitted by least squares. Writes `scaling.svg`,
//! `scaling.png` and `scaling.md` (the slopes) beside the results.
//!
//! ```sh
//! bench-curves benches/results/results.json benches/results
//! ```

use std::path::Path;
use std::process::ExitCode;
use swp_report::charts::{scaling_curves, ScalingPanel, ScalingSeries};

/// Least-squares slope of log(y) on log(x).
fn slope(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (x.ln(), y.ln())).collect();
    let n = logs.len() as f64;
    let (mx, my) = (logs.iter().map(|p| p.0).sum::<f64>() / n, logs.iter().map(|p| p.1).sum::<f64>() / n);
    let sxy: f64 = logs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = logs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    sxy / sxx
}

/// What each task's growth should look like, for the notes under the slopes.
fn expectation(task: &str) -> &'static str {
    match task {
        "match" => "nearest matching on a sorted propensity score is O(n log n): a slope a little above 1",
        "effect" => "reading and the per-cluster sums are O(n); the bootstrap is O(G k x reps) in swp-eval and O(G^2 x reps) in wildboottest, fixed here (G = 150): the slope falls below 1 where it dominates",
        "metrics" | "validate" => "one pass over each table: O(n)",
        "survival" => "sorting the times: O(n log n); Cox's Newton steps each one pass over the sorted times",
        "report" => "fixed costs (figures, report, notebook: about 0.4 s) dominate the small sizes; the rest is O(n) but for the site-level randomisation inference and bootstraps, which grow with sites, not children",
        _ => "",
    }
}

fn run(results: &Path, out: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(results).map_err(|e| format!("cannot read {}: {e}", results.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", results.display()))?;
    let cases = v["cases"].as_array().ok_or("results.json has no `cases`")?;
    let mut tasks: Vec<&str> = Vec::new();
    for c in cases {
        let t = c["task"].as_str().unwrap_or_default();
        if !tasks.contains(&t) {
            tasks.push(t);
        }
    }
    let mut panels = Vec::new();
    let mut md = String::from(
        "# Scaling: fitted log-log slopes\n\nSeconds (medians) against the size of the work; slope of log(seconds) on log(size) by least squares over the sizes run. 1 is linear.\n\n| task | contender | sizes | slope | expected |\n|---|---|---|---|---|\n",
    );
    for task in tasks {
        let of_task: Vec<&serde_json::Value> = cases.iter().filter(|c| c["task"] == task).collect();
        let unit = of_task[0]["unit"].as_str().unwrap_or("size").to_string();
        let mut names: Vec<String> = Vec::new();
        for c in &of_task {
            for r in c["contenders"].as_array().into_iter().flatten() {
                let name = r["name"].as_str().unwrap_or_default().to_string();
                if r["seconds"].is_number() && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        let mut series = Vec::new();
        for name in names {
            let mut points: Vec<(f64, f64)> = of_task
                .iter()
                .filter_map(|c| {
                    let r = c["contenders"].as_array()?.iter().find(|r| r["name"] == name.as_str())?;
                    Some((c["n"].as_f64()?, r["seconds"].as_f64()?))
                })
                .filter(|p| p.0 > 0.0 && p.1 > 0.0)
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            if points.len() < 2 {
                continue;
            }
            let s = slope(&points);
            md.push_str(&format!("| {task} | {name} | {} | {s:.2} | {} |\n", points.len(), expectation(task)));
            series.push(ScalingSeries { name, points, slope: s });
        }
        if !series.is_empty() {
            panels.push(ScalingPanel { title: task.to_string(), unit, series });
        }
    }
    if panels.is_empty() {
        return Err("no task was timed at two or more sizes: nothing to draw (run without --quick)".into());
    }
    let figure =
        scaling_curves(&panels, "swp-eval benches/run.sh; medians of interleaved runs").map_err(|e| e.to_string())?;
    let write = |name: &str, bytes: &[u8]| -> Result<(), String> {
        let path = out.join(name);
        let tmp = out.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("scaling.svg", figure.svg.as_bytes())?;
    write("scaling.png", &figure.png)?;
    write("scaling.md", md.as_bytes())?;
    print!("{md}");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [results, out] = args.as_slice() else {
        eprintln!("usage: bench-curves RESULTS.json OUTDIR");
        return ExitCode::from(2);
    };
    match run(Path::new(results), Path::new(out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-curves: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::slope;

    #[test]
    fn slope_of_a_power_law_is_its_exponent() {
        let points: Vec<(f64, f64)> = [1e3, 1e4, 1e5].iter().map(|&n: &f64| (n, 2e-6 * n.powf(1.3))).collect();
        assert!((slope(&points) - 1.3).abs() < 1e-12);
    }
}
