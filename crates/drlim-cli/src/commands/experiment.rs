//! `drlim experiment`: the paper's experiments on the built-in data.

use drlim::experiments::{builtin_mnist, mnist_4_9, mnist_shift};
use drlim::{Device, FitOptions, Result};

use super::show;
use crate::cli::{ExperimentArgs, ExperimentName};
use crate::progress::Progress;

pub fn run(a: ExperimentArgs, device: &Device) -> Result<()> {
    let mut options = FitOptions::default();
    options.train.epochs = a.epochs;
    options.train.lr = a.lr;
    options.train.seed = a.seed;
    let mut progress = Progress::new(a.quiet);
    match a.name {
        ExperimentName::MnistShift => {
            let (images, labels) = builtin_mnist()?;
            let split = mnist_4_9::split(&images, &labels, 0.7);
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
