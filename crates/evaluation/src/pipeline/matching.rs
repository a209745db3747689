//! The matching stage: the covariates in use (constant ones dropped, or an error when the
//! config listed them), the config's matching of pilot children to controls (MatchIt's
//! semantics, `swp_stats::matching`) and its balance table (MatchIt's `summary()`).

use super::cohort::Cohort;
use super::Propensity;
use crate::config::{Comparison, ValidConfig};
use crate::error::{self, EvaluationError, Result};
use crate::results::Balance;
use swp_stats::balance::balance_table;
use swp_stats::design::{expand, Covariate, Expansion, Values};
use swp_stats::matching::{MatchData, MatchParams, Matching};
use swp_stats::weighting::{entropy_weights, propensity_att_weights};
use swp_stats::Matrix;

/// The indicator of a missing CIN code, the covariate that makes it a level of its own.
pub const CIN_NOT_RECORDED: &str = "cin_not_recorded";

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
        if is_constant(&covariate) {
            if config.covariates_listed() {
                return Err(EvaluationError::ConstantCovariate { name: name.clone() });
            }
            dropped.push(name.clone());
            continue;
        }
        out.push(covariate);
    }
    // a missing CIN code is its own level: an indicator beside the 0/1 column (only when some
    // child's code is missing, so that complete data fit the models they always did; also when
    // the 0/1 column itself is constant among the recorded codes)
    let cin_in_use = config.covariates().iter().any(|n| n == "cin_abuse_neglect");
    let indicator: Vec<f64> = cohort.cin_not_recorded.iter().map(|&m| f64::from(u8::from(m))).collect();
    let indicator = Covariate::numeric(CIN_NOT_RECORDED, indicator);
    if cin_in_use && cohort.cin_not_recorded.iter().any(|&m| m) && !is_constant(&indicator) {
        let at = out.iter().position(|c| c.name == "cin_abuse_neglect").map_or(out.len(), |i| i + 1);
        out.insert(at, indicator);
    }
    if out.is_empty() {
        return Err(EvaluationError::ConstantCovariate { name: config.covariates().join(", ") });
    }
    Ok((out, dropped))
}

/// Whether a covariate has one value only.
fn is_constant(covariate: &Covariate) -> bool {
    match &covariate.values {
        Values::Numeric(v) => v.iter().all(|x| *x == v[0]),
        Values::Text(v) => v.iter().all(|x| *x == v[0]),
    }
}

/// The rows `rows` of a covariate.
pub(crate) fn subset(covariate: &Covariate, rows: &[usize]) -> Covariate {
    let values = match &covariate.values {
        Values::Numeric(v) => Values::Numeric(rows.iter().map(|&i| v[i]).collect()),
        Values::Text(v) => Values::Text(rows.iter().map(|&i| v[i].clone()).collect()),
    };
    Covariate { name: covariate.name.clone(), values }
}

/// The config's matching on `covariates` of `cohort` (those in `dropped` are constant), the
/// propensity model of each stack from `propensity`: one matching per stack (docs/evaluation.md
/// "Staggered go-lives": its own propensity model, caliper and order), merged into one
/// [`Matching`] over the cohort's rows with subclasses numbered on across stacks. With one
/// stack this is the config's matching of the whole cohort.
pub(crate) fn run(
    config: &ValidConfig,
    cohort: &Cohort,
    covariates: &[Covariate],
    dropped: &[String],
    propensity: &Propensity<'_>,
) -> Result<Matching> {
    let stacks = cohort.stacks();
    if stacks == 1 {
        return run_stack(config, 0, &cohort.treated, covariates, dropped, propensity);
    }
    let n = cohort.len();
    let mut merged = Matching {
        distance: Some(vec![f64::NAN; n]),
        model: None,
        match_matrix: Some(Vec::new()),
        treated: Vec::new(),
        weights: vec![0.0; n],
        subclass: vec![None; n],
        caliper: None,
        order: Vec::new(),
    };
    let mut subclasses = 0;
    for k in 0..stacks {
        let rows = cohort.rows_of_stack(k as u16);
        let treat: Vec<bool> = rows.iter().map(|&i| cohort.treated[i]).collect();
        // a covariate constant within a stack has nothing to balance there
        let mut here_dropped = dropped.to_vec();
        let here: Vec<Covariate> = covariates
            .iter()
            .map(|c| subset(c, &rows))
            .filter(|c| {
                let constant = is_constant(c);
                if constant {
                    here_dropped.push(c.name.clone());
                }
                !constant
            })
            .collect();
        let m = run_stack(config, k, &treat, &here, &here_dropped, propensity)?;
        for (j, &i) in rows.iter().enumerate() {
            merged.weights[i] = m.weights[j];
            merged.subclass[i] = m.subclass[j].map(|s| s + subclasses);
            if let (Some(all), Some(d)) = (merged.distance.as_mut(), m.distance.as_ref()) {
                all[i] = d[j];
            }
        }
        if m.distance.is_none() {
            merged.distance = None;
        }
        subclasses += m.subclass.iter().flatten().max().copied().unwrap_or(0);
        merged.treated.extend(m.treated.iter().map(|&j| rows[j]));
        merged.order.extend(m.order.iter().map(|&j| rows[j]));
        match (merged.match_matrix.as_mut(), m.match_matrix) {
            (Some(all), Some(matrix)) => {
                all.extend(matrix.into_iter().map(|controls| controls.into_iter().map(|j| rows[j]).collect()))
            }
            _ => merged.match_matrix = None,
        }
    }
    Ok(merged)
}

/// The balancing weights of one stack's units (`[estimation] method = "weighting"`): ATT
/// propensity-score weights from a logistic model of all the covariates (treated 1, controls
/// e / (1 - e)) or entropy balancing on the covariates' model-matrix columns, as a
/// [`Matching`] whose weights are the weights (no subclasses, no pairs; the distance is the
/// propensity score for `ps`).
fn weight_stack(
    config: &ValidConfig,
    stack: usize,
    treat: &[bool],
    covariates: &[Covariate],
    propensity: &Propensity<'_>,
) -> Result<Matching> {
    let n = treat.len();
    let (weights, distance, model) = match config.estimation().comparison {
        Comparison::Entropy => {
            let expanded = expand(covariates, Expansion::Model).map_err(error::at("entropy balancing"))?;
            let columns: Vec<(String, Vec<f64>)> = expanded.names.into_iter().zip(expanded.columns).skip(1).collect();
            let weights = entropy_weights(&columns, treat).map_err(|e| EvaluationError::Weighting(e.to_string()))?;
            (weights, None, None)
        }
        Comparison::PsWeighting | Comparison::Matching => {
            let params = MatchParams::new()
                .distance(swp_stats::matching::Distance::Glm)
                .check()
                .map_err(error::at("propensity-score weights"))?;
            let data = MatchData { treat, covariates, exact: &[] };
            let model = propensity(stack, &params, &data)
                .map_err(error::at("propensity-score weights"))?
                .ok_or_else(|| EvaluationError::Weighting("no propensity model was fitted".into()))?;
            let scores = model.fitted.clone();
            let weights = propensity_att_weights(&scores, treat).map_err(error::at("propensity-score weights"))?;
            (weights, Some(scores), Some(model))
        }
    };
    // a control whose weight is below 1e-8 of the stack's largest carries no information
    // (a propensity score of 1e-16) and makes the working variance of a GLM's CR2 singular: it
    // is left out of the weighted sample (weight 0)
    let largest = weights.iter().fold(0.0f64, |a, &b| a.max(b));
    let weights: Vec<f64> = weights.into_iter().map(|w| if w < 1e-8 * largest { 0.0 } else { w }).collect();
    Ok(Matching {
        distance,
        model,
        match_matrix: None,
        treated: (0..n).filter(|&i| treat[i]).collect(),
        weights,
        subclass: vec![None; n],
        caliper: None,
        order: Vec::new(),
    })
}

/// The config's matching of one stack's units.
fn run_stack(
    config: &ValidConfig,
    stack: usize,
    treat: &[bool],
    covariates: &[Covariate],
    dropped: &[String],
    propensity: &Propensity<'_>,
) -> Result<Matching> {
    if config.estimation().comparison.weighting() {
        return weight_stack(config, stack, treat, covariates, propensity);
    }
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
    let data = MatchData { treat, covariates, exact: &exact };
    propensity(stack, &params, &data).and_then(|model| params.run_with(&data, model)).map_err(|e| match e {
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
        stack: matched.iter().map(|&i| usize::from(cohort.stack[i])).collect(),
        subclass: if matching.subclass.iter().all(Option::is_none) {
            None
        } else {
            Some(relabel(&matched.iter().map(|&i| matching.subclass[i].unwrap_or(usize::MAX - i)).collect::<Vec<_>>()))
        },
        covariates: None,
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

/// The baseline covariates of the matched children, for adjustment: the model matrix's columns
/// (R's `model.matrix` without the intercept: a factor's levels but the first as indicators).
#[derive(Debug, Clone, PartialEq)]
pub struct AdjustColumns {
    /// Column names.
    pub names: Vec<String>,
    /// Values, one column per name, one value per sample row.
    pub columns: Vec<Vec<f64>>,
    /// Whether the covariates' interactions with treatment join the main effects.
    pub interactions: bool,
    /// The cells a GLM can be separated on: the indicator of every level of every factor (the
    /// reference level too) and every 0/1 covariate, one value per sample row.
    pub levels: Vec<Vec<f64>>,
}

impl AdjustColumns {
    /// The rows `rows`.
    pub fn subset(&self, rows: &[usize]) -> AdjustColumns {
        AdjustColumns {
            names: self.names.clone(),
            columns: self.columns.iter().map(|c| rows.iter().map(|&i| c[i]).collect()).collect(),
            interactions: self.interactions,
            levels: self.levels.iter().map(|c| rows.iter().map(|&i| c[i]).collect()).collect(),
        }
    }
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
    /// Stack of each row (0 with one index date).
    pub stack: Vec<usize>,
    /// Matching subclass of each child (None with replacement: each child its own cluster).
    pub subclass: Option<Vec<usize>>,
    /// The baseline covariates the effect models adjust for (None: unadjusted, v1.1's models).
    pub covariates: Option<std::sync::Arc<AdjustColumns>>,
}

impl Sample {
    /// The sample restricted to `rows`.
    pub fn subset(&self, rows: &[usize]) -> Sample {
        Sample {
            treated: rows.iter().map(|&i| self.treated[i]).collect(),
            weights: rows.iter().map(|&i| self.weights[i]).collect(),
            site: rows.iter().map(|&i| self.site[i]).collect(),
            stack: rows.iter().map(|&i| self.stack[i]).collect(),
            subclass: self.subclass.as_ref().map(|s| rows.iter().map(|&i| s[i]).collect()),
            covariates: self.covariates.as_ref().map(|c| std::sync::Arc::new(c.subset(rows))),
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

    /// The design of the effect models: intercept, treatment (column 1) and, with stacks, an
    /// indicator of every stack but the first (docs/evaluation.md "Staggered go-lives": the
    /// baseline free per stack), each with `extra` columns appended per row.
    pub(crate) fn design_with(&self, extra: &[&[f64]]) -> Matrix {
        let stacks = self.stacks();
        Matrix::from_rows(
            &(0..self.treated.len())
                .map(|i| {
                    let mut row = vec![1.0, f64::from(u8::from(self.treated[i]))];
                    row.extend((1..stacks).map(|k| f64::from(u8::from(self.stack[i] == k))));
                    row.extend(extra.iter().map(|column| column[i]));
                    row
                })
                .collect::<Vec<_>>(),
        )
    }

    /// [`Sample::design_with`] without extra columns.
    pub(crate) fn design(&self) -> Matrix {
        self.design_with(&[])
    }

    /// Number of stacks in the sample (the largest label + 1).
    pub(crate) fn stacks(&self) -> usize {
        self.stack.iter().max().map_or(1, |m| m + 1)
    }

    /// Coefficient names of [`Sample::design`].
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names = vec!["(Intercept)".to_string(), "treated".to_string()];
        names.extend((1..self.stacks()).map(|k| format!("stack{}", k + 1)));
        names
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
