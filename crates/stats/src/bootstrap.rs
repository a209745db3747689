//! Inference with few clusters: the wild cluster bootstrap (WCR with the null imposed, WCU
//! without) for one coefficient of a (weighted) linear regression, and randomisation inference
//! that reassigns which clusters are treated.
//!
//! # Wild cluster bootstrap
//! Each replicate multiplies every cluster's residuals by one draw v_g (Rademacher +-1, or
//! Webb's six points +-sqrt(1/2), +-1, +-sqrt(3/2)) and recomputes the coefficient and its CR1
//! standard error (MacKinnon and Webb's WCR/WCU "11" bootstrap, as Python wildboottest). The
//! two-sided p-value is the share of replicates with |t*| > |t| (wildboottest's rule). All
//! distinct draws are enumerated when there are at most `reps` of them (2^G Rademacher, 6^G
//! Webb), so the p-value is exact then.
//!
//! A replicate costs O(G k), not O(n): with c the coefficient's row of (X'X)^-1,
//! b*_k - b_k = sum_g v_g A_g and the cluster scores c'X_g'u*_g = v_g A_g - sum_h B_gh v_h, with
//! A_g = c'X_g'u_g and B_gh = c'X_g'X_g (X'X)^-1 X_h'u_h computed once from the data (Roodman,
//! MacKinnon, Nielsen and Webb 2019, "Fast and wild", section 5). B has rank k: B_gh = d_g'm_h
//! with d_g = X_g'X_g c and m_h = (X'X)^-1 X_h'u_h, so sum_h B_gh v_h = d_g'(sum_h v_h m_h)
//! and one k-vector per replicate serves every cluster.
//! Replicates run in parallel; each draws from its own stream of the seed, so the result is
//! the same whatever the number of threads. Draws are kept as one byte per cluster (the index of
//! the point).
//!
//! Confidence intervals invert the WCR test: the restricted residuals are linear in the
//! hypothesised value r, so A(r) and m(r) are too: each replicate's t*(r) is a linear function
//! over the square root of a quadratic in r, whose five coefficients one O(reps G k) pass
//! gives, and the p-value of any r then costs O(reps) with the same draws.

use crate::error::{Result, StatsError};
use crate::linalg::{weighted_least_squares, ColumnRef, LeastSquares, Matrix, MatrixRef};
use crate::randomisation::RandomisationResult;
use crate::regression::WlsFit;
use crate::rng::Rng;
use rayon::prelude::*;

crate::choice! {
    /// Bootstrap weights.
    pub enum BootWeights {
        /// +-1 with probability 1/2.
        Rademacher = "rademacher",
        /// Webb's six-point distribution (better with very few clusters).
        Webb = "webb",
    }
}

/// Null hypothesis imposed (WCR) or not (WCU).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootType {
    /// Restricted: residuals under the null (recommended).
    Wcr,
    /// Unrestricted.
    Wcu,
}

/// Settings of a wild cluster bootstrap.
#[derive(Debug, Clone, Copy)]
pub struct WildParams {
    /// Replications (9,999).
    pub reps: usize,
    /// Weights (Webb).
    pub weights: BootWeights,
    /// WCR or WCU.
    pub kind: BootType,
    /// Seed.
    pub seed: u64,
}

/// Most replications accepted: the draws are held in memory (reps x clusters numbers).
pub const MAX_REPS: usize = 10_000_000;

/// Settings checked by [`WildParams::check`]; what [`WildProblem::test`] takes.
#[derive(Debug, Clone, Copy)]
pub struct ValidWildParams(WildParams);

impl std::ops::Deref for ValidWildParams {
    type Target = WildParams;
    fn deref(&self) -> &WildParams {
        &self.0
    }
}

impl WildParams {
    /// Checks the settings once, before any bootstrap runs.
    ///
    /// # Errors
    /// [`StatsError::OutOfRange`] for no replications or more than [`MAX_REPS`].
    pub fn check(self) -> Result<ValidWildParams> {
        if !(1..=MAX_REPS).contains(&self.reps) {
            return Err(StatsError::OutOfRange {
                what: "bootstrap replications",
                allowed: "from 1 to 10,000,000 (9,999 recommended)",
            });
        }
        Ok(ValidWildParams(self))
    }
}

impl Default for WildParams {
    fn default() -> Self {
        WildParams { reps: 9999, weights: BootWeights::Webb, kind: BootType::Wcr, seed: 2009 }
    }
}

/// A wild cluster bootstrap test.
#[derive(Debug, Clone, PartialEq)]
pub struct WildResult {
    /// The coefficient.
    pub estimate: f64,
    /// Its t statistic with CR1 errors.
    pub t: f64,
    /// Bootstrap p-value.
    pub p_value: f64,
    /// Replicates used (all distinct draws when enumerated).
    pub reps: usize,
    /// Whether every distinct draw was used.
    pub enumerated: bool,
    /// Clusters.
    pub clusters: usize,
}

/// The data of a regression with clusters, reduced to what the bootstrap needs.
pub struct WildProblem {
    n: usize,
    k: usize,
    g: usize,
    coef: usize,
    estimate: f64,
    /// Row `coef` of (X'X)^-1.
    c: Vec<f64>,
    /// (X'X)^-1.
    xtx_inv: Vec<f64>,
    /// Per cluster: c'X_g'X_g (row vector, k), G x k row by row.
    cxx: Vec<f64>,
    /// Per cluster X_g'u_g for the unrestricted residuals.
    xu_full: Vec<Vec<f64>>,
    /// Per cluster X_g'u_g of the restricted residuals at r = 0, and its change per unit r.
    xu_restricted: Vec<Vec<f64>>,
    xu_slope: Vec<Vec<f64>>,
}

use crate::moments::dot;

/// What a wild cluster bootstrap keeps of each cluster g (weighted; k numbers per vector):
/// X_g'W_g X_g (k x k, row-major), and X_g'W_g u_g of the unrestricted residuals, of the
/// residuals with the null r = 0 imposed, and of their change per unit r.
pub(crate) struct ClusterSums {
    pub xx: Vec<Vec<f64>>,
    pub xu_full: Vec<Vec<f64>>,
    pub xu_restricted: Vec<Vec<f64>>,
    pub xu_slope: Vec<Vec<f64>>,
}

/// A and the m_h of one set of residual scores (see the module page).
struct Scores {
    a: Vec<f64>,
    m: Vec<f64>,
}

/// Bootstrap draws: per replicate, one index into `points` per cluster.
struct Draws {
    points: &'static [f64],
    g: usize,
    codes: Vec<u8>,
    enumerated: bool,
}

impl Draws {
    fn len(&self) -> usize {
        self.codes.len() / self.g
    }
}

impl WildProblem {
    /// Prepares the bootstrap of coefficient `coef` of the regression of `y` on `x` (with
    /// optional weights), clusters given per row. O(n k^2) once.
    ///
    /// # Errors
    /// Fewer than two clusters, lengths that differ, collinear columns.
    pub fn new<'x, 'y>(
        x: impl Into<MatrixRef<'x>>,
        y: impl Into<ColumnRef<'y>>,
        weights: Option<&[f64]>,
        cluster: &[usize],
        coef: usize,
    ) -> Result<Self> {
        Self::prepare(&x.into(), &y.into(), weights, cluster, coef, None)
    }

    /// [`WildProblem::new`] on the rows `fit` used (weight above 0), reusing its coefficients
    /// and (X'WX)^-1: one least-squares pass over the rows fewer. `y` and `cluster` are per input
    /// row, as given to [`crate::regression::wls`]. Without zero weights the result equals
    /// `new` on the same rows, bit for bit.
    ///
    /// # Errors
    /// As [`WildProblem::new`].
    pub fn from_fit(fit: &WlsFit, y: &[f64], cluster: &[usize], coef: usize) -> Result<Self> {
        let (x, w, n_input) = fit.used();
        if y.len() != n_input || cluster.len() != n_input {
            return Err(StatsError::LengthMismatch { inputs: "the outcome, clusters and the fitted rows" });
        }
        let all = fit.kept().len() == n_input;
        let yk: Vec<f64> = if all { Vec::new() } else { fit.kept().iter().map(|&i| y[i]).collect() };
        let ck: Vec<usize> = if all { Vec::new() } else { fit.kept().iter().map(|&i| cluster[i]).collect() };
        let (y, cluster) = if all { (y, cluster) } else { (&yk[..], &ck[..]) };
        let full = LeastSquares { coef: fit.coef.clone(), unscaled_cov: fit.bread.clone() };
        Self::prepare(&x.into(), y, Some(w), cluster, coef, Some(full))
    }

    fn prepare(
        x: &MatrixRef<'_>,
        y: &[f64],
        weights: Option<&[f64]>,
        cluster: &[usize],
        coef: usize,
        full: Option<LeastSquares>,
    ) -> Result<Self> {
        let (n, k) = (x.n, x.p);
        if y.len() != n || cluster.len() != n || weights.is_some_and(|w| w.len() != n) || coef >= k {
            return Err(StatsError::LengthMismatch { inputs: "the outcome, clusters, weights and design" });
        }
        let crate::labels::Numbered { index, labels } = crate::labels::number(cluster);
        let g = labels.len();
        if g < 2 {
            return Err(StatsError::TooFewClusters { method: "the wild cluster bootstrap", min: 2, got: g });
        }
        let ones = vec![1.0; n];
        let w = weights.unwrap_or(&ones);
        let collinear = |_| StatsError::Collinear { names: vec!["a column of the design".into()] };
        let full = match full {
            Some(full) => full,
            None => weighted_least_squares(x, y, w, 1e-7).map_err(collinear)?,
        };
        // restricted fit: y - r x_coef on the other columns; residuals at r = 0 and their slope
        let others: Vec<usize> = (0..k).filter(|&j| j != coef).collect();
        let x_others = Matrix {
            n,
            p: others.len(),
            values: (0..n).flat_map(|i| others.iter().map(move |&j| (i, j))).map(|(i, j)| x.at(i, j)).collect(),
        };
        let xk: Vec<f64> = (0..n).map(|i| x.at(i, coef)).collect();
        let (fit_y, fit_xk) = if others.is_empty() {
            (vec![0.0; y.len()], vec![0.0; n])
        } else {
            let by = weighted_least_squares(&x_others, y, w, 1e-7).map_err(collinear)?;
            let bx = weighted_least_squares(&x_others, &xk, w, 1e-7).map_err(collinear)?;
            let predict = |b: &[f64]| -> Vec<f64> { (0..n).map(|i| dot(x_others.row(i), b)).collect() };
            (predict(&by.coef), predict(&bx.coef))
        };
        // in the sqrt(w)-transformed problem every quantity carries sqrt(w); X_g'u_g carries w
        let mut xx_g = vec![vec![0.0; k * k]; g];
        let mut xu_full = vec![vec![0.0; k]; g];
        let mut xu_restricted = vec![vec![0.0; k]; g];
        let mut xu_slope = vec![vec![0.0; k]; g];
        for i in 0..n {
            let xi = x.row(i);
            let gi = index[i];
            let wi = w[i];
            let u_full = y[i] - dot(xi, &full.coef);
            let u_r0 = y[i] - fit_y[i];
            let u_slope = -(xk[i] - fit_xk[i]);
            for a in 0..k {
                xu_full[gi][a] += wi * xi[a] * u_full;
                xu_restricted[gi][a] += wi * xi[a] * u_r0;
                xu_slope[gi][a] += wi * xi[a] * u_slope;
                for b in 0..k {
                    xx_g[gi][a * k + b] += wi * xi[a] * xi[b];
                }
            }
        }
        // (X'X)^-1 (weighted) comes with the full fit
        let sums = ClusterSums { xx: xx_g, xu_full, xu_restricted, xu_slope };
        Ok(Self::from_cluster_sums(n, coef, full.coef[coef], full.unscaled_cov, sums))
    }

    /// The problem from its per-cluster sums (clusters numbered 0..G, G >= 2): `n` rows,
    /// coefficient `coef` estimated at `estimate`, (X'WX)^-1 row-major.
    pub(crate) fn from_cluster_sums(
        n: usize,
        coef: usize,
        estimate: f64,
        xtx_inv: Vec<f64>,
        sums: ClusterSums,
    ) -> Self {
        let ClusterSums { xx, xu_full, xu_restricted, xu_slope } = sums;
        let (k, g) = (xu_full[0].len(), xu_full.len());
        let c: Vec<f64> = xtx_inv[coef * k..(coef + 1) * k].to_vec();
        let cxx: Vec<f64> =
            xx.iter().flat_map(|m| (0..k).map(|b| (0..k).map(|a| c[a] * m[a * k + b]).sum::<f64>())).collect();
        WildProblem { n, k, g, coef, estimate, c, xtx_inv, cxx, xu_full, xu_restricted, xu_slope }
    }

    /// The coefficient.
    pub fn estimate(&self) -> f64 {
        self.estimate
    }

    fn adj(&self) -> f64 {
        let (g, n, k) = (self.g as f64, self.n as f64, self.k as f64);
        g / (g - 1.0) * (n - 1.0) / (n - k)
    }

    /// A and the m_h of per-cluster residual scores xu (see the module page).
    fn scores(&self, xu: &[Vec<f64>]) -> Scores {
        let k = self.k;
        let a: Vec<f64> = xu.iter().map(|v| dot(&self.c, v)).collect();
        // (X'X)^-1 X_h'u_h for each h, G x k row by row
        let m: Vec<f64> = xu.iter().flat_map(|v| (0..k).map(|i| dot(&self.xtx_inv[i * k..(i + 1) * k], v))).collect();
        Scores { a, m }
    }

    /// t of the coefficient against `r` with CR1 errors.
    pub fn t(&self, r: f64) -> f64 {
        let scores = self.scores(&self.xu_full);
        // the identity draw of the unrestricted problem gives the sample scores
        let ones = vec![1.0; self.g];
        let se = self.se(&scores, &ones, &mut vec![0.0; self.k]);
        (self.estimate - r) / se
    }

    /// The CR1 standard error of the replicate with draws `v` (`total`: k numbers of room).
    fn se(&self, scores: &Scores, v: &[f64], total: &mut [f64]) -> f64 {
        let k = self.k;
        total.fill(0.0);
        for (vh, mh) in v.iter().zip(scores.m.chunks_exact(k)) {
            for (t, m) in total.iter_mut().zip(mh) {
                *t += vh * m;
            }
        }
        let mut sum = 0.0;
        for ((vg, ag), dg) in v.iter().zip(&scores.a).zip(self.cxx.chunks_exact(k)) {
            let q = vg * ag - dot(dg, total);
            sum += q * q;
        }
        (self.adj() * sum).sqrt()
    }

    /// The draws: all distinct ones when they number at most `reps`, else `reps` random ones.
    fn draws(&self, params: &WildParams) -> Draws {
        let g = self.g;
        let points: &'static [f64] = match params.weights {
            BootWeights::Rademacher => &[-1.0, 1.0],
            BootWeights::Webb => &[
                -1.224_744_871_391_589,
                -1.0,
                -std::f64::consts::FRAC_1_SQRT_2,
                std::f64::consts::FRAC_1_SQRT_2,
                1.0,
                1.224_744_871_391_589,
            ],
        };
        let base = points.len();
        debug_assert!(base == 2 || base == 6, "Rademacher or Webb points");
        let distinct = (base as f64).powi(g as i32);
        if distinct <= params.reps as f64 {
            let total = distinct as usize;
            let mut codes = vec![0u8; total * g];
            for (mut code, draw) in codes.chunks_exact_mut(g).enumerate() {
                for d in draw {
                    *d = (code % base) as u8;
                    code /= base;
                }
            }
            return Draws { points, g, codes, enumerated: true };
        }
        let mut codes = vec![0u8; params.reps * g];
        codes.par_chunks_exact_mut(g).enumerate().for_each(|(rep, draw)| {
            let mut rng = Rng::new(params.seed, rep as u64 + 1);
            // a constant divisor: the remainder by multiplication, not a division per draw
            let point = |x: u64| match base {
                2 => x % 2,
                _ => x % 6,
            };
            for d in draw {
                *d = point(rng.next_u64()) as u8;
            }
        });
        Draws { points, g, codes, enumerated: false }
    }

    fn p_value_with(&self, r: f64, kind: BootType, draws: &Draws) -> (f64, f64) {
        let t = self.t(r);
        let scores = match kind {
            BootType::Wcu => self.scores(&self.xu_full),
            BootType::Wcr => {
                let xu: Vec<Vec<f64>> = self
                    .xu_restricted
                    .iter()
                    .zip(&self.xu_slope)
                    .map(|(u0, s)| u0.iter().zip(s).map(|(a, b)| a + r * b).collect())
                    .collect();
                self.scores(&xu)
            }
        };
        let exceed: usize = draws
            .codes
            .par_chunks_exact(draws.g)
            .with_min_len(256)
            .map_init(
                || (vec![0.0; draws.g], vec![0.0; self.k]),
                |(v, total), codes| {
                    for (vi, &c) in v.iter_mut().zip(codes) {
                        *vi = draws.points[usize::from(c)];
                    }
                    let numerator = dot(v, &scores.a);
                    let t_star = numerator / self.se(&scores, v, total);
                    usize::from(t_star.abs() > t.abs() * (1.0 + 1e-12))
                },
            )
            .sum();
        (t, exceed as f64 / draws.len() as f64)
    }

    /// The bootstrap test of coefficient = `r`.
    pub fn test(&self, r: f64, params: &ValidWildParams) -> WildResult {
        self.test_with(r, params, &self.draws(params))
    }

    /// The bootstrap test of coefficient = `r` and the 95% interval
    /// ([`WildProblem::confidence_interval`]) on the same draws, made once.
    pub fn test_and_interval(&self, r: f64, params: &ValidWildParams) -> (WildResult, (f64, f64)) {
        let draws = self.draws(params);
        if !(r == 0.0 && matches!(params.kind, BootType::Wcr)) {
            return (self.test_with(r, params, &draws), self.interval_with(&draws));
        }
        // the test of 0 is the inverted test's p at r = 0: each replicate's t*(0) is the same
        // arithmetic on the same numbers as the test's own pass, so one pass serves both
        let replicates = self.replicates_in_r(&draws);
        let t = self.t(0.0);
        let result = WildResult {
            estimate: self.estimate,
            t,
            p_value: self.p_from_replicates(&replicates, 0.0),
            reps: draws.len(),
            enumerated: draws.enumerated,
            clusters: self.g,
        };
        (result, self.interval_from(&replicates))
    }

    /// The WCR p-value of coefficient = `r` from [`WildProblem::replicates_in_r`].
    fn p_from_replicates(&self, replicates: &[[f64; 5]], r: f64) -> f64 {
        let adj = self.adj();
        let bound = self.t(r).abs() * (1.0 + 1e-12);
        let exceed = replicates
            .iter()
            .filter(|[n0, n1, a, b, c]| {
                let t_star = (n0 + r * n1) / (adj * (a + r * (2.0 * b + r * c))).max(0.0).sqrt();
                t_star.abs() > bound
            })
            .count();
        exceed as f64 / replicates.len() as f64
    }

    fn test_with(&self, r: f64, params: &ValidWildParams, draws: &Draws) -> WildResult {
        let (t, p_value) = self.p_value_with(r, params.kind, draws);
        WildResult {
            estimate: self.estimate,
            t,
            p_value,
            reps: draws.len(),
            enumerated: draws.enumerated,
            clusters: self.g,
        }
    }

    /// The 95% interval by inverting the WCR test (as boottest and fwildclusterboot do): the
    /// values r whose p-value is at least 0.05, found by bisection on each side of the estimate
    /// with the same draws throughout, to 1e-7 of the interval's scale (the larger of the
    /// bound and the standard error).
    pub fn confidence_interval(&self, params: &ValidWildParams) -> (f64, f64) {
        self.interval_with(&self.draws(params))
    }

    fn interval_with(&self, draws: &Draws) -> (f64, f64) {
        self.interval_from(&self.replicates_in_r(draws))
    }

    fn interval_from(&self, replicates: &[[f64; 5]]) -> (f64, f64) {
        let p = |r: f64| self.p_from_replicates(replicates, r);
        let se = (self.estimate / self.t(0.0)).abs().max(1e-12);
        let side = |dir: f64| {
            let (mut inside, mut outside) = (self.estimate, self.estimate + dir * se);
            let mut widen = 0;
            while p(outside) >= 0.05 && widen < 60 {
                inside = outside;
                outside = self.estimate + dir * se * 2f64.powi(widen + 1);
                widen += 1;
            }
            let tolerance = 1e-7 * se.max(outside.abs());
            for _ in 0..80 {
                if (outside - inside).abs() <= tolerance {
                    break;
                }
                let mid = 0.5 * (inside + outside);
                if p(mid) >= 0.05 {
                    inside = mid;
                } else {
                    outside = mid;
                }
            }
            0.5 * (inside + outside)
        };
        (side(-1.0), side(1.0))
    }

    /// Each WCR replicate's t* as a function of the hypothesised value r (Roodman, MacKinnon,
    /// Nielsen and Webb 2019, section 5 on test inversion): the restricted scores are
    /// A0 + r A1 and m0 + r m1, so the numerator is n0 + r n1 and every cluster's score
    /// q_g = q0_g + r q1_g, whence se*^2 = adj (a + 2 b r + c r^2) with a = sum q0^2,
    /// b = sum q0 q1 and c = sum q1^2. One O(reps G k) pass, then O(reps) per value of r.
    fn replicates_in_r(&self, draws: &Draws) -> Vec<[f64; 5]> {
        let fixed = self.scores(&self.xu_restricted);
        let slope = self.scores(&self.xu_slope);
        if self.k == 2 {
            return self.replicates_in_r_two(draws, &fixed, &slope);
        }
        self.replicates_in_r_any(draws, &fixed, &slope)
    }

    /// [`WildProblem::replicates_in_r`] for any number of coefficients.
    fn replicates_in_r_any(&self, draws: &Draws, fixed: &Scores, slope: &Scores) -> Vec<[f64; 5]> {
        let k = self.k;
        draws
            .codes
            .par_chunks_exact(draws.g)
            .with_min_len(256)
            .map_init(
                || (vec![0.0; draws.g], vec![0.0; k], vec![0.0; k]),
                |(v, total0, total1), codes| {
                    for (vi, &c) in v.iter_mut().zip(codes) {
                        *vi = draws.points[usize::from(c)];
                    }
                    total0.fill(0.0);
                    total1.fill(0.0);
                    for ((vh, m0), m1) in v.iter().zip(fixed.m.chunks_exact(k)).zip(slope.m.chunks_exact(k)) {
                        for j in 0..k {
                            total0[j] += vh * m0[j];
                            total1[j] += vh * m1[j];
                        }
                    }
                    let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
                    for (((vg, a0), a1), dg) in v.iter().zip(&fixed.a).zip(&slope.a).zip(self.cxx.chunks_exact(k)) {
                        let q0 = vg * a0 - dot(dg, total0);
                        let q1 = vg * a1 - dot(dg, total1);
                        a += q0 * q0;
                        b += q0 * q1;
                        c += q1 * q1;
                    }
                    [dot(v, &fixed.a), dot(v, &slope.a), a, b, c]
                },
            )
            .collect()
    }

    /// [`WildProblem::replicates_in_r`] of a model of two coefficients (a difference between two
    /// groups, `effect --cluster`): the same operations in the same order on numbers held in
    /// registers (a dot product of two is x0 + x1, as `dot` sums from -0), the same values.
    fn replicates_in_r_two(&self, draws: &Draws, fixed: &Scores, slope: &Scores) -> Vec<[f64; 5]> {
        draws
            .codes
            .par_chunks_exact(draws.g)
            .with_min_len(256)
            .map_init(
                || vec![0.0; draws.g],
                |v, codes| {
                    for (vi, &c) in v.iter_mut().zip(codes) {
                        *vi = draws.points[usize::from(c)];
                    }
                    let (mut total0, mut total1) = ([0.0f64; 2], [0.0f64; 2]);
                    for ((vh, m0), m1) in v.iter().zip(fixed.m.chunks_exact(2)).zip(slope.m.chunks_exact(2)) {
                        total0[0] += vh * m0[0];
                        total1[0] += vh * m1[0];
                        total0[1] += vh * m0[1];
                        total1[1] += vh * m1[1];
                    }
                    let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
                    for (((vg, a0), a1), dg) in v.iter().zip(&fixed.a).zip(&slope.a).zip(self.cxx.chunks_exact(2)) {
                        let q0 = vg * a0 - (dg[0] * total0[0] + dg[1] * total0[1]);
                        let q1 = vg * a1 - (dg[0] * total1[0] + dg[1] * total1[1]);
                        a += q0 * q0;
                        b += q0 * q1;
                        c += q1 * q1;
                    }
                    [dot(v, &fixed.a), dot(v, &slope.a), a, b, c]
                },
            )
            .collect()
    }

    /// Index of the tested coefficient.
    pub fn coefficient(&self) -> usize {
        self.coef
    }
}

/// Randomisation inference for a difference-in-differences with cluster-level treatment:
/// the statistic is (treated post - treated pre) - (control post - control pre) of unit-level
/// means; treatment is reassigned to every set of as many clusters as were treated (all
/// C(G, G1) sets when at most `reps`, else `reps` random ones from the seed), each costing O(G).
///
/// # Errors
/// Lengths that differ; no treated or no control cluster; an empty cell.
pub fn randomisation_did(
    cluster: &[usize],
    post: &[bool],
    y: &[f64],
    treated_clusters: &[usize],
    reps: usize,
    seed: u64,
) -> Result<RandomisationResult> {
    let n = y.len();
    if cluster.len() != n || post.len() != n {
        return Err(StatsError::LengthMismatch { inputs: "clusters, periods and outcome" });
    }
    let crate::labels::Numbered { index, labels } = crate::labels::number(cluster);
    let g = labels.len();
    let mut cells = vec![[0.0f64; 4]; g]; // n_pre, sum_pre, n_post, sum_post
    for i in 0..n {
        let c = index[i];
        let o = if post[i] { 2 } else { 0 };
        cells[c][o] += 1.0;
        cells[c][o + 1] += y[i];
    }
    let treated: Vec<bool> = labels.iter().map(|l| treated_clusters.contains(l)).collect();
    let g1 = treated.iter().filter(|&&t| t).count();
    if g1 == 0 || g1 == g {
        return Err(StatsError::NeedsBothArms { method: "randomisation inference" });
    }
    let statistic = |assign: &[bool]| -> Option<f64> {
        let mut s = [[0.0f64; 4]; 2];
        for (c, &t) in cells.iter().zip(assign) {
            for j in 0..4 {
                s[usize::from(t)][j] += c[j];
            }
        }
        if s.iter().any(|x| x[0] == 0.0 || x[2] == 0.0) {
            return None;
        }
        let diff = |x: &[f64; 4]| x[3] / x[2] - x[1] / x[0];
        Some(diff(&s[1]) - diff(&s[0]))
    };
    let observed = statistic(&treated)
        .ok_or(StatsError::UndefinedStatistic { reason: "a group has no units in one of the periods" })?;
    // every set of g1 clusters (or `reps` drawn from the seed), as crate::randomisation::randomisation_test
    let treated_set: Vec<usize> = (0..g).filter(|&i| treated[i]).collect();
    let result = crate::randomisation::randomisation_test(g, &treated_set, reps, seed, |set| {
        let mut assign = vec![false; g];
        set.iter().for_each(|&i| assign[i] = true);
        statistic(&assign)
    })?;
    debug_assert!((result.estimate - observed).abs() <= 1e-12 * observed.abs().max(1.0));
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regression::wls;

    #[test]
    fn a_problem_built_on_a_fit_equals_one_built_from_the_rows() {
        let mut rng = Rng::new(7, 1);
        let n = 300;
        let rows: Vec<Vec<f64>> = (0..n).map(|i| vec![1.0, f64::from(u8::from(i % 3 == 0)), rng.normal()]).collect();
        let x = Matrix::from_rows(&rows);
        let y: Vec<f64> = rows.iter().map(|r| 0.4 * r[1] + r[2] + rng.normal()).collect();
        let cluster: Vec<usize> = (0..n).map(|i| i % 17).collect();
        // every fourth row weighs 0: the fit leaves it out, as `new` on the other rows does
        let w: Vec<f64> = (0..n).map(|i| if i % 4 == 1 { 0.0 } else { 0.5 + rng.uniform() }).collect();
        let params = WildParams { reps: 499, ..WildParams::default() }.check().unwrap();
        for weights in [None, Some(&w[..])] {
            let fit = wls(&x, &y, weights).unwrap();
            let kept = fit.kept().to_vec();
            let sub = Matrix::from_rows(&kept.iter().map(|&i| rows[i].clone()).collect::<Vec<_>>());
            let pick = |v: &[f64]| kept.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            let sub_cluster: Vec<usize> = kept.iter().map(|&i| cluster[i]).collect();
            let sub_w = weights.map(&pick);
            let direct = WildProblem::new(&sub, &pick(&y), sub_w.as_deref(), &sub_cluster, 1).unwrap();
            let on_fit = WildProblem::from_fit(&fit, &y, &cluster, 1).unwrap();
            assert_eq!(on_fit.test(0.0, &params), direct.test(0.0, &params));
            assert_eq!(on_fit.estimate(), fit.coef[1]);
        }
        let fit = wls(&x, &y, None).unwrap();
        assert!(matches!(WildProblem::from_fit(&fit, &y[1..], &cluster, 1), Err(StatsError::LengthMismatch { .. })));
    }

    /// The test and the interval made together (one pass over the replicates for both when
    /// the test is of 0 under WCR) equal the test and the interval made apart, bit for bit,
    /// for drawn and for enumerated draws, and for a test of another value.
    #[test]
    fn the_test_and_interval_together_equal_each_made_apart() {
        let mut rng = Rng::new(11, 3);
        for (n, clusters, reps) in [(400, 23, 999), (120, 5, 9_999)] {
            let rows: Vec<Vec<f64>> =
                (0..n).map(|i| vec![1.0, f64::from(u8::from(i % clusters < clusters / 2)), rng.normal()]).collect();
            let x = Matrix::from_rows(&rows);
            let y: Vec<f64> = rows.iter().map(|r| 0.3 * r[1] + r[2] + rng.normal()).collect();
            let cluster: Vec<usize> = (0..n).map(|i| i % clusters).collect();
            let problem = WildProblem::new(&x, &y, None, &cluster, 1).unwrap();
            let params = WildParams { reps, ..WildParams::default() }.check().unwrap();
            for r in [0.0, 0.25] {
                let (test, interval) = problem.test_and_interval(r, &params);
                assert_eq!(test, problem.test(r, &params));
                assert_eq!(interval, problem.confidence_interval(&params));
                assert!(test.p_value > 0.0 && test.p_value <= 1.0 && interval.0 < interval.1);
            }
        }
    }

    /// The replicates of a two-coefficient model, held in registers, equal the general
    /// computation's bit for bit, weighted or not.
    #[test]
    fn replicates_of_two_coefficients_equal_the_general_pass() {
        let mut rng = Rng::new(5, 9);
        let n = 500;
        let rows: Vec<Vec<f64>> = (0..n).map(|i| vec![1.0, f64::from(u8::from(i % 7 < 3))]).collect();
        let x = Matrix::from_rows(&rows);
        let y: Vec<f64> = rows.iter().map(|r| 0.2 * r[1] + rng.normal()).collect();
        let w: Vec<f64> = (0..n).map(|_| 0.5 + rng.uniform()).collect();
        let cluster: Vec<usize> = (0..n).map(|i| i % 31).collect();
        let params = WildParams { reps: 999, ..WildParams::default() }.check().unwrap();
        for weights in [None, Some(&w[..])] {
            let problem = WildProblem::new(&x, &y, weights, &cluster, 1).unwrap();
            let draws = problem.draws(&params);
            let (fixed, slope) = (problem.scores(&problem.xu_restricted), problem.scores(&problem.xu_slope));
            let two = problem.replicates_in_r_two(&draws, &fixed, &slope);
            let any = problem.replicates_in_r_any(&draws, &fixed, &slope);
            let bits = |r: &[[f64; 5]]| r.iter().flatten().map(|v| v.to_bits()).collect::<Vec<u64>>();
            assert_eq!(bits(&two), bits(&any));
            assert_eq!(two.len(), 999);
        }
    }
}
