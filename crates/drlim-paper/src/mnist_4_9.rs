//! The paper's first experiment (§4.1, Figure 4): the 4s and 9s of MNIST, 5 nearest Euclidean
//! neighbours, the convnet to 2-D, the test digits mapped out of sample.
//!
//! Split: every 4 and 9 in file order, the first 70% train and the rest test (1,370 / 588 on the
//! built-in 10,000 digits), the same split as the PyTorch reference.

use std::path::{Path, PathBuf};
use std::time::Instant;

use drlim::Device;
use serde::Serialize;

use super::scored::{fit_and_score, score, write_test_map, Run, Score};
use crate::builtin_mnist;
use crate::registry::{Context, Outcome};
use drlim::data::Dataset;
use drlim::eval::{pair_distances, PairDistances};
use drlim::plot::{scatter, scatter_thumbnails, Colouring, Thumbnails};
use drlim::points::Points;
use drlim::train::TrainObserver;
use drlim::{fit, FitOptions};
use drlim::{Error, Result};

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
    split_digits(images, labels, &[4, 9], train_frac)
}

/// Every image of one of `digits` in file order; the first ⌊train_frac · n⌋ train, the rest
/// test (the PyTorch reference's and `manifold_peers.py`'s split for `DRLIM_DIGITS`).
pub fn split_digits(images: &Dataset, labels: &[i64], digits: &[i64], train_frac: f64) -> Split {
    let idx: Vec<usize> = (0..images.n)
        .filter(|&i| digits.contains(&labels[i]))
        .collect();
    let n_train = (train_frac * idx.len() as f64).floor() as usize;
    let (tr, te) = idx.split_at(n_train);
    Split {
        train: images.select(tr).named("built-in digits (train split)"),
        train_labels: tr.iter().map(|&i| labels[i]).collect(),
        test: images.select(te).named("built-in digits (test split)"),
        test_labels: te.iter().map(|&i| labels[i]).collect(),
    }
}

/// Where the faithful PyTorch reference (`../shared/peers`) lands on this split over seeds 0–4:
/// test 5-NN accuracy from, to.
pub const REFERENCE_ACCURACY: (f64, f64) = (0.736, 0.784);
/// The same for test trustworthiness@10.
pub const REFERENCE_TRUSTWORTHINESS: (f64, f64) = (0.846, 0.857);
/// Target for the paper's run: test 5-NN accuracy where the reference lands over seeds, not
/// below its lowest (a single seed's median would flip with the CPU's rounding).
pub const TARGET_ACCURACY: f64 = REFERENCE_ACCURACY.0;
/// Target for the paper's run: test trustworthiness@10 not below the reference's lowest.
pub const TARGET_TRUSTWORTHINESS: f64 = REFERENCE_TRUSTWORTHINESS.0;

/// Where `value` lies against the reference's `range` over seeds, in words.
pub fn against_reference(value: f64, range: (f64, f64)) -> String {
    let place = if value < range.0 {
        "below"
    } else if value > range.1 {
        "above"
    } else {
        "within"
    };
    format!(
        "{place} the reference's {:.3}–{:.3} over seeds 0–4",
        range.0, range.1
    )
}
/// Target for the run with declared invariances: test 5-NN accuracy at least this (UMAP: 0.952).
pub const TARGET_INVARIANCE_ACCURACY: f64 = 0.96;
/// Target for the run with declared invariances: trustworthiness@10 at least this (UMAP: 0.908).
pub const TARGET_INVARIANCE_TRUSTWORTHINESS: f64 = 0.90;

/// The declared-invariance setting of `mnist-10` (no labels), with three times the epochs for
/// the smaller training set (and the learning-rate decay spread over them).
pub fn invariance_options() -> FitOptions {
    let mut o = super::mnist_10::invariance_options();
    o.train.epochs *= 3;
    o.train.lr_decay = o.train.lr_decay.powf(1.0 / 3.0);
    o
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
    /// How smoothly slant varies over the test map, per digit: R² of predicting each digit's
    /// slant by the mean slant of its 10 nearest same-digit neighbours in the map (1: smooth,
    /// 0: no better than the digit's mean slant).
    pub test_slant_knn_r2: f64,
    /// Mean output distance of training neighbour pairs vs random pairs.
    pub train_pair_distances: PairDistances,
    /// Seconds to build the graph and train.
    pub fit_seconds: f64,
    /// Seconds to embed the test digits.
    pub embed_seconds: f64,
    /// The second run, with declared invariances (when asked for).
    pub invariances: Option<Run>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

impl Report {
    /// Whether the run with declared invariances (if any) meets its targets.
    pub fn invariance_targets_met(&self) -> Option<bool> {
        self.invariances.as_ref().map(|r| {
            r.test_knn5_accuracy >= TARGET_INVARIANCE_ACCURACY
                && r.test_trustworthiness10 >= TARGET_INVARIANCE_TRUSTWORTHINESS
        })
    }

    /// Whether the test accuracy and trustworthiness meet their targets.
    pub fn targets_met(&self) -> bool {
        self.test_knn5_accuracy >= TARGET_ACCURACY
            && self.test_trustworthiness10 >= TARGET_TRUSTWORTHINESS
    }
}

/// Fits on the training digits, embeds the test digits and writes to `out`: the model
/// (`model/`), both embeddings (`.npy`), plots of the test map coloured by digit and by slant
/// (PNG and SVG) and `metrics.json`. With `invariances`, also fits that setting (declared
/// invariances, no labels) and writes its test map and embedding beside the paper's.
pub fn run(
    split: &Split,
    options: &FitOptions,
    invariances: Option<&FitOptions>,
    out: &Path,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<Report> {
    std::fs::create_dir_all(out).map_err(|e| Error::output(out, e))?;
    let t0 = Instant::now();
    let fitted = fit(&split.train, options, device, observer)?;
    let fit_seconds = t0.elapsed().as_secs_f64();
    fitted.outcome.check()?;
    let model = fitted.model;
    let d = model.dim();
    let Score {
        acc,
        trust,
        train_emb,
        test_emb,
        test_embed_seconds: embed_seconds,
    } = score(&model, split)?;
    let (tr, te) = (Points::new(&train_emb, d), Points::new(&test_emb, d));
    let pairs = pair_distances(&tr, &fitted.graph, 5000, 0);
    let slant = super::slant(&split.test);
    let slant_r2 = slant_knn_r2(&te, &split.test_labels, &slant, 10);

    let mut files = Vec::new();
    let model_dir = out.join("model");
    model.save(&model_dir)?;
    files.push(model_dir);
    for (name, e) in [
        ("train_embedding.npy", &train_emb),
        ("test_embedding.npy", &test_emb),
    ] {
        let p = out.join(name);
        drlim::output::write_matrix(&p, e, e.len() / d, d)?;
        files.push(p);
    }
    // one metadata row per point, in the embeddings' order
    let train_slant = super::slant(&split.train);
    for (name, labels, slants) in [
        ("train_metadata.csv", &split.train_labels, &train_slant),
        ("test_metadata.csv", &split.test_labels, &slant),
    ] {
        let p = out.join(name);
        let rows: Vec<Vec<f64>> = labels
            .iter()
            .zip(slants)
            .map(|(&l, &s)| vec![l as f64, s as f64])
            .collect();
        drlim::output::write_csv(&p, &["digit", "slant"], &rows)?;
        files.push(p);
    }
    if (2..=3).contains(&d) {
        use crate::interactive::{layer, numbers, write_map};
        use drlim::view::Column;
        let layers = [
            layer("training", &train_emb, d, &split.train)
                .with_column(Column::labels("digit", &split.train_labels))
                .with_column(numbers("slant", &train_slant)),
            layer("test", &test_emb, d, &split.test)
                .with_column(Column::labels("digit", &split.test_labels))
                .with_column(numbers("slant", &slant)),
        ];
        let title =
            "DrLIM, MNIST 4s and 9s: the training map, test digits (out of sample) as rings";
        files.push(write_map(out, "mnist-4-9-map", title, &layers)?);
    }
    for ext in ["png", "svg"] {
        let p = out.join(format!("mnist-4-9-test-by-digit.{ext}"));
        scatter(
            &p,
            &te,
            &Colouring::Labels(&split.test_labels),
            "DrLIM, MNIST 4s and 9s: test digits (out of sample)",
        )?;
        files.push(p);
        let p = out.join(format!("mnist-4-9-test-thumbnails.{ext}"));
        let ink: Vec<f32> = split.test.values().iter().map(|v| v / 255.0).collect();
        scatter_thumbnails(
            &p,
            &te,
            &Colouring::Labels(&split.test_labels),
            "DrLIM, MNIST 4s and 9s: test digits (out of sample), some drawn where they map",
            &Thumbnails {
                images: &ink,
                side: 28,
                max: 160,
            },
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
    let invariances = match invariances {
        Some(o) => {
            let (run, emb, _) = fit_and_score(split, "invariances", o, device, observer)?;
            files.extend(write_test_map(
                out,
                "mnist-4-9-invariances",
                split,
                &emb,
                d,
                "DrLIM with declared invariances, MNIST 4s and 9s: test digits (out of sample)",
            )?);
            Some(run)
        }
        None => None,
    };
    let report = Report {
        invariances,
        n_train: split.train.n,
        n_test: split.test.n,
        neighbour_pairs: fitted.graph.len(),
        epochs: fitted.history.len(),
        final_loss: fitted.history.last().map(|r| r.loss).unwrap_or(f32::NAN),
        test_knn5_accuracy: acc,
        test_trustworthiness10: trust,
        test_slant_knn_r2: slant_r2,
        train_pair_distances: pairs,
        fit_seconds,
        embed_seconds,
        files: files.clone(),
    };
    let p = out.join("metrics.json");
    drlim::output::write_bytes(&p, &serde_json::to_vec_pretty(&report).expect("serialises"))?;
    let mut report = report;
    report.files.push(p);
    let p = out.join("report.md");
    drlim::output::write_bytes(&p, markdown(&report, options).as_bytes())?;
    report.files.push(p);
    Ok(report)
}

/// Per class, R² of predicting each point's value by the mean value of its `k` nearest
/// same-class points in the map; averaged over the classes.
pub fn slant_knn_r2(e: &Points, labels: &[i64], values: &[f32], k: usize) -> f64 {
    let mut classes: Vec<i64> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let mut r2s = Vec::new();
    for c in classes {
        let idx: Vec<usize> = (0..e.n).filter(|&i| labels[i] == c).collect();
        if idx.len() <= k {
            continue;
        }
        let coords: Vec<f32> = idx.iter().flat_map(|&i| e.row(i).iter().copied()).collect();
        let p = Points::new(&coords, e.dim);
        let nb = drlim::neighbours::knn_indices(&p, &p, k, true);
        let v: Vec<f64> = idx.iter().map(|&i| values[i] as f64).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let (mut res, mut tot) = (0.0, 0.0);
        for (i, row) in nb.chunks_exact(k).enumerate() {
            let pred = row.iter().map(|&j| v[j as usize]).sum::<f64>() / k as f64;
            res += (v[i] - pred).powi(2);
            tot += (v[i] - mean).powi(2);
        }
        r2s.push(1.0 - res / tot.max(f64::MIN_POSITIVE));
    }
    r2s.iter().sum::<f64>() / r2s.len().max(1) as f64
}

fn markdown(r: &Report, o: &FitOptions) -> String {
    let mut s = String::from("# MNIST 4s and 9s, 5 nearest Euclidean neighbours (Hadsell et al. 2006, §4.1, Figure 4)\n\n");
    s += &format!(
        "Setting: the paper's convnet maps the {} training 4s and 9s to {} dimensions, trained {} epochs on their {} symmetrised 5-NN pairs (lr {}, momentum {}, {} random non-neighbour pairs per neighbour pair, seed {}); the {} test digits are mapped out of sample.\n\n",
        r.n_train, o.dim, r.epochs, r.neighbour_pairs, o.train.lr, o.train.momentum, o.train.neg_ratio, o.train.seed, r.n_test
    );
    s += "| metric | value | target |\n|---|---:|---:|\n";
    s += &format!(
        "| test 5-NN accuracy against the training map | {:.5} ({}) | ≥ {TARGET_ACCURACY} |\n",
        r.test_knn5_accuracy,
        against_reference(r.test_knn5_accuracy, REFERENCE_ACCURACY)
    );
    s += &format!(
        "| test trustworthiness, 10 neighbours | {:.5} ({}) | ≥ {TARGET_TRUSTWORTHINESS} |\n",
        r.test_trustworthiness10,
        against_reference(r.test_trustworthiness10, REFERENCE_TRUSTWORTHINESS)
    );
    s += &format!(
        "| slant smoothness over the test map (per-digit 10-NN R²) | {:.3} | |\n",
        r.test_slant_knn_r2
    );
    s += &format!(
        "| training map: mean distance of neighbour pairs / of random pairs | {:.3} / {:.3} | |\n| fit | {:.0} s | |\n\n",
        r.train_pair_distances.neighbour_mean, r.train_pair_distances.random_mean, r.fit_seconds
    );
    for (name, value, target) in [
        ("accuracy", r.test_knn5_accuracy, TARGET_ACCURACY),
        (
            "trustworthiness",
            r.test_trustworthiness10,
            TARGET_TRUSTWORTHINESS,
        ),
    ] {
        if value < target {
            s += &format!("The {name} target is missed: {value:.5} < {target}.\n");
        }
    }
    s += "\nFigures (PNG and SVG): `mnist-4-9-test-by-digit` (the test map coloured by digit), `mnist-4-9-test-thumbnails` (the same map with about 160 test digits drawn where they land, framed in their digit's colour) and `mnist-4-9-test-by-slant` (coloured by slant, blue leaning left, red leaning right). ";
    s += &if r.test_slant_knn_r2 >= 0.5 {
        format!(
            "Slant changes gradually across the map (R² {:.2} of predicting a digit's slant from its 10 nearest same-digit neighbours), the paper's observation that the map organises the digits by slant.\n\n",
            r.test_slant_knn_r2
        )
    } else {
        format!(
            "Slant does not vary smoothly across this map (R² {:.2}).\n\n",
            r.test_slant_knn_r2
        )
    };
    // read on the figures of the default run (seed 0, 80 epochs); the metrics above are what
    // make it hold for this run too
    s += super::figure_reading(
        r.test_knn5_accuracy >= 0.75 && r.test_slant_knn_r2 >= 0.7,
        "What they show (read on the default run): the 9s gather in a band along the edge of the map (curving round two of its sides) and the 4s fill the rest, with a mixed zone between them where 4s with closed tops sit among 9s; the slant colours run in one smooth gradient across the map, from digits leaning right at one edge through upright ones to digits leaning left at the opposite edge, and the thumbnails show the same: the strokes tilt steadily as one moves across the map, within the 4s and within the 9s.\n",
    );
    if let Some(i) = &r.invariances {
        let verdict = |ok: bool| if ok { "met" } else { "**missed**" };
        s += &format!(
            "\n## Beyond the paper: declared invariances\n\nA second run on the same split, with no labels: {}. Test 5-NN accuracy **{:.3}** (target ≥ {TARGET_INVARIANCE_ACCURACY}: {}), trustworthiness@10 **{:.3}** (target ≥ {TARGET_INVARIANCE_TRUSTWORTHINESS}: {}), fit {:.0} s. On this split UMAP reaches 0.952 / 0.908 and openTSNE 0.930 / 0.895 (the PyTorch reference's `manifold_peers.py`, quoted), by placing each test digit among its stored pixel neighbours; parametric UMAP, which maps new digits with a network as drlim does, 0.952 / 0.868 with its default net and 0.958 / 0.880 with drlim's 784-512-512-512-512-2 (`bench/parametric_umap_probe.py`, quoted). Figure: `mnist-4-9-invariances-test-by-digit`.\n\n",
            i.setting,
            i.test_knn5_accuracy,
            verdict(i.test_knn5_accuracy >= TARGET_INVARIANCE_ACCURACY),
            i.test_trustworthiness10,
            verdict(i.test_trustworthiness10 >= TARGET_INVARIANCE_TRUSTWORTHINESS),
            i.fit_seconds
        );
    }
    s
}

/// The registry's entry point: the paper's run with the library's defaults and, unless
/// `settings.variant` is off, the run with declared invariances ([`invariance_options`]), on the
/// built-in digits.
pub fn perform(cx: Context<'_>) -> Result<Outcome> {
    let (images, labels) = builtin_mnist()?;
    let options = cx.settings.apply(FitOptions::default()); // the registry's `defaults`
    let inv = cx
        .settings
        .variant
        .then(|| cx.settings.apply(invariance_options()));
    let r = run(
        &split(&images, &labels, 0.7),
        &options,
        inv.as_ref(),
        cx.out,
        cx.device,
        cx.observer,
    )?;
    let mut lines = vec![format!(
        "mnist-4-9: test 5-NN accuracy {:.5}, trustworthiness {:.5}, slant smoothness R² {:.3}, fit {:.0}s",
        r.test_knn5_accuracy, r.test_trustworthiness10, r.test_slant_knn_r2, r.fit_seconds
    )];
    if let Some(i) = &r.invariances {
        lines.push(format!(
            "mnist-4-9 with declared invariances: test 5-NN accuracy {:.5}, trustworthiness {:.5}, fit {:.0}s",
            i.test_knn5_accuracy, i.test_trustworthiness10, i.fit_seconds
        ));
    }
    Ok(Outcome {
        lines,
        headline: format!(
            "test 5-NN accuracy {:.3} (target ≥ {TARGET_ACCURACY}; {}), trustworthiness@10 {:.4} (target ≥ {TARGET_TRUSTWORTHINESS}; {})",
            r.test_knn5_accuracy,
            against_reference(r.test_knn5_accuracy, REFERENCE_ACCURACY),
            r.test_trustworthiness10,
            against_reference(r.test_trustworthiness10, REFERENCE_TRUSTWORTHINESS)
        ),
        targets_met: r.targets_met(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slant_smoothness_is_high_for_a_gradient_and_low_for_noise() {
        let e: Vec<f32> = (0..200)
            .flat_map(|i| [(i % 20) as f32, (i / 20) as f32])
            .collect();
        let labels: Vec<i64> = (0..200).map(|i| (i % 2) as i64).collect();
        let gradient: Vec<f32> = (0..200).map(|i| (i % 20) as f32).collect();
        let noise: Vec<f32> = (0..200).map(|i| ((i * 7919) % 101) as f32).collect();
        let p = Points::new(&e, 2);
        assert!(slant_knn_r2(&p, &labels, &gradient, 10) > 0.8);
        assert!(slant_knn_r2(&p, &labels, &noise, 10) < 0.3);
    }

    #[test]
    fn targets_are_the_references_lowest_and_runs_are_placed_against_its_range() {
        assert_eq!((TARGET_ACCURACY, TARGET_TRUSTWORTHINESS), (0.736, 0.846));
        let place = |v| against_reference(v, REFERENCE_ACCURACY);
        assert!(place(0.70).starts_with("below the reference's 0.736–0.784"));
        assert!(place(0.772).starts_with("within"));
        assert!(place(0.80).starts_with("above"));
    }

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
