//! The fast CPU path for the paper's convnet: forward, backward and SGD written for exactly
//! these layers (C1 as im2col + GEMM, ReLU and max-pool fused with a recorded argmax, C3 and F
//! as plain GEMMs, both arms in one pass, no allocation per step, threads across the batch).
//!
//! It holds the same weights as the burn [`Net`](crate::model::Net) (converted both ways in
//! PyTorch layout) and is checked against the burn path in the tests (outputs, gradients and
//! training steps to 1e-4). Training uses it on CPU for the convnet with SGD; everything else
//! (the MLP, Adam, a GPU device) runs through burn.

mod conv;
pub(crate) mod gemm;

pub use conv::{ConvGrads, ConvWeights, FastConv};
