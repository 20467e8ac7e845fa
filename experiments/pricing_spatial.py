"""The certified upper bound of the single-neuron pricing at column generation's last multipliers: the global big-M
MILP's dual bound (:func:`mipnet.train.dual_bound.price`) against the spatial branch and bound over (w, b)
(:mod:`mipnet.train.dual_bound.spatial`, with and without the LP-chosen slopes) at equal seconds, and the certified
width-J training lower bound each gives (the formula of ``column_generation.evaluate``).

The multipliers are those of the last pricing of a width-J column generation (``bound_for_config``, the incumbent's
units as first columns, as ``experiments/dual_bound_strength.py``): the pricing calls are recorded by wrapping
``column_generation.price`` in this script.

    python experiments/pricing_spatial.py --instance compas1000 --cg-limit 40 --seconds 30,120 --out <scratch>.json
    python experiments/pricing_spatial.py --instance compas1000 --cg-limit 40 --seconds 30,120 --methods "facets milp"

Methods: ``milp`` (the baseline: the global big-M MILP with its pair cuts, as the column generation prices),
``spatial`` (the node bound with the chord slopes and inherited t only), ``spatial lp`` (t chosen by each box's LP),
``spatial pairs`` (and the pair terms, k = 5, as the MILP's pair cuts), ``facets milp``: the cover of the box's
surface by its 2 (d + 1) facets, one sub-box MILP (``price(box=)``) each, the seconds split evenly.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dual_bound_strength as E  # noqa: E402

from mipnet.train.dual_bound import bound_for_config, price, standardise  # noqa: E402
from mipnet.train.dual_bound import column_generation as cg  # noqa: E402
from mipnet.train.dual_bound.safety import _safe  # noqa: E402
from mipnet.train.dual_bound.spatial import facets, spatial_price  # noqa: E402


def multipliers(name: str, cg_limit: float) -> dict[str, Any]:
    """The rows, a = alpha y and the prices of the last pricing call of a width-J column generation."""
    X, y = E.data_of(name)
    Xs, t = standardise(X), E.targets(y)
    inc = json.loads(E.OUT.read_text())["incumbents"][name]
    calls: list[tuple[np.ndarray, np.ndarray, dict[str, Any]]] = []
    orig = cg.price

    def recorded(Xu: np.ndarray, a: np.ndarray, sign: int, **kw: Any) -> Any:
        calls.append((Xu, np.array(a, dtype=np.float64), kw))
        return orig(Xu, a, sign, **kw)

    cg.price = recorded  # type: ignore[assignment]
    try:
        r = bound_for_config(Xs, t, E.config_of(name), time_limit=cg_limit, init_units=np.asarray(inc["units"]))
    finally:
        cg.price = orig  # type: ignore[assignment]
    Xu, a, kw = calls[-1]
    cfg = E.config_of(name)
    return {
        "X": Xu,
        "a": a,
        "lam": float(kw["lam"]),
        "kappa": float(kw["kappa"]),
        "w_bound": float(kw["w_bound"]),
        "b_bound": float(kw["b_bound"]),
        "J": float(E.INSTANCES[name]["hidden"]),
        "c_bound": cfg.bias_bound,
        "cg_bound": r.bound,
        "master": r.master_value,
        "incumbent": inc["incumbent"],
    }


def training_bound(m: dict[str, Any], g: float, margin: float = 1.0) -> float:
    """The certified width-J lower bound at these multipliers with pricing upper bound ``g`` (column_generation)."""
    a, kappa, J = m["a"], m["kappa"], m["J"]
    base = margin * float(np.abs(a).sum()) - float(m["c_bound"]) * abs(float(a.sum()))
    cands = [0.0, 1.0] + ([min(1.0, max(0.0, kappa / (g + kappa)))] if g + kappa > 0 else [])
    return max(_safe(max(t * base - J * max(0.0, t * g - (1.0 - t) * kappa) for t in cands)), 0.0)


def facets_milp(m: dict[str, Any], sign: int, seconds: float) -> Any:
    """The pricing bound as the max over the 2 (d + 1) facets (module docstring of :mod:`.spatial`: the max over the
    box is max(-kappa, max over the facets)) of the sub-box MILP's bound, ``seconds`` split evenly between them."""
    d = m["X"].shape[1]
    lo, hi = facets(d, m["w_bound"], m["b_bound"])
    best = None
    upper = -m["kappa"]
    for k in range(lo.shape[0]):
        p = price(
            m["X"], m["a"], sign, lam=m["lam"], kappa=m["kappa"], ball=False, w_bound=m["w_bound"],
            b_bound=m["b_bound"], time_limit=seconds / lo.shape[0], box=(lo[k], hi[k]),
        )  # fmt: skip
        upper = max(upper, p.upper)
        if best is None or p.value > best.value:
            best = p
    assert best is not None
    best.upper = max(upper, best.value)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instance", default="compas1000")
    ap.add_argument("--cg-limit", type=float, default=40.0)
    ap.add_argument("--seconds", default="30,120")
    ap.add_argument("--methods", default="milp,spatial lp,spatial")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    m = multipliers(args.instance, args.cg_limit)
    rows: list[dict[str, Any]] = []
    doc = {"instance": args.instance, "machine": platform.platform(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    doc.update({k: m[k] for k in ("lam", "kappa", "J", "cg_bound", "master", "incumbent")})
    doc["rows_priced"] = int(m["X"].shape[0])
    for T in [float(s) for s in args.seconds.split(",")]:
        for method in args.methods.split(","):
            ups, vals, info = [], [], []
            for sign in (1, -1):
                kw = dict(lam=m["lam"], kappa=m["kappa"], w_bound=m["w_bound"], b_bound=m["b_bound"], time_limit=T / 2)
                if method == "milp":
                    p = price(m["X"], m["a"], sign, ball=False, **kw)  # type: ignore[arg-type]
                elif method == "facets milp":  # the cover by the 2 (d + 1) facets, one sub-box MILP each
                    p = facets_milp(m, sign, T / 2)
                else:
                    lp, k = method in ("spatial lp", "spatial pairs"), 5 if method == "spatial pairs" else 0
                    p = spatial_price(m["X"], m["a"], sign, lp=lp, pair_cuts=k, **kw)  # type: ignore[arg-type]
                ups.append(p.upper)
                vals.append(p.value)
                info.append(p.search)
            g = max(ups)
            lb = training_bound(m, g)
            row = {
                "seconds": T,
                "method": method,
                "upper": ups,
                "best_unit": vals,
                "training_bound": lb,
                "gap": (m["incumbent"] - lb) / m["incumbent"],
                "search": info,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            doc["rows"] = rows
            Path(args.out).write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
