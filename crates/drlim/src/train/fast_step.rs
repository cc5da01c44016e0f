//! The fast CPU implementation: the hand-written forward, backward and SGD of [`crate::fast`].

use burn::tensor::Device;

use crate::fast::FastNet;
use crate::model::Net;
use crate::pairs::Pair;

use super::batches::Batches;
use super::stepper::Stepper;

pub(super) struct FastStepper<'a> {
    pub(super) fast: Box<dyn FastNet>,
    pub(super) device: Device,
    pub(super) batches: Batches<'a>,
    pub(super) buf: Vec<f32>,
    pub(super) dout: Vec<f32>,
}

impl Stepper for FastStepper<'_> {
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
}
