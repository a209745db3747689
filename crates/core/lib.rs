//! swp-eval: evaluate Social Work Practice pilots.
//!
//! The library facade over the layers in `crates/` (see ARCHITECTURE.md):
//! - [`data`]: the data contract, ingest of dataset directories and validation;
//! - [`synth`]: synthetic datasets with known effects;
//! - [`metrics`]: METRICS.md's metrics by period and group, with small-number suppression;
//! - [`evaluation`]: the whole evaluation of EVALUATION.md (cohort, matching, effects, site level);
//! - [`report`]: tables in csv, json, md, tex and html (charts and reports to come);
//! - [`stats`]: GLMs, matching, balance, effect sizes, cluster-robust and bootstrap inference, survival, multiplicity.
//!
//! ```no_run
//! let loaded = swp_eval::data::load(std::path::Path::new("data/sample")).unwrap();
//! assert!(!loaded.report.has_problems());
//! ```
pub use swp_data as data;
pub use swp_evaluation as evaluation;
pub use swp_metrics as metrics;
pub use swp_report as report;
pub use swp_stats as stats;
pub use swp_synth as synth;
