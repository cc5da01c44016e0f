//! Scatter plots of embeddings, coloured by label, by a continuous value or by an angle, as PNG or
//! SVG (chosen by the file extension), written atomically: 2-D (the first two output
//! coordinates) and 3-D (several perspective views of the first three, side by side).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::neighbours::Points;

/// How to colour the points.
pub enum Colouring<'a> {
    /// One colour for all points.
    Plain,
    /// A colour per distinct label, with a legend.
    Labels(&'a [i64]),
    /// A blue–grey–red scale over a value per point (clipped to its 2nd–98th percentiles).
    Values {
        /// One value per point.
        values: &'a [f32],
        /// What the value is, for the caption.
        name: &'a str,
    },
    /// A colour wheel over a circular value (e.g. azimuth in degrees, period 360), so that the
    /// two ends of the range meet.
    Cyclic {
        /// One value per point.
        values: &'a [f32],
        /// The period of the values.
        period: f32,
        /// What the value is, for the caption.
        name: &'a str,
    },
}

impl Colouring<'_> {
    /// A colour per point and the legend entries (label, colour) for label colourings.
    fn colours(&self, n: usize) -> (Vec<RGBColor>, Vec<(String, RGBColor)>) {
        match self {
            Colouring::Plain => (vec![PALETTE[0]; n], vec![]),
            Colouring::Labels(labels) => {
                let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
                for &l in labels.iter() {
                    *counts.entry(l).or_default() += 1;
                }
                let slot: BTreeMap<i64, usize> =
                    counts.keys().enumerate().map(|(g, &l)| (l, g)).collect();
                let c = labels
                    .iter()
                    .map(|l| PALETTE[slot[l] % PALETTE.len()])
                    .collect();
                let legend = if counts.len() <= 20 {
                    counts
                        .iter()
                        .map(|(l, k)| (format!("{l} (n={k})"), PALETTE[slot[l] % PALETTE.len()]))
                        .collect()
                } else {
                    vec![]
                };
                (c, legend)
            }
            Colouring::Values { values, .. } => {
                let mut sorted: Vec<f32> = values.to_vec();
                sorted.sort_by(f32::total_cmp);
                let (lo, hi) = (percentile(&sorted, 0.02), percentile(&sorted, 0.98));
                let span = (hi - lo).max(1e-12) as f64;
                let c = values
                    .iter()
                    .map(|&v| cool_warm((v - lo) as f64 / span))
                    .collect();
                (c, vec![])
            }
            Colouring::Cyclic { values, period, .. } => {
                let c = values
                    .iter()
                    .map(|&v| {
                        let h = (v / period).rem_euclid(1.0) as f64;
                        let (r, g, b) = HSLColor(h, 0.75, 0.45).rgb();
                        RGBColor(r, g, b)
                    })
                    .collect();
                (c, vec![])
            }
        }
    }

    fn caption(&self, title: &str) -> String {
        match self {
            Colouring::Values { name, .. } => format!("{title} — colour: {name}"),
            Colouring::Cyclic { name, .. } => format!("{title} — colour: {name} (colour wheel)"),
            _ => title.to_string(),
        }
    }

    fn check(&self, n: usize) -> Result<()> {
        let len = match self {
            Colouring::Plain => n,
            Colouring::Labels(l) => l.len(),
            Colouring::Values { values, .. } | Colouring::Cyclic { values, .. } => values.len(),
        };
        if len != n {
            return Err(Error::param(format!("{len} colour values for {n} points")));
        }
        Ok(())
    }
}

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

const FONT: &str = "sans-serif";
static FONT_ONCE: Once = Once::new();

fn register_font() {
    FONT_ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).ok();
    });
}

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

fn percentile(sorted: &[f32], q: f64) -> f32 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn cool_warm(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let (lo, mid, hi) = (
        (59.0, 76.0, 192.0),
        (221.0, 221.0, 221.0),
        (180.0, 4.0, 38.0),
    );
    let mix = |a: (f64, f64, f64), b: (f64, f64, f64), s: f64| {
        RGBColor(
            (a.0 + (b.0 - a.0) * s) as u8,
            (a.1 + (b.1 - a.1) * s) as u8,
            (a.2 + (b.2 - a.2) * s) as u8,
        )
    };
    if t < 0.5 {
        mix(lo, mid, t * 2.0)
    } else {
        mix(mid, hi, (t - 0.5) * 2.0)
    }
}

/// Coordinate `k` of every point.
fn coordinate(e: &Points, k: usize) -> Vec<f32> {
    (0..e.n).map(|i| e.row(i)[k]).collect()
}

/// The values' range widened by 5% on each side (at least 1e-3), for an axis.
fn padded_range(v: &[f32]) -> std::ops::Range<f32> {
    let (lo, hi) = v
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let pad = ((hi - lo) * 0.05).max(1e-3);
    (lo - pad)..(hi + pad)
}

fn dot<C>(at: C, c: RGBColor) -> Circle<C, i32> {
    Circle::new(at, 2, c.mix(0.75).filled())
}

/// Legend entries drawn as invisible series with labels, then the legend box.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
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

fn draw<DB: DrawingBackend>(
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

/// Points (by index) whose screen positions are at least `gap` pixels apart in x or y, taken
/// in a fixed scrambled order (so that they spread over the map), at most `max`.
fn pick_thumbnails(at: &[(i32, i32)], gap: i32, max: usize) -> Vec<usize> {
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

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Draws one image centred at `at` on a white square framed in `frame`: ink dark.
fn draw_thumbnail<DB: DrawingBackend>(
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

fn draw3d<DB: DrawingBackend>(
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
            draw_legend(&mut chart, &legend).map_err(err)?;
        }
    }
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
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
