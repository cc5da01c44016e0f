//! numpy arrays as the engine's samples: uint8, float32 or float64, n×D, n×H×W or n×1×H×W, in
//! any memory order. C-contiguous float32 is borrowed, not copied.

use drlim::data::SourceDtype;
use numpy::{PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The values of a numpy array of samples.
enum Values<'py> {
    /// C-contiguous float32, read in place.
    Borrowed(PyReadonlyArrayDyn<'py, f32>),
    /// Converted to float32 (another dtype or memory order).
    Owned(Vec<f32>),
}

/// Samples from Python: their values, count, per-sample shape and stored element type.
pub struct Rows<'py> {
    values: Values<'py>,
    /// Number of samples.
    pub n: usize,
    /// Shape of one sample: `[d]` or `[h, w]`.
    pub shape: Vec<usize>,
    /// The element type the array held (it decides `normalise="auto"`).
    pub dtype: SourceDtype,
}

impl<'py> Rows<'py> {
    /// Reads a numpy array of samples; `origin` names it in errors.
    pub fn from_py(x: &Bound<'py, PyAny>, origin: &str) -> PyResult<Self> {
        if let Ok(a) = x.cast::<PyArrayDyn<f32>>() {
            let (n, shape) = shape_of(a.shape(), origin)?;
            let r = a.try_readonly()?;
            let values = if r.is_c_contiguous() {
                Values::Borrowed(r)
            } else {
                Values::Owned(floats(&r, |v| v))
            };
            return Ok(Self {
                values,
                n,
                shape,
                dtype: SourceDtype::F32,
            });
        }
        if let Some(rows) = Self::converted::<f64>(x, origin, SourceDtype::F64, |v| v as f32) {
            return rows;
        }
        if let Some(rows) = Self::converted::<u8>(x, origin, SourceDtype::U8, f32::from) {
            return rows;
        }
        Err(PyValueError::new_err(format!(
            "{origin}: expected a numpy array of uint8, float32 or float64 samples, got {}",
            x.get_type().name()?
        )))
    }

    /// The samples of `x` converted to float32 by `f`, if `x` is an array of `T`.
    fn converted<T: numpy::Element + Copy>(
        x: &Bound<'py, PyAny>,
        origin: &str,
        dtype: SourceDtype,
        f: impl Fn(T) -> f32,
    ) -> Option<PyResult<Self>> {
        let a = x.cast::<PyArrayDyn<T>>().ok()?;
        let read = || {
            let (n, shape) = shape_of(a.shape(), origin)?;
            Ok(Self {
                values: Values::Owned(floats(&a.try_readonly()?, f)),
                n,
                shape,
                dtype,
            })
        };
        Some(read())
    }

    /// The values, sample after sample.
    pub fn values(&self) -> &[f32] {
        match &self.values {
            Values::Borrowed(a) => a.as_slice().expect("checked C-contiguous"),
            Values::Owned(v) => v,
        }
    }

    /// The samples as an engine dataset (checked: sizes, emptiness, finiteness).
    pub fn into_dataset(self, origin: &str) -> drlim::Result<drlim::Dataset> {
        let values = match self.values {
            Values::Borrowed(a) => a.as_slice().expect("checked C-contiguous").to_vec(),
            Values::Owned(v) => v,
        };
        drlim::Dataset::new(origin, values, self.n, self.shape, self.dtype)
    }
}

/// The number of samples and the shape of one, for an array of `shape`: n×D, n×H×W or n×1×H×W.
fn shape_of(shape: &[usize], origin: &str) -> PyResult<(usize, Vec<usize>)> {
    match shape {
        [n, d] => Ok((*n, vec![*d])),
        [n, h, w] => Ok((*n, vec![*h, *w])),
        [n, 1, h, w] => Ok((*n, vec![*h, *w])),
        _ => Err(PyValueError::new_err(format!(
            "{origin}: expected samples as an n×D, n×H×W or n×1×H×W array, got shape {shape:?}"
        ))),
    }
}

/// The values of an array as float32, in C order: a tight loop over a C-contiguous one (which
/// the compiler vectorises), element by element in logical order otherwise (`as_slice` alone
/// would also take a Fortran-ordered array, in its memory order).
fn floats<T: numpy::Element + Copy>(
    a: &PyReadonlyArrayDyn<'_, T>,
    f: impl Fn(T) -> f32,
) -> Vec<f32> {
    match a.as_slice() {
        Ok(s) if a.is_c_contiguous() => s.iter().map(|&v| f(v)).collect(),
        _ => a.as_array().iter().map(|&v| f(v)).collect(),
    }
}

/// A whole-number numpy array (int64, C order, as the Python layer passes it) as rows.
pub fn int_rows(x: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<i64>, Vec<usize>)> {
    let a = x
        .cast::<PyArrayDyn<i64>>()
        .map_err(|_| PyValueError::new_err(format!("{what}: expected a numpy array of int64")))?;
    let r = a.try_readonly()?;
    Ok((r.as_array().iter().copied().collect(), a.shape().to_vec()))
}
