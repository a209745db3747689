//! `swp-eval validate DIR`: check a dataset directory against the data contract.

use crate::output::write_atomic;
use crate::{CommandResult, Failure};
use std::path::PathBuf;
use swp_eval::data::{self, LoadOptions, ValidationReport};
use swp_eval::metrics::coverage::Source;

/// Output format of `validate`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One line per problem, then a summary.
    Text,
    /// `{"valid", "problem_count", "counts", "unlisted", "tables", "problems": [...]}`.
    Json,
}

/// Check a dataset directory against the data contract and list every problem (file, line,
/// column, bad value, how to fix it). Exit 0 when clean, 1 when problems were found.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  swp-eval validate data/sample\n  swp-eval validate extracts/2011 --format json --out problems.json\n  swp-eval validate extracts/2011 --max-per-rule 100"
)]
pub struct Args {
    /// The dataset directory (sites.csv, children.csv, episodes.csv, ... or raw 903 returns under 903/<site_id>/<year>/).
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Problems listed per rule; the rest are counted.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_per_rule: usize,
    /// Write the listing to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `validate`.
pub fn run(args: Args) -> CommandResult {
    if args.max_per_rule == 0 {
        return Err(Failure::Usage("--max-per-rule must be at least 1".into()));
    }
    let options = LoadOptions { cap_per_rule: args.max_per_rule };
    let loaded = data::load_with(&args.dir, &options)?;
    let mut report = loaded.report;
    report.sort();
    let tables = [
        ("sites", &loaded.dataset.sites),
        ("children", &loaded.dataset.children),
        ("episodes", &loaded.dataset.episodes),
        ("workers", &loaded.dataset.workers),
        ("allocations", &loaded.dataset.allocations),
        ("absences", &loaded.dataset.absences),
        ("contacts", &loaded.dataset.contacts),
        ("outcomes", &loaded.dataset.outcomes),
        ("costs", &loaded.dataset.costs),
    ];
    let rows: Vec<(&str, usize)> =
        tables.iter().filter(|(_, t)| t.present).map(|(n, t)| (*n, t.frame.height())).collect();
    // each table's coverage per site (docs/data.md "Coverage"), for a dataset that loads clean
    let coverage = (!report.has_problems()).then(|| {
        let index =
            swp_eval::metrics::ValidMetricsParams::defaults(swp_eval::metrics::GroupBy::Site).index(&loaded.dataset);
        (index.coverage.all(&index.groups.site_ids), index.coverage.ignored.clone())
    });
    let text = match args.format {
        Format::Text => render_text(&args.dir, &report, &rows) + &coverage_text(coverage.as_ref()),
        Format::Json => render_json(&report, &rows, coverage.as_ref()),
    };
    match &args.out {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => crate::output::print_stdout(&text)?,
    }
    if report.has_problems() {
        if args.out.is_some() || matches!(args.format, Format::Json) {
            eprintln!("{} problem(s) found in {}", report.total(), args.dir.display());
        }
        return Err(Failure::Data { message: String::new(), printed: true });
    }
    Ok(())
}

fn render_text(dir: &std::path::Path, report: &ValidationReport, rows: &[(&str, usize)]) -> String {
    let mut out = String::new();
    for p in &report.problems {
        out.push_str(&format!("{}\n    fix: {}\n", located(p), p.fix));
    }
    for (rule, n) in report.unlisted() {
        out.push_str(&format!("... and {n} more {rule} problem(s) not listed (see --max-per-rule)\n"));
    }
    let tables: Vec<String> = rows.iter().map(|(n, r)| format!("{n} {r}")).collect();
    if report.has_problems() {
        let counts: Vec<String> = report.counts.iter().map(|(r, n)| format!("{r} {n}")).collect();
        out.push_str(&format!(
            "\n{}: {} problem(s) ({}). Rows read: {}.\n",
            dir.display(),
            report.total(),
            counts.join(", "),
            tables.join(", ")
        ));
    } else {
        out.push_str(&format!("{}: valid. Rows read: {}.\n", dir.display(), tables.join(", ")));
    }
    out
}

fn located(p: &data::Problem) -> String {
    let mut at = p.file.clone();
    if let Some(line) = p.line {
        let word = if p.file.ends_with(".parquet") { " row " } else { ":" };
        at.push_str(&format!("{word}{line}"));
    }
    if let Some(c) = &p.column {
        at.push_str(&format!(" column {c}"));
    }
    format!("{at}: {} [{}]", p.message, p.rule)
}

/// Each table's coverage and the sites it covers from each date, one line per table.
type CoverageList = (Vec<(Source, String, Option<String>)>, Vec<String>);

fn coverage_text(coverage: Option<&CoverageList>) -> String {
    let Some((all, ignored)) = coverage else { return String::new() };
    let mut out =
        String::from("Coverage (the first day each table covers, per site; a metric reading it is null before):\n");
    for source in Source::ALL {
        let mut by_date: Vec<(String, Vec<&str>)> = Vec::new();
        for (s, site, from) in all.iter().filter(|(s, _, _)| *s == source) {
            let _ = s;
            let date = from.clone().unwrap_or_else(|| "not covered".into());
            match by_date.iter_mut().find(|(d, _)| *d == date) {
                Some((_, sites)) => sites.push(site),
                None => by_date.push((date, vec![site])),
            }
        }
        if by_date.is_empty() {
            continue;
        }
        let parts: Vec<String> = by_date.iter().map(|(d, sites)| format!("{d}: {}", sites.join(" "))).collect();
        out.push_str(&format!("  {:<12} {}\n", source.name(), parts.join("; ")));
    }
    for note in ignored {
        out.push_str(&format!("  note: {note}\n"));
    }
    out
}

fn render_json(report: &ValidationReport, rows: &[(&str, usize)], coverage: Option<&CoverageList>) -> String {
    let tables: serde_json::Map<String, serde_json::Value> =
        rows.iter().map(|(n, r)| (n.to_string(), (*r).into())).collect();
    let unlisted: serde_json::Map<String, serde_json::Value> =
        report.unlisted().into_iter().map(|(r, n)| (r.to_string(), n.into())).collect();
    let value = serde_json::json!({
        "valid": !report.has_problems(),
        "problem_count": report.total(),
        "counts": report.counts,
        "unlisted": unlisted,
        "tables": tables,
        "problems": report.problems,
        "coverage": coverage.map(|(all, _)| all.iter().map(|(s, site, from)| serde_json::json!({"table": s.name(), "site": site, "from": from})).collect::<Vec<_>>()),
        "coverage_notes": coverage.map(|(_, ignored)| ignored.clone()),
    });
    let mut text = serde_json::to_string_pretty(&value).expect("serialisable");
    text.push('\n');
    text
}
