//! Neighbour relations from prior knowledge: which pairs of training samples the mapping must
//! pull together (Y = 0). Every source implements [`NeighbourSource`] and yields an undirected
//! [`NeighbourGraph`]: k nearest neighbours in input space (exact or HNSW), same label, a list of
//! pairs, transformed copies, adjacency on a metadata grid, closeness in time, and unions.

mod fuzzy;
mod graph;
#[cfg(feature = "hnsw")]
mod hnsw;
mod invariant;
mod knn;
mod nndescent;
mod prior;

pub use fuzzy::{fuzzy_weights, memberships, FuzzyWeights};
pub use graph::NeighbourGraph;
#[cfg(feature = "hnsw")]
pub use hnsw::{hnsw_indices, HnswKnnSource};
pub use invariant::InvariantKnnSource;
pub use knn::{knn_indices, recall, KnnSource};
pub use nndescent::{nndescent_indices, NnDescentSource};
pub use prior::{GridAdjacency, GridDim, PairList, SameLabel, Temporal, TransformGroups, Union};

use crate::error::Result;
use crate::points::Points;

/// A source of prior knowledge about which samples are neighbours.
pub trait NeighbourSource {
    /// A short description for logs and the model config, e.g. `knn(k=5)`.
    fn describe(&self) -> String;
    /// The undirected neighbour graph over the `points.n` training samples.
    fn graph(&self, points: &Points) -> Result<NeighbourGraph>;
    /// The same graph over samples held as bytes (`n × dim`) whose Euclidean neighbours are
    /// those of the points `graph` would be given, read without a float copy of them; `None`
    /// where this source does not read bytes (the caller then gives it the points).
    fn graph_of_bytes(&self, _bytes: &[u8], _dim: usize) -> Option<Result<NeighbourGraph>> {
        None
    }
    /// Whether the graph depends on the samples' values (k nearest neighbours), rather than on
    /// their number alone (labels, pairs, time, poses): a source that does not read them is
    /// given [`Points::count_only`], and no normalised copy of the samples is made for it.
    fn reads_samples(&self) -> bool {
        true
    }
}
