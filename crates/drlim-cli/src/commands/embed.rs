//! `drlim embed`: map new data with a trained model (out of sample). NPY and CSV inputs are
//! streamed: read, embedded and written a block of samples at a time, so memory does not grow
//! with them.

use drlim::data::{load, SampleStream, SourceDtype};
use drlim::output::{check_writable, ExtraColumn, MatrixFormat, MatrixWriter};
use drlim::view::Column;
use drlim::{Device, Embedder, Model, Result};

use super::columns::point_columns;
use super::{say, show};
use crate::cli::EmbedArgs;
use crate::progress::samples_bar;

/// Samples per block when streaming: a multiple of the fast path's passes (so blocks do not
/// change a sample's coordinates, which do not depend on their batch anyway), and 50 MB of
/// f32 for 28×28 images.
const STREAM_ROWS: usize = 128 * drlim::embed::FAST_EMBED_ROWS;

pub fn run(a: EmbedArgs, device: &Device) -> Result<()> {
    MatrixFormat::from_path(&a.out)?;
    check_writable(&a.out)?;
    let model = Model::load(&a.model, device)?;
    let stream = SampleStream::open(&a.data)?;
    let (n, dtype) = match stream {
        Some(stream) => {
            let extras = extra_columns(&a, stream.n())?;
            streamed(&a, &model, stream, extras)?
        }
        None => {
            let data = load(&a.data)?;
            let extras = extra_columns(&a, data.n)?;
            let emb = model.embed(&data)?;
            let mut out = MatrixWriter::create_with(&a.out, data.n, model.dim(), extras)?;
            out.write_rows(&emb)?;
            out.finish()?;
            (data.n, data.dtype)
        }
    };
    if dtype != model.config.input.dtype && !a.quiet {
        eprintln!(
            "warning: {} holds {:?} values but the model was trained on {:?} data; the stored normalisation ({}) is applied unchanged",
            show(&a.data),
            dtype,
            model.config.input.dtype,
            model.config.input.normalisation_kind()
        );
    }
    say(
        a.quiet,
        format!(
            "embedded {n} samples into {} dimensions: {}",
            model.dim(),
            show(&a.out)
        ),
    );
    Ok(())
}

/// Embeds an NPY or CSV file block by block into `a.out` (a temporary file until the last block is
/// written: an error on the way leaves no output).
fn streamed(
    a: &EmbedArgs,
    model: &Model,
    mut stream: SampleStream,
    extras: Vec<ExtraColumn>,
) -> Result<(usize, SourceDtype)> {
    let origin = show(&a.data);
    let n = stream.n();
    let shape = stream.shape().to_vec();
    model
        .config
        .input
        .check_size(stream.dim(), &shape, &origin)?;
    let mut out = MatrixWriter::create_with(&a.out, n, model.dim(), extras)?;
    let bar = samples_bar(a.quiet, n, &format!("embedding {origin}"));
    let mut block = Vec::new();
    // the weights prepared once for all the blocks
    let embedder = Embedder::new(model);
    while stream.next_block(STREAM_ROWS, &mut block)? > 0 {
        let coords = match &embedder {
            Some(e) => e.embed_rows(&block, &shape, &origin)?,
            None => model.embed_rows(&block, &shape, &origin)?,
        };
        out.write_rows(&coords)?;
        bar.inc((block.len() / stream.dim()) as u64);
    }
    out.finish()?;
    bar.finish_and_clear();
    Ok((n, stream.dtype()))
}

/// The `--labels` and `--meta` columns to write beside the coordinates, checked against the
/// `n` samples.
fn extra_columns(a: &EmbedArgs, n: usize) -> Result<Vec<ExtraColumn>> {
    let columns = point_columns(
        a.labels.as_deref(),
        a.meta.as_deref(),
        n,
        &a.data,
        "samples",
    )?;
    Ok(columns.iter().map(Column::to_extra).collect())
}
