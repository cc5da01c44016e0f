//! `drlim export`: the ONNX graph maps raw samples exactly as `drlim embed` does, checked in
//! tract (a Rust ONNX runtime, with the `onnx-check` feature: `cargo test --release
//! --workspace --features drlim-cli/onnx-check --test onnx_export`, which CI runs, the whole
//! workspace selected so that the build shares the test command's dependencies; ONNX Runtime
//! is checked by the Python package's tests), and its bad inputs fail cleanly (always).

mod common;

#[cfg(feature = "onnx-check")]
use std::path::Path;

use common::*;
#[cfg(feature = "onnx-check")]
use tract_onnx::prelude::*;

#[cfg(feature = "onnx-check")]
/// Runs the ONNX file on `values` (samples of `shape`) in tract: n × d coordinates.
fn tract_embed(onnx: &Path, values: Vec<f32>, shape: &[usize]) -> (Vec<usize>, Vec<f32>) {
    let model = tract_onnx::onnx()
        .model_for_path(onnx)
        .expect("tract reads the file")
        .into_optimized()
        .expect("tract optimises the graph")
        .into_runnable()
        .expect("runnable");
    let input = tract_ndarray::ArrayD::from_shape_vec(shape.to_vec(), values).unwrap();
    let out = model.run(tvec!(Tensor::from(input).into())).expect("runs");
    let view = out[0].to_array_view::<f32>().unwrap();
    (view.shape().to_vec(), view.iter().copied().collect())
}

#[cfg(feature = "onnx-check")]
/// Asserts `a` equals `b` to 1e-5 (relative above 1).
fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-5 * y.abs().max(1.0),
            "{what}: value {i}: ONNX {x} vs drlim embed {y}"
        );
    }
}

#[cfg(feature = "onnx-check")]
/// Exports model `M` in `d`, embeds `data` (of `n` samples of `shape`, values `values`) with
/// `drlim embed`, and compares with tract on the whole file and on batches of one and 7.
fn check_export(d: &Path, data: &str, n: usize, shape: &[usize], values: &[f32]) {
    let out = ok(d, &["export", "--model", "M", "--out", "m.onnx"]);
    assert!(out.contains("ONNX opset 17"), "{out}");
    ok(
        d,
        &[
            "embed", "--model", "M", "--data", data, "--out", "E.npy", "-q",
        ],
    );
    let (eshape, expected) = read_npy_f32(&d.join("E.npy"));
    let dim = eshape[1] as usize;
    let per: usize = shape.iter().product();
    let full: Vec<usize> = std::iter::once(n).chain(shape.iter().copied()).collect();
    let (oshape, got) = tract_embed(&d.join("m.onnx"), values.to_vec(), &full);
    assert_eq!(oshape, [n, dim]);
    assert_close(&got, &expected, data);
    // the batch axis is dynamic: one sample, then 7, from the middle of the file
    for (first, count) in [(3, 1), (10, 7)] {
        let part = values[first * per..(first + count) * per].to_vec();
        let s: Vec<usize> = std::iter::once(count)
            .chain(shape.iter().copied())
            .collect();
        let (_, got) = tract_embed(&d.join("m.onnx"), part, &s);
        assert_close(&got, &expected[first * dim..(first + count) * dim], data);
    }
}

#[cfg(feature = "onnx-check")]
#[test]
fn onnx_of_the_convnet_maps_raw_pixels_like_drlim_embed_in_tract() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 200, 0);
    fit_train(d, 2, &["--net", "conv"]);
    let (px, _) = digits(60, 300);
    write_npy::<u8>(&d.join("test.npy"), &[60, 28, 28], &px);
    // raw pixel values in, as floats: the ÷255 and the padding to 32×32 are in the graph
    let values: Vec<f32> = px.iter().map(|&v| v as f32).collect();
    check_export(d, "test.npy", 60, &[28, 28], &values);
}

#[cfg(feature = "onnx-check")]
#[test]
fn onnx_of_a_standardised_mlp_maps_raw_vectors_like_drlim_embed_in_tract() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // samples of shape 4×3 (flattened inside the graph), far from standardised
    let n = 90;
    let values: Vec<f32> = (0..n * 12)
        .map(|i| {
            let (s, f) = (i / 12, i % 12);
            100.0 * f as f32 + ((s * 37 + f * 11) % 23) as f32 * (1.0 + (s % 3) as f32)
        })
        .collect();
    write_npy::<f32>(&d.join("train.npy"), &[n as u64, 4, 3], &values);
    fit_train(
        d,
        3,
        &[
            "--net",
            "mlp",
            "--hidden",
            "16,8",
            "--dim",
            "3",
            "--normalise",
            "standardise",
        ],
    );
    check_export(d, "train.npy", n, &[4, 3], &values);
}

#[test]
fn exporting_an_incomplete_model_or_to_a_bad_path_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 40, 0);
    fit_train(d, 1, &["--net", "mlp", "--hidden", "8"]);
    fn export<'a>(model: &'a str, out: &'a str) -> [&'a str; 5] {
        ["export", "--model", model, "--out", out]
    }

    std::fs::create_dir(d.join("partial")).unwrap();
    std::fs::copy(d.join("M/config.json"), d.join("partial/config.json")).unwrap();
    fails(
        d,
        &export("partial", "p.onnx"),
        "model.safetensors is missing",
    );
    fails(d, &export("nowhere", "p.onnx"), "nowhere");
    std::fs::write(d.join("partial/model.safetensors"), b"not safetensors").unwrap();
    fails(d, &export("partial", "p.onnx"), "model.safetensors");
    fails(d, &export("M", "no/such/folder/m.onnx"), "m.onnx");
    assert!(!files(d)
        .iter()
        .any(|f| f.ends_with(".onnx") || f.contains("tmp")));
}
