//! `drlim embed`: map new data with a trained model (out of sample).

use drlim::data::load;
use drlim::output::{check_writable, write_matrix, MatrixFormat};
use drlim::{Device, Model, Result};

use super::{say, show};
use crate::cli::EmbedArgs;

pub fn run(a: EmbedArgs, device: &Device) -> Result<()> {
    MatrixFormat::from_path(&a.out)?;
    check_writable(&a.out)?;
    let model = Model::load(&a.model, device)?;
    let data = load(&a.data)?;
    let emb = model.embed(&data)?;
    if data.dtype != model.config.input.dtype && !a.quiet {
        eprintln!(
            "warning: {} holds {:?} values but the model was trained on {:?} data; the stored normalisation ({}) is applied unchanged",
            show(&a.data),
            data.dtype,
            model.config.input.dtype,
            model.config.input.normalisation_kind()
        );
    }
    write_matrix(&a.out, &emb, data.n, model.dim())?;
    say(
        a.quiet,
        format!(
            "embedded {} samples into {} dimensions: {}",
            data.n,
            model.dim(),
            show(&a.out)
        ),
    );
    Ok(())
}
