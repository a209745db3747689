//! The privacy proof (hardening issue): every command run on a dataset whose identifiers are
//! distinctive, every output byte scanned for them; small-number suppression checked in every
//! table format. The outputs that carry identifiers by design (`--cohort-out`, `--matched-out`,
//! `metrics --level child|worker --out`: row-level files the user asks for by name, refused
//! inside a report directory) are the exceptions, and are checked to be the only ones.

use crate::{root, swp, text};
use std::path::{Path, PathBuf};

/// Child ids become `ZQX-C<id>`, worker ids `ZQX-W<id>`: strings no output would hold otherwise
/// (the hyphen keeps base64 images from matching by chance).
fn distinctive(dir: &Path) {
    let o = swp(&["synth", dir.to_str().unwrap(), "--seed", "41", "--scale", "small"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // (file, child column, worker column)
    for (file, child, worker) in [
        ("children.csv", Some(0), None),
        ("episodes.csv", Some(0), None),
        ("allocations.csv", Some(0), Some(1)),
        ("contacts.csv", Some(0), Some(1)),
        ("outcomes.csv", Some(0), None),
        ("workers.csv", None, Some(0)),
        ("absences.csv", None, Some(0)),
    ] {
        let path = dir.join(file);
        let t = std::fs::read_to_string(&path).unwrap();
        let mut out = String::new();
        for (i, line) in t.lines().enumerate() {
            let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
            if i > 0 {
                if let Some(c) = child {
                    cells[c] = format!("ZQX-C{}", cells[c]);
                }
                if let Some(w) = worker {
                    cells[w] = format!("ZQX-W{}", cells[w]);
                }
            }
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        std::fs::write(path, out).unwrap();
    }
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn leaks(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|w| w == b"ZQX-")
}

#[test]
fn no_command_writes_or_prints_an_identifier() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    distinctive(&data);
    let d = data.to_str().unwrap().to_string();
    let o = swp(&["validate", &d]);
    assert_eq!(o.status.code(), Some(0), "the renamed dataset validates: {}", text(&o.stdout));
    let out = work.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let o_ = |name: &str| out.join(name).to_str().unwrap().to_string();
    let config = work.path().join("config.toml");
    std::fs::write(&config, "[inference]\nbootstrap_reps = 99\n[value_for_money]\nenabled = true\n").unwrap();
    let key = work.path().join("key");
    std::fs::write(&key, "a private key for the privacy test only").unwrap();
    let cohort = work.path().join("cohort.csv");
    let c = config.to_str().unwrap().to_string();
    let mut runs: Vec<Vec<String>> = vec![
        vec!["validate".into(), d.clone()],
        vec!["validate".into(), d.clone(), "--format".into(), "json".into(), "--out".into(), o_("validate.json")],
        vec![
            "report".into(),
            d.clone(),
            "--config".into(),
            c.clone(),
            "--out".into(),
            o_("report"),
            "--cohort-out".into(),
            cohort.to_str().unwrap().into(),
        ],
        vec!["match".into(), d.clone(), "--config".into(), c.clone(), "--format".into(), "json".into()],
        vec![
            "anonymise".into(),
            d.clone(),
            o_("anonymised"),
            "--key-file".into(),
            key.to_str().unwrap().into(),
            "--generalise".into(),
        ],
        vec!["metrics".into(), d.clone(), "--level".into(), "monthly".into(), "--out".into(), o_("monthly.csv")],
        vec!["metrics".into(), d.clone(), "--chart".into(), o_("chart.svg")],
    ];
    for by in ["site", "arm", "model", "total"] {
        for format in ["csv", "json", "md", "tex", "html"] {
            runs.push(vec!["metrics".into(), d.clone(), "--by".into(), by.into(), "--format".into(), format.into()]);
        }
    }
    let mut said = Vec::new();
    for args in &runs {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = swp(&a);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{a:?}: {}", text(&o.stderr));
        said.push((a.join(" "), o.stdout, o.stderr));
    }
    // the user's own tables: the cohort (with ids) through match --table and effect --table
    let cf = cohort.to_str().unwrap();
    for args in [
        vec![
            "match",
            "--table",
            cf,
            "--treatment",
            "treated",
            "--covariates",
            "age,sex,years_in_care",
            "--format",
            "json",
        ],
        vec![
            "effect",
            "--table",
            cf,
            "--group",
            "treated",
            "--outcome",
            "sw_changes",
            "--cluster",
            "site_id",
            "--reps",
            "99",
        ],
        vec!["effect", "--table", cf, "--group", "treated", "--outcome", "placement_moves", "--format", "json"],
    ] {
        let o = swp(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
        said.push((args.join(" "), o.stdout, o.stderr));
    }
    for (command, stdout, stderr) in &said {
        assert!(!leaks(stdout) && !leaks(stderr), "`{command}` printed an identifier");
    }
    let written = files(&out);
    assert!(written.len() > 100, "{} files", written.len());
    for f in &written {
        assert!(!leaks(&std::fs::read(f).unwrap()), "{} holds an identifier", f.display());
    }
    // the row-level files asked for by name do hold them (so the scan would see a leak)
    assert!(leaks(&std::fs::read(&cohort).unwrap()));
    let child = work.path().join("children.csv");
    let o = swp(&["metrics", &d, "--level", "child", "--out", child.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(leaks(&std::fs::read(&child).unwrap()));
    let _ = root();
}

/// A count of 1 to 4 is printed `c` in every text format and null in JSON (with the row's
/// `suppressed` flag): the same rows in every format.
#[test]
fn small_numbers_are_suppressed_in_every_format() {
    let sample = root().join("data/sample");
    let s = sample.to_str().unwrap();
    let args = ["metrics", s, "--by", "site", "--period", "2011-04-01:2012-03-31"];
    let json = swp(&[&args[..], &["--format", "json"]].concat());
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let hidden: Vec<(String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressed").is_some_and(|v| v == true))
        .map(|r| (r["group"].as_str().unwrap().to_string(), r["metric"].as_str().unwrap().to_string()))
        .collect();
    assert!(hidden.len() > 5, "the sample has small counts to hide");
    for r in rows.as_array().unwrap().iter().filter(|r| r.get("suppressed").is_some_and(|v| v == true)) {
        assert!(r["value"].is_null() && r["numerator"].is_null(), "{r}");
    }
    for format in ["csv", "md", "tex", "html"] {
        let o = swp(&[&args[..], &["--format", format]].concat());
        let t = text(&o.stdout);
        for (group, metric) in &hidden {
            let line = t
                .lines()
                .find(|l| {
                    l.contains(group.as_str())
                        && l.contains(metric.replace('_', if format == "tex" { "\\_" } else { "_" }).as_str())
                })
                .unwrap_or_else(|| panic!("{format}: no row {group} {metric}"));
            assert!(
                line.split([',', '|', '&', '<', '>']).any(|cell| cell.trim() == "c"),
                "{format}: {group} {metric} not suppressed: {line}"
            );
        }
    }
}
