//! The paper's first experiment (§4.1, Figure 4): the 4s and 9s of MNIST, 5 nearest Euclidean
//! neighbours, the convnet to 2-D, the test digits mapped out of sample.
//!
//! Split: every 4 and 9 in file order, the first 70% train and the rest test (1,370 / 588 on the
//! built-in 10,000 digits), the same split as the PyTorch reference.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use serde::Serialize;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::eval::{knn_accuracy, pair_distances, trustworthiness, PairDistances};
use crate::neighbours::Points;
use crate::plot::{scatter, Colouring};
use crate::train::TrainObserver;
use crate::{fit, FitOptions};

/// The 4-vs-9 train/test split.
pub struct Split {
    /// Training images (u8, 28×28).
    pub train: Dataset,
    /// Their digits.
    pub train_labels: Vec<i64>,
    /// Test images.
    pub test: Dataset,
    /// Their digits.
    pub test_labels: Vec<i64>,
}

/// Every 4 and 9 in file order; the first ⌊train_frac · n⌋ train, the rest test.
pub fn split(images: &Dataset, labels: &[i64], train_frac: f64) -> Split {
    let idx: Vec<usize> = (0..images.n)
        .filter(|&i| labels[i] == 4 || labels[i] == 9)
        .collect();
    let n_train = (train_frac * idx.len() as f64).floor() as usize;
    let (tr, te) = idx.split_at(n_train);
    Split {
        train: images.select(tr),
        train_labels: tr.iter().map(|&i| labels[i]).collect(),
        test: images.select(te),
        test_labels: te.iter().map(|&i| labels[i]).collect(),
    }
}

/// Figures of merit of one run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Training digits.
    pub n_train: usize,
    /// Test digits.
    pub n_test: usize,
    /// Neighbour pairs (5-NN, symmetrised).
    pub neighbour_pairs: usize,
    /// Epochs trained.
    pub epochs: usize,
    /// Final training loss.
    pub final_loss: f32,
    /// 5-NN accuracy of the test embedding against the training embedding.
    pub test_knn5_accuracy: f64,
    /// Trustworthiness of the test embedding, 10 neighbours.
    pub test_trustworthiness10: f64,
    /// Mean output distance of training neighbour pairs vs random pairs.
    pub train_pair_distances: PairDistances,
    /// Seconds to build the graph and train.
    pub fit_seconds: f64,
    /// Seconds to embed the test digits.
    pub embed_seconds: f64,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Fits on the training digits, embeds the test digits and writes to `out`: the model
/// (`model/`), both embeddings (`.npy`), plots of the test map coloured by digit and by slant
/// (PNG and SVG) and `metrics.json`.
pub fn run(
    split: &Split,
    options: &FitOptions,
    out: &Path,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<Report> {
    std::fs::create_dir_all(out).map_err(|e| Error::output(out, e))?;
    let t0 = Instant::now();
    let fitted = fit(&split.train, "mnist 4-9 train", options, device, observer)?;
    let fit_seconds = t0.elapsed().as_secs_f64();
    if let Some(e) = fitted.diverged {
        return Err(e);
    }
    let model = fitted.model;
    let d = model.dim();
    let train_emb = model.embed(&split.train, "mnist 4-9 train")?;
    let t1 = Instant::now();
    let test_emb = model.embed(&split.test, "mnist 4-9 test")?;
    let embed_seconds = t1.elapsed().as_secs_f64();

    let (tr, te) = (Points::new(&train_emb, d), Points::new(&test_emb, d));
    let acc = knn_accuracy(&tr, &split.train_labels, &te, &split.test_labels, 5)?;
    let pixels = model.config.input.normalisation.apply(&split.test);
    let trust = trustworthiness(&Points::new(&pixels, split.test.dim()), &te, 10)?;
    let pairs = pair_distances(&tr, &fitted.graph, 5000, 0);

    let mut files = Vec::new();
    let model_dir = out.join("model");
    model.save(&model_dir)?;
    files.push(model_dir);
    for (name, e) in [
        ("train_embedding.npy", &train_emb),
        ("test_embedding.npy", &test_emb),
    ] {
        let p = out.join(name);
        crate::output::write_matrix(&p, e, e.len() / d, d)?;
        files.push(p);
    }
    let slant = super::slant(&split.test);
    for ext in ["png", "svg"] {
        let p = out.join(format!("mnist-4-9-test-by-digit.{ext}"));
        scatter(
            &p,
            &te,
            &Colouring::Labels(&split.test_labels),
            "DrLIM, MNIST 4s and 9s: test digits (out of sample)",
        )?;
        files.push(p);
        let p = out.join(format!("mnist-4-9-test-by-slant.{ext}"));
        scatter(
            &p,
            &te,
            &Colouring::Values {
                values: &slant,
                name: "slant (blue: leans left, red: leans right)",
            },
            "DrLIM, MNIST 4s and 9s: test digits",
        )?;
        files.push(p);
    }
    let report = Report {
        n_train: split.train.n,
        n_test: split.test.n,
        neighbour_pairs: fitted.graph.len(),
        epochs: fitted.history.len(),
        final_loss: fitted.history.last().map(|r| r.loss).unwrap_or(f32::NAN),
        test_knn5_accuracy: acc,
        test_trustworthiness10: trust,
        train_pair_distances: pairs,
        fit_seconds,
        embed_seconds,
        files: files.clone(),
    };
    let p = out.join("metrics.json");
    crate::output::write_bytes(&p, &serde_json::to_vec_pretty(&report).expect("serialises"))?;
    let mut report = report;
    report.files.push(p);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_matches_the_reference_sizes() {
        let (images, labels) = super::super::builtin_mnist().unwrap();
        let s = split(&images, &labels, 0.7);
        assert_eq!((s.train.n, s.test.n), (1370, 588));
        assert!(s
            .train_labels
            .iter()
            .chain(&s.test_labels)
            .all(|&l| l == 4 || l == 9));
    }
}
