//! Interactive maps: one self-contained HTML file (no server, no network: the viewer's script,
//! its styles and every byte of data are inside) that draws an embedding with WebGL 2.
//!
//! 2-D maps pan and zoom, 3-D maps rotate, pan and zoom; points are coloured by any column
//! (categories with a legend whose entries toggle their points, numbers with a colour bar,
//! angles with a colour wheel); hovering a point shows its index, its columns and, for images,
//! a thumbnail of the sample itself; a second layer (out-of-sample points) is drawn as rings
//! over the training map; search by index or value; lasso selection (shift-drag) whose indices
//! can be copied or saved as CSV.
//!
//! - `columns`: per-point columns and how they are packed;
//! - `atlas`: thumbnails tiled into PNG atlases;
//! - `page`: the page itself, its size budget and the atomic write.
//!
//! ```
//! use drlim::view::{Column, MapLayer, ViewOptions};
//! let coords = [0.0f32, 0.0, 1.0, 0.5, 0.2, 1.0];
//! let layer = MapLayer::new("training", "map.npy", &coords, 2)
//!     .with_column(Column::labels("digit", &[4, 9, 4]));
//! let html = drlim::view::render(&[layer], &ViewOptions::titled("three points"))?;
//! assert!(html.starts_with("<!doctype html>"));
//! # Ok::<(), drlim::Error>(())
//! ```

mod atlas;
mod columns;
mod page;

pub use atlas::{Images, MAX_SIDE};
pub use columns::{read_csv_columns, Column, ColumnValues, MAX_INTEGER_CATEGORIES};
pub use page::{render, write, ViewSummary, BYTES_PER_COORDINATE};

use crate::error::{Error, Result};

/// The default size limit of a map file: 512 MB (raise it with [`ViewOptions::max_bytes`]).
pub const DEFAULT_MAX_BYTES: u64 = 512 << 20;
/// The default number of points given a thumbnail: every point up to this many, else every
/// k-th point so that this many have one.
pub const DEFAULT_MAX_THUMBNAILS: usize = 200_000;
/// Vector samples show at most this many of their first values on the hover card.
pub const MAX_ROW_VALUES: usize = 12;

/// What a hover card shows of the samples themselves.
#[derive(Clone, Debug)]
pub enum Samples<'a> {
    /// Images: a thumbnail.
    Images(Images<'a>),
    /// Vectors of `dim` values: the chosen ones, or the first [`MAX_ROW_VALUES`].
    Rows {
        /// The values, row after row.
        values: std::borrow::Cow<'a, [f32]>,
        /// Values per row.
        dim: usize,
        /// Which values a card shows (0-based, at most [`MAX_ROW_VALUES`]); empty: the first.
        shown: &'a [usize],
    },
}

/// One layer of points: the training map, or out-of-sample points drawn over it.
#[derive(Clone, Debug)]
pub struct MapLayer<'a> {
    /// Its name on the page ("training", "new").
    pub name: String,
    /// Where the coordinates came from, for error messages.
    pub origin: String,
    /// The coordinates, point after point.
    pub coords: &'a [f32],
    /// Coordinates per point: 2 or 3.
    pub dim: usize,
    /// Per-point columns (labels, metadata).
    pub columns: Vec<Column>,
    /// The samples, for the hover card.
    pub samples: Option<Samples<'a>>,
    /// Where the samples came from, for error messages.
    pub samples_origin: String,
}

impl<'a> MapLayer<'a> {
    /// A layer of `coords.len() / dim` points, without columns or samples.
    pub fn new(name: &str, origin: &str, coords: &'a [f32], dim: usize) -> Self {
        MapLayer {
            name: name.to_string(),
            origin: origin.to_string(),
            coords,
            dim,
            columns: vec![],
            samples: None,
            samples_origin: String::new(),
        }
    }

    /// Adds a column.
    pub fn with_column(mut self, column: Column) -> Self {
        self.columns.push(column);
        self
    }

    /// Adds the samples (from `origin`) for the hover card.
    pub fn with_samples(mut self, samples: Samples<'a>, origin: &str) -> Self {
        self.samples = Some(samples);
        self.samples_origin = origin.to_string();
        self
    }

    /// Number of points.
    pub fn n(&self) -> usize {
        self.coords.len() / self.dim.max(1)
    }

    /// Checks the layer: 2 or 3 finite coordinates per point, a value per point in every
    /// column, a sample per point.
    pub fn check(&self) -> Result<()> {
        if !(2..=3).contains(&self.dim) {
            return Err(Error::data(
                &self.origin,
                format!(
                    "the embedding has {} dimensions: a map shows 2 or 3 (make a 2-D or 3-D \
                     embedding, or use `drlim plot` for the first coordinates)",
                    self.dim
                ),
            ));
        }
        if self.coords.is_empty() || !self.coords.len().is_multiple_of(self.dim) {
            return Err(Error::data(&self.origin, "the embedding has no points"));
        }
        if let Some(k) = self.coords.iter().position(|v| !v.is_finite()) {
            return Err(Error::data(
                &self.origin,
                format!(
                    "point {} has a coordinate that is not a finite number ({})",
                    k / self.dim,
                    self.coords[k]
                ),
            ));
        }
        let n = self.n();
        for c in &self.columns {
            if c.len() != n {
                return Err(Error::data(
                    &self.origin,
                    format!("column '{}' has {} values for {n} points", c.name, c.len()),
                ));
            }
        }
        self.check_samples(n)
    }

    fn check_samples(&self, n: usize) -> Result<()> {
        let (len, each, what) = match &self.samples {
            None => return Ok(()),
            Some(Samples::Images(im)) => (
                im.pixels.len(),
                im.height * im.width,
                format!("images of {}×{}", im.height, im.width),
            ),
            Some(Samples::Rows { values, dim, shown }) => {
                let dim = *dim;
                if shown.len() > MAX_ROW_VALUES || shown.iter().any(|&j| j >= dim) {
                    return Err(Error::data(
                        &self.samples_origin,
                        format!(
                            "the values to show must be at most {MAX_ROW_VALUES} of the {dim} \
                             columns (0 to {}), not {shown:?}",
                            dim.saturating_sub(1)
                        ),
                    ));
                }
                (values.len(), dim, format!("rows of {dim}"))
            }
        };
        if each == 0 || len != n * each {
            return Err(Error::data(
                &self.samples_origin,
                format!(
                    "{len} values do not make {n} {what} (one sample per point of {})",
                    self.origin
                ),
            ));
        }
        Ok(())
    }
}

/// How a map file is made.
#[derive(Clone, Debug)]
pub struct ViewOptions {
    /// The page's title.
    pub title: String,
    /// Refuse to write a file larger than this (a browser tab would struggle past a few
    /// hundred MB).
    pub max_bytes: u64,
    /// Give thumbnails to at most this many points of a layer (every k-th point past it).
    pub max_thumbnails: usize,
}

impl ViewOptions {
    /// The defaults, with a title.
    pub fn titled(title: &str) -> Self {
        ViewOptions {
            title: title.to_string(),
            max_bytes: DEFAULT_MAX_BYTES,
            max_thumbnails: DEFAULT_MAX_THUMBNAILS,
        }
    }
}
