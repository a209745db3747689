//! Pilot metrics of swp-eval (docs/metrics.md) over a validated `swp_data::Dataset`.
//!
//! The dataset is first turned into an [`Index`] (ids interned, each child's episodes,
//! allocations and contacts together and sorted); every metric then runs over it, child by
//! child in parallel: workforce ([`workforce`]), caseloads ([`caseload`]), social-worker
//! changes ([`changes`]), contacts ([`contacts`]), placement stability ([`placements`]), site
//! spending ([`costs`], when the dataset has a costs table), the
//! monthly series for trend charts ([`monthly`]) and the child- and worker-level tables behind
//! the aggregates ([`tables`]). [`all`] puts them together and applies small-number
//! suppression.

pub mod all;
pub mod caseload;
pub mod changes;
pub mod contacts;
pub mod cost_table;
pub mod costs;
pub mod coverage;
pub mod index;
pub mod monthly;
pub mod period;
pub mod placements;
pub mod settings;
pub mod tables;
pub mod workforce;

pub use all::{
    all_metrics, is_small, metrics_of, suppress, MetricsError, MetricsParams, PublishedRow, ValidMetricsParams,
};
pub use index::Index;
pub use period::{default_periods, financial_year_label, financial_years, GroupBy, MetricRow, Period, SiteGroups};

/// Helpers shared by the tests.
#[cfg(test)]
pub(crate) mod test_support {
    /// Day number of a calendar date.
    pub fn d(y: i32, m: u32, day: u32) -> i32 {
        swp_data::date::days_from_civil(y, m, day)
    }

    /// One site, `S`, in a group of its own.
    pub fn one_site() -> crate::SiteGroups {
        crate::SiteGroups { site_ids: vec!["S".into()], names: vec!["S".into()], group_of_site: vec![0] }
    }

    /// A pilot-scale synthetic dataset (seed `seed`, default effects), written and loaded as
    /// users load one, indexed by arm.
    pub fn synthetic_by_arm(seed: u64) -> crate::Index {
        let dir = tempfile::tempdir().unwrap();
        let data = swp_synth::SynthParams::new(swp_synth::Scale::Pilot).seed(seed).check().unwrap().generate();
        data.write(dir.path()).unwrap();
        let loaded = swp_data::load(dir.path()).unwrap();
        assert!(!loaded.report.has_problems(), "{:?}", loaded.report.problems.first());
        crate::ValidMetricsParams::defaults(crate::GroupBy::Arm).index(&loaded.dataset)
    }
}
