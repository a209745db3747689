//! The user's own tables, as `match --table` and `effect --table` read them: the file, the
//! treatment column and covariates, with a clear refusal of anything that is not usable.

use crate::Failure;
use polars::prelude::*;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use swp_eval::data::plain_csv::PlainColumn;
use swp_eval::data::read::UserTable;
use swp_eval::stats::design::Covariate;

/// A data failure with `message` (exit 1).
pub fn data_error(message: String) -> Failure {
    Failure::Data { message, printed: false }
}

/// A user's table: the columns a command asked for (a plain CSV read straight into vectors), or
/// the whole frame.
pub struct UserData {
    table: UserTable,
    path: PathBuf,
}

/// Reads the `wanted` columns of a CSV or Parquet table
/// ([`swp_eval::data::read::user_columns`]); `None`: the whole table as a frame
/// ([`swp_eval::data::read::user_table`]).
pub fn read_table(path: &Path, wanted: Option<&[&str]>) -> Result<UserData, Failure> {
    let table = match wanted {
        Some(wanted) => swp_eval::data::read::user_columns(path, wanted),
        None => swp_eval::data::read::user_table(path).map(UserTable::Frame),
    }
    .map_err(data_error)?;
    Ok(UserData { table, path: path.to_path_buf() })
}

/// Largest magnitude accepted in a numeric column: beyond it sums of squares overflow, SDs
/// become infinite and every SMD or estimate meaningless.
const MAX_MAGNITUDE: f64 = 1e150;

/// A column as the commands see it: numbers or text, without missing values.
enum Column<'a> {
    Numbers(std::borrow::Cow<'a, [f64]>),
    /// Dictionary-coded text (a plain CSV).
    Coded {
        labels: &'a [String],
        codes: &'a [u32],
    },
    /// Text of a frame.
    Text(Vec<String>),
}

impl UserData {
    /// The frame (read whole by [`read_table`] with `None`).
    pub fn frame(&self) -> Option<&DataFrame> {
        match &self.table {
            UserTable::Frame(frame) => Some(frame),
            UserTable::Plain(_) => None,
        }
    }

    /// The column `name`, refusing a missing column or an empty field (with its row).
    fn column(&self, name: &str) -> Result<Column<'_>, Failure> {
        self.column_with(name, false)
    }

    /// The column `name`, refusing a missing column, and an empty field (with its row) unless
    /// `allow_empty` (empty numbers are then NaN).
    fn column_with(&self, name: &str, allow_empty: bool) -> Result<Column<'_>, Failure> {
        let file = &self.path;
        let missing = |known: Vec<String>| {
            Failure::Usage(format!("{} has no column `{name}` (columns: {})", file.display(), known.join(", ")))
        };
        let empty_on = |row: usize| {
            data_error(format!(
                "{} column `{name}` is empty on data row {} (line {} of a CSV); fill or drop such rows before matching",
                file.display(),
                row + 1,
                row + 2
            ))
        };
        let frame = match &self.table {
            UserTable::Plain(plain) => {
                let Some((_, column)) = plain.columns.iter().find(|(n, _)| n == name) else {
                    return Err(missing(plain.names.clone()));
                };
                return match column {
                    PlainColumn::Numbers { values, .. } if allow_empty => Ok(Column::Numbers(values.into())),
                    PlainColumn::Numbers { first_empty: Some(row), .. }
                    | PlainColumn::Text { first_empty: Some(row), .. } => Err(empty_on(*row)),
                    PlainColumn::Numbers { values, .. } => Ok(Column::Numbers(values.into())),
                    PlainColumn::Text { labels, codes, .. } => Ok(Column::Coded { labels, codes }),
                };
            }
            UserTable::Frame(frame) => frame,
        };
        let column = frame
            .column(name)
            .map_err(|_| missing(frame.get_column_names().iter().map(|c| c.to_string()).collect()))?;
        let first_null = || (0..column.len()).find(|&i| column.get(i).is_ok_and(|v| v.is_null()));
        let numeric = column.dtype().is_primitive_numeric() || column.dtype().is_null();
        let nulls_allowed = allow_empty && numeric;
        if let Some(row) = if column.null_count() > 0 && !nulls_allowed { first_null() } else { None } {
            return Err(empty_on(row));
        }
        let failed = |e: PolarsError| data_error(format!("column `{name}`: {e}"));
        let dtype = column.dtype();
        if dtype.is_primitive_numeric() || dtype.is_bool() {
            let values = column.cast(&DataType::Float64).map_err(failed)?;
            let values = values.f64().map_err(failed)?.iter().map(|v| v.unwrap_or(f64::NAN)).collect::<Vec<f64>>();
            Ok(Column::Numbers(values.into()))
        } else {
            let text = column.cast(&DataType::String).map_err(failed)?;
            let values = text.str().map_err(failed)?.iter().map(|v| v.unwrap_or_default().to_string()).collect();
            Ok(Column::Text(values))
        }
    }

    /// `values` of column `name` if each is finite and within 1e150 (a refusal names the row).
    fn usable<'c>(&self, name: &str, values: Cow<'c, [f64]>) -> Result<Cow<'c, [f64]>, Failure> {
        if let Some(i) = first_row(&values, |x| !x.is_finite() || x.abs() > MAX_MAGNITUDE) {
            return Err(data_error(format!(
                "{} column `{name}`: data row {} holds {:e}, not a usable number (NaN, infinite or beyond 1e150); remove or correct the row",
                self.path.display(),
                i + 1,
                values[i]
            )));
        }
        Ok(values)
    }

    /// A column as a covariate: numbers (booleans as 0/1) or text. Missing values, NaN,
    /// infinities and magnitudes beyond 1e150 are refused with their row.
    pub fn covariate(&self, name: &str) -> Result<Covariate, Failure> {
        Ok(match self.column(name)? {
            Column::Numbers(values) => Covariate::numeric(name, self.usable(name, values)?.into_owned()),
            Column::Coded { labels, codes } => {
                Covariate::text(name, codes.iter().map(|&c| labels[c as usize].clone()).collect())
            }
            Column::Text(values) => Covariate::text(name, values),
        })
    }

    /// The covariates `names`, read as [`UserData::covariate`] reads them, in parallel. The
    /// numeric columns of a plain table are moved out of it, not copied: each such column can
    /// be read only once (a name given twice is copied instead), so read any other use of these
    /// columns first.
    pub fn take_covariates(&mut self, names: &[String]) -> Result<Vec<Covariate>, Failure> {
        use rayon::prelude::*;
        let once = |name: &String| names.iter().filter(|n| *n == name).count() == 1;
        let taken: Vec<Option<Vec<f64>>> = match &mut self.table {
            UserTable::Plain(plain) => names
                .iter()
                .map(|name| {
                    let column = plain.columns.iter_mut().find(|(n, _)| n == name).map(|(_, c)| c);
                    match column {
                        Some(PlainColumn::Numbers { values, first_empty: None }) if once(name) => {
                            Some(std::mem::take(values))
                        }
                        _ => None,
                    }
                })
                .collect(),
            UserTable::Frame(_) => vec![None; names.len()],
        };
        let this = &*self;
        names
            .par_iter()
            .zip(taken)
            .map(|(name, values)| match values {
                Some(v) => Ok(Covariate::numeric(name, this.usable(name, v.into())?.into_owned())),
                None => this.covariate(name),
            })
            .collect()
    }

    /// An outcome, weight or exposure column: numbers, each finite and within 1e150 (borrowed
    /// from a plain table, not copied).
    pub fn number_column(&self, name: &str) -> Result<Cow<'_, [f64]>, Failure> {
        match self.column(name)? {
            Column::Numbers(values) => self.usable(name, values),
            _ => Err(data_error(format!("{} column `{name}` must hold numbers", self.path.display()))),
        }
    }

    /// A column of numbers in which an empty field is allowed (None); the others finite and
    /// within 1e150.
    pub fn numbers_or_empty(&self, name: &str) -> Result<Vec<Option<f64>>, Failure> {
        match self.column_with(name, true)? {
            Column::Numbers(values) => {
                let present: Vec<f64> = values.iter().map(|v| if v.is_nan() { 0.0 } else { *v }).collect();
                self.usable(name, present.into())?;
                Ok(values.iter().map(|v| (!v.is_nan()).then_some(*v)).collect())
            }
            _ => Err(data_error(format!("{} column `{name}` must hold numbers", self.path.display()))),
        }
    }

    /// Labels (numbers or text) as indices numbered in the labels' sorted order, with the
    /// labels as text in that order (numbers without a trailing `.0`).
    pub fn labelled(&self, name: &str) -> Result<(Vec<usize>, Vec<String>), Failure> {
        let ids = self.cluster_ids(name)?;
        let text: Vec<String> = match self.column(name)? {
            Column::Coded { labels, codes } => codes.iter().map(|&c| labels[c as usize].clone()).collect(),
            Column::Text(values) => values,
            Column::Numbers(values) => values.iter().map(|v| format!("{v}")).collect(),
        };
        let mut labels = vec![String::new(); ids.iter().max().map_or(0, |m| m + 1)];
        for (&id, t) in ids.iter().zip(text) {
            if labels[id].is_empty() {
                labels[id] = t;
            }
        }
        Ok((ids, labels))
    }

    /// The treatment indicator: 0/1 numbers or booleans.
    pub fn treatment(&self, name: &str) -> Result<Vec<bool>, Failure> {
        let file = self.path.display();
        let Column::Numbers(values) = self.column(name)? else {
            return Err(data_error(format!(
                "{file} treatment column `{name}` must be 0 or 1 (or true/false), not text"
            )));
        };
        use rayon::prelude::*;
        // one pass when every value is 0 or 1 (each then usable); else the checks in turn, so
        // that an unusable value is named before a usable one that is not 0 or 1
        let v = match first_row(&values, |x| x != 0.0 && x != 1.0) {
            None => values,
            Some(_) => self.usable(name, values)?,
        };
        if let Some(i) = first_row(&v, |x| x != 0.0 && x != 1.0) {
            return Err(data_error(format!(
                "{file} treatment column `{name}` must be 0 or 1 (or true/false); data row {} has {}",
                i + 1,
                v[i]
            )));
        }
        Ok(v.par_iter().map(|&x| x == 1.0).collect())
    }

    /// Cluster labels (numbers or text) as indices, numbered in the labels' sorted order.
    pub fn cluster_ids(&self, name: &str) -> Result<Vec<usize>, Failure> {
        Ok(match self.column(name)? {
            // dictionary codes: the labels ranked once, each row's code looked up
            Column::Coded { labels, codes } => {
                let mut order: Vec<usize> = (0..labels.len()).collect();
                order.sort_unstable_by(|&a, &b| labels[a].cmp(&labels[b]));
                let mut rank = vec![0; labels.len()];
                for (r, &i) in order.iter().enumerate() {
                    rank[i] = r;
                }
                codes.iter().map(|&c| rank[c as usize]).collect()
            }
            Column::Text(values) => number_labels(&values.iter().map(String::as_str).collect::<Vec<_>>(), |s| s),
            // numbers are ranked by the text of their bit patterns, as they always were (the
            // numbering decides which cluster takes which bootstrap draw)
            // (integers of a small span are usable numbers: no separate check)
            Column::Numbers(values) => match small_integer_labels(&values) {
                Some(ids) => ids,
                None => {
                    let v = self.usable(name, values)?;
                    number_labels(&v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), |b| b.to_string())
                }
            },
        })
    }
}

/// The first row whose value is `bad`, in parallel: chunks searched whole and the least
/// position kept. (Rayon's `position_first` reads a shared atomic at every element; on
/// 1,000,000 rows it took from 2 to 30 ms a column as unrelated code around the call changed,
/// against under a millisecond for this.)
fn first_row(values: &[f64], bad: impl Fn(f64) -> bool + Sync) -> Option<usize> {
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 14;
    values
        .par_chunks(CHUNK)
        .enumerate()
        .filter_map(|(c, chunk)| chunk.iter().position(|&x| bad(x)).map(|i| c * CHUNK + i))
        .min()
}

/// Cluster numbers that are all integers in a span of at most [`DENSE_SPAN`] (site codes, the
/// usual case) numbered as [`number_labels`] numbers their bit patterns, by direct lookup in
/// place of a hash map: None for any other column.
fn small_integer_labels(values: &[f64]) -> Option<Vec<usize>> {
    use rayon::prelude::*;
    // an integer's bits survive the round trip through i64 (-0.0 does not: it stays apart)
    let integral = |x: f64| x.abs() < 1e15 && ((x as i64) as f64).to_bits() == x.to_bits();
    let (low, high) = values
        .par_chunks(1 << 16)
        .map(|chunk| {
            chunk.iter().try_fold((i64::MAX, i64::MIN), |(lo, hi), &x| {
                integral(x).then(|| (lo.min(x as i64), hi.max(x as i64)))
            })
        })
        .try_reduce(|| (i64::MAX, i64::MIN), |a, b| Some((a.0.min(b.0), a.1.max(b.1))))?;
    let span = usize::try_from(high.checked_sub(low)?).ok()?.checked_add(1)?;
    if span > DENSE_SPAN {
        return None;
    }
    let mut present = vec![false; span];
    values.iter().for_each(|&x| present[(x as i64 - low) as usize] = true);
    // the distinct values in the generic path's order: by the text of their bit patterns
    let mut distinct: Vec<i64> = (0..span).filter(|&i| present[i]).map(|i| low + i as i64).collect();
    distinct.sort_unstable_by_key(|&v| (v as f64).to_bits().to_string());
    let mut rank = vec![0; span];
    for (r, &v) in distinct.iter().enumerate() {
        rank[(v - low) as usize] = r;
    }
    Some(values.par_iter().map(|&x| rank[(x as i64 - low) as usize]).collect())
}

/// The widest span of integer cluster labels [`small_integer_labels`] looks up directly.
const DENSE_SPAN: usize = 1 << 20;

/// Labels as indices numbered in the order of `sort_key` of each distinct label. Rows of one
/// cluster usually come together, so a row with the previous row's label skips the hash map.
fn number_labels<K: Eq + Copy + std::hash::Hash, S: Ord>(keys: &[K], sort_key: impl Fn(K) -> S) -> Vec<usize> {
    let mut first: std::collections::HashMap<K, usize> = std::collections::HashMap::new();
    let mut last: Option<(K, usize)> = None;
    let raw: Vec<usize> = keys
        .iter()
        .map(|&k| match last {
            Some((lk, li)) if lk == k => li,
            _ => {
                let next = first.len();
                let i = *first.entry(k).or_insert(next);
                last = Some((k, i));
                i
            }
        })
        .collect();
    let mut distinct: Vec<(S, usize)> = first.into_iter().map(|(k, i)| (sort_key(k), i)).collect();
    distinct.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut rank = vec![0; distinct.len()];
    for (r, (_, i)) in distinct.iter().enumerate() {
        rank[*i] = r;
    }
    raw.into_iter().map(|i| rank[i]).collect()
}
