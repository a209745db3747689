//! The child- and worker-level tables behind the aggregates, for a period P: outcomes and
//! covariates for the matched comparisons. They hold (pseudonymised) child and worker ids, so
//! they are analysis files, not publications: no suppression applies and the CLI writes them
//! only to a file.

use crate::caseload::{case_holders, caseload_days, month_ends};
use crate::changes::child_changes;
use crate::index::Index;
use crate::period::Period;
use crate::placements::{child_placements, PeriodDates};
use rayon::prelude::*;
use serde::Serialize;
use swp_data::date::years_before;

/// One child looked after on at least one day of P.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChildRow {
    /// Site id.
    pub site_id: String,
    /// Child id.
    pub child_id: String,
    /// The child's group (by the index's grouping).
    pub group: String,
    /// Completed years of age on P.to (None without a date of birth).
    pub age_at_end: Option<u32>,
    /// Days of P looked after.
    pub days_looked_after: i64,
    /// Social-worker changes in P.
    pub sw_changes: u32,
    /// Distinct workers allocated during P.
    pub distinct_workers: u32,
    /// Placements during P (None unless looked after, not on a short break, on P.to).
    pub placements: Option<u32>,
    /// Placement moves in P.
    pub placement_moves: u32,
    /// Long-term stability on P.to (None outside the long-term group).
    pub long_term_stable: Option<bool>,
}

/// Completed years between `dob` and `day`.
fn age(dob: i32, day: i32) -> u32 {
    (1..=130).take_while(|&y| years_before(day, y, 0) >= dob).last().unwrap_or(0) as u32
}

/// Every child looked after on at least one day of `p`, in index order (first appearance in
/// the children table).
pub fn child_table(index: &Index, p: Period) -> Vec<ChildRow> {
    let dates = PeriodDates::new(p);
    (0..index.children())
        .into_par_iter()
        .with_min_len(4096)
        .filter(|&c| index.child_site[c] != crate::index::NO_SITE)
        .filter_map(|c| {
            let f = child_placements(index.episodes.of(c), index.child_dob[c], &dates);
            if f.days == 0 {
                return None;
            }
            let (sw_changes, distinct_workers) = child_changes(index.allocations.of(c), p);
            Some(ChildRow {
                site_id: index.groups.site_ids[index.child_site[c] as usize].clone(),
                child_id: index.child_ids.get(c).to_string(),
                group: index.groups.names[index.group_of_child(c)].clone(),
                age_at_end: index.child_dob[c].filter(|&dob| dob <= p.to).map(|dob| age(dob, p.to)),
                days_looked_after: f.days,
                sw_changes,
                distinct_workers,
                placements: f.placements,
                placement_moves: f.moves,
                long_term_stable: f.long_term_stable,
            })
        })
        .collect()
}

/// One worker with a spell in a counted role overlapping P.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerRow {
    /// Worker id.
    pub worker_id: String,
    /// Site of the worker's last spell overlapping P.
    pub site_id: String,
    /// Group of that site.
    pub group: String,
    /// Counted spells overlapping P.
    pub spells: u32,
    /// Whether that spell is an agency one.
    pub agency: bool,
    /// FTE of that spell.
    pub fte: f64,
    /// Days of P in post (any counted spell; each day once).
    pub days_in_post: i64,
    /// In post on P.to.
    pub in_post_at_end: bool,
    /// A counted spell ended inside P.
    pub left_in_period: bool,
    /// Children allocated on P.to (0 when holding none).
    pub caseload_at_end: u32,
    /// Mean caseload over the month ends of P on which the worker was in post.
    pub mean_caseload: Option<f64>,
}

/// Every worker with a counted spell overlapping `p`, in index order.
pub fn worker_table(index: &Index, p: Period) -> Vec<WorkerRow> {
    let days = caseload_days(p);
    let month_count = month_ends(p).len();
    let workers = index.worker_ids.len();
    let holders = case_holders(index, &days);
    let mut cases = vec![0u32; days.len() * workers];
    for (k, list) in holders.iter().enumerate() {
        for h in list {
            cases[k * workers + h.worker as usize] = h.cases;
        }
    }
    let mut rows = Vec::new();
    for w in 0..workers {
        let spells: Vec<_> = index
            .spells_of
            .of(w)
            .iter()
            .map(|&s| &index.spells[s as usize])
            .filter(|s| s.counted && s.start <= p.to && s.end.is_none_or(|e| e >= p.from))
            .collect();
        let Some(last) = spells.iter().max_by_key(|s| s.start) else { continue };
        let mut spans: Vec<(i32, Option<i32>)> = spells.iter().map(|s| (s.start, s.end)).collect();
        spans.sort_unstable();
        let in_post_months: Vec<u32> = (0..month_count)
            .filter(|&k| spells.iter().any(|s| s.in_post(days[k])))
            .map(|k| cases[k * workers + w])
            .collect();
        let at_end = spells.iter().any(|s| s.in_post(p.to));
        rows.push(WorkerRow {
            worker_id: index.worker_ids.get(w).to_string(),
            site_id: index.groups.site_ids[last.site].clone(),
            group: index.groups.names[index.groups.group_of_site[last.site]].clone(),
            spells: spells.len() as u32,
            agency: last.agency,
            fte: last.fte,
            days_in_post: crate::index::days_in(spans, p),
            in_post_at_end: at_end,
            left_in_period: spells.iter().any(|s| s.end.is_some_and(|e| p.contains(e))),
            caseload_at_end: if at_end { cases[(days.len() - 1) * workers + w] } else { 0 },
            mean_caseload: (!in_post_months.is_empty())
                .then(|| in_post_months.iter().map(|&n| f64::from(n)).sum::<f64>() / in_post_months.len() as f64),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Builder, SpellRecord};
    use crate::settings::PlacementCodes;
    use crate::test_support::d;

    /// FY 2011-12 by hand (366 days):
    /// - a (born 2000-05-01, 11 on P.to): placed 2008, moves 2011-06-01 and 2012-01-01; W1
    ///   then W2 from 2011-10-01 (one change, two workers); X, W1 and W2 at site S.
    /// - b: in care 2012-01-01 .. 2012-01-30 only (30 days), no allocation.
    /// - e: left care before P: not in the table.
    /// - W1 (1.0 fte) leaves 2011-09-30; W2 (0.5 fte) open; W3 (agency 1.0) holds no case;
    ///   W4 ended before P: not in the table.
    #[test]
    fn child_and_worker_tables_by_hand() {
        let p = Period::financial_year(2011);
        let groups = crate::test_support::one_site();
        let mut b = Builder::new(groups);
        let codes = PlacementCodes::default();
        b.child("S", "a", Some(d(2000, 5, 1)));
        b.child("S", "b", Some(d(2010, 1, 1)));
        b.child("S", "e", None);
        b.episode("S", "a", d(2008, 1, 1), Some(d(2011, 6, 1)), ("S", "C2", "U4"), &codes);
        b.episode("S", "a", d(2011, 6, 1), Some(d(2012, 1, 1)), ("P", "C2", "U4"), &codes);
        b.episode("S", "a", d(2012, 1, 1), None, ("P", "C2", "U4"), &codes);
        b.episode("S", "b", d(2012, 1, 1), Some(d(2012, 1, 30)), ("S", "V2", "U4"), &codes);
        b.episode("S", "e", d(2009, 1, 1), Some(d(2010, 1, 1)), ("S", "V2", "U4"), &codes);
        b.allocation("S", "a", "W1", d(2008, 1, 1), Some(d(2011, 10, 1)));
        b.allocation("S", "a", "W2", d(2011, 10, 1), None);
        let spell = |fte, agency, start, end| SpellRecord { counted: true, fte, agency, start, end };
        b.spell("W1", "S", spell(1.0, false, d(2005, 1, 1), Some(d(2011, 9, 30))));
        b.spell("W2", "S", spell(0.5, false, d(2011, 9, 1), None));
        b.spell("W3", "S", spell(1.0, true, d(2011, 1, 1), None));
        b.spell("W4", "S", spell(1.0, false, d(2001, 1, 1), Some(d(2010, 1, 1))));
        let index = b.finish();

        let children = child_table(&index, p);
        assert_eq!(children.len(), 2);
        let a = &children[0];
        assert_eq!((a.child_id.as_str(), a.age_at_end, a.days_looked_after), ("a", Some(11), 366));
        assert_eq!((a.sw_changes, a.distinct_workers, a.placement_moves), (1, 2, 2));
        // placements: the one in force on P.from (2008) + 2 starting in P
        assert_eq!((a.placements, a.long_term_stable), (Some(3), Some(false)));
        let b = &children[1];
        assert_eq!((b.child_id.as_str(), b.days_looked_after, b.placements, b.sw_changes), ("b", 30, None, 0));
        assert_eq!(b.age_at_end, Some(2));

        let workers = worker_table(&index, p);
        let ids: Vec<&str> = workers.iter().map(|w| w.worker_id.as_str()).collect();
        assert_eq!(ids, vec!["W1", "W2", "W3"]);
        // W1: in post Apr-Sep (183 days), left in P; held a at the month ends Apr..Sep (W1's
        // allocation ends 2011-10-01, the day W2's starts, so it is not in force that day)
        let w1 = &workers[0];
        assert_eq!((w1.days_in_post, w1.left_in_period, w1.in_post_at_end), (183, true, false));
        assert_eq!((w1.caseload_at_end, w1.mean_caseload), (0, Some(1.0)));
        // W2: in post 2011-09-01 on (Sep 30 + Oct 31 + Nov 30 + Dec 31 + Jan 31 + Feb 29 + Mar 31
        // = 213 days); case a from October: month ends Sep (0), Oct .. Mar (1 each): 6/7
        let w2 = &workers[1];
        assert_eq!((w2.days_in_post, w2.caseload_at_end, w2.fte), (213, 1, 0.5));
        assert_eq!(w2.mean_caseload, Some(6.0 / 7.0));
        // W3: agency, no cases
        assert_eq!((workers[2].agency, workers[2].caseload_at_end, workers[2].mean_caseload), (true, 0, Some(0.0)));
    }
}
