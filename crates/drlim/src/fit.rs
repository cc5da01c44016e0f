//! The whole fitting pipeline in one call: data → neighbours → pairs → model → training, and
//! the [`Model`] handle that saves, loads and embeds.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;

use crate::data::{Dataset, NormaliseMode};
use crate::embed::{embed, embed_fast};
use crate::error::Result;
use crate::fast::fast_net;
use crate::model::{
    input_image, load_model, save_model, Architecture, InputSpec, ModelConfig, Net,
};
use crate::neighbours::{
    HnswKnnSource, InvariantKnnSource, KnnSource, NeighbourGraph, NeighbourSource, Points,
};
use crate::train::{train, EpochReport, TrainConfig, TrainObserver};

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
    /// Exact, by blocked GEMM distances.
    #[default]
    Exact,
    /// Approximate, with an HNSW index (for large n; not bit-for-bit reproducible).
    Hnsw,
    /// Exact, under the declared invariances of `TrainConfig::augment` (images): the distance
    /// to a sample is the smallest distance to it or to its copies shifted by one pixel or
    /// rotated by the declared angle ([`InvariantKnnSource`]).
    Invariant,
}

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
    /// Input normalisation.
    pub normalise: NormaliseMode,
    /// Training settings.
    pub train: TrainConfig,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            net: NetKind::Conv,
            dim: 2,
            k: 5,
            knn_method: KnnMethod::Exact,
            normalise: NormaliseMode::Auto,
            train: TrainConfig::default(),
        }
    }
}

/// A trained mapping: the network and its configuration.
pub struct Model {
    /// G_W.
    pub net: Net,
    /// Architecture, input specification and training record.
    pub config: ModelConfig,
}

impl Model {
    /// Loads a model directory onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (net, config) = load_model(dir, device)?;
        Ok(Self { net, config })
    }

    /// Saves into a model directory (created if missing; files written atomically).
    pub fn save(&self, dir: &Path) -> Result<()> {
        save_model(dir, &self.net, &self.config)
    }

    /// Output dimension d.
    pub fn dim(&self) -> usize {
        self.config.architecture.dim()
    }

    /// Maps new samples (out of sample) to `data.n × d` output coordinates. `origin` names the
    /// data in errors (for instance when its shape differs from the training data's).
    pub fn embed(&self, data: &Dataset, origin: &str) -> Result<Vec<f32>> {
        let arch = &self.config.architecture;
        let inputs = self.config.input.prepare(arch, data, origin)?;
        let net = self.net.valid();
        let device = net
            .devices()
            .into_iter()
            .next()
            .unwrap_or_else(Device::flex);
        if device == Device::flex() {
            return Ok(embed_fast(fast_net(&net), &inputs, arch.input_dim()));
        }
        Ok(embed(&net, &inputs, arch.input_dim(), &device))
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
    /// Set when training diverged (the model is then the last good one).
    pub diverged: Option<crate::Error>,
}

/// Learns a mapping of `data` (named `origin` in errors) with the k-NN neighbour graph of
/// `options` (exact or HNSW).
pub fn fit(
    data: &Dataset,
    origin: &str,
    options: &FitOptions,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<Fitted> {
    let source = knn_source(data, origin, options)?;
    fit_with(data, origin, options, source.as_ref(), device, observer)
}

/// The k-nearest-neighbour source that `options` asks for (exact, HNSW, or exact under the
/// declared invariances): the one place where that choice is made.
pub fn knn_source(
    data: &Dataset,
    origin: &str,
    options: &FitOptions,
) -> Result<Box<dyn NeighbourSource>> {
    Ok(match options.knn_method {
        KnnMethod::Exact => Box::new(KnnSource { k: options.k }),
        KnnMethod::Hnsw => Box::new(HnswKnnSource::new(options.k)),
        KnnMethod::Invariant => {
            let [h, w] = data.shape[..] else {
                return Err(crate::Error::data(
                    origin,
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
/// The source sees the normalised data.
pub fn fit_with(
    data: &Dataset,
    origin: &str,
    options: &FitOptions,
    source: &dyn NeighbourSource,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<Fitted> {
    options.train.validate()?;
    if options.dim == 0 {
        return Err(crate::Error::param("--dim must be at least 1"));
    }
    let arch = match &options.net {
        NetKind::Conv => Architecture::Conv { dim: options.dim },
        NetKind::Mlp { hidden } => Architecture::Mlp {
            input_dim: data.dim(),
            hidden: hidden.clone(),
            dim: options.dim,
        },
    };
    let input = InputSpec::for_training(&arch, data, options.normalise, origin)?;
    let image = input_image(&arch, &data.shape);
    // checked before the graph is built, and naming the data
    if let Some(aug) = options.train.augment.as_ref().filter(|a| a.is_geometric()) {
        if image.is_none() {
            return Err(crate::Error::data(
                origin,
                format!(
                    "augmentation {} moves pixels, but the samples are vectors of shape {:?}, not images; use noise and dropout for vectors",
                    aug.describe(),
                    data.shape
                ),
            ));
        }
    }
    let normalised = input.normalisation.apply(data);
    let t0 = Instant::now();
    let graph = source.graph(&Points::new(&normalised, data.dim()))?;
    let graph_seconds = t0.elapsed().as_secs_f64();
    observer.on_graph(graph.len(), &source.describe(), graph_seconds);
    let inputs = input.prepare(&arch, data, origin)?;
    let trained = train(
        &arch,
        &inputs,
        image,
        &graph,
        &options.train,
        device,
        observer,
    )?;
    let training = serde_json::json!({
        "settings": options.train,
        "neighbours": source.describe(),
        "n_train": data.n,
        "neighbour_pairs": graph.len(),
        "epochs_completed": trained.history.len(),
        "final_loss": trained.history.last().map(|r| r.loss),
        "diverged": trained.diverged.as_ref().map(|e| e.to_string()),
    });
    let config = ModelConfig {
        drlim_version: env!("CARGO_PKG_VERSION").to_string(),
        architecture: arch,
        input,
        seed: options.train.seed,
        training,
    };
    Ok(Fitted {
        model: Model {
            net: trained.net.valid(),
            config,
        },
        graph,
        history: trained.history,
        graph_seconds,
        diverged: trained.diverged,
    })
}
