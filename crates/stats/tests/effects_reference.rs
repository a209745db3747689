//! Agreement with R for the effect estimates (reference values from
//! `reference/effects.R`: t.test, effectsize, glm, sandwich, clubSandwich, survival, p.adjust;
//! `reference/wildboot.py`: wildboottest). CI does not need R or Python.

use serde_json::Value;
use std::path::PathBuf;
use swp_stats::regression::{wls, Hc};
use swp_stats::Matrix;

const TOL: f64 = swp_stats::tolerance::REFERENCE;

fn reference(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference").join(name)
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(reference(name)).unwrap()).unwrap()
}

/// Numeric columns of a reference CSV by header.
fn columns(name: &str) -> std::collections::HashMap<String, Vec<f64>> {
    let text = std::fs::read_to_string(reference(name)).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); header.len()];
    for line in lines {
        for (c, v) in cols.iter_mut().zip(line.split(',')) {
            c.push(v.parse().unwrap());
        }
    }
    header.into_iter().zip(cols).collect()
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(swp_stats::tolerance::close(a, b, tol), "{what}: {a} vs R {b}");
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn design(cols: &[&[f64]]) -> Matrix {
    let n = cols[0].len();
    Matrix::from_rows(
        &(0..n).map(|i| std::iter::once(1.0).chain(cols.iter().map(|c| c[i])).collect()).collect::<Vec<_>>(),
    )
}

#[test]
fn robust_and_cluster_robust_errors_agree_with_sandwich_and_clubsandwich() {
    let data = columns("effects.csv");
    let r = json("effects.json");
    let cluster: Vec<usize> = data["cluster"].iter().map(|&c| c as usize).collect();
    let x = design(&[&data["group"]]);
    for (key, weights) in [("cluster_unweighted", None), ("cluster_weighted", Some(data["w"].as_slice()))] {
        let r = &r[key];
        let fit = wls(&x, &data["y"], weights).unwrap();
        for (j, b) in numbers(&r["coef"]).iter().enumerate() {
            close(fit.coef[j], *b, 1e-9, &format!("{key} coef {j}"));
        }
        let k = fit.k();
        let se = |v: &[f64], j: usize| v[j * k + j].sqrt();
        for (kind, name) in [(Hc::Hc0, "se_hc0"), (Hc::Hc1, "se_hc1"), (Hc::Hc2, "vcov_hc2"), (Hc::Hc3, "se_hc3")] {
            let v = fit.vcov_hc(kind);
            for (j, s) in numbers(&r[name]).iter().enumerate() {
                close(se(&v, j), *s, TOL, &format!("{key} {name} {j}"));
            }
        }
        let cr1 = fit.vcov_cr1(&cluster).unwrap();
        let cr2 = fit.cr2(&cluster).unwrap();
        for j in 0..k {
            close(se(&cr1, j), numbers(&r["se_cr1"])[j], TOL, &format!("{key} CR1 {j}"));
            close(se(&cr2.vcov, j), numbers(&r["se_cr2"])[j], TOL, &format!("{key} CR2 {j}"));
            close(cr2.df[j], numbers(&r["df_bm"])[j], TOL, &format!("{key} df {j}"));
            let inf = fit.cr2_inference(&cluster, j).unwrap();
            close(inf.p_value, numbers(&r["p_cr2"])[j], TOL, &format!("{key} p {j}"));
        }
    }
}

#[test]
fn difference_in_differences_with_cr2_agrees_with_clubsandwich() {
    let data = columns("did.csv");
    let r = json("did.json");
    let interaction: Vec<f64> = data["pilot"].iter().zip(&data["post"]).map(|(a, b)| a * b).collect();
    let x = design(&[&data["pilot"], &data["post"], &interaction]);
    let fit = wls(&x, &data["y"], None).unwrap();
    let site: Vec<usize> = data["site"].iter().map(|&s| s as usize).collect();
    let cr1 = fit.vcov_cr1(&site).unwrap();
    let cr2 = fit.cr2(&site).unwrap();
    for j in 0..4 {
        close(fit.coef[j], numbers(&r["coef"])[j], 1e-9, &format!("coef {j}"));
        close(cr1[j * 4 + j].sqrt(), numbers(&r["se_cr1"])[j], TOL, &format!("CR1 {j}"));
        close(cr2.vcov[j * 4 + j].sqrt(), numbers(&r["se_cr2"])[j], TOL, &format!("CR2 {j}"));
        close(cr2.df[j], numbers(&r["df_bm"])[j], TOL, &format!("df {j}"));
        close(fit.cr2_inference(&site, j).unwrap().p_value, numbers(&r["p_cr2"])[j], TOL, &format!("p {j}"));
    }
}

fn split(values: &[f64], group: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let t = values.iter().zip(group).filter(|(_, &g)| g == 1.0).map(|(v, _)| *v).collect();
    let c = values.iter().zip(group).filter(|(_, &g)| g == 0.0).map(|(v, _)| *v).collect();
    (t, c)
}

#[test]
fn noncentral_t_agrees_with_r_pt() {
    let r = &json("effects.json")["pt_values"];
    for k in 0..4 {
        let p =
            swp_stats::distributions::pt_noncentral(numbers(&r["q"])[k], numbers(&r["df"])[k], numbers(&r["ncp"])[k]);
        close(p, numbers(&r["p"])[k], 1e-9, &format!("pt {k}"));
    }
}

#[test]
fn effect_sizes_agree_with_t_test_effectsize_glm_and_wilcox() {
    use swp_stats::effects::{cliffs_delta, rate_ratio, risks, standardised, welch};
    let data = columns("effects.csv");
    let r = json("effects.json");
    let group = &data["group"];
    let (t, c) = split(&data["y"], group);
    let w = welch(&t, &c).unwrap();
    close(w.estimate, r["welch"]["difference"].as_f64().unwrap(), 1e-9, "welch difference");
    close(w.se, r["welch"]["se"].as_f64().unwrap(), TOL, "welch se");
    close(w.df, r["welch"]["df"].as_f64().unwrap(), TOL, "welch df");
    close(w.ci_low, numbers(&r["welch"]["ci"])[0], TOL, "welch ci low");
    close(w.ci_high, numbers(&r["welch"]["ci"])[1], TOL, "welch ci high");
    close(w.p_value, r["welch"]["p"].as_f64().unwrap(), 1e-9, "welch p");

    let s = standardised(&t, &c).unwrap();
    close(s.hedges_g, r["hedges_g"]["g"].as_f64().unwrap(), 1e-9, "hedges g");
    close(s.cohens_d, r["cohens_d"]["d"].as_f64().unwrap(), 1e-9, "cohens d");
    // effectsize's optimiser bounds (1e-6) and the exact roots (1e-9)
    close(s.hedges_g_ci.0, numbers(&r["hedges_g"]["ci"])[0], TOL, "g ci low");
    close(s.hedges_g_ci.1, numbers(&r["hedges_g"]["ci"])[1], TOL, "g ci high");
    close(s.cohens_d_ci.0, numbers(&r["cohens_d"]["ci"])[0], TOL, "d ci low");
    close(s.cohens_d_ci.1, numbers(&r["cohens_d"]["ci"])[1], TOL, "d ci high");
    close(s.hedges_g_ci.0, numbers(&r["hedges_g_exact_ci"])[0], 1e-9, "g exact ci low");
    close(s.hedges_g_ci.1, numbers(&r["hedges_g_exact_ci"])[1], 1e-9, "g exact ci high");

    let (bt, bc) = split(&data["yb"], group);
    let k = risks(&bt, &bc).unwrap();
    for (name, e) in
        [("risk_difference", k.risk_difference), ("risk_ratio", k.risk_ratio), ("odds_ratio", k.odds_ratio)]
    {
        // the 2x2 formulas exactly; R's saturated GLMs to their convergence criterion
        let t = &r["table_2x2"][name];
        close(e.estimate, t["estimate"].as_f64().unwrap(), 1e-12, name);
        close(e.ci_low, numbers(&t["ci"])[0], 1e-9, name);
        close(e.ci_high, numbers(&t["ci"])[1], 1e-9, name);
        close(e.estimate, r[name]["estimate"].as_f64().unwrap(), 1e-4, name);
        close(e.ci_low, numbers(&r[name]["ci"])[0], 1e-4, name);
        close(e.ci_high, numbers(&r[name]["ci"])[1], 1e-4, name);
    }
    // with match weights: R's saturated weighted GLMs with HC0 errors (1e-4: the GLMs stop at
    // their convergence criterion)
    let (wt, wc) = split(&data["w"], group);
    let kw = swp_stats::effects::risks_weighted(&bt, &wt, &bc, &wc).unwrap();
    for (name, e) in
        [("risk_difference", kw.risk_difference), ("risk_ratio", kw.risk_ratio), ("odds_ratio", kw.odds_ratio)]
    {
        let t = &r["weighted"][name];
        close(e.estimate, t["estimate"].as_f64().unwrap(), 1e-4, name);
        close(e.ci_low, numbers(&t["ci"])[0], 1e-4, name);
        close(e.ci_high, numbers(&t["ci"])[1], 1e-4, name);
    }
    let treated: Vec<bool> = group.iter().map(|&g| g == 1.0).collect();
    let (rr, se) = rate_ratio(&data["count"], &data["exposure"], &treated).unwrap();
    close(rr.estimate, r["rate_ratio"]["estimate"].as_f64().unwrap(), TOL, "rate ratio");
    close(se, r["rate_ratio"]["se_log"].as_f64().unwrap(), TOL, "rate ratio se");
    close(rr.ci_low, numbers(&r["rate_ratio"]["ci"])[0], TOL, "rate ratio ci");
    close(rr.ci_high, numbers(&r["rate_ratio"]["ci"])[1], TOL, "rate ratio ci");

    let (rw, sew) =
        swp_stats::effects::rate_ratio_weighted(&data["count"], &data["exposure"], &treated, Some(&data["w"])).unwrap();
    close(rw.estimate, r["rate_ratio_weighted"]["estimate"].as_f64().unwrap(), TOL, "weighted rate ratio");
    close(sew, r["rate_ratio_weighted"]["se_log"].as_f64().unwrap(), TOL, "weighted rate ratio se");
    close(rw.ci_low, numbers(&r["rate_ratio_weighted"]["ci"])[0], TOL, "weighted rate ratio ci");

    let (ot, oc) = split(&data["ord"], group);
    let o = cliffs_delta(&ot, &oc).unwrap();
    close(o.cliffs_delta.estimate, r["cliffs_delta"]["delta"].as_f64().unwrap(), 1e-12, "cliff");
    close(o.cliffs_delta.ci_low, numbers(&r["cliffs_delta"]["ci"])[0], TOL, "cliff ci");
    close(o.cliffs_delta.ci_high, numbers(&r["cliffs_delta"]["ci"])[1], TOL, "cliff ci");
    close(o.mann_whitney_w, r["cliffs_delta"]["mann_whitney_w"].as_f64().unwrap(), 1e-12, "W");
    close(o.p_value, r["cliffs_delta"]["p"].as_f64().unwrap(), 1e-9, "wilcox p");

    // with unit weights the weighted difference is Welch's
    let ones = vec![1.0; group.len()];
    let wd = swp_stats::effects::weighted_difference(&data["y"], &treated, &ones).unwrap();
    close(wd.se, w.se, 1e-9, "HC2 = Welch se");
    close(wd.df, w.df, 1e-9, "weighted df = Welch df");
}

#[test]
fn p_adjust_agrees_with_r() {
    use swp_stats::multiplicity::{adjust, Adjustment};
    let r = json("padjust.json");
    let p = numbers(&r["p"]);
    for (name, method) in [
        ("holm", Adjustment::Holm),
        ("hochberg", Adjustment::Hochberg),
        ("BH", Adjustment::BenjaminiHochberg),
        ("BY", Adjustment::BenjaminiYekutieli),
    ] {
        for (a, b) in adjust(&p, method).iter().zip(numbers(&r[name])) {
            close(*a, b, 1e-12, name);
        }
    }
}

#[test]
fn kaplan_meier_log_rank_and_cox_agree_with_survival() {
    use swp_stats::survival::{cox, kaplan_meier, log_rank};
    let data = columns("survival.csv");
    let r = json("survival.json");
    let event: Vec<bool> = data["event"].iter().map(|&e| e == 1.0).collect();
    let treated: Vec<bool> = data["group"].iter().map(|&g| g == 1.0).collect();
    let (t1, e1): (Vec<f64>, Vec<bool>) =
        data["time"].iter().zip(&event).zip(&treated).filter(|(_, &t)| t).map(|((&t, &e), _)| (t, e)).unzip();
    let km = kaplan_meier(&t1, &e1).unwrap();
    let rk = &r["km_group1"];
    assert_eq!(km.time, numbers(&rk["time"]));
    assert_eq!(km.n_risk, numbers(&rk["n_risk"]));
    assert_eq!(km.n_event, numbers(&rk["n_event"]));
    for (i, s) in numbers(&rk["surv"]).iter().enumerate() {
        close(km.survival[i], *s, 1e-12, "survival");
        close(km.std_err[i], rk["std_err"][i].as_f64().unwrap_or(f64::NAN), 1e-9, "std err");
        if let Some(l) = rk["lower"][i].as_f64() {
            close(km.lower[i].unwrap(), l, 1e-9, "lower");
            close(km.upper[i].unwrap(), rk["upper"][i].as_f64().unwrap(), 1e-9, "upper");
        }
    }
    let lr = log_rank(&data["time"], &event, &treated).unwrap();
    close(lr.chi_square, r["logrank"]["chisq"].as_f64().unwrap(), 1e-9, "log-rank chisq");
    close(lr.p_value, r["logrank"]["p"].as_f64().unwrap(), 1e-9, "log-rank p");
    close(lr.observed.1, numbers(&r["logrank"]["observed"])[1], 1e-12, "observed");
    close(lr.expected.1, numbers(&r["logrank"]["expected"])[1], 1e-9, "expected");
    let c = cox(&data["time"], &event, &treated).unwrap();
    let rc = &r["cox"];
    close(c.coef, rc["coef"].as_f64().unwrap(), TOL, "cox coef");
    close(c.se, rc["se"].as_f64().unwrap(), TOL, "cox se");
    close(c.hazard_ratio, rc["hr"].as_f64().unwrap(), TOL, "hr");
    close(c.ci.0, numbers(&rc["ci"])[0], TOL, "hr ci");
    close(c.ci.1, numbers(&rc["ci"])[1], TOL, "hr ci");
    close(c.p_value, rc["p"].as_f64().unwrap(), TOL, "cox p");
    close(c.loglik.0, numbers(&rc["loglik"])[0], 1e-9, "loglik 0");
    close(c.loglik.1, numbers(&rc["loglik"])[1], 1e-9, "loglik");
}

/// The wild cluster bootstrap of the difference-in-differences coefficient against Python
/// wildboottest: Rademacher draws of 10 clusters are all enumerated (1,024 <= 9,999), so those
/// p-values must be equal; Webb draws are random, so within Monte Carlo error (3 SE).
#[test]
fn wild_cluster_bootstrap_agrees_with_wildboottest() {
    use swp_stats::bootstrap::{BootType, BootWeights, WildParams, WildProblem};
    let data = columns("did.csv");
    let r = json("wildboot.json");
    let interaction: Vec<f64> = data["pilot"].iter().zip(&data["post"]).map(|(a, b)| a * b).collect();
    let x = design(&[&data["pilot"], &data["post"], &interaction]);
    let site: Vec<usize> = data["site"].iter().map(|&s| s as usize).collect();
    let problem = WildProblem::new(&x, &data["y"], None, &site, 3).unwrap();
    for (key, weights, kind) in [
        ("rademacher_wcr", BootWeights::Rademacher, BootType::Wcr),
        ("rademacher_wcu", BootWeights::Rademacher, BootType::Wcu),
        ("webb_wcr", BootWeights::Webb, BootType::Wcr),
        ("webb_wcu", BootWeights::Webb, BootType::Wcu),
    ] {
        let params = WildParams { reps: 9999, weights, kind, seed: 7 }.check().unwrap();
        let ours = problem.test(0.0, &params);
        let reference = &r[key];
        close(ours.t, reference["t"].as_f64().unwrap(), 1e-9, &format!("{key} t"));
        let p = reference["p"].as_f64().unwrap();
        if weights == BootWeights::Rademacher {
            assert!(ours.enumerated && ours.reps == 1024);
            close(ours.p_value, p, 1e-12, &format!("{key} p"));
        } else {
            assert!(!ours.enumerated && ours.reps == 9999);
            let mc = 3.0 * (p * (1.0 - p) / 9999.0).sqrt() * 2f64.sqrt();
            assert!((ours.p_value - p).abs() <= mc, "{key}: p {} vs wildboottest {p} (3 SE {mc})", ours.p_value);
        }
    }
    // the same result whatever the number of threads
    let params = WildParams { seed: 11, ..WildParams::default() }.check().unwrap();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| problem.test(0.0, &params));
    let many = problem.test(0.0, &params);
    assert_eq!(one, many);
    // the interval by test inversion holds the estimate and excludes 0 (p < 0.05 at 0)
    let (lo, hi) = problem.confidence_interval(&params);
    assert!(lo < problem.estimate() && problem.estimate() < hi && hi < 0.0, "({lo}, {hi})");
    assert!(problem.test(lo, &params).p_value >= 0.049 && problem.test(lo - 0.05, &params).p_value < 0.05);
    // each bound is where the bootstrap test (computed replicate by replicate) crosses 0.05:
    // p >= 0.05 just inside it, below 0.05 just outside (a step of 1e-5 of the width)
    let step = 1e-5 * (hi - lo);
    for (inside, outside) in [(lo + step, lo - step), (hi - step, hi + step)] {
        let (p_in, p_out) = (problem.test(inside, &params).p_value, problem.test(outside, &params).p_value);
        assert!(p_in >= 0.05 && p_out < 0.05, "p {p_in} inside and {p_out} outside ({lo}, {hi})");
    }
}

#[test]
fn randomisation_inference_agrees_with_a_pandas_enumeration() {
    let data = columns("did.csv");
    let r = &json("wildboot.json")["randomisation"];
    let site: Vec<usize> = data["site"].iter().map(|&s| s as usize).collect();
    let post: Vec<bool> = data["post"].iter().map(|&p| p == 1.0).collect();
    let pilots: Vec<usize> = site
        .iter()
        .zip(&data["pilot"])
        .filter(|(_, &p)| p == 1.0)
        .map(|(&s, _)| s)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let ri = swp_stats::bootstrap::randomisation_did(&site, &post, &data["y"], &pilots, 9999, 1).unwrap();
    assert!(ri.enumerated);
    assert_eq!(ri.assignments as u64, r["assignments"].as_u64().unwrap());
    close(ri.estimate, r["estimate"].as_f64().unwrap(), 1e-9, "RI estimate");
    close(ri.p_value, r["p"].as_f64().unwrap(), 1e-12, "RI p");
}

/// The noncentral t CDF on a grid of 210 (t, df, ncp) against R 4.2.2 `pt(q, df, ncp)`
/// (tests/reference/pnt.R).
#[test]
fn noncentral_t_agrees_with_r_pt_on_a_grid() {
    let grid = json("pnt.json");
    for row in grid.as_array().unwrap() {
        let (q, df, ncp, p) = (
            row["q"].as_f64().unwrap(),
            row["df"].as_f64().unwrap(),
            row["ncp"].as_f64().unwrap(),
            row["p"].as_f64().unwrap(),
        );
        let ours = swp_stats::distributions::pt_noncentral(q, df, ncp);
        assert!((ours - p).abs() < 1e-9, "pt({q}, {df}, {ncp}) = {ours}, R {p}");
    }
}
