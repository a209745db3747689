//! `swp-eval metrics DIR`: every metric of docs/metrics.md by group and period.

use crate::commands::choice;
use crate::output::{emit, resolve_format, write_atomic, TableFormat};
use crate::{CommandResult, Failure};
use std::path::{Path, PathBuf};
use swp_eval::data;
use swp_eval::data::date::{format_date, parse_date};
use swp_eval::metrics::monthly::monthly_rows;
use swp_eval::metrics::tables::{child_table, worker_table};
use swp_eval::metrics::{default_periods, metrics_of, suppress, GroupBy, MetricRow, MetricsParams, Period};
use swp_eval::report::table::{Cell, Table};

/// What the table holds.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    /// One row per group x metric x period (docs/metrics.md).
    Group,
    /// Monthly series per group: caseload, fte_in_post, leavers.
    Monthly,
    /// One row per child looked after in the period (needs --out; holds child ids).
    Child,
    /// One row per worker in post in the period (needs --out; holds worker ids).
    Worker,
}

/// Compute every metric of docs/metrics.md (workforce, caseloads, social-worker changes, contacts,
/// placement stability) for each group and period: one row per group x metric with value,
/// numerator and denominator. Small numbers are suppressed (printed `c`) unless --no-suppress.
/// --level monthly gives the monthly series for trend charts; --level child and --level worker
/// the row-level tables behind the aggregates (for matching), written only to --out.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  swp-eval metrics data/sample\n  swp-eval metrics data/sample --by arm --period 2010-04-01:2011-03-31 --format json\n  swp-eval metrics data/sample --by model --format csv --out metrics.csv\n  swp-eval metrics data/sample --by arm --level monthly --out trends.csv\n  swp-eval metrics data/sample --level child --period 2010-04-01:2011-03-31 --out children.csv\n  swp-eval metrics data/sample --by arm --chart moves.svg --chart-metric placement_moves_per_child_year"
)]
pub struct Args {
    /// The dataset directory.
    pub dir: PathBuf,
    /// A period FROM:TO (ISO dates, both included; repeatable). Default: every financial year the data covers.
    #[arg(long = "period", value_name = "FROM:TO")]
    pub periods: Vec<String>,
    /// Grouping.
    #[arg(long, value_parser = choice::parser::<GroupBy>(), default_value = "site")]
    pub by: GroupBy,
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
    /// Table: group metrics, monthly series, or the child- or worker-level table.
    #[arg(long, value_enum, default_value = "group")]
    pub level: Level,
    /// Caseload above which share_caseload_over_20 counts a worker.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub caseload_threshold: usize,
    /// Also draw the metric of --chart-metric by period and group to FILE (.svg or .png);
    /// suppressed values are left out.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
    /// The metric --chart draws (default: sw_changes_per_child_year; caseload with --level monthly).
    #[arg(long, value_name = "METRIC")]
    pub chart_metric: Option<String>,
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
    if matches!(args.level, Level::Child | Level::Worker) && args.out.is_none() {
        return Err(Failure::Usage(
            "--level child and --level worker tables hold child or worker ids: give --out FILE (they are never printed)"
                .to_string(),
        ));
    }
    let mut periods = args.periods.iter().map(|p| parse_period(p)).collect::<Result<Vec<_>, _>>()?;
    let loaded = data::load(&args.dir)?;
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
        match default_periods(dataset) {
            Some(all) => periods = all,
            None => {
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
    let by = args.by;
    let params =
        MetricsParams { by, caseload_threshold: args.caseload_threshold, ..MetricsParams::default() }.check()?;
    let index = params.index(dataset);
    let threshold = if args.no_suppress { 0 } else { args.threshold };
    if args.chart.is_some() && matches!(args.level, Level::Child | Level::Worker) {
        return Err(Failure::Usage(
            "--chart draws group metrics or the monthly series: use --level group or monthly".into(),
        ));
    }
    // once per table: the sites whose coverage starts after the first period's start
    if let Some(first) = periods.iter().map(|p| p.from).min() {
        for note in coverage_notes(&index, first) {
            eprintln!("note: {note}");
        }
    }
    let group_rows = match args.level {
        Level::Group => Some(metrics_of(&index, &periods, params.caseload_threshold)),
        Level::Monthly => Some(periods.iter().flat_map(|&p| monthly_rows(&index, p)).collect()),
        _ => None,
    };
    if let (Some(path), Some(rows)) = (&args.chart, &group_rows) {
        draw_chart(&args, path, rows, threshold, &dataset.manifest.name)?;
    }
    let table = match args.level {
        Level::Group | Level::Monthly => published_table(group_rows.unwrap_or_default(), threshold),
        Level::Child => {
            let mut table = Table::new(vec![
                "period_from",
                "period_to",
                "site_id",
                "child_id",
                "group",
                "age_at_end",
                "days_looked_after",
                "sw_changes",
                "distinct_workers",
                "placements",
                "placement_moves",
                "long_term_stable",
            ]);
            for &p in &periods {
                for r in child_table(&index, p) {
                    let (from, to) = period_cells(p);
                    table = table.row(vec![
                        from,
                        to,
                        Cell::text(r.site_id),
                        Cell::text(r.child_id),
                        Cell::text(r.group),
                        count(r.age_at_end),
                        Cell::number(r.days_looked_after as f64),
                        count(Some(r.sw_changes)),
                        count(Some(r.distinct_workers)),
                        count(r.placements),
                        count(Some(r.placement_moves)),
                        flag(r.long_term_stable),
                    ]);
                }
            }
            table
        }
        Level::Worker => {
            let mut table = Table::new(vec![
                "period_from",
                "period_to",
                "worker_id",
                "site_id",
                "group",
                "spells",
                "agency",
                "fte",
                "days_in_post",
                "in_post_at_end",
                "left_in_period",
                "caseload_at_end",
                "mean_caseload",
            ]);
            for &p in &periods {
                for r in worker_table(&index, p) {
                    let (from, to) = period_cells(p);
                    table = table.row(vec![
                        from,
                        to,
                        Cell::text(r.worker_id),
                        Cell::text(r.site_id),
                        Cell::text(r.group),
                        count(Some(r.spells)),
                        flag(Some(r.agency)),
                        Cell::number(r.fte),
                        Cell::number(r.days_in_post as f64),
                        flag(Some(r.in_post_at_end)),
                        flag(Some(r.left_in_period)),
                        count(Some(r.caseload_at_end)),
                        Cell::Number(r.mean_caseload),
                    ]);
                }
            }
            table
        }
    };
    let format = resolve_format(args.format, args.out.as_ref());
    let text = table.render(format);
    emit(&text, args.out.as_ref())?;
    Ok(())
}

fn period_cells(p: Period) -> (Cell, Cell) {
    (Cell::text(format_date(p.from)), Cell::text(format_date(p.to)))
}

fn count(x: Option<u32>) -> Cell {
    Cell::Number(x.map(f64::from))
}

fn flag(x: Option<bool>) -> Cell {
    match x {
        Some(b) => Cell::text(if b { "true" } else { "false" }),
        None => Cell::Number(None),
    }
}

/// The group-level table of docs/metrics.md rows after small-number suppression (`threshold` 0:
/// none).
fn published_table(rows: Vec<MetricRow>, threshold: u32) -> Table {
    let mut table =
        Table::new(vec!["group", "metric", "value", "numerator", "denominator", "period_from", "period_to"]);
    for p in suppress(rows, threshold) {
        let r = p.row;
        let part = |x: Option<f64>| if p.suppressed { Cell::Suppressed } else { Cell::Number(x) };
        table = table.row(vec![
            Cell::text(r.group),
            Cell::text(r.metric),
            part(r.value),
            part(r.numerator),
            part(r.denominator),
            Cell::text(r.period_from),
            Cell::text(r.period_to),
        ]);
    }
    table
}

/// Draws `--chart`: the chosen metric by period, one line per group, after suppression.
fn draw_chart(args: &Args, path: &Path, rows: &[MetricRow], threshold: u32, name: &Option<String>) -> CommandResult {
    use swp_eval::report::charts::{metric_chart, MetricSeries};
    let metric = args.chart_metric.clone().unwrap_or_else(|| {
        if matches!(args.level, Level::Monthly) { "caseload" } else { "sw_changes_per_child_year" }.to_string()
    });
    let published = suppress(rows.iter().filter(|r| r.metric == metric).cloned().collect(), threshold);
    if published.is_empty() {
        let mut known: Vec<&str> = rows.iter().map(|r| r.metric).collect();
        known.sort_unstable();
        known.dedup();
        return Err(Failure::Usage(format!(
            "--chart-metric `{metric}` is not among the metrics computed: {}",
            known.join(", ")
        )));
    }
    let mut series = MetricSeries { metric: metric.clone(), groups: Vec::new() };
    for p in &published {
        let point = (p.row.period_from.clone(), if p.suppressed { None } else { p.row.value });
        match series.groups.iter_mut().find(|(g, _)| *g == p.row.group) {
            Some((_, points)) => points.push(point),
            None => series.groups.push((p.row.group.clone(), vec![point])),
        }
    }
    let source = format!(
        "Source: swp-eval {}, {}; small numbers suppressed{}.",
        env!("CARGO_PKG_VERSION"),
        name.clone().unwrap_or_else(|| args.dir.display().to_string()),
        if threshold > 1 { "" } else { " (off)" }
    );
    let figure = metric_chart(&series, &source)?;
    let svg = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    let png = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !svg && !png {
        return Err(Failure::Usage(format!("--chart {}: give a file ending in .svg or .png", path.display())));
    }
    write_atomic(path, if svg { figure.svg.as_bytes() } else { &figure.png })?;
    Ok(())
}

/// The coverage limits a reader of these periods should know: per table, the sites it covers
/// only from a later date (metrics reading it are null before) and those it does not cover.
fn coverage_notes(index: &swp_eval::metrics::Index, first: i32) -> Vec<String> {
    use swp_eval::metrics::coverage::Source;
    let limits = index.coverage.limits(&index.groups.site_ids, first);
    let mut notes: Vec<String> = index.coverage.ignored.clone();
    for source in Source::ALL {
        let mut by_date: Vec<(Option<String>, Vec<&str>)> = Vec::new();
        for (_, site, from) in limits.iter().filter(|(s, _, _)| *s == source) {
            match by_date.iter_mut().find(|(d, _)| d == from) {
                Some((_, sites)) => sites.push(site),
                None => by_date.push((from.clone(), vec![site])),
            }
        }
        for (from, sites) in by_date {
            notes.push(match from {
                Some(d) => format!(
                    "{} covers {} from {d}: metrics that read it are null for periods starting earlier",
                    source.name(),
                    sites.join(" ")
                ),
                None => format!(
                    "{} has no rows for {}: metrics that read it are null there",
                    source.name(),
                    sites.join(" ")
                ),
            });
        }
    }
    notes
}
