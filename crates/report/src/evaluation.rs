//! The evaluation's result tables (effects, balance, sample flow, site-level DiD, the site
//! panel, results by SWP model) as [`Table`]s, from the result types only.

use crate::table::{Cell, Table};
use swp_evaluation::Published;

fn num(x: Option<f64>) -> Cell {
    Cell::Number(x.filter(|v| v.is_finite()))
}

/// A count, `c` when suppressed.
fn count(x: Option<u64>) -> Cell {
    x.map_or(Cell::Suppressed, |v| Cell::Number(Some(v as f64)))
}

/// A count that may be suppressed or absent (`suppressed` says which).
fn count_f(x: Option<f64>, suppressed: bool) -> Cell {
    match x {
        Some(v) => Cell::Number(Some(v)),
        None if suppressed => Cell::Suppressed,
        None => Cell::Number(None),
    }
}

/// `effects`: one row per estimate.
pub fn effects(r: &Published) -> Table {
    let mut t = Table::new(vec![
        "outcome",
        "kind",
        "estimate_type",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "p_holm",
        "wild_p_value",
        "se_method",
        "n_treated",
        "n_control",
        "n_clusters",
        "se",
        "df",
        "se_subclass",
        "ci_low_subclass",
        "ci_high_subclass",
        "p_value_subclass",
        "mean_treated",
        "mean_control",
        "events_treated",
        "events_control",
    ]);
    for e in &r.effects {
        t = t.row(vec![
            Cell::text(&e.outcome),
            Cell::text(e.kind),
            Cell::text(e.estimate_type),
            num(e.estimate),
            num(e.ci_low),
            num(e.ci_high),
            num(e.p_value),
            num(e.p_holm),
            num(e.wild_p_value),
            Cell::text(e.se_method),
            count(e.n_treated),
            count(e.n_control),
            Cell::number(e.n_clusters as f64),
            num(e.se),
            num(e.df),
            num(e.se_subclass),
            num(e.ci_low_subclass),
            num(e.ci_high_subclass),
            num(e.p_value_subclass),
            num(e.mean_treated),
            num(e.mean_control),
            count_f(e.events_treated, e.suppressed),
            count_f(e.events_control, e.suppressed),
        ]);
    }
    t
}

/// The primary rows only, as the terminal summary shows them.
pub fn primary_summary(r: &Published) -> Table {
    let mut t =
        Table::new(vec!["primary outcome", "estimate", "value", "95% CI low", "95% CI high", "p", "Holm p", "wild p"]);
    for e in r.effects.iter().filter(|e| e.primary) {
        t = t.row(vec![
            Cell::text(&e.outcome),
            Cell::text(e.estimate_type),
            num(e.estimate),
            num(e.ci_low),
            num(e.ci_high),
            num(e.p_value),
            num(e.p_holm),
            num(e.wild_p_value),
        ]);
    }
    t
}

/// `balance`: one row per covariate column.
pub fn balance(r: &Published) -> Table {
    let mut t = Table::new(vec![
        "covariate",
        "mean_treated",
        "mean_treated_after",
        "mean_control_before",
        "mean_control_after",
        "smd_before",
        "smd_after",
        "var_ratio_before",
        "var_ratio_after",
        "ecdf_mean_after",
        "ecdf_max_after",
        "imbalanced",
    ]);
    for b in &r.balance.balance {
        t = t.row(vec![
            Cell::text(&b.covariate),
            Cell::number(b.mean_treated),
            Cell::number(b.mean_treated_after),
            Cell::number(b.mean_control_before),
            Cell::number(b.mean_control_after),
            Cell::number(b.smd_before),
            Cell::number(b.smd_after),
            num(b.var_ratio_before),
            num(b.var_ratio_after),
            Cell::number(b.ecdf_mean_after),
            Cell::number(b.ecdf_max_after),
            Cell::text(if b.imbalanced { "yes" } else { "no" }),
        ]);
    }
    t
}

/// `sample_flow`.
pub fn sample_flow(r: &Published) -> Table {
    let mut t = Table::new(vec!["step", "rule", "arm", "removed", "remaining"]);
    for f in &r.sample_flow {
        let removed = match (f.step, f.removed) {
            (0, _) => Cell::Number(None),
            (_, Some(v)) => Cell::number(v as f64),
            (_, None) => Cell::Suppressed,
        };
        t = t.row(vec![
            Cell::number(f.step as f64),
            Cell::text(&f.rule),
            Cell::text(&f.arm),
            removed,
            count(f.remaining),
        ]);
    }
    t
}

/// `site_did`.
pub fn site_did(r: &Published) -> Table {
    let mut t = Table::new(vec![
        "metric",
        "pilots",
        "estimate",
        "se",
        "df",
        "ci_low",
        "ci_high",
        "p_value",
        "wild_p_value",
        "ri_p_value",
        "ri_assignments",
        "n_sites",
        "n_pilot_sites",
        "n_site_years",
    ]);
    for d in &r.site_did {
        t = t.row(vec![
            Cell::text(&d.metric),
            Cell::text(&d.pilots),
            num(d.estimate),
            num(d.se),
            num(d.df),
            num(d.ci_low),
            num(d.ci_high),
            num(d.p_value),
            num(d.wild_p_value),
            num(d.ri_p_value),
            num(d.ri_assignments.map(|a| a as f64)),
            Cell::number(d.n_sites as f64),
            Cell::number(d.n_pilot_sites as f64),
            Cell::number(d.n_site_years as f64),
        ]);
    }
    t
}

/// `site_panel`: site x year values of the site-level metrics.
pub fn site_panel(r: &Published) -> Table {
    let mut t = Table::new(vec![
        "site",
        "arm",
        "model",
        "year",
        "metric",
        "value",
        "numerator",
        "denominator",
        "treated_share",
    ]);
    for p in &r.site_panel {
        let v = |x: Option<f64>| if p.suppressed { Cell::Suppressed } else { num(x) };
        t = t.row(vec![
            Cell::text(&p.site),
            Cell::text(p.arm),
            Cell::text(&p.model),
            Cell::text(&p.year),
            Cell::text(&p.metric),
            v(p.value),
            v(p.numerator),
            v(p.denominator),
            Cell::number(p.treated_share),
        ]);
    }
    t
}

/// `by_model`.
pub fn by_model(r: &Published) -> Table {
    let mut t = Table::new(vec![
        "model",
        "site",
        "n_treated",
        "n_control",
        "sw_change_rate_treated",
        "sw_change_rate_control",
        "move_rate_treated",
        "move_rate_control",
        "three_plus_treated",
        "three_plus_control",
    ]);
    for m in &r.by_model {
        let v = |x: Option<f64>| if m.suppressed { Cell::Suppressed } else { num(x) };
        t = t.row(vec![
            Cell::text(&m.model),
            Cell::text(&m.site),
            count(m.n_treated),
            count(m.n_control),
            v(m.sw_change_rate_treated),
            v(m.sw_change_rate_control),
            v(m.move_rate_treated),
            v(m.move_rate_control),
            v(m.three_plus_treated),
            v(m.three_plus_control),
        ]);
    }
    t
}

/// `sensitivity`: E-values and Rosenbaum bounds of the primary outcomes.
pub fn sensitivity(r: &Published) -> Table {
    let mut t = Table::new(vec![
        "outcome",
        "ratio_type",
        "ratio",
        "e_value",
        "e_value_ci",
        "rare_outcome",
        "rosenbaum_test",
        "pairs",
        "p_gamma_1",
        "gamma",
    ]);
    for s in &r.sensitivity {
        t = t.row(vec![
            Cell::text(s.outcome),
            Cell::text(s.ratio_type),
            num(s.ratio),
            num(s.e_value),
            num(s.e_value_ci),
            Cell::text(s.rare_outcome.map_or("", |r| if r { "yes" } else { "no" })),
            Cell::text(s.rosenbaum_test.unwrap_or("")),
            num(s.pairs.map(|p| p as f64)),
            num(s.p_gamma_1),
            num(s.gamma),
        ]);
    }
    t
}

/// `specification_curve`: the share of specifications significant in each direction.
pub fn specification_summary(r: &Published) -> Option<Table> {
    let curve = r.specification_curve.as_ref()?;
    let mut t = Table::new(vec![
        "outcome",
        "estimate_type",
        "specifications",
        "estimated",
        "median_estimate",
        "share_significant_lower",
        "share_significant_higher",
    ]);
    for s in &curve.summary {
        t = t.row(vec![
            Cell::text(s.outcome),
            Cell::text(s.estimate_type),
            Cell::number(s.specifications as f64),
            Cell::number(s.estimated as f64),
            num(s.median_estimate),
            num(s.share_significant_lower),
            num(s.share_significant_higher),
        ]);
    }
    Some(t)
}

/// `power`: per primary outcome and number of pilot sites, the test's size (power with no
/// effect), the power at each planted ratio and the minimum detectable ratio.
pub fn power(r: &Published) -> Option<Table> {
    let power = r.power.as_ref()?;
    let mut ratios: Vec<f64> = power.rows.iter().map(|x| x.ratio).filter(|&x| x < 1.0).collect();
    ratios.sort_by(|a, b| b.total_cmp(a));
    ratios.dedup();
    let names: Vec<String> = ratios.iter().map(|x| format!("power_at_{x}")).collect();
    let mut columns = vec!["outcome", "effect_type", "pilot_sites", "control_sites", "size"];
    columns.extend(names.iter().map(String::as_str));
    columns.push("minimum_detectable");
    columns.push("minimum_detectable_size_adjusted");
    let mut t = Table::new(columns);
    for m in &power.minimum_detectable {
        let at = |ratio: f64| {
            power.rows.iter().find(|x| x.outcome == m.outcome && x.pilot_sites == m.pilot_sites && x.ratio == ratio)
        };
        let mut cells = vec![
            Cell::text(m.outcome),
            Cell::text(m.effect_type),
            Cell::number(m.pilot_sites as f64),
            num(at(1.0).map(|x| x.control_sites as f64)),
            num(m.size),
        ];
        cells.extend(ratios.iter().map(|&ratio| num(at(ratio).and_then(|x| x.power))));
        cells.push(num(m.ratio));
        cells.push(num(m.ratio_size_adjusted));
        t = t.row(cells);
    }
    Some(t)
}

/// `value_for_money`: per outcome, the incremental cost and events avoided per child-year with
/// their bootstrap intervals, the cost per event avoided, and the quadrant shares.
pub fn value_for_money(r: &Published) -> Option<Table> {
    let v = r.value_for_money.as_ref()?;
    let mut t = Table::new(vec![
        "outcome",
        "incremental_cost",
        "cost_ci_low",
        "cost_ci_high",
        "events_avoided",
        "avoided_ci_low",
        "avoided_ci_high",
        "cost_per_event_avoided",
        "icer_ci_low",
        "icer_ci_high",
        "share_effective_cheaper",
        "share_effective_dearer",
        "share_less_effective_cheaper",
        "share_less_effective_dearer",
    ]);
    for i in &v.icers {
        t = t.row(vec![
            Cell::text(i.outcome),
            Cell::number(i.delta_cost),
            Cell::number(i.delta_cost_ci[0]),
            Cell::number(i.delta_cost_ci[1]),
            Cell::number(i.events_avoided),
            Cell::number(i.events_avoided_ci[0]),
            Cell::number(i.events_avoided_ci[1]),
            num(i.icer),
            num(i.icer_ci.map(|c| c[0])),
            num(i.icer_ci.map(|c| c[1])),
            Cell::number(i.quadrants.effective_cheaper),
            Cell::number(i.quadrants.effective_dearer),
            Cell::number(i.quadrants.less_effective_cheaper),
            Cell::number(i.quadrants.less_effective_dearer),
        ]);
    }
    Some(t)
}

/// `cost_components`: each component's pooled cost per child-year, pilot and control.
pub fn cost_components(r: &Published) -> Option<Table> {
    let v = r.value_for_money.as_ref()?;
    let mut t = Table::new(vec!["component", "pilot", "control"]);
    for c in &v.components {
        t = t.row(vec![Cell::text(c.component), num(c.treated), num(c.control)]);
    }
    Some(t)
}

/// `site_spending`: what sites spent per child-year by arm and year (costs table).
pub fn site_spending(r: &Published) -> Option<Table> {
    let v = r.value_for_money.as_ref().filter(|v| !v.spending.is_empty())?;
    let mut t = Table::new(vec!["arm", "financial_year", "cost_per_child_year", "sites"]);
    for s in &v.spending {
        t = t.row(vec![
            Cell::text(&s.arm),
            Cell::text(&s.financial_year),
            num(s.cost_per_child_year),
            Cell::number(s.sites as f64),
        ]);
    }
    Some(t)
}

/// `cost_by_model`: each pilot's matched children against their matched controls.
pub fn cost_by_model(r: &Published) -> Option<Table> {
    let v = r.value_for_money.as_ref()?;
    let mut t = Table::new(vec![
        "model",
        "site",
        "n_pilot",
        "n_control",
        "cost_pilot",
        "cost_control",
        "site_spending_per_child_year",
    ]);
    for m in &v.by_model {
        t = t.row(vec![
            Cell::text(&m.model),
            Cell::text(&m.site),
            num(m.n_treated.map(|n| n as f64)),
            num(m.n_control.map(|n| n as f64)),
            num(m.cost_treated),
            num(m.cost_control),
            num(m.site_spending_per_child_year),
        ]);
    }
    Some(t)
}

/// `outcome_payments`: each pilot's contract thresholds per year, met or not, and the payment
/// share they trigger.
pub fn outcome_payments(r: &Published) -> Option<Table> {
    let v = r.value_for_money.as_ref().filter(|v| !v.payments.is_empty())?;
    let mut t = Table::new(vec!["site", "financial_year", "indicator", "value", "threshold", "met", "payment_share"]);
    for p in &v.payments {
        t = t.row(vec![
            Cell::text(&p.site),
            Cell::text(&p.financial_year),
            Cell::text(&p.indicator),
            num(p.value),
            Cell::text(&p.threshold),
            Cell::text(match p.met {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            }),
            Cell::number(p.share),
        ]);
    }
    Some(t)
}

/// Every table by its file stem, in the order the report presents them.
pub fn all(r: &Published) -> Vec<(&'static str, Table)> {
    vec![
        ("sample_flow", sample_flow(r)),
        ("balance", balance(r)),
        ("effects", effects(r)),
        ("site_did", site_did(r)),
        ("site_panel", site_panel(r)),
        ("by_model", by_model(r)),
        ("sensitivity", sensitivity(r)),
    ]
    .into_iter()
    .chain(specification_summary(r).map(|t| ("specification_summary", t)))
    .chain(power(r).map(|t| ("power_summary", t)))
    .chain(value_for_money(r).map(|t| ("value_for_money", t)))
    .chain(cost_components(r).map(|t| ("cost_components", t)))
    .chain(cost_by_model(r).map(|t| ("cost_by_model", t)))
    .chain(site_spending(r).map(|t| ("site_spending", t)))
    .chain(outcome_payments(r).map(|t| ("outcome_payments", t)))
    .collect()
}
