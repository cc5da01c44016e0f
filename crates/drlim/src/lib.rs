//! # drlim — Dimensionality Reduction by Learning an Invariant Mapping
//!
//! An implementation of Hadsell, Chopra & LeCun, *Dimensionality Reduction by Learning an
//! Invariant Mapping* (CVPR 2006). A neural network G_W maps each input X to a point in a
//! low-dimensional space. It is trained on pairs (X1, X2, Y) whose neighbour relation comes
//! from prior knowledge (here by default: the k nearest Euclidean neighbours in input space),
//! with Y = 0 for neighbours and Y = 1 for non-neighbours, through two copies of G_W that share
//! W, minimising the contrastive loss
//!
//! L = (1 − Y)·½·D² + Y·½·max(0, m − D)²,  D = ‖G_W(X1) − G_W(X2)‖₂.
//!
//! Because G_W is a function, new samples are mapped without retraining.
//!
//! The data flows one way, and the modules follow it:
//!
//! ```text
//! data ──► neighbours ──► pairs ──► model ──► train ──► Model (save/load) ──► embed ──► eval / plot
//!              └── points (distances, shared with eval and plot)
//! ```
//!
//! ## The public API
//!
//! - Fitting: [`fit`] (k nearest neighbours: [`KnnMethod`]) and [`fit_with`] (any
//!   [`neighbours::NeighbourSource`]: labels, pairs, transformed copies, a metadata grid, time,
//!   unions), configured by [`FitOptions`] ([`NetKind`], [`TrainConfig`], [`defaults`]; named
//!   sets of them: [`Preset`], `auto` for any data, `paper` for the 2006 settings) and
//!   watched, or stopped, by a [`TrainObserver`]; they return [`Fitted`], whose [`Outcome`]
//!   says whether training completed, was stopped or diverged.
//! - The mapping: [`Model`] saves and loads model directories (`config.json` +
//!   `model.safetensors`, PyTorch-compatible names) and embeds new samples out of sample.
//! - Data: [`Dataset`] and [`data::load`] (IDX, NPY, CSV), [`data::NormaliseMode`].
//! - Prior knowledge: [`neighbours`]; declared invariances: [`Augmentation`].
//! - Measuring maps: [`eval`] (k-NN accuracy, trustworthiness, neighbour/random distance
//!   ratios); drawing them: `plot` (feature `plot`, on by default) and, as interactive maps in one HTML
//!   file, `view` (feature `view`, on by default).
//! - Lower layers for custom loops and benchmarks: [`train::stepper`], [`fast`], [`loss`],
//!   [`batch_loss`], [`model`], [`points`], [`output`].
//!
//! Errors are one [`Error`] type that names the file or the setting at fault. Cargo features:
//! `hnsw` (approximate neighbours for large n) and `plot`, both on by default; `vulkan` (a GPU
//! device), off.
//!
//! ```
//! use drlim::data::SourceDtype;
//! use drlim::{fit, Dataset, Device, FitOptions, NetKind, Outcome, Silent};
//!
//! // two clusters of 20 points in 5-D
//! let values: Vec<f32> = (0..40 * 5)
//!     .map(|i| if (i / 5) % 2 == 0 { 1.0 } else { -1.0 } + 0.01 * (i % 7) as f32)
//!     .collect();
//! let train = Dataset::new("two clusters", values, 40, vec![5], SourceDtype::F32)?;
//! let mut options = FitOptions {
//!     net: NetKind::Mlp { hidden: vec![16] },
//!     ..FitOptions::default()
//! };
//! options.train.epochs = 3;
//! let fitted = fit(&train, &options, &Device::flex(), &mut Silent)?;
//! assert_eq!(fitted.outcome, Outcome::Completed);
//! fitted.outcome.check()?; // a diverged run would be an error here
//! let coords = fitted.model.embed(&train)?; // 40 × 2, row-major
//! assert_eq!(coords.len(), 40 * 2);
//! // fitted.model.save("model".as_ref())?; Model::load("model".as_ref(), &Device::flex())?
//! # Ok::<(), drlim::Error>(())
//! ```

#![warn(missing_docs)]

pub mod augment;
pub mod batch_loss;
pub mod data;
pub mod device;
pub mod embed;
pub mod embedder;
mod error;
pub mod eval;
pub mod fast;
mod fit;
pub mod loss;
mod mapping;
pub mod memory;
pub mod model;
pub mod neighbours;
pub mod output;
pub mod pairs;
mod pca_front;
#[cfg(feature = "plot")]
pub mod plot;
pub mod points;
pub mod preset;
pub mod train;
#[cfg(feature = "view")]
pub mod view;

pub use augment::Augmentation;
pub use burn::tensor::Device;
pub use data::Dataset;
pub use embedder::Embedder;
pub use error::{Error, Result};
pub use fit::{
    fit, fit_resume, fit_with, knn_source, FitOptions, Fitted, KnnMethod, KnnWeights, NetKind,
    AUTO_APPROXIMATE_ABOVE,
};
pub use mapping::Model;
pub use preset::Preset;
pub use train::{
    defaults, Checkpoint, Engine, EpochReport, LossKind, Negatives, OptimizerKind, Outcome, Silent,
    TrainConfig, TrainObserver,
};

/// The rows of the matrix `key` of a JSON test fixture (a list of lists of numbers), flattened.
#[cfg(test)]
pub(crate) fn fixture_rows(fixture: &serde_json::Value, key: &str) -> Vec<f32> {
    fixture[key]
        .as_array()
        .unwrap_or_else(|| panic!("fixture has no matrix {key}"))
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
        })
        .collect()
}
