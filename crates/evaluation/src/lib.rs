//! The evaluation of EVALUATION.md as a library: a dataset and a config in, typed results out.
//!
//! [`Evaluation::new`] checks the config once; [`Evaluation::run`] builds the child-level
//! cohort on the index date (with the sample flow), matches pilot children to controls on the
//! baseline covariates, estimates every outcome on the matched sample (CR2 clustered on site
//! with Bell-McCaffrey df, the wild cluster bootstrap, Holm across the primary rows, the
//! subclass-clustered secondary column), and runs the site-level difference-in-differences
//! with randomisation inference. Warnings are part of the result. [`publish`] applies
//! small-number suppression before anything is written.
//!
//! This crate does no IO and draws nothing: the CLI writes the results and `swp-report`
//! renders them.
//!
//! ```no_run
//! use swp_evaluation::{config::Config, Evaluation};
//! let loaded = swp_data::load(std::path::Path::new("data/sample")).unwrap();
//! let evaluation = Evaluation::new(Config::default()).unwrap();
//! let results = evaluation.run(&loaded.dataset).unwrap();
//! for row in results.effects.iter().filter(|r| r.primary) {
//!     println!("{} {} {:?}", row.outcome, row.estimate_type, row.estimate);
//! }
//! ```

pub mod codes;
pub mod cohort;
pub mod config;
pub mod descriptive;
pub mod error;
pub mod estimates;
pub mod power;
pub mod sensitivity;
pub mod site;
pub mod specification;
pub mod utility;
pub mod value;
pub mod value_config;

use crate::cohort::{Cohort, FlowRow, Windows};
use crate::config::{Config, ValidConfig, OUTCOMES, SITE_METRICS};
use crate::estimates::{EffectRow, Sample, SurvivalResult};
use crate::site::{PanelRow, Site, SiteDidRow};
pub use error::{EvaluationError, Result};
use serde::Serialize;
use swp_data::typed::{format_date, parse_date};
use swp_data::validate::{code_column, date_column, text_column, DateView};
use swp_data::Dataset;
use swp_metrics::{financial_years, metrics_of, suppress, GroupBy, Period, SiteGroups, ValidMetricsParams};
use swp_stats::balance::{balance_table, Counts};
use swp_stats::bootstrap::{BootType, WildParams};
use swp_stats::design::{expand, Covariate, Expansion};
use swp_stats::glm::GlmFit;
use swp_stats::matching::{MatchData, MatchParams, Matching, ValidMatchParams};

/// The stages of a run, reported to a progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Indexing the dataset.
    Index,
    /// Building the cohort.
    Cohort,
    /// Matching and balance.
    Matching,
    /// Child-level outcomes and effects.
    Effects,
    /// Site-level metrics and difference-in-differences.
    SiteLevel,
    /// The specification curve (when enabled).
    SpecificationCurve,
    /// The power simulation (when enabled).
    Power,
}

impl Stage {
    /// Key in timings (snake case).
    pub fn key(self) -> &'static str {
        match self {
            Stage::Index => "index",
            Stage::Cohort => "cohort",
            Stage::Matching => "matching",
            Stage::Effects => "effects",
            Stage::SiteLevel => "site_level",
            Stage::SpecificationCurve => "specification_curve",
            Stage::Power => "power",
        }
    }

    /// Name for people.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Index => "indexing the dataset",
            Stage::Cohort => "building the cohort",
            Stage::Matching => "matching",
            Stage::Effects => "estimating effects",
            Stage::SiteLevel => "site-level analysis",
            Stage::SpecificationCurve => "specification curve",
            Stage::Power => "power simulation",
        }
    }
}

/// The design as run: what was compared, when, and how.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Design {
    /// Index date.
    pub index_date: String,
    /// Whether the index date is the default (the earliest pilot go-live).
    pub index_date_is_default: bool,
    /// Baseline window.
    pub baseline_from: String,
    /// Baseline window end.
    pub baseline_to: String,
    /// Follow-up window start.
    pub follow_up_from: String,
    /// Follow-up window end (cut at the extract date).
    pub follow_up_to: String,
    /// Where the window would have ended.
    pub follow_up_planned_to: String,
    /// Days in the follow-up window (as cut).
    pub follow_up_days: f64,
    /// Each pilot site's go-live (site, ISO date).
    pub go_lives: Vec<(String, String)>,
    /// Extract date.
    pub extract_date: String,
    /// Pilot sites.
    pub treated_sites: Vec<String>,
    /// Control sites.
    pub control_sites: Vec<String>,
    /// The control arm (`comparison`, `host`, `comparison and host`).
    pub controls: String,
    /// Covariates used in the propensity model and balance.
    pub covariates: Vec<String>,
    /// Matching in words.
    pub matching: String,
    /// Bootstrap replications.
    pub bootstrap_reps: usize,
    /// Seed.
    pub seed: u64,
    /// Dataset name (dataset.toml).
    pub dataset_name: Option<String>,
    /// Whether the dataset says it is synthetic (a `[synth]` section in dataset.toml).
    pub synthetic: bool,
}

/// A balance row, as `swp-eval match` writes it (CLI.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceRow {
    /// Covariate (levels named as R).
    pub covariate: String,
    /// Treated mean before matching.
    pub mean_treated: f64,
    /// Treated mean after (weighted).
    pub mean_treated_after: f64,
    /// Control mean before.
    pub mean_control_before: f64,
    /// Control mean after (weighted).
    pub mean_control_after: f64,
    /// SMD before.
    pub smd_before: f64,
    /// SMD after.
    pub smd_after: f64,
    /// Variance ratio before (not for 0/1 covariates).
    pub var_ratio_before: Option<f64>,
    /// Variance ratio after.
    pub var_ratio_after: Option<f64>,
    /// Mean eCDF difference before.
    pub ecdf_mean_before: f64,
    /// Max eCDF difference before.
    pub ecdf_max_before: f64,
    /// Mean eCDF difference after.
    pub ecdf_mean_after: f64,
    /// Max eCDF difference after.
    pub ecdf_max_after: f64,
    /// |SMD after| > 0.1.
    pub imbalanced: bool,
}

/// Unit counts of the matching (None where suppressed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceCounts {
    /// Treated children.
    pub treated: Option<u64>,
    /// Control children.
    pub control: Option<u64>,
    /// Matched treated children.
    pub matched_treated: Option<u64>,
    /// Matched controls.
    pub matched_control: Option<u64>,
    /// Discarded.
    pub discarded: Option<u64>,
}

/// `balance.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Balance {
    /// Counts.
    pub n: BalanceCounts,
    /// One row per covariate column (the distance first when there is one).
    pub balance: Vec<BalanceRow>,
}

/// Descriptive results of one pilot (one SWP model): its matched children against their
/// matched controls, and the site-level DiD of that pilot alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRow {
    /// SWP model.
    pub model: String,
    /// Pilot site.
    pub site: String,
    /// Matched treated children.
    pub n_treated: Option<u64>,
    /// Their matched controls (distinct).
    pub n_control: Option<u64>,
    /// Social-worker changes per child-year, treated.
    pub sw_change_rate_treated: Option<f64>,
    /// The same for the matched controls (weighted).
    pub sw_change_rate_control: Option<f64>,
    /// Placement moves per child-year, treated.
    pub move_rate_treated: Option<f64>,
    /// The same, controls.
    pub move_rate_control: Option<f64>,
    /// Share with 3+ placements, treated.
    pub three_plus_treated: Option<f64>,
    /// The same, controls.
    pub three_plus_control: Option<f64>,
    /// Whether a small count hid values.
    pub suppressed: bool,
}

/// Everything an evaluation produces.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationResults {
    /// The design as run.
    pub design: Design,
    /// `sample_flow.json`.
    pub sample_flow: Vec<FlowRow>,
    /// `balance.json`.
    pub balance: Balance,
    /// `effects.json`.
    pub effects: Vec<EffectRow>,
    /// Kaplan-Meier curves and tests of the time-to-event outcomes.
    pub survival: Vec<SurvivalResult>,
    /// `site_did.json`: every metric, all pilots, then each pilot alone.
    pub site_did: Vec<SiteDidRow>,
    /// The site x year panel behind it.
    pub site_panel: Vec<PanelRow>,
    /// Results by SWP model.
    pub by_model: Vec<ModelRow>,
    /// Sensitivity of the primary outcomes to hidden bias (E-values, Rosenbaum bounds).
    pub sensitivity: Vec<sensitivity::SensitivityRow>,
    /// The specification curve (when `[specification_curve] enabled = true`).
    pub specification_curve: Option<specification::SpecificationCurve>,
    /// Power and minimum detectable effects (when `[power] enabled = true`).
    pub power: Option<power::PowerResult>,
    /// Value for money (when `[value_for_money] enabled = true`).
    pub value_for_money: Option<value::ValueForMoney>,
    /// Monthly caseload and turnover per site of either arm (trend figures).
    pub monthly: Vec<descriptive::MonthlyRow>,
    /// Caseloads of case-holding workers by arm at the end of the follow-up window.
    pub caseload_distribution: descriptive::CaseloadDistribution,
    /// Placement moves and social-worker changes per child-year by arm and financial year.
    pub arm_years: Vec<descriptive::ArmYearRow>,
    /// Warnings (follow-up cut, covariates dropped, few clusters, suppression).
    pub warnings: Vec<String>,
    /// The matched child-level cohort (ids inside: never serialised with the results).
    #[serde(skip)]
    pub cohort: CohortTable,
}

/// The child-level cohort with its match weights, for `--cohort-out` (contains child ids).
#[derive(Debug, Clone, Default)]
pub struct CohortTable {
    /// Column names.
    pub columns: Vec<String>,
    /// Text columns first (child_id, site_id), then numbers; one entry per child.
    pub text: Vec<Vec<String>>,
    /// Numeric columns.
    pub numbers: Vec<Vec<Option<f64>>>,
}

/// The first stages' products, shared by a full run and a matching-only run.
struct Prepared {
    sites: Vec<Site>,
    windows: Windows,
    arm_of_site: Vec<Option<bool>>,
    cohort: Cohort,
    sample_flow: Vec<FlowRow>,
    covariates: Vec<Covariate>,
    matching: Matching,
    /// None when only the primary estimates are wanted ([`Detail::Primary`]).
    balance: Option<Balance>,
    warnings: Vec<String>,
}

/// The cohort stage's products (shared by the specifications with the same cohort settings).
pub(crate) struct CohortStage {
    pub(crate) sites: Vec<Site>,
    pub(crate) windows: Windows,
    pub(crate) arm_of_site: Vec<Option<bool>>,
    pub(crate) cohort: Cohort,
    pub(crate) sample_flow: Vec<FlowRow>,
    pub(crate) warnings: Vec<String>,
}

/// A propensity model fitter: the params' own fit, or one shared by several specifications.
pub(crate) type Propensity<'a> =
    dyn Fn(&ValidMatchParams, &MatchData<'_>) -> std::result::Result<Option<GlmFit>, swp_stats::StatsError> + Sync + 'a;

/// How much of the evaluation a run computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Everything the report shows.
    Full,
    /// The primary rows' estimate, interval and CR2 p-value only (the specification curve):
    /// no balance table, no secondary rows or columns, no wild bootstrap, no curves.
    Primary,
}

/// The cohort and its matching without effects (`swp-eval match DIR --config FILE`).
#[derive(Debug, Clone)]
pub struct MatchedCohort {
    /// Sample flow.
    pub sample_flow: Vec<FlowRow>,
    /// Balance before and after matching.
    pub balance: Balance,
    /// Warnings.
    pub warnings: Vec<String>,
    /// The child-level cohort with match weights (child ids inside).
    pub cohort: CohortTable,
}

/// Reports progress within a long stage: (stage, done, total), from any thread.
pub type Ticker = dyn Fn(Stage, u64, u64) + Send + Sync;

/// A checked evaluation, ready to run on datasets.
#[derive(Clone)]
pub struct Evaluation {
    config: ValidConfig,
    ticker: Option<std::sync::Arc<Ticker>>,
}

impl std::fmt::Debug for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluation").field("config", &self.config).finish_non_exhaustive()
    }
}

fn count(n: usize) -> Option<u64> {
    Some(n as u64)
}

impl Evaluation {
    /// Checks `config`.
    ///
    /// # Errors
    /// [`EvaluationError::Config`] naming the key, the value and what is allowed.
    pub fn new(config: Config) -> Result<Self> {
        Ok(Evaluation { config: config.check()?, ticker: None })
    }

    /// Reports progress within the long stages (the specification curve and the power
    /// simulation: specifications or simulations done out of the total) to `ticker`.
    pub fn with_ticker(mut self, ticker: std::sync::Arc<Ticker>) -> Self {
        self.ticker = Some(ticker);
        self
    }

    /// Calls the ticker, if any.
    pub(crate) fn tick(&self, stage: Stage, done: u64, total: u64) {
        if let Some(t) = &self.ticker {
            t(stage, done, total);
        }
    }

    /// The checked config.
    pub fn config(&self) -> &ValidConfig {
        &self.config
    }

    /// Runs the evaluation on a validated dataset.
    ///
    /// # Errors
    /// No pilot go-live (for the default index date), an index date outside the data, an arm
    /// with no eligible child, a listed covariate constant in the cohort, no match, and model
    /// failures, each naming the cause.
    pub fn run(&self, dataset: &Dataset) -> Result<EvaluationResults> {
        self.run_with_progress(dataset, &mut |_| {})
    }

    /// The cohort on the index date and its matching (the first three stages), for
    /// [`Evaluation::match_cohort`] and [`Evaluation::run_with_progress`].
    fn prepare(&self, dataset: &Dataset, progress: &mut dyn FnMut(Stage)) -> Result<(swp_metrics::Index, Prepared)> {
        progress(Stage::Index);
        let index = ValidMetricsParams::defaults(GroupBy::Site).index(dataset);
        let prepared = self.prepare_indexed(dataset, &index, Detail::Full, progress)?;
        Ok((index, prepared))
    }

    /// The windows and the cohort on the index date (the first two stages).
    pub(crate) fn cohort_stage(
        &self,
        dataset: &Dataset,
        index: &swp_metrics::Index,
        progress: &mut dyn FnMut(Stage),
    ) -> Result<CohortStage> {
        let config = &self.config;
        let mut warnings = Vec::new();
        let sites = sites_of(dataset);
        let go_lives: Vec<i32> = sites.iter().filter(|s| s.arm == "pilot").filter_map(|s| s.go_live).collect();
        let index_date = match config.cohort.index_date {
            Some(d) => d,
            None => *go_lives.iter().min().ok_or(EvaluationError::NoPilot)?,
        };
        let extract = dataset.extract_date.unwrap_or(index_date);
        let first_episode = DateView::new(&dataset.episodes.frame, "decom").min();
        let Some(first) = first_episode.filter(|&f| f <= index_date && index_date <= extract) else {
            return Err(EvaluationError::IndexDateOutsideData {
                index_date: format_date(index_date),
                first: first_episode.map_or_else(|| "no episodes".into(), format_date),
                last: format_date(extract),
            });
        };
        let windows = Windows::new(index_date, config, extract);
        if windows.follow_up.to < windows.follow_up_planned_end {
            warnings.push(format!(
                "follow-up cut at the extract date: the window ends {} instead of {} ({} of {} months)",
                format_date(windows.follow_up.to),
                format_date(windows.follow_up_planned_end),
                ((windows.follow_up.to - index_date + 1) as f64 / (365.25 / 12.0)).round(),
                config.cohort.follow_up_months
            ));
        }
        if windows.baseline.from < first {
            warnings.push(format!(
                "the baseline window starts {} but the first episode in the data starts {}: prior placements and changes may be undercounted",
                format_date(windows.baseline.from),
                format_date(first)
            ));
        }

        progress(Stage::Cohort);
        let arm_of_site: Vec<Option<bool>> = index
            .groups
            .site_ids
            .iter()
            .map(|id| {
                let s = sites.iter().find(|s| &s.id == id)?;
                if s.arm == "pilot" {
                    Some(true)
                } else if config.cohort.controls.includes(&s.arm) {
                    Some(false)
                } else {
                    None
                }
            })
            .collect();
        let (cohort, sample_flow) = cohort::build(dataset, index, &arm_of_site, &windows, config);
        for (treated, arm) in [(true, "treated (pilot)"), (false, "control")] {
            if !cohort.treated.contains(&treated) {
                let hint = if treated {
                    ": check the pilots' children and the index date, or relax cohort.min_months_in_care and the ages"
                } else {
                    ": check cohort.controls (comparison, host or both) and the index date"
                };
                return Err(EvaluationError::EmptyArm {
                    arm: arm.to_string(),
                    index_date: format_date(windows.index_date),
                    hint: hint.to_string(),
                });
            }
        }

        Ok(CohortStage { sites, windows, arm_of_site, cohort, sample_flow, warnings })
    }

    /// [`Evaluation::prepare`] on an index already built (the specification curve builds it once).
    fn prepare_indexed(
        &self,
        dataset: &Dataset,
        index: &swp_metrics::Index,
        detail: Detail,
        progress: &mut dyn FnMut(Stage),
    ) -> Result<Prepared> {
        let CohortStage { sites, windows, arm_of_site, cohort, sample_flow, mut warnings } =
            self.cohort_stage(dataset, index, progress)?;
        progress(Stage::Matching);
        let (covariates, dropped, matching) = self.matching(&cohort)?;
        for name in &dropped {
            warnings.push(format!("covariate `{name}` is constant in the cohort and was dropped"));
        }
        let balance = match detail {
            Detail::Full => Some(balance_of(&covariates, &cohort.treated, &matching)?),
            Detail::Primary => None,
        };
        let imbalanced: Vec<&str> = balance
            .iter()
            .flat_map(|b| &b.balance)
            .filter(|r| r.imbalanced && r.covariate != "distance")
            .map(|r| r.covariate.as_str())
            .collect();
        if !imbalanced.is_empty() {
            warnings.push(format!("after matching |SMD| > 0.1 for {}", imbalanced.join(", ")));
        }

        Ok(Prepared { sites, windows, arm_of_site, cohort, sample_flow, covariates, matching, balance, warnings })
    }

    /// The covariates of `cohort` (and those dropped as constant) and the config's matching on them.
    pub(crate) fn matching(&self, cohort: &Cohort) -> Result<(Vec<Covariate>, Vec<String>, Matching)> {
        let (covariates, dropped) = self.covariates(cohort)?;
        let matching = self.matching_with(cohort, &covariates, &dropped, &|p, d| p.propensity(d))?;
        Ok((covariates, dropped, matching))
    }

    /// The config's matching on `covariates` of `cohort` (those in `dropped` are constant), the
    /// propensity model from `propensity`.
    pub(crate) fn matching_with(
        &self,
        cohort: &Cohort,
        covariates: &[Covariate],
        dropped: &[String],
        propensity: &Propensity<'_>,
    ) -> Result<Matching> {
        let config = &self.config;
        let exact: Vec<Covariate> = covariates
            .iter()
            .filter(|c| config.matching.exact.contains(&c.name) && !dropped.contains(&c.name))
            .cloned()
            .collect();
        let m = &config.matching;
        let params = MatchParams::new()
            .method(m.method)
            .distance(m.distance)
            .ratio(m.ratio)
            .replace(m.replace)
            .caliper(m.caliper)
            .order(m.order)
            .seed(config.inference.seed)
            .check()
            .map_err(|e| EvaluationError::Config {
                key: "matching".into(),
                value: format!("{m:?}"),
                allowed: e.to_string(),
            })?;
        let data = MatchData { treat: &cohort.treated, covariates, exact: &exact };
        propensity(&params, &data).and_then(|model| params.run_with(&data, model)).map_err(|e| match e {
            swp_stats::StatsError::NoMatches(_) => EvaluationError::NoMatches,
            other => EvaluationError::Stats { step: "matching".into(), source: other },
        })
    }

    /// The matched sample and the rows (and Kaplan-Meier curves) of the child-level outcomes.
    fn child_outcomes(
        &self,
        cohort: &Cohort,
        matching: &Matching,
        windows: &Windows,
        detail: Detail,
        warnings: &mut Vec<String>,
    ) -> (Vec<usize>, Sample, Vec<EffectRow>, Vec<SurvivalResult>) {
        let config = &self.config;
        let (matched, sample) = matched_sample(cohort, matching);
        let treated_sites = {
            let mut s: Vec<usize> =
                sample.site.iter().zip(&sample.treated).filter(|(_, &t)| t).map(|(&s, _)| s).collect();
            s.sort_unstable();
            s.dedup();
            s.len()
        };
        let n_sites = sample.site.iter().max().map_or(0, |m| m + 1);
        if treated_sites < 10 || n_sites - treated_sites < 10 {
            warnings.push(format!(
                "few clusters: {treated_sites} pilot site(s) and {} control site(s) in the matched sample; CR2 with Bell-McCaffrey df and the wild cluster bootstrap are used, but intervals rest on few sites",
                n_sites - treated_sites
            ));
        }
        let pick = |v: &[f64]| -> Vec<f64> { matched.iter().map(|&i| v[i]).collect() };
        let pick_bool = |v: &[bool]| -> Vec<bool> { matched.iter().map(|&i| v[i]).collect() };
        let wild = WildParams {
            reps: config.inference.bootstrap_reps,
            weights: config.inference.bootstrap_weights,
            kind: BootType::Wcr,
            seed: config.inference.seed,
        };
        let mut effects = Vec::new();
        let mut survival = Vec::new();
        let window_days = f64::from(windows.follow_up.to - windows.follow_up.from + 1);
        for outcome in OUTCOMES.iter().filter(|o| config.outcomes.iter().any(|c| c == *o)) {
            // an outcome that cannot be estimated (no events in an arm, one site only) keeps its
            // rows, empty, and says why; the rest of the evaluation goes on
            let estimated = match *outcome {
                "sw_changes" => estimates::count_rows(
                    outcome,
                    &pick(&cohort.sw_changes),
                    &pick(&cohort.exposure_years),
                    &sample,
                    &wild,
                    detail,
                ),
                "placement_moves" => estimates::count_rows(
                    outcome,
                    &pick(&cohort.placement_moves),
                    &pick(&cohort.exposure_years),
                    &sample,
                    &wild,
                    detail,
                ),
                "three_plus_placements" => {
                    estimates::binary_rows(outcome, &pick(&cohort.three_plus_placements), &sample, &wild, detail)
                }
                _ => {
                    let (time, event) = if *outcome == "time_to_sw_change" {
                        (&cohort.time_to_sw_change, &cohort.sw_change_event)
                    } else {
                        (&cohort.time_to_placement_move, &cohort.placement_move_event)
                    };
                    estimates::time_to_event_rows(outcome, &pick(time), &pick_bool(event), &sample, window_days, detail)
                        .map(|(rows, curves)| {
                            survival.push(curves);
                            rows
                        })
                }
            };
            match estimated {
                Ok(rows) => {
                    for r in rows.iter().filter(|r| r.estimate.is_none()) {
                        warnings.push(format!(
                            "{outcome}: the {} is not estimable (no events, or only events, in an arm)",
                            r.estimate_type.replace('_', " ")
                        ));
                    }
                    effects.extend(rows);
                }
                Err(e) => {
                    warnings.push(format!("{outcome} not estimated: {e}"));
                    effects.extend(estimates::empty_rows(outcome, &sample));
                }
            }
        }
        (matched, sample, effects, survival)
    }

    /// The primary rows of the child-level outcomes only: estimate, interval and CR2 p-value,
    /// nothing else computed ([`Detail::Primary`]).
    ///
    /// # Errors
    /// As [`Evaluation::run`].
    pub fn primary_effects(&self, dataset: &Dataset) -> Result<Vec<EffectRow>> {
        let index = ValidMetricsParams::defaults(GroupBy::Site).index(dataset);
        self.primary_effects_indexed(dataset, &index)
    }

    /// [`Evaluation::primary_effects`] on a by-site index of `dataset` built once.
    ///
    /// # Errors
    /// As [`Evaluation::run`].
    pub fn primary_effects_indexed(&self, dataset: &Dataset, index: &swp_metrics::Index) -> Result<Vec<EffectRow>> {
        let mut p = self.prepare_indexed(dataset, index, Detail::Primary, &mut |_| {})?;
        let (_, _, effects, _) =
            self.child_outcomes(&p.cohort, &p.matching, &p.windows, Detail::Primary, &mut p.warnings);
        Ok(effects.into_iter().filter(|e| e.primary).collect())
    }

    /// The primary rows on a cohort already built (by this config's cohort settings), with its
    /// covariates and a propensity fitter shared with other specifications.
    pub(crate) fn primary_effects_on(
        &self,
        stage: &CohortStage,
        covariates: &(Vec<Covariate>, Vec<String>),
        propensity: &Propensity<'_>,
    ) -> Result<Vec<EffectRow>> {
        let matching = self.matching_with(&stage.cohort, &covariates.0, &covariates.1, propensity)?;
        let mut warnings = Vec::new();
        let (_, _, effects, _) =
            self.child_outcomes(&stage.cohort, &matching, &stage.windows, Detail::Primary, &mut warnings);
        Ok(effects.into_iter().filter(|e| e.primary).collect())
    }

    /// Only the cohort and its matching (`swp-eval match DIR --config FILE`): the sample flow,
    /// the balance table and the warnings, without estimating any effect.
    ///
    /// # Errors
    /// As [`Evaluation::run`].
    pub fn match_cohort(&self, dataset: &Dataset) -> Result<MatchedCohort> {
        let (index, p) = self.prepare(dataset, &mut |_| {})?;
        let cohort = cohort_table(&p.cohort, &p.matching, &index);
        let balance = p.balance.expect("a full run has a balance table");
        Ok(MatchedCohort { sample_flow: p.sample_flow, balance, warnings: p.warnings, cohort })
    }

    /// [`Evaluation::run`], calling `progress` as each stage starts.
    ///
    /// # Errors
    /// As [`Evaluation::run`].
    pub fn run_with_progress(&self, dataset: &Dataset, progress: &mut dyn FnMut(Stage)) -> Result<EvaluationResults> {
        let config = &self.config;
        let (
            index,
            Prepared { sites, windows, arm_of_site, cohort, sample_flow, covariates, matching, balance, mut warnings },
        ) = self.prepare(dataset, progress)?;
        let balance = balance.expect("a full run has a balance table");
        progress(Stage::Effects);
        let (matched, sample, mut effects, survival) =
            self.child_outcomes(&cohort, &matching, &windows, Detail::Full, &mut warnings);
        for measure in cohort::measures(dataset, &cohort, config.measures.as_deref()) {
            let rows: Vec<usize> = (0..matched.len())
                .filter(|&k| measure.baseline[matched[k]].is_some() && measure.follow_up[matched[k]].is_some())
                .collect();
            let sub = sample.subset(&rows);
            let base: Vec<f64> = rows.iter().map(|&k| measure.baseline[matched[k]].unwrap_or(f64::NAN)).collect();
            let follow: Vec<f64> = rows.iter().map(|&k| measure.follow_up[matched[k]].unwrap_or(f64::NAN)).collect();
            if !sub.treated.iter().any(|&t| t) || sub.treated.iter().all(|&t| t) {
                warnings.push(format!(
                    "outcome measure `{}`: no matched children in one arm with both waves; not estimated",
                    measure.name
                ));
                continue;
            }
            match estimates::measure_rows(&measure.name, &base, &follow, &sub) {
                Ok(rows) => effects.extend(rows),
                Err(e) => warnings.push(format!("outcome measure `{}` not estimated: {e}", measure.name)),
            }
        }
        let value_config = &config.raw.value_for_money;
        let value_for_money = if value_config.enabled {
            let costs = value::child_costs(
                dataset,
                &index,
                &cohort,
                windows.follow_up,
                value_config,
                &config.raw.covariates.placement_type,
            );
            let total = costs.total();
            let pick = |v: &[f64]| -> Vec<f64> { matched.iter().map(|&i| v[i]).collect() };
            let wild = WildParams {
                reps: config.inference.bootstrap_reps,
                weights: config.inference.bootstrap_weights,
                kind: BootType::Wcr,
                seed: config.inference.seed,
            };
            match estimates::cost_rows(value::OUTCOME, &pick(&total), &pick(&cohort.exposure_years), &sample, &wild) {
                Ok(rows) => effects.extend(rows),
                Err(e) => {
                    warnings.push(format!("{} not estimated: {e}", value::OUTCOME));
                    effects.extend(estimates::empty_rows(value::OUTCOME, &sample));
                }
            }
            let arm_names: Vec<String> = index
                .groups
                .site_ids
                .iter()
                .map(|id| sites.iter().find(|s| &s.id == id).map_or_else(String::new, |s| s.arm.clone()))
                .collect();
            let pilots = sites
                .iter()
                .filter(|s| s.arm == "pilot")
                .filter_map(|s| Some((index.groups.site_index(&s.id)?, s.id.clone(), s.model.clone(), s.go_live)))
                .collect();
            let inputs = value::Inputs {
                dataset,
                index: &index,
                cohort: &cohort,
                matching: &matching,
                costs: &costs,
                windows: &windows,
                pilots,
                arm_of_site: &arm_names,
                seed: config.inference.seed,
            };
            Some(value::value_for_money(value_config, &inputs))
        } else {
            None
        };
        if let Some(method) = config.inference.multiplicity {
            let primary: Vec<usize> =
                (0..effects.len()).filter(|&i| effects[i].primary && effects[i].p_value.is_some()).collect();
            let p: Vec<f64> = primary.iter().filter_map(|&i| effects[i].p_value).collect();
            for (&i, adjusted) in primary.iter().zip(swp_stats::multiplicity::adjust(&p, method)) {
                effects[i].p_holm = Some(adjusted);
            }
        }

        let m = &config.matching;
        let pairs_design = m.method == swp_stats::matching::Method::Nearest && m.ratio == 1 && !m.replace;
        let sensitivity = sensitivity::sensitivity(&cohort, &matching, &effects, pairs_design);

        progress(Stage::SiteLevel);
        let (site_did, site_panel, periods) = self.site_level(dataset, &index, &sites, &windows)?;
        let monthly = descriptive::monthly(
            &index,
            &sites,
            &arm_of_site,
            Period { from: windows.baseline.from, to: windows.follow_up.to },
        );
        let caseload_distribution = descriptive::caseload_distribution(&index, &arm_of_site, windows.follow_up.to);
        let arm_years = descriptive::arm_years(&index, &arm_of_site, &periods);
        let by_model = by_model(&cohort, &matching, &sites, &index.groups)?;
        let specification_curve = config.raw.specification_curve.enabled.then(|| {
            progress(Stage::SpecificationCurve);
            specification::specification_curve_with(&config.raw, dataset, &|done, total| {
                self.tick(Stage::SpecificationCurve, done, total)
            })
        });
        let power = config.raw.power.enabled.then(|| {
            progress(Stage::Power);
            self.power(&cohort)
        });

        let m = &config.matching;
        let design = Design {
            index_date: format_date(windows.index_date),
            index_date_is_default: config.cohort.index_date.is_none(),
            baseline_from: format_date(windows.baseline.from),
            baseline_to: format_date(windows.baseline.to),
            follow_up_from: format_date(windows.follow_up.from),
            follow_up_to: format_date(windows.follow_up.to),
            follow_up_planned_to: format_date(windows.follow_up_planned_end),
            follow_up_days: f64::from(windows.follow_up.to - windows.follow_up.from + 1),
            go_lives: sites
                .iter()
                .filter(|s| s.arm == "pilot")
                .filter_map(|s| Some((s.id.clone(), format_date(s.go_live?))))
                .collect(),
            extract_date: format_date(windows.extract_date),
            treated_sites: sites.iter().filter(|s| s.arm == "pilot").map(|s| s.id.clone()).collect(),
            control_sites: sites
                .iter()
                .filter(|s| config.cohort.controls.includes(&s.arm))
                .map(|s| s.id.clone())
                .collect(),
            controls: config.cohort.controls.name().to_string(),
            covariates: covariates.iter().map(|c| c.name.clone()).collect(),
            matching: format!(
                "{} {}:1 on {}{}, {}, {}{}",
                format!("{:?}", m.method).to_lowercase(),
                m.ratio,
                match m.distance {
                    swp_stats::matching::Distance::Glm => "a logistic propensity score",
                    swp_stats::matching::Distance::LinearLogit => "the linear logit of a logistic propensity score",
                    swp_stats::matching::Distance::Probit => "a probit propensity score",
                    swp_stats::matching::Distance::Mahalanobis => "the Mahalanobis distance",
                },
                m.caliper.map_or(String::new(), |c| format!(" with a caliper of {c} SD")),
                if m.replace { "with replacement" } else { "without replacement" },
                if m.exact.is_empty() {
                    "no exact matching".to_string()
                } else {
                    format!("exact on {}", m.exact.join(", "))
                },
                m.order.map_or(String::new(), |o| format!(", order {o:?}").to_lowercase()),
            ),
            bootstrap_reps: config.inference.bootstrap_reps,
            seed: config.inference.seed,
            dataset_name: dataset.manifest.name.clone(),
            synthetic: dataset.manifest.extra.contains_key("synth"),
        };
        let cohort_table = cohort_table(&cohort, &matching, &index);
        Ok(EvaluationResults {
            design,
            sample_flow,
            balance,
            effects,
            survival,
            site_did,
            site_panel,
            by_model,
            sensitivity,
            specification_curve,
            power,
            value_for_money,
            monthly,
            caseload_distribution,
            arm_years,
            warnings,
            cohort: cohort_table,
        })
    }

    /// The covariates of the cohort, and those dropped as constant.
    pub(crate) fn covariates(&self, cohort: &Cohort) -> Result<(Vec<Covariate>, Vec<String>)> {
        let mut out = Vec::new();
        let mut dropped = Vec::new();
        for name in &self.config.covariates {
            let covariate = if let Some(v) = cohort.numeric(name) {
                Covariate::numeric(name, v.to_vec())
            } else if let Some(v) = cohort.categorical(name) {
                Covariate::text(name, v.to_vec())
            } else {
                continue;
            };
            let constant = match &covariate.values {
                swp_stats::design::Values::Numeric(v) => v.iter().all(|x| *x == v[0]),
                swp_stats::design::Values::Text(v) => v.iter().all(|x| *x == v[0]),
            };
            if constant {
                if self.config.covariates_listed {
                    return Err(EvaluationError::ConstantCovariate { name: name.clone() });
                }
                dropped.push(name.clone());
                continue;
            }
            out.push(covariate);
        }
        if out.is_empty() {
            return Err(EvaluationError::ConstantCovariate { name: self.config.covariates.join(", ") });
        }
        Ok((out, dropped))
    }

    /// Site-level metrics by financial year and their difference-in-differences.
    fn site_level(
        &self,
        dataset: &Dataset,
        index: &swp_metrics::Index,
        sites: &[Site],
        windows: &Windows,
    ) -> Result<(Vec<SiteDidRow>, Vec<PanelRow>, Vec<Period>)> {
        let config = &self.config;
        let first =
            [DateView::new(&dataset.episodes.frame, "decom"), DateView::new(&dataset.workers.frame, "start_date")]
                .iter()
                .filter_map(DateView::min)
                .min()
                .unwrap_or(windows.baseline.from)
                .max(windows.baseline.from - 5 * 366);
        let periods: Vec<Period> =
            financial_years(first, windows.extract_date).into_iter().filter(|p| p.to <= windows.extract_date).collect();
        let rows: Vec<_> =
            metrics_of(index, &periods, 20).into_iter().filter(|r| SITE_METRICS.contains(&r.metric)).collect();
        let published = suppress(rows.clone(), config.threshold);
        let flagged: Vec<(swp_metrics::MetricRow, bool)> =
            published.into_iter().map(|p| (p.row, p.suppressed)).collect();
        let in_analysis: Vec<&Site> =
            sites.iter().filter(|s| s.arm == "pilot" || config.cohort.controls.includes(&s.arm)).collect();
        let panel_rows = site::panel(&in_analysis.iter().map(|s| (*s).clone()).collect::<Vec<_>>(), &periods, &flagged);
        let period_of = |from: &str| periods.iter().position(|p| format_date(p.from) == from);
        let mut value: std::collections::HashMap<(&str, &str, usize), f64> = std::collections::HashMap::new();
        for r in &rows {
            if let (Some(v), Some(t)) = (r.value, period_of(&r.period_from)) {
                value.insert((r.group.as_str(), r.metric, t), v);
            }
        }
        let mut out = Vec::new();
        let controls: Vec<&Site> = in_analysis.iter().copied().filter(|s| s.arm != "pilot").collect();
        for metric in SITE_METRICS {
            let lookup = |s: &Site, t: usize| value.get(&(s.id.as_str(), metric, t)).copied();
            out.push(site::did(metric, "all", &in_analysis, &periods, lookup, config)?);
            for pilot in in_analysis.iter().filter(|s| s.arm == "pilot") {
                let mut group: Vec<&Site> = vec![pilot];
                group.extend(controls.iter().copied());
                out.push(site::did(metric, &pilot.model, &group, &periods, lookup, config)?);
            }
        }
        Ok((out, panel_rows, periods))
    }
}

/// The matched children (rows of `cohort` with a positive weight) and their sample: arm, weight,
/// site and subclass, the clusters relabelled 0..G.
pub(crate) fn matched_sample(cohort: &Cohort, matching: &Matching) -> (Vec<usize>, Sample) {
    let matched: Vec<usize> = (0..cohort.len()).filter(|&i| matching.weights[i] > 0.0).collect();
    let site_index = relabel(&matched.iter().map(|&i| cohort.site[i] as usize).collect::<Vec<_>>());
    let sample = Sample {
        treated: matched.iter().map(|&i| cohort.treated[i]).collect(),
        weights: matched.iter().map(|&i| matching.weights[i]).collect(),
        site: site_index,
        subclass: if matching.subclass.iter().all(Option::is_none) {
            None
        } else {
            Some(relabel(&matched.iter().map(|&i| matching.subclass[i].unwrap_or(usize::MAX - i)).collect::<Vec<_>>()))
        },
    };
    (matched, sample)
}

/// Labels as 0..G in order of the sorted distinct values.
fn relabel(v: &[usize]) -> Vec<usize> {
    let mut d = v.to_vec();
    d.sort_unstable();
    d.dedup();
    v.iter().map(|x| d.binary_search(x).expect("present")).collect()
}

/// The sites table as the evaluation needs it.
fn sites_of(dataset: &Dataset) -> Vec<Site> {
    let f = &dataset.sites.frame;
    let ids = text_column(f, "site_id");
    let arms = code_column(f, "arm");
    let models = code_column(f, "swp_model");
    let go = date_column(f, "go_live");
    (0..f.height())
        .filter_map(|i| {
            Some(Site {
                id: ids[i]?.to_string(),
                arm: arms[i].clone().unwrap_or_default(),
                model: models[i].clone().unwrap_or_else(|| "none".into()),
                go_live: if arms[i].as_deref() == Some("pilot") { go[i] } else { None },
            })
        })
        .collect()
}

/// The balance table of the matching (MatchIt's `summary()`), as `match` writes it.
fn balance_of(covariates: &[Covariate], treat: &[bool], matching: &Matching) -> Result<Balance> {
    let expanded = expand(covariates, Expansion::Balance).map_err(error::at("balance"))?;
    let mut columns: Vec<(String, Vec<f64>)> = expanded.names.into_iter().zip(expanded.columns).collect();
    if let Some(d) = &matching.distance {
        columns.insert(0, ("distance".to_string(), d.clone()));
    }
    let table = balance_table(&columns, treat, &matching.weights);
    let Counts { treated, control, matched_treated, matched_control, discarded } = table.counts;
    let rows = table
        .before
        .iter()
        .zip(&table.after)
        .map(|(b, a)| BalanceRow {
            covariate: b.covariate.clone(),
            mean_treated: b.mean_treated,
            mean_treated_after: a.mean_treated,
            mean_control_before: b.mean_control,
            mean_control_after: a.mean_control,
            smd_before: b.smd,
            smd_after: a.smd,
            var_ratio_before: b.var_ratio,
            var_ratio_after: a.var_ratio,
            ecdf_mean_before: b.ecdf_mean,
            ecdf_max_before: b.ecdf_max,
            ecdf_mean_after: a.ecdf_mean,
            ecdf_max_after: a.ecdf_max,
            imbalanced: a.smd.abs() > 0.1,
        })
        .collect();
    Ok(Balance {
        n: BalanceCounts {
            treated: count(treated),
            control: count(control),
            matched_treated: count(matched_treated),
            matched_control: count(matched_control),
            discarded: count(discarded),
        },
        balance: rows,
    })
}

/// Results by SWP model: each pilot's matched children against their own matched controls.
fn by_model(cohort: &Cohort, matching: &Matching, sites: &[Site], groups: &SiteGroups) -> Result<Vec<ModelRow>> {
    let mut out = Vec::new();
    for site in sites.iter().filter(|s| s.arm == "pilot") {
        let Some(site_index) = groups.site_index(&site.id) else { continue };
        let (treated, control_weight) = cohort::pilot_and_controls(cohort, matching, site_index);
        let controls: Vec<usize> = (0..cohort.len()).filter(|&i| control_weight[i] > 0.0).collect();
        let rate = |rows: &[usize], w: &dyn Fn(usize) -> f64, y: &[f64], exposure: Option<&[f64]>| -> Option<f64> {
            let num: f64 = rows.iter().map(|&i| w(i) * y[i]).sum();
            let den: f64 = rows.iter().map(|&i| w(i) * exposure.map_or(1.0, |e| e[i])).sum();
            (den > 0.0).then(|| num / den)
        };
        let one = |_: usize| 1.0;
        let cw = |i: usize| control_weight[i];
        out.push(ModelRow {
            model: site.model.clone(),
            site: site.id.clone(),
            n_treated: count(treated.len()),
            n_control: count(controls.len()),
            sw_change_rate_treated: rate(&treated, &one, &cohort.sw_changes, Some(&cohort.exposure_years)),
            sw_change_rate_control: rate(&controls, &cw, &cohort.sw_changes, Some(&cohort.exposure_years)),
            move_rate_treated: rate(&treated, &one, &cohort.placement_moves, Some(&cohort.exposure_years)),
            move_rate_control: rate(&controls, &cw, &cohort.placement_moves, Some(&cohort.exposure_years)),
            three_plus_treated: rate(&treated, &one, &cohort.three_plus_placements, None),
            three_plus_control: rate(&controls, &cw, &cohort.three_plus_placements, None),
            suppressed: false,
        });
    }
    Ok(out)
}

/// The child-level cohort table (ids included) for `--cohort-out`.
fn cohort_table(cohort: &Cohort, matching: &Matching, index: &swp_metrics::Index) -> CohortTable {
    let mut columns: Vec<String> = vec!["child_id".into(), "site_id".into()];
    let text = vec![
        cohort.child.iter().map(|&c| index.child_ids.get(c).to_string()).collect(),
        cohort.site.iter().map(|&s| index.groups.site_ids[s as usize].clone()).collect(),
    ];
    let mut numbers: Vec<Vec<Option<f64>>> = Vec::new();
    let mut push = |name: &str, v: Vec<Option<f64>>| {
        columns.push(name.to_string());
        numbers.push(v);
    };
    push("treated", cohort.treated.iter().map(|&t| Some(f64::from(u8::from(t)))).collect());
    push("weights", matching.weights.iter().map(|&w| Some(w)).collect());
    push("subclass", matching.subclass.iter().map(|s| s.map(|s| s as f64)).collect());
    if let Some(d) = &matching.distance {
        push("distance", d.iter().map(|&x| Some(x)).collect());
    }
    for (name, v) in &cohort.numeric {
        push(name, v.iter().map(|&x| Some(x)).collect());
    }
    let all = |v: &[f64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
    push("sw_changes", all(&cohort.sw_changes));
    push("placement_moves", all(&cohort.placement_moves));
    push("exposure_years", all(&cohort.exposure_years));
    push("three_plus_placements", all(&cohort.three_plus_placements));
    push("time_to_sw_change", all(&cohort.time_to_sw_change));
    push("sw_change_event", cohort.sw_change_event.iter().map(|&e| Some(f64::from(u8::from(e)))).collect());
    push("time_to_placement_move", all(&cohort.time_to_placement_move));
    push("placement_move_event", cohort.placement_move_event.iter().map(|&e| Some(f64::from(u8::from(e)))).collect());
    let mut text = text;
    for (name, v) in &cohort.categorical {
        columns.insert(2 + text.len() - 2, name.to_string());
        text.push(v.clone());
    }
    CohortTable { columns, text, numbers }
}

/// Small-number suppression of every count in the results (EVALUATION.md and METRICS.md: a
/// count from 1 to `threshold - 1` is hidden). Suppressed counts become None; effect rows whose
/// treated or control count is small lose their estimates too; the warnings say what was hidden.
/// `threshold` 1 suppresses nothing.
pub fn publish(mut results: EvaluationResults, threshold: u32) -> EvaluationResults {
    let small = |x: u64| x >= 1 && x < u64::from(threshold);
    let small_f = |x: f64| x >= 1.0 && x < f64::from(threshold);
    let mut hidden = 0usize;
    // sample flow: a small removal is hidden with the count remaining after it, and (secondary
    // suppression) a neighbouring step's removal too, so no difference of published counts
    // reveals it
    for arm in ["treated", "control"] {
        let rows: Vec<usize> = (0..results.sample_flow.len()).filter(|&i| results.sample_flow[i].arm == arm).collect();
        let small_steps: Vec<usize> =
            (1..rows.len()).filter(|&k| results.sample_flow[rows[k]].removed.is_some_and(small)).collect();
        for k in small_steps {
            let neighbour = if k + 1 < rows.len() { k + 1 } else { k - 1 };
            for j in [k, neighbour] {
                if j == 0 {
                    continue;
                }
                let r = &mut results.sample_flow[rows[j]];
                if r.removed.is_some() {
                    hidden += 1;
                }
                r.removed = None;
            }
            results.sample_flow[rows[k]].remaining = None;
            if neighbour < k {
                results.sample_flow[rows[neighbour]].remaining = None;
            }
        }
    }
    let n = &mut results.balance.n;
    for c in [&mut n.treated, &mut n.control, &mut n.matched_treated, &mut n.matched_control, &mut n.discarded] {
        if c.is_some_and(small) {
            *c = None;
            hidden += 1;
        }
    }
    for r in &mut results.effects {
        let mut row_hidden = false;
        for c in [&mut r.n_treated, &mut r.n_control] {
            if c.is_some_and(small) {
                *c = None;
                row_hidden = true;
            }
        }
        for e in [&mut r.events_treated, &mut r.events_control] {
            if e.is_some_and(small_f) {
                *e = None;
                r.suppressed = true;
            }
        }
        if row_hidden {
            for v in [
                &mut r.estimate,
                &mut r.ci_low,
                &mut r.ci_high,
                &mut r.p_value,
                &mut r.se,
                &mut r.mean_treated,
                &mut r.mean_control,
                &mut r.se_subclass,
                &mut r.ci_low_subclass,
                &mut r.ci_high_subclass,
                &mut r.p_value_subclass,
            ] {
                *v = None;
            }
            r.suppressed = true;
        }
        if r.suppressed {
            hidden += 1;
        }
    }
    for s in &mut results.survival {
        for curve in [&mut s.treated, &mut s.control] {
            for a in &mut curve.at_risk {
                if a.is_some_and(small_f) {
                    *a = None;
                    hidden += 1;
                }
            }
        }
    }
    for m in &mut results.by_model {
        if m.n_treated.is_some_and(small) || m.n_control.is_some_and(small) {
            m.n_treated = m.n_treated.filter(|&x| !small(x));
            m.n_control = m.n_control.filter(|&x| !small(x));
            m.sw_change_rate_treated = None;
            m.sw_change_rate_control = None;
            m.move_rate_treated = None;
            m.move_rate_control = None;
            m.three_plus_treated = None;
            m.three_plus_control = None;
            m.suppressed = true;
            hidden += 1;
        }
    }
    if let Some(v) = &mut results.value_for_money {
        for m in &mut v.by_model {
            if m.n_treated.is_some_and(small) || m.n_control.is_some_and(small) {
                m.n_treated = m.n_treated.filter(|&x| !small(x));
                m.n_control = m.n_control.filter(|&x| !small(x));
                m.cost_treated = None;
                m.cost_control = None;
                hidden += 1;
            }
        }
        for p in &mut v.payments {
            // the indicator is a metric of one site and year: hidden as `metrics` hides it
            let (num_counted, den_counted) = swp_metrics::all::counted_parts(&p.indicator);
            let (num, den) = p.parts;
            if (num_counted && num.is_some_and(small_f)) || (den_counted && den.is_some_and(small_f)) {
                p.value = None;
                hidden += 1;
            }
        }
    }
    hidden += results.site_panel.iter().filter(|r| r.suppressed).count();
    for m in &mut results.monthly {
        if m.case_holders.is_some_and(small) {
            m.case_holders = None;
            m.caseload = None;
            m.suppressed = true;
            hidden += 1;
        }
    }
    for b in &mut results.caseload_distribution.bins {
        if b.workers.is_some_and(small) {
            b.workers = None;
            b.share = None;
            hidden += 1;
        }
    }
    if hidden > 0 {
        results.warnings.push(format!(
            "small numbers: {hidden} figure(s) based on counts of 1 to {} were suppressed (shown as c)",
            threshold.saturating_sub(1)
        ));
    }
    results
}

/// Parses an ISO date (for callers that build configs in code).
pub fn date(text: &str) -> Option<i32> {
    parse_date(text).ok()
}
