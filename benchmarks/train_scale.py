"""Certified training at the size of real tabular data: wall time, peak memory, bound and certificate per size.

Data: COMPAS and Adult (``mipnet.datasets``), the training split of ``experiments/dual_bound_strength.py``
(``train_test_split(test_size=0.3, random_state=1000)``), a sample of N rows of it (``random_state=seed``; "full":
the whole split), tested on the held-out 30 %. Sign class, 4 hidden units, hinge + l1 0.01. Each fit runs in its own
subprocess, so "peak MB" is that process's ``ru_maxrss`` (reading the data, training, writing the model JSON).

Methods (``--methods``, a registry below: name -> train() keyword arguments and environment):

* ``current``: today's default :func:`mipnet.train.train` (the scale policy of :mod:`mipnet.train.scale_policy`
  decides whether the training MILP is built at all).
* ``previous``: the behaviour before the scale policy: the MILP is always built (environment
  ``MIPNET_SCALE_POLICY=off``); the build still stops when its own projection passes the deadline.
* ``no-vertex``: ``current`` with the dual bound chosen as before the vertex-pair bound (``MIPNET_DUAL_VERTEX=off``:
  the hybrid or the transport LP above the column generation's rows).

More methods are one entry of :data:`METHODS` (e.g. a local search, a faster model build).

``--calibrate``: instead of fits, measure the training MILP's size, build seconds, translation seconds and peak
memory at small N (each in its own subprocess) -- the measurements :mod:`mipnet.train.scale_policy` is fitted on.

    python benchmarks/train_scale.py --datasets compas,adult --sizes 1000,full --seeds 0 --time-limit 120
    python benchmarks/train_scale.py --calibrate --datasets compas,adult --sizes 200,400,800
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "training"
HIDDEN = 4
L1 = 0.01

#: method name -> {"kwargs": extra train() keyword arguments, "env": environment variables of its subprocess}
METHODS: dict[str, dict[str, Any]] = {
    "current": {"kwargs": {}, "env": {}},
    "previous": {"kwargs": {}, "env": {"MIPNET_SCALE_POLICY": "off"}},
    # the large-data path with the dual bound chosen as before the vertex-pair bound (hybrid / transport)
    "no-vertex": {"kwargs": {}, "env": {"MIPNET_DUAL_VERTEX": "off"}},
}


def split_of(name: str, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Any]:
    """(X_train, y_train, X_test, y_test, domain) of ``name`` with a sample of ``n`` training rows (None: all)."""
    from mipnet.datasets import load

    data = load(name)
    tr, te = data.train_test_split(test_size=0.3, random_state=1000)
    if n is not None and n < tr.n_rows:
        tr = tr.sample(n, random_state=seed)
    X, _ = tr.X_numeric()
    Xt, _ = te.X_numeric()
    return (
        np.asarray(X, dtype=np.float64),
        tr.y.to_numpy(),
        np.asarray(Xt, dtype=np.float64),
        te.y.to_numpy(),
        tr.domain,
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_fit(spec: dict[str, Any]) -> dict[str, Any]:
    """One fit in this process (the method's environment is already set by the parent)."""
    from mipnet.io import save_json
    from mipnet.train import TrainConfig, train

    t_wall = time.perf_counter()
    from mipnet.deadline import Deadline

    dl = Deadline(float(spec["time_limit"]))  # the command's clock: from before the data are read
    X, y, Xt, yt, domain = split_of(spec["data"], spec["n"], spec["seed"])
    lines: list[str] = []
    cfg = TrainConfig(hidden=(HIDDEN,), hypothesis="sign", l1=L1)
    classes = sorted(set(y.tolist()) | set(yt.tolist()))
    r = train(
        X,
        y,
        config=cfg,
        domain=domain,
        classes=classes,
        time_limit=dl,
        seed=spec["seed"],
        threads=1,
        log=lines.append,
        **METHODS[spec["method"]]["kwargs"],
    )
    with tempfile.TemporaryDirectory() as tmp:
        save_json(r.network, Path(tmp) / "model.json")
    wall = time.perf_counter() - t_wall
    c = r.certificate
    pred = r.network.predict(Xt)
    acc = float(np.mean(np.asarray(pred) == yt))
    form = c.formulation or {}
    build_s = next((_seconds_in(s) for s in lines if s.startswith("formulation:") and "built in" in s), None)
    return {
        **spec,
        "rows": int(form.get("rows", len(y))),
        "distinct_rows": int(form.get("distinct_rows", len(y))),
        "build_s": build_s,
        "solver_s": c.solve_time,
        "wall": wall,
        "incumbent": c.incumbent,
        "bound": c.bound,
        "bound_source": c.bound_source,
        "gap": c.gap,
        "status": c.status,
        "test_accuracy": acc,
        "nonzeros": int(sum(int(np.count_nonzero(W)) for W, _ in _dense(r.network))),
        "peak_mb": _rss_mb(),
        "certificate": _proved(c),
        "log": lines,
    }


def _dense(net: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(l.weight, l.bias) for l in net.layers if type(l).__name__ == "Dense"]


def _seconds_in(line: str) -> float | None:
    import re

    m = re.search(r"built in ([0-9.]+) s", line)
    return float(m.group(1)) if m else None


def _proved(c: Any) -> str:
    if c.bound is None or c.bound <= 0:
        return "no certificate: no bound was proved"
    return f"bound {c.bound:.6g} ({c.bound_source}), gap {100 * c.gap:.1f} %"


def worker_calibrate(spec: dict[str, Any]) -> dict[str, Any]:
    """Build the training MILP of ``spec`` (no solve) and translate it to HiGHS: sizes, seconds, memory."""
    from mipnet.train.formulation import TrainConfig, TrainingProblem, merge_rows
    from mipnet.train.outcome import encode_targets
    from mipnet.train.warmstart import lp_instance

    X, y, _, _, _ = split_of(spec["data"], spec["n"], spec["seed"])
    target, _, _, _, _ = encode_targets(y, "classify", sorted(set(y.tolist())))
    mu, sd = X.mean(axis=0), X.std(axis=0)
    Xs = (X - mu) / np.where(sd > 1e-12, sd, 1.0)
    Xm, tm, counts, _ = merge_rows(Xs, target)
    base = _rss_mb()
    t0 = time.perf_counter()
    p = TrainingProblem(
        Xm,
        tm,
        "classify",
        2,
        TrainConfig(hidden=(HIDDEN,), hypothesis="sign", l1=L1),
        sample_weight=counts,
        loss_denominator=Xs.shape[0],
    )
    build = time.perf_counter() - t0
    after_build = _rss_mb()
    t0 = time.perf_counter()
    lp_instance(p)
    translate = time.perf_counter() - t0
    return {
        **spec,
        "d": int(X.shape[1]),
        "rows": int(X.shape[0]),
        "distinct_rows": int(Xm.shape[0]),
        "nonzero_inputs": int(np.count_nonzero(Xm)),
        **p.size(),
        "build_s": build,
        "translate_s": translate,
        "base_mb": base,
        "build_mb": after_build - base,
        "peak_mb": _rss_mb(),
    }


def run_sub(kind: str, spec: dict[str, Any], env: dict[str, str], timeout: float) -> dict[str, Any]:
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    try:
        p = subprocess.run(
            [sys.executable, __file__, f"--worker-{kind}", json.dumps(spec)],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {**spec, "error": f"killed after {timeout:.0f} s", "wall": time.perf_counter() - t0}
    if p.returncode != 0:
        return {**spec, "error": p.stderr.strip().splitlines()[-1:] or ["?"], "wall": time.perf_counter() - t0}
    return dict(json.loads(p.stdout.strip().splitlines()[-1]))


def _fmt(v: Any, spec: str = ".4g") -> str:
    return "-" if v is None else (format(v, spec) if isinstance(v, (int, float)) else str(v))


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| data | N | distinct | method | build s | solver s | wall s | incumbent | bound | bound source | gap | "
        "test acc | non-zeros | peak MB | certificate |"
    )
    out = [head, "|" + "---|" * 15]
    for r in rows:
        if "error" in r:
            out.append(
                f"| {r['data']} | {r['n'] or 'full'} | - | {r['method']} | "
                + " | ".join(["-"] * 10)
                + f" | {r['error']} |"
            )
            continue
        gap = "-" if r["gap"] is None else f"{100 * r['gap']:.1f} %"
        out.append(
            f"| {r['data']} | {r['rows']} | {r['distinct_rows']} | {r['method']} | {_fmt(r['build_s'], '.1f')} | "
            f"{_fmt(r['solver_s'], '.1f')} | {r['wall']:.1f} | {_fmt(r['incumbent'])} | {_fmt(r['bound'])} | "
            f"{_fmt(r['bound_source'])} | {gap} | {r['test_accuracy']:.3f} | {r['nonzeros']} | {r['peak_mb']:.0f} | "
            f"{r['certificate']} |"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="compas,adult")
    ap.add_argument("--sizes", default="300,1000,3000,full")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--methods", default="current,previous")
    ap.add_argument("--skip", default="", help="data:N:method triples to leave out, comma-separated")
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--out", default=None, help="output stem (default results/training/train_scale)")
    ap.add_argument("--worker-fit", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--worker-calibrate", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker_fit:
        print(json.dumps(worker_fit(json.loads(a.worker_fit)), default=float))
        return
    if a.worker_calibrate:
        print(json.dumps(worker_calibrate(json.loads(a.worker_calibrate)), default=float))
        return
    sizes = [None if s == "full" else int(s) for s in a.sizes.split(",")]
    seeds = [int(s) for s in a.seeds.split(",")]
    skip = set(filter(None, a.skip.split(",")))
    rows: list[dict[str, Any]] = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    from mipnet.progress import progress

    jobs = [
        (data, n, seed, method)
        for data in a.datasets.split(",")
        for n in sizes
        for seed in seeds
        for method in (["calibrate"] if a.calibrate else a.methods.split(","))
        if f"{data}:{n or 'full'}:{method}" not in skip
    ]
    with progress(total=len(jobs), desc="train_scale", unit="fit") as bar:  # stderr, terminals only
        for data, n, seed, method in jobs:
            if a.calibrate:
                r = run_sub("calibrate", {"data": data, "n": n, "seed": seed}, {}, 3600)
                print(json.dumps(r), flush=True)
            else:
                spec = {"data": data, "n": n, "seed": seed, "method": method, "time_limit": a.time_limit}
                r = run_sub("fit", spec, METHODS[method]["env"], 3 * a.time_limit + 600)
                print(json.dumps({k: v for k, v in r.items() if k != "log"}), flush=True)
            rows.append(r)
            bar.update()
    stem = Path(a.out) if a.out else OUT / ("train_scale_calibration" if a.calibrate else "train_scale")
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps({"started": started, "args": vars(a), "rows": rows}, indent=1))
    if not a.calibrate:
        cmd = "python benchmarks/train_scale.py " + " ".join(sys.argv[1:])
        stem.with_suffix(".md").write_text(f"Run {started}: `{cmd}`\n\n{table(rows)}\n")


if __name__ == "__main__":
    main()
