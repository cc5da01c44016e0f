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
//! data ──► neighbours ──► pairs ──► model ──► train ──► model dir ──► embed ──► eval / plot
//! ```
//!
//! ```no_run
//! use drlim::{data, fit, Device, FitOptions, Silent};
//! let train = data::load("train.npy".as_ref())?;
//! let fitted = fit(&train, "train.npy", &FitOptions::default(), &Device::flex(), &mut Silent)?;
//! fitted.model.save("model".as_ref())?;
//! let test = data::load("test.npy".as_ref())?;
//! let coords = fitted.model.embed(&test, "test.npy")?; // test.n × 2, row-major
//! # Ok::<(), drlim::Error>(())
//! ```

pub mod augment;
pub mod batch_loss;
pub mod bench;
pub mod data;
pub mod device;
pub mod embed;
mod error;
pub mod eval;
pub mod experiments;
pub mod fast;
mod fit;
pub mod loss;
pub mod model;
pub mod neighbours;
pub mod output;
pub mod pairs;
pub mod plot;
pub mod train;

pub use augment::Augmentation;
pub use burn::tensor::Device;
pub use error::{Error, Result};
pub use fit::{fit, fit_with, knn_source, FitOptions, Fitted, KnnMethod, Model, NetKind};
pub use train::{
    Engine, EpochReport, LossKind, Negatives, OptimizerKind, Silent, TrainConfig, TrainObserver,
};
