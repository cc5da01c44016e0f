//! The paper's default prior knowledge: the k nearest Euclidean neighbours in input space
//! (k = 5 in Hadsell et al. 2006), exact, computed blockwise with a GEMM and in parallel.

use rayon::prelude::*;

use super::{NeighbourGraph, NeighbourSource};
use crate::error::{Error, Result};
use crate::points::{block_rows, sq_dists_block, sq_norms, Points};

/// Each sample is a neighbour of its k nearest samples in input space (symmetrised).
#[derive(Clone, Debug)]
pub struct KnnSource {
    /// Neighbours per sample.
    pub k: usize,
}

impl NeighbourSource for KnnSource {
    fn describe(&self) -> String {
        format!("knn(k={})", self.k)
    }

    fn graph(&self, points: &Points) -> Result<NeighbourGraph> {
        if self.k == 0 {
            return Err(Error::param("k must be at least 1"));
        }
        if self.k >= points.n {
            return Err(Error::param(format!(
                "k = {} nearest neighbours needs more than k samples, but the data has {} (use a smaller k)",
                self.k, points.n
            )));
        }
        let idx = knn_indices(points, points, self.k, true);
        let pairs = idx
            .chunks_exact(self.k)
            .enumerate()
            .flat_map(|(i, row)| row.iter().map(move |&j| (i as u32, j)));
        Ok(NeighbourGraph::from_pairs(points.n, pairs))
    }
}

/// The indices of the `k` nearest `reference` points of every `query` point, nearest first
/// (ties by lower index), as a `queries.n × k` row-major array. With `exclude_self`, query i
/// never returns reference i (queries and reference are the same set).
pub fn knn_indices(queries: &Points, reference: &Points, k: usize, exclude_self: bool) -> Vec<u32> {
    assert_eq!(queries.dim, reference.dim, "dimension mismatch");
    let avail = reference.n - usize::from(exclude_self);
    assert!(k <= avail, "k larger than the reference set");
    let dim = queries.dim;
    let r_norms = sq_norms(reference.values, dim);
    let bq = block_rows(reference.n);
    let mut out = vec![0u32; queries.n * k];
    out.par_chunks_mut(bq * k)
        .enumerate()
        .for_each(|(b, out_block)| {
            let start = b * bq;
            let rows = out_block.len() / k;
            let q = &queries.values[start * dim..(start + rows) * dim];
            let mut d = vec![0f32; rows * reference.n];
            sq_dists_block(
                q,
                &sq_norms(q, dim),
                reference.values,
                &r_norms,
                dim,
                &mut d,
            );
            let mut cand: Vec<(f32, u32)> = Vec::with_capacity(reference.n);
            for (r, drow) in d.chunks_exact(reference.n).enumerate() {
                let me = start + r;
                cand.clear();
                cand.extend(
                    drow.iter()
                        .enumerate()
                        .filter(|&(j, _)| !(exclude_self && j == me))
                        .map(|(j, &v)| (v, j as u32)),
                );
                let order =
                    |a: &(f32, u32), b: &(f32, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
                if k < cand.len() {
                    cand.select_nth_unstable_by(k, order);
                }
                let top = &mut cand[..k];
                top.sort_unstable_by(order);
                for (o, &(_, j)) in out_block[r * k..(r + 1) * k].iter_mut().zip(top.iter()) {
                    *o = j;
                }
            }
        });
    out
}

/// Fraction of the exact neighbours (`exact`, n × k) that `approx` (n × k) found.
pub fn recall(exact: &[u32], approx: &[u32], k: usize) -> f64 {
    let hits: usize = exact
        .chunks_exact(k)
        .zip(approx.chunks_exact(k))
        .map(|(e, a)| e.iter().filter(|j| a.contains(j)).count())
        .sum();
    hits as f64 / exact.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nearest_on_a_line_and_symmetrises() {
        // points at 0, 1, 3, 7 on a line
        let v = [0.0f32, 1.0, 3.0, 7.0];
        let p = Points::new(&v, 1);
        assert_eq!(knn_indices(&p, &p, 2, true), vec![1, 2, 0, 2, 1, 0, 2, 1]);
        let g = KnnSource { k: 1 }.graph(&p).unwrap();
        // 0→1, 1→0, 2→1, 3→2
        assert_eq!(g.pairs(), &[(0, 1), (1, 2), (2, 3)]);
    }

    #[test]
    fn matches_brute_force_on_random_data() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (n, d, k) = (700, 13, 5);
        let v: Vec<f32> = (0..n * d).map(|_| rng.random::<f32>()).collect();
        let p = Points::new(&v, d);
        let got = knn_indices(&p, &p, k, true);
        for i in (0..n).step_by(37) {
            let mut all: Vec<(f64, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| {
                    (
                        (0..d)
                            .map(|c| (v[i * d + c] as f64 - v[j * d + c] as f64).powi(2))
                            .sum(),
                        j,
                    )
                })
                .collect();
            all.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let want: Vec<u32> = all[..k].iter().map(|&(_, j)| j as u32).collect();
            assert_eq!(&got[i * k..(i + 1) * k], &want[..], "row {i}");
        }
    }

    #[test]
    fn k_not_below_n_is_a_clear_error() {
        let v = [0.0f32, 1.0, 2.0];
        let e = KnnSource { k: 3 }
            .graph(&Points::new(&v, 1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("k = 3") && e.contains("3"), "{e}");
    }
}
