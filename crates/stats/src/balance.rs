//! Covariate balance before and after matching, exactly as MatchIt 4.5.1's `summary()`
//! (`bal1var`, estimand ATT, no sampling weights).
//!
//! # Formula
//! For covariate x, treated units T and controls C with weights w (1 before matching, the
//! match weights after):
//! - means: weighted means in each group;
//! - standardised mean difference: (mean_T - mean_C) / s, where s is the treated units'
//!   standard deviation in the unmatched sample (n - 1 denominator; sqrt(p(1 - p)) for a 0/1
//!   covariate); when |mean_T - mean_C| <= sqrt(machine epsilon) the raw difference is shown;
//! - variance ratio (not for 0/1 covariates): weighted variance of T over that of C, each
//!   sum w(x - m)^2 / (1 - sum w^2) with weights normalised to sum 1;
//! - eCDF mean and max: the mean and the largest absolute difference between the two groups'
//!   weighted empirical CDFs over the distinct values of x (for 0/1 covariates both equal the
//!   absolute mean difference).
//!
//! # Examples
//! ```
//! use swp_stats::balance::balance_row;
//! let x = [1.0, 2.0, 3.0, 2.0, 4.0];
//! let treat = [true, true, true, false, false];
//! let row = balance_row("x", &x, &treat, None, None);
//! assert_eq!(row.mean_treated, 2.0);
//! assert_eq!(row.mean_control, 3.0);
//! assert!((row.smd + 1.0).abs() < 1e-12); // (2 - 3) / sd(1, 2, 3)
//! ```

use serde::Serialize;

/// One covariate's balance in one sample (before or after matching).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceRow {
    /// Covariate name (`distance` for the propensity score).
    pub covariate: String,
    /// Weighted mean among treated units.
    pub mean_treated: f64,
    /// Weighted mean among controls.
    pub mean_control: f64,
    /// Standardised mean difference.
    pub smd: f64,
    /// Variance ratio (None for 0/1 covariates).
    pub var_ratio: Option<f64>,
    /// Mean eCDF difference.
    pub ecdf_mean: f64,
    /// Largest eCDF difference.
    pub ecdf_max: f64,
}

/// Whether a covariate is a 0/1 indicator (proportions: variance p(1 - p), no variance ratio,
/// eCDF differences equal to the mean difference) or takes other values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Binary,
    Continuous,
}

/// A value of a 0/1 covariate ([`ValueKind::Binary`] when every value is).
fn zero_or_one(v: f64) -> bool {
    v == 0.0 || v == 1.0
}

/// One group's sums in one sample (weights w, 1 before matching), each added in unit order:
/// MatchIt's `wm` and `wvar` from them.
#[derive(Debug, Clone, Copy, Default)]
struct GroupSums {
    /// sum w
    total: f64,
    /// sum x w
    xw: f64,
    /// sum w^2
    square: f64,
    /// units with w != 0
    weighted: usize,
    /// sum w (x - mean)^2
    squares: f64,
}

impl GroupSums {
    /// The weighted mean, sum x w / sum w.
    fn mean(&self) -> f64 {
        self.xw / self.total
    }

    /// MatchIt's `wvar`: p(1 - p) for a 0/1 covariate, else, with the weights normalised to
    /// sum 1, sum w (x - mean)^2 / (1 - sum w^2).
    fn var(&self, kind: ValueKind) -> f64 {
        let m = self.mean();
        if kind == ValueKind::Binary {
            m * (1.0 - m)
        } else {
            (self.squares / self.total) / (1.0 - self.square / (self.total * self.total))
        }
    }
}

/// Each sample's sums per group ([treated, control]) of x, in two passes over the units
/// whatever the number of samples (weights None: 1 for every unit), and whether x is 0/1.
fn group_sums<const K: usize>(
    x: &[f64],
    treat: &[bool],
    weights: [Option<&[f64]>; K],
) -> ([[GroupSums; 2]; K], ValueKind) {
    let mut sums = [[GroupSums::default(); 2]; K];
    let weight = |k: usize, i: usize| weights[k].map_or(1.0, |w| w[i]);
    let group = |t: bool| usize::from(!t);
    let mut binary = true;
    for (i, &t) in treat.iter().enumerate() {
        binary &= zero_or_one(x[i]);
        for (k, s) in sums.iter_mut().enumerate() {
            let (w, s) = (weight(k, i), &mut s[group(t)]);
            s.total += w;
            s.xw += x[i] * w;
            s.square += w * w;
            s.weighted += usize::from(w != 0.0);
        }
    }
    let means = sums.map(|s| s.map(|g| g.mean()));
    for (i, &t) in treat.iter().enumerate() {
        for (k, s) in sums.iter_mut().enumerate() {
            let (w, d) = (weight(k, i), x[i] - means[k][group(t)]);
            s[group(t)].squares += w * d * d;
        }
    }
    (sums, if binary { ValueKind::Binary } else { ValueKind::Continuous })
}

/// The standardising SD from the unweighted sample's treated sums (see [`standardiser`]).
fn standardiser_of(treated: &GroupSums, kind: ValueKind, x: &[f64], treat: &[bool]) -> f64 {
    let s = treated.var(kind).sqrt();
    if s.is_finite() && s >= f64::EPSILON.sqrt() {
        s
    } else {
        pooled_sd(x, treat, kind)
    }
}

/// MatchIt's `pooled_sd` with unit sampling weights (the fallback when the treated SD is 0).
fn pooled_sd(x: &[f64], treat: &[bool], kind: ValueKind) -> f64 {
    let n = x.len() as f64;
    let group = |g: bool| -> (f64, f64) {
        let v: Vec<f64> = x.iter().zip(treat).filter(|(_, &t)| t == g).map(|(a, _)| *a).collect();
        (v.iter().sum::<f64>(), v.len() as f64)
    };
    if kind == ValueKind::Binary {
        [true, false].iter().map(|&g| group(g)).map(|(s, k)| s * (1.0 - s / k) / n).sum::<f64>().sqrt()
    } else {
        let (s1, k1) = group(true);
        let (s0, k0) = group(false);
        let ss: f64 = x
            .iter()
            .zip(treat)
            .map(|(&a, &t)| {
                let m = if t { s1 / k1 } else { s0 / k0 };
                (a - m) * (a - m)
            })
            .sum();
        (ss / n / (1.0 - 1.0 / n)).sqrt()
    }
}

/// A value as an integer in f64's order, -0.0 as 0.0 (so equal values share a key).
fn value_key(v: f64) -> u64 {
    crate::moments::total_order_key(if v == 0.0 { 0.0 } else { v })
}

/// A covariate's values sorted (as integer keys in f64's order, -0.0 as 0.0), treated units and controls
/// apart: the eCDF statistics' sort, which depends on the values and the treatment only, so it
/// can be done before the matching is known ([`balance_table_sorted`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SortedValues([Vec<u64>; 2]);

impl SortedValues {
    /// Sorts `x` by group of `treat`.
    pub fn new(x: &[f64], treat: &[bool]) -> Self {
        let group = |g: bool| {
            let mut k: Vec<u64> = x.iter().zip(treat).filter(|&(_, &t)| t == g).map(|(&v, _)| value_key(v)).collect();
            k.sort_unstable();
            k
        };
        SortedValues([group(true), group(false)])
    }

    /// [`SortedValues::new`] for a column whose balance reads them: None for a 0/1 column (its
    /// eCDF statistics are the mean difference).
    pub fn for_balance(x: &[f64], treat: &[bool]) -> Option<Self> {
        (!x.iter().all(|&v| zero_or_one(v))).then(|| SortedValues::new(x, treat))
    }
}

/// MatchIt's `qqsum(standardize = TRUE)` in each sample: the mean and the largest absolute
/// difference between the treated units' and the controls' weighted eCDFs, read at each
/// distinct value of x; `totals` is each sample's [treated, control] sum of weights.
///
/// The values are sorted as integer keys (f64's order, -0.0 as 0.0 so equal values share a
/// key), treated units and controls apart; a walk over both finds the distinct values and how
/// many units of each group lie at or below each. A sample without weights needs only those
/// counts (exact integers); a weighted one sums the weights of its units with a weight, sorted
/// by value (ties by unit), up to each value. Each group's eCDF is its running sum over its
/// total, so the differences are as exact as the sums.
fn ecdf_differences<const K: usize>(
    x: &[f64],
    treat: &[bool],
    weights: [Option<&[f64]>; K],
    totals: [[f64; 2]; K],
    sorted: &SortedValues,
) -> [(f64, f64); K] {
    let [treated, controls] = &sorted.0;
    // each weighted sample's units with a weight, by value then unit
    let weighted = weights.map(|w| {
        w.map(|w| {
            let mut units: Vec<(u64, u32)> =
                (0..x.len()).filter(|&i| w[i] != 0.0).map(|i| (value_key(x[i]), i as u32)).collect();
            units.sort_unstable();
            (w, units)
        })
    });
    let mut running = [[0.0f64; 2]; K];
    let mut next = [0usize; K];
    // per sample: the sum and the largest of the differences at the distinct values
    let mut ends = [(0.0, 0.0f64); K];
    let (mut t, mut c, mut distinct) = (0usize, 0usize, 0usize);
    while t < treated.len() || c < controls.len() {
        let v = treated.get(t).copied().unwrap_or(u64::MAX).min(controls.get(c).copied().unwrap_or(u64::MAX));
        while treated.get(t) == Some(&v) {
            t += 1;
        }
        while controls.get(c) == Some(&v) {
            c += 1;
        }
        distinct += 1;
        for s in 0..K {
            let [below_t, below_c] = match &weighted[s] {
                None => [t as f64, c as f64],
                Some((w, units)) => {
                    while let Some(&(_, i)) = units.get(next[s]).filter(|(k, _)| *k <= v) {
                        running[s][usize::from(!treat[i as usize])] += w[i as usize];
                        next[s] += 1;
                    }
                    running[s]
                }
            };
            let d = (below_t / totals[s][0] - below_c / totals[s][1]).abs();
            ends[s] = (ends[s].0 + d, ends[s].1.max(d));
        }
    }
    ends.map(|(sum, max)| (sum / distinct as f64, max))
}

/// The balance of covariate `x` between treated and control units, with match `weights`
/// (None: before matching). `treated_sd` is the standardising SD; None computes it from the
/// unmatched sample (pass it once computed so after-matching rows use the same one).
pub fn balance_row(
    name: &str,
    x: &[f64],
    treat: &[bool],
    weights: Option<&[f64]>,
    treated_sd: Option<f64>,
) -> BalanceRow {
    let [row] = balance_rows(name, x, treat, [weights], treated_sd, None);
    row
}

/// [`balance_row`] for several samples at once, each pass over the units serving them all.
fn balance_rows<const K: usize>(
    name: &str,
    x: &[f64],
    treat: &[bool],
    weights: [Option<&[f64]>; K],
    treated_sd: Option<f64>,
    sorted: Option<&SortedValues>,
) -> [BalanceRow; K] {
    let (sums, kind) = group_sums(x, treat, weights);
    // the standardising SD from an unweighted sample's sums when there is one
    let sd = || match weights.iter().position(Option::is_none) {
        Some(k) => standardiser_of(&sums[k][0], kind, x, treat),
        None => standardiser(x, treat),
    };
    let needs_ecdf = kind == ValueKind::Continuous && sums.iter().any(|[t, c]| t.weighted >= 2 || c.weighted >= 2);
    let ecdf = if !needs_ecdf {
        [(f64::NAN, f64::NAN); K]
    } else {
        let totals = sums.map(|s| [s[0].total, s[1].total]);
        match sorted {
            Some(sorted) => ecdf_differences(x, treat, weights, totals, sorted),
            None => ecdf_differences(x, treat, weights, totals, &SortedValues::new(x, treat)),
        }
    };
    std::array::from_fn(|k| {
        let [t, c] = sums[k];
        let too_small = t.weighted < 2 && c.weighted < 2;
        let (mean_treated, mean_control) = (t.mean(), c.mean());
        let diff = mean_treated - mean_control;
        let smd =
            if diff.abs() > f64::EPSILON.sqrt() && !too_small { diff / treated_sd.unwrap_or_else(sd) } else { diff };
        let (var_ratio, ecdf_mean, ecdf_max) = if kind == ValueKind::Binary {
            (None, diff.abs(), diff.abs())
        } else if too_small {
            (None, f64::NAN, f64::NAN)
        } else {
            (Some(t.var(kind) / c.var(kind)), ecdf[k].0, ecdf[k].1)
        };
        BalanceRow { covariate: name.to_string(), mean_treated, mean_control, smd, var_ratio, ecdf_mean, ecdf_max }
    })
}

/// The SD that standardises mean differences: the treated units' SD in the unmatched sample
/// (sqrt(p(1 - p)) for 0/1), or the pooled SD when that is 0.
pub fn standardiser(x: &[f64], treat: &[bool]) -> f64 {
    let ([[treated, _]], kind) = group_sums(x, treat, [None]);
    standardiser_of(&treated, kind, x, treat)
}

/// Unit counts of a matching (MatchIt's `summary()$nn`, without effective sample sizes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Treated units.
    pub treated: usize,
    /// Controls.
    pub control: usize,
    /// Treated units with a positive weight.
    pub matched_treated: usize,
    /// Controls with a positive weight.
    pub matched_control: usize,
    /// Units discarded before matching (none: no `discard` option).
    pub discarded: usize,
}

/// Counts from the treatment indicator and the match weights.
pub fn counts(treat: &[bool], weights: &[f64]) -> Counts {
    let treated = treat.iter().filter(|&&t| t).count();
    let matched = |g: bool| treat.iter().zip(weights).filter(|(&t, &w)| t == g && w > 0.0).count();
    Counts {
        treated,
        control: treat.len() - treated,
        matched_treated: matched(true),
        matched_control: matched(false),
        discarded: 0,
    }
}

/// Balance before and after matching of each named column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BalanceTable {
    /// Unit counts.
    pub counts: Counts,
    /// Before matching.
    pub before: Vec<BalanceRow>,
    /// After matching.
    pub after: Vec<BalanceRow>,
}

/// The balance table of the columns of a matrix (an `ndarray` `Array2` or view, or a
/// [`crate::Matrix`]), one name per column: [`balance_table`] on its columns (each copied once).
///
/// # Errors
/// [`crate::StatsError::LengthMismatch`] when the names are not one per column or the matrix
/// is not one row per unit of `treat` and `weights`.
pub fn balance_table_of_matrix<'a>(
    names: &[&str],
    x: impl Into<crate::MatrixRef<'a>>,
    treat: &[bool],
    weights: &[f64],
) -> crate::Result<BalanceTable> {
    let x = x.into();
    if names.len() != x.p || x.n != treat.len() || weights.len() != treat.len() {
        return Err(crate::StatsError::LengthMismatch { inputs: "column names, matrix, treatment and weights" });
    }
    let columns: Vec<(String, Vec<f64>)> =
        names.iter().enumerate().map(|(j, name)| ((*name).to_string(), x.column(j))).collect();
    Ok(balance_table(&columns, treat, weights))
}

/// The balance table of `columns` (name, values), the distance first when given. Columns run
/// in parallel; each is sorted once for both samples.
pub fn balance_table(columns: &[(String, Vec<f64>)], treat: &[bool], weights: &[f64]) -> BalanceTable {
    balance_table_sorted(columns, treat, weights, &[])
}

/// [`balance_table`] with some columns' values sorted already: `sorted[j]` for `columns[j]`
/// when given (missing or None: sorted here). The same table, bit for bit.
pub fn balance_table_sorted(
    columns: &[(String, Vec<f64>)],
    treat: &[bool],
    weights: &[f64],
    sorted: &[Option<SortedValues>],
) -> BalanceTable {
    use rayon::prelude::*;
    let rows: Vec<(BalanceRow, BalanceRow)> = columns
        .par_iter()
        .enumerate()
        .map(|(j, (name, x))| {
            let sorted = sorted.get(j).and_then(Option::as_ref);
            let [before, after] = balance_rows(name, x, treat, [None, Some(weights)], None, sorted);
            (before, after)
        })
        .collect();
    let (before, after) = rows.into_iter().unzip();
    BalanceTable { counts: counts(treat, weights), before, after }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eCDF differences against their definition computed the slow way: at each distinct
    /// value v, |sum of treated weights at or below v / treated total - the same for controls|;
    /// continuous, tied, signed-zero and integer values, with and without weights (zeros too).
    #[test]
    fn ecdf_differences_follow_their_definition() {
        let mut rng = crate::rng::Rng::new(3, 1);
        let mut next = || rng.next_u64();
        let special = [0.0, -0.0, 1.0, -1.0, 1e-300, -2.5, 2.5];
        for case in 0..4 {
            let n = 600;
            let treat: Vec<bool> = (0..n).map(|_| next() % 3 == 0).collect();
            let x: Vec<f64> = (0..n)
                .map(|i| match case {
                    0 => (next() % 7) as f64 - 3.0,
                    1 => special[(next() % 7) as usize],
                    2 => (next() as f64 / u64::MAX as f64 - 0.5) * 1e6,
                    _ => f64::from(u8::from(i % 3 == 0)) * 2.0 + (i % 5) as f64,
                })
                .collect();
            let w: Vec<f64> = (0..n).map(|_| [0.0, 1.0, 0.25, 3.0][(next() % 4) as usize]).collect();
            let slow = |w: &dyn Fn(usize) -> f64| {
                let total = |g: bool| (0..n).filter(|&i| treat[i] == g).map(w).sum::<f64>();
                let (s1, s0) = (total(true), total(false));
                let mut values = x.clone();
                values.sort_by(f64::total_cmp);
                values.dedup_by(|a, b| a == b);
                let d: Vec<f64> = values
                    .iter()
                    .map(|&v| {
                        let below = |g: bool| (0..n).filter(|&i| treat[i] == g && x[i] <= v).map(w).sum::<f64>();
                        (below(true) / s1 - below(false) / s0).abs()
                    })
                    .collect();
                (d.iter().sum::<f64>() / d.len() as f64, d.iter().fold(0.0f64, |a, &b| a.max(b)), [s1, s0])
            };
            let (mean0, max0, totals0) = slow(&|_| 1.0);
            let (mean1, max1, totals1) = slow(&|i| w[i]);
            let sorted = SortedValues::new(&x, &treat);
            let [(m0, x0), (m1, x1)] = ecdf_differences(&x, &treat, [None, Some(&w)], [totals0, totals1], &sorted);
            for (a, b) in [(m0, mean0), (x0, max0), (m1, mean1), (x1, max1)] {
                assert!((a - b).abs() <= 1e-12, "case {case}: {a} against {b}");
            }
        }
    }

    /// The table's rows, both samples from shared passes, are the same bits as each sample's
    /// row on its own: continuous, tied and 0/1 columns, weights with zeros and repeats, and a
    /// matching that keeps fewer than two units per group.
    #[test]
    fn the_table_is_each_samples_row_computed_alone() {
        let mut rng = crate::rng::Rng::new(11, 1);
        let n = 3000;
        let treat: Vec<bool> = (0..n).map(|_| rng.next_u64().is_multiple_of(4)).collect();
        let columns: Vec<(String, Vec<f64>)> = [
            (0..n).map(|_| rng.next_u64() as f64 / u64::MAX as f64 * 10.0 - 3.0).collect::<Vec<f64>>(),
            (0..n).map(|_| (rng.next_u64() % 9) as f64 - 4.0).collect(),
            (0..n).map(|_| (rng.next_u64() % 2) as f64).collect(),
        ]
        .into_iter()
        .enumerate()
        .map(|(j, v)| (format!("c{j}"), v))
        .collect();
        let weights: Vec<f64> = (0..n).map(|_| [0.0, 0.0, 1.0, 0.5, 2.0][(rng.next_u64() % 5) as usize]).collect();
        let mut few = vec![0.0; n];
        few[treat.iter().position(|&t| t).unwrap()] = 1.0;
        for w in [&weights, &few] {
            let table = balance_table(&columns, &treat, w);
            for ((name, x), (before, after)) in columns.iter().zip(table.before.iter().zip(&table.after)) {
                let sd = standardiser(x, &treat);
                let bits = |r: &BalanceRow| {
                    let v =
                        [r.mean_treated, r.mean_control, r.smd, r.var_ratio.unwrap_or(-1.0), r.ecdf_mean, r.ecdf_max];
                    v.map(f64::to_bits)
                };
                assert_eq!(bits(before), bits(&balance_row(name, x, &treat, None, Some(sd))), "{name} before");
                assert_eq!(bits(after), bits(&balance_row(name, x, &treat, Some(w), Some(sd))), "{name} after");
            }
        }
        assert!(balance_table(&columns, &treat, &few).after[0].ecdf_mean.is_nan());
        // sorted beforehand (some columns), the same table
        let sorted = vec![None, Some(SortedValues::new(&columns[1].1, &treat))];
        assert_eq!(
            balance_table_sorted(&columns, &treat, &weights, &sorted),
            balance_table(&columns, &treat, &weights)
        );
    }
}
