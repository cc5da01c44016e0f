//! The paper's second experiment (§4.2, Figures 5–7): the 4s and 9s and their copies shifted
//! horizontally by −6, −3, +3 and +6 pixels. (a) With the Euclidean 5-NN graph the map falls
//! into clusters by shift; (b) with prior knowledge — each sample paired with its 5 nearest
//! neighbours, its own shifted copies and the copies of its neighbours — it ignores shift.

use std::path::{Path, PathBuf};
use std::time::Instant;

use drlim::Device;
use serde::Serialize;

use super::mnist_4_9::Split;
use crate::builtin_mnist;
use crate::registry::{Context, Outcome};
use drlim::data::images::shift;
use drlim::data::Dataset;
use drlim::eval::{knn_accuracy, point_distance};
use drlim::neighbours::{KnnSource, NeighbourSource, TransformGroups};
use drlim::plot::{scatter, Colouring};
use drlim::points::Points;
use drlim::train::TrainObserver;
use drlim::{fit_with, FitOptions};
use drlim::{Error, Result};

/// Horizontal shifts in pixels; 0 is the original.
pub const SHIFTS: [i32; 5] = [0, -6, -3, 3, 6];

/// The figures of merit of one run.
#[derive(Clone, Debug, Serialize)]
pub struct ShiftRun {
    /// `euclidean` or `prior-knowledge`.
    pub graph: String,
    /// Neighbour pairs trained on.
    pub neighbour_pairs: usize,
    /// Mean distance between the 5 shifted copies of a test digit ÷ mean distance of random
    /// test pairs (0: perfectly shift-invariant).
    pub invariance_ratio: f64,
    /// 5-NN digit accuracy of the test map against the training map.
    pub test_digit_knn5_accuracy: f64,
    /// 5-NN accuracy of predicting the shift from the map (chance: 0.2): high when the map is
    /// organised by shift.
    pub test_shift_knn5_accuracy: f64,
    /// Seconds to build the graph and train.
    pub fit_seconds: f64,
}

/// Target for the prior-knowledge invariance ratio (at most): the 5 shifted copies of a test digit
/// closer than a tenth of the random-pair distance.
pub const TARGET_RATIO: f64 = 0.10;
/// How many times the prior-knowledge ratio the Euclidean ratio must be ("far larger").
pub const EUCLIDEAN_FACTOR: f64 = 3.0;

/// Both runs and the files written.
#[derive(Clone, Debug, Serialize)]
pub struct ShiftReport {
    /// Training originals (each with 4 shifted copies).
    pub n_train_originals: usize,
    /// Test originals.
    pub n_test_originals: usize,
    /// (a) the Euclidean 5-NN graph.
    pub euclidean: ShiftRun,
    /// (b) the prior-knowledge graph.
    pub prior_knowledge: ShiftRun,
    /// Files written.
    pub files: Vec<PathBuf>,
}

impl ShiftReport {
    /// Whether the prior-knowledge ratio meets its target and the Euclidean ratio is far larger.
    pub fn targets_met(&self) -> bool {
        let (e, p) = (&self.euclidean, &self.prior_knowledge);
        p.invariance_ratio <= TARGET_RATIO
            && e.invariance_ratio > EUCLIDEAN_FACTOR * p.invariance_ratio
    }
}

/// The images with all their shifted copies, shift after shift, and per sample (original
/// index, shift).
fn with_shifts(images: &Dataset) -> Result<(Dataset, Vec<u32>, Vec<i64>)> {
    let copies = SHIFTS
        .iter()
        .map(|&dx| shift(images, dx, 0, 0.0))
        .collect::<Result<Vec<_>>>()?;
    let mut values = Vec::with_capacity(images.n * images.dim() * SHIFTS.len());
    for c in &copies {
        values.extend_from_slice(&c.values());
    }
    let all = Dataset::new(
        format!("{} shifted by {SHIFTS:?} pixels", images.origin),
        values,
        images.n * SHIFTS.len(),
        images.shape.clone(),
        images.dtype,
    )?;
    let origin = (0..SHIFTS.len()).flat_map(|_| 0..images.n as u32).collect();
    let shifts = SHIFTS
        .iter()
        .flat_map(|&dx| std::iter::repeat_n(dx as i64, images.n))
        .collect();
    Ok((all, origin, shifts))
}

/// Runs both graphs on `split` and writes embeddings, plots, `metrics.json` and `report.md`
/// into `out`.
pub fn run(
    split: &Split,
    options: &FitOptions,
    out: &Path,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<ShiftReport> {
    std::fs::create_dir_all(out).map_err(|e| Error::output(out, e))?;
    let (train, origin, train_shift) = with_shifts(&split.train)?;
    let (test, _, test_shift) = with_shifts(&split.test)?;
    let repeat =
        |l: &[i64]| -> Vec<i64> { (0..SHIFTS.len()).flat_map(|_| l.iter().copied()).collect() };
    let (train_digit, test_digit) = (repeat(&split.train_labels), repeat(&split.test_labels));
    let knn = KnnSource { k: options.k };
    let originals =
        drlim::data::Normalisation::fit(options.normalise, &split.train).apply(&split.train);
    let base = knn.graph(&Points::new(&originals, split.train.dim()))?;
    let prior = TransformGroups { origin, base };
    let sources: [(&str, &dyn NeighbourSource); 2] =
        [("euclidean", &knn), ("prior-knowledge", &prior)];
    let mut runs = Vec::new();
    let mut files = Vec::new();
    // one metadata row per test point, in the embeddings' order
    let p = out.join("mnist-shift-test-metadata.csv");
    let rows: Vec<Vec<f64>> = (0..test.n)
        .map(|i| {
            vec![
                (i % split.test.n) as f64,
                test_digit[i] as f64,
                test_shift[i] as f64,
            ]
        })
        .collect();
    drlim::output::write_csv(&p, &["original", "digit", "shift"], &rows)?;
    files.push(p);
    for (name, source) in sources {
        let t0 = Instant::now();
        let fitted = fit_with(&train, options, source, device, observer)?;
        let fit_seconds = t0.elapsed().as_secs_f64();
        fitted.outcome.check()?;
        let m = fitted.model;
        let d = m.dim();
        let etr = m.embed(&train)?;
        let ete = m.embed(&test)?;
        let (ptr, pte) = (Points::new(&etr, d), Points::new(&ete, d));
        let digit_acc = knn_accuracy(&ptr, &train_digit, &pte, &test_digit, 5)?;
        let shift_acc = knn_accuracy(&ptr, &train_shift, &pte, &test_shift, 5)?;
        let ratio = invariance_ratio(&pte, split.test.n);
        for (what, labels) in [("shift", &test_shift), ("digit", &test_digit)] {
            for ext in ["png", "svg"] {
                let p = out.join(format!("mnist-shift-{name}-by-{what}.{ext}"));
                let title = format!(
                    "DrLIM, shifted 4s and 9s, {name} neighbours: test (out of sample), by {what}"
                );
                scatter(&p, &pte, &Colouring::Labels(labels), &title)?;
                files.push(p);
            }
        }
        if (2..=3).contains(&d) {
            use crate::interactive::{layer, write_map};
            use drlim::view::Column;
            let l = layer("test", &ete, d, &test)
                .with_column(Column::labels("shift", &test_shift))
                .with_column(Column::labels("digit", &test_digit));
            let title =
                format!("DrLIM, shifted 4s and 9s, {name} neighbours: test (out of sample)");
            files.push(write_map(
                out,
                &format!("mnist-shift-{name}-map"),
                &title,
                &[l],
            )?);
        }
        let p = out.join(format!("mnist-shift-{name}-test-embedding.npy"));
        drlim::output::write_matrix(&p, &ete, test.n, d)?;
        files.push(p);
        runs.push(ShiftRun {
            graph: name.into(),
            neighbour_pairs: fitted.graph.len(),
            invariance_ratio: ratio,
            test_digit_knn5_accuracy: digit_acc,
            test_shift_knn5_accuracy: shift_acc,
            fit_seconds,
        });
    }
    let [euclidean, prior_knowledge]: [ShiftRun; 2] = runs.try_into().expect("two graphs");
    let mut report = ShiftReport {
        n_train_originals: split.train.n,
        n_test_originals: split.test.n,
        euclidean,
        prior_knowledge,
        files,
    };
    let p = out.join("metrics.json");
    drlim::output::write_bytes(&p, &serde_json::to_vec_pretty(&report).expect("serialises"))?;
    report.files.push(p);
    let p = out.join("report.md");
    drlim::output::write_bytes(&p, markdown(&report, options).as_bytes())?;
    report.files.push(p);
    Ok(report)
}

/// Mean distance among the shifted copies of each test original ÷ mean distance of random pairs.
fn invariance_ratio(e: &Points, n_originals: usize) -> f64 {
    let s = SHIFTS.len();
    let mut within = 0.0;
    let mut count = 0usize;
    for j in 0..n_originals {
        for a in 0..s {
            for b in a + 1..s {
                within += point_distance(e, a * n_originals + j, b * n_originals + j);
                count += 1;
            }
        }
    }
    let random = drlim::eval::pair_distances(
        e,
        &drlim::neighbours::NeighbourGraph::from_pairs(e.n, []),
        20_000,
        1,
    )
    .random_mean;
    (within / count as f64) / random.max(f64::MIN_POSITIVE)
}

fn markdown(r: &ShiftReport, o: &FitOptions) -> String {
    let mut s =
        String::from("# Shift invariance from prior knowledge (Hadsell et al. 2006, §4.2)\n\n");
    s += &format!(
        "Setting: the MNIST 4s and 9s, {} training and {} test originals, each with copies shifted horizontally by −6, −3, +3 and +6 pixels ({} training and {} test images). The paper's convnet maps them to {} dimensions, trained {} epochs (lr {}, momentum {}, {} random non-neighbour pairs per neighbour pair). The test images are mapped out of sample.\n\n",
        r.n_train_originals, r.n_test_originals, r.n_train_originals * 5, r.n_test_originals * 5, o.dim, o.train.epochs, o.train.lr, o.train.momentum, o.train.neg_ratio
    );
    s += "- (a) **euclidean**: each image's 5 nearest Euclidean neighbours among all shifted images.\n";
    s += "- (b) **prior-knowledge**: each original paired with its 5 nearest neighbours (among originals), its 4 shifted copies and the copies of its neighbours; each copy with all of these.\n\n";
    s += "| graph | neighbour pairs | invariance ratio | test 5-NN digit accuracy | test 5-NN shift accuracy (chance 0.20) | fit |\n|---|---:|---:|---:|---:|---:|\n";
    for run in [&r.euclidean, &r.prior_knowledge] {
        s += &format!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.0} s |\n",
            run.graph,
            run.neighbour_pairs,
            run.invariance_ratio,
            run.test_digit_knn5_accuracy,
            run.test_shift_knn5_accuracy,
            run.fit_seconds
        );
    }
    let (a, b) = (&r.euclidean, &r.prior_knowledge);
    s += &format!(
        "\nThe invariance ratio is the mean distance between the 5 copies of a test digit divided by the mean distance between random test images: {:.3} with the Euclidean graph and {:.3} with prior knowledge (target ≤ {TARGET_RATIO:.2}: {}).\n",
        a.invariance_ratio,
        b.invariance_ratio,
        if b.invariance_ratio <= TARGET_RATIO { "met" } else { "missed" }
    );
    s += &format!(
        "With the Euclidean graph the shift of a test image can be read off the map with 5-NN accuracy {:.2}; with prior knowledge it {} (accuracy {:.2} against chance 0.20).\n\n",
        a.test_shift_knn5_accuracy,
        if b.test_shift_knn5_accuracy < 0.35 { "can hardly be read off" } else { "can still partly be read off" },
        b.test_shift_knn5_accuracy
    );
    s += "Figures (PNG and SVG): `mnist-shift-euclidean-by-shift`, `mnist-shift-euclidean-by-digit`, `mnist-shift-prior-knowledge-by-shift`, `mnist-shift-prior-knowledge-by-digit`: the test map of each run coloured by shift and by digit. `mnist-shift-<graph>-test-embedding.npy` holds the test points, one row per line of `mnist-shift-test-metadata.csv` (original index, digit, shift).\n\n";
    // this reading was made on the figures of the default run (seed 0, 10 epochs); the
    // metrics above are what make it hold for this run too
    s += super::figure_reading(
        a.test_shift_knn5_accuracy > 0.8 && b.test_shift_knn5_accuracy < 0.35,
        "What they show: with Euclidean neighbours the test map splits into one band per shift, the bands in order of shift across the map, with 4s and 9s mixed inside each band: the map encodes where the digit sits rather than what it is, as in the paper. With prior knowledge the five shifts are mixed everywhere and the map separates the 4s from the 9s instead.\n",
    );
    s
}

/// The experiment's defaults: the library's, with 10 epochs at a learning rate of 0.01 (the
/// shifted set is five times as large).
pub fn default_options() -> FitOptions {
    let mut o = FitOptions::default();
    (o.train.epochs, o.train.lr) = (10, 0.01);
    o
}

/// The registry's entry point: both graphs on the built-in 4s and 9s and their shifted copies.
pub fn perform(cx: Context<'_>) -> Result<Outcome> {
    let (images, labels) = builtin_mnist()?;
    let split = crate::mnist_4_9::split(&images, &labels, 0.7);
    let r = run(
        &split,
        &cx.settings.apply(default_options()),
        cx.out,
        cx.device,
        cx.observer,
    )?;
    let (e, p) = (&r.euclidean, &r.prior_knowledge);
    let lines = [e, p].iter().map(|run| format!(
        "mnist-shift {:>15}: {} neighbour pairs, invariance ratio {:.3}, test 5-NN digit accuracy {:.3}, shift accuracy {:.3} (chance 0.20), fit {:.0}s",
        run.graph, run.neighbour_pairs, run.invariance_ratio, run.test_digit_knn5_accuracy, run.test_shift_knn5_accuracy, run.fit_seconds
    )).collect();
    Ok(Outcome {
        lines,
        headline: format!(
            "invariance ratio {:.3} with prior knowledge (target ≤ {TARGET_RATIO:.2}) vs {:.3} with Euclidean neighbours",
            p.invariance_ratio, e.invariance_ratio
        ),
        targets_met: r.targets_met(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_shift_major_with_their_origins() {
        let d = Dataset::new(
            "x",
            (0..2 * 16).map(|v| v as f32).collect(),
            2,
            vec![4, 4],
            drlim::data::SourceDtype::U8,
        )
        .unwrap();
        let (all, origin, shifts) = with_shifts(&d).unwrap();
        assert_eq!(all.n, 10);
        assert_eq!(origin, vec![0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
        assert_eq!(shifts, vec![0, 0, -6, -6, -3, -3, 3, 3, 6, 6]);
        assert_eq!(all.row(1), d.row(1));
        assert!(
            all.row(2).iter().all(|&v| v == 0.0),
            "a 4-wide image shifted by 6 is empty"
        );
    }

    #[test]
    fn prior_knowledge_makes_the_map_shift_invariant_reduced() {
        let (images, labels) = super::super::builtin_mnist().unwrap();
        let full = super::super::mnist_4_9::split(&images, &labels, 0.7);
        let pick = |d: &Dataset, l: &[i64], n: usize| {
            (d.select(&(0..n).collect::<Vec<_>>()), l[..n].to_vec())
        };
        let (train, train_labels) = pick(&full.train, &full.train_labels, 150);
        let (test, test_labels) = pick(&full.test, &full.test_labels, 60);
        let split = Split {
            train,
            train_labels,
            test,
            test_labels,
        };
        let mut o = FitOptions::default();
        o.train.epochs = 3;
        o.train.lr = 0.01;
        let dir = tempfile::tempdir().unwrap();
        let r = run(&split, &o, dir.path(), &Device::flex(), &mut drlim::Silent).unwrap();
        let (a, b) = (&r.euclidean, &r.prior_knowledge);
        assert!(b.invariance_ratio < a.invariance_ratio, "{a:?} {b:?}");
        assert!(
            b.test_shift_knn5_accuracy < a.test_shift_knn5_accuracy,
            "{a:?} {b:?}"
        );
        assert!(
            dir.path().join("report.md").is_file()
                && dir
                    .path()
                    .join("mnist-shift-prior-knowledge-by-shift.png")
                    .is_file()
        );
    }
}
