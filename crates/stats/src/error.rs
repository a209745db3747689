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
    /// Input that cannot be used as given.
    #[error("{0}")]
    Invalid(String),
    /// No unit could be matched.
    #[error("no units were matched: {0}")]
    NoMatches(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, StatsError>;
