//! `drlim export`: a model directory as one ONNX file, for ONNX runtimes (ONNX Runtime, tract,
//! Spark through ONNX Runtime) to map raw samples without drlim.

use drlim::model::{ONNX_INPUT, ONNX_OPSET, ONNX_OUTPUT};
use drlim::output::{check_writable, write_bytes};
use drlim::{Device, Model, Result};

use super::{say, show};
use crate::cli::ExportArgs;

pub fn run(a: ExportArgs, device: &Device) -> Result<()> {
    check_writable(&a.out)?;
    let model = Model::load(&a.model, device)?;
    let bytes = model.to_onnx();
    write_bytes(&a.out, &bytes)?;
    let input = &model.config.input;
    say(
        a.quiet,
        format!(
            "wrote {} (ONNX opset {ONNX_OPSET}, {} bytes): input \"{ONNX_INPUT}\" float32 [batch, {}] (raw values; {} normalisation inside), output \"{ONNX_OUTPUT}\" float32 [batch, {}]",
            show(&a.out),
            bytes.len(),
            input.shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
            input.normalisation_kind(),
            model.dim()
        ),
    );
    Ok(())
}
