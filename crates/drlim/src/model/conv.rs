//! The paper's MNIST convolutional network (Hadsell et al. 2006, §4.1):
//! input 1×32×32 (a 28×28 digit zero-padded by 2) → C1: 15 maps, 6×6 kernels → 15×27×27, ReLU
//! → S2: max-pool 3×3, stride 3 → 15×9×9 → C3: 30 maps, 9×9 kernels → 30×1×1, ReLU
//! → F: fully connected 30 → d. 37,097 parameters for d = 2.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// Side of the (padded) input image.
pub const CONV_INPUT_SIDE: usize = 32;

/// The paper's convnet G_W for 32×32 single-channel images.
#[derive(Module, Debug)]
pub struct ConvNet {
    /// C1: 1 → 15 maps, 6×6.
    pub conv1: Conv2d,
    /// S2: 3×3 max-pool, stride 3.
    pub pool: MaxPool2d,
    /// C3: 15 → 30 maps, 9×9 (a full connection over the 9×9 pooled maps).
    pub conv2: Conv2d,
    /// F: 30 → d.
    pub fc: Linear,
}

impl ConvNet {
    /// A new convnet with output dimension `dim`, initialised like PyTorch's defaults
    /// (uniform in ±1/√fan_in for weights and biases).
    pub fn new(dim: usize, device: &Device) -> Self {
        Self {
            conv1: Conv2dConfig::new([1, 15], [6, 6]).init(device),
            pool: MaxPool2dConfig::new([3, 3]).with_strides([3, 3]).init(),
            conv2: Conv2dConfig::new([15, 30], [9, 9]).init(device),
            fc: LinearConfig::new(30, dim).init(device),
        }
    }

    /// Maps flat images `[B, 1024]` to `[B, d]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [b, _] = x.dims();
        let x: Tensor<4> = x.reshape([b, 1, CONV_INPUT_SIDE, CONV_INPUT_SIDE]);
        let x = self.pool.forward(relu(self.conv1.forward(x)));
        let x = relu(self.conv2.forward(x));
        self.fc.forward(x.reshape([b, 30]))
    }
}
