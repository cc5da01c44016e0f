//! Points in a space and the distances between them, shared by the neighbour graphs, the
//! evaluation metrics and the plots: [`Points`], [`sq_distance`] and the blocked squared
//! Euclidean distances ‖a‖² + ‖b‖² − 2a·b with the dot products from a GEMM.

use gemm::{gemm, Parallelism};

/// `n` points of `dim` coordinates, row-major.
#[derive(Clone, Copy, Debug)]
pub struct Points<'a> {
    /// The coordinates, point after point.
    pub values: &'a [f32],
    /// Number of points.
    pub n: usize,
    /// Coordinates per point.
    pub dim: usize,
}

impl<'a> Points<'a> {
    /// Wraps row-major values; `values.len()` must be `n · dim`.
    pub fn new(values: &'a [f32], dim: usize) -> Self {
        assert!(
            dim > 0 && values.len().is_multiple_of(dim),
            "values must hold whole points"
        );
        Self {
            values,
            n: values.len() / dim,
            dim,
        }
    }

    /// `n` points of `dim` coordinates that are not given, for a neighbour source that only
    /// counts them ([`NeighbourSource::reads_samples`](crate::neighbours::NeighbourSource::reads_samples)
    /// is false): [`row`](Self::row) must not be called.
    pub fn count_only(n: usize, dim: usize) -> Self {
        Self {
            values: &[],
            n,
            dim,
        }
    }

    /// The coordinates of point `i`.
    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }
}

/// Squared Euclidean distance between two points given as slices of equal length (summed in
/// order, in f32).
pub fn sq_distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(u, v)| (u - v) * (u - v)).sum()
}

/// Element types the distance kernel runs in.
pub(crate) trait Real:
    Copy
    + Send
    + Sync
    + 'static
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + PartialOrd
{
    const ZERO: Self;
    const ONE: Self;
    const TWO: Self;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const TWO: Self = 2.0;
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const TWO: Self = 2.0;
}

/// Squared norms of row-major points.
pub(crate) fn sq_norms<T: Real>(values: &[T], dim: usize) -> Vec<T> {
    values
        .chunks_exact(dim)
        .map(|r| r.iter().fold(T::ZERO, |a, &v| a + v * v))
        .collect()
}

/// Squared distances from the `bq` query rows `q` to all `nr` reference rows `r` (both
/// row-major with `dim` columns), written row-major into `out` (`bq × nr`). Single-threaded:
/// callers parallelise over query blocks.
pub(crate) fn sq_dists_block<T: Real>(
    q: &[T],
    q_norms: &[T],
    r: &[T],
    r_norms: &[T],
    dim: usize,
    out: &mut [T],
) {
    let bq = q.len() / dim;
    let nr = r.len() / dim;
    debug_assert_eq!(out.len(), bq * nr);
    // SAFETY: the strides describe q (bq×dim, row-major), rᵀ (dim×nr, from row-major r) and
    // out (bq×nr, row-major), whose lengths were checked above.
    unsafe {
        gemm(
            bq,
            nr,
            dim,
            out.as_mut_ptr(),
            1,
            nr as isize,
            false,
            q.as_ptr(),
            1,
            dim as isize,
            r.as_ptr(),
            dim as isize,
            1,
            T::ZERO,
            T::ONE,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
    for (i, row) in out.chunks_exact_mut(nr).enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let d = q_norms[i] + r_norms[j] - T::TWO * *v;
            *v = if d > T::ZERO { d } else { T::ZERO };
        }
    }
}

/// Rows per query block so that one block of distances stays near 16 MB.
pub(crate) fn block_rows(nr: usize) -> usize {
    (4_000_000 / nr.max(1)).clamp(8, 512)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_distances_match_direct_sums() {
        let q: Vec<f32> = (0..12).map(|v| (v as f32 * 0.37).sin()).collect();
        let r: Vec<f32> = (0..15).map(|v| (v as f32 * 0.11).cos()).collect();
        let mut out = vec![0f32; 4 * 5];
        sq_dists_block(&q, &sq_norms(&q, 3), &r, &sq_norms(&r, 3), 3, &mut out);
        for i in 0..4 {
            for j in 0..5 {
                let direct: f32 = (0..3).map(|k| (q[i * 3 + k] - r[j * 3 + k]).powi(2)).sum();
                assert!((out[i * 5 + j] - direct).abs() < 1e-5, "{i} {j}");
            }
        }
    }
}
