//! The regression of an outcome on an intercept and a 0/1 group (the difference in weighted
//! means) with cluster-robust inference, from per-cluster sums: the CR2 standard error with its
//! Bell-McCaffrey degrees of freedom, CR1, and the wild cluster bootstrap problem that
//! [`crate::summary::summarise`] reports with clusters. Two passes over the rows, then O(G^2);
//! the general path ([`crate::regression::wls`], [`crate::regression::WlsFit::cr2_inference`],
//! [`crate::bootstrap::WildProblem`]) gives the same numbers at O(n k^2) with a basis of n_g
//! rows per cluster (the tests hold the two together).
//!
//! # Why block sums suffice
//! With X = [1, t], each cluster's rows split into two blocks b (t = 0 and t = 1), and every
//! column of X_g and W_g X_g is, block by block, a multiple of the block's indicator 1_b or its
//! weights w_b. So span[X_g, W_g X_g], in which CR2's adjustment A_g works (see
//! [`crate::regression`]), has the orthonormal basis q_b1 = 1_b / sqrt(n_b) and, where the
//! block's weights vary, q_b2 = (w_b - mean w_b) / s_b with s_b^2 = sum (w - mean w_b)^2. In that
//! basis every product the adjustment needs is a block sum:
//! - Q'X_g: sqrt(n_b) on q_b1 (in the group column only for t = 1), 0 on q_b2;
//! - Q'W_g X_g: sum w / sqrt(n_b) on q_b1 and s_b on q_b2;
//! - Q'e_g: sum e / sqrt(n_b) and sum (w - mean w_b) e / s_b;
//! - X_g'W_g e_g: the blocks' sum w e.
//!
//! The coefficients are the groups' weighted means (b0 = mean_0, b1 = mean_1 - mean_0) and
//! (X'WX)^-1 = [[1/W0, -1/W0], [-1/W0, 1/W0 + 1/W1]] with W_t the groups' total weights. The
//! residuals are taken in a second pass (e = y - mean_t), so nothing is lost to cancellation.

use crate::bootstrap::{ClusterSums, WildProblem};
use crate::error::{Result, StatsError};
use crate::regression::{adjustment_core, mat_vec, sandwich, satterthwaite_df, Inference};

/// One block's sums (rows of one cluster and one group).
#[derive(Debug, Clone, Copy, Default)]
struct Block {
    /// Rows.
    n: f64,
    /// sum w, sum w^2, sum w y.
    sw: f64,
    sw2: f64,
    swy: f64,
    /// sum e, sum w e (e = y - the group's mean).
    se: f64,
    swe: f64,
    /// sum (w - mean w)^2 and sum (w - mean w) e (the block's mean weight).
    cw2: f64,
    cwe: f64,
}

/// One cluster's rows reduced to the sums [`TwoGroup::of_clusters`] needs: rows, sum w,
/// sum w^2, sum w y, sum y, and with the cluster's centred weights (w - mean w) their sum of
/// squares and their sum with y.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ClusterRows {
    n: f64,
    sw: f64,
    sw2: f64,
    swy: f64,
    sy: f64,
    cw2: f64,
    cwy: f64,
}

/// Each of `g` clusters' [`ClusterRows`] (`index[i]`: row i's cluster, numbered 0..g), in two
/// passes over the rows; y is taken about its overall weighted mean, which leaves every
/// difference and residual as it is and keeps the sums small.
pub(crate) fn cluster_rows(y: &[f64], weights: Option<&[f64]>, index: &[usize], g: usize) -> Vec<ClusterRows> {
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
    let (mut total_w, mut total_wy) = (0.0, 0.0);
    let mut rows = vec![ClusterRows::default(); g];
    for (i, &yi) in y.iter().enumerate() {
        let (r, w) = (&mut rows[index[i]], weight(i));
        r.n += 1.0;
        r.sw += w;
        total_w += w;
        total_wy += w * yi;
    }
    let centre = if total_w > 0.0 { total_wy / total_w } else { 0.0 };
    for (i, &yi) in y.iter().enumerate() {
        let r = &mut rows[index[i]];
        let (w, v) = (weight(i), yi - centre);
        let centred = w - r.sw / r.n;
        r.sw2 += w * w;
        r.swy += w * v;
        r.sy += v;
        r.cw2 += centred * centred;
        r.cwy += centred * v;
    }
    rows
}

/// The CR2 t of the difference when whole clusters are assigned (`treated[c]`) and every
/// weight is 1, in closed form: a cluster c of group t has all its rows equal to x_t, so
/// H_cc = (n_c / N_t) P with P the projection on its constant vector, A_c = I +
/// ((1 - h_c)^(-1/2) - 1) P and u_c = x_t (1 - h_c)^(-1/2) E_c with E_c the cluster's residual
/// sum; the difference's variance is sum_c E_c^2 / ((1 - h_c) N_t^2) (a cluster holding its
/// whole group, h_c = 1, adds 0: the Moore-Penrose root, as [`TwoGroup::cr2_t`]). None when a
/// group is empty.
pub(crate) fn assigned_t_unweighted(rows: &[ClusterRows], treated: &[bool]) -> Option<f64> {
    // the groups' sums in registers, each term added to one and 0 to the other (the same sums
    // as indexing by group, without a store and reload per cluster)
    let (mut n, mut sy) = ([0.0; 2], [0.0; 2]);
    for (r, &t) in rows.iter().zip(treated) {
        let (on, off) = if t { (r.n, 0.0) } else { (0.0, r.n) };
        let (son, soff) = if t { (r.sy, 0.0) } else { (0.0, r.sy) };
        n[1] += on;
        n[0] += off;
        sy[1] += son;
        sy[0] += soff;
    }
    if n[0] == 0.0 || n[1] == 0.0 {
        return None;
    }
    let mean = [sy[0] / n[0], sy[1] / n[1]];
    let mut variance = 0.0;
    for (r, &t) in rows.iter().zip(treated) {
        let t = usize::from(t);
        let rest = 1.0 - r.n / n[t];
        if rest > 1e-10 {
            let e = (r.sy - r.n * mean[t]) / n[t];
            variance += e * e / rest;
        }
    }
    Some((mean[1] - mean[0]) / variance.sqrt())
}

/// The two-group regression with its clusters, reduced to block sums.
pub(crate) struct TwoGroup {
    /// Rows used.
    n: usize,
    /// (b0, b1).
    coef: [f64; 2],
    /// (X'WX)^-1, row-major.
    bread: Vec<f64>,
    /// Two blocks per cluster (cluster c, group t at 2c + t); clusters numbered in ascending
    /// order of label.
    blocks: Vec<Block>,
    /// The groups' weighted means.
    mean: [f64; 2],
}

impl TwoGroup {
    /// Fits `y` on an intercept and `treated`, with optional weights (each above 0: drop the
    /// rows of weight 0 first) and cluster labels per row.
    ///
    /// # Errors
    /// Lengths that differ; fewer than two clusters; a group without rows.
    #[cfg(test)]
    pub(crate) fn fit(y: &[f64], treated: &[bool], weights: Option<&[f64]>, cluster: &[usize]) -> Result<Self> {
        if cluster.len() != y.len() {
            return Err(StatsError::LengthMismatch { inputs: "the outcome, groups, weights and clusters" });
        }
        let numbered = crate::labels::number(cluster);
        Self::fit_numbered(y, treated, weights, &numbered.index, numbered.labels.len())
    }

    /// [`TwoGroup::fit`] with the clusters already numbered 0..g (`index[i]`: row i's).
    ///
    /// # Errors
    /// As [`TwoGroup::fit`].
    pub(crate) fn fit_numbered(
        y: &[f64],
        treated: &[bool],
        weights: Option<&[f64]>,
        index: &[usize],
        g: usize,
    ) -> Result<Self> {
        let n = y.len();
        if treated.len() != n || index.len() != n || weights.is_some_and(|w| w.len() != n) {
            return Err(StatsError::LengthMismatch { inputs: "the outcome, groups, weights and clusters" });
        }
        if g < 2 {
            return Err(StatsError::TooFewClusters { method: "cluster-robust errors", min: 2, got: g });
        }
        let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
        let block_of = |i: usize| 2 * index[i] + usize::from(treated[i]);
        let mut blocks = vec![Block::default(); 2 * g];
        for (i, &yi) in y.iter().enumerate() {
            let (b, w) = (&mut blocks[block_of(i)], weight(i));
            b.n += 1.0;
            b.sw += w;
            b.sw2 += w * w;
            b.swy += w * yi;
        }
        let total = |t: usize, f: fn(&Block) -> f64| blocks.iter().skip(t).step_by(2).map(f).sum::<f64>();
        let (w0, w1) = (total(0, |b| b.sw), total(1, |b| b.sw));
        if !(w0 > 0.0 && w1 > 0.0) {
            return Err(StatsError::TooFewPerGroup {
                min: 1,
                treated: treated.iter().filter(|&&t| t).count(),
                control: treated.iter().filter(|&&t| !t).count(),
            });
        }
        let mean = [total(0, |b| b.swy) / w0, total(1, |b| b.swy) / w1];
        for (i, &yi) in y.iter().enumerate() {
            let t = usize::from(treated[i]);
            let b = &mut blocks[block_of(i)];
            let (w, e) = (weight(i), yi - mean[t]);
            let centred = w - b.sw / b.n;
            b.se += e;
            b.swe += w * e;
            b.cw2 += centred * centred;
            b.cwe += centred * e;
        }
        let bread = vec![1.0 / w0, -1.0 / w0, -1.0 / w0, 1.0 / w0 + 1.0 / w1];
        Ok(TwoGroup { n, coef: [mean[0], mean[1] - mean[0]], bread, blocks, mean })
    }

    /// The regression when whole clusters are assigned to a group (`treated[c]` for cluster c),
    /// from each cluster's [`ClusterRows`] in O(G): the blocks' residual sums are linear in the
    /// groups' means (sum e = sum y - n mean_t, sum w e = sum w y - sum w mean_t, and the
    /// centred weights' sum with e is their sum with y), so randomisation inference over
    /// clusters reads the rows once ([`cluster_rows`]) rather than once per assignment.
    ///
    /// # Errors
    /// Fewer than two clusters; a group without weight.
    pub(crate) fn of_clusters(rows: &[ClusterRows], treated: &[bool]) -> Result<Self> {
        let g = rows.len();
        if g < 2 || treated.len() != g {
            return Err(StatsError::TooFewClusters { method: "cluster-robust errors", min: 2, got: g });
        }
        let (mut sw, mut swy) = ([0.0; 2], [0.0; 2]);
        for (r, &t) in rows.iter().zip(treated) {
            sw[usize::from(t)] += r.sw;
            swy[usize::from(t)] += r.swy;
        }
        if !(sw[0] > 0.0 && sw[1] > 0.0) {
            let treated_rows = rows.iter().zip(treated).filter(|(_, &t)| t).map(|(r, _)| r.n as usize).sum();
            let all: usize = rows.iter().map(|r| r.n as usize).sum();
            return Err(StatsError::TooFewPerGroup { min: 1, treated: treated_rows, control: all - treated_rows });
        }
        let mean = [swy[0] / sw[0], swy[1] / sw[1]];
        let mut blocks = vec![Block::default(); 2 * g];
        for (c, (r, &t)) in rows.iter().zip(treated).enumerate() {
            let m = mean[usize::from(t)];
            blocks[2 * c + usize::from(t)] = Block {
                n: r.n,
                sw: r.sw,
                sw2: r.sw2,
                swy: r.swy,
                se: r.sy - r.n * m,
                swe: r.swy - r.sw * m,
                cw2: r.cw2,
                cwe: r.cwy,
            };
        }
        let n = rows.iter().map(|r| r.n as usize).sum();
        let bread = vec![1.0 / sw[0], -1.0 / sw[0], -1.0 / sw[0], 1.0 / sw[0] + 1.0 / sw[1]];
        Ok(TwoGroup { n, coef: [mean[0], mean[1] - mean[0]], bread, blocks, mean })
    }

    /// Clusters.
    pub(crate) fn clusters(&self) -> usize {
        self.blocks.len() / 2
    }

    /// Clusters holding rows of the treated (`true`) or control group.
    pub(crate) fn clusters_with(&self, treated: bool) -> usize {
        self.blocks.iter().skip(usize::from(treated)).step_by(2).filter(|b| b.n > 0.0).count()
    }

    /// Each cluster's group when all its rows are in one (`Some(true)`: treated), None when it
    /// holds both.
    pub(crate) fn cluster_arms(&self) -> Vec<Option<bool>> {
        self.blocks
            .chunks_exact(2)
            .map(|b| match (b[0].n > 0.0, b[1].n > 0.0) {
                (true, true) => None,
                (_, treated) => Some(treated),
            })
            .collect()
    }

    /// The difference in means (b1).
    pub(crate) fn difference(&self) -> f64 {
        self.coef[1]
    }

    /// X_g'W_g v for a vector v summed block by block: (sum over the cluster, sum over its
    /// treated block).
    fn by_cluster(&self, f: fn(&Block) -> f64) -> impl Iterator<Item = Vec<f64>> + '_ {
        self.blocks.chunks_exact(2).map(move |b| vec![f(&b[0]) + f(&b[1]), f(&b[1])])
    }

    /// The CR1 covariance (sandwich::vcovCL type HC1), row-major 2 x 2.
    pub(crate) fn vcov_cr1(&self) -> Vec<f64> {
        let (n, g) = (self.n as f64, self.clusters() as f64);
        let mut meat = [0.0; 4];
        for u in self.by_cluster(|b| b.swe) {
            for a in 0..2 {
                for c in 0..2 {
                    meat[a * 2 + c] += u[a] * u[c];
                }
            }
        }
        let adj = g / (g - 1.0) * (n - 1.0) / (n - 2.0);
        sandwich(&self.bread, &meat, 2).into_iter().map(|v| v * adj).collect()
    }

    /// The CR2 inference of the difference: its standard error and the Bell-McCaffrey
    /// (Satterthwaite) degrees of freedom, as [`crate::regression::WlsFit::cr2_inference`].
    ///
    /// # Errors
    /// A cluster whose adjustment matrix is not positive semidefinite.
    pub(crate) fn cr2_inference(&self) -> Result<Inference> {
        let (se, df) = self.cr2(true)?;
        Ok(Inference::t(self.coef[1], se, df))
    }

    /// The CR2 t statistic of the difference (no degrees of freedom: O(G), where they cost
    /// O(G^2)).
    ///
    /// # Errors
    /// As [`TwoGroup::cr2_inference`].
    pub(crate) fn cr2_t(&self) -> Result<f64> {
        Ok(self.coef[1] / self.cr2(false)?.0)
    }

    /// The CR2 standard error of the difference, and its Bell-McCaffrey df when `with_df`
    /// (else NaN).
    fn cr2(&self, with_df: bool) -> Result<(f64, f64)> {
        let m = &self.bread;
        let mut xw2x = [0.0; 4];
        for u in self.by_cluster(|b| b.sw2) {
            xw2x[0] += u[0];
            xw2x[1] += u[1];
            xw2x[2] += u[1];
            xw2x[3] += u[1];
        }
        let omega = sandwich(m, &xw2x, 2);
        let mc = mat_vec(m, 2, &[0.0, 1.0]);
        let g = self.clusters();
        let mut meat = [0.0; 4];
        let rows = if with_df { g } else { 0 };
        let (mut vv, mut pvec, mut rvec) = (vec![0.0; rows], vec![vec![0.0; 2]; rows], vec![vec![0.0; 2]; rows]);
        for (c, pair) in self.blocks.chunks_exact(2).enumerate() {
            // the basis: P = Q'X_g, S = Q'W_g X_g (r x 2 each, r <= 4) and Q'e_g
            let (mut p, mut s, mut qe, mut r) = ([0.0; 8], [0.0; 8], [0.0; 4], 0);
            for (t, b) in pair.iter().enumerate().filter(|(_, b)| b.n > 0.0) {
                let in_group = |v: f64| [v, if t == 1 { v } else { 0.0 }];
                let root = b.n.sqrt();
                p[2 * r..2 * r + 2].copy_from_slice(&in_group(root));
                s[2 * r..2 * r + 2].copy_from_slice(&in_group(b.sw / root));
                qe[r] = b.se / root;
                r += 1;
                let spread = b.cw2.sqrt();
                if spread > 1e-10 * b.sw2.sqrt() && spread > 0.0 {
                    s[2 * r..2 * r + 2].copy_from_slice(&in_group(spread));
                    qe[r] = b.cwe / spread;
                    r += 1;
                }
            }
            let (p, s, qe) = (&p[..2 * r], &s[..2 * r], &qe[..r]);
            let core = adjustment_core(p, s, 2, m, &omega)?;
            // u_g = X_g'W_g A_g e_g = X_g'W_g e_g + S' core Q'e_g
            let mut u = [pair[0].swe + pair[1].swe, pair[1].swe];
            for i in 0..r {
                let cq: f64 = (0..r).map(|j| core[i * r + j] * qe[j]).sum();
                u[0] += s[2 * i] * cq;
                u[1] += s[2 * i + 1] * cq;
            }
            for a in 0..2 {
                for b in 0..2 {
                    meat[a * 2 + b] += u[a] * u[b];
                }
            }
            if !with_df {
                continue;
            }
            // v_g = A_g W_g X_g M c, in the basis (I + core) S M c
            let smc: Vec<f64> = (0..r).map(|i| s[2 * i] * mc[0] + s[2 * i + 1] * mc[1]).collect();
            let v: Vec<f64> = mat_vec(&core, r, &smc).iter().zip(&smc).map(|(a, b)| a + b).collect();
            vv[c] = v.iter().map(|x| x * x).sum();
            for (i, vi) in v.iter().enumerate() {
                for a in 0..2 {
                    pvec[c][a] += p[2 * i + a] * vi;
                    rvec[c][a] += s[2 * i + a] * vi;
                }
            }
        }
        let vcov = sandwich(m, &meat, 2);
        let df = if with_df { satterthwaite_df(&vv, &pvec, &rvec, 2, m, &omega) } else { f64::NAN };
        Ok((vcov[3].sqrt(), df))
    }

    /// The wild cluster bootstrap of the difference (the null imposed by the intercept-only
    /// fit), as [`WildProblem::new`] on the same rows.
    pub(crate) fn wild_problem(&self) -> WildProblem {
        let (w0, w1) = (1.0 / self.bread[0], 1.0 / (self.bread[3] - self.bread[0]));
        // the restricted fit is the overall weighted mean; its residual is e + (mean_t - it)
        let overall = (w0 * self.mean[0] + w1 * self.mean[1]) / (w0 + w1);
        let share = w1 / (w0 + w1);
        let shift = [self.mean[0] - overall, self.mean[1] - overall];
        let restricted = |pair: &[Block], t: usize| pair[t].swe + pair[t].sw * shift[t];
        // the residual's slope in r is -(t - the weighted share treated)
        let slope = |pair: &[Block], t: usize| -pair[t].sw * (t as f64 - share);
        let pairs = || self.blocks.chunks_exact(2);
        let both = |f: &dyn Fn(&[Block], usize) -> f64| -> Vec<Vec<f64>> {
            pairs().map(|p| vec![f(p, 0) + f(p, 1), f(p, 1)]).collect()
        };
        let sums = ClusterSums {
            xx: pairs().map(|p| vec![p[0].sw + p[1].sw, p[1].sw, p[1].sw, p[1].sw]).collect(),
            xu_full: both(&|p, t| p[t].swe),
            xu_restricted: both(&restricted),
            xu_slope: both(&slope),
        };
        WildProblem::from_cluster_sums(self.n, 1, self.coef[1], self.bread.clone(), sums)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::{WildParams, WildProblem};
    use crate::regression::wls;
    use crate::rng::Rng;
    use crate::Matrix;

    fn close(a: f64, b: f64, what: &str) {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1e-12), "{what}: {a} against {b}");
    }

    /// Block sums give the general path's numbers: unweighted, weighted (weights varying within
    /// blocks, constant within some), unbalanced clusters, clusters holding one group only.
    #[test]
    fn block_sums_agree_with_the_general_regression() {
        let mut rng = Rng::new(11, 3);
        for case in 0..6 {
            let n = 400 + 37 * case;
            let g = [3, 7, 20, 41, 5, 12][case];
            // labels spread out (numbered by sorting); clusters below g / 3 hold controls only,
            // the last one treated only
            let number: Vec<usize> = (0..n).map(|_| ((rng.uniform() * g as f64) as usize).min(g - 1)).collect();
            let cluster: Vec<usize> = number.iter().map(|c| 1000 + c * (case + 2)).collect();
            let treated: Vec<bool> =
                number.iter().map(|&c| c == g - 1 || (c >= g / 3 && rng.uniform() < 0.4)).collect();
            let y: Vec<f64> = (0..n).map(|i| 50.0 + 0.3 * f64::from(u8::from(treated[i])) + rng.normal()).collect();
            let w: Vec<f64> = (0..n)
                .map(|i| match case % 3 {
                    0 => 1.0,
                    1 => 0.2 + rng.uniform(),
                    _ => [1.0, 0.25, 1.0][cluster[i] % 3] * if treated[i] { 1.0 } else { 0.5 },
                })
                .collect();
            let weights = (case % 3 != 0).then_some(&w[..]);
            let x = Matrix::from_rows(&treated.iter().map(|&t| vec![1.0, f64::from(u8::from(t))]).collect::<Vec<_>>());
            let general = wls(&x, &y, weights).unwrap();
            let fast = TwoGroup::fit(&y, &treated, weights, &cluster).unwrap();
            close(fast.difference(), general.coef[1], "difference");
            // elements near 0 (a covariance) against the matrix's scale
            let slow_cr1 = general.vcov_cr1(&cluster).unwrap();
            let scale = slow_cr1.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (a, b) in fast.vcov_cr1().iter().zip(&slow_cr1) {
                assert!((a - b).abs() <= 1e-9 * scale, "case {case}, CR1: {a} against {b}");
            }
            let (a, b) = (fast.cr2_inference().unwrap(), general.cr2_inference(&cluster, 1).unwrap());
            close(a.se, b.se, "CR2 se");
            close(a.df, b.df, "CR2 df");
            close(a.p_value, b.p_value, "CR2 p");
            let params = WildParams { reps: 999, ..WildParams::default() }.check().unwrap();
            let slow = WildProblem::new(&x, &y, weights, &cluster, 1).unwrap();
            let (a, b) = (fast.wild_problem(), slow);
            close(a.t(0.0), b.t(0.0), "bootstrap t");
            assert_eq!(a.test(0.0, &params).p_value, b.test(0.0, &params).p_value, "case {case}");
            let (ca, cb) = (a.confidence_interval(&params), b.confidence_interval(&params));
            close(ca.0, cb.0, "interval");
            close(ca.1, cb.1, "interval");
        }
    }

    /// Whole clusters assigned to a group: the fit from the clusters' sums equals the fit from
    /// the rows (difference, CR2 SE and t), weighted and not, with an outcome away from zero.
    #[test]
    fn cluster_sums_give_the_rows_fit_for_every_cluster_assignment() {
        let mut rng = Rng::new(5, 9);
        for weighted in [false, true] {
            let g = 9;
            let n = 700;
            let cluster: Vec<usize> = (0..n).map(|i| (i * 7 + i / 3) % g).collect();
            let y: Vec<f64> = (0..n).map(|i| 50.0 + rng.normal() + (cluster[i] % 3) as f64).collect();
            let w: Vec<f64> = (0..n).map(|_| 0.5 + rng.uniform()).collect();
            let weights = weighted.then_some(w.as_slice());
            let rows = cluster_rows(&y, weights, &cluster, g);
            for set in [[0usize, 3, 4], [1, 2, 8], [5, 6, 7]] {
                let mut is_treated = vec![false; g];
                set.iter().for_each(|&c| is_treated[c] = true);
                let t: Vec<bool> = cluster.iter().map(|&c| is_treated[c]).collect();
                let direct = TwoGroup::fit(&y, &t, weights, &cluster).expect("fit");
                let summed = TwoGroup::of_clusters(&rows, &is_treated).expect("fit");
                let d = direct.cr2_inference().expect("cr2");
                close(summed.difference(), direct.difference(), "difference");
                close(summed.cr2_inference().expect("cr2").se, d.se, "CR2 SE");
                close(summed.cr2_t().expect("t"), d.estimate / d.se, "t");
                if !weighted {
                    close(assigned_t_unweighted(&rows, &is_treated).expect("t"), d.estimate / d.se, "closed-form t");
                }
            }
            assert!(TwoGroup::of_clusters(&rows, &[false; 9]).is_err());
        }
    }

    #[test]
    fn one_cluster_or_an_empty_group_is_refused() {
        let y = [1.0, 2.0, 3.0, 4.0];
        assert!(matches!(
            TwoGroup::fit(&y, &[true, false, true, false], None, &[1, 1, 1, 1]),
            Err(StatsError::TooFewClusters { .. })
        ));
        assert!(matches!(TwoGroup::fit(&y, &[false; 4], None, &[1, 2, 1, 2]), Err(StatsError::TooFewPerGroup { .. })));
        assert!(matches!(TwoGroup::fit(&y, &[false; 3], None, &[1, 2, 1, 2]), Err(StatsError::LengthMismatch { .. })));
    }
}
