//! `report.html`: the evaluation as one self-contained page (figures inline as SVG, CSS inline,
//! no script, no font or file fetched), readable on screen and on A4 paper, and the words of the
//! summary shared with the notebook.

use crate::charts::Figure;
use crate::evaluation as tables;
use crate::table::{Cell, Format, Table};
use swp_evaluation::results::{EffectRow, PowerResult, SpecificationCurve};
use swp_evaluation::vocab::{Estimand, Outcome};
use swp_evaluation::Published;
use swp_stats::bootstrap::BootWeights;
use swp_stats::multiplicity::Adjustment;

/// What the report says about how it was made (the CLI gathers it).
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// swp-eval version.
    pub version: String,
    /// The config as run (TOML or JSON text).
    pub config: String,
    /// Seed of every random step.
    pub seed: u64,
    /// Input files and their SHA-256.
    pub inputs: Vec<(String, String)>,
    /// Suppression threshold (None: suppression off).
    pub threshold: Option<u32>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

use crate::charts::fmt as num;
use crate::charts::pounds as money;

/// Whom the effects are about: every pilot child (ATT), or those matching kept (ATM), with how
/// many it dropped.
fn estimand_text(results: &Published) -> String {
    let n = &results.balance.n;
    match results.effects.first().map(|e| e.estimand) {
        Some(Estimand::Atm | Estimand::ConditionalAtm) => {
            let dropped = match (n.treated, n.matched_treated) {
                // a small number is not printed (the rule of docs/metrics.md "Small numbers")
                (Some(t), Some(m)) if t - m < u64::from(results.threshold()) => {
                    format!("fewer than {} of {t} pilot children", results.threshold())
                }
                (Some(t), Some(m)) => format!("{} of {t} pilot children", t - m),
                _ => "a small number of pilot children (suppressed)".to_string(),
            };
            format!(
                "Effects are for the matched pilot children (ATM, the average effect in the matched treated): matching dropped {dropped} for whom no control was close enough, so the estimate is not quite the effect on every pilot child (ATT); the balance table shows who remained."
            )
        }
        _ => format!(
            "Effects are for pilot children (ATT) in the {} sample.",
            if results.balance.weighted() { "weighted" } else { "matched" }
        ),
    }
}

/// How the effect rows use the covariates, in words (docs/evaluation.md "Estimation after
/// matching").
fn adjustment_text(d: &swp_evaluation::results::Design, comparison: &str) -> String {
    if !d.adjust {
        let sample = if comparison == "weighting" { "weighted" } else { "matched" };
        return format!("<li>Estimation: the effect models hold the treatment (and the stacks) only: the {sample} comparison, not adjusted for the covariates after {comparison}.</li>\n");
    }
    let form = if d.interactions {
        "the baseline covariates centred at the pilot children's means and their interactions with treatment (Lin 2013), so that a linear model's treatment coefficient is the effect at the pilot children's covariates"
    } else {
        "the baseline covariates centred at the pilot children's means (main effects only)"
    };
    format!(
        "<li>Estimation after {comparison} (Ho, Imai, King and Stuart 2007): every effect model adds {form}. Rate and risk ratios are marginal, by g-computation (the pilot children's mean predicted rate or risk with and without the pilot, their ratio), with a delta-method CR2 error on the degrees of freedom of the outcome's linear row; hazard ratios come from a Cox model with the covariates, so they are conditional on them (estimand \"conditional ATT\"). Each row's degrees of freedom are in the effects table: every column an adjusted model adds costs some, and with few sites the intervals rest on them.</li>\n"
    )
}

/// The wild bootstrap's weights as the methods text names them.
fn boot_weights_name(w: BootWeights) -> &'static str {
    match w {
        BootWeights::Webb => "Webb",
        BootWeights::Rademacher => "Rademacher",
    }
}

/// The multiplicity adjustment of the design, in words.
fn multiplicity_text(a: Adjustment, rows: usize) -> String {
    let Some(name) = adjustment_name(a) else { return "no adjustment for multiple comparisons".into() };
    let controls = match a {
        Adjustment::BenjaminiHochberg | Adjustment::BenjaminiYekutieli => " (false discovery rate)",
        _ => "",
    };
    let method = format!("{name}{controls}");
    const WORDS: [&str; 11] = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
    let n = WORDS.get(rows).map_or_else(|| rows.to_string(), |w| w.to_string());
    let estimates = if rows == 1 { "estimate" } else { "estimates" };
    format!("{method} across the {n} primary {estimates}")
}

/// The randomisation inference of the primary rows in words (empty without it).
fn randomisation_text(results: &Published) -> String {
    let Some(r) = results.effects.iter().find(|e| e.primary && e.ri_p_value.is_some()) else { return String::new() };
    let d = &results.design;
    let sites = d.treated_sites.len() + d.control_sites.len();
    format!(
        "<li>Randomisation inference on every primary estimate: the pilot label (with the pilots' go-live dates) given to {} of the {sites} sites in every way the design allows ({} assignments{}), the cohort, matching and estimate recomputed each time; the randomisation p-value is the share of assignments whose t statistic is at least as far from zero as the observed one (the smallest possible is {}). With {} pilot sites cluster-robust tests are unreliable, so the words of this report and the multiple-comparison adjustment follow the randomisation p-values.</li>\n",
        d.treated_sites.len(),
        r.ri_assignments.unwrap_or(0),
        if r.ri_exact == Some(true) { ", all enumerated" } else { ", drawn with the seed" },
        p_text(r.ri_min_p),
        d.treated_sites.len()
    )
}

fn p_text(p: Option<f64>) -> String {
    crate::format::p_value(p, crate::format::PStyle::Prose)
}

/// One sentence about a primary estimate, in plain words. Its wording follows the p-value
/// adjusted for multiplicity (`adjustment`, the design's) where the row has one: an interval
/// that excludes no effect is not called a difference when the adjusted p is 0.05 or more.
pub fn finding(r: &EffectRow, adjustment: Adjustment) -> String {
    let what = match r.outcome.as_str() {
        "sw_changes" => "Changes of social worker",
        "placement_moves" => "Placement moves",
        "three_plus_placements" => "Three or more placements in the window",
        "time_to_sw_change" => "Time to the first change of social worker",
        "time_to_placement_move" => "Time to the first placement move",
        other => other,
    };
    let name = r.estimate_type.as_str().replace('_', " ");
    let (Some(est), Some(lo), Some(hi)) = (r.estimate, r.ci_low, r.ci_high) else {
        return format!("{what}: not estimable or suppressed (small numbers).");
    };
    let ratio = r.estimate_type.is_ratio();
    let null = if ratio { 1.0 } else { 0.0 };
    let method = adjustment_name(adjustment);
    let side = if lo > null {
        Some("higher")
    } else if hi < null {
        Some("lower")
    } else {
        None
    };
    let direction = match (side, r.p_holm, method) {
        (Some(side), _, _) if r.ri_p_value.is_some_and(|p| p >= 0.05) => format!(
            "{side} among pilot children by the cluster-robust interval, but not by randomisation inference over which sites are pilots: no clear difference"
        ),
        (Some(side), Some(p), Some(method)) if p >= 0.05 => format!(
            "{side} among pilot children at the 5% level, but not once the primary comparisons are adjusted for ({method}): no clear difference"
        ),
        (Some(side), _, _) => format!("{side} among pilot children than among matched controls"),
        (None, _, _) => {
            "no clear difference between pilot children and matched controls (the interval includes no difference)"
                .to_string()
        }
    };
    let adjusted = match (r.p_holm, method) {
        (Some(p), Some(method)) => format!(", {method}-adjusted p {}", p_text(Some(p))),
        _ => String::new(),
    };
    // with randomisation inference the finding gives its p-value alone: the cluster-robust and
    // wild bootstrap p-values reject too often with this few sites (docs/benchmarks.md), so
    // they stay in the effects table, not in a sentence that reads as a decision
    let tests = match r.ri_p_value {
        Some(ri) => format!("randomisation p {}", p_text(Some(ri))),
        None => {
            let wild = r.wild_p_value.map_or(String::new(), |p| format!(", wild bootstrap p {}", p_text(Some(p))));
            format!("p {}{wild}", p_text(r.p_value))
        }
    };
    format!("{what}: {name} {} (95% CI {} to {}), {tests}{adjusted} — {direction}.", num(est), num(lo), num(hi))
}

/// The name of a multiplicity adjustment in prose (None: no adjustment).
fn adjustment_name(a: Adjustment) -> Option<&'static str> {
    match a {
        Adjustment::None => None,
        Adjustment::Holm => Some("Holm"),
        Adjustment::Hochberg => Some("Hochberg"),
        Adjustment::BenjaminiHochberg => Some("Benjamini-Hochberg"),
        Adjustment::BenjaminiYekutieli => Some("Benjamini-Yekutieli"),
    }
}

/// The first letter upper case.
fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().collect::<String>() + c.as_str())
}

/// One sentence per outcome: the median estimate and the shares significant each way.
fn specification_lines(curve: &SpecificationCurve) -> String {
    let pct = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.0}%", 100.0 * v));
    curve
        .summary
        .iter()
        .map(|s| {
            format!(
                "<li>{}: {} of {} specifications estimated; median {} {}; significant with fewer events among pilot children in {}, with more in {}.</li>\n",
                esc(s.outcome.label()),
                s.estimated,
                s.specifications,
                esc(&s.estimate_type.as_str().replace('_', " ")),
                s.median_estimate.map_or("-".into(), num),
                pct(s.share_significant_lower),
                pct(s.share_significant_higher)
            )
        })
        .collect()
}

/// One sentence per outcome: the minimum detectable effect with the evaluated number of pilot
/// sites and with the most simulated.
fn power_lines(power: &PowerResult) -> String {
    let most = power.minimum_detectable.iter().map(|m| m.pilot_sites).max().unwrap_or(0);
    let mde = |outcome: Outcome, k: usize| {
        power.minimum_detectable.iter().find(|m| m.outcome == outcome && m.pilot_sites == k).map_or(
            "not simulated".to_string(),
            |m| {
                m.ratio.map_or("beyond the simulated ratios".to_string(), |r| {
                    format!("a {} of {}", m.effect_type.as_str().replace('_', " "), num(r))
                })
            },
        )
    };
    let mut outcomes: Vec<Outcome> = Vec::new();
    for m in &power.minimum_detectable {
        if !outcomes.contains(&m.outcome) {
            outcomes.push(m.outcome);
        }
    }
    outcomes
        .iter()
        .map(|&o| {
            let more = if most != power.observed_pilot_sites {
                format!("; with {most} pilot sites, {}", mde(o, most))
            } else {
                String::new()
            };
            format!(
                "<li>{}: with {} pilot sites, the smallest effect detected with {:.0}% power is {}{}.</li>\n",
                esc(&capitalise(o.label())),
                power.observed_pilot_sites,
                100.0 * power.target,
                esc(&mde(o, power.observed_pilot_sites)),
                esc(&more)
            )
        })
        .collect()
}

/// The caveats every reader should see.
pub fn caveats(results: &Published) -> Vec<String> {
    let mut out = Vec::new();
    let d = &results.design;
    out.push(format!(
        "Few clusters: {} pilot site(s). Standard errors are clustered on site (CR2 with Bell-McCaffrey degrees of freedom) and checked with the wild cluster bootstrap, but with this few sites cluster-robust tests reject too often, so every primary estimate and the site-level results are also tested by randomisation inference over which sites are pilots, and the report's words follow it.",
        d.treated_sites.len()
    ));
    if d.synthetic {
        out.push(
            "These are synthetic data generated by swp-eval with known effects: no real children are described.".into(),
        );
    }
    out.push("Matching balances the measured baseline covariates only; a difference in something unmeasured could explain an effect.".into());
    // the few-clusters warning is said above, with what it means
    for w in results.warnings.iter().filter(|w| !w.starts_with("few clusters")) {
        // covariate columns named for people here (run.json keeps the machine names)
        let imbalanced = ["after matching |SMD| > 0.1 for ", "after weighting |SMD| > 0.1 for "]
            .into_iter()
            .find_map(|prefix| w.strip_prefix(prefix).map(|list| (prefix, list)));
        let w = match imbalanced {
            Some((prefix, list)) => {
                let names: Vec<String> = list.split(", ").map(crate::labels::covariate).collect();
                format!("{prefix}{}", names.join(", "))
            }
            None => w.clone(),
        };
        let mut chars = w.chars();
        out.push(chars.next().map_or(String::new(), |c| c.to_uppercase().chain(chars).collect()));
    }
    out
}

fn figure_html(f: &Figure, caption: &str) -> String {
    let svg = f.svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(&f.alt)), 1);
    format!("<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n", esc(caption))
}

/// "Missing values": what is not recorded, per covariate and arm, and how the models treat it.
fn missing_section(results: &Published) -> String {
    let any = results.missing.iter().any(|m| m.missing != Some(0));
    let mut h = String::from("<h3>Missing values</h3>\n<p>");
    h += if any {
        "Some covariates are not recorded for some children (below). A missing value is a level of its own, never a guessed value: a missing sex, ethnic group, legal status or placement code is the level 'not recorded' of that covariate, and a missing CIN code sets the indicator 'Need: not recorded' beside the abuse-or-neglect indicator, so the propensity model and the balance table compare children with nothing recorded among themselves. "
    } else {
        "Every covariate is recorded for every child of the cohort (below); had any been missing it would have been a level of its own ('not recorded'), never a guessed value. "
    };
    h += "A child without a date of birth cannot have an age on the index date and is not eligible (the sample flow counts them).</p>\n";
    let mut table = crate::evaluation::missing_values(results);
    for row in &mut table.rows {
        if let Some(Cell::Text(name)) = row.first_mut() {
            *name = crate::labels::covariate(name);
        }
    }
    h += &table_html(
        &table,
        "Values not recorded, per covariate and arm: cohort and matched sample (missing_values.json)",
    );
    h
}

/// The "Value for money" section.
fn value_section<'a>(
    results: &Published,
    v: &swp_evaluation::results::ValueForMoney,
    fig: &dyn Fn(&str) -> Option<&'a crate::charts::Figure>,
) -> String {
    let mut h = String::from("<section>\n<h2>Value for money</h2>\n");
    let u = &v.unit_costs;
    let running = v.components.iter().any(|c| c.component == "site_running");
    h += &format!(
        "<p>{} over the follow-up window is costed bottom up: placement days at a weekly cost by placement group and provider, social-worker time with the child (contact minutes at {} an hour, times {} for the time around each contact), and {} per change of social worker (the handover). Prices of {}.{}</p>\n",
        if running { "Each matched child's placements (and, for comparison, its social-worker time and handovers)" } else { "Each matched child's care" },
        money(u.social_worker_hourly),
        u.overhead_multiplier,
        money(u.cost_per_sw_change),
        esc(&u.price_year),
        if u.illustrative { " <strong>The unit costs are partly illustrative</strong> (sources below): read the differences between arms, not the levels." } else { "" }
    );
    if running {
        h += "<p>What running the pilots cost is taken from what each site spent (the costs table): every matched child carries its site's spending on everything but placements (staff, agency staff, overheads, the contract, payment on outcomes, other) per child-year over the financial years of the child's own follow-up window. That spending holds the social workers' time and handovers, so those two bottom-up components are shown but not added to the total (in_total = no): the incremental cost is placements plus what the sites spent to run the service.</p>\n";
    }
    if let Some(row) = results.effects.iter().find(|e| e.outcome == Outcome::CostPerChildYear) {
        if let (Some(est), Some(lo), Some(hi)) = (row.estimate, row.ci_low, row.ci_high) {
            h += &format!(
                "<p>Cost per child-year looked after: pilots {} against {} for their matched controls, a difference of {} (95% CI {} to {}; CR2 p {}, wild bootstrap p {}).</p>\n",
                row.mean_treated.map_or("-".into(), money),
                row.mean_control.map_or("-".into(), money),
                money(est),
                money(lo),
                money(hi),
                row.p_value.map_or("-".into(), |p| format!("{p:.3}")),
                row.wild_p_value.map_or("-".into(), |p| format!("{p:.3}"))
            );
        }
    }
    let mut lines = String::new();
    for i in &v.icers {
        let what = if i.outcome == "placement_moves" { "placement move" } else { "social-worker change" };
        let icer = match (i.icer, i.icer_ci) {
            // "dominant" only when both intervals say so: fewer events and a saving
            (Some(x), _) if x < 0.0 && i.delta_cost_ci[1] < 0.0 && i.events_avoided_ci[0] > 0.0 => format!(
                "the pilots avoid {what}s and save {} per child-year (95% interval of the saving {} to {}): dominant",
                money(-i.delta_cost),
                money(-i.delta_cost_ci[1]),
                money(-i.delta_cost_ci[0])
            ),
            (Some(x), _) if x < 0.0 => format!(
                "on the estimate the pilots avoid {what}s and save {} per child-year, but the intervals do not rule out {} (incremental cost 95% interval {} to {}), so they are not shown to dominate",
                money(-i.delta_cost),
                if i.delta_cost_ci[1] >= 0.0 { "costing more" } else { "avoiding none" },
                money(i.delta_cost_ci[0]),
                money(i.delta_cost_ci[1])
            ),
            (Some(x), Some(ci)) => {
                format!("{} per {what} avoided (95% interval {} to {})", money(x), money(ci[0]), money(ci[1]))
            }
            (Some(x), None) => {
                format!("{} per {what} avoided (no interval: some replicates avoid no {what}s)", money(x))
            }
            (None, _) => format!("no {what} avoided on the estimate, so no cost per {what} avoided"),
        };
        lines += &format!(
            "<li>{}: {} fewer per child-year (95% interval {:.3} to {:.3}); {}. Of the bootstrap replicates, {} avoid {what}s at a saving, {} at a cost, {} avoid none.</li>\n",
            if i.outcome == "placement_moves" { "Placement moves" } else { "Social-worker changes" },
            format_args!("{:.3}", i.events_avoided),
            i.events_avoided_ci[0],
            i.events_avoided_ci[1],
            icer,
            share(i.quadrants.effective_cheaper),
            share(i.quadrants.effective_dearer),
            share(i.quadrants.less_effective_cheaper + i.quadrants.less_effective_dearer)
        );
    }
    h += &format!("<ul>\n{lines}</ul>\n");
    for w in &v.warnings {
        h += &format!("<p><strong>{}</strong></p>\n", esc(&capitalise(w)));
    }
    if let Some(t) = tables::value_for_money(results) {
        h += &table_html(
            &t,
            "Incremental cost-effectiveness per child-year, bootstrap over sites within arm (value_for_money.json)",
        );
    }
    if let Some(t) = tables::cost_components(results) {
        h += &table_html(&t, "Cost per child-year by component, matched sample");
    }
    for name in ["ce_plane", "ceac"] {
        if let Some(f) = fig(name) {
            h += &figure_html(f, &f.alt);
        }
    }
    if let Some(t) = tables::cost_by_model(results) {
        h += "<h3>By SWP model</h3>\n<p>Each pilot's matched children against their own matched controls, and what the practice spent per child-year over the follow-up years (costs table): one site per model, so descriptive only.</p>\n";
        h += &table_html(&t, "Cost per child-year by SWP model");
    }
    if let Some(t) = tables::site_spending(results) {
        h += "<h3>What sites spent</h3>\n";
        h += &table_html(
            &t,
            "Site spending per child-year looked after, by arm and financial year (the metric cost_per_child_year of docs/metrics.md)",
        );
        if let Some(f) = fig("cost_trends") {
            h += &figure_html(f, &f.alt);
        }
    }
    if let Some(t) = tables::outcome_payments(results) {
        h += "<h3>Payment on outcomes</h3>\n<p>The contract thresholds the config names, per pilot and financial year from go-live, and the share of the outcome payment each would have triggered.</p>\n";
        h += &table_html(&t, "Payment-on-outcomes thresholds met");
    }
    h += "<p>Sources of the unit costs:</p>\n<ul>\n";
    for s in &u.sources {
        h += &format!("<li>{}</li>\n", esc(s));
    }
    h += "</ul>\n</section>\n";
    h
}

fn table_html(t: &Table, caption: &str) -> String {
    let body = t.render(Format::Html).replacen("<table>", &format!("<table>\n<caption>{}</caption>", esc(caption)), 1);
    format!("<div class=\"table\">{body}</div>\n")
}

/// What each printed test does when there is no effect, measured by simulation at this
/// project's design (docs/benchmarks.md; `benches/scripts/size.sh` and `site_did.sh`). The
/// numbers describe the methods at the bundled design, not the data of a given run.
const SIZE_OF_THE_TESTS: &str = "<h3>How often each test rejects when there is no effect, and what the intervals cover</h3>\n<p>Measured on synthetic datasets at this project's design (not on these data; docs/benchmarks.md): with no effect planted, a test at the 5% level should reject about 5% of the time; with one, a 95% interval should cover it about 95% of the time.</p>\n<ul>\n<li>Child level, the bundled design (5 pilot and 6 comparison sites; 200 datasets with no effect planted, run with this report's default settings: stacks, covariate-adjusted models, all 462 randomisation assignments and the placebo in time): the cluster-robust tests (CR2; robust Cox) reject 4.5% to 16.5% of the time (the Cox model of time to a social-worker change 16.5%) and the wild cluster bootstrap 7.5% to 11%, so they are not printed as decisions. The randomisation test rejects 3.5% to 7.5% (Monte Carlo SE about 1.5 points; the synthetic pilot sites are not a random draw of the sites, so its exactness is approximate), and Holm over the randomisation p-values flags some primary effect in 9 of 200 datasets (4.5%). The placebo flag is raised in 4 of 200.</li>\n<li>Child level, pilot scale (5 pilot and 15 comparison sites, 50 datasets with the default effects): the planted effects make the pilot children's rates of social-worker changes and placement moves 0.635 and 0.818 times what they would be without (counted over 60 datasets with and without the effects); this report's default estimate has medians 0.631 and 0.818, and its CR2 95% intervals cover those ratios in 96% and 94% of datasets.</li>\n<li>Site level, pilot scale (5 pilot and 15 comparison sites, 50 datasets): the normal test from the influence function rejects 14% to 18% of the time and its 95% interval covers the planted effect in 80% to 82% of datasets with one; the randomisation test rejects 6% to 8%, and its interval covers the planted effect in 47 of 50. So the report reads the randomisation p-values and intervals.</li>\n</ul>\n";

/// "= 0.123" or "< 0.001": a p-value after "p" in a sentence.
fn p_clause(p: f64) -> String {
    let text = crate::format::p_value(Some(p), crate::format::PStyle::Prose);
    if text.starts_with('<') {
        text
    } else {
        format!("= {text}")
    }
}

/// The site metrics whose event studies the report shows, in docs/evaluation.md's order.
const SITE_METRICS_SHOWN: [&str; 4] = swp_evaluation::config::SITE_METRICS;

const CSS: &str = "body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;max-width:1180px;margin:0 auto;padding:0 24px 48px;color:#222;line-height:1.5}
h1{font-size:1.9em;margin-bottom:0.2em}h2{border-bottom:2px solid #0072B2;padding-bottom:4px;margin-top:2em}
.synthetic{background:#F0E442;padding:8px 12px;border-radius:4px;font-weight:bold}
figure{margin:1.5em 0;break-inside:avoid}figure svg{max-width:100%;height:auto;display:block}
figcaption{color:#555;font-size:0.9em;margin-top:4px}
.table{overflow-x:auto;margin:1em 0}table{border-collapse:collapse;font-size:0.85em}
caption{text-align:left;font-weight:bold;padding:4px 0}
th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
pre{background:#f6f6f6;padding:10px;overflow-x:auto;font-size:0.8em}
@page{size:A4;margin:14mm}@media print{body{max-width:none;padding:0;font-size:10pt}h2{break-after:avoid}.table{overflow:visible}table{font-size:7pt}}";

/// A share as a percentage: whole percents, but one decimal below 1% so that a few replicates
/// do not read as none.
fn share(x: f64) -> String {
    let p = 100.0 * x;
    if p > 0.0 && p < 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// The placebo in time in one sentence: no placebo effect, or which outcomes show one.
fn placebo_summary(results: &Published) -> Option<String> {
    let p = results.placebo.as_ref()?;
    let moved = format!("with every index date moved back {} months", p.shift_months);
    Some(if p.significant.is_empty() {
        format!("Placebo in time ({moved}): no placebo effect significant at 5% (adjusted across the placebo estimates), so no sign of differences between the arms that predate the pilots.")
    } else {
        let names: Vec<String> = p.significant.iter().map(|o| o.label().to_string()).collect();
        format!(
            "Placebo in time ({moved}): a placebo effect significant at 5% (adjusted across the placebo estimates) for {}: the arms differed on it before the pilots, so its estimate above may partly reflect that difference.",
            names.join(", ")
        )
    })
}

/// The design's index dates and windows in words: one line with one index date, else the
/// stacked design explained and a line per stack.
fn design_dates_html(d: &swp_evaluation::results::Design) -> String {
    if d.stacks.len() <= 1 {
        let rule = match d.index.as_str() {
            "earliest" => " (the earliest pilot go-live)",
            "latest" => " (the latest pilot go-live)",
            _ => "",
        };
        return format!(
            "<li>Index date {}{rule}; baseline window {} to {}; follow-up {} to {} (planned to {}; extract date {}).</li>\n",
            esc(&d.index_date),
            esc(&d.baseline_from),
            esc(&d.baseline_to),
            esc(&d.follow_up_from),
            esc(&d.follow_up_to),
            esc(&d.follow_up_planned_to),
            esc(&d.extract_date)
        );
    }
    let mut h = format!(
        "<li>A stacked design for staggered go-lives: the pilots went live on different dates, so each pilot is a stack of its own, indexed on its go-live. A stack holds that pilot's children eligible on that day and the control sites' children eligible on the same day, each with baseline and follow-up windows from that day; matching runs within each stack, a control child can be in several stacks, and the effect models give every stack its own baseline (stack indicators; Cox models stratified by stack) while standard errors stay clustered on site. Extract date {}.<ul>\n",
        esc(&d.extract_date)
    );
    for s in &d.stacks {
        h += &format!(
            "<li>Stack {}: index date {}; baseline {} to {}; follow-up {} to {}.</li>\n",
            esc(s.stack.as_deref().unwrap_or("all")),
            esc(&s.index_date),
            esc(&s.baseline_from),
            esc(&s.baseline_to),
            esc(&s.follow_up_from),
            esc(&s.follow_up_to)
        );
    }
    h + "</ul></li>\n"
}

/// The whole report as one HTML document.
pub fn report_html(results: &Published, figures: &[Figure], provenance: &Provenance) -> String {
    let d = &results.design;
    let fig = |name: &str| figures.iter().find(|f| f.name == name);
    let mut h = String::new();
    h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    h += "<title>Evaluation of the Social Work Practice pilots</title>\n";
    h += &format!("<style>\n{CSS}\n</style>\n</head>\n<body>\n");
    h += "<header>\n<h1>Evaluation of the Social Work Practice pilots</h1>\n";
    h += &format!(
        "<p>{} — pilot sites {} against {} sites; {}.</p>\n",
        esc(d.dataset_name.as_deref().unwrap_or("dataset")),
        esc(&d.treated_sites.join(", ")),
        esc(&d.controls),
        if d.stacks.len() > 1 {
            "each pilot indexed on its own go-live".to_string()
        } else {
            format!("index date {}", esc(&d.index_date))
        }
    );
    if d.synthetic {
        h += "<p class=\"synthetic\">Synthetic data: generated with known effects, no real children.</p>\n";
    }
    h += "</header>\n<main>\n";

    h += "<section>\n<h2>Summary of findings</h2>\n<ul>\n";
    for r in results.effects.iter().filter(|r| r.primary) {
        h += &format!("<li>{}</li>\n", esc(&finding(r, results.design.multiplicity)));
    }
    if let Some(line) = placebo_summary(results) {
        h += &format!("<li>{}</li>\n", esc(&line));
    }
    h += "</ul>\n";
    let sample = match (results.balance.ess_treated, results.balance.ess_control) {
        (Some(t), Some(c)) => format!(
            "Weighted {} pilot children and {} controls (effective sample sizes {:.0} and {:.0})",
            results.balance.n.matched_treated.map_or("c".into(), |n| n.to_string()),
            results.balance.n.matched_control.map_or("c".into(), |n| n.to_string()),
            t,
            c
        ),
        _ => format!(
            "Matched {} pilot children to {} controls",
            results.balance.n.matched_treated.map_or("c".into(), |n| n.to_string()),
            results.balance.n.matched_control.map_or("c".into(), |n| n.to_string())
        ),
    };
    h += &format!(
        "<p>{sample}{}. Ratios below 1 and differences below 0 mean fewer events among pilot children.</p>\n</section>\n",
        if d.adjust {
            format!(
                "; the estimates are adjusted for the baseline covariates after {} (see Design)",
                crate::charts::matching::comparison(&results.balance)
            )
        } else {
            String::new()
        }
    );

    h += "<section>\n<h2>Design</h2>\n<ul>\n";
    h += &format!(
        "<li>Compared: children looked after by the pilot practices ({}) with children at {} sites ({}).</li>\n",
        esc(&d.treated_sites.join(", ")),
        esc(&d.controls),
        esc(&d.control_sites.join(", "))
    );
    h += &design_dates_html(d);
    h += &format!(
        "<li>{}: {}. Baseline covariates: {}.</li>\n",
        if results.balance.weighted() { "Weighting in place of matching" } else { "Matching" },
        esc(&d.matching),
        esc(&d.covariates.join(", "))
    );
    h += &format!(
        "<li>{} Standard errors CR2 clustered on site with Bell-McCaffrey degrees of freedom; hazard ratios with a cluster-robust error; wild cluster bootstrap ({} replications, {} weights, seed {}); {}.</li>\n",
        estimand_text(results),
        d.bootstrap_reps,
        boot_weights_name(d.bootstrap_weights),
        d.seed,
        multiplicity_text(d.multiplicity, d.primary_rows)
    );
    h += &adjustment_text(d, crate::charts::matching::comparison(&results.balance));
    h += &randomisation_text(results);
    h += "<li>Site level: each workforce and caseload metric by site and financial year, within each table's coverage; Callaway and Sant'Anna's (2021) staggered difference-in-differences (a pilot's group is its first financial year that starts on or after go-live; comparison: never-treated sites unless the config says not-yet-treated; varying base period; unconditional outcome regression; influence-function standard errors clustered on site), aggregated as R's did::aggte, with a joint pre-trend test and randomisation inference on the simple ATT; the two-way fixed-effects model beside it for comparison.</li>\n";
    h += "</ul>\n</section>\n";

    h += "<section>\n<h2>Sample flow</h2>\n";
    if let Some(f) = fig("sample_flow") {
        h += &figure_html(
            f,
            "Children removed by each eligibility rule, by arm, and the matched cohort. c: suppressed small number.",
        );
    }
    h += &table_html(&tables::sample_flow(results), "Sample flow");
    h += "</section>\n";

    h += "<section>\n<h2>Balance</h2>\n";
    if let Some(f) = fig("love_plot") {
        h += &figure_html(
            f,
            &format!(
                "Absolute standardised mean differences before and after {}; 0.1 is the usual threshold.",
                crate::charts::matching::comparison(&results.balance)
            ),
        );
    }
    let mut balance = tables::balance(results);
    // names for people here; the JSON, CSV and Parquet tables keep the machine names
    for row in &mut balance.rows {
        if let Some(Cell::Text(name)) = row.first_mut() {
            *name = crate::labels::covariate(name);
        }
    }
    let title = match (results.balance.ess_treated, results.balance.ess_control) {
        (Some(t), Some(c)) => format!(
            "Balance before and after weighting (weighted means, SMD, variance ratios, eCDF; effective sample sizes: pilot {t:.1}, controls {c:.1})"
        ),
        _ => "Balance before and after matching (MatchIt summary)".to_string(),
    };
    h += &table_html(&balance, &title);
    h += &missing_section(results);
    h += "</section>\n";

    h += "<section>\n<h2>Effects</h2>\n";
    if let Some(f) = fig("forest_plot") {
        h += &figure_html(f, "Every estimate with its 95% interval; primary estimates in vermillion.");
    }
    for s in &results.survival {
        if let Some(f) = fig(&format!("km_{}", s.outcome)) {
            h += &figure_html(
                f,
                &format!("Kaplan-Meier curves of {} by arm, 95% bands, numbers at risk.", s.outcome.label()),
            );
        }
    }
    let mut effects = Table::new(vec![
        "outcome",
        "estimate",
        "value",
        "95% CI",
        "randomisation p",
        "Holm p",
        "CR2 p",
        "wild p",
        "SE method",
        "df",
        "treated",
        "controls",
        "sites",
    ]);
    for r in &results.effects {
        use crate::table::Cell;
        let ci = match (r.ci_low, r.ci_high) {
            (Some(a), Some(b)) => format!("{} to {}", num(a), num(b)),
            _ => String::new(),
        };
        let count = |x: Option<u64>| x.map_or(Cell::Suppressed, |v| Cell::number(v as f64));
        effects = effects.row(vec![
            Cell::text(r.outcome.label()),
            Cell::text(r.estimate_type.label()),
            Cell::Number(r.estimate),
            Cell::text(ci),
            Cell::Number(r.ri_p_value),
            Cell::Number(r.p_holm),
            Cell::Number(r.p_value),
            Cell::Number(r.wild_p_value),
            Cell::text(r.se_method),
            Cell::text(r.df.map_or(String::new(), |df| format!("{df:.1}"))),
            count(r.n_treated),
            count(r.n_control),
            Cell::number(r.n_clusters as f64),
        ]);
    }
    h += &table_html(
        &effects,
        "Effect estimates (effects.csv has every column, including the subclass-clustered secondary column)",
    );
    if results.effects.iter().any(|r| r.ri_p_value.is_some()) {
        h += "<p>Read the randomisation p-value and its Holm adjustment. The CR2 (Cox: robust) and wild bootstrap p-values are given for comparison only: with this few pilot sites they reject a true null more often than their level (see \"How often each test rejects\" below).</p>\n";
    }
    h += "</section>\n";

    h += "<section>\n<h2>Site-level results</h2>\n";
    for (name, caption) in [
        (
            "trends",
            "Mean caseload and rolling 12-month turnover per site by month; dashed lines mark each pilot's go-live.",
        ),
        ("caseload_distribution", "Caseloads of case-holding workers at the end of the follow-up window, by arm."),
        ("placement_moves", "Placement moves and social-worker changes per child-year by arm and financial year."),
    ] {
        if let Some(f) = fig(name) {
            h += &figure_html(f, caption);
        }
    }
    h += "<h3>Which estimate to read</h3>\n<p>The pilots went live in different years, so each site metric is estimated by Callaway and Sant'Anna's staggered difference-in-differences: each pilot's change from its last year wholly before go-live is compared with the comparison sites' change over the same years, one group-time effect at a time, and these are pooled by group size (the simple ATT, the first row of each metric below). A pilot's go-live year is partly under the pilot, so it enters no pooled estimate; it is drawn at e = -1 in the event studies. Read the simple ATT with its randomisation p-value and interval: with this few pilot sites the influence-function interval (in tables/site_did.*) covers too rarely, and the randomisation test (the pilots' go-live years given to every set of as many sites) is the one whose size is controlled; its interval holds every effect the test does not reject once that effect is taken out of the pilots' values. The two-way fixed-effects coefficient (v1.1's model) is shown beside it for comparison only: with staggered go-lives it compares later pilots with earlier ones and can be biased when effects change over time (Goodman-Bacon 2021). A row for one SWP model has one treated site, so it has the estimate and its randomisation p-value only; that p cannot go below the smallest possible p (one over the number of sites that could have been the pilot). Every group-time effect, aggregate (by event time, group and year) and the pre-trend test are in tables/site_did.*.</p>\n";
    h += &table_html(
        &tables::site_summary(results),
        "Site-level effects of the pilots: Callaway-Sant'Anna simple ATT with its randomisation interval and p (all pilots and each SWP model), and the fixed-effects coefficient for comparison",
    );
    for metric in SITE_METRICS_SHOWN {
        if let Some(f) = fig(&format!("event_study_{metric}")) {
            let pretrend = results
                .site_did
                .iter()
                .find(|d| d.metric == metric && d.pilots == "all" && d.kind == "pretrend")
                .and_then(|d| Some((d.estimate?, d.df?, d.p_value?)));
            let test = match pretrend {
                Some((w, df, p)) => format!(
                    "The joint test that every pre-go-live effect is zero: chi-square {} on {df:.0} df, p {}{}.",
                    num(w),
                    p_clause(p),
                    if p < 0.05 {
                        ": the sites were already diverging before go-live, so read the effects after it with care"
                    } else {
                        ""
                    }
                ),
                None => "No pre-go-live year can be tested.".to_string(),
            };
            h += &figure_html(
                f,
                &format!(
                    "Event study of {}: effect by years since the pilot's first full year (e = 0), pre-go-live years in blue, the partly treated go-live year in purple, the dashed line at the last year wholly before go-live, 95% pointwise intervals. {test}",
                    metric.replace('_', " ")
                ),
            );
        }
    }
    h += "</section>\n";

    h += "<section>\n<h2>Results by SWP model</h2>\n<p>Each pilot's matched children against the controls matched to them (with stacks: the pilot's own stack), with the pilot's own estimate of each primary outcome. One pilot site per model is one treated cluster, for which a cluster-robust standard error, interval or p-value is not valid, so each estimate has a randomisation p-value only: the pilot's go-live given in turn to the pilot and to each control site. It cannot go below ri_min_p (one over the number of sites), so no single model can show a significant effect on its own at 5% with this few sites: read these as descriptive.</p>\n";
    h += &table_html(&tables::by_model(results), "Rates per child-year and shares by SWP model");
    h += "</section>\n";

    h += "<section>\n<h2>How robust is this?</h2>\n";
    h += SIZE_OF_THE_TESTS;
    h += "<p>The E-value is how strongly (as a risk ratio) an unmeasured difference between pilot and comparison children would have to be associated with both being at a pilot and the outcome to explain the estimate away; the second E-value is for the confidence limit nearer no effect (1 means the interval already includes no effect). Rosenbaum's Gamma is how much more likely, within a matched pair, one child could be to be at the pilot, through something unmeasured, before the effect stops being significant at 5% (a pair-level test: it treats the matched pairs as independent and ignores site clustering, so it can reject where the report's clustered test does not; Gamma is therefore given only for outcomes where the report's own test finds an effect). The site-level Gamma asks the same of the sites, which is where the pilots were chosen: how much more likely one site could have been than another to become a pilot, through something unmeasured, before the randomisation test over which sites are pilots stops rejecting at the level the multiplicity adjustment sets for that outcome (Rosenbaum's model applied to the sites, as Hansen, Rosenbaum and Small 2014 do for clustered assignments; the worst case is searched over every way of marking the sites, so it is exact for the enumerated assignments). It respects the clustering, so it is the one to read.</p>\n";
    let mut lines = String::new();
    for s in &results.sensitivity {
        let what = s.outcome.label();
        match (s.e_value, s.e_value_ci) {
            (Some(e), Some(ci)) => {
                let rejects = s.reported_p_value.is_some_and(|p| p < 0.05);
                let gamma = match (s.rosenbaum_test, s.gamma) {
                    (Some(_), Some(g)) => format!(" Rosenbaum Gamma {}.", num(g)),
                    (Some(_), None) if !rejects => format!(
                        " No Rosenbaum Gamma: the report's own test does not find an effect (adjusted p {}), so there is no claim whose robustness to measure.",
                        s.reported_p_value.map_or("not available".to_string(), p_clause)
                    ),
                    (Some(_), None) => {
                        " The pair test is not significant even at Gamma = 1 (no hidden bias needed).".to_string()
                    }
                    _ => String::new(),
                };
                let gamma = match s.site_gamma {
                    Some(g) if g >= 100.0 => format!("{gamma} Site-level Gamma above 100."),
                    Some(g) => format!("{gamma} Site-level Gamma {}.", num(g)),
                    None => gamma,
                };
                lines += &format!(
                    "<li>{}: {} {} has E-value {} (confidence limit {}).{}</li>\n",
                    esc(what),
                    esc(&s.ratio_type.as_str().replace('_', " ")),
                    s.ratio.map_or("-".into(), num),
                    num(e),
                    num(ci),
                    esc(&gamma)
                );
            }
            _ => lines += &format!("<li>{}: not estimable.</li>\n", esc(what)),
        }
    }
    h += &format!("<ul>\n{lines}</ul>\n");
    h += &table_html(&tables::sensitivity(results), "Sensitivity to hidden bias (sensitivity.json)");
    if let (Some(t), Some(p)) = (tables::placebo(results), &results.placebo) {
        h += "<h3>Did the arms differ before the pilots? A placebo in time</h3>\n";
        h += &format!(
            "<p>The whole child-level analysis rerun with every index date moved back {} months, to a time when no pilot was running (the placebo's follow-up ends the day before the real index date). Any effect here is a difference between the arms that predates the pilots, which matching on the baseline covariates did not remove. {}</p>\n",
            p.shift_months,
            esc(&placebo_summary(results).unwrap_or_default())
        );
        h += &table_html(&t, "Placebo in time: primary rows (placebo.json)");
    }
    if let (Some(t), Some(curve)) = (tables::specification_summary(results), &results.specification_curve) {
        h += "<h3>Would other reasonable choices change the answer?</h3>\n";
        h += "<p>The specification curve reruns the primary estimates over every combination of reasonable choices (caliper, ratio, replacement, distance, control arm, follow-up length, minimum time in care, the index rule: each pilot on its own go-live, or every child on the earliest or latest go-live; and whether the effect models adjust for the covariates after matching; specification_curve.json has every specification). Each figure sorts the specifications by their estimate, shows each 95% interval and marks below the choices each made: a choice whose marks crowd one end drives the estimate.</p>\n";
        h += &format!("<ul>\n{}</ul>\n", specification_lines(curve));
        h += &table_html(&t, "Specification curve: share of specifications significant at 5% in each direction");
        for s in &curve.summary {
            if let Some(f) = fig(&format!("specification_curve_{}", s.outcome)) {
                h += &figure_html(f, &f.alt);
            }
        }
    }
    if let (Some(t), Some(power)) = (tables::power(results), &results.power) {
        h += "<h3>With this few sites, what could the evaluation have detected?</h3>\n";
        h += &format!("<p>{}. The power with no effect planted (ratio 1) is the test's size: at most {} when every assignment is enumerated, since the randomisation test is exact under random assignment of the pilot label. More pilot sites leave fewer of the same sites as controls. Checked on fresh synthetic datasets of the bundled design (docs/benchmarks.md), this simulation's power matched the randomisation test's rejection rate for social-worker changes and ran 13 to 15 points above it for the other outcomes, so read these powers as upper bounds.</p>\n", esc(&capitalise(&power.method)), power.alpha);
        for w in &power.warnings {
            h += &format!("<p><strong>{}</strong></p>\n", esc(&capitalise(w)));
        }
        h += &format!("<ul>\n{}</ul>\n", power_lines(power));
        h += &table_html(&t, "Power by planted ratio and number of pilot sites; minimum detectable ratio at the target power (power.json)");
        if let Some(f) = fig("power_curves") {
            h += &figure_html(f, &f.alt);
        }
    }
    h += "</section>\n";

    if let Some(v) = &results.value_for_money {
        h += &value_section(results, v, &fig);
    }

    h += "<section>\n<h2>Caveats</h2>\n<ul>\n";
    for c in caveats(results) {
        h += &format!("<li>{}</li>\n", esc(&c));
    }
    h += "</ul>\n</section>\n";

    h += "<section>\n<h2>Provenance</h2>\n<ul>\n";
    h += &format!("<li>swp-eval {}; seed {}.</li>\n", esc(&provenance.version), provenance.seed);
    h += &format!(
        "<li>Small-number suppression: {}.</li>\n",
        provenance
            .threshold
            .map_or("off (--no-suppress)".to_string(), |t| format!("counts of 1 to {} shown as c", t - 1))
    );
    h += "</ul>\n<h3>Config as run</h3>\n";
    h += &format!("<pre>{}</pre>\n", esc(&provenance.config));
    h += "<h3>Input files (SHA-256)</h3>\n<pre>";
    for (file, hash) in &provenance.inputs {
        h += &format!("{}  {}\n", esc(hash), esc(file));
    }
    h += "</pre>\n</section>\n</main>\n</body>\n</html>\n";
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use swp_evaluation::vocab::EstimateType;

    fn row(ci: (f64, f64), p_holm: Option<f64>) -> EffectRow {
        EffectRow {
            estimate: Some(0.78),
            ci_low: Some(ci.0),
            ci_high: Some(ci.1),
            p_value: Some(0.034),
            p_holm,
            primary: true,
            ..EffectRow::new(Outcome::PlacementMoves, EstimateType::RateRatio)
        }
    }

    /// An interval that excludes no effect is a difference only when the adjusted p is below
    /// 0.05 too; without an adjustment the interval decides.
    #[test]
    fn the_wording_follows_the_adjusted_p_value() {
        let text = finding(&row((0.62, 0.98), Some(0.135)), Adjustment::Holm);
        assert!(text.contains("Holm-adjusted p 0.135"), "{text}");
        assert!(text.contains("no clear difference") && !text.contains("than among matched controls"), "{text}");
        let text = finding(&row((0.62, 0.98), Some(0.014)), Adjustment::Holm);
        assert!(text.ends_with("lower among pilot children than among matched controls."), "{text}");
        let text = finding(&row((0.62, 0.98), Some(0.2)), Adjustment::BenjaminiHochberg);
        assert!(text.contains("Benjamini-Hochberg-adjusted p 0.200") && text.contains("no clear difference"), "{text}");
        let text = finding(&row((0.62, 0.98), None), Adjustment::None);
        assert!(text.ends_with("lower among pilot children than among matched controls."), "{text}");
        let text = finding(&row((0.62, 1.1), Some(0.6)), Adjustment::Holm);
        assert!(text.contains("the interval includes no difference"), "{text}");
        // an interval that excludes no effect, but a randomisation p of 0.05 or more: no clear
        // difference, whatever the adjusted p
        let mut r = row((0.62, 0.98), Some(0.014));
        r.ri_p_value = Some(0.08);
        let text = finding(&r, Adjustment::Holm);
        assert!(
            text.contains("randomisation p 0.080") && text.contains("but not by randomisation inference"),
            "{text}"
        );
        // with a randomisation p the finding gives no cluster-robust or wild bootstrap p (their
        // size is not controlled with few sites); without one it gives both
        r.wild_p_value = Some(0.021);
        let text = finding(&r, Adjustment::Holm);
        assert!(!text.contains("p 0.034") && !text.contains("wild bootstrap"), "{text}");
        r.ri_p_value = None;
        let text = finding(&r, Adjustment::Holm);
        assert!(text.contains("p 0.034") && text.contains("wild bootstrap p 0.021"), "{text}");
    }

    /// Caveats name covariate columns for people; the results keep the machine names.
    #[test]
    fn caveats_name_imbalanced_covariates_for_people() {
        let mut results = swp_evaluation::EvaluationResults::default();
        results.warnings.push("after matching |SMD| > 0.1 for legal_statusaccommodated, sex1".into());
        let published = swp_evaluation::publish(results, 5);
        let caveats = caveats(&published);
        let line = caveats.iter().find(|c| c.contains("SMD")).unwrap();
        assert!(line.contains("Legal status: accommodated") && !line.contains("legal_statusaccommodated"), "{line}");
        assert_eq!(published.warnings[0], "after matching |SMD| > 0.1 for legal_statusaccommodated, sex1");
    }
}
