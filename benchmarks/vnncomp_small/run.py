"""Run the small VNN-COMP-style benchmark end to end through the competition's scripts.

Every row of ``instances.csv`` goes through ``vnncomp/prepare_instance.sh`` and ``vnncomp/run_instance.sh``
(``v1 CATEGORY ONNX VNNLIB RESULT TIMEOUT``) in a fresh process, as the competition runs a tool; the wall
time is the run script's. Each ``sat`` counterexample is re-checked here independently of mipnet's own
check: the inputs X inside the property's input constraints and the unsafe output constraints true at
the outputs onnxruntime computes at X (float32, as the file) and at the Y written in the file, which
must agree with onnxruntime to 1e-4. The verdicts are compared with ``expected.csv`` (from generate.py).
Output: results/verification/vnncomp_small.md (and vnncomp_small.csv beside it).

    python benchmarks/vnncomp_small/run.py [--timeout-scale 1.0]
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from mipnet.cli.vnncomp import read_instances, read_result, run_table, table_csv  # noqa: E402
from mipnet.verify.vnnlib import load_vnnlib  # noqa: E402

OUT = ROOT / "results" / "verification"


def recheck(onnx: Path, vnnlib: Path, values: dict[str, float]) -> tuple[bool, float]:
    """(the counterexample reaches the unsafe region at onnxruntime's outputs and the file's, max |Y - Y_ort|)."""
    prop = load_vnnlib(vnnlib)
    x = np.array([values[f"X_{i}"] for i in range(prop.n_inputs)])
    y = np.array([values[f"Y_{j}"] for j in range(prop.n_outputs)])
    sess = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in inp.shape]
    y_ort = np.asarray(sess.run(None, {inp.name: x.reshape(shape).astype(np.float32)})[0], dtype=np.float64).ravel()
    tol = 1e-4
    ok = all(any(all(a.holds_at(x, yy, tol) for a in conj) for conj in prop.disjuncts) for yy in (y, y_ort))
    return ok, float(np.max(np.abs(y - y_ort)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout-scale", type=float, default=1.0)
    args = ap.parse_args()
    instances = read_instances(HERE / "instances.csv")
    expected = {(r["onnx"], r["vnnlib"]): r["expected"] for r in csv.DictReader((HERE / "expected.csv").open())}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as keep:
        rows = run_table(
            instances,
            timeout_scale=args.timeout_scale,
            tool_script=str(ROOT / "vnncomp" / "run_instance.sh"),
            category="vnncomp_small",
            keep=keep,
            echo=print,
        )
        for k, (inst, row) in enumerate(zip(instances, rows)):
            key = (inst.onnx.relative_to(HERE).as_posix(), inst.vnnlib.relative_to(HERE).as_posix())
            row["expected"] = expected.get(key, "?")
            row["instance"] = inst.name
            if row["result"] == "sat":
                _, values = read_result(Path(keep) / f"{k:04d}.txt")
                row["recheck"], row["y_diff"] = recheck(inst.onnx, inst.vnnlib, values)
    total = time.perf_counter() - t0
    OUT.mkdir(parents=True, exist_ok=True)
    for r in rows:
        r["onnx"], r["vnnlib"] = (Path(r[k]).relative_to(HERE).as_posix() for k in ("onnx", "vnnlib"))
    (OUT / "vnncomp_small.csv").write_text(table_csv(rows))
    agree = sum(r["result"] == r["expected"] for r in rows)
    lines = [
        "# Small VNN-COMP-style benchmark through the competition's scripts",
        "",
        "`python benchmarks/vnncomp_small/run.py`; nets and properties from `python benchmarks/vnncomp_small/"
        "generate.py`",
        "(seeded; expected verdicts from exact MILP output bounds and samples). Each instance runs as the competition",
        "runs a tool: `vnncomp/prepare_instance.sh`, then `vnncomp/run_instance.sh v1 vnncomp_small ONNX VNNLIB RESULT",
        "TIMEOUT` in a fresh process; seconds are the run script's wall time, Python start-up (about 2-3 s of it on",
        "this machine) and ONNX loading included. Counterexamples are re-checked",
        "independently with onnxruntime (float32, the files' precision): X inside the input constraints and the",
        "unsafe output constraints true at onnxruntime's outputs and at the Y written (tolerance 1e-4).",
        "",
        f"Machine: {platform.machine()}, {platform.python_version()}, shared 2-core; one run, timeout scale "
        f"{args.timeout_scale:g}.",
        "",
        "| instance | input shape | expected | result | seconds | counterexample re-check |",
        "|---|---|---|---|---|---|",
    ]
    shapes = {"ctrl_rank1": "[5]", "ctrl_4d": "[1, 1, 1, 5]", "mlp_batch1": "[1, 4]"}
    for r in rows:
        chk = (
            ""
            if r["result"] != "sat"
            else (f"{'ok' if r['recheck'] else 'FAILED'} (max abs Y - onnxruntime {r['y_diff']:.1e})")
        )
        net = r["instance"].split("/")[0]
        lines.append(
            f"| {r['instance']} | {shapes.get(net, '?')} | {r['expected']} | {r['result']} | "
            f"{r['seconds']:.2f} | {chk} |"
        )
    lines += [
        "",
        f"{agree} of {len(rows)} verdicts as expected; {sum(r['seconds'] for r in rows):.1f} s in the run "
        f"scripts, {total:.1f} s in all.",
    ]
    (OUT / "vnncomp_small.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
