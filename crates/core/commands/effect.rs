//! `swp-eval effect --table FILE --group COL --outcome COL`: effect sizes for one outcome
//! between two groups, with the inference that fits few clusters.

use crate::commands::choice;
use crate::commands::table::{data_error, read_table};
use crate::output::{emit, resolve_format, TableFormat};
use crate::{CommandResult, Failure};
use serde_json::Value;
use std::path::PathBuf;
use swp_eval::report::table::{Cell, Format, Table};
use swp_eval::stats::bootstrap::BootWeights;
use swp_eval::stats::summary::{summarise, EffectData, EffectOptions, EffectSummary, OutcomeScale};
use swp_eval::stats::StatsError;

/// Effect sizes for one outcome between the treated (group = 1) and control (group = 0) rows of
/// a table: difference in means with a Welch interval, Cohen's d and Hedges' g (noncentral-t
/// interval), risk difference / ratio / odds ratio for 0/1 outcomes, a Poisson rate ratio with
/// --exposure, Cliff's delta with --ordinal. With --cluster (e.g. site: only a few pilot sites
/// exist), standard errors are CR2 with Bell-McCaffrey degrees of freedom, plus CR1 and a wild
/// cluster bootstrap p-value with the null imposed.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  swp-eval effect --table matched.csv --group pilot --outcome sw_changes\n  swp-eval effect --table matched.csv --group pilot --outcome placement_moves --exposure years --cluster site_id --weights weights\n  swp-eval effect --table cohort.csv --group pilot --outcome satisfaction --ordinal --format json"
)]
pub struct Args {
    /// The table (CSV or Parquet), one row per unit.
    #[arg(long, value_name = "FILE")]
    pub table: PathBuf,
    /// The group column: 0/1 or true/false (1 = treated, e.g. pilot).
    #[arg(long, value_name = "COL")]
    pub group: String,
    /// The outcome column (numbers; 0/1 adds risk measures).
    #[arg(long, value_name = "COL")]
    pub outcome: String,
    /// Cluster column (e.g. site): cluster-robust inference.
    #[arg(long, value_name = "COL")]
    pub cluster: Option<String>,
    /// Weights column (e.g. match weights); rows with weight 0 are left out.
    #[arg(long, value_name = "COL")]
    pub weights: Option<String>,
    /// Exposure column (e.g. years looked after): a rate ratio of the outcome as a count.
    #[arg(long, value_name = "COL")]
    pub exposure: Option<String>,
    /// The outcome is ordinal (e.g. a satisfaction scale): add Cliff's delta and the
    /// Mann-Whitney test.
    #[arg(long)]
    pub ordinal: bool,
    /// Wild bootstrap replications.
    #[arg(long, default_value_t = 9999, value_name = "N")]
    pub reps: usize,
    /// Wild bootstrap weights.
    #[arg(long, value_parser = choice::parser::<BootWeights>(), default_value = "webb")]
    pub boot_weights: BootWeights,
    /// Seed of the bootstrap draws (recorded in the output).
    #[arg(long, default_value_t = 2009)]
    pub seed: u64,
    /// Output format (default: md on a terminal, csv otherwise).
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// What `effect --format json` prints: the outcome's name, every statistic of
/// [`summarise`], and the seed of the bootstrap draws.
#[derive(serde::Serialize)]
struct Output<'a> {
    outcome: &'a str,
    #[serde(flatten)]
    summary: EffectSummary,
    seed: u64,
}

/// Runs `effect`: reads the columns, calls [`summarise`], formats.
pub fn run(args: Args) -> CommandResult {
    if !(99..=1_000_000).contains(&args.reps) {
        return Err(Failure::Usage(format!(
            "--reps {} is not allowed: use 99 to 1,000,000 (9,999 recommended; with fewer than 99 draws a p-value below 0.01 cannot be told apart)",
            args.reps
        )));
    }
    let wanted: Vec<&str> =
        [Some(&args.group), Some(&args.outcome), args.weights.as_ref(), args.exposure.as_ref(), args.cluster.as_ref()]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
    let table = read_table(&args.table, Some(&wanted))?;
    let group = table.treatment(&args.group)?;
    let y = table.number_column(&args.outcome)?;
    let weights = args.weights.as_deref().map(|w| table.number_column(w)).transpose()?;
    if let Some(w) = &weights {
        if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(data_error(format!("weights must be non-negative numbers; data row {} has {}", i + 1, w[i])));
        }
    }
    let exposure = args.exposure.as_deref().map(|e| table.number_column(e)).transpose()?;
    let clusters = args.cluster.as_deref().map(|c| table.cluster_ids(c)).transpose()?;
    let data = EffectData {
        y: &y,
        treated: &group,
        weights: weights.as_deref(),
        exposure: exposure.as_deref(),
        clusters: clusters.as_deref(),
    };
    let options = EffectOptions {
        scale: if args.ordinal { OutcomeScale::Ordinal } else { OutcomeScale::Interval },
        reps: args.reps,
        boot_weights: args.boot_weights,
        seed: args.seed,
    };
    let summary = summarise(&data, &options).map_err(|e| {
        data_error(match (&e, &args.cluster) {
            (StatsError::TooFewPerGroup { .. }, _) => format!("`{}` has {e}", args.group),
            (StatsError::TooFewClustersPerGroup { .. }, Some(column)) => {
                format!("--cluster {column}: {e}; run without --cluster, or cluster more finely")
            }
            _ => format!("`{}`: {e}", args.outcome),
        })
    })?;
    let output = Output { outcome: &args.outcome, summary, seed: args.seed };
    let format = resolve_format(args.format, args.out.as_ref());
    let text = if matches!(format, Format::Json) {
        serde_json::to_string_pretty(&output).expect("the summary serialises") + "\n"
    } else {
        let Ok(Value::Object(fields)) = serde_json::to_value(&output) else {
            unreachable!("a struct serialises to an object")
        };
        let mut t = Table::new(vec!["statistic", "value"]);
        for (k, v) in &fields {
            let cell = match v {
                Value::Number(n) => Cell::Number(n.as_f64()),
                Value::Null => Cell::Number(None),
                Value::String(s) => Cell::text(s.clone()),
                other => Cell::text(other.to_string()),
            };
            t = t.row(vec![Cell::text(k.clone()), cell]);
        }
        t.render(format)
    };
    emit(&text, args.out.as_ref())?;
    Ok(())
}
