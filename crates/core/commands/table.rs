//! The user's own tables, as `match --table` and `effect --table` read them: the file, the
//! treatment column and covariates, with a clear refusal of anything that is not usable.

use crate::Failure;
use polars::prelude::*;
use std::path::Path;
use swp_eval::stats::design::Covariate;

/// A data failure with `message` (exit 1).
pub fn data_error(message: String) -> Failure {
    Failure::Data { message, printed: false }
}

/// Reads a CSV or Parquet table ([`swp_eval::data::read::user_table`]).
pub fn read_table(path: &Path) -> Result<DataFrame, Failure> {
    swp_eval::data::read::user_table(path).map_err(data_error)
}

/// Largest magnitude accepted in a numeric column: beyond it sums of squares overflow, SDs
/// become infinite and every SMD or estimate meaningless.
const MAX_MAGNITUDE: f64 = 1e150;

/// A column as a covariate: numbers (booleans as 0/1) or text. Missing values, NaN, infinities
/// and magnitudes beyond 1e150 are refused with their row.
pub fn covariate(frame: &DataFrame, name: &str, file: &Path) -> Result<Covariate, Failure> {
    let column = frame.column(name).map_err(|_| {
        let known: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
        Failure::Usage(format!("{} has no column `{name}` (columns: {})", file.display(), known.join(", ")))
    })?;
    let first_null = || (0..column.len()).find(|&i| column.get(i).is_ok_and(|v| v.is_null()));
    if let Some(row) = if column.null_count() > 0 { first_null() } else { None } {
        return Err(data_error(format!(
            "{} column `{name}` is empty on data row {} (line {} of a CSV); fill or drop such rows before matching",
            file.display(),
            row + 1,
            row + 2
        )));
    }
    let dtype = column.dtype();
    if dtype.is_primitive_numeric() || dtype.is_bool() {
        let values = column
            .cast(&DataType::Float64)
            .map_err(|e| data_error(format!("column `{name}`: {e}")))?
            .f64()
            .map_err(|e| data_error(format!("column `{name}`: {e}")))?
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect::<Vec<f64>>();
        if let Some(i) = values.iter().position(|x| !x.is_finite() || x.abs() > MAX_MAGNITUDE) {
            return Err(data_error(format!(
                "{} column `{name}`: data row {} holds {:e}, not a usable number (NaN, infinite or beyond 1e150); remove or correct the row",
                file.display(),
                i + 1,
                values[i]
            )));
        }
        Ok(Covariate::numeric(name, values))
    } else {
        let text = column.cast(&DataType::String).map_err(|e| data_error(format!("column `{name}`: {e}")))?;
        let values = text
            .str()
            .map_err(|e| data_error(format!("column `{name}`: {e}")))?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect();
        Ok(Covariate::text(name, values))
    }
}

/// The treatment indicator: 0/1 numbers or booleans.
pub fn treatment(frame: &DataFrame, name: &str, file: &Path) -> Result<Vec<bool>, Failure> {
    let c = covariate(frame, name, file)?;
    match c.values {
        swp_eval::stats::design::Values::Numeric(v) => {
            if let Some(i) = v.iter().position(|&x| x != 0.0 && x != 1.0) {
                return Err(data_error(format!(
                    "{} treatment column `{name}` must be 0 or 1 (or true/false); data row {} has {}",
                    file.display(),
                    i + 1,
                    v[i]
                )));
            }
            Ok(v.iter().map(|&x| x == 1.0).collect())
        }
        swp_eval::stats::design::Values::Text(_) => Err(data_error(format!(
            "{} treatment column `{name}` must be 0 or 1 (or true/false), not text",
            file.display()
        ))),
    }
}
