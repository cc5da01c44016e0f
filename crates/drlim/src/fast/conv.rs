//! Forward, backward and SGD for the paper's convnet on 32×32 inputs, by hand.
//!
//! Shapes (N images): input N×1024 → im2col N·729×36 → C1 (GEMM with w1ᵀ 36×15) N·729×15
//! → +bias, ReLU, 3×3/3 max-pool with argmax → N×1215 (PyTorch's flatten order f·81 + y·9 + x)
//! → C3 (GEMM with w2ᵀ 1215×30) → +bias, ReLU → F (GEMM with w3ᵀ 30×d) → N×d.
//!
//! Backward never forms C1's input gradient (the input is data), and C1's weight gradient only
//! visits the 81 pooled winners of each map instead of all 729 positions. Partial sums over
//! fixed chunks of images are added in chunk order, so results do not depend on thread timing.

use rayon::prelude::*;

use super::conv_infer::ConvInfer;
use super::dense::{dense_backward, relu_backward};
use super::gemm::{matmul, Mat};
use super::sgd::sgd_update;
use crate::model::{Architecture, Net};
use burn::tensor::Device;

pub(super) const SIDE: usize = 32;
pub(super) const K1: usize = 6;
pub(super) const O1: usize = 27; // C1 output side
const P1: usize = O1 * O1; // 729 positions
const KK1: usize = K1 * K1; // 36
pub(super) const F1: usize = 15;
pub(super) const PS: usize = 9; // pooled side
pub(super) const PP: usize = PS * PS; // 81
pub(super) const IN2: usize = F1 * PP; // 1215
const F2: usize = 30;
const NONE: u16 = u16::MAX;
/// Images per chunk of the deterministic partial sums.
const CHUNK: usize = 8;
/// Images per C1 GEMM on one thread (its im2col matrix is 105 KB per image).
const C1_CHUNK: usize = 4;

/// The convnet's parameters in PyTorch layout (also used for gradients and momentum).
#[derive(Clone, Debug, PartialEq)]
pub struct ConvWeights {
    /// Output dimension d.
    pub dim: usize,
    /// C1 weights, 15 × 36 (`conv1.weight` [15,1,6,6]).
    pub w1: Vec<f32>,
    /// C1 biases, 15.
    pub b1: Vec<f32>,
    /// C3 weights, 30 × 1215 (`conv2.weight` [30,15,9,9]).
    pub w2: Vec<f32>,
    /// C3 biases, 30.
    pub b2: Vec<f32>,
    /// F weights, d × 30 (`fc.weight`).
    pub w3: Vec<f32>,
    /// F biases, d.
    pub b3: Vec<f32>,
}

/// Gradients have the parameters' shapes.
pub type ConvGrads = ConvWeights;

impl ConvWeights {
    /// All zeros.
    pub fn zeros(dim: usize) -> Self {
        Self {
            dim,
            w1: vec![0.0; F1 * KK1],
            b1: vec![0.0; F1],
            w2: vec![0.0; F2 * IN2],
            b2: vec![0.0; F2],
            w3: vec![0.0; dim * F2],
            b3: vec![0.0; dim],
        }
    }

    /// The weights of a burn convnet, or `None` for another architecture.
    pub fn from_net(net: &Net) -> Option<Self> {
        let Net::Conv(_) = net else { return None };
        let mut w = net.weights().into_iter().map(|(_, _, v)| v);
        let mut next = || w.next().expect("six conv tensors");
        let (w1, b1, w2, b2, w3, b3) = (next(), next(), next(), next(), next(), next());
        Some(Self {
            dim: b3.len(),
            w1,
            b1,
            w2,
            b2,
            w3,
            b3,
        })
    }

    /// A burn convnet with these weights, on `device`.
    pub fn to_net(&self, device: &Device) -> Net {
        let arch = Architecture::Conv { dim: self.dim };
        let mut tensors = self.tensors().into_iter();
        Net::from_weights(&arch, device, |_| {
            tensors.next().expect("six conv tensors").to_vec()
        })
    }

    /// The six tensors in `Architecture::weight_shapes` order.
    pub fn tensors(&self) -> [&[f32]; 6] {
        [&self.w1, &self.b1, &self.w2, &self.b2, &self.w3, &self.b3]
    }

    fn tensors_mut(&mut self) -> [&mut Vec<f32>; 6] {
        [
            &mut self.w1,
            &mut self.b1,
            &mut self.w2,
            &mut self.b2,
            &mut self.w3,
            &mut self.b3,
        ]
    }

    /// Whether every value is finite.
    pub fn is_finite(&self) -> bool {
        self.tensors()
            .iter()
            .all(|t| t.iter().all(|v| v.is_finite()))
    }
}

/// Per-thread scratch for C1 on a chunk of images.
#[derive(Default)]
struct Scratch {
    cols: Vec<f32>,
    z1: Vec<f32>,
}

/// Buffers reused across steps (grown on demand, never shrunk).
#[derive(Default)]
struct Workspace {
    n: usize,
    x: Vec<f32>,
    scratch: Vec<Scratch>,
    pooled: Vec<f32>,
    argmax: Vec<u16>,
    z3: Vec<f32>,
    h3: Vec<f32>,
    out: Vec<f32>,
    dz3: Vec<f32>,
    dpooled: Vec<f32>,
    partial: Vec<f32>,
}

fn grow(v: &mut Vec<f32>, len: usize) {
    if v.len() < len {
        v.resize(len, 0.0);
    }
}

impl Workspace {
    fn ensure(&mut self, n: usize, dim: usize, threads: usize) {
        self.n = n;
        grow(&mut self.x, n * SIDE * SIDE);
        if self.scratch.len() < threads {
            self.scratch.resize_with(threads, Scratch::default);
        }
        for s in &mut self.scratch {
            grow(&mut s.cols, C1_CHUNK * P1 * KK1);
            grow(&mut s.z1, C1_CHUNK * P1 * F1);
        }
        grow(&mut self.pooled, n * IN2);
        if self.argmax.len() < n * IN2 {
            self.argmax.resize(n * IN2, NONE);
        }
        grow(&mut self.z3, n * F2);
        grow(&mut self.h3, n * F2);
        grow(&mut self.out, n * dim);
        grow(&mut self.dz3, n * F2);
        grow(&mut self.dpooled, n * IN2);
        grow(&mut self.partial, n.div_ceil(CHUNK) * (F1 * KK1 + F1));
    }
}

/// C1, bias, ReLU and max-pool of `imgs` (a few 32×32 images) into `pooled`/`argmax`, with
/// `scratch` for the im2col matrix and C1's outputs.
fn c1_pool(
    imgs: &[f32],
    w1: &[f32],
    b1: &[f32],
    scratch: &mut Scratch,
    pooled: &mut [f32],
    argmax: &mut [u16],
) {
    let m = imgs.len() / (SIDE * SIDE);
    let cols = &mut scratch.cols[..m * P1 * KK1];
    for (c, img) in cols
        .chunks_exact_mut(P1 * KK1)
        .zip(imgs.chunks_exact(SIDE * SIDE))
    {
        for y in 0..O1 {
            for xo in 0..O1 {
                let dst = &mut c[(y * O1 + xo) * KK1..(y * O1 + xo + 1) * KK1];
                for ky in 0..K1 {
                    let src = (y + ky) * SIDE + xo;
                    dst[ky * K1..(ky + 1) * K1].copy_from_slice(&img[src..src + K1]);
                }
            }
        }
    }
    let z1 = &mut scratch.z1[..m * P1 * F1];
    matmul(
        [m * P1, F1, KK1],
        Mat::rm(cols, KK1),
        Mat::t(w1, KK1),
        z1,
        false,
        1,
    );
    for ((pooled, argmax), z1) in pooled
        .chunks_exact_mut(IN2)
        .zip(argmax.chunks_exact_mut(IN2))
        .zip(z1.chunks_exact(P1 * F1))
    {
        // each window's 9 positions, all 15 maps at once (a position's maps are contiguous)
        for py in 0..PS {
            for px in 0..PS {
                // sixteen lanes (the last unused), updated without branches: vectorised
                let (mut best, mut at) = ([f32::NEG_INFINITY; 16], [0u32; 16]);
                for dy in 0..3 {
                    for dx in 0..3 {
                        let p = (3 * py + dy) * O1 + 3 * px + dx;
                        let mut row = [f32::NEG_INFINITY; 16];
                        row[..F1].copy_from_slice(&z1[p * F1..(p + 1) * F1]);
                        for f in 0..16 {
                            let gt = row[f] > best[f];
                            best[f] = if gt { row[f] } else { best[f] };
                            at[f] = if gt { p as u32 } else { at[f] };
                        }
                    }
                }
                for f in 0..F1 {
                    let v = best[f] + b1[f];
                    let j = f * PP + py * PS + px;
                    pooled[j] = if v > 0.0 { v } else { 0.0 };
                    argmax[j] = if v > 0.0 { at[f] as u16 } else { NONE };
                }
            }
        }
    }
}

/// The convnet on the fast path: weights, SGD state and workspace.
pub struct FastConv {
    /// Current weights.
    pub weights: ConvWeights,
    /// Gradients of the last backward pass.
    pub grads: ConvGrads,
    pub(super) velocity: Vec<Vec<f32>>,
    ws: Workspace,
    pub(super) threads: usize,
    /// The layers packed for [`infer`](Self::infer), made on its first call and dropped by an
    /// SGD step.
    packed: Option<ConvInfer>,
}

impl FastConv {
    /// Starts from `weights`.
    pub fn new(weights: ConvWeights) -> Self {
        let dim = weights.dim;
        Self {
            weights,
            grads: ConvWeights::zeros(dim),
            velocity: Vec::new(),
            ws: Workspace::default(),
            threads: rayon::current_num_threads(),
            packed: None,
        }
    }

    /// Output dimension d.
    pub fn dim(&self) -> usize {
        self.weights.dim
    }

    /// Maps `n` padded 32×32 images (`x`: n × 1024) to n × d outputs (kept for `backward`).
    pub fn forward(&mut self, x: &[f32], n: usize) -> &[f32] {
        assert_eq!(x.len(), n * SIDE * SIDE, "inputs must be n × 1024");
        let d = self.dim();
        self.ws.ensure(n, d, self.threads);
        let (w, ws, t) = (&self.weights, &mut self.ws, self.threads);
        ws.x[..x.len()].copy_from_slice(x);
        // C1 + pool: each thread takes a contiguous share of the images, C1_CHUNK at a time,
        // so its im2col matrix stays in cache
        let per_thread = n.div_ceil(t).max(1);
        ws.pooled[..n * IN2]
            .par_chunks_mut(per_thread * IN2)
            .zip(ws.argmax[..n * IN2].par_chunks_mut(per_thread * IN2))
            .zip(x.par_chunks(per_thread * SIDE * SIDE))
            .zip(ws.scratch.par_iter_mut())
            .for_each(|(((pooled, argmax), imgs), scratch)| {
                for ((p, a), im) in pooled
                    .chunks_mut(C1_CHUNK * IN2)
                    .zip(argmax.chunks_mut(C1_CHUNK * IN2))
                    .zip(imgs.chunks(C1_CHUNK * SIDE * SIDE))
                {
                    c1_pool(im, &w.w1, &w.b1, scratch, p, a);
                }
            });
        matmul(
            [n, F2, IN2],
            Mat::rm(&ws.pooled[..n * IN2], IN2),
            Mat::t(&w.w2, IN2),
            &mut ws.z3[..n * F2],
            false,
            t,
        );
        for (i, (z, h)) in ws.z3[..n * F2]
            .iter_mut()
            .zip(&mut ws.h3[..n * F2])
            .enumerate()
        {
            *z += w.b2[i % F2];
            *h = z.max(0.0);
        }
        matmul(
            [n, d, F2],
            Mat::rm(&ws.h3[..n * F2], F2),
            Mat::t(&w.w3, F2),
            &mut ws.out[..n * d],
            false,
            t,
        );
        for (i, o) in ws.out[..n * d].iter_mut().enumerate() {
            *o += w.b3[i % d];
        }
        &ws.out[..n * d]
    }

    /// [`forward`](Self::forward) for embedding: the same outputs up to rounding, on one
    /// thread, without keeping anything for a backward pass; each image's outputs do not
    /// depend on the others.
    pub fn infer(&mut self, x: &[f32], n: usize) -> &[f32] {
        let w = &self.weights;
        self.packed
            .get_or_insert_with(|| ConvInfer::new(w))
            .infer(x, n)
    }

    /// Gradients of the last forward pass for the output gradient `dout` (n × d), into `grads`.
    pub fn backward(&mut self, dout: &[f32]) {
        let (n, d) = (self.ws.n, self.dim());
        assert_eq!(dout.len(), n * d, "dout must be n × d");
        let (w, ws, g, t) = (&self.weights, &mut self.ws, &mut self.grads, self.threads);
        let dz3 = &mut ws.dz3[..n * F2];
        dense_backward(
            [n, F2, d],
            dout,
            &ws.h3[..n * F2],
            &w.w3,
            &mut g.w3,
            &mut g.b3,
            Some(&mut *dz3),
            t,
        );
        relu_backward(dz3, &ws.h3[..n * F2]);
        let dpooled = &mut ws.dpooled[..n * IN2];
        dense_backward(
            [n, IN2, F2],
            dz3,
            &ws.pooled[..n * IN2],
            &w.w2,
            &mut g.w2,
            &mut g.b2,
            Some(dpooled),
            t,
        );
        // C1: only each window's winner receives gradient; partial sums per chunk of images
        let stride = F1 * KK1 + F1;
        let chunks = n.div_ceil(CHUNK);
        let (x, argmax, dpooled) = (&ws.x, &ws.argmax, &ws.dpooled);
        ws.partial[..chunks * stride]
            .par_chunks_mut(stride)
            .enumerate()
            .for_each(|(c, part)| {
                part.fill(0.0);
                let (gw, gb) = part.split_at_mut(F1 * KK1);
                for img in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    let x = &x[img * SIDE * SIDE..(img + 1) * SIDE * SIDE];
                    for j in 0..IN2 {
                        let at = argmax[img * IN2 + j];
                        if at == NONE {
                            continue;
                        }
                        let f = j / PP;
                        let grad = dpooled[img * IN2 + j];
                        gb[f] += grad;
                        // the 6×6 input patch under C1's output position `at`
                        let (y, xo) = (at as usize / O1, at as usize % O1);
                        for ky in 0..K1 {
                            let row = &x[(y + ky) * SIDE + xo..(y + ky) * SIDE + xo + K1];
                            for (acc, &p) in gw[f * KK1 + ky * K1..f * KK1 + (ky + 1) * K1]
                                .iter_mut()
                                .zip(row)
                            {
                                *acc += grad * p;
                            }
                        }
                    }
                }
            });
        g.w1.fill(0.0);
        g.b1.fill(0.0);
        for part in ws.partial[..chunks * stride].chunks_exact(stride) {
            let (gw, gb) = part.split_at(F1 * KK1);
            g.w1.iter_mut().zip(gw).for_each(|(a, b)| *a += b);
            g.b1.iter_mut().zip(gb).for_each(|(a, b)| *a += b);
        }
    }

    /// One SGD step with the gradients of the last backward pass (see [`sgd_update`]).
    pub fn sgd_step(&mut self, lr: f32, momentum: f32, weight_decay: f32) {
        self.packed = None;
        let grads = self.grads.tensors();
        sgd_update(
            self.weights.tensors_mut(),
            grads,
            &mut self.velocity,
            [lr, momentum, weight_decay],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Net;
    use burn::optim::GradientsParams;
    use burn::tensor::{Tensor, TensorData};

    fn images(n: usize, seed: u64) -> Vec<f32> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut x = crate::model::pad_images(
            &(0..n * 784)
                .map(|_| rng.random::<f32>())
                .collect::<Vec<_>>(),
            n,
            28,
        );
        // some all-zero images: ties and dead windows at the border
        x[..1024].fill(0.0);
        x
    }

    fn close(a: &[f32], b: &[f32], tol: f32, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        let scale = b.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= tol * scale,
                "{what}[{i}]: fast {x} vs burn {y} (scale {scale})"
            );
        }
    }

    #[test]
    fn forward_matches_burn() {
        let dev = Device::flex();
        let net = Net::seeded(&Architecture::Conv { dim: 3 }, 1, &dev);
        let x = images(10, 2);
        let want = net
            .forward(Tensor::from_data(
                TensorData::new(x.clone(), [10, 1024]),
                &dev,
            ))
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let mut fast = FastConv::new(ConvWeights::from_net(&net).unwrap());
        close(fast.forward(&x, 10), &want, 1e-5, "output");
        assert_eq!(
            fast.weights.to_net(&dev).weights(),
            net.weights(),
            "weights convert both ways"
        );
    }

    #[test]
    fn gradients_match_burn_autodiff() {
        let dev = Device::flex().autodiff();
        let net = Net::seeded(&Architecture::Conv { dim: 2 }, 4, &dev);
        let (n, d) = (12, 2);
        let x = images(n, 5);
        let dout: Vec<f32> = (0..n * d)
            .map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.5)
            .collect();
        // burn: L = Σ out ⊙ dout has ∂L/∂out = dout
        let out = net.forward(Tensor::from_data(
            TensorData::new(x.clone(), [n, 1024]),
            &dev,
        ));
        let loss = (out * Tensor::from_data(TensorData::new(dout.clone(), [n, d]), &dev)).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let Net::Conv(c) = &net else { unreachable!() };
        let g = |id| -> Vec<f32> {
            grads
                .get::<4>(id)
                .map(|t| t.into_data().try_into_vec::<f32>().unwrap())
                .unwrap()
        };
        let g1 = |id| -> Vec<f32> {
            grads
                .get::<1>(id)
                .unwrap()
                .into_data()
                .try_into_vec::<f32>()
                .unwrap()
        };
        let g2 = |id| -> Vec<f32> {
            grads
                .get::<2>(id)
                .unwrap()
                .into_data()
                .try_into_vec::<f32>()
                .unwrap()
        };
        let mut fast = FastConv::new(ConvWeights::from_net(&net).unwrap());
        fast.forward(&x, n);
        fast.backward(&dout);
        close(&fast.grads.w1, &g(c.conv1.weight.id), 1e-4, "conv1.weight");
        close(
            &fast.grads.b1,
            &g1(c.conv1.bias.as_ref().unwrap().id),
            1e-4,
            "conv1.bias",
        );
        close(&fast.grads.w2, &g(c.conv2.weight.id), 1e-4, "conv2.weight");
        close(
            &fast.grads.b2,
            &g1(c.conv2.bias.as_ref().unwrap().id),
            1e-4,
            "conv2.bias",
        );
        // burn's fc weight is [in, out]: transpose to PyTorch's [out, in]
        let wfc = g2(c.fc.weight.id);
        let wfc_t: Vec<f32> = (0..d * 30).map(|k| wfc[(k % 30) * d + k / 30]).collect();
        close(&fast.grads.w3, &wfc_t, 1e-4, "fc.weight");
        close(
            &fast.grads.b3,
            &g1(c.fc.bias.as_ref().unwrap().id),
            1e-4,
            "fc.bias",
        );
        assert!(fast.grads.w1.iter().any(|v| *v != 0.0));
    }
}
