//! Typing a raw (text) table against its `TableSpec`: header mapping, value parsing, and the
//! value-level problems (missing, unknown code, bad date, number or boolean).

use crate::problem::{Problem, Rule, ValidationReport};
use crate::read::RawTable;
use crate::schema::{ColumnSpec, Kind, TableSpec};
use polars::prelude::*;
use rayon::prelude::*;

use crate::values::{column_dtype, strings_in_parts, BadValue, Value, ValueTyper};

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
            let (out, bad) = strings_in_parts(text.len(), |row| match typer.value(text.get(row)) {
                Ok(Value::Text(t)) => Ok(Some(t)),
                Ok(_) => Ok(None),
                Err(bad) => Err(bad),
            });
            for (row, bad) in bad {
                report_bad(report, row, bad);
            }
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
    use crate::date::{civil_from_days, days_from_civil, parse_date, DateError};

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
