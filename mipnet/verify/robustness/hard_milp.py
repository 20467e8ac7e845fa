"""The MILP stage of a robustness query that no bound proves and no attack refutes (the "hard" queries).

Only queries that reach stage 5 of :mod:`.margin_milp` come here, so nothing below is paid by a query CROWN
proves or the attack refutes. Three things make the verdict-seeking MILP (min m s.t. m <= 0 over the ball B)
faster there, each measured on the hard robust queries of ``benchmarks/robustness_competitors.py``
(``benchmarks/robustness/hard_milp.py``, results/robustness/hard_milp.md):

1. **Solver options** (:func:`milp_options`): on a robust query the MILP is infeasible, and HiGHS' sub-MIP
   heuristics (RINS, RENS), which look for incumbents by solving restricted sub-MIPs, cannot find any;
   on the digits net they took 1.5 s of a 2.0 s solve. They are switched off; the search itself, the other
   heuristics, presolve and cuts stay, so a violated query the attack missed is still found by the tree search.
   The model and the set it speaks of are unchanged, so every verdict is unchanged.
2. **LP bound tightening of unstable neurons** (:func:`tighten_for_milp`, optional): for a chosen set S of
   unstable neurons j (L_j < 0 < U_j) of a layer i,

       L_j' = max(L_j, min { z_j : (x, z, h, a) in P_i }),   U_j' = min(U_j, max { z_j : ... in P_i }),

   where P_i is the LP relaxation (binaries in [0, 1]) of layers 0..i over the ball's box with the current
   bounds (:func:`mipnet.bounds.tighten_neurons`). P_i contains every reachable point, so [L', U'] is sound;
   a neuron with L' >= 0 or U' <= 0 becomes stable and loses its binary (the encoder skips it), the others get
   smaller big-M constants. Later layers' intervals are re-propagated and intersected.
3. **One MILP per rival** (``split``, optional): instead of one MILP with a max over the remaining rivals R,

       for k in R (ascending CROWN bound b_k):   min z_c - z_k  s.t.  z_c - z_k <= 0,  x in B,

   stopping at the first rival with a point (re-checked as in the single MILP). min_k min_B (z_c - z_k) is the
   single MILP's m*, so "all infeasible" proves the same ``holds`` and any re-checked point is a counterexample.

The MILP's layer bounds before tightening (:func:`milp_bounds`, stage 3 of :mod:`.margin_milp`) live here too.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ...bounds import Bounds, compute_bounds, tighten_neurons, tightenable_layers, unstable_neurons
from ...deadline import Deadline
from ...errors import UnsupportedError
from ...network import Network
from ...solve import highs_has_option
from ..spec_bounds import crown_bounds

#: HiGHS options of the verdict-seeking MILP (module docstring, 1)
HIGHS_OPTIONS: dict[str, Any] = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}

_TOP = re.compile(r"^(last|all)(?::(\d+))?$")


def milp_options(solver: str, early_stop: bool, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The solver options of the margin MILP: ``given`` when not None, else :data:`HIGHS_OPTIONS` for HiGHS with
    early stop (those the installed HiGHS knows), else none."""
    if given is not None:
        return dict(given)
    if solver != "highs" or not early_stop:
        return {}
    return {k: v for k, v in HIGHS_OPTIONS.items() if highs_has_option(k)}


def check_tighten(mode: str) -> None:
    """Raise unless ``mode`` is 'none', 'last', 'all', 'last:K' or 'all:K' (K >= 1: the K most unstable)."""
    m = _TOP.match(mode)
    if mode != "none" and (m is None or (m.group(2) is not None and int(m.group(2)) < 1)):
        raise UnsupportedError(f"unknown tightening {mode!r} (use none, last, all, last:K or all:K)")


def tighten_for_milp(
    net: Network, lo: np.ndarray, hi: np.ndarray, bounds: Bounds, mode: str, deadline: Deadline
) -> Bounds:
    """``bounds`` with unstable neurons LP-tightened (module docstring, 2): ``last`` the last tightenable layer,
    ``all`` every one but the first affine layer (exact over a box), ``:K`` only the K most unstable (largest
    -L * U) of each; ``none`` returns ``bounds``. Sound at every deadline (untightened neurons keep theirs)."""
    check_tighten(mode)
    if mode == "none":
        return bounds
    m = _TOP.match(mode)
    assert m is not None
    layers = [i for i in tightenable_layers(net) if not (i == 0 and net.layers[0].parametrised)]
    if m.group(1) == "last":
        layers = layers[-1:]
    k = None if m.group(2) is None else int(m.group(2))
    out = bounds
    for i in layers:
        if deadline.expired():
            break
        todo = unstable_neurons(out, i)[:k]
        out = tighten_neurons(net, lo, hi, out, i, todo, "lp", deadline)
    return out


def rival_order(keep: np.ndarray, rivals: np.ndarray, lower: np.ndarray | None) -> np.ndarray:
    """The rivals ``keep`` (class indices) in ascending order of their proved margin bound ``lower`` (one entry
    per class in ``rivals``): the rival most likely to beat the class first, where an early stop pays most."""
    keep = np.asarray(keep, dtype=int)
    if lower is None:
        return keep
    pos = {int(r): t for t, r in enumerate(np.asarray(rivals, dtype=int))}
    key = np.array([lower[pos[int(k)]] for k in keep])
    return keep[np.argsort(key, kind="stable")]


def milp_bounds(
    net: Network, lo: np.ndarray, hi: np.ndarray, method: str, deadline: Deadline, first: Bounds | None = None
) -> Bounds:
    """Layer bounds over the box [lo, hi] for the MILP by ``method`` (module docstring, stage 3); ``first``:
    sound layer bounds already computed over the same box (stage 1's), reused or intersected."""
    if method == "interval":
        return compute_bounds(net, lo, hi, method="interval")
    if method == "linear" and not net.domain.onehot_groups:
        return first if first is not None else crown_bounds(net, lo, hi, deadline=deadline)
    out = compute_bounds(net, lo, hi, method=method, deadline=deadline)
    if method == "linear" and first is None:
        first = crown_bounds(net, lo, hi, deadline=deadline)
    return out if first is None else intersect_bounds(out, first)


def intersect_bounds(a: Bounds, b: Bounds) -> Bounds:
    """The elementwise intersection of two sound bound lists of the same network and box (sound as well)."""
    out: Bounds = []
    for (la, ua), (lb, ub) in zip(a, b):
        lo = np.maximum(la, lb)
        out.append((lo, np.maximum(np.minimum(ua, ub), lo)))
    return out
