//! Helpers for the end-to-end tests of the `drlim` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use npyz::WriterBuilder;

/// Runs `drlim` with `args` in `dir`.
pub fn drlim(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drlim"))
        .args(args)
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("run drlim")
}

/// Runs `drlim` and asserts success, returning stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = drlim(dir, args);
    assert!(
        out.status.success(),
        "drlim {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `drlim`, asserts a clean failure (non-zero exit, one `error:` line naming `needle`,
/// no panic) and returns stderr.
pub fn fails(dir: &Path, args: &[&str], needle: &str) -> String {
    let out = drlim(dir, args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "drlim {args:?} should fail; stderr: {err}"
    );
    assert_eq!(out.status.code(), Some(1), "exit code for {args:?}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "panic for {args:?}: {err}"
    );
    // progress lines may precede it; the error is one line, the last
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(
        errors.len(),
        1,
        "one error line expected for {args:?}, got: {err}"
    );
    assert!(err.lines().last().unwrap().starts_with("error: "), "{err}");
    assert!(
        err.contains(needle),
        "error for {args:?} should mention '{needle}': {err}"
    );
    err
}

/// Writes an NPY file of `T` values.
pub fn write_npy<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[u64],
    data: &[T],
) {
    let mut buf = Vec::new();
    let mut w = npyz::WriteOptions::<T>::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut buf)
        .begin_nd()
        .unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
    std::fs::write(path, buf).unwrap();
}

/// Reads an f32 NPY file: (shape, values).
pub fn read_npy_f32(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().unwrap())
}

/// Reads a u8 NPY file: (shape, values).
pub fn read_npy_u8(path: &Path) -> (Vec<u64>, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<u8>().unwrap())
}

/// The first `n` 4s and 9s of the built-in MNIST sample as u8 n×28×28 and their labels.
pub fn digits(n: usize, skip: usize) -> (Vec<u8>, Vec<i64>) {
    let (images, labels) = drlim_paper::builtin_mnist().unwrap();
    let idx: Vec<usize> = (0..images.n)
        .filter(|&i| labels[i] == 4 || labels[i] == 9)
        .skip(skip)
        .take(n)
        .collect();
    let px = idx
        .iter()
        .flat_map(|&i| images.row(i).into_owned().into_iter().map(|v| v as u8))
        .collect();
    (px, idx.iter().map(|&i| labels[i]).collect())
}

/// Writes `n` digits (after skipping `skip`) as `name`.npy and `name`_labels.npy in `dir`.
pub fn write_digits(dir: &Path, name: &str, n: usize, skip: usize) -> (PathBuf, PathBuf) {
    let (px, labels) = digits(n, skip);
    let x = dir.join(format!("{name}.npy"));
    let y = dir.join(format!("{name}_labels.npy"));
    write_npy::<u8>(&x, &[n as u64, 28, 28], &px);
    write_npy::<i64>(&y, &[n as u64], &labels);
    (x, y)
}

/// Files in `dir` (names), sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

/// `drlim fit --data train.npy --model-out M --epochs EPOCHS --quiet` plus `extra` flags, in `dir`
/// (which must hold train.npy); returns stdout.
pub fn fit_train(dir: &Path, epochs: usize, extra: &[&str]) -> String {
    let epochs = epochs.to_string();
    let mut args = vec![
        "fit",
        "--preset",
        "paper",
        "--data",
        "train.npy",
        "--model-out",
        "M",
        "--epochs",
        &epochs,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    ok(dir, &args)
}
