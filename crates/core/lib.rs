//! swp-eval: evaluate Social Work Practice pilots.
//!
//! The library facade over the layers in `crates/` (see ARCHITECTURE.md):
//! - [`data`]: the data contract (docs/data-contract.md), ingest of dataset directories and
//!   validation;
//! - [`metrics`]: every metric of docs/metrics.md by period and group, with small-number
//!   suppression;
//! - [`stats`]: GLMs, matching, balance, effect sizes, cluster-robust and bootstrap inference,
//!   survival, multiplicity, sensitivity (no IO, no DataFrames);
//! - [`evaluation`]: the whole evaluation of docs/evaluation.md as a pipeline (cohort, matching,
//!   effects, site level, then value for money, sensitivity, the specification curve and
//!   power), published with small numbers suppressed;
//! - [`report`]: result tables in csv, json, md, tex and html, the figures (SVG and PNG),
//!   report.html and notebook.ipynb;
//! - [`synth`]: synthetic datasets with known effects;
//! - [`anonymise`]: keyed pseudonyms and k-anonymity for keeping real extracts safe.
//!
//! ```no_run
//! use swp_eval::evaluation::{config::Config, publish, Evaluation};
//! let loaded = swp_eval::data::load(std::path::Path::new("data/sample")).unwrap();
//! assert!(!loaded.report.has_problems());
//! let evaluation = Evaluation::new(Config::default()).unwrap();
//! let results = publish(evaluation.run(&loaded.dataset).unwrap(), evaluation.config().threshold());
//! println!("{} effect rows", results.effects.len());
//! ```
pub use swp_anonymise as anonymise;
pub use swp_data as data;
pub use swp_evaluation as evaluation;
pub use swp_metrics as metrics;
pub use swp_report as report;
pub use swp_stats as stats;
pub use swp_synth as synth;
