//! Reading one table file (CSV or Parquet) into a frame of text columns, with the structural
//! checks polars does not report by line: byte-order mark, UTF-8, ragged rows, empty files,
//! duplicate header cells. Values are typed later (`typed`), so a bad value never stops a read.

use crate::problem::{Problem, Rule, ValidationReport};
use crate::schema::TableSpec;
use crate::values::{BadValue, Store, ValueTyper};
use polars::prelude::*;
use rayon::prelude::*;
use std::borrow::Cow;
use std::io::Cursor;
use std::path::Path;

/// Where the rows of a raw table came from, to turn a row index into a file line.
#[derive(Debug, Clone)]
pub enum Lines {
    /// CSV with no quoted newlines: data row i is on line i + 2.
    Simple,
    /// CSV with quoted fields spanning lines: the line of each data row.
    Explicit(Vec<u32>),
    /// Parquet: no lines; row i is reported as "row i + 1".
    ParquetRows,
}

/// A table file read as text columns.
#[derive(Debug, Clone)]
pub struct RawTable<'a> {
    /// The file, relative to the dataset directory, for messages.
    pub file: String,
    /// Header cells as written in the file (trimmed, byte-order mark removed).
    pub headers: Vec<String>,
    /// The values: one text column per header cell.
    body: Body<'a>,
    /// Row index to line mapping.
    pub lines: Lines,
}

/// The text values of a raw table.
#[derive(Debug, Clone)]
enum Body<'a> {
    /// String columns read by polars, named `0`, `1`, ... by position.
    Frame(DataFrame),
    /// Field positions (start, length) into the file's bytes, per column: the fast path for
    /// valid UTF-8 CSV without quotes, parsed in parallel chunks. Length 0 is an empty field.
    /// Columns with a typer in the plan are typed while reading (`typed`, their field
    /// positions left empty).
    Slices { text: Cow<'a, str>, columns: Vec<Vec<(u32, u32)>>, typed: Vec<Option<Column>>, height: usize },
}

/// One raw text column.
#[derive(Debug, Clone, Copy)]
pub enum RawColumn<'a> {
    /// Read by polars.
    Chunked(&'a StringChunked),
    /// Field positions into the file's bytes.
    Slices {
        /// The file's text.
        text: &'a str,
        /// (start, length) of each row's field.
        fields: &'a [(u32, u32)],
    },
}

#[inline]
fn slice_str(text: &str, (start, len): (u32, u32)) -> Option<&str> {
    if len == 0 {
        return None;
    }
    text.get(start as usize..(start + len) as usize)
}

/// Iterator over a raw column's values (None for empty).
pub enum RawIter<'a> {
    /// polars values
    Chunked(Box<dyn Iterator<Item = Option<&'a str>> + 'a>),
    /// slices
    Slices(&'a str, std::slice::Iter<'a, (u32, u32)>),
}

impl<'a> Iterator for RawIter<'a> {
    type Item = Option<&'a str>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            RawIter::Chunked(it) => it.next(),
            RawIter::Slices(text, it) => it.next().map(|f| slice_str(text, *f)),
        }
    }
}

impl<'a> RawColumn<'a> {
    /// The values in row order.
    pub fn iter(&self) -> RawIter<'a> {
        match *self {
            RawColumn::Chunked(ca) => RawIter::Chunked(Box::new(ca.iter())),
            RawColumn::Slices { text, fields } => RawIter::Slices(text, fields.iter()),
        }
    }

    /// The value of row `row`.
    pub fn get(&self, row: usize) -> Option<&'a str> {
        match *self {
            RawColumn::Chunked(ca) => ca.get(row),
            RawColumn::Slices { text, fields } => slice_str(text, fields[row]),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match *self {
            RawColumn::Chunked(ca) => ca.len(),
            RawColumn::Slices { fields, .. } => fields.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of empty values.
    pub fn null_count(&self) -> usize {
        match *self {
            RawColumn::Chunked(ca) => ca.null_count(),
            RawColumn::Slices { fields, .. } => fields.iter().filter(|f| f.1 == 0).count(),
        }
    }

    /// The values as a polars String column.
    pub fn to_chunked(&self) -> StringChunked {
        match *self {
            RawColumn::Chunked(ca) => ca.clone(),
            RawColumn::Slices { fields, .. } => crate::values::strings(fields.len(), self.iter()),
        }
    }
}

impl RawTable<'_> {
    /// A copy that owns its text (the file's mapping may then be released).
    pub fn into_owned(self) -> RawTable<'static> {
        let body = match self.body {
            Body::Frame(frame) => Body::Frame(frame),
            Body::Slices { text, columns, typed, height } => {
                Body::Slices { text: Cow::Owned(text.into_owned()), columns, typed, height }
            }
        };
        RawTable { file: self.file, headers: self.headers, body, lines: self.lines }
    }

    /// The 1-based line of data row `row` (for Parquet: the 1-based row number).
    pub fn line(&self, row: usize) -> u64 {
        match &self.lines {
            Lines::Simple => row as u64 + 2,
            Lines::Explicit(lines) => lines.get(row).copied().map(u64::from).unwrap_or(0),
            Lines::ParquetRows => row as u64 + 1,
        }
    }

    /// Number of data rows.
    pub fn height(&self) -> usize {
        match &self.body {
            Body::Frame(frame) => frame.height(),
            Body::Slices { height, .. } => *height,
        }
    }

    /// The column at header position `index` if it was typed while reading.
    pub fn typed_column(&self, index: usize) -> Option<&Column> {
        match &self.body {
            Body::Frame(_) => None,
            Body::Slices { typed, .. } => typed.get(index).and_then(Option::as_ref),
        }
    }

    /// The text column at header position `index`.
    pub fn column(&self, index: usize) -> RawColumn<'_> {
        match &self.body {
            Body::Frame(frame) => RawColumn::Chunked(
                frame.columns()[index].as_materialized_series().str().expect("raw tables hold only String columns"),
            ),
            Body::Slices { text, columns, .. } => RawColumn::Slices { text, fields: &columns[index] },
        }
    }
}

/// Reads `path` (displayed as `file`) as CSV or Parquet by its extension and hands the raw
/// table to `then` (a CSV file is memory-mapped, and its text is borrowed for as long as
/// `then` runs). Returns None when the file cannot be read at all; every problem found is added
/// to `report`.
pub fn read_table<T>(
    path: &Path,
    file: &str,
    spec: Option<&TableSpec>,
    report: &mut ValidationReport,
    then: impl FnOnce(&RawTable<'_>, &mut ValidationReport) -> T,
) -> Option<T> {
    let is_parquet = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    if is_parquet {
        let raw = read_parquet(path, file, report)?;
        return Some(then(&raw, report));
    }
    let unreadable = |report: &mut ValidationReport, e: &dyn std::fmt::Display| {
        report.push(file_problem(
            Rule::UnreadableFile,
            file,
            format!("the file could not be read: {e}"),
            "check that the file exists and is readable",
        ));
    };
    let mut handle = match std::fs::File::open(path) {
        Ok(h) => h,
        Err(e) => {
            unreadable(report, &e);
            return None;
        }
    };
    if handle.metadata().is_ok_and(|m| m.len() == 0) {
        report.push(empty_file_problem(file));
        return None;
    }
    let mapped = match polars::io::utils::get_reader_bytes(&mut handle) {
        Ok(m) => m,
        Err(e) => {
            unreadable(report, &e);
            return None;
        }
    };
    let raw = read_csv(&mapped, file, spec, report)?;
    Some(then(&raw, report))
}

fn empty_file_problem(file: &str) -> Problem {
    file_problem(
        Rule::EmptyFile,
        file,
        "the file is empty".to_string(),
        "export the table again with its header row (and its rows, if it has any)",
    )
}

/// The 1-based line where a quoted field opens and is never closed (RFC 4180 quoting: `""`
/// inside quotes is a quote), if any.
fn unclosed_quote_line(bytes: &[u8]) -> Option<u64> {
    let mut line = 1u64;
    let mut opened_on = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' if opened_on.is_none() => opened_on = Some(line),
            b'"' if bytes.get(i + 1) == Some(&b'"') => i += 1,
            b'"' => opened_on = None,
            b'\n' => line += 1,
            _ => {}
        }
        i += 1;
    }
    opened_on
}

fn file_problem(rule: Rule, file: &str, message: String, fix: &str) -> Problem {
    Problem { rule, file: file.to_string(), line: None, column: None, value: None, message, fix: fix.to_string() }
}

fn read_parquet(path: &Path, file: &str, report: &mut ValidationReport) -> Option<RawTable<'static>> {
    let opened = std::fs::File::open(path)
        .map_err(|e| e.to_string())
        .and_then(|f| ParquetReader::new(f).finish().map_err(|e| e.to_string()));
    let frame = match opened {
        Ok(frame) => frame,
        Err(e) => {
            report.push(file_problem(
                Rule::UnreadableFile,
                file,
                format!("the file could not be read as Parquet: {e}"),
                "write the table again as Parquet, or as CSV with a header row",
            ));
            return None;
        }
    };
    let headers: Vec<String> = frame.get_column_names().iter().map(|s| s.trim().to_string()).collect();
    let mut columns = Vec::with_capacity(headers.len());
    for (i, column) in frame.columns().iter().enumerate() {
        match column.cast(&DataType::String) {
            Ok(c) => columns.push(c.with_name(PlSmallStr::from(i.to_string()))),
            Err(e) => {
                report.push(Problem {
                    column: Some(headers[i].clone()),
                    ..file_problem(
                        Rule::UnreadableFile,
                        file,
                        format!("column of type {} cannot be read as text: {e}", column.dtype()),
                        "store the column as a string, number or date",
                    )
                });
                return None;
            }
        }
    }
    let frame = DataFrame::new_infer_height(columns).ok()?;
    Some(RawTable { file: file.to_string(), headers, body: Body::Frame(frame), lines: Lines::ParquetRows })
}

fn read_csv<'a>(
    bytes: &'a [u8],
    file: &str,
    spec: Option<&TableSpec>,
    report: &mut ValidationReport,
) -> Option<RawTable<'a>> {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        report.push(empty_file_problem(file));
        return None;
    }
    let bytes: Vec<u8> = match std::str::from_utf8(bytes) {
        Ok(text) if memchr::memchr(b'"', bytes).is_none() && text.len() < u32::MAX as usize => {
            return Some(read_simple(Cow::Borrowed(text), file, spec, report));
        }
        Ok(_) => bytes.to_vec(),
        Err(_) => {
            check_utf8(bytes, file, report);
            bytes.to_vec()
        }
    };
    let scan = scan_structure(&bytes);
    let headers: Vec<String> = split_header(&bytes[..scan.header_end]);
    for &(line, fields) in scan.ragged.iter() {
        report.push(Problem {
            rule: Rule::RaggedRow,
            file: file.to_string(),
            line: Some(line as u64),
            column: None,
            value: None,
            message: if fields == 0 {
                "the line is blank".to_string()
            } else {
                format!("the row has {fields} fields but the header has {}", headers.len())
            },
            fix: "quote values that contain commas, and give every row one value per header column".to_string(),
        });
    }
    for _ in scan.ragged.len()..scan.ragged_total {
        report.push(Problem {
            rule: Rule::RaggedRow,
            file: file.to_string(),
            line: None,
            column: None,
            value: None,
            message: "another row has the wrong number of fields".to_string(),
            fix: String::new(),
        });
    }

    // Positional names avoid polars' handling of duplicate or empty header cells; the
    // header as written is kept in `headers`.
    let schema: Schema =
        (0..headers.len()).map(|i| Field::new(PlSmallStr::from(i.to_string()), DataType::String)).collect();
    let parse = CsvParseOptions::default()
        .with_encoding(CsvEncoding::LossyUtf8)
        .with_truncate_ragged_lines(true)
        .with_missing_is_null(true);
    let n_rows = scan.records;
    let result = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(Arc::new(schema)))
        .with_raise_if_empty(false)
        .with_parse_options(parse)
        .into_reader_with_file_handle(Cursor::new(bytes.as_slice()))
        .finish();
    let frame = match result {
        Ok(frame) => frame,
        Err(_) => {
            // the parser's own message quotes the data it choked on (for an open quote, the
            // rest of the file: identifiers included), so it is not repeated; the line of an
            // unclosed quote is found here instead
            let (message, line) = match unclosed_quote_line(&bytes) {
                Some(line) => (
                    format!("the file could not be parsed as CSV: a quote opened on line {line} is never closed"),
                    Some(line),
                ),
                None => ("the file could not be parsed as CSV".to_string(), None),
            };
            report.push(Problem {
                line,
                ..file_problem(
                    Rule::UnreadableFile,
                    file,
                    message,
                    "export the table as comma-separated UTF-8 text with a header row; close or remove the stray quote",
                )
            });
            return None;
        }
    };
    let lines = if frame.height() == n_rows {
        match scan.record_lines {
            Some(lines) => Lines::Explicit(lines),
            None => Lines::Simple,
        }
    } else {
        // polars and the scan disagree on where rows are; refuse rather than misreport lines.
        report.push(file_problem(
            Rule::UnreadableFile,
            file,
            format!(
                "the file's rows could not be delimited reliably ({} rows by one reading, {} by another)",
                frame.height(),
                n_rows
            ),
            "check the file's quoting: every quote that opens a value must close it",
        ));
        return None;
    };
    Some(RawTable { file: file.to_string(), headers, body: Body::Frame(frame), lines })
}

/// Reports every run of bytes that is not UTF-8 (capped by the report), with line and field.
fn check_utf8(bytes: &[u8], file: &str, report: &mut ValidationReport) {
    let mut offset = 0;
    let mut line = 1u64;
    let mut line_start = 0usize;
    while offset < bytes.len() {
        match std::str::from_utf8(&bytes[offset..]) {
            Ok(_) => return,
            Err(e) => {
                let bad = offset + e.valid_up_to();
                let bad_len = e.error_len().unwrap_or(bytes.len() - bad).max(1);
                for (i, &b) in bytes[offset..bad].iter().enumerate() {
                    if b == b'\n' {
                        line += 1;
                        line_start = offset + i + 1;
                    }
                }
                let field = bytes[line_start..bad].iter().filter(|&&b| b == b',').count();
                let header_cells = split_header(&bytes[..memchr::memchr(b'\n', bytes).unwrap_or(bytes.len())]);
                let hex: Vec<String> = bytes[bad..bad + bad_len].iter().map(|b| format!("{b:02X}")).collect();
                report.push(Problem {
                    rule: Rule::NotUtf8,
                    file: file.to_string(),
                    line: Some(line),
                    column: header_cells.get(field).cloned(),
                    value: Some(format!("bytes {}", hex.join(" "))),
                    message: "the value holds bytes that are not UTF-8 (read as \u{FFFD})".to_string(),
                    fix: "export the file as UTF-8 (in Excel: CSV UTF-8); Windows-1252 exports break accented names"
                        .to_string(),
                });
                offset = bad + bad_len;
            }
        }
    }
}

/// Reads a valid UTF-8 CSV without quote characters: records are lines, fields are split at
/// commas. Lines are counted per chunk, then chunks are parsed in parallel straight into the
/// final column vectors. Blank and ragged lines are read as polars reads them (missing fields
/// empty, extra fields dropped) and reported.
fn read_simple<'a>(
    text: Cow<'a, str>,
    file: &str,
    spec: Option<&TableSpec>,
    report: &mut ValidationReport,
) -> RawTable<'a> {
    let bytes = text.as_bytes();
    let header_end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len());
    let headers = split_header(&bytes[..header_end]);
    let n = headers.len().max(1);
    // Typers of the contract's non-text columns (first header naming each): these are typed
    // while the chunk is parsed, and only text columns keep field positions.
    let mut plan: Vec<Option<ValueTyper>> = vec![None; n];
    if let Some(spec) = spec {
        let mut seen: Vec<&str> = Vec::new();
        for (k, header) in headers.iter().enumerate() {
            if let Some(c) = spec.resolve(header) {
                if !seen.contains(&c.name) {
                    seen.push(c.name);
                    plan[k] = Some(ValueTyper::new(c)).filter(|t| t.store(0).is_some());
                }
            }
        }
    }
    let text_str: &str = &text;
    let body_start = (header_end + 1).min(bytes.len());
    // chunk boundaries just after a newline
    let pieces = (rayon::current_num_threads() * 4).max(1);
    let target = (bytes.len() - body_start) / pieces + 1;
    let mut bounds = vec![body_start];
    while let Some(&last) = bounds.last() {
        if last >= bytes.len() {
            break;
        }
        let next = (last + target).min(bytes.len());
        let cut = if next >= bytes.len() {
            bytes.len()
        } else {
            memchr::memchr(b'\n', &bytes[next..]).map_or(bytes.len(), |i| next + i + 1)
        };
        bounds.push(cut);
    }
    let lens: Vec<usize> = bounds
        .par_windows(2)
        .map(|w| {
            let newlines = memchr::memchr_iter(b'\n', &bytes[w[0]..w[1]]).count();
            newlines + usize::from(bytes[w[1] - 1] != b'\n')
        })
        .collect();
    let height: usize = lens.iter().sum();
    let mut columns: Vec<Vec<(u32, u32)>> =
        (0..n).map(|k| if plan[k].is_none() { vec![(0, 0); height] } else { Vec::new() }).collect();
    let mut per_chunk: Vec<Vec<&mut [(u32, u32)]>> = (0..lens.len()).map(|_| Vec::with_capacity(n)).collect();
    for column in columns.iter_mut() {
        let mut rest: &mut [(u32, u32)] = column.as_mut_slice();
        for (k, &len) in lens.iter().enumerate() {
            let take = len.min(rest.len());
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(take);
            per_chunk[k].push(head);
            rest = tail;
        }
    }
    let first_lines: Vec<usize> = lens.iter().scan(2, |line, len| Some(std::mem::replace(line, *line + len))).collect();
    let cap = report.cap();
    type ChunkOut = (Vec<(usize, usize)>, Vec<Option<Store>>, ValidationReport);
    let parsed: Vec<ChunkOut> = bounds
        .par_windows(2)
        .zip(per_chunk.into_par_iter())
        .zip(lens.par_iter().zip(first_lines.par_iter()))
        .map(|((w, mut out), (&len, &first_line))| {
            let (from, to) = (w[0], w[1]);
            let mut stores: Vec<Option<Store>> = plan.iter().map(|t| t.as_ref().and_then(|t| t.store(len))).collect();
            let mut problems = ValidationReport::with_cap(cap);
            let mut ragged = Vec::new();
            let mut row = 0;
            let mut start = from;
            while start < to {
                let end = memchr::memchr(b'\n', &bytes[start..to]).map_or(to, |i| start + i);
                let mut content_end = end;
                if content_end > start && bytes[content_end - 1] == b'\r' {
                    content_end -= 1;
                }
                let mut fields = 0;
                if content_end > start {
                    let mut field_start = start;
                    for comma in memchr::memchr_iter(b',', &bytes[start..content_end])
                        .map(|i| start + i)
                        .chain(std::iter::once(content_end))
                    {
                        if fields < n {
                            match (&plan[fields], &mut stores[fields]) {
                                (Some(typer), Some(store)) => {
                                    let value = Some(&text_str[field_start..comma]).filter(|v| !v.is_empty());
                                    match typer.value(value) {
                                        Ok(v) => store.push(Some(v)),
                                        Err(bad) => {
                                            problems.push(bad_problem(file, first_line + row, &headers[fields], bad));
                                            store.push(None);
                                        }
                                    }
                                }
                                _ => out[fields][row] = (field_start as u32, (comma - field_start) as u32),
                            }
                        }
                        fields += 1;
                        field_start = comma + 1;
                    }
                }
                // missing fields of a short row are empty
                for k in fields.min(n)..n {
                    if let (Some(typer), Some(store)) = (&plan[k], &mut stores[k]) {
                        match typer.value(None) {
                            Ok(v) => store.push(Some(v)),
                            Err(bad) => {
                                problems.push(bad_problem(file, first_line + row, &headers[k], bad));
                                store.push(None);
                            }
                        }
                    }
                }
                if fields != n {
                    ragged.push((row, fields));
                }
                row += 1;
                start = end + 1;
            }
            (ragged, stores, problems)
        })
        .collect();
    let mut ragged_total = 0;
    let mut typed_stores: Vec<Option<Store>> = plan.iter().map(|t| t.as_ref().and_then(|t| t.store(height))).collect();
    let mut value_problems = ValidationReport::with_cap(cap);
    for ((ragged, stores, problems), first_line) in parsed.into_iter().zip(&first_lines) {
        for (row, fields) in ragged {
            ragged_total += 1;
            let line = if ragged_total <= RAGGED_LISTED { first_line + row } else { 0 };
            report.push(ragged_problem(file, line, fields, headers.len()));
        }
        value_problems.merge(problems);
        for (all, part) in typed_stores.iter_mut().zip(stores) {
            if let (Some(all), Some(part)) = (all, part) {
                all.extend(part);
            }
        }
    }
    report.merge(value_problems);
    let typed: Vec<Option<Column>> = typed_stores.into_iter().map(|s| s.map(|s| s.finish(""))).collect();
    RawTable {
        file: file.to_string(),
        headers,
        body: Body::Slices { text, columns, typed, height },
        lines: Lines::Simple,
    }
}

fn bad_problem(file: &str, line: usize, header: &str, bad: BadValue) -> Problem {
    Problem {
        rule: bad.rule,
        file: file.to_string(),
        line: Some(line as u64),
        column: Some(header.to_string()),
        value: bad.value,
        message: bad.message,
        fix: bad.fix,
    }
}

fn ragged_problem(file: &str, line: usize, fields: usize, expected: usize) -> Problem {
    Problem {
        rule: Rule::RaggedRow,
        file: file.to_string(),
        line: (line > 0).then_some(line as u64),
        column: None,
        value: None,
        message: if fields == 0 {
            "the line is blank".to_string()
        } else {
            format!("the row has {fields} fields but the header has {expected}")
        },
        fix: "quote values that contain commas, and give every row one value per header column".to_string(),
    }
}

fn split_header(line: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(line);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.iter().map(|s| s.trim().to_string()).collect(),
        _ => Vec::new(),
    }
}

/// What one pass over the bytes learnt of the file's structure.
struct Scan {
    /// Byte offset where the header line ends.
    header_end: usize,
    /// Data records (a blank line is a record, as polars reads it).
    records: usize,
    /// The first ragged rows: (line, fields); 0 fields for a blank line.
    ragged: Vec<(usize, usize)>,
    /// All ragged rows.
    ragged_total: usize,
    /// Line of each data record, only when a quoted field spans lines.
    record_lines: Option<Vec<u32>>,
}

const RAGGED_LISTED: usize = 50;

/// Splits the bytes into records (RFC 4180 quoting), counting fields per record. Without a
/// quote character in the file this is a memchr pass over newlines.
fn scan_structure(bytes: &[u8]) -> Scan {
    let has_quotes = memchr::memchr(b'"', bytes).is_some();
    let mut scan = Scan { header_end: 0, records: 0, ragged: Vec::new(), ragged_total: 0, record_lines: None };
    let mut header_fields = None;
    let mut on_record = |scan: &mut Scan, line: usize, end: usize, fields: usize, blank: bool| {
        match header_fields {
            None => {
                if blank {
                    return false;
                }
                header_fields = Some(fields);
                scan.header_end = end;
                false
            }
            Some(expected) => {
                // polars reads a blank line as a row of nulls, so it is a (ragged) record.
                let fields = if blank { 0 } else { fields };
                scan.records += 1;
                if fields != expected {
                    scan.ragged_total += 1;
                    if scan.ragged.len() < RAGGED_LISTED {
                        scan.ragged.push((line, fields));
                    }
                }
                true
            }
        }
    };
    if !has_quotes {
        let mut start = 0;
        let mut line = 1;
        while start < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            let mut content = &bytes[start..end];
            if content.last() == Some(&b'\r') {
                content = &content[..content.len() - 1];
            }
            let blank = content.is_empty();
            let fields = memchr::memchr_iter(b',', content).count() + 1;
            on_record(&mut scan, line, end, fields, blank);
            line += 1;
            start = end + 1;
        }
        return scan;
    }
    let mut lines = Vec::new();
    let mut line = 1usize;
    let mut i = 0;
    while i < bytes.len() {
        let record_line = line;
        let mut fields = 1;
        let mut in_quotes = false;
        let mut content_len = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if in_quotes {
                if b == b'"' {
                    if bytes.get(i + 1) == Some(&b'"') {
                        i += 1;
                    } else {
                        in_quotes = false;
                    }
                } else if b == b'\n' {
                    line += 1;
                }
            } else if b == b'"' {
                in_quotes = true;
            } else if b == b',' {
                fields += 1;
            } else if b == b'\n' {
                break;
            }
            if b != b'\r' {
                content_len += 1;
            }
            i += 1;
        }
        let blank = content_len == 0;
        if on_record(&mut scan, record_line, i, fields, blank) {
            lines.push(record_line as u32);
        }
        line += 1;
        i += 1;
    }
    scan.record_lines = Some(lines);
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &[u8]) -> (Option<RawTable<'static>>, ValidationReport) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let mut report = ValidationReport::with_cap(20);
        let table = read_table(&path, "t.csv", None, &mut report, |raw, _| raw.clone().into_owned());
        (table, report)
    }

    #[test]
    fn bom_crlf_and_blank_lines_are_read_with_true_line_numbers() {
        let (table, report) = read_str(b"\xEF\xBB\xBFa,b\r\n1,2\r\n\r\n3,\r\n");
        let table = table.unwrap_or_else(|| panic!("{report:?}"));
        assert_eq!(table.headers, vec!["a", "b"]);
        // the blank line is a row of nulls, reported on its own line
        assert_eq!(table.height(), 3);
        assert_eq!((report.problems[0].rule, report.problems[0].line), (Rule::RaggedRow, Some(3)));
        assert_eq!(report.problems[0].message, "the line is blank");
        assert_eq!(table.line(2), 4);
        assert_eq!(table.column(0).get(2), Some("3"));
        assert_eq!(table.column(1).get(2), None);
    }

    #[test]
    fn quoted_newlines_keep_line_numbers_exact() {
        let (table, report) = read_str(b"a,b\n\"x\ny\",2\n3,4\n");
        let table = table.unwrap();
        assert!(!report.has_problems(), "{report:?}");
        assert_eq!(table.height(), 2);
        assert_eq!(table.line(1), 4);
        assert_eq!(table.column(0).get(0), Some("x\ny"));
    }

    #[test]
    fn ragged_rows_are_reported_with_their_lines() {
        let (table, report) = read_str(b"a,b\n1,2\n1,2,3\n4\n");
        assert!(table.is_some());
        let lines: Vec<_> = report.problems.iter().map(|p| (p.rule, p.line)).collect();
        assert_eq!(lines, vec![(Rule::RaggedRow, Some(3)), (Rule::RaggedRow, Some(4))]);
    }

    #[test]
    fn non_utf8_bytes_are_located() {
        let (table, report) = read_str(b"name,b\nok,1\nJos\xE9,2\n");
        assert!(table.is_some());
        let p = &report.problems[0];
        assert_eq!((p.rule, p.line, p.column.as_deref()), (Rule::NotUtf8, Some(3), Some("name")));
        assert_eq!(p.value.as_deref(), Some("bytes E9"));
    }

    #[test]
    fn empty_file_is_a_problem_not_a_panic() {
        let (table, report) = read_str(b"");
        assert!(table.is_none());
        assert_eq!(report.problems[0].rule, Rule::EmptyFile);
    }
}

#[cfg(test)]
mod paths {
    use super::*;

    fn read(text: &[u8]) -> (RawTable<'static>, ValidationReport) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let mut report = ValidationReport::with_cap(20);
        (read_table(&path, "t.csv", None, &mut report, |raw, _| raw.clone().into_owned()).unwrap(), report)
    }

    /// The parallel fast path (no quotes) and the polars path (a quoted header cell forces it)
    /// must read the same values and report the same ragged lines.
    #[test]
    fn fast_and_polars_paths_agree() {
        let body = "1,x,2016-01-01\r\n\r\n2,,2016-02-01\n3,y\n4,z,2016-03-01,extra\n5, s ,\n";
        let plain = format!("id,name,date\n{body}");
        let quoted = format!("\"id\",name,date\n{body}");
        let (a, ra) = read(plain.as_bytes());
        let (b, rb) = read(quoted.as_bytes());
        assert!(matches!(a.body, Body::Slices { .. }));
        assert!(matches!(b.body, Body::Frame(_)));
        assert_eq!(a.headers, b.headers);
        assert_eq!(a.height(), b.height());
        for c in 0..3 {
            let x: Vec<Option<&str>> = a.column(c).iter().collect();
            let y: Vec<Option<&str>> = b.column(c).iter().collect();
            assert_eq!(x, y, "column {c}");
        }
        let lines = |r: &ValidationReport| r.problems.iter().map(|p| (p.line, p.message.clone())).collect::<Vec<_>>();
        assert_eq!(lines(&ra), lines(&rb));
        assert_eq!(lines(&ra).len(), 3);
    }

    #[test]
    fn many_chunks_keep_row_order_and_lines() {
        let mut text = String::from("id,v\n");
        for i in 0..50_000 {
            text.push_str(&format!("{i},{}\n", i * 2));
        }
        text.push_str("bad\n");
        let (t, r) = read(text.as_bytes());
        assert_eq!(t.height(), 50_001);
        assert_eq!(t.column(0).get(49_999), Some("49999"));
        assert_eq!(t.column(1).get(12_345), Some("24690"));
        assert_eq!(r.problems[0].line, Some(50_002));
    }
}

/// Reads a user's own table (CSV, or Parquet by extension) as `swp-eval match --table` and
/// `effect --table` take it: every column typed as polars types it from the whole file (a
/// plain CSV by this crate's parallel reader, which gives the same frame).
///
/// # Errors
/// What went wrong, in words naming the file: it cannot be opened, is not a table, or has no
/// data rows.
pub fn user_table(path: &Path) -> Result<DataFrame, String> {
    let is_parquet = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}; check the path", path.display()))?;
    let bytes = file.metadata().map_or(0, |m| m.len());
    if let Some(message) = too_large(&path.display().to_string(), bytes, memory_budget()) {
        return Err(format!("{message}: take a sample of rows, or run on a machine with more memory"));
    }
    if !is_parquet {
        // a plain CSV is typed in parallel without polars' whole-file inference
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if let Some(frame) = crate::plain_csv::read(&bytes) {
            return Ok(frame);
        }
    }
    let read = move || {
        if is_parquet {
            ParquetReader::new(file).finish()
        } else {
            CsvReadOptions::default()
                .with_infer_schema_length(None)
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .and_then(|r| r.finish())
        }
    };
    // polars 0.55's typed CSV parser panics on some malformed quoting (a field that is a lone
    // quote: found by the `user_table` fuzz target); a panic in the reader is a file it cannot
    // read, reported as such, never a crash. The default hook's message is held back meanwhile.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let frame = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    std::panic::set_hook(hook);
    let frame = match frame {
        Ok(frame) => frame.map_err(|e| format!("cannot read {} as a table: {e}", path.display()))?,
        Err(_) => {
            return Err(format!(
                "cannot read {} as a table: the CSV parser failed on its quoting (a field that is a lone quote, or a quote left open); check the quotes around values",
                path.display()
            ))
        }
    };
    if frame.height() == 0 {
        return Err(format!("{} has no data rows", path.display()));
    }
    Ok(frame)
}

/// How many bytes of memory reading a table may use: `SWP_EVAL_MEMORY` (bytes) when set, else
/// the kernel's `MemAvailable` (None where neither is known: no check).
pub fn memory_budget() -> Option<u64> {
    if let Some(v) = std::env::var("SWP_EVAL_MEMORY").ok().and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(v);
    }
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Typed columns take about twice a CSV's bytes while it is read (text and typed values side
/// by side): a file larger than half the memory budget is refused before it is read.
pub const MEMORY_FACTOR: u64 = 2;

/// Why a file of `bytes` cannot be read within `budget` bytes of memory (None when it can).
pub fn too_large(name: &str, bytes: u64, budget: Option<u64>) -> Option<String> {
    let budget = budget?;
    (bytes.saturating_mul(MEMORY_FACTOR) > budget).then(|| {
        format!(
            "{name} is {} and reading it needs about {} of memory; {} is available",
            human(bytes),
            human(bytes.saturating_mul(MEMORY_FACTOR)),
            human(budget)
        )
    })
}

/// Bytes as a person reads them (1.5 GB).
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..=1_023 => format!("{bytes} bytes"),
        1_024..=1_048_575 => format!("{:.1} KB", b / 1024.0),
        1_048_576..=1_073_741_823 => format!("{:.1} MB", b / 1_048_576.0),
        _ => format!("{:.1} GB", b / 1_073_741_824.0),
    }
}

#[cfg(test)]
mod memory_tests {
    use super::*;

    #[test]
    fn a_file_is_refused_when_twice_its_size_exceeds_the_budget() {
        assert_eq!(too_large("t.csv", 10, None), None);
        assert_eq!(too_large("t.csv", 500, Some(1_000)), None);
        let m = too_large("episodes.csv", 3 * 1_073_741_824, Some(4 * 1_073_741_824)).unwrap();
        assert_eq!(m, "episodes.csv is 3.0 GB and reading it needs about 6.0 GB of memory; 4.0 GB is available");
        assert_eq!(human(1_536), "1.5 KB");
    }
}
