"""VNN-LIB properties (the VNN-COMP format) checked by one MILP per input box.

A property declares inputs ``X_0 .. X_{n-1}`` and outputs ``Y_0 .. Y_{m-1}`` (``declare-const``) and
asserts the *unsafe* region: a conjunction of assertions, each built from ``and``, ``or`` and linear
comparisons ``<= >= < > =`` between sums (``+``, ``-``, ``*`` by a constant) of variables and numbers.
The property **holds** when no input satisfying the input constraints yields outputs satisfying the
output constraints (competition tools print "unsat"); it is **violated** when such an input exists
(printed with the counterexample, re-checked by the numpy forward pass).

Every assertion is put in disjunctive normal form; every atom becomes ``a.X + b.Y + c <= 0`` (a
strict ``<`` is relaxed to ``<=``: the MILP's region is then a superset, so ``holds`` stays sound,
and a witness is re-checked strictly). Atoms on a single input variable with no output form the
disjunct's input box; disjuncts with the same box are solved together in one MILP:

    x in box,  y = f(x) (the network encoding, bounds over the box),
    for each disjunct p with binary d_p:  e_a(x, y) <= M_a (1 - d_p)  for every atom a of p,
    sum_p d_p = 1,

with M_a the upper bound of e_a over the box and the output bounds (interval arithmetic over the
encoding's Terms). A single disjunct needs no binary. The MILP minimises a depth variable t with
e_a(x, y) <= t + M'_a (1 - d_p) and t <= -delta (the same feasible set): it heads for points deep inside the
unsafe region, whose witness passes the forward-pass re-check at once (a feasibility MILP returned points on
the region's boundary: a tie the re-check refutes, then a second MILP), and stops at the first point
``STOP_DEPTH`` deep. Feasible -> candidate counterexample; infeasible for every box -> holds; a time limit ->
unknown.

Round-off: the first MILP of a box searches the unsafe region widened to t <= ``NUMERIC_WIDEN`` (1 + the
largest term the encoding and the atoms sum over the box), so that its "infeasible" is not the solver's round-off
(HiGHS declared a region 7.8 deep infeasible on terms of 1e11); a point found in the widening only is no witness
and the retries below it decide. A box whose centre lies more than ``CENTRE_RATIO`` half-widths from the origin
is solved in centred coordinates x = centre + half u, u in [-1, 1] (folded into the first Dense layer and the
atoms, sums by ``math.fsum``): weights of 1e-9 on inputs of 1e5 made HiGHS and SCIP call a feasible MILP
infeasible. These are guards against the solvers' floating point, not a proof in exact arithmetic.

Before the MILP (:mod:`mipnet.verify.input_split`): the box is sampled (corners, centre, uniform points; a
point is a counterexample only once the whole disjunct re-checks on it), then every atom is bounded below by
CROWN / alpha-CROWN (:mod:`mipnet.verify.spec_bounds`); a disjunct with an atom that cannot hold anywhere in the
box is dropped, and a box without live disjuncts is safe with no MILP. A net with at most ``SPLIT_INPUTS``
inputs then goes through input branch-and-bound, whose small or deep leaves get the MILP above (with
``processes`` > 1 across worker processes, :mod:`mipnet.verify.parallel_tree`); a larger net gets the one MILP
over the box. ``VnnResult.prover`` names the stage that decided ("attack", "bounds", "crown",
"alpha-crown", "split", "milp"), ``seconds`` the time of each stage, ``open_leaves`` what a cut tree left.

The property defines the input set. Every X_i is a real number (the sort ``Real``): the box is
verified exactly as written, whatever the model's stored input domain says. The domain never cuts
the box, and its integer features and one-hot groups are not imposed (the encoding and its bounds
are built on a copy of the network whose domain is the box itself). A box that leaves the domain,
or a model whose domain has integer features or one-hot groups, gets a warning
(:attr:`VnnResult.warnings`). A box must bound every input on both sides (otherwise the property is
refused as unbounded, before any solving), and every number must be finite (nan, inf and numbers
that overflow a double are refused by the parser).
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..bounds import RELIABLE_MAGNITUDE, Bounds, compute_bounds, encoding_magnitude
from ..deadline import Deadline
from ..domain import Domain
from ..encode import build_estimate, encode_network, input_terms, new_binaries
from ..errors import DataError, ModelFormatError, UnsupportedError
from ..layers import Dense
from ..layers.base import rounding_slack
from ..network import Network, dropped_output
from ..solve import solve
from .input_split import SPLIT_INPUTS, box_network, branch_and_bound, find_witness, refute
from .parallel_tree import parallel_tree
from .vnnlib_format import (
    _VAR,
    CHECK_TOL,
    MAX_DISJUNCTS,
    Atom,
    BoxGroup,
    Property,
    _add,
    _number,
    _Parser,
    _sexprs,
    _show,
    _tokens,
    load_vnnlib,
    parse_vnnlib,
    some_disjunct_holds,
)

#: seconds for a whole property when no time limit is given
DEFAULT_TIME_LIMIT = 60.0
#: the MILP stops at the first point whose atoms are all at least this deep in the unsafe region (times the
#: outputs' scale, max(1, |output bounds|)): deep enough for the forward-pass re-check, no need to optimise on
STOP_DEPTH = 1e-4
#: ``VnnResult.reason`` when the time limit ends a box undecided (the word printed since the first release)
TIME_LIMIT_REASON = "timeout"
#: margin by which atoms are tightened when a witness fails the re-check
RETRY_DELTA = 1e-5
#: the retries of a box whose first witness fails the re-check: kept this far inside the unsafe region (and off the
#: strict input bounds), the largest first (a violation with a margin of 1e-6 needs a retry below it)
RETRY_DELTAS = (RETRY_DELTA, 1e-7, 1e-9)
#: the MILP of a box (delta = 0) searches the unsafe region widened by NUMERIC_WIDEN (1 + the largest term of the
#: encoding and the atoms over the box), so that its "infeasible" is not a round-off verdict: HiGHS declared a region
#: 7.8 deep infeasible on a net whose first layer sums terms of 1e11 (relative 3e-11). A point found in the widening
#: only fails the forward re-check, and the retries (RETRY_DELTAS, unwidened) decide: a witness, or "unknown".
NUMERIC_WIDEN = 1e-9
#: the MILP's "infeasible" is not taken where the bounds leave the unsafe region at most THIN_SHARE (1 + the
#: largest term) deep in the box: the solvers' tolerances (1e-7 and up) decide there, not the model
THIN_SHARE = 1e-6
#: above :data:`~mipnet.bounds.RELIABLE_MAGNITUDE` (after centring) the MILP's "infeasible" leaves the box "unknown"
UNRELIABLE = f"the MILP's terms exceed {RELIABLE_MAGNITUDE:g}, where the solver's infeasibility is not taken as a proof"
THIN_REGION = (
    "the unsafe region reaches at most a solver's tolerance deep into this box: the solver's infeasibility is not "
    "taken as a proof there"
)
#: a box whose centre lies farther from the origin than this many half-widths is solved centred (:func:`_centred`)
CENTRE_RATIO = 100.0
#: ``check_property(pipeline=...)``: attack -> bounds -> input split / MILP, or one MILP per box (as before)
PIPELINES = ("auto", "milp")
#: the property model and parser live in :mod:`mipnet.verify.vnnlib_format`; importable from here as before
_REEXPORTED = (
    _VAR,
    CHECK_TOL,
    MAX_DISJUNCTS,
    Atom,
    BoxGroup,
    Property,
    _add,
    _number,
    _Parser,
    _sexprs,
    _show,
    _tokens,
    load_vnnlib,
    parse_vnnlib,
    ModelFormatError,
)


# ----------------------------------------------------------------------------- checking


@dataclass
class VnnResult:
    """``verdict`` in holds | violated | unknown; ``x``/``y`` the re-checked counterexample."""

    verdict: str
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    time: float = 0.0
    boxes: int = 0
    n_binaries: int = 0
    reason: str = ""
    statuses: list[str] = field(default_factory=list)
    #: what the verdict should be read with: the box leaves the model's domain, the domain's integer
    #: features / one-hot groups were not imposed (the property's inputs are real)
    warnings: list[str] = field(default_factory=list)
    #: the stage that decided (module docstring; "" when undecided), seconds per stage, tree counts
    prover: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    nodes: int = 0
    open_leaves: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The verdict, witness, stages and their times as JSON-ready values."""
        return {
            "verdict": self.verdict,
            "x": None if self.x is None else [float(v) for v in self.x],
            "y": None if self.y is None else [float(v) for v in self.y],
            "time": self.time,
            "boxes": self.boxes,
            "n_binaries": self.n_binaries,
            "reason": self.reason,
            "statuses": list(self.statuses),
            "warnings": list(self.warnings),
            "prover": self.prover,
            "seconds": {k: float(v) for k, v in self.seconds.items()},
            "nodes": self.nodes,
            "open_leaves": self.open_leaves,
        }

    def _stage(self, name: str, seconds: float = 0.0) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def counterexample_text(self) -> str:
        """The witness in the competition's format: ((X_0 v) ... (Y_0 v) ...)."""
        if self.x is None or self.y is None:
            return ""
        items = [f"(X_{i} {v!r})" for i, v in enumerate(map(float, self.x))]
        items += [f"(Y_{j} {v!r})" for j, v in enumerate(map(float, self.y))]
        return "(" + "\n ".join(items) + ")"


class _Check:
    """``check(x, y)``: some disjunct of ``exact`` holds at (x, y), atom by atom (:meth:`Atom.holds_at`, the verdict's
    test). ``screen(X, Y)``: the rows of a batch where some disjunct of ``screen_atoms`` holds up to a slack above
    round-off, vectorised; with ``screen_atoms`` the disjuncts without the input box the points are drawn from, it
    passes every row the exact check accepts, so :func:`~.input_split.find_witness` runs the exact check on those
    rows only (one Python pass over 9 disjuncts of 784 input bounds per point used up a 30 s limit)."""

    def __init__(self, exact: list[list[Atom]], screen_atoms: list[list[Atom]], n_in: int, n_out: int) -> None:
        from .input_split import spec_rows

        self.exact = exact
        self.C, self.E, self.d, self.owner = spec_rows(screen_atoms, n_in, n_out)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> bool:
        return some_disjunct_holds(self.exact, x, y)

    def screen(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        V = Y @ self.C.T + X @ self.E.T + self.d
        slack = CHECK_TOL + 1e-9 * (np.abs(Y) @ np.abs(self.C).T + np.abs(X) @ np.abs(self.E).T + np.abs(self.d) + 1.0)
        ok = V <= slack
        return np.logical_or.reduce([ok[:, rows].all(axis=1) for rows in self.owner] or [np.zeros(len(X), bool)])


def _atom_magnitude(at: Atom, xlo: np.ndarray, xhi: np.ndarray, ylo: np.ndarray, yhi: np.ndarray) -> float:
    """|c| + sum |a_i| max|x_i| + sum |b_j| max|y_j| over the box and the output bounds: the size of the terms."""
    mag = abs(at.c)
    mag += sum(abs(v) * max(abs(xlo[i]), abs(xhi[i])) for i, v in at.a.items())
    mag += sum(abs(v) * max(abs(ylo[j]), abs(yhi[j])) for j, v in at.b.items())
    return float(mag)


def _atom_upper(at: Atom, xlo: np.ndarray, xhi: np.ndarray, ylo: np.ndarray, yhi: np.ndarray) -> float:
    """An upper bound of the atom's expression over the box and the output bounds, raised by its float64 round-off
    (:func:`mipnet.layers.base.rounding_slack`: relative to the terms that cancel, not to the result)."""
    u = at.c
    for i, v in at.a.items():
        u += v * (xhi[i] if v > 0 else xlo[i])
    for j, v in at.b.items():
        u += v * (yhi[j] if v > 0 else ylo[j])
    mag = _atom_magnitude(at, xlo, xhi, ylo, yhi)
    return float(u + rounding_slack(np.asarray(mag), len(at.a) + len(at.b)))


def _time_limit(time_limit: float | Deadline | None, timeout: float | Deadline | None, where: str) -> float | Deadline:
    """``time_limit``, or the deprecated keyword ``timeout`` (with a DeprecationWarning; not both)."""
    if timeout is None:
        return DEFAULT_TIME_LIMIT if time_limit is None else time_limit
    if time_limit is not None:
        raise TypeError(f"{where}: give time_limit only (timeout is its deprecated name)")
    warnings.warn(f"{where}(timeout=...) is deprecated: use time_limit=...", DeprecationWarning, stacklevel=3)
    return timeout


def _outputs(net: Network, x: np.ndarray) -> np.ndarray:
    """Y at x as the property names it: the ONNX graph's outputs (a dropped final softmax applied again)."""
    from ..io.onnx_io import onnx_outputs

    return onnx_outputs(net, net.forward(x[None]))[0]


def _check_dropped_output(net: Network, prop: Property) -> None:
    """A network whose ONNX graph ends in Softmax / LogSoftmax is verified through its logits (the import drops the
    last op). That decides exactly only the atoms the op leaves unchanged: Softmax keeps the order of two outputs
    (c (Y_i - Y_j) <= 0, no input term, no constant), LogSoftmax shifts every output by the same amount (any atom
    whose output coefficients add up to 0). Any other atom bounds output values: refused, never decided on the
    logits (a property "Y_0 <= 0" of probabilities was reported violated with a logit of -0.9)."""
    op = dropped_output(net)
    if not op:
        return
    for conj in prop.disjuncts:
        for at in conj:
            if not at.b:
                continue
            coef = sorted(at.b.values())
            if op == "LogSoftmax":
                exact = abs(sum(coef)) <= 1e-12 * max(1.0, max(abs(c) for c in coef))
            else:
                exact = not at.a and at.c == 0 and len(coef) == 2 and coef[0] == -coef[1] != 0
            if not exact:
                raise UnsupportedError(
                    f"the network's model ends in {op}, which mipnet verifies through its logits: a property "
                    "may only compare two outputs (Y_i <= Y_j)"
                    + (" or bound differences of outputs" if op == "LogSoftmax" else "")
                    + "; this one bounds output values"
                )


def check_property(
    net: Network,
    prop: Property,
    *,
    solver: str = "highs",
    time_limit: float | Deadline | None = None,
    bounds: str = "linear",
    threads: int | None = None,
    timeout: float | Deadline | None = None,
    pipeline: str = "auto",
    processes: int = 1,
    scheduler: str | None = None,
) -> VnnResult:
    """Decide ``prop`` on ``net``: the attack on every distinct input box, then per box (one after the other,
    each with all the time left) the bounds and input branch-and-bound around the MILP (``pipeline="auto"``), or
    one MILP per box and nothing else (``pipeline="milp"``). With ``scheduler`` (``"local"``: a local Dask
    cluster; or a Dask scheduler's address) the boxes of a property with several are decided at the same time,
    one task each, ending at the first counterexample (:mod:`mipnet.verify.box_fanout`).

    The box is verified exactly as the property gives it, over the reals (module docstring): the
    model's domain never shrinks it; a box leaving the domain is reported in ``warnings``.
    ``time_limit`` (seconds, or a :class:`~mipnet.deadline.Deadline`; default ``DEFAULT_TIME_LIMIT``) is for
    the whole property: bounds, model building and every MILP of every box count against it.
    ``timeout`` is its deprecated name. ``processes`` > 1 runs the input branch-and-bound of each box across
    that many worker processes (:mod:`mipnet.verify.parallel_tree`; the same deadline, the same verdicts);
    1 (the default) keeps it in this process.
    """
    dl = Deadline.of(_time_limit(time_limit, timeout, "check_property"))
    t0 = time.perf_counter()
    if pipeline not in PIPELINES:
        raise ValueError(f"pipeline must be one of {', '.join(PIPELINES)}, got {pipeline!r}")
    if isinstance(processes, bool) or not isinstance(processes, (int, np.integer)) or processes < 1:
        raise ValueError(f"processes must be a whole number >= 1, got {processes!r}")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ValueError(f"scheduler must be 'local' or a Dask scheduler address, got {scheduler!r}")
    if prop.n_inputs != net.n_inputs:
        raise DataError(f"the property has {prop.n_inputs} inputs X_i, the network takes {net.n_inputs}")
    if prop.n_outputs != net.n_outputs:
        raise DataError(f"the property has {prop.n_outputs} outputs Y_j, the network has {net.n_outputs}")
    _check_dropped_output(net, prop)
    groups = prop.box_groups()
    for g in groups:  # every box bounded, before any solving
        open_ = ~(np.isfinite(g.lower) & np.isfinite(g.upper))
        if open_.any():
            bad = int(np.flatnonzero(open_)[0])
            side = (
                "lower and upper"
                if not (np.isfinite(g.lower[bad]) or np.isfinite(g.upper[bad]))
                else ("lower" if not np.isfinite(g.lower[bad]) else "upper")
            )
            raise DataError(
                f"the property leaves input X_{bad} unbounded (no {side} bound); VNN-LIB properties "
                "need a bounded input box"
            )
    res = VnnResult("holds", boxes=len(groups))
    res.warnings = _domain_warnings(net, groups)
    if not groups:
        res.warnings.append(
            "no input satisfies the property's input constraints (every input box is empty): it holds vacuously"
        )
    undecided: list[str] = []
    closed_by: list[str] = []
    for g in groups if pipeline != "milp" else ():  # the attack on every box first: a violated later box is
        ta = time.perf_counter()  # found even when an earlier box is hard to prove
        x = None
        if np.all(g.inner_lower <= g.inner_upper):  # (else no float lies in the box as written)
            check = _Check(g.whole, g.rest, net.n_inputs, net.n_outputs)
            x = find_witness(net, g.inner_lower, g.inner_upper, check, deadline=dl)
        res._stage("attack", time.perf_counter() - ta)
        if x is not None:
            res.verdict, res.x, res.y, res.prover = "violated", x, _outputs(net, x), "attack"
            res.time = time.perf_counter() - t0
            return res
    from ..distributed import LOCAL_CLUSTER_MIN_BUDGET

    # too little time for a local cluster's start and close (7.7 s for a 2 s limit): the boxes are decided here
    local_too_short = scheduler == "local" and not dl.unlimited and dl.remaining() < LOCAL_CLUSTER_MIN_BUDGET
    if scheduler is not None and len(groups) > 1 and not dl.expired() and not local_too_short:
        from .box_fanout import decide_boxes_distributed

        outcomes = decide_boxes_distributed(
            net, groups, solver, dl, bounds, threads, pipeline, processes, scheduler, res
        )
    else:
        outcomes = []
        for g in groups:
            # one box after the other, each with all the time left: "holds" needs every box proved, so a share per
            # box would turn a first box that needs most of the limit into "unknown" (the attack above already
            # looked for cheap counterexamples in every box)
            outcomes.append(decide_box(net, g, solver, dl, bounds, threads, res, pipeline, processes))
            if outcomes[-1].verdict == "violated":
                break
    for out in outcomes:
        if out.verdict == "violated":
            assert out.x is not None
            res.verdict, res.x, res.y = "violated", out.x, _outputs(net, out.x)
            res.prover = out.prover
            res.time = time.perf_counter() - t0
            return res
        if out.verdict == "holds":
            closed_by.append(out.prover)
        else:
            undecided.append(out.reason)
    order = ("bounds", "crown", "alpha-crown", "split", "milp")
    res.prover = max(closed_by, key=lambda p: order.index(p) if p in order else len(order), default="bounds")
    if undecided:
        res.verdict, res.reason, res.prover = "unknown", undecided[0], ""
        if res.open_leaves:
            res.reason += f" ({res.open_leaves} open leaves of the input split)"
    res.time = time.perf_counter() - t0
    return res


@dataclass
class BoxOutcome:
    """What :func:`decide_box` concluded on one input box: ``verdict`` "holds" (``prover`` the stage that closed
    it), "violated" (``x`` a counterexample that passed the re-check of the whole disjunct) or "unknown"
    (``reason``)."""

    verdict: str
    prover: str = ""
    x: np.ndarray | None = None
    reason: str = ""


def decide_box(
    net: Network,
    g: BoxGroup,
    solver: str,
    dl: Deadline,
    bounds: str,
    threads: int | None,
    res: VnnResult,
    pipeline: str = "auto",
    processes: int = 1,
) -> BoxOutcome:
    """Decide one input box of a property (after the attack on every box): :func:`_solve_box` on the box as given,
    and again kept each of ``RETRY_DELTAS`` off the boundary of strict bounds and the unsafe region while the
    witness fails the re-check. ``res`` collects the stages' seconds, the tree's counts and the solver statuses."""
    why = "the witness fails the forward-pass re-check"
    for delta in (0.0, *RETRY_DELTAS):
        if dl.expired():
            return BoxOutcome("unknown", reason=TIME_LIMIT_REASON)
        # the retry keeps off the boundary of strict bounds too (a witness there fails the re-check)
        lo = np.where(g.strict_lower, g.lower + delta, g.lower)
        hi = np.where(g.strict_upper, g.upper - delta, g.upper)
        if np.any(lo > hi):
            why = f"the only witnesses lie within {delta:g} of the boundary of a strict input bound"
            continue
        status, x = _solve_box(net, lo, hi, g.rest, solver, dl, bounds, threads, delta, res, pipeline, processes)
        res.statuses.append(status)
        if status == "infeasible" and delta == 0.0:
            return BoxOutcome("holds", prover=res.prover)  # this box is safe
        if status in (UNRELIABLE, THIN_REGION):
            return BoxOutcome("unknown", reason=status)
        if x is None and status != "infeasible":
            return BoxOutcome("unknown", reason=_undecided_reason(dl, res))
        if x is None:  # nothing this far inside the unsafe region: a witness may lie closer to its boundary
            why = f"no witness lies {delta:g} inside the unsafe region, and the ones closer fail the re-check"
            continue
        x = g.place(x)  # a point of the proof's box (rounded outward) onto the floats of the box as written
        y = net.forward(x[None])[0]
        if some_disjunct_holds(g.whole, x, y):  # the whole disjunct: the box (strict bounds strictly) and the outputs
            return BoxOutcome("violated", prover=res.prover, x=x)
    return BoxOutcome("unknown", reason=why)


def _undecided_reason(dl: Deadline, res: VnnResult) -> str:
    """Why a box stayed open: :data:`TIME_LIMIT_REASON` only where the time limit has passed; else what stopped its
    MILPs (a leaf's :data:`THIN_REGION` or :data:`UNRELIABLE` guard, or a solver status). Before, every open box read
    "timeout", also where every leaf had ended on the guards within a second of a 60 s limit."""
    if dl.expired():
        return TIME_LIMIT_REASON
    for guard in (THIN_REGION, UNRELIABLE):
        if guard in res.statuses:
            return guard
    other = [s for s in res.statuses if s not in ("infeasible", "feasible", "optimal")]
    return f"the solver stopped ({other[-1] if other else 'unknown'}) without a proof or a witness"


def _domain_warnings(net: Network, groups: list[BoxGroup]) -> list[str]:
    """Say where the property's input set differs from the model's stored domain (it is verified as given)."""
    d = net.domain
    out = []
    for g in groups:
        below, above = g.lower < d.lower, g.upper > d.upper
        if below.any() or above.any():
            i = int(np.flatnonzero(below | above)[0])
            out.append(
                f"the property's input box leaves the model's input domain (X_{i} in [{g.lower[i]:g}, "
                f"{g.upper[i]:g}], domain {d.names[i]!r} in [{d.lower[i]:g}, {d.upper[i]:g}]); "
                "the box was verified as given"
            )
            break
    if d.integer.any() or d.onehot_groups:
        out.append(
            "the model's domain has integer features or one-hot groups; the property's inputs are real "
            "numbers and were verified without them"
        )
    return out


def _box_network(net: Network, lo: np.ndarray, hi: np.ndarray) -> Network:
    """``net`` with its domain replaced by the plain real box [lo, hi] (no integers, no one-hot groups), so
    that nothing downstream (bounds, encoding) cuts the box to the stored domain. Layers are shared."""
    return box_network(net, lo, hi)


def _solve_box(
    net: Network,
    lo: np.ndarray,
    hi: np.ndarray,
    conjs: list[list[Atom]],
    solver: str,
    time_limit: float | Deadline,
    bounds: str,
    threads: int | None,
    delta: float,
    res: VnnResult,
    pipeline: str = "auto",
    processes: int = 1,
) -> tuple[str, np.ndarray | None]:
    """Decide one box: output bounds, the CROWN / alpha-CROWN refutation, then input branch-and-bound (few
    inputs; its leaves across ``processes`` worker processes when more than 1) or one MILP (``pipeline="milp"``:
    the MILP right after the output bounds); ``res.prover`` names the stage that closed it."""
    dl = Deadline.of(time_limit)
    bnet = _box_network(net, lo, hi)
    tb = time.perf_counter()
    bnds = compute_bounds(bnet, lo, hi, method=bounds, deadline=dl.sub(fraction=0.5))
    res._stage("bounds", time.perf_counter() - tb)
    ylo, yhi = bnds[-1][0].ravel(), bnds[-1][1].ravel()
    # disjuncts that the bounds already rule out are dropped
    live = [c for c in conjs if all(_lower_ok(a, lo, hi, ylo, yhi, delta) for a in c)]
    res.prover = "bounds"
    if not live:
        return "infeasible", None
    if pipeline == "milp":
        tm = time.perf_counter()
        res.prover = "milp"
        out = _milp_box(bnet, lo, hi, live, bnds, solver, dl, threads, delta, res)
        res._stage("milp", time.perf_counter() - tm)
        return out
    ref = refute(bnet, lo, hi, live, bnds, delta, dl.sub(fraction=0.25))
    for k, v in ref.seconds.items():
        res._stage(k, v)
    res.prover = ref.stage
    live = [live[p] for p in ref.live]
    if not live:
        return "infeasible", None

    leaf = _MilpLeaf(net, bounds, solver, threads, delta, res)
    if net.n_inputs <= SPLIT_INPUTS:
        check = _Check(live, live, net.n_inputs, net.n_outputs)
        if processes > 1:
            tree, nb = parallel_tree(bnet, lo, hi, live, check, leaf, delta, dl, processes)
            res.n_binaries = max(res.n_binaries, nb)
        else:
            tree = branch_and_bound(bnet, lo, hi, live, check, leaf, delta, dl)
        for k, v in tree.seconds.items():
            res._stage(k, v)
        res.nodes += tree.nodes
        res.open_leaves += tree.open_leaves
        res.prover = "milp" if tree.milp_leaves else "split"
        if tree.status == "violated":
            res.prover = tree.stage
            return "feasible", tree.x
        return ("infeasible", None) if tree.status == "infeasible" else ("unknown", tree.boundary)
    tm = time.perf_counter()
    try:
        res.prover = "milp"
        return _milp_box(bnet, lo, hi, live, bnds, solver, dl, threads, delta, res)
    finally:
        res._stage("milp", time.perf_counter() - tm)


@dataclass
class _MilpLeaf:
    """The input branch-and-bound's leaf: the MILP over a sub-box (:func:`_milp_box`; with the user's bound method
    for the big-M values when it is not ``linear``). A plain object, so that worker processes can run it too
    (:mod:`mipnet.verify.parallel_tree`); ``res`` collects the most binaries of a leaf's MILP."""

    net: Network
    bounds: str
    solver: str
    threads: int | None
    delta: float
    res: VnnResult

    @property
    def n_binaries(self) -> int:
        return self.res.n_binaries

    def __call__(
        self, llo: np.ndarray, lhi: np.ndarray, lconjs: list[list[Atom]], lb: Bounds, ldl: Deadline
    ) -> tuple[str, np.ndarray | None]:
        bnet = box_network(self.net, llo, lhi)
        if self.bounds != "linear":  # the user's (tighter) bound method for the MILP's big-M values
            lb = compute_bounds(bnet, llo, lhi, method=self.bounds, deadline=ldl.sub(fraction=0.5))
        status, x = _milp_box(bnet, llo, lhi, lconjs, lb, self.solver, ldl, self.threads, self.delta, self.res)
        if status != "infeasible":
            self.res.statuses.append(status)  # (why a box stayed open: :func:`_undecided_reason`)
        return status, x


def _milp_box(
    bnet: Network,
    lo: np.ndarray,
    hi: np.ndarray,
    live: list[list[Atom]],
    bnds: Bounds,
    solver: str,
    dl: Deadline,
    threads: int | None,
    delta: float,
    res: VnnResult,
) -> tuple[str, np.ndarray | None]:
    """The MILP of the module docstring over the box (``bnet``'s domain) for the ``live`` disjuncts; on a box far
    from the origin against its width, over the centred box (:func:`_centred`)."""
    magnitude = 0.0
    thin = False
    if delta == 0.0:  # the unsafe region is widened by the round-off of the encoding's largest terms
        yl, yu = bnds[-1][0].ravel(), bnds[-1][1].ravel()
        terms = [encoding_magnitude(bnet, lo, hi, bnds)] + [_atom_magnitude(a, lo, hi, yl, yu) for c in live for a in c]
        magnitude = max(terms)
        # how deep each disjunct can reach into the unsafe region at most (its atoms' lower bounds over the box)
        rooms = [min(-_atom_lower(at, lo, hi, yl, yu) for at in conj) for conj in live if conj]
        thin = any(-NUMERIC_WIDEN * (1.0 + magnitude) <= r < THIN_SHARE * (1.0 + magnitude) for r in rooms)
    centred = _centred(bnet, lo, hi, live)
    if centred is None:
        status, x = _milp_model(bnet, lo, hi, live, bnds, solver, dl, threads, delta, magnitude, res)
        return _trusted(status, encoding_magnitude(bnet, lo, hi, bnds), _smallest_weight(bnet), thin), x
    cnet, clive, centre, half = centred
    status, u = _milp_model(cnet, cnet.domain.lower, cnet.domain.upper, clive, bnds, solver, dl, threads, delta,
                            magnitude, res)  # fmt: skip
    status = _trusted(
        status, encoding_magnitude(cnet, cnet.domain.lower, cnet.domain.upper, bnds), _smallest_weight(cnet), thin
    )
    return status, None if u is None else np.clip(centre + half * u, lo, hi)


#: a model coefficient below this may be dropped by a solver (HiGHS drops |a| < 1e-9 from its matrix)
SMALLEST_RELIABLE_WEIGHT = 1e-8


def _smallest_weight(net: Network) -> float:
    """The smallest non-zero |weight| of the net's Dense layers (inf when none): the MILP's smallest coefficients."""
    small = math.inf
    for layer in net.layers:
        if layer.kind == "Dense":
            w = np.abs(np.asarray(layer.parameters()["weight"], dtype=np.float64))
            nz = w[w > 0]
            if nz.size:
                small = min(small, float(nz.min()))
    return small


def _trusted(status: str, magnitude: float, smallest: float = math.inf, thin: bool = False) -> str:
    """The MILP's "infeasible" (the box is safe) is taken only where the model's terms stay below
    ``RELIABLE_MAGNITUDE``, no weight lies below :data:`SMALLEST_RELIABLE_WEIGHT` (a solver may drop such a
    coefficient) and the unsafe region, if the box meets it at all, may reach deeper than :data:`THIN_SHARE` into it
    (``thin``: HiGHS called a box 1e-9 wide "infeasible" where the unsafe region was 6.5e-8 deep by the bounds and a
    point reached it); otherwise :data:`UNRELIABLE` / :data:`THIN_REGION` (the box stays undecided)."""
    if status != "infeasible":
        return status
    if magnitude > RELIABLE_MAGNITUDE or smallest < SMALLEST_RELIABLE_WEIGHT:
        return UNRELIABLE
    return THIN_REGION if thin else status


def _centred(
    bnet: Network, lo: np.ndarray, hi: np.ndarray, live: list[list[Atom]]
) -> tuple[Network, list[list[Atom]], np.ndarray, np.ndarray] | None:
    """x = centre + half * u with u in [-1, 1] (half = 0: u = 0), folded into the first Dense layer (W diag(half),
    b + W centre, each sum by math.fsum) and into the atoms' input terms. Done when the box lies far from the
    origin against its width (|centre| > CENTRE_RATIO half): weights of 1e-9 on inputs of 1e5 made HiGHS call a
    feasible MILP infeasible; centred, the same terms are of the box's width. None when not done."""
    first = bnet.layers[0] if bnet.layers else None
    if first is None or first.kind != "Dense" or len(bnet.input_shape) != 1:
        return None
    centre, half = (lo + hi) / 2.0, (hi - lo) / 2.0
    if not float(np.max(np.abs(centre))) > CENTRE_RATIO * max(float(np.max(half)), 1e-300):
        return None
    params = first.parameters()
    W, b = np.asarray(params["weight"], dtype=np.float64), np.asarray(params["bias"], dtype=np.float64)
    b2 = np.array([math.fsum([b[j], *(W[j] * centre)]) for j in range(W.shape[0])])
    cnet = copy.copy(bnet)
    cnet.layers = [Dense(W * half[None, :], b2), *bnet.layers[1:]]
    cnet.domain = Domain(bnet.domain.names, np.where(half > 0, -1.0, 0.0), np.where(half > 0, 1.0, 0.0))

    def moved(at: Atom) -> Atom:  # a . (centre + half u) = (a half) . u + a . centre
        c = math.fsum([at.c, *(v * centre[i] for i, v in at.a.items())])
        return Atom({i: v * half[i] for i, v in at.a.items()}, dict(at.b), c, at.strict)

    return cnet, [[moved(at) for at in conj] for conj in live], centre, half


def _milp_model(
    bnet: Network,
    lo: np.ndarray,
    hi: np.ndarray,
    live: list[list[Atom]],
    bnds: Bounds,
    solver: str,
    dl: Deadline,
    threads: int | None,
    delta: float,
    magnitude: float,
    res: VnnResult,
) -> tuple[str, np.ndarray | None]:
    """The MILP over the box [lo, hi] (``bnet``'s domain); the unsafe region widened by NUMERIC_WIDEN (1 +
    ``magnitude``) when delta = 0."""
    dom = bnet.domain
    if not dl.allows(build_estimate(bnet)):  # the build cannot be interrupted: it would end past the deadline
        return "unknown", None
    m = pyo.ConcreteModel()
    xin = input_terms(m, dom)
    enc = encode_network(m, bnet, xin, bounds=bnds)
    xs, ys = xin.expr.ravel(), enc.outputs.expr.ravel()
    yl, yu = enc.outputs.lower.ravel(), enc.outputs.upper.ravel()
    sel = new_binaries(m, "disj", (len(live),)) if len(live) > 1 else [None]
    m.cons = pyo.ConstraintList()
    cap = -delta if delta != 0.0 else NUMERIC_WIDEN * (1.0 + magnitude)
    # the depth variable t (module docstring): every atom of the chosen disjunct <= t <= cap; t is minimised, so
    # the solver heads for points deep inside the unsafe region and stops at the first one STOP_DEPTH deep
    lows = [_atom_lower(at, lo, hi, yl, yu) for conj in live for at in conj]
    t_low = min(min(lows), cap) - 1.0 - 1e-6 * abs(min(lows))
    m.depth = pyo.Var(bounds=(t_low, cap))
    for p, conj in enumerate(live):
        sel_p = sel[p]
        for at in conj:
            expr = at.c + sum(v * xs[i] for i, v in at.a.items()) + sum(v * ys[j] for j, v in at.b.items())
            if isinstance(expr, (int, float, np.number)):  # constant outputs (every unit stable off)
                if float(expr) <= cap:
                    continue
                if sel_p is None:
                    return "infeasible", None  # the only disjunct is false on the whole box
                m.cons.add(sel_p == 0)
                continue
            if sel_p is None:
                m.cons.add(expr <= m.depth)
            else:
                big = _atom_upper(at, lo, hi, yl, yu) - cap
                if big <= 0:
                    continue  # satisfied everywhere in the box
                m.cons.add(expr <= cap + big * (1 - sel_p))
                m.cons.add(expr <= m.depth + (big + cap - t_low) * (1 - sel_p))
    if len(live) > 1:
        m.cons.add(pyo.quicksum(list(sel)) == 1)
    res.n_binaries = max(res.n_binaries, enc.n_binaries() + (len(live) if len(live) > 1 else 0))
    m.obj = pyo.Objective(expr=m.depth)
    if dl.expired():
        return "unknown", None
    scale = max(1.0, float(np.max(np.abs(np.concatenate([yl, yu])))) if yl.size else 1.0)
    r = solve(m, solver, time_limit=dl.solver_limit(), threads=threads, stop_below=-delta - STOP_DEPTH * scale)
    if r.status == "infeasible":
        return "infeasible", None
    if not r.has_solution:
        return r.status, None
    return r.status, np.clip(xin.values().ravel(), lo, hi)


def _atom_lower(at: Atom, xlo: np.ndarray, xhi: np.ndarray, ylo: np.ndarray, yhi: np.ndarray) -> float:
    """A lower bound of the atom's expression over the box and the output bounds (interval arithmetic)."""
    neg = Atom({i: -v for i, v in at.a.items()}, {j: -v for j, v in at.b.items()}, -at.c)
    return -_atom_upper(neg, xlo, xhi, ylo, yhi)


def _lower_ok(at: Atom, xlo: np.ndarray, xhi: np.ndarray, ylo: np.ndarray, yhi: np.ndarray, delta: float) -> bool:
    """False if the atom's expression is > -delta everywhere on the box (the disjunct is impossible)."""
    lower = _atom_lower(at, xlo, xhi, ylo, yhi)
    return lower <= -delta if delta > 0 else lower <= 0


def verify_vnnlib(
    net_path: str | Path,
    prop_path: str | Path,
    *,
    time_limit: float | Deadline | None = None,
    solver: str = "highs",
    bounds: str = "linear",
    timeout: float | Deadline | None = None,
    processes: int = 1,
    scheduler: str | None = None,
) -> VnnResult:
    """Load an ONNX (or any supported) network and a VNN-LIB file and decide the property (``time_limit``: for
    the whole, loading included; default ``DEFAULT_TIME_LIMIT``; ``timeout`` is its deprecated name;
    ``processes``: worker processes of the input branch-and-bound; ``scheduler``: the boxes on Dask;
    :func:`check_property`)."""
    from ..io import load_model

    dl = Deadline.of(_time_limit(time_limit, timeout, "verify_vnnlib"))
    net = load_model(net_path)
    prop = load_vnnlib(prop_path)
    return check_property(
        net, prop, solver=solver, time_limit=dl, bounds=bounds, processes=processes, scheduler=scheduler
    )
