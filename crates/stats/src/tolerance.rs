//! The tolerances the reference tests hold the statistics to, in one place.
//!
//! - [`REFERENCE`]: agreement with a reference implementation (R MatchIt, sandwich,
//!   clubSandwich, survival, effectsize; Python statsmodels, lifelines) on the same data: 1e-6,
//!   relative to the reference value, absolute below 1 ([`close`]).
//! - [`HAND`]: agreement with a value worked by hand or computed independently from a written
//!   definition in exact arithmetic order (metrics, costs): 1e-9.
//! - [`MONTE_CARLO_SE`]: a bootstrap p-value against another implementation's is within this
//!   many Monte Carlo standard errors (their draws differ).

/// Agreement with a reference implementation (relative; absolute below 1).
pub const REFERENCE: f64 = 1e-6;
/// Agreement with a hand computation or an independent re-implementation.
pub const HAND: f64 = 1e-9;
/// Monte Carlo standard errors allowed between two bootstrap p-values.
pub const MONTE_CARLO_SE: f64 = 4.0;

/// Whether `ours` agrees with `reference` to `tol`, relative to the reference's size (absolute
/// below 1).
pub fn close(ours: f64, reference: f64, tol: f64) -> bool {
    (ours - reference).abs() <= tol * reference.abs().max(1.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn relative_above_one_absolute_below() {
        assert!(super::close(1_000_000.5, 1_000_000.0, 1e-6));
        assert!(!super::close(1_000_002.0, 1_000_000.0, 1e-6));
        assert!(super::close(1e-7, 0.0, 1e-6));
        assert!(!super::close(2e-6, 0.0, 1e-6));
    }
}
