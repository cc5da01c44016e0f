//! Model directories: `model.safetensors` (weights in PyTorch `state_dict` names and layouts,
//! so that a PyTorch module of the same shape loads them with `load_state_dict`) and
//! `config.json` (architecture, input, training settings, seed, drlim version). The directory
//! is written as a whole ([`replace_dir`]): a reader never sees one run's weights beside
//! another's config.

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::Device;
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use super::{Architecture, InputSpec, Net};
use crate::error::{Error, Result};
use crate::output::replace_dir;

/// Name of the weights file in a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Name of the configuration file in a model directory.
pub const CONFIG_FILE: &str = "config.json";

/// The version of the model directory's format that this drlim writes, stored in
/// `config.json` as `format`. A directory of a newer format is refused with a message saying so
/// (it may hold what this drlim cannot read); one without the field (written before it was
/// added) is format 1.
pub const MODEL_FORMAT: u32 = 1;

fn format_one() -> u32 {
    1
}

/// Everything about a model but its weights (`config.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelConfig {
    /// The version of the directory's format ([`MODEL_FORMAT`] when written by this drlim).
    #[serde(default = "format_one")]
    pub format: u32,
    /// The drlim version that wrote the model.
    pub drlim_version: String,
    /// The network.
    pub architecture: Architecture,
    /// The input shape and normalisation.
    pub input: InputSpec,
    /// The seed of the initialisation and pair sampling.
    pub seed: u64,
    /// How the model was trained (settings, neighbour source, outcome), free-form.
    pub training: serde_json::Value,
}

/// The files of a model directory.
pub const MODEL_FILES: [&str; 2] = [WEIGHTS_FILE, CONFIG_FILE];

/// Writes `net` and `config` as the model directory `dir`, replacing a previous model there
/// as a whole ([`replace_dir`]; a directory holding other files is refused).
pub fn save_model(dir: &Path, net: &Net, config: &ModelConfig) -> Result<()> {
    replace_dir(dir, &MODEL_FILES, |tmp| write_model(tmp, dir, net, config))
}

/// Writes the files of a model into the directory `tmp`, reporting errors against `dir`
/// (where they will live).
pub(crate) fn write_model(tmp: &Path, dir: &Path, net: &Net, config: &ModelConfig) -> Result<()> {
    let files = encode_model(net, config).map_err(|e| Error::output(dir.join(WEIGHTS_FILE), e))?;
    for (name, bytes) in [(WEIGHTS_FILE, &files.weights), (CONFIG_FILE, &files.config)] {
        std::fs::write(tmp.join(name), bytes).map_err(|e| Error::output(dir.join(name), e))?;
    }
    Ok(())
}

/// The two files of a model directory as bytes: what [`save_model`] writes and [`load_model`]
/// reads, for a model kept elsewhere than in a directory (a pickle, a database, a message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelFiles {
    /// `config.json`.
    pub config: Vec<u8>,
    /// `model.safetensors`.
    pub weights: Vec<u8>,
}

/// The files of the model directory of `net` and `config`, in memory. `Err` holds the
/// serialiser's message.
pub fn encode_model(net: &Net, config: &ModelConfig) -> std::result::Result<ModelFiles, String> {
    let weights = net.weights();
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = weights
        .into_iter()
        .map(|(name, shape, vals)| {
            (
                name,
                shape,
                vals.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views: Vec<(String, TensorView)> = bytes
        .iter()
        .map(|(name, shape, b)| {
            (
                name.clone(),
                TensorView::new(Dtype::F32, shape.clone(), b).expect("consistent tensor"),
            )
        })
        .collect();
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    let weights = safetensors::serialize(views, Some(meta)).map_err(|e| e.to_string())?;
    let config = serde_json::to_vec_pretty(config).expect("config serialises");
    Ok(ModelFiles { config, weights })
}

/// Loads a model directory onto `device`, checking that it is complete and consistent.
pub fn load_model(dir: &Path, device: &Device) -> Result<(Net, ModelConfig)> {
    if !dir.exists() {
        return Err(Error::model(dir, "model directory does not exist"));
    }
    if !dir.is_dir() {
        return Err(Error::model(dir, "is a file, not a model directory"));
    }
    let cfg_path = dir.join(CONFIG_FILE);
    let w_path = dir.join(WEIGHTS_FILE);
    for p in [&cfg_path, &w_path] {
        if !p.is_file() {
            return Err(Error::model(
                dir,
                format!(
                    "incomplete model directory: {} is missing",
                    p.file_name().unwrap().to_string_lossy()
                ),
            ));
        }
    }
    // both files through one handle on the directory, so that a model directory replaced
    // meanwhile (save_model) gives both files of the old one or both of the new, never a mix
    let files = DirFiles::open(dir).map_err(|e| Error::model(dir, format!("cannot read: {e}")))?;
    let config = files
        .read(CONFIG_FILE)
        .map_err(|e| Error::model(&cfg_path, format!("cannot read: {e}")))?;
    let weights = files
        .read(WEIGHTS_FILE)
        .map_err(|e| Error::model(&w_path, format!("cannot read: {e}")))?;
    decode_model(&ModelFiles { config, weights }, dir, device)
}

/// The model of the files of a model directory held in memory (checked as [`load_model`]
/// checks a directory); errors name the files as if they were in the directory `origin`.
pub fn decode_model(
    files: &ModelFiles,
    origin: &Path,
    device: &Device,
) -> Result<(Net, ModelConfig)> {
    let cfg_path = origin.join(CONFIG_FILE);
    let w_path = origin.join(WEIGHTS_FILE);
    let config = parse_config(&files.config).map_err(|e| Error::model(&cfg_path, e))?;
    if config.architecture.dim() == 0 {
        return Err(Error::model(&cfg_path, "output dimension is 0"));
    }
    if let Architecture::Mlp { hidden, .. } = &config.architecture {
        if hidden.contains(&0) {
            return Err(Error::model(&cfg_path, "a hidden layer of width 0"));
        }
    }
    config
        .input
        .check(&config.architecture)
        .map_err(|e| Error::model(&cfg_path, e))?;
    let st = safetensors::SafeTensors::deserialize(&files.weights)
        .map_err(|e| Error::model(&w_path, format!("not a valid safetensors file: {e}")))?;
    let expected = config.architecture.weight_shapes();
    let mut values: HashMap<String, Vec<f32>> = HashMap::new();
    for (name, shape) in &expected {
        let t = st.tensor(name).map_err(|_| {
            Error::model(
                &w_path,
                format!("tensor '{name}' is missing: the weights are not those of the {} network in config.json", config.architecture.name()),
            )
        })?;
        if t.dtype() != Dtype::F32 {
            return Err(Error::model(
                &w_path,
                format!("tensor '{name}' is {:?}, expected F32", t.dtype()),
            ));
        }
        if t.shape() != shape.as_slice() {
            return Err(Error::model(
                &w_path,
                format!(
                    "tensor '{name}' has shape {:?} but config.json's architecture needs {shape:?}",
                    t.shape()
                ),
            ));
        }
        let v: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        if v.iter().any(|x| !x.is_finite()) {
            return Err(Error::model(
                &w_path,
                format!("tensor '{name}' holds NaN or infinite values"),
            ));
        }
        values.insert(name.clone(), v);
    }
    if st.len() != expected.len() {
        let extra: Vec<String> = st
            .names()
            .into_iter()
            .filter(|n| !values.contains_key(*n))
            .map(str::to_string)
            .collect();
        return Err(Error::model(
            &w_path,
            format!(
                "unexpected tensors {extra:?} for the {} network in config.json",
                config.architecture.name()
            ),
        ));
    }
    let net = Net::from_weights(&config.architecture, device, |name| {
        values.remove(name).expect("checked above")
    });
    Ok((net, config))
}

/// `config.json`'s model config, refusing a format newer than this drlim's first (a newer
/// format need not parse as this one). `Err` holds the problem.
fn parse_config(bytes: &[u8]) -> std::result::Result<ModelConfig, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a valid drlim model config: {e}"))?;
    let format = value.get("format").map(|f| f.as_u64());
    match format {
        None => {}
        Some(Some(f)) if f <= MODEL_FORMAT as u64 => {}
        Some(Some(f)) => {
            let by = value
                .get("drlim_version")
                .and_then(|v| v.as_str())
                .map(|v| format!(" (by drlim {v})"))
                .unwrap_or_default();
            return Err(format!(
                "written in model format {f}{by}, newer than this drlim {} reads (format {MODEL_FORMAT}): upgrade drlim to load it",
                env!("CARGO_PKG_VERSION")
            ));
        }
        Some(None) => return Err("`format` is not a whole number ≥ 0".into()),
    }
    serde_json::from_value(value).map_err(|e| format!("not a valid drlim model config: {e}"))
}

/// The files of one directory, read through one handle on it (on Unix; by path elsewhere).
pub(crate) struct DirFiles {
    #[cfg(unix)]
    dir: std::fs::File,
    #[cfg(not(unix))]
    dir: std::path::PathBuf,
}

impl DirFiles {
    /// Opens the directory `path`.
    pub(crate) fn open(path: &Path) -> std::io::Result<Self> {
        #[cfg(unix)]
        let dir = std::fs::File::open(path)?;
        #[cfg(not(unix))]
        let dir = path.to_path_buf();
        Ok(Self { dir })
    }

    /// Reads the file `name` of the directory.
    #[cfg(unix)]
    pub(crate) fn read(&self, name: &str) -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        use std::os::fd::{AsRawFd, FromRawFd};
        let name = std::ffi::CString::new(name)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        // SAFETY: a valid directory descriptor and a NUL-terminated name; the new descriptor
        // is owned by the File.
        let fd = unsafe {
            libc::openat(
                self.dir.as_raw_fd(),
                name.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut bytes = Vec::new();
        // SAFETY: `fd` was just opened and is owned by nothing else.
        unsafe { std::fs::File::from_raw_fd(fd) }.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Reads the file `name` of the directory.
    #[cfg(not(unix))]
    pub(crate) fn read(&self, name: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.dir.join(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Normalisation, SourceDtype};

    fn config(arch: Architecture) -> ModelConfig {
        ModelConfig {
            format: MODEL_FORMAT,
            drlim_version: "test".into(),
            input: InputSpec {
                metric: crate::data::Metric::Euclidean,
                shape: vec![arch.input_dim()],
                dtype: SourceDtype::F32,
                normalisation: Normalisation::None,
            },
            architecture: arch,
            seed: 1,
            training: serde_json::json!({}),
        }
    }

    #[test]
    fn round_trips_and_rejects_incomplete_or_mismatched_directories() {
        let dev = Device::flex();
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        let arch = Architecture::Conv { dim: 3 };
        let net = Net::new(&arch, &dev);
        save_model(&m, &net, &config(arch.clone())).unwrap();
        let (back, cfg) = load_model(&m, &dev).unwrap();
        assert_eq!(cfg.architecture, arch);
        assert_eq!(back.weights(), net.weights());

        let e = load_model(&dir.path().join("nope"), &dev)
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("nope: model directory does not exist"), "{e}");
        // config says mlp, weights are conv
        let other = dir.path().join("other");
        save_model(&other, &net, &config(arch)).unwrap();
        let mlp = config(Architecture::Mlp {
            input_dim: 1024,
            hidden: vec![20],
            dim: 3,
        });
        std::fs::write(other.join(CONFIG_FILE), serde_json::to_vec(&mlp).unwrap()).unwrap();
        let e = load_model(&other, &dev).unwrap_err().to_string();
        assert!(
            e.contains("model.safetensors: tensor 'layers.0.weight' is missing"),
            "{e}"
        );
        std::fs::remove_file(other.join(WEIGHTS_FILE)).unwrap();
        let e = load_model(&other, &dev).unwrap_err().to_string();
        assert!(
            e.contains("incomplete model directory: model.safetensors is missing"),
            "{e}"
        );
        std::fs::write(m.join(CONFIG_FILE), b"{").unwrap();
        assert!(load_model(&m, &dev)
            .unwrap_err()
            .to_string()
            .contains("not a valid drlim model config"));
    }

    /// PyTorch parity on a stored fixture, so that it is checked on every machine: the
    /// reference `DrLIMNet` of ../shared/peers (PyTorch's default initialisation under seed 0)
    /// and its outputs for 8 real digits, written by
    /// `crates/drlim/tests/fixtures/make_pytorch_parity_fixture.py`. Its weights load as a
    /// drlim model under PyTorch's names and layouts, and both the fast path and burn give the
    /// reference's outputs to 1e-5.
    #[test]
    fn pytorch_reference_weights_give_the_reference_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let weights = include_bytes!("../../tests/fixtures/pytorch_parity.safetensors");
        std::fs::write(dir.path().join(WEIGHTS_FILE), weights).unwrap();
        let config = ModelConfig {
            format: MODEL_FORMAT,
            drlim_version: "fixture".into(),
            architecture: Architecture::Conv { dim: 2 },
            input: InputSpec {
                metric: crate::data::Metric::Euclidean,
                shape: vec![28, 28],
                dtype: SourceDtype::U8,
                normalisation: Normalisation::Scale {
                    factor: 1.0 / 255.0,
                },
            },
            seed: 0,
            training: serde_json::json!({}),
        };
        let cfg = serde_json::to_vec(&config).unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), cfg).unwrap();
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/pytorch_parity.json")).unwrap();
        let rows = |key: &str| crate::fixture_rows(&fixture, key);
        let (images, expected) = (rows("images_u8"), rows("outputs"));
        assert_eq!((images.len(), expected.len()), (8 * 784, 8 * 2));
        let model = crate::Model::load(dir.path(), &Device::flex()).unwrap();
        let data =
            crate::data::Dataset::new("fixture digits", images, 8, vec![28, 28], SourceDtype::U8)
                .unwrap();
        let fast = model.embed(&data).unwrap();
        let inputs = model
            .config
            .input
            .prepare(&model.config.architecture, &data)
            .unwrap();
        let burn = crate::embed::embed(&model.net, &inputs, 1024, &Device::flex());
        for (path, out) in [("fast", &fast), ("burn", &burn)] {
            for (i, (a, e)) in out.iter().zip(&expected).enumerate() {
                assert!(
                    (a - e).abs() <= 1e-5,
                    "{path} output {i}: {a} vs PyTorch {e}"
                );
            }
        }
        // the outputs differ between digits, so a layout error could not pass unnoticed
        assert!(expected
            .chunks(2)
            .any(|r| (r[0] - expected[0]).abs() > 1e-2));
    }

    #[test]
    fn configs_whose_input_disagrees_with_the_network_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let arch = Architecture::Mlp {
            input_dim: 4,
            hidden: vec![3],
            dim: 2,
        };
        let net = Net::seeded(&arch, 0, &Device::flex());
        let mut cfg = config(arch);
        cfg.input.shape = vec![5];
        save_model(dir.path(), &net, &cfg).unwrap();
        let e = load_model(dir.path(), &Device::flex())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("config.json") && e.contains("the MLP takes 4 inputs"),
            "{e}"
        );
        cfg.input.shape = vec![4];
        cfg.input.normalisation = Normalisation::Standardise {
            mean: vec![0.0; 3],
            std: vec![1.0; 4],
        };
        save_model(dir.path(), &net, &cfg).unwrap();
        let e = load_model(dir.path(), &Device::flex())
            .unwrap_err()
            .to_string();
        assert!(e.contains("3 means and 4 deviations"), "{e}");
        cfg.input.normalisation = Normalisation::Scale { factor: 0.5 };
        save_model(dir.path(), &net, &cfg).unwrap();
        assert!(load_model(dir.path(), &Device::flex()).is_ok());
    }

    fn mlp(hidden: usize) -> (Net, ModelConfig) {
        let arch = Architecture::Mlp {
            input_dim: 6,
            hidden: vec![hidden],
            dim: 2,
        };
        (
            Net::seeded(&arch, hidden as u64, &Device::flex()),
            config(arch),
        )
    }

    #[test]
    fn concurrent_writers_never_leave_a_mixed_or_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        let models = [mlp(4), mlp(9)];
        save_model(&m, &models[0].0, &models[0].1).unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let reader = s.spawn(|| {
                let (mut looks, mut whole) = (0, 0);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // replaced in one step, the directory never goes missing
                    assert!(m.is_dir());
                    looks += 1;
                    // the old directory may be removed while being read: an error then, but
                    // never one run's weights beside the other's config
                    let (net, cfg) = match load_model(&m, &Device::flex()) {
                        Ok(model) => model,
                        Err(e) => {
                            let e = e.to_string();
                            assert!(
                                e.contains("cannot read") || e.contains("incomplete model"),
                                "{e}"
                            );
                            continue;
                        }
                    };
                    let (expected, _) = models
                        .iter()
                        .find(|(_, c)| c.architecture == cfg.architecture)
                        .unwrap();
                    assert_eq!(net.weights(), expected.weights(), "a mixed directory");
                    whole += 1;
                }
                (looks, whole)
            });
            let writers: Vec<_> = models
                .iter()
                .map(|(net, cfg)| {
                    let m = &m;
                    s.spawn(move || {
                        for _ in 0..60 {
                            save_model(m, net, cfg).unwrap();
                        }
                    })
                })
                .collect();
            for w in writers {
                w.join().unwrap();
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let (looks, whole) = reader.join().unwrap();
            assert!(looks > 0 && whole > 0, "{looks} looks, {whole} whole reads");
        });
        // one run's weights with the same run's config
        let (net, cfg) = load_model(&m, &Device::flex()).unwrap();
        let (expected, _) = models
            .iter()
            .find(|(_, c)| c.architecture == cfg.architecture)
            .unwrap();
        assert_eq!(net.weights(), expected.weights());
        // no temporary directory is left behind
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["m"]);
    }

    #[test]
    fn a_directory_with_other_files_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let (net, cfg) = mlp(4);
        std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
        let e = save_model(dir.path(), &net, &cfg).unwrap_err().to_string();
        assert!(
            e.contains("holds 'notes.txt', which drlim did not write there"),
            "{e}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("notes.txt")).unwrap(),
            b"mine"
        );
        let file = dir.path().join("notes.txt");
        let e = save_model(&file, &net, &cfg).unwrap_err().to_string();
        assert!(e.contains("exists and is a file"), "{e}");
    }

    #[test]
    fn files_in_memory_round_trip_and_a_newer_format_is_refused() {
        let dev = Device::flex();
        let arch = Architecture::Mlp {
            input_dim: 3,
            hidden: vec![4],
            dim: 2,
        };
        let net = Net::new(&arch, &dev);
        let files = encode_model(&net, &config(arch.clone())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        save_model(&m, &net, &config(arch.clone())).unwrap();
        // the bytes in memory are the directory's files
        assert_eq!(files.config, std::fs::read(m.join(CONFIG_FILE)).unwrap());
        assert_eq!(files.weights, std::fs::read(m.join(WEIGHTS_FILE)).unwrap());
        let (back, cfg) = decode_model(&files, Path::new("pickled"), &dev).unwrap();
        assert_eq!(back.weights(), net.weights());
        assert_eq!(cfg.format, MODEL_FORMAT);

        let with_format = |f: serde_json::Value| {
            let mut v: serde_json::Value = serde_json::from_slice(&files.config).unwrap();
            match f {
                serde_json::Value::Null => {
                    v.as_object_mut().unwrap().remove("format");
                }
                f => v["format"] = f,
            }
            ModelFiles {
                config: serde_json::to_vec(&v).unwrap(),
                weights: files.weights.clone(),
            }
        };
        // written before the field existed: format 1
        let (_, old) =
            decode_model(&with_format(serde_json::Value::Null), Path::new("m"), &dev).unwrap();
        assert_eq!(old.format, 1);
        let newer = with_format(serde_json::json!(MODEL_FORMAT + 1));
        let e = decode_model(&newer, Path::new("m"), &dev)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "m/config.json: written in model format 2 (by drlim test), newer than this drlim"
            ),
            "{e}"
        );
        assert!(e.contains("upgrade drlim"), "{e}");
        // a newer format is refused even when the rest would not parse as this one
        let mut v: serde_json::Value = serde_json::from_slice(&newer.config).unwrap();
        v["architecture"] = serde_json::json!("a kind this drlim has never heard of");
        let strange = ModelFiles {
            config: serde_json::to_vec(&v).unwrap(),
            weights: files.weights.clone(),
        };
        let e = decode_model(&strange, Path::new("m"), &dev)
            .unwrap_err()
            .to_string();
        assert!(e.contains("newer than this drlim"), "{e}");
        let e = decode_model(&with_format(serde_json::json!("one")), Path::new("m"), &dev)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`format` is not a whole number"), "{e}");
    }
}
