//! `swp-eval weight --table FILE --treatment COL --covariates A,B,..`: balancing weights for the
//! effect on the treated (propensity-score or entropy balancing), with the balance table of the
//! weighted sample and the effective sample sizes.

use crate::commands::choice;
use crate::commands::table::{data_error, read_table};
use crate::output::{emit, resolve_format, TableFormat};
use crate::{CommandResult, Failure};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use swp_eval::evaluation::results::Balance;
use swp_eval::report::evaluation::balance_readable_weighted;
use swp_eval::report::table::Format;
use swp_eval::stats::balance::balance_table;
use swp_eval::stats::design::{expand, Expansion};
use swp_eval::stats::matching::{Distance, MatchData, MatchParams};
use swp_eval::stats::weighting::{effective_sample_size, entropy_weights, propensity_att_weights};

/// Balancing weights for the average effect on the treated: `ps` (the propensity model as
/// `match` builds it; treated 1, controls e / (1 - e)) or `entropy` (Hainmueller 2012: control
/// weights proportional to exp(lambda . x) that make every covariate's weighted control mean
/// equal the treated mean). Prints the balance table of the weighted sample (as `match`) with
/// the effective sample sizes; --weights-out writes the rows with a `weights` column.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  swp-eval weight --table lalonde.csv --treatment treat --covariates age,educ,race,married,nodegree,re74,re75\n  swp-eval weight --table lalonde.csv --treatment treat --covariates age,educ,race,married,nodegree,re74,re75 --method entropy --format json\n  swp-eval weight --table cohort.parquet --treatment pilot --covariates age,sex --weights-out weighted.parquet"
)]
pub struct Args {
    /// The table (CSV or Parquet), one row per unit.
    #[arg(long, value_name = "FILE")]
    pub table: PathBuf,
    /// The treatment column: 0/1 or true/false.
    #[arg(long, value_name = "COL")]
    pub treatment: String,
    /// Covariates (numbers, or text as indicators).
    #[arg(long, value_name = "A,B,..", value_delimiter = ',', required = true)]
    pub covariates: Vec<String>,
    /// ps: propensity-score weights; entropy: entropy balancing.
    #[arg(long, value_enum, default_value = "ps")]
    pub method: WeightMethod,
    /// The estimand (ATT only).
    #[arg(long, value_enum, default_value = "ATT")]
    pub estimand: crate::commands::matching::Estimand,
    /// The propensity model of ps: glm (logit) or probit.
    #[arg(long, value_parser = choice::parser::<Distance>(), default_value = "glm")]
    pub distance: Distance,
    /// Write the rows with a `weights` column to FILE (CSV, or Parquet when it ends in .parquet).
    #[arg(long, value_name = "FILE")]
    pub weights_out: Option<PathBuf>,
    /// Output format (default: md on a terminal, csv otherwise).
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,
    /// Write the balance table to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `--method`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightMethod {
    /// Propensity-score ATT weights.
    Ps,
    /// Entropy balancing.
    Entropy,
}

/// Runs `weight`.
pub fn run(args: Args) -> CommandResult {
    if !matches!(args.distance, Distance::Glm | Distance::Probit) {
        return Err(Failure::Usage("--distance must be glm or probit for propensity-score weights".into()));
    }
    if args.covariates.contains(&args.treatment) {
        return Err(Failure::Usage(format!("`{}` is the treatment; it cannot be a covariate too", args.treatment)));
    }
    let wanted: Vec<&str> = std::iter::once(&args.treatment).chain(&args.covariates).map(String::as_str).collect();
    let user = read_table(&args.table, args.weights_out.is_none().then_some(&wanted[..]))?;
    let treat = user.treatment(&args.treatment)?;
    let covariates = args.covariates.iter().map(|c| user.covariate(c)).collect::<Result<Vec<_>, _>>()?;
    let (weights, distance) = match args.method {
        WeightMethod::Ps => {
            let params =
                MatchParams::new().distance(args.distance).check().map_err(|e| Failure::Usage(e.to_string()))?;
            let data = MatchData { treat: &treat, covariates: &covariates, exact: &[] };
            let model = params
                .propensity(&data)
                .map_err(|e| data_error(format!("the propensity model failed: {e}")))?
                .ok_or_else(|| data_error("no propensity model was fitted".into()))?;
            let w = propensity_att_weights(&model.fitted, &treat).map_err(|e| data_error(e.to_string()))?;
            (w, Some(model.fitted))
        }
        WeightMethod::Entropy => {
            let model = expand(&covariates, Expansion::Model).map_err(|e| data_error(e.to_string()))?;
            let columns: Vec<(String, Vec<f64>)> = model.names.into_iter().zip(model.columns).skip(1).collect();
            (entropy_weights(&columns, &treat).map_err(|e| data_error(e.to_string()))?, None)
        }
    };
    let balance_columns = expand(&covariates, Expansion::Balance).map_err(|e| data_error(e.to_string()))?;
    let mut columns: Vec<(String, Vec<f64>)> = balance_columns.names.into_iter().zip(balance_columns.columns).collect();
    if let Some(d) = distance {
        columns.insert(0, ("distance".to_string(), d));
    }
    let table = balance_table(&columns, &treat, &weights);
    let balance = Balance::from_table(&table);
    let ess =
        |group: bool| effective_sample_size(weights.iter().zip(&treat).filter(|(_, &t)| t == group).map(|(w, _)| *w));
    if let Some(path) = &args.weights_out {
        write_weighted(user.frame().expect("read whole for --weights-out"), &weights, path)?;
    }
    let format = resolve_format(args.format, args.out.as_ref());
    let text = if matches!(format, Format::Json) {
        let mut value = serde_json::to_value(&balance).expect("balance serialises");
        if let Some(n) = value.get_mut("n").and_then(|n| n.as_object_mut()) {
            n.insert("ess_treated".into(), ess(true).into());
            n.insert("ess_control".into(), ess(false).into());
        }
        value["settings"] = serde_json::json!({
            "method": args.method,
            "estimand": "ATT",
            "distance": matches!(args.method, WeightMethod::Ps).then_some(args.distance),
        });
        serde_json::to_string_pretty(&value).expect("JSON values serialise") + "\n"
    } else {
        balance_readable_weighted(&balance, format, (ess(true), ess(false)))
    };
    emit(&text, args.out.as_ref())?;
    Ok(())
}

/// Writes every row with a `weights` column, atomically.
fn write_weighted(frame: &DataFrame, weights: &[f64], path: &Path) -> CommandResult {
    let mut out = frame.clone();
    out.with_column(Column::new(PlSmallStr::from("weights"), weights.to_vec()))
        .map_err(|e| data_error(format!("cannot add weights: {e}")))?;
    crate::output::write_frame(&mut out, path)?;
    Ok(())
}
