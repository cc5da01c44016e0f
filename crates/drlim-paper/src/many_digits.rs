//! Many digits from the built-in 10,000: sample i is built-in digit i mod 10,000 under a
//! freshly drawn declared transformation (by default shifts of up to 2 pixels, rotations of up
//! to 10°, elastic displacements of up to 1 pixel), seeded per sample. An honest stand-in for
//! a large image set when measuring how fitting and embedding grow with n; its samples are not
//! new handwriting, only transformed copies of the 10,000.

use std::path::{Path, PathBuf};

use drlim::augment::{Augmentation, Augmenter};
use drlim::{Error, Result};
use npyz::WriterBuilder;

use crate::builtin_mnist;

/// The transformation drawn for each sample unless another is given.
pub const DEFAULT_MANY_DIGITS_AUGMENT: &str = "shift=2,rotate=10,elastic=1";

/// Samples made and written per block (7.8 MB of u8 pixels).
const BLOCK: usize = 10_000;

/// Writes `n` transformed digits as `out/images.npy` (u8 n×28×28) and `out/labels.npy` (i64 n),
/// each through a temporary file renamed into place; memory stays at one block whatever `n`.
/// The same `n`, `aug` and `seed` give the same files, on any number of threads.
pub fn write_many_digits(
    n: usize,
    aug: &Augmentation,
    seed: u64,
    out: &Path,
    mut progress: impl FnMut(usize),
) -> Result<Vec<PathBuf>> {
    if n == 0 {
        return Err(Error::param(
            "the number of digits to make must be at least 1",
        ));
    }
    let (digits, labels) = builtin_mnist()?;
    let side = digits.shape[0];
    let per = digits.dim();
    let augmenter = Augmenter::new(aug.clone(), Some((side, side)), seed)?;
    std::fs::create_dir_all(out).map_err(|e| Error::output(out, e))?;
    let images = out.join("images.npy");
    drlim::output::write_atomic(&images, |w| {
        let mut wr = npyz::WriteOptions::<u8>::new()
            .default_dtype()
            .shape(&[n as u64, side as u64, side as u64])
            .writer(w)
            .begin_nd()?;
        let mut block = Vec::with_capacity(BLOCK * per);
        for first in (0..n).step_by(BLOCK) {
            let count = BLOCK.min(n - first);
            block.clear();
            for i in first..first + count {
                block.extend_from_slice(&digits.row(i % digits.n));
            }
            augmenter.apply_rows(&mut block, per, first as u64);
            wr.extend(block.iter().map(|&v| v.round().clamp(0.0, 255.0) as u8))?;
            progress(first + count);
        }
        wr.finish()
    })?;
    let label_file = out.join("labels.npy");
    drlim::output::write_atomic(&label_file, |w| {
        let mut wr = npyz::WriteOptions::<i64>::new()
            .default_dtype()
            .shape(&[n as u64])
            .writer(w)
            .begin_nd()?;
        wr.extend((0..n).map(|i| labels[i % labels.len()]))?;
        wr.finish()
    })?;
    Ok(vec![images, label_file])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_u8(path: &Path) -> (Vec<u64>, Vec<u8>) {
        let bytes = std::fs::read(path).unwrap();
        let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
        (npy.shape().to_vec(), npy.into_vec::<u8>().unwrap())
    }

    #[test]
    fn transformed_copies_of_the_builtin_digits_reproducibly() {
        let dir = tempfile::tempdir().unwrap();
        let aug = Augmentation::parse(DEFAULT_MANY_DIGITS_AUGMENT).unwrap();
        let n = 10_003; // past one block, and the built-in digits come round again
        write_many_digits(n, &aug, 5, &dir.path().join("a"), |_| {}).unwrap();
        let (shape, a) = read_u8(&dir.path().join("a/images.npy"));
        assert_eq!(shape, [n as u64, 28, 28]);
        let again = dir.path().join("b");
        write_many_digits(n, &aug, 5, &again, |_| {}).unwrap();
        assert_eq!(read_u8(&again.join("images.npy")).1, a);
        // sample 10,000 is digit 0 again, transformed otherwise
        let (digits, labels) = builtin_mnist().unwrap();
        let px = |i: usize| &a[i * 784..(i + 1) * 784];
        assert_ne!(px(0), px(10_000));
        let original: Vec<u8> = digits.row(0).iter().map(|&v| v as u8).collect();
        assert_ne!(px(0), &original[..]);
        // transformed, not destroyed: the ink is still about the same
        let ink = |p: &[u8]| p.iter().map(|&v| v as f64).sum::<f64>();
        assert!((ink(px(0)) / ink(&original) - 1.0).abs() < 0.25);
        let bytes = std::fs::read(dir.path().join("a/labels.npy")).unwrap();
        let l = npyz::NpyFile::new(&bytes[..])
            .unwrap()
            .into_vec::<i64>()
            .unwrap();
        assert_eq!((l.len(), l[10_000], l[3]), (n, labels[0], labels[3]));
        // no augmentation: the built-in digits themselves
        write_many_digits(
            3,
            &Augmentation::default(),
            5,
            &dir.path().join("c"),
            |_| {},
        )
        .unwrap();
        let (_, c) = read_u8(&dir.path().join("c/images.npy"));
        assert_eq!(&c[..784], &original[..]);
        assert!(write_many_digits(0, &aug, 5, &dir.path().join("d"), |_| {}).is_err());
    }
}
