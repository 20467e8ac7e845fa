"""Training small dense ReLU networks as MILPs, with a certificate.

* :mod:`.formulation` the MILP: model building (samples, layer switches, symmetry breaking, Lipschitz cuts) from
  :mod:`.config` (:class:`TrainConfig`), :mod:`.hypothesis` (weight variables, product rule), :mod:`.objective`
  (losses, penalties, budgets) and :mod:`.readback` (solution -> weights -> network)
* :mod:`.architecture` conv architecture specs (``"conv4x3p1-maxpool2-dense8"``) and their templates
* :mod:`.conv`        the conv training MILP: channel switches, channel ordering, max-pool selections
* :mod:`.convstart`   torch warm start of a conv net mapped into the class
* :mod:`.conv_trainer` :func:`train_conv`, the conv pipeline (downsampling, per-channel standardisation)
* :mod:`.warmstart`   re-exports :mod:`.warmstart_map` (gradient warm start mapped into the class) and
  :mod:`.warmstart_complete` (consistent completion, LP heuristic)
* :mod:`.monotone_training` certified monotonic training (:mod:`.monotone` is its former name, re-exported)
* :mod:`.groups`      the sample-group lower bound
* :mod:`.certificate` the certificate and its numpy re-check
* :mod:`.trainer`     :func:`train`, the pipeline
* :mod:`.estimators`  scikit-learn estimators :class:`MIPNetClassifier`, :class:`MIPNetRegressor`
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below are loaded on first use (PEP 562): importing a light submodule such as
    # :mod:`.matrix.child` (the matrix MILP's own process) must not load Pyomo and the whole trainer
    from .certificate import Certificate, check_certificate, data_hash, recompute_terms
    from .formulation import TrainConfig, TrainingProblem
    from .trainer import TrainResult, train, train_dataset

_HOME = {
    "Certificate": ".certificate",
    "check_certificate": ".certificate",
    "data_hash": ".certificate",
    "recompute_terms": ".certificate",
    "TrainConfig": ".formulation",
    "TrainingProblem": ".formulation",
    "TrainResult": ".trainer",
    "train": ".trainer",
    "train_dataset": ".trainer",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "TrainConfig",
    "TrainingProblem",
    "TrainResult",
    "train",
    "train_dataset",
    "Certificate",
    "check_certificate",
    "data_hash",
    "recompute_terms",
]
