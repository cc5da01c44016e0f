//! One fit on a digit split, scored the same way everywhere: test 5-NN accuracy against the
//! training map and test trustworthiness@10 against the test pixels.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use drlim::eval::{knn_accuracy, trustworthiness};
use drlim::plot::{scatter, Colouring};
use drlim::points::Points;
use drlim::train::{LossKind, Negatives, TrainObserver};
use drlim::{fit, Dataset, Device, EpochReport, FitOptions, KnnWeights, Model, NetKind, Result};

use crate::mnist_4_9::Split;

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
) -> Result<(Run, Vec<f32>, drlim::Model)> {
    let t0 = Instant::now();
    let fitted = fit(&split.train, options, device, observer)?;
    let fit_seconds = t0.elapsed().as_secs_f64();
    fitted.outcome.check()?;
    let model = fitted.model;
    let s = score(&model, split)?;
    let run = Run {
        name: name.into(),
        setting: describe(options),
        neighbour_pairs: fitted.graph.len(),
        epochs: fitted.history.len(),
        test_knn5_accuracy: s.acc,
        test_trustworthiness10: s.trust,
        fit_seconds,
        embed_seconds: s.test_embed_seconds,
    };
    Ok((run, s.test_emb, model))
}

/// How well a map of a digit split does, out of sample.
pub struct Score {
    /// Test 5-NN accuracy against the training map.
    pub acc: f64,
    /// Test trustworthiness@10 against the test pixels.
    pub trust: f64,
    /// The training map (`train.n × d`).
    pub train_emb: Vec<f32>,
    /// The test map (`test.n × d`).
    pub test_emb: Vec<f32>,
    /// Seconds to map the test digits.
    pub test_embed_seconds: f64,
}

/// Maps both halves of `split` with `model` and scores the test map: 5-NN accuracy against the
/// training map and trustworthiness@10 against the test pixels.
pub fn score(model: &Model, split: &Split) -> Result<Score> {
    let d = model.dim();
    let train_emb = model.embed(&split.train)?;
    let t = Instant::now();
    let test_emb = model.embed(&split.test)?;
    let test_embed_seconds = t.elapsed().as_secs_f64();
    let (tr, te) = (Points::new(&train_emb, d), Points::new(&test_emb, d));
    let acc = knn_accuracy(&tr, &split.train_labels, &te, &split.test_labels, 5)?;
    let trust = pixel_trustworthiness(model, &split.test, &test_emb)?;
    Ok(Score {
        acc,
        trust,
        train_emb,
        test_emb,
        test_embed_seconds,
    })
}

/// Trustworthiness@10 of `emb`, the map of `data` by `model`, against `data`'s pixels as the
/// model normalises them.
pub fn pixel_trustworthiness(model: &Model, data: &Dataset, emb: &[f32]) -> Result<f64> {
    let pixels = model.config.input.normalisation.apply(data);
    trustworthiness(
        &Points::new(&pixels, data.dim()),
        &Points::new(emb, model.dim()),
        10,
    )
}

/// A tuning aid: prints the [`score`] of the map every `every` epochs while it trains.
pub struct ScoreEvery<'a> {
    /// The digits to score on.
    pub split: &'a Split,
    /// Epochs between two scores.
    pub every: usize,
    /// When training started.
    pub start: Instant,
}

impl TrainObserver for ScoreEvery<'_> {
    fn on_epoch(&mut self, r: &EpochReport, model: &Model) -> ControlFlow<()> {
        if r.epoch.is_multiple_of(self.every) {
            match score(model, self.split) {
                Ok(s) => println!(
                    "epoch {:3} loss {:.5} ({:.0} pairs/s) acc {:.4} trust {:.4} ({:.0}s)",
                    r.epoch,
                    r.loss,
                    r.pairs_per_s(),
                    s.acc,
                    s.trust,
                    self.start.elapsed().as_secs_f64()
                ),
                Err(e) => println!("epoch {}: {e}", r.epoch),
            }
        }
        ControlFlow::Continue(())
    }
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
    let fall = if t.augment_final < 1.0 {
        format!(
            ", the strengths falling linearly to {} of these by the last epoch",
            t.augment_final
        )
    } else {
        String::new()
    };
    let augment = match &t.augment {
        Some(a) => format!(
            "; declared invariances {} (each arm a fresh transformed copy, plus {} pair(s) of two copies of each digit per epoch{fall})",
            a.describe(),
            t.augment_pairs
        ),
        None => String::new(),
    };
    let weights = match o.knn_weights {
        KnnWeights::Uniform => "",
        KnnWeights::Fuzzy => " (pairs drawn in proportion to UMAP's fuzzy memberships)",
    };
    format!(
        "{net} to {} dimensions, {} Euclidean neighbours{weights}, {negatives}, {loss}, {} epochs of batch {}, SGD lr {} (decay {} per epoch), momentum {}{augment}, seed {}",
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
    drlim::output::write_matrix(&p, embedding, split.test.n, dim)?;
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
    if (2..=3).contains(&dim) {
        let layer = crate::interactive::layer("test", embedding, dim, &split.test)
            .with_column(drlim::view::Column::labels("digit", &split.test_labels));
        files.push(crate::interactive::write_map(
            out,
            &format!("{stem}-map"),
            title,
            &[layer],
        )?);
    }
    Ok(files)
}
