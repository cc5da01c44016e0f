//! Training: a Siamese pass (both arms through the same weights, as one batched forward of the
//! 2B inputs), the contrastive loss (or an in-batch loss), and SGD with momentum (or Adam) with
//! a per-epoch learning-rate decay. Progress goes to a [`TrainObserver`], which may stop it; the
//! library prints nothing.
//!
//! - [`config`]: the settings and their defaults;
//! - [`observer`]: what training reports, and how an observer stops it;
//! - [`batches`]: the inputs of a batch of pairs and the loss, shared by both implementations;
//! - [`stepper`]: one optimisation step, by burn ([`burn_step`]) or the fast CPU path
//!   ([`fast_step`]), and the rule that chooses;
//! - [`checkpoint`]: the state after an epoch, saved and resumed bit for bit;
//! - this module: the loop over epochs, and how it ended ([`Outcome`]).

mod batches;
mod burn_step;
pub mod checkpoint;
pub mod config;
mod fast_step;
pub mod observer;
pub mod stepper;

use std::ops::ControlFlow;
use std::time::Instant;

use burn::tensor::Device;

use crate::error::{Error, Result};
use crate::mapping::Model;
use crate::model::{input_image, ModelConfig};
use crate::neighbours::NeighbourGraph;
use crate::pairs::{PairCounts, PairSampler};

pub use checkpoint::{Checkpoint, OptimiserState, StepperState};
pub use config::{defaults, Engine, LossKind, Negatives, OptimizerKind, TrainConfig};
pub use observer::{EpochReport, Silent, TrainObserver};
pub use stepper::{stepper, uses_fast_path, Stepper};

/// How training ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// Every epoch ran.
    Completed,
    /// An observer stopped training; the model is the one after the last complete epoch.
    Stopped {
        /// Epochs completed.
        epochs: usize,
    },
    /// The loss (or a weight) stopped being finite; the model is the last good one (the one
    /// after the last complete epoch, or the initial network if the first epoch diverged).
    Diverged {
        /// The epoch (1-based) in which it happened.
        epoch: usize,
        /// The offending loss value (NaN when a weight, not the loss, stopped being finite).
        loss: f32,
    },
}

impl Outcome {
    /// The one place where a divergence becomes an error ([`Error::Diverged`]); a completed
    /// or stopped run is `Ok`.
    pub fn check(&self) -> Result<()> {
        match *self {
            Outcome::Diverged { epoch, loss } => Err(Error::Diverged { epoch, loss }),
            _ => Ok(()),
        }
    }
}

/// The result of training.
pub struct Trained {
    /// The trained mapping: after a stop or a divergence, the last good one.
    pub model: Model,
    /// One report per completed epoch.
    pub history: Vec<EpochReport>,
    /// How training ended.
    pub outcome: Outcome,
    /// The state after the last complete epoch, to resume from (none if no epoch completed).
    pub checkpoint: Option<Checkpoint>,
}

/// The model config of `template` with its training record brought up to date: epochs
/// completed, final loss, and the divergence (if any).
fn record(
    template: &ModelConfig,
    history: &[EpochReport],
    diverged: Option<&Error>,
) -> ModelConfig {
    let mut config = template.clone();
    if let Some(t) = config.training.as_object_mut() {
        t.insert("epochs_completed".into(), history.len().into());
        t.insert("final_loss".into(), history.last().map(|r| r.loss).into());
        let losses: Vec<f32> = history.iter().map(|r| r.loss).collect();
        t.insert("loss_curve".into(), losses.into());
        t.insert("diverged".into(), diverged.map(|e| e.to_string()).into());
    }
    config
}

/// Trains a fresh network of `template.architecture` (seeded by `config.seed`) on the prepared
/// `inputs` (`n × input_dim`, row-major, prepared by `template.input`) with the neighbour pairs
/// of `graph`, on `device`. `template` is the model's config before training; its training
/// record is completed as epochs end. Geometric augmentations take the rows as the images that
/// `template.input` describes.
pub fn train(
    template: &ModelConfig,
    inputs: &[f32],
    graph: &NeighbourGraph,
    config: &TrainConfig,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<Trained> {
    run(template, inputs, graph, config, device, observer, None)
}

/// Goes on training from `checkpoint` (its weights, optimiser state, sampler position and
/// epochs) up to `config.epochs`, with the same arguments as [`train`] (the graph being the
/// checkpoint's own): the weights at the end are bit-identical to those of an uninterrupted
/// [`train`] with the same seed and thread count. Refuses a checkpoint of another network,
/// input preparation, seed, settings (the number of epochs aside) or other training rows.
pub fn resume(
    template: &ModelConfig,
    inputs: &[f32],
    graph: &NeighbourGraph,
    config: &TrainConfig,
    device: &Device,
    observer: &mut dyn TrainObserver,
    checkpoint: Checkpoint,
) -> Result<Trained> {
    run(
        template,
        inputs,
        graph,
        config,
        device,
        observer,
        Some(checkpoint),
    )
}

fn run(
    template: &ModelConfig,
    inputs: &[f32],
    graph: &NeighbourGraph,
    config: &TrainConfig,
    device: &Device,
    observer: &mut dyn TrainObserver,
    start: Option<Checkpoint>,
) -> Result<Trained> {
    config.validate()?;
    let arch = &template.architecture;
    let dim = arch.input_dim();
    assert_eq!(
        inputs.len(),
        graph.n() * dim,
        "inputs must hold one row per graph vertex"
    );
    let inputs_crc32 = checkpoint::rows_crc32(inputs);
    if let Some(cp) = &start {
        cp.check_continues(template, inputs_crc32, config.epochs)?;
    }
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
    let image = input_image(arch, &template.input.shape);
    let mut stepper = stepper(arch, inputs, image, config, device)?;
    let mut history = Vec::with_capacity(config.epochs);
    if let Some(cp) = &start {
        sampler.set_position(cp.sampler);
        stepper.restore(&cp.model, &cp.stepper)?;
        history.clone_from(&cp.history);
    }
    let model = |net, history: &[EpochReport], diverged: Option<&Error>| Model {
        net,
        config: record(template, history, diverged),
    };
    // the network before any epoch of this run: the last good one until an epoch completes
    let initial = stepper.net();
    let mut last_checkpoint = start;
    observer.on_pairs(&PairCounts {
        in_batch_non_neighbours: config.negatives == Negatives::Batch,
        ..sampler.counts()
    });
    observer.on_start(config.epochs, sampler.pairs_per_epoch());
    let mut outcome = Outcome::Completed;
    'epochs: for epoch in history.len() + 1..=config.epochs {
        let start = Instant::now();
        let lr = config.lr_at(epoch);
        stepper.begin_epoch(epoch);
        let pairs = sampler.epoch();
        let (mut total, mut done) = (0f64, 0usize);
        for chunk in pairs.chunks(config.batch) {
            let value = stepper.step(chunk, lr);
            if !value.is_finite() {
                outcome = Outcome::Diverged { epoch, loss: value };
                break 'epochs;
            }
            total += value as f64 * chunk.len() as f64;
            done += chunk.len();
            let mean = (total / done as f64) as f32;
            if observer
                .on_progress(epoch, done, pairs.len(), mean)
                .is_break()
            {
                outcome = Outcome::Stopped { epochs: epoch - 1 };
                break 'epochs;
            }
        }
        if !stepper.is_finite() {
            outcome = Outcome::Diverged {
                epoch,
                loss: f32::NAN,
            };
            break;
        }
        let report = EpochReport {
            epoch,
            loss: (total / done as f64) as f32,
            lr,
            pairs: done,
            seconds: start.elapsed().as_secs_f64(),
        };
        history.push(report);
        let after = model(stepper.net(), &history, None);
        let flow = observer.on_epoch(history.last().expect("just pushed"), &after);
        let checkpoint = Checkpoint {
            model: after,
            history: history.clone(),
            stepper: stepper.state()?,
            sampler: sampler.position(),
            inputs_crc32,
            threads: rayon::current_num_threads(),
            origin: String::new(),
        };
        observer.on_checkpoint(&checkpoint, graph);
        last_checkpoint = Some(checkpoint);
        if flow == ControlFlow::Break(()) {
            if epoch < config.epochs {
                outcome = Outcome::Stopped { epochs: epoch };
            }
            break;
        }
    }
    let diverged = outcome.check().err();
    Ok(Trained {
        model: model(
            last_checkpoint
                .as_ref()
                .map_or(initial, |c| c.model.net.clone()),
            &history,
            diverged.as_ref(),
        ),
        history,
        outcome,
        checkpoint: last_checkpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::Augmentation;
    use crate::data::{Normalisation, SourceDtype};
    use crate::model::{Architecture, InputSpec, Net};
    use crate::neighbours::{KnnSource, NeighbourSource};
    use crate::points::Points;

    /// `n` blobs, their 3-NN graph, and an 8 → `hidden` → 2 MLP.
    fn blob_task(n: usize, hidden: usize) -> (Vec<f32>, NeighbourGraph, Architecture) {
        let x = blobs(n);
        let g = KnnSource { k: 3 }.graph(&Points::new(&x, 8)).unwrap();
        let arch = Architecture::Mlp {
            input_dim: 8,
            hidden: vec![hidden],
            dim: 2,
        };
        (x, g, arch)
    }

    /// Trains `arch` on prepared `inputs`, the rows being `image`-shaped images or vectors.
    fn train_on(
        arch: &Architecture,
        inputs: &[f32],
        image: Option<(usize, usize)>,
        g: &NeighbourGraph,
        config: &TrainConfig,
        observer: &mut dyn TrainObserver,
    ) -> Trained {
        let template = template_for(arch, image, config);
        train(&template, inputs, g, config, &Device::flex(), observer).unwrap()
    }

    /// The model config before training, with the settings as `fit` records them.
    fn template_for(
        arch: &Architecture,
        image: Option<(usize, usize)>,
        config: &TrainConfig,
    ) -> ModelConfig {
        ModelConfig {
            format: crate::model::MODEL_FORMAT,
            drlim_version: "test".into(),
            architecture: arch.clone(),
            input: InputSpec {
                metric: crate::data::Metric::Euclidean,
                shape: image.map_or(vec![arch.input_dim()], |(h, w)| vec![h, w]),
                dtype: SourceDtype::F32,
                normalisation: Normalisation::None,
            },
            seed: config.seed,
            training: serde_json::json!({ "settings": config }),
        }
    }

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
        let (x, g, arch) = blob_task(60, 16);
        let cfg = TrainConfig {
            epochs,
            batch: 16,
            lr: 0.05,
            seed,
            ..TrainConfig::default()
        };
        train_on(&arch, &x, None, &g, &cfg, &mut Silent)
    }

    #[test]
    fn loss_falls_and_the_same_seed_gives_the_same_weights() {
        let a = run(5, 8);
        assert_eq!(a.outcome, Outcome::Completed);
        assert_eq!(a.model.config.training["epochs_completed"], 8);
        let first = a.history[0].loss;
        let last = a.history.last().unwrap().loss;
        assert!(last < 0.9 * first, "loss {first} → {last}");
        // the map keeps neighbours together and pushes the two clusters apart
        let (x, g, _) = blob_task(60, 16);
        let e = a
            .model
            .embed(
                &crate::data::Dataset::new("blobs", x.clone(), 60, vec![8], SourceDtype::F32)
                    .unwrap(),
            )
            .unwrap();
        let p = crate::eval::pair_distances(&Points::new(&e, 2), &g, 1000, 0);
        assert!(p.ratio() < 0.3, "{p:?}");
        let b = run(5, 8);
        assert_eq!(
            a.model.net.weights(),
            b.model.net.weights(),
            "same seed, same weights"
        );
        let c = run(6, 8);
        assert_ne!(a.model.net.weights(), c.model.net.weights());
    }

    #[test]
    fn divergence_stops_with_a_clear_error_and_keeps_the_last_good_net() {
        let (x, g, arch) = blob_task(40, 16);
        let cfg = TrainConfig {
            epochs: 20,
            batch: 8,
            lr: 1e12,
            lr_decay: 1.0,
            momentum: 0.0,
            ..TrainConfig::default()
        };
        let t = train_on(&arch, &x, None, &g, &cfg, &mut Silent);
        assert!(
            matches!(t.outcome, Outcome::Diverged { epoch, .. } if epoch == t.history.len() + 1),
            "{:?}",
            t.outcome
        );
        let err = t
            .outcome
            .check()
            .expect_err("lr 1e12 must diverge")
            .to_string();
        assert!(err.starts_with("training diverged in epoch"), "{err}");
        assert_eq!(t.model.config.training["diverged"], err.as_str());
        assert!(t
            .model
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
        let fast = train_on(&arch, inputs, image, g, &base, &mut Silent);
        let slow_cfg = TrainConfig {
            engine: Engine::Burn,
            ..base.clone()
        };
        let slow = train_on(&arch, inputs, image, g, &slow_cfg, &mut Silent);
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
            .model
            .net
            .weights()
            .iter()
            .zip(slow.model.net.weights())
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
        let base = TrainConfig {
            epochs: 1,
            batch: 24,
            lr: 0.01,
            weight_decay: 1e-3,
            ..TrainConfig::default()
        };
        fast_path_trains_like_burn_with(
            Architecture::Conv { dim: 2 },
            &inputs,
            Some((32, 32)),
            &g,
            base,
        );
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
        for (loss, augment_final) in [(LossKind::Contrastive, 1.0), (LossKind::CauchyInfonce, 0.3)]
        {
            let base = TrainConfig {
                epochs: 2,
                batch: 16,
                lr: 0.01,
                augment: Some(
                    Augmentation::parse("shift=1,rotate=10,elastic=0.5,noise=0.05").unwrap(),
                ),
                augment_pairs: 2,
                augment_final,
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
        let (x, g, arch) = blob_task(40, 8);
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
            train_on(&arch, &x, None, &g, c, &mut Silent)
                .model
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
        let err = cfg.validate().unwrap_err().to_string();
        assert_eq!(err, "lr must be a positive number");
        let cfg = TrainConfig {
            margin: 0.0,
            ..TrainConfig::default()
        };
        let err = cfg.validate().unwrap_err().to_string();
        assert_eq!(err, "margin must be a positive number");
        for bad in [-0.1, 1.5, f32::NAN] {
            let cfg = TrainConfig {
                augment_final: bad,
                ..TrainConfig::default()
            };
            let err = cfg.validate().unwrap_err().to_string();
            assert_eq!(err, "augment_final must be in [0, 1]");
        }
    }

    #[test]
    fn the_strengths_fall_linearly_to_the_final_fraction() {
        let cfg = TrainConfig {
            epochs: 5,
            augment_final: 0.2,
            ..TrainConfig::default()
        };
        let factors: Vec<f32> = (1..=5).map(|e| cfg.augment_factor(e)).collect();
        for (f, want) in factors.iter().zip([1.0, 0.8, 0.6, 0.4, 0.2]) {
            assert!((f - want).abs() < 1e-6, "{factors:?}");
        }
        let constant = TrainConfig {
            epochs: 5,
            ..TrainConfig::default()
        };
        assert!((1..=5).all(|e| constant.augment_factor(e) == 1.0));
        let single = TrainConfig {
            epochs: 1,
            augment_final: 0.0,
            ..TrainConfig::default()
        };
        assert_eq!(single.augment_factor(1), 1.0);
    }

    /// Stops after `after` epochs, or in the middle of the next epoch when `mid_epoch`.
    struct StopAfter {
        after: usize,
        mid_epoch: bool,
        seen: Vec<usize>,
    }

    impl StopAfter {
        /// An observer that has seen no epoch yet.
        fn new(after: usize, mid_epoch: bool) -> Self {
            Self {
                after,
                mid_epoch,
                seen: vec![],
            }
        }
    }

    impl TrainObserver for StopAfter {
        fn on_progress(&mut self, epoch: usize, done: usize, _: usize, _: f32) -> ControlFlow<()> {
            if self.mid_epoch && epoch == self.after + 1 && done > 0 {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }

        fn on_epoch(&mut self, r: &EpochReport, model: &Model) -> ControlFlow<()> {
            // the model handed over is the mapping after this epoch, with its record
            assert_eq!(model.config.training["epochs_completed"], r.epoch);
            self.seen.push(r.epoch);
            if !self.mid_epoch && r.epoch == self.after {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }

    #[test]
    fn an_observer_stops_training_and_keeps_the_last_complete_epoch() {
        let (x, g, arch) = blob_task(40, 8);
        let cfg = |epochs| TrainConfig {
            epochs,
            batch: 8,
            lr: 0.01,
            ..TrainConfig::default()
        };
        let full = train_on(&arch, &x, None, &g, &cfg(3), &mut Silent);
        for mid_epoch in [false, true] {
            let mut stop = StopAfter::new(3, mid_epoch);
            let t = train_on(&arch, &x, None, &g, &cfg(10), &mut stop);
            assert_eq!(t.outcome, Outcome::Stopped { epochs: 3 });
            assert_eq!(stop.seen, vec![1, 2, 3]);
            assert_eq!(t.history.len(), 3);
            // the same weights as a run of 3 epochs (the learning rate does not decay here)
            assert_eq!(t.model.net.weights(), full.model.net.weights());
            assert!(t.outcome.check().is_ok());
        }
        // stopping in the last epoch's on_epoch is a completed run
        let mut stop = StopAfter::new(3, false);
        let t = train_on(&arch, &x, None, &g, &cfg(3), &mut stop);
        assert_eq!(t.outcome, Outcome::Completed);
    }

    /// Trains `config.epochs` epochs in one go, and again stopped in the middle of epoch 3,
    /// saved, loaded and resumed: the weights, losses and checkpoint state must agree bit for
    /// bit.
    fn resume_matches_uninterrupted(
        arch: &Architecture,
        inputs: &[f32],
        image: Option<(usize, usize)>,
        g: &NeighbourGraph,
        config: &TrainConfig,
    ) {
        let full = train_on(arch, inputs, image, g, config, &mut Silent);
        assert_eq!(full.outcome, Outcome::Completed);
        let mut stop = StopAfter::new(2, true);
        let stopped = train_on(arch, inputs, image, g, config, &mut stop);
        assert_eq!(stopped.outcome, Outcome::Stopped { epochs: 2 });
        let checkpoint = stopped.checkpoint.expect("two epochs completed");
        assert_eq!(checkpoint.epochs(), 2);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ckpt");
        checkpoint.save(&path, g).unwrap();
        let (loaded, graph) = Checkpoint::load(&path, &Device::flex()).unwrap();
        assert_eq!(graph.pairs(), g.pairs());
        assert_eq!(graph.weights(), g.weights());
        assert_eq!(loaded.stepper, checkpoint.stepper);
        assert_eq!(loaded.sampler, checkpoint.sampler);
        assert_eq!(loaded.history, checkpoint.history);
        let template = template_for(arch, image, config);
        let resumed = resume(
            &template,
            inputs,
            &graph,
            config,
            &Device::flex(),
            &mut Silent,
            loaded,
        )
        .unwrap();
        assert_eq!(resumed.outcome, Outcome::Completed);
        assert_eq!(
            resumed.model.net.weights(),
            full.model.net.weights(),
            "resumed weights must equal the uninterrupted run's"
        );
        let losses = |h: &[EpochReport]| h.iter().map(|r| r.loss).collect::<Vec<_>>();
        assert_eq!(losses(&resumed.history), losses(&full.history));
        assert_eq!(
            resumed.model.config.training["epochs_completed"],
            config.epochs
        );
        // the final states agree too, so a second interruption would resume as exactly (burn's
        // records are keyed by parameter ids, which differ from run to run)
        let (a, b) = (resumed.checkpoint.unwrap(), full.checkpoint.unwrap());
        assert_eq!(
            (a.stepper.streams, a.sampler),
            (b.stepper.streams, b.sampler)
        );
        if let OptimiserState::Fast { .. } = a.stepper.optimiser {
            assert_eq!(a.stepper.optimiser, b.stepper.optimiser);
        }
    }

    #[test]
    fn resuming_a_checkpoint_gives_the_uninterrupted_weights() {
        let (x, g, arch) = blob_task(48, 16);
        let base = TrainConfig {
            epochs: 4,
            batch: 8,
            lr: 0.02,
            lr_decay: 0.9,
            momentum: 0.9,
            seed: 3,
            augment: Some(Augmentation::parse("noise=0.1,dropout=0.1").unwrap()),
            augment_pairs: 1,
            ..TrainConfig::default()
        };
        // the fast path (momentum buffers, sampler, augmentation streams)
        resume_matches_uninterrupted(&arch, &x, None, &g, &base);
        // in-batch non-neighbours and the Cauchy InfoNCE loss
        let in_batch = TrainConfig {
            negatives: Negatives::Batch,
            loss: LossKind::CauchyInfonce,
            ..base.clone()
        };
        resume_matches_uninterrupted(&arch, &x, None, &g, &in_batch);
        // burn's SGD with momentum, and Adam (optimiser records keyed by parameter ids)
        let burn = TrainConfig {
            engine: Engine::Burn,
            ..base.clone()
        };
        resume_matches_uninterrupted(&arch, &x, None, &g, &burn);
        let adam = TrainConfig {
            optimizer: OptimizerKind::Adam,
            lr: 0.002,
            ..base
        };
        resume_matches_uninterrupted(&arch, &x, None, &g, &adam);
    }

    #[test]
    fn resuming_the_convnet_with_image_augmentation_gives_the_uninterrupted_weights() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let n = 24;
        let images: Vec<f32> = (0..n * 784).map(|_| rng.random::<f32>()).collect();
        let g = KnnSource { k: 2 }
            .graph(&Points::new(&images, 784))
            .unwrap();
        let arch = Architecture::Conv { dim: 2 };
        let prepared = crate::model::pad_images(&images, n, 28);
        let config = TrainConfig {
            epochs: 3,
            batch: 8,
            lr: 0.01,
            momentum: 0.9,
            augment: Some(Augmentation::parse("shift=2,rotate=10").unwrap()),
            ..TrainConfig::default()
        };
        resume_matches_uninterrupted(&arch, &prepared, Some((32, 32)), &g, &config);
    }

    #[test]
    fn a_checkpoint_refuses_another_run() {
        let (x, g, arch) = blob_task(40, 8);
        let config = TrainConfig {
            epochs: 4,
            batch: 8,
            lr: 0.01,
            ..TrainConfig::default()
        };
        let mut stop = StopAfter::new(2, false);
        let t = train_on(&arch, &x, None, &g, &config, &mut stop);
        let cp = t.checkpoint.unwrap();
        let attempt = |arch: &Architecture, x: &[f32], c: &TrainConfig| {
            let template = template_for(arch, None, c);
            match resume(
                &template,
                x,
                &g,
                c,
                &Device::flex(),
                &mut Silent,
                cp.clone(),
            ) {
                Ok(_) => "resumed".to_string(),
                Err(e) => e.to_string(),
            }
        };
        let other_lr = TrainConfig {
            lr: 0.02,
            ..config.clone()
        };
        let err = attempt(&arch, &x, &other_lr);
        assert!(
            err.contains("other settings: lr (0.01 in the checkpoint, 0.02 now)"),
            "{err}"
        );
        let mut other_data = x.clone();
        other_data[5] += 1.0;
        let err = attempt(&arch, &other_data, &config);
        assert!(err.contains("trained on other data"), "{err}");
        let err = attempt(
            &arch,
            &x,
            &TrainConfig {
                epochs: 2,
                ..config.clone()
            },
        );
        assert!(err.contains("nothing to resume"), "{err}");
        let wider = Architecture::Mlp {
            input_dim: 8,
            hidden: vec![9],
            dim: 2,
        };
        let err = attempt(&wider, &x, &config);
        assert!(err.contains("network"), "{err}");
        // more epochs than first asked for is allowed
        assert_eq!(
            attempt(
                &arch,
                &x,
                &TrainConfig {
                    epochs: 6,
                    ..config.clone()
                }
            ),
            "resumed"
        );
    }

    #[test]
    fn a_checkpoint_from_before_a_setting_existed_resumes_at_its_default() {
        let (x, g, arch) = blob_task(40, 8);
        let config = TrainConfig {
            epochs: 3,
            batch: 8,
            lr: 0.01,
            ..TrainConfig::default()
        };
        let mut stop = StopAfter::new(1, false);
        let mut cp = train_on(&arch, &x, None, &g, &config, &mut stop)
            .checkpoint
            .unwrap();
        let settings = cp.model.config.training["settings"]
            .as_object_mut()
            .unwrap();
        assert!(settings.remove("augment_final").is_some());
        let attempt = |c: &TrainConfig| {
            let template = template_for(&arch, None, c);
            resume(
                &template,
                &x,
                &g,
                c,
                &Device::flex(),
                &mut Silent,
                cp.clone(),
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        };
        assert_eq!(attempt(&config), Ok(()));
        let falling = TrainConfig {
            augment_final: 0.5,
            ..config.clone()
        };
        let err = attempt(&falling).unwrap_err();
        assert!(
            err.contains("augment_final (1.0 in the checkpoint, 0.5 now)"),
            "{err}"
        );
    }

    #[test]
    fn falling_strengths_train_otherwise_and_resume_exactly() {
        let (x, g, arch) = blob_task(48, 16);
        let constant = TrainConfig {
            epochs: 4,
            batch: 8,
            lr: 0.02,
            momentum: 0.9,
            seed: 5,
            augment: Some(Augmentation::parse("noise=0.3,dropout=0.2").unwrap()),
            ..TrainConfig::default()
        };
        let falling = TrainConfig {
            augment_final: 0.0,
            ..constant.clone()
        };
        let run = |c: &TrainConfig| {
            train_on(&arch, &x, None, &g, c, &mut Silent)
                .model
                .net
                .weights()
        };
        assert_ne!(run(&constant), run(&falling));
        // the first epoch is at the declared strengths either way
        let first_epoch = |c: &TrainConfig| {
            let mut stop = StopAfter::new(1, false);
            train_on(&arch, &x, None, &g, c, &mut stop)
                .model
                .net
                .weights()
        };
        assert_eq!(first_epoch(&constant), first_epoch(&falling));
        resume_matches_uninterrupted(&arch, &x, None, &g, &falling);
    }

    #[test]
    fn weighted_graphs_train_otherwise_and_resume_exactly() {
        let (x, g, arch) = blob_task(48, 16);
        let weighted = crate::neighbours::FuzzyWeights {
            inner: Box::new(KnnSource { k: 3 }),
            k: 3,
        }
        .graph(&Points::new(&x, 8))
        .unwrap();
        assert_eq!(weighted.pairs(), g.pairs());
        let config = TrainConfig {
            epochs: 4,
            batch: 8,
            lr: 0.02,
            momentum: 0.9,
            seed: 3,
            ..TrainConfig::default()
        };
        let run = |g: &NeighbourGraph| {
            train_on(&arch, &x, None, g, &config, &mut Silent)
                .model
                .net
                .weights()
        };
        assert_ne!(run(&g), run(&weighted));
        assert_eq!(run(&weighted), run(&weighted));
        resume_matches_uninterrupted(&arch, &x, None, &weighted, &config);
    }

    #[test]
    fn damaged_or_newer_checkpoints_are_refused_naming_the_file() {
        let (x, g, arch) = blob_task(40, 8);
        let config = TrainConfig {
            epochs: 2,
            batch: 8,
            lr: 0.01,
            ..TrainConfig::default()
        };
        let cp = train_on(&arch, &x, None, &g, &config, &mut Silent)
            .checkpoint
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        // a fresh copy of the checkpoint per case, with `file` damaged
        let load = |case: &str, file: &str, damage: &dyn Fn(&mut Vec<u8>)| {
            let path = dir.path().join(case);
            cp.save(&path, &g).unwrap();
            let target = path.join(file);
            let mut bytes = std::fs::read(&target).unwrap();
            damage(&mut bytes);
            std::fs::write(&target, bytes).unwrap();
            Checkpoint::load(&path, &Device::flex())
                .unwrap_err()
                .to_string()
        };
        let flip = |b: &mut Vec<u8>| {
            let i = b.len() - 3;
            b[i] ^= 1;
        };
        let e = load("graph", checkpoint::GRAPH_FILE, &flip);
        assert!(
            e.ends_with(
                "graph.safetensors: damaged: its CRC-32 is not the one recorded in checkpoint.json"
            ),
            "{e}"
        );
        let e = load("optimiser", checkpoint::OPTIMISER_FILE, &flip);
        assert!(
            e.ends_with(
                "optimiser.bin: damaged: its CRC-32 is not the one recorded in checkpoint.json"
            ),
            "{e}"
        );
        let e = load("cut", checkpoint::CHECKPOINT_FILE, &|b| {
            b.truncate(b.len() / 2)
        });
        assert!(
            e.contains("checkpoint.json: not a valid checkpoint manifest"),
            "{e}"
        );
        let e = load("newer", checkpoint::CHECKPOINT_FILE, &|b| {
            let text = String::from_utf8(b.clone()).unwrap();
            *b = text.replace("\"format\": 1", "\"format\": 2").into_bytes();
        });
        assert!(
            e.contains("checkpoint format 2 is newer than this drlim's (1)"),
            "{e}"
        );
    }

    #[test]
    fn malformed_burn_optimiser_records_are_errors_not_panics() {
        // found by the `checkpoint` fuzz target: burn's record reader panics on a tensor
        // without a parameter id, and its step on state of another kind than its optimiser's
        let cases: [(&[u8], &str); 2] = [
            (
                include_bytes!("testdata/burn-record-without-param-id.bin"),
                "' belongs to no parameter of the network",
            ),
            (
                include_bytes!("testdata/burn-record-of-another-state.bin"),
                "does not fit this optimiser and network",
            ),
        ];
        let (x, _, _) = blob_task(10, 4);
        let arch = Architecture::Mlp {
            input_dim: 8,
            hidden: vec![4],
            dim: 2,
        };
        let config = TrainConfig {
            engine: Engine::Burn,
            ..TrainConfig::default()
        };
        let mut stepper = stepper(&arch, &x, None, &config, &Device::flex()).unwrap();
        let model = Model {
            net: Net::seeded(&arch, 0, &Device::flex()),
            config: template_for(&arch, None, &config),
        };
        for (record, expected) in cases {
            let state = StepperState {
                optimiser: OptimiserState::Burn {
                    // the ids of the checkpoint they came from
                    ids: vec![
                        6806106489288002146,
                        6387642309590068476,
                        15211718997379432576,
                        2452382141038409003,
                    ],
                    record: record.to_vec(),
                },
                streams: 0,
            };
            let err = stepper.restore(&model, &state).unwrap_err().to_string();
            assert!(
                err.starts_with("the checkpoint's optimiser state: ") && err.ends_with(expected),
                "{err}"
            );
        }
    }

    #[test]
    fn a_burn_record_whose_ids_name_the_wrong_parameters_is_refused() {
        // found by the `checkpoint` fuzz target: with two ids swapped, burn applied a bias's
        // momentum of shape [4] to a bias of shape [2] and panicked in the middle of a step
        let (x, g, arch) = blob_task(20, 4);
        let config = TrainConfig {
            epochs: 1,
            batch: 8,
            engine: Engine::Burn,
            ..TrainConfig::default()
        };
        let cp = train_on(&arch, &x, None, &g, &config, &mut Silent)
            .checkpoint
            .unwrap();
        let OptimiserState::Burn { mut ids, record } = cp.stepper.optimiser.clone() else {
            panic!("burn's state expected")
        };
        let mut stepper = stepper(&arch, &x, None, &config, &Device::flex()).unwrap();
        let state = |ids: Vec<u64>| StepperState {
            optimiser: OptimiserState::Burn {
                ids,
                record: record.clone(),
            },
            streams: 0,
        };
        stepper.restore(&cp.model, &state(ids.clone())).unwrap();
        ids.swap(1, 3);
        let err = stepper
            .restore(&cp.model, &state(ids.clone()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("but its parameter is F32 of shape"), "{err}");
        ids.truncate(3);
        let err = stepper
            .restore(&cp.model, &state(ids))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("it names 3 parameters, the network has 4"),
            "{err}"
        );
    }
}
