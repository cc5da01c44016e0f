//! Tuning aid for declared invariances on the built-in digits: fits one setting and prints the
//! test metrics (out of sample) every few epochs.
//! `cargo run --release -p drlim-paper --example mnist10_sweep -- KEY=VALUE …` with keys digits (all or e.g.
//! 4,9), net (conv|mlp), hidden, epochs, lr, decay, momentum, batch, margin, k, seed, augment
//! (as `--augment`), pairs (augmentation pairs per sample), negatives (random|batch),
//! loss (contrastive|cauchy-infonce), negratio, every, ntrain (first n training digits), opt
//! (sgd|adam), knn (exact|invariant), dim, augneighbours (1|0), augfinal (as
//! `--augment-final`), knnweights (uniform|fuzzy), save (a directory to write the fitted model
//! to).

use std::time::Instant;

use drlim::{fit, Augmentation, Device, FitOptions, LossKind, Negatives, NetKind};
use drlim_paper::scored::{pixel_trustworthiness, score, ScoreEvery};
use drlim_paper::{builtin_mnist, mnist_4_9};

fn main() {
    let args: Vec<(String, String)> = std::env::args()
        .skip(1)
        .map(|a| {
            let (k, v) = a.split_once('=').expect("KEY=VALUE");
            (k.to_string(), v.to_string())
        })
        .collect();
    let get = |k: &str, d: &str| {
        args.iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .unwrap_or(d.to_string())
    };
    let net = match get("net", "conv").as_str() {
        "mlp" => NetKind::Mlp {
            hidden: get("hidden", "256,256")
                .split(',')
                .map(|h| h.parse().unwrap())
                .collect(),
        },
        _ => NetKind::Conv,
    };
    let mut o = FitOptions {
        net,
        ..FitOptions::default()
    };
    o.dim = get("dim", "2").parse().unwrap();
    o.k = get("k", "5").parse().unwrap();
    if get("knnweights", "uniform") == "fuzzy" {
        o.knn_weights = drlim::KnnWeights::Fuzzy;
    }
    if get("knn", "exact") == "invariant" {
        o.knn_method = drlim::KnnMethod::Invariant;
    }
    o.train.epochs = get("epochs", "20").parse().unwrap();
    o.train.lr = get("lr", "0.005").parse().unwrap();
    o.train.lr_decay = get("decay", "1").parse().unwrap();
    o.train.momentum = get("momentum", "0.9").parse().unwrap();
    if get("opt", "sgd") == "adam" {
        o.train.optimizer = drlim::OptimizerKind::Adam;
    }
    o.train.batch = get("batch", "32").parse().unwrap();
    o.train.margin = get("margin", "1").parse().unwrap();
    o.train.seed = get("seed", "0").parse().unwrap();
    o.train.neg_ratio = get("negratio", "1").parse().unwrap();
    o.train.augment_pairs = get("pairs", "1").parse().unwrap();
    o.train.augment_neighbours = get("augneighbours", "1") == "1";
    o.train.augment_final = get("augfinal", "1").parse().unwrap();
    let aug = get("augment", "");
    o.train.augment = (!aug.is_empty()).then(|| Augmentation::parse(&aug).unwrap());
    o.train.negatives = match get("negatives", "random").as_str() {
        "batch" => Negatives::Batch,
        _ => Negatives::Random,
    };
    o.train.loss = match get("loss", "contrastive").as_str() {
        "cauchy-infonce" => LossKind::CauchyInfonce,
        _ => LossKind::Contrastive,
    };
    let digits: Vec<i64> = match get("digits", "all").as_str() {
        "all" => (0..10).collect(),
        d => d.split(',').map(|x| x.parse().unwrap()).collect(),
    };
    let (images, labels) = builtin_mnist().unwrap();
    let mut split = mnist_4_9::split_digits(&images, &labels, &digits, 0.7);
    let ntrain: usize = get("ntrain", "0").parse().unwrap();
    if ntrain > 0 {
        let idx: Vec<usize> = (0..ntrain.min(split.train.n)).collect();
        split.train = split.train.select(&idx);
        split.train_labels.truncate(idx.len());
    }
    println!("{args:?} train {} test {}", split.train.n, split.test.n);
    let mut obs = ScoreEvery {
        split: &split,
        every: get("every", "5").parse().unwrap(),
        start: Instant::now(),
    };
    let fitted = fit(&split.train, &o, &Device::flex(), &mut obs).unwrap();
    let fit_s = obs.start.elapsed().as_secs_f64();
    let save = get("save", "");
    if !save.is_empty() {
        fitted.model.save(std::path::Path::new(&save)).unwrap();
    }
    let s = score(&fitted.model, &split).unwrap();
    // the training map's own trustworthiness, to tell underfitting from poor generalisation
    let train_trust = pixel_trustworthiness(&fitted.model, &split.train, &s.train_emb).unwrap();
    println!(
        "final acc {:.4} trust {:.4} (train map's trust {:.4}), fit {fit_s:.0}s",
        s.acc, s.trust, train_trust
    );
}
