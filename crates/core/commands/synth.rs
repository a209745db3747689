//! `swp-eval synth OUTDIR`: write a synthetic dataset with known true effects.

use crate::{CommandResult, Failure};
use std::path::PathBuf;
use std::time::Instant;
use swp_eval::synth::{Scale, SynthParams, EFFECTS};

/// Write a synthetic pilot-evaluation dataset (sites, children, episodes, workers, allocations,
/// absences, contacts, outcomes and dataset.toml) whose true pilot effects are known. The same
/// seed gives the same bytes.
#[derive(clap::Args)]
#[command(after_help = synth_help())]
pub struct Args {
    /// Directory to write (created if needed; existing tables are replaced).
    pub outdir: PathBuf,
    /// Random seed (recorded in dataset.toml).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// small (about 2,000 children), pilot (cohorts of 80 to 727), national (1,000,000 children).
    #[arg(long, default_value = "small", value_parser = ["small", "pilot", "national"])]
    pub scale: String,
    /// A true pilot effect, NAME=VALUE (repeatable); see the list below.
    #[arg(long = "effect", value_name = "NAME=VALUE")]
    pub effects: Vec<String>,
}

fn synth_help() -> String {
    let mut s = String::from("Effects (defaults):\n");
    for (name, value, what) in EFFECTS {
        s.push_str(&format!("  {name} = {value}: {what}\n"));
    }
    s.push_str("\nExamples:\n  swp-eval synth /tmp/small --seed 7\n  swp-eval synth /tmp/pilot --seed 7 --scale pilot --effect turnover=0.5 --effect sw_changes=1\n  swp-eval synth /tmp/national --scale national");
    s
}

/// Runs `synth`.
pub fn run(args: Args) -> CommandResult {
    let scale: Scale = args.scale.parse::<Scale>()?;
    let mut params = SynthParams::new(scale).seed(args.seed);
    for effect in &args.effects {
        let Some((name, value)) = effect.split_once('=') else {
            return Err(Failure::Usage(format!("--effect `{effect}` needs the form NAME=VALUE, e.g. turnover=0.6")));
        };
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| Failure::Usage(format!("--effect `{effect}`: `{value}` is not a number")))?;
        params = params.effect(name.trim(), value);
    }
    let params = params.check()?;
    let started = Instant::now();
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!("generating {} dataset (seed {})", scale.name(), args.seed));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let data = params.generate();
    spinner.set_message(format!("writing {}", args.outdir.display()));
    let written = data.write(&args.outdir);
    spinner.finish_and_clear();
    written?;
    eprintln!(
        "wrote {}: {} sites, {} children, {} episodes, {} worker spells, {} allocations (seed {}, {:.1} s)",
        args.outdir.display(),
        data.sites.len(),
        data.children.len(),
        data.episodes.len(),
        data.spells.len(),
        data.allocations.len(),
        args.seed,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
