//! Validation problems: what is wrong, where (file, line, column), the bad value and how to fix
//! it; collected for every rule, capped per rule with a count of the rest.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// The rules of the data contract (docs/data-contract.md), one per kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A required table has no file.
    MissingFile,
    /// A file could not be read or parsed as CSV / Parquet.
    UnreadableFile,
    /// A file has no header row, or a header and no rows where rows are required.
    EmptyFile,
    /// Bytes that are not UTF-8.
    NotUtf8,
    /// A row with more or fewer fields than the header.
    RaggedRow,
    /// A required column is absent.
    MissingColumn,
    /// Two header cells name the same column.
    DuplicateColumn,
    /// A required value is empty.
    MissingValue,
    /// A value not in the column's code list.
    UnknownCode,
    /// A date that does not parse.
    BadDate,
    /// A number that does not parse.
    BadNumber,
    /// A boolean that does not parse.
    BadBoolean,
    /// A key that must be unique appears twice.
    DuplicateKey,
    /// A reference to a row that does not exist in another table.
    DanglingReference,
    /// An end date before its start date.
    EndBeforeStart,
    /// Two episodes of one child cover the same day.
    OverlappingEpisodes,
    /// Two allocations of one child cover the same day.
    OverlappingAllocations,
    /// Two spells of one worker (workers.csv) cover the same day.
    OverlappingSpells,
    /// fte outside (0, 1].
    FteOutOfRange,
    /// A pilot site without go_live.
    PilotWithoutGoLive,
    /// A non-pilot site with an SWP model other than `none`.
    ModelWithoutPilot,
    /// dataset.toml does not parse.
    BadManifest,
}

impl Rule {
    /// The rule's stable name as printed and in JSON (`bad_date`).
    pub fn name(self) -> &'static str {
        match self {
            Rule::MissingFile => "missing_file",
            Rule::UnreadableFile => "unreadable_file",
            Rule::EmptyFile => "empty_file",
            Rule::NotUtf8 => "not_utf8",
            Rule::RaggedRow => "ragged_row",
            Rule::MissingColumn => "missing_column",
            Rule::DuplicateColumn => "duplicate_column",
            Rule::MissingValue => "missing_value",
            Rule::UnknownCode => "unknown_code",
            Rule::BadDate => "bad_date",
            Rule::BadNumber => "bad_number",
            Rule::BadBoolean => "bad_boolean",
            Rule::DuplicateKey => "duplicate_key",
            Rule::DanglingReference => "dangling_reference",
            Rule::EndBeforeStart => "end_before_start",
            Rule::OverlappingEpisodes => "overlapping_episodes",
            Rule::OverlappingAllocations => "overlapping_allocations",
            Rule::OverlappingSpells => "overlapping_spells",
            Rule::FteOutOfRange => "fte_out_of_range",
            Rule::PilotWithoutGoLive => "pilot_without_go_live",
            Rule::ModelWithoutPilot => "model_without_pilot",
            Rule::BadManifest => "bad_manifest",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One problem in a dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// The rule broken.
    pub rule: Rule,
    /// The file, relative to the dataset directory (`episodes.csv`, `903/C1/2010/header.csv`).
    pub file: String,
    /// 1-based line in the file (the header is line 1); for Parquet, the row number + 1 so that
    /// the first data row is 2 as in the equivalent CSV. None for file-level problems.
    pub line: Option<u64>,
    /// The column as named in the file's header, if the problem is in one column.
    pub column: Option<String>,
    /// The offending value, if any.
    pub value: Option<String>,
    /// What is wrong, in a sentence without the location.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, " column {column}")?;
        }
        write!(f, ": {} ({}); fix: {}", self.message, self.rule, self.fix)
    }
}

/// Default number of problems listed per rule; the rest are counted.
pub const DEFAULT_CAP_PER_RULE: usize = 20;

/// All problems found, capped per rule.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    /// Problems listed, in the order found within each rule, rules in contract order.
    pub problems: Vec<Problem>,
    /// Per rule: how many problems were found in all (listed or not).
    pub counts: BTreeMap<Rule, u64>,
    /// Listing cap per rule.
    #[serde(skip)]
    cap: usize,
}

impl Default for ValidationReport {
    fn default() -> Self {
        Self::with_cap(DEFAULT_CAP_PER_RULE)
    }
}

impl ValidationReport {
    /// An empty report listing at most `cap` problems per rule.
    pub fn with_cap(cap: usize) -> Self {
        ValidationReport { problems: Vec::new(), counts: BTreeMap::new(), cap: cap.max(1) }
    }

    /// The listing cap per rule.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Records a problem; lists it if the rule's cap is not reached, counts it always.
    pub fn push(&mut self, problem: Problem) {
        let count = self.counts.entry(problem.rule).or_insert(0);
        *count += 1;
        if *count as usize <= self.cap {
            self.problems.push(problem);
        }
    }

    /// Appends `other`'s problems after this report's, keeping the per-rule cap and counts.
    pub fn merge(&mut self, other: ValidationReport) {
        for (rule, n) in &other.counts {
            let listed_before = self.counts.get(rule).copied().unwrap_or(0);
            *self.counts.entry(*rule).or_insert(0) += n;
            let room = (self.cap as u64).saturating_sub(listed_before) as usize;
            self.problems.extend(other.problems.iter().filter(|p| p.rule == *rule).take(room).cloned());
        }
    }

    /// Whether a problem was found.
    pub fn has_problems(&self) -> bool {
        !self.counts.is_empty()
    }

    /// Total number of problems found.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Number of problems found under `rule`.
    pub fn count(&self, rule: Rule) -> u64 {
        self.counts.get(&rule).copied().unwrap_or(0)
    }

    /// Problems not listed because of the cap, per rule.
    pub fn unlisted(&self) -> Vec<(Rule, u64)> {
        self.counts.iter().filter(|(_, &n)| n as usize > self.cap).map(|(&r, &n)| (r, n - self.cap as u64)).collect()
    }

    /// Sorts listed problems by rule, then file, then line, for stable output.
    pub fn sort(&mut self) {
        self.problems.sort_by(|a, b| (a.rule, &a.file, a.line, &a.column).cmp(&(b.rule, &b.file, b.line, &b.column)));
    }
}
