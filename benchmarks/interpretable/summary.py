"""Tables and frontier plots of benchmarks/interpretable_frontier.py's rows.

Means over seeds per (data set, N, method, setting); the error bar is the standard deviation over seeds (0 with
one seed). The target of the issue, per (data set, N) and per baseline point (size s_b, accuracy a_b): some mipnet
point of size s <= s_b has mean accuracy >= a_b - (its std + the baseline's std). mipnet points without a proved
bound (no gap) do not count.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

MIPNET = ("mipnet", "mipnet_linear", "mipnet_small")
COLUMNS = ("dataset", "N", "method", "setting", "seeds", "n_train", "n_test", "size", "acc", "acc_std", "auc", "gap")


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def aggregate(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (data set, N, method, setting): means over seeds, or the skip reason."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["dataset"], str(r["N"]), r["method"], r.get("setting", ""))].append(r)
    out = []
    for (ds, n, meth, setting), rs in groups.items():
        ok = [r for r in rs if r.get("acc") is not None]
        e: dict[str, Any] = {"dataset": ds, "N": n, "method": meth, "setting": setting, "seeds": len(rs)}
        e["n_train"] = int(np.mean([r["n_train"] for r in rs]))
        e["n_test"] = int(np.mean([r["n_test"] for r in rs]))
        if not ok:
            e["status"] = rs[0].get("status", "skipped")
            out.append(e)
            continue
        acc = np.array([r["acc"] for r in ok])
        e.update(size=float(np.mean([r["size"] for r in ok])), acc=float(acc.mean()), acc_std=float(acc.std()))
        e["auc"] = float(np.mean([r["auc"] for r in ok]))
        if meth in MIPNET:
            gaps = [r.get("gap") for r in ok]
            e["gap"] = None if any(g is None for g in gaps) else float(max(gaps))
            e["status"] = ", ".join(sorted({str(r.get("status")) for r in ok}))
            e["time"] = float(np.mean([r["time"] for r in ok]))
        out.append(e)
    return out


def table(agg: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| data set | N (train / test) | method | setting | seeds | size | test acc (± std) | AUC | certificate gap |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in agg:
        head = f"| {e['dataset']} | {e['N']} ({e['n_train']} / {e['n_test']}) | {e['method']} | {e['setting']} "
        head += f"| {e['seeds']} "
        if "acc" not in e:
            lines.append(head + f"| - | {e['status']} | - | - |")
            continue
        gap = "-"
        if e["method"] in MIPNET:
            gap = "no bound" if e.get("gap") is None else f"{100 * e['gap']:.1f} % ({e['status']})"
        lines.append(head + f"| {e['size']:.0f} | {e['acc']:.3f} ± {e['acc_std']:.3f} | {e['auc']:.3f} | {gap} |")
    return lines


def verdict(agg: list[dict[str, Any]]) -> list[str]:
    """Per (data set, N): the baseline points that no certified mipnet point of equal or smaller size matches
    (constant models, size 0, are not compared), each with its shortfall in units of the test set's binomial
    standard error sqrt(a_b (1 - a_b) / n_test); then, at each certified mipnet point's size s, its accuracy
    minus the best baseline's of size <= s."""
    out = []
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in agg:
        if "acc" in e:
            by[(e["dataset"], e["N"])].append(e)
    for (ds, n), es in by.items():
        mip = [e for e in es if e["method"] in MIPNET and e.get("gap") is not None]
        base = [e for e in es if e["method"] not in MIPNET and e["size"] > 0]
        if not base:
            continue
        misses = []
        for b in base:
            ok = [m for m in mip if m["size"] <= b["size"] and m["acc"] >= b["acc"] - m["acc_std"] - b["acc_std"]]
            if not ok:
                best = max((m["acc"] for m in mip if m["size"] <= b["size"]), default=None)
                se = float(np.sqrt(b["acc"] * (1.0 - b["acc"]) / max(b["n_test"], 1)))
                have = f"best certified mipnet at size <= {b['size']:.0f}: " + (
                    f"{best:.3f}, short by {b['acc'] - best:.3f} = {(b['acc'] - best) / se:.1f} test SE"
                    if best is not None and se > 0
                    else f"{best:.3f}"
                    if best is not None
                    else "none"
                )
                misses.append(f"{b['method']} ({b['setting']}, size {b['size']:.0f}, acc {b['acc']:.3f}; {have})")
        status = "**reached**" if not misses else "**not reached**: " + "; ".join(misses)
        out.append(f"- {ds}, N = {n}: {status}")
        for m in sorted(mip, key=lambda e: e["size"]):
            rivals = [b for b in base if b["size"] <= m["size"]]
            if rivals:
                b = max(rivals, key=lambda e: e["acc"])
                out.append(
                    f"  - {m['method']} ({m['setting']}, size {m['size']:.0f}): acc {m['acc']:.3f}, best baseline of "
                    f"size <= {m['size']:.0f}: {b['method']} ({b['setting']}) {b['acc']:.3f}, "
                    f"difference {m['acc'] - b['acc']:+.3f}"
                )
    return out


def plot(agg: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """One frontier plot per (data set, N): test accuracy against size (log scale), error bars over seeds, each
    mipnet point labelled with its certificate's gap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in agg:
        if "acc" in e and e["size"] > 0:  # constant models (size 0) stay in the table, off the log axis
            by[(e["dataset"], e["N"])].append(e)
    markers = {"l1lr": "s", "l1lr_path": ".", "mlp": "x", "mipnet": "o", "mipnet_linear": "D", "mipnet_small": "P"}
    markers.update({"fasterrisk": "^", "gosdt": "v", "ebm": "*"})
    for (ds, n), es in by.items():
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for meth in sorted({e["method"] for e in es}):
            pts = sorted((e for e in es if e["method"] == meth), key=lambda e: e["size"])
            xs = [max(p["size"], 0.8) for p in pts]
            ax.errorbar(
                xs,
                [p["acc"] for p in pts],
                yerr=[p["acc_std"] for p in pts],
                marker=markers.get(meth, "o"),
                linestyle="-" if len(pts) > 1 and meth != "mipnet_small" else "none",
                label=meth,
                capsize=2,
            )
            if meth in MIPNET:
                for x, p in zip(xs, pts):
                    g = "no bound" if p.get("gap") is None else f"gap {100 * p['gap']:.0f}%"
                    ax.annotate(g, (x, p["acc"]), fontsize=6, xytext=(3, -8), textcoords="offset points")
        cert = sorted((e for e in es if e["method"] in MIPNET and e.get("gap") is not None), key=lambda e: e["size"])
        if cert:  # the certified mipnet frontier: the best accuracy of a point with a bound at each size or below
            best = np.maximum.accumulate([e["acc"] for e in cert])
            xs_c = [max(e["size"], 0.8) for e in cert]
            ax.step(xs_c, best, where="post", color="k", linestyle=":", lw=1, label="mipnet frontier (with a bound)")
        ax.set_xscale("log")
        ax.set_xlabel("model size (non-zero coef. / weights / points, leaves, terms)")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{ds}, N = {n} (train {es[0]['n_train']}, test {es[0]['n_test']})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        path = out_dir / f"frontier_{ds}_{n}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def constraints_md(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| constraint | test acc | cost (acc vs none) | train acc | size | features used | test parity gap | "
        "checked on the network | certificate |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ref = next((r.get("acc") for r in rows if r["constraint"] == "none"), None)
    for r in rows:
        r = {**r, "constraint": r["constraint"].replace("|", "\\|")}
        if r.get("acc") is None:
            lines.append(f"| {r['constraint']} | - | - | - | - | - | - | - | {r.get('status')} |")
            continue
        cost = "-" if ref is None or r["constraint"] == "none" else f"{r['acc'] - ref:+.3f}"
        checks = r.get("checks") or []
        if any(not c.get("holds") for c in checks):
            cost = "n/a: **the returned network violates it**"
        chk = (
            "-"
            if not checks
            else ", ".join(
                f"holds={c['holds']} (measured {_fmt(c.get('measured'))}; {c.get('required')})" for c in checks
            )
        )
        chk = chk.replace("|", "\\|")
        gap = "no bound" if r.get("gap") is None else f"gap {100 * r['gap']:.1f} %"
        lines.append(
            f"| {r['constraint']} | {r['acc']:.3f} | {cost} | {r['train_acc']:.3f} | {r['size']} | "
            f"{r['features_used']} | {r['test_parity_gap']:.3f} | {chk} | {r['status']}, {gap} |"
        )
    return lines
