//! Multiple-testing adjustments of p-values, as R's `p.adjust`.
//!
//! # Formula
//! With p sorted ascending p_(1) <= .. <= p_(m):
//! - Holm: max over j <= i of (m - j + 1) p_(j), capped at 1;
//! - Hochberg: min over j >= i of (m - j + 1) p_(j);
//! - Benjamini-Hochberg: min over j >= i of m / j p_(j);
//! - Benjamini-Yekutieli: BH times sum_{k=1..m} 1/k;
//!   each capped at 1, returned in the input order.
//!
//! # Examples
//! ```
//! use swp_stats::multiplicity::{adjust, Adjustment};
//! let p = adjust(&[0.01, 0.04, 0.03], Adjustment::Holm);
//! assert_eq!(p, vec![0.03, 0.06, 0.06]);
//! ```

crate::choice! {
    /// Adjustment method.
    pub enum Adjustment {
        /// Holm (1979), family-wise error.
        Holm = "holm",
        /// Hochberg (1988), family-wise error under independence.
        Hochberg = "hochberg",
        /// Benjamini and Hochberg (1995), false discovery rate.
        BenjaminiHochberg = "bh",
        /// Benjamini and Yekutieli (2001), false discovery rate under any dependence.
        BenjaminiYekutieli = "by",
        /// No adjustment: each p-value as it is.
        None = "none",
    }
}

/// Adjusted p-values, in the order given.
pub fn adjust(p: &[f64], method: Adjustment) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mf = m as f64;
    let mut out = vec![0.0; m];
    match method {
        Adjustment::None => out.copy_from_slice(p),
        Adjustment::Holm => {
            let mut running = 0.0f64;
            for (i, &k) in order.iter().enumerate() {
                running = running.max((mf - i as f64) * p[k]);
                out[k] = running.min(1.0);
            }
        }
        Adjustment::Hochberg | Adjustment::BenjaminiHochberg | Adjustment::BenjaminiYekutieli => {
            let q: f64 =
                if method == Adjustment::BenjaminiYekutieli { (1..=m).map(|k| 1.0 / k as f64).sum() } else { 1.0 };
            let mut running = f64::INFINITY;
            for (i, &k) in order.iter().enumerate().rev() {
                let factor = match method {
                    Adjustment::Hochberg => mf - i as f64,
                    _ => q * mf / (i as f64 + 1.0),
                };
                running = running.min(factor * p[k]);
                out[k] = running.min(1.0);
            }
        }
    }
    out
}
