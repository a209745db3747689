//! Typing one value against its column's rule (dates, numbers, booleans, codes): the typer the
//! table typing ([`crate::typed`]) and the reader's fused fast path ([`crate::read`]) share, and
//! the compact stores the typed values go into.

use crate::date::{parse_date, DateError};
use crate::problem::Rule;
use crate::schema::{ColumnSpec, Kind};
use polars::prelude::*;
use polars_arrow::array::{MutableBinaryViewArray, View};

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
/// views array by doubling faults in fresh memory again and again). Strings of up to 12 bytes
/// (ids, codes) go in as views made here (`inline_view`); longer ones are copied into the
/// array's buffers as usual.
pub fn strings<'a>(len: usize, values: impl Iterator<Item = Option<&'a str>>) -> StringChunked {
    let mut array = MutableBinaryViewArray::<str>::with_capacity(len);
    for v in values {
        match v {
            Some(s) if s.len() <= View::MAX_INLINE_SIZE as usize => array.push_view(inline_view(s), &[]),
            v => array.push(v),
        }
    }
    StringChunked::with_chunk(PlSmallStr::EMPTY, array.freeze())
}

/// Rows per part in [`strings_in_parts`].
const TEXT_PART: usize = 1 << 16;

/// [`strings()`] of rows `0..len`, row `row` given by `value(row)` (an error counts as null and is
/// returned with its row, in row order). The short values' views are made in parallel parts,
/// then joined into one array in row order (a national table's id column was otherwise one
/// long serial task at the end of loading); nulls and longer values, rare in id columns, are
/// added as the join meets them.
pub fn strings_in_parts<'a, E: Send>(
    len: usize,
    value: impl Fn(usize) -> Result<Option<&'a str>, E> + Sync,
) -> (StringChunked, Vec<(usize, E)>) {
    use rayon::prelude::*;
    if len <= 4 * TEXT_PART {
        // a few parts' worth: row by row (no gain in parallel at this size)
        let mut bad = Vec::new();
        let values = (0..len).map(|row| {
            value(row).unwrap_or_else(|e| {
                bad.push((row, e));
                None
            })
        });
        let out = strings(len, values);
        return (out, bad);
    }
    /// One part: the short values' views (a default view elsewhere), and the rows, in order,
    /// that are null or hold a longer value.
    type Part<'a> = (Vec<View>, Vec<(usize, Option<&'a str>)>);
    let (parts, bad): (Vec<Part<'a>>, Vec<Vec<(usize, E)>>) = (0..len.div_ceil(TEXT_PART))
        .into_par_iter()
        .map(|k| {
            let rows = k * TEXT_PART..len.min((k + 1) * TEXT_PART);
            let (mut views, mut others, mut bad) = (Vec::with_capacity(rows.len()), Vec::new(), Vec::new());
            for row in rows {
                let v = value(row).unwrap_or_else(|e| {
                    bad.push((row, e));
                    None
                });
                match v {
                    Some(s) if s.len() <= View::MAX_INLINE_SIZE as usize => views.push(inline_view(s)),
                    v => {
                        others.push((row, v));
                        views.push(View::default());
                    }
                }
            }
            ((views, others), bad)
        })
        .unzip();
    let mut array = MutableBinaryViewArray::<str>::with_capacity(len);
    for (k, (views, others)) in parts.into_iter().enumerate() {
        let mut others = others.into_iter().peekable();
        for (row, view) in views.into_iter().enumerate().map(|(i, v)| (k * TEXT_PART + i, v)) {
            match others.next_if(|(r, _)| *r == row) {
                Some((_, v)) => array.push(v),
                None => array.push_view(view, &[]),
            }
        }
    }
    (StringChunked::with_chunk(PlSmallStr::EMPTY, array.freeze()), bad.into_iter().flatten().collect())
}

/// The Arrow string view of `s` (at most 12 bytes): its length, then its bytes in the next 12
/// (zero-padded), as the Arrow columnar format lays out short strings ("Variable-size Binary
/// View Layout"). Built in registers, four bytes to a word, as `codes::le_word` builds wider
/// ones (through `le_word`, eight bytes at a time, the national metrics run took 20-30 ms
/// longer): polars' own constructor copies the bytes into a view on the stack and reads it
/// back, a store-to-load stall that was the costliest step of building a national table's id
/// columns.
#[inline]
fn inline_view(s: &str) -> View {
    let bytes = s.as_bytes();
    debug_assert!(bytes.len() <= View::MAX_INLINE_SIZE as usize);
    let word = |from: usize| {
        bytes.iter().skip(from).take(4).enumerate().fold(0u32, |w, (i, &b)| w | (u32::from(b) << (8 * i)))
    };
    View { length: bytes.len() as u32, prefix: word(0), buffer_idx: word(4), offset: word(8) }
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
    pub(crate) matcher: Option<crate::codes::CodeMatcher>,
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

    /// A store of `len` values to be filled in place through [`Store::slices`], every row set
    /// once (null included: the slots start as zeros, which are values, not nulls). Zeroed
    /// memory is not written here: each page is first touched by the parser that fills it.
    pub fn unset_like(&self, len: usize) -> Store {
        match self {
            Store::Code(list, _) => Store::Code(list, vec![0; len]),
            Store::Date(_) => Store::Date(vec![0; len]),
            Store::Number(_) => Store::Number(vec![0.0; len]),
            Store::Bool(_) => Store::Bool(vec![0; len]),
        }
    }

    /// The store cut into consecutive parts of `lens` values (which must sum to its length),
    /// each written in place by one parser.
    pub fn slices(&mut self, lens: &[usize]) -> Vec<StoreSlice<'_>> {
        fn cut<'s, T>(
            mut rest: &'s mut [T],
            lens: &[usize],
            f: impl Fn(&'s mut [T]) -> StoreSlice<'s>,
        ) -> Vec<StoreSlice<'s>> {
            lens.iter()
                .map(|&len| {
                    let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
                    rest = tail;
                    f(head)
                })
                .collect()
        }
        match self {
            Store::Code(_, v) => cut(v, lens, StoreSlice::Code),
            Store::Date(v) => cut(v, lens, StoreSlice::Date),
            Store::Number(v) => cut(v, lens, StoreSlice::Number),
            Store::Bool(v) => cut(v, lens, StoreSlice::Bool),
        }
    }

    /// The polars column: the values move into it without a copy, with a validity mask only
    /// where there are nulls (whose slots are set to 0, as polars fills them).
    pub fn finish(self, name: &str) -> Column {
        fn with_nulls<T: PolarsNumericType>(
            name: PlSmallStr,
            mut values: Vec<T::Native>,
            is_null: impl Fn(T::Native) -> bool,
        ) -> ChunkedArray<T> {
            if !values.iter().any(|&x| is_null(x)) {
                return ChunkedArray::from_vec(name, values);
            }
            let valid: BooleanChunked = values.iter().map(|&x| !is_null(x)).collect();
            let validity = valid.downcast_as_array().values().clone();
            for x in values.iter_mut().filter(|x| is_null(**x)) {
                *x = T::Native::default();
            }
            ChunkedArray::from_vec_validity(name, values, Some(validity))
        }
        let name = PlSmallStr::from(name);
        match self {
            Store::Code(list, v) => {
                let ids = with_nulls::<UInt8Type>(name, v, |i| i == NO_CODE);
                Series::from_cats_and_dtype(&ids.into_series(), &code_dtype(list), true)
                    .expect("code positions are categories of the list's enum")
                    .into_column()
            }
            Store::Date(v) => with_nulls::<Int32Type>(name, v, |d| d == NO_DATE).into_date().into_column(),
            Store::Number(v) => with_nulls::<Float64Type>(name, v, f64::is_nan).into_column(),
            Store::Bool(v) => {
                v.iter().map(|&b| (b != 2).then_some(b == 1)).collect::<BooleanChunked>().with_name(name).into_column()
            }
        }
    }
}

/// A part of a [`Store`], written value by value at row positions.
pub enum StoreSlice<'s> {
    /// Code positions.
    Code(&'s mut [u8]),
    /// Days.
    Date(&'s mut [i32]),
    /// Numbers.
    Number(&'s mut [f64]),
    /// Booleans.
    Bool(&'s mut [u8]),
}

impl StoreSlice<'_> {
    /// Writes the value of row `row` of the part (anything but the store's kind is null).
    #[inline]
    pub fn set(&mut self, row: usize, value: Option<Value<'_>>) {
        match self {
            StoreSlice::Code(v) => v[row] = if let Some(Value::Code(i)) = value { i } else { NO_CODE },
            StoreSlice::Date(v) => v[row] = if let Some(Value::Date(d)) = value { d } else { NO_DATE },
            StoreSlice::Number(v) => v[row] = if let Some(Value::Number(x)) = value { x } else { f64::NAN },
            StoreSlice::Bool(v) => v[row] = if let Some(Value::Bool(b)) = value { u8::from(b) } else { 2 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars_arrow::array::Array;

    /// Built in parts, a column equals the one built row by row: across parts (and for a
    /// small column, built row by row), with nulls,
    /// values longer than a view holds, and failed rows (null, and returned in row order).
    #[test]
    fn strings_in_parts_equal_strings_row_by_row() {
        let len = 5 * TEXT_PART + 17;
        let texts: Vec<String> = (0..len)
            .map(|row| if row % 777 == 5 { format!("a long value for row {row}") } else { format!("C{row}") })
            .collect();
        let value = |row: usize| -> Result<Option<&str>, usize> {
            match row {
                r if r % 5000 == 3 => Err(r),
                r if r % 1000 == 1 || r == TEXT_PART => Ok(None),
                r => Ok(Some(texts[r].as_str())),
            }
        };
        // in parallel parts, and (a small column) row by row
        for len in [len, 20_000] {
            let (ours, bad) = strings_in_parts(len, value);
            let want = strings(len, (0..len).map(|row| value(row).ok().flatten()));
            assert_eq!(ours.len(), len);
            assert!(ours.equal_missing(&want).all(), "values differ");
            assert_eq!(ours.null_count(), want.null_count());
            let want_bad: Vec<usize> = (0..len).filter(|r| r % 5000 == 3).collect();
            assert_eq!(
                bad.iter().map(|(row, e)| (*row, *e)).collect::<Vec<_>>(),
                want_bad.iter().map(|&r| (r, r)).collect::<Vec<_>>()
            );
        }
        let (empty, none) = strings_in_parts(0, value);
        assert!(empty.is_empty() && none.is_empty());
    }

    /// Strings of every length around the inline limit, multi-byte characters and nulls come
    /// out as polars' own builder gives them: equal values, and views that compare equal
    /// (zero padding included, which Arrow requires of short views).
    #[test]
    fn strings_equal_polars_own_builder() {
        let mut texts: Vec<Option<String>> = (0..=20).map(|n| Some("0123456789abcdefghijk"[..n].to_string())).collect();
        texts.extend([None, Some("é".to_string()), Some("ééééé".to_string()), Some("ééééééé".to_string()), None]);
        texts.push(Some("W000032".to_string()));
        let ours = strings(texts.len(), texts.iter().map(Option::as_deref));
        let mut builder = StringChunkedBuilder::new(PlSmallStr::EMPTY, texts.len());
        for t in &texts {
            builder.append_option(t.as_deref());
        }
        let theirs = builder.finish();
        assert_eq!(ours.len(), texts.len());
        assert_eq!(ours.null_count(), 2);
        assert!(ours.equal_missing(&theirs).all(), "values differ");
        let views = |ca: &StringChunked| -> Vec<u128> {
            ca.downcast_iter().flat_map(|a| a.views().iter().map(|v| v.as_u128()).collect::<Vec<_>>()).collect()
        };
        let (ours_views, theirs_views) = (views(&ours), views(&theirs));
        for (i, t) in texts.iter().enumerate() {
            if t.as_ref().is_some_and(|t| t.len() <= 12) {
                assert_eq!(ours_views[i], theirs_views[i], "view of {t:?}");
            }
        }
        // the arrays are valid by Arrow's own check
        for a in ours.downcast_iter() {
            polars_arrow::array::Utf8ViewArray::try_new(
                a.dtype().clone(),
                a.views().clone(),
                a.data_buffers().clone(),
                a.validity().cloned(),
            )
            .expect("valid views");
        }
    }
}
