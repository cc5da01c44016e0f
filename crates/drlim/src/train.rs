//! Training: a Siamese pass (both arms through the same weights, as one batched forward of the
//! 2B inputs), the contrastive loss, and SGD with momentum (or Adam) with a per-epoch learning
//! rate decay. Progress goes to a [`TrainObserver`]; the library prints nothing.

use std::time::Instant;

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::loss::contrastive_loss;
use crate::model::{Architecture, Net};
use crate::neighbours::NeighbourGraph;
use crate::pairs::{Pair, PairSampler};

/// The optimiser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Stochastic gradient descent with (heavy-ball) momentum, as in the paper.
    Sgd,
    /// Adam.
    Adam,
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
}

impl Default for TrainConfig {
    /// Defaults that reproduce the paper's MNIST experiment on this project's split.
    fn default() -> Self {
        Self {
            epochs: 30,
            batch: 32,
            lr: 0.01,
            lr_decay: 0.95,
            momentum: 0.9,
            weight_decay: 0.0,
            optimizer: OptimizerKind::Sgd,
            margin: 1.0,
            neg_ratio: 1.0,
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// Checks the settings, naming the first that is out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |flag: &str, why: &str| Err(Error::param(format!("{flag} {why}")));
        if self.epochs == 0 {
            return bad("--epochs", "must be at least 1");
        }
        if self.batch == 0 {
            return bad("--batch", "must be at least 1");
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad("--lr", "must be a positive number");
        }
        if !(self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return bad("--lr-decay", "must be in (0, 1]");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad("--momentum", "must be in [0, 1)");
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return bad("--weight-decay", "must be ≥ 0");
        }
        if !(self.margin > 0.0 && self.margin.is_finite()) {
            return bad("--margin", "must be a positive number");
        }
        Ok(())
    }

    /// The learning rate of `epoch` (1-based).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        self.lr * self.lr_decay.powi(epoch as i32 - 1)
    }
}

/// What one epoch did.
#[derive(Clone, Debug, Serialize)]
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

/// Receives progress; every method has an empty default.
pub trait TrainObserver {
    /// The neighbour graph is ready: `pairs` neighbour pairs from `source`, built in `seconds`.
    fn on_graph(&mut self, _pairs: usize, _source: &str, _seconds: f64) {}
    /// Training starts: `epochs` epochs of `pairs_per_epoch` pairs.
    fn on_start(&mut self, _epochs: usize, _pairs_per_epoch: usize) {}
    /// `done` of the epoch's `total` pairs have been trained on, with the running mean loss.
    fn on_progress(&mut self, _epoch: usize, _done: usize, _total: usize, _loss: f32) {}
    /// An epoch ended.
    fn on_epoch(&mut self, _report: &EpochReport) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl TrainObserver for Silent {}

/// The result of training.
pub struct Trained {
    /// The trained network; after a divergence, the last one whose epoch ended with a finite loss
    /// (or the initial network if the first epoch diverged).
    pub net: Net,
    /// One report per completed epoch.
    pub history: Vec<EpochReport>,
    /// Set when training stopped early because the loss stopped being finite.
    pub diverged: Option<Error>,
}

/// Trains a fresh `arch` network on the prepared `inputs` (`n × arch.input_dim()`, row-major)
/// with the neighbour pairs of `graph`, on `device` (autodiff is enabled on it here).
pub fn train(
    arch: &Architecture,
    inputs: &[f32],
    graph: &NeighbourGraph,
    config: &TrainConfig,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<Trained> {
    config.validate()?;
    let dim = arch.input_dim();
    assert_eq!(
        inputs.len(),
        graph.n() * dim,
        "inputs must hold one row per graph vertex"
    );
    let device = device.clone().autodiff();
    let mut net = Net::seeded(arch, config.seed, &device);
    let mut sampler = PairSampler::new(graph, config.neg_ratio, config.seed)?;
    let mut optim = optimizer(config);
    let mut history = Vec::with_capacity(config.epochs);
    let mut last_good = net.clone();
    let mut buf = Vec::new();
    observer.on_start(config.epochs, sampler.pairs_per_epoch());
    for epoch in 1..=config.epochs {
        let start = Instant::now();
        let lr = config.lr_at(epoch);
        let pairs = sampler.epoch();
        let (mut total, mut done) = (0f64, 0usize);
        for chunk in pairs.chunks(config.batch) {
            let (x, y) = batch_tensors(chunk, inputs, dim, &device, &mut buf);
            let b = chunk.len();
            let out = net.forward(x);
            let loss = contrastive_loss(
                out.clone().narrow(0, 0, b),
                out.narrow(0, b, b),
                y,
                config.margin,
            );
            let value = loss.clone().into_scalar::<f32>();
            if !value.is_finite() {
                return Ok(Trained {
                    net: last_good,
                    history,
                    diverged: Some(Error::Diverged { epoch, loss: value }),
                });
            }
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(lr, net, grads);
            total += value as f64 * b as f64;
            done += b;
            observer.on_progress(epoch, done, pairs.len(), (total / done as f64) as f32);
        }
        let loss = (total / done as f64) as f32;
        if net
            .weights()
            .iter()
            .any(|(_, _, w)| w.iter().any(|v| !v.is_finite()))
        {
            return Ok(Trained {
                net: last_good,
                history,
                diverged: Some(Error::Diverged {
                    epoch,
                    loss: f32::NAN,
                }),
            });
        }
        let report = EpochReport {
            epoch,
            loss,
            lr,
            pairs: done,
            seconds: start.elapsed().as_secs_f64(),
        };
        observer.on_epoch(&report);
        history.push(report);
        last_good = net.clone();
    }
    Ok(Trained {
        net,
        history,
        diverged: None,
    })
}

fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
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

/// The 2B stacked inputs (first arms, then second arms) and the B labels of a batch.
fn batch_tensors(
    chunk: &[Pair],
    inputs: &[f32],
    dim: usize,
    device: &Device,
    buf: &mut Vec<f32>,
) -> (Tensor<2>, Tensor<1>) {
    let b = chunk.len();
    buf.clear();
    buf.reserve(2 * b * dim);
    for p in chunk {
        buf.extend_from_slice(&inputs[p.a as usize * dim..(p.a as usize + 1) * dim]);
    }
    for p in chunk {
        buf.extend_from_slice(&inputs[p.b as usize * dim..(p.b as usize + 1) * dim]);
    }
    let x = Tensor::from_data(TensorData::new(buf.clone(), [2 * b, dim]), device);
    let y = Tensor::from_data(
        TensorData::new(chunk.iter().map(|p| p.y).collect::<Vec<f32>>(), [b]),
        device,
    );
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbours::{KnnSource, NeighbourSource, Points};

    /// Two noisy clusters in 8-D, far apart.
    fn blobs(n: usize) -> Vec<f32> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        (0..n)
            .flat_map(|i| {
                let c = if i % 2 == 0 { 1.0 } else { -1.0 };
                (0..8)
                    .map(|_| c + 0.3 * (rng.random::<f32>() - 0.5))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn run(seed: u64, epochs: usize) -> Trained {
        let x = blobs(60);
        let g = KnnSource { k: 3 }.graph(&Points::new(&x, 8)).unwrap();
        let arch = Architecture::Mlp {
            input_dim: 8,
            hidden: vec![16],
            dim: 2,
        };
        let cfg = TrainConfig {
            epochs,
            batch: 16,
            lr: 0.05,
            seed,
            ..TrainConfig::default()
        };
        train(&arch, &x, &g, &cfg, &Device::flex(), &mut Silent).unwrap()
    }

    #[test]
    fn loss_falls_and_the_same_seed_gives_the_same_weights() {
        let a = run(5, 8);
        assert!(a.diverged.is_none());
        let first = a.history[0].loss;
        let last = a.history.last().unwrap().loss;
        assert!(last < 0.9 * first, "loss {first} → {last}");
        // the map keeps neighbours together and pushes the two clusters apart
        let x = blobs(60);
        let g = KnnSource { k: 3 }.graph(&Points::new(&x, 8)).unwrap();
        let e = crate::embed::embed(&a.net, &x, 8, &Device::flex().autodiff());
        let p = crate::eval::pair_distances(&Points::new(&e, 2), &g, 1000, 0);
        assert!(p.ratio() < 0.3, "{p:?}");
        let b = run(5, 8);
        assert_eq!(a.net.weights(), b.net.weights(), "same seed, same weights");
        let c = run(6, 8);
        assert_ne!(a.net.weights(), c.net.weights());
    }

    #[test]
    fn divergence_stops_with_a_clear_error_and_keeps_the_last_good_net() {
        let x = blobs(40);
        let g = KnnSource { k: 3 }.graph(&Points::new(&x, 8)).unwrap();
        let arch = Architecture::Mlp {
            input_dim: 8,
            hidden: vec![16],
            dim: 2,
        };
        let cfg = TrainConfig {
            epochs: 20,
            batch: 8,
            lr: 1e12,
            lr_decay: 1.0,
            momentum: 0.0,
            ..TrainConfig::default()
        };
        let t = train(&arch, &x, &g, &cfg, &Device::flex(), &mut Silent).unwrap();
        let err = t.diverged.expect("lr 1e12 must diverge").to_string();
        assert!(err.starts_with("training diverged in epoch"), "{err}");
        assert!(t
            .net
            .weights()
            .iter()
            .all(|(_, _, v)| v.iter().all(|x| x.is_finite())));
    }

    #[test]
    fn bad_settings_are_named() {
        let cfg = TrainConfig {
            lr: -1.0,
            ..TrainConfig::default()
        };
        assert!(cfg.validate().unwrap_err().to_string().contains("--lr"));
        let cfg = TrainConfig {
            margin: 0.0,
            ..TrainConfig::default()
        };
        assert!(cfg.validate().unwrap_err().to_string().contains("--margin"));
    }
}
