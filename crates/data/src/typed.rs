//! Typing a raw (text) table against its `TableSpec`: header mapping, value parsing, and the
//! value-level problems (missing, unknown code, bad date, number or boolean).

use crate::problem::{Problem, Rule, ValidationReport};
use crate::read::RawTable;
use crate::schema::{ColumnSpec, Kind, TableSpec};
use polars::prelude::*;
use rayon::prelude::*;

pub use crate::date::{civil_from_days, days_from_civil, days_in_month, format_date, parse_date, DateError};

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
    Column::full_null(PlSmallStr::from(c.name), height, &column_dtype(c.kind))
}

/// The polars `Enum` type of a code list: its categories are the list's codes in order, so a
/// code column stores one byte per row and compares with the codes as strings.
pub fn code_dtype(list: &crate::codes::CodeList) -> DataType {
    let categories = FrozenCategories::new(list.codes.iter().copied()).expect("code lists hold unique codes");
    DataType::from_frozen_categories(categories)
}

/// The polars type of a contract column.
pub fn column_dtype(kind: Kind) -> DataType {
    match kind {
        Kind::Text => DataType::String,
        Kind::Code(list) => code_dtype(list),
        Kind::Date => DataType::Date,
        Kind::Number => DataType::Float64,
        Kind::Bool => DataType::Boolean,
    }
}

/// `str::trim`, with a fast exit for the usual value that has no surrounding space.
#[inline]
fn trim(v: &str) -> &str {
    let b = v.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if !f.is_ascii_whitespace() && !l.is_ascii_whitespace() && f.is_ascii() && l.is_ascii() => v,
        _ => v.trim(),
    }
}

/// Why one value failed its column's rule.
#[derive(Debug, Clone)]
pub struct BadValue {
    /// The rule.
    pub rule: Rule,
    /// The value as written (trimmed), if any.
    pub value: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// A typed value.
#[derive(Debug, Clone, Copy)]
pub enum Value<'v> {
    /// Empty (allowed).
    Empty,
    /// Text, trimmed.
    Text(&'v str),
    /// Position in the code list.
    Code(u8),
    /// Days since 1970-01-01.
    Date(i32),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
}

/// Types the values of one column: the rules of `type_column`, value by value, shared with the
/// reader's fused fast path.
#[derive(Debug, Clone)]
pub struct ValueTyper {
    kind: Kind,
    matcher: Option<crate::codes::CodeMatcher>,
    required: bool,
    name: &'static str,
}

impl ValueTyper {
    /// The typer of column `c`.
    pub fn new(c: &ColumnSpec) -> Self {
        let matcher = match c.kind {
            Kind::Code(list) => Some(crate::codes::CodeMatcher::new(*list)),
            _ => None,
        };
        ValueTyper { kind: c.kind, matcher, required: c.required_value, name: c.name }
    }

    /// Types one value.
    ///
    /// # Errors
    /// A [`BadValue`] naming the rule broken.
    #[inline]
    pub fn value<'v>(&self, v: Option<&'v str>) -> Result<Value<'v>, BadValue> {
        let Some(v) = v.map(trim).filter(|v| !v.is_empty()) else {
            if self.required {
                return Err(BadValue {
                    rule: Rule::MissingValue,
                    value: None,
                    message: format!("`{}` is empty", self.name),
                    fix: format!("fill in `{}` on this row", self.name),
                });
            }
            return Ok(Value::Empty);
        };
        let bad = |rule, message: String, fix: &str| BadValue {
            rule,
            value: Some(v.to_string()),
            message,
            fix: fix.to_string(),
        };
        match self.kind {
            Kind::Text => Ok(Value::Text(v)),
            Kind::Code(list) => match self.matcher.as_ref().and_then(|m| m.index(v)) {
                Some(i) => Ok(Value::Code(i)),
                None => Err(bad(
                    Rule::UnknownCode,
                    format!("`{v}` is not a {} code", list.name),
                    &format!("use {}", list.describe()),
                )),
            },
            Kind::Date => parse_date(v).map(Value::Date).map_err(|e| {
                let why = match e {
                    DateError::Layout => "is not a date in the form YYYY-MM-DD or DD/MM/YYYY",
                    DateError::NoSuchDay => "is not a day of the calendar",
                    DateError::Year => "has a year outside 1900 to 2100",
                };
                bad(
                    Rule::BadDate,
                    format!("`{v}` {why}"),
                    "write the date as YYYY-MM-DD (or DD/MM/YYYY as in SSDA903 returns)",
                )
            }),
            Kind::Number => parse_number(v).map(Value::Number).ok_or_else(|| {
                bad(
                    Rule::BadNumber,
                    format!("`{v}` is not a number"),
                    "write a plain decimal number with a point, such as 0.5",
                )
            }),
            Kind::Bool => parse_bool(v)
                .map(Value::Bool)
                .ok_or_else(|| bad(Rule::BadBoolean, format!("`{v}` is not true or false"), "write true or false")),
        }
    }

    /// An empty store for this column's values (None for text, which is kept as read).
    pub fn store(&self, capacity: usize) -> Option<Store> {
        match self.kind {
            Kind::Text => None,
            Kind::Code(list) => Some(Store::Code(list, Vec::with_capacity(capacity))),
            Kind::Date => Some(Store::Date(Vec::with_capacity(capacity))),
            Kind::Number => Some(Store::Number(Vec::with_capacity(capacity))),
            Kind::Bool => Some(Store::Bool(Vec::with_capacity(capacity))),
        }
    }
}

const NO_CODE: u8 = u8::MAX;
const NO_DATE: i32 = i32::MIN;

/// Compact typed values of one column (code positions, dates, numbers, booleans; empty and
/// bad values are null).
#[derive(Debug, Clone)]
pub enum Store {
    /// Code positions in the list (255 = null).
    Code(&'static crate::codes::CodeList, Vec<u8>),
    /// Days (i32::MIN = null).
    Date(Vec<i32>),
    /// Numbers (NaN = null; parsed numbers are always finite).
    Number(Vec<f64>),
    /// Booleans (2 = null).
    Bool(Vec<u8>),
}

impl Store {
    /// Appends a value (anything but the store's kind is null).
    #[inline]
    pub fn push(&mut self, value: Option<Value<'_>>) {
        match self {
            Store::Code(_, v) => v.push(if let Some(Value::Code(i)) = value { i } else { NO_CODE }),
            Store::Date(v) => v.push(if let Some(Value::Date(d)) = value { d } else { NO_DATE }),
            Store::Number(v) => v.push(if let Some(Value::Number(x)) = value { x } else { f64::NAN }),
            Store::Bool(v) => v.push(if let Some(Value::Bool(b)) = value { u8::from(b) } else { 2 }),
        }
    }

    /// Appends another store's values.
    pub fn extend(&mut self, other: Store) {
        match (self, other) {
            (Store::Code(_, a), Store::Code(_, b)) => a.extend(b),
            (Store::Date(a), Store::Date(b)) => a.extend(b),
            (Store::Number(a), Store::Number(b)) => a.extend(b),
            (Store::Bool(a), Store::Bool(b)) => a.extend(b),
            _ => unreachable!("stores of one column have one kind"),
        }
    }

    /// The polars column.
    pub fn finish(self, name: &str) -> Column {
        let name = PlSmallStr::from(name);
        match self {
            Store::Code(list, v) => {
                let ids: UInt8Chunked = v.iter().map(|&i| (i != NO_CODE).then_some(i)).collect();
                Series::from_cats_and_dtype(&ids.with_name(name).into_series(), &code_dtype(list), true)
                    .expect("code positions are categories of the list's enum")
                    .into_column()
            }
            Store::Date(v) => v
                .iter()
                .map(|&d| (d != NO_DATE).then_some(d))
                .collect::<Int32Chunked>()
                .with_name(name)
                .into_date()
                .into_column(),
            Store::Number(v) => {
                v.iter().map(|&x| (!x.is_nan()).then_some(x)).collect::<Float64Chunked>().with_name(name).into_column()
            }
            Store::Bool(v) => {
                v.iter().map(|&b| (b != 2).then_some(b == 1)).collect::<BooleanChunked>().with_name(name).into_column()
            }
        }
    }
}

fn type_column(raw: &RawTable<'_>, index: usize, c: &ColumnSpec, report: &mut ValidationReport) -> Column {
    if let Some(typed) = raw.typed_column(index) {
        // typed while reading; its problems are reported already
        return typed.clone().with_name(PlSmallStr::from(c.name));
    }
    let text = raw.column(index);
    let header = &raw.headers[index];
    let name = PlSmallStr::from(c.name);
    let typer = ValueTyper::new(c);
    let report_bad = |report: &mut ValidationReport, row: usize, bad: BadValue| {
        report.push(Problem {
            rule: bad.rule,
            file: raw.file.clone(),
            line: Some(raw.line(row)),
            column: Some(header.clone()),
            value: bad.value,
            message: bad.message,
            fix: bad.fix,
        });
    };
    // Fast path: when every value is present (or may be absent) and already trimmed, a text
    // column polars read is kept as it is.
    let already_built = matches!(text, crate::read::RawColumn::Chunked(_));
    if already_built && matches!(c.kind, Kind::Text) {
        let nulls_ok = !c.required_value || text.null_count() == 0;
        let clean = nulls_ok
            && text.iter().all(|v| match v {
                None => true,
                Some(v) => {
                    let b = v.as_bytes();
                    !b.is_empty()
                        && !b[0].is_ascii_whitespace()
                        && !b[b.len() - 1].is_ascii_whitespace()
                        && typer.matcher.as_ref().is_none_or(|m| m.canonical(v).is_some_and(|code| code == v))
                }
            });
        if clean {
            return text.to_chunked().with_name(name).into_column();
        }
    }
    match typer.store(text.len()) {
        None => {
            let out = strings(
                text.len(),
                text.iter().enumerate().map(|(row, v)| match typer.value(v) {
                    Ok(Value::Text(t)) => Some(t),
                    Ok(_) => None,
                    Err(bad) => {
                        report_bad(report, row, bad);
                        None
                    }
                }),
            );
            out.with_name(name).into_column()
        }
        Some(mut store) => {
            for (row, v) in text.iter().enumerate() {
                match typer.value(v) {
                    Ok(value) => store.push(Some(value)),
                    Err(bad) => {
                        report_bad(report, row, bad);
                        store.push(None);
                    }
                }
            }
            store.finish(c.name)
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
