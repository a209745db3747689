//! Reading one table file (CSV or Parquet) into a frame of text columns, with the structural
//! checks polars does not report by line: byte-order mark, UTF-8, ragged rows, empty files,
//! duplicate header cells. Values are typed later (`typed`), so a bad value never stops a read.

use crate::problem::{Problem, Rule, ValidationReport};
use crate::schema::TableSpec;
use crate::values::{BadValue, Store, StoreSlice, ValueTyper};
use polars::prelude::*;
use rayon::prelude::*;
use std::borrow::Cow;
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
    match std::str::from_utf8(bytes) {
        Ok(text) if memchr::memchr(b'"', bytes).is_none() && text.len() < u32::MAX as usize => {
            return Some(read_simple(Cow::Borrowed(text), file, spec, report));
        }
        Ok(_) => {}
        Err(_) => check_utf8(bytes, file, report),
    }
    read_quoted(bytes, file, report)
}

/// Reads CSV with quotes (or bytes that are not UTF-8) with the `csv` crate (RFC 4180: a quoted
/// field may hold commas, newlines and doubled quotes) into text columns, the way the fast path
/// reads a plain file: the first record is the header; a blank line is a row of empty fields
/// and is reported; a short row's missing fields are empty and a long row's extra fields are
/// dropped (both reported); an empty field, quoted or not, is empty (null); each row keeps the
/// line it starts on. Bytes that are not UTF-8 are read as U+FFFD (and reported by
/// [`check_utf8`]).
fn read_quoted(bytes: &[u8], file: &str, report: &mut ValidationReport) -> Option<RawTable<'static>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut headers: Option<Vec<String>> = None;
    let mut builders: Vec<StringChunkedBuilder> = Vec::new();
    let mut lines: Vec<u32> = Vec::new();
    // the line after the last record read, and where that record started (line, byte)
    let mut next_line = 1u64;
    let mut last_start = (1u64, 0usize);
    // (byte, its line): newlines are counted once, up to each record's first byte
    let mut counted = (0usize, 1u64);
    // ragged and blank rows (line, fields), reported once the whole file is read
    let mut ragged: Vec<(u64, usize)> = Vec::new();
    let report_ragged = |report: &mut ValidationReport, ragged: &[(u64, usize)], expected: usize| {
        for (k, &(line, fields)) in ragged.iter().enumerate() {
            let listed = if k < RAGGED_LISTED { line as usize } else { 0 };
            report.push(ragged_problem(file, listed, fields, expected));
        }
    };
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                report.push(file_problem(
                    Rule::UnreadableFile,
                    file,
                    format!("the file could not be parsed as CSV: {e}"),
                    "export the table as comma-separated UTF-8 text with a header row",
                ));
                return None;
            }
        }
        // the reader's position can fall before the line ends it skipped (its line count too,
        // after CRLF and blank lines), so the record's first byte and line are found here
        let mut byte = record.position().map_or(counted.0, |p| p.byte() as usize).max(counted.0);
        while matches!(bytes.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        counted = (byte, counted.1 + memchr::memchr_iter(b'\n', &bytes[counted.0..byte]).count() as u64);
        let line = counted.1;
        let newlines_inside: u64 = record.iter().map(|f| memchr::memchr_iter(b'\n', f).count() as u64).sum();
        let Some(header) = &headers else {
            let cells: Vec<String> = record.iter().map(|c| String::from_utf8_lossy(c).trim().to_string()).collect();
            builders = (0..cells.len()).map(|_| StringChunkedBuilder::new(PlSmallStr::EMPTY, 1024)).collect();
            headers = Some(cells);
            (next_line, last_start) = (line + 1 + newlines_inside, (line, byte));
            continue;
        };
        let expected = header.len();
        // blank lines the reader passed over since the previous record: rows of empty fields
        for blank in next_line..line {
            builders.iter_mut().for_each(|b| b.append_null());
            lines.push(blank as u32);
            ragged.push((blank, 0));
        }
        for (k, b) in builders.iter_mut().enumerate() {
            match record.get(k).filter(|f| !f.is_empty()) {
                Some(f) => b.append_value(String::from_utf8_lossy(f)),
                None => b.append_null(),
            }
        }
        lines.push(line as u32);
        if record.len() != expected {
            ragged.push((line, record.len()));
        }
        (next_line, last_start) = (line + 1 + newlines_inside, (line, byte));
    }
    let Some(headers) = headers else {
        report.push(empty_file_problem(file));
        return None;
    };
    // a quote that never closes swallows the rest of the file into the last record
    if let Some(offset) = open_quote_at_end(&bytes[last_start.1..]) {
        let line =
            last_start.0 + memchr::memchr_iter(b'\n', &bytes[last_start.1..last_start.1 + offset]).count() as u64;
        // the last record's shape is the stray quote's doing: only earlier rows are reported
        ragged.retain(|&(l, _)| l < last_start.0);
        report_ragged(report, &ragged, headers.len());
        report.push(Problem {
            line: Some(line),
            ..file_problem(
                Rule::UnreadableFile,
                file,
                format!("the file could not be parsed as CSV: a quote opened on line {line} is never closed"),
                "export the table as comma-separated UTF-8 text with a header row; close or remove the stray quote",
            )
        });
        return None;
    }
    // blank lines after the last record (the fast path reads each as a row too)
    let total_lines = memchr::memchr_iter(b'\n', bytes).count() as u64 + u64::from(bytes.last() != Some(&b'\n'));
    for blank in next_line..=total_lines {
        builders.iter_mut().for_each(|b| b.append_null());
        lines.push(blank as u32);
        ragged.push((blank, 0));
    }
    report_ragged(report, &ragged, headers.len());
    let columns: Vec<Column> = builders
        .into_iter()
        .enumerate()
        .map(|(i, b)| b.finish().with_name(PlSmallStr::from(i.to_string())).into_column())
        .collect();
    let frame = DataFrame::new_infer_height(columns).ok()?;
    Some(RawTable { file: file.to_string(), headers, body: Body::Frame(frame), lines: Lines::Explicit(lines) })
}

/// The offset of a quote that opens a field of `record` (the bytes from a record's start to the
/// end of the file) and never closes, if any. Quoting as RFC 4180 and the `csv` crate read it:
/// a quote opens a field only as its first byte; inside, `""` is a quote.
fn open_quote_at_end(record: &[u8]) -> Option<usize> {
    let mut opened = None;
    let mut field_start = true;
    let mut i = 0;
    while i < record.len() {
        let b = record[i];
        match opened {
            Some(_) if b == b'"' && record.get(i + 1) == Some(&b'"') => i += 1,
            Some(_) if b == b'"' => opened = None,
            Some(_) => {}
            None if b == b'"' && field_start => opened = Some(i),
            None => {}
        }
        field_start = opened.is_none() && (b == b',' || b == b'\n');
        i += 1;
    }
    opened
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
    // typed columns are written in place too, each chunk into its own part
    let mut typed_stores: Vec<Option<Store>> =
        plan.iter().map(|t| t.as_ref().and_then(|t| t.store(0)).map(|s| s.unset_like(height))).collect();
    let mut typed_per_chunk: Vec<Vec<Option<StoreSlice<'_>>>> =
        (0..lens.len()).map(|_| Vec::with_capacity(n)).collect();
    for store in typed_stores.iter_mut() {
        match store {
            Some(store) => {
                for (k, part) in store.slices(&lens).into_iter().enumerate() {
                    typed_per_chunk[k].push(Some(part));
                }
            }
            None => typed_per_chunk.iter_mut().for_each(|parts| parts.push(None)),
        }
    }
    let first_lines: Vec<usize> = lens.iter().scan(2, |line, len| Some(std::mem::replace(line, *line + len))).collect();
    let cap = report.cap();
    type ChunkOut = (Vec<(usize, usize)>, ValidationReport);
    let parsed: Vec<ChunkOut> = bounds
        .par_windows(2)
        .zip(per_chunk.into_par_iter().zip(typed_per_chunk.into_par_iter()))
        .zip(first_lines.par_iter())
        .map(|((w, (mut out, mut stores)), &first_line)| {
            let (from, to) = (w[0], w[1]);
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
                                        Ok(v) => store.set(row, Some(v)),
                                        Err(bad) => {
                                            store.set(row, None);
                                            problems.push(bad_problem(file, first_line + row, &headers[fields], bad));
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
                // missing fields of a short row are empty (every typed slot of the row is set)
                for k in fields.min(n)..n {
                    if let (Some(typer), Some(store)) = (&plan[k], &mut stores[k]) {
                        match typer.value(None) {
                            Ok(v) => store.set(row, Some(v)),
                            Err(bad) => {
                                store.set(row, None);
                                problems.push(bad_problem(file, first_line + row, &headers[k], bad));
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
            (ragged, problems)
        })
        .collect();
    let mut ragged_total = 0;
    let mut value_problems = ValidationReport::with_cap(cap);
    for ((ragged, problems), first_line) in parsed.into_iter().zip(&first_lines) {
        for (row, fields) in ragged {
            ragged_total += 1;
            let line = if ragged_total <= RAGGED_LISTED { first_line + row } else { 0 };
            report.push(ragged_problem(file, line, fields, headers.len()));
        }
        value_problems.merge(problems);
    }
    report.merge(value_problems);
    let typed: Vec<Option<Column>> = typed_stores.into_par_iter().map(|s| s.map(|s| s.finish(""))).collect();
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

const RAGGED_LISTED: usize = 50;

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
        let (table, report) = read_opt(text);
        (table.unwrap_or_else(|| panic!("{report:?}")), report)
    }

    fn read_opt(text: &[u8]) -> (Option<RawTable<'static>>, ValidationReport) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let mut report = ValidationReport::with_cap(20);
        (read_table(&path, "t.csv", None, &mut report, |raw, _| raw.clone().into_owned()), report)
    }

    /// The parallel fast path (no quotes) and the `csv` crate's path (a quoted header cell
    /// forces it) must read the same values and report the same ragged and blank lines.
    #[test]
    fn fast_and_quoted_paths_agree() {
        let bodies = [
            ("1,x,2016-01-01\r\n\r\n2,,2016-02-01\n3,y\n4,z,2016-03-01,extra\n5, s ,\n", 3),
            ("1,x,2016-01-01\n\n\n2,y,\n\n", 3),
            ("1,x,2016-01-01\r\n2,y,2016-01-02", 0),
        ];
        for (body, problems) in bodies {
            let plain = format!("id,name,date\n{body}");
            let quoted = format!("\"id\",name,date\n{body}");
            let (a, ra) = read(plain.as_bytes());
            let (b, rb) = read(quoted.as_bytes());
            assert!(matches!(a.body, Body::Slices { .. }));
            assert!(matches!(b.body, Body::Frame(_)));
            assert_eq!(a.headers, b.headers);
            assert_eq!(a.height(), b.height(), "{body:?}");
            for c in 0..3 {
                let x: Vec<Option<&str>> = a.column(c).iter().collect();
                let y: Vec<Option<&str>> = b.column(c).iter().collect();
                assert_eq!(x, y, "column {c} of {body:?}");
            }
            assert_eq!(
                (0..a.height()).map(|r| a.line(r)).collect::<Vec<_>>(),
                (0..b.height()).map(|r| b.line(r)).collect::<Vec<_>>()
            );
            let lines =
                |r: &ValidationReport| r.problems.iter().map(|p| (p.line, p.message.clone())).collect::<Vec<_>>();
            assert_eq!(lines(&ra), lines(&rb), "{body:?}");
            assert_eq!(lines(&ra).len(), problems, "{body:?}");
        }
    }

    #[test]
    fn an_unclosed_quote_is_refused_on_the_line_it_opens() {
        let (table, report) = read_opt(b"a,b\n1,2\n\"open,3\n4,5\n");
        assert!(table.is_none());
        let p = &report.problems[0];
        assert_eq!((p.rule, p.line), (Rule::UnreadableFile, Some(3)));
        assert!(p.message.contains("a quote opened on line 3 is never closed"), "{}", p.message);
        assert!(!p.message.contains("4,5"), "the rest of the file is not echoed: {}", p.message);
    }

    #[test]
    fn quotes_inside_a_value_doubled_quotes_and_quoted_newlines_are_read_as_rfc_4180_says() {
        let (t, r) = read(b"a,b\n5\" pipe,2\n\"say \"\"hi\"\", then\nbye\",\"\"\n7,8\n");
        assert!(!r.has_problems(), "{r:?}");
        assert_eq!(t.height(), 3);
        assert_eq!(t.column(0).get(0), Some("5\" pipe"));
        assert_eq!(t.column(0).get(1), Some("say \"hi\", then\nbye"));
        assert_eq!(t.column(1).get(1), None, "a quoted empty field is empty");
        assert_eq!((t.line(0), t.line(1), t.line(2)), (2, 3, 5));
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

/// Opens a user's table, refusing one too large for memory; whether it is Parquet (by
/// extension).
fn open_user_table(path: &Path) -> Result<(std::fs::File, bool), String> {
    let is_parquet = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}; check the path", path.display()))?;
    let bytes = file.metadata().map_or(0, |m| m.len());
    if let Some(message) = too_large(&path.display().to_string(), bytes, memory_budget()) {
        return Err(format!("{message}: take a sample of rows, or run on a machine with more memory"));
    }
    Ok((file, is_parquet))
}

use crate::plain_csv::PlainColumns;

/// A user's table as [`user_columns`] reads it.
#[derive(Debug)]
pub enum UserTable {
    /// The wanted columns of a plain CSV, read straight into vectors.
    Plain(PlainColumns),
    /// Any other table, whole, as [`user_table`] reads it.
    Frame(DataFrame),
}

/// Reads the `wanted` columns of a user's table: a CSV whose lines split cleanly (fields wholly
/// in quotes allowed; see [`crate::plain_csv::read_columns`]) straight into vectors, the named
/// columns typed directly, without building a frame; any other file whole, as [`user_table`].
///
/// # Errors
/// As [`user_table`].
pub fn user_columns(path: &Path, wanted: &[&str]) -> Result<UserTable, String> {
    let (file, is_parquet) = open_user_table(path)?;
    if !is_parquet {
        let mut handle = file;
        let bytes = polars::io::utils::get_reader_bytes(&mut handle)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if let Some(columns) = crate::plain_csv::read_columns(&bytes, wanted) {
            return Ok(UserTable::Plain(columns));
        }
    }
    user_table(path).map(UserTable::Frame)
}

/// Reads a user's own table (CSV, or Parquet by extension) as `swp-eval match --table` and
/// `effect --table` take it: every column typed as polars types it from the whole file (a
/// plain CSV by this crate's parallel reader, which gives the same frame).
///
/// # Errors
/// What went wrong, in words naming the file: it cannot be opened, is not a table, or has no
/// data rows.
pub fn user_table(path: &Path) -> Result<DataFrame, String> {
    let (file, is_parquet) = open_user_table(path)?;
    if !is_parquet {
        // a plain CSV is typed in parallel without polars' whole-file inference
        // memory-mapped, as `read_table` reads the contract's tables: no copy of the file
        let mut handle = file.try_clone().map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let bytes = polars::io::utils::get_reader_bytes(&mut handle)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
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
