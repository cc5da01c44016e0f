//! Out-of-sample embedding: new samples go through the trained G_W, no retraining.

use burn::tensor::{Device, Tensor, TensorData};

use crate::model::Net;

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
