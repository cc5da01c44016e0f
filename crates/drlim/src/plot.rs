//! Scatter plots of 2-D embeddings (the first two output coordinates), coloured by label or by
//! a continuous value, as PNG or SVG (chosen by the file extension), written atomically.

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
    if let Colouring::Labels(l) = colouring {
        if l.len() != embedding.n {
            return Err(Error::param(format!(
                "{} labels for {} points",
                l.len(),
                embedding.n
            )));
        }
    }
    register_font();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let size = (900, 820);
    match ext.as_deref() {
        Some("svg") => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                draw(&root, embedding, colouring, title).map_err(|e| Error::output(path, e))?;
            }
            crate::output::write_bytes(path, svg.as_bytes())
        }
        Some("png") => crate::output::write_atomic_by_name(path, ".png", |tmp| {
            let root = BitMapBackend::new(tmp, size).into_drawing_area();
            draw(&root, embedding, colouring, title)
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

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    e: &Points,
    colouring: &Colouring,
    title: &str,
) -> std::result::Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(err)?;
    let xs: Vec<f32> = (0..e.n).map(|i| e.row(i)[0]).collect();
    let ys: Vec<f32> = (0..e.n).map(|i| e.row(i)[1]).collect();
    let range = |v: &[f32]| {
        let (lo, hi) = v
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let pad = ((hi - lo) * 0.05).max(1e-3);
        (lo - pad)..(hi + pad)
    };
    let caption = match colouring {
        Colouring::Values { name, .. } => format!("{title} — colour: {name}"),
        _ => title.to_string(),
    };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 20))
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(range(&xs), range(&ys))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("output 1")
        .y_desc("output 2")
        .label_style((FONT, 13))
        .draw()
        .map_err(err)?;
    let dot = |x: f32, y: f32, c: RGBColor| Circle::new((x, y), 2, c.mix(0.75).filled());
    match colouring {
        Colouring::Plain => {
            chart
                .draw_series((0..e.n).map(|i| dot(xs[i], ys[i], PALETTE[0])))
                .map_err(err)?;
        }
        Colouring::Labels(labels) => {
            let mut groups: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
            for (i, &l) in labels.iter().enumerate() {
                groups.entry(l).or_default().push(i);
            }
            let legend = groups.len() <= 20;
            for (g, (label, idx)) in groups.iter().enumerate() {
                let c = PALETTE[g % PALETTE.len()];
                let series = chart
                    .draw_series(idx.iter().map(|&i| dot(xs[i], ys[i], c)))
                    .map_err(err)?;
                if legend {
                    series
                        .label(format!("{label} (n={})", idx.len()))
                        .legend(move |(x, y)| Circle::new((x, y), 4, c.filled()));
                }
            }
            if legend {
                chart
                    .configure_series_labels()
                    .label_font((FONT, 14))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .draw()
                    .map_err(err)?;
            }
        }
        Colouring::Values { values, .. } => {
            let mut sorted: Vec<f32> = values.to_vec();
            sorted.sort_by(f32::total_cmp);
            let (lo, hi) = (percentile(&sorted, 0.02), percentile(&sorted, 0.98));
            let span = (hi - lo).max(1e-12) as f64;
            chart
                .draw_series(
                    (0..e.n).map(|i| dot(xs[i], ys[i], cool_warm((values[i] - lo) as f64 / span))),
                )
                .map_err(err)?;
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
}
