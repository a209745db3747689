//! Rosenbaum bounds against scipy 1.17 (tests/reference/sensitivity.py): the signed-rank bound
//! at Gamma = 1 equals scipy.stats.wilcoxon's normal approximation, and at every Gamma the
//! bound computed from Rosenbaum's definition; McNemar's bound equals the binomial tail.

use swp_stats::sensitivity::{rosenbaum_mcnemar, rosenbaum_signed_rank};

fn reference() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/sensitivity.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn rosenbaum_bounds_equal_scipy() {
    let r = reference();
    let d: Vec<f64> = r["d"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let scipy_gamma1 = r["wilcoxon_scipy_gamma1"].as_f64().unwrap();
    assert!((rosenbaum_signed_rank(&d, -1.0, 1.0).unwrap() - scipy_gamma1).abs() < 1e-12);
    for (gamma, p) in r["signed_rank"].as_object().unwrap() {
        let ours = rosenbaum_signed_rank(&d, -1.0, gamma.parse().unwrap()).unwrap();
        assert!((ours - p.as_f64().unwrap()).abs() < 1e-10, "Gamma {gamma}: {ours} vs {p}");
    }
    for (key, p) in r["mcnemar"].as_object().unwrap() {
        let parts: Vec<&str> = key.split(',').collect();
        let ours =
            rosenbaum_mcnemar(parts[0].parse().unwrap(), parts[1].parse().unwrap(), parts[2].parse().unwrap()).unwrap();
        let theirs = p.as_f64().unwrap();
        assert!((ours - theirs).abs() < 1e-10 * theirs.max(1e-300) + 1e-12, "{key}: {ours} vs {theirs}");
    }
    assert!((rosenbaum_mcnemar(40, 35, 1.0).unwrap() - r["binomtest_40_35"].as_f64().unwrap()).abs() < 1e-12);
}
