//! The generic implementation: burn's autodiff on any device, SGD or Adam.

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Tensor, TensorData};

use crate::loss::contrastive_loss;
use crate::model::Net;
use crate::pairs::Pair;

use super::batches::Batches;
use super::config::{OptimizerKind, TrainConfig};
use super::stepper::Stepper;

pub(super) struct BurnStepper<'a> {
    pub(super) net: Option<Net>,
    pub(super) optim: ModuleOptimizer,
    pub(super) device: Device,
    pub(super) batches: Batches<'a>,
    pub(super) buf: Vec<f32>,
    pub(super) dout: Vec<f32>,
}

impl Stepper for BurnStepper<'_> {
    fn step(&mut self, pairs: &[Pair], lr: f64) -> f32 {
        let b = pairs.len();
        let dim = self.batches.dim;
        self.batches.gather(pairs, &mut self.buf);
        let x = Tensor::from_data(
            TensorData::new(self.buf.clone(), [2 * b, dim]),
            &self.device,
        );
        let net = self.net.take().expect("net present between steps");
        let out = net.forward(x);
        let (value, loss) = if self.batches.paper_pairs() {
            let y = Tensor::from_data(TensorData::new(self.batches.y.clone(), [b]), &self.device);
            let margin = self.batches.config.margin;
            let loss =
                contrastive_loss(out.clone().narrow(0, 0, b), out.narrow(0, b, b), y, margin);
            (loss.clone().into_scalar::<f32>(), loss)
        } else {
            // the in-batch losses are computed on the outputs' values; burn then differentiates
            // the network through Σ out · ∂L/∂out, whose gradient is ∂L/∂out
            let d = out.dims()[1];
            let values = out
                .clone()
                .into_data()
                .try_into_vec::<f32>()
                .expect("f32 outputs");
            let value = self.batches.loss_and_grad(&values, d, &mut self.dout);
            let g = Tensor::<2>::from_data(
                TensorData::new(self.dout.clone(), [2 * b, d]),
                &self.device,
            );
            (value, (out * g).sum())
        };
        if !value.is_finite() {
            self.net = Some(net);
            return value;
        }
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        self.net = Some(self.optim.step(lr, net, grads));
        value
    }

    fn net(&self) -> Net {
        // handed out for inference: without the autodiff wrapper the optimiser needs
        self.net.clone().expect("net present between steps").valid()
    }

    fn is_finite(&self) -> bool {
        self.net()
            .weights()
            .iter()
            .all(|(_, _, w)| w.iter().all(|v| v.is_finite()))
    }
}

pub(super) fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
    let decay =
        (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay as f32));
    match config.optimizer {
        OptimizerKind::Sgd => {
            let momentum = (config.momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(config.momentum)
                    .with_dampening(0.0)
            });
            SgdConfig::new()
                .with_momentum(momentum)
                .with_weight_decay(decay)
                .init()
        }
        OptimizerKind::Adam => AdamConfig::new().with_weight_decay(decay).init(),
    }
}
