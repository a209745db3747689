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
//! - k-anonymity: children are grouped by the quasi-identifiers sex, date of birth (with its
//!   precision), ethnicity (with its precision) and site; a class smaller than k breaks
//!   k-anonymity. With [`Protection::Generalise`], the dates of birth and ethnicity codes are generalised
//!   along their hierarchies (month -> quarter -> year -> five years; code -> group -> not
//!   recorded) by the search and local recoding of [`hierarchy`]: the least costly generalisation
//!   for everyone, then class by class, and a child is removed (with all its rows) only when
//!   nothing else reaches k. Sex and site are never generalised (the analysis is by site, and
//!   matching is exact on sex).
//! - The report (`k_anonymity.json`) measures what the protection cost and what risk is left:
//!   every generalisation tried with its loss, the children at each level of each hierarchy,
//!   the children removed and why, the share of children whose ethnic group survives, sample
//!   uniques before and after, and the l-diversity of legal status and category of need
//!   ([`risk`]).
//!
//! The key is read from a file, must be at least 16 bytes, and never appears in any output.

use hmac::{Hmac, Mac};
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use swp_data::columns::{code_column, date_column, text_column};
use swp_data::date::civil_from_days;
use swp_data::schema::{self, TableSpec};
use swp_data::{Dataset, Table};

pub mod hierarchy;
pub mod risk;

use hierarchy::{ClassKey, DobLevel, EthnicLevel, NodeSummary, QuasiIdentifiers};

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
    /// A column to keep that cannot name one.
    #[error("--keep `{entry}` does not name a column: write `column` or `table.column` with a table of the data contract (sites, children, episodes, workers, allocations, ...)")]
    BadKeep {
        /// The entry as given.
        entry: String,
    },
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

/// What the anonymiser does when some children share their quasi-identifiers with fewer than
/// k - 1 others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protection {
    /// Coarsen dates of birth to the month, and report the classes below k (the analyst
    /// decides).
    #[default]
    Report,
    /// Generalise until k holds: the search and local recoding of [`hierarchy`], then removal of
    /// the children nothing else protects.
    Generalise,
}

/// Options of [`anonymise`], unchecked; [`AnonymiseParams::check`] validates them.
#[derive(Debug, Clone)]
pub struct AnonymiseParams {
    /// The k of k-anonymity (default 5).
    pub k: usize,
    /// Extra or free-text columns to keep, as `column` or `table.column`.
    pub keep: Vec<String>,
    /// Report or generalise.
    pub protection: Protection,
}

/// Checked options: what [`anonymise`] takes.
#[derive(Debug, Clone)]
pub struct ValidAnonymiseParams(AnonymiseParams);

impl std::ops::Deref for ValidAnonymiseParams {
    type Target = AnonymiseParams;
    fn deref(&self) -> &AnonymiseParams {
        &self.0
    }
}

impl Default for AnonymiseParams {
    fn default() -> Self {
        AnonymiseParams::new()
    }
}

impl AnonymiseParams {
    /// k = 5, nothing extra kept, report only.
    pub fn new() -> Self {
        AnonymiseParams { k: 5, keep: Vec::new(), protection: Protection::Report }
    }

    /// Checks the options once, before any child is pseudonymised.
    ///
    /// # Errors
    /// [`AnonymiseError::BadK`] when k < 2; [`AnonymiseError::BadKeep`] for a `keep` entry that
    /// is empty or names a table the data contract does not have.
    pub fn check(self) -> Result<ValidAnonymiseParams, AnonymiseError> {
        if self.k < 2 {
            return Err(AnonymiseError::BadK(self.k));
        }
        for entry in &self.keep {
            let (table, column) = entry.split_once('.').map_or((None, entry.as_str()), |(t, c)| (Some(t), c));
            if column.is_empty() || column.contains('.') {
                return Err(AnonymiseError::BadKeep { entry: entry.clone() });
            }
            if table.is_some_and(|t| !swp_data::schema::TABLES.iter().any(|spec| spec.name == t)) {
                return Err(AnonymiseError::BadKeep { entry: entry.clone() });
            }
        }
        Ok(ValidAnonymiseParams(self))
    }
}

/// One equivalence class of the quasi-identifiers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QuasiClass {
    /// sex
    pub sex: String,
    /// the written date of birth (ISO)
    pub birth: String,
    /// how precise it is (`month`, `quarter`, `year`, `5 years`)
    pub dob_precision: &'static str,
    /// ethnicity code as written
    pub ethnic: String,
    /// what it tells (`code`, `group`, `not recorded`)
    pub ethnic_precision: &'static str,
    /// site
    pub site_id: String,
    /// children in the class
    pub size: usize,
}

/// The hierarchies used, finest level first.
#[derive(Debug, Clone, Serialize)]
pub struct Hierarchies {
    /// Date-of-birth levels.
    pub dob: Vec<&'static str>,
    /// Ethnicity levels.
    pub ethnic: Vec<&'static str>,
    /// How a generalised value is written.
    pub written_as: Vec<&'static str>,
}

impl Default for Hierarchies {
    fn default() -> Self {
        Hierarchies {
            dob: DobLevel::ALL.iter().map(|l| l.label()).collect(),
            ethnic: vec!["code", "group", "not recorded"],
            written_as: vec![
                "dob: the first of the month; the first of the quarter's middle month; 1 July of the year; 1 July of the middle year of five (2000-2004, 2005-2009, ...); column dob_precision when any child is coarser than a month",
                "ethnic group (docs/evaluation.md): its 'other' code, WOTH MOTH AOTH BOTH OOTH, with column ethnic_precision = group; not recorded: NOBT",
            ],
        }
    }
}

/// Children at one level of a hierarchy.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LevelCount {
    /// The level.
    pub level: &'static str,
    /// Children written at it.
    pub children: usize,
    /// Share of the input's children.
    pub share: f64,
}

impl LevelCount {
    fn new(level: &'static str, children: usize, input: usize) -> Self {
        LevelCount { level, children, share: if input > 0 { children as f64 / input as f64 } else { 0.0 } }
    }
}

/// Children removed, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Removed {
    /// How many.
    pub children: usize,
    /// Why (empty when none).
    pub why: String,
}

/// Children alone in their class, before (the input's exact values) and after.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SampleUniques {
    /// In the input, with exact dates of birth and codes.
    pub before: usize,
    /// In the input with dates of birth at the month (what anonymisation without generalisation
    /// writes).
    pub before_birth_month: usize,
    /// In the output.
    pub after: usize,
}

/// What became of the input's ethnicity values.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EthnicityLoss {
    /// Levels, as [`LevelCount`]: `code` (kept), `group` (code replaced by its group's, group kept),
    /// `not recorded` (group lost: written NOBT), `missing` (blank in the input), `removed`.
    pub levels: Vec<LevelCount>,
    /// Share of the input's children whose ethnic group (docs/evaluation.md) the output still gives.
    pub group_kept_share: f64,
}

/// The k-anonymity report written beside the anonymised tables.
#[derive(Debug, Clone, Serialize)]
pub struct KAnonymityReport {
    /// The k asked for.
    pub k: usize,
    /// The quasi-identifiers.
    pub quasi_identifiers: Vec<&'static str>,
    /// Children in the input.
    pub input_children: usize,
    /// Children written.
    pub n_children: usize,
    /// Distinct classes.
    pub n_classes: usize,
    /// Smallest class size (0 without children).
    pub smallest_class: usize,
    /// Whether every class has at least k children.
    pub k_holds: bool,
    /// What was done, in order.
    pub steps: Vec<String>,
    /// The generalisation hierarchies.
    pub hierarchies: Hierarchies,
    /// Every starting generalisation tried, measured (empty without `generalise`).
    pub search: Vec<NodeSummary>,
    /// Children written at each date-of-birth level.
    pub dob_precision: Vec<LevelCount>,
    /// What became of ethnicity.
    pub ethnicity: EthnicityLoss,
    /// Children removed.
    pub removed: Removed,
    /// Sample uniques before and after.
    pub sample_uniques: SampleUniques,
    /// l-diversity of the sensitive attributes over the output's classes.
    pub l_diversity: Vec<risk::LDiversity>,
    /// Classes smaller than k.
    pub classes_below_k: Vec<QuasiClass>,
    /// Pseudonymised ids of the children in classes below k.
    pub children_below_k: Vec<String>,
}

/// More files for [`Anonymised::write_with`], made from the written directory.
pub type Extra<'a> = dyn Fn(&Path) -> Result<Vec<(String, Vec<u8>)>, String> + 'a;

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

/// Pseudonymises `dataset` under checked options (it cannot fail: the options were checked,
/// and writing is [`Anonymised::write_with`]'s).
pub fn anonymise(dataset: &Dataset, key: &Key, params: &ValidAnonymiseParams) -> Anonymised {
    let params: &AnonymiseParams = params;
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
    let tables: [(&TableSpec, &Table); 9] = [
        (&schema::SITES, &dataset.sites),
        (&schema::CHILDREN, &dataset.children),
        (&schema::EPISODES, &dataset.episodes),
        (&schema::WORKERS, &dataset.workers),
        (&schema::ALLOCATIONS, &dataset.allocations),
        (&schema::ABSENCES, &dataset.absences),
        (&schema::CONTACTS, &dataset.contacts),
        (&schema::OUTCOMES, &dataset.outcomes),
        (&schema::COSTS, &dataset.costs),
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

    // Dates of birth to the month (or coarser), ethnicity along its hierarchy, until k holds.
    let dob = date_column(&dataset.children.frame, "dob");
    let sex = code_column(&dataset.children.frame, "sex");
    let ethnic_in: Vec<Option<String>> = code_column(&dataset.children.frame, "ethnic");
    let sex_ref: Vec<Option<&str>> = sex.iter().map(Option::as_deref).collect();
    let ethnic_ref: Vec<Option<&str>> = ethnic_in.iter().map(Option::as_deref).collect();
    let q = QuasiIdentifiers::new(&child_sites, &sex_ref, &dob, &ethnic_ref);
    let n = q.len();
    let (outcome, search) = if params.protection == Protection::Generalise {
        hierarchy::search(&q, params.k)
    } else {
        let none = (DobLevel::Month, EthnicLevel::Code);
        let outcome = hierarchy::Outcome {
            start: none,
            dob_level: vec![DobLevel::Month as u8; n],
            ethnic_level: vec![EthnicLevel::Code as u8; n],
            removed: vec![false; n],
            summary: hierarchy::NodeSummary::default_for(none),
        };
        (outcome, Vec::new())
    };
    let kept: Vec<usize> = (0..n).filter(|&i| !outcome.removed[i]).collect();
    let keys: Vec<ClassKey> = kept.iter().map(|&i| q.key(i, outcome.dob_level[i], outcome.ethnic_level[i])).collect();
    let mut sizes: BTreeMap<ClassKey, usize> = BTreeMap::new();
    for key in &keys {
        *sizes.entry(*key).or_insert(0) += 1;
    }
    let below: Vec<usize> = (0..kept.len()).filter(|&r| sizes[&keys[r]] < params.k).collect();
    let mut classes_below_k: BTreeMap<ClassKey, QuasiClass> = BTreeMap::new();
    for &r in &below {
        let i = kept[r];
        classes_below_k.entry(keys[r]).or_insert_with(|| QuasiClass {
            sex: sex[i].clone().unwrap_or_default(),
            birth: q.written_dob(i, outcome.dob_level[i]).map(iso).unwrap_or_default(),
            dob_precision: DobLevel::ALL[outcome.dob_level[i] as usize].label(),
            ethnic: q.written_ethnic(i, outcome.ethnic_level[i]).unwrap_or("").to_string(),
            ethnic_precision: q.ethnic_precision(i, outcome.ethnic_level[i]).unwrap_or(""),
            site_id: child_sites[i].unwrap_or("").to_string(),
            size: sizes[&keys[r]],
        });
    }
    let children_below_k: Vec<String> = below.iter().filter_map(|&r| child_pseudonyms[kept[r]].clone()).collect();
    let steps = describe_steps(&q, &outcome, params);
    let report = KAnonymityReport {
        k: params.k,
        quasi_identifiers: vec!["sex", "dob (with dob_precision)", "ethnic (with ethnic_precision)", "site_id"],
        input_children: n,
        n_children: kept.len(),
        n_classes: sizes.len(),
        smallest_class: sizes.values().copied().min().unwrap_or(0),
        k_holds: below.is_empty(),
        steps,
        hierarchies: Hierarchies::default(),
        search,
        dob_precision: DobLevel::ALL
            .iter()
            .map(|&l| LevelCount::new(l.label(), kept.iter().filter(|&&i| outcome.dob_level[i] == l as u8).count(), n))
            .collect(),
        ethnicity: ethnicity_counts(&q, &outcome, &ethnic_ref, n),
        removed: Removed {
            children: n - kept.len(),
            why: if n == kept.len() {
                String::new()
            } else {
                format!(
                    "in classes of fewer than {} children with the birth date at 5 years and the ethnicity not recorded, the top of both hierarchies",
                    params.k
                )
            },
        },
        sample_uniques: SampleUniques {
            before: risk::sample_uniques(
                &(0..n).map(|i| (child_sites[i], sex_ref[i], dob[i], ethnic_ref[i])).collect::<Vec<_>>(),
            ),
            before_birth_month: risk::sample_uniques(&(0..n).map(|i| q.key(i, 0, 0)).collect::<Vec<_>>()),
            after: risk::sample_uniques(&keys),
        },
        l_diversity: sensitive_attributes(dataset, &child_ids, &child_sites)
            .iter()
            .map(|(name, source, values)| {
                let values: Vec<Option<&str>> = kept.iter().map(|&i| values[i].as_deref()).collect();
                risk::l_diversity(name, source, &keys, &values)
            })
            .collect(),
        classes_below_k: classes_below_k.into_values().collect(),
        children_below_k,
    };
    let suppressed: PlHashSet<String> =
        (0..n).filter(|&i| outcome.removed[i]).filter_map(|i| child_pseudonyms[i].clone()).collect();
    if let Some((_, children)) = out.iter_mut().find(|(n, _)| *n == "children") {
        let dob_out: Int32Chunked = (0..n).map(|i| q.written_dob(i, outcome.dob_level[i])).collect();
        children
            .with_column(dob_out.with_name(PlSmallStr::from("dob")).into_date().into_column())
            .expect("same height");
        let ethnic_out: Vec<Option<String>> =
            (0..n).map(|i| q.written_ethnic(i, outcome.ethnic_level[i]).map(str::to_string)).collect();
        replace_column(children, "ethnic", ethnic_out);
        if outcome.dob_level.iter().any(|&l| l != DobLevel::Month as u8) {
            let precision: Vec<Option<String>> = (0..n)
                .map(|i| q.written_dob(i, 0).map(|_| DobLevel::ALL[outcome.dob_level[i] as usize].label().to_string()))
                .collect();
            replace_column(children, "dob_precision", precision);
        }
        let precision: Vec<Option<&str>> = (0..n).map(|i| q.ethnic_precision(i, outcome.ethnic_level[i])).collect();
        if precision.iter().enumerate().any(|(i, p)| !outcome.removed[i] && *p == Some("group")) {
            replace_column(
                children,
                "ethnic_precision",
                precision.into_iter().map(|p| p.map(str::to_string)).collect(),
            );
        }
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
    Anonymised { tables: out, manifest, report }
}

fn iso(day: i32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The steps `k_anonymity.json` lists, in words.
fn describe_steps(q: &QuasiIdentifiers, outcome: &hierarchy::Outcome, params: &AnonymiseParams) -> Vec<String> {
    let n = q.len();
    let mut steps = vec!["dob coarsened to the first of the month".to_string()];
    if params.protection == Protection::Report {
        return steps;
    }
    let (d, e) = outcome.start;
    steps.push(format!(
        "searched the 12 generalisations of (dob, ethnic) for the least loss to the analysis; chosen: dob {}, ethnic {} for every child",
        d.label(),
        match e {
            EthnicLevel::Code => "code",
            EthnicLevel::Group => "group",
            EthnicLevel::NotRecorded => "not recorded",
        }
    ));
    let kept = |i: usize| !outcome.removed[i];
    for level in DobLevel::ALL.iter().filter(|&&l| l > d) {
        let raised = (0..n).filter(|&i| kept(i) && outcome.dob_level[i] == *level as u8).count();
        if raised > 0 {
            steps.push(format!("local recoding: dob to {} for {raised} children in classes below k", level.label()));
        }
    }
    for level in EthnicLevel::ALL.iter().filter(|&&l| l > e) {
        let raised = (0..n)
            .filter(|&i| {
                kept(i)
                    && outcome.ethnic_level[i] == *level as u8
                    && q.written_ethnic(i, *level as u8) != q.written_ethnic(i, e as u8)
            })
            .count();
        if raised > 0 {
            let to = if *level == EthnicLevel::Group { "its group" } else { "not recorded (NOBT)" };
            steps.push(format!("local recoding: ethnic to {to} for {raised} children in classes below k"));
        }
    }
    let removed = outcome.removed.iter().filter(|&&r| r).count();
    if removed > 0 {
        steps.push(format!(
            "{removed} children removed (with their episodes, allocations, contacts and outcomes): still in classes below k with both values at the top of their hierarchies"
        ));
    }
    steps
}

fn ethnicity_counts(
    q: &QuasiIdentifiers,
    outcome: &hierarchy::Outcome,
    ethnic: &[Option<&str>],
    n: usize,
) -> EthnicityLoss {
    let (mut code, mut group, mut lost, mut missing, mut removed) = (0, 0, 0, 0, 0);
    for (i, truth) in ethnic.iter().enumerate().take(n) {
        if outcome.removed[i] {
            removed += 1;
            continue;
        }
        let Some(truth) = *truth else {
            missing += 1;
            continue;
        };
        let written = q.written_ethnic(i, outcome.ethnic_level[i]).unwrap_or("");
        if written == truth && q.ethnic_precision(i, outcome.ethnic_level[i]) != Some("group") {
            code += 1;
        } else if swp_data::codes::ethnic_group_index(written) == swp_data::codes::ethnic_group_index(truth) {
            group += 1;
        } else {
            lost += 1;
        }
    }
    EthnicityLoss {
        group_kept_share: if n > 0 { (code + group) as f64 / n as f64 } else { 0.0 },
        levels: vec![
            LevelCount::new("code", code, n),
            LevelCount::new("group", group, n),
            LevelCount::new("not recorded", lost, n),
            LevelCount::new("missing", missing, n),
            LevelCount::new("removed", removed, n),
        ],
    }
}

/// The sensitive attributes whose l-diversity is reported, one value per child of the
/// children table: legal status and category of need of the child's latest episode.
fn sensitive_attributes(
    dataset: &Dataset,
    child_ids: &[Option<&str>],
    child_sites: &[Option<&str>],
) -> Vec<(&'static str, &'static str, Vec<Option<String>>)> {
    let frame = &dataset.episodes.frame;
    let ids = text_column(frame, "child_id");
    let sites = text_column(frame, "site_id");
    let starts = date_column(frame, "decom");
    let ls = code_column(frame, "ls");
    let cin = code_column(frame, "cin");
    // the latest episode of each (site, child): the greatest start, the later row on a tie
    let mut latest: BTreeMap<(&str, &str), (i32, usize)> = BTreeMap::new();
    for row in 0..ids.len() {
        if let (Some(id), Some(start)) = (ids[row], starts[row]) {
            let key = (sites.get(row).copied().flatten().unwrap_or(""), id);
            let e = latest.entry(key).or_insert((start, row));
            if start >= e.0 {
                *e = (start, row);
            }
        }
    }
    let of = |column: &[Option<String>]| -> Vec<Option<String>> {
        child_ids
            .iter()
            .zip(child_sites)
            .map(|(id, site)| {
                let row = latest.get(&(site.unwrap_or(""), (*id)?))?.1;
                column.get(row).cloned().flatten()
            })
            .collect()
    };
    vec![
        ("legal_status", "ls of the child's latest episode", of(&ls)),
        ("category_of_need", "cin of the child's latest episode", of(&cin)),
    ]
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
        toml::Value::String(
            "ids: HMAC-SHA-256 with a private key, truncated to 64 bits; dob: first of month, or coarser as dob_precision says; ethnic: as ethnic_precision says".into(),
        ),
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
        self.write_with(out, &|_| Ok(Vec::new()))
    }

    /// [`Anonymised::write`], with more files: `extra` is called with the temporary directory
    /// once the tables and reports are in it (to read them back, for example) and returns files
    /// (name, bytes) to add before the directory is renamed into place.
    ///
    /// # Errors
    /// As [`Anonymised::write`]; an error of `extra` is a [`AnonymiseError::Write`].
    pub fn write_with(&self, out: &Path, extra: &Extra<'_>) -> Result<(), AnonymiseError> {
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
            for (name, bytes) in extra(&tmp).map_err(|e| werr(&tmp, &e))? {
                let path = tmp.join(name);
                std::fs::write(&path, bytes).map_err(|e| werr(&path, &e))?;
            }
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
    fn options_are_checked_before_anything_runs() {
        assert!(matches!(AnonymiseParams { k: 1, ..AnonymiseParams::new() }.check(), Err(AnonymiseError::BadK(1))));
        for bad in ["", "nosuch.postcode", "children.", "a.b.c"] {
            let params = AnonymiseParams { keep: vec![bad.into()], ..AnonymiseParams::new() };
            assert!(matches!(params.check(), Err(AnonymiseError::BadKeep { .. })), "{bad:?}");
        }
        let params =
            AnonymiseParams { keep: vec!["postcode".into(), "children.upn".into()], ..AnonymiseParams::default() };
        assert_eq!(params.check().unwrap().k, 5);
    }

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
