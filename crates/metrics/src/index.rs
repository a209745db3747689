//! The dataset as the metrics read it: every child, worker and site interned to a small
//! integer once, each child's episodes, allocations and contacts stored together and sorted
//! (compressed rows), placement codes reduced to flags. Every metric then runs over plain
//! slices, child by child in parallel, without looking anything up by name.
//!
//! The same [`Builder`] serves the dataset loader and the hand-built test datasets, so the
//! tests exercise the code path users run.

use crate::period::{Period, SiteGroups};
use crate::settings::PlacementCodes;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use swp_data::validate::{code_ids, date_column, number_column, text_column, CodeView, DateView, TextView};
use swp_data::{Dataset, UNRESOLVED};

/// Rows grouped by an owner (child or worker): `items[offsets[i]..offsets[i + 1]]` belong to
/// owner `i`.
#[derive(Debug, Clone, Default)]
pub struct Grouped<T> {
    offsets: Vec<u32>,
    items: Vec<T>,
}

/// Items with their owners, in input order: the input of [`Grouped`].
#[derive(Debug, Clone)]
pub struct Keyed<T> {
    keys: Vec<u32>,
    items: Vec<T>,
}

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Keyed { keys: Vec::new(), items: Vec::new() }
    }
}

impl<T> Keyed<T> {
    /// Adds `item` of owner `key`.
    pub fn push(&mut self, key: u32, item: T) {
        self.keys.push(key);
        self.items.push(item);
    }
}

/// The key of a row left out by [`Keyed::from_rows`] (owners are numbered below it).
const SKIPPED: u32 = u32::MAX;

impl<T: Copy + Send + Sync> Keyed<T> {
    /// The pairs `f(row)` of rows `0..rows` that have one, in row order. One parallel pass writes
    /// every row's pair straight into vectors of the table's height (`fill` stands in for a row
    /// without one); rows without one are then taken out in one sequential pass, which valid
    /// datasets, where every row has an owner, never need. (A filtered parallel collect grows a
    /// vector per block by doubling, then appends the blocks one after another.)
    fn from_rows(rows: usize, fill: T, f: impl Fn(usize) -> Option<(u32, T)> + Sync) -> Self {
        let (mut keys, mut items) = (Vec::new(), Vec::new());
        (0..rows)
            .into_par_iter()
            .with_min_len(1 << 14)
            .map(|row| f(row).filter(|(k, _)| *k != SKIPPED).unwrap_or((SKIPPED, fill)))
            .unzip_into_vecs(&mut keys, &mut items);
        if keys.par_iter().any(|&k| k == SKIPPED) {
            let mut kept = 0;
            for i in 0..keys.len() {
                if keys[i] != SKIPPED {
                    keys[kept] = keys[i];
                    items[kept] = items[i];
                    kept += 1;
                }
            }
            keys.truncate(kept);
            items.truncate(kept);
        }
        Keyed { keys, items }
    }
}

impl<T: Send> FromParallelIterator<(u32, T)> for Keyed<T> {
    fn from_par_iter<I: IntoParallelIterator<Item = (u32, T)>>(pairs: I) -> Self {
        let (keys, items) = pairs.into_par_iter().unzip();
        Keyed { keys, items }
    }
}

impl<T> FromIterator<(u32, T)> for Keyed<T> {
    fn from_iter<I: IntoIterator<Item = (u32, T)>>(pairs: I) -> Self {
        let (keys, items) = pairs.into_iter().unzip();
        Keyed { keys, items }
    }
}

impl<T: Copy + Send + Sync> Grouped<T> {
    /// Groups items by owner for `owners` owners, keeping input order within an owner (a
    /// counting sort; items already in owner order, as sorted extracts give them, are kept as
    /// they are, without a copy).
    fn new(owners: usize, keyed: Keyed<T>) -> Self {
        let Keyed { keys, items } = keyed;
        let mut offsets = vec![0u32; owners + 1];
        for &k in &keys {
            offsets[k as usize + 1] += 1;
        }
        for i in 0..owners {
            offsets[i + 1] += offsets[i];
        }
        let Some(&fill) = items.first() else { return Grouped { offsets, items: Vec::new() } };
        if keys.par_windows(2).with_min_len(1 << 14).all(|w| w[0] <= w[1]) {
            return Grouped { offsets, items };
        }
        let mut grouped = vec![fill; items.len()];
        let mut next: Vec<u32> = offsets[..owners].to_vec();
        for (&k, item) in keys.iter().zip(items) {
            grouped[next[k as usize] as usize] = item;
            next[k as usize] += 1;
        }
        Grouped { offsets, items: grouped }
    }
}

impl<T> Grouped<T> {
    /// The items of owner `i`.
    pub fn of(&self, i: usize) -> &[T] {
        &self.items[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Runs `f` on every owner's items, owners in parallel (fixed blocks of owners).
    fn for_each_owner_mut(&mut self, f: impl Fn(&mut [T]) + Sync)
    where
        T: Send,
    {
        const OWNERS: usize = 8192;
        let owners = self.owners();
        let mut blocks: Vec<(&[u32], &mut [T])> = Vec::with_capacity(owners.div_ceil(OWNERS));
        let mut rest: &mut [T] = &mut self.items;
        let mut consumed = 0usize;
        for b in 0..owners.div_ceil(OWNERS) {
            let offsets = &self.offsets[b * OWNERS..=((b + 1) * OWNERS).min(owners)];
            let end = offsets[offsets.len() - 1] as usize;
            let (block, tail) = std::mem::take(&mut rest).split_at_mut(end - consumed);
            blocks.push((offsets, block));
            rest = tail;
            consumed = end;
        }
        blocks.into_par_iter().for_each(|(offsets, block)| {
            let base = offsets[0] as usize;
            for w in offsets.windows(2) {
                f(&mut block[w[0] as usize - base..w[1] as usize - base]);
            }
        });
    }

    /// Number of owners.
    pub fn owners(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Every item, owner by owner.
    pub fn items(&self) -> &[T] {
        &self.items
    }
}

/// Flag bits of an episode (from its codes and its place among the child's episodes).
pub mod flag {
    /// RNE says the child moved to a new carer.
    pub const NEW_CARER: u8 = 1;
    /// A temporary placement (PLACE T0..T4 by default).
    pub const TEMPORARY: u8 = 2;
    /// A short break (LS V3/V4 by default).
    pub const SHORT_BREAK: u8 = 4;
    /// An adoption placement (PLACE A3..A6 by default).
    pub const ADOPTION: u8 = 8;
    /// The episode starts a placement (docs/metrics.md: a new carer, not temporary, not a short
    /// break, not the return from a temporary placement).
    pub const STARTS_PLACEMENT: u8 = 16;
}

/// One episode of care, as the metrics need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    /// DECOM.
    pub start: i32,
    /// DEC (None while open).
    pub end: Option<i32>,
    /// [`flag`] bits.
    pub flags: u8,
    /// Index (among the child's episodes) of the first episode of this period of care.
    pub period_start: u32,
    /// Row of the episode in the dataset's episodes table ([`NO_ROW`] when built by hand), for
    /// the codes the metrics do not keep (legal status, category of need, placement type).
    pub row: u32,
}

/// [`Episode::row`] of an episode not read from a dataset table.
pub const NO_ROW: u32 = u32::MAX;

impl Episode {
    /// Whether the child is in this episode on `day`.
    pub fn in_force(&self, day: i32) -> bool {
        self.start <= day && self.end.is_none_or(|e| day <= e)
    }

    /// Whether flag `bit` is set.
    pub fn is(&self, bit: u8) -> bool {
        self.flags & bit != 0
    }
}

/// A child's allocation to a worker, the last day in force adjusted for same-day handovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    /// Worker index.
    pub worker: u32,
    /// First day.
    pub start: i32,
    /// Last day in force (None while open).
    pub last: Option<i32>,
}

impl Allocation {
    /// Whether the allocation is in force on `day`.
    pub fn open_on(&self, day: i32) -> bool {
        self.start <= day && self.last.is_none_or(|l| day <= l)
    }
}

/// Kind of a contact, as the contact metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    /// A visit, child not seen alone.
    Visit,
    /// A visit with the child seen alone.
    SeenAlone,
    /// Any other contact (phone, meeting...).
    Other,
}

/// A contact with a child.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contact {
    /// Day of the contact.
    pub date: i32,
    /// Kind.
    pub kind: ContactKind,
    /// Minutes (0 when not recorded).
    pub minutes: f64,
}

/// A worker's spell in post at one site.
#[derive(Debug, Clone, PartialEq)]
pub struct Spell {
    /// Worker index.
    pub worker: u32,
    /// Site index.
    pub site: usize,
    /// A counted role (social worker, senior practitioner, team manager).
    pub counted: bool,
    /// FTE.
    pub fte: f64,
    /// Agency (not the authority's own staff).
    pub agency: bool,
    /// First day in post.
    pub start: i32,
    /// Last day in post (None while in post).
    pub end: Option<i32>,
}

impl Spell {
    /// Whether the worker is in post on `day`.
    pub fn in_post(&self, day: i32) -> bool {
        self.start <= day && self.end.is_none_or(|e| day <= e)
    }
}

/// Identifiers kept in one buffer (one allocation for a million ids).
#[derive(Debug, Clone, Default)]
pub struct Names {
    text: String,
    ends: Vec<u32>,
}

impl Names {
    fn push(&mut self, name: &str) {
        self.text.push_str(name);
        self.ends.push(self.text.len() as u32);
    }

    /// The names `name(0)`, ..., `name(n - 1)`, built in parallel blocks joined in order.
    fn from_fn<'a>(n: usize, name: impl Fn(usize) -> &'a str + Sync) -> Self {
        const BLOCK: usize = 1 << 15;
        let blocks: Vec<Names> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let mut names = Names::default();
                for i in b * BLOCK..n.min((b + 1) * BLOCK) {
                    names.push(name(i));
                }
                names
            })
            .collect();
        let mut all = Names {
            text: String::with_capacity(blocks.iter().map(|b| b.text.len()).sum()),
            ends: Vec::with_capacity(n),
        };
        for block in blocks {
            let offset = all.text.len() as u32;
            all.text.push_str(&block.text);
            all.ends.extend(block.ends.iter().map(|&end| end + offset));
        }
        all
    }

    /// Name `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// The dataset as the metrics read it.
#[derive(Debug, Clone)]
pub struct Index {
    /// The grouping of sites.
    pub groups: SiteGroups,
    /// Site index of each child.
    pub child_site: Vec<u32>,
    /// Date of birth of each child.
    pub child_dob: Vec<Option<i32>>,
    /// Child ids (unique within a site).
    pub child_ids: Names,
    /// Episodes of each child, by start (then end, open last).
    pub episodes: Grouped<Episode>,
    /// Allocations of each child, by start, handovers applied.
    pub allocations: Grouped<Allocation>,
    /// Contacts of each child, by date (None when the dataset has no contacts table).
    pub contacts: Option<Grouped<Contact>>,
    /// Worker ids.
    pub worker_ids: Names,
    /// Every spell in post, in input order.
    pub spells: Vec<Spell>,
    /// Indices into `spells` of each worker's spells, in input order.
    pub spells_of: Grouped<u32>,
    /// Sickness absences (first, last day) of each worker.
    pub sickness: Grouped<(i32, i32)>,
    /// Site spending (None when the dataset has no costs table).
    pub costs: Option<Vec<crate::cost_table::CostRecord>>,
}

impl Index {
    /// The index of a loaded dataset under a grouping and the placement code sets.
    pub fn new(dataset: &Dataset, groups: SiteGroups, codes: &PlacementCodes) -> Self {
        let mut b = Builder::new(groups);
        // children are the rows of the children table; other tables join on the child rows
        // that validation resolved (Dataset::child_rows)
        let c = &dataset.children.frame;
        let (ids, sites, dobs) = (TextView::new(c, "child_id"), TextView::new(c, "site_id"), DateView::new(c, "dob"));
        // sites and dates of birth in parallel (a run of one site's rows reuses its look-up)
        let groups = &b.groups;
        b.child_site = (0..c.height())
            .into_par_iter()
            .with_min_len(1 << 14)
            .map_init(
                || None::<(&str, u32)>,
                |last, row| {
                    let site = sites.get(row)?;
                    match *last {
                        Some((s, i)) if s == site => Some(i),
                        _ => {
                            let i = groups.site_index(site).map_or(NO_SITE, |i| i as u32);
                            *last = Some((site, i));
                            Some(i)
                        }
                    }
                },
            )
            .map(|site| site.unwrap_or(NO_SITE))
            .collect();
        b.child_dob = (0..c.height()).into_par_iter().with_min_len(1 << 14).map(|row| dobs.get(row)).collect();
        b.child_ids = Names::from_fn(c.height(), |row| ids.get(row).unwrap_or_default());
        let child_of = |k: usize, row: usize| dataset.child_rows[k].get(row).copied().filter(|&c| c != UNRESOLVED);

        let e = &dataset.episodes.frame;
        let (starts, ends) = (DateView::new(e, "decom"), DateView::new(e, "dec"));
        let (rne, ls, place) = (CodeView::new(e, "rne"), CodeView::new(e, "ls"), CodeView::new(e, "place"));
        let in_list = |list: &[String], v: &str| list.iter().any(|c| c == v);
        let rne_bits = rne.bits(|v| in_list(&codes.new_carer_rne, v), flag::NEW_CARER);
        let ls_bits = ls.bits(|v| in_list(&codes.short_break_ls, v), flag::SHORT_BREAK);
        let place_bits: Vec<u8> = place
            .bits(|v| in_list(&codes.temporary_places, v), flag::TEMPORARY)
            .into_iter()
            .zip(place.bits(|v| in_list(&codes.adoption_places, v), flag::ADOPTION))
            .map(|(t, a)| t | a)
            .collect();
        let no_episode = Episode { start: 0, end: None, flags: 0, period_start: 0, row: NO_ROW };
        let episodes = || {
            Keyed::from_rows(e.height(), no_episode, |row| {
                let (child, start) = (child_of(0, row)?, starts.get(row)?);
                let flags = rne.flag(&rne_bits, row) | ls.flag(&ls_bits, row) | place.flag(&place_bits, row);
                Some((child, Episode { start, end: ends.get(row), flags, period_start: 0, row: row as u32 }))
            })
        };
        // the workers' spells and absences (serial, a few hundred thousand rows) beside the
        // episodes (parallel); gives the workers rows' ids
        let spells_and_absences = || {
            let w = &dataset.workers.frame;
            let (spell_ids, sites, fte) =
                (text_column(w, "worker_id"), text_column(w, "site_id"), number_column(w, "fte"));
            let counted =
                code_flags(w, "role", |v| matches!(v, "social_worker" | "senior_practitioner" | "team_manager"), 1);
            let agency: Vec<Option<bool>> = match w.column("agency").ok().and_then(|c| c.bool().ok()) {
                Some(ca) => ca.iter().collect(),
                None => vec![None; w.height()],
            };
            let (starts, ends) = (date_column(w, "start_date"), date_column(w, "end_date"));
            for row in 0..w.height() {
                if let (Some(id), Some(site), Some(start)) = (spell_ids[row], sites[row], starts[row]) {
                    let record = SpellRecord {
                        counted: counted[row] == 1,
                        fte: fte[row].unwrap_or(0.0),
                        agency: agency[row].unwrap_or(false),
                        start,
                        end: ends[row],
                    };
                    b.spell(id, site, record);
                }
            }
            let a = &dataset.absences.frame;
            let (ids, starts, ends) =
                (text_column(a, "worker_id"), date_column(a, "start_date"), date_column(a, "end_date"));
            let sick = code_flags(a, "kind", |v| v == "sickness", 1);
            for row in 0..a.height() {
                if let (Some(id), 1, Some(start), Some(end)) = (ids[row], sick[row], starts[row], ends[row]) {
                    b.sickness(id, start, end);
                }
            }
            spell_ids
        };
        let (episodes, spell_ids) = rayon::join(episodes, spells_and_absences);
        b.episodes = episodes;

        let a = &dataset.allocations.frame;
        let workers = TextView::new(a, "worker_id");
        let (starts, ends) = (DateView::new(a, "start_date"), DateView::new(a, "end_date"));
        // workers known from the workers table are looked up in parallel; others (dangling
        // references, a validation problem) are added after, in row order
        const UNKNOWN: u32 = u32::MAX;
        let map = &b.workers;
        let rows = &dataset.worker_rows[0];
        let mut worker_of: Vec<u32> = if rows.len() == a.height() {
            // validation found each allocation's first workers row (Dataset::worker_rows): the
            // index of that row's id, with no second look-up by id
            let of_workers_row: Vec<u32> =
                spell_ids.iter().map(|id| id.and_then(|id| map.get(id).copied()).unwrap_or(UNKNOWN)).collect();
            rows.par_iter()
                .with_min_len(1 << 14)
                .map(|&r| of_workers_row.get(r as usize).copied().unwrap_or(UNKNOWN))
                .collect()
        } else {
            (0..a.height())
                .into_par_iter()
                .with_min_len(1 << 14)
                .map(|row| workers.get(row).and_then(|w| map.get(w).copied()).unwrap_or(UNKNOWN))
                .collect()
        };
        for (row, worker) in worker_of.iter_mut().enumerate().filter(|(_, w)| **w == UNKNOWN) {
            if let (Some(_), Some(id), Some(_)) = (child_of(1, row), workers.get(row), starts.get(row)) {
                *worker = b.worker_index(id);
            }
        }
        b.allocations = Keyed::from_rows(a.height(), Allocation { worker: UNKNOWN, start: 0, last: None }, |row| {
            let (child, start) = (child_of(1, row)?, starts.get(row)?);
            let worker = Some(worker_of[row]).filter(|&w| w != UNKNOWN)?;
            Some((child, Allocation { worker, start, last: ends.get(row) }))
        });

        if dataset.contacts.present {
            b.has_contacts = true;
            let c = &dataset.contacts.frame;
            let dates = date_column(c, "date");
            let minutes = number_column(c, "minutes");
            let (categories, kinds) = code_ids(c, "kind");
            let kind_of: Vec<ContactKind> = categories.iter().map(|k| contact_kind(k)).collect();
            for row in 0..c.height() {
                if let (Some(child), Some(date), Some(kind)) = (child_of(2, row), dates[row], kinds[row]) {
                    let contact = Contact { date, kind: kind_of[kind as usize], minutes: minutes[row].unwrap_or(0.0) };
                    b.contacts.push(child, contact);
                }
            }
        }
        let mut index = b.finish();
        index.costs = crate::cost_table::read(dataset, &index.groups);
        index
    }

    /// Number of children.
    pub fn children(&self) -> usize {
        self.child_site.len()
    }

    /// Group of child `c`, a child at one of the groups' sites (see [`NO_SITE`]).
    pub fn group_of_child(&self, c: usize) -> usize {
        self.groups.group_of_site[self.child_site[c] as usize]
    }

    /// The spell of `worker` in post on `day` (the first in input order), if any.
    pub fn spell_in_post(&self, worker: u32, day: i32) -> Option<&Spell> {
        self.spells_of.of(worker as usize).iter().map(|&s| &self.spells[s as usize]).find(|s| s.in_post(day))
    }
}

/// `child_site` of a child whose site is not one of the groups' sites (left out of every
/// metric).
pub const NO_SITE: u32 = u32::MAX;

/// Flags from a code column: `bit` where `is(code)`, else 0.
fn code_flags(frame: &polars::prelude::DataFrame, name: &str, is: impl Fn(&str) -> bool, bit: u8) -> Vec<u8> {
    let view = CodeView::new(frame, name);
    let bits = view.bits(is, bit);
    (0..frame.height()).map(|row| view.flag(&bits, row)).collect()
}

fn contact_kind(kind: &str) -> ContactKind {
    match kind {
        "visit" => ContactKind::Visit,
        "seen_alone" => ContactKind::SeenAlone,
        _ => ContactKind::Other,
    }
}

/// A spell's fields other than the worker and the site.
#[derive(Debug, Clone, Copy)]
pub struct SpellRecord {
    /// A counted role.
    pub counted: bool,
    /// FTE.
    pub fte: f64,
    /// Agency.
    pub agency: bool,
    /// First day.
    pub start: i32,
    /// Last day (None while in post).
    pub end: Option<i32>,
}

/// Builds an [`Index`] record by record, interning site, child and worker ids. Rows whose
/// site is not among the groups' sites are left out (validation reports them).
pub struct Builder<'a> {
    groups: SiteGroups,
    sites: FxHashMap<&'a str, u32>,
    children: FxHashMap<(u32, &'a str), u32>,
    last_child: Option<(&'a str, &'a str, u32)>,
    workers: FxHashMap<&'a str, u32>,
    child_site: Vec<u32>,
    child_dob: Vec<Option<i32>>,
    child_ids: Names,
    worker_ids: Names,
    episodes: Keyed<Episode>,
    allocations: Keyed<Allocation>,
    contacts: Keyed<Contact>,
    has_contacts: bool,
    spells: Vec<Spell>,
    sickness: Keyed<(i32, i32)>,
}

impl<'a> Builder<'a> {
    /// An empty builder for the sites of `groups`.
    pub fn new(groups: SiteGroups) -> Self {
        Builder {
            groups,
            sites: FxHashMap::default(),
            children: FxHashMap::default(),
            last_child: None,
            workers: FxHashMap::default(),
            child_site: Vec::new(),
            child_dob: Vec::new(),
            child_ids: Names::default(),
            worker_ids: Names::default(),
            episodes: Keyed::default(),
            allocations: Keyed::default(),
            contacts: Keyed::default(),
            has_contacts: false,
            spells: Vec::new(),
            sickness: Keyed::default(),
        }
    }

    fn site(&mut self, site: &'a str) -> Option<u32> {
        if let Some(&i) = self.sites.get(site) {
            return Some(i);
        }
        let i = self.groups.site_index(site)? as u32;
        self.sites.insert(site, i);
        Some(i)
    }

    /// Adds a child (site None: not one of the groups' sites) and returns its index.
    fn push_child(&mut self, site: Option<u32>, id: &str, dob: Option<i32>) -> u32 {
        self.child_site.push(site.unwrap_or(NO_SITE));
        self.child_dob.push(dob);
        self.child_ids.push(id);
        self.child_site.len() as u32 - 1
    }

    /// The index of child `id` at `site`, added when new (None when the site is unknown).
    fn child_index(&mut self, site: &'a str, id: &'a str) -> Option<u32> {
        if let Some((s, c, i)) = self.last_child {
            if s == site && c == id {
                return Some(i);
            }
        }
        let s = self.site(site)?;
        let next = self.child_site.len() as u32;
        let i = *self.children.entry((s, id)).or_insert(next);
        if i == next {
            self.push_child(Some(s), id, None);
        }
        self.last_child = Some((site, id, i));
        Some(i)
    }

    fn worker_index(&mut self, id: &'a str) -> u32 {
        let next = self.workers.len() as u32;
        let i = *self.workers.entry(id).or_insert(next);
        if i == next {
            self.worker_ids.push(id);
        }
        i
    }

    /// A child and its date of birth.
    pub fn child(&mut self, site: &'a str, id: &'a str, dob: Option<i32>) {
        if let Some(c) = self.child_index(site, id) {
            self.child_dob[c as usize] = dob;
        }
    }

    /// An episode, its codes given as text.
    #[allow(clippy::too_many_arguments)]
    pub fn episode(
        &mut self,
        site: &'a str,
        id: &'a str,
        start: i32,
        end: Option<i32>,
        (rne, ls, place): (&str, &str, &str),
        codes: &PlacementCodes,
    ) {
        let has = |list: &[String], v: &str| list.iter().any(|c| c == v);
        let mut flags = 0;
        if has(&codes.new_carer_rne, rne) {
            flags |= flag::NEW_CARER;
        }
        if has(&codes.short_break_ls, ls) {
            flags |= flag::SHORT_BREAK;
        }
        if has(&codes.temporary_places, place) {
            flags |= flag::TEMPORARY;
        }
        if has(&codes.adoption_places, place) {
            flags |= flag::ADOPTION;
        }
        self.episode_with_flags(site, id, start, end, flags);
    }

    /// An episode with its code flags.
    pub fn episode_with_flags(&mut self, site: &'a str, id: &'a str, start: i32, end: Option<i32>, flags: u8) {
        if let Some(c) = self.child_index(site, id) {
            self.episodes.push(c, Episode { start, end, flags, period_start: 0, row: NO_ROW });
        }
    }

    /// An allocation of child `child` (at `site`) to `worker`.
    pub fn allocation(&mut self, site: &'a str, child: &'a str, worker: &'a str, start: i32, end: Option<i32>) {
        if let Some(c) = self.child_index(site, child) {
            let worker = self.worker_index(worker);
            self.allocations.push(c, Allocation { worker, start, last: end });
        }
    }

    /// A contact with child `child` (at `site`).
    pub fn contact(&mut self, site: &'a str, child: &'a str, date: i32, kind: ContactKind, minutes: f64) {
        self.has_contacts = true;
        if let Some(c) = self.child_index(site, child) {
            self.contacts.push(c, Contact { date, kind, minutes });
        }
    }

    /// A spell in post of `worker` at `site`.
    pub fn spell(&mut self, worker: &'a str, site: &'a str, spell: SpellRecord) {
        let Some(site) = self.site(site) else { return };
        let worker = self.worker_index(worker);
        let SpellRecord { counted, fte, agency, start, end } = spell;
        self.spells.push(Spell { worker, site: site as usize, counted, fte, agency, start, end });
    }

    /// A sickness absence of `worker`, first and last day.
    pub fn sickness(&mut self, worker: &'a str, start: i32, end: i32) {
        let worker = self.worker_index(worker);
        self.sickness.push(worker, (start, end));
    }

    /// The index: rows grouped by owner and sorted, handovers applied, placement flags derived.
    pub fn finish(self) -> Index {
        let children = self.child_site.len();
        let workers = self.worker_ids.len();
        let spells_of =
            Grouped::new(workers, self.spells.iter().enumerate().map(|(i, s)| (s.worker, i as u32)).collect());
        let sickness = Grouped::new(workers, self.sickness);
        let (episodes_in, allocations_in, contacts_in, has_contacts) =
            (self.episodes, self.allocations, self.contacts, self.has_contacts);
        // episodes, and allocations with contacts, are independent: build them side by side
        let (episodes, (allocations, contacts)) = rayon::join(
            || {
                let mut episodes = Grouped::new(children, episodes_in);
                episodes.for_each_owner_mut(derive_episodes);
                episodes
            },
            || {
                let mut allocations = Grouped::new(children, allocations_in);
                allocations.for_each_owner_mut(|a| {
                    a.sort_by_key(|a| a.start);
                    apply_handovers(a);
                });
                let contacts = has_contacts.then(|| {
                    let mut contacts = Grouped::new(children, contacts_in);
                    contacts.for_each_owner_mut(|c| c.sort_by_key(|c| c.date));
                    contacts
                });
                (allocations, contacts)
            },
        );
        Index {
            groups: self.groups,
            child_site: self.child_site,
            child_dob: self.child_dob,
            child_ids: self.child_ids,
            episodes,
            allocations,
            contacts,
            worker_ids: self.worker_ids,
            spells: self.spells,
            spells_of,
            sickness,
            costs: None,
        }
    }
}

/// Sorts a child's episodes and derives which start a placement and where each period of
/// care starts (docs/metrics.md "Placements").
fn derive_episodes(episodes: &mut [Episode]) {
    episodes.sort_by_key(|e| (e.start, e.end.unwrap_or(i32::MAX)));
    for i in 0..episodes.len() {
        let e = episodes[i];
        let after_temporary = i > 0 && episodes[i - 1].is(flag::TEMPORARY);
        if e.is(flag::NEW_CARER) && !e.is(flag::TEMPORARY) && !e.is(flag::SHORT_BREAK) && !after_temporary {
            episodes[i].flags |= flag::STARTS_PLACEMENT;
        }
        let continues = i > 0 && episodes[i - 1].end.is_some_and(|prev| e.start <= prev + 1);
        episodes[i].period_start = if continues { episodes[i - 1].period_start } else { i as u32 };
    }
}

/// docs/metrics.md's handover rule for allocations of one child sorted by start: an allocation
/// ending on the day the next one starts is not in force that day.
pub fn apply_handovers(allocations: &mut [Allocation]) {
    for i in 1..allocations.len() {
        let next = allocations[i].start;
        if allocations[i - 1].last == Some(next) {
            allocations[i - 1].last = Some(next - 1);
        }
    }
}

/// Children per parallel work item: chunks are fixed, and their sums are added in chunk order,
/// so results do not depend on the number of threads.
pub(crate) const CHUNK: usize = 8192;

/// Folds every child at a known site into an accumulator: `f(acc, c)` adds child `c`. Children
/// run in parallel in fixed chunks, each into its own `init()`, merged in chunk order into a
/// first `init()` (deterministic whatever the threads).
pub fn fold_children<A: Send>(
    index: &Index,
    init: impl Fn() -> A + Sync,
    f: impl Fn(&mut A, usize) + Sync,
    merge: impl Fn(&mut A, A),
) -> A {
    let n = index.children();
    let parts: Vec<A> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|k| {
            let mut acc = init();
            for c in (k * CHUNK..((k + 1) * CHUNK).min(n)).filter(|&c| index.child_site[c] != NO_SITE) {
                f(&mut acc, c);
            }
            acc
        })
        .collect();
    let mut total = init();
    for part in parts {
        merge(&mut total, part);
    }
    total
}

/// Adds `part`'s figures to `total`'s, slot by slot.
pub fn add_slots<const N: usize>(total: &mut [[f64; N]], part: &[[f64; N]]) {
    for (t, p) in total.iter_mut().zip(part) {
        for (x, y) in t.iter_mut().zip(p) {
            *x += y;
        }
    }
}

/// Sums `N` figures per group (and per one of `periods` periods) over every child at a known
/// site: `f(acc, c)` adds child `c`'s figures into `acc[period * groups + group]`. Children run
/// in parallel, in fixed chunks added in order (deterministic).
pub fn sum_over_children<const N: usize>(
    index: &Index,
    periods: usize,
    f: impl Fn(&mut [[f64; N]], usize) + Sync,
) -> Vec<[f64; N]> {
    let slots = index.groups.names.len() * periods;
    fold_children(index, || vec![[0.0; N]; slots], |acc, c| f(acc, c), |total, part| add_slots(total, &part))
}

/// Days of `p` covered by the spans (start, end; None: open), sorted by start; each day once.
pub fn days_in(spans: impl IntoIterator<Item = (i32, Option<i32>)>, p: Period) -> i64 {
    let mut days = 0i64;
    let mut covered_to = p.from - 1;
    for (start, end) in spans {
        let a = start.max(covered_to + 1);
        let b = end.unwrap_or(p.to).min(p.to);
        if b >= a {
            days += i64::from(b - a + 1);
            covered_to = b;
        }
    }
    days
}

/// Days of `p` on which a child with these episodes is looked after.
pub fn care_days(episodes: &[Episode], p: Period) -> i64 {
    days_in(episodes.iter().map(|e| (e.start, e.end)), p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grouping keeps each owner's items in input order, whether the pairs come in owner order
    /// (keys stripped) or not (the counting sort), and leaves owners without items empty.
    #[test]
    fn grouping_in_owner_order_and_out_of_it() {
        // SplitMix64, enough to scatter the owners
        let mut state = 3u64;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let z = (state ^ (state >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb) >> 33
        };
        for sorted in [true, false] {
            let owners = 700;
            let mut keyed: Vec<(u32, u32)> = (0..50_000u32).map(|i| ((next() % owners as u64) as u32, i)).collect();
            if sorted {
                keyed.sort_by_key(|&(k, _)| k);
            }
            let g = Grouped::new(owners + 1, keyed.iter().copied().collect());
            assert_eq!(g.owners(), owners + 1);
            assert!(g.of(owners).is_empty());
            for owner in 0..owners {
                let want: Vec<u32> = keyed.iter().filter(|&&(k, _)| k as usize == owner).map(|&(_, i)| i).collect();
                assert_eq!(g.of(owner), want.as_slice(), "owner {owner}, sorted {sorted}");
            }
            assert_eq!(g.items().len(), keyed.len());
        }
    }

    /// Allocations take their workers from the workers rows validation found
    /// (`Dataset::worker_rows`) and number them as the look-up by id does: spells first (a
    /// spell at a site outside the groups gives no number), then sickness absences, then
    /// dangling references in row order.
    #[test]
    fn workers_from_validation_rows_equal_the_look_up_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("sites.csv", "site_id,name,arm,swp_model,go_live\nP1,p,pilot,professional,2009-09-01\n");
        write(
            "workers.csv",
            "worker_id,site_id,role,fte,agency,start_date,end_date\nW1,P1,social_worker,1,false,2005-01-01,\n\
             W3,Q9,social_worker,1,false,2005-01-01,\nW2,P1,social_worker,1,false,2005-01-01,\n\
             W4,Q9,social_worker,1,false,2005-01-01,\n",
        );
        write("children.csv", "child_id,site_id,sex,dob,ethnic\nA,P1,1,2001-05-01,WBRI\nB,P1,1,2001-05-01,WBRI\n");
        write(
            "episodes.csv",
            "child_id,decom,rne,ls,cin,place,place_provider,dec,rec,reason_place_change\n\
             A,2005-01-01,S,C2,N1,U4,PR1,,,\nB,2005-01-01,S,C2,N1,U4,PR1,,,\n",
        );
        write(
            "allocations.csv",
            "child_id,worker_id,start_date,end_date\nA,W9,2005-01-01,2005-02-01\nA,W4,2005-02-01,2005-03-01\n\
             A,W3,2005-03-01,2005-04-01\nA,W2,2005-04-01,\nB,W1,2005-01-01,2005-05-01\nB,W9,2005-05-01,\n",
        );
        write("absences.csv", "worker_id,start_date,end_date,kind\nW3,2006-01-01,2006-01-02,sickness\nW8,2006-01-01,2006-01-02,sickness\n");
        let loaded = swp_data::load(dir.path()).unwrap();
        assert_eq!(loaded.dataset.worker_rows[0].len(), 6);
        let mut without = loaded.dataset.clone();
        without.worker_rows = Default::default();
        let params = crate::ValidMetricsParams::defaults(crate::GroupBy::Total);
        let (from_rows, by_id) = (params.index(&loaded.dataset), params.index(&without));
        let ids = |index: &Index| {
            (0..index.worker_ids.len()).map(|w| index.worker_ids.get(w).to_string()).collect::<Vec<_>>()
        };
        assert_eq!(ids(&from_rows), ["W1", "W2", "W3", "W8", "W9", "W4"]);
        assert_eq!(ids(&from_rows), ids(&by_id));
        for c in 0..2 {
            assert_eq!(from_rows.allocations.of(c), by_id.allocations.of(c));
        }
        let workers_of_a: Vec<u32> = from_rows.allocations.of(0).iter().map(|a| a.worker).collect();
        assert_eq!(workers_of_a, [4, 5, 2, 1]);
    }

    /// Names built in parallel blocks equal names pushed one by one, across block boundaries and
    /// with empty names.
    #[test]
    fn names_from_blocks_equal_names_pushed_in_order() {
        let text: Vec<String> = (0..70_000).map(|i| if i % 7 == 0 { String::new() } else { format!("c{i}") }).collect();
        let built = Names::from_fn(text.len(), |i| text[i].as_str());
        let mut pushed = Names::default();
        for t in &text {
            pushed.push(t);
        }
        assert_eq!((built.text.as_str(), &built.ends), (pushed.text.as_str(), &pushed.ends));
        assert_eq!((built.len(), built.get(69_999), built.get(0)), (70_000, "c69999", ""));
        assert!(Names::from_fn(0, |_| "x").is_empty());
    }

    /// Rows without an owner are left out, the others kept in row order, whether every row has
    /// one (one pass) or not (taken out after); an owner numbered like a skipped row counts as none.
    #[test]
    fn keyed_rows_keep_the_rows_with_an_owner_in_order() {
        for every in [1usize, 3] {
            let owner = |row: usize| row.is_multiple_of(every).then_some(((row / 7) as u32, row as u64 * 10));
            let keyed = Keyed::from_rows(100_000, 0, owner);
            let want: Keyed<u64> = (0..100_000).filter_map(owner).collect();
            assert_eq!(
                (keyed.keys.len(), &keyed.keys, &keyed.items),
                (100_000 / every + usize::from(every == 3), &want.keys, &want.items)
            );
        }
        let keyed = Keyed::from_rows(3, 0u8, |row| Some(if row == 1 { (SKIPPED, 1) } else { (row as u32, 2) }));
        assert_eq!((keyed.keys, keyed.items), (vec![0, 2], vec![2, 2]));
    }
}
