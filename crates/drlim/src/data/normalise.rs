//! Input normalisation: decided once from the training data, stored in the model's
//! `config.json`, and applied unchanged to every dataset the model embeds.

use serde::{Deserialize, Serialize};

use super::{Dataset, SourceDtype};

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
        match mode {
            NormaliseMode::None => Normalisation::None,
            NormaliseMode::Unit => Normalisation::Scale {
                factor: 1.0 / 255.0,
            },
            NormaliseMode::Auto if data.dtype == SourceDtype::U8 => Normalisation::Scale {
                factor: 1.0 / 255.0,
            },
            NormaliseMode::Auto => Normalisation::None,
            NormaliseMode::Standardise => {
                let d = data.dim();
                let mut mean = vec![0f64; d];
                let mut sq = vec![0f64; d];
                for i in 0..data.n {
                    for (j, &v) in data.row(i).iter().enumerate() {
                        mean[j] += v as f64;
                        sq[j] += (v as f64) * (v as f64);
                    }
                }
                let n = data.n as f64;
                let mean: Vec<f64> = mean.iter().map(|m| m / n).collect();
                let std = sq
                    .iter()
                    .zip(&mean)
                    .map(|(s, m)| {
                        let var = (s / n - m * m).max(0.0);
                        if var > 1e-12 {
                            var.sqrt() as f32
                        } else {
                            1.0
                        }
                    })
                    .collect();
                Normalisation::Standardise {
                    mean: mean.into_iter().map(|m| m as f32).collect(),
                    std,
                }
            }
        }
    }

    /// Returns the normalised values of `data` (same layout).
    pub fn apply(&self, data: &Dataset) -> Vec<f32> {
        let d = data.dim();
        let mut out = vec![0f32; data.values.len()];
        for (src, dst) in data.values.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
            self.apply_into(src, 0, dst);
        }
        out
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
}
