//! Input normalisation: decided once from the training data, stored in the model's
//! `config.json`, and applied unchanged to every dataset the model embeds.

use serde::{Deserialize, Serialize};

use super::{Dataset, Samples, SourceDtype};

/// How to choose the normalisation when fitting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormaliseMode {
    /// u8 data is divided by 255 (pixels to [0, 1]); float data is used as it is.
    Auto,
    /// Values are used as they are.
    None,
    /// Every value is divided by 255.
    Unit,
    /// Each feature is centred and scaled to unit variance (statistics of the training data).
    Standardise,
    /// Each feature is centred, and every value divided by one scale, the root mean square of
    /// the centred values: the samples' distances keep their proportions (the neighbours are
    /// those of the data as given, whatever its units or offsets), and the network's inputs
    /// have unit variance on average. Multiplying the data by a constant or adding one to a
    /// feature changes nothing the network sees.
    Global,
}

/// A normalisation fixed by the training data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Normalisation {
    /// x is used as it is.
    None,
    /// x · factor.
    Scale {
        /// The multiplier (1/255 for pixels).
        factor: f32,
    },
    /// (x − mean) / std, per feature.
    Standardise {
        /// Per-feature means of the training data.
        mean: Vec<f32>,
        /// Per-feature standard deviations (1 where a feature is constant).
        std: Vec<f32>,
    },
}

impl Normalisation {
    /// Decides the normalisation for training data.
    pub fn fit(mode: NormaliseMode, data: &Dataset) -> Self {
        match data.samples() {
            Samples::Floats(values) => Self::fit_values(mode, values, data.dim(), data.dtype),
            // the moments a block at a time, without a float copy of the whole data
            Samples::Bytes(_) => {
                let mut moments = Moments::new(data.dim());
                let mut block = Vec::new();
                for start in (0..data.n).step_by(BLOCK_ROWS) {
                    data.rows_into(start, (start + BLOCK_ROWS).min(data.n), &mut block);
                    moments.add(&block);
                }
                Self::fit_moments(mode, data.dtype, || moments.finish())
            }
        }
    }

    /// Decides the normalisation for training samples held in `values` (rows of `dim`, stored
    /// on disk as `dtype`).
    pub fn fit_values(mode: NormaliseMode, values: &[f32], dim: usize, dtype: SourceDtype) -> Self {
        Self::fit_moments(mode, dtype, || {
            let mut moments = Moments::new(dim);
            moments.add(values);
            moments.finish()
        })
    }

    /// The normalisation of `mode` for data stored as `dtype`, with the per-feature means
    /// and variances from `moments` where the mode needs them.
    fn fit_moments(
        mode: NormaliseMode,
        dtype: SourceDtype,
        moments: impl FnOnce() -> (Vec<f64>, Vec<f64>),
    ) -> Self {
        match mode {
            NormaliseMode::None => Normalisation::None,
            NormaliseMode::Unit => Normalisation::Scale {
                factor: 1.0 / 255.0,
            },
            NormaliseMode::Auto if dtype == SourceDtype::U8 => Normalisation::Scale {
                factor: 1.0 / 255.0,
            },
            NormaliseMode::Auto => Normalisation::None,
            NormaliseMode::Standardise => {
                let (mean, var) = moments();
                let std = var
                    .iter()
                    .map(|&v| if v > 1e-12 { v.sqrt() as f32 } else { 1.0 })
                    .collect();
                Normalisation::Standardise {
                    mean: mean.into_iter().map(|m| m as f32).collect(),
                    std,
                }
            }
            NormaliseMode::Global => {
                let (mean, var) = moments();
                let dim = var.len().max(1);
                let rms = (var.iter().sum::<f64>() / dim as f64).sqrt();
                let scale = if rms > 1e-12 && rms.is_finite() {
                    rms as f32
                } else {
                    1.0
                };
                Normalisation::Standardise {
                    mean: mean.into_iter().map(|m| m as f32).collect(),
                    std: vec![scale; dim],
                }
            }
        }
    }

    /// Returns the normalised values of `data` (same layout).
    pub fn apply(&self, data: &Dataset) -> Vec<f32> {
        let d = data.dim();
        let mut out = vec![0f32; data.n * d];
        let mut block = Vec::new();
        for (b, dst) in out.chunks_mut(BLOCK_ROWS * d).enumerate() {
            let start = b * BLOCK_ROWS;
            data.rows_into(start, start + dst.len() / d, &mut block);
            self.apply_rows(&block, d, dst);
        }
        out
    }

    /// Writes the normalised samples of `src` (rows of `dim`) into `dst` (as long).
    pub fn apply_rows(&self, src: &[f32], dim: usize, dst: &mut [f32]) {
        for (s, d) in src.chunks_exact(dim).zip(dst.chunks_exact_mut(dim)) {
            self.apply_into(s, 0, d);
        }
    }

    /// Whether the Euclidean nearest neighbours of the normalised samples are those of the
    /// samples as given: one scale for every feature (a shift per feature does not matter).
    pub fn keeps_neighbours(&self) -> bool {
        match self {
            Normalisation::None | Normalisation::Scale { .. } => true,
            Normalisation::Standardise { std, .. } => std.windows(2).all(|w| w[0] == w[1]),
        }
    }

    /// Normalises one whole sample in place.
    pub fn apply_in_place(&self, row: &mut [f32]) {
        match self {
            Normalisation::None => {}
            Normalisation::Scale { factor } => row.iter_mut().for_each(|v| *v *= factor),
            Normalisation::Standardise { mean, std } => {
                for ((v, m), s) in row.iter_mut().zip(mean).zip(std) {
                    *v = (*v - m) / s;
                }
            }
        }
    }

    /// Writes the normalised `src` into `dst` (of the same length), `src` being the values of
    /// one sample from feature `feature` on.
    pub fn apply_into(&self, src: &[f32], feature: usize, dst: &mut [f32]) {
        match self {
            Normalisation::None => dst.copy_from_slice(src),
            Normalisation::Scale { factor } => {
                for (d, v) in dst.iter_mut().zip(src) {
                    *d = v * factor;
                }
            }
            Normalisation::Standardise { mean, std } => {
                let (mean, std) = (&mean[feature..], &std[feature..]);
                for (((d, v), m), s) in dst.iter_mut().zip(src).zip(mean).zip(std) {
                    *d = (v - m) / s;
                }
            }
        }
    }
}

/// Rows per block where byte samples are read as floats.
const BLOCK_ROWS: usize = 4096;

/// Per-feature sums of values and squares, added up block after block.
struct Moments {
    n: usize,
    sum: Vec<f64>,
    sq: Vec<f64>,
}

impl Moments {
    fn new(dim: usize) -> Self {
        Self {
            n: 0,
            sum: vec![0.0; dim],
            sq: vec![0.0; dim],
        }
    }

    fn add(&mut self, values: &[f32]) {
        let dim = self.sum.len();
        for row in values.chunks_exact(dim) {
            self.n += 1;
            for ((s, q), &v) in self.sum.iter_mut().zip(&mut self.sq).zip(row) {
                *s += v as f64;
                *q += (v as f64) * (v as f64);
            }
        }
    }

    /// Per-feature means and (population) variances.
    fn finish(self) -> (Vec<f64>, Vec<f64>) {
        let n = self.n.max(1) as f64;
        let mean: Vec<f64> = self.sum.iter().map(|m| m / n).collect();
        let var = self
            .sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| (s / n - m * m).max(0.0))
            .collect();
        (mean, var)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_scales_bytes_and_standardise_centres() {
        let u8s = Dataset::new("x", vec![0.0, 255.0], 1, vec![2], SourceDtype::U8).unwrap();
        let n = Normalisation::fit(NormaliseMode::Auto, &u8s);
        assert_eq!(n.apply(&u8s), vec![0.0, 1.0]);
        let f = Dataset::new("x", vec![1.0, 5.0, 3.0, 5.0], 2, vec![2], SourceDtype::F32).unwrap();
        assert_eq!(
            Normalisation::fit(NormaliseMode::Auto, &f),
            Normalisation::None
        );
        let s = Normalisation::fit(NormaliseMode::Standardise, &f);
        assert_eq!(s.apply(&f), vec![-1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn global_centres_each_feature_and_divides_by_one_scale() {
        // features on scales 1 and 1000, one with an offset
        let v = vec![1.0, 5000.0, 3.0, 7000.0];
        let f = Dataset::new("x", v.clone(), 2, vec![2], SourceDtype::F32).unwrap();
        let g = Normalisation::fit(NormaliseMode::Global, &f);
        let rms = ((1.0f64 + 1e6) / 2.0).sqrt() as f32;
        assert_eq!(
            g,
            Normalisation::Standardise {
                mean: vec![2.0, 6000.0],
                std: vec![rms, rms]
            }
        );
        // a multiple of the data, shifted, is normalised to the same values (up to rounding)
        let w: Vec<f32> = v.iter().map(|x| 1000.0 * x + 12.0).collect();
        let f2 = Dataset::new("x", w, 2, vec![2], SourceDtype::F32).unwrap();
        let a = g.apply(&f);
        let b = Normalisation::fit(NormaliseMode::Global, &f2).apply(&f2);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-4, "{a:?} {b:?}");
        }
        let constant = Dataset::new("x", vec![4.0; 4], 2, vec![2], SourceDtype::F32).unwrap();
        assert_eq!(
            Normalisation::fit(NormaliseMode::Global, &constant).apply(&constant),
            vec![0.0; 4]
        );
    }
}
