//! One registry of the experiments. Each declares here, once, its name, what it shows, whether
//! the demo runs it, how many epochs a quick run and the demo take, and which function runs it;
//! that function (in the experiment's own module) knows its default options, its headline and
//! its targets. `drlim experiment`, `drlim demo`, the demo's index and the help text all read
//! this list, so a new experiment is one entry here and one module.

use std::path::Path;

use drlim::{Device, FitOptions, KnnWeights, Result, TrainObserver};

use crate::airplane::SplitBy;
use crate::{airplane, mnist_10, mnist_4_9, mnist_shift};

/// What one run of an experiment changes from its defaults.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Epochs of each training run (`None`: the experiment's own).
    pub epochs: Option<usize>,
    /// Learning rate of each training run (`None`: the experiment's own).
    pub lr: Option<f64>,
    /// Seed.
    pub seed: u64,
    /// The airplane's split.
    pub split: SplitBy,
    /// Also run the experiment's variant beyond the paper, where it has one (mnist-4-9's run
    /// with declared invariances).
    pub variant: bool,
    /// For the runs with declared invariances: the strength of the transformations at the last
    /// epoch, as a fraction of the declared (`None`: the experiment's own, constant).
    pub augment_final: Option<f32>,
    /// For the runs with declared invariances: how their k-NN pairs weigh (`None`: the
    /// experiment's own, uniform).
    pub knn_weights: Option<KnnWeights>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            epochs: None,
            lr: None,
            seed: 0,
            split: SplitBy::Pose,
            variant: true,
            augment_final: None,
            knn_weights: None,
        }
    }
}

impl Settings {
    /// `o` with these epochs, learning rate, seed and (where `o` declares invariances) final
    /// strength of the transformations and weights of the k-NN pairs.
    pub fn apply(&self, mut o: FitOptions) -> FitOptions {
        o.train.epochs = self.epochs.unwrap_or(o.train.epochs);
        o.train.lr = self.lr.unwrap_or(o.train.lr);
        if o.train.augment.is_some() {
            o.train.augment_final = self.augment_final.unwrap_or(o.train.augment_final);
            o.knn_weights = self.knn_weights.unwrap_or(o.knn_weights);
        }
        o.train.seed = self.seed;
        o
    }
}

/// What one experiment found: the lines to print and one row for the demo's index.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Summary lines.
    pub lines: Vec<String>,
    /// The headline figures against the targets, one markdown table cell.
    pub headline: String,
    /// Whether every target of the experiment was met.
    pub targets_met: bool,
}

/// Where and how one run of an experiment happens.
pub struct Context<'a> {
    /// What the run changes from the experiment's defaults.
    pub settings: &'a Settings,
    /// The folder it writes its figures, `metrics.json` and `report.md` into.
    pub out: &'a Path,
    /// The compute device.
    pub device: &'a Device,
    /// Receives the training progress of each fit.
    pub observer: &'a mut dyn TrainObserver,
}

/// Runs an experiment.
pub type RunFn = fn(Context<'_>) -> Result<Outcome>;

/// One experiment, declared once.
pub struct Experiment {
    /// Its name on the command line and its folder in the demo.
    pub name: &'static str,
    /// What it reproduces and shows, in one line (help text, demo index).
    pub about: &'static str,
    /// The options of its (paper's) run, before a run's [`Settings`].
    pub defaults: fn() -> FitOptions,
    /// Whether `drlim demo` runs it (the paper's experiments).
    pub in_demo: bool,
    /// Epochs of each run in the demo, where the demo runs it lighter than
    /// `drlim experiment` does (to keep the demo within a few minutes on 2 cores); `None`: the
    /// experiment's own.
    pub demo_epochs: Option<usize>,
    /// The learning rate that goes with `demo_epochs`; `None`: the experiment's own.
    pub demo_lr: Option<f64>,
    /// Epochs of each run in `drlim demo --quick` (a pipeline check, not the paper's results).
    pub quick_epochs: usize,
    /// Whether it takes the airplane's `split` setting.
    pub takes_split: bool,
    /// Whether it has a variant beyond the paper that `Settings::variant` turns off.
    pub has_variant: bool,
    /// Whether one of its runs declares invariances (which `Settings::augment_final` tunes).
    pub declares_invariances: bool,
    /// How it runs.
    pub run: RunFn,
}

/// Every experiment, in the demo's order.
pub static EXPERIMENTS: [Experiment; 4] = [
    Experiment {
        name: "mnist-4-9",
        about: "§4.1, Figure 4: MNIST 4s and 9s, 5 nearest Euclidean neighbours, convnet → 2-D, test digits mapped out of sample",
        defaults: FitOptions::default,
        in_demo: true,
        // the experiment's own 80 epochs at lr 0.005: the lighter 50 at lr 0.006 missed the
        // trustworthiness target on seeds 1 and 2 (0.8408, 0.8451 < 0.846; Zen 4), the full run
        // meets it on seeds 0–2 (0.8506, 0.8463, 0.8491) for 8 s more
        demo_epochs: None,
        demo_lr: None,
        quick_epochs: 3,
        takes_split: false,
        has_variant: true,
        declares_invariances: true,
        run: mnist_4_9::perform,
    },
    Experiment {
        name: "mnist-shift",
        about: "§4.2, Figures 5–7: the digits shifted by −6, −3, +3, +6 pixels; Euclidean neighbours vs prior knowledge",
        defaults: mnist_shift::default_options,
        in_demo: true,
        // 2 of its 10 epochs: the prior-knowledge map is invariant after 2 (invariance ratio
        // 0.086 against 0.087 after 10, on the Zen 4 machine), in a fifth of the time
        demo_epochs: Some(2),
        demo_lr: None,
        quick_epochs: 1,
        takes_split: false,
        has_variant: false,
        declares_invariances: false,
        run: mnist_shift::perform,
    },
    Experiment {
        name: "airplane",
        about: "§4.3, Figures 8–9: NORB-like airplane views, neighbours = adjacent poses whatever the lighting, 2-layer net → 3-D",
        defaults: airplane::default_options,
        in_demo: true,
        // 60 epochs at lr 0.0013 instead of 150 at 0.0005: every target met on seeds 0–2 (Zen 4;
        // lighting ratio 0.181, 0.171, 0.199 against one elevation step 0.219, 0.230, 0.265);
        // 30 epochs missed it on seed 1 (0.256 against 0.249)
        demo_epochs: Some(60),
        demo_lr: Some(0.0013),
        quick_epochs: 4,
        takes_split: true,
        has_variant: false,
        declares_invariances: false,
        run: airplane::perform,
    },
    Experiment {
        name: "mnist-10",
        about: "beyond the paper: all ten digits (7,000 / 3,000), the paper's defaults against declared invariances (augmented copies as neighbours, in-batch non-neighbours), no labels used",
        defaults: mnist_10::paper_options,
        in_demo: false,
        demo_epochs: None,
        demo_lr: None,
        quick_epochs: 2,
        takes_split: false,
        has_variant: false,
        declares_invariances: true,
        run: mnist_10::perform,
    },
];

/// The experiment called `name`.
pub fn find(name: &str) -> Option<&'static Experiment> {
    EXPERIMENTS.iter().find(|e| e.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for e in &EXPERIMENTS {
            assert!(std::ptr::eq(find(e.name).unwrap(), e), "{}", e.name);
        }
        assert!(find("mnist-5-6").is_none());
        let demo: Vec<_> = EXPERIMENTS
            .iter()
            .filter(|e| e.in_demo)
            .map(|e| e.name)
            .collect();
        assert_eq!(demo, ["mnist-4-9", "mnist-shift", "airplane"]);
    }

    #[test]
    fn settings_override_only_what_they_name() {
        let base = FitOptions::default();
        let o = Settings {
            epochs: Some(3),
            seed: 7,
            ..Settings::default()
        }
        .apply(base.clone());
        assert_eq!(
            (o.train.epochs, o.train.lr, o.train.seed),
            (3, base.train.lr, 7)
        );
        // the final strength of the transformations tunes only runs that declare some
        let falling = Settings {
            augment_final: Some(0.4),
            ..Settings::default()
        };
        assert_eq!(falling.apply(base.clone()).train.augment_final, 1.0);
        let inv = crate::mnist_10::invariance_options();
        assert_eq!(inv.train.augment_final, 1.0);
        assert_eq!(falling.apply(inv.clone()).train.augment_final, 0.4);
        // so do the weights of the k-NN pairs
        let fuzzy = Settings {
            knn_weights: Some(KnnWeights::Fuzzy),
            ..Settings::default()
        };
        assert_eq!(fuzzy.apply(base).knn_weights, KnnWeights::Uniform);
        assert_eq!(inv.knn_weights, KnnWeights::Uniform);
        assert_eq!(fuzzy.apply(inv).knn_weights, KnnWeights::Fuzzy);
    }
}
