//! Pilot metrics of swp-eval (METRICS.md): workforce, caseloads, social-worker changes and
//! placement stability over a validated `swp_data::Dataset`.
//!
//! Filled by issue 4; nothing here yet pretends to compute anything.
