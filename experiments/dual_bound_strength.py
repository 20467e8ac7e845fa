"""How strong is the dual (convex-relaxation) lower bound of :mod:`mipnet.train.dual_bound` on real tabular data?

Instances (sign class, hinge margin 1, l1 = 0.01, weight and bias bound 1, as the training benchmarks):

* ``bc100``: breast cancer, 100 rows (``Dataset.sample(100, random_state=0)``, as
  ``benchmarks/train_certificates.py``), 3 hidden units; its optimum 0.083377 is proved
  (results/training/README.md, sign patterns + hull cuts, 163 s).
* ``compas1000``: COMPAS, the quality benchmark's training split (``train_test_split(test_size=0.3,
  random_state=1000)``, benchmarks/train_quality.py) sampled to 1000 rows (random_state=0), 4 hidden units.
* ``compas_full``: the whole COMPAS training split (4320 rows), 4 hidden units.
* ``adult3000``, ``adult10000``, ``adult_full``: Adult (all 45222 rows, the same split), 3000 / 10000 / all
  31655 training rows.

Stage ``incumbents``: the trainer (:func:`mipnet.train.train`, one thread) gives the incumbent (objective
re-checked by numpy) and its hidden units; stored in the JSON and reused. Stage ``bounds``: for every instance
the bounds of :mod:`mipnet.train.dual_bound` (column generation any width / width J, transport any width /
width J, hybrid width J), each with its own time limit, the incumbent's units as the first columns.

    python experiments/dual_bound_strength.py --stage incumbents --instances compas1000,compas_full
    python experiments/dual_bound_strength.py --stage bounds --cg-limit 120

The pricing study (results/training/dual_bound_pricing.md) ran the ``bounds`` stage with ``--out`` into a scratch
JSON, once on this code and once on the code before the one-sided loads and the pricing's pair cuts (``git
archive`` of that commit), on the same machine at the same time, so the ratios compare like with like. The
cuts study (results/training/dual_bound_cuts.md: pattern local search in the column generation, strong ReLU cuts
in the pricing) ran ``--methods "cg width J,hybrid width J"`` the same way, and ``--cg-limit 600`` on compas_full.
The vertex-pair study (results/training/pair_vertices.md; ``vertex width J`` prices all opposite pairs, ``vertex
nearest pairs width J`` keeps the transport's 20 nearest) ran

    python experiments/dual_bound_strength.py --stage bounds --instances compas1000,compas_full \
        --methods "transport width J,vertex nearest pairs width J,vertex width J" --transport-limit 600 \
        --incumbents-from results/training/dual_bound_strength.json --out results/training/pair_vertices.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from mipnet.datasets import load
from mipnet.train import TrainConfig, train
from mipnet.train.dual_bound import (
    any_width_lower_bound,
    bound_for_config,
    hybrid_lower_bound,
    merge_duplicates,
    standardise,
    transport_lower_bound,
    units_of_network,
)
from mipnet.train.trainer import encode_targets

OUT = Path(__file__).resolve().parent.parent / "results" / "training" / "dual_bound_strength.json"
L1 = 0.01
INSTANCES: dict[str, dict[str, Any]] = {
    "bc100": {"dataset": "breast_cancer", "n": 100, "hidden": 3, "train_limit": 0, "known_optimum": 0.083377},
    "compas1000": {"dataset": "compas", "n": 1000, "hidden": 4, "train_limit": 120},
    "compas_full": {"dataset": "compas", "n": None, "hidden": 4, "train_limit": 300},
    "adult3000": {"dataset": "adult", "n": 3000, "hidden": 4, "train_limit": 300},
    "adult10000": {"dataset": "adult", "n": 10000, "hidden": 4, "train_limit": 300},
    "adult_full": {"dataset": "adult", "n": None, "hidden": 4, "train_limit": 300},
}


def data_of(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(X raw, y) of an instance, the rows the benchmarks train on."""
    spec = INSTANCES[name]
    data = load(spec["dataset"])
    if name == "bc100":
        tr = data.sample(spec["n"], random_state=0)
    else:
        tr, _ = data.train_test_split(test_size=0.3, random_state=1000)
        if spec["n"] is not None and spec["n"] < tr.n_rows:
            tr = tr.sample(spec["n"], random_state=0)
    X, _ = tr.X_numeric()
    return np.asarray(X, dtype=np.float64), tr.y.to_numpy()


def config_of(name: str) -> TrainConfig:
    return TrainConfig(hidden=(INSTANCES[name]["hidden"],), hypothesis="sign", l1=L1)


def targets(y: np.ndarray) -> np.ndarray:
    t, _, _, _, _ = encode_targets(y, "classify", sorted(set(y.tolist())))
    return t


def incumbent(name: str) -> dict[str, Any]:
    X, y = data_of(name)
    spec = INSTANCES[name]
    t0 = time.perf_counter()
    r = train(X, y, config=config_of(name), time_limit=spec["train_limit"], threads=1, classes=sorted(set(y.tolist())))
    c = r.certificate
    return {
        "incumbent": c.incumbent,
        "milp_bound": c.bound,
        "status": c.status,
        "check_ok": bool(r.check["ok"]),
        "train_seconds": time.perf_counter() - t0,
        "train_limit": spec["train_limit"],
        "units": units_of_network(r.network).tolist(),
    }


def bounds(
    name: str,
    inc: dict[str, Any] | None,
    cg_limit: float,
    tr_limit: float,
    neighbours: int | None,
    methods: list[str],
    hy_limit: float = 180.0,
    milp_rows: int = 150,
) -> list[dict[str, Any]]:
    X, y = data_of(name)
    Xs, t = standardise(X), targets(y)
    cfg = config_of(name)
    J = INSTANCES[name]["hidden"]
    units = np.asarray(inc["units"]) if inc and inc.get("units") else None
    ref = INSTANCES[name].get("known_optimum") or (inc or {}).get("incumbent")
    n_merged = merge_duplicates(Xs, t)[0].shape[0]
    rows = []
    for method in methods:
        t0 = time.perf_counter()
        if method == "cg any width":
            r = any_width_lower_bound(Xs, t, l1=L1, time_limit=cg_limit, init_units=units)
        elif method == "cg width J":
            r = bound_for_config(Xs, t, cfg, time_limit=cg_limit, init_units=units)
        elif method == "transport any width":
            r = transport_lower_bound(Xs, t, l1=L1, time_limit=tr_limit, neighbours=neighbours or 20)
        elif method == "transport width J":
            r = bound_for_config(Xs, t, cfg, time_limit=tr_limit, method="transport", neighbours=neighbours or 20)
        elif method in (
            "vertex width J",
            "vertex nearest pairs width J",
        ):  # all opposite pairs priced, or the k nearest
            r = bound_for_config(
                Xs,
                t,
                cfg,
                time_limit=tr_limit,
                method="vertex",
                neighbours=neighbours or 20,
                price_pairs=method == "vertex width J",
            )
        elif method == "hybrid width J":
            r = hybrid_lower_bound(
                Xs,
                t,
                l1=L1,
                width=J,
                weight_bound=cfg.weight_bound,
                bias_bound=cfg.bias_bound,
                output_bias_bound=cfg.bias_bound,
                unit_cost=L1,
                time_limit=hy_limit,
                init_units=units,
                neighbours=neighbours,
                milp_rows=milp_rows,
            )
        else:
            raise ValueError(method)
        row = {
            "instance": name,
            "method": method,
            "N": int(Xs.shape[0]),
            "d": int(Xs.shape[1]),
            "N_merged": int(n_merged),
            "hidden": J,
            "bound": r.bound,
            "reference": ref,
            "reference_kind": "optimum" if INSTANCES[name].get("known_optimum") else "incumbent",
            "gap": None if not ref else (ref - r.bound) / ref,
            "seconds": time.perf_counter() - t0,
            "iterations": r.iterations,
            "status": r.status,
            "master_value": r.master_value,
            "g_upper": r.g_upper,
            "scale": r.scale,
            "pricing_optimal": r.pricing_optimal,
            "trace": r.trace,
            "info": r.info,
            "milp_bound": (inc or {}).get("milp_bound"),
        }
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "trace"}), flush=True)
    return rows


def neighbours_sweep(name: str, inc: dict[str, Any] | None, ks: list[int], limit: float) -> list[dict[str, Any]]:
    """The width-J transport bound with k nearest opposite rows per row (more pairs: a larger LP, a higher bound)."""
    X, y = data_of(name)
    Xs, t = standardise(X), targets(y)
    ref = INSTANCES[name].get("known_optimum") or (inc or {}).get("incumbent")
    rows = []
    for k in ks:
        t0 = time.perf_counter()
        r = bound_for_config(Xs, t, config_of(name), time_limit=limit, method="transport", neighbours=k)
        row = {
            "instance": name,
            "neighbours": k,
            "pairs": r.info["pairs"],
            "bound": r.bound,
            "reference": ref,
            "gap": None if not ref else (ref - r.bound) / ref,
            "seconds": time.perf_counter() - t0,
            "status": r.status,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stage", choices=("incumbents", "bounds", "neighbours"), required=True)
    ap.add_argument("--sweep", default="5,20,50,100", help="neighbours per row for --stage neighbours")
    ap.add_argument("--instances", default=",".join(INSTANCES))
    ap.add_argument("--methods", default="cg any width,cg width J,transport any width,transport width J,hybrid width J")
    ap.add_argument("--cg-limit", type=float, default=120.0)
    ap.add_argument("--transport-limit", type=float, default=300.0)
    ap.add_argument("--hybrid-limit", type=float, default=180.0)
    ap.add_argument("--milp-rows", type=int, default=150)
    ap.add_argument(
        "--neighbours", type=int, default=None, help="pairs per row (default: transport 20, hybrid its own)"
    )
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--incumbents-from", default=None, help="read the incumbents from this JSON (default: --out)")
    args = ap.parse_args()
    out = Path(args.out)
    doc = json.loads(out.read_text()) if out.exists() else {}
    if args.incumbents_from:
        doc["incumbents"] = json.loads(Path(args.incumbents_from).read_text()).get("incumbents", {})
    doc.setdefault("incumbents", {})
    doc.setdefault("rows", [])
    doc.update(
        experiment="dual_bound_strength",
        l1=L1,
        margin=1.0,
        weight_bound=1.0,
        bias_bound=1.0,
        solver="highs",
        threads=1,
        machine=platform.platform(),
    )
    names = [n for n in args.instances.split(",") if n]
    for name in names:
        if args.stage == "neighbours":
            doc.setdefault("neighbours_sweep", [])
            doc["neighbours_sweep"] = [r for r in doc["neighbours_sweep"] if r["instance"] != name]
            doc["neighbours_sweep"] += neighbours_sweep(
                name, doc["incumbents"].get(name), [int(k) for k in args.sweep.split(",")], args.transport_limit
            )
        elif args.stage == "incumbents":
            if INSTANCES[name]["train_limit"] <= 0:
                continue
            doc["incumbents"][name] = incumbent(name)
            print(json.dumps({name: {k: v for k, v in doc["incumbents"][name].items() if k != "units"}}), flush=True)
        else:
            methods = [m for m in args.methods.split(",") if m]
            new = bounds(
                name,
                doc["incumbents"].get(name),
                args.cg_limit,
                args.transport_limit,
                args.neighbours,
                methods,
                args.hybrid_limit,
                args.milp_rows,
            )
            doc["rows"] = [r for r in doc["rows"] if not (r["instance"] == name and r["method"] in methods)] + new
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
