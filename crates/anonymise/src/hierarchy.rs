//! Generalisation hierarchies of the quasi-identifiers, the search for the least global
//! generalisation, and local recoding before any child is removed.
//!
//! # Hierarchies
//! - **Date of birth**: month -> quarter -> year -> five years (2000-2004, 2005-2009, ...). A
//!   generalised date is written as a day inside its interval: the first of the month (as
//!   docs/data-contract.md allows), the first of the quarter's middle month, 1 July of the year, 1 July of the
//!   band's middle year; a `dob_precision` column says which, whenever a child is coarser than a
//!   month (the written date alone would not tell "born in 2002" from "born 2000-2004").
//! - **Ethnicity**: the 903 code -> the five groups of docs/evaluation.md, written as the group's
//!   "other" code (`WOTH`, `MOTH`, `AOTH`, `BOTH`, `OOTH`) so that the evaluation reads every
//!   child's group unchanged -> not recorded (`NOBT`, which the evaluation counts as Other).
//!   A child recorded as `NOBT` stays `NOBT`. An `ethnic_precision` column (`code`, `group`,
//!   `not recorded`) says which, whenever a child is written as a group (`WOTH` alone would
//!   read as "any other White background").
//!
//! # What a choice costs the analysis
//! Each child's written values are scored against its true ones, on the scale of the balance
//! table (standardised differences):
//! - the error of the written date of birth in years over the standard deviation of the
//!   children's dates of birth (the `age` covariate moves by that many SDs);
//! - 1 when the child's ethnic group changes (a categorical covariate loses the child);
//! - 0.02 when the code is replaced but the group kept (detail the evaluation does not use);
//! - [`LOSS_REMOVED`] for a child removed (every covariate and outcome of the child).
//!
//! # Search (global recoding, then local recoding)
//! Every node of the lattice (4 birth-date levels x 3 ethnicity levels) is tried as the
//! starting point for the whole dataset, as sdcMicro and ARX search it (Sweeney 2002,
//! "Achieving k-anonymity privacy protection using generalization and suppression"; Prasser
//! et al. 2014, ARX). From each, local recoding goes class by class (Samarati 2001's local
//! suppression, with the hierarchy's next level in place of a blank): while some class of
//! written values holds fewer than k children, each group of children in it that shares its
//! levels (a *cell*) may move one step up one hierarchy:
//! 1. a cell whose cheapest step lands in a class that then holds k or more takes it, cheapest
//!    per child first;
//! 2. otherwise every cell still below k takes its cheapest step (cells pool with others);
//! 3. a cell with no step left (both values at the top) is removed, with all its rows.
//!
//! Each node's outcome is measured (the loss above, children recoded, groups changed, children
//! removed) and the node with the least total loss is kept (ties: the finer node).

use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use swp_data::codes::{ethnic_group_index, ETHNIC_GROUPS};
use swp_data::date::{civil_from_days, days_from_civil};

/// Loss of a removed child, against at most about 1.6 for a child whose values are all
/// generalised: removal comes last.
pub const LOSS_REMOVED: f64 = 4.0;
/// Loss of a child whose ethnic group changes.
pub const LOSS_GROUP: f64 = 1.0;
/// Loss of a child whose ethnicity code is replaced by its group's.
pub const LOSS_CODE: f64 = 0.02;

/// Levels of the date-of-birth hierarchy, finest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum DobLevel {
    /// The first of the birth month.
    #[serde(rename = "month")]
    Month,
    /// The quarter (written as the first of its middle month).
    #[serde(rename = "quarter")]
    Quarter,
    /// The year (written as 1 July).
    #[serde(rename = "year")]
    Year,
    /// Five calendar years from a multiple of 5 (written as 1 July of the middle year).
    #[serde(rename = "5 years")]
    FiveYears,
}

impl DobLevel {
    /// Every level, finest first.
    pub const ALL: [DobLevel; 4] = [DobLevel::Month, DobLevel::Quarter, DobLevel::Year, DobLevel::FiveYears];

    /// The word written in `dob_precision`.
    pub fn label(self) -> &'static str {
        match self {
            DobLevel::Month => "month",
            DobLevel::Quarter => "quarter",
            DobLevel::Year => "year",
            DobLevel::FiveYears => "5 years",
        }
    }

    /// The written date of birth for a true one (days since 1970-01-01).
    pub fn written(self, dob: i32) -> i32 {
        let (y, m, _) = civil_from_days(dob);
        match self {
            DobLevel::Month => days_from_civil(y, m, 1),
            DobLevel::Quarter => days_from_civil(y, (m - 1) / 3 * 3 + 2, 1),
            DobLevel::Year => days_from_civil(y, 7, 1),
            DobLevel::FiveYears => days_from_civil(y.div_euclid(5) * 5 + 2, 7, 1),
        }
    }
}

/// Levels of the ethnicity hierarchy, finest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum EthnicLevel {
    /// The 903 code.
    #[serde(rename = "code")]
    Code,
    /// The docs/evaluation.md group (written as its "other" code).
    #[serde(rename = "group")]
    Group,
    /// Not recorded (`NOBT`).
    #[serde(rename = "not recorded")]
    NotRecorded,
}

impl EthnicLevel {
    /// Every level, finest first.
    pub const ALL: [EthnicLevel; 3] = [EthnicLevel::Code, EthnicLevel::Group, EthnicLevel::NotRecorded];

    /// The written code for a true one.
    pub fn written(self, code: &str) -> &str {
        if code == NOT_RECORDED {
            return NOT_RECORDED;
        }
        match self {
            EthnicLevel::Code => code,
            EthnicLevel::Group => GROUP_CODES[ethnic_group_index(code)],
            EthnicLevel::NotRecorded => NOT_RECORDED,
        }
    }
}

/// Marks a group apart from the code it is written as (internal).
const GROUP_MARK: &str = " (group)";
/// The code of "not recorded".
pub const NOT_RECORDED: &str = "NOBT";
/// How each group of [`ETHNIC_GROUPS`] is written (its "other" code).
pub const GROUP_CODES: [&str; 5] = ["WOTH", "MOTH", "AOTH", "BOTH", "OOTH"];
const _: () = assert!(ETHNIC_GROUPS.len() == GROUP_CODES.len());

/// A class of written values: site, sex, birth-date level, written birth date, written
/// ethnicity (indices into interned tables; `i32::MIN` / `u16::MAX` for a missing value).
pub(crate) type ClassKey = (u32, u32, u8, i32, u16);

/// The quasi-identifiers of every child, with each level's written value and loss precomputed.
pub(crate) struct QuasiIdentifiers {
    site: Vec<u32>,
    sex: Vec<u32>,
    /// Written birth date per level (`i32::MIN` when missing).
    dob: Vec<[i32; 4]>,
    dob_known: Vec<bool>,
    /// Loss of the birth date per level.
    dob_loss: Vec<[f64; 4]>,
    /// Written ethnicity (index into `codes`) per level (`u16::MAX` when missing).
    ethnic: Vec<[u16; 3]>,
    /// Loss of the ethnicity per level.
    ethnic_loss: Vec<[f64; 3]>,
    /// The standard deviation of the known dates of birth, in years (the loss's unit).
    dob_sd_years: f64,
    /// The written codes.
    pub(crate) codes: Vec<String>,
}

fn intern(values: &[Option<&str>]) -> Vec<u32> {
    let mut names: Vec<&str> = values.iter().map(|v| v.unwrap_or("")).collect();
    names.sort_unstable();
    names.dedup();
    values.iter().map(|v| names.binary_search(&v.unwrap_or("")).expect("interned") as u32).collect()
}

impl QuasiIdentifiers {
    /// `dob` true dates (days); `ethnic` true codes.
    pub(crate) fn new(
        site: &[Option<&str>],
        sex: &[Option<&str>],
        dob: &[Option<i32>],
        ethnic: &[Option<&str>],
    ) -> Self {
        let known: Vec<f64> = dob.iter().flatten().map(|&d| f64::from(d) / 365.25).collect();
        let sd = if known.len() > 1 {
            let mean = known.iter().sum::<f64>() / known.len() as f64;
            (known.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (known.len() - 1) as f64).sqrt()
        } else {
            0.0
        };
        let sd = if sd > 1e-9 { sd } else { 1.0 };
        let mut codes: Vec<String> = Vec::new();
        let mut index: HashMap<String, u16> = HashMap::new();
        let mut code_of = |c: &str| -> u16 {
            if let Some(&i) = index.get(c) {
                return i;
            }
            codes.push(c.to_string());
            let i = u16::try_from(codes.len() - 1).expect("fewer than 65535 ethnicity codes");
            index.insert(c.to_string(), i);
            i
        };
        let mut dob_w = Vec::with_capacity(dob.len());
        let mut dob_loss = Vec::with_capacity(dob.len());
        for d in dob {
            match d {
                Some(d) => {
                    let w = DobLevel::ALL.map(|l| l.written(*d));
                    dob_w.push(w);
                    dob_loss.push(w.map(|w| f64::from((w - d).abs()) / 365.25 / sd));
                }
                None => {
                    dob_w.push([i32::MIN; 4]);
                    dob_loss.push([0.0; 4]);
                }
            }
        }
        let mut ethnic_w = Vec::with_capacity(ethnic.len());
        let mut ethnic_loss = Vec::with_capacity(ethnic.len());
        for e in ethnic {
            match e {
                Some(code) => {
                    let g = ethnic_group_index(code);
                    // a group is its own value, apart from the code it is written as: the
                    // `ethnic_precision` column tells them apart
                    ethnic_w.push(EthnicLevel::ALL.map(|l| match l.written(code) {
                        w if l == EthnicLevel::Group && w != NOT_RECORDED => code_of(&format!("{w}{GROUP_MARK}")),
                        w => code_of(w),
                    }));
                    ethnic_loss.push(EthnicLevel::ALL.map(|l| {
                        let w = l.written(code);
                        if ethnic_group_index(w) != g {
                            LOSS_GROUP
                        } else if w != *code {
                            LOSS_CODE
                        } else {
                            0.0
                        }
                    }));
                }
                None => {
                    ethnic_w.push([u16::MAX; 3]);
                    ethnic_loss.push([0.0; 3]);
                }
            }
        }
        QuasiIdentifiers {
            site: intern(site),
            sex: intern(sex),
            dob: dob_w,
            dob_known: dob.iter().map(Option::is_some).collect(),
            dob_loss,
            ethnic: ethnic_w,
            ethnic_loss,
            dob_sd_years: sd,
            codes,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.site.len()
    }

    pub(crate) fn key(&self, i: usize, dob_level: u8, ethnic_level: u8) -> ClassKey {
        let dl = if self.dob_known[i] { dob_level } else { 0 };
        (self.site[i], self.sex[i], dl, self.dob[i][dl as usize], self.ethnic[i][ethnic_level as usize])
    }

    /// The written birth date of child `i` at a level (None when missing).
    pub(crate) fn written_dob(&self, i: usize, level: u8) -> Option<i32> {
        self.dob_known[i].then(|| self.dob[i][level as usize])
    }

    /// The written ethnicity of child `i` at a level (None when missing).
    pub(crate) fn written_ethnic(&self, i: usize, level: u8) -> Option<&str> {
        let c = self.ethnic[i][level as usize];
        (c != u16::MAX).then(|| self.codes[c as usize].trim_end_matches(GROUP_MARK))
    }

    /// What the written ethnicity of child `i` at a level tells: `code`, `group` or
    /// `not recorded` (None when missing).
    pub(crate) fn ethnic_precision(&self, i: usize, level: u8) -> Option<&'static str> {
        let c = self.ethnic[i][level as usize];
        (c != u16::MAX).then(|| {
            let code = self.codes[c as usize].as_str();
            if code == NOT_RECORDED {
                "not recorded"
            } else if code.ends_with(GROUP_MARK) {
                "group"
            } else {
                "code"
            }
        })
    }

    fn loss(&self, i: usize, dob_level: u8, ethnic_level: u8) -> f64 {
        self.dob_loss[i][dob_level as usize] + self.ethnic_loss[i][ethnic_level as usize]
    }

    /// The next ethnicity level whose written value differs, if any.
    fn ethnic_step(&self, i: usize, level: u8) -> Option<u8> {
        let now = self.ethnic[i][level as usize];
        (now != u16::MAX).then_some(())?;
        (level + 1..3).find(|&l| self.ethnic[i][l as usize] != now)
    }

    fn dob_step(&self, i: usize, level: u8) -> Option<u8> {
        (self.dob_known[i] && level < 3).then_some(level + 1)
    }
}

/// What one node of the search gives: each child's levels and whether it is removed.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) start: (DobLevel, EthnicLevel),
    pub(crate) dob_level: Vec<u8>,
    pub(crate) ethnic_level: Vec<u8>,
    pub(crate) removed: Vec<bool>,
    pub(crate) summary: NodeSummary,
}

/// One node of the search, measured (in `k_anonymity.json`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NodeSummary {
    /// The birth-date level every child starts from.
    pub dob: DobLevel,
    /// The ethnicity level every child starts from.
    pub ethnic: EthnicLevel,
    /// Children whose values local recoding raised above the node.
    pub recoded_locally: usize,
    /// Children whose ethnic group changed (written as not recorded).
    pub ethnic_group_changed: usize,
    /// Children whose ethnicity code was replaced by their group's.
    pub ethnic_code_replaced: usize,
    /// Children removed.
    pub removed: usize,
    /// Mean absolute error of the written birth date, in months, over the children kept.
    pub mean_dob_error_months: f64,
    /// Total loss (see the module docs), per input child.
    pub loss_per_child: f64,
    /// Whether this node was chosen.
    pub chosen: bool,
}

impl NodeSummary {
    /// The summary of a node that changes nothing (anonymisation without generalisation).
    pub(crate) fn default_for(node: (DobLevel, EthnicLevel)) -> Self {
        NodeSummary {
            dob: node.0,
            ethnic: node.1,
            recoded_locally: 0,
            ethnic_group_changed: 0,
            ethnic_code_replaced: 0,
            removed: 0,
            mean_dob_error_months: 0.0,
            loss_per_child: 0.0,
            chosen: true,
        }
    }
}

#[derive(Clone, Copy)]
struct Step {
    dob: bool,
    to: u8,
    target: ClassKey,
    cost: f64,
}

/// Children by (site, sex, written birth date) at one birth-date level.
type ByBirth = HashMap<(u32, u32, i32), Vec<usize>>;

/// The mutable state of local recoding.
struct State {
    dl: Vec<u8>,
    el: Vec<u8>,
    removed: Vec<bool>,
    sizes: HashMap<ClassKey, u32>,
}

impl State {
    fn raise(&mut self, q: &QuasiIdentifiers, j: usize, dob: u8, ethnic: u8) {
        let from = q.key(j, self.dl[j], self.el[j]);
        *self.sizes.get_mut(&from).expect("the child's class") -= 1;
        self.dl[j] = dob;
        self.el[j] = ethnic;
        *self.sizes.entry(q.key(j, dob, ethnic)).or_insert(0) += 1;
    }
}

/// Children of other classes that can be raised into `class` (at levels `dob`, `ethnic`) to
/// bring it to k, each from a class that keeps more than k: the cheapest `need`, with their cost.
fn donors(
    q: &QuasiIdentifiers,
    s: &State,
    by_birth: &[ByBirth],
    class: ClassKey,
    (dob, ethnic): (u8, u8),
    need: u32,
    k: u32,
) -> Option<(f64, Vec<usize>)> {
    let candidates = by_birth[dob as usize].get(&(class.0, class.1, class.3))?;
    let mut donors: Vec<(f64, usize)> = candidates
        .iter()
        .copied()
        .filter(|&j| {
            !s.removed[j]
                && s.dl[j] <= dob
                && s.el[j] <= ethnic
                && q.key(j, s.dl[j], s.el[j]) != class
                && q.key(j, dob, ethnic) == class
        })
        .map(|j| (q.loss(j, dob, ethnic) - q.loss(j, s.dl[j], s.el[j]), j))
        .collect();
    donors.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut taken = Vec::new();
    let mut left: HashMap<ClassKey, u32> = HashMap::new();
    let mut cost = 0.0;
    for (c, j) in donors {
        let from = q.key(j, s.dl[j], s.el[j]);
        let now = *left.entry(from).or_insert(s.sizes[&from]);
        // a donor's class keeps k or more children
        if now <= k {
            continue;
        }
        left.insert(from, now - 1);
        taken.push(j);
        cost += c;
        if taken.len() as u32 == need {
            return Some((cost, taken));
        }
    }
    None
}

/// What a cell below k does this round.
enum Action {
    Step(Step),
    Donors,
}

/// Local recoding from one starting node until every class holds k or more children.
pub(crate) fn local_recoding(q: &QuasiIdentifiers, start: (DobLevel, EthnicLevel), k: usize) -> Outcome {
    let n = q.len();
    let mut s = State {
        dl: vec![start.0 as u8; n],
        el: vec![start.1 as u8; n],
        removed: vec![false; n],
        sizes: HashMap::new(),
    };
    let k = k as u32;
    loop {
        s.sizes = HashMap::with_capacity(n / 2 + 1);
        for i in (0..n).filter(|&i| !s.removed[i]) {
            *s.sizes.entry(q.key(i, s.dl[i], s.el[i])).or_insert(0) += 1;
        }
        // cells of the classes below k: children sharing the written values and the levels
        let mut cells: BTreeMap<(ClassKey, u8), Vec<usize>> = BTreeMap::new();
        for i in (0..n).filter(|&i| !s.removed[i]) {
            let key = q.key(i, s.dl[i], s.el[i]);
            if s.sizes[&key] < k {
                cells.entry((key, s.el[i])).or_default().push(i);
            }
        }
        if cells.is_empty() {
            break;
        }
        // children by (site, sex, written birth date) at each level: the candidate donors
        let mut by_birth: Vec<ByBirth> = vec![HashMap::new(); 4];
        for i in (0..n).filter(|&i| !s.removed[i]) {
            for (level, map) in by_birth.iter_mut().enumerate() {
                if level as u8 >= s.dl[i] {
                    map.entry((q.site[i], q.sex[i], q.key(i, level as u8, 0).3)).or_default().push(i);
                }
            }
        }
        let cells: Vec<(ClassKey, Vec<usize>, Option<Step>)> = cells
            .into_iter()
            .map(|((key, _), members)| {
                let step = cheapest_step(q, &s, &members);
                (key, members, step)
            })
            .collect();
        // 1. each cell's cheapest way to reach k in one round, when it is cheaper than any step:
        //    its own step, or children of a class that can spare them raised into it
        let mut chosen: Vec<(f64, usize, Action)> = Vec::new();
        for (c, (key, members, step)) in cells.iter().enumerate() {
            let size = s.sizes[key];
            let first = members[0];
            let levels = (s.dl[first], s.el[first]);
            let mut best: Option<(f64, Action)> = step
                .filter(|st| s.sizes.get(&st.target).copied().unwrap_or(0) + members.len() as u32 >= k)
                .map(|st| (st.cost, Action::Step(st)));
            if let Some((cost, _)) = donors(q, &s, &by_birth, *key, levels, k - size, k) {
                if best.as_ref().is_none_or(|(b, _)| cost < *b) {
                    best = Some((cost, Action::Donors));
                }
            }
            if let Some((cost, action)) = best {
                if step.is_none_or(|st| cost <= st.cost) {
                    chosen.push((cost / members.len() as f64, c, action));
                }
            }
        }
        chosen.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut applied = false;
        for (_, c, action) in chosen {
            let (key, members, _) = &cells[c];
            let m = members.len() as u32;
            if s.sizes[key] >= k {
                continue;
            }
            match action {
                Action::Step(st) => {
                    if s.sizes.get(&st.target).copied().unwrap_or(0) + m < k {
                        continue;
                    }
                    for &j in members {
                        let (d, e) = if st.dob { (st.to, s.el[j]) } else { (s.dl[j], st.to) };
                        s.raise(q, j, d, e);
                    }
                }
                Action::Donors => {
                    // recomputed: earlier moves this round may have used some
                    let levels = (s.dl[members[0]], s.el[members[0]]);
                    let Some((_, list)) = donors(q, &s, &by_birth, *key, levels, k - s.sizes[key], k) else { continue };
                    for j in list {
                        s.raise(q, j, levels.0, levels.1);
                    }
                }
            }
            applied = true;
        }
        if applied {
            continue;
        }
        // 2. no cell reaches k cheaply in one round: every cell takes its cheapest step and pools
        for (_, members, step) in &cells {
            if let Some(st) = step {
                for &j in members {
                    let (d, e) = if st.dob { (st.to, s.el[j]) } else { (s.dl[j], st.to) };
                    s.raise(q, j, d, e);
                }
                applied = true;
            }
        }
        if applied {
            continue;
        }
        // 3. nothing left to raise and no donors cheaper than removal: remove
        for (key, members, _) in &cells {
            if s.sizes[key] >= k || s.sizes[key] == 0 {
                continue;
            }
            let levels = (s.dl[members[0]], s.el[members[0]]);
            let need = k - s.sizes[key];
            match donors(q, &s, &by_birth, *key, levels, need, k) {
                Some((cost, list)) if cost < LOSS_REMOVED * f64::from(s.sizes[key]) => {
                    for j in list {
                        s.raise(q, j, levels.0, levels.1);
                    }
                }
                _ => {
                    for &j in members {
                        s.removed[j] = true;
                    }
                    *s.sizes.get_mut(key).expect("class") -= members.len() as u32;
                }
            }
        }
        break;
    }
    let summary = summarise(q, start, &s.dl, &s.el, &s.removed);
    Outcome { start, dob_level: s.dl, ethnic_level: s.el, removed: s.removed, summary }
}

/// The cheaper of a cell's two steps (one level up its birth date or its ethnicity).
fn cheapest_step(q: &QuasiIdentifiers, s: &State, members: &[usize]) -> Option<Step> {
    let i = members[0];
    let cost = |d: u8, e: u8| members.iter().map(|&j| q.loss(j, d, e) - q.loss(j, s.dl[j], s.el[j])).sum::<f64>();
    let dob =
        q.dob_step(i, s.dl[i]).map(|to| Step { dob: true, to, target: q.key(i, to, s.el[i]), cost: cost(to, s.el[i]) });
    let eth = q.ethnic_step(i, s.el[i]).map(|to| Step {
        dob: false,
        to,
        target: q.key(i, s.dl[i], to),
        cost: cost(s.dl[i], to),
    });
    match (dob, eth) {
        (Some(a), Some(b)) => Some(if b.cost < a.cost { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn summarise(
    q: &QuasiIdentifiers,
    start: (DobLevel, EthnicLevel),
    dl: &[u8],
    el: &[u8],
    removed: &[bool],
) -> NodeSummary {
    let n = q.len();
    let (mut recoded, mut changed, mut replaced, mut gone) = (0, 0, 0, 0);
    let (mut loss, mut error_years, mut dated) = (0.0, 0.0, 0usize);
    for i in 0..n {
        if removed[i] {
            gone += 1;
            loss += LOSS_REMOVED;
            continue;
        }
        if dl[i] != start.0 as u8 || el[i] != start.1 as u8 {
            recoded += 1;
        }
        let eloss = q.ethnic_loss[i][el[i] as usize];
        if eloss >= LOSS_GROUP {
            changed += 1;
        } else if eloss > 0.0 {
            replaced += 1;
        }
        loss += q.loss(i, dl[i], el[i]);
        if q.dob_known[i] {
            dated += 1;
            error_years += q.dob_loss[i][dl[i] as usize] * q.dob_sd_years;
        }
    }
    NodeSummary {
        dob: start.0,
        ethnic: start.1,
        recoded_locally: recoded,
        ethnic_group_changed: changed,
        ethnic_code_replaced: replaced,
        removed: gone,
        mean_dob_error_months: if dated > 0 { error_years * 12.0 / dated as f64 } else { 0.0 },
        loss_per_child: if n > 0 { loss / n as f64 } else { 0.0 },
        chosen: false,
    }
}

/// Tries every node of the lattice and keeps the one with the least loss; returns it with the
/// measured summary of every node (lattice order).
pub(crate) fn search(q: &QuasiIdentifiers, k: usize) -> (Outcome, Vec<NodeSummary>) {
    let nodes: Vec<(DobLevel, EthnicLevel)> =
        DobLevel::ALL.iter().flat_map(|&d| EthnicLevel::ALL.iter().map(move |&e| (d, e))).collect();
    let outcomes: Vec<Outcome> = nodes.par_iter().map(|&node| local_recoding(q, node, k)).collect();
    let best = (0..outcomes.len())
        .min_by(|&a, &b| {
            outcomes[a].summary.loss_per_child.total_cmp(&outcomes[b].summary.loss_per_child).then(a.cmp(&b))
        })
        .expect("twelve nodes");
    let mut summaries: Vec<NodeSummary> = outcomes.iter().map(|o| o.summary.clone()).collect();
    summaries[best].chosen = true;
    let chosen = outcomes.into_iter().nth(best).expect("best exists");
    (chosen, summaries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> i32 {
        days_from_civil(y, m, day)
    }

    #[test]
    fn each_level_writes_a_day_inside_its_interval() {
        let dob = d(2003, 11, 17);
        assert_eq!(DobLevel::Month.written(dob), d(2003, 11, 1));
        assert_eq!(DobLevel::Quarter.written(dob), d(2003, 11, 1)); // October-December: November
        assert_eq!(DobLevel::Quarter.written(d(2003, 1, 31)), d(2003, 2, 1));
        assert_eq!(DobLevel::Year.written(dob), d(2003, 7, 1));
        assert_eq!(DobLevel::FiveYears.written(dob), d(2002, 7, 1)); // 2000-2004
        assert_eq!(DobLevel::FiveYears.written(d(2005, 1, 1)), d(2007, 7, 1)); // 2005-2009
        assert_eq!(DobLevel::FiveYears.written(d(1999, 12, 31)), d(1997, 7, 1));
        assert_eq!(EthnicLevel::Code.written("WIRT"), "WIRT");
        assert_eq!(EthnicLevel::Group.written("WIRT"), "WOTH");
        assert_eq!(EthnicLevel::Group.written("BAFR"), "BOTH");
        assert_eq!(EthnicLevel::Group.written("CHNE"), "OOTH");
        assert_eq!(EthnicLevel::Group.written("XXXX"), "OOTH"); // unlisted: Other
        assert_eq!(EthnicLevel::Group.written("NOBT"), "NOBT");
        assert_eq!(EthnicLevel::NotRecorded.written("WBRI"), "NOBT");
    }

    fn qi(rows: &[(&str, &str, i32, &str)]) -> QuasiIdentifiers {
        let site: Vec<Option<&str>> = rows.iter().map(|r| Some(r.0)).collect();
        let sex: Vec<Option<&str>> = rows.iter().map(|r| Some(r.1)).collect();
        let dob: Vec<Option<i32>> = rows.iter().map(|r| Some(r.2)).collect();
        let ethnic: Vec<Option<&str>> = rows.iter().map(|r| Some(r.3)).collect();
        QuasiIdentifiers::new(&site, &sex, &dob, &ethnic)
    }

    fn classes(q: &QuasiIdentifiers, o: &Outcome) -> BTreeMap<ClassKey, usize> {
        let mut sizes = BTreeMap::new();
        for i in (0..q.len()).filter(|&i| !o.removed[i]) {
            *sizes.entry(q.key(i, o.dob_level[i], o.ethnic_level[i])).or_insert(0) += 1;
        }
        sizes
    }

    #[test]
    fn a_small_class_is_generalised_and_given_company_rather_than_losing_its_group() {
        // six white British boys born in 2003 (a class of 6 at the year level); two boys born
        // in 2004, one WIRI and one WBRI; at another site, classes of five children born from
        // 1994 to 2012 so that the spread of birth dates is a care population's
        let mut rows = vec![("S", "1", d(2003, 3, 10), "WBRI"); 6];
        rows.push(("S", "1", d(2004, 5, 2), "WIRI"));
        rows.push(("S", "1", d(2004, 8, 9), "WBRI"));
        for year in (1994..=2012).step_by(3) {
            rows.extend(vec![("T", "2", d(year, 6, 1), "WBRI"); 5]);
        }
        let q = qi(&rows);
        let o = local_recoding(&q, (DobLevel::Year, EthnicLevel::Code), 3);
        assert!(classes(&q, &o).values().all(|&n| n >= 3), "k holds");
        assert!(o.removed.iter().all(|r| !r), "nobody removed");
        // the two go to the five years 2000-2004 as White (cheaper than losing their group) and
        // one of the six is raised to join them: nobody's group changes
        assert_eq!((o.dob_level[6], o.ethnic_level[6]), (DobLevel::FiveYears as u8, EthnicLevel::Group as u8));
        assert_eq!((o.dob_level[7], o.ethnic_level[7]), (DobLevel::FiveYears as u8, EthnicLevel::Group as u8));
        let raised: Vec<usize> = (0..6).filter(|&i| o.dob_level[i] != DobLevel::Year as u8).collect();
        assert_eq!(raised.len(), 1);
        assert_eq!(o.summary.ethnic_group_changed, 0);
        assert_eq!(o.summary.recoded_locally, 3);
        // the other site is untouched
        assert!((8..rows.len()).all(|i| o.dob_level[i] == DobLevel::Year as u8 && o.ethnic_level[i] == 0));
    }

    #[test]
    fn a_child_alone_at_the_top_of_both_hierarchies_is_removed_only_when_cheaper() {
        // one girl at a site with four boys: k = 2 cannot hold for her by recoding (sex is never
        // generalised) and no girl can be raised to her class: she is removed
        let mut rows = vec![("S", "1", d(2003, 3, 10), "WBRI"); 4];
        rows.push(("S", "2", d(2003, 3, 10), "WBRI"));
        let q = qi(&rows);
        let o = local_recoding(&q, (DobLevel::Month, EthnicLevel::Code), 2);
        assert_eq!(o.removed, vec![false, false, false, false, true]);
        assert_eq!(o.summary.removed, 1);
        // the removed child's loss, and the other four's nine days off on the first of the month
        assert!(o.summary.loss_per_child > LOSS_REMOVED / 5.0 && o.summary.loss_per_child < LOSS_REMOVED / 5.0 + 0.1);
    }

    #[test]
    fn donors_are_raised_into_a_top_class_rather_than_removing_it() {
        // a class of 4 (k = 5) at the top of both hierarchies, and 10 children of the same site,
        // sex and five-year band in a class that can spare one
        let mut rows = vec![("S", "1", d(2001, 1, 1), "BAFR"); 4];
        rows.extend(vec![("S", "1", d(2002, 6, 1), "WBRI"); 10]);
        let q = qi(&rows);
        let o = local_recoding(&q, (DobLevel::FiveYears, EthnicLevel::NotRecorded), 5);
        // every child starts at the top: all 14 share (S, 1, 2000-2004, NOBT) already
        assert_eq!(o.summary.removed, 0);
        let o = local_recoding(&q, (DobLevel::FiveYears, EthnicLevel::Code), 5);
        let sizes = classes(&q, &o);
        assert!(sizes.values().all(|&n| n >= 5), "{sizes:?}");
        assert_eq!(o.summary.removed, 0);
        // exactly one white British child was raised to not recorded to keep the four company
        assert_eq!(o.summary.ethnic_group_changed, 5);
        assert_eq!((4..14).filter(|&i| o.ethnic_level[i] == EthnicLevel::NotRecorded as u8).count(), 1);
    }

    #[test]
    fn the_search_keeps_the_node_of_least_loss_and_is_deterministic() {
        let mut rows = Vec::new();
        for (i, code) in ["WBRI", "WIRI", "BAFR", "MWBC", "AIND", "CHNE"].iter().enumerate() {
            for j in 0..(3 + 2 * i) {
                rows.push((
                    "S",
                    if j % 2 == 0 { "1" } else { "2" },
                    d(2000 + (j % 7) as i32, 1 + (j % 12) as u32, 5),
                    *code,
                ));
            }
        }
        let q = qi(&rows);
        let (a, nodes) = search(&q, 3);
        let (b, _) = search(&q, 3);
        assert_eq!(nodes.len(), 12);
        assert_eq!(nodes.iter().filter(|n| n.chosen).count(), 1);
        let best = nodes.iter().map(|n| n.loss_per_child).fold(f64::INFINITY, f64::min);
        assert_eq!(a.summary.loss_per_child, best);
        assert!(classes(&q, &a).values().all(|&n| n >= 3));
        assert_eq!((a.dob_level, a.ethnic_level, a.removed), (b.dob_level, b.ethnic_level, b.removed));
    }
}
