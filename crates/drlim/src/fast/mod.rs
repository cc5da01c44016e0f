//! The fast CPU path for the paper's convnet: forward, backward and SGD written for exactly
//! these layers (C1 as im2col + GEMM, ReLU and max-pool fused with a recorded argmax, C3 and F
//! as plain GEMMs, both arms in one pass, no allocation per step, threads across the batch).
//!
//! It holds the same weights as the burn [`Net`](crate::model::Net) (converted both ways in
//! PyTorch layout) and is checked against the burn path in the tests (outputs, gradients and
//! training steps to 1e-4). The MLP has a fast path of the same kind (plain GEMMs without an
//! autodiff graph). Training uses them on CPU with SGD; Adam and other devices run through burn.
//! Embedding (`FastNet::infer`) runs both nets through their own kernels instead (`packed`),
//! which sum each sample's outputs in one order, whatever the call it comes in.

mod conv;
mod conv_infer;
mod dense;
pub mod gemm;
mod mlp;
mod packed;
mod sgd;

pub use conv::{ConvGrads, ConvWeights, FastConv};
pub use mlp::{FastMlp, MlpWeights};

use burn::tensor::Device;

use crate::model::Net;

/// The one rule for where the fast CPU path runs: on burn's flex CPU device. `Model::embed`
/// follows it as it is; training also needs plain SGD and no request for burn
/// ([`uses_fast_path`](crate::train::uses_fast_path)).
pub fn serves(device: &Device) -> bool {
    *device == Device::flex()
}

/// A network on the fast CPU path.
pub trait FastNet: Send {
    /// Output dimension d.
    fn dim(&self) -> usize;
    /// Maps `n` prepared inputs to n × d outputs, kept for `backward`.
    fn forward(&mut self, x: &[f32], n: usize) -> &[f32];
    /// [`forward`](Self::forward) for embedding, on the calling thread: the same outputs up to
    /// rounding, nothing kept for a backward pass, and each sample's outputs the same bits
    /// whatever the other samples of the call (the layers packed, see `packed`).
    fn infer(&mut self, x: &[f32], n: usize) -> &[f32] {
        self.forward(x, n)
    }
    /// Gradients for the output gradient `dout` of the last forward pass.
    fn backward(&mut self, dout: &[f32]);
    /// One SGD step with momentum and weight decay.
    fn sgd_step(&mut self, lr: f32, momentum: f32, weight_decay: f32);
    /// The burn module with the current weights.
    fn to_net(&self, device: &Device) -> Net;
    /// Whether every weight is finite.
    fn is_finite(&self) -> bool;
    /// The SGD momentum buffers, one per weight tensor in the net's own order (empty before
    /// the first step).
    fn velocity(&self) -> &[Vec<f32>];
    /// Restores momentum buffers taken by [`velocity`](Self::velocity); refuses buffers whose
    /// count or sizes are not the weights'.
    fn set_velocity(&mut self, velocity: Vec<Vec<f32>>) -> Result<(), String>;
    /// The threads a pass uses (at least 1; by default rayon's).
    fn set_threads(&mut self, threads: usize);
}

/// The weights of a network for the fast path, to make as many copies of it as there are
/// threads embedding.
#[derive(Clone, Debug)]
pub enum FastWeights {
    /// The paper's convnet.
    Conv(ConvWeights),
    /// A fully connected net.
    Mlp(MlpWeights),
}

impl FastWeights {
    /// The weights of a burn network.
    pub fn of(net: &Net) -> Self {
        match ConvWeights::from_net(net) {
            Some(w) => FastWeights::Conv(w),
            None => FastWeights::Mlp(MlpWeights::from_net(net).expect("a conv or an mlp")),
        }
    }

    /// A network with these weights for embedding only (`infer`), its layers packed at once;
    /// `threads` serves its training passes, should it be trained.
    pub fn embedding_net(&self, threads: usize) -> Box<dyn FastNet> {
        self.made(threads, FastMlp::for_embedding)
    }

    /// A network with these weights whose passes use `threads` threads.
    pub fn net(&self, threads: usize) -> Box<dyn FastNet> {
        self.made(threads, FastMlp::new)
    }

    /// The net of these weights, an MLP made by `mlp`, on `threads` threads.
    fn made(&self, threads: usize, mlp: fn(MlpWeights) -> FastMlp) -> Box<dyn FastNet> {
        let mut net: Box<dyn FastNet> = match self {
            FastWeights::Conv(w) => Box::new(FastConv::new(w.clone())),
            FastWeights::Mlp(w) => Box::new(mlp(w.clone())),
        };
        net.set_threads(threads);
        net
    }
}

/// Checks momentum buffers against the weight tensors' sizes (no buffers at all is the
/// state before the first step).
fn check_velocity(velocity: &[Vec<f32>], sizes: &[usize]) -> Result<(), String> {
    if velocity.is_empty() {
        return Ok(());
    }
    let got: Vec<usize> = velocity.iter().map(Vec::len).collect();
    if got != sizes {
        return Err(format!(
            "momentum buffers of sizes {got:?} do not fit weights of sizes {sizes:?}"
        ));
    }
    Ok(())
}

/// The fast-path twin of a burn network (the convnet or an MLP).
pub fn fast_net(net: &Net) -> Box<dyn FastNet> {
    FastWeights::of(net).net(rayon::current_num_threads())
}

impl FastNet for FastConv {
    fn dim(&self) -> usize {
        FastConv::dim(self)
    }
    fn forward(&mut self, x: &[f32], n: usize) -> &[f32] {
        FastConv::forward(self, x, n)
    }
    fn infer(&mut self, x: &[f32], n: usize) -> &[f32] {
        FastConv::infer(self, x, n)
    }
    fn backward(&mut self, dout: &[f32]) {
        FastConv::backward(self, dout)
    }
    fn sgd_step(&mut self, lr: f32, momentum: f32, weight_decay: f32) {
        FastConv::sgd_step(self, lr, momentum, weight_decay)
    }
    fn to_net(&self, device: &Device) -> Net {
        self.weights.to_net(device)
    }
    fn is_finite(&self) -> bool {
        self.weights.is_finite()
    }
    fn velocity(&self) -> &[Vec<f32>] {
        &self.velocity
    }
    fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }
    fn set_velocity(&mut self, velocity: Vec<Vec<f32>>) -> Result<(), String> {
        let sizes: Vec<usize> = self.weights.tensors().iter().map(|t| t.len()).collect();
        check_velocity(&velocity, &sizes)?;
        self.velocity = velocity;
        Ok(())
    }
}

impl FastNet for FastMlp {
    fn dim(&self) -> usize {
        FastMlp::dim(self)
    }
    fn forward(&mut self, x: &[f32], n: usize) -> &[f32] {
        FastMlp::forward(self, x, n)
    }
    fn infer(&mut self, x: &[f32], n: usize) -> &[f32] {
        FastMlp::infer(self, x, n)
    }
    fn backward(&mut self, dout: &[f32]) {
        FastMlp::backward(self, dout)
    }
    fn sgd_step(&mut self, lr: f32, momentum: f32, weight_decay: f32) {
        FastMlp::sgd_step(self, lr, momentum, weight_decay)
    }
    fn to_net(&self, device: &Device) -> Net {
        self.weights.to_net(device)
    }
    fn is_finite(&self) -> bool {
        self.weights
            .tensors
            .iter()
            .all(|t| t.iter().all(|v| v.is_finite()))
    }
    fn velocity(&self) -> &[Vec<f32>] {
        &self.velocity
    }
    fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }
    fn set_velocity(&mut self, velocity: Vec<Vec<f32>>) -> Result<(), String> {
        let sizes: Vec<usize> = self.weights.tensors.iter().map(Vec::len).collect();
        check_velocity(&velocity, &sizes)?;
        self.velocity = velocity;
        Ok(())
    }
}
