//! What embedding costs in small calls on the fast CPU path, the figures behind the pass size
//! (`embed::FAST_EMBED_ROWS`) and the packed kernels (`fast::packed`):
//!
//! ```text
//! cargo run --release -p drlim --example small_calls
//! ```
//!
//! For the convnet and an MLP 784-256-256-2: the time per row in passes of 64 to 512 rows on
//! one thread, and through an [`Embedder`] a call of 1 and of 8 samples on the calling thread
//! and of 256 samples on 1 and 2 threads. Best of 5 rounds each.

use std::hint::black_box;
use std::time::Instant;

use drlim::data::{Metric, Normalisation, SourceDtype};
use drlim::fast::FastWeights;
use drlim::model::{Architecture, InputSpec, ModelConfig, Net, MODEL_FORMAT};
use drlim::{Device, Embedder, Model};

/// The best of 5 rounds of `reps` calls of `f`, per call, in µs.
fn best_us(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..5)
        .map(|_| {
            let t = Instant::now();
            (0..reps).for_each(|_| f());
            t.elapsed().as_secs_f64() / reps as f64 * 1e6
        })
        .fold(f64::MAX, f64::min)
}

fn model(arch: Architecture, shape: Vec<usize>) -> Model {
    let net = Net::seeded(&arch, 1, &Device::flex());
    let config = ModelConfig {
        format: MODEL_FORMAT,
        drlim_version: "bench".into(),
        input: InputSpec {
            metric: Metric::Euclidean,
            shape,
            dtype: SourceDtype::U8,
            normalisation: Normalisation::Scale {
                factor: 1.0 / 255.0,
            },
        },
        architecture: arch,
        seed: 1,
        training: serde_json::json!({}),
    };
    Model { net, config }
}

fn main() {
    let mlp = Architecture::Mlp {
        input_dim: 784,
        hidden: vec![256, 256],
        dim: 2,
    };
    for (name, arch, shape) in [
        ("mlp", mlp, vec![784]),
        ("conv", Architecture::Conv { dim: 2 }, vec![28, 28]),
    ] {
        let m = model(arch, shape.clone());
        let dim = m.config.architecture.input_dim();
        let weights = FastWeights::of(&m.net);
        for rows in [64, 128, 256, 512] {
            let x: Vec<f32> = (0..rows * dim).map(|i| (i % 256) as f32 / 255.0).collect();
            let mut net = weights.embedding_net(1);
            let us = best_us(4096 / rows, || {
                black_box(net.infer(&x, rows));
            });
            println!(
                "{name}: passes of {rows} rows, 1 thread: {:.2} µs per row",
                us / rows as f64
            );
        }
        let embedder = Embedder::new(&m).expect("the fast path serves the CPU");
        let x: Vec<f32> = (0..256 * 784).map(|i| (i % 256) as f32).collect();
        for rows in [1, 8] {
            let us = best_us(2000, || {
                black_box(
                    embedder
                        .embed_rows(&x[..rows * 784], &shape, "x")
                        .expect("embeds"),
                );
            });
            println!("{name}: a call of {rows} samples on the calling thread: {us:.1} µs");
        }
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("threads");
            let us = best_us(50, || {
                black_box(pool.install(|| embedder.embed_rows(&x, &shape, "x").expect("embeds")));
            });
            println!("{name}: a call of 256 samples, {threads} threads: {us:.0} µs");
        }
    }
}
