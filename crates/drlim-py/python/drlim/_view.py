"""Interactive maps: one self-contained HTML file (WebGL 2; no server, no network) that pans,
zooms and, in 3-D, turns; colours points by labels or metadata; shows each sample (a thumbnail
for images) on hover; draws out-of-sample points as rings over the training map; searches; and
selects with a lasso. The same file as ``drlim view`` on the command line writes."""

import html as _html
import os

import numpy as np

from . import _drlim

DEFAULT_MAX_MB = 512
DEFAULT_MAX_THUMBNAILS = 200_000


class Map:
    """An interactive map: its HTML (``html``), and the file it was written to (``path``) if
    any. Shown inline in Jupyter; ``save(path)`` writes it."""

    def __init__(self, html, path, n_bytes, n_points):
        self.html = html
        self.path = path
        self.n_bytes = n_bytes
        self.n_points = n_points

    def save(self, path):
        """Writes the map to ``path`` (through a temporary file renamed into place)."""
        if self.html is None:
            with open(self.path, encoding="utf-8") as f:
                self.html = f.read()
        tmp = f"{path}.drlim-tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.html)
        os.replace(tmp, path)
        return path

    def _repr_html_(self):
        html = self.html
        if html is None:
            with open(self.path, encoding="utf-8") as f:
                html = f.read()
        return ('<iframe style="width:100%;height:600px;border:1px solid #ddd" '
                f'srcdoc="{_html.escape(html, quote=True)}"></iframe>')

    def __repr__(self):
        where = f" at {self.path}" if self.path else ""
        return f"<drlim map of {self.n_points} points, {self.n_bytes / 2**20:.1f} MB{where}>"


def view(embedding, labels=None, images=None, meta=None, *, new=None, new_labels=None,
         new_images=None, new_meta=None, circular=None, image_shape=None, show_values=None,
         path=None, title="DrLIM map", max_mb=DEFAULT_MAX_MB,
         max_thumbnails=DEFAULT_MAX_THUMBNAILS):
    """An interactive map of an embedding, as one self-contained HTML file.

    Parameters
    ----------
    embedding : array of shape (n, 2) or (n, 3)
        The training map (e.g. ``DrLIM().fit_transform(X)``).
    labels : array of shape (n,), optional
        A column named ``label`` (categories with a legend whose entries toggle their points).
    images : array of shape (n, h, w) or (n, d), optional
        The samples, shown on hover: images as thumbnails, vectors as their first 12 values
        (give ``image_shape=(h, w)`` for flat images).
    meta : dict of name -> array, or a pandas DataFrame, optional
        More per-point columns: numbers get a colour bar (whole numbers with at most 64
        values a legend), text a legend.
    new, new_labels, new_images, new_meta : optional
        Out-of-sample points (``transform``'s output) and theirs, drawn as rings over the map.
    circular : dict of name -> period, optional
        Columns of angles, coloured on a wheel, e.g. ``{"azimuth": 360}``.
    show_values : sequence of int, optional
        Which values of vector samples a hover card shows (0-based, at most 12; default: the
        first 12).
    path : str, optional
        Write the map here (atomically); else it is kept in memory.
    title : str
    max_mb : float
        Refuse (``ValueError``) a map larger than this.
    max_thumbnails : int
        Thumbnails for at most this many points per layer (past it, every k-th point).

    Returns
    -------
    Map
        Shown inline by Jupyter; ``.html`` is the page, ``.save(path)`` writes it.
    """
    circular = dict(circular or {})
    layers = [_layer("training", embedding, labels, images, meta, circular, image_shape)]
    for layer in layers:
        layer["show_values"] = None if show_values is None else [int(j) for j in show_values]
    names = {c[0] for c in layers[0]["columns"]}
    unknown = sorted(set(circular) - names)
    if unknown:
        raise ValueError(f"circular: no column named {', '.join(unknown)} "
                         f"(the columns are: {', '.join(sorted(names)) or 'none'})")
    if new is not None:
        layers.append(_layer("new", new, new_labels, new_images, new_meta, circular, image_shape))
        layers[-1]["show_values"] = layers[0]["show_values"]
    elif any(v is not None for v in (new_labels, new_images, new_meta)):
        raise ValueError("new_labels, new_images and new_meta need new= (the new points' map)")
    html, n_bytes, n_points = _drlim.view(
        layers, str(title), None if path is None else os.fspath(path),
        int(max_mb * 2**20), int(max_thumbnails))
    return Map(html if path is None else None, path, n_bytes, n_points)


def _layer(name, embedding, labels, images, meta, circular, image_shape):
    e = np.ascontiguousarray(np.asarray(embedding, dtype=np.float32))
    if e.ndim != 2:
        raise ValueError(f"{name} embedding: expected an (n, 2) or (n, 3) array, got shape {e.shape}")
    columns = []
    if labels is not None:
        columns.append(_column("label", labels, circular))
    for key, values in _columns_of(meta):
        columns.append(_column(str(key), values, circular))
    layer = {"name": name, "coords": e, "columns": columns, "images": None, "rows": None}
    if images is not None:
        x = np.asarray(images)
        if image_shape is not None:
            x = x.reshape(len(x), *image_shape)
        if x.ndim == 4 and x.shape[1] == 1:
            x = x[:, 0]
        x = np.ascontiguousarray(x, dtype=np.float32)
        layer["images" if x.ndim == 3 else "rows"] = x.reshape(len(x), -1) if x.ndim > 3 else x
    return layer


def _columns_of(meta):
    if meta is None:
        return []
    if hasattr(meta, "columns") and hasattr(meta, "__getitem__"):  # a pandas DataFrame
        return [(c, np.asarray(meta[c])) for c in meta.columns]
    return list(dict(meta).items())


def _column(name, values, circular):
    v = np.asarray(values)
    if v.ndim != 1:
        raise ValueError(f"column {name}: expected one value per point, got shape {v.shape}")
    if name in circular:
        return (name, "circular", v.astype(np.float64).tolist(), float(circular[name]))
    if v.dtype.kind in "biuf":
        return (name, "numbers", v.astype(np.float64).tolist(), 0.0)
    return (name, "text", [str(x) for x in v.tolist()], 0.0)
