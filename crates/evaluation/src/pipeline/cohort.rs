//! The child-level cohort of docs/evaluation.md: who is eligible on the index date (and the sample
//! flow that says how many each rule removed), the baseline covariates, and the outcomes in
//! the follow-up window.
//!
//! Every child of a site of either arm is assessed in parallel, independently; the cohort is
//! assembled in the children table's order, so it does not depend on the number of threads.

use super::{CohortStage, Progress, Stage};
use crate::config::codes::CodeGroup;
use crate::config::{IndexRule, ValidConfig};
use crate::error::{EvaluationError, Result};
use crate::results::FlowRow;
use crate::vocab::Arm;
use rayon::prelude::*;
use serde::Serialize;
use swp_data::columns::{code_column, date_column, DateView};
use swp_data::columns::{code_ids, number_column, text_column};
use swp_data::date::format_date;
use swp_data::date::years_before;
use swp_data::{Dataset, UNRESOLVED};
use swp_metrics::changes::child_changes;
use swp_metrics::index::care_days;
use swp_metrics::index::{flag, Episode, Index, NO_ROW, NO_SITE};
use swp_metrics::Period;

/// The dates the cohort is defined on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Windows {
    /// Index date.
    pub index_date: i32,
    /// Baseline window: index - baseline months to the day before the index date.
    pub baseline: Period,
    /// Follow-up window: the index date to the day before index + follow-up months, cut at
    /// the extract date.
    pub follow_up: Period,
    /// Where the follow-up window would end without the extract date.
    pub follow_up_planned_end: i32,
    /// The extract date.
    pub extract_date: i32,
    /// Children must be in their current period of care since this day or earlier.
    pub in_care_since: i32,
}

impl Windows {
    /// The windows of an index date under the config's lengths.
    pub fn new(index_date: i32, config: &ValidConfig, extract_date: i32) -> Self {
        let c = &config.cohort();
        let planned = years_before(index_date, 0, -(c.follow_up_months as i32)) - 1;
        Windows {
            index_date,
            baseline: Period { from: years_before(index_date, 0, c.baseline_months as i32), to: index_date - 1 },
            follow_up: Period { from: index_date, to: planned.min(extract_date) },
            follow_up_planned_end: planned,
            extract_date,
            in_care_since: years_before(index_date, 0, c.min_months_in_care as i32),
        }
    }
}

/// The eligibility rules in the order they apply (docs/evaluation.md "Cohort").
pub const RULES: [&str; 5] = [
    "child at a site of the arm",
    "looked after on the index date",
    "not on a short break (V3/V4) on the index date",
    "in the current period of care for at least the minimum months",
    "aged within the age range on the index date",
];

/// The cohort, one entry per eligible child in the children table's order (columns).
#[derive(Debug, Clone, Default)]
pub struct Cohort {
    /// The child's row in the children table (= its index in [`Index`]).
    pub child: Vec<usize>,
    /// Site index (into the index's site ids).
    pub site: Vec<u32>,
    /// Pilot child (treated) or control.
    pub treated: Vec<bool>,
    /// The stack of the row (into the cohort stage's stacks; 0 with one index date). A control
    /// child eligible in several stacks has a row in each.
    pub stack: Vec<u16>,
    /// Numeric covariates by name (age, years_in_care, prior_placements, prior_sw_changes,
    /// cin_abuse_neglect).
    pub numeric: Vec<(&'static str, Vec<f64>)>,
    /// Categorical covariates by name (sex, ethnic_group, legal_status, placement_type); a
    /// missing code is the level [`NOT_RECORDED`].
    pub categorical: Vec<(&'static str, Vec<String>)>,
    /// Rows whose CIN code is missing: `cin_abuse_neglect` is 0 there, and the indicator
    /// `cin_not_recorded` enters the models beside it (docs/evaluation.md "Missing values").
    pub cin_not_recorded: Vec<bool>,
    /// Social-worker changes in the follow-up window.
    pub sw_changes: Vec<f64>,
    /// Placement moves in the follow-up window.
    pub placement_moves: Vec<f64>,
    /// Days looked after in the follow-up window / 365.25.
    pub exposure_years: Vec<f64>,
    /// 1 when the child had 3 or more placements in the window.
    pub three_plus_placements: Vec<f64>,
    /// Days from the index date (day 1) to the first social-worker change or censoring.
    pub time_to_sw_change: Vec<f64>,
    /// Whether that time is a change (else censored).
    pub sw_change_event: Vec<bool>,
    /// Days to the first placement move or censoring.
    pub time_to_placement_move: Vec<f64>,
    /// Whether that time is a move.
    pub placement_move_event: Vec<bool>,
}

impl Cohort {
    /// Number of children.
    pub fn len(&self) -> usize {
        self.child.len()
    }

    /// Whether the cohort is empty.
    pub fn is_empty(&self) -> bool {
        self.child.is_empty()
    }

    /// A numeric covariate's values.
    pub fn numeric(&self, name: &str) -> Option<&[f64]> {
        self.numeric.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_slice())
    }

    /// A categorical covariate's values.
    pub fn categorical(&self, name: &str) -> Option<&[String]> {
        self.categorical.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_slice())
    }

    /// Whether covariate `name` is missing in each row (None for a covariate the cohort does not
    /// have): a categorical covariate's level [`NOT_RECORDED`], the CIN code's indicator; the
    /// other numeric covariates are never missing (age needs the date of birth, without which a
    /// child is not eligible).
    pub fn missing(&self, name: &str) -> Option<Vec<bool>> {
        if let Some(v) = self.categorical(name) {
            return Some(v.iter().map(|x| x == NOT_RECORDED).collect());
        }
        let values = self.numeric(name)?;
        Some(if name == "cin_abuse_neglect" && self.cin_not_recorded.len() == values.len() {
            self.cin_not_recorded.clone()
        } else {
            vec![false; values.len()]
        })
    }

    /// The rows of stack `k`.
    pub fn rows_of_stack(&self, k: u16) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.stack[i] == k).collect()
    }

    /// Number of stacks (1 with one index date).
    pub fn stacks(&self) -> usize {
        self.stack.iter().max().map_or(1, |&m| usize::from(m) + 1)
    }

    /// Appends `other`'s rows.
    pub(crate) fn append(&mut self, mut other: Cohort) {
        self.child.append(&mut other.child);
        self.site.append(&mut other.site);
        self.treated.append(&mut other.treated);
        self.stack.append(&mut other.stack);
        self.cin_not_recorded.append(&mut other.cin_not_recorded);
        if self.numeric.is_empty() {
            self.numeric = std::mem::take(&mut other.numeric);
            self.categorical = std::mem::take(&mut other.categorical);
        } else {
            for ((_, a), (_, b)) in self.numeric.iter_mut().zip(other.numeric.iter_mut()) {
                a.append(b);
            }
            for ((_, a), (_, b)) in self.categorical.iter_mut().zip(other.categorical.iter_mut()) {
                a.append(b);
            }
        }
        self.sw_changes.append(&mut other.sw_changes);
        self.placement_moves.append(&mut other.placement_moves);
        self.exposure_years.append(&mut other.exposure_years);
        self.three_plus_placements.append(&mut other.three_plus_placements);
        self.time_to_sw_change.append(&mut other.time_to_sw_change);
        self.sw_change_event.append(&mut other.sw_change_event);
        self.time_to_placement_move.append(&mut other.time_to_placement_move);
        self.placement_move_event.append(&mut other.placement_move_event);
    }

    /// A cohort of the children at `rows` (repeats allowed, as in a bootstrap resample), with new
    /// sites and arms.
    pub fn resample(&self, rows: &[usize], site: Vec<u32>, treated: Vec<bool>) -> Cohort {
        let f = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<_>>();
        let b = |v: &[bool]| rows.iter().map(|&i| v[i]).collect::<Vec<_>>();
        Cohort {
            child: rows.iter().map(|&i| self.child[i]).collect(),
            site,
            treated,
            stack: rows.iter().map(|&i| self.stack[i]).collect(),
            cin_not_recorded: b(&self.cin_not_recorded),
            numeric: self.numeric.iter().map(|(n, v)| (*n, f(v))).collect(),
            categorical: self
                .categorical
                .iter()
                .map(|(n, v)| (*n, rows.iter().map(|&i| v[i].clone()).collect()))
                .collect(),
            sw_changes: f(&self.sw_changes),
            placement_moves: f(&self.placement_moves),
            exposure_years: f(&self.exposure_years),
            three_plus_placements: f(&self.three_plus_placements),
            time_to_sw_change: f(&self.time_to_sw_change),
            sw_change_event: b(&self.sw_change_event),
            time_to_placement_move: f(&self.time_to_placement_move),
            placement_move_event: b(&self.placement_move_event),
        }
    }
}

/// Group names per code id of a code column, under the config's groups (codes not listed fall
/// to the last group).
fn group_of_codes(categories: &[String], groups: &[CodeGroup]) -> Vec<String> {
    let last = groups.last().map_or("other", |g| g.group.as_str());
    categories
        .iter()
        .map(|code| {
            groups.iter().find(|g| g.codes.iter().any(|c| c == code)).map_or(last, |g| g.group.as_str()).to_string()
        })
        .collect()
}

/// The level of a categorical covariate whose code is missing.
pub const NOT_RECORDED: &str = "not recorded";

/// A code column mapped to group indices per row (None where the value is missing).
struct Grouping {
    names: Vec<String>,
    of_row: Vec<Option<u16>>,
}

impl Grouping {
    fn new(frame: &swp_data::model::Table, column: &str, groups: &[CodeGroup]) -> Self {
        let (categories, ids) = code_ids(&frame.frame, column);
        let group_names = group_of_codes(&categories, groups);
        let mut names: Vec<String> = groups.iter().map(|g| g.group.clone()).collect();
        names.push(NOT_RECORDED.to_string());
        let of_category: Vec<u16> =
            group_names.iter().map(|g| names.iter().position(|n| n == g).unwrap_or(0) as u16).collect();
        Grouping { of_row: ids.into_iter().map(|i| i.map(|i| of_category[i as usize])).collect(), names }
    }

    fn name(&self, row: u32) -> &str {
        let missing = self.names.len() - 1;
        let g = if row == NO_ROW { None } else { self.of_row.get(row as usize).copied().flatten() };
        &self.names[g.map_or(missing, usize::from)]
    }
}

/// Codes of the episodes table the covariates need.
struct EpisodeCodes {
    legal_status: Grouping,
    placement_type: Grouping,
    /// Whether each episode's CIN code is N1 (abuse or neglect); None where it is missing.
    cin_n1: Vec<Option<bool>>,
}

/// Codes of the children table the covariates need.
struct ChildCodes {
    sex: Vec<String>,
    ethnic_group: Grouping,
}

/// The outcome of assessing one child.
enum Assessed {
    /// Removed by rule `step` (1 to 4).
    Removed(usize),
    /// Eligible, with its record.
    Eligible(Box<Record>),
}

struct Record {
    numeric: [f64; 5],
    /// The CIN code of the episode in force is missing.
    cin_missing: bool,
    legal_status: String,
    placement_type: String,
    sw_changes: f64,
    placement_moves: f64,
    exposure_years: f64,
    three_plus: f64,
    time_sw: f64,
    event_sw: bool,
    time_move: f64,
    event_move: bool,
}

use swp_data::date::completed_years;

/// The latest-starting episode in force on `day`.
fn in_force(episodes: &[Episode], day: i32) -> Option<usize> {
    (0..episodes.len()).rev().find(|&i| episodes[i].in_force(day))
}

/// Whether episode `i` starts a placement that is a move (an earlier placement in its period).
fn is_move(episodes: &[Episode], i: usize) -> bool {
    episodes[i].is(flag::STARTS_PLACEMENT)
        && (episodes[i].period_start as usize..i).any(|k| episodes[k].is(flag::STARTS_PLACEMENT))
}

fn assess(index: &Index, c: usize, w: &Windows, config: &ValidConfig, codes: &EpisodeCodes) -> Assessed {
    let episodes = index.episodes.of(c);
    let day = w.index_date;
    let Some(k) = in_force(episodes, day) else { return Assessed::Removed(1) };
    let current = episodes[k];
    if current.is(flag::SHORT_BREAK) {
        return Assessed::Removed(2);
    }
    let period_first = current.period_start as usize;
    let period_start = episodes[period_first].start;
    if period_start > w.in_care_since {
        return Assessed::Removed(3);
    }
    let Some(dob) = index.child_dob[c] else { return Assessed::Removed(4) };
    let age = completed_years(dob, day);
    if age < config.cohort().min_age as i32 || age > config.cohort().max_age as i32 {
        return Assessed::Removed(4);
    }
    // the end of the period of care in force on the index date (None: open)
    let period_last = (k..episodes.len()).take_while(|&i| episodes[i].period_start as usize == period_first).last();
    let period_end = period_last.and_then(|i| episodes[i].end);
    let window = w.follow_up;
    let censor_day = period_end.map_or(window.to, |e| e.min(window.to));
    let allocations = index.allocations.of(c);

    let prior_placements =
        episodes.iter().filter(|e| e.is(flag::STARTS_PLACEMENT) && w.baseline.contains(e.start)).count() as f64;
    let prior_sw_changes = f64::from(child_changes(allocations, w.baseline).0);
    // a missing CIN code is its own level: 0 here, with the indicator set
    let cin = if current.row == NO_ROW { None } else { codes.cin_n1.get(current.row as usize).copied().flatten() };

    let placement_moves =
        (0..episodes.len()).filter(|&i| window.contains(episodes[i].start) && is_move(episodes, i)).count();
    let starting = episodes.iter().filter(|e| e.is(flag::STARTS_PLACEMENT) && window.contains(e.start)).count();
    let at_start = (period_first..=k)
        .rev()
        .find(|&i| episodes[i].is(flag::STARTS_PLACEMENT))
        .filter(|&i| !window.contains(episodes[i].start));
    let placements = starting + usize::from(at_start.is_some());

    let first_change = allocations
        .windows(2)
        .find(|p| p[1].start >= day && p[1].start <= censor_day && p[1].worker != p[0].worker)
        .map(|p| p[1].start);
    let first_move = (0..episodes.len())
        .find(|&i| episodes[i].start >= day && episodes[i].start <= censor_day && is_move(episodes, i))
        .map(|i| episodes[i].start);
    let time = |event: Option<i32>| f64::from(event.unwrap_or(censor_day) - day + 1);

    Assessed::Eligible(Box::new(Record {
        numeric: [
            f64::from(day - dob) / 365.25,
            f64::from(day - period_start) / 365.25,
            prior_placements,
            prior_sw_changes,
            f64::from(u8::from(cin == Some(true))),
        ],
        cin_missing: cin.is_none(),
        legal_status: codes.legal_status.name(current.row).to_string(),
        placement_type: codes.placement_type.name(current.row).to_string(),
        sw_changes: f64::from(child_changes(allocations, window).0),
        placement_moves: placement_moves as f64,
        exposure_years: care_days(episodes, window) as f64 / 365.25,
        three_plus: f64::from(u8::from(placements >= 3)),
        time_sw: time(first_change),
        event_sw: first_change.is_some(),
        time_move: time(first_move),
        event_move: first_move.is_some(),
    }))
}

/// The codes of the dataset the covariates need, read once for every stack.
pub(crate) struct Codes {
    episodes: EpisodeCodes,
    children: ChildCodes,
}

impl Codes {
    pub(crate) fn new(dataset: &Dataset, config: &ValidConfig) -> Codes {
        let groups = config.code_groups();
        let episodes = EpisodeCodes {
            legal_status: Grouping::new(&dataset.episodes, "ls", groups.legal_status()),
            placement_type: Grouping::new(&dataset.episodes, "place", groups.placement_type()),
            cin_n1: {
                let (categories, ids) = code_ids(&dataset.episodes.frame, "cin");
                let n1: Vec<bool> = categories.iter().map(|c| c == "N1").collect();
                ids.into_iter().map(|i| i.map(|i| n1[i as usize])).collect()
            },
        };
        let children = ChildCodes {
            sex: {
                let (categories, ids) = code_ids(&dataset.children.frame, "sex");
                ids.into_iter()
                    .map(|i| i.map_or_else(|| NOT_RECORDED.to_string(), |i| categories[i as usize].clone()))
                    .collect()
            },
            ethnic_group: Grouping::new(&dataset.children, "ethnic", groups.ethnic_group()),
        };
        Codes { episodes, children }
    }
}

/// The cohort of one stack (rows labelled `stack`) and its sample flow (rows labelled
/// `stack_name`).
///
/// `arm_of_site[s]` is Some(true) for a pilot site, Some(false) for a site of the control arm,
/// None for other sites.
pub(crate) fn build(
    index: &Index,
    codes: &Codes,
    arm_of_site: &[Option<bool>],
    windows: &Windows,
    config: &ValidConfig,
    (stack, stack_name): (u16, Option<&str>),
) -> (Cohort, Vec<FlowRow>) {
    let child_codes = &codes.children;
    let n = index.children();
    let arm_of = |c: usize| -> Option<bool> {
        let s = index.child_site[c];
        if s == NO_SITE {
            None
        } else {
            arm_of_site.get(s as usize).copied().flatten()
        }
    };
    let assessed: Vec<Option<Assessed>> =
        (0..n).into_par_iter().map(|c| arm_of(c).map(|_| assess(index, c, windows, config, &codes.episodes))).collect();

    let mut flow = Vec::new();
    for (treated, arm) in [(true, "treated"), (false, "control")] {
        let mut removed = [0u64; 5];
        let mut total = 0u64;
        for (c, a) in assessed.iter().enumerate() {
            if arm_of(c) != Some(treated) {
                continue;
            }
            total += 1;
            if let Some(Assessed::Removed(step)) = a {
                removed[*step] += 1;
            }
        }
        let mut remaining = total;
        for (step, rule) in RULES.iter().enumerate() {
            let r = (step > 0).then_some(removed[step]);
            remaining -= r.unwrap_or(0);
            flow.push(FlowRow {
                stack: stack_name.map(str::to_string),
                step,
                rule: rule.to_string(),
                arm: arm.to_string(),
                removed: r,
                remaining: Some(remaining),
            });
        }
    }

    let mut cohort = Cohort::default();
    let mut numeric: [Vec<f64>; 5] = Default::default();
    let (mut sex, mut ethnic, mut legal, mut place) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (c, a) in assessed.into_iter().enumerate() {
        let Some(Assessed::Eligible(r)) = a else { continue };
        cohort.child.push(c);
        cohort.site.push(index.child_site[c]);
        cohort.treated.push(arm_of(c) == Some(true));
        cohort.stack.push(stack);
        cohort.cin_not_recorded.push(r.cin_missing);
        for (col, v) in numeric.iter_mut().zip(r.numeric) {
            col.push(v);
        }
        sex.push(child_codes.sex[c].clone());
        ethnic.push(child_codes.ethnic_group.name(c as u32).to_string());
        legal.push(r.legal_status);
        place.push(r.placement_type);
        cohort.sw_changes.push(r.sw_changes);
        cohort.placement_moves.push(r.placement_moves);
        cohort.exposure_years.push(r.exposure_years);
        cohort.three_plus_placements.push(r.three_plus);
        cohort.time_to_sw_change.push(r.time_sw);
        cohort.sw_change_event.push(r.event_sw);
        cohort.time_to_placement_move.push(r.time_move);
        cohort.placement_move_event.push(r.event_move);
    }
    let [age, years, prior_p, prior_c, cin] = numeric;
    cohort.numeric = vec![
        ("age", age),
        ("years_in_care", years),
        ("prior_placements", prior_p),
        ("prior_sw_changes", prior_c),
        ("cin_abuse_neglect", cin),
    ];
    cohort.categorical =
        vec![("sex", sex), ("ethnic_group", ethnic), ("legal_status", legal), ("placement_type", place)];
    (cohort, flow)
}

/// One outcome measure (outcomes.csv) of the cohort's children: baseline and follow-up values
/// (None where missing; several rows of one child and wave are averaged).
#[derive(Debug, Clone)]
pub struct Measure {
    /// Measure name.
    pub name: String,
    /// Baseline value per cohort child.
    pub baseline: Vec<Option<f64>>,
    /// Follow-up value per cohort child.
    pub follow_up: Vec<Option<f64>>,
}

/// The outcome measures of the cohort's children, in order of first appearance in the table
/// (restricted to `wanted` when given).
pub fn measures(dataset: &Dataset, cohort: &Cohort, wanted: Option<&[String]>) -> Vec<Measure> {
    if !dataset.outcomes.present {
        return Vec::new();
    }
    let frame = &dataset.outcomes.frame;
    let names = text_column(frame, "measure");
    let values = number_column(frame, "value");
    let (waves, wave_ids) = code_ids(frame, "wave");
    let follow: Vec<bool> = waves.iter().map(|w| w == "follow_up").collect();
    let rows = &dataset.child_rows[3];
    let mut position = vec![usize::MAX; dataset.children.frame.height()];
    for (i, &c) in cohort.child.iter().enumerate() {
        position[c] = i;
    }
    let mut order: Vec<String> = Vec::new();
    let mut sums: Vec<Vec<[f64; 4]>> = Vec::new(); // per measure, per child: baseline sum, n, follow-up sum, n
    for row in 0..frame.height() {
        let (Some(name), Some(value), Some(wave)) = (names[row], values[row], wave_ids[row]) else { continue };
        if wanted.is_some_and(|w| !w.iter().any(|m| m == name)) || !value.is_finite() {
            continue;
        }
        let Some(&c) = rows.get(row) else { continue };
        if c == UNRESOLVED || position[c as usize] == usize::MAX {
            continue;
        }
        let m = match order.iter().position(|o| o == name) {
            Some(m) => m,
            None => {
                order.push(name.to_string());
                sums.push(vec![[0.0; 4]; cohort.len()]);
                order.len() - 1
            }
        };
        let slot = if follow[wave as usize] { 2 } else { 0 };
        let cell = &mut sums[m][position[c as usize]];
        cell[slot] += value;
        cell[slot + 1] += 1.0;
    }
    order
        .into_iter()
        .zip(sums)
        .map(|(name, cells)| Measure {
            name,
            baseline: cells.iter().map(|c| (c[1] > 0.0).then(|| c[0] / c[1])).collect(),
            follow_up: cells.iter().map(|c| (c[3] > 0.0).then(|| c[2] / c[3])).collect(),
        })
        .collect()
}

/// ISO text of a day.
pub fn iso(day: i32) -> String {
    format_date(day)
}

/// The matched children of one pilot site and the weight of each cohort child as one of their
/// controls (by how often it was used; 0 when it was not).
pub(crate) fn pilot_and_controls(
    cohort: &Cohort,
    matching: &swp_stats::matching::Matching,
    site_index: usize,
) -> (Vec<usize>, Vec<f64>) {
    let treated: Vec<usize> = (0..cohort.len())
        .filter(|&i| cohort.treated[i] && cohort.site[i] as usize == site_index && matching.weights[i] > 0.0)
        .collect();
    let mut control_weight = vec![0.0; cohort.len()];
    let mut is_treated_here = vec![false; cohort.len()];
    treated.iter().for_each(|&t| is_treated_here[t] = true);
    if let Some(matrix) = &matching.match_matrix {
        for (row, &t) in matching.treated.iter().enumerate() {
            if is_treated_here[t] {
                let k = matrix[row].len() as f64;
                for &c in &matrix[row] {
                    control_weight[c] += 1.0 / k;
                }
            }
        }
    } else if matching.subclass.iter().all(Option::is_none) {
        // weighting: the controls of the pilot's own stacks, with their weights
        let stacks: Vec<u16> = treated.iter().map(|&t| cohort.stack[t]).collect();
        for (i, weight) in control_weight.iter_mut().enumerate() {
            if !cohort.treated[i] && stacks.contains(&cohort.stack[i]) {
                *weight = matching.weights[i];
            }
        }
    } else {
        let classes: Vec<usize> = treated.iter().filter_map(|&t| matching.subclass[t]).collect();
        for (i, weight) in control_weight.iter_mut().enumerate() {
            if !cohort.treated[i] && matching.subclass[i].is_some_and(|s| classes.contains(&s)) {
                *weight = matching.weights[i];
            }
        }
    }
    (treated, control_weight)
}

/// One stack of the design: a pilot indexed on its own go-live (`index = "per_pilot"`), or, with
/// one index date, every pilot together.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    /// The pilot's site id (None: one index date for every pilot).
    pub pilot: Option<String>,
    /// The stack's windows.
    pub windows: Windows,
}

/// From the earliest stack's baseline start to the latest stack's follow-up end.
pub(crate) fn span(stacks: &[Stack]) -> Period {
    Period {
        from: stacks.iter().map(|s| s.windows.baseline.from).min().unwrap_or(0),
        to: stacks.iter().map(|s| s.windows.follow_up.to).max().unwrap_or(0),
    }
}

/// The index dates of the config's rule on `sites`: one per pilot with a go-live (in go-live
/// order, ties in sites.csv order) for `per_pilot`, else one for every pilot.
pub(crate) fn index_dates(rule: IndexRule, sites: &[Site]) -> Result<Vec<(Option<String>, i32)>> {
    let mut pilots: Vec<(&Site, i32)> =
        sites.iter().filter(|s| s.arm == Arm::Pilot).filter_map(|s| Some((s, s.go_live?))).collect();
    pilots.sort_by_key(|&(_, d)| d);
    let go_lives = || pilots.iter().map(|&(_, d)| d);
    Ok(match rule {
        IndexRule::Date(d) => vec![(None, d)],
        IndexRule::Earliest => vec![(None, go_lives().min().ok_or(EvaluationError::NoPilot)?)],
        IndexRule::Latest => vec![(None, go_lives().max().ok_or(EvaluationError::NoPilot)?)],
        IndexRule::PerPilot => {
            if pilots.is_empty() {
                return Err(EvaluationError::NoPilot);
            }
            pilots.iter().map(|(s, d)| (Some(s.id.clone()), *d)).collect()
        }
    })
}

/// The windows of each index date, checked against the data (an index date outside it is an
/// error; a follow-up cut at the extract date or a baseline before the first episode, a
/// warning).
fn stack_windows(
    config: &ValidConfig,
    dataset: &Dataset,
    dates: Vec<(Option<String>, i32)>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Stack>> {
    let first_episode = DateView::new(&dataset.episodes.frame, "decom").min();
    let mut stacks = Vec::new();
    for (pilot, index_date) in dates {
        let extract = dataset.extract_date.unwrap_or(index_date);
        let Some(first) = first_episode.filter(|&f| f <= index_date && index_date <= extract) else {
            return Err(EvaluationError::IndexDateOutsideData {
                index_date: format_date(index_date),
                first: first_episode.map_or_else(|| "no episodes".into(), format_date),
                last: format_date(extract),
            });
        };
        let windows = Windows::new(index_date, config, extract);
        let of = pilot.as_ref().map_or(String::new(), |p| format!(" (stack {p})"));
        if windows.follow_up.to < windows.follow_up_planned_end {
            warnings.push(format!(
                "follow-up cut at the extract date{of}: the window ends {} instead of {} ({} of {} months)",
                format_date(windows.follow_up.to),
                format_date(windows.follow_up_planned_end),
                ((windows.follow_up.to - index_date + 1) as f64 / (365.25 / 12.0)).round(),
                config.cohort().follow_up_months
            ));
        }
        if windows.baseline.from < first {
            warnings.push(format!(
                "the baseline window{of} starts {} but the first episode in the data starts {}: prior placements and changes may be undercounted",
                format_date(windows.baseline.from),
                format_date(first)
            ));
        }
        stacks.push(Stack { pilot, windows });
    }
    Ok(stacks)
}

/// The pooled sample flow: per arm and step, the sums over the stacks (a control child counts
/// once per stack).
fn pooled_flow(per_stack: &[FlowRow]) -> Vec<FlowRow> {
    let mut pooled: Vec<FlowRow> = Vec::new();
    for row in per_stack {
        match pooled.iter_mut().find(|p| p.arm == row.arm && p.step == row.step) {
            Some(p) => {
                p.removed = p.removed.zip(row.removed).map(|(a, b)| a + b);
                p.remaining = p.remaining.zip(row.remaining).map(|(a, b)| a + b);
            }
            None => pooled.push(FlowRow { stack: None, ..row.clone() }),
        }
    }
    pooled
}

/// The cohort stage: the sites, the stacks with their windows (with warnings when the data do
/// not cover them) and the eligible children of both arms in every stack.
pub(crate) fn stage(
    config: &ValidConfig,
    dataset: &Dataset,
    index: &Index,
    progress: &dyn Progress,
) -> Result<CohortStage> {
    let dates = index_dates(config.cohort().index, &sites_of(dataset))?;
    stage_on(config, dataset, index, dates, progress)
}

/// [`stage`] on index dates given (the placebo moves them back).
pub(crate) fn stage_on(
    config: &ValidConfig,
    dataset: &Dataset,
    index: &Index,
    dates: Vec<(Option<String>, i32)>,
    progress: &dyn Progress,
) -> Result<CohortStage> {
    let mut warnings = Vec::new();
    let sites = sites_of(dataset);
    let stacks = stack_windows(config, dataset, dates, &mut warnings)?;

    progress.stage(Stage::Cohort);
    let arm_of_site: Vec<Option<bool>> = index
        .groups
        .site_ids
        .iter()
        .map(|id| {
            let s = sites.iter().find(|s| &s.id == id)?;
            if s.arm == Arm::Pilot {
                Some(true)
            } else if config.cohort().controls.includes(s.arm) {
                Some(false)
            } else {
                None
            }
        })
        .collect();
    let codes = Codes::new(dataset, config);
    let mut cohort = Cohort::default();
    let mut sample_flow = Vec::new();
    for (k, stack) in stacks.iter().enumerate() {
        // a stack's treated arm is its own pilot; the other pilots' children are in no stack
        // but their own
        let arms: Vec<Option<bool>> = match &stack.pilot {
            None => arm_of_site.clone(),
            Some(pilot) => arm_of_site
                .iter()
                .zip(&index.groups.site_ids)
                .map(|(&arm, id)| if arm == Some(true) && id != pilot { None } else { arm })
                .collect(),
        };
        let (part, flow) = build(index, &codes, &arms, &stack.windows, config, (k as u16, stack.pilot.as_deref()));
        for (treated, arm) in [(true, "treated (pilot)"), (false, "control")] {
            if !part.treated.contains(&treated) {
                let hint = if treated {
                    ": check the pilots' children and the index date, or relax cohort.min_months_in_care and the ages"
                } else {
                    ": check cohort.controls (comparison, host or both) and the index date"
                };
                let of = stack.pilot.as_ref().map_or(String::new(), |p| format!(" in stack {p}"));
                return Err(EvaluationError::EmptyArm {
                    arm: format!("{arm}{of}"),
                    index_date: format_date(stack.windows.index_date),
                    hint: hint.to_string(),
                });
            }
        }
        cohort.append(part);
        sample_flow.extend(flow);
    }
    if stacks.len() > 1 {
        let pooled = pooled_flow(&sample_flow);
        sample_flow.extend(pooled);
    }
    Ok(CohortStage { sites, stacks, arm_of_site, cohort, sample_flow, warnings })
}

/// The sites table as the evaluation needs it.
pub(crate) fn sites_of(dataset: &Dataset) -> Vec<Site> {
    let f = &dataset.sites.frame;
    let ids = text_column(f, "site_id");
    let arms = code_column(f, "arm");
    let models = code_column(f, "swp_model");
    let go = date_column(f, "go_live");
    (0..f.height())
        .filter_map(|i| {
            // validation holds every arm to the code list: a site without one takes no part
            let arm: Arm = arms[i].as_deref()?.parse().ok()?;
            Some(Site {
                id: ids[i]?.to_string(),
                arm,
                model: models[i].clone().unwrap_or_else(|| "none".into()),
                go_live: if arm == Arm::Pilot { go[i] } else { None },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use swp_data::date::days_from_civil as d;

    #[test]
    fn completed_years_use_calendar_arithmetic() {
        assert_eq!(completed_years(d(2000, 5, 10), d(2009, 5, 9)), 8);
        assert_eq!(completed_years(d(2000, 5, 10), d(2009, 5, 10)), 9);
        // born 29 February: 9 on 28 February of a common year (clamped)
        assert_eq!(completed_years(d(2000, 2, 29), d(2009, 2, 28)), 9);
        assert_eq!(completed_years(d(2000, 2, 29), d(2009, 2, 27)), 8);
    }

    #[test]
    fn code_groups_put_unlisted_codes_in_the_last_group() {
        let groups = crate::config::CovariatesConfig::default();
        let cats: Vec<String> = ["WBRI", "BAFR", "XXXX", "NOBT"].iter().map(|s| s.to_string()).collect();
        assert_eq!(group_of_codes(&cats, &groups.ethnic_group), vec!["White", "Black", "Other", "Other"]);
        let ls: Vec<String> = ["C2", "V2", "J1"].iter().map(|s| s.to_string()).collect();
        assert_eq!(group_of_codes(&ls, &groups.legal_status), vec!["care_order", "accommodated", "other"]);
    }
}

/// A site taking part in the site-level analysis.
#[derive(Debug, Clone)]
pub struct Site {
    /// Id.
    pub id: String,
    /// Arm.
    pub arm: Arm,
    /// Model.
    pub model: String,
    /// Go-live (pilots).
    pub go_live: Option<i32>,
}
