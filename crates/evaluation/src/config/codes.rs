//! Groups of codes (ethnicity, placement type): a covariate's levels as the config defines them;
//! the config and the value-for-money costs both read them.

use serde::{Deserialize, Serialize};

/// One group of codes (`{ group = "White", codes = ["WBRI", ...] }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeGroup {
    /// Group name (a level of the covariate).
    pub group: String,
    /// The codes in it. The last group also takes every code no group lists.
    pub codes: Vec<String>,
}
