//! The evaluation's result tables (effects, balance, sample flow, site-level DiD, the site
//! panel, results by SWP model, sensitivity, the specification curve, power and value for
//! money) as [`Table`]s, from the result types only. Each row type describes its columns once
//! ([`Tabular`]): the header beside the cell that fills it.

use crate::table::{table_of, Cell, Column, Format, Table, Tabular};
use swp_evaluation::results::{
    Balance, BalanceRow, ComponentRow, EffectRow, FlowRow, Icer, MissingRow, ModelCost, ModelRow, PanelRow, PaymentRow,
    SensitivityRow, SiteDidRow, SpecSummary, SpendingRow,
};
use swp_evaluation::vocab::Outcome;
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

/// A value of a row whose small numbers were hidden: `c` when `suppressed`.
fn hidden_if(suppressed: bool, x: Option<f64>) -> Cell {
    if suppressed {
        Cell::Suppressed
    } else {
        num(x)
    }
}

/// A yes/no flag (empty when unknown).
fn yes_no(x: Option<bool>) -> Cell {
    Cell::text(x.map_or("", |b| if b { "yes" } else { "no" }))
}

/// The children a rule removed: none on step 0, `c` when suppressed.
fn removed(f: &FlowRow) -> Cell {
    match (f.step, f.removed) {
        (0, _) => Cell::Number(None),
        (_, Some(v)) => Cell::number(v as f64),
        (_, None) => Cell::Suppressed,
    }
}

impl Tabular for EffectRow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "outcome", cell: |e| Cell::text(&e.outcome) },
        Column { name: "kind", cell: |e| Cell::text(e.kind) },
        Column { name: "estimate_type", cell: |e| Cell::text(e.estimate_type) },
        Column { name: "estimand", cell: |e| Cell::text(e.estimand) },
        Column { name: "adjusted", cell: |e| yes_no(Some(e.adjusted)) },
        Column { name: "estimate", cell: |e| num(e.estimate) },
        Column { name: "ci_low", cell: |e| num(e.ci_low) },
        Column { name: "ci_high", cell: |e| num(e.ci_high) },
        Column { name: "p_value", cell: |e| num(e.p_value) },
        Column { name: "p_holm", cell: |e| num(e.p_holm) },
        Column { name: "wild_p_value", cell: |e| num(e.wild_p_value) },
        Column { name: "wild_ci_low", cell: |e| num(e.wild_ci_low) },
        Column { name: "wild_ci_high", cell: |e| num(e.wild_ci_high) },
        Column { name: "ri_p_value", cell: |e| num(e.ri_p_value) },
        Column { name: "ri_assignments", cell: |e| num(e.ri_assignments.map(|a| a as f64)) },
        Column { name: "ri_exact", cell: |e| yes_no(e.ri_exact) },
        Column { name: "ri_min_p", cell: |e| num(e.ri_min_p) },
        Column { name: "se_method", cell: |e| Cell::text(e.se_method) },
        Column { name: "n_treated", cell: |e| count(e.n_treated) },
        Column { name: "n_control", cell: |e| count(e.n_control) },
        Column { name: "n_clusters", cell: |e| Cell::number(e.n_clusters as f64) },
        Column { name: "se", cell: |e| num(e.se) },
        Column { name: "df", cell: |e| num(e.df) },
        Column { name: "se_subclass", cell: |e| num(e.se_subclass) },
        Column { name: "ci_low_subclass", cell: |e| num(e.ci_low_subclass) },
        Column { name: "ci_high_subclass", cell: |e| num(e.ci_high_subclass) },
        Column { name: "p_value_subclass", cell: |e| num(e.p_value_subclass) },
        Column { name: "mean_treated", cell: |e| num(e.mean_treated) },
        Column { name: "mean_control", cell: |e| num(e.mean_control) },
        Column { name: "median_treated", cell: |e| num(e.median_treated) },
        Column { name: "median_control", cell: |e| num(e.median_control) },
        Column { name: "events_treated", cell: |e| count_f(e.events_treated, e.suppressed) },
        Column { name: "events_control", cell: |e| count_f(e.events_control, e.suppressed) },
    ];
}

impl Tabular for BalanceRow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "covariate", cell: |b| Cell::text(&b.covariate) },
        Column { name: "mean_treated", cell: |b| Cell::number(b.mean_treated) },
        Column { name: "mean_treated_after", cell: |b| Cell::number(b.mean_treated_after) },
        Column { name: "mean_control_before", cell: |b| Cell::number(b.mean_control_before) },
        Column { name: "mean_control_after", cell: |b| Cell::number(b.mean_control_after) },
        Column { name: "smd_before", cell: |b| Cell::number(b.smd_before) },
        Column { name: "smd_after", cell: |b| Cell::number(b.smd_after) },
        Column { name: "var_ratio_before", cell: |b| num(b.var_ratio_before) },
        Column { name: "var_ratio_after", cell: |b| num(b.var_ratio_after) },
        Column { name: "ecdf_mean_after", cell: |b| Cell::number(b.ecdf_mean_after) },
        Column { name: "ecdf_max_after", cell: |b| Cell::number(b.ecdf_max_after) },
        Column { name: "imbalanced", cell: |b| yes_no(Some(b.imbalanced)) },
    ];
}

impl Tabular for FlowRow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "stack", cell: |f| Cell::text(f.stack.as_deref().unwrap_or("all")) },
        Column { name: "step", cell: |f| Cell::number(f.step as f64) },
        Column { name: "rule", cell: |f| Cell::text(&f.rule) },
        Column { name: "arm", cell: |f| Cell::text(&f.arm) },
        Column { name: "removed", cell: |f| removed(f) },
        Column { name: "remaining", cell: |f| count(f.remaining) },
    ];
}

impl Tabular for SiteDidRow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "metric", cell: |d| Cell::text(&d.metric) },
        Column { name: "pilots", cell: |d| Cell::text(&d.pilots) },
        Column { name: "estimator", cell: |d| Cell::text(&d.estimator) },
        Column { name: "type", cell: |d| Cell::text(&d.kind) },
        Column { name: "group", cell: |d| Cell::text(d.group.as_deref().unwrap_or("")) },
        Column { name: "time", cell: |d| Cell::text(d.time.as_deref().unwrap_or("")) },
        Column { name: "event", cell: |d| num(d.event.map(|e| e as f64)) },
        Column { name: "estimate", cell: |d| num(d.estimate) },
        Column { name: "se", cell: |d| num(d.se) },
        Column { name: "df", cell: |d| num(d.df) },
        Column { name: "ci_low", cell: |d| num(d.ci_low) },
        Column { name: "ci_high", cell: |d| num(d.ci_high) },
        Column { name: "p_value", cell: |d| num(d.p_value) },
        Column { name: "wild_p_value", cell: |d| num(d.wild_p_value) },
        Column { name: "ri_p_value", cell: |d| num(d.ri_p_value) },
        Column { name: "ri_assignments", cell: |d| num(d.ri_assignments.map(|a| a as f64)) },
        Column { name: "ri_min_p", cell: |d| num(d.ri_min_p) },
        Column { name: "ri_ci_low", cell: |d| num(d.ri_ci_low) },
        Column { name: "ri_ci_high", cell: |d| num(d.ri_ci_high) },
        Column { name: "n_sites", cell: |d| Cell::number(d.n_sites as f64) },
        Column { name: "n_pilot_sites", cell: |d| Cell::number(d.n_pilot_sites as f64) },
        Column { name: "n_site_years", cell: |d| Cell::number(d.n_site_years as f64) },
    ];
}

impl Tabular for PanelRow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "site", cell: |p| Cell::text(&p.site) },
        Column { name: "arm", cell: |p| Cell::text(p.arm) },
        Column { name: "model", cell: |p| Cell::text(&p.model) },
        Column { name: "year", cell: |p| Cell::text(&p.year) },
        Column { name: "metric", cell: |p| Cell::text(&p.metric) },
        Column { name: "value", cell: |p| hidden_if(p.suppressed, p.value) },
        Column { name: "numerator", cell: |p| hidden_if(p.suppressed, p.numerator) },
        Column { name: "denominator", cell: |p| hidden_if(p.suppressed, p.denominator) },
        Column { name: "treated_share", cell: |p| Cell::number(p.treated_share) },
    ];
}

impl Tabular for ModelRow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "model", cell: |m| Cell::text(&m.model) },
        Column { name: "site", cell: |m| Cell::text(&m.site) },
        Column { name: "n_treated", cell: |m| count(m.n_treated) },
        Column { name: "n_control", cell: |m| count(m.n_control) },
        Column { name: "sw_change_rate_treated", cell: |m| hidden_if(m.suppressed, m.sw_change_rate_treated) },
        Column { name: "sw_change_rate_control", cell: |m| hidden_if(m.suppressed, m.sw_change_rate_control) },
        Column { name: "move_rate_treated", cell: |m| hidden_if(m.suppressed, m.move_rate_treated) },
        Column { name: "move_rate_control", cell: |m| hidden_if(m.suppressed, m.move_rate_control) },
        Column { name: "three_plus_treated", cell: |m| hidden_if(m.suppressed, m.three_plus_treated) },
        Column { name: "three_plus_control", cell: |m| hidden_if(m.suppressed, m.three_plus_control) },
        Column { name: "sw_changes_rate_ratio", cell: |m| pilot(m, Outcome::SwChanges, false) },
        Column { name: "sw_changes_ri_p", cell: |m| pilot(m, Outcome::SwChanges, true) },
        Column { name: "placement_moves_rate_ratio", cell: |m| pilot(m, Outcome::PlacementMoves, false) },
        Column { name: "placement_moves_ri_p", cell: |m| pilot(m, Outcome::PlacementMoves, true) },
        Column { name: "three_plus_risk_difference", cell: |m| pilot(m, Outcome::ThreePlusPlacements, false) },
        Column { name: "three_plus_ri_p", cell: |m| pilot(m, Outcome::ThreePlusPlacements, true) },
        Column { name: "time_to_sw_change_hazard_ratio", cell: |m| pilot(m, Outcome::TimeToSwChange, false) },
        Column { name: "time_to_sw_change_ri_p", cell: |m| pilot(m, Outcome::TimeToSwChange, true) },
        Column { name: "time_to_move_hazard_ratio", cell: |m| pilot(m, Outcome::TimeToPlacementMove, false) },
        Column { name: "time_to_move_ri_p", cell: |m| pilot(m, Outcome::TimeToPlacementMove, true) },
        Column { name: "ri_min_p", cell: |m| num(m.ri_min_p) },
    ];
}

/// A pilot's own estimate of `outcome` (or its randomisation p-value).
fn pilot(m: &ModelRow, outcome: Outcome, p: bool) -> Cell {
    let e = m.estimates.iter().find(|e| e.outcome == outcome);
    hidden_if(m.suppressed, e.and_then(|e| if p { e.ri_p_value } else { e.estimate }))
}

impl Tabular for MissingRow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "covariate", cell: |m| Cell::text(&m.covariate) },
        Column { name: "arm", cell: |m| Cell::text(&m.arm) },
        Column { name: "children", cell: |m| count(m.children) },
        Column { name: "missing", cell: |m| count(m.missing) },
        Column { name: "matched", cell: |m| count(m.matched) },
        Column { name: "missing_matched", cell: |m| count(m.missing_matched) },
    ];
}

impl Tabular for SensitivityRow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "outcome", cell: |s| Cell::text(s.outcome) },
        Column { name: "ratio_type", cell: |s| Cell::text(s.ratio_type) },
        Column { name: "ratio", cell: |s| num(s.ratio) },
        Column { name: "e_value", cell: |s| num(s.e_value) },
        Column { name: "e_value_ci", cell: |s| num(s.e_value_ci) },
        Column { name: "rare_outcome", cell: |s| yes_no(s.rare_outcome) },
        Column { name: "rosenbaum_test", cell: |s| Cell::text(s.rosenbaum_test.unwrap_or("")) },
        Column { name: "pairs", cell: |s| num(s.pairs.map(|p| p as f64)) },
        Column { name: "p_gamma_1", cell: |s| num(s.p_gamma_1) },
        Column { name: "reported_p_value", cell: |s| num(s.reported_p_value) },
        Column { name: "gamma", cell: |s| num(s.gamma) },
        Column { name: "site_gamma", cell: |s| num(s.site_gamma) },
    ];
}

impl Tabular for SpecSummary {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "outcome", cell: |s| Cell::text(s.outcome) },
        Column { name: "estimate_type", cell: |s| Cell::text(s.estimate_type) },
        Column { name: "specifications", cell: |s| Cell::number(s.specifications as f64) },
        Column { name: "estimated", cell: |s| Cell::number(s.estimated as f64) },
        Column { name: "median_estimate", cell: |s| num(s.median_estimate) },
        Column { name: "share_significant_lower", cell: |s| num(s.share_significant_lower) },
        Column { name: "share_significant_higher", cell: |s| num(s.share_significant_higher) },
    ];
}

impl Tabular for Icer {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "outcome", cell: |i| Cell::text(i.outcome) },
        Column { name: "incremental_cost", cell: |i| Cell::number(i.delta_cost) },
        Column { name: "cost_ci_low", cell: |i| Cell::number(i.delta_cost_ci[0]) },
        Column { name: "cost_ci_high", cell: |i| Cell::number(i.delta_cost_ci[1]) },
        Column { name: "events_avoided", cell: |i| Cell::number(i.events_avoided) },
        Column { name: "avoided_ci_low", cell: |i| Cell::number(i.events_avoided_ci[0]) },
        Column { name: "avoided_ci_high", cell: |i| Cell::number(i.events_avoided_ci[1]) },
        Column { name: "cost_per_event_avoided", cell: |i| num(i.icer) },
        Column { name: "icer_ci_low", cell: |i| num(i.icer_ci.map(|c| c[0])) },
        Column { name: "icer_ci_high", cell: |i| num(i.icer_ci.map(|c| c[1])) },
        Column { name: "share_effective_cheaper", cell: |i| Cell::number(i.quadrants.effective_cheaper) },
        Column { name: "share_effective_dearer", cell: |i| Cell::number(i.quadrants.effective_dearer) },
        Column { name: "share_less_effective_cheaper", cell: |i| Cell::number(i.quadrants.less_effective_cheaper) },
        Column { name: "share_less_effective_dearer", cell: |i| Cell::number(i.quadrants.less_effective_dearer) },
    ];
}

impl Tabular for ComponentRow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "component", cell: |c| Cell::text(c.component) },
        Column { name: "pilot", cell: |c| num(c.treated) },
        Column { name: "control", cell: |c| num(c.control) },
        Column { name: "in_total", cell: |c| Cell::text(if c.in_total { "yes" } else { "no" }) },
    ];
}

impl Tabular for SpendingRow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "arm", cell: |s| Cell::text(&s.arm) },
        Column { name: "financial_year", cell: |s| Cell::text(&s.financial_year) },
        Column { name: "cost_per_child_year", cell: |s| num(s.cost_per_child_year) },
        Column { name: "sites", cell: |s| Cell::number(s.sites as f64) },
    ];
}

impl Tabular for ModelCost {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "model", cell: |m| Cell::text(&m.model) },
        Column { name: "site", cell: |m| Cell::text(&m.site) },
        Column { name: "n_pilot", cell: |m| num(m.n_treated.map(|n| n as f64)) },
        Column { name: "n_control", cell: |m| num(m.n_control.map(|n| n as f64)) },
        Column { name: "cost_pilot", cell: |m| num(m.cost_treated) },
        Column { name: "cost_control", cell: |m| num(m.cost_control) },
        Column { name: "site_spending_per_child_year", cell: |m| num(m.site_spending_per_child_year) },
    ];
}

impl Tabular for PaymentRow {
    const COLUMNS: &'static [Column<Self>] = &[
        Column { name: "site", cell: |p| Cell::text(&p.site) },
        Column { name: "financial_year", cell: |p| Cell::text(&p.financial_year) },
        Column { name: "indicator", cell: |p| Cell::text(&p.indicator) },
        Column { name: "value", cell: |p| hidden_if(p.share.is_none(), p.value) },
        Column { name: "threshold", cell: |p| Cell::text(&p.threshold) },
        Column { name: "met", cell: |p| if p.share.is_none() { Cell::Suppressed } else { yes_no(p.met) } },
        Column { name: "payment_share", cell: |p| p.share.map_or(Cell::Suppressed, Cell::number) },
    ];
}

/// The columns of `balance.json` the table for people shows.
const BALANCE_FOR_PEOPLE: [&str; 9] = [
    "covariate",
    "mean_treated",
    "mean_control_before",
    "mean_control_after",
    "smd_before",
    "smd_after",
    "var_ratio_before",
    "var_ratio_after",
    "ecdf_max_after",
];

/// The balance table for people, with the counts (`c` where suppressed) below it in markdown.
pub fn balance_readable(balance: &Balance, format: Format) -> String {
    let mut text = balance_columns(balance, format);
    if matches!(format, Format::Md) {
        let count = |x: Option<u64>| x.map_or("c".to_string(), |v| v.to_string());
        let n = &balance.n;
        text += &format!(
            "\nTreated {} (matched {}), controls {} (matched {}), discarded {}.\n",
            count(n.treated),
            count(n.matched_treated),
            count(n.control),
            count(n.matched_control),
            count(n.discarded)
        );
        text += &flagged_line(balance, "matching");
    }
    text
}

/// The balance of a weighting for people (`swp-eval weight`): the columns of
/// [`balance_readable`], and in Markdown the arms' sizes with the effective sample sizes
/// ((sum w)^2 / sum w^2) instead of matched counts.
pub fn balance_readable_weighted(balance: &Balance, format: Format, ess: (f64, f64)) -> String {
    let mut text = balance_columns(balance, format);
    if matches!(format, Format::Md) {
        let count = |x: Option<u64>| x.map_or("c".to_string(), |v| v.to_string());
        text += &format!(
            "\nTreated {} (effective sample size {:.1}), controls {} (effective sample size {:.1}).\n",
            count(balance.n.treated),
            ess.0,
            count(balance.n.control),
            ess.1
        );
        text += &flagged_line(balance, "weighting");
    }
    text
}

/// The people's selection of `balance.json`'s columns, with the imbalanced flagged in words.
fn balance_columns(balance: &Balance, format: Format) -> String {
    let mut columns: Vec<Column<BalanceRow>> = BALANCE_FOR_PEOPLE
        .iter()
        .filter_map(|name| BalanceRow::COLUMNS.iter().find(|c| c.name == *name).copied())
        .collect();
    columns.push(Column { name: "flag", cell: |b| Cell::text(if b.imbalanced { "|SMD| > 0.1" } else { "" }) });
    Table::of(&columns, &balance.balance).render(format)
}

/// "|SMD| > 0.1 after `what`: ..." when some covariate is imbalanced, else nothing.
fn flagged_line(balance: &Balance, what: &str) -> String {
    let flagged: Vec<&str> = balance.balance.iter().filter(|b| b.imbalanced).map(|b| b.covariate.as_str()).collect();
    if flagged.is_empty() {
        String::new()
    } else {
        format!("|SMD| > 0.1 after {what}: {}.\n", flagged.join(", "))
    }
}

/// The primary rows' estimates as the terminal summary shows them; their tests follow.
const PRIMARY_SUMMARY: &[Column<EffectRow>] = &[
    Column { name: "primary outcome", cell: |e| Cell::text(&e.outcome) },
    Column { name: "estimate", cell: |e| Cell::text(e.estimate_type) },
    Column { name: "value", cell: |e| num(e.estimate) },
    Column { name: "95% CI low", cell: |e| num(e.ci_low) },
    Column { name: "95% CI high", cell: |e| num(e.ci_high) },
];

/// The tests without randomisation inference.
const PRIMARY_TESTS: &[Column<EffectRow>] = &[
    Column { name: "p", cell: |e| num(e.p_value) },
    Column { name: "Holm p", cell: |e| num(e.p_holm) },
    Column { name: "wild p", cell: |e| num(e.wild_p_value) },
];

/// The tests with randomisation inference: the one the decisions rest on (the randomisation p
/// and Holm's over it) first, the cluster-robust and wild bootstrap p-values after it, marked
/// as being for comparison.
const PRIMARY_TESTS_RI: &[Column<EffectRow>] = &[
    Column { name: "randomisation p", cell: |e| num(e.ri_p_value) },
    Column { name: "Holm p", cell: |e| num(e.p_holm) },
    Column { name: "CR2 p*", cell: |e| num(e.p_value) },
    Column { name: "wild p*", cell: |e| num(e.wild_p_value) },
];

/// The primary rows only, as the terminal summary shows them.
pub fn primary_summary(r: &Published) -> Table {
    let primary: Vec<&EffectRow> = r.effects.iter().filter(|e| e.primary).collect();
    let tests = if has_randomisation(r) { PRIMARY_TESTS_RI } else { PRIMARY_TESTS };
    let columns: Vec<Column<EffectRow>> = PRIMARY_SUMMARY.iter().chain(tests).copied().collect();
    Table::of(&columns, primary)
}

/// Whether some primary row carries a randomisation p-value.
fn has_randomisation(r: &Published) -> bool {
    r.effects.iter().any(|e| e.primary && e.ri_p_value.is_some())
}

/// The line under [`primary_summary`] that says which p-values the decisions rest on (None
/// without randomisation inference).
pub fn primary_summary_note(r: &Published) -> Option<String> {
    has_randomisation(r).then(|| {
        "* for comparison only: with this few pilot sites the cluster-robust (CR2; Cox: robust) and wild bootstrap \
         tests reject a true null more often than their level (report.html, \"How often each test rejects\"); the \
         findings rest on the randomisation p and Holm's over it.\n"
            .to_string()
    })
}

/// `effects`: one row per estimate.
pub fn effects(r: &Published) -> Table {
    table_of(&r.effects)
}

/// `balance`: one row per covariate column.
pub fn balance(r: &Published) -> Table {
    table_of(&r.balance.balance)
}

/// `sample_flow`.
pub fn sample_flow(r: &Published) -> Table {
    table_of(&r.sample_flow)
}

/// `site_did`.
pub fn site_did(r: &Published) -> Table {
    table_of(&r.site_did)
}

/// The site-level rows a reader starts from (report.html): per metric, the staggered simple
/// ATT of all pilots, the fixed-effects coefficient beside it, then each SWP model's simple ATT.
const SITE_SUMMARY: &[Column<SiteDidRow>] = &[
    Column { name: "metric", cell: |d| Cell::text(&d.metric) },
    Column { name: "pilots", cell: |d| Cell::text(&d.pilots) },
    Column {
        name: "estimator",
        cell: |d| {
            Cell::text(match d.estimator.as_str() {
                "cs" => "Callaway-Sant'Anna ATT",
                _ => "two-way fixed effects",
            })
        },
    },
    Column { name: "estimate", cell: |d| num(d.estimate) },
    Column { name: "randomisation 95% CI low", cell: |d| num(d.ri_ci_low) },
    Column { name: "randomisation 95% CI high", cell: |d| num(d.ri_ci_high) },
    Column { name: "randomisation p", cell: |d| num(d.ri_p_value) },
    Column { name: "smallest possible p", cell: |d| num(d.ri_min_p) },
    Column { name: "site-years", cell: |d| Cell::number(d.n_site_years as f64) },
];

/// The site-level summary: each metric's simple ATT (all pilots), its fixed-effects row, and
/// each SWP model's simple ATT.
pub fn site_summary(r: &Published) -> Table {
    let rows = r.site_did.iter().filter(|d| d.kind == "simple" && (d.pilots == "all" || d.estimator == "cs"));
    Table::of(SITE_SUMMARY, rows)
}

/// `site_panel`: site x year values of the site-level metrics.
pub fn site_panel(r: &Published) -> Table {
    table_of(&r.site_panel)
}

/// `by_model`.
pub fn by_model(r: &Published) -> Table {
    table_of(&r.by_model)
}

/// `sensitivity`: E-values and Rosenbaum bounds of the primary outcomes.
pub fn sensitivity(r: &Published) -> Table {
    table_of(&r.sensitivity)
}

/// `missing_values`: values not recorded per covariate and arm.
pub fn missing_values(r: &Published) -> Table {
    table_of(&r.missing)
}

/// `specification_curve`: the share of specifications significant in each direction.
pub fn specification_summary(r: &Published) -> Option<Table> {
    r.specification_curve.as_ref().map(|c| c.summary.as_slice()).map(table_of)
}

/// `value_for_money`: per outcome, the incremental cost and events avoided per child-year with
/// their bootstrap intervals, the cost per event avoided, and the quadrant shares.
pub fn value_for_money(r: &Published) -> Option<Table> {
    r.value_for_money.as_ref().map(|v| v.icers.as_slice()).map(table_of)
}

/// `cost_components`: each component's pooled cost per child-year, pilot and control.
pub fn cost_components(r: &Published) -> Option<Table> {
    r.value_for_money.as_ref().map(|v| v.components.as_slice()).map(table_of)
}

/// `site_spending`: what sites spent per child-year by arm and year (costs table).
pub fn site_spending(r: &Published) -> Option<Table> {
    r.value_for_money.as_ref().filter(|v| !v.spending.is_empty()).map(|v| v.spending.as_slice()).map(table_of)
}

/// `cost_by_model`: each pilot's matched children against their matched controls.
pub fn cost_by_model(r: &Published) -> Option<Table> {
    r.value_for_money.as_ref().map(|v| v.by_model.as_slice()).map(table_of)
}

/// `outcome_payments`: each pilot's contract thresholds per year, met or not, and the payment
/// share they trigger.
pub fn outcome_payments(r: &Published) -> Option<Table> {
    r.value_for_money.as_ref().filter(|v| !v.payments.is_empty()).map(|v| v.payments.as_slice()).map(table_of)
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
    columns.push("assignments");
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
        cells.push(Cell::number(m.assignments as f64));
        t = t.row(cells);
    }
    Some(t)
}

/// `placebo`: the primary rows of the placebo in time.
pub fn placebo(r: &Published) -> Option<Table> {
    r.placebo.as_ref().map(|p| table_of(&p.effects))
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
        ("missing_values", missing_values(r)),
    ]
    .into_iter()
    .chain(placebo(r).map(|t| ("placebo", t)))
    .chain(specification_summary(r).map(|t| ("specification_summary", t)))
    .chain(power(r).map(|t| ("power_summary", t)))
    .chain(value_for_money(r).map(|t| ("value_for_money", t)))
    .chain(cost_components(r).map(|t| ("cost_components", t)))
    .chain(cost_by_model(r).map(|t| ("cost_by_model", t)))
    .chain(site_spending(r).map(|t| ("site_spending", t)))
    .chain(outcome_payments(r).map(|t| ("outcome_payments", t)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column the table for people picks is a column of `balance.json`.
    #[test]
    fn the_balance_for_people_is_a_selection_of_the_balance_columns() {
        for name in BALANCE_FOR_PEOPLE {
            assert!(BalanceRow::COLUMNS.iter().any(|c| c.name == name), "{name}");
        }
        let text = balance_readable(&Balance::default(), Format::Csv);
        assert_eq!(text.lines().next().unwrap().split(',').count(), BALANCE_FOR_PEOPLE.len() + 1);
    }
}
