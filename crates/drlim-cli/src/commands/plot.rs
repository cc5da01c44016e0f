//! `drlim plot`: a scatter plot of an embedding, 2-D or 3-D.

use drlim::data::{load, load_labels_for};
use drlim::plot::{scatter, scatter3d, Colouring, THREE_VIEWS};
use drlim::points::Points;
use drlim::{Error, Result};

use super::show;
use crate::cli::PlotArgs;

pub fn run(a: PlotArgs) -> Result<()> {
    let emb = load(&a.embedding)?;
    let need = if a.three_d { 3 } else { 2 };
    if emb.dim() < need {
        return Err(Error::data(
            &a.embedding,
            format!(
                "a {}scatter plot needs at least {need} dimensions, the embedding has {}",
                if a.three_d { "3-D " } else { "" },
                emb.dim()
            ),
        ));
    }
    let labels = a
        .labels
        .as_ref()
        .map(|l| load_labels_for(l, emb.n))
        .transpose()?;
    let colouring = match &labels {
        Some(l) => Colouring::Labels(l),
        None => Colouring::Plain,
    };
    let values = emb.values();
    let points = Points::new(&values, emb.dim());
    if a.three_d {
        scatter3d(&a.out, &points, &colouring, &a.title, &THREE_VIEWS)?;
    } else {
        scatter(&a.out, &points, &colouring, &a.title)?;
    }
    println!("wrote {}", show(&a.out));
    Ok(())
}
