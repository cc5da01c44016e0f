//! Interactive maps (the HTML of `drlim view`) beside the experiments' figures: the points
//! coloured by what the experiment is about, each hover card showing the sample itself.

use std::path::{Path, PathBuf};

use drlim::view::{write, Column, Images, MapLayer, Samples, ViewOptions};
use drlim::{Dataset, Result};

/// A layer of `dataset`'s points at `coords` (`dim` per point), with its samples as thumbnails
/// when they are images.
pub fn layer<'a>(name: &str, coords: &'a [f32], dim: usize, dataset: &'a Dataset) -> MapLayer<'a> {
    let layer = MapLayer::new(name, &format!("{name} embedding"), coords, dim);
    match dataset.shape[..] {
        [height, width] => layer.with_samples(
            Samples::Images(Images {
                pixels: dataset.values(),
                height,
                width,
            }),
            &dataset.origin,
        ),
        _ => layer,
    }
}

/// Numbers as a colour-bar column (whole numbers too, which `Column::numbers` would take as
/// categories).
pub fn numbers(name: &str, values: &[f32]) -> Column {
    Column {
        name: name.to_string(),
        values: drlim::view::ColumnValues::Numbers(values.iter().map(|&v| v as f64).collect()),
    }
}

/// Writes `out/stem.html` and returns its path.
pub fn write_map(out: &Path, stem: &str, title: &str, layers: &[MapLayer]) -> Result<PathBuf> {
    let p = out.join(format!("{stem}.html"));
    write(&p, layers, &ViewOptions::titled(title))?;
    Ok(p)
}
