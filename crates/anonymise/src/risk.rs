//! Disclosure risk of a set of equivalence classes: sample uniques and l-diversity.
//!
//! - A *sample unique* is a child alone in its class of quasi-identifier values: whoever knows
//!   the child's values finds its row.
//! - *Distinct l-diversity* of a sensitive attribute (Machanavajjhala et al. 2007,
//!   "l-Diversity: privacy beyond k-anonymity") is the fewest distinct values of the attribute
//!   in any class; a class with one value (l = 1) tells whoever places a child in it the
//!   child's value, however large the class.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;

/// Children alone in their class.
pub fn sample_uniques<K: Hash + Eq>(keys: &[K]) -> usize {
    let mut sizes: HashMap<&K, usize> = HashMap::new();
    for k in keys {
        *sizes.entry(k).or_insert(0) += 1;
    }
    sizes.values().filter(|&&n| n == 1).count()
}

/// Distinct l-diversity of one sensitive attribute over the classes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LDiversity {
    /// The attribute, as the report names it.
    pub attribute: String,
    /// Where its value comes from.
    pub source: String,
    /// The fewest distinct values in a class (over classes with any value; 0 without any).
    pub l: usize,
    /// Classes with a single value (everyone in them shares it).
    pub classes_with_one_value: usize,
    /// Children in those classes.
    pub children_in_them: usize,
    /// Classes with any value of the attribute.
    pub classes: usize,
}

/// l-diversity of `values` (one per child, None when the child has no value) over the
/// classes given by `keys`.
pub fn l_diversity<K: Ord>(attribute: &str, source: &str, keys: &[K], values: &[Option<&str>]) -> LDiversity {
    let mut classes: BTreeMap<&K, (BTreeSet<&str>, usize)> = BTreeMap::new();
    for (k, v) in keys.iter().zip(values) {
        if let Some(v) = v {
            let e = classes.entry(k).or_default();
            e.0.insert(v);
            e.1 += 1;
        }
    }
    let one: Vec<&(BTreeSet<&str>, usize)> = classes.values().filter(|(set, _)| set.len() == 1).collect();
    LDiversity {
        attribute: attribute.to_string(),
        source: source.to_string(),
        l: classes.values().map(|(set, _)| set.len()).min().unwrap_or(0),
        classes_with_one_value: one.len(),
        children_in_them: one.iter().map(|(_, n)| n).sum(),
        classes: classes.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniques_and_l_diversity_by_hand() {
        let keys = ["a", "a", "a", "b", "b", "c"];
        assert_eq!(sample_uniques(&keys), 1);
        let values = [Some("x"), Some("y"), Some("x"), Some("z"), Some("z"), None];
        let l = l_diversity("v", "test", &keys, &values);
        // class a: {x, y}; b: {z} (l = 1); c: no value
        assert_eq!((l.l, l.classes_with_one_value, l.children_in_them, l.classes), (1, 1, 2, 2));
    }
}
