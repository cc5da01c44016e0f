//! The per-epoch pair sampler: every neighbour pair (Y = 0, in a random orientation), with
//! declared invariances also `augment_pairs` pairs (i, i) per sample (whose two arms become two
//! differently transformed copies), plus `neg_ratio` uniformly random non-neighbour pairs
//! (Y = 1) per neighbour pair, drawn afresh each epoch and shuffled. Seeded, so a seed gives the
//! same sequence of pairs.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::neighbours::NeighbourGraph;

/// One training pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pair {
    /// First sample.
    pub a: u32,
    /// Second sample.
    pub b: u32,
    /// 0 for neighbours, 1 for non-neighbours (the paper's Y).
    pub y: f32,
}

/// How many pairs of each kind an epoch holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairCounts {
    /// Neighbour pairs of the graph.
    pub neighbour: usize,
    /// Pairs of two transformed copies of one sample.
    pub augmentation: usize,
    /// Random non-neighbour pairs.
    pub non_neighbour: usize,
    /// Whether the non-neighbours come from the batch instead (set by training).
    pub in_batch_non_neighbours: bool,
}

impl PairCounts {
    /// All pairs of an epoch.
    pub fn total(&self) -> usize {
        self.neighbour + self.augmentation + self.non_neighbour
    }
}

/// Draws the pairs of each epoch.
pub struct PairSampler<'g> {
    graph: &'g NeighbourGraph,
    /// Running sums of the graph's pair weights, if it has them.
    cumulative: Option<Vec<f64>>,
    augment_pairs: usize,
    negatives: usize,
    rng: ChaCha8Rng,
}

impl<'g> PairSampler<'g> {
    /// A sampler over `graph` with `augment_pairs` self pairs per sample (for transformed
    /// copies; 0 without declared invariances) and `neg_ratio` non-neighbour pairs per
    /// neighbour pair.
    pub fn new(
        graph: &'g NeighbourGraph,
        neg_ratio: f64,
        augment_pairs: usize,
        seed: u64,
    ) -> Result<Self> {
        if graph.is_empty() && augment_pairs == 0 {
            return Err(Error::param(
                "the neighbour graph has no pairs: nothing to train on",
            ));
        }
        if !(neg_ratio >= 0.0 && neg_ratio.is_finite()) {
            return Err(Error::param(format!(
                "neg_ratio must be ≥ 0, got {neg_ratio}"
            )));
        }
        let positives = graph.len() + augment_pairs * graph.n();
        let negatives = (neg_ratio * positives as f64).round() as usize;
        if negatives > 0 && graph.non_neighbour_count() == 0 {
            return Err(Error::param("every pair of samples is a neighbour pair: there are no non-neighbour pairs to push apart"));
        }
        let cumulative = graph.weights().map(|w| {
            w.iter()
                .scan(0f64, |sum, &v| {
                    *sum += v as f64;
                    Some(*sum)
                })
                .collect()
        });
        Ok(Self {
            graph,
            cumulative,
            augment_pairs,
            negatives,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15),
        })
    }

    /// Pairs per epoch, by kind.
    pub fn counts(&self) -> PairCounts {
        PairCounts {
            neighbour: self.graph.len(),
            augmentation: self.augment_pairs * self.graph.n(),
            non_neighbour: self.negatives,
            in_batch_non_neighbours: false,
        }
    }

    /// Where the sampler is in its random stream (for a checkpoint): the seed and this
    /// position give the pairs of every later epoch.
    pub fn position(&self) -> u128 {
        self.rng.get_word_pos()
    }

    /// Moves the sampler to a `position` taken by [`position`](Self::position), as if it had
    /// drawn the epochs before it.
    pub fn set_position(&mut self, position: u128) {
        self.rng.set_word_pos(position);
    }

    /// Pairs per epoch.
    pub fn pairs_per_epoch(&self) -> usize {
        self.counts().total()
    }

    /// The next epoch's pairs, shuffled: every neighbour pair once, or, where the graph weighs
    /// its pairs, as many neighbour pairs drawn with probability proportional to their weights.
    pub fn epoch(&mut self) -> Vec<Pair> {
        let n = self.graph.n() as u32;
        let mut pairs: Vec<Pair> = Vec::with_capacity(self.pairs_per_epoch());
        let all = self.graph.pairs();
        for &pair in all {
            let (i, j) = match &self.cumulative {
                None => pair,
                Some(cum) => {
                    let total = *cum.last().expect("a weighted graph has pairs");
                    let u = self.rng.random::<f64>() * total;
                    all[cum.partition_point(|&c| c <= u).min(all.len() - 1)]
                }
            };
            let (a, b) = if self.rng.random::<bool>() {
                (j, i)
            } else {
                (i, j)
            };
            pairs.push(Pair { a, b, y: 0.0 });
        }
        for _ in 0..self.augment_pairs {
            pairs.extend((0..n).map(|i| Pair { a: i, b: i, y: 0.0 }));
        }
        while pairs.len() < self.pairs_per_epoch() {
            let a = self.rng.random_range(0..n);
            let b = self.rng.random_range(0..n);
            if a != b && !self.graph.contains(a, b) {
                pairs.push(Pair { a, b, y: 1.0 });
            }
        }
        pairs.shuffle(&mut self.rng);
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_pairs_are_drawn_in_proportion_to_their_weights() {
        let g = NeighbourGraph::from_pairs(4, [(0, 1), (1, 2), (2, 3)])
            .with_weights(vec![1.0, 3.0, 0.25])
            .unwrap();
        let draw = |seed| {
            let mut s = PairSampler::new(&g, 0.0, 1, seed).unwrap();
            (0..4000).flat_map(|_| s.epoch()).collect::<Vec<Pair>>()
        };
        let pairs = draw(5);
        assert_eq!(pairs.len(), 4000 * (3 + 4));
        let count = |i: u32, j: u32| {
            pairs
                .iter()
                .filter(|p| (p.a.min(p.b), p.a.max(p.b)) == (i, j))
                .count() as f64
        };
        // 12,000 draws: shares 1/4.25, 3/4.25, 0.25/4.25 within a few standard deviations
        let total = 12_000.0;
        for ((i, j), w) in [((0, 1), 1.0), ((1, 2), 3.0), ((2, 3), 0.25)] {
            let share = count(i, j) / total;
            assert!((share - w / 4.25).abs() < 0.02, "pair {i}-{j}: {share}");
        }
        // the self pairs of transformed copies are not weighted: each sample once per epoch
        assert_eq!(pairs.iter().filter(|p| p.a == p.b).count(), 4000 * 4);
        // the same seed draws the same pairs
        assert!(pairs
            .iter()
            .zip(draw(5))
            .all(|(p, q)| (p.a, p.b) == (q.a, q.b)));
    }

    #[test]
    fn every_neighbour_pair_once_and_negatives_never_neighbours() {
        let g = NeighbourGraph::from_pairs(6, [(0, 1), (1, 2), (2, 3), (4, 5)]);
        let mut s = PairSampler::new(&g, 2.0, 0, 7).unwrap();
        let e = s.epoch();
        assert_eq!(e.len(), 12);
        let mut pos: Vec<(u32, u32)> = e
            .iter()
            .filter(|p| p.y == 0.0)
            .map(|p| (p.a.min(p.b), p.a.max(p.b)))
            .collect();
        pos.sort();
        assert_eq!(pos, g.pairs());
        assert!(e
            .iter()
            .filter(|p| p.y == 1.0)
            .all(|p| p.a != p.b && !g.contains(p.a, p.b)));
        // seeded: the same seed gives the same epochs, another seed others
        assert_eq!(PairSampler::new(&g, 2.0, 0, 7).unwrap().epoch(), e);
        assert_ne!(PairSampler::new(&g, 2.0, 0, 8).unwrap().epoch(), e);
    }

    #[test]
    fn augmentation_pairs_pair_each_sample_with_itself() {
        let g = NeighbourGraph::from_pairs(5, [(0, 1), (3, 4)]);
        let mut s = PairSampler::new(&g, 1.0, 2, 3).unwrap();
        let c = s.counts();
        assert_eq!((c.neighbour, c.augmentation, c.non_neighbour), (2, 10, 12));
        let e = s.epoch();
        assert_eq!(e.len(), 24);
        for i in 0..5 {
            let selfs = e.iter().filter(|p| p.a == i && p.b == i).count();
            assert_eq!(selfs, 2, "sample {i}");
        }
        assert!(e.iter().filter(|p| p.a == p.b).all(|p| p.y == 0.0));
        // an empty graph still trains on the copies
        let empty = NeighbourGraph::from_pairs(3, []);
        assert!(PairSampler::new(&empty, 0.0, 0, 0).is_err());
        assert_eq!(
            PairSampler::new(&empty, 0.0, 1, 0).unwrap().epoch().len(),
            3
        );
    }

    #[test]
    fn complete_graph_has_no_negatives_to_sample() {
        let g = NeighbourGraph::from_pairs(3, [(0, 1), (1, 2), (0, 2)]);
        assert!(PairSampler::new(&g, 1.0, 0, 0).is_err());
        assert_eq!(
            PairSampler::new(&g, 0.0, 0, 0).unwrap().pairs_per_epoch(),
            3
        );
    }
}
