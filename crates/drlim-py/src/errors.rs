//! Engine errors and panics as Python exceptions.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::{PyFloatingPointError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

/// What went wrong: an engine error, or a panic (a bug) caught before it could unwind into
/// Python.
pub enum Failure {
    /// An error of the engine, naming what is at fault.
    Engine(drlim::Error),
    /// A panic's message.
    Panic(String),
}

impl From<drlim::Error> for Failure {
    fn from(e: drlim::Error) -> Self {
        Failure::Engine(e)
    }
}

/// What the call was about, which decides the exception of a model error.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reading or writing files: model errors are `OSError`.
    Files,
    /// Data in memory: model errors (a model's bytes that do not parse) are `ValueError`.
    Data,
}

/// Runs `f`, catching a panic.
pub fn guarded<T>(f: impl FnOnce() -> drlim::Result<T>) -> Result<T, Failure> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(Failure::Engine),
        Err(payload) => Err(Failure::Panic(panic_message(payload.as_ref()))),
    }
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// The engine's name of a setting, as the estimator's keyword argument.
pub fn python_name(name: &str) -> &str {
    match name {
        "lr" => "learning_rate",
        "lr_decay" => "learning_rate_decay",
        "batch" => "batch_size",
        "dim" => "n_components",
        "k" => "n_neighbors",
        "seed" => "random_state",
        other => other,
    }
}

/// The Python exception for `failure`: `ValueError` for data and settings, `OSError` for
/// files, `FloatingPointError` for a divergence, `RuntimeError` for a bug.
pub fn to_py(failure: impl Into<Failure>, kind: Kind) -> PyErr {
    use drlim::Error;
    match failure.into() {
        Failure::Panic(msg) => PyRuntimeError::new_err(format!(
            "internal error in drlim (a bug; please report it): {msg}"
        )),
        Failure::Engine(e) => match e {
            Error::Setting { name, problem } => {
                PyValueError::new_err(format!("{} {problem}", python_name(name)))
            }
            Error::Diverged { .. } => PyFloatingPointError::new_err(
                e.to_string()
                    .replace("a smaller learning rate", "a smaller learning_rate"),
            ),
            Error::Output { .. } => PyOSError::new_err(e.to_string()),
            Error::Model { .. } if kind == Kind::Files => PyOSError::new_err(e.to_string()),
            _ => PyValueError::new_err(e.to_string()),
        },
    }
}
