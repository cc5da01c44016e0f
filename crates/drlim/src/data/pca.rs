//! Principal components of wide samples: an orthonormal basis of the directions along which
//! the training samples vary most, found by randomised subspace iteration (Halko, Martinsson
//! and Tropp 2011) on at most [`PCA_SAMPLE`] of them. `fit` trains an MLP's first layer on the
//! samples' coordinates in this basis and folds the basis into that layer afterwards
//! ([`Projection::fold`]), so that the saved model takes the full samples as before.

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::fast::gemm::{matmul, Mat};

/// At most this many samples (drawn with the seed) fix the principal directions.
pub const PCA_SAMPLE: usize = 20_000;
/// Extra directions iterated beside the wanted ones, so that the wanted converge fast.
const OVERSAMPLE: usize = 10;
/// Rounds of subspace iteration.
const POWER_ITERATIONS: usize = 6;

/// The top principal directions of a set of samples: `dim × components`, row-major, columns
/// orthogonal, ordered by the variance along them (largest first), and of one length, chosen
/// so that the samples' coordinates along them have variance 1 on average (the scale the
/// `global` normalisation gives each feature).
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// Values per sample.
    pub dim: usize,
    /// Directions kept.
    pub components: usize,
    basis: Vec<f32>,
}

impl Projection {
    /// The `components` top principal directions of `rows` (`n × dim`, row-major), fixed by at
    /// most [`PCA_SAMPLE`] rows drawn with `seed`. The same rows, seed and thread count give
    /// the same basis. `components` is capped by `dim` and the rows available.
    pub fn fit(rows: &[f32], dim: usize, components: usize, seed: u64, threads: usize) -> Self {
        let n = rows.len() / dim;
        let sample = match sample_indices(n, seed) {
            Some(picked) => picked
                .iter()
                .flat_map(|&i| rows[i * dim..(i + 1) * dim].iter().copied())
                .collect(),
            None => rows.to_vec(),
        };
        Self::fit_sample(sample, dim, components, seed, threads)
    }

    /// [`fit`](Self::fit) on the rows it would draw, given: those of
    /// [`sample_indices`] in that order, or all rows where it draws none.
    pub fn fit_sample(
        mut a: Vec<f32>,
        dim: usize,
        components: usize,
        seed: u64,
        threads: usize,
    ) -> Self {
        centre(&mut a, dim);
        let m = a.len() / dim;
        let c = components.min(dim).min(m).max(1);
        let l = (c + OVERSAMPLE).min(dim).min(m.max(1));
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5043_415f_6261_7369);
        let mut z: Vec<f32> = (0..dim * l).map(|_| gaussian(&mut rng)).collect();
        orthonormalise(&mut z, dim, l);
        let mut y = vec![0f32; m * l];
        let a_times = |z: &[f32], y: &mut [f32]| {
            matmul(
                [m, l, dim],
                Mat::rm(&a, dim),
                Mat::rm(z, l),
                y,
                false,
                threads,
            )
        };
        for _ in 0..POWER_ITERATIONS {
            a_times(&z, &mut y);
            orthonormalise(&mut y, m, l);
            matmul(
                [dim, l, m],
                Mat::t(&a, dim),
                Mat::rm(&y, l),
                &mut z,
                false,
                threads,
            );
            orthonormalise(&mut z, dim, l);
        }
        // Rayleigh–Ritz: the eigenvectors of zᵀ·aᵀa·z order the directions within the span
        a_times(&z, &mut y);
        let gram = gram(&y, m, l);
        let (values, vectors) = symmetric_eigen(gram, l);
        let mut order: Vec<usize> = (0..l).collect();
        order.sort_by(|&i, &j| values[j].total_cmp(&values[i]));
        // scaled so that the samples' coordinates have variance 1 on average, whatever the
        // number of directions and the share of the variance they hold
        let kept: f64 = order[..c].iter().map(|&i| values[i].max(0.0)).sum();
        let scale = if kept > 0.0 {
            (c as f64 * m as f64 / kept).sqrt()
        } else {
            1.0
        };
        let mut basis = vec![0f32; dim * c];
        for (out, &col) in order[..c].iter().enumerate() {
            for r in 0..dim {
                let v: f64 = (0..l)
                    .map(|t| z[r * l + t] as f64 * vectors[t * l + col])
                    .sum();
                basis[r * c + out] = (v * scale) as f32;
            }
        }
        Self {
            dim,
            components: c,
            basis,
        }
    }

    /// The basis, `dim × components` row-major.
    pub fn basis(&self) -> &[f32] {
        &self.basis
    }

    /// The coordinates of `rows` (`n × dim`) along the directions: `n × components`.
    pub fn project(&self, rows: &[f32], threads: usize) -> Vec<f32> {
        let n = rows.len() / self.dim;
        let mut out = vec![0f32; n * self.components];
        matmul(
            [n, self.components, self.dim],
            Mat::rm(rows, self.dim),
            Mat::rm(&self.basis, self.components),
            &mut out,
            false,
            threads,
        );
        out
    }

    /// A layer's weight over the projected coordinates (`out × components`, PyTorch's layout)
    /// as the same layer over the full samples (`out × dim`): `w · basisᵀ`, so that
    /// `fold(w) · x = w · project(x)` for every sample x.
    pub fn fold(&self, weight: &[f32], out: usize) -> Vec<f32> {
        let mut full = vec![0f32; out * self.dim];
        matmul(
            [out, self.dim, self.components],
            Mat::rm(weight, self.components),
            Mat::t(&self.basis, self.components),
            &mut full,
            false,
            1,
        );
        full
    }
}

/// The [`PCA_SAMPLE`] rows out of `n` that [`Projection::fit`] draws with `seed`, in
/// ascending order; `None` when there are no more rows than that (all of them are used).
pub fn sample_indices(n: usize, seed: u64) -> Option<Vec<usize>> {
    (n > PCA_SAMPLE).then(|| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut picked = sample(&mut rng, n, PCA_SAMPLE).into_vec();
        picked.sort_unstable();
        picked
    })
}

/// Subtracts the rows' mean from each row of `a`.
fn centre(a: &mut [f32], dim: usize) {
    let m = (a.len() / dim).max(1);
    let mut mean = vec![0f64; dim];
    for row in a.chunks_exact(dim) {
        for (s, &v) in mean.iter_mut().zip(row) {
            *s += v as f64;
        }
    }
    for row in a.chunks_exact_mut(dim) {
        for (v, s) in row.iter_mut().zip(&mean) {
            *v -= (s / m as f64) as f32;
        }
    }
}

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f32 {
    let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let v: f64 = rng.random::<f64>();
    ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
}

/// Makes the `cols` columns of `m` (`rows × cols`, row-major) orthonormal, in order (modified
/// Gram–Schmidt in f64); a column with nothing left of its own becomes zero.
fn orthonormalise(m: &mut [f32], rows: usize, cols: usize) {
    let mut col: Vec<Vec<f64>> = (0..cols)
        .map(|j| (0..rows).map(|i| m[i * cols + j] as f64).collect())
        .collect();
    for j in 0..cols {
        let (done, rest) = col.split_at_mut(j);
        let v = &mut rest[0];
        let before = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        for u in done.iter() {
            let d: f64 = u.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(x, a)| *x -= d * a);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let scale = if norm > 1e-9 * before.max(f64::MIN_POSITIVE) {
            1.0 / norm
        } else {
            0.0
        };
        v.iter_mut().for_each(|x| *x *= scale);
    }
    for (j, c) in col.iter().enumerate() {
        for (i, &x) in c.iter().enumerate() {
            m[i * cols + j] = x as f32;
        }
    }
}

/// yᵀy for `y` of `rows × cols`, in f64, `cols × cols` row-major.
fn gram(y: &[f32], rows: usize, cols: usize) -> Vec<f64> {
    let mut g = vec![0f64; cols * cols];
    for r in 0..rows {
        let row = &y[r * cols..(r + 1) * cols];
        for i in 0..cols {
            for j in i..cols {
                g[i * cols + j] += row[i] as f64 * row[j] as f64;
            }
        }
    }
    for i in 0..cols {
        for j in 0..i {
            g[i * cols + j] = g[j * cols + i];
        }
    }
    g
}

/// The eigenvalues and eigenvectors (columns of the second, `n × n` row-major) of the
/// symmetric `n × n` matrix `a`, by cyclic Jacobi rotations.
fn symmetric_eigen(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0f64; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let scale: f64 = a
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-14 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                rotate(&mut a, &mut v, n, p, q);
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// One Jacobi rotation zeroing a[p][q] (and a[q][p]), accumulated into `v`.
fn rotate(a: &mut [f64], v: &mut [f64], n: usize, p: usize, q: usize) {
    let apq = a[p * n + q];
    if apq == 0.0 {
        return;
    }
    let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let t = if theta == 0.0 { 1.0 } else { t };
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for k in 0..n {
        let (akp, akq) = (a[k * n + p], a[k * n + q]);
        a[k * n + p] = c * akp - s * akq;
        a[k * n + q] = s * akp + c * akq;
    }
    for k in 0..n {
        let (apk, aqk) = (a[p * n + k], a[q * n + k]);
        a[p * n + k] = c * apk - s * aqk;
        a[q * n + k] = s * apk + c * aqk;
    }
    for k in 0..n {
        let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
        v[k * n + p] = c * vkp - s * vkq;
        v[k * n + q] = s * vkp + c * vkq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples spread along three known orthogonal directions (variances 9, 4, 1) of a
    /// 40-dimensional space, with a little noise in every direction.
    fn three_directions(n: usize) -> (Vec<f32>, Vec<Vec<f32>>) {
        let dim = 40;
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut basis: Vec<f32> = (0..dim * 3).map(|_| gaussian(&mut rng)).collect();
        orthonormalise(&mut basis, dim, 3);
        let dirs: Vec<Vec<f32>> = (0..3)
            .map(|j| (0..dim).map(|i| basis[i * 3 + j]).collect())
            .collect();
        let mut rows = Vec::with_capacity(n * dim);
        for _ in 0..n {
            let w = [3.0, 2.0, 1.0].map(|s: f32| s * gaussian(&mut rng));
            rows.extend((0..dim).map(|i| {
                let along: f32 = w.iter().zip(&dirs).map(|(wj, dir)| wj * dir[i]).sum();
                5.0 + along + 0.01 * gaussian(&mut rng)
            }));
        }
        (rows, dirs)
    }

    #[test]
    fn finds_the_directions_in_order_of_variance() {
        let (rows, dirs) = three_directions(2000);
        let p = Projection::fit(&rows, 40, 3, 1, 1);
        let basis = p.basis();
        let len2: f32 = (0..40).map(|i| basis[i * 3] * basis[i * 3]).sum();
        for (j, dir) in dirs.iter().enumerate() {
            let cos: f32 = (0..40).map(|i| basis[i * 3 + j] * dir[i]).sum();
            assert!(
                cos.abs() > 0.99 * len2.sqrt(),
                "direction {j}: |cos| {}",
                cos.abs()
            );
        }
        // orthogonal columns of one length, the coordinates of variance 1 on average
        for a in 0..3 {
            for b in 0..3 {
                let dot: f32 = (0..40).map(|i| basis[i * 3 + a] * basis[i * 3 + b]).sum();
                assert!((dot - len2 * f32::from(a == b)).abs() < 1e-4 * len2);
            }
        }
        let coords = p.project(&rows, 1);
        let var = |j: usize| {
            let mean = (0..2000).map(|r| coords[r * 3 + j]).sum::<f32>() / 2000.0;
            (0..2000)
                .map(|r| (coords[r * 3 + j] - mean).powi(2))
                .sum::<f32>()
                / 2000.0
        };
        let mean_var = (var(0) + var(1) + var(2)) / 3.0;
        assert!((mean_var - 1.0).abs() < 0.01, "mean variance {mean_var}");
        assert!(var(0) > var(1) && var(1) > var(2));
    }

    #[test]
    fn folding_a_weight_equals_projecting_first() {
        let (rows, _) = three_directions(300);
        let p = Projection::fit(&rows, 40, 5, 3, 2);
        let w: Vec<f32> = (0..4 * 5).map(|i| (i as f32 * 0.37).sin()).collect();
        let folded = p.fold(&w, 4);
        let projected = p.project(&rows[..40], 1);
        for o in 0..4 {
            let via_projection: f32 = (0..5).map(|c| w[o * 5 + c] * projected[c]).sum();
            let direct: f32 = (0..40).map(|i| folded[o * 40 + i] * rows[i]).sum();
            assert!((via_projection - direct).abs() < 1e-3 * direct.abs().max(1.0));
        }
    }

    #[test]
    fn same_seed_same_basis_and_rank_deficient_data_stays_finite() {
        let (rows, _) = three_directions(500);
        assert_eq!(
            Projection::fit(&rows, 40, 8, 5, 2),
            Projection::fit(&rows, 40, 8, 5, 2)
        );
        // fewer samples than directions asked for, and a constant feature
        let mut few = rows[..6 * 40].to_vec();
        few.iter_mut().step_by(40).for_each(|v| *v = 1.0);
        let p = Projection::fit(&few, 40, 30, 0, 1);
        assert_eq!(p.components, 6);
        assert!(p.basis().iter().all(|v| v.is_finite()));
    }
}
