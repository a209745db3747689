//! Contact metrics (docs/metrics.md, "Contact with children"; only when contacts.csv is present):
//! `visits_per_child_month`, `share_visits_seen_alone`, `contact_minutes_per_child_month`.
//!
//! Contacts counted: those of the children counted for social-worker changes (looked after on
//! at least one day of P, grouped by the child's site), dated inside P on a day the child is
//! looked after. child_months = sum of days(c) / (365.25 / 12).

use crate::index::care_days;
use crate::index::{sum_over_children, Contact, ContactKind, Grouped, Index};
use crate::period::{MetricRow, Period};

/// Adds child `c`'s figures for period `p` to a group's sums: days, visits, seen alone,
/// minutes.
pub(crate) fn add_child(e: &mut [f64], index: &Index, contacts: &Grouped<Contact>, c: usize, p: Period, days: i64) {
    if days == 0 {
        return;
    }
    let episodes = index.episodes.of(c);
    e[0] += days as f64;
    let looked_after = |d: i32| episodes.iter().any(|e| e.in_force(d));
    for contact in contacts.of(c).iter().filter(|x| p.contains(x.date) && looked_after(x.date)) {
        if contact.kind != ContactKind::Other {
            e[1] += 1.0;
        }
        if contact.kind == ContactKind::SeenAlone {
            e[2] += 1.0;
        }
        e[3] += contact.minutes;
    }
}

/// The rows of each group from its sums (see [`add_child`]).
pub(crate) fn rows_from<S: AsRef<[f64]>>(names: &[String], p: Period, sums: &[S]) -> Vec<MetricRow> {
    let mut rows = Vec::new();
    for (name, sum) in names.iter().zip(sums) {
        let sum = sum.as_ref();
        let days = sum[0];
        let visits = sum[1];
        let alone = sum[2];
        let minutes = sum[3];
        let child_months = days / (365.25 / 12.0);
        rows.push(MetricRow::ratio(name, "visits_per_child_month", p, visits, child_months));
        rows.push(MetricRow::ratio(name, "share_visits_seen_alone", p, alone, visits));
        rows.push(MetricRow::ratio(name, "contact_minutes_per_child_month", p, minutes, child_months));
    }
    rows
}

/// The contact metrics of every group for period `p` (none when the dataset has no contacts).
pub fn contact_rows(index: &Index, p: Period) -> Vec<MetricRow> {
    let Some(contacts) = &index.contacts else { return Vec::new() };
    let sums = sum_over_children::<4>(index, 1, |acc, c| {
        let days = care_days(index.episodes.of(c), p);
        add_child(&mut acc[index.group_of_child(c)], index, contacts, c, p, days);
    });
    rows_from(&index.groups.names, p, &sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Builder;
    use crate::settings::PlacementCodes;
    use crate::test_support::d;

    #[test]
    fn contact_metrics_by_hand() {
        let p = Period { from: d(2012, 1, 1), to: d(2012, 3, 31) };
        let groups = crate::test_support::one_site();
        let mut b = Builder::new(groups);
        let codes = PlacementCodes::default();
        b.episode("S", "a", d(2011, 1, 1), None, ("S", "C2", "U4"), &codes);
        b.episode("S", "b", d(2012, 1, 1), Some(d(2012, 1, 30)), ("S", "C2", "U4"), &codes);
        b.contact("S", "a", d(2012, 1, 5), ContactKind::Visit, 30.0);
        b.contact("S", "a", d(2012, 2, 5), ContactKind::SeenAlone, 45.0);
        b.contact("S", "a", d(2012, 3, 5), ContactKind::Other, 10.0);
        b.contact("S", "a", d(2011, 12, 31), ContactKind::Visit, 60.0);
        b.contact("S", "b", d(2012, 1, 10), ContactKind::Visit, 20.0);
        b.contact("S", "b", d(2012, 2, 10), ContactKind::SeenAlone, 40.0);
        let rows = contact_rows(&b.finish(), p);
        let get = |m: &str| {
            let r = rows.iter().find(|r| r.metric == m).unwrap();
            (r.value, r.numerator, r.denominator)
        };
        let child_months = 121.0 / (365.25 / 12.0);
        let (v, n, dnm) = get("visits_per_child_month");
        assert_eq!(n, Some(3.0));
        assert!((dnm.unwrap() - child_months).abs() < 1e-12);
        assert!((v.unwrap() - 3.0 / child_months).abs() < 1e-12);
        assert_eq!(get("share_visits_seen_alone"), (Some(1.0 / 3.0), Some(1.0), Some(3.0)));
        let (v, n, _) = get("contact_minutes_per_child_month");
        assert_eq!(n, Some(105.0));
        assert!((v.unwrap() - 105.0 / child_months).abs() < 1e-12);
    }
}
