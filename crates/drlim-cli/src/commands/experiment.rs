//! `drlim experiment`: the paper's experiments on the built-in data.

use drlim::experiments::{airplane, builtin_mnist, mnist_4_9, mnist_shift};
use drlim::{Device, FitOptions, Result};

use super::show;
use crate::cli::{ExperimentArgs, ExperimentName};
use crate::progress::Progress;

pub fn run(a: ExperimentArgs, device: &Device) -> Result<()> {
    let mut options = FitOptions::default();
    let (epochs, lr) = match a.name {
        ExperimentName::Mnist49 => (options.train.epochs, options.train.lr),
        ExperimentName::MnistShift => (10, 0.01),
        ExperimentName::Airplane => (200, 0.01),
    };
    options.train.epochs = a.epochs.unwrap_or(epochs);
    options.train.lr = a.lr.unwrap_or(lr);
    options.train.seed = a.seed;
    let mut progress = Progress::new(a.quiet);
    let (images, labels) = builtin_mnist()?;
    let split = mnist_4_9::split(&images, &labels, 0.7);
    match a.name {
        ExperimentName::Mnist49 => {
            let r = mnist_4_9::run(&split, &options, &a.out, device, &mut progress)?;
            println!(
                "test 5-NN accuracy {:.5}, trustworthiness {:.5}, slant smoothness R² {:.3}, fit {:.0}s",
                r.test_knn5_accuracy, r.test_trustworthiness10, r.test_slant_knn_r2, r.fit_seconds
            );
            println!(
                "wrote {} (report.md, metrics.json, figures, model)",
                show(&a.out)
            );
        }
        ExperimentName::Airplane => {
            let r = airplane::run(&options, &a.out, device, &mut progress)?;
            for run in &r.runs {
                println!(
                    "{:>9}: {} neighbour pairs, lighting invariance ratio {:.3}, median azimuth error {:.1}°, median elevation error {:.1}°, lighting 5-NN accuracy {:.3} (chance 0.167)",
                    run.graph, run.neighbour_pairs, run.lighting_invariance_ratio, run.median_azimuth_error, run.median_elevation_error, run.lighting_knn5_accuracy
                );
            }
            println!("wrote {} (metrics.json, figures)", show(&a.out));
        }
        ExperimentName::MnistShift => {
            let r = mnist_shift::run(&split, &options, &a.out, device, &mut progress)?;
            for run in &r.runs {
                println!(
                    "{:>15}: {} neighbour pairs, invariance ratio {:.3}, test 5-NN digit accuracy {:.3}, shift accuracy {:.3} (chance 0.20), fit {:.0}s",
                    run.graph, run.neighbour_pairs, run.invariance_ratio, run.test_digit_knn5_accuracy, run.test_shift_knn5_accuracy, run.fit_seconds
                );
            }
            println!("wrote {} (report.md, metrics.json, figures)", show(&a.out));
        }
    }
    Ok(())
}
