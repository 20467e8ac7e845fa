"""Polytope LP analysis of networks with smooth activations (GELU, Tanh, Sigmoid; ReLU is relaxed too).

For an input x with true class y and radius eps, let B = [x - eps, x + eps] intersected with the domain
box. The encoder (:func:`mipnet.encode.encode_network`, ``relax=True``) writes the network over B as a
polytope P_eps(x): affine layers exactly, every smooth neuron h = f(z) by its sound envelope
(:mod:`mipnet.encode.envelopes`) and interval bounds computed from B,

    a_lo z + b_lo <= h <= a_hi z + b_hi,   f_min <= h <= f_max   (valid for every z in [L, U]),

and every unstable ReLU by its triangle relaxation. Every input of B with its true activations lies in
P_eps(x), so P_eps(x) over-approximates the network on B. The robust margin LPs are

    worst:  mu(x) = min_{j != y} min_{P_eps(x)} (z_y - z_j)     ("the LP classifies x correctly" iff mu > 0:
                                                               no point of the polytope prefers a rival;
                                                               a sound certificate of robustness on B)
    best:   nu(x) = max_{P_eps(x)} min_{j != y} (z_y - z_j)     (max t s.t. t <= z_y - z_j; nu >= the true
                                                               margin at x, so it never loses a correctly
                                                               classified x: the optimistic view)

The **constraint signature** at an optimum: which inputs sit at the upper or lower end of B, and for
every smooth neuron which envelope is tight (lower, upper, both) - read from the primal solution with
a tolerance. Signatures and the LP accuracy are aggregated per class by :func:`analyse`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from ..encode import encode_network, envelope, input_terms
from ..encode.properties import logit_terms
from ..errors import DataError, SolverError, UnsupportedError
from ..network import Network
from ..solve import solve

SENSES = ("worst", "best")
SMOOTH = ("GELU", "Tanh", "Sigmoid")
TIGHT = 1e-6


@dataclass
class PolytopeResult:
    """One LP analysis of one input at one eps."""

    label: int
    eps: float
    sense: str
    margin: float  # mu (worst) or nu (best)
    rival: int  # the rival attaining the worst margin (worst), or the binding rival (best)
    at_upper: np.ndarray  # (n_inputs,) bool
    at_lower: np.ndarray  # (n_inputs,) bool
    envelopes: list[np.ndarray] = field(default_factory=list)  # per smooth layer: 0 none, 1 lower, 2 upper, 3 both
    smooth_layers: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def correct(self) -> bool:
        return self.margin > 0


def _logits(t: Any) -> tuple[list[Any], int]:
    """The logits as a list (one logit l read as (0, l), :func:`logit_terms`) and their number."""
    z, _, _ = logit_terms(t)
    return z, len(z)


def polytope_lp(
    net: Network, x: np.ndarray, label: int, eps: float, sense: str = "worst", solver: str = "highs"
) -> PolytopeResult:
    """The robust margin LP of x (true class index ``label``) over the eps-ball, with its signature."""
    if sense not in SENSES:
        raise UnsupportedError(f"sense must be one of {', '.join(SENSES)}, got {sense!r}")
    if eps < 0:
        raise DataError(f"eps must be >= 0, got {eps}")
    x = np.asarray(x, dtype=np.float64).ravel()
    t0 = time.perf_counter()
    dom = net.domain
    lo = np.maximum(dom.lower, x - eps)
    hi = np.minimum(dom.upper, x + eps)
    model = pyo.ConcreteModel()
    inp = input_terms(model, dom, lo, hi, name="x")
    for v in inp.expr.ravel():
        v.domain = pyo.Reals  # the analysis is an LP: integrality of features is relaxed
    enc = encode_network(model, net, inp, relax=True)
    z, n_cls = _logits(enc.outputs)
    if not 0 <= label < n_cls:
        raise DataError(f"label index {label} out of range for {n_cls} classes")
    rivals = [j for j in range(n_cls) if j != label]
    best_val, best_j, sol = np.inf, rivals[0], None
    if sense == "worst":
        model.obj = pyo.Objective(expr=z[label] - z[rivals[0]])
        for j in rivals:
            model.obj.set_value(z[label] - z[j])
            r = solve(model, solver)
            if r.status != "optimal":
                raise SolverError(f"the margin LP against class {j} ended with status {r.status}")
            assert r.incumbent is not None  # status optimal
            if r.incumbent < best_val:
                best_val, best_j, sol = r.incumbent, j, _snapshot(enc)
        _restore(enc, sol)
    else:
        model.t = pyo.Var()
        model.margin = pyo.ConstraintList()
        for j in rivals:
            model.margin.add(model.t <= z[label] - z[j])
        model.obj = pyo.Objective(expr=model.t, sense=pyo.maximize)
        r = solve(model, solver)
        if r.status != "optimal":
            raise SolverError(f"the margin LP ended with status {r.status}")
        assert r.incumbent is not None  # status optimal
        best_val = r.incumbent
        zv = np.array([pyo.value(e) for e in z])
        best_j = rivals[int(np.argmin(zv[label] - zv[rivals]))]
    xv = enc.terms[0].values().ravel()
    width = hi - lo
    tol = TIGHT * (1 + np.abs(xv))
    at_upper = (width > tol) & (xv >= hi - tol)
    at_lower = (width > tol) & (xv <= lo + tol)
    envs, layers = [], []
    for i, layer in enumerate(net.layers):
        if layer.kind not in SMOOTH:
            continue
        zt, ht = enc.terms[i], enc.terms[i + 1]
        L, U = zt.lower.ravel(), zt.upper.ravel()
        a_lo, b_lo, a_hi, b_hi = envelope(layer.kind, L, U)
        zv, hv = zt.values().ravel(), ht.values().ravel()
        s = TIGHT * (1 + np.abs(hv))
        low = (hv - (a_lo * zv + b_lo)) <= s
        up = ((a_hi * zv + b_hi) - hv) <= s
        envs.append(low.astype(np.int8) + 2 * up.astype(np.int8))
        layers.append(i)
    return PolytopeResult(
        int(label),
        float(eps),
        sense,
        float(best_val),
        int(best_j),
        at_upper,
        at_lower,
        envs,
        layers,
        time.perf_counter() - t0,
    )


def _snapshot(enc: Any) -> list[np.ndarray]:
    return [t.values() for t in enc.terms]


def _restore(enc: Any, sol: list[np.ndarray] | None) -> None:
    """Load the stored optimum (of the worst rival) back into the variables, for the signature."""
    if sol is None:
        return
    for t, vals in zip(enc.terms, sol):
        for e, v in zip(t.expr.ravel(), vals.ravel()):
            if hasattr(e, "is_variable_type") and e.is_variable_type():
                e.set_value(float(v), skip_validation=True)


@dataclass
class PolytopeAnalysis:
    """Per-instance rows, per-class accuracy, and per-class mean signatures for each eps."""

    rows: pd.DataFrame  # instance, label, eps, sense, margin, rival, correct, n_upper, n_lower, seconds
    accuracy: pd.DataFrame  # class, eps, n, lp_accuracy
    upper: dict[tuple[int, float], np.ndarray]  # (class, eps) -> fraction of instances with input at upper
    lower: dict[tuple[int, float], np.ndarray]
    envelopes: dict[tuple[int, float], list[np.ndarray]]  # (class, eps) -> per layer (n, 3): none/lower/upper
    smooth_layers: list[int]
    class_names: list[str]


def analyse(
    net: Network,
    X: np.ndarray,
    y: Sequence[int] | np.ndarray,
    eps_values: Sequence[float],
    sense: str = "worst",
    solver: str = "highs",
) -> PolytopeAnalysis:
    """Run :func:`polytope_lp` for every row of X (true class indices y) and every eps; aggregate per class."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    y = np.asarray(y, dtype=int)
    if X.shape[0] != y.size:
        raise DataError(f"{X.shape[0]} rows but {y.size} labels")
    rows: list[dict[str, Any]] = []
    sig_u: dict[tuple[int, float], list[np.ndarray]] = {}
    sig_l: dict[tuple[int, float], list[np.ndarray]] = {}
    sig_e: dict[tuple[int, float], list[list[np.ndarray]]] = {}
    layers: list[int] = []
    dom = net.domain
    # exactly (a row 5e-8 outside passed a 1e-7 tolerance, then its eps-box met the domain nowhere); the LP
    # relaxes integrality: the box is what counts
    off = (X < dom.lower) | (X > dom.upper)
    outside = np.flatnonzero(off.any(axis=1))
    if outside.size:  # B would not contain the row: its "correct" would speak of other inputs (or B is empty)
        n = int(outside[0])
        i = int(np.flatnonzero(off[n])[0])
        raise DataError(
            f"row {n} lies outside the model's input domain (feature {dom.names[i]!r} = {float(X[n, i])!r} is "
            f"outside [{float(dom.lower[i])!r}, {float(dom.upper[i])!r}]; {outside.size} rows): the analysis is "
            "over the eps-box intersected with the domain, which must contain the row"
        )
    for eps in eps_values:
        for n in range(X.shape[0]):
            r = polytope_lp(net, X[n], int(y[n]), float(eps), sense, solver)
            layers = r.smooth_layers
            key = (int(y[n]), float(eps))
            sig_u.setdefault(key, []).append(r.at_upper)
            sig_l.setdefault(key, []).append(r.at_lower)
            sig_e.setdefault(key, []).append(r.envelopes)
            rows.append(
                {
                    "instance": n,
                    "label": int(y[n]),
                    "eps": float(eps),
                    "sense": sense,
                    "margin": r.margin,
                    "rival": r.rival,
                    "correct": r.correct,
                    "n_upper": int(r.at_upper.sum()),
                    "n_lower": int(r.at_lower.sum()),
                    "seconds": r.seconds,
                }
            )
    df = pd.DataFrame(rows)
    acc = (
        df.groupby(["label", "eps"])
        .agg(n=("correct", "size"), lp_accuracy=("correct", "mean"))
        .reset_index()
        .rename(columns={"label": "class"})
    )
    upper = {k: np.mean(v, axis=0) for k, v in sig_u.items()}
    lower = {k: np.mean(v, axis=0) for k, v in sig_l.items()}
    envs = {}
    for k, v in sig_e.items():
        per_layer = []
        for li in range(len(layers)):
            codes = np.stack([e[li] for e in v])  # (instances, neurons)
            per_layer.append(
                np.stack(
                    [np.mean(codes == 0, axis=0), np.mean((codes & 1) > 0, axis=0), np.mean((codes & 2) > 0, axis=0)],
                    axis=1,
                )
            )
        envs[k] = per_layer
    assert net.class_names is not None  # the margin LPs need a classifier
    return PolytopeAnalysis(df, acc, upper, lower, envs, layers, [str(c) for c in net.class_names])


# ---------------------------------------------------------------------------------------------- figures
def _image_shape(net: Network) -> tuple[int, int] | None:
    if len(net.input_shape) == 3 and net.input_shape[0] == 1:
        return net.input_shape[1], net.input_shape[2]
    side = int(round(np.sqrt(net.n_inputs)))
    return (side, side) if side * side == net.n_inputs else None


def signature_heatmaps(an: PolytopeAnalysis, net: Network, eps: float) -> Any:
    """Figure: per class, the fraction of its instances with each input at the upper (top row) and lower
    (bottom row) end of the eps-box at the LP optimum."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = sorted({c for c, e in an.upper if e == float(eps)})
    shape = _image_shape(net)
    fig, axes = plt.subplots(2, len(classes), figsize=(1.6 * len(classes) + 1, 3.6), squeeze=False)
    for col, c in enumerate(classes):
        for row, (name, sig) in enumerate((("upper", an.upper), ("lower", an.lower))):
            ax = axes[row, col]
            v = sig[(c, float(eps))]
            img = v.reshape(shape) if shape else v[None, :]
            im = ax.imshow(
                img, vmin=0, vmax=1, cmap="Reds" if row == 0 else "Blues", aspect="auto" if not shape else None
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(an.class_names[c], fontsize=9)
            if col == 0:
                ax.set_ylabel(f"at {name}", fontsize=9)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.6, label="fraction of instances")
    fig.suptitle(f"constraint signature: inputs at the ends of the eps-box (eps={eps:g})", fontsize=10)
    return fig


def envelope_bars(an: PolytopeAnalysis, eps: float) -> Any:
    """Figure: per smooth layer and neuron, the fraction of each class's instances whose lower / upper
    envelope is tight at the LP optimum (grouped bars, one group per neuron)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..explain.figures import layout

    classes = sorted({c for c, e in an.envelopes if e == float(eps)})
    n_layers = len(an.smooth_layers)
    if n_layers == 0:
        raise UnsupportedError("the network has no smooth activation layer: no envelopes to draw")
    fig, axes = plt.subplots(n_layers, 2, figsize=(11, 2.6 * n_layers), squeeze=False)
    cmap = plt.get_cmap("tab10")
    for li in range(n_layers):
        for side, col in ((1, 0), (2, 1)):
            ax = axes[li, col]
            n_neurons = an.envelopes[(classes[0], float(eps))][li].shape[0]
            w = 0.8 / len(classes)
            for t, c in enumerate(classes):
                vals = an.envelopes[(c, float(eps))][li][:, side]
                ax.bar(np.arange(n_neurons) + t * w - 0.4 + w / 2, vals, w, color=cmap(t % 10), label=an.class_names[c])
            ax.set_ylim(0, 1)
            ax.set_xticks(np.arange(n_neurons))
            ax.set_xlabel(f"neuron of layer {an.smooth_layers[li]}")
            ax.set_title(f"{'lower' if side == 1 else 'upper'} envelope tight", fontsize=9)
    axes[0, 1].legend(fontsize=7, ncol=2, loc="upper right")
    fig.suptitle(f"active envelopes per neuron and class (eps={eps:g})", fontsize=10)
    layout(fig)
    return fig


def accuracy_plot(an: PolytopeAnalysis) -> Any:
    """Figure: per class, the fraction of instances the LP still classifies correctly against eps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..explain.figures import layout

    fig, ax = plt.subplots(figsize=(6, 4))
    cmap = plt.get_cmap("tab10")
    for t, (c, g) in enumerate(an.accuracy.groupby("class")):
        ax.plot(g["eps"], g["lp_accuracy"], marker="o", color=cmap(t % 10), label=an.class_names[int(c)])
    overall = an.rows.groupby("eps")["correct"].mean()
    ax.plot(overall.index, overall.values, "k--", lw=2, label="all")
    ax.set_xlabel("eps (L-inf radius)")
    ax.set_ylabel("LP accuracy (margin > 0)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    layout(fig)
    return fig


def to_png(fig: Any) -> bytes:
    import io

    import matplotlib.pyplot as plt

    from ..explain.figures import plain_text

    buf = io.BytesIO()
    plain_text(fig).savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
