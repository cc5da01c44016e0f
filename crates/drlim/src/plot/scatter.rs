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

/// Where the legend box of a 2-D map covers the fewest points: of the eight places along the
/// frame, the one whose box (a quarter of the width, `entries` × 3.5% of the height, at least a
/// tenth) holds the fewest of the points `xs`, `ys` within the ranges `xr`, `yr`; ties go to
/// the first in the order upper right, middle right, lower right, upper left, middle left, lower
/// left, upper middle, lower middle.
pub(super) fn emptiest_legend_place(
    xs: &[f32],
    ys: &[f32],
    xr: &std::ops::Range<f32>,
    yr: &std::ops::Range<f32>,
    entries: usize,
) -> SeriesLabelPosition {
    use SeriesLabelPosition::*;
    let (w, h) = (0.25f32, (0.035 * entries as f32).clamp(0.1, 0.9));
    // each place's box as [x0, x1] × [y0, y1] in fractions of the frame (y up)
    let lo = |size: f32, at: f32| (at * (1.0 - size), at * (1.0 - size) + size);
    let places = [
        (UpperRight, 1.0, 1.0),
        (MiddleRight, 1.0, 0.5),
        (LowerRight, 1.0, 0.0),
        (UpperLeft, 0.0, 1.0),
        (MiddleLeft, 0.0, 0.5),
        (LowerLeft, 0.0, 0.0),
        (UpperMiddle, 0.5, 1.0),
        (LowerMiddle, 0.5, 0.0),
    ];
    let frac = |v: f32, r: &std::ops::Range<f32>| (v - r.start) / (r.end - r.start);
    let covered = |ax: f32, ay: f32| {
        let ((x0, x1), (y0, y1)) = (lo(w, ax), lo(h, ay));
        xs.iter()
            .zip(ys)
            .filter(|&(&x, &y)| {
                (x0..=x1).contains(&frac(x, xr)) && (y0..=y1).contains(&frac(y, yr))
            })
            .count()
    };
    // min_by_key keeps the first of equal minima
    places
        .into_iter()
        .min_by_key(|&(_, ax, ay)| covered(ax, ay))
        .map(|(place, _, _)| place)
        .expect("eight places")
}

/// Legend entries drawn as invisible series with labels, then the legend box at `place`.
pub(super) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    legend: &[(String, RGBColor)],
    place: SeriesLabelPosition,
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
        .position(place)
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
    let (xr, yr) = (padded_range(&xs), padded_range(&ys));
    let mut chart = ChartBuilder::on(root)
        .caption(colouring.caption(title), (FONT, 20))
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(xr.clone(), yr.clone())
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
    let place = emptiest_legend_place(&xs, &ys, &xr, &yr, legend.len());
    draw_legend(&mut chart, &legend, place).map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
