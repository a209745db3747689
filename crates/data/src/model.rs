//! The dataset as read: its manifest, its typed tables with where each row came from, and the
//! child each child-level row resolves to. Loading ([`crate::dataset`]) builds it; validation
//! ([`crate::validate`]) reads and completes it.

use crate::date::format_date;
use crate::read::{Lines, RawTable};
use crate::schema::TableSpec;
use polars::prelude::*;
use serde::Deserialize;
use std::path::PathBuf;

/// `dataset.toml`: what the dataset is. Unknown keys are kept in `extra`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Manifest {
    /// Name of the dataset.
    pub name: Option<String>,
    /// Extract date as written (`YYYY-MM-DD`).
    pub extract_date: Option<String>,
    /// Free notes.
    pub notes: Option<String>,
    /// Every other key (for example a generator's seed and true effects).
    #[serde(flatten)]
    pub extra: toml::Table,
}

/// Where each row of a combined table came from.
#[derive(Debug, Clone)]
pub struct Origin {
    files: Vec<String>,
    rows: OriginRows,
}

#[derive(Debug, Clone)]
enum OriginRows {
    /// All rows from one file.
    Single(Lines),
    /// Per row: file index and line.
    Explicit { file: Vec<u16>, line: Vec<u32> },
}

impl Origin {
    pub(crate) fn single(raw: &RawTable<'_>) -> Self {
        Origin { files: vec![raw.file.clone()], rows: OriginRows::Single(raw.lines.clone()) }
    }

    pub(crate) fn empty() -> Self {
        Origin { files: Vec::new(), rows: OriginRows::Explicit { file: Vec::new(), line: Vec::new() } }
    }

    /// The file and line (for Parquet: row number) of row `row`.
    pub fn locate(&self, row: usize) -> (&str, u64) {
        match &self.rows {
            OriginRows::Single(lines) => {
                let line = match lines {
                    Lines::Simple => row as u64 + 2,
                    Lines::Explicit(v) => v.get(row).copied().map_or(0, u64::from),
                    Lines::ParquetRows => row as u64 + 1,
                };
                (self.files[0].as_str(), line)
            }
            OriginRows::Explicit { file, line } => (self.files[file[row] as usize].as_str(), u64::from(line[row])),
        }
    }

    pub(crate) fn explicit(&self, height: usize) -> (Vec<u16>, Vec<u32>) {
        match &self.rows {
            OriginRows::Explicit { file, line } => (file.clone(), line.clone()),
            OriginRows::Single(_) => (0..height).map(|r| (0u16, self.locate(r).1 as u32)).unzip(),
        }
    }

    /// Appends `other` (describing rows after this one's).
    pub(crate) fn append(&mut self, self_height: usize, other: &Origin, other_height: usize) {
        let (mut file, mut line) = self.explicit(self_height);
        let (ofile, oline) = other.explicit(other_height);
        let base = self.files.len() as u16;
        file.extend(ofile.iter().map(|f| f + base));
        line.extend(oline);
        self.files.extend(other.files.iter().cloned());
        self.rows = OriginRows::Explicit { file, line };
    }

    pub(crate) fn filter(&self, keep: &[bool]) -> Origin {
        let (file, line) = self.explicit(keep.len());
        let (file, line) = file.into_iter().zip(line).zip(keep).filter(|(_, &k)| k).map(|(x, _)| x).unzip();
        Origin { files: self.files.clone(), rows: OriginRows::Explicit { file, line } }
    }
}

/// A loaded table: its typed frame, where its rows came from, and the header each contract
/// column was read from (for messages).
#[derive(Debug, Clone)]
pub struct Table {
    /// Typed columns (see [`crate::schema`]): contract columns first, then extra columns.
    pub frame: DataFrame,
    /// Row origins.
    pub origin: Origin,
    /// Header cell of each contract column, by contract name, as written in the (first) file.
    pub headers: Vec<(String, String)>,
    /// Whether any file supplied this table.
    pub present: bool,
}

impl Table {
    pub(crate) fn empty(spec: &TableSpec) -> Self {
        let columns: Vec<Column> = spec
            .columns
            .iter()
            .map(|c| Column::full_null(PlSmallStr::from(c.name), 0, &crate::values::column_dtype(c.kind)))
            .collect();
        Table {
            frame: DataFrame::new(0, columns).expect("unique contract names"),
            origin: Origin::empty(),
            headers: Vec::new(),
            present: false,
        }
    }

    /// The header as written for contract column `name` (the name itself when absent).
    pub fn header(&self, name: &str) -> String {
        self.headers.iter().find(|(n, _)| n == name).map_or_else(|| name.to_string(), |(_, h)| h.clone())
    }

    /// Whether the contract column `name` came from a file (not only filled in or absent).
    pub fn has_column(&self, name: &str) -> bool {
        self.headers.iter().any(|(n, _)| n == name)
    }
}

/// A validated-or-not dataset with every table of the contract, typed.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The directory read.
    pub dir: PathBuf,
    /// `dataset.toml`, or defaults.
    pub manifest: Manifest,
    /// Extract date (days since 1970-01-01): the manifest's, or the latest date in the data.
    pub extract_date: Option<i32>,
    /// sites
    pub sites: Table,
    /// children (flat file and raw 903 headers); `site_id` filled in for 903 rows.
    pub children: Table,
    /// episodes; `site_id` filled in from the child.
    pub episodes: Table,
    /// workers
    pub workers: Table,
    /// allocations; `site_id` filled in from the child.
    pub allocations: Table,
    /// absences (empty when absent: see `Table::present`)
    pub absences: Table,
    /// contacts (empty when absent)
    pub contacts: Table,
    /// outcomes (empty when absent)
    pub outcomes: Table,
    /// costs (docs/data-contract.md v1.1; empty when absent)
    pub costs: Table,
    /// For each row of episodes, allocations, contacts and outcomes (in that order), the row of
    /// its child in `children`, as validation resolved it ([`UNRESOLVED`] where it could not):
    /// later layers join on it instead of looking children up by id again.
    pub child_rows: [Vec<u32>; 4],
    /// For each row of allocations, contacts and absences (in that order), the first row of its
    /// worker in `workers`, as validation found it ([`UNRESOLVED`] where the worker_id is missing
    /// or not in workers; empty before validation).
    pub worker_rows: [Vec<u32>; 3],
}

/// A row whose child or worker could not be resolved (see [`Dataset::child_rows`],
/// [`Dataset::worker_rows`]).
pub const UNRESOLVED: u32 = u32::MAX;

impl Dataset {
    /// The extract date as ISO text, if known.
    pub fn extract_date_text(&self) -> Option<String> {
        self.extract_date.map(format_date)
    }
}
