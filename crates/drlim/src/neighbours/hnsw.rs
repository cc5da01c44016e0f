//! Approximate k nearest neighbours with a hierarchical navigable small-world graph (Malkov &
//! Yashunin; the `hnsw_rs` crate), for data too large for the exact GEMM search. The index is
//! built with parallel inserts, so the graph can differ slightly between runs; use the exact
//! [`KnnSource`](super::KnnSource) where bit-for-bit reproducibility matters.

use hnsw_rs::prelude::{DistL2, Hnsw};

use super::{NeighbourGraph, NeighbourSource, Points};
use crate::error::{Error, Result};

/// Each sample is a neighbour of its k approximately nearest samples (symmetrised).
#[derive(Clone, Debug)]
pub struct HnswKnnSource {
    /// Neighbours per sample.
    pub k: usize,
    /// Links per node (HNSW's M).
    pub links: usize,
    /// Candidate list size while building (efConstruction).
    pub ef_construction: usize,
    /// Candidate list size while searching (ef).
    pub ef_search: usize,
}

impl HnswKnnSource {
    /// Settings measured to reach a recall@5 of 0.999 on the 10,000 built-in digits (see
    /// BENCHMARKS.md for 100,000).
    pub fn new(k: usize) -> Self {
        Self {
            k,
            links: 16,
            ef_construction: 64,
            ef_search: 64.max(4 * k),
        }
    }
}

/// The approximate `k` nearest other points of every point, `points.n × k` row-major.
pub fn hnsw_indices(points: &Points, source: &HnswKnnSource) -> Vec<u32> {
    let n = points.n;
    let layers = 16.min(((n as f64).ln() / (source.links as f64).ln()).ceil() as usize + 2);
    let index: Hnsw<f32, DistL2> = Hnsw::new(
        source.links.min(256),
        n,
        layers,
        source.ef_construction,
        DistL2 {},
    );
    let data: Vec<(&[f32], usize)> = (0..n).map(|i| (points.row(i), i)).collect();
    index.parallel_insert_slice(&data);
    let k = source.k;
    use rayon::prelude::*;
    let rows: Vec<Vec<u32>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let found = index.search(points.row(i), k + 1, source.ef_search.max(k + 1));
            let mut row: Vec<u32> = found
                .iter()
                .map(|nb| nb.d_id as u32)
                .filter(|&j| j as usize != i)
                .collect();
            row.truncate(k);
            row
        })
        .collect();
    // a point may come back with fewer than k others (duplicates, tiny data): pad with its
    // nearest found neighbour so the layout stays n × k
    rows.into_iter()
        .enumerate()
        .flat_map(|(i, mut row)| {
            let fill = row.first().copied().unwrap_or(((i + 1) % n) as u32);
            row.resize(k, fill);
            row
        })
        .collect()
}

impl NeighbourSource for HnswKnnSource {
    fn describe(&self) -> String {
        format!(
            "hnsw-knn(k={}, M={}, efConstruction={}, ef={})",
            self.k, self.links, self.ef_construction, self.ef_search
        )
    }

    fn graph(&self, points: &Points) -> Result<NeighbourGraph> {
        if self.k == 0 || self.k >= points.n {
            return Err(Error::param(format!(
                "k = {} nearest neighbours needs more than k samples, but the data has {} (use a smaller k)",
                self.k, points.n
            )));
        }
        let idx = hnsw_indices(points, self);
        let pairs = idx
            .chunks_exact(self.k)
            .enumerate()
            .flat_map(|(i, row)| row.iter().map(move |&j| (i as u32, j)));
        Ok(NeighbourGraph::from_pairs(points.n, pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbours::{knn_indices, recall};

    #[test]
    fn finds_most_exact_neighbours_of_real_digits() {
        // the real digits that ../shared holds (the same 10,000 that drlim-paper builds in)
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/mnist-10k/images-idx3-ubyte.gz"
        );
        let images = crate::data::load(path.as_ref()).unwrap();
        let n = 2000;
        let x: Vec<f32> = images.values()[..n * 784]
            .iter()
            .map(|v| v / 255.0)
            .collect();
        let p = Points::new(&x, 784);
        let exact = knn_indices(&p, &p, 5, true);
        let approx = hnsw_indices(&p, &HnswKnnSource::new(5));
        let r = recall(&exact, &approx, 5);
        assert!(r >= 0.95, "recall@5 {r}");
        let g = HnswKnnSource::new(5).graph(&p).unwrap();
        assert!(g.len() >= n * 5 / 2);
    }
}
