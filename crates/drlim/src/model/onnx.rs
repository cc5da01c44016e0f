//! ONNX export: the network together with its input preparation (flattening, the training
//! data's normalisation and, for the convnet, the paper's zero padding of 28×28 digits to
//! 32×32) as one graph, so that raw samples go in and coordinates come out, in any ONNX
//! runtime. The graph is written directly as ONNX protobuf (opset [`ONNX_OPSET`]) from the
//! weights in their PyTorch layout: a handful of standard operators (Reshape, Mul/Sub/Div, Pad,
//! Conv, Relu, MaxPool, Flatten, Gemm).

use prost::Message;

use super::input::conv_side;
use super::{Architecture, ModelConfig, Net, CONV_INPUT_SIDE};
use crate::data::{Metric, Normalisation};

/// The ONNX operator set the graph is written for.
pub const ONNX_OPSET: i64 = 17;
/// The ONNX IR version matching [`ONNX_OPSET`].
const IR_VERSION: i64 = 8;
/// The graph's input: float32 `[batch, ...training sample shape]`, raw values as in the
/// training file (pixels 0–255 for u8 images).
pub const ONNX_INPUT: &str = "input";
/// The graph's output: float32 `[batch, d]`, the coordinates.
pub const ONNX_OUTPUT: &str = "embedding";
/// The name of the dynamic batch axis.
pub const ONNX_BATCH_AXIS: &str = "batch";

/// Each row of `x` transformed by the metric: centred on its own mean (correlation), then
/// divided by its length (cosine, correlation; a zero row stays zero).
fn metric_nodes(g: &mut GraphBuilder, mut x: String, metric: Metric) -> String {
    if metric == Metric::Correlation {
        let mean = g.node(
            "ReduceMean",
            &[&x],
            vec![attr_ints("axes", &[1]), attr_int("keepdims", 1)],
        );
        x = g.node("Sub", &[&x, &mean], vec![]);
    }
    if metric != Metric::Euclidean {
        let norm = g.node(
            "ReduceL2",
            &[&x],
            vec![attr_ints("axes", &[1]), attr_int("keepdims", 1)],
        );
        let tiny = g.constant_f32("tiny", &[], &[f32::MIN_POSITIVE]);
        let norm = g.node("Max", &[&norm, &tiny], vec![]);
        x = g.node("Div", &[&x, &norm], vec![]);
    }
    x
}

/// The model as an ONNX file's bytes.
pub fn export_onnx(net: &Net, config: &ModelConfig) -> Vec<u8> {
    let input = &config.input;
    let arch = &config.architecture;
    let mut g = GraphBuilder::default();
    let dim = input.dim();

    // raw samples → rows of `dim` values, normalised as the training data was
    let mut x = g.reshape(ONNX_INPUT, &[-1, dim as i64]);
    x = metric_nodes(&mut g, x, input.metric);
    match &input.normalisation {
        Normalisation::None => {}
        Normalisation::Scale { factor } => {
            let f = g.constant_f32("scale", &[], &[*factor]);
            x = g.node("Mul", &[&x, &f], vec![]);
        }
        Normalisation::Standardise { mean, std } => {
            let m = g.constant_f32("mean", &[dim], mean);
            let s = g.constant_f32("std", &[dim], std);
            x = g.node("Sub", &[&x, &m], vec![]);
            x = g.node("Div", &[&x, &s], vec![]);
        }
    }
    let weights = net.weights();
    let weight = |g: &mut GraphBuilder, name: &str| {
        let (_, shape, values) = weights
            .iter()
            .find(|(n, _, _)| n == name)
            .expect("the architecture's weights");
        g.constant_f32(name, shape, values)
    };
    let linear = |g: &mut GraphBuilder, x: &str, w: &str, b: &str| {
        // PyTorch's [out, in] weight: y = x·Wᵀ + b
        g.node("Gemm", &[x, w, b], vec![attr_int("transB", 1)])
    };
    match arch {
        Architecture::Conv { .. } => {
            let side = conv_side(&input.shape).expect("a checked conv model takes images");
            x = g.reshape(&x, &[-1, 1, side as i64, side as i64]);
            let off = ((CONV_INPUT_SIDE - side) / 2) as i64;
            if off > 0 {
                let pads = g.constant_i64("pads", &[8], &[0, 0, off, off, 0, 0, off, off]);
                x = g.node("Pad", &[&x, &pads], vec![]);
            }
            for (layer, kernel) in [("conv1", 6), ("conv2", 9)] {
                let w = weight(&mut g, &format!("{layer}.weight"));
                let b = weight(&mut g, &format!("{layer}.bias"));
                x = g.node(
                    "Conv",
                    &[&x, &w, &b],
                    vec![attr_ints("kernel_shape", &[kernel, kernel])],
                );
                x = g.node("Relu", &[&x], vec![]);
                if layer == "conv1" {
                    x = g.node(
                        "MaxPool",
                        &[&x],
                        vec![
                            attr_ints("kernel_shape", &[3, 3]),
                            attr_ints("strides", &[3, 3]),
                        ],
                    );
                }
            }
            x = g.node("Flatten", &[&x], vec![attr_int("axis", 1)]);
            let (w, b) = (weight(&mut g, "fc.weight"), weight(&mut g, "fc.bias"));
            x = linear(&mut g, &x, &w, &b);
        }
        Architecture::Mlp { hidden, .. } => {
            for i in 0..=hidden.len() {
                let w = weight(&mut g, &format!("layers.{}.weight", 2 * i));
                let b = weight(&mut g, &format!("layers.{}.bias", 2 * i));
                x = linear(&mut g, &x, &w, &b);
                if i < hidden.len() {
                    x = g.node("Relu", &[&x], vec![]);
                }
            }
        }
    }
    g.rename_output(&x, ONNX_OUTPUT);

    let batch = || Dimension {
        dim_value: None,
        dim_param: Some(ONNX_BATCH_AXIS.into()),
    };
    let sized = |n: usize| Dimension {
        dim_value: Some(n as i64),
        dim_param: None,
    };
    let in_dims = std::iter::once(batch())
        .chain(input.shape.iter().map(|&n| sized(n)))
        .collect();
    let out_dims = vec![batch(), sized(arch.dim())];
    let graph = GraphProto {
        node: g.nodes,
        name: Some("drlim".into()),
        initializer: g.initializers,
        doc_string: Some(format!(
            "DrLIM mapping G_W ({} net, {}-D output). Input: float32 samples of shape {:?} with \
             the training file's raw values; the normalisation{} is inside the graph.",
            arch.name(),
            arch.dim(),
            input.shape,
            if matches!(arch, Architecture::Conv { .. }) {
                " and the padding to 32×32"
            } else {
                ""
            }
        )),
        input: vec![value_info(ONNX_INPUT, in_dims)],
        output: vec![value_info(ONNX_OUTPUT, out_dims)],
    };
    let meta = |key: &str, value: String| StringStringEntryProto {
        key: Some(key.into()),
        value: Some(value),
    };
    ModelProto {
        ir_version: Some(IR_VERSION),
        producer_name: Some("drlim".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        doc_string: None,
        graph: Some(graph),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(ONNX_OPSET),
        }],
        metadata_props: vec![
            meta(
                "drlim_architecture",
                serde_json::to_string(arch).expect("serialisable"),
            ),
            meta(
                "drlim_input",
                serde_json::to_string(input).expect("serialisable"),
            ),
            meta("drlim_model_format", config.format.to_string()),
            meta("drlim_seed", config.seed.to_string()),
        ],
    }
    .encode_to_vec()
}

/// Collects nodes and constant tensors, naming each node's output after its operator.
#[derive(Default)]
struct GraphBuilder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl GraphBuilder {
    /// Adds a node of `op` on `inputs`; returns the name of its output.
    fn node(&mut self, op: &str, inputs: &[&str], attribute: Vec<AttributeProto>) -> String {
        let out = format!("{}_{}", op.to_lowercase(), self.nodes.len());
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.clone()],
            name: Some(out.clone()),
            op_type: Some(op.into()),
            attribute,
        });
        out
    }

    /// Reshapes `x` to `shape` (-1 for the batch).
    fn reshape(&mut self, x: &str, shape: &[i64]) -> String {
        let s = self.constant_i64(
            &format!("shape_{}", self.initializers.len()),
            &[shape.len()],
            shape,
        );
        self.node("Reshape", &[x, &s], vec![])
    }

    fn constant(&mut self, name: &str, dims: &[usize], data_type: i32, raw: Vec<u8>) -> String {
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: Some(data_type),
            name: Some(name.into()),
            raw_data: Some(raw),
        });
        name.into()
    }

    /// A float32 constant (raw data little-endian, as ONNX stores it).
    fn constant_f32(&mut self, name: &str, dims: &[usize], values: &[f32]) -> String {
        debug_assert_eq!(dims.iter().product::<usize>(), values.len());
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(name, dims, DATA_TYPE_FLOAT, raw)
    }

    /// An int64 constant.
    fn constant_i64(&mut self, name: &str, dims: &[usize], values: &[i64]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(name, dims, DATA_TYPE_INT64, raw)
    }

    /// Gives the node whose output is `from` the output name `to`.
    fn rename_output(&mut self, from: &str, to: &str) {
        for n in &mut self.nodes {
            for o in &mut n.output {
                if o == from {
                    *o = to.into();
                }
            }
        }
    }
}

fn value_info(name: &str, dims: Vec<Dimension>) -> ValueInfoProto {
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: Some(DATA_TYPE_FLOAT),
                shape: Some(TensorShapeProto { dim: dims }),
            }),
        }),
    }
}

fn attr_int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        i: Some(i),
        r#type: Some(ATTRIBUTE_INT),
        ..Default::default()
    }
}

fn attr_ints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        ints: ints.to_vec(),
        r#type: Some(ATTRIBUTE_INTS),
        ..Default::default()
    }
}

// The subset of onnx.proto (proto2; field numbers as there) that the export writes.

const DATA_TYPE_FLOAT: i32 = 1;
const DATA_TYPE_INT64: i32 = 7;
const ATTRIBUTE_INT: i32 = 2;
const ATTRIBUTE_INTS: i32 = 7;

#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(int64, optional, tag = "1")]
    ir_version: Option<i64>,
    #[prost(string, optional, tag = "2")]
    producer_name: Option<String>,
    #[prost(string, optional, tag = "3")]
    producer_version: Option<String>,
    #[prost(string, optional, tag = "6")]
    doc_string: Option<String>,
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "8")]
    opset_import: Vec<OperatorSetIdProto>,
    #[prost(message, repeated, tag = "14")]
    metadata_props: Vec<StringStringEntryProto>,
}

#[derive(Clone, PartialEq, Message)]
struct OperatorSetIdProto {
    #[prost(string, optional, tag = "1")]
    domain: Option<String>,
    #[prost(int64, optional, tag = "2")]
    version: Option<i64>,
}

#[derive(Clone, PartialEq, Message)]
struct StringStringEntryProto {
    #[prost(string, optional, tag = "1")]
    key: Option<String>,
    #[prost(string, optional, tag = "2")]
    value: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    node: Vec<NodeProto>,
    #[prost(string, optional, tag = "2")]
    name: Option<String>,
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
    #[prost(string, optional, tag = "10")]
    doc_string: Option<String>,
    #[prost(message, repeated, tag = "11")]
    input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    output: Vec<ValueInfoProto>,
}

#[derive(Clone, PartialEq, Message)]
struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    output: Vec<String>,
    #[prost(string, optional, tag = "3")]
    name: Option<String>,
    #[prost(string, optional, tag = "4")]
    op_type: Option<String>,
    #[prost(message, repeated, tag = "5")]
    attribute: Vec<AttributeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct AttributeProto {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(int64, optional, tag = "3")]
    i: Option<i64>,
    #[prost(int64, repeated, packed = "false", tag = "8")]
    ints: Vec<i64>,
    #[prost(int32, optional, tag = "20")]
    r#type: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(int64, repeated, packed = "false", tag = "1")]
    dims: Vec<i64>,
    #[prost(int32, optional, tag = "2")]
    data_type: Option<i32>,
    #[prost(string, optional, tag = "8")]
    name: Option<String>,
    #[prost(bytes = "vec", optional, tag = "9")]
    raw_data: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, Message)]
struct ValueInfoProto {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(message, optional, tag = "2")]
    r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TypeProto {
    #[prost(message, optional, tag = "1")]
    tensor_type: Option<TensorTypeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorTypeProto {
    #[prost(int32, optional, tag = "1")]
    elem_type: Option<i32>,
    #[prost(message, optional, tag = "2")]
    shape: Option<TensorShapeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorShapeProto {
    #[prost(message, repeated, tag = "1")]
    dim: Vec<Dimension>,
}

#[derive(Clone, PartialEq, Message)]
struct Dimension {
    #[prost(int64, optional, tag = "1")]
    dim_value: Option<i64>,
    #[prost(string, optional, tag = "2")]
    dim_param: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SourceDtype;
    use crate::model::{InputSpec, MODEL_FORMAT};
    use burn::tensor::Device;

    fn config(arch: Architecture, shape: Vec<usize>, normalisation: Normalisation) -> ModelConfig {
        ModelConfig {
            format: MODEL_FORMAT,
            drlim_version: "test".into(),
            input: InputSpec {
                metric: crate::data::Metric::Euclidean,
                shape,
                dtype: SourceDtype::U8,
                normalisation,
            },
            architecture: arch,
            seed: 0,
            training: serde_json::json!({}),
        }
    }

    fn ops(bytes: &[u8]) -> Vec<String> {
        let m = ModelProto::decode(bytes).expect("valid protobuf");
        let g = m.graph.expect("a graph");
        g.node.into_iter().filter_map(|n| n.op_type).collect()
    }

    #[test]
    fn conv_graph_pads_28_pixel_digits_and_scales_them() {
        let arch = Architecture::Conv { dim: 2 };
        let net = Net::seeded(&arch, 1, &Device::flex());
        let cfg = config(
            arch,
            vec![28, 28],
            Normalisation::Scale {
                factor: 1.0 / 255.0,
            },
        );
        let bytes = export_onnx(&net, &cfg);
        assert_eq!(
            ops(&bytes),
            [
                "Reshape", "Mul", "Reshape", "Pad", "Conv", "Relu", "MaxPool", "Conv", "Relu",
                "Flatten", "Gemm"
            ]
        );
        let m = ModelProto::decode(&bytes[..]).unwrap();
        assert_eq!(m.opset_import[0].version, Some(ONNX_OPSET));
        let g = m.graph.unwrap();
        // every weight is in the graph, with its values
        let params: usize = g
            .initializer
            .iter()
            .filter(|t| t.data_type == Some(DATA_TYPE_FLOAT) && !t.dims.is_empty())
            .map(|t| t.dims.iter().product::<i64>() as usize)
            .sum();
        assert_eq!(params, 37_097);
        let conv1 = g
            .initializer
            .iter()
            .find(|t| t.name.as_deref() == Some("conv1.weight"))
            .unwrap();
        let (_, _, values) = &net.weights()[0];
        assert_eq!(conv1.raw_data.as_ref().unwrap().len(), values.len() * 4);
        assert_eq!(
            &conv1.raw_data.as_ref().unwrap()[..4],
            &values[0].to_le_bytes()
        );
        // the batch axis is dynamic; the sample axes are the training shape
        let dims = |v: &ValueInfoProto| -> Vec<(Option<i64>, Option<String>)> {
            let t = v.r#type.as_ref().unwrap().tensor_type.as_ref().unwrap();
            let shape = t.shape.as_ref().unwrap();
            shape
                .dim
                .iter()
                .map(|d| (d.dim_value, d.dim_param.clone()))
                .collect()
        };
        assert_eq!(
            dims(&g.input[0]),
            [
                (None, Some("batch".into())),
                (Some(28), None),
                (Some(28), None)
            ]
        );
        assert_eq!(
            dims(&g.output[0]),
            [(None, Some("batch".into())), (Some(2), None)]
        );
        assert_eq!(g.node.last().unwrap().output, [ONNX_OUTPUT]);
    }

    #[test]
    fn mlp_graph_standardises_and_has_relu_between_layers_only() {
        let arch = Architecture::Mlp {
            input_dim: 3,
            hidden: vec![4, 5],
            dim: 3,
        };
        let net = Net::seeded(&arch, 1, &Device::flex());
        let cfg = config(
            arch,
            vec![3],
            Normalisation::Standardise {
                mean: vec![0.0, 1.0, 2.0],
                std: vec![1.0, 2.0, 3.0],
            },
        );
        assert_eq!(
            ops(&export_onnx(&net, &cfg)),
            ["Reshape", "Sub", "Div", "Gemm", "Relu", "Gemm", "Relu", "Gemm"]
        );
        let plain = config(cfg.architecture.clone(), vec![3], Normalisation::None);
        assert_eq!(
            ops(&export_onnx(&net, &plain)),
            ["Reshape", "Gemm", "Relu", "Gemm", "Relu", "Gemm"]
        );
    }
}
