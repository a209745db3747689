//! `swp-eval did` against csdid (PyPI's port of R did) on the panels in tests/fixtures/did,
//! made and estimated by tests/reference/did_csdid.py; and its refusals of panels it cannot use.

use super::{root, swp, text};
use serde_json::Value;

fn reference() -> Value {
    let path = root().join("tests/reference/did_csdid.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(what: &str, want: &Value, got: &Value) {
    match (want.as_f64(), got.as_f64()) {
        (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-6 * (1.0 + a.abs()), "{what}: csdid {a}, swp-eval {b}"),
        // the universal base's own cell: 0 by construction, no standard error
        (None | Some(0.0), None) => {}
        _ => panic!("{what}: csdid {want}, swp-eval {got}"),
    }
}

fn did_args(case: &Value) -> Vec<String> {
    let s = |k: &str| case[k].as_str().unwrap().to_string();
    let mut args = vec![
        "did".to_string(),
        "--table".into(),
        root().join("tests/fixtures/did").join(s("panel")).to_string_lossy().to_string(),
        "--unit".into(),
        s("unit"),
        "--time".into(),
        s("time"),
        "--first-treated".into(),
        s("first_treated"),
        "--outcome".into(),
        s("outcome"),
        "--control".into(),
        s("control"),
        "--base".into(),
        s("base"),
        "--anticipation".into(),
        case["anticipation"].to_string(),
        "--format".into(),
        "json".into(),
    ];
    if let Some(c) = case["cluster"].as_str() {
        args.extend(["--cluster".to_string(), c.to_string()]);
    }
    args
}

/// Every ATT(g, t), every aggregate and its standard error, and the pre-trend test equal
/// csdid's (never and not-yet-treated comparisons, varying and universal base, anticipation,
/// clustering, no never-treated unit) to 1e-6.
#[test]
fn did_equals_csdid_on_every_reference_case() {
    let reference = reference();
    for case in reference["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let args = did_args(case);
        let out = swp(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let got: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
        assert_eq!(got["n_units"], case["n_units"], "{name}: units");
        let cells = got["att_gt"].as_array().unwrap();
        let want_cells = case["att_gt"].as_array().unwrap();
        assert_eq!(cells.len(), want_cells.len(), "{name}: cells");
        for want in want_cells {
            let cell = cells
                .iter()
                .find(|c| c["group"] == want["group"] && c["time"] == want["time"])
                .unwrap_or_else(|| panic!("{name}: no cell {} {}", want["group"], want["time"]));
            for k in ["att", "se"] {
                close(&format!("{name} ATT({}, {}) {k}", want["group"], want["time"]), &want[k], &cell[k]);
            }
        }
        let aggregates = got["aggregates"].as_array().unwrap();
        let want_aggregates = case["aggregates"].as_array().unwrap();
        assert_eq!(aggregates.len(), want_aggregates.len(), "{name}: aggregates");
        for want in want_aggregates {
            let row = aggregates
                .iter()
                .find(|r| r["type"] == want["type"] && r["at"] == want["at"])
                .unwrap_or_else(|| panic!("{name}: no aggregate {} {}", want["type"], want["at"]));
            for k in ["att", "se"] {
                close(&format!("{name} {} at {} {k}", want["type"], want["at"]), &want[k], &row[k]);
            }
        }
        let (want, pretrend) = (&case["pretrend"], &got["pretrend"]);
        assert_eq!(want.is_null(), pretrend.is_null(), "{name}: pre-trend test");
        if !want.is_null() {
            assert_eq!(want["df"], pretrend["df"], "{name}: pre-trend df");
            close(&format!("{name} pre-trend W"), &want["statistic"], &pretrend["statistic"]);
            close(&format!("{name} pre-trend p"), &want["p_value"], &pretrend["p_value"]);
        }
    }
}

fn write_panel(dir: &std::path::Path, rows: &[(&str, i64, &str, f64)]) -> String {
    let mut csv = String::from("unit,year,g,y\n");
    for (u, t, g, y) in rows {
        csv.push_str(&format!("{u},{t},{g},{y}\n"));
    }
    let path = dir.join("panel.csv");
    std::fs::write(&path, csv).unwrap();
    path.to_string_lossy().to_string()
}

fn run_panel(path: &str, extra: &[&str]) -> std::process::Output {
    let mut args =
        vec!["did", "--table", path, "--unit", "unit", "--time", "year", "--first-treated", "g", "--outcome", "y"];
    args.extend_from_slice(extra);
    swp(&args)
}

/// An unbalanced panel, a first treated period that changes within a unit, a repeated
/// unit-period and a group with no comparison units are refused with the units named (exit 1).
#[test]
fn did_refuses_panels_it_cannot_use_and_names_the_units() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = vec![
        ("a", 1, "", 1.0),
        ("a", 2, "", 2.0),
        ("a", 3, "", 3.0),
        ("b", 1, "0", 1.0),
        ("b", 2, "0", 2.5),
        ("b", 3, "0", 3.1),
        ("c", 1, "2", 1.0),
        ("c", 2, "2", 3.0),
        ("c", 3, "2", 4.0),
        ("d", 1, "3", 0.0),
        ("d", 2, "3", 1.0),
        ("d", 3, "3", 3.0),
    ];
    let ok = run_panel(&write_panel(dir.path(), &rows), &["--format", "json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));

    let unbalanced = write_panel(dir.path(), &rows[..rows.len() - 1]);
    let out = run_panel(&unbalanced, &[]);
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(message.contains("unbalanced") && message.contains("unit(s) d"), "{message}");

    rows[8].2 = "3";
    let out = run_panel(&write_panel(dir.path(), &rows), &[]);
    assert_eq!(out.status.code(), Some(1));
    let message = text(&out.stderr);
    assert!(message.contains("changes within unit(s) c"), "{message}");
    rows[8].2 = "2";

    let mut twice = rows.clone();
    twice.push(("a", 2, "", 9.0));
    let out = run_panel(&write_panel(dir.path(), &twice), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unit a appears twice in period 2"), "{}", text(&out.stderr));

    // no never-treated unit and one group: nothing to compare it with
    let only_treated: Vec<_> = rows.iter().filter(|r| r.0 == "c").cloned().collect();
    let out = run_panel(&write_panel(dir.path(), &only_treated), &["--control", "not-yet"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("comparison units"), "{}", text(&out.stderr));
    let out = run_panel(&write_panel(dir.path(), &only_treated), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no unit is never treated"), "{}", text(&out.stderr));

    let out = run_panel(&write_panel(dir.path(), &rows), &["--chart", "x.pdf"]);
    assert_eq!(out.status.code(), Some(2), "a chart that is neither .svg nor .png is a usage error");
}

/// --reps adds uniform bands that contain the pointwise intervals, the same bytes for the same
/// seed; --chart draws the event study as a PNG.
#[test]
fn did_bands_are_seeded_and_wider_than_pointwise_and_the_chart_is_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let panel = root().join("tests/fixtures/did/panel_a.csv");
    let chart = dir.path().join("event.png");
    let args = |chart: Option<&str>| {
        let mut a = vec![
            "did".to_string(),
            "--table".into(),
            panel.to_string_lossy().to_string(),
            "--unit".into(),
            "unit".into(),
            "--time".into(),
            "year".into(),
            "--first-treated".into(),
            "first_treated".into(),
            "--outcome".into(),
            "y".into(),
            "--reps".into(),
            "999".into(),
            "--seed".into(),
            "11".into(),
            "--format".into(),
            "json".into(),
        ];
        if let Some(c) = chart {
            a.extend(["--chart".to_string(), c.to_string()]);
        }
        a
    };
    let run = |a: Vec<String>| swp(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let first = run(args(Some(chart.to_str().unwrap())));
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let second = run(args(None));
    assert_eq!(first.stdout, second.stdout, "same seed, same bytes");
    let got: Value = serde_json::from_str(&text(&first.stdout)).unwrap();
    let crit = got["bootstrap"]["critical_value_dynamic"].as_f64().unwrap();
    let events =
        got["aggregates"].as_array().unwrap().iter().filter(|r| r["type"] == "dynamic" && !r["at"].is_null()).count();
    // above the pointwise 1.96, below Bonferroni's bound for that many event times
    let bonferroni = swp_eval::stats::distributions::qnorm(1.0 - 0.025 / events as f64);
    assert!(crit > 1.96 && crit < bonferroni + 0.1, "critical value {crit} (Bonferroni {bonferroni})");
    for r in got["att_gt"].as_array().unwrap().iter().filter(|r| !r["se"].is_null()) {
        let (lo, hi) = (r["uniform_low"].as_f64().unwrap(), r["uniform_high"].as_f64().unwrap());
        assert!(lo < r["att"].as_f64().unwrap() && hi > r["att"].as_f64().unwrap());
    }
    let png = std::fs::read(&chart).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(text(&first.stderr).contains("treated in the first period"), "the dropped units are noted");
}
