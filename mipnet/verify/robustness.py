"""Local robustness of a classifier in an L-inf or L1 ball: one MILP per sample, early stop.

For a sample x with class c (predicted, or given as a label) and the ball intersected with the domain

    B = { x' in D : ||x' - x|| <= eps },

the worst-case margin is

    m* = min_{x' in B}  z_c(x') - max_{k in R} z_k(x'),

where z are the logits and R the *rivals*: classes k != c that can reach c's logit on B, i.e. with
U_k >= L_c for the output bounds [L, U] over B (the others are dropped). The maximum over rivals is
one variable r and one binary d_k per rival (big-M from the output bounds):

    r <= z_k + (U_R - L_k)(1 - d_k)  (k in R),    sum_k d_k = 1,    U_R = max_{k in R} U_k.

(``r >= z_k`` is not needed: minimising z_c - r pushes r up to the selected rival's logit, and
every feasible point has r <= max_k z_k, so the margin is never under-reported.) One rival needs no
binary; no rival proves the sample robust without a solve. A binary classifier with one logit z
(class 1 iff z > 0) has m = z for c = 1 and m = -z for c = 0.

Balls. L-inf: the box [x - eps, x + eps] intersected with the domain's box. L1: x' = x + d,
|d_i| <= t_i, sum_i t_i <= eps (t_i >= 0), inside the same box (which contains the L1 ball; the
bounds of every layer are computed over that box, by :func:`mipnet.bounds.compute_bounds`).
The verified set is stated in every result (``region``). The sample itself must lie in the domain
(:func:`check_in_domain`, a :class:`~mipnet.errors.DataError` otherwise): cut to the domain, the ball
around an outside sample would not contain it, or be empty, and the verdict would speak of another set.

Early stop (default): add m <= 0 and stop at the first incumbent with m < 0. "infeasible" proves
m > 0 on B: the verdict is ``holds``. An incumbent is a candidate counterexample: it is projected
onto B (clipped to the box, L1 step rescaled, integers rounded), re-run through the numpy forward
pass, and reported ``violated`` only if the predicted class differs from c. A candidate that fails
the re-check (a tie on the decision boundary) is retried once with m <= -tau; if that fails too the
verdict is ``unknown``, and so it is when the retry is infeasible (that rules out margins <= -tau only,
not a class change in (-tau, 0]). Before the MILP (early stop only) a cheap
projected-gradient attack looks for a counterexample; it can only ever report ``violated`` with a
re-checked point, never ``holds``. Without early stop the MILP is solved to optimality and reports m* (the worst
margin) with its witness. A time limit without proof or checked witness gives ``unknown``.

:func:`minimal_perturbation` solves the smallest radius as one MILP:

    min e   s.t.   x' in D,  ||x' - x|| <= e,  m(x') <= -tau,

(tau = 1e-6 by default; tau = 0 gives the distance to the decision boundary, whose witness may be a
tie), with the output bounds computed over the box of radius ``eps_max`` (default: the domain).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pyomo.environ as pyo

from ..bounds import Bounds, compute_bounds
from ..deadline import Deadline
from ..domain import Domain
from ..encode import encode_network, input_terms, new_vars
from ..encode.properties import Margin, add_norm_ball, class_margins, encode_margin  # noqa: F401 (Margin: re-export)
from ..errors import DataError, UnsupportedError
from ..gradients import jacobian
from ..network import Network
from ..solve import Result, solve

NORMS = {"inf": "inf", "linf": "inf", "l_inf": "inf", "max": "inf", "1": "1", "l1": "1"}
VERDICTS = ("holds", "violated", "unknown")
#: margin used for the retry of a boundary witness and for the minimal perturbation
TAU = 1e-6
#: share of a sample's time limit that LP/MIP bound tightening may take (the rest: model, MILP, re-check)
BOUNDS_SHARE = 0.5


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


# ----------------------------------------------------------------------------- result types


@dataclass
class RobustnessResult:
    """Verdict for one sample. ``margin`` is the worst-case margin when proved optimal (exact mode),
    otherwise the margin of the witness; ``bound`` a proved lower bound on the worst margin."""

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

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
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


# ----------------------------------------------------------------------------- building blocks


def class_indices(net: Network, labels: Sequence[Any]) -> np.ndarray:
    """Class indices of ``labels`` given as class names (compared also as strings) or integer indices."""
    names = list(net.class_names or [])
    lookup: dict[Any, int] = {}
    for i, n in enumerate(names):
        lookup.setdefault(n, i)
        lookup.setdefault(str(n), i)
    out = np.empty(len(labels), dtype=int)
    for j, lab in enumerate(labels):
        lab = _jsonable(lab)
        if lab in lookup:
            out[j] = lookup[lab]
            continue
        if isinstance(lab, float) and lab.is_integer() and int(lab) in lookup:
            out[j] = lookup[int(lab)]
            continue
        if str(lab) in lookup:
            out[j] = lookup[str(lab)]
            continue
        raise DataError(f"label {lab!r} of row {j} is not one of the model's classes {names}")
    return out


def region_text(net: Network, eps: float, norm: str) -> str:
    """The set a robustness verdict speaks of, in words (stored in every result, printed by the CLI)."""
    d = net.domain
    extra = (", integer features" if d.integer.any() else "") + (", one-hot groups" if d.onehot_groups else "")
    return (f"{'L-inf' if normalise_norm(norm) == 'inf' else 'L1'} ball of radius {eps:g} around the sample, "
            f"intersected with the model's input domain (its box{extra})")


def check_in_domain(net: Network, x: np.ndarray, index: int = 0) -> None:
    """A sample outside the model's input domain is an input error: the ball cut to the domain would not
    contain it (or be empty), and the verdict would silently speak of another set."""
    d = net.domain
    x = np.asarray(x, dtype=np.float64).ravel()
    if d.contains(x[None], tol=1e-7)[0]:
        return
    out = np.flatnonzero((x < d.lower - 1e-7) | (x > d.upper + 1e-7))
    if not np.all(np.isfinite(x)):
        raise DataError(f"row {index} has NaN or inf values")
    if out.size:
        i = int(out[0])
        why = f"feature {d.names[i]!r} = {x[i]:g} is outside [{d.lower[i]:g}, {d.upper[i]:g}]"
    elif d.integer.any() and np.any(np.abs(x[d.integer] - np.round(x[d.integer])) > 1e-7):
        i = int(np.flatnonzero(d.integer & (np.abs(x - np.round(x)) > 1e-7))[0])
        why = f"integer feature {d.names[i]!r} = {x[i]:g} is not an integer"
    else:
        why = "a one-hot group is not one-hot"
    raise DataError(f"row {index} lies outside the model's input domain ({why}); robustness is verified on the "
                    "ball intersected with the domain, so the sample must lie in it")


def ball_box(net: Network, x: np.ndarray, eps: float, norm: str) -> tuple[np.ndarray, np.ndarray]:
    """The box [x - eps, x + eps] intersected with the domain's box (it contains the L1 ball too)."""
    lo = np.maximum(x - eps, net.domain.lower)
    hi = np.minimum(x + eps, net.domain.upper)
    return lo, hi


def _sub_domain(net: Network, lo: np.ndarray, hi: np.ndarray) -> Domain:
    d = net.domain
    if np.any(lo > hi + 1e-12):
        raise DataError("the ball around the sample does not meet the model's input domain")
    return Domain(d.names, lo, np.maximum(hi, lo), d.integer, d.onehot_groups)


def margins(net: Network, logits: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Forward-pass margins z_c - max_{k != c} z_k (one logit: z for class 1, -z for class 0)."""
    logits = np.atleast_2d(logits)
    cls = np.broadcast_to(np.asarray(cls), (logits.shape[0],))
    if logits.shape[1] == 1:
        return np.where(cls == 1, logits[:, 0], -logits[:, 0])
    return class_margins(logits, cls)


def project_to_ball(net: Network, x: np.ndarray, xp: np.ndarray, eps: float, norm: str) -> np.ndarray:
    """The solver's point moved into the ball and the domain (solver tolerances, integers)."""
    lo, hi = ball_box(net, x, eps, norm)
    xp = np.clip(xp, lo, hi)
    if norm == "1":
        d = xp - x
        n1 = np.abs(d).sum()
        if n1 > eps > 0:
            xp = x + d * (eps / n1)
    dom = net.domain
    if dom.integer.any():
        xp[dom.integer] = np.clip(np.round(xp[dom.integer]), np.ceil(lo[dom.integer]), np.floor(hi[dom.integer]))
    for g in dom.onehot_groups:
        k = int(np.argmax(xp[g]))
        xp[g] = 0.0
        xp[g[k]] = 1.0
    return xp


# ----------------------------------------------------------------------------- attack (cheap witnesses)


def _jacobian(net: Network, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logits at x and their exact Jacobian (reverse mode, :mod:`mipnet.gradients`)."""
    return jacobian(net, x)  # (n_out,), (n_out, n)


def attack(net: Network, x: np.ndarray, eps: float, norm: str, c: int, steps: int = 20,
           rng: int = 0, deadline: Deadline | None = None) -> np.ndarray | None:
    """A cheap search for a counterexample before the MILP (never used to claim robustness).

    Projected gradient descent on the margin z_c - z_k against each of the (at most three) strongest
    rivals k, with exact gradients: L-inf steps x <- proj(x - a sign(g)); L1 steps to the
    best vertex of the linearisation over the L1 ball and the box (greedy on |g|). Returns a point of
    the ball whose forward-pass class differs from c, or None (also once ``deadline`` has passed).
    """
    lo, hi = ball_box(net, x, eps, norm)
    z0 = net.forward(x[None])[0]
    targets: Sequence[int | None]
    if z0.size == 1:
        targets = [None]
    else:
        order = np.argsort(-z0)
        targets = [int(k) for k in order if k != c][:3]
    gen = np.random.default_rng(rng)
    for k in targets:
        starts = [x.copy(), np.clip(x + gen.uniform(-eps, eps, x.size), lo, hi)] if norm == "inf" else [x.copy()]
        for xa in starts:
            step = eps / 4.0
            for _ in range(steps):
                if deadline is not None and deadline.expired():
                    return None
                z, J = _jacobian(net, xa)
                g = (J[0] * (1.0 if c == 1 else -1.0)) if k is None else J[c] - J[k]
                if norm == "inf":
                    xa = np.clip(xa - step * np.sign(g), lo, hi)
                    step = max(step * 0.85, eps / 50.0)
                else:
                    xa = _l1_vertex(x, g, eps, lo, hi)
                if int(net.predict_index(net.forward(xa[None]))[0]) != c:
                    xp = project_to_ball(net, x, xa, eps, norm)
                    if int(net.predict_index(net.forward(xp[None]))[0]) != c:
                        return xp
                if norm == "1":
                    break
    return None


def _l1_vertex(x: np.ndarray, g: np.ndarray, eps: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """argmin_{x' in box, ||x' - x||_1 <= eps} g.(x' - x): spend the budget on the largest |g_i| first."""
    xv = x.copy()
    budget = eps
    for i in np.argsort(-np.abs(g)):
        if budget <= 0 or g[i] == 0:
            break
        room = (x[i] - lo[i]) if g[i] > 0 else (hi[i] - x[i])
        move = min(room, budget)
        xv[i] = x[i] - move if g[i] > 0 else x[i] + move
        budget -= move
    return xv


def _prepare(net: Network) -> None:
    if net.task != "classify":
        raise UnsupportedError("robustness is defined for classifiers (task 'classify'), this model is a regressor")


# ----------------------------------------------------------------------------- one sample


def verify_sample(
    net: Network,
    x: np.ndarray,
    eps: float,
    norm: str = "inf",
    cls: int | None = None,
    *,
    solver: str = "highs",
    time_limit: float | Deadline = 30.0,
    bounds: str = "linear",
    early_stop: bool = True,
    threads: int | None = None,
    index: int = 0,
    precomputed_bounds: Bounds | None = None,
    use_attack: bool = True,
) -> RobustnessResult:
    """Robustness of one sample (see the module docstring for the MILP).

    With ``early_stop`` and ``use_attack`` a cheap gradient attack runs first; a point it finds
    (re-checked by the forward pass) is a counterexample and no MILP is built.

    ``time_limit`` (seconds, or a :class:`~mipnet.deadline.Deadline`) covers everything done for this sample:
    the attack, bound tightening (at most ``BOUNDS_SHARE`` of it), building the MILP, solving it and the retry
    of a boundary witness. What the deadline cuts short ends ``unknown``, never ``holds``.
    """
    _prepare(net)
    norm = normalise_norm(norm)
    dl = Deadline.of(time_limit)
    t0 = time.perf_counter()
    x = np.asarray(x, dtype=np.float64).ravel()
    check_in_domain(net, x, index)
    logits = net.forward(x[None])
    pred = int(net.predict_index(logits)[0])
    c = pred if cls is None else int(cls)
    names = net.class_names or []
    res = RobustnessResult(index, c, names[c] if c < len(names) else c, "unknown", float(eps), norm, solver=solver,
                           region=region_text(net, eps, norm))
    m0 = float(margins(net, logits, np.array([c]))[0])
    if pred != c:  # the sample itself is not classified as c: it is its own counterexample
        res.verdict, res.counterexample, res.adversarial_class = "violated", x.copy(), names[pred]
        res.margin = res.margin_forward = m0
        res.reason = "the sample itself is not classified as its label"
        res.time = time.perf_counter() - t0
        return res
    lo, hi = ball_box(net, x, eps, norm)
    sub = _sub_domain(net, lo, hi)
    if early_stop and use_attack and eps > 0:
        xa = attack(net, x, eps, norm, c, deadline=dl)
        if xa is not None:
            la = net.forward(xa[None])
            k = int(net.predict_index(la)[0])
            res.verdict, res.counterexample, res.witness = "violated", xa, xa
            res.adversarial_class = names[k] if k < len(names) else k
            res.margin = res.margin_forward = float(margins(net, la, np.array([c]))[0])
            res.status, res.reason = "attack", "counterexample found by the gradient attack"
            res.time = time.perf_counter() - t0
            return res
    tb = time.perf_counter()
    bnds = precomputed_bounds if precomputed_bounds is not None else compute_bounds(
        net, lo, hi, method=bounds, deadline=dl.sub(fraction=BOUNDS_SHARE))
    res.bounds_time = time.perf_counter() - tb
    out = _solve_margin(net, sub, x, eps, norm, c, bnds, solver, dl, early_stop, threads, res, margin_cap=0.0)
    if out == "retry" and dl.expired():
        res.verdict = "unknown"
        res.reason = "the witness lies on the decision boundary and the time limit came before its re-check"
    elif out == "retry":
        out = _solve_margin(net, sub, x, eps, norm, c, bnds, solver, dl, True, threads, res, margin_cap=-TAU)
        if out == "retry":
            res.verdict = "unknown"
            res.reason = "witnesses lie on the decision boundary (ties); the forward pass keeps the class"
    res.time = time.perf_counter() - t0
    return res


def _solve_margin(net: Network, sub: Domain, x: np.ndarray, eps: float, norm: str, c: int, bnds: Bounds,
                  solver: str, time_limit: float | Deadline, early_stop: bool, threads: int | None,
                  res: RobustnessResult, margin_cap: float) -> str:
    """Build and solve one margin MILP; fills ``res``; returns 'done' or 'retry' (witness failed the check).
    ``time_limit``: seconds from the solve's start, or the sample's deadline (building counts against it)."""
    names = net.class_names or []
    m = pyo.ConcreteModel()
    xin = input_terms(m, sub, name="x")
    add_norm_ball(m, "B", xin, x, float(eps), norm)
    enc = encode_network(m, net, xin, bounds=bnds)
    mg = encode_margin(m, "M", enc.outputs, c, prune=early_stop)
    res.n_rivals = len(mg.rivals)
    res.n_binaries = enc.n_binaries() + len(mg.binaries)
    if mg.lower > 0 and early_stop:
        res.verdict, res.bound, res.status = "holds", mg.lower, "bounds"
        res.reason = "the output bounds alone prove the margin positive"
        return "done"
    cap = margin_cap if early_stop else None
    if cap is not None and mg.lower > cap:
        res.bound, res.status = mg.lower, "bounds"
        if mg.lower > 0:
            res.verdict = "holds"
        else:  # the retry's cap -tau: the bounds leave margins in (-tau, 0] open
            res.verdict = "unknown"
            res.reason = f"the output bounds leave the worst margin in [{mg.lower:g}, 0]"
        return "done"
    mv = new_vars(m, "margin", np.array([mg.lower]), np.array([mg.upper if cap is None else min(mg.upper, cap)]))[0]
    m.margin_def = pyo.Constraint(expr=mv == mg.expr)
    m.obj = pyo.Objective(expr=mv, sense=pyo.minimize)
    dl = Deadline.of(time_limit)
    if dl.expired():
        res.verdict, res.status = "unknown", "time limit"
        res.reason = "the time limit was reached before the MILP could be solved"
        return "done"
    r: Result = solve(m, solver, time_limit=dl.solver_limit(), threads=threads,
                      stop_below=(min(0.0, margin_cap) if early_stop else None),
                      mip_gap=None if early_stop else 1e-9)
    res.status, res.nodes = r.status, r.nodes
    res.solve_time += r.wall_time
    if r.bound is not None:
        res.bound = float(r.bound) if res.bound is None else max(res.bound, float(r.bound))
    if r.status == "infeasible":
        if cap is not None and cap < 0:
            # the retry: the first solve found margins <= 0 that the forward pass did not confirm, this one
            # rules out margins <= -tau only: a real margin in (-tau, 0] (a class change) is not excluded
            res.verdict = "unknown"
            res.reason = (f"the worst margin lies in [-{-cap:g}, 0]: a tie or a class change below the solver's "
                          "resolution")
            return "done"
        res.verdict = "holds"
        res.reason = "no point of the ball has margin <= %g" % (cap if cap is not None else 0.0)
        return "done"
    if not r.has_solution:
        res.verdict = "unknown"
        res.reason = f"solver stopped ({r.termination}) without proof or counterexample"
        return "done"
    xp = project_to_ball(net, x, xin.values().ravel(), eps, norm)
    logits = net.forward(xp[None])
    k = int(net.predict_index(logits)[0])
    mf = float(margins(net, logits, np.array([c]))[0])
    assert r.incumbent is not None  # r.has_solution
    res.margin = float(r.incumbent)
    res.margin_forward = mf
    res.witness = xp
    if r.status == "optimal" and r.bound is not None and r.bound > 0 and not early_stop:
        res.verdict = "holds"
        res.bound = max(res.bound or -np.inf, float(r.bound if r.bound is not None else r.incumbent))
        res.reason = "worst-case margin is positive"
        return "done"
    if k != c:
        res.verdict, res.counterexample, res.adversarial_class = "violated", xp, names[k] if k < len(names) else k
        return "done"
    if res.bound is not None and res.bound > 0:
        res.verdict = "holds"
        return "done"
    if r.incumbent is not None and r.incumbent <= 0:
        return "retry" if margin_cap == 0.0 else "done"
    res.verdict = "unknown"
    res.reason = f"solver stopped ({r.termination}) with margin bound {res.bound}"
    return "done"


# ----------------------------------------------------------------------------- many samples


def verify_robustness(
    net: Network,
    X: np.ndarray,
    eps: float,
    norm: str = "inf",
    labels: Sequence[Any] | None = None,
    *,
    solver: str = "highs",
    time_limit: float = 30.0,
    bounds: str = "linear",
    early_stop: bool = True,
    threads: int | None = None,
    use_attack: bool = True,
) -> list[RobustnessResult]:
    """Verify every row of X: one :class:`RobustnessResult` per sample.

    ``labels`` (class names or indices) fix the class to defend; by default the predicted class.
    ``time_limit`` is per sample (bound computation included), ``bounds`` the bound method
    (interval, lp or mip), ``early_stop=False`` computes the exact worst-case margin.
    """
    _prepare(net)
    if not (np.isfinite(eps) and eps >= 0):
        raise DataError(f"eps must be a finite number >= 0, got {eps}")
    X = net._check_input(X)
    for i in range(X.shape[0]):  # every row first: an input error before any solving
        check_in_domain(net, X[i], i)
    cls = None if labels is None else class_indices(net, list(labels))
    if cls is not None and len(cls) != X.shape[0]:
        raise DataError(f"{len(cls)} labels for {X.shape[0]} samples")
    return [
        verify_sample(net, X[i], eps, norm, None if cls is None else int(cls[i]), solver=solver,
                      time_limit=time_limit, bounds=bounds, early_stop=early_stop, threads=threads, index=i,
                      use_attack=use_attack)
        for i in range(X.shape[0])
    ]


def summarize(results: Sequence[RobustnessResult]) -> dict[str, int]:
    """Verdict counts."""
    return {v: sum(r.verdict == v for r in results) for v in VERDICTS}


# ----------------------------------------------------------------------------- minimal perturbation


def minimal_perturbation(
    net: Network,
    x: np.ndarray,
    norm: str = "inf",
    cls: int | None = None,
    *,
    eps_max: float | None = None,
    tau: float = TAU,
    solver: str = "highs",
    time_limit: float | Deadline = 60.0,
    bounds: str = "linear",
    threads: int | None = None,
) -> PerturbationResult:
    """The smallest radius e (L-inf or L1) of a point x' in the domain whose margin is <= -tau.

    One MILP: min e s.t. ||x' - x|| <= e, m(x') <= -tau, bounds over the box of radius ``eps_max``
    (default: the whole domain, which must then be finite). ``time_limit`` covers bounds, building and solving.
    """
    _prepare(net)
    norm = normalise_norm(norm)
    dl = Deadline.of(time_limit)
    t0 = time.perf_counter()
    x = np.asarray(x, dtype=np.float64).ravel()
    logits = net.forward(x[None])
    pred = int(net.predict_index(logits)[0])
    c = pred if cls is None else int(cls)
    names = net.class_names or []
    label = names[c] if c < len(names) else c
    if pred != c:
        return PerturbationResult(c, label, norm, 0.0, 0.0, "optimal", x.copy(), names[pred], True, eps_max,
                                  time.perf_counter() - t0)
    if eps_max is None:
        net.domain.require_finite()
        lo, hi = net.domain.lower.copy(), net.domain.upper.copy()
        reach = float(np.max(np.maximum(np.abs(hi - x), np.abs(lo - x))))
        emax = reach if norm == "inf" else float(np.sum(np.maximum(np.abs(hi - x), np.abs(lo - x))))
    else:
        lo, hi = ball_box(net, x, float(eps_max), norm)
        emax = float(eps_max)
    sub = _sub_domain(net, lo, hi)
    bnds = compute_bounds(net, lo, hi, method=bounds, deadline=dl.sub(fraction=BOUNDS_SHARE))
    m = pyo.ConcreteModel()
    xin = input_terms(m, sub, name="x")
    e = new_vars(m, "eps", np.array([0.0]), np.array([emax]))[0]
    add_norm_ball(m, "B", xin, x, e, norm)
    enc = encode_network(m, net, xin, bounds=bnds)
    mg = encode_margin(m, "M", enc.outputs, c)
    if mg.lower > -tau:
        return PerturbationResult(c, label, norm, None, emax, "infeasible", eps_max=emax,
                                  time=time.perf_counter() - t0, extra={"reason": "bounds prove robustness"})
    m.margin_cap = pyo.Constraint(expr=mg.expr <= -tau)
    m.obj = pyo.Objective(expr=e, sense=pyo.minimize)
    if dl.expired():
        return PerturbationResult(c, label, norm, None, None, "unknown", eps_max=emax, time=time.perf_counter() - t0,
                                  extra={"reason": "the time limit was reached before the MILP could be solved"})
    r = solve(m, solver, time_limit=dl.solver_limit(), threads=threads, mip_gap=1e-6)
    out = PerturbationResult(c, label, norm, None, r.bound, r.status, eps_max=emax,
                             extra={"nodes": r.nodes, "n_binaries": enc.n_binaries() + len(mg.binaries)})
    if r.status == "infeasible":
        out.bound = emax
    elif r.has_solution:
        xv = xin.values().ravel()
        dist = float(np.max(np.abs(xv - x)) if norm == "inf" else np.sum(np.abs(xv - x)))
        xp = project_to_ball(net, x, xv, dist, norm)
        k = int(net.predict_index(net.forward(xp[None]))[0])
        assert r.incumbent is not None  # r.has_solution
        out.eps = float(r.incumbent)
        out.counterexample = xp
        out.adversarial_class = names[k] if k < len(names) else k
        out.checked = k != c
    out.time = time.perf_counter() - t0
    return out
