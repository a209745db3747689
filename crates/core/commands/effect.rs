//! `swp-eval effect --table FILE --group COL --outcome COL`: effect sizes for one outcome
//! between two groups, with the inference that fits few clusters.

use crate::commands::table::{covariate, data_error, read_table, treatment};
use crate::output::{emit, resolve_format, TableFormat};
use crate::{CommandResult, Failure};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use swp_eval::report::table::{Cell, Format, Table};
use swp_eval::stats::bootstrap::{BootType, BootWeights, WildParams, WildProblem};
use swp_eval::stats::design::Values;
use swp_eval::stats::effects::{
    cliffs_delta, rate_ratio_weighted, risks_weighted, standardised_weighted, weighted_difference, welch,
};
use swp_eval::stats::regression::wls;
use swp_eval::stats::Matrix;

/// Bootstrap weights flag.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum BootFlag {
    /// Webb's six-point weights (default; better with very few clusters).
    Webb,
    /// Rademacher +-1.
    Rademacher,
}

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
    #[arg(long, value_enum, default_value = "webb")]
    pub boot_weights: BootFlag,
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

/// An outcome, weight or exposure column: numbers, each finite and within the table reader's
/// limit ([`covariate`] refuses the rest with its row).
fn numbers(frame: &polars::prelude::DataFrame, name: &str, args: &Args) -> Result<Vec<f64>, Failure> {
    match covariate(frame, name, &args.table)?.values {
        Values::Numeric(v) => Ok(v),
        Values::Text(_) => Err(data_error(format!("{} column `{name}` must hold numbers", args.table.display()))),
    }
}

fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

/// Runs `effect`.
pub fn run(args: Args) -> CommandResult {
    if !(99..=1_000_000).contains(&args.reps) {
        return Err(Failure::Usage(format!(
            "--reps {} is not allowed: use 99 to 1,000,000 (9,999 recommended; with fewer than 99 draws a p-value below 0.01 cannot be told apart)",
            args.reps
        )));
    }
    let frame = read_table(&args.table)?;
    let group = treatment(&frame, &args.group, &args.table)?;
    let y = numbers(&frame, &args.outcome, &args)?;
    let weights = args.weights.as_deref().map(|w| numbers(&frame, w, &args)).transpose()?;
    if let Some(w) = &weights {
        if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(data_error(format!("weights must be non-negative numbers; data row {} has {}", i + 1, w[i])));
        }
    }
    let keep: Vec<usize> = (0..y.len()).filter(|&i| weights.as_ref().is_none_or(|w| w[i] > 0.0)).collect();
    let pick = |v: &[f64]| -> Vec<f64> { keep.iter().map(|&i| v[i]).collect() };
    let treated_y: Vec<f64> = keep.iter().filter(|&&i| group[i]).map(|&i| y[i]).collect();
    let control_y: Vec<f64> = keep.iter().filter(|&&i| !group[i]).map(|&i| y[i]).collect();
    let fail = |e: swp_eval::stats::StatsError| data_error(format!("`{}`: {e}", args.outcome));
    let mut out = Map::new();
    out.insert("outcome".into(), json!(args.outcome));
    out.insert("n_treated".into(), json!(treated_y.len()));
    out.insert("n_control".into(), json!(control_y.len()));
    let g: Vec<bool> = keep.iter().map(|&i| group[i]).collect();
    let yk = pick(&y);
    let wk = weights.as_ref().map(|w| pick(w));
    let wmean = |want: bool| -> f64 {
        let (s, sw) =
            g.iter().zip(&yk).enumerate().filter(|(_, (&t, _))| t == want).fold((0.0, 0.0), |(s, sw), (i, (_, v))| {
                let w = wk.as_ref().map_or(1.0, |w| w[i]);
                (s + w * v, sw + w)
            });
        s / sw
    };
    out.insert("mean_treated".into(), num(wmean(true)));
    out.insert("mean_control".into(), num(wmean(false)));
    // degenerate designs get a named error rather than numbers that mean nothing
    if treated_y.len() < 2 || control_y.len() < 2 {
        return Err(data_error(format!(
            "`{}` has {} treated and {} control observation(s): a difference with a standard error needs at least 2 in each group",
            args.group,
            treated_y.len(),
            control_y.len()
        )));
    }
    // difference and its inference
    let (difference, inference, se_method) = match (&args.cluster, &wk) {
        (None, None) => {
            let w = welch(&treated_y, &control_y).map_err(fail)?;
            (w.estimate, w, "welch")
        }
        (None, Some(w)) => {
            let i = weighted_difference(&yk, &g, w).map_err(fail)?;
            (i.estimate, i, "hc2")
        }
        (Some(column), _) => {
            let ids = match frame.column(column).ok().and_then(|c| c.str().ok()).filter(|c| c.null_count() == 0) {
                // text labels are numbered straight from the column (no copy of each label)
                Some(labels) => {
                    let labels: Vec<&str> = labels.iter().map(Option::unwrap_or_default).collect();
                    number_labels(keep.iter().map(|&i| labels[i]).collect())
                }
                None => cluster_ids(&covariate(&frame, column, &args.table)?.values, &keep),
            };
            let clusters_of = |treated: bool| {
                let mut c: Vec<usize> = ids.iter().zip(&g).filter(|(_, &t)| t == treated).map(|(&c, _)| c).collect();
                c.sort_unstable();
                c.dedup();
                c.len()
            };
            let (in_treated, in_control) = (clusters_of(true), clusters_of(false));
            if in_treated < 2 || in_control < 2 {
                return Err(data_error(format!(
                    "--cluster {column}: the treated observations are in {in_treated} cluster(s) and the controls in {in_control}; cluster-robust errors and the wild cluster bootstrap need at least 2 in each (with one, the treatment cannot be told from that cluster); run without --cluster, or cluster more finely"
                )));
            }
            let mut x = Matrix::zeros(g.len(), 2);
            for (i, &t) in g.iter().enumerate() {
                x.values[2 * i] = 1.0;
                x.values[2 * i + 1] = f64::from(u8::from(t));
            }
            let fit = wls(&x, &yk, wk.as_deref()).map_err(fail)?;
            let cr2 = fit.cr2_inference(&ids, 1).map_err(fail)?;
            let cr1 = fit.vcov_cr1(&ids).map_err(fail)?;
            out.insert("se_cr1".into(), num(cr1[3].sqrt()));
            let mut clusters: Vec<usize> = ids.clone();
            clusters.sort_unstable();
            clusters.dedup();
            let mut treated_clusters: Vec<usize> = ids.iter().zip(&g).filter(|(_, &t)| t).map(|(&c, _)| c).collect();
            treated_clusters.sort_unstable();
            treated_clusters.dedup();
            out.insert("n_clusters".into(), json!(clusters.len()));
            out.insert("n_treated_clusters".into(), json!(treated_clusters.len()));
            let problem = WildProblem::new(&x, &yk, wk.as_deref(), &ids, 1).map_err(fail)?;
            let params = WildParams {
                reps: args.reps,
                weights: match args.boot_weights {
                    BootFlag::Webb => BootWeights::Webb,
                    BootFlag::Rademacher => BootWeights::Rademacher,
                },
                kind: BootType::Wcr,
                seed: args.seed,
            };
            let wild = problem.test(0.0, &params);
            out.insert("wild_p_value".into(), num(wild.p_value));
            out.insert("wild_reps".into(), json!(wild.reps));
            out.insert("wild_enumerated".into(), json!(wild.enumerated));
            (cr2.estimate, cr2, "cr2")
        }
    };
    out.insert("difference".into(), num(difference));
    out.insert("se".into(), num(inference.se));
    out.insert("se_method".into(), json!(se_method));
    out.insert("df".into(), num(inference.df));
    out.insert("ci_low".into(), num(inference.ci_low));
    out.insert("ci_high".into(), num(inference.ci_high));
    out.insert("p_value".into(), num(inference.p_value));
    let group_weights = |want: bool| -> Vec<f64> {
        g.iter().enumerate().filter(|(_, &t)| t == want).map(|(i, _)| wk.as_ref().map_or(1.0, |w| w[i])).collect()
    };
    let (w_treated, w_control) = (group_weights(true), group_weights(false));
    match standardised_weighted(&treated_y, &w_treated, &control_y, &w_control) {
        Ok(s) => {
            out.insert("hedges_g".into(), num(s.hedges_g));
            let clustered = args.cluster.is_some();
            out.insert("hedges_g_ci_low".into(), if clustered { Value::Null } else { num(s.hedges_g_ci.0) });
            out.insert("hedges_g_ci_high".into(), if clustered { Value::Null } else { num(s.hedges_g_ci.1) });
            out.insert("cohens_d".into(), num(s.cohens_d));
        }
        Err(_) => {
            for k in ["hedges_g", "hedges_g_ci_low", "hedges_g_ci_high", "cohens_d"] {
                out.insert(k.into(), Value::Null);
            }
        }
    }
    let binary = y.iter().all(|&v| v == 0.0 || v == 1.0);
    if binary {
        let r = risks_weighted(&treated_y, &w_treated, &control_y, &w_control).map_err(fail)?;
        for (name, e) in
            [("risk_difference", r.risk_difference), ("risk_ratio", r.risk_ratio), ("odds_ratio", r.odds_ratio)]
        {
            out.insert(name.into(), num(e.estimate));
            out.insert(format!("{name}_ci_low"), num(e.ci_low));
            out.insert(format!("{name}_ci_high"), num(e.ci_high));
        }
    }
    if let Some(column) = &args.exposure {
        let exposure = pick(&numbers(&frame, column, &args)?);
        let (rr, _) = rate_ratio_weighted(&yk, &exposure, &g, wk.as_deref()).map_err(fail)?;
        out.insert("rate_ratio".into(), num(rr.estimate));
        out.insert("rate_ratio_ci_low".into(), num(rr.ci_low));
        out.insert("rate_ratio_ci_high".into(), num(rr.ci_high));
    }
    if args.ordinal {
        let o = cliffs_delta(&treated_y, &control_y).map_err(fail)?;
        out.insert("cliffs_delta".into(), num(o.cliffs_delta.estimate));
        out.insert("cliffs_delta_ci_low".into(), num(o.cliffs_delta.ci_low));
        out.insert("cliffs_delta_ci_high".into(), num(o.cliffs_delta.ci_high));
        out.insert("mann_whitney_p_value".into(), num(o.p_value));
    }
    out.insert("seed".into(), json!(args.seed));
    let format = resolve_format(args.format, args.out.as_ref());
    let text = if matches!(format, Format::Json) {
        serde_json::to_string_pretty(&Value::Object(out)).expect("JSON values serialise") + "\n"
    } else {
        let mut t = Table::new(vec!["statistic", "value"]);
        for (k, v) in &out {
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

/// Labels as indices numbered in the labels' sorted order.
fn number_labels<K: Ord + Clone + std::hash::Hash>(keys: Vec<K>) -> Vec<usize> {
    let mut first: std::collections::HashMap<K, usize> = std::collections::HashMap::new();
    let raw: Vec<usize> = keys
        .iter()
        .map(|k| {
            let next = first.len();
            *first.entry(k.clone()).or_insert(next)
        })
        .collect();
    let mut distinct: Vec<(K, usize)> = first.into_iter().collect();
    distinct.sort_unstable();
    let mut rank = vec![0; distinct.len()];
    for (r, (_, i)) in distinct.iter().enumerate() {
        rank[*i] = r;
    }
    raw.into_iter().map(|i| rank[i]).collect()
}

/// Cluster labels (numbers or text) of the kept rows as indices, numbered in the labels' sorted
/// order.
fn cluster_ids(values: &Values, keep: &[usize]) -> Vec<usize> {
    match values {
        Values::Numeric(v) => number_labels(keep.iter().map(|&i| v[i].to_bits().to_string()).collect()),
        Values::Text(v) => number_labels(keep.iter().map(|&i| v[i].as_str()).collect()),
    }
}
