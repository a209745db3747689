//! Workforce metrics (docs/metrics.md, "Workforce"): `fte_in_post`, `turnover_rate`,
//! `stability_index`, `recruitment_rate`, `agency_rate`, `sickness_absence_rate`,
//! `median_service_years`.
//!
//! Staff counted: roles social_worker, senior_practitioner and team_manager. A spell is in post
//! on day d when start_date <= d <= end_date (or it has no end date).

use crate::index::{Index, Spell};
use crate::period::{MetricRow, Period};
use swp_data::date::format_date;

/// Monday-to-Friday days in `[from, to]` (0 when empty). 1970-01-01 was a Thursday.
pub fn working_days(from: i32, to: i32) -> i64 {
    if to < from {
        return 0;
    }
    let weekday = |d: i32| (i64::from(d) + 3).rem_euclid(7); // 0 = Monday
    let days = i64::from(to) - i64::from(from) + 1;
    let full_weeks = days / 7;
    let mut count = full_weeks * 5;
    let first = weekday(from);
    for k in 0..days % 7 {
        if (first + k) % 7 < 5 {
            count += 1;
        }
    }
    count
}

/// Kaplan-Meier median of `(time, observed)` pairs: the smallest time at which the survival
/// curve is at or below 1/2 (None if it never is).
pub fn km_median(mut sample: Vec<(f64, bool)>) -> Option<f64> {
    sample.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut at_risk = sample.len() as f64;
    let mut survival = 1.0;
    let mut i = 0;
    while i < sample.len() {
        let t = sample[i].0;
        let (mut events, mut leaving) = (0.0, 0.0);
        while i < sample.len() && sample[i].0 == t {
            events += f64::from(u8::from(sample[i].1));
            leaving += 1.0;
            i += 1;
        }
        if events > 0.0 {
            survival *= 1.0 - events / at_risk;
            if survival <= 0.5 + 1e-12 {
                return Some(t);
            }
        }
        at_risk -= leaving;
    }
    None
}

/// Per-group sums of the workforce metrics over one period.
#[derive(Debug, Clone, Default)]
struct Sums {
    fte_in_post: f64,
    leavers: f64,
    joiners: f64,
    agency_fte: f64,
    all_fte: f64,
    sick: f64,
    available: f64,
    at_start: Vec<(u32, usize)>,
    service: Vec<(f64, bool)>,
}

/// Working days of a worker's sickness inside `[from, to]`, overlapping absences counted once.
fn sick_days(sickness: &[(i32, i32)], from: i32, to: i32) -> i64 {
    let mut intervals: Vec<(i32, i32)> =
        sickness.iter().map(|&(a, b)| (a.max(from), b.min(to))).filter(|(a, b)| a <= b).collect();
    intervals.sort_unstable();
    let mut covered = 0;
    let mut current: Option<(i32, i32)> = None;
    for (a, b) in intervals {
        match current {
            Some((ca, cb)) if a <= cb + 1 => current = Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                covered += working_days(ca, cb);
                current = Some((a, b));
            }
            None => current = Some((a, b)),
        }
    }
    covered + current.map_or(0, |(ca, cb)| working_days(ca, cb))
}

/// The workforce metrics of every group for period `p`, in docs/metrics.md order per group.
pub fn workforce_rows(index: &Index, p: Period) -> Vec<MetricRow> {
    let groups = &index.groups;
    let mut sums = vec![Sums::default(); groups.names.len()];
    for s in index.spells.iter().filter(|s| s.counted) {
        let g = &mut sums[groups.group_of_site[s.site]];
        if s.in_post(p.to) {
            g.all_fte += s.fte;
            if s.agency {
                g.agency_fte += s.fte;
            }
        }
        if s.agency {
            continue;
        }
        if s.in_post(p.to) {
            g.fte_in_post += s.fte;
        }
        if s.end.is_some_and(|e| p.contains(e)) {
            g.leavers += s.fte;
        }
        if p.contains(s.start) {
            g.joiners += s.fte;
        }
        if s.in_post(p.from) {
            g.at_start.push((s.worker, s.site));
        }
        let (from, to) = (s.start.max(p.from), s.end.unwrap_or(p.to).min(p.to));
        if from <= to {
            g.available += s.fte * working_days(from, to) as f64;
            g.sick += s.fte * sick_days(index.sickness.of(s.worker as usize), from, to) as f64;
        }
        if s.start <= p.to {
            let observed = s.end.is_some_and(|e| e <= p.to);
            let last = if observed { s.end.unwrap_or(p.to) } else { p.to };
            g.service.push((f64::from(last - s.start + 1) / 365.25, observed));
        }
    }
    let mut rows = Vec::new();
    for (name, mut g) in groups.names.iter().zip(sums) {
        let single = |metric, value: f64| MetricRow {
            group: name.clone(),
            metric,
            value: Some(value),
            numerator: Some(value),
            denominator: None,
            period_from: format_date(p.from),
            period_to: format_date(p.to),
        };
        rows.push(single("fte_in_post", g.fte_in_post));
        rows.push(MetricRow::ratio(name, "turnover_rate", p, g.leavers, g.fte_in_post));

        g.at_start.sort_unstable();
        g.at_start.dedup();
        let mut workers: Vec<u32> = g.at_start.iter().map(|(w, _)| *w).collect();
        workers.dedup();
        let still_there = |&(w, site): &(u32, usize)| {
            index
                .spells_of
                .of(w as usize)
                .iter()
                .map(|&k| &index.spells[k as usize])
                .any(|s: &Spell| s.counted && s.site == site && s.in_post(p.to))
        };
        let mut stable: Vec<u32> = g.at_start.iter().filter(|ws| still_there(ws)).map(|(w, _)| *w).collect();
        stable.dedup();
        rows.push(MetricRow::ratio(name, "stability_index", p, stable.len() as f64, workers.len() as f64));
        rows.push(MetricRow::ratio(name, "recruitment_rate", p, g.joiners, g.fte_in_post));
        rows.push(MetricRow::ratio(name, "agency_rate", p, g.agency_fte, g.all_fte));
        rows.push(MetricRow::ratio(name, "sickness_absence_rate", p, g.sick, g.available));

        let ended = g.service.iter().filter(|(_, o)| *o).count() as f64;
        let n = g.service.len() as f64;
        rows.push(MetricRow {
            value: km_median(g.service),
            numerator: Some(ended),
            denominator: Some(n),
            ..single("median_service_years", 0.0)
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Builder, SpellRecord};
    use crate::period::SiteGroups;
    use crate::test_support::d;

    fn groups(names: &[&str]) -> SiteGroups {
        SiteGroups {
            site_ids: names.iter().map(|s| s.to_string()).collect(),
            names: names.iter().map(|s| s.to_string()).collect(),
            group_of_site: (0..names.len()).collect(),
        }
    }

    fn spell(fte: f64, agency: bool, start: i32, end: Option<i32>) -> SpellRecord {
        SpellRecord { counted: true, fte, agency, start, end }
    }

    fn value(rows: &[MetricRow], group: &str, metric: &str) -> (Option<f64>, Option<f64>, Option<f64>) {
        let r = rows.iter().find(|r| r.group == group && r.metric == metric).unwrap();
        (r.value, r.numerator, r.denominator)
    }

    /// The generator's turnover effect (pilot leaving rate x 0.6 from go-live) shows up in
    /// `turnover_rate` by arm over the financial years after the last go-live.
    #[test]
    fn synthetic_turnover_effect_shows_in_turnover_rate() {
        let index = crate::test_support::synthetic_by_arm(12);
        let (mut pilot, mut comparison) = ((0.0, 0.0), (0.0, 0.0));
        for year in 2010..=2012 {
            let rows = workforce_rows(&index, Period::financial_year(year));
            let (_, n, dnm) = value(&rows, "pilot", "turnover_rate");
            pilot = (pilot.0 + n.unwrap(), pilot.1 + dnm.unwrap());
            let (_, n, dnm) = value(&rows, "comparison", "turnover_rate");
            comparison = (comparison.0 + n.unwrap(), comparison.1 + dnm.unwrap());
        }
        let ratio = (pilot.0 / pilot.1) / (comparison.0 / comparison.1);
        assert!((0.4..0.85).contains(&ratio), "turnover ratio {ratio} (true 0.6)");
    }

    #[test]
    fn working_days_count_monday_to_friday() {
        // 2012-02-27 (Mon) .. 2012-03-04 (Sun): 5 working days; leap day 2012-02-29 is a Wednesday
        assert_eq!(working_days(d(2012, 2, 27), d(2012, 3, 4)), 5);
        assert_eq!(working_days(d(2012, 2, 29), d(2012, 2, 29)), 1);
        assert_eq!(working_days(d(2012, 3, 3), d(2012, 3, 4)), 0); // a weekend
                                                                   // FY 2011-12: 366 days from Friday 2011-04-01: 52 weeks (260) + Fri 30 and Sat 31 March
        assert_eq!(working_days(d(2011, 4, 1), d(2012, 3, 31)), 261);
        assert_eq!(working_days(d(2012, 3, 5), d(2012, 3, 4)), 0);
    }

    #[test]
    fn km_median_is_the_first_time_the_curve_reaches_one_half() {
        // events at 1, 2, 3, 4: S = 0.75, 0.5 -> median 2
        assert_eq!(km_median(vec![(1.0, true), (2.0, true), (3.0, true), (4.0, true)]), Some(2.0));
        // censoring at 1.5: S(1) = 3/4, S(2) = 3/4 * 1/2 = 3/8 -> median 2
        assert_eq!(km_median(vec![(1.0, true), (1.5, false), (2.0, true), (3.0, true)]), Some(2.0));
        // one event of three: S = 2/3, never <= 1/2
        assert_eq!(km_median(vec![(1.0, true), (2.0, false), (3.0, false)]), None);
    }

    /// Worked by hand for FY 2011-12 (2011-04-01 .. 2012-03-31):
    /// - A: 1.0 fte, 2009-05-01 .., open: in post throughout.
    /// - B: 0.5 fte, 2010-01-01 .. 2011-09-30: leaver in P.
    /// - C: 0.8 fte, 2011-06-01 .. 2012-03-31: joiner in P, ends on P.to (in post and a leaver).
    /// - D: agency 1.0 fte, 2011-01-01 .., open.
    /// - E moves: site 0 2008-01-01 .. 2011-10-31 (leaver at site 0), site 1 2011-11-01 .., open.
    #[test]
    fn workforce_metrics_by_hand() {
        let p = Period::financial_year(2011);
        let g = groups(&["S0", "S1"]);
        let mut b = Builder::new(g);
        b.spell("A", "S0", spell(1.0, false, d(2009, 5, 1), None));
        b.spell("B", "S0", spell(0.5, false, d(2010, 1, 1), Some(d(2011, 9, 30))));
        b.spell("C", "S0", spell(0.8, false, d(2011, 6, 1), Some(d(2012, 3, 31))));
        b.spell("D", "S0", spell(1.0, true, d(2011, 1, 1), None));
        b.spell("E", "S0", spell(1.0, false, d(2008, 1, 1), Some(d(2011, 10, 31))));
        b.spell("E", "S1", spell(1.0, false, d(2011, 11, 1), None));
        b.spell("F", "S0", SpellRecord { counted: false, ..spell(1.0, false, d(2009, 1, 1), None) }); // an assistant
                                                                                                      // A: sick Mon 2012-02-27 .. Sun 2012-03-04 (5 working days), and an overlapping
                                                                                                      // absence Wed 2012-02-29 .. Thu 2012-03-01 (already counted); C: sick on a weekend only.
        b.sickness("A", d(2012, 2, 27), d(2012, 3, 4));
        b.sickness("A", d(2012, 2, 29), d(2012, 3, 1));
        b.sickness("C", d(2011, 6, 4), d(2011, 6, 5));
        let rows = workforce_rows(&b.finish(), p);
        // fte in post on 2012-03-31 at S0: A 1.0 + C 0.8 (agency D and assistant F not counted)
        assert_eq!(value(&rows, "S0", "fte_in_post"), (Some(1.8), Some(1.8), None));
        // leavers in P at S0: B 0.5, C 0.8 (ends on P.to), E 1.0 (moved site: still a leaver)
        let (v, n, dnm) = value(&rows, "S0", "turnover_rate");
        assert_eq!((n, dnm), (Some(2.3), Some(1.8)));
        assert!((v.unwrap() - 2.3 / 1.8).abs() < 1e-12);
        // in post on 2011-04-01 at S0: A, B, E (non-agency); still at S0 on P.to: A only
        assert_eq!(value(&rows, "S0", "stability_index"), (Some(1.0 / 3.0), Some(1.0), Some(3.0)));
        // joiners in P: C 0.8 at S0; E 1.0 at S1
        assert_eq!(value(&rows, "S0", "recruitment_rate").1, Some(0.8));
        assert_eq!(value(&rows, "S1", "recruitment_rate"), (Some(1.0), Some(1.0), Some(1.0)));
        // agency: D 1.0 of A 1.0 + C 0.8 + D 1.0
        let (v, n, dnm) = value(&rows, "S0", "agency_rate");
        assert_eq!((n, dnm), (Some(1.0), Some(2.8)));
        assert!((v.unwrap() - 1.0 / 2.8).abs() < 1e-12);
        // sickness: A 5 days x 1.0; available = A 261 x 1.0 + B x 0.5 + C x 0.8 + E x 1.0, with
        // B 2011-04-01 (Fri) .. 09-30 (Fri): 183 days = 26 weeks + a Friday = 131;
        // C 2011-06-01 (Wed) .. 2012-03-31 (Sat): 305 days = 43 weeks + Wed-Sat = 218;
        // E 2011-04-01 (Fri) .. 10-31 (Mon): 214 days = 30 weeks + Fri-Mon = 152
        let available = 261.0 + 131.0 * 0.5 + 218.0 * 0.8 + 152.0;
        assert_eq!(working_days(d(2011, 4, 1), d(2011, 9, 30)), 131);
        assert_eq!(working_days(d(2011, 6, 1), d(2012, 3, 31)), 218);
        assert_eq!(working_days(d(2011, 4, 1), d(2011, 10, 31)), 152);
        let (v, n, dnm) = value(&rows, "S0", "sickness_absence_rate");
        assert_eq!(n, Some(5.0));
        assert!((dnm.unwrap() - available).abs() < 1e-9);
        assert!((v.unwrap() - 5.0 / available).abs() < 1e-12);
        // service at S0, spells started by P.to (non-agency): A open (censored), B ended
        // (2010-01-01..2011-09-30: 638 days), C ended on P.to (305 days), E ended (1400 days)
        let (v, n, dnm) = value(&rows, "S0", "median_service_years");
        assert_eq!((n, dnm), (Some(3.0), Some(4.0)));
        // times: C 305, B 638, E 1400 (events), A censored at 1065 days.
        // S: after C 3/4, after B 3/4 * 2/3 = 1/2 -> median = B's 638 days
        assert_eq!(v, Some(638.0 / 365.25));
        // S1 on P.from had nobody in post: stability null
        assert_eq!(value(&rows, "S1", "stability_index"), (None, Some(0.0), Some(0.0)));
    }
}
