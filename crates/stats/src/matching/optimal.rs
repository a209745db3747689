//! Optimal 1:1 pair matching on a scalar propensity distance.

use super::*;

/// Optimal 1:1 pair matching on a scalar propensity distance: the pairs with the smallest
/// total |distance difference|. On a line an optimal matching never crosses, so a dynamic
/// programme over both sorted lists finds it in O(n1 x (n0 - n1 + 1)).
pub(super) fn optimal(data: &MatchData<'_>, m: &mut Matching) -> Result<()> {
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
