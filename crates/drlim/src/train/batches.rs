//! What both implementations share around the network: the batch's inputs (gathered, and
//! transformed when invariances are declared) and the loss with its gradient.

use crate::augment::Augmenter;
use crate::batch_loss::{batch_contrastive_loss_and_grad, cauchy_infonce_loss_and_grad};
use crate::error::Result;
use crate::loss::contrastive_loss_and_grad;
use crate::pairs::Pair;

use super::config::{LossKind, Negatives, TrainConfig};

/// Stacks the 2B inputs of a batch: first arms, then second arms.
pub(super) fn gather(pairs: &[Pair], inputs: &[f32], dim: usize, buf: &mut Vec<f32>) {
    buf.clear();
    for p in pairs {
        buf.extend_from_slice(&inputs[p.a as usize * dim..(p.a as usize + 1) * dim]);
    }
    for p in pairs {
        buf.extend_from_slice(&inputs[p.b as usize * dim..(p.b as usize + 1) * dim]);
    }
}

/// What both implementations share around the network: the batch's inputs (gathered, and
/// transformed when invariances are declared) and the loss with its gradient.
pub(super) struct Batches<'a> {
    pub(super) inputs: &'a [f32],
    pub(super) dim: usize,
    pub(super) config: &'a TrainConfig,
    /// The declared transformations at their full strengths.
    declared: Option<Augmenter>,
    /// The transformations of the current epoch.
    pub(super) augmenter: Option<Augmenter>,
    /// Random streams used so far: each transformed copy gets the next.
    pub(super) streams: u64,
    pub(super) ids: Vec<u32>,
    pub(super) y: Vec<f32>,
}

impl<'a> Batches<'a> {
    pub(super) fn new(
        inputs: &'a [f32],
        dim: usize,
        image: Option<(usize, usize)>,
        config: &'a TrainConfig,
    ) -> Result<Self> {
        let augmenter = match &config.augment {
            Some(a) => Some(Augmenter::new(a.clone(), image, config.seed)?),
            None => None,
        };
        Ok(Self {
            inputs,
            dim,
            config,
            declared: augmenter.clone(),
            augmenter,
            streams: 0,
            ids: Vec::new(),
            y: Vec::new(),
        })
    }

    /// Sets the strengths of the transformations for `epoch` (1-based), which fall over the
    /// epochs when [`TrainConfig::augment_final`] is below 1.
    pub(super) fn begin_epoch(&mut self, epoch: usize) {
        let factor = self.config.augment_factor(epoch);
        self.augmenter = self.declared.as_ref().map(|a| a.scaled(factor));
    }

    /// Fills `buf` with the 2B inputs of `pairs`.
    pub(super) fn gather(&mut self, pairs: &[Pair], buf: &mut Vec<f32>) {
        gather(pairs, self.inputs, self.dim, buf);
        self.ids.clear();
        self.ids.extend(pairs.iter().map(|p| p.a));
        self.ids.extend(pairs.iter().map(|p| p.b));
        self.y.clear();
        self.y.extend(pairs.iter().map(|p| p.y));
        if let Some(aug) = &self.augmenter {
            if self.config.augment_neighbours {
                aug.apply_rows(buf, self.dim, self.streams);
            } else {
                // only the pairs of two copies of one sample
                let b = pairs.len();
                aug.apply_rows_where(buf, self.dim, self.streams, |r| {
                    let p = &pairs[r % b];
                    p.a == p.b
                });
            }
            self.streams = self.streams.wrapping_add(2 * pairs.len() as u64);
        }
    }

    /// Whether the loss is the paper's over explicit pairs (which burn differentiates itself).
    pub(super) fn paper_pairs(&self) -> bool {
        self.config.negatives == Negatives::Random && self.config.loss == LossKind::Contrastive
    }

    /// The loss of the gathered batch for its outputs `out` (2B × d), and ∂L/∂out.
    pub(super) fn loss_and_grad(&self, out: &[f32], d: usize, dout: &mut Vec<f32>) -> f32 {
        dout.resize(out.len(), 0.0);
        let margin = self.config.margin;
        match (self.config.negatives, self.config.loss) {
            (Negatives::Random, _) => contrastive_loss_and_grad(out, d, &self.y, margin, dout),
            (Negatives::Batch, LossKind::Contrastive) => {
                batch_contrastive_loss_and_grad(out, d, &self.ids, margin, dout)
            }
            (Negatives::Batch, LossKind::CauchyInfonce) => {
                cauchy_infonce_loss_and_grad(out, d, &self.ids, dout)
            }
        }
    }
}
