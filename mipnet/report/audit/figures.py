"""The audit's figures (matplotlib, object-oriented API, no global pyplot state).

Every figure is a :class:`matplotlib.figure.Figure` made by :func:`new_figure`, which attaches an Agg canvas
(:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`) to that one figure: the Agg backend is chosen at
the moment a figure is drawn, for that figure only; matplotlib's global backend (``matplotlib.use``) is never
touched, so importing :mod:`mipnet.report.audit` leaves an interactive session's backend as it was.

* :func:`sparsity_figure` - the surviving weights and neurons (node-link diagram of an MLP, else spy panels).
* :func:`training_figure` - incumbent and bound of the training solver over time, else the final interval
  [bound, incumbent] (:func:`progress_points` reads them from the certificate).
* ``_profile_figure`` - the monitored score along one feature, all else fixed (monotonicity).
* ``_robustness_figure`` - per audited row, the proved lower bound of the margin or the counterexample's margin.
* ``_region_figure`` - one activation region's local linear rule as per-feature effects.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
from matplotlib.figure import Figure

from ...explain.figures import layout
from ...layers import Dense
from ...network import Network


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure of ``figsize`` inches drawn by its own Agg canvas (the global backend is left alone)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    from ...explain.figures import to_png

    return to_png(fig, dpi=100)


def _dense_chain(net: Network) -> list[Dense] | None:
    """The Dense layers when the net is a plain MLP (elementwise layers in between), else None."""
    dense = [cast(Dense, layer) for layer in net.layers if layer.unit_name == "neurons"]
    plain = all(layer.unit_name == "neurons" or layer.scaling or layer.activation for layer in net.layers)
    return dense if dense and plain else None


def sparsity_figure(net: Network) -> Figure:
    """The surviving weights and neurons: a node-link diagram of an MLP (red positive, blue negative,
    line width ~ |w|; grey hollow = unused input or dead neuron), else one 'spy' panel per weight tensor."""
    dense = _dense_chain(net)
    if dense is not None and max([dense[0].in_features] + [d.out_features for d in dense]) <= 60:
        return _graph_figure(net, dense)
    mats = [
        (i, w.reshape(w.shape[0], -1))
        for i, layer in enumerate(net.layers)
        if (w := getattr(layer, "weight", None)) is not None
    ]
    fig = new_figure((3.2 * len(mats) + 1, 3.4))
    axes = fig.subplots(1, len(mats), squeeze=False)[0]
    for ax, (i, W) in zip(axes, mats):
        ax.imshow(W != 0, cmap="Greys", aspect="auto", interpolation="nearest")
        ax.set_title(f"layer {i}: {np.count_nonzero(W)}/{W.size} weights", fontsize=9)
        ax.set_xlabel("input")
        ax.set_ylabel("output")
    layout(fig)
    return fig


def _graph_figure(net: Network, dense: list[Dense]) -> Figure:
    sizes = [dense[0].in_features] + [d.out_features for d in dense]
    used_in = np.abs(dense[0].weight).sum(axis=0) > 0
    alive = [used_in]
    for a, b in zip(dense[:-1], dense[1:]):
        alive.append((np.abs(a.weight).sum(axis=1) > 0) & (np.abs(b.weight).sum(axis=0) > 0))
    alive.append(np.ones(dense[-1].out_features, dtype=bool))
    height = max(3.0, 0.28 * max(sizes) + 1.0)
    fig = new_figure((2.6 * len(sizes) + 2.5, height))
    ax = fig.subplots()
    ys = [np.linspace(1, 0, n) if n > 1 else np.array([0.5]) for n in sizes]
    wmax = max(float(np.abs(d.weight).max()) for d in dense) or 1.0
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba

    # one collection of every weight's line (one ax.plot per weight took 13 s of an audit's 1 s limit at 60 x 8)
    segments, colours, widths = [], [], []
    red, blue = np.array(to_rgba("tab:red")), np.array(to_rgba("tab:blue"))
    for li, d in enumerate(dense):
        rows, cols = np.nonzero(d.weight)
        w = d.weight[rows, cols]
        segments.append(np.stack([np.stack([np.full(w.size, li), ys[li][cols]], 1),
                                  np.stack([np.full(w.size, li + 1), ys[li + 1][rows]], 1)], 1))  # fmt: skip
        rgba = np.where((w > 0)[:, None], red, blue)
        rgba[:, 3] = 0.35 + 0.5 * np.abs(w) / wmax
        colours.append(rgba)
        widths.append(0.4 + 2.6 * np.abs(w) / wmax)
    if segments:
        ax.add_collection(
            LineCollection(
                list(np.concatenate(segments)),
                colors=np.concatenate(colours),
                linewidths=np.concatenate(widths),
                zorder=1,
            )
        )
    for li, n in enumerate(sizes):
        on = alive[li]
        ax.scatter(np.full(n, li)[on], ys[li][on], s=70, color="#2b3a4a", zorder=2)
        ax.scatter(np.full(n, li)[~on], ys[li][~on], s=70, facecolors="white", edgecolors="#b0b7bf", zorder=2)
    if sizes[0] <= 60:
        for j, name in enumerate(net.feature_names):
            ax.text(
                -0.08, ys[0][j], name, ha="right", va="center", fontsize=7, color="#1d2228" if used_in[j] else "#a0a7af"
            )
    outs = [str(c) for c in net.output_names]
    if net.task == "classify" and len(outs) == 1 and len(net.class_names or []) == 2:
        assert net.class_names is not None
        outs = [f"logit\n> 0: {net.class_names[1]}\n< 0: {net.class_names[0]}"]
    for j, name in enumerate(outs):
        ax.text(len(sizes) - 1 + 0.08, ys[-1][j], name, ha="left", va="center", fontsize=8)
    labels = (
        ["inputs"]
        + [f"hidden {i + 1}\n{int(alive[i + 1].sum())}/{sizes[i + 1]} alive" for i in range(len(sizes) - 2)]
        + ["output"]
    )
    for li, lab in enumerate(labels):
        ax.text(li, 1.08, lab, ha="center", va="bottom", fontsize=8)
    ax.set_xlim(-1.6, len(sizes) - 1 + 0.9)
    ax.set_ylim(-0.06, 1.22)
    ax.axis("off")
    nz = sum(int(np.count_nonzero(d.weight)) for d in dense)
    tot = sum(d.weight.size for d in dense)
    ax.set_title(f"surviving weights: {nz} of {tot} (red positive, blue negative; hollow = unused / dead)", fontsize=9)
    return fig


def progress_points(cert: dict[str, Any]) -> list[tuple[float, float | None, float | None]]:
    """(seconds, incumbent, bound) points from a training certificate's ``progress`` or ``trace`` field
    (items as dicts with time/incumbent/bound or as triples, like :attr:`mipnet.solve.Result.trace`)."""
    raw = cert.get("progress") or cert.get("trace") or []
    out = []
    for p in raw if isinstance(raw, list) else []:
        if isinstance(p, dict):
            p = (p.get("time"), p.get("incumbent"), p.get("bound"))
        if isinstance(p, (list, tuple)) and len(p) == 3 and p[0] is not None:
            out.append((float(p[0]), None if p[1] is None else float(p[1]), None if p[2] is None else float(p[2])))
    return out


def training_figure(cert: dict[str, Any]) -> Figure:
    """Incumbent and bound over time when the trainer recorded them (``progress``), else the final interval."""
    pts = progress_points(cert)
    fig = new_figure((7.5, 3.0))
    ax = fig.subplots()
    if pts:
        t = [p[0] for p in pts]
        ax.step(
            t, [np.nan if p[1] is None else p[1] for p in pts], where="post", label="incumbent (best network found)"
        )
        ax.step(
            t, [np.nan if p[2] is None else p[2] for p in pts], where="post", label="bound (no network can do better)"
        )
        ax.set_xlabel("seconds")
        ax.set_ylabel("objective")
        ax.legend(fontsize=8)
        ax.set_title("progress of the training solver", fontsize=9)
    else:
        inc, bnd = cert.get("incumbent"), cert.get("bound")
        inc = float(inc) if inc is not None else float("nan")
        bnd = float(bnd) if bnd is not None else float("nan")
        ax.barh(
            [0],
            [inc - bnd if math.isfinite(bnd) else 0.0],
            left=[bnd if math.isfinite(bnd) else inc],
            height=0.4,
            color="#f2c6a0",
            label="gap",
        )
        ax.plot([inc], [0], "o", color="tab:red", label=f"incumbent {inc:.4g} (the model's objective)")
        if math.isfinite(bnd):
            ax.plot([bnd], [0], "|", ms=30, mew=3, color="tab:green", label=f"proved bound {bnd:.4g}")
        ax.set_yticks([])
        ax.set_xlabel("training objective (lower is better)")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=3)
        ax.set_title("final certificate: no network of this class has an objective below the bound", fontsize=9)
    layout(fig)
    return fig


def _profile_figure(net: Network, coef: np.ndarray, desc: str, verdict: Any, X: np.ndarray) -> Figure:
    """The score along the feature, all else fixed: through the witness pair, or at the data's median row."""
    l = net.feature_names.index(verdict.feature)
    dom = net.domain
    base = np.asarray(verdict.witness.x) if verdict.witness is not None else X[np.argsort(X[:, l])[len(X) // 2]]
    lo = dom.lower[l] if np.isfinite(dom.lower[l]) else X[:, l].min()
    hi = dom.upper[l] if np.isfinite(dom.upper[l]) else X[:, l].max()
    grid = (
        np.arange(math.ceil(lo), math.floor(hi) + 1) if dom.integer[l] and hi - lo <= 400 else np.linspace(lo, hi, 200)
    )
    P = np.repeat(base[None], grid.size, axis=0)
    P[:, l] = grid
    f = net.forward(P) @ coef
    fig = new_figure((5.2, 2.8))
    ax = fig.subplots()
    ax.plot(grid, f, "-o" if grid.size <= 40 else "-", ms=3, color="#2b3a4a")
    if verdict.witness is not None:
        w = verdict.witness
        ax.plot([w.x[l], w.x_prime[l]], [w.f_x, w.f_x_prime], "o", color="tab:red", ms=7, label="witness pair")
        ax.legend(fontsize=8)
    ax.set_xlabel(verdict.feature)
    ax.set_ylabel("score")
    where = "through the witness" if verdict.witness is not None else "at a typical data row"
    ax.set_title(f"{desc} vs {verdict.feature} ({where}): {verdict.status}", fontsize=9)
    layout(fig)
    return fig


def _robustness_figure(results: list[Any], eps: float) -> Figure:
    """Per audited row a bar: the proved lowest margin in the ball (green, > 0 = robust) or the margin of the
    input that changes the class (red, <= 0). A violated row always gets a visible red bar, however small its
    margin (a margin of -1e-6 is drawn at the minimum height and labelled); an undecided row a hatched stub."""
    fig = new_figure((7.5, 2.8))
    ax = fig.subplots()
    colors = {"holds": "tab:green", "violated": "tab:red", "unknown": "tab:orange"}
    vals = [
        r.bound if r.verdict == "holds" else (r.margin_forward if r.margin_forward is not None else r.margin)
        for r in results
    ]
    finite = [abs(float(v)) for v in vals if v is not None and math.isfinite(float(v))]
    stub = 0.04 * (max(finite) if finite else 1.0) or 0.04
    for j, (r, val) in enumerate(zip(results, vals)):
        if r.verdict == "violated":
            v = float(val) if val is not None and math.isfinite(float(val)) else 0.0
            ax.bar(j, min(v, -stub), color=colors["violated"])
            ax.annotate("changes\nclass", (j, min(v, -stub)), ha="center", va="top", fontsize=6, color="tab:red")
        elif val is None or not math.isfinite(float(val)):
            ax.bar(j, stub, color="none", edgecolor=colors.get(r.verdict, "grey"), hatch="//")
        else:
            ax.bar(j, float(val), color=colors.get(r.verdict, "grey"))
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([str(j + 1) for j in range(len(results))], fontsize=7)
    ax.set_xlabel("audited row (in table order)")
    ax.set_ylabel("margin")
    ax.margins(y=0.25)
    ax.set_title(
        f"green: proved lowest margin within eps = {eps:g} (> 0 = keeps its class); "
        "red: an input that changes the class",
        fontsize=8,
    )
    layout(fig)
    return fig


def _region_figure(net: Network, w: np.ndarray, eff: np.ndarray, k: int, interp: Any) -> Figure:
    order = [i for i in np.argsort(-np.abs(eff)) if abs(w[i]) > 1e-12][:10][::-1]
    fig = new_figure((5.6, max(1.6, 0.3 * len(order) + 0.9)))
    ax = fig.subplots()
    ax.barh(
        np.arange(len(order)), [eff[i] for i in order], color=["tab:red" if eff[i] > 0 else "tab:blue" for i in order]
    )
    ax.set_yticks(np.arange(len(order)))
    ax.set_yticklabels([net.feature_names[i] for i in order], fontsize=8)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("effect of a one-standard-deviation increase on the score", fontsize=8)
    ax.set_title(f"region {k + 1}: {int(interp.counts[k])} rows", fontsize=9)
    layout(fig)
    return fig


__all__ = ["new_figure", "sparsity_figure", "training_figure", "progress_points"]
