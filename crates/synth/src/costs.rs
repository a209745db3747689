//! Synthetic site spending (docs/data-contract.md v1.1 `costs`): what each site spent in each financial year
//! of the data, by category, computed from the generated activity with fixed rates, so that the
//! differences between arms are known.
//!
//! - `staff`: non-agency spells, fte x days in post in the year x the role's annual cost / 365.25;
//!   pilot practices pay [`PILOT_STAFF_PREMIUM`] more (smaller organisations, senior staff).
//! - `agency_staff`: agency spells, the same at [`AGENCY_PREMIUM`] times the role's cost.
//! - `placements`: each child's placement days in the year x the weekly cost of its placement
//!   group and provider / 7 ([`weekly_placement_cost`]).
//! - `overheads`: a share of staff + agency staff: [`OVERHEAD_PILOT`] at pilots (a separate
//!   organisation's premises, governance and back office), [`OVERHEAD_OTHER`] elsewhere.
//! - `contract`: pilots only, [`CONTRACT_SHARE`] of staff (the authority's contract management).
//! - `outcome_payment`: pilots only, [`OUTCOME_PAYMENT_SHARE`] of staff in years after go-live.
//! - `other`: [`OTHER_SHARE`] of staff everywhere.
//!
//! A site has rows for a financial year only when it had someone in post or a child looked
//! after in it. The rates are illustrative, not published unit costs.

use crate::{Episode, Synthetic};
use swp_data::date::{civil_from_days, days_from_civil};

/// Pilots' staff cost premium over the same role elsewhere.
pub const PILOT_STAFF_PREMIUM: f64 = 0.08;
/// Agency staff cost relative to the role's employed cost.
pub const AGENCY_PREMIUM: f64 = 1.6;
/// Overheads as a share of staff and agency staff, at pilots.
pub const OVERHEAD_PILOT: f64 = 0.30;
/// Overheads as a share of staff and agency staff, elsewhere.
pub const OVERHEAD_OTHER: f64 = 0.20;
/// The contract's cost at pilots, as a share of staff.
pub const CONTRACT_SHARE: f64 = 0.05;
/// Payment on outcomes at pilots after go-live, as a share of staff.
pub const OUTCOME_PAYMENT_SHARE: f64 = 0.02;
/// Other spending, as a share of staff.
pub const OTHER_SHARE: f64 = 0.01;

/// Annual cost of a role (salary with on-costs, pounds).
pub fn role_cost(role: &str) -> f64 {
    match role {
        "social_worker" => 42_000.0,
        "senior_practitioner" => 48_000.0,
        "team_manager" => 58_000.0,
        "assistant" => 29_000.0,
        _ => 32_000.0,
    }
}

/// Weekly cost of a placement (pounds) by type and provider: the generator's own rates.
pub fn weekly_placement_cost(place: &str, provider: &str) -> f64 {
    let base = match place.as_bytes().first() {
        Some(b'U') | Some(b'Q') => 450.0,                             // foster care
        Some(b'A') => 250.0,                                          // placed for adoption
        Some(b'P') => 120.0,                                          // with parents, independent living
        Some(b'K') | Some(b'R') | Some(b'S') | Some(b'H') => 3_000.0, // residential, secure
        _ => 400.0,
    };
    match provider {
        "PR4" | "PR5" => base * 1.6, // private and voluntary providers
        "PR3" => base * 1.3,         // other public provision
        _ => base,
    }
}

/// One row of `costs.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct CostRow {
    /// Site index.
    pub site: u32,
    /// First calendar year of the financial year.
    pub year: i32,
    /// Category.
    pub category: &'static str,
    /// Pounds.
    pub amount: f64,
}

/// The categories, in the order rows are written.
pub const CATEGORIES: [&str; 7] =
    ["staff", "agency_staff", "placements", "overheads", "contract", "outcome_payment", "other"];

fn overlap(start: i32, end: Option<i32>, from: i32, to: i32) -> i64 {
    let (a, b) = (start.max(from), end.unwrap_or(to).min(to));
    i64::from((b - a + 1).max(0))
}

fn episode_days(e: &Episode, from: i32, to: i32) -> i64 {
    // an episode's last day is its end; an open episode runs to the period's end
    overlap(e.decom, e.dec, from, to)
}

/// Every site's spending in every financial year of the data window.
pub fn site_costs(data: &Synthetic) -> Vec<CostRow> {
    let (y0, m0, _) = civil_from_days(data.window_start);
    let first = if m0 >= 4 { y0 } else { y0 - 1 };
    let (y1, m1, _) = civil_from_days(data.extract_date);
    let last = if m1 >= 4 { y1 } else { y1 - 1 };
    let n_sites = data.sites.len();
    let mut rows = Vec::new();
    for year in first..=last {
        let (from, to) = (days_from_civil(year, 4, 1), days_from_civil(year + 1, 3, 31));
        let mut staff = vec![0.0; n_sites];
        let mut agency = vec![0.0; n_sites];
        let mut placements = vec![0.0; n_sites];
        let mut active = vec![false; n_sites];
        for s in &data.spells {
            let days = overlap(s.start, s.end, from, to);
            if days == 0 {
                continue;
            }
            let site = s.site as usize;
            active[site] = true;
            let pilot = data.sites[site].arm == "pilot";
            let annual = role_cost(s.role) * if pilot { 1.0 + PILOT_STAFF_PREMIUM } else { 1.0 };
            let cost = s.fte * days as f64 * annual / 365.25;
            if s.agency {
                agency[site] += cost * AGENCY_PREMIUM;
            } else {
                staff[site] += cost;
            }
        }
        for e in &data.episodes {
            let days = episode_days(e, from, to);
            if days == 0 {
                continue;
            }
            let site = data.children[e.child as usize].site as usize;
            active[site] = true;
            placements[site] += days as f64 * weekly_placement_cost(e.place, e.provider) / 7.0;
        }
        for (site, s) in data.sites.iter().enumerate() {
            if !active[site] {
                continue;
            }
            let pilot = s.arm == "pilot";
            let after_go_live = s.go_live.is_some_and(|g| g < from);
            let amounts = [
                staff[site],
                agency[site],
                placements[site],
                (staff[site] + agency[site]) * if pilot { OVERHEAD_PILOT } else { OVERHEAD_OTHER },
                if pilot { staff[site] * CONTRACT_SHARE } else { 0.0 },
                if pilot && after_go_live { staff[site] * OUTCOME_PAYMENT_SHARE } else { 0.0 },
                staff[site] * OTHER_SHARE,
            ];
            for (category, amount) in CATEGORIES.iter().zip(amounts) {
                // whole pounds, as finance returns give them
                rows.push(CostRow { site: site as u32, year, category, amount: amount.round() });
            }
        }
    }
    rows
}
