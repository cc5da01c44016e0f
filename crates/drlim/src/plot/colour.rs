//! How points are coloured: by label (a fixed palette), by a continuous value (cool–warm,
//! 2nd–98th percentile) or by an angle.

use std::collections::BTreeMap;

use plotters::prelude::*;

use crate::error::{Error, Result};

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
    pub(super) fn colours(&self, n: usize) -> (Vec<RGBColor>, Vec<(String, RGBColor)>) {
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

    pub(super) fn caption(&self, title: &str) -> String {
        match self {
            Colouring::Values { name, .. } => format!("{title} — colour: {name}"),
            Colouring::Cyclic { name, .. } => format!("{title} — colour: {name} (colour wheel)"),
            _ => title.to_string(),
        }
    }

    pub(super) fn check(&self, n: usize) -> Result<()> {
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

pub(super) const PALETTE: [RGBColor; 10] = [
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

pub(super) fn percentile(sorted: &[f32], q: f64) -> f32 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

pub(super) fn cool_warm(t: f64) -> RGBColor {
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
