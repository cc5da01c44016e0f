"""What fit and transform take, and how bad input fails: ValueError (data, settings) or
OSError (files) with the engine's message, never a crash."""

import numpy as np
import pandas as pd
import pytest

from drlim import DrLIM

from conftest import blobs


@pytest.fixture(scope="module")
def est():
    X, _ = blobs()
    return DrLIM(hidden=(16,), epochs=2, random_state=0, n_jobs=1).fit(X), X


def test_dtypes_orders_and_containers_give_the_same_coordinates(est):
    est, X = est
    ref = est.transform(X)
    assert ref.dtype == np.float32 and ref.shape == (120, 2)
    assert np.array_equal(est.transform(np.asfortranarray(X)), ref)
    assert np.array_equal(est.transform(X.astype(np.float64)), ref)
    assert np.array_equal(est.transform(np.asfortranarray(X.astype(np.float64))), ref)
    assert np.array_equal(est.transform(X.tolist()), ref)
    assert np.array_equal(est.transform(pd.DataFrame(X)), ref)
    assert np.array_equal(est.transform(X[::2]), ref[::2])  # a strided view
    # one sample alone maps as it does among others
    assert np.array_equal(est.transform(X[7:8]), ref[7:8])


def test_c_contiguous_float32_reaches_the_engine_uncopied(est, monkeypatch):
    est, X = est
    seen = []
    model = est._model

    class Spy:
        def transform(self, arr, n_jobs=None):
            seen.append(arr)
            return model.transform(arr, n_jobs=n_jobs)

    monkeypatch.setattr(est, "_model", Spy())
    est.transform(X)
    assert seen[0] is X or np.shares_memory(seen[0], X)


def test_uint8_images_and_the_convnet():
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    est = DrLIM(net="conv", epochs=1, random_state=0, n_jobs=1).fit(imgs)
    ref = est.transform(imgs)
    assert est.input_shape_ == (28, 28)
    # the same images as n×784, as n×1×28×28, as floats 0–255
    assert np.array_equal(est.transform(imgs.reshape(40, 784)), ref)
    assert np.array_equal(est.transform(np.asfortranarray(imgs)), ref)
    assert np.array_equal(est.transform(imgs[:, None]), ref)
    # the stored normalisation (÷255, fixed by the uint8 training data) applies to floats too
    assert np.array_equal(est.transform(imgs.astype(np.float32)), ref)
    with pytest.raises(ValueError, match="conv net takes 28×28"):
        DrLIM(net="conv", epochs=1).fit(rng.normal(size=(40, 10)))


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 4.0]]), "NaN"),
        (np.array([[0.0, 1.0], [np.inf, 2.0], [3.0, 4.0]]), "infinity"),
        (np.zeros((0, 3)), "0 sample"),
        (np.zeros((1, 3)), "1 sample"),
        (np.zeros(5), "Expected 2D array"),
        ([["a", "b"], ["c", "d"]], "could not convert|argument must be"),
    ],
)
def test_bad_data_raises_valueerror(X, message):
    with pytest.raises((ValueError, TypeError), match=message):
        DrLIM(epochs=1).fit(X)


def test_k_at_least_n_names_the_problem():
    X = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(ValueError, match=r"n_neighbors = 5 nearest neighbours need more than 5 samples, but X has 5"):
        DrLIM(preset="paper", epochs=1).fit(X)
    with pytest.raises(ValueError, match=r"n_neighbors = 6 nearest neighbours need more than 6 samples, but X has 5"):
        DrLIM(n_neighbors=6, epochs=1).fit(X)
    # the auto preset's 15 neighbours become n - 1 on fewer samples
    assert DrLIM(epochs=1, hidden=(4,)).fit(X).neighbour_source_ == "knn(k=4) with fuzzy weights"
    X12 = np.random.default_rng(0).normal(size=(12, 3))
    assert DrLIM(epochs=1, n_neighbors=4, hidden=(4,)).fit(X12).graph_.nnz >= 12 * 4


def test_transform_checks_shape_and_values(est):
    est, X = est
    with pytest.raises(ValueError, match="X has 9 features, but DrLIM is expecting 10"):
        est.transform(X[:, :9])
    bad = X.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.transform(bad)
    with pytest.raises(Exception, match="not fitted"):
        DrLIM().transform(X)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"learning_rate": -1.0}, "learning_rate must be"),
        ({"batch_size": 0}, "batch_size must be an int"),
        ({"net": "resnet"}, "net must be one of"),
        ({"neighbours": "friends"}, "unknown source 'friends'"),
        ({"augment": "spin=3"}, "augment: .*spin"),
        ({"augment": "noise=0.1", "augment_final": 1.5}, r"augment_final must be in \[0, 1\]"),
        ({"hidden": (16, 0)}, "hidden must be a tuple of positive ints"),
        ({"n_jobs": 0}, "n_jobs == 0"),
        ({"random_state": -3}, "random_state must be"),
        ({"neighbours": "labels"}, "needs y"),
        ({"neighbours": "pairs"}, r"needs fit\(X, pairs="),
        ({"neighbours": "grid"}, r"needs fit\(X, metadata="),
        ({"knn_weights": "heavy"}, "knn_weights must be one of"),
        ({"knn_weights": "fuzzy", "neighbours": ("knn", "temporal")}, "needs neighbours='knn' alone"),
    ],
)
def test_bad_settings_raise_valueerror_naming_them(params, message):
    X, _ = blobs()
    with pytest.raises(ValueError, match=message):
        DrLIM(epochs=1, **params).fit(X)


def test_bad_prior_knowledge_raises_valueerror():
    X, y = blobs(n=30)
    with pytest.raises(ValueError, match="pairs row 1 pairs samples 2 and 30, but X has samples 0 to 29"):
        DrLIM(neighbours="pairs", epochs=1).fit(X, pairs=[[0, 1], [2, 30]])
    with pytest.raises(ValueError, match="pairs must hold whole numbers"):
        DrLIM(neighbours="pairs", epochs=1).fit(X, pairs=[[0, 1.5]])
    with pytest.raises(ValueError, match="metadata has 2 rows but X has 30 samples"):
        DrLIM(neighbours="grid", epochs=1).fit(X, metadata=[[0], [1]], grid=[(0, 1)])
    with pytest.raises(ValueError, match="column 3 is not among the metadata's 1 columns"):
        DrLIM(neighbours="grid", epochs=1).fit(X, metadata=np.arange(30)[:, None], grid="3:1")
    with pytest.raises(ValueError, match="y must hold one label per sample"):
        DrLIM(neighbours="labels", epochs=1).fit(X, y[:10])


def test_prior_knowledge_from_python_shapes_the_graph():
    X, y = blobs(n=60)
    by_label = DrLIM(neighbours="labels", hidden=(8,), epochs=1, random_state=0).fit(X, y)
    # every pair of samples with one label, and no other
    assert by_label.graph_.nnz == 3 * 20 * 19
    assert by_label.neighbour_source_ == "same-label"
    pairs = np.array([[0, 1], [1, 2], [5, 9]])
    listed = DrLIM(neighbours="pairs", hidden=(8,), epochs=1).fit(X, pairs=pairs)
    assert listed.graph_.nnz == 6 and listed.graph_[5, 9] == 1 and listed.graph_[9, 5] == 1
    # a ring of 60 positions with period 60: each sample has two neighbours
    ring = DrLIM(neighbours="grid", hidden=(8,), epochs=1).fit(
        X, metadata=np.arange(60)[:, None], grid=[(0, 1, 60)]
    )
    assert ring.graph_.nnz == 120
    both = DrLIM(neighbours=("knn", "temporal"), hidden=(8,), epochs=1).fit(X)
    assert both.graph_.nnz >= ring.graph_.nnz - 2
    noisy = DrLIM(hidden=(8,), epochs=1, augment={"noise": 0.1, "dropout": 0.1}).fit(X)
    assert noisy.embedding_.shape == (60, 2)
    # fuzzy weights keep the pairs and weigh them by membership, at most 1
    fuzzy = DrLIM(knn_weights="fuzzy", n_neighbors=5, hidden=(8,), epochs=1, random_state=0).fit(X)
    plain = DrLIM(knn_weights="uniform", n_neighbors=5, hidden=(8,), epochs=1, random_state=0).fit(X)
    assert (fuzzy.graph_ != 0).sum() == plain.graph_.nnz and np.all(plain.graph_.data == 1)
    assert fuzzy.neighbour_source_ == "knn(k=5) with fuzzy weights"
    w = fuzzy.graph_.data
    assert np.all((w > 0) & (w <= 1)) and w.min() < 0.9 and np.allclose(fuzzy.graph_.T.toarray(), fuzzy.graph_.toarray())
    assert not np.array_equal(fuzzy.embedding_, plain.embedding_)
    # transformations that fall to nothing by the last epoch train otherwise
    settings = dict(hidden=(8,), epochs=3, augment={"noise": 0.5}, random_state=0)
    constant = DrLIM(**settings).fit(X).embedding_
    falling = DrLIM(augment_final=0.0, **settings).fit(X).embedding_
    assert not np.array_equal(constant, falling)
