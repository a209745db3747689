//! Missing values are levels of their own (docs/evaluation.md "Missing values"): a missing CIN
//! code is not abuse or neglect by default but an indicator beside it, counted per arm.
//! The data contract makes `cin` required, so `report` refuses such a dataset; the library
//! route still runs on it, and must not guess.

use std::path::{Path, PathBuf};
use swp_evaluation::config::Config;
use swp_evaluation::Evaluation;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn a_missing_cin_code_is_a_level_of_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_dir(&root().join("data/sample"), &data);
    // every fourth episode loses its CIN code
    let episodes = std::fs::read_to_string(data.join("episodes.csv")).unwrap();
    let mut lines = episodes.lines();
    let header = lines.next().unwrap();
    let cin = header.split(',').position(|c| c == "cin").unwrap();
    let mut out = format!("{header}\n");
    for (i, line) in lines.enumerate() {
        let mut cells: Vec<&str> = line.split(',').collect();
        if i % 4 == 0 {
            cells[cin] = "";
        }
        out += &(cells.join(",") + "\n");
    }
    std::fs::write(data.join("episodes.csv"), out).unwrap();
    let loaded = swp_data::load(&data).unwrap();
    assert!(
        loaded.report.problems.iter().all(|p| p.rule == swp_data::problem::Rule::MissingValue),
        "only the blanked codes"
    );
    let config = Config::from_toml(
        "[inference]\nbootstrap_reps = 99\nrandomisation_assignments = 5\n[placebo]\nenabled = false\n",
    )
    .unwrap();
    let results = Evaluation::new(config).unwrap().run(&loaded.dataset).unwrap();

    // counted per arm, in the cohort and the matched sample
    let rows: Vec<_> = results.missing.iter().filter(|m| m.covariate == "cin_abuse_neglect").collect();
    assert_eq!(rows.len(), 2);
    for m in &rows {
        let (missing, children) = (m.missing.unwrap(), m.children.unwrap());
        assert!(missing > 0 && missing < children, "{m:?}");
        assert!(m.missing_matched.unwrap() <= missing);
    }
    // every other covariate is complete
    assert!(results.missing.iter().filter(|m| m.covariate != "cin_abuse_neglect").all(|m| m.missing == Some(0)));

    // the indicator is a covariate of its own: in the balance table, with the arm's share
    // before matching equal to the count above
    let row = results.balance.balance.iter().find(|r| r.covariate == "cin_not_recorded").expect("the indicator row");
    let treated = rows.iter().find(|m| m.arm == "treated").unwrap();
    let share = treated.missing.unwrap() as f64 / treated.children.unwrap() as f64;
    assert!((row.mean_treated - share).abs() < 1e-12, "{row:?} against {share}");

    // the cohort table writes a missing code as missing, not as the 0 the models see (its
    // number columns follow its text columns)
    let missing_in_table = results
        .cohort
        .numbers
        .iter()
        .zip(results.cohort.columns.iter().skip(results.cohort.text.len()))
        .find(|(_, name)| *name == "cin_abuse_neglect")
        .map(|(v, _)| v.iter().filter(|x| x.is_none()).count())
        .unwrap();
    let cohort_rows: u64 = rows.iter().map(|m| m.missing.unwrap()).sum();
    assert_eq!(missing_in_table as u64, cohort_rows);
}
