//! Weights for a k-nearest-neighbour graph's pairs: UMAP's fuzzy memberships (McInnes, Healy &
//! Melville 2018, §3.1). For each sample i, over its k nearest neighbours at distances d,
//! μ(i → j) = exp(−(d_ij − ρ_i) / σ_i), where ρ_i is the distance to its nearest neighbour and
//! σ_i is chosen so that the k memberships add up to log₂ k; the pair's weight is the fuzzy
//! union μ(i → j) + μ(j → i) − μ(i → j)·μ(j → i). Close pairs, and pairs that are near each
//! other's nearest, weigh most; a sample's farthest neighbours count for less than its nearest.

use rayon::prelude::*;

use super::nndescent::{as_bytes, byte_sq_distance};
use super::{NeighbourGraph, NeighbourSource};
use crate::error::{Error, Result};
use crate::points::{sq_distance, Points};

/// Smallest σ_i, as a fraction of the mean distance to the k nearest (UMAP's
/// `MIN_K_DIST_SCALE`): keeps σ_i positive for samples whose neighbours are all equally far.
const MIN_SIGMA_SCALE: f64 = 1e-3;
/// Weight given to a pair that is among neither sample's k nearest (possible only with ties or
/// another source's pairs): a tiny positive weight, so that it stays a neighbour pair.
const FLOOR: f32 = 1e-6;

/// The graph of another source (k-nearest-neighbour relations: exact, HNSW or under
/// invariances) with UMAP's fuzzy memberships as pair weights, computed from the Euclidean
/// distances between the samples given to [`graph`](NeighbourSource::graph).
pub struct FuzzyWeights {
    /// The source of the pairs.
    pub inner: Box<dyn NeighbourSource>,
    /// Neighbours per sample over which memberships are calibrated (the inner source's k).
    pub k: usize,
}

impl NeighbourSource for FuzzyWeights {
    fn describe(&self) -> String {
        format!("{} with fuzzy weights", self.inner.describe())
    }

    fn graph(&self, points: &Points) -> Result<NeighbourGraph> {
        let graph = self.inner.graph(points)?;
        // samples that are bytes in disguise (pixels, scaled) weigh as their bytes do
        let weights = match as_bytes(points) {
            Some(bytes) => fuzzy_weights(&graph, byte_distance(&bytes, points.dim), self.k),
            None => fuzzy_weights(
                &graph,
                |a, b| sq_distance(points.row(a), points.row(b)),
                self.k,
            ),
        };
        graph.with_weights(weights).map_err(Error::param)
    }

    /// The memberships depend on the ratios of the distances alone, so the bytes' are those of
    /// the normalised samples (up to rounding, and exactly those that [`graph`](Self::graph)
    /// computes for the same samples as floats).
    fn graph_of_bytes(&self, bytes: &[u8], dim: usize) -> Option<Result<NeighbourGraph>> {
        let graph = match self.inner.graph_of_bytes(bytes, dim)? {
            Ok(g) => g,
            Err(e) => return Some(Err(e)),
        };
        let weights = fuzzy_weights(&graph, byte_distance(bytes, dim), self.k);
        Some(graph.with_weights(weights).map_err(Error::param))
    }
}

/// The squared Euclidean distance between two rows of `dim` bytes, exact (NN-descent's byte
/// kernel).
fn byte_distance(bytes: &[u8], dim: usize) -> impl Fn(usize, usize) -> f32 + Sync + '_ {
    let distance = byte_sq_distance();
    move |a, b| {
        let row = |i: usize| &bytes[i * dim..(i + 1) * dim];
        distance(row(a), row(b)) as f32
    }
}

/// UMAP's fuzzy-union weight of each pair of `graph` (in its pair order), each sample's
/// memberships taken over its `k` nearest neighbours in the graph (for a k-NN graph, its own
/// k nearest; the other pairs it is in were added by symmetrising and are farther).
/// `sq_dist(a, b)` is the squared Euclidean distance between samples a and b.
pub fn fuzzy_weights(
    graph: &NeighbourGraph,
    sq_dist: impl Fn(usize, usize) -> f32 + Sync,
    k: usize,
) -> Vec<f32> {
    let mut incident: Vec<Vec<(f32, u32)>> = vec![Vec::new(); graph.n()];
    let d: Vec<f32> = graph
        .pairs()
        .par_iter()
        .map(|&(a, b)| sq_dist(a as usize, b as usize).sqrt())
        .collect();
    for (e, (&(a, b), &d)) in graph.pairs().iter().zip(&d).enumerate() {
        incident[a as usize].push((d, e as u32));
        incident[b as usize].push((d, e as u32));
    }
    // each sample's memberships of its k nearest pairs
    let sides: Vec<Vec<(u32, f32)>> = incident
        .into_par_iter()
        .map(|mut pairs| {
            pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            pairs.truncate(k.max(1));
            let d: Vec<f64> = pairs.iter().map(|p| p.0 as f64).collect();
            pairs
                .iter()
                .zip(memberships(&d))
                .map(|(p, m)| (p.1, m as f32))
                .collect()
        })
        .collect();
    // fuzzy union of the two samples' memberships: 1 − (1 − a)(1 − b)
    let mut not_member = vec![1f32; graph.len()];
    for side in &sides {
        for &(e, m) in side {
            not_member[e as usize] *= 1.0 - m;
        }
    }
    not_member.iter().map(|u| (1.0 - u).max(FLOOR)).collect()
}

/// Memberships exp(−(d − ρ)/σ) of neighbours at ascending distances `d`: 1 for the nearest
/// (ρ is the smallest positive distance), σ found by bisection so that they add up to
/// log₂(count) (UMAP's `smooth_knn_dist`, with one nearest neighbour fully connected).
pub fn memberships(d: &[f64]) -> Vec<f64> {
    if d.is_empty() {
        return Vec::new();
    }
    let rho = d.iter().copied().find(|&v| v > 0.0).unwrap_or(0.0);
    let target = (d.len() as f64).log2();
    let member = |v: f64, sigma: f64| {
        if v <= rho {
            1.0
        } else {
            (-(v - rho) / sigma).exp()
        }
    };
    let sum = |sigma: f64| -> f64 { d.iter().map(|&v| member(v, sigma)).sum() };
    let (mut lo, mut hi, mut sigma) = (0.0f64, f64::INFINITY, 1.0f64);
    for _ in 0..64 {
        let s = sum(sigma);
        if (s - target).abs() < 1e-5 {
            break;
        }
        if s > target {
            hi = sigma;
            sigma = (lo + hi) / 2.0;
        } else {
            lo = sigma;
            sigma = if hi.is_finite() {
                (lo + hi) / 2.0
            } else {
                sigma * 2.0
            };
        }
    }
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    let sigma = sigma.max(MIN_SIGMA_SCALE * mean).max(f64::MIN_POSITIVE);
    d.iter().map(|&v| member(v, sigma)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbours::KnnSource;

    #[test]
    fn memberships_by_hand() {
        // ρ = 1; with x = exp(−1/σ): 1 + x + x² = log₂ 3, so x = (−1 + √(1 + 4(log₂3 − 1)))/2
        let m = memberships(&[1.0, 2.0, 3.0]);
        let x = (-1.0 + (1.0 + 4.0 * (3f64.log2() - 1.0)).sqrt()) / 2.0;
        assert!((m[0] - 1.0).abs() < 1e-12);
        assert!((m[1] - x).abs() < 1e-4, "{m:?} against {x}");
        assert!((m[2] - x * x).abs() < 1e-4, "{m:?}");
        // identical neighbours are all fully members; none at all gives none
        assert_eq!(memberships(&[2.0, 2.0, 2.0]), vec![1.0; 3]);
        assert!(memberships(&[]).is_empty());
    }

    #[test]
    fn memberships_add_up_to_log2_k_and_fall_with_distance() {
        let d: Vec<f64> = (0..15)
            .map(|i| 3.0 + 0.2 * i as f64 + 0.01 * (i * i) as f64)
            .collect();
        let m = memberships(&d);
        assert!((m.iter().sum::<f64>() - 15f64.log2()).abs() < 1e-4);
        assert!(m.windows(2).all(|w| w[0] > w[1]), "{m:?}");
    }

    #[test]
    fn weights_are_the_fuzzy_union_of_both_sides() {
        // 1-D points at 0, 1, 3, 6, 10; 3-NN lists 0:{1,2,3} 1:{0,2,3} 2:{1,0,3} 3:{2,4,1}
        // 4:{3,2,1}
        let x = [0.0f32, 1.0, 3.0, 6.0, 10.0];
        let pts = Points::new(&x, 1);
        let g = KnnSource { k: 3 }.graph(&pts).unwrap();
        let pairs = [
            (0, 1),
            (0, 2),
            (0, 3),
            (1, 2),
            (1, 3),
            (1, 4),
            (2, 3),
            (2, 4),
            (3, 4),
        ];
        assert_eq!(g.pairs(), &pairs);
        // each sample's memberships over its 3 nearest, at these distances
        let s0 = memberships(&[1.0, 3.0, 6.0]); // pairs (0,1) (0,2) (0,3)
        let s1 = memberships(&[1.0, 2.0, 5.0]); // (0,1) (1,2) (1,3)
        let s2 = memberships(&[2.0, 3.0, 3.0]); // (1,2) (0,2) (2,3)
        let s3 = memberships(&[3.0, 4.0, 5.0]); // (2,3) (3,4) (1,3)
        let s4 = memberships(&[4.0, 7.0, 9.0]); // (3,4) (2,4) (1,4)
                                                // ρ = 2 and 1 + 2x = log₂ 3 for sample 2
        let x2 = (3f64.log2() - 1.0) / 2.0;
        assert!(
            (s2[1] - x2).abs() < 1e-4 && (s2[2] - x2).abs() < 1e-4,
            "{s2:?}"
        );
        let union = |a: f64, b: f64| a + b - a * b;
        let want = [
            union(s0[0], s1[0]),
            union(s0[1], s2[1]),
            s0[2], // among 3's three nearest are 2, 4 and 1, not 0
            union(s1[1], s2[0]),
            union(s1[2], s3[2]),
            s4[2],
            union(s2[2], s3[0]),
            s4[1],
            union(s3[1], s4[0]),
        ];
        let w = fuzzy_weights(&g, |a, b| sq_distance(pts.row(a), pts.row(b)), 3);
        for (e, (&got, want)) in w.iter().zip(want).enumerate() {
            assert!(
                (got as f64 - want).abs() < 1e-6,
                "pair {:?}: {got} against {want}",
                pairs[e]
            );
        }
        // the nearest pairs are full members on one side at least
        assert_eq!([w[0], w[3], w[6], w[8]], [1.0; 4]);
    }

    #[test]
    fn the_source_describes_itself_and_weights_its_graph() {
        let x: Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let pts = Points::new(&x, 2);
        let s = FuzzyWeights {
            inner: Box::new(KnnSource { k: 3 }),
            k: 3,
        };
        assert_eq!(s.describe(), "knn(k=3) with fuzzy weights");
        let g = s.graph(&pts).unwrap();
        let plain = KnnSource { k: 3 }.graph(&pts).unwrap();
        assert_eq!(g.pairs(), plain.pairs());
        let w = g.weights().unwrap();
        assert!(w.iter().all(|&v| v > 0.0 && v <= 1.0));
        assert!(w.iter().any(|&v| v < 0.99), "not all pairs weigh the same");
    }
}
