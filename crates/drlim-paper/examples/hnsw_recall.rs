//! The recall of `--knn hnsw` (and of `--knn auto` above 50,000 samples) on a large file, where
//! the exact graph would take hours: builds the HNSW 5-NN lists of every sample, then finds the
//! exact 5 nearest neighbours of a random sample of queries against all samples and reports the
//! fraction of them that HNSW found.
//! `cargo run --release -p drlim-paper --example hnsw_recall -- FILE [QUERIES=2000] [SEED=0]`
//! (e.g. `drlim render digits --n 1000000 --out million` → `million/images.npy`).

use std::time::Instant;

use drlim::data::{Normalisation, NormaliseMode};
use drlim::neighbours::{hnsw_indices, knn_indices, HnswKnnSource, NeighbourSource};
use drlim::points::Points;
use rand::seq::index::sample;
use rand::SeedableRng;

fn main() -> drlim::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: hnsw_recall FILE [QUERIES] [SEED]");
        std::process::exit(2);
    };
    let queries: usize = args.get(1).map_or(2000, |q| q.parse().expect("QUERIES"));
    let seed: u64 = args.get(2).map_or(0, |s| s.parse().expect("SEED"));
    let t = Instant::now();
    let mut data = drlim::data::load(path.as_ref())?;
    // normalised as drlim fit normalises by default (pixels ÷ 255)
    *data.values_mut() = Normalisation::fit(NormaliseMode::Auto, &data).apply(&data);
    let dim = data.dim();
    println!(
        "loaded {} samples of {dim} values in {:.1} s",
        data.n,
        t.elapsed().as_secs_f64()
    );
    let values = data.values();
    let points = Points::new(&values, dim);
    let k = 5;
    let source = HnswKnnSource::new(k);
    let t = Instant::now();
    let approx = hnsw_indices(&points, &source);
    println!("{}: {:.1} s", source.describe(), t.elapsed().as_secs_f64());

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut picked = sample(&mut rng, data.n, queries.min(data.n)).into_vec();
    picked.sort_unstable();
    let query_values: Vec<f32> = picked
        .iter()
        .flat_map(|&i| data.row(i).into_owned())
        .collect();
    let q = Points::new(&query_values, dim);
    let t = Instant::now();
    // k + 1: the query itself is among the samples, at distance 0
    let exact = knn_indices(&q, &points, k + 1, false);
    let mut hits = 0;
    for (r, &i) in picked.iter().enumerate() {
        let truth: Vec<u32> = exact[r * (k + 1)..(r + 1) * (k + 1)]
            .iter()
            .copied()
            .filter(|&j| j as usize != i)
            .take(k)
            .collect();
        let found = &approx[i * k..(i + 1) * k];
        hits += truth.iter().filter(|j| found.contains(j)).count();
    }
    println!(
        "exact {k}-NN of {} random queries: {:.1} s; recall@{k} = {:.4}",
        picked.len(),
        t.elapsed().as_secs_f64(),
        hits as f64 / (picked.len() * k) as f64
    );
    Ok(())
}
