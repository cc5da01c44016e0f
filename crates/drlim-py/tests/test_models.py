"""Pickling, model directories, and the command line: models go both ways and embed
bit-identically."""

import json
import pickle

import numpy as np
import pytest

import drlim
from drlim import DrLIM

from conftest import blobs


def fitted(**kw):
    X, _ = blobs()
    params = dict(hidden=(16, 8), epochs=4, random_state=1, n_jobs=1)
    params.update(kw)
    return DrLIM(**params).fit(X), X


def test_pickle_holds_the_model_directory_and_transforms_identically(tmp_path):
    est, X = fitted(normalise="standardise")
    blob = pickle.dumps(est)
    back = pickle.loads(blob)
    assert np.array_equal(back.transform(X), est.transform(X))
    assert np.array_equal(back.embedding_, est.embedding_)
    assert back.get_params() == est.get_params()
    # pickling leaves the original fitted
    assert np.array_equal(est.transform(X[:3]), back.transform(X[:3]))
    # the pickled state is the model directory's files, byte for byte
    est.save(tmp_path / "m")
    state = est.__getstate__()
    assert state["_model_files"]["model.safetensors"] == (tmp_path / "m" / "model.safetensors").read_bytes()
    assert state["_model_files"]["config.json"] == (tmp_path / "m" / "config.json").read_bytes()
    # an unfitted estimator pickles too
    assert pickle.loads(pickle.dumps(DrLIM(epochs=7))).epochs == 7


def test_save_and_load_round_trip(tmp_path):
    est, X = fitted(net="mlp", hidden=(12,), n_components=3, epochs=3)
    est.save(tmp_path / "model")
    back = drlim.load(tmp_path / "model")
    assert np.array_equal(back.transform(X), est.transform(X))
    assert back.n_components == 3 and back.hidden == (12,) and back.random_state == 1
    assert back.epochs == 3 and back.loss_curve_ == pytest.approx(est.loss_curve_)
    assert back.input_shape_ == (10,) and back.n_features_in_ == 10
    # a loaded estimator can be fitted again like any other
    assert back.fit(X).embedding_.shape == (120, 3)


def test_a_newer_model_format_is_refused_clearly(tmp_path):
    est, _ = fitted()
    est.save(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["format"] == drlim.model_format() == 1
    cfg["format"] = 2
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(OSError, match=r"config.json: written in model format 2 .*newer than this drlim .*upgrade drlim"):
        drlim.load(tmp_path / "m")
    # and in a pickle
    state = est.__getstate__()
    state["_model_files"]["config.json"] = json.dumps(cfg).encode()
    other = DrLIM()
    with pytest.raises(ValueError, match="newer than this drlim"):
        other.__setstate__(state)


def test_missing_or_damaged_model_directories_raise_oserror(tmp_path):
    with pytest.raises(OSError, match="nope: model directory does not exist"):
        drlim.load(tmp_path / "nope")
    est, _ = fitted()
    est.save(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(OSError, match="model.safetensors: not a valid safetensors file"):
        drlim.load(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(OSError, match="incomplete model directory: model.safetensors is missing"):
        drlim.load(tmp_path / "m")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError, match="cannot write|not a model directory|exists"):
        est.save(tmp_path / "file")


def test_cli_and_python_fit_the_same_model_bit_for_bit(tmp_path, cli, digits49):
    Xtr, _, Xte, _ = digits49
    Xtr, Xte = Xtr[:400], Xte[:100]
    np.save(tmp_path / "train.npy", Xtr)
    np.save(tmp_path / "test.npy", Xte)
    for net, extra in [("mlp", ["--hidden", "32,16"]), ("conv", [])]:
        m = tmp_path / f"cli-{net}"
        cli("--threads", 2, "fit", "--data", tmp_path / "train.npy", "--net", net, *extra,
            "--epochs", 2, "--seed", 7, "--model-out", m,
            "--embedding-out", tmp_path / f"cli-{net}-train.npy", "-q")
        cli("embed", "--model", m, "--data", tmp_path / "test.npy", "--out", tmp_path / f"cli-{net}-test.npy", "-q")
        kw = {"hidden": (32, 16)} if net == "mlp" else {}
        est = DrLIM(net=net, epochs=2, random_state=7, n_jobs=2, **kw).fit(Xtr)
        assert np.array_equal(est.embedding_, np.load(tmp_path / f"cli-{net}-train.npy")), net
        assert np.array_equal(est.transform(Xte), np.load(tmp_path / f"cli-{net}-test.npy")), net
        # the weights too, byte for byte
        est.save(tmp_path / f"py-{net}")
        assert (tmp_path / f"py-{net}" / "model.safetensors").read_bytes() == (m / "model.safetensors").read_bytes()
        # a model from the command line loads in Python, and one from Python embeds with it
        assert np.array_equal(drlim.load(m).transform(Xte), est.transform(Xte))
        cli("embed", "--model", tmp_path / f"py-{net}", "--data", tmp_path / "test.npy", "--out", tmp_path / f"py-{net}-test.npy", "-q")
        assert np.array_equal(np.load(tmp_path / f"py-{net}-test.npy"), est.transform(Xte))
