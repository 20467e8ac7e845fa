"""Soundness of robustness verdicts at the edges of float64: random tiny one-hidden-layer ReLU classifiers (1-2
continuous inputs, some integer features of half-width 2 or 10, some one-hot pairs; 2-8 hidden units, 1-3 outputs;
weights 1e-9 .. 1e6, biases up to 1e9 and often cancelling W @ centre) on domains centred at 1e4 .. 1e6 or -1e5
with half-widths 1e-3 .. 1e3, a sample at the domain's centre, and `verify_sample` asked about an L-inf ball (a
quarter of the cases: L1) whose radius is planted just beyond the exact minimal perturbation that changes the class
("plant": the next float up, or 1e-12 .. 1e-6 relative beyond) and about the largest float radius below it
("below", where no real point of the ball has a negative margin), each with early_stop on (CROWN, the gradient
attack, ...) and off (the MILP's exact worst margin): four queries per case, time_limit 10 s each.

The minimal perturbation is exact: with one hidden layer and <= 2 continuous inputs the worst margin over the
ball (for every integer point / one-hot level) is attained at a vertex of the arrangement of the hidden units'
hyperplanes, the domain's box and the ball, which are enumerated in rational arithmetic (fractions.Fraction); the
radius is bisected over the float bit patterns.

The model's semantics is the package's own forward pass ``net.forward``. Counted per run:

* FALSE HOLDS: "holds" while a float point of the ball (exactly in the real ball and in the domain) changes the
  class by ``net.forward`` and in exact arithmetic (points searched: the float neighbours of the exact worst
  vertices and random points of the ball);
* FALSE WITNESSES: "violated" whose counterexample lies outside the real ball (exact arithmetic), outside the
  domain (its box exactly, integers whole, one-hot groups exactly one 1) or does not change the class by
  ``net.forward``;
* FLOAT-ONLY: a checked point on which ``net.forward`` and exact arithmetic disagree about the class (a witness
  that changes the class by the forward pass only, or a "holds" beside a float point that does) - not false;
* REAL-ONLY HOLDS: "holds" while the exact worst margin over the real ball is negative but no float point of the
  ball was found that changes the class (the violating set lies between floats) - not false either, but the
  verdict's claim about the real ball is wrong.

    python benchmarks/fuzz_robustness_scales.py --seed 1 --n 60 [--checkout WORKTREE] --out results/X.json
    python benchmarks/fuzz_robustness_scales.py --seed 1 --case 17 [--checkout WORKTREE]   # one case, verbose

writes the per-case rows and a summary as JSON and prints a one-line summary. With --checkout the nets are checked
by another checkout's mipnet (a baseline), in a subprocess run from a neutral directory with PYTHONPATH set.
Every case is generated from its own generator (seed, case index): --case replays one of them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

import numpy as np

TIME_LIMIT = 10.0  # seconds per verify_sample call
DEPTHS = (0.0, 1e-12, 1e-9, 1e-6)  # how far beyond the minimal radius the planted one lies (0: the next float)


# ----------------------------------------------------------------------------------------------- exact arithmetic


def fr(v: Any) -> Fraction:
    """The exact rational value of a float (or a Fraction unchanged)."""
    return v if isinstance(v, Fraction) else Fraction(float(v))


def cls_of(z: list[Fraction] | np.ndarray) -> int:
    """mipnet's class rule (``Network.predict_index``): one logit -> 1 iff z > 0, else the first argmax."""
    if len(z) == 1:
        return int(z[0] > 0)
    best = 0
    for k in range(1, len(z)):
        if z[k] > z[best]:
            best = k
    return best


def margin_of(z: list[Fraction], c: int) -> Fraction:
    """z_c - max_{k != c} z_k (one logit: z for class 1, -z for class 0); < 0 means another class wins."""
    if len(z) == 1:
        return z[0] if c == 1 else -z[0]
    return z[c] - max(z[k] for k in range(len(z)) if k != c)


@dataclass
class Case:
    """One random classifier, its domain, the sample and the norm of the ball."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    onehot: list[list[int]]
    x0: np.ndarray
    norm: str
    kind: str
    depth: float
    exact: list[tuple[list[list[Fraction]], list[Fraction]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        pairs = ((self.W1, self.b1), (self.W2, self.b2))
        self.exact = [([[fr(w) for w in row] for row in W], [fr(v) for v in b]) for W, b in pairs]

    @property
    def n(self) -> int:
        return int(self.W1.shape[1])

    @property
    def continuous(self) -> list[int]:
        grouped = {i for g in self.onehot for i in g}
        return [i for i in range(self.n) if not self.integer[i] and i not in grouped]

    def logits(self, x: list[Fraction]) -> list[Fraction]:
        """The exact logits at a rational point."""
        (W1, b1), (W2, b2) = self.exact
        hid = [max(Fraction(0), sum((w * v for w, v in zip(row, x)), bb)) for row, bb in zip(W1, b1)]
        return [sum((w * v for w, v in zip(row, hid)), bb) for row, bb in zip(W2, b2)]

    def network(self) -> Any:
        """The mipnet classifier (imported here: the worker's mipnet may be another checkout's)."""
        import mipnet

        dom = mipnet.Domain([f"x{i}" for i in range(self.n)], self.lower, self.upper, self.integer, self.onehot)
        layers = [mipnet.Dense(self.W1, self.b1), mipnet.ReLU(), mipnet.Dense(self.W2, self.b2)]
        nout = self.W2.shape[0]
        names = [0, 1] if nout == 1 else list(range(nout))
        return mipnet.Network(layers, domain=dom, task="classify", class_names=names)

    def to_dict(self) -> dict[str, Any]:
        return {
            "W1": self.W1.tolist(),
            "b1": self.b1.tolist(),
            "W2": self.W2.tolist(),
            "b2": self.b2.tolist(),
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "integer": self.integer.tolist(),
            "onehot": self.onehot,
            "x0": self.x0.tolist(),
        }


def _discrete_points(case: Case, eps: Fraction) -> Iterator[tuple[list[Fraction], Fraction]]:
    """The integer / one-hot parts of the points of the ball (others 0) and their share of the distance (the
    largest coordinate step under L-inf, the sum of steps under L1); only those whose share fits in eps."""
    x0 = [fr(v) for v in case.x0]
    lo, hi = [fr(v) for v in case.lower], [fr(v) for v in case.upper]
    grouped = {i for g in case.onehot for i in g}
    ints = [i for i in range(case.n) if case.integer[i] and i not in grouped]
    choices = []
    for i in ints:
        a, b = math.ceil(max(lo[i], x0[i] - eps)), math.floor(min(hi[i], x0[i] + eps))
        choices.append([Fraction(v) for v in range(a, b + 1)])
    for g in case.onehot:
        levels = []
        for k in range(len(g)):
            vec = [Fraction(int(j == k)) for j in range(len(g))]
            if all(lo[g[j]] <= vec[j] <= hi[g[j]] for j in range(len(g))):
                levels.append(vec)
        choices.append(levels)
    for combo in itertools.product(*choices):
        x = [Fraction(0)] * case.n
        for i, v in zip(ints, combo[: len(ints)]):
            x[i] = v
        for g, vec in zip(case.onehot, combo[len(ints) :]):
            for j, v in zip(g, vec):
                x[j] = v
        steps = [abs(x[i] - x0[i]) for i in ints] + [abs(x[j] - x0[j]) for g in case.onehot for j in g]
        share = (max(steps, default=Fraction(0))) if case.norm == "inf" else sum(steps, Fraction(0))
        if share <= eps:
            yield x, share


def ball_vertices(case: Case, eps: Fraction) -> Iterator[list[Fraction]]:
    """Points of the ball (intersected with the domain) among which the worst margin is attained.

    For every discrete part, the continuous coordinates (<= 2) range over a polygon (an interval, a point): the
    domain's box cut to [x0 - r, x0 + r] and, under L1, the diamond |y - y0|_1 <= r (r: the radius the discrete
    part leaves). The hidden units' hyperplanes cut it into cells on which the margin is a minimum of affine
    functions, so its minimum lies at a vertex: an intersection of two of these lines inside the polygon."""
    x0 = [fr(v) for v in case.x0]
    lo, hi = [fr(v) for v in case.lower], [fr(v) for v in case.upper]
    cont = case.continuous
    W1, b1 = case.exact[0]
    for fixed, share in _discrete_points(case, eps):
        r = eps if case.norm == "inf" else eps - share
        L = [max(lo[i], x0[i] - r) for i in cont]
        U = [min(hi[i], x0[i] + r) for i in cont]
        if any(a > b for a, b in zip(L, U)):
            continue
        # hidden hyperplanes in the continuous coordinates: a . y + beta = 0
        hyps = []
        for row, bb in zip(W1, b1):
            beta = bb + sum((row[i] * fixed[i] for i in range(case.n) if i not in cont), Fraction(0))
            hyps.append(([row[i] for i in cont], beta))
        pts: list[list[Fraction]] = []
        if not cont:
            pts.append([])
        elif len(cont) == 1:
            pts += [[L[0]], [U[0]]]
            pts += [[-beta / a[0]] for a, beta in hyps if a[0] != 0]
        else:
            lines = [([Fraction(1), Fraction(0)], -L[0]), ([Fraction(1), Fraction(0)], -U[0])]
            lines += [([Fraction(0), Fraction(1)], -L[1]), ([Fraction(0), Fraction(1)], -U[1])]
            if case.norm == "1":  # the diamond's facets s0 (y0 - c0) + s1 (y1 - c1) = r
                c0, c1 = x0[cont[0]], x0[cont[1]]
                for s0, s1 in itertools.product((1, -1), repeat=2):
                    lines.append(([Fraction(s0), Fraction(s1)], -(s0 * c0 + s1 * c1) - r))
            lines += [(a, beta) for a, beta in hyps if a[0] != 0 or a[1] != 0]
            for (a, beta), (g, gam) in itertools.combinations(lines, 2):
                det = a[0] * g[1] - a[1] * g[0]
                if det != 0:
                    pts.append([(-beta * g[1] + gam * a[1]) / det, (-a[0] * gam + g[0] * beta) / det])
        for pt in pts:
            if not all(a <= v <= b for a, v, b in zip(L, pt, U)):
                continue
            if case.norm == "1" and sum((abs(v - x0[i]) for i, v in zip(cont, pt)), Fraction(0)) > r:
                continue
            x = list(fixed)
            for i, v in zip(cont, pt):
                x[i] = v
            yield x


def worst(case: Case, eps: float, c: int) -> tuple[Fraction, list[tuple[Fraction, list[Fraction]]]]:
    """The exact worst margin over the ball of radius eps (within the domain) and the vertices, worst first."""
    scored = [(margin_of(case.logits(x), c), x) for x in ball_vertices(case, fr(eps))]
    scored.sort(key=lambda t: t[0])
    return scored[0][0], scored


def _bits(x: float) -> int:
    return int(np.float64(x).view(np.int64))


def _float(bits: int) -> float:
    return float(np.int64(bits).view(np.float64))


def minimal_radius(case: Case, c: int, reach: float) -> tuple[float, float] | None:
    """(below, beyond): the largest float radius whose ball has no point of negative margin and the next float,
    whose ball has one (exact arithmetic); None when even the radius ``reach`` has none."""
    if worst(case, reach, c)[0] >= 0:
        return None
    lo, hi = 0, _bits(reach)
    if worst(case, 0.0, c)[0] < 0:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if worst(case, _float(mid), c)[0] < 0:
            hi = mid
        else:
            lo = mid
    return _float(lo), _float(hi)


def in_ball(case: Case, q: np.ndarray, eps: float) -> bool:
    """||q - x0|| <= eps in exact arithmetic."""
    d = [abs(fr(a) - fr(b)) for a, b in zip(q, case.x0)]
    return (max(d) if case.norm == "inf" else sum(d, Fraction(0))) <= fr(eps)


def domain_problem(case: Case, q: np.ndarray) -> str:
    """Why q is not in the domain (exactly: the box, integers whole, one-hot groups exactly one 1); '' if it is."""
    if not np.all(np.isfinite(q)):
        return "not finite"
    out = np.flatnonzero((q < case.lower) | (q > case.upper))
    if out.size:
        i = int(out[0])
        side, bound = ("below", case.lower[i]) if q[i] < case.lower[i] else ("above", case.upper[i])
        ulps = abs(_bits(abs(q[i])) - _bits(abs(bound))) if np.sign(q[i]) == np.sign(bound) else -1
        return f"x{i} = {q[i]!r} {side} the domain's {bound!r} ({ulps} ulps)"
    for i in np.flatnonzero(case.integer):
        if not float(q[i]).is_integer():
            return f"integer x{i} = {q[i]!r}"
    for g in case.onehot:
        if sorted(q[g].tolist()) != [0.0] * (len(g) - 1) + [1.0]:
            return f"one-hot group {g} = {q[g].tolist()}"
    return ""


# ----------------------------------------------------------------------------------------------- the cases


def make_case(rng: np.random.Generator) -> tuple[Case, int, tuple[float, float]] | None:
    """A random classifier whose sample (the domain's centre) changes class within the domain; with the sample's
    class and the exact (below, beyond) radii. None when this draw has no class change (the caller draws again)."""

    def mag(size: Any, lo: float, hi: float) -> np.ndarray:
        return rng.choice([-1.0, 1.0], size=size) * 10.0 ** rng.uniform(lo, hi, size=size)

    kind = str(rng.choice(["cont", "cont", "int", "onehot"]))
    n_cont = int(rng.integers(1, 3)) if kind == "cont" else int(rng.integers(0, 2)) if kind == "int" else 1
    cen = [float(rng.choice([1e4, 1e5, 1e6, -1e5])) for _ in range(n_cont)]
    half = [float(rng.choice([1e-3, 1.0, 1e3])) for _ in range(n_cont)]
    integer = [False] * n_cont
    onehot: list[list[int]] = []
    if kind == "int":
        cen.append(float(rng.choice([1e4, 1e5, -1e5])))
        half.append(float(rng.choice([2.0, 10.0])))
        integer.append(True)
    if kind == "onehot":
        onehot = [[n_cont, n_cont + 1]]
        cen += [1.0, 0.0] if rng.random() < 0.5 else [0.0, 1.0]
        half += [0.5, 0.5]
        integer += [False, False]
    x0, H = np.array(cen), np.array(half)
    lower, upper = x0 - H, x0 + H
    if onehot:
        lower[onehot[0]], upper[onehot[0]] = 0.0, 1.0
    n, h, nout = len(cen), int(rng.integers(2, 9)), int(rng.choice([1, 2, 3]))
    W1 = mag((h, n), -9, 6)
    if rng.random() < 0.7:  # the hidden units' kinks near the sample: biases cancelling W @ centre
        b1 = -(W1 @ x0) + rng.normal(size=h) * (np.abs(W1) @ (upper - lower)) * 0.5
    else:
        b1 = mag(h, -3, 9)
    W2 = mag((nout, h), -3, 3)
    # output biases from the spread of the logits over the domain, so that the class changes within it
    S = rng.uniform(lower, upper, size=(2000, n))
    S[:, np.array(integer)] = np.round(S[:, np.array(integer)])
    if onehot:
        S[:, onehot[0][0]] = rng.integers(0, 2, size=2000)
        S[:, onehot[0][1]] = 1 - S[:, onehot[0][0]]
    Z = np.maximum(S @ W1.T + b1, 0.0) @ W2.T
    q = rng.uniform(0.1, 0.9)
    if nout == 1:
        b2 = np.array([-np.quantile(Z[:, 0], q)])
    else:
        b2 = np.zeros(nout)
        for k in range(1, nout):
            b2[k] = np.quantile(Z[:, 0] - Z[:, k], q) * rng.uniform(0.8, 1.2)
    norm = "1" if rng.random() < 0.25 else "inf"
    case = Case(W1, b1, W2, b2, lower, upper, np.array(integer), onehot, x0, norm, kind, 0.0)
    case.depth = float(rng.choice(DEPTHS))
    z0 = case.logits([fr(v) for v in x0])
    c = cls_of(z0)
    if margin_of(z0, c) <= 0 or cls_of(np.maximum(W1 @ x0 + b1, 0.0) @ W2.T + b2) != c:
        return None  # the sample on a tie, or the forward pass disagrees with exact arithmetic on its class
    step = np.maximum(upper - x0, x0 - lower)
    reach = float(np.max(step)) if norm == "inf" else float(np.sum(step))
    radii = minimal_radius(case, c, reach)
    return None if radii is None else (case, c, radii)


def find_float_violations(case: Case, net: Any, eps: float, c: int, rng: np.random.Generator) -> dict[str, Any]:
    """Float points of the ball (exactly in the real ball and in the domain) that change the class: the float
    neighbours (+-3 ulps) of the exact worst vertices, and random points of the ball. Returns the first point that
    changes it by both ``net.forward`` and exact arithmetic (``both``), by the forward pass only (``forward_only``)
    and by exact arithmetic only (``exact_only``)."""
    found: dict[str, Any] = {"both": None, "forward_only": None, "exact_only": None}
    _, scored = worst(case, eps, c)
    cont = case.continuous
    cands = []
    for m, x in scored[:6]:
        if m > 0:
            break
        base = np.array([float(v) for v in x])
        for steps in itertools.product(range(-3, 4), repeat=len(cont)):
            p = base.copy()
            for i, s in zip(cont, steps):
                for _ in range(abs(s)):
                    p[i] = np.nextafter(p[i], np.inf if s > 0 else -np.inf)
            cands.append(p)
    # random points: the worst vertex's integer / one-hot part, continuous coordinates in the whole ball and in
    # boxes around the vertex (relative sizes 1e-3, 1e-6, 1e-9 of the radius)
    _, x = scored[0]
    base = np.array([float(v) for v in x])
    share = sum(abs(fr(base[i]) - fr(case.x0[i])) for i in range(case.n) if i not in cont)
    r = eps if case.norm == "inf" else max(0.0, float(fr(eps) - share))
    blocks = []
    for size in (r, 1e-3 * r, 1e-6 * r, 1e-9 * r):
        R = np.tile(base, (1000, 1))
        if cont:
            centre = case.x0[cont] if size == r else base[cont]
            lo = np.maximum(np.maximum(case.lower[cont], case.x0[cont] - r), centre - size)
            hi = np.minimum(np.minimum(case.upper[cont], case.x0[cont] + r), centre + size)
            R[:, cont] = rng.uniform(lo, np.maximum(lo, hi), size=(1000, len(cont)))
            if case.norm == "1":  # shrink towards the sample into the diamond of radius r
                d = R[:, cont] - case.x0[cont]
                s = np.abs(d).sum(axis=1, keepdims=True)
                R[:, cont] = case.x0[cont] + d * np.minimum(1.0, r / np.maximum(s, 1e-300))
        blocks.append(R)
    R = np.vstack(blocks)
    fwd = net.predict_index(net.forward(R))
    cands += [R[i] for i in np.flatnonzero(fwd != c)[:50]]
    for p in cands:
        if domain_problem(case, p) or not in_ball(case, p, eps):
            continue
        f_changed = int(net.predict_index(net.forward(p[None]))[0]) != c
        e_changed = cls_of(case.logits([fr(v) for v in p])) != c
        key = "both" if f_changed and e_changed else "forward_only" if f_changed else "exact_only" if e_changed else ""
        if key and found[key] is None:
            found[key] = p.tolist()
        if found["both"] is not None:
            break
    return found


def run_query(
    case: Case, net: Any, c: int, eps: float, which: str, early_stop: bool, rng: np.random.Generator, wm: Fraction
) -> dict[str, Any]:
    """One verify_sample call (``early_stop``: the staged provers and the attack first, else the exact MILP's
    worst margin) and its checks. ``wm``: the exact worst margin over the real ball (a "holds" beside a negative
    one, with no float point of the ball changing the class, is counted as ``real_only_hold``: not false)."""
    from mipnet.verify.robustness import verify_sample

    row: dict[str, Any] = {"which": which, "eps": eps, "norm": case.norm, "early_stop": early_stop}
    t0 = time.perf_counter()
    try:
        r = verify_sample(net, case.x0, eps, case.norm, time_limit=TIME_LIMIT, early_stop=early_stop)
    except Exception as exc:  # an error is a result of its own (neither a verdict nor a crash of the run)
        row.update(verdict="error", seconds=time.perf_counter() - t0, reason=f"{type(exc).__name__}: {exc}"[:300])
        row.update(false_hold=False, false_witness=False, float_only=False)
        return row
    row.update(verdict=r.verdict, seconds=time.perf_counter() - t0, prover=r.prover, reason=str(r.reason)[:300])
    row.update(margin=r.margin, bound=r.bound, false_hold=False, false_witness=False, float_only=False)
    if r.verdict == "violated":
        if r.counterexample is None:
            row.update(false_witness=True, witness_problem="no counterexample")
        else:
            q = np.asarray(r.counterexample, dtype=np.float64).ravel()
            problems = []
            if not in_ball(case, q, eps):
                d = np.abs(q - case.x0)
                problems.append(f"outside the ball (distance {float(d.max() if case.norm == 'inf' else d.sum())!r})")
            if domain_problem(case, q):
                problems.append(domain_problem(case, q))
            f_changed = bool(np.all(np.isfinite(q))) and int(net.predict_index(net.forward(q[None]))[0]) != c
            e_changed = bool(np.all(np.isfinite(q))) and cls_of(case.logits([fr(v) for v in q])) != c
            if not f_changed:
                problems.append("the forward pass keeps the class")
            row.update(witness=q.tolist(), witness_forward=f_changed, witness_exact=e_changed)
            row["witness_problem"] = "; ".join(problems)
            row["false_witness"] = bool(problems)
            row["float_only"] = f_changed != e_changed
    found = find_float_violations(case, net, eps, c, rng) if r.verdict == "holds" or which == "plant" else None
    if found is not None:
        row["float_points"] = {k: v is not None for k, v in found.items()}
        if r.verdict == "holds":
            row["false_hold"] = found["both"] is not None
            row["float_only"] = found["both"] is None and found["forward_only"] is not None
            row["counter_point"] = found["both"] or found["forward_only"]
            row["real_only_hold"] = wm < 0 and not row["false_hold"] and not row["float_only"]
    return row


def draw_case(seed: int, t: int) -> tuple[tuple[Case, int, tuple[float, float]] | None, int]:
    """Case t of a seed, drawn from its own generator again until its class changes within the domain (at most 50
    draws): (case, its class, (below, beyond) the exact minimal radius) or None, and the number of draws."""
    rng = np.random.default_rng([seed, t])
    drawn, draws = None, 0
    while drawn is None and draws < 50:
        drawn, draws = make_case(rng), draws + 1
    return drawn, draws


def run_case(seed: int, t: int) -> dict[str, Any]:
    """Case t of a seed: draw a case (again until its class changes within the domain), then ask about the
    planted radius and the radius below it."""
    t0 = time.perf_counter()
    drawn, draws = draw_case(seed, t)
    if drawn is None:
        return {"case": t, "skipped": "no case with a class change in 50 draws"}
    case, c, (below, beyond) = drawn
    plant = beyond if case.depth == 0 else max(beyond, float(beyond * (1.0 + case.depth)))
    net = case.network()
    row: dict[str, Any] = {"case": t, "seed": seed, "draws": draws, "kind": case.kind, "norm": case.norm}
    row.update(n=case.n, hidden=int(case.W1.shape[0]), outputs=int(case.W2.shape[0]), cls=c, depth=case.depth)
    row.update(eps_below=below, eps_beyond=beyond, eps_plant=plant)
    wm_plant, wm_below = worst(case, plant, c)[0], worst(case, below, c)[0]
    row["worst_margin_plant"], row["worst_margin_below"] = float(wm_plant), float(wm_below)  # exact, then rounded
    row["exact_seconds"] = time.perf_counter() - t0
    radii = (("plant", plant, wm_plant), ("below", below, wm_below))
    asks = [(which, eps, wm, early) for which, eps, wm in radii for early in (True, False)]
    # (each query's float search from its own generator: the same points whatever the verdicts before it)
    row["queries"] = [
        run_query(case, net, c, eps, which, early, np.random.default_rng([seed, t, k]), wm)
        for k, (which, eps, wm, early) in enumerate(asks, start=1)
    ]
    row["seconds"] = sum(q["seconds"] for q in row["queries"])
    row["false"] = any(q["false_hold"] or q["false_witness"] for q in row["queries"])
    row["model"] = case.to_dict()
    return row


def worker(seed: int, cases: list[int], run: Any = None) -> None:
    """Run the cases (``run(seed, t)``, default :func:`run_case`) in this process (whose mipnet may be a baseline
    checkout's), one JSON row per line after a first line naming the mipnet run."""
    import mipnet

    print(json.dumps({"mipnet": str(Path(mipnet.__file__).resolve().parent)}), flush=True)
    for t in cases:
        print(json.dumps((run or run_case)(seed, t)), flush=True)


def worker_rows(script: str, args: list[str], checkout: str | None) -> Iterator[dict[str, Any]]:
    """Run ``script --worker ARGS`` in a subprocess (from a neutral directory: the current one would come first on
    the path; with ``checkout``, that checkout's mipnet) and yield its head line, then its rows as they come."""
    env = dict(os.environ, PYTHONPATH=str(Path(checkout).resolve())) if checkout else None
    cmd = [sys.executable, str(Path(script).resolve()), "--worker", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=tempfile.gettempdir())
    assert proc.stdout is not None
    for line in proc.stdout:
        yield json.loads(line)
    if proc.wait() != 0:
        sys.exit(f"the worker failed (exit {proc.returncode})")


# ----------------------------------------------------------------------------------------------- the driver


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Verdict counts per query kind, false holds / witnesses, float-only checks, times."""
    done = [r for r in rows if "queries" in r]
    qs = [q for r in done for q in r["queries"]]
    out: dict[str, Any] = {"cases": len(done), "skipped": len(rows) - len(done)}
    for which in ("plant", "below"):
        sel = [q for q in qs if q["which"] == which]
        out[which] = {v: sum(q["verdict"] == v for q in sel) for v in ("holds", "violated", "unknown", "error")}
    out["verdicts"] = {v: out["plant"][v] + out["below"][v] for v in ("holds", "violated", "unknown", "error")}
    out["plant_with_float_witness"] = sum(
        bool(q.get("float_points", {}).get("both")) for q in qs if q["which"] == "plant"
    )
    out["false_holds"] = sum(q["false_hold"] for q in qs)
    out["false_witnesses"] = sum(q["false_witness"] for q in qs)
    out["float_only"] = sum(q["float_only"] for q in qs)
    out["real_only_holds"] = sum(q.get("real_only_hold", False) for q in qs)
    out["false_cases"] = [r["case"] for r in done if r["false"]]
    secs = [r["seconds"] for r in done]
    out["median_seconds_per_case"] = statistics.median(secs) if secs else None
    out["max_seconds_per_case"] = max(secs) if secs else None
    out["verify_seconds"] = sum(secs)
    return out


def one_line(s: dict[str, Any], who: str, seed: int) -> str:
    v = s["verdicts"]
    return (
        f"{who} seed {seed}: {s['cases']} cases ({s['skipped']} skipped), verdicts holds/violated/unknown/error "
        f"{v['holds']}/{v['violated']}/{v['unknown']}/{v['error']} (plant {s['plant']['holds']}/"
        f"{s['plant']['violated']}/{s['plant']['unknown']}, below {s['below']['holds']}/{s['below']['violated']}/"
        f"{s['below']['unknown']}), FALSE HOLDS {s['false_holds']}, FALSE WITNESSES {s['false_witnesses']}, "
        f"float-only {s['float_only']}, real-only holds {s['real_only_holds']}, "
        f"median {s['median_seconds_per_case']:.2f} s/case"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--case", type=int, default=None, help="replay one case of the seed (prints its row)")
    ap.add_argument("--checkout", default=None, help="another checkout's mipnet (e.g. a worktree of a baseline)")
    ap.add_argument("--out", default=None, help="the JSON file (default: results/trust/robustness_scales.json)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    cases = [args.case] if args.case is not None else list(range(args.n))
    if args.worker:
        worker(args.seed, cases)
        return
    t0 = time.perf_counter()
    wargs = ["--seed", str(args.seed)] + (["--case", str(args.case)] if args.case is not None else ["--n", str(args.n)])
    stream = worker_rows(__file__, wargs, args.checkout)
    head = next(stream)
    rows = []
    for row in stream:
        rows.append(row)
        if args.case is not None:
            print(json.dumps(row, indent=1))
        elif row.get("false") or any(q["verdict"] == "error" for q in row.get("queries", [])):
            brief = [
                (q["which"], q["early_stop"], q["verdict"], q.get("witness_problem", ""), q["false_hold"])
                for q in row["queries"]
            ]
            print(f"case {row['case']}: {row['kind']} L{row['norm']} {brief}", flush=True)
    summary = summarize(rows)
    who = args.checkout or "this checkout"
    line = one_line(summary, who, args.seed)
    if args.case is None:
        out = Path(args.out or "results/trust/robustness_scales.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        meta = {"seed": args.seed, "n": args.n, "checkout": who, "mipnet": head["mipnet"], "time_limit": TIME_LIMIT}
        meta["wall_seconds"] = time.perf_counter() - t0
        out.write_text(json.dumps({"meta": meta, "summary": summary, "rows": rows}, indent=1) + "\n")
    print(line)


if __name__ == "__main__":
    main()
