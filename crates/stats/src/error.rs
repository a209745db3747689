//! The statistics crate's error type.

/// What can go wrong in a model, a matching or an estimate. Messages are lowercase sentences
/// that say what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// A covariate takes one value only.
    #[error("covariate `{name}` is constant: drop it")]
    Constant {
        /// Column name.
        name: String,
    },
    /// Covariates are linear combinations of others.
    #[error("covariates are collinear: {} can be written from the others; drop one", names.join(", "))]
    Collinear {
        /// The dependent columns.
        names: Vec<String>,
    },
    /// A 0/1 model whose fitted probabilities reach 0 or 1.
    #[error("perfect separation: {n_extreme} unit(s) have fitted probabilities of 0 or 1, so some covariate (or combination) predicts the outcome exactly; coarsen or drop it, or match exactly on it")]
    Separation {
        /// Units with fitted probability numerically 0 or 1.
        n_extreme: usize,
    },
    /// The Jacobi eigen-decomposition did not converge (non-finite or extreme entries).
    #[error("the eigen-decomposition of a {size} x {size} matrix failed after {sweeps} sweeps: non-finite or extreme values in the data?")]
    EigenNotConverged {
        /// Matrix size.
        size: usize,
        /// Sweeps run.
        sweeps: usize,
    },
    /// IRLS did not converge.
    #[error("the model did not converge in {iterations} iterations")]
    NotConverged {
        /// Iterations run.
        iterations: usize,
    },
    /// Too few units.
    #[error("too few observations: need at least {min}, got {got}")]
    TooFewObservations {
        /// Minimum needed.
        min: usize,
        /// Available.
        got: usize,
    },
    /// A group with too few rows for a difference with a standard error.
    #[error("{treated} treated and {control} control observation(s): a difference with a standard error needs at least {min} in each group")]
    TooFewPerGroup {
        /// Rows needed in each group.
        min: usize,
        /// Treated rows.
        treated: usize,
        /// Control rows.
        control: usize,
    },
    /// Clustered inference with a group in too few clusters.
    #[error("the treated observations are in {treated} cluster(s) and the controls in {control}; cluster-robust errors and the wild cluster bootstrap need at least {min} in each (with one, the treatment cannot be told from that cluster)")]
    TooFewClustersPerGroup {
        /// Clusters needed for each group.
        min: usize,
        /// Clusters holding treated rows.
        treated: usize,
        /// Clusters holding control rows.
        control: usize,
    },
    /// Inputs that must have one value per unit (or agree in size) do not.
    #[error("{inputs} have different lengths")]
    LengthMismatch {
        /// The inputs, as the message names them.
        inputs: &'static str,
    },
    /// A covariate with the wrong number of values.
    #[error("covariate `{name}` has {got} values, not {expected}")]
    CovariateLength {
        /// Column name.
        name: String,
        /// Values given.
        got: usize,
        /// Units.
        expected: usize,
    },
    /// A covariate with a missing or non-finite value.
    #[error("covariate `{name}` has a missing or non-finite value (unit {unit}); drop or fill such units first")]
    MissingValue {
        /// Column name.
        name: String,
        /// The unit (1-based).
        unit: usize,
    },
    /// Fewer clusters than a method needs.
    #[error("{method}: at least {min} clusters are needed, got {got}")]
    TooFewClusters {
        /// The method.
        method: &'static str,
        /// Clusters needed.
        min: usize,
        /// Clusters given.
        got: usize,
    },
    /// A method that needs units in both arms got one arm only.
    #[error("{method} needs treated and control units")]
    NeedsBothArms {
        /// The method.
        method: &'static str,
    },
    /// Values outside what a method accepts.
    #[error("{what} must be {allowed}")]
    OutOfRange {
        /// The values.
        what: &'static str,
        /// What is allowed.
        allowed: &'static str,
    },
    /// An outcome that does not vary where it must.
    #[error("the outcome does not vary{context}")]
    NoVariation {
        /// Where (starting with a space or a colon).
        context: &'static str,
    },
    /// No events to fit a model on.
    #[error("no events: the {model} cannot be fitted")]
    NoEvents {
        /// The model.
        model: &'static str,
    },
    /// A 2x2 table with an empty cell.
    #[error(
        "a cell of the 2x2 table is empty (nobody, or everybody, has the outcome in a group): ratios are undefined"
    )]
    EmptyCell,
    /// A setting, or a combination of settings, a method does not accept.
    #[error("{rule}")]
    BadSetting {
        /// What is wrong and how to change it.
        rule: &'static str,
    },
    /// Every covariate takes one value only.
    #[error("every covariate is constant: nothing to match on")]
    AllConstant,
    /// Optimal pair matching with fewer controls than treated units.
    #[error("optimal pair matching needs at least as many controls as treated units ({controls} < {treated})")]
    TooFewControls {
        /// Controls.
        controls: usize,
        /// Treated units.
        treated: usize,
    },
    /// A matrix that must be positive semi-definite is not.
    #[error("{what} is not positive semi-definite")]
    NotPositiveSemidefinite {
        /// The matrix.
        what: &'static str,
    },
    /// A test statistic that is not defined on the data given.
    #[error("{reason}")]
    UndefinedStatistic {
        /// Why.
        reason: &'static str,
    },
    /// An interval that does not contain its estimate.
    #[error("the interval does not contain the estimate")]
    EstimateOutsideInterval,
    /// No unit could be matched.
    #[error("no units were matched: {0}")]
    NoMatches(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, StatsError>;
