//! The undirected neighbour graph: sorted, de-duplicated pairs (i < j) with fast membership,
//! and optionally a weight per pair (how strongly the pair is a neighbour pair).

use std::collections::HashSet;

/// Undirected neighbour pairs over `n` samples.
#[derive(Clone, Debug)]
pub struct NeighbourGraph {
    n: usize,
    pairs: Vec<(u32, u32)>,
    keys: HashSet<u64>,
    weights: Option<Vec<f32>>,
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
        Self {
            n,
            pairs,
            keys,
            weights: None,
        }
    }

    /// The same graph with a weight per pair, in the order of [`pairs`](Self::pairs): training
    /// then draws each epoch's neighbour pairs with probability proportional to their weights
    /// instead of taking every pair once. Refuses a count that is not the number of pairs, and
    /// weights that are not finite and positive (a pair of weight 0 is no neighbour pair).
    pub fn with_weights(mut self, weights: Vec<f32>) -> std::result::Result<Self, String> {
        if weights.len() != self.pairs.len() {
            return Err(format!(
                "{} weights for {} neighbour pairs",
                weights.len(),
                self.pairs.len()
            ));
        }
        if let Some((i, w)) = weights
            .iter()
            .enumerate()
            .find(|(_, w)| !(w.is_finite() && **w > 0.0))
        {
            return Err(format!(
                "the weight of neighbour pair {i} is {w}, not a finite positive number"
            ));
        }
        self.weights = Some(weights);
        Ok(self)
    }

    /// The weight of each pair, in the order of [`pairs`](Self::pairs), if the graph has them.
    pub fn weights(&self) -> Option<&[f32]> {
        self.weights.as_deref()
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
        assert!(g.weights().is_none());
    }

    #[test]
    fn weights_follow_the_pairs_and_bad_ones_are_refused() {
        let g = NeighbourGraph::from_pairs(4, [(1, 0), (3, 1)]);
        let w = g.clone().with_weights(vec![0.5, 1.0]).unwrap();
        assert_eq!(w.weights(), Some(&[0.5f32, 1.0][..]));
        assert!(g
            .clone()
            .with_weights(vec![1.0])
            .unwrap_err()
            .contains("1 weights for 2"));
        for bad in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            let e = g.clone().with_weights(vec![1.0, bad]).unwrap_err();
            assert!(e.contains("pair 1"), "{e}");
        }
    }
}
