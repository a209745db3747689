//! Property tests of the statistics (hardening issue): invariances every correct implementation
//! has, over generated inputs rather than chosen examples.

use proptest::prelude::*;
use swp_stats::balance::{balance_row, standardiser};
use swp_stats::bootstrap::{BootType, BootWeights, WildParams, WildProblem};
use swp_stats::design::Covariate;
use swp_stats::effects::welch;
use swp_stats::matching::{MatchData, MatchParams};
use swp_stats::Matrix;

fn sample(n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-100.0f64..100.0, n)
}

/// Values and arms with at least two units in each arm and some spread.
fn two_arms() -> impl Strategy<Value = (Vec<f64>, Vec<bool>)> {
    (4usize..40).prop_flat_map(|n| (sample(n..n + 1), prop::collection::vec(any::<bool>(), n))).prop_filter(
        "two units and spread in each arm",
        |(x, t)| {
            let arm = |a: bool| x.iter().zip(t).filter(|(_, &ti)| ti == a).map(|(v, _)| *v).collect::<Vec<f64>>();
            let spread = |v: &[f64]| v.len() >= 2 && v.iter().any(|&y| (y - v[0]).abs() > 1e-3);
            spread(&arm(true)) && spread(&arm(false))
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// The standardised mean difference does not change when a covariate is rescaled and
    /// shifted (a > 0); its sign flips with a < 0.
    #[test]
    fn smd_is_invariant_under_affine_transforms((x, t) in two_arms(), a in 0.01f64..50.0, b in -1e3f64..1e3) {
        let before = balance_row("x", &x, &t, None, Some(standardiser(&x, &t)));
        let y: Vec<f64> = x.iter().map(|v| a * v + b).collect();
        let after = balance_row("x", &y, &t, None, Some(standardiser(&y, &t)));
        prop_assert!((before.smd - after.smd).abs() <= 1e-8 * before.smd.abs().max(1.0), "{} vs {}", before.smd, after.smd);
        let z: Vec<f64> = x.iter().map(|v| -a * v + b).collect();
        let flipped = balance_row("x", &z, &t, None, Some(standardiser(&z, &t)));
        prop_assert!((before.smd + flipped.smd).abs() <= 1e-8 * before.smd.abs().max(1.0));
    }

    /// Swapping the groups flips the estimate and its interval and keeps the p-value; p is in
    /// [0, 1] and the interval contains the estimate.
    #[test]
    fn welch_flips_under_a_group_swap((x, t) in two_arms()) {
        let a: Vec<f64> = x.iter().zip(&t).filter(|(_, &ti)| ti).map(|(v, _)| *v).collect();
        let b: Vec<f64> = x.iter().zip(&t).filter(|(_, &ti)| !ti).map(|(v, _)| *v).collect();
        let ab = welch(&a, &b).unwrap();
        let ba = welch(&b, &a).unwrap();
        prop_assert!((ab.estimate + ba.estimate).abs() < 1e-9);
        prop_assert!((ab.ci_low + ba.ci_high).abs() < 1e-9 && (ab.ci_high + ba.ci_low).abs() < 1e-9);
        prop_assert!((ab.p_value - ba.p_value).abs() < 1e-12);
        prop_assert!((0.0..=1.0).contains(&ab.p_value));
        prop_assert!(ab.ci_low <= ab.estimate && ab.estimate <= ab.ci_high);
    }

    /// Nearest k:1 matching without replacement (MatchIt's ATT weights): every matched treated
    /// unit has weight 1, the controls' weights are scaled to sum to the number of matched
    /// controls (with k = 1, to the matched treated units), and no control is used twice.
    #[test]
    fn match_weights_sum_as_matchit_defines(
        (x, t) in two_arms(),
        ratio in 1usize..3,
    ) {
        let n_treated = t.iter().filter(|&&v| v).count();
        let n_control = t.len() - n_treated;
        prop_assume!(n_control >= n_treated * ratio);
        let covariates = vec![Covariate::numeric("x", x.clone())];
        let data = MatchData { treat: &t, covariates: &covariates, exact: &[] };
        let Ok(m) = MatchParams::new().ratio(ratio).check().unwrap().run(&data) else {
            // separation and the like are named errors, tested elsewhere
            return Ok(());
        };
        let treated_w: f64 = (0..t.len()).filter(|&i| t[i]).map(|i| m.weights[i]).sum();
        let control_w: f64 = (0..t.len()).filter(|&i| !t[i]).map(|i| m.weights[i]).sum();
        let matched_treated = (0..t.len()).filter(|&i| t[i] && m.weights[i] > 0.0).count();
        prop_assert!((0..t.len()).filter(|&i| t[i] && m.weights[i] > 0.0).all(|i| m.weights[i] == 1.0));
        prop_assert!((treated_w - matched_treated as f64).abs() < 1e-9);
        let matched_controls = (0..t.len()).filter(|&i| !t[i] && m.weights[i] > 0.0).count();
        prop_assert!((control_w - matched_controls as f64).abs() < 1e-9, "{control_w} vs {matched_controls}");
        if ratio == 1 {
            prop_assert_eq!(matched_controls, matched_treated);
        }
        if let Some(matrix) = &m.match_matrix {
            let mut used: Vec<usize> = matrix.iter().flatten().copied().collect();
            let all = used.len();
            used.sort_unstable();
            used.dedup();
            prop_assert_eq!(used.len(), all);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// The wild cluster bootstrap gives the same p-value on one thread and on several, and a
    /// p-value in [0, 1].
    #[test]
    fn the_wild_bootstrap_does_not_depend_on_threads(y in sample(24..25), seed in any::<u64>()) {
        let g: Vec<bool> = (0..24).map(|i| i % 2 == 0).collect();
        let cluster: Vec<usize> = (0..24).map(|i| i / 3).collect();
        let x = Matrix::from_rows(&g.iter().map(|&t| vec![1.0, f64::from(u8::from(t))]).collect::<Vec<_>>());
        let problem = WildProblem::new(&x, &y, None, &cluster, 1).unwrap();
        let params = WildParams { reps: 999, weights: BootWeights::Rademacher, kind: BootType::Wcr, seed }.check().unwrap();
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| problem.test(0.0, &params))
        };
        let (one, many) = (on(1), on(3));
        prop_assert_eq!(one.p_value, many.p_value);
        prop_assert!((0.0..=1.0).contains(&one.p_value));
    }
}
