"""Every command's time limit, measured from the outside: limit vs wall-clock time of the whole process.

The promise (:mod:`mipnet.deadline`): a command with time limit T ends within T * 1.1 + 5 s; a limit stated per
unit (verify robustness: per sample, verify monotonic: per feature, audit: per
problem) promises T x units. Each command runs as a subprocess (``python -m mipnet.cli`` or the ``mipnet``
script: the wall time includes Python's start-up and the imports) on an instance that hits its limit: the
instances of the issue that reported the overshoots (sign patterns at N = 300, monotone rounds, resilience of a
30-64-64-64-1 net, training on 1000-3000 rows) and one hard instance per other command.

    python benchmarks/time_limits.py [--quick] [--only train_sign_patterns,verify_resilience]

Writes ``results/time_limits.csv`` (one row per run: command, instance, limit, units, promised, wall,
overshoot, within) and ``results/time_limits.md`` (the same as a table, with the issue's "before" figures).
"""

from __future__ import annotations

import argparse
import csv
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mipnet.datasets import load

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import twin_of  # noqa: E402  (the twin-net builder the tests use too)

from mipnet.deadline import OVERSHOOT_SECONDS, OVERSHOOT_SHARE, promised
from mipnet.domain import Domain
from mipnet.io import save_model
from mipnet.layers import Dense, ReLU
from mipnet.network import Network

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results"

#: wall times the issue reported before the change (same command and limit)
BEFORE = {
    "verify_robustness_wide": "14.4 s",
    "verify_resilience_wide": "24.6 s",
    "train_sign_patterns": "82 s",
    "train_monotone": "313 s",
    "verify_resilience": "275 s",
    "train_german_1000": "175-390 s at 120 s (1000-3000 rows)",
    "train_compas_3000": "175-390 s at 120 s (1000-3000 rows)",
    "train_logistic_linear_3000": "71-86 s at 60 s (a warm-start LP's own 30 s limit, not the deadline's)",
}


def mipnet_command() -> list[str]:
    if (ROOT / "mipnet" / "cli" / "__main__.py").exists():
        return [sys.executable, "-m", "mipnet.cli"]
    script = Path(sys.executable).with_name("mipnet")
    return [str(script)] if script.exists() else [shutil.which("mipnet") or "mipnet"]


def dense_net(sizes: list[int], seed: int) -> Network:
    """Dense ReLU classifier over [-1, 1]^n with N(0, 1/fan_in) weights (as tests/helpers.py)."""
    rng = np.random.default_rng(seed)
    layers: list = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(rng.normal(0.0, 1.0 / np.sqrt(a), size=(b, a)), rng.normal(0.0, 0.1, size=b)))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Network(layers, domain=Domain.box(sizes[0], -1.0, 1.0))


def twin_net(n_in: int = 20, width: int = 32, depth: int = 3, seed: int = 0) -> Network:
    """h(x) - h(x) + 2 x0 (tests/helpers.py ``twin_of``): monotone in x0, but only a MILP can prove it."""
    return twin_of(dense_net([n_in] + [width] * depth + [1], seed))


def _random_mlp_files(rng: np.random.Generator, sizes: list[int], n_rows: int, d: Path, stem: str, f: dict) -> None:
    """A random ReLU net of layer ``sizes`` over [0, 1]^sizes[0] (weights scaled by 1/sqrt(fan-in)) and ``n_rows``
    rows drawn after its weights, labelled by it: ``f[stem]`` (d/STEM.json) and ``f[stem + "_data"]`` (d/STEM.csv)."""
    layers: list = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(rng.normal(size=(b, a)) / np.sqrt(a), rng.normal(size=b) * 0.1))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    n = sizes[0]
    net = Network(layers, domain=Domain([f"x{i}" for i in range(n)], [0.0] * n, [1.0] * n))
    f[stem] = d / f"{stem}.json"
    save_model(net, f[stem])
    X = rng.uniform(0, 1, size=(n_rows, n))
    data = pd.DataFrame(X, columns=net.domain.names)
    data["label"] = net.predict(X)
    f[stem + "_data"] = d / f"{stem}.csv"
    data.to_csv(f[stem + "_data"], index=False)


def instances(d: Path) -> dict[str, Path]:
    f: dict[str, Path] = {}
    for name in ("breast_cancer", "german", "compas", "adult"):
        data = load(name)
        X, names = data.X_numeric()
        df = pd.DataFrame(X, columns=names)
        df["target"] = data.y.to_numpy()
        f[name] = d / f"{name}.csv"
        df.to_csv(f[name], index=False)
    deep = dense_net([30, 64, 64, 64, 1], 0)
    f["deep"] = d / "deep.json"
    save_model(deep, f["deep"])
    X = np.random.default_rng(1).uniform(-1, 1, (3000, 30))
    z = deep.forward(X)[:, 0]
    order = np.argsort(-np.abs(z))[:20]
    df = pd.DataFrame(X[order], columns=deep.domain.names)
    df["label"] = deep.predict(X[order])
    f["deep_data"] = d / "deep.csv"
    df.to_csv(f["deep_data"], index=False)
    df.iloc[:5].to_csv(d / "deep5.csv", index=False)
    f["deep5"] = d / "deep5.csv"
    x = X[order[0]]
    lines = [f"(declare-const X_{i} Real)" for i in range(30)] + ["(declare-const Y_0 Real)"]
    for i, v in enumerate(x):
        lines += [f"(assert (>= X_{i} {max(-1.0, v - 0.15):.6f}))", f"(assert (<= X_{i} {min(1.0, v + 0.15):.6f}))"]
    lines.append("(assert (>= Y_0 0.0))" if z[order[0]] < 0 else "(assert (<= Y_0 0.0))")
    f["prop"] = d / "prop.vnnlib"
    f["prop"].write_text("\n".join(lines) + "\n")
    f["twin"] = d / "twin.json"
    save_model(twin_net(), f["twin"])
    # 2 M weights over [0, 1]^100 (its builds take seconds), and two rows drawn after the weights (the attacker's)
    rng = np.random.default_rng(1)
    _random_mlp_files(rng, [100, 800, 800, 800, 800, 10], 2, d, "wide", f)
    # 60 inputs, 8 hidden layers of 60 (29 k weights): its audit page's diagram took 13 s of CPU after the deadline
    _random_mlp_files(rng, [60] + [60] * 8 + [2], 20, d, "deep", f)
    # 50 rows of 6 features for a 5000-unit hidden layer (the class model that maps its warm start is the build)
    Xt = rng.normal(size=(50, 6))
    dt = pd.DataFrame(Xt, columns=[f"f{i}" for i in range(6)])
    dt["y"] = (Xt[:, 0] + Xt[:, 1] > 0).astype(int)
    f["wide_train"] = d / "wide_train.csv"
    dt.to_csv(f["wide_train"], index=False)
    f["adult"] = d / "adult.csv"  # as a user gets it: `mipnet datasets adult -o FILE` (target column "income")
    load("adult").frame.to_csv(f["adult"], index=False)
    f["fashion"] = d / "fashion.csv"  # as a user gets it: `mipnet datasets NAME -o FILE` (target column "label")
    load("fashion_coat_vs_pullover").numeric_frame().to_csv(f["fashion"], index=False)
    # 50 000 rows for a 10-60x3-3 net: the audit page's exact explanation ran over every row past the deadline
    _random_mlp_files(np.random.default_rng(2), [10, 60, 60, 60, 3], 50_000, d, "rows50k", f)
    # 20 images of 10 x 10 (pixels in [0, 1], a label by the mean brightness): one conv sample takes 1-2 s to encode
    rng_img = np.random.default_rng(3)
    img = rng_img.uniform(0, 1, size=(20, 100))
    di = pd.DataFrame(img, columns=[f"p{i}" for i in range(100)])
    di["t"] = (img.mean(axis=1) > 0.5).astype(int)
    f["images"] = d / "images.csv"
    di.to_csv(f["images"], index=False)
    # a 100-500x10-10 net (2.5 M weights): the first CROWN pass of a robustness row took seconds past its limit
    _random_mlp_files(np.random.default_rng(4), [100] + [500] * 10 + [10], 1, d, "deep10", f)
    # digits (64 integer pixels) and a random 64-32-16-10 net, 40 monotone features: one audit problem each
    digits = load("digits")
    Xd, names_d = digits.X_numeric()
    rng_d = np.random.default_rng(0)
    mu, sd = Xd.mean(axis=0), Xd.std(axis=0) + 1e-9
    W0 = rng_d.normal(size=(32, 64)) / 8 / sd
    dig = Network(
        [Dense(W0, -W0 @ mu), ReLU(), Dense(rng_d.normal(size=(16, 32)) / 5.6, np.zeros(16)), ReLU(),
         Dense(rng_d.normal(size=(10, 16)) / 4, np.zeros(10))],
        domain=Domain(names_d, Xd.min(axis=0), np.maximum(Xd.max(axis=0), Xd.min(axis=0) + 1), np.ones(64, bool)),
        class_names=[str(k) for k in range(10)],
    )  # fmt: skip
    f["digits_net"] = d / "digits_net.json"
    save_model(dig, f["digits_net"])
    dd = pd.DataFrame(Xd, columns=names_d)
    dd["digit"] = [str(int(v)) for v in digits.y.to_numpy()]
    f["digits"] = d / "digits.csv"
    dd.to_csv(f["digits"], index=False)
    f["digits_features"] = Path(",".join(names_d[:40]))  # (an argument, not a file)
    return f


def runs(f: dict[str, Path], d: Path, quick: bool) -> list[tuple[str, str, list[str], float, int]]:
    """(key, instance, arguments, limit, units)."""
    s = 0.5 if quick else 1.0
    t = "--time-limit"
    out = [
        (
            "train_plain",
            "breast cancer, N = 300, 4 hidden",
            [
                "train",
                f["breast_cancer"],
                "--target",
                "target",
                "--hidden",
                "4",
                "--samples",
                "300",
                t,
                10 * s,
                "-o",
                d / "m1.json",
            ],
            10 * s,
            1,
        ),
        (
            "train_sign_patterns",
            "breast cancer, N = 300, 4 hidden (15 patterns)",
            [
                "train",
                f["breast_cancer"],
                "--target",
                "target",
                "--hidden",
                "4",
                "--samples",
                "300",
                "--sign-patterns",
                t,
                20 * s,
                "-o",
                d / "m2.json",
            ],
            20 * s,
            1,
        ),
        (
            "train_l1_cv",
            "breast cancer, N = 300, 3 hidden, 10 candidates",
            [
                "train",
                f["breast_cancer"],
                "--target",
                "target",
                "--hidden",
                "3",
                "--samples",
                "300",
                "--l1",
                "cv",
                t,
                10 * s,
                "-o",
                d / "m3.json",
            ],
            10 * s,
            1,
        ),
        (
            "train_monotone",
            "COMPAS, N = 300, 4 hidden, age increasing, priors_count decreasing",
            [
                "train",
                f["compas"],
                "--target",
                "target",
                "--hidden",
                "4",
                "--samples",
                "300",
                "--monotone-increasing",
                "age",
                "--monotone-decreasing",
                "priors_count",
                t,
                20 * s,
                "-o",
                d / "m4.json",
            ],
            20 * s,
            1,
        ),
        (
            "train_monotone_gradient",
            "COMPAS, N = 300, 4 hidden, age increasing, gradient method, 1 s (torch start-up inside the limit)",
            [
                "train",
                f["compas"],
                "--target",
                "target",
                "--hidden",
                "4",
                "--samples",
                "300",
                "--monotone-increasing",
                "age",
                "--monotone-method",
                "gradient",
                t,
                1,
                "-o",
                d / "m4g.json",
            ],
            1,
            1,
        ),
        (
            "train_german_1000",
            "German credit, all 1000 rows, 3 hidden",
            ["train", f["german"], "--target", "target", t, 30 * s, "-o", d / "m5.json"],
            30 * s,
            1,
        ),
        (
            "train_compas_3000",
            "COMPAS, N = 3000, 4 hidden",
            [
                "train",
                f["compas"],
                "--target",
                "target",
                "--hidden",
                "4",
                "--samples",
                "3000",
                t,
                60 * s,
                "-o",
                d / "m6.json",
            ],
            60 * s,
            1,
        ),
        (
            "train_logistic_linear_3000",
            "Adult, N = 3000, logistic loss, linear term + 1 hidden unit",
            [
                "train",
                f["adult"],
                "--target",
                "target",
                "--hidden",
                "1",
                "--linear",
                "--loss",
                "logistic",
                "--samples",
                "3000",
                t,
                60 * s,
                "-o",
                d / "m8.json",
            ],  # fmt: skip
            60 * s,
            1,
        ),
        (
            "train_too_large",
            "COMPAS, N = 3000, 4 hidden, 5 s: not buildable in time",
            [
                "train",
                f["compas"],
                "--target",
                "target",
                "--hidden",
                "4",
                "--samples",
                "3000",
                t,
                5,
                "-o",
                d / "m7.json",
            ],
            5,
            1,
        ),
        (
            "verify_robustness",
            "30-64-64-64-1 net, 5 rows, L-inf eps 0.1 (per sample)",
            ["verify", "robustness", f["deep"], f["deep5"], "--eps", "0.1", t, 3],
            3,
            5,
        ),
        (
            "verify_monotonic",
            "twin net 20-65-65-65-1, x0 (per feature)",
            ["verify", "monotonic", f["twin"], "--increasing", "x0", t, 10 * s],
            10 * s,
            1,
        ),
        (
            "verify_resilience",
            "30-64-64-64-1 net, 2 classes (one limit for both)",
            ["verify", "resilience", f["deep"], t, 10 * s],
            10 * s,
            1,
        ),
        (
            "verify_vnnlib",
            "30-64-64-64-1 net, box +-0.15, other class (--timeout)",
            ["verify", "vnnlib", f["deep"], f["prop"], "--timeout", 10 * s],
            10 * s,
            1,
        ),
        (
            "audit",
            "30-64-64-64-1 net, 2 robustness rows + 1 monotone feature (per problem)",
            [
                "audit",
                f["deep"],
                f["deep_data"],
                "--target",
                "label",
                "-o",
                d / "a.html",
                "--eps",
                "0.1",
                "--rows",
                "2",
                "--monotone-increasing",
                "x0",
                t,
                5,
                "--workers",
                "0",
            ],
            5,
            3,
        ),
        (
            "train_fashion_gradient",
            "Fashion-MNIST coat vs pullover, 14000 rows x 784, 8 hidden (the gradient warm start)",
            ["train", f["fashion"], "--target", "label", "--hidden", "8", t, 2, "-o", d / "f.json"],
            2,
            1,
        ),
        (
            "verify_robustness_wide",
            "100-800x4-10 net (2 M weights), 2 rows, L-inf eps 0.01 (per sample)",
            ["verify", "robustness", f["wide"], f["wide_data"], "--eps", "0.01", t, 1],
            1,
            2,
        ),
        (
            "train_adult_cv",
            "full Adult (45 222 rows, 86 encoded features), 2 hidden, --l1 cv (whole fit)",
            ["train", f["adult"], "--target", "income", "--hidden", "2", "--l1", "cv", t, 20, "-o", d / "ad.json"],
            20,
            1,
        ),
        (
            "train_wide",
            "50 rows x 6 features, one hidden layer of 5000 units (whole fit)",
            ["train", f["wide_train"], "--target", "y", "--hidden", "5000", t, 3, "-o", d / "wt.json"],
            3,
            1,
        ),
        (
            "audit_wide",
            "100-800x4-10 net (2 M weights), 2 robustness rows, L-inf eps 0.01 (per problem)",
            [
                "audit",
                f["wide"],
                f["wide_data"],
                "--target",
                "label",
                "-o",
                d / "wide.html",
                "--eps",
                "0.01",
                "--rows",
                "2",
                t,
                1,
                "--workers",
                "0",
            ],
            1,
            2,
        ),
        (
            "audit_deep",
            "60 inputs, 8 hidden layers of 60 (29 k weights), 1 robustness row (per problem; the page's diagram)",
            ["audit", f["deep"], f["deep_data"], "--target", "label", "-o", d / "deep.html", "--eps", "0.00001"]
            + ["--rows", "1", t, 1, "--workers", "0"],
            1,
            1,
        ),
        (
            "audit_rows",
            "10-60x3-3 net, 50 000 rows, 1 robustness row (per problem; the page's exact explanation over the rows)",
            ["audit", f["rows50k"], f["rows50k_data"], "--target", "label", "-o", d / "rows50k.html", "--eps", "0.01"]
            + ["--rows", "1", t, 1, "--workers", "0"],
            1,
            1,
        ),
        (
            "train_conv",
            "conv4x3-dense8 on 20 images of 10 x 10 (whole command; the model build: 1-2 s per image)",
            ["train", f["images"], "--target", "t", "--input-shape", "1,10,10", "--architecture", "conv4x3-dense8"]
            + [t, 1, "-o", d / "conv.json"],
            1,
            1,
        ),
        (
            "verify_robustness_deep10",
            "100-500x10-10 net (2.5 M weights), 1 row (per row; the first CROWN pass)",
            ["verify", "robustness", f["deep10"], f["deep10_data"], "--eps", "0.05", t, 0.5],
            0.5,
            1,
        ),
        (
            "audit_features",
            "digits, 64-32-16-10 net, 40 monotone features (per problem; serial; the score-profile figures)",
            ["audit", f["digits_net"], f["digits"], "--target", "digit", "-o", d / "digits.html", "--output-name", "3"]
            + ["--monotone-increasing", str(f["digits_features"]), t, 0.1, "--workers", "0"],
            0.1,
            40,
        ),
        (
            "verify_resilience_wide",
            "100-800x4-10 net (2 M weights), class 0 (whole command)",
            ["verify", "resilience", f["wide"], "--class", "0", "--alpha", "1.1", t, 2],
            2,
            1,
        ),
    ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="half the limits")
    ap.add_argument("--only", default=None, help="comma list of run keys")
    ap.add_argument("--out-stem", default="time_limits", help="results/STEM.csv and .md (default time_limits)")
    ap.add_argument("--checkout", default=None, help="run another checkout's mipnet (e.g. a worktree of a baseline)")
    args = ap.parse_args()
    cmd = mipnet_command()
    env = None
    if args.checkout:
        import os

        env = dict(os.environ, PYTHONPATH=str(Path(args.checkout).resolve()))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        f = instances(d)
        plan = runs(f, d, args.quick)
        # recheck needs a certificate: made by a quick audit first (not timed)
        plan.append(
            (
                "recheck",
                "robustness certificate of 2 rows of the 30-64-64-64-1 net (whole re-check)",
                ["recheck", d / "r-certificates" / "robustness.json", f["deep"], f["deep_data"], "--time-limit", 10],
                10,
                1,
            )
        )
        subprocess.run(
            cmd
            + [
                str(a)
                for a in [
                    "audit",
                    f["deep"],
                    f["deep_data"],
                    "--target",
                    "label",
                    "-o",
                    d / "r.html",
                    "--eps",
                    "0.05",
                    "--rows",
                    "2",
                    "--time-limit",
                    "3",
                    "--workers",
                    "0",
                ]
            ],
            capture_output=True,
        )
        only = set(args.only.split(",")) if args.only else None
        for key, instance, argv, limit, units in plan:
            if only and key not in only:
                continue
            t0 = time.monotonic()
            # another checkout: its directory first on the path (cwd: an editable install's finder would win over
            # PYTHONPATH alone)
            cwd = str(Path(args.checkout).resolve()) if args.checkout else None
            p = subprocess.run(cmd + [str(a) for a in argv], capture_output=True, text=True, env=env, cwd=cwd)
            wall = time.monotonic() - t0
            budget = float(limit) * units
            row = {
                "command": key,
                "instance": instance,
                "limit": float(limit),
                "units": units,
                "budget": budget,
                "promised": round(promised(budget), 2),
                "wall": round(wall, 2),
                "overshoot": round(wall - budget, 2),
                "within": "yes" if wall <= promised(budget) else "no",
                "exit": p.returncode,
                "before": BEFORE.get(key, ""),
            }
            rows.append(row)
            tail = (p.stdout.strip().splitlines() or [""])[-1][:100]
            print(
                f"{key:22s} limit {budget:6.1f} s  wall {wall:6.1f} s  {row['within']:3s}  exit {p.returncode}  {tail}",
                flush=True,
            )
            if p.returncode == 2:
                print(p.stderr[-2000:], file=sys.stderr)
    OUT.mkdir(exist_ok=True)
    with open(OUT / f"{args.out_stem}.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    lines = [
        "# Time limits: limit vs wall-clock time of the whole command",
        "",
        f"`python benchmarks/time_limits.py{' --quick' if args.quick else ''}"
        f"{' --only ' + args.only if args.only else ''}{' --checkout ' + args.checkout if args.checkout else ''}` on "
        f"{platform.processor() or platform.machine()}, each command a subprocess (`{' '.join(cmd[-3:])}`): "
        "the wall time includes start-up and imports. Promise: wall <= budget x "
        f"{1 + OVERSHOOT_SHARE:g} + {OVERSHOOT_SECONDS:g} s, budget = limit x units (units: samples, features, "
        "classes or problems for the per-unit limits, else 1). The machine is shared (2 cores): times are noisy.",
        "",
        "| command | instance | limit | units | promised | wall | overshoot | within | exit | before (issue) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['command']} | {r['instance']} | {r['limit']:g} s | {r['units']} | {r['promised']:g} s | "
            f"{r['wall']:.1f} s | {r['overshoot']:+.1f} s | {r['within']} | {r['exit']} | {r['before']} |"
        )
    ok = sum(r["within"] == "yes" for r in rows)
    lines += ["", f"{ok} of {len(rows)} within the promise."]
    (OUT / f"{args.out_stem}.md").write_text("\n".join(lines) + "\n")
    print(f"{ok} of {len(rows)} within the promise; wrote {OUT / args.out_stem}.csv and .md")


if __name__ == "__main__":
    main()
