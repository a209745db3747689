//! Rows grouped by owner in compressed form: [`Grouped`] (each owner's items contiguous) and
//! [`Keyed`] (items tagged with their owner, grouped by a counting sort).

use rayon::prelude::*;

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
    pub(super) keys: Vec<u32>,
    pub(super) items: Vec<T>,
}

impl<T> Keyed<T> {
    /// Every (key, item) pair, in the order pushed.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (u32, &T)> {
        self.keys.iter().copied().zip(&self.items)
    }
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
pub(super) const SKIPPED: u32 = u32::MAX;

impl<T: Copy + Send + Sync> Keyed<T> {
    /// The pairs `f(row)` of rows `0..rows` that have one, in row order. One parallel pass writes
    /// every row's pair straight into vectors of the table's height (`fill` stands in for a row
    /// without one); rows without one are then taken out in one sequential pass, which valid
    /// datasets, where every row has an owner, never need. (A filtered parallel collect grows a
    /// vector per block by doubling, then appends the blocks one after another.)
    pub(super) fn from_rows(rows: usize, fill: T, f: impl Fn(usize) -> Option<(u32, T)> + Sync) -> Self {
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
    pub(super) fn new(owners: usize, keyed: Keyed<T>) -> Self {
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
    pub(super) fn for_each_owner_mut(&mut self, f: impl Fn(&mut [T]) + Sync)
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
