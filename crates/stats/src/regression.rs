//! Weighted least squares with heteroskedasticity-robust and cluster-robust covariances.
//!
//! # Formula
//! b = (X'WX)^-1 X'Wy, residuals e = y - Xb, M = (X'WX)^-1.
//! - HC0..HC3 (R `sandwich::vcovHC`): M (sum_i w_i^2 e_i^2 x_i x_i' / d_i) M with d_i = 1,
//!   (n - k)/n, 1 - h_i, (1 - h_i)^2 and h_i = w_i x_i' M x_i.
//! - CR1 (R `sandwich::vcovCL(type = "HC1")`): M (sum_g u_g u_g') M x G/(G - 1) x (n - 1)/(n - k)
//!   with u_g = sum over cluster g of w_i e_i x_i.
//! - CR2 (R `clubSandwich::vcovCR(type = "CR2")`, working model identity, Bell and McCaffrey
//!   2002): u_g = X_g' W_g A_g e_g with A_g = (I - H_gg - H_gg' + X_g M (X'W^2X) M X_g')^(-1/2)
//!   and H_gg = X_g M X_g' W_g (with equal weights: (I - H_gg)^(-1/2), sandwich's HC2).
//!   Each A_g is computed in the span of [X_g, W_g X_g] (rank at most 2k), so a cluster of
//!   thousands of rows costs O(n_g k^2), not O(n_g^3).
//! - Degrees of freedom for a coefficient under CR2: clubSandwich's Satterthwaite
//!   approximation (Bell-McCaffrey; Pustejovsky and Tipton 2018) under the working model:
//!   (tr B)^2 / sum B_gh^2 with B_gh = a_g'a_h, where the CR2 variance is sum_g (a_g' eps)^2.
//!
//! Units with weight 0 are dropped first (as R's `lm` and clubSandwich drop them).

use crate::distributions::{pt, qt};
use crate::error::{Result, StatsError};
use crate::linalg::{symmetric_eigen, tail_series, weighted_least_squares, ColumnRef, Matrix, MatrixRef};
use crate::moments::dot_fast;

/// A fitted weighted least squares regression.
#[derive(Debug, Clone)]
pub struct WlsFit {
    /// Coefficients.
    pub coef: Vec<f64>,
    /// Residuals y - Xb (units with positive weight).
    pub residuals: Vec<f64>,
    /// (X'WX)^-1, row-major k x k.
    pub bread: Vec<f64>,
    x: Matrix,
    w: Vec<f64>,
    kept: Vec<usize>,
    n_input: usize,
}

/// Kinds of heteroskedasticity-robust covariance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hc {
    /// White's estimator.
    Hc0,
    /// HC0 x n/(n - k).
    Hc1,
    /// Leverage-adjusted.
    Hc2,
    /// Jackknife-like.
    Hc3,
}

/// A coefficient's estimate with its standard error, t reference and interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inference {
    /// Estimate.
    pub estimate: f64,
    /// Standard error.
    pub se: f64,
    /// Degrees of freedom of the t reference.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower end of the 95% interval.
    pub ci_low: f64,
    /// Upper end of the 95% interval.
    pub ci_high: f64,
}

impl Inference {
    /// The t-based inference for `estimate` with `se` and `df` (level 95%). Degrees of freedom
    /// that are not positive (e.g. a contrast no cluster informs) give NaN p-value and interval.
    pub fn t(estimate: f64, se: f64, df: f64) -> Self {
        let q = qt(0.975, df);
        let p_value = 2.0 * (1.0 - pt((estimate / se).abs(), df));
        Inference { estimate, se, df, p_value, ci_low: estimate - q * se, ci_high: estimate + q * se }
    }
}

pub(crate) fn mat_vec(m: &[f64], k: usize, v: &[f64]) -> Vec<f64> {
    (0..k).map(|i| dot_fast(&m[i * k..(i + 1) * k], v)).collect()
}

fn quad(a: &[f64], m: &[f64], b: &[f64]) -> f64 {
    let k = a.len();
    (0..k).map(|i| a[i] * (0..k).map(|j| m[i * k + j] * b[j]).sum::<f64>()).sum()
}

/// M S M for symmetric S (k x k).
pub(crate) fn sandwich(m: &[f64], s: &[f64], k: usize) -> Vec<f64> {
    let mut ms = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            ms[i * k + j] = (0..k).map(|l| m[i * k + l] * s[l * k + j]).sum();
        }
    }
    let mut out = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            out[i * k + j] = (0..k).map(|l| ms[i * k + l] * m[l * k + j]).sum();
        }
    }
    out
}

/// Fits y on the columns of x with weights (None: all 1).
///
/// # Errors
/// Lengths that differ, negative or non-finite weights, too few units, collinear columns.
pub fn wls<'x, 'y>(
    x: impl Into<MatrixRef<'x>>,
    y: impl Into<ColumnRef<'y>>,
    weights: Option<&[f64]>,
) -> Result<WlsFit> {
    wls_fit(&x.into(), &y.into(), weights)
}

fn wls_fit(x: &MatrixRef<'_>, y: &[f64], weights: Option<&[f64]>) -> Result<WlsFit> {
    let n = x.n;
    let k = x.p;
    if y.len() != n || weights.is_some_and(|w| w.len() != n) {
        return Err(StatsError::LengthMismatch { inputs: "the outcome, weights and design" });
    }
    if let Some(w) = weights {
        if w.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(StatsError::OutOfRange { what: "weights", allowed: "finite and not negative" });
        }
    }
    let kept: Vec<usize> = (0..n).filter(|&i| weights.is_none_or(|w| w[i] > 0.0)).collect();
    if kept.len() <= k {
        return Err(StatsError::TooFewObservations { min: k + 1, got: kept.len() });
    }
    let mut values = Vec::with_capacity(kept.len() * k);
    for &i in &kept {
        values.extend_from_slice(x.row(i));
    }
    let x = Matrix { n: kept.len(), p: k, values };
    let w: Vec<f64> = kept.iter().map(|&i| weights.map_or(1.0, |w| w[i])).collect();
    let yk: Vec<f64> = kept.iter().map(|&i| y[i]).collect();
    let ls = weighted_least_squares(&x, &yk, &w, 1e-7)
        .map_err(|d| StatsError::Collinear { names: d.0.iter().map(|j| format!("column {}", j + 1)).collect() })?;
    let residuals: Vec<f64> =
        (0..x.n).map(|i| yk[i] - x.row(i).iter().zip(&ls.coef).map(|(a, b)| a * b).sum::<f64>()).collect();
    Ok(WlsFit { coef: ls.coef, residuals, bread: ls.unscaled_cov, x, w, kept, n_input: n })
}

impl WlsFit {
    /// Number of units used (positive weight).
    pub fn n(&self) -> usize {
        self.x.n
    }

    /// Number of coefficients.
    pub fn k(&self) -> usize {
        self.x.p
    }

    /// Indices (into the input) of the units used.
    pub fn kept(&self) -> &[usize] {
        &self.kept
    }

    /// The design and weights of the units used, and the number of input units (for the wild
    /// bootstrap built on this fit).
    pub(crate) fn used(&self) -> (&Matrix, &[f64], usize) {
        (&self.x, &self.w, self.n_input)
    }

    /// Heteroskedasticity-robust covariance.
    pub fn vcov_hc(&self, kind: Hc) -> Vec<f64> {
        let (n, k) = (self.n(), self.k());
        let mut meat = vec![0.0; k * k];
        for i in 0..n {
            let xi = self.x.row(i);
            let h = self.w[i] * quad(xi, &self.bread, xi);
            let scale = match kind {
                Hc::Hc0 | Hc::Hc1 => 1.0,
                Hc::Hc2 => 1.0 / (1.0 - h),
                Hc::Hc3 => 1.0 / ((1.0 - h) * (1.0 - h)),
            };
            let u = self.w[i] * self.residuals[i];
            for a in 0..k {
                for b in 0..k {
                    meat[a * k + b] += scale * u * u * xi[a] * xi[b];
                }
            }
        }
        let mut v = sandwich(&self.bread, &meat, k);
        if kind == Hc::Hc1 {
            let f = n as f64 / (n - k) as f64;
            v.iter_mut().for_each(|x| *x *= f);
        }
        v
    }

    /// Cluster labels of the units used, as indices 0..G, and G.
    fn clusters(&self, cluster: &[usize]) -> Result<(Vec<usize>, usize)> {
        if cluster.len() != self.n_input {
            return Err(StatsError::LengthMismatch { inputs: "cluster labels and the design" });
        }
        let labels: Vec<usize> = self.kept.iter().map(|&i| cluster[i]).collect();
        let numbered = crate::labels::number(&labels);
        let g = numbered.labels.len();
        if g < 2 {
            return Err(StatsError::TooFewClusters { method: "cluster-robust errors", min: 2, got: g });
        }
        Ok((numbered.index, g))
    }

    /// CR1 covariance (sandwich::vcovCL type HC1) for cluster labels of every input unit.
    ///
    /// # Errors
    /// Fewer than two clusters.
    pub fn vcov_cr1(&self, cluster: &[usize]) -> Result<Vec<f64>> {
        let (n, k) = (self.n(), self.k());
        let (index, g) = self.clusters(cluster)?;
        let mut u = vec![0.0; g * k];
        for i in 0..n {
            let s = self.w[i] * self.residuals[i];
            for (a, xa) in self.x.row(i).iter().enumerate() {
                u[index[i] * k + a] += s * xa;
            }
        }
        let mut meat = vec![0.0; k * k];
        for c in 0..g {
            for a in 0..k {
                for b in 0..k {
                    meat[a * k + b] += u[c * k + a] * u[c * k + b];
                }
            }
        }
        let adj = g as f64 / (g - 1) as f64 * (n - 1) as f64 / (n - k) as f64;
        Ok(sandwich(&self.bread, &meat, k).into_iter().map(|v| v * adj).collect())
    }

    /// CR2 covariance and the Bell-McCaffrey (Satterthwaite) degrees of freedom of each
    /// coefficient, as clubSandwich computes them with the identity working model.
    ///
    /// # Errors
    /// Fewer than two clusters; a cluster whose adjustment matrix is singular.
    pub fn cr2(&self, cluster: &[usize]) -> Result<Cr2> {
        self.cr2_with(cluster, Df::All)
    }

    /// The CR2 covariance alone (`df` left empty): for a secondary column that uses a normal
    /// reference, at O(G k^2) instead of the O(G^2 k^2) the degrees of freedom cost.
    ///
    /// # Errors
    /// As [`WlsFit::cr2`].
    pub fn vcov_cr2(&self, cluster: &[usize]) -> Result<Vec<f64>> {
        Ok(self.cr2_with(cluster, Df::None)?.vcov)
    }

    fn cr2_with(&self, cluster: &[usize], wanted: Df) -> Result<Cr2> {
        let (n, k) = (self.n(), self.k());
        let (index, g) = self.clusters(cluster)?;
        let members = crate::labels::members(&index, g);
        let m = &self.bread;
        // Omega = M (X'W^2X) M
        let mut xw2x = vec![0.0; k * k];
        for i in 0..n {
            let xi = self.x.row(i);
            let w2 = self.w[i] * self.w[i];
            for a in 0..k {
                for b in 0..k {
                    xw2x[a * k + b] += w2 * xi[a] * xi[b];
                }
            }
        }
        let omega = sandwich(m, &xw2x, k);
        let adjust: Vec<Adjustment> =
            members.iter().map(|rows| Adjustment::new(&self.x, &self.w, rows, m, &omega)).collect::<Result<_>>()?;
        // meat: u_g = X_g' W_g A_g e_g
        let mut meat = vec![0.0; k * k];
        for (rows, adj) in members.iter().zip(&adjust) {
            let e: Vec<f64> = rows.iter().map(|&i| self.residuals[i]).collect();
            let ae = adj.apply(&e);
            let mut u = vec![0.0; k];
            for (r, &i) in rows.iter().enumerate() {
                for (a, xa) in self.x.row(i).iter().enumerate() {
                    u[a] += xa * self.w[i] * ae[r];
                }
            }
            for a in 0..k {
                for b in 0..k {
                    meat[a * k + b] += u[a] * u[b];
                }
            }
        }
        let vcov = sandwich(m, &meat, k);
        let coefs = match wanted {
            Df::None => return Ok(Cr2 { vcov, df: Vec::new(), clusters: g }),
            Df::All => 0..k,
            Df::One(coef) => coef..coef + 1,
        };
        // degrees of freedom per coefficient (NaN for those not wanted)
        let mut df = vec![f64::NAN; k];
        let computed: Vec<f64> = coefs
            .clone()
            .map(|coef| {
                let mut c = vec![0.0; k];
                c[coef] = 1.0;
                let mc = mat_vec(m, k, &c);
                // v_g = A_g W_g X_g M c (on cluster g's rows); p_g = X_g'v_g, r_g = X_g'W_g v_g
                let mut vv = vec![0.0; g];
                let mut pvec = vec![vec![0.0; k]; g];
                let mut rvec = vec![vec![0.0; k]; g];
                for (cg, (rows, adj)) in members.iter().zip(&adjust).enumerate() {
                    let b: Vec<f64> = rows
                        .iter()
                        .map(|&i| self.w[i] * self.x.row(i).iter().zip(&mc).map(|(a, b)| a * b).sum::<f64>())
                        .collect();
                    let v = adj.apply(&b);
                    vv[cg] = v.iter().map(|x| x * x).sum();
                    for (r, &i) in rows.iter().enumerate() {
                        for (a, xa) in self.x.row(i).iter().enumerate() {
                            pvec[cg][a] += xa * v[r];
                            rvec[cg][a] += xa * self.w[i] * v[r];
                        }
                    }
                }
                satterthwaite_df(&vv, &pvec, &rvec, k, m, &omega)
            })
            .collect();
        for (coef, value) in coefs.zip(computed) {
            df[coef] = value;
        }
        Ok(Cr2 { vcov, df, clusters: g })
    }

    /// The CR2 inference of coefficient `coef` (t on Bell-McCaffrey df).
    ///
    /// # Errors
    /// As [`WlsFit::cr2`].
    pub fn cr2_inference(&self, cluster: &[usize], coef: usize) -> Result<Inference> {
        if coef >= self.k() {
            return Err(StatsError::LengthMismatch { inputs: "the coefficient and the design's columns" });
        }
        let cr2 = self.cr2_with(cluster, Df::One(coef))?;
        let k = self.k();
        Ok(Inference::t(self.coef[coef], cr2.vcov[coef * k + coef].sqrt(), cr2.df[coef]))
    }
}

/// Which coefficients' degrees of freedom [`WlsFit::cr2_with`] computes (each costs a pass over
/// the rows and O(G^2 k^2)).
#[derive(Debug, Clone, Copy)]
enum Df {
    None,
    All,
    One(usize),
}

/// CR2 covariance with its degrees of freedom.
#[derive(Debug, Clone)]
pub struct Cr2 {
    /// Covariance, row-major k x k.
    pub vcov: Vec<f64>,
    /// Bell-McCaffrey degrees of freedom of each coefficient (NaN for a coefficient whose
    /// degrees of freedom were not asked for: [`WlsFit::cr2_inference`] computes its own only).
    pub df: Vec<f64>,
    /// Number of clusters.
    pub clusters: usize,
}

/// A cluster's A_g = G_g^(-1/2) = I + Q U ((1 + L)^(-1/2) - 1) U'Q', with Q an orthonormal basis
/// of span[X_g, W_g X_g] and G_g - I = Q (U L U') Q'.
struct Adjustment {
    /// Q, column-major n_g x r.
    q: Vec<f64>,
    n: usize,
    r: usize,
    /// U ((1 + L)^(-1/2) - 1) U', r x r.
    core: Vec<f64>,
}

impl Adjustment {
    fn new(x: &Matrix, w: &[f64], rows: &[usize], m: &[f64], omega: &[f64]) -> Result<Self> {
        let k = x.p;
        let n = rows.len();
        // Z = [X_g, W_g X_g], column-major n x 2k; Gram-Schmidt (twice) to an orthonormal Q
        let mut z: Vec<Vec<f64>> = Vec::with_capacity(2 * k);
        for a in 0..k {
            z.push(rows.iter().map(|&i| x.at(i, a)).collect());
        }
        for a in 0..k {
            z.push(rows.iter().map(|&i| w[i] * x.at(i, a)).collect());
        }
        // with one weight in the cluster W_g X_g spans no more than X_g (its columns would all
        // be dropped below): the basis of X_g alone
        let constant = rows.iter().all(|&i| w[i] == w[rows[0]]);
        let mut q: Vec<Vec<f64>> = Vec::new();
        for col in if constant { &z[..k] } else { &z[..] } {
            let norm0 = dot_fast(col, col).sqrt();
            if norm0 == 0.0 {
                // a column zero in the cluster (a comparison site's treatment and interaction
                // terms) spans nothing: dropped below after its projections, skipped here
                continue;
            }
            let mut v = col.clone();
            for _ in 0..2 {
                for b in &q {
                    let dot = dot_fast(&v, b);
                    v.iter_mut().zip(b).for_each(|(x, y)| *x -= dot * y);
                }
            }
            let norm = dot_fast(&v, &v).sqrt();
            if norm > 1e-10 * norm0.max(1e-300) && norm > 0.0 {
                v.iter_mut().for_each(|x| *x /= norm);
                q.push(v);
            }
        }
        let r = q.len();
        // K = Q'(G - I)Q with G - I = -X M X'W - W X M X' + X Omega X'
        // with P = Q'X (r x k) and S = Q'W X (r x k): K = -P M S' - S M P' + P Omega P'
        let proj = |cols: &[Vec<f64>]| -> Vec<f64> {
            let mut out = vec![0.0; r * k];
            for (i, qi) in q.iter().enumerate() {
                for (a, ca) in cols.iter().enumerate() {
                    out[i * k + a] = dot_fast(qi, ca);
                }
            }
            out
        };
        let core = adjustment_core(&proj(&z[..k]), &proj(&z[k..]), k, m, omega)?;
        Ok(Adjustment { q: q.into_iter().flatten().collect(), n, r, core })
    }

    /// A_g v.
    fn apply(&self, v: &[f64]) -> Vec<f64> {
        let (n, r) = (self.n, self.r);
        let qv: Vec<f64> = (0..r).map(|i| dot_fast(&self.q[i * n..(i + 1) * n], v)).collect();
        let cqv: Vec<f64> = (0..r).map(|i| (0..r).map(|j| self.core[i * r + j] * qv[j]).sum()).collect();
        let mut out = v.to_vec();
        for (i, c) in cqv.iter().enumerate() {
            let col = &self.q[i * n..(i + 1) * n];
            out.iter_mut().zip(col).for_each(|(o, qi)| *o += qi * c);
        }
        out
    }
}

/// The core U ((1 + L)^(-1/2) - 1) U' of a cluster's adjustment A_g = I + Q core Q', from
/// P = Q'X_g and S = Q'W_g X_g (r x k each, row-major) in an orthonormal basis Q of
/// span[X_g, W_g X_g]: G_g - I = Q K Q' with K = -P M S' - S M P' + P Omega P'.
///
/// # Errors
/// An eigenvalue of G_g below 0 (beyond rounding): [`StatsError::NotPositiveSemidefinite`].
pub(crate) fn adjustment_core(p: &[f64], s: &[f64], k: usize, m: &[f64], omega: &[f64]) -> Result<Vec<f64>> {
    let r = p.len() / k;
    if r == 1 {
        // a one-dimensional basis (a cluster of one group with constant weights, as every
        // cluster is when whole clusters are assigned): the core is a number
        let kappa = -quad(p, m, s) - quad(s, m, p) + quad(p, omega, p);
        if 1.0 + kappa < -1e-8 {
            return Err(StatsError::NotPositiveSemidefinite { what: "a cluster's CR2 adjustment" });
        }
        return Ok(vec![if 1.0 + kappa <= 1e-10 { -1.0 } else { 1.0 / (1.0 + kappa).sqrt() - 1.0 }]);
    }
    // P M and P Omega once (r x k each, M and Omega symmetric), then each entry a k-vector
    // product: O(r k^2 + r^2 k) rather than O(r^2 k^2)
    let times = |a: &[f64], b: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; r * k];
        for i in 0..r {
            for l in 0..k {
                let v = a[i * k + l];
                if v != 0.0 {
                    out[i * k..(i + 1) * k].iter_mut().zip(&b[l * k..(l + 1) * k]).for_each(|(o, x)| *o += v * x);
                }
            }
        }
        out
    };
    let (pm, po) = (times(p, m), times(p, omega));
    let dot = |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| x * y).sum() };
    let mut kmat = vec![0.0; r * r];
    for i in 0..r {
        for j in i..r {
            let (pmi, pmj) = (&pm[i * k..(i + 1) * k], &pm[j * k..(j + 1) * k]);
            let (si, sj) = (&s[i * k..(i + 1) * k], &s[j * k..(j + 1) * k]);
            let value = -dot(pmi, sj) - dot(si, pmj) + dot(&po[i * k..(i + 1) * k], &p[j * k..(j + 1) * k]);
            kmat[i * r + j] = value;
            kmat[j * r + i] = value;
        }
    }
    // Jacobi for the small problems (the unadjusted models'), Householder and QL beyond
    let (values, vectors) =
        if r < 16 { symmetric_eigen(&kmat, r)? } else { crate::linalg::symmetric_eigen_ql(&kmat, r) };
    if values.iter().any(|&l| 1.0 + l < -1e-8) {
        return Err(StatsError::NotPositiveSemidefinite { what: "a cluster's CR2 adjustment" });
    }
    let mut core = vec![0.0; r * r];
    for (l, &lambda) in values.iter().enumerate() {
        // a cluster that fits its own parameter exactly (a fixed effect per cluster) makes
        // I - H_gg singular: as clubSandwich, the Moore-Penrose inverse square root (0 on
        // the null space)
        let f = if 1.0 + lambda <= 1e-10 { -1.0 } else { 1.0 / (1.0 + lambda).sqrt() - 1.0 };
        for i in 0..r {
            for j in 0..r {
                core[i * r + j] += vectors[i * r + l] * f * vectors[j * r + l];
            }
        }
    }
    Ok(core)
}

/// The Satterthwaite degrees of freedom (tr B)^2 / sum B_gh^2 of one coefficient from each
/// cluster's v_g = A_g W_g X_g M c: its squared norm `vv`, p_g = X_g'v_g and r_g = X_g'W_g v_g.
pub(crate) fn satterthwaite_df(
    vv: &[f64],
    pvec: &[Vec<f64>],
    rvec: &[Vec<f64>],
    k: usize,
    m: &[f64],
    omega: &[f64],
) -> f64 {
    let g = vv.len();
    let mp: Vec<Vec<f64>> = pvec.iter().map(|p| mat_vec(m, k, p)).collect();
    let (mut trace, mut sum_sq) = (0.0, 0.0);
    for a in 0..g {
        for b in 0..g {
            let rmp: f64 = rvec[a].iter().zip(&mp[b]).map(|(x, y)| x * y).sum();
            let prm: f64 = mp[a].iter().zip(&rvec[b]).map(|(x, y)| x * y).sum();
            let mut bab = -rmp - prm + quad(&pvec[a], omega, &pvec[b]);
            if a == b {
                bab += vv[a];
                trace += bab;
            }
            sum_sq += bab * bab;
        }
    }
    trace * trace / sum_sq
}

/// The CR2 standard error and Bell-McCaffrey degrees of freedom of coefficient `coef` with an
/// inverse-variance working model, as R
/// `clubSandwich::vcovCR(type = "CR2")` computes it for a `glm` (`inverse_var = TRUE`) and
/// `coef_test(test = "Satterthwaite")`.
///
/// # Formula
/// With D the model matrix (for a GLM the Jacobian (dmu/deta) X), e the residuals, W = diag(w)
/// the weights and Theta = W^-1 the working variance, M = (D'WD)^-1: for each cluster g,
/// S = Theta_g^(1/2), G_g = S (Theta_g - D_g M D_g') S and A_g = S G_g^(-1/2) S (Moore-Penrose
/// on a singular G_g); u_g = D_g' W_g A_g e_g and V = M (sum_g u_g u_g') M. Degrees of freedom
/// (Bell and McCaffrey 2002; Pustejovsky and Tipton 2018) under the working model: with
/// p_g = A_g W_g D_g M c and r_g = D_g' p_g, B_gh = [g = h] p_g' Theta_g p_g - r_g' M r_h and
/// df = (sum_g B_gg)^2 / sum_gh B_gh^2. Each G_g is decomposed densely (O(n_g^3)), or by its
/// few row patterns where it has them; a cluster whose weights are more than 1e4 apart (G_g's
/// eigenvalues then span twice as many orders, and a dense decomposition loses the small ones),
/// or a large one, takes the resolvent integral instead (`Resolvent`: accurate to about 1e-10
/// whatever the spread, and O(n_g k^2) per node rather than O(n_g^3)). When the weights are constant within every cluster this equals [`WlsFit::cr2`] on
/// the sqrt(w)-scaled data.
///
/// # Errors
/// Lengths that differ, non-positive weights, fewer than two clusters, a singular D'WD.
pub fn cr2_inverse_variance<'d>(
    d: impl Into<MatrixRef<'d>>,
    e: &[f64],
    w: &[f64],
    cluster: &[usize],
    coef: usize,
) -> Result<(f64, f64)> {
    let d = d.into();
    let (vcov, df) = cr2_inverse_variance_with(&d, e, w, cluster, coef, false, true)?;
    Ok((vcov[coef * d.p + coef].sqrt(), df))
}

/// The whole CR2 covariance (row-major k x k) of [`cr2_inverse_variance`]'s model, without
/// degrees of freedom: for the delta method on a function of several coefficients (the
/// g-computation of docs/evaluation.md "Estimation after matching").
///
/// # Errors
/// As [`cr2_inverse_variance`].
pub fn vcov_cr2_inverse_variance<'d>(
    d: impl Into<MatrixRef<'d>>,
    e: &[f64],
    w: &[f64],
    cluster: &[usize],
) -> Result<Vec<f64>> {
    Ok(cr2_inverse_variance_with(&d.into(), e, w, cluster, 0, false, false)?.0)
}

/// [`cr2_inverse_variance`]'s standard error alone (no degrees of freedom: O(G) instead of
/// O(G^2) in the number of clusters), for a secondary column with a normal reference.
///
/// # Errors
/// As [`cr2_inverse_variance`].
pub fn se_cr2_inverse_variance<'d>(
    d: impl Into<MatrixRef<'d>>,
    e: &[f64],
    w: &[f64],
    cluster: &[usize],
    coef: usize,
) -> Result<f64> {
    let d = d.into();
    let vcov = cr2_inverse_variance_with(&d, e, w, cluster, coef, false, false)?.0;
    Ok(vcov[coef * d.p + coef].sqrt())
}

/// G^(-1/2) (Moore-Penrose) of a cluster's G = S (Theta - D M D') S, ready to apply.
enum InverseRoot {
    /// Any D: a dense eigen-decomposition kept as its transformations (O(n^3) for the
    /// eigenvalues, O(n^2) per vector it is applied to).
    Dense { transforms: crate::linalg::EigenTransforms, root: Vec<f64> },
    /// Any D whose G has every eigenvalue above [`QUADRATURE_FLOOR`]: reduced to tridiagonal
    /// form (O(n^3), as the dense decomposition's first half), then the resolvent integral on
    /// the tridiagonal matrix ([`crate::linalg::Tridiagonal::inverse_sqrt`]: O(n) per node)
    /// instead of the QL iterations, whose O(n^2) serial square roots and divisions cost more
    /// than the reduction at the sizes of the sites here.
    Quadrature(crate::linalg::Tridiagonal),
    /// Rows of D each proportional to one of r patterns x_p (one per stack and arm the cluster
    /// holds), so that G = diag(lambda) minus E C E' with E's column p the rows of pattern p
    /// (u = s d_i[0] there) and C_pq = x_p' M x_q. Within a block of equal lambda and pattern,
    /// directions orthogonal to u keep eigenvalue lambda; the blocks' u-directions form an
    /// m x m problem (m = distinct (lambda, pattern) pairs). With r = 1 (treatment constant in
    /// the cluster, one stack) this is diag(lambda) minus c u u'.
    LowRank { groups: Vec<(Vec<usize>, f64, f64)>, u: Vec<f64>, reduced: Reduced, root: Vec<f64>, cutoff: f64 },
    /// Working variances many orders of magnitude apart: [`Resolvent`].
    Resolvent(Resolvent),
}

/// The eigenvectors of a cluster's reduced problem: explicit (the secular equation gives them
/// so), or kept as the decomposition's transformations (O(m^2) per vector, none formed).
enum Reduced {
    Vectors(Vec<f64>),
    Transforms(crate::linalg::EigenTransforms),
}

impl InverseRoot {
    fn root_of(l: f64, cutoff: f64) -> f64 {
        if l > cutoff {
            1.0 / l.sqrt()
        } else {
            0.0
        }
    }

    fn dense(g: &[f64], n: usize) -> Self {
        let reduced = crate::linalg::Tridiagonal::new(g, n);
        if reduced.is_above(QUADRATURE_FLOOR) {
            return InverseRoot::Quadrature(reduced);
        }
        Self::decomposed(reduced)
    }

    /// The QL iterations on the reduction: the eigenvalues, a Moore-Penrose inverse root.
    fn decomposed(reduced: crate::linalg::Tridiagonal) -> Self {
        let transforms = crate::linalg::EigenTransforms::from_tridiagonal(reduced);
        let root = transforms.values.iter().map(|&l| Self::root_of(l, CUTOFF)).collect();
        InverseRoot::Dense { transforms, root }
    }

    /// The quadrature's G^(-1/2) applied to `ys`, or (unreachable once [`Self::dense`] checked
    /// the floor) the decomposition's.
    fn quadrature(reduced: &crate::linalg::Tridiagonal, ys: &[&[f64]]) -> Vec<Vec<f64>> {
        reduced.inverse_sqrt(ys, QUADRATURE_FLOOR).unwrap_or_else(|| {
            let root = Self::decomposed(reduced.clone());
            ys.iter().map(|y| root.apply(y)).collect()
        })
    }

    /// `lambda`, `u` and the pattern per unit, and the r x r matrix `c` (PSD; r = 1: a
    /// number >= 0).
    /// None when more than one pattern leaves the reduced problem above 0.95 of the cluster's
    /// size: the dense decomposition is then no dearer (and needs no grouping).
    fn low_rank(lambda: &[f64], u: &[f64], pattern: &[usize], c: &[f64], r: usize) -> Option<Self> {
        let mut order: Vec<usize> = (0..lambda.len()).collect();
        order.sort_by(|&a, &b| lambda[a].total_cmp(&lambda[b]).then(pattern[a].cmp(&pattern[b])));
        let mut groups: Vec<(Vec<usize>, f64, f64)> = Vec::new();
        let mut group_pattern: Vec<usize> = Vec::new();
        for i in order {
            match groups.last_mut() {
                Some((members, l, omega)) if *l == lambda[i] && group_pattern.last() == Some(&pattern[i]) => {
                    members.push(i);
                    *omega += u[i] * u[i];
                }
                _ => {
                    groups.push((vec![i], lambda[i], u[i] * u[i]));
                    group_pattern.push(pattern[i]);
                }
            }
        }
        let active: Vec<usize> = (0..groups.len()).filter(|&k| groups[k].2 > 0.0).collect();
        let m = active.len();
        if r > 1 && 20 * m > 19 * lambda.len() {
            return None;
        }
        let mut reduced = vec![0.0; m * m];
        for (a, &ka) in active.iter().enumerate() {
            for (b, &kb) in active.iter().enumerate() {
                let diag = if a == b { groups[ka].1 } else { 0.0 };
                let cab = c[group_pattern[ka] * r + group_pattern[kb]];
                reduced[a * m + b] = diag - cab * groups[ka].2.sqrt() * groups[kb].2.sqrt();
            }
        }
        // rank one, diag(lambda) - c w w' with distinct increasing lambdas: the secular equation
        // in O(m^2) once the problem is larger than a few groups (QL costs O(m^3))
        let c = if r == 1 { c[0] } else { 0.0 };
        let (values, reduced) = if r == 1 && c > 0.0 && m > 16 {
            let d: Vec<f64> = active.iter().map(|&k| groups[k].1).collect();
            let z: Vec<f64> = active.iter().map(|&k| groups[k].2.sqrt()).collect();
            let (values, vectors) = crate::linalg::diagonal_minus_rank_one_eigen(&d, &z, c);
            (values, Reduced::Vectors(vectors))
        } else {
            let transforms = crate::linalg::EigenTransforms::new(&reduced, m);
            (transforms.values.clone(), Reduced::Transforms(transforms))
        };
        let root = values.iter().map(|&l| Self::root_of(l, CUTOFF)).collect();
        Some(InverseRoot::LowRank { groups, u: u.to_vec(), reduced, root, cutoff: CUTOFF })
    }

    /// G^(-1/2) applied to two vectors.
    fn apply_pair(&self, y1: &[f64], y2: &[f64]) -> (Vec<f64>, Vec<f64>) {
        match self {
            InverseRoot::Dense { transforms, root } => (transforms.apply(root, y1), transforms.apply(root, y2)),
            InverseRoot::Quadrature(reduced) => {
                let mut both = Self::quadrature(reduced, &[y1, y2]);
                let second = both.pop().unwrap_or_default();
                (both.pop().unwrap_or_default(), second)
            }
            InverseRoot::LowRank { .. } => (self.apply(y1), self.apply(y2)),
            InverseRoot::Resolvent(resolvent) => {
                let mut both = resolvent.apply(&[y1, y2]);
                let second = both.pop().unwrap_or_default();
                (both.pop().unwrap_or_default(), second)
            }
        }
    }

    fn apply(&self, y: &[f64]) -> Vec<f64> {
        match self {
            InverseRoot::Dense { transforms, root } => transforms.apply(root, y),
            InverseRoot::Quadrature(reduced) => Self::quadrature(reduced, &[y]).pop().unwrap_or_default(),
            InverseRoot::Resolvent(resolvent) => resolvent.apply(&[y]).pop().unwrap_or_default(),
            InverseRoot::LowRank { groups, u, reduced, root, cutoff } => {
                let mut out = vec![0.0; y.len()];
                let mut a = Vec::new();
                for (members, lambda, omega) in groups {
                    let r = Self::root_of(*lambda, *cutoff);
                    if *omega == 0.0 {
                        members.iter().for_each(|&i| out[i] = r * y[i]);
                        continue;
                    }
                    let uy: f64 = members.iter().map(|&i| u[i] * y[i]).sum();
                    members.iter().for_each(|&i| out[i] = r * (y[i] - uy / omega * u[i]));
                    a.push(uy / omega.sqrt());
                }
                // V diag(root) V' a in the reduced problem
                let b = match reduced {
                    Reduced::Transforms(transforms) => transforms.apply(root, &a),
                    Reduced::Vectors(vectors) => {
                        let m = a.len();
                        let mut b = vec![0.0; m];
                        for l in 0..m {
                            let dot: f64 = (0..m).map(|k| vectors[k * m + l] * a[k]).sum::<f64>() * root[l];
                            for (k, bk) in b.iter_mut().enumerate() {
                                *bk += vectors[k * m + l] * dot;
                            }
                        }
                        b
                    }
                };
                let mut k = 0;
                for (members, _, omega) in groups {
                    if *omega == 0.0 {
                        continue;
                    }
                    let scale = b[k] / omega.sqrt();
                    members.iter().for_each(|&i| out[i] += scale * u[i]);
                    k += 1;
                }
                out
            }
        }
    }
}

/// Working variances within a cluster whose spread (largest over smallest weight) exceeds
/// this take the [`Resolvent`] path.
const GRADED_SPREAD: f64 = 1e4;

/// A cluster of more rows than this many per design column, without the few row patterns of
/// the low-rank path, takes the [`Resolvent`] path too: its cost, 20 to 40 nodes of
/// O(n_g k^2 / 2) (the tails summed as series), is below the dense decomposition's
/// O(4/3 n_g^3 + n_g^2 k) from about 3 rows per column.
const LARGE_CLUSTER_PER_COLUMN: usize = 4;

fn is_graded(rows: &[usize], w: &[f64]) -> bool {
    let (low, high) = rows.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &i| (lo.min(w[i]), hi.max(w[i])));
    high > GRADED_SPREAD * low
}

/// Each cluster's D_g'W_gD_g, so that the cross-products of the rows outside a cluster are a
/// sum of the other clusters' (positive semi-definite terms: nothing cancels, as it would in
/// D'WD - D_g'W_gD_g).
struct OtherClusters {
    k: usize,
    each: Vec<Vec<f64>>,
    /// Each cluster's rows on its nonzero columns, for its C_g here and its resolvent's nodes.
    packed: Vec<PackedRows>,
}

impl OtherClusters {
    fn new(d: &MatrixRef<'_>, w: &[f64], members: &[Vec<usize>]) -> Self {
        let k = d.p;
        let packed: Vec<PackedRows> = members.iter().map(|rows| PackedRows::new(d, rows)).collect();
        let each = members
            .iter()
            .zip(&packed)
            .map(|(rows, packed)| {
                let mut c = vec![0.0; k * k];
                packed.add_cross_products(&mut c, |at| w[rows[at]]);
                symmetrise(&mut c, k);
                c
            })
            .collect();
        OtherClusters { k, each, packed }
    }

    /// Cluster `g`'s own C_g = D_g'W_gD_g.
    fn inside(&self, g: usize) -> &[f64] {
        &self.each[g]
    }

    /// The rows outside cluster `g`: R_g = sum over h != g of D_h'W_hD_h.
    fn outside(&self, g: usize) -> Vec<f64> {
        let mut r = vec![0.0; self.k * self.k];
        for (_, c) in self.each.iter().enumerate().filter(|(h, _)| *h != g) {
            r.iter_mut().zip(c).for_each(|(a, b)| *a += b);
        }
        r
    }
}

/// A cluster's rows of D restricted to the columns not identically zero there (a comparison
/// site's rows have no treatment or interaction terms: about half an adjusted design's columns),
/// so that their weighted cross-products cost r^2 / 2 per row for r such columns instead of
/// k^2 / 2.
struct PackedRows {
    k: usize,
    /// The columns kept, ascending.
    columns: Vec<usize>,
    /// The rows on those columns, row-major rows.len() x columns.len().
    values: Vec<f64>,
}

impl PackedRows {
    fn new(d: &MatrixRef<'_>, rows: &[usize]) -> Self {
        let k = d.p;
        let columns: Vec<usize> = (0..k).filter(|&a| rows.iter().any(|&i| d.row(i)[a] != 0.0)).collect();
        let values = rows.iter().flat_map(|&i| columns.iter().map(move |&a| d.row(i)[a])).collect();
        PackedRows { k, columns, values }
    }

    /// Adds sum over the rows of f(at) d_at d_at' (`at` the row's position in the cluster) to
    /// the lower triangle of `s` (k x k, row-major), each entry's terms added in row order to
    /// the entry as it stands, each term (f d_a) d_b: the same sums, to the last bit, as a pass
    /// over all k columns, whose other terms are zeros. A slice, not an index range, in the
    /// inner loop, so that it vectorises.
    fn add_cross_products(&self, s: &mut [f64], f: impl Fn(usize) -> f64) {
        let (k, r) = (self.k, self.columns.len());
        if r == 0 {
            return;
        }
        let mut packed = vec![0.0; r * r];
        for (a, &ca) in self.columns.iter().enumerate() {
            for (b, &cb) in self.columns[..=a].iter().enumerate() {
                packed[a * r + b] = s[ca * k + cb];
            }
        }
        // four rows at a time, each entry's four terms added in row order while it is loaded
        let mut blocks = self.values.chunks_exact(4 * r);
        let first = 4 * (self.values.len() / (4 * r));
        for (block, rows) in blocks.by_ref().enumerate() {
            let (x0, rest) = rows.split_at(r);
            let (x1, rest) = rest.split_at(r);
            let (x2, x3) = rest.split_at(r);
            let f: [f64; 4] = std::array::from_fn(|j| f(4 * block + j));
            for a in 0..r {
                let fa = [f[0] * x0[a], f[1] * x1[a], f[2] * x2[a], f[3] * x3[a]];
                // slices of one length, indexed (as `linalg::block_cross_products`): no bound checks
                let row = &mut packed[a * r..=a * r + a];
                let (y0, y1, y2, y3) = (&x0[..row.len()], &x1[..row.len()], &x2[..row.len()], &x3[..row.len()]);
                for b in 0..row.len() {
                    row[b] = row[b] + fa[0] * y0[b] + fa[1] * y1[b] + fa[2] * y2[b] + fa[3] * y3[b];
                }
            }
        }
        for (at, row) in blocks.remainder().chunks_exact(r).enumerate() {
            let f = f(first + at);
            for a in 0..r {
                let fa = f * row[a];
                packed[a * r..=a * r + a].iter_mut().zip(&row[..=a]).for_each(|(h, rb)| *h += fa * rb);
            }
        }
        for (a, &ca) in self.columns.iter().enumerate() {
            for (b, &cb) in self.columns[..=a].iter().enumerate() {
                s[ca * k + cb] = packed[a * r + b];
            }
        }
    }
}

/// Copies the lower triangle of a k x k row-major matrix to the upper.
fn symmetrise(c: &mut [f64], k: usize) {
    for a in 0..k {
        for b in 0..a {
            c[b * k + a] = c[a * k + b];
        }
    }
}

/// G^(-1/2) of a cluster whose working variances theta_i = 1/w_i span many orders of magnitude,
/// by the resolvent integral G^(-1/2) = (2/pi) int_0^inf (G + t^2 I)^-1 dt (Higham 2008,
/// "Functions of Matrices", section 7.3; Hale, Higham and Trefethen 2008).
///
/// G = diag(theta^2) - U M U' with U_i = theta_i^(1/2) d_i (d_i the row of D), and
/// M = (D'WD)^-1, so by Woodbury (G + tau I)^-1 = L^-1 + L^-1 U S^-1 U' L^-1 with
/// L = diag(theta^2 + tau) and S = D'WD - U'L^-1U = R_g + sum over the cluster's rows of
/// tau / (theta_i (theta_i^2 + tau)) d_i d_i', R_g the rows outside the cluster: every term
/// positive, so S is formed without cancellation and every node is accurate relative to its
/// own size, whatever the spread of theta. With t = e^s each eigenvalue lambda contributes
/// (1/(2 sqrt(lambda))) sech(s - ln(lambda)/2), integrated by the trapezoid rule (step 0.35:
/// error about exp(-pi^2 / 0.35), 1e-12 relative) over the eigenvalues' range, which lies in
/// [theta_min^2 / (1 + tr(R_g^-1 C_g)), theta_max^2] (C_g = D_g'W_gD_g: G = Theta K Theta with
/// K = I - H_gg, whose smallest eigenvalue is 1 / (1 + the largest of R_g^-1 C_g)), widened by
/// 10 on each side; the nodes beyond are summed in closed form (see the fields). None when R_g
/// is singular or the range comes near the Moore-Penrose cutoff (a cluster that fits a
/// direction of its own): the dense decomposition then decides.
struct Resolvent {
    /// Each node's tau and quadrature weight, and the Cholesky factor of its S.
    nodes: Vec<(f64, f64, Vec<f64>)>,
    theta2: Vec<f64>,
    /// U, row-major n_g x k.
    u: Vec<f64>,
    k: usize,
    /// The Cholesky factor of R_g (S at tau = 0, for G^-1), and the nodes beyond each end summed
    /// in closed form. Below the range, (G + tau I)^-1 = sum_m (-tau)^m G^-(1+m); above it,
    /// (G + tau I)^-1 = sum_m (-1)^m G^m / tau^(1+m) (every tau there is at least e^(2 TAIL)
    /// beyond the eigenvalues, so each term is below e^(-2 TAIL) of the one before). With node
    /// weights (2/pi) h e^s and tau = e^(2s), each power's weight over a tail is a geometric
    /// series: `below[m]` = (2/pi) h e^((1+2m) s_first) q / (1 - q) and `above[m]` =
    /// (2/pi) h e^(-(1+2m) s_last) q / (1 - q), q = e^(-(1+2m) h).
    outside: Vec<f64>,
    below: Vec<f64>,
    above: Vec<f64>,
    /// M = (D'WD)^-1 (row-major k x k), for G x = theta^2 x - U M U'x.
    m: Vec<f64>,
}

impl Resolvent {
    const STEP: f64 = 0.35;
    /// Beyond the eigenvalues' range on each side (in s = ln t), where the tails' series take
    /// over: each term e^(-5) of the one before, so [`Resolvent::TERMS`] terms leave 1e-15.
    const TAIL: f64 = 2.5;
    const TERMS: usize = 7;

    /// `clusters` and `g`: C_g, R_g and the packed rows of cluster `g` ([`OtherClusters`]);
    /// `m` = (D'WD)^-1.
    fn new(
        d: &MatrixRef<'_>,
        rows: &[usize],
        w: &[f64],
        clusters: &OtherClusters,
        g: usize,
        m: &[f64],
        k: usize,
    ) -> Option<Self> {
        let outside = clusters.outside(g);
        let chol = crate::linalg::cholesky(&outside, k, 1e-7)?;
        let theta: Vec<f64> = rows.iter().map(|&i| 1.0 / w[i]).collect();
        let theta2: Vec<f64> = theta.iter().map(|t| t * t).collect();
        // tr(R_g^-1 C_g)
        let c = clusters.inside(g);
        let inverse = crate::linalg::cholesky_inverse(&chol, k);
        let trace: f64 = (0..k).map(|a| (0..k).map(|b| inverse[a * k + b] * c[b * k + a]).sum::<f64>()).sum();
        let (low, high) = theta2.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &t| (lo.min(t), hi.max(t)));
        let lowest = low / (1.0 + trace.max(0.0));
        if !(lowest > 1e4 * CUTOFF && high.is_finite()) {
            return None;
        }
        let (from, to) = (0.5 * lowest.ln() - Self::TAIL, 0.5 * high.ln() + Self::TAIL);
        let count = ((to - from) / Self::STEP).ceil() as usize + 1;
        let u: Vec<f64> = rows
            .iter()
            .zip(&theta)
            .flat_map(|(&i, t)| {
                let s = t.sqrt();
                d.row(i).iter().map(move |v| s * v)
            })
            .collect();
        let packed = &clusters.packed[g];
        let mut nodes = Vec::with_capacity(count);
        for j in 0..count {
            let at = from + j as f64 * Self::STEP;
            let tau = (2.0 * at).exp();
            // S = R_g + sum_i tau / (theta_i (theta_i^2 + tau)) d_i d_i'
            let mut s = outside.to_vec();
            packed.add_cross_products(&mut s, |at| tau / (theta[at] * (theta2[at] + tau)));
            symmetrise(&mut s, k);
            let factor = crate::linalg::cholesky(&s, k, 1e-7)?;
            nodes.push((tau, 2.0 / std::f64::consts::PI * Self::STEP * at.exp(), factor));
        }
        let last = from + (count - 1) as f64 * Self::STEP;
        let (below, above) = (tail_series(Self::STEP, from, Self::TERMS), tail_series(Self::STEP, -last, Self::TERMS));
        Some(Resolvent { nodes, theta2, u, k, outside: chol, below, above, m: m.to_vec() })
    }

    /// G x = theta^2 x - U M U'x.
    fn times(&self, x: &[f64]) -> Vec<f64> {
        let k = self.k;
        let mut ux = vec![0.0; k];
        for (xi, ui) in x.iter().zip(self.u.chunks_exact(k)) {
            ux.iter_mut().zip(ui).for_each(|(a, b)| *a += xi * b);
        }
        let mux = mat_vec(&self.m, k, &ux);
        x.iter()
            .zip(&self.theta2)
            .zip(self.u.chunks_exact(k))
            .map(|((xi, t2), ui)| t2 * xi - dot_fast(ui, &mux))
            .collect()
    }

    /// G^(-1/2) x for each x (the cluster's rows in order).
    fn apply(&self, xs: &[&[f64]]) -> Vec<Vec<f64>> {
        let n = self.theta2.len();
        let mut out = vec![vec![0.0; n]; xs.len()];
        for (x, y) in xs.iter().zip(out.iter_mut()) {
            for (tau, weight, factor) in &self.nodes {
                self.add_resolvent(*tau, factor, x, *weight, y);
            }
            // the tails: sum_m (-1)^m below[m] G^-(1+m) x and sum_m (-1)^m above[m] G^m x
            let mut power = x.to_vec();
            for (m, weight) in self.below.iter().enumerate() {
                let mut next = vec![0.0; n];
                self.add_resolvent(0.0, &self.outside, &power, 1.0, &mut next);
                power = next;
                let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
                y.iter_mut().zip(&power).for_each(|(yi, p)| *yi += sign * weight * p);
            }
            let mut power = x.to_vec();
            for (m, weight) in self.above.iter().enumerate() {
                if m > 0 {
                    power = self.times(&power);
                }
                let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
                y.iter_mut().zip(&power).for_each(|(yi, p)| *yi += sign * weight * p);
            }
        }
        out
    }

    /// y += weight (G + tau I)^-1 x, by Woodbury: z = L^-1 x, then z + L^-1 U S^-1 U'z with
    /// `factor` the Cholesky factor of S at tau.
    fn add_resolvent(&self, tau: f64, factor: &[f64], x: &[f64], weight: f64, y: &mut [f64]) {
        let k = self.k;
        let z: Vec<f64> = x.iter().zip(&self.theta2).map(|(v, t2)| v / (t2 + tau)).collect();
        let mut uz = vec![0.0; k];
        for (zi, ui) in z.iter().zip(self.u.chunks_exact(k)) {
            uz.iter_mut().zip(ui).for_each(|(a, b)| *a += zi * b);
        }
        let q = crate::linalg::cholesky_solve(factor, &uz);
        for ((yi, zi), (ui, t2)) in y.iter_mut().zip(&z).zip(self.u.chunks_exact(k).zip(&self.theta2)) {
            let uq = dot_fast(ui, &q);
            *yi += weight * (zi + uq / (t2 + tau));
        }
    }
}

/// Eigenvalues of a cluster's G at or below this are treated as 0 in its Moore-Penrose inverse
/// square root: an absolute tolerance, as clubSandwich's `matrix_power` (1e-12). A tolerance
/// relative to the largest eigenvalue would zero genuine eigenvalues when the working variances
/// span many orders of magnitude (balancing weights near 0 give a control a working variance
/// 1e8 times the others'), and the CR2 errors would collapse.
const CUTOFF: f64 = 1e-12;

/// A cluster's G whose eigenvalues all lie above this takes [`InverseRoot::Quadrature`]: four
/// orders above [`CUTOFF`], so that no eigenvalue the Moore-Penrose inverse would zero is near
/// (the [`Resolvent`]'s rule too); below it, the decomposition decides.
const QUADRATURE_FLOOR: f64 = 1e4 * CUTOFF;

/// Patterns the low-rank path takes at most per cluster (beyond, the dense decomposition).
const MAX_PATTERNS: usize = 8;

/// The rows of `d` in `rows` as d_i x_p(i) for a few patterns x_p with x_p[0] = 1 (intercept
/// first; one pattern per stack and arm in the cluster): the patterns, each row's pattern and
/// its d_i, or None (a row with d_i[0] <= 0, or more than [`MAX_PATTERNS`] patterns).
type Patterns = (Vec<Vec<f64>>, Vec<usize>, Vec<f64>);
fn patterned_rows(d: &MatrixRef<'_>, rows: &[usize]) -> Option<Patterns> {
    let mut patterns: Vec<Vec<f64>> = Vec::new();
    let (mut pattern_of, mut scale) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
    for &i in rows {
        let r = d.row(i);
        if r[0] <= 0.0 {
            return None;
        }
        let same = |x: &Vec<f64>| x.iter().zip(r).all(|(xa, ra)| (ra / r[0] - xa).abs() <= 1e-12 * xa.abs().max(1.0));
        let p = match patterns.iter().position(same) {
            Some(p) => p,
            None if patterns.len() < MAX_PATTERNS => {
                patterns.push(r.iter().map(|v| v / r[0]).collect());
                patterns.len() - 1
            }
            None => return None,
        };
        pattern_of.push(p);
        scale.push(r[0]);
    }
    Some((patterns, pattern_of, scale))
}

fn cr2_inverse_variance_with(
    d: &MatrixRef<'_>,
    e: &[f64],
    w: &[f64],
    cluster: &[usize],
    coef: usize,
    dense_only: bool,
    with_df: bool,
) -> Result<(Vec<f64>, f64)> {
    let (n, k) = (d.n, d.p);
    if e.len() != n || w.len() != n || cluster.len() != n || coef >= k {
        return Err(StatsError::LengthMismatch { inputs: "design, residuals, weights and clusters" });
    }
    if w.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(StatsError::OutOfRange { what: "inverse-variance weights", allowed: "positive and finite" });
    }
    let numbered = crate::labels::number(cluster);
    let g = numbered.labels.len();
    if g < 2 {
        return Err(StatsError::TooFewClusters { method: "cluster-robust errors", min: 2, got: g });
    }
    let members = crate::labels::members(&numbered.index, g);
    let mut dwd = vec![0.0; k * k];
    for (i, wi) in w.iter().enumerate() {
        let r = d.row(i);
        for a in 0..k {
            let wa = wi * r[a];
            dwd[a * k..a * k + a + 1].iter_mut().zip(&r[..=a]).for_each(|(h, rb)| *h += wa * rb);
        }
    }
    symmetrise(&mut dwd, k);
    // M = (D'WD)^-1 by Cholesky when no column comes near the span of the others (pivots above
    // 1e-6 of the columns' norms: about 20 times cheaper than the eigen-decomposition); the
    // Moore-Penrose inverse (eigenvalues below 1e-12 of the largest dropped) otherwise
    let m = match crate::linalg::cholesky(&dwd, k, 1e-6) {
        Some(factor) => crate::linalg::cholesky_inverse(&factor, k),
        None => crate::linalg::pseudo_inverse_psd(&dwd, k, 1e-12)?,
    };
    let mut c = vec![0.0; k];
    c[coef] = 1.0;
    let mc = mat_vec(&m, k, &c);
    let mut meat = vec![0.0; k * k];
    let mut p_theta_p = Vec::with_capacity(members.len());
    let mut r_vectors = Vec::with_capacity(members.len());
    let mut others: Option<OtherClusters> = None;
    for (cluster_at, rows) in members.iter().enumerate() {
        let ng = rows.len();
        let s: Vec<f64> = rows.iter().map(|&i| (1.0 / w[i]).sqrt()).collect();
        // G = diag(theta^2) - E C E', E's column p the rows of pattern p (u = s d_i[0]),
        // C_pq = x_p' M x_q
        // working variances many orders of magnitude apart (balancing weights near 0): the
        // resolvent integral, accurate where a dense decomposition of G loses the small
        // eigenvalues (its error is relative to the largest); and a large cluster, where it
        // is the cheaper of the two
        let mut resolvent = |wanted: bool| {
            (wanted && !dense_only)
                .then(|| {
                    let rest = others.get_or_insert_with(|| OtherClusters::new(d, w, &members));
                    Resolvent::new(d, rows, w, rest, cluster_at, &m, k)
                })
                .flatten()
        };
        let graded = resolvent(is_graded(rows, w));
        let low_rank = if graded.is_some() { None } else { patterned_rows(d, rows).filter(|_| !dense_only) };
        let low_rank = low_rank.and_then(|(patterns, pattern_of, scale)| {
            let r = patterns.len();
            let mut c = vec![0.0; r * r];
            for (p, xp) in patterns.iter().enumerate() {
                for (q, xq) in patterns.iter().enumerate() {
                    c[p * r + q] = quad(xp, &m, xq);
                }
            }
            if r == 1 {
                c[0] = c[0].max(0.0);
            }
            let lambda: Vec<f64> = rows.iter().map(|&i| 1.0 / (w[i] * w[i])).collect();
            let u: Vec<f64> = s.iter().zip(&scale).map(|(a, b)| a * b).collect();
            InverseRoot::low_rank(&lambda, &u, &pattern_of, &c, r)
        });
        // a large cluster without a few patterns: the resolvent is the cheaper way
        let large = if graded.is_none() && low_rank.is_none() {
            resolvent(rows.len() > LARGE_CLUSTER_PER_COLUMN * k)
        } else {
            None
        };
        let inverse_root = match (graded.or(large), low_rank) {
            (Some(resolvent), _) => InverseRoot::Resolvent(resolvent),
            (None, Some(root)) => root,
            (None, None) => {
                // G = S (Theta - D M D') S
                let mut g = vec![0.0; ng * ng];
                // M d_j once per row: each entry is then a k-vector product
                let md: Vec<Vec<f64>> = rows.iter().map(|&j| mat_vec(&m, k, d.row(j))).collect();
                // the lower triangle, mirrored (G is symmetric)
                for (a, &i) in rows.iter().enumerate() {
                    let di = d.row(i);
                    for (b, mdj) in md.iter().enumerate().take(a + 1) {
                        let theta = if a == b { 1.0 / w[i] } else { 0.0 };
                        let value = s[a] * (theta - dot_fast(di, mdj)) * s[b];
                        g[a * ng + b] = value;
                        g[b * ng + a] = value;
                    }
                }
                InverseRoot::dense(&g, ng)
            }
        };
        // A = S G^(-1/2) S, applied to the residuals and to W D M c together
        let scaled = |v: &[f64]| -> Vec<f64> { v.iter().zip(&s).map(|(x, y)| x * y).collect() };
        let eg: Vec<f64> = rows.iter().map(|&i| e[i]).collect();
        let wdm: Vec<f64> =
            rows.iter().map(|&i| w[i] * d.row(i).iter().zip(&mc).map(|(x, y)| x * y).sum::<f64>()).collect();
        // without degrees of freedom only the residuals' adjustment is needed
        let (ae, p) = if with_df {
            let (ae, p) = inverse_root.apply_pair(&scaled(&eg), &scaled(&wdm));
            (scaled(&ae), scaled(&p))
        } else {
            (scaled(&inverse_root.apply(&scaled(&eg))), Vec::new())
        };
        let mut u = vec![0.0; k];
        for (r, &i) in rows.iter().enumerate() {
            for (a, da) in d.row(i).iter().enumerate() {
                u[a] += da * w[i] * ae[r];
            }
        }
        for a in 0..k {
            for b in 0..k {
                meat[a * k + b] += u[a] * u[b];
            }
        }
        if with_df {
            p_theta_p.push(rows.iter().zip(&p).map(|(&i, pv)| pv * pv / w[i]).sum::<f64>());
            let mut r = vec![0.0; k];
            for (row, &i) in rows.iter().enumerate() {
                for (a, da) in d.row(i).iter().enumerate() {
                    r[a] += da * p[row];
                }
            }
            r_vectors.push(r);
        }
    }
    let vcov = sandwich(&m, &meat, k);
    if !with_df {
        return Ok((vcov, f64::NAN));
    }
    let g = members.len();
    let mr: Vec<Vec<f64>> = r_vectors.iter().map(|r| mat_vec(&m, k, r)).collect();
    let (mut trace, mut sum_sq) = (0.0, 0.0);
    for a in 0..g {
        for (b, mrb) in mr.iter().enumerate() {
            let mut bab = -r_vectors[a].iter().zip(mrb).map(|(x, y)| x * y).sum::<f64>();
            if a == b {
                bab += p_theta_p[a];
                trace += bab;
            }
            sum_sq += bab * bab;
        }
    }
    Ok((vcov, trace * trace / sum_sq))
}

#[cfg(test)]
mod inverse_variance_tests {
    use super::*;
    use crate::rng::Rng;

    /// The reference data of `tests/reference/graded_cr2.py`: design rows, weights, residuals
    /// and clusters.
    fn graded_reference() -> (Matrix, Vec<f64>, Vec<f64>, Vec<usize>, Vec<f64>) {
        let json: serde_json::Value =
            serde_json::from_str(include_str!("../tests/reference/graded_cr2.json")).expect("the reference");
        let rows = json["rows"].as_array().expect("rows");
        let number = |v: &serde_json::Value| v.as_f64().expect("a number");
        let d: Vec<Vec<f64>> =
            rows.iter().map(|r| r["d"].as_array().expect("d").iter().map(number).collect()).collect();
        let w = rows.iter().map(|r| number(&r["w"])).collect();
        let e = rows.iter().map(|r| number(&r["e"])).collect();
        let cluster = rows.iter().map(|r| r["cluster"].as_u64().expect("a cluster") as usize).collect();
        let vcov = json["vcov"]
            .as_array()
            .expect("vcov")
            .iter()
            .flat_map(|r| r.as_array().expect("a row").iter().map(number))
            .collect();
        (Matrix::from_rows(&d), w, e, cluster, vcov)
    }

    /// The packed cross-products (zero columns skipped, four rows at a time) equal, bit for
    /// bit, the plain pass over every column and row in order, whatever the number of rows
    /// (blocks of four and a remainder) and wherever the zero columns sit.
    #[test]
    fn packed_cross_products_equal_the_plain_sum_to_the_bit() {
        let mut rng = Rng::new(31, 7);
        for &(n, k) in &[(1usize, 3usize), (4, 5), (7, 9), (13, 12), (22, 40)] {
            let rows: Vec<Vec<f64>> = (0..n)
                .map(|_| (0..k).map(|a| if a % 3 == 1 || a == k - 1 { 0.0 } else { rng.normal() }).collect())
                .collect();
            let x = Matrix::from_rows(&rows);
            let d: MatrixRef<'_> = (&x).into();
            let members: Vec<usize> = (0..n).rev().collect();
            let f: Vec<f64> = (0..n).map(|_| 0.1 + rng.uniform()).collect();
            let start: Vec<f64> = (0..k * k).map(|_| rng.normal()).collect();
            let mut plain = start.clone();
            for (at, &i) in members.iter().enumerate() {
                let r = d.row(i);
                for a in 0..k {
                    let fa = f[at] * r[a];
                    for b in 0..=a {
                        plain[a * k + b] += fa * r[b];
                    }
                }
            }
            let mut packed = start.clone();
            PackedRows::new(&d, &members).add_cross_products(&mut packed, |at| f[at]);
            let packed_columns = PackedRows::new(&d, &members).columns.len();
            assert!(packed_columns < k, "n {n}, k {k}: some column is zero");
            for (a, (p, q)) in plain.iter().zip(&packed).enumerate() {
                assert_eq!(p.to_bits(), q.to_bits(), "n {n}, k {k}, entry {a}: {p} vs {q}");
            }
        }
    }

    /// Working variances 1e-8 to 10 apart within each cluster (G's eigenvalues spread over
    /// about 16 orders of magnitude): the CR2 covariance equals its definition computed in
    /// 60-digit arithmetic (mpmath, tests/reference/graded_cr2.py) to 1e-9 in every entry.
    #[test]
    fn graded_clusters_equal_the_high_precision_reference() {
        let (x, w, e, cluster, reference) = graded_reference();
        let members = crate::labels::members(&cluster, 3);
        assert!(members.iter().all(|rows| is_graded(rows, &w)), "every cluster takes the resolvent path");
        let vcov = vcov_cr2_inverse_variance(&x, &e, &w, &cluster).unwrap();
        let k = x.p;
        for a in 0..k {
            for b in 0..k {
                let scale = (reference[a * k + a] * reference[b * k + b]).sqrt();
                let (ours, theirs) = (vcov[a * k + b], reference[a * k + b]);
                assert!((ours - theirs).abs() <= 1e-9 * scale, "vcov[{a}][{b}]: {ours} vs {theirs}");
            }
        }
    }

    /// The same data in another row order give the same covariance (to 1e-11): the resolvent
    /// path does not depend on where the small working variances sit, as a dense
    /// decomposition of G does (R's clubSandwich moves by up to 5% on the bundled data).
    #[test]
    fn graded_clusters_do_not_depend_on_the_row_order() {
        let (x, w, e, cluster, _) = graded_reference();
        let base = vcov_cr2_inverse_variance(&x, &e, &w, &cluster).unwrap();
        let mut rng = Rng::new(4, 4);
        for _ in 0..3 {
            let mut order: Vec<usize> = (0..w.len()).collect();
            rng.shuffle_prefix(&mut order, w.len());
            let rows: Vec<Vec<f64>> = order.iter().map(|&i| x.row(i).to_vec()).collect();
            let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            let c: Vec<usize> = order.iter().map(|&i| cluster[i]).collect();
            let vcov = vcov_cr2_inverse_variance(&Matrix::from_rows(&rows), &pick(&e), &pick(&w), &c).unwrap();
            for (a, b) in vcov.iter().zip(&base) {
                assert!((a - b).abs() <= 1e-11 * b.abs().max(1.0), "{a} vs {b}");
            }
        }
    }

    /// Where the weights are of one order (the dense decomposition is accurate), the resolvent
    /// integral equals the dense decomposition's G^(-1/2) to 1e-10.
    #[test]
    fn the_resolvent_integral_equals_the_dense_decomposition() {
        let mut rng = Rng::new(12, 5);
        let (n, k, size) = (90, 4, 30);
        let rows: Vec<Vec<f64>> =
            (0..n).map(|i| vec![1.0, f64::from(u8::from(i % 3 == 0)), rng.normal(), rng.uniform()]).collect();
        let x = Matrix::from_rows(&rows);
        let w: Vec<f64> = (0..n).map(|_| 0.2 + 3.0 * rng.uniform()).collect();
        let cluster: Vec<usize> = (0..n).map(|i| i / size).collect();
        let members = crate::labels::members(&cluster, n / size);
        let d: MatrixRef<'_> = (&x).into();
        let others = OtherClusters::new(&d, &w, &members);
        let mut dwd = vec![0.0; k * k];
        for (i, wi) in w.iter().enumerate() {
            for a in 0..k {
                for b in 0..k {
                    dwd[a * k + b] += wi * x.row(i)[a] * x.row(i)[b];
                }
            }
        }
        let m = crate::linalg::pseudo_inverse_psd(&dwd, k, 1e-12).unwrap();
        for (g, rows) in members.iter().enumerate() {
            let s: Vec<f64> = rows.iter().map(|&i| (1.0 / w[i]).sqrt()).collect();
            let ng = rows.len();
            let mut dense = vec![0.0; ng * ng];
            for (a, &i) in rows.iter().enumerate() {
                for (b, &j) in rows.iter().enumerate() {
                    let dmd = quad(x.row(i), &m, x.row(j));
                    let theta = if a == b { 1.0 / w[i] } else { 0.0 };
                    dense[a * ng + b] = s[a] * (theta - dmd) * s[b];
                }
            }
            let v: Vec<f64> = (0..ng).map(|_| rng.normal()).collect();
            let expected = InverseRoot::dense(&dense, ng).apply(&v);
            let resolvent = Resolvent::new(&d, rows, &w, &others, g, &m, k).expect("R_g is positive definite");
            let got = resolvent.apply(&[&v]).pop().unwrap();
            let norm = expected.iter().map(|y| y * y).sum::<f64>().sqrt();
            for (a, b) in got.iter().zip(&expected) {
                assert!((a - b).abs() <= 1e-10 * norm, "{a} vs {b}");
            }
        }
    }

    /// The rank-one path (treatment constant within clusters, ties in the weights) equals the
    /// dense decomposition.
    #[test]
    fn rank_one_path_equals_the_dense_decomposition() {
        // clusters of 15 (the QL path for the distinct weights) and of 150 (the secular equation)
        for size in [15, 150] {
            rank_one_case(size);
        }
    }

    /// The low-rank path (clusters holding several stacks and both arms: a few row patterns,
    /// ties in the weights, as the stacked evaluation's control sites) equals the dense
    /// decomposition, for the standard error and the degrees of freedom; so does a cluster with
    /// too few ties, which the dense decomposition takes.
    #[test]
    fn low_rank_path_equals_the_dense_decomposition() {
        let mut rng = Rng::new(9, 2);
        for (size, tie_every) in [(40, 2), (90, 3), (30, 1000)] {
            let n = 5 * size;
            let cluster: Vec<usize> = (0..n).map(|i| i / size).collect();
            let stack: Vec<usize> = (0..n).map(|i| (i * 7) % 3).collect();
            let treated: Vec<f64> = (0..n).map(|i| f64::from(u8::from((i / 3) % 4 == 0 && cluster[i] < 2))).collect();
            // exposures tied for every `tie_every`-th child (in care the whole window)
            let exposure: Vec<f64> =
                (0..n).map(|i| if i % tie_every == 0 { 2.0 } else { 0.2 + rng.uniform() * 1.8 }).collect();
            let rate = |i: usize| (0.5 + 0.3 * treated[i]) * [1.0, 0.8, 1.3][stack[i]];
            let mu: Vec<f64> = (0..n).map(|i| exposure[i] * rate(i)).collect();
            let rows: Vec<Vec<f64>> = (0..n)
                .map(|i| {
                    let s = |k: usize| f64::from(u8::from(stack[i] == k));
                    vec![mu[i], mu[i] * treated[i], mu[i] * s(1), mu[i] * s(2)]
                })
                .collect();
            let x = Matrix::from_rows(&rows);
            let w: Vec<f64> = mu.iter().map(|m| 1.0 / m).collect();
            let e: Vec<f64> = (0..n).map(|i| rng.poisson(mu[i]) as f64 - mu[i]).collect();
            let fast = cr2_inverse_variance_with(&(&x).into(), &e, &w, &cluster, 1, false, true).unwrap();
            let dense = cr2_inverse_variance_with(&(&x).into(), &e, &w, &cluster, 1, true, true).unwrap();
            let se = |v: &[f64]| v[x.p + 1].sqrt();
            let (fast, dense) = ((se(&fast.0), fast.1), (se(&dense.0), dense.1));
            assert!((fast.0 - dense.0).abs() < 1e-10 * dense.0, "size {size}: se {fast:?} vs {dense:?}");
            assert!((fast.1 - dense.1).abs() < 1e-8 * dense.1, "size {size}: df {fast:?} vs {dense:?}");
        }
    }

    fn rank_one_case(size: usize) {
        let mut rng = Rng::new(5, 0);
        let n = 6 * size;
        let cluster: Vec<usize> = (0..n).map(|i| i / size).collect();
        let treated: Vec<f64> = cluster.iter().map(|&g| f64::from(u8::from(g % 2 == 0))).collect();
        // exposures with ties (as children in care the whole window), fitted means per row
        let exposure: Vec<f64> = (0..n).map(|i| if i % 3 == 0 { 2.0 } else { 0.2 + rng.uniform() * 1.8 }).collect();
        let mu: Vec<f64> = (0..n).map(|i| exposure[i] * (0.5 + 0.3 * treated[i])).collect();
        let x = Matrix::from_rows(&(0..n).map(|i| vec![mu[i], mu[i] * treated[i]]).collect::<Vec<_>>());
        let w: Vec<f64> = mu.iter().map(|m| 1.0 / m).collect();
        let e: Vec<f64> = (0..n).map(|i| rng.poisson(mu[i]) as f64 - mu[i]).collect();
        let fast = cr2_inverse_variance_with(&(&x).into(), &e, &w, &cluster, 1, false, true).unwrap();
        let dense = cr2_inverse_variance_with(&(&x).into(), &e, &w, &cluster, 1, true, true).unwrap();
        let se = |v: &[f64]| v[x.p + 1].sqrt();
        let (fast, dense) = ((se(&fast.0), fast.1), (se(&dense.0), dense.1));
        assert!((fast.0 - dense.0).abs() < 1e-10 * dense.0, "se {fast:?} vs {dense:?}");
        assert!((fast.1 - dense.1).abs() < 1e-8 * dense.1, "df {fast:?} vs {dense:?}");
    }
}
