//! Pilot metrics of swp-eval (METRICS.md) over a validated `swp_data::Dataset`.
//!
//! Done so far: periods and groupings, and the workforce metrics ([`workforce`]). Caseloads,
//! social-worker changes, contacts and placement stability are still to come (issue 4).

pub mod period;
pub mod workforce;

pub use period::{financial_years, GroupBy, MetricRow, Period, SiteGroups};
