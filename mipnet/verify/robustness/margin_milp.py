"""Local robustness of a classifier in an L-inf or L1 ball: one margin MILP per sample, early stop.

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

Early stop (default): add m <= 0 and stop at the first incumbent with m < 0. "infeasible" proves
m > 0 on B: the verdict is ``holds``. An incumbent is a candidate counterexample: it is projected
onto B (clipped to the box, L1 step rescaled, integers rounded), re-run through the numpy forward
pass, and reported ``violated`` only if the predicted class differs from c. A candidate that fails
the re-check (a tie on the decision boundary) is retried once with m <= -tau; if that fails too the
verdict is ``unknown``, and so it is when the retry is infeasible (that rules out margins <= -tau only,
not a class change in (-tau, 0]). Before the MILP (early stop only) a cheap
projected-gradient attack looks for a counterexample; it can only ever report ``violated`` with a
re-checked point, never ``holds``.

The stages (early stop), cheapest proof first, so that a sample CROWN proves costs about one CROWN pass:

1. **CROWN** (the first prover): the per-layer bounds of the ball's box by CROWN itself
   (:func:`mipnet.verify.spec_bounds.crown_bounds`, each affine layer's output bounded by back-substitution
   through the layers before it; ``precomputed_bounds`` instead when given), then lower bounds
   b_k <= min_B z_c - z_k of every rival's margin by back-substituting the rows C = e_c - e_k
   (:func:`mipnet.verify.spec_bounds.spec_bounds`, no alpha). b_k > 0 for every k proves the sample robust
   (``holds``, ``bound`` = min_k b_k, ``prover`` "crown"): no attack, no other bound, no MILP.
2. **Attack**: the projected-gradient attack; a point it finds, re-checked by the forward pass, is a
   counterexample (``prover`` "attack"). It never proves robustness.
3. **Layer bounds for the MILP** (``bounds``): ``linear`` reuses stage 1's CROWN bounds (the same
   back-substitution; on a domain with one-hot groups intersected with
   :func:`mipnet.bounds.compute_bounds` ``"linear"``, which treats the groups exactly), ``interval`` is interval
   arithmetic, ``lp`` / ``mip`` tighten by :func:`mipnet.bounds.compute_bounds` and are intersected with stage
   1's (an intersection of sound bounds is sound).
4. **alpha-CROWN** on those layer bounds (stage 1's for ``interval``): the rows' bounds are the larger of the
   two stages' (both sound). All > 0: ``holds``, ``prover`` "crown" (CROWN on the tighter bounds) or
   "alpha-crown".
4b. **ReLU-split tree** (``relu_split``, on by default; L-inf balls, networks of affine and ReLU-type layers):
   the complete branch and bound of :mod:`mipnet.verify.relu_split` on the rows with b_k <= 0, over the ball's box
   with stage 3's layer bounds, within ``SPLIT_SHARE`` of the time left. The cost rule: the tree runs when the
   worst bound is within reach, min_k b_k >= -``SPLIT_REACH`` * m(x) (m(x) the margin at the sample); a deficit
   beyond that (or no finite bound at all) means a loose relaxation over many unstable units, where the number
   of domains grows fast and the MILP goes first (a rough rule, not tuned: on the hard robust queries of the
   benchmark the deficit is 0.03-0.3 m(x)). Every domain closed: ``holds`` (``bound``
   = the least of the tree's bound and the other rows' b_k; ``prover`` "relu-split", ``nodes`` the domains
   bounded); a point of a domain that,
   projected into the ball and re-run through the forward pass, changes the class: ``violated``. Otherwise
   (deadline, a tie at an exact leaf) the MILP runs with what is left. Measured on the hard robust queries of
   ``benchmarks/robustness_competitors.py`` (results/robustness/relu_split.md).
5. **MILP**: the rivals with b_k > 0 are dropped: at any point with margin <= 0 some rival k has
   z_k >= z_c, and it is not a dropped one, so the MILP over the remaining rivals has the same points with
   margin <= 0 (the verdict is unchanged); its bound is combined as min(MILP bound, min of the dropped b_k).
   Only queries that get here pay for :mod:`.hard_milp`: HiGHS without its RINS / RENS sub-MIP heuristics
   (``milp_options``; the model is unchanged), and optionally LP tightening of unstable neurons before the MILP
   (``tighten``, then CROWN again on the tighter bounds) and one MILP per rival (``split``).

``spec_bound=False`` skips stages 1, 4 and 4b (what runs: attack, layer bounds, MILP); ``relu_split=False`` skips
stage 4b (the MILP path); ``use_attack=False`` skips
stage 2; without early stop only stages 3 and 5 run.
The seconds of every stage that ran are in ``RobustnessResult.seconds``: bounds (the layer bounds of stages 1
and 3), crown (stage 1's margin rows), attack, alpha-crown (stage 4), relu-split (stage 4b), milp.
Without early stop the MILP is solved to optimality and reports m* (the worst
margin) with its witness. A time limit without proof or checked witness gives ``unknown``.

(``solve`` and ``project_to_ball`` are looked up on :mod:`mipnet.verify.robustness`, so that patching them there
takes effect.)
"""

from __future__ import annotations

import functools
import time
from dataclasses import replace
from typing import Any, Callable, ParamSpec

import numpy as np
import pyomo.environ as pyo

import mipnet.verify.robustness as _pkg

from ...bounds import METHODS, Bounds
from ...deadline import Deadline
from ...domain import Domain
from ...encode import build_estimate, encode_network, input_terms, new_vars
from ...encode.properties import add_norm_ball, encode_margin
from ...encode.terms import Terms
from ...errors import UnsupportedError
from ...network import Network
from ...solve import Result
from ..relu_split_bounds import supported
from ..spec_bounds import crown_bounds, margin_rows, spec_bounds
from .gradient_attack import attack
from .hard_milp import check_tighten, milp_bounds, rival_order, tighten_for_milp
from .hard_milp import milp_options as milp_options_for
from .region import _prepare, _sub_domain, ball_box, check_in_domain, l1_radius, margins, region_text
from .results import BOUNDS_SHARE, SPEC_SHARE, SPLIT_REACH, SPLIT_SHARE, TAU, RobustnessResult, normalise_norm
from .results import proved as _proved
from .split_stage import split_stage
from .threads import blas_threads

P = ParamSpec("P")


def _whole_call(fn: Callable[P, RobustnessResult]) -> Callable[P, RobustnessResult]:
    """``fn`` run under the BLAS thread cap of its ``threads`` (keyword) argument, its result's ``time`` the whole
    call, the cap included."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> RobustnessResult:
        t0 = time.perf_counter()
        threads = kwargs.get("threads")
        with blas_threads(threads if isinstance(threads, int) else None):
            res = fn(*args, **kwargs)
        res.time = time.perf_counter() - t0
        return res

    return run


@_whole_call
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
    spec_bound: bool = True,
    tighten: str = "last:20",
    split: bool = False,
    milp_options: dict[str, Any] | None = None,
    relu_split: bool = True,
) -> RobustnessResult:
    """Robustness of one sample (see the module docstring for the MILP).

    With ``early_stop`` and ``spec_bound`` a CROWN bound of the margins runs first; when it proves every margin
    positive nothing else runs. With ``early_stop`` and ``use_attack`` a cheap gradient attack runs next; a
    point it finds (re-checked by the forward pass) is a counterexample and no MILP is built. Then the MILP's
    layer bounds, alpha-CROWN on them (``spec_bound``) and the MILP (module docstring, stages 1-5).

    ``time_limit`` (seconds, or a :class:`~mipnet.deadline.Deadline`) covers everything done for this sample:
    the CROWN pass, the attack, bound tightening (at most ``BOUNDS_SHARE`` of it), building the MILP, solving it
    and the retry of a boundary witness. What the deadline cuts short ends ``unknown``, never ``holds``.
    ``threads`` caps the solver's threads and, while the query runs, numpy's BLAS threads (:mod:`.threads`).
    """
    _prepare(net)
    check_tighten(tighten)
    norm = normalise_norm(norm)
    if bounds not in METHODS:
        raise UnsupportedError(f"unknown bound method {bounds!r} (use one of {', '.join(METHODS)})")
    dl = Deadline.of(time_limit)
    t0 = time.perf_counter()
    x = np.asarray(x, dtype=np.float64).ravel()
    check_in_domain(net, x, index)
    logits = net.forward(x[None])
    pred = int(net.predict_index(logits)[0])
    c = pred if cls is None else int(cls)
    names = net.class_names or []
    res = RobustnessResult(
        index,
        c,
        names[c] if c < len(names) else c,
        "unknown",
        float(eps),
        norm,
        solver=solver,
        region=region_text(net, eps, norm),
    )
    m0 = float(margins(net, logits, np.array([c]))[0])
    if pred != c:  # the sample itself is not classified as c: it is its own counterexample
        res.verdict, res.counterexample, res.adversarial_class = "violated", x.copy(), names[pred]
        res.margin = res.margin_forward = m0
        res.reason = "the sample itself is not classified as its label"
        res.prover = "sample"
        res.time = time.perf_counter() - t0
        return res
    lo, hi = ball_box(net, x, eps, norm)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        net.domain.require_finite()  # an unbounded ball in an unbounded domain: no bound exists (an input error)
    if np.any(lo > hi + 1e-12):
        _sub_domain(net, lo, hi)  # raises: the ball does not meet the domain
    staged = early_stop and spec_bound
    C, rivals = margin_rows(net.n_outputs, c)
    first: Bounds | None = None  # stage 1's layer bounds
    best: np.ndarray | None = None  # the best proved bound of every margin row so far
    if staged:  # stage 1: one CROWN pass (layer bounds by CROWN, then the margins)
        tc = time.perf_counter()
        first = precomputed_bounds or crown_bounds(net, lo, hi, deadline=dl.sub(fraction=BOUNDS_SHARE))
        tm = time.perf_counter()
        res.bounds_time = res.seconds["bounds"] = tm - tc
        sb = spec_bounds(net, C, lower=lo, upper=hi, bounds=first, steps=0)
        res.seconds["crown"] = time.perf_counter() - tm
        best = sb.lower
        if np.all(best > 0):
            return _proved(res, "crown", best, t0)
    if early_stop and use_attack and eps > 0:  # stage 2
        ta = time.perf_counter()
        xa = attack(net, x, eps, norm, c, deadline=dl)
        res.seconds["attack"] = time.perf_counter() - ta
        if xa is not None:
            res.prover = "attack"
            la = net.forward(xa[None])
            k = int(net.predict_index(la)[0])
            res.verdict, res.counterexample, res.witness = "violated", xa, xa
            res.adversarial_class = names[k] if k < len(names) else k
            res.margin = res.margin_forward = float(margins(net, la, np.array([c]))[0])
            res.status, res.reason = "attack", "counterexample found by the gradient attack"
            res.time = time.perf_counter() - t0
            return res
    tb = time.perf_counter()  # stage 3
    bnds = (
        precomputed_bounds
        if precomputed_bounds is not None
        else milp_bounds(net, lo, hi, bounds, dl.sub(fraction=BOUNDS_SHARE), first)
    )
    res.bounds_time = res.seconds["bounds"] = res.seconds.get("bounds", 0.0) + time.perf_counter() - tb
    keep, proved = None, None
    if staged:  # stage 4: alpha-CROWN on the MILP's layer bounds
        assert best is not None and first is not None
        b1 = best
        tal = time.perf_counter()
        spec_in = first if (bounds == "interval" and precomputed_bounds is None) else bnds
        sb = spec_bounds(
            net,
            C,
            lower=lo,
            upper=hi,
            bounds=spec_in,
            deadline=dl.sub(fraction=SPEC_SHARE),
            goal=lambda b: bool(np.all(np.maximum(b, b1) > 0)),
        )
        res.seconds["alpha-crown"] = time.perf_counter() - tal
        best = np.maximum(best, sb.lower)
        if np.all(best > 0):
            return _proved(res, "crown" if sb.alpha is None else "alpha-crown", best, t0)
    if staged and relu_split and norm == "inf" and eps > 0 and supported(net) is not None:  # stage 4b
        assert best is not None
        if best.min() >= -SPLIT_REACH * m0 and split_stage(
            net, x, eps, norm, c, C, best, lo, hi, bnds, dl.sub(fraction=SPLIT_SHARE), res
        ):
            res.time = time.perf_counter() - t0
            return res
    if tighten != "none" and precomputed_bounds is None:  # the MILP's big-M bounds, tightened (hard_milp, 2)
        tt = time.perf_counter()
        bnds = tighten_for_milp(net, lo, hi, bnds, tighten, dl.sub(fraction=BOUNDS_SHARE))
        if staged:  # CROWN on the tightened bounds may prove more rivals
            assert best is not None
            best = np.maximum(best, spec_bounds(net, C, lower=lo, upper=hi, bounds=bnds, steps=0).lower)
        res.seconds["tighten"] = time.perf_counter() - tt
        if staged and best is not None and np.all(best > 0):
            return _proved(res, "crown", best, t0)
    if staged and best is not None:
        done = best > 0
        if done.any() and net.n_outputs > 1:
            keep, proved = rivals[~done], float(best[done].min())
    tm = time.perf_counter()
    sub = _sub_domain(net, lo, hi)  # the ball's box as a domain, for the MILP only (building it costs per feature)
    opts = milp_options_for(solver, early_stop, milp_options)
    if split and early_stop and net.n_outputs > 1:
        order = rival_order(rivals if keep is None else keep, rivals, best)
        _solve_rivals(net, sub, x, eps, norm, c, bnds, solver, dl, threads, res, order, opts)
    else:
        _solve_retry(net, sub, x, eps, norm, c, bnds, solver, dl, early_stop, threads, res, keep, opts)
    res.seconds["milp"] = time.perf_counter() - tm
    if proved is not None and res.bound is not None:  # the dropped rivals' margins are at least their bounds
        res.bound = min(res.bound, proved)
    if res.verdict != "unknown":
        res.prover = "bounds" if res.status == "bounds" else "milp"
    res.time = time.perf_counter() - t0
    return res


def _solve_retry(
    net: Network,
    sub: Domain,
    x: np.ndarray,
    eps: float,
    norm: str,
    c: int,
    bnds: Bounds,
    solver: str,
    dl: Deadline,
    early_stop: bool,
    threads: int | None,
    res: RobustnessResult,
    keep: np.ndarray | None,
    opts: dict[str, Any],
) -> None:
    """One margin MILP over the rivals ``keep`` (all: None), and the retry with m <= -tau of a witness that
    failed the re-check (module docstring); fills ``res``."""
    args = (net, sub, x, eps, norm, c, bnds, solver, dl)
    out = _solve_margin(*args, early_stop, threads, res, margin_cap=0.0, keep=keep, options=opts)
    if out == "retry" and dl.expired():
        res.verdict = "unknown"
        res.reason = "the witness lies on the decision boundary and the time limit came before its re-check"
    elif out == "retry":
        out = _solve_margin(*args, True, threads, res, margin_cap=-TAU, keep=keep, options=opts)
        if out == "retry":
            res.verdict = "unknown"
            res.reason = "witnesses lie on the decision boundary (ties); the forward pass keeps the class"


def _solve_rivals(
    net: Network,
    sub: Domain,
    x: np.ndarray,
    eps: float,
    norm: str,
    c: int,
    bnds: Bounds,
    solver: str,
    dl: Deadline,
    threads: int | None,
    res: RobustnessResult,
    order: np.ndarray,
    opts: dict[str, Any],
) -> None:
    """One early-stop MILP per rival k in ``order`` (min z_c - z_k <= 0, :mod:`.hard_milp` 3) until one is not
    proved; ``res`` gets that rival's verdict, or ``holds`` with the least of the rivals' bounds (0 where a
    rival's MILP is infeasible without a bound: no point has z_c - z_k <= 0 there)."""
    lows: list[float] = []
    res.nodes, res.n_binaries, res.n_rivals = 0, 0, len(order)
    for k in order:
        rk = replace(res, seconds={}, bound=None, status="", reason="", nodes=None, solve_time=0.0)
        _solve_retry(net, sub, x, eps, norm, c, bnds, solver, dl, True, threads, rk, np.array([k]), opts)
        res.nodes += rk.nodes or 0
        res.solve_time += rk.solve_time
        res.n_binaries = max(res.n_binaries, rk.n_binaries)
        res.status = rk.status
        if rk.verdict != "holds":
            for f in ("verdict", "reason", "margin", "margin_forward", "witness", "counterexample"):
                setattr(res, f, getattr(rk, f))
            res.adversarial_class, res.bound = rk.adversarial_class, None
            return
        lows.append(0.0 if rk.bound is None else float(rk.bound))
    res.verdict, res.bound = "holds", min(lows) if lows else None
    res.reason = f"no point of the ball has z_c - z_k <= 0 for any of the {len(order)} rivals (one MILP each)"


#: HiGHS's own default MIP feasibility tolerance for the margin MILP: mipnet's 1e-7 made it cut off the only
#: counterexample of badly scaled balls (an integer corner at 1e5 with weights 5e4: 7 false "holds" in 240 fuzzed
#: queries, 0 with 1e-6; benchmarks/fuzz_robustness_scales.py). A looser integrality tolerance only enlarges the set
#: the margin's bound is proved over, and every witness is re-checked by the forward pass.
MARGIN_MIP_TOLERANCE = ("mip_feasibility_tolerance", 1e-6)


def _solve_margin(
    net: Network,
    sub: Domain,
    x: np.ndarray,
    eps: float,
    norm: str,
    c: int,
    bnds: Bounds,
    solver: str,
    time_limit: float | Deadline,
    early_stop: bool,
    threads: int | None,
    res: RobustnessResult,
    margin_cap: float,
    keep: np.ndarray | None = None,
    options: dict[str, Any] | None = None,
) -> str:
    """Build and solve one margin MILP; fills ``res``; returns 'done' or 'retry' (witness failed the check).
    ``time_limit``: seconds from the solve's start, or the sample's deadline (building counts against it).
    ``keep``: the rivals the MILP considers (all by default; the others are proved by a bound)."""
    names = net.class_names or []
    dl = Deadline.of(time_limit)
    need = build_estimate(net)
    if not dl.allows(need):  # the build cannot be interrupted: it would end past the deadline
        res.verdict, res.status = "unknown", "time limit"
        res.reason = (
            f"the time limit would pass while the MILP is built (about {need:.2g} s, {dl.remaining():.2g} s left)"
        )
        return "done"
    m = pyo.ConcreteModel()
    xin = input_terms(m, sub, name="x", centre=x)  # offsets from x where the ball lies far from the origin
    add_norm_ball(m, "B", xin, x, l1_radius(net, float(eps), norm), norm)
    enc = encode_network(m, net, xin, bounds=bnds)
    outs, cls = enc.outputs, c
    if keep is not None:
        idx = np.concatenate([[c], np.asarray(keep, dtype=int)])
        flat = outs.flat()
        outs, cls = Terms(flat.expr[idx], flat.lower[idx], flat.upper[idx]), 0
    mg = encode_margin(m, "M", outs, cls, prune=early_stop)
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
    if dl.expired():
        res.verdict, res.status = "unknown", "time limit"
        res.reason = "the time limit was reached before the MILP could be solved"
        return "done"
    r: Result = _pkg.solve(
        m,
        solver,
        time_limit=dl.solver_limit(),
        threads=threads,
        stop_below=(min(0.0, margin_cap) if early_stop else None),
        mip_gap=None if early_stop else 1e-9,
        options={MARGIN_MIP_TOLERANCE[0]: MARGIN_MIP_TOLERANCE[1], **(options or {})} if solver == "highs" else options,
    )
    res.status, res.nodes = r.status, r.nodes
    res.solve_time += r.wall_time
    if r.bound is not None:
        res.bound = float(r.bound) if res.bound is None else max(res.bound, float(r.bound))
    if r.status == "infeasible":
        if cap is not None and cap < 0:
            # the retry: the first solve found margins <= 0 that the forward pass did not confirm, this one
            # rules out margins <= -tau only: a real margin in (-tau, 0] (a class change) is not excluded
            res.verdict = "unknown"
            res.reason = (
                f"the worst margin lies in [-{-cap:g}, 0]: a tie or a class change below the solver's resolution"
            )
            return "done"
        if cap is None:  # no cap: the ball holds the sample, so "infeasible" is the solver's numerical trouble
            res.verdict = "unknown"
            res.reason = (
                f"{solver} called the MILP of a nonempty ball infeasible (numerical trouble: badly scaled weights?)"
            )
            return "done"
        res.verdict = "holds"
        res.reason = "no point of the ball has margin <= %g" % cap
        return "done"
    if not r.has_solution:
        res.verdict = "unknown"
        res.reason = f"solver stopped ({r.termination}) without proof or counterexample"
        return "done"
    xp = _pkg.project_to_ball(net, x, xin.values().ravel(), eps, norm)
    if xp is None:  # the solver's point cannot be moved into the ball and the domain: no witness
        res.verdict = "unknown"
        res.reason = "the solver's point does not lie in the ball intersected with the domain"
        return "done"
    logits = net.forward(xp[None])
    k = int(net.predict_index(logits)[0])
    mf = float(margins(net, logits, np.array([c]))[0])
    assert r.incumbent is not None  # r.has_solution
    # the margin reported is the witness's own (forward pass): a relaxation's optimum is only a lower bound, an exact
    # one carries the solver's tolerances (-2.250001 for -2.25); the worst margin lies between the bound and it
    res.margin = res.margin_forward = mf
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
        if margin_cap == 0.0:
            return "retry"
        res.verdict, res.reason = (
            "unknown",
            (  # (the retry's point: the reason was left empty)
                f"the solver's point has margin {r.incumbent:.3g} <= 0 in the MILP, but put into the ball the forward "
                f"pass keeps the class (margin {mf:.3g}): the ball's edge or a tie within the solver's tolerances"
            ),
        )
        return "done"
    res.verdict = "unknown"
    res.reason = f"solver stopped ({r.termination}) with margin bound {res.bound}"
    return "done"
