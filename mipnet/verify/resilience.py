"""Maximum resilience of a class (Cheng, Nuehrenberg and Ruess 2017) as a MILP over two copies of the net.

Logits z (a single binary logit l is read as (0, l)); class m, alpha >= 1, k >= 1, domain D.

**Class bound Phi_m** (a is a variable: a property of the class, not of one input):

    Phi_m = min ||e||                       (||.||_1 or ||.||_inf)
            a in D, a + e in D,
            z_m(a) >= ln(alpha) + z_i(a)                   for all i != m   (a strongly classified),
            z_i(a + e) >= z_m(a + e) - M_i (1 - c_i)       for all i != m,  c_i in {0, 1},
            sum_{i != m} c_i >= k                          (at least k classes reach m),

M_i = max(0, U_m - L_i) from sound bounds of the perturbed copy's logits. Both copies are the one
encoder (:func:`mipnet.encode.encode_network`) over shared weights. ||e||_1 = sum t_i with
t_i >= +-(b_i - a_i); ||e||_inf = s with s >= +-(b_i - a_i). The network bound is Xi = min_m Phi_m.

**alpha_max** of class m: max t s.t. a in D, z_m(a) >= t + z_i(a) for all i != m; alpha_max = exp(t*)
(the largest alpha for which Phi_m is defined).

**Local variant**: a fixed (strongly classified) input; the same problem with a constant. The decision
"is the bound of a below delta" adds ||e|| <= delta and stops at the first feasible point:
a feasible point (checked by the forward pass) answers *below*, infeasibility proves *not below*.

**Heuristics** (each switchable, :class:`Heuristics`):

* ``dataflow``: interval bounds of every layer over the input box; without it every unstable neuron
  uses one uniform big-M, M = 10^ceil(log10(max interval bound over the domain)) (sound, naive).
* ``mip_bounds``: tighter bounds from small MIPs over the last ``lookback`` layers
  (:func:`mipnet.bounds.compute_bounds`, method "mip", ``processes`` worker processes).
* ``priority``: branch on the binaries of earlier layers first (SCIP and Gurobi; HiGHS has no
  priorities and the result says so).
* ``init``: three steps - (1) a strongly classified input a0 (sampling, else the alpha_max MILP),
  (2) the minimal perturbation Phi_ini of that fixed input (local MILP, a gradient search first),
  (3) the full MILP started from (a0, a0 + e0) with the cut -Phi_ini <= sum_i e_i <= Phi_ini (L1;
  n Phi_ini for L-inf, since |sum_i e_i| <= n ||e||_inf) and ||e|| <= Phi_ini. For the local variant
  step (2) is the gradient search alone.
* ``twin`` (ours, not in the paper): the two copies are tied neuron by neuron. With e in
  [-E, E] (E = the domain width, or Phi_ini after the initialisation) interval arithmetic bounds the
  difference dz = z(b) - z(a) of every pre-activation in [l, u] (no bias: dz^1 = W^1 e,
  dz^{i+1} = W^{i+1} dh^i, dh in [min(0, l), max(0, u)]); since ReLU is monotone and 1-Lipschitz,
  dh = h(b) - h(a) lies between 0 and dz, whose convex hull over [l, u] is
      l (u - dz) / (u - l) <= dh <= u (dz - l) / (u - l)     (l < 0 < u),
      dz <= dh <= 0 (u <= 0),    0 <= dh <= dz (l >= 0).
  Besides, |dh| <= |dz| chains to |dh^l| <= G^l |e| with G^1 = |W^1|, G^{l+1} = |W^{l+1}| D^l G^l
  (D^l zeroes neurons off in both copies), written with the norm's variables t_i >= |e_i|:
      -G^l_j . t <= dh^l_j <= G^l_j . t.
  Without these the LP relaxation sets a = b and its bound on Phi stays 0.

Every witness is re-checked by the numpy forward pass; ``witness["ok"]`` reports the outcome.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap

from ..bounds import compute_bounds, interval_bounds
from ..deadline import Deadline
from ..encode import NetworkEncoding, Terms, encode_network, input_terms
from ..encode.properties import add_margin_floor, logit_terms, norm_epigraph, twin_constraints
from ..encode.terms import constraint_list, new_binaries
from ..errors import DataError, UnsupportedError
from ..network import Network
from ..solve import Result, solve
from .branching import priority_solver, set_priorities, solver_options
from .search import logits, perturbation_norm, reached, search_perturbation, strong_margin

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
        names = [p.strip() for p in s.split(",") if p.strip()]
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


# ---------------------------------------------------------------------------------------------- pieces
def _class_index(net: Network, m: int | str | None, x: np.ndarray | None = None) -> int:
    if net.task != "classify":
        raise UnsupportedError("maximum resilience is defined for classifiers only")
    assert net.class_names is not None  # a classifier has class names
    names = [str(c) for c in net.class_names]
    if m is None:
        if x is None:
            raise UnsupportedError("give the class m")
        return int(np.argmax(logits(net, x[None])[0]))
    if isinstance(m, str) and m in names:
        return names.index(m)
    try:
        idx = int(m)
    except (TypeError, ValueError):
        raise DataError(f"unknown class {m!r}; the classes are {', '.join(names)}") from None
    if not 0 <= idx < len(names):
        raise DataError(f"class index {idx} out of range (the model has {len(names)} classes)")
    return idx


def _check_args(net: Network, alpha: float, k: int, norm: str) -> None:
    assert net.class_names is not None  # _class_index (called first) accepts classifiers only
    n_cls = len(net.class_names)
    if norm not in NORMS:
        raise UnsupportedError(f"norm must be 1 or inf, got {norm!r}")
    if not alpha >= 1.0:
        raise DataError(f"alpha must be >= 1, got {alpha}")
    if not 1 <= k <= n_cls - 1:
        raise DataError(f"k must be between 1 and {n_cls - 1} (the number of other classes), got {k}")
    for layer in net.layers:
        if layer.activation and not layer.piecewise_linear:
            raise UnsupportedError(f"the resilience MILP is exact for piecewise-linear nets only, not {layer.kind}")


def uniform_big_m(net: Network) -> float:
    """A single big-M valid for every pre-activation on the domain: a power of 10 above the interval bounds."""
    b = interval_bounds(net)
    mx = max(float(max(np.abs(lo).max(), np.abs(hi).max())) for lo, hi in b)
    return float(10.0 ** math.ceil(math.log10(max(mx, 1.0))))


def _encode_copy(block: pyo.Block, net: Network, inp: Terms, bounds: Any, big_m: float | None,
                 prefix: str) -> NetworkEncoding:
    """One copy of the net. With ``big_m`` every Dense/Conv2D output gets the uniform box [-M, M]
    (its variables' bounds and its Terms bounds, which the next layer reads)."""
    if big_m is None:
        return encode_network(block, net, inp, bounds=bounds, prefix=prefix)
    M = float(big_m)

    def uniform_box(i: int, y: Terms) -> Terms:
        if not net.layers[i].parametrised:
            return y
        for e in y.expr.ravel():
            if _is_var(e):
                e.setlb(-M)
                e.setub(M)
        return Terms(y.expr, np.full(y.shape, -M), np.full(y.shape, M))

    return encode_network(block, net, inp, prefix=prefix, after=uniform_box)


def _logit_terms(t: Terms) -> tuple[list[Any], np.ndarray, np.ndarray]:
    return logit_terms(t)


def _add_reach(block: pyo.Block, name: str, z: list[Any], lo: np.ndarray, hi: np.ndarray, m: int,
               k: int) -> tuple[np.ndarray, list[int]]:
    """c_i binaries with z_i >= z_m - M_i (1 - c_i), sum c_i >= k."""
    others = [i for i in range(len(z)) if i != m]
    c = new_binaries(block, f"{name}_c", (len(others),))
    cons = constraint_list(block, f"{name}_reach")
    for t, i in enumerate(others):
        big = max(0.0, float(hi[m] - lo[i]))
        cons.add(z[i] >= z[m] - big * (1 - c[t]))
    cons.add(sum(c) >= k)
    return c, others


def _add_norm(block: pyo.Block, a: np.ndarray, b: np.ndarray, width: np.ndarray, norm: str) -> tuple[Any, Any]:
    """Objective expression ||b - a|| and the auxiliary variables (t or s): :func:`norm_epigraph`."""
    return norm_epigraph(block, a, b, width, norm)


def _is_var(e: Any) -> bool:
    return hasattr(e, "is_variable_type") and e.is_variable_type()


def _start_values(enc: NetworkEncoding, net: Network, x: np.ndarray) -> ComponentMap:
    """Values of every variable of ``enc`` at input x: layer values from the forward pass, binaries on iff z > 0."""
    trace = net.forward_trace(x[None, :])
    out: ComponentMap = ComponentMap()
    for k, T in enumerate(enc.terms):
        vals = trace[k][0].reshape(T.shape)
        for e, v in zip(T.expr.ravel(), vals.ravel()):
            if _is_var(e):
                out[e] = float(np.clip(v, e.lb if e.lb is not None else -np.inf, e.ub if e.ub is not None else np.inf))
    for k, B in enumerate(enc.binaries):
        if B is None:
            continue
        pre = trace[k][0].reshape(B.shape)
        for e, v in zip(B.ravel(), pre.ravel()):
            if e is not None and not isinstance(e, np.ndarray) and _is_var(e):
                out[e] = 1.0 if v > 0 else 0.0
    return out


def _add_twin(block: pyo.Block, net: Network, enc_a: NetworkEncoding, enc_b: NetworkEncoding,
              e_bound: np.ndarray, e_abs: np.ndarray) -> int:
    """Difference (twin) constraints between the copies (:func:`twin_constraints`); returns their number.

    ``e_abs[i]`` is a model term >= |e_i| (t_i for L1, s for L-inf)."""
    return twin_constraints(block, net, enc_a, enc_b, e_bound, e_abs)


def _priorities(encs: list[NetworkEncoding], n_layers: int) -> list[tuple[Any, int]]:
    items = []
    for enc in encs:
        for layer, var in enc.all_binaries():
            items.append((var, n_layers - layer + 1))
    return items


def _solve(model: pyo.ConcreteModel, solver: str, heur: Heuristics, encs: list[NetworkEncoding], n_layers: int,
           time_limit: float | Deadline, threads: int | None, warm: dict[Any, float] | None, stop_below: float | None,
           notes: list[str]) -> Result:
    if isinstance(time_limit, Deadline):
        time_limit = time_limit.remaining()
    name, opts = solver, None
    if heur.priority:
        pname = priority_solver(solver)
        if pname is None:
            notes.append(f"branching priorities: {solver} has no priority interface; heuristic skipped")
        else:
            set_priorities(model, _priorities(encs, n_layers))
            name, opts = pname, solver_options(solver)
    return solve(model, name, time_limit=max(0.05, time_limit), threads=threads, warm_start=warm or None,
                 stop_below=stop_below, options=opts)


def _witness(net: Network, a: np.ndarray, b: np.ndarray, m: int, alpha: float, k: int, norm: str,
             phi: float | None) -> dict[str, Any]:
    z = logits(net, np.vstack([a, b]))
    tol = TOL * (1.0 + float(np.abs(z).max()))
    margin = float(strong_margin(z[:1], m)[0])
    n_reach = int(reached(z[1:], m, tol)[0])
    nv = perturbation_norm(a, b, norm)
    in_dom = bool(net.domain.contains(np.vstack([a, b]), tol=1e-6).all())
    strong = margin >= math.log(alpha) - tol
    ok = strong and n_reach >= k and in_dom and (phi is None or nv <= phi + 1e-5 * (1 + abs(phi)))
    return {"ok": bool(ok), "strong_margin": margin, "ln_alpha": math.log(alpha), "classes_reached": n_reach,
            "norm_value": nv, "in_domain": in_dom, "logits_a": z[0].tolist(), "logits_b": z[1].tolist()}


def _prepare_bounds(net: Network, lower: np.ndarray, upper: np.ndarray, heur: Heuristics,
                    deadline: Deadline | None = None) -> tuple[Any, float | None]:
    """MIP-tightened bounds (at most until ``deadline``: sound but looser when cut short), the encoder's interval
    bounds (None) or one uniform big-M."""
    if heur.mip_bounds:
        return compute_bounds(net, lower, upper, method="mip", lookback=heur.lookback,
                              time_limit_per_neuron=heur.bound_time, processes=heur.processes,
                              deadline=deadline), None
    if heur.dataflow:
        return None, None  # the encoder's own interval bounds over the input box
    return None, uniform_big_m(net)


def _base(kind: str, net: Network, m: int, alpha: float, k: int, norm: str, heur: Heuristics) -> ResilienceResult:
    assert net.class_names is not None  # _class_index (called first) accepts classifiers only
    return ResilienceResult(kind, m, str(net.class_names[m]), float(alpha), int(k), norm, "unknown", None, None,
                            None, heuristics=heur.to_dict())


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


# ---------------------------------------------------------------------------------------------- alpha_max
def alpha_max(net: Network, m: int | str, *, solver: str = "highs", time_limit: float | Deadline = 60.0,
              threads: int | None = None, heuristics: Heuristics | None = None) -> ResilienceResult:
    """The largest alpha for which some input is strongly classified to m: max t, alpha_max = exp(t).
    ``time_limit`` (seconds or a Deadline) covers bounds, model building and the MILP."""
    heur = heuristics or Heuristics()
    mi = _class_index(net, m)
    _check_args(net, 1.0, 1, "1")
    res = _base("alpha_max", net, mi, 1.0, 1, "1", heur)
    dl = Deadline.of(time_limit)
    t0 = time.perf_counter()
    bounds, big_m = _prepare_bounds(net, net.domain.lower, net.domain.upper, heur, dl.sub(fraction=BOUNDS_SHARE))
    res.timings["bounds"] = time.perf_counter() - t0
    model = pyo.ConcreteModel()
    model.A = pyo.Block()
    xa = input_terms(model.A, net.domain, name="a")
    enc = _encode_copy(model.A, net, xa, bounds, big_m, "A")
    z, lo, hi = _logit_terms(enc.outputs)
    others = [i for i in range(len(z)) if i != mi]
    span = float(hi[mi] - lo[others].min())
    model.t = pyo.Var(bounds=(float(lo[mi] - hi[others].max()), span))
    model.margin = pyo.ConstraintList()
    add_margin_floor(model.margin, z, mi, model.t)
    model.obj = pyo.Objective(expr=model.t, sense=pyo.maximize)
    res.n_binaries = enc.n_binaries()
    warm = None
    if heur.init:
        X = net.domain.sample(2000, 0)
        best = X[int(np.argmax(strong_margin(logits(net, X), mi)))]
        warm = _start_values(enc, net, best)
        warm[model.t] = float(strong_margin(logits(net, best[None]), mi)[0])
    t1 = time.perf_counter()
    if dl.expired():
        _out_of_time(res)
        res.timings["total"] = time.perf_counter() - t0
        return res
    r = _solve(model, solver, heur, [enc], len(net.layers), dl, threads, warm, None, res.notes)
    res.timings["milp"] = time.perf_counter() - t1
    _fill(res, r)
    if r.has_solution:
        assert r.incumbent is not None  # r.has_solution
        a = xa.values().ravel()
        res.a = a
        res.witness = {"strong_margin": float(strong_margin(logits(net, a[None]), mi)[0]),
                       "ok": bool(abs(float(strong_margin(logits(net, a[None]), mi)[0]) - r.incumbent)
                                  <= 1e-5 * (1 + abs(r.incumbent)))}
    res.timings["total"] = time.perf_counter() - t0
    return res


# ---------------------------------------------------------------------------------------------- local
def local_resilience(net: Network, x: np.ndarray, m: int | str | None = None, *, alpha: float = 1.0,
                     k: int = 1, norm: str = "1", delta: float | None = None, decide: bool = False,
                     heuristics: Heuristics | None = None, solver: str = "highs",
                     time_limit: float | Deadline = 60.0, threads: int | None = None) -> ResilienceResult:
    """Minimal perturbation of a fixed input x (``decide``: only whether it is <= ``delta``).

    ``time_limit`` (seconds or a Deadline) covers everything: the gradient search, the robustness decision,
    bound tightening, model building and the MILP; cut short, the result has no bound (status feasible with
    the search's pair, or unknown)."""
    heur = heuristics or Heuristics()
    dl = Deadline.of(time_limit)
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size != net.n_inputs:
        raise DataError(f"the input has {x.size} values, the model takes {net.n_inputs}")
    if not net.domain.contains(x[None], tol=1e-9)[0]:
        raise DataError("the input lies outside the model's domain")
    mi = _class_index(net, m, x)
    _check_args(net, alpha, k, norm)
    if decide and delta is None:
        raise DataError("the decision 'below delta' needs delta")
    res = _base("local", net, mi, alpha, k, norm, heur)
    res.delta = delta
    za = logits(net, x[None])
    margin = float(strong_margin(za, mi)[0])
    if margin < math.log(alpha):
        assert net.class_names is not None  # _class_index accepts classifiers only
        raise DataError(f"the input is not strongly classified to class {net.class_names[mi]} at alpha={alpha} "
                        f"(logit margin {margin:.4g} < ln(alpha) = {math.log(alpha):.4g})")
    t0 = time.perf_counter()
    dom = net.domain
    lo_b, hi_b = dom.lower.copy(), dom.upper.copy()
    if delta is not None and (heur.dataflow or heur.mip_bounds):
        lo_b, hi_b = np.maximum(lo_b, x - delta), np.minimum(hi_b, x + delta)
    b0 = None
    if heur.init:
        b0 = search_perturbation(net, x, mi, k, norm, radius=delta)
        res.timings["init_search"] = time.perf_counter() - t0
        if b0 is not None:
            res.phi_init = phi_init = perturbation_norm(x, b0, norm)
            if decide and delta is not None and phi_init <= delta:  # (decide needs delta: checked above)
                res.status, res.phi, res.verdict, res.a, res.b = "feasible", res.phi_init, "below", x, b0
                res.witness = _witness(net, x, b0, mi, alpha, k, norm, res.phi)
                res.notes.append("decided by the gradient search (no MILP needed)")
                res.timings["total"] = time.perf_counter() - t0
                return res
            if delta is not None and phi_init > delta:
                b0 = None
    if decide and k == 1 and heur.robust:
        assert delta is not None  # decide needs delta (checked above)
        decided = _decide_by_robustness(net, x, mi, alpha, norm, float(delta), res, solver, dl, threads)
        res.timings["robustness_milp"] = time.perf_counter() - t0 - res.timings.get("init_search", 0.0)
        if decided:
            res.timings["total"] = time.perf_counter() - t0
            return res
    t1 = time.perf_counter()
    bounds, big_m = _prepare_bounds(net, lo_b, hi_b, heur, dl.sub(fraction=BOUNDS_SHARE))
    res.timings["bounds"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    model = pyo.ConcreteModel()
    model.B = pyo.Block()
    xb = input_terms(model.B, dom, lo_b, hi_b, name="b")
    enc = _encode_copy(model.B, net, xb, bounds, big_m, "B")
    z, lo, hi = _logit_terms(enc.outputs)
    c, others = _add_reach(model, "p", z, lo, hi, mi, k)
    width = np.maximum(np.abs(xb.upper - x), np.abs(x - xb.lower))
    obj, aux = _add_norm(model, x, xb.expr.ravel(), width, norm)
    model.obj = pyo.Objective(expr=obj)
    if delta is not None:
        model.ball = pyo.Constraint(expr=obj <= float(delta))
    warm = None
    if b0 is not None:
        assert res.phi_init is not None  # b0's norm, measured when it was found
        model.cut = pyo.Constraint(expr=obj <= res.phi_init * (1 + 1e-7) + 1e-9)
        warm = _start_values(enc, net, b0)
        zb = logits(net, b0[None])[0]
        for t, i in enumerate(others):
            warm[c[t]] = 1.0 if zb[i] >= zb[mi] else 0.0
        e = np.abs(b0 - x)
        if norm == "1":
            for i in range(e.size):
                warm[aux[i]] = float(e[i])
        else:
            warm[aux] = float(e.max())
    res.n_binaries = enc.n_binaries() + len(others)
    res.timings["build"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    if dl.expired():
        if b0 is not None:
            res.phi, res.a, res.b = res.phi_init, x, b0
            res.witness = _witness(net, x, b0, mi, alpha, k, norm, None)
        _out_of_time(res)
        if decide:
            res.verdict = "unknown"
        res.timings["total"] = time.perf_counter() - t0
        return res
    stop = float(delta) * (1 + 1e-9) + 1e-12 if decide and delta is not None else None  # decide needs delta
    r = _solve(model, solver, heur, [enc], len(net.layers), dl, threads, warm, stop, res.notes)
    res.timings["milp"] = time.perf_counter() - t3
    _fill(res, r)
    if r.status == "infeasible" and b0 is not None:
        _keep_initial_pair(net, res, x, b0, mi, alpha, k, norm)
    if r.has_solution:
        res.a, res.b = x, xb.values().ravel()
        res.witness = _witness(net, x, res.b, mi, alpha, k, norm, None)
    if decide:
        assert delta is not None  # decide needs delta (checked above)
        if r.status == "infeasible":
            res.verdict = "not_below"
        elif r.has_solution and res.witness.get("ok") and res.witness["norm_value"] <= delta * (1 + 1e-6) + 1e-9:
            res.verdict = "below"
        else:
            res.verdict = "unknown"
    res.timings["total"] = time.perf_counter() - t0
    return res


def _decide_by_robustness(net: Network, x: np.ndarray, mi: int, alpha: float, norm: str, delta: float,
                          res: ResilienceResult, solver: str, time_limit: float | Deadline,
                          threads: int | None) -> bool:
    """k = 1, fixed input: some e with ||e|| <= delta lets a rival reach m  <=>  min over the ball of
    z_m - max_{i != m} z_i is <= 0, which the robustness MILP decides (with the tie counted as reaching).
    Returns True when decided (res filled), False to fall back to the resilience MILP."""
    from .robustness import verify_sample

    dl = Deadline.of(time_limit)
    r = verify_sample(net, x, delta, "inf" if norm == "inf" else "1", mi, solver=solver,
                      time_limit=dl.sub(fraction=0.5), threads=threads)
    if r.verdict == "holds":
        res.status, res.verdict = "infeasible", "not_below"
        res.notes.append("decided by the robustness MILP: no point of the ball lets a rival reach the class")
        return True
    if r.verdict == "violated" and r.counterexample is not None:
        b = np.asarray(r.counterexample, dtype=np.float64).ravel()
        w = _witness(net, x, b, mi, alpha, 1, norm, None)
        if w.get("ok") and w["norm_value"] <= delta * (1 + 1e-6) + 1e-9:
            res.status, res.verdict, res.a, res.b, res.witness = "feasible", "below", x, b, w
            res.phi = w["norm_value"]
            res.notes.append("decided by the robustness MILP (counterexample re-checked)")
            return True
    return False


# ---------------------------------------------------------------------------------------------- class
def class_resilience(net: Network, m: int | str, *, alpha: float = 1.0, k: int = 1, norm: str = "1",
                     heuristics: Heuristics | None = None, solver: str = "highs",
                     time_limit: float | Deadline = 60.0, threads: int | None = None,
                     samples: np.ndarray | None = None) -> ResilienceResult:
    """Phi_m of class m: the smallest perturbation taking a strongly classified input to >= k rival classes.

    ``time_limit`` (seconds or a Deadline) covers everything: MIP bound tightening (at most ``BOUNDS_SHARE``),
    the initial strongly classified input and its minimal perturbation, building the two-copy model and the
    MILP. Cut short, the result has no bound (status feasible with the initial pair, or unknown)."""
    heur = heuristics or Heuristics()
    dl = Deadline.of(time_limit)
    mi = _class_index(net, m)
    _check_args(net, alpha, k, norm)
    dom = net.domain
    dom.require_finite()
    res = _base("class", net, mi, alpha, k, norm, heur)
    ln_a = math.log(alpha)
    t0 = time.perf_counter()
    bounds, big_m = _prepare_bounds(net, dom.lower, dom.upper, heur, dl.sub(fraction=BOUNDS_SHARE))
    res.timings["bounds"] = time.perf_counter() - t0

    a0 = b0 = None
    if heur.init:
        t1 = time.perf_counter()
        X = dom.sample(2000, 0)
        if samples is not None:
            X = np.vstack([np.asarray(samples, float).reshape(-1, net.n_inputs), X])
        margins = strong_margin(logits(net, X), mi)
        ok = np.flatnonzero(margins >= ln_a)
        if ok.size:  # the strongly classified sample closest to the alpha threshold: likely near a boundary
            a0 = X[ok[int(np.argmin(margins[ok]))]]
        else:
            am = alpha_max(net, mi, solver=solver, time_limit=dl.sub(fraction=INIT_STRONG_SHARE), threads=threads,
                           heuristics=Heuristics(heur.dataflow, False, False, True))
            if am.status == "infeasible" or (am.bound is not None and am.bound < ln_a - 1e-9):
                res.status = "infeasible"
                res.notes.append(f"no input is strongly classified at alpha={alpha} (alpha_max <= "
                                 f"{math.exp(am.bound) if am.bound is not None else float('nan'):.4g})")
                res.timings["init_strong"] = time.perf_counter() - t1
                res.timings["total"] = time.perf_counter() - t0
                return res
            if am.a is not None and am.witness.get("strong_margin", -np.inf) >= ln_a:
                a0 = am.a
        res.timings["init_strong"] = time.perf_counter() - t1
        if a0 is not None and not dl.expired():
            t2 = time.perf_counter()
            loc = local_resilience(net, a0, mi, alpha=alpha, k=k, norm=norm, solver=solver, threads=threads,
                                   heuristics=Heuristics(heur.dataflow, False, False, True),
                                   time_limit=dl.sub(fraction=INIT_LOCAL_SHARE))
            if loc.b is not None and loc.witness.get("ok"):
                b0 = loc.b
                res.phi_init = perturbation_norm(a0, b0, norm)
            res.timings["init_local"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    model = pyo.ConcreteModel()
    model.A, model.B = pyo.Block(), pyo.Block()
    xa = input_terms(model.A, dom, name="a")
    xb = input_terms(model.B, dom, name="b")
    enc_a = _encode_copy(model.A, net, xa, bounds, big_m, "A")
    enc_b = _encode_copy(model.B, net, xb, bounds, big_m, "B")
    za, _, _ = _logit_terms(enc_a.outputs)
    zb, lob, hib = _logit_terms(enc_b.outputs)
    model.strong = pyo.ConstraintList()
    add_margin_floor(model.strong, za, mi, ln_a)
    c, others = _add_reach(model, "p", zb, lob, hib, mi, k)
    a_e, b_e = xa.expr.ravel(), xb.expr.ravel()
    obj, aux = _add_norm(model, a_e, b_e, dom.upper - dom.lower, norm)
    model.obj = pyo.Objective(expr=obj)
    if heur.twin:
        e_bound = dom.upper - dom.lower
        if res.phi_init is not None:
            e_bound = np.minimum(e_bound, res.phi_init * (1 + 1e-6) + 1e-9)
        e_abs = np.asarray(aux, dtype=object).ravel() if norm == "1" else np.full(dom.n_features, aux, dtype=object)
        res.notes.append(f"twin constraints: {_add_twin(model, net, enc_a, enc_b, e_bound, e_abs)}")
    warm = None
    if b0 is not None:
        assert a0 is not None and res.phi_init is not None  # b0 is found near a0, its norm measured (phi_init)
        phi0 = res.phi_init
        # |sum_i e_i| <= ||e||_1 <= Phi_ini (the paper's cut); for L-inf |sum_i e_i| <= n ||e||_inf
        cap = (phi0 if norm == "1" else b_e.size * phi0) * (1 + 1e-7) + 1e-9
        model.cut_sum = pyo.Constraint(expr=pyo.inequality(-cap, sum(b_e[i] - a_e[i] for i in range(b_e.size)), cap))
        model.cut_obj = pyo.Constraint(expr=obj <= phi0 * (1 + 1e-7) + 1e-9)
        warm = _start_values(enc_a, net, a0)
        for var, val in _start_values(enc_b, net, b0).items():
            warm[var] = val
        zb0 = logits(net, b0[None])[0]
        for t, i in enumerate(others):
            warm[c[t]] = 1.0 if zb0[i] >= zb0[mi] else 0.0
        e = np.abs(b0 - a0)
        if norm == "1":
            for i in range(e.size):
                warm[aux[i]] = float(e[i])
        else:
            warm[aux] = float(e.max())
    res.n_binaries = enc_a.n_binaries() + enc_b.n_binaries() + len(others)
    res.timings["build"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    if dl.expired():
        if b0 is not None:
            assert a0 is not None  # b0 is found near a0, its norm measured (phi_init)
            res.phi, res.a, res.b = res.phi_init, a0, b0
            res.witness = _witness(net, a0, b0, mi, alpha, k, norm, None)
        _out_of_time(res)
        res.timings["total"] = time.perf_counter() - t0
        return res
    r = _solve(model, solver, heur, [enc_a, enc_b], len(net.layers), dl, threads, warm, None, res.notes)
    res.timings["milp"] = time.perf_counter() - t4
    _fill(res, r)
    if r.status == "infeasible" and b0 is not None:
        assert a0 is not None  # b0 is found near a0, its norm measured (phi_init)
        _keep_initial_pair(net, res, a0, b0, mi, alpha, k, norm)
    if r.has_solution:
        res.a, res.b = xa.values().ravel(), xb.values().ravel()
        res.witness = _witness(net, res.a, res.b, mi, alpha, k, norm, None)
    res.timings["total"] = time.perf_counter() - t0
    return res


def _keep_initial_pair(net: Network, res: ResilienceResult, a: np.ndarray, b: np.ndarray, mi: int, alpha: float,
                       k: int, norm: str) -> None:
    """The MILP under the cut ||e|| <= Phi_ini came back infeasible although the initial pair (a, b) passed the
    forward re-check (within its tolerance): "infeasible" would claim that no perturbation at all reaches the
    classes. Report the pair instead, with no proved bound."""
    res.status, res.phi, res.bound, res.gap = "feasible", res.phi_init, None, None
    res.a, res.b = a, b
    res.witness = _witness(net, a, b, mi, alpha, k, norm, None)
    res.notes.append("the MILP under the initial cut was infeasible (the initial pair reaches the classes only "
                     "within the re-check tolerance): the initial pair is reported, no bound is claimed")


def network_resilience(net: Network, *, alpha: float = 1.0, k: int = 1, norm: str = "1",
                       heuristics: Heuristics | None = None, solver: str = "highs",
                       time_limit: float | Deadline = 60.0,
                       threads: int | None = None) -> tuple[float | None, list[ResilienceResult]]:
    """Xi = min_m Phi_m over the classes (None if some class is undecided and no class gives a value),
    with the per-class results. ``time_limit`` is for the whole: each class gets the time left over the classes
    left (``time_limit`` / number of classes when every class uses its share)."""
    if net.class_names is None:
        raise UnsupportedError("maximum resilience is defined for classifiers only")
    n = len(net.class_names)
    total = Deadline.of(time_limit)
    results = [class_resilience(net, m, alpha=alpha, k=k, norm=norm, heuristics=heuristics, solver=solver,
                                time_limit=total.share(n - m), threads=threads) for m in range(n)]
    vals = [r.phi for r in results if r.phi is not None]
    return (min(vals) if vals else None), results
