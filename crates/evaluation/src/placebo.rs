//! The placebo in time (docs/evaluation.md "Placebo in time"): the whole child-level analysis
//! rerun with every index date moved back by `[placebo] shift_months` (default the follow-up
//! length), so that the placebo's follow-up ends where the real baseline starts to matter and
//! no pilot was running in it. An effect there points to differences between the arms that
//! predate the pilots (a pre-existing trend the matching did not remove).

use crate::config::ValidConfig;
use crate::error::Result;
use crate::pipeline::{cohort, design, effects, matching, CohortStage, Detail, Evaluation, Silent};
use crate::randomisation::Shared;
use crate::results::{Placebo, StackDesign};
use crate::vocab::Outcome;
use swp_data::date::{format_date, years_before};
use swp_data::Dataset;
use swp_metrics::Index;

/// The cohort stage of `evaluation`'s design with every index date moved back `months`:
/// Err(the reason) when the data cannot support it (the moved baseline before the first
/// episode, or a stack with no eligible child). Shared by the placebo and the power simulation.
pub(crate) fn moved_stage(
    evaluation: &Evaluation,
    dataset: &Dataset,
    index: &Index,
    months: u32,
) -> Result<std::result::Result<CohortStage, String>> {
    let config: &ValidConfig = evaluation.config();
    let dates = cohort::index_dates(config.cohort().index, &cohort::sites_of(dataset))?;
    let moved: Vec<(Option<String>, i32)> =
        dates.into_iter().map(|(pilot, day)| (pilot, years_before(day, 0, months as i32))).collect();
    let first_episode = swp_data::columns::DateView::new(&dataset.episodes.frame, "decom").min();
    let earliest = moved.iter().map(|(_, d)| *d).min().unwrap_or(0);
    let baseline_from = years_before(earliest, 0, config.cohort().baseline_months as i32);
    if first_episode.is_none_or(|f| f > baseline_from) {
        return Ok(Err(format!(
            "moving the index dates back {months} months puts the baseline window at {} but the data start {}",
            format_date(baseline_from),
            first_episode.map_or_else(|| "nowhere (no episodes)".into(), format_date)
        )));
    }
    Ok(cohort::stage_on(config, dataset, index, moved, &Silent).map_err(|e| e.to_string()))
}

/// The placebo of `evaluation` moved back `months` on its moved cohort stage (from
/// [`moved_stage`]) and that stage's randomisation units: Err(the reason) when it cannot be
/// estimated, else its primary rows.
pub(crate) fn placebo(
    evaluation: &Evaluation,
    stage: &CohortStage,
    shared: &Shared,
    months: u32,
) -> Result<std::result::Result<Placebo, String>> {
    let config: &ValidConfig = evaluation.config();
    let (covariates, dropped) = match matching::covariates(config, &stage.cohort) {
        Ok(c) => c,
        Err(e) => return Ok(Err(format!("placebo in time not run: {e}"))),
    };
    let matching = match matching::run(config, &stage.cohort, &covariates, &dropped, &|_, p, d| p.propensity_as_r(d)) {
        Ok(m) => m,
        Err(e) => return Ok(Err(format!("placebo in time not run: {e}"))),
    };
    let mut warnings = Vec::new();
    let outcomes =
        effects::child_outcomes(config, &stage.cohort, &matching, stage.window_days(), Detail::Full, &mut warnings);
    let mut rows: Vec<_> = outcomes.effects.into_iter().filter(|e| e.primary).collect();
    crate::randomisation::primary_rows(config, shared, &mut rows)?;
    effects::adjust_primary(config, &mut rows);
    let estimand = effects::estimand(&stage.cohort, &matching);
    for r in &mut rows {
        r.estimand = if r.adjusted && r.estimate_type == crate::vocab::EstimateType::HazardRatio {
            estimand.conditional()
        } else {
            estimand
        };
    }
    let significant: Vec<Outcome> = rows
        .iter()
        // across five placebo estimates, one in five would be below 0.05 by chance about a
        // quarter of the time: the flag follows the multiplicity-adjusted p (Holm over the
        // randomisation p-values by default), which keeps the chance of a false flag at 5%
        .filter(|r| r.p_holm.or(r.ri_p_value).or(r.p_value).is_some_and(|p| p < 0.05))
        .filter_map(|r| match &r.outcome {
            crate::vocab::RowOutcome::Outcome(o) => Some(*o),
            crate::vocab::RowOutcome::Measure(_) => None,
        })
        .collect();
    let stacks: Vec<StackDesign> = design::stack_designs(&stage.stacks);
    Ok(Ok(Placebo { shift_months: months, stacks, effects: rows, significant }))
}
