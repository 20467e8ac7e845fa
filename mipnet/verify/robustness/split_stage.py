"""Stage 4b of :func:`~mipnet.verify.robustness.verify_sample`: the ReLU-split tree on the margins the bounds leave
open (:func:`split_stage`; the stage's rules are in :mod:`.margin_milp`'s docstring)."""

from __future__ import annotations

import time

import numpy as np

import mipnet.verify.robustness as _pkg

from ...bounds import Bounds
from ...deadline import Deadline
from ...network import Network
from ..relu_split import relu_split as split_tree
from .region import ball_box, margins
from .results import RobustnessResult


def split_stage(
    net: Network,
    x: np.ndarray,
    eps: float,
    norm: str,
    c: int,
    C: np.ndarray,
    best: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    bnds: Bounds,
    dl: Deadline,
    res: RobustnessResult,
) -> bool:
    """Stage 4b of :mod:`.margin_milp`, the ReLU-split tree (:mod:`mipnet.verify.relu_split`) on the rows that no
    bound proved, within ``dl``: fills ``res`` and returns True when it decides (every domain closed: ``holds``; a
    point re-checked by the forward pass inside the ball: ``violated``), else False (the MILP follows)."""
    ts = time.perf_counter()
    live = best <= 0
    names = net.class_names or []
    plain = not net.domain.integer.any() and not net.domain.onehot_groups
    lo_in, hi_in = ball_box(net, x, eps, norm, inward=True)  # lo, hi hold the whole ball; witnesses lie in it

    def check(P: np.ndarray) -> np.ndarray | None:
        if plain:
            Q = np.clip(P, lo_in, hi_in)
        else:
            moved = [_pkg.project_to_ball(net, x, p, eps, norm) for p in P]
            kept = [q for q in moved if q is not None]  # a point that cannot be moved into the set is dropped
            if not kept:
                return None
            Q = np.array(kept)
        k = net.predict_index(net.forward(Q))
        for i in np.flatnonzero(k != c):  # confirmed one row at a time: the batched pass rounds otherwise
            if int(net.predict_index(net.forward(Q[i][None]))[0]) != c:  # (a false "violated" at biases of 1e11)
                return Q[i]
        return None

    tree = split_tree(net, C[live], lo, hi, check, deadline=dl, bounds=bnds)
    res.seconds["relu-split"] = time.perf_counter() - ts
    if tree.status == "holds" and tree.bound is not None:
        low = best.copy()
        low[live] = tree.bound
        res.verdict, res.bound, res.status, res.prover = "holds", float(low.min()), "bounds", "relu-split"
        res.nodes = tree.domains
        res.reason = f"the ReLU-split tree closes every domain ({tree.domains} domains bounded, depth {tree.depth})"
        return True
    if tree.status == "violated" and tree.counterexample is not None:
        xa = tree.counterexample
        la = net.forward(xa[None])
        k = int(net.predict_index(la)[0])
        if k == c:  # the single-row forward pass keeps the class: no counterexample (the MILP follows)
            return False
        res.verdict, res.counterexample, res.witness, res.prover = "violated", xa, xa, "relu-split"
        res.nodes = tree.domains
        res.adversarial_class = names[k] if k < len(names) else k
        res.margin = res.margin_forward = float(margins(net, la, np.array([c]))[0])
        res.status, res.reason = "relu-split", f"counterexample found by the ReLU-split tree ({tree.reason})"
        return True
    return False
