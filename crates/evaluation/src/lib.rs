//! The evaluation of docs/evaluation.md as a library: a dataset and a config in, typed results
//! out, published (small numbers suppressed) before anything is written.
//!
//! [`Evaluation::new`] checks the config once into a [`config::ValidConfig`];
//! [`Evaluation::run`] runs the [`pipeline`]: the child-level cohort, one stack per pilot on its
//! own go-live by default (with the sample flow), the matching within each stack of pilot children to controls on the baseline covariates, every
//! outcome's effect rows on the matched sample (CR2 clustered on site with Bell-McCaffrey df,
//! the wild cluster bootstrap, Holm across the primary rows, the subclass-clustered secondary
//! column), and the site-level difference-in-differences with randomisation inference; then
//! what is built on those products: value for money, sensitivity to hidden bias, the
//! specification curve, the power simulation and the placebo in time. Warnings are part of the results.
//! [`publish`](fn@crate::publish) applies small-number suppression and returns [`Published`], the only form the
//! renderers accept.
//!
//! This crate does no IO and draws nothing: the CLI writes the results and `swp-report`
//! renders them.
//!
//! ```no_run
//! use swp_evaluation::{config::Config, publish, Evaluation};
//! let loaded = swp_data::load(std::path::Path::new("data/sample")).unwrap();
//! let evaluation = Evaluation::new(Config::default()).unwrap();
//! let results = publish(evaluation.run(&loaded.dataset).unwrap(), evaluation.config().threshold());
//! for row in results.effects.iter().filter(|r| r.primary) {
//!     let estimate = row.estimate.map_or("not estimable".to_string(), |e| format!("{e:.3}"));
//!     println!("{} {} {estimate}", row.outcome, row.estimate_type);
//! }
//! ```
//!
//! # Modules, bottom up
//! - [`error`], [`config`] (the TOML config, its sections, code groups, value-for-money
//!   settings and the specification grid, checked once) and [`results`] (every result type);
//! - [`pipeline`]: [`Evaluation`] and its stages, one module each;
//! - [`descriptive`], [`sensitivity`], [`value`], [`specification`], [`power`], [`placebo`]
//!   and [`utility`]: built on the pipeline's products;
//! - [`run`](mod@run): the whole evaluation; [`publish`](fn@crate::publish)(mod@publish): suppression.

pub mod config;
pub mod descriptive;
pub mod error;
pub mod pipeline;
pub mod placebo;
pub mod power;
pub mod publish;
pub mod randomisation;
pub mod results;
pub mod run;
pub mod sensitivity;
pub mod specification;
pub mod utility;
pub mod value;
pub mod vocab;

pub use error::{EvaluationError, Result};
pub use pipeline::{Detail, Evaluation, Progress, Silent, Stage};
pub use publish::{publish, Published};
pub use results::EvaluationResults;
