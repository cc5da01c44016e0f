//! The generic implementation: burn's autodiff on any device, SGD or Adam.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Bytes, Device, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::mapping::Model;

use crate::loss::contrastive_loss;
use crate::model::Net;
use crate::pairs::Pair;

use super::batches::Batches;
use super::checkpoint::{OptimiserState, StepperState};
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
    fn begin_epoch(&mut self, epoch: usize) {
        self.batches.begin_epoch(epoch);
    }

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

    fn state(&self) -> Result<StepperState> {
        let net = self.net.as_ref().expect("net present between steps");
        let mut ids = ParamIds(Vec::new());
        net.visit(&mut ids);
        let record = self
            .optim
            .into_bytes()
            .map_err(|e| Error::param(format!("cannot record the optimiser's state: {e:?}")))?;
        Ok(StepperState {
            optimiser: OptimiserState::Burn {
                ids: ids.0,
                record: record.to_vec(),
            },
            streams: self.batches.streams,
        })
    }

    fn restore(&mut self, model: &Model, state: &StepperState) -> Result<()> {
        let OptimiserState::Burn { ids, record } = &state.optimiser else {
            return Err(Error::param(
                "the checkpoint holds the fast CPU path's optimiser state, but this run trains with burn: resume with the engine, optimiser and device that wrote it",
            ));
        };
        let mut values: HashMap<String, Vec<f32>> = model
            .net
            .weights()
            .into_iter()
            .map(|(name, _, v)| (name, v))
            .collect();
        let net = Net::from_weights(&model.config.architecture, &self.device, |name| {
            values.remove(name).expect("the architecture's own weights")
        });
        let mut shapes = ParamShapes(Vec::new());
        net.visit(&mut shapes);
        check_record(record, ids, &shapes.0)
            .map_err(|e| Error::param(format!("the checkpoint's optimiser state: {e}")))?;
        let net = net.map(&mut SetParamIds(ids.iter()));
        // burn trusts a record: some malformed ones (a tensor without a parameter id, state of
        // another optimiser) make it panic while reading or in the next step. So it is read,
        // and tried on a step of rate 0 on a copy of the network, with panics caught.
        let load = || {
            let fresh = optimizer(self.batches.config);
            let bytes = Bytes::from_bytes_vec(record.clone());
            quietly(move || fresh.from_bytes(bytes))
                .ok_or_else(|| "not a valid optimiser record".to_string())
                .and_then(|r| r.map_err(|e| format!("not a valid optimiser record: {e:?}")))
        };
        let bad = |e: String| Error::param(format!("the checkpoint's optimiser state: {e}"));
        let mut trial = load().map_err(bad)?;
        let (copy, device) = (net.clone(), self.device.clone());
        let dim = model.config.architecture.input_dim();
        quietly(move || {
            let x = Tensor::<2>::zeros([2, dim], &device);
            let grads = GradientsParams::from_grads(copy.forward(x).sum().backward(), &copy);
            drop(trial.step(0.0, copy, grads));
        })
        .ok_or_else(|| bad("does not fit this optimiser and network".into()))?;
        self.optim = load().map_err(bad)?;
        self.net = Some(net);
        self.batches.streams = state.streams;
        Ok(())
    }
}

/// Runs `f`, turning a panic into `None` without printing it (the panic hook is silenced
/// meanwhile).
fn quietly<T>(f: impl FnOnce() -> T) -> Option<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result.ok()
}

/// Checks burn's optimiser `record` (burnpack bytes) against the network it will drive: one
/// id per parameter, and every state tensor an F32 of its parameter's shape. burn itself
/// trusts the record and panics in the middle of a step on a tensor of another shape.
fn check_record(record: &[u8], ids: &[u64], shapes: &[Vec<usize>]) -> Result<(), String> {
    if ids.len() != shapes.len() {
        return Err(format!(
            "it names {} parameters, the network has {}",
            ids.len(),
            shapes.len()
        ));
    }
    let shape_of: HashMap<u64, &Vec<usize>> = ids.iter().copied().zip(shapes).collect();
    if shape_of.len() != ids.len() {
        return Err("a parameter id is repeated".into());
    }
    let reader = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(record.to_vec()))
        .map_err(|e| format!("not a valid optimiser record: {e}"))?;
    let tensors = reader
        .into_tensors()
        .map_err(|e| format!("not a valid optimiser record: {e}"))?;
    for t in tensors {
        let Some(shape) = t.param_id.and_then(|id| shape_of.get(&id)) else {
            return Err(format!(
                "tensor '{}' belongs to no parameter of the network",
                t.name
            ));
        };
        if t.dtype != burn_pack::DType::F32 || t.shape.as_slice() != shape.as_slice() {
            return Err(format!(
                "tensor '{}' is {:?} of shape {:?}, but its parameter is F32 of shape {shape:?}",
                t.name,
                t.dtype,
                t.shape.as_slice()
            ));
        }
    }
    Ok(())
}

/// Collects the shapes of a module's parameters, in visiting order.
struct ParamShapes(Vec<Vec<usize>>);

impl ModuleVisitor for ParamShapes {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().dims().to_vec());
    }
}

/// Collects the parameter ids of a module, in visiting order.
struct ParamIds(Vec<u64>);

impl ModuleVisitor for ParamIds {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.id.val());
    }
}

/// Gives a module's parameters the ids of a [`ParamIds`] visit, in visiting order.
struct SetParamIds<'a>(std::slice::Iter<'a, u64>);

impl ModuleMapper for SetParamIds<'_> {
    fn map_float<const D: usize>(&mut self, mut param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.id = ParamId::from(*self.0.next().expect("counted before"));
        param
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
