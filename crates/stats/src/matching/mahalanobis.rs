//! Nearest-neighbour matching on the Mahalanobis distance: controls screened on whitened
//! covariates with a partial distance search, the exact distance (MatchIt's arithmetic)
//! computed only for controls within reach of the best.

use super::*;

/// Mahalanobis distances: the covariates (every level of text ones) with their pooled
/// within-group covariance, inverted (a pseudo-inverse when singular, as MatchIt falls back
/// to a generalised inverse). The nearest controls are found in two steps: a screen on
/// whitened covariates (O(p) per pair) keeps the controls that could be nearest, then their
/// exact distances (O(p^2), the arithmetic MatchIt's order of ties was checked against) choose.
pub(super) struct Mahalanobis {
    x: Vec<Vec<f64>>,
    inverse: Vec<f64>,
    p: usize,
    /// The covariates whitened by the inverse's eigen-decomposition (|w_a - w_b| is the
    /// distance up to rounding): a cheap screen before the exact distance.
    whitened: Vec<Vec<f64>>,
}

/// Relative slack of the whitened screen: a control is measured exactly when its screened
/// distance is within this of the best screened one (rounding differs by about 1e-15).
pub(super) const SCREEN_SLACK: f64 = 1e-8;

impl Mahalanobis {
    pub(super) fn new(data: &MatchData<'_>) -> Result<Self> {
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
    pub(super) fn candidates(
        &self,
        t: usize,
        controls: &[usize],
        eligible: impl Fn(usize) -> bool,
        k: usize,
    ) -> Vec<usize> {
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

    pub(super) fn distance(&self, a: usize, b: usize) -> f64 {
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
    pub(super) fn nearest(
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
