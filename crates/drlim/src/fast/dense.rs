//! The backward pass of a fully connected layer y = a·Wᵀ + b, shared by the MLP and the
//! convnet's C3 and F layers.

use super::gemm::{matmul, Mat};

/// For `[n, i, o]` (`a`: n × i inputs, `w`: o × i weights, `delta`: n × o output gradient):
/// writes the weight gradient δᵀ·a into `gw` (o × i) and the bias gradient (column sums of δ)
/// into `gb`; with `delta_in`, also the input gradient δ·W (n × i).
#[allow(clippy::too_many_arguments)] // the three gradients and the three operands of one layer
pub(crate) fn dense_backward(
    [n, i, o]: [usize; 3],
    delta: &[f32],
    a: &[f32],
    w: &[f32],
    gw: &mut [f32],
    gb: &mut [f32],
    delta_in: Option<&mut [f32]>,
    threads: usize,
) {
    matmul(
        [o, i, n],
        Mat::t(delta, o),
        Mat::rm(a, i),
        gw,
        false,
        threads,
    );
    gb.fill(0.0);
    for row in delta[..n * o].chunks_exact(o) {
        gb.iter_mut().zip(row).for_each(|(g, d)| *g += d);
    }
    if let Some(delta_in) = delta_in {
        matmul(
            [n, i, o],
            Mat::rm(delta, o),
            Mat::rm(w, i),
            delta_in,
            false,
            threads,
        );
    }
}

/// Passes a gradient back through a ReLU: zero where the unit's output `act` was not positive.
pub(crate) fn relu_backward(delta: &mut [f32], act: &[f32]) {
    for (d, &a) in delta.iter_mut().zip(act) {
        if a <= 0.0 {
            *d = 0.0;
        }
    }
}
