//! Tuning aid: trains the MNIST 4-vs-9 setting with the given flags and prints the test metrics
//! every 10 epochs, and the map averaged over the last quarter of the epochs.
//! `cargo run --release --example mnist49_sweep -- [epochs lr momentum neg_ratio
//! optimizer(sgd|adam) batch margin seed lr_decay weight_decay]`.

use drlim::eval::{knn_accuracy, trustworthiness};
use drlim::experiments::{builtin_mnist, mnist_4_9};
use drlim::model::Net;
use drlim::neighbours::Points;
use drlim::{fit, Device, EpochReport, FitOptions, Model, OptimizerKind, TrainObserver};

struct Every {
    split: mnist_4_9::Split,
    every: usize,
    config: Option<drlim::model::ModelConfig>,
    avg_from: usize,
    sum: Vec<(String, Vec<usize>, Vec<f32>)>,
    count: usize,
}

impl Every {
    fn report(&self, net: Net, what: &str) {
        let model = Model {
            net,
            config: self.config.clone().unwrap(),
        };
        let tr = model.embed(&self.split.train, "train").unwrap();
        let te = model.embed(&self.split.test, "test").unwrap();
        let (tp, ep) = (Points::new(&tr, 2), Points::new(&te, 2));
        let acc = knn_accuracy(
            &tp,
            &self.split.train_labels,
            &ep,
            &self.split.test_labels,
            5,
        )
        .unwrap();
        let px = model.config.input.normalisation.apply(&self.split.test);
        let t = trustworthiness(&Points::new(&px, 784), &ep, 10).unwrap();
        println!("{what} acc {acc:.4} trust {t:.4}");
    }
}

impl TrainObserver for Every {
    fn on_epoch(&mut self, r: &EpochReport, net: &Net) {
        if r.epoch > self.avg_from {
            let w = net.weights();
            if self.sum.is_empty() {
                self.sum = w;
            } else {
                for (s, x) in self.sum.iter_mut().zip(w) {
                    s.2.iter_mut().zip(x.2).for_each(|(a, b)| *a += b);
                }
            }
            self.count += 1;
        }
        if !r.epoch.is_multiple_of(self.every) {
            return;
        }
        let label = format!(
            "epoch {:3} loss {:.5} ({:.0} pairs/s)",
            r.epoch,
            r.loss,
            r.pairs_per_s()
        );
        self.report(net.clone(), &label);
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
    // the config is only known after fit: fit once for 1 epoch to get it
    let mut probe = o.clone();
    probe.train.epochs = 1;
    let cfg = fit(
        &split.train,
        "train",
        &probe,
        &Device::flex(),
        &mut drlim::Silent,
    )
    .unwrap()
    .model
    .config;
    println!("{o:?}");
    let avg_from = o.train.epochs - o.train.epochs / 4;
    let mut obs = Every {
        split,
        every: 10,
        config: Some(cfg),
        avg_from,
        sum: vec![],
        count: 0,
    };
    let tr = obs.split.train.clone();
    fit(&tr, "train", &o, &Device::flex(), &mut obs).unwrap();
    let k = obs.count as f32;
    let avg: Vec<Vec<f32>> = obs
        .sum
        .iter()
        .map(|(_, _, v)| v.iter().map(|x| x / k).collect())
        .collect();
    let arch = obs.config.clone().unwrap().architecture;
    let names: Vec<String> = obs.sum.iter().map(|(n, _, _)| n.clone()).collect();
    let net = Net::from_weights(&arch, &Device::flex(), |n| {
        avg[names.iter().position(|m| m == n).unwrap()].clone()
    });
    obs.report(
        net,
        &format!("averaged over the last {} epochs:", obs.count),
    );
}
