//! Forward, backward and SGD for the fully connected net by hand: one GEMM per layer and
//! direction, bias and ReLU applied in place, activations kept in reused buffers, no autodiff
//! graph.

use super::dense::{dense_backward, relu_backward};
use super::gemm::{matmul, Mat};
use super::packed::Packed;
use super::sgd::sgd_update;
use crate::data::Normalisation;
use crate::model::{Architecture, Net};
use burn::tensor::Device;
use rayon::prelude::*;

/// The MLP's parameters in PyTorch layout: per layer a weight `[out, in]` and a bias `[out]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MlpWeights {
    /// Layer widths, input first, output last.
    pub widths: Vec<usize>,
    /// Per layer, the weight (out × in) then the bias (out), in order.
    pub tensors: Vec<Vec<f32>>,
}

impl MlpWeights {
    /// The weights of a burn MLP, or `None` for another architecture.
    pub fn from_net(net: &Net) -> Option<Self> {
        let Net::Mlp(m) = net else { return None };
        let mut widths = vec![m.layers[0].weight.val().dims()[0]];
        widths.extend(m.layers.iter().map(|l| l.weight.val().dims()[1]));
        Some(Self {
            widths,
            tensors: net.weights().into_iter().map(|(_, _, v)| v).collect(),
        })
    }

    /// The architecture.
    pub fn architecture(&self) -> Architecture {
        let n = self.widths.len();
        Architecture::Mlp {
            input_dim: self.widths[0],
            hidden: self.widths[1..n - 1].to_vec(),
            dim: self.widths[n - 1],
        }
    }

    /// A burn MLP with these weights, on `device`.
    pub fn to_net(&self, device: &Device) -> Net {
        let mut t = self.tensors.iter();
        Net::from_weights(&self.architecture(), device, |_| {
            t.next().expect("two tensors per layer").clone()
        })
    }

    fn layers(&self) -> usize {
        self.widths.len() - 1
    }

    /// The same net over samples as they are, `normalisation` folded into the first layer:
    /// W·((x − m) / s) + b = (W / s)·x + (b − W·(m / s)), and W·(f·x) = (W·f)·x. For embedding:
    /// the samples then go to the first GEMM without a pass of their own.
    pub fn with_normalisation_folded(&self, normalisation: &Normalisation) -> Self {
        let input = self.widths[0];
        let mut folded = self.clone();
        let (w, b) = folded.tensors.split_at_mut(1);
        let (w, b) = (&mut w[0], &mut b[0]);
        match normalisation {
            Normalisation::None => {}
            Normalisation::Scale { factor } => w.iter_mut().for_each(|v| *v *= factor),
            Normalisation::Standardise { mean, std } => {
                for (row, bias) in w.chunks_exact_mut(input).zip(b.iter_mut()) {
                    let mut shift = 0f64;
                    for ((v, m), s) in row.iter_mut().zip(mean).zip(std) {
                        *v /= s;
                        shift += f64::from(*v) * f64::from(*m);
                    }
                    *bias -= shift as f32;
                }
            }
        }
        folded
    }
}

/// Fewest rows a worker takes: below this the batch goes to one worker, whose GEMMs use all
/// threads instead.
const MIN_ROWS_PER_WORKER: usize = 32;

/// Most memory the workers' private gradient copies may take together (each holds one copy of
/// every parameter): a large net on many cores runs fewer, larger slices instead.
const WORKER_GRADIENT_BYTES: usize = 512 << 20;

/// How many slices a batch of `n` rows is cut into, on `threads` threads, for a net of `params`
/// parameters: one per thread, but none under `MIN_ROWS_PER_WORKER` rows and no more private
/// gradient copies than `WORKER_GRADIENT_BYTES` holds.
fn slices(n: usize, threads: usize, params: usize) -> usize {
    let affordable = WORKER_GRADIENT_BYTES / (params * std::mem::size_of::<f32>()).max(1);
    (n / MIN_ROWS_PER_WORKER)
        .min(affordable)
        .clamp(1, threads.max(1))
}

/// The layers of `weights` packed for embedding.
fn pack(weights: &MlpWeights) -> Vec<Packed> {
    let w = &weights.widths;
    (0..weights.layers())
        .map(|l| {
            let (wt, b) = (&weights.tensors[2 * l], &weights.tensors[2 * l + 1]);
            Packed::new(wt, b, [w[l + 1], w[l]])
        })
        .collect()
}

/// The activations and gradients of one contiguous slice of the batch.
#[derive(Default)]
struct Worker {
    /// acts[0] is the input, acts[l + 1] the output of layer l (after ReLU but for the last).
    acts: Vec<Vec<f32>>,
    delta: Vec<f32>,
    delta_prev: Vec<f32>,
    /// This slice's share of the gradients, in the weights' layout.
    grads: Vec<Vec<f32>>,
    n: usize,
}

impl Worker {
    /// The forward pass of the slice `x`; the input is kept for `backward` only if `keep`.
    fn forward(&mut self, weights: &MlpWeights, x: &[f32], threads: usize, keep: bool) {
        let w = &weights.widths;
        let n = x.len() / w[0];
        self.n = n;
        self.acts.resize_with(w.len(), Vec::new);
        self.acts[0].clear();
        if keep {
            self.acts[0].extend_from_slice(x);
        }
        let last = weights.layers() - 1;
        for l in 0..=last {
            let (i, o) = (w[l], w[l + 1]);
            let (before, after) = self.acts.split_at_mut(l + 1);
            let (a, z) = (if l == 0 { x } else { &before[l][..] }, &mut after[0]);
            z.resize(n * o, 0.0);
            let (wt, b) = (&weights.tensors[2 * l], &weights.tensors[2 * l + 1]);
            matmul([n, o, i], Mat::rm(a, i), Mat::t(wt, i), z, false, threads);
            for row in z.chunks_exact_mut(o) {
                for (v, bias) in row.iter_mut().zip(b) {
                    *v += bias;
                    if l < last && *v < 0.0 {
                        *v = 0.0;
                    }
                }
            }
        }
    }

    fn output(&self) -> &[f32] {
        self.acts.last().expect("forward ran")
    }

    fn backward(&mut self, weights: &MlpWeights, dout: &[f32], threads: usize) {
        let (n, w) = (self.n, &weights.widths);
        if self.grads.len() != weights.tensors.len() {
            self.grads = weights.tensors.iter().map(|t| vec![0.0; t.len()]).collect();
        }
        self.delta.clear();
        self.delta.extend_from_slice(dout);
        for l in (0..weights.layers()).rev() {
            let (i, o) = (w[l], w[l + 1]);
            let (gw, rest) = self.grads[2 * l..].split_at_mut(1);
            let delta_in = if l > 0 {
                self.delta_prev.resize(n * i, 0.0);
                Some(&mut self.delta_prev[..])
            } else {
                None
            };
            let (a, wt) = (&self.acts[l], &weights.tensors[2 * l]);
            dense_backward(
                [n, i, o],
                &self.delta,
                a,
                wt,
                &mut gw[0],
                &mut rest[0],
                delta_in,
                threads,
            );
            if l > 0 {
                // through the ReLU of layer l − 1, whose output is a
                relu_backward(&mut self.delta_prev, a);
                std::mem::swap(&mut self.delta, &mut self.delta_prev);
            }
        }
    }
}

/// The MLP on the fast path: weights, gradients, SGD state and activations.
///
/// A batch is cut into one contiguous slice per thread (fewer for small batches or very large
/// nets, see `slices`); each thread runs the forward and backward GEMMs of its slice on its own
/// (small GEMMs scale better this way than split inside the GEMM), and the slices' gradients are
/// then added in slice order, so the result depends on the thread count but not on timing.
pub struct FastMlp {
    /// Current weights.
    pub weights: MlpWeights,
    /// Gradients of the last backward pass, in the weights' layout.
    pub grads: Vec<Vec<f32>>,
    pub(super) velocity: Vec<Vec<f32>>,
    workers: Vec<Worker>,
    /// Rows per worker in the last forward pass.
    rows: usize,
    out: Vec<f32>,
    n: usize,
    pub(super) threads: usize,
    /// For embedding: the layers packed for [`infer`](Self::infer), made on its first call
    /// (or by [`for_embedding`](Self::for_embedding)) and dropped by an SGD step.
    packed: Option<Vec<Packed>>,
    /// `infer`'s activations, layer after layer in turn.
    acts: [Vec<f32>; 2],
}

impl FastMlp {
    /// Starts from `weights`.
    pub fn new(weights: MlpWeights) -> Self {
        let grads = weights.tensors.iter().map(|t| vec![0.0; t.len()]).collect();
        Self::with(weights, grads, None)
    }

    /// A net that embeds (`infer`) with `weights` as they are: its layers packed for
    /// embedding at once, and no gradients until a backward pass asks for them.
    pub fn for_embedding(weights: MlpWeights) -> Self {
        let packed = pack(&weights);
        Self::with(weights, Vec::new(), Some(packed))
    }

    fn with(weights: MlpWeights, grads: Vec<Vec<f32>>, packed: Option<Vec<Packed>>) -> Self {
        Self {
            weights,
            grads,
            velocity: Vec::new(),
            workers: Vec::new(),
            rows: 0,
            out: Vec::new(),
            n: 0,
            threads: rayon::current_num_threads(),
            packed,
            acts: Default::default(),
        }
    }

    /// Output dimension d.
    pub fn dim(&self) -> usize {
        *self.weights.widths.last().expect("widths")
    }

    /// Slices of the batch and the threads each slice's GEMMs use.
    fn parts(&self, n: usize) -> (usize, usize) {
        let params: usize = self.weights.tensors.iter().map(Vec::len).sum();
        let parts = slices(n, self.threads, params);
        let gemm_threads = if parts == 1 { self.threads } else { 1 };
        (parts, gemm_threads)
    }

    /// Maps `n` inputs (`x`: n × input_dim) to n × d outputs (kept for `backward`).
    pub fn forward(&mut self, x: &[f32], n: usize) -> &[f32] {
        let input = self.weights.widths[0];
        assert_eq!(x.len(), n * input, "inputs must be n × input_dim");
        let (parts, gemm_threads) = self.parts(n);
        self.n = n;
        self.rows = n.div_ceil(parts).max(1);
        if self.workers.len() < parts {
            self.workers.resize_with(parts, Worker::default);
        }
        let weights = &self.weights;
        let used = &mut self.workers[..n.div_ceil(self.rows)];
        used.par_iter_mut()
            .zip(x.par_chunks(self.rows * input))
            .for_each(|(w, x)| w.forward(weights, x, gemm_threads, true));
        self.out.clear();
        for w in used.iter() {
            self.out.extend_from_slice(w.output());
        }
        &self.out
    }

    /// [`forward`](Self::forward) for embedding: the same outputs up to rounding, on one
    /// thread, without keeping anything for a backward pass. Through the packed layers, whose
    /// sums run in one order for every row: a sample's outputs do not depend on the others.
    pub fn infer(&mut self, x: &[f32], n: usize) -> &[f32] {
        assert_eq!(
            x.len(),
            n * self.weights.widths[0],
            "inputs must be n × input_dim"
        );
        let d = self.dim();
        let packed = self.packed.get_or_insert_with(|| pack(&self.weights));
        let [a, b] = &mut self.acts;
        let last = packed.len() - 1;
        for (l, layer) in packed.iter().enumerate() {
            b.resize(n * layer.outputs(), 0.0);
            let input = if l == 0 { x } else { &a[..] };
            layer.apply(input, n, b, l < last);
            std::mem::swap(a, b);
        }
        &a[..n * d]
    }

    /// Gradients of the last forward pass for the output gradient `dout` (n × d), into `grads`.
    pub fn backward(&mut self, dout: &[f32]) {
        let (n, d) = (self.n, self.dim());
        assert_eq!(dout.len(), n * d, "dout must be n × d");
        let (_, gemm_threads) = self.parts(n);
        if self.grads.len() != self.weights.tensors.len() {
            self.grads = self
                .weights
                .tensors
                .iter()
                .map(|t| vec![0.0; t.len()])
                .collect();
        }
        let weights = &self.weights;
        let used = &mut self.workers[..n.div_ceil(self.rows)];
        used.par_iter_mut()
            .zip(dout.par_chunks(self.rows * d))
            .for_each(|(w, dout)| w.backward(weights, dout, gemm_threads));
        // add the slices' gradients in slice order, in parallel over stretches of each tensor
        const STRETCH: usize = 16 * 1024;
        for (t, g) in self.grads.iter_mut().enumerate() {
            g.par_chunks_mut(STRETCH).enumerate().for_each(|(c, g)| {
                let at = c * STRETCH;
                g.copy_from_slice(&used[0].grads[t][at..at + g.len()]);
                for w in &used[1..] {
                    g.iter_mut()
                        .zip(&w.grads[t][at..])
                        .for_each(|(s, v)| *s += v);
                }
            });
        }
    }

    /// One SGD step with the gradients of the last backward pass.
    pub fn sgd_step(&mut self, lr: f32, momentum: f32, weight_decay: f32) {
        self.packed = None;
        let grads = self.grads.iter().map(Vec::as_slice);
        sgd_update(
            self.weights.tensors.iter_mut(),
            grads,
            &mut self.velocity,
            [lr, momentum, weight_decay],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::GradientsParams;
    use burn::tensor::{Tensor, TensorData};

    #[test]
    fn slices_per_thread_within_rows_and_memory() {
        assert_eq!(slices(1024, 16, 1_000), 16);
        assert_eq!(slices(1024, 2, 1_000), 2);
        assert_eq!(slices(40, 4, 1_000), 1); // too few rows to share
        assert_eq!(slices(100, 8, 1_000), 3); // 32 rows or more each
        assert_eq!(slices(1024, 16, 40_000_000), 3); // 160 MB per copy: 3 fit in 512 MiB
        assert_eq!(slices(1024, 16, 200_000_000), 1);
        assert_eq!(slices(1024, 0, 1_000), 1);
    }

    /// A net made for embedding maps through its packed layers: the training net's outputs up
    /// to rounding; after an SGD step it packs the new weights, as a fresh net would.
    #[test]
    fn an_embedding_net_maps_as_the_training_net_and_packs_again_after_a_step() {
        let arch = Architecture::Mlp {
            input_dim: 20,
            hidden: vec![16, 8],
            dim: 3,
        };
        let weights = MlpWeights::from_net(&Net::seeded(&arch, 5, &Device::flex())).unwrap();
        let n = 50;
        let x: Vec<f32> = (0..n * 20).map(|i| ((i * 31) % 17) as f32 / 17.0).collect();
        let mut train = FastMlp::new(weights.clone());
        let mut embed = FastMlp::for_embedding(weights);
        let want = train.forward(&x, n).to_vec();
        let got = embed.infer(&x, n).to_vec();
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} against {b}");
        }
        let dout: Vec<f32> = (0..n * 3).map(|i| (i % 7) as f32 / 7.0 - 0.5).collect();
        for net in [&mut train, &mut embed] {
            net.forward(&x, n);
            net.backward(&dout);
            net.sgd_step(0.1, 0.9, 0.0);
        }
        assert_eq!(embed.weights, train.weights);
        let want = train.forward(&x, n).to_vec();
        let stepped = embed.infer(&x, n).to_vec();
        assert_ne!(stepped, got, "the step changed the map");
        for (a, b) in stepped.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} against {b}");
        }
        let fresh = FastMlp::for_embedding(train.weights.clone())
            .infer(&x, n)
            .to_vec();
        assert_eq!(stepped, fresh, "packed again from the new weights");
    }

    /// The first layer with the normalisation folded in maps the raw samples where the net
    /// mapped the normalised ones, for each kind of normalisation; `infer` and `forward` agree.
    #[test]
    fn a_folded_normalisation_maps_raw_samples_as_the_net_maps_normalised_ones() {
        let arch = Architecture::Mlp {
            input_dim: 6,
            hidden: vec![8, 5],
            dim: 2,
        };
        let net = Net::seeded(&arch, 3, &Device::flex());
        let weights = MlpWeights::from_net(&net).unwrap();
        let n = 40;
        let raw: Vec<f32> = (0..n * 6).map(|i| ((i * 37) % 256) as f32).collect();
        for norm in [
            Normalisation::None,
            Normalisation::Scale {
                factor: 1.0 / 255.0,
            },
            Normalisation::Standardise {
                mean: vec![120.0, 3.0, 0.0, 90.0, 200.0, 17.0],
                std: vec![70.0, 1.5, 1.0, 60.0, 33.0, 80.0],
            },
        ] {
            let mut normalised = raw.clone();
            normalised
                .chunks_exact_mut(6)
                .for_each(|r| norm.apply_in_place(r));
            let want = FastMlp::new(weights.clone())
                .forward(&normalised, n)
                .to_vec();
            let mut folded = FastMlp::new(weights.with_normalisation_folded(&norm));
            let got = folded.infer(&raw, n).to_vec();
            let forward = folded.forward(&raw, n).to_vec();
            for (a, b) in want.iter().chain(&forward).zip(got.iter().cycle()) {
                assert!(
                    (a - b).abs() <= 1e-4 * a.abs().max(1.0),
                    "{norm:?}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn forward_and_gradients_match_burn() {
        // 11 rows: one slice, threads inside the GEMMs
        check_against_burn(11, 2);
    }

    #[test]
    fn batch_slices_add_up_to_the_whole_batch() {
        // 100 rows over 3 threads: slices of 34, 34 and 32 rows, gradients added
        check_against_burn(100, 3);
    }

    fn check_against_burn(n: usize, threads: usize) {
        let dev = Device::flex().autodiff();
        let arch = Architecture::Mlp {
            input_dim: 7,
            hidden: vec![9, 5],
            dim: 3,
        };
        let net = Net::seeded(&arch, 2, &dev);
        let x: Vec<f32> = (0..n * 7)
            .map(|i| ((i * 37) % 23) as f32 / 23.0 - 0.4)
            .collect();
        let dout: Vec<f32> = (0..n * 3)
            .map(|i| ((i * 11) % 7) as f32 / 7.0 - 0.5)
            .collect();
        let out = net.forward(Tensor::from_data(TensorData::new(x.clone(), [n, 7]), &dev));
        let want = out.clone().into_data().try_into_vec::<f32>().unwrap();
        let loss = (out * Tensor::from_data(TensorData::new(dout.clone(), [n, 3]), &dev)).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let mut fast = FastMlp::new(MlpWeights::from_net(&net).unwrap());
        fast.threads = threads;
        let got = fast.forward(&x, n).to_vec();
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        fast.backward(&dout);
        let Net::Mlp(m) = &net else { unreachable!() };
        for (l, layer) in m.layers.iter().enumerate() {
            let gw = grads
                .get::<2>(layer.weight.id)
                .unwrap()
                .into_data()
                .try_into_vec::<f32>()
                .unwrap();
            let [i, o] = layer.weight.val().dims();
            let gw_t: Vec<f32> = (0..i * o).map(|k| gw[(k % i) * o + k / i]).collect(); // [in,out] → [out,in]
            let gb = grads
                .get::<1>(layer.bias.as_ref().unwrap().id)
                .unwrap()
                .into_data()
                .try_into_vec::<f32>()
                .unwrap();
            for (a, b) in fast.grads[2 * l]
                .iter()
                .zip(&gw_t)
                .chain(fast.grads[2 * l + 1].iter().zip(&gb))
            {
                assert!((a - b).abs() < 1e-4, "layer {l}: {a} vs {b}");
            }
        }
        assert_eq!(
            fast.weights.to_net(&Device::flex()).weights(),
            net.weights()
        );
    }
}
