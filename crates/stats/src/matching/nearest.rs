//! Greedy nearest-neighbour matching on a scalar distance (propensity score): treated units in
//! MatchIt's order take the closest available control, found in near O(1) by union-find over
//! sorted positions.

/// Treated units ordered by distance, decreasing or increasing, ties in data order (R's
/// `order(..., decreasing)` with its stable radix sort).
pub(super) fn stable_order(units: &[usize], d: &[f64], decreasing: bool) -> Vec<usize> {
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
pub(super) struct Available {
    right: Vec<u32>,
    left: Vec<u32>,
}

impl Available {
    /// Positions 0..n with `open[p]`.
    pub(super) fn new(open: &[bool]) -> Self {
        let n = open.len();
        // right[p] = p if open else p + 1 (sentinel n); left over shifted positions (0 = none)
        let right = (0..=n).map(|p| if p < n && !open[p] { p as u32 + 1 } else { p as u32 }).collect();
        let left = (0..=n).map(|q| if q > 0 && !open[q - 1] { q as u32 - 1 } else { q as u32 }).collect();
        Available { right, left }
    }

    pub(super) fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let next = parent[parent[x as usize] as usize];
            parent[x as usize] = next;
            x = next;
        }
        x
    }

    /// The first open position >= p (None past the end).
    pub(super) fn at_or_right(&mut self, p: usize) -> Option<usize> {
        let r = Self::find(&mut self.right, p as u32) as usize;
        (r < self.right.len() - 1).then_some(r)
    }

    /// The last open position <= p.
    pub(super) fn at_or_left(&mut self, p: usize) -> Option<usize> {
        let q = Self::find(&mut self.left, p as u32 + 1) as usize;
        (q > 0).then(|| q - 1)
    }

    pub(super) fn close(&mut self, p: usize) {
        self.right[p] = p as u32 + 1;
        self.left[p + 1] = p as u32;
    }
}

/// One stratum's nearest-neighbour settings.
pub(super) struct Job<'a> {
    pub(super) ord: &'a [usize],
    pub(super) ratio: usize,
    pub(super) reuse_max: usize,
    pub(super) caliper: Option<f64>,
}

/// Nearest neighbour on a scalar distance within `units` (MatchIt's `nn_matchC_vec`);
/// `position` is scratch space of one slot per unit.
pub(super) fn nearest_on_scores(
    d: &[f64],
    treat: &[bool],
    units: &[usize],
    job: &Job<'_>,
    position: &mut [usize],
    rows: &mut [Vec<usize>],
) {
    let Job { ord, ratio, reuse_max, caliper } = *job;
    // sorted by distance, ties in data order (`units` is in data order): keyed as integers in
    // f64's total order with the unit, so an unstable sort gives the stable order
    let key = crate::moments::total_order_key;
    let mut keyed: Vec<(u64, u32)> = units.iter().map(|&u| (key(d[u]), u as u32)).collect();
    {
        use rayon::slice::ParallelSliceMut;
        keyed.par_sort_unstable();
    }
    let sorted: Vec<usize> = keyed.into_iter().map(|(_, u)| u as usize).collect();
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
