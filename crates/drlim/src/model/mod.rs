//! The mapping G_W: the paper's convnet and a configurable MLP, one [`Net`] type for both, its
//! input specification, model directories (PyTorch-named safetensors + `config.json`), and
//! ONNX export.

mod conv;
mod input;
mod io;
mod mlp;
mod onnx;

pub use conv::{ConvNet, CONV_INPUT_SIDE};
pub use input::{input_image, pad_images, InputSpec};
pub(crate) use io::write_model;
pub use io::{
    decode_model, encode_model, load_model, save_model, ModelConfig, ModelFiles, CONFIG_FILE,
    MODEL_FILES, MODEL_FORMAT, WEIGHTS_FILE,
};
pub use mlp::MlpNet;
pub use onnx::{export_onnx, ONNX_BATCH_AXIS, ONNX_INPUT, ONNX_OPSET, ONNX_OUTPUT};

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Which network, with its sizes (serialised into `config.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "net", rename_all = "lowercase")]
pub enum Architecture {
    /// The paper's MNIST convnet on 32×32 single-channel images.
    Conv {
        /// Output dimension d.
        dim: usize,
    },
    /// A fully connected network.
    Mlp {
        /// Input dimension.
        input_dim: usize,
        /// Hidden layer widths.
        hidden: Vec<usize>,
        /// Output dimension d.
        dim: usize,
    },
}

impl Architecture {
    /// Output dimension d.
    pub fn dim(&self) -> usize {
        match self {
            Architecture::Conv { dim } | Architecture::Mlp { dim, .. } => *dim,
        }
    }

    /// Values per input sample that the network takes.
    pub fn input_dim(&self) -> usize {
        match self {
            Architecture::Conv { .. } => CONV_INPUT_SIDE * CONV_INPUT_SIDE,
            Architecture::Mlp { input_dim, .. } => *input_dim,
        }
    }

    /// Short name: `conv` or `mlp`.
    pub fn name(&self) -> &'static str {
        match self {
            Architecture::Conv { .. } => "conv",
            Architecture::Mlp { .. } => "mlp",
        }
    }

    /// The weight tensors in PyTorch `state_dict` names and shapes.
    pub fn weight_shapes(&self) -> Vec<(String, Vec<usize>)> {
        match self {
            Architecture::Conv { dim } => vec![
                ("conv1.weight".into(), vec![15, 1, 6, 6]),
                ("conv1.bias".into(), vec![15]),
                ("conv2.weight".into(), vec![30, 15, 9, 9]),
                ("conv2.bias".into(), vec![30]),
                ("fc.weight".into(), vec![*dim, 30]),
                ("fc.bias".into(), vec![*dim]),
            ],
            Architecture::Mlp {
                input_dim,
                hidden,
                dim,
            } => {
                let widths: Vec<usize> = std::iter::once(*input_dim)
                    .chain(hidden.iter().copied())
                    .chain([*dim])
                    .collect();
                widths
                    .windows(2)
                    .enumerate()
                    .flat_map(|(i, w)| {
                        // nn.Sequential(Linear, ReLU, Linear, …): linear layers at even indices
                        let name = format!("layers.{}", 2 * i);
                        [
                            (format!("{name}.weight"), vec![w[1], w[0]]),
                            (format!("{name}.bias"), vec![w[1]]),
                        ]
                    })
                    .collect()
            }
        }
    }
}

/// The network G_W shared by both arms of the Siamese pair.
// One network exists per model and moves rarely: the size difference of the variants is moot.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Net {
    /// The paper's convnet.
    Conv(ConvNet),
    /// A fully connected network.
    Mlp(MlpNet),
}

impl Net {
    /// A freshly initialised network. Seed the device first for reproducible weights.
    pub fn new(arch: &Architecture, device: &Device) -> Self {
        match arch {
            Architecture::Conv { dim } => Net::Conv(ConvNet::new(*dim, device)),
            Architecture::Mlp {
                input_dim,
                hidden,
                dim,
            } => Net::Mlp(MlpNet::new(*input_dim, hidden, *dim, device)),
        }
    }

    /// A network initialised from `seed` alone, like PyTorch's defaults: every weight and bias
    /// uniform in ±1/√fan_in. Independent of any global random state, so the same seed gives
    /// the same weights whatever else runs in the process.
    pub fn seeded(arch: &Architecture, seed: u64, device: &Device) -> Self {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut values = std::collections::HashMap::new();
        let mut fan_in = 1;
        for (name, shape) in arch.weight_shapes() {
            if name.ends_with(".weight") {
                fan_in = shape[1..].iter().product::<usize>();
            }
            let bound = 1.0 / (fan_in as f32).sqrt();
            let count: usize = shape.iter().product();
            values.insert(
                name,
                (0..count)
                    .map(|_| rng.random_range(-bound..bound))
                    .collect::<Vec<f32>>(),
            );
        }
        Net::from_weights(arch, device, |name| {
            values.remove(name).expect("every weight generated")
        })
    }

    /// Maps a batch of prepared inputs `[B, input_dim]` to `[B, d]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Net::Conv(net) => net.forward(x),
            Net::Mlp(net) => net.forward(x),
        }
    }

    /// All weights as (PyTorch name, PyTorch shape, values), in [`Architecture::weight_shapes`] order.
    pub fn weights(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        fn vals<const D: usize>(t: Tensor<D>) -> Vec<f32> {
            t.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32 weights")
        }
        fn linear(name: &str, l: &burn::nn::Linear) -> [(String, Vec<usize>, Vec<f32>); 2] {
            let w = l.weight.val(); // burn stores [in, out]; PyTorch [out, in]
            let [i, o] = w.dims();
            let b = l.bias.as_ref().expect("linear layers have a bias").val();
            [
                (format!("{name}.weight"), vec![o, i], vals(w.transpose())),
                (format!("{name}.bias"), vec![o], vals(b)),
            ]
        }
        fn conv(name: &str, c: &burn::nn::conv::Conv2d) -> [(String, Vec<usize>, Vec<f32>); 2] {
            let w = c.weight.val();
            let b = c.bias.as_ref().expect("conv layers have a bias").val();
            [
                (format!("{name}.weight"), w.dims().to_vec(), vals(w)),
                (format!("{name}.bias"), b.dims().to_vec(), vals(b)),
            ]
        }
        match self {
            Net::Conv(n) => [
                conv("conv1", &n.conv1),
                conv("conv2", &n.conv2),
                linear("fc", &n.fc),
            ]
            .into_iter()
            .flatten()
            .collect(),
            Net::Mlp(n) => n
                .layers
                .iter()
                .enumerate()
                .flat_map(|(i, l)| linear(&format!("layers.{}", 2 * i), l))
                .collect(),
        }
    }

    /// Builds the network of `arch` from weights in PyTorch names and layouts. `get` returns
    /// a tensor's values for a name; shapes were checked by the caller against
    /// [`Architecture::weight_shapes`].
    pub fn from_weights(
        arch: &Architecture,
        device: &Device,
        mut get: impl FnMut(&str) -> Vec<f32>,
    ) -> Self {
        let mut net = Net::new(arch, device);
        let linear = |get: &mut dyn FnMut(&str) -> Vec<f32>,
                      name: &str,
                      l: &mut burn::nn::Linear| {
            let [i, o] = l.weight.val().dims();
            // PyTorch [out, in] → burn [in, out], transposed here so that the tensor is contiguous
            let w = get(&format!("{name}.weight"));
            let wt: Vec<f32> = (0..i * o).map(|k| w[(k % o) * i + k / o]).collect();
            l.weight = Param::from_tensor(Tensor::from_data(TensorData::new(wt, [i, o]), device));
            let b = TensorData::new(get(&format!("{name}.bias")), [o]);
            l.bias = Some(Param::from_tensor(Tensor::from_data(b, device)));
        };
        match &mut net {
            Net::Conv(n) => {
                for (name, c) in [("conv1", &mut n.conv1), ("conv2", &mut n.conv2)] {
                    let shape = c.weight.val().dims();
                    let w = TensorData::new(get(&format!("{name}.weight")), shape);
                    c.weight = Param::from_tensor(Tensor::from_data(w, device));
                    let b = TensorData::new(get(&format!("{name}.bias")), [shape[0]]);
                    c.bias = Some(Param::from_tensor(Tensor::from_data(b, device)));
                }
                linear(&mut get, "fc", &mut n.fc);
            }
            Net::Mlp(n) => {
                for (i, l) in n.layers.iter_mut().enumerate() {
                    linear(&mut get, &format!("layers.{}", 2 * i), l);
                }
            }
        }
        net
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_net_has_the_papers_shape_and_37097_parameters() {
        let dev = Device::flex();
        let net = Net::new(&Architecture::Conv { dim: 2 }, &dev);
        assert_eq!(net.num_params(), 37_097);
        let shapes: Vec<_> = net.weights().into_iter().map(|(n, s, _)| (n, s)).collect();
        assert_eq!(shapes, Architecture::Conv { dim: 2 }.weight_shapes());
        let Net::Conv(c) = &net else { unreachable!() };
        let x: Tensor<4> = Tensor::zeros([3, 1, 32, 32], &dev);
        let h1 = c.conv1.forward(x);
        assert_eq!(h1.dims(), [3, 15, 27, 27]);
        let h2 = c.pool.forward(h1);
        assert_eq!(h2.dims(), [3, 15, 9, 9]);
        assert_eq!(c.conv2.forward(h2).dims(), [3, 30, 1, 1]);
        assert_eq!(net.forward(Tensor::zeros([3, 1024], &dev)).dims(), [3, 2]);
    }

    #[test]
    fn seeded_init_is_reproducible_and_pytorch_like() {
        let dev = Device::flex();
        let arch = Architecture::Conv { dim: 2 };
        let a = Net::seeded(&arch, 3, &dev).weights();
        assert_eq!(a, Net::seeded(&arch, 3, &dev).weights());
        assert_ne!(a, Net::seeded(&arch, 4, &dev).weights());
        let (name, _, conv2) = &a[2];
        assert_eq!(name, "conv2.weight");
        let bound = 1.0 / ((15 * 81) as f32).sqrt();
        assert!(conv2.iter().all(|v| v.abs() <= bound));
        assert!(conv2.iter().any(|v| v.abs() > 0.9 * bound));
    }

    #[test]
    fn mlp_shapes_and_weight_round_trip() {
        let dev = Device::flex();
        let arch = Architecture::Mlp {
            input_dim: 5,
            hidden: vec![4, 3],
            dim: 2,
        };
        let net = Net::new(&arch, &dev);
        assert_eq!(net.num_params(), 5 * 4 + 4 + 4 * 3 + 3 + 3 * 2 + 2);
        let w = net.weights();
        assert_eq!(
            w.iter()
                .map(|(n, s, _)| (n.clone(), s.clone()))
                .collect::<Vec<_>>(),
            arch.weight_shapes()
        );
        assert_eq!(w[0].0, "layers.0.weight");
        assert_eq!(w[2].0, "layers.2.weight");
        let copy = Net::from_weights(&arch, &dev, |name| {
            w.iter().find(|(n, _, _)| n == name).unwrap().2.clone()
        });
        assert_eq!(copy.weights(), w);
        let x: Tensor<2> = Tensor::from_data(
            TensorData::new((0..10).map(|v| v as f32 / 7.0).collect::<Vec<_>>(), [2, 5]),
            &dev,
        );
        let a = net
            .forward(x.clone())
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let b = copy.forward(x).into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(a, b);
    }
}
