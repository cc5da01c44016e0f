//! Out-of-sample embedding: new samples go through the trained G_W, no retraining.

use burn::tensor::{Device, Tensor, TensorData};

use crate::fast::{ConvWeights, FastConv};
use crate::model::{Net, CONV_INPUT_SIDE};

/// Rows per forward pass when embedding.
pub const EMBED_BATCH: usize = 1024;

/// Maps prepared inputs (`n × input_dim`, row-major) to `n × d` output coordinates.
pub fn embed(net: &Net, inputs: &[f32], input_dim: usize, device: &Device) -> Vec<f32> {
    let mut out = Vec::new();
    for chunk in inputs.chunks(EMBED_BATCH * input_dim) {
        let rows = chunk.len() / input_dim;
        let x: Tensor<2> =
            Tensor::from_data(TensorData::new(chunk.to_vec(), [rows, input_dim]), device);
        out.extend(
            net.forward(x)
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32 output"),
        );
    }
    out
}

/// Images per forward pass of the fast convnet (its im2col buffer is 105 KB per image).
const FAST_BATCH: usize = 256;

/// The convnet's outputs for prepared 32×32 inputs on the fast CPU path.
pub fn embed_fast_conv(weights: ConvWeights, inputs: &[f32]) -> Vec<f32> {
    let side = CONV_INPUT_SIDE * CONV_INPUT_SIDE;
    let mut fast = FastConv::new(weights);
    let mut out = Vec::with_capacity(inputs.len() / side * fast.dim());
    for chunk in inputs.chunks(FAST_BATCH * side) {
        out.extend_from_slice(fast.forward(chunk, chunk.len() / side));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Architecture;

    #[test]
    fn fast_and_burn_embeddings_agree() {
        let dev = Device::flex();
        let net = Net::seeded(&Architecture::Conv { dim: 2 }, 0, &dev);
        let n = 300; // more than one fast batch
        let x: Vec<f32> = (0..n * 1024)
            .map(|i| ((i * 31) % 97) as f32 / 97.0)
            .collect();
        let slow = embed(&net, &x, 1024, &dev);
        let fast = embed_fast_conv(ConvWeights::from_net(&net).unwrap(), &x);
        assert_eq!(slow.len(), fast.len());
        for (a, b) in fast.iter().zip(&slow) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}
