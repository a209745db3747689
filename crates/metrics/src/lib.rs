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

/// Helpers shared by the tests.
#[cfg(test)]
pub(crate) mod test_support {
    /// A pilot-scale synthetic dataset (seed `seed`, default effects), written and loaded as
    /// users load one, grouped by arm.
    pub fn synthetic_by_arm(seed: u64) -> (swp_data::Dataset, crate::SiteGroups) {
        let dir = tempfile::tempdir().unwrap();
        let data = swp_synth::SynthParams::new(swp_synth::Scale::Pilot).seed(seed).check().unwrap().generate();
        data.write(dir.path()).unwrap();
        let loaded = swp_data::load(dir.path()).unwrap();
        assert!(!loaded.report.has_problems(), "{:?}", loaded.report.problems.first());
        let groups = crate::SiteGroups::new(&loaded.dataset, crate::GroupBy::Arm);
        (loaded.dataset, groups)
    }
}
