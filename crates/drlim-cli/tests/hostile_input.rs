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
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            file,
            "--model-out",
            "M",
            "--epochs",
            "1",
        ],
        file,
        needle,
    );
    assert!(!d.join("M").exists());
}

/// Writes a valid NPY file of `values` as `name` in `d`, then makes its header claim `shape`
/// (in its padding, or a header grown to the next 64 bytes), and appends `extra` bytes.
fn write_lying_npy<T: npyz::Serialize + npyz::AutoSerialize + Copy>(
    d: &Path,
    name: &str,
    values: &[T],
    shape: &str,
    extra: usize,
) {
    let p = d.join(name);
    write_npy(&p, &[values.len() as u64], values);
    let mut bytes = std::fs::read(&p).unwrap();
    let data_at = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = String::from_utf8(bytes[10..data_at].to_vec()).unwrap();
    let (start, end) = (
        header.find("'shape': ").unwrap() + 9,
        header.find("), ").unwrap() + 1,
    );
    let lie = format!("{}{shape}{}", &header[..start], &header[end..]);
    let lie = lie.trim_end();
    // keep the data 64-byte aligned, growing the header if the padding has no room
    let len = header
        .len()
        .max((10 + lie.len() + 1).div_ceil(64) * 64 - 10);
    let lie = format!("{lie:<width$}\n", width = len - 1);
    bytes[8..10].copy_from_slice(&(len as u16).to_le_bytes());
    bytes.splice(10..data_at, lie.into_bytes());
    bytes.extend(std::iter::repeat_n(0u8, extra));
    std::fs::write(&p, bytes).unwrap();
}

#[test]
fn npy_headers_that_claim_more_than_the_file_holds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // a billion 784-byte samples claimed, one present
    write_lying_npy(d, "huge.npy", &[7u8; 784], "(1000000000, 784)", 0);
    fit(
        d,
        "huge.npy",
        "NPY data truncated: shape [1000000000, 784] needs 784000000000 bytes",
    );
    write_lying_npy(
        d,
        "overflow.npy",
        &[0f32; 16],
        "(4294967296, 4294967296, 4294967296)",
        0,
    );
    fit(d, "overflow.npy", "overflows");
    write_lying_npy(d, "long.npy", &[0f32; 6], "(2, 3)", 4);
    fit(d, "long.npy", "longer than its header says");
    // labels too
    write_digits(d, "train", 20, 0);
    write_lying_npy(d, "labels.npy", &[0i64], "(1000000000,)", 0);
    fails_bounded(
        d,
        &[
            "fit",
            "--preset",
            "paper",
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
