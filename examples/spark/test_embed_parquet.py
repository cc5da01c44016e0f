"""The Spark example in Spark's local mode: `spark-submit --files model.onnx embed_parquet.py`
maps 100,000 digits read from Parquet, and every row's coordinates equal `drlim embed`'s to
1e-5. Needs pyspark, pyarrow, pandas, onnxruntime and the drlim package (for its built-in
digits), the `drlim` binary (DRLIM_BIN, or target/release/drlim), and Java 17: without Java
the test is skipped with that reason."""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
ROWS = 100_000


def drlim_bin():
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = pathlib.Path(os.environ.get("DRLIM_BIN", target / "release" / "drlim"))
    if not path.is_file():
        pytest.fail(f"{path} is missing: build it with `cargo build --release -p drlim-cli`")
    return str(path)


def run(args, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, args))} failed:\n{r.stdout}\n{r.stderr[-4000:]}"
    return r


def shifted_digits(rows, seed=0):
    """`rows` digits: the built-in 10,000, each repeated with random shifts of up to 2 pixels
    (np.roll: MNIST's border is blank), as uint8 rows×28×28."""
    import drlim

    X, _ = drlim.load_digits()
    rng = np.random.default_rng(seed)
    out = np.empty((rows, 28, 28), dtype=np.uint8)
    for i in range(rows):
        dy, dx = rng.integers(-2, 3, size=2)
        out[i] = np.roll(X[i % len(X)], (dy, dx), axis=(0, 1))
    return out


@pytest.mark.skipif(shutil.which("java") is None, reason="Java is missing: Spark needs a JVM (Java 17)")
def test_spark_local_mode_maps_every_row_as_drlim_embed_does(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    binary = drlim_bin()
    X = shifted_digits(ROWS)
    np.save(tmp_path / "train.npy", X[:400])
    np.save(tmp_path / "all.npy", X)
    run([binary, "fit", "--data", tmp_path / "train.npy", "--net", "conv", "--epochs", "2",
         "--model-out", tmp_path / "M", "-q"])
    run([binary, "export", "--model", tmp_path / "M", "--out", tmp_path / "model.onnx", "-q"])
    run([binary, "embed", "--model", tmp_path / "M", "--data", tmp_path / "all.npy",
         "--out", tmp_path / "expected.npy", "-q"])
    expected = np.load(tmp_path / "expected.npy")

    # the rows, shuffled, in row groups of 10,000: id and the 784 pixels as bytes
    order = np.random.default_rng(1).permutation(ROWS)
    table = pa.table({
        "id": pa.array(order, type=pa.int64()),
        "pixels": pa.array([X[i].tobytes() for i in order], type=pa.binary()),
    })
    pq.write_table(table, tmp_path / "digits.parquet", row_group_size=10_000)

    # the job from another folder, the model shipped with --files as on a cluster
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable,
               SPARK_LOCAL_IP="127.0.0.1")
    submit = pathlib.Path(sys.executable).parent / "spark-submit"
    r = run([submit, "--master", "local[2]", "--conf", "spark.sql.files.maxPartitionBytes=16m",
             "--conf", "spark.ui.enabled=false", "--files", tmp_path / "model.onnx",
             HERE / "embed_parquet.py", "--model", "model.onnx",
             "--input", tmp_path / "digits.parquet", "--output", tmp_path / "embedded"],
            cwd=work, env=env, timeout=900)
    line = re.search(r"embedded (\d+) rows .*", r.stdout)
    assert line, r.stdout + r.stderr[-4000:]
    print(line.group(0))
    assert int(line.group(1)) == ROWS

    out = pq.read_table(tmp_path / "embedded").to_pandas()
    assert len(out) == ROWS and out["id"].is_unique
    out = out.sort_values("id")
    got = np.stack(out["embedding"].to_numpy()).astype(np.float32)
    assert got.shape == expected.shape == (ROWS, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
