//! Loading a dataset directory: locating table files (flat `NAME.csv` / `NAME.parquet`, and raw
//! SSDA903 returns under `903/<site_id>/<collection_year>/`), typing them, combining them and
//! validating the whole.

use crate::date::parse_date;
use crate::model::{Dataset, Manifest, Origin, Table};
use crate::problem::{Problem, Rule, ValidationReport, DEFAULT_CAP_PER_RULE};
use crate::read::read_table;
use crate::schema::{self, TableSpec};
use crate::typed::type_table;
use crate::validate;
use polars::prelude::*;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Errors that stop a dataset from being read at all. Problems *in* a dataset are not errors:
/// they are listed in the [`ValidationReport`].
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The path is not a directory.
    #[error("{path} is not a dataset directory (expected a folder holding sites.csv, children.csv, ...)")]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The directory could not be listed.
    #[error("could not list {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
}

/// A dataset and the problems found in it.
#[derive(Debug)]
pub struct Loaded {
    /// The dataset (tables with problems keep their readable rows; bad values are null).
    pub dataset: Dataset,
    /// Every problem found.
    pub report: ValidationReport,
}

/// Options for [`load_with`].
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Problems listed per rule (the rest are counted). Default 20.
    pub cap_per_rule: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { cap_per_rule: DEFAULT_CAP_PER_RULE }
    }
}

/// Loads and validates the dataset in `dir` with default options.
///
/// # Errors
/// Only when `dir` is not a readable directory; problems in the data are in the report.
pub fn load(dir: &Path) -> Result<Loaded, DataError> {
    load_with(dir, &LoadOptions::default())
}

/// Loads and validates the dataset in `dir`.
///
/// # Errors
/// Only when `dir` is not a readable directory; problems in the data are in the report.
pub fn load_with(dir: &Path, options: &LoadOptions) -> Result<Loaded, DataError> {
    // One pool for swp-data's parallel work and polars': a second pool on the same cores makes
    // threads wait on each other by spinning.
    polars_core::runtime::THREAD_POOL.install(|| load_in_pool(dir, options))
}

fn load_in_pool(dir: &Path, options: &LoadOptions) -> Result<Loaded, DataError> {
    if !dir.is_dir() {
        return Err(DataError::NotADirectory { path: dir.to_path_buf() });
    }
    let entries = list_dir(dir)?;
    let mut report = ValidationReport::with_cap(options.cap_per_rule);
    let manifest = read_manifest(&entries, &mut report);
    let raw903 = find_903(dir, &entries)?;

    // Read flat tables and 903 files in parallel; merge problems in a fixed order.
    let flat: Vec<(Option<Table>, ValidationReport)> = schema::TABLES
        .par_iter()
        .map(|spec| {
            let mut local = ValidationReport::with_cap(options.cap_per_rule);
            let t = read_flat(spec, &entries, !raw903.is_empty(), &mut local);
            (t, local)
        })
        .collect();
    let raw: Vec<(Option<Table>, ValidationReport)> = raw903
        .par_iter()
        .map(|f| {
            let mut local = ValidationReport::with_cap(options.cap_per_rule);
            let t = read_903_file(f, &mut local);
            (t, local)
        })
        .collect();

    let mut tables: Vec<Table> = Vec::with_capacity(schema::TABLES.len());
    let mut raw_iter = raw.into_iter();
    let mut raw_by_table: Vec<Vec<(Table, u32)>> = vec![Vec::new(); schema::TABLES.len()];
    for ((t, local), f) in raw_iter.by_ref().zip(raw903.iter()) {
        report.merge(local);
        if let Some(t) = t {
            raw_by_table[f.table_index].push((t, f.year));
        }
    }
    for (k, (t, local)) in flat.into_iter().enumerate() {
        report.merge(local);
        let spec = schema::TABLES[k];
        let mut table = t.unwrap_or_else(|| Table::empty(spec));
        let parts = std::mem::take(&mut raw_by_table[k]);
        if !parts.is_empty() {
            let combined = combine_903(spec, parts);
            table = append(table, combined);
        }
        tables.push(table);
    }
    let mut it = tables.into_iter();
    let mut next = || it.next().expect("one table per spec");
    let mut dataset = Dataset {
        dir: dir.to_path_buf(),
        manifest,
        extract_date: None,
        sites: next(),
        children: next(),
        episodes: next(),
        workers: next(),
        allocations: next(),
        absences: next(),
        contacts: next(),
        outcomes: next(),
        costs: next(),
        child_rows: Default::default(),
        worker_rows: Default::default(),
    };
    validate::validate(&mut dataset, &mut report);
    dataset.extract_date = match dataset.manifest.extract_date.as_deref().map(parse_date) {
        Some(Ok(d)) => Some(d),
        _ => latest_date(&dataset),
    };
    Ok(Loaded { dataset, report })
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let read = std::fs::read_dir(dir).map_err(|source| DataError::Io { path: dir.to_path_buf(), source })?;
    let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    Ok(entries)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()
}

fn read_manifest(entries: &[PathBuf], report: &mut ValidationReport) -> Manifest {
    let Some(path) = entries.iter().find(|p| file_name(p).eq_ignore_ascii_case("dataset.toml")) else {
        return Manifest::default();
    };
    let problem = |message: String| Problem {
        rule: Rule::BadManifest,
        file: file_name(path),
        line: None,
        column: None,
        value: None,
        message,
        fix: "write dataset.toml as TOML, e.g. name = \"pilot 2010\" and extract_date = \"2012-03-31\"".to_string(),
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.push(problem(format!("dataset.toml could not be read: {e}")));
            return Manifest::default();
        }
    };
    let manifest: Manifest = match toml::from_str(&text) {
        Ok(m) => m,
        Err(e) => {
            report.push(problem(format!("dataset.toml is not valid TOML: {}", e.message())));
            return Manifest::default();
        }
    };
    if let Some(d) = &manifest.extract_date {
        if parse_date(d).is_err() {
            report.push(Problem {
                value: Some(d.clone()),
                column: Some("extract_date".into()),
                ..problem(format!("extract_date `{d}` is not a date"))
            });
        }
    }
    manifest
}

fn read_flat(spec: &TableSpec, entries: &[PathBuf], has_903: bool, report: &mut ValidationReport) -> Option<Table> {
    // a folder named like the table is not the table: say so rather than skip it silently
    for dir in entries.iter().filter(|p| p.is_dir()) {
        let name = file_name(dir).to_ascii_lowercase();
        if name == format!("{}.csv", spec.name) || name == format!("{}.parquet", spec.name) {
            report.push(Problem {
                rule: Rule::UnreadableFile,
                file: file_name(dir),
                line: None,
                column: None,
                value: None,
                message: format!("`{}` is a directory, not the `{}` table", file_name(dir), spec.name),
                fix: format!("replace it with the {} table's file, or remove it", spec.name),
            });
        }
    }
    let candidates: Vec<&PathBuf> = entries
        .iter()
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = file_name(p).to_ascii_lowercase();
            name == format!("{}.csv", spec.name) || name == format!("{}.parquet", spec.name)
        })
        .collect();
    let path = match candidates.as_slice() {
        [] => {
            let supplied_by_903 = has_903 && matches!(spec.name, "children" | "episodes" | "allocations");
            if spec.required && !supplied_by_903 {
                report.push(Problem {
                    rule: Rule::MissingFile,
                    file: format!("{}.csv", spec.name),
                    line: None,
                    column: None,
                    value: None,
                    message: format!("the required table `{}` has no file", spec.name),
                    fix: format!(
                        "add {0}.csv (or {0}.parquet) to the dataset directory; see the data contract for its columns",
                        spec.name
                    ),
                });
            }
            return None;
        }
        [one] => *one,
        [first, ..] => {
            report.push(Problem {
                rule: Rule::UnreadableFile,
                file: file_name(first),
                line: None,
                column: None,
                value: None,
                message: format!("the table `{}` has both a CSV and a Parquet file; the CSV is read", spec.name),
                fix: "keep one file per table".to_string(),
            });
            candidates.iter().find(|p| file_name(p).to_ascii_lowercase().ends_with(".csv")).copied().unwrap_or(first)
        }
    };
    let name = file_name(path);
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    if let Some(message) = crate::read::too_large(&name, bytes, crate::read::memory_budget()) {
        report.push(Problem {
            rule: Rule::UnreadableFile,
            file: name.clone(),
            line: None,
            column: None,
            value: None,
            message,
            fix: "split the table (by year, or by site as raw 903 returns under 903/<site>/<year>/), or run on a machine with more memory".to_string(),
        });
        return None;
    }
    let (typed, origin, height) = read_table(path, &name, Some(spec), report, |raw, report| {
        (type_table(raw, spec, report), Origin::single(raw), raw.height())
    })?;
    if height == 0 && spec.required {
        report.push(Problem {
            rule: Rule::EmptyFile,
            file: name.clone(),
            line: None,
            column: None,
            value: None,
            message: format!("the table `{}` has a header but no rows", spec.name),
            fix: "export the table with its rows".to_string(),
        });
    }
    let headers = spec
        .columns
        .iter()
        .zip(typed.header_of.iter())
        .filter_map(|(c, h)| h.as_ref().map(|h| (c.name.to_string(), h.clone())))
        .collect();
    Some(Table { frame: typed.frame, origin, headers, present: true })
}

/// One raw 903 file to read.
#[derive(Debug, Clone)]
struct Raw903File {
    path: PathBuf,
    display: String,
    site_id: String,
    year: u32,
    table_index: usize,
}

fn find_903(dir: &Path, entries: &[PathBuf]) -> Result<Vec<Raw903File>, DataError> {
    let Some(root) = entries.iter().find(|p| p.is_dir() && file_name(p) == "903") else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for site_dir in list_dir(root)?.into_iter().filter(|p| p.is_dir()) {
        let site_id = file_name(&site_dir);
        for year_dir in list_dir(&site_dir)?.into_iter().filter(|p| p.is_dir()) {
            let year_name = file_name(&year_dir);
            let year: u32 = year_name.parse().unwrap_or(0);
            for path in list_dir(&year_dir)? {
                let lower = file_name(&path).to_ascii_lowercase();
                let table_index = match lower.as_str() {
                    "header.csv" | "header.parquet" => 1,
                    "episodes.csv" | "episodes.parquet" => 2,
                    "sw_episodes.csv" | "sw_episodes.parquet" => 4,
                    _ => continue,
                };
                let display = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                files.push(Raw903File { path, display, site_id: site_id.clone(), year, table_index });
            }
        }
    }
    Ok(files)
}

fn read_903_file(f: &Raw903File, report: &mut ValidationReport) -> Option<Table> {
    let spec = schema::TABLES[f.table_index];
    let (typed, origin) = read_table(&f.path, &f.display, Some(spec), report, |raw, report| {
        (type_table(raw, spec, report), Origin::single(raw))
    })?;
    let mut frame = typed.frame;
    let site = Column::new_scalar(
        PlSmallStr::from("site_id"),
        Scalar::from(PlSmallStr::from(f.site_id.as_str())),
        frame.height(),
    );
    frame.with_column(site).ok()?;
    let headers = spec
        .columns
        .iter()
        .zip(typed.header_of.iter())
        .filter_map(|(c, h)| h.as_ref().map(|h| (c.name.to_string(), h.clone())))
        .chain(std::iter::once(("site_id".to_string(), format!("folder 903/{}", f.site_id))))
        .collect();
    Some(Table { frame, origin, headers, present: true })
}

/// Combines one table's raw 903 files of all sites and years: a record present in several
/// years' files is kept once, the latest year's version winning.
fn combine_903(spec: &TableSpec, mut parts: Vec<(Table, u32)>) -> Table {
    parts.sort_by_key(|(_, year)| *year);
    let mut combined: Option<Table> = None;
    let mut years: Vec<u32> = Vec::new();
    for (t, year) in parts {
        years.extend(std::iter::repeat_n(year, t.frame.height()));
        combined = Some(match combined {
            None => t,
            Some(c) => append(c, t),
        });
    }
    let table = combined.expect("at least one part");
    let key_columns: &[&str] = match spec.name {
        "children" => &["site_id", "child_id"],
        "episodes" => &["site_id", "child_id", "decom"],
        _ => &["site_id", "child_id", "start_date"],
    };
    let keys: Vec<Vec<String>> = key_columns
        .iter()
        .map(|name| {
            let c = table.frame.column(name).expect("contract column").cast(&DataType::String).expect("castable");
            c.str().expect("string").iter().map(|v| v.unwrap_or("").to_string()).collect()
        })
        .collect();
    // Rows are in year order, so the last occurrence of a key is the latest year's version.
    let mut last: PlHashMap<Vec<&str>, usize> = PlHashMap::new();
    for row in 0..table.frame.height() {
        let key: Vec<&str> = keys.iter().map(|k| k[row].as_str()).collect();
        last.insert(key, row);
    }
    let mut keep = vec![false; table.frame.height()];
    for &row in last.values() {
        keep[row] = true;
    }
    let mask: BooleanChunked = keep.iter().copied().collect();
    Table {
        frame: table.frame.filter(&mask).expect("mask has the frame's height"),
        origin: table.origin.filter(&keep),
        headers: table.headers,
        present: true,
    }
}

/// Stacks `b` under `a`, taking the union of their columns (missing ones null).
fn append(a: Table, b: Table) -> Table {
    if !a.present {
        return b;
    }
    let (ha, hb) = (a.frame.height(), b.frame.height());
    let mut fa = a.frame;
    let mut fb = b.frame;
    for c in fb.columns().to_vec() {
        if fa.column(c.name()).is_err() {
            fa.with_column(Column::full_null(c.name().clone(), ha, c.dtype())).expect("new column");
        }
    }
    for c in fa.columns().to_vec() {
        if fb.column(c.name()).is_err() {
            fb.with_column(Column::full_null(c.name().clone(), hb, c.dtype())).expect("new column");
        }
    }
    let names: Vec<PlSmallStr> = fa.get_column_names().into_iter().cloned().collect();
    let fb = fb.select(names).expect("same columns");
    let cast: Vec<Column> = fb
        .columns()
        .iter()
        .zip(fa.columns())
        .map(|(b, a)| b.cast(a.dtype()).unwrap_or_else(|_| Column::full_null(b.name().clone(), hb, a.dtype())))
        .collect();
    let fb = DataFrame::new(hb, cast).expect("same names and height");
    let frame = fa.vstack(&fb).expect("same schema");
    let mut origin = a.origin;
    origin.append(ha, &b.origin, hb);
    let mut headers = a.headers;
    for h in b.headers {
        if !headers.iter().any(|(n, _)| *n == h.0) {
            headers.push(h);
        }
    }
    Table { frame, origin, headers, present: true }
}

fn latest_date(dataset: &Dataset) -> Option<i32> {
    let mut best: Option<i32> = None;
    for table in [&dataset.episodes, &dataset.workers, &dataset.allocations, &dataset.absences, &dataset.contacts] {
        for c in table.frame.columns() {
            if c.dtype() == &DataType::Date {
                if let Ok(phys) = c.as_materialized_series().to_physical_repr().i32() {
                    if let Some(m) = phys.max() {
                        best = Some(best.map_or(m, |b| b.max(m)));
                    }
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Rule;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn minimal(dir: &Path) {
        write(
            dir,
            "sites.csv",
            "site_id,name,arm,swp_model,go_live\nP1,p,pilot,private,2009-09-01\nC1,c,comparison,none,\n",
        );
        write(dir, "children.csv", "child_id,site_id,sex,dob,ethnic\nA,P1,1,2005-01-01,WBRI\nB,C1,2,2006-01-01,WBRI\n");
        write(
            dir,
            "workers.csv",
            "worker_id,site_id,role,fte,agency,start_date,end_date\nW1,P1,social_worker,1,false,2008-01-01,\n",
        );
        write(dir, "allocations.csv", "child_id,worker_id,start_date,end_date\nA,W1,2009-01-01,\n");
    }

    /// costs.csv (docs/data-contract.md v1.1): each broken rule found on its line, a clean row read.
    #[test]
    fn costs_are_validated_like_every_table() {
        let dir = tempfile::tempdir().unwrap();
        minimal(dir.path());
        write(dir.path(), "episodes.csv", "child_id,decom,rne,ls,cin,place,dec\nA,2009-01-01,S,C2,N1,U4,\n");
        write(
            dir.path(),
            "costs.csv",
            "site_id,financial_year,category,amount\n\
             P1,2009-10,staff,1000\n\
             P1,2009/10,staff,10\n\
             P1,2009-11,staff,10\n\
             C1,2009-10,placements,-5\n\
             X9,2009-10,staff,10\n\
             P1,2009-10,Staff,20\n\
             C1,2010-11,lunch,20\n",
        );
        let loaded = load(dir.path()).unwrap();
        assert!(loaded.dataset.costs.present);
        assert_eq!(loaded.dataset.costs.frame.height(), 7);
        let found: Vec<(Rule, Option<u64>, Option<String>)> = loaded
            .report
            .problems
            .iter()
            .filter(|p| p.file == "costs.csv")
            .map(|p| (p.rule, p.line, p.column.clone()))
            .collect();
        let col = |c: &str| Some(c.to_string());
        for expected in [
            (Rule::BadDate, Some(3), col("financial_year")),
            (Rule::BadDate, Some(4), col("financial_year")),
            (Rule::BadNumber, Some(5), col("amount")),
            (Rule::DanglingReference, Some(6), col("site_id")),
            (Rule::DuplicateKey, Some(7), col("category")),
            (Rule::UnknownCode, Some(8), col("category")),
        ] {
            assert!(found.contains(&expected), "{expected:?} not in {found:?}");
        }
        assert_eq!(found.len(), 6, "{found:?}");
        assert_eq!(crate::validate::financial_year_start("2009-10"), Some(2009));
        assert_eq!(crate::validate::financial_year_start("1999-00"), Some(1999));
        assert_eq!(crate::validate::financial_year_start("2009-2010"), None);
    }

    #[test]
    fn parquet_tables_load_like_csv_and_problems_name_rows() {
        let dir = tempfile::tempdir().unwrap();
        minimal(dir.path());
        let decom = Int32Chunked::from_slice(PlSmallStr::from("DECOM"), &[14245, 14610]).into_date().into_column();
        let mut frame = DataFrame::new(
            2,
            vec![
                Column::new(PlSmallStr::from("CHILD"), ["A", "B"]),
                decom,
                Column::new(PlSmallStr::from("RNE"), ["S", "Q"]),
                Column::new(PlSmallStr::from("LS"), ["C2", "V2"]),
                Column::new(PlSmallStr::from("CIN"), ["N1", "N1"]),
                Column::new(PlSmallStr::from("PLACE"), ["U4", "U1"]),
                Column::new(PlSmallStr::from("DEC"), [None::<&str>, None]),
            ],
        )
        .unwrap();
        let file = std::fs::File::create(dir.path().join("episodes.parquet")).unwrap();
        ParquetWriter::new(file).finish(&mut frame).unwrap();
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded.dataset.episodes.frame.height(), 2);
        assert_eq!(loaded.report.total(), 1, "{:?}", loaded.report);
        let p = &loaded.report.problems[0];
        assert_eq!(
            (p.rule, p.file.as_str(), p.line, p.value.as_deref()),
            (Rule::UnknownCode, "episodes.parquet", Some(2), Some("Q"))
        );
        // typed: Date column, and the child's site filled in
        let site = loaded.dataset.episodes.frame.column("site_id").unwrap().str().unwrap().get(1).map(str::to_string);
        assert_eq!(site.as_deref(), Some("C1"));
        assert_eq!(loaded.dataset.episodes.frame.column("decom").unwrap().dtype(), &DataType::Date);
        // codes are enums of their code list: fixed categories, one byte a row
        let rne = loaded.dataset.episodes.frame.column("rne").unwrap();
        assert_eq!(rne.dtype(), &crate::values::code_dtype(&crate::codes::RNE));
        assert_eq!(rne.dtype().cat_physical().unwrap(), CategoricalPhysical::U8);
        let text = rne.cast(&DataType::String).unwrap();
        assert_eq!(text.str().unwrap().get(0), Some("S"));
        assert_eq!(text.str().unwrap().get(1), None, "the unknown code Q is null");
    }

    /// A CSV value that breaks its column's rule is null in the typed column, whatever its
    /// kind, and so is every typed field of a short row; good values beside them are kept.
    #[test]
    fn bad_and_missing_csv_values_are_null_in_typed_columns() {
        let dir = tempfile::tempdir().unwrap();
        minimal(dir.path());
        write(
            dir.path(),
            "workers.csv",
            "worker_id,site_id,role,fte,agency,start_date,end_date\n\
             W1,P1,social_worker,1,false,2008-01-01,\n\
             W2,P1,boss,half,maybe,2008-02-30,2009-01-01\n\
             W3,C1,team_manager,0.5,true\n",
        );
        let loaded = load(dir.path()).unwrap();
        let rules: Vec<Rule> =
            loaded.report.problems.iter().filter(|p| p.file == "workers.csv").map(|p| p.rule).collect();
        for rule in [Rule::UnknownCode, Rule::BadNumber, Rule::BadBoolean, Rule::BadDate, Rule::RaggedRow] {
            assert!(rules.contains(&rule), "{rule:?} in {rules:?}");
        }
        let f = &loaded.dataset.workers.frame;
        let text = |name: &str| -> Vec<Option<String>> {
            let c = f.column(name).unwrap().cast(&DataType::String).unwrap();
            c.str().unwrap().iter().map(|v| v.map(str::to_string)).collect()
        };
        let some = |v: &str| Some(v.to_string());
        assert_eq!(text("role"), vec![some("social_worker"), None, some("team_manager")]);
        assert_eq!(text("fte"), vec![some("1.0"), None, some("0.5")]);
        assert_eq!(text("agency"), vec![some("false"), None, some("true")]);
        assert_eq!(text("start_date"), vec![some("2008-01-01"), None, None]);
        assert_eq!(text("end_date"), vec![None, some("2009-01-01"), None]);
    }

    #[test]
    fn extract_date_defaults_to_the_latest_date_in_the_data() {
        let dir = tempfile::tempdir().unwrap();
        minimal(dir.path());
        write(dir.path(), "episodes.csv", "child_id,decom,rne,ls,cin,place,dec\nA,2009-01-01,S,C2,N1,U4,2011-06-30\n");
        let loaded = load(dir.path()).unwrap();
        assert!(!loaded.report.has_problems(), "{:?}", loaded.report);
        assert_eq!(loaded.dataset.extract_date_text().as_deref(), Some("2011-06-30"));
        write(dir.path(), "dataset.toml", "extract_date = \"2012-03-31\"\nseed = 4\n");
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded.dataset.extract_date_text().as_deref(), Some("2012-03-31"));
        assert_eq!(loaded.dataset.manifest.extra.get("seed").and_then(|v| v.as_integer()), Some(4));
    }

    #[test]
    fn a_child_id_used_at_two_sites_needs_a_site_id_in_flat_tables() {
        let dir = tempfile::tempdir().unwrap();
        minimal(dir.path());
        write(
            dir.path(),
            "children.csv",
            "child_id,site_id,sex,dob,ethnic\nA,P1,1,2005-01-01,WBRI\nA,C1,2,2006-01-01,WBRI\nA,C1,2,2006-01-01,WBRI\n",
        );
        write(
            dir.path(),
            "episodes.csv",
            "child_id,site_id,decom,rne,ls,cin,place,dec\nA,C1,2009-01-01,S,C2,N1,U4,\nA,,2009-01-01,S,C2,N1,U4,\n",
        );
        let loaded = load(dir.path()).unwrap();
        let rules: Vec<(Rule, &str, Option<u64>)> =
            loaded.report.problems.iter().map(|p| (p.rule, p.file.as_str(), p.line)).collect();
        assert_eq!(
            rules,
            vec![
                (Rule::DuplicateKey, "children.csv", Some(4)),
                (Rule::DanglingReference, "episodes.csv", Some(3)),
                (Rule::DanglingReference, "allocations.csv", Some(2)),
            ]
        );
        assert!(loaded.report.problems[1].message.contains("used at several sites"));
        // the episode that names its site resolves; the allocation (no site column) is ambiguous
        assert_eq!(loaded.report.count(Rule::DanglingReference), 2);
    }

    /// Typing while parsing (the fast path) and typing after a polars read (forced by a quoted
    /// header cell) give the same frame and the same problems.
    #[test]
    fn fused_and_polars_typing_agree() {
        let body = "A,2009-01-01,S,C2,N1,U4,2009-02-01\nA,01/02/2009,X,C2,N1,U4,\nB,2009-13-01,P,C2,N9,U1,2010-01-01\nB,,S,C2,N1, U1 ,\n\nA,2009-05-01,S\n";
        let run = |header: &str| {
            let dir = tempfile::tempdir().unwrap();
            minimal(dir.path());
            write(dir.path(), "episodes.csv", &format!("{header}\n{body}"));
            let mut loaded = load(dir.path()).unwrap();
            loaded.report.sort();
            let problems: Vec<_> = loaded
                .report
                .problems
                .iter()
                .map(|p| (p.rule, p.line, p.column.clone(), p.value.clone(), p.message.clone()))
                .collect();
            (loaded.dataset.episodes.frame, problems)
        };
        let (fast, fast_problems) = run("child_id,decom,rne,ls,cin,place,dec");
        let (slow, slow_problems) = run("\"child_id\",decom,rne,ls,cin,place,dec");
        assert!(fast.equals_missing(&slow), "{fast}\n{slow}");
        assert_eq!(fast_problems, slow_problems);
        assert!(fast_problems.len() >= 6, "{fast_problems:#?}");
    }

    #[test]
    fn a_file_that_is_not_parquet_is_a_problem_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        minimal(dir.path());
        write(dir.path(), "episodes.parquet", "this is not parquet");
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded.report.problems[0].rule, Rule::UnreadableFile);
        assert!(loaded.report.problems[0].message.contains("could not be read as Parquet"));
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    /// A small deterministic byte generator (SplitMix64).
    struct Bytes(u64);
    impl Bytes {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    /// Messy files built from the pieces real extracts break with (quotes, separators, line
    /// ends, bad bytes, codes, dates) never make loading panic, and every problem is located.
    #[test]
    fn random_messy_files_never_panic() {
        let pieces = [
            "CHILD",
            "DECOM",
            "RNE",
            "LS",
            "child_id",
            "site_id",
            "decom",
            "dec",
            ",",
            ",",
            ",",
            "\n",
            "\r\n",
            "\n\n",
            "\"",
            "\"\"",
            "\"a,b\"",
            "\"x\ny\"",
            "P1",
            "C1",
            "A",
            "S",
            "P",
            "C2",
            "N1",
            "U4",
            "2009-01-01",
            "31/02/2009",
            "01/01/2010",
            "2010-13-45",
            "1.5",
            "-1",
            "true",
            "yes",
            "\u{FEFF}",
            "\u{e9}",
            " ",
            "\t",
            "",
            "X1",
            "E13",
            "9999999999999999999999",
        ];
        let mut rng = Bytes(7);
        for case in 0..600 {
            let dir = tempfile::tempdir().unwrap();
            for table in ["sites", "children", "episodes", "workers", "allocations"] {
                let mut text = String::new();
                let n = rng.next() % 200;
                for _ in 0..n {
                    text.push_str(rng.pick(&pieces));
                }
                let mut bytes = text.into_bytes();
                if rng.next().is_multiple_of(7) {
                    bytes.push(0xE9); // a Windows-1252 byte
                }
                std::fs::write(dir.path().join(format!("{table}.csv")), bytes).unwrap();
            }
            let loaded = load(dir.path()).unwrap_or_else(|e| panic!("case {case}: {e}"));
            for p in &loaded.report.problems {
                assert!(!p.file.is_empty() && !p.message.is_empty(), "case {case}: {p:?}");
            }
        }
        // valid headers, random rows: every typing and cross-table rule gets exercised
        let headers = [
            ("sites", "site_id,name,arm,swp_model,go_live"),
            ("children", "child_id,site_id,sex,dob,ethnic"),
            ("episodes", "CHILD,DECOM,RNE,LS,CIN,PLACE,DEC,REC"),
            ("workers", "worker_id,site_id,role,fte,agency,start_date,end_date"),
            ("allocations", "CHILD,SW_ID,SW_DECOM,SW_DEC"),
        ];
        for case in 0..300 {
            let dir = tempfile::tempdir().unwrap();
            for (table, header) in headers {
                let mut text = format!("{header}\n");
                for _ in 0..rng.next() % 30 {
                    let fields = 1 + rng.next() % 9;
                    let row: Vec<&str> = (0..fields).map(|_| rng.pick(&pieces)).collect();
                    text.push_str(&row.join(","));
                    text.push('\n');
                }
                std::fs::write(dir.path().join(format!("{table}.csv")), text).unwrap();
            }
            let loaded = load(dir.path()).unwrap_or_else(|e| panic!("case {case}: {e}"));
            assert!(loaded.report.problems.iter().all(|p| !p.fix.is_empty() || p.rule == Rule::RaggedRow));
        }
    }
}
