//! The undirected neighbour graph: sorted, de-duplicated pairs (i < j) with fast membership.

use std::collections::HashSet;

/// Undirected neighbour pairs over `n` samples.
#[derive(Clone, Debug)]
pub struct NeighbourGraph {
    n: usize,
    pairs: Vec<(u32, u32)>,
    keys: HashSet<u64>,
}

impl NeighbourGraph {
    /// Builds the graph from pairs in any order and orientation; self-pairs and duplicates are
    /// dropped, so (i, j) and (j, i) become one edge (the relation is symmetrised).
    pub fn from_pairs(n: usize, pairs: impl IntoIterator<Item = (u32, u32)>) -> Self {
        let mut pairs: Vec<(u32, u32)> = pairs
            .into_iter()
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (a.min(b), a.max(b)))
            .collect();
        assert!(
            pairs.iter().all(|&(_, b)| (b as usize) < n),
            "pair index out of range"
        );
        pairs.sort_unstable();
        pairs.dedup();
        let keys = pairs.iter().map(|&(a, b)| key(n, a, b)).collect();
        Self { n, pairs, keys }
    }

    /// Number of samples (vertices).
    pub fn n(&self) -> usize {
        self.n
    }

    /// The neighbour pairs, each once with i < j, sorted.
    pub fn pairs(&self) -> &[(u32, u32)] {
        &self.pairs
    }

    /// Number of neighbour pairs (edges).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there is no neighbour pair.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Whether i and j are neighbours (in either order).
    pub fn contains(&self, i: u32, j: u32) -> bool {
        i != j && self.keys.contains(&key(self.n, i.min(j), i.max(j)))
    }

    /// Number of unordered pairs of distinct samples that are not neighbours.
    pub fn non_neighbour_count(&self) -> u64 {
        let n = self.n as u64;
        n * n.saturating_sub(1) / 2 - self.pairs.len() as u64
    }
}

fn key(n: usize, a: u32, b: u32) -> u64 {
    a as u64 * n as u64 + b as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetrises_and_deduplicates() {
        let g = NeighbourGraph::from_pairs(4, [(1, 0), (0, 1), (2, 2), (3, 1)]);
        assert_eq!(g.pairs(), &[(0, 1), (1, 3)]);
        assert!(g.contains(1, 0) && g.contains(3, 1) && !g.contains(2, 2) && !g.contains(0, 3));
        assert_eq!(g.non_neighbour_count(), 6 - 2);
    }
}
