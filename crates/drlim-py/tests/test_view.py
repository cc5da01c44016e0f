"""drlim.view and DrLIM.view: the same self-contained map as `drlim view`, shown inline in
Jupyter; bad input is a ValueError and leaves no file."""

import numpy as np
import pytest

import drlim
from conftest import blobs


def test_python_writes_the_same_file_as_the_command_line(tmp_path, cli):
    rng = np.random.default_rng(0)
    e = rng.normal(size=(300, 2)).astype(np.float32)
    y = rng.integers(0, 5, 300)
    images = rng.integers(0, 256, (300, 12, 12)).astype(np.uint8)
    angle = rng.uniform(0, 360, 300).round(1)
    np.save(tmp_path / "e.npy", e)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "x.npy", images)
    (tmp_path / "m.csv").write_text("angle\n" + "".join(f"{a}\n" for a in angle))
    cli("view", "--embedding", tmp_path / "e.npy", "--labels", tmp_path / "y.npy", "--data",
        tmp_path / "x.npy", "--meta", tmp_path / "m.csv", "--circular", "angle=360",
        "--title", "same", "--out", tmp_path / "cli.html")
    m = drlim.view(e, labels=y, images=images, meta={"angle": angle}, circular={"angle": 360},
                   title="same", path=tmp_path / "py.html")
    assert (tmp_path / "py.html").read_bytes() == (tmp_path / "cli.html").read_bytes()
    assert m.n_points == 300 and "300 points" in repr(m)
    vectors = rng.normal(size=(300, 40)).astype(np.float32)
    np.save(tmp_path / "v.npy", vectors)
    cli("view", "--embedding", tmp_path / "e.npy", "--data", tmp_path / "v.npy",
        "--show-values", "3,7,39", "--out", tmp_path / "cli-v.html")
    drlim.view(e, images=vectors, show_values=[3, 7, 39], path=tmp_path / "py-v.html")
    assert (tmp_path / "py-v.html").read_bytes() == (tmp_path / "cli-v.html").read_bytes()
    assert b'"indices":[3,7,39]' in (tmp_path / "py-v.html").read_bytes()
    inline = drlim.view(e, labels=y, title="same")
    assert inline.html.startswith("<!doctype html>")
    shown = inline._repr_html_()
    assert shown.startswith("<iframe") and "srcdoc=" in shown and "&lt;script" in shown


def test_the_estimator_maps_new_samples_over_its_training_map(tmp_path):
    X, y = blobs(120, 10)
    est = drlim.DrLIM(hidden=(16,), epochs=2, random_state=0).fit(X)
    m = est.view(labels=y, images=X, new=X[:10] + 0.1, new_labels=y[:10],
                 path=tmp_path / "map.html", title="blobs")
    html = (tmp_path / "map.html").read_text()
    assert m.n_points == 130 and '"n":10,"name":"new"' in html
    est3 = drlim.DrLIM(hidden=(16,), n_components=5, epochs=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match="2 or 3"):
        est3.view()


def test_bad_maps_are_value_errors_and_leave_no_file(tmp_path):
    out = tmp_path / "map.html"
    e = np.zeros((4, 2), np.float32)
    bad = e.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="point 2"):
        drlim.view(bad, path=out)
    with pytest.raises(ValueError, match="5 dimensions"):
        drlim.view(np.zeros((4, 5)), path=out)
    with pytest.raises(ValueError, match="3 values for 4 points"):
        drlim.view(e, labels=[1, 2, 3], path=out)
    with pytest.raises(ValueError, match="images of 3×3"):
        drlim.view(e, images=np.zeros((3, 3, 3)), path=out)
    with pytest.raises(ValueError, match="circular: no column named azimuth"):
        drlim.view(e, circular={"azimuth": 360}, path=out)
    with pytest.raises(ValueError, match="max_mb"):
        drlim.view(e, path=out, max_mb=0.001)
    assert list(tmp_path.iterdir()) == []


def test_parquet_maps_open_in_pandas_and_in_drlim_view(tmp_path, cli, digits49):
    pd = pytest.importorskip("pandas")
    X, y, Xt, yt = digits49
    np.save(tmp_path / "x.npy", X[:300])
    np.save(tmp_path / "xt.npy", Xt[:100])
    np.save(tmp_path / "yt.npy", yt[:100].astype(np.int64))
    (tmp_path / "m.csv").write_text("ink,kind\n" + "".join(
        f"{x.sum() / 255:.2f},{'four' if l == 4 else 'nine'}\n" for x, l in zip(Xt[:100], yt[:100])))
    cli("fit", "--data", tmp_path / "x.npy", "--model-out", tmp_path / "model", "--epochs", "2",
        "--embedding-out", tmp_path / "train.parquet", "--seed", "0")
    cli("embed", "--model", tmp_path / "model", "--data", tmp_path / "xt.npy", "--labels",
        tmp_path / "yt.npy", "--meta", tmp_path / "m.csv", "--out", tmp_path / "test.parquet")
    cli("embed", "--model", tmp_path / "model", "--data", tmp_path / "xt.npy", "--out",
        tmp_path / "test.npy")
    train = pd.read_parquet(tmp_path / "train.parquet")
    assert list(train.columns) == ["x0", "x1"] and len(train) == 300
    test = pd.read_parquet(tmp_path / "test.parquet")
    assert list(test.columns) == ["x0", "x1", "label", "ink", "kind"]
    assert test["label"].tolist() == yt[:100].tolist()
    assert set(test["kind"]) == {"four", "nine"}
    np.testing.assert_array_equal(test[["x0", "x1"]].to_numpy(), np.load(tmp_path / "test.npy"))
    # drlim view reads the table back: its columns colour the map
    cli("view", "--embedding", tmp_path / "test.parquet", "--out", tmp_path / "map.html")
    html = (tmp_path / "map.html").read_text()
    assert '"name":"kind"' in html and '"name":"label"' in html
    # labels and metadata need a Parquet output
    r = cli("embed", "--model", tmp_path / "model", "--data", tmp_path / "xt.npy", "--labels",
            tmp_path / "yt.npy", "--out", tmp_path / "x.csv", check=False)
    assert r.returncode == 1 and ".parquet outputs only" in r.stderr
