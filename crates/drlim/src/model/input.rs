//! What the network takes: the per-sample shape it was trained on, the normalisation, and how
//! a dataset becomes the network's flat input rows (normalised, and for the convnet padded to
//! 32×32 as in the paper).

use serde::{Deserialize, Serialize};

use super::{Architecture, CONV_INPUT_SIDE};
use crate::data::{Dataset, Metric, Normalisation, NormaliseMode, SourceDtype};
use crate::error::{Error, Result};

/// The input side of a model, stored in `config.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Shape of one training sample as read from the file (e.g. `[28, 28]` or `[784]`).
    pub shape: Vec<usize>,
    /// The element type of the training file.
    pub dtype: SourceDtype,
    /// The neighbour graph's metric, applied to each sample before the normalisation (cosine
    /// and correlation scale every sample to unit length; absent from `config.json` for
    /// Euclidean, which leaves samples as they are).
    #[serde(default, skip_serializing_if = "Metric::is_euclidean")]
    pub metric: Metric,
    /// Normalisation fixed by the training data.
    pub normalisation: Normalisation,
}

/// The image side of a conv input of `values` values per sample, if it is one the net takes.
pub(super) fn conv_side(shape: &[usize]) -> Option<usize> {
    match shape {
        [h, w] if h == w && (*h == 28 || *h == CONV_INPUT_SIDE) => Some(*h),
        [784] => Some(28),
        [1024] => Some(CONV_INPUT_SIDE),
        _ => None,
    }
}

impl InputSpec {
    /// Fixes the input side for training `arch` on `data` with the Euclidean metric.
    pub fn for_training(arch: &Architecture, data: &Dataset, mode: NormaliseMode) -> Result<Self> {
        Self::for_training_with(arch, data, mode, Metric::Euclidean)
    }

    /// Fixes the input side for training `arch` on `data` with `metric` (the samples are
    /// read a block at a time: no copy of them is made under the Euclidean metric).
    pub fn for_training_with(
        arch: &Architecture,
        data: &Dataset,
        mode: NormaliseMode,
        metric: Metric,
    ) -> Result<Self> {
        let origin = &data.origin;
        match arch {
            Architecture::Conv { .. } if conv_side(&data.shape).is_none() => {
                return Err(Error::data(
                    origin,
                    format!(
                        "the conv net takes 28×28 (padded to 32×32) or 32×32 single-channel images, but the samples have shape {:?}; use an MLP for vectors",
                        data.shape
                    ),
                ))
            }
            Architecture::Mlp { input_dim, .. } if *input_dim != data.dim() => {
                return Err(Error::data(origin, format!("the MLP takes {input_dim} inputs but the samples have {}", data.dim())))
            }
            _ => {}
        }
        let normalisation = if metric.is_euclidean() {
            Normalisation::fit(mode, data)
        } else {
            let mut values = data.values().into_owned();
            metric.apply_rows(&mut values, data.dim());
            Normalisation::fit_values(mode, &values, data.dim(), data.dtype)
        };
        Ok(Self {
            shape: data.shape.clone(),
            dtype: data.dtype,
            metric,
            normalisation,
        })
    }

    /// The training samples `start..end` of `data` transformed by this spec (metric, then
    /// normalisation; not padded) in `out` (replaced).
    pub fn normalised_into(&self, data: &Dataset, start: usize, end: usize, out: &mut Vec<f32>) {
        data.rows_into(start, end, out);
        self.metric.apply_rows(out, data.dim());
        for row in out.chunks_exact_mut(data.dim()) {
            self.normalisation.apply_in_place(row);
        }
    }

    /// All training samples of `data` transformed by this spec (metric, then normalisation).
    pub fn normalised(&self, data: &Dataset) -> Vec<f32> {
        let mut out = Vec::new();
        self.normalised_into(data, 0, data.n, &mut out);
        out
    }

    /// The normalisation's kind, for messages.
    pub fn normalisation_kind(&self) -> &'static str {
        match self.normalisation {
            crate::data::Normalisation::None => "none",
            crate::data::Normalisation::Scale { .. } => "scale",
            crate::data::Normalisation::Standardise { .. } => "standardise",
        }
    }

    /// Checks a stored spec (from `config.json`) against `arch`: the convnet takes 28×28 or
    /// 32×32 images, an MLP as many inputs as a sample has values, a scale factor is finite,
    /// a standardisation has one finite mean and one positive finite deviation per value.
    /// `Err` holds the problem.
    pub fn check(&self, arch: &Architecture) -> std::result::Result<(), String> {
        let dim = self
            .shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .filter(|&d| d > 0)
            .ok_or_else(|| format!("input shape {:?} is empty or overflows", self.shape))?;
        match arch {
            Architecture::Conv { .. } if conv_side(&self.shape).is_none() => {
                return Err(format!(
                    "the conv net takes 28×28 or 32×32 images, but the input shape is {:?}",
                    self.shape
                ))
            }
            Architecture::Mlp { input_dim, .. } if *input_dim != dim => {
                return Err(format!(
                    "the MLP takes {input_dim} inputs, but the input shape {:?} has {dim} values",
                    self.shape
                ))
            }
            _ => {}
        }
        match &self.normalisation {
            Normalisation::None => Ok(()),
            Normalisation::Scale { factor } if factor.is_finite() => Ok(()),
            Normalisation::Scale { factor } => Err(format!("scale factor {factor} is not finite")),
            Normalisation::Standardise { mean, std } => {
                if mean.len() != dim || std.len() != dim {
                    return Err(format!(
                        "standardisation has {} means and {} deviations for {dim} input values",
                        mean.len(),
                        std.len()
                    ));
                }
                if mean.iter().any(|m| !m.is_finite())
                    || std.iter().any(|s| !(s.is_finite() && *s > 0.0))
                {
                    return Err("standardisation holds a non-finite mean or a deviation ≤ 0".into());
                }
                Ok(())
            }
        }
    }

    /// [`prepare_rows`](Self::prepare_rows) for a block of samples that starts at sample
    /// `first` of `origin` (which errors count from), into `buf` (reused from block to block,
    /// so that no memory is allocated per block): a large input is prepared block by block,
    /// each block while it is in cache, just before the network takes it. The network's rows
    /// are `values` themselves when there is nothing to do (an MLP without normalisation).
    pub fn prepare_block_into<'a>(
        &self,
        arch: &Architecture,
        values: &'a [f32],
        shape: &[usize],
        origin: &str,
        first: usize,
        buf: &'a mut Vec<f32>,
    ) -> Result<&'a [f32]> {
        let dim = self.check_size(values.len(), shape, origin)?;
        crate::data::check_finite(values, dim, first, origin)?;
        let norm = &self.normalisation;
        if !self.metric.is_euclidean() {
            return Ok(self.prepare_with_metric(arch, values, dim, buf));
        }
        match arch {
            Architecture::Mlp { .. } if *norm == Normalisation::None => Ok(values),
            Architecture::Mlp { .. } => {
                buf.clear();
                buf.resize(values.len(), 0.0);
                norm.apply_rows(values, dim, buf);
                Ok(buf)
            }
            Architecture::Conv { .. } => {
                let side = conv_side(&self.shape).expect("checked at training");
                let s = CONV_INPUT_SIDE;
                let off = (s - side) / 2;
                buf.clear();
                buf.resize(values.len() / dim * s * s, 0.0);
                for (img, out) in values.chunks_exact(dim).zip(buf.chunks_exact_mut(s * s)) {
                    for r in 0..side {
                        let dst = &mut out[(r + off) * s + off..(r + off) * s + off + side];
                        norm.apply_into(&img[r * side..(r + 1) * side], r * side, dst);
                    }
                }
                Ok(buf)
            }
        }
    }

    /// [`prepare_block_into`](Self::prepare_block_into) under a cosine or correlation metric:
    /// each sample transformed by the metric, then normalised (and padded for the convnet).
    fn prepare_with_metric<'a>(
        &self,
        arch: &Architecture,
        values: &[f32],
        dim: usize,
        buf: &'a mut Vec<f32>,
    ) -> &'a [f32] {
        let mut rows = values.to_vec();
        self.metric.apply_rows(&mut rows, dim);
        for row in rows.chunks_exact_mut(dim) {
            self.normalisation.apply_in_place(row);
        }
        *buf = self.rows(arch, rows, values.len() / dim);
        buf
    }

    /// Values per sample.
    pub fn dim(&self) -> usize {
        self.shape.iter().product()
    }

    /// The network's input rows for `data`: checked against the training shape, normalised,
    /// padded for the convnet.
    pub fn prepare(&self, arch: &Architecture, data: &Dataset) -> Result<Vec<f32>> {
        self.prepare_rows(arch, &data.values(), &data.shape, &data.origin)
            .map(|rows| rows.into_owned())
    }

    /// Checks that `len` values are whole samples of `shape` (at least one) with as many values
    /// as the training samples had; returns the values per sample. Errors name `origin`.
    pub fn check_size(&self, len: usize, shape: &[usize], origin: &str) -> Result<usize> {
        let dim: usize = shape.iter().product();
        if dim != self.dim() {
            return Err(Error::data(
                origin,
                format!(
                    "samples have {dim} values (shape {shape:?}) but the model was trained on {} (shape {:?})",
                    self.dim(),
                    self.shape
                ),
            ));
        }
        if len == 0 || !len.is_multiple_of(dim) {
            return Err(Error::data(
                origin,
                format!(
                    "{} values are not whole samples of {dim} (shape {shape:?})",
                    len
                ),
            ));
        }
        Ok(dim)
    }

    /// [`prepare`](Self::prepare) for samples of `shape` held in `values` (row-major, checked
    /// finite here), borrowed: the rows are `values` themselves when there is nothing to do
    /// (an MLP without normalisation). Errors name `origin`.
    pub fn prepare_rows<'a>(
        &self,
        arch: &Architecture,
        values: &'a [f32],
        shape: &[usize],
        origin: &str,
    ) -> Result<std::borrow::Cow<'a, [f32]>> {
        let mut buf = Vec::new();
        let rows = self.prepare_block_into(arch, values, shape, origin, 0, &mut buf)?;
        // borrowed when there was nothing to do
        let borrowed = std::ptr::eq(rows.as_ptr(), values.as_ptr()) && rows.len() == values.len();
        Ok(if borrowed {
            std::borrow::Cow::Borrowed(values)
        } else {
            std::borrow::Cow::Owned(buf)
        })
    }

    /// The network's input rows for `n` samples already normalised by this spec: as they are
    /// for an MLP, padded to 32×32 for the convnet.
    pub fn rows(&self, arch: &Architecture, normalised: Vec<f32>, n: usize) -> Vec<f32> {
        match arch {
            Architecture::Mlp { .. } => normalised,
            Architecture::Conv { .. } => {
                let side = conv_side(&self.shape).expect("checked at training");
                pad_images(&normalised, n, side)
            }
        }
    }
}

/// The (height, width) of the network's input rows when they are images, for transformations
/// that move pixels: the padded 32×32 input of the convnet, or the samples' own `[h, w]` for an
/// MLP on images; `None` for vectors.
pub fn input_image(arch: &Architecture, sample_shape: &[usize]) -> Option<(usize, usize)> {
    match (arch, sample_shape) {
        (Architecture::Conv { .. }, _) => Some((CONV_INPUT_SIDE, CONV_INPUT_SIDE)),
        // an MLP trained through a PCA front takes coordinates, not the image's pixels
        (Architecture::Mlp { input_dim, .. }, [h, w]) if h * w == *input_dim => Some((*h, *w)),
        _ => None,
    }
}

/// Zero-pads square images of `side` to 32×32, centred (28 → 2 pixels on each side).
pub fn pad_images(values: &[f32], n: usize, side: usize) -> Vec<f32> {
    let s = CONV_INPUT_SIDE;
    if side == s {
        return values.to_vec();
    }
    let off = (s - side) / 2;
    let mut out = vec![0f32; n * s * s];
    for i in 0..n {
        let img = &values[i * side * side..(i + 1) * side * side];
        let dst = &mut out[i * s * s..(i + 1) * s * s];
        for r in 0..side {
            dst[(r + off) * s + off..(r + off) * s + off + side]
                .copy_from_slice(&img[r * side..(r + 1) * side]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_rows_are_images_for_the_convnet_and_for_an_mlp_on_images() {
        let conv = Architecture::Conv { dim: 2 };
        let mlp = Architecture::Mlp {
            input_dim: 784,
            hidden: vec![8],
            dim: 2,
        };
        assert_eq!(input_image(&conv, &[28, 28]), Some((32, 32)));
        assert_eq!(input_image(&mlp, &[28, 28]), Some((28, 28)));
        assert_eq!(input_image(&mlp, &[784]), None);
    }

    #[test]
    fn pads_28_to_32_centred() {
        let img: Vec<f32> = (0..784).map(|v| v as f32).collect();
        let out = pad_images(&img, 1, 28);
        assert_eq!(out.len(), 1024);
        assert_eq!(out[0], 0.0);
        assert_eq!(out[2 * 32 + 2], 0.0); // img[0] = 0
        assert_eq!(out[2 * 32 + 3], 1.0);
        assert_eq!(out[29 * 32 + 29], 783.0);
        assert_eq!(out[30 * 32 + 30], 0.0);
    }

    #[test]
    fn conv_rejects_wrong_image_sizes_and_models_reject_other_dims() {
        let d = Dataset::new(
            "x.npy",
            vec![0.0; 2 * 900],
            2,
            vec![30, 30],
            SourceDtype::U8,
        )
        .unwrap();
        let e = InputSpec::for_training(&Architecture::Conv { dim: 2 }, &d, NormaliseMode::Auto)
            .unwrap_err();
        assert!(
            e.to_string().starts_with("x.npy: the conv net takes 28×28"),
            "{e}"
        );
        let ok = Dataset::new("x", vec![0.0; 784], 1, vec![28, 28], SourceDtype::U8).unwrap();
        let spec =
            InputSpec::for_training(&Architecture::Conv { dim: 2 }, &ok, NormaliseMode::Auto)
                .unwrap();
        let e = spec
            .prepare(&Architecture::Conv { dim: 2 }, &d.named("new.npy"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("new.npy: samples have 900 values"), "{e}");
    }
}
