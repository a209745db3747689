//! Tables, charts and the HTML report of swp-eval. Rendering formats result types and never
//! recomputes a number.
//!
//! So far: [`table`], one table in csv, json, md, tex or html. Charts and the report come with
//! later issues.

pub mod table;
