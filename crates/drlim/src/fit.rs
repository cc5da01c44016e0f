//! The whole fitting pipeline in one call: data → neighbours → pairs → model → training.

use std::time::Instant;

use burn::tensor::Device;

use crate::data::{Dataset, Metric, NormaliseMode};
use crate::error::{Error, Result};
use crate::mapping::Model;
use crate::model::{input_image, Architecture, InputSpec, ModelConfig};
#[cfg(feature = "hnsw")]
use crate::neighbours::HnswKnnSource;
use crate::neighbours::{
    FuzzyWeights, InvariantKnnSource, KnnSource, NeighbourGraph, NeighbourSource, NnDescentSource,
};
use crate::pca_front::Front;
use crate::points::Points;
use crate::train::{
    defaults, resume, train, Checkpoint, EpochReport, Outcome, TrainConfig, TrainObserver, Trained,
};

/// Which network to fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetKind {
    /// The paper's convnet (28×28 or 32×32 images).
    Conv,
    /// A fully connected network with these hidden widths.
    Mlp {
        /// Hidden layer widths.
        hidden: Vec<usize>,
    },
}

/// How the k nearest neighbours are found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KnnMethod {
    /// Exact up to [`AUTO_APPROXIMATE_ABOVE`] samples, NN-descent above (BENCHMARKS.md, "The
    /// neighbour graph").
    #[default]
    Auto,
    /// Exact, by blocked GEMM distances.
    Exact,
    /// Approximate, with an HNSW index (for large n; not bit-for-bit reproducible). Needs the
    /// `hnsw` feature (on by default).
    Hnsw,
    /// Approximate, by NN-descent from random projection trees (UMAP's method;
    /// [`NnDescentSource`]): reproducible for a seed whatever the thread count.
    NnDescent,
    /// Exact, under the declared invariances of `TrainConfig::augment` (images): the distance
    /// to a sample is the smallest distance to it or to its copies shifted by one pixel or
    /// rotated by the declared angle ([`InvariantKnnSource`]).
    Invariant,
}

impl KnnMethod {
    /// The method that runs for `n` samples: [`Auto`](KnnMethod::Auto) resolved to exact
    /// search up to [`AUTO_APPROXIMATE_ABOVE`] samples and NN-descent above, any other as it is.
    pub fn for_samples(self, n: usize) -> KnnMethod {
        match self {
            KnnMethod::Auto if n > AUTO_APPROXIMATE_ABOVE => KnnMethod::NnDescent,
            KnnMethod::Auto => KnnMethod::Exact,
            m => m,
        }
    }
}

/// How the pairs of a k-nearest-neighbour graph weigh in training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KnnWeights {
    /// Every pair alike: each epoch takes every neighbour pair once (the paper's way).
    #[default]
    Uniform,
    /// UMAP's fuzzy memberships ([`FuzzyWeights`]): each epoch draws as many neighbour pairs,
    /// each with probability proportional to its membership, so that a sample's nearest
    /// neighbours are drawn more often than its farthest.
    Fuzzy,
}

/// Above this many samples [`KnnMethod::Auto`] builds the graph by NN-descent: exact search
/// grows with n² (13 s for 30,000 digits, an estimated 4 hours for 1,000,000 on 2 cores),
/// NN-descent with about n log n. Below it the exact graph, the same on every machine, costs
/// under a minute.
pub const AUTO_APPROXIMATE_ABOVE: usize = 50_000;

/// Everything `fit` needs besides the data.
#[derive(Clone, Debug)]
pub struct FitOptions {
    /// The network.
    pub net: NetKind,
    /// Output dimension d.
    pub dim: usize,
    /// Nearest neighbours per sample in input space.
    pub k: usize,
    /// Exact or approximate (HNSW) nearest neighbours.
    pub knn_method: KnnMethod,
    /// How the nearest-neighbour pairs weigh.
    pub knn_weights: KnnWeights,
    /// The input-space metric of the neighbour graph (stored in the model: cosine and
    /// correlation scale each sample to unit length before the network sees it).
    pub metric: Metric,
    /// Input normalisation.
    pub normalise: NormaliseMode,
    /// A PCA front for an MLP: the first layer is trained on the normalised samples'
    /// coordinates along their top `pca` principal directions, which are folded into it
    /// afterwards (the model still takes the full samples). Fewer values to multiply in every
    /// step, and less noise to fit, for wide vectors such as pixels. None, or at least as many
    /// components as values per sample: no front.
    pub pca: Option<usize>,
    /// Training settings.
    pub train: TrainConfig,
}

impl FitOptions {
    /// The principal components the first layer trains on for samples of `input_dim` values,
    /// if the PCA front applies: `pca` asks for fewer than that, the net is an MLP, and no
    /// declared transformation moves pixels (those need the image, not its coordinates).
    pub fn front_components(&self, input_dim: usize) -> Option<usize> {
        let geometric = self
            .train
            .augment
            .as_ref()
            .is_some_and(|a| a.is_geometric());
        let mlp = matches!(self.net, NetKind::Mlp { .. });
        self.pca.filter(|&c| c < input_dim && mlp && !geometric)
    }
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            net: NetKind::Conv,
            dim: defaults::DIM,
            k: defaults::K,
            knn_method: KnnMethod::Auto,
            knn_weights: KnnWeights::Uniform,
            metric: Metric::Euclidean,
            normalise: NormaliseMode::Auto,
            pca: None,
            train: TrainConfig::default(),
        }
    }
}

/// The outcome of [`fit`].
pub struct Fitted {
    /// The trained model (after a divergence: the last good one).
    pub model: Model,
    /// The neighbour graph that was trained on.
    pub graph: NeighbourGraph,
    /// One report per completed epoch.
    pub history: Vec<EpochReport>,
    /// Seconds spent building the neighbour graph.
    pub graph_seconds: f64,
    /// How training ended: completed, stopped by the observer, or diverged (the model is then
    /// the last good one; [`Outcome::check`] turns a divergence into an error).
    pub outcome: Outcome,
    /// The state after the last complete epoch, to resume from (none if no epoch completed).
    pub checkpoint: Option<Checkpoint>,
}

/// Learns a mapping of `data` with the k-NN neighbour graph of `options` (exact, HNSW or
/// under declared invariances).
pub fn fit(
    data: &Dataset,
    options: &FitOptions,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<Fitted> {
    let source = knn_source(data, options)?;
    fit_with(data, options, source.as_ref(), device, observer)
}

/// The k-nearest-neighbour source that `options` asks for (exact, HNSW, or exact under the
/// declared invariances; with fuzzy weights or without): the one place where that choice is
/// made.
pub fn knn_source(data: &Dataset, options: &FitOptions) -> Result<Box<dyn NeighbourSource>> {
    let source = unweighted_knn_source(data, options)?;
    Ok(match options.knn_weights {
        KnnWeights::Uniform => source,
        KnnWeights::Fuzzy => Box::new(FuzzyWeights {
            inner: source,
            k: options.k,
        }),
    })
}

fn unweighted_knn_source(data: &Dataset, options: &FitOptions) -> Result<Box<dyn NeighbourSource>> {
    Ok(match options.knn_method.for_samples(data.n) {
        KnnMethod::Auto | KnnMethod::Exact => Box::new(KnnSource { k: options.k }),
        KnnMethod::NnDescent => {
            Box::new(NnDescentSource::new(options.k, data.n, options.train.seed))
        }
        #[cfg(feature = "hnsw")]
        KnnMethod::Hnsw => Box::new(HnswKnnSource::new(options.k)),
        #[cfg(not(feature = "hnsw"))]
        KnnMethod::Hnsw => {
            return Err(Error::param(
                "approximate nearest neighbours (HNSW) need drlim built with its `hnsw` feature",
            ))
        }
        KnnMethod::Invariant => {
            let [h, w] = data.shape[..] else {
                return Err(Error::data(
                    &data.origin,
                    format!(
                        "invariant nearest neighbours need images (samples of shape [h, w]), not {:?}",
                        data.shape
                    ),
                ));
            };
            let aug = options.train.augment.clone().unwrap_or_default();
            Box::new(InvariantKnnSource::from_augmentation(
                options.k,
                (h, w),
                &aug,
            )?)
        }
    })
}

/// Learns a mapping of `data` with the neighbour relation of `source` (any prior knowledge:
/// labels, pairs, poses, time, unions; `options.k` and `options.knn_method` are then unused).
/// The source sees the normalised data, or the samples' bytes where their Euclidean
/// neighbours are the same and the source reads bytes
/// ([`NeighbourSource::graph_of_bytes`]).
pub fn fit_with(
    data: &Dataset,
    options: &FitOptions,
    source: &dyn NeighbourSource,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<Fitted> {
    let prepared = Prepared::new(data, options)?;
    let t0 = Instant::now();
    let graph = prepared.graph(data, source)?;
    let graph_seconds = t0.elapsed().as_secs_f64();
    observer.on_graph(graph.len(), &source.describe(), graph_seconds);
    let trained = prepared.train(data, options, source, &graph, device, observer, None)?;
    Ok(Fitted::new(trained, graph, graph_seconds))
}

/// Goes on with a fit of `data` from `checkpoint` (written while fitting the same data with
/// the same options and `source`; only `options.train.epochs` may differ), on the
/// checkpoint's own neighbour `graph` (not rebuilt, so an approximate graph stays the same):
/// the model at the end is bit-identical to that of an uninterrupted fit with the same seed
/// and thread count. Anything else that differs is refused, naming it.
pub fn fit_resume(
    data: &Dataset,
    options: &FitOptions,
    source: &dyn NeighbourSource,
    checkpoint: Checkpoint,
    graph: NeighbourGraph,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<Fitted> {
    let prepared = Prepared::new(data, options)?;
    if graph.n() != data.n {
        return Err(Error::model(
            &checkpoint.origin,
            format!(
                "the checkpoint's graph is over {} samples, the data has {}",
                graph.n(),
                data.n
            ),
        ));
    }
    let described = format!("{} (the checkpoint's graph)", source.describe());
    observer.on_graph(graph.len(), &described, 0.0);
    let trained = prepared.train(
        data,
        options,
        source,
        &graph,
        device,
        observer,
        Some(checkpoint),
    )?;
    Ok(Fitted::new(trained, graph, 0.0))
}

impl Fitted {
    fn new(trained: Trained, graph: NeighbourGraph, graph_seconds: f64) -> Self {
        Fitted {
            model: trained.model,
            graph,
            history: trained.history,
            graph_seconds,
            outcome: trained.outcome,
            checkpoint: trained.checkpoint,
        }
    }
}

/// The data made ready for a network: its architecture and input preparation.
struct Prepared {
    arch: Architecture,
    input: InputSpec,
}

impl Prepared {
    /// Checks the options against `data` and normalises it.
    fn new(data: &Dataset, options: &FitOptions) -> Result<Self> {
        options.train.validate()?;
        if options.dim == 0 {
            return Err(Error::Setting {
                name: "dim",
                problem: "(the output dimension) must be at least 1".into(),
            });
        }
        let arch = match &options.net {
            NetKind::Conv => Architecture::Conv { dim: options.dim },
            NetKind::Mlp { hidden } => Architecture::Mlp {
                input_dim: data.dim(),
                hidden: hidden.clone(),
                dim: options.dim,
            },
        };
        let input = InputSpec::for_training_with(&arch, data, options.normalise, options.metric)?;
        let image = input_image(&arch, &data.shape);
        // checked before the graph is built, and naming the data
        if let Some(aug) = options.train.augment.as_ref().filter(|a| a.is_geometric()) {
            if image.is_none() {
                return Err(Error::data(
                    &data.origin,
                    format!(
                        "augmentation {} moves pixels, but the samples are vectors of shape {:?}, not images; use noise and dropout for vectors",
                        aug.describe(),
                        data.shape
                    ),
                ));
            }
        }
        Ok(Self { arch, input })
    }

    /// The neighbour graph of `source` over the samples: over their number alone where the
    /// source does not read them (labels, pairs, time, poses), over their bytes where the
    /// source reads bytes and the normalisation keeps their Euclidean neighbours (no float copy
    /// of the data is made in either case), else over the normalised samples.
    fn graph(&self, data: &Dataset, source: &dyn NeighbourSource) -> Result<NeighbourGraph> {
        if !source.reads_samples() {
            return source.graph(&Points::count_only(data.n, data.dim()));
        }
        let raw_neighbours =
            self.input.metric.is_euclidean() && self.input.normalisation.keeps_neighbours();
        if let Some(bytes) = data.bytes().filter(|_| raw_neighbours) {
            if let Some(graph) = source.graph_of_bytes(bytes, data.dim()) {
                return graph;
            }
        }
        let normalised = self.input.normalised(data);
        source.graph(&Points::new(&normalised, data.dim()))
    }

    /// Trains on `graph` (from `checkpoint` if given) through the PCA front where it applies:
    /// the one path of [`fit_with`] and [`fit_resume`].
    #[allow(clippy::too_many_arguments)]
    fn train(
        self,
        data: &Dataset,
        options: &FitOptions,
        source: &dyn NeighbourSource,
        graph: &NeighbourGraph,
        device: &Device,
        observer: &mut dyn TrainObserver,
        checkpoint: Option<Checkpoint>,
    ) -> Result<Trained> {
        let mut template = self.finish(data, options, source, graph);
        let (front, inputs) = Front::new(&mut template, data, options);
        let mut folding = front.observer(observer);
        let trained = match checkpoint {
            None => train(
                &template,
                &inputs,
                graph,
                &options.train,
                device,
                &mut folding,
            ),
            Some(c) => resume(
                &template,
                &inputs,
                graph,
                &options.train,
                device,
                &mut folding,
                c,
            ),
        }?;
        Ok(front.trained(trained))
    }

    /// The model's config before training.
    fn finish(
        self,
        data: &Dataset,
        options: &FitOptions,
        source: &dyn NeighbourSource,
        graph: &NeighbourGraph,
    ) -> ModelConfig {
        ModelConfig {
            format: crate::model::MODEL_FORMAT,
            drlim_version: env!("CARGO_PKG_VERSION").to_string(),
            architecture: self.arch,
            input: self.input,
            seed: options.train.seed,
            training: serde_json::json!({
                "settings": options.train,
                "neighbours": source.describe(),
                "n_train": data.n,
                "neighbour_pairs": graph.len(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SourceDtype;

    fn points(n: usize) -> Dataset {
        let values = (0..n).map(|i| i as f32).collect();
        Dataset::new("line", values, n, vec![1], SourceDtype::F32).unwrap()
    }

    #[test]
    fn auto_neighbours_are_exact_up_to_the_stated_size_and_nndescent_above() {
        let options = FitOptions::default();
        assert_eq!(options.knn_method, KnnMethod::Auto);
        let at = |n| knn_source(&points(n), &options).unwrap().describe();
        assert!(
            at(AUTO_APPROXIMATE_ABOVE).starts_with("knn("),
            "{}",
            at(AUTO_APPROXIMATE_ABOVE)
        );
        let above = at(AUTO_APPROXIMATE_ABOVE + 1);
        assert!(above.starts_with("nndescent-knn("), "{above}");
        let exact = FitOptions {
            knn_method: KnnMethod::Exact,
            ..FitOptions::default()
        };
        let big = points(AUTO_APPROXIMATE_ABOVE + 1);
        assert!(knn_source(&big, &exact)
            .unwrap()
            .describe()
            .starts_with("knn("));
    }

    /// Two noisy directions in 6-D at varied lengths: what a cosine metric is for.
    fn directions(n: usize) -> Dataset {
        let values = (0..n * 6)
            .map(|i| {
                let (row, col) = (i / 6, i % 6);
                let length = 1.0 + (row % 7) as f32;
                let on = if row % 2 == 0 { col < 3 } else { col >= 3 };
                length * (if on { 1.0 } else { 0.1 } + 0.05 * ((i * 37 % 11) as f32))
            })
            .collect();
        Dataset::new("directions", values, n, vec![6], SourceDtype::F32).unwrap()
    }

    #[test]
    fn cosine_is_euclidean_on_unit_rows_in_the_graph_the_weights_and_the_map() {
        let data = directions(60);
        let mut unit = data.clone();
        Metric::Cosine.apply_rows(unit.values_mut(), 6);
        let options = |metric| {
            let mut o = crate::Preset::Auto.options(data.n, &data.shape);
            o.metric = metric;
            o.train.epochs = 2;
            o
        };
        let device = Device::flex();
        let cosine = fit(&data, &options(Metric::Cosine), &device, &mut crate::Silent).unwrap();
        let euclid = fit(
            &unit,
            &options(Metric::Euclidean),
            &device,
            &mut crate::Silent,
        )
        .unwrap();
        assert_eq!(cosine.graph.pairs(), euclid.graph.pairs());
        assert_eq!(cosine.model.net.weights(), euclid.model.net.weights());
        assert_eq!(cosine.model.config.input.metric, Metric::Cosine);
        // the model scales new samples too: a sample and its multiple land on one point
        let mut twice = data.clone();
        twice.values_mut().iter_mut().for_each(|v| *v *= 2.0);
        let a = cosine.model.embed(&data).unwrap();
        // the Euclidean model folds its normalisation into its first layer: equal to rounding
        for (x, y) in a.iter().zip(&euclid.model.embed(&unit).unwrap()) {
            assert!((x - y).abs() < 1e-5, "{x} {y}");
        }
        let b = cosine.model.embed(&twice).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{x} {y}");
        }
    }

    /// Two clusters spread along a few directions of 40-D space.
    fn wide(n: usize) -> Dataset {
        let values = (0..n * 40)
            .map(|i| {
                let (row, col) = (i / 40, i % 40);
                let t = ((row * 7919 + col * 104_729) % 1000) as f32 / 1000.0;
                let along = [(row % 13) as f32, (row % 5) as f32 * 0.5][col % 2];
                10.0 * (row % 2) as f32 + along * (1.0 + 0.1 * col as f32) + 0.3 * t
            })
            .collect();
        Dataset::new("wide", values, n, vec![40], SourceDtype::F32).unwrap()
    }

    /// Records each epoch's model input width and keeps the second epoch's checkpoint.
    #[derive(Default)]
    struct Widths(Vec<usize>, Option<(Checkpoint, NeighbourGraph)>);
    impl TrainObserver for Widths {
        fn on_epoch(&mut self, _r: &EpochReport, model: &Model) -> std::ops::ControlFlow<()> {
            self.0.push(model.config.architecture.input_dim());
            std::ops::ControlFlow::Continue(())
        }
        fn on_checkpoint(&mut self, checkpoint: &Checkpoint, graph: &NeighbourGraph) {
            if checkpoint.history.len() == 2 {
                self.1 = Some((checkpoint.clone(), graph.clone()));
            }
        }
    }

    #[test]
    fn the_pca_front_trains_narrow_folds_into_a_model_of_every_value_and_resumes() {
        let data = wide(90);
        let mut o = crate::Preset::Auto.options(data.n, &data.shape);
        o.pca = Some(5);
        o.train.epochs = 3;
        let device = Device::flex();
        let mut seen = Widths::default();
        let fitted = fit(&data, &o, &device, &mut seen).unwrap();
        // every model that leaves fit takes the 40 values; the record says how it trained
        assert_eq!(fitted.model.config.architecture.input_dim(), 40);
        assert_eq!(seen.0, [40, 40, 40]);
        assert_eq!(fitted.model.config.training["pca_components"], 5);
        // and maps as the narrow net did on the projected samples
        let (checkpoint, graph) = seen.1.take().expect("a second epoch");
        let narrow = fitted.checkpoint.as_ref().unwrap().model.clone();
        assert_eq!(narrow.config.architecture.input_dim(), 5);
        let rows = InputSpec::for_training_with(
            &fitted.model.config.architecture,
            &data,
            o.normalise,
            o.metric,
        )
        .unwrap()
        .normalised(&data);
        let threads = rayon::current_num_threads();
        let projected = crate::data::Projection::fit(&rows, 40, 5, o.train.seed, threads)
            .project(&rows, threads);
        let via_front = crate::embed::embed(&narrow.net, &projected, 5, &device);
        let folded = fitted.model.embed(&data).unwrap();
        for (a, b) in via_front.iter().zip(&folded) {
            assert!((a - b).abs() < 1e-3 * a.abs().max(1.0), "{a} {b}");
        }
        // resuming from the second epoch computes the same directions and ends where fit did
        let source = knn_source(&data, &o).unwrap();
        let resumed = fit_resume(
            &data,
            &o,
            source.as_ref(),
            checkpoint,
            graph,
            &device,
            &mut crate::Silent,
        )
        .unwrap();
        assert_eq!(resumed.model.net.weights(), fitted.model.net.weights());
        // no front: the network takes the 40 values throughout
        o.pca = None;
        let plain = fit(&data, &o, &device, &mut crate::Silent).unwrap();
        assert!(plain.model.config.training.get("pca_components").is_none());
        assert_ne!(plain.model.net.weights(), fitted.model.net.weights());
    }

    /// Bytes kept as bytes take the graph, the weights and the inputs from their bytes; the
    /// same values given as f32 take them from floats: the two give one model.
    #[test]
    fn u8_and_f32_samples_give_the_same_graph_and_model() {
        let (n, side) = (300, 8);
        let bytes: Vec<u8> = (0..n * side * side)
            .map(|i| {
                let (row, px) = (i / (side * side), i % (side * side));
                let blob = (px % side + px / side + row % 5) % 9;
                ((blob * 29 + (i * 7919) % 13) % 256) as u8
            })
            .collect();
        let u8s = Dataset::from_bytes("u8", bytes.clone(), n, vec![side, side]).unwrap();
        let floats = bytes.iter().map(|&b| f32::from(b)).collect();
        let f32s = Dataset::new("f32", floats, n, vec![side, side], SourceDtype::F32).unwrap();
        assert!(u8s.bytes().is_some() && f32s.bytes().is_none());
        let mut o = crate::Preset::Auto.options(n, &u8s.shape);
        o.knn_method = KnnMethod::NnDescent;
        o.train.epochs = 2;
        let device = Device::flex();
        let a = fit(&u8s, &o, &device, &mut crate::Silent).unwrap();
        let b = fit(&f32s, &o, &device, &mut crate::Silent).unwrap();
        assert_eq!(a.graph.pairs(), b.graph.pairs());
        assert_eq!(a.graph.weights(), b.graph.weights());
        assert!(
            a.graph.weights().is_some(),
            "fuzzy weights, as the preset has"
        );
        assert_eq!(a.model.net.weights(), b.model.net.weights());
        assert_eq!(a.model.embed(&u8s).unwrap(), b.model.embed(&f32s).unwrap());
        // prior knowledge: labels alone (counted, not read), and labels with the k-NN graph
        use crate::neighbours::{SameLabel, Union};
        let labels = || SameLabel {
            labels: (0..n as i64).map(|i| i % 7).collect(),
        };
        assert!(!labels().reads_samples());
        let knn = || NnDescentSource::new(5, n, 0);
        let union = Union(vec![Box::new(knn()), Box::new(labels())]);
        assert!(union.reads_samples());
        o.train.epochs = 1;
        for source in [&labels() as &dyn NeighbourSource, &union] {
            let a = fit_with(&u8s, &o, source, &device, &mut crate::Silent).unwrap();
            let b = fit_with(&f32s, &o, source, &device, &mut crate::Silent).unwrap();
            assert_eq!(a.graph.pairs(), b.graph.pairs(), "{}", source.describe());
            assert_eq!(a.model.net.weights(), b.model.net.weights());
        }
    }
}
