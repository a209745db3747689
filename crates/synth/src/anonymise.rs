//! Pseudonymisation of a dataset so that it can be kept beside the code: child and worker ids
//! replaced by a keyed hash, dates of birth coarsened, free text dropped, and a k-anonymity
//! report on the quasi-identifiers.
//!
//! # Method
//! - A child's pseudonym is `C` + the first 16 hex digits of HMAC-SHA-256(key, `child:` +
//!   site_id + `:` + child_id) (a child id is unique only within its site); a worker's is `W` +
//!   HMAC-SHA-256(key, `worker:` + worker_id). The same key gives the same pseudonyms in every
//!   table and every run; without the key they cannot be reversed or recomputed.
//! - Dates of birth become the first of their month.
//! - Only contract columns are written; free text (`workers.leave_reason`) and extra columns
//!   (postcodes, UPNs, URNs, ...) are dropped unless listed with `keep`. Site names and site
//!   characteristics (`x_*`) are kept: they describe authorities, not people.
//! - k-anonymity: children are grouped by the quasi-identifiers sex, birth month, ethnicity
//!   and site; a class smaller than k breaks k-anonymity. With `generalise`, birth dates are
//!   coarsened to the year (written as 1 July); then, for children still in classes below k,
//!   ethnicity is recoded to `NOBT` (not obtained); children still in classes below k are then
//!   suppressed (removed with all their rows), so that k holds. Every step is reported.
//!
//! The key is read from a file, must be at least 16 bytes, and never appears in any output.

use hmac::{Hmac, Mac};
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use swp_data::schema::{self, TableSpec};
use swp_data::typed::{civil_from_days, days_from_civil};
use swp_data::validate::{code_column, date_column, text_column};
use swp_data::{Dataset, Table};

/// Errors of the anonymiser.
#[derive(Debug, thiserror::Error)]
pub enum AnonymiseError {
    /// The key file is missing or unreadable.
    #[error(
        "could not read the key file {path}: {source} (create one with: head -c 32 /dev/urandom | base64 > {path})"
    )]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key is too short.
    #[error("the key in {path} is {len} bytes; at least {min} are needed (create one with: head -c 32 /dev/urandom | base64 > {path})")]
    ShortKey {
        /// The key file.
        path: PathBuf,
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// k must be at least 2.
    #[error("k = {0} is too small (use 2 or more; the default is 5)")]
    BadK(usize),
    /// The output directory is not new.
    #[error("{0} already exists and is not empty; choose a new output directory")]
    OutputExists(PathBuf),
    /// The output would overwrite the input.
    #[error("the output directory {0} is the input directory; nothing from the input is modified, so choose another")]
    SameDirectory(PathBuf),
    /// Writing failed.
    #[error("could not write {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// The minimum key length in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// A pseudonymisation key. Its `Debug` never shows the bytes.
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

impl Key {
    /// Reads a key file (surrounding white space is trimmed).
    ///
    /// # Errors
    /// [`AnonymiseError::KeyFile`] or [`AnonymiseError::ShortKey`].
    pub fn from_file(path: &Path) -> Result<Key, AnonymiseError> {
        let bytes =
            std::fs::read(path).map_err(|source| AnonymiseError::KeyFile { path: path.to_path_buf(), source })?;
        let trimmed = bytes.trim_ascii();
        if trimmed.len() < MIN_KEY_BYTES {
            return Err(AnonymiseError::ShortKey { path: path.to_path_buf(), len: trimmed.len(), min: MIN_KEY_BYTES });
        }
        Ok(Key(trimmed.to_vec()))
    }

    /// A key from bytes (tests).
    ///
    /// # Errors
    /// [`AnonymiseError::ShortKey`] when shorter than [`MIN_KEY_BYTES`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Key, AnonymiseError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(AnonymiseError::ShortKey {
                path: PathBuf::from("<bytes>"),
                len: bytes.len(),
                min: MIN_KEY_BYTES,
            });
        }
        Ok(Key(bytes.to_vec()))
    }

    fn pseudonym(&self, prefix: char, parts: &[&str]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                mac.update(b":");
            }
            mac.update(p.as_bytes());
        }
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(17);
        out.push(prefix);
        for b in &digest[..8] {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// Pseudonym of a child (`C` + 16 hex digits).
    pub fn child(&self, site_id: &str, child_id: &str) -> String {
        self.pseudonym('C', &["child", site_id, child_id])
    }

    /// Pseudonym of a worker (`W` + 16 hex digits).
    pub fn worker(&self, worker_id: &str) -> String {
        self.pseudonym('W', &["worker", worker_id])
    }
}

/// Options of [`anonymise`].
#[derive(Debug, Clone)]
pub struct AnonymiseParams {
    /// The k of k-anonymity (default 5).
    pub k: usize,
    /// Extra or free-text columns to keep, as `column` or `table.column`.
    pub keep: Vec<String>,
    /// Generalise until k holds: birth year, then ethnicity recoded to NOBT in small classes,
    /// then suppression of the children still in classes below k.
    pub generalise: bool,
}

impl Default for AnonymiseParams {
    fn default() -> Self {
        AnonymiseParams { k: 5, keep: Vec::new(), generalise: false }
    }
}

/// One equivalence class of the quasi-identifiers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QuasiClass {
    /// sex
    pub sex: String,
    /// birth month (`YYYY-MM`) or year (`YYYY`) after generalisation
    pub birth: String,
    /// ethnicity code
    pub ethnic: String,
    /// site
    pub site_id: String,
    /// children in the class
    pub size: usize,
}

/// The k-anonymity report written beside the anonymised tables.
#[derive(Debug, Clone, Serialize)]
pub struct KAnonymityReport {
    /// The k asked for.
    pub k: usize,
    /// The quasi-identifiers.
    pub quasi_identifiers: Vec<&'static str>,
    /// Children.
    pub n_children: usize,
    /// Distinct classes.
    pub n_classes: usize,
    /// Smallest class size (0 without children).
    pub smallest_class: usize,
    /// Whether every class has at least k children.
    pub k_holds: bool,
    /// Generalisation steps applied, in order.
    pub steps: Vec<String>,
    /// Classes smaller than k.
    pub classes_below_k: Vec<QuasiClass>,
    /// Pseudonymised ids of the children in classes below k.
    pub children_below_k: Vec<String>,
}

/// An anonymised dataset in memory.
#[derive(Debug)]
pub struct Anonymised {
    /// Tables to write, by name.
    pub tables: Vec<(&'static str, DataFrame)>,
    /// The dataset.toml text.
    pub manifest: String,
    /// The k-anonymity report.
    pub report: KAnonymityReport,
}

fn keeps(params: &AnonymiseParams, table: &str, column: &str) -> bool {
    params.keep.iter().any(|k| k == column || *k == format!("{table}.{column}"))
}

/// Columns written for a table: the contract columns (free text only when kept), the site
/// characteristics, then extra columns that are kept.
fn output_columns(spec: &TableSpec, table: &Table, params: &AnonymiseParams) -> Vec<String> {
    let free_text = ["leave_reason"];
    let mut names: Vec<String> = spec
        .columns
        .iter()
        .filter(|c| !free_text.contains(&c.name) || keeps(params, spec.name, c.name))
        .map(|c| c.name.to_string())
        .collect();
    for name in table.frame.get_column_names() {
        let name = name.as_str();
        if spec.column(name).is_some() || names.iter().any(|n| n == name) {
            continue;
        }
        let site_characteristic = spec.name == "sites" && name.starts_with("x_");
        if site_characteristic || keeps(params, spec.name, name) {
            names.push(name.to_string());
        }
    }
    if table.frame.column("site_id").is_ok() && !names.iter().any(|n| n == "site_id") {
        names.insert(1, "site_id".to_string());
    }
    names
}

fn replace_column(frame: &mut DataFrame, name: &str, values: Vec<Option<String>>) {
    let ca: StringChunked = values.into_iter().collect();
    frame.with_column(ca.with_name(PlSmallStr::from(name)).into_column()).expect("same height");
}

/// Pseudonymises `dataset`.
///
/// # Errors
/// [`AnonymiseError::BadK`] when k < 2.
pub fn anonymise(dataset: &Dataset, key: &Key, params: &AnonymiseParams) -> Result<Anonymised, AnonymiseError> {
    if params.k < 2 {
        return Err(AnonymiseError::BadK(params.k));
    }
    // Pseudonyms of every child (by site and id) and worker, computed once.
    let child_ids = text_column(&dataset.children.frame, "child_id");
    let child_sites = text_column(&dataset.children.frame, "site_id");
    let child_pseudonyms: Vec<Option<String>> = child_ids
        .par_iter()
        .zip(child_sites.par_iter())
        .map(|(id, site)| id.map(|id| key.child(site.unwrap_or(""), id)))
        .collect();
    let mut by_child: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for ((id, site), p) in child_ids.iter().zip(&child_sites).zip(&child_pseudonyms) {
        if let (Some(id), Some(p)) = (id, p) {
            by_child.insert((site.unwrap_or(""), id), p.as_str());
        }
    }
    let tables: [(&TableSpec, &Table); 8] = [
        (&schema::SITES, &dataset.sites),
        (&schema::CHILDREN, &dataset.children),
        (&schema::EPISODES, &dataset.episodes),
        (&schema::WORKERS, &dataset.workers),
        (&schema::ALLOCATIONS, &dataset.allocations),
        (&schema::ABSENCES, &dataset.absences),
        (&schema::CONTACTS, &dataset.contacts),
        (&schema::OUTCOMES, &dataset.outcomes),
    ];
    let mut out: Vec<(&'static str, DataFrame)> = Vec::new();
    for (spec, table) in tables {
        if !table.present {
            continue;
        }
        let columns = output_columns(spec, table, params);
        let mut frame =
            table.frame.select(columns.iter().map(|c| PlSmallStr::from(c.as_str()))).expect("existing columns");
        if frame.column("child_id").is_ok() {
            let ids = text_column(&table.frame, "child_id");
            let sites = text_column(&table.frame, "site_id");
            let values: Vec<Option<String>> = ids
                .par_iter()
                .zip(sites.par_iter())
                .map(|(id, site)| {
                    id.map(|id| {
                        let site = site.unwrap_or("");
                        by_child.get(&(site, id)).map_or_else(|| key.child(site, id), |p| p.to_string())
                    })
                })
                .collect();
            replace_column(&mut frame, "child_id", values);
        }
        if frame.column("worker_id").is_ok() {
            let values: Vec<Option<String>> =
                text_column(&table.frame, "worker_id").par_iter().map(|id| id.map(|id| key.worker(id))).collect();
            replace_column(&mut frame, "worker_id", values);
        }
        out.push((spec.name, frame));
    }

    // Dates of birth to the first of the month, then k-anonymity (and generalisation).
    let dob = date_column(&dataset.children.frame, "dob");
    let mut dob_out: Vec<Option<i32>> = dob
        .iter()
        .map(|d| {
            d.map(|d| {
                let (y, m, _) = civil_from_days(d);
                days_from_civil(y, m, 1)
            })
        })
        .collect();
    let sex = code_column(&dataset.children.frame, "sex");
    let mut ethnic: Vec<Option<String>> = code_column(&dataset.children.frame, "ethnic");
    let mut steps = Vec::new();
    let classes = |dob: &[Option<i32>], ethnic: &[Option<String>], year_only: bool| {
        let mut keys: Vec<(String, String, String, String)> = Vec::with_capacity(dob.len());
        let mut sizes: BTreeMap<(String, String, String, String), usize> = BTreeMap::new();
        for row in 0..dob.len() {
            let birth = dob[row].map_or_else(String::new, |d| {
                let (y, m, _) = civil_from_days(d);
                if year_only {
                    format!("{y:04}")
                } else {
                    format!("{y:04}-{m:02}")
                }
            });
            let key = (
                sex[row].clone().unwrap_or_default(),
                birth,
                ethnic[row].clone().unwrap_or_default(),
                child_sites[row].unwrap_or("").to_string(),
            );
            *sizes.entry(key.clone()).or_insert(0) += 1;
            keys.push(key);
        }
        (keys, sizes)
    };
    let (mut keys, mut sizes) = classes(&dob_out, &ethnic, false);
    let below = |sizes: &BTreeMap<(String, String, String, String), usize>| sizes.values().any(|&n| n < params.k);
    if params.generalise && below(&sizes) {
        for d in dob_out.iter_mut() {
            *d = d.map(|d| days_from_civil(civil_from_days(d).0, 7, 1));
        }
        steps.push("dob coarsened to the year (written as 1 July)".to_string());
        (keys, sizes) = classes(&dob_out, &ethnic, true);
        if below(&sizes) {
            let mut recoded = 0;
            for row in 0..keys.len() {
                if sizes[&keys[row]] < params.k && ethnic[row].as_deref() != Some("NOBT") {
                    ethnic[row] = Some("NOBT".to_string());
                    recoded += 1;
                }
            }
            steps.push(format!("ethnic recoded to NOBT for {recoded} children in classes below k"));
            (keys, sizes) = classes(&dob_out, &ethnic, true);
        }
    }
    // Last resort: children still in classes below k are suppressed with all their rows.
    let mut suppressed: PlHashSet<String> = PlHashSet::new();
    if params.generalise && below(&sizes) {
        for row in 0..keys.len() {
            if sizes[&keys[row]] < params.k {
                if let Some(p) = &child_pseudonyms[row] {
                    suppressed.insert(p.clone());
                }
            }
        }
        steps.push(format!(
            "{} children suppressed (removed with their episodes, allocations, contacts and outcomes)",
            suppressed.len()
        ));
        sizes.retain(|_, n| *n >= params.k);
    }
    let classes_below_k: Vec<QuasiClass> = sizes
        .iter()
        .filter(|(_, &n)| n < params.k)
        .map(|((sex, birth, ethnic, site_id), &size)| QuasiClass {
            sex: sex.clone(),
            birth: birth.clone(),
            ethnic: ethnic.clone(),
            site_id: site_id.clone(),
            size,
        })
        .collect();
    let children_below_k: Vec<String> = (0..keys.len())
        .filter(|&row| sizes.get(&keys[row]).is_some_and(|&n| n < params.k))
        .filter_map(|row| child_pseudonyms[row].clone())
        .collect();
    let report = KAnonymityReport {
        k: params.k,
        quasi_identifiers: vec!["sex", "birth month", "ethnic", "site_id"],
        n_children: keys.len() - suppressed.len(),
        n_classes: sizes.len(),
        smallest_class: sizes.values().copied().min().unwrap_or(0),
        k_holds: classes_below_k.is_empty(),
        steps,
        classes_below_k,
        children_below_k,
    };
    if let Some((_, children)) = out.iter_mut().find(|(n, _)| *n == "children") {
        let dob_ca: Int32Chunked = dob_out.into_iter().collect();
        children.with_column(dob_ca.with_name(PlSmallStr::from("dob")).into_date().into_column()).expect("same height");
        replace_column(children, "ethnic", ethnic);
    }
    if !suppressed.is_empty() {
        for (_, frame) in out.iter_mut() {
            if let Ok(ids) = frame.column("child_id").and_then(|c| c.str().cloned()) {
                let keep: BooleanChunked =
                    ids.iter().map(|id| Some(id.is_none_or(|id| !suppressed.contains(id)))).collect();
                *frame = frame.filter(&keep).expect("mask has the frame's height");
            }
        }
    }
    let manifest = manifest_text(dataset, &report);
    Ok(Anonymised { tables: out, manifest, report })
}

fn manifest_text(dataset: &Dataset, report: &KAnonymityReport) -> String {
    let mut table = dataset.manifest.extra.clone();
    let m = &dataset.manifest;
    let mut text = String::new();
    if let Some(name) = &m.name {
        text.push_str(&format!("name = {}\n", toml::Value::String(format!("{name} (anonymised)"))));
    }
    if let Some(d) = dataset.extract_date_text() {
        text.push_str(&format!("extract_date = \"{d}\"\n"));
    }
    if let Some(notes) = &m.notes {
        text.push_str(&format!("notes = {}\n", toml::Value::String(notes.clone())));
    }
    table.remove("anonymised");
    let mut anonymised = toml::Table::new();
    anonymised.insert("k".into(), toml::Value::Integer(report.k as i64));
    anonymised.insert("k_holds".into(), toml::Value::Boolean(report.k_holds));
    anonymised.insert("smallest_class".into(), toml::Value::Integer(report.smallest_class as i64));
    anonymised.insert(
        "steps".into(),
        toml::Value::Array(report.steps.iter().map(|s| toml::Value::String(s.clone())).collect()),
    );
    anonymised.insert(
        "method".into(),
        toml::Value::String("ids: HMAC-SHA-256 with a private key, truncated to 64 bits; dob: first of month".into()),
    );
    table.insert("anonymised".into(), toml::Value::Table(anonymised));
    text.push('\n');
    text.push_str(&toml::to_string(&table).unwrap_or_default());
    text
}

impl Anonymised {
    /// Writes the tables, `dataset.toml` and `k_anonymity.json` into `out`, which must be new
    /// or empty: everything goes to a temporary sibling directory first, renamed at the end.
    ///
    /// # Errors
    /// [`AnonymiseError::OutputExists`] or [`AnonymiseError::Write`].
    pub fn write(&self, out: &Path) -> Result<(), AnonymiseError> {
        if out.exists() && std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
            return Err(AnonymiseError::OutputExists(out.to_path_buf()));
        }
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let werr = |path: &Path, e: &dyn std::fmt::Display| AnonymiseError::Write {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(parent).map_err(|e| werr(parent, &e))?;
        let tmp = parent.join(format!(
            ".{}.tmp-{}",
            out.file_name().map_or("out".into(), |n| n.to_string_lossy()),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| werr(&tmp, &e))?;
        let result = (|| {
            for (name, frame) in &self.tables {
                let path = tmp.join(format!("{name}.csv"));
                let mut file = std::fs::File::create(&path).map_err(|e| werr(&path, &e))?;
                let mut frame = frame.clone();
                CsvWriter::new(&mut file).finish(&mut frame).map_err(|e| werr(&path, &e))?;
            }
            let path = tmp.join("dataset.toml");
            std::fs::write(&path, &self.manifest).map_err(|e| werr(&path, &e))?;
            let path = tmp.join("k_anonymity.json");
            let json = serde_json::to_string_pretty(&self.report).expect("serialisable") + "\n";
            std::fs::write(&path, json).map_err(|e| werr(&path, &e))?;
            if out.exists() {
                std::fs::remove_dir(out).map_err(|e| werr(out, &e))?;
            }
            std::fs::rename(&tmp, out).map_err(|e| werr(out, &e))
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_stable_and_site_scoped() {
        let a = Key::from_bytes(b"0123456789abcdef-key-a").unwrap();
        let b = Key::from_bytes(b"0123456789abcdef-key-b").unwrap();
        assert_eq!(a.child("P1", "42"), a.child("P1", "42"));
        assert_ne!(a.child("P1", "42"), b.child("P1", "42"));
        assert_ne!(a.child("P1", "42"), a.child("C1", "42"));
        assert_eq!(a.worker("W1").len(), 17);
        assert!(Key::from_bytes(b"short").is_err());
        assert_eq!(format!("{a:?}"), "Key(<redacted>)");
    }

    #[test]
    fn hmac_matches_the_rfc_4231_test_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
