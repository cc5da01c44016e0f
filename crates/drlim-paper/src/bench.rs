//! Throughput measurements on random data: training pairs per second (both arms, loss,
//! backward, SGD step) and inference images per second, and the neighbour-graph build time.
//! Timings are reported, never asserted.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use drlim::data::{Metric, Normalisation, SourceDtype};
use drlim::model::{input_image, Architecture, InputSpec, ModelConfig, Net, MODEL_FORMAT};
use drlim::pairs::Pair;
use drlim::train::{stepper, uses_fast_path, TrainConfig};
use drlim::{Device, Embedder, Model, Result};

/// One measured configuration.
#[derive(Clone, Debug)]
pub struct Throughput {
    /// Pairs per SGD step.
    pub batch: usize,
    /// Training speed.
    pub train_pairs_per_s: f64,
    /// Steps timed.
    pub steps: usize,
    /// Whether the fast CPU path trained.
    pub fast_path: bool,
}

fn run_for(seconds: f64, mut f: impl FnMut()) -> (usize, f64) {
    let start = Instant::now();
    let mut n = 0;
    loop {
        f();
        n += 1;
        let el = start.elapsed().as_secs_f64();
        if el >= seconds {
            return (n, el);
        }
    }
}

/// Training throughput of `arch` at `batch` pairs per step: `warmup` untimed seconds, then at
/// least `seconds` timed. `settings` gives the engine, augmentation, non-neighbours and loss
/// (its learning rate, momentum and batch are the bench's own); random images are augmented as
/// 32×32 (conv) or 28×28 (784-input MLP) images.
pub fn train_throughput(
    arch: &Architecture,
    batch: usize,
    settings: &TrainConfig,
    warmup: f64,
    seconds: f64,
) -> Result<Throughput> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(batch as u64);
    let dim = arch.input_dim();
    let inputs: Vec<f32> = (0..2 * batch * dim).map(|_| rng.random::<f32>()).collect();
    let pairs: Vec<Pair> = (0..batch)
        .map(|i| Pair {
            a: i as u32,
            b: (batch + i) as u32,
            y: (i % 2) as f32,
        })
        .collect();
    let config = TrainConfig {
        lr: 0.01,
        momentum: 0.9,
        batch,
        ..settings.clone()
    };
    // a 784-input MLP takes 28×28 images
    let shape: &[usize] = if dim == 784 { &[28, 28] } else { &[dim] };
    let image = input_image(arch, shape);
    let device = Device::flex();
    let mut stepper = stepper(arch, &inputs, image, &config, &device)?;
    run_for(warmup, || {
        stepper.step(&pairs, config.lr);
    });
    let (steps, el) = run_for(seconds, || {
        stepper.step(&pairs, config.lr);
    });
    Ok(Throughput {
        batch,
        train_pairs_per_s: (steps * batch) as f64 / el,
        steps,
        fast_path: uses_fast_path(&config, &device),
    })
}

/// Inference throughput (images per second) of `arch` at `batch` images per call, as `drlim
/// embed` and Python's `transform` run it: through an [`Embedder`] (the weights prepared once,
/// as a long-running embedder holds them), in passes of at most `drlim::embed::FAST_EMBED_ROWS`
/// rows one per thread, the input checked as it goes (28×28 images for the convnet, its
/// padding included).
pub fn infer_throughput(arch: &Architecture, batch: usize, warmup: f64, seconds: f64) -> f64 {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let shape = match arch {
        Architecture::Conv { .. } => vec![28, 28],
        Architecture::Mlp { input_dim, .. } => vec![*input_dim],
    };
    let x: Vec<f32> = (0..batch * shape.iter().product::<usize>())
        .map(|_| rng.random::<f32>())
        .collect();
    let device = Device::flex();
    let model = Model {
        net: Net::seeded(arch, 0, &device),
        config: ModelConfig {
            format: MODEL_FORMAT,
            drlim_version: env!("CARGO_PKG_VERSION").into(),
            input: InputSpec {
                metric: Metric::Euclidean,
                shape: shape.clone(),
                dtype: SourceDtype::F32,
                normalisation: Normalisation::None,
            },
            architecture: arch.clone(),
            seed: 0,
            training: serde_json::json!({}),
        },
    };
    let embedder = Embedder::new(&model).expect("the fast path serves the CPU");
    let mut f = || {
        std::hint::black_box(
            embedder
                .embed_rows(&x, &shape, "bench")
                .expect("finite rows"),
        );
    };
    run_for(warmup, &mut f);
    let (calls, el) = run_for(seconds, &mut f);
    (calls * batch) as f64 / el
}

/// Single-precision GEMM speed (GFLOP/s) of an n×n by n×n product on all threads: the peak
/// that the fast path is measured against.
pub fn sgemm_gflops(n: usize, warmup: f64, seconds: f64) -> f64 {
    use drlim::fast::gemm::{matmul, Mat};
    let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 * 0.1).collect();
    let mut c = vec![0f32; n * n];
    let threads = rayon::current_num_threads();
    let mut f = || {
        matmul(
            [n, n, n],
            Mat::rm(&a, n),
            Mat::rm(&b, n),
            &mut c,
            false,
            threads,
        )
    };
    run_for(warmup, &mut f);
    let (calls, el) = run_for(seconds, &mut f);
    2.0 * (n as f64).powi(3) * calls as f64 / el / 1e9
}

/// Wall time of `f`.
pub fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let v = f();
    (v, start.elapsed())
}

/// Peak resident memory of this process so far, in MiB (Linux; `None` elsewhere).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_something_for_both_nets() {
        let auto = TrainConfig::default();
        let t = train_throughput(&Architecture::Conv { dim: 2 }, 4, &auto, 0.0, 0.01).unwrap();
        assert!(t.fast_path && t.steps >= 1 && t.train_pairs_per_s > 0.0);
        // with augmentation and in-batch non-neighbours
        let aug = TrainConfig {
            augment: Some(drlim::Augmentation::parse("shift=2,rotate=10,elastic=1").unwrap()),
            negatives: drlim::Negatives::Batch,
            loss: drlim::LossKind::CauchyInfonce,
            ..TrainConfig::default()
        };
        let t = train_throughput(&Architecture::Conv { dim: 2 }, 4, &aug, 0.0, 0.01).unwrap();
        assert!(t.fast_path && t.train_pairs_per_s > 0.0);
        let mlp = Architecture::Mlp {
            input_dim: 20,
            hidden: vec![8],
            dim: 2,
        };
        let burn = TrainConfig {
            engine: drlim::Engine::Burn,
            ..TrainConfig::default()
        };
        let t = train_throughput(&mlp, 4, &burn, 0.0, 0.01).unwrap();
        assert!(!t.fast_path && t.train_pairs_per_s > 0.0);
        assert!(infer_throughput(&mlp, 8, 0.0, 0.01) > 0.0);
        assert!(peak_rss_mib().unwrap_or(1.0) > 0.0);
    }
}
