//! Tables, charts and the HTML report of swp-eval. Rendering formats result types and never
//! recomputes a number.
//!
//! [`table`]: one table in csv, json, md, tex (booktabs) or html, and [`table::Tabular`], a row
//! type's columns described once. [`evaluation`]: the evaluation's result tables. [`format`](mod@format):
//! how numbers read (one p-value formatter). [`labels`]: names for people. [`charts`] (feature `charts`, default): the figures, SVG and PNG
//! from one drawing code; [`html`]: the one-file report; [`notebook`]: the notebook.

#[cfg(feature = "charts")]
pub mod charts;
pub mod evaluation;
pub mod format;
#[cfg(feature = "charts")]
pub mod html;
pub mod labels;
#[cfg(feature = "charts")]
pub mod notebook;
pub mod table;
