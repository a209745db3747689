//! Tables, charts and the HTML report of swp-eval. Rendering formats result types and never
//! recomputes a number.
//!
//! Filled by the reporting issues; nothing here yet pretends to render anything.
