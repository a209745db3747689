//! Exact and coarsened exact matching: value keys per unit, strata with treated and control
//! units become subclasses.

use super::*;

/// Value keys of covariates, one per unit (numbers by bit pattern, text by level index).
pub(super) fn exact_keys(covariates: &[Covariate]) -> Vec<Vec<u64>> {
    let n = covariates.first().map_or(0, Covariate::len);
    let mut keys = vec![Vec::with_capacity(covariates.len()); n];
    for c in covariates {
        match &c.values {
            Values::Numeric(v) => {
                for (k, x) in keys.iter_mut().zip(v) {
                    // +0.0 and -0.0 are one value
                    k.push((x + 0.0).to_bits());
                }
            }
            Values::Text(v) => {
                let levels = c.levels();
                for (k, x) in keys.iter_mut().zip(v) {
                    k.push(levels.binary_search(&x.as_str()).unwrap_or(0) as u64);
                }
            }
        }
    }
    keys
}

/// Coarsened keys (MatchIt's `cem_matchit` defaults): numeric covariates cut into Sturges'
/// number of equal-width bins over their range (outer bins open), text covariates exact.
pub(super) fn cem_keys(covariates: &[Covariate]) -> Vec<Vec<u64>> {
    let coarsened: Vec<Covariate> = covariates
        .iter()
        .map(|c| match &c.values {
            Values::Numeric(v) => {
                let n = v.len() as f64;
                let bins = (n.log2() + 1.0).ceil() as usize;
                let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
                // R: seq(lo, hi, length = bins + 1), ends replaced by -Inf and Inf
                let by = (hi - lo) / bins as f64;
                let inner: Vec<f64> = (1..bins).map(|i| lo + i as f64 * by).collect();
                let bin = |x: f64| 1 + inner.partition_point(|&b| b <= x);
                Covariate::numeric(&c.name, v.iter().map(|&x| bin(x) as f64).collect())
            }
            Values::Text(_) => c.clone(),
        })
        .collect();
    exact_keys(&coarsened)
}

/// Which strata [`subclass_match`] matches within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strata {
    /// Exact values of every covariate (MatchIt `method = "exact"`).
    Exact,
    /// Coarsened values (CEM).
    Coarsened,
}

/// Exact or coarsened exact matching on strata keys: strata with treated and control units
/// become subclasses, numbered in order of first appearance among the units of the first
/// unit's group (exact) or among the controls (CEM), as MatchIt numbers them.
pub(super) fn subclass_match(treat: &[bool], keys: &[Vec<u64>], strata: Strata, m: &mut Matching) -> Result<()> {
    let exact = strata == Strata::Exact;
    let n = treat.len();
    let mut has: std::collections::HashMap<&[u64], (bool, bool)> = std::collections::HashMap::new();
    for (k, &t) in keys.iter().zip(treat) {
        let e = has.entry(k.as_slice()).or_default();
        if t {
            e.0 = true;
        } else {
            e.1 = true;
        }
    }
    let first_group = if exact { treat[0] } else { false };
    let mut number: std::collections::HashMap<&[u64], usize> = std::collections::HashMap::new();
    for (k, &t) in keys.iter().zip(treat) {
        if t == first_group && has[k.as_slice()] == (true, true) && !number.contains_key(k.as_slice()) {
            let next = number.len() + 1;
            number.insert(k.as_slice(), next);
        }
    }
    if number.is_empty() {
        return Err(StatsError::NoMatches(if exact {
            "no stratum has both treated and control units".into()
        } else {
            "no coarsened stratum has both treated and control units; coarsen further or match on fewer covariates"
                .into()
        }));
    }
    let strata = number.len();
    let (mut n_treated, mut n_control) = (vec![0usize; strata + 1], vec![0usize; strata + 1]);
    for i in 0..n {
        m.subclass[i] = number.get(keys[i].as_slice()).copied();
        if let Some(s) = m.subclass[i] {
            if treat[i] {
                n_treated[s] += 1;
            } else {
                n_control[s] += 1;
            }
        }
    }
    for ((w, s), &t) in m.weights.iter_mut().zip(&m.subclass).zip(treat) {
        if let Some(s) = *s {
            *w = if t { 1.0 } else { n_treated[s] as f64 / n_control[s] as f64 };
        }
    }
    scale_control_weights(n, &m.treated, &mut m.weights);
    Ok(())
}
