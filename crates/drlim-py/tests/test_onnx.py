"""ONNX export: the graph, run in ONNX Runtime, maps raw samples as `drlim embed` and
`transform` do (to 1e-5), for both nets and any batch size; it passes the ONNX checker."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from drlim import DrLIM

from conftest import blobs


def run_onnx(model_bytes, X):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    return session.run(["embedding"], {"input": np.ascontiguousarray(X, dtype=np.float32)})[0]


def check_graph(model_bytes, sample_shape, dim):
    m = onnx.load_from_string(model_bytes)
    onnx.checker.check_model(m, full_check=True)
    assert max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")) >= 17
    dims = [(d.dim_param or d.dim_value) for d in m.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", *sample_shape]
    dims = [(d.dim_param or d.dim_value) for d in m.graph.output[0].type.tensor_type.shape.dim]
    assert dims == ["batch", dim]


@pytest.fixture(scope="module")
def conv_model(digits49, tmp_path_factory):
    X, _, X_test, _ = digits49
    est = DrLIM(net="conv", epochs=2, random_state=0, n_jobs=2).fit(X[:300])
    path = tmp_path_factory.mktemp("conv")
    est.save(path / "M")
    return est, X_test[:150], path


def test_convnet_onnx_equals_drlim_embed_in_onnx_runtime(conv_model, cli):
    est, X_test, path = conv_model
    np.save(path / "test.npy", X_test)
    cli("export", "--model", path / "M", "--out", path / "m.onnx", "-q")
    cli("embed", "--model", path / "M", "--data", path / "test.npy", "--out", path / "E.npy", "-q")
    expected = np.load(path / "E.npy")
    model_bytes = (path / "m.onnx").read_bytes()
    check_graph(model_bytes, [28, 28], 2)
    # raw pixel values in: the ÷255 and the padding to 32×32 are in the graph
    got = run_onnx(model_bytes, X_test.astype(np.float32))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got, est.transform(X_test), rtol=1e-5, atol=1e-5)
    # Python's export is the command line's, byte for byte
    assert est.export_onnx() == model_bytes
    est.export_onnx(path / "py.onnx")
    assert (path / "py.onnx").read_bytes() == model_bytes


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_onnx_batch_axis_is_dynamic(conv_model, batch):
    est, X_test, _ = conv_model
    got = run_onnx(est.export_onnx(), X_test[10 : 10 + batch].astype(np.float32))
    assert got.shape == (batch, 2)
    np.testing.assert_allclose(got, est.transform(X_test)[10 : 10 + batch], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("normalise, metric", [
    ("none", "euclidean"), ("standardise", "euclidean"), ("global", "cosine"), ("none", "correlation"),
])
def test_mlp_onnx_equals_drlim_embed_in_onnx_runtime(normalise, metric, tmp_path, cli):
    X, _ = blobs(n=200, d=12)
    X = X * 40.0 + 300.0  # far from standardised
    est = DrLIM(n_components=3, hidden=(32, 16), epochs=3, normalise=normalise, metric=metric,
                random_state=2).fit(X)
    est.save(tmp_path / "M")
    np.save(tmp_path / "x.npy", X)
    cli("embed", "--model", tmp_path / "M", "--data", tmp_path / "x.npy", "--out", tmp_path / "E.npy", "-q")
    model_bytes = est.export_onnx()
    check_graph(model_bytes, [12], 3)
    np.testing.assert_allclose(run_onnx(model_bytes, X), np.load(tmp_path / "E.npy"), rtol=1e-5, atol=1e-5)


def test_export_before_fit_and_to_a_missing_folder_fail_cleanly(conv_model, tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        DrLIM().export_onnx()
    est = conv_model[0]
    with pytest.raises(OSError, match="m.onnx"):
        est.export_onnx(tmp_path / "no" / "such" / "m.onnx")
    assert list(tmp_path.iterdir()) == []
