//! Names for people. Results keep machine names (`legal_statusaccommodated`, `sex1`: R's names
//! of a factor level's indicator, what JSON, CSV and scripts use); figures and report.html show
//! "Legal status: accommodated", "Sex: male".

/// The baseline covariates with their readable names; factor covariates first as prefixes of
/// their levels' indicator names.
const COVARIATES: [(&str, &str); 11] = [
    ("distance", "Propensity score (distance)"),
    ("age", "Age (years)"),
    ("sex", "Sex"),
    ("ethnic_group", "Ethnic group"),
    ("legal_status", "Legal status"),
    ("placement_type", "Placement type"),
    ("years_in_care", "Years in care"),
    ("prior_placements", "Placements in the baseline year"),
    ("prior_sw_changes", "Social-worker changes in the baseline year"),
    ("cin_abuse_neglect", "Need: abuse or neglect"),
    ("cin_not_recorded", "Need: not recorded"),
];

/// A readable level of a factor covariate: 903 sex codes by their meaning, group names with
/// spaces.
fn level(covariate: &str, level: &str) -> String {
    match (covariate, level) {
        ("sex", "1") => "male".into(),
        ("sex", "2") => "female".into(),
        _ => level.replace('_', " "),
    }
}

/// A covariate's (or a factor level's indicator's) name for people; names it does not know are
/// returned as they are.
pub fn covariate(name: &str) -> String {
    if let Some((_, readable)) = COVARIATES.iter().find(|(n, _)| *n == name) {
        return (*readable).to_string();
    }
    COVARIATES
        .iter()
        .filter(|(n, _)| name.len() > n.len() && name.starts_with(n))
        .max_by_key(|(n, _)| n.len())
        .map_or_else(|| name.to_string(), |(n, readable)| format!("{readable}: {}", level(n, &name[n.len()..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicators_read_as_covariate_and_level() {
        assert_eq!(covariate("legal_statusaccommodated"), "Legal status: accommodated");
        assert_eq!(covariate("legal_statuscare_order"), "Legal status: care order");
        assert_eq!(covariate("sex1"), "Sex: male");
        assert_eq!(covariate("sex2"), "Sex: female");
        assert_eq!(covariate("ethnic_groupWhite"), "Ethnic group: White");
        assert_eq!(covariate("placement_typeplaced_for_adoption"), "Placement type: placed for adoption");
        assert_eq!(covariate("prior_sw_changes"), "Social-worker changes in the baseline year");
        assert_eq!(covariate("distance"), "Propensity score (distance)");
        assert_eq!(covariate("re74"), "re74");
    }
}
