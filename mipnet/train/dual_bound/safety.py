"""What makes a reported bound independent of the LP's and the MILP's tolerances (package docstring, Safety).

* :func:`_balanced`: alpha rounded down to integer multiples k_n of q = 1 / (D 2^QUANT_BITS), the larger class
  side reduced (integers) until sum_n k_n y_n = 0 *exactly* (any width, or a free output bias);
* :func:`_safe`: the final figure lowered by 1e-9 relative + 1e-12 absolute for the float sums;
* :func:`_record`: the certificate of a width-J bound (pairs, rows, scale, pricing bound) over original row
  indices, re-checked without trusting the solver.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .result import QUANT_BITS


def _balanced(alpha: np.ndarray, y: np.ndarray, counts: np.ndarray, D: float) -> tuple[np.ndarray, np.ndarray]:
    """alpha rounded down to integer multiples k of q = 1 / (D 2^QUANT_BITS), the larger side reduced until
    sum k_n y_n = 0 exactly; returns (k as int64, alpha = k q)."""
    scale = float(2**QUANT_BITS)
    cap = counts.astype(np.int64) * (2**QUANT_BITS)
    k = np.floor(np.clip(alpha, 0.0, None) * D * scale).astype(np.int64)
    k = np.minimum(np.maximum(k, 0), cap)
    pos, neg = y > 0, y < 0
    sp, sn = int(k[pos].sum()), int(k[neg].sum())
    side = pos if sp > sn else neg
    excess = abs(sp - sn)
    if excess:
        idx = np.flatnonzero(side)
        tot = int(k[idx].sum())
        cut = (k[idx].astype(object) * excess) // tot  # exact integer arithmetic
        cut = np.array([int(c) for c in cut], dtype=np.int64)
        k[idx] -= cut
        left = excess - int(cut.sum())
        order = idx[np.argsort(-k[idx], kind="stable")]
        i = 0
        while left > 0:
            take = min(left, int(k[order[i]]))
            k[order[i]] -= take
            left -= take
            i += 1
    assert int((k * y.astype(np.int64)).sum()) == 0
    return k, k.astype(np.float64) / (D * scale)


def _safe(x: float) -> float:
    return x - 1e-9 * abs(x) - 1e-12


def _record(
    rep: np.ndarray,
    pairs: np.ndarray | None,
    pi: np.ndarray | None,
    S: np.ndarray | None,
    am: np.ndarray | None,
    t: float,
    bound: float,
    pricing: dict[str, Any] | None,
) -> dict[str, Any]:
    """The re-checkable certificate of a width-J bound: plan pi on pairs (i, j) with y_i = +1, y_j = -1, extra
    multipliers alpha_M on rows, scale t and (alpha_M != 0) the pricing's certified upper bound."""
    out: dict[str, Any] = {"bound": float(bound), "t": float(t), "pairs": [], "rows": [], "pricing": pricing}
    if pairs is not None and pi is not None:
        nz = np.flatnonzero(pi > 0)
        out["pairs"] = [[int(rep[pairs[k, 0]]), int(rep[pairs[k, 1]]), float(pi[k])] for k in nz]
    if S is not None and am is not None:
        nz = np.flatnonzero(am > 0)
        out["rows"] = [[int(rep[S[k]]), float(am[k])] for k in nz]
    if not out["rows"]:
        out["pricing"] = None
    return out
