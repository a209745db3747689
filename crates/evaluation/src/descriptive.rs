//! The descriptive series the figures draw: monthly caseload and turnover per site, the
//! caseload distribution by arm, and yearly placement moves and social-worker changes per
//! child-year by arm. Computed here so renderers only draw (small numbers suppressed by
//! [`crate::publish`](fn@crate::publish)).

use crate::pipeline::cohort::Site;
use crate::results::{ArmYearRow, CaseloadBin, CaseloadDistribution, MonthlyRow};
use swp_data::date::{civil_from_days, format_date};
use swp_metrics::caseload::case_holders;
use swp_metrics::monthly::monthly_rows;
use swp_metrics::{metrics_of, Index, Period};

const BINS: [(u32, u32, &str); 7] = [
    (1, 5, "1-5"),
    (6, 10, "6-10"),
    (11, 15, "11-15"),
    (16, 20, "16-20"),
    (21, 25, "21-25"),
    (26, 30, "26-30"),
    (31, u32::MAX, "31+"),
];

/// `arm_of_site[s]`: Some(true) pilot, Some(false) control, None other (by index site).
pub fn monthly(index: &Index, sites: &[Site], arm_of_site: &[Option<bool>], p: Period) -> Vec<MonthlyRow> {
    let rows = monthly_rows(index, p);
    let mut out: Vec<MonthlyRow> = Vec::new();
    let mut history: std::collections::HashMap<String, Vec<f64>> = std::collections::HashMap::new();
    for r in rows.iter().filter(|r| r.metric == "caseload") {
        let Some(s) = index.groups.site_index(&r.group) else { continue };
        if arm_of_site.get(s).copied().flatten().is_none() {
            continue;
        }
        let leaving =
            rows.iter().find(|l| l.metric == "leavers" && l.group == r.group && l.period_from == r.period_from);
        let leavers = leaving.and_then(|l| l.value);
        let past = history.entry(r.group.clone()).or_default();
        past.push(leaving.and_then(|l| l.numerator).unwrap_or(0.0));
        let in_post = leaving.and_then(|l| l.denominator).unwrap_or(0.0);
        let turnover_12m =
            (past.len() >= 12 && in_post > 0.0).then(|| past[past.len() - 12..].iter().sum::<f64>() / in_post);
        let arm = sites.iter().find(|x| x.id == r.group).map_or(String::new(), |x| x.arm.as_str().to_string());
        out.push(MonthlyRow {
            site: r.group.clone(),
            arm,
            month: r.period_from[..7].to_string(),
            caseload: r.value,
            case_holders: r.denominator.map(|d| d as u64),
            leavers,
            turnover_12m,
            suppressed: false,
        });
    }
    out
}

/// The caseload distribution by arm on `day`.
pub fn caseload_distribution(index: &Index, arm_of_site: &[Option<bool>], day: i32) -> CaseloadDistribution {
    let holders = case_holders(index, &[day]);
    let mut counts = [[0u64; 7]; 2];
    for h in holders.first().map_or(&[][..], |v| v.as_slice()) {
        let Some(pilot) = arm_of_site.get(h.site).copied().flatten() else { continue };
        if let Some(b) = BINS.iter().position(|(lo, hi, _)| h.cases >= *lo && h.cases <= *hi) {
            counts[usize::from(!pilot)][b] += 1;
        }
    }
    let mut bins = Vec::new();
    for (a, arm) in ["pilot", "control"].iter().enumerate() {
        let total: u64 = counts[a].iter().sum();
        for (b, (_, _, label)) in BINS.iter().enumerate() {
            bins.push(CaseloadBin {
                arm: arm.to_string(),
                bin: label.to_string(),
                workers: Some(counts[a][b]),
                share: (total > 0).then(|| counts[a][b] as f64 / total as f64),
            });
        }
    }
    CaseloadDistribution { date: format_date(day), bins }
}

/// Placement moves and social-worker changes per child-year by arm and financial year: the
/// sites' numerators and child-years summed over each arm.
pub fn arm_years(index: &Index, arm_of_site: &[Option<bool>], periods: &[Period]) -> Vec<ArmYearRow> {
    let rows = metrics_of(index, periods, 20);
    let mut out = Vec::new();
    for metric in ["placement_moves_per_child_year", "sw_changes_per_child_year"] {
        for p in periods {
            let (y, _, _) = civil_from_days(p.from);
            let year = swp_metrics::financial_year_label(y);
            let from = format_date(p.from);
            for (arm, pilot) in [("pilot", true), ("control", false)] {
                let (num, den) = rows
                    .iter()
                    .filter(|r| r.metric == metric && r.period_from == from)
                    .filter(|r| {
                        index.groups.site_index(&r.group).and_then(|s| arm_of_site.get(s).copied().flatten())
                            == Some(pilot)
                    })
                    .fold((0.0, 0.0), |(n, d), r| (n + r.numerator.unwrap_or(0.0), d + r.denominator.unwrap_or(0.0)));
                out.push(ArmYearRow {
                    arm: arm.to_string(),
                    year: year.clone(),
                    metric: metric.to_string(),
                    value: (den > 0.0).then(|| num / den),
                    child_years: Some(den),
                });
            }
        }
    }
    out
}
