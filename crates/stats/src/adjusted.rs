//! The covariate-adjusted difference between two groups (Lin 2013): the weighted least-squares
//! regression of the outcome on the group, the covariates centred at the treated group's
//! (weighted) means, and their interactions with the group. With full interactions the group's
//! coefficient is the difference at the treated means, the average effect on the treated (ATT)
//! under the model; it is unbiased when the outcome is linear in the covariates within each
//! group, and with matching or weighting weights it is doubly robust (Ho, Imai, King and Stuart
//! 2007, "Estimating Effects After Matching").
//!
//! Standard errors: HC2 (MacKinnon and White 1985) with the residual degrees of freedom n - k,
//! as R `lmtest::coeftest(fit, vcov = sandwich::vcovHC(fit, type = "HC2"))`; with clusters, CR2
//! with Bell-McCaffrey (Satterthwaite) degrees of freedom, as clubSandwich's `coef_test`, and the
//! wild cluster bootstrap on the same model (null imposed, with its interval by test inversion).
//!
//! # Examples
//! ```
//! use swp_stats::adjusted::adjusted_difference;
//! use swp_stats::design::Covariate;
//! // y = 2 + 3 x + 1.5 (treated), exactly: the adjusted difference is 1.5 whatever x's imbalance
//! let x = vec![0.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 4.0, 5.0];
//! let treated = [false, false, false, false, true, true, true, true, true];
//! let y: Vec<f64> = x.iter().zip(&treated).map(|(x, t)| 2.0 + 3.0 * x + if *t { 1.5 } else { 0.0 } + 0.01 * x * x).collect();
//! let a = adjusted_difference(&y, &treated, None, &[Covariate::numeric("x", x)], None, None).unwrap();
//! assert!((a.inference.estimate - 1.5).abs() < 0.1);
//! ```

use crate::bootstrap::{ValidWildParams, WildProblem};
use crate::design::{expand, Covariate, Expansion, Values};
use crate::error::{Result, StatsError};
use crate::linalg::Matrix;
use crate::regression::{wls, Hc, Inference};

/// The wild cluster bootstrap on the adjusted model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AdjustedWild {
    /// p-value with the null imposed.
    pub p_value: f64,
    /// The 95% interval by test inversion.
    pub ci_low: f64,
    /// Its upper limit.
    pub ci_high: f64,
    /// Replicates used.
    pub reps: usize,
}

/// The adjusted difference.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjusted {
    /// The group's coefficient (the ATT at the treated means) with HC2 or CR2 inference.
    pub inference: Inference,
    /// The model's columns after the intercept and the group (centred covariates, then their
    /// interactions with the group, `group:` prefixed).
    pub columns: Vec<String>,
    /// With clusters and bootstrap settings.
    pub wild: Option<AdjustedWild>,
}

/// The adjusted difference of `y` between the `treated` rows and the others, with `weights`
/// (None: all 1; rows of weight 0 are left out) and, with `clusters`, CR2 inference and (with
/// `wild`) the wild cluster bootstrap.
///
/// # Errors
/// Lengths that differ; fewer than two rows in a group; covariates that are constant or
/// collinear among the rows used ([`crate::regression::wls`]'s errors); with clusters, fewer
/// than two clusters in a group.
pub fn adjusted_difference(
    y: &[f64],
    treated: &[bool],
    weights: Option<&[f64]>,
    covariates: &[Covariate],
    clusters: Option<&[usize]>,
    wild: Option<&ValidWildParams>,
) -> Result<Adjusted> {
    let n = y.len();
    if treated.len() != n || weights.is_some_and(|w| w.len() != n) || clusters.is_some_and(|c| c.len() != n) {
        return Err(StatsError::LengthMismatch { inputs: "the outcome, groups, weights and clusters" });
    }
    let keep: Vec<usize> = (0..n).filter(|&i| weights.is_none_or(|w| w[i] > 0.0)).collect();
    let n_treated = keep.iter().filter(|&&i| treated[i]).count();
    if n_treated < 2 || keep.len() - n_treated < 2 {
        return Err(StatsError::TooFewPerGroup { min: 2, treated: n_treated, control: keep.len() - n_treated });
    }
    let kept_covariates: Vec<Covariate> = covariates
        .iter()
        .map(|c| {
            let values = match &c.values {
                Values::Numeric(v) => Values::Numeric(keep.iter().map(|&i| v[i]).collect()),
                Values::Text(v) => Values::Text(keep.iter().map(|&i| v[i].clone()).collect()),
            };
            Covariate { name: c.name.clone(), values }
        })
        .collect();
    let expanded = expand(&kept_covariates, Expansion::Model)?;
    let w: Vec<f64> = keep.iter().map(|&i| weights.map_or(1.0, |w| w[i])).collect();
    let d: Vec<f64> = keep.iter().map(|&i| f64::from(u8::from(treated[i]))).collect();
    let yk: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
    let treated_weight: f64 = w.iter().zip(&d).map(|(w, d)| w * d).sum();
    // the covariates' columns (the intercept left out), centred at the treated weighted means
    let centred: Vec<(String, Vec<f64>)> = expanded
        .names
        .iter()
        .zip(&expanded.columns)
        .skip(1)
        .map(|(name, column)| {
            let mean = column.iter().zip(&w).zip(&d).map(|((x, w), d)| x * w * d).sum::<f64>() / treated_weight;
            (name.clone(), column.iter().map(|x| x - mean).collect())
        })
        .collect();
    let m = keep.len();
    let p = 2 + 2 * centred.len();
    let mut values = Vec::with_capacity(m * p);
    for i in 0..m {
        values.push(1.0);
        values.push(d[i]);
        values.extend(centred.iter().map(|(_, c)| c[i]));
        values.extend(centred.iter().map(|(_, c)| c[i] * d[i]));
    }
    let x = Matrix { n: m, p, values };
    let fit = wls(&x, &yk, weights.map(|_| w.as_slice()))?;
    let mut columns: Vec<String> = centred.iter().map(|(name, _)| name.clone()).collect();
    columns.extend(centred.iter().map(|(name, _)| format!("group:{name}")));
    let (inference, wild_result) = match clusters {
        None => {
            let v = fit.vcov_hc(Hc::Hc2);
            let df = (fit.n() - fit.k()) as f64;
            (Inference::t(fit.coef[1], v[p + 1].sqrt(), df), None)
        }
        Some(clusters) => {
            let ids: Vec<usize> = keep.iter().map(|&i| clusters[i]).collect();
            let in_group = |g: f64| {
                let mut c: Vec<usize> = ids.iter().zip(&d).filter(|(_, dd)| **dd == g).map(|(c, _)| *c).collect();
                c.sort_unstable();
                c.dedup();
                c.len()
            };
            let (treated_clusters, control_clusters) = (in_group(1.0), in_group(0.0));
            if treated_clusters < 2 || control_clusters < 2 {
                return Err(StatsError::TooFewClustersPerGroup {
                    min: 2,
                    treated: treated_clusters,
                    control: control_clusters,
                });
            }
            let labels = crate::labels::number(&ids).index;
            let cr2 = fit.cr2_inference(&labels, 1)?;
            let wild = match wild {
                Some(params) => {
                    let problem = WildProblem::new(&x, &yk, weights.map(|_| w.as_slice()), &labels, 1)?;
                    let test = problem.test(0.0, params);
                    let (ci_low, ci_high) = problem.confidence_interval(params);
                    Some(AdjustedWild { p_value: test.p_value, ci_low, ci_high, reps: test.reps })
                }
                None => None,
            };
            (cr2, wild)
        }
    };
    Ok(Adjusted { inference, columns, wild: wild_result })
}
