//! `drlim experiment`: the paper's experiments on the built-in data.

use std::path::Path;

use drlim::experiments::airplane::{self, SplitBy};
use drlim::experiments::{builtin_mnist, mnist_10, mnist_4_9, mnist_shift};
use drlim::{Device, Error, FitOptions, Result};

use super::show;
use crate::cli::{AirplaneSplit, ExperimentArgs, ExperimentName};
use crate::progress::Progress;

/// What one experiment found: the lines printed and one row for the demo's index.
pub struct Outcome {
    /// Summary lines.
    pub lines: Vec<String>,
    /// The headline figures, one markdown table cell.
    pub headline: String,
    /// Whether every target of the experiment was met.
    pub targets_met: bool,
}

/// What a run changes from an experiment's defaults.
pub struct Overrides {
    /// Epochs of each training run.
    pub epochs: Option<usize>,
    /// Learning rate.
    pub lr: Option<f64>,
    /// Seed.
    pub seed: u64,
    /// The airplane's split.
    pub split: SplitBy,
    /// mnist-4-9: also the run with declared invariances.
    pub invariances: bool,
}

impl Overrides {
    /// `o` with the epochs and learning rate given, and the seed.
    fn apply(&self, mut o: FitOptions) -> FitOptions {
        o.train.epochs = self.epochs.unwrap_or(o.train.epochs);
        o.train.lr = self.lr.unwrap_or(o.train.lr);
        o.train.seed = self.seed;
        o
    }
}

pub fn run(a: ExperimentArgs, device: &Device) -> Result<()> {
    if a.split.is_some() && a.name != ExperimentName::Airplane {
        return Err(Error::param(
            "--split applies to the airplane experiment only",
        ));
    }
    let split = match a.split {
        Some(AirplaneSplit::Image) => SplitBy::Image,
        _ => SplitBy::Pose,
    };
    let over = Overrides {
        epochs: a.epochs,
        lr: a.lr,
        seed: a.seed,
        split,
        invariances: !a.paper_only,
    };
    if a.paper_only && a.name != ExperimentName::Mnist49 {
        return Err(Error::param(
            "--paper-only applies to the mnist-4-9 experiment only",
        ));
    }
    let o = run_one(a.name, &a.out, &over, a.quiet, device)?;
    for l in &o.lines {
        println!("{l}");
    }
    println!(
        "wrote {} (report.md, metrics.json, figures, embeddings)",
        show(&a.out)
    );
    Ok(())
}

/// The experiment's default options with the overrides' epochs, lr and seed.
fn options(name: ExperimentName, over: &Overrides) -> FitOptions {
    let mut o = match name {
        ExperimentName::Airplane => airplane::default_options(),
        _ => FitOptions::default(),
    };
    if name == ExperimentName::MnistShift {
        (o.train.epochs, o.train.lr) = (10, 0.01);
    }
    over.apply(o)
}

/// Runs one experiment into `out`.
pub fn run_one(
    name: ExperimentName,
    out: &Path,
    over: &Overrides,
    quiet: bool,
    device: &Device,
) -> Result<Outcome> {
    let options = options(name, over);
    let mut progress = Progress::new(quiet);
    // the built-in digits, for the two MNIST experiments only
    let digits = || -> Result<mnist_4_9::Split> {
        let (images, labels) = builtin_mnist()?;
        Ok(mnist_4_9::split(&images, &labels, 0.7))
    };
    Ok(match name {
        ExperimentName::Mnist49 => {
            let inv = over
                .invariances
                .then(|| over.apply(mnist_4_9::invariance_options()));
            let r = mnist_4_9::run(
                &digits()?,
                &options,
                inv.as_ref(),
                out,
                device,
                &mut progress,
            )?;
            let mut lines = vec![format!(
                "mnist-4-9: test 5-NN accuracy {:.5}, trustworthiness {:.5}, slant smoothness R² {:.3}, fit {:.0}s",
                r.test_knn5_accuracy, r.test_trustworthiness10, r.test_slant_knn_r2, r.fit_seconds
            )];
            if let Some(i) = &r.invariances {
                lines.push(format!(
                    "mnist-4-9 with declared invariances: test 5-NN accuracy {:.5}, trustworthiness {:.5}, fit {:.0}s",
                    i.test_knn5_accuracy, i.test_trustworthiness10, i.fit_seconds
                ));
            }
            Outcome {
                lines,
                headline: format!(
                    "test 5-NN accuracy {:.3} (target ≥ {}), trustworthiness@10 {:.4} (target ≥ {})",
                    r.test_knn5_accuracy, mnist_4_9::TARGET_ACCURACY, r.test_trustworthiness10, mnist_4_9::TARGET_TRUSTWORTHINESS
                ),
                targets_met: r.targets_met(),
            }
        }
        ExperimentName::MnistShift => {
            let r = mnist_shift::run(&digits()?, &options, out, device, &mut progress)?;
            let lines = r.runs.iter().map(|run| format!(
                "mnist-shift {:>15}: {} neighbour pairs, invariance ratio {:.3}, test 5-NN digit accuracy {:.3}, shift accuracy {:.3} (chance 0.20), fit {:.0}s",
                run.graph, run.neighbour_pairs, run.invariance_ratio, run.test_digit_knn5_accuracy, run.test_shift_knn5_accuracy, run.fit_seconds
            )).collect();
            let (e, p) = (&r.runs[0], &r.runs[1]);
            Outcome {
                lines,
                headline: format!(
                    "invariance ratio {:.3} with prior knowledge (target ≤ {:.2}) vs {:.3} with Euclidean neighbours",
                    p.invariance_ratio, mnist_shift::TARGET_RATIO, e.invariance_ratio
                ),
                targets_met: r.targets_met(),
            }
        }
        ExperimentName::Mnist10 => {
            let (images, labels) = builtin_mnist()?;
            let all: Vec<i64> = (0..10).collect();
            let split = mnist_4_9::split_digits(&images, &labels, &all, 0.7);
            let paper = over.apply(mnist_10::paper_options());
            let inv = over.apply(mnist_10::invariance_options());
            let r = mnist_10::run(&split, &paper, &inv, out, device, &mut progress)?;
            let lines = [&r.paper, &r.invariances]
                .iter()
                .map(|run| {
                    format!(
                        "mnist-10 {:>14}: test 5-NN accuracy {:.4}, trustworthiness {:.4}, fit {:.0}s",
                        run.name, run.test_knn5_accuracy, run.test_trustworthiness10, run.fit_seconds
                    )
                })
                .collect();
            let i = &r.invariances;
            Outcome {
                lines,
                headline: format!(
                    "declared invariances: test 5-NN accuracy {:.3} (target ≥ {}), trustworthiness@10 {:.3} (≥ {}), fit {:.0} s; paper defaults {:.3} / {:.3}",
                    i.test_knn5_accuracy, mnist_10::TARGET_ACCURACY, i.test_trustworthiness10, mnist_10::TARGET_TRUSTWORTHINESS, i.fit_seconds, r.paper.test_knn5_accuracy, r.paper.test_trustworthiness10
                ),
                targets_met: r.targets_met(),
            }
        }
        ExperimentName::Airplane => {
            let r = airplane::run(&options, over.split, out, device, &mut progress)?;
            let lines = r.runs.iter().map(|run| format!(
                "airplane {:>9}: {} neighbour pairs, lighting ratio {:.3} (one azimuth step {:.3}, one elevation step {:.3}), median azimuth error {:.1}°, median elevation error {:.1}°, lighting 5-NN accuracy {:.3} (chance 0.167), fit {:.0}s",
                run.graph, run.neighbour_pairs, run.lighting_invariance_ratio, run.azimuth_step_ratio, run.elevation_step_ratio, run.median_azimuth_error, run.median_elevation_error, run.lighting_knn5_accuracy, run.fit_seconds
            )).collect();
            let (g, e) = (&r.runs[0], &r.runs[1]);
            Outcome {
                lines,
                headline: format!(
                    "lighting ratio {:.3} against one pose step {:.3} (azimuth) / {:.3} (elevation) (target: below both), lighting 5-NN accuracy {:.3} (≤ {:.2}), median azimuth error {:.1}° (≤ {}°), elevation {:.1}° (≤ {}°); Euclidean map: lighting 5-NN accuracy {:.2}",
                    g.lighting_invariance_ratio, g.azimuth_step_ratio, g.elevation_step_ratio, g.lighting_knn5_accuracy, airplane::TARGET_LIGHTING_ACCURACY_OVER_CHANCE * airplane::LIGHTING_CHANCE, g.median_azimuth_error, airplane::TARGET_AZIMUTH_ERROR, g.median_elevation_error, airplane::TARGET_ELEVATION_ERROR, e.lighting_knn5_accuracy
                ),
                targets_met: g.targets_met(),
            }
        }
    })
}
