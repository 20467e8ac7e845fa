"""The linear term alone by cutting planes against the training MILP (the previous path), in the same run.

For COMPAS and Adult at N = 1000, 3000 and the full training set (seeds 0, 1, 2: stratified subsets; the full set
is the same rows for every seed), the linear term alone (``max_neurons=0``) with the settings of the interpretable
frontier: the logistic loss with a feature budget K (l1 = 0.001), the logistic loss with l1 = 0.01 and no budget,
the hinge loss with a budget K (l1 = 0.001), the hinge with l1 = 0.01 and no budget, and the elastic net: the
logistic loss with a budget K, l1 = 0.001 and l2 = 0.01 (before the perspective cuts, l2 sent it to the MILP).
Each is trained by the cutting planes (:mod:`mipnet.train.linear_cuts`, the default) and, at N <=
``--milp-max-n`` on the first seed, by the training MILP (``cutting_planes=False``: the logistic loss's tangent
envelope in Pyomo), both within ``--time-limit`` seconds. Columns: rows and distinct rows, wall seconds, status,
incumbent, bound, gap, test accuracy, features used.

    python benchmarks/linear_cuts.py --datasets compas --out results/training/linear_cuts_compas.json
    python benchmarks/linear_cuts.py --from-rows a.json,b.json --out results/training/linear_cuts.json

writes the rows (json) and the table (the same name, .md). ``--top-k-ablation`` compares, in the same run and on
every seed, the cuts with and without their top-K start (:func:`mipnet.train.linear_cuts.top_k_support`) instead of
the training MILP; ``--polish-ablation`` compares the hinge's polish in its dual form (the default, |S| + 2 rows)
with the primal LP by interior point (the previous form, skipped above 1 M entries); ``--settings 0,2`` runs only
those of the five settings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
Row = dict[str, Any]


def settings(k: int) -> list[tuple[str, str, float, int | None, float]]:
    """(name, loss, l1, budget K, l2)."""
    return [
        (f"logistic, K={k}, l1=0.001", "logistic", 0.001, k, 0.0),
        ("logistic, l1=0.01", "logistic", 0.01, None, 0.0),
        (f"hinge, K={k}, l1=0.001", "hinge", 0.001, k, 0.0),
        ("hinge, l1=0.01", "hinge", 0.01, None, 0.0),
        (f"logistic, K={k}, l1=0.001, l2=0.01", "logistic", 0.001, k, 0.01),
    ]


#: the name of each method's rows (``--top-k-ablation``: the cuts without their top-K start instead of the MILP;
#: ``--polish-ablation``: the hinge's polish as the primal LP by interior point, with its entry cap)
NAMES = {
    "cuts": "cutting planes",
    "milp": "training MILP",
    "no-top-k": "cutting planes, no top-K start",
    "primal-polish": "cutting planes, primal hinge polish",
}


def fit(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, yte: np.ndarray, loss: str, l1: float, k: int | None,
        method: str, time_limit: float, l2: float = 0.0) -> Row:  # fmt: skip
    import mipnet.train.linear_cuts as linear_cuts
    import mipnet.train.linear_polish as linear_polish
    from mipnet.train import TrainConfig, train
    from mipnet.train.constraints import FeatureBudget

    cuts = method != "milp"
    linear_cuts.TOP_K_START = method != "no-top-k"
    linear_polish.HINGE_FORM = "primal" if method == "primal-polish" else "dual"

    cfg = TrainConfig(hidden=(1,), loss=loss, l1=l1, l2=l2, max_neurons=0)
    from mipnet.errors import MipnetError

    t0 = time.perf_counter()
    try:
        res = train(
            Xtr, ytr, config=cfg, linear=True, constraints=None if k is None else [FeatureBudget(k)],
            time_limit=time_limit, threads=1, cutting_planes=cuts,
        )  # fmt: skip
    except MipnetError as exc:  # no network at all (e.g. none meeting the budget in time): a row that says so
        linear_cuts.TOP_K_START = True
        return {
            "method": NAMES[method], "wall": time.perf_counter() - t0,
            "status": f"no network: {str(exc).splitlines()[0][:120]}", "incumbent": None, "bound": None, "gap": None,
            "bound_source": None, "test_acc": None, "features": None, "rows": Xtr.shape[0], "distinct_rows": None,
        }  # fmt: skip
    wall = time.perf_counter() - t0
    linear_cuts.TOP_K_START = True
    c = res.certificate
    W = [L for L in res.network.layers if hasattr(L, "weight")][0].weight
    return {
        "method": NAMES[method],
        "wall": wall,
        "status": c.status,
        "incumbent": c.incumbent,
        "bound": c.bound,
        "gap": c.gap,
        "bound_source": c.bound_source,
        "test_acc": float(np.mean((res.network.forward(Xte)[:, 0] > 0) == yte)),
        "features": int(np.count_nonzero(np.abs(W).sum(axis=0))),
        "rows": int(c.formulation.get("rows", Xtr.shape[0])),
        "distinct_rows": int(c.formulation.get("distinct_rows", Xtr.shape[0])),
    }


def _fmt(v: Any, spec: str = ".4f") -> str:
    return "-" if v is None else format(v, spec)


def _median_int(vals: list[Any]) -> str:
    ok = [v for v in vals if v is not None]
    return str(int(statistics.median(ok))) if ok else "-"


def _mean(vals: list[Any], spec: str) -> str:
    ok = [v for v in vals if v is not None]
    return (
        (
            format(statistics.mean(ok), spec)
            + (f" ({len(vals) - len(ok)} without a network)" if len(ok) < len(vals) else "")
        )
        if ok
        else "no network"
    )


def table(rows: list[Row]) -> str:
    """Per (data set, N, setting, method): seeds, median wall, worst status, median and largest gap, mean test acc."""
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["n_label"], r["setting"], r["method"]), []).append(r)
    out = [
        "| data | N (distinct) | setting | method | seeds | wall s (median) | optimal | gap median / max | "
        "test acc | features |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {"1000": 0, "3000": 1, "full": 2}
    for key in sorted(groups, key=lambda k: (k[0], order.get(str(k[1]), 9), k[2], k[3])):
        g = groups[key]
        gaps = [r["gap"] for r in g]
        gap_txt = (
            "no bound"
            if all(x is None for x in gaps)
            else f"{statistics.median([x for x in gaps if x is not None]):.2%} / "
            f"{max(x for x in gaps if x is not None):.2%}" + (" (some: none)" if None in gaps else "")
        )
        out.append(
            f"| {key[0]} | {key[1]} ({_median_int([r['distinct_rows'] for r in g])}) | {key[2]} | {key[3]} | "
            f"{len(g)} | {statistics.median(r['wall'] for r in g):.1f} | "
            f"{sum(r['status'] == 'optimal' for r in g)}/{len(g)} | {gap_txt} | "
            f"{_mean([r['test_acc'] for r in g], '.3f')} | {_mean([r['features'] for r in g], '.1f')} |"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="compas,adult")
    ap.add_argument("--n", default="1000,3000,full")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--k", type=int, default=3, help="the feature budget of the budget settings")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--milp-max-n", type=int, default=3000, help="the training MILP only up to this N, first seed")
    ap.add_argument("--top-k-ablation", action="store_true", help="compare with the cuts without the top-K start")
    ap.add_argument(
        "--polish-ablation", action="store_true", help="compare with the hinge's primal polish (the previous form)"
    )
    ap.add_argument("--settings", default=None, help="comma list of setting numbers (0-4) to run, default all")
    ap.add_argument("--from-rows", type=lambda v: [Path(p) for p in v.split(",")], help="merge these, run nothing")
    ap.add_argument("--out", type=Path, default=Path("results/training/linear_cuts.json"))
    args = ap.parse_args(argv)
    rows: list[Row] = []
    if args.from_rows:
        for p in args.from_rows:
            rows += json.loads(p.read_text())["rows"]
    else:
        sys.path.insert(0, str(HERE))
        from interpretable_frontier import split

        for name in args.datasets.split(","):
            for n_txt in args.n.split(","):
                n = None if n_txt == "full" else int(n_txt)
                for si, seed in enumerate(int(s) for s in args.seeds.split(",")):
                    Xtr, ytr, Xte, yte, _ = split(name, n, seed)
                    chosen = settings(args.k)
                    if args.settings:
                        chosen = [chosen[int(i)] for i in args.settings.split(",")]
                    for setting, loss, l1, k, l2 in chosen:
                        if args.top_k_ablation:
                            methods = ["cuts", "no-top-k"]
                        elif args.polish_ablation:
                            methods = ["cuts", "primal-polish"]
                        else:
                            methods = ["cuts"] + (["milp"] if si == 0 and Xtr.shape[0] <= args.milp_max_n else [])
                        for method in methods:
                            r = fit(Xtr, ytr, Xte, yte, loss, l1, k, method, args.time_limit, l2)
                            r.update(dataset=name, n_label=n_txt, seed=seed, setting=setting)
                            rows.append(r)
                            print(json.dumps(r), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"argv": sys.argv[1:], "rows": rows}, indent=1))
    args.out.with_suffix(".md").write_text(table(rows))
    print(table(rows))


if __name__ == "__main__":
    main()
