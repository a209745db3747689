//! The design as run ([`Design`]: dates, sites, covariates, the matching in words), the
//! descriptive results by SWP model, and the child-level cohort table.

use super::cohort::Site;
use super::cohort::{self, Cohort, Stack, Windows};
use crate::config::ValidConfig;
use crate::error::Result;
use crate::results::{CohortTable, Design, MissingRow, ModelRow, StackDesign};
use crate::vocab::Arm;
use swp_data::date::format_date;
use swp_data::Dataset;
use swp_metrics::SiteGroups;
use swp_stats::design::Covariate;
use swp_stats::matching::Matching;

fn count(n: usize) -> Option<u64> {
    Some(n as u64)
}

/// Missing values of every covariate in use, per arm, in the cohort and the matched sample.
pub(crate) fn missing_values(names: &[String], cohort: &Cohort, matching: &Matching) -> Vec<MissingRow> {
    let mut out = Vec::new();
    for name in names {
        let Some(missing) = cohort.missing(name) else { continue };
        for (treated, arm) in [(true, "treated"), (false, "control")] {
            let rows: Vec<usize> = (0..cohort.len()).filter(|&i| cohort.treated[i] == treated).collect();
            let matched: Vec<usize> = rows.iter().copied().filter(|&i| matching.weights[i] > 0.0).collect();
            let count = |rows: &[usize]| rows.iter().filter(|&&i| missing[i]).count() as u64;
            out.push(MissingRow {
                covariate: name.clone(),
                arm: arm.to_string(),
                children: Some(rows.len() as u64),
                missing: Some(count(&rows)),
                matched: Some(matched.len() as u64),
                missing_matched: Some(count(&matched)),
                suppressed: false,
            });
        }
    }
    out
}

/// The design of a run on `dataset`.
pub(crate) fn design(
    config: &ValidConfig,
    dataset: &Dataset,
    sites: &[Site],
    stacks: &[Stack],
    covariates: &[Covariate],
    primary_rows: usize,
) -> Design {
    let m = &config.matching();
    let windows = &stacks[0].windows;
    let days = |w: &Windows| f64::from(w.follow_up.to - w.follow_up.from + 1);
    Design {
        index: config.cohort().index.name(),
        stacks: stack_designs(stacks),
        index_date: format_date(windows.index_date),
        baseline_from: format_date(windows.baseline.from),
        baseline_to: format_date(windows.baseline.to),
        follow_up_from: format_date(windows.follow_up.from),
        follow_up_to: format_date(windows.follow_up.to),
        follow_up_planned_to: format_date(windows.follow_up_planned_end),
        follow_up_days: days(windows),
        go_lives: sites
            .iter()
            .filter(|s| s.arm == Arm::Pilot)
            .filter_map(|s| Some((s.id.clone(), format_date(s.go_live?))))
            .collect(),
        extract_date: format_date(windows.extract_date),
        treated_sites: sites.iter().filter(|s| s.arm == Arm::Pilot).map(|s| s.id.clone()).collect(),
        control_sites: sites
            .iter()
            .filter(|s| config.cohort().controls.includes(s.arm))
            .map(|s| s.id.clone())
            .collect(),
        controls: config.cohort().controls.name().to_string(),
        covariates: covariates.iter().map(|c| c.name.clone()).collect(),
        matching: match config.estimation().comparison {
            crate::config::Comparison::PsWeighting => "propensity-score weights for the ATT (pilot children 1, controls e / (1 - e)) from a logistic model of the covariates, in each stack".to_string(),
            crate::config::Comparison::Entropy => "entropy balancing (Hainmueller 2012): control weights closest to uniform whose weighted means equal the pilot children's mean of every covariate column, in each stack".to_string(),
            crate::config::Comparison::Matching => format!(
            "{} {}:1 on {}{}, {}, {}{}",
            m.method.as_str(),
            m.ratio,
            match m.distance {
                swp_stats::matching::Distance::Glm => "a logistic propensity score",
                swp_stats::matching::Distance::LinearLogit => "the linear logit of a logistic propensity score",
                swp_stats::matching::Distance::Probit => "a probit propensity score",
                swp_stats::matching::Distance::Mahalanobis => "the Mahalanobis distance",
            },
            m.caliper.map_or(String::new(), |c| format!(" with a caliper of {c} SD")),
            if m.replace { "with replacement" } else { "without replacement" },
            if m.exact.is_empty() {
                "no exact matching".to_string()
            } else {
                format!("exact on {}", m.exact.join(", "))
            },
            m.order.map_or(String::new(), |o| format!(", order {o}")),
        ),
        },
        adjust: config.estimation().adjust,
        interactions: config.estimation().interactions,
        bootstrap_reps: config.inference().bootstrap_reps,
        bootstrap_weights: config.inference().bootstrap_weights,
        multiplicity: config.inference().multiplicity,
        primary_rows,
        seed: config.inference().seed,
        dataset_name: dataset.manifest.name.clone(),
        synthetic: dataset.manifest.extra.contains_key("synth"),
    }
}

/// The stacks and their windows as dates.
pub(crate) fn stack_designs(stacks: &[Stack]) -> Vec<StackDesign> {
    stacks
        .iter()
        .map(|s| StackDesign {
            stack: s.pilot.clone(),
            index_date: format_date(s.windows.index_date),
            baseline_from: format_date(s.windows.baseline.from),
            baseline_to: format_date(s.windows.baseline.to),
            follow_up_from: format_date(s.windows.follow_up.from),
            follow_up_to: format_date(s.windows.follow_up.to),
            follow_up_days: f64::from(s.windows.follow_up.to - s.windows.follow_up.from + 1),
        })
        .collect()
}

/// Results by SWP model: each pilot's matched children against their own matched controls.
pub(crate) fn by_model(
    cohort: &Cohort,
    matching: &Matching,
    sites: &[Site],
    groups: &SiteGroups,
) -> Result<Vec<ModelRow>> {
    let mut out = Vec::new();
    for site in sites.iter().filter(|s| s.arm == Arm::Pilot) {
        let Some(site_index) = groups.site_index(&site.id) else { continue };
        let (treated, control_weight) = cohort::pilot_and_controls(cohort, matching, site_index);
        let controls: Vec<usize> = (0..cohort.len()).filter(|&i| control_weight[i] > 0.0).collect();
        let rate = |rows: &[usize], w: &dyn Fn(usize) -> f64, y: &[f64], exposure: Option<&[f64]>| -> Option<f64> {
            let num: f64 = rows.iter().map(|&i| w(i) * y[i]).sum();
            let den: f64 = rows.iter().map(|&i| w(i) * exposure.map_or(1.0, |e| e[i])).sum();
            (den > 0.0).then(|| num / den)
        };
        let one = |_: usize| 1.0;
        let cw = |i: usize| control_weight[i];
        out.push(ModelRow {
            model: site.model.clone(),
            site: site.id.clone(),
            n_treated: count(treated.len()),
            n_control: count(controls.len()),
            sw_change_rate_treated: rate(&treated, &one, &cohort.sw_changes, Some(&cohort.exposure_years)),
            sw_change_rate_control: rate(&controls, &cw, &cohort.sw_changes, Some(&cohort.exposure_years)),
            move_rate_treated: rate(&treated, &one, &cohort.placement_moves, Some(&cohort.exposure_years)),
            move_rate_control: rate(&controls, &cw, &cohort.placement_moves, Some(&cohort.exposure_years)),
            three_plus_treated: rate(&treated, &one, &cohort.three_plus_placements, None),
            three_plus_control: rate(&controls, &cw, &cohort.three_plus_placements, None),
            estimates: Vec::new(),
            ri_assignments: None,
            ri_min_p: None,
            suppressed: false,
        });
    }
    Ok(out)
}

/// The child-level cohort table (ids included) for `--cohort-out`.
/// With stacks, a `stack` column (the pilot's site id) follows `site_id`; a control child has
/// a row in every stack it is eligible in.
pub(crate) fn cohort_table(
    cohort: &Cohort,
    matching: &Matching,
    index: &swp_metrics::Index,
    stacks: &[Stack],
) -> CohortTable {
    let mut columns: Vec<String> = vec!["child_id".into(), "site_id".into()];
    let mut text: Vec<Vec<String>> = vec![
        cohort.child.iter().map(|&c| index.child_ids.get(c).to_string()).collect(),
        cohort.site.iter().map(|&s| index.groups.site_ids[s as usize].clone()).collect(),
    ];
    if stacks.len() > 1 {
        columns.push("stack".into());
        text.push(cohort.stack.iter().map(|&k| stacks[usize::from(k)].pilot.clone().unwrap_or_default()).collect());
    }
    let mut numbers: Vec<Vec<Option<f64>>> = Vec::new();
    let mut push = |name: &str, v: Vec<Option<f64>>| {
        columns.push(name.to_string());
        numbers.push(v);
    };
    push("treated", cohort.treated.iter().map(|&t| Some(f64::from(u8::from(t)))).collect());
    push("weights", matching.weights.iter().map(|&w| Some(w)).collect());
    push("subclass", matching.subclass.iter().map(|s| s.map(|s| s as f64)).collect());
    if let Some(d) = &matching.distance {
        push("distance", d.iter().map(|&x| Some(x)).collect());
    }
    for (name, v) in &cohort.numeric {
        // a missing CIN code is written as missing, not as the 0 the models see beside its indicator
        let missing = cohort.missing(name).unwrap_or_default();
        push(
            name,
            v.iter().enumerate().map(|(i, &x)| (!missing.get(i).copied().unwrap_or(false)).then_some(x)).collect(),
        );
    }
    let all = |v: &[f64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
    push("sw_changes", all(&cohort.sw_changes));
    push("placement_moves", all(&cohort.placement_moves));
    push("exposure_years", all(&cohort.exposure_years));
    push("three_plus_placements", all(&cohort.three_plus_placements));
    push("time_to_sw_change", all(&cohort.time_to_sw_change));
    push("sw_change_event", cohort.sw_change_event.iter().map(|&e| Some(f64::from(u8::from(e)))).collect());
    push("time_to_placement_move", all(&cohort.time_to_placement_move));
    push("placement_move_event", cohort.placement_move_event.iter().map(|&e| Some(f64::from(u8::from(e)))).collect());
    for (name, v) in &cohort.categorical {
        columns.insert(text.len(), name.to_string());
        text.push(v.clone());
    }
    CohortTable { columns, text, numbers }
}
