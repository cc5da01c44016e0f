//! Training settings: the optimiser, the loss and where non-neighbours come from, and the
//! defaults that reproduce the paper (declared once in [`defaults`], which the CLI's flags
//! read too).

use serde::{Deserialize, Serialize};

use crate::augment::Augmentation;
use crate::error::{Error, Result};

/// The library's defaults, declared once: [`TrainConfig::default`] and `FitOptions::default`
/// use them, and so do the CLI's flags. They reproduce the paper's MNIST experiment on this
/// project's split.
pub mod defaults {
    /// Passes over all neighbour pairs.
    pub const EPOCHS: usize = 80;
    /// Pairs per SGD step.
    pub const BATCH: usize = 32;
    /// Learning rate of the first epoch.
    pub const LR: f64 = 0.005;
    /// Learning-rate multiplier per epoch.
    pub const LR_DECAY: f64 = 1.0;
    /// SGD momentum.
    pub const MOMENTUM: f64 = 0.9;
    /// L2 weight decay.
    pub const WEIGHT_DECAY: f64 = 0.0;
    /// The contrastive loss's margin m.
    pub const MARGIN: f32 = 1.0;
    /// Random non-neighbour pairs per neighbour pair.
    pub const NEG_RATIO: f64 = 1.0;
    /// Seed of the initial weights and of the pair sampling.
    pub const SEED: u64 = 0;
    /// Pairs of two transformed copies of one sample, per sample and epoch.
    pub const AUGMENT_PAIRS: usize = 1;
    /// Nearest neighbours per sample (the paper's 5).
    pub const K: usize = 5;
    /// Output dimension.
    pub const DIM: usize = 2;
}

/// The optimiser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Stochastic gradient descent with (heavy-ball) momentum, as in the paper.
    Sgd,
    /// Adam.
    Adam,
}

/// Where the non-neighbour pairs (Y = 1) come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Negatives {
    /// `neg_ratio` uniformly random non-neighbour pairs per neighbour pair, as in the paper.
    #[default]
    Random,
    /// Every other output of the batch is a non-neighbour of each arm (one forward pass, no
    /// extra pairs); `neg_ratio` is then unused.
    Batch,
}

/// The loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// The paper's contrastive loss, eq. (4).
    #[default]
    Contrastive,
    /// t-SimCNE's InfoNCE with a Cauchy kernel 1/(1 + D²), over in-batch non-neighbours.
    CauchyInfonce,
}

/// Training settings (stored in the model's `config.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over all neighbour pairs.
    pub epochs: usize,
    /// Pairs per step.
    pub batch: usize,
    /// Learning rate of the first epoch.
    pub lr: f64,
    /// Learning-rate multiplier per epoch.
    pub lr_decay: f64,
    /// SGD momentum (ignored by Adam).
    pub momentum: f64,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// The optimiser.
    pub optimizer: OptimizerKind,
    /// The margin m of the contrastive loss.
    pub margin: f32,
    /// Random non-neighbour pairs per neighbour pair and epoch (r).
    pub neg_ratio: f64,
    /// Seed of the initial weights and of the pair sampling.
    pub seed: u64,
    /// Which implementation trains.
    #[serde(default)]
    pub engine: Engine,
    /// Declared invariances: when set, every arm of every pair is a freshly drawn transformed
    /// copy of its sample, and each sample is also paired with a copy of itself
    /// (`augment_pairs` times per epoch).
    #[serde(default)]
    pub augment: Option<Augmentation>,
    /// Pairs of two transformed copies of the same sample, per sample and epoch (with `augment`).
    #[serde(default = "one")]
    pub augment_pairs: usize,
    /// Whether the arms of the graph's neighbour pairs (and of random non-neighbour pairs) are
    /// transformed too; when false, only the pairs of two copies of one sample are.
    #[serde(default = "yes")]
    pub augment_neighbours: bool,
    /// Strength of the declared invariances at the last epoch, as a fraction of `augment`'s:
    /// the strengths fall linearly from `augment`'s at the first epoch to this fraction of
    /// them at the last (1, the default, keeps them constant). Strong invariances early shape
    /// the clusters; milder ones late let the map follow the samples' own neighbourhoods more
    /// closely. The fall spans `epochs`: resuming with more epochs than first asked for
    /// stretches what remains of it.
    #[serde(default = "full")]
    pub augment_final: f32,
    /// Where non-neighbours come from.
    #[serde(default)]
    pub negatives: Negatives,
    /// The loss.
    #[serde(default)]
    pub loss: LossKind,
}

fn one() -> usize {
    defaults::AUGMENT_PAIRS
}

fn yes() -> bool {
    true
}

fn full() -> f32 {
    1.0
}

impl Default for TrainConfig {
    /// Defaults that reproduce the paper's MNIST experiment on this project's split.
    fn default() -> Self {
        Self {
            epochs: defaults::EPOCHS,
            batch: defaults::BATCH,
            lr: defaults::LR,
            lr_decay: defaults::LR_DECAY,
            momentum: defaults::MOMENTUM,
            weight_decay: defaults::WEIGHT_DECAY,
            optimizer: OptimizerKind::Sgd,
            margin: defaults::MARGIN,
            neg_ratio: defaults::NEG_RATIO,
            seed: defaults::SEED,
            engine: Engine::Auto,
            augment: None,
            augment_pairs: defaults::AUGMENT_PAIRS,
            augment_neighbours: true,
            augment_final: 1.0,
            negatives: Negatives::Random,
            loss: LossKind::Contrastive,
        }
    }
}

impl TrainConfig {
    /// Checks the settings, naming the first that is out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, why: &str| {
            Err(Error::Setting {
                name,
                problem: why.into(),
            })
        };
        if self.epochs == 0 {
            return bad("epochs", "must be at least 1");
        }
        if self.batch == 0 {
            return bad("batch", "must be at least 1");
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad("lr", "must be a positive number");
        }
        if !(self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return bad("lr_decay", "must be in (0, 1]");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad("momentum", "must be in [0, 1)");
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return bad("weight_decay", "must be ≥ 0");
        }
        if !(self.margin > 0.0 && self.margin.is_finite()) {
            return bad("margin", "must be a positive number");
        }
        if let Some(a) = &self.augment {
            a.validate()?;
        }
        if !(0.0..=1.0).contains(&self.augment_final) {
            return bad("augment_final", "must be in [0, 1]");
        }
        if self.loss == LossKind::CauchyInfonce && self.negatives != Negatives::Batch {
            return bad(
                "loss",
                "cauchy-infonce needs in-batch non-neighbours (negatives: batch)",
            );
        }
        Ok(())
    }

    /// The factor on the declared strengths in `epoch` (1-based): 1 at the first epoch,
    /// falling linearly to `augment_final` at the last.
    pub fn augment_factor(&self, epoch: usize) -> f32 {
        if self.epochs < 2 {
            return 1.0;
        }
        let t = (epoch.clamp(1, self.epochs) - 1) as f32 / (self.epochs - 1) as f32;
        1.0 - (1.0 - self.augment_final) * t
    }

    /// The learning rate of `epoch` (1-based).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        self.lr * self.lr_decay.powi(epoch as i32 - 1)
    }
}

/// Which implementation trains.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// The fast CPU path where it applies (SGD on a CPU device), burn otherwise.
    #[default]
    Auto,
    /// Always burn's generic autodiff path.
    Burn,
}
