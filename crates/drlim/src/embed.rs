//! Out-of-sample embedding: new samples go through the trained G_W, no retraining.

use burn::tensor::{Device, Tensor, TensorData};

use crate::fast::FastNet;
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

/// The most rows of one forward pass on the fast path (its activations stay in cache). A pass
/// may hold fewer: each sample's coordinates are the same whatever it is embedded with (a
/// chunk of a stream, a subset, one sample), because the packed kernels sum each output in one
/// order for every row (`fast::packed`). A call of 256 samples runs as two passes on two
/// threads.
pub const FAST_EMBED_ROWS: usize = 128;

/// The outputs of a network on the fast CPU path for prepared inputs (`n × input_dim`), in
/// passes of at most [`FAST_EMBED_ROWS`] rows on the calling thread; each sample's coordinates
/// are the same whatever it is embedded with.
pub fn embed_fast(net: &mut dyn FastNet, inputs: &[f32], input_dim: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(inputs.len() / input_dim * net.dim());
    for block in inputs.chunks(FAST_EMBED_ROWS * input_dim) {
        out.extend_from_slice(net.infer(block, block.len() / input_dim));
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
        for arch in [
            Architecture::Conv { dim: 2 },
            Architecture::Mlp {
                input_dim: 1024,
                hidden: vec![16],
                dim: 3,
            },
        ] {
            let net = Net::seeded(&arch, 0, &dev);
            let n = 1100; // more than one fast batch
            let x: Vec<f32> = (0..n * 1024)
                .map(|i| ((i * 31) % 97) as f32 / 97.0)
                .collect();
            let slow = embed(&net, &x, 1024, &dev);
            let fast = embed_fast(&mut *crate::fast::fast_net(&net), &x, 1024);
            assert_eq!(slow.len(), fast.len());
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-4, "{a} vs {b}");
            }
        }
    }
}
