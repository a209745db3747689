//! Monthly series for trend charts, per group and calendar month ending inside a period:
//!
//! - `caseload`: children held at the month's last day by case-holding workers (numerator) over
//!   the number of case holders (denominator), as for `mean_caseload`;
//! - `fte_in_post`: FTE of the authority's own counted staff in post on the month's last day;
//! - `leavers`: FTE of own counted staff whose spell ends in the month (numerator) over
//!   `fte_in_post` of that month (denominator): the month's turnover.
//!
//! Each row's period is the month (its first to its last day).

use crate::caseload::{case_holders, month_ends};
use crate::index::Index;
use crate::period::{MetricRow, Period};
use swp_data::date::{civil_from_days, days_from_civil, format_date};

/// The monthly series of every group for the months ending inside `p`, month by month, then
/// group order.
pub fn monthly_rows(index: &Index, p: Period) -> Vec<MetricRow> {
    let groups = &index.groups;
    let ends = month_ends(p);
    let holders = case_holders(index, &ends);
    let mut rows = Vec::new();
    for (&end, holders) in ends.iter().zip(&holders) {
        let first_of_month = rows.len();
        let (y, m, _) = civil_from_days(end);
        let month = Period { from: days_from_civil(y, m, 1), to: end };
        let mut cases = vec![(0.0f64, 0.0f64); groups.names.len()];
        for h in holders {
            let g = &mut cases[groups.group_of_site[h.site]];
            g.0 += f64::from(h.cases);
            g.1 += 1.0;
        }
        let mut staff = vec![(0.0f64, 0.0f64); groups.names.len()];
        for s in index.spells.iter().filter(|s| s.counted && !s.agency) {
            let g = &mut staff[groups.group_of_site[s.site]];
            if s.in_post(end) {
                g.0 += s.fte;
            }
            if s.end.is_some_and(|e| month.contains(e)) {
                g.1 += s.fte;
            }
        }
        for (g, name) in groups.names.iter().enumerate() {
            rows.push(MetricRow::ratio(name, "caseload", month, cases[g].0, cases[g].1));
            rows.push(MetricRow {
                group: name.clone(),
                metric: "fte_in_post",
                value: Some(staff[g].0),
                numerator: Some(staff[g].0),
                denominator: None,
                period_from: format_date(month.from),
                period_to: format_date(month.to),
            });
            rows.push(MetricRow::ratio(name, "leavers", month, staff[g].1, staff[g].0));
        }
        // outside a table's coverage a metric reading it is null, never 0
        index.coverage.apply(&mut rows[first_of_month..], groups, month);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Builder, SpellRecord};
    use crate::test_support::d;

    /// Jan-Mar 2012, one site, worked by hand:
    /// - X (1.0 fte) holds a and b all along; b moves to Y on 2012-02-15 (handover).
    /// - Y (0.5 fte) starts 2012-02-01; leaves 2012-03-31 (the last day of March).
    /// - Z (agency, 1.0) holds c from 2012-03-01: a case holder, not own staff.
    /// - V (0.6 fte) leaves 2012-01-20, holding nothing: a worker with no cases.
    ///
    /// Month ends: Jan 31 X{a,b}; Feb 29 X{a}, Y{b}; Mar 31 X{a}, Y{b}, Z{c}.
    #[test]
    fn monthly_series_by_hand() {
        let groups = crate::test_support::one_site();
        let mut b = Builder::new(groups);
        let spell = |fte, agency, start, end| SpellRecord { counted: true, fte, agency, start, end };
        b.spell("X", "S", spell(1.0, false, d(2010, 1, 1), None));
        b.spell("Y", "S", spell(0.5, false, d(2012, 2, 1), Some(d(2012, 3, 31))));
        b.spell("Z", "S", spell(1.0, true, d(2012, 3, 1), None));
        b.spell("V", "S", spell(0.6, false, d(2009, 1, 1), Some(d(2012, 1, 20))));
        b.allocation("S", "a", "X", d(2011, 6, 1), None);
        b.allocation("S", "b", "X", d(2011, 6, 1), Some(d(2012, 2, 15)));
        b.allocation("S", "b", "Y", d(2012, 2, 15), None);
        b.allocation("S", "c", "Z", d(2012, 3, 1), None);
        let rows = monthly_rows(&b.finish(), Period { from: d(2012, 1, 1), to: d(2012, 3, 31) });
        let get = |month: &str, m: &str| {
            let r = rows.iter().find(|r| r.period_to == month && r.metric == m).unwrap();
            (r.value, r.numerator, r.denominator)
        };
        assert_eq!(rows.len(), 9);
        assert_eq!(get("2012-01-31", "caseload"), (Some(2.0), Some(2.0), Some(1.0)));
        assert_eq!(get("2012-02-29", "caseload"), (Some(1.0), Some(2.0), Some(2.0)));
        assert_eq!(get("2012-03-31", "caseload"), (Some(1.0), Some(3.0), Some(3.0)));
        assert_eq!(get("2012-01-31", "fte_in_post"), (Some(1.0), Some(1.0), None));
        assert_eq!(get("2012-02-29", "fte_in_post").0, Some(1.5));
        assert_eq!(get("2012-03-31", "fte_in_post").0, Some(1.5), "Y is in post on its last day");
        assert_eq!(get("2012-01-31", "leavers"), (Some(0.6), Some(0.6), Some(1.0)));
        assert_eq!(get("2012-02-29", "leavers"), (Some(0.0), Some(0.0), Some(1.5)));
        assert_eq!(get("2012-03-31", "leavers"), (Some(0.5 / 1.5), Some(0.5), Some(1.5)));
        let first = rows.iter().find(|r| r.period_to == "2012-02-29").unwrap();
        assert_eq!(first.period_from, "2012-02-01");
    }
}
