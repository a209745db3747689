//! Covariate adjustment after matching (docs/evaluation.md "Estimation after matching, and
//! weighting"): the effect models' design with the baseline covariates centred at the treated
//! (weighted) means and, by default, their interactions with treatment (Lin 2013), so that the
//! treatment coefficient of a linear model is the effect at the treated means; and the
//! g-computation of a ratio from a GLM on that design (the weighted mean over the treated of the
//! predicted outcome under treatment over that under control), its standard error by the delta
//! method on the GLM's CR2 covariance.
//!
//! Columns that are constant or collinear in the sample are dropped as R's `lm` drops them: in
//! order (intercept, treatment, stacks, extra columns, main effects, then interactions), a
//! column that adds nothing to the earlier ones goes.

use super::matching::Sample;
use swp_stats::glm::{Family, GlmFit};
use swp_stats::linalg::independent_columns;
use swp_stats::Matrix;

/// What a column of an effect model is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Column {
    Intercept,
    Treated,
    Stack(usize),
    Extra(usize),
    /// Centred covariate `c`.
    Main(usize),
    /// Treatment times centred covariate `c`.
    Interaction(usize),
}

/// The design of an effect model on a sample: column 1 is the treatment.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    /// The design (kept columns only).
    pub(crate) x: Matrix,
    /// Its column names.
    pub(crate) names: Vec<String>,
    columns: Vec<Column>,
    /// The centred covariates (every one, kept or not).
    centred: Vec<Vec<f64>>,
    /// The treated means they were centred at.
    means: Vec<f64>,
    /// Whether covariates entered the model.
    pub(crate) adjusted: bool,
}

impl Model {
    /// The design of `s` with `extra` columns after the stack indicators and, when the sample
    /// carries covariates, the covariates centred at the treated means under `w` (the model's
    /// own weights) with their interactions; columns that add nothing dropped in order.
    pub(crate) fn new(s: &Sample, extra: &[&[f64]], w: &[f64]) -> Model {
        let n = s.treated.len();
        let stacks = s.stacks();
        let mut columns = vec![Column::Intercept, Column::Treated];
        columns.extend((1..stacks).map(Column::Stack));
        columns.extend((0..extra.len()).map(Column::Extra));
        let mut names = vec!["(Intercept)".to_string(), "treated".to_string()];
        names.extend((1..stacks).map(|k| format!("stack{}", k + 1)));
        names.extend((0..extra.len()).map(|k| format!("extra{}", k + 1)));
        let (mut centred, mut means) = (Vec::new(), Vec::new());
        if let Some(cov) = &s.covariates {
            let treated_weight: f64 = (0..n).filter(|&i| s.treated[i]).map(|i| w[i]).sum();
            for column in &cov.columns {
                let mean = (0..n).filter(|&i| s.treated[i]).map(|i| w[i] * column[i]).sum::<f64>() / treated_weight;
                centred.push(column.iter().map(|v| v - mean).collect::<Vec<f64>>());
                means.push(mean);
            }
            columns.extend((0..centred.len()).map(Column::Main));
            names.extend(cov.names.iter().cloned());
            if cov.interactions {
                columns.extend((0..centred.len()).map(Column::Interaction));
                names.extend(cov.names.iter().map(|c| format!("treated:{c}")));
            }
        }
        let adjusted = !centred.is_empty();
        let mut model = Model { x: Matrix::zeros(0, 0), names, columns, centred, means, adjusted };
        let value = |model: &Model, i: usize, c: Column| model.value(s, extra, i, c, s.treated[i]);
        let full = Matrix::from_rows(
            &(0..n).map(|i| model.columns.iter().map(|&c| value(&model, i, c)).collect()).collect::<Vec<Vec<f64>>>(),
        );
        let kept = if adjusted { independent_columns(&full, w, 1e-7) } else { (0..full.p).collect() };
        if kept.len() == full.p {
            model.x = full;
        } else {
            model.columns = kept.iter().map(|&j| model.columns[j]).collect();
            model.names = kept.iter().map(|&j| model.names[j].clone()).collect();
            model.x = Matrix::from_rows(
                &(0..n).map(|i| kept.iter().map(|&j| full.at(i, j)).collect()).collect::<Vec<Vec<f64>>>(),
            );
        }
        model
    }

    /// The value of column `c` for row `i` with the treatment set to `treated`.
    fn value(&self, s: &Sample, extra: &[&[f64]], i: usize, c: Column, treated: bool) -> f64 {
        c.value(treated, s.stack[i], |k| extra[k][i], |k| self.centred[k][i])
    }
}

impl Column {
    /// This column of a design row whose treatment is `treated` and stack `stack`, with the
    /// row's extra columns `extra(k)` and centred covariates `centred(k)`.
    fn value(self, treated: bool, stack: usize, extra: impl Fn(usize) -> f64, centred: impl Fn(usize) -> f64) -> f64 {
        let d = f64::from(u8::from(treated));
        match self {
            Column::Intercept => 1.0,
            Column::Treated => d,
            Column::Stack(k) => f64::from(u8::from(stack == k)),
            Column::Extra(k) => extra(k),
            Column::Main(k) => centred(k),
            Column::Interaction(k) => d * centred(k),
        }
    }
}

impl Model {
    /// The design row of row `i` of `s` (a sample whose rows this model need not have been
    /// fitted on, with the same covariates; no extra columns) with the treatment set to
    /// `treated`, centred at this model's means.
    fn row_for(&self, s: &Sample, i: usize, treated: bool) -> Vec<f64> {
        let cov = |k: usize| s.covariates.as_ref().map_or(0.0, |c| c.columns[k][i]) - self.means[k];
        self.columns.iter().map(|&c| c.value(treated, s.stack[i], |_| f64::NAN, cov)).collect()
    }
}

/// The contrast a g-computation reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Contrast {
    /// log(m1 / m0): rate or risk ratio.
    Ratio,
    /// logit(m1) - logit(m0): odds ratio.
    Odds,
}

/// Cells of the sample where a GLM's outcome does not vary, so that the maximum likelihood
/// puts their fitted mean at its limit (0, or 1 for a logit whose cell has only events):
/// children with a level of a factor (the reference level too) or a 0/1 covariate equal to 1
/// and, with interactions, in one arm.
/// docs/evaluation.md: such rows are set aside and the model refitted on the rest; in the
/// g-computation their predicted outcome is the limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Separation {
    /// (covariate column, arm (None: both), limit of the mean).
    cells: Vec<(usize, Option<bool>, f64)>,
}

impl Separation {
    /// The separated cells of `y` in `s` under `family` (none without covariates). A cell must
    /// be smaller than its arm (an arm without events is a degenerate ratio, not separation).
    pub(crate) fn find(s: &Sample, y: &[f64], family: Family) -> Separation {
        let Some(cov) = &s.covariates else { return Separation::default() };
        let mut cells = Vec::new();
        let arms: &[Option<bool>] = if cov.interactions { &[Some(false), Some(true)] } else { &[None] };
        for (k, column) in cov.levels.iter().enumerate() {
            if !column.iter().all(|&v| v == 0.0 || v == 1.0) {
                continue;
            }
            for &arm in arms {
                let in_arm = |i: usize| arm.is_none_or(|a| s.treated[i] == a);
                let cell: Vec<usize> = (0..y.len()).filter(|&i| column[i] == 1.0 && in_arm(i)).collect();
                let arm_size = (0..y.len()).filter(|&i| in_arm(i)).count();
                if cell.is_empty() || cell.len() == arm_size {
                    continue;
                }
                if cell.iter().all(|&i| y[i] == 0.0) {
                    cells.push((k, arm, 0.0));
                } else if family == Family::Logit && cell.iter().all(|&i| y[i] == 1.0) {
                    cells.push((k, arm, 1.0));
                }
            }
        }
        Separation { cells }
    }

    /// Whether no cell is separated.
    pub(crate) fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The limit of row `i`'s mean with the treatment set to `treated`, when a separated cell
    /// holds it.
    fn limit(&self, s: &Sample, i: usize, treated: bool) -> Option<f64> {
        let cov = s.covariates.as_ref()?;
        self.cells.iter().find(|(k, arm, _)| cov.levels[*k][i] == 1.0 && arm.is_none_or(|a| a == treated)).map(|c| c.2)
    }

    /// The rows outside every separated cell (under their own arm): the rows the model is fitted
    /// on.
    pub(crate) fn fitted_rows(&self, s: &Sample) -> Vec<usize> {
        (0..s.treated.len()).filter(|&i| self.limit(s, i, s.treated[i]).is_none()).collect()
    }
}

/// The g-computation of `contrast` from a GLM fitted on `model` (no offset in the prediction:
/// rates per child-year, risks): m_a = sum over the treated rows of `s` of w_i mu(x_i(a)'b) /
/// sum w_i with `w` the match weights (a row in a cell of `separation` under arm a has the
/// cell's limit), and the contrast on the log scale with its delta-method standard error
/// sqrt(g' V g) under `vcov` (the GLM's CR2 covariance; None: the contrast alone, its standard
/// error NaN). None when a mean is out of range.
pub(crate) fn g_computation(
    model: &Model,
    s: &Sample,
    separation: &Separation,
    glm: &GlmFit,
    family: Family,
    contrast: Contrast,
    vcov: Option<&[f64]>,
) -> Option<(f64, f64)> {
    let p = model.x.p;
    let (mut m, mut grad) = ([0.0; 2], [vec![0.0; p], vec![0.0; p]]);
    let mut total = 0.0;
    for i in (0..s.treated.len()).filter(|&i| s.treated[i]) {
        let w = s.weights[i];
        total += w;
        for (a, treated) in [(0, false), (1, true)] {
            if let Some(limit) = separation.limit(s, i, treated) {
                m[a] += w * limit;
                continue;
            }
            let row = model.row_for(s, i, treated);
            let eta: f64 = row.iter().zip(&glm.coef).map(|(x, b)| x * b).sum();
            let (mu, dmu) = match family {
                Family::Logit => {
                    let mu = 1.0 / (1.0 + (-eta).exp());
                    (mu, mu * (1.0 - mu))
                }
                _ => (eta.exp(), eta.exp()),
            };
            m[a] += w * mu;
            grad[a].iter_mut().zip(&row).for_each(|(g, x)| *g += w * dmu * x);
        }
    }
    let m = [m[0] / total, m[1] / total];
    let grad = [grad[0].iter().map(|g| g / total).collect::<Vec<f64>>(), grad[1].iter().map(|g| g / total).collect()];
    let (value, scale): (f64, [f64; 2]) = match contrast {
        Contrast::Ratio => ((m[1] / m[0]).ln(), [1.0 / m[0], 1.0 / m[1]]),
        Contrast::Odds => {
            let logit = |x: f64| (x / (1.0 - x)).ln();
            (logit(m[1]) - logit(m[0]), [1.0 / (m[0] * (1.0 - m[0])), 1.0 / (m[1] * (1.0 - m[1]))])
        }
    };
    let g: Vec<f64> = (0..p).map(|j| scale[1] * grad[1][j] - scale[0] * grad[0][j]).collect();
    let Some(vcov) = vcov else { return value.is_finite().then_some((value, f64::NAN)) };
    let var: f64 = (0..p).map(|a| g[a] * (0..p).map(|b| vcov[a * p + b] * g[b]).sum::<f64>()).sum();
    (value.is_finite() && var.is_finite() && var >= 0.0).then(|| (value, var.sqrt()))
}

/// The Cox model's design with adjustment: the treatment, then the covariates (main effects,
/// uncentred: a Cox model has no intercept and its treatment coefficient does not depend on
/// centring), those that add nothing to the intercept (the baseline hazard), the stack strata,
/// the treatment or earlier covariates dropped as R drops them.
pub(crate) fn cox_design(s: &Sample) -> Matrix {
    let n = s.treated.len();
    let stacks = s.stacks();
    let cov = s.covariates.as_ref().map_or(&[][..], |c| c.columns.as_slice());
    let check = Matrix::from_rows(
        &(0..n)
            .map(|i| {
                let mut row = vec![1.0, f64::from(u8::from(s.treated[i]))];
                row.extend((1..stacks).map(|k| f64::from(u8::from(s.stack[i] == k))));
                row.extend(cov.iter().map(|c| c[i]));
                row
            })
            .collect::<Vec<_>>(),
    );
    // column 1 (treatment) and the covariates kept (from column stacks + 1); the intercept and
    // stacks left to the baseline hazards
    let kept = independent_columns(&check, &s.weights, 1e-7).into_iter().filter(|&j| j > stacks);
    let columns: Vec<usize> = std::iter::once(1).chain(kept).collect();
    Matrix::from_rows(&(0..n).map(|i| columns.iter().map(|&j| check.at(i, j)).collect()).collect::<Vec<Vec<f64>>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::matching::AdjustColumns;

    fn sample(n: usize, interactions: bool) -> Sample {
        let x: Vec<f64> = (0..n).map(|i| f64::from((i * 7 % 11) as u32)).collect();
        Sample {
            treated: (0..n).map(|i| i % 2 == 0).collect(),
            weights: vec![1.0; n],
            site: (0..n).map(|i| i % 4).collect(),
            stack: vec![0; n],
            subclass: None,
            covariates: Some(std::sync::Arc::new(AdjustColumns {
                names: vec!["x".into(), "x_again".into()],
                columns: vec![x.clone(), x.iter().map(|v| 2.0 * v).collect()],
                interactions,
                levels: Vec::new(),
            })),
        }
    }

    /// A covariate collinear with an earlier one is dropped with its interaction, as R's `lm`
    /// drops it; the main effects come before the interactions; the treated means are 0.
    #[test]
    fn collinear_covariates_are_dropped_in_order() {
        let s = sample(20, true);
        let m = Model::new(&s, &[], &s.weights);
        assert_eq!(m.names, ["(Intercept)", "treated", "x", "treated:x"]);
        let treated_mean: f64 = (0..20).filter(|&i| s.treated[i]).map(|i| m.x.at(i, 2)).sum::<f64>() / 10.0;
        assert!(treated_mean.abs() < 1e-12);
        let m = Model::new(&sample(20, false), &[], &s.weights);
        assert_eq!(m.names, ["(Intercept)", "treated", "x"]);
        // the counterfactual rows: treatment and interaction switched, the rest kept
        let s = sample(20, true);
        let m = Model::new(&s, &[], &s.weights);
        let (under1, under0) = (m.row_for(&s, 1, true), m.row_for(&s, 1, false));
        assert_eq!((under1[1], under0[1], under0[3]), (1.0, 0.0, 0.0));
        assert_eq!(under1[3], m.x.at(1, 2));
    }
}
