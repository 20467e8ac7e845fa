"""The attributes a :class:`~.formulation.TrainingProblem` carries, declared once for the classes it is built
from (:class:`~.objective.ObjectiveTerms`, :class:`~.readback.Readback`); set by its ``__init__`` and build."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..deadline import Deadline
from ..encode import NetworkEncoding, Terms
from ..network import Network
from .config import TrainConfig
from .hypothesis import LayerParams


class ProblemState:
    """Declarations only (no behaviour): the data, the configuration, the model and its parts."""

    # data and configuration
    deadline: Deadline | None
    after_build: float
    X: np.ndarray  # (N, d) standardised inputs
    target: np.ndarray
    task: str
    n_classes: int
    config: TrainConfig
    solver: str
    penalty_weight: float
    N: int
    d: int
    sample_weight: np.ndarray  # c_n
    #: the loss is (1/D) sum_n c_n loss_n (an int when the weights are counts)
    loss_denominator: float
    n_out: int
    quadratic: bool  # the solver takes quadratic terms (else tangent outer approximations)
    product: Any  # the hypothesis class's product rule
    template: Network
    dense_idx: list[int]  # template indices of the parametrised layers
    hidden_offset: int  # params[hidden_offset + l] feeds hidden Dense layer l
    # the model and its parts
    model: pyo.ConcreteModel
    params: list[LayerParams]
    switch_groups: list[tuple[Any, list[Any]]]
    nonzero_ind: list[list[Any]]
    neuron_ind: list[np.ndarray]
    layer_switch: list[Any]
    oa_terms: dict[str, list[tuple[Any, np.ndarray]]]
    abs_vars: dict[int, Any]
    cut_pairs: list[tuple[int, int]]
    encodings: list[NetworkEncoding]
    outputs: list[Terms]
    loss_vars: dict[str, Any]
    terms: dict[str, Any]
    build_seconds: float


__all__ = ["ProblemState"]
