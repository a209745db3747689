//! The corrupted-data sweep (hardening issue): thousands of seeded mutations of a valid
//! dataset through `validate`, `metrics` and `report`. Every run must end with exit 0 or 1 (2 for
//! a usage error) and, when it fails, a message; never a panic (exit 101 or a signal), never a
//! hang. Harmless changes (a BOM, CRLF line ends, shuffled data rows) must still validate clean
//! and give the same metrics.

use crate::{root, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small seeded generator (SplitMix64), so every mutation can be replayed from its number.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The base: a synthetic dataset cut to every 12th child (with their rows), small enough to run
/// thousands of times, large enough for `report` to match and estimate.
fn base(dir: &Path) {
    let full = dir.join("full");
    let o = Command::new(env!("CARGO_BIN_EXE_swp-eval"))
        .args(["synth", full.to_str().unwrap(), "--seed", "17", "--scale", "small"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let base = dir.join("base");
    std::fs::create_dir_all(&base).unwrap();
    let children = std::fs::read_to_string(full.join("children.csv")).unwrap();
    let mut keep = std::collections::HashSet::new();
    let mut out = String::new();
    for (i, line) in children.lines().enumerate() {
        if i == 0 || i % 12 == 0 {
            out.push_str(line);
            out.push('\n');
            if i > 0 {
                keep.insert(line.split(',').next().unwrap().to_string());
            }
        }
    }
    std::fs::write(base.join("children.csv"), out).unwrap();
    for name in ["episodes.csv", "allocations.csv", "contacts.csv", "outcomes.csv"] {
        let t = std::fs::read_to_string(full.join(name)).unwrap();
        let kept: Vec<&str> = t
            .lines()
            .enumerate()
            .filter(|(i, l)| *i == 0 || keep.contains(l.split(',').next().unwrap()))
            .map(|(_, l)| l)
            .collect();
        std::fs::write(base.join(name), kept.join("\n") + "\n").unwrap();
    }
    for name in ["sites.csv", "workers.csv", "absences.csv", "costs.csv", "dataset.toml"] {
        std::fs::copy(full.join(name), base.join(name)).unwrap();
    }
}

const TABLES: [&str; 9] = [
    "sites.csv",
    "children.csv",
    "episodes.csv",
    "workers.csv",
    "allocations.csv",
    "absences.csv",
    "contacts.csv",
    "outcomes.csv",
    "costs.csv",
];

/// Damage to one table, by kind. Returns what was done, for the failure message.
fn mutate(dir: &Path, rng: &mut Mix) -> String {
    let table = TABLES[rng.below(TABLES.len())];
    let path = dir.join(table);
    // an earlier mutation of this dataset may have removed the table or made it a directory
    let Ok(bytes) = std::fs::read(&path) else { return format!("{table}: already gone") };
    let text = String::from_utf8_lossy(&bytes).to_string();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<String> = lines.first().map(|h| h.split(',').map(str::to_string).collect()).unwrap_or_default();
    let width = header.len().max(1);
    let row = 1 + rng.below(lines.len().saturating_sub(1).max(1));
    let col = rng.below(width);
    let kind = rng.below(22);
    let set_cell = |lines: &mut Vec<String>, value: &str| {
        if let Some(line) = lines.get_mut(row) {
            let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
            if col < cells.len() {
                cells[col] = value.to_string();
            }
            *line = cells.join(",");
        }
    };
    let per_row = |lines: &mut Vec<String>, f: &dyn Fn(&mut Vec<String>)| {
        for line in lines.iter_mut() {
            let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
            f(&mut cells);
            *line = cells.join(",");
        }
    };
    let what = match kind {
        0 => {
            per_row(&mut lines, &|c| {
                if col < c.len() {
                    c.remove(col);
                }
            });
            "dropped a column"
        }
        1 => {
            let other = rng.below(width);
            per_row(&mut lines, &|c| {
                if col < c.len() && other < c.len() {
                    c.swap(col, other);
                }
            });
            "swapped two columns"
        }
        2 => {
            per_row(&mut lines, &|c| {
                if col < c.len() {
                    let v = c[col].clone();
                    c.push(v);
                }
            });
            "duplicated a column"
        }
        3 => {
            if let Some(h) = lines.first_mut() {
                let mut cells: Vec<String> = h.split(',').map(str::to_string).collect();
                let at = col.min(cells.len() - 1);
                cells[at] = "Ünknown column".into();
                *h = cells.join(",");
            }
            "renamed a column"
        }
        4 => {
            let cut = rng.below(bytes.len().max(1));
            std::fs::write(&path, &bytes[..cut]).unwrap();
            return format!("{table}: truncated at byte {cut}");
        }
        5 => {
            lines.truncate(1 + rng.below(lines.len()));
            "dropped trailing rows"
        }
        6 => {
            if let Some(l) = lines.get_mut(row) {
                l.push_str(",extra");
            }
            "ragged row (one field more)"
        }
        7 => {
            if let Some(l) = lines.get_mut(row) {
                if let Some(i) = l.rfind(',') {
                    l.truncate(i);
                }
            }
            "ragged row (one field fewer)"
        }
        8 => {
            let v = ["1e308", "-1e308", "NaN", "inf", "-inf", "99999999999999999999999", "-0"][rng.below(7)];
            set_cell(&mut lines, v);
            "a huge or non-finite number"
        }
        9 => {
            let v = ["0001-01-01", "9999-12-31", "2010-02-30", "31/02/2011", "2011-13-01", "1899-12-31", "20100101"]
                [rng.below(7)];
            set_cell(&mut lines, v);
            "a date far away or impossible"
        }
        10 => {
            let mut b = bytes.clone();
            let at = rng.below(b.len().max(1)).min(b.len());
            b.splice(at..at, [0xC3u8, 0x28, 0xFF]);
            std::fs::write(&path, b).unwrap();
            return format!("{table}: invalid UTF-8 at byte {at}");
        }
        11 => {
            let mut b = bytes.clone();
            let at = rng.below(b.len().max(1)).min(b.len());
            b.insert(at, 0);
            std::fs::write(&path, b).unwrap();
            return format!("{table}: NUL byte at {at}");
        }
        12 => {
            set_cell(&mut lines, "\"unbalanced");
            "an unbalanced quote"
        }
        13 => {
            set_cell(&mut lines, "\"two\nlines\"");
            "a quoted value with a newline"
        }
        14 => {
            std::fs::write(&path, b"").unwrap();
            return format!("{table}: empty file");
        }
        15 => {
            lines.truncate(1);
            "header only"
        }
        16 => {
            std::fs::remove_file(&path).unwrap();
            std::fs::create_dir(&path).unwrap();
            return format!("{table}: a directory instead of the file");
        }
        17 => {
            set_cell(&mut lines, "");
            "a blank value"
        }
        18 => {
            set_cell(&mut lines, &"x".repeat(10_000));
            "a 10,000-character value"
        }
        19 => {
            if let Some(l) = lines.get(row).cloned() {
                for _ in 0..3 {
                    lines.push(l.clone());
                }
            }
            "a row repeated"
        }
        20 => {
            std::fs::remove_file(&path).unwrap();
            return format!("{table}: removed");
        }
        _ => {
            set_cell(&mut lines, "-1");
            "a negative value"
        }
    };
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    format!("{table} line {}, column {col}: {what}", row + 1)
}

/// Runs the binary with a time limit; the exit code (None: killed by a signal or the limit).
fn run(args: &[&str], limit: Duration) -> (Option<i32>, String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_swp-eval"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // drain both pipes while the child runs (a full pipe would stall it)
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out_pipe, &mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err_pipe, &mut s);
        s
    });
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            // what the command said, on either stream
            let said = text(&err_reader.join().unwrap()) + &text(&out_reader.join().unwrap());
            return (status.code(), said, false);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return (None, String::new(), true);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Number of mutations (default 2,000; `SWP_SWEEP=N` for more, as the held-out sweep).
fn mutations() -> usize {
    std::env::var("SWP_SWEEP").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

#[test]
fn seeded_corruption_never_panics_or_hangs() {
    let work = tempfile::tempdir().unwrap();
    base(work.path());
    let base_dir = work.path().join("base");
    let config = work.path().join("config.toml");
    std::fs::write(&config, "[inference]\nbootstrap_reps = 99\nrandomisation_assignments = 200\n").unwrap();
    assert_eq!(run(&["validate", base_dir.to_str().unwrap()], Duration::from_secs(60)).0, Some(0));
    let seed: u64 = std::env::var("SWP_SWEEP_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(2026);
    let n = mutations();
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    let counts = std::sync::Mutex::new([0usize; 3]);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if k >= n {
                    break;
                }
                let mut rng = Mix(seed ^ (k as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
                let dir = work.path().join(format!("m{k}"));
                copy(&base_dir, &dir);
                let mut what = Vec::new();
                for _ in 0..1 + rng.below(3) {
                    what.push(mutate(&dir, &mut rng));
                }
                let d = dir.to_str().unwrap().to_string();
                let out = work.path().join(format!("r{k}"));
                let mut commands: Vec<Vec<String>> = vec![
                    vec!["validate".into(), d.clone()],
                    vec!["metrics".into(), d.clone(), "--format".into(), "csv".into()],
                ];
                if k.is_multiple_of(8) {
                    commands.push(vec![
                        "report".into(),
                        d.clone(),
                        "--config".into(),
                        config.to_str().unwrap().into(),
                        "--out".into(),
                        out.to_str().unwrap().into(),
                    ]);
                }
                for (c, args) in commands.iter().enumerate() {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let (code, err, hung) = run(&args, Duration::from_secs(120));
                    counts.lock().unwrap()[c] += 1;
                    let bad = hung || !matches!(code, Some(0..=2)) || (code != Some(0) && err.trim().is_empty());
                    if bad || err.contains("panicked") {
                        failures.lock().unwrap().push(format!(
                            "mutation {k} (seed {seed}): {} -> {} exit {code:?}{}: {}",
                            what.join("; "),
                            args[0],
                            if hung { " (hung)" } else { "" },
                            err.lines().take(3).collect::<Vec<_>>().join(" | ")
                        ));
                    }
                }
                let _ = std::fs::remove_dir_all(&dir);
                let _ = std::fs::remove_dir_all(&out);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let counts = counts.into_inner().unwrap();
    eprintln!("sweep: {n} mutated datasets; {} validate, {} metrics, {} report runs", counts[0], counts[1], counts[2]);
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

/// A BOM, CRLF line ends and shuffled data rows change nothing: the dataset still validates
/// clean and every metric is the same.
#[test]
fn harmless_changes_leave_validation_and_metrics_unchanged() {
    let work = tempfile::tempdir().unwrap();
    base(work.path());
    let base_dir = work.path().join("base");
    // every metric row by (group, metric, period): value, numerator, denominator
    let metrics = |dir: &PathBuf| {
        let (code, err, _) = run(&["validate", dir.to_str().unwrap()], Duration::from_secs(60));
        assert_eq!(code, Some(0), "{err}");
        let o = Command::new(env!("CARGO_BIN_EXE_swp-eval"))
            .args(["metrics", dir.to_str().unwrap(), "--format", "csv", "--no-suppress"])
            .output()
            .unwrap();
        assert!(o.status.success());
        text(&o.stdout)
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                let key = format!("{} {} {}", c[0], c[1], c[5]);
                let nums: Vec<Option<f64>> = c[2..5].iter().map(|x| x.parse().ok()).collect();
                (key, nums)
            })
            .collect::<std::collections::BTreeMap<String, Vec<Option<f64>>>>()
    };
    let expected = metrics(&base_dir);
    let mut rng = Mix(7);
    for (k, change) in ["bom", "crlf", "shuffle"].iter().enumerate() {
        let dir = work.path().join(format!("h{k}"));
        copy(&base_dir, &dir);
        for table in TABLES {
            let path = dir.join(table);
            let t = std::fs::read_to_string(&path).unwrap();
            let new = match *change {
                "bom" => format!("\u{feff}{t}"),
                "crlf" => t.replace('\n', "\r\n"),
                _ => {
                    let mut lines: Vec<&str> = t.lines().collect();
                    for i in (2..lines.len()).rev() {
                        let j = 1 + rng.below(i);
                        lines.swap(i, j);
                    }
                    lines.join("\n") + "\n"
                }
            };
            std::fs::write(&path, new).unwrap();
        }
        let got = metrics(&dir);
        assert_eq!(got.len(), expected.len(), "{change} changed the rows");
        // equal up to the order of floating-point sums
        let close = |a: &Option<f64>, b: &Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * a.abs().max(1.0),
            (a, b) => a == b,
        };
        for (key, values) in &expected {
            let other = &got[key];
            assert!(
                values.iter().zip(other).all(|(a, b)| close(a, b)),
                "{change} changed {key}: {values:?} vs {other:?}"
            );
        }
    }
    let _ = root();
}
