//! The evaluation's vocabularies, each declared once with the names docs/evaluation.md gives
//! them in configs and outputs (`as_str()` is the output text; serialisation uses it too).

use serde::{Serialize, Serializer};

swp_stats::choice! {
    /// An outcome of the evaluation (docs/evaluation.md "Outcomes"); the outcome measures of
    /// `outcomes.csv` are named by their data ([`RowOutcome::Measure`]).
    pub enum Outcome {
        /// Social-worker changes in the follow-up window.
        SwChanges = "sw_changes",
        /// Placement moves in the follow-up window.
        PlacementMoves = "placement_moves",
        /// Three or more placements in the window (0/1).
        ThreePlusPlacements = "three_plus_placements",
        /// Days to the first social-worker change.
        TimeToSwChange = "time_to_sw_change",
        /// Days to the first placement move.
        TimeToPlacementMove = "time_to_placement_move",
        /// The cost of a child's care per child-year looked after (value for money).
        CostPerChildYear = "cost_per_child_year",
    }
}

impl Outcome {
    /// The child-level outcomes a config can include, in docs/evaluation.md's order.
    pub const CHILD: [Outcome; 5] = [
        Outcome::SwChanges,
        Outcome::PlacementMoves,
        Outcome::ThreePlusPlacements,
        Outcome::TimeToSwChange,
        Outcome::TimeToPlacementMove,
    ];

    /// The kind of the outcome's rows.
    pub fn kind(self) -> Kind {
        match self {
            Outcome::SwChanges | Outcome::PlacementMoves => Kind::Count,
            Outcome::ThreePlusPlacements => Kind::Binary,
            Outcome::TimeToSwChange | Outcome::TimeToPlacementMove => Kind::TimeToEvent,
            Outcome::CostPerChildYear => Kind::Cost,
        }
    }

    /// The outcome's estimate types, the primary first (docs/evaluation.md "Outcomes").
    pub fn estimate_types(self) -> &'static [EstimateType] {
        match self.kind() {
            Kind::Count => &[EstimateType::RateRatio, EstimateType::RateDifference],
            Kind::Binary => &[EstimateType::RiskDifference, EstimateType::RiskRatio, EstimateType::OddsRatio],
            Kind::TimeToEvent => &[EstimateType::HazardRatio],
            Kind::Cost => &[EstimateType::MeanDifference],
            Kind::Measure => &[EstimateType::MeanDifference, EstimateType::HedgesG, EstimateType::Did],
        }
    }

    /// The primary estimate type.
    pub fn primary(self) -> EstimateType {
        self.estimate_types()[0]
    }

    /// Its name for people ("social-worker changes").
    pub fn label(self) -> &'static str {
        match self {
            Outcome::SwChanges => "social-worker changes",
            Outcome::PlacementMoves => "placement moves",
            Outcome::ThreePlusPlacements => "three or more placements",
            Outcome::TimeToSwChange => "time to a social-worker change",
            Outcome::TimeToPlacementMove => "time to a placement move",
            Outcome::CostPerChildYear => "cost per child-year",
        }
    }
}

/// What an effect row is about: an outcome of the evaluation or an outcome measure.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RowOutcome {
    /// An outcome of the evaluation.
    Outcome(Outcome),
    /// A measure of `outcomes.csv`, by its name there.
    Measure(String),
}

impl RowOutcome {
    /// The name written in outputs.
    pub fn as_str(&self) -> &str {
        match self {
            RowOutcome::Outcome(o) => o.as_str(),
            RowOutcome::Measure(m) => m,
        }
    }

    /// Its name for people: the outcome's label, or the measure's name with spaces for
    /// underscores.
    pub fn label(&self) -> String {
        match self {
            RowOutcome::Outcome(o) => o.label().to_string(),
            RowOutcome::Measure(m) => m.replace('_', " "),
        }
    }

    /// The outcome, when the row is not a measure's.
    pub fn outcome(&self) -> Option<Outcome> {
        match self {
            RowOutcome::Outcome(o) => Some(*o),
            RowOutcome::Measure(_) => None,
        }
    }
}

impl From<Outcome> for RowOutcome {
    fn from(o: Outcome) -> Self {
        RowOutcome::Outcome(o)
    }
}

impl PartialEq<Outcome> for RowOutcome {
    fn eq(&self, other: &Outcome) -> bool {
        self.outcome() == Some(*other)
    }
}

impl std::fmt::Display for RowOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RowOutcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

swp_stats::choice! {
    /// The kind of an outcome's rows.
    pub enum Kind {
        /// A count with exposure (rates).
        Count = "count",
        /// A 0/1 outcome (risks).
        Binary = "binary",
        /// A time to an event (hazards).
        TimeToEvent = "time_to_event",
        /// An outcome measure with a baseline and a follow-up wave.
        Measure = "measure",
        /// A cost per child-year.
        Cost = "cost",
    }
}

swp_stats::choice! {
    /// The kind of an estimate.
    pub enum EstimateType {
        /// Rate ratio (Poisson, log exposure offset).
        RateRatio = "rate_ratio",
        /// Rate difference (WLS of count / exposure).
        RateDifference = "rate_difference",
        /// Risk difference (linear probability model).
        RiskDifference = "risk_difference",
        /// Risk ratio (log link).
        RiskRatio = "risk_ratio",
        /// Odds ratio (logit).
        OddsRatio = "odds_ratio",
        /// Hazard ratio (Cox).
        HazardRatio = "hazard_ratio",
        /// Difference in means.
        MeanDifference = "mean_difference",
        /// Hedges' g.
        HedgesG = "hedges_g",
        /// Difference in differences of a measure's change.
        Did = "did",
    }
}

impl EstimateType {
    /// Whether the estimate is a ratio (no effect at 1, read on the log scale).
    pub fn is_ratio(self) -> bool {
        matches!(self, Self::RateRatio | Self::RiskRatio | Self::OddsRatio | Self::HazardRatio)
    }

    /// The value of no effect (1 for ratios, 0 for differences).
    pub fn null(self) -> f64 {
        if self.is_ratio() {
            1.0
        } else {
            0.0
        }
    }

    /// Its name for people ("rate ratio").
    pub fn label(self) -> &'static str {
        match self {
            Self::RateRatio => "rate ratio",
            Self::RateDifference => "rate difference",
            Self::RiskDifference => "risk difference",
            Self::RiskRatio => "risk ratio",
            Self::OddsRatio => "odds ratio",
            Self::HazardRatio => "hazard ratio",
            Self::MeanDifference => "mean difference",
            Self::HedgesG => "Hedges' g",
            Self::Did => "difference in differences",
        }
    }
}

swp_stats::choice! {
    /// How a row's standard error was computed.
    pub enum SeMethod {
        /// CR2 clustered on site, Bell-McCaffrey df (clubSandwich).
        Cr2 = "cr2",
        /// Cox's robust clustered error times sqrt(G / (G - 1)), t on G - 1 df.
        Cr1CoxRobust = "cr1_cox_robust",
        /// Hedges' g: the noncentral t interval.
        NoncentralT = "noncentral_t",
    }
}

swp_stats::choice! {
    /// Whom an effect is about (docs/evaluation.md "Estimation after matching, and weighting").
    pub enum Estimand {
        /// The average effect on the treated: every pilot child is in the estimate.
        Att = "ATT",
        /// The average effect on the matched treated: matching dropped pilot children (no
        /// control within the caliper, or no exact match), so the estimate is about those kept.
        Atm = "ATM",
        /// An adjusted hazard ratio: the effect on the treated conditional on the covariates
        /// (a Cox model's coefficient is not a marginal effect).
        ConditionalAtt = "conditional ATT",
        /// The same when matching dropped pilot children.
        ConditionalAtm = "conditional ATM",
    }
}

impl Estimand {
    /// The conditional form of this estimand (an adjusted hazard ratio's).
    pub fn conditional(self) -> Estimand {
        match self {
            Estimand::Att | Estimand::ConditionalAtt => Estimand::ConditionalAtt,
            Estimand::Atm | Estimand::ConditionalAtm => Estimand::ConditionalAtm,
        }
    }
}

swp_stats::choice! {
    /// A site's arm (sites.csv).
    pub enum Arm {
        /// A pilot authority (an SWP went live there).
        Pilot = "pilot",
        /// The host authority of a pilot (its other children).
        Host = "host",
        /// A comparison authority.
        Comparison = "comparison",
    }
}
