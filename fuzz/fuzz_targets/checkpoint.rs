//! Checkpoint loading and resuming on arbitrary checkpoint files: the input is two 2-byte
//! little-endian lengths, that many bytes of `checkpoint.json` and of `optimiser.bin`, and the
//! rest as `graph.safetensors`, beside a fixed valid model (an 8 → 4 → 2 MLP). The CRC-32s that
//! `checkpoint.json` records are set to the files' own, so that the fuzzer reaches the readers
//! behind them. A checkpoint that loads over at most 64 samples is resumed for one epoch on
//! zero data (with the fast path and with burn). An error is fine; a panic, a hang or an
//! allocation the files cannot back is a bug.
#![no_main]

mod common;

use drlim::model::{Architecture, InputSpec, ModelConfig, Net};
use drlim::train::{resume, Engine, Silent, TrainConfig};
use drlim::{Checkpoint, Device, Model};
use libfuzzer_sys::fuzz_target;

fn split(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]) as usize;
    let rest = &bytes[2..];
    Some(rest.split_at(n.min(rest.len())))
}

fuzz_target!(|bytes: &[u8]| {
    let Some((manifest, rest)) = split(bytes) else {
        return;
    };
    let Some((optimiser, graph)) = split(rest) else {
        return;
    };
    let dir = common::scratch("checkpoint");
    let arch = Architecture::Mlp {
        input_dim: 8,
        hidden: vec![4],
        dim: 2,
    };
    let template = ModelConfig {
        format: drlim::model::MODEL_FORMAT,
        drlim_version: "fuzz".into(),
        architecture: arch.clone(),
        input: InputSpec {
            metric: drlim::data::Metric::Euclidean,
            shape: vec![8],
            dtype: drlim::data::SourceDtype::F32,
            normalisation: drlim::data::Normalisation::None,
        },
        seed: 0,
        training: serde_json::json!({ "settings": TrainConfig::default() }),
    };
    let model = Model {
        net: Net::seeded(&arch, 0, &Device::flex()),
        config: template.clone(),
    };
    let _ = std::fs::remove_dir_all(&dir);
    model.save(&dir).unwrap();
    let manifest = match serde_json::from_slice::<serde_json::Value>(manifest) {
        Ok(serde_json::Value::Object(mut m)) => {
            m.insert("optimiser_crc32".into(), crc32fast::hash(optimiser).into());
            m.insert("graph_crc32".into(), crc32fast::hash(graph).into());
            serde_json::to_vec(&m).unwrap()
        }
        _ => manifest.to_vec(),
    };
    std::fs::write(dir.join("checkpoint.json"), manifest).unwrap();
    std::fs::write(dir.join("optimiser.bin"), optimiser).unwrap();
    std::fs::write(dir.join("graph.safetensors"), graph).unwrap();
    let Ok((checkpoint, graph)) = Checkpoint::load(&dir, &Device::flex()) else {
        return;
    };
    if graph.n() == 0 || graph.n() > 64 {
        return;
    }
    let inputs = vec![0f32; graph.n() * 8];
    for engine in [Engine::Auto, Engine::Burn] {
        let config = TrainConfig {
            epochs: checkpoint.epochs() + 1,
            batch: 8,
            engine,
            ..TrainConfig::default()
        };
        let template = ModelConfig {
            format: drlim::model::MODEL_FORMAT,
            training: serde_json::json!({ "settings": config }),
            ..template.clone()
        };
        // the run's settings and rows, so that resuming goes past the checks of both
        let mut checkpoint = checkpoint.clone();
        checkpoint.model.config.training = template.training.clone();
        checkpoint.inputs_crc32 = drlim::train::checkpoint::rows_crc32(&inputs);
        let _ = resume(
            &template,
            &inputs,
            &graph,
            &config,
            &Device::flex(),
            &mut Silent,
            checkpoint,
        );
    }
});
