//! Covariates to design matrices, as R's `model.matrix` makes them: numbers as they are, a text
//! covariate as one indicator per level (levels sorted, named column + level: `race` with
//! levels black, hispan, white gives `raceblack`, `racehispan`, `racewhite`). Models drop the
//! first level (treatment contrasts, beside an intercept); balance tables and Mahalanobis
//! distances keep every level (as MatchIt does).

use crate::error::{Result, StatsError};
use crate::linalg::{Matrix, MatrixRef};

/// The values of one covariate.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Numbers (0/1 columns are numbers too).
    Numeric(Vec<f64>),
    /// Text: one indicator per level.
    Text(Vec<String>),
}

/// A named covariate.
#[derive(Debug, Clone, PartialEq)]
pub struct Covariate {
    /// Name as the user gave it.
    pub name: String,
    /// Values, one per unit.
    pub values: Values,
}

impl Covariate {
    /// A numeric covariate.
    pub fn numeric(name: &str, values: Vec<f64>) -> Self {
        Covariate { name: name.to_string(), values: Values::Numeric(values) }
    }

    /// A text covariate.
    pub fn text(name: &str, values: Vec<String>) -> Self {
        Covariate { name: name.to_string(), values: Values::Text(values) }
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        match &self.values {
            Values::Numeric(v) => v.len(),
            Values::Text(v) => v.len(),
        }
    }

    /// Whether there are no units.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sorted distinct levels of a text covariate (empty for numbers).
    pub fn levels(&self) -> Vec<&str> {
        match &self.values {
            Values::Numeric(_) => Vec::new(),
            Values::Text(v) => {
                let mut levels: Vec<&str> = v.iter().map(String::as_str).collect();
                levels.sort_unstable();
                levels.dedup();
                levels
            }
        }
    }
}

/// Numeric covariates from the columns of a matrix: an `ndarray` `Array2` or view, or a
/// [`Matrix`], one name per column, in order. Matching and balance work column by column, so
/// each column is copied once here (a row-major array's columns are not contiguous).
///
/// ```
/// use swp_stats::design::numeric_covariates;
/// use swp_stats::matching::{MatchData, MatchParams};
/// use swp_stats::ndarray::array;
/// let x = array![[0.1, 3.0], [0.4, 1.0], [0.35, 2.0], [0.8, 4.0], [0.5, 0.0], [0.9, 5.0], [0.2, 1.5], [0.45, 2.5]];
/// let covariates = numeric_covariates(&["x", "z"], &x).unwrap();
/// let treat = [true, true, false, false, false, true, false, false];
/// let data = MatchData { treat: &treat, covariates: &covariates, exact: &[] };
/// let m = MatchParams::new().check().unwrap().run(&data).unwrap();
/// assert_eq!(m.matched_controls(), 3);
/// ```
///
/// # Errors
/// [`StatsError::LengthMismatch`] when the names are not one per column.
pub fn numeric_covariates<'a>(names: &[&str], x: impl Into<MatrixRef<'a>>) -> Result<Vec<Covariate>> {
    let x = x.into();
    if names.len() != x.p {
        return Err(StatsError::LengthMismatch { inputs: "covariate names and matrix columns" });
    }
    Ok(names.iter().enumerate().map(|(j, name)| Covariate::numeric(name, x.column(j))).collect())
}

/// Named columns, one value per unit each.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    /// Column names.
    pub names: Vec<String>,
    /// Column values.
    pub columns: Vec<Vec<f64>>,
}

impl Columns {
    /// The columns as a row-major matrix.
    pub fn matrix(&self) -> Matrix {
        let n = self.columns.first().map_or(0, Vec::len);
        let p = self.columns.len();
        let mut values = Vec::with_capacity(n * p);
        for i in 0..n {
            values.extend(self.columns.iter().map(|c| c[i]));
        }
        Matrix { n, p, values }
    }
}

/// What the columns of [`expand`] are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expansion {
    /// A model's design, as R's `model.matrix`: a leading `(Intercept)` column of ones, and every
    /// level of a text covariate but the first (the reference level).
    Model,
    /// A balance table, as MatchIt's `summary()`: no intercept, every level of a text covariate.
    Balance,
}

/// Expands covariates to columns for a model or a balance table ([`Expansion`]).
///
/// # Errors
/// Covariates of different lengths, or non-finite numbers.
pub fn expand(covariates: &[Covariate], expansion: Expansion) -> Result<Columns> {
    use rayon::prelude::*;
    let (names, sources, n) = sources(covariates, expansion)?;
    Ok(Columns { names, columns: sources.par_iter().map(|s| s.column(n)).collect() })
}

/// [`expand`] taking the covariates: numeric ones become their columns without a copy (for
/// a balance table after matching, when the covariates are no longer needed).
///
/// # Errors
/// As [`expand`].
pub fn expand_into(covariates: Vec<Covariate>, expansion: Expansion) -> Result<Columns> {
    let (names, sources, n) = sources(&covariates, expansion)?;
    // the computed columns (intercept, level indicators) in order; numeric ones are moved below
    let mut computed: Vec<Option<Vec<f64>>> =
        sources.iter().map(|s| (!matches!(s, Source::Numbers(_))).then(|| s.column(n))).collect();
    drop(sources);
    let mut numeric = covariates.into_iter().filter_map(|c| match c.values {
        Values::Numeric(v) => Some(v),
        Values::Text(_) => None,
    });
    let columns = computed
        .iter_mut()
        .map(|c| c.take().or_else(|| numeric.next()).expect("one numeric covariate per numeric column"))
        .collect();
    Ok(Columns { names, columns })
}

/// One entry per column of the expansion (as [`expand`] lays them out): the values of a numeric
/// covariate's column, None for a computed one (the intercept, a level's indicator). For work
/// on the numeric columns before they are expanded.
///
/// # Errors
/// As [`expand`].
pub fn numeric_columns(covariates: &[Covariate], expansion: Expansion) -> Result<Vec<Option<&[f64]>>> {
    let (_, sources, _) = sources(covariates, expansion)?;
    Ok(sources
        .into_iter()
        .map(|s| match s {
            Source::Numbers(v) => Some(v),
            _ => None,
        })
        .collect())
}

/// The model matrix of the covariates (row-major, [`Expansion::Model`]'s columns) with its
/// column names, written straight from the covariates: [`expand`] then [`Columns::matrix`]
/// without the copy of every column in between.
///
/// # Errors
/// As [`expand`].
pub fn model_matrix(covariates: &[Covariate]) -> Result<(Vec<String>, Matrix)> {
    use rayon::prelude::*;
    let (names, sources, n) = sources(covariates, Expansion::Model)?;
    let p = sources.len();
    // blocks of rows written in parallel, a column at a time within a block
    const ROWS: usize = 4096;
    let mut values = vec![0.0; n * p];
    if p > 0 {
        values.par_chunks_mut(ROWS * p).enumerate().for_each(|(b, block)| {
            for (j, source) in sources.iter().enumerate() {
                for (r, row) in block.chunks_exact_mut(p).enumerate() {
                    row[j] = source.at(b * ROWS + r);
                }
            }
        });
    }
    Ok((names, Matrix { n, p, values }))
}

/// One column of an expansion, read from its covariate in place.
enum Source<'a> {
    Ones,
    Numbers(&'a [f64]),
    /// The indicator of one level of a text covariate.
    Level(&'a [String], &'a str),
}

impl Source<'_> {
    fn at(&self, i: usize) -> f64 {
        match self {
            Source::Ones => 1.0,
            Source::Numbers(v) => v[i],
            Source::Level(v, level) => f64::from(u8::from(v[i] == *level)),
        }
    }

    fn column(&self, n: usize) -> Vec<f64> {
        match self {
            Source::Numbers(v) => v.to_vec(),
            _ => (0..n).map(|i| self.at(i)).collect(),
        }
    }
}

/// The columns of an expansion, named, and the number of units (the checks of [`expand`]).
fn sources(covariates: &[Covariate], expansion: Expansion) -> Result<(Vec<String>, Vec<Source<'_>>, usize)> {
    let (intercept, all_levels) = match expansion {
        Expansion::Model => (true, false),
        Expansion::Balance => (false, true),
    };
    let n = covariates.first().map_or(0, Covariate::len);
    let mut names = Vec::new();
    let mut sources = Vec::new();
    if intercept {
        names.push("(Intercept)".to_string());
        sources.push(Source::Ones);
    }
    for c in covariates {
        if c.len() != n {
            return Err(StatsError::CovariateLength { name: c.name.clone(), got: c.len(), expected: n });
        }
        match &c.values {
            Values::Numeric(v) => {
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    return Err(StatsError::MissingValue { name: c.name.clone(), unit: i + 1 });
                }
                names.push(c.name.clone());
                sources.push(Source::Numbers(v));
            }
            Values::Text(v) => {
                for level in c.levels().into_iter().skip(usize::from(!all_levels)) {
                    names.push(format!("{}{}", c.name, level));
                    sources.push(Source::Level(v, level));
                }
            }
        }
    }
    Ok((names, sources, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model matrix written straight from the covariates equals the expansion's columns laid
    /// out row by row, names included.
    #[test]
    fn the_model_matrix_is_the_expanded_columns() {
        let race = Covariate::text("race", ["white", "black", "hispan", "black"].map(String::from).to_vec());
        let age = Covariate::numeric("age", vec![30.0, 25.0, 41.0, 19.0]);
        let covariates = [age, race];
        let columns = expand(&covariates, Expansion::Model).unwrap();
        let (names, x) = model_matrix(&covariates).unwrap();
        assert_eq!(names, columns.names);
        assert_eq!(x, columns.matrix());
        assert_eq!(x.row(2), [1.0, 41.0, 1.0, 0.0]);
        let short = [Covariate::numeric("a", vec![1.0, 2.0]), Covariate::numeric("b", vec![1.0])];
        assert!(matches!(model_matrix(&short), Err(StatsError::CovariateLength { .. })));
    }

    /// Expanding by value gives the columns expanding by reference does, numeric ones moved.
    #[test]
    fn expanding_by_value_equals_expanding_by_reference() {
        let race = Covariate::text("race", ["white", "black", "hispan", "black"].map(String::from).to_vec());
        let age = Covariate::numeric("age", vec![30.0, 25.0, 41.0, 19.0]);
        let re = Covariate::numeric("re74", vec![0.0, 1.5, 2.0, 0.0]);
        let covariates = vec![age, race, re];
        for expansion in [Expansion::Model, Expansion::Balance] {
            let by_ref = expand(&covariates, expansion).unwrap();
            let moved = expand_into(covariates.clone(), expansion).unwrap();
            assert_eq!(moved, by_ref);
            let numeric = numeric_columns(&covariates, expansion).unwrap();
            assert_eq!(numeric.len(), by_ref.columns.len());
            for (n, column) in numeric.iter().zip(&by_ref.columns) {
                assert!(n.is_none_or(|v| v == column.as_slice()));
            }
            assert_eq!(numeric.iter().flatten().count(), 2);
        }
        let short = vec![Covariate::numeric("a", vec![1.0, 2.0]), Covariate::numeric("b", vec![1.0])];
        assert!(matches!(expand_into(short, Expansion::Balance), Err(StatsError::CovariateLength { .. })));
    }

    #[test]
    fn text_covariates_become_indicators_named_as_r_names_them() {
        let race = Covariate::text("race", ["white", "black", "hispan", "black"].map(String::from).to_vec());
        let age = Covariate::numeric("age", vec![30.0, 25.0, 41.0, 19.0]);
        let model = expand(&[age.clone(), race.clone()], Expansion::Model).unwrap();
        assert_eq!(model.names, vec!["(Intercept)", "age", "racehispan", "racewhite"]);
        assert_eq!(model.columns[3], vec![1.0, 0.0, 0.0, 0.0]);
        let balance = expand(&[age, race], Expansion::Balance).unwrap();
        assert_eq!(balance.names, vec!["age", "raceblack", "racehispan", "racewhite"]);
        assert_eq!(balance.matrix().row(1), &[25.0, 1.0, 0.0, 0.0]);
    }
}
