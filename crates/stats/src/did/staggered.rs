//! Difference-in-differences with staggered adoption: Callaway and Sant'Anna's (2021)
//! group-time average treatment effects ATT(g, t), their aggregates, a joint pre-trend test and
//! the multiplier bootstrap's uniform bands, on a balanced panel of units and periods.
//!
//! # Formulas
//! A unit's group g is the first period it is treated (none: never treated). With `δ`
//! periods of anticipation, the base period of a post-treatment cell (t + δ ≥ g) is the last
//! period p with p + δ < g; a pre-treatment cell's base is the period before t (the "varying"
//! base) or, with the "universal" base, the same p as after, whose own cell is 0 by
//! construction and is reported with no standard error. With ΔY = Y_t - Y_base, D the units of
//! group g and C the comparison units (never treated, or with `not-yet`: never treated or first
//! treated after max(t, base) + δ, g itself excluded), the unconditional outcome regression
//! estimator is
//!
//! ATT(g, t) = mean(ΔY | D) - mean(ΔY | C),
//!
//! with influence function ψ_i = n [D_i (ΔY_i - mean(ΔY | D)) / n_D - C_i (ΔY_i - mean(ΔY | C)) / n_C]
//! over all n units (Callaway and Sant'Anna 2021, section 4; Sant'Anna and Zhao 2020 for the
//! regression estimator without covariates). The variance of an estimate with influence
//! function ψ is Σ_c (Σ_{i in c} ψ_i)² / n², clustered on the units' clusters (each unit its own
//! cluster by default, which is R did's analytic standard error).
//!
//! Aggregates (Callaway and Sant'Anna 2021, section 3.1; did::aggte): weighted means of cells
//! with weights proportional to the groups' shares pg = P(G = g) of all units. The influence
//! function of an aggregate Σ_k w_k ATT_k with w_k = pg_k / S, S = Σ_k pg_k, is
//! Σ_k w_k ψ_k + Σ_k ATT_k IF(w_k), where IF(w_k) = (1{G = g_k} - pg_k) / S
//! - pg_k Σ_j (1{G = g_j} - pg_j) / S² accounts for the estimated shares.
//! - simple: the post-treatment cells (t ≥ g);
//! - dynamic: for each event time e = t - g, the cells with that e; overall the mean over e ≥ 0;
//! - group: for each group, the plain mean of its post-treatment cells; overall weighted by pg;
//! - calendar: for each period t from the first group on, its post-treatment cells; overall
//!   the mean over those periods.
//!
//! The pre-trend test is the Wald statistic of the pre-treatment event-time estimates
//! (e < -δ, without the universal base's zero) on their influence-function covariance,
//! chi-square with as many degrees of freedom. Uniform bands (Callaway and Sant'Anna 2021,
//! section 4.1) come from the multiplier bootstrap: Rademacher draws per cluster multiply the
//! clusters' influence sums; each estimate's bootstrap scale is the interquartile range of its
//! draws over that of the normal, and the critical value the 1 - α quantile of the largest
//! studentised absolute draw.
//!
//! # Examples
//! ```
//! use swp_stats::did::staggered::{att_gt, Aggregation, Options, Panel};
//! // two never-treated units and two treated from period 2; the treated rise by 1 more
//! let periods = [1, 2];
//! let first_treated = [None, None, Some(2), Some(2)];
//! let y = [0.0, 1.0, 1.0, 2.2, 0.0, 2.0, 1.0, 3.0]; // unit-major: unit 0 periods 1, 2, ...
//! let fit = att_gt(&Panel { periods: &periods, first_treated: &first_treated, y: &y, cluster: None }, &Options::default()).unwrap();
//! assert!((fit.cells[0].att - 0.9).abs() < 1e-12);
//! let simple = fit.aggregate(Aggregation::Simple);
//! assert!((simple.overall.att - 0.9).abs() < 1e-12);
//! ```

use crate::distributions::{pchisq_upper, qnorm};
use crate::error::{Result, StatsError};
use crate::rng::Rng;
use rayon::prelude::*;

/// Which units are compared with a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// Units never treated in the panel.
    #[default]
    Never,
    /// Never-treated units and those not yet treated (nor anticipating) in both periods.
    NotYet,
}

/// The base period of pre-treatment cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// The period before t (short differences: each pre-period cell is a one-period change).
    #[default]
    Varying,
    /// The period before treatment (and anticipation) for every cell.
    Universal,
}

/// Settings of [`att_gt`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Comparison units.
    pub control: Control,
    /// Base period of pre-treatment cells.
    pub base: Base,
    /// Periods before g in which units may already respond (δ).
    pub anticipation: i64,
}

/// A balanced panel: every unit observed in every period.
#[derive(Debug, Clone, Copy)]
pub struct Panel<'a> {
    /// The periods, strictly increasing.
    pub periods: &'a [i64],
    /// Each unit's first treated period (None: never treated).
    pub first_treated: &'a [Option<i64>],
    /// Outcomes, unit-major: unit i's period j at `i * periods.len() + j`.
    pub y: &'a [f64],
    /// Each unit's cluster, numbered 0..C (None: each unit its own cluster).
    pub cluster: Option<&'a [usize]>,
}

/// One group-time cell.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cell {
    /// The group (first treated period).
    pub group: i64,
    /// The period.
    pub time: i64,
    /// The base period the change is measured from.
    pub base: i64,
    /// ATT(g, t).
    pub att: f64,
    /// Its standard error (None for the universal base's own cell, which is 0 by construction).
    pub se: Option<f64>,
    /// Whether t ≥ g.
    pub post: bool,
    /// Units of the group.
    pub n_treated: usize,
    /// Comparison units.
    pub n_control: usize,
}

/// What [`att_gt`] estimated, with the influence functions the aggregates need.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The cells, by group then period.
    pub cells: Vec<Cell>,
    /// The groups estimated, increasing.
    pub groups: Vec<i64>,
    /// Units used (after dropping those treated before any base period).
    pub n_units: usize,
    /// Clusters of the units used.
    pub n_clusters: usize,
    /// Units dropped because they were treated (allowing for anticipation) in the first
    /// period, so no period precedes their treatment.
    pub dropped_units: usize,
    /// Units whose first treated period is after the last period: compared as never treated.
    pub late_as_never: usize,
    /// With not-yet-treated comparisons and no never-treated unit: the last group, compared as
    /// never treated (the periods from its start, less anticipation, are not used).
    pub last_group_as_never: Option<i64>,
    /// Cells left out because no comparison unit was available (group, period).
    pub skipped: Vec<(i64, i64)>,
    /// The anticipation the cells allow for.
    pub anticipation: i64,
    influence: Vec<Vec<f64>>,
    unit_group: Vec<Option<usize>>,
    share: Vec<f64>,
    cluster: Vec<usize>,
}

/// An estimate with its standard error (None when it is 0 by construction).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// Event time, group or period; None for the overall figure.
    pub at: Option<i64>,
    /// The estimate.
    pub att: f64,
    /// Its standard error.
    pub se: Option<f64>,
}

/// How cells are aggregated (did::aggte's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// All post-treatment cells, weighted by group size.
    Simple,
    /// By event time e = t - g (an event study).
    Dynamic,
    /// By group.
    Group,
    /// By calendar period.
    Calendar,
}

/// An aggregate: the overall figure and, but for `Simple`, one estimate per event time, group
/// or period.
#[derive(Debug, Clone)]
pub struct Aggregate {
    /// Which aggregation.
    pub kind: Aggregation,
    /// The overall figure.
    pub overall: Estimate,
    /// Per event time, group or period.
    pub by: Vec<Estimate>,
    by_influence: Vec<Vec<f64>>,
}

/// The joint Wald test of the pre-treatment event-time estimates.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Wald {
    /// The statistic.
    pub statistic: f64,
    /// Degrees of freedom (the estimates tested).
    pub df: usize,
    /// Upper chi-square tail.
    pub p_value: f64,
}

/// Uniform bands of a family of estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// The critical value (the largest studentised draw's 1 - α quantile).
    pub critical_value: f64,
    /// Each estimate's bootstrap standard error (None where it is 0).
    pub se: Vec<Option<f64>>,
}

/// Standard errors at or below this are 0 by construction (did reports them as missing).
const ZERO_SE: f64 = 1.5e-7;

/// Group-time average treatment effects on a balanced panel.
///
/// # Errors
/// [`StatsError::LengthMismatch`] when the outcomes are not units x periods or the clusters
/// not one per unit; [`StatsError::BadSetting`] for periods that do not increase, a negative
/// anticipation, no treated group that can be estimated, or no never-treated unit when they
/// are the comparison; [`StatsError::OutOfRange`] for a non-finite outcome.
pub fn att_gt(panel: &Panel<'_>, options: &Options) -> Result<Fit> {
    let t_count = panel.periods.len();
    let n_all = panel.first_treated.len();
    if panel.y.len() != n_all * t_count {
        return Err(StatsError::LengthMismatch { inputs: "the outcomes and units x periods" });
    }
    if panel.cluster.is_some_and(|c| c.len() != n_all) {
        return Err(StatsError::LengthMismatch { inputs: "the clusters and the units" });
    }
    if panel.periods.windows(2).any(|w| w[0] >= w[1]) {
        return Err(StatsError::BadSetting { rule: "periods must be distinct and increasing" });
    }
    if options.anticipation < 0 {
        return Err(StatsError::BadSetting { rule: "anticipation must be 0 or more periods" });
    }
    if t_count < 2 {
        return Err(StatsError::BadSetting { rule: "a difference-in-differences needs at least two periods" });
    }
    if panel.y.iter().any(|v| !v.is_finite()) {
        return Err(StatsError::OutOfRange { what: "outcomes", allowed: "finite numbers" });
    }
    let delta = options.anticipation;
    let (first, last) = (panel.periods[0], panel.periods[t_count - 1]);
    // units treated after the last period are never treated within it; those treated (or
    // anticipating) in the first period have no base period and are dropped
    let mut kept = Vec::with_capacity(n_all);
    let (mut dropped_units, mut late_as_never) = (0, 0);
    let mut unit_first: Vec<Option<i64>> = Vec::with_capacity(n_all);
    for (i, g) in panel.first_treated.iter().enumerate() {
        match *g {
            Some(g) if g > last => {
                late_as_never += 1;
                kept.push(i);
                unit_first.push(None);
            }
            Some(g) if g - delta <= first => dropped_units += 1,
            g => {
                kept.push(i);
                unit_first.push(g);
            }
        }
    }
    let n = kept.len();
    let mut groups: Vec<i64> = unit_first.iter().flatten().copied().collect();
    groups.sort_unstable();
    groups.dedup();
    // not-yet-treated comparisons without a never-treated unit: the last group serves as never
    // treated, and only the periods before it (and its anticipation) are used (as R did)
    let mut t_used = t_count;
    let mut last_group_as_never = None;
    if options.control == Control::NotYet && unit_first.iter().all(Option::is_some) && groups.len() > 1 {
        let g_last = groups.pop().unwrap_or_default();
        for u in &mut unit_first {
            if *u == Some(g_last) {
                *u = None;
            }
        }
        t_used = panel.periods.iter().filter(|&&p| p + delta < g_last).count();
        last_group_as_never = Some(g_last);
    }
    if groups.is_empty() {
        return Err(StatsError::BadSetting {
            rule: "no treated group can be estimated: every unit is never treated, or treated in the first period (which leaves no period before treatment)",
        });
    }
    if options.control == Control::Never && unit_first.iter().all(Option::is_some) {
        return Err(StatsError::BadSetting {
            rule: "no unit is never treated: use the not-yet-treated units as the comparison (control not-yet)",
        });
    }
    let unit_group: Vec<Option<usize>> =
        unit_first.iter().map(|g| g.map(|g| groups.binary_search(&g).unwrap_or_default())).collect();
    let share: Vec<f64> =
        (0..groups.len()).map(|k| unit_group.iter().filter(|&&u| u == Some(k)).count() as f64 / n as f64).collect();
    let (cluster, n_clusters) = match panel.cluster {
        Some(c) => {
            let mut ids: Vec<usize> = kept.iter().map(|&i| c[i]).collect();
            let mut distinct = ids.clone();
            distinct.sort_unstable();
            distinct.dedup();
            for id in &mut ids {
                *id = distinct.binary_search(id).unwrap_or_default();
            }
            (ids, distinct.len())
        }
        None => ((0..n).collect(), n),
    };

    // (group, period index, base index) of every cell
    let mut specs = Vec::new();
    for &g in &groups {
        let Some(base_post) = panel.periods[..t_used].iter().rposition(|&p| p + delta < g) else { continue };
        let start = match options.base {
            Base::Varying => 1,
            Base::Universal => 0,
        };
        for ti in start..t_used {
            let t = panel.periods[ti];
            let base = if t + delta >= g || options.base == Base::Universal { base_post } else { ti - 1 };
            specs.push((g, ti, base));
        }
    }
    let y = panel.y;
    let results: Vec<Option<(Cell, Vec<f64>)>> = specs
        .par_iter()
        .map(|&(g, ti, bi)| {
            let (t, b) = (panel.periods[ti], panel.periods[bi]);
            let treated = |u: Option<i64>| u == Some(g);
            let control = |u: Option<i64>| match (options.control, u) {
                (_, None) => true,
                (Control::Never, Some(_)) => false,
                (Control::NotYet, Some(h)) => h != g && h > t.max(b) + delta,
            };
            let change = |k: usize| {
                let i = kept[k];
                y[i * t_count + ti] - y[i * t_count + bi]
            };
            let (mut sum_d, mut n_d, mut sum_c, mut n_c) = (0.0, 0usize, 0.0, 0usize);
            for (k, &u) in unit_first.iter().enumerate() {
                if treated(u) {
                    sum_d += change(k);
                    n_d += 1;
                } else if control(u) {
                    sum_c += change(k);
                    n_c += 1;
                }
            }
            if n_c == 0 || n_d == 0 {
                return None;
            }
            let (mean_d, mean_c) = (sum_d / n_d as f64, sum_c / n_c as f64);
            let mut psi = vec![0.0; n];
            for (k, &u) in unit_first.iter().enumerate() {
                if treated(u) {
                    psi[k] = n as f64 * (change(k) - mean_d) / n_d as f64;
                } else if control(u) {
                    psi[k] = -(n as f64) * (change(k) - mean_c) / n_c as f64;
                }
            }
            let att = if ti == bi { 0.0 } else { mean_d - mean_c };
            let se = if ti == bi { None } else { clustered_se(&psi, &cluster, n_clusters) };
            let cell = Cell { group: g, time: t, base: b, att, se, post: t >= g, n_treated: n_d, n_control: n_c };
            Some((cell, psi))
        })
        .collect();
    let mut cells = Vec::with_capacity(results.len());
    let mut influence = Vec::with_capacity(results.len());
    let mut skipped = Vec::new();
    for (r, &(g, ti, _)) in results.into_iter().zip(&specs) {
        match r {
            Some((cell, psi)) => {
                cells.push(cell);
                influence.push(psi);
            }
            None => skipped.push((g, panel.periods[ti])),
        }
    }
    if cells.is_empty() {
        return Err(StatsError::BadSetting {
            rule: "no group has comparison units in any period: use never-treated units, or a panel where some units are treated later",
        });
    }
    Ok(Fit {
        cells,
        groups,
        n_units: n,
        n_clusters,
        dropped_units,
        late_as_never,
        last_group_as_never,
        skipped,
        anticipation: delta,
        influence,
        unit_group,
        share,
        cluster,
    })
}

/// sqrt(Σ_c (Σ_{i in c} ψ_i)²) / n, None when numerically 0.
fn clustered_se(psi: &[f64], cluster: &[usize], n_clusters: usize) -> Option<f64> {
    let n = psi.len() as f64;
    let ss = if n_clusters == psi.len() {
        psi.iter().map(|v| v * v).sum::<f64>()
    } else {
        let mut sums = vec![0.0; n_clusters];
        for (v, &c) in psi.iter().zip(cluster) {
            sums[c] += v;
        }
        sums.iter().map(|v| v * v).sum::<f64>()
    };
    let se = ss.sqrt() / n;
    (se.is_finite() && se > ZERO_SE).then_some(se)
}

impl Fit {
    /// The standard error of an estimate with influence function `psi` (clustered as the fit).
    fn se(&self, psi: &[f64]) -> Option<f64> {
        clustered_se(psi, &self.cluster, self.n_clusters)
    }

    /// The weighted mean of `keepers` (cell indices) with weights proportional to their groups'
    /// shares, and its influence function including the estimated weights.
    fn weighted(&self, keepers: &[usize]) -> (f64, Vec<f64>) {
        let n = self.n_units;
        let pg: Vec<f64> = keepers.iter().map(|&k| self.share[self.group_index(k)]).collect();
        let total: f64 = pg.iter().sum();
        let att: f64 = keepers.iter().zip(&pg).map(|(&k, p)| p / total * self.cells[k].att).sum();
        let mut psi = vec![0.0; n];
        for (&k, p) in keepers.iter().zip(&pg) {
            let w = p / total;
            for (out, v) in psi.iter_mut().zip(&self.influence[k]) {
                *out += w * v;
            }
        }
        // IF of the weights: Σ_k ATT_k [(1{G=g_k} - pg_k)/S] - (Σ_k ATT_k pg_k / S²) Σ_j (1{G=g_j} - pg_j)
        let mut att_by_group = vec![0.0; self.groups.len()];
        let mut count_by_group = vec![0.0; self.groups.len()];
        for &k in keepers {
            let g = self.group_index(k);
            att_by_group[g] += self.cells[k].att;
            count_by_group[g] += 1.0;
        }
        let sum_att_pg: f64 = keepers.iter().zip(&pg).map(|(&k, p)| p * self.cells[k].att).sum();
        let sum_pg = total;
        for (i, out) in psi.iter_mut().enumerate() {
            let (mut a, mut b) = (0.0, 0.0);
            if let Some(g) = self.unit_group[i] {
                a += att_by_group[g];
                b += count_by_group[g];
            }
            // Σ_k ATT_k (1{G_i=g_k} - pg_k) / S, and Σ_j (1{G_i=g_j} - pg_j)
            let first = (a - sum_att_pg) / total;
            let second = b - sum_pg;
            *out += first - att * second / total;
        }
        (att, psi)
    }

    fn group_index(&self, cell: usize) -> usize {
        self.groups.binary_search(&self.cells[cell].group).unwrap_or_default()
    }

    /// The cells aggregated as did::aggte does (see the module's formulas).
    pub fn aggregate(&self, kind: Aggregation) -> Aggregate {
        let post: Vec<usize> = (0..self.cells.len()).filter(|&k| self.cells[k].post).collect();
        let mut by = Vec::new();
        let mut by_influence = Vec::new();
        let mut push = |at: i64, (att, psi): (f64, Vec<f64>)| {
            by.push(Estimate { at: Some(at), att, se: None });
            by_influence.push(psi);
        };
        let (overall_att, overall_influence) = match kind {
            Aggregation::Simple => self.weighted(&post),
            Aggregation::Dynamic => {
                let mut events: Vec<i64> = self.cells.iter().map(|c| c.time - c.group).collect();
                events.sort_unstable();
                events.dedup();
                for &e in &events {
                    let keep: Vec<usize> =
                        (0..self.cells.len()).filter(|&k| self.cells[k].time - self.cells[k].group == e).collect();
                    push(e, self.weighted(&keep));
                }
                let after: Vec<usize> = (0..events.len()).filter(|&j| events[j] >= 0).collect();
                self.mean_of(&by, &by_influence, &after)
            }
            Aggregation::Group => {
                let mut kept_groups = Vec::new();
                for (gi, &g) in self.groups.iter().enumerate() {
                    let keep: Vec<usize> = post.iter().copied().filter(|&k| self.cells[k].group == g).collect();
                    if keep.is_empty() {
                        continue;
                    }
                    // equal weights within a group: the plain mean
                    let m = keep.len() as f64;
                    let att = keep.iter().map(|&k| self.cells[k].att).sum::<f64>() / m;
                    let mut psi = vec![0.0; self.n_units];
                    for &k in &keep {
                        for (o, v) in psi.iter_mut().zip(&self.influence[k]) {
                            *o += v / m;
                        }
                    }
                    push(g, (att, psi));
                    kept_groups.push(gi);
                }
                self.weighted_groups(&kept_groups, &by, &by_influence)
            }
            Aggregation::Calendar => {
                let first_group = self.groups[0];
                let mut times: Vec<i64> =
                    post.iter().map(|&k| self.cells[k].time).filter(|&t| t >= first_group).collect();
                times.sort_unstable();
                times.dedup();
                for &t in &times {
                    let keep: Vec<usize> = post.iter().copied().filter(|&k| self.cells[k].time == t).collect();
                    push(t, self.weighted(&keep));
                }
                let all: Vec<usize> = (0..times.len()).collect();
                self.mean_of(&by, &by_influence, &all)
            }
        };
        for (e, psi) in by.iter_mut().zip(&by_influence) {
            e.se = self.se(psi);
        }
        let overall = Estimate { at: None, att: overall_att, se: self.se(&overall_influence) };
        Aggregate { kind, overall, by, by_influence }
    }

    /// The plain mean of the estimates `which` and of their influence functions.
    fn mean_of(&self, by: &[Estimate], influence: &[Vec<f64>], which: &[usize]) -> (f64, Vec<f64>) {
        let m = which.len().max(1) as f64;
        let att = which.iter().map(|&j| by[j].att).sum::<f64>() / m;
        let mut psi = vec![0.0; self.n_units];
        for &j in which {
            for (o, v) in psi.iter_mut().zip(&influence[j]) {
                *o += v / m;
            }
        }
        (att, psi)
    }

    /// The groups' estimates weighted by their shares, with the weights' influence.
    fn weighted_groups(&self, kept: &[usize], by: &[Estimate], influence: &[Vec<f64>]) -> (f64, Vec<f64>) {
        let total: f64 = kept.iter().map(|&g| self.share[g]).sum();
        let att: f64 = kept.iter().zip(by).map(|(&g, e)| self.share[g] / total * e.att).sum();
        let mut psi = vec![0.0; self.n_units];
        for (&g, inf) in kept.iter().zip(influence) {
            let w = self.share[g] / total;
            for (o, v) in psi.iter_mut().zip(inf) {
                *o += w * v;
            }
        }
        let estimate_of: Vec<Option<f64>> =
            (0..self.groups.len()).map(|g| kept.iter().position(|&k| k == g).map(|j| by[j].att)).collect();
        let sum_att_pg: f64 = kept.iter().zip(by).map(|(&g, e)| self.share[g] * e.att).sum();
        for (i, o) in psi.iter_mut().enumerate() {
            let (a, b) = match self.unit_group[i].and_then(|g| estimate_of[g]) {
                Some(att_g) => (att_g, 1.0),
                None => (0.0, 0.0),
            };
            *o += (a - sum_att_pg) / total - att * (b - total) / total;
        }
        (att, psi)
    }

    /// The joint Wald test that the pre-treatment event-time estimates (e < -δ, the universal
    /// base's zero left out) are all 0; None when there are none or their covariance is
    /// singular.
    pub fn pretrend(&self, dynamic: &Aggregate) -> Option<Wald> {
        let which: Vec<usize> = (0..dynamic.by.len())
            .filter(|&j| {
                let e = &dynamic.by[j];
                e.at.is_some_and(|at| at < -self.anticipation) && e.se.is_some()
            })
            .collect();
        let p = which.len();
        if p == 0 {
            return None;
        }
        let sums: Vec<Vec<f64>> = which.iter().map(|&j| self.cluster_sums(&dynamic.by_influence[j])).collect();
        let n2 = (self.n_units as f64).powi(2);
        let mut v = vec![0.0; p * p];
        for a in 0..p {
            for b in a..p {
                let s: f64 = sums[a].iter().zip(&sums[b]).map(|(x, y)| x * y).sum::<f64>() / n2;
                v[a * p + b] = s;
                v[b * p + a] = s;
            }
        }
        let (values, vectors) = crate::linalg::symmetric_eigen(&v, p).ok()?;
        let largest = values.iter().fold(0.0f64, |a, &b| a.max(b));
        if values.iter().any(|&l| l <= 1e-10 * largest) {
            return None;
        }
        let theta: Vec<f64> = which.iter().map(|&j| dynamic.by[j].att).collect();
        // θ' V⁻¹ θ = Σ_k (u_k' θ)² / λ_k
        let statistic: f64 = (0..p)
            .map(|k| {
                let proj: f64 = (0..p).map(|i| vectors[i * p + k] * theta[i]).sum();
                proj * proj / values[k]
            })
            .sum();
        Some(Wald { statistic, df: p, p_value: pchisq_upper(statistic, p as f64) })
    }

    /// ψ summed within clusters.
    fn cluster_sums(&self, psi: &[f64]) -> Vec<f64> {
        let mut sums = vec![0.0; self.n_clusters];
        for (v, &c) in psi.iter().zip(&self.cluster) {
            sums[c] += v;
        }
        sums
    }

    /// The influence functions of the cells (`None`) or of an aggregate's estimates.
    fn family<'a>(&'a self, aggregate: Option<&'a Aggregate>) -> Vec<&'a [f64]> {
        match aggregate {
            None => self.influence.iter().map(Vec::as_slice).collect(),
            Some(a) => a.by_influence.iter().map(Vec::as_slice).collect(),
        }
    }

    /// Uniform (1 - `alpha`) bands for the cells (`aggregate` None) or for an aggregate's
    /// estimates, from `reps` multiplier-bootstrap draws seeded by `seed`.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for fewer than 99 draws or `alpha` outside (0, 1).
    pub fn uniform_band(&self, aggregate: Option<&Aggregate>, reps: usize, seed: u64, alpha: f64) -> Result<Band> {
        if reps < 99 {
            return Err(StatsError::OutOfRange { what: "bootstrap draws", allowed: "at least 99" });
        }
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(StatsError::OutOfRange { what: "alpha", allowed: "between 0 and 1" });
        }
        let sums: Vec<Vec<f64>> = self.family(aggregate).iter().map(|psi| self.cluster_sums(psi)).collect();
        let n = self.n_units as f64;
        // draws[r][k]: Σ_c v_c Ψ_ck / n
        let draws: Vec<Vec<f64>> = (0..reps)
            .into_par_iter()
            .map(|r| {
                let mut rng = Rng::new(seed, r as u64 + 1);
                let v: Vec<f64> =
                    (0..self.n_clusters).map(|_| if rng.next_u64() >> 63 == 1 { 1.0 } else { -1.0 }).collect();
                sums.iter().map(|s| s.iter().zip(&v).map(|(a, b)| a * b).sum::<f64>() / n).collect()
            })
            .collect();
        let iqr_normal = qnorm(0.75) - qnorm(0.25);
        let se: Vec<Option<f64>> = (0..sums.len())
            .map(|k| {
                let mut column: Vec<f64> = draws.iter().map(|d| d[k]).collect();
                column.sort_unstable_by(f64::total_cmp);
                let s = (quantile_type7(&column, 0.75) - quantile_type7(&column, 0.25)) / iqr_normal;
                (s.is_finite() && s > ZERO_SE).then_some(s)
            })
            .collect();
        let mut largest: Vec<f64> = draws
            .iter()
            .map(|d| d.iter().zip(&se).filter_map(|(x, s)| s.map(|s| (x / s).abs())).fold(0.0f64, f64::max))
            .collect();
        largest.sort_unstable_by(f64::total_cmp);
        // the smallest draw at or above the 1 - α share of draws (a type 1 quantile)
        let index = ((1.0 - alpha) * reps as f64).ceil() as usize;
        let critical_value = largest[index.clamp(1, reps) - 1];
        Ok(Band { critical_value, se })
    }
}

/// The `p` quantile of sorted values, interpolated between order statistics (R's default).
fn quantile_type7(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// A normal (1 - α) interval.
pub fn normal_interval(att: f64, se: Option<f64>, alpha: f64) -> (Option<f64>, Option<f64>) {
    let z = qnorm(1.0 - alpha / 2.0);
    match se {
        Some(se) => (Some(att - z * se), Some(att + z * se)),
        None => (None, None),
    }
}
