//! Cluster labels (any `usize`) numbered 0..G in ascending order of label, as sorting the
//! distinct labels numbers them. Labels that are small numbers (the usual case: the CLI and the
//! evaluation number clusters densely) are numbered through a table in O(n + max label);
//! others by sorting the distinct labels, O(n log n). Both give the same numbers.

/// Labels numbered 0..G.
pub(crate) struct Numbered {
    /// The number of each row's label.
    pub index: Vec<usize>,
    /// The distinct labels, ascending (label of number j at j).
    pub labels: Vec<usize>,
}

/// The largest label the table path accepts for `n` rows (a table at most a few times the
/// rows' own size).
fn table_limit(n: usize) -> usize {
    4 * n + 1024
}

/// G when the labels of `rows` are already the numbers 0..G (each present): their own numbering,
/// with nothing to build. One pass for the largest label (in parallel), one to mark them.
pub(crate) fn dense(rows: &[usize]) -> Option<usize> {
    use rayon::prelude::*;
    let max = rows.par_iter().copied().max()?;
    if max >= rows.len() {
        return None;
    }
    let mut present = vec![false; max + 1];
    rows.iter().for_each(|&l| present[l] = true);
    present.iter().all(|&p| p).then_some(max + 1)
}

/// Numbers the labels of `rows` (in row order).
pub(crate) fn number(rows: &[usize]) -> Numbered {
    let max = rows.iter().copied().max().unwrap_or(0);
    if max <= table_limit(rows.len()) {
        let mut number = vec![usize::MAX; max + 1];
        for &l in rows {
            number[l] = 0;
        }
        let mut labels = Vec::new();
        for (l, slot) in number.iter_mut().enumerate() {
            if *slot == 0 {
                *slot = labels.len();
                labels.push(l);
            }
        }
        let index = rows.iter().map(|&l| number[l]).collect();
        return Numbered { index, labels };
    }
    let mut labels = rows.to_vec();
    labels.sort_unstable();
    labels.dedup();
    let index = rows.iter().map(|l| labels.binary_search(l).expect("every row's label is among the labels")).collect();
    Numbered { index, labels }
}

/// The rows of each of `g` clusters, in row order (`index`: each row's cluster number), each
/// list allocated at its size.
pub(crate) fn members(index: &[usize], g: usize) -> Vec<Vec<usize>> {
    let mut sizes = vec![0usize; g];
    index.iter().for_each(|&c| sizes[c] += 1);
    let mut members: Vec<Vec<usize>> = sizes.into_iter().map(Vec::with_capacity).collect();
    for (i, &c) in index.iter().enumerate() {
        members[c].push(i);
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_labels_are_their_own_numbers() {
        let rows = [2, 0, 1, 1, 2];
        assert_eq!(dense(&rows), Some(3));
        assert_eq!(number(&rows).index, rows.to_vec());
        // a gap (no 1) or nothing: numbered as usual
        assert_eq!(dense(&[2, 0, 2]), None);
        assert_eq!(dense(&[]), None);
    }

    #[test]
    fn the_table_and_the_sort_number_labels_alike() {
        let small = [7, 3, 3, 9, 0, 7];
        let table = number(&small);
        assert_eq!(table.labels, vec![0, 3, 7, 9]);
        assert_eq!(table.index, vec![2, 1, 1, 3, 0, 2]);
        // labels far beyond the rows take the sorting path: the same numbers
        let large: Vec<usize> = small.iter().map(|l| l * 1_000_000_007).collect();
        let sorted = number(&large);
        assert_eq!(sorted.index, table.index);
        assert_eq!(
            sorted.labels,
            large.iter().copied().collect::<std::collections::BTreeSet<_>>().into_iter().collect::<Vec<_>>()
        );
        assert_eq!(members(&table.index, 4), vec![vec![4], vec![1, 2], vec![0, 5], vec![3]]);
    }
}
