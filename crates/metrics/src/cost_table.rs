//! The costs table as the metrics read it (docs/data-contract.md v1.1): one record per readable row, the site
//! as an index. The index holds these; [`crate::costs`] computes the cost metrics from them.

use crate::period::SiteGroups;
use swp_data::columns::{code_column, number_column, text_column};
use swp_data::validate::financial_year_start;
use swp_data::Dataset;

/// One readable row of the costs table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostRecord {
    /// Site index (as [`SiteGroups::site_ids`]).
    pub site: usize,
    /// First calendar year of the financial year.
    pub year: i32,
    /// Index of the category in `swp_data::codes::COST_CATEGORY`.
    pub category: usize,
    /// Pounds.
    pub amount: f64,
}

/// The readable rows of `dataset.costs` (None when the dataset has no costs table); rows with a
/// value validation reported are left out.
pub fn read(dataset: &Dataset, groups: &SiteGroups) -> Option<Vec<CostRecord>> {
    if !dataset.costs.present {
        return None;
    }
    let f = &dataset.costs.frame;
    let (sites, years, categories, amounts) = (
        text_column(f, "site_id"),
        text_column(f, "financial_year"),
        code_column(f, "category"),
        number_column(f, "amount"),
    );
    let list = swp_data::codes::COST_CATEGORY;
    let mut out = Vec::with_capacity(f.height());
    for row in 0..f.height() {
        let site = sites[row].and_then(|s| groups.site_index(s));
        let year = years[row].and_then(financial_year_start);
        let category =
            categories[row].as_deref().and_then(|c| list.codes.iter().position(|k| k.eq_ignore_ascii_case(c)));
        if let (Some(site), Some(year), Some(category), Some(amount)) = (site, year, category, amounts[row]) {
            if amount.is_finite() && amount >= 0.0 {
                out.push(CostRecord { site, year, category, amount });
            }
        }
    }
    Some(out)
}
