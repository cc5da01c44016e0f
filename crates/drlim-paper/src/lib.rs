//! # drlim-paper — the DrLIM paper's experiments on built-in data
//!
//! Everything that reproduces and measures Hadsell, Chopra & LeCun (2006) on top of the
//! [`drlim`] engine, kept out of the engine so that a library user who only fits and embeds
//! compiles none of it: the built-in MNIST sample (10,000 digits, see
//! `assets/mnist-10k/README.md`, embedded so that the experiments run with no download), the
//! airplane renderer ([`render`]), one module per experiment ([`mnist_4_9`], [`mnist_shift`],
//! [`airplane`], and [`mnist_10`] beyond the paper) with its defaults, targets and report, the
//! [`registry`] that lists them once for the CLI, and the throughput benchmarks ([`bench`]).

#![warn(missing_docs)]

pub mod airplane;
pub mod bench;
pub mod interactive;
pub mod many_digits;
pub mod mnist_10;
pub mod mnist_4_9;
pub mod mnist_shift;
pub mod registry;
pub mod render;
pub mod scored;

use drlim::data::{idx_from_bytes, idx_labels_from_bytes, Dataset};
use drlim::Result;

static MNIST_IMAGES: &[u8] = include_bytes!("../assets/mnist-10k/images-idx3-ubyte.gz");
static MNIST_LABELS: &[u8] = include_bytes!("../assets/mnist-10k/labels-idx1-ubyte.gz");

/// What a report says of its figures: `reading`, which was written looking at the default
/// run's figures, when this run's metrics are in the range that makes it hold too
/// (`like_default`); otherwise a warning to look at the figures first.
pub(crate) fn figure_reading(like_default: bool, reading: &str) -> &str {
    if like_default {
        reading
    } else {
        "This run's metrics differ from the default run's, whose figures were described; look at the figures before reading them the same way.\n"
    }
}

/// The built-in 10,000 MNIST digits (u8, 28×28) and their labels.
pub fn builtin_mnist() -> Result<(Dataset, Vec<i64>)> {
    let images = idx_from_bytes("built-in images-idx3-ubyte.gz", MNIST_IMAGES)?;
    let labels = idx_labels_from_bytes("built-in labels-idx1-ubyte.gz", MNIST_LABELS)?;
    Ok((images, labels))
}

/// Slant of each 28×28 image from its second-order moments, μ11/μ02 (the horizontal shear per
/// row used for MNIST deskewing); positive when the top of the digit leans right.
pub fn slant(images: &Dataset) -> Vec<f32> {
    let (h, w) = (images.shape[0], images.shape[images.shape.len() - 1]);
    (0..images.n)
        .map(|i| {
            let img = images.row(i);
            let (mut m, mut r0, mut c0) = (0f64, 0f64, 0f64);
            for r in 0..h {
                for c in 0..w {
                    let v = img[r * w + c] as f64;
                    m += v;
                    r0 += v * r as f64;
                    c0 += v * c as f64;
                }
            }
            if m == 0.0 {
                return 0.0;
            }
            let (r0, c0) = (r0 / m, c0 / m);
            let (mut mu11, mut mu02) = (0f64, 0f64);
            for r in 0..h {
                for c in 0..w {
                    let v = img[r * w + c] as f64;
                    mu11 += v * (r as f64 - r0) * (c as f64 - c0);
                    mu02 += v * (r as f64 - r0).powi(2);
                }
            }
            (-(mu11 / mu02)) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_mnist_is_complete() {
        let (images, labels) = builtin_mnist().unwrap();
        assert_eq!(
            (images.n, images.shape.clone(), labels.len()),
            (10_000, vec![28, 28], 10_000)
        );
        let fours = labels.iter().filter(|&&l| l == 4).count();
        let nines = labels.iter().filter(|&&l| l == 9).count();
        assert_eq!((fours, nines), (980, 978));
    }

    #[test]
    fn slant_sign_follows_the_lean() {
        // a diagonal stroke from bottom-left to top-right leans right
        let mut v = vec![0f32; 28 * 28];
        for r in 4..24 {
            let c = 27 - r;
            v[r * 28 + c] = 255.0;
        }
        let d = Dataset::new("x", v, 1, vec![28, 28], drlim::data::SourceDtype::U8).unwrap();
        assert!(slant(&d)[0] > 0.5);
    }
}
