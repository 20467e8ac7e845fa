"""Shared pieces of the monotonicity checks: the monitored output functional f = c^T y
(:func:`output_coefficients`), the monotone features (:func:`resolve_features`), the result types, the
verdict tolerance ``TOL`` and the cut-off solve of a slope / lattice-step minimisation (:func:`_solve_cut`).

Tolerance: ``holds`` needs a proved min s_l df/dx_l (or lattice step) >= -TOL; individually a proved
max f(x') <= f(x) + min(TOL (1 + |f(x)|), DROP_TOL).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np
import pyomo.environ as pyo

from ...errors import DataError, UnsupportedError
from ...network import Network
from ...solve import highs_has_option, solve
from ..slope_encoding import check_gradient_support

MODES = ("exact", "blockwise")
#: share of a global check's time that LP/MIP bound tightening may take (the rest: model building, MILPs)
BOUNDS_SHARE = 0.5
#: default tolerance of every verdict: ``holds`` needs a proved min slope (or lattice step)
#: >= -TOL; individual: a proved max f(x') <= f(x) + min(TOL (1 + |f(x)|), DROP_TOL). It sits at the solvers'
#: feasibility tolerance (1e-7, :func:`mipnet.solve.solve`), below which a MILP cannot tell a
#: decrease from round-off (at 1e-9 a monotone net's exact lattice optimum 0 came back as
#: -1.00000008e-9). It was 1e-6: a net decreasing with slope -5e-7 was certified monotone.
TOL = 1e-7
INCREASING, DECREASING = "increasing", "decreasing"


# ============================================================================ inputs
def output_coefficients(
    net: Network, output: int | str | None = None, versus: int | str | None = None
) -> tuple[np.ndarray, str]:
    """The coefficient vector c of the monitored functional f = c^T y and its description."""
    n = net.n_outputs

    def index(o: int | str) -> int:
        names = [str(c) for c in (net.class_names or [])] if net.task == "classify" and n > 1 else []
        names = names or [str(c) for c in net.output_names]
        if isinstance(o, (int, np.integer)) or (isinstance(o, str) and o.lstrip("-").isdigit() and o not in names):
            k = int(o)
            if not 0 <= k < n:
                raise DataError(f"output index {k} is out of range: the model has {n} output(s)")
            return k
        if str(o) in names:
            return names.index(str(o))
        raise DataError(f"unknown output {o!r}; the model's outputs are: {', '.join(names)}")

    c = np.zeros(n)
    if output is None:
        if n != 1:
            raise DataError(f"the model has {n} outputs: choose one (a class or output name or index)")
        c[0] = 1.0
        desc = "logit" if net.task == "classify" else f"output {net.output_names[0]}"
        if versus is not None:
            raise DataError("--versus needs a multi-output model and a chosen output")
        return c, desc
    k = index(output)
    c[k] = 1.0
    names = net.class_names or []  # a classifier's, used only when net.task == "classify"
    desc = f"logit of {names[k]}" if net.task == "classify" and n > 1 else f"output {net.output_names[k]}"
    if versus is not None:
        j = index(versus)
        if j == k:
            raise DataError("the output and the --versus output must differ")
        c[j] = -1.0
        other = names[j] if net.task == "classify" and n > 1 else net.output_names[j]
        desc += f" minus logit of {other}" if net.task == "classify" else f" minus output {other}"
    return c, desc


def score_words(net: Network, desc: str) -> str:
    """``desc`` (a monitored output as :func:`output_coefficients` names it) with what a higher value means, in class
    names (the one logit of a two-class model: above 0 means its second class)."""
    names = [str(c) for c in (net.class_names or [])]
    if net.task != "classify" or not names:
        return desc
    if desc == "logit" and len(names) == 2:
        return f"logit (the network's score: above 0 means {names[1]}, below 0 means {names[0]})"
    return desc


def resolve_features(
    net: Network, increasing: Sequence[str | int] = (), decreasing: Sequence[str | int] = ()
) -> list[tuple[int, str, int]]:
    """(index, name, sign) per monotone feature; sign +1 increasing, -1 decreasing."""
    dom = net.domain
    out: list[tuple[int, str, int]] = []
    seen: set[int] = set()
    in_group = {i for g in dom.onehot_groups for i in g}
    for feats, sign in ((increasing, 1), (decreasing, -1)):
        for f in feats:
            if isinstance(f, (int, np.integer)):
                if not 0 <= int(f) < dom.n_features:
                    raise DataError(f"feature index {f} is out of range (the model has {dom.n_features} features)")
                i = int(f)
            else:
                i = dom.index(str(f).strip())
            if i in seen:
                raise DataError(f"feature {dom.names[i]!r} is listed twice")
            if i in in_group:
                raise UnsupportedError(
                    f"feature {dom.names[i]!r} is one level of a one-hot group: monotonicity "
                    "in a category level is not defined"
                )
            seen.add(i)
            out.append((i, dom.names[i], sign))
    if not out:
        raise DataError("name at least one monotone feature (increasing or decreasing)")
    return out


# ============================================================================ results
@dataclass
class Witness:
    """A pair x <= x' on one feature (all else equal) with s (f(x') - f(x)) < 0, forward-checked."""

    x: list[float]
    x_prime: list[float]
    f_x: float
    f_x_prime: float
    slope: float | None = None  #: the region's derivative (None for a lattice witness)


@dataclass
class FeatureVerdict:
    feature: str
    direction: str
    status: str  # holds | violated | unknown
    mode: str
    min_derivative: float | None  #: best (lowest) s * df/dx_l found (the incumbent)
    bound: float | None  #: proved lower bound on s * df/dx_l (None when not proved)
    witness: Witness | None = None
    solve_time: float = 0.0
    how: str = ""  #: which step decided: interval, sample, milp, region, lattice, blockwise
    argmin: list[float] | None = None  #: a point where the lowest slope was found
    note: str = ""
    solver: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))


@dataclass
class GlobalReport:
    features: list[FeatureVerdict]
    output: str
    mode: str
    build_time: float
    n_binaries: int
    n_products: int
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        st = [f.status for f in self.features]
        return "violated" if "violated" in st else ("unknown" if "unknown" in st else "holds")

    def to_dict(self) -> dict[str, Any]:
        return _clean(
            {
                "property": "global monotonicity",
                "status": self.status,
                "output": self.output,
                "mode": self.mode,
                "build_time": self.build_time,
                "n_binaries": self.n_binaries,
                "n_products": self.n_products,
                "options": self.options,
                "features": [f.to_dict() for f in self.features],
            }
        )


@dataclass
class PointResult:
    row: int
    status: str  # holds | counterexample | unknown
    f_x: float
    f_best: float | None  #: max f(x') found
    bound: float | None  #: proved upper bound on max f(x')
    x_prime: list[float] | None = None
    solve_time: float = 0.0

    @property
    def gain(self) -> float:
        return 0.0 if self.f_best is None else self.f_best - self.f_x


@dataclass
class IndividualReport:
    points: list[PointResult]
    increasing: list[str]
    decreasing: list[str]
    output: str

    @property
    def status(self) -> str:
        st = [p.status for p in self.points]
        return "violated" if "counterexample" in st else ("unknown" if "unknown" in st else "holds")

    @property
    def fraction_counterexamples(self) -> float:
        return float(np.mean([p.status == "counterexample" for p in self.points])) if self.points else 0.0

    @property
    def worst(self) -> PointResult | None:
        bad = [p for p in self.points if p.status == "counterexample"]
        return max(bad, key=lambda p: p.gain) if bad else None

    def to_dict(self) -> dict[str, Any]:
        w = self.worst
        return _clean(
            {
                "property": "individual monotonicity",
                "status": self.status,
                "output": self.output,
                "increasing": self.increasing,
                "decreasing": self.decreasing,
                "n_points": len(self.points),
                "fraction_counterexamples": self.fraction_counterexamples,
                "n_unknown": sum(p.status == "unknown" for p in self.points),
                "worst": None if w is None else {**asdict(w), "gain": w.gain},
                "points": [{**asdict(p), "gain": p.gain} for p in self.points],
            }
        )


def _clean(o: Any) -> Any:
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.ndarray):
        return _clean(o.tolist())
    if isinstance(o, (np.floating, float)):
        v = float(o)
        return v if math.isfinite(v) else str(v)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return o


def _prepare(net: Network) -> None:
    net.domain.require_finite()
    check_gradient_support(net)


#: the largest decrease of f over a feature's whole range that a "holds" may carry (a proved slope of -TOL per unit
#: times the range: 1e-7 x 78 years of age is 7.8e-6)
DROP_TOL = 1e-5


#: the largest slope tolerance relative to the slopes the network can have along the input (their interval bound)
REL_TOL = 1e-6


def slope_tolerance(tol: float, width: float, scale: float | None = None) -> float:
    """The slope tolerance a "holds" may carry along an input of range ``width``: ``tol`` per unit, and at most
    :data:`DROP_TOL` over the whole range (f = 1 - 5e-8 u on u in [0, 1e8] has slope -5e-8 >= -tol and drops
    by 5: it was certified monotone), so min(tol, DROP_TOL / width) for a finite, positive width; with ``scale``
    (an upper bound of |slope| along the input, from the interval bounds) also at most :data:`REL_TOL` x scale:
    logits scaled by 1e-8 have slopes of 1e-8, and a slope of -1e-8 (the class falling as the input grows) was
    within the absolute tolerance ("holds"). Every test of a slope against the tolerance (interval bounds, the
    cut-off solve, witness searches) uses this value."""
    t = min(tol, DROP_TOL / width) if np.isfinite(width) and width > 0 else tol
    if scale is not None and np.isfinite(scale):
        t = min(t, REL_TOL * float(scale))
    return t


def stopped_note(res: Any, seconds: float | None, where: str) -> str:
    """Why a slope solve ended undecided: its time limit, or (any other termination) the solver itself (HiGHS's
    "solve error" after a 1.9e-6 infeasibility on a badly scaled model was reported as "time limit reached",
    and a longer limit cannot help)."""
    why = str(getattr(res, "termination", "") or "")
    if res is None or "time" in why.lower() or not why:
        return f"time limit of {seconds or 0.0:.3g} s reached; {where}"
    return (
        f"the solver stopped ({why}) without a proof: numerical trouble (badly scaled weights?), not the time "
        f"limit; {where}"
    )


def _solve_cut(
    model: pyo.ConcreteModel,
    solver: str,
    time_limit: float | None,
    threads: int | None,
    tol: float,
    early_stop: bool,
    extra: dict[str, Any] | None = None,
) -> Any:
    """Solve min s * g_l. With ``early_stop``: stop at the first incumbent < -tol, and (HiGHS) prune every
    node whose bound exceeds -tol (objective cutoff): a finished search then proves min >= -tol (the
    Result's bound is set to -tol unless the solver proved more), an infeasible one likewise."""
    # HiGHS's RINS heuristic can stall inside its sub-MIP presolve, past any time limit, on these
    # models (seen on COMPAS lattice checks): the verification solves run without it
    base = {"mip_heuristic_run_rins": False} if solver == "highs" and highs_has_option("mip_heuristic_run_rins") else {}
    base.update((extra or {}) if solver == "highs" else {})  # (HiGHS option names)
    if not early_stop:
        return solve(model, solver, time_limit=time_limit, threads=threads, options=base or None)
    opts = {"objective_bound": -tol, **base} if solver == "highs" else None
    res = solve(model, solver, time_limit=time_limit, threads=threads, stop_below=-tol, options=opts)
    if opts is None:
        return res
    finished = res.status == "infeasible" or (res.status == "optimal" and not res.stopped_early)
    if finished and (res.incumbent is None or res.incumbent >= -tol):
        res.status = "optimal" if res.incumbent is not None else "infeasible"
        res.bound = -tol  # what the cut-off search proves
    elif res.bound is not None and res.incumbent is not None and res.incumbent >= -tol:
        res.bound = min(res.bound, -tol)  # a cut-off search's bound is not a bound above -tol
    return res


def certificate_summary(report: GlobalReport) -> dict[str, Any]:
    """A compact per-feature dict (status, bound, witness) for training histories and tables."""
    return {
        f.feature: {"status": f.status, "bound": f.bound, "min_derivative": f.min_derivative} for f in report.features
    }
