//! Cross-row and cross-table rules of the data contract: unique keys, references, end before
//! start, overlapping episodes and allocations, fte range, pilot sites. Also fills in each
//! child-level row's `site_id` from its child.
//!
//! A child's or worker's identifier appears in a message only for the row at fault.

use crate::columns::{code_column, date_column, number_column, same_text, text_column, DateView, TextView};
use crate::date::format_date;
use crate::model::{Dataset, Table, UNRESOLVED};
use crate::problem::{Problem, Rule, ValidationReport};
use hashbrown::HashTable;
use polars::prelude::*;
use polars_arrow::array::View;
use rayon::prelude::*;

struct At<'a> {
    table: &'a Table,
}

impl At<'_> {
    fn problem(
        &self,
        rule: Rule,
        row: usize,
        column: &str,
        value: Option<String>,
        message: String,
        fix: &str,
    ) -> Problem {
        let (file, line) = self.table.origin.locate(row);
        Problem {
            rule,
            file: file.to_string(),
            line: Some(line),
            column: Some(self.table.header(column)),
            value,
            message,
            fix: fix.to_string(),
        }
    }
}

/// Runs every cross-row rule, adding problems to `report` in a fixed order.
pub fn validate(dataset: &mut Dataset, report: &mut ValidationReport) {
    check_sites(&dataset.sites, report);
    let site_ids: PlHashSet<String> =
        text_column(&dataset.sites.frame, "site_id").into_iter().flatten().map(str::to_string).collect();
    // the children's index and the workers' checks side by side; problems in that order
    // (pushed one by one after the children's, as if checked after them)
    let mut workers_report = ValidationReport::with_cap(usize::MAX);
    let (children, workers) = rayon::join(
        || ChildIndex::build(&dataset.children, &site_ids, report),
        || check_workers(&dataset.workers, &site_ids, &mut workers_report),
    );
    for problem in workers_report.problems {
        report.push(problem);
    }

    let cap = report.cap();
    let mut locals: Vec<ValidationReport> = Vec::new();
    let mut new_sites: Vec<Option<Column>> = Vec::new();
    let jobs: Vec<(&Table, bool)> = vec![
        (&dataset.episodes, true),
        (&dataset.allocations, true),
        (&dataset.contacts, false),
        (&dataset.outcomes, false),
    ];
    // per table: the filled site_id, its problems, its rows' child rows and worker rows
    type Checked = (Option<Column>, ValidationReport, Vec<u32>, Vec<u32>);
    let results: Vec<Checked> = jobs
        .par_iter()
        .enumerate()
        .map(|(k, (table, _))| {
            let mut local = ValidationReport::with_cap(cap);
            let at = At { table };
            let (site_column, child_rows) = children.resolve(table, &at, &mut local);
            let mut worker_rows = Vec::new();
            match k {
                0 => check_spells(
                    table,
                    &at,
                    &child_rows,
                    "decom",
                    "dec",
                    Rule::OverlappingEpisodes,
                    "episode",
                    &mut local,
                ),
                1 => {
                    worker_rows = check_worker_refs(table, &at, &workers, &mut local);
                    check_spells(
                        table,
                        &at,
                        &child_rows,
                        "start_date",
                        "end_date",
                        Rule::OverlappingAllocations,
                        "allocation",
                        &mut local,
                    );
                }
                2 => {
                    worker_rows = check_worker_refs(table, &at, &workers, &mut local);
                    check_minutes(table, &at, &mut local);
                }
                _ => {}
            }
            let mut child_rows = child_rows;
            for row in child_rows.iter_mut().filter(|r| **r >= AMBIGUOUS_CHILD) {
                *row = UNRESOLVED;
            }
            (site_column, local, child_rows, worker_rows)
        })
        .collect();
    for (k, (c, local, child_rows, worker_rows)) in results.into_iter().enumerate() {
        new_sites.push(c);
        locals.push(local);
        dataset.child_rows[k] = child_rows;
        if k == 1 || k == 2 {
            dataset.worker_rows[k - 1] = worker_rows;
        }
    }
    let mut absences_report = ValidationReport::with_cap(cap);
    {
        let at = At { table: &dataset.absences };
        dataset.worker_rows[2] = check_worker_refs(&dataset.absences, &at, &workers, &mut absences_report);
        check_end_before_start(&dataset.absences, &at, "start_date", "end_date", "absence", &mut absences_report);
    }
    for local in locals {
        report.merge(local);
    }
    report.merge(absences_report);
    check_costs(&dataset.costs, &site_ids, report);
    for (table, column) in
        [&mut dataset.episodes, &mut dataset.allocations, &mut dataset.contacts, &mut dataset.outcomes]
            .into_iter()
            .zip(new_sites)
    {
        if let Some(c) = column {
            table.frame.with_column(c).expect("site_id has the table's height");
        }
    }
}

/// The first calendar year of a financial year written `2009-10` (None when it is not one).
pub fn financial_year_start(text: &str) -> Option<i32> {
    let (a, b) = text.trim().split_once('-')?;
    if a.len() != 4 || b.len() != 2 || !a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let first: i32 = a.parse().ok()?;
    let second: i32 = b.parse().ok()?;
    ((first + 1) % 100 == second && (1900..2100).contains(&first)).then_some(first)
}

/// costs (docs/data-contract.md v1.1): the year written `2009-10`, a non-negative amount, a site that
/// exists, one row per (site, year, category).
fn check_costs(costs: &Table, site_ids: &PlHashSet<String>, report: &mut ValidationReport) {
    if !costs.present {
        return;
    }
    let at = At { table: costs };
    let sites = text_column(&costs.frame, "site_id");
    let years = text_column(&costs.frame, "financial_year");
    let categories = code_column(&costs.frame, "category");
    let amounts = number_column(&costs.frame, "amount");
    let mut seen: PlHashMap<(&str, &str, &str), usize> = PlHashMap::new();
    for row in 0..costs.frame.height() {
        if let Some(site) = sites[row] {
            check_site_ref(&at, row, site, site_ids, report);
        }
        if let Some(year) = years[row] {
            if financial_year_start(year).is_none() {
                report.push(at.problem(
                    Rule::BadDate,
                    row,
                    "financial_year",
                    Some(year.to_string()),
                    format!("`{year}` is not a financial year"),
                    "write the financial year as its two calendar years, e.g. 2009-10 (1 April 2009 to 31 March 2010)",
                ));
            }
        }
        if let Some(amount) = amounts[row] {
            if !(amount.is_finite() && amount >= 0.0) {
                report.push(at.problem(
                    Rule::BadNumber,
                    row,
                    "amount",
                    Some(amount.to_string()),
                    format!("amount {amount} is not a sum spent"),
                    "give the amount in pounds, 0 or more (a refund belongs in the year's net figure)",
                ));
            }
        }
        let category = categories[row].as_deref().and_then(|c| crate::codes::COST_CATEGORY.canonical(c));
        if let (Some(site), Some(year), Some(category)) = (sites[row], years[row], category) {
            let key = (site, year.trim(), category);
            if let Some(first) = seen.insert(key, row) {
                let (_, line) = costs.origin.locate(first);
                report.push(at.problem(
                    Rule::DuplicateKey,
                    row,
                    "category",
                    Some(category.to_string()),
                    format!("site `{site}` already has a `{category}` row for {year} (line {line})"),
                    "give one row per site, financial year and category: add the amounts together",
                ));
            }
        }
    }
}

fn check_sites(sites: &Table, report: &mut ValidationReport) {
    let at = At { table: sites };
    let ids = text_column(&sites.frame, "site_id");
    let arms = code_column(&sites.frame, "arm");
    let models = code_column(&sites.frame, "swp_model");
    let arms: Vec<Option<&str>> = arms.iter().map(Option::as_deref).collect();
    let models: Vec<Option<&str>> = models.iter().map(Option::as_deref).collect();
    let go_live = date_column(&sites.frame, "go_live");
    let mut seen: PlHashMap<&str, usize> = PlHashMap::new();
    for row in 0..sites.frame.height() {
        if let Some(id) = ids[row] {
            if let Some(first) = seen.insert(id, row) {
                let (_, line) = sites.origin.locate(first);
                report.push(at.problem(
                    Rule::DuplicateKey,
                    row,
                    "site_id",
                    Some(id.to_string()),
                    format!("site_id `{id}` is already used on line {line}"),
                    "give every site its own site_id",
                ));
            }
        }
        let is_pilot = arms[row] == Some("pilot");
        if is_pilot && go_live[row].is_none() {
            report.push(at.problem(
                Rule::PilotWithoutGoLive,
                row,
                "go_live",
                None,
                "a pilot site needs its go_live date".into(),
                "fill in go_live, the day the Social Work Practice took its first cases",
            ));
        }
        if is_pilot && models[row].is_none_or(|m| m == "none") && sites.has_column("swp_model") {
            report.push(at.problem(
                Rule::MissingValue,
                row,
                "swp_model",
                models[row].map(str::to_string),
                "a pilot site needs its SWP model".into(),
                "use professional, social_enterprise, third_sector, private or in_house",
            ));
        }
        if let (Some(arm), Some(model)) = (arms[row], models[row]) {
            if arm != "pilot" && model != "none" {
                report.push(at.problem(
                    Rule::ModelWithoutPilot,
                    row,
                    "swp_model",
                    Some(model.to_string()),
                    format!("a {arm} site has the SWP model `{model}`; only pilot sites have one"),
                    "set swp_model to none, or arm to pilot",
                ));
            }
        }
    }
}

/// Children by child_id, with a second map for the ids used at several sites (a child id is
/// unique only within a site). The maps are split into [`SHARDS`] shards by a hash of the id:
/// every row of one id falls in one shard, so the shards are built in parallel, each reading
/// its rows in row order (the same first rows and duplicates as one map built row by row), and
/// each shard's map is small enough to stay in cache while it is built.
struct ChildIndex<'a> {
    /// children.site_id, to gather each row's site from its child
    sites: Column,
    /// children.child_id and children.site_id by row, to check a predicted row
    row_ids: Vec<Option<&'a str>>,
    row_sites: Vec<Option<&'a str>>,
    /// per children row: [`FOUND_WITH_SITE`] when `find(its site, its id)` is that row,
    /// [`FOUND_WITHOUT_SITE`] when `find(None, its id)` is
    found_as: Vec<u8>,
    /// the maps of the ids whose [`shard_of`] is the shard's position
    shards: Vec<ChildShard<'a>>,
}

/// One shard of [`ChildIndex`]'s maps.
#[derive(Default)]
struct ChildShard<'a> {
    /// the row of the first child with each child_id, found by [`id_hash`] and compared
    /// through the children's ids (4 bytes a child rather than two string references)
    by_child: HashTable<u32>,
    /// (site_id, child_id) -> row, for ids used at several sites only
    multi: PlHashMap<(&'a str, &'a str), u32>,
}

/// Rows per parallel task in row-wise passes.
const ROWS_PER_TASK: usize = 1 << 15;

/// Number of shards of [`ChildIndex`]'s maps (a power of two).
const SHARDS: usize = 64;

/// The hash of child id `id`, for the shard it is kept in ([`shard_of`]) and its place in that
/// shard's table: the id's bytes eight at a time (the last word zero-padded), each word xored
/// in and the state multiplied by an odd constant (the 64-bit golden ratio, as in Knuth's
/// multiplicative hashing, TAOCP vol. 3, 6.4), starting from the length; then every bit mixed
/// by the SplitMix64 finaliser (Steele, Lea and Flood 2014). Each step is a bijection of the
/// state, so ids of one length up to eight bytes never collide. One multiplication a word
/// rather than one a byte, and computed once a look-up. Any fixed hash would do: it decides only where an id is
/// kept, never a result.
#[inline]
fn id_hash(id: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes = id.as_bytes();
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("chunks of eight"));
        h = (h ^ word).wrapping_mul(K);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        h = (h ^ crate::codes::le_word(tail, |b| b)).wrapping_mul(K);
    }
    let z = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The shard of the child id of hash `hash` ([`id_hash`]): six bits from the middle, as a
/// shard's table takes its bucket from the low bits and a tag from the top ones.
#[inline]
fn shard_of(hash: u64) -> usize {
    (hash >> 40) as usize & (SHARDS - 1)
}

const FOUND_WITH_SITE: u8 = 1;
const FOUND_WITHOUT_SITE: u8 = 2;

/// What a child reference resolved to: a child row, or one of these markers.
type Found = u32;
/// No child id on the row (or a reference already reported).
const NO_CHILD: Found = u32::MAX;
/// The id is not in children.
const MISSING_CHILD: Found = u32::MAX - 1;
/// The id is used at several sites and the row names none.
const AMBIGUOUS_CHILD: Found = u32::MAX - 2;

impl<'a> ChildIndex<'a> {
    fn build(children: &'a Table, site_ids: &PlHashSet<String>, report: &mut ValidationReport) -> Self {
        use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
        let at = At { table: children };
        let ids = text_column(&children.frame, "child_id");
        let sites = text_column(&children.frame, "site_id");
        if children.present && !children.has_column("site_id") {
            report.push(Problem {
                rule: Rule::MissingColumn,
                file: children.origin.locate(0).0.to_string(),
                line: Some(1),
                column: Some("site_id".into()),
                value: None,
                message: "the required column `site_id` is missing".into(),
                fix: "add a column headed `site_id` naming each child's site (or supply raw 903 returns under 903/<site_id>/)".into(),
            });
        }
        // each row's shard (NOT_INDEXED: no id, or no site) and its site's problems, in row order
        const NOT_INDEXED: u8 = u8::MAX;
        type RowProblems = Vec<(u32, Problem)>;
        let has_site_column = children.has_column("site_id");
        let (shard, mut site_problems): (Vec<u8>, RowProblems) = {
            let parts: Vec<(Vec<u8>, RowProblems)> = (0..ids.len().div_ceil(ROWS_PER_TASK))
                .into_par_iter()
                .map(|chunk| {
                    let rows = chunk * ROWS_PER_TASK..ids.len().min((chunk + 1) * ROWS_PER_TASK);
                    let mut local = ValidationReport::with_cap(usize::MAX);
                    let mut problems = Vec::new();
                    let shards = rows
                        .map(|row| {
                            let Some(id) = ids[row] else { return NOT_INDEXED };
                            let Some(site) = sites[row] else {
                                if has_site_column {
                                    let missing = at.problem(
                                        Rule::MissingValue,
                                        row,
                                        "site_id",
                                        None,
                                        "`site_id` is empty".into(),
                                        "fill in the child's site_id",
                                    );
                                    problems.push((row as u32, missing));
                                }
                                return NOT_INDEXED;
                            };
                            check_site_ref(&at, row, site, site_ids, &mut local);
                            problems.extend(local.problems.drain(..).map(|p| (row as u32, p)));
                            shard_of(id_hash(id)) as u8
                        })
                        .collect();
                    (shards, problems)
                })
                .collect();
            let mut shard = Vec::with_capacity(ids.len());
            let mut problems = Vec::new();
            for (s, p) in parts {
                shard.extend(s);
                problems.extend(p);
            }
            (shard, problems)
        };
        // the rows of each shard, in row order (a counting sort)
        let mut starts = vec![0usize; SHARDS + 1];
        for &s in shard.iter().filter(|&&s| s != NOT_INDEXED) {
            starts[usize::from(s) + 1] += 1;
        }
        for k in 0..SHARDS {
            starts[k + 1] += starts[k];
        }
        let mut next = starts.clone();
        let mut rows_by_shard = vec![0u32; starts[SHARDS]];
        for (row, &s) in shard.iter().enumerate().filter(|(_, &s)| s != NOT_INDEXED) {
            rows_by_shard[next[usize::from(s)]] = row as u32;
            next[usize::from(s)] += 1;
        }
        drop(shard);
        // each shard in row order: the first row of an id, the first row of an id at each of
        // its sites, and every later row at one of those sites a duplicate of that first row
        let found_as: Vec<AtomicU8> = (0..ids.len()).map(|_| AtomicU8::new(0)).collect();
        let built: Vec<(ChildShard<'a>, Vec<(u32, u32)>)> = (0..SHARDS)
            .into_par_iter()
            .map(|k| {
                let rows = &rows_by_shard[starts[k]..starts[k + 1]];
                let mut part = ChildShard { by_child: HashTable::with_capacity(rows.len()), multi: PlHashMap::new() };
                let mut duplicates: Vec<(u32, u32)> = Vec::new();
                let id_of = |row: u32| ids[row as usize].unwrap_or_default();
                for &row in rows {
                    let (id, site) = (id_of(row), sites[row as usize].unwrap_or_default());
                    let hash = id_hash(id);
                    match part.by_child.find(hash, |&first| id_of(first) == id).copied() {
                        None => {
                            part.by_child.insert_unique(hash, row, |&r| id_hash(id_of(r)));
                            found_as[row as usize].store(FOUND_WITH_SITE | FOUND_WITHOUT_SITE, Relaxed);
                        }
                        Some(first_row) => {
                            let first_site = sites[first_row as usize].unwrap_or_default();
                            if first_site == site && !part.multi.contains_key(&(site, id)) {
                                duplicates.push((row, first_row));
                                continue;
                            }
                            part.multi.entry((first_site, id)).or_insert(first_row);
                            // the id is now used at several sites: a row naming no site is ambiguous
                            found_as[first_row as usize].fetch_and(!FOUND_WITHOUT_SITE, Relaxed);
                            if let Some(&first) = part.multi.get(&(site, id)) {
                                duplicates.push((row, first));
                                continue;
                            }
                            part.multi.insert((site, id), row);
                            found_as[row as usize].store(FOUND_WITH_SITE, Relaxed);
                        }
                    }
                }
                (part, duplicates)
            })
            .collect();
        let mut shards = Vec::with_capacity(SHARDS);
        let mut duplicates = Vec::new();
        for (part, d) in built {
            shards.push(part);
            duplicates.extend(d);
        }
        duplicates.sort_unstable();
        // problems in row order, a row's site before its duplicate (as read row by row)
        let mut duplicate_problems: Vec<(u32, Problem)> = duplicates
            .into_iter()
            .map(|(row, first)| {
                let id = ids[row as usize].unwrap_or_default();
                let (file, line) = children.origin.locate(first as usize);
                let problem = at.problem(
                    Rule::DuplicateKey,
                    row as usize,
                    "child_id",
                    Some(id.to_string()),
                    format!("child_id `{id}` is already used at this site ({file} line {line})"),
                    "give every child one row; merge or renumber the duplicates",
                );
                (row, problem)
            })
            .collect();
        site_problems.append(&mut duplicate_problems);
        site_problems.sort_by_key(|(row, _)| *row); // stable: the site's problem stays first
        for (_, problem) in site_problems {
            report.push(problem);
        }
        let found_as = found_as.into_iter().map(AtomicU8::into_inner).collect();
        let column = children.frame.column("site_id").expect("contract column").clone();
        ChildIndex { sites: column, row_ids: ids, row_sites: sites, found_as, shards }
    }

    /// `find(site, id)` when it is `row`, checked without a look-up (None: not that row).
    /// References usually list children in the children table's order, so the row after the
    /// last one found is a good guess.
    fn found_at(&self, row: usize, site: Option<&str>, id: Option<&str>) -> Option<Found> {
        if id.is_none() || self.row_ids.get(row).copied().flatten() != id {
            return None;
        }
        let found = match site {
            Some(_) => self.row_sites[row] == site && self.found_as[row] & FOUND_WITH_SITE != 0,
            None => self.found_as[row] & FOUND_WITHOUT_SITE != 0,
        };
        found.then_some(row as Found)
    }

    fn find(&self, site: Option<&str>, id: Option<&str>) -> Found {
        let Some(id) = id else { return NO_CHILD };
        let hash = id_hash(id);
        let shard = &self.shards[shard_of(hash)];
        let Some(&first_row) = shard.by_child.find(hash, |&r| self.row_ids[r as usize] == Some(id)) else {
            return MISSING_CHILD;
        };
        let first_site = self.row_sites[first_row as usize].unwrap_or_default();
        let several_sites = !shard.multi.is_empty() && shard.multi.contains_key(&(first_site, id));
        match (site, several_sites) {
            (None, false) => first_row,
            (Some(site), false) => {
                if site == first_site {
                    first_row
                } else {
                    MISSING_CHILD
                }
            }
            (None, true) => AMBIGUOUS_CHILD,
            (Some(site), true) => shard.multi.get(&(site, id)).copied().unwrap_or(MISSING_CHILD),
        }
    }

    /// Resolves each row's child: reports dangling references and returns the filled-in
    /// `site_id` column (the child's site; the row's own where the child is unknown) and the
    /// child row per row. Look-ups run in parallel; problems are reported in row order.
    fn resolve(&self, table: &Table, at: &At<'_>, report: &mut ValidationReport) -> (Option<Column>, Vec<Found>) {
        let ids = TextView::new(&table.frame, "child_id");
        let sites = TextView::new(&table.frame, "site_id");
        let height = table.frame.height();
        // Rows of one child usually follow each other (903 extracts are sorted by child), so
        // each chunk remembers its last look-up, and tries the next child row before the map.
        const CHUNK: usize = ROWS_PER_TASK;
        // each chunk written in place (a collected flat map copies every chunk's vector again)
        // the rows compare by their ids' and sites' views, the text read only for a new child
        let mut found: Vec<Found> = vec![0; height];
        let unresolved = found
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(chunk, out)| {
                // the last row looked up: its row, its id's and site's views, what it found
                let mut last: Option<(usize, Option<View>, Option<View>, Found)> = None;
                let mut unresolved = false;
                for (slot, row) in out.iter_mut().zip(chunk * CHUNK..) {
                    let (id_view, site_view) = (ids.view(row), sites.view(row));
                    *slot = match last {
                        Some((last_row, lid, lsite, f))
                            if same_text(lid, id_view, || ids.get(last_row) == ids.get(row))
                                && same_text(lsite, site_view, || sites.get(last_row) == sites.get(row)) =>
                        {
                            f
                        }
                        _ => {
                            let (id, site) = (ids.get(row), sites.get(row));
                            let next = match last {
                                Some((_, _, _, f)) if f < AMBIGUOUS_CHILD => self.found_at(f as usize + 1, site, id),
                                _ => None,
                            };
                            let f = next.unwrap_or_else(|| self.find(site, id));
                            unresolved |= f >= AMBIGUOUS_CHILD;
                            last = Some((row, id_view, site_view, f));
                            f
                        }
                    };
                }
                unresolved
            })
            .reduce(|| false, |a, b| a || b);
        let mut child_rows = found;
        let mut unknown = false; // a row without a child
                                 // (a pass over the rows only when some row's child was not found)
        for (row, found) in child_rows.iter_mut().enumerate().take(if unresolved { height } else { 0 }) {
            let message = match *found {
                MISSING_CHILD => "is not in children",
                AMBIGUOUS_CHILD => "is used at several sites, so this row's child is ambiguous",
                NO_CHILD => {
                    unknown = true;
                    continue;
                }
                _ => continue,
            };
            unknown = true;
            let fix = if *found == MISSING_CHILD {
                "add the child to children.csv (903 header) or correct the child_id"
            } else {
                "add a site_id column to this table"
            };
            let id = ids.get(row).unwrap_or_default();
            report.push(at.problem(
                Rule::DanglingReference,
                row,
                "child_id",
                Some(id.to_string()),
                format!("child_id `{id}` {message}"),
                fix,
            ));
            *found = NO_CHILD;
        }
        // A row naming a site names its child's site (the child was found at that site) or an
        // unknown child's: so a site_id without nulls is the filled column already.
        let own = table.frame.column("site_id").ok().and_then(|c| c.str().ok().cloned());
        if let Some(own) = own.as_ref().filter(|own| own.null_count() == 0) {
            return (Some(own.clone().into_column()), child_rows);
        }
        let index: IdxCa = if unknown {
            child_rows.iter().map(|&r| (r != NO_CHILD).then_some(r as IdxSize)).collect()
        } else {
            // every row's child known: the rows are the indices (no validity to build)
            IdxCa::from_vec(PlSmallStr::EMPTY, child_rows.iter().map(|&r| r as IdxSize).collect())
        };
        let child_sites = self.sites.take(&index).expect("indices are child rows");
        // keep the row's own site_id where its child is unknown
        let filled = match own {
            Some(own) if own.null_count() < own.len() => {
                let mask: BooleanChunked = child_rows.iter().map(|&r| Some(r != NO_CHILD)).collect();
                child_sites.str().expect("text").zip_with(&mask, &own).expect("same length").into_column()
            }
            _ => child_sites,
        };
        (Some(filled.with_name(PlSmallStr::from("site_id"))), child_rows)
    }
}

/// Worker ids known from workers.csv, with the first row of each.
type WorkerIds = PlHashMap<String, u32>;

fn check_workers(workers: &Table, site_ids: &PlHashSet<String>, report: &mut ValidationReport) -> WorkerIds {
    let at = At { table: workers };
    let ids = text_column(&workers.frame, "worker_id");
    let sites = text_column(&workers.frame, "site_id");
    let fte = number_column(&workers.frame, "fte");
    for row in 0..workers.frame.height() {
        if let Some(site) = sites[row] {
            check_site_ref(&at, row, site, site_ids, report);
        }
        if let Some(f) = fte[row] {
            if !(f > 0.0 && f <= 1.0) {
                report.push(at.problem(
                    Rule::FteOutOfRange,
                    row,
                    "fte",
                    Some(f.to_string()),
                    format!("fte {f} is outside (0, 1]"),
                    "give the spell's full-time equivalent: above 0 and at most 1 (0.5 for half time)",
                ));
            }
        }
    }
    check_end_before_start(workers, &at, "start_date", "end_date", "spell", report);
    check_worker_spells(workers, &at, &ids, report);
    let mut first_rows = WorkerIds::new();
    for (row, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            if !first_rows.contains_key(*id) {
                first_rows.insert(id.to_string(), row as u32);
            }
        }
    }
    first_rows
}

/// One worker's spells in workers.csv must not cover the same day (docs/data-contract.md is silent; a worker
/// in two posts at once would be counted twice in `fte_in_post`, and a duplicated row doubles
/// it). A spell starting the day the previous ended is a change of post, not an overlap; an open
/// spell followed by another overlaps it.
fn check_worker_spells(workers: &Table, at: &At<'_>, ids: &[Option<&str>], report: &mut ValidationReport) {
    let starts = DateView::new(&workers.frame, "start_date");
    let ends = DateView::new(&workers.frame, "end_date");
    let mut by_worker: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (row, id) in ids.iter().enumerate() {
        if let (Some(id), Some(_)) = (id, starts.get(row)) {
            by_worker.entry(id).or_default().push(row);
        }
    }
    let mut overlaps: Vec<(usize, usize)> = Vec::new();
    for rows in by_worker.values_mut().filter(|r| r.len() > 1) {
        rows.sort_by_key(|&r| (starts.get(r), r));
        // the latest end so far (None: an open spell)
        let mut reach: Option<(Option<i32>, usize)> = None;
        for &r in rows.iter() {
            let start = starts.get(r).expect("grouped on a start");
            if let Some((end, first)) = reach {
                if end.is_none_or(|e| start < e) {
                    overlaps.push((r, first));
                }
            }
            let end = ends.get(r);
            reach = match reach {
                Some((None, f)) => Some((None, f)),
                Some((Some(e), f)) if end.is_some_and(|n| n <= e) => Some((Some(e), f)),
                _ => Some((end, r)),
            };
        }
    }
    overlaps.sort_unstable();
    for (row, other) in overlaps {
        report.push(at.problem(
            Rule::OverlappingSpells,
            row,
            "start_date",
            starts.get(row).map(format_date),
            format!(
                "worker_id `{}` has a spell starting {} inside the spell starting {}",
                ids[row].unwrap_or_default(),
                starts.get(row).map(format_date).unwrap_or_default(),
                starts.get(other).map(format_date).unwrap_or_default()
            ),
            "one row per spell of a worker, not overlapping: end the earlier spell before the later starts, or remove the duplicate row",
        ));
    }
}

/// The longest contact a row may record: a day (docs/data-contract.md is silent; a negative or larger
/// duration is an entry error, and would make `contact_minutes_per_child_month` negative or
/// overflow it).
const MAX_CONTACT_MINUTES: f64 = 24.0 * 60.0;

fn check_minutes(contacts: &Table, at: &At<'_>, report: &mut ValidationReport) {
    if contacts.frame.column("minutes").is_err() {
        return;
    }
    let minutes = number_column(&contacts.frame, "minutes");
    for (row, m) in minutes.iter().enumerate() {
        if let Some(m) = *m {
            if !(0.0..=MAX_CONTACT_MINUTES).contains(&m) {
                report.push(at.problem(
                    Rule::BadNumber,
                    row,
                    "minutes",
                    Some(m.to_string()),
                    format!("minutes {m} is not the length of a contact (0 to 1,440)"),
                    "give the contact's length in minutes, from 0 to 1,440 (a day)",
                ));
            }
        }
    }
}

fn check_site_ref(at: &At<'_>, row: usize, site: &str, site_ids: &PlHashSet<String>, report: &mut ValidationReport) {
    if !site_ids.contains(site) {
        report.push(at.problem(
            Rule::DanglingReference,
            row,
            "site_id",
            Some(site.to_string()),
            format!("site_id `{site}` is not in sites"),
            "add the site to sites.csv or correct the site_id",
        ));
    }
}

/// Reports worker ids that workers.csv does not have; returns each row's first workers row with
/// its worker id ([`UNRESOLVED`] where the id is missing or unknown).
fn check_worker_refs(table: &Table, at: &At<'_>, workers: &WorkerIds, report: &mut ValidationReport) -> Vec<u32> {
    let ids = TextView::new(&table.frame, "worker_id");
    let rows: Vec<u32> = (0..table.frame.height())
        .into_par_iter()
        .with_min_len(1 << 12)
        .map(|row| ids.get(row).and_then(|id| workers.get(id).copied()).unwrap_or(UNRESOLVED))
        .collect();
    // (a pass over the rows' ids only when some row's worker was not found)
    let unresolved = rows.par_iter().any(|&r| r == UNRESOLVED);
    for (row, &found) in rows.iter().enumerate().take(if unresolved { rows.len() } else { 0 }) {
        if let (Some(id), UNRESOLVED) = (ids.get(row), found) {
            {
                report.push(at.problem(
                    Rule::DanglingReference,
                    row,
                    "worker_id",
                    Some(id.to_string()),
                    format!("worker_id `{id}` is not in workers"),
                    "add the worker's spell to workers.csv or correct the worker_id",
                ));
            }
        }
    }
    rows
}

fn check_end_before_start(
    table: &Table,
    at: &At<'_>,
    start: &str,
    end: &str,
    what: &str,
    report: &mut ValidationReport,
) {
    let starts = DateView::new(&table.frame, start);
    let ends = DateView::new(&table.frame, end);
    // found in parallel blocks (rare), reported in row order
    let rows: Vec<usize> = (0..table.frame.height().div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .flat_map_iter(|b| {
            (b * ROWS_PER_TASK..table.frame.height().min((b + 1) * ROWS_PER_TASK))
                .filter(|&row| matches!((starts.get(row), ends.get(row)), (Some(s), Some(e)) if e < s))
                .collect::<Vec<_>>()
        })
        .collect();
    for row in rows {
        let (Some(s), Some(e)) = (starts.get(row), ends.get(row)) else { continue };
        report.push(at.problem(
            Rule::EndBeforeStart,
            row,
            end,
            Some(format_date(e)),
            format!("the {what} ends on {} before it starts on {}", format_date(e), format_date(s)),
            &format!("correct {} or {}", table.header(start), table.header(end)),
        ));
    }
}

/// End before start, and overlaps between one child's spells (a spell starting on the day the
/// previous one ended is a handover, not an overlap).
#[allow(clippy::too_many_arguments)]
fn check_spells(
    table: &Table,
    at: &At<'_>,
    child_rows: &[Found],
    start: &str,
    end: &str,
    rule: Rule,
    what: &str,
    report: &mut ValidationReport,
) {
    check_end_before_start(table, at, start, end, what, report);
    let starts = DateView::new(&table.frame, start);
    let ends = DateView::new(&table.frame, end);
    // the spells compared: rows with a child and a start not after their end
    let spell = |row: usize| -> Option<(u32, i32)> {
        let c = Some(child_rows[row]).filter(|&c| c != NO_CHILD)?;
        let s = starts.get(row)?;
        ends.get(row).is_none_or(|e| e >= s).then_some((c, s))
    };
    let rows = child_rows.len();
    // the overlaps among spells in (child, start, row) order: (row, its start, the row it
    // overlaps, that row's reach)
    let overlaps = |spells: &mut dyn Iterator<Item = (u32, i32, u32)>| -> Vec<(u32, i32, u32, i32)> {
        let mut found = Vec::new();
        // latest end so far among the child's spells (i32::MAX = open) and its row
        let mut reach: Option<(u32, i32, u32)> = None;
        for (child, s, row) in spells {
            if let Some((c, until, other)) = reach {
                if c == child && s < until {
                    found.push((row, s, other, until));
                }
            }
            let e = ends.get(row as usize).unwrap_or(i32::MAX);
            if reach.is_none_or(|(c, until, _)| c != child || e > until) {
                reach = Some((child, e, row));
            }
        }
        found
    };
    // Extracts usually list each child's spells by start already: the rows are then the order
    // (by child, start, row), checked in parallel, and need no sort; the scan runs in blocks
    // cut where the child changes (a child's reach never crosses to another child).
    let found: Vec<(u32, i32, u32, i32)> = if rows_in_order(rows, spell) {
        let cuts = child_cuts(rows, |row| spell(row).map(|(c, _)| c));
        cuts.par_windows(2)
            .flat_map_iter(|w| {
                overlaps(&mut (w[0]..w[1]).filter_map(|row| spell(row).map(|(c, s)| (c, s, row as u32))))
            })
            .collect()
    } else {
        // room for every row at once: collecting a filter grows the vector by doubling, copying
        // and touching twice the memory (tens of MB for a national table)
        let mut order: Vec<(u32, i32, u32)> = Vec::with_capacity(rows);
        order.extend((0..rows).filter_map(|row| spell(row).map(|(c, s)| (c, s, row as u32))));
        order.par_sort_unstable();
        overlaps(&mut order.into_iter())
    };
    for (row, s, other, until) in found {
        let (file, line) = table.origin.locate(other as usize);
        let until_text =
            if until == i32::MAX { "still open".to_string() } else { format!("until {}", format_date(until)) };
        report.push(at.problem(
            rule,
            row as usize,
            start,
            Some(format_date(s)),
            format!(
                "the {what} starting {} overlaps the same child's {what} on {file} line {line} ({until_text})",
                format_date(s)
            ),
            &format!("end the earlier {what} on or before the day this one starts (a same-day handover is allowed)"),
        ));
    }
}

/// Block boundaries over `rows` rows (0 first, `rows` last), about [`ROWS_PER_TASK`] apart,
/// each at a row whose child (`child(row)`, None for rows left out) differs from the last child
/// before it, so that no child's rows straddle two blocks.
fn child_cuts(rows: usize, child: impl Fn(usize) -> Option<u32> + Sync) -> Vec<usize> {
    let mut cuts: Vec<usize> = (1..rows.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .map(|b| {
            let at = b * ROWS_PER_TASK;
            let before = (0..at).rev().find_map(&child);
            (at..rows).find(|&row| child(row).is_some_and(|c| Some(c) != before)).unwrap_or(rows)
        })
        .collect();
    cuts.insert(0, 0);
    cuts.push(rows);
    cuts.dedup();
    cuts
}

/// Whether the keys of rows `0..rows` that have one never decrease (one parallel pass).
fn rows_in_order<K: Ord + Copy + Send>(rows: usize, key: impl Fn(usize) -> Option<K> + Sync) -> bool {
    // each block: in order inside, and its first and last key
    let blocks: Option<Vec<Option<(K, K)>>> = (0..rows.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .map(|b| {
            let mut keys = (b * ROWS_PER_TASK..rows.min((b + 1) * ROWS_PER_TASK)).filter_map(&key);
            let Some(first) = keys.next() else { return Some(None) };
            let mut last = first;
            for k in keys {
                if k < last {
                    return None;
                }
                last = k;
            }
            Some(Some((first, last)))
        })
        .collect();
    let Some(blocks) = blocks else { return false };
    let bounds: Vec<(K, K)> = blocks.into_iter().flatten().collect();
    bounds.windows(2).all(|w| w[0].1 <= w[1].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows compared by their views agree with their text, for every pair: short and long
    /// values (long ones equal in text but stored apart, so with different views), values
    /// equal but for their length, and nulls.
    #[test]
    fn rows_compared_by_views_agree_with_their_text() {
        let values = [
            Some("C0001"),
            Some("C0001"),
            Some("C00010"),
            Some("123456789012"),
            Some("1234567890123"),
            Some("a child id of more than twelve bytes"),
            None,
            Some("a child id of more than twelve bytes"),
            Some("a child id of more than twelve bytez"),
            Some(""),
            Some("1234567890123"),
            None,
        ];
        let frame = DataFrame::new(
            values.len(),
            vec![StringChunked::from_iter_options(PlSmallStr::from("id"), values.iter().copied()).into_column()],
        )
        .unwrap();
        let ids = TextView::new(&frame, "id");
        for i in 0..values.len() {
            for j in 0..values.len() {
                let text = ids.get(i) == ids.get(j);
                assert_eq!(ids.get(i), values[i]);
                assert_eq!(same_text(ids.view(i), ids.view(j), || text), text, "rows {i} and {j}");
            }
        }
    }

    /// The guess of the next children row gives what the map gives, row by row: ids used at
    /// several sites, duplicates, rows without a site, unknown children, and rows in and out of
    /// the children table's order.
    #[test]
    fn the_guessed_next_child_equals_the_look_up() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("sites.csv", "site_id,name,arm,swp_model,go_live\nP1,p,pilot,professional,2009-09-01\nH1,h,host,none,\nC1,c,comparison,none,\n");
        write(
            "workers.csv",
            "worker_id,site_id,role,fte,agency,start_date,end_date\nW1,P1,social_worker,1,false,2005-01-01,\n",
        );
        write(
            "children.csv",
            "child_id,site_id,sex,dob,ethnic\nA1,P1,1,2001-05-01,WBRI\nA2,P1,1,2001-05-01,WBRI\nA2,P1,1,2001-05-01,WBRI\n\
             B1,H1,1,2001-05-01,WBRI\nX,P1,1,2001-05-01,WBRI\nX,H1,1,2001-05-01,WBRI\nX,H1,1,2001-05-01,WBRI\n\
             X,C1,1,2001-05-01,WBRI\nY,,1,2001-05-01,WBRI\nZ,C1,1,2001-05-01,WBRI\nZ,C1,1,2001-05-01,WBRI\n",
        );
        let refs = [
            ("A1", "P1"),
            ("A2", "P1"),
            ("A2", ""),
            ("A2", "H1"),
            ("B1", "H1"),
            ("B1", ""),
            ("X", "P1"),
            ("X", "H1"),
            ("X", ""),
            ("X", "C1"),
            ("Y", ""),
            ("Y", "P1"),
            ("Z", ""),
            ("Z", "C1"),
            ("A1", ""),
            ("A2", "P1"),
            ("X", "H1"),
            ("Q", ""),
            ("", "P1"),
            ("B1", "P1"),
            ("Z", "C1"),
            ("A1", "P1"),
        ];
        let mut episodes =
            String::from("child_id,site_id,decom,rne,ls,cin,place,place_provider,dec,rec,reason_place_change\n");
        for (k, (id, site)) in refs.iter().enumerate() {
            episodes.push_str(&format!("{id},{site},{}-01-01,S,C2,N1,U4,PR1,,,\n", 1990 + k));
        }
        write("episodes.csv", &episodes);
        write("allocations.csv", "child_id,worker_id,start_date,end_date\n");
        let loaded = crate::load(dir.path()).unwrap();
        let dataset = &loaded.dataset;
        assert_eq!(dataset.episodes.frame.height(), refs.len());
        let index = ChildIndex::build(&dataset.children, &PlHashSet::default(), &mut ValidationReport::with_cap(10));
        let want: Vec<u32> = refs
            .iter()
            .map(|&(id, site)| {
                let f = index.find((!site.is_empty()).then_some(site), (!id.is_empty()).then_some(id));
                if f >= AMBIGUOUS_CHILD {
                    crate::model::UNRESOLVED
                } else {
                    f
                }
            })
            .collect();
        assert_eq!(dataset.child_rows[0], want);
        // the guess was tried and right at least once, and the look-up settled the rest
        assert!(want.windows(2).filter(|w| w[0] != crate::model::UNRESOLVED && w[1] == w[0] + 1).count() >= 3);
        assert!(want.iter().filter(|&&f| f == crate::model::UNRESOLVED).count() >= 5);
    }

    /// Each allocation, contact and absence gets the first workers row of its worker_id, and
    /// UNRESOLVED where the id is missing or unknown (reported as a dangling reference).
    #[test]
    fn worker_references_resolve_to_the_first_workers_row() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("sites.csv", "site_id,name,arm,swp_model,go_live\nP1,p,pilot,professional,2009-09-01\n");
        write(
            "workers.csv",
            "worker_id,site_id,role,fte,agency,start_date,end_date\n\
             W1,P1,social_worker,1,false,2005-01-01,2006-01-01\n\
             W2,P1,social_worker,1,false,2005-01-01,\n\
             W1,P1,social_worker,1,false,2007-01-01,\n",
        );
        write("children.csv", "child_id,site_id,sex,dob,ethnic\nA,P1,1,2001-05-01,WBRI\n");
        write(
            "allocations.csv",
            "child_id,worker_id,start_date,end_date\nA,W2,2005-01-01,2005-06-01\nA,W1,2005-06-01,2005-09-01\n\
             A,W9,2005-09-01,2005-10-01\nA,,2005-10-01,\n",
        );
        write(
            "absences.csv",
            "worker_id,start_date,end_date,kind\nW1,2008-01-01,2008-01-02,sickness\nW7,2008-01-01,2008-01-02,other\n",
        );
        let loaded = crate::load(dir.path()).unwrap();
        let u = UNRESOLVED;
        assert_eq!(loaded.dataset.worker_rows[0], vec![1, 0, u, u]);
        assert!(loaded.dataset.worker_rows[1].is_empty(), "no contacts table");
        assert_eq!(loaded.dataset.worker_rows[2], vec![0, u]);
        let dangling: Vec<(&str, Option<u64>)> = loaded
            .report
            .problems
            .iter()
            .filter(|p| p.rule == Rule::DanglingReference)
            .map(|p| (p.file.as_str(), p.line))
            .collect();
        assert_eq!(dangling, vec![("allocations.csv", Some(4)), ("absences.csv", Some(3))]);
    }

    /// The sharded index finds what one map built row by row finds (the rules written out
    /// plainly below), and reports the same problems in the same order: thousands of rows over
    /// every shard, ids repeated at one site (duplicates) and at several, rows without a site
    /// and rows naming a site that sites.csv lacks.
    #[test]
    fn the_sharded_index_equals_one_map_built_row_by_row() {
        let sites = ["P1", "H1", "C1", "Q9", ""];
        let mut state = 2009u64;
        let mut next = |m: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let rows: Vec<(String, &str)> = (0..6000)
            .map(|_| (format!("K{}", next(2500)), sites[[0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 4][next(11) as usize]]))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let mut children = String::from("child_id,site_id,sex,dob,ethnic\n");
        for (id, site) in &rows {
            children.push_str(&format!("{id},{site},1,2001-05-01,WBRI\n"));
        }
        std::fs::write(dir.path().join("children.csv"), children).unwrap();
        let loaded = crate::load(dir.path()).unwrap();
        let table = &loaded.dataset.children;
        let known: PlHashSet<String> = ["P1", "H1", "C1"].iter().map(|s| s.to_string()).collect();
        let mut report = ValidationReport::with_cap(usize::MAX);
        let index = ChildIndex::build(table, &known, &mut report);

        // the rules, one row at a time: (line, rule) of each problem, and each id's rows by site
        let mut first_site: std::collections::HashMap<&str, &str> = Default::default();
        let mut first_at: std::collections::HashMap<(&str, &str), u32> = Default::default();
        let mut want_problems = Vec::new();
        for (row, (id, site)) in rows.iter().enumerate() {
            let line = row as u64 + 2;
            if site.is_empty() {
                want_problems.push((line, Rule::MissingValue));
                continue;
            }
            if !known.contains(*site) {
                want_problems.push((line, Rule::DanglingReference));
            }
            first_site.entry(id).or_insert(site);
            if first_at.contains_key(&(id.as_str(), *site)) {
                want_problems.push((line, Rule::DuplicateKey));
            } else {
                first_at.insert((id, site), row as u32);
            }
        }
        let got: Vec<(u64, Rule)> =
            report.problems.iter().filter(|p| p.file == "children.csv").map(|p| (p.line.unwrap(), p.rule)).collect();
        assert_eq!(got, want_problems);
        let count = |rule: Rule| got.iter().filter(|p| p.1 == rule).count();
        assert!(count(Rule::DuplicateKey) > 500 && count(Rule::DanglingReference) > 500, "{got:?}");

        let several = |id: &str| sites[..4].iter().filter(|s| first_at.contains_key(&(id, **s))).count() > 1;
        let mut shards_used = PlHashSet::default();
        for k in 0..2600 {
            let id = format!("K{k}");
            shards_used.insert(shard_of(id_hash(&id)));
            let want_none = match first_site.get(id.as_str()) {
                None => MISSING_CHILD,
                Some(_) if several(&id) => AMBIGUOUS_CHILD,
                Some(site) => first_at[&(id.as_str(), *site)],
            };
            assert_eq!(index.find(None, Some(&id)), want_none, "{id} without a site");
            for site in &sites[..4] {
                let want = first_at.get(&(id.as_str(), *site)).copied().unwrap_or(MISSING_CHILD);
                assert_eq!(index.find(Some(site), Some(&id)), want, "{id} at {site}");
            }
        }
        assert_eq!(shards_used.len(), SHARDS);
        assert!((0..2500).filter(|k| several(&format!("K{k}"))).count() > 500);
        assert_eq!(index.find(Some("P1"), None), NO_CHILD);
    }

    /// The scan of rows already in order runs in blocks cut where the child changes: over
    /// several blocks (a child with more rows than a block among them, unknown children and
    /// spells ending before they start in between), it finds the overlaps the sorted path finds
    /// in one sequential scan of the same spells given in reverse.
    #[test]
    fn overlaps_found_in_blocks_equal_one_scan() {
        let mut state = 5u64;
        let mut next = |m: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        // from 1901: the long child's spells, a day apart, stay inside the years dates may take
        let day = |d: u64| crate::date::format_date(-25_000 + d as i32);
        let mut spells: Vec<(String, String, String)> = Vec::new();
        for c in 0..9_000 {
            let (id, n) = if c == 4_000 {
                ("K4000".to_string(), ROWS_PER_TASK + 500)
            } else {
                (format!("K{c}"), 1 + next(6) as usize)
            };
            let id = if next(50) == 0 { format!("unknown{c}") } else { id };
            let mut start = next(100);
            for _ in 0..n {
                let end = match next(10) {
                    0 => String::new(),
                    1 => day(start - start.min(3)),
                    _ => day(start + next(40)),
                };
                spells.push((id.clone(), day(start), end));
                // no two of a child's spells start on one day
                start += if n > ROWS_PER_TASK { 1 } else { 1 + next(45) };
            }
        }
        let problems = |reversed: bool| {
            let dir = tempfile::tempdir().unwrap();
            let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
            write("sites.csv", "site_id,name,arm,swp_model,go_live\nP1,p,pilot,professional,2009-09-01\n");
            let mut children = String::from("child_id,site_id,sex,dob,ethnic\n");
            for c in 0..9_000 {
                children.push_str(&format!("K{c},P1,1,2001-05-01,WBRI\n"));
            }
            write("children.csv", &children);
            let order: Vec<usize> =
                if reversed { (0..spells.len()).rev().collect() } else { (0..spells.len()).collect() };
            let mut text = String::from("child_id,worker_id,start_date,end_date\n");
            for &k in &order {
                let (id, start, end) = &spells[k];
                text.push_str(&format!("{id},W1,{start},{end}\n"));
            }
            write("allocations.csv", &text);
            write(
                "workers.csv",
                "worker_id,site_id,role,fte,agency,start_date,end_date\nW1,P1,social_worker,1,false,2005-01-01,\n",
            );
            let loaded = crate::load_with(dir.path(), &crate::LoadOptions { cap_per_rule: usize::MAX }).unwrap();
            let spell_of = |line: u64| order[line as usize - 2];
            let mut found: Vec<(&'static str, usize, usize)> = loaded
                .report
                .problems
                .iter()
                .filter(|p| matches!(p.rule, Rule::OverlappingAllocations | Rule::EndBeforeStart))
                .map(|p| match p.rule {
                    Rule::EndBeforeStart => ("end", spell_of(p.line.unwrap()), 0),
                    _ => {
                        let other: u64 =
                            p.message.split(" line ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
                        ("overlap", spell_of(p.line.unwrap()), spell_of(other))
                    }
                })
                .collect();
            found.sort_unstable();
            found
        };
        let (in_blocks, sorted) = (problems(false), problems(true));
        assert!(in_blocks.iter().filter(|p| p.0 == "overlap").count() > 1_000, "{}", in_blocks.len());
        assert!(in_blocks.iter().any(|p| p.0 == "end"));
        let first_difference = in_blocks.iter().zip(&sorted).find(|(a, b)| a != b);
        assert_eq!((in_blocks.len(), first_difference), (sorted.len(), None));
    }

    /// Overlapping episodes by hand, with the rows in child and start order (checked without a
    /// sort) and the same rows upside down (sorted first): the same overlaps, each naming the
    /// same earlier episode. A handover day is not an overlap; an episode ending before it
    /// starts is left out of the comparison (it is reported as such).
    #[test]
    fn overlaps_are_the_same_whether_the_rows_come_sorted_or_not() {
        let episodes = [
            ("A", "2010-01-01", "2010-06-30"),
            ("A", "2010-06-30", "2010-12-31"), // handover
            ("A", "2010-12-01", ""),           // overlaps the one above
            ("A", "2011-02-01", "2011-03-01"), // overlaps the open one
            ("B", "2010-01-01", "2010-01-10"),
            ("B", "2010-01-05", "2010-01-06"), // overlaps
            ("B", "2010-03-01", "2010-02-01"), // ends before it starts
            ("B", "2010-02-15", "2010-02-20"), // no overlap (the one above is left out)
        ];
        let run = |reversed: bool| {
            let dir = tempfile::tempdir().unwrap();
            let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
            write("sites.csv", "site_id,name,arm,swp_model,go_live\nP1,p,pilot,professional,2009-09-01\n");
            write("children.csv", "child_id,site_id,sex,dob,ethnic\nA,P1,1,2001-05-01,WBRI\nB,P1,1,2001-05-01,WBRI\n");
            let mut rows: Vec<_> = episodes.iter().enumerate().collect();
            if reversed {
                rows.reverse();
            }
            let mut text = String::from("child_id,decom,rne,ls,cin,place,place_provider,dec,rec,reason_place_change\n");
            for (_, (id, start, end)) in &rows {
                text.push_str(&format!("{id},{start},S,C2,N1,U4,PR1,{end},,\n"));
            }
            write("episodes.csv", &text);
            write("allocations.csv", "child_id,worker_id,start_date,end_date\n");
            let loaded = crate::load(dir.path()).unwrap();
            let table = &loaded.dataset.episodes;
            let (starts, ends) = (DateView::new(&table.frame, "decom"), DateView::new(&table.frame, "dec"));
            // the rows check_spells compares (the one ending before it starts is not)
            let in_order = rows_in_order(table.frame.height(), |row| {
                let s = starts.get(row)?;
                ends.get(row).is_none_or(|e| e >= s).then_some((loaded.dataset.child_rows[0][row], s))
            });
            // (episode, the episode it overlaps), numbered as in `episodes`
            let line_of = |line: u64| rows[line as usize - 2].0;
            let mut overlaps: Vec<(usize, usize)> = loaded
                .report
                .problems
                .iter()
                .filter(|p| p.rule == Rule::OverlappingEpisodes)
                .map(|p| {
                    let other: u64 =
                        p.message.split(" line ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
                    (line_of(p.line.unwrap()), line_of(other))
                })
                .collect();
            overlaps.sort_unstable();
            let ends_before = loaded.report.problems.iter().filter(|p| p.rule == Rule::EndBeforeStart).count();
            (in_order, overlaps, ends_before)
        };
        let want = vec![(2, 1), (3, 2), (5, 4)];
        assert_eq!(run(false), (true, want.clone(), 1));
        assert_eq!(run(true), (false, want, 1));
    }
}
