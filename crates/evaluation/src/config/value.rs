//! The `[value_for_money]` section of the config: unit costs, placement costs by provider and
//! payment rules, with their check (the config's check calls it).

use crate::config::codes::CodeGroup;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Weekly cost of a placement group by provider (pounds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderCosts {
    /// The authority's own provision (PR0, PR1, blank).
    pub own: f64,
    /// Another authority or public body (PR2, PR3).
    pub other_public: f64,
    /// Private and voluntary providers (PR4, PR5).
    pub external: f64,
}

/// One payment-on-outcomes threshold of a pilot's contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRule {
    /// The pilot site.
    pub site: String,
    /// The indicator: a docs/metrics.md metric (by site, per financial year).
    pub indicator: String,
    /// Met when the indicator is at most this.
    #[serde(default)]
    pub at_most: Option<f64>,
    /// Met when the indicator is at least this.
    #[serde(default)]
    pub at_least: Option<f64>,
    /// The share of the contract's outcome payment the threshold triggers.
    pub share: f64,
}

/// `[value_for_money]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValueConfig {
    /// Run it (false).
    pub enabled: bool,
    /// The price year of the unit costs (`2016-17`).
    pub price_year: String,
    /// Where each figure comes from.
    pub sources: Vec<String>,
    /// Whether the figures are illustrative (labelled so in the report).
    pub illustrative: bool,
    /// Weekly placement cost by `placement_type` group.
    pub placement_weekly: BTreeMap<String, ProviderCosts>,
    /// Cost of an hour of social-worker time with a child (pounds).
    pub social_worker_hourly: f64,
    /// Multiplier for the time around each contact (travel, recording, supervision).
    pub overhead_multiplier: f64,
    /// Cost of one change of social worker (the handover work, pounds).
    pub cost_per_sw_change: f64,
    /// Willingness to pay per event avoided, for the acceptability curve (pounds).
    pub willingness_to_pay: Vec<f64>,
    /// Bootstrap replicates of the incremental cost-effectiveness (1,000).
    pub bootstrap_reps: usize,
    /// Payment-on-outcomes thresholds of the pilots' contracts.
    pub payments: Vec<PaymentRule>,
}

impl Default for ValueConfig {
    fn default() -> Self {
        let p = |own, other_public, external| ProviderCosts { own, other_public, external };
        ValueConfig {
            enabled: false,
            price_year: "2016-17".into(),
            sources: vec![
                "foster (own provision): PSSRU Unit Costs of Health and Social Care 2017 (Curtis and Burns), p. 86: GBP 646 per child per week in foster care, 2016-17 prices (boarding-out allowances, administration, social workers and support staff)".into(),
                "every other figure: illustrative, in 2016-17 prices; replace with the authority's own or current PSSRU figures".into(),
            ],
            illustrative: true,
            placement_weekly: BTreeMap::from([
                ("foster".into(), p(646.0, 750.0, 900.0)),
                ("placed_for_adoption".into(), p(300.0, 300.0, 450.0)),
                ("with_parents".into(), p(150.0, 150.0, 150.0)),
                ("residential".into(), p(3_500.0, 3_800.0, 4_200.0)),
                ("other".into(), p(500.0, 550.0, 700.0)),
            ]),
            social_worker_hourly: 55.0,
            overhead_multiplier: 2.5,
            cost_per_sw_change: 900.0,
            willingness_to_pay: (0..=20).map(|k| f64::from(k) * 2_500.0).collect(),
            bootstrap_reps: 1_000,
            payments: Vec::new(),
        }
    }
}

impl ValueConfig {
    /// Checks the section: costs finite and >= 0, a group for each placement group, a
    /// bootstrap of 99 to 100,000, payment rules with one threshold and a share in [0, 1].
    ///
    /// # Errors
    /// The key, the value and what is allowed.
    pub fn check(&self, groups: &[CodeGroup]) -> Result<(), (String, String, String)> {
        let bad = |k: &str, v: String, a: &str| Err((k.to_string(), v, a.to_string()));
        for (name, c) in &self.placement_weekly {
            if !groups.iter().any(|g| &g.group == name) {
                return bad(
                    "value_for_money.placement_weekly",
                    name.clone(),
                    &format!(
                        "a placement_type group: {}",
                        groups.iter().map(|g| g.group.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            for x in [c.own, c.other_public, c.external] {
                if !(x.is_finite() && x >= 0.0) {
                    return bad(
                        &format!("value_for_money.placement_weekly.{name}"),
                        x.to_string(),
                        "weekly costs of 0 or more",
                    );
                }
            }
        }
        for g in groups {
            if !self.placement_weekly.contains_key(&g.group) {
                return bad(
                    "value_for_money.placement_weekly",
                    format!("(no {})", g.group),
                    "a weekly cost for every placement_type group",
                );
            }
        }
        for (k, x) in [
            ("social_worker_hourly", self.social_worker_hourly),
            ("overhead_multiplier", self.overhead_multiplier),
            ("cost_per_sw_change", self.cost_per_sw_change),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return bad(&format!("value_for_money.{k}"), x.to_string(), "0 or more");
            }
        }
        if !(99..=100_000).contains(&self.bootstrap_reps) {
            return bad("value_for_money.bootstrap_reps", self.bootstrap_reps.to_string(), "99 to 100,000");
        }
        if self.willingness_to_pay.is_empty() || self.willingness_to_pay.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
            return bad(
                "value_for_money.willingness_to_pay",
                format!("[{}]", self.willingness_to_pay.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
                "amounts of 0 or more",
            );
        }
        for r in &self.payments {
            if r.at_most.is_some() == r.at_least.is_some() {
                return bad("value_for_money.payments", r.indicator.clone(), "exactly one of at_most and at_least");
            }
            if !(0.0..=1.0).contains(&r.share) {
                return bad("value_for_money.payments.share", r.share.to_string(), "a share between 0 and 1");
            }
            let known = swp_metrics::all::METRICS.contains(&r.indicator.as_str());
            if !known {
                return bad(
                    "value_for_money.payments.indicator",
                    r.indicator.clone(),
                    "a docs/metrics.md metric, such as pct_3plus_placements or visits_per_child_month",
                );
            }
        }
        Ok(())
    }
}
