//! Training: a Siamese pass (both arms through the same weights, as one batched forward of the
//! 2B inputs), the contrastive loss, and SGD with momentum (or Adam) with a per-epoch learning
//! rate decay. Progress goes to a [`TrainObserver`]; the library prints nothing.

use std::time::Instant;

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::augment::{Augmentation, Augmenter};
use crate::batch_loss::{batch_contrastive_loss_and_grad, cauchy_infonce_loss_and_grad};
use crate::error::{Error, Result};
use crate::fast::{fast_net, FastNet};
use crate::loss::{contrastive_loss, contrastive_loss_and_grad};
use crate::model::{Architecture, Net};
use crate::neighbours::NeighbourGraph;
use crate::pairs::{Pair, PairCounts, PairSampler};

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
    /// Where non-neighbours come from.
    #[serde(default)]
    pub negatives: Negatives,
    /// The loss.
    #[serde(default)]
    pub loss: LossKind,
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

impl Default for TrainConfig {
    /// Defaults that reproduce the paper's MNIST experiment on this project's split.
    fn default() -> Self {
        Self {
            epochs: 80,
            batch: 32,
            lr: 0.005,
            lr_decay: 1.0,
            momentum: 0.9,
            weight_decay: 0.0,
            optimizer: OptimizerKind::Sgd,
            margin: 1.0,
            neg_ratio: 1.0,
            seed: 0,
            engine: Engine::Auto,
            augment: None,
            augment_pairs: 1,
            augment_neighbours: true,
            negatives: Negatives::Random,
            loss: LossKind::Contrastive,
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
        if let Some(a) = &self.augment {
            a.validate()?;
        }
        if self.loss == LossKind::CauchyInfonce && self.negatives != Negatives::Batch {
            return bad(
                "--loss cauchy-infonce",
                "takes its non-neighbours from the batch: use it with --negatives batch",
            );
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
    /// The pairs of each epoch, by kind (called before `on_start`).
    fn on_pairs(&mut self, _counts: &PairCounts) {}
    /// Training starts: `epochs` epochs of `pairs_per_epoch` pairs.
    fn on_start(&mut self, _epochs: usize, _pairs_per_epoch: usize) {}
    /// `done` of the epoch's `total` pairs have been trained on, with the running mean loss.
    fn on_progress(&mut self, _epoch: usize, _done: usize, _total: usize, _loss: f32) {}
    /// An epoch ended; `net` is the network after it (for evaluation during training).
    fn on_epoch(&mut self, _report: &EpochReport, _net: &Net) {}
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

/// One optimisation step at a time, by one implementation.
pub(crate) trait Stepper {
    /// Trains on one batch of pairs; returns the batch's mean loss. A non-finite loss is
    /// returned without changing the weights.
    fn step(&mut self, pairs: &[Pair], lr: f64) -> f32;
    /// The current network as a burn module.
    fn net(&self) -> Net;
    /// Whether every weight is finite.
    fn is_finite(&self) -> bool;
}

/// Stacks the 2B inputs of a batch: first arms, then second arms.
fn gather(pairs: &[Pair], inputs: &[f32], dim: usize, buf: &mut Vec<f32>) {
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
pub(crate) struct Batches<'a> {
    inputs: &'a [f32],
    dim: usize,
    config: &'a TrainConfig,
    augmenter: Option<Augmenter>,
    /// Random streams used so far: each transformed copy gets the next.
    streams: u64,
    ids: Vec<u32>,
    y: Vec<f32>,
}

impl<'a> Batches<'a> {
    pub(crate) fn new(
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
            augmenter,
            streams: 0,
            ids: Vec::new(),
            y: Vec::new(),
        })
    }

    /// Fills `buf` with the 2B inputs of `pairs`.
    fn gather(&mut self, pairs: &[Pair], buf: &mut Vec<f32>) {
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
            self.streams += 2 * pairs.len() as u64;
        }
    }

    /// Whether the loss is the paper's over explicit pairs (which burn differentiates itself).
    fn paper_pairs(&self) -> bool {
        self.config.negatives == Negatives::Random && self.config.loss == LossKind::Contrastive
    }

    /// The loss of the gathered batch for its outputs `out` (2B × d), and ∂L/∂out.
    fn loss_and_grad(&self, out: &[f32], d: usize, dout: &mut Vec<f32>) -> f32 {
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

struct BurnStepper<'a> {
    net: Option<Net>,
    optim: ModuleOptimizer,
    device: Device,
    batches: Batches<'a>,
    buf: Vec<f32>,
    dout: Vec<f32>,
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
        self.net.clone().expect("net present between steps")
    }

    fn is_finite(&self) -> bool {
        self.net()
            .weights()
            .iter()
            .all(|(_, _, w)| w.iter().all(|v| v.is_finite()))
    }
}

struct FastStepper<'a> {
    fast: Box<dyn FastNet>,
    device: Device,
    batches: Batches<'a>,
    buf: Vec<f32>,
    dout: Vec<f32>,
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

/// Whether `config` trains `arch` on `device` with the fast CPU path.
pub fn uses_fast_path(config: &TrainConfig, device: &Device) -> bool {
    config.engine == Engine::Auto
        && config.optimizer == OptimizerKind::Sgd
        && *device == Device::flex()
}

/// A freshly initialised network of `arch` with the implementation `config` asks for.
pub(crate) fn new_stepper<'a>(
    arch: &Architecture,
    batches: Batches<'a>,
    device: &Device,
) -> Box<dyn Stepper + 'a> {
    let config = batches.config;
    if uses_fast_path(config, device) {
        let net = Net::seeded(arch, config.seed, device);
        Box::new(FastStepper {
            fast: fast_net(&net),
            device: device.clone(),
            batches,
            buf: Vec::new(),
            dout: Vec::new(),
        })
    } else {
        let device = device.clone().autodiff();
        Box::new(BurnStepper {
            net: Some(Net::seeded(arch, config.seed, &device)),
            optim: optimizer(config),
            device,
            batches,
            buf: Vec::new(),
            dout: Vec::new(),
        })
    }
}

/// Trains a fresh `arch` network on the prepared `inputs` (`n × arch.input_dim()`, row-major)
/// with the neighbour pairs of `graph`, on `device`. `image` gives the (height, width) of the
/// rows when they are images (needed by geometric augmentations).
pub fn train(
    arch: &Architecture,
    inputs: &[f32],
    image: Option<(usize, usize)>,
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
    let augment_pairs = if config.augment.is_some() {
        config.augment_pairs
    } else {
        0
    };
    let neg_ratio = match config.negatives {
        Negatives::Random => config.neg_ratio,
        Negatives::Batch => 0.0,
    };
    let mut sampler = PairSampler::new(graph, neg_ratio, augment_pairs, config.seed)?;
    let batches = Batches::new(inputs, dim, image, config)?;
    let mut stepper = new_stepper(arch, batches, device);
    let mut history = Vec::with_capacity(config.epochs);
    let mut last_good = stepper.net();
    observer.on_pairs(&PairCounts {
        in_batch_non_neighbours: config.negatives == Negatives::Batch,
        ..sampler.counts()
    });
    observer.on_start(config.epochs, sampler.pairs_per_epoch());
    for epoch in 1..=config.epochs {
        let start = Instant::now();
        let lr = config.lr_at(epoch);
        let pairs = sampler.epoch();
        let (mut total, mut done) = (0f64, 0usize);
        for chunk in pairs.chunks(config.batch) {
            let value = stepper.step(chunk, lr);
            if !value.is_finite() {
                return Ok(Trained {
                    net: last_good,
                    history,
                    diverged: Some(Error::Diverged { epoch, loss: value }),
                });
            }
            total += value as f64 * chunk.len() as f64;
            done += chunk.len();
            observer.on_progress(epoch, done, pairs.len(), (total / done as f64) as f32);
        }
        if !stepper.is_finite() {
            return Ok(Trained {
                net: last_good,
                history,
                diverged: Some(Error::Diverged {
                    epoch,
                    loss: f32::NAN,
                }),
            });
        }
        let loss = (total / done as f64) as f32;
        let report = EpochReport {
            epoch,
            loss,
            lr,
            pairs: done,
            seconds: start.elapsed().as_secs_f64(),
        };
        let net = stepper.net();
        observer.on_epoch(&report, &net);
        history.push(report);
        last_good = net;
    }
    Ok(Trained {
        net: last_good,
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
        train(&arch, &x, None, &g, &cfg, &Device::flex(), &mut Silent).unwrap()
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
        let t = train(&arch, &x, None, &g, &cfg, &Device::flex(), &mut Silent).unwrap();
        let err = t.diverged.expect("lr 1e12 must diverge").to_string();
        assert!(err.starts_with("training diverged in epoch"), "{err}");
        assert!(t
            .net
            .weights()
            .iter()
            .all(|(_, _, v)| v.iter().all(|x| x.is_finite())));
    }

    /// A few SGD steps on the fast path and on burn's give the same weights to 1e-4.
    fn fast_path_trains_like_burn(arch: Architecture, inputs: &[f32], g: &NeighbourGraph) {
        let base = TrainConfig {
            epochs: 1,
            batch: 24,
            lr: 0.01,
            weight_decay: 1e-3,
            ..TrainConfig::default()
        };
        fast_path_trains_like_burn_with(arch, inputs, None, g, base);
    }

    fn fast_path_trains_like_burn_with(
        arch: Architecture,
        inputs: &[f32],
        image: Option<(usize, usize)>,
        g: &NeighbourGraph,
        base: TrainConfig,
    ) {
        let fast = train(&arch, inputs, image, g, &base, &Device::flex(), &mut Silent).unwrap();
        let slow_cfg = TrainConfig {
            engine: Engine::Burn,
            ..base.clone()
        };
        let slow = train(
            &arch,
            inputs,
            image,
            g,
            &slow_cfg,
            &Device::flex(),
            &mut Silent,
        )
        .unwrap();
        for (a, b) in fast.history.iter().zip(&slow.history) {
            assert!(
                (a.loss - b.loss).abs() < 1e-4 * b.loss.abs().max(1.0),
                "epoch loss {} vs {}",
                a.loss,
                b.loss
            );
        }
        let initial = Net::seeded(&arch, base.seed, &Device::flex()).weights();
        let last_bias = initial.last().unwrap().0.clone();
        for (((name, _, a), (_, _, b)), (_, _, w0)) in fast
            .net
            .weights()
            .iter()
            .zip(slow.net.weights())
            .zip(initial)
        {
            let scale = b.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
            // the loss depends on output differences only, so the last bias gets no gradient
            let moved = a.iter().zip(&w0).any(|(x, y)| x != y);
            assert!(moved || *name == last_bias, "{name} did not train");
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    (x - y).abs() <= 1e-4 * scale,
                    "{name}: fast {x} vs burn {y} (scale {scale})"
                );
            }
        }
    }

    #[test]
    fn fast_conv_path_trains_like_burn() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let n = 30;
        let images: Vec<f32> = (0..n * 784).map(|_| rng.random::<f32>()).collect();
        let inputs = crate::model::pad_images(&images, n, 28);
        let g = KnnSource { k: 3 }
            .graph(&Points::new(&images, 784))
            .unwrap();
        fast_path_trains_like_burn(Architecture::Conv { dim: 2 }, &inputs, &g);
    }

    #[test]
    fn fast_mlp_path_trains_like_burn() {
        let x = blobs(50);
        let g = KnnSource { k: 3 }.graph(&Points::new(&x, 8)).unwrap();
        fast_path_trains_like_burn(
            Architecture::Mlp {
                input_dim: 8,
                hidden: vec![16, 12],
                dim: 3,
            },
            &x,
            &g,
        );
    }

    /// The in-batch losses and the transformed copies train the same on both paths (burn
    /// differentiates the network through the loss's output gradient).
    #[test]
    fn augmented_in_batch_training_is_the_same_on_both_paths() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let n = 40;
        let images: Vec<f32> = (0..n * 64).map(|_| rng.random::<f32>()).collect();
        let g = KnnSource { k: 3 }.graph(&Points::new(&images, 64)).unwrap();
        let arch = Architecture::Mlp {
            input_dim: 64,
            hidden: vec![16],
            dim: 2,
        };
        for loss in [LossKind::Contrastive, LossKind::CauchyInfonce] {
            let base = TrainConfig {
                epochs: 2,
                batch: 16,
                lr: 0.01,
                augment: Some(
                    Augmentation::parse("shift=1,rotate=10,elastic=0.5,noise=0.05").unwrap(),
                ),
                augment_pairs: 2,
                negatives: Negatives::Batch,
                loss,
                ..TrainConfig::default()
            };
            fast_path_trains_like_burn_with(arch.clone(), &images, Some((8, 8)), &g, base);
        }
    }

    #[test]
    fn copies_only_leaves_the_graph_pairs_untransformed() {
        // with no pairs of copies, transforming the copies only is training without transforms
        let x = blobs(40);
        let g = KnnSource { k: 3 }.graph(&Points::new(&x, 8)).unwrap();
        let arch = Architecture::Mlp {
            input_dim: 8,
            hidden: vec![8],
            dim: 2,
        };
        let plain = TrainConfig {
            epochs: 2,
            batch: 8,
            lr: 0.01,
            ..TrainConfig::default()
        };
        let copies_only = TrainConfig {
            augment: Some(Augmentation::parse("noise=0.5").unwrap()),
            augment_pairs: 0,
            augment_neighbours: false,
            ..plain.clone()
        };
        let run = |c: &TrainConfig| {
            train(&arch, &x, None, &g, c, &Device::flex(), &mut Silent)
                .unwrap()
                .net
                .weights()
        };
        assert_eq!(run(&plain), run(&copies_only));
        let all = TrainConfig {
            augment_neighbours: true,
            ..copies_only
        };
        assert_ne!(run(&plain), run(&all));
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
