"""The Figure 1 effect of "Certified Monotonic Neural Networks": monotone on every 1-D slice through a
point, yet not individually monotone there.

1. A 2-input ReLU net on [0, 1]^2 (written by hand, 3 Dense layers): f = 0.1 (x1 + x2) + 2 bump(x),
   bump = ReLU(1 - 2|x1 - 0.5| - 2|x2 - 0.5|) (|u| = ReLU(u) + ReLU(-u)). Through x0 = (1, 1) both
   axis slices are increasing, but the individual check (max f(x') over x' <= x0) finds x' = (0.5, 0.5)
   with a much larger output; the global check refutes monotonicity in both features.
2. COMPAS, an unconstrained 13-100-1 net: on test points, individual monotonicity in each of the 4
   count features alone (a 1-D slice each) against all 4 jointly; points where every slice passes but
   the joint check finds a counterexample are counted, and one is plotted.

    python experiments/monotonic_slices.py      (about 2 min)

Writes results/monotonic/slices_synthetic.png, slices_compas.png, slices.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mipnet.datasets import load_compas  # noqa: E402
from mipnet.domain import Domain  # noqa: E402
from mipnet.layers import Dense, ReLU  # noqa: E402
from mipnet.network import Network  # noqa: E402
from mipnet.train.monotone import fit_torch  # noqa: E402
from mipnet.verify.monotonic import verify_global, verify_individual  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "results" / "monotonic"


def bump_net() -> Network:
    W1 = np.array([[1, 0], [-1, 0], [0, 1], [0, -1], [1, 0], [0, 1]], float)
    b1 = np.array([-0.5, 0.5, -0.5, 0.5, 0, 0])
    W2 = np.array([[-2, -2, -2, -2, 0, 0], [0, 0, 0, 0, 0.1, 0.1]], float)
    b2 = np.array([1.0, 0.0])
    W3 = np.array([[2.0, 1.0]])
    layers = [Dense(W1, b1), ReLU(), Dense(W2, b2), ReLU(), Dense(W3, np.zeros(1))]
    return Network(layers, Domain.box(["x1", "x2"], 0.0, 1.0), task="regress")


def synthetic() -> dict:
    net = bump_net()
    x0 = np.array([1.0, 1.0])
    ind = verify_individual(net, x0[None], increasing=["x1", "x2"])
    p = ind.points[0]
    glob = verify_global(net, increasing=["x1", "x2"])
    t = np.linspace(0, 1, 201)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    g = np.linspace(0, 1, 201)
    G1, G2 = np.meshgrid(g, g)
    F = net.forward(np.column_stack([G1.ravel(), G2.ravel()]))[:, 0].reshape(G1.shape)
    im = axes[0].contourf(G1, G2, F, 30, cmap="viridis")
    fig.colorbar(im, ax=axes[0])
    axes[0].plot([0, 1], [1, 1], "w-", lw=2, label="slices through x0")
    axes[0].plot([1, 1], [0, 1], "w-", lw=2)
    xp = np.asarray(p.x_prime)
    axes[0].plot([x0[0], xp[0]], [x0[1], xp[1]], "r--", lw=2, label="counterexample direction")
    axes[0].plot(*x0, "wo")
    axes[0].plot(*xp, "r*", ms=12)
    axes[0].set(xlabel="x1", ylabel="x2", title="f on [0,1]^2")
    axes[0].legend(fontsize=7, loc="lower left")
    axes[1].plot(t, net.forward(np.column_stack([t, np.ones_like(t)]))[:, 0], label="f(t, 1)")
    axes[1].plot(t, net.forward(np.column_stack([np.ones_like(t), t]))[:, 0], "--", label="f(1, t)")
    axes[1].set(xlabel="t", ylabel="f", title="1-D slices through x0 = (1, 1): increasing")
    axes[1].legend(fontsize=8)
    line = x0[None] + t[:, None] * (xp - x0)[None]
    axes[2].plot(t, net.forward(line)[:, 0], "r")
    axes[2].axhline(p.f_x, color="k", lw=0.8, ls=":")
    axes[2].set(
        xlabel="s (x0 + s (x' - x0))", ylabel="f", title=f"counterexample: f(x') = {p.f_best:.2f} > f(x0) = {p.f_x:.2f}"
    )
    fig.tight_layout()
    fig.savefig(OUT / "slices_synthetic.png", dpi=120)
    return {"x0": x0.tolist(), "individual": ind.to_dict()["points"][0], "global": glob.to_dict()}


def compas(n_points: int = 400) -> dict:
    ds = load_compas()
    tr, te = ds.train_test_split(0.2, random_state=0)
    X, _ = tr.X_numeric()
    net, _ = fit_torch(X, tr.y.to_numpy(), domain=ds.domain, hidden=(100,), epochs=40, seed=0)
    Xt, _ = te.X_numeric()
    Xt = Xt[np.random.default_rng(0).choice(len(Xt), n_points, replace=False)]
    mono = ds.monotone_increasing
    single = {f: verify_individual(net, Xt, increasing=[f], time_limit=10) for f in mono}
    joint = verify_individual(net, Xt, increasing=mono, time_limit=10)
    slice_ok = np.all([[p.status == "holds" for p in single[f].points] for f in mono], axis=0)
    joint_bad = np.array([p.status == "counterexample" for p in joint.points])
    effect = np.flatnonzero(slice_ok & joint_bad)
    out = {
        "n_points": n_points,
        "joint_fraction": joint.fraction_counterexamples,
        "single_fraction": {f: single[f].fraction_counterexamples for f in mono},
        "slices_pass_joint_fails": int(effect.size),
    }
    if effect.size:
        k = int(effect[np.argmax([joint.points[i].gain for i in effect])])
        x, xp = Xt[k], np.asarray(joint.points[k].x_prime)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        for f in mono:
            i = ds.domain.index(f)
            ks = np.arange(0, x[i] + 1)
            Z = np.repeat(x[None], ks.size, axis=0)
            Z[:, i] = ks
            axes[0].plot(ks, net.forward(Z)[:, 0], "o-", ms=3, label=f)
        axes[0].set(
            xlabel="feature value (others at x)", ylabel="logit", title="slices through x, each feature lowered alone"
        )
        axes[0].legend(fontsize=7)
        s = np.linspace(0, 1, 101)
        axes[1].plot(s, net.forward(x[None] + s[:, None] * (xp - x)[None])[:, 0], "r")
        axes[1].axhline(joint.points[k].f_x, color="k", lw=0.8, ls=":")
        change = {f: (float(x[ds.domain.index(f)]), float(xp[ds.domain.index(f)])) for f in mono}
        axes[1].set(
            xlabel="s (x + s (x' - x))",
            ylabel="logit",
            title="joint counterexample: "
            + ", ".join(f"{f[:8]} {a:g}->{b:g}" for f, (a, b) in change.items() if a != b),
        )
        axes[1].title.set_fontsize(8)
        fig.tight_layout()
        fig.savefig(OUT / "slices_compas.png", dpi=120)
        out["example"] = {
            "x": x.tolist(),
            "x_prime": xp.tolist(),
            "f_x": joint.points[k].f_x,
            "f_x_prime": joint.points[k].f_best,
        }
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    res = {"synthetic": synthetic(), "compas": compas()}
    (OUT / "slices.json").write_text(json.dumps(res, indent=1, default=str))
    print(
        json.dumps(
            {
                "synthetic_counterexample": res["synthetic"]["individual"],
                "synthetic_global": res["synthetic"]["global"]["status"],
                "compas": {k: v for k, v in res["compas"].items() if k != "example"},
            },
            indent=1,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
