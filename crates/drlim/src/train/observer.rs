//! What training reports while it runs, and how an observer stops it.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use crate::mapping::Model;
use crate::neighbours::NeighbourGraph;
use crate::pairs::PairCounts;

/// What one epoch did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Mean loss over the epoch's pairs.
    pub loss: f32,
    /// The learning rate used.
    pub lr: f64,
    /// Pairs trained on.
    pub pairs: usize,
    /// Wall time of the epoch.
    pub seconds: f64,
}

impl EpochReport {
    /// Training speed.
    pub fn pairs_per_s(&self) -> f64 {
        self.pairs as f64 / self.seconds.max(1e-9)
    }
}

/// Receives progress and may stop training; every method has a default that only continues.
///
/// Returning [`ControlFlow::Break`] from [`on_progress`](Self::on_progress) stops training
/// after that step, and from [`on_epoch`](Self::on_epoch) after that epoch; the fitted model is
/// then the one after the last complete epoch, and the outcome says training was stopped (early
/// stopping, Ctrl-C, a callback from another language).
pub trait TrainObserver {
    /// The neighbour graph is ready: `pairs` neighbour pairs from `source`, built in `seconds`.
    fn on_graph(&mut self, _pairs: usize, _source: &str, _seconds: f64) {}
    /// The pairs of each epoch, by kind (called before `on_start`).
    fn on_pairs(&mut self, _counts: &PairCounts) {}
    /// Training starts: `epochs` epochs of `pairs_per_epoch` pairs.
    fn on_start(&mut self, _epochs: usize, _pairs_per_epoch: usize) {}
    /// `done` of the epoch's `total` pairs have been trained on, with the running mean loss.
    fn on_progress(
        &mut self,
        _epoch: usize,
        _done: usize,
        _total: usize,
        _loss: f32,
    ) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    /// An epoch ended; `model` is the mapping after it (network, architecture and input
    /// preparation), ready to embed or save, for evaluation or checkpoints during training.
    fn on_epoch(&mut self, _report: &EpochReport, _model: &Model) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    /// After [`on_epoch`](Self::on_epoch): everything needed to resume from this epoch, and
    /// the graph trained on ([`Checkpoint::save`](super::Checkpoint::save) writes both).
    fn on_checkpoint(&mut self, _checkpoint: &super::Checkpoint, _graph: &NeighbourGraph) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl TrainObserver for Silent {}
