//! Typed columns of a loaded table read as vectors and views: text, codes, dates and numbers
//! (None where a value is null or the column absent), and the cheap per-row views validation
//! and the metrics compare rows by.

use polars::prelude::*;
use polars_arrow::array::{Array, View};

/// Text values of column `name` (None where null or absent).
pub fn text_column<'a>(frame: &'a DataFrame, name: &str) -> Vec<Option<&'a str>> {
    match frame.column(name).ok().and_then(|c| c.str().ok()) {
        Some(ca) => ca.iter().collect(),
        None => vec![None; frame.height()],
    }
}

/// Values of a code column (a polars `Enum`) or any column castable to text, owned.
pub fn code_column(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    match frame.column(name).ok().and_then(|c| c.cast(&DataType::String).ok()) {
        Some(c) => c.str().expect("cast to text").iter().map(|v| v.map(str::to_string)).collect(),
        None => vec![None; frame.height()],
    }
}

/// A code column (a polars `Enum`) as its categories and, per row, the index of its category
/// (None where null): one byte a row, no strings copied. A column that is absent or not an
/// `Enum` gives no categories and all None.
pub fn code_ids(frame: &DataFrame, name: &str) -> (Vec<String>, Vec<Option<u8>>) {
    let view = CodeView::new(frame, name);
    let ids = (0..frame.height()).map(|row| view.get(row)).collect();
    (view.categories, ids)
}

/// Random access to a code column (a polars `Enum`) without copying it: its categories and
/// each row's category index. A column that is absent or not an `Enum` has no categories and
/// all None.
pub struct CodeView {
    /// The column's categories, in the order of their indices.
    pub categories: Vec<String>,
    array: Option<<UInt8Type as PolarsDataType>::Array>,
}

impl CodeView {
    /// The view of column `name`.
    pub fn new(frame: &DataFrame, name: &str) -> Self {
        let none = CodeView { categories: Vec::new(), array: None };
        let Some(column) = frame.column(name).ok() else { return none };
        let DataType::Enum(categories, _) = column.dtype() else { return none };
        let categories: Vec<String> = categories.categories().values_iter().map(str::to_string).collect();
        let physical = column.as_materialized_series().to_physical_repr().into_owned();
        match physical.u8() {
            Ok(ca) => CodeView { categories, array: Some(ca.rechunk().downcast_as_array().clone()) },
            Err(_) => none,
        }
    }

    /// The category index of row `row` (None where null).
    #[inline]
    pub fn get(&self, row: usize) -> Option<u8> {
        self.array.as_ref().and_then(|a| a.get(row))
    }

    /// `bit` for each category where `is(category)`, else 0, indexed by category.
    pub fn bits(&self, is: impl Fn(&str) -> bool, bit: u8) -> Vec<u8> {
        self.categories.iter().map(|c| if is(c) { bit } else { 0 }).collect()
    }

    /// `bits[category of row]` (0 where null).
    #[inline]
    pub fn flag(&self, bits: &[u8], row: usize) -> u8 {
        self.get(row).map_or(0, |i| bits[usize::from(i)])
    }
}

/// Random access to a date column (days since 1970-01-01) without copying it into a vector.
pub struct DateView {
    array: Option<<Int32Type as PolarsDataType>::Array>,
}

impl DateView {
    /// The view of column `name` (all None when absent or not a date).
    pub fn new(frame: &DataFrame, name: &str) -> Self {
        let array = frame
            .column(name)
            .ok()
            .filter(|c| c.dtype() == &DataType::Date)
            .map(|c| c.as_materialized_series().to_physical_repr().into_owned())
            .and_then(|s| s.i32().ok().map(|ca| ca.rechunk().downcast_as_array().clone()));
        DateView { array }
    }

    /// The value of row `row`.
    #[inline]
    pub fn get(&self, row: usize) -> Option<i32> {
        self.array.as_ref().and_then(|a| a.get(row))
    }

    /// The earliest date (None when the column has none), by polars' vectorised minimum.
    pub fn min(&self) -> Option<i32> {
        let a = self.array.as_ref()?;
        Int32Chunked::with_chunk(PlSmallStr::EMPTY, a.clone()).min()
    }
}

/// Random access to a text column without copying it into a vector.
pub struct TextView {
    array: Option<<StringType as PolarsDataType>::Array>,
}

impl TextView {
    /// The view of column `name` (all None when absent, not text, or entirely null).
    pub fn new(frame: &DataFrame, name: &str) -> Self {
        let array = frame
            .column(name)
            .ok()
            .and_then(|c| c.str().ok())
            .filter(|ca| ca.null_count() < ca.len())
            .map(|ca| ca.rechunk().downcast_as_array().clone());
        TextView { array }
    }

    /// The value of row `row`.
    #[inline]
    pub fn get(&self, row: usize) -> Option<&str> {
        self.array.as_ref().and_then(|a| a.get(row))
    }

    /// Row `row`'s Arrow string view (None where null): for a value of up to 12 bytes the value
    /// itself (its length, then its bytes zero-padded), so rows compare without reading their
    /// text ([`same_text`]).
    #[inline]
    pub(crate) fn view(&self, row: usize) -> Option<View> {
        let a = self.array.as_ref()?;
        a.is_valid(row).then(|| a.views()[row])
    }
}

/// Whether two values of text columns, given by their views ([`TextView::view`]), are equal:
/// equal views are equal values (a view names its bytes exactly); unequal views of values of up
/// to 12 bytes are unequal values (the bytes are in the view); only two longer values compare
/// their text (`text_equal`).
#[inline]
pub(crate) fn same_text(a: Option<View>, b: Option<View>, text_equal: impl FnOnce() -> bool) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || (!a.is_inline() && !b.is_inline() && text_equal()),
        (None, None) => true,
        _ => false,
    }
}

/// Dates (days since 1970-01-01) of column `name` (None where null or absent).
pub fn date_column(frame: &DataFrame, name: &str) -> Vec<Option<i32>> {
    match frame.column(name).ok().map(|c| c.as_materialized_series().to_physical_repr().into_owned()) {
        Some(s) => match s.i32() {
            Ok(ca) => ca.iter().collect(),
            Err(_) => vec![None; frame.height()],
        },
        None => vec![None; frame.height()],
    }
}

/// Numbers of column `name` (None where null or absent).
pub fn number_column(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
    match frame.column(name).ok().and_then(|c| c.f64().ok()) {
        Some(ca) => ca.iter().collect(),
        None => vec![None; frame.height()],
    }
}
