//! Data in: loading MNIST IDX, NPY and CSV files into one validated [`Dataset`], labels, and the
//! input normalisation that the model stores and applies again when embedding.

mod csv;
mod idx;
pub mod images;
mod metric;
mod normalise;
mod npy;
mod parquet;
mod pca;

pub use self::csv::CsvStream;
pub use idx::IdxStream;
pub use metric::Metric;
pub use normalise::{Normalisation, NormaliseMode};
pub use npy::NpyStream;
pub use parquet::{load_table, Table};
pub use pca::{sample_indices, Projection, PCA_SAMPLE};

use std::borrow::Cow;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The element type a dataset was stored as on disk (it decides the default normalisation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceDtype {
    /// Unsigned bytes, such as 8-bit grey images.
    U8,
    /// 32-bit floats.
    F32,
    /// 64-bit floats.
    F64,
}

/// The samples' values as they are kept in memory: bytes for data stored as u8 (a quarter of
/// the memory of f32, which a million 28×28 images need: 0.78 GB against 3.1 GB), f32
/// otherwise. Every reader converts to f32 a block at a time, where it needs floats.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    /// Unsigned bytes (the file's u8 values).
    Bytes(Vec<u8>),
    /// 32-bit floats (validated finite).
    Floats(Vec<f32>),
}

impl Samples {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Samples::Bytes(b) => b.len(),
            Samples::Floats(f) => f.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per value in memory.
    pub fn value_bytes(&self) -> usize {
        match self {
            Samples::Bytes(_) => 1,
            Samples::Floats(_) => 4,
        }
    }
}

/// `n` samples, each an array of `shape`, row-major ([`Samples`]: bytes for u8 data, else
/// f32 values validated finite).
#[derive(Clone, Debug)]
pub struct Dataset {
    samples: Samples,
    /// Number of samples.
    pub n: usize,
    /// Shape of one sample: `[h, w]` for single-channel images, `[d]` for vectors.
    pub shape: Vec<usize>,
    /// What the file stored.
    pub dtype: SourceDtype,
    /// Where the samples came from (a file path, or a name such as `built-in digits`): errors
    /// about this data name it.
    pub origin: String,
}

impl Dataset {
    /// Builds a dataset from raw values, checking sizes, emptiness and finiteness.
    /// `origin` names the source in errors. Values of a `U8` dataset that are all whole
    /// numbers in 0..=255 are kept as bytes.
    pub fn new(
        origin: impl AsRef<Path>,
        values: Vec<f32>,
        n: usize,
        shape: Vec<usize>,
        dtype: SourceDtype,
    ) -> Result<Self> {
        let origin = origin.as_ref();
        check_size(origin, values.len(), n, &shape)?;
        check_finite(&values, shape.iter().product(), 0, origin)?;
        let whole = |v: &f32| v.fract() == 0.0 && (0.0..=255.0).contains(v);
        let samples = if dtype == SourceDtype::U8 && values.iter().all(whole) {
            Samples::Bytes(values.iter().map(|&v| v as u8).collect())
        } else {
            Samples::Floats(values)
        };
        Ok(Self::checked(origin, samples, n, shape, dtype))
    }

    /// Builds a u8 dataset from bytes, checking sizes and emptiness.
    pub fn from_bytes(
        origin: impl AsRef<Path>,
        bytes: Vec<u8>,
        n: usize,
        shape: Vec<usize>,
    ) -> Result<Self> {
        let origin = origin.as_ref();
        check_size(origin, bytes.len(), n, &shape)?;
        let samples = Samples::Bytes(bytes);
        Ok(Self::checked(origin, samples, n, shape, SourceDtype::U8))
    }

    fn checked(
        origin: &Path,
        samples: Samples,
        n: usize,
        shape: Vec<usize>,
        dtype: SourceDtype,
    ) -> Self {
        Self {
            samples,
            n,
            shape,
            dtype,
            origin: origin.display().to_string(),
        }
    }

    /// Values per sample.
    pub fn dim(&self) -> usize {
        self.shape.iter().product()
    }

    /// The samples as they are held.
    pub fn samples(&self) -> &Samples {
        &self.samples
    }

    /// The values as bytes, if the dataset holds bytes.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.samples {
            Samples::Bytes(b) => Some(b),
            Samples::Floats(_) => None,
        }
    }

    /// The values, if the dataset holds f32 values.
    pub fn floats(&self) -> Option<&[f32]> {
        match &self.samples {
            Samples::Bytes(_) => None,
            Samples::Floats(f) => Some(f),
        }
    }

    /// The same samples held as f32 values (for readers that borrow them whole: plots,
    /// maps; see [`floats`](Self::floats)).
    pub fn into_floats(mut self) -> Self {
        self.values_mut();
        self
    }

    /// All values as f32, sample after sample (`n × dim()`): borrowed for float data, a copy
    /// for bytes (four times their memory: large byte data is better read with
    /// [`rows_into`](Self::rows_into) a block at a time).
    pub fn values(&self) -> Cow<'_, [f32]> {
        match &self.samples {
            Samples::Bytes(b) => Cow::Owned(b.iter().map(|&v| f32::from(v)).collect()),
            Samples::Floats(f) => Cow::Borrowed(f),
        }
    }

    /// The values as f32 to change in place (bytes are converted to floats first).
    pub fn values_mut(&mut self) -> &mut Vec<f32> {
        if let Samples::Bytes(b) = &self.samples {
            self.samples = Samples::Floats(b.iter().map(|&v| f32::from(v)).collect());
        }
        match &mut self.samples {
            Samples::Floats(f) => f,
            Samples::Bytes(_) => unreachable!("converted above"),
        }
    }

    /// The values as f32, taken out of the dataset.
    pub fn into_values(self) -> Vec<f32> {
        match self.samples {
            Samples::Bytes(b) => b.into_iter().map(f32::from).collect(),
            Samples::Floats(f) => f,
        }
    }

    /// The values of samples `start..end` as f32 in `out` (replaced).
    pub fn rows_into(&self, start: usize, end: usize, out: &mut Vec<f32>) {
        let d = self.dim();
        out.clear();
        match &self.samples {
            Samples::Bytes(b) => out.extend(b[start * d..end * d].iter().map(|&v| f32::from(v))),
            Samples::Floats(f) => out.extend_from_slice(&f[start * d..end * d]),
        }
    }

    /// The values of sample `i`.
    pub fn row(&self, i: usize) -> Cow<'_, [f32]> {
        let d = self.dim();
        match &self.samples {
            Samples::Bytes(b) => Cow::Owned(
                b[i * d..(i + 1) * d]
                    .iter()
                    .map(|&v| f32::from(v))
                    .collect(),
            ),
            Samples::Floats(f) => Cow::Borrowed(&f[i * d..(i + 1) * d]),
        }
    }

    /// The same samples under another origin name (for data made in memory, such as a split).
    pub fn named(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }

    /// A new dataset made of the samples at `indices`, in that order (same origin, same
    /// storage).
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let d = self.dim();
        let samples = match &self.samples {
            Samples::Bytes(b) => Samples::Bytes(
                indices
                    .iter()
                    .flat_map(|&i| &b[i * d..(i + 1) * d])
                    .copied()
                    .collect(),
            ),
            Samples::Floats(f) => Samples::Floats(
                indices
                    .iter()
                    .flat_map(|&i| &f[i * d..(i + 1) * d])
                    .copied()
                    .collect(),
            ),
        };
        Dataset {
            samples,
            n: indices.len(),
            shape: self.shape.clone(),
            dtype: self.dtype,
            origin: self.origin.clone(),
        }
    }
}

/// Checks that `len` values are `n` samples of `shape`, neither of them empty.
fn check_size(origin: &Path, len: usize, n: usize, shape: &[usize]) -> Result<()> {
    let dim = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&d| d.checked_mul(n).is_some())
        .ok_or_else(|| {
            Error::data(
                origin,
                format!("{n} samples of shape {shape:?}: the size overflows"),
            )
        })?;
    if n == 0 || dim == 0 {
        return Err(Error::data(origin, "holds no samples (the data is empty)"));
    }
    if len != n * dim {
        return Err(Error::data(
            origin,
            format!(
                "expected {} values for {n} samples of shape {shape:?}, got {len}",
                n * dim
            ),
        ));
    }
    Ok(())
}

/// Loads a dataset, choosing the reader from the file: `.npy` → NPY, `.csv`/`.tsv` → CSV,
/// anything else (`.gz` or raw) is read as MNIST IDX.
pub fn load(path: &Path) -> Result<Dataset> {
    match extension(path).as_deref() {
        Some("npy") => npy::load_data(path),
        Some("csv") | Some("tsv") | Some("txt") => csv::load_data(path),
        _ => idx::load_data(path),
    }
}

/// A data file read a block of samples at a time, so that memory does not grow with it: a
/// C-order NPY file ([`NpyStream`]), a CSV/TSV file ([`CsvStream`]) or an IDX file, raw or
/// gzipped ([`IdxStream`]).
pub enum SampleStream {
    /// An NPY file.
    Npy(NpyStream),
    /// A CSV or TSV file.
    Csv(CsvStream),
    /// An IDX file.
    Idx(IdxStream),
}

impl SampleStream {
    /// Opens `path` for streaming where its format allows (`.npy` in C order, `.csv`, `.tsv`,
    /// `.txt`, and IDX, the format of any other name, as in [`load`]); `Ok(None)` for a
    /// Fortran-ordered NPY file, which [`load`] reads whole.
    pub fn open(path: &Path) -> Result<Option<Self>> {
        Ok(match extension(path).as_deref() {
            Some("npy") => NpyStream::open(path)?.map(SampleStream::Npy),
            Some("csv") | Some("tsv") | Some("txt") => {
                Some(SampleStream::Csv(CsvStream::open(path)?))
            }
            _ => Some(SampleStream::Idx(IdxStream::open(path)?)),
        })
    }

    /// Number of samples.
    pub fn n(&self) -> usize {
        match self {
            SampleStream::Npy(s) => s.n,
            SampleStream::Csv(s) => s.n,
            SampleStream::Idx(s) => s.n,
        }
    }

    /// Shape of one sample.
    pub fn shape(&self) -> &[usize] {
        match self {
            SampleStream::Npy(s) => &s.shape,
            SampleStream::Csv(s) => &s.shape,
            SampleStream::Idx(s) => &s.shape,
        }
    }

    /// Values per sample.
    pub fn dim(&self) -> usize {
        self.shape().iter().product()
    }

    /// The stored element type (f64 for text).
    pub fn dtype(&self) -> SourceDtype {
        match self {
            SampleStream::Npy(s) => s.dtype,
            SampleStream::Csv(_) => SourceDtype::F64,
            SampleStream::Idx(s) => s.dtype,
        }
    }

    /// The next block of at most `rows` samples as f32 values in `out` (replaced); `Ok(0)` at
    /// the end. Errors name the file and the sample or line.
    pub fn next_block(&mut self, rows: usize, out: &mut Vec<f32>) -> Result<usize> {
        match self {
            SampleStream::Npy(s) => s.next_block(rows, out),
            SampleStream::Csv(s) => s.next_block(rows, out),
            SampleStream::Idx(s) => s.next_block(rows, out),
        }
    }
}

/// Loads one integer label per sample from IDX labels, NPY (1-D, or n×1, integer or
/// whole-number floats) or CSV (one column, optional header).
pub fn load_labels(path: &Path) -> Result<Vec<i64>> {
    match extension(path).as_deref() {
        Some("npy") => npy::load_labels(path),
        Some("csv") | Some("tsv") | Some("txt") => csv::load_labels(path),
        _ => idx::load_labels(path),
    }
}

/// Loads labels and checks that there is one per sample of a dataset of `n` samples.
pub fn load_labels_for(path: &Path, n: usize) -> Result<Vec<i64>> {
    let labels = load_labels(path)?;
    if labels.len() != n {
        return Err(Error::data(
            path,
            format!("holds {} labels but the data has {n} samples", labels.len()),
        ));
    }
    Ok(labels)
}

/// Reads an IDX file from bytes (gzipped or raw), as shipped in the binary.
pub fn idx_from_bytes(origin: &str, bytes: &[u8]) -> Result<Dataset> {
    idx::data_from_bytes(Path::new(origin), bytes)
}

/// Reads IDX labels from bytes (gzipped or raw).
pub fn idx_labels_from_bytes(origin: &str, bytes: &[u8]) -> Result<Vec<i64>> {
    idx::labels_from_bytes(Path::new(origin), bytes)
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
}

/// Checks that `values` (samples of `dim` values, the first being sample `first` of `origin`)
/// are finite, in one vectorised pass; the error names the first sample and feature that is not.
pub(crate) fn check_finite(
    values: &[f32],
    dim: usize,
    first: usize,
    origin: impl AsRef<Path>,
) -> Result<()> {
    // the exponent bits of each value, or-ed: all ones only where one is infinite or NaN
    // (twice as fast as `is_finite` in a fold, which does not vectorise as well)
    const EXPONENT: u32 = 0x7f80_0000;
    let finite = values.chunks(1024).all(|c| {
        c.iter().fold(0u32, |m, v| {
            m | u32::from(v.to_bits() & EXPONENT == EXPONENT)
        }) == 0
    });
    if finite {
        return Ok(());
    }
    let pos = values
        .iter()
        .position(|v| !v.is_finite())
        .expect("a value is not finite");
    Err(Error::data(
        origin,
        format!(
            "sample {} (0-based), feature {} holds {}: the data must be finite",
            first + pos / dim,
            pos % dim,
            if values[pos].is_nan() {
                "NaN"
            } else {
                "an infinite value"
            }
        ),
    ))
}

/// Byte order of a binary file's elements (NPY's are little-endian here, IDX's big-endian).
#[derive(Clone, Copy)]
pub(crate) enum ByteOrder {
    Little,
    Big,
}

/// Elements of `dtype` stored in `order`, as f32 values appended to `out`.
pub(crate) fn decode(dtype: SourceDtype, order: ByteOrder, bytes: &[u8], out: &mut Vec<f32>) {
    let little = matches!(order, ByteOrder::Little);
    let f32_of: fn([u8; 4]) -> f32 = if little {
        f32::from_le_bytes
    } else {
        f32::from_be_bytes
    };
    let f64_of: fn([u8; 8]) -> f64 = if little {
        f64::from_le_bytes
    } else {
        f64::from_be_bytes
    };
    match dtype {
        SourceDtype::U8 => out.extend(bytes.iter().map(|&b| f32::from(b))),
        SourceDtype::F32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| f32_of(c.try_into().expect("4 bytes"))),
        ),
        SourceDtype::F64 => out.extend(
            bytes
                .chunks_exact(8)
                .map(|c| f64_of(c.try_into().expect("8 bytes")) as f32),
        ),
    }
}

/// A streamed block of `dtype` elements in `order` as f32 values in `out` (appended), its
/// floats checked to be finite, errors naming samples from `first` of `origin` (`dim` values
/// each).
pub(crate) fn decode_block(
    (dtype, order): (SourceDtype, ByteOrder),
    bytes: &[u8],
    (dim, first): (usize, usize),
    origin: &Path,
    out: &mut Vec<f32>,
) -> Result<()> {
    decode(dtype, order, bytes, out);
    if dtype != SourceDtype::U8 {
        check_finite(out, dim, first, origin)?;
    }
    Ok(())
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| cannot_read(path, e))
}

/// The error for `path` that could not be read: "cannot read: no such file", or the reason.
pub(crate) fn cannot_read(path: &Path, e: std::io::Error) -> Error {
    let why = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => e.to_string(),
    };
    Error::data(path, format!("cannot read: {why}"))
}

/// Turns a labels vector of whole-number floats into integers, naming the first that is not.
pub(crate) fn whole_labels(path: &Path, values: &[f64]) -> Result<Vec<i64>> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.is_finite() && v.fract() == 0.0 {
                Ok(v as i64)
            } else {
                Err(Error::data(
                    path,
                    format!("label {i} (0-based) is {v}, not a whole number"),
                ))
            }
        })
        .collect()
}
