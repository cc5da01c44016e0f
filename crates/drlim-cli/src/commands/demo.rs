//! `drlim demo`: the paper's MNIST 4-vs-9 experiment on the built-in digits.

use drlim::experiments::{builtin_mnist, mnist_4_9};
use drlim::{Device, Result};

use super::{fit_options, say, show};
use crate::cli::{DemoArgs, NetArg, NormaliseArg};
use crate::progress::Progress;

pub fn run(a: DemoArgs, device: &Device) -> Result<()> {
    let quiet = a.train.quiet;
    let (images, labels) = builtin_mnist()?;
    let split = mnist_4_9::split(&images, &labels, 0.7);
    say(
        quiet,
        format!(
            "MNIST 4s and 9s (built-in): {} train, {} test; conv net → {}-D, {}-NN neighbours, {} epochs",
            split.train.n, split.test.n, a.train.dim, a.train.k, a.train.epochs
        ),
    );
    let options = fit_options(&a.train, NetArg::Conv, &[], NormaliseArg::Auto);
    let r = mnist_4_9::run(&split, &options, &a.out, device, &mut Progress::new(quiet))?;
    println!(
        "fit: {:.1}s ({} epochs, final loss {:.5}); embedding the test digits: {:.3}s",
        r.fit_seconds, r.epochs, r.final_loss, r.embed_seconds
    );
    println!(
        "test 5-NN accuracy against the train map: {:.5}",
        r.test_knn5_accuracy
    );
    println!(
        "test trustworthiness (10 neighbours):     {:.5}",
        r.test_trustworthiness10
    );
    let p = &r.train_pair_distances;
    println!(
        "train map: neighbour pairs mean distance {:.4}, random pairs {:.4} (ratio {:.3})",
        p.neighbour_mean,
        p.random_mean,
        p.ratio()
    );
    println!(
        "wrote {} (plots, embeddings, model, metrics.json)",
        show(&a.out)
    );
    Ok(())
}
