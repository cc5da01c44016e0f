//! `drlim view`: an interactive map of an embedding in one self-contained HTML file.

use std::path::{Path, PathBuf};

use drlim::data::{load, load_table};
use drlim::view::{write, Column, Images, MapLayer, Samples, ViewOptions};
use drlim::{Dataset, Error, Result};

use super::columns::point_columns;
use super::show;
use crate::cli::ViewArgs;

/// What one layer is made of, loaded.
struct Loaded {
    embedding: Dataset,
    columns: Vec<Column>,
    samples: Option<Dataset>,
    samples_origin: String,
}

pub fn run(a: ViewArgs) -> Result<()> {
    let train = load_layer(&a.embedding, &a.labels, &a.meta, &a.data, &a.circular)?;
    check_circular(&train.columns, &a.circular)?;
    let new = match &a.new {
        Some(e) => Some(load_layer(
            e,
            &a.new_labels,
            &a.new_meta,
            &a.new_data,
            &a.circular,
        )?),
        None => None,
    };
    let mut layers = vec![layer("training", &train, a.image_shape, &a.show_values)];
    if let Some(n) = &new {
        layers.push(layer("new", n, a.image_shape, &a.show_values));
    }
    let options = ViewOptions {
        title: a.title.clone(),
        max_bytes: a.max_mb.saturating_mul(1 << 20),
        max_thumbnails: a.max_thumbnails,
    };
    let s = write(&a.out, &layers, &options)?;
    if !a.quiet {
        println!(
            "wrote {} ({:.1} MB, {} points, {} thumbnails): open it in a browser",
            show(&a.out),
            s.bytes as f64 / (1 << 20) as f64,
            s.points,
            s.thumbnails
        );
    }
    Ok(())
}

fn load_layer(
    embedding: &Path,
    labels: &Option<PathBuf>,
    meta: &Option<PathBuf>,
    data: &Option<PathBuf>,
    circular: &[(String, f64)],
) -> Result<Loaded> {
    let (emb, mut columns) = if is_parquet(embedding) {
        let t = load_table(embedding)?;
        (t.coords, t.columns.iter().map(Column::from_extra).collect())
    } else {
        (load(embedding)?, vec![])
    };
    columns.extend(point_columns(
        labels.as_deref(),
        meta.as_deref(),
        emb.n,
        embedding,
        "points",
    )?);
    let columns = columns
        .into_iter()
        .map(|c| match circular.iter().find(|(n, _)| n == &c.name) {
            Some((_, period)) => c.circular(*period),
            None => Ok(c),
        })
        .collect::<Result<_>>()?;
    let samples = data.as_deref().map(load).transpose()?;
    Ok(Loaded {
        embedding: emb.into_floats(),
        columns,
        samples,
        samples_origin: data.as_ref().map(|d| show(d)).unwrap_or_default(),
    })
}

/// Every `--circular` name is a column of the training map.
fn check_circular(columns: &[Column], circular: &[(String, f64)]) -> Result<()> {
    for (name, _) in circular {
        if !columns.iter().any(|c| &c.name == name) {
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            return Err(Error::param(format!(
                "--circular {name}: no such column (the columns are: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
    }
    Ok(())
}

fn layer<'a>(
    name: &str,
    l: &'a Loaded,
    image_shape: Option<(usize, usize)>,
    show_values: &'a [usize],
) -> MapLayer<'a> {
    let e = &l.embedding;
    let coords = e
        .floats()
        .expect("embeddings are held as floats (load_layer)");
    let mut layer = MapLayer::new(name, &show(Path::new(&e.origin)), coords, e.dim());
    layer.columns = l.columns.clone();
    if let Some(d) = &l.samples {
        let shape = image_shape.or(match d.shape[..] {
            [h, w] => Some((h, w)),
            [h, w, 1] | [1, h, w] => Some((h, w)),
            _ => None,
        });
        let samples = match shape {
            Some((height, width)) => Samples::Images(Images {
                pixels: d.values(),
                height,
                width,
            }),
            None => Samples::Rows {
                values: d.values(),
                dim: d.dim(),
                shown: show_values,
            },
        };
        layer = layer.with_samples(samples, &l.samples_origin);
    }
    layer
}

fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}
