"""Tables and frontier plots of benchmarks/interpretable_frontier.py's rows.

Means over seeds per (data set, N, method, setting). **Error bar: the standard error of the mean over the seeds**,

    SE(a) = s(a) / sqrt(k),   s(a)^2 = (1 / (k - 1)) sum_s (a_s - mean(a))^2,

for k >= 2 seeds with a result, and 0 for k = 1 (one seed: no error bar, the one-seed behaviour). The test split
is the same for every seed (only the training subset and the methods' random states change with it), so the
test set's own sampling error is not in SE; the verdict also gives each shortfall in units of the binomial
test-set standard error sqrt(a (1 - a) / n_test).

The target of the issue, per (data set, N) and per baseline point (mean size s_b, mean accuracy a_b +- SE_b):
some mipnet point of mean size s_m <= s_b, with a proved bound on every seed, has a_m + SE_m >= a_b - SE_b (the
error bars meet or mipnet is above). mipnet points without a proved bound on some seed (no gap) do not count.

The frontier by size (:func:`frontier`), paired over seeds: at a size budget S, per seed s,

    F_s(S) = max { acc of a mipnet fit of seed s with size <= S and a proved bound },
    B_s(S) = max { acc of a baseline fit of seed s with size <= S },   D_s(S) = F_s(S) - B_s(S),

reported as mean +- SE over the seeds where both exist; "at or above within error bars" is mean(D) + SE(D) >= 0.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

MIPNET = ("mipnet", "mipnet_linear", "mipnet_small", "mipnet_logistic", "mipnet_thresholds")
#: methods whose rows are separate settings (drawn as points, not a line)
POINT_METHODS = ("mipnet_small", "mipnet_logistic", "mipnet_thresholds")
COLUMNS = ("dataset", "N", "method", "setting", "seeds", "n_train", "n_test", "size", "acc", "acc_se", "auc", "gap")
SIZES = (1, 2, 3, 5, 10, 20, 50, 100, 400)  # the size budgets of the frontier table


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def se(values: Any) -> float:
    """Standard error of the mean, s / sqrt(k) with the sample standard deviation (ddof 1); 0 for k < 2."""
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2 or np.ptp(v) == 0.0:  # equal values: exactly 0, not the rounding of their mean
        return 0.0
    return float(v.std(ddof=1) / np.sqrt(v.size))


_CHOSEN = re.compile(r"^C=(\S+) \(cv\)| \(chose ([^)]*)\)")


def setting_key(setting: str) -> tuple[str, str | None]:
    """(the setting without the value its method chose by cross-validation on the seed's rows, that value or
    None): "C=0.433 (cv)" -> ("C by cv", "0.433"), "4 hidden, l1=cv (chose 0.01)" -> ("4 hidden, l1=cv", "0.01"),
    so that one setting's seeds form one group."""
    m = _CHOSEN.search(setting)
    if m is None:
        return setting, None
    key = "C by cv" + setting[m.end() :] if m.group(1) is not None else setting[: m.start()] + setting[m.end() :]
    return key, m.group(1) or m.group(2)


def aggregate(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (data set, N, method, setting): means and standard errors over seeds (acc_std: the
    population standard deviation, kept for older readers), or the skip reason. A mipnet entry's gap is the
    largest over its seeds, None when some seed has no proved bound; ``bounded`` counts the seeds with one."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["dataset"], str(r["N"]), r["method"], setting_key(r.get("setting", ""))[0])].append(r)
    out = []
    for (ds, n, meth, setting), rs in groups.items():
        ok = [r for r in rs if r.get("acc") is not None]
        chosen = [c for c in (setting_key(r.get("setting", ""))[1] for r in ok) if c is not None]
        setting += f" (chose {', '.join(chosen)})" if chosen else ""
        e: dict[str, Any] = {"dataset": ds, "N": n, "method": meth, "setting": setting, "seeds": len(rs)}
        e["n_train"] = int(np.mean([r["n_train"] for r in rs]))
        e["n_test"] = int(np.mean([r["n_test"] for r in rs]))
        if not ok:
            e["status"] = rs[0].get("status", "skipped")
            out.append(e)
            continue
        acc = np.array([r["acc"] for r in ok])
        size = np.array([r["size"] for r in ok], dtype=np.float64)
        e.update(size=float(size.mean()), size_min=float(size.min()), size_max=float(size.max()))
        e.update(acc=float(acc.mean()), acc_std=float(acc.std()), acc_se=se(acc), ok_seeds=len(ok))
        e["auc"] = float(np.mean([r["auc"] for r in ok]))
        e["auc_se"] = se([r["auc"] for r in ok])
        if meth in MIPNET:
            gaps = [r.get("gap") for r in ok]
            e["gap"] = None if any(g is None for g in gaps) else float(max(gaps))
            e["bounded"] = sum(g is not None for g in gaps)
            e["status"] = ", ".join(sorted({str(r.get("status")) for r in ok}))
            e["time"] = float(np.mean([r["time"] for r in ok]))
        out.append(e)
    return out


def _size(e: dict[str, Any]) -> str:
    """The mean size, with its range over the seeds when that is not one value."""
    if e.get("size_min", e["size"]) == e.get("size_max", e["size"]):
        return f"{e['size']:.0f}"
    return f"{e['size']:.1f} ({e['size_min']:.0f}-{e['size_max']:.0f})"


def _gap(e: dict[str, Any]) -> str:
    if e.get("gap") is None:
        k = e.get("bounded", 0)
        return "no bound" + (f" ({k} of {e['ok_seeds']} seeds bounded)" if k else "")
    return f"{100 * e['gap']:.1f} % ({e['status']})"


def table(agg: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| data set | N (train / test) | method | setting | seeds | size | test acc (± SE over seeds) | AUC | "
        "certificate gap (largest over seeds) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in agg:
        head = f"| {e['dataset']} | {e['N']} ({e['n_train']} / {e['n_test']}) | {e['method']} | {e['setting']} "
        head += f"| {e['seeds']} "
        if "acc" not in e:
            lines.append(head + f"| - | {e['status']} | - | - |")
            continue
        gap = _gap(e) if e["method"] in MIPNET else "-"
        lines.append(head + f"| {_size(e)} | {e['acc']:.3f} ± {e['acc_se']:.3f} | {e['auc']:.3f} | {gap} |")
    return lines


def _test_se(acc: float, n_test: int) -> float:
    return float(np.sqrt(acc * (1.0 - acc) / max(n_test, 1)))


def verdict(agg: list[dict[str, Any]]) -> list[str]:
    """Per (data set, N): the baseline points that no certified mipnet point of equal or smaller mean size
    matches within the error bars (a_m + SE_m >= a_b - SE_b; constant models, size 0, are not compared), each
    with its shortfall in test-set binomial standard errors sqrt(a_b (1 - a_b) / n_test); which mipnet settings
    have a proved bound on every seed; then, at each certified mipnet point's size s, its accuracy minus the best
    baseline's of size <= s."""
    out = []
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in agg:
        if "acc" in e:
            by[(e["dataset"], e["N"])].append(e)
    for (ds, n), es in by.items():
        mip_all = [e for e in es if e["method"] in MIPNET]
        mip = [e for e in mip_all if e.get("gap") is not None]
        base = [e for e in es if e["method"] not in MIPNET and e["size"] > 0]
        if not base:
            continue
        misses = []
        for b in base:
            below = [m for m in mip if m["size"] <= b["size"]]
            if any(m["acc"] + m["acc_se"] >= b["acc"] - b["acc_se"] for m in below):
                continue
            best = max(below, key=lambda m: m["acc"], default=None)
            tse = _test_se(b["acc"], b["n_test"])
            have = f"best certified mipnet at size <= {b['size']:.3g}: "
            if best is None:
                have += "none"
            else:
                d = b["acc"] - best["acc"]
                have += f"{best['acc']:.3f} ± {best['acc_se']:.3f}, short by {d:.3f}"
                bars = best["acc_se"] + b["acc_se"]
                have += f" = {d / tse:.1f} test SE" if tse > 0 else ""
                have += f", {d / bars:.1f} x the summed error bars" if bars > 0 else ""
            misses.append(
                f"{b['method']} ({b['setting']}, size {_size(b)}, acc {b['acc']:.3f} ± {b['acc_se']:.3f}; {have})"
            )
        status = "**reached**" if not misses else "**not reached**: " + "; ".join(misses)
        out.append(f"- {ds}, N = {n}: {status}")
        trivial = sum(m["gap"] >= 1.0 - 1e-9 for m in mip)
        unbounded = [f"{m['method']} ({m['setting']}, {_gap(m)})" for m in mip_all if m.get("gap") is None]
        out.append(
            f"  - proved gap on every seed: {len(mip)} of {len(mip_all)} mipnet settings"
            + (f" ({trivial} of them only the trivial 100 %)" if trivial else "")
            + ("; without: " + ", ".join(unbounded) if unbounded else "")
        )
        for m in sorted(mip, key=lambda e: e["size"]):
            rivals = [b for b in base if b["size"] <= m["size"]]
            if rivals:
                b = max(rivals, key=lambda e: e["acc"])
                out.append(
                    f"  - {m['method']} ({m['setting']}, size {_size(m)}): acc {m['acc']:.3f} ± {m['acc_se']:.3f}, "
                    f"best baseline of size <= {m['size']:.3g}: {b['method']} ({b['setting']}) {b['acc']:.3f} ± "
                    f"{b['acc_se']:.3f}, difference {m['acc'] - b['acc']:+.3f}"
                )
    return out


def frontier(rows: list[dict[str, Any]], sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    """The paired frontier comparison per (data set, N, size budget S) from the per-seed rows (module doc):
    F_s(S), B_s(S), D_s(S) = F_s(S) - B_s(S) as mean and SE over the seeds where both exist, the baseline
    method that is best most often, and whether mean(D) + SE(D) >= 0. A budget above every fit's size is left
    out (it repeats the last one)."""
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get("acc") is not None:
            by[(r["dataset"], str(r["N"]))].append(r)
    out = []
    for (ds, n), rs in by.items():
        top = max(r["size"] for r in rs)
        seeds = sorted({r["seed"] for r in rs})
        for S in [s for s in sizes if s <= top] + ([top] if top not in sizes else []):
            F, B, D, who = [], [], [], []
            for sd in seeds:
                m = [r for r in rs if r["seed"] == sd and r["method"] in MIPNET and r.get("gap") is not None]
                b = [r for r in rs if r["seed"] == sd and r["method"] not in MIPNET]
                fm = max((r["acc"] for r in m if r["size"] <= S), default=None)
                bb = max((r for r in b if r["size"] <= S), key=lambda r: r["acc"], default=None)
                F += [] if fm is None else [fm]
                B += [] if bb is None else [bb["acc"]]
                who += [] if bb is None else [bb["method"]]
                D += [] if fm is None or bb is None else [fm - bb["acc"]]
            e: dict[str, Any] = {"dataset": ds, "N": n, "S": int(S), "seeds": len(seeds)}
            e["F"] = (float(np.mean(F)), se(F), len(F)) if F else None
            e["B"] = (float(np.mean(B)), se(B), len(B)) if B else None
            e["B_method"] = max(set(who), key=who.count) if who else None
            e["D"] = (float(np.mean(D)), se(D), len(D)) if D else None
            e["at_or_above"] = None if not D else bool(np.mean(D) + se(D) >= 0.0)
            out.append(e)
    return out


def frontier_md(fr: list[dict[str, Any]]) -> list[str]:
    """The frontier comparison as a table: mean ± SE (seeds) of each side and of the paired difference."""
    lines = [
        "| data set | N | size <= | certified mipnet frontier | best baseline (most often) | mipnet - baseline "
        "(paired) | at or above within SE |",
        "|---|---|---|---|---|---|---|",
    ]

    for e in fr:

        def f(v: tuple[float, float, int] | None, sign: bool = False, k: int = e["seeds"]) -> str:
            if v is None:
                return "none"
            text = (f"{v[0]:+.3f}" if sign else f"{v[0]:.3f}") + f" ± {v[1]:.3f}"
            return text + (f" ({v[2]} of {k} seeds)" if v[2] != k else "")

        ok = "-" if e["at_or_above"] is None else ("yes" if e["at_or_above"] else "**no**")
        lines.append(
            f"| {e['dataset']} | {e['N']} | {e['S']} | {f(e['F'])} | {f(e['B'])}"
            + (f" ({e['B_method']})" if e["B_method"] else "")
            + f" | {f(e['D'], sign=True)} | {ok} |"
        )
    return lines


def plot(agg: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """One frontier plot per (data set, N): test accuracy against mean size (log scale), vertical bars the SE over
    seeds, horizontal bars the range of sizes over seeds, each mipnet point labelled with its largest gap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in agg:
        if "acc" in e and e["size"] > 0:  # constant models (size 0) stay in the table, off the log axis
            by[(e["dataset"], e["N"])].append(e)
    markers = {"l1lr": "s", "l1lr_path": ".", "mlp": "x", "mipnet": "o", "mipnet_linear": "D", "mipnet_small": "P"}
    markers["mipnet_logistic"] = "h"
    markers["mipnet_thresholds"] = "*"
    markers.update({"fasterrisk": "^", "gosdt": "v", "ebm": "*"})
    for (ds, n), es in by.items():
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for meth in sorted({e["method"] for e in es}):
            pts = sorted((e for e in es if e["method"] == meth), key=lambda e: e["size"])
            xs = [max(p["size"], 0.8) for p in pts]
            ax.errorbar(
                xs,
                [p["acc"] for p in pts],
                yerr=[p["acc_se"] for p in pts],
                xerr=np.array([[x - max(p["size_min"], 0.8), max(p["size_max"], 0.8) - x] for x, p in zip(xs, pts)]).T,
                marker=markers.get(meth, "o"),
                linestyle="-" if len(pts) > 1 and meth not in POINT_METHODS else "none",
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
        k = max(e["seeds"] for e in es)
        bars = f", {k} seeds, bars: SE" if k > 1 else ", 1 seed"
        ax.set_title(f"{ds}, N = {n} (train {es[0]['n_train']}, test {es[0]['n_test']}{bars})", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        path = out_dir / f"frontier_{ds}_{n}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_difference(fr: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """Per N, one plot of the paired frontier difference mean(D(S)) +- SE(D(S)) against the size budget S, one
    line per data set (module doc): at or above 0 within the bar is the target at that size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for n in sorted({e["N"] for e in fr}):
        es = [e for e in fr if e["N"] == n and e["D"] is not None]
        if not es:
            continue
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for i, ds in enumerate(sorted({e["dataset"] for e in es})):
            pts = [e for e in es if e["dataset"] == ds]
            k = max(e["D"][2] for e in pts)
            x = np.array([e["S"] for e in pts], dtype=np.float64) * (1.0 + 0.03 * (i - 2))  # spread the bars
            ax.errorbar(
                x,
                [e["D"][0] for e in pts],
                yerr=[e["D"][1] for e in pts],
                marker="o",
                capsize=2,
                label=f"{ds} ({k} seed{'s' if k > 1 else ''})",
            )
        ax.axhline(0.0, color="k", lw=0.8)
        clip = 0.06  # the budgets where one side is only a constant model differ by 0.1-0.25: off the scale
        if any(abs(e["D"][0]) + e["D"][1] > clip for e in es):
            ax.set_ylim(-clip, clip)
            ax.text(0.01, 0.01, f"y clipped at +-{clip:g}", transform=ax.transAxes, fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("size budget S (model size <= S)")
        ax.set_ylabel("certified mipnet frontier - best baseline")
        ax.set_title(f"N = {n}: paired over seeds, bars: SE", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = out_dir / f"frontier_difference_{n}.png"
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
