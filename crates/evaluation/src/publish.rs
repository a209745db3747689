//! Small-number suppression: [`publish`](fn@crate::publish) turns [`EvaluationResults`] into [`Published`], the
//! only form of the results that the renderers (`swp-report`) and the CLI's writers accept.
//!
//! Every rule hides a count from 1 to `threshold - 1` ([`swp_metrics::is_small`], the one
//! place the rule is written) together with whatever would let a reader work it back out: the
//! estimates of an effect row whose arm is small, a neighbouring step of the sample flow
//! (secondary suppression), the rates of a small SWP model, the value of a payment indicator.

use crate::results::{
    BalanceCounts, CaseloadBin, CohortTable, EffectRow, EvaluationResults, FlowRow, MissingRow, ModelRow, MonthlyRow,
    SurvivalResult, ValueForMoney,
};
use swp_metrics::is_small;

/// Results after small-number suppression, without the child-level cohort. Read-only: it
/// dereferences to the [`EvaluationResults`] it holds.
#[derive(Debug, Clone)]
pub struct Published {
    results: EvaluationResults,
    threshold: u32,
}

impl Published {
    /// The suppression threshold applied (1: nothing was hidden).
    pub fn threshold(&self) -> u32 {
        self.threshold
    }
}

impl std::ops::Deref for Published {
    type Target = EvaluationResults;

    fn deref(&self) -> &EvaluationResults {
        &self.results
    }
}

/// Small-number suppression of every count in the results (docs/evaluation.md and
/// docs/metrics.md: a count from 1 to `threshold - 1` is hidden). Suppressed counts become None;
/// effect rows whose treated or control count is small lose their estimates too; the warnings
/// say what was hidden. `threshold` 1 suppresses nothing.
pub fn publish(mut results: EvaluationResults, threshold: u32) -> Published {
    // the child-level cohort holds ids: it never travels with the published results
    results.cohort = CohortTable::default();
    let mut rule = Rule { threshold, hidden: 0 };
    rule.sample_flow(&mut results.sample_flow);
    rule.balance(&mut results.balance.n);
    rule.effects(&mut results.effects);
    if let Some(p) = &mut results.placebo {
        rule.effects(&mut p.effects);
    }
    rule.survival(&mut results.survival);
    rule.by_model(&mut results.by_model);
    rule.missing(&mut results.missing);
    if let Some(v) = &mut results.value_for_money {
        rule.value_for_money(v);
    }
    // the site panel was suppressed as the evaluation built it, at the config's threshold
    if threshold > 1 {
        rule.hidden += results.site_panel.iter().filter(|r| r.suppressed).count();
    }
    rule.descriptive(&mut results.monthly, &mut results.caseload_distribution.bins);
    if rule.hidden > 0 {
        results.warnings.push(format!(
            "small numbers: {} figure(s) based on counts of 1 to {} were suppressed (shown as c)",
            rule.hidden,
            threshold.saturating_sub(1)
        ));
    }
    Published { results, threshold }
}

/// The suppression threshold and the number of figures hidden so far.
struct Rule {
    threshold: u32,
    hidden: usize,
}

impl Rule {
    fn small(&self, x: u64) -> bool {
        is_small(x as f64, self.threshold)
    }

    /// A small count of missing values is hidden (the arm's total stays: it is the sample
    /// flow's).
    fn missing(&mut self, rows: &mut [MissingRow]) {
        for r in rows {
            for count in [&mut r.missing, &mut r.missing_matched] {
                if count.is_some_and(|x| self.small(x)) {
                    *count = None;
                    r.suppressed = true;
                    self.hidden += 1;
                }
            }
        }
    }

    fn small_f(&self, x: f64) -> bool {
        is_small(x, self.threshold)
    }

    /// A small removal is hidden with the count remaining after it, and (secondary suppression)
    /// a neighbouring step's removal too, so that no difference of published counts reveals it.
    /// Each stack's flow is a block of its own; the pooled rows (sums over stacks) also hide
    /// every step a stack hid, so that the pooled count less the other stacks' does not give it.
    fn sample_flow(&mut self, flow: &mut [FlowRow]) {
        let stacked = flow.iter().any(|r| r.stack.is_some());
        let mut blocks: Vec<(Option<String>, String)> = Vec::new();
        for r in flow.iter() {
            let key = (r.stack.clone(), r.arm.clone());
            if !blocks.contains(&key) {
                blocks.push(key);
            }
        }
        // steps hidden in some stack, per arm
        let mut hidden_steps: Vec<(String, usize)> = Vec::new();
        for (stack, arm) in &blocks {
            let rows: Vec<usize> =
                (0..flow.len()).filter(|&i| flow[i].arm == *arm && flow[i].stack == *stack).collect();
            let mut small_steps: Vec<usize> =
                (1..rows.len()).filter(|&k| flow[rows[k]].removed.is_some_and(|x| self.small(x))).collect();
            if stacked && stack.is_none() {
                small_steps
                    .extend((1..rows.len()).filter(|&k| hidden_steps.contains(&(arm.clone(), flow[rows[k]].step))));
                small_steps.sort_unstable();
                small_steps.dedup();
            }
            for k in small_steps {
                let neighbour = if k + 1 < rows.len() { k + 1 } else { k - 1 };
                for j in [k, neighbour] {
                    if j == 0 {
                        continue;
                    }
                    let r = &mut flow[rows[j]];
                    if r.removed.is_some() {
                        self.hidden += 1;
                    }
                    r.removed = None;
                    hidden_steps.push((arm.clone(), r.step));
                }
                flow[rows[k]].remaining = None;
                if neighbour < k {
                    flow[rows[neighbour]].remaining = None;
                }
            }
        }
    }

    fn balance(&mut self, n: &mut BalanceCounts) {
        for c in [&mut n.treated, &mut n.control, &mut n.matched_treated, &mut n.matched_control, &mut n.discarded] {
            if c.is_some_and(|x| self.small(x)) {
                *c = None;
                self.hidden += 1;
            }
        }
    }

    /// A small arm hides the row's numbers; small event counts hide themselves.
    fn effects(&mut self, effects: &mut [EffectRow]) {
        for r in effects {
            let mut row_hidden = false;
            for c in [&mut r.n_treated, &mut r.n_control] {
                if c.is_some_and(|x| self.small(x)) {
                    *c = None;
                    row_hidden = true;
                }
            }
            for e in [&mut r.events_treated, &mut r.events_control] {
                if e.is_some_and(|x| self.small_f(x)) {
                    *e = None;
                    r.suppressed = true;
                }
            }
            if row_hidden {
                for v in [
                    &mut r.estimate,
                    &mut r.ci_low,
                    &mut r.ci_high,
                    &mut r.p_value,
                    &mut r.wild_ci_low,
                    &mut r.wild_ci_high,
                    &mut r.se,
                    &mut r.mean_treated,
                    &mut r.mean_control,
                    &mut r.median_treated,
                    &mut r.median_control,
                    &mut r.se_subclass,
                    &mut r.ci_low_subclass,
                    &mut r.ci_high_subclass,
                    &mut r.p_value_subclass,
                ] {
                    *v = None;
                }
                r.suppressed = true;
            }
            if r.suppressed {
                self.hidden += 1;
            }
        }
    }

    fn survival(&mut self, survival: &mut [SurvivalResult]) {
        for s in survival {
            for curve in [&mut s.treated, &mut s.control] {
                for a in &mut curve.at_risk {
                    if a.is_some_and(|x| self.small_f(x)) {
                        *a = None;
                        self.hidden += 1;
                    }
                }
            }
        }
    }

    fn by_model(&mut self, rows: &mut [ModelRow]) {
        for m in rows {
            if m.n_treated.is_some_and(|x| self.small(x)) || m.n_control.is_some_and(|x| self.small(x)) {
                m.n_treated = m.n_treated.filter(|&x| !self.small(x));
                m.n_control = m.n_control.filter(|&x| !self.small(x));
                m.sw_change_rate_treated = None;
                m.sw_change_rate_control = None;
                m.move_rate_treated = None;
                m.move_rate_control = None;
                m.three_plus_treated = None;
                m.three_plus_control = None;
                for e in &mut m.estimates {
                    e.estimate = None;
                    e.ri_p_value = None;
                }
                m.suppressed = true;
                self.hidden += 1;
            }
        }
    }

    fn value_for_money(&mut self, v: &mut ValueForMoney) {
        for m in &mut v.by_model {
            if m.n_treated.is_some_and(|x| self.small(x)) || m.n_control.is_some_and(|x| self.small(x)) {
                m.n_treated = m.n_treated.filter(|&x| !self.small(x));
                m.n_control = m.n_control.filter(|&x| !self.small(x));
                m.cost_treated = None;
                m.cost_control = None;
                self.hidden += 1;
            }
        }
        for p in &mut v.payments {
            // the indicator is a metric of one site and year: hidden as `metrics` hides it
            let (num_counted, den_counted) = swp_metrics::all::counted_parts(&p.indicator);
            let (num, den) = p.parts;
            if (num_counted && num.is_some_and(|x| self.small_f(x)))
                || (den_counted && den.is_some_and(|x| self.small_f(x)))
            {
                // the judgement goes with the value: "met" beside a hidden value would say which
                // side of the threshold it lies
                p.value = None;
                p.met = None;
                p.share = None;
                self.hidden += 1;
            }
        }
    }

    fn descriptive(&mut self, monthly: &mut [MonthlyRow], bins: &mut [CaseloadBin]) {
        for m in monthly {
            if m.case_holders.is_some_and(|x| self.small(x)) {
                m.case_holders = None;
                m.caseload = None;
                m.suppressed = true;
                self.hidden += 1;
            }
        }
        for b in bins {
            if b.workers.is_some_and(|x| self.small(x)) {
                b.workers = None;
                b.share = None;
                self.hidden += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Curve, ModelCost, PanelRow, PaymentRow};
    use crate::vocab::{Arm, EstimateType, Outcome};

    fn flow(arm: &str, removed: [Option<u64>; 5], remaining: [u64; 5]) -> Vec<FlowRow> {
        (0..5)
            .map(|step| FlowRow {
                stack: None,
                step,
                rule: format!("rule {step}"),
                arm: arm.to_string(),
                removed: removed[step],
                remaining: Some(remaining[step]),
            })
            .collect()
    }

    fn effect(n_treated: u64, events_treated: f64) -> EffectRow {
        EffectRow {
            estimate: Some(0.8),
            ci_low: Some(0.6),
            ci_high: Some(1.1),
            p_value: Some(0.2),
            se: Some(0.1),
            mean_treated: Some(1.0),
            mean_control: Some(1.2),
            n_treated: Some(n_treated),
            n_control: Some(40),
            events_treated: Some(events_treated),
            events_control: Some(30.0),
            ..EffectRow::new(Outcome::SwChanges, EstimateType::RateRatio)
        }
    }

    /// Results with one small figure of every kind the rules look at, and one large.
    fn results() -> EvaluationResults {
        // treated: step 2 removes 3 (small; its neighbour step 3 goes too); control: the last
        // step removes 2 (small; its neighbour is the step before)
        let mut sample_flow =
            flow("treated", [None, Some(100), Some(3), Some(50), Some(20)], [500, 400, 397, 347, 327]);
        sample_flow.extend(flow("control", [None, Some(60), Some(30), Some(40), Some(2)], [900, 840, 810, 770, 768]));
        let mut r = EvaluationResults { sample_flow, ..EvaluationResults::default() };
        r.balance.n.treated = Some(327);
        r.balance.n.discarded = Some(4);
        r.effects = vec![effect(3, 2.0), effect(300, 2.0), effect(300, 80.0)];
        let curve = |at_risk: Vec<Option<f64>>| Curve { at_risk, ..Curve::default() };
        r.survival = vec![SurvivalResult {
            outcome: Outcome::TimeToSwChange,
            treated: curve(vec![Some(300.0), Some(4.0), Some(0.0)]),
            control: curve(vec![Some(700.0), Some(5.0)]),
            test: "log_rank",
            chi_square: None,
            p_value: None,
        }];
        let model = |n_treated| ModelRow {
            n_treated: Some(n_treated),
            n_control: Some(50),
            sw_change_rate_treated: Some(1.0),
            three_plus_control: Some(0.1),
            ..ModelRow::default()
        };
        r.by_model = vec![model(4), model(60)];
        let panel = |suppressed| PanelRow {
            site: "P1".into(),
            arm: Arm::Pilot,
            model: "none".into(),
            year: "2009-10".into(),
            metric: "turnover_rate".into(),
            value: None,
            numerator: None,
            denominator: None,
            treated_share: 0.0,
            suppressed,
        };
        r.site_panel = vec![panel(true), panel(false)];
        let month = |holders| MonthlyRow { case_holders: Some(holders), caseload: Some(15.0), ..MonthlyRow::default() };
        r.monthly = vec![month(1), month(30)];
        let bin = |workers| CaseloadBin { workers: Some(workers), share: Some(0.1), ..CaseloadBin::default() };
        r.caseload_distribution.bins = vec![bin(2), bin(0), bin(20)];
        let cost = |n_treated| ModelCost {
            n_treated: Some(n_treated),
            n_control: Some(30),
            cost_treated: Some(1000.0),
            cost_control: Some(900.0),
            ..ModelCost::default()
        };
        let payment = |indicator: &str, parts| PaymentRow {
            indicator: indicator.into(),
            value: Some(0.5),
            met: Some(true),
            share: Some(0.4),
            parts,
            ..PaymentRow::default()
        };
        r.value_for_money = Some(ValueForMoney {
            by_model: vec![cost(2), cost(25)],
            payments: vec![
                payment("pct_3plus_placements", (Some(2.0), Some(40.0))),
                payment("pct_3plus_placements", (Some(20.0), Some(40.0))),
                // a sum of days is not a count: never small
                payment("mean_days_in_placement", (Some(2.0), Some(3.0))),
            ],
            ..ValueForMoney::default()
        });
        r.cohort = CohortTable { columns: vec!["child_id".into()], text: vec![vec!["C1".into()]], numbers: Vec::new() };
        r
    }

    /// A small count of missing values is hidden, in the cohort and the matched sample alike;
    /// none missing (0) and large counts stay.
    #[test]
    fn small_missing_counts_are_hidden() {
        let row = |missing, missing_matched| MissingRow {
            covariate: "cin_abuse_neglect".into(),
            arm: "treated".into(),
            children: Some(300),
            missing: Some(missing),
            matched: Some(290),
            missing_matched: Some(missing_matched),
            suppressed: false,
        };
        let r = EvaluationResults { missing: vec![row(3, 0), row(40, 2), row(40, 38)], ..results() };
        let p = publish(r, 5);
        let counts: Vec<(Option<u64>, Option<u64>, bool)> =
            p.missing.iter().map(|m| (m.missing, m.missing_matched, m.suppressed)).collect();
        assert_eq!(counts, vec![(None, Some(0), true), (Some(40), None, true), (Some(40), Some(38), false)]);
        assert!(p.missing.iter().all(|m| m.children == Some(300)));
    }

    #[test]
    fn a_small_sample_flow_step_is_hidden_with_a_neighbour() {
        let p = publish(results(), 5);
        let treated: Vec<&FlowRow> = p.sample_flow.iter().filter(|r| r.arm == "treated").collect();
        let removed: Vec<Option<u64>> = treated.iter().map(|r| r.removed).collect();
        let remaining: Vec<Option<u64>> = treated.iter().map(|r| r.remaining).collect();
        assert_eq!(removed, vec![None, Some(100), None, None, Some(20)]);
        assert_eq!(remaining, vec![Some(500), Some(400), None, Some(347), Some(327)]);
        // the last step's neighbour is the step before it, whose remaining count goes too
        let control: Vec<&FlowRow> = p.sample_flow.iter().filter(|r| r.arm == "control").collect();
        let removed: Vec<Option<u64>> = control.iter().map(|r| r.removed).collect();
        let remaining: Vec<Option<u64>> = control.iter().map(|r| r.remaining).collect();
        assert_eq!(removed, vec![None, Some(60), Some(30), None, None]);
        assert_eq!(remaining, vec![Some(900), Some(840), Some(810), None, None]);
    }

    #[test]
    fn small_counts_hide_what_they_would_reveal() {
        let p = publish(results(), 5);
        assert_eq!((p.balance.n.treated, p.balance.n.discarded), (Some(327), None));
        // a small arm hides the row's numbers; small events hide only the events
        let e = &p.effects;
        assert!(e[0].suppressed && e[0].n_treated.is_none() && e[0].estimate.is_none() && e[0].p_value.is_none());
        assert_eq!((e[0].n_control, e[0].mean_treated, e[0].se), (Some(40), None, None));
        assert!(e[1].suppressed && e[1].events_treated.is_none() && e[1].estimate == Some(0.8));
        assert!(!e[2].suppressed && e[2].events_treated == Some(80.0));
        assert_eq!(p.survival[0].treated.at_risk, vec![Some(300.0), None, Some(0.0)]);
        assert_eq!(p.survival[0].control.at_risk, vec![Some(700.0), Some(5.0)]);
        assert!(p.by_model[0].suppressed && p.by_model[0].n_treated.is_none() && p.by_model[0].n_control == Some(50));
        assert!(p.by_model[0].sw_change_rate_treated.is_none() && p.by_model[0].three_plus_control.is_none());
        assert!(!p.by_model[1].suppressed && p.by_model[1].sw_change_rate_treated == Some(1.0));
        assert!(p.monthly[0].suppressed && p.monthly[0].caseload.is_none() && p.monthly[1].caseload == Some(15.0));
        let bins: Vec<(Option<u64>, Option<f64>)> =
            p.caseload_distribution.bins.iter().map(|b| (b.workers, b.share)).collect();
        assert_eq!(bins, vec![(None, None), (Some(0), Some(0.1)), (Some(20), Some(0.1))]);
        let v = p.value_for_money.as_ref().unwrap();
        assert!(v.by_model[0].n_treated.is_none() && v.by_model[0].cost_treated.is_none());
        assert_eq!(v.by_model[1].cost_treated, Some(1000.0));
        let values: Vec<(Option<f64>, Option<bool>, Option<f64>)> =
            v.payments.iter().map(|p| (p.value, p.met, p.share)).collect();
        assert_eq!(
            values,
            vec![(None, None, None), (Some(0.5), Some(true), Some(0.4)), (Some(0.5), Some(true), Some(0.4))]
        );
        // every hidden figure is counted in one warning: flow 2 + 2, balance 1, effects 2,
        // at risk 1, by model 1, value by model 1, payment 1, site panel 1, monthly 1, bins 1
        assert_eq!(
            p.warnings,
            vec!["small numbers: 14 figure(s) based on counts of 1 to 4 were suppressed (shown as c)".to_string()]
        );
    }

    #[test]
    fn the_cohort_never_travels_and_threshold_one_hides_nothing() {
        let p = publish(results(), 5);
        assert!(p.cohort.columns.is_empty() && p.cohort.text.is_empty());
        let all = publish(results(), 1);
        assert!(all.cohort.columns.is_empty());
        assert_eq!(all.threshold(), 1);
        let before = results();
        assert_eq!(all.sample_flow, before.sample_flow);
        assert_eq!(all.effects, before.effects);
        assert_eq!(all.by_model, before.by_model);
        assert_eq!(all.value_for_money, before.value_for_money);
        assert!(all.warnings.is_empty());
    }
}
