//! Scatter plots of embeddings, coloured by label, by a continuous value or by an angle, as PNG or
//! SVG (chosen by the file extension), written atomically: 2-D (the first two output
//! coordinates, [`scatter`], optionally with images as thumbnails, [`scatter_thumbnails`]) and
//! 3-D (several perspective views of the first three, side by side, [`scatter3d`]).
//!
//! - `colour`: how points are coloured ([`Colouring`]);
//! - `scatter`, `thumbnails`, `views3d`: the three kinds of figure;
//! - this module: the file formats and the font.

mod colour;
mod scatter;
mod thumbnails;
mod views3d;

pub use colour::Colouring;
pub use scatter::scatter;
pub use thumbnails::{scatter_thumbnails, Thumbnails};
pub use views3d::{scatter3d, View3d, THREE_VIEWS};

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::points::Points;
use scatter::draw;
use views3d::draw3d;

const FONT: &str = "sans-serif";
static FONT_ONCE: Once = Once::new();

fn register_font() {
    FONT_ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).ok();
    });
}

/// What a plot file shows.
enum Figure<'a> {
    Flat {
        e: &'a Points<'a>,
        colouring: &'a Colouring<'a>,
        title: &'a str,
    },
    Views {
        e: &'a Points<'a>,
        colouring: &'a Colouring<'a>,
        title: &'a str,
        views: &'a [View3d],
    },
    Thumbs {
        e: &'a Points<'a>,
        colouring: &'a Colouring<'a>,
        title: &'a str,
        thumbnails: &'a Thumbnails<'a>,
    },
}

impl Figure<'_> {
    fn paint<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        match *self {
            Figure::Flat {
                e,
                colouring,
                title,
            } => draw(root, e, colouring, title, None),
            Figure::Thumbs {
                e,
                colouring,
                title,
                thumbnails,
            } => draw(root, e, colouring, title, Some(thumbnails)),
            Figure::Views {
                e,
                colouring,
                title,
                views,
            } => draw3d(root, e, colouring, title, views),
        }
    }
}

/// Renders with `draw` to a PNG or SVG at `path` (by its extension), atomically.
fn render_to(path: &Path, size: (u32, u32), figure: &Figure) -> Result<()> {
    register_font();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("svg") => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                figure.paint(&root).map_err(|e| Error::output(path, e))?;
            }
            crate::output::write_bytes(path, svg.as_bytes())
        }
        Some("png") => crate::output::write_atomic_by_name(path, ".png", |tmp| {
            let root = BitMapBackend::new(tmp, size).into_drawing_area();
            figure.paint(&root)
        }),
        _ => Err(Error::output(
            path,
            "unknown plot format: the name must end in .png or .svg",
        )),
    }
}

/// Writes a grey image (`pixels`: rows of `width` bytes) as PNG, atomically.
pub fn grey_png(path: &Path, pixels: &[u8], width: usize, height: usize) -> Result<()> {
    crate::output::write_atomic_by_name(path, ".png", |tmp| {
        let root = BitMapBackend::new(tmp, (width as u32, height as u32)).into_drawing_area();
        for y in 0..height {
            for x in 0..width {
                let v = pixels[y * width + x];
                root.draw_pixel((x as i32, y as i32), &RGBColor(v, v, v))
                    .map_err(|e| e.to_string())?;
            }
        }
        root.present().map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::thumbnails::pick_thumbnails;
    use super::*;

    #[test]
    fn writes_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let e = [0.0f32, 0.0, 1.0, 1.0, 0.5, 0.2, -1.0, 0.3];
        let p = Points::new(&e, 2);
        let png = dir.path().join("a.png");
        scatter(&png, &p, &Colouring::Labels(&[4, 9, 4, 9]), "test").unwrap();
        assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
        let svg = dir.path().join("a.svg");
        scatter(
            &svg,
            &p,
            &Colouring::Values {
                values: &[0.0, 1.0, 2.0, 3.0],
                name: "v",
            },
            "test",
        )
        .unwrap();
        assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temporary files left"
        );
        assert!(scatter(&dir.path().join("a.jpg"), &p, &Colouring::Plain, "t").is_err());
    }

    #[test]
    fn writes_3d_views_and_thumbnails() {
        let dir = tempfile::tempdir().unwrap();
        let e = [
            0.0f32, 0.0, 0.0, 1.0, 1.0, 0.5, 0.5, 0.2, 1.0, -1.0, 0.3, 0.0,
        ];
        let p3 = Points::new(&e, 3);
        let az = [0.0f32, 90.0, 180.0, 350.0];
        let f = dir.path().join("v.png");
        let c = Colouring::Cyclic {
            values: &az,
            period: 360.0,
            name: "azimuth",
        };
        scatter3d(&f, &p3, &c, "t", &THREE_VIEWS).unwrap();
        assert_eq!(&std::fs::read(&f).unwrap()[1..4], b"PNG");
        let svg = dir.path().join("v.svg");
        scatter3d(
            &svg,
            &p3,
            &Colouring::Labels(&[0, 1, 0, 1]),
            "t",
            &THREE_VIEWS,
        )
        .unwrap();
        assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
        // 2-D data has no third coordinate; colour values must match the points
        let p2 = Points::new(&e[..8], 2);
        assert!(scatter3d(&f, &p2, &Colouring::Plain, "t", &THREE_VIEWS).is_err());
        assert!(scatter3d(&f, &p3, &Colouring::Labels(&[0, 1]), "t", &THREE_VIEWS).is_err());
        // thumbnails: one 4×4 image per point
        let imgs: Vec<f32> = (0..4 * 16).map(|k| (k % 3) as f32 / 2.0).collect();
        let t = Thumbnails {
            images: &imgs,
            side: 4,
            max: 10,
        };
        let f = dir.path().join("t.png");
        scatter_thumbnails(&f, &p2, &Colouring::Plain, "t", &t).unwrap();
        let short = Thumbnails {
            images: &imgs[..10],
            side: 4,
            max: 10,
        };
        assert!(scatter_thumbnails(&f, &p2, &Colouring::Plain, "t", &short).is_err());
    }

    #[test]
    fn legend_goes_where_the_points_are_not() {
        use plotters::prelude::SeriesLabelPosition as P;
        let (xr, yr) = (0.0f32..1.0, 0.0f32..1.0);
        // points all along the right edge: the legend moves to the upper left
        let ys: Vec<f32> = (0..50).map(|i| i as f32 / 50.0).collect();
        let xs = vec![0.95f32; 50];
        assert_eq!(
            scatter::emptiest_legend_place(&xs, &ys, &xr, &yr, 10),
            P::UpperLeft
        );
        // an empty frame keeps the first place, the upper right
        assert_eq!(
            scatter::emptiest_legend_place(&[], &[], &xr, &yr, 10),
            P::UpperRight
        );
        // a cloud everywhere but the lower middle
        let grid: Vec<(f32, f32)> = (0..20)
            .flat_map(|i| (0..20).map(move |j| (i as f32 / 19.0, j as f32 / 19.0)))
            .filter(|&(x, y)| !((0.3..0.7).contains(&x) && y < 0.45))
            .collect();
        let (gx, gy): (Vec<f32>, Vec<f32>) = grid.into_iter().unzip();
        assert_eq!(
            scatter::emptiest_legend_place(&gx, &gy, &xr, &yr, 10),
            P::LowerMiddle
        );
    }

    #[test]
    fn thumbnails_do_not_overlap() {
        let at: Vec<(i32, i32)> = (0..200).map(|i| ((i * 7) % 100, (i * 13) % 90)).collect();
        let chosen = pick_thumbnails(&at, 20, 50);
        assert!(!chosen.is_empty() && chosen.len() <= 50);
        for (k, &a) in chosen.iter().enumerate() {
            for &b in &chosen[k + 1..] {
                let (dx, dy) = ((at[a].0 - at[b].0).abs(), (at[a].1 - at[b].1).abs());
                assert!(dx >= 20 || dy >= 20, "{a} and {b} overlap");
            }
        }
    }
}
