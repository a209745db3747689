//! The `swp-eval` command line. Every command maps its failures to one exit code here:
//! 0 success, 1 the data or the analysis failed, 2 usage error. Errors are printed as plain
//! sentences on stderr, never as a panic or a backtrace.

mod commands;
mod output;

use clap::{Parser, Subcommand};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// How a command ended, other than success.
pub enum Failure {
    /// The data or the analysis failed (exit 1). The message has been printed already when
    /// `printed` is true.
    Data {
        /// What failed.
        message: String,
        /// Whether it was printed already.
        printed: bool,
    },
    /// The command was used wrongly (exit 2).
    Usage(String),
}

// One `From` per crate error: the exit code follows the variant (what went wrong), never the
// call site. Settings the caller chose are usage errors (exit 2); data that cannot be read or
// analysed, and files that cannot be written, are data errors (exit 1).

/// Metrics settings that do not hold (a code set with a code not in its 903 list): usage.
impl From<swp_eval::metrics::MetricsError> for Failure {
    fn from(e: swp_eval::metrics::MetricsError) -> Self {
        Failure::Usage(e.to_string())
    }
}

/// A dataset directory that cannot be listed: data.
impl From<swp_eval::data::DataError> for Failure {
    fn from(e: swp_eval::data::DataError) -> Self {
        Failure::Data { message: e.to_string(), printed: false }
    }
}

/// The config's errors are usage; the evaluation's own (no go-live, no match, a model that
/// fails) are data.
impl From<swp_eval::evaluation::EvaluationError> for Failure {
    fn from(e: swp_eval::evaluation::EvaluationError) -> Self {
        if e.is_config() {
            Failure::Usage(e.to_string())
        } else {
            Failure::Data { message: e.to_string(), printed: false }
        }
    }
}

/// An unknown scale or effect, or an effect out of range, is usage; a failed write is data.
impl From<swp_eval::synth::SynthError> for Failure {
    fn from(e: swp_eval::synth::SynthError) -> Self {
        match e {
            swp_eval::synth::SynthError::Io { .. } => Failure::Data { message: e.to_string(), printed: false },
            _ => Failure::Usage(e.to_string()),
        }
    }
}

/// k below 2 and a `--keep` that names no column are usage; the key file, an output directory
/// that is not new and failed writes are data.
impl From<swp_eval::anonymise::AnonymiseError> for Failure {
    fn from(e: swp_eval::anonymise::AnonymiseError) -> Self {
        match e {
            swp_eval::anonymise::AnonymiseError::BadK(_) | swp_eval::anonymise::AnonymiseError::BadKeep { .. } => {
                Failure::Usage(e.to_string())
            }
            _ => Failure::Data { message: e.to_string(), printed: false },
        }
    }
}

/// A figure that could not be drawn: data (the results it draws are the data's).
impl From<swp_eval::report::charts::ChartError> for Failure {
    fn from(e: swp_eval::report::charts::ChartError) -> Self {
        Failure::Data { message: e.to_string(), printed: false }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        Failure::Data { message: chain.join(": "), printed: false }
    }
}

/// Result of a command.
pub type CommandResult = Result<(), Failure>;

#[derive(Parser)]
#[command(
    name = "swp-eval",
    version,
    about = "Evaluate Social Work Practice pilots: validate pilot and comparison data, compute metrics, match and report",
    after_help = "Examples:\n  swp-eval report                      (the bundled evaluation into report/)\n  swp-eval validate data/sample\n  swp-eval metrics data/sample --by arm\n  swp-eval match --table cohort.csv --treatment pilot --covariates age,sex,prior_placements\n  swp-eval effect --table matched.csv --group pilot --outcome sw_changes --cluster site_id\n  swp-eval did --table panel.csv --unit site --time year --first-treated first_year --outcome turnover\n  swp-eval synth /tmp/pilot --seed 7 --scale pilot\n  swp-eval anonymise /tmp/pilot /tmp/pilot-anon --key-file ~/.swp-key\n\nSee README.md and docs/ for the data contract."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Validate(commands::validate::Args),
    Metrics(commands::metrics::Args),
    Match(commands::matching::Args),
    Effect(commands::effect::Args),
    Did(commands::did::Args),
    Weight(commands::weight::Args),
    Report(commands::report::Args),
    Synth(commands::synth::Args),
    Anonymise(commands::anonymise::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::Metrics(args) => commands::metrics::run(args),
        Command::Match(args) => commands::matching::run(args),
        Command::Effect(args) => commands::effect::run(args),
        Command::Did(args) => commands::did::run(args),
        Command::Weight(args) => commands::weight::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Synth(args) => commands::synth::run(args),
        Command::Anonymise(args) => commands::anonymise::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Data { message, printed }) => {
            if !printed {
                eprintln!("error: {message}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("usage error: {message}");
            ExitCode::from(2)
        }
    }
}
