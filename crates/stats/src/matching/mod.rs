//! Matching with R MatchIt 4.5.1's semantics and defaults (estimand ATT): nearest neighbour on
//! a propensity score or Mahalanobis distance, optimal pair matching, exact and coarsened exact
//! matching; match weights and subclasses as MatchIt defines them.
//!
//! # Nearest neighbour
//! As MatchIt's `nn_matchC_vec`: units are sorted by distance (ties in data order); treated
//! units take turns in `m.order` (largest distance first by default); each takes the closest
//! control still available, looking left and right in the sorted order, the left one on a tie;
//! with a caliper, a treated unit whose closest available control is farther away gets no
//! match. With `ratio` k there are k rounds. Without replacement a control is used once; with
//! replacement any number of times. Available controls are kept in two union-find structures,
//! so each look costs near O(1) and the whole matching O(n log n) (MatchIt rescans the
//! controls for every match). With exact variables each stratum is matched on its own.
//! Mahalanobis distances (`nn_matchC`) use the covariates' pooled within-group covariance.
//!
//! # Weights and subclasses
//! Treated units with a match weigh 1; a control weighs the sum over the treated units it was
//! matched to of 1 / (their number of matches), scaled so that control weights sum to the
//! number of matched controls. Subclasses (pair matching without replacement) number the
//! treated units' pairs as MatchIt does: in the order of the treated unit's row number written
//! as text (1, 10, 100, 2, ...). Exact and coarsened exact matching weight controls by the
//! treated-to-control ratio of their stratum, scaled the same way.
//!
//! # Examples
//! ```
//! use swp_stats::design::Covariate;
//! use swp_stats::matching::{MatchData, MatchParams};
//! let x = Covariate::numeric("x", vec![0.1, 0.4, 0.35, 0.8, 0.5, 0.9, 0.2, 0.45]);
//! let treat = [true, true, false, false, false, true, false, false];
//! let data = MatchData { treat: &treat, covariates: std::slice::from_ref(&x), exact: &[] };
//! let m = MatchParams::new().check().unwrap().run(&data).unwrap();
//! assert_eq!(m.matched_controls(), 3);
//! ```

use crate::design::{expand, model_matrix, Covariate, Expansion, Values};
use crate::error::{Result, StatsError};
use crate::glm::{Family, GlmFit, GlmParams};
use crate::linalg::pseudo_inverse_psd;
use crate::rng::Rng;

crate::choice! {
    /// Matching method (MatchIt's `method`).
    pub enum Method {
        /// Greedy nearest neighbour.
        Nearest = "nearest",
        /// Optimal pair matching: the smallest total distance (1:1, propensity score).
        Optimal = "optimal",
        /// Coarsened exact matching (Sturges bins for numeric covariates).
        Cem = "cem",
        /// Exact matching on every covariate.
        Exact = "exact",
    }
}

crate::choice! {
    /// Distance (MatchIt's `distance` / `link`).
    pub enum Distance {
        /// Logistic propensity score, probability scale.
        Glm = "glm",
        /// Logistic propensity score, linear predictor (for the 0.2-SD-of-the-logit caliper).
        LinearLogit = "linear-logit",
        /// Probit propensity score, probability scale.
        Probit = "probit",
        /// Mahalanobis distance on the covariates.
        Mahalanobis = "mahalanobis",
    }
}

crate::choice! {
    /// The order treated units take turns in (MatchIt's `m.order`).
    pub enum Order {
        /// Largest distance first (default with a propensity score).
        Largest = "largest",
        /// Smallest first.
        Smallest = "smallest",
        /// Data order (default with Mahalanobis or replacement).
        Data = "data",
        /// A random order from the seed.
        Random = "random",
    }
}

/// Matching settings, unchecked; [`MatchParams::check`] validates them.
#[derive(Debug, Clone)]
pub struct MatchParams {
    method: Method,
    distance: Distance,
    ratio: usize,
    replace: bool,
    caliper: Option<f64>,
    order: Option<Order>,
    seed: u64,
}

/// Checked settings.
#[derive(Debug, Clone)]
pub struct ValidMatchParams(MatchParams);

impl Default for MatchParams {
    fn default() -> Self {
        MatchParams {
            method: Method::Nearest,
            distance: Distance::Glm,
            ratio: 1,
            replace: false,
            caliper: None,
            order: None,
            seed: 0,
        }
    }
}

impl MatchParams {
    /// MatchIt's defaults: nearest, logistic propensity score, 1:1, no replacement, no
    /// caliper, largest first.
    pub fn new() -> Self {
        Self::default()
    }
    /// Method.
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }
    /// Distance.
    pub fn distance(mut self, distance: Distance) -> Self {
        self.distance = distance;
        self
    }
    /// Controls per treated unit.
    pub fn ratio(mut self, ratio: usize) -> Self {
        self.ratio = ratio;
        self
    }
    /// Matching with replacement.
    pub fn replace(mut self, replace: bool) -> Self {
        self.replace = replace;
        self
    }
    /// Caliper in standard deviations of the distance (all units).
    pub fn caliper(mut self, caliper: Option<f64>) -> Self {
        self.caliper = caliper;
        self
    }
    /// Order (None: MatchIt's default for the distance).
    pub fn order(mut self, order: Option<Order>) -> Self {
        self.order = order;
        self
    }
    /// Seed of the random order.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Validates the combination.
    ///
    /// # Errors
    /// [`StatsError::BadSetting`] naming the setting to change.
    pub fn check(self) -> Result<ValidMatchParams> {
        let bad = |rule: &'static str| Err(StatsError::BadSetting { rule });
        if self.ratio == 0 {
            return bad("the ratio must be at least 1");
        }
        if let Some(c) = self.caliper {
            if !(c.is_finite() && c > 0.0) {
                return bad("the caliper must be a positive number of standard deviations");
            }
            if self.distance == Distance::Mahalanobis {
                return bad(
                    "a caliper needs a propensity score distance (glm, linear-logit or probit), not mahalanobis",
                );
            }
            if self.method != Method::Nearest {
                return bad("a caliper applies to nearest-neighbour matching only");
            }
        }
        if self.method == Method::Optimal {
            if self.ratio != 1 || self.replace {
                return bad("optimal matching here is 1:1 pair matching without replacement");
            }
            if self.distance == Distance::Mahalanobis {
                return bad("optimal matching here uses a propensity score distance, not mahalanobis");
            }
        }
        if matches!(self.method, Method::Cem | Method::Exact) && (self.ratio != 1 || self.replace) {
            return bad("ratio and replacement apply to nearest-neighbour matching only");
        }
        if matches!(self.order, Some(Order::Largest | Order::Smallest)) && self.distance == Distance::Mahalanobis {
            return bad("with a mahalanobis distance the order can be data or random only");
        }
        Ok(ValidMatchParams(self))
    }
}

/// What to match: the treatment indicator and the covariates (the propensity model's and the
/// balance table's), and the variables to match exactly on (nearest only).
#[derive(Debug, Clone, Copy)]
pub struct MatchData<'a> {
    /// Treated (true) or control, per unit.
    pub treat: &'a [bool],
    /// Covariates.
    pub covariates: &'a [Covariate],
    /// Exact-matching variables.
    pub exact: &'a [Covariate],
}

/// A matching.
#[derive(Debug, Clone)]
pub struct Matching {
    /// The propensity distance per unit (None for Mahalanobis, exact and CEM).
    pub distance: Option<Vec<f64>>,
    /// The propensity model.
    pub model: Option<GlmFit>,
    /// Matched controls of each treated unit, treated units in data order (None for exact and
    /// CEM, which form subclasses).
    pub match_matrix: Option<Vec<Vec<usize>>>,
    /// Treated unit indices, in data order (the rows of `match_matrix`).
    pub treated: Vec<usize>,
    /// Match weight per unit (0: unmatched).
    pub weights: Vec<f64>,
    /// Subclass per unit (1-based; None: unmatched, or matching with replacement).
    pub subclass: Vec<Option<usize>>,
    /// The caliper in distance units.
    pub caliper: Option<f64>,
    /// The order the treated units took turns in (nearest), data indices.
    pub order: Vec<usize>,
}

impl Matching {
    /// Treated units with a match.
    pub fn matched_treated(&self) -> usize {
        self.treated.iter().filter(|&&t| self.weights[t] > 0.0).count()
    }

    /// Controls with a match.
    pub fn matched_controls(&self) -> usize {
        let treated: std::collections::HashSet<usize> = self.treated.iter().copied().collect();
        (0..self.weights.len()).filter(|i| !treated.contains(i) && self.weights[*i] > 0.0).count()
    }
}

use crate::moments::sample_sd as sd;

mod mahalanobis;
mod nearest;
mod optimal;
mod strata;
mod weights;

use mahalanobis::*;
use nearest::*;
use optimal::*;
use strata::*;
use weights::*;

impl ValidMatchParams {
    /// The distance these params match on.
    pub fn distance(&self) -> Distance {
        self.0.distance
    }

    /// Matches.
    ///
    /// # Errors
    /// Propensity model errors ([`crate::glm`]), no treated or no control units, covariates
    /// of the wrong length, and no match at all ([`StatsError::NoMatches`]).
    pub fn run(&self, data: &MatchData<'_>) -> Result<Matching> {
        let model = self.propensity(data)?;
        self.run_with(data, model)
    }

    /// The propensity model these params match on (None for Mahalanobis, exact and CEM): the
    /// logistic regression of treatment on the covariates for `glm` and `linear-logit`, the
    /// probit one for `probit`. Params that differ only in caliper, ratio, replacement or order
    /// share it, so it can be fitted once for them ([`ValidMatchParams::run_with`]).
    ///
    /// # Errors
    /// As [`ValidMatchParams::run`].
    pub fn propensity(&self, data: &MatchData<'_>) -> Result<Option<GlmFit>> {
        self.propensity_of(data, false)
    }

    /// [`ValidMatchParams::propensity`] that, as R's `glm` inside MatchIt, keeps the last
    /// iterate when the model separates (fitted probabilities of 0 or 1) or does not converge
    /// (see [`GlmParams::as_r`]): separated units get extreme distances, so a caliper drops
    /// them and nearest neighbours pass them by.
    ///
    /// # Errors
    /// As [`ValidMatchParams::propensity`], but for separation and convergence.
    pub fn propensity_as_r(&self, data: &MatchData<'_>) -> Result<Option<GlmFit>> {
        self.propensity_of(data, true)
    }

    fn propensity_of(&self, data: &MatchData<'_>, as_r: bool) -> Result<Option<GlmFit>> {
        let p = &self.0;
        match (p.method, p.distance) {
            (Method::Cem | Method::Exact, _) | (_, Distance::Mahalanobis) => Ok(None),
            (_, kind) => {
                let (names, x) = model_matrix(data.covariates)?;
                let family = if kind == Distance::Probit { Family::Probit } else { Family::Logit };
                let y: Vec<f64> = data.treat.iter().map(|&t| f64::from(u8::from(t))).collect();
                Ok(Some(GlmParams::new(family).as_r(as_r).check()?.fit(&x, &names, &y, None)?))
            }
        }
    }

    /// [`ValidMatchParams::run`] with the propensity model already fitted (by
    /// [`ValidMatchParams::propensity`] on the same data, for params of the same distance family).
    ///
    /// # Errors
    /// As [`ValidMatchParams::run`].
    pub fn run_with(&self, data: &MatchData<'_>, model: Option<GlmFit>) -> Result<Matching> {
        let p = &self.0;
        let n = data.treat.len();
        let n1 = data.treat.iter().filter(|&&t| t).count();
        if n1 == 0 || n1 == n {
            return Err(StatsError::NeedsBothArms { method: "matching" });
        }
        if data.covariates.is_empty() {
            return Err(StatsError::BadSetting { rule: "matching needs at least one covariate" });
        }
        for c in data.covariates.iter().chain(data.exact) {
            if c.len() != n {
                return Err(StatsError::CovariateLength { name: c.name.clone(), got: c.len(), expected: n });
            }
        }
        let treated: Vec<usize> = (0..n).filter(|&i| data.treat[i]).collect();
        let (distance, model) = match (p.method, p.distance, model) {
            (Method::Cem | Method::Exact, _, _) | (_, Distance::Mahalanobis, _) => (None, None),
            (_, _, None) => return Err(StatsError::BadSetting { rule: "a propensity score distance needs its model" }),
            (_, kind, Some(fit)) => {
                if fit.fitted.len() != n {
                    return Err(StatsError::BadSetting { rule: "the propensity model was fitted on other data" });
                }
                let d = if kind == Distance::LinearLogit { fit.linear_predictor.clone() } else { fit.fitted.clone() };
                (Some(d), Some(fit))
            }
        };
        let caliper = match (p.caliper, &distance) {
            (Some(c), Some(d)) => Some((c * sd(d)).abs()),
            _ => None,
        };
        let mut matching = Matching {
            distance,
            model,
            match_matrix: None,
            treated: treated.clone(),
            weights: vec![0.0; n],
            subclass: vec![None; n],
            caliper,
            order: Vec::new(),
        };
        match p.method {
            Method::Nearest => self.nearest(data, &mut matching)?,
            Method::Optimal => optimal(data, &mut matching)?,
            Method::Cem => {
                let keys = cem_keys(data.covariates);
                subclass_match(data.treat, &keys, Strata::Coarsened, &mut matching)?;
            }
            Method::Exact => {
                let keys = exact_keys(data.covariates);
                subclass_match(data.treat, &keys, Strata::Exact, &mut matching)?;
            }
        }
        Ok(matching)
    }

    fn nearest(&self, data: &MatchData<'_>, m: &mut Matching) -> Result<()> {
        let p = &self.0;
        let n = data.treat.len();
        let n1 = m.treated.len();
        let reuse_max = if p.replace { n1 } else { 1 };
        let order = match p.order {
            _ if reuse_max >= n1 => Order::Data,
            Some(o) => o,
            None if m.distance.is_some() => Order::Largest,
            None => Order::Data,
        };
        // strata: exact variables (each matched on its own), else one
        let strata: Vec<Vec<usize>> = if data.exact.is_empty() {
            vec![(0..n).collect()]
        } else {
            let keys = exact_keys(data.exact);
            let mut by: std::collections::BTreeMap<&[u64], Vec<usize>> = std::collections::BTreeMap::new();
            for (i, k) in keys.iter().enumerate() {
                by.entry(k.as_slice()).or_default().push(i);
            }
            by.into_values().collect()
        };
        let mahalanobis = if m.distance.is_none() { Some(Mahalanobis::new(data)?) } else { None };
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut position = vec![0usize; n];
        let mut rng = Rng::new(p.seed, 0x006d_6174_6368);
        for units in &strata {
            let stratum_treated: Vec<usize> = units.iter().copied().filter(|&i| data.treat[i]).collect();
            if stratum_treated.is_empty() || stratum_treated.len() == units.len() {
                continue;
            }
            let ord = match (order, &m.distance) {
                (Order::Largest, Some(d)) => stable_order(&stratum_treated, d, true),
                (Order::Smallest, Some(d)) => stable_order(&stratum_treated, d, false),
                (Order::Random, _) => {
                    let mut o = stratum_treated.clone();
                    rng.shuffle(&mut o);
                    o
                }
                _ => stratum_treated.clone(),
            };
            m.order.extend(&ord);
            if let Some(d) = &m.distance {
                let job = Job { ord: &ord, ratio: p.ratio, reuse_max, caliper: m.caliper };
                nearest_on_scores(d, data.treat, units, &job, &mut position, &mut rows);
            } else if let Some(mah) = &mahalanobis {
                mah.nearest(data.treat, units, &ord, p.ratio, reuse_max, &mut rows);
            }
        }
        let match_matrix: Vec<Vec<usize>> = m.treated.iter().map(|&t| rows[t].clone()).collect();
        nearest_weights(n, &m.treated, &match_matrix, &mut m.weights);
        if m.weights.iter().all(|&w| w == 0.0) {
            return Err(StatsError::NoMatches("no treated unit found a control (a caliper too narrow?)".into()));
        }
        if reuse_max <= 1 {
            pair_subclasses(&m.treated, &match_matrix, &mut m.subclass);
        }
        m.match_matrix = Some(match_matrix);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MatchIt's rule by brute force: scan left and right in sorted order for the closest
    /// available control.
    fn naive(
        d: &[f64],
        treat: &[bool],
        ord: &[usize],
        ratio: usize,
        reuse_max: usize,
        caliper: Option<f64>,
    ) -> Vec<Vec<usize>> {
        let n = d.len();
        let mut sorted: Vec<usize> = (0..n).collect();
        sorted.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
        let mut times = vec![0usize; n];
        let mut rows = vec![Vec::new(); n];
        for _ in 0..ratio {
            for &t in ord {
                let ii = sorted.iter().position(|&u| u == t).unwrap();
                let ok = |k: usize, rows: &Vec<Vec<usize>>, times: &Vec<usize>| {
                    let u = sorted[k];
                    !treat[u] && times[u] < reuse_max && !rows[t].contains(&u)
                };
                let mut left = None;
                for k in (0..ii).rev() {
                    if ok(k, &rows, &times) {
                        left = Some(k);
                        break;
                    }
                }
                let mut right = None;
                for k in ii + 1..n {
                    if ok(k, &rows, &times) {
                        right = Some(k);
                        break;
                    }
                }
                let far = |k: usize| caliper.is_some_and(|c| (d[t] - d[sorted[k]]).abs() > c);
                let left = left.filter(|&k| !far(k));
                let right = right.filter(|&k| !far(k));
                let k = match (left, right) {
                    (Some(l), Some(r)) => {
                        if (d[sorted[l]] - d[t]).abs() <= (d[sorted[r]] - d[t]).abs() {
                            l
                        } else {
                            r
                        }
                    }
                    (Some(l), None) => l,
                    (None, Some(r)) => r,
                    _ => continue,
                };
                rows[t].push(sorted[k]);
                times[sorted[k]] += 1;
            }
        }
        rows
    }

    #[test]
    fn union_find_nearest_equals_the_brute_force_rule() {
        let mut rng = Rng::new(7, 1);
        for trial in 0..200 {
            let n = 5 + (trial % 40);
            // coarse values so that ties happen
            let d: Vec<f64> = (0..n).map(|_| (rng.uniform() * 12.0).floor() / 12.0).collect();
            let treat: Vec<bool> = (0..n).map(|_| rng.chance(0.35)).collect();
            let treated: Vec<usize> = (0..n).filter(|&i| treat[i]).collect();
            if treated.is_empty() || treated.len() == n {
                continue;
            }
            let ord = stable_order(&treated, &d, true);
            for (ratio, reuse_max, caliper) in
                [(1, 1, None), (2, 1, None), (1, 1, Some(0.1)), (2, n, None), (3, 1, Some(0.2))]
            {
                let mut rows = vec![Vec::new(); n];
                let mut position = vec![0; n];
                let units: Vec<usize> = (0..n).collect();
                let job = Job { ord: &ord, ratio, reuse_max, caliper };
                nearest_on_scores(&d, &treat, &units, &job, &mut position, &mut rows);
                assert_eq!(rows, naive(&d, &treat, &ord, ratio, reuse_max, caliper), "trial {trial} ratio {ratio}");
            }
        }
    }
}
