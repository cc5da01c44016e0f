//! 3-D scatter plots: the first three output coordinates seen from several viewpoints, side by
//! side.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::colour::Colouring;
use super::scatter::{coordinate, dot, draw_legend, padded_range};
use super::{render_to, Figure, FONT};
use crate::error::{Error, Result};
use crate::points::Points;

/// A viewpoint on a 3-D plot: rotation about the vertical axis and tilt, in radians.
#[derive(Clone, Copy, Debug)]
pub struct View3d {
    /// Rotation about the vertical axis.
    pub yaw: f64,
    /// Tilt towards the viewer.
    pub pitch: f64,
}

/// Three views that together show a 3-D point cloud's shape.
pub const THREE_VIEWS: [View3d; 3] = [
    View3d {
        yaw: 0.5,
        pitch: 0.35,
    },
    View3d {
        yaw: 2.1,
        pitch: 0.35,
    },
    View3d {
        yaw: -1.1,
        pitch: 0.35,
    },
];

/// Draws the first three coordinates of `embedding` as 3-D scatter plots seen from `views`,
/// side by side, to `path` (`.png` or `.svg`).
pub fn scatter3d(
    path: &Path,
    embedding: &Points,
    colouring: &Colouring,
    title: &str,
    views: &[View3d],
) -> Result<()> {
    if embedding.dim < 3 {
        return Err(Error::param(
            "a 3-D scatter plot needs an embedding of at least 3 dimensions",
        ));
    }
    if views.is_empty() {
        return Err(Error::param("a 3-D scatter plot needs at least one view"));
    }
    colouring.check(embedding.n)?;
    let size = (560 * views.len() as u32, 600);
    render_to(
        path,
        size,
        &Figure::Views {
            e: embedding,
            colouring,
            title,
            views,
        },
    )
}

pub(super) fn draw3d<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    e: &Points,
    colouring: &Colouring,
    title: &str,
    views: &[View3d],
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(err)?;
    let root = root
        .titled(&colouring.caption(title), (FONT, 20))
        .map_err(err)?;
    let (xs, ys, zs) = (coordinate(e, 0), coordinate(e, 1), coordinate(e, 2));
    let (colours, legend) = colouring.colours(e.n);
    let panels = root.split_evenly((1, views.len()));
    for (k, (panel, view)) in panels.iter().zip(views).enumerate() {
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!(
                    "view {} (yaw {:.0}°, pitch {:.0}°)",
                    k + 1,
                    view.yaw.to_degrees(),
                    view.pitch.to_degrees()
                ),
                (FONT, 14),
            )
            .margin(10)
            .margin_top(30)
            .build_cartesian_3d(padded_range(&xs), padded_range(&zs), padded_range(&ys))
            .map_err(err)?;
        chart.with_projection(|mut p| {
            p.yaw = view.yaw;
            p.pitch = view.pitch;
            p.scale = 0.85;
            p.into_matrix()
        });
        chart
            .configure_axes()
            .label_style((FONT, 11))
            .light_grid_style(BLACK.mix(0.08))
            .max_light_lines(3)
            .draw()
            .map_err(err)?;
        // output 1 across, output 3 in depth, output 2 up
        chart
            .draw_series((0..e.n).map(|i| dot((xs[i], zs[i], ys[i]), colours[i])))
            .map_err(err)?;
        if k == views.len() - 1 {
            draw_legend(&mut chart, &legend, SeriesLabelPosition::MiddleRight).map_err(err)?;
        }
    }
    root.present().map_err(err)?;
    Ok(())
}
