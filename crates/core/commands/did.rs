//! `swp-eval did --table FILE --unit COL --time COL --first-treated COL --outcome COL`:
//! Callaway and Sant'Anna's staggered difference-in-differences on any balanced panel.

use crate::commands::table::{data_error, read_table};
use crate::output::{emit, resolve_format, write_atomic, TableFormat};
use crate::{CommandResult, Failure};
use std::path::PathBuf;
use swp_eval::report::charts::{event_study, EventPoint, EventStudy};
use swp_eval::report::table::{Cell, Format, Table};
use swp_eval::stats::did::staggered::{
    att_gt, normal_interval, Aggregate, Aggregation, Band, Base, Control, Fit, Options, Panel, Wald,
};

/// Group-time average treatment effects ATT(g, t) for units first treated in different
/// periods (Callaway and Sant'Anna 2021), as R did::att_gt with `est_method = "reg"` and no
/// covariates: each group against never-treated (or not-yet-treated) units, with analytic
/// standard errors from the influence function (clustered on --cluster), the simple, dynamic
/// (event-study), group and calendar aggregates as did::aggte, and the joint Wald test that
/// the pre-treatment event-time effects are 0. --reps adds the multiplier bootstrap's uniform
/// bands; --chart draws the event study.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  swp-eval did --table panel.csv --unit site --time year --first-treated first_year --outcome turnover\n  swp-eval did --table panel.csv --unit site --time year --first-treated first_year --outcome turnover --control not-yet --format json\n  swp-eval did --table panel.parquet --unit id --time period --first-treated g --outcome y --cluster state --reps 999 --seed 7 --chart event.svg\n\nThe panel must be balanced (every unit in every period, once). --first-treated holds the first\nperiod a unit is treated, 0 or empty for never treated; it must not change within a unit."
)]
pub struct Args {
    /// The panel (CSV or Parquet), one row per unit and period.
    #[arg(long, value_name = "FILE")]
    pub table: PathBuf,
    /// Unit identifier column (numbers or text).
    #[arg(long, value_name = "COL")]
    pub unit: String,
    /// Period column (whole numbers, e.g. a year).
    #[arg(long, value_name = "COL")]
    pub time: String,
    /// First treated period of each unit (0 or empty: never treated).
    #[arg(long, value_name = "COL")]
    pub first_treated: String,
    /// Outcome column (numbers).
    #[arg(long, value_name = "COL")]
    pub outcome: String,
    /// Comparison units: never treated, or also those not yet treated.
    #[arg(long, value_enum, default_value = "never")]
    pub control: ControlArg,
    /// Base period of the pre-treatment cells: the period before (varying) or before treatment
    /// for all (universal).
    #[arg(long, value_enum, default_value = "varying")]
    pub base: BaseArg,
    /// Cluster column for the standard errors (default: the unit). Must not vary within a unit.
    #[arg(long, value_name = "COL")]
    pub cluster: Option<String>,
    /// Periods before treatment in which units may already respond.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub anticipation: i64,
    /// Multiplier bootstrap draws for uniform bands (0: analytic standard errors only).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub reps: usize,
    /// Seed of the bootstrap draws (recorded in the output).
    #[arg(long, default_value_t = 2009)]
    pub seed: u64,
    /// Draw the event study (dynamic effects with 95% intervals) to FILE (.svg or .png).
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
    /// Output format (default: md on a terminal, csv otherwise).
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `--control`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ControlArg {
    /// Never-treated units.
    Never,
    /// Never-treated units and units not yet treated.
    NotYet,
}

/// `--base`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum BaseArg {
    /// The period before each pre-treatment period.
    Varying,
    /// The last period before treatment, for every cell.
    Universal,
}

/// A cell of the JSON's `att_gt`.
#[derive(serde::Serialize)]
struct CellRow {
    group: i64,
    time: i64,
    att: f64,
    se: Option<f64>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    post: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    uniform_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uniform_high: Option<f64>,
}

/// A row of the JSON's `aggregates`.
#[derive(serde::Serialize)]
struct AggregateRow {
    #[serde(rename = "type")]
    kind: Aggregation,
    at: Option<i64>,
    att: f64,
    se: Option<f64>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uniform_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uniform_high: Option<f64>,
}

/// The bootstrap settings and critical values, when --reps is given.
#[derive(serde::Serialize)]
struct Bootstrap {
    reps: usize,
    seed: u64,
    critical_value_att_gt: f64,
    critical_value_dynamic: f64,
}

/// What `did --format json` prints (CLI.md v1.2).
#[derive(serde::Serialize)]
struct Output {
    outcome: String,
    control: Control,
    base: Base,
    anticipation: i64,
    att_gt: Vec<CellRow>,
    aggregates: Vec<AggregateRow>,
    pretrend: Option<Wald>,
    n_units: usize,
    n_periods: usize,
    n_clusters: usize,
    groups: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bootstrap: Option<Bootstrap>,
    notes: Vec<String>,
}

/// The panel read from the table: units' labels, periods, groups, outcomes (unit-major), clusters.
struct ReadPanel {
    units: Vec<String>,
    periods: Vec<i64>,
    first_treated: Vec<Option<i64>>,
    y: Vec<f64>,
    cluster: Option<Vec<usize>>,
}

/// Up to five labels, then how many more.
fn name_some(labels: &[&str]) -> String {
    let shown: Vec<&str> = labels.iter().take(5).copied().collect();
    let more = labels.len().saturating_sub(5);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// A whole number from `v` (a period), or an error naming the column and row.
fn whole(v: f64, column: &str, row: usize) -> Result<i64, Failure> {
    if v.fract() != 0.0 || v.abs() > 1e15 {
        return Err(data_error(format!(
            "column `{column}` must hold whole numbers (periods); data row {} has {v}",
            row + 1
        )));
    }
    Ok(v as i64)
}

fn read_panel(args: &Args) -> Result<ReadPanel, Failure> {
    let mut wanted = vec![args.unit.as_str(), args.time.as_str(), args.first_treated.as_str(), args.outcome.as_str()];
    if let Some(c) = &args.cluster {
        wanted.push(c);
    }
    wanted.dedup();
    let table = read_table(&args.table, Some(&wanted))?;
    let (unit_of_row, units) = table.labelled(&args.unit)?;
    let time = table.number_column(&args.time)?;
    let first = table.numbers_or_empty(&args.first_treated)?;
    let y = table.number_column(&args.outcome)?;
    let cluster_of_row = args.cluster.as_deref().map(|c| table.labelled(c)).transpose()?;
    let times: Vec<i64> = time.iter().enumerate().map(|(r, &v)| whole(v, &args.time, r)).collect::<Result<_, _>>()?;
    let mut periods = times.clone();
    periods.sort_unstable();
    periods.dedup();
    let (n, t) = (units.len(), periods.len());
    let mut values = vec![f64::NAN; n * t];
    let mut seen = vec![false; n * t];
    let mut group: Vec<Option<Option<i64>>> = vec![None; n];
    let mut cluster: Vec<Option<usize>> = vec![None; n];
    let mut changing = Vec::new();
    let mut cluster_changing = Vec::new();
    for (r, (&u, &tv)) in unit_of_row.iter().zip(&times).enumerate() {
        let ti = periods.binary_search(&tv).unwrap_or_default();
        if std::mem::replace(&mut seen[u * t + ti], true) {
            return Err(data_error(format!(
                "{}: unit {} appears twice in period {tv} (data row {}); a panel has one row per unit and period",
                args.table.display(),
                units[u],
                r + 1
            )));
        }
        values[u * t + ti] = y[r];
        let g = match first[r] {
            None => None,
            Some(0.0) => None,
            Some(v) => Some(whole(v, &args.first_treated, r)?),
        };
        match group[u] {
            None => group[u] = Some(g),
            Some(previous) if previous != g => changing.push(u),
            Some(_) => {}
        }
        if let Some((ids, _)) = &cluster_of_row {
            match cluster[u] {
                None => cluster[u] = Some(ids[r]),
                Some(c) if c != ids[r] => cluster_changing.push(u),
                Some(_) => {}
            }
        }
    }
    changing.sort_unstable();
    changing.dedup();
    if !changing.is_empty() {
        let names: Vec<&str> = changing.iter().map(|&u| units[u].as_str()).collect();
        return Err(data_error(format!(
            "`{}` changes within unit(s) {}: the first treated period is a property of the unit (once treated, always treated); give each unit one value",
            args.first_treated,
            name_some(&names)
        )));
    }
    cluster_changing.sort_unstable();
    cluster_changing.dedup();
    if !cluster_changing.is_empty() {
        let names: Vec<&str> = cluster_changing.iter().map(|&u| units[u].as_str()).collect();
        return Err(data_error(format!(
            "--cluster `{}` changes within unit(s) {}: units must be nested in clusters",
            args.cluster.as_deref().unwrap_or_default(),
            name_some(&names)
        )));
    }
    let incomplete: Vec<&str> =
        (0..n).filter(|&u| seen[u * t..(u + 1) * t].iter().any(|s| !s)).map(|u| units[u].as_str()).collect();
    if !incomplete.is_empty() {
        return Err(data_error(format!(
            "{}: the panel is unbalanced: unit(s) {} miss some of the {t} periods ({} to {}); give every unit every period, or drop those units",
            args.table.display(),
            name_some(&incomplete),
            periods[0],
            periods[t - 1]
        )));
    }
    Ok(ReadPanel {
        units,
        periods,
        first_treated: group.into_iter().map(Option::unwrap_or_default).collect(),
        y: values,
        cluster: cluster_of_row.map(|_| cluster.into_iter().map(Option::unwrap_or_default).collect()),
    })
}

/// Aggregate rows for the JSON and tables, with uniform bands for the event study when drawn.
fn aggregate_rows(aggregate: &Aggregate, band: Option<&Band>) -> Vec<AggregateRow> {
    let z = |att: f64, se: Option<f64>| normal_interval(att, se, 0.05);
    let mut rows = Vec::new();
    let (low, high) = z(aggregate.overall.att, aggregate.overall.se);
    rows.push(AggregateRow {
        kind: aggregate.kind,
        at: None,
        att: aggregate.overall.att,
        se: aggregate.overall.se,
        ci_low: low,
        ci_high: high,
        uniform_low: None,
        uniform_high: None,
    });
    if aggregate.kind == Aggregation::Simple {
        return rows;
    }
    for (k, e) in aggregate.by.iter().enumerate() {
        let (low, high) = z(e.att, e.se);
        let uniform = band.and_then(|b| b.se[k].map(|s| (e.att - b.critical_value * s, e.att + b.critical_value * s)));
        rows.push(AggregateRow {
            kind: aggregate.kind,
            at: e.at,
            att: e.att,
            se: e.se,
            ci_low: low,
            ci_high: high,
            uniform_low: uniform.map(|u| u.0),
            uniform_high: uniform.map(|u| u.1),
        });
    }
    rows
}

fn notes(fit: &Fit, panel: &ReadPanel) -> Vec<String> {
    let mut notes = Vec::new();
    if fit.dropped_units > 0 {
        notes.push(format!(
            "{} unit(s) treated in the first period (allowing for anticipation) were dropped: no period precedes their treatment",
            fit.dropped_units
        ));
    }
    if fit.late_as_never > 0 {
        notes.push(format!(
            "{} unit(s) first treated after the last period ({}) are compared as never treated",
            fit.late_as_never,
            panel.periods.last().copied().unwrap_or_default()
        ));
    }
    if let Some(g) = fit.last_group_as_never {
        notes.push(format!(
            "no unit is never treated: group {g} (the last) serves as never treated, and periods from {g} on are not used"
        ));
    }
    if !fit.skipped.is_empty() {
        let cells: Vec<String> = fit.skipped.iter().map(|(g, t)| format!("({g}, {t})")).collect();
        notes.push(format!("no comparison units for group-time cell(s) {}: left out", cells.join(", ")));
    }
    notes
}

/// Runs `did`.
pub fn run(args: Args) -> CommandResult {
    if args.anticipation < 0 {
        return Err(Failure::Usage(format!("--anticipation {} must be 0 or more periods", args.anticipation)));
    }
    if args.reps != 0 && !(99..=100_000).contains(&args.reps) {
        return Err(Failure::Usage(format!(
            "--reps {} is not allowed: use 0 (no bootstrap) or 99 to 100,000 (999 recommended)",
            args.reps
        )));
    }
    if let Some(path) = &args.chart {
        let ext = path.extension().map(|e| e.to_ascii_lowercase());
        if !matches!(ext.as_ref().and_then(|e| e.to_str()), Some("svg" | "png")) {
            return Err(Failure::Usage(format!("--chart {}: give a file ending in .svg or .png", path.display())));
        }
    }
    let panel = read_panel(&args)?;
    let options = Options {
        control: match args.control {
            ControlArg::Never => Control::Never,
            ControlArg::NotYet => Control::NotYet,
        },
        base: match args.base {
            BaseArg::Varying => Base::Varying,
            BaseArg::Universal => Base::Universal,
        },
        anticipation: args.anticipation,
    };
    let fit = att_gt(
        &Panel {
            periods: &panel.periods,
            first_treated: &panel.first_treated,
            y: &panel.y,
            cluster: panel.cluster.as_deref(),
        },
        &options,
    )
    .map_err(|e| data_error(format!("{}: {e}", args.table.display())))?;
    let no_cells: Vec<String> = fit
        .groups
        .iter()
        .filter(|&&g| !fit.cells.iter().any(|c| c.group == g && c.post))
        .map(|g| {
            let members: Vec<&str> = panel
                .first_treated
                .iter()
                .zip(&panel.units)
                .filter(|(f, _)| **f == Some(*g))
                .map(|(_, u)| u.as_str())
                .collect();
            format!("group {g} (unit(s) {})", name_some(&members))
        })
        .collect();
    if !no_cells.is_empty() {
        return Err(data_error(format!(
            "{}: no comparison units after treatment for {}; use --control never with never-treated units, or drop the group",
            args.table.display(),
            no_cells.join("; ")
        )));
    }
    let aggregates: Vec<Aggregate> =
        [Aggregation::Simple, Aggregation::Dynamic, Aggregation::Group, Aggregation::Calendar]
            .into_iter()
            .map(|kind| fit.aggregate(kind))
            .collect();
    let dynamic = &aggregates[1];
    let bands = if args.reps > 0 {
        let cells = fit.uniform_band(None, args.reps, args.seed, 0.05).map_err(|e| data_error(e.to_string()))?;
        let events =
            fit.uniform_band(Some(dynamic), args.reps, args.seed, 0.05).map_err(|e| data_error(e.to_string()))?;
        Some((cells, events))
    } else {
        None
    };
    let att_gt_rows: Vec<CellRow> = fit
        .cells
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let (low, high) = normal_interval(c.att, c.se, 0.05);
            let uniform = bands
                .as_ref()
                .and_then(|(b, _)| b.se[k].map(|s| (c.att - b.critical_value * s, c.att + b.critical_value * s)));
            CellRow {
                group: c.group,
                time: c.time,
                att: c.att,
                se: c.se,
                ci_low: low,
                ci_high: high,
                post: c.post,
                uniform_low: uniform.map(|u| u.0),
                uniform_high: uniform.map(|u| u.1),
            }
        })
        .collect();
    let mut aggregate_table = Vec::new();
    for a in &aggregates {
        let band = if a.kind == Aggregation::Dynamic { bands.as_ref().map(|(_, e)| e) } else { None };
        aggregate_table.extend(aggregate_rows(a, band));
    }
    let pretrend = fit.pretrend(dynamic);
    let notes = notes(&fit, &panel);
    for note in &notes {
        eprintln!("note: {note}");
    }
    if let Some(path) = &args.chart {
        draw(&args, path, &aggregate_table, pretrend.as_ref(), fit.anticipation)?;
    }
    let output = Output {
        outcome: args.outcome.clone(),
        control: options.control,
        base: options.base,
        anticipation: options.anticipation,
        att_gt: att_gt_rows,
        aggregates: aggregate_table,
        pretrend,
        n_units: fit.n_units,
        n_periods: panel.periods.len(),
        n_clusters: fit.n_clusters,
        groups: fit.groups.clone(),
        bootstrap: bands.as_ref().map(|(c, e)| Bootstrap {
            reps: args.reps,
            seed: args.seed,
            critical_value_att_gt: c.critical_value,
            critical_value_dynamic: e.critical_value,
        }),
        notes,
    };
    let format = resolve_format(args.format, args.out.as_ref());
    let text = if matches!(format, Format::Json) {
        serde_json::to_string_pretty(&output).expect("the estimates serialise") + "\n"
    } else {
        render_tables(&output, format)
    };
    emit(&text, args.out.as_ref())?;
    Ok(())
}

/// The aggregates, then the cells, then the pre-trend test, as tables in `format`.
fn render_tables(output: &Output, format: Format) -> String {
    let number = |v: Option<f64>| Cell::Number(v);
    let mut aggregates = Table::new(vec!["type", "at", "att", "se", "ci_low", "ci_high"]);
    for r in &output.aggregates {
        let kind = serde_json::to_value(r.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        aggregates = aggregates.row(vec![
            Cell::text(kind),
            r.at.map_or(Cell::text("overall"), |a| Cell::text(a.to_string())),
            number(Some(r.att)),
            number(r.se),
            number(r.ci_low),
            number(r.ci_high),
        ]);
    }
    let mut cells = Table::new(vec!["group", "time", "att", "se", "ci_low", "ci_high", "post"]);
    for r in &output.att_gt {
        cells = cells.row(vec![
            Cell::text(r.group.to_string()),
            Cell::text(r.time.to_string()),
            number(Some(r.att)),
            number(r.se),
            number(r.ci_low),
            number(r.ci_high),
            Cell::text(if r.post { "yes" } else { "no" }),
        ]);
    }
    let mut text = aggregates.render(format);
    text.push('\n');
    text.push_str(&cells.render(format));
    if matches!(format, Format::Md) {
        text.push('\n');
        text.push_str(&match &output.pretrend {
            Some(w) => format!(
                "Pre-trends: Wald chi-square {:.3} on {} df, p = {:.4} (H0: every pre-treatment event-time effect is 0)\n",
                w.statistic, w.df, w.p_value
            ),
            None => "Pre-trends: no pre-treatment event time to test\n".to_string(),
        });
    }
    text
}

/// Draws the event study to `path`.
fn draw(
    args: &Args,
    path: &std::path::Path,
    rows: &[AggregateRow],
    pretrend: Option<&Wald>,
    delta: i64,
) -> CommandResult {
    let points: Vec<EventPoint> = rows
        .iter()
        .filter(|r| r.kind == Aggregation::Dynamic)
        .filter_map(|r| Some(EventPoint { event: r.at?, att: r.att, low: r.ci_low, high: r.ci_high }))
        .collect();
    let study = EventStudy {
        name: format!("event_study_{}", args.outcome),
        title: format!("Event study: {}", args.outcome.replace('_', " ")),
        y_label: format!("ATT on {}", args.outcome.replace('_', " ")),
        points,
        anticipation: delta,
        anticipation_label: "anticipation period(s)".into(),
        pretrend: pretrend.map(|w| (w.statistic, w.df, w.p_value)),
    };
    let source = format!(
        "Source: swp-eval {}, {}; Callaway and Sant'Anna (2021), 95% pointwise intervals.",
        env!("CARGO_PKG_VERSION"),
        args.table.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default()
    );
    let figure = event_study(&study, &source)?;
    let svg = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    write_atomic(path, if svg { figure.svg.as_bytes() } else { &figure.png })?;
    Ok(())
}
