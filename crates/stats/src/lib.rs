//! Statistics for swp-eval: GLMs, matching, balance, effect sizes, cluster-robust and wild
//! cluster bootstrap inference, survival and multiplicity.
//!
//! Invariant: this crate takes slices, `ndarray` arrays and views (see [`linalg`]: a row-major
//! array is borrowed, not copied) and its own small types, never a `DataFrame`, and does no IO. Each statistic names the reference implementation it agrees with (R `glm`, MatchIt
//! 4.5.1, effectsize, sandwich, clubSandwich, survival, p.adjust; Python wildboottest) and is
//! tested against values that implementation produced (`tests/reference/`, with the scripts
//! that made them).
//!
//! Modules: [`glm`] (logistic, probit and Poisson regression by IRLS, as R's `glm.fit`),
//! [`matching`] (MatchIt's nearest-neighbour, optimal pair, exact and coarsened exact
//! matching, match weights and subclasses), [`balance`] (MatchIt's `summary()` balance
//! table), [`regression`] (WLS with HC, CR1 and CR2 errors), [`effects`] (two-group effect
//! sizes), [`bootstrap`] (wild cluster bootstrap, randomisation inference), [`survival`]
//! (Kaplan-Meier, log-rank, Cox) and [`multiplicity`] (p-value adjustments).

pub mod adjusted;
pub mod balance;
pub mod bootstrap;
pub mod choice;
pub mod cox;
pub mod design;
pub mod did;
pub mod distributions;
pub mod effects;
pub mod error;
pub mod glm;
mod labels;
pub mod linalg;
pub mod matching;
mod moments;
pub mod multiplicity;
pub mod randomisation;
pub mod regression;
pub mod rng;
pub mod sensitivity;
pub mod summary;
pub mod survival;
pub mod tolerance;
mod two_group;
pub mod weighting;

pub use error::{Result, StatsError};
pub use linalg::{ColumnRef, Matrix, MatrixRef};
// the ndarray version the public edge takes (`swp_stats::ndarray::Array2`), so a caller needs no
// second, mismatched version
pub use ndarray;
