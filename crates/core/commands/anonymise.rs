//! `swp-eval anonymise IN OUT --key-file F`: a pseudonymised, coarsened copy of a dataset and
//! its k-anonymity report.

use crate::{CommandResult, Failure};
use std::path::PathBuf;
use swp_eval::data;
use swp_eval::synth::anonymise::{anonymise, AnonymiseParams, Key};

/// Write a pseudonymised copy of a dataset: child and worker ids replaced by a keyed hash
/// (HMAC-SHA-256, stable across tables and runs with the same key), dates of birth coarsened to
/// the first of the month, free text and extra columns dropped unless kept, and
/// k_anonymity.json reporting the quasi-identifier classes (sex, birth month, ethnicity, site)
/// smaller than k. Nothing in IN is modified; the key never appears in any output.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  head -c 32 /dev/urandom | base64 > ~/.swp-key   # once; keep it private\n  swp-eval anonymise extracts/2011 anon/2011 --key-file ~/.swp-key\n  swp-eval anonymise extracts/2011 anon/2011 --key-file ~/.swp-key --k 10 --generalise\n  swp-eval anonymise extracts/2011 anon/2011 --key-file ~/.swp-key --keep episodes.HOME_POST"
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
    /// Generalise until k holds: birth year, then ethnicity recoded to NOBT in small classes, then
    /// suppression of the children still in classes below k (with all their rows).
    #[arg(long)]
    pub generalise: bool,
    /// Keep an extra or free-text column, as COLUMN or TABLE.COLUMN (repeatable).
    #[arg(long, value_name = "COLUMN")]
    pub keep: Vec<String>,
}

/// Runs `anonymise`.
pub fn run(args: Args) -> CommandResult {
    let key = Key::from_file(&args.key_file).map_err(|e| Failure::Data { message: e.to_string(), printed: false })?;
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
    let loaded = data::load(&args.input).map_err(|e| Failure::Data { message: e.to_string(), printed: false })?;
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
    let params = AnonymiseParams { k: args.k, keep: args.keep, generalise: args.generalise };
    let result = anonymise(&loaded.dataset, &key, &params).map_err(|e| Failure::Usage(e.to_string()))?;
    result.write(&args.output).map_err(|e| Failure::Data { message: e.to_string(), printed: false })?;
    let r = &result.report;
    eprintln!(
        "wrote {}: {} children in {} classes of (sex, birth month, ethnicity, site); smallest class {}; k = {} {}",
        args.output.display(),
        r.n_children,
        r.n_classes,
        r.smallest_class,
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
    Ok(())
}
