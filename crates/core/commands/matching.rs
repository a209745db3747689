//! `swp-eval match --table FILE --treatment COL --covariates A,B,..`: MatchIt-style matching
//! on any table, with the balance table before and after.

use crate::commands::choice;
use crate::commands::table::{data_error, read_table};
use crate::output::{emit, resolve_format, TableFormat};
use crate::{CommandResult, Failure};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use swp_eval::evaluation::results::Balance;
use swp_eval::report::evaluation::balance_readable;
use swp_eval::report::table::Format;
use swp_eval::stats::balance::{balance_table_sorted, SortedValues};
use swp_eval::stats::design::{expand_into, numeric_columns, Expansion};
use swp_eval::stats::matching::{Distance, MatchData, MatchParams, Matching, Method, Order};

/// Estimand flag (ATT only, as MatchIt's default).
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Estimand {
    /// Average treatment effect on the treated.
    #[value(name = "ATT")]
    Att,
}

/// Match treated rows of a table to control rows with R MatchIt 4's semantics and defaults
/// (nearest neighbour 1:1 on a logistic propensity score, largest first, no replacement), and
/// print the balance table before and after matching: means, standardised mean differences,
/// variance ratios and eCDF statistics, as MatchIt's summary(). Text covariates become one
/// indicator per level (race -> raceblack, racehispan, racewhite).
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  swp-eval match data/sample --config data/evaluation.toml\n  swp-eval match --table cohort.csv --treatment pilot --covariates age,sex,legal_status,prior_placements\n  swp-eval match --table cohort.csv --treatment pilot --covariates age,sex --caliper 0.2 --distance linear-logit --exact sex --format json\n  swp-eval match --table cohort.parquet --treatment pilot --covariates age,years_in_care --method cem --matched-out matched.csv"
)]
pub struct Args {
    /// A dataset directory: match pilot children to controls on the baseline covariates of
    /// docs/evaluation.md, with the settings of --config (instead of --table).
    #[arg(value_name = "DIR", conflicts_with_all = ["table", "treatment", "covariates"])]
    pub dir: Option<PathBuf>,
    /// The evaluation config (TOML) for DIR: cohort, covariates and matching settings
    /// (default: docs/evaluation.md's).
    #[arg(long, value_name = "FILE", requires = "dir")]
    pub config: Option<PathBuf>,
    /// The table (CSV or Parquet), one row per unit.
    #[arg(long, value_name = "FILE", required_unless_present = "dir")]
    pub table: Option<PathBuf>,
    /// The treatment column: 0/1 or true/false (1 = treated).
    #[arg(long, value_name = "COL", required_unless_present = "dir")]
    pub treatment: Option<String>,
    /// Covariates, comma-separated (text columns become one indicator per level).
    #[arg(long, value_name = "A,B,..", value_delimiter = ',', required_unless_present = "dir")]
    pub covariates: Vec<String>,
    /// Method.
    #[arg(long, value_parser = choice::parser::<Method>(), default_value = "nearest")]
    pub method: Method,
    /// Distance.
    #[arg(long, value_parser = choice::parser::<Distance>(), default_value = "glm")]
    pub distance: Distance,
    /// Controls per treated unit.
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub ratio: usize,
    /// Match with replacement.
    #[arg(long)]
    pub replace: bool,
    /// Caliper in standard deviations of the distance over all units (MatchIt's std.caliper).
    #[arg(long, value_name = "X")]
    pub caliper: Option<f64>,
    /// Variables to match exactly on, comma-separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub exact: Vec<String>,
    /// Order treated units take turns in (default: largest with a propensity score, data with
    /// Mahalanobis or replacement).
    #[arg(long, value_parser = choice::parser::<Order>())]
    pub order: Option<Order>,
    /// Estimand.
    #[arg(long, value_enum, default_value = "ATT")]
    pub estimand: Estimand,
    /// Seed of the random order.
    #[arg(long, default_value_t = 2009)]
    pub seed: u64,
    /// Write the matched rows, with `weights` and `subclass` columns, to FILE (CSV, or Parquet
    /// when it ends in .parquet).
    #[arg(long, value_name = "FILE")]
    pub matched_out: Option<PathBuf>,
    /// Output format (default: md on a terminal, csv otherwise).
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,
    /// Write the balance table to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `match`.
pub fn run(args: Args) -> CommandResult {
    if let Some(dir) = &args.dir {
        return run_cohort(&args, dir);
    }
    let (Some(table), Some(treatment_column)) = (&args.table, &args.treatment) else {
        return Err(Failure::Usage("give a dataset DIR, or --table, --treatment and --covariates".into()));
    };
    // the matched rows are written whole (every column); otherwise only the named columns are read
    let wanted: Vec<&str> =
        std::iter::once(treatment_column).chain(&args.covariates).chain(&args.exact).map(String::as_str).collect();
    let mut user = read_table(table, args.matched_out.is_none().then_some(&wanted[..]))?;
    let treat = user.treatment(treatment_column)?;
    if args.covariates.iter().any(|c| c == treatment_column) {
        return Err(Failure::Usage(format!("`{treatment_column}` is the treatment; it cannot be a covariate too")));
    }
    // the exact-matching columns first: the covariates' numeric columns are then moved out
    let exact = args.exact.iter().map(|c| user.covariate(c)).collect::<Result<Vec<_>, _>>()?;
    let covariates = user.take_covariates(&args.covariates)?;
    let params = MatchParams::new()
        .method(args.method)
        .distance(args.distance)
        .ratio(args.ratio)
        .replace(args.replace)
        .caliper(args.caliper)
        .order(args.order)
        .seed(args.seed)
        .check()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let data = MatchData { treat: &treat, covariates: &covariates, exact: &exact };
    let model = params.propensity(&data).map_err(|e| data_error(format!("matching failed: {e}")))?;
    // the balance table's sort of each covariate depends on the values and the treatment only:
    // done beside the matching (one column of sorted values per column of the expansion)
    let numeric = numeric_columns(&covariates, Expansion::Balance).map_err(|e| data_error(e.to_string()))?;
    let (matching, mut sorted) = rayon::join(
        || params.run_with(&data, model),
        || {
            use rayon::prelude::*;
            let sort = |x: &Option<&[f64]>| x.and_then(|x| SortedValues::for_balance(x, &treat));
            numeric.par_iter().map(sort).collect::<Vec<Option<SortedValues>>>()
        },
    );
    let matching = matching.map_err(|e| data_error(format!("matching failed: {e}")))?;
    // the covariates are not needed after matching: their columns move into the balance table
    let balance_columns = expand_into(covariates, Expansion::Balance).map_err(|e| data_error(e.to_string()))?;
    let mut columns: Vec<(String, Vec<f64>)> = balance_columns.names.into_iter().zip(balance_columns.columns).collect();
    if let Some(d) = &matching.distance {
        columns.insert(0, ("distance".to_string(), d.clone()));
        sorted.insert(0, None);
    }
    let table = balance_table_sorted(&columns, &treat, &matching.weights, &sorted);
    if let Some(path) = &args.matched_out {
        write_matched(user.frame().expect("read whole for --matched-out"), &matching, path)?;
    }
    let format = resolve_format(args.format, args.out.as_ref());
    let balance = Balance::from_table(&table);
    let text = if matches!(format, Format::Json) { json(&balance, &args) } else { balance_readable(&balance, format) };
    emit(&text, args.out.as_ref())?;
    Ok(())
}

/// The contract's JSON (docs/cli.md): the balance as `balance.json`, plus the settings and seed
/// used.
fn json(balance: &Balance, args: &Args) -> String {
    #[derive(serde::Serialize)]
    struct Settings<'a> {
        method: Method,
        distance: Distance,
        ratio: usize,
        replace: bool,
        caliper: Option<f64>,
        exact: &'a [String],
        estimand: &'static str,
        seed: u64,
    }
    #[derive(serde::Serialize)]
    struct Output<'a> {
        #[serde(flatten)]
        balance: &'a Balance,
        settings: Settings<'a>,
    }
    let settings = Settings {
        method: args.method,
        distance: args.distance,
        ratio: args.ratio,
        replace: args.replace,
        caliper: args.caliper,
        exact: &args.exact,
        estimand: "ATT",
        seed: args.seed,
    };
    serde_json::to_string_pretty(&Output { balance, settings }).expect("JSON values serialise") + "\n"
}

/// Writes the matched rows (positive weight) with `weights` and `subclass`, atomically.
fn write_matched(frame: &DataFrame, matching: &Matching, path: &Path) -> CommandResult {
    let keep: Vec<bool> = matching.weights.iter().map(|&w| w > 0.0).collect();
    let mask = BooleanChunked::from_slice(PlSmallStr::from("keep"), &keep);
    let mut out = frame.filter(&mask).map_err(|e| data_error(format!("cannot select matched rows: {e}")))?;
    let weights: Vec<f64> = matching.weights.iter().copied().filter(|&w| w > 0.0).collect();
    let subclass: Vec<Option<u32>> =
        matching.subclass.iter().zip(&keep).filter(|(_, &k)| k).map(|(s, _)| s.map(|s| s as u32)).collect();
    out.with_column(Column::new(PlSmallStr::from("weights"), weights))
        .and_then(|f| f.with_column(Column::new(PlSmallStr::from("subclass"), subclass)))
        .map_err(|e| data_error(format!("cannot add weights: {e}")))?;
    crate::output::write_frame(&mut out, path)?;
    Ok(())
}

/// `match DIR --config FILE`: the cohort of docs/evaluation.md on the index date and its matching;
/// prints the balance table (JSON as `balance.json`: `n` and `balance`) after small-number
/// suppression. The matching settings come from the config; the table flags do not apply.
fn run_cohort(args: &Args, dir: &Path) -> CommandResult {
    use swp_eval::evaluation::config::Config;
    use swp_eval::evaluation::Evaluation;
    let config = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::Usage(format!("could not read the config {}: {e}", p.display())))?;
            Config::from_toml(&text).map_err(|e| Failure::Usage(format!("{}: {e}", p.display())))?
        }
        None => Config::default(),
    };
    let evaluation = Evaluation::new(config)?;
    let loaded = swp_eval::data::load(dir)?;
    if loaded.report.has_problems() {
        return Err(data_error(format!(
            "{} does not pass validation ({} problem(s)); run `swp-eval validate {}` and fix them first",
            dir.display(),
            loaded.report.total(),
            dir.display()
        )));
    }
    let matched = evaluation.match_cohort(&loaded.dataset).map_err(|e| {
        if e.is_config() {
            Failure::Usage(e.to_string())
        } else {
            data_error(e.to_string())
        }
    })?;
    if let Some(path) = &args.matched_out {
        crate::output::write_cohort(&matched.cohort, path)?;
    }
    for w in &matched.warnings {
        eprintln!("warning: {w}");
    }
    let threshold = evaluation.config().threshold();
    let small = |x: Option<u64>| x.filter(|&v| !swp_eval::metrics::is_small(v as f64, threshold));
    let mut balance = matched.balance;
    let n = &mut balance.n;
    for c in [&mut n.treated, &mut n.control, &mut n.matched_treated, &mut n.matched_control, &mut n.discarded] {
        *c = small(*c);
    }
    let format = resolve_format(args.format, args.out.as_ref());
    let text = if matches!(format, Format::Json) {
        serde_json::to_string_pretty(&balance).expect("balance serialises") + "\n"
    } else {
        balance_readable(&balance, format)
    };
    emit(&text, args.out.as_ref())?;
    Ok(())
}
