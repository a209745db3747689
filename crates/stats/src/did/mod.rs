//! Difference-in-differences on a panel of units (sites) and periods (financial years) with
//! unit and period fixed effects, and randomisation inference that reassigns treatment among
//! the units.
//!
//! # Formula
//! y_st = a_s + g_t + b D_st + e_st, D_st = 1 when unit s is treated in period t. The design
//! ([`twfe_design`]) has an intercept, one dummy per unit but the first, one per period but
//! the first, and D last, so CR2 ([`crate::regression`]) and the wild cluster bootstrap
//! ([`crate::bootstrap`]) apply to it unchanged. For randomisation inference the coefficient is
//! computed by the Frisch-Waugh-Lovell theorem ([`twfe_coefficient`]): D is residualised on both
//! sets of fixed effects by alternating projections (Guimaraes and Portugal 2010), then
//! b = sum(D~ y) / sum(D~ D~), O(n) per assignment.
//! [`randomisation_test`](crate::randomisation::randomisation_test) enumerates every set of as many units as were treated when there
//! are at most `max_assignments` sets (Fisher's exact test of the sharp null), else draws
//! `max_assignments` sets from the seed; the p-value is the share of assignments whose
//! |statistic| is at least the observed one (the observed assignment included).
//!
//! Staggered adoption (units treated at different periods) has its own estimator in
//! [`staggered`]: Callaway and Sant'Anna's (2021) group-time effects and their aggregates.
//!
//! # Examples
//! ```
//! use swp_stats::did::twfe_coefficient;
//! // two units, two periods: unit 1 treated in period 1, effect 3 on top of common trend 1
//! let unit = [0, 0, 1, 1];
//! let period = [0, 1, 0, 1];
//! let y = [1.0, 2.0, 5.0, 9.0];
//! let d = [0.0, 0.0, 0.0, 1.0];
//! assert!((twfe_coefficient(&unit, &period, &y, &d).unwrap() - 3.0).abs() < 1e-9);
//! ```

use crate::linalg::Matrix;

pub mod staggered;

/// The two-way fixed-effects design: intercept, unit dummies (all but the first unit), period
/// dummies (all but the first period), then the treatment column `d` (the last column).
/// Units and periods are labels 0..G and 0..T.
pub fn twfe_design(unit: &[usize], period: &[usize], d: &[f64]) -> Matrix {
    let g = unit.iter().max().map_or(0, |m| m + 1);
    let t = period.iter().max().map_or(0, |m| m + 1);
    let p = 1 + g.saturating_sub(1) + t.saturating_sub(1) + 1;
    let mut values = vec![0.0; unit.len() * p];
    for i in 0..unit.len() {
        let row = &mut values[i * p..(i + 1) * p];
        row[0] = 1.0;
        if unit[i] > 0 {
            row[unit[i]] = 1.0;
        }
        if period[i] > 0 {
            row[g - 1 + period[i]] = 1.0;
        }
        row[p - 1] = d[i];
    }
    Matrix { n: unit.len(), p, values }
}

/// `v` residualised on unit and period fixed effects by alternating projections (demeaning by
/// unit, then by period, until the largest change is below 1e-13 times the scale).
fn residualise(unit: &[usize], period: &[usize], v: &[f64]) -> Vec<f64> {
    let g = unit.iter().max().map_or(0, |m| m + 1);
    let t = period.iter().max().map_or(0, |m| m + 1);
    let (mut n_unit, mut n_period) = (vec![0.0; g], vec![0.0; t]);
    for i in 0..v.len() {
        n_unit[unit[i]] += 1.0;
        n_period[period[i]] += 1.0;
    }
    let scale = v.iter().fold(0.0f64, |a, b| a.max(b.abs())).max(1e-300);
    let mut r = v.to_vec();
    for _ in 0..10_000 {
        let mut change = 0.0f64;
        for (labels, counts) in [(unit, &n_unit), (period, &n_period)] {
            let mut sums = vec![0.0; counts.len()];
            for i in 0..r.len() {
                sums[labels[i]] += r[i];
            }
            for i in 0..r.len() {
                let m = sums[labels[i]] / counts[labels[i]];
                change = change.max(m.abs());
                r[i] -= m;
            }
        }
        if change < 1e-13 * scale {
            break;
        }
    }
    r
}

/// The fixed-effects difference-in-differences coefficient of `d`; None when `d` is fully
/// explained by the fixed effects (e.g. no treated unit-period, or all).
pub fn twfe_coefficient(unit: &[usize], period: &[usize], y: &[f64], d: &[f64]) -> Option<f64> {
    let dt = residualise(unit, period, d);
    let ss: f64 = dt.iter().map(|v| v * v).sum();
    let total: f64 = d.iter().map(|v| v * v).sum();
    if ss <= 1e-12 * total.max(1e-300) {
        return None;
    }
    Some(crate::moments::dot(&dt, y) / ss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::randomisation::randomisation_test;
    use crate::regression::wls;
    use crate::rng::Rng;

    /// The alternating-projections coefficient equals the dummy-variable regression's on an
    /// unbalanced panel.
    #[test]
    fn fwl_coefficient_equals_the_dummy_regression() {
        let mut unit = Vec::new();
        let mut period = Vec::new();
        let mut y = Vec::new();
        let mut d = Vec::new();
        let mut rng = Rng::new(7, 0);
        for s in 0..6 {
            for t in 0..5 {
                if (s + t) % 7 == 3 {
                    continue; // unbalanced
                }
                unit.push(s);
                period.push(t);
                let treated = s < 2 && t >= 2;
                d.push(f64::from(u8::from(treated)));
                y.push(s as f64 * 0.3 + t as f64 * 0.1 + if treated { 1.5 } else { 0.0 } + rng.normal() * 0.2);
            }
        }
        let x = twfe_design(&unit, &period, &d);
        let fit = wls(&x, &y, None).unwrap();
        let b = twfe_coefficient(&unit, &period, &y, &d).unwrap();
        assert!((fit.coef[x.p - 1] - b).abs() < 1e-9, "{} vs {b}", fit.coef[x.p - 1]);
    }

    #[test]
    fn randomisation_enumerates_small_designs_and_counts_the_observed_set() {
        // 4 units, 2 treated: C(4, 2) = 6 sets; statistic = sum of the set's values
        let values = [5.0, 4.0, 1.0, 0.0];
        let r =
            randomisation_test(4, &[0, 1], 100, 1, |s| Some(s.iter().map(|&i| values[i]).sum::<f64>() - 5.0)).unwrap();
        assert!(r.enumerated);
        assert_eq!(r.assignments, 6);
        // |stat| for sets: {0,1} 4, {0,2} 1, {0,3} 0, {1,2} 0, {1,3} 1, {2,3} 4
        assert!((r.p_value - 2.0 / 6.0).abs() < 1e-12);
        let drawn = randomisation_test(10, &[0, 1, 2], 50, 3, |s| Some(s[0] as f64)).unwrap();
        assert!(!drawn.enumerated && drawn.assignments == 50);
        assert!(randomisation_test(3, &[], 10, 1, |_| Some(0.0)).is_err());
    }
}
