"""The training problem's definition: :class:`TrainConfig` (everything that defines the MILP, not how long it
is solved) and :func:`resolve_config` (fills the ``auto`` choices and validates).

``auto`` choices: hypothesis class ``sign`` for one hidden layer and one output (dense nets), else
``quantized``; loss ``hinge`` (one output) or ``multiclass_hinge`` (several), ``l1`` for regression. The
classes and losses themselves: :mod:`.hypothesis`, :mod:`.objective`; the model: :mod:`.formulation`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from ..errors import DataError, UnsupportedError

HYPOTHESES = ("auto", "sign", "quantized", "continuous")
CLASSIFY_LOSSES = ("auto", "hinge", "multiclass_hinge", "zero_one", "logistic")
REGRESS_LOSSES = ("auto", "l1", "squared")
QUADRATIC_SOLVERS = ("gurobi", "scip")


@dataclass
class TrainConfig:
    """Everything that defines the optimisation problem (not how long it is solved)."""

    hidden: tuple[int, ...] = (3,)
    hypothesis: str = "auto"
    loss: str = "auto"
    margin: float = 1.0
    l1: float = 0.0
    l2: float = 0.0
    l0: float = 0.0
    neuron_penalty: float = 0.0
    layer_penalty: float = 0.0
    max_nonzeros: int | None = None
    max_neurons: int | None = None
    weight_bound: float = 1.0
    bias_bound: float = 1.0
    levels: int = 1
    scale: float = 1.0
    tight_bounds: bool = True
    symmetry_breaking: bool = True
    #: Lipschitz pair cuts (sign class with l1 > 0): partners per sample, 0 = off
    lipschitz_pairs: int = 20
    oa_points: int = 9
    #: conv architectures (:mod:`mipnet.train.architecture`); None = the dense ``hidden`` net
    architecture: tuple[tuple[Any, ...], ...] | None = None
    channel_penalty: float = 0.0
    max_channels: int | None = None
    #: the linear (skip) term w0 x added to the output (:mod:`.linear_term`; one hidden layer)
    linear: bool = False
    #: domain constraints as the MILP sees them (:class:`~.constraints.Resolved`, standardised inputs and outputs;
    #: :mod:`.constraints`); dicts are read into them by :func:`resolve_config`
    constraints: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        if self.architecture is not None:
            d["architecture"] = [list(e) for e in self.architecture]
        # the options added later are recorded only when used (the records of other runs are unchanged)
        if not self.linear:
            del d["linear"]
        if self.constraints:
            d["constraints"] = [c.to_dict() if hasattr(c, "to_dict") else dict(c) for c in self.constraints]
        else:
            del d["constraints"]
        return d


#: the largest weight or bias box: the MILP's big-M constants are products of the boxes and the data, and above
#: this the solver's tolerances (1e-9 relative) no longer separate the ReLU's two sides
MAX_BOX = 1e6


def resolve_config(config: TrainConfig, task: str, n_classes: int) -> TrainConfig:
    """Fill the ``auto`` choices and validate; returns a new config."""
    hidden = tuple(int(h) for h in config.hidden)
    conv = config.architecture is not None
    if conv:  # the dense head's widths come from the architecture
        from .architecture import dense_widths, parse_architecture

        assert config.architecture is not None
        arch = parse_architecture(config.architecture)
        hidden = dense_widths(arch)
        config = replace(config, architecture=arch)
    if (not hidden and not conv) or any(h < 1 for h in hidden):
        raise DataError(f"hidden layer sizes must be positive integers, got {list(config.hidden)}")
    n_out = 1 if task == "regress" or n_classes == 2 else n_classes
    hyp = config.hypothesis
    if hyp not in HYPOTHESES:
        raise DataError(f"hypothesis class must be one of {HYPOTHESES[1:]}, got {hyp!r}")
    if hyp == "auto":
        hyp = "sign" if len(hidden) == 1 and n_out == 1 and not conv else "quantized"
    if hyp == "sign" and conv:
        raise UnsupportedError(
            "conv architectures use the quantized class (hypothesis='quantized', --hypothesis quantized; or "
            "'continuous' on SCIP/Gurobi)"
        )
    if hyp == "sign" and (len(hidden) != 1 or n_out != 1):
        raise UnsupportedError(
            "the sign class has one hidden layer and one output; use the quantized class (hypothesis='quantized', "
            "--hypothesis quantized)"
        )
    loss = config.loss
    if task == "classify":
        if loss not in CLASSIFY_LOSSES:
            raise DataError(f"classification loss must be one of {CLASSIFY_LOSSES[1:]}, got {loss!r}")
        if loss == "auto":
            loss = "hinge" if n_out == 1 else "multiclass_hinge"
        if loss == "hinge" and n_out > 1:
            loss = "multiclass_hinge"
        if loss == "multiclass_hinge" and n_out == 1:
            loss = "hinge"
        if loss == "logistic" and n_out > 1:
            raise UnsupportedError(
                "the logistic loss is binary (two classes); use the multiclass hinge loss (multiclass_hinge)"
            )
    else:
        if loss not in REGRESS_LOSSES:
            raise DataError(f"regression loss must be one of {REGRESS_LOSSES[1:]}, got {loss!r}")
        if loss == "auto":
            loss = "l1"
    for name in ("l1", "l2", "l0", "neuron_penalty", "layer_penalty", "channel_penalty", "margin"):
        v = float(getattr(config, name))
        if not np.isfinite(v) or v < 0:
            raise DataError(f"{name} must be a finite number >= 0, got {v}")
    for name in ("weight_bound", "bias_bound", "scale"):
        v = float(getattr(config, name))
        if not np.isfinite(v) or v <= 0:
            raise DataError(f"{name} must be a finite number > 0, got {v}")
    for name in ("weight_bound", "bias_bound"):
        if float(getattr(config, name)) > MAX_BOX:
            v = getattr(config, name)
            raise DataError(f"{name} must be at most {MAX_BOX:g} (a box on standardised inputs), got {v}")
    if int(config.levels) < 1:
        raise DataError(f"levels (Q) must be >= 1, got {config.levels}")
    for name in ("max_nonzeros", "max_neurons", "max_channels"):
        v = getattr(config, name)
        if v is not None and int(v) < 0:
            raise DataError(f"{name} must be >= 0, got {v}")
    if int(config.oa_points) < 2:
        raise DataError("oa_points must be at least 2")
    if config.linear and (conv or len(hidden) != 1):
        raise UnsupportedError("the linear term is supported with one hidden layer (dense nets)")
    constraints: tuple[Any, ...] = ()
    if config.constraints:
        from .constraints import read_resolved

        if conv or len(hidden) != 1:
            raise UnsupportedError("domain constraints in training are supported with one hidden layer (dense nets)")
        constraints = tuple(read_resolved(c) for c in config.constraints)
    return replace(
        config,
        hidden=hidden,
        hypothesis=hyp,
        loss=loss,
        levels=int(config.levels),
        linear=bool(config.linear),
        constraints=constraints,
    )


__all__ = [
    "MAX_BOX",
    "HYPOTHESES",
    "CLASSIFY_LOSSES",
    "REGRESS_LOSSES",
    "QUADRATIC_SOLVERS",
    "TrainConfig",
    "resolve_config",
]
