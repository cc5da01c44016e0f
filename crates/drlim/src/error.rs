//! One error type for the engine, with one variant per layer of the data flow.
//!
//! Every variant names what it is about (a file, a parameter) and the problem, so that the CLI
//! can print it as a single line.

use std::path::Path;

/// Result alias used throughout the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in drlim, by layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file could not be read or is malformed (names the file).
    #[error("{path}: {msg}")]
    Data {
        /// The file (or other source) at fault.
        path: String,
        /// What is wrong with it.
        msg: String,
    },
    /// A parameter is out of range for the data (for instance k ≥ number of samples).
    #[error("{0}")]
    Param(String),
    /// A setting is out of range on its own (for instance a learning rate ≤ 0); `name` is the
    /// field's name in the library (`lr`, `lr_decay`), which a front end may map to its own
    /// (a CLI flag, a keyword argument).
    #[error("{name} {problem}")]
    Setting {
        /// The setting's field name.
        name: &'static str,
        /// What is wrong with its value, e.g. `must be a positive number`.
        problem: String,
    },
    /// A model directory is missing, incomplete or does not fit the data.
    #[error("{path}: {msg}")]
    Model {
        /// The model directory or file at fault.
        path: String,
        /// What is wrong with it.
        msg: String,
    },
    /// Training stopped because the loss stopped being finite.
    #[error(
        "training diverged in epoch {epoch}: the loss became {loss} (try a smaller learning rate)"
    )]
    Diverged {
        /// The epoch (1-based) in which the loss became non-finite.
        epoch: usize,
        /// The offending loss value.
        loss: f32,
    },
    /// An output file could not be written (names the file).
    #[error("{path}: cannot write: {msg}")]
    Output {
        /// The file that could not be written.
        path: String,
        /// Why.
        msg: String,
    },
}

impl Error {
    /// A data error about `path`.
    pub fn data(path: impl AsRef<Path>, msg: impl Into<String>) -> Self {
        Error::Data {
            path: path.as_ref().display().to_string(),
            msg: msg.into(),
        }
    }

    /// A model error about `path`.
    pub fn model(path: impl AsRef<Path>, msg: impl Into<String>) -> Self {
        Error::Model {
            path: path.as_ref().display().to_string(),
            msg: msg.into(),
        }
    }

    /// An output error about `path`.
    pub fn output(path: impl AsRef<Path>, msg: impl std::fmt::Display) -> Self {
        Error::Output {
            path: path.as_ref().display().to_string(),
            msg: msg.to_string(),
        }
    }

    /// A parameter error.
    pub fn param(msg: impl Into<String>) -> Self {
        Error::Param(msg.into())
    }
}
