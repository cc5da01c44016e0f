//! The convnet's forward pass for embedding: C1 runs as the packed kernel over each image's
//! positions (its filter's 36 taps read in place, no im2col copy), its bias and ReLU come
//! before the max-pool (the same values: adding a bias and a ReLU keep the order of a window's
//! values) and no argmax is kept; C3 and F are packed dense layers. One image's coordinates do
//! not depend on the others in its pass.

use super::conv::{ConvWeights, F1, IN2, K1, O1, PP, PS, SIDE};
use super::packed::Packed;

/// The convnet's layers packed for embedding, and the buffers of its passes.
pub(super) struct ConvInfer {
    c1: Packed,
    c3: Packed,
    f: Packed,
    /// One image's C1 outputs, position after position (15 maps each).
    z1: Vec<f32>,
    pooled: Vec<f32>,
    h3: Vec<f32>,
    out: Vec<f32>,
}

impl ConvInfer {
    /// The layers of `w`, packed.
    pub(super) fn new(w: &ConvWeights) -> Self {
        let taps = (0..K1 * K1)
            .map(|i| ((i / K1) * SIDE + i % K1) as u32)
            .collect();
        let c3_out = w.b2.len();
        Self {
            c1: Packed::new(&w.w1, &w.b1, [F1, K1 * K1]).with_offsets(taps),
            c3: Packed::new(&w.w2, &w.b2, [c3_out, IN2]),
            f: Packed::new(&w.w3, &w.b3, [w.dim, c3_out]),
            z1: vec![0.0; O1 * O1 * F1],
            pooled: Vec::new(),
            h3: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Maps `n` padded 32×32 images (`x`: n × 1024) to n × d outputs, on one thread.
    pub(super) fn infer(&mut self, x: &[f32], n: usize) -> &[f32] {
        assert_eq!(x.len(), n * SIDE * SIDE, "inputs must be n × 1024");
        self.pooled.resize(n * IN2, 0.0);
        for (img, pooled) in x
            .chunks_exact(SIDE * SIDE)
            .zip(self.pooled.chunks_exact_mut(IN2))
        {
            for (y, z1) in self.z1.chunks_exact_mut(O1 * F1).enumerate() {
                self.c1.apply_strided(&img[y * SIDE..], [O1, 1], z1, true);
            }
            pool(&self.z1, pooled);
        }
        self.h3.resize(n * self.c3.outputs(), 0.0);
        self.c3.apply(&self.pooled, n, &mut self.h3, true);
        self.out.resize(n * self.f.outputs(), 0.0);
        self.f.apply(&self.h3, n, &mut self.out, false);
        &self.out
    }
}

/// The 3×3/3 max-pool of one image's C1 outputs (after their ReLU, so at least 0) into
/// PyTorch's flatten order f·81 + y·9 + x.
fn pool(z1: &[f32], pooled: &mut [f32]) {
    for py in 0..PS {
        for px in 0..PS {
            // sixteen lanes (the last unused), so that the maxima vectorise
            let mut best = [0f32; 16];
            for dy in 0..3 {
                for dx in 0..3 {
                    let p = (3 * py + dy) * O1 + 3 * px + dx;
                    let mut maps = [0f32; 16];
                    maps[..F1].copy_from_slice(&z1[p * F1..(p + 1) * F1]);
                    for (b, v) in best.iter_mut().zip(maps) {
                        *b = if v > *b { v } else { *b };
                    }
                }
            }
            for (f, b) in best[..F1].iter().enumerate() {
                pooled[f * PP + py * PS + px] = *b;
            }
        }
    }
}
