"""Offline loaders of the real data sets vendored in ``mipnet/data`` (no loader touches the network).

Every loader returns a :class:`Dataset`: the data as a readable pandas frame (features + target),
the type of each feature, and the recommended input domain for verification. The numeric encoding
(categoricals one-hot) and the recommended domain are defined in :mod:`.dataset`.

Datasets and the numeric input dimension (the length of ``x``):

==========================  =====  ======  ========  =============================================
name                        rows   inputs  task      notes
==========================  =====  ======  ========  =============================================
compas                       6172      13  classify  ProPublica filter; 13-input variant
adult                       45222      86  classify  ``split="train"|"test"|"all"``
german                       1000      59  classify  target 1 = bad credit
heart                         297      22  classify  Cleveland; 6 rows with missing values dropped
autompg                       392       9  regress   target mpg
breast_cancer                 569      30  classify  scikit-learn's bundled copy
digits                       1797      64  classify  8x8 images, scikit-learn's bundled copy
mnist_subset                 5000     784  classify  500 images per digit
fashion_ankle_boot_vs_bag   14000     784  classify  ``load_fashion_pair("ankle_boot_vs_bag")``
fashion_coat_vs_pullover    14000     784  classify  ``load_fashion_pair("coat_vs_pullover")``
==========================  =====  ======  ========  =============================================

Modules: :mod:`.dataset` (the :class:`Dataset` type), :mod:`.helpers` (vendored file lookup, bounds, levels),
:mod:`.tabular_sets` (COMPAS, Adult, German credit, Heart, Auto-MPG), :mod:`.bundled_sets` (scikit-learn's
bundled breast cancer and digits), :mod:`.image_sets` (MNIST subset, Fashion-MNIST pairs) and :mod:`.registry`
(names, aliases, :func:`load`). The data files stay in ``mipnet/data``. Every name of the former single module
is importable from here.
"""

from __future__ import annotations

from .bundled_sets import _sklearn_raw, load_breast_cancer, load_digits
from .dataset import FEATURE_TYPES, ONEHOT_SEP, TASKS, Dataset
from .helpers import _as_categorical, _bounds_of, _check_split, _data_file, _levels
from .image_sets import (
    _FASHION_LABELS,
    _PIXELS,
    FASHION_PAIRS,
    _image_dataset,
    _npz,
    load_fashion_pair,
    load_mnist_subset,
)
from .registry import _ALIASES, _REGISTRY, DatasetInfo, _Entry, _entry, available, canonical_name, load
from .tabular_sets import (
    _ADULT_CATEGORICAL,
    _ADULT_COLUMNS,
    _GERMAN_COLUMNS,
    _HEART_RENAME,
    _HEART_TYPES,
    _adult_raw,
    _autompg_raw,
    _compas_raw,
    _german_raw,
    _heart_raw,
    load_adult,
    load_autompg,
    load_compas,
    load_german,
    load_heart,
)

__all__ = [
    "Dataset",
    "DatasetInfo",
    "available",
    "load",
    "canonical_name",
    "load_compas",
    "load_adult",
    "load_german",
    "load_heart",
    "load_autompg",
    "load_breast_cancer",
    "load_digits",
    "load_mnist_subset",
    "load_fashion_pair",
    "FASHION_PAIRS",
]

#: every other name of the former single module, importable from here as before
_REEXPORTED = (
    FEATURE_TYPES,
    TASKS,
    ONEHOT_SEP,
    _data_file,
    _bounds_of,
    _levels,
    _as_categorical,
    _check_split,
    _compas_raw,
    _ADULT_COLUMNS,
    _ADULT_CATEGORICAL,
    _adult_raw,
    _GERMAN_COLUMNS,
    _german_raw,
    _HEART_RENAME,
    _HEART_TYPES,
    _heart_raw,
    _autompg_raw,
    _sklearn_raw,
    _PIXELS,
    _npz,
    _image_dataset,
    _FASHION_LABELS,
    _Entry,
    _entry,
    _REGISTRY,
    _ALIASES,
)
