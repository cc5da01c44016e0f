//! `fit` from Python: settings from JSON, training on a thread pool without the GIL, Ctrl-C
//! and callbacks, results as numpy arrays.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};
use std::time::Duration;

use drlim::data::{Metric, NormaliseMode};
use drlim::{
    Augmentation, Engine, EpochReport, FitOptions, KnnMethod, KnnWeights, LossKind,
    Model as EngineModel, Negatives, OptimizerKind, Outcome, Preset, TrainObserver,
};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde::Deserialize;

use crate::convert::{int_rows, Rows};
use crate::errors::{guarded, panic_message, to_py, Failure, Kind};
use crate::sources::{self, Knowledge};
use crate::Model;

/// The estimator's settings, as the Python layer sends them (JSON, engine names); a setting
/// left `null` takes the preset's value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    preset: String,
    net: Option<String>,
    hidden: Option<Vec<usize>>,
    pca: Option<usize>,
    dim: usize,
    k: Option<usize>,
    knn: String,
    knn_weights: Option<String>,
    metric: String,
    normalise: Option<String>,
    neighbours: Vec<String>,
    window: usize,
    grid: Vec<(i64, i64, Option<i64>)>,
    epochs: Option<usize>,
    batch: Option<usize>,
    lr: Option<f64>,
    lr_decay: Option<f64>,
    momentum: f64,
    weight_decay: f64,
    optimizer: OptimizerKind,
    margin: f32,
    neg_ratio: f64,
    negatives: Option<Negatives>,
    loss: Option<LossKind>,
    seed: u64,
    engine: Engine,
    augment: Option<String>,
    augment_pairs: usize,
    augment_neighbours: bool,
    augment_final: f32,
}

fn bad(what: &str, v: &str, choices: &str) -> PyErr {
    PyValueError::new_err(format!("{what} must be one of {choices}, got '{v}'"))
}

impl Settings {
    /// The options for `data`: the preset's for its size, with every setting given put over
    /// them.
    fn options(&self, data: &drlim::Dataset) -> PyResult<FitOptions> {
        let preset = Preset::parse(&self.preset)
            .map_err(|_| bad("preset", &self.preset, "'auto', 'paper'"))?;
        let mut o = preset.options(data.n, &data.shape);
        if let Some(epochs) = self.epochs {
            preset.set_epochs(&mut o, epochs);
        }
        let conv = match self.net.as_deref() {
            None => None,
            Some("mlp") => Some(false),
            Some("conv") => Some(true),
            Some(v) => return Err(bad("net", v, "'mlp', 'conv'")),
        };
        if self.hidden.as_ref().is_some_and(|h| h.contains(&0)) {
            return Err(PyValueError::new_err(
                "hidden: every layer needs a width ≥ 1",
            ));
        }
        o.net = drlim::preset::chosen_net(&o.net, conv, self.hidden.clone());
        o.dim = self.dim;
        o.k = self.k.unwrap_or(o.k);
        o.knn_method = match self.knn.as_str() {
            "auto" => KnnMethod::Auto,
            "exact" => KnnMethod::Exact,
            "hnsw" => KnnMethod::Hnsw,
            "nndescent" => KnnMethod::NnDescent,
            "invariant" => KnnMethod::Invariant,
            v => {
                return Err(bad(
                    "knn",
                    v,
                    "'auto', 'exact', 'hnsw', 'nndescent', 'invariant'",
                ))
            }
        };
        o.knn_weights = match self.knn_weights.as_deref() {
            None if self.neighbours == ["knn"] => o.knn_weights,
            None | Some("uniform") => KnnWeights::Uniform,
            Some("fuzzy") => KnnWeights::Fuzzy,
            Some(v) => return Err(bad("knn_weights", v, "'uniform', 'fuzzy'")),
        };
        o.metric = Metric::parse(&self.metric).ok_or_else(|| {
            bad(
                "metric",
                &self.metric,
                "'euclidean', 'cosine', 'correlation'",
            )
        })?;
        o.normalise = match self.normalise.as_deref() {
            None => o.normalise,
            Some("auto") => NormaliseMode::Auto,
            Some("none") => NormaliseMode::None,
            Some("unit") => NormaliseMode::Unit,
            Some("standardise" | "standardize") => NormaliseMode::Standardise,
            Some("global") => NormaliseMode::Global,
            Some(v) => {
                return Err(bad(
                    "normalise",
                    v,
                    "'auto', 'none', 'unit', 'standardise', 'global'",
                ))
            }
        };
        if self.pca.is_some() {
            preset.set_pca(&mut o, self.pca, data.dim());
        }
        let t = &mut o.train;
        t.batch = self.batch.unwrap_or(t.batch);
        t.lr = self.lr.unwrap_or(t.lr);
        t.lr_decay = self.lr_decay.unwrap_or(t.lr_decay);
        t.momentum = self.momentum;
        t.weight_decay = self.weight_decay;
        t.optimizer = self.optimizer;
        t.margin = self.margin;
        t.neg_ratio = self.neg_ratio;
        t.seed = self.seed;
        t.engine = self.engine;
        t.augment = match self.augment.as_deref() {
            None => t.augment.take(),
            Some("none") => None,
            Some(spec) => Some(
                Augmentation::parse(spec)
                    .map_err(|e| PyValueError::new_err(format!("augment: {e}")))?,
            ),
        };
        t.augment_pairs = self.augment_pairs;
        t.augment_neighbours = self.augment_neighbours;
        t.augment_final = self.augment_final;
        t.negatives = self.negatives.unwrap_or(t.negatives);
        t.loss = match (self.loss, self.negatives) {
            (Some(loss), _) => loss,
            // random non-neighbour pairs go with the contrastive loss
            (None, Some(Negatives::Random)) => LossKind::Contrastive,
            (None, _) => t.loss,
        };
        Ok(o)
    }
}

/// A thread pool of `n_jobs` threads (scikit-learn's convention: `None` and -1 are all cores,
/// -2 all but one), kept for the next call with as many: starting threads costs about 50 µs,
/// as much as embedding a few samples. A process forked afterwards has none of the threads, so
/// it leaks the parent's pools (never touches them) and starts its own.
pub fn pool(n_jobs: Option<i64>) -> PyResult<Arc<rayon::ThreadPool>> {
    // read once: on Linux the answer comes from cgroup files, about 30 µs a call
    static CORES: OnceLock<i64> = OnceLock::new();
    let cores =
        *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |c| c.get()) as i64);
    let threads = match n_jobs {
        None => cores,
        Some(0) => {
            return Err(PyValueError::new_err(
                "n_jobs == 0 has no meaning; use None, a positive number or -1",
            ))
        }
        Some(j) if j < 0 => (cores + 1 + j).max(1),
        Some(j) => j,
    } as usize;
    type Pools = (u32, BTreeMap<usize, Arc<rayon::ThreadPool>>);
    static POOLS: Mutex<Pools> = Mutex::new((0, BTreeMap::new()));
    let start = || {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("drlim-{i}"))
            .build()
            .map(Arc::new)
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start {threads} threads: {e}")))
    };
    // a lock held by another thread when the process forked stays held in the child
    let mut kept = match POOLS.try_lock() {
        Ok(kept) => kept,
        Err(TryLockError::Poisoned(p)) => p.into_inner(),
        Err(TryLockError::WouldBlock) => return start(),
    };
    let pid = std::process::id();
    if kept.0 != pid {
        std::mem::forget(std::mem::take(&mut kept.1));
        kept.0 = pid;
    }
    if let Some(pool) = kept.1.get(&threads) {
        return Ok(pool.clone());
    }
    let pool = start()?;
    kept.1.insert(threads, pool.clone());
    Ok(pool)
}

/// Training's observer from Python: stops when asked (Ctrl-C seen by the waiting thread) and
/// hands each epoch's report to `callback`, which may stop training by raising.
struct Watch<'a> {
    stop: &'a AtomicBool,
    callback: Option<&'a Py<PyAny>>,
    /// The callback's exception.
    raised: Option<PyErr>,
}

impl TrainObserver for Watch<'_> {
    fn on_progress(&mut self, _: usize, _: usize, _: usize, _: f32) -> ControlFlow<()> {
        if self.stop.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn on_epoch(&mut self, report: &EpochReport, _model: &EngineModel) -> ControlFlow<()> {
        if let Some(cb) = self.callback {
            let called = Python::attach(|py| {
                cb.call1(
                    py,
                    (
                        report.epoch,
                        report.loss,
                        report.lr,
                        report.pairs,
                        report.seconds,
                    ),
                )
                .map(drop)
            });
            if let Err(e) = called {
                self.raised = Some(e);
                return ControlFlow::Break(());
            }
        }
        if self.stop.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// What a fit gives Python: the model, the training embedding (n×d), the neighbour pairs
/// (m×2, i < j) and their weights (m, if the graph has them), the epochs' `(epoch, loss, lr,
/// pairs, seconds)`, the graph's build time and the neighbour source's description.
type Fitted<'py> = (
    Model,
    Bound<'py, PyArray2<f32>>,
    Bound<'py, PyArray2<i64>>,
    Option<Bound<'py, PyArray1<f32>>>,
    Vec<(usize, f32, f64, usize, f64)>,
    f64,
    String,
);

/// Fits a mapping of `x` with `settings` (JSON), on `n_jobs` threads without the GIL.
/// `labels`, `pairs` and `metadata` are int64 arrays for the sources that use them;
/// `callback(epoch, loss, lr, pairs, seconds)` is called after every epoch.
#[pyfunction]
#[pyo3(signature = (x, settings, *, labels = None, pairs = None, metadata = None, callback = None, n_jobs = None))]
#[allow(clippy::too_many_arguments)]
pub fn fit<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    settings: &str,
    labels: Option<&Bound<'py, PyAny>>,
    pairs: Option<&Bound<'py, PyAny>>,
    metadata: Option<&Bound<'py, PyAny>>,
    callback: Option<Py<PyAny>>,
    n_jobs: Option<i64>,
) -> PyResult<Fitted<'py>> {
    let s: Settings = serde_json::from_str(settings)
        .map_err(|e| PyValueError::new_err(format!("settings: {e}")))?;
    let data = Rows::from_py(x, "X")?
        .into_dataset("X")
        .map_err(|e| to_py(e, Kind::Data))?;
    let options = s.options(&data)?;
    let labels = labels
        .map(|l| int_rows(l, "y").map(|(v, _)| v))
        .transpose()?;
    let pairs = pairs
        .map(|p| {
            let (v, shape) = int_rows(p, "pairs")?;
            if shape.len() != 2 || shape[1] != 2 {
                return Err(PyValueError::new_err(format!(
                    "pairs: expected an m×2 array of sample indices, got shape {shape:?}"
                )));
            }
            Ok(v.chunks_exact(2).map(|r| (r[0], r[1])).collect())
        })
        .transpose()?;
    let metadata = metadata
        .map(|m| {
            let (v, shape) = int_rows(m, "metadata")?;
            match shape[..] {
                [_, c] if c > 0 => Ok(v.chunks_exact(c).map(<[i64]>::to_vec).collect()),
                _ => Err(PyValueError::new_err(format!(
                    "metadata: expected an n×c array of whole numbers, got shape {shape:?}"
                ))),
            }
        })
        .transpose()?;
    let knowledge = Knowledge {
        neighbours: s.neighbours.clone(),
        labels,
        pairs,
        metadata,
        grid: s.grid.clone(),
        window: s.window,
    };
    let pool = pool(n_jobs)?;
    let stop = AtomicBool::new(false);
    let mut interrupt: Option<PyErr> = None;
    let (result, raised) = std::thread::scope(|scope| {
        let work = scope.spawn(|| {
            let mut watch = Watch {
                stop: &stop,
                callback: callback.as_ref(),
                raised: None,
            };
            let result = pool.install(|| {
                guarded(|| {
                    let source = sources::build(&knowledge, &data, &options)?;
                    let fitted = drlim::fit_with(
                        &data,
                        &options,
                        source.as_ref(),
                        &drlim::Device::flex(),
                        &mut watch,
                    )?;
                    let embedding = match fitted.outcome {
                        Outcome::Completed => fitted.model.embed(&data)?,
                        _ => Vec::new(),
                    };
                    Ok((fitted, embedding, source.describe()))
                })
            });
            (result, watch.raised)
        });
        // wait without the GIL, and look for Ctrl-C (only this, the main thread, can)
        loop {
            let finished = py.detach(|| {
                for _ in 0..5 {
                    if work.is_finished() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                work.is_finished()
            });
            if finished {
                break;
            }
            if interrupt.is_none() {
                if let Err(e) = py.check_signals() {
                    stop.store(true, Ordering::Relaxed);
                    interrupt = Some(e);
                }
            }
        }
        match work.join() {
            Ok(r) => r,
            Err(payload) => (Err(Failure::Panic(panic_message(payload.as_ref()))), None),
        }
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    if let Some(e) = raised {
        return Err(e);
    }
    let (fitted, embedding, described) = result.map_err(|e| to_py(e, Kind::Data))?;
    match fitted.outcome {
        Outcome::Completed => {}
        Outcome::Stopped { .. } => {
            return Err(PyRuntimeError::new_err(
                "training stopped before it completed",
            ))
        }
        Outcome::Diverged { .. } => {
            return Err(to_py(
                fitted
                    .outcome
                    .check()
                    .expect_err("a divergence is an error"),
                Kind::Data,
            ))
        }
    }
    let d = fitted.model.dim();
    let n = data.n;
    let embedding = embedding
        .into_pyarray(py)
        .reshape([n, d])
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let m = fitted.graph.len();
    let pairs: Vec<i64> = fitted
        .graph
        .pairs()
        .iter()
        .flat_map(|&(i, j)| [i as i64, j as i64])
        .collect();
    let pairs = pairs
        .into_pyarray(py)
        .reshape([m, 2])
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let weights = fitted.graph.weights().map(|w| w.to_vec().into_pyarray(py));
    let history = fitted
        .history
        .iter()
        .map(|r| (r.epoch, r.loss, r.lr, r.pairs, r.seconds))
        .collect();
    Ok((
        Model::from(fitted.model),
        embedding,
        pairs,
        weights,
        history,
        fitted.graph_seconds,
        described,
    ))
}
