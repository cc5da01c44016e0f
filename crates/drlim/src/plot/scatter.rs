//! The 2-D scatter plot (first two output coordinates), with a legend and, optionally,
//! thumbnails.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::colour::Colouring;
use super::thumbnails::{draw_thumbnail, pick_thumbnails, Thumbnails};
use super::{render_to, Figure, FONT};
use crate::error::{Error, Result};
use crate::points::Points;

/// Draws `embedding` (≥ 2 dimensions; the first two are drawn) to `path` (`.png` or `.svg`).
pub fn scatter(path: &Path, embedding: &Points, colouring: &Colouring, title: &str) -> Result<()> {
    if embedding.dim < 2 {
        return Err(Error::param(
            "a scatter plot needs an embedding of at least 2 dimensions",
        ));
    }
    colouring.check(embedding.n)?;
    render_to(
        path,
        (900, 820),
        &Figure::Flat {
            e: embedding,
            colouring,
            title,
        },
    )
}

/// Coordinate `k` of every point.
pub(super) fn coordinate(e: &Points, k: usize) -> Vec<f32> {
    (0..e.n).map(|i| e.row(i)[k]).collect()
}

/// The values' range widened by 5% on each side (at least 1e-3), for an axis.
pub(super) fn padded_range(v: &[f32]) -> std::ops::Range<f32> {
    let (lo, hi) = v
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let pad = ((hi - lo) * 0.05).max(1e-3);
    (lo - pad)..(hi + pad)
}

pub(super) fn dot<C>(at: C, c: RGBColor) -> Circle<C, i32> {
    Circle::new(at, 2, c.mix(0.75).filled())
}

/// Legend entries drawn as invisible series with labels, then the legend box.
pub(super) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    legend: &[(String, RGBColor)],
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB::ErrorType: 'static,
{
    if legend.is_empty() {
        return Ok(());
    }
    for (label, c) in legend {
        let c = *c;
        chart
            .draw_series(std::iter::empty::<Circle<CT::From, i32>>())?
            .label(label.clone())
            .legend(move |(x, y)| Circle::new((x, y), 4, c.filled()));
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    e: &Points,
    colouring: &Colouring,
    title: &str,
    thumbnails: Option<&Thumbnails>,
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (xs, ys) = (coordinate(e, 0), coordinate(e, 1));
    let mut chart = ChartBuilder::on(root)
        .caption(colouring.caption(title), (FONT, 20))
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(padded_range(&xs), padded_range(&ys))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("output 1")
        .y_desc("output 2")
        .label_style((FONT, 13))
        .draw()
        .map_err(err)?;
    let (colours, legend) = colouring.colours(e.n);
    chart
        .draw_series((0..e.n).map(|i| dot((xs[i], ys[i]), colours[i])))
        .map_err(err)?;
    if let Some(t) = thumbnails {
        let at: Vec<(i32, i32)> = (0..e.n)
            .map(|i| chart.backend_coord(&(xs[i], ys[i])))
            .collect();
        for i in pick_thumbnails(&at, t.side as i32 + 3, t.max) {
            draw_thumbnail(
                root,
                at[i],
                &t.images[i * t.side * t.side..][..t.side * t.side],
                t.side,
                colours[i],
            )
            .map_err(err)?;
        }
    }
    draw_legend(&mut chart, &legend).map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
