//! Neighbour relations from prior knowledge: which pairs of training samples the mapping must
//! pull together (Y = 0). Every source implements [`NeighbourSource`] and yields an undirected
//! [`NeighbourGraph`]; the next sources (labels, transformations, poses, time) plug in here.

pub(crate) mod distance;
mod graph;
mod hnsw;
mod knn;

pub use distance::Points;
pub use graph::NeighbourGraph;
pub use hnsw::{hnsw_indices, recall, HnswKnnSource};
pub use knn::{knn_indices, KnnSource};

use crate::error::Result;

/// A source of prior knowledge about which samples are neighbours.
pub trait NeighbourSource {
    /// A short description for logs and the model config, e.g. `knn(k=5)`.
    fn describe(&self) -> String;
    /// The undirected neighbour graph over the `points.n` training samples.
    fn graph(&self, points: &Points) -> Result<NeighbourGraph>;
}
