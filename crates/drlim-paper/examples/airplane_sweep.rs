//! Tuning aid for the airplane experiment: trains the 9216→20→3 net on the pose graph with the
//! given settings and prints the figures of merit every `every` epochs.
//! `cargo run --release -p drlim-paper --example airplane_sweep -- [epochs=150 lr=0.0005 margin=1 momentum=0.9
//! neg=5 batch=32 norm=standardise|unit|auto same=0|1 seed=0 every=50 opt=sgd|adam decay=0.98
//! wd=0.03 hidden=20 split=pose|image down=1]`; the defaults are the experiment's. `same=1` adds
//! same-pose pairs; `split=image` holds out 312 random views instead of 52 whole poses; `down=F`
//! averages F×F pixel blocks (smaller inputs).

use std::ops::ControlFlow;

use drlim::data::NormaliseMode;
use drlim::neighbours::{NeighbourSource, SameLabel, Union};
use drlim::{EpochReport, Model, NetKind, OptimizerKind, TrainObserver};
use drlim_paper::airplane::{self, AirplaneData};

struct Every<'a> {
    data: &'a AirplaneData,
    every: usize,
    last: Option<Model>,
}

impl TrainObserver for Every<'_> {
    fn on_epoch(&mut self, r: &EpochReport, model: &Model) -> ControlFlow<()> {
        self.last = Some(model.clone());
        if !r.epoch.is_multiple_of(self.every) {
            return ControlFlow::Continue(());
        }
        let etr = model.embed(&self.data.train).unwrap();
        let ete = model.embed(&self.data.test).unwrap();
        let m = airplane::measure(self.data, "", 0, &etr, &ete).unwrap();
        let on_train = AirplaneData {
            train: self.data.train.clone(),
            test: self.data.train.clone(),
            train_meta: self.data.train_meta.clone(),
            test_meta: self.data.train_meta.clone(),
        };
        let mt = airplane::measure(&on_train, "", 0, &etr, &etr).unwrap();
        println!(
            "epoch {:4} train ratio {:.3}; loss {:.5} ratio {:.3} az {:.1} el {:.1} light-acc {:.3}",
            r.epoch,
            mt.lighting_invariance_ratio,
            r.loss,
            m.lighting_invariance_ratio,
            m.median_azimuth_error,
            m.median_elevation_error,
            m.lighting_knn5_accuracy
        );
        ControlFlow::Continue(())
    }
}

fn main() {
    let mut kv = std::collections::HashMap::new();
    for a in std::env::args().skip(1) {
        let (k, v) = a.split_once('=').expect("key=value");
        kv.insert(k.to_string(), v.to_string());
    }
    let get = |k: &str, d: &str| kv.get(k).cloned().unwrap_or(d.to_string());
    let mut o = airplane::default_options();
    let t = o.train.clone();
    o.train.epochs = get("epochs", &t.epochs.to_string()).parse().unwrap();
    o.train.lr = get("lr", &t.lr.to_string()).parse().unwrap();
    o.train.margin = get("margin", &t.margin.to_string()).parse().unwrap();
    o.train.momentum = get("momentum", &t.momentum.to_string()).parse().unwrap();
    o.train.neg_ratio = get("neg", &t.neg_ratio.to_string()).parse().unwrap();
    o.train.batch = get("batch", &t.batch.to_string()).parse().unwrap();
    o.train.lr_decay = get("decay", &t.lr_decay.to_string()).parse().unwrap();
    o.train.seed = get("seed", "0").parse().unwrap();
    o.train.weight_decay = get("wd", &t.weight_decay.to_string()).parse().unwrap();
    if get("opt", "sgd") == "adam" {
        o.train.optimizer = OptimizerKind::Adam;
    }
    o.net = NetKind::Mlp {
        hidden: vec![get("hidden", "20").parse().unwrap()],
    };
    match get("norm", "standardise").as_str() {
        "unit" => o.normalise = NormaliseMode::Unit,
        "auto" => o.normalise = NormaliseMode::Auto,
        _ => {}
    }
    let by = if get("split", "pose") == "image" {
        airplane::SplitBy::Image
    } else {
        airplane::SplitBy::Pose
    };
    let mut data = AirplaneData::new(o.train.seed, by);
    let f: usize = get("down", "1").parse().unwrap();
    if f > 1 {
        data.train = downsample(&data.train, f);
        data.test = downsample(&data.test, f);
    }
    let grid = data.pose_grid();
    let source: Box<dyn NeighbourSource> = if get("same", "0") == "1" {
        let pose = data.train_meta.iter().map(|m| m[0] * 1000 + m[1]).collect();
        Box::new(Union(vec![
            Box::new(grid),
            Box::new(SameLabel { labels: pose }),
        ]))
    } else {
        Box::new(grid)
    };
    let mut obs = Every {
        data: &data,
        every: get("every", "50").parse().unwrap(),
        last: None,
    };
    let t = std::time::Instant::now();
    let (run, _ete) = airplane::train_and_measure(
        &data,
        "pose",
        source.as_ref(),
        &o,
        &drlim::Device::flex(),
        &mut obs,
    )
    .unwrap();
    println!("{run:?} in {:.0}s", t.elapsed().as_secs_f64());
    if let Some(dir) = kv.get("plots") {
        let model = obs.last.clone().expect("trained");
        for (what, d, meta) in [
            ("train", &data.train, &data.train_meta),
            ("test", &data.test, &data.test_meta),
        ] {
            let e = model.embed(d).unwrap();
            let az: Vec<f32> = meta.iter().map(|m| m[0] as f32).collect();
            let el: Vec<f32> = meta.iter().map(|m| m[1] as f32).collect();
            let p = drlim::points::Points::new(&e, 3);
            for (name, c) in [
                (
                    "azimuth",
                    drlim::plot::Colouring::Cyclic {
                        values: &az,
                        period: 360.0,
                        name: "azimuth",
                    },
                ),
                (
                    "elevation",
                    drlim::plot::Colouring::Values {
                        values: &el,
                        name: "elevation",
                    },
                ),
            ] {
                let path = std::path::Path::new(dir).join(format!("{what}-by-{name}.png"));
                drlim::plot::scatter3d(&path, &p, &c, what, &drlim::plot::THREE_VIEWS).unwrap();
            }
        }
    }
    // per lighting: mean distance of a test image to its pose's centroid (all lightings), ÷ the
    // mean distance of random test pairs
    let (ete, mte) = (&_ete, &data.test_meta);
    let n = mte.len();
    let d = |a: &[f32], b: &[f32]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| ((x - y) as f64).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let mut all = 0.0;
    for a in 0..n {
        for b in 0..n {
            all += d(&ete[a * 3..a * 3 + 3], &ete[b * 3..b * 3 + 3]);
        }
    }
    all /= (n * n) as f64;
    let mut per = [0f64; 6];
    let mut cnt = [0usize; 6];
    for a in 0..n {
        let mut c = [0f64; 3];
        let mut k = 0.0;
        for b in 0..n {
            if mte[b][..2] == mte[a][..2] {
                for j in 0..3 {
                    c[j] += ete[b * 3 + j] as f64;
                }
                k += 1.0;
            }
        }
        let c: Vec<f32> = c.iter().map(|v| (v / k) as f32).collect();
        per[mte[a][2] as usize] += d(&ete[a * 3..a * 3 + 3], &c);
        cnt[mte[a][2] as usize] += 1;
    }
    let per: Vec<String> = (0..6)
        .map(|l| format!("{:.3}", per[l] / cnt[l] as f64 / all))
        .collect();
    println!(
        "per-lighting distance to the pose centroid ÷ random: {}",
        per.join(" ")
    );
}

fn downsample(d: &drlim::data::Dataset, f: usize) -> drlim::data::Dataset {
    let (h, w) = (d.shape[0], d.shape[1]);
    let (oh, ow) = (h / f, w / f);
    let mut v = Vec::with_capacity(d.n * oh * ow);
    for i in 0..d.n {
        let r = d.row(i);
        for y in 0..oh {
            for x in 0..ow {
                let mut s = 0.0;
                for dy in 0..f {
                    for dx in 0..f {
                        s += r[(y * f + dy) * w + x * f + dx];
                    }
                }
                v.push(s / (f * f) as f32);
            }
        }
    }
    drlim::data::Dataset::new("down", v, d.n, vec![oh, ow], d.dtype).unwrap()
}
