//! Synthetic Social Work Practice pilot datasets with known true effects.
//!
//! [`SynthParams`] describes a dataset (scale, seed, pilot effects); [`ValidSynthParams::generate`]
//! builds it site by site (in parallel, each site with its own random stream, so the result
//! does not depend on the thread count) and [`Synthetic::write`] writes the tables of the data
//! contract plus `dataset.toml`, which records the seed and the true effects.
//!
//! ```
//! let data = swp_synth::SynthParams::new(swp_synth::Scale::Small).seed(7).check().unwrap().generate();
//! assert_eq!(data.sites.iter().filter(|s| s.arm == "pilot").count(), 5);
//! ```
//!
//! # The model
//! - Sites: 5 pilot practices (one per SWP model), their 5 host authorities and comparison
//!   authorities with `x_*` characteristics. Pilots go live between September 2009 and May 2010.
//! - Children enter care as a Poisson stream sized so that a pilot has its cohort (80 to 727)
//!   looked after at go-live. Within a period of care, placement moves, legal-status changes and
//!   temporary placements (T0..T4, returning to the same placement) arrive as Poisson processes;
//!   young children may be placed for adoption; 15% re-enter care; 3% of children only have
//!   short breaks (V3).
//! - Workers hold spells with fte, agency flag and role; leavers are replaced. Leaving, the
//!   number of workers (caseload) and reallocations follow the site's rates; the pilot effects
//!   multiply these rates at pilot sites from go-live.
//! - Allocations: each period of care is allocated to case-holding workers; an allocation ends
//!   when the worker leaves, at a reallocation, or when the period ends; the next starts the same
//!   day (a handover). Reallocations come faster when posts are vacant (caseload pressure: the
//!   rate scales with planned over actual case holders that month, between 0.5x and 2x).

pub mod costs;
mod site;
mod write;

use rayon::prelude::*;
use std::collections::BTreeMap;
use swp_data::date::days_from_civil;
use swp_stats::rng::Rng;

/// Dataset size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// About 2,000 children, 6 financial years: the bundled sample and tests.
    Small,
    /// Pilot cohorts of 80 to 727 children, 15 comparison authorities, 6 financial years.
    Pilot,
    /// About 150 sites, 10 financial years, 1,000,000 children: benchmarks.
    National,
}

impl Scale {
    /// The scale's name.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Small => "small",
            Scale::Pilot => "pilot",
            Scale::National => "national",
        }
    }
}

impl std::str::FromStr for Scale {
    type Err = SynthError;
    fn from_str(s: &str) -> Result<Self, SynthError> {
        match s {
            "small" => Ok(Scale::Small),
            "pilot" => Ok(Scale::Pilot),
            "national" => Ok(Scale::National),
            other => Err(SynthError::UnknownScale(other.to_string())),
        }
    }
}

/// Errors of the generator's parameters.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Not small, pilot or national.
    #[error("unknown scale `{0}` (use small, pilot or national)")]
    UnknownScale(String),
    /// An effect name the generator does not know.
    #[error("unknown effect `{name}` (known: {known})")]
    UnknownEffect {
        /// The name given.
        name: String,
        /// The known names.
        known: String,
    },
    /// An effect value out of range.
    #[error("effect `{name}` = {value} is out of range ({range})")]
    EffectOutOfRange {
        /// Effect name.
        name: String,
        /// Value given.
        value: f64,
        /// The allowed range.
        range: &'static str,
    },
    /// Writing failed.
    #[error("could not write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
}

/// The pilot effects and their defaults: multipliers of rates at pilot sites from go-live
/// (1 = no effect), and a shift of the follow-up SDQ score.
pub const EFFECTS: [(&str, f64, &str); 8] = [
    ("turnover", 0.6, "rate ratio of workers leaving (pilot vs before / elsewhere)"),
    ("caseload", 0.7, "ratio of children per case-holding worker"),
    ("sw_changes", 0.6, "rate ratio of reallocations not caused by a worker leaving"),
    ("placement_moves", 0.8, "rate ratio of placement moves"),
    ("sdq", -1.5, "shift of the follow-up SDQ total difficulties score (points)"),
    ("visits", 1.5, "ratio of how often pilot children are visited after go-live (every 42 days elsewhere)"),
    ("contact_minutes", 1.0, "ratio of the length of contacts with pilot children after go-live (same draws, scaled)"),
    ("pre_trend", 1.0, "ratio of pilot children's placement-move and reallocation rates before go-live (a difference that predates the pilots, for the placebo in time)"),
];

/// Parameters of a synthetic dataset (unchecked).
#[derive(Debug, Clone)]
pub struct SynthParams {
    scale: Scale,
    seed: u64,
    effects: BTreeMap<String, f64>,
}

/// Checked parameters, ready to [`generate`](ValidSynthParams::generate).
#[derive(Debug, Clone)]
pub struct ValidSynthParams(SynthParams);

impl SynthParams {
    /// Defaults: seed 1 and the default effects of [`EFFECTS`].
    pub fn new(scale: Scale) -> Self {
        SynthParams { scale, seed: 1, effects: EFFECTS.iter().map(|(n, v, _)| (n.to_string(), *v)).collect() }
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets one effect (see [`EFFECTS`]).
    pub fn effect(mut self, name: &str, value: f64) -> Self {
        self.effects.insert(name.to_string(), value);
        self
    }

    /// Checks effect names and ranges.
    ///
    /// # Errors
    /// [`SynthError::UnknownEffect`] or [`SynthError::EffectOutOfRange`].
    pub fn check(self) -> Result<ValidSynthParams, SynthError> {
        for (name, &value) in &self.effects {
            if !EFFECTS.iter().any(|(n, _, _)| n == name) {
                let known: Vec<&str> = EFFECTS.iter().map(|(n, _, _)| *n).collect();
                return Err(SynthError::UnknownEffect { name: name.clone(), known: known.join(", ") });
            }
            let ok = if name == "sdq" { value.is_finite() && value.abs() <= 10.0 } else { value > 0.0 && value <= 5.0 };
            if !ok {
                let range = if name == "sdq" { "-10 to 10 points" } else { "a ratio above 0 and at most 5" };
                return Err(SynthError::EffectOutOfRange { name: name.clone(), value, range });
            }
        }
        Ok(ValidSynthParams(self))
    }
}

/// A site row.
#[derive(Debug, Clone)]
pub struct Site {
    /// site_id
    pub site_id: String,
    /// name
    pub name: String,
    /// pilot / host / comparison
    pub arm: &'static str,
    /// SWP model or none
    pub swp_model: &'static str,
    /// go_live (days), pilots only
    pub go_live: Option<i32>,
    /// x_deprivation (IMD-like score)
    pub x_deprivation: f64,
    /// x_cla_rate (children looked after per 10,000)
    pub x_cla_rate: f64,
    /// x_urban (0/1)
    pub x_urban: f64,
    /// children looked after at a time (the cohort size for pilots)
    pub stock: u32,
}

/// A child row.
#[derive(Debug, Clone)]
pub struct Child {
    /// child_id
    pub child_id: String,
    /// site index
    pub site: u32,
    /// 1 / 2
    pub sex: u8,
    /// date of birth (days)
    pub dob: i32,
    /// 903 ethnicity code
    pub ethnic: &'static str,
    /// transfer_date (pilot cohort children: go_live)
    pub transfer_date: Option<i32>,
}

/// An episode row.
#[derive(Debug, Clone)]
pub struct Episode {
    /// child index
    pub child: u32,
    /// decom
    pub decom: i32,
    /// rne
    pub rne: &'static str,
    /// ls
    pub ls: &'static str,
    /// cin
    pub cin: &'static str,
    /// place
    pub place: &'static str,
    /// place_provider
    pub provider: &'static str,
    /// dec (None: open)
    pub dec: Option<i32>,
    /// rec
    pub rec: Option<&'static str>,
    /// reason_place_change
    pub reason: Option<&'static str>,
}

/// A worker spell row.
#[derive(Debug, Clone)]
pub struct Spell {
    /// worker number (global)
    pub worker: u32,
    /// site index
    pub site: u32,
    /// role
    pub role: &'static str,
    /// fte
    pub fte: f64,
    /// agency
    pub agency: bool,
    /// start_date
    pub start: i32,
    /// end_date (None: in post)
    pub end: Option<i32>,
}

/// An allocation row.
#[derive(Debug, Clone)]
pub struct Allocation {
    /// child index
    pub child: u32,
    /// worker number
    pub worker: u32,
    /// start_date
    pub start: i32,
    /// end_date (None: open)
    pub end: Option<i32>,
}

/// An absence row.
#[derive(Debug, Clone)]
pub struct Absence {
    /// worker number
    pub worker: u32,
    /// start_date
    pub start: i32,
    /// end_date
    pub end: i32,
    /// sickness / other
    pub kind: &'static str,
}

/// A contact row.
#[derive(Debug, Clone)]
pub struct Contact {
    /// child index
    pub child: u32,
    /// worker number
    pub worker: u32,
    /// date
    pub date: i32,
    /// kind
    pub kind: &'static str,
    /// minutes
    pub minutes: u32,
}

/// An outcome row.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// child index
    pub child: u32,
    /// baseline / follow_up
    pub wave: &'static str,
    /// measure
    pub measure: &'static str,
    /// value
    pub value: f64,
}

/// A generated dataset, in memory.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// Parameters used.
    pub scale: Scale,
    /// Seed used.
    pub seed: u64,
    /// True effects used.
    pub effects: BTreeMap<String, f64>,
    /// First day of data.
    pub window_start: i32,
    /// Extract date (last day of data).
    pub extract_date: i32,
    /// sites
    pub sites: Vec<Site>,
    /// children
    pub children: Vec<Child>,
    /// episodes
    pub episodes: Vec<Episode>,
    /// worker spells
    pub spells: Vec<Spell>,
    /// allocations
    pub allocations: Vec<Allocation>,
    /// absences
    pub absences: Vec<Absence>,
    /// contacts (not at national scale)
    pub contacts: Vec<Contact>,
    /// outcomes (not at national scale)
    pub outcomes: Vec<Outcome>,
    /// site spending by financial year and category ([`costs`])
    pub costs: Vec<costs::CostRow>,
}

#[derive(Default)]
struct SiteOut {
    children: Vec<Child>,
    episodes: Vec<Episode>,
    spells: Vec<Spell>,
    allocations: Vec<Allocation>,
    absences: Vec<Absence>,
    contacts: Vec<Contact>,
    outcomes: Vec<Outcome>,
}

const MODELS: [&str; 5] = ["professional", "social_enterprise", "third_sector", "private", "in_house"];

fn date(y: i32, m: u32, d: u32) -> i32 {
    days_from_civil(y, m, d)
}

impl ValidSynthParams {
    /// The effects in force.
    pub fn effects(&self) -> &BTreeMap<String, f64> {
        &self.0.effects
    }

    /// Builds the dataset.
    pub fn generate(&self) -> Synthetic {
        let p = &self.0;
        let (first_fy, years) = match p.scale {
            Scale::Small | Scale::Pilot => (2007, 6),
            Scale::National => (2003, 10),
        };
        let window_start = date(first_fy, 4, 1);
        let extract_date = date(first_fy + years, 3, 31);
        let sites = make_sites(p.scale, p.seed);
        let with_extras = p.scale != Scale::National;
        let ctx = Context { window_start, extract_date, effects: Effects::from_values(&p.effects), with_extras };
        let first_go_live = sites.iter().filter_map(|s| s.go_live).min().unwrap_or(window_start);
        let outs: Vec<SiteOut> = sites
            .par_iter()
            .enumerate()
            .map(|(i, site)| {
                let mut rng = Rng::new(p.seed, i as u64 + 1);
                site::generate_site(&ctx, i as u32, site, first_go_live, &mut rng)
            })
            .collect();
        let mut data = Synthetic {
            scale: p.scale,
            seed: p.seed,
            effects: p.effects.clone(),
            window_start,
            extract_date,
            sites,
            children: Vec::new(),
            episodes: Vec::new(),
            spells: Vec::new(),
            allocations: Vec::new(),
            absences: Vec::new(),
            contacts: Vec::new(),
            outcomes: Vec::new(),
            costs: Vec::new(),
        };
        // Renumber site-local indices into global ones, in site order.
        let mut worker_base = 0u32;
        for out in outs {
            let child_base = data.children.len() as u32;
            let n_workers = out.spells.iter().map(|s| s.worker + 1).max().unwrap_or(0);
            data.children.extend(out.children.into_iter().enumerate().map(|(k, mut c)| {
                c.child_id = format!("{:07}", child_base as usize + k + 1);
                c
            }));
            data.episodes.extend(out.episodes.into_iter().map(|mut e| {
                e.child += child_base;
                e
            }));
            data.spells.extend(out.spells.into_iter().map(|mut s| {
                s.worker += worker_base;
                s
            }));
            data.allocations.extend(out.allocations.into_iter().map(|mut a| {
                a.child += child_base;
                a.worker += worker_base;
                a
            }));
            data.absences.extend(out.absences.into_iter().map(|mut a| {
                a.worker += worker_base;
                a
            }));
            data.contacts.extend(out.contacts.into_iter().map(|mut c| {
                c.child += child_base;
                c.worker += worker_base;
                c
            }));
            data.outcomes.extend(out.outcomes.into_iter().map(|mut o| {
                o.child += child_base;
                o
            }));
            worker_base += n_workers;
        }
        data.costs = costs::site_costs(&data);
        data
    }
}

struct Context {
    window_start: i32,
    extract_date: i32,
    effects: Effects,
    with_extras: bool,
}

/// The true pilot effects the generator applies, one named field per entry of [`EFFECTS`]
/// (read from the checked settings once; inside the generator they are fields, so a misspelt
/// name does not compile).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Effects {
    turnover: f64,
    caseload: f64,
    sw_changes: f64,
    placement_moves: f64,
    sdq: f64,
    visits: f64,
    contact_minutes: f64,
    pre_trend: f64,
}

impl Effects {
    /// The field an [`EFFECTS`] name sets (None for a name that is not one: the test
    /// `every_effect_has_a_field` keeps the two lists together).
    fn field(&mut self, name: &str) -> Option<&mut f64> {
        Some(match name {
            "turnover" => &mut self.turnover,
            "caseload" => &mut self.caseload,
            "sw_changes" => &mut self.sw_changes,
            "placement_moves" => &mut self.placement_moves,
            "sdq" => &mut self.sdq,
            "visits" => &mut self.visits,
            "contact_minutes" => &mut self.contact_minutes,
            "pre_trend" => &mut self.pre_trend,
            _ => return None,
        })
    }

    /// [`EFFECTS`]' defaults, overridden by `values` (names checked by [`SynthParams::check`]).
    fn from_values(values: &BTreeMap<String, f64>) -> Effects {
        let mut effects = Effects {
            turnover: 1.0,
            caseload: 1.0,
            sw_changes: 1.0,
            placement_moves: 1.0,
            sdq: 0.0,
            visits: 1.0,
            contact_minutes: 1.0,
            pre_trend: 1.0,
        };
        for (name, default, _) in EFFECTS {
            let value = values.get(name).copied().unwrap_or(default);
            if let Some(field) = effects.field(name) {
                *field = value;
            }
        }
        effects
    }
}

fn make_sites(scale: Scale, seed: u64) -> Vec<Site> {
    let mut rng = Rng::new(seed, 0);
    let (cohorts, host_stock, n_comparison, comparison_stock): ([u32; 5], (u32, u32), usize, (u32, u32)) = match scale {
        Scale::Small => ([80, 95, 110, 85, 100], (60, 90), 6, (120, 180)),
        Scale::Pilot => ([80, 180, 320, 727, 450], (500, 900), 15, (300, 900)),
        Scale::National => ([80, 180, 320, 727, 450], (900, 1500), 140, (400, 2400)),
    };
    let go_lives = [date(2009, 9, 1), date(2009, 11, 2), date(2010, 1, 4), date(2010, 3, 1), date(2010, 5, 4)];
    let mut sites = Vec::new();
    let characteristics = |rng: &mut Rng| {
        (
            (rng.normal() * 8.0 + 25.0).clamp(5.0, 60.0).round(),
            (rng.normal() * 15.0 + 60.0).clamp(20.0, 150.0).round(),
            if rng.chance(0.6) { 1.0 } else { 0.0 },
        )
    };
    for k in 0..5 {
        let (d, c, u) = characteristics(&mut rng);
        sites.push(Site {
            site_id: format!("P{}", k + 1),
            name: format!("Pilot practice {} ({})", k + 1, MODELS[k].replace('_', " ")),
            arm: "pilot",
            swp_model: MODELS[k],
            go_live: Some(go_lives[k]),
            x_deprivation: d,
            x_cla_rate: c,
            x_urban: u,
            stock: cohorts[k],
        });
    }
    for k in 0..5 {
        let (d, c, u) = characteristics(&mut rng);
        sites.push(Site {
            site_id: format!("H{}", k + 1),
            name: format!("Host authority {} (rest of)", k + 1),
            arm: "host",
            swp_model: "none",
            go_live: None,
            x_deprivation: d,
            x_cla_rate: c,
            x_urban: u,
            stock: rng.range(i64::from(host_stock.0), i64::from(host_stock.1)) as u32,
        });
    }
    for k in 0..n_comparison {
        let (d, c, u) = characteristics(&mut rng);
        sites.push(Site {
            site_id: format!("C{:03}", k + 1),
            name: format!("Comparison authority {}", k + 1),
            arm: "comparison",
            swp_model: "none",
            go_live: None,
            x_deprivation: d,
            x_cla_rate: c,
            x_urban: u,
            stock: rng.range(i64::from(comparison_stock.0), i64::from(comparison_stock.1)) as u32,
        });
    }
    sites
}

const MEAN_STAY_YEARS: f64 = 2.5;
const TARGET_CASELOAD: f64 = 14.0;
const ETHNIC: [(&str, f64); 20] = [
    ("WBRI", 70.0),
    ("WIRI", 0.5),
    ("WIRT", 0.3),
    ("WOTH", 3.0),
    ("WROM", 0.5),
    ("MWBC", 3.0),
    ("MWBA", 1.0),
    ("MWAS", 1.0),
    ("MOTH", 2.0),
    ("AIND", 1.0),
    ("APKN", 2.0),
    ("ABAN", 1.0),
    ("AOTH", 1.5),
    ("BCRB", 2.0),
    ("BAFR", 3.0),
    ("BOTH", 1.5),
    ("CHNE", 0.2),
    ("OOTH", 2.5),
    ("REFU", 0.5),
    ("NOBT", 0.5),
];
const FOSTER: [(&str, f64); 6] = [("U1", 10.0), ("U2", 3.0), ("U3", 5.0), ("U4", 40.0), ("U5", 5.0), ("U6", 12.0)];
const OTHER_PLACES: [(&str, f64); 8] =
    [("K2", 6.0), ("R1", 2.0), ("P1", 5.0), ("H5", 2.0), ("S1", 1.0), ("R2", 1.0), ("R3", 1.0), ("Z1", 1.0)];
const REASONS: [(&str, f64); 8] = [
    ("CARPL", 4.0),
    ("CHILD", 2.0),
    ("LAREQ", 3.0),
    ("PLACE", 2.0),
    ("STAND", 1.0),
    ("CREQB", 1.0),
    ("OTHER", 1.0),
    ("ALLEG", 0.5),
];

fn place_for(rng: &mut Rng) -> (&'static str, &'static str) {
    let place = if rng.chance(0.8) { *rng.pick(&FOSTER) } else { *rng.pick(&OTHER_PLACES) };
    let provider = match place {
        "P1" | "Z1" => "PR0",
        "U1" | "U2" | "U3" => "PR1",
        "U4" | "U5" | "U6" => *rng.pick(&[("PR1", 6.0), ("PR4", 3.0), ("PR5", 1.0)]),
        _ => *rng.pick(&[("PR1", 3.0), ("PR3", 2.0), ("PR4", 4.0)]),
    };
    (place, provider)
}

pub use write::write_dataset;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_effect_has_a_field() {
        let values: BTreeMap<String, f64> =
            EFFECTS.iter().enumerate().map(|(k, (name, _, _))| (name.to_string(), 2.0 + k as f64)).collect();
        let mut effects = Effects::from_values(&values);
        for (k, (name, _, _)) in EFFECTS.iter().enumerate() {
            assert_eq!(effects.field(name).copied(), Some(2.0 + k as f64), "{name}");
        }
        let defaults = Effects::from_values(&BTreeMap::new());
        assert_eq!((defaults.turnover, defaults.sdq, defaults.contact_minutes), (0.6, -1.5, 1.0));
    }

    /// Leaving rate of non-agency spells (leavers per worker-year) from `from` to the extract
    /// date, at pilot sites and at comparison sites.
    fn leaving_rates(data: &Synthetic, from: i32) -> (f64, f64) {
        let mut acc = [(0.0, 0.0); 2];
        for s in data.spells.iter().filter(|s| !s.agency) {
            let arm = data.sites[s.site as usize].arm;
            let k = match arm {
                "pilot" => 0,
                "comparison" => 1,
                _ => continue,
            };
            let start = s.start.max(from);
            let end = s.end.unwrap_or(data.extract_date);
            if end < start {
                continue;
            }
            acc[k].0 += f64::from(u8::from(s.end.is_some()));
            acc[k].1 += f64::from(end - start) / 365.25;
        }
        (acc[0].0 / acc[0].1, acc[1].0 / acc[1].1)
    }

    /// Placement moves (new non-temporary placements not returning from a temporary one, after
    /// the first episode) per child-year in care, from `from`, at pilot and comparison sites.
    fn move_rates(data: &Synthetic, from: i32) -> (f64, f64) {
        move_rates_between(data, from, i32::MAX)
    }

    /// Placement moves per child-year looked after from `from` to the day before `to`.
    fn move_rates_between(data: &Synthetic, from: i32, to: i32) -> (f64, f64) {
        let mut acc = [(0.0, 0.0); 2];
        for (i, e) in data.episodes.iter().enumerate() {
            let site = &data.sites[data.children[e.child as usize].site as usize];
            let k = match site.arm {
                "pilot" => 0,
                "comparison" => 1,
                _ => continue,
            };
            let end = e.dec.unwrap_or(data.extract_date).min(to);
            if end >= from && e.decom < to {
                acc[k].1 += f64::from(end - e.decom.max(from)) / 365.25;
            }
            let prev_temp =
                i > 0 && data.episodes[i - 1].child == e.child && data.episodes[i - 1].place.starts_with('T');
            let moved = matches!(e.rne, "P" | "T" | "B") && !e.place.starts_with('T') && !prev_temp;
            if e.decom >= from && e.decom < to && moved {
                acc[k].0 += 1.0;
            }
        }
        (acc[0].0 / acc[0].1, acc[1].0 / acc[1].1)
    }

    /// A planted pre-existing difference lowers pilot children's move rate before any go-live,
    /// and leaves it alone after (every other effect 1).
    #[test]
    fn a_pre_trend_changes_the_pilots_rates_before_go_live_only() {
        let first = date(2009, 9, 1);
        let last = date(2010, 5, 4);
        let data = SynthParams::new(Scale::Pilot)
            .seed(3)
            .effect("turnover", 1.0)
            .effect("caseload", 1.0)
            .effect("sw_changes", 1.0)
            .effect("placement_moves", 1.0)
            .effect("pre_trend", 0.6)
            .check()
            .unwrap()
            .generate();
        let (pilot, comparison) = move_rates_between(&data, first - 3 * 365, first);
        let before = pilot / comparison;
        assert!((0.5..0.72).contains(&before), "move ratio before go-live {before} (true 0.6)");
        let (pilot, comparison) = move_rates_between(&data, last, i32::MAX);
        let after = pilot / comparison;
        assert!((0.88..1.12).contains(&after), "move ratio after go-live {after} (true 1)");
    }

    #[test]
    fn configured_effects_are_present_in_the_generated_data() {
        let go_live = date(2010, 5, 4); // the last pilot's go-live: all pilots are live from here
        let with = SynthParams::new(Scale::Pilot).seed(3).check().unwrap().generate();
        let without = SynthParams::new(Scale::Pilot)
            .seed(3)
            .effect("turnover", 1.0)
            .effect("placement_moves", 1.0)
            .check()
            .unwrap()
            .generate();
        let (pilot, comparison) = leaving_rates(&with, go_live);
        let ratio = pilot / comparison;
        assert!((0.45..0.8).contains(&ratio), "turnover ratio {ratio} (true 0.6)");
        let (pilot, comparison) = leaving_rates(&without, go_live);
        let ratio = pilot / comparison;
        assert!((0.8..1.25).contains(&ratio), "turnover ratio {ratio} (true 1)");
        let (pilot, comparison) = move_rates(&with, go_live);
        let ratio = pilot / comparison;
        assert!((0.7..0.92).contains(&ratio), "placement move ratio {ratio} (true 0.8)");
        let (pilot, comparison) = move_rates(&without, go_live);
        let ratio = pilot / comparison;
        assert!((0.9..1.1).contains(&ratio), "placement move ratio {ratio} (true 1)");
    }

    /// Mean caseload of case-holding workers on `day`, at pilot and at comparison sites.
    fn caseloads(data: &Synthetic, day: i32) -> (f64, f64) {
        let mut per_worker: BTreeMap<u32, u32> = BTreeMap::new();
        for a in data.allocations.iter().filter(|a| a.start <= day && a.end.is_none_or(|e| e > day)) {
            *per_worker.entry(a.worker).or_insert(0) += 1;
        }
        let site_of: BTreeMap<u32, u32> = data.spells.iter().map(|s| (s.worker, s.site)).collect();
        let mut acc = [(0.0, 0.0); 2];
        for (worker, n) in per_worker {
            let k = match data.sites[site_of[&worker] as usize].arm {
                "pilot" => 0,
                "comparison" => 1,
                _ => continue,
            };
            acc[k].0 += f64::from(n);
            acc[k].1 += 1.0;
        }
        (acc[0].0 / acc[0].1, acc[1].0 / acc[1].1)
    }

    /// Social-worker changes (a new allocation of a child already allocated, to another worker)
    /// starting from `from`, per child-year looked after, at pilot and comparison sites.
    fn change_rates(data: &Synthetic, from: i32) -> (f64, f64) {
        let arm = |child: u32| data.sites[data.children[child as usize].site as usize].arm;
        let mut acc = [(0.0, 0.0); 2];
        for (i, a) in data.allocations.iter().enumerate() {
            let k = match arm(a.child) {
                "pilot" => 0,
                "comparison" => 1,
                _ => continue,
            };
            let prev = i.checked_sub(1).map(|j| &data.allocations[j]).filter(|p| p.child == a.child);
            if a.start >= from && prev.is_some_and(|p| p.worker != a.worker) {
                acc[k].0 += 1.0;
            }
        }
        for e in &data.episodes {
            let k = match arm(e.child) {
                "pilot" => 0,
                "comparison" => 1,
                _ => continue,
            };
            let end = e.dec.unwrap_or(data.extract_date);
            if end >= from {
                acc[k].1 += f64::from(end - e.decom.max(from)) / 365.25;
            }
        }
        (acc[0].0 / acc[0].1, acc[1].0 / acc[1].1)
    }

    #[test]
    fn caseload_and_social_worker_change_effects_are_present() {
        let go_live = date(2010, 5, 4);
        let with = SynthParams::new(Scale::Pilot).seed(4).check().unwrap().generate();
        let without = SynthParams::new(Scale::Pilot)
            .seed(4)
            .effect("caseload", 1.0)
            .effect("turnover", 1.0)
            .effect("sw_changes", 1.0)
            .check()
            .unwrap()
            .generate();
        let day = date(2011, 9, 30);
        let (pilot, comparison) = caseloads(&with, day);
        assert!((0.55..0.85).contains(&(pilot / comparison)), "caseload ratio {} (true 0.7)", pilot / comparison);
        let (pilot, comparison) = caseloads(&without, day);
        assert!((0.85..1.15).contains(&(pilot / comparison)), "caseload ratio {} (true 1)", pilot / comparison);
        // changes come from reallocations (effect 0.6) and from workers leaving (turnover 0.6)
        let (pilot, comparison) = change_rates(&with, go_live);
        assert!((0.45..0.8).contains(&(pilot / comparison)), "change ratio {} (true about 0.6)", pilot / comparison);
        let (pilot, comparison) = change_rates(&without, go_live);
        assert!((0.85..1.15).contains(&(pilot / comparison)), "change ratio {} (true 1)", pilot / comparison);
    }

    #[test]
    fn the_sdq_effect_shifts_pilot_follow_up_scores() {
        let shift = |data: &Synthetic| {
            // mean follow-up minus baseline SDQ change, pilot minus comparison
            let mut by_child: BTreeMap<u32, (f64, f64)> = BTreeMap::new();
            for o in data.outcomes.iter().filter(|o| o.measure == "sdq_total") {
                let e = by_child.entry(o.child).or_insert((f64::NAN, f64::NAN));
                if o.wave == "baseline" {
                    e.0 = o.value;
                } else {
                    e.1 = o.value;
                }
            }
            let mut acc = [(0.0, 0.0); 2];
            for (child, (base, follow)) in by_child {
                let k = match data.sites[data.children[child as usize].site as usize].arm {
                    "pilot" => 0,
                    "comparison" => 1,
                    _ => continue,
                };
                acc[k].0 += follow - 0.7 * base;
                acc[k].1 += 1.0;
            }
            acc[0].0 / acc[0].1 - acc[1].0 / acc[1].1
        };
        let with = SynthParams::new(Scale::Pilot).seed(6).check().unwrap().generate();
        let without = SynthParams::new(Scale::Pilot).seed(6).effect("sdq", 0.0).check().unwrap().generate();
        let (a, b) = (shift(&with), shift(&without));
        assert!((a + 1.5).abs() < 0.5, "sdq shift {a} (true -1.5)");
        assert!(b.abs() < 0.5, "sdq shift {b} (true 0)");
    }

    #[test]
    fn pilot_cohorts_and_sites_follow_the_design() {
        let data = SynthParams::new(Scale::Pilot).seed(5).check().unwrap().generate();
        let models: Vec<&str> = data.sites.iter().filter(|s| s.arm == "pilot").map(|s| s.swp_model).collect();
        assert_eq!(models, MODELS.to_vec());
        // the cohort: children at each pilot looked after at its go-live (transfer_date set)
        for (i, site) in data.sites.iter().enumerate().filter(|(_, s)| s.arm == "pilot") {
            let cohort = data.children.iter().filter(|c| c.site as usize == i && c.transfer_date.is_some()).count();
            let target = f64::from(site.stock);
            assert!(
                (cohort as f64 - target).abs() < 0.35 * target + 15.0,
                "{}: cohort {cohort}, target {target}",
                site.site_id
            );
        }
    }

    #[test]
    fn unknown_or_out_of_range_effects_are_refused() {
        assert!(matches!(
            SynthParams::new(Scale::Small).effect("x", 1.0).check(),
            Err(SynthError::UnknownEffect { .. })
        ));
        assert!(matches!(
            SynthParams::new(Scale::Small).effect("turnover", 0.0).check(),
            Err(SynthError::EffectOutOfRange { .. })
        ));
    }
}
