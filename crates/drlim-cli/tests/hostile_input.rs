//! Hostile headers and sizes: a file that claims more than it holds, a shape whose size
//! overflows, a gzip stream that inflates beyond its header's claim, absurd model files. Each
//! ends in one `error: FILE: problem` line with exit code 1, quickly, and under a virtual-memory
//! limit (`ulimit -v`) far below what the claims would need: nothing is allocated that the file
//! cannot back.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::*;

/// Address space allowed to `drlim` in these tests (KiB): enough for the binary and its thread
/// pool, far less than any claim below.
const LIMIT_KB: u64 = 768 * 1024;

/// Runs `drlim args` in `d` under `ulimit -v LIMIT_KB` and checks a clean failure naming `file`
/// and `needle`.
fn fails_bounded(d: &Path, args: &[&str], file: &str, needle: &str) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {LIMIT_KB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_drlim"))
        .args(args)
        .current_dir(d)
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("run drlim under ulimit");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("memory allocation"),
        "{args:?}: {err}"
    );
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{args:?}: {err}");
    assert!(
        errors[0].contains(file) && errors[0].contains(needle),
        "{args:?}: {err}"
    );
}

fn fit(d: &Path, file: &str, needle: &str) {
    fails_bounded(
        d,
        &["fit", "--data", file, "--model-out", "M", "--epochs", "1"],
        file,
        needle,
    );
    assert!(!d.join("M").exists());
}

/// An NPY file (version 1.0) with this header dictionary and data, written by hand so that the
/// header can lie.
fn npy_raw(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let f = if fortran { "True" } else { "False" };
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(h.len() as u16).to_le_bytes());
    v.extend_from_slice(h.as_bytes());
    v.extend_from_slice(data);
    v
}

#[test]
fn npy_headers_that_claim_more_than_the_file_holds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // a billion 784-byte samples claimed, one present
    std::fs::write(
        d.join("huge.npy"),
        npy_raw("|u1", false, "(1000000000, 784)", &[7; 784]),
    )
    .unwrap();
    fit(
        d,
        "huge.npy",
        "NPY data truncated: shape [1000000000, 784] needs 784000000000 bytes",
    );
    std::fs::write(
        d.join("overflow.npy"),
        npy_raw(
            "<f4",
            false,
            "(4294967296, 4294967296, 4294967296)",
            &[0; 64],
        ),
    )
    .unwrap();
    fit(d, "overflow.npy", "overflows");
    std::fs::write(
        d.join("long.npy"),
        npy_raw("<f4", false, "(2, 3)", &[0; 4 * 6 + 4]),
    )
    .unwrap();
    fit(d, "long.npy", "longer than its header says");
    // labels too
    write_digits(d, "train", 20, 0);
    std::fs::write(
        d.join("labels.npy"),
        npy_raw("<i8", false, "(1000000000,)", &[0; 8]),
    )
    .unwrap();
    fails_bounded(
        d,
        &[
            "fit",
            "--data",
            "train.npy",
            "--labels",
            "labels.npy",
            "--model-out",
            "M",
            "--epochs",
            "1",
        ],
        "labels.npy",
        "NPY data truncated",
    );
}

#[test]
fn idx_headers_and_gzip_streams_that_claim_or_inflate_too_much() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let header = |dims: &[u32]| {
        let mut v = vec![0, 0, 0x08, dims.len() as u8];
        for x in dims {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v
    };
    let mut claim = header(&[u32::MAX, 28, 28]);
    claim.extend_from_slice(&[1; 784]);
    std::fs::write(d.join("claim.idx"), &claim).unwrap();
    fit(d, "claim.idx", "IDX data truncated");
    // 10 digits claimed, then 1 GiB of zeros: inflating it all would need more than the limit
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&header(&[10, 28, 28])).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        e.write_all(&zeros).unwrap();
    }
    std::fs::write(d.join("bomb.gz"), e.finish().unwrap()).unwrap();
    fit(d, "bomb.gz", "IDX data has trailing bytes");
}

#[test]
fn empty_files_directories_and_header_only_csv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("empty.npy"), b"").unwrap();
    fit(d, "empty.npy", "not a valid NPY file");
    std::fs::write(d.join("empty.idx"), b"").unwrap();
    fit(d, "empty.idx", "too short");
    std::fs::create_dir(d.join("folder.npy")).unwrap();
    fit(d, "folder.npy", "cannot read");
    std::fs::write(d.join("header.csv"), "a,b,c\n").unwrap();
    fit(d, "header.csv", "header.csv");
}

#[test]
fn model_files_with_absurd_headers_or_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 40, 0);
    fit_train(d, 1, &["--net", "mlp", "--hidden", "8"]);
    // a safetensors header length of 2^64 − 1
    std::fs::create_dir(d.join("A")).unwrap();
    std::fs::copy(d.join("M/config.json"), d.join("A/config.json")).unwrap();
    let mut st = u64::MAX.to_le_bytes().to_vec();
    st.extend_from_slice(b"{}");
    std::fs::write(d.join("A/model.safetensors"), st).unwrap();
    let embed = |m: &'static str| {
        [
            "embed",
            "--model",
            m,
            "--data",
            "train.npy",
            "--out",
            "E.npy",
        ]
    };
    fails_bounded(
        d,
        &embed("A"),
        "model.safetensors",
        "not a valid safetensors file",
    );
    // config.json claims a hidden width of 10^9: the weights' shapes disagree, found before any
    // network is allocated
    std::fs::create_dir(d.join("B")).unwrap();
    std::fs::copy(d.join("M/model.safetensors"), d.join("B/model.safetensors")).unwrap();
    let cfg = std::fs::read_to_string(d.join("M/config.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&cfg).unwrap();
    v["architecture"]["hidden"] = serde_json::json!([1_000_000_000u64]);
    std::fs::write(d.join("B/config.json"), v.to_string()).unwrap();
    fails_bounded(d, &embed("B"), "model.safetensors", "has shape");
    assert!(!d.join("E.npy").exists());
}
