//! The evaluation as a pipeline of stages, each a module with one job:
//!
//! 1. [`cohort`]: the sites, the windows on the index date and the eligible children (with the
//!    sample flow, the covariates and the follow-up outcomes);
//! 2. [`matching`]: the covariates in use, the config's matching and its balance table;
//! 3. [`effects`]: the effect rows of every outcome on the matched sample;
//! 4. [`site`]: the site x year panel and its difference-in-differences ([`staggered`]:
//!    Callaway and Sant'Anna's, with the fixed-effects model kept for comparison);
//! 5. [`design`]: the design as run, results by SWP model and the cohort table.
//!
//! [`Evaluation`] holds the checked config and runs the stages; the modules above the pipeline
//! (value for money, sensitivity, the specification curve, power) take their products, and
//! [`crate::run`] composes the whole evaluation. Progress goes to one [`Progress`].

pub mod adjust;
pub mod cohort;
pub mod design;
pub mod effects;
pub mod matching;
pub mod site;
pub mod staggered;

use crate::config::{Config, ValidConfig};
use crate::error::Result;
use crate::results::{Balance, EffectRow, FlowRow, MatchedCohort};
use cohort::Site;
use cohort::{Cohort, Stack};
use serde::Serialize;
use swp_data::Dataset;
use swp_metrics::{GroupBy, Index, ValidMetricsParams};
use swp_stats::design::Covariate;
use swp_stats::glm::GlmFit;
use swp_stats::matching::{MatchData, Matching, ValidMatchParams};

/// The stages of a run, reported to a [`Progress`].
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
    /// Randomisation inference on the primary rows.
    Randomisation,
    /// Site-level metrics and difference-in-differences.
    SiteLevel,
    /// The specification curve (when enabled).
    SpecificationCurve,
    /// The placebo in time (when enabled; its moved cohorts also serve the power simulation).
    Placebo,
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
            Stage::Randomisation => "randomisation",
            Stage::SiteLevel => "site_level",
            Stage::SpecificationCurve => "specification_curve",
            Stage::Placebo => "placebo",
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
            Stage::Randomisation => "randomisation inference",
            Stage::SiteLevel => "site-level analysis",
            Stage::SpecificationCurve => "specification curve",
            Stage::Placebo => "placebo in time",
            Stage::Power => "power simulation",
        }
    }
}

/// Where a run reports its progress: each stage as it starts, and within the long stages (the
/// specification curve, the power simulation) the units of work done, from any thread.
pub trait Progress: Sync {
    /// `stage` starts (the previous one has finished).
    fn stage(&self, _stage: Stage) {}
    /// Within `stage`, `done` of `total` units have finished.
    fn tick(&self, _stage: Stage, _done: u64, _total: u64) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}

/// How much of the evaluation a run computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Everything the report shows.
    Full,
    /// The primary rows' estimate, interval and CR2 p-value only (the specification curve):
    /// no balance table, no secondary rows or columns, no wild bootstrap, no curves.
    Primary,
    /// The primary rows' estimate and standard error only, for their t statistic (each
    /// assignment of randomisation inference): as [`Detail::Primary`] without the degrees of
    /// freedom, interval or p-value.
    Statistic,
    /// The primary rows' estimates alone, no standard error (each assignment of a one-pilot
    /// randomisation test, whose statistic is the estimate: a cluster-robust error from one
    /// treated cluster does not studentise).
    Estimate,
}

/// The cohort stage's products (shared by the specifications with the same cohort settings).
pub(crate) struct CohortStage {
    pub(crate) sites: Vec<Site>,
    /// The stacks (one with a single index date), in go-live order.
    pub(crate) stacks: Vec<Stack>,
    pub(crate) arm_of_site: Vec<Option<bool>>,
    pub(crate) cohort: Cohort,
    pub(crate) sample_flow: Vec<FlowRow>,
    pub(crate) warnings: Vec<String>,
}

impl CohortStage {
    /// From the earliest stack's baseline start to the latest stack's follow-up end.
    pub(crate) fn span(&self) -> swp_metrics::Period {
        cohort::span(&self.stacks)
    }

    /// The extract date.
    pub(crate) fn extract_date(&self) -> i32 {
        self.stacks.first().map_or(0, |s| s.windows.extract_date)
    }

    /// The longest follow-up window, in days.
    pub(crate) fn window_days(&self) -> f64 {
        self.stacks.iter().map(|s| f64::from(s.windows.follow_up.to - s.windows.follow_up.from + 1)).fold(0.0, f64::max)
    }
}

/// The cohort stage's products and the matching stage's, shared by a full run and a
/// matching-only run.
pub(crate) struct Prepared {
    pub(crate) stage: CohortStage,
    pub(crate) covariates: Vec<Covariate>,
    pub(crate) matching: Matching,
    /// None when only the primary estimates are wanted ([`Detail::Primary`]).
    pub(crate) balance: Option<Balance>,
}

/// A propensity model fitter of a stack's units: the params' own fit, or one shared by several
/// specifications.
pub(crate) type Propensity<'a> = dyn Fn(usize, &ValidMatchParams, &MatchData<'_>) -> std::result::Result<Option<GlmFit>, swp_stats::StatsError>
    + Sync
    + 'a;

/// A checked evaluation, ready to run on datasets.
#[derive(Debug, Clone)]
pub struct Evaluation {
    config: ValidConfig,
}

impl Evaluation {
    /// Checks `config`.
    ///
    /// # Errors
    /// [`crate::EvaluationError::Config`] naming the key, the value and what is allowed.
    pub fn new(config: Config) -> Result<Self> {
        Ok(Evaluation { config: config.check()? })
    }

    /// An evaluation of a config already checked.
    pub fn from_valid(config: ValidConfig) -> Self {
        Evaluation { config }
    }

    /// The checked config.
    pub fn config(&self) -> &ValidConfig {
        &self.config
    }

    /// The by-site index of `dataset` every stage reads.
    pub(crate) fn index(dataset: &Dataset) -> Index {
        ValidMetricsParams::defaults(GroupBy::Site).index(dataset)
    }

    /// The cohort stage on an index already built.
    pub(crate) fn cohort_stage(
        &self,
        dataset: &Dataset,
        index: &Index,
        progress: &dyn Progress,
    ) -> Result<CohortStage> {
        cohort::stage(&self.config, dataset, index, progress)
    }

    /// The cohort and matching stages on an index already built.
    pub(crate) fn prepare(
        &self,
        dataset: &Dataset,
        index: &Index,
        detail: Detail,
        progress: &dyn Progress,
    ) -> Result<Prepared> {
        let mut stage = self.cohort_stage(dataset, index, progress)?;
        progress.stage(Stage::Matching);
        let (covariates, dropped) = matching::covariates(&self.config, &stage.cohort)?;
        let matching =
            matching::run(&self.config, &stage.cohort, &covariates, &dropped, &|_, p, d| p.propensity_as_r(d))?;
        for name in &dropped {
            stage.warnings.push(format!("covariate `{name}` is constant in the cohort and was dropped"));
        }
        if self.config.estimation().comparison.weighting() {
            let positive: Vec<f64> = matching.weights.iter().copied().filter(|&w| w > 0.0).collect();
            let (lo, hi) = positive.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &w| (a.min(w), b.max(w)));
            if hi / lo > 1e6 {
                stage.warnings.push(format!(
                    "the balancing weights span {:.0} orders of magnitude (largest / smallest {:.1e}): controls with the smallest weights add almost nothing (see the effective sample sizes in balance.json), and the estimates lean on the propensity model; compare with matching or entropy balancing",
                    (hi / lo).log10(),
                    hi / lo
                ));
            }
        }
        let balance = match detail {
            Detail::Full => {
                let mut balance = matching::balance(&covariates, &stage.cohort.treated, &matching)?;
                if self.config.estimation().comparison.weighting() {
                    let ess = |treated: bool| {
                        let w = (0..stage.cohort.len())
                            .filter(|&i| stage.cohort.treated[i] == treated)
                            .map(|i| matching.weights[i]);
                        Some(swp_stats::weighting::effective_sample_size(w))
                    };
                    (balance.ess_treated, balance.ess_control) = (ess(true), ess(false));
                }
                Some(balance)
            }
            Detail::Primary | Detail::Statistic | Detail::Estimate => None,
        };
        let imbalanced: Vec<&str> = balance
            .iter()
            .flat_map(|b| &b.balance)
            .filter(|r| r.imbalanced && r.covariate != "distance")
            .map(|r| r.covariate.as_str())
            .collect();
        if !imbalanced.is_empty() {
            let word = if self.config.estimation().comparison.weighting() { "weighting" } else { "matching" };
            stage.warnings.push(format!("after {word} |SMD| > 0.1 for {}", imbalanced.join(", ")));
        }
        Ok(Prepared { stage, covariates, matching, balance })
    }

    /// The primary rows of the child-level outcomes only: estimate, interval and CR2 p-value,
    /// nothing else computed ([`Detail::Primary`]).
    ///
    /// # Errors
    /// As [`Evaluation::run`].
    pub fn primary_effects(&self, dataset: &Dataset) -> Result<Vec<EffectRow>> {
        self.primary_effects_indexed(dataset, &Self::index(dataset))
    }

    /// [`Evaluation::primary_effects`] on a by-site index of `dataset` built once.
    ///
    /// # Errors
    /// As [`Evaluation::run`].
    pub fn primary_effects_indexed(&self, dataset: &Dataset, index: &Index) -> Result<Vec<EffectRow>> {
        let p = self.prepare(dataset, index, Detail::Primary, &Silent)?;
        Ok(self.primary_rows(&p.stage, &p.matching))
    }

    /// The primary rows on a cohort already built (by this config's cohort settings), with its
    /// covariates and a propensity fitter shared with other specifications.
    pub(crate) fn primary_effects_on(
        &self,
        stage: &CohortStage,
        covariates: &(Vec<Covariate>, Vec<String>),
        propensity: &Propensity<'_>,
    ) -> Result<Vec<EffectRow>> {
        let matching = matching::run(&self.config, &stage.cohort, &covariates.0, &covariates.1, propensity)?;
        Ok(self.primary_rows(stage, &matching))
    }

    /// The primary rows of a matched cohort ([`Detail::Primary`]; warnings dropped).
    fn primary_rows(&self, stage: &CohortStage, matching: &Matching) -> Vec<EffectRow> {
        let mut warnings = Vec::new();
        let outcomes = effects::child_outcomes(
            &self.config,
            &stage.cohort,
            matching,
            stage.window_days(),
            Detail::Primary,
            &mut warnings,
        );
        outcomes.effects.into_iter().filter(|e| e.primary).collect()
    }

    /// Only the cohort and its matching (`swp-eval match DIR --config FILE`): the sample flow,
    /// the balance table and the warnings, without estimating any effect.
    ///
    /// # Errors
    /// As [`Evaluation::run`].
    pub fn match_cohort(&self, dataset: &Dataset) -> Result<MatchedCohort> {
        let index = Self::index(dataset);
        let p = self.prepare(dataset, &index, Detail::Full, &Silent)?;
        let cohort = design::cohort_table(&p.stage.cohort, &p.matching, &index, &p.stage.stacks);
        let balance = p.balance.unwrap_or_default();
        Ok(MatchedCohort { sample_flow: p.stage.sample_flow, balance, warnings: p.stage.warnings, cohort })
    }
}
