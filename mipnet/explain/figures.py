"""Figures of an exact interpretation (matplotlib, object-oriented API, no global pyplot state).

* :func:`regions_2d` - a 2-input net: the data, the convex regions coloured by configuration with the
  network's decision boundary, and every region's local decision boundary (the line
  w_k . x + b_k = 0 of its margin, drawn across the box, solid where it lies inside its region).
* :func:`image_features` - decision features (per class and the margin) and boundary features (facet
  normals) of one region as heatmaps in image shape.
* :func:`tabular_features` - decision features of one region as a bar chart in feature names, and its
  boundary features as a heat table over the same features.
* :func:`to_png` - render a figure to PNG bytes (for atomic writes).
"""

from __future__ import annotations

import io
from typing import Any, Sequence

import numpy as np
from matplotlib.colors import ListedColormap, TwoSlopeNorm
from matplotlib.figure import Figure

from ..errors import DataError
from ..network import Network
from .openbox import Interpretation, configurations, piece_layers


def plain_text(fig: Figure) -> Figure:
    """Every text of ``fig`` drawn as written: feature and class names are user data, and matplotlib would read
    a name holding ``$`` as mathtext (``$\\frac$`` made every figure, and the whole report, fail)."""
    from matplotlib.text import Text

    for t in fig.findobj(Text):
        t.set_parse_math(False)
    return fig


def layout(fig: Figure) -> None:
    """``fig.tight_layout()`` with its texts plain (:func:`plain_text`): the layout renders them."""
    plain_text(fig).tight_layout()


def to_png(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    plain_text(fig).savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _margin_maps(W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decision function rows per configuration: logit (one output) or logit1 - logit0 (two outputs)."""
    if W.shape[1] == 1:
        return W[:, 0], b[:, 0]
    if W.shape[1] == 2:
        return W[:, 1] - W[:, 0], b[:, 1] - b[:, 0]
    raise DataError("2-D region plots support one-logit and two-logit classifiers")


def regions_2d(
    net: Network,
    lower: Sequence[float],
    upper: Sequence[float],
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    resolution: int = 400,
    seed: int = 0,
) -> tuple[Figure, dict[str, Any]]:
    """Three panels over the box [lower, upper]: data, regions by configuration, local decision boundaries.

    Returns the figure and counts: configurations met on the grid and by the data (when given).
    """
    from .openbox import affine_maps

    if net.n_inputs != 2:
        raise DataError(f"regions_2d needs a 2-input network, this one has {net.n_inputs}")
    lo, hi = np.asarray(lower, float), np.asarray(upper, float)
    g0, g1 = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    G0, G1 = np.meshgrid(g0, g1)
    grid = np.column_stack([G0.ravel(), G1.ravel()])
    pieces = piece_layers(net)
    with np.errstate(over="ignore", invalid="ignore"):  # grid points far out may overflow: drawn as they come
        codes, out = configurations(net, grid, pieces)
    uniq, inverse = np.unique(codes, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    K = uniq.shape[0]
    maps = affine_maps(net, uniq, pieces)
    w, b = _margin_maps(maps.weight, maps.bias)
    rng = np.random.default_rng(seed)
    base = np.vstack([_tab20(i) for i in range(20)])
    colours = base[rng.permutation(np.arange(K)) % 20] if K else base[:1]
    cmap = ListedColormap(colours)
    region_img = inverse.reshape(resolution, resolution)
    margin = out[:, 1] - out[:, 0] if out.shape[1] == 2 else out[:, 0]

    fig = Figure(figsize=(15, 4.8))
    axes = fig.subplots(1, 3)
    extent = (lo[0], hi[0], lo[1], hi[1])
    ax = axes[0]
    if X is not None:
        Xp = np.asarray(X)
        yy = np.zeros(len(Xp)) if y is None else np.asarray(y)
        step = max(1, len(Xp) // 5000)
        ax.scatter(Xp[::step, 0], Xp[::step, 1], c=yy[::step], s=2, cmap="coolwarm", rasterized=True)
    ax.set_title("data" + (f" ({len(X)} points)" if X is not None else ""), fontsize=10)
    ax = axes[1]
    ax.imshow(region_img, origin="lower", extent=extent, cmap=cmap, interpolation="nearest", aspect="auto")
    ax.contour(G0, G1, margin.reshape(resolution, resolution), levels=[0.0], colors="k", linewidths=1.5)
    ax.set_title(f"{K} regions on the grid (black: decision boundary)", fontsize=10)
    ax = axes[2]
    ax.imshow(region_img, origin="lower", extent=extent, cmap=cmap, interpolation="nearest", aspect="auto", alpha=0.25)
    xs = np.array([lo[0], hi[0]])
    for k in range(K):
        colour = colours[k]
        if abs(w[k, 1]) > 1e-12 * max(1.0, abs(w[k, 0])):
            with np.errstate(over="ignore", invalid="ignore"):  # a line off a box of 1e300 is not drawn anyway
                line = -(b[k] + w[k, 0] * xs) / w[k, 1]
            ax.plot(xs, line, color=colour, lw=0.6, alpha=0.6)
        elif abs(w[k, 0]) > 0:
            ax.axvline(-b[k] / w[k, 0], color=colour, lw=0.6, alpha=0.6)
        inside = np.where(region_img == k, margin.reshape(resolution, resolution), np.nan)
        if np.nanmin(inside) < 0 < np.nanmax(inside):
            ax.contour(G0, G1, inside, levels=[0.0], colors=[colour], linewidths=2.5)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title("local decision boundaries (thick: inside own region)", fontsize=10)
    for a in axes:
        a.set_xlabel(net.feature_names[0])
        a.set_ylabel(net.feature_names[1])
    info: dict[str, Any] = {"grid_configurations": int(K), "grid_points": int(grid.shape[0])}
    if X is not None:
        dc, _ = configurations(net, X, pieces)
        info["data_configurations"] = int(np.unique(dc, axis=0).shape[0])
    layout(fig)
    return fig, info


def _tab20(i: int) -> np.ndarray:
    from matplotlib import colormaps

    return np.asarray(colormaps["tab20"](i % 20))


def _heat(ax: Any, img: np.ndarray, title: str) -> None:
    m = float(np.abs(img).max()) or 1.0
    im = ax.imshow(img, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -m, m), interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.02)


def image_features(
    interp: Interpretation,
    k: int,
    image_shape: Sequence[int],
    max_boundaries: int = 6,
    mean_image: np.ndarray | None = None,
) -> Figure:
    """Heatmaps of region k: decision features per output, the margin, and up to ``max_boundaries`` facets.

    Red = positive weight (raises the logit / lies on the outer side of the facet), blue = negative.
    """
    shape = tuple(int(s) for s in image_shape)
    if int(np.prod(shape)) != interp.net.n_inputs:
        raise DataError(f"image shape {shape} does not match {interp.net.n_inputs} inputs")
    names = [str(c) for c in (interp.net.class_names or interp.net.output_names)]
    panels: list[tuple[np.ndarray, str]] = []
    if mean_image is not None:
        panels.append((np.asarray(mean_image).reshape(shape), f"mean image of region {k}"))
    W = interp.weight[k]
    for o in range(W.shape[0]):
        label = names[o] if W.shape[0] == len(names) else interp.net.output_names[o]
        panels.append((W[o].reshape(shape), f"decision features: {label}"))
    if W.shape[0] == 2:
        panels.append(((W[1] - W[0]).reshape(shape), f"margin {names[1]} - {names[0]}"))
    G, labels = interp.boundary_features(k)
    for g, lab in list(zip(G, labels))[:max_boundaries]:
        panels.append((g.reshape(shape), f"boundary {lab}"))
    cols = min(4, len(panels))
    rows = int(np.ceil(len(panels) / cols))
    fig = Figure(figsize=(3.2 * cols, 3.0 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, (img, title) in zip(axes, panels):
        img2 = img if img.ndim == 2 else np.hstack(list(img))  # channels side by side
        if title.startswith("mean image"):
            ax.imshow(img2, cmap="gray_r")
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            _heat(ax, img2, title)
    for ax in axes[len(panels) :]:
        ax.axis("off")
    fig.suptitle(f"region {k}: {int(interp.counts[k])} instances, {len(labels)} non-redundant boundaries", fontsize=10)
    layout(fig)
    return fig


def tabular_features(interp: Interpretation, k: int, top: int = 12, scale: np.ndarray | None = None) -> Figure:
    """Bar chart of region k's decision features (margin row) and a heat table of its boundary features.

    ``scale`` (per feature, e.g. the standard deviation) multiplies the weights so that bars compare the
    effect of a typical change of each feature; the unit is stated on the axis.
    """
    names = interp.net.feature_names
    w, b = interp.margin(k)
    s = np.ones_like(w) if scale is None else np.asarray(scale, float)
    eff = w * s
    order = np.argsort(-np.abs(eff))[:top][::-1]
    G, labels = interp.boundary_features(k)
    fig = Figure(figsize=(12, max(3.5, 0.32 * top + 1.2)))
    axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    ax = axes[0]
    ax.barh(np.arange(order.size), eff[order], color=np.where(eff[order] > 0, "tab:red", "tab:blue"))
    ax.set_yticks(np.arange(order.size))
    ax.set_yticklabels([names[i] for i in order], fontsize=8)
    ax.axvline(0, color="k", lw=0.5)
    unit = "weight x feature std" if scale is not None else "weight"
    ax.set_xlabel(f"decision feature ({unit}); bias {b:+.3g}")
    ax.set_title(f"region {k}: {int(interp.counts[k])} instances, local {interp.margin_label(k)}", fontsize=9)
    ax = axes[1]
    if G.shape[0]:
        Gs = G[:, order] * s[order]
        m = float(np.abs(Gs).max()) or 1.0
        im = ax.imshow(Gs.T, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -m, m), aspect="auto", interpolation="nearest")
        ax.set_yticks(np.arange(order.size))
        ax.set_yticklabels([names[i] for i in order], fontsize=8)
        ax.set_xticks(np.arange(len(labels)))
        ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
        ax.set_title(f"{len(labels)} boundary features (facet normals, G x <= h)", fontsize=9)
    else:
        ax.axis("off")
        ax.set_title("no boundary inside the box", fontsize=9)
    layout(fig)
    return fig


def summary_frame(rows: list[dict[str, Any]]) -> Any:
    """The per-region summary as a pandas DataFrame (lists joined with spaces) for printing and CSV."""
    import pandas as pd

    flat = []
    for r in rows:
        d = dict(r)
        if isinstance(d.get("predicted"), dict):
            d["predicted"] = " ".join(f"{k}:{v}" for k, v in d["predicted"].items())
        if isinstance(d.get("boundaries"), list):
            d["boundaries"] = " ".join(d["boundaries"])
        flat.append(d)
    df = pd.DataFrame(flat)
    if "n_boundaries" in df:  # a count, blank where not computed (not 30.0 / NaN)
        df["n_boundaries"] = df["n_boundaries"].astype("Int64")
    return df
