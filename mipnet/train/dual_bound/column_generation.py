"""Column generation: the restricted master LP over units and :func:`any_width_lower_bound`.

The restricted master LP over units phi_k(x) = (w_k . x + b_k)_+,

    min  sum_n omega_n xi_n + sum_k cost_k (u+_k + u-_k)
    s.t. xi_n + y_n c + y_n sum_k (u+_k - u-_k) phi_k(x_n) >= m      (dual alpha_n)
         sum_k (u+_k + u-_k) <= J                                     (width mode only)
         xi, u >= 0,  c free or |c| <= B_c,

cost_k = lam ||w_k||_1 (+ kappa in width mode), omega_n = count_n / D, has as dual exactly the problem
"max LB(alpha)" (package docstring) restricted to the known units; its duals are the alpha of the next pricing
round (:func:`~.pricing.price`, both signs). Every round's alpha is certified after the safety projection
(:mod:`.safety`) with the pricing's certified upper bound; the best LB over the iterations is kept, and a last,
longer pricing may tighten it (at the last master's multipliers if the MILP never priced them, else at the best).

Rounds whose columns come from the pattern local search (:mod:`.local_search`, a column enters when its numpy
reduced cost lam ||w||_1 + kappa + theta - |sum_n a_n phi(x_n)| is negative) certify nothing and cost a fraction of
a second; the MILP pricing (the certificate) runs when the local search finds no entering column.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np

from ...deadline import Deadline
from ...errors import DataError, UnsupportedError
from ...highs import new_highs, set_time_limit
from .merge import _prepared, _representatives
from .pricing import Pricing, price
from .result import ALPHA_ZERO, ENTER_TOL, QUANT_BITS, DualBoundResult
from .safety import _balanced, _record, _safe


class _Master:
    """The restricted master LP (module docstring), HiGHS matrix API, columns added as units are found."""

    def __init__(
        self,
        y: np.ndarray,
        omega: np.ndarray,
        margin: float,
        c_bound: float | None,
        width: float | None,
        threads: int,
        linear: tuple[np.ndarray, float, float] | None = None,
    ) -> None:
        """``linear`` = (X, lam, B): the linear term's weights as 2 d more columns w0+-_i in [0, B] at cost lam
        (entries +-y_n x_ni in the hinge rows, none in the width row), so that the master's multipliers price it
        (:mod:`.linear_part`)."""
        import highspy

        self.hs = highspy
        self.N = N = y.size
        self.y = y
        self.width = width
        h = self.h = new_highs()
        h.setOptionValue("output_flag", False)
        from ...solve import highs_threads  # the process pins one HiGHS thread count

        h.setOptionValue("threads", highs_threads(threads))
        # columns: xi (N), c; rows: hinge (N) [+ width]
        ncol = N + 1
        nrow = N + (1 if width is not None else 0)
        starts = np.concatenate([np.arange(N + 1), [2 * N]]).astype(np.int32)
        index = np.concatenate([np.arange(N), np.arange(N)]).astype(np.int32)
        value = np.concatenate([np.ones(N), y.astype(np.float64)])
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, nrow
        lp.col_cost_ = np.concatenate([omega, [0.0]])
        cb = math.inf if c_bound is None else float(c_bound)
        lp.col_lower_ = np.concatenate([np.zeros(N), [-cb]])
        lp.col_upper_ = np.concatenate([np.full(N, np.inf), [cb]])
        lp.row_lower_ = np.concatenate([np.full(N, float(margin)), [-np.inf] if width is not None else []])
        lp.row_upper_ = np.concatenate([np.full(N, np.inf), [float(width)] if width is not None else []])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = starts, index, value
        h.passModel(lp)
        self.units: list[np.ndarray] = []
        if linear is not None:
            X, lam, B = linear
            for i in range(X.shape[1]):
                nz = np.flatnonzero(X[:, i])
                for sgn in (1.0, -1.0):
                    h.addCols(
                        1,
                        np.array([float(lam)]),
                        np.array([0.0]),
                        np.array([float(B)]),
                        nz.size,
                        np.array([0], dtype=np.int32),
                        nz.astype(np.int32),
                        sgn * y[nz] * X[nz, i],
                    )

    def add(self, X: np.ndarray, unit: np.ndarray, cost: float) -> None:
        phi = np.maximum(X @ unit[:-1] + unit[-1], 0.0)
        nz = np.flatnonzero(phi > 0)
        idx = nz.astype(np.int32)
        vals = self.y[nz] * phi[nz]
        if self.width is not None:
            idx = np.append(idx, self.N).astype(np.int32)
        for sgn in (1.0, -1.0):
            v = sgn * vals
            if self.width is not None:
                v = np.append(v, 1.0)
            self.h.addCols(
                1,
                np.array([cost]),
                np.array([0.0]),
                np.array([np.inf]),
                idx.size,
                np.array([0], dtype=np.int32),
                idx,
                v,
            )
        self.units.append(np.asarray(unit, dtype=np.float64))

    def solve(self, time_limit: float) -> tuple[float, np.ndarray, float]:
        """(value, alpha (raw duals of the hinge rows), theta (dual of the width row, >= 0))."""
        set_time_limit(self.h, max(float(time_limit), 0.05))
        self.h.run()
        st = self.h.getModelStatus()
        if st != self.hs.HighsModelStatus.kOptimal:
            raise RuntimeError(f"master LP: {self.h.modelStatusToString(st)}")
        sol = self.h.getSolution()
        duals = np.asarray(sol.row_dual)
        theta = -float(duals[self.N]) if self.width is not None else 0.0
        return float(self.h.getInfo().objective_function_value), duals[: self.N], max(theta, 0.0)


def any_width_lower_bound(
    X: np.ndarray,
    y: np.ndarray,
    *,
    l1: float,
    margin: float = 1.0,
    output_bias_bound: float | None = None,
    time_limit: float | Deadline,
    init_units: np.ndarray | None = None,
    width: int | None = None,
    weight_bound: float = 1.0,
    bias_bound: float = 1.0,
    unit_cost: float = 0.0,
    penalty_weight: float = 1.0,
    loss_denominator: float | None = None,
    merge: bool = True,
    random_units: int = 8,
    pricing_time: float | None = None,
    final_share: float = 0.5,
    max_iterations: int = 1000,
    threads: int = 1,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
    local_starts: int = 12,
    linear_bound: float | None = None,
) -> DualBoundResult:
    """A lower bound on the sign-class hinge training objective (package docstring) by column generation.

    ``X``: the inputs the MILP sees (standardised: :func:`standardise`); ``y`` in {-1, +1}. ``width=None``:
    the any-width relaxation (no boxes, no per-unit cost, free output bias; ``output_bias_bound`` must then be
    None). ``width=J``: the width-J bound with the boxes ``weight_bound``/``bias_bound``, the output bias box
    ``output_bias_bound`` (None = free) and ``unit_cost`` = kappa (pw (l1 + l2 + l0 + neuron_penalty) in the
    sign class; 0 is always valid). ``penalty_weight`` and ``loss_denominator`` as in
    :class:`~.formulation.TrainingProblem`. ``init_units``: (K, d + 1) rows (w, b) to start the master from
    (e.g. :func:`units_of_network` of the incumbent). ``time_limit`` is for the whole call; ``final_share`` of
    it is kept for a last, longer pricing (a tighter certified pricing bound): half by default, since the bound is
    the master's value less J times the pricing MILP's dual gap, which only time shrinks (full COMPAS: 0.17 after
    30 s of it, 0.35 after 110 s). ``local_starts``: the columns of each round come first from the pattern local
    search (:mod:`.local_search`) from that many of the master's best units per sign (plus a third as many random
    ones); the MILP pricing (the certified bound) runs only when it finds no column (0: the MILP every round).
    ``linear_bound`` = B (width J only): the master also holds the linear term's weights in [-B, B] at the price
    lam, so that its multipliers suit the class with the linear term; the bound returned is still that of the class
    without it (:func:`.linear_part.with_linear_term` subtracts the linear part's share)."""
    dl = Deadline.of(time_limit)
    t_start = time.perf_counter()
    say = log or (lambda s: None)
    X, y, Xu, yu, counts, inverse = _prepared(X, y, merge)
    if l1 < 0 or margin <= 0 or penalty_weight < 0 or unit_cost < 0:
        raise DataError("l1, unit_cost and penalty_weight must be >= 0 and the margin > 0")
    any_width = width is None
    if any_width and output_bias_bound is not None:
        raise UnsupportedError(
            "the any-width relaxation has no bias boxes: hidden units with w = 0 are output "
            "biases of any size, so the output bias is free there; pass width= to use its box"
        )
    N0, d = X.shape
    D = float(loss_denominator or N0)
    lam = float(penalty_weight) * float(l1)
    kappa = 0.0 if any_width else float(unit_cost)
    mode = "any width" if any_width else f"width {width}"
    N = Xu.shape[0]
    omega = counts / D
    R = float(np.abs(Xu).max()) if Xu.size else 0.0
    ball = any_width
    b_box = R if ball else float(bias_bound)
    w_box = 1.0 if ball else float(weight_bound)
    c_bound = None if any_width else output_bias_bound
    rng = np.random.default_rng(seed)

    def unit_cost_of(u: np.ndarray) -> float:
        return lam * float(np.abs(u[:-1]).sum()) + kappa

    def normalise(u: np.ndarray) -> np.ndarray | None:
        w, b = u[:-1].astype(np.float64), float(u[-1])
        if ball:
            n1 = float(np.abs(w).sum())
            if n1 <= 1e-12:
                return None  # a constant unit: nothing in the any-width relaxation
            return np.append(w / n1, np.clip(b / n1, -R, R))
        return np.append(np.clip(w, -w_box, w_box), np.clip(b, -b_box, b_box))

    if linear_bound is not None and any_width:
        raise UnsupportedError("the linear term needs the width-J bound (its weight box)")
    linear = None if linear_bound is None else (Xu, lam, float(linear_bound))
    master = _Master(yu, omega, margin, c_bound, None if width is None else float(width), threads, linear)
    rep = _representatives(inverse, N)
    records: list[dict[str, Any] | None] = [None]
    best_record: dict[str, Any] | None = None
    start_units: list[np.ndarray] = []
    if init_units is not None:
        start_units.extend(np.atleast_2d(np.asarray(init_units, dtype=np.float64)))
    for _ in range(random_units):  # random directions through a random sample
        w = rng.normal(size=d)
        if ball:
            w = w / max(np.abs(w).sum(), 1e-12)
        else:
            w = w_box * np.sign(w) * (rng.random(d) < min(1.0, 3.0 / max(d, 1)))
        r = rng.integers(N)
        start_units.append(np.append(w, -float(Xu[r] @ w)))
    seen: set[bytes] = set()

    def add(u: np.ndarray) -> bool:
        v = normalise(u)
        if v is None:
            return False
        key = np.round(v, 10).tobytes()
        if key in seen:
            return False
        seen.add(key)
        master.add(Xu, v, unit_cost_of(v))
        return True

    for u in start_units:
        add(u)

    best = 0.0
    best_alpha = np.zeros(N)
    best_g = math.inf
    best_t = 0.0
    trace: list[tuple[float, float]] = []
    it = 0
    status = "iteration_limit"
    master_value: float | None = None
    pricing_optimal = False
    inconsistent = False
    if pricing_time is None:
        pricing_time = max(2.0, 0.05 * (dl.remaining() if not dl.unlimited else 600.0))

    def evaluate(
        alpha_raw: np.ndarray, tl: float, starts: dict[int, tuple[np.ndarray, float]] | None
    ) -> tuple[float, float, float, np.ndarray, list[Pricing], bool]:
        """Certified bound at alpha (after the safety projection); returns (bound, g_upper, t, alpha, pricings,
        both optimal)."""
        nonlocal inconsistent
        alpha = np.clip(alpha_raw, 0.0, omega)
        alpha[alpha < ALPHA_ZERO] = 0.0
        if c_bound is None:
            k, alpha = _balanced(alpha, yu, counts, D)
            mass = float(k.sum()) / (D * 2.0**QUANT_BITS)
            imbalance = 0.0
        else:
            mass = math.fsum(alpha)
            imbalance = abs(math.fsum(alpha * yu))
        a = alpha * yu
        prs = []
        for sgn in (1, -1):
            st = None if starts is None else starts.get(sgn)
            prs.append(
                price(
                    Xu,
                    a,
                    sgn,
                    lam=0.0 if ball else lam,
                    kappa=kappa,
                    ball=ball,
                    w_bound=w_box,
                    b_bound=b_box,
                    time_limit=tl / 2,
                    threads=threads,
                    seed=seed + it,
                    start=st,
                )
            )
        if not all(p.consistent for p in prs):
            inconsistent = True
        g = max(p.upper for p in prs)
        both = all(p.optimal for p in prs)
        if ball:
            base = margin * mass
            t = 1.0 if g <= lam else (lam / g if g > 0 else 1.0)
            bound = t * base
        else:
            base = margin * mass - (0.0 if c_bound is None else float(c_bound)) * imbalance
            assert width is not None  # not ball: a fixed width
            J = float(width)
            cands = [0.0, 1.0]
            if g + kappa > 0:
                cands.append(min(1.0, max(0.0, kappa / (g + kappa))))
            vals = [t * base - J * max(0.0, t * g - (1.0 - t) * kappa) for t in cands]
            i = int(np.argmax(vals))
            bound, t = vals[i], cands[i]
        bound = max(_safe(bound), 0.0)
        if not ball:
            records[0] = _record(
                rep,
                None,
                None,
                np.arange(N),
                alpha,
                t,
                bound,
                {
                    "upper": float(g),
                    "optimal": bool(both),
                    "rows": int(N),
                    "prices": "lam",
                    "solver": "highs (single-neuron MILP, mip_dual_bound)",
                },
            )
        return bound, g, t, alpha, prs, both

    final_reserve = final_share * dl.remaining() if not dl.unlimited else 0.0
    last_priced = True  # the last master's alpha went through the MILP pricing (certified)
    alpha_raw = np.zeros(N)
    n_local = 0
    while it < max_iterations:
        if dl.remaining() - final_reserve < 0.5:
            status = "time_limit"
            break
        master_value, alpha_raw, theta = master.solve(dl.remaining())
        it += 1
        tl = min(pricing_time, max(0.2, (dl.remaining() - final_reserve)))
        if local_starts > 0:  # columns from the cheap heuristic first; the MILP only when it finds none
            a_m = np.clip(alpha_raw, 0, None) * yu
            added = _local_columns(
                Xu, a_m, master.units, theta, local_starts, rng, add, unit_cost_of, lam, kappa, ball, w_box, b_box, tl
            )
            if added:
                n_local += 1
                last_priced = False
                say(
                    f"iteration {it}: master {master_value:.6g}, {added} columns from the local search, "
                    f"{len(master.units)} units, {time.perf_counter() - t_start:.1f} s"
                )
                continue
        last_priced = True
        # start each pricing from the master's best column of that sign
        starts = {}
        for sgn in (1, -1):
            best_u, best_v = None, -math.inf
            for u in master.units:
                v = sgn * float((alpha_raw * yu) @ np.maximum(Xu @ u[:-1] + u[-1], 0.0))
                if v > best_v:
                    best_u, best_v = u, v
            if best_u is not None:
                starts[sgn] = (best_u[:-1], float(best_u[-1]))
        bound, g, t, alpha, prs, both = evaluate(alpha_raw, tl, starts)
        if bound > best:
            best, best_alpha, best_g, best_t = bound, alpha, g, t
            pricing_optimal = both
            best_record = records[0]
        trace.append((time.perf_counter() - t_start, best))
        say(
            f"iteration {it}: master {master_value:.6g}, pricing upper {g:.4g} (lam {lam:.4g}), "
            f"bound {bound:.6g}, best {best:.6g}, {len(master.units)} units, {time.perf_counter() - t_start:.1f} s"
        )
        # columns with a negative reduced cost at the master's duals
        a_m = np.clip(alpha_raw, 0, None) * yu
        added = 0
        for p in prs:
            cols = ([(np.append(p.w, p.b), p.value)] if p.w is not None else []) + p.extra
            for u, _ in cols:
                unit = normalise(u)
                if unit is None:
                    continue
                s_val = abs(float(a_m @ np.maximum(Xu @ unit[:-1] + unit[-1], 0.0)))
                red = unit_cost_of(unit) + theta - s_val
                if red < -ENTER_TOL * max(lam + kappa, 1e-12) and add(unit):
                    added += 1
        if added == 0:
            status = "converged" if both else "stalled"
            break
    # final: a longer pricing at the best multipliers (or at the last master's if none gave a bound yet)
    if dl.remaining() > 1.0 and final_share > 0 and status != "converged":
        # the last master's alpha if the MILP never priced it (the most converged master), else the best so far
        target = alpha_raw if (not last_priced or best <= 0) and it else best_alpha
        bound, g, t, alpha, prs, both = evaluate(target, max(0.5, dl.remaining() - 0.5), None)
        if bound > best:
            best, best_alpha, best_g, best_t = bound, alpha, g, t
            pricing_optimal = both
            best_record = records[0]
        trace.append((time.perf_counter() - t_start, best))
        say(f"final pricing: upper {g:.4g}, bound {bound:.6g}, best {best:.6g}")
    if inconsistent:
        status = "inconsistent"
    alpha_rows = best_alpha[inverse] / counts[inverse]
    units = np.array(master.units) if master.units else np.zeros((0, d + 1))
    return DualBoundResult(
        bound=float(best),
        alpha=alpha_rows,
        g_upper=float(best_g),
        scale=float(best_t),
        iterations=it,
        trace=trace,
        units=units,
        status=status,
        mode=mode,
        n_rows=N0,
        n_merged=N,
        master_value=master_value,
        seconds=time.perf_counter() - t_start,
        pricing_optimal=pricing_optimal,
        info={"lam": lam, "kappa": kappa, "R": R, "D": D, "local_rounds": n_local},
        record=None if ball else (best_record or _record(rep, None, None, None, None, 1.0, 0.0, None)),
    )


def _local_columns(
    Xu: np.ndarray,
    a_m: np.ndarray,
    units: list[np.ndarray],
    theta: float,
    n_starts: int,
    rng: np.random.Generator,
    add: Callable[[np.ndarray], bool],
    unit_cost_of: Callable[[np.ndarray], float],
    lam: float,
    kappa: float,
    ball: bool,
    w_box: float,
    b_box: float,
    time_limit: float,
) -> int:
    """Columns with a negative reduced cost (value above the width dual theta) from the pattern local search at the
    master's duals ``a_m``, started from the ``n_starts`` best master units of each sign and random units; returns
    how many entered the master."""
    from .local_search import local_search

    d = Xu.shape[1]
    added = 0
    U = np.array(units) if units else np.zeros((0, d + 1))
    S = a_m @ np.maximum(Xu @ U[:, :-1].T + U[:, -1], 0.0) if U.size else np.zeros(0)
    for sgn in (1, -1):
        order = np.argsort(-sgn * S)[:n_starts]
        starts = [U[k] for k in order]
        for _ in range(max(1, n_starts // 3)):
            w = rng.normal(size=d) * (rng.random(d) < min(1.0, 3.0 / max(d, 1)))
            w = w / max(float(np.abs(w).sum()), 1e-12) if ball else w_box * np.clip(w, -1.0, 1.0)
            r = int(rng.integers(Xu.shape[0]))
            starts.append(np.append(w, -float(Xu[r] @ w)))
        found = local_search(
            Xu,
            a_m,
            sgn,
            starts,
            lam=lam,
            kappa=kappa,
            ball=ball,
            w_bound=w_box,
            b_bound=b_box,
            time_limit=time_limit / 2,
        )
        for u, _ in found[:n_starts]:
            s_val = abs(float(a_m @ np.maximum(Xu @ u[:-1] + u[-1], 0.0)))
            if unit_cost_of(u) + theta - s_val < -ENTER_TOL * max(lam + kappa, 1e-12) and add(u):
                added += 1
    return added
