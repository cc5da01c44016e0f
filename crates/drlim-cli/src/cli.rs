//! Command-line definitions (clap derive).

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use drlim::defaults;

/// Learn low-dimensional invariant mappings with DrLIM (Hadsell, Chopra & LeCun, CVPR 2006).
#[derive(Parser, Debug)]
#[command(name = "drlim", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// Worker threads (default: all cores). The same seed and thread count give the same model.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Compute device: `cpu`, or `vulkan` in a build with `--features vulkan`.
    #[arg(long, global = true, default_value = "cpu")]
    pub device: String,
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "Examples:
  drlim demo                                   # the paper's three experiments on built-in data
  drlim fit --data train.npy --net conv --model-out model
  drlim embed --model model --data test.npy --out test_emb.npy
  drlim eval --embedding test_emb.npy --labels test_labels.npy \\
             --reference-embedding train_emb.npy --reference-labels train_labels.npy --data test.npy
  drlim plot --embedding test_emb.npy --labels test_labels.npy --out test.png";

/// The engine's error in this tool's words: a setting is named by its flag (`lr_decay` →
/// `--lr-decay`); every other error reads as the engine wrote it.
pub fn in_cli_terms(e: &drlim::Error) -> String {
    match e {
        drlim::Error::Setting { name, problem } => {
            format!("--{} {problem}", name.replace('_', "-"))
        }
        other => other.to_string(),
    }
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Learn a mapping G_W from the data's nearest-neighbour relations and save it.
    #[command(
        after_help = "Example:\n  drlim fit --data train.npy --net conv --model-out model\n  drlim fit --data vectors.csv --net mlp --hidden 64,64 --dim 2 --model-out model --embedding-out train_emb.npy\n  drlim fit --data images.npy --net mlp --hidden 512,512 --k 15 --augment shift=2,rotate=10,scale=0.1,shear=0.1,elastic=1 \\\n            --negatives batch --loss cauchy-infonce --batch 256 --lr 0.2 --lr-decay 0.93 --epochs 28 --model-out model"
    )]
    Fit(Box<FitArgs>),
    /// Map data with a trained model (new samples, out of sample).
    #[command(
        after_help = "Example:\n  drlim embed --model model --data test.npy --out test_emb.npy"
    )]
    Embed(EmbedArgs),
    /// Write a model as ONNX (opset 17): raw samples in (float32, any batch size), coordinates
    /// out, with the model's normalisation and the convnet's padding inside the graph.
    #[command(
        after_help = "Example:\n  drlim export --model model --out model.onnx\n  # then, in Python: onnxruntime.InferenceSession(\"model.onnx\").run(None, {\"input\": x.astype(\"float32\")})[0]"
    )]
    Export(ExportArgs),
    /// Measure an embedding: k-NN accuracy, trustworthiness, neighbour vs random distances.
    #[command(
        after_help = "Example:\n  drlim eval --embedding test_emb.npy --labels test_labels.npy \\\n             --reference-embedding train_emb.npy --reference-labels train_labels.npy --data test.npy"
    )]
    Eval(EvalArgs),
    /// Draw a scatter plot of an embedding (PNG or SVG), 2-D or, with --3d, three views in 3-D.
    #[command(
        after_help = "Examples:\n  drlim plot --embedding test_emb.npy --labels test_labels.npy --out test.svg\n  drlim plot --embedding emb3.npy --labels lighting.csv --3d --out views.png"
    )]
    Plot(PlotArgs),
    /// An interactive map in one self-contained HTML file (WebGL 2, opens offline in any
    /// browser): pan, zoom and (3-D) rotate; colour by labels or metadata; hover for the sample
    /// and its thumbnail; out-of-sample points over the training map; search; lasso selection.
    View(ViewArgs),
    /// Run the paper's three experiments on the built-in data, lighter than `drlim experiment`
    /// runs them (about 3 minutes on 2 cores); writes ./drlim-demo/ with index.md linking the
    /// three reports and saying how many epochs each ran.
    #[command(
        after_help = "Examples:\n  drlim demo\n  drlim demo --only mnist-4-9 --out demo49\n  drlim demo --quick   # a few epochs each: checks the pipeline, not the paper's results"
    )]
    Demo(DemoArgs),
    /// Run one experiment on the built-in data (the paper's three, or mnist-10 beyond the paper);
    /// writes figures, metrics.json and report.md.
    #[command(
        after_help = "Examples:\n  drlim experiment mnist-shift --out shift\n  drlim experiment mnist-10 --out ten   # declared invariances on all ten digits (about 10 minutes)"
    )]
    Experiment(ExperimentArgs),
    /// Render the NORB-like airplane set (972 views, 96×96: images.npy, metadata.csv, sheet.png),
    /// or many transformed built-in digits (images.npy, labels.npy).
    #[command(
        after_help = "Examples:\n  drlim render airplane --out airplane\n  drlim render digits --n 1000000 --out million   # shift=2,rotate=10,elastic=1 copies of the built-in digits"
    )]
    Render(RenderArgs),
    /// Measure training and inference throughput and the neighbour-graph build time.
    #[command(
        after_help = "Example:\n  drlim bench --net conv --batches 32,128,512 --seconds 5\n  drlim bench --knn 10000,100000"
    )]
    Bench(BenchArgs),
}

/// Network choice.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetArg {
    /// The paper's convnet for 28×28 (or 32×32) grey images.
    Conv,
    /// A fully connected network (see --hidden).
    Mlp,
}

/// Optimiser choice.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerArg {
    /// SGD with momentum (the paper's).
    Sgd,
    /// Adam.
    Adam,
}

impl From<OptimizerArg> for drlim::OptimizerKind {
    fn from(a: OptimizerArg) -> Self {
        match a {
            OptimizerArg::Sgd => drlim::OptimizerKind::Sgd,
            OptimizerArg::Adam => drlim::OptimizerKind::Adam,
        }
    }
}

/// A neighbour source.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceArg {
    /// The k nearest neighbours in input space.
    Knn,
    /// Samples with the same label.
    Labels,
    /// An explicit list of pairs.
    Pairs,
    /// Samples close in the file's order (time).
    Temporal,
    /// Samples one step apart on a metadata grid.
    Grid,
}

/// Nearest-neighbour search choice.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnnArg {
    /// Exact search up to 50,000 samples, NN-descent above.
    Auto,
    /// Exact search.
    Exact,
    /// Approximate search with an HNSW index.
    Hnsw,
    /// Approximate search by NN-descent (UMAP's), reproducible for a seed.
    Nndescent,
    /// Exact search under the declared invariances of --augment (images): the distance to a
    /// sample is the smallest to it or to its copies shifted by one pixel or rotated.
    Invariant,
}

impl From<KnnArg> for drlim::KnnMethod {
    fn from(a: KnnArg) -> Self {
        match a {
            KnnArg::Auto => drlim::KnnMethod::Auto,
            KnnArg::Exact => drlim::KnnMethod::Exact,
            KnnArg::Hnsw => drlim::KnnMethod::Hnsw,
            KnnArg::Nndescent => drlim::KnnMethod::NnDescent,
            KnnArg::Invariant => drlim::KnnMethod::Invariant,
        }
    }
}

/// How the k-NN pairs weigh.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnnWeightsArg {
    /// Every pair alike.
    Uniform,
    /// UMAP's fuzzy memberships.
    Fuzzy,
}

impl From<KnnWeightsArg> for drlim::KnnWeights {
    fn from(a: KnnWeightsArg) -> Self {
        match a {
            KnnWeightsArg::Uniform => drlim::KnnWeights::Uniform,
            KnnWeightsArg::Fuzzy => drlim::KnnWeights::Fuzzy,
        }
    }
}

/// Training implementation choice.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineArg {
    /// The fast CPU path where it applies, burn otherwise.
    Auto,
    /// burn's generic autodiff path.
    Burn,
}

impl From<EngineArg> for drlim::Engine {
    fn from(a: EngineArg) -> Self {
        match a {
            EngineArg::Auto => drlim::Engine::Auto,
            EngineArg::Burn => drlim::Engine::Burn,
        }
    }
}

/// Parses `--augment KEY=VALUE,…` (`none`: no declared invariances).
pub fn augmentation(spec: &str) -> drlim::Result<Option<drlim::Augmentation>> {
    if spec.trim() == "none" {
        return Ok(None);
    }
    drlim::Augmentation::parse(spec).map(Some)
}

/// Where non-neighbours come from.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegativesArg {
    /// --neg-ratio random non-neighbour pairs per neighbour pair (the paper's).
    Random,
    /// Every other sample of the batch, in the same forward pass.
    Batch,
}

impl From<NegativesArg> for drlim::Negatives {
    fn from(a: NegativesArg) -> Self {
        match a {
            NegativesArg::Random => drlim::Negatives::Random,
            NegativesArg::Batch => drlim::Negatives::Batch,
        }
    }
}

/// Loss choice.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossArg {
    /// The paper's contrastive loss.
    Contrastive,
    /// t-SimCNE's InfoNCE with a Cauchy kernel (needs --negatives batch).
    CauchyInfonce,
}

impl From<LossArg> for drlim::LossKind {
    fn from(a: LossArg) -> Self {
        match a {
            LossArg::Contrastive => drlim::LossKind::Contrastive,
            LossArg::CauchyInfonce => drlim::LossKind::CauchyInfonce,
        }
    }
}

/// Input normalisation choice.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormaliseArg {
    /// u8 data divided by 255, float data as it is.
    Auto,
    /// Values as they are.
    None,
    /// Divide by 255.
    Unit,
    /// Per-feature zero mean, unit variance.
    Standardise,
    /// Per-feature zero mean, all features divided by one scale (the root mean square):
    /// distances keep the data's proportions, whatever its units.
    Global,
}

impl From<NormaliseArg> for drlim::data::NormaliseMode {
    fn from(a: NormaliseArg) -> Self {
        match a {
            NormaliseArg::Auto => drlim::data::NormaliseMode::Auto,
            NormaliseArg::None => drlim::data::NormaliseMode::None,
            NormaliseArg::Unit => drlim::data::NormaliseMode::Unit,
            NormaliseArg::Standardise => drlim::data::NormaliseMode::Standardise,
            NormaliseArg::Global => drlim::data::NormaliseMode::Global,
        }
    }
}

/// A preset: a named set of defaults for the training flags.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresetArg {
    /// Settings for any data, from its size: an MLP 3 × 128 trained through a PCA front of 30
    /// components, 15 neighbours with fuzzy weights, batch non-neighbours with the Cauchy
    /// InfoNCE loss, noise and dropout on every arm, batch 256, lr 0.2 (less above 64 inputs)
    /// falling to a tenth, 24 epochs (fewer below 2,000 samples and above 10,000), `--normalise global`.
    Auto,
    /// The 2006 paper's: the convnet, 5 neighbours, random non-neighbours, the contrastive
    /// loss, batch 32, lr 0.005, 80 epochs, `--normalise auto` (the defaults before presets).
    Paper,
}

impl From<PresetArg> for drlim::Preset {
    fn from(a: PresetArg) -> Self {
        match a {
            PresetArg::Auto => drlim::Preset::Auto,
            PresetArg::Paper => drlim::Preset::Paper,
        }
    }
}

/// The input-space metric of the neighbour graph.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricArg {
    /// Euclidean distance.
    Euclidean,
    /// Cosine distance (each sample scaled to unit length, in the graph and in the model).
    Cosine,
    /// Correlation distance (each sample centred on its mean, then scaled to unit length).
    Correlation,
}

impl From<MetricArg> for drlim::data::Metric {
    fn from(a: MetricArg) -> Self {
        match a {
            MetricArg::Euclidean => drlim::data::Metric::Euclidean,
            MetricArg::Cosine => drlim::data::Metric::Cosine,
            MetricArg::Correlation => drlim::data::Metric::Correlation,
        }
    }
}

/// Training hyper-parameters of `fit`. A flag left out takes its value from --preset.
#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// The defaults of the flags left out: `auto` (for any data; the default) or `paper` (the
    /// 2006 paper's settings, as `drlim experiment` uses them).
    #[arg(long, value_enum, default_value_t = PresetArg::Auto)]
    pub preset: PresetArg,
    /// Output dimension d.
    #[arg(long, default_value_t = defaults::DIM)]
    pub dim: usize,
    /// Nearest neighbours per sample in input space [auto: 15; paper: 5].
    #[arg(long)]
    pub k: Option<usize>,
    /// The input-space distance of the k-NN graph: `euclidean`, `cosine` (what text and image
    /// embeddings usually want) or `correlation`. Cosine and correlation scale each sample to
    /// unit length (correlation centres it first), in the graph and in the model, which
    /// applies the same to every sample it maps.
    #[arg(long, value_enum, default_value_t = MetricArg::Euclidean)]
    pub metric: MetricArg,
    /// `auto` (exact up to 50,000 samples, nndescent above), `exact` (blocked GEMM distances:
    /// grows with n², reproducible bit for bit), `nndescent` (approximate, UMAP's method: about
    /// n log n, the same graph for a seed on any thread count), `hnsw` (approximate; the index is
    /// built in parallel, so the graph may differ slightly between runs), or `invariant` (exact,
    /// under the shifts and rotations declared with --augment).
    #[arg(long, value_enum, default_value_t = KnnArg::Auto)]
    pub knn: KnnArg,
    /// How the k-NN pairs weigh: `uniform` (every pair once per epoch, the paper's way) or
    /// `fuzzy` (UMAP's fuzzy memberships: each epoch draws as many pairs, each in proportion to
    /// its membership, so a sample's nearest neighbours count more than its farthest)
    /// [auto: fuzzy; paper: uniform].
    #[arg(long, value_enum)]
    pub knn_weights: Option<KnnWeightsArg>,
    /// Margin m of the contrastive loss.
    #[arg(long, default_value_t = defaults::MARGIN)]
    pub margin: f32,
    /// Random non-neighbour pairs per neighbour pair and epoch (with --negatives random).
    #[arg(long, default_value_t = defaults::NEG_RATIO)]
    pub neg_ratio: f64,
    /// Non-neighbours: `random` pairs (the paper's), or `batch`: every other sample of each
    /// batch, computed in the same forward pass [auto: batch; paper: random].
    #[arg(long, value_enum)]
    pub negatives: Option<NegativesArg>,
    /// The loss: the paper's `contrastive`, or `cauchy-infonce` (t-SimCNE's; with --negatives
    /// batch) [auto: cauchy-infonce; paper: contrastive].
    #[arg(long, value_enum)]
    pub loss: Option<LossArg>,
    /// Declared invariances, as KEY=VALUE,…: every arm of every pair becomes a freshly drawn
    /// transformed copy, and each sample is paired with a copy of itself. Images: shift=PIXELS,
    /// rotate=DEGREES, scale=FRACTION, shear=FACTOR, elastic=PIXELS, contrast=FRACTION; any data:
    /// noise=SD, dropout=PROBABILITY. Example: shift=2,rotate=10,scale=0.1,elastic=1. `none`:
    /// no transformations [auto: noise=0.3,dropout=0.1; paper: none].
    #[arg(long, value_name = "KEY=VALUE,…")]
    pub augment: Option<String>,
    /// Pairs of two transformed copies of one sample, per sample and epoch (with --augment).
    #[arg(long, default_value_t = defaults::AUGMENT_PAIRS)]
    pub augment_pairs: usize,
    /// Transform only the pairs of two copies of one sample; the graph's neighbour pairs then
    /// use the samples as they are (with --augment).
    #[arg(long)]
    pub augment_self_only: bool,
    /// Strength of the --augment transformations at the last epoch, as a fraction of the
    /// declared: they fall linearly from the declared strengths at the first epoch (1 keeps
    /// them constant). Strong invariances early shape the clusters, milder ones late let the
    /// map follow the samples' own neighbourhoods (higher trustworthiness).
    #[arg(long, default_value_t = 1.0, value_name = "FRACTION")]
    pub augment_final: f32,
    /// Epochs (passes over all neighbour pairs) [auto: 24 up to 10,000 samples and 8 above, as
    /// UMAP's 500 and 200; below 2,000 samples one per 80 samples, at least 12; paper: 80].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Pairs per SGD step [auto: 256; paper: 32].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Learning rate [auto: 0.2, × √(64/inputs) above 64 inputs; paper: 0.005].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Learning-rate multiplier per epoch [auto: falling to a tenth by the last epoch; paper: 1].
    #[arg(long)]
    pub lr_decay: Option<f64>,
    /// SGD momentum.
    #[arg(long, default_value_t = defaults::MOMENTUM)]
    pub momentum: f64,
    /// L2 weight decay.
    #[arg(long, default_value_t = defaults::WEIGHT_DECAY)]
    pub weight_decay: f64,
    /// Optimiser.
    #[arg(long, value_enum, default_value_t = OptimizerArg::Sgd)]
    pub optimizer: OptimizerArg,
    /// Seed of the initial weights and the pair sampling.
    #[arg(long, default_value_t = defaults::SEED)]
    pub seed: u64,
    /// Implementation: `auto` uses drlim's fast CPU path with SGD, burn otherwise (Adam);
    /// `burn` always uses burn's generic autodiff.
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `drlim fit`.
#[derive(Args, Debug)]
pub struct FitArgs {
    /// Training data: MNIST IDX (.gz or raw), NPY (u8/f32/f64; n×28×28, n×1×28×28 or n×D) or CSV.
    #[arg(long)]
    pub data: PathBuf,
    /// Labels (IDX, NPY or one-column CSV): the neighbours of `--neighbours labels`, and the
    /// training map's leave-one-out k-NN accuracy in the report.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// The network G_W [auto: mlp; paper: conv].
    #[arg(long, value_enum)]
    pub net: Option<NetArg>,
    /// Hidden layer widths of the mlp, comma-separated (the paper's NORB net: 20) [auto:
    /// 128,128,128; with --preset paper --net mlp: 256,256].
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Train the mlp's first layer on the top N principal components of the normalised samples
    /// (folded back afterwards: the model takes the full samples); 0: off. Faster, and less
    /// noise to fit, for wide vectors such as pixels [auto: 30; paper: 0].
    #[arg(long, value_name = "N")]
    pub pca: Option<usize>,
    /// Input normalisation (stored in the model and applied again by `embed`) [auto: global;
    /// paper: auto].
    #[arg(long, value_enum)]
    pub normalise: Option<NormaliseArg>,
    /// Model directory to write (model.safetensors + config.json).
    #[arg(long)]
    pub model_out: PathBuf,
    /// Also write the training data's embedding here (.npy, .csv or .parquet).
    #[arg(long)]
    pub embedding_out: Option<PathBuf>,
    /// Also write the neighbour pairs (i < j, 0-based, one per row) here (.npy or .csv), with
    /// each pair's weight as a third column under `--knn-weights fuzzy`.
    #[arg(long)]
    pub graph_out: Option<PathBuf>,
    /// Neighbour sources (prior knowledge), comma-separated; their union is used: `knn` (the k
    /// nearest neighbours in input space), `labels` (same --labels), `pairs` (--pairs FILE),
    /// `temporal` (samples within --window steps in file order), `grid` (--metadata, --grid).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "knn")]
    pub neighbours: Vec<SourceArg>,
    /// Explicit neighbour pairs: two integer columns of 0-based sample indices (CSV or NPY).
    #[arg(long)]
    pub pairs: Option<PathBuf>,
    /// For `temporal`: the largest step between neighbours.
    #[arg(long, default_value_t = 1)]
    pub window: usize,
    /// For `grid`: integer metadata per sample (CSV or NPY, one row per sample).
    #[arg(long)]
    pub metadata: Option<PathBuf>,
    /// For `grid`: the grid dimensions as COLUMN:STEP or COLUMN:STEP:PERIOD (0-based columns of
    /// --metadata; PERIOD makes it circular), e.g. `0:20:360,1:5` for azimuth and elevation.
    #[arg(long, value_delimiter = ',')]
    pub grid: Vec<String>,
    /// Checkpoint directory (default: MODEL_OUT.checkpoint), written every --checkpoint-every
    /// epochs and when training is interrupted (SIGINT, SIGTERM); removed once training
    /// completes. A checkpoint is a model directory too (`drlim embed` reads it).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Epochs between checkpoints (0: only when interrupted).
    #[arg(long, default_value_t = 1)]
    pub checkpoint_every: usize,
    /// Train on a random sample of N of the samples (drawn with --seed, kept in file order),
    /// then map all of them for --embedding-out: the practice for data too large to train on
    /// (the map is a function; fit it on a sample, embed everything).
    #[arg(long, value_name = "N")]
    pub fit_sample: Option<usize>,
    /// Go on from a checkpoint of an interrupted `drlim fit` given the same data and flags
    /// (--epochs may be raised): the model at the end is bit-identical to that of an
    /// uninterrupted run with the same seed and --threads.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// At the end, print each stage's wall time and the peak memory (RSS) reached by its end:
    /// load, neighbour graph, pairs and setup, training, embedding, saving; and, before the
    /// work, the estimated peak memory and what is available.
    #[arg(long)]
    pub timings: bool,
    /// Refuse to start when the estimated peak memory exceeds SIZE (e.g. 4G, 3.5GB, 512MiB;
    /// K/M/G/T are powers of 1000, KiB/MiB/GiB/TiB of 1024). Without it, the limit is the
    /// memory available (the cgroup's limit, or MemAvailable); giving it replaces that limit.
    #[arg(long, value_name = "SIZE", value_parser = drlim::memory::parse_size)]
    pub max_memory: Option<u64>,
    #[command(flatten)]
    pub train: TrainArgs,
}

/// `drlim embed`.
#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Model directory written by `drlim fit`.
    #[arg(long)]
    pub model: PathBuf,
    /// Data to map, in the training data's sample shape.
    #[arg(long)]
    pub data: PathBuf,
    /// Output file: .npy (f32, n×d), .csv or .parquet (columns x0, x1, …, with --labels and
    /// --meta alongside; pandas, Polars, DuckDB, Spark and Embedding Atlas read it as it is).
    #[arg(long)]
    pub out: PathBuf,
    /// Labels of the samples, written as a column `label` (Parquet output).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Metadata of the samples (CSV with a header row, one row per sample), written as columns
    /// beside the coordinates (Parquet output).
    #[arg(long)]
    pub meta: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `drlim export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Model directory written by `drlim fit`.
    #[arg(long)]
    pub model: PathBuf,
    /// The ONNX file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `drlim eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The embedding to measure (.npy or .csv, n×d).
    #[arg(long)]
    pub embedding: PathBuf,
    /// Its labels: k-NN accuracy against the reference embedding (or leave-one-out without one).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Reference embedding (e.g. the training set's) for k-NN classification of the embedding.
    #[arg(long, requires = "reference_labels")]
    pub reference_embedding: Option<PathBuf>,
    /// Labels of the reference embedding.
    #[arg(long, requires = "reference_embedding")]
    pub reference_labels: Option<PathBuf>,
    /// The embedded samples' input data: enables trustworthiness and neighbour-vs-random distances.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Neighbours of the k-NN classifier and of the input-space neighbour pairs.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Neighbours of the trustworthiness measure.
    #[arg(long, default_value_t = 10)]
    pub trust_k: usize,
    /// Also write the metrics as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// `drlim plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// The embedding (.npy or .csv, n×d with d ≥ 2; the first two coordinates are drawn, or
    /// the first three with --3d).
    #[arg(long)]
    pub embedding: PathBuf,
    /// Draw the first three coordinates in 3-D, seen from three viewpoints side by side.
    #[arg(long = "3d")]
    pub three_d: bool,
    /// Labels to colour the points by.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Output image: .png or .svg.
    #[arg(long)]
    pub out: PathBuf,
    /// Plot title.
    #[arg(long, default_value = "DrLIM embedding")]
    pub title: String,
}

/// `drlim view`.
#[derive(Args, Debug)]
#[command(after_help = VIEW_SIZE_BUDGET)]
pub struct ViewArgs {
    /// The training map: an embedding (.npy or .csv, n×2 or n×3), e.g. `drlim fit
    /// --embedding-out`'s, or a Parquet table of `drlim embed` (x0, x1[, x2] and its other
    /// columns, which colour the map and show on hover).
    #[arg(long)]
    pub embedding: PathBuf,
    /// Labels of its points (IDX, NPY or one CSV column): a column named `label`.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Metadata of its points: a CSV file with a header row, one row per point; each column
    /// can colour the map and shows on hover (numbers get a colour bar, text and whole numbers
    /// with at most 64 values a legend).
    #[arg(long)]
    pub meta: Option<PathBuf>,
    /// The samples themselves, for the hover card: images (IDX, or NPY n×h×w) show as
    /// thumbnails, vectors as their first 12 values.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Show vector samples as images of this shape (e.g. 28x28).
    #[arg(long, value_parser = image_shape)]
    pub image_shape: Option<(usize, usize)>,
    /// The values of vector samples a hover card shows, 0-based and comma-separated (at most
    /// 12; default: the first 12).
    #[arg(long, value_delimiter = ',')]
    pub show_values: Vec<usize>,
    /// Out-of-sample points (`drlim embed`'s output), drawn as rings over the training map.
    #[arg(long)]
    pub new: Option<PathBuf>,
    /// Labels of the out-of-sample points.
    #[arg(long, requires = "new")]
    pub new_labels: Option<PathBuf>,
    /// Metadata of the out-of-sample points (CSV with a header row).
    #[arg(long, requires = "new")]
    pub new_meta: Option<PathBuf>,
    /// The out-of-sample samples, for their hover cards.
    #[arg(long, requires = "new")]
    pub new_data: Option<PathBuf>,
    /// A metadata column of angles, coloured on a wheel: NAME=PERIOD (e.g. azimuth=360);
    /// may be repeated.
    #[arg(long, value_parser = circular_column)]
    pub circular: Vec<(String, f64)>,
    /// The HTML file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// The page's title.
    #[arg(long, default_value = "DrLIM map")]
    pub title: String,
    /// Refuse to write a file larger than this many MB (a browser tab struggles past a few
    /// hundred).
    #[arg(long, default_value_t = 512)]
    pub max_mb: u64,
    /// Thumbnails for at most this many points of a layer (past it, every k-th point).
    #[arg(long, default_value_t = drlim::view::DEFAULT_MAX_THUMBNAILS)]
    pub max_thumbnails: usize,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

const VIEW_SIZE_BUDGET: &str = "Size budget: a 2-D point takes 10.7 bytes of the file (3-D: 16), \
each category column 1.3 more per point (up to 256 categories), each numeric column 5.3, \
vector samples 5.3 per value shown (at most 12), image thumbnails about 0.2-1 byte per pixel \
(PNG, at most 32x32 pixels each). 1,000,000 labelled 2-D points make a file of about 12 MB. \
Past --max-mb nothing is written.";

fn image_shape(s: &str) -> Result<(usize, usize), String> {
    let (h, w) = s
        .split_once(['x', 'X', '×'])
        .ok_or_else(|| format!("'{s}': give the shape as HEIGHTxWIDTH, e.g. 28x28"))?;
    let p = |v: &str| v.trim().parse::<usize>().ok().filter(|&v| v > 0);
    match (p(h), p(w)) {
        (Some(h), Some(w)) => Ok((h, w)),
        _ => Err(format!("'{s}': give the shape as HEIGHTxWIDTH, e.g. 28x28")),
    }
}

fn circular_column(s: &str) -> Result<(String, f64), String> {
    let (name, period) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}': give NAME=PERIOD, e.g. azimuth=360"))?;
    match period.trim().parse::<f64>() {
        Ok(p) if p.is_finite() && p > 0.0 => Ok((name.trim().to_string(), p)),
        _ => Err(format!("'{s}': the period must be a positive number")),
    }
}

/// `drlim demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output folder (one subfolder per experiment, and index.md).
    #[arg(long, default_value = "drlim-demo")]
    pub out: PathBuf,
    /// Run only these experiments (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = experiment_names(true))]
    pub only: Vec<String>,
    /// A few epochs per run: checks the whole pipeline in about a minute, but the maps and
    /// figures are not the paper's results (index.md says so).
    #[arg(long)]
    pub quick: bool,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Which nets `bench` measures.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchNet {
    /// The paper's convnet.
    Conv,
    /// The 784-256-256-2 MLP.
    Mlp,
    /// Both.
    Both,
    /// Neither (only --knn).
    None,
}

/// `drlim bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Nets to measure.
    #[arg(long, value_enum, default_value_t = BenchNet::Both)]
    pub net: BenchNet,
    /// Pair batch sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "32,128,512")]
    pub batches: Vec<usize>,
    /// Images per inference call.
    #[arg(long, default_value_t = 1024)]
    pub infer_batch: usize,
    /// Timed seconds per measurement.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Untimed warm-up seconds per measurement.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Training implementation.
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,
    /// Declared invariances applied to both arms (as `fit --augment`), to measure their cost.
    #[arg(long, value_name = "KEY=VALUE,…")]
    pub augment: Option<String>,
    /// Non-neighbours (as `fit --negatives`).
    #[arg(long, value_enum, default_value_t = NegativesArg::Random)]
    pub negatives: NegativesArg,
    /// The loss (as `fit --loss`).
    #[arg(long, value_enum, default_value_t = LossArg::Contrastive)]
    pub loss: LossArg,
    /// Also measure the SGEMM peak with an n×n×n product (e.g. 1024).
    #[arg(long)]
    pub gemm: Option<usize>,
    /// With --knn: also build the graph with HNSW and report its recall@5 against the exact one.
    #[arg(long)]
    pub hnsw: bool,
    /// Also time the exact 5-NN graph of this many 784-pixel digits (the built-in 10,000, with
    /// shifted copies beyond that), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub knn: Vec<usize>,
    /// Build the k-NN graph of the samples in FILE (IDX, NPY or CSV; u8 values ÷ 255) with each
    /// of --graph-methods, and report each build's time, its recall@k over 2,000 random samples
    /// against exact search, and the peak memory after it.
    #[arg(long, value_name = "FILE")]
    pub knn_data: Option<PathBuf>,
    /// Neighbours per sample for --knn-data.
    #[arg(long, default_value_t = 5)]
    pub k: usize,
    /// Graph builders for --knn-data, in this order, comma-separated: `nndescent`, `hnsw`.
    #[arg(long, value_delimiter = ',', default_value = "nndescent")]
    pub graph_methods: Vec<String>,
}

/// The experiments' names, each with its one-line description, from the registry.
fn experiment_names(demo_only: bool) -> PossibleValuesParser {
    PossibleValuesParser::new(
        drlim_paper::registry::EXPERIMENTS
            .iter()
            .filter(|e| e.in_demo || !demo_only)
            .map(|e| PossibleValue::new(e.name).help(e.about)),
    )
}

/// `drlim experiment`.
#[derive(Args, Debug)]
pub struct ExperimentArgs {
    /// Which experiment.
    #[arg(value_parser = experiment_names(false))]
    pub name: String,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Epochs of each training run (default: the experiment's own, stated in its report).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Learning rate of each training run (default: the experiment's own, stated in its report).
    #[arg(long)]
    pub lr: Option<f64>,
    /// mnist-4-9 only: skip the second run with declared invariances (the paper's run alone).
    #[arg(long)]
    pub paper_only: bool,
    /// mnist-10 and mnist-4-9: the strength of the declared transformations at the last epoch
    /// of the invariance run, as a fraction of the declared (as `drlim fit --augment-final`;
    /// default: constant strengths).
    #[arg(long, value_name = "FRACTION")]
    pub augment_final: Option<f32>,
    /// mnist-10 and mnist-4-9: how the invariance run's k-NN pairs weigh (as `drlim fit
    /// --knn-weights`; default: uniform).
    #[arg(long, value_enum)]
    pub knn_weights: Option<KnnWeightsArg>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// airplane only: hold out whole poses (all their lightings), or random views.
    #[arg(long, value_enum)]
    pub split: Option<AirplaneSplit>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

/// How `experiment airplane` splits its 972 views into 660 training and 312 test views.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AirplaneSplit {
    /// 52 whole poses held out: every test view shows a pose never seen in training (default).
    Pose,
    /// 312 random views held out: most test poses are seen in training under other lightings.
    Image,
}

/// What `render` draws.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderName {
    /// The airplane at 18 azimuths × 9 elevations × 6 lightings.
    Airplane,
    /// --n digits: the built-in 10,000 over and over, each under a freshly drawn --augment
    /// (images.npy, u8 n×28×28, and labels.npy), for measuring at scale.
    Digits,
}

/// `drlim render`.
#[derive(Args, Debug)]
pub struct RenderArgs {
    /// What to render.
    #[arg(value_enum)]
    pub name: RenderName,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// digits: how many to make.
    #[arg(long, default_value_t = 1_000_000)]
    pub n: usize,
    /// digits: the transformation drawn for each (as `drlim fit --augment`).
    #[arg(long, default_value = drlim_paper::many_digits::DEFAULT_MANY_DIGITS_AUGMENT)]
    pub augment: String,
    /// digits: the seed of the transformations.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}
