//! `drlim._drlim`: the engine seen from Python. The pure-Python package on top
//! (`python/drlim`) holds the scikit-learn estimator; this module holds what it calls:
//!
//! - [`fit`]: data, settings (JSON) and prior knowledge in, a fitted [`Model`], the training
//!   embedding, the neighbour pairs and the epochs' reports out. The GIL is released while
//!   training runs on a thread pool of `n_jobs` threads; the calling thread waits and checks
//!   for signals, so Ctrl-C stops training after the current step and raises
//!   `KeyboardInterrupt`.
//! - [`Model`]: load, save, the model directory's files as bytes (pickling), transform.
//!
//! Engine errors become `ValueError` (data, settings), `OSError` (files) or
//! `FloatingPointError` (divergence); a panic becomes a `RuntimeError`, never an abort.

mod convert;
mod errors;
mod fitting;
mod sources;
mod viewing;

use std::path::Path;

use numpy::{IntoPyArray, PyArray2, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::Rows;
use crate::errors::{guarded, to_py, Kind};

/// A fitted mapping G_W: network, architecture and input preparation.
#[pyclass(frozen, module = "drlim._drlim")]
pub struct Model {
    inner: drlim::Model,
    /// The weights prepared once for every `transform` (None off the fast CPU path).
    embedder: Option<drlim::Embedder>,
}

impl From<drlim::Model> for Model {
    fn from(inner: drlim::Model) -> Self {
        let embedder = drlim::Embedder::new(&inner);
        Self { inner, embedder }
    }
}

#[pymethods]
impl Model {
    /// Loads a model directory (`config.json` + `model.safetensors`) written by `drlim fit`
    /// or by `save`.
    #[staticmethod]
    fn load(path: std::path::PathBuf) -> PyResult<Self> {
        let inner = guarded(|| drlim::Model::load(&path, &drlim::Device::flex()))
            .map_err(|e| to_py(e, Kind::Files))?;
        Ok(inner.into())
    }

    /// Writes the model directory `path` (replacing an earlier model there as a whole).
    fn save(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        py.detach(|| guarded(|| self.inner.save(&path)))
            .map_err(|e| to_py(e, Kind::Files))
    }

    /// The model directory's two files as bytes: `(config.json, model.safetensors)`.
    fn to_files<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
        let files = guarded(|| self.inner.to_files()).map_err(|e| to_py(e, Kind::Files))?;
        Ok((
            PyBytes::new(py, &files.config),
            PyBytes::new(py, &files.weights),
        ))
    }

    /// The model as an ONNX file's bytes (opset 17; raw samples in as float32 with a dynamic
    /// batch axis, coordinates out; the normalisation and padding are inside the graph).
    fn to_onnx<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = guarded(|| Ok(self.inner.to_onnx())).map_err(|e| to_py(e, Kind::Files))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Writes the ONNX file `path` (through a temporary file renamed into place).
    fn export_onnx(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        py.detach(|| guarded(|| drlim::output::write_bytes(&path, &self.inner.to_onnx())))
            .map_err(|e| to_py(e, Kind::Files))
    }

    /// The model of a model directory's two files held as bytes (as `to_files` gives them).
    #[staticmethod]
    #[pyo3(signature = (config, weights, origin = "model"))]
    fn from_files(config: Vec<u8>, weights: Vec<u8>, origin: &str) -> PyResult<Self> {
        let files = drlim::model::ModelFiles { config, weights };
        let inner =
            guarded(|| drlim::Model::from_files(&files, Path::new(origin), &drlim::Device::flex()))
                .map_err(|e| to_py(e, Kind::Data))?;
        Ok(inner.into())
    }

    /// Maps samples (n×D, n×H×W or n×1×H×W; u8, f32 or f64) to n×d float32 coordinates,
    /// without the GIL, on `n_jobs` threads. C-contiguous float32 input is read in place.
    #[pyo3(signature = (x, n_jobs = None, origin = "X"))]
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_jobs: Option<i64>,
        origin: &str,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let rows = Rows::from_py(x, origin)?;
        let pool = fitting::pool(n_jobs)?;
        let (values, shape) = (rows.values(), &rows.shape);
        let coords = py
            .detach(|| match &self.embedder {
                Some(e) => guarded(|| e.embed_rows_on(&pool, values, shape, origin)),
                None => pool.install(|| guarded(|| self.inner.embed_rows(values, shape, origin))),
            })
            .map_err(|e| to_py(e, Kind::Data))?;
        let d = self.inner.dim();
        let n = coords.len() / d;
        coords
            .into_pyarray(py)
            .reshape([n, d])
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))
    }

    /// Output dimension d.
    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    /// The shape of one sample the model takes (e.g. `[784]` or `[28, 28]`).
    #[getter]
    fn input_shape(&self) -> Vec<usize> {
        self.inner.config.input.shape.clone()
    }

    /// `config.json`'s contents, as JSON text.
    #[getter]
    fn config_json(&self) -> String {
        serde_json::to_string(&self.inner.config).expect("a model config serialises")
    }

    fn __repr__(&self) -> String {
        format!(
            "<drlim model: {} → {}-D>",
            self.inner.config.architecture.name(),
            self.inner.dim()
        )
    }
}

/// Images (n×28×28) and labels.
type Digits<'py> = (
    Bound<'py, numpy::PyArray3<u8>>,
    Bound<'py, numpy::PyArray1<i64>>,
);

/// The built-in digits: 10,000 MNIST test images (n×28×28 uint8, row-major, as bytes) and their
/// labels (int64), the same as the command line's built-in data.
#[pyfunction]
fn builtin_digits(py: Python<'_>) -> PyResult<Digits<'_>> {
    static IMAGES: &[u8] =
        include_bytes!("../../drlim-paper/assets/mnist-10k/images-idx3-ubyte.gz");
    static LABELS: &[u8] =
        include_bytes!("../../drlim-paper/assets/mnist-10k/labels-idx1-ubyte.gz");
    let images =
        drlim::data::idx_from_bytes("built-in images", IMAGES).map_err(|e| to_py(e, Kind::Data))?;
    let labels = drlim::data::idx_labels_from_bytes("built-in labels", LABELS)
        .map_err(|e| to_py(e, Kind::Data))?;
    let (n, h, w) = (images.n, images.shape[0], images.shape[1]);
    let pixels: Vec<u8> = images.values().iter().map(|&v| v as u8).collect();
    let pixels = pixels
        .into_pyarray(py)
        .reshape([n, h, w])
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    Ok((pixels, labels.into_pyarray(py)))
}

/// The drlim version of the engine.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The model directory format this engine writes (and the newest it reads).
#[pyfunction]
fn model_format() -> u32 {
    drlim::model::MODEL_FORMAT
}

#[pymodule]
fn _drlim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(fitting::fit, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(builtin_digits, m)?)?;
    m.add_function(wrap_pyfunction!(model_format, m)?)?;
    m.add_function(wrap_pyfunction!(viewing::view, m)?)?;
    Ok(())
}
