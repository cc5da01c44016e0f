//! A checked, row-major wrapper over the `gemm` crate: the matrix product the fast path is made
//! of (public so that benchmarks can measure its peak).

use gemm::Parallelism;

/// A strided read-only matrix: element (i, j) at `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
pub struct Mat<'a> {
    /// The elements.
    pub data: &'a [f32],
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

impl<'a> Mat<'a> {
    /// Row-major with `cols` columns.
    pub fn rm(data: &'a [f32], cols: usize) -> Self {
        Self {
            data,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub fn t(data: &'a [f32], cols: usize) -> Self {
        Self {
            data,
            rs: 1,
            cs: cols,
        }
    }

    fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0 || cols == 0 || (rows - 1) * self.rs + (cols - 1) * self.cs < self.data.len()
    }
}

/// `c` (m × n, row-major) = (`accumulate` ? c : 0) + a (m × k) · b (k × n), for `[m, n, k]`.
pub fn matmul(
    [m, n, k]: [usize; 3],
    a: Mat,
    b: Mat,
    c: &mut [f32],
    accumulate: bool,
    threads: usize,
) {
    assert!(
        a.fits(m, k) && b.fits(k, n) && c.len() >= m * n,
        "matmul operand sizes"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    let par = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the asserts above keep every strided access of the three operands in bounds.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_naive_products_with_transposes() {
        let a: Vec<f32> = (0..6).map(|v| v as f32).collect(); // 2×3
        let b: Vec<f32> = (0..12).map(|v| (v as f32) * 0.5).collect(); // 3×4
        let mut c = vec![0f32; 8];
        matmul([2, 4, 3], Mat::rm(&a, 3), Mat::rm(&b, 4), &mut c, false, 1);
        for i in 0..2 {
            for j in 0..4 {
                let want: f32 = (0..3).map(|l| a[i * 3 + l] * b[l * 4 + j]).sum();
                assert_eq!(c[i * 4 + j], want);
            }
        }
        // aᵀ (3×2) · c (2×4), accumulating onto ones
        let mut d = vec![1f32; 12];
        matmul([3, 4, 2], Mat::t(&a, 3), Mat::rm(&c, 4), &mut d, true, 2);
        for i in 0..3 {
            for j in 0..4 {
                let want: f32 = 1.0 + (0..2).map(|l| a[l * 3 + i] * c[l * 4 + j]).sum::<f32>();
                assert!((d[i * 4 + j] - want).abs() < 1e-4);
            }
        }
    }
}
