//! One optimisation step at a time, by the implementation that the settings and the device
//! choose.

use burn::tensor::Device;

use crate::error::Result;
use crate::fast::{self, fast_net};
use crate::mapping::Model;
use crate::model::{Architecture, Net};
use crate::pairs::Pair;

use super::batches::Batches;
use super::burn_step::{optimizer, BurnStepper};
use super::checkpoint::StepperState;
use super::config::{Engine, OptimizerKind, TrainConfig};
use super::fast_step::FastStepper;

/// One optimisation step at a time, by one implementation ([`stepper`] makes one; [`train`]
/// runs one over epochs).
///
/// [`train`]: super::train
pub trait Stepper {
    /// Prepares the epoch numbered `epoch` (1-based): the strengths of the declared
    /// transformations in it.
    fn begin_epoch(&mut self, epoch: usize);
    /// Trains on one batch of pairs; returns the batch's mean loss. A non-finite loss is
    /// returned without changing the weights.
    fn step(&mut self, pairs: &[Pair], lr: f64) -> f32;
    /// The current network as a burn module for inference (never on an autodiff device).
    fn net(&self) -> Net;
    /// Whether every weight is finite.
    fn is_finite(&self) -> bool;
    /// The optimiser's state and the augmentation streams used, for a [`Checkpoint`].
    ///
    /// [`Checkpoint`]: super::Checkpoint
    fn state(&self) -> Result<StepperState>;
    /// Goes on from `model`'s weights and `state` (taken by [`state`](Self::state) from a
    /// stepper of the same implementation and settings), as if the steps before had been
    /// taken here.
    fn restore(&mut self, model: &Model, state: &StepperState) -> Result<()>;
}

/// Whether `config` trains on `device` with the fast CPU path: where [`fast::serves`] the
/// device (the rule `embed` follows too), unless burn is asked for or the optimiser is one
/// that only burn has (Adam).
pub fn uses_fast_path(config: &TrainConfig, device: &Device) -> bool {
    config.engine == Engine::Auto && config.optimizer == OptimizerKind::Sgd && fast::serves(device)
}

/// A freshly initialised network of `arch` (seeded by `config.seed`), ready to train on pairs
/// of rows of `inputs` (`n × arch.input_dim()`, prepared; `image` gives their height and width
/// when they are images, which geometric augmentations need), with the implementation that
/// `config` and `device` choose. For benchmarks and custom loops; [`train`](super::train) runs
/// one over epochs.
pub fn stepper<'a>(
    arch: &Architecture,
    inputs: &'a [f32],
    image: Option<(usize, usize)>,
    config: &'a TrainConfig,
    device: &Device,
) -> Result<Box<dyn Stepper + 'a>> {
    let batches = Batches::new(inputs, arch.input_dim(), image, config)?;
    if uses_fast_path(config, device) {
        let net = Net::seeded(arch, config.seed, device);
        Ok(Box::new(FastStepper {
            fast: fast_net(&net),
            device: device.clone(),
            batches,
            buf: Vec::new(),
            dout: Vec::new(),
        }))
    } else {
        let device = device.clone().autodiff();
        Ok(Box::new(BurnStepper {
            net: Some(Net::seeded(arch, config.seed, &device)),
            optim: optimizer(config),
            device,
            batches,
            buf: Vec::new(),
            dout: Vec::new(),
        }))
    }
}
