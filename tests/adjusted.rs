//! `swp-eval effect --covariates` (Lin 2013) against R (lm with centred covariates and their
//! interactions; sandwich HC2, clubSandwich CR2) on LaLonde's data: tests/reference/effect_covariates.R.

use super::{root, swp, text};
use serde_json::Value;

/// `effect` on LaLonde's re78 by treat with `extra` flags, as JSON (exit 0 checked).
fn effect(extra: &[&str]) -> Value {
    let table = root().join("tests/fixtures/lalonde/lalonde.csv");
    let mut args = vec!["effect", "--table", table.to_str().unwrap(), "--group", "treat", "--outcome", "re78"];
    args.extend_from_slice(&["--format", "json"]);
    args.extend_from_slice(extra);
    let out = swp(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_str(&text(&out.stdout)).unwrap()
}

/// `effect --covariates` with the seven LaLonde covariates (999 wild reps) and `extra` flags.
fn run(extra: &[&str]) -> Value {
    let mut args = vec!["--covariates", "age,educ,race,married,nodegree,re74,re75", "--reps", "999"];
    args.extend_from_slice(extra);
    effect(&args)
}

/// The adjusted difference, its HC2 or CR2 error, df, p and interval equal R's to 1e-6
/// (relative), with and without weights; the wild bootstrap runs on the adjusted model.
#[test]
fn effect_covariates_equals_r_lin_regression() {
    let path = root().join("tests/reference/effect_covariates.json");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (case, extra, method) in [
        ("hc2", vec![], "hc2"),
        ("hc2_weighted", vec!["--weights", "w"], "hc2"),
        ("cr2", vec!["--cluster", "cl"], "cr2"),
        ("cr2_weighted", vec!["--weights", "w", "--cluster", "cl"], "cr2"),
    ] {
        let got = run(&extra);
        let want = &reference[case];
        assert_eq!(got["adjusted"], true, "{case}");
        assert_eq!(got["se_method"], method, "{case}");
        for (ours, theirs) in [
            ("difference", "estimate"),
            ("se", "se"),
            ("df", "df"),
            ("p_value", "p_value"),
            ("ci_low", "ci_low"),
            ("ci_high", "ci_high"),
        ] {
            let (a, b) = (got[ours].as_f64().unwrap(), want[theirs].as_f64().unwrap());
            assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{case} {ours}: swp-eval {a}, R {b}");
        }
        if method == "cr2" {
            let (p, low, high) = (
                got["wild_p_value"].as_f64().unwrap(),
                got["wild_ci_low"].as_f64().unwrap(),
                got["wild_ci_high"].as_f64().unwrap(),
            );
            assert!(
                p > 0.0
                    && p < 1.0
                    && low < got["difference"].as_f64().unwrap()
                    && high > got["difference"].as_f64().unwrap()
            );
            assert!(got["se_cr1"].is_null(), "CR1 of the unadjusted model is not shown beside the adjusted one");
            if case == "cr2" {
                // the same WCR test as Python wildboottest's on the adjusted model
                // (tests/reference/effect_covariates_wild.py, 99,999 draws), within Monte Carlo error
                let path = root().join("tests/reference/effect_covariates_wild.json");
                let wild: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
                let theirs = wild["p_value"].as_f64().unwrap();
                let se = (theirs * (1.0 - theirs) * (1.0 / 9_999.0 + 1.0 / 99_999.0)).sqrt();
                assert!(
                    (p - theirs).abs() <= 3.0 * se,
                    "wild p {p} against wildboottest's {theirs} (3 SE {})",
                    3.0 * se
                );
                let estimate = wild["estimate"].as_f64().unwrap();
                assert!((got["difference"].as_f64().unwrap() - estimate).abs() <= 1e-6 * estimate.abs());
            }
        }
    }
    // without --covariates the difference is the raw one, and says so
    let raw = effect(&[]);
    assert_eq!(raw["adjusted"], false);
    let want = reference["raw_difference"].as_f64().unwrap();
    assert!((raw["difference"].as_f64().unwrap() - want).abs() < 1e-6, "R: {want}");
}

/// A covariate that is not a column is a usage error naming it; one that is constant among the
/// rows is a data error.
#[test]
fn effect_covariates_refuses_unknown_and_constant_columns() {
    let table = root().join("tests/fixtures/lalonde/lalonde.csv");
    let t = table.to_str().unwrap();
    let out = swp(&["effect", "--table", t, "--group", "treat", "--outcome", "re78", "--covariates", "age,nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no column `nope`"), "{}", text(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, "g,y,k\n1,1,5\n1,2,5\n1,3,5\n0,1,5\n0,0,5\n0,2,5\n").unwrap();
    let out = swp(&["effect", "--table", csv.to_str().unwrap(), "--group", "g", "--outcome", "y", "--covariates", "k"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("--covariates k"), "{}", text(&out.stderr));
}

/// `weight` (ps and entropy) equals statsmodels' Logit and empirical_calibration's entropy
/// balancing on LaLonde's data to 1e-6 (tests/reference/weight_reference.py), weight by weight,
/// with the effective sample sizes; entropy balancing leaves no weighted mean difference.
#[test]
fn weight_equals_the_python_references_and_entropy_balances_exactly() {
    let path = root().join("tests/reference/weight_reference.json");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let table = root().join("tests/fixtures/lalonde/lalonde.csv");
    let dir = tempfile::tempdir().unwrap();
    let weight = |covariates: &str, extra: &[&str]| {
        let mut args = vec!["weight", "--table", table.to_str().unwrap(), "--treatment", "treat"];
        args.extend(["--covariates", covariates]);
        args.extend_from_slice(extra);
        swp(&args)
    };
    // the Markdown table says what weighting did, not what a matching would have
    let md = text(&weight("age,educ,race", &["--format", "md"]).stdout);
    assert!(md.contains("effective sample size") && md.contains("after weighting") && !md.contains("matched"), "{md}");
    for method in ["ps", "entropy"] {
        let out_csv = dir.path().join(format!("{method}.csv"));
        let out = weight(
            "age,educ,race,married,nodegree,re74,re75",
            &["--method", method, "--weights-out", out_csv.to_str().unwrap(), "--format", "json"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let got: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
        let want = &reference[method];
        let written = std::fs::read_to_string(&out_csv).unwrap();
        let mut lines = written.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = header.iter().position(|h| *h == "weights").unwrap();
        let weights: Vec<f64> = lines.map(|l| l.split(',').nth(at).unwrap().parse().unwrap()).collect();
        let expected = want["weights"].as_array().unwrap();
        assert_eq!(weights.len(), expected.len());
        for (i, (a, b)) in weights.iter().zip(expected).enumerate() {
            let b = b.as_f64().unwrap();
            assert!((a - b).abs() <= 1e-6 * b.abs().max(1e-3), "{method} row {i}: {a} vs {b}");
        }
        for k in ["ess_treated", "ess_control"] {
            let (a, b) = (got["n"][k].as_f64().unwrap(), want[k].as_f64().unwrap());
            assert!((a - b).abs() <= 1e-6 * b, "{method} {k}: {a} vs {b}");
        }
        if method == "entropy" {
            for row in got["balance"].as_array().unwrap() {
                assert!(row["smd_after"].as_f64().unwrap().abs() < 1e-8, "{row}");
            }
        }
    }
}

/// A treated mean that no control weights can reach is refused naming the covariate.
#[test]
fn entropy_balancing_without_a_solution_names_the_covariate() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, "t,x,z\n1,9,1\n1,8,2\n0,1,1\n0,2,3\n0,3,2\n").unwrap();
    let out = swp(&[
        "weight",
        "--table",
        csv.to_str().unwrap(),
        "--treatment",
        "t",
        "--covariates",
        "z,x",
        "--method",
        "entropy",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(message.contains("treated mean of `x`") && message.contains("no solution"), "{message}");
}
