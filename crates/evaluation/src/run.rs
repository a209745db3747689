//! The whole evaluation: the pipeline's stages, then what is built on their products (value for
//! money, sensitivity to hidden bias, the descriptive series, the specification curve and the
//! power simulation), assembled into [`EvaluationResults`].

use crate::descriptive;
use crate::error::Result;
use crate::pipeline::{design, effects, site, Detail, Evaluation, Progress, Silent, Stage};
use crate::placebo;
use crate::power;
use crate::randomisation;
use crate::results::EvaluationResults;
use crate::sensitivity;
use crate::specification;
use crate::value;
use swp_data::Dataset;
use swp_stats::matching::Method;

impl Evaluation {
    /// Runs the evaluation on a validated dataset.
    ///
    /// # Errors
    /// No pilot go-live (for the default index date), an index date outside the data, an arm
    /// with no eligible child, a listed covariate constant in the cohort, no match, and model
    /// failures, each naming the cause.
    pub fn run(&self, dataset: &Dataset) -> Result<EvaluationResults> {
        self.run_with_progress(dataset, &Silent)
    }

    /// [`Evaluation::run`], telling `progress` as each stage starts and as the long stages'
    /// work finishes.
    ///
    /// # Errors
    /// As [`Evaluation::run`].
    pub fn run_with_progress(&self, dataset: &Dataset, progress: &dyn Progress) -> Result<EvaluationResults> {
        let config = self.config();
        progress.stage(Stage::Index);
        let index = Self::index(dataset);
        let prepared = self.prepare(dataset, &index, Detail::Full, progress)?;
        let (stage, matching) = (&prepared.stage, &prepared.matching);
        let mut warnings = stage.warnings.clone();
        progress.stage(Stage::Effects);
        let mut outcomes =
            effects::child_outcomes(config, &stage.cohort, matching, stage.window_days(), Detail::Full, &mut warnings);
        effects::measure_effects(config, dataset, &stage.cohort, &mut outcomes, &mut warnings);
        let value_for_money = value::stage(config, dataset, &index, &prepared, &mut outcomes, &mut warnings);
        progress.stage(Stage::Randomisation);
        let shared = randomisation::Shared::new(config, dataset, &index, stage);
        let randomised = randomisation::primary_rows(config, &shared, &mut outcomes.effects)?;
        let failed = randomised.failed;
        if failed > 0 {
            warnings.push(format!(
                "randomisation inference: {failed} assignment(s) of the pilot label could not be estimated (a stack with no child of an arm, or no match) and are left out"
            ));
        }
        effects::adjust_primary(config, &mut outcomes.effects);
        let estimand = effects::estimand(&stage.cohort, matching);
        for e in &mut outcomes.effects {
            e.estimand = if e.adjusted && e.estimate_type == crate::vocab::EstimateType::HazardRatio {
                estimand.conditional()
            } else {
                estimand
            };
        }
        let m = &config.matching();
        let pairs_design = m.method == Method::Nearest && m.ratio == 1 && !m.replace;
        let sensitivity =
            sensitivity::sensitivity(&stage.cohort, matching, &outcomes.effects, pairs_design, &randomised.site_bounds);
        let missing = design::missing_values(config.covariates(), &stage.cohort, matching);

        progress.stage(Stage::SiteLevel);
        let span = stage.span();
        let (site_did, site_panel, periods) =
            site::site_level(config, dataset, &index, &stage.sites, span.from, stage.extract_date())?;
        let arm_of_site = &stage.arm_of_site;
        let monthly = descriptive::monthly(&index, &stage.sites, arm_of_site, span);
        let caseload_distribution = descriptive::caseload_distribution(&index, arm_of_site, span.to);
        let arm_years = descriptive::arm_years(&index, arm_of_site, &periods);
        let mut by_model = design::by_model(&stage.cohort, matching, &stage.sites, &index.groups)?;
        randomisation::by_pilot(config, &shared, &index, stage, &mut by_model);
        let specification_curve = config.specification_grid().map(|grid| {
            progress.stage(Stage::SpecificationCurve);
            specification::specification_curve_with(grid, dataset, progress)
        });
        // the placebo in time's cohorts serve the placebo and the power simulation's sites
        let shift = config.placebo_months().unwrap_or(config.cohort().follow_up_months);
        let moved = if config.placebo_months().is_some() || config.power().is_some() {
            progress.stage(Stage::Placebo);
            placebo::moved_stage(self, dataset, &index, shift)?.map(|stage| {
                let shared = randomisation::Shared::new(config, dataset, &index, &stage);
                (stage, shared)
            })
        } else {
            Err(String::new())
        };
        let placebo = match (config.placebo_months(), &moved) {
            (None, _) => None,
            (Some(_), Err(why)) => {
                warnings.push(format!("placebo in time not run: {why}"));
                None
            }
            (Some(months), Ok((moved_stage, units))) => match placebo::placebo(self, moved_stage, units, months)? {
                Ok(p) => Some(p),
                Err(why) => {
                    warnings.push(why);
                    None
                }
            },
        };
        let power = config.power().map(|settings| {
            progress.stage(Stage::Power);
            let sizes = power::pilot_sizes(&stage.cohort);
            match &moved {
                Ok((_, units)) => {
                    let source = power::Source::Placebo { shift_months: shift };
                    power::power(config, settings, units, &source, &sizes, progress)
                }
                Err(why) => {
                    let units = randomisation::Shared::controls(config, dataset, &index, stage);
                    let source = power::Source::Controls {
                        why: format!("the placebo in time's sites are not available ({why})"),
                    };
                    power::power(config, settings, &units, &source, &sizes, progress)
                }
            }
        });
        let primary_rows = outcomes.effects.iter().filter(|e| e.primary && e.p_value.is_some()).count();
        let design = design::design(config, dataset, &stage.sites, &stage.stacks, &prepared.covariates, primary_rows);
        let cohort = design::cohort_table(&stage.cohort, matching, &index, &stage.stacks);
        let balance = prepared.balance.clone().unwrap_or_default();
        Ok(EvaluationResults {
            design,
            sample_flow: stage.sample_flow.clone(),
            balance,
            effects: outcomes.effects,
            survival: outcomes.survival,
            site_did,
            site_panel,
            by_model,
            sensitivity,
            missing,
            specification_curve,
            power,
            value_for_money,
            monthly,
            caseload_distribution,
            arm_years,
            placebo,
            warnings,
            cohort,
        })
    }
}
