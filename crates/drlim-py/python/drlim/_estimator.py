"""The scikit-learn estimator over the Rust engine (``drlim._drlim``)."""

from __future__ import annotations

import json
import numbers
import os
import sys

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _drlim

# what the engine reads as it is; anything else numeric becomes float32
_DTYPES = [np.float32, np.float64, np.uint8]
_SOURCES = ("knn", "labels", "pairs", "temporal", "grid")
_FITTED = ("_model", "embedding_", "graph_", "loss_curve_", "n_iter_", "input_shape_",
           "neighbour_source_", "_n_features_out", "n_features_in_", "feature_names_in_")


class DrLIM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Dimensionality reduction by learning an invariant mapping (DrLIM).

    A network G_W (a fully connected net, or the paper's convnet for 28×28 images) is trained
    with the contrastive loss ``(1-Y)·½·D² + Y·½·max(0, m-D)²`` on pairs of neighbours
    (Y = 0) and non-neighbours (Y = 1), ``D`` the Euclidean distance of their images. The
    neighbours come from prior knowledge, never from the output space. New samples are mapped
    by the network (:meth:`transform`), without retraining.

    Every parameter left at ``None`` takes its value from ``preset``: ``"auto"`` (the default)
    chooses settings for any data from its size, ``"paper"`` gives the 2006 paper's settings
    (as ``DrLIM()`` did before presets). The values below are ``auto``'s / ``paper``'s.

    Parameters
    ----------
    n_components : int, default=2
        Output dimension d.
    preset : {"auto", "paper"}, default="auto"
        The defaults of the parameters left at ``None``. ``"auto"``: a three-layer MLP 128
        wide whose first layer trains on the top 30 principal components of wider samples
        (``pca=30``), the 15 nearest neighbours with fuzzy weights, every other sample of a
        batch a non-neighbour under the Cauchy InfoNCE loss, noise and feature dropout on every
        arm, batch 256, learning rate 0.2 (× √(64/D) above D = 64 inputs to the first layer)
        falling to a tenth over 24 epochs (fewer below 2,000 samples and above 10,000), features centred and scaled
        as a whole (``normalise="global"``). ``"paper"``: the paper's 5 neighbours, random
        non-neighbours, contrastive loss, batch 32, learning rate 0.005 for 80 epochs, a
        256-256 MLP, floats fed as they are; ``drlim fit --preset paper`` is the same but for
        the net, the paper's convnet there.
    net : {"mlp", "conv"}, default=None
        The network: a fully connected net with ``hidden`` layers, or the paper's 37,097-weight
        convnet, which takes 28×28 (or 32×32) images, given as an n×28×28 or n×784 array
        (auto / paper: ``"mlp"``).
    hidden : tuple of int, default=None
        Hidden layer widths of the ``"mlp"`` (auto: ``(128, 128, 128)``; paper: ``(256, 256)``).
    pca : int, default=None
        The ``"mlp"``'s first layer trains on the samples' top ``pca`` principal components
        (after the normalisation), which are folded into it afterwards: the fitted model takes
        the full samples. Faster, and less noise to fit, for wide vectors such as pixels; 0:
        off (auto: 30; paper: 0).
    neighbours : str or sequence of str, default="knn"
        Where neighbour pairs come from; several are united. ``"knn"``: the ``n_neighbors``
        nearest samples in input space; ``"labels"``: samples of the same ``y``; ``"pairs"``:
        the ``pairs`` given to :meth:`fit`; ``"temporal"``: samples at most ``window`` apart
        in order; ``"grid"``: neighbours on the grid of ``metadata`` (see :meth:`fit`).
    n_neighbors : int, default=None
        Nearest neighbours per sample (auto: 15; paper: 5).
    metric : {"euclidean", "cosine", "correlation"}, default="euclidean"
        The input-space distance of the nearest-neighbour graph. ``"cosine"`` (what text and
        image embeddings usually want) scales each sample to unit length, ``"correlation"``
        centres it on its own mean first; the fitted model does the same to every sample it
        maps, so that the map ignores what the metric ignores.
    knn : {"auto", "exact", "hnsw", "nndescent", "invariant"}, default="auto"
        How nearest neighbours are found: ``"auto"`` exactly up to 50,000 samples and by
        NN-descent above; exactly (grows with n², reproducible bit for bit); approximately by
        NN-descent (UMAP's method, the same graph for a seed on any thread count); approximately
        with an HNSW index (built in parallel, so the graph may differ slightly between runs);
        or exactly under the shifts and rotations declared in ``augment`` (images).
    knn_weights : {"uniform", "fuzzy"}, default=None
        How the nearest-neighbour pairs weigh: every pair once per epoch (the paper's way), or
        UMAP's fuzzy memberships: each epoch draws as many pairs, each in proportion to its
        membership, so that a sample's nearest neighbours count more than its farthest. Only
        with ``neighbours="knn"`` alone (auto: ``"fuzzy"`` there, else ``"uniform"``; paper:
        ``"uniform"``).
    margin : float, default=1.0
        The margin m of the contrastive loss.
    negatives : {"random", "batch"}, default=None
        Non-neighbours: ``neg_ratio`` random pairs per neighbour pair (the paper's), or every
        other sample of the batch (auto: ``"batch"``).
    neg_ratio : float, default=1.0
        Random non-neighbour pairs per neighbour pair.
    loss : {"contrastive", "cauchy-infonce"}, default=None
        The paper's loss, or t-SimCNE's (with ``negatives="batch"``) (auto: ``"cauchy-infonce"``,
        or ``"contrastive"`` where ``negatives="random"`` is asked for; paper: ``"contrastive"``).
    augment : str or dict, optional
        Declared invariances: each arm of each pair becomes a freshly drawn transformed copy,
        and each sample is paired with a copy of itself. Images: ``shift`` (pixels),
        ``rotate`` (degrees), ``scale``, ``shear``, ``elastic``, ``contrast``; any data:
        ``noise`` (standard deviation), ``dropout`` (probability). As ``"shift=2,rotate=10"``
        or ``{"shift": 2, "rotate": 10}``; ``"none"`` for no transformations (auto:
        ``"noise=0.3,dropout=0.1"``, in units of the normalised features; paper: none).
    augment_pairs : int, default=1
        Pairs of two copies of one sample, per sample and epoch (with ``augment``).
    augment_neighbours : bool, default=True
        Whether the graph's pairs are transformed too (with ``augment``).
    augment_final : float, default=1.0
        Strength of the ``augment`` transformations at the last epoch, as a fraction of the
        declared: they fall linearly from the declared strengths at the first epoch (1 keeps
        them constant). Milder transformations late let the map follow the samples' own
        neighbourhoods (higher trustworthiness).
    window : int, default=1
        For ``neighbours="temporal"``: the largest step between neighbours.
    epochs : int, default=None
        Passes over all neighbour pairs (auto: 24 up to 10,000 samples and 8 above, as UMAP's
        500 and 200; below 2,000 samples one per 80 samples, at least 12; paper: 80).
    batch_size : int, default=None
        Pairs per step (auto: 256; paper: 32).
    learning_rate : float, default=None
        Learning rate of the first epoch (auto: 0.2, × √(64/D) above D = 64 features;
        paper: 0.005).
    learning_rate_decay : float, default=None
        Learning-rate multiplier per epoch (auto: falling to a tenth by the last epoch;
        paper: 1).
    momentum : float, default=0.9
        SGD momentum.
    weight_decay : float, default=0.0
        L2 weight decay.
    optimizer : {"sgd", "adam"}, default="sgd"
        The optimiser (SGD runs on drlim's fast CPU path).
    engine : {"auto", "burn"}, default="auto"
        ``"auto"``: the fast CPU path where it applies; ``"burn"``: burn's generic autodiff.
    normalise : {"global", "auto", "none", "unit", "standardise"}, default=None
        Input normalisation, fixed by the training data and applied again by
        :meth:`transform`: ``"global"`` centres each feature and divides all by one scale (the
        neighbours stay the data's, whatever its units); ``"auto"`` divides uint8 by 255 and
        uses floats as they are; ``"standardise"`` scales each feature to unit variance (for
        features in unrelated units). auto: ``"global"``; paper: ``"auto"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights and of the pair sampling. An int ``s`` gives the model
        of ``drlim fit --seed s``.
    n_jobs : int, default=None
        Threads (None or -1: all cores). With the same ``random_state``, data and ``n_jobs``
        the embedding is bit-identical, in Python and from the command line.
    verbose : bool, default=False
        Print one line per epoch.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components), float32
        The training samples' coordinates.
    graph_ : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        The neighbour graph trained on (symmetric): ones at neighbour pairs, or their fuzzy
        memberships with ``knn_weights="fuzzy"``.
    loss_curve_ : list of float
        Mean loss of each epoch.
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
        Features seen in :meth:`fit` (for images: pixels per image).
    input_shape_ : tuple of int
        The shape of one sample, e.g. ``(784,)`` or ``(28, 28)``.
    neighbour_source_ : str
        The neighbour relation trained on, e.g. ``"knn(k=5)"``.

    Examples
    --------
    >>> import numpy as np
    >>> from drlim import DrLIM
    >>> X = np.random.default_rng(0).normal(size=(300, 20)).astype(np.float32)
    >>> est = DrLIM(hidden=(64,), epochs=5, random_state=0).fit(X[:200])
    >>> est.transform(X[200:]).shape
    (100, 2)
    """

    def __init__(
        self,
        n_components=2,
        *,
        preset="auto",
        net=None,
        hidden=None,
        pca=None,
        neighbours="knn",
        n_neighbors=None,
        metric="euclidean",
        knn="auto",
        knn_weights=None,
        margin=1.0,
        negatives=None,
        neg_ratio=1.0,
        loss=None,
        augment=None,
        augment_pairs=1,
        augment_neighbours=True,
        augment_final=1.0,
        window=1,
        epochs=None,
        batch_size=None,
        learning_rate=None,
        learning_rate_decay=None,
        momentum=0.9,
        weight_decay=0.0,
        optimizer="sgd",
        engine="auto",
        normalise=None,
        random_state=None,
        n_jobs=None,
        verbose=False,
    ):
        self.n_components = n_components
        self.preset = preset
        self.net = net
        self.hidden = hidden
        self.pca = pca
        self.neighbours = neighbours
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.knn = knn
        self.knn_weights = knn_weights
        self.margin = margin
        self.negatives = negatives
        self.neg_ratio = neg_ratio
        self.loss = loss
        self.augment = augment
        self.augment_pairs = augment_pairs
        self.augment_neighbours = augment_neighbours
        self.augment_final = augment_final
        self.window = window
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.engine = engine
        self.normalise = normalise
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ---------------------------------------------------------------- fitting

    def fit(self, X, y=None, *, pairs=None, metadata=None, grid=None):
        """Learn the mapping from the samples ``X`` and the declared prior knowledge.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, width)
            Training samples: uint8, float32 or float64 (other numbers become float32).
        y : array-like of shape (n_samples,), optional
            Labels, used only with ``neighbours="labels"`` (samples of one label are
            neighbours); ignored otherwise.
        pairs : array-like of shape (n_pairs, 2), optional
            Neighbour pairs as 0-based sample indices (``neighbours="pairs"``).
        metadata : array-like of shape (n_samples, n_columns), optional
            Whole-number metadata per sample, e.g. azimuth and elevation
            (``neighbours="grid"``).
        grid : sequence, optional
            The grid's dimensions over ``metadata``'s columns: ``(column, step)`` or
            ``(column, step, period)`` tuples, or ``"COLUMN:STEP[:PERIOD]"`` strings; samples
            one step apart along one dimension (and equal along the others) are neighbours,
            a period makes the dimension circular.

        Returns
        -------
        self : DrLIM
            The fitted estimator.
        """
        self._forget()
        try:
            return self._fit(X, y, pairs, metadata, grid)
        except BaseException:
            # an interrupted or failed fit leaves the estimator unfitted
            self._forget()
            raise

    def _fit(self, X, y, pairs, metadata, grid):
        X, shape = _flatten(X)
        X = validate_data(self, X, dtype=_DTYPES, ensure_min_samples=2)
        shape = shape or X.shape[1:]
        sources = _source_names(self.neighbours)
        # auto's 15 neighbours become n - 1 for fewer samples
        k = 5 if self.n_neighbors is None and self.preset == "paper" else self.n_neighbors
        k = None if k is None else _count(k, "n_neighbors", 1)
        if "knn" in sources and k is not None and k >= len(X):
            raise ValueError(
                f"n_neighbors = {k} nearest neighbours need more than {k} samples, but X has "
                f"{len(X)} (use a smaller n_neighbors)"
            )
        labels = None
        if "labels" in sources:
            if y is None:
                raise ValueError("neighbours='labels' needs y, the labels, in fit(X, y)")
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != len(X):
                raise ValueError(f"y must hold one label per sample ({len(X)}), got shape {y.shape}")
            labels = np.unique(y, return_inverse=True)[1].astype(np.int64).reshape(-1)
        if pairs is not None:
            pairs = _whole_numbers(pairs, "pairs")
        if metadata is not None:
            metadata = _whole_numbers(metadata, "metadata")
        settings = self._settings(sources, grid)
        callback = self._printer() if self.verbose else None
        model, embedding, pair_rows, pair_weights, history, _, described = _drlim.fit(
            X.reshape((len(X),) + tuple(shape)), json.dumps(settings), labels=labels, pairs=pairs, metadata=metadata,
            callback=callback, n_jobs=self.n_jobs,
        )
        n = len(X)
        if pair_weights is None:
            pair_weights = np.ones(len(pair_rows), dtype=np.float32)
        values = np.concatenate([pair_weights, pair_weights])
        rows = np.concatenate([pair_rows[:, 0], pair_rows[:, 1]])
        cols = np.concatenate([pair_rows[:, 1], pair_rows[:, 0]])
        self.graph_ = sp.csr_matrix((values, (rows, cols)), shape=(n, n))
        self.embedding_ = embedding
        self.loss_curve_ = [float(h[1]) for h in history]
        self.n_iter_ = len(history)
        self.input_shape_ = tuple(int(v) for v in shape)
        self.neighbour_source_ = described
        self._n_features_out = int(model.dim)
        self._model = model
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit on ``X`` and return its embedding (the same values as ``fit(X).transform(X)``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, width)
            Training samples.
        y : array-like of shape (n_samples,), optional
            Labels, for ``neighbours="labels"``.
        **fit_params
            ``pairs``, ``metadata``, ``grid``, as for :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components), float32
            The training samples' coordinates.
        """
        return self.fit(X, y, **fit_params).embedding_.copy()

    def transform(self, X):
        """Map samples with the fitted network (out of sample, no retraining).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, width)
            Samples shaped as in :meth:`fit`. C-contiguous float32 is read in place.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components), float32
            Their coordinates.
        """
        check_is_fitted(self)
        if self._takes_as_it_is(X):
            # the extension checks the values (finite) and reads them in place: scikit-learn's
            # validation of the same array would cost as much as mapping a few hundred samples
            return self._model.transform(X, n_jobs=self.n_jobs)
        X, shape = _flatten(X)
        if shape is not None and shape != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {shape}, but {type(self).__name__} was fitted on "
                f"samples of shape {self.input_shape_}"
            )
        X = validate_data(self, X, dtype=_DTYPES, reset=False)
        return self._model.transform(X, n_jobs=self.n_jobs)

    def _takes_as_it_is(self, X):
        """Whether X is an array of samples the fitted model reads without conversion: a
        non-empty ndarray of a dtype it takes, rows of the fitted width or samples of the
        fitted shape, and no feature names to check."""
        return (
            type(X) is np.ndarray
            and X.dtype in _DTYPES
            and X.ndim >= 2
            and X.shape[0] > 0
            and X.shape[1:] in ((self.n_features_in_,), tuple(self.input_shape_))
            and not hasattr(self, "feature_names_in_")
        )

    def view(self, labels=None, images=None, meta=None, *, new=None, new_labels=None,
             new_meta=None, **kwargs):
        """An interactive map of the training embedding (``embedding_``), as
        :func:`drlim.view` makes it; shown inline in Jupyter.

        Parameters
        ----------
        labels, images, meta
            Of the training samples, as :func:`drlim.view` takes them (``images``: the training
            samples themselves, shown on hover).
        new : array of samples, optional
            Samples to map with :meth:`transform` and draw as rings over the training map (they
            are also what their hover cards show).
        new_labels, new_meta
            Of the new samples.
        **kwargs
            ``path``, ``title``, ``circular``, ``image_shape``, ``show_values``, ``max_mb``,
            ``max_thumbnails``: see :func:`drlim.view`.
        """
        check_is_fitted(self)
        from ._view import view

        if self.embedding_.shape[1] not in (2, 3):
            raise ValueError(f"a map shows 2 or 3 dimensions; this model has n_components="
                             f"{self.embedding_.shape[1]}")
        mapped = None if new is None else self.transform(new)
        return view(self.embedding_, labels, images, meta, new=mapped, new_labels=new_labels,
                    new_images=new, new_meta=new_meta, **kwargs)

    # ---------------------------------------------------------------- models

    def save(self, path):
        """Write the fitted model as a model directory (``config.json`` +
        ``model.safetensors``), which ``drlim embed --model PATH`` and :func:`load` read.

        Parameters
        ----------
        path : str or os.PathLike
            The directory (created, or replaced as a whole if it holds a drlim model).
        """
        check_is_fitted(self)
        self._model.save(os.fspath(path))

    def export_onnx(self, path=None):
        """The fitted model as ONNX (opset 17), as ``drlim export`` writes it: input
        ``"input"``, float32 ``(batch, *input_shape_)`` with the raw values ``fit`` was given
        (pixels 0–255 for uint8 images: the normalisation, and the convnet's padding to
        32×32, are inside the graph); output ``"embedding"``, float32 ``(batch,
        n_components)``, equal to :meth:`transform`'s to 1e-5.

        Parameters
        ----------
        path : str or os.PathLike, optional
            The file to write (through a temporary file renamed into place).

        Returns
        -------
        bytes or None
            The ONNX file's bytes when no ``path`` is given (for
            ``onnxruntime.InferenceSession(bytes)``), else None.
        """
        check_is_fitted(self)
        if path is None:
            return self._model.to_onnx()
        self._model.export_onnx(os.fspath(path))
        return None

    # ---------------------------------------------------------------- scikit-learn protocol

    def __sklearn_is_fitted__(self):
        return getattr(self, "_model", None) is not None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # the coordinates are float32 whatever the input's precision (the network computes in
        # float32), so float32 is the one dtype preserved
        tags.transformer_tags.preserves_dtype = ["float32"]
        # images (n×H×W) are taken as well as n×D (n_features_in_ is then H·W)
        tags.input_tags.three_d_array = True
        # y is used only with neighbours="labels"
        tags.target_tags.required = False
        return tags

    def __getstate__(self):
        # the pickled state is the model directory's bytes, so that an unpickled estimator
        # transforms identically, and a pickle holds nothing but numbers and those files
        state = dict(super().__getstate__())  # object.__getstate__ is the live __dict__
        model = state.pop("_model", None)
        if model is not None:
            config, weights = model.to_files()
            state["_model_files"] = {"config.json": config, "model.safetensors": weights}
        return state

    def __setstate__(self, state):
        files = state.pop("_model_files", None)
        super().__setstate__(state)
        if files is not None:
            self._model = _drlim.Model.from_files(
                files["config.json"], files["model.safetensors"], "pickled drlim model"
            )

    # ---------------------------------------------------------------- helpers

    def _forget(self):
        for name in _FITTED:
            self.__dict__.pop(name, None)

    def _settings(self, sources, grid):
        seed = _seed(self.random_state)
        preset = _choice(self.preset, "preset", ("auto", "paper"))
        if self.hidden is not None and (not isinstance(self.hidden, (tuple, list)) or not all(
            isinstance(h, numbers.Integral) and h > 0 for h in self.hidden
        )):
            raise ValueError(f"hidden must be a tuple of positive ints, got {self.hidden!r}")
        net = self.net
        if net is None and preset == "paper":
            net = "mlp"  # DrLIM()'s net before presets; the CLI's paper preset has the convnet
        return {
            "preset": preset,
            "net": _maybe(net, lambda v: _choice(v, "net", ("mlp", "conv"))),
            "hidden": _maybe(self.hidden, lambda v: [int(h) for h in v]),
            "pca": _maybe(self.pca, lambda v: _count(v, "pca", 0)),
            "dim": _count(self.n_components, "n_components", 1),
            "k": _maybe(self.n_neighbors, lambda v: _count(v, "n_neighbors", 1)),
            "knn": _choice(self.knn, "knn", ("auto", "exact", "hnsw", "nndescent", "invariant")),
            "knn_weights": _maybe(
                self.knn_weights, lambda v: _choice(v, "knn_weights", ("uniform", "fuzzy"))),
            "metric": _choice(self.metric, "metric", ("euclidean", "cosine", "correlation")),
            "normalise": _maybe(self.normalise, lambda v: _choice(
                v, "normalise", ("global", "auto", "none", "unit", "standardise", "standardize"))),
            "neighbours": list(sources),
            "window": _count(self.window, "window", 1),
            "grid": _grid(grid),
            "epochs": _maybe(self.epochs, lambda v: _count(v, "epochs", 1)),
            "batch": _maybe(self.batch_size, lambda v: _count(v, "batch_size", 1)),
            "lr": _maybe(self.learning_rate, float),
            "lr_decay": _maybe(self.learning_rate_decay, float),
            "momentum": float(self.momentum),
            "weight_decay": float(self.weight_decay),
            "optimizer": _choice(self.optimizer, "optimizer", ("sgd", "adam")),
            "margin": float(self.margin),
            "neg_ratio": float(self.neg_ratio),
            "negatives": _maybe(
                self.negatives, lambda v: _choice(v, "negatives", ("random", "batch"))),
            "loss": _maybe(self.loss, lambda v: _choice(v, "loss", ("contrastive", "cauchy-infonce"))),
            "seed": seed,
            "engine": _choice(self.engine, "engine", ("auto", "burn")),
            "augment": _augment_spec(self.augment),
            "augment_pairs": _count(self.augment_pairs, "augment_pairs", 1),
            "augment_neighbours": bool(self.augment_neighbours),
            "augment_final": float(self.augment_final),
        }

    def _printer(self):
        of = "" if self.epochs is None else f"/{self.epochs}"

        def show(epoch, loss, lr, pairs, seconds):
            rate = pairs / max(seconds, 1e-9)
            print(
                f"epoch {epoch}{of}  loss {loss:.5f}  lr {lr:.4g}  "
                f"{pairs} pairs in {seconds:.2f} s ({rate:,.0f}/s)",
                file=sys.stdout,
                flush=True,
            )

        return show


def load(path):
    """Load a model directory written by :meth:`DrLIM.save` or ``drlim fit``.

    Parameters
    ----------
    path : str or os.PathLike
        The model directory.

    Returns
    -------
    estimator : DrLIM
        A fitted estimator whose :meth:`~DrLIM.transform` maps as the model does, with the
        parameters recorded in ``config.json``. It has no ``embedding_`` or ``graph_`` (a
        model directory does not hold the training data).

    Raises
    ------
    OSError
        If the directory is missing, incomplete, damaged, or of a newer format.
    """
    model = _drlim.Model.load(os.fspath(path))
    return _from_model(model)


def _from_model(model):
    config = json.loads(model.config_json)
    arch = config["architecture"]
    training = config.get("training") or {}
    s = training.get("settings") or {}
    params = {"n_components": int(model.dim), "random_state": int(config.get("seed", 0)),
              "metric": config["input"].get("metric", "euclidean")}
    if arch.get("net") == "mlp":
        params.update(net="mlp", hidden=tuple(arch.get("hidden", ())),
                      pca=int(training.get("pca_components", 0)))
    else:
        params["net"] = "conv"
    names = {
        "epochs": "epochs", "batch": "batch_size", "lr": "learning_rate",
        "lr_decay": "learning_rate_decay", "momentum": "momentum",
        "weight_decay": "weight_decay", "optimizer": "optimizer", "margin": "margin",
        "neg_ratio": "neg_ratio", "negatives": "negatives", "loss": "loss",
        "engine": "engine", "augment_pairs": "augment_pairs",
        "augment_neighbours": "augment_neighbours", "augment_final": "augment_final",
    }
    for key, name in names.items():
        if key in s:
            params[name] = s[key]
    if isinstance(s.get("augment"), dict):
        params["augment"] = ",".join(f"{k}={v:g}" for k, v in s["augment"].items() if v) or "none"
    elif "augment" in s:
        params["augment"] = "none"
    est = DrLIM(**params)
    shape = tuple(int(v) for v in config["input"]["shape"])
    est.input_shape_ = shape
    est.n_features_in_ = int(np.prod(shape))
    est._n_features_out = int(model.dim)
    if "loss_curve" in training:
        est.loss_curve_ = [float(v) for v in training["loss_curve"]]
        est.n_iter_ = len(est.loss_curve_)
    est.neighbour_source_ = training.get("neighbours", "")
    est._model = model
    return est


def _flatten(X):
    """Images (n×H×W, or n×1×H×W) as n×(H·W) rows, which scikit-learn's validation takes, and
    the shape of one image; other input as it is, and None."""
    if isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.ndim > 2):
        arr = np.asarray(X)
        if arr.ndim > 2:
            shape = tuple(int(v) for v in arr.shape[1:])
            if len(shape) == 3 and shape[0] == 1:
                shape = shape[1:]
            if len(shape) != 2:
                raise ValueError(
                    f"expected samples as an n×D, n×H×W or n×1×H×W array, got shape {arr.shape}"
                )
            return arr.reshape(arr.shape[0], -1), shape
    return X, None


def _source_names(neighbours):
    if isinstance(neighbours, str):
        names = [s.strip() for s in neighbours.split(",") if s.strip()]
    else:
        names = list(neighbours)
    if not names:
        raise ValueError("neighbours must name at least one source")
    for s in names:
        if s not in _SOURCES:
            raise ValueError(f"neighbours: unknown source {s!r}; one of {', '.join(_SOURCES)}")
    return names


def _choice(value, name, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _maybe(value, check):
    """None stays None (the preset decides); anything else is checked."""
    return None if value is None else check(value)


def _count(value, name, least):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError(f"{name} must be an int ≥ {least}, got {value!r}")
    return int(value)


def _seed(random_state):
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if not 0 <= random_state < 2**64:
            raise ValueError(f"random_state must be an int in [0, 2**64), got {random_state}")
        return int(random_state)
    rng = check_random_state(random_state)
    return int(rng.randint(0, 2**63 - 1, dtype=np.int64))


def _whole_numbers(a, name):
    arr = np.asarray(a)
    if arr.dtype.kind in "iu":
        return np.ascontiguousarray(arr, dtype=np.int64)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return np.ascontiguousarray(arr, dtype=np.int64)
    raise ValueError(f"{name} must hold whole numbers, got an array of {arr.dtype}")


def _grid(grid):
    if grid is None:
        return []
    dims = []
    one = isinstance(grid, str) or (
        len(grid) > 0 and isinstance(grid[0], numbers.Integral)
    )
    for g in [grid] if one else grid:
        if isinstance(g, str):
            parts = [p.strip() for p in g.split(":")]
        else:
            parts = list(g)
        try:
            nums = [int(p) for p in parts]
        except (TypeError, ValueError):
            raise ValueError(f"grid: {g!r} is not COLUMN:STEP[:PERIOD] in whole numbers") from None
        if len(nums) not in (2, 3):
            raise ValueError(f"grid: {g!r} is not (column, step) or (column, step, period)")
        dims.append([nums[0], nums[1], nums[2] if len(nums) == 3 else None])
    return dims


def _augment_spec(augment):
    if augment is None:
        return None
    if isinstance(augment, dict):
        return ",".join(f"{k}={v}" for k, v in augment.items()) or "none"
    if isinstance(augment, str):
        return augment.strip() or "none"
    raise ValueError(f"augment must be a 'key=value,…' string or a dict, got {augment!r}")
