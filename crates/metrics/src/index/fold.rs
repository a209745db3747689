//! Sums over children in parallel, deterministic whatever the threads, and day counts.

use super::*;
use rayon::prelude::*;

/// Children per parallel work item: chunks are fixed, and their sums are added in chunk order,
/// so results do not depend on the number of threads.
pub(crate) const CHUNK: usize = 8192;

/// Folds every child at a known site into an accumulator: `f(acc, c)` adds child `c`. Children
/// run in parallel in fixed chunks, each into its own `init()`, merged in chunk order into a
/// first `init()` (deterministic whatever the threads).
pub fn fold_children<A: Send>(
    index: &Index,
    init: impl Fn() -> A + Sync,
    f: impl Fn(&mut A, usize) + Sync,
    merge: impl Fn(&mut A, A),
) -> A {
    let n = index.children();
    let parts: Vec<A> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|k| {
            let mut acc = init();
            for c in (k * CHUNK..((k + 1) * CHUNK).min(n)).filter(|&c| index.child_site[c] != NO_SITE) {
                f(&mut acc, c);
            }
            acc
        })
        .collect();
    let mut total = init();
    for part in parts {
        merge(&mut total, part);
    }
    total
}

/// Adds `part`'s figures to `total`'s, slot by slot.
pub fn add_slots<const N: usize>(total: &mut [[f64; N]], part: &[[f64; N]]) {
    for (t, p) in total.iter_mut().zip(part) {
        for (x, y) in t.iter_mut().zip(p) {
            *x += y;
        }
    }
}

/// Sums `N` figures per group (and per one of `periods` periods) over every child at a known
/// site: `f(acc, c)` adds child `c`'s figures into `acc[period * groups + group]`. Children run
/// in parallel, in fixed chunks added in order (deterministic).
pub fn sum_over_children<const N: usize>(
    index: &Index,
    periods: usize,
    f: impl Fn(&mut [[f64; N]], usize) + Sync,
) -> Vec<[f64; N]> {
    let slots = index.groups.names.len() * periods;
    fold_children(index, || vec![[0.0; N]; slots], |acc, c| f(acc, c), |total, part| add_slots(total, &part))
}

/// Days of `p` covered by the spans (start, end; None: open), sorted by start; each day once.
pub fn days_in(spans: impl IntoIterator<Item = (i32, Option<i32>)>, p: Period) -> i64 {
    let mut days = 0i64;
    let mut covered_to = p.from - 1;
    for (start, end) in spans {
        let a = start.max(covered_to + 1);
        let b = end.unwrap_or(p.to).min(p.to);
        if b >= a {
            days += i64::from(b - a + 1);
            covered_to = b;
        }
    }
    days
}

/// Days of `p` on which a child with these episodes is looked after.
pub fn care_days(episodes: &[Episode], p: Period) -> i64 {
    days_in(episodes.iter().map(|e| (e.start, e.end)), p)
}
