//! The evaluation config: every setting of docs/evaluation.md with its default, read from TOML.
//!
//! Unknown keys are errors (`deny_unknown_fields`), and so are values outside what a setting
//! allows; [`Config::check`] validates the whole config once and returns a [`ValidConfig`]
//! with dates parsed and choices resolved to enums.
//!
//! ```
//! use swp_evaluation::config::Config;
//! let config: Config = toml::from_str("[matching]\ncaliper = 0.1\n").unwrap();
//! let valid = config.check().unwrap();
//! assert_eq!(valid.matching().caliper, Some(0.1));
//! assert_eq!(valid.cohort().follow_up_months, 24);
//! assert!(toml::from_str::<Config>("[matching]\ncalliper = 0.1\n").is_err());
//! ```

mod check;
pub mod codes;
pub mod grid;
pub mod value;

use crate::error::EvaluationError;
use crate::vocab::{Arm, Outcome};
use grid::specification_grid;
use serde::{Deserialize, Serialize};
use swp_stats::bootstrap::BootWeights;
use swp_stats::matching::{Distance, Method, Order};
use swp_stats::multiplicity::Adjustment;
use value::ValueConfig;

/// The baseline covariates of docs/evaluation.md, in its order.
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

/// The site-level metrics of docs/evaluation.md.
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
    pub value_for_money: ValueConfig,
    /// The placebo in time: the child-level analysis with every index date moved back.
    pub placebo: PlaceboConfig,
    /// The site-level difference-in-differences.
    pub site_level: SiteLevelConfig,
    /// How the effects are estimated on the matched sample (covariate adjustment).
    pub estimation: EstimationConfig,
}

/// `[estimation]` (docs/evaluation.md "Estimation after matching, and weighting").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EstimationConfig {
    /// Adjust the effect rows for the baseline covariates (true).
    pub adjust: bool,
    /// With `adjust`, the covariates' interactions with treatment too (true; Lin 2013).
    pub interactions: bool,
    /// `matching` (the default) or `weighting` (balancing weights in place of matching).
    pub method: String,
    /// With `method = "weighting"`: `ps` (propensity-score ATT weights, the default) or
    /// `entropy` (entropy balancing).
    pub weighting: String,
}

impl Default for EstimationConfig {
    fn default() -> Self {
        EstimationConfig {
            adjust: true,
            interactions: true,
            method: "matching".to_string(),
            weighting: "ps".to_string(),
        }
    }
}

/// How the comparison group is formed (`[estimation] method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// The config's matching (`[matching]`).
    Matching,
    /// Propensity-score ATT weights: treated 1, controls e / (1 - e).
    PsWeighting,
    /// Entropy balancing (Hainmueller 2012).
    Entropy,
}

impl Comparison {
    /// The name the specification curve and the design use.
    pub fn name(self) -> &'static str {
        match self {
            Comparison::Matching => "matching",
            Comparison::PsWeighting => "ps_weighting",
            Comparison::Entropy => "entropy",
        }
    }

    /// Whether this is a weighting.
    pub fn weighting(self) -> bool {
        self != Comparison::Matching
    }
}

/// Checked `[estimation]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EstimationSettings {
    /// Adjust for the covariates.
    pub adjust: bool,
    /// With their interactions with treatment.
    pub interactions: bool,
    /// Matching or weighting.
    pub comparison: Comparison,
}

/// `[site_level]` (docs/evaluation.md "Site level").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteLevelConfig {
    /// Comparison sites of the staggered difference-in-differences: `never` (the comparison
    /// sites, the default) or `not_yet` (also pilots not yet live).
    pub control: SiteControl,
}

/// `site_level.control`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteControl {
    /// Sites that are never pilots.
    #[default]
    Never,
    /// Never-pilot sites and pilots before they go live.
    NotYet,
}

/// `[placebo]` (docs/evaluation.md "Placebo in time").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlaceboConfig {
    /// Run it (true).
    pub enabled: bool,
    /// Months every index date moves back (default: `cohort.follow_up_months`).
    pub shift_months: Option<u32>,
}

impl Default for PlaceboConfig {
    fn default() -> Self {
        PlaceboConfig { enabled: true, shift_months: None }
    }
}

/// `[power]`: the power simulation (see [`crate::power`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowerConfig {
    /// Run it (false).
    pub enabled: bool,
    /// Placebo assignments (simulated evaluations) per number of pilot sites: all of them when
    /// there are at most this many, else this many drawn (200).
    pub simulations: usize,
    /// Planted effects as ratios below 1 (rate, risk or hazard ratio); 1 (no effect) is always
    /// simulated too, to show the test's size. Default 0.9, 0.8, 0.7, 0.6, 0.5.
    pub ratios: Vec<f64>,
    /// Numbers of pilot sites to simulate (default: the number in the data, 10 and 20).
    pub pilot_sites: Vec<usize>,
    /// v1.1's wild cluster bootstrap replications in each simulated evaluation (999): read and
    /// checked so that older configs keep working, but unused since the simulation tests by
    /// randomisation inference, which needs none.
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
    pub distance: Vec<Distance>,
    /// Control arms (comparison, host, both).
    pub controls: Vec<Controls>,
    /// Follow-up lengths (12, 24 months).
    pub follow_up_months: Vec<u32>,
    /// Minimum months in care (0, 6, 12).
    pub min_months_in_care: Vec<u32>,
    /// Index rules (per_pilot, earliest, latest; v1.2).
    pub index: Vec<String>,
    /// Estimation (v1.2): `matching` (the matched comparison, unadjusted), `matching_adjusted`
    /// (with the covariate adjustment), `ps_weighting` and `entropy` (balancing weights in place
    /// of matching, with the config's `[estimation] adjust`; one specification per cohort
    /// choice, the matching choices do not apply).
    pub estimation: Vec<String>,
}

impl Default for SpecificationCurveConfig {
    fn default() -> Self {
        SpecificationCurveConfig {
            enabled: false,
            caliper: vec![CaliperSetting::Word(NoCaliper::None), CaliperSetting::Sd(0.1), CaliperSetting::Sd(0.2)],
            ratio: vec![1, 2, 3],
            replace: vec![false, true],
            distance: vec![Distance::Glm, Distance::LinearLogit, Distance::Mahalanobis],
            controls: vec![Controls::Comparison, Controls::Host, Controls::Both],
            follow_up_months: vec![12, 24],
            min_months_in_care: vec![0, 6, 12],
            index: vec!["per_pilot".into(), "earliest".into(), "latest".into()],
            estimation: vec!["matching".into(), "matching_adjusted".into()],
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
    pub fn includes(self, arm: Arm) -> bool {
        match self {
            Controls::Comparison => arm == Arm::Comparison,
            Controls::Host => arm == Arm::Host,
            Controls::Both => arm != Arm::Pilot,
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
    /// The index rule (v1.2): `"per_pilot"` (the default: one stack per pilot, indexed on its
    /// go_live), `"earliest"`, `"latest"` or a date `YYYY-MM-DD`.
    pub index: Option<String>,
    /// v1.1's index date `YYYY-MM-DD` (still read: the same as `index` set to that date).
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
            index: None,
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

use codes::CodeGroup;

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

/// `[matching]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchingConfig {
    /// Method (nearest).
    pub method: Method,
    /// Distance (linear-logit).
    pub distance: Distance,
    /// Caliper in SDs of the distance (0.2), or "none".
    pub caliper: CaliperSetting,
    /// Controls per treated child (1).
    pub ratio: usize,
    /// With replacement (false).
    pub replace: bool,
    /// Covariates matched exactly (["sex"]).
    pub exact: Vec<String>,
    /// Order treated children take turns in (largest; data with mahalanobis).
    pub order: Option<Order>,
}

impl Default for MatchingConfig {
    fn default() -> Self {
        MatchingConfig {
            method: Method::Nearest,
            distance: Distance::LinearLogit,
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
    /// Child-level outcomes (default: all five of [`Outcome::CHILD`]).
    pub include: Vec<String>,
    /// Outcome measures from outcomes.csv (default: every measure in the table).
    pub measures: Option<Vec<String>>,
}

impl Default for OutcomesConfig {
    fn default() -> Self {
        OutcomesConfig { include: Outcome::CHILD.iter().map(|o| o.as_str().to_string()).collect(), measures: None }
    }
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
    pub bootstrap_weights: BootWeights,
    /// Seed of every random step (bootstrap, random order, randomisation draws) (2009).
    pub seed: u64,
    /// Adjustment across the primary rows (holm).
    pub multiplicity: Adjustment,
    /// Randomisation inference: exact when the assignments number at most this, else this
    /// many drawn (10000).
    pub randomisation_assignments: usize,
}

impl Default for InferenceConfig {
    fn default() -> Self {
        InferenceConfig {
            cluster: ClusterName::Site,
            bootstrap_reps: 9999,
            bootstrap_weights: BootWeights::Webb,
            seed: 2009,
            multiplicity: Adjustment::Holm,
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

/// Which date each child is indexed on (docs/evaluation.md "Index date").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexRule {
    /// One stack per pilot site, indexed on that pilot's go_live (the default).
    PerPilot,
    /// Every child on the earliest pilot go_live (v1.1's default).
    Earliest,
    /// Every child on the latest pilot go_live.
    Latest,
    /// Every child on this day.
    Date(i32),
}

impl IndexRule {
    /// The rule as the config writes it.
    pub fn name(self) -> String {
        match self {
            IndexRule::PerPilot => "per_pilot".into(),
            IndexRule::Earliest => "earliest".into(),
            IndexRule::Latest => "latest".into(),
            IndexRule::Date(d) => swp_data::date::format_date(d),
        }
    }

    /// The rule of `text` (`per_pilot`, `earliest`, `latest` or a date), None when it is none
    /// of these.
    pub fn parse(text: &str) -> Option<IndexRule> {
        match text {
            "per_pilot" => Some(IndexRule::PerPilot),
            "earliest" => Some(IndexRule::Earliest),
            "latest" => Some(IndexRule::Latest),
            _ => swp_data::date::parse_date(text).ok().map(IndexRule::Date),
        }
    }
}

impl std::fmt::Display for IndexRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// Checked cohort settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortSettings {
    /// The index rule.
    pub index: IndexRule,
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
    /// Multiplicity adjustment across the primary rows ([`Adjustment::None`]: none).
    pub multiplicity: Adjustment,
    /// Randomisation inference assignments.
    pub randomisation_assignments: usize,
}

/// The covariates' code groups (checked: each list non-empty, names distinct).
#[derive(Debug, Clone, PartialEq)]
pub struct CodeGroups {
    ethnic_group: Vec<CodeGroup>,
    legal_status: Vec<CodeGroup>,
    placement_type: Vec<CodeGroup>,
}

impl CodeGroups {
    /// Ethnic groups of the ETHNIC codes.
    pub fn ethnic_group(&self) -> &[CodeGroup] {
        &self.ethnic_group
    }

    /// Legal-status groups of the LS codes.
    pub fn legal_status(&self) -> &[CodeGroup] {
        &self.legal_status
    }

    /// Placement types of the PLACE codes.
    pub fn placement_type(&self) -> &[CodeGroup] {
        &self.placement_type
    }
}

/// A config checked once: dates parsed, choices resolved, every section checked. The only form
/// of the config the evaluation runs; its parts are read through the methods below.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidConfig {
    cohort: CohortSettings,
    covariates: Vec<String>,
    covariates_listed: bool,
    code_groups: CodeGroups,
    matching: MatchingSettings,
    outcomes: Vec<Outcome>,
    measures: Option<Vec<String>>,
    inference: InferenceSettings,
    threshold: u32,
    value_for_money: Option<ValueConfig>,
    power: Option<PowerConfig>,
    placebo_months: Option<u32>,
    site_control: SiteControl,
    estimation: EstimationSettings,
    specification_grid: Option<Vec<Config>>,
    /// The config as written, for the record of a run (`run.json`) only.
    written: Config,
}

impl ValidConfig {
    /// Cohort settings.
    pub fn cohort(&self) -> &CohortSettings {
        &self.cohort
    }

    /// Covariates in use (names of [`COVARIATES`]).
    pub fn covariates(&self) -> &[String] {
        &self.covariates
    }

    /// Whether the covariates were listed in the config (then a constant one is an error).
    pub fn covariates_listed(&self) -> bool {
        self.covariates_listed
    }

    /// The covariates' code groups.
    pub fn code_groups(&self) -> &CodeGroups {
        &self.code_groups
    }

    /// Matching settings.
    pub fn matching(&self) -> &MatchingSettings {
        &self.matching
    }

    /// Child-level outcomes in use, in docs/evaluation.md's order.
    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    /// Outcome measures (None: every measure in outcomes.csv).
    pub fn measures(&self) -> Option<&[String]> {
        self.measures.as_deref()
    }

    /// Inference settings.
    pub fn inference(&self) -> &InferenceSettings {
        &self.inference
    }

    /// Small-number suppression threshold.
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// The value-for-money settings, when the section is enabled.
    pub fn value_for_money(&self) -> Option<&ValueConfig> {
        self.value_for_money.as_ref()
    }

    /// The power simulation's settings, when enabled.
    pub fn power(&self) -> Option<&PowerConfig> {
        self.power.as_ref()
    }

    /// The comparison sites of the site-level staggered difference-in-differences.
    pub fn site_control(&self) -> SiteControl {
        self.site_control
    }

    /// How the effects are estimated (covariate adjustment).
    pub fn estimation(&self) -> EstimationSettings {
        self.estimation
    }

    /// Months the placebo moves every index date back, when the placebo is enabled.
    pub fn placebo_months(&self) -> Option<u32> {
        self.placebo_months
    }

    /// The specification curve's configs (every combination of its choices that MatchIt allows,
    /// in a fixed order), when enabled.
    pub fn specification_grid(&self) -> Option<&[Config]> {
        self.specification_grid.as_deref()
    }

    /// The config as it was written (for the record of a run).
    pub fn written(&self) -> &Config {
        &self.written
    }
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

    /// Checks every setting, section by section in the order of the file.
    ///
    /// # Errors
    /// [`EvaluationError::Config`] naming the key, the value and what is allowed.
    pub fn check(self) -> Result<ValidConfig, EvaluationError> {
        let cohort = check::cohort(&self.cohort)?;
        let (covariates, code_groups) = check::covariates(&self.covariates)?;
        let matching = check::matching(&self.matching, &covariates)?;
        let outcomes = check::outcomes(&self.outcomes)?;
        let inference = check::inference(&self.inference)?;
        let specification_grid = check::specification(&self)?;
        if self.value_for_money.enabled {
            self.value_for_money
                .check(&self.covariates.placement_type)
                .map_err(|(key, value, allowed)| bad(&key, value, &allowed))?;
        }
        check::power(&self.power)?;
        let placebo_months = match self.placebo.shift_months {
            Some(m) if !(1..=240).contains(&m) => return Err(bad("placebo.shift_months", m, "1 to 240 months")),
            m => self.placebo.enabled.then(|| m.unwrap_or(cohort.follow_up_months)),
        };
        let comparison = match (self.estimation.method.as_str(), self.estimation.weighting.as_str()) {
            ("matching", _) => Comparison::Matching,
            ("weighting", "ps") => Comparison::PsWeighting,
            ("weighting", "entropy") => Comparison::Entropy,
            ("weighting", other) => return Err(bad("estimation.weighting", other, "\"ps\" or \"entropy\"")),
            (other, _) => return Err(bad("estimation.method", other, "\"matching\" or \"weighting\"")),
        };
        let estimation = EstimationSettings {
            adjust: self.estimation.adjust,
            interactions: self.estimation.interactions,
            comparison,
        };
        if self.disclosure.threshold == 0 || self.disclosure.threshold > 100 {
            return Err(bad("disclosure.threshold", self.disclosure.threshold, "1 (no suppression) to 100"));
        }
        Ok(ValidConfig {
            cohort,
            covariates_listed: self.covariates.include.is_some(),
            covariates,
            code_groups,
            matching,
            outcomes,
            measures: self.outcomes.measures.clone(),
            inference,
            threshold: self.disclosure.threshold,
            value_for_money: self.value_for_money.enabled.then(|| self.value_for_money.clone()),
            power: self.power.enabled.then(|| self.power.clone()),
            placebo_months,
            site_control: self.site_level.control,
            estimation,
            specification_grid,
            written: self,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_evaluation_md() {
        let v = Config::default().check().unwrap();
        assert_eq!(v.cohort().index, IndexRule::PerPilot);
        assert_eq!((v.cohort().baseline_months, v.cohort().follow_up_months), (12, 24));
        assert_eq!(v.cohort().controls, Controls::Comparison);
        assert_eq!((v.cohort().min_months_in_care, v.cohort().min_age, v.cohort().max_age), (6, 0, 17));
        assert_eq!(v.covariates().len(), 9);
        assert_eq!(v.matching().method, Method::Nearest);
        assert_eq!(v.matching().distance, Distance::LinearLogit);
        assert_eq!(v.matching().caliper, Some(0.2));
        assert_eq!((v.matching().ratio, v.matching().replace), (1, false));
        assert_eq!(v.matching().exact, vec!["sex".to_string()]);
        assert_eq!(v.outcomes().len(), 5);
        assert_eq!(v.inference().bootstrap_reps, 9999);
        assert_eq!(v.inference().bootstrap_weights, BootWeights::Webb);
        assert_eq!(v.inference().multiplicity, Adjustment::Holm);
        assert_eq!(v.threshold(), 5);
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
            .matching()
            .caliper
            .is_none());
    }
}
