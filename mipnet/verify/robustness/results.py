"""The vocabulary of robustness verification: norms, verdicts, tolerances and the result types."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ...errors import UnsupportedError

NORMS = {"inf": "inf", "linf": "inf", "l_inf": "inf", "max": "inf", "1": "1", "l1": "1"}
VERDICTS = ("holds", "violated", "unknown")
#: margin used for the retry of a boundary witness and for the minimal perturbation
TAU = 1e-6
#: share of a sample's time limit that LP/MIP bound tightening may take (the rest: model, MILP, re-check)
BOUNDS_SHARE = 0.5
#: share of what is left that the CROWN / alpha-CROWN bound of the margins may take
SPEC_SHARE = 0.25
#: share of what is left that the ReLU-split tree may take before the MILP (:mod:`mipnet.verify.relu_split`)
SPLIT_SHARE = 0.5
#: the tree runs when every margin's bound is >= -SPLIT_REACH * (the margin at the sample) (margin_milp, 4b)
SPLIT_REACH = 4.0
#: the stages that can decide a sample (``RobustnessResult.prover``)
PROVERS = ("sample", "attack", "crown", "alpha-crown", "relu-split", "bounds", "milp")


def normalise_norm(norm: str | int | float) -> str:
    """'inf' or '1' from the spellings inf, linf, l_inf, max, 1, l1 (case-insensitive)."""
    key = str(norm).strip().lower()
    if key in ("inf", "infinity") or (isinstance(norm, float) and np.isinf(norm)):
        return "inf"
    if key in ("1.0",):
        key = "1"
    if key not in NORMS:
        raise UnsupportedError(f"unknown norm {norm!r} (use 'inf' or '1')")
    return NORMS[key]


@dataclass
class RobustnessResult:
    """Verdict for one sample. ``margin`` is the worst-case margin when proved optimal (exact mode),
    otherwise the margin of the witness; ``bound`` a proved lower bound on the worst margin.

    ``prover`` names the stage that decided it (one of :data:`PROVERS`; "" when undecided): the sample itself,
    the gradient attack, the CROWN or alpha-CROWN bound of the margins, the ReLU-split tree, the output bounds or the
    MILP;
    ``seconds`` the time of every stage that ran (attack, bounds, crown, alpha-crown, relu-split, milp)."""

    index: int
    cls: int
    label: Any
    verdict: str
    eps: float
    norm: str
    margin: float | None = None
    bound: float | None = None
    counterexample: np.ndarray | None = None
    adversarial_class: Any = None
    witness: np.ndarray | None = None
    margin_forward: float | None = None
    status: str = ""
    reason: str = ""
    n_rivals: int = 0
    n_binaries: int = 0
    nodes: int | None = None
    bounds_time: float = 0.0
    solve_time: float = 0.0
    time: float = 0.0
    solver: str = ""
    #: the set the verdict speaks of (:func:`region_text`): the ball intersected with the model's domain
    region: str = ""
    prover: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["seconds"] = {k: float(v) for k, v in self.seconds.items()}
        for k in ("counterexample", "witness"):
            d[k] = None if d[k] is None else [float(v) for v in d[k]]
        d["label"] = _jsonable(self.label)
        d["adversarial_class"] = _jsonable(self.adversarial_class)
        return d


@dataclass
class PerturbationResult:
    """Smallest perturbation radius found (``eps``, an upper bound when not optimal) and the proved lower
    bound ``bound``; ``eps`` is None when no class change exists within ``eps_max``.

    Both speak of points of the domain with margin <= -tau: a point with margin in (-tau, 0] (a tie, or a
    class change smaller than tau) may lie closer than ``bound``. Robustness within a radius is decided by
    :func:`verify_sample`, which asks for margin <= 0."""

    cls: int
    label: Any
    norm: str
    eps: float | None
    bound: float | None
    status: str
    counterexample: np.ndarray | None = None
    adversarial_class: Any = None
    checked: bool = False
    eps_max: float | None = None
    time: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["counterexample"] = None if self.counterexample is None else [float(v) for v in self.counterexample]
        d["label"] = _jsonable(self.label)
        d["adversarial_class"] = _jsonable(self.adversarial_class)
        return d


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def summarize(results: Sequence[RobustnessResult]) -> dict[str, int]:
    """Verdict counts."""
    return {v: sum(r.verdict == v for r in results) for v in VERDICTS}


def proved(res: RobustnessResult, stage: str, lower: np.ndarray, t0: float) -> RobustnessResult:
    """``res`` filled as proved robust by the bound of ``stage``: every margin's lower bound is > 0."""
    res.verdict, res.bound, res.status, res.prover = "holds", float(lower.min()), "bounds", stage
    res.reason = f"the {stage} bound proves every margin positive"
    res.time = time.perf_counter() - t0
    return res


def failed(
    net: Any, x: np.ndarray, cls: int | None, eps: float, norm: str, solver: str, index: int, reason: str
) -> RobustnessResult:
    """The verdict of a sample whose verification failed or did not run: unknown, ``reason`` saying why (its class
    the given one, else the predicted one)."""
    c = int(net.predict_index(net.forward(x[None]))[0]) if cls is None else int(cls)
    names = net.class_names or list(range(net.n_outputs))
    return RobustnessResult(
        index, c, names[c] if c < len(names) else c, "unknown", float(eps), normalise_norm(norm), solver=solver,
        status="error", reason=reason,
    )  # fmt: skip
