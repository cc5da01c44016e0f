//! The distance in input space that the k-nearest-neighbour graph is built with, as a per-sample
//! transformation: cosine distance ranks neighbours as the Euclidean distance between unit
//! vectors does (‖a − b‖² = 2 − 2·cos(a, b) for unit a, b), and correlation distance as the
//! Euclidean distance between centred unit vectors. The transformation is stored in the model
//! and applied to every sample the network maps, so that the map, like the metric, ignores each
//! sample's length (and, for correlation, its mean): new samples are placed as the graph's
//! samples were.

use serde::{Deserialize, Serialize};

/// The input-space metric of the neighbour graph.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// ‖a − b‖₂ on the (normalised) samples as they are.
    #[default]
    Euclidean,
    /// 1 − cos(a, b): each sample is scaled to unit length first (a zero sample stays zero).
    Cosine,
    /// 1 − Pearson correlation of the sample's values: each sample is centred on its own mean,
    /// then scaled to unit length (a constant sample becomes zero).
    Correlation,
}

impl Metric {
    /// Whether this is the Euclidean metric (samples used as they are).
    pub fn is_euclidean(&self) -> bool {
        *self == Metric::Euclidean
    }

    /// The metric's name, as the CLI and Python spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Euclidean => "euclidean",
            Metric::Cosine => "cosine",
            Metric::Correlation => "correlation",
        }
    }

    /// The metric of a name (`euclidean`, `cosine`, `correlation`).
    pub fn parse(name: &str) -> Option<Metric> {
        [Metric::Euclidean, Metric::Cosine, Metric::Correlation]
            .into_iter()
            .find(|m| m.name() == name)
    }

    /// Transforms one sample in place (nothing for Euclidean).
    pub fn apply_row(&self, row: &mut [f32]) {
        if *self == Metric::Correlation && !row.is_empty() {
            let mean = row.iter().map(|&v| v as f64).sum::<f64>() / row.len() as f64;
            row.iter_mut().for_each(|v| *v = (*v as f64 - mean) as f32);
        }
        if *self != Metric::Euclidean {
            let norm = row
                .iter()
                .map(|&v| (v as f64) * (v as f64))
                .sum::<f64>()
                .sqrt();
            if norm > 0.0 {
                let inv = (1.0 / norm) as f32;
                row.iter_mut().for_each(|v| *v *= inv);
            }
        }
    }

    /// Transforms every sample of `values` (rows of `dim`) in place.
    pub fn apply_rows(&self, values: &mut [f32], dim: usize) {
        if *self != Metric::Euclidean {
            values
                .chunks_exact_mut(dim)
                .for_each(|row| self.apply_row(row));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_scales_to_unit_length_and_correlation_centres_first() {
        let mut a = vec![3.0, 4.0];
        Metric::Cosine.apply_row(&mut a);
        assert_eq!(a, vec![0.6, 0.8]);
        let mut b = vec![1.0, 2.0, 3.0];
        Metric::Correlation.apply_row(&mut b);
        let s = 0.5f32.sqrt();
        assert!((b[0] + s).abs() < 1e-6 && b[1].abs() < 1e-6 && (b[2] - s).abs() < 1e-6);
        let mut zero = vec![0.0; 3];
        Metric::Cosine.apply_row(&mut zero);
        assert_eq!(zero, vec![0.0; 3], "a zero sample stays zero");
        let mut flat = vec![2.0; 3];
        Metric::Correlation.apply_row(&mut flat);
        assert_eq!(flat, vec![0.0; 3], "a constant sample becomes zero");
        let mut e = vec![3.0, 4.0];
        Metric::Euclidean.apply_row(&mut e);
        assert_eq!(e, vec![3.0, 4.0]);
    }

    #[test]
    fn names_round_trip() {
        for m in [Metric::Euclidean, Metric::Cosine, Metric::Correlation] {
            assert_eq!(Metric::parse(m.name()), Some(m));
        }
        assert_eq!(Metric::parse("manhattan"), None);
    }
}
