//! Model loading on arbitrary model directories: the input is a 2-byte little-endian length,
//! that many bytes of `config.json`, and the rest as `model.safetensors`. A model that loads
//! then embeds one zero sample of its input shape. An error is fine; a panic, a hang or an
//! allocation the files cannot back is a bug.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if bytes.len() < 2 {
        return;
    }
    let n = (u16::from_le_bytes([bytes[0], bytes[1]]) as usize).min(bytes.len() - 2);
    let (config, weights) = bytes[2..].split_at(n);
    let dir = common::scratch("model");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), config).unwrap();
    std::fs::write(dir.join("model.safetensors"), weights).unwrap();
    let Ok(model) = drlim::Model::load(&dir, &drlim::Device::flex()) else {
        return;
    };
    let shape = model.config.input.shape.clone();
    let dim: usize = shape.iter().product();
    if dim == 0 || dim > 1 << 20 {
        return;
    }
    if let Ok(data) = drlim::Dataset::new(
        "zero sample",
        vec![0.0; dim],
        1,
        shape,
        drlim::data::SourceDtype::F32,
    ) {
        let _ = model.embed(&data);
    }
});
