"""Benchmark: mipnet against Gurobi Machine Learning and auto_LiRPA (CROWN, alpha-CROWN) on L-inf robustness.

Same models as ``benchmarks/robustness_mlp.py`` (digits 64-50-50-10, MNIST 784-50-50-10, benchmarks/models/), same
test images (the first ``--images`` of its test split), same eps and one per-query time limit. Per query, in one
run, the tools take turns in an order that rotates from query to query (machine load hits all alike):

- mipnet: ``verify_sample`` with its default pipeline (a CROWN pass, the attack, the MILP's layer bounds,
  alpha-CROWN, one MILP with the rivals as binaries), HiGHS, one thread;
- mipnet before (``--before DIR``, optional): an earlier mipnet's ``verify_sample`` on the same query, called the
  same way, in a process whose PYTHONPATH is DIR (e.g. ``git archive <parent commit> | tar -x -C DIR``), through
  ``benchmarks/robustness/mipnet_before_worker.py``: the effect of a change, measured in the same run;
  ``--before milp``: this mipnet's MILP path instead (``verify_sample(..., relu_split=False)``, in process: the
  pipeline without the ReLU-split tree), ``benchmarks/robustness/relu_split_summary.py`` compares the two;
- Gurobi ML: ``add_predictor_constr`` of the torch Sequential, max z_k - z_c per rival with BestBdStop /
  BestObjStop = 0 (``benchmarks/robustness/gurobi_ml_query.py``), one thread, the pip licence;
- auto_LiRPA: the CROWN and alpha-CROWN lower bounds of every margin z_c - z_k over the same box (the ball
  intersected with the domain), in auto_LiRPA's own venv through ``benchmarks/robustness/lirpa_worker.py``
  (``benchmarks/robustness/setup_lirpa.sh``); "holds" when every lower bound is > 0, else "unknown". Skipped with
  the reason when the venv is missing or auto_LiRPA does not start.

One warm-up query per model (the first image, first eps, every tool) runs before the timed ones, unrecorded.

Checks: decided verdicts must agree across tools (disagreements are printed and written loudly); every
counterexample is re-run through mipnet's forward pass and checked inside the box; every CROWN / alpha-CROWN lower
bound is checked against the margins at the image, at the counterexamples and at random points of the box.

One BLAS thread everywhere (``OPENBLAS_NUM_THREADS=1`` unless set, inherited by the workers), like torch's one
thread in auto_LiRPA's worker and HiGHS' and Gurobi's one thread.

    python benchmarks/robustness_competitors.py [--images 10] [--eps 0.05 0.1] [--time-limit 60] [--before DIR]
      -> results/robustness/competitors.md, competitors.csv, competitors.json (the run's command, date, load)
    python benchmarks/robustness_competitors.py --report-only   # the .md again from .csv + .json, notes kept
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: one BLAS thread, also in the workers

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from robustness.competitors_summary import disagreements, lirpa_python, summarise, table, target_lines  # noqa: E402
from robustness.gurobi_ml_query import torch_sequential, verify  # noqa: E402
from robustness.lirpa_client import JsonWorker, Lirpa  # noqa: E402
from robustness_mlp import _data, _split, get_model  # noqa: E402

from mipnet.network import Network  # noqa: E402
from mipnet.verify.robustness import ball_box, verify_sample  # noqa: E402

BEFORE_WORKER = ROOT / "benchmarks" / "robustness" / "mipnet_before_worker.py"
DEFAULT_LIRPA = "/work/bench-venvs/lirpa/bin/python"
TOL = 1e-6


SETUP = [
    "## Setup",
    "",
    "- Gurobi ML: `pip install gurobi-machinelearning` (1.7.0) into mipnet's venv: it changes none of numpy, scipy,",
    "  scikit-learn, torch, pandas (checked with `pip install --dry-run`); it is in the `bench` extra. gurobipy 13",
    "  with its size-limited pip licence; both nets fit (sizes above).",
    "- auto_LiRPA: its only PyPI release with wheels for this setup is 0.3 (2022); it pins torch < 1.13 and",
    "  torchvision, which would download another torch. It runs in its own venv, `/work/bench-venvs/lirpa`, made by",
    "  `benchmarks/robustness/setup_lirpa.sh` (the local CPU torch 2.13 wheel, auto_LiRPA 0.3 with `--no-deps`,",
    "  numpy < 2 and its light dependencies), driven over JSON lines by `benchmarks/robustness/lirpa_worker.py`,",
    "  which maps back three torch helpers auto_LiRPA 0.3 imports under their pre-1.13 names and sets float64 as",
    "  torch's default dtype (auto_LiRPA 0.3 makes some buffers in the default dtype and then fails on float64",
    "  models). auto_LiRPA's bound code is unchanged; every bound it returns is checked against sampled margins.",
    "  The issue's earlier measurement used auto_LiRPA 0.7 from its source repository (not on PyPI); 0.3's CROWN and",
    "  alpha-CROWN are the same methods, its speed may differ.",
    "- One thread each: HiGHS (`threads=1`), Gurobi (`Threads=1`), torch (`set_num_threads(1)`), numpy's BLAS",
    "  (`OPENBLAS_NUM_THREADS=1`, and mipnet's `threads=1` caps it too).",
]


class Before(JsonWorker):
    """An earlier mipnet's ``verify_sample`` in its own process (``mipnet_before_worker.py``, JSON lines)."""

    def __init__(self, tree: str, net: Network) -> None:
        from mipnet.io import save_model

        fd, path = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        save_model(net, path)
        root = str(Path(tree).resolve())
        env = dict(os.environ, PYTHONPATH=root)
        super().__init__([sys.executable, str(BEFORE_WORKER), path], path, env=env, cwd=root)
        self.ready, self.where = (
            bool(self.first.get("ready")),
            str(self.first.get("mipnet", self.first.get("error", ""))),
        )

    def query(self, x: np.ndarray, eps: float, limit: float) -> dict[str, Any]:
        return self.ask({"x": x.tolist(), "eps": eps, "limit": limit})


class MilpPath:
    """This mipnet's MILP path (``verify_sample(..., relu_split=False)``: no ReLU-split tree), in process, answering
    like :class:`Before`: ``--before milp`` puts it in the "mipnet before" column of the same run."""

    def __init__(self, net: Network) -> None:
        self.net, self.ready = net, True
        self.where = "this mipnet with relu_split=False (the MILP path), in process"

    def query(self, x: np.ndarray, eps: float, limit: float) -> dict[str, Any]:
        r = verify_sample(self.net, x, eps, "inf", time_limit=limit, threads=1, relu_split=False)
        cex = None if r.counterexample is None else [float(v) for v in r.counterexample]
        return {"verdict": r.verdict, "seconds": float(r.time), "prover": r.prover, "counterexample": cex}

    def close(self) -> None:
        pass


def recheck(net: Network, xc: np.ndarray | None, lo: np.ndarray, hi: np.ndarray, c: int) -> bool | None:
    """A counterexample is in the box and mipnet's forward pass classifies it as another class (None: no point)."""
    if xc is None:
        return None
    xc = np.asarray(xc, np.float64).ravel()
    inside = bool(np.all(xc >= lo - 1e-9) and np.all(xc <= hi + 1e-9))
    return inside and int(net.predict_index(net.forward(xc[None]))[0]) != c


def bound_violations(
    net: Network, lower: np.ndarray, c: int, points: list[np.ndarray], lo: np.ndarray, hi: np.ndarray, seed: int
) -> int:
    """How many (point, rival) margins z_c - z_k fall below the claimed lower bound (a sound bound: 0)."""
    rng = np.random.default_rng(seed)
    P = np.vstack([np.asarray(p, np.float64).ravel() for p in points] + [rng.uniform(lo, hi, (32, lo.size))])
    z = net.forward(P)
    rivals = [k for k in range(net.n_outputs) if k != c]
    m = z[:, [c]] - z[:, rivals]
    return int((m < lower[None, :] - TOL).sum())


def run_query(
    net: Network,
    torch_model: Any,
    lirpa: Lirpa | None,
    x: np.ndarray,
    eps: float,
    limit: float,
    order: list[str],
    before: "Before | MilpPath | None" = None,
) -> list[dict[str, Any]]:
    """The tools on one query in the given order: one row per tool (crown and alpha_crown from the one worker)."""
    c = int(net.predict_index(net.forward(x[None]))[0])
    lo, hi = ball_box(net, x, eps, "inf")
    rows: dict[str, dict[str, Any]] = {}
    points: list[np.ndarray] = [x]
    lirpa_out: dict[str, Any] = {}
    for tool in order:
        if tool == "mipnet":
            r = verify_sample(net, x, eps, "inf", time_limit=limit, threads=1)
            ok = recheck(net, r.counterexample, lo, hi, c)
            rows[tool] = {"verdict": r.verdict, "seconds": r.time, "detail": r.prover, "recheck": ok}
            if r.counterexample is not None:
                points.append(r.counterexample)
        elif tool == "mipnet_before" and before is not None:
            b = before.query(x, eps, limit)
            xb = None if b.get("counterexample") is None else np.asarray(b["counterexample"], np.float64)
            ok = recheck(net, xb, lo, hi, c)
            rows[tool] = {"verdict": b["verdict"], "seconds": b["seconds"], "detail": b["prover"], "recheck": ok}
            if xb is not None:
                points.append(xb)
        elif tool == "gurobi_ml":
            g = verify(net, torch_model, x, lo, hi, c, limit, 1)
            ok = recheck(net, g["counterexample"], lo, hi, c)
            rows[tool] = {"verdict": g["verdict"], "seconds": g["seconds"], "detail": g["reason"], "recheck": ok}
            rows[tool]["size"] = g.get("size", "")
            if g["counterexample"] is not None:
                points.append(g["counterexample"])
        elif tool == "lirpa" and lirpa is not None:
            lirpa_out = lirpa.query(x, lo, hi, c)
    for method, tool in (("CROWN", "crown"), ("alpha-CROWN", "alpha_crown")):
        err = lirpa_out.get("error") or lirpa_out.get(method, {}).get("error")
        if err:
            rows[tool] = {"verdict": "error", "seconds": np.nan, "detail": err, "recheck": None}
        elif method in lirpa_out:
            lower = np.asarray(lirpa_out[method]["lower"], np.float64)
            bad = bound_violations(net, lower, c, points, lo, hi, seed=int(1e6 * eps) + c)
            verdict = "holds" if bool(np.all(lower > 0)) else "unknown"
            detail = f"min lower bound {lower.min():.4g}" + (f"; UNSOUND at {bad} sampled margins" if bad else "")
            rows[tool] = {"verdict": verdict, "seconds": lirpa_out[method]["seconds"], "detail": detail}
            rows[tool]["recheck"] = None if not bad else False
    pos = {t: i for i, t in enumerate(order)}
    pos["crown"] = pos["alpha_crown"] = pos.get("lirpa", -1)
    return [{"tool": t, "class": c, "position": pos.get(t, -1), **v} for t, v in rows.items()]


def run(a: argparse.Namespace) -> tuple[pd.DataFrame, dict[str, Any]]:
    meta: dict[str, Any] = {"load_start": os.getloadavg(), "lirpa": ""}
    py, why = lirpa_python(a.lirpa_python) if "lirpa" in a.tools else (None, "not asked for (--tools)")
    rows: list[dict[str, Any]] = []
    q = 0
    for name in a.models:
        net = get_model(name)
        X, y = _data(name)
        _, te = _split(len(y))
        tm = torch_sequential(net) if "gurobi_ml" in a.tools else None
        lirpa = Lirpa(py, net) if py else None
        before: Before | MilpPath | None = None
        if a.before == "milp":
            before = MilpPath(net)
        elif a.before:
            before = Before(a.before, net)
        if before is not None:
            if not before.ready:
                raise SystemExit(f"the earlier mipnet in {a.before} does not start: {before.where}")
            meta["before"] = f"{a.before} (imports {before.where})"
        if lirpa is not None and not lirpa.ready:
            why, lirpa = f"auto_LiRPA does not start: {lirpa.error}", None
        elif lirpa is not None:
            meta["lirpa_versions"] = lirpa.versions
        meta["lirpa"] = why
        try:
            if len(te) and a.eps:  # warm-up (imports, first-call costs of each tool), not recorded
                warm = ["mipnet", "mipnet_before", "gurobi_ml", "lirpa"]
                run_query(net, tm, lirpa, X[te[0]], a.eps[0], a.time_limit, warm, before)
            for eps in a.eps:
                for i in te[: a.images]:
                    tools = [t for t in ("mipnet", "gurobi_ml", "lirpa") if t in a.tools]
                    tools += ["mipnet_before"] if before is not None else []
                    order = tools[q % len(tools) :] + tools[: q % len(tools)]
                    q += 1
                    out = run_query(net, tm, lirpa, X[i], eps, a.time_limit, order, before)
                    rows += [{"model": name, "eps": eps, "image": int(i), **r} for r in out]
                    print(
                        f"{name} eps {eps} image {i}: "
                        + ", ".join(f"{r['tool']} {r['verdict']} {r['seconds']:.3f}s" for r in out),
                        flush=True,
                    )
        finally:
            if lirpa is not None:
                lirpa.close()
            if before is not None:
                before.close()
    meta["load_end"] = os.getloadavg()
    return pd.DataFrame(rows), meta


def report(df: pd.DataFrame, meta: dict[str, Any], a: argparse.Namespace, command: str) -> str:
    """The markdown page (see results/robustness/competitors.md)."""
    s = summarise(df)
    bad = disagreements(df)
    cex = df[df.recheck.notna()] if "recheck" in df else df.iloc[0:0]
    unsound = df[df.detail.astype(str).str.contains("UNSOUND")]
    crown_ran = bool((df.tool == "crown").any())
    ls, le = meta["load_start"], meta["load_end"]
    lines = [
        "# Robustness: mipnet against Gurobi ML and auto_LiRPA (CROWN, alpha-CROWN), same queries, same run",
        "",
        f"`{command}` on {meta['date']}; {meta['machine']}; load average {ls[0]:.2f} at the start, {le[0]:.2f} at "
        "the end (a machine shared with other work: times are comparable within the run, not across runs). "
        f"Per query the tools take turns in an order rotating from query to query; time limit {a.time_limit:g} s "
        f"per query and tool; {a.images} images x {len(a.eps)} eps x {len(a.models)} models (a short run).",
        "",
        f"Versions: {meta['versions']}. auto_LiRPA: {meta.get('lirpa_versions') or 'not run: ' + meta['lirpa']}.",
        "",
        f"mipnet before: {meta['before']}." if meta.get("before") else "mipnet before: not run (no --before).",
        "",
        "Verdict agreement where two tools decide: "
        + ("**all agree**" if bad.empty else f"**DISAGREEMENT on {len(bad)} queries** (listed below)")
        + f". Counterexamples re-checked through mipnet's forward pass (inside the box, another class): "
        f"{int((cex.recheck == True).sum())} of {int((cex.verdict == 'violated').sum())} "  # noqa: E712
        f"({int((cex.recheck == False).sum())} fail)."  # noqa: E712
        + (
            f" CROWN / alpha-CROWN lower bounds checked against sampled margins: "
            f"{'all sound' if unsound.empty else f'**{len(unsound)} UNSOUND**'}."
            if crown_ran
            else ""
        ),
        "",
        "Gurobi ML model size (the pip licence allows 2000 variables and 2000 linear constraints): "
        + "; ".join(_sizes(df))
        + ".",
        "",
        *table(s),
        "",
        "h/v/u/e: holds / violated / unknown / error. Ratios are per query (mipnet's seconds over the other's),",
        "then the median; 'robust' = both mipnet and Gurobi ML say holds; 'hard robust' = robust and neither CROWN",
        "nor alpha-CROWN (auto_LiRPA) proves it, so a complete method is needed. CROWN / alpha-CROWN seconds are",
        "auto_LiRPA's `compute_bounds` alone (model conversion excluded); mipnet and Gurobi ML seconds are the whole",
        "query (model build included).",
        "",
        "## Targets (issue 21)",
        "",
        *target_lines(s, crown_ran),
    ]
    lines += ["", *SETUP]
    if not bad.empty:
        lines += ["", "## DISAGREEMENTS", "", "```", bad.to_string(index=False), "```"]
    if not unsound.empty:
        lines += ["", "## UNSOUND BOUNDS", "", "```", unsound.to_string(index=False), "```"]
    return "\n".join(lines) + "\n"


def _sizes(df: pd.DataFrame) -> list[str]:
    """Per model: Gurobi ML's model size, or the licence's refusal."""
    g = df[df.tool == "gurobi_ml"]
    out = []
    for model, gm in g.groupby("model", sort=False):
        err = gm[gm.verdict == "error"]
        sizes = gm["size"].dropna().astype(str) if "size" in gm else pd.Series([], dtype=str)
        sizes = sizes[sizes != ""]
        if not err.empty:
            out.append(f"{model}: **refused on {len(err)} queries**: {err.detail.iloc[0]}")
        elif not sizes.empty:
            out.append(f"{model}: {sizes.iloc[0]}")
    return out or ["not run"]


NOTES = "<!-- notes: kept by --report-only, dropped by a new run -->"


def main(argv: list[str] | None = None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["digits", "mnist"])
    ap.add_argument("--images", type=int, default=10)
    ap.add_argument("--eps", type=float, nargs="+", default=[0.05, 0.1])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--tools", nargs="+", default=["mipnet", "gurobi_ml", "lirpa"])
    ap.add_argument("--lirpa-python", default=DEFAULT_LIRPA)
    ap.add_argument("--out", default=str(ROOT / "results" / "robustness"))
    ap.add_argument(
        "--before",
        default=None,
        help="tree of an earlier mipnet for a 'mipnet before' column, or 'milp': this mipnet without the ReLU-split "
        "tree (relu_split=False)",
    )
    ap.add_argument("--report-only", action="store_true", help="rewrite the .md from the .csv and .json of a run")
    a = ap.parse_args(argv)
    out = Path(a.out)
    if a.report_only:
        df = pd.read_csv(out / "competitors.csv")
        meta = json.loads((out / "competitors.json").read_text())
        for k in ("models", "images", "eps", "time_limit"):
            setattr(a, k, meta["args"][k])
        a.before = meta["args"].get("before")
        old = (out / "competitors.md").read_text() if (out / "competitors.md").exists() else ""
        notes = old[old.index(NOTES) :] if NOTES in old else ""
        text = report(df, meta, a, meta["command"]) + ("\n" + notes if notes else "")
        (out / "competitors.md").write_text(text)
        print(text)
        return df
    command = "python benchmarks/robustness_competitors.py " + " ".join(argv if argv is not None else sys.argv[1:])
    t0 = time.perf_counter()
    df, meta = run(a)
    meta["date"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta["machine"] = f"{os.cpu_count()} cores, {time.perf_counter() - t0:.0f} s wall"
    meta["versions"] = _versions(a.tools)
    meta["command"] = command.strip()
    meta["args"] = {
        "models": a.models,
        "images": a.images,
        "eps": a.eps,
        "time_limit": a.time_limit,
        "before": a.before,
    }
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "competitors.csv", index=False)
    (out / "competitors.json").write_text(json.dumps(meta, indent=1) + "\n")
    text = report(df, meta, a, meta["command"])
    (out / "competitors.md").write_text(text)
    print(text)
    return df


def _versions(tools: list[str]) -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for p in ("highspy", "gurobipy", "gurobi-machinelearning", "torch"):
        try:
            parts.append(f"{p} {version(p)}")
        except PackageNotFoundError:
            parts.append(f"{p} not installed")
    return ", ".join(parts)


if __name__ == "__main__":
    main()
