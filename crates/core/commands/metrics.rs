//! `swp-eval metrics DIR`: every metric of METRICS.md by group and period.

use crate::output::write_atomic;
use crate::{CommandResult, Failure};
use std::io::IsTerminal;
use std::path::PathBuf;
use swp_eval::data::{self, typed::parse_date, validate::date_column};
use swp_eval::metrics::{all_metrics, financial_years, suppress, GroupBy, MetricsParams, Period};
use swp_eval::report::table::{Cell, Format, Table};

/// Grouping flag.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum By {
    /// One group per site.
    Site,
    /// pilot / host / comparison.
    Arm,
    /// SWP model.
    Model,
    /// All sites together.
    Total,
}

/// Table format flag.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum TableFormat {
    /// Comma-separated values.
    Csv,
    /// An array of row objects.
    Json,
    /// Markdown.
    Md,
    /// LaTeX.
    Tex,
    /// HTML.
    Html,
}

/// Compute every metric of METRICS.md (workforce, caseloads, social-worker changes, contacts,
/// placement stability) for each group and period: one row per group x metric with value,
/// numerator and denominator. Small numbers are suppressed (printed `c`) unless --no-suppress.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  swp-eval metrics data/sample\n  swp-eval metrics data/sample --by arm --period 2010-04-01:2011-03-31 --format json\n  swp-eval metrics data/sample --by model --format csv --out metrics.csv"
)]
pub struct Args {
    /// The dataset directory.
    pub dir: PathBuf,
    /// A period FROM:TO (ISO dates, both included; repeatable). Default: every financial year the data covers.
    #[arg(long = "period", value_name = "FROM:TO")]
    pub periods: Vec<String>,
    /// Grouping.
    #[arg(long, value_enum, default_value = "site")]
    pub by: By,
    /// Output format (default: md on a terminal, csv otherwise).
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,
    /// Write the table to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Publish small numbers (for analysts inside a secure setting).
    #[arg(long)]
    pub no_suppress: bool,
    /// Small-number threshold: counts from 1 to N-1 are suppressed.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub threshold: u32,
    /// Caseload above which share_caseload_over_20 counts a worker.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub caseload_threshold: usize,
}

fn parse_period(text: &str) -> Result<Period, Failure> {
    let bad = || {
        Failure::Usage(format!("--period `{text}` needs the form FROM:TO with ISO dates, e.g. 2010-04-01:2011-03-31"))
    };
    let (from, to) = text.split_once(':').ok_or_else(bad)?;
    let (from, to) = (parse_date(from).map_err(|_| bad())?, parse_date(to).map_err(|_| bad())?);
    if to < from {
        return Err(Failure::Usage(format!("--period `{text}` ends before it starts")));
    }
    Ok(Period { from, to })
}

/// Runs `metrics`.
pub fn run(args: Args) -> CommandResult {
    let mut periods = args.periods.iter().map(|p| parse_period(p)).collect::<Result<Vec<_>, _>>()?;
    let loaded = data::load(&args.dir).map_err(|e| Failure::Data { message: e.to_string(), printed: false })?;
    if loaded.report.has_problems() {
        return Err(Failure::Data {
            message: format!(
                "{} has {} validation problem(s); metrics are computed on valid data only (run `swp-eval validate {}`)",
                args.dir.display(),
                loaded.report.total(),
                args.dir.display()
            ),
            printed: false,
        });
    }
    let dataset = &loaded.dataset;
    if periods.is_empty() {
        let first = [("episodes", "decom"), ("allocations", "start_date")]
            .iter()
            .filter_map(|(t, c)| {
                let frame = if *t == "episodes" { &dataset.episodes.frame } else { &dataset.allocations.frame };
                date_column(frame, c).into_iter().flatten().min()
            })
            .min();
        match (first, dataset.extract_date) {
            (Some(first), Some(last)) => periods = financial_years(first, last),
            _ => {
                return Err(Failure::Data {
                    message: format!(
                        "{} has no episodes or allocations to take periods from; give --period",
                        args.dir.display()
                    ),
                    printed: false,
                })
            }
        }
    }
    let by = match args.by {
        By::Site => GroupBy::Site,
        By::Arm => GroupBy::Arm,
        By::Model => GroupBy::Model,
        By::Total => GroupBy::Total,
    };
    let params = MetricsParams { by, caseload_threshold: args.caseload_threshold, ..MetricsParams::default() };
    let rows = all_metrics(dataset, &periods, &params);
    let published = suppress(rows, if args.no_suppress { 0 } else { args.threshold });
    let mut table =
        Table::new(vec!["group", "metric", "value", "numerator", "denominator", "period_from", "period_to"]);
    for p in published {
        let r = p.row;
        let value = if p.suppressed { Cell::Suppressed } else { Cell::Number(r.value) };
        let part = |x: Option<f64>| if p.suppressed { Cell::Suppressed } else { Cell::Number(x) };
        table = table.row(vec![
            Cell::text(r.group),
            Cell::text(r.metric),
            value,
            part(r.numerator),
            part(r.denominator),
            Cell::text(r.period_from),
            Cell::text(r.period_to),
        ]);
    }
    let format = match args.format {
        Some(TableFormat::Csv) => Format::Csv,
        Some(TableFormat::Json) => Format::Json,
        Some(TableFormat::Md) => Format::Md,
        Some(TableFormat::Tex) => Format::Tex,
        Some(TableFormat::Html) => Format::Html,
        None if args.out.is_none() && std::io::stdout().is_terminal() => Format::Md,
        None => Format::Csv,
    };
    let text = table.render(format);
    match &args.out {
        Some(path) => write_atomic(path, text.as_bytes())?,
        None => crate::output::print_stdout(&text)?,
    }
    Ok(())
}
