//! The trained mapping G_W as one handle: the network with its configuration (architecture,
//! input preparation, training record), which saves, loads and embeds new samples.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;

use crate::data::Dataset;
use crate::embed::embed;
use crate::embedder::{Embedder, Held};
use crate::error::{Error, Result};
use crate::model::{
    decode_model, encode_model, load_model, save_model, ModelConfig, ModelFiles, Net, WEIGHTS_FILE,
};

/// A trained mapping: the network and its configuration.
#[derive(Clone, Debug)]
pub struct Model {
    /// G_W.
    pub net: Net,
    /// Architecture, input specification and training record.
    pub config: ModelConfig,
}

impl Model {
    /// Loads a model directory onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (net, config) = load_model(dir, device)?;
        Ok(Self { net, config })
    }

    /// Saves into a model directory (created if missing; files written atomically).
    pub fn save(&self, dir: &Path) -> Result<()> {
        save_model(dir, &self.net, &self.config)
    }

    /// Output dimension d.
    pub fn dim(&self) -> usize {
        self.config.architecture.dim()
    }

    /// The device the network's weights are on (the CPU's `flex` when it names none).
    pub fn device(&self) -> Device {
        self.net
            .devices()
            .into_iter()
            .next()
            .unwrap_or_else(Device::flex)
    }

    /// The model's directory files in memory (`config.json` and `model.safetensors`, the
    /// bytes [`save`](Self::save) writes), for keeping a model elsewhere than in a directory.
    pub fn to_files(&self) -> Result<ModelFiles> {
        encode_model(&self.net, &self.config)
            .map_err(|e| Error::output(WEIGHTS_FILE, format!("cannot serialise the model: {e}")))
    }

    /// The model of a model directory's files held in memory (checked as [`load`](Self::load)
    /// checks a directory; errors name `origin`).
    pub fn from_files(files: &ModelFiles, origin: &Path, device: &Device) -> Result<Self> {
        let (net, config) = decode_model(files, origin, device)?;
        Ok(Self { net, config })
    }

    /// The model as an ONNX file (opset [`ONNX_OPSET`](crate::model::ONNX_OPSET)): raw
    /// samples in (float32, a dynamic batch axis, then the training sample shape), coordinates
    /// out, with the input normalisation (and the convnet's padding) inside the graph.
    pub fn to_onnx(&self) -> Vec<u8> {
        crate::model::export_onnx(&self.net, &self.config)
    }

    /// Maps new samples (out of sample) to `data.n × d` output coordinates. Errors name
    /// `data.origin` (for instance when its shape differs from the training data's).
    pub fn embed(&self, data: &Dataset) -> Result<Vec<f32>> {
        self.embed_held(Held::of(data), &data.shape, &data.origin)
    }

    /// [`embed`](Self::embed) for samples of `shape` held in `values` (row-major), without
    /// copying them into a [`Dataset`] first: the values are checked finite and the rows
    /// normalised (and padded for the convnet) as `embed` does. Errors name `origin`.
    pub fn embed_rows(&self, values: &[f32], shape: &[usize], origin: &str) -> Result<Vec<f32>> {
        self.embed_held(Held::Floats(values), shape, origin)
    }

    /// On the fast path through an [`Embedder`] made for this call (keep one for many calls);
    /// elsewhere through burn, the whole input prepared first.
    fn embed_held(&self, held: Held, shape: &[usize], origin: &str) -> Result<Vec<f32>> {
        if let Some(embedder) = Embedder::new(self) {
            return embedder.embed_held(held, shape, origin);
        }
        let arch = &self.config.architecture;
        let (net, device) = (self.net.valid(), self.device());
        let mut whole = Vec::new();
        let values = held.floats(0..held.len(), &mut whole);
        let inputs = self
            .config
            .input
            .prepare_rows(arch, values, shape, origin)?;
        Ok(embed(&net, &inputs, arch.input_dim(), &device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Normalisation, SourceDtype};
    use crate::model::{Architecture, InputSpec, MODEL_FORMAT};

    fn model(arch: Architecture, shape: Vec<usize>, normalisation: Normalisation) -> Model {
        let net = Net::new(&arch, &Device::flex());
        let config = ModelConfig {
            format: MODEL_FORMAT,
            drlim_version: "test".into(),
            input: InputSpec {
                metric: crate::data::Metric::Euclidean,
                shape,
                dtype: SourceDtype::F32,
                normalisation,
            },
            architecture: arch,
            seed: 0,
            training: serde_json::json!({}),
        };
        Model { net, config }
    }

    fn values(n: usize, dim: usize) -> Vec<f32> {
        (0..n * dim)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect()
    }

    /// A sample's coordinates do not depend on the samples embedded with it (the rows around
    /// it, their number, its position), as a transformer's must not.
    #[test]
    fn each_row_maps_alone_as_in_any_batch() {
        let mlp = model(
            Architecture::Mlp {
                input_dim: 5,
                hidden: vec![32, 16],
                dim: 2,
            },
            vec![5],
            Normalisation::Standardise {
                mean: vec![0.5; 5],
                std: vec![0.3; 5],
            },
        );
        // wide enough for full panels of outputs and blocks of rows in the packed kernels
        let wide = model(
            Architecture::Mlp {
                input_dim: 300,
                hidden: vec![256, 256],
                dim: 2,
            },
            vec![300],
            Normalisation::Scale {
                factor: 1.0 / 255.0,
            },
        );
        let conv = model(
            Architecture::Conv { dim: 3 },
            vec![28, 28],
            Normalisation::None,
        );
        for (m, n) in [(&mlp, 1100), (&wide, 300), (&conv, 200)] {
            let shape = m.config.input.shape.clone();
            let dim: usize = shape.iter().product();
            let x = values(n, dim);
            let all = m.embed_rows(&x, &shape, "x").unwrap();
            let data = Dataset::new("x", x.clone(), n, shape.clone(), SourceDtype::F32).unwrap();
            assert_eq!(m.embed(&data).unwrap(), all);
            let d = m.dim();
            for i in [0, 1, 7, n / 2, n - 1] {
                let one = m
                    .embed_rows(&x[i * dim..(i + 1) * dim], &shape, "x")
                    .unwrap();
                assert_eq!(one, all[i * d..(i + 1) * d], "row {i}");
            }
            // the rows reversed: the same coordinates, reversed
            let rev: Vec<f32> = x.chunks(dim).rev().flatten().copied().collect();
            let back = m.embed_rows(&rev, &shape, "x").unwrap();
            let back: Vec<f32> = back.chunks(d).rev().flatten().copied().collect();
            assert_eq!(back, all);
            // and whatever the threads, whether the rows make many passes (all of them), a few
            // (100 rows, 9) or one on the calling thread (one row), and through one embedder
            // called again and again, from the pool's threads or from outside them
            let embedder = Embedder::new(m).unwrap();
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                for rows in [n, 100, 9, 1] {
                    let x = &x[..rows * dim];
                    let again = pool.install(|| m.embed_rows(x, &shape, "x").unwrap());
                    assert_eq!(again, all[..rows * d], "{threads} threads, {rows} rows");
                    let kept = pool.install(|| embedder.embed_rows(x, &shape, "x").unwrap());
                    assert_eq!(
                        kept,
                        all[..rows * d],
                        "{threads} threads, {rows} rows, kept"
                    );
                    let on = embedder.embed_rows_on(&pool, x, &shape, "x").unwrap();
                    assert_eq!(on, all[..rows * d], "{threads} threads, {rows} rows, on");
                }
            }
        }
    }

    #[test]
    fn embedding_rows_checks_them() {
        let m = model(
            Architecture::Mlp {
                input_dim: 4,
                hidden: vec![8],
                dim: 2,
            },
            vec![4],
            Normalisation::None,
        );
        let e =
            |v: &[f32], shape: &[usize]| m.embed_rows(v, shape, "rows").unwrap_err().to_string();
        assert_eq!(
            e(&[0.0; 6], &[3]),
            "rows: samples have 3 values (shape [3]) but the model was trained on 4 (shape [4])"
        );
        assert_eq!(
            e(&[0.0; 6], &[4]),
            "rows: 6 values are not whole samples of 4 (shape [4])"
        );
        assert!(e(&[], &[4]).starts_with("rows: 0 values"));
        let mut v = vec![0.0; 8];
        v[6] = f32::NAN;
        assert_eq!(
            e(&v, &[4]),
            "rows: sample 1 (0-based), feature 2 holds NaN: the data must be finite"
        );
        // in a later block of the fast path, the sample is counted from the start
        let mut v = vec![0.0; 4 * 600];
        v[4 * 300 + 1] = f32::INFINITY;
        assert_eq!(
            e(&v, &[4]),
            "rows: sample 300 (0-based), feature 1 holds an infinite value: the data must be finite"
        );
        // a model's files in memory give the same model back
        let files = m.to_files().unwrap();
        let back = Model::from_files(&files, Path::new("mem"), &Device::flex()).unwrap();
        let x = values(3, 4);
        assert_eq!(
            back.embed_rows(&x, &[4], "x").unwrap(),
            m.embed_rows(&x, &[4], "x").unwrap()
        );
    }
}
