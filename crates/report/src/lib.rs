//! Tables, charts and the HTML report of swp-eval. Rendering formats result types and never
//! recomputes a number.
//!
//! [`table`]: one table in csv, json, md, tex (booktabs) or html. [`evaluation`]: the
//! evaluation's result tables. [`charts`] (feature `charts`, default): the figures, SVG and PNG
//! from one drawing code; [`html`]: the one-file report; [`notebook`]: the notebook.

#[cfg(feature = "charts")]
pub mod charts;
pub mod evaluation;
#[cfg(feature = "charts")]
pub mod html;
#[cfg(feature = "charts")]
pub mod notebook;
pub mod table;
