"""The defaults: the `auto` preset alike from Python and the command line, the `paper` preset
as the defaults were before presets, maps that do not move with the data's units, and the
cosine metric."""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from drlim import DrLIM


def clusters(n=600, d=12, seed=0):
    """Six Gaussian clusters of unequal spread in d dimensions, features on unequal scales."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 6, size=n)
    centres = rng.normal(scale=4.0, size=(6, d))
    X = centres[y] + rng.normal(size=(n, d)) * (0.5 + 0.2 * y[:, None])
    return (X * np.linspace(0.5, 3.0, d)).astype(np.float32), y


def test_auto_defaults_give_the_command_lines_model_byte_for_byte(tmp_path, cli):
    X, _ = clusters(300)
    np.save(tmp_path / "x.npy", X)
    est = DrLIM(random_state=4, n_jobs=1).fit(X)
    est.save(tmp_path / "py")
    cli("--threads", "1", "fit", "--data", tmp_path / "x.npy", "--model-out", tmp_path / "cli",
        "--seed", "4", "--quiet")
    a = (tmp_path / "py" / "model.safetensors").read_bytes()
    b = (tmp_path / "cli" / "model.safetensors").read_bytes()
    assert a == b
    assert est.neighbour_source_ == "knn(k=15) with fuzzy weights"


def test_the_paper_preset_is_the_old_defaults_spelled_out():
    X, _ = clusters(200)
    old = dict(net="mlp", hidden=(256, 256), n_neighbors=5, knn_weights="uniform",
               negatives="random", loss="contrastive", epochs=3, batch_size=32,
               learning_rate=0.005, learning_rate_decay=1.0, normalise="auto", augment="none")
    spelled = DrLIM(random_state=2, n_jobs=1, **old).fit(X)
    paper = DrLIM(preset="paper", epochs=3, random_state=2, n_jobs=1).fit(X)
    assert np.array_equal(paper.embedding_, spelled.embedding_)
    assert paper.neighbour_source_ == "knn(k=5)"


def test_the_map_does_not_move_with_the_units():
    X, y = clusters()
    tr, te = slice(0, 420), slice(420, None)

    def accuracy(Z):
        est = DrLIM(random_state=0, n_jobs=1).fit(Z[tr])
        return KNeighborsClassifier(5).fit(est.embedding_, y[tr]).score(est.transform(Z[te]), y[te])

    base = accuracy(X)
    assert base > 0.9
    assert abs(accuracy(1000.0 * X) - base) < 0.01
    assert abs(accuracy(X + 250.0) - base) < 0.01


@pytest.mark.parametrize("metric", ["cosine", "correlation"])
def test_cosine_and_correlation_are_euclidean_on_their_unit_rows(metric):
    X, _ = clusters(200, seed=3)
    if metric == "correlation":
        U = X - X.mean(axis=1, keepdims=True)
    else:
        U = X.astype(np.float64)
    U = (U / np.linalg.norm(U, axis=1, keepdims=True)).astype(np.float32)
    params = dict(epochs=2, random_state=1, n_jobs=1)
    by_metric = DrLIM(metric=metric, **params).fit(X)
    euclid = DrLIM(**params).fit(U)
    # the same pairs, their fuzzy weights equal up to rounding
    assert ((by_metric.graph_ != 0) != (euclid.graph_ != 0)).nnz == 0
    np.testing.assert_allclose(by_metric.graph_.toarray(), euclid.graph_.toarray(), atol=1e-5)
    np.testing.assert_allclose(by_metric.transform(X), euclid.transform(U), atol=1e-4)
    # the length of a sample does not move it
    np.testing.assert_allclose(by_metric.transform(3.0 * X), by_metric.transform(X), atol=1e-4)
    with pytest.raises(ValueError, match="metric must be one of"):
        DrLIM(metric="manhattan").fit(X)
