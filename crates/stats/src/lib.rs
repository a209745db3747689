//! Statistics for swp-eval: GLMs, matching, balance, effect sizes, cluster-robust and wild
//! cluster bootstrap inference, survival and multiplicity.
//!
//! Invariant: this crate takes slices and its own small types, never a `DataFrame`, and does
//! no IO. It is filled by issues 5 and 6; nothing here yet pretends to compute anything.
