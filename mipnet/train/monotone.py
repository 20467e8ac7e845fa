"""Former home of certified monotonic *training*, now :mod:`mipnet.train.monotone_training` (renamed so that
it is not confused with :mod:`mipnet.verify.monotonic`, the verification). Every name is re-exported here, so
``from mipnet.train.monotone import train_monotone_milp`` keeps working.
"""

from __future__ import annotations

from .monotone_training import (  # noqa: F401  (re-exports: the names of the module before the rename)
    ROUND_GROWTH,
    ROUND_SHARE,
    TRAIN_SHARE,
    CertifiedModel,
    _fit,
    _milp_start,
    _neighbourhoods,
    _reg_samples,
    _round_deadline,
    _standardise,
    _to_network,
    _to_probe,
    fit_torch,
    train_monotone_gradient,
    train_monotone_milp,
)

__all__ = ["CertifiedModel", "fit_torch", "train_monotone_gradient", "train_monotone_milp"]
