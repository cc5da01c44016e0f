//! Figures of merit for an embedding: k-NN classification accuracy against a reference
//! embedding, trustworthiness (scikit-learn's definition), and the mean output distance of
//! neighbour vs random pairs (a collapse detector).

use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::neighbours::{knn_indices, NeighbourGraph};
use crate::points::{block_rows, sq_dists_block, sq_norms, Points};

/// Accuracy of a k-NN classifier that labels each `query` point by majority vote of its `k`
/// nearest `reference` points (ties go to the smallest label, as in scikit-learn).
pub fn knn_accuracy(
    reference: &Points,
    ref_labels: &[i64],
    query: &Points,
    query_labels: &[i64],
    k: usize,
) -> Result<f64> {
    if k == 0 || k > reference.n {
        return Err(Error::param(format!(
            "k-NN accuracy needs 1 ≤ k ≤ {} reference points, got k = {k}",
            reference.n
        )));
    }
    if reference.dim != query.dim {
        return Err(Error::param(format!(
            "the embedding has {} dimensions but the reference embedding has {}",
            query.dim, reference.dim
        )));
    }
    let idx = knn_indices(query, reference, k, false);
    Ok(vote_accuracy(&idx, k, ref_labels, query_labels))
}

/// Leave-one-out k-NN accuracy within one labelled embedding (each point classified by its `k`
/// nearest other points).
pub fn knn_accuracy_loo(points: &Points, labels: &[i64], k: usize) -> Result<f64> {
    if k == 0 || k >= points.n {
        return Err(Error::param(format!(
            "leave-one-out k-NN accuracy needs 1 ≤ k < {} points, got k = {k}",
            points.n
        )));
    }
    let idx = knn_indices(points, points, k, true);
    Ok(vote_accuracy(&idx, k, labels, labels))
}

/// Fraction of rows of `idx` (k neighbours each) whose majority label equals the truth.
fn vote_accuracy(idx: &[u32], k: usize, ref_labels: &[i64], truth: &[i64]) -> f64 {
    let correct = idx
        .chunks_exact(k)
        .zip(truth)
        .filter(|(row, &truth)| {
            let mut votes: Vec<i64> = row.iter().map(|&j| ref_labels[j as usize]).collect();
            votes.sort_unstable();
            let mut best = (0usize, i64::MAX);
            let mut i = 0;
            while i < votes.len() {
                let run = votes[i..].iter().take_while(|&&v| v == votes[i]).count();
                if run > best.0 {
                    best = (run, votes[i]);
                }
                i += run;
            }
            best.1 == truth
        })
        .count();
    correct as f64 / truth.len() as f64
}

/// Trustworthiness of `embedding` with respect to the input points `x`, with `k` neighbours:
/// 1 − 2/(n k (2n − 3k − 1)) · Σᵢ Σ_{j ∈ Nₖ(i) in the embedding} max(0, r(i, j) − k), where r(i, j)
/// is the rank of j among i's input-space neighbours. Equal to
/// `sklearn.manifold.trustworthiness(x, embedding, n_neighbors=k)`.
pub fn trustworthiness(x: &Points, embedding: &Points, k: usize) -> Result<f64> {
    let n = x.n;
    if embedding.n != n {
        return Err(Error::param(format!(
            "trustworthiness: {} input samples but {} embedded points",
            n, embedding.n
        )));
    }
    if k == 0 || 2 * k >= n {
        return Err(Error::param(format!(
            "trustworthiness with k = {k} needs more than {} samples, got {n}",
            2 * k
        )));
    }
    let emb_nb = knn_indices(embedding, embedding, k, true);
    let xs: Vec<f64> = x.values.iter().map(|&v| v as f64).collect();
    let norms = sq_norms(&xs, x.dim);
    let bq = block_rows(n);
    let penalty: f64 = (0..n.div_ceil(bq))
        .into_par_iter()
        .map(|b| {
            let start = b * bq;
            let rows = bq.min(n - start);
            let q = &xs[start * x.dim..(start + rows) * x.dim];
            let mut d = vec![0f64; rows * n];
            sq_dists_block(q, &norms[start..start + rows], &xs, &norms, x.dim, &mut d);
            let mut sum = 0f64;
            for (r, drow) in d.chunks_exact(n).enumerate() {
                let i = start + r;
                for &j in &emb_nb[i * k..(i + 1) * k] {
                    let j = j as usize;
                    let dj = drow[j];
                    // rank from 1, ties by index as a stable argsort would order them
                    let rank = 1 + drow
                        .iter()
                        .enumerate()
                        .filter(|&(l, &dl)| l != i && (dl < dj || (dl == dj && l < j)))
                        .count();
                    if rank > k {
                        sum += (rank - k) as f64;
                    }
                }
            }
            sum
        })
        .sum();
    let (nf, kf) = (n as f64, k as f64);
    Ok(1.0 - penalty * 2.0 / (nf * kf * (2.0 * nf - 3.0 * kf - 1.0)))
}

/// Euclidean distance between points `a` and `b`, in f64.
pub fn point_distance(points: &Points, a: usize, b: usize) -> f64 {
    points
        .row(a)
        .iter()
        .zip(points.row(b))
        .map(|(u, v)| ((u - v) as f64).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Mean output distances of neighbour pairs and of random pairs.
#[derive(Clone, Debug, Serialize)]
pub struct PairDistances {
    /// Mean D over the neighbour pairs.
    pub neighbour_mean: f64,
    /// Mean D over random pairs of distinct points.
    pub random_mean: f64,
}

impl PairDistances {
    /// neighbour / random: small for a good map, near 1 for a collapsed or structureless one.
    pub fn ratio(&self) -> f64 {
        self.neighbour_mean / self.random_mean.max(f64::MIN_POSITIVE)
    }
}

/// Mean output distance over the `graph`'s neighbour pairs and over `n_random` random pairs.
pub fn pair_distances(
    embedding: &Points,
    graph: &NeighbourGraph,
    n_random: usize,
    seed: u64,
) -> PairDistances {
    let neighbour_mean = graph
        .pairs()
        .iter()
        .map(|&(a, b)| point_distance(embedding, a as usize, b as usize))
        .sum::<f64>()
        / graph.len().max(1) as f64;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n = embedding.n;
    let mut total = 0.0;
    let mut count = 0;
    while count < n_random && n > 1 {
        let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
        if a != b {
            total += point_distance(embedding, a, b);
            count += 1;
        }
    }
    PairDistances {
        neighbour_mean,
        random_mean: total / count.max(1) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knn_accuracy_votes_by_majority() {
        let r = [0.0f32, 0.1, 0.2, 5.0, 5.1, 5.2];
        let rl = [1, 1, 1, 2, 2, 2];
        let q = [0.05f32, 5.05, 0.15];
        let ql = [1, 2, 2];
        let acc = knn_accuracy(&Points::new(&r, 1), &rl, &Points::new(&q, 1), &ql, 3).unwrap();
        assert!((acc - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn trustworthiness_is_one_for_an_isometry_and_lower_for_a_scramble() {
        let x: Vec<f32> = (0..40).map(|i| i as f32).collect();
        let same = trustworthiness(&Points::new(&x, 1), &Points::new(&x, 1), 5).unwrap();
        assert!((same - 1.0).abs() < 1e-12, "{same}");
        let scrambled: Vec<f32> = (0..40).map(|i| ((i * 17) % 40) as f32).collect();
        let t = trustworthiness(&Points::new(&x, 1), &Points::new(&scrambled, 1), 5).unwrap();
        assert!(t < 0.8, "{t}");
    }

    /// Fixture: 30 points in 6-D and a 2-D embedding, both from numpy's default_rng(0); the
    /// expected value was computed once with scikit-learn by
    /// `crates/drlim/tests/fixtures/make_trustworthiness_fixture.py` (see the file for the
    /// scikit-learn version). Compared to 1e-6.
    #[test]
    fn trustworthiness_equals_scikit_learn_on_a_fixture() {
        let text = include_str!("../tests/fixtures/trustworthiness.json");
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let to_vec = |key: &str| crate::fixture_rows(&v, key);
        let (x, e) = (to_vec("x"), to_vec("embedding"));
        for (k, want) in v["expected"].as_object().unwrap() {
            let k: usize = k.parse().unwrap();
            let got = trustworthiness(&Points::new(&x, 6), &Points::new(&e, 2), k).unwrap();
            assert!(
                (got - want.as_f64().unwrap()).abs() < 1e-6,
                "k={k}: {got} vs scikit-learn {want}"
            );
        }
    }

    #[test]
    fn pair_distances_detects_neighbours_closer_than_random() {
        let e: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let g = NeighbourGraph::from_pairs(100, (0..99).map(|i| (i, i + 1)));
        let p = pair_distances(&Points::new(&e, 1), &g, 2000, 1);
        assert!((p.neighbour_mean - 1.0).abs() < 1e-9);
        assert!(p.random_mean > 20.0 && p.ratio() < 0.05, "{p:?}");
    }
}
