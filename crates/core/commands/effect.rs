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
    after_help = "Examples:\n  swp-eval effect --table matched.csv --group pilot --outcome sw_changes\n  swp-eval effect --table lalonde.csv --group treat --outcome re78 --covariates age,educ,race,married,nodegree,re74,re75\n  swp-eval effect --table matched.csv --group pilot --outcome placement_moves --exposure years --cluster site_id --weights weights\n  swp-eval effect --table cohort.csv --group pilot --outcome satisfaction --ordinal --format json"
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
    /// Adjust the difference for these columns (text columns as indicators): WLS of the outcome
    /// on the group, the covariates centred at the treated (weighted) means and their
    /// interactions with the group (Lin 2013), so the difference is the ATT; HC2 errors (with
    /// --cluster: CR2 with Bell-McCaffrey df and the wild bootstrap on the same model).
    #[arg(long, value_name = "A,B,..", value_delimiter = ',')]
    pub covariates: Vec<String>,
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
    /// Whether the difference is adjusted for covariates (--covariates).
    adjusted: bool,
    /// The covariates it is adjusted for.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    covariates: &'a [String],
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
    let mut wanted: Vec<&str> =
        [Some(&args.group), Some(&args.outcome), args.weights.as_ref(), args.exposure.as_ref(), args.cluster.as_ref()]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
    wanted.extend(args.covariates.iter().map(String::as_str));
    wanted.sort_unstable();
    wanted.dedup();
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
    let mut summary = summary;
    if !args.covariates.is_empty() {
        adjust(&args, &table, &data, &mut summary)?;
    }
    let output = Output {
        outcome: &args.outcome,
        summary,
        adjusted: !args.covariates.is_empty(),
        covariates: &args.covariates,
        seed: args.seed,
    };
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

/// Replaces the difference and its inference by the covariate-adjusted ones (Lin 2013), and
/// Hedges' g by the adjusted difference over the same pooled SD (What Works Clearinghouse), with
/// no noncentral interval (it would ignore the adjustment).
fn adjust(
    args: &Args,
    table: &crate::commands::table::UserData,
    data: &EffectData<'_>,
    summary: &mut EffectSummary,
) -> CommandResult {
    use swp_eval::stats::adjusted::adjusted_difference;
    use swp_eval::stats::bootstrap::{BootType, WildParams};
    use swp_eval::stats::summary::SeMethod;
    let covariates = args.covariates.iter().map(|name| table.covariate(name)).collect::<Result<Vec<_>, Failure>>()?;
    let params = WildParams { reps: args.reps, weights: args.boot_weights, kind: BootType::Wcr, seed: args.seed }
        .check()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    // one treated cluster: no cluster-robust inference (the summary says why); the estimate only
    let one_treated_cluster = matches!(summary.se_method, SeMethod::None);
    let clusters = if one_treated_cluster { None } else { data.clusters };
    let adjusted = adjusted_difference(data.y, data.treated, data.weights, &covariates, clusters, Some(&params))
        .map_err(|e| data_error(format!("--covariates {}: {e}", args.covariates.join(","))))?;
    let a = &adjusted.inference;
    let scale = if summary.difference != 0.0 { a.estimate / summary.difference } else { f64::NAN };
    summary.hedges_g = summary.hedges_g.map(|g| g * scale).filter(|g| g.is_finite());
    summary.cohens_d = summary.cohens_d.map(|d| d * scale).filter(|d| d.is_finite());
    summary.hedges_g_ci_low = None;
    summary.hedges_g_ci_high = None;
    summary.difference = a.estimate;
    if one_treated_cluster {
        return Ok(());
    }
    summary.se = a.se;
    summary.df = a.df;
    summary.ci_low = a.ci_low;
    summary.ci_high = a.ci_high;
    summary.p_value = a.p_value;
    summary.se_method = if data.clusters.is_some() { SeMethod::Cr2 } else { SeMethod::Hc2 };
    if let (Some(c), Some(w)) = (summary.clustered.as_mut(), &adjusted.wild) {
        c.wild_p_value = w.p_value;
        c.wild_ci_low = w.ci_low;
        c.wild_ci_high = w.ci_high;
        c.wild_reps = w.reps;
        // CR1 of the unadjusted model does not describe the adjusted one
        c.se_cr1 = f64::NAN;
        if c.ri_assignments > 0 {
            let note = "the randomisation p-value is of the unadjusted difference";
            c.note = Some(c.note.take().map_or(note.to_string(), |n| format!("{n}; {note}")));
        }
    }
    Ok(())
}
