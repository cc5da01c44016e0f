//! A fully connected network G_W for vector data: Linear → ReLU → … → Linear.
//! The paper's NORB net (§4.3) is one hidden layer of 20 units and d = 3.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// Fully connected layers with ReLU between them (none after the last).
#[derive(Module, Debug)]
pub struct MlpNet {
    /// The layers, input first.
    pub layers: Vec<Linear>,
}

impl MlpNet {
    /// A new MLP `input_dim → hidden[0] → … → dim`, initialised like PyTorch's defaults.
    pub fn new(input_dim: usize, hidden: &[usize], dim: usize, device: &Device) -> Self {
        let widths: Vec<usize> = std::iter::once(input_dim)
            .chain(hidden.iter().copied())
            .chain([dim])
            .collect();
        let layers = widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Self { layers }
    }

    /// Maps `[B, input_dim]` to `[B, d]`.
    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = relu(x);
            }
        }
        x
    }
}
