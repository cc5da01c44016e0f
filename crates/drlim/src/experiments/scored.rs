//! One fit on a digit split, scored the same way everywhere: test 5-NN accuracy against the
//! training map and test trustworthiness@10 against the test pixels.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use serde::Serialize;

use super::mnist_4_9::Split;
use crate::error::Result;
use crate::eval::{knn_accuracy, trustworthiness};
use crate::neighbours::Points;
use crate::plot::{scatter, Colouring};
use crate::train::{LossKind, Negatives, TrainObserver};
use crate::{fit, FitOptions, NetKind};

/// Figures of merit of one run.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    /// The run's name (`paper-defaults`, `invariances`).
    pub name: String,
    /// The setting in words.
    pub setting: String,
    /// Neighbour pairs of the graph.
    pub neighbour_pairs: usize,
    /// Epochs trained.
    pub epochs: usize,
    /// Test 5-NN accuracy against the training map.
    pub test_knn5_accuracy: f64,
    /// Test trustworthiness, 10 neighbours, against the test pixels.
    pub test_trustworthiness10: f64,
    /// Seconds to build the graph and train.
    pub fit_seconds: f64,
    /// Seconds to map the test digits.
    pub embed_seconds: f64,
}

/// Fits `options` on the training digits and scores the test map (out of sample): 5-NN
/// accuracy against the training map and trustworthiness@10 against the test pixels. Returns
/// the run, the test embedding and the model.
pub fn fit_and_score(
    split: &Split,
    name: &str,
    options: &FitOptions,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<(Run, Vec<f32>, crate::Model)> {
    let t0 = Instant::now();
    let fitted = fit(&split.train, "mnist train", options, device, observer)?;
    let fit_seconds = t0.elapsed().as_secs_f64();
    if let Some(e) = fitted.diverged {
        return Err(e);
    }
    let model = fitted.model;
    let d = model.dim();
    let train_emb = model.embed(&split.train, "mnist train")?;
    let t1 = Instant::now();
    let test_emb = model.embed(&split.test, "mnist test")?;
    let embed_seconds = t1.elapsed().as_secs_f64();
    let (tr, te) = (Points::new(&train_emb, d), Points::new(&test_emb, d));
    let acc = knn_accuracy(&tr, &split.train_labels, &te, &split.test_labels, 5)?;
    let pixels = model.config.input.normalisation.apply(&split.test);
    let trust = trustworthiness(&Points::new(&pixels, split.test.dim()), &te, 10)?;
    let run = Run {
        name: name.into(),
        setting: describe(options),
        neighbour_pairs: fitted.graph.len(),
        epochs: fitted.history.len(),
        test_knn5_accuracy: acc,
        test_trustworthiness10: trust,
        fit_seconds,
        embed_seconds,
    };
    Ok((run, test_emb, model))
}

/// The setting in words, for the report.
pub fn describe(o: &FitOptions) -> String {
    let t = &o.train;
    let net = match &o.net {
        NetKind::Conv => "the paper's convnet".to_string(),
        NetKind::Mlp { hidden } => format!("an MLP with hidden widths {hidden:?}"),
    };
    let negatives = match t.negatives {
        Negatives::Random => format!(
            "{} random non-neighbour pair(s) per neighbour pair",
            t.neg_ratio
        ),
        Negatives::Batch => "every other digit of the batch as a non-neighbour".into(),
    };
    let loss = match t.loss {
        LossKind::Contrastive => format!("the paper's contrastive loss (margin {})", t.margin),
        LossKind::CauchyInfonce => "the Cauchy-kernel InfoNCE loss (t-SimCNE)".into(),
    };
    let augment = match &t.augment {
        Some(a) => format!(
            "; declared invariances {} (each arm a fresh transformed copy, plus {} pair(s) of two copies of each digit per epoch)",
            a.describe(),
            t.augment_pairs
        ),
        None => String::new(),
    };
    format!(
        "{net} to {} dimensions, {} Euclidean neighbours, {negatives}, {loss}, {} epochs of batch {}, SGD lr {} (decay {} per epoch), momentum {}{augment}, seed {}",
        o.dim, o.k, t.epochs, t.batch, t.lr, t.lr_decay, t.momentum, t.seed
    )
}

/// Writes a run's test map into `out`: `{stem}-test-embedding.npy` and the map coloured by digit,
/// `{stem}-test-by-digit.png` and `.svg`, titled `title`. Returns the files written.
pub fn write_test_map(
    out: &Path,
    stem: &str,
    split: &Split,
    embedding: &[f32],
    dim: usize,
    title: &str,
) -> Result<Vec<PathBuf>> {
    let p = out.join(format!("{stem}-test-embedding.npy"));
    crate::output::write_matrix(&p, embedding, split.test.n, dim)?;
    let mut files = vec![p];
    for ext in ["png", "svg"] {
        let p = out.join(format!("{stem}-test-by-digit.{ext}"));
        scatter(
            &p,
            &Points::new(embedding, dim),
            &Colouring::Labels(&split.test_labels),
            title,
        )?;
        files.push(p);
    }
    Ok(files)
}
