//! `view`: interactive maps (one self-contained HTML file) from Python, through the engine's
//! `drlim::view`, so that the command line and Python write the same file.

use std::path::PathBuf;

use drlim::view::{Column, Images, MapLayer, Samples, ViewOptions};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::Rows;
use crate::errors::{guarded, to_py, Kind};

/// One layer as the Python layer passes it, read into owned values.
struct Layer {
    name: String,
    coords: Vec<f32>,
    dim: usize,
    columns: Vec<Column>,
    images: Option<(Vec<f32>, usize, usize)>,
    rows: Option<(Vec<f32>, usize)>,
    show_values: Vec<usize>,
}

/// An array's values as float32 and the shape of one row (read as samples are).
fn floats(x: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<f32>, Vec<usize>)> {
    let rows = Rows::from_py(x, what)?;
    Ok((rows.values().to_vec(), rows.shape))
}

fn column(t: &Bound<'_, PyAny>) -> PyResult<Column> {
    let (name, kind, values, period): (String, String, Bound<'_, PyAny>, f64) = t.extract()?;
    let numbers = || -> PyResult<Vec<f64>> { values.extract() };
    Ok(match kind.as_str() {
        "text" => Column::infer(&name, values.extract()?),
        "numbers" => Column::numbers(&name, numbers()?),
        "circular" => Column::numbers(&name, numbers()?)
            .circular(period)
            .map_err(|e| PyValueError::new_err(e.to_string()))?,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown column kind {other}"
            )))
        }
    })
}

fn layer(d: &Bound<'_, PyDict>) -> PyResult<Layer> {
    let get = |k: &str| -> PyResult<Bound<'_, PyAny>> {
        d.get_item(k)?
            .ok_or_else(|| PyValueError::new_err(format!("layer without '{k}'")))
    };
    let name: String = get("name")?.extract()?;
    let (coords, shape) = floats(&get("coords")?, &name)?;
    let columns = get("columns")?
        .try_iter()?
        .map(|c| column(&c?))
        .collect::<PyResult<_>>()?;
    let optional = |k: &str| -> PyResult<Option<(Vec<f32>, Vec<usize>)>> {
        match d.get_item(k)? {
            Some(v) if !v.is_none() => Ok(Some(floats(&v, k)?)),
            _ => Ok(None),
        }
    };
    let images = optional("images")?.map(|(v, s)| {
        let (h, w) = (s[0], s.get(1).copied().unwrap_or(0));
        (v, h, w)
    });
    let rows = optional("rows")?.map(|(v, s)| (v, s[0]));
    let show_values = match d.get_item("show_values")? {
        Some(v) if !v.is_none() => v.extract()?,
        _ => vec![],
    };
    Ok(Layer {
        name,
        coords,
        dim: shape[0],
        columns,
        images,
        rows,
        show_values,
    })
}

fn map_layer(l: &Layer) -> MapLayer<'_> {
    let mut m = MapLayer::new(&l.name, &format!("{} embedding", l.name), &l.coords, l.dim);
    m.columns = l.columns.clone();
    if let Some((pixels, height, width)) = &l.images {
        let images = Images {
            pixels: pixels.as_slice().into(),
            height: *height,
            width: *width,
        };
        m = m.with_samples(Samples::Images(images), &format!("{} images", l.name));
    } else if let Some((values, dim)) = &l.rows {
        let rows = Samples::Rows {
            values: values.as_slice().into(),
            dim: *dim,
            shown: &l.show_values,
        };
        m = m.with_samples(rows, &format!("{} samples", l.name));
    }
    m
}

/// The map of `layers` (dicts: name, coords, columns, images, rows): written to `path`
/// atomically, or returned as HTML when `path` is None. Returns (html or "", bytes, points).
#[pyfunction]
#[pyo3(signature = (layers, title, path, max_bytes, max_thumbnails))]
pub fn view(
    py: Python<'_>,
    layers: Vec<Bound<'_, PyDict>>,
    title: &str,
    path: Option<PathBuf>,
    max_bytes: u64,
    max_thumbnails: usize,
) -> PyResult<(String, u64, usize)> {
    let owned = layers.iter().map(layer).collect::<PyResult<Vec<_>>>()?;
    let options = ViewOptions {
        title: title.to_string(),
        max_bytes,
        max_thumbnails,
    };
    // bad input and a map past the size limit are ValueErrors; only writing is an OSError
    let (html, points) = py
        .detach(|| {
            guarded(|| {
                let layers: Vec<MapLayer> = owned.iter().map(map_layer).collect();
                let html = drlim::view::render(&layers, &options)?;
                Ok((html, layers.iter().map(|l| l.n()).sum::<usize>()))
            })
        })
        .map_err(|e| to_py(e, Kind::Data))?;
    let bytes = html.len() as u64;
    match &path {
        Some(p) => {
            py.detach(|| guarded(|| drlim::output::write_bytes(p, html.as_bytes())))
                .map_err(|e| to_py(e, Kind::Files))?;
            Ok((String::new(), bytes, points))
        }
        None => Ok((html, bytes, points)),
    }
}
