//! Tuning aid: trains the MNIST 4-vs-9 setting with the given flags and prints the test metrics
//! every 10 epochs, and the map averaged over the last quarter of the epochs.
//! `cargo run --release -p drlim-paper --example mnist49_sweep -- [epochs lr momentum neg_ratio
//! optimizer(sgd|adam) batch margin seed lr_decay weight_decay]`.

use std::ops::ControlFlow;
use std::time::Instant;

use drlim::model::Net;
use drlim::{fit, Device, EpochReport, FitOptions, Model, OptimizerKind, TrainObserver};
use drlim_paper::scored::{score, ScoreEvery};
use drlim_paper::{builtin_mnist, mnist_4_9};

/// Scores every 10 epochs and sums the weights of the last quarter of the epochs.
struct Averaging<'a> {
    every: ScoreEvery<'a>,
    avg_from: usize,
    sum: Vec<(String, Vec<usize>, Vec<f32>)>,
    count: usize,
    last: Option<Model>,
}

impl TrainObserver for Averaging<'_> {
    fn on_epoch(&mut self, r: &EpochReport, model: &Model) -> ControlFlow<()> {
        if r.epoch > self.avg_from {
            let w = model.net.weights();
            if self.sum.is_empty() {
                self.sum = w;
            } else {
                for (s, x) in self.sum.iter_mut().zip(w) {
                    s.2.iter_mut().zip(x.2).for_each(|(a, b)| *a += b);
                }
            }
            self.count += 1;
        }
        self.last = Some(model.clone());
        self.every.on_epoch(r, model)
    }
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let get = |i: usize, d: &str| a.get(i).cloned().unwrap_or(d.to_string());
    let mut o = FitOptions::default();
    o.train.epochs = get(0, "40").parse().unwrap();
    o.train.lr = get(1, "0.01").parse().unwrap();
    o.train.momentum = get(2, "0.9").parse().unwrap();
    o.train.neg_ratio = get(3, "1").parse().unwrap();
    o.train.optimizer = if get(4, "sgd") == "adam" {
        OptimizerKind::Adam
    } else {
        OptimizerKind::Sgd
    };
    o.train.batch = get(5, "32").parse().unwrap();
    o.train.margin = get(6, "1").parse().unwrap();
    o.train.seed = get(7, "0").parse().unwrap();
    o.train.lr_decay = get(8, "0.95").parse().unwrap();
    o.train.weight_decay = get(9, "0").parse().unwrap();
    let (images, labels) = builtin_mnist().unwrap();
    let split = mnist_4_9::split(&images, &labels, 0.7);
    println!("{o:?}");
    let avg_from = o.train.epochs - o.train.epochs / 4;
    let mut obs = Averaging {
        every: ScoreEvery {
            split: &split,
            every: 10,
            start: Instant::now(),
        },
        avg_from,
        sum: vec![],
        count: 0,
        last: None,
    };
    fit(&split.train, &o, &Device::flex(), &mut obs).unwrap();
    let k = obs.count as f32;
    let avg: Vec<Vec<f32>> = obs
        .sum
        .iter()
        .map(|(_, _, v)| v.iter().map(|x| x / k).collect())
        .collect();
    let last = obs.last.expect("at least one epoch");
    let names: Vec<String> = obs.sum.iter().map(|(n, _, _)| n.clone()).collect();
    let net = Net::from_weights(&last.config.architecture, &Device::flex(), |n| {
        avg[names.iter().position(|m| m == n).unwrap()].clone()
    });
    let averaged = Model { net, ..last };
    let s = score(&averaged, &split).unwrap();
    println!(
        "averaged over the last {} epochs: acc {:.4} trust {:.4}",
        obs.count, s.acc, s.trust
    );
}
