//! The evaluation config: every setting of EVALUATION.md with its default, read from TOML.
//!
//! Unknown keys are errors (`deny_unknown_fields`), and so are values outside what a setting
//! allows; [`Config::check`] validates the whole config once and returns a [`ValidConfig`]
//! with dates parsed and choices resolved to enums.
//!
//! ```
//! use swp_evaluation::config::Config;
//! let config: Config = toml::from_str("[matching]\ncaliper = 0.1\n").unwrap();
//! let valid = config.check().unwrap();
//! assert_eq!(valid.matching.caliper, Some(0.1));
//! assert_eq!(valid.cohort.follow_up_months, 24);
//! assert!(toml::from_str::<Config>("[matching]\ncalliper = 0.1\n").is_err());
//! ```

use crate::error::EvaluationError;
use serde::{Deserialize, Serialize};
use swp_data::typed::parse_date;
use swp_stats::bootstrap::BootWeights;
use swp_stats::matching::{Distance, Method, Order};
use swp_stats::multiplicity::Adjustment;

/// The baseline covariates of EVALUATION.md, in its order.
pub const COVARIATES: [&str; 9] = [
    "age",
    "sex",
    "ethnic_group",
    "legal_status",
    "placement_type",
    "years_in_care",
    "prior_placements",
    "prior_sw_changes",
    "cin_abuse_neglect",
];

/// The child-level outcomes of EVALUATION.md (besides the outcome measures), in its order.
pub const OUTCOMES: [&str; 5] =
    ["sw_changes", "placement_moves", "three_plus_placements", "time_to_sw_change", "time_to_placement_move"];

/// The site-level metrics of EVALUATION.md.
pub const SITE_METRICS: [&str; 4] = ["turnover_rate", "caseload_per_fte", "sickness_absence_rate", "agency_rate"];

/// The whole config as written (unchecked). Every section and key is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Who is in the cohort and the windows.
    pub cohort: CohortConfig,
    /// Baseline covariates and their code groups.
    pub covariates: CovariatesConfig,
    /// How pilot children are matched to controls.
    pub matching: MatchingConfig,
    /// Which outcomes are estimated.
    pub outcomes: OutcomesConfig,
    /// Standard errors, bootstrap and multiplicity.
    pub inference: InferenceConfig,
    /// Small-number suppression.
    pub disclosure: DisclosureConfig,
    /// The specification curve: the primary estimates over a grid of reasonable choices.
    pub specification_curve: SpecificationCurveConfig,
    /// Power and minimum detectable effects by simulation from the data at hand.
    pub power: PowerConfig,
    /// Value for money: unit costs, the cost outcome, cost-effectiveness, payment on outcomes.
    pub value_for_money: crate::value_config::ValueConfig,
}

/// `[power]`: the power simulation (see [`crate::power`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowerConfig {
    /// Run it (false).
    pub enabled: bool,
    /// Simulated evaluations per number of pilot sites (200).
    pub simulations: usize,
    /// Planted effects as ratios below 1 (rate, risk or hazard ratio); 1 (no effect) is always
    /// simulated too, to show the test's size. Default 0.9, 0.8, 0.7, 0.6, 0.5.
    pub ratios: Vec<f64>,
    /// Numbers of pilot sites to simulate (default: the number in the data, 10 and 20).
    pub pilot_sites: Vec<usize>,
    /// Wild cluster bootstrap replications in each simulated evaluation (999).
    pub bootstrap_reps: usize,
    /// Power at which the minimum detectable effect is read (0.8).
    pub target: f64,
    /// Significance level of the tests (0.05).
    pub alpha: f64,
}

impl Default for PowerConfig {
    fn default() -> Self {
        PowerConfig {
            enabled: false,
            simulations: 200,
            ratios: vec![0.9, 0.8, 0.7, 0.6, 0.5],
            pilot_sites: Vec::new(),
            bootstrap_reps: 999,
            target: 0.8,
            alpha: 0.05,
        }
    }
}

/// `[specification_curve]`: every combination of these choices is one specification (the
/// other settings as in the config); combinations MatchIt does not allow (a caliper with the
/// Mahalanobis distance) are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpecificationCurveConfig {
    /// Run it (false).
    pub enabled: bool,
    /// Calipers (none, 0.1, 0.2).
    pub caliper: Vec<CaliperSetting>,
    /// Ratios (1, 2, 3).
    pub ratio: Vec<usize>,
    /// With and without replacement.
    pub replace: Vec<bool>,
    /// Distances (glm, linear-logit, mahalanobis).
    pub distance: Vec<DistanceName>,
    /// Control arms (comparison, host, both).
    pub controls: Vec<Controls>,
    /// Follow-up lengths (12, 24 months).
    pub follow_up_months: Vec<u32>,
    /// Minimum months in care (0, 6, 12).
    pub min_months_in_care: Vec<u32>,
}

impl Default for SpecificationCurveConfig {
    fn default() -> Self {
        SpecificationCurveConfig {
            enabled: false,
            caliper: vec![CaliperSetting::Word(NoCaliper::None), CaliperSetting::Sd(0.1), CaliperSetting::Sd(0.2)],
            ratio: vec![1, 2, 3],
            replace: vec![false, true],
            distance: vec![DistanceName::Glm, DistanceName::LinearLogit, DistanceName::Mahalanobis],
            controls: vec![Controls::Comparison, Controls::Host, Controls::Both],
            follow_up_months: vec![12, 24],
            min_months_in_care: vec![0, 6, 12],
        }
    }
}

/// Which children are treated, which are controls, and which controls to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Controls {
    /// Children at comparison authorities (default).
    Comparison,
    /// Children in the rest of the pilot's own authority.
    Host,
    /// Both.
    Both,
}

impl Controls {
    /// Whether a site of `arm` supplies controls.
    pub fn includes(self, arm: &str) -> bool {
        match self {
            Controls::Comparison => arm == "comparison",
            Controls::Host => arm == "host",
            Controls::Both => arm == "comparison" || arm == "host",
        }
    }

    /// The arms' name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Controls::Comparison => "comparison",
            Controls::Host => "host",
            Controls::Both => "comparison and host",
        }
    }
}

/// `[cohort]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CohortConfig {
    /// Index date `YYYY-MM-DD` (default: the earliest pilot go_live).
    pub index_date: Option<String>,
    /// Baseline window length before the index date, months (12).
    pub baseline_months: u32,
    /// Follow-up window length from the index date, months (24).
    pub follow_up_months: u32,
    /// Control arm (comparison).
    pub controls: Controls,
    /// Minimum months in the current period of care on the index date (6).
    pub min_months_in_care: u32,
    /// Youngest age, completed years on the index date (0).
    pub min_age: u32,
    /// Oldest age, completed years on the index date (17).
    pub max_age: u32,
}

impl Default for CohortConfig {
    fn default() -> Self {
        CohortConfig {
            index_date: None,
            baseline_months: 12,
            follow_up_months: 24,
            controls: Controls::Comparison,
            min_months_in_care: 6,
            min_age: 0,
            max_age: 17,
        }
    }
}

pub use crate::codes::CodeGroup;

fn groups(spec: &[(&str, &[&str])]) -> Vec<CodeGroup> {
    spec.iter()
        .map(|(g, codes)| CodeGroup { group: g.to_string(), codes: codes.iter().map(|c| c.to_string()).collect() })
        .collect()
}

/// `[covariates]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CovariatesConfig {
    /// The covariates of the propensity model and the balance table (default: all nine of
    /// [`COVARIATES`]). A covariate listed here that is constant in the cohort is an error; one
    /// of the default list is dropped with a warning.
    pub include: Option<Vec<String>>,
    /// Ethnicity code groups.
    pub ethnic_group: Vec<CodeGroup>,
    /// Legal status groups.
    pub legal_status: Vec<CodeGroup>,
    /// Placement type groups.
    pub placement_type: Vec<CodeGroup>,
}

impl Default for CovariatesConfig {
    fn default() -> Self {
        CovariatesConfig {
            include: None,
            ethnic_group: groups(&swp_data::codes::ETHNIC_GROUPS),
            legal_status: groups(&[
                ("care_order", &["C1", "C2"]),
                ("accommodated", &["V2"]),
                ("placement_order", &["E1", "D1"]),
                ("other", &[]),
            ]),
            placement_type: groups(&[
                ("foster", &["U1", "U2", "U3", "U4", "U5", "U6", "Q1", "Q2"]),
                ("placed_for_adoption", &["A1", "A2", "A3", "A4", "A5", "A6"]),
                ("with_parents", &["P1"]),
                ("residential", &["K1", "K2", "H5", "R1", "R2", "R5", "S1"]),
                ("other", &["P2", "P3", "R3", "Z1", "T0", "T1", "T2", "T3", "T4"]),
            ]),
        }
    }
}

/// A caliper: a number of standard deviations of the distance, or `"none"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CaliperSetting {
    /// Standard deviations of the distance.
    Sd(f64),
    /// `"none"`: no caliper.
    Word(NoCaliper),
}

/// The word `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoCaliper {
    /// No caliper.
    None,
}

/// Matching method names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodName {
    /// Greedy nearest neighbour.
    Nearest,
    /// Optimal pair matching.
    Optimal,
    /// Coarsened exact matching.
    Cem,
    /// Exact matching.
    Exact,
}

/// Distance names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistanceName {
    /// Logistic propensity score (probability).
    Glm,
    /// Its linear predictor.
    LinearLogit,
    /// Probit propensity score.
    Probit,
    /// Mahalanobis distance.
    Mahalanobis,
}

/// Order names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderName {
    /// Largest distance first.
    Largest,
    /// Smallest first.
    Smallest,
    /// Data order.
    Data,
    /// Random order from the seed.
    Random,
}

/// `[matching]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchingConfig {
    /// Method (nearest).
    pub method: MethodName,
    /// Distance (linear-logit).
    pub distance: DistanceName,
    /// Caliper in SDs of the distance (0.2), or "none".
    pub caliper: CaliperSetting,
    /// Controls per treated child (1).
    pub ratio: usize,
    /// With replacement (false).
    pub replace: bool,
    /// Covariates matched exactly (["sex"]).
    pub exact: Vec<String>,
    /// Order treated children take turns in (largest; data with mahalanobis).
    pub order: Option<OrderName>,
}

impl Default for MatchingConfig {
    fn default() -> Self {
        MatchingConfig {
            method: MethodName::Nearest,
            distance: DistanceName::LinearLogit,
            caliper: CaliperSetting::Sd(0.2),
            ratio: 1,
            replace: false,
            exact: vec!["sex".to_string()],
            order: None,
        }
    }
}

/// `[outcomes]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutcomesConfig {
    /// Child-level outcomes (default: all five of [`OUTCOMES`]).
    pub include: Vec<String>,
    /// Outcome measures from outcomes.csv (default: every measure in the table).
    pub measures: Option<Vec<String>>,
}

impl Default for OutcomesConfig {
    fn default() -> Self {
        OutcomesConfig { include: OUTCOMES.iter().map(|s| s.to_string()).collect(), measures: None }
    }
}

/// Bootstrap weight names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootWeightsName {
    /// Webb's six-point weights.
    Webb,
    /// Rademacher.
    Rademacher,
}

/// Multiplicity adjustment names (R's p.adjust).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiplicityName {
    /// Holm (default).
    Holm,
    /// Hochberg.
    Hochberg,
    /// Benjamini-Hochberg.
    Bh,
    /// Benjamini-Yekutieli.
    By,
    /// No adjustment.
    None,
}

/// Cluster names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterName {
    /// The site (the unit the pilots were assigned at).
    Site,
}

/// `[inference]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InferenceConfig {
    /// Cluster of the robust errors (site).
    pub cluster: ClusterName,
    /// Wild cluster bootstrap replications (9999; 99 to 1,000,000).
    pub bootstrap_reps: usize,
    /// Bootstrap weights (webb).
    pub bootstrap_weights: BootWeightsName,
    /// Seed of every random step (bootstrap, random order, randomisation draws) (2009).
    pub seed: u64,
    /// Adjustment across the primary rows (holm).
    pub multiplicity: MultiplicityName,
    /// Randomisation inference: exact when the assignments number at most this, else this
    /// many drawn (10000).
    pub randomisation_assignments: usize,
}

impl Default for InferenceConfig {
    fn default() -> Self {
        InferenceConfig {
            cluster: ClusterName::Site,
            bootstrap_reps: 9999,
            bootstrap_weights: BootWeightsName::Webb,
            seed: 2009,
            multiplicity: MultiplicityName::Holm,
            randomisation_assignments: 10_000,
        }
    }
}

/// `[disclosure]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisclosureConfig {
    /// Counts from 1 to threshold - 1 are suppressed (5).
    pub threshold: u32,
}

impl Default for DisclosureConfig {
    fn default() -> Self {
        DisclosureConfig { threshold: 5 }
    }
}

/// Checked cohort settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortSettings {
    /// Index date (None: the earliest pilot go_live).
    pub index_date: Option<i32>,
    /// Baseline months.
    pub baseline_months: u32,
    /// Follow-up months.
    pub follow_up_months: u32,
    /// Control arm.
    pub controls: Controls,
    /// Minimum months in care.
    pub min_months_in_care: u32,
    /// Youngest age.
    pub min_age: u32,
    /// Oldest age.
    pub max_age: u32,
}

/// Checked matching settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchingSettings {
    /// Method.
    pub method: Method,
    /// Distance.
    pub distance: Distance,
    /// Caliper (SDs).
    pub caliper: Option<f64>,
    /// Ratio.
    pub ratio: usize,
    /// Replacement.
    pub replace: bool,
    /// Exact covariates.
    pub exact: Vec<String>,
    /// Order (None: MatchIt's default).
    pub order: Option<Order>,
}

/// Checked inference settings.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceSettings {
    /// Bootstrap replications.
    pub bootstrap_reps: usize,
    /// Bootstrap weights.
    pub bootstrap_weights: BootWeights,
    /// Seed.
    pub seed: u64,
    /// Multiplicity adjustment (None: none).
    pub multiplicity: Option<Adjustment>,
    /// Randomisation inference assignments.
    pub randomisation_assignments: usize,
}

/// A config checked once: dates parsed, choices resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidConfig {
    /// The config as given (recorded in the outputs).
    pub raw: Config,
    /// Cohort.
    pub cohort: CohortSettings,
    /// Covariates in use (names of [`COVARIATES`]) and whether the user listed them.
    pub covariates: Vec<String>,
    /// Whether the covariates were listed in the config (then a constant one is an error).
    pub covariates_listed: bool,
    /// Matching.
    pub matching: MatchingSettings,
    /// Child-level outcomes in use.
    pub outcomes: Vec<String>,
    /// Outcome measures (None: all).
    pub measures: Option<Vec<String>>,
    /// Inference.
    pub inference: InferenceSettings,
    /// Suppression threshold.
    pub threshold: u32,
}

fn bad(key: &str, value: impl std::fmt::Display, allowed: &str) -> EvaluationError {
    EvaluationError::Config { key: key.to_string(), value: value.to_string(), allowed: allowed.to_string() }
}

impl Config {
    /// Reads a config from TOML text.
    ///
    /// # Errors
    /// [`EvaluationError::ConfigSyntax`] with the parser's message (line, column, the key and
    /// what it expected).
    pub fn from_toml(text: &str) -> Result<Config, EvaluationError> {
        toml::from_str(text).map_err(|e| EvaluationError::ConfigSyntax(e.to_string().trim_end().to_string()))
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`EvaluationError::Config`] naming the key, the value and what is allowed.
    pub fn check(self) -> Result<ValidConfig, EvaluationError> {
        let c = &self.cohort;
        let index_date = match &c.index_date {
            None => None,
            Some(text) => Some(
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
        let listed = self.covariates.include.is_some();
        let covariates: Vec<String> = match &self.covariates.include {
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
            ("covariates.ethnic_group", &self.covariates.ethnic_group),
            ("covariates.legal_status", &self.covariates.legal_status),
            ("covariates.placement_type", &self.covariates.placement_type),
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
        let m = &self.matching;
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
            method: match m.method {
                MethodName::Nearest => Method::Nearest,
                MethodName::Optimal => Method::Optimal,
                MethodName::Cem => Method::Cem,
                MethodName::Exact => Method::Exact,
            },
            distance: match m.distance {
                DistanceName::Glm => Distance::Glm,
                DistanceName::LinearLogit => Distance::LinearLogit,
                DistanceName::Probit => Distance::Probit,
                DistanceName::Mahalanobis => Distance::Mahalanobis,
            },
            caliper,
            ratio: m.ratio,
            replace: m.replace,
            exact: m.exact.clone(),
            order: m.order.map(|o| match o {
                OrderName::Largest => Order::Largest,
                OrderName::Smallest => Order::Smallest,
                OrderName::Data => Order::Data,
                OrderName::Random => Order::Random,
            }),
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
            .map_err(|e| bad("matching", format!("{:?}", self.matching.method).to_lowercase(), &e.to_string()))?;
        if !matches!(matching.method, Method::Nearest) && !matching.exact.is_empty() {
            return Err(bad(
                "matching.exact",
                matching.exact.join(", "),
                "exact = [] unless method = \"nearest\" (cem and exact match on every covariate)",
            ));
        }
        for o in &self.outcomes.include {
            if !OUTCOMES.contains(&o.as_str()) {
                return Err(bad("outcomes.include", o, &OUTCOMES.join(", ")));
            }
        }
        let i = &self.inference;
        if !(99..=1_000_000).contains(&i.bootstrap_reps) {
            return Err(bad("inference.bootstrap_reps", i.bootstrap_reps, "99 to 1,000,000 (9999 recommended)"));
        }
        if !(1..=1_000_000).contains(&i.randomisation_assignments) {
            return Err(bad("inference.randomisation_assignments", i.randomisation_assignments, "1 to 1,000,000"));
        }
        let g = &self.specification_curve;
        if g.enabled {
            for (key, empty) in [
                ("specification_curve.caliper", g.caliper.is_empty()),
                ("specification_curve.ratio", g.ratio.is_empty()),
                ("specification_curve.replace", g.replace.is_empty()),
                ("specification_curve.distance", g.distance.is_empty()),
                ("specification_curve.controls", g.controls.is_empty()),
                ("specification_curve.follow_up_months", g.follow_up_months.is_empty()),
                ("specification_curve.min_months_in_care", g.min_months_in_care.is_empty()),
            ] {
                if empty {
                    return Err(bad(key, "[]", "at least one value"));
                }
            }
            if specification_grid(&self).is_empty() {
                return Err(bad(
                    "specification_curve.distance",
                    "mahalanobis only, with calipers only",
                    "a propensity-score distance, or \"none\" among the calipers (MatchIt allows no caliper with mahalanobis)",
                ));
            }
            if let Some(r) = g.ratio.iter().find(|r| !(1..=10).contains(*r)) {
                return Err(bad("specification_curve.ratio", r, "1 to 10 controls per treated child"));
            }
        }
        if self.value_for_money.enabled {
            self.value_for_money
                .check(&self.covariates.placement_type)
                .map_err(|(key, value, allowed)| bad(&key, value, &allowed))?;
        }
        let p = &self.power;
        if !(20..=100_000).contains(&p.simulations) {
            return Err(bad("power.simulations", p.simulations, "20 to 100,000 (200 or more recommended)"));
        }
        if p.ratios.is_empty() || p.ratios.len() > 50 {
            return Err(bad("power.ratios", format!("{:?}", p.ratios), "1 to 50 ratios"));
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
        if self.disclosure.threshold == 0 || self.disclosure.threshold > 100 {
            return Err(bad("disclosure.threshold", self.disclosure.threshold, "1 (no suppression) to 100"));
        }
        Ok(ValidConfig {
            cohort: CohortSettings {
                index_date,
                baseline_months: c.baseline_months,
                follow_up_months: c.follow_up_months,
                controls: c.controls,
                min_months_in_care: c.min_months_in_care,
                min_age: c.min_age,
                max_age: c.max_age,
            },
            covariates,
            covariates_listed: listed,
            matching,
            outcomes: self.outcomes.include.clone(),
            measures: self.outcomes.measures.clone(),
            inference: InferenceSettings {
                bootstrap_reps: i.bootstrap_reps,
                bootstrap_weights: match i.bootstrap_weights {
                    BootWeightsName::Webb => BootWeights::Webb,
                    BootWeightsName::Rademacher => BootWeights::Rademacher,
                },
                seed: i.seed,
                multiplicity: match i.multiplicity {
                    MultiplicityName::Holm => Some(Adjustment::Holm),
                    MultiplicityName::Hochberg => Some(Adjustment::Hochberg),
                    MultiplicityName::Bh => Some(Adjustment::BenjaminiHochberg),
                    MultiplicityName::By => Some(Adjustment::BenjaminiYekutieli),
                    MultiplicityName::None => None,
                },
                randomisation_assignments: i.randomisation_assignments,
            },
            threshold: self.disclosure.threshold,
            raw: self,
        })
    }
}

/// The config's child-level outcomes, in EVALUATION.md's order.
pub(crate) fn primary_outcomes(config: &ValidConfig) -> Vec<&'static str> {
    OUTCOMES.iter().copied().filter(|o| config.outcomes.iter().any(|c| c == o)).collect()
}

/// The specification curve's grid of configs (every combination MatchIt allows), in a fixed
/// order.
pub fn specification_grid(base: &Config) -> Vec<Config> {
    let g = &base.specification_curve;
    let mut out = Vec::new();
    for &controls in &g.controls {
        for &follow in &g.follow_up_months {
            for &months in &g.min_months_in_care {
                for &distance in &g.distance {
                    for &caliper in &g.caliper {
                        let none = matches!(caliper, CaliperSetting::Word(NoCaliper::None));
                        if distance == DistanceName::Mahalanobis && !none {
                            continue;
                        }
                        for &ratio in &g.ratio {
                            for &replace in &g.replace {
                                let mut c = base.clone();
                                c.cohort.controls = controls;
                                c.cohort.follow_up_months = follow;
                                c.cohort.min_months_in_care = months;
                                c.matching.distance = distance;
                                c.matching.caliper = caliper;
                                c.matching.ratio = ratio;
                                c.matching.replace = replace;
                                c.inference.bootstrap_reps = 99;
                                c.specification_curve.enabled = false;
                                out.push(c);
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_evaluation_md() {
        let v = Config::default().check().unwrap();
        assert_eq!(v.cohort.index_date, None);
        assert_eq!((v.cohort.baseline_months, v.cohort.follow_up_months), (12, 24));
        assert_eq!(v.cohort.controls, Controls::Comparison);
        assert_eq!((v.cohort.min_months_in_care, v.cohort.min_age, v.cohort.max_age), (6, 0, 17));
        assert_eq!(v.covariates.len(), 9);
        assert_eq!(v.matching.method, Method::Nearest);
        assert_eq!(v.matching.distance, Distance::LinearLogit);
        assert_eq!(v.matching.caliper, Some(0.2));
        assert_eq!((v.matching.ratio, v.matching.replace), (1, false));
        assert_eq!(v.matching.exact, vec!["sex".to_string()]);
        assert_eq!(v.outcomes.len(), 5);
        assert_eq!(v.inference.bootstrap_reps, 9999);
        assert_eq!(v.inference.bootstrap_weights, BootWeights::Webb);
        assert_eq!(v.inference.multiplicity, Some(Adjustment::Holm));
        assert_eq!(v.threshold, 5);
    }

    #[test]
    fn bad_values_name_the_key_the_value_and_what_is_allowed() {
        let err = |text: &str| Config::from_toml(text).and_then(Config::check).unwrap_err().to_string();
        let e = err("[cohort]\nfollow_up_months = 0\n");
        assert!(e.contains("cohort.follow_up_months") && e.contains("`0`") && e.contains("1 to 120"), "{e}");
        let e = err("[cohort]\nindex_date = \"2009-13-01\"\n");
        assert!(e.contains("cohort.index_date") && e.contains("2009-13-01"), "{e}");
        let e = err("[matching]\nexact = [\"shoe_size\"]\n");
        assert!(e.contains("matching.exact") && e.contains("shoe_size"), "{e}");
        let e = err("[matching]\ncaliper = -1\n");
        assert!(e.contains("matching.caliper"), "{e}");
        let e = err("[matching]\ndistance = \"mahalanobis\"\n");
        assert!(e.contains("caliper"), "{e}");
        let e = err("[covariates]\ninclude = [\"age\", \"height\"]\n");
        assert!(e.contains("height") && e.contains("prior_sw_changes"), "{e}");
        let e = err("[inference]\nbootstrap_reps = 1000000000000\n");
        assert!(e.contains("inference.bootstrap_reps"), "{e}");
        let e = err("[cohort]\ncontrols = \"neighbours\"\n");
        assert!(e.contains("neighbours") && e.contains("comparison"), "{e}");
        let e = err("[cohort]\nfollow_up = 24\n");
        assert!(e.contains("follow_up") && e.contains("follow_up_months"), "{e}");
        assert!(Config::from_toml("[matching]\ncaliper = \"none\"\n")
            .unwrap()
            .check()
            .unwrap()
            .matching
            .caliper
            .is_none());
    }
}
