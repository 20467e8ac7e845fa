"""The settings and the outcome of a resilience query: heuristics switches, :class:`ResilienceResult`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ...choices import comma_items
from ...errors import UnsupportedError
from ...network import Network
from ...solve import Result

NORMS = ("1", "inf")
TOL = 1e-6
#: shares of a time limit (of what is left at that stage): MIP bound tightening, the alpha_max search for a
#: strongly classified start, the minimal perturbation of that start; the MILP gets the rest
BOUNDS_SHARE = 0.4
INIT_STRONG_SHARE = 0.2
INIT_LOCAL_SHARE = 0.25


@dataclass
class Heuristics:
    """Which of the paper's heuristics are on, and their parameters."""

    dataflow: bool = True
    mip_bounds: bool = True
    priority: bool = True
    init: bool = True
    twin: bool = True
    #: k = 1 with a fixed input: decide "below delta" by the robustness MILP (one binary per rival,
    #: rivals pruned by linear back-substitution bounds, early stop): the same question
    robust: bool = True
    lookback: int = 1
    bound_time: float = 0.5
    processes: int = 1

    NAMES = ("dataflow", "mip_bounds", "priority", "init", "twin", "robust")

    @classmethod
    def none(cls) -> "Heuristics":
        return cls(**{n: False for n in cls.NAMES})

    @classmethod
    def parse(cls, spec: str | None) -> "Heuristics":
        """'all', 'none', or a comma list of dataflow, mip_bounds, priority, init, twin, robust."""
        if spec is None or spec.strip().lower() == "all":
            return cls()
        s = spec.strip().lower()
        if s == "none":
            return cls.none()
        names = comma_items(s, "--heuristics")
        bad = [n for n in names if n not in cls.NAMES]
        if bad:
            raise UnsupportedError(f"unknown heuristic {bad[0]!r} (use all, none or a list of {', '.join(cls.NAMES)})")
        return cls(**{n: n in names for n in cls.NAMES})

    def label(self) -> str:
        on = [n for n in self.NAMES if getattr(self, n)]
        return ",".join(on) if on else "none"

    def to_dict(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self.NAMES + ("lookback", "bound_time", "processes")}


@dataclass
class ResilienceResult:
    """Phi (class or local), its proof status, the witness pair and the time per stage."""

    kind: str  # "class" | "local" | "alpha_max"
    cls: int
    class_name: str
    alpha: float
    k: int
    norm: str
    status: str  # optimal | feasible | infeasible | unknown
    phi: float | None  # best perturbation found (incumbent); alpha_max: best t
    bound: float | None  # proved lower bound on Phi (alpha_max: upper bound on t)
    gap: float | None
    a: np.ndarray | None = None
    b: np.ndarray | None = None
    witness: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    phi_init: float | None = None
    verdict: str | None = None  # local decision: below | not_below | unknown
    delta: float | None = None
    heuristics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    solver: dict[str, Any] = field(default_factory=dict)
    n_binaries: int = 0

    @property
    def alpha_max(self) -> float | None:
        return math.exp(self.phi) if self.kind == "alpha_max" and self.phi is not None else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("a", "b"):
            d[key] = None if d[key] is None else [float(v) for v in np.ravel(d[key])]
        if self.kind == "alpha_max":
            d["alpha_max"] = self.alpha_max
        return d


def _base(kind: str, net: Network, m: int, alpha: float, k: int, norm: str, heur: Heuristics) -> ResilienceResult:
    assert net.class_names is not None  # _class_index (called first) accepts classifiers only
    return ResilienceResult(
        kind,
        m,
        str(net.class_names[m]),
        float(alpha),
        int(k),
        norm,
        "unknown",
        None,
        None,
        None,
        heuristics=heur.to_dict(),
    )


def _out_of_time(res: ResilienceResult) -> None:
    """The time limit came before the MILP: no proof; an initial pair already found stays the answer."""
    res.status = "feasible" if res.phi is not None else "unknown"
    res.bound = res.gap = None
    res.notes.append("the time limit was reached before the MILP could be solved (no bound)")


def _fill(res: ResilienceResult, r: Result) -> None:
    res.status = r.status
    res.phi = r.incumbent
    res.bound = r.bound if r.status != "infeasible" else None
    res.gap = r.gap
    res.solver = r.to_dict()
