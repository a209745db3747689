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

impl ValueKind {
    fn of(x: &[f64]) -> Self {
        if x.iter().all(|&v| v == 0.0 || v == 1.0) {
            ValueKind::Binary
        } else {
            ValueKind::Continuous
        }
    }
}

/// One group's sums in one sample (weights w, 1 before matching), each added in unit order:
/// MatchIt's `wm` and `wvar` from them without another pass over the group.
#[derive(Debug, Clone, Copy)]
struct GroupSums {
    /// sum w
    total: f64,
    /// sum x w
    xw: f64,
    /// units with w != 0
    weighted: usize,
    /// sum x (w / total)
    normalised_mean: f64,
    /// sum (w / total)^2
    normalised_square: f64,
    /// sum (w / total) (x - normalised_mean)^2
    squares: f64,
}

impl GroupSums {
    /// No units yet: the sums start at -0.0, as Rust's `Iterator::sum` of floats does.
    const EMPTY: GroupSums =
        GroupSums { total: -0.0, xw: -0.0, weighted: 0, normalised_mean: -0.0, normalised_square: -0.0, squares: -0.0 };

    /// The weighted mean, sum x w / sum w.
    fn mean(&self) -> f64 {
        self.xw / self.total
    }

    /// MatchIt's `wvar`: p(1 - p) for a 0/1 covariate, else the weighted sum of squares over
    /// 1 - sum of squared normalised weights.
    fn var(&self, kind: ValueKind) -> f64 {
        let m = self.normalised_mean;
        if kind == ValueKind::Binary {
            m * (1.0 - m)
        } else {
            self.squares / (1.0 - self.normalised_square)
        }
    }
}

/// Each sample's sums per group ([treated, control]) of x, in three passes over the units
/// whatever the number of samples (weights None: 1 for every unit).
fn group_sums<const K: usize>(x: &[f64], treat: &[bool], weights: [Option<&[f64]>; K]) -> [[GroupSums; 2]; K] {
    let mut sums = [[GroupSums::EMPTY; 2]; K];
    let weight = |k: usize, i: usize| weights[k].map_or(1.0, |w| w[i]);
    let group = |t: bool| usize::from(!t);
    for (i, &t) in treat.iter().enumerate() {
        for (k, s) in sums.iter_mut().enumerate() {
            let (w, s) = (weight(k, i), &mut s[group(t)]);
            s.total += w;
            s.xw += x[i] * w;
            s.weighted += usize::from(w != 0.0);
        }
    }
    for (i, &t) in treat.iter().enumerate() {
        for (k, s) in sums.iter_mut().enumerate() {
            let (w, s) = (weight(k, i), &mut s[group(t)]);
            s.normalised_mean += x[i] * (w / s.total);
            s.normalised_square += (w / s.total) * (w / s.total);
        }
    }
    for (i, &t) in treat.iter().enumerate() {
        for (k, s) in sums.iter_mut().enumerate() {
            let (w, s) = (weight(k, i), &mut s[group(t)]);
            let d = x[i] - s.normalised_mean;
            s.squares += (w / s.total) * d * d;
        }
    }
    sums
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

/// The units in increasing order of x (ties in any order: only the ends of runs of equal
/// values are read).
fn order_of(x: &[f64]) -> Vec<(f64, u32)> {
    // as integers in f64's total order, ties by position: integer comparisons on the values
    // themselves, and the same order whatever the sort
    let key = |v: f64| {
        let b = v.to_bits();
        if b >> 63 == 1 {
            !b
        } else {
            b | 1 << 63
        }
    };
    let mut keyed: Vec<(u64, u32)> = x.iter().enumerate().map(|(i, &v)| (key(v), i as u32)).collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| (x[i as usize], i)).collect()
}

/// MatchIt's `qqsum(standardize = TRUE)` in each sample: mean and max eCDF differences,
/// `sorted` the values of x in order, each with its unit, `totals` each sample's [treated,
/// control] sums of weights. One pass over the order for every sample.
fn ecdf_differences<const K: usize>(
    treat: &[bool],
    weights: [Option<&[f64]>; K],
    totals: [[f64; 2]; K],
    sorted: &[(f64, u32)],
) -> [(f64, f64); K] {
    let n = sorted.len();
    let first_group = treat[sorted[0].1 as usize];
    let mut cumulative = [0.0; K];
    // per sample: sum and largest of the differences at the ends of runs of equal values
    let mut ends = [(0.0, 0.0f64); K];
    let mut runs = 0usize;
    for (k, &(x, i)) in sorted.iter().enumerate() {
        let i = i as usize;
        let g = usize::from(!treat[i]);
        let sign = if treat[i] == first_group { -1.0 } else { 1.0 };
        for (s, c) in cumulative.iter_mut().enumerate() {
            let wi = weights[s].map_or(1.0, |w| w[i]) / totals[s][g];
            *c += sign * wi;
        }
        if k + 1 == n || sorted[k + 1].0 != x {
            runs += 1;
            for (e, c) in ends.iter_mut().zip(&cumulative) {
                *e = (e.0 + c.abs(), e.1.max(c.abs()));
            }
        }
    }
    ends.map(|(sum, max)| (sum / runs as f64, max))
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

/// [`balance_row`] for several samples at once, each pass over the units serving them all,
/// with the order of x computed already (None: computed when needed).
fn balance_rows<const K: usize>(
    name: &str,
    x: &[f64],
    treat: &[bool],
    weights: [Option<&[f64]>; K],
    treated_sd: Option<f64>,
    order: Option<&[(f64, u32)]>,
) -> [BalanceRow; K] {
    let kind = ValueKind::of(x);
    let sums = group_sums(x, treat, weights);
    let needs_ecdf = kind == ValueKind::Continuous && sums.iter().any(|[t, c]| t.weighted >= 2 || c.weighted >= 2);
    let ecdf = if !needs_ecdf {
        [(f64::NAN, f64::NAN); K]
    } else {
        let totals = sums.map(|s| [s[0].total, s[1].total]);
        match order {
            Some(o) => ecdf_differences(treat, weights, totals, o),
            None => ecdf_differences(treat, weights, totals, &order_of(x)),
        }
    };
    std::array::from_fn(|k| {
        let [t, c] = sums[k];
        let too_small = t.weighted < 2 && c.weighted < 2;
        let (mean_treated, mean_control) = (t.mean(), c.mean());
        let diff = mean_treated - mean_control;
        let smd = if diff.abs() > f64::EPSILON.sqrt() && !too_small {
            diff / treated_sd.unwrap_or_else(|| standardiser(x, treat))
        } else {
            diff
        };
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
    let kind = ValueKind::of(x);
    let [[treated, _]] = group_sums(x, treat, [None]);
    let s = treated.var(kind).sqrt();
    if s.is_finite() && s >= f64::EPSILON.sqrt() {
        s
    } else {
        pooled_sd(x, treat, kind)
    }
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
    use rayon::prelude::*;
    let rows: Vec<(BalanceRow, BalanceRow)> = columns
        .par_iter()
        .map(|(name, x)| {
            let sd = standardiser(x, treat);
            let [before, after] = balance_rows(name, x, treat, [None, Some(weights)], Some(sd), None);
            (before, after)
        })
        .collect();
    let (before, after) = rows.into_iter().unzip();
    BalanceTable { counts: counts(treat, weights), before, after }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sorting by the integer keys orders as f64's total order, ties by position, over signs,
    /// zeros, infinities and ties.
    #[test]
    fn the_order_is_the_total_order_with_ties_by_position() {
        let mut rng = crate::rng::Rng::new(3, 1);
        let mut next = || rng.next_u64();
        let special = [0.0, -0.0, 1.0, -1.0, f64::INFINITY, f64::NEG_INFINITY, 1e-300, -2.5, 2.5];
        for case in 0..4 {
            let x: Vec<f64> = (0..5000)
                .map(|i| match case {
                    0 => (next() % 7) as f64 - 3.0,
                    1 => special[(next() % 9) as usize],
                    2 => (next() as f64 / u64::MAX as f64 - 0.5) * 1e6,
                    _ => f64::from(i % 3),
                })
                .collect();
            let mut expected: Vec<(f64, u32)> = x.iter().enumerate().map(|(i, &v)| (v, i as u32)).collect();
            expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let got = order_of(&x);
            assert!(
                got.iter().zip(&expected).all(|(a, b)| a.0.to_bits() == b.0.to_bits() && a.1 == b.1),
                "case {case}"
            );
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
    }
}
