//! The small numerical helpers several modules share, written once: means, sample variance and
//! standard deviation, dot products. Each sums in index order, so results are the same bits
//! wherever they are used.

/// Arithmetic mean (NaN for no values).
pub(crate) fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample variance, divisor n - 1.
pub(crate) fn sample_var(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0)
}

/// Sample standard deviation, divisor n - 1.
pub(crate) fn sample_sd(x: &[f64]) -> f64 {
    sample_var(x).sqrt()
}

/// Dot product over the shorter of the two.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// An integer whose order is f64's total order (`f64::total_cmp`): sorting by it is integer
/// comparisons on the values themselves.
pub(crate) fn total_order_key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | 1 << 63
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_by_hand() {
        let x = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&x), 5.0);
        assert_eq!(sample_var(&x), 32.0 / 7.0);
        assert_eq!(sample_sd(&x), (32.0f64 / 7.0).sqrt());
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
    }
}
