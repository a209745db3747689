//! Each section of the config checked into its settings, in the order [`Config::check`]
//! reports the first problem.

use super::{
    bad, CaliperSetting, CodeGroups, CohortConfig, CohortSettings, Config, CovariatesConfig, IndexRule,
    InferenceConfig, InferenceSettings, MatchingConfig, MatchingSettings, NoCaliper, OutcomesConfig, PowerConfig,
    COVARIATES,
};
use crate::error::EvaluationError;
use crate::vocab::Outcome;
use swp_data::date::parse_date;
use swp_stats::matching::Method;

type Result<T> = std::result::Result<T, EvaluationError>;

/// `[cohort]`: the index date parsed, the windows and ages in range.
pub(super) fn cohort(c: &CohortConfig) -> Result<CohortSettings> {
    let index = match (&c.index, &c.index_date) {
        (Some(_), Some(_)) => {
            return Err(bad("cohort.index_date", "set with cohort.index", "one of them (index_date is v1.1's name)"))
        }
        (None, None) => IndexRule::PerPilot,
        (Some(text), None) => IndexRule::parse(text)
            .ok_or_else(|| bad("cohort.index", text, "\"per_pilot\", \"earliest\", \"latest\" or a date YYYY-MM-DD"))?,
        (None, Some(text)) => IndexRule::Date(
            parse_date(text).map_err(|_| bad("cohort.index_date", text, "a date YYYY-MM-DD, or leave it out"))?,
        ),
    };
    if !(1..=120).contains(&c.baseline_months) {
        return Err(bad("cohort.baseline_months", c.baseline_months, "1 to 120 months"));
    }
    if !(1..=120).contains(&c.follow_up_months) {
        return Err(bad("cohort.follow_up_months", c.follow_up_months, "1 to 120 months"));
    }
    if c.min_months_in_care > 240 {
        return Err(bad("cohort.min_months_in_care", c.min_months_in_care, "0 to 240 months"));
    }
    if c.max_age > 25 {
        return Err(bad("cohort.max_age", c.max_age, "0 to 25 years"));
    }
    if c.min_age > c.max_age {
        return Err(bad("cohort.min_age", c.min_age, &format!("at most max_age ({})", c.max_age)));
    }
    Ok(CohortSettings {
        index,
        baseline_months: c.baseline_months,
        follow_up_months: c.follow_up_months,
        controls: c.controls,
        min_months_in_care: c.min_months_in_care,
        min_age: c.min_age,
        max_age: c.max_age,
    })
}

/// `[covariates]`: the covariates in use (each known, once) and the code groups.
pub(super) fn covariates(c: &CovariatesConfig) -> Result<(Vec<String>, CodeGroups)> {
    let covariates: Vec<String> = match &c.include {
        None => COVARIATES.iter().map(|s| s.to_string()).collect(),
        Some(list) => {
            if list.is_empty() {
                return Err(bad("covariates.include", "[]", "at least one covariate"));
            }
            for name in list {
                if !COVARIATES.contains(&name.as_str()) {
                    return Err(bad("covariates.include", name, &COVARIATES.join(", ")));
                }
            }
            let mut seen = list.clone();
            seen.sort();
            seen.dedup();
            if seen.len() != list.len() {
                return Err(bad("covariates.include", list.join(", "), "each covariate once"));
            }
            list.clone()
        }
    };
    for (key, groups) in [
        ("covariates.ethnic_group", &c.ethnic_group),
        ("covariates.legal_status", &c.legal_status),
        ("covariates.placement_type", &c.placement_type),
    ] {
        if groups.is_empty() {
            return Err(bad(key, "[]", "at least one group"));
        }
        let mut names: Vec<&str> = groups.iter().map(|g| g.group.as_str()).collect();
        if names.iter().any(|n| n.is_empty()) {
            return Err(bad(key, "\"\"", "non-empty group names"));
        }
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        if names.len() != n {
            return Err(bad(key, "a repeated group", "each group name once"));
        }
    }
    let groups = CodeGroups {
        ethnic_group: c.ethnic_group.clone(),
        legal_status: c.legal_status.clone(),
        placement_type: c.placement_type.clone(),
    };
    Ok((covariates, groups))
}

/// `[matching]`: the caliper, ratio and exact covariates, then the matching layer's own checks.
pub(super) fn matching(m: &MatchingConfig, covariates: &[String]) -> Result<MatchingSettings> {
    let caliper = match m.caliper {
        CaliperSetting::Word(NoCaliper::None) => None,
        CaliperSetting::Sd(x) if x.is_finite() && x > 0.0 => Some(x),
        CaliperSetting::Sd(x) => return Err(bad("matching.caliper", x, "a positive number of SDs, or \"none\"")),
    };
    if m.ratio == 0 || m.ratio > 10 {
        return Err(bad("matching.ratio", m.ratio, "1 to 10 controls per treated child"));
    }
    for e in &m.exact {
        if !covariates.contains(e) {
            return Err(bad("matching.exact", e, "covariates in use (covariates.include)"));
        }
    }
    let matching = MatchingSettings {
        method: m.method,
        distance: m.distance,
        caliper,
        ratio: m.ratio,
        replace: m.replace,
        exact: m.exact.clone(),
        order: m.order,
    };
    // the matching layer's own checks (caliper with mahalanobis, ratio with cem, ...)
    swp_stats::matching::MatchParams::new()
        .method(matching.method)
        .distance(matching.distance)
        .ratio(matching.ratio)
        .replace(matching.replace)
        .caliper(matching.caliper)
        .order(matching.order)
        .check()
        .map_err(|e| bad("matching", m.method, &e.to_string()))?;
    if matching.method != Method::Nearest && !matching.exact.is_empty() {
        return Err(bad(
            "matching.exact",
            matching.exact.join(", "),
            "exact = [] unless method = \"nearest\" (cem and exact match on every covariate)",
        ));
    }
    Ok(matching)
}

/// `[outcomes]`: the child-level outcomes named, in docs/evaluation.md's order.
pub(super) fn outcomes(o: &OutcomesConfig) -> Result<Vec<Outcome>> {
    let child_names: Vec<&str> = Outcome::CHILD.iter().map(|o| o.as_str()).collect();
    for name in &o.include {
        if !child_names.contains(&name.as_str()) {
            return Err(bad("outcomes.include", name, &child_names.join(", ")));
        }
    }
    Ok(Outcome::CHILD.iter().copied().filter(|c| o.include.iter().any(|i| i == c.as_str())).collect())
}

/// `[inference]`: replications and assignments in range.
pub(super) fn inference(i: &InferenceConfig) -> Result<InferenceSettings> {
    if !(99..=1_000_000).contains(&i.bootstrap_reps) {
        return Err(bad("inference.bootstrap_reps", i.bootstrap_reps, "99 to 1,000,000 (9999 recommended)"));
    }
    if !(1..=1_000_000).contains(&i.randomisation_assignments) {
        return Err(bad("inference.randomisation_assignments", i.randomisation_assignments, "1 to 1,000,000"));
    }
    Ok(InferenceSettings {
        bootstrap_reps: i.bootstrap_reps,
        bootstrap_weights: i.bootstrap_weights,
        seed: i.seed,
        multiplicity: i.multiplicity,
        randomisation_assignments: i.randomisation_assignments,
    })
}

/// `[specification_curve]`, when enabled: every list non-empty and the grid not empty.
pub(super) fn specification(config: &Config) -> Result<Option<Vec<Config>>> {
    let g = &config.specification_curve;
    if !g.enabled {
        return Ok(None);
    }
    for (key, empty) in [
        ("specification_curve.caliper", g.caliper.is_empty()),
        ("specification_curve.ratio", g.ratio.is_empty()),
        ("specification_curve.replace", g.replace.is_empty()),
        ("specification_curve.distance", g.distance.is_empty()),
        ("specification_curve.controls", g.controls.is_empty()),
        ("specification_curve.follow_up_months", g.follow_up_months.is_empty()),
        ("specification_curve.min_months_in_care", g.min_months_in_care.is_empty()),
        ("specification_curve.index", g.index.is_empty()),
        ("specification_curve.estimation", g.estimation.is_empty()),
    ] {
        if empty {
            return Err(bad(key, "[]", "at least one value"));
        }
    }
    if let Some(bad_rule) = g.index.iter().find(|r| IndexRule::parse(r).is_none()) {
        return Err(bad(
            "specification_curve.index",
            bad_rule,
            "\"per_pilot\", \"earliest\", \"latest\" or a date YYYY-MM-DD",
        ));
    }
    if let Some(e) = g
        .estimation
        .iter()
        .find(|e| !matches!(e.as_str(), "matching" | "matching_adjusted" | "ps_weighting" | "entropy"))
    {
        return Err(bad(
            "specification_curve.estimation",
            e,
            "\"matching\", \"matching_adjusted\", \"ps_weighting\" or \"entropy\"",
        ));
    }
    let grid = super::specification_grid(config);
    if grid.is_empty() {
        return Err(bad(
            "specification_curve.distance",
            "mahalanobis only, with calipers only",
            "a propensity-score distance, or \"none\" among the calipers (MatchIt allows no caliper with mahalanobis)",
        ));
    }
    if let Some(r) = g.ratio.iter().find(|r| !(1..=10).contains(*r)) {
        return Err(bad("specification_curve.ratio", r, "1 to 10 controls per treated child"));
    }
    Ok(Some(grid))
}

/// `[power]` (checked whether or not it is enabled).
pub(super) fn power(p: &PowerConfig) -> Result<()> {
    if !(20..=100_000).contains(&p.simulations) {
        return Err(bad("power.simulations", p.simulations, "20 to 100,000 (200 or more recommended)"));
    }
    if p.ratios.is_empty() || p.ratios.len() > 50 {
        let ratios: Vec<String> = p.ratios.iter().map(ToString::to_string).collect();
        return Err(bad("power.ratios", format!("[{}]", ratios.join(", ")), "1 to 50 ratios"));
    }
    if let Some(r) = p.ratios.iter().find(|r| !(r.is_finite() && **r > 0.0 && **r < 1.0)) {
        return Err(bad("power.ratios", r, "ratios between 0 and 1 (effects are planted as reductions)"));
    }
    if let Some(k) = p.pilot_sites.iter().find(|k| !(1..=500).contains(*k)) {
        return Err(bad("power.pilot_sites", k, "1 to 500 sites"));
    }
    if !(99..=100_000).contains(&p.bootstrap_reps) {
        return Err(bad("power.bootstrap_reps", p.bootstrap_reps, "99 to 100,000 (999 recommended)"));
    }
    if !(p.target > 0.0 && p.target < 1.0) {
        return Err(bad("power.target", p.target, "a power between 0 and 1, such as 0.8"));
    }
    if !(p.alpha > 0.0 && p.alpha < 0.5) {
        return Err(bad("power.alpha", p.alpha, "a level between 0 and 0.5, such as 0.05"));
    }
    Ok(())
}
