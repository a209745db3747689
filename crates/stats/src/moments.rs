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

/// Dot product over the shorter of the two, summed in four interleaved running sums (index
/// i mod 4) added pairwise at the end: the same bits wherever it is used, but a different
/// order from [`dot`]'s. One running sum waits for each addition to finish before the next
/// starts; four independent ones keep the floating-point unit busy (and pack into vector
/// registers), about three times as fast on the inner products of the linear algebra kernels.
#[inline]
pub(crate) fn dot_fast(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut s = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        s[0] += x[0] * y[0];
        s[1] += x[1] * y[1];
        s[2] += x[2] * y[2];
        s[3] += x[3] * y[3];
    }
    ((s[0] + s[1]) + (s[2] + s[3])) + tail
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
        // every length around the blocks of four, against the one-sum product (exact here:
        // small integers)
        for n in 0..11 {
            let a: Vec<f64> = (0..n).map(|i| f64::from(i as u8) + 1.0).collect();
            let b: Vec<f64> = (0..n).map(|i| 2.0 - f64::from(i as u8)).collect();
            assert_eq!(dot_fast(&a, &b), dot(&a, &b), "length {n}");
            assert_eq!(dot_fast(&a, &b[..n / 2]), dot(&a[..n / 2], &b), "shorter second, length {n}");
        }
    }
}
