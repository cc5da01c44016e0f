//! `drlim bench`: one line per configuration, in the format of the PyTorch reference's bench
//! (`… conv batch=B train_pairs_per_s=… infer_img_per_s=…`), for side-by-side runs.

use drlim::model::Architecture;
use drlim::neighbours::{
    hnsw_indices, knn_indices, nndescent_indices, recall, HnswKnnSource, NeighbourGraph,
    NeighbourSource, NnDescentSource,
};
use drlim::points::Points;
use drlim::{Error, Result};
use drlim_paper::bench::{infer_throughput, peak_rss_mib, sgemm_gflops, time, train_throughput};
use drlim_paper::builtin_mnist;

use crate::cli::{augmentation, BenchArgs, BenchNet};

pub fn run(a: BenchArgs) -> Result<()> {
    if a.batches.contains(&0) || a.infer_batch == 0 || a.seconds.is_nan() || a.seconds <= 0.0 {
        return Err(Error::param(
            "--batches, --infer-batch and --seconds must be positive",
        ));
    }
    let settings = drlim::TrainConfig {
        engine: a.engine.into(),
        augment: a
            .augment
            .as_deref()
            .map(augmentation)
            .transpose()?
            .flatten(),
        negatives: a.negatives.into(),
        loss: a.loss.into(),
        ..drlim::TrainConfig::default()
    };
    settings.validate()?;
    let threads = rayon::current_num_threads();
    let nets: Vec<(&str, Architecture)> = match a.net {
        BenchNet::Conv => vec![("conv", Architecture::Conv { dim: 2 })],
        BenchNet::Mlp => vec![("mlp", mlp())],
        BenchNet::Both => vec![("conv", Architecture::Conv { dim: 2 }), ("mlp", mlp())],
        BenchNet::None => vec![],
    };
    for (name, arch) in &nets {
        for &b in &a.batches {
            let t = train_throughput(arch, b, &settings, a.warmup, a.seconds)?;
            let infer = infer_throughput(arch, a.infer_batch, a.warmup, a.seconds);
            println!(
                "drlim {name} batch={b} train_pairs_per_s={:.0} infer_img_per_s={infer:.0} infer_batch={} engine={} threads={threads} train_steps={} augment={} negatives={:?} loss={:?}",
                t.train_pairs_per_s,
                a.infer_batch,
                if t.fast_path { "fast" } else { "burn" },
                t.steps,
                settings.augment.as_ref().map(|x| x.describe()).unwrap_or("none".into()),
                settings.negatives,
                settings.loss
            );
        }
    }
    if let Some(n) = a.gemm {
        let g = sgemm_gflops(n, a.warmup, a.seconds);
        println!("drlim sgemm n={n} gflops={g:.1} threads={threads}");
    }
    for &n in &a.knn {
        let data = digits(n)?;
        let points = Points::new(&data, 784);
        let (exact, took) = time(|| knn_indices(&points, &points, 5, true));
        let graph = NeighbourGraph::from_pairs(
            n,
            exact
                .chunks_exact(5)
                .enumerate()
                .flat_map(|(i, r)| r.iter().map(move |&j| (i as u32, j))),
        );
        println!(
            "drlim knn n={n} dim=784 k=5 graph_s={:.3} pairs={} threads={threads}",
            took.as_secs_f64(),
            graph.len()
        );
        let source = NnDescentSource::new(5, n, 0);
        let (approx, took) = time(|| nndescent_indices(&points, &source));
        println!(
            "drlim nndescent n={n} dim=784 k=5 graph_s={:.3} recall_at_5={:.4} {} threads={threads}",
            took.as_secs_f64(),
            recall(&exact, &approx, 5),
            source.describe()
        );
        if a.hnsw {
            let source = HnswKnnSource::new(5);
            let (approx, took) = time(|| hnsw_indices(&points, &source));
            println!(
                "drlim hnsw n={n} dim=784 k=5 graph_s={:.3} recall_at_5={:.4} {} threads={threads}",
                took.as_secs_f64(),
                recall(&exact, &approx, 5),
                source.describe()
            );
        }
    }
    if let Some(path) = &a.knn_data {
        graph_bench(path, a.k, &a.graph_methods, threads)?;
    }
    if let Some(mib) = peak_rss_mib() {
        println!("drlim peak_rss_mib={mib:.0}");
    }
    Ok(())
}

/// Times each graph builder on the samples of `path` and measures its recall@k on 2,000 random
/// samples (seed 0) against exact search, as `../shared/peers/knn_graph_peer.py` does for
/// pynndescent.
fn graph_bench(path: &std::path::Path, k: usize, methods: &[String], threads: usize) -> Result<()> {
    let mut data = drlim::data::load(path)?;
    if data.dtype == drlim::data::SourceDtype::U8 {
        data.values_mut().iter_mut().for_each(|v| *v /= 255.0);
    }
    let (n, dim, values) = (data.n, data.dim(), data.values());
    let points = Points::new(&values, dim);
    let (truth, queries) = exact_sample(&points, k, 2000);
    for method in methods {
        let (found, took, about) = match method.as_str() {
            "nndescent" => {
                let s = NnDescentSource::new(k, n, 0);
                let (f, t) = time(|| nndescent_indices(&points, &s));
                (f, t, s.describe())
            }
            "hnsw" => {
                let s = HnswKnnSource::new(k);
                let (f, t) = time(|| hnsw_indices(&points, &s));
                (f, t, s.describe())
            }
            other => {
                return Err(Error::param(format!(
                    "unknown graph method {other:?}: nndescent or hnsw"
                )))
            }
        };
        let approx: Vec<u32> = queries
            .iter()
            .flat_map(|&q| found[q * k..(q + 1) * k].to_vec())
            .collect();
        println!(
            "drlim {method} n={n} dim={dim} k={k} graph_s={:.3} recall_at_{k}={:.4} peak_rss_mib={:.0} {about} threads={threads}",
            took.as_secs_f64(),
            recall(&truth, &approx, k),
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    }
    Ok(())
}

/// The exact k nearest other points of `m` random points (seed 0), and those points.
fn exact_sample(points: &Points, k: usize, m: usize) -> (Vec<u32>, Vec<usize>) {
    use rand::seq::index::sample;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut queries = sample(&mut rng, points.n, m.min(points.n)).into_vec();
    queries.sort_unstable();
    let rows: Vec<f32> = queries
        .iter()
        .flat_map(|&q| points.row(q).to_vec())
        .collect();
    let q = Points::new(&rows, points.dim);
    let near = knn_indices(&q, points, k + 1, false);
    let truth = near
        .chunks_exact(k + 1)
        .zip(&queries)
        .flat_map(|(row, &i)| {
            row.iter()
                .copied()
                .filter(|&j| j as usize != i)
                .take(k)
                .collect::<Vec<_>>()
        })
        .collect();
    (truth, queries)
}

fn mlp() -> Architecture {
    Architecture::Mlp {
        input_dim: 784,
        hidden: vec![256, 256],
        dim: 2,
    }
}

/// `n` digits in [0, 1]: the built-in 10,000, then copies shifted by (dx, dy) ∈ {±1, ±2, …}.
fn digits(n: usize) -> Result<Vec<f32>> {
    let (images, _) = builtin_mnist()?;
    let shifts = [
        (0i32, 0i32),
        (-3, 0),
        (3, 0),
        (-6, 0),
        (6, 0),
        (0, -2),
        (0, 2),
        (-3, 2),
        (3, -2),
        (-2, -2),
    ];
    let mut out = Vec::with_capacity(n * 784);
    'outer: for &(dx, dy) in shifts.iter().cycle() {
        for i in 0..images.n {
            if out.len() == n * 784 {
                break 'outer;
            }
            let img = images.row(i);
            for r in 0..28i32 {
                for c in 0..28i32 {
                    let (sr, sc) = (r - dy, c - dx);
                    let v = if (0..28).contains(&sr) && (0..28).contains(&sc) {
                        img[(sr * 28 + sc) as usize]
                    } else {
                        0.0
                    };
                    out.push(v / 255.0);
                }
            }
        }
    }
    Ok(out)
}
