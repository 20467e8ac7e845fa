"""The hybrid bound: a transport plan on pairs plus exact pricing on a few rows (:func:`hybrid_lower_bound`)."""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike

from ...deadline import Deadline
from ...highs import new_highs, set_time_limit
from .linear_part import linear_class_value
from .merge import _prepared, _representatives
from .pairwise import one_sided_excess, opposite_pairs, pair_signed_loads, transport_lower_bound
from .pricing import Pricing, price
from .result import ENTER_TOL, HYBRID_NEIGHBOURS, HYBRID_NEIGHBOURS_ROWS, DualBoundResult
from .safety import _balanced, _record, _safe


def _load_weights(w: np.ndarray, sgn: int) -> np.ndarray:
    """The weights (length 2d) of the one-sided loads (beta+, beta-) in a unit's transport term:
    s = +1: sum_i w+_i beta+_i + w-_i beta-_i; s = -1: sum_i w-_i beta+_i + w+_i beta-_i."""
    wp, wn = np.maximum(w, 0.0), np.maximum(-w, 0.0)
    return np.concatenate([wp, wn] if sgn > 0 else [wn, wp])


def hybrid_lower_bound(
    X: np.ndarray,
    y: np.ndarray,
    *,
    l1: float,
    width: int,
    margin: float = 1.0,
    time_limit: float | Deadline,
    weight_bound: float = 1.0,
    bias_bound: float = 1.0,
    output_bias_bound: float | None = None,
    unit_cost: float = 0.0,
    penalty_weight: float = 1.0,
    loss_denominator: float | None = None,
    init_units: np.ndarray | None = None,
    neighbours: int | None = None,
    milp_rows: int = 150,
    row_scores: np.ndarray | None = None,
    pricing_time: float | None = None,
    final_share: float = 0.25,
    max_iterations: int = 1000,
    threads: int = 1,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
    linear: tuple[float, float] | None = None,
) -> DualBoundResult:
    r"""Width-J bound with the multipliers split: alpha = alpha_T + alpha_M, the transport part on pairs (cheap,
    any N) and the MILP part on at most ``milp_rows`` rows S (the pricing MILP stays small).

    With a plan pi on opposite pairs (alpha_T its marginals), the one-sided loads beta+-_i = sum_p pi_p (+-dx_pi)_+
    and alpha_M >= 0 on S, alpha_T + alpha_M <= count / D: in (*) an active unit of sign s pays at least
    sum_i [(lam - beta^s_i) w+_i + (lam - beta^-s_i) w-_i] + kappa - s S_M(w, b) (beta^{+1} = beta+,
    beta^{-1} = beta-; the transport part by the monotone, 1-Lipschitz argument of :func:`transport_lower_bound`,
    S_M = sum_{n in S} alpha_M,n y_n (w.x_n + b)_+), so

        P* >= 2 m sum pi + m sum alpha_M - B_c |sum alpha_M y| - J max(0, V),
        V = max_{s, box} s S_M(w, b) - sum_i [(lam - beta^s_i) w+_i + (lam - beta^-s_i) w-_i] - kappa,

    V bounded by the pricing MILP on S with the one-sided feature prices (:func:`price`, ``lam_neg``), and the same
    t-scaling as the width-J bound. (pi, alpha_M) come from a cutting-plane LP (one cut per unit found:
    theta >= s S_M(unit) + (the unit's load term) - lam ||w||_1 - kappa); every iterate is certified in numpy
    (caps, exact balance of alpha_M if the output bias is free, beta recomputed) and by the pricing's dual
    bound. alpha_M = 0 is :func:`transport_lower_bound`'s width-J figure, also certified at every iterate.
    S: the rows the transport plan leaves capacity on, highest ``row_scores`` (e.g. the incumbent's hinge
    losses, per original row) first. ``neighbours``: opposite rows offered per row (None: ``HYBRID_NEIGHBOURS``
    up to ``HYBRID_NEIGHBOURS_ROWS`` distinct rows, 20 above, where the pair matrix would grow large).
    ``linear`` = (B, l0): the LP also pays the linear term's share (:mod:`.linear_part`), u_i >= B (+-g_i - lam)
    - l0, u_i >= 0 at cost 1, g = beta+ - beta- + sum_S alpha_M y x (the pairs' signed sum), so that its
    multipliers suit the class with the linear term; the bound returned is still that of the class without it
    (:func:`.linear_part.with_linear_term` subtracts the share)."""
    import highspy
    from scipy import sparse

    dl = Deadline.of(time_limit)
    t_start = time.perf_counter()
    say = log or (lambda s: None)
    X, y, Xu, yu, counts, inverse = _prepared(X, y)
    N0, d = X.shape
    D = float(loss_denominator or N0)
    lam = float(penalty_weight) * float(l1)
    kappa = float(unit_cost)
    J = float(width)
    Bw, Bb = float(weight_bound), float(bias_bound)
    N = Xu.shape[0]
    omega = counts / D
    rng = np.random.default_rng(seed)
    if neighbours is None:  # more pairs: a higher bound (COMPAS 1000: 0.610 / 0.620 / 0.621 at k = 20 / 50 / 100)
        neighbours = HYBRID_NEIGHBOURS if N <= HYBRID_NEIGHBOURS_ROWS else 20
    pairs = opposite_pairs(Xu, yu, neighbours, deadline=dl)
    P = pairs.shape[0]
    dx = pair_signed_loads(Xu, pairs)  # (P, 2d): one-sided loads (beta+, beta-)
    d2 = 2 * d
    rep = _representatives(inverse, N)
    records: list[dict[str, Any] | None] = [None, None]  # of the last certify(): (with alpha_M, transport only)
    # master LP (maximise): columns pi (P), aM (K), theta, beta+- (2d, free), [e >= |sum y aM|]
    cb = output_bias_bound

    def build(S: np.ndarray) -> tuple[Any, int]:
        K = S.size
        c_am, c_th, c_be = P, P + K, P + K + 1
        c_e = P + K + 1 + d2
        c_u = c_e + (1 if cb is not None else 0)  # the linear term's u (d), last: the cuts' indices stay
        ncol = c_u + (d if linear is not None else 0)
        cost = np.zeros(ncol)
        cost[:P] = 2.0 * margin
        cost[c_am : c_am + K] = margin
        cost[c_th] = -J
        lo = np.zeros(ncol)
        hi = np.full(ncol, np.inf)
        hi[c_am : c_am + K] = omega[S]
        lo[c_be : c_be + d2] = -np.inf
        if cb is not None:
            cost[c_e] = -float(cb)
        rows: list[ArrayLike] = []
        cols: list[ArrayLike] = []
        vals: list[ArrayLike] = []
        # caps (N rows)
        rows += [pairs[:, 0], pairs[:, 1], S]
        cols += [np.arange(P), np.arange(P), c_am + np.arange(K)]
        vals += [np.ones(P), np.ones(P), np.ones(K)]
        # beta definitions (2d rows): beta+-_i - sum_p (+-dx_pi)_+ pi_p = 0
        dxc = dx.tocoo()
        rows += [N + dxc.col, N + np.arange(d2)]
        cols += [dxc.row, c_be + np.arange(d2)]
        vals += [-dxc.data, np.ones(d2)]
        row_lo: list[ArrayLike] = [np.full(N, -np.inf), np.zeros(d2)]
        row_hi: list[ArrayLike] = [omega, np.zeros(d2)]
        nrow = N + d2
        ys = yu[S]
        if cb is None:  # sum y aM = 0
            rows.append(np.full(K, nrow))
            cols.append(c_am + np.arange(K))
            vals.append(ys)
            row_lo.append([0.0])
            row_hi.append([0.0])
            nrow += 1
        else:  # e >= +- sum y aM
            for sg in (1.0, -1.0):
                rows += [np.full(K, nrow), [nrow]]
                cols += [c_am + np.arange(K), [c_e]]
                vals += [-sg * ys, [1.0]]
                row_lo.append([0.0])
                row_hi.append([np.inf])
                nrow += 1
        if linear is not None:  # u_i - sg B (beta+_i - beta-_i + sum_S aM y x_i) >= -B lam - l0
            B_lin, l0_lin = linear
            cost[c_u : c_u + d] = -1.0
            lo[c_u : c_u + d] = 0.0
            yx = ys[:, None] * Xu[S]  # (K, d)
            kk, ii = np.nonzero(yx)
            for sg in (1.0, -1.0):
                rows += [nrow + np.arange(d), nrow + np.arange(d), nrow + np.arange(d), nrow + ii]
                cols += [c_u + np.arange(d), c_be + np.arange(d), c_be + d + np.arange(d), c_am + kk]
                vals += [np.ones(d), np.full(d, -sg * B_lin), np.full(d, sg * B_lin), -sg * B_lin * yx[kk, ii]]
                row_lo.append(np.full(d, -B_lin * lam - l0_lin))
                row_hi.append(np.full(d, np.inf))
                nrow += d
        A = sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, ncol))
        A.sum_duplicates()
        A.sort_indices()
        h = new_highs()
        h.setOptionValue("output_flag", False)
        from ...solve import highs_threads  # the process pins one HiGHS thread count

        h.setOptionValue("threads", highs_threads(threads))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, nrow
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lo, hi
        lp.row_lower_, lp.row_upper_ = np.concatenate(row_lo), np.concatenate(row_hi)
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data
        h.passModel(lp)
        return h, ncol

    def add_cut(h: Any, S: np.ndarray, u: np.ndarray, sgn: int) -> None:
        K = S.size
        w, b = u[:-1], float(u[-1])
        phi = np.maximum(Xu[S] @ w + b, 0.0)
        nz = np.flatnonzero(phi > 0)
        aw = np.abs(w)
        wl = _load_weights(w, sgn)  # s = +1: w+ on beta+, w- on beta-; s = -1 swapped
        fz = np.flatnonzero(wl > 0)
        idx = np.concatenate([P + nz, [P + K], P + K + 1 + fz]).astype(np.int32)
        val = np.concatenate([-sgn * yu[S][nz] * phi[nz], [1.0], -wl[fz]])
        h.addRow(-lam * float(aw.sum()) - kappa, np.inf, idx.size, idx, val)

    def certify(
        col: np.ndarray, S: np.ndarray, tl: float, starts: dict[int, tuple[np.ndarray, float]] | None
    ) -> tuple[float, float, float, list[Pricing], bool, float, np.ndarray, tuple[float, np.ndarray]]:
        """Certified (bound, V upper, t, pricings, optimal, transport-only bound, alpha per merged row, the
        transport-only (V, alpha per merged row))."""
        K = S.size
        pi = np.clip(col[:P], 0.0, None)
        am = np.clip(col[P : P + K], 0.0, omega[S])
        alpha = np.bincount(pairs[:, 0], pi, N).astype(float) + np.bincount(pairs[:, 1], pi, N)
        alpha[S] += am
        ratio = np.where(alpha > omega, omega / np.maximum(alpha, 1e-300), 1.0) * (1.0 - 1e-12)
        ratio = np.minimum(ratio, 1.0)
        pi = pi * np.minimum(ratio[pairs[:, 0]], ratio[pairs[:, 1]])
        am = am * ratio[S]
        if cb is None:
            _, am = _balanced(am, yu[S], counts[S], D)
        alpha = np.bincount(pairs[:, 0], pi, N).astype(float) + np.bincount(pairs[:, 1], pi, N)
        alpha[S] += am
        assert np.all(alpha <= omega)
        beta = np.asarray(dx.T @ pi).ravel()
        tmass = 2.0 * margin * math.fsum(pi)
        # transport-only certificate (alpha_M = 0)
        tv = Bw * one_sided_excess(beta, lam, d) - kappa
        t_only = tmass - J * max(0.0, tv)
        a = am * yu[S]
        imbalance = 0.0 if cb is None else abs(math.fsum(a))
        base = tmass + margin * math.fsum(am) - (0.0 if cb is None else float(cb)) * imbalance
        prs = []
        for sgn in (1, -1):
            st = None if starts is None else starts.get(sgn)
            prs.append(
                price(
                    Xu[S],
                    a,
                    sgn,
                    lam=lam - (beta[:d] if sgn > 0 else beta[d:]),
                    lam_neg=lam - (beta[d:] if sgn > 0 else beta[:d]),
                    kappa=kappa,
                    ball=False,
                    w_bound=Bw,
                    b_bound=Bb,
                    time_limit=tl / 2,
                    threads=threads,
                    seed=seed,
                    start=st,
                )
            )
        g = max(p.upper for p in prs)
        cands = [0.0, 1.0] + ([min(1.0, max(0.0, kappa / (g + kappa)))] if g + kappa > 0 else [])
        vals = [t * base - J * max(0.0, t * g - (1.0 - t) * kappa) for t in cands]
        i = int(np.argmax(vals))
        both = all(p.optimal for p in prs)
        b_m, b_t = max(_safe(vals[i]), 0.0), max(_safe(t_only), 0.0)
        records[0] = _record(
            rep,
            pairs,
            pi,
            S,
            am,
            cands[i],
            b_m,
            {
                "upper": float(g),
                "optimal": bool(both),
                "rows": int(S.size),
                "prices": "lam - beta (one-sided)",
                "solver": "highs (single-neuron MILP, mip_dual_bound)",
            },
        )
        records[1] = _record(rep, pairs, pi, None, None, 1.0, b_t, None)
        alpha_pairs = np.bincount(pairs[:, 0], pi, N).astype(float) + np.bincount(pairs[:, 1], pi, N)
        return (b_m, g, cands[i], prs, both, b_t, alpha, (tv, alpha_pairs))

    # 1. the transport plan alone: its bound and the capacity it leaves (rows of S)
    tr = transport_lower_bound(
        X,
        y,
        l1=l1,
        margin=margin,
        time_limit=dl.sub(fraction=0.2),
        width=width,
        weight_bound=Bw,
        unit_cost=kappa,
        penalty_weight=penalty_weight,
        loss_denominator=D,
        neighbours=neighbours,
        threads=threads,
        pairs=pairs,
    )
    alpha_t = np.bincount(inverse, tr.alpha, N)  # per merged row
    leftover = omega - np.minimum(alpha_t, omega)
    score = leftover + 1e-9 * omega  # rows the plan uses fully come last
    if row_scores is not None:
        rs = np.asarray(row_scores, dtype=np.float64)
        score = score * (np.bincount(inverse, rs, N) / counts + 1e-9)
    order = np.argsort(-score, kind="stable")
    S = np.sort(order[: min(milp_rows, N)])
    say(
        f"hybrid: {N} rows, {P} pairs, transport bound {tr.bound:.6g}, MILP rows {S.size}, "
        f"{time.perf_counter() - t_start:.1f} s"
    )
    h, ncol = build(S)

    def key(value: float, alpha_m: np.ndarray, V: float) -> float:
        """What the iterates are ranked by: the bound, or with ``linear`` the bound of the class with the linear
        term at the same multipliers (:func:`.linear_part.best_scale`)."""
        if linear is None or not np.isfinite(V):
            return value
        kw: dict[str, Any] = dict(margin=margin, output_bias_bound=cb, J=J, kappa=kappa, lam=lam)
        return linear_class_value(alpha_m, yu, Xu, V, **kw, l0=linear[1], weight_bound=linear[0])[1]

    best, best_t, best_g, best_alpha = tr.bound, 1.0, tr.g_upper, alpha_t.copy()
    best_key = key(best, best_alpha, best_g)
    best_record = tr.record
    trace = [(time.perf_counter() - t_start, best)]
    # initial cuts: coordinate units, the incumbent's units, random units
    start_units = []
    for i in range(d):
        for bb in (-Bb, 0.0, Bb):
            e = np.zeros(d + 1)
            e[i], e[-1] = Bw, bb
            start_units.append(e)
    if init_units is not None:
        for u in np.atleast_2d(np.asarray(init_units, dtype=np.float64)):
            start_units.append(np.append(np.clip(u[:-1], -Bw, Bw), np.clip(u[-1], -Bb, Bb)))
    for _ in range(8):
        w = Bw * np.sign(rng.normal(size=d)) * (rng.random(d) < min(1.0, 3.0 / max(d, 1)))
        start_units.append(np.append(w, -float(Xu[rng.integers(N)] @ w)))
    units: list[np.ndarray] = []
    for u in start_units:
        for sgn in (1, -1):
            add_cut(h, S, u, sgn)
        units.append(u)
    if pricing_time is None:
        pricing_time = max(2.0, 0.05 * (dl.remaining() if not dl.unlimited else 600.0))
    final_reserve = final_share * dl.remaining() if not dl.unlimited else 0.0
    it, status, master_value, pricing_optimal = 0, "iteration_limit", None, False
    col = np.zeros(ncol)
    best_col = None
    while it < max_iterations:
        if dl.remaining() - final_reserve < 0.5:
            status = "time_limit"
            break
        set_time_limit(h, max(dl.remaining(), 0.1) if not dl.unlimited else math.inf)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            status = "master " + h.modelStatusToString(h.getModelStatus())
            break
        master_value = float(h.getInfo().objective_function_value)
        col = np.asarray(h.getSolution().col_value)
        it += 1
        tl = min(pricing_time, max(0.2, dl.remaining() - final_reserve))
        bound, g, t, prs, both, t_only, alpha, (tv, alpha_t_only) = certify(col, S, tl, None)
        for cand, gg, tt, ok, rec, al in (
            (bound, g, t, both, records[0], alpha),
            (t_only, tv, 1.0, False, records[1], alpha_t_only),
        ):
            k = key(cand, al, gg)
            if k > best_key:  # the multipliers, V and t of the winning candidate (one consistent triple)
                best, best_t, best_alpha, best_col, best_g, best_key = cand, tt, al, col.copy(), gg, k
                pricing_optimal = ok
                best_record = rec
        trace.append((time.perf_counter() - t_start, best))
        say(
            f"hybrid iteration {it}: master {master_value:.6g}, V upper {g:.4g}, bound {bound:.6g}, "
            f"transport-only {t_only:.6g}, best {best:.6g}, {len(units)} units, {time.perf_counter() - t_start:.1f} s"
        )
        # cuts violated at the master's point
        am = col[P : P + S.size]
        beta = col[P + S.size + 1 : P + S.size + 1 + d2]
        theta = col[P + S.size]
        added = 0
        for sgn, p in zip((1, -1), prs):
            cands = ([(np.append(p.w, p.b), p.value)] if p.w is not None else []) + p.extra
            for u, _ in cands:
                w, b = u[:-1], float(u[-1])
                val = (
                    sgn * float((am * yu[S]) @ np.maximum(Xu[S] @ w + b, 0.0))
                    + float(_load_weights(w, sgn) @ beta)
                    - lam * float(np.abs(w).sum())
                    - kappa
                )
                if val > theta + ENTER_TOL * max(lam + kappa, 1e-12):
                    add_cut(h, S, u, sgn)
                    units.append(u)
                    added += 1
        if added == 0:
            status = "converged" if both else "stalled"
            break
    if best_col is None and it:
        best_col = col
    if dl.remaining() > 1.0 and final_share > 0 and status != "converged" and best_col is not None:
        bound, g, t, prs, both, _, alpha, _ = certify(best_col, S, max(0.5, dl.remaining() - 0.5), None)
        k = key(bound, alpha, g)
        if k > best_key:
            best, best_t, best_g, best_alpha, pricing_optimal, best_key = bound, t, g, alpha, both, k
            best_record = records[0]
        trace.append((time.perf_counter() - t_start, best))
        say(f"hybrid final pricing: V upper {g:.4g}, bound {bound:.6g}, best {best:.6g}")
    return DualBoundResult(
        bound=float(best),
        alpha=(best_alpha / counts)[inverse],
        g_upper=float(best_g),
        scale=float(best_t),
        iterations=it,
        trace=trace,
        units=np.array(units) if units else np.zeros((0, d + 1)),
        status=status,
        mode=f"width {width} hybrid",
        n_rows=N0,
        n_merged=N,
        master_value=master_value,
        seconds=time.perf_counter() - t_start,
        pricing_optimal=pricing_optimal,
        info={"lam": lam, "kappa": kappa, "pairs": int(P), "milp_rows": int(S.size), "transport_bound": tr.bound},
        record=best_record,
    )
