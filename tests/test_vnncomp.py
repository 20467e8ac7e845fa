"""The VNN-COMP tool interface: ``vnncomp/run_instance.sh`` -> ``mipnet vnncomp run`` -> the result file
(``sat`` + counterexample, ``unsat``, ``timeout``, ``error``), the instances.csv runner, bad inputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from click.testing import CliRunner

from mipnet import Dense, Network, ReLU
from mipnet.cli import cli
from mipnet.cli.vnncomp import counterexample_text, read_instances, read_result, result_text
from mipnet.io import load_model, save_model

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "vnncomp"
BENCH = ROOT / "benchmarks" / "vnncomp_small"
ENV = {
    **os.environ,
    "MIPNET_PYTHON": sys.executable,
    "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
}


def _run_script(onnx: Path, vnnlib: Path, result: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    prep = subprocess.run(
        [str(SCRIPTS / "prepare_instance.sh"), "v1", "test", str(onnx), str(vnnlib)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert prep.returncode == 0, prep.stderr
    return subprocess.run(
        [str(SCRIPTS / "run_instance.sh"), "v1", "test", str(onnx), str(vnnlib), str(result), f"{timeout:g}"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout + 60,
    )


def test_sat_instance_writes_a_rechecked_counterexample(tmp_path):
    onnx, vnnlib = BENCH / "onnx" / "ctrl_rank1.onnx", BENCH / "vnnlib" / "rank1_y0_violated.vnnlib"
    out = tmp_path / "out.txt"
    r = _run_script(onnx, vnnlib, out)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert text.splitlines()[0] == "sat"
    assert re.fullmatch(r"sat\n\(\(X_0 \S+\)\n( \(X_\d \S+\)\n){4}( \(Y_\d \S+\)\n){2} \(Y_2 \S+\)\)\n", text), text
    word, values = read_result(out)
    assert word == "sat" and len(values) == 5 + 3
    x = np.array([values[f"X_{i}"] for i in range(5)])
    y = np.array([values[f"Y_{j}"] for j in range(3)])
    spec = vnnlib.read_text()
    assert np.all(x >= -1.0) and np.all(x <= 1.0)  # inside the property's box
    # Y is onnxruntime's output at X cast to the model's float32 input, as the competition's checker computes it, in
    # full precision (the printed doubles read back exactly); the forward pass agrees to float32's precision
    sess = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(y, np.ravel(sess.run(None, {"X": x.astype(np.float32)})[0]).astype(np.float64))
    np.testing.assert_allclose(load_model(onnx).forward(x[None])[0], y, atol=1e-5)  # rank-1 input
    threshold = float(re.search(r"\(assert \(>= Y_0 (\S+)\)\)", spec).group(1))
    assert y[0] >= threshold  # the unsafe region is reached: a true counterexample


def test_unsat_instance_and_a_four_dim_input(tmp_path):
    out = tmp_path / "out.txt"
    r = _run_script(BENCH / "onnx" / "ctrl_4d.onnx", BENCH / "vnnlib" / "4d_disjunction_holds.vnnlib", out)
    assert r.returncode == 0, r.stderr
    assert out.read_text() == "unsat\n"


@pytest.mark.parametrize("case", ["missing-onnx", "missing-vnnlib", "malformed-vnnlib", "size-mismatch"])
def test_bad_inputs_give_error_and_exit_zero(tmp_path, case):
    onnx, vnnlib = BENCH / "onnx" / "mlp_batch1.onnx", BENCH / "vnnlib" / "batch1_boxes_holds.vnnlib"
    if case == "missing-onnx":
        onnx = tmp_path / "nope.onnx"
    elif case == "missing-vnnlib":
        vnnlib = tmp_path / "nope.vnnlib"
    elif case == "malformed-vnnlib":
        vnnlib = tmp_path / "bad.vnnlib"
        vnnlib.write_text("(declare-const X_0 Real)\n(assert (<= X_0 1.0)\n")  # unbalanced
    else:
        vnnlib = BENCH / "vnnlib" / "rank1_y0_holds.vnnlib"  # 5 inputs, the net takes 4
    out = tmp_path / "out.txt"
    out.write_text("no_result_in_file\n")  # what the competition's runner leaves there
    r = _run_script(onnx, vnnlib, out)
    assert r.returncode == 0, r.stderr  # a result was written: the runner must not read a tool failure
    assert out.read_text() == "error\n"
    assert "error:" in r.stderr


def test_wrong_version_or_arguments_exit_one(tmp_path):
    r = subprocess.run(
        [str(SCRIPTS / "run_instance.sh"), "v2", "c", "a.onnx", "b.vnnlib", str(tmp_path / "o"), "5"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "v1" in r.stderr
    r = subprocess.run(
        [str(SCRIPTS / "prepare_instance.sh"), "v1", "c"], env=ENV, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 1


def _hard_instance(tmp_path: Path, sizes: list[int]) -> None:
    """hard.onnx and hard.vnnlib: a deep random net whose output must reach 1.02 x its largest sampled value
    (too hard for a few seconds)."""
    rng = np.random.default_rng(0)
    layers: list = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [Dense(rng.normal(0, 1 / np.sqrt(a), (b, a)), rng.normal(0, 0.3, b)), ReLU()]
    net = Network(layers[:-1])
    save_model(net, tmp_path / "hard.onnx")
    top = float(net.forward(rng.uniform(-3, 3, (5000, 5))).max())
    spec = "".join(f"(declare-const X_{i} Real)\n(assert (>= X_{i} -3))\n(assert (<= X_{i} 3))\n" for i in range(5))
    (tmp_path / "hard.vnnlib").write_text(spec + f"(declare-const Y_0 Real)\n(assert (>= Y_0 {top * 1.02}))\n")


def test_timeout_is_kept(tmp_path):
    """A net too hard for the time given: ``timeout`` in the file, exit 0, within the timeout plus start-up."""
    _hard_instance(tmp_path, [5, 80, 80, 80, 80, 1])
    out = tmp_path / "out.txt"
    t0 = time.perf_counter()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mipnet.cli",
            "vnncomp",
            "run",
            str(tmp_path / "hard.onnx"),
            str(tmp_path / "hard.vnnlib"),
            "--result-file",
            str(out),
            "--timeout",
            "3",
            "--bounds",
            "mip",
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.perf_counter() - t0
    assert r.returncode in (0, 142, -14), r.stderr  # exit 0, or the alarm signal past the timeout
    assert out.read_text().splitlines()[0] in ("timeout", "unsat", "sat")  # a fast machine may decide it
    assert wall < 3 + 8, wall  # the alarm ends it; the interpreter's start on a busy machine before it is set


def test_table_runs_an_instances_csv(tmp_path):
    rows = [
        (BENCH / "onnx" / "ctrl_rank1.onnx", BENCH / "vnnlib" / "rank1_y0_holds.vnnlib"),
        (BENCH / "onnx" / "mlp_batch1.onnx", BENCH / "vnnlib" / "batch1_boxes_violated.vnnlib"),
        (tmp_path / "missing.onnx", BENCH / "vnnlib" / "rank1_y0_holds.vnnlib"),
    ]
    csv = tmp_path / "instances.csv"
    csv.write_text("".join(f"{o},{v},120\n" for o, v in rows))
    out = tmp_path / "results.csv"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mipnet.cli",
            "vnncomp",
            "table",
            str(csv),
            "--timeout-scale",
            "0.25",
            "-o",
            str(out),
            "--tool-script",
            str(SCRIPTS / "run_instance.sh"),
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 2, r.stderr  # an instance gave error
    lines = out.read_text().splitlines()
    assert lines[0] == "instance,onnx,vnnlib,timeout,result,seconds,reason"
    got = [line.split(",") for line in lines[1:]]
    assert [g[4] for g in got] == ["unsat", "sat", "error"]
    assert got[0][6] == got[1][6] == "" and "missing.onnx" in got[2][6]  # why the row is an error (was blank)
    assert "missing.onnx" in r.stdout.splitlines()[2]
    assert [float(g[3]) for g in got] == [30.0, 30.0, 30.0]
    assert all(0 < float(g[5]) < 60 for g in got)
    assert got[0][0] == "ctrl_rank1/rank1_y0_holds"
    assert "1 sat, 1 unsat, 1 error" in r.stdout


def test_benchmark_instances_csv_reads():
    inst = read_instances(BENCH / "instances.csv")
    assert len(inst) >= 6 and all(i.onnx.is_file() and i.vnnlib.is_file() and i.timeout > 0 for i in inst)
    expected = (BENCH / "expected.csv").read_text().splitlines()[1:]
    assert sorted({e.split(",")[2] for e in expected}) == ["sat", "unsat"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("a.onnx,b.vnnlib\n", "expected onnx,vnnlib,timeout"),
        ("a.onnx,b.vnnlib,soon\n", "not a number"),
        ("a.onnx,b.vnnlib,-1\n", "positive"),
        ("\n", "no instances"),
    ],
)
def test_bad_instances_csv(tmp_path, text, message):
    p = tmp_path / "instances.csv"
    p.write_text(text)
    r = CliRunner().invoke(cli, ["vnncomp", "table", str(p), "-o", str(tmp_path / "r.csv")])
    assert r.exit_code == 2 and message in r.output
    assert not (tmp_path / "r.csv").exists()


def test_instances_csv_with_a_byte_order_mark(tmp_path):
    """A spreadsheet's UTF-8 byte-order mark was read into the first row's network path (file not found)."""
    p = tmp_path / "instances.csv"
    p.write_text("a.onnx,b.vnnlib,10\n", encoding="utf-8-sig")
    assert [(i.onnx.name, i.vnnlib.name, i.timeout) for i in read_instances(p)] == [("a.onnx", "b.vnnlib", 10.0)]


def test_ctrl_c_leaves_no_result_file(tmp_path):
    """An interrupted run has no verdict: the placeholder ``timeout`` it wrote first is removed (it read as one)."""
    _hard_instance(tmp_path, [5, 60, 60, 60, 1])
    out = tmp_path / "out.txt"
    cmd = [sys.executable, "-m", "mipnet.cli", "vnncomp", "run", str(tmp_path / "hard.onnx")]
    cmd += [str(tmp_path / "hard.vnnlib"), "--result-file", str(out), "--timeout", "60", "--bounds", "mip"]
    import signal

    # a child of a background job inherits SIGINT ignored (CI): give it the default, as a terminal would
    default = signal.SIG_DFL
    proc = subprocess.Popen(
        cmd,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, default),
    )
    deadline = time.monotonic() + 60
    while not out.exists() and time.monotonic() < deadline:  # the placeholder is written once the run starts
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(2)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted" and not out.exists()


def test_result_text_and_reading_it_back(tmp_path):
    x, y = np.array([0.1, -1 / 3]), np.array([2.0**-60, 1e300])
    assert result_text("holds") == "unsat\n"
    assert result_text("unknown", "timeout") == "timeout\n"
    assert result_text("unknown", "timeout (16 open leaves of the input split)") == "timeout\n"  # (was "unknown")
    assert result_text("unknown", "the witness fails the forward-pass re-check") == "unknown\n"
    text = result_text("violated", x=x, y=y)
    assert text == f"sat\n{counterexample_text(x, y)}\n"
    assert (
        counterexample_text(x, y) == "((X_0 0.1)\n (X_1 -0.3333333333333333)\n (Y_0 8.673617379884035e-19)\n"
        " (Y_1 1e+300))"
    )
    (tmp_path / "r.txt").write_text(text)
    word, values = read_result(tmp_path / "r.txt")
    assert word == "sat" and values == {"X_0": 0.1, "X_1": -1 / 3, "Y_0": 2.0**-60, "Y_1": 1e300}  # exact
    assert read_result(tmp_path / "none.txt") == ("error", {})


def test_help_imports_no_heavy_library():
    code = (
        "from click.testing import CliRunner\nfrom mipnet.cli import cli\nimport sys, json\n"
        "r = CliRunner().invoke(cli, ['vnncomp', 'run', '--help'])\nassert r.exit_code == 0, r.output\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=ENV, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & {"pyomo", "pandas", "sklearn", "torch", "onnx", "highspy", "matplotlib"}


def test_a_float64_witness_the_float32_model_refutes_is_not_reported_sat(tmp_path):
    """y = relu(1e5 x + b1) + b2 over X_0 in [lo, 0.2]: y(lo) = -1e-6 violates Y_0 <= 0 in float64, but the
    competition re-runs the float32 model in onnxruntime on float32(lo) > lo, where Y_0 = +6.5e-4: 'sat' scored as a
    wrong answer. It is now 'unknown'. A --timeout of 1e10 (a traceback from the alarm timer) is refused at once."""
    from onnx import TensorProto, helper, numpy_helper

    lo = next(0.1 + k * 1e-9 for k in range(1000) if float(np.float32(0.1 + k * 1e-9)) - (0.1 + k * 1e-9) > 3e-9)
    w, b1 = np.float32(1e5), np.float32(-1e5 * lo)
    b2 = np.float32(-(float(w) * lo + float(b1)) - 1e-6)
    inits = [
        numpy_helper.from_array(np.array([[w]], np.float32), "W0"),
        numpy_helper.from_array(np.array([b1], np.float32), "b0"),
        numpy_helper.from_array(np.array([[1.0]], np.float32), "W1"),
        numpy_helper.from_array(np.array([b2], np.float32), "b1"),
    ]
    nodes = [
        helper.make_node("Gemm", ["X", "W0", "b0"], ["a"], transB=1),
        helper.make_node("Relu", ["a"], ["r"]),
        helper.make_node("Gemm", ["r", "W1", "b1"], ["Y"], transB=1),
    ]
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 1])],
        inits,
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    (tmp_path / "n.onnx").write_bytes(m.SerializeToString())
    (tmp_path / "p.vnnlib").write_text(
        f"(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (>= X_0 {lo!r}))\n(assert (<= X_0 0.2))\n"
        "(assert (<= Y_0 0.0))\n"
    )
    # (in a process of its own: the run's watchdog arms an alarm signal)
    args = [sys.executable, "-m", "mipnet.cli", "vnncomp", "run", str(tmp_path / "n.onnx"), str(tmp_path / "p.vnnlib")]
    run = {"env": ENV, "capture_output": True, "text": True, "timeout": 120}
    r = subprocess.run([*args, "--result-file", str(tmp_path / "r.txt"), "--timeout", "20"], **run)
    assert r.returncode == 0 and (tmp_path / "r.txt").read_text().split()[0] == "unknown", r.stderr
    r = subprocess.run([*args, "--result-file", str(tmp_path / "r2.txt"), "--timeout", "1e10"], **run)
    assert r.returncode == 2 and not (tmp_path / "r2.txt").exists(), r.stderr


def test_the_table_refuses_to_overwrite_its_inputs_and_checks_its_output_first(tmp_path):
    """-o instances.csv replaced the instances with the results and -o NET.onnx the network, exit 0; -o /proc/x.csv
    failed only after every instance had run."""
    (tmp_path / "n.onnx").write_bytes(b"not read")
    (tmp_path / "p.vnnlib").write_text("(declare-const X_0 Real)\n")
    (tmp_path / "i.csv").write_text("n.onnx,p.vnnlib,5\n")
    base = [sys.executable, "-m", "mipnet.cli", "vnncomp", "table", str(tmp_path / "i.csv"), "-o"]
    for out in (tmp_path / "i.csv", tmp_path / "n.onnx", Path("/proc/x.csv")):
        before = out.read_bytes() if out.is_file() else None
        r = subprocess.run([*base, str(out)], env=ENV, capture_output=True, text=True, timeout=60)
        one_line = r.stderr.startswith("error: ") and r.stderr.count("\n") == 1 and "-o" in r.stderr
        assert r.returncode == 2 and one_line, r.stderr
        assert (out.read_bytes() if out.is_file() else None) == before


def test_a_float32_corner_witness_is_moved_into_the_box_not_dropped(tmp_path):
    """float32(0.8) = 0.800000012 lies outside a box [0.2, 0.8]: the float32 re-check threw the corner witness away
    ("unknown") where the input one float32 step inside is a violation in onnxruntime."""
    from mipnet.io.onnx_io import save_onnx

    net = Network([Dense([[1.0]], [0.0])], input_shape=(1,), task="regress")
    onnx, prop, res = tmp_path / "n.onnx", tmp_path / "p.vnnlib", tmp_path / "r.txt"
    save_onnx(net, onnx, dtype="float32")
    prop.write_text(
        "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (>= X_0 0.2))\n(assert (<= X_0 0.8))\n"
        "(assert (>= Y_0 0.75))\n"
    )
    r = _run_script(onnx, prop, res)  # (a process of its own: run's watchdog counts from the process's start)
    assert r.returncode == 0, r.stderr
    text = res.read_text()
    assert text.startswith("sat"), text
    x = float(re.search(r"\(X_0 ([^)]+)\)", text).group(1))
    assert 0.75 <= x <= 0.8 and float(np.float32(x)) == x


def _gemm_relu_model(path: Path, w0, b0, w1, b1, in_type, cast_to=None) -> None:
    """Y = W1 relu(W0 X + b0) + b1 in ONNX, the input of ``in_type`` (computed in that type, or Cast to
    ``cast_to`` first)."""
    from onnx import TensorProto, helper, numpy_helper

    dt = {TensorProto.FLOAT: np.float32, TensorProto.FLOAT16: np.float16, TensorProto.DOUBLE: np.float64}
    work = cast_to if cast_to is not None else in_type
    arr = [np.asarray(a, dtype=dt[work]) for a in (w0, b0, w1, b1)]
    inits = [numpy_helper.from_array(a, n) for a, n in zip(arr, ("W0", "b0", "W1", "b1"))]
    nodes = [helper.make_node("Cast", ["X"], ["Xc"], to=cast_to)] if cast_to is not None else []
    first = "Xc" if cast_to is not None else "X"
    nodes += [
        helper.make_node("Gemm", [first, "W0", "b0"], ["a"], transB=1),
        helper.make_node("Relu", ["a"], ["r"]),
        helper.make_node("Gemm", ["r", "W1", "b1"], ["Y"], transB=1),
    ]
    n_in, n_out = arr[0].shape[1], arr[2].shape[0]
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("X", in_type, [1, n_in])],
        [helper.make_tensor_value_info("Y", work, [1, n_out])],
        inits,
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path.write_bytes(m.SerializeToString())


def test_a_sat_lists_onnxruntime_s_outputs_and_is_checked_in_the_model_s_own_input_type(tmp_path):
    """The competition casts X to the graph's input type, runs onnxruntime and rejects a listed Y more than 1e-3 away.
    (1) A float32 model where float64 cancels differently: Y_0 = relu(1e4 x + 0.3) - relu(1e4 x) is 0.3 in float64
    and 0.3125 in onnxruntime; the file listed 0.3 (rejected), it now lists 0.3125. (2) A float16 model and (3) a
    double input cast to float32 inside were never run in onnxruntime: a witness that is no violation there was
    written as "sat"; it is now refused (``None``: the command writes "unknown")."""
    from onnx import TensorProto

    from mipnet.cli.vnncomp import _runtime_witness

    prop = tmp_path / "p.vnnlib"
    prop.write_text(
        "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (>= X_0 100.0))\n(assert (<= X_0 101.0))\n"
        "(assert (>= Y_0 0.2))\n"
    )
    onnx = tmp_path / "cancel.onnx"
    _gemm_relu_model(onnx, [[1e4], [1e4]], [0.3, 0.0], [[1.0, -1.0]], [0.0], TensorProto.FLOAT)
    x = np.array([100.5])
    y64 = load_model(onnx).forward(x[None])[0]
    assert abs(y64[0] - 0.3) < 1e-6
    got = _runtime_witness(str(onnx), str(prop), x, y64)
    assert got is not None
    sess = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    runtime = sess.run(None, {"X": np.float32(x).reshape(1, 1)})[0].ravel()
    assert got[1][0] == float(runtime[0]) == 0.3125 and got[0][0] == 100.5

    # a violation over the reals that float16 / float32 arithmetic loses: Y_0 = relu(x - 1) - d >= 0 at x = 1 + s,
    # d < s (x rounds to 1 in the model's type: Y_0 = -d)
    prop2 = tmp_path / "p2.vnnlib"
    prop2.write_text(
        "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (>= X_0 0.0))\n(assert (<= X_0 2.0))\n"
        "(assert (>= Y_0 0.0))\n"
    )
    for name, in_type, cast, step, d in (
        ("f16", TensorProto.FLOAT16, None, 1e-4, 2.0**-24),
        ("dcast", TensorProto.DOUBLE, TensorProto.FLOAT, 1e-8, 2.0**-30),
    ):
        model = tmp_path / f"{name}.onnx"
        _gemm_relu_model(model, [[1.0]], [-1.0], [[1.0]], [-d], in_type, cast)
        xw = np.array([1 + step])
        yw = load_model(model).forward(xw[None])[0]
        sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        t = np.float16 if in_type == TensorProto.FLOAT16 else np.float64
        assert float(sess.run(None, {"X": xw.astype(t).reshape(1, 1)})[0].ravel()[0]) < 0  # not in onnxruntime
        assert _runtime_witness(str(model), str(prop2), xw, yw) is None, name
    # mipnet's own JSON model: nothing to run it in, the forward pass's outputs (the ONNX reader failed on it)
    save_model(load_model(onnx), tmp_path / "m.json")
    same = _runtime_witness(str(tmp_path / "m.json"), str(prop), x, y64)
    assert same is not None and same[1] is y64


def test_an_open_box_reads_timeout_only_when_the_time_limit_passed(tmp_path):
    """Every leaf of the input split ended on the thin-region guard within a second of a 60 s limit, and the
    result read "timeout"; the reason is now the guard, and the result file says "unknown"."""
    from mipnet.cli.vnncomp import result_text
    from mipnet.verify.vnnlib import THIN_REGION, verify_vnnlib

    w0 = [[-0.4521445631980896], [0.6640384793281555], [-1.056621789932251], [-0.4102998673915863],
          [1.180476188659668], [-0.34148991107940674], [1.5675896406173706]]  # fmt: skip
    b0 = [-0.6755861043930054, 0.629679799079895, 1.6953670978546143, 0.5065762400627136, -1.248881220817566,
          -1.2605799436569214, 0.2802141308784485]  # fmt: skip
    w1 = [[1.32889986038208, 0.9386101961135864, 0.7478837966918945, -0.341133177280426, -0.5380964279174805,
           1.2949203252792358, 0.655765950679779], [-1.2308032512664795, -0.2050577700138092, -1.0895092487335205,
           2.1512033939361572, 1.6302249431610107, -0.8190366625785828, -0.8857365846633911]]  # fmt: skip
    from onnx import TensorProto

    onnx = tmp_path / "tw.onnx"
    _gemm_relu_model(onnx, w0, b0, w1, [-3.0821731090545654, -1.3866517543792725], TensorProto.FLOAT)
    prop = tmp_path / "tw.vnnlib"
    prop.write_text(
        "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(assert (or (and "
        "(>= X_0 -0.4973154189668536) (<= X_0 -0.3801975737907948) (or (<= (- Y_0 Y_1) 0.9377171346509251) "
        "(>= Y_1 -1.823478161976693)))\n (and (>= X_0 -0.31572668848087426) (<= X_0 0.15038422592484763) "
        "(<= (- Y_1 Y_0) -1.6501458140756762))))\n"
    )
    r = verify_vnnlib(str(onnx), str(prop), time_limit=60)
    assert r.verdict in ("unknown", "holds"), r
    if r.verdict == "unknown" and r.time < 30:
        assert not r.reason.startswith("timeout") and result_text(r.verdict, r.reason) == "unknown\n", r.reason
        assert r.reason.startswith(THIN_REGION), r.reason


def test_a_failed_prepare_is_unknown_without_a_run_and_ctrl_c_keeps_the_finished_rows(tmp_path, monkeypatch):
    from mipnet.cli import vnncomp as vc

    tool = tmp_path / "tool"
    tool.mkdir()
    (tool / "prepare_instance.sh").write_text("#!/bin/sh\necho 'cannot prepare' >&2\nexit 1\n")
    (tool / "run_instance.sh").write_text(f'#!/bin/sh\necho ran >> {tmp_path / "ran.txt"}\necho unsat > "$5"\n')
    for f in tool.iterdir():
        f.chmod(0o755)
    (tmp_path / "n.onnx").write_bytes(b"x")
    (tmp_path / "p.vnnlib").write_text("(declare-const X_0 Real)\n")
    inst = vc.Instance(tmp_path / "n.onnx", tmp_path / "p.vnnlib", 5.0)
    rows = vc.run_table([inst], tool_script=str(tool / "run_instance.sh"))
    assert rows[0]["result"] == "unknown" and "prepare_instance.sh exit 1: cannot prepare" in rows[0]["reason"]
    assert not (tmp_path / "ran.txt").exists()  # the instance was not run (it wrote "unsat", credited before)
    assert "cannot prepare" in vc.table_csv(rows)

    def interrupted(instances, rows, **kw):
        rows.append({**rows_in_table, "instance": "first"})
        raise KeyboardInterrupt

    rows_in_table = dict(rows[0])
    monkeypatch.setattr(vc, "run_table", interrupted)
    (tmp_path / "i.csv").write_text("n.onnx,p.vnnlib,5\nn.onnx,p.vnnlib,5\n")
    out = tmp_path / "results.csv"
    CliRunner().invoke(cli, ["vnncomp", "table", str(tmp_path / "i.csv"), "-o", str(out)])
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith("first,")  # the finished row was kept (all were lost)


def test_a_byte_order_mark_in_a_property_and_an_empty_result_file_name(tmp_path):
    """A VNN-LIB file saved with a byte-order mark was refused with an invisible character ("unexpected \\ufeff");
    ``--result-file ""`` ended in "[Errno 16] Device or resource busy" after the run."""
    from mipnet.verify.vnnlib_format import load_vnnlib

    p = tmp_path / "p.vnnlib"
    p.write_bytes("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1))\n".encode("utf-8-sig"))
    assert load_vnnlib(p) is not None
    r = CliRunner().invoke(cli, ["vnncomp", "run", str(p), str(p), "--result-file", "", "--timeout", "5"])
    assert r.exit_code == 2 and "names no file" in r.output, r.output
