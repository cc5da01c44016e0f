//! The fast CPU implementation: the hand-written forward, backward and SGD of [`crate::fast`].

use burn::tensor::Device;

use crate::error::{Error, Result};
use crate::fast::{fast_net, FastNet};
use crate::mapping::Model;
use crate::model::Net;
use crate::pairs::Pair;

use super::batches::Batches;
use super::checkpoint::{OptimiserState, StepperState};
use super::stepper::Stepper;

pub(super) struct FastStepper<'a> {
    pub(super) fast: Box<dyn FastNet>,
    pub(super) device: Device,
    pub(super) batches: Batches<'a>,
    pub(super) buf: Vec<f32>,
    pub(super) dout: Vec<f32>,
}

impl Stepper for FastStepper<'_> {
    fn begin_epoch(&mut self, epoch: usize) {
        self.batches.begin_epoch(epoch);
    }

    fn step(&mut self, pairs: &[Pair], lr: f64) -> f32 {
        let (b, d) = (pairs.len(), self.fast.dim());
        self.batches.gather(pairs, &mut self.buf);
        let out = self.fast.forward(&self.buf, 2 * b);
        let value = self.batches.loss_and_grad(out, d, &mut self.dout);
        if value.is_finite() {
            self.fast.backward(&self.dout);
            let config = self.batches.config;
            self.fast.sgd_step(
                lr as f32,
                config.momentum as f32,
                config.weight_decay as f32,
            );
        }
        value
    }

    fn net(&self) -> Net {
        self.fast.to_net(&self.device)
    }

    fn is_finite(&self) -> bool {
        self.fast.is_finite()
    }

    fn state(&self) -> Result<StepperState> {
        Ok(StepperState {
            optimiser: OptimiserState::Fast {
                velocity: self.fast.velocity().to_vec(),
            },
            streams: self.batches.streams,
        })
    }

    fn restore(&mut self, model: &Model, state: &StepperState) -> Result<()> {
        let OptimiserState::Fast { velocity } = &state.optimiser else {
            return Err(Error::param(
                "the checkpoint holds burn's optimiser state, but this run trains on the fast CPU path: resume with the engine, optimiser and device that wrote it",
            ));
        };
        let mut fast = fast_net(&model.net);
        fast.set_velocity(velocity.clone()).map_err(Error::param)?;
        self.fast = fast;
        self.batches.streams = state.streams;
        Ok(())
    }
}
