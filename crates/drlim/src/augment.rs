//! Declared invariances: transformations that leave a sample's meaning unchanged, applied on the
//! fly to the arms of the training pairs (a freshly drawn transformed copy of a sample is its
//! neighbour, as the paper's shifted digits are in §4.2, but drawn anew at every step instead of
//! stored).
//!
//! Images (any h × w grid, grey): a random affine map (shift, rotation, scaling, shear), an
//! elastic deformation (random displacements on a coarse 4 × 4 grid of control points,
//! interpolated over the image), and a contrast change; pixels are resampled bilinearly and
//! pixels from outside the frame take the image's background (the mean of its border pixels).
//! Vectors (and images): Gaussian noise and feature dropout.
//!
//! Every transformed copy is drawn from its own random stream, derived from the training seed
//! and the copy's position in the run, so a seed gives the same copies whatever the number of
//! threads.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Strengths of each transformation; 0 turns one off. Each copy draws every parameter
/// uniformly within ± its strength.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Augmentation {
    /// Largest shift in pixels, along each axis.
    pub shift: f32,
    /// Largest rotation in degrees.
    pub rotate: f32,
    /// Largest relative change of size (0.1: 90% to 110%).
    pub scale: f32,
    /// Largest horizontal shear (pixels moved sideways per pixel of height).
    pub shear: f32,
    /// Largest elastic displacement in pixels of the 4 × 4 control points.
    pub elastic: f32,
    /// Largest relative contrast change around the background (0.2: 80% to 120%).
    pub contrast: f32,
    /// Standard deviation of added Gaussian noise (in normalised units).
    pub noise: f32,
    /// Probability of setting each value to 0.
    pub dropout: f32,
}

/// The names `parse` accepts, in order, with their meaning (for help texts).
pub const AUGMENTATION_KEYS: [(&str, &str); 8] = [
    ("shift", "largest shift in pixels along each axis"),
    ("rotate", "largest rotation in degrees"),
    ("scale", "largest relative change of size"),
    ("shear", "largest horizontal shear"),
    (
        "elastic",
        "largest elastic displacement in pixels (4×4 control points)",
    ),
    ("contrast", "largest relative contrast change"),
    ("noise", "standard deviation of Gaussian noise"),
    ("dropout", "probability of zeroing each value"),
];

impl Augmentation {
    /// Parses `key=value,key=value,…` with the keys of [`AUGMENTATION_KEYS`].
    pub fn parse(spec: &str) -> Result<Self> {
        let mut a = Self::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                Error::param(format!(
                    "augmentation '{part}' must be KEY=VALUE (keys: {})",
                    key_list()
                ))
            })?;
            let v: f32 = value.trim().parse().map_err(|_| {
                Error::param(format!("augmentation {key}: '{value}' is not a number"))
            })?;
            let slot = match key.trim() {
                "shift" => &mut a.shift,
                "rotate" => &mut a.rotate,
                "scale" => &mut a.scale,
                "shear" => &mut a.shear,
                "elastic" => &mut a.elastic,
                "contrast" => &mut a.contrast,
                "noise" => &mut a.noise,
                "dropout" => &mut a.dropout,
                other => {
                    return Err(Error::param(format!(
                        "unknown augmentation '{other}' (keys: {})",
                        key_list()
                    )))
                }
            };
            *slot = v;
        }
        a.validate()?;
        Ok(a)
    }

    /// Checks every strength, naming the first out of range.
    pub fn validate(&self) -> Result<()> {
        let checks: [(&str, f32, f32); 8] = [
            ("shift", self.shift, f32::INFINITY),
            ("rotate", self.rotate, 180.0),
            ("scale", self.scale, 0.9),
            ("shear", self.shear, 2.0),
            ("elastic", self.elastic, f32::INFINITY),
            ("contrast", self.contrast, 1.0),
            ("noise", self.noise, f32::INFINITY),
            ("dropout", self.dropout, 0.99),
        ];
        for (name, v, max) in checks {
            if !(v.is_finite() && v >= 0.0 && v <= max) {
                return Err(Error::param(format!(
                    "augmentation {name} must be between 0 and {max}, got {v}"
                )));
            }
        }
        Ok(())
    }

    /// Whether some transformation moves pixels (and so needs an image shape).
    pub fn is_geometric(&self) -> bool {
        self.shift > 0.0
            || self.rotate > 0.0
            || self.scale > 0.0
            || self.shear > 0.0
            || self.elastic > 0.0
    }

    /// Every strength times `factor`: the same transformations, milder (factor < 1) or
    /// stronger.
    pub fn scaled(&self, factor: f32) -> Self {
        Self {
            shift: self.shift * factor,
            rotate: self.rotate * factor,
            scale: self.scale * factor,
            shear: self.shear * factor,
            elastic: self.elastic * factor,
            contrast: self.contrast * factor,
            noise: self.noise * factor,
            dropout: self.dropout * factor,
        }
    }

    /// Whether every strength is 0 (copies equal the sample).
    pub fn is_identity(&self) -> bool {
        *self == Self::default()
    }

    /// The setting as `parse` reads it (non-zero strengths only).
    pub fn describe(&self) -> String {
        let values = [
            self.shift,
            self.rotate,
            self.scale,
            self.shear,
            self.elastic,
            self.contrast,
            self.noise,
            self.dropout,
        ];
        let parts: Vec<String> = AUGMENTATION_KEYS
            .iter()
            .zip(values)
            .filter(|(_, v)| *v > 0.0)
            .map(|((k, _), v)| format!("{k}={v}"))
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(",")
        }
    }
}

fn key_list() -> String {
    AUGMENTATION_KEYS
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One drawn geometric transformation, in pixels and radians.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    /// Shift right.
    pub dx: f32,
    /// Shift down.
    pub dy: f32,
    /// Rotation, counter-clockwise as seen on screen.
    pub angle: f32,
    /// Size factor (1: unchanged).
    pub scale: f32,
    /// Horizontal shear.
    pub shear: f32,
}

impl Affine {
    /// The transformation that leaves an image as it is.
    pub const IDENTITY: Affine = Affine {
        dx: 0.0,
        dy: 0.0,
        angle: 0.0,
        scale: 1.0,
        shear: 0.0,
    };
}

/// Side of the elastic control grid.
const GRID: usize = 4;

/// Elastic displacements ([dx, dy] in pixels) at the 4 × 4 control points.
pub type ElasticGrid = [[f32; 2]; GRID * GRID];

/// No elastic displacement.
pub const NO_ELASTIC: ElasticGrid = [[0.0; 2]; GRID * GRID];

/// Applies transformations to rows of a fixed layout.
#[derive(Clone, Debug)]
pub struct Augmenter {
    aug: Augmentation,
    /// (height, width) when rows are images.
    image: Option<(usize, usize)>,
    seed: u64,
}

impl Augmenter {
    /// An augmenter for rows that are `image` = (h, w) grids, or plain vectors (`None`).
    /// Geometric transformations need an image shape.
    pub fn new(aug: Augmentation, image: Option<(usize, usize)>, seed: u64) -> Result<Self> {
        aug.validate()?;
        if aug.is_geometric() && image.is_none() {
            return Err(Error::param(format!(
                "augmentation {} moves pixels, but the samples are vectors, not images; use noise and dropout for vectors",
                aug.describe()
            )));
        }
        Ok(Self { aug, image, seed })
    }

    /// The strengths.
    pub fn augmentation(&self) -> &Augmentation {
        &self.aug
    }

    /// The same augmenter (image shape, seed, random streams) with every strength times
    /// `factor` in [0, 1].
    pub fn scaled(&self, factor: f32) -> Self {
        Self {
            aug: self.aug.scaled(factor),
            ..self.clone()
        }
    }

    /// Transforms each row of `rows` (`row_len` values each) in place; row r uses the random
    /// stream numbered `first_stream + r`, so the result depends on the streams, not on threads.
    pub fn apply_rows(&self, rows: &mut [f32], row_len: usize, first_stream: u64) {
        self.apply_rows_where(rows, row_len, first_stream, |_| true);
    }

    /// As [`apply_rows`](Self::apply_rows), but only the rows r with `select(r)`; the others
    /// stay as they are (row r keeps stream `first_stream + r` either way).
    pub fn apply_rows_where(
        &self,
        rows: &mut [f32],
        row_len: usize,
        first_stream: u64,
        select: impl Fn(usize) -> bool + Sync,
    ) {
        if self.aug.is_identity() {
            return;
        }
        rows.par_chunks_mut(row_len)
            .with_min_len(8)
            .enumerate()
            .filter(|(r, _)| select(*r))
            .for_each_init(
                || vec![0f32; row_len],
                |scratch, (r, row)| {
                    let mut rng = self.stream(first_stream + r as u64);
                    self.apply(row, scratch, &mut rng);
                },
            );
    }

    fn stream(&self, n: u64) -> ChaCha8Rng {
        // splitmix64 of the stream number, mixed with the seed
        let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ChaCha8Rng::seed_from_u64(self.seed.rotate_left(17) ^ z)
    }

    fn apply(&self, row: &mut [f32], scratch: &mut [f32], rng: &mut ChaCha8Rng) {
        let a = &self.aug;
        let mut sym = |s: f32| {
            if s > 0.0 {
                rng.random_range(-s..=s)
            } else {
                0.0
            }
        };
        let affine = Affine {
            dx: sym(a.shift),
            dy: sym(a.shift),
            angle: sym(a.rotate).to_radians(),
            scale: 1.0 + sym(a.scale),
            shear: sym(a.shear),
        };
        let contrast = 1.0 + sym(a.contrast);
        let mut grid = NO_ELASTIC;
        if a.elastic > 0.0 {
            for g in &mut grid {
                *g = [sym(a.elastic), sym(a.elastic)];
            }
        }
        let background = match self.image {
            Some((h, w)) => {
                let bg = border_mean(row, h, w);
                if a.is_geometric() {
                    warp(row, scratch, h, w, &affine, &grid, bg);
                    row.copy_from_slice(scratch);
                }
                bg
            }
            None => 0.0,
        };
        if a.contrast > 0.0 {
            for v in row.iter_mut() {
                *v = background + (*v - background) * contrast;
            }
        }
        if a.noise > 0.0 {
            for v in row.iter_mut() {
                *v += a.noise * standard_normal(rng);
            }
        }
        if a.dropout > 0.0 {
            for v in row.iter_mut() {
                if rng.random::<f32>() < a.dropout {
                    *v = 0.0;
                }
            }
        }
    }
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = 1.0 - rng.random::<f32>(); // (0, 1]
    let u2: f32 = rng.random::<f32>();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Mean of the pixels on the image's border: the background that fills pixels moved in from
/// outside the frame.
pub fn border_mean(img: &[f32], h: usize, w: usize) -> f32 {
    if h < 2 || w < 2 {
        return img.iter().sum::<f32>() / img.len().max(1) as f32;
    }
    let mut s = 0f32;
    for c in 0..w {
        s += img[c] + img[(h - 1) * w + c];
    }
    for r in 1..h - 1 {
        s += img[r * w] + img[r * w + w - 1];
    }
    s / (2 * w + 2 * (h - 2)) as f32
}

/// Resamples `src` (h × w) into `dst` under `affine` about the image centre plus the elastic
/// displacements of the 4 × 4 control `grid` (pixels, [dx, dy] each, interpolated bilinearly),
/// with bilinear interpolation and `fill` outside the frame.
pub fn warp(
    src: &[f32],
    dst: &mut [f32],
    h: usize,
    w: usize,
    affine: &Affine,
    grid: &ElasticGrid,
    fill: f32,
) {
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    // forward map M = R(angle) · Shear · S(scale) in (x right, y down) image coordinates; a
    // positive angle turns the picture counter-clockwise on screen
    let (s, c) = affine.angle.sin_cos();
    let k = affine.scale;
    // R = [[c, s], [-s, c]] (counter-clockwise with y down), Sh = [[1, shear], [0, 1]]
    let m = [
        [c * k, (c * affine.shear + s) * k],
        [-s * k, (-s * affine.shear + c) * k],
    ];
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    let inv = [
        [m[1][1] / det, -m[0][1] / det],
        [-m[1][0] / det, m[0][0] / det],
    ];
    let elastic = grid.iter().any(|g| g[0] != 0.0 || g[1] != 0.0);
    // the elastic displacement is bilinear in the 4 × 4 control grid: per column, its grid
    // segment and position in it (the same for every row); per row, the control values
    // interpolated to that row, then along the row
    let span = (GRID - 1) as f32;
    let segment = |pos: usize, len: usize| {
        let g = pos as f32 / (len - 1).max(1) as f32 * span;
        let j = (g as usize).min(GRID - 2);
        (j, g - j as f32)
    };
    let columns: Vec<(usize, f32)> = if elastic {
        (0..w).map(|c| segment(c, w)).collect()
    } else {
        Vec::new()
    };
    let mut shift_x = vec![0f32; w];
    let mut shift_y = vec![0f32; w];
    for r in 0..h {
        if elastic {
            let (i, fy) = segment(r, h);
            let mut ctrl = [[0f32; 2]; GRID];
            for (j, c) in ctrl.iter_mut().enumerate() {
                let (top, bottom) = (grid[i * GRID + j], grid[(i + 1) * GRID + j]);
                *c = [
                    top[0] + (bottom[0] - top[0]) * fy,
                    top[1] + (bottom[1] - top[1]) * fy,
                ];
            }
            for (col, &(j, fx)) in columns.iter().enumerate() {
                shift_x[col] = ctrl[j][0] + (ctrl[j + 1][0] - ctrl[j][0]) * fx;
                shift_y[col] = ctrl[j][1] + (ctrl[j + 1][1] - ctrl[j][1]) * fx;
            }
        }
        let y = r as f32 - cy - affine.dy;
        let out = &mut dst[r * w..(r + 1) * w];
        for (col, o) in out.iter_mut().enumerate() {
            let x = col as f32 - cx - affine.dx - shift_x[col];
            let yy = y - shift_y[col];
            let sx = inv[0][0] * x + inv[0][1] * yy + cx;
            let sy = inv[1][0] * x + inv[1][1] * yy + cy;
            *o = bilinear(src, h, w, sx, sy, fill);
        }
    }
}

#[inline]
fn bilinear(src: &[f32], h: usize, w: usize, x: f32, y: f32, fill: f32) -> f32 {
    // floor without a libm call (coordinates are far inside i32's range)
    let floor = |v: f32| {
        let t = v as i32;
        if (t as f32) > v {
            t - 1
        } else {
            t
        }
    };
    let (x0, y0) = (floor(x) as i64, floor(y) as i64);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    if x0 >= 0 && y0 >= 0 && ((x0 + 1) as usize) < w && ((y0 + 1) as usize) < h {
        // all four inside: no checks
        let i = y0 as usize * w + x0 as usize;
        let top = src[i] + (src[i + 1] - src[i]) * fx;
        let bottom = src[i + w] + (src[i + w + 1] - src[i + w]) * fx;
        return top + (bottom - top) * fy;
    }
    let at = |yy: i64, xx: i64| {
        if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
            src[yy as usize * w + xx as usize]
        } else {
            fill
        }
    };
    let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1) * fx;
    let bottom = at(y0 + 1, x0) * (1.0 - fx) + at(y0 + 1, x0 + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warped(img: &[f32], h: usize, w: usize, a: Affine) -> Vec<f32> {
        let mut out = vec![0f32; img.len()];
        warp(img, &mut out, h, w, &a, &NO_ELASTIC, 0.0);
        out
    }

    #[test]
    fn a_shift_moves_pixels_and_fills_with_background() {
        // 3×4 image, one bright pixel at row 1, column 1
        let mut img = vec![0f32; 12];
        img[4 + 1] = 1.0;
        let right = warped(
            &img,
            3,
            4,
            Affine {
                dx: 2.0,
                ..Affine::IDENTITY
            },
        );
        let mut want = vec![0f32; 12];
        want[4 + 3] = 1.0;
        assert_eq!(right, want);
        let up = warped(
            &img,
            3,
            4,
            Affine {
                dy: -1.0,
                ..Affine::IDENTITY
            },
        );
        let mut want = vec![0f32; 12];
        want[1] = 1.0;
        assert_eq!(up, want);
        // a half-pixel shift spreads the pixel over two, bilinearly
        let half = warped(
            &img,
            3,
            4,
            Affine {
                dx: 0.5,
                ..Affine::IDENTITY
            },
        );
        assert!((half[5] - 0.5).abs() < 1e-6 && (half[6] - 0.5).abs() < 1e-6);
        // pixels moved in from outside take the fill value
        let mut out = vec![0f32; 12];
        warp(
            &img,
            &mut out,
            3,
            4,
            &Affine {
                dx: 1.0,
                ..Affine::IDENTITY
            },
            &NO_ELASTIC,
            7.0,
        );
        assert_eq!([out[0], out[4], out[8]], [7.0, 7.0, 7.0]);
    }

    #[test]
    fn a_quarter_turn_keeps_a_fourfold_symmetric_pattern_and_turns_an_asymmetric_one() {
        // a plus sign centred in a 5×5 image is unchanged by 90°
        let mut plus = vec![0f32; 25];
        for i in 0..5 {
            plus[2 * 5 + i] = 1.0;
            plus[i * 5 + 2] = 1.0;
        }
        let quarter = Affine {
            angle: std::f32::consts::FRAC_PI_2,
            ..Affine::IDENTITY
        };
        let turned = warped(&plus, 5, 5, quarter);
        for (a, b) in turned.iter().zip(&plus) {
            assert!((a - b).abs() < 1e-5, "{turned:?}");
        }
        // one pixel right of centre turns (counter-clockwise on screen) to one pixel above it
        let mut dot = vec![0f32; 25];
        dot[2 * 5 + 3] = 1.0;
        let turned = warped(&dot, 5, 5, quarter);
        let top = turned.iter().position(|&v| v > 0.99).unwrap();
        assert_eq!(top, 5 + 2, "{turned:?}");
    }

    #[test]
    fn zero_strength_is_the_identity_and_a_seed_gives_the_same_copies() {
        let img: Vec<f32> = (0..64).map(|v| (v % 7) as f32).collect();
        let same = Augmenter::new(Augmentation::default(), Some((8, 8)), 1).unwrap();
        let mut rows = img.repeat(3);
        same.apply_rows(&mut rows, 64, 0);
        assert_eq!(rows, img.repeat(3));
        // geometric strengths of zero with the scale at exactly 1 resample onto the same grid
        assert_eq!(warped(&img, 8, 8, Affine::IDENTITY), img);

        let aug = Augmentation::parse(
            "shift=2,rotate=10,scale=0.1,shear=0.1,elastic=1,contrast=0.2,noise=0.05,dropout=0.05",
        )
        .unwrap();
        let a = Augmenter::new(aug.clone(), Some((8, 8)), 3).unwrap();
        let mut r1 = img.repeat(4);
        a.apply_rows(&mut r1, 64, 100);
        let mut r2 = img.repeat(4);
        a.apply_rows(&mut r2, 64, 100);
        assert_eq!(r1, r2, "same seed and streams, same copies");
        assert_ne!(r1[..64], r1[64..128], "each row draws its own copy");
        assert_ne!(r1[..64], img[..]);
        // the same stream gives the same copy whatever batch it sits in (threads do not matter)
        let mut one = img.clone();
        a.apply_rows(&mut one, 64, 101);
        assert_eq!(one[..], r1[64..128]);
        // selected rows only, each with its own stream
        let mut some = img.repeat(4);
        a.apply_rows_where(&mut some, 64, 100, |r| r % 2 == 1);
        assert_eq!(some[..64], img[..]);
        assert_eq!(some[64..128], r1[64..128]);
        assert_eq!(some[128..192], img[..]);
        let mut other = img.repeat(4);
        Augmenter::new(aug, Some((8, 8)), 4)
            .unwrap()
            .apply_rows(&mut other, 64, 100);
        assert_ne!(other, r1, "another seed, other copies");
    }

    #[test]
    fn scaling_and_shear_move_pixels_where_the_maps_send_them() {
        // one pixel right of the centre of a 5×5 image; doubling the size sends it two right
        let mut dot = vec![0f32; 25];
        dot[2 * 5 + 3] = 1.0;
        let big = warped(
            &dot,
            5,
            5,
            Affine {
                scale: 2.0,
                ..Affine::IDENTITY
            },
        );
        assert!((big[2 * 5 + 4] - 1.0).abs() < 1e-6, "{big:?}");
        // halving the size pulls a pixel two right of the centre to one right of it
        let mut far = vec![0f32; 25];
        far[2 * 5 + 4] = 1.0;
        let small = warped(
            &far,
            5,
            5,
            Affine {
                scale: 0.5,
                ..Affine::IDENTITY
            },
        );
        assert!((small[2 * 5 + 3] - 1.0).abs() < 1e-6, "{small:?}");
        // a shear of 1 moves a pixel one row below the centre one column right
        let mut low = vec![0f32; 25];
        low[3 * 5 + 2] = 1.0;
        let sheared = warped(
            &low,
            5,
            5,
            Affine {
                shear: 1.0,
                ..Affine::IDENTITY
            },
        );
        assert!((sheared[3 * 5 + 3] - 1.0).abs() < 1e-6, "{sheared:?}");
        // and leaves the centre row alone
        let mut mid = vec![0f32; 25];
        mid[2 * 5 + 1] = 1.0;
        assert_eq!(
            warped(
                &mid,
                5,
                5,
                Affine {
                    shear: 1.0,
                    ..Affine::IDENTITY
                }
            ),
            mid
        );
    }

    #[test]
    fn elastic_displacements_move_pixels_by_the_grid() {
        // a uniform displacement of the whole grid is a shift
        let mut img = vec![0f32; 36];
        img[2 * 6 + 2] = 1.0;
        let grid = [[1.0, 0.0]; GRID * GRID];
        let mut out = vec![0f32; 36];
        warp(&img, &mut out, 6, 6, &Affine::IDENTITY, &grid, 0.0);
        assert!((out[2 * 6 + 3] - 1.0).abs() < 1e-6, "{out:?}");
    }

    #[test]
    fn contrast_noise_and_dropout_act_on_values() {
        let a = Augmenter::new(
            Augmentation::parse("contrast=0.5").unwrap(),
            Some((3, 3)),
            0,
        )
        .unwrap();
        let mut img = vec![0f32; 9];
        img[4] = 1.0;
        a.apply_rows(&mut img, 9, 0);
        assert_eq!(
            img.iter().filter(|&&v| v == 0.0).count(),
            8,
            "background stays"
        );
        assert!(img[4] >= 0.5 && img[4] <= 1.5 && img[4] != 1.0);
        let v = Augmenter::new(Augmentation::parse("dropout=0.5").unwrap(), None, 0).unwrap();
        let mut x = vec![1f32; 1000];
        v.apply_rows(&mut x, 1000, 0);
        let zeros = x.iter().filter(|&&v| v == 0.0).count();
        assert!((400..600).contains(&zeros), "{zeros}");
        let n = Augmenter::new(Augmentation::parse("noise=0.1").unwrap(), None, 0).unwrap();
        let mut x = vec![0f32; 10_000];
        n.apply_rows(&mut x, 10_000, 0);
        let sd = (x.iter().map(|v| v * v).sum::<f32>() / 1e4).sqrt();
        assert!((sd - 0.1).abs() < 0.01, "{sd}");
    }

    #[test]
    fn scaling_multiplies_every_strength() {
        let a = Augmentation::parse(
            "shift=2,rotate=10,scale=0.1,shear=0.1,elastic=1,contrast=0.2,noise=0.05,dropout=0.4",
        )
        .unwrap();
        assert_eq!(a.scaled(1.0), a);
        assert!(a.scaled(0.0).is_identity());
        let half = a.scaled(0.5);
        assert_eq!(
            half,
            Augmentation::parse(
                "shift=1,rotate=5,scale=0.05,shear=0.05,elastic=0.5,contrast=0.1,noise=0.025,dropout=0.2"
            )
            .unwrap()
        );
        // an augmenter scaled to 0 leaves rows as they are
        let img: Vec<f32> = (0..64).map(|i| i as f32).collect();
        let mut rows = img.clone();
        Augmenter::new(a, Some((8, 8)), 3)
            .unwrap()
            .scaled(0.0)
            .apply_rows(&mut rows, 64, 0);
        assert_eq!(rows, img);
    }

    #[test]
    fn bad_specs_are_named() {
        let e = Augmentation::parse("shfit=2").unwrap_err().to_string();
        assert!(e.contains("unknown augmentation 'shfit'"), "{e}");
        let e = Augmentation::parse("rotate=x").unwrap_err().to_string();
        assert!(e.contains("rotate"), "{e}");
        assert!(Augmentation::parse("dropout=1.5").is_err());
        assert!(Augmentation::parse("shift=-1").is_err());
        let e = Augmenter::new(Augmentation::parse("shift=2").unwrap(), None, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("vectors"), "{e}");
        assert_eq!(
            Augmentation::parse("shift=2,rotate=10").unwrap().describe(),
            "shift=2,rotate=10"
        );
    }
}
