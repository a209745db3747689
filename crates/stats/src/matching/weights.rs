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
    // R orders the treated units' names ("1", "10", "100", "11", ...) as text: the same order
    // as each row number's digits left-aligned in 20 places, shorter first on equal digits
    let as_text = |m: usize| {
        let m = m as u64;
        let digits = m.checked_ilog10().map_or(1, |d| d + 1);
        (u128::from(m) * 10u128.pow(20 - digits), digits)
    };
    let mut with_match: Vec<((u128, u32), usize)> =
        (0..treated.len()).filter(|&j| !match_matrix[j].is_empty()).map(|j| (as_text(treated[j] + 1), j)).collect();
    with_match.sort_unstable();
    for (k, &(_, j)) in with_match.iter().enumerate() {
        subclass[treated[j]] = Some(k + 1);
        for &c in &match_matrix[j] {
            subclass[c] = Some(k + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Subclasses are numbered in the order of the treated units' row numbers as text (R's
    /// sort of names), checked against sorting the numbers' strings, across digit counts.
    #[test]
    fn subclasses_follow_the_row_numbers_as_text() {
        let treated: Vec<usize> = (0..1200).chain([9_999, 99_999, 100_000, 1_000_000, 1_234_567]).collect();
        let n = 1_234_568 + 1300;
        // every other treated unit matched, to its own control beyond the treated
        let match_matrix: Vec<Vec<usize>> =
            (0..treated.len()).map(|j| if j % 2 == 0 { vec![n - 1 - j] } else { Vec::new() }).collect();
        let mut subclass = vec![None; n];
        pair_subclasses(&treated, &match_matrix, &mut subclass);
        let mut names: Vec<(String, usize)> =
            (0..treated.len()).step_by(2).map(|j| ((treated[j] + 1).to_string(), j)).collect();
        names.sort();
        for (k, (_, j)) in names.iter().enumerate() {
            assert_eq!(subclass[treated[*j]], Some(k + 1));
            assert_eq!(subclass[n - 1 - j], Some(k + 1));
        }
        assert_eq!(subclass.iter().flatten().count(), 2 * names.len());
    }
}
