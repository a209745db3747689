//! Pilot metrics of swp-eval (METRICS.md) over a validated `swp_data::Dataset`.
//!
//! Done so far: periods and groupings, the workforce metrics ([`workforce`]), the caseload
//! metrics ([`caseload`]), the social-worker change metrics ([`changes`]), the contact
//! metrics ([`contacts`]) and the placement stability metrics ([`placements`]). Monthly series, child- and worker-level tables, small-number
//! suppression and the `metrics` command are still to come (issue 4).

pub mod all;
pub mod caseload;
pub mod changes;
pub mod contacts;
pub mod period;
pub mod placements;
pub mod workforce;

pub use all::{all_metrics, suppress, MetricsParams, PublishedRow};
pub use period::{financial_years, GroupBy, MetricRow, Period, SiteGroups};
