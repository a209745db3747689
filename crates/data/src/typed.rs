//! Typing a raw (text) table against its `TableSpec`: header mapping, value parsing, and the
//! value-level problems (missing, unknown code, bad date, number or boolean).

use crate::problem::{Problem, Rule, ValidationReport};
use crate::read::RawTable;
use crate::schema::{ColumnSpec, Kind, TableSpec};
use polars::prelude::*;
use rayon::prelude::*;

/// Days from 1970-01-01 to the civil date `y-m-d` (proleptic Gregorian).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe as i32 - 719468
}

/// The civil date `(y, m, d)` of `days` since 1970-01-01.
pub fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = (z - era * 146097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days in month `m` of year `y`.
pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// ISO text of a date given in days since 1970-01-01.
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Why a date did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not in a known layout.
    Layout,
    /// Month or day out of range for the calendar.
    NoSuchDay,
    /// Year outside 1900..=2100.
    Year,
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0')))
}

/// Parses `YYYY-MM-DD` (optionally followed by a midnight time, as a datetime exported as text
/// gives) or `DD/MM/YYYY` (one-digit day and month accepted, as spreadsheets write them).
pub fn parse_date(text: &str) -> Result<i32, DateError> {
    let b = text.trim().as_bytes();
    let (y, m, d) = if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        let rest = &b[10..];
        let midnight = rest.is_empty()
            || ((rest[0] == b' ' || rest[0] == b'T')
                && rest[1..].iter().all(|&c| c == b'0' || c == b':' || c == b'.')
                && rest.len() > 1);
        if !midnight {
            return Err(DateError::Layout);
        }
        (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
    } else {
        let mut parts = b.split(|&c| c == b'/');
        let (d, m, y) = (parts.next(), parts.next(), parts.next());
        if parts.next().is_some() {
            return Err(DateError::Layout);
        }
        match (d, m, y) {
            (Some(d), Some(m), Some(y)) if d.len() <= 2 && m.len() <= 2 && y.len() == 4 => {
                (digits(y), digits(m), digits(d))
            }
            _ => return Err(DateError::Layout),
        }
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(DateError::Layout);
    };
    let y = y as i32;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(DateError::NoSuchDay);
    }
    if !(1900..=2100).contains(&y) {
        return Err(DateError::Year);
    }
    Ok(days_from_civil(y, m, d))
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" => Some(true),
        "false" | "f" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

fn parse_number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Collects strings into a `StringChunked` with its capacity reserved up front (growing the
/// views array by doubling faults in fresh memory again and again).
pub fn strings<'a>(len: usize, values: impl Iterator<Item = Option<&'a str>>) -> StringChunked {
    let mut builder = StringChunkedBuilder::new(PlSmallStr::EMPTY, len);
    for v in values {
        builder.append_option(v);
    }
    builder.finish()
}

/// A typed table and its origin.
#[derive(Debug, Clone)]
pub struct TypedTable {
    /// Columns in spec order (absent optional ones as nulls), then extra columns (lower-cased
    /// header names, String; `x_*` of sites as Float64).
    pub frame: DataFrame,
    /// Which header cell each spec column came from (None: absent).
    pub header_of: Vec<Option<String>>,
}

/// Types `raw` against `spec`, adding problems to `report`.
pub fn type_table(raw: &RawTable<'_>, spec: &TableSpec, report: &mut ValidationReport) -> TypedTable {
    let mut source_of: Vec<Option<usize>> = vec![None; spec.columns.len()];
    let mut extras: Vec<(usize, String)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (i, header) in raw.headers.iter().enumerate() {
        let resolved = spec.resolve(header);
        let canonical = resolved.map_or_else(|| header.to_ascii_lowercase(), |c| c.name.to_string());
        if header.is_empty() {
            continue;
        }
        if seen.contains(&canonical) {
            report.push(Problem {
                rule: Rule::DuplicateColumn,
                file: raw.file.clone(),
                line: Some(1),
                column: Some(header.clone()),
                value: None,
                message: format!("a second header cell names the column `{canonical}`; the first is used"),
                fix: "rename or remove one of the two columns".to_string(),
            });
            continue;
        }
        seen.push(canonical.clone());
        match resolved {
            Some(c) => {
                let k = spec.columns.iter().position(|s| s.name == c.name).expect("resolved spec column");
                source_of[k] = Some(i);
            }
            None => extras.push((i, canonical)),
        }
    }
    for (k, c) in spec.columns.iter().enumerate() {
        if c.required_column && source_of[k].is_none() {
            let also = if c.aliases.is_empty() {
                String::new()
            } else {
                format!(" (or the SSDA903 header {})", c.aliases.join(" / "))
            };
            report.push(Problem {
                rule: Rule::MissingColumn,
                file: raw.file.clone(),
                line: Some(1),
                column: Some(c.name.to_string()),
                value: None,
                message: format!("the required column `{}` is missing", c.name),
                fix: format!("add a column headed `{}`{also}", c.name),
            });
        }
    }

    let height = raw.height();
    let typed: Vec<(Column, ValidationReport)> = spec
        .columns
        .par_iter()
        .zip(source_of.par_iter())
        .map(|(c, source)| {
            let mut local = ValidationReport::with_cap(report.cap());
            let column = match source {
                Some(i) => type_column(raw, *i, c, &mut local),
                None => null_column(c, height),
            };
            (column, local)
        })
        .collect();
    let extra_columns: Vec<(Column, ValidationReport)> = extras
        .par_iter()
        .map(|(i, name)| {
            let mut local = ValidationReport::with_cap(report.cap());
            let number = spec.name == "sites" && name.starts_with("x_");
            let c = ColumnSpec {
                name: "",
                aliases: &[],
                kind: if number { Kind::Number } else { Kind::Text },
                required_column: false,
                required_value: false,
            };
            let column = type_column(raw, *i, &c, &mut local).with_name(PlSmallStr::from(name.as_str()));
            (column, local)
        })
        .collect();
    let mut columns = Vec::with_capacity(typed.len() + extra_columns.len());
    for (column, local) in typed.into_iter().chain(extra_columns) {
        report.merge(local);
        columns.push(column);
    }
    let frame = DataFrame::new(height, columns).expect("typed columns have the raw height and unique names");
    let header_of = source_of.iter().map(|s| s.map(|i| raw.headers[i].clone())).collect();
    TypedTable { frame, header_of }
}

fn null_column(c: &ColumnSpec, height: usize) -> Column {
    let dtype = match c.kind {
        Kind::Text | Kind::Code(_) => DataType::String,
        Kind::Date => DataType::Date,
        Kind::Number => DataType::Float64,
        Kind::Bool => DataType::Boolean,
    };
    Column::full_null(PlSmallStr::from(c.name), height, &dtype)
}

fn type_column(raw: &RawTable<'_>, index: usize, c: &ColumnSpec, report: &mut ValidationReport) -> Column {
    let text = raw.column(index);
    let header = &raw.headers[index];
    let name = PlSmallStr::from(c.name);
    let problem = |rule: Rule, row: usize, value: Option<&str>, message: String, fix: String| Problem {
        rule,
        file: raw.file.clone(),
        line: Some(raw.line(row)),
        column: Some(header.clone()),
        value: value.map(str::to_string),
        message,
        fix,
    };
    let missing = |report: &mut ValidationReport, row: usize| {
        if c.required_value {
            report.push(problem(
                Rule::MissingValue,
                row,
                None,
                format!("`{}` is empty", c.name),
                format!("fill in `{}` on this row", c.name),
            ));
        }
    };
    // Fast path: when every value is present (or may be absent), already trimmed and in its
    // canonical spelling, the column is kept as read.
    // (Columns read from field positions are built anew in one pass below anyway.)
    let already_built = matches!(text, crate::read::RawColumn::Chunked(_));
    if already_built && matches!(c.kind, Kind::Text | Kind::Code(_)) {
        let matcher = match c.kind {
            Kind::Code(list) => Some(crate::codes::CodeMatcher::new(*list)),
            _ => None,
        };
        let nulls_ok = !c.required_value || text.null_count() == 0;
        let clean = nulls_ok
            && text.iter().all(|v| match v {
                None => true,
                Some(v) => {
                    let b = v.as_bytes();
                    !b.is_empty()
                        && !b[0].is_ascii_whitespace()
                        && !b[b.len() - 1].is_ascii_whitespace()
                        && matcher.as_ref().is_none_or(|m| m.canonical(v).is_some_and(|code| code == v))
                }
            });
        if clean {
            return text.to_chunked().with_name(name).into_column();
        }
    }
    match c.kind {
        Kind::Text => {
            let out: StringChunked = strings(
                text.len(),
                text.iter().enumerate().map(|(row, v)| match v.map(str::trim).filter(|v| !v.is_empty()) {
                    Some(v) => Some(v),
                    None => {
                        missing(report, row);
                        None
                    }
                }),
            );
            out.with_name(name).into_column()
        }
        Kind::Code(list) => {
            let matcher = crate::codes::CodeMatcher::new(*list);
            let out: StringChunked = strings(
                text.len(),
                text.iter().enumerate().map(|(row, v)| match v.map(str::trim).filter(|v| !v.is_empty()) {
                    Some(v) => match matcher.canonical(v) {
                        Some(code) => Some(code),
                        None => {
                            report.push(problem(
                                Rule::UnknownCode,
                                row,
                                Some(v),
                                format!("`{v}` is not a {} code", list.name),
                                format!("use {}", list.describe()),
                            ));
                            None
                        }
                    },
                    None => {
                        missing(report, row);
                        None
                    }
                }),
            );
            out.with_name(name).into_column()
        }
        Kind::Date => {
            let out: Int32Chunked = text
                .iter()
                .enumerate()
                .map(|(row, v)| match v.map(str::trim).filter(|v| !v.is_empty()) {
                    Some(v) => match parse_date(v) {
                        Ok(d) => Some(d),
                        Err(e) => {
                            let why = match e {
                                DateError::Layout => "is not a date in the form YYYY-MM-DD or DD/MM/YYYY",
                                DateError::NoSuchDay => "is not a day of the calendar",
                                DateError::Year => "has a year outside 1900 to 2100",
                            };
                            report.push(problem(
                                Rule::BadDate,
                                row,
                                Some(v),
                                format!("`{v}` {why}"),
                                "write the date as YYYY-MM-DD (or DD/MM/YYYY as in SSDA903 returns)".to_string(),
                            ));
                            None
                        }
                    },
                    None => {
                        missing(report, row);
                        None
                    }
                })
                .collect();
            out.with_name(name).into_date().into_column()
        }
        Kind::Number => {
            let out: Float64Chunked = text
                .iter()
                .enumerate()
                .map(|(row, v)| match v.map(str::trim).filter(|v| !v.is_empty()) {
                    Some(v) => match parse_number(v) {
                        Some(x) => Some(x),
                        None => {
                            report.push(problem(
                                Rule::BadNumber,
                                row,
                                Some(v),
                                format!("`{v}` is not a number"),
                                "write a plain decimal number with a point, such as 0.5".to_string(),
                            ));
                            None
                        }
                    },
                    None => {
                        missing(report, row);
                        None
                    }
                })
                .collect();
            out.with_name(name).into_column()
        }
        Kind::Bool => {
            let out: BooleanChunked = text
                .iter()
                .enumerate()
                .map(|(row, v)| match v.map(str::trim).filter(|v| !v.is_empty()) {
                    Some(v) => match parse_bool(v) {
                        Some(x) => Some(x),
                        None => {
                            report.push(problem(
                                Rule::BadBoolean,
                                row,
                                Some(v),
                                format!("`{v}` is not true or false"),
                                "write true or false".to_string(),
                            ));
                            None
                        }
                    },
                    None => {
                        missing(report, row);
                        None
                    }
                })
                .collect();
            out.with_name(name).into_column()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_known_days() {
        // 2000-03-01 is day 11017 (Python: (date(2000,3,1)-date(1970,1,1)).days)
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        for d in [-1000, 0, 11016, 11017, 20000, 47000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn dates_in_both_layouts_and_leap_days() {
        assert_eq!(parse_date("2016-02-29"), Ok(days_from_civil(2016, 2, 29)));
        assert_eq!(parse_date("29/02/2016"), Ok(days_from_civil(2016, 2, 29)));
        assert_eq!(parse_date("1/4/2016"), Ok(days_from_civil(2016, 4, 1)));
        assert_eq!(parse_date("2016-04-01 00:00:00.000"), Ok(days_from_civil(2016, 4, 1)));
        assert_eq!(parse_date("2015-02-29"), Err(DateError::NoSuchDay));
        assert_eq!(parse_date("31/04/2016"), Err(DateError::NoSuchDay));
        assert_eq!(parse_date("2016/04/01"), Err(DateError::Layout));
        assert_eq!(parse_date("04/01/16"), Err(DateError::Layout));
        assert_eq!(parse_date("2016-04-01 10:30"), Err(DateError::Layout));
        assert_eq!(parse_date("1016-04-01"), Err(DateError::Year));
    }
}
