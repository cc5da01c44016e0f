//! The whole flow through the binary: fit → embed → eval → plot, on real digits.

mod common;

use common::*;

#[test]
fn fit_embed_eval_plot_on_digits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 300, 0);
    write_digits(d, "test", 120, 300);
    let out = ok(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "train.npy",
            "--labels",
            "train_labels.npy",
            "--net",
            "conv",
            "--model-out",
            "M",
            "--epochs",
            "4",
            "--embedding-out",
            "train_emb.npy",
            "--graph-out",
            "g.csv",
        ],
    );
    assert!(out.contains("saved the model to M"), "{out}");
    assert_eq!(
        files(&d.join("M")),
        vec!["config.json", "model.safetensors"]
    );
    // the graph file holds the symmetrised 5-NN pairs, i < j, each once
    let pairs = graph_pairs(&d.join("g.csv"));
    assert!(
        pairs.len() >= 300 * 5 / 2 && pairs.len() <= 300 * 5,
        "{}",
        pairs.len()
    );
    assert!(pairs.iter().all(|(a, b)| a < b));
    assert!(
        out.contains(&format!("wrote the {} neighbour pairs", pairs.len())),
        "{out}"
    );
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("M/config.json")).unwrap()).unwrap();
    assert_eq!(cfg["architecture"]["net"], "conv");
    assert_eq!(cfg["input"]["normalisation"]["kind"], "scale");
    assert_eq!(cfg["training"]["settings"]["epochs"], 4);

    ok(
        d,
        &[
            "embed", "--model", "M", "--data", "test.npy", "--out", "E.npy",
        ],
    );
    let (shape, e) = read_npy_f32(&d.join("E.npy"));
    assert_eq!(shape, vec![120, 2]);
    assert!(e.iter().all(|v| v.is_finite()));
    ok(
        d,
        &[
            "embed", "--model", "M", "--data", "test.npy", "--out", "E.csv",
        ],
    );
    let csv = std::fs::read_to_string(d.join("E.csv")).unwrap();
    assert_eq!(csv.lines().count(), 121);

    let out = ok(
        d,
        &[
            "eval",
            "--embedding",
            "E.npy",
            "--labels",
            "test_labels.npy",
            "--reference-embedding",
            "train_emb.npy",
            "--reference-labels",
            "train_labels.npy",
            "--data",
            "test.npy",
            "--json",
            "m.json",
        ],
    );
    assert!(
        out.contains("5-NN accuracy against the reference embedding"),
        "{out}"
    );
    assert!(out.contains("trustworthiness (10 neighbours)"), "{out}");
    assert!(out.contains("random pairs"), "{out}");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("m.json")).unwrap()).unwrap();
    let acc = m["knn5_accuracy"].as_f64().unwrap();
    assert!(
        acc > 0.6,
        "a 4-epoch map should already separate 4s from 9s better than chance: {acc}"
    );
    // no collapse: input-space neighbours are mapped closer together than random pairs
    assert!(m["pair_distance_ratio"].as_f64().unwrap() < 0.8, "{m}");

    ok(
        d,
        &[
            "plot",
            "--embedding",
            "E.npy",
            "--labels",
            "test_labels.npy",
            "--out",
            "p.png",
        ],
    );
    ok(d, &["plot", "--embedding", "E.csv", "--out", "p.svg"]);
    assert_eq!(&std::fs::read(d.join("p.png")).unwrap()[1..4], b"PNG");
    assert!(std::fs::read_to_string(d.join("p.svg"))
        .unwrap()
        .contains("<svg"));
}

#[test]
fn same_seed_same_model_and_embedding() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 120, 0);
    for m in ["A", "B"] {
        ok(
            d,
            &[
                "fit",
                "--preset",
                "paper",
                "--data",
                "train.npy",
                "--model-out",
                m,
                "--epochs",
                "2",
                "--seed",
                "7",
                "--quiet",
            ],
        );
        ok(
            d,
            &[
                "embed",
                "--model",
                m,
                "--data",
                "train.npy",
                "--out",
                &format!("{m}.npy"),
                "--quiet",
            ],
        );
    }
    assert_eq!(
        std::fs::read(d.join("A/model.safetensors")).unwrap(),
        std::fs::read(d.join("B/model.safetensors")).unwrap()
    );
    assert_eq!(
        std::fs::read(d.join("A.npy")).unwrap(),
        std::fs::read(d.join("B.npy")).unwrap()
    );
}

#[test]
fn mlp_on_csv_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // two noisy lines in 5-D
    let mut text = String::from("a,b,c,d,e\n");
    for i in 0..80 {
        let t = i as f32 / 80.0;
        let off = if i % 2 == 0 { 3.0 } else { -3.0 };
        text += &format!(
            "{},{},{},{},{}\n",
            t,
            off + t,
            0.5 * t,
            off,
            (i % 7) as f32 * 0.01
        );
    }
    std::fs::write(d.join("v.csv"), text).unwrap();
    let out = ok(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "v.csv",
            "--net",
            "mlp",
            "--hidden",
            "16",
            "--dim",
            "3",
            "--model-out",
            "M",
            "--epochs",
            "3",
            "--normalise",
            "standardise",
        ],
    );
    assert!(out.contains("saved the model"), "{out}");
    ok(
        d,
        &["embed", "--model", "M", "--data", "v.csv", "--out", "E.npy"],
    );
    assert_eq!(read_npy_f32(&d.join("E.npy")).0, vec![80, 3]);
}

#[test]
fn help_lists_commands_and_examples() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &["--help"]);
    for w in ["fit", "embed", "eval", "plot", "demo", "Examples:"] {
        assert!(out.contains(w), "{w}: {out}");
    }
    let out = ok(dir.path(), &["fit", "--help"]);
    for w in [
        "--k",
        "--margin",
        "--neg-ratio",
        "--epochs",
        "--batch",
        "--lr",
        "--momentum",
        "--seed",
        "--dim",
    ] {
        assert!(out.contains(w), "{w}: {out}");
    }
}

#[test]
fn approximate_neighbours_with_hnsw() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 150, 0);
    fit_train(d, 1, &["--knn", "hnsw"]);
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("M/config.json")).unwrap()).unwrap();
    assert!(
        cfg["training"]["neighbours"]
            .as_str()
            .unwrap()
            .starts_with("hnsw-knn(k=5"),
        "{cfg}"
    );
}

#[test]
fn nndescent_neighbours_are_the_same_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 400, 0);
    let graph = |threads: &str, out: &str| {
        let knn = ["--knn", "nndescent", "--graph-out", out, "--seed", "3"];
        fit_train(d, 1, &[&["--threads", threads][..], &knn].concat());
        std::fs::read(d.join(out)).unwrap()
    };
    let one = graph("1", "g1.csv");
    assert_eq!(
        one,
        graph("2", "g2.csv"),
        "--threads 1 and 2 gave different graphs"
    );
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("M/config.json")).unwrap()).unwrap();
    let described = cfg["training"]["neighbours"].as_str().unwrap();
    assert!(described.starts_with("nndescent-knn(k=5"), "{cfg}");
    // most of the exact graph's pairs are found
    fit_train(d, 1, &["--knn", "exact", "--graph-out", "exact.csv"]);
    let pairs = |f: &str| -> std::collections::HashSet<(u32, u32)> {
        graph_rows(&d.join(f))
            .into_iter()
            .map(|(i, j, _)| (i, j))
            .collect()
    };
    let (exact, found) = (pairs("exact.csv"), pairs("g1.csv"));
    let shared = exact.intersection(&found).count() as f64 / exact.len() as f64;
    assert!(shared >= 0.95, "{shared}");
}

/// The rows of a `--graph-out` CSV: two indices, and a weight where there is a third column.
fn graph_rows(path: &std::path::Path) -> Vec<(u32, u32, Option<f32>)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let v: Vec<f32> = l.split(',').map(|x| x.parse().unwrap()).collect();
            (v[0] as u32, v[1] as u32, v.get(2).copied())
        })
        .collect()
}

/// The pairs of a `--graph-out` CSV.
fn graph_pairs(path: &std::path::Path) -> Vec<(u32, u32)> {
    graph_rows(path)
        .into_iter()
        .map(|(a, b, _)| (a, b))
        .collect()
}

#[test]
fn prior_knowledge_neighbour_sources() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 12 vectors; metadata: azimuth 0/120/240 (circular) × elevation 30/35 × lighting 0/1
    let mut data = String::new();
    let mut meta = String::from("azimuth,elevation,lighting\n");
    for (i, (az, el, light)) in [0, 120, 240]
        .iter()
        .flat_map(|&az| {
            [30, 35]
                .into_iter()
                .flat_map(move |el| [0, 1].into_iter().map(move |l| (az, el, l)))
        })
        .enumerate()
    {
        data += &format!("{},{},{}\n", i as f32 * 0.1, (az as f32).sin(), light);
        meta += &format!("{az},{el},{light}\n");
    }
    std::fs::write(d.join("x.csv"), data).unwrap();
    std::fs::write(d.join("meta.csv"), meta).unwrap();
    std::fs::write(d.join("pairs.csv"), "a,b\n0,5\n7,3\n").unwrap();
    let fit = |extra: &[&str]| {
        let mut args = vec![
            "fit",
            "--preset",
            "paper",
            "--data",
            "x.csv",
            "--net",
            "mlp",
            "--hidden",
            "4",
            "--model-out",
            "M",
            "--epochs",
            "1",
            "--k",
            "2",
            "--graph-out",
            "g.csv",
        ];
        args.extend_from_slice(extra);
        ok(d, &args);
        graph_pairs(&d.join("g.csv"))
    };
    assert_eq!(
        fit(&["--neighbours", "pairs", "--pairs", "pairs.csv"]),
        vec![(0, 5), (3, 7)]
    );
    let temporal = fit(&["--neighbours", "temporal", "--window", "2"]);
    assert_eq!(temporal.len(), 11 + 10);
    let grid = fit(&[
        "--neighbours",
        "grid",
        "--metadata",
        "meta.csv",
        "--grid",
        "0:120:360,1:5",
    ]);
    // 6 pose cells of 2 lightings: 9 adjacent cell pairs × 4 sample pairs
    assert_eq!(grid.len(), 36);
    assert!(
        grid.contains(&(0, 9)),
        "azimuth 0 and 240 are adjacent: {grid:?}"
    );
    let union = fit(&["--neighbours", "knn,pairs", "--pairs", "pairs.csv"]);
    assert!(union.contains(&(0, 5)) && union.contains(&(3, 7)) && union.len() > 2);
    // fuzzy weights keep the k-NN pairs, and the model records them
    let knn = fit(&[]);
    assert!(graph_rows(&d.join("g.csv")).iter().all(|r| r.2.is_none()));
    assert_eq!(fit(&["--knn-weights", "fuzzy"]), knn);
    // the weights come as a third column, UMAP's memberships in (0, 1], some below 1
    let weights: Vec<f32> = graph_rows(&d.join("g.csv"))
        .iter()
        .map(|r| r.2.expect("a weight column"))
        .collect();
    assert_eq!(weights.len(), knn.len());
    assert!(weights.iter().all(|&w| w > 0.0 && w <= 1.0), "{weights:?}");
    assert!(weights.iter().any(|&w| w < 1.0), "{weights:?}");
    let config = std::fs::read_to_string(d.join("M/config.json")).unwrap();
    assert!(config.contains("knn(k=2) with fuzzy weights"), "{config}");
    let fit_fails = |extra: &[&str], needle: &str| {
        let mut args = vec![
            "fit",
            "--preset",
            "paper",
            "--data",
            "x.csv",
            "--net",
            "mlp",
            "--model-out",
            "M2",
        ];
        args.extend_from_slice(extra);
        fails(d, &args, needle);
    };
    fit_fails(&["--neighbours", "labels"], "needs --labels");
    fit_fails(
        &["--neighbours", "knn,temporal", "--knn-weights", "fuzzy"],
        "--knn-weights fuzzy weighs the pairs of the k-NN graph, so it needs --neighbours knn alone",
    );
    std::fs::write(d.join("far.csv"), "0,12\n").unwrap();
    fit_fails(
        &["--neighbours", "pairs", "--pairs", "far.csv"],
        "far.csv: row 1 pairs samples 0 and 12",
    );
    fit_fails(
        &[
            "--neighbours",
            "grid",
            "--metadata",
            "meta.csv",
            "--grid",
            "5:1",
        ],
        "column 5",
    );
    assert!(!d.join("M2").exists());
}

#[test]
fn renders_the_airplane_set() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = ok(d, &["render", "airplane", "--out", "plane"]);
    assert!(out.contains("rendered 972 views"), "{out}");
    let npy = std::fs::read(d.join("plane/images.npy")).unwrap();
    let f = npyz::NpyFile::new(&npy[..]).unwrap();
    assert_eq!(f.shape(), &[972, 96, 96]);
    let meta = std::fs::read_to_string(d.join("plane/metadata.csv")).unwrap();
    assert_eq!(meta.lines().count(), 973);
    assert!(meta.starts_with("azimuth,elevation,lighting\n0,30,0\n"));
    assert_eq!(
        &std::fs::read(d.join("plane/sheet.png")).unwrap()[1..4],
        b"PNG"
    );
}

/// `drlim render digits` makes transformed built-in digits (the first ones of a larger run are
/// the same), and `fit --timings` prints its stage table.
#[test]
fn renders_many_digits_and_fits_them_with_timings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = ok(d, &["render", "digits", "--n", "300", "--out", "few"]);
    assert!(out.contains("made 300 digits"), "{out}");
    ok(d, &["render", "digits", "--n", "500", "--out", "more"]);
    let (shape, few) = read_npy_u8(&d.join("few/images.npy"));
    assert_eq!(shape, [300, 28, 28]);
    assert_eq!(
        few[..],
        read_npy_u8(&d.join("more/images.npy")).1[..300 * 784]
    );
    fails(
        d,
        &["render", "digits", "--n", "0", "--out", "none"],
        "at least 1",
    );
    let run = drlim(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "few/images.npy",
            "--net",
            "mlp",
            "--hidden",
            "16",
            "--epochs",
            "1",
            "--model-out",
            "M",
            "--timings",
        ],
    );
    assert!(run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    for stage in [
        "timings",
        "load",
        "neighbour graph",
        "training",
        "embedding",
    ] {
        assert!(err.contains(stage), "{stage}: {err}");
    }
}

/// `fit --timings` estimates its peak memory before the work, and the estimate lies within
/// 25% of the peak measured at the end, on 10,000 rendered digits with either graph: exact
/// search over the normalised floats (`auto` at this size) and NN-descent over the bytes.
#[test]
fn the_memory_estimate_is_within_a_quarter_of_the_measured_peak() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["render", "digits", "--n", "10000", "--out", "ten"]);
    for knn in ["auto", "nndescent"] {
        let run = drlim(
            d,
            &[
                "fit",
                "--data",
                "ten/images.npy",
                "--knn",
                knn,
                "--epochs",
                "1",
                "--model-out",
                knn,
                "--timings",
                "--checkpoint-every",
                "0",
                "--embedding-out",
                "e.npy",
            ],
        );
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{err}");
        assert!(err.contains("memory: estimated peak"), "{err}");
        let line = err
            .lines()
            .find(|l| l.starts_with("peak memory: measured"))
            .unwrap_or_else(|| panic!("no comparison in {err}"));
        let ratio: f64 = line
            .rsplit('(')
            .next()
            .and_then(|r| r.split('×').next())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("no ratio in {line}"));
        assert!((0.75..=1.25).contains(&ratio), "--knn {knn}: {line}");
    }
}

#[test]
fn airplane_split_by_image_is_stated_in_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let args = ["--epochs", "2", "--quiet", "--split", "image", "--out"];
    ok(
        d,
        &[&["experiment", "airplane"][..], &args, &["plane"]].concat(),
    );
    let report = std::fs::read_to_string(d.join("plane/report.md")).unwrap();
    assert!(report.contains("Split by image"), "{report}");
    assert!(!report.contains("Split by pose"), "{report}");
    let metrics = std::fs::read_to_string(d.join("plane/metrics.json")).unwrap();
    assert!(metrics.contains("\"split\": \"image\""), "{metrics}");
    // invariance judged against the map's own scale: the one-step ratios are measured too
    let m: serde_json::Value = serde_json::from_str(&metrics).unwrap();
    for key in ["azimuth_step_ratio", "elevation_step_ratio"] {
        assert!(
            m["pose_grid"][key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {m}"
        );
    }
    assert!(report.contains("one azimuth step"), "{report}");
    // the flag belongs to the airplane: an error for the others, and nothing written
    fails(
        d,
        &[&["experiment", "mnist-4-9"][..], &args, &["digits"]].concat(),
        "--split",
    );
    assert!(!d.join("digits").exists());
    fails(
        d,
        &["experiment", "airplane", "--augment-final", "0.5", "--out", "plane2"],
        "--augment-final does not apply to airplane (only to experiments with a run that declares invariances: mnist-4-9, mnist-10)",
    );
    fails(
        d,
        &[
            "experiment",
            "airplane",
            "--knn-weights",
            "fuzzy",
            "--out",
            "plane2",
        ],
        "--knn-weights does not apply to airplane",
    );
    fails(
        d,
        &[
            "experiment",
            "mnist-10",
            "--augment-final",
            "2",
            "--out",
            "ten",
        ],
        "--augment-final must be in [0, 1]",
    );
    assert!(!d.join("plane2").exists() && !d.join("ten").exists());
}

#[test]
fn experiment_states_falling_strengths_and_weights_of_its_invariance_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        d,
        &[
            "experiment",
            "mnist-4-9",
            "--epochs",
            "2",
            "--augment-final",
            "0.5",
            "--knn-weights",
            "fuzzy",
            "--quiet",
            "--out",
            "digits",
        ],
    );
    let report = std::fs::read_to_string(d.join("digits/report.md")).unwrap();
    assert!(
        report.contains("the strengths falling linearly to 0.5 of these by the last epoch"),
        "{report}"
    );
    // the weights apply to the invariance run only; the paper's run keeps its own
    assert_eq!(
        report
            .matches("(pairs drawn in proportion to UMAP's fuzzy memberships)")
            .count(),
        1,
        "{report}"
    );
}

#[test]
fn quick_demo_runs_the_three_experiments_and_links_their_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let printed = ok(
        dir.path(),
        &["demo", "--quick", "--quiet", "--out", out.to_str().unwrap()],
    );
    assert!(printed.contains("index.md"), "{printed}");
    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    assert!(index.contains("Quick run"), "{index}");
    for name in ["mnist-4-9", "mnist-shift", "airplane"] {
        assert!(index.contains(&format!("({name}/report.md)")), "{index}");
        let report = std::fs::read_to_string(out.join(name).join("report.md")).unwrap();
        assert!(report.starts_with("# "), "{name}: {report}");
        assert!(out.join(name).join("metrics.json").exists());
    }
    for f in [
        "mnist-4-9/mnist-4-9-test-thumbnails.png",
        "mnist-4-9/mnist-4-9-test-by-slant.svg",
        "airplane/airplane-pose-grid-by-azimuth.png",
        "airplane/airplane-euclidean-by-lighting.svg",
        "airplane/airplane-pose-grid-test-embedding.npy",
        "airplane/airplane-test-metadata.csv",
        "mnist-4-9/test_metadata.csv",
        "mnist-shift/mnist-shift-test-metadata.csv",
        "mnist-shift/mnist-shift-euclidean-by-shift.png",
        "mnist-shift/mnist-shift-prior-knowledge-by-digit.svg",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    // the quick demo's one epoch of mnist-shift (the run `drlim experiment mnist-shift --epochs
    // 1` makes): even then the prior-knowledge map is far less sensitive to shift
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("mnist-shift/metrics.json")).unwrap())
            .unwrap();
    let ratio = |run: &str| m[run]["invariance_ratio"].as_f64().unwrap();
    assert!(ratio("prior_knowledge") < 0.5 * ratio("euclidean"), "{m}");
}

#[test]
fn plots_a_3d_embedding_from_three_views() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let v: Vec<f32> = (0..60).map(|k| ((k * 37) % 11) as f32 / 11.0).collect();
    write_npy::<f32>(&d.join("E3.npy"), &[20, 3], &v);
    let labels: Vec<i64> = (0..20).map(|k| k % 3).collect();
    write_npy::<i64>(&d.join("L.npy"), &[20], &labels);
    ok(
        d,
        &[
            "plot",
            "--embedding",
            "E3.npy",
            "--labels",
            "L.npy",
            "--3d",
            "--out",
            "v.svg",
        ],
    );
    let svg = std::fs::read_to_string(d.join("v.svg")).unwrap();
    assert!(svg.contains("view 3"), "three views drawn");
}

#[test]
fn fit_with_declared_invariances_logs_its_pairs_and_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 120, 0);
    let args = |model: &'static str, emb: &'static str| {
        vec![
            "fit",
            "--preset",
            "paper",
            "--data",
            "train.npy",
            "--model-out",
            model,
            "--embedding-out",
            emb,
            "--epochs",
            "2",
            "--augment",
            "shift=2,rotate=10,scale=0.1,shear=0.1,elastic=1,contrast=0.2",
            "--augment-pairs",
            "2",
            "--negatives",
            "batch",
            "--loss",
            "cauchy-infonce",
            "--batch",
            "64",
            "--seed",
            "3",
        ]
    };
    let out = drlim(d, &args("M1", "E1.npy"));
    assert!(out.status.success(), "{out:?}");
    let log = String::from_utf8_lossy(&out.stderr);
    // 120 samples × 2 augmentation pairs each
    assert!(
        log.contains("240 augmentation pairs")
            && log.contains("every other sample of the batch as a non-neighbour"),
        "{log}"
    );
    ok(d, &args("M2", "E2.npy"));
    let (shape, e1) = read_npy_f32(&d.join("E1.npy"));
    assert_eq!(shape, vec![120, 2]);
    assert_eq!(e1, read_npy_f32(&d.join("E2.npy")).1, "same seed, same map");
    let config = std::fs::read_to_string(d.join("M1/config.json")).unwrap();
    assert!(
        config.contains("\"elastic\": 1.0") && config.contains("cauchy-infonce"),
        "{config}"
    );
    // strengths that fall over the epochs: said, recorded, and trained otherwise
    let mut falling = args("M4", "E4.npy");
    falling.extend(["--augment-final", "0.25"]);
    let out = drlim(d, &falling);
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("declared invariances: shift=2,rotate=10,scale=0.1,shear=0.1,elastic=1,contrast=0.2, falling linearly to 0.25 of these strengths by epoch 2"),
        "{said}"
    );
    let config = std::fs::read_to_string(d.join("M4/config.json")).unwrap();
    assert!(config.contains("\"augment_final\": 0.25"), "{config}");
    assert_ne!(e1, read_npy_f32(&d.join("E4.npy")).1);
    // the model maps new digits like any other
    write_digits(d, "test", 30, 500);
    ok(
        d,
        &[
            "embed", "--model", "M1", "--data", "test.npy", "--out", "T.npy",
        ],
    );
    // declared mistakes end in one clear error
    fails(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "train.npy",
            "--model-out",
            "M3",
            "--augment",
            "shfit=2",
        ],
        "unknown augmentation 'shfit'",
    );
    let mut too_strong = args("M3", "E3.npy");
    too_strong.extend(["--augment-final", "2"]);
    fails(d, &too_strong, "--augment-final must be in [0, 1]");
    fails(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "train.npy",
            "--model-out",
            "M3",
            "--loss",
            "cauchy-infonce",
        ],
        "--loss cauchy-infonce needs in-batch non-neighbours",
    );
    std::fs::write(d.join("v.csv"), "a,b\n1,2\n3,4\n5,6\n").unwrap();
    fails(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "v.csv",
            "--net",
            "mlp",
            "--k",
            "1",
            "--model-out",
            "M3",
            "--augment",
            "shift=1",
        ],
        "v.csv: augmentation shift=1 moves pixels",
    );
    assert!(!d.join("M3").exists());
}

/// `drlim bench | head -0`: a closed stdout ends drlim as it ends other Unix tools (SIGPIPE),
/// without a panic.
#[cfg(unix)]
#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_drlim"))
        .args(["bench", "--net", "none", "--knn", "500"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before drlim prints
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.signal(), Some(13), "{:?} {err}", out.status);
}

/// `drlim embed` streams NPY, CSV and IDX (raw and gzipped) inputs block by block (more samples
/// than one block here); their outputs equal, bit for bit, that of the same digits read whole
/// (from a Fortran-ordered NPY file, the one format read whole), and a file cut halfway leaves
/// no output behind.
#[test]
fn streamed_embedding_equals_embedding_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 200, 0);
    fit_train(d, 1, &["--net", "mlp", "--hidden", "16"]);
    // 2.5 blocks of 16,384 digits: the built-in ones, repeated
    let (px, _) = digits(1000, 0);
    let n = 41_000;
    let many: Vec<u8> = px.iter().copied().cycle().take(n * 784).collect();
    write_npy::<u8>(&d.join("many.npy"), &[n as u64, 784], &many);
    let csv: String = std::iter::once(
        (0..784)
            .map(|j| format!("p{j}"))
            .collect::<Vec<_>>()
            .join(","),
    )
    .chain(many.chunks(784).map(|r| {
        r.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }))
    .collect::<Vec<_>>()
    .join("\n");
    std::fs::write(d.join("many.csv"), &csv).unwrap();
    // IDX: magic 0x00000802 (u8, 2 dimensions), then n and 784; raw and gzipped
    let mut idx = vec![0, 0, 8, 2];
    idx.extend_from_slice(&(n as u32).to_be_bytes());
    idx.extend_from_slice(&784u32.to_be_bytes());
    idx.extend_from_slice(&many);
    std::fs::write(d.join("many-idx"), &idx).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &idx).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(d.join("many.idx.gz"), &gz).unwrap();
    // read whole: the same array in Fortran order (first index fastest)
    use npyz::WriterBuilder;
    let fortran: Vec<u8> = (0..n * 784).map(|k| many[(k % n) * 784 + k / n]).collect();
    let mut buf = Vec::new();
    let mut w = npyz::WriteOptions::<u8>::new()
        .default_dtype()
        .order(npyz::Order::Fortran)
        .shape(&[n as u64, 784])
        .writer(&mut buf)
        .begin_nd()
        .unwrap();
    w.extend(fortran.iter().copied()).unwrap();
    w.finish().unwrap();
    std::fs::write(d.join("many-fortran.npy"), buf).unwrap();
    let embed = |data: &str, out: &str| {
        ok(
            d,
            &["embed", "--model", "M", "--data", data, "--out", out, "-q"],
        )
    };
    embed("many-fortran.npy", "whole.npy");
    embed("many-fortran.npy", "whole.csv");
    let (shape, whole) = read_npy_f32(&d.join("whole.npy"));
    assert_eq!(shape, vec![n as u64, 2]);
    for input in ["many.npy", "many.csv", "many-idx", "many.idx.gz"] {
        embed(input, "streamed.npy");
        assert_eq!(read_npy_f32(&d.join("streamed.npy")).1, whole, "{input}");
        // as CSV output too
        embed(input, "streamed.csv");
        assert_eq!(
            std::fs::read(d.join("streamed.csv")).unwrap(),
            std::fs::read(d.join("whole.csv")).unwrap(),
            "{input}"
        );
    }
    // files cut halfway: one error line, no output, no temporary file
    let bytes = std::fs::read(d.join("many.npy")).unwrap();
    std::fs::write(d.join("cut.npy"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(d.join("cut.csv"), &csv.as_bytes()[..csv.len() / 2]).unwrap();
    std::fs::write(d.join("cut-idx"), &idx[..idx.len() / 2]).unwrap();
    std::fs::write(d.join("cut.idx.gz"), &gz[..gz.len() / 2]).unwrap();
    for (input, needle) in [
        ("cut.npy", "cut.npy: NPY data truncated"),
        // the row cut in the middle is ragged
        ("cut.csv", "columns, expected 784 (ragged rows)"),
        // a raw file's size is checked first, a gzipped one's only as it inflates
        ("cut-idx", "cut-idx: IDX data truncated"),
        (
            "cut.idx.gz",
            "cut.idx.gz: IDX data ends early, within samples",
        ),
    ] {
        let args = [
            "embed",
            "--model",
            "M",
            "--data",
            input,
            "--out",
            "cut-out.npy",
        ];
        let err = fails(d, &args, needle);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!files(d)
            .iter()
            .any(|f| f.starts_with("cut-out") || f.starts_with(".drlim-tmp")));
    }
}

/// `--fit-sample N` trains on N samples drawn with the seed and embeds all of them; the same
/// seed draws the same sample; a sample larger than the data is refused before any work.
#[test]
fn fit_on_a_sample_and_embed_everything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 300, 0);
    let run = |out: &str| {
        let (emb, graph) = (format!("{out}.npy"), format!("{out}-g.csv"));
        ok(
            d,
            &[
                "fit",
                "--preset",
                "paper",
                "--data",
                "train.npy",
                "--epochs",
                "1",
                "-q",
                "--net",
                "mlp",
                "--hidden",
                "16",
                "--fit-sample",
                "120",
                "--model-out",
                out,
                "--embedding-out",
                &emb,
                "--graph-out",
                &graph,
            ],
        )
    };
    run("A");
    run("B");
    let (shape, a) = read_npy_f32(&d.join("A.npy"));
    assert_eq!(shape, vec![300, 2], "every sample is embedded");
    assert_eq!(
        a,
        read_npy_f32(&d.join("B.npy")).1,
        "the same seed, the same sample"
    );
    let config = std::fs::read_to_string(d.join("A/config.json")).unwrap();
    assert!(config.contains("\"n_train\": 120"), "{config}");
    // the graph's pairs are indices into the file: 120 distinct ones at most, some above 120
    let pairs = std::fs::read_to_string(d.join("A-g.csv")).unwrap();
    let ids: std::collections::BTreeSet<u32> = pairs
        .lines()
        .skip(1)
        .flat_map(|l| {
            l.split(',')
                .map(|v| v.parse::<f32>().unwrap() as u32)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        ids.len() <= 120 && ids.iter().any(|&i| i >= 120),
        "{}",
        ids.len()
    );
    // embedding the file with the model gives the same coordinates as --embedding-out
    ok(
        d,
        &[
            "embed",
            "--model",
            "A",
            "--data",
            "train.npy",
            "--out",
            "all.npy",
            "-q",
        ],
    );
    assert_eq!(read_npy_f32(&d.join("all.npy")).1, a);
    let err = fails(
        d,
        &[
            "fit",
            "--preset",
            "paper",
            "--data",
            "train.npy",
            "--fit-sample",
            "301",
            "--model-out",
            "C",
        ],
        "--fit-sample 301: train.npy holds 300 samples; give a number from 1 to 300",
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!d.join("C").exists());
}

/// `--preset paper` is the defaults of before presets, spelled out flag by flag (the convnet,
/// 5 neighbours with uniform weights, random non-neighbours, the contrastive loss, batch 32,
/// lr 0.005 without decay, u8 pixels ÷ 255); a bare `fit` is the `auto` preset, which says
/// what it made of the data, and a flag given goes over either preset.
#[test]
fn presets_paper_is_the_old_defaults_and_auto_is_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_digits(d, "train", 80, 0);
    let fit = |model: &str, extra: &[&str]| {
        let mut args = vec![
            "--threads",
            "1",
            "fit",
            "--data",
            "train.npy",
            "--model-out",
            model,
        ];
        args.extend_from_slice(extra);
        ok(d, &args)
    };
    fit("paper", &["--preset", "paper", "--epochs", "2"]);
    #[rustfmt::skip]
    let spelled = [
        "--net", "conv", "--k", "5", "--knn-weights", "uniform", "--negatives", "random",
        "--loss", "contrastive", "--augment", "none", "--epochs", "2", "--batch", "32",
        "--lr", "0.005", "--lr-decay", "1", "--normalise", "auto",
    ];
    fit("spelled", &spelled);
    let bytes = |m: &str| std::fs::read(d.join(m).join("model.safetensors")).unwrap();
    assert_eq!(bytes("paper"), bytes("spelled"));
    let out = fit("auto", &["--epochs", "1"]);
    assert!(
        out.contains(
            "settings: preset auto → mlp 128-128-128 on 30 principal components, k = 15 (fuzzy weights"
        ),
        "{out}"
    );
    assert!(
        out.contains("cauchy-infonce loss, 1 epochs of batch 256"),
        "{out}"
    );
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("auto/config.json")).unwrap())
            .unwrap();
    assert_eq!(cfg["architecture"]["net"], "mlp");
    // trained through the PCA front, saved over all 784 pixels
    assert_eq!(cfg["architecture"]["input_dim"], 784);
    assert_eq!(cfg["training"]["pca_components"], 30);
    assert_eq!(cfg["input"]["normalisation"]["kind"], "standardise");
    let out = fit("nopca", &["--epochs", "1", "--pca", "0"]);
    assert!(out.contains("mlp 128-128-128, k = 15"), "{out}");
    let plain = std::fs::read_to_string(d.join("nopca/config.json")).unwrap();
    assert!(!plain.contains("pca_components"), "{plain}");
    assert!(
        cfg["input"].get("metric").is_none(),
        "euclidean is not written"
    );
    let out = fit(
        "cos",
        &["--epochs", "1", "--metric", "cosine", "--hidden", "16"],
    );
    assert!(
        out.contains("mlp 16 on 30 principal components, k = 15"),
        "{out}"
    );
    let cfg = std::fs::read_to_string(d.join("cos/config.json")).unwrap();
    assert!(cfg.contains("\"metric\": \"cosine\""), "{cfg}");
}
