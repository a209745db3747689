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

/// The weighted mean of (value, weight) pairs: sum x w / sum w, summed in order.
fn weighted_mean(pairs: impl Iterator<Item = (f64, f64)> + Clone) -> f64 {
    pairs.clone().map(|(x, w)| x * w).sum::<f64>() / pairs.map(|(_, w)| w).sum::<f64>()
}

/// MatchIt's `wvar`, of (value, weight) pairs.
fn weighted_var(pairs: impl Iterator<Item = (f64, f64)> + Clone, kind: ValueKind) -> f64 {
    let total: f64 = pairs.clone().map(|(_, w)| w).sum();
    let m: f64 = pairs.clone().map(|(x, w)| x * (w / total)).sum();
    if kind == ValueKind::Binary {
        m * (1.0 - m)
    } else {
        let ss: f64 = pairs.clone().map(|(x, w)| (w / total) * (x - m) * (x - m)).sum();
        ss / (1.0 - pairs.map(|(_, w)| (w / total) * (w / total)).sum::<f64>())
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

/// MatchIt's `qqsum(standardize = TRUE)`: mean and max eCDF differences, `sorted` the values
/// of x in order, each with its unit.
fn ecdf_differences(treat: &[bool], w: &impl Fn(usize) -> f64, sorted: &[(f64, u32)]) -> (f64, f64) {
    let n = sorted.len();
    let (s1, s0) = (0..n).fold((0.0, 0.0), |(a, b), i| if treat[i] { (a + w(i), b) } else { (a, b + w(i)) });
    let first_group = treat[sorted[0].1 as usize];
    let mut cumulative = 0.0;
    let mut diffs = Vec::new();
    for (k, &(x, i)) in sorted.iter().enumerate() {
        let i = i as usize;
        let wi = if treat[i] { w(i) / s1 } else { w(i) / s0 };
        cumulative += if treat[i] == first_group { -wi } else { wi };
        let run_ends = k + 1 == n || sorted[k + 1].0 != x;
        if run_ends {
            diffs.push(cumulative.abs());
        }
    }
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    let max = diffs.iter().fold(0.0f64, |a, &b| a.max(b));
    (mean, max)
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
    balance_row_sorted(name, x, treat, weights, treated_sd, None)
}

/// [`balance_row`] with the order of x computed already (None: computed when needed).
fn balance_row_sorted(
    name: &str,
    x: &[f64],
    treat: &[bool],
    weights: Option<&[f64]>,
    treated_sd: Option<f64>,
    order: Option<&[(f64, u32)]>,
) -> BalanceRow {
    let kind = ValueKind::of(x);
    // each group's (value, weight) pairs, read in place
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
    let group = |g: bool| (0..x.len()).filter(move |&i| treat[i] == g).map(move |i| (x[i], weight(i)));
    let weighted = |g: bool| group(g).filter(|&(_, w)| w != 0.0).count();
    let too_small = weighted(true) < 2 && weighted(false) < 2;
    let mean_treated = weighted_mean(group(true));
    let mean_control = weighted_mean(group(false));
    let diff = mean_treated - mean_control;
    let smd = if diff.abs() > f64::EPSILON.sqrt() && !too_small {
        let std = treated_sd.unwrap_or_else(|| standardiser(x, treat));
        diff / std
    } else {
        diff
    };
    let (var_ratio, ecdf_mean, ecdf_max) = if kind == ValueKind::Binary {
        (None, diff.abs(), diff.abs())
    } else if too_small {
        (None, f64::NAN, f64::NAN)
    } else {
        let vr = weighted_var(group(true), ValueKind::Continuous) / weighted_var(group(false), ValueKind::Continuous);
        let (mean, max) = match order {
            Some(o) => ecdf_differences(treat, &weight, o),
            None => ecdf_differences(treat, &weight, &order_of(x)),
        };
        (Some(vr), mean, max)
    };
    BalanceRow { covariate: name.to_string(), mean_treated, mean_control, smd, var_ratio, ecdf_mean, ecdf_max }
}

/// The SD that standardises mean differences: the treated units' SD in the unmatched sample
/// (sqrt(p(1 - p)) for 0/1), or the pooled SD when that is 0.
pub fn standardiser(x: &[f64], treat: &[bool]) -> f64 {
    let kind = ValueKind::of(x);
    let treated = x.iter().zip(treat).filter(|(_, &t)| t).map(|(&a, _)| (a, 1.0));
    let s = weighted_var(treated, kind).sqrt();
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
            let order = (ValueKind::of(x) == ValueKind::Continuous).then(|| order_of(x));
            let before = balance_row_sorted(name, x, treat, None, Some(sd), order.as_deref());
            let after = balance_row_sorted(name, x, treat, Some(weights), Some(sd), order.as_deref());
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
}
