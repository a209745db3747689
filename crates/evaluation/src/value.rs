//! Value for money: what a child's care costs, what the pilots' outcomes cost, and payment on
//! outcomes (the `[value_for_money]` config section; off unless enabled).
//!
//! # A child's care, bottom up
//! As the Cost Calculator for Children's Services (Ward, Holmes and Soper 2008, *Costs and
//! Consequences of Placing Children in Care*) and the PSSRU unit costs build it: over the
//! follow-up window, each cohort child's
//! - placement days (the episode in force each day; on a day one episode ends and the next
//!   starts, the later one) x the weekly cost of the placement's group (docs/evaluation.md's
//!   `placement_type` groups) and provider (`own`: PR0, PR1 or blank; `other_public`: PR2, PR3;
//!   `external`: PR4, PR5) / 7;
//! - social-worker time: contact minutes in the window / 60 x the hourly cost x the overhead
//!   multiplier;
//! - social-worker changes in the window x the cost of a change (the handover work).
//!
//! The outcome `cost_per_child_year` (kind `cost`) is the cost over the child-years looked
//! after in the window, estimated as the rate differences are (WLS of cost / exposure with
//! weights = match weight x exposure: the difference of the arms' pooled costs per child-year),
//! with CR2 on site and the wild cluster bootstrap.
//!
//! # Incremental cost-effectiveness
//! Per child-year: the incremental cost (pilot minus control, pooled over the matched sample)
//! over the events avoided (control minus pilot rate) of placement moves and of social-worker
//! changes. Uncertainty: a bootstrap that resamples sites within arm (pilot sites with
//! replacement among the pilot sites, control sites among the control sites), the matched
//! children of each drawn site entering with their weights; percentile intervals, the share of
//! replicates in each quadrant of the cost-effectiveness plane, and the acceptability curve
//! (the share of replicates whose net benefit, willingness to pay x events avoided - cost, is
//! positive; Fenwick, Claxton and Sculpher 2001). With five pilot sites there are only 126
//! distinct multisets of pilot sites: the intervals are coarse and an ICER interval is reported
//! only when every replicate avoids events.

use crate::config::codes::CodeGroup;
use crate::config::value::{ProviderCosts, ValueConfig};
use crate::config::ValidConfig;
use crate::pipeline::cohort::{Cohort, Stack, Windows};
use crate::pipeline::effects::{cost_rows, empty_rows, wild_params, ChildOutcomes};
use crate::pipeline::Prepared;
use crate::results::{
    BootstrapInfo, CeacPoint, ComponentRow, Icer, ModelCost, PaymentRow, Quadrants, SpendingRow, ValueForMoney,
};
use crate::vocab::{Arm, Outcome};
use swp_data::columns::code_column;
use swp_data::Dataset;
use swp_metrics::costs::{child_years_by_site, site_spending};
use swp_metrics::{Index, Period};
use swp_stats::matching::Matching;
use swp_stats::rng::Rng;

/// Each cohort child's costs in the follow-up window, by component (pounds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChildCosts {
    /// Placements.
    pub placements: Vec<f64>,
    /// Social-worker time with the child.
    pub social_work: Vec<f64>,
    /// Changes of social worker.
    pub changes: Vec<f64>,
    /// With a costs table: the child's share of what its site spent on everything but
    /// placements (staff, agency staff, overheads, the contract, payment on outcomes, other):
    /// the site's such spending per child-year over the financial years that overlap the
    /// child's stack's follow-up window, times the child's years looked after in the window.
    pub site_running: Option<Vec<f64>>,
}

impl ChildCosts {
    /// The total of each child: placements and, with a costs table, the site's running costs
    /// (which hold the social workers' time and handovers); without one, placements, social-
    /// worker time and changes costed bottom up.
    pub fn total(&self) -> Vec<f64> {
        (0..self.placements.len())
            .map(|i| match &self.site_running {
                Some(running) => self.placements[i] + running[i],
                None => self.placements[i] + self.social_work[i] + self.changes[i],
            })
            .collect()
    }
}

/// The index of `placements` in the costs table's categories (costed child by child instead).
const PLACEMENTS: usize = 2;

/// Each cohort child's share of its site's running costs (everything but placements) over its
/// stack's follow-up window, or None (with the reason) when some matched child's site has no
/// costs row in the years its window overlaps.
fn site_running_costs(
    years: &[YearSpending],
    cohort: &Cohort,
    windows: &[Period],
    matched: &[usize],
) -> Result<Vec<f64>, String> {
    if years.is_empty() {
        return Err("the dataset has no costs table".into());
    }
    let rate = |i: usize| {
        let window = windows[usize::from(cohort.stack[i])];
        spending_in(years, cohort.site[i] as usize, window, |a| {
            a.iter().enumerate().filter(|&(c, _)| c != PLACEMENTS).map(|(_, v)| v).sum()
        })
    };
    if let Some(&i) = matched.iter().find(|&&i| rate(i).is_none()) {
        return Err(format!(
            "a matched child's site has no costs row in the financial years of its follow-up window (site number {})",
            cohort.site[i]
        ));
    }
    Ok((0..cohort.len()).map(|i| rate(i).unwrap_or(0.0) * cohort.exposure_years[i]).collect())
}

/// The provider class of a `place_provider` code: 0 own, 1 other public, 2 external.
fn provider_class(code: Option<&str>) -> usize {
    match code {
        Some("PR2") | Some("PR3") => 1,
        Some("PR4") | Some("PR5") => 2,
        _ => 0,
    }
}

/// The costs of every cohort child over `window` (see the module docs).
pub fn child_costs(
    dataset: &Dataset,
    index: &Index,
    cohort: &Cohort,
    windows: &[Period],
    config: &ValueConfig,
    placement_groups: &[CodeGroup],
) -> ChildCosts {
    let places = code_column(&dataset.episodes.frame, "place");
    let providers = code_column(&dataset.episodes.frame, "place_provider");
    let weekly = |row: usize| -> f64 {
        let place = places.get(row).cloned().flatten().unwrap_or_default();
        let group = placement_groups
            .iter()
            .find(|g| g.codes.contains(&place))
            .or_else(|| placement_groups.iter().find(|g| g.codes.is_empty()))
            .or(placement_groups.last())
            .map_or("other", |g| g.group.as_str());
        let c = config.placement_weekly.get(group).copied().unwrap_or(ProviderCosts {
            own: 0.0,
            other_public: 0.0,
            external: 0.0,
        });
        match provider_class(providers.get(row).and_then(|p| p.as_deref())) {
            1 => c.other_public,
            2 => c.external,
            _ => c.own,
        }
    };
    let mut out = ChildCosts::default();
    for (k, &c) in cohort.child.iter().enumerate() {
        // each row's own stack's follow-up window
        let window = windows[usize::from(cohort.stack[k])];
        let episodes = index.episodes.of(c);
        let mut placement = 0.0;
        for (i, e) in episodes.iter().enumerate() {
            let mut last = e.end.unwrap_or(window.to);
            // on a day one episode ends and the next starts, the later one is in force
            if let Some(next) = episodes.get(i + 1) {
                if next.start <= last {
                    last = next.start - 1;
                }
            }
            let (from, to) = (e.start.max(window.from), last.min(window.to));
            if from <= to {
                placement += f64::from(to - from + 1) * weekly(e.row as usize) / 7.0;
            }
        }
        let minutes: f64 = index
            .contacts
            .as_ref()
            .map(|contacts| contacts.of(c).iter().filter(|x| window.contains(x.date)).map(|x| x.minutes).sum())
            .unwrap_or(0.0);
        out.placements.push(placement);
        out.social_work.push(minutes / 60.0 * config.social_worker_hourly * config.overhead_multiplier);
        out.changes.push(cohort.sw_changes[k] * config.cost_per_sw_change);
    }
    out
}

/// Pooled sums of one site's matched children (weights applied).
#[derive(Debug, Clone, Copy, Default)]
struct SiteSums {
    cost: f64,
    exposure: f64,
    moves: f64,
    changes: f64,
}

impl SiteSums {
    fn add(&mut self, o: &SiteSums) {
        self.cost += o.cost;
        self.exposure += o.exposure;
        self.moves += o.moves;
        self.changes += o.changes;
    }
}

fn binomial(n: u64, k: u64) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    // type 7 (R's default) on sorted values
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn interval(mut v: Vec<f64>) -> [f64; 2] {
    v.sort_by(f64::total_cmp);
    [percentile(&v, 0.025), percentile(&v, 0.975)]
}

/// The inputs of [`value_for_money`] from the evaluation run.
pub struct Inputs<'a> {
    /// The dataset.
    pub dataset: &'a Dataset,
    /// Its by-site index.
    pub index: &'a Index,
    /// The cohort.
    pub cohort: &'a Cohort,
    /// The matching.
    pub matching: &'a Matching,
    /// Each cohort child's costs.
    pub costs: &'a ChildCosts,
    /// The stacks and their windows.
    pub stacks: &'a [Stack],
    /// Pilot sites: (site index, site id, model, go-live).
    pub pilots: Vec<(usize, String, String, Option<i32>)>,
    /// The arm of each site index.
    pub arm_of_site: &'a [String],
    /// The bootstrap seed.
    pub seed: u64,
    /// The costs table by financial year (empty without one).
    years: &'a [YearSpending],
}

impl Inputs<'_> {
    /// The windows of a pilot's stack (the one stack with one index date).
    fn window_of(&self, pilot: &str) -> Windows {
        self.stacks.iter().find(|s| s.pilot.as_deref() == Some(pilot)).unwrap_or(&self.stacks[0]).windows
    }
}

/// Everything of `value_for_money.json` but the effect row (which is in `effects`).
pub fn value_for_money(config: &ValueConfig, x: &Inputs<'_>) -> ValueForMoney {
    let cohort = x.cohort;
    let total = x.costs.total();
    let w = &x.matching.weights;
    let matched: Vec<usize> = (0..cohort.len()).filter(|&i| w[i] > 0.0).collect();
    let mut warnings = Vec::new();
    // per-site sums of the matched children
    let n_sites = x.index.groups.site_ids.len();
    let mut sums = vec![[SiteSums::default(); 2]; n_sites];
    for &i in &matched {
        let s = &mut sums[cohort.site[i] as usize][usize::from(cohort.treated[i])];
        s.cost += w[i] * total[i];
        s.exposure += w[i] * cohort.exposure_years[i];
        s.moves += w[i] * cohort.placement_moves[i];
        s.changes += w[i] * cohort.sw_changes[i];
    }
    let arm_sites = |t: usize| -> Vec<usize> { (0..n_sites).filter(|&s| sums[s][t].exposure > 0.0).collect() };
    let (pilot_sites, control_sites) = (arm_sites(1), arm_sites(0));
    let pooled = |sites: &[usize], t: usize| {
        let mut a = SiteSums::default();
        sites.iter().for_each(|&s| a.add(&sums[s][t]));
        a
    };
    let point = |p: &SiteSums, c: &SiteSums| -> [f64; 3] {
        [
            p.cost / p.exposure - c.cost / c.exposure,
            c.moves / c.exposure - p.moves / p.exposure,
            c.changes / c.exposure - p.changes / p.exposure,
        ]
    };
    let (p_all, c_all) = (pooled(&pilot_sites, 1), pooled(&control_sites, 0));
    let estimate = point(&p_all, &c_all);
    // the bootstrap: sites with replacement within arm
    let mut rng = Rng::new(x.seed, 0x0076_616c_7565); // "value"
    let mut replicates = Vec::with_capacity(config.bootstrap_reps);
    if !pilot_sites.is_empty() && !control_sites.is_empty() {
        for _ in 0..config.bootstrap_reps {
            let draw = |sites: &[usize], t: usize, rng: &mut Rng| {
                let mut a = SiteSums::default();
                for _ in 0..sites.len() {
                    a.add(&sums[sites[rng.range(0, sites.len() as i64 - 1) as usize]][t]);
                }
                a
            };
            let p = draw(&pilot_sites, 1, &mut rng);
            let c = draw(&control_sites, 0, &mut rng);
            replicates.push(point(&p, &c));
        }
    }
    let icers = icers_of(&estimate, &replicates);
    let ceac = ceac_of(config, &replicates);
    let g = pilot_sites.len() as u64;
    if g < 10 {
        warnings.push(format!(
            "the bootstrap draws from {g} pilot site(s) ({} distinct draws of pilot sites): its intervals are coarse, and an ICER's interval is given only when every replicate avoids events",
            binomial(2 * g.max(1) - 1, g)
        ));
    }
    if x.index.contacts.is_none() {
        warnings.push("the dataset has no contacts: social-worker time is not costed".into());
    }
    let components = components_of(x, &matched, &total);
    let years = x.years;
    let spending = spending_rows(x, years);
    let by_model = model_costs(x, &total, years);
    let payments = payment_rows(config, x);
    ValueForMoney {
        unit_costs: config.clone(),
        components,
        icers,
        ceac,
        replicates,
        bootstrap: BootstrapInfo {
            reps: config.bootstrap_reps,
            seed: x.seed,
            pilot_sites: pilot_sites.len(),
            control_sites: control_sites.len(),
            distinct_pilot_draws: binomial(2 * g.max(1) - 1, g),
        },
        spending,
        by_model,
        payments,
        warnings,
    }
}

/// The incremental cost-effectiveness of placement moves and social-worker changes avoided:
/// the point `estimate` ([cost, moves avoided, changes avoided] per child-year) and the
/// bootstrap `replicates`.
fn icers_of(estimate: &[f64; 3], replicates: &[[f64; 3]]) -> Vec<Icer> {
    let reps = replicates.len().max(1) as f64;
    [("placement_moves", 1usize), ("sw_changes", 2usize)]
        .iter()
        .map(|&(outcome, k)| {
            let share = |f: &dyn Fn(&[f64; 3]) -> bool| replicates.iter().filter(|r| f(r)).count() as f64 / reps;
            let all_avoid = !replicates.is_empty() && replicates.iter().all(|r| r[k] > 0.0);
            Icer {
                outcome,
                delta_cost: estimate[0],
                delta_cost_ci: interval(replicates.iter().map(|r| r[0]).collect()),
                events_avoided: estimate[k],
                events_avoided_ci: interval(replicates.iter().map(|r| r[k]).collect()),
                icer: (estimate[k] > 0.0).then(|| estimate[0] / estimate[k]),
                icer_ci: all_avoid.then(|| interval(replicates.iter().map(|r| r[0] / r[k]).collect())),
                quadrants: Quadrants {
                    effective_cheaper: share(&|r| r[k] > 0.0 && r[0] <= 0.0),
                    effective_dearer: share(&|r| r[k] > 0.0 && r[0] > 0.0),
                    less_effective_cheaper: share(&|r| r[k] <= 0.0 && r[0] <= 0.0),
                    less_effective_dearer: share(&|r| r[k] <= 0.0 && r[0] > 0.0),
                },
            }
        })
        .collect()
}

/// The cost-effectiveness acceptability curve over the config's willingness to pay.
fn ceac_of(config: &ValueConfig, replicates: &[[f64; 3]]) -> Vec<CeacPoint> {
    let reps = replicates.len().max(1) as f64;
    config
        .willingness_to_pay
        .iter()
        .map(|&lambda| {
            let p = |k: usize| replicates.iter().filter(|r| lambda * r[k] - r[0] > 0.0).count() as f64 / reps;
            CeacPoint { willingness_to_pay: lambda, placement_moves: p(1), sw_changes: p(2) }
        })
        .collect()
}

/// Each cost component per child-year, pilot and control (pooled over the matched children).
fn components_of(x: &Inputs<'_>, matched: &[usize], total: &[f64]) -> Vec<ComponentRow> {
    let (cohort, w) = (x.cohort, &x.matching.weights);
    let component = |name: &'static str, v: &[f64], in_total: bool| {
        let rate = |t: bool| {
            let (num, den) = matched
                .iter()
                .filter(|&&i| cohort.treated[i] == t)
                .fold((0.0, 0.0), |(n, d), &i| (n + w[i] * v[i], d + w[i] * cohort.exposure_years[i]));
            (den > 0.0).then(|| num / den)
        };
        ComponentRow { component: name, treated: rate(true), control: rate(false), in_total }
    };
    let running = x.costs.site_running.is_some();
    let mut rows = vec![
        component("placements", &x.costs.placements, true),
        component("social_work", &x.costs.social_work, !running),
        component("changes", &x.costs.changes, !running),
    ];
    if let Some(site_running) = &x.costs.site_running {
        rows.push(component("site_running", site_running, true));
    }
    rows.push(component("total", total, true));
    rows
}

/// The cost per child-year of each pilot's matched children and their own controls, with the
/// site's spending per child-year over the follow-up window.
fn model_costs(x: &Inputs<'_>, total: &[f64], years: &[YearSpending]) -> Vec<ModelCost> {
    let cohort = x.cohort;
    x.pilots
        .iter()
        .map(|(site_index, site, model, _)| {
            let (treated, control_weight) =
                crate::pipeline::cohort::pilot_and_controls(cohort, x.matching, *site_index);
            let rate = |rows: &mut dyn Iterator<Item = (usize, f64)>| {
                let (n, d) =
                    rows.fold((0.0, 0.0), |(n, d), (i, wt)| (n + wt * total[i], d + wt * cohort.exposure_years[i]));
                (d > 0.0).then(|| n / d)
            };
            ModelCost {
                n_treated: Some(treated.len() as u64),
                n_control: Some(control_weight.iter().filter(|&&w| w > 0.0).count() as u64),
                model: model.clone(),
                site: site.clone(),
                cost_treated: rate(&mut treated.iter().map(|&i| (i, 1.0))),
                cost_control: rate(
                    &mut (0..cohort.len()).filter(|&i| control_weight[i] > 0.0).map(|i| (i, control_weight[i])),
                ),
                site_spending_per_child_year: site_spending_in(years, *site_index, x.window_of(site).follow_up),
            }
        })
        .collect()
}

/// One financial year of the costs table: each site's spending (None without a row) and
/// child-years looked after, computed once for the trend and the by-model rows.
struct YearSpending {
    year: i32,
    spending: Vec<Option<[f64; 7]>>,
    child_years: Vec<f64>,
}

/// Every financial year of the costs table (empty without one).
fn years_of_spending(index: &Index) -> Vec<YearSpending> {
    let Some(costs) = &index.costs else { return Vec::new() };
    let sites = index.groups.site_ids.len();
    let mut years: Vec<i32> = costs.iter().map(|c| c.year).collect();
    years.sort_unstable();
    years.dedup();
    years
        .into_iter()
        .map(|year| YearSpending {
            year,
            spending: site_spending(costs, sites, year),
            child_years: child_years_by_site(index, Period::financial_year(year)),
        })
        .collect()
}

fn spending_rows(x: &Inputs<'_>, years: &[YearSpending]) -> Vec<SpendingRow> {
    let mut arms: Vec<&str> = x.arm_of_site.iter().map(String::as_str).collect();
    arms.sort_unstable();
    arms.dedup();
    let mut out = Vec::new();
    for YearSpending { year, spending, child_years } in years {
        for arm in ["pilot", "host", "comparison"].iter().filter(|a| arms.contains(a)) {
            let (mut num, mut den, mut sites) = (0.0, 0.0, 0);
            for s in (0..x.arm_of_site.len()).filter(|&s| x.arm_of_site[s] == *arm) {
                if let Some(amounts) = &spending[s] {
                    num += amounts.iter().sum::<f64>();
                    den += child_years[s];
                    sites += 1;
                }
            }
            out.push(SpendingRow {
                arm: arm.to_string(),
                financial_year: swp_metrics::financial_year_label(*year),
                cost_per_child_year: (den > 0.0).then(|| num / den),
                sites,
            });
        }
    }
    out
}

/// A site's spending over its child-years in the financial years that overlap `window`.
fn site_spending_in(years: &[YearSpending], site: usize, window: Period) -> Option<f64> {
    spending_in(years, site, window, |a| a.iter().sum())
}

/// A site's spending (`amount` of its categories' amounts) over its child-years in the
/// financial years that overlap `window`; None without a costs row or child-years there.
fn spending_in(years: &[YearSpending], site: usize, window: Period, amount: impl Fn(&[f64; 7]) -> f64) -> Option<f64> {
    let (mut num, mut den) = (0.0, 0.0);
    for y in years {
        let p = Period::financial_year(y.year);
        if p.to < window.from || p.from > window.to {
            continue;
        }
        if let Some(amounts) = &y.spending[site] {
            num += amount(amounts);
            den += y.child_years[site];
        }
    }
    (den > 0.0).then(|| num / den)
}

fn payment_rows(config: &ValueConfig, x: &Inputs<'_>) -> Vec<PaymentRow> {
    if config.payments.is_empty() {
        return Vec::new();
    }
    let span = crate::pipeline::cohort::span(x.stacks);
    let periods = swp_metrics::financial_years(span.from, span.to);
    let rows = swp_metrics::metrics_of(x.index, &periods, swp_metrics::MetricsParams::default().caseload_threshold);
    let mut out = Vec::new();
    for rule in &config.payments {
        let go_live = x.pilots.iter().find(|p| p.1 == rule.site).and_then(|p| p.3);
        for p in &periods {
            // years the pilot ran: from the financial year of its go-live
            if go_live.is_some_and(|g| p.to < g) {
                continue;
            }
            let from = swp_data::date::format_date(p.from);
            let found =
                rows.iter().find(|r| r.group == rule.site && r.metric == rule.indicator && r.period_from == from);
            let value = found.and_then(|r| r.value);
            let parts = found.map_or((None, None), |r| (r.numerator, r.denominator));
            let met = value.map(|v| match (rule.at_most, rule.at_least) {
                (Some(t), _) => v <= t,
                (_, Some(t)) => v >= t,
                _ => false,
            });
            let (y, _, _) = swp_data::date::civil_from_days(p.from);
            out.push(PaymentRow {
                site: rule.site.clone(),
                financial_year: swp_metrics::financial_year_label(y),
                indicator: rule.indicator.clone(),
                value,
                threshold: match (rule.at_most, rule.at_least) {
                    (Some(t), _) => format!("at most {t}"),
                    (_, Some(t)) => format!("at least {t}"),
                    _ => String::new(),
                },
                met,
                share: Some(if met == Some(true) { rule.share } else { 0.0 }),
                parts,
            });
        }
    }
    out
}

/// The value-for-money stage of a run, when the config enables it: each child's care costed,
/// the cost outcome's rows appended to the effects, and the cost-effectiveness results.
pub(crate) fn stage(
    valid: &ValidConfig,
    dataset: &Dataset,
    index: &Index,
    prepared: &Prepared,
    outcomes: &mut ChildOutcomes,
    warnings: &mut Vec<String>,
) -> Option<ValueForMoney> {
    let config = valid.value_for_money()?;
    let (placement_groups, seed, wild) =
        (valid.code_groups().placement_type(), valid.inference().seed, &wild_params(valid));
    let (stage, matching) = (&prepared.stage, &prepared.matching);
    let (cohort, sites, stacks) = (&stage.cohort, &stage.sites, &stage.stacks);
    let follow_ups: Vec<Period> = stacks.iter().map(|s| s.windows.follow_up).collect();
    let mut costs = child_costs(dataset, index, cohort, &follow_ups, config, placement_groups);
    let years = years_of_spending(index);
    let matched = &outcomes.matched;
    match site_running_costs(&years, cohort, &follow_ups, matched) {
        Ok(running) => costs.site_running = Some(running),
        Err(why) if index.costs.is_some() => warnings.push(format!(
            "value for money: {why}, so running costs are social-worker time and handovers costed bottom up, not what the sites spent"
        )),
        Err(_) => {}
    }
    let total = costs.total();
    let pick = |v: &[f64]| -> Vec<f64> { matched.iter().map(|&i| v[i]).collect() };
    match cost_rows(Outcome::CostPerChildYear, &pick(&total), &pick(&cohort.exposure_years), &outcomes.sample, wild) {
        Ok(rows) => outcomes.effects.extend(rows),
        Err(e) => {
            warnings.push(format!("{} not estimated: {e}", Outcome::CostPerChildYear));
            outcomes.effects.extend(empty_rows(Outcome::CostPerChildYear, &outcomes.sample));
        }
    }
    let arm_names: Vec<String> = index
        .groups
        .site_ids
        .iter()
        .map(|id| sites.iter().find(|s| &s.id == id).map_or_else(String::new, |s| s.arm.as_str().to_string()))
        .collect();
    let pilots = sites
        .iter()
        .filter(|s| s.arm == Arm::Pilot)
        .filter_map(|s| Some((index.groups.site_index(&s.id)?, s.id.clone(), s.model.clone(), s.go_live)))
        .collect();
    let inputs = Inputs {
        dataset,
        index,
        cohort,
        matching,
        costs: &costs,
        stacks,
        pilots,
        arm_of_site: &arm_names,
        seed,
        years: &years,
    };
    Some(value_for_money(config, &inputs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::value::PaymentRule;
    use swp_data::date::days_from_civil;

    fn write(dir: &std::path::Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// Three children worked by hand against the default unit-cost table.
    #[test]
    fn child_costs_equal_a_hand_computation() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "sites.csv", "site_id,name,arm,swp_model,go_live\nS1,s,comparison,none,\n");
        write(
            d,
            "children.csv",
            "child_id,site_id,sex,dob,ethnic\nA,S1,1,2000-01-01,WBRI\nB,S1,2,2001-01-01,WBRI\nC,S1,1,2002-01-01,WBRI\n",
        );
        write(
            d,
            "episodes.csv",
            "child_id,site_id,decom,rne,ls,cin,place,place_provider,dec\n\
             A,S1,2009-06-01,S,C2,N1,U1,PR1,2010-03-31\n\
             A,S1,2010-03-31,P,C2,N1,R1,PR4,\n\
             B,S1,2010-07-01,S,V2,N1,P1,,2010-07-10\n\
             C,S1,2010-12-25,S,E1,N1,A4,PR2,\n",
        );
        write(
            d,
            "workers.csv",
            "worker_id,site_id,role,fte,agency,start_date,end_date\nW1,S1,social_worker,1,false,2005-01-01,\n",
        );
        write(d, "allocations.csv", "child_id,worker_id,start_date,end_date\nA,W1,2009-06-01,\n");
        write(
            d,
            "contacts.csv",
            "child_id,worker_id,date,kind,minutes\nA,W1,2009-12-31,visit,45\nA,W1,2010-02-01,visit,60\nA,W1,2010-11-30,phone,30\n",
        );
        let loaded = swp_data::load(d).unwrap();
        assert!(!loaded.report.has_problems(), "{:?}", loaded.report.problems);
        let index = swp_metrics::ValidMetricsParams::defaults(swp_metrics::GroupBy::Total).index(&loaded.dataset);
        let cohort =
            Cohort { child: vec![0, 1, 2], stack: vec![0; 3], sw_changes: vec![2.0, 0.0, 0.0], ..Default::default() };
        let window = Period { from: days_from_civil(2010, 1, 1), to: days_from_civil(2010, 12, 31) };
        let config = ValueConfig::default();
        let groups = crate::config::Config::default().covariates.placement_type;
        let costs = child_costs(&loaded.dataset, &index, &cohort, &[window], &config, &groups);
        // A: foster (U1, own: 646 a week) 1 January to 30 March (89 days: on 31 March the later
        // episode is in force), then residential (R1, private provider: 4,200 a week) 31 March to
        // 31 December (276 days); contacts of 60 and 30 minutes in the window at 55 an hour x 2.5;
        // two changes at 900
        let a = 89.0 * 646.0 / 7.0 + 276.0 * 4_200.0 / 7.0;
        // B: with parents (P1, no provider: own, 150 a week) 1 to 10 July: 10 days
        // C: placed for adoption (A4, another authority: 300 a week) 25 to 31 December: 7 days
        let expected =
            [(a, 90.0 / 60.0 * 55.0 * 2.5, 1_800.0), (10.0 * 150.0 / 7.0, 0.0, 0.0), (7.0 * 300.0 / 7.0, 0.0, 0.0)];
        for (k, (p, s, c)) in expected.iter().enumerate() {
            assert!((costs.placements[k] - p).abs() < 1e-9, "child {k}: {} vs {p}", costs.placements[k]);
            assert!((costs.social_work[k] - s).abs() < 1e-9, "child {k}");
            assert!((costs.changes[k] - c).abs() < 1e-9, "child {k}");
        }
        assert!((costs.total()[0] - (a + 206.25 + 1_800.0)).abs() < 1e-9);

        // with a costs table: each child carries its site's spending but placements, per
        // child-year of the financial years its window overlaps (2009-10 and 2010-11), times
        // its exposure; the total is then placements plus that
        write(
            d,
            "costs.csv",
            "site_id,financial_year,category,amount
S1,2009-10,staff,10000
S1,2009-10,placements,50000
             S1,2009-10,contract,2000
S1,2010-11,staff,12000
S1,2010-11,agency_staff,3000
S1,2011-12,staff,99999
",
        );
        let loaded = swp_data::load(d).unwrap();
        assert!(!loaded.report.has_problems(), "{:?}", loaded.report.problems);
        let index = swp_metrics::ValidMetricsParams::defaults(swp_metrics::GroupBy::Total).index(&loaded.dataset);
        let years = years_of_spending(&index);
        let cohort = Cohort { site: vec![0; 3], exposure_years: vec![1.0, 0.5, 0.25], ..cohort };
        let running = site_running_costs(&years, &cohort, &[window], &[0, 1, 2]).expect("a costs row per year");
        let child_years: f64 = [2009, 2010]
            .iter()
            .map(|&y| swp_metrics::costs::child_years_by_site(&index, Period::financial_year(y))[0])
            .sum();
        let rate = (10_000.0 + 2_000.0 + 12_000.0 + 3_000.0) / child_years;
        for (k, e) in [1.0, 0.5, 0.25].iter().enumerate() {
            assert!((running[k] - rate * e).abs() < 1e-9, "child {k}: {} vs {}", running[k], rate * e);
        }
        let costs = ChildCosts { site_running: Some(running), ..costs };
        assert!((costs.total()[0] - (a + rate)).abs() < 1e-9);
        // a window before the costs table: no rate, so no running costs
        let early = Period { from: days_from_civil(2005, 1, 1), to: days_from_civil(2005, 12, 31) };
        assert!(site_running_costs(&years, &cohort, &[early], &[0]).is_err());
    }

    #[test]
    fn the_section_is_checked() {
        let groups = crate::config::Config::default().covariates.placement_type;
        assert!(ValueConfig::default().check(&groups).is_ok());
        let mut c = ValueConfig::default();
        c.placement_weekly.remove("residential");
        assert!(c.check(&groups).unwrap_err().2.contains("every placement_type group"));
        let mut c = ValueConfig::default();
        c.payments.push(PaymentRule {
            site: "P1".into(),
            indicator: "nonsense".into(),
            at_most: Some(1.0),
            at_least: None,
            share: 0.5,
        });
        assert!(c.check(&groups).unwrap_err().2.contains("docs/metrics.md metric"));
        let mut c = ValueConfig::default();
        c.payments.push(PaymentRule {
            site: "P1".into(),
            indicator: "pct_3plus_placements".into(),
            at_most: None,
            at_least: None,
            share: 0.5,
        });
        assert!(c.check(&groups).unwrap_err().2.contains("exactly one"));
        let c = ValueConfig { social_worker_hourly: -1.0, ..ValueConfig::default() };
        assert!(c.check(&groups).is_err());
    }

    #[test]
    fn percentiles_are_rs_type_7() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        // R: quantile(1:10, c(0.025, 0.975)) = 1.225, 9.775
        let [lo, hi] = interval(v);
        assert!((lo - 1.225).abs() < 1e-12 && (hi - 9.775).abs() < 1e-12);
        assert_eq!(binomial(9, 5), 126.0);
    }
}
