//! Forward, backward and SGD for the fully connected net by hand: one GEMM per layer and
//! direction, bias and ReLU applied in place, activations kept in reused buffers, no autodiff
//! graph.

use super::dense::{dense_backward, relu_backward};
use super::gemm::{matmul, Mat};
use super::sgd::sgd_update;
use crate::model::{Architecture, Net};
use burn::tensor::Device;

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
}

/// The MLP on the fast path: weights, gradients, SGD state and activations.
pub struct FastMlp {
    /// Current weights.
    pub weights: MlpWeights,
    /// Gradients of the last backward pass, in the weights' layout.
    pub grads: Vec<Vec<f32>>,
    velocity: Vec<Vec<f32>>,
    /// acts[0] is the input, acts[l + 1] the output of layer l (after ReLU but for the last).
    acts: Vec<Vec<f32>>,
    delta: Vec<f32>,
    delta_prev: Vec<f32>,
    n: usize,
    threads: usize,
}

impl FastMlp {
    /// Starts from `weights`.
    pub fn new(weights: MlpWeights) -> Self {
        let grads = weights.tensors.iter().map(|t| vec![0.0; t.len()]).collect();
        let acts = vec![Vec::new(); weights.widths.len()];
        Self {
            weights,
            grads,
            velocity: Vec::new(),
            acts,
            delta: Vec::new(),
            delta_prev: Vec::new(),
            n: 0,
            threads: rayon::current_num_threads(),
        }
    }

    /// Output dimension d.
    pub fn dim(&self) -> usize {
        *self.weights.widths.last().expect("widths")
    }

    /// Maps `n` inputs (`x`: n × input_dim) to n × d outputs (kept for `backward`).
    pub fn forward(&mut self, x: &[f32], n: usize) -> &[f32] {
        let w = &self.weights.widths;
        assert_eq!(x.len(), n * w[0], "inputs must be n × input_dim");
        self.n = n;
        self.acts[0].clear();
        self.acts[0].extend_from_slice(x);
        let last = self.weights.layers() - 1;
        for l in 0..=last {
            let (i, o) = (w[l], w[l + 1]);
            let (before, after) = self.acts.split_at_mut(l + 1);
            let (a, z) = (&before[l], &mut after[0]);
            z.resize(n * o, 0.0);
            let (wt, b) = (
                &self.weights.tensors[2 * l],
                &self.weights.tensors[2 * l + 1],
            );
            matmul(
                [n, o, i],
                Mat::rm(a, i),
                Mat::t(wt, i),
                z,
                false,
                self.threads,
            );
            for row in z.chunks_exact_mut(o) {
                for (v, bias) in row.iter_mut().zip(b) {
                    *v += bias;
                    if l < last && *v < 0.0 {
                        *v = 0.0;
                    }
                }
            }
        }
        &self.acts[last + 1]
    }

    /// Gradients of the last forward pass for the output gradient `dout` (n × d), into `grads`.
    pub fn backward(&mut self, dout: &[f32]) {
        let (n, w) = (self.n, self.weights.widths.clone());
        assert_eq!(dout.len(), n * self.dim(), "dout must be n × d");
        self.delta.clear();
        self.delta.extend_from_slice(dout);
        for l in (0..self.weights.layers()).rev() {
            let (i, o) = (w[l], w[l + 1]);
            let (gw, rest) = self.grads[2 * l..].split_at_mut(1);
            let delta_in = if l > 0 {
                self.delta_prev.resize(n * i, 0.0);
                Some(&mut self.delta_prev[..])
            } else {
                None
            };
            let (a, wt) = (&self.acts[l], &self.weights.tensors[2 * l]);
            dense_backward(
                [n, i, o],
                &self.delta,
                a,
                wt,
                &mut gw[0],
                &mut rest[0],
                delta_in,
                self.threads,
            );
            if l > 0 {
                // through the ReLU of layer l − 1, whose output is a
                relu_backward(&mut self.delta_prev, a);
                std::mem::swap(&mut self.delta, &mut self.delta_prev);
            }
        }
    }

    /// One SGD step with the gradients of the last backward pass.
    pub fn sgd_step(&mut self, lr: f32, momentum: f32, weight_decay: f32) {
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
    fn forward_and_gradients_match_burn() {
        let dev = Device::flex().autodiff();
        let arch = Architecture::Mlp {
            input_dim: 7,
            hidden: vec![9, 5],
            dim: 3,
        };
        let net = Net::seeded(&arch, 2, &dev);
        let n = 11;
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
