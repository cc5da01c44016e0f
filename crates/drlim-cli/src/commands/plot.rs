//! `drlim plot`: a scatter plot of an embedding.

use drlim::data::{load, load_labels_for};
use drlim::neighbours::Points;
use drlim::plot::{scatter, Colouring};
use drlim::{Error, Result};

use super::show;
use crate::cli::PlotArgs;

pub fn run(a: PlotArgs) -> Result<()> {
    let emb = load(&a.embedding)?;
    if emb.dim() < 2 {
        return Err(Error::data(
            &a.embedding,
            format!(
                "a scatter plot needs at least 2 dimensions, the embedding has {}",
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
    scatter(
        &a.out,
        &Points::new(&emb.values, emb.dim()),
        &colouring,
        &a.title,
    )?;
    println!("wrote {}", show(&a.out));
    Ok(())
}
