//! [`Builder`]: the one way an [`Index`] is built, from a dataset or by hand in tests, and the
//! steps every child's records go through (episodes sorted and flagged, handovers applied).

use super::*;
use crate::coverage::{Coverage, Source};

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
    pub(super) groups: SiteGroups,
    pub(super) sites: FxHashMap<&'a str, u32>,
    pub(super) children: FxHashMap<(u32, &'a str), u32>,
    pub(super) last_child: Option<(&'a str, &'a str, u32)>,
    pub(super) workers: FxHashMap<&'a str, u32>,
    pub(super) child_site: Vec<u32>,
    pub(super) child_dob: Vec<Option<i32>>,
    pub(super) child_ids: Names,
    pub(super) worker_ids: Names,
    pub(super) episodes: Keyed<Episode>,
    pub(super) allocations: Keyed<Allocation>,
    pub(super) contacts: Keyed<Contact>,
    pub(super) has_contacts: bool,
    pub(super) spells: Vec<Spell>,
    pub(super) sickness: Keyed<(i32, i32)>,
    /// The first day of every absence (any kind) by worker index, for coverage.
    pub(super) absence_first: Vec<(u32, i32)>,
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
            absence_first: Vec::new(),
        }
    }

    pub(super) fn site(&mut self, site: &'a str) -> Option<u32> {
        if let Some(&i) = self.sites.get(site) {
            return Some(i);
        }
        let i = self.groups.site_index(site)? as u32;
        self.sites.insert(site, i);
        Some(i)
    }

    /// Adds a child (site None: not one of the groups' sites) and returns its index.
    pub(super) fn push_child(&mut self, site: Option<u32>, id: &str, dob: Option<i32>) -> u32 {
        self.child_site.push(site.unwrap_or(NO_SITE));
        self.child_dob.push(dob);
        self.child_ids.push(id);
        self.child_site.len() as u32 - 1
    }

    /// The index of child `id` at `site`, added when new (None when the site is unknown).
    pub(super) fn child_index(&mut self, site: &'a str, id: &'a str) -> Option<u32> {
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

    pub(super) fn worker_index(&mut self, id: &'a str) -> u32 {
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

    /// An absence of any kind of `worker` starting on `start` (for the absences' coverage).
    pub fn absence(&mut self, worker: &'a str, start: i32) {
        let worker = self.worker_index(worker);
        self.absence_first.push((worker, start));
    }

    /// A sickness absence of `worker`, first and last day.
    pub fn sickness(&mut self, worker: &'a str, start: i32, end: i32) {
        let worker = self.worker_index(worker);
        self.sickness.push(worker, (start, end));
    }

    /// Each table's earliest date per site (docs/data.md "Coverage"): a child's rows count at
    /// the child's site, a spell at its site, an absence at every site of the worker's spells.
    fn observed_coverage(&self) -> Coverage {
        let sites = self.groups.site_ids.len();
        let site_of = |child: u32| self.child_site.get(child as usize).map_or(usize::MAX, |&s| s as usize);
        let mut worker_sites: Vec<Vec<usize>> = vec![Vec::new(); self.worker_ids.len()];
        for spell in &self.spells {
            if let Some(list) = worker_sites.get_mut(spell.worker as usize) {
                if !list.contains(&spell.site) {
                    list.push(spell.site);
                }
            }
        }
        let episodes = self.episodes.pairs().map(|(c, e)| (Source::Episodes, site_of(c), e.start));
        let allocations = self.allocations.pairs().map(|(c, a)| (Source::Allocations, site_of(c), a.start));
        let contacts = self
            .has_contacts
            .then(|| self.contacts.pairs().map(|(c, x)| (Source::Contacts, site_of(c), x.date)))
            .into_iter()
            .flatten();
        let spells = self.spells.iter().map(|s| (Source::Workers, s.site, s.start));
        let absences = self.absence_first.iter().flat_map(|&(w, day)| {
            worker_sites.get(w as usize).into_iter().flatten().map(move |&s| (Source::Absences, s, day))
        });
        Coverage::observed(sites, episodes.chain(allocations).chain(contacts).chain(spells).chain(absences))
    }

    /// The index: rows grouped by owner and sorted, handovers applied, placement flags derived.
    pub fn finish(self) -> Index {
        let children = self.child_site.len();
        let workers = self.worker_ids.len();
        let spells_of =
            Grouped::new(workers, self.spells.iter().enumerate().map(|(i, s)| (s.worker, i as u32)).collect());
        let coverage = self.observed_coverage();
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
            coverage,
        }
    }
}

/// Sorts a child's episodes and derives which start a placement and where each period of
/// care starts (docs/metrics.md "Placements").
pub(super) fn derive_episodes(episodes: &mut [Episode]) {
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
