//! `swp-eval report [DIR] [--config FILE] [--out OUTDIR]`: the whole evaluation of
//! docs/evaluation.md, written as JSON, csv, md, tex, html and Parquet tables plus `run.json`.
//!
//! Everything is written into a temporary directory beside OUTDIR and renamed into place at the
//! end, so a failed run never leaves a half-written report.

use crate::output::print_stdout;
use crate::{CommandResult, Failure};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use polars::prelude::{Column, DataFrame, ParquetWriter, PlSmallStr, PolarsResult};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;
use swp_eval::evaluation::config::Config;
use swp_eval::evaluation::{publish, Evaluation, Progress, Published, Stage};
use swp_eval::report::evaluation as tables;
use swp_eval::report::table::{Cell, Format, Table};

/// Runs the whole matched pilot-vs-comparison evaluation (docs/evaluation.md) on a dataset and
/// writes every table: effects (rate and risk ratios, hazard ratios, differences, with CR2
/// site-clustered intervals, wild cluster bootstrap p-values and Holm), balance before and
/// after matching, the sample flow, site-level difference-in-differences with randomisation
/// inference, and results by SWP model. With no arguments it runs the bundled evaluation
/// (data/sample with data/evaluation.toml) into report/.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  swp-eval report\n  swp-eval report data/sample --config data/evaluation.toml --out report\n  swp-eval report extracts/2011 --config eval.toml --out out/2011 --cohort-out secure/cohort.parquet\n  swp-eval report extracts/2011 --config eval.toml --out out/2011 --sensitivity\n\nOutputs (OUTDIR): report.html (one file, open offline); notebook.ipynb; README.txt (what each file is); figures/*.svg and *.png;\neffects, balance, sample_flow, site_did, site_panel, by_model, sensitivity, missing_values, placebo (and, when enabled, specification_curve, power,\nvalue_for_money, cost_components, cost_by_model, site_spending, outcome_payments) as .json at the top and .csv .md .tex .html .parquet under tables/;\nspecification_curve.json (every specification), power.json (every simulated point) and value_for_money.json when enabled; placebo.json (the placebo in time); survival.json (Kaplan-Meier curves); design.json; run.json (version, config, seed, input SHA-256s);\ntimings.json.\nSmall numbers (1 to threshold - 1) are suppressed unless --no-suppress."
)]
pub struct Args {
    /// The dataset directory (default: data/sample).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The evaluation config, TOML (default: data/evaluation.toml when DIR is not given,
    /// else docs/evaluation.md's defaults).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output directory (default: report/). Replaced whole at the end of a successful run.
    #[arg(long, value_name = "OUTDIR")]
    pub out: Option<PathBuf>,
    /// Publish small numbers (analysts inside a secure setting only).
    #[arg(long)]
    pub no_suppress: bool,
    /// Also write the matched child-level cohort, with child ids, to FILE (.csv or .parquet);
    /// never inside the output directory.
    #[arg(long, value_name = "FILE")]
    pub cohort_out: Option<PathBuf>,
    /// Also run the specification curve and the power simulation with the config's (or
    /// docs/evaluation.md's) settings, as if `[specification_curve]` and `[power]` said
    /// `enabled = true` (both are slower than the rest of the report).
    #[arg(long)]
    pub sensitivity: bool,
}

fn data_error(message: String) -> Failure {
    Failure::Data { message, printed: false }
}

/// `run.json`: what was run on what; no date, so two runs give the same bytes.
#[derive(Serialize)]
struct RunRecord<'a> {
    swp_eval_version: &'static str,
    dataset: String,
    config_file: Option<String>,
    config: &'a Config,
    seed: u64,
    bootstrap_reps: usize,
    suppression_threshold: Option<u32>,
    inputs: Vec<InputHash>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct InputHash {
    file: String,
    sha256: String,
}

/// SHA-256 of every file under `dir` (sorted relative paths), and of the config.
fn input_hashes(dir: &Path, config: Option<&Path>) -> anyhow::Result<Vec<InputHash>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("could not list {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    let hash = |p: &Path| -> anyhow::Result<String> {
        let bytes = std::fs::read(p).with_context(|| format!("could not read {}", p.display()))?;
        Ok(format!("{:x}", Sha256::digest(&bytes)))
    };
    for f in files {
        let name = f.strip_prefix(dir).unwrap_or(&f).to_string_lossy().replace('\\', "/");
        out.push(InputHash { sha256: hash(&f)?, file: name });
    }
    if let Some(c) = config {
        out.push(InputHash { file: format!("config: {}", c.display()), sha256: hash(c)? });
    }
    Ok(out)
}

/// A table as a polars frame (numbers as Float64, text as String, suppressed as null).
fn frame_of(table: &Table) -> PolarsResult<DataFrame> {
    let columns: Vec<Column> = table
        .columns
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let text = table.rows.iter().any(|r| matches!(r[j], Cell::Text(_)));
            if text {
                let v: Vec<Option<String>> =
                    table.rows.iter().map(|r| if let Cell::Text(s) = &r[j] { Some(s.clone()) } else { None }).collect();
                Column::new(PlSmallStr::from(name.as_str()), v)
            } else {
                let v: Vec<Option<f64>> =
                    table.rows.iter().map(|r| if let Cell::Number(x) = r[j] { x } else { None }).collect();
                Column::new(PlSmallStr::from(name.as_str()), v)
            }
        })
        .collect();
    DataFrame::new(table.rows.len(), columns)
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("results serialise") + "\n"
}

/// Writes every output file into `dir`.
fn write_outputs(dir: &Path, results: &Published, run: &RunRecord<'_>, threshold: Option<u32>) -> anyhow::Result<()> {
    let write = |name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        std::fs::write(dir.join(name), bytes).with_context(|| format!("could not write {name}"))
    };
    write("effects.json", json(&results.effects).as_bytes())?;
    write("balance.json", json(&results.balance).as_bytes())?;
    write("sample_flow.json", json(&results.sample_flow).as_bytes())?;
    write("site_did.json", json(&results.site_did).as_bytes())?;
    write("site_panel.json", json(&results.site_panel).as_bytes())?;
    write("by_model.json", json(&results.by_model).as_bytes())?;
    write("survival.json", json(&results.survival).as_bytes())?;
    write("sensitivity.json", json(&results.sensitivity).as_bytes())?;
    write("missing_values.json", json(&results.missing).as_bytes())?;
    if let Some(curve) = &results.specification_curve {
        write("specification_curve.json", json(curve).as_bytes())?;
    }
    if let Some(power) = &results.power {
        write("power.json", json(power).as_bytes())?;
    }
    if let Some(value) = &results.value_for_money {
        write("value_for_money.json", json(value).as_bytes())?;
    }
    if let Some(placebo) = &results.placebo {
        write("placebo.json", json(placebo).as_bytes())?;
    }
    write("design.json", json(&results.design).as_bytes())?;
    write("run.json", json(run).as_bytes())?;
    let figures = swp_eval::report::charts::figures(results)?;
    std::fs::create_dir(dir.join("figures")).context("could not create figures/")?;
    for f in &figures {
        write(&format!("figures/{}.svg", f.name), f.svg.as_bytes())?;
        write(&format!("figures/{}.png", f.name), &f.png)?;
    }
    let provenance = swp_eval::report::html::Provenance {
        version: run.swp_eval_version.to_string(),
        config: serde_json::to_string_pretty(run.config).expect("the config serialises"),
        seed: run.seed,
        inputs: run.inputs.iter().map(|i| (i.file.clone(), i.sha256.clone())).collect(),
        threshold,
    };
    write("report.html", swp_eval::report::html::report_html(results, &figures, &provenance).as_bytes())?;
    write("notebook.ipynb", swp_eval::report::notebook::notebook(results, &figures).as_bytes())?;
    // every table in five formats under tables/; the JSON files, the report, the notebook and
    // README.txt at the top
    std::fs::create_dir(dir.join("tables")).context("could not create tables/")?;
    let all = tables::all(results);
    for (stem, table) in &all {
        for (ext, format) in [("csv", Format::Csv), ("md", Format::Md), ("tex", Format::Tex), ("html", Format::Html)] {
            write(&format!("tables/{stem}.{ext}"), table.render(format).as_bytes())?;
        }
        let mut frame = frame_of(table).with_context(|| format!("could not build the {stem} table"))?;
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes).finish(&mut frame).with_context(|| format!("could not write {stem}.parquet"))?;
        write(&format!("tables/{stem}.parquet"), &bytes)?;
    }
    write("README.txt", readme(dir, &all).as_bytes())?;
    Ok(())
}

/// README.txt: what each file of the report folder is.
fn readme(dir: &Path, all: &[(&'static str, swp_eval::report::table::Table)]) -> String {
    let mut text = String::from(
        "swp-eval report: the evaluation of the Social Work Practice pilots (docs/evaluation.md).\n\n\
         report.html       the report in one file (open it offline; figures inline)\n\
         notebook.ipynb    the same results as a Jupyter notebook that loads tables/ (Parquet)\n\
         run.json          version, config as run, seed, SHA-256 of every input, warnings\n\
         design.json       the design as run: index rule, stacks and their windows, sites, matching\n\
         figures/          every figure as SVG and PNG\n\
         tables/           every table as csv, md, tex, html and parquet (same rows, five formats)\n\
         timings.json      seconds per stage (the one file that depends on the machine)\n\n\
         JSON results:\n",
    );
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n.ends_with(".json")).collect())
        .unwrap_or_default();
    names.retain(|n| n != "run.json" && n != "design.json");
    names.sort();
    for n in names {
        text += &format!("  {n}\n");
    }
    text += "\nTables (tables/NAME.{csv,md,tex,html,parquet}):\n";
    for (stem, _) in all {
        text += &format!("  {stem}\n");
    }
    text += "\nSmall numbers (1 to the threshold - 1) are suppressed: shown as c, or null in JSON.\n";
    text
}

/// Replaces `out` with the finished temporary directory `tmp`.
fn replace_dir(tmp: tempfile::TempDir, out: &Path) -> anyhow::Result<()> {
    let tmp_path = tmp.keep();
    if out.exists() {
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let old = tempfile::Builder::new().prefix(".swp-report-old-").tempdir_in(parent)?.keep();
        std::fs::rename(out, old.join("previous"))
            .with_context(|| format!("could not move the previous {} aside", out.display()))?;
        std::fs::rename(&tmp_path, out).with_context(|| format!("could not write {}", out.display()))?;
        std::fs::remove_dir_all(&old).with_context(|| format!("could not remove {}", old.display()))?;
    } else {
        std::fs::rename(&tmp_path, out).with_context(|| format!("could not write {}", out.display()))?;
    }
    Ok(())
}

/// A spinner for the stage running now, turned into a counted bar by the long stages (the
/// specification curve, the power simulation) as their work finishes, from any thread; and the
/// time each stage took.
struct Bars {
    show: bool,
    state: Mutex<BarState>,
}

struct BarState {
    current: Option<(Stage, Option<ProgressBar>)>,
    last: Instant,
    times: Vec<(String, f64)>,
}

fn spinner(show: bool, label: &str) -> Option<ProgressBar> {
    show.then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"));
        bar.set_message(label.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    })
}

impl BarState {
    fn close(&mut self) {
        if let Some((stage, bar)) = self.current.take() {
            self.times.push((stage.key().to_string(), self.last.elapsed().as_secs_f64()));
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        }
    }
}

impl Bars {
    /// Closes the last stage; the time of each.
    fn finish(self) -> Vec<(String, f64)> {
        let mut state = self.state.into_inner().unwrap_or_else(PoisonError::into_inner);
        state.close();
        state.times
    }
}

impl Progress for Bars {
    fn stage(&self, stage: Stage) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.close();
        state.last = Instant::now();
        state.current = Some((stage, spinner(self.show, stage.label())));
    }

    fn tick(&self, stage: Stage, done: u64, total: u64) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, Some(bar))) = state.current.as_ref() {
            if bar.length() != Some(total) {
                bar.set_style(
                    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed} (eta {eta})")
                        .expect("valid template")
                        .progress_chars("=> "),
                );
                bar.set_message(stage.label());
                bar.set_length(total);
            }
            bar.set_position(done);
        }
    }
}

/// Runs `report`.
pub fn run(args: Args) -> CommandResult {
    let bundled = args.dir.is_none();
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("data/sample"));
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("report"));
    let config_path = args.config.clone().or_else(|| bundled.then(|| PathBuf::from("data/evaluation.toml")));
    if bundled && !dir.exists() {
        return Err(Failure::Usage(
            "no DIR given and data/sample is not here: run from the repository root, or give a dataset directory"
                .into(),
        ));
    }
    // the output directory is replaced whole: it must never be, contain or sit inside the input
    {
        let abs =
            |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.to_path_buf()));
        let (d, o) = (abs(&dir), abs(&out));
        if d == o || o.starts_with(&d) || d.starts_with(&o) {
            return Err(Failure::Usage(format!(
                "--out {} would overwrite the dataset {}: write the report to a directory outside it",
                out.display(),
                dir.display()
            )));
        }
        if let Some(config) = &config_path {
            if abs(config).starts_with(&o) {
                return Err(Failure::Usage(format!(
                    "--out {} holds the config {}: write the report elsewhere",
                    out.display(),
                    config.display()
                )));
            }
        }
    }
    if let Some(cohort) = &args.cohort_out {
        let parent = cohort.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let (a, b) = (std::fs::canonicalize(parent).unwrap_or(parent.to_path_buf()), std::fs::canonicalize(&out).ok());
        if b.is_some_and(|b| a.starts_with(&b)) || a.starts_with(std::path::absolute(&out).unwrap_or(out.clone())) {
            return Err(Failure::Usage(format!(
                "--cohort-out {} is inside the output directory {}: the cohort holds child ids; write it elsewhere",
                cohort.display(),
                out.display()
            )));
        }
    }
    let config = match &config_path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::Usage(format!("could not read the config {}: {e}", p.display())))?;
            Config::from_toml(&text).map_err(|e| Failure::Usage(format!("{}: {e}", p.display())))?
        }
        None => Config::default(),
    };
    let mut config = config;
    if args.sensitivity {
        config.specification_curve.enabled = true;
        config.power.enabled = true;
    }
    let show = std::io::stderr().is_terminal();
    let evaluation = Evaluation::new(config)?;
    let started = Instant::now();
    let mut timings: Vec<(String, f64)> = Vec::new();
    let bar = spinner(show, "loading and validating the dataset");
    let loaded = swp_eval::data::load(&dir)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    timings.push(("load".into(), started.elapsed().as_secs_f64()));
    if loaded.report.has_problems() {
        for p in loaded.report.problems.iter().take(10) {
            eprintln!("{p}");
        }
        return Err(data_error(format!(
            "{} does not pass validation ({} problem(s)); run `swp-eval validate {}` for the full list and fix them first",
            dir.display(),
            loaded.report.total(),
            dir.display()
        )));
    }
    let progress =
        Bars { show, state: Mutex::new(BarState { current: None, last: Instant::now(), times: Vec::new() }) };
    let results = evaluation.run_with_progress(&loaded.dataset, &progress);
    let stage_times = progress.finish();
    let results = results?;
    timings.extend(stage_times);
    let threshold = evaluation.config().threshold();
    let mut results = results;
    // the cohort (child ids) is taken before publishing, which leaves it out
    let cohort = std::mem::take(&mut results.cohort);
    let results = publish(results, if args.no_suppress { 1 } else { threshold });

    if let Some(path) = &args.cohort_out {
        crate::output::write_cohort(&cohort, path)?;
    }

    let write_started = Instant::now();
    let run = RunRecord {
        swp_eval_version: env!("CARGO_PKG_VERSION"),
        dataset: dir.display().to_string(),
        config_file: config_path.as_ref().map(|p| p.display().to_string()),
        config: evaluation.config().written(),
        seed: evaluation.config().inference().seed,
        bootstrap_reps: evaluation.config().inference().bootstrap_reps,
        suppression_threshold: (!args.no_suppress).then_some(threshold),
        inputs: input_hashes(&dir, config_path.as_deref())?,
        warnings: &results.warnings,
    };
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("could not create {}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".swp-report-")
        .tempdir_in(parent)
        .with_context(|| format!("could not write in {}", parent.display()))?;
    write_outputs(tmp.path(), &results, &run, (!args.no_suppress).then_some(threshold))?;
    timings.push(("write".into(), write_started.elapsed().as_secs_f64()));
    timings.push(("total".into(), started.elapsed().as_secs_f64()));
    let timing_json: Vec<serde_json::Value> = timings
        .iter()
        .map(|(s, t)| serde_json::json!({"stage": s, "seconds": (t * 1000.0).round() / 1000.0}))
        .collect();
    std::fs::write(tmp.path().join("timings.json"), json(&timing_json)).context("could not write timings.json")?;
    replace_dir(tmp, &out)?;

    // the summary on the terminal
    for w in &results.warnings {
        eprintln!("warning: {w}");
    }
    let mut text = String::new();
    let d = &results.design;
    text += &format!(
        "\n{} pilot vs {} children, {}; {} {} treated / {} controls\n\n",
        d.treated_sites.join(" "),
        d.controls,
        d.index_text(),
        if results.balance.weighted() { "weighted" } else { "matched" },
        results.balance.n.matched_treated.map_or("c".to_string(), |n| n.to_string()),
        results.balance.n.matched_control.map_or("c".to_string(), |n| n.to_string()),
    );
    text += &tables::primary_summary(&results).render(Format::Md);
    if let Some(note) = tables::primary_summary_note(&results) {
        text += &format!("\n{note}");
    }
    text += &format!(
        "\nwrote {} (report.html, notebook.ipynb, figures/, tables, run.json) in {:.1} s\n",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    print_stdout(&text)?;
    Ok(())
}
