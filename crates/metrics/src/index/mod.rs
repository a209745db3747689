//! The dataset as the metrics read it: every child, worker and site interned to a small
//! integer once, each child's episodes, allocations and contacts stored together and sorted
//! (compressed rows), placement codes reduced to flags. Every metric then runs over plain
//! slices, child by child in parallel, without looking anything up by name.
//!
//! The same [`Builder`] serves the dataset loader and the hand-built test datasets, so the
//! tests exercise the code path users run.

mod builder;
mod fold;
mod grouped;
mod records;

pub use builder::{apply_handovers, Builder, SpellRecord};
pub(crate) use fold::CHUNK;
pub use fold::{add_slots, care_days, days_in, fold_children, sum_over_children};
pub use grouped::{Grouped, Keyed};
pub use records::{flag, Allocation, Contact, ContactKind, Episode, Spell, NO_ROW};

use crate::period::{Period, SiteGroups};
use crate::settings::PlacementCodes;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use swp_data::columns::{code_ids, date_column, number_column, text_column, CodeView, DateView, TextView};
use swp_data::{Dataset, UNRESOLVED};

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
    /// Each table's coverage per site (docs/data.md "Coverage").
    pub coverage: crate::coverage::Coverage,
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
                if let (Some(id), Some(start)) = (ids[row], starts[row]) {
                    b.absence(id, start);
                }
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
        index.coverage.observe_costs(index.costs.as_deref());
        index.coverage.apply_manifest(&dataset.manifest, &index.groups.site_ids);
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

#[cfg(test)]
mod tests {
    use super::grouped::SKIPPED;
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
