//! `swp-eval anonymise IN OUT --key-file F`: a pseudonymised, coarsened copy of a dataset and
//! its k-anonymity report.

use crate::{CommandResult, Failure};
use std::path::{Path, PathBuf};
use swp_eval::anonymise::{anonymise, AnonymiseParams, Key, Protection};
use swp_eval::data;
use swp_eval::evaluation::config::Config;
use swp_eval::evaluation::utility::compare;
use swp_eval::evaluation::Evaluation;
use swp_eval::metrics::default_periods;

/// Write a pseudonymised copy of a dataset: child and worker ids replaced by a keyed hash
/// (HMAC-SHA-256, stable across tables and runs with the same key), dates of birth coarsened to
/// the first of the month, free text and extra columns dropped unless kept; k_anonymity.json
/// (the classes of sex, birth date, ethnicity and site, what the protection cost each
/// quasi-identifier, sample uniques and l-diversity) and utility.json (every metric by site and
/// the evaluation's balance table on the input and on the copy). With --generalise, birth dates
/// and ethnicity are generalised along their hierarchies (month, quarter, year, 5 years; code,
/// group, not recorded) by the least costly choice, then class by class, and a child is removed
/// only when nothing else reaches k. Nothing in IN is modified; the key never appears in any
/// output.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  head -c 32 /dev/urandom | base64 > ~/.swp-key   # once; keep it private\n  swp-eval anonymise extracts/2011 anon/2011 --key-file ~/.swp-key\n  swp-eval anonymise extracts/2011 anon/2011 --key-file ~/.swp-key --k 10 --generalise\n  swp-eval anonymise extracts/2011 anon/2011 --key-file ~/.swp-key --generalise --config evaluation.toml\n  swp-eval anonymise extracts/2011 anon/2011 --key-file ~/.swp-key --keep episodes.HOME_POST"
)]
pub struct Args {
    /// The dataset directory to read.
    pub input: PathBuf,
    /// The directory to write (must be new or empty).
    pub output: PathBuf,
    /// File holding the secret key (at least 16 bytes; surrounding white space ignored).
    #[arg(long, value_name = "F")]
    pub key_file: PathBuf,
    /// k of the k-anonymity check.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Generalise until k holds: the least costly generalisation of birth date and ethnicity for
    /// everyone, then local recoding of the classes below k, then removal of the children nothing
    /// else protects (with all their rows).
    #[arg(long)]
    pub generalise: bool,
    /// Evaluation config whose balance table utility.json compares (default: docs/evaluation.md's
    /// defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Keep an extra or free-text column, as COLUMN or TABLE.COLUMN (repeatable).
    #[arg(long, value_name = "COLUMN")]
    pub keep: Vec<String>,
}

/// Runs `anonymise`.
pub fn run(args: Args) -> CommandResult {
    let key = Key::from_file(&args.key_file)?;
    if args.k < 2 {
        return Err(Failure::Usage(format!("--k {} is too small (use 2 or more)", args.k)));
    }
    let same = match (args.input.canonicalize(), args.output.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(Failure::Usage(format!(
            "the output {} is the input directory; choose another",
            args.output.display()
        )));
    }
    let loaded = data::load(&args.input)?;
    // a table that could not be read at all would be left out of the output, which would then
    // look like a complete, k-anonymous dataset: refuse instead
    use swp_eval::data::Rule;
    let unreadable: Vec<&swp_eval::data::Problem> = loaded
        .report
        .problems
        .iter()
        .filter(|p| matches!(p.rule, Rule::UnreadableFile | Rule::NotUtf8 | Rule::MissingFile | Rule::MissingColumn))
        .collect();
    if !unreadable.is_empty() {
        for p in unreadable.iter().take(5) {
            eprintln!("{p}");
        }
        return Err(Failure::Data {
            message: format!(
                "{} has {} table(s) or column(s) that cannot be read; fix them first (swp-eval validate {}): an anonymised copy would silently lack them",
                args.input.display(),
                unreadable.len(),
                args.input.display()
            ),
            printed: false,
        });
    }
    if loaded.report.has_problems() {
        eprintln!(
            "warning: {} has {} validation problem(s) (run swp-eval validate {}); rows with bad values are anonymised as read",
            args.input.display(),
            loaded.report.total(),
            args.input.display()
        );
    }
    let config = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::Usage(format!("could not read the config {}: {e}", p.display())))?;
            Config::from_toml(&text).map_err(|e| Failure::Usage(format!("{}: {e}", p.display())))?
        }
        None => Config::default(),
    };
    let evaluation = Evaluation::new(config)?;
    let params = AnonymiseParams {
        k: args.k,
        keep: args.keep,
        protection: if args.generalise { Protection::Generalise } else { Protection::Report },
    }
    .check()?;
    let result = anonymise(&loaded.dataset, &key, &params);
    let periods = default_periods(&loaded.dataset).unwrap_or_default();
    let utility = std::cell::RefCell::new(None);
    let extra = |dir: &Path| -> Result<Vec<(String, Vec<u8>)>, String> {
        let copy = data::load(dir).map_err(|e| format!("could not read the anonymised copy back: {e}"))?;
        let report = compare(&loaded.dataset, &copy.dataset, &periods, &evaluation);
        let json = serde_json::to_string_pretty(&report).expect("serialisable") + "\n";
        utility.replace(Some(report));
        Ok(vec![("utility.json".to_string(), json.into_bytes())])
    };
    result.write_with(&args.output, &extra)?;
    let r = &result.report;
    if !r.steps.is_empty() {
        eprintln!("{}", r.steps.join("\n"));
    }
    eprintln!(
        "wrote {}: {} of {} children in {} classes of (sex, birth date, ethnicity, site); smallest class {}; ethnic group kept for {:.1}%; k = {} {}",
        args.output.display(),
        r.n_children,
        r.input_children,
        r.n_classes,
        r.smallest_class,
        100.0 * r.ethnicity.group_kept_share,
        r.k,
        if r.k_holds {
            "holds".to_string()
        } else {
            format!(
                "broken by {} children in {} classes (see k_anonymity.json; --generalise coarsens)",
                r.children_below_k.len(),
                r.classes_below_k.len()
            )
        }
    );
    if let Some(u) = utility.into_inner() {
        let m = &u.metrics;
        eprintln!(
            "utility.json: {} of {} metric rows by site held to the bar (denominator >= 100); largest change {:.2} points (shares), {:.1}% (rates and means); {} over the bar{}",
            m.rows_held_to_bar,
            m.rows,
            m.max_share_points,
            100.0 * m.max_relative,
            m.rows_over_bar,
            match (&u.balance, &u.balance_error) {
                (Some(b), _) => format!(
                    "; balance table: SMDs move by at most {:.3} before matching, {:.3} after",
                    b.max_smd_change_before, b.max_smd_change_after
                ),
                (None, Some(e)) => format!("; balance table not compared: {e}"),
                _ => String::new(),
            }
        );
    }
    Ok(())
}
