//! The paper's third experiment (§4.3, Figures 8–9) on the NORB-like render: a 2-layer fully
//! connected net (20 hidden units, 3 outputs) trained with neighbours = one step apart in
//! azimuth (circular) or elevation, whatever the lighting. The 3-D map should be a cylinder
//! (azimuth around it, elevation along it) that ignores lighting. A run with the Euclidean 5-NN
//! graph is the contrast: it groups by lighting.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

use super::render::{airplane_set, AirplaneSet};
use crate::error::{Error, Result};
use crate::eval::{knn_accuracy, point_distance};
use crate::neighbours::{knn_indices, GridAdjacency, GridDim, KnnSource, NeighbourSource, Points};
use crate::plot::{scatter, Colouring};
use crate::train::TrainObserver;
use crate::{fit_with, FitOptions, NetKind};

/// Test poses out of the 162 (the paper's 660 / 312 image split, all 6 lightings per pose).
pub const TEST_POSES: usize = 52;

/// Figures of merit of one run.
#[derive(Clone, Debug, Serialize)]
pub struct AirplaneRun {
    /// `pose-grid` or `euclidean`.
    pub graph: String,
    /// Neighbour pairs trained on.
    pub neighbour_pairs: usize,
    /// Mean distance between test images of the same pose under other lightings ÷ mean
    /// distance of random test pairs.
    pub lighting_invariance_ratio: f64,
    /// Median circular azimuth error (degrees) of 5-NN regression on the training map.
    pub median_azimuth_error: f64,
    /// Median elevation error (degrees) of the same regression.
    pub median_elevation_error: f64,
    /// 5-NN accuracy of predicting the lighting from the map (chance 1/6).
    pub lighting_knn5_accuracy: f64,
}

/// Both runs and the files written.
#[derive(Clone, Debug, Serialize)]
pub struct AirplaneReport {
    /// Training images.
    pub n_train: usize,
    /// Test images.
    pub n_test: usize,
    /// The pose-grid run and the Euclidean run.
    pub runs: Vec<AirplaneRun>,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Splits the set by pose: `TEST_POSES` poses (seeded) for test, the rest for training.
pub fn split(set: &AirplaneSet, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut poses: Vec<(i64, i64)> = set.metadata.iter().map(|m| (m[0], m[1])).collect();
    poses.sort_unstable();
    poses.dedup();
    poses.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let test: std::collections::HashSet<(i64, i64)> = poses[..TEST_POSES].iter().copied().collect();
    (0..set.metadata.len())
        .partition(|&i| !test.contains(&(set.metadata[i][0], set.metadata[i][1])))
}

/// Trains both graphs and writes plots, metrics.json and report.md into `out`.
pub fn run(
    options: &FitOptions,
    out: &Path,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<AirplaneReport> {
    std::fs::create_dir_all(out).map_err(|e| Error::output(out, e))?;
    let set = airplane_set();
    let (tr, te) = split(&set, options.train.seed);
    let (train, test) = (set.images.select(&tr), set.images.select(&te));
    let meta = |idx: &[usize]| -> Vec<[i64; 3]> { idx.iter().map(|&i| set.metadata[i]).collect() };
    let (mtr, mte) = (meta(&tr), meta(&te));
    let mut o = options.clone();
    o.net = NetKind::Mlp { hidden: vec![20] };
    o.dim = 3;
    let grid = GridAdjacency {
        metadata: mtr.iter().map(|m| m.to_vec()).collect(),
        dims: vec![
            GridDim {
                column: 0,
                step: 20,
                period: Some(360),
            },
            GridDim {
                column: 1,
                step: 5,
                period: None,
            },
        ],
    };
    let knn = KnnSource { k: 5 };
    let sources: [(&str, &dyn NeighbourSource); 2] = [("pose-grid", &grid), ("euclidean", &knn)];
    let mut runs = Vec::new();
    let mut files = Vec::new();
    for (name, source) in sources {
        let fitted = fit_with(
            &train,
            "rendered airplane train",
            &o,
            source,
            device,
            observer,
        )?;
        if let Some(e) = fitted.diverged {
            return Err(e);
        }
        let m = fitted.model;
        let etr = m.embed(&train, "train")?;
        let ete = m.embed(&test, "test")?;
        let (ptr, pte) = (Points::new(&etr, 3), Points::new(&ete, 3));
        let (az_err, el_err) = pose_errors(&ptr, &mtr, &pte, &mte);
        let lights = |m: &[[i64; 3]]| -> Vec<i64> { m.iter().map(|r| r[2]).collect() };
        let light_acc = knn_accuracy(&ptr, &lights(&mtr), &pte, &lights(&mte), 5)?;
        runs.push(AirplaneRun {
            graph: name.into(),
            neighbour_pairs: fitted.graph.len(),
            lighting_invariance_ratio: lighting_ratio(&pte, &mte),
            median_azimuth_error: median(az_err),
            median_elevation_error: median(el_err),
            lighting_knn5_accuracy: light_acc,
        });
        // three views of the 3-D map: the projections on each pair of output axes
        for (axes, (a, b)) in [("12", (0, 1)), ("13", (0, 2)), ("23", (1, 2))] {
            let proj: Vec<f32> = (0..te.len())
                .flat_map(|i| [ete[i * 3 + a], ete[i * 3 + b]])
                .collect();
            let pp = Points::new(&proj, 2);
            for (what, col) in [("azimuth", 0), ("elevation", 1), ("lighting", 2)] {
                let labels: Vec<i64> = mte.iter().map(|r| r[col]).collect();
                let values: Vec<f32> = labels.iter().map(|&v| v as f32).collect();
                let colouring = if what == "lighting" {
                    Colouring::Labels(&labels)
                } else {
                    Colouring::Values {
                        values: &values,
                        name: what,
                    }
                };
                let p = out.join(format!("airplane-{name}-axes{axes}-by-{what}.png"));
                scatter(
                    &p,
                    &pp,
                    &colouring,
                    &format!(
                        "DrLIM airplane, {name} neighbours, test, outputs {}/{}",
                        a + 1,
                        b + 1
                    ),
                )?;
                files.push(p);
            }
        }
    }
    let mut report = AirplaneReport {
        n_train: tr.len(),
        n_test: te.len(),
        runs,
        files,
    };
    let p = out.join("metrics.json");
    crate::output::write_bytes(&p, &serde_json::to_vec_pretty(&report).expect("serialises"))?;
    report.files.push(p);
    Ok(report)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Per test image, the circular azimuth error and the elevation error of 5-NN regression.
fn pose_errors(
    ptr: &Points,
    mtr: &[[i64; 3]],
    pte: &Points,
    mte: &[[i64; 3]],
) -> (Vec<f64>, Vec<f64>) {
    let nb = knn_indices(pte, ptr, 5, false);
    let mut az = Vec::new();
    let mut el = Vec::new();
    for (i, row) in nb.chunks_exact(5).enumerate() {
        let (s, c) = row.iter().fold((0.0, 0.0), |(s, c), &j| {
            let a = (mtr[j as usize][0] as f64).to_radians();
            (s + a.sin(), c + a.cos())
        });
        let pred = s.atan2(c).to_degrees();
        let d = (pred - mte[i][0] as f64).rem_euclid(360.0);
        az.push(d.min(360.0 - d));
        let e = row.iter().map(|&j| mtr[j as usize][1] as f64).sum::<f64>() / 5.0;
        el.push((e - mte[i][1] as f64).abs());
    }
    (az, el)
}

/// Mean distance of same-pose, other-lighting test pairs ÷ mean distance of all test pairs.
fn lighting_ratio(e: &Points, m: &[[i64; 3]]) -> f64 {
    let (mut same, mut ns, mut all, mut na) = (0.0, 0usize, 0.0, 0usize);
    for a in 0..e.n {
        for b in a + 1..e.n {
            let d = point_distance(e, a, b);
            all += d;
            na += 1;
            if m[a][..2] == m[b][..2] {
                same += d;
                ns += 1;
            }
        }
    }
    (same / ns.max(1) as f64) / (all / na.max(1) as f64).max(f64::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_by_pose_660_312() {
        let set = airplane_set();
        let (tr, te) = split(&set, 0);
        assert_eq!((tr.len(), te.len()), (660, 312));
        let test_poses: std::collections::HashSet<_> = te
            .iter()
            .map(|&i| (set.metadata[i][0], set.metadata[i][1]))
            .collect();
        assert!(tr
            .iter()
            .all(|&i| !test_poses.contains(&(set.metadata[i][0], set.metadata[i][1]))));
    }
}
