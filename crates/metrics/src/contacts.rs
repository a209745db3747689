//! Contact metrics (METRICS.md, "Contact with children"; only when contacts.csv is present):
//! `visits_per_child_month`, `share_visits_seen_alone`, `contact_minutes_per_child_month`.
//!
//! Contacts counted: those of the children counted for social-worker changes (looked after on
//! at least one day of P, grouped by the child's site), dated inside P on a day the child is
//! looked after. child_months = sum of days(c) / (365.25 / 12).

use crate::changes::{counted_children, CareSpans, ChildKey};
use crate::period::{MetricRow, Period, SiteGroups};
use std::collections::BTreeMap;
use swp_data::validate::{code_column, date_column, number_column, text_column};
use swp_data::Dataset;

/// One contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// The child.
    pub child: ChildKey,
    /// Day of the contact.
    pub date: i32,
    /// visit, seen_alone, phone or other.
    pub kind: String,
    /// Minutes.
    pub minutes: f64,
}

/// The dataset's contacts (rows missing a key are skipped).
pub fn contacts_of(dataset: &Dataset) -> Vec<Contact> {
    let c = &dataset.contacts.frame;
    let children = text_column(c, "child_id");
    let sites = text_column(c, "site_id");
    let dates = date_column(c, "date");
    let kinds = code_column(c, "kind");
    let minutes = number_column(c, "minutes");
    (0..c.height())
        .filter_map(|row| {
            Some(Contact {
                child: (sites[row]?.to_string(), children[row]?.to_string()),
                date: dates[row]?,
                kind: kinds[row].clone()?,
                minutes: minutes[row].unwrap_or(0.0),
            })
        })
        .collect()
}

/// The contact metrics of every group for period `p`.
pub fn contact_rows(spans: &CareSpans, contacts: &[Contact], groups: &SiteGroups, p: Period) -> Vec<MetricRow> {
    let mut by_child: BTreeMap<&ChildKey, Vec<&Contact>> = BTreeMap::new();
    for c in contacts.iter().filter(|c| p.contains(c.date)) {
        by_child.entry(&c.child).or_default().push(c);
    }
    // per group: days, visits (visit + seen_alone), seen alone, minutes
    let mut acc = vec![(0.0f64, 0.0f64, 0.0f64, 0.0f64); groups.names.len()];
    for (child, child_spans, days, g) in counted_children(spans, groups, p) {
        let e = &mut acc[g];
        e.0 += days as f64;
        let looked_after = |d: i32| child_spans.iter().any(|&(s, end)| s <= d && end.is_none_or(|x| d <= x));
        for c in by_child.get(child).into_iter().flatten().filter(|c| looked_after(c.date)) {
            if c.kind == "visit" || c.kind == "seen_alone" {
                e.1 += 1.0;
            }
            if c.kind == "seen_alone" {
                e.2 += 1.0;
            }
            e.3 += c.minutes;
        }
    }
    let mut rows = Vec::new();
    for (g, name) in groups.names.iter().enumerate() {
        let (days, visits, alone, minutes) = acc[g];
        let child_months = days / (365.25 / 12.0);
        rows.push(MetricRow::ratio(name, "visits_per_child_month", p, visits, child_months));
        rows.push(MetricRow::ratio(name, "share_visits_seen_alone", p, alone, visits));
        rows.push(MetricRow::ratio(name, "contact_minutes_per_child_month", p, minutes, child_months));
    }
    rows
}

/// Convenience: the contact metrics of `dataset` for period `p` (empty without contacts.csv).
pub fn contacts(dataset: &Dataset, groups: &SiteGroups, p: Period) -> Vec<MetricRow> {
    if !dataset.contacts.present {
        return Vec::new();
    }
    contact_rows(&crate::changes::care_spans(dataset), &contacts_of(dataset), groups, p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use swp_data::typed::days_from_civil;

    fn d(y: i32, m: u32, day: u32) -> i32 {
        days_from_civil(y, m, day)
    }

    fn contact(child: &str, date: i32, kind: &str, minutes: f64) -> Contact {
        Contact { child: ("S".into(), child.into()), date, kind: kind.into(), minutes }
    }

    /// Worked by hand for 2012-01-01 .. 2012-03-31 (91 days):
    /// - a in care all period: a visit (30 min), a seen_alone visit (45), a phone call (10), and
    ///   a visit dated 2011-12-31 (outside P: not counted).
    /// - b in care 2012-01-01 .. 2012-01-30 (30 days): a visit on 2012-01-10 (20 min) and a
    ///   seen_alone visit on 2012-02-10, after b left care (not counted).
    #[test]
    fn contact_metrics_by_hand() {
        let p = Period { from: d(2012, 1, 1), to: d(2012, 3, 31) };
        let groups = SiteGroups { site_ids: vec!["S".into()], names: vec!["S".into()], group_of_site: vec![0] };
        let mut spans = BTreeMap::new();
        spans.insert(("S".to_string(), "a".to_string()), vec![(d(2011, 1, 1), None)]);
        spans.insert(("S".to_string(), "b".to_string()), vec![(d(2012, 1, 1), Some(d(2012, 1, 30)))]);
        let contacts = vec![
            contact("a", d(2012, 1, 5), "visit", 30.0),
            contact("a", d(2012, 2, 5), "seen_alone", 45.0),
            contact("a", d(2012, 3, 5), "phone", 10.0),
            contact("a", d(2011, 12, 31), "visit", 60.0),
            contact("b", d(2012, 1, 10), "visit", 20.0),
            contact("b", d(2012, 2, 10), "seen_alone", 40.0),
        ];
        let rows = contact_rows(&spans, &contacts, &groups, p);
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
