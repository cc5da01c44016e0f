//! Bad input ends in one clear error line naming the file and the problem, exit code 1, no
//! panic, and no output file.

mod common;

use std::io::Write;
use std::path::Path;

use common::*;

fn idx_u8(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend_from_slice(data);
    v
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// `fit` on `file` fails naming it and `needle`, and writes no model directory.
fn fit_fails(d: &Path, file: &str, needle: &str) {
    let err = fails(
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
        needle,
    );
    assert!(err.contains(file), "{err}");
    assert!(!d.join("M").exists(), "no model directory after a failure");
}

#[test]
fn malformed_data_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let raw = idx_u8(&[10, 28, 28], &[7; 10 * 784]);
    std::fs::write(d.join("trunc.idx"), &raw[..raw.len() - 100]).unwrap();
    fit_fails(d, "trunc.idx", "IDX data truncated");
    let g = gz(&raw);
    std::fs::write(d.join("trunc.gz"), &g[..g.len() / 2]).unwrap();
    fit_fails(d, "trunc.gz", "gzip");
    let mut c = g.clone();
    for b in &mut c[20..40] {
        *b ^= 0x5a;
    }
    std::fs::write(d.join("corrupt.gz"), &c).unwrap();
    fit_fails(d, "corrupt.gz", "corrupt.gz");
    let mut m = raw.clone();
    m[0] = 0x42;
    std::fs::write(d.join("magic.idx"), &m).unwrap();
    fit_fails(d, "magic.idx", "bad magic number");
    fit_fails(d, "missing.npy", "no such file");

    write_npy::<i64>(&d.join("i64.npy"), &[4, 2], &[1, 2, 3, 4, 5, 6, 7, 8]);
    fit_fails(d, "i64.npy", "dtype");
    write_npy::<f32>(&d.join("flat.npy"), &[8], &[1.0; 8]);
    fit_fails(d, "flat.npy", "shape [8]");
    let mut v = vec![0.5f32; 10 * 784];
    v[3 * 784 + 5] = f32::NAN;
    write_npy::<f32>(&d.join("nan.npy"), &[10, 28, 28], &v);
    fit_fails(d, "nan.npy", "sample 3 (0-based), feature 5 holds NaN");

    std::fs::write(d.join("cell.csv"), "a,b\n1,2\n3,oops\n").unwrap();
    fit_fails(d, "cell.csv", "line 3, column 2: 'oops' is not a number");
    std::fs::write(d.join("ragged.csv"), "1,2,3\n4,5\n").unwrap();
    fit_fails(d, "ragged.csv", "line 2 has 2 columns, expected 3");
    std::fs::write(d.join("inf.csv"), "1,2\n3,inf\n").unwrap();
    fit_fails(d, "inf.csv", "infinite");
    std::fs::write(d.join("empty.csv"), "a,b\n").unwrap();
    fit_fails(d, "empty.csv", "empty");
}

#[test]
fn data_that_does_not_fit_the_method() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "few", 5, 0);
    let err = fails(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "few.npy",
            "--model-out",
            "M",
            "--k",
            "5",
        ],
        "k = 5",
    );
    assert!(err.contains("5 samples") || err.contains("has 5"), "{err}");
    write_digits(d, "one", 1, 0);
    fails(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "one.npy",
            "--model-out",
            "M",
        ],
        "k = 5",
    );
    write_digits(d, "two", 2, 0);
    fails(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "two.npy",
            "--model-out",
            "M",
            "--k",
            "1",
        ],
        "no non-neighbour pairs",
    );
    write_npy::<u8>(&d.join("big.npy"), &[10, 30, 30], &[1; 9000]);
    fit_fails(d, "big.npy", "the conv net takes 28×28");
    assert!(!d.join("M").exists());
    write_digits(d, "ok", 20, 0);
    fails(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "ok.npy",
            "--model-out",
            "M",
            "--lr",
            "0",
        ],
        "--lr",
    );
}

#[test]
fn bad_models_and_mismatched_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 40, 0);
    fit_train(d, 1, &[]);
    fails(
        d,
        &[
            "embed",
            "--model",
            "nope",
            "--data",
            "train.npy",
            "--out",
            "E.npy",
        ],
        "nope: model directory does not exist",
    );
    assert!(!d.join("E.npy").exists());

    std::fs::create_dir(d.join("half")).unwrap();
    std::fs::copy(d.join("M/config.json"), d.join("half/config.json")).unwrap();
    fails(
        d,
        &[
            "embed",
            "--model",
            "half",
            "--data",
            "train.npy",
            "--out",
            "E.npy",
        ],
        "model.safetensors is missing",
    );

    // config.json of an mlp beside conv weights
    std::fs::create_dir(d.join("other")).unwrap();
    std::fs::copy(
        d.join("M/model.safetensors"),
        d.join("other/model.safetensors"),
    )
    .unwrap();
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("M/config.json")).unwrap()).unwrap();
    cfg["architecture"] =
        serde_json::json!({"net": "mlp", "input_dim": 784, "hidden": [20], "dim": 3});
    std::fs::write(
        d.join("other/config.json"),
        serde_json::to_vec(&cfg).unwrap(),
    )
    .unwrap();
    fails(
        d,
        &[
            "embed",
            "--model",
            "other",
            "--data",
            "train.npy",
            "--out",
            "E.npy",
        ],
        "tensor 'layers.0.weight' is missing",
    );

    write_npy::<f32>(&d.join("vec.npy"), &[3, 10], &[0.5; 30]);
    fails(
        d,
        &[
            "embed", "--model", "M", "--data", "vec.npy", "--out", "E.npy",
        ],
        "vec.npy: samples have 10 values",
    );
    assert!(!d.join("E.npy").exists());
}

#[test]
fn unwritable_outputs_fail_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 40, 0);
    fit_train(d, 1, &[]);
    std::fs::write(d.join("afile"), b"x").unwrap();
    fails(
        d,
        &[
            "embed",
            "--model",
            "M",
            "--data",
            "train.npy",
            "--out",
            "no/such/dir/E.npy",
        ],
        "no/such/dir/E.npy",
    );
    fails(
        d,
        &[
            "embed",
            "--model",
            "M",
            "--data",
            "train.npy",
            "--out",
            "afile/E.npy",
        ],
        "afile/E.npy",
    );
    fails(
        d,
        &[
            "embed",
            "--model",
            "M",
            "--data",
            "train.npy",
            "--out",
            "E.txt",
        ],
        "must end in .npy, .csv or .parquet",
    );
    fails(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "train.npy",
            "--model-out",
            "afile",
        ],
        "afile",
    );
    fails(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "train.npy",
            "--model-out",
            "no/such/M",
        ],
        "no/such/M",
    );
    fails(
        d,
        &["plot", "--embedding", "train.npy", "--out", "no/such/p.png"],
        "no/such/p.png",
    );
    assert_eq!(
        files(d),
        vec!["M", "afile", "train.npy", "train_labels.npy"]
    );
}

#[test]
fn bad_labels_and_eval_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 40, 0);
    write_npy::<i64>(&d.join("short.npy"), &[3], &[4, 9, 4]);
    fails(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "train.npy",
            "--labels",
            "short.npy",
            "--model-out",
            "M",
        ],
        "short.npy: holds 3 labels but the data has 40 samples",
    );
    write_npy::<f32>(&d.join("E.npy"), &[40, 2], &[0.5; 80]);
    fails(
        d,
        &["eval", "--embedding", "E.npy", "--data", "short.npy"],
        "short.npy",
    );
    fails(
        d,
        &["eval", "--embedding", "missing.npy"],
        "missing.npy: cannot read: no such file",
    );
    write_npy::<f32>(&d.join("E1.npy"), &[40, 1], &[0.5; 40]);
    fails(
        d,
        &["plot", "--embedding", "E1.npy", "--out", "p.png"],
        "at least 2 dimensions",
    );
    fails(
        d,
        &["plot", "--embedding", "E.npy", "--3d", "--out", "p.png"],
        "at least 3 dimensions, the embedding has 2",
    );
}

#[cfg(not(feature = "vulkan"))]
#[test]
fn gpu_device_without_the_feature_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 20, 0);
    fails(
        d,
        &[
            "--device",
            "vulkan",
            "fit",
            "--preset",
            "paper",
            "--data",
            "train.npy",
            "--model-out",
            "M",
        ],
        "--features vulkan",
    );
    fails(
        d,
        &[
            "--device",
            "tpu",
            "fit",
            "--preset",
            "paper",
            "--data",
            "train.npy",
            "--model-out",
            "M",
        ],
        "--device: unknown device 'tpu'",
    );
    assert!(!d.join("M").exists());
}

/// `view` with `extra` fails naming `file` and `needle`, and writes no map.
fn view_fails(d: &Path, extra: &[&str], file: &str, needle: &str) {
    let mut args = vec!["view", "--out", "map.html"];
    args.extend_from_slice(extra);
    let err = fails(d, &args, needle);
    assert!(err.contains(file), "{err}");
    assert!(!d.join("map.html").exists(), "no map after a failure");
    assert_eq!(files(d).iter().filter(|f| f.contains("tmp")).count(), 0);
}

#[test]
fn bad_maps() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_npy::<f32>(
        &d.join("e.npy"),
        &[4, 2],
        &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
    );
    write_npy::<f32>(&d.join("e5.npy"), &[2, 5], &[0.5; 10]);
    let mut nan = vec![0.5f32; 8];
    nan[5] = f32::NAN;
    write_npy::<f32>(&d.join("nan.npy"), &[4, 2], &nan);
    std::fs::write(d.join("y3.csv"), "1\n2\n3\n").unwrap();
    std::fs::write(d.join("m3.csv"), "a,b\n1,x\n2,y\n3,z\n").unwrap();
    std::fs::write(d.join("m4.csv"), "a,b\n1,x\n2,y\n3,z\n4,w\n").unwrap();
    write_npy::<f32>(&d.join("img.npy"), &[4, 5, 5], &[0.5; 100]);
    write_npy::<f32>(&d.join("new3.npy"), &[2, 3], &[0.5; 6]);
    let e = ["--embedding", "e.npy"];
    view_fails(d, &["--embedding", "e5.npy"], "e5.npy", "5 dimensions");
    view_fails(d, &["--embedding", "nan.npy"], "nan.npy", "NaN");
    view_fails(
        d,
        &[&e[..], &["--labels", "y3.csv"]].concat(),
        "y3.csv",
        "3 labels for the 4 points",
    );
    view_fails(
        d,
        &[&e[..], &["--meta", "m3.csv"]].concat(),
        "m3.csv",
        "3 rows for the 4 points",
    );
    view_fails(
        d,
        &[&e[..], &["--data", "img.npy", "--image-shape", "4x4"]].concat(),
        "img.npy",
        "images of 4×4",
    );
    view_fails(
        d,
        &[&e[..], &["--new", "new3.npy"]].concat(),
        "new3.npy",
        "3 dimensions",
    );
    view_fails(
        d,
        &[&e[..], &["--meta", "m4.csv", "--circular", "c=360"]].concat(),
        "--circular",
        "no such column",
    );
    view_fails(
        d,
        &[&e[..], &["--max-mb", "0"]].concat(),
        "map.html",
        "--max-mb",
    );
    // and a good one, for contrast
    ok(
        d,
        &[
            "view",
            "--embedding",
            "e.npy",
            "--data",
            "img.npy",
            "--out",
            "map.html",
        ],
    );
    assert!(std::fs::read_to_string(d.join("map.html"))
        .unwrap()
        .contains("drlim-manifest"));
}

/// A fit whose estimated peak memory exceeds `--max-memory` is refused before any work: one
/// error line with the estimate, the limit and what to do, exit code 1, nothing written.
#[test]
fn a_fit_that_would_not_fit_in_memory_is_refused_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 300, 0);
    let fit = |limit: &str| -> Vec<String> {
        [
            "fit",
            "--data",
            "train.npy",
            "--model-out",
            "M",
            "--embedding-out",
            "E.npy",
            "--epochs",
            "1",
            "--max-memory",
            limit,
        ]
        .map(String::from)
        .to_vec()
    };
    let args = fit("1M");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = fails(d, &args, "train.npy");
    for needle in [
        "needs about",
        "MB (process",
        "more than the 1 MB that --max-memory allows",
    ] {
        assert!(err.contains(needle), "'{needle}' in {err}");
    }
    assert!(err.contains("--max-memory"), "{err}");
    assert_eq!(files(d), vec!["train.npy", "train_labels.npy"]);
    // a limit above the estimate lets it run
    let args = fit("20GiB");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(d, &args);
    assert!(d.join("E.npy").exists());
    // a size that is not one is clap's usage error
    let out = drlim(
        d,
        &[
            "fit",
            "--data",
            "train.npy",
            "--model-out",
            "N",
            "--max-memory",
            "4X",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("unknown unit 'x'"),
        "{err}"
    );
    assert!(!d.join("N").exists());
}
