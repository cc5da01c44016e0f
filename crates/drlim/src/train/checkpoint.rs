//! Checkpoints: the state after a complete epoch, from which training goes on exactly as if it
//! had never stopped (the same seed and thread count give bit-identical weights).
//!
//! A checkpoint directory is a model directory (`model.safetensors` and `config.json`, so a
//! checkpoint embeds like any model) plus `checkpoint.json` (the epochs' reports, the pair
//! sampler's position in its random stream, the augmentation streams used, a fingerprint of
//! the training rows), `optimiser.bin` (the momentum buffers, or burn's optimiser record) and
//! `graph.safetensors` (the neighbour pairs trained on, since an approximate graph need not
//! come out the same twice). It is written as a whole ([`replace_dir`]).

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::Device;
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::mapping::Model;
use crate::model::{write_model, ModelConfig, CONFIG_FILE, WEIGHTS_FILE};
use crate::neighbours::NeighbourGraph;
use crate::output::replace_dir;

use super::observer::EpochReport;

/// Name of the file that makes a model directory a checkpoint.
pub const CHECKPOINT_FILE: &str = "checkpoint.json";
/// Name of the optimiser state's file.
pub const OPTIMISER_FILE: &str = "optimiser.bin";
/// Name of the neighbour graph's file.
pub const GRAPH_FILE: &str = "graph.safetensors";
/// The files of a checkpoint directory.
pub const CHECKPOINT_FILES: [&str; 5] = [
    WEIGHTS_FILE,
    CONFIG_FILE,
    CHECKPOINT_FILE,
    OPTIMISER_FILE,
    GRAPH_FILE,
];
/// The version of the checkpoint format that this drlim writes (and the newest it reads).
pub const CHECKPOINT_FORMAT: u32 = 1;

/// The optimiser's state, by implementation.
#[derive(Clone, Debug, PartialEq)]
pub enum OptimiserState {
    /// The fast CPU path's SGD: one momentum buffer per weight tensor (none before the first
    /// step).
    Fast {
        /// The momentum buffers, in the fast network's tensor order.
        velocity: Vec<Vec<f32>>,
    },
    /// burn's optimiser: its record (burnpack bytes), keyed by parameter ids, and those ids in
    /// the network's visiting order (a restored network takes them on).
    Burn {
        /// Parameter ids, in visiting order.
        ids: Vec<u64>,
        /// The optimiser's record.
        record: Vec<u8>,
    },
}

/// What a [`Stepper`](super::Stepper) needs, besides the weights, to go on exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct StepperState {
    /// The optimiser's state.
    pub optimiser: OptimiserState,
    /// Random streams of augmentation used so far.
    pub streams: u64,
}

/// The state of training after a complete epoch.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// The mapping after the epoch, with its training record.
    pub model: Model,
    /// One report per completed epoch.
    pub history: Vec<EpochReport>,
    /// The optimiser's state and augmentation streams.
    pub stepper: StepperState,
    /// The pair sampler's position in its random stream.
    pub sampler: u128,
    /// CRC-32 of the training rows (the network's prepared inputs), to refuse resuming on
    /// other data.
    pub inputs_crc32: u32,
    /// The threads training ran with (the fast path's sums depend on their number).
    pub threads: usize,
    /// Where the checkpoint was read from (empty for one made in this process); errors name it.
    pub origin: String,
}

/// `checkpoint.json`.
#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    epochs_completed: usize,
    history: Vec<EpochReport>,
    /// A u128, as a decimal string (JSON numbers do not hold it).
    sampler_position: String,
    augmentation_streams: u64,
    inputs_crc32: u32,
    threads: usize,
    /// `fast-sgd` or `burn`.
    optimiser: String,
    #[serde(default)]
    burn_param_ids: Vec<u64>,
    /// CRC-32 of `optimiser.bin` and of `graph.safetensors`, to refuse damaged files.
    optimiser_crc32: u32,
    graph_crc32: u32,
}

/// The keys of a model's training record that change as training goes on.
const RECORD_KEYS: [&str; 4] = ["epochs_completed", "final_loss", "loss_curve", "diverged"];

/// CRC-32 of f32 rows, by their bits.
pub fn rows_crc32(rows: &[f32]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for chunk in rows.chunks(1 << 16) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
        h.update(&bytes);
    }
    h.finalize()
}

impl Checkpoint {
    /// Epochs completed.
    pub fn epochs(&self) -> usize {
        self.history.len()
    }

    /// Writes the checkpoint, with the neighbour `graph` it was trained on, as the directory
    /// `dir` (replacing an earlier checkpoint there as a whole).
    pub fn save(&self, dir: &Path, graph: &NeighbourGraph) -> Result<()> {
        let out = |name: &str, e: &dyn std::fmt::Display| Error::output(dir.join(name), e);
        replace_dir(dir, &CHECKPOINT_FILES, |tmp| {
            write_model(tmp, dir, &self.model.net, &self.model.config)?;
            let (optimiser, ids, bytes) = match &self.stepper.optimiser {
                OptimiserState::Fast { velocity } => {
                    let named: Vec<(String, Vec<u8>, usize)> = velocity
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            (
                                i.to_string(),
                                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                                v.len(),
                            )
                        })
                        .collect();
                    let views = named.iter().map(|(name, b, len)| {
                        let view =
                            TensorView::new(Dtype::F32, vec![*len], b).expect("consistent tensor");
                        (name.clone(), view)
                    });
                    let bytes =
                        safetensors::serialize(views, None).map_err(|e| out(OPTIMISER_FILE, &e))?;
                    ("fast-sgd", Vec::new(), bytes)
                }
                OptimiserState::Burn { ids, record } => ("burn", ids.clone(), record.clone()),
            };
            let manifest = Manifest {
                format: CHECKPOINT_FORMAT,
                epochs_completed: self.epochs(),
                history: self.history.clone(),
                sampler_position: self.sampler.to_string(),
                augmentation_streams: self.stepper.streams,
                inputs_crc32: self.inputs_crc32,
                threads: self.threads,
                optimiser: optimiser.into(),
                burn_param_ids: ids,
                optimiser_crc32: crc32fast::hash(&bytes),
                graph_crc32: 0,
            };
            let pairs: Vec<u8> = graph
                .pairs()
                .iter()
                .flat_map(|&(i, j)| [i, j])
                .flat_map(u32::to_le_bytes)
                .collect();
            let weights: Vec<u8> = graph
                .weights()
                .unwrap_or_default()
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect();
            let mut views = vec![(
                "pairs",
                TensorView::new(Dtype::U32, vec![graph.len(), 2], &pairs)
                    .expect("consistent tensor"),
            )];
            if graph.weights().is_some() {
                views.push((
                    "weights",
                    TensorView::new(Dtype::F32, vec![graph.len()], &weights)
                        .expect("consistent tensor"),
                ));
            }
            let meta = HashMap::from([("n".to_string(), graph.n().to_string())]);
            let graph_bytes =
                safetensors::serialize(views, Some(meta)).map_err(|e| out(GRAPH_FILE, &e))?;
            let manifest = Manifest {
                graph_crc32: crc32fast::hash(&graph_bytes),
                ..manifest
            };
            let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
            for (name, bytes) in [
                (CHECKPOINT_FILE, &json),
                (OPTIMISER_FILE, &bytes),
                (GRAPH_FILE, &graph_bytes),
            ] {
                std::fs::write(tmp.join(name), bytes).map_err(|e| out(name, &e))?;
            }
            Ok(())
        })
    }

    /// Reads the checkpoint directory `dir` onto `device`: the checkpoint and the neighbour
    /// graph it was trained on. Every file is checked; errors name the file.
    pub fn load(dir: &Path, device: &Device) -> Result<(Checkpoint, NeighbourGraph)> {
        if !dir.is_dir() {
            return Err(Error::model(dir, "no checkpoint directory there"));
        }
        let model = Model::load(dir, device)?;
        let path = dir.join(CHECKPOINT_FILE);
        if !path.is_file() {
            return Err(Error::model(
                dir,
                format!("not a checkpoint: {CHECKPOINT_FILE} is missing (a model directory can be embedded with, but not resumed from)"),
            ));
        }
        let bad = |p: &Path, msg: String| Error::model(p, msg);
        let text = std::fs::read(&path).map_err(|e| bad(&path, format!("cannot read: {e}")))?;
        let m: Manifest = serde_json::from_slice(&text)
            .map_err(|e| bad(&path, format!("not a valid checkpoint manifest: {e}")))?;
        if m.format > CHECKPOINT_FORMAT {
            return Err(bad(
                &path,
                format!(
                    "checkpoint format {} is newer than this drlim's ({CHECKPOINT_FORMAT}): resume with the drlim that wrote it",
                    m.format
                ),
            ));
        }
        if m.history.len() != m.epochs_completed {
            return Err(bad(
                &path,
                format!(
                    "{} epoch reports for {} completed epochs",
                    m.history.len(),
                    m.epochs_completed
                ),
            ));
        }
        let sampler = m
            .sampler_position
            .parse::<u128>()
            .map_err(|e| bad(&path, format!("sampler_position: {e}")))?;
        let opt_path = dir.join(OPTIMISER_FILE);
        let opt_bytes =
            std::fs::read(&opt_path).map_err(|e| bad(&opt_path, format!("cannot read: {e}")))?;
        if crc32fast::hash(&opt_bytes) != m.optimiser_crc32 {
            return Err(bad(
                &opt_path,
                "damaged: its CRC-32 is not the one recorded in checkpoint.json".into(),
            ));
        }
        let optimiser = match m.optimiser.as_str() {
            "fast-sgd" => OptimiserState::Fast {
                velocity: read_velocity(&opt_bytes).map_err(|e| bad(&opt_path, e))?,
            },
            "burn" => OptimiserState::Burn {
                ids: m.burn_param_ids,
                record: opt_bytes,
            },
            other => {
                return Err(bad(&path, format!("unknown optimiser state '{other}'")));
            }
        };
        let graph_path = dir.join(GRAPH_FILE);
        let graph = read_graph(&graph_path, m.graph_crc32).map_err(|e| bad(&graph_path, e))?;
        let checkpoint = Checkpoint {
            model,
            history: m.history,
            stepper: StepperState {
                optimiser,
                streams: m.augmentation_streams,
            },
            sampler,
            inputs_crc32: m.inputs_crc32,
            threads: m.threads,
            origin: dir.display().to_string(),
        };
        Ok((checkpoint, graph))
    }

    /// Checks that this checkpoint can go on as the run that `template`, `inputs_crc32` and
    /// `epochs` describe: the same network, input preparation, seed, settings (all but the
    /// number of epochs) and neighbours, the same training rows, and epochs left to train.
    pub fn check_continues(
        &self,
        template: &ModelConfig,
        inputs_crc32: u32,
        epochs: usize,
    ) -> Result<()> {
        let bad = |msg: String| Error::model(&self.origin, msg);
        let theirs = &self.model.config;
        if json(&theirs.architecture) != json(&template.architecture) {
            return Err(bad(format!(
                "the checkpoint's network is {}, this run's {}",
                json(&theirs.architecture),
                json(&template.architecture)
            )));
        }
        if json(&theirs.input) != json(&template.input) {
            return Err(bad(format!(
                "the checkpoint's input preparation ({}) differs from this run's ({})",
                json(&theirs.input),
                json(&template.input)
            )));
        }
        if theirs.seed != template.seed {
            return Err(bad(format!(
                "the checkpoint's seed is {}, this run's {}",
                theirs.seed, template.seed
            )));
        }
        let differences = setting_differences(&theirs.training, &template.training);
        if !differences.is_empty() {
            return Err(bad(format!(
                "the checkpoint was trained with other settings: {}",
                differences.join(", ")
            )));
        }
        if self.inputs_crc32 != inputs_crc32 {
            return Err(bad(
                "the checkpoint was trained on other data (the training rows' CRC-32 differs)"
                    .into(),
            ));
        }
        if self.epochs() >= epochs {
            return Err(bad(format!(
                "the checkpoint has completed {} epochs, and {epochs} are asked for: nothing to resume",
                self.epochs()
            )));
        }
        Ok(())
    }
}

/// A config part as a JSON value, for comparing.
fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("serialisable")
}

/// The training settings with every default filled in, so that a checkpoint written before a
/// setting existed compares equal to a run that leaves it at its default.
fn with_defaults(settings: &serde_json::Value) -> serde_json::Value {
    serde_json::from_value::<super::TrainConfig>(settings.clone())
        .map_or_else(|_| settings.clone(), |c| json(&c))
}

/// The training records' differences, but for the number of epochs and what changes as
/// training goes on: `name (A in the checkpoint, B now)`.
fn setting_differences(theirs: &serde_json::Value, ours: &serde_json::Value) -> Vec<String> {
    let strip = |v: &serde_json::Value| {
        let mut flat = serde_json::Map::new();
        if let Some(o) = v.as_object() {
            for (k, v) in o {
                if RECORD_KEYS.contains(&k.as_str()) {
                    continue;
                }
                match (k.as_str(), v.as_object()) {
                    ("settings", Some(_)) => {
                        if let serde_json::Value::Object(s) = with_defaults(v) {
                            for (sk, sv) in s {
                                if sk != "epochs" {
                                    flat.insert(sk, sv);
                                }
                            }
                        }
                    }
                    _ => {
                        flat.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        flat
    };
    let (a, b) = (strip(theirs), strip(ours));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let none = serde_json::Value::Null;
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            format!(
                "{k} ({} in the checkpoint, {} now)",
                a.get(k).unwrap_or(&none),
                b.get(k).unwrap_or(&none)
            )
        })
        .collect()
}

/// Momentum buffers from `optimiser.bin` (tensors named 0, 1, …).
fn read_velocity(bytes: &[u8]) -> std::result::Result<Vec<Vec<f32>>, String> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| format!("not a valid safetensors file: {e}"))?;
    (0..st.len())
        .map(|i| {
            let t = st
                .tensor(&i.to_string())
                .map_err(|_| format!("momentum buffer {i} is missing"))?;
            if t.dtype() != Dtype::F32 {
                return Err(format!("momentum buffer {i} is not F32"));
            }
            Ok(t.data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect())
        })
        .collect()
}

/// The neighbour graph from `graph.safetensors`.
fn read_graph(path: &Path, crc32: u32) -> std::result::Result<NeighbourGraph, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if crc32fast::hash(&bytes) != crc32 {
        return Err("damaged: its CRC-32 is not the one recorded in checkpoint.json".into());
    }
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| format!("not a valid safetensors file: {e}"))?;
    let n: usize = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("n"))
        .and_then(|n| n.parse().ok())
        .ok_or("the number of samples (metadata 'n') is missing")?;
    if n > 1 << 32 {
        return Err(format!("{n} samples: more than 32-bit indices can name"));
    }
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| format!("not a valid safetensors file: {e}"))?;
    let t = st
        .tensor("pairs")
        .map_err(|_| "tensor 'pairs' is missing")?;
    if t.dtype() != Dtype::U32 || t.shape().len() != 2 || t.shape()[1] != 2 {
        return Err(format!(
            "tensor 'pairs' must be U32 of shape [m, 2], not {:?} {:?}",
            t.dtype(),
            t.shape()
        ));
    }
    let ids: Vec<u32> = t
        .data()
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    if let Some(bad) = ids.iter().find(|&&i| i as usize >= n) {
        return Err(format!(
            "sample index {bad} is out of range for {n} samples"
        ));
    }
    let stored = || ids.chunks_exact(2).map(|p| (p[0], p[1]));
    let graph = NeighbourGraph::from_pairs(n, stored());
    let Ok(w) = st.tensor("weights") else {
        return Ok(graph);
    };
    let count = ids.len() / 2;
    if w.dtype() != Dtype::F32 || w.shape() != [count] {
        return Err(format!(
            "tensor 'weights' must be F32 of shape [{count}] (one per pair), not {:?} {:?}",
            w.dtype(),
            w.shape()
        ));
    }
    if !graph.pairs().iter().copied().eq(stored()) {
        return Err(
            "its weighted pairs are not sorted and distinct (i < j), as drlim writes them".into(),
        );
    }
    let weights = w
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    graph.with_weights(weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `graph.safetensors` of `pairs` over `n` samples with an optional weights tensor of
    /// `dtype` and `shape`, written to a file; returns its path and CRC-32.
    fn graph_file(
        dir: &Path,
        pairs: &[(u32, u32)],
        weights: Option<(Dtype, Vec<usize>, Vec<u8>)>,
    ) -> (std::path::PathBuf, u32) {
        let ids: Vec<u8> = pairs
            .iter()
            .flat_map(|&(i, j)| [i, j])
            .flat_map(u32::to_le_bytes)
            .collect();
        let mut views = vec![(
            "pairs",
            TensorView::new(Dtype::U32, vec![pairs.len(), 2], &ids).unwrap(),
        )];
        if let Some((dtype, shape, bytes)) = &weights {
            views.push((
                "weights",
                TensorView::new(*dtype, shape.clone(), bytes).unwrap(),
            ));
        }
        let meta = HashMap::from([("n".to_string(), "4".to_string())]);
        let bytes = safetensors::serialize(views, Some(meta)).unwrap();
        let path = dir.join(GRAPH_FILE);
        std::fs::write(&path, &bytes).unwrap();
        (path, crc32fast::hash(&bytes))
    }

    fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn graph_weights_are_read_back_and_bad_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let pairs = [(0, 1), (1, 3)];
        let read = |weights| {
            let (path, crc) = graph_file(d, &pairs, weights);
            read_graph(&path, crc)
        };
        let g = read(Some((Dtype::F32, vec![2], f32s(&[0.5, 1.0])))).unwrap();
        assert_eq!(g.pairs(), &pairs);
        assert_eq!(g.weights(), Some(&[0.5f32, 1.0][..]));
        assert!(read(None).unwrap().weights().is_none());
        let e = read(Some((Dtype::F32, vec![3], f32s(&[0.5, 1.0, 1.0])))).unwrap_err();
        assert!(e.contains("'weights' must be F32 of shape [2]"), "{e}");
        let e = read(Some((Dtype::F64, vec![2], vec![0; 16]))).unwrap_err();
        assert!(e.contains("'weights' must be F32"), "{e}");
        let e = read(Some((Dtype::F32, vec![2], f32s(&[0.5, f32::NAN])))).unwrap_err();
        assert!(e.contains("not a finite positive number"), "{e}");
        // weighted pairs out of drlim's order would be misaligned with their weights
        let (path, crc) = graph_file(
            d,
            &[(1, 3), (0, 1)],
            Some((Dtype::F32, vec![2], f32s(&[1.0, 0.5]))),
        );
        let e = read_graph(&path, crc).unwrap_err();
        assert!(e.contains("not sorted and distinct"), "{e}");
    }
}
