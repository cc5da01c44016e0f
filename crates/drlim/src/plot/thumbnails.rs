//! Some points drawn as their images on a 2-D scatter plot, chosen so that no two overlap.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::colour::Colouring;
use super::{render_to, Figure};
use crate::error::{Error, Result};
use crate::points::Points;

/// Grey images to draw at their points' positions, over a 2-D scatter plot.
pub struct Thumbnails<'a> {
    /// One image per point, rows of `side × side` values in [0, 1] (1: ink).
    pub images: &'a [f32],
    /// Image side in pixels (drawn at one screen pixel per image pixel).
    pub side: usize,
    /// At most this many are drawn, chosen so that no two overlap.
    pub max: usize,
}

/// Like [`scatter`], with some of the points drawn as their images (framed in their colour),
/// chosen in a fixed order so that no two overlap.
pub fn scatter_thumbnails(
    path: &Path,
    embedding: &Points,
    colouring: &Colouring,
    title: &str,
    thumbnails: &Thumbnails,
) -> Result<()> {
    if embedding.dim < 2 {
        return Err(Error::param(
            "a scatter plot needs an embedding of at least 2 dimensions",
        ));
    }
    colouring.check(embedding.n)?;
    if thumbnails.images.len() != embedding.n * thumbnails.side * thumbnails.side {
        return Err(Error::param(format!(
            "{} thumbnail values for {} points of {}×{}",
            thumbnails.images.len(),
            embedding.n,
            thumbnails.side,
            thumbnails.side
        )));
    }
    render_to(
        path,
        (1100, 1000),
        &Figure::Thumbs {
            e: embedding,
            colouring,
            title,
            thumbnails,
        },
    )
}

/// Points (by index) whose screen positions are at least `gap` pixels apart in x or y, taken
/// in a fixed scrambled order (so that they spread over the map), at most `max`.
pub(super) fn pick_thumbnails(at: &[(i32, i32)], gap: i32, max: usize) -> Vec<usize> {
    let n = at.len();
    let mut chosen: Vec<usize> = Vec::new();
    // a fixed permutation: stride by a number coprime with n
    let stride = (1..n.max(2))
        .map(|k| (n * 618 / 1000 + k) % n.max(1))
        .find(|&s| s > 0 && gcd(s, n) == 1)
        .unwrap_or(1);
    for k in 0..n {
        if chosen.len() >= max {
            break;
        }
        let i = (k * stride) % n;
        let (x, y) = at[i];
        if chosen
            .iter()
            .all(|&j| (at[j].0 - x).abs() >= gap || (at[j].1 - y).abs() >= gap)
        {
            chosen.push(i);
        }
    }
    chosen
}

pub(super) fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Draws one image centred at `at` on a white square framed in `frame`: ink dark.
pub(super) fn draw_thumbnail<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    image: &[f32],
    side: usize,
    frame: RGBColor,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let h = side as i32 / 2;
    let (x0, y0) = (at.0 - h, at.1 - h);
    let s = side as i32;
    root.draw(&Rectangle::new(
        [(x0 - 1, y0 - 1), (x0 + s, y0 + s)],
        WHITE.filled(),
    ))?;
    root.draw(&Rectangle::new(
        [(x0 - 1, y0 - 1), (x0 + s, y0 + s)],
        frame.stroke_width(1),
    ))?;
    for (k, &v) in image.iter().enumerate() {
        if v > 0.1 {
            let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
            let (x, y) = (x0 + (k % side) as i32, y0 + (k / side) as i32);
            root.draw(&Rectangle::new(
                [(x, y), (x + 1, y + 1)],
                RGBColor(g, g, g).filled(),
            ))?;
        }
    }
    Ok(())
}
