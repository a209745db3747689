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

use crate::design::{expand, Covariate, Expansion, Values};
use crate::error::{Result, StatsError};
use crate::glm::{Family, GlmFit, GlmParams};
use crate::linalg::pseudo_inverse_psd;
use crate::rng::Rng;

/// Matching method (MatchIt's `method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Greedy nearest neighbour.
    Nearest,
    /// Optimal pair matching: the smallest total distance (1:1, propensity score).
    Optimal,
    /// Coarsened exact matching (Sturges bins for numeric covariates).
    Cem,
    /// Exact matching on every covariate.
    Exact,
}

/// Distance (MatchIt's `distance` / `link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distance {
    /// Logistic propensity score, probability scale.
    Glm,
    /// Logistic propensity score, linear predictor (for the 0.2-SD-of-the-logit caliper).
    LinearLogit,
    /// Probit propensity score, probability scale.
    Probit,
    /// Mahalanobis distance on the covariates.
    Mahalanobis,
}

/// The order treated units take turns in (MatchIt's `m.order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Largest distance first (default with a propensity score).
    Largest,
    /// Smallest first.
    Smallest,
    /// Data order (default with Mahalanobis or replacement).
    Data,
    /// A random order from the seed.
    Random,
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
        let p = &self.0;
        match (p.method, p.distance) {
            (Method::Cem | Method::Exact, _) | (_, Distance::Mahalanobis) => Ok(None),
            (_, kind) => {
                let columns = expand(data.covariates, Expansion::Model)?;
                let family = if kind == Distance::Probit { Family::Probit } else { Family::Logit };
                let y: Vec<f64> = data.treat.iter().map(|&t| f64::from(u8::from(t))).collect();
                Ok(Some(GlmParams::new(family).check()?.fit(&columns.matrix(), &columns.names, &y, None)?))
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

/// Treated units ordered by distance, decreasing or increasing, ties in data order (R's
/// `order(..., decreasing)` with its stable radix sort).
fn stable_order(units: &[usize], d: &[f64], decreasing: bool) -> Vec<usize> {
    let mut o = units.to_vec();
    if decreasing {
        o.sort_by(|&a, &b| d[b].total_cmp(&d[a]));
    } else {
        o.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
    }
    o
}

/// Positions still available, found to the left and to the right in near O(1) (path-halving
/// union-find over positions).
struct Available {
    right: Vec<u32>,
    left: Vec<u32>,
}

impl Available {
    /// Positions 0..n with `open[p]`.
    fn new(open: &[bool]) -> Self {
        let n = open.len();
        // right[p] = p if open else p + 1 (sentinel n); left over shifted positions (0 = none)
        let right = (0..=n).map(|p| if p < n && !open[p] { p as u32 + 1 } else { p as u32 }).collect();
        let left = (0..=n).map(|q| if q > 0 && !open[q - 1] { q as u32 - 1 } else { q as u32 }).collect();
        Available { right, left }
    }

    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let next = parent[parent[x as usize] as usize];
            parent[x as usize] = next;
            x = next;
        }
        x
    }

    /// The first open position >= p (None past the end).
    fn at_or_right(&mut self, p: usize) -> Option<usize> {
        let r = Self::find(&mut self.right, p as u32) as usize;
        (r < self.right.len() - 1).then_some(r)
    }

    /// The last open position <= p.
    fn at_or_left(&mut self, p: usize) -> Option<usize> {
        let q = Self::find(&mut self.left, p as u32 + 1) as usize;
        (q > 0).then(|| q - 1)
    }

    fn close(&mut self, p: usize) {
        self.right[p] = p as u32 + 1;
        self.left[p + 1] = p as u32;
    }
}

/// One stratum's nearest-neighbour settings.
struct Job<'a> {
    ord: &'a [usize],
    ratio: usize,
    reuse_max: usize,
    caliper: Option<f64>,
}

/// Nearest neighbour on a scalar distance within `units` (MatchIt's `nn_matchC_vec`);
/// `position` is scratch space of one slot per unit.
fn nearest_on_scores(
    d: &[f64],
    treat: &[bool],
    units: &[usize],
    job: &Job<'_>,
    position: &mut [usize],
    rows: &mut [Vec<usize>],
) {
    let Job { ord, ratio, reuse_max, caliper } = *job;
    // sorted by distance, ties in data order
    let mut sorted = units.to_vec();
    sorted.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
    for (k, &u) in sorted.iter().enumerate() {
        position[u] = k;
    }
    let open: Vec<bool> = sorted.iter().map(|&u| !treat[u]).collect();
    let mut available_controls = open.iter().filter(|&&o| o).count();
    let mut available = Available::new(&open);
    let mut times = vec![0usize; sorted.len()];
    let beyond = |dt: f64, k: usize| caliper.is_some_and(|c| (dt - d[sorted[k]]).abs() > c);
    for _round in 0..ratio {
        for &t in ord {
            let ii = position[t];
            let dt = d[t];
            let row = &rows[t];
            // closest available control to the left not already matched to t
            let mut left = if ii == 0 { None } else { available.at_or_left(ii - 1) };
            while let Some(k) = left {
                if row.contains(&sorted[k]) {
                    left = if k == 0 { None } else { available.at_or_left(k - 1) };
                    continue;
                }
                if beyond(dt, k) {
                    left = None;
                }
                break;
            }
            let mut right = available.at_or_right(ii + 1);
            while let Some(k) = right {
                if row.contains(&sorted[k]) {
                    right = available.at_or_right(k + 1);
                    continue;
                }
                if beyond(dt, k) {
                    right = None;
                }
                break;
            }
            let k = match (left, right) {
                (Some(l), Some(r)) => {
                    if (d[sorted[l]] - dt).abs() <= (d[sorted[r]] - dt).abs() {
                        l
                    } else {
                        r
                    }
                }
                (Some(l), None) => l,
                (None, Some(r)) => r,
                (None, None) => continue,
            };
            rows[t].push(sorted[k]);
            times[k] += 1;
            if times[k] >= reuse_max {
                available.close(k);
                available_controls -= 1;
                if available_controls == 0 {
                    return;
                }
            }
        }
    }
}

/// Mahalanobis distances: the covariates (every level of text ones) with their pooled
/// within-group covariance, inverted (a pseudo-inverse when singular, as MatchIt falls back
/// to a generalised inverse). The nearest controls are found in two steps: a screen on
/// whitened covariates (O(p) per pair) keeps the controls that could be nearest, then their
/// exact distances (O(p^2), the arithmetic MatchIt's order of ties was checked against) choose.
struct Mahalanobis {
    x: Vec<Vec<f64>>,
    inverse: Vec<f64>,
    p: usize,
    /// The covariates whitened by the inverse's eigen-decomposition (|w_a - w_b| is the
    /// distance up to rounding): a cheap screen before the exact distance.
    whitened: Vec<Vec<f64>>,
}

/// Relative slack of the whitened screen: a control is measured exactly when its screened
/// distance is within this of the best screened one (rounding differs by about 1e-15).
const SCREEN_SLACK: f64 = 1e-8;

impl Mahalanobis {
    fn new(data: &MatchData<'_>) -> Result<Self> {
        let columns = expand(data.covariates, Expansion::Balance)?;
        // drop columns without variance (MatchIt does)
        let columns: Vec<Vec<f64>> = columns
            .columns
            .into_iter()
            .filter(|c| {
                let (lo, hi) = c.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                (hi - lo).abs() >= f64::EPSILON.sqrt()
            })
            .collect();
        let p = columns.len();
        let n = data.treat.len();
        if p == 0 {
            return Err(StatsError::AllConstant);
        }
        // centre within each group, pooled covariance with n - 2 degrees of freedom
        let mut centred = columns.clone();
        for c in &mut centred {
            for group in [true, false] {
                let members: Vec<usize> = (0..n).filter(|&i| data.treat[i] == group).collect();
                let mean = members.iter().map(|&i| c[i]).sum::<f64>() / members.len() as f64;
                for &i in &members {
                    c[i] -= mean;
                }
            }
        }
        let mut cov = vec![0.0; p * p];
        for a in 0..p {
            for b in a..p {
                let s: f64 = (0..n).map(|i| centred[a][i] * centred[b][i]).sum::<f64>() / (n as f64 - 2.0);
                cov[a * p + b] = s;
                cov[b * p + a] = s;
            }
        }
        let inverse = pseudo_inverse_psd(&cov, p, 1e-10)?;
        let x: Vec<Vec<f64>> = (0..n).map(|i| columns.iter().map(|c| c[i]).collect()).collect();
        // inverse = V L V' (positive semi-definite): w = L^(1/2) V' x
        let (values, vectors) = crate::linalg::symmetric_eigen_ql(&inverse, p);
        let roots: Vec<f64> = values.iter().map(|&l| l.max(0.0).sqrt()).collect();
        let mut whitened: Vec<Vec<f64>> = x
            .iter()
            .map(|xi: &Vec<f64>| {
                (0..p).map(|l| roots[l] * (0..p).map(|r| vectors[r * p + l] * xi[r]).sum::<f64>()).collect()
            })
            .collect();
        // dimensions in decreasing spread, so a partial distance passes a limit early
        let spread: Vec<f64> = (0..p)
            .map(|l| {
                let mean = whitened.iter().map(|w| w[l]).sum::<f64>() / n as f64;
                whitened.iter().map(|w| (w[l] - mean) * (w[l] - mean)).sum::<f64>()
            })
            .collect();
        let mut dims: Vec<usize> = (0..p).collect();
        dims.sort_by(|&a, &b| spread[b].total_cmp(&spread[a]));
        for w in &mut whitened {
            *w = dims.iter().map(|&l| w[l]).collect();
        }
        Ok(Mahalanobis { x, inverse, p, whitened })
    }

    /// The controls (among `controls`, those `eligible`) whose exact distance can be among the
    /// `k` smallest: those whose screened distance is within the slack of the k-th smallest
    /// screened distance, in the order of `controls`.
    fn candidates(&self, t: usize, controls: &[usize], eligible: impl Fn(usize) -> bool, k: usize) -> Vec<usize> {
        let scale = self.whitened[t].iter().map(|v| v.abs()).sum::<f64>().max(1.0);
        let limit_of = |kth: f64| kth * (1.0 + SCREEN_SLACK) + SCREEN_SLACK * 1e-4 * scale;
        let wt = &self.whitened[t];
        // partial distance search: the squared distance summed dimension by dimension (most
        // spread first) stops once it passes the current limit, which only falls, so a control
        // stopped early is outside the final limit too
        let mut best: Vec<f64> = Vec::with_capacity(k + 1); // the k smallest so far, increasing
        let mut kept: Vec<(usize, f64)> = Vec::new();
        let mut bound = f64::INFINITY;
        for &c in controls {
            if !eligible(c) {
                continue;
            }
            let wc = &self.whitened[c];
            let mut sum = 0.0;
            let mut stopped = false;
            for (a, b) in wt.iter().zip(wc) {
                sum += (a - b) * (a - b);
                if sum > bound {
                    stopped = true;
                    break;
                }
            }
            if stopped {
                continue;
            }
            let d = sum.sqrt();
            kept.push((c, d));
            if best.len() < k || d < best[k - 1] {
                let at = best.partition_point(|&x| x <= d);
                best.insert(at, d);
                best.truncate(k);
                if best.len() == k {
                    let limit = limit_of(best[k - 1]);
                    bound = limit * limit;
                }
            }
        }
        let Some(&kth) = best.last() else { return Vec::new() };
        let limit = limit_of(kth);
        kept.into_iter().filter(|&(_, d)| d <= limit).map(|(c, _)| c).collect()
    }

    fn distance(&self, a: usize, b: usize) -> f64 {
        let diff: Vec<f64> = self.x[a].iter().zip(&self.x[b]).map(|(u, v)| u - v).collect();
        let mut s = 0.0;
        for (i, di) in diff.iter().enumerate() {
            let row: f64 = self.inverse[i * self.p..(i + 1) * self.p].iter().zip(&diff).map(|(a, b)| a * b).sum();
            s += di * row;
        }
        s.max(0.0).sqrt()
    }

    /// MatchIt's `nn_matchC` with Mahalanobis covariates: each treated unit (in `ord`) takes the
    /// closest eligible control, the first in data order on a tie.
    fn nearest(
        &self,
        treat: &[bool],
        units: &[usize],
        ord: &[usize],
        ratio: usize,
        reuse_max: usize,
        rows: &mut [Vec<usize>],
    ) {
        let controls: Vec<usize> = units.iter().copied().filter(|&u| !treat[u]).collect();
        let n1 = ord.len();
        let mut matched = vec![0usize; treat.len()];
        let replace = reuse_max >= n1;
        // controls that can still be used
        let mut available = controls.len();
        for round in 0..ratio {
            for &t in ord {
                if available == 0 {
                    break;
                }
                let usable = |c: usize| matched[c] < reuse_max && !(round > 0 && rows[t].contains(&c));
                if replace {
                    let eligible: Vec<usize> = controls.iter().copied().filter(|&c| usable(c)).collect();
                    if eligible.is_empty() {
                        continue;
                    }
                    if eligible.len() <= ratio {
                        rows[t] = eligible;
                        continue;
                    }
                    // the `ratio` closest, ties in data order; exact distances only for the
                    // controls the screen cannot rule out
                    let near = self.candidates(t, &eligible, |_| true, ratio);
                    let distances: Vec<f64> = near.iter().map(|&c| self.distance(t, c)).collect();
                    let mut idx: Vec<usize> = (0..near.len()).collect();
                    idx.sort_by(|&a, &b| distances[a].total_cmp(&distances[b]));
                    rows[t] = idx[..ratio].iter().map(|&k| near[k]).collect();
                } else {
                    let near = self.candidates(t, &controls, usable, 1);
                    if near.is_empty() {
                        continue;
                    }
                    let distances: Vec<f64> = near.iter().map(|&c| self.distance(t, c)).collect();
                    let mut best = 0;
                    for k in 1..near.len() {
                        if distances[k] < distances[best] {
                            best = k;
                        }
                    }
                    let c = near[best];
                    rows[t].push(c);
                    matched[c] += 1;
                    if matched[c] >= reuse_max {
                        available -= 1;
                    }
                }
            }
            if replace {
                break;
            }
        }
    }
}

/// Match weights from the match matrix (MatchIt's `weights.matrix`, ATT).
fn nearest_weights(n: usize, treated: &[usize], match_matrix: &[Vec<usize>], weights: &mut [f64]) {
    weights.iter_mut().for_each(|w| *w = 0.0);
    for (&t, row) in treated.iter().zip(match_matrix) {
        if row.is_empty() {
            continue;
        }
        weights[t] = 1.0;
        for &c in row {
            weights[c] += 1.0 / row.len() as f64;
        }
    }
    scale_control_weights(n, treated, weights);
}

/// Scales control weights to sum to the number of controls with a positive weight.
fn scale_control_weights(n: usize, treated: &[usize], weights: &mut [f64]) {
    let mut is_treated = vec![false; n];
    for &t in treated {
        is_treated[t] = true;
    }
    let (count, sum) =
        (0..n).filter(|&i| !is_treated[i] && weights[i] > 0.0).fold((0.0, 0.0), |(c, s), i| (c + 1.0, s + weights[i]));
    if sum > 0.0 {
        for i in (0..n).filter(|&i| !is_treated[i]) {
            weights[i] *= count / sum;
        }
    }
}

/// Subclasses of pair matching without replacement (MatchIt's `mm2subclass`): one per matched
/// treated unit, numbered in the order of the treated unit's 1-based row number as text.
fn pair_subclasses(treated: &[usize], match_matrix: &[Vec<usize>], subclass: &mut [Option<usize>]) {
    let mut with_match: Vec<(String, usize)> = treated
        .iter()
        .zip(match_matrix)
        .filter(|(_, row)| !row.is_empty())
        .map(|(&t, _)| ((t + 1).to_string(), t))
        .collect();
    with_match.sort();
    let number: std::collections::HashMap<usize, usize> =
        with_match.iter().enumerate().map(|(k, (_, t))| (*t, k + 1)).collect();
    for (&t, row) in treated.iter().zip(match_matrix) {
        if let Some(&s) = number.get(&t) {
            subclass[t] = Some(s);
            for &c in row {
                subclass[c] = Some(s);
            }
        }
    }
}

/// Value keys of covariates, one per unit (numbers by bit pattern, text by level index).
fn exact_keys(covariates: &[Covariate]) -> Vec<Vec<u64>> {
    let n = covariates.first().map_or(0, Covariate::len);
    let mut keys = vec![Vec::with_capacity(covariates.len()); n];
    for c in covariates {
        match &c.values {
            Values::Numeric(v) => {
                for (k, x) in keys.iter_mut().zip(v) {
                    // +0.0 and -0.0 are one value
                    k.push((x + 0.0).to_bits());
                }
            }
            Values::Text(v) => {
                let levels = c.levels();
                for (k, x) in keys.iter_mut().zip(v) {
                    k.push(levels.binary_search(&x.as_str()).unwrap_or(0) as u64);
                }
            }
        }
    }
    keys
}

/// Coarsened keys (MatchIt's `cem_matchit` defaults): numeric covariates cut into Sturges'
/// number of equal-width bins over their range (outer bins open), text covariates exact.
fn cem_keys(covariates: &[Covariate]) -> Vec<Vec<u64>> {
    let coarsened: Vec<Covariate> = covariates
        .iter()
        .map(|c| match &c.values {
            Values::Numeric(v) => {
                let n = v.len() as f64;
                let bins = (n.log2() + 1.0).ceil() as usize;
                let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
                // R: seq(lo, hi, length = bins + 1), ends replaced by -Inf and Inf
                let by = (hi - lo) / bins as f64;
                let inner: Vec<f64> = (1..bins).map(|i| lo + i as f64 * by).collect();
                let bin = |x: f64| 1 + inner.partition_point(|&b| b <= x);
                Covariate::numeric(&c.name, v.iter().map(|&x| bin(x) as f64).collect())
            }
            Values::Text(_) => c.clone(),
        })
        .collect();
    exact_keys(&coarsened)
}

/// Which strata [`subclass_match`] matches within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strata {
    /// Exact values of every covariate (MatchIt `method = "exact"`).
    Exact,
    /// Coarsened values (CEM).
    Coarsened,
}

/// Exact or coarsened exact matching on strata keys: strata with treated and control units
/// become subclasses, numbered in order of first appearance among the units of the first
/// unit's group (exact) or among the controls (CEM), as MatchIt numbers them.
fn subclass_match(treat: &[bool], keys: &[Vec<u64>], strata: Strata, m: &mut Matching) -> Result<()> {
    let exact = strata == Strata::Exact;
    let n = treat.len();
    let mut has: std::collections::HashMap<&[u64], (bool, bool)> = std::collections::HashMap::new();
    for (k, &t) in keys.iter().zip(treat) {
        let e = has.entry(k.as_slice()).or_default();
        if t {
            e.0 = true;
        } else {
            e.1 = true;
        }
    }
    let first_group = if exact { treat[0] } else { false };
    let mut number: std::collections::HashMap<&[u64], usize> = std::collections::HashMap::new();
    for (k, &t) in keys.iter().zip(treat) {
        if t == first_group && has[k.as_slice()] == (true, true) && !number.contains_key(k.as_slice()) {
            let next = number.len() + 1;
            number.insert(k.as_slice(), next);
        }
    }
    if number.is_empty() {
        return Err(StatsError::NoMatches(if exact {
            "no stratum has both treated and control units".into()
        } else {
            "no coarsened stratum has both treated and control units; coarsen further or match on fewer covariates"
                .into()
        }));
    }
    let strata = number.len();
    let (mut n_treated, mut n_control) = (vec![0usize; strata + 1], vec![0usize; strata + 1]);
    for i in 0..n {
        m.subclass[i] = number.get(keys[i].as_slice()).copied();
        if let Some(s) = m.subclass[i] {
            if treat[i] {
                n_treated[s] += 1;
            } else {
                n_control[s] += 1;
            }
        }
    }
    for ((w, s), &t) in m.weights.iter_mut().zip(&m.subclass).zip(treat) {
        if let Some(s) = *s {
            *w = if t { 1.0 } else { n_treated[s] as f64 / n_control[s] as f64 };
        }
    }
    scale_control_weights(n, &m.treated, &mut m.weights);
    Ok(())
}

/// Optimal 1:1 pair matching on a scalar propensity distance: the pairs with the smallest
/// total |distance difference|. On a line an optimal matching never crosses, so a dynamic
/// programme over both sorted lists finds it in O(n1 x (n0 - n1 + 1)).
fn optimal(data: &MatchData<'_>, m: &mut Matching) -> Result<()> {
    let d = m.distance.clone().expect("optimal matching has a propensity distance");
    let mut treated = m.treated.clone();
    let mut controls: Vec<usize> = (0..data.treat.len()).filter(|&i| !data.treat[i]).collect();
    let (n1, n0) = (treated.len(), controls.len());
    if n0 < n1 {
        return Err(StatsError::TooFewControls { controls: n0, treated: n1 });
    }
    treated.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
    controls.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
    let slack = n0 - n1;
    // cost[i][s]: treated 0..=i matched, treated i to control i + s (s <= slack)
    let width = slack + 1;
    let mut cost = vec![f64::INFINITY; n1 * width];
    let mut from = vec![0usize; n1 * width];
    for i in 0..n1 {
        let mut best_prev = (f64::INFINITY, 0usize);
        for s in 0..width {
            let c = (d[treated[i]] - d[controls[i + s]]).abs();
            if i == 0 {
                cost[s] = c;
            } else {
                // the previous treated unit used control i - 1 + s' with s' <= s
                let prev = cost[(i - 1) * width + s];
                if prev < best_prev.0 {
                    best_prev = (prev, s);
                }
                cost[i * width + s] = best_prev.0 + c;
                from[i * width + s] = best_prev.1;
            }
        }
    }
    let mut s =
        (0..width).min_by(|&a, &b| cost[(n1 - 1) * width + a].total_cmp(&cost[(n1 - 1) * width + b])).unwrap_or(0);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); data.treat.len()];
    for i in (0..n1).rev() {
        rows[treated[i]].push(controls[i + s]);
        s = from[i * width + s];
    }
    let match_matrix: Vec<Vec<usize>> = m.treated.iter().map(|&t| rows[t].clone()).collect();
    nearest_weights(data.treat.len(), &m.treated, &match_matrix, &mut m.weights);
    // subclasses numbered by the treated units' order in the data
    for (k, (&t, row)) in m.treated.iter().zip(&match_matrix).enumerate() {
        m.subclass[t] = Some(k + 1);
        for &c in row {
            m.subclass[c] = Some(k + 1);
        }
    }
    m.match_matrix = Some(match_matrix);
    Ok(())
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
