//! Every result type of an evaluation: what [`crate::Evaluation::run`] returns and
//! [`crate::publish`](fn@crate::publish) turns into [`crate::Published`], the form that is written.
//!
//! The row types serialise to the field names of docs/evaluation.md "Outputs"; the whole
//! [`EvaluationResults`] does not serialise (it holds the child-level cohort): only its
//! published form reaches a file.

use crate::vocab::{Arm, Estimand, EstimateType, Kind, Outcome, RowOutcome, SeMethod};
use serde::Serialize;

/// The design as run: what was compared, when, and how.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Design {
    /// The index rule: `per_pilot` (one stack per pilot), `earliest`, `latest` or a date.
    pub index: String,
    /// The stacks (one with a single index date), in go-live order, each with its windows.
    pub stacks: Vec<StackDesign>,
    /// Index date (the first stack's).
    pub index_date: String,
    /// Baseline window (the first stack's; so are the windows below).
    pub baseline_from: String,
    /// Baseline window end.
    pub baseline_to: String,
    /// Follow-up window start.
    pub follow_up_from: String,
    /// Follow-up window end (cut at the extract date).
    pub follow_up_to: String,
    /// Where the window would have ended.
    pub follow_up_planned_to: String,
    /// Days in the follow-up window (as cut).
    pub follow_up_days: f64,
    /// Each pilot site's go-live (site, ISO date).
    pub go_lives: Vec<(String, String)>,
    /// Extract date.
    pub extract_date: String,
    /// Pilot sites.
    pub treated_sites: Vec<String>,
    /// Control sites.
    pub control_sites: Vec<String>,
    /// The control arm (`comparison`, `host`, `comparison and host`).
    pub controls: String,
    /// Covariates used in the propensity model and balance.
    pub covariates: Vec<String>,
    /// Matching in words.
    pub matching: String,
    /// Whether the effect rows adjust for the covariates (`[estimation] adjust`).
    pub adjust: bool,
    /// With their interactions with treatment (`[estimation] interactions`).
    pub interactions: bool,
    /// Bootstrap replications.
    pub bootstrap_reps: usize,
    /// The wild bootstrap's weights.
    pub bootstrap_weights: swp_stats::bootstrap::BootWeights,
    /// The multiplicity adjustment across the primary rows.
    pub multiplicity: swp_stats::multiplicity::Adjustment,
    /// Primary rows the adjustment runs over (those with a p-value).
    pub primary_rows: usize,
    /// Seed.
    pub seed: u64,
    /// Dataset name (dataset.toml).
    pub dataset_name: Option<String>,
    /// Whether the dataset says it is synthetic (a `[synth]` section in dataset.toml).
    pub synthetic: bool,
}

impl Design {
    /// The index dates in words: "index date D, follow-up to E", or with stacks "each pilot
    /// indexed on its own go-live (first to last), follow-up to the latest end".
    pub fn index_text(&self) -> String {
        if self.stacks.len() > 1 {
            let first = self.stacks.first().map_or("", |s| s.index_date.as_str());
            let last = self.stacks.last().map_or("", |s| s.index_date.as_str());
            let end = self.stacks.iter().map(|s| s.follow_up_to.as_str()).max().unwrap_or("");
            format!("each pilot indexed on its own go-live ({first} to {last}), follow-up to {end}")
        } else {
            format!("index date {}, follow-up to {}", self.index_date, self.follow_up_to)
        }
    }

    /// The longest follow-up window of the stacks, in days.
    pub fn longest_follow_up_days(&self) -> f64 {
        self.stacks.iter().map(|s| s.follow_up_days).fold(self.follow_up_days, f64::max)
    }
}

impl Default for Design {
    /// An empty design under docs/evaluation.md's inference defaults (Webb weights, Holm).
    fn default() -> Self {
        Design {
            index: "per_pilot".into(),
            stacks: Vec::new(),
            index_date: String::new(),
            baseline_from: String::new(),
            baseline_to: String::new(),
            follow_up_from: String::new(),
            follow_up_to: String::new(),
            follow_up_planned_to: String::new(),
            follow_up_days: 0.0,
            go_lives: Vec::new(),
            extract_date: String::new(),
            treated_sites: Vec::new(),
            control_sites: Vec::new(),
            controls: String::new(),
            covariates: Vec::new(),
            matching: String::new(),
            adjust: true,
            interactions: true,
            bootstrap_reps: 0,
            bootstrap_weights: swp_stats::bootstrap::BootWeights::Webb,
            multiplicity: swp_stats::multiplicity::Adjustment::Holm,
            primary_rows: 0,
            seed: 0,
            dataset_name: None,
            synthetic: false,
        }
    }
}

/// A balance row, as `swp-eval match` writes it (docs/cli.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BalanceRow {
    /// Covariate (levels named as R).
    pub covariate: String,
    /// Treated mean before matching.
    pub mean_treated: f64,
    /// Treated mean after (weighted).
    pub mean_treated_after: f64,
    /// Control mean before.
    pub mean_control_before: f64,
    /// Control mean after (weighted).
    pub mean_control_after: f64,
    /// SMD before.
    pub smd_before: f64,
    /// SMD after.
    pub smd_after: f64,
    /// Variance ratio before (not for 0/1 covariates).
    pub var_ratio_before: Option<f64>,
    /// Variance ratio after.
    pub var_ratio_after: Option<f64>,
    /// Mean eCDF difference before.
    pub ecdf_mean_before: f64,
    /// Max eCDF difference before.
    pub ecdf_max_before: f64,
    /// Mean eCDF difference after.
    pub ecdf_mean_after: f64,
    /// Max eCDF difference after.
    pub ecdf_max_after: f64,
    /// |SMD after| > 0.1.
    pub imbalanced: bool,
}

/// Unit counts of the matching (None where suppressed).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BalanceCounts {
    /// Treated children.
    pub treated: Option<u64>,
    /// Control children.
    pub control: Option<u64>,
    /// Matched treated children.
    pub matched_treated: Option<u64>,
    /// Matched controls.
    pub matched_control: Option<u64>,
    /// Discarded.
    pub discarded: Option<u64>,
}

/// `balance.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Balance {
    /// Counts.
    pub n: BalanceCounts,
    /// One row per covariate column (the distance first when there is one).
    pub balance: Vec<BalanceRow>,
    /// With weighting in place of matching: the effective sample size of the treated arm,
    /// (sum w)^2 / sum w^2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ess_treated: Option<f64>,
    /// The same of the control arm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ess_control: Option<f64>,
}

impl Balance {
    /// Whether the comparison group was weighted in place of matched: the effective sample
    /// sizes are set exactly then (the one place the reports read it from).
    pub fn weighted(&self) -> bool {
        self.ess_treated.is_some()
    }

    /// The balance table of `swp_stats::balance` (MatchIt's `summary()`), before and after, as
    /// `balance.json` and `swp-eval match` write it; |SMD after| > 0.1 flagged.
    pub fn from_table(table: &swp_stats::balance::BalanceTable) -> Balance {
        let c = table.counts;
        let rows = table
            .before
            .iter()
            .zip(&table.after)
            .map(|(b, a)| BalanceRow {
                covariate: b.covariate.clone(),
                mean_treated: b.mean_treated,
                mean_treated_after: a.mean_treated,
                mean_control_before: b.mean_control,
                mean_control_after: a.mean_control,
                smd_before: b.smd,
                smd_after: a.smd,
                var_ratio_before: b.var_ratio,
                var_ratio_after: a.var_ratio,
                ecdf_mean_before: b.ecdf_mean,
                ecdf_max_before: b.ecdf_max,
                ecdf_mean_after: a.ecdf_mean,
                ecdf_max_after: a.ecdf_max,
                imbalanced: a.smd.abs() > 0.1,
            })
            .collect();
        let count = |n: usize| Some(n as u64);
        Balance {
            n: BalanceCounts {
                treated: count(c.treated),
                control: count(c.control),
                matched_treated: count(c.matched_treated),
                matched_control: count(c.matched_control),
                discarded: count(c.discarded),
            },
            balance: rows,
            ess_treated: None,
            ess_control: None,
        }
    }
}

/// Descriptive results of one pilot (one SWP model): its matched children against their
/// matched controls, and the site-level DiD of that pilot alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelRow {
    /// SWP model.
    pub model: String,
    /// Pilot site.
    pub site: String,
    /// Matched treated children.
    pub n_treated: Option<u64>,
    /// Their matched controls (distinct).
    pub n_control: Option<u64>,
    /// Social-worker changes per child-year, treated.
    pub sw_change_rate_treated: Option<f64>,
    /// The same for the matched controls (weighted).
    pub sw_change_rate_control: Option<f64>,
    /// Placement moves per child-year, treated.
    pub move_rate_treated: Option<f64>,
    /// The same, controls.
    pub move_rate_control: Option<f64>,
    /// Share with 3+ placements, treated.
    pub three_plus_treated: Option<f64>,
    /// The same, controls.
    pub three_plus_control: Option<f64>,
    /// This pilot's own estimate of each primary outcome (its stack alone, or its children and
    /// their matched controls with one index date) and its randomisation p-value: one treated
    /// site, so no cluster-robust error, interval or p (docs/evaluation.md "Inference with few
    /// pilot sites").
    pub estimates: Vec<PilotEstimate>,
    /// Assignments of the pilot's go-live to a site that the randomisation p-values rest on.
    pub ri_assignments: Option<usize>,
    /// The smallest randomisation p-value the design allows (1 / assignments).
    pub ri_min_p: Option<f64>,
    /// Whether a small count hid values.
    pub suppressed: bool,
}

/// One pilot's estimate of a primary outcome, with its randomisation p-value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PilotEstimate {
    /// The outcome.
    pub outcome: Outcome,
    /// Its primary estimate type.
    pub estimate_type: EstimateType,
    /// The estimate (ratios on their own scale).
    pub estimate: Option<f64>,
    /// Randomisation p-value on the estimate (log scale for ratios): the share of sites that,
    /// given the pilot's go-live, give an estimate at least as far from no effect.
    pub ri_p_value: Option<f64>,
}

/// Everything an evaluation produces. Not serialisable: [`crate::publish`](fn@crate::publish) suppresses small
/// numbers and returns [`crate::Published`], the only form the renderers and writers accept.
#[derive(Debug, Clone, Default)]
pub struct EvaluationResults {
    /// The design as run.
    pub design: Design,
    /// `sample_flow.json`.
    pub sample_flow: Vec<FlowRow>,
    /// `balance.json`.
    pub balance: Balance,
    /// `effects.json`.
    pub effects: Vec<EffectRow>,
    /// Kaplan-Meier curves and tests of the time-to-event outcomes.
    pub survival: Vec<SurvivalResult>,
    /// `site_did.json`: every metric, all pilots, then each pilot alone.
    pub site_did: Vec<SiteDidRow>,
    /// The site x year panel behind it.
    pub site_panel: Vec<PanelRow>,
    /// Results by SWP model.
    pub by_model: Vec<ModelRow>,
    /// Sensitivity of the primary outcomes to hidden bias (E-values, Rosenbaum bounds).
    pub sensitivity: Vec<SensitivityRow>,
    /// Missing values per covariate and arm.
    pub missing: Vec<MissingRow>,
    /// The specification curve (when `[specification_curve] enabled = true`).
    pub specification_curve: Option<SpecificationCurve>,
    /// Power and minimum detectable effects (when `[power] enabled = true`).
    pub power: Option<PowerResult>,
    /// Value for money (when `[value_for_money] enabled = true`).
    pub value_for_money: Option<ValueForMoney>,
    /// Monthly caseload and turnover per site of either arm (trend figures).
    pub monthly: Vec<MonthlyRow>,
    /// Caseloads of case-holding workers by arm at the end of the follow-up window.
    pub caseload_distribution: CaseloadDistribution,
    /// Placement moves and social-worker changes per child-year by arm and financial year.
    pub arm_years: Vec<ArmYearRow>,
    /// The placebo in time (when `[placebo] enabled = true` and the data support it).
    pub placebo: Option<Placebo>,
    /// Warnings (follow-up cut, covariates dropped, few clusters, suppression).
    pub warnings: Vec<String>,
    /// The matched child-level cohort (ids inside): [`crate::publish`](fn@crate::publish) leaves it out, so it is
    /// written only where a caller takes it first (`report --cohort-out`).
    pub cohort: CohortTable,
}

/// The child-level cohort with its match weights, for `--cohort-out` (contains child ids).
#[derive(Debug, Clone, Default)]
pub struct CohortTable {
    /// Column names.
    pub columns: Vec<String>,
    /// Text columns first (child_id, site_id), then numbers; one entry per child.
    pub text: Vec<Vec<String>>,
    /// Numeric columns.
    pub numbers: Vec<Vec<Option<f64>>>,
}

/// The cohort and its matching without effects (`swp-eval match DIR --config FILE`).
#[derive(Debug, Clone)]
pub struct MatchedCohort {
    /// Sample flow.
    pub sample_flow: Vec<FlowRow>,
    /// Balance before and after matching.
    pub balance: Balance,
    /// Warnings.
    pub warnings: Vec<String>,
    /// The child-level cohort with match weights (child ids inside).
    pub cohort: CohortTable,
}

/// The placebo in time (docs/evaluation.md "Placebo in time"): the child-level analysis with
/// every index date moved back, `placebo.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Placebo {
    /// Months every index date moved back.
    pub shift_months: u32,
    /// The placebo's stacks and their windows.
    pub stacks: Vec<StackDesign>,
    /// Its primary rows (the fields of `effects.json`).
    pub effects: Vec<EffectRow>,
    /// Outcomes whose placebo effect is significant at 5% after the config's multiplicity
    /// adjustment (Holm over the randomisation p-values by default; the unadjusted randomisation,
    /// else CR2 or Cox robust, p-value without one): differences that predate the pilots.
    pub significant: Vec<Outcome>,
}

/// One stack of the design (docs/evaluation.md "Staggered go-lives") and its windows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StackDesign {
    /// The pilot's site id (None: one index date for every pilot).
    pub stack: Option<String>,
    /// Index date.
    pub index_date: String,
    /// Baseline window start.
    pub baseline_from: String,
    /// Baseline window end.
    pub baseline_to: String,
    /// Follow-up window start.
    pub follow_up_from: String,
    /// Follow-up window end (cut at the extract date).
    pub follow_up_to: String,
    /// Days in the follow-up window (as cut).
    pub follow_up_days: f64,
}

/// One row of the sample flow.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlowRow {
    /// The stack (the pilot's site id; None in the pooled rows and with one index date).
    pub stack: Option<String>,
    /// Step 0 to 4.
    pub step: usize,
    /// The rule, in words.
    pub rule: String,
    /// `treated` or `control`.
    pub arm: String,
    /// Children the rule removed (None on step 0).
    pub removed: Option<u64>,
    /// Children still in after it (None when suppressed).
    pub remaining: Option<u64>,
}

/// One estimate row of `effects.json` (docs/evaluation.md "Outputs", plus the standard error, its
/// degrees of freedom and the subclass-clustered secondary column).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectRow {
    /// The outcome (or outcome measure) of the row.
    pub outcome: RowOutcome,
    /// The outcome's kind.
    pub kind: Kind,
    /// The kind of estimate.
    pub estimate_type: EstimateType,
    /// Whom the estimate is about: ATT, or ATM when matching dropped pilot children (conditional
    /// for an adjusted hazard ratio).
    pub estimand: Estimand,
    /// Whether the row's model adjusts for the baseline covariates (`[estimation] adjust`).
    pub adjusted: bool,
    /// The estimate (ratios on their own scale).
    pub estimate: Option<f64>,
    /// Lower 95% limit.
    pub ci_low: Option<f64>,
    /// Upper 95% limit.
    pub ci_high: Option<f64>,
    /// Two-sided p-value (t with the row's df).
    pub p_value: Option<f64>,
    /// Holm-adjusted p-value (primary rows only).
    pub p_holm: Option<f64>,
    /// Wild cluster bootstrap p-value of the outcome's linear row (null imposed).
    pub wild_p_value: Option<f64>,
    /// Linear rows: the 95% wild cluster bootstrap interval, by inverting the null-imposed test.
    pub wild_ci_low: Option<f64>,
    /// Its upper limit.
    pub wild_ci_high: Option<f64>,
    /// Randomisation inference (primary rows): the share of reassignments of the pilot label to
    /// sites whose |t| is at least the observed |t| (docs/evaluation.md "Inference with few
    /// pilot sites").
    pub ri_p_value: Option<f64>,
    /// Assignments the randomisation p-value rests on.
    pub ri_assignments: Option<usize>,
    /// Whether every assignment was enumerated (else drawn with the seed).
    pub ri_exact: Option<bool>,
    /// The smallest randomisation p-value the design can give (1 / assignments).
    pub ri_min_p: Option<f64>,
    /// How the standard error was computed.
    pub se_method: SeMethod,
    /// Matched treated children in the row.
    pub n_treated: Option<u64>,
    /// Matched control children in the row.
    pub n_control: Option<u64>,
    /// Sites in the row's sample.
    pub n_clusters: usize,
    /// Whether this is the outcome's primary row.
    pub primary: bool,
    /// Standard error (of the log for ratios).
    pub se: Option<f64>,
    /// Degrees of freedom of the t reference.
    pub df: Option<f64>,
    /// Secondary: standard error clustered on the matching subclass (ignores site clustering).
    pub se_subclass: Option<f64>,
    /// Secondary: lower limit (normal).
    pub ci_low_subclass: Option<f64>,
    /// Secondary: upper limit (normal).
    pub ci_high_subclass: Option<f64>,
    /// Secondary: p-value (normal).
    pub p_value_subclass: Option<f64>,
    /// Weighted mean (rate per child-year, risk, or mean) in the treated group.
    pub mean_treated: Option<f64>,
    /// The same in the control group.
    pub mean_control: Option<f64>,
    /// Time-to-event rows: the Kaplan-Meier median time to the event (days), treated (None
    /// when the curve does not reach 0.5).
    pub median_treated: Option<f64>,
    /// The same among the controls (weighted).
    pub median_control: Option<f64>,
    /// Events (count outcomes: the total count; binary: children with the outcome;
    /// time to event: events) among treated children, unweighted.
    pub events_treated: Option<f64>,
    /// The same among controls.
    pub events_control: Option<f64>,
    /// Whether a count in this row was suppressed (small numbers).
    pub suppressed: bool,
}

impl EffectRow {
    /// A secondary row of `outcome`'s `estimate_type` with no numbers and no counts yet, its
    /// standard error CR2.
    pub fn new(outcome: impl Into<RowOutcome>, estimate_type: EstimateType) -> Self {
        let outcome = outcome.into();
        EffectRow {
            kind: outcome.outcome().map_or(Kind::Measure, Outcome::kind),
            outcome,
            estimate_type,
            estimand: Estimand::Att,
            adjusted: false,
            estimate: None,
            ci_low: None,
            ci_high: None,
            p_value: None,
            p_holm: None,
            wild_p_value: None,
            wild_ci_low: None,
            wild_ci_high: None,
            ri_p_value: None,
            ri_assignments: None,
            ri_exact: None,
            ri_min_p: None,
            se_method: SeMethod::Cr2,
            n_treated: None,
            n_control: None,
            n_clusters: 0,
            primary: false,
            se: None,
            df: None,
            se_subclass: None,
            ci_low_subclass: None,
            ci_high_subclass: None,
            p_value_subclass: None,
            mean_treated: None,
            mean_control: None,
            median_treated: None,
            median_control: None,
            events_treated: None,
            events_control: None,
            suppressed: false,
        }
    }
}

/// Kaplan-Meier curves by arm and the test of their difference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurvivalResult {
    /// Outcome name.
    pub outcome: Outcome,
    /// Treated children's curve.
    pub treated: Curve,
    /// Controls' curve.
    pub control: Curve,
    /// `log_rank` (all weights 1) or `robust_score` (weighted Cox, clustered on site).
    pub test: &'static str,
    /// Chi-square statistic, 1 df.
    pub chi_square: Option<f64>,
    /// Its p-value.
    pub p_value: Option<f64>,
}

/// One Kaplan-Meier curve (steps at the event times), with the numbers at risk at fixed times.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Curve {
    /// Days since the index date (event and censoring times).
    pub time: Vec<f64>,
    /// Survival after each time.
    pub survival: Vec<f64>,
    /// Lower 95% limit (log interval).
    pub lower: Vec<Option<f64>>,
    /// Upper 95% limit.
    pub upper: Vec<Option<f64>>,
    /// Median time (R survival's rule), None if not reached.
    pub median: Option<f64>,
    /// Times of the at-risk table (every 6 months of the window).
    pub at_risk_times: Vec<f64>,
    /// Children (weighted) at risk just before each of those times (None: suppressed).
    pub at_risk: Vec<Option<f64>>,
}

/// A site's value of a metric in a financial year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelRow {
    /// Site id.
    pub site: String,
    /// The site's arm.
    pub arm: Arm,
    /// SWP model (`none` unless a pilot).
    pub model: String,
    /// Financial year, e.g. `2009-10`.
    pub year: String,
    /// Metric.
    pub metric: String,
    /// Value (None: undefined or suppressed).
    pub value: Option<f64>,
    /// Numerator.
    pub numerator: Option<f64>,
    /// Denominator.
    pub denominator: Option<f64>,
    /// Share of the year on or after the site's go-live (pilots), else 0.
    pub treated_share: f64,
    /// Whether a small count hid the value.
    pub suppressed: bool,
}

/// One metric's site-level difference-in-differences (`site_did.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SiteDidRow {
    /// Metric.
    pub metric: String,
    /// Which pilots: `all` or one SWP model.
    pub pilots: String,
    /// `cs` (Callaway and Sant'Anna) or `twfe` (site and year fixed effects, for comparison).
    pub estimator: String,
    /// `att_gt`, `simple`, `dynamic`, `group`, `calendar` (cs), `simple` (twfe's one
    /// coefficient) or `pretrend` (the joint Wald test: the statistic in `estimate`, its
    /// degrees of freedom in `df`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The group (the financial year of first treatment), where the row has one.
    pub group: Option<String>,
    /// The financial year, where the row has one.
    pub time: Option<String>,
    /// Event time in years (time - group), on dynamic rows.
    pub event: Option<i64>,
    /// Years before a group's first year counted as partly treated (1 when a pilot went live
    /// inside a financial year: that year is e = -1 and enters no pooled estimate); cs rows.
    pub anticipation: Option<i64>,
    /// The estimate: ATT (cs) or the fixed-effects coefficient, a whole year under the pilot
    /// (twfe).
    pub estimate: Option<f64>,
    /// Standard error: the influence function's clustered on site (cs), CR2 (twfe).
    pub se: Option<f64>,
    /// Bell-McCaffrey degrees of freedom (twfe), or the pre-trend test's.
    pub df: Option<f64>,
    /// Lower 95% limit.
    pub ci_low: Option<f64>,
    /// Upper 95% limit.
    pub ci_high: Option<f64>,
    /// CR2 p-value.
    pub p_value: Option<f64>,
    /// Wild cluster bootstrap p-value (WCR, null imposed).
    pub wild_p_value: Option<f64>,
    /// Randomisation inference p-value (on the t statistic).
    pub ri_p_value: Option<f64>,
    /// Assignments used by randomisation inference.
    pub ri_assignments: Option<usize>,
    /// Whether every assignment was used (exact).
    pub ri_exact: Option<bool>,
    /// The smallest randomisation p-value the design can give (1 / assignments).
    pub ri_min_p: Option<f64>,
    /// The randomisation interval (cs simple rows of all pilots): every effect the
    /// randomisation test does not reject at 5% once it is taken out of the pilots' values.
    pub ri_ci_low: Option<f64>,
    /// Its upper end.
    pub ri_ci_high: Option<f64>,
    /// Sites in the panel.
    pub n_sites: usize,
    /// Pilot sites in the panel.
    pub n_pilot_sites: usize,
    /// Site-years in the panel.
    pub n_site_years: usize,
}

/// One site's month.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MonthlyRow {
    /// Site id.
    pub site: String,
    /// `pilot`, `host` or `comparison`.
    pub arm: String,
    /// Month, `YYYY-MM`.
    pub month: String,
    /// Mean caseload of the case holders at the month's end.
    pub caseload: Option<f64>,
    /// Case holders at the month's end.
    pub case_holders: Option<u64>,
    /// FTE of own staff leaving in the month over FTE in post (the month's turnover).
    pub leavers: Option<f64>,
    /// FTE of own staff leaving in the 12 months to the month's end over FTE in post at its
    /// end (a rolling annual turnover; None in the first 11 months of the series).
    pub turnover_12m: Option<f64>,
    /// Whether a small count hid the caseload.
    pub suppressed: bool,
}

/// A bar of the caseload distribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CaseloadBin {
    /// `pilot` or `control`.
    pub arm: String,
    /// Label, e.g. `11-15`.
    pub bin: String,
    /// Case-holding workers in the bin (None: suppressed).
    pub workers: Option<u64>,
    /// Share of the arm's case holders.
    pub share: Option<f64>,
}

/// The caseload distribution on one day.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CaseloadDistribution {
    /// The day (ISO).
    pub date: String,
    /// Bars, pilot arm first.
    pub bins: Vec<CaseloadBin>,
}

/// An arm's value of a child-level metric in a financial year.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ArmYearRow {
    /// `pilot` or `control`.
    pub arm: String,
    /// Financial year `2009-10`.
    pub year: String,
    /// Metric (`placement_moves_per_child_year`, `sw_changes_per_child_year`).
    pub metric: String,
    /// Value.
    pub value: Option<f64>,
    /// Child-years behind it.
    pub child_years: Option<f64>,
}

/// Missing values of one covariate in one arm (`missing_values.json`): rows of the cohort
/// (a child in several stacks counts in each) and of the matched sample whose value is not
/// recorded. A missing value is a level of its own in the models (docs/evaluation.md
/// "Missing values"), never a guessed value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingRow {
    /// The covariate (its name in the config).
    pub covariate: String,
    /// `treated` or `control`.
    pub arm: String,
    /// Rows of the arm in the cohort.
    pub children: Option<u64>,
    /// Of them, rows with the value not recorded.
    pub missing: Option<u64>,
    /// Rows of the arm in the matched sample (weight above 0).
    pub matched: Option<u64>,
    /// Of them, rows with the value not recorded.
    pub missing_matched: Option<u64>,
    /// Whether a count was suppressed (small numbers).
    pub suppressed: bool,
}

/// Sensitivity of one primary outcome to hidden bias (`sensitivity.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensitivityRow {
    /// Outcome.
    pub outcome: Outcome,
    /// The ratio the E-value is of (`rate_ratio`, `risk_ratio`, `hazard_ratio`).
    pub ratio_type: EstimateType,
    /// The ratio.
    pub ratio: Option<f64>,
    /// Its E-value: the risk-ratio strength of association with both treatment and outcome an
    /// unmeasured confounder would need to explain the estimate away.
    pub e_value: Option<f64>,
    /// E-value of the confidence limit nearer 1 (1: the interval already includes no effect).
    pub e_value_ci: Option<f64>,
    /// Whether the outcome was taken as rare (< 15%) in converting the ratio to a risk ratio.
    pub rare_outcome: Option<bool>,
    /// Rosenbaum bound: `wilcoxon_signed_rank` (rates per child-year) or `mcnemar` (binary);
    /// None where not available (time to event, or a design without 1:1 pairs).
    pub rosenbaum_test: Option<&'static str>,
    /// Matched pairs used.
    pub pairs: Option<u64>,
    /// One-sided p-value without hidden bias (Gamma = 1), in the direction of the estimate.
    pub p_gamma_1: Option<f64>,
    /// The p-value of the report's own test of the outcome (its primary row's multiplicity-
    /// adjusted p: Holm over the randomisation p-values by default).
    pub reported_p_value: Option<f64>,
    /// The largest Gamma (odds of treatment within a pair) at which the pair test stays
    /// significant at 5%; given only where the report's own test rejects at 5% (a bound on an
    /// effect the report does not claim would mislead), None otherwise or when the pair test is
    /// not significant at Gamma = 1.
    pub gamma: Option<f64>,
    /// The same bound at the level of the sites (Rosenbaum's model on which sites became
    /// pilots; Hansen, Rosenbaum and Small 2014): the largest Gamma, the odds of becoming a
    /// pilot by which two sites may differ through something unmeasured, at which the primary
    /// row's randomisation test still rejects at its level under Holm (5% over the row's Holm
    /// multiplier, its `p_holm` over its `ri_p_value`). It respects the clustering, which the
    /// pair-level Gamma ignores. Given where the report's own test rejects and the assignments
    /// were enumerated; capped at 100.
    pub site_gamma: Option<f64>,
}

/// One specification's primary estimate of one outcome (`specification_curve.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpecRow {
    /// Specification number (grid order).
    pub spec: usize,
    /// The index rule (`per_pilot`, `earliest`, `latest` or a date).
    pub index: String,
    /// Caliper (None: no caliper).
    pub caliper: Option<f64>,
    /// Controls per treated child.
    pub ratio: usize,
    /// With replacement.
    pub replace: bool,
    /// Distance.
    pub distance: swp_stats::matching::Distance,
    /// Control arm.
    pub controls: String,
    /// Follow-up months.
    pub follow_up_months: u32,
    /// Minimum months in care.
    pub min_months_in_care: u32,
    /// Estimation after matching: `matching` or `matching_adjusted`.
    pub estimation: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Primary estimate type.
    pub estimate_type: EstimateType,
    /// Estimate.
    pub estimate: Option<f64>,
    /// Lower 95% limit.
    pub ci_low: Option<f64>,
    /// Upper 95% limit.
    pub ci_high: Option<f64>,
    /// CR2 p-value.
    pub p_value: Option<f64>,
    /// Why the specification gave no estimate.
    pub error: Option<String>,
}

/// The share of specifications with a significant effect in each direction, per outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpecSummary {
    /// Outcome.
    pub outcome: Outcome,
    /// Primary estimate type.
    pub estimate_type: EstimateType,
    /// Specifications run.
    pub specifications: usize,
    /// Specifications that gave an estimate.
    pub estimated: usize,
    /// Median estimate.
    pub median_estimate: Option<f64>,
    /// Share (of those estimated) significant at 5% with fewer events among pilot children.
    pub share_significant_lower: Option<f64>,
    /// Share significant at 5% with more events among pilot children.
    pub share_significant_higher: Option<f64>,
}

/// The specification curve.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpecificationCurve {
    /// One row per specification and primary outcome.
    pub rows: Vec<SpecRow>,
    /// Per outcome.
    pub summary: Vec<SpecSummary>,
}

/// The power of one test at one planted effect and number of pilot sites (`power.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerRow {
    /// Outcome.
    pub outcome: Outcome,
    /// Test: `randomisation` (over the placebo assignments).
    pub test: &'static str,
    /// The planted effect measure: `rate_ratio`, `risk_ratio` or `hazard_ratio`.
    pub effect_type: EstimateType,
    /// Pilot sites simulated.
    pub pilot_sites: usize,
    /// Control sites in each simulated evaluation (the sites not made pilots).
    pub control_sites: usize,
    /// Planted ratio (1: no effect, the size of the test).
    pub ratio: f64,
    /// Share of simulations rejecting at alpha.
    pub power: Option<f64>,
    /// Its Monte Carlo standard error, sqrt(p (1 - p) / simulations), when the assignments were
    /// drawn (None when every one was enumerated: the power is then exact for these data).
    pub mc_se: Option<f64>,
    /// Simulated evaluations (placebo assignments) that gave a test.
    pub simulations: usize,
    /// Assignments that gave none (no match, no events in an arm).
    pub failed: usize,
}

/// The smallest planted effect detected with the target power.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinimumDetectable {
    /// Outcome.
    pub outcome: Outcome,
    /// The ratio's measure.
    pub effect_type: EstimateType,
    /// Pilot sites simulated.
    pub pilot_sites: usize,
    /// Placebo assignments simulated (and the randomisation test's reference set).
    pub assignments: usize,
    /// Every assignment of this many pilot sites enumerated (else drawn with the seed).
    pub exact: bool,
    /// The ratio at which power reaches the target (None: not within the grid).
    pub ratio: Option<f64>,
    /// The test's rejection rate with no effect planted (its size).
    pub size: Option<f64>,
}

/// The power simulation's results (`power.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PowerResult {
    /// How the simulated evaluations were built (for the report).
    pub method: String,
    /// The most placebo assignments per number of pilot sites (all when fewer).
    pub simulations: usize,
    /// Significance level.
    pub alpha: f64,
    /// Target power of the minimum detectable effect.
    pub target: f64,
    /// Seed of the simulation (the config's inference seed).
    pub seed: u64,
    /// Pilot sites in the evaluation.
    pub observed_pilot_sites: usize,
    /// Sites the placebo assignments are drawn from.
    pub source_sites: usize,
    /// With the placebo in time's sites: how far the index dates were moved back (None: the
    /// control sites at the evaluation's own dates).
    pub shift_months: Option<u32>,
    /// One row per outcome, number of pilot sites and ratio.
    pub rows: Vec<PowerRow>,
    /// One row per outcome and number of pilot sites.
    pub minimum_detectable: Vec<MinimumDetectable>,
    /// Why the simulation could not run, if it could not.
    pub warnings: Vec<String>,
}

/// The incremental cost-effectiveness of one outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Icer {
    /// `placement_moves` or `sw_changes`.
    pub outcome: &'static str,
    /// Incremental cost per child-year (pilot minus control, pounds).
    pub delta_cost: f64,
    /// 95% percentile interval of it.
    pub delta_cost_ci: [f64; 2],
    /// Events avoided per child-year (control minus pilot rate).
    pub events_avoided: f64,
    /// 95% percentile interval of it.
    pub events_avoided_ci: [f64; 2],
    /// Cost per event avoided (None when no event is avoided).
    pub icer: Option<f64>,
    /// Its 95% percentile interval, when every replicate avoids events.
    pub icer_ci: Option<[f64; 2]>,
    /// Shares of replicates: more effective and cheaper, more effective and dearer, less
    /// effective and cheaper, less effective and dearer.
    pub quadrants: Quadrants,
}

/// Shares of bootstrap replicates in each quadrant of the cost-effectiveness plane.
#[derive(Debug, Clone, Default, Copy, PartialEq, Serialize)]
pub struct Quadrants {
    /// Events avoided and cost saved (dominant).
    pub effective_cheaper: f64,
    /// Events avoided at a cost.
    pub effective_dearer: f64,
    /// No event avoided, cost saved.
    pub less_effective_cheaper: f64,
    /// No event avoided, at a cost (dominated).
    pub less_effective_dearer: f64,
}

/// One point of the acceptability curve.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CeacPoint {
    /// Willingness to pay per event avoided (pounds).
    pub willingness_to_pay: f64,
    /// Probability the pilot is cost-effective, per placement move avoided.
    pub placement_moves: f64,
    /// Per social-worker change avoided.
    pub sw_changes: f64,
}

/// Site spending per child-year by arm and financial year (docs/metrics.md `cost_per_child_year`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpendingRow {
    /// Arm.
    pub arm: String,
    /// Financial year (`2009-10`).
    pub financial_year: String,
    /// Spending over child-years, sites with a costs row.
    pub cost_per_child_year: Option<f64>,
    /// Sites with a costs row.
    pub sites: usize,
}

/// One pilot's matched children against their matched controls.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelCost {
    /// SWP model.
    pub model: String,
    /// Pilot site.
    pub site: String,
    /// Pooled cost per child-year of the pilot's matched children.
    pub cost_treated: Option<f64>,
    /// Of their matched controls (weighted by use).
    pub cost_control: Option<f64>,
    /// Site spending per child-year of the pilot over the follow-up years with a costs row.
    pub site_spending_per_child_year: Option<f64>,
    /// Matched children of the pilot (None where suppressed).
    pub n_treated: Option<u64>,
    /// Their matched controls (None where suppressed).
    pub n_control: Option<u64>,
}

/// One payment-on-outcomes threshold in one year.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PaymentRow {
    /// Pilot site.
    pub site: String,
    /// Financial year.
    pub financial_year: String,
    /// The indicator.
    pub indicator: String,
    /// Its value that year.
    pub value: Option<f64>,
    /// `at most X` or `at least X`.
    pub threshold: String,
    /// Whether it was met (None when the indicator has no value).
    pub met: Option<bool>,
    /// The payment share triggered (0 when not met; None when the value is suppressed, since
    /// the share would say whether it was met).
    pub share: Option<f64>,
    /// The indicator's numerator and denominator (for small-number suppression; not written).
    #[serde(skip)]
    pub parts: (Option<f64>, Option<f64>),
}

/// `value_for_money.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ValueForMoney {
    /// The unit costs used.
    pub unit_costs: crate::config::value::ValueConfig,
    /// Mean cost per child-year of each component, pilot and control (pooled, matched).
    pub components: Vec<ComponentRow>,
    /// Incremental cost-effectiveness per placement move and per social-worker change avoided.
    pub icers: Vec<Icer>,
    /// The acceptability curves.
    pub ceac: Vec<CeacPoint>,
    /// Bootstrap replicates: (incremental cost, moves avoided, changes avoided) per child-year.
    pub replicates: Vec<[f64; 3]>,
    /// Pilot and control sites the bootstrap draws from, and the distinct multisets of pilot
    /// sites it can draw.
    pub bootstrap: BootstrapInfo,
    /// Site spending per child-year by arm and year (when the dataset has costs).
    pub spending: Vec<SpendingRow>,
    /// By SWP model.
    pub by_model: Vec<ModelCost>,
    /// Payment on outcomes, per pilot, year and threshold.
    pub payments: Vec<PaymentRow>,
    /// What to read with care.
    pub warnings: Vec<String>,
}

/// A cost component by arm.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ComponentRow {
    /// `placements`, `social_work`, `changes`, `site_running` (with a costs table), `total`.
    pub component: &'static str,
    /// Pilot, per child-year.
    pub treated: Option<f64>,
    /// Control, per child-year.
    pub control: Option<f64>,
    /// Whether the component is part of `total` (social-worker time and changes are not when
    /// the sites' running costs, which hold them, come from the costs table).
    pub in_total: bool,
}

/// The bootstrap's design.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BootstrapInfo {
    /// Replicates.
    pub reps: usize,
    /// Seed.
    pub seed: u64,
    /// Pilot sites in the matched sample.
    pub pilot_sites: usize,
    /// Control sites in the matched sample.
    pub control_sites: usize,
    /// Distinct multisets of pilot sites a replicate can draw: C(2g - 1, g).
    pub distinct_pilot_draws: f64,
}
