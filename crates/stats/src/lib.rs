//! Statistics for swp-eval: GLMs, matching, balance, effect sizes, cluster-robust and wild
//! cluster bootstrap inference, survival and multiplicity.
//!
//! Invariant: this crate takes slices and its own small types, never a `DataFrame`, and does
//! no IO. Each statistic names the reference implementation it agrees with (R `glm`, MatchIt
//! 4.5.1) and is tested against values that implementation produced
//! (`tests/reference/`, with the script that made them).
//!
//! Done: [`glm`] (logistic, probit and Poisson regression by IRLS, as R's `glm.fit`),
//! [`matching`] (MatchIt's nearest-neighbour, optimal pair, exact and coarsened exact
//! matching, match weights and subclasses) and [`balance`] (MatchIt's `summary()` balance
//! table). Effect sizes and inference are issue 6.

pub mod balance;
pub mod bootstrap;
pub mod design;
pub mod distributions;
pub mod effects;
pub mod error;
pub mod glm;
pub mod linalg;
pub mod matching;
pub mod multiplicity;
pub mod regression;
pub mod rng;
pub mod survival;

pub use error::{Result, StatsError};
pub use linalg::Matrix;
