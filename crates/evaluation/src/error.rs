//! The evaluation's error type.

use swp_stats::StatsError;

/// What stops an evaluation. Config errors are usage errors (the CLI exits 2); the others mean
/// the data cannot support the evaluation as configured (exit 1).
#[derive(Debug, Clone, thiserror::Error)]
pub enum EvaluationError {
    /// The config is not valid TOML or has an unknown key or a value of the wrong type.
    #[error("config: {0}")]
    ConfigSyntax(String),
    /// A config value outside what the setting allows.
    #[error("config: `{key}` = `{value}` is not allowed: use {allowed}")]
    Config {
        /// The key (section.key).
        key: String,
        /// The value given.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// The dataset has no pilot site with a go-live date (needed for the default index date).
    #[error("no pilot site has a go_live date: add one to sites.csv or set cohort.index_date in the config")]
    NoPilot,
    /// The index date lies outside the data.
    #[error("index date {index_date} is outside the data ({first} to {last}): set cohort.index_date between them")]
    IndexDateOutsideData {
        /// The index date.
        index_date: String,
        /// First episode start.
        first: String,
        /// Extract date.
        last: String,
    },
    /// An arm has no child left after the eligibility rules.
    #[error("the {arm} arm has no eligible children on the index date ({index_date}){hint}")]
    EmptyArm {
        /// Which arm.
        arm: String,
        /// Index date.
        index_date: String,
        /// What to change.
        hint: String,
    },
    /// A covariate the config lists is constant in the cohort.
    #[error(
        "covariate `{name}` takes one value only in the cohort: remove it from covariates.include (and matching.exact)"
    )]
    ConstantCovariate {
        /// Covariate.
        name: String,
    },
    /// No treated child found a match.
    #[error("no pilot child found a matching control: widen or remove the caliper (matching.caliper) or match exactly on fewer covariates")]
    NoMatches,
    /// Balancing weights could not be found (entropy balancing without a solution).
    #[error("weighting: {0}")]
    Weighting(String),
    /// A model or estimate failed.
    #[error("{step}: {source}")]
    Stats {
        /// Which step.
        step: String,
        /// The statistics layer's error.
        source: StatsError,
    },
}

impl EvaluationError {
    /// Whether the error is the config's (usage, exit 2) rather than the data's (exit 1).
    pub fn is_config(&self) -> bool {
        matches!(self, EvaluationError::ConfigSyntax(_) | EvaluationError::Config { .. })
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, EvaluationError>;

/// Wraps a statistics error with the step it happened in.
pub(crate) fn at(step: impl Into<String>) -> impl FnOnce(StatsError) -> EvaluationError {
    let step = step.into();
    move |source| EvaluationError::Stats { step, source }
}
