"""drlim: Dimensionality Reduction by Learning an Invariant Mapping.

Hadsell, Chopra & LeCun (CVPR 2006): a neural network G_W maps each sample to a point in a
low-dimensional space. It is trained with the contrastive loss on pairs of samples whose
neighbour relation comes from prior knowledge (the k nearest neighbours in input space, labels,
explicit pairs, a metadata grid, time, declared invariances), so that new samples map without
retraining and what the neighbour relation ignores, the map learns to ignore.

The estimator :class:`DrLIM` follows scikit-learn's conventions (``fit``, ``transform``,
``fit_transform``, ``get_params``/``set_params``, pickling); :func:`load` reads a model
directory written by :meth:`DrLIM.save` or by the command line's ``drlim fit``.

>>> import numpy as np, drlim
>>> X = np.random.default_rng(0).normal(size=(200, 10)).astype(np.float32)
>>> Y = drlim.DrLIM(hidden=(32,), epochs=3, random_state=0).fit_transform(X)
>>> Y.shape
(200, 2)
"""

import numpy as _np

from ._drlim import model_format, version
from ._estimator import DrLIM, load
from ._view import Map, view

__version__ = version()

__all__ = ["DrLIM", "Map", "load", "load_digits", "model_format", "view", "__version__"]


def load_digits(digits=None):
    """The built-in digits: 10,000 real MNIST test images, as the command line has them.

    Parameters
    ----------
    digits : sequence of int, optional
        Keep only these digits (in file order), e.g. ``(4, 9)`` for the paper's experiment.

    Returns
    -------
    X : ndarray of shape (n, 28, 28), uint8
        The images.
    y : ndarray of shape (n,), int64
        Their digits.
    """
    X, y = _drlim.builtin_digits()
    if digits is not None:
        keep = _np.isin(y, list(digits))
        X, y = X[keep], y[keep]
    return X, y


from . import _drlim  # noqa: E402
