//! How much memory a fit will take, known before it runs: [`estimate_fit`] adds up what each
//! stage holds (the samples, the neighbour graph's working set, the network's training rows,
//! each epoch's pairs) from n, the sample size, k and the net, and [`available`] reads what
//! the machine can give (the cgroup's limit, `MemAvailable`), so that a fit that cannot finish
//! is refused before it starts instead of being killed by the kernel after twenty minutes.
//!
//! The sizes per sample follow the structures in the code; BENCHMARKS.md ("A million points")
//! compares the estimate with the peak measured by `drlim fit --timings`.

use crate::data::NormaliseMode;
use crate::fit::{FitOptions, KnnMethod, KnnWeights, NetKind};
use crate::model::CONV_INPUT_SIDE;
use crate::neighbours::NnDescentSource;
use crate::train::Negatives;

/// The process itself: the binary's pages, the threads' stacks and what the allocator keeps
/// between stages (measured: 0.02 GB for a fit of 300 digits, and 0.01–0.03 GB more than the
/// structures below account for at 10,000).
const BASE: u64 = 30_000_000;

/// What a fit will hold at its peak, part by part (bytes).
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryEstimate {
    /// The parts that are held together at the peak, largest stage first.
    pub parts: Vec<(&'static str, u64)>,
    /// Their sum: the estimated peak resident memory.
    pub peak: u64,
}

impl MemoryEstimate {
    /// Adds a part held throughout.
    pub fn add(&mut self, name: &'static str, bytes: u64) {
        self.parts.push((name, bytes));
        self.peak += bytes;
    }

    /// "1.23 GB (samples 0.78 GB, neighbour graph 0.40 GB, …)".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .parts
            .iter()
            .filter(|(_, b)| *b >= 5_000_000)
            .map(|(name, b)| format!("{name} {}", gb(*b)))
            .collect();
        format!("{} ({})", gb(self.peak), parts.join(", "))
    }
}

/// Bytes as "1.23 GB", or "512 MB" below a tenth of a gigabyte.
pub fn gb(bytes: u64) -> String {
    match bytes {
        b if b < 100_000_000 => format!("{:.0} MB", b as f64 / 1e6),
        b => format!("{:.2} GB", b as f64 / 1e9),
    }
}

/// What is known of the samples before they are read: their number, values per sample, and
/// whether they stay bytes in memory (u8 files).
#[derive(Clone, Copy, Debug)]
pub struct DataSize {
    /// Samples.
    pub n: usize,
    /// Values per sample.
    pub dim: usize,
    /// Whether the values are held as bytes (u8 data) rather than f32.
    pub bytes: bool,
}

/// The estimated peak memory of fitting `data` with `options`; `knn` says whether the
/// neighbours are the k nearest (the graph then has about n·k pairs; other prior knowledge is
/// counted as a graph of that size too).
///
/// The peak is the process, the samples, and the larger of two stages: building the graph
/// (the normalised samples where the builder does not read bytes, the builder's or the fuzzy
/// weights' working set, the graph) and training (the graph, the network's rows, one epoch's
/// pairs, and the fuzzy weights' many small per-sample lists, which the allocator keeps after
/// they are freed).
pub fn estimate_fit(data: DataSize, options: &FitOptions, knn: bool) -> MemoryEstimate {
    let n = data.n as u64;
    let samples = n * data.dim as u64 * if data.bytes { 1 } else { 4 };
    let pairs = graph_pairs(data, options);
    let fuzzy = options.knn_weights == KnnWeights::Fuzzy;
    let kept = pairs * if fuzzy { 8 + 4 } else { 8 };
    let weighing = if fuzzy && knn {
        fuzzy_working_set(data, options)
    } else {
        0
    };
    let (normalised, builder) = graph_working_set(data, options, knn);
    let graph_stage = normalised + builder.max(weighing) + kept;
    let drawing = if fuzzy { pairs * 8 } else { 0 };
    let training =
        weighing + kept + drawing + training_rows(data, options) + epoch_pairs(data, options);
    let mut parts = vec![("process", BASE), ("samples", samples)];
    if graph_stage >= training {
        parts.push(("neighbour graph", graph_stage));
    } else {
        parts.push(("neighbour graph", kept));
        parts.push(("training", training - kept));
    }
    let peak = parts.iter().map(|p| p.1).sum();
    MemoryEstimate { parts, peak }
}

/// The graph's pairs: each sample's k nearest, symmetrised (between n·k/2 and n·k; 0.67–0.72
/// n·k on rendered digits, taken as 0.75).
fn graph_pairs(data: DataSize, options: &FitOptions) -> u64 {
    (data.n as f64 * options.k as f64 * 0.75) as u64
}

/// What UMAP's fuzzy weights hold: each sample's incident pairs and memberships in small
/// vectors (grown by doubling), and a distance and a product per pair.
fn fuzzy_working_set(data: DataSize, options: &FitOptions) -> u64 {
    let (n, k) = (data.n as u64, options.k as u64);
    let pairs = graph_pairs(data, options);
    let incident = (2 * pairs / n.max(1)).max(1).next_power_of_two();
    n * (40 + 8 * incident) + n * (40 + 8 * k) + pairs * 8
}

/// What building the graph holds besides the samples and the graph itself: the normalised
/// samples (none where NN-descent reads the bytes), and the builder's own structures.
fn graph_working_set(data: DataSize, options: &FitOptions, knn: bool) -> (u64, u64) {
    let (n, dim, k) = (data.n as u64, data.dim as u64, options.k as u64);
    let method = options.knn_method.for_samples(data.n);
    let on_bytes = data.bytes
        && knn
        && method == KnnMethod::NnDescent
        && options.metric.is_euclidean()
        && options.normalise != NormaliseMode::Standardise;
    // sources other than k-NN count the samples without reading them
    if !knn {
        return (0, 0);
    }
    let normalised = if on_bytes { 0 } else { n * dim * 4 };
    let settings = NnDescentSource::new(options.k, data.n, 0);
    let (list, candidates) = (settings.list as u64, settings.max_candidates as u64);
    let builder = match method {
        // lists (index, distance, flag), the 32-d sketch, 8 trees' leaves, the sampled
        // candidates and the reverse lists; a byte copy of float samples that are bytes
        KnnMethod::NnDescent => {
            n * (9 * list + 32 * 4 + 8 * 4 + 8 * candidates + 8 * list + 16)
                + if data.bytes { 0 } else { n * dim }
        }
        // the index's own copy of the samples and its links (16 per layer-0 node, 4 bytes)
        KnnMethod::Hnsw => n * dim * 4 + n * (2 * 16 * 4 + 64),
        // a block of distances per thread and the k nearest of every sample
        _ => {
            let block = (4_000_000 / n.max(1)).clamp(8, 512) * n * 4;
            n * k * 8 + block * rayon::current_num_threads() as u64
        }
    };
    (normalised, builder)
}

/// The network's training rows: the principal coordinates through the PCA front (or the
/// sample of rows the directions are fitted on, held before them, if larger), the normalised
/// samples for an MLP without it, the padded 32×32 images for the convnet.
fn training_rows(data: DataSize, options: &FitOptions) -> u64 {
    let n = data.n as u64;
    let front = options.front_components(data.dim);
    let width = match (&options.net, front) {
        (NetKind::Conv, _) => (CONV_INPUT_SIDE * CONV_INPUT_SIDE) as u64,
        (_, Some(c)) => c as u64,
        (_, None) => data.dim as u64,
    };
    let pca_sample = match front {
        Some(_) => (data.n.min(crate::data::PCA_SAMPLE) * data.dim * 4) as u64,
        None => 0,
    };
    (n * width * 4).max(pca_sample)
}

/// One epoch's pairs (12 bytes each): the graph's, one augmentation pair per sample, and the
/// random non-neighbours.
fn epoch_pairs(data: DataSize, options: &FitOptions) -> u64 {
    let neighbours = graph_pairs(data, options);
    let negatives = match options.train.negatives {
        Negatives::Random => (neighbours as f64 * options.train.neg_ratio) as u64,
        Negatives::Batch => 0,
    };
    (neighbours + data.n as u64 + negatives) * 12
}

/// The memory this process may still take: the smallest of the cgroup's limit less its usage
/// (cgroup v2 or v1) and the kernel's `MemAvailable`; `None` where neither can be read.
pub fn available() -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let num = |s: Option<String>| s.and_then(|s| s.trim().parse::<u64>().ok());
    let cgroup = match num(read("/sys/fs/cgroup/memory.max")) {
        Some(max) => num(read("/sys/fs/cgroup/memory.current")).map(|u| max.saturating_sub(u)),
        None => num(read("/sys/fs/cgroup/memory/memory.limit_in_bytes")).and_then(|max| {
            num(read("/sys/fs/cgroup/memory/memory.usage_in_bytes")).map(|u| max.saturating_sub(u))
        }),
    };
    let meminfo = read("/proc/meminfo").and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    match (cgroup, meminfo) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Parses a memory size: a number with an optional unit, K/M/G/T (powers of 1000, with or
/// without a trailing B) or KiB/MiB/GiB/TiB (powers of 1024), e.g. `4G`, `3.5GB`, `512MiB`;
/// a bare number is bytes.
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size such as 4G, 3.5GB or 512MiB"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024f64.powi(2),
        "gib" => 1024f64.powi(3),
        "tib" => 1024f64.powi(4),
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}' (use K, M, G, T or KiB, MiB, GiB, TiB)"
            ))
        }
    };
    let bytes = value * factor;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("'{text}' is not a positive size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Preset;

    #[test]
    fn sizes_parse_in_decimal_and_binary_units_and_junk_is_refused() {
        assert_eq!(parse_size("4G"), Ok(4_000_000_000));
        assert_eq!(parse_size("3.5GB"), Ok(3_500_000_000));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("4X").unwrap_err().contains("unknown unit"));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn bytes_take_a_quarter_of_the_samples_memory_and_the_graph_reads_them() {
        let options = Preset::Auto.options(1_000_000, &[28, 28]);
        let size = |bytes| DataSize {
            n: 1_000_000,
            dim: 784,
            bytes,
        };
        let (b, f) = (
            estimate_fit(size(true), &options, true),
            estimate_fit(size(false), &options, true),
        );
        let part = |e: &MemoryEstimate, name| e.parts.iter().find(|p| p.0 == name).unwrap().1;
        assert_eq!(part(&b, "samples") * 4, part(&f, "samples"));
        // float samples are normalised into a copy for the graph; bytes are read as they are
        assert!(f.peak > b.peak + 3_000_000_000, "{f:?} {b:?}");
        assert!(b.peak < 4_000_000_000, "{}", b.describe());
        // the estimate grows with n
        let small = estimate_fit(
            DataSize {
                n: 10_000,
                ..size(true)
            },
            &options,
            true,
        );
        assert!(small.peak < b.peak / 10);
    }
}
