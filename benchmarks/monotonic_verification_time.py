"""Global monotonicity verification time against hidden width, 2-layer COMPAS nets, HiGHS.

For each width H in 10..100 a 13-H-1 ReLU net is trained with the monotonicity regulariser
(coefficient 1000, margin 0.2: nearly or fully monotone, the hard case where "holds" must be proved)
and certified in its 4 monotone features three ways, in the same run:

* exact     : LP-tightened bounds, sampled pattern-gradient pre-check, early stop at the first
              negative slope and the objective cut-off -tol (mipnet's default);
* blockwise : the seed's block-wise test (one block for a 2-layer net) with the same cut-off;
* plain     : interval bounds only, the whole network encoded, no pre-check, no early stop, no
              cut-off: solve min df/dx_l to optimality.
* continuous: the seed paper's setting: the same exact check with the integer counts relaxed to
              continuous features (slope test only, no lattice step), mipnet's default options.
* two-copy  : exact, but the lattice step decided by the general two-copy model (two forward
              encodings sharing x, difference cuts) instead of the one-hidden-layer ramp model.

Time per feature (seconds, time limit 60 s) and verdicts go to results/monotonic/verification_time.csv,
the figure to verification_time.png. Target (paper, Gurobi on 48 cores): under 4 s at H = 100.

    python benchmarks/monotonic_verification_time.py      (about 20 min)
"""

from __future__ import annotations

import time
from pathlib import Path
from unittest import mock

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mipnet.datasets import load_compas  # noqa: E402
from mipnet.domain import Domain  # noqa: E402
from mipnet.train.monotone import fit_torch  # noqa: E402
from mipnet.verify.monotonic import verify_global  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "results" / "monotonic"
WIDTHS = (10, 20, 40, 60, 80, 100)
TL = 60.0
METHODS = {
    "exact": dict(mode="exact"),
    "blockwise": dict(mode="blockwise"),
    "plain": dict(mode="exact", bounds_method="interval", early_stop=False, presample=0),
    "continuous": dict(mode="exact"),
    "two-copy": dict(mode="exact"),
}


def relaxed(net):
    """The same net on the domain with every integer feature continuous (one-hot groups kept)."""
    d = net.domain
    out = net.copy()
    out.domain = Domain(
        list(d.names),
        d.lower.copy(),
        d.upper.copy(),
        np.zeros(len(d.names), dtype=bool),
        [list(g) for g in d.onehot_groups],
    )
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    ds = load_compas()
    tr, _ = ds.train_test_split(0.2, random_state=0)
    X, _ = tr.X_numeric()
    y = tr.y.to_numpy()
    mono = ds.monotone_increasing
    idx = [ds.domain.index(f) for f in mono]
    rows = []
    for H in WIDTHS:
        net, _ = fit_torch(
            X,
            y,
            domain=ds.domain,
            hidden=(H,),
            epochs=40,
            seed=H,
            monotone=[(i, 1) for i in idx],
            penalty=1000.0,
            margin=0.2,
            reg_batch=2048,
        )
        for method, kw in METHODS.items():
            t0 = time.perf_counter()
            target = relaxed(net) if method == "continuous" else net
            # two-copy: no net is seen as one hidden layer, so the lattice step takes the general model
            with (
                mock.patch("mipnet.verify.monotonic.shallow_form", return_value=None)
                if method == "two-copy"
                else mock.patch.dict({})
            ):
                rep = verify_global(target, increasing=mono, time_limit=TL, **kw)
            total = time.perf_counter() - t0
            for f in rep.features:
                rows.append(
                    {
                        "hidden": H,
                        "method": method,
                        "feature": f.feature,
                        "status": f.status,
                        "how": f.how,
                        "time_s": f.solve_time + rep.build_time / len(rep.features),
                        "min_slope": f.min_derivative,
                        "bound": f.bound,
                        "build_s": rep.build_time,
                        "binaries": rep.n_binaries,
                        "total_s": total,
                    }
                )
            print(H, method, [(f.status, round(f.solve_time, 2)) for f in rep.features], round(total, 2))
        pd.DataFrame(rows).to_csv(OUT / "verification_time.csv", index=False)
    df = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for method, style in zip(METHODS, ("o-", "s--", "^:", "d-.", "x-")):
        g = df[df.method == method].groupby("hidden")["time_s"]
        ax.plot(g.mean().index, g.mean().values, style, label=f"{method} (mean)")
        ax.fill_between(g.min().index, g.min().values, g.max().values, alpha=0.15)
    ax.axhline(4.0, color="k", lw=0.8, ls="--")
    ax.text(WIDTHS[0], 4.2, "target 4 s", fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("hidden neurons")
    ax.set_ylabel("seconds per feature (HiGHS, 2 cores)")
    ax.set_title("COMPAS global monotonicity, 4 features")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "verification_time.png", dpi=120)
    print(df.groupby(["hidden", "method"])["time_s"].agg(["mean", "max"]))


if __name__ == "__main__":
    main()
