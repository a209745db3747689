//! The swp-eval data contract: reads a dataset directory (flat CSV or Parquet tables, and raw
//! SSDA903 returns), types its tables and validates every rule of `docs/data-contract.md`, reporting each
//! problem with file, line, column, the bad value and how to fix it.
//!
//! ```no_run
//! let loaded = swp_data::load(std::path::Path::new("data/sample")).unwrap();
//! for problem in &loaded.report.problems {
//!     eprintln!("{problem}");
//! }
//! println!("{} episodes", loaded.dataset.episodes.frame.height());
//! ```
pub mod codes;
pub mod columns;
pub mod dataset;
pub mod date;
pub mod model;
pub mod plain_csv;
pub mod problem;
pub mod read;
pub mod schema;
pub mod typed;
pub mod validate;
pub mod values;

pub use dataset::{load, load_with, DataError, LoadOptions, Loaded};
pub use model::{Dataset, Manifest, Origin, Table, UNRESOLVED};
pub use problem::{Problem, Rule, ValidationReport};
