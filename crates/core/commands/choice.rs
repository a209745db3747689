//! Command-line flags whose values are a library's choices (`swp_stats::choice!`): the names
//! the library declares, each listed in `--help` with its description.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use swp_eval::stats::choice::Choice;

/// The value parser of a flag taking one of `T`'s names.
pub fn parser<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    let values = T::NAMES.iter().zip(T::HELP).map(|(name, help)| PossibleValue::new(*name).help(*help));
    PossibleValuesParser::new(values).try_map(|name: String| name.parse::<T>())
}
