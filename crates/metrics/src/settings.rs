//! The code sets of docs/metrics.md's placement rules, a setting of every metrics run (the index
//! derives each episode's placement flags from them).

/// The code sets of the placement rules (settings; [`Default`] gives docs/metrics.md's).
#[derive(Debug, Clone)]
pub struct PlacementCodes {
    /// RNE codes of a new carer.
    pub new_carer_rne: Vec<String>,
    /// Temporary placement types.
    pub temporary_places: Vec<String>,
    /// Short-break legal statuses.
    pub short_break_ls: Vec<String>,
    /// Placed-for-adoption placement types (long-term stability).
    pub adoption_places: Vec<String>,
}

impl Default for PlacementCodes {
    fn default() -> Self {
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect();
        PlacementCodes {
            new_carer_rne: v(&["S", "P", "B"]),
            temporary_places: v(&["T0", "T1", "T2", "T3", "T4"]),
            short_break_ls: v(&["V3", "V4"]),
            adoption_places: v(&["A3", "A4", "A5", "A6"]),
        }
    }
}
