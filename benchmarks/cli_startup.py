"""Start-up time of the command line: this tree against a baseline revision, in the same run.

Each command (``--help``, ``train --help``, ``info MODEL``, ``predict MODEL DATA``) is run ``--repeats`` times per
tree, alternating the trees so that load on the machine hits both alike; the table gives the medians and the
ratio this / baseline. The baseline is checked out as a temporary git worktree and run with ``PYTHONPATH`` set to
it (same interpreter, same installed libraries).

    python benchmarks/cli_startup.py --baseline 92bfcc0 --repeats 7     # -> results/cli_startup.md
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "import sys; from mipnet.entry import main; sys.argv[0] = 'mipnet'; main()"


def _time(tree: Path, args: list[str]) -> float:
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed in {tree}: {r.stderr.strip().splitlines()[-1:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="92bfcc0", help="git revision to compare against")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("-o", "--output", default=str(ROOT / "results" / "cli_startup.md"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), a.baseline], cwd=ROOT, check=True)
        try:
            sys.path.insert(0, str(ROOT))
            from mipnet import Dense, Network, ReLU
            from mipnet.io import save_model

            rng = np.random.default_rng(0)
            net = Network(
                [Dense(rng.normal(size=(8, 5)), np.zeros(8)), ReLU(), Dense(rng.normal(size=(2, 8)), np.zeros(2))]
            )
            model, data = Path(tmp) / "m.json", Path(tmp) / "d.csv"
            save_model(net, model)
            data.write_text(
                ",".join(net.domain.names)
                + "\n"
                + "\n".join(",".join(f"{v:.4f}" for v in row) for row in rng.normal(size=(20, 5)))
                + "\n"
            )
            onnx, bad = Path(tmp) / "m.onnx", Path(tmp) / "bad.vnnlib"
            save_model(net, onnx)
            bad.write_text("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1)\n")  # unbalanced
            commands = {
                "--help": ["--help"],
                "train --help": ["train", "--help"],
                "info": ["info", str(model)],
                "predict": ["predict", str(model), str(data)],
                # a malformed property: the result file says "error" (exit 0) once the property is read
                "vnncomp run (malformed property)": [
                    "vnncomp",
                    "run",
                    str(onnx),
                    str(bad),
                    "--result-file",
                    str(Path(tmp) / "result.txt"),
                    "--timeout",
                    "60",
                ],
            }
            rows = []
            for name, args in commands.items():
                this, old = [], []
                for _ in range(a.repeats):  # alternate the trees
                    old.append(_time(base, args))
                    this.append(_time(ROOT, args))
                m_this, m_old = statistics.median(this), statistics.median(old)
                rows.append((name, m_old, m_this, m_this / m_old))
                print(f"{name:34s} baseline {m_old:.2f} s  this {m_this:.2f} s  ratio {m_this / m_old:.2f}")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False)
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    default = ROOT / "results" / "cli_startup.md"
    out = Path(a.output).resolve()
    out_flag = "" if out == default else f" -o {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}"
    lines = [
        "# Command-line start-up time",
        "",
        f"`python benchmarks/cli_startup.py --baseline {a.baseline} --repeats {a.repeats}{out_flag}`: medians of "
        f"{a.repeats} runs per tree, trees alternated, same interpreter (load average at the end: {load}).",
        "",
        "| command | baseline (s) | this tree (s) | ratio this / baseline |",
        "|---|---|---|---|",
    ]
    lines += [f"| `mipnet {n}` | {o:.2f} | {t:.2f} | {r:.2f} |" for n, o, t, r in rows]
    lines += [
        "",
        "Target (issue: for the people who use it): under 1 s for `--help`, `info`, `predict`. `vnncomp run` on a "
        "malformed property: its `error` before the solver layers are imported (they cost seconds on a loaded machine, "
        "and a competition's short timeouts turned the error into `timeout`).",
    ]
    Path(a.output).parent.mkdir(parents=True, exist_ok=True)
    Path(a.output).write_text("\n".join(lines) + "\n")
    print(f"wrote {a.output}")


if __name__ == "__main__":
    main()
