//! Writing a [`Synthetic`] dataset as the contract's CSV tables and `dataset.toml`. Each file is
//! written to a temporary name and renamed, so an interrupted run leaves no half-written table.

use crate::{SynthError, Synthetic, EFFECTS};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::Path;
use swp_data::date::format_date;

fn opt_date(d: Option<i32>) -> String {
    d.map(format_date).unwrap_or_default()
}

fn worker_id(w: u32) -> String {
    format!("W{:06}", w + 1)
}

/// A table's CSV text.
type Rendered = (&'static str, String);

fn render(data: &Synthetic) -> Vec<Rendered> {
    let jobs: Vec<&str> =
        ["sites", "children", "episodes", "workers", "allocations", "absences", "contacts", "outcomes", "costs"]
            .into_iter()
            .filter(|t| match *t {
                "contacts" => !data.contacts.is_empty(),
                "outcomes" => !data.outcomes.is_empty(),
                "costs" => !data.costs.is_empty(),
                _ => true,
            })
            .collect();
    jobs.par_iter()
        .map(|&table| {
            let mut s = String::new();
            let child = |c: u32| data.children[c as usize].child_id.as_str();
            match table {
                "sites" => {
                    s.push_str("site_id,name,arm,swp_model,go_live,x_deprivation,x_cla_rate,x_urban\n");
                    for x in &data.sites {
                        let _ = writeln!(
                            s,
                            "{},{},{},{},{},{},{},{}",
                            x.site_id,
                            x.name,
                            x.arm,
                            x.swp_model,
                            opt_date(x.go_live),
                            x.x_deprivation,
                            x.x_cla_rate,
                            x.x_urban
                        );
                    }
                }
                "children" => {
                    s.push_str("child_id,site_id,sex,dob,ethnic,transfer_date\n");
                    for c in &data.children {
                        let _ = writeln!(
                            s,
                            "{},{},{},{},{},{}",
                            c.child_id,
                            data.sites[c.site as usize].site_id,
                            c.sex,
                            format_date(c.dob),
                            c.ethnic,
                            opt_date(c.transfer_date)
                        );
                    }
                }
                "episodes" => {
                    s.push_str("child_id,decom,rne,ls,cin,place,place_provider,dec,rec,reason_place_change\n");
                    for e in &data.episodes {
                        let _ = writeln!(
                            s,
                            "{},{},{},{},{},{},{},{},{},{}",
                            child(e.child),
                            format_date(e.decom),
                            e.rne,
                            e.ls,
                            e.cin,
                            e.place,
                            e.provider,
                            opt_date(e.dec),
                            e.rec.unwrap_or(""),
                            e.reason.unwrap_or("")
                        );
                    }
                }
                "workers" => {
                    s.push_str("worker_id,site_id,role,fte,agency,start_date,end_date\n");
                    for w in &data.spells {
                        let _ = writeln!(
                            s,
                            "{},{},{},{},{},{},{}",
                            worker_id(w.worker),
                            data.sites[w.site as usize].site_id,
                            w.role,
                            w.fte,
                            w.agency,
                            format_date(w.start),
                            opt_date(w.end)
                        );
                    }
                }
                "allocations" => {
                    s.push_str("child_id,worker_id,start_date,end_date\n");
                    for a in &data.allocations {
                        let _ = writeln!(
                            s,
                            "{},{},{},{}",
                            child(a.child),
                            worker_id(a.worker),
                            format_date(a.start),
                            opt_date(a.end)
                        );
                    }
                }
                "absences" => {
                    s.push_str("worker_id,start_date,end_date,kind\n");
                    for a in &data.absences {
                        let _ = writeln!(
                            s,
                            "{},{},{},{}",
                            worker_id(a.worker),
                            format_date(a.start),
                            format_date(a.end),
                            a.kind
                        );
                    }
                }
                "contacts" => {
                    s.push_str("child_id,worker_id,date,kind,minutes\n");
                    for c in &data.contacts {
                        let _ = writeln!(
                            s,
                            "{},{},{},{},{}",
                            child(c.child),
                            worker_id(c.worker),
                            format_date(c.date),
                            c.kind,
                            c.minutes
                        );
                    }
                }
                "costs" => {
                    s.push_str("site_id,financial_year,category,amount\n");
                    for c in &data.costs {
                        let _ = writeln!(
                            s,
                            "{},{}-{:02},{},{}",
                            data.sites[c.site as usize].site_id,
                            c.year,
                            (c.year + 1) % 100,
                            c.category,
                            c.amount
                        );
                    }
                }
                _ => {
                    s.push_str("child_id,wave,measure,value\n");
                    for o in &data.outcomes {
                        let _ = writeln!(s, "{},{},{},{}", child(o.child), o.wave, o.measure, o.value);
                    }
                }
            }
            (table, s)
        })
        .collect()
}

/// The `dataset.toml` text: name, extract date, and under `[synth]` the seed, scale and true
/// effects, so tests can check that estimators recover them.
pub fn manifest(data: &Synthetic) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "name = \"synthetic {} (seed {})\"", data.scale.name(), data.seed);
    let _ = writeln!(s, "extract_date = \"{}\"", format_date(data.extract_date));
    let _ = writeln!(
        s,
        "notes = \"Generated by swp-eval synth; not real children. True pilot effects are under [synth.effects].\""
    );
    let _ = writeln!(
        s,
        "\n[synth]\nseed = {}\nscale = \"{}\"\nwindow_start = \"{}\"",
        data.seed,
        data.scale.name(),
        format_date(data.window_start)
    );
    // what each table covers by design (docs/data.md "Coverage"): entries to care from four
    // years before the window, allocations from two, absences, contacts and costs from its start
    let _ = writeln!(s, "\n[coverage] # the first day each table covers at every site, as generated");
    for (table, present, from) in [
        ("episodes", !data.episodes.is_empty(), data.window_start - 1461),
        ("allocations", !data.allocations.is_empty(), data.window_start - 730),
        ("absences", !data.absences.is_empty(), data.window_start),
        ("contacts", !data.contacts.is_empty(), data.window_start),
        ("costs", !data.costs.is_empty(), data.window_start),
    ] {
        if present {
            let _ = writeln!(s, "{table} = \"{}\"", format_date(from));
        }
    }
    let _ = writeln!(s, "\n[synth.effects]");
    for (name, value) in &data.effects {
        let what = EFFECTS.iter().find(|(n, _, _)| n == name).map_or("", |(_, _, w)| w);
        let _ = writeln!(s, "{name} = {} # {what}", toml::Value::Float(*value));
    }
    if !data.costs.is_empty() {
        use crate::costs::*;
        let _ = writeln!(s, "\n[synth.costs] # the rates site spending (costs.csv) is made with; see swp_synth::costs");
        for (name, value, what) in [
            ("pilot_staff_premium", PILOT_STAFF_PREMIUM, "pilots' staff cost over the same role elsewhere"),
            ("agency_premium", AGENCY_PREMIUM, "agency staff cost over the role's employed cost"),
            ("overhead_pilot", OVERHEAD_PILOT, "overheads / (staff + agency staff) at pilots"),
            ("overhead_other", OVERHEAD_OTHER, "overheads / (staff + agency staff) elsewhere"),
            ("contract_share", CONTRACT_SHARE, "contract / staff at pilots (0 elsewhere)"),
            (
                "outcome_payment_share",
                OUTCOME_PAYMENT_SHARE,
                "outcome_payment / staff at pilots after go-live (0 elsewhere)",
            ),
            ("other_share", OTHER_SHARE, "other / staff"),
        ] {
            let _ = writeln!(s, "{name} = {} # {what}", toml::Value::Float(value));
        }
    }
    s
}

fn write_file(path: &Path, text: &[u8]) -> Result<(), SynthError> {
    let io = |source| SynthError::Io { path: path.display().to_string(), source };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The files a dataset directory may hold (the tables, the manifest and the anonymiser's
/// report, stale once the dataset is replaced).
const DATASET_FILES: [&str; 12] = [
    "sites.csv",
    "children.csv",
    "episodes.csv",
    "workers.csv",
    "allocations.csv",
    "absences.csv",
    "contacts.csv",
    "outcomes.csv",
    "costs.csv",
    "dataset.toml",
    "k_anonymity.json",
    "utility.json",
];

/// Writes the dataset into `dir` as a whole: every file goes into a new directory beside it,
/// which then replaces `dir` (created if needed), so an interrupted run leaves either the old
/// dataset or the new one at `dir`, never tables of both. A `dir` holding anything but a
/// dataset's files is refused rather than replaced.
///
/// # Errors
/// [`SynthError::Io`] when a file cannot be written or `dir` holds other files.
pub fn write_dataset(data: &Synthetic, dir: &Path) -> Result<(), SynthError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| SynthError::Io { path, source }
    };
    if dir.exists() {
        let foreign = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .find(|name| !DATASET_FILES.contains(&name.as_str()));
        if let Some(name) = foreign {
            return Err(SynthError::Io {
                path: dir.display().to_string(),
                source: std::io::Error::other(format!(
                    "it holds `{name}`, which is not part of a dataset; write to a new or empty directory"
                )),
            });
        }
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let name = dir.file_name().map_or("dataset".into(), |n| n.to_string_lossy().to_string());
    let tmp = parent.join(format!(".{name}.writing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).map_err(io(&tmp))?;
    let written = (|| {
        let rendered = render(data);
        rendered
            .par_iter()
            .try_for_each(|(table, text)| write_file(&tmp.join(format!("{table}.csv")), text.as_bytes()))?;
        write_file(&tmp.join("dataset.toml"), manifest(data).as_bytes())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dir.exists() {
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(dir, &old).map_err(io(dir))?;
        std::fs::rename(&tmp, dir).map_err(io(dir))?;
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&tmp, dir).map_err(io(dir))?;
    }
    Ok(())
}

impl Synthetic {
    /// Writes the dataset into `dir`; see [`write_dataset`].
    ///
    /// # Errors
    /// [`SynthError::Io`] when a file cannot be written.
    pub fn write(&self, dir: &Path) -> Result<(), SynthError> {
        write_dataset(self, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Scale, SynthParams};

    /// A rewrite replaces the dataset whole (no table of the old one left, no temporary
    /// directory left beside it); a directory with other files is refused and left as it was.
    #[test]
    fn a_dataset_is_replaced_whole_and_a_foreign_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d");
        let small = SynthParams::new(Scale::Small).seed(1).check().unwrap().generate();
        write_dataset(&small, &dir).unwrap();
        std::fs::write(dir.join("contacts.csv"), "stale").unwrap();
        let other = SynthParams::new(Scale::Small).seed(2).check().unwrap().generate();
        write_dataset(&other, &dir).unwrap();
        let manifest = std::fs::read_to_string(dir.join("dataset.toml")).unwrap();
        assert!(manifest.contains("seed = 2"));
        assert!(manifest.contains("[coverage]") && manifest.contains("absences = \"2007-04-01\""), "{manifest}");
        assert_ne!(std::fs::read_to_string(dir.join("contacts.csv")).unwrap(), "stale");
        let beside: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(beside, vec!["d".to_string()], "nothing left beside the dataset");
        let foreign = tmp.path().join("mine");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "keep").unwrap();
        let e = write_dataset(&small, &foreign).unwrap_err().to_string();
        assert!(e.contains("notes.txt"), "{e}");
        assert_eq!(std::fs::read_to_string(foreign.join("notes.txt")).unwrap(), "keep");
    }
}
