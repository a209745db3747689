//! Match weights and subclasses from a match matrix (MatchIt's `weights.matrix`, ATT).

/// Match weights from the match matrix (MatchIt's `weights.matrix`, ATT).
pub(super) fn nearest_weights(n: usize, treated: &[usize], match_matrix: &[Vec<usize>], weights: &mut [f64]) {
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
pub(super) fn scale_control_weights(n: usize, treated: &[usize], weights: &mut [f64]) {
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
pub(super) fn pair_subclasses(treated: &[usize], match_matrix: &[Vec<usize>], subclass: &mut [Option<usize>]) {
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
