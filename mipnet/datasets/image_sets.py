"""The vendored image data sets: an MNIST subset and Fashion-MNIST class pairs (28x28, row-major)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ..errors import DataError
from .dataset import Dataset
from .helpers import _check_split, _data_file

# ====================================================================== images: MNIST, Fashion-MNIST
_PIXELS = [f"pixel{i}" for i in range(784)]


@functools.lru_cache(maxsize=None)
def _npz(name: str) -> dict[str, np.ndarray]:
    with _data_file(name).open("rb") as fh, np.load(fh) as z:
        arrays = {k: z[k] for k in z.files}
    for a in arrays.values():
        a.setflags(write=False)
    return arrays


def _image_dataset(
    name: str, X: np.ndarray, y: np.ndarray, target: str, class_names: list[str], scale: bool, description: str
) -> Dataset:
    data = X.astype(np.float64) / 255.0 if scale else X.astype(np.int64)
    df = pd.DataFrame(data, columns=_PIXELS)
    df[target] = y.astype(np.int64)
    t = "continuous" if scale else "integer"
    hi = 1.0 if scale else 255.0
    return Dataset(
        name=name,
        frame=df,
        target=target,
        task="classify",
        feature_types=dict.fromkeys(_PIXELS, t),
        bounds=dict.fromkeys(_PIXELS, (0.0, hi)),
        description=description,
        class_names=class_names,
        input_shape=(1, 28, 28),
    )


def load_mnist_subset(scale: bool = True) -> Dataset:
    """A 5000-image MNIST subset (500 per digit): 784 pixels, row-major 28x28, ``input_shape`` (1, 28, 28).

    Pixels in [0, 1] (``scale=True``) or integers in [0, 255]; target ``digit``.
    """
    z = _npz("mnist_5k.npz")
    return _image_dataset(
        "mnist_subset",
        z["X"],
        z["y"],
        "digit",
        [str(d) for d in range(10)],
        scale,
        "MNIST subset, 500 images per digit",
    )


_FASHION_LABELS = {
    0: "t_shirt",
    1: "trouser",
    2: "pullover",
    3: "dress",
    4: "coat",
    5: "sandal",
    6: "shirt",
    7: "sneaker",
    8: "bag",
    9: "ankle_boot",
}
FASHION_PAIRS: dict[str, tuple[int, int]] = {"ankle_boot_vs_bag": (9, 8), "coat_vs_pullover": (4, 2)}


def load_fashion_pair(pair: str = "ankle_boot_vs_bag", split: str = "all", scale: bool = True) -> Dataset:
    """Two Fashion-MNIST classes as a binary task: ``"ankle_boot_vs_bag"`` or ``"coat_vs_pullover"``.

    7000 images per class: 6000 from the official training file and 1000 from the official test
    file; ``split`` picks ``"train"`` (12000 rows), ``"test"`` (2000) or ``"all"`` (14000). Target
    ``label`` = 1 for the first-named class (ankle boot, coat), 0 for the second (bag, pullover).
    Pixels in [0, 1] (``scale=True``) or integers in [0, 255]; ``input_shape`` (1, 28, 28).
    """
    if pair not in FASHION_PAIRS:
        raise DataError(f"unknown Fashion-MNIST pair {pair!r}; pairs are: {', '.join(FASHION_PAIRS)}")
    _check_split(split)
    pos, neg = FASHION_PAIRS[pair]
    z = _npz("fashion_mnist_2489.npz")
    keep = np.isin(z["y"], (pos, neg))
    if split != "all":
        keep &= z["official_test"] == (1 if split == "test" else 0)
    y = (z["y"][keep] == pos).astype(np.int64)
    return _image_dataset(
        f"fashion_{pair}",
        z["X"][keep],
        y,
        "label",
        [_FASHION_LABELS[neg], _FASHION_LABELS[pos]],
        scale,
        f"Fashion-MNIST {_FASHION_LABELS[pos]} (1) vs {_FASHION_LABELS[neg]} (0), split={split}",
    )
