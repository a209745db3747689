//! The matching stage: the covariates in use (constant ones dropped, or an error when the
//! config listed them), the config's matching of pilot children to controls (MatchIt's
//! semantics, `swp_stats::matching`) and its balance table (MatchIt's `summary()`).

use super::cohort::Cohort;
use super::Propensity;
use crate::config::ValidConfig;
use crate::error::{self, EvaluationError, Result};
use crate::results::Balance;
use swp_stats::balance::balance_table;
use swp_stats::design::{expand, Covariate, Expansion};
use swp_stats::matching::{MatchData, MatchParams, Matching};
use swp_stats::Matrix;

/// The covariates of the cohort, and those dropped as constant.
pub(crate) fn covariates(config: &ValidConfig, cohort: &Cohort) -> Result<(Vec<Covariate>, Vec<String>)> {
    let mut out = Vec::new();
    let mut dropped = Vec::new();
    for name in config.covariates() {
        let covariate = if let Some(v) = cohort.numeric(name) {
            Covariate::numeric(name, v.to_vec())
        } else if let Some(v) = cohort.categorical(name) {
            Covariate::text(name, v.to_vec())
        } else {
            continue;
        };
        let constant = match &covariate.values {
            swp_stats::design::Values::Numeric(v) => v.iter().all(|x| *x == v[0]),
            swp_stats::design::Values::Text(v) => v.iter().all(|x| *x == v[0]),
        };
        if constant {
            if config.covariates_listed() {
                return Err(EvaluationError::ConstantCovariate { name: name.clone() });
            }
            dropped.push(name.clone());
            continue;
        }
        out.push(covariate);
    }
    if out.is_empty() {
        return Err(EvaluationError::ConstantCovariate { name: config.covariates().join(", ") });
    }
    Ok((out, dropped))
}

/// The config's matching on `covariates` of `cohort` (those in `dropped` are constant), the
/// propensity model from `propensity`.
pub(crate) fn run(
    config: &ValidConfig,
    cohort: &Cohort,
    covariates: &[Covariate],
    dropped: &[String],
    propensity: &Propensity<'_>,
) -> Result<Matching> {
    let exact: Vec<Covariate> = covariates
        .iter()
        .filter(|c| config.matching().exact.contains(&c.name) && !dropped.contains(&c.name))
        .cloned()
        .collect();
    let m = &config.matching();
    let params = MatchParams::new()
        .method(m.method)
        .distance(m.distance)
        .ratio(m.ratio)
        .replace(m.replace)
        .caliper(m.caliper)
        .order(m.order)
        .seed(config.inference().seed)
        .check()
        .map_err(|e| EvaluationError::Config {
            key: "matching".into(),
            value: format!(
                "method {}, distance {}, ratio {}, caliper {}",
                m.method,
                m.distance,
                m.ratio,
                m.caliper.map_or("none".to_string(), |c| c.to_string())
            ),
            allowed: e.to_string(),
        })?;
    let data = MatchData { treat: &cohort.treated, covariates, exact: &exact };
    propensity(&params, &data).and_then(|model| params.run_with(&data, model)).map_err(|e| match e {
        swp_stats::StatsError::NoMatches(_) => EvaluationError::NoMatches,
        other => EvaluationError::Stats { step: "matching".into(), source: other },
    })
}

/// The balance table of the matching (MatchIt's `summary()`), as `match` writes it.
pub(crate) fn balance(covariates: &[Covariate], treat: &[bool], matching: &Matching) -> Result<Balance> {
    let expanded = expand(covariates, Expansion::Balance).map_err(error::at("balance"))?;
    let mut columns: Vec<(String, Vec<f64>)> = expanded.names.into_iter().zip(expanded.columns).collect();
    if let Some(d) = &matching.distance {
        columns.insert(0, ("distance".to_string(), d.clone()));
    }
    let table = balance_table(&columns, treat, &matching.weights);
    Ok(Balance::from_table(&table))
}

/// The matched children (rows of `cohort` with a positive weight) and their sample: arm, weight,
/// site and subclass, the clusters relabelled 0..G.
pub(crate) fn matched_sample(cohort: &Cohort, matching: &Matching) -> (Vec<usize>, Sample) {
    let matched: Vec<usize> = (0..cohort.len()).filter(|&i| matching.weights[i] > 0.0).collect();
    let site_index = relabel(&matched.iter().map(|&i| cohort.site[i] as usize).collect::<Vec<_>>());
    let sample = Sample {
        treated: matched.iter().map(|&i| cohort.treated[i]).collect(),
        weights: matched.iter().map(|&i| matching.weights[i]).collect(),
        site: site_index,
        subclass: if matching.subclass.iter().all(Option::is_none) {
            None
        } else {
            Some(relabel(&matched.iter().map(|&i| matching.subclass[i].unwrap_or(usize::MAX - i)).collect::<Vec<_>>()))
        },
    };
    (matched, sample)
}

/// Labels as 0..G in order of the sorted distinct values.
fn relabel(v: &[usize]) -> Vec<usize> {
    let mut d = v.to_vec();
    d.sort_unstable();
    d.dedup();
    v.iter().map(|x| d.binary_search(x).expect("present")).collect()
}

/// The matched sample as the estimators see it.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Treated or control.
    pub treated: Vec<bool>,
    /// Match weights (all positive).
    pub weights: Vec<f64>,
    /// Site of each child, as 0..G.
    pub site: Vec<usize>,
    /// Matching subclass of each child (None with replacement: each child its own cluster).
    pub subclass: Option<Vec<usize>>,
}

impl Sample {
    /// The sample restricted to `rows`.
    pub fn subset(&self, rows: &[usize]) -> Sample {
        Sample {
            treated: rows.iter().map(|&i| self.treated[i]).collect(),
            weights: rows.iter().map(|&i| self.weights[i]).collect(),
            site: rows.iter().map(|&i| self.site[i]).collect(),
            subclass: self.subclass.as_ref().map(|s| rows.iter().map(|&i| s[i]).collect()),
        }
    }

    pub(crate) fn n(&self, treated: bool) -> u64 {
        self.treated.iter().filter(|&&t| t == treated).count() as u64
    }

    pub(crate) fn clusters(&self) -> usize {
        let mut s = self.site.clone();
        s.sort_unstable();
        s.dedup();
        s.len()
    }

    pub(crate) fn secondary_clusters(&self) -> Vec<usize> {
        self.subclass.clone().unwrap_or_else(|| (0..self.treated.len()).collect())
    }

    pub(crate) fn design(&self) -> Matrix {
        Matrix::from_rows(&self.treated.iter().map(|&t| vec![1.0, f64::from(u8::from(t))]).collect::<Vec<_>>())
    }

    pub(crate) fn weighted_mean(&self, y: &[f64], extra: Option<&[f64]>, treated: bool) -> Option<f64> {
        let (mut s, mut w) = (0.0, 0.0);
        for i in 0..y.len() {
            if self.treated[i] == treated {
                let wi = self.weights[i] * extra.map_or(1.0, |e| e[i]);
                s += wi * y[i];
                w += wi;
            }
        }
        (w > 0.0).then(|| s / w)
    }

    pub(crate) fn total(&self, y: &[f64], treated: bool) -> f64 {
        (0..y.len()).filter(|&i| self.treated[i] == treated).map(|i| y[i]).sum()
    }
}
