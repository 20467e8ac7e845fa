"""Generate the small VNN-COMP-style benchmark: tiny ONNX nets, VNN-LIB properties and instances.csv (seeded).

Nets (random weights, seed below, float32 files as the competition's), each in an input layout the
competition's networks use:

    ctrl_rank1.onnx   input [5] (no batch dim), MatMul + Add, 5-16-16-3 ReLU
    ctrl_4d.onnx      input [1, 1, 1, 5], Sub / Div normalisation, Flatten, Gemm, 5-12-12-12-5 ReLU
    mlp_batch1.onnx   input [1, 4] (batch fixed to 1), Gemm, 4-10-10-2 ReLU

Properties (the unsafe region, VNN-LIB): each threshold is placed against the exact output range over the
box, computed here by MILP bounds (``compute_bounds(method="mip")``) and confirmed by sampling, so the
expected verdict is known: ``unsat`` (holds) a margin above the exact maximum, ``sat`` (violated) below a
sampled output. Kinds: one output bound, a disjunction of output bounds, "output k is the minimum" (k the
output least often the minimum in samples), and a property over several input boxes (a disjunction of
boxes). ``expected.csv`` lists the expected result of each instance (instances.csv itself has the
competition's three columns).

    python benchmarks/vnncomp_small/generate.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from mipnet.bounds import compute_bounds  # noqa: E402
from mipnet.domain import Domain  # noqa: E402
from mipnet.io.onnx_io import from_onnx  # noqa: E402

SEED = 2026
TIMEOUT = 60


def _f32(name: str, v: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(v, dtype=np.float32), name)


def _save(path: Path, nodes: list, inits: list, in_dims: list[int], n_out: int) -> None:
    out_dims = [n_out] if len(in_dims) == 1 else [1, n_out]
    graph = helper.make_graph(
        nodes,
        path.stem,
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, in_dims)],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, out_dims)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="vnncomp_small")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    path.write_bytes(model.SerializeToString())


def _layers(rng: np.random.Generator, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(rng.normal(0, 1 / np.sqrt(a), (a, b)), rng.normal(0, 0.3, b)) for a, b in zip(sizes, sizes[1:])]


def ctrl_rank1(rng: np.random.Generator, path: Path) -> None:
    nodes, inits, x = [], [], "X"
    layers = _layers(rng, [5, 16, 16, 3])
    for k, (w, b) in enumerate(layers):
        inits += [_f32(f"W{k}", w), _f32(f"b{k}", b)]
        last = k == len(layers) - 1
        nodes += [
            helper.make_node("MatMul", [x, f"W{k}"], [f"m{k}"]),
            helper.make_node("Add", [f"m{k}", f"b{k}"], ["Y" if last else f"a{k}"]),
        ]
        if not last:
            nodes.append(helper.make_node("Relu", [f"a{k}"], [f"r{k}"]))
            x = f"r{k}"
    _save(path, nodes, inits, [5], 3)


def ctrl_4d(rng: np.random.Generator, path: Path) -> None:
    inits = [_f32("mean", rng.normal(0, 0.5, (1, 1, 1, 5))), _f32("std", rng.uniform(0.5, 2.0, (1, 1, 1, 5)))]
    nodes = [
        helper.make_node("Sub", ["X", "mean"], ["c"]),
        helper.make_node("Div", ["c", "std"], ["s"]),
        helper.make_node("Flatten", ["s"], ["h0"], axis=1),
    ]
    layers = _layers(rng, [5, 12, 12, 12, 5])
    for k, (w, b) in enumerate(layers):
        inits += [_f32(f"W{k}", w.T), _f32(f"b{k}", b)]
        last = k == len(layers) - 1
        nodes.append(helper.make_node("Gemm", [f"h{k}", f"W{k}", f"b{k}"], ["Y" if last else f"g{k}"], transB=1))
        if not last:
            nodes.append(helper.make_node("Relu", [f"g{k}"], [f"h{k + 1}"]))
    _save(path, nodes, inits, [1, 1, 1, 5], 5)


def mlp_batch1(rng: np.random.Generator, path: Path) -> None:
    nodes, inits, x = [], [], "X"
    layers = _layers(rng, [4, 10, 10, 2])
    for k, (w, b) in enumerate(layers):
        inits += [_f32(f"W{k}", w), _f32(f"b{k}", b)]
        last = k == len(layers) - 1
        nodes.append(helper.make_node("Gemm", [x, f"W{k}", f"b{k}"], ["Y" if last else f"g{k}"]))
        if not last:
            nodes.append(helper.make_node("Relu", [f"g{k}"], [f"r{k}"]))
            x = f"r{k}"
    _save(path, nodes, inits, [1, 4], 2)


# ----------------------------------------------------------------------------- properties


def _declare(n_in: int, n_out: int) -> str:
    return (
        "\n".join(
            [f"(declare-const X_{i} Real)" for i in range(n_in)] + [f"(declare-const Y_{j} Real)" for j in range(n_out)]
        )
        + "\n"
    )


def _box(lo: np.ndarray, hi: np.ndarray) -> str:
    return "".join(
        f"(assert (>= X_{i} {a!r}))\n(assert (<= X_{i} {b!r}))\n"
        for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist()))
    )


def _box_terms(lo: np.ndarray, hi: np.ndarray) -> str:
    return " ".join(f"(>= X_{i} {a!r}) (<= X_{i} {b!r})" for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist())))


def _range(net, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(exact max of each output over the box by MILP bounds, best sampled outputs' max)."""
    box = Domain([f"x{i}" for i in range(len(lo))], lo, hi)
    net.domain = box
    exact = compute_bounds(net, lo, hi, method="mip")[-1][1].ravel()
    sampled = net.forward(rng.uniform(lo, hi, size=(20000, len(lo)))).max(0)
    assert np.all(sampled <= exact + 1e-6), "a sample above the MILP bound"
    return exact, sampled


def main() -> None:
    rng = np.random.default_rng(SEED)
    (HERE / "onnx").mkdir(exist_ok=True)
    (HERE / "vnnlib").mkdir(exist_ok=True)
    for make in (ctrl_rank1, ctrl_4d, mlp_batch1):
        make(rng, HERE / "onnx" / f"{make.__name__}.onnx")
    rows: list[tuple[str, str, str]] = []  # onnx, vnnlib, expected

    def prop(name: str, text: str, onnx_name: str, expected: str) -> None:
        (HERE / "vnnlib" / f"{name}.vnnlib").write_text(f"; {name}: expected {expected}\n{text}")
        rows.append((f"onnx/{onnx_name}.onnx", f"vnnlib/{name}.vnnlib", expected))

    def rounded(v: float) -> float:
        return float(f"{v:.6g}")

    # ctrl_rank1: one output bound, holding and violated
    net = from_onnx(HERE / "onnx" / "ctrl_rank1.onnx")
    lo, hi = np.full(5, -1.0), np.full(5, 1.0)
    exact, sampled = _range(net, lo, hi, rng)
    gap = 0.05 * (abs(exact[0]) + 1)
    head = _declare(5, 3) + _box(lo, hi)
    prop("rank1_y0_holds", head + f"(assert (>= Y_0 {rounded(exact[0] + gap)}))\n", "ctrl_rank1", "unsat")
    prop("rank1_y0_violated", head + f"(assert (>= Y_0 {rounded(sampled[0] - gap)}))\n", "ctrl_rank1", "sat")

    # ctrl_4d: disjunction of output bounds (holding), and "Y_0 is the minimum" (violated)
    net = from_onnx(HERE / "onnx" / "ctrl_4d.onnx")
    lo, hi = np.full(5, -0.5), np.full(5, 0.5)
    exact, sampled = _range(net, lo, hi, rng)
    head = _declare(5, 5) + _box(lo, hi)
    ors = " ".join(f"(>= Y_{j} {rounded(exact[j] + 0.05 * (abs(exact[j]) + 1))})" for j in range(3))
    prop("4d_disjunction_holds", head + f"(assert (or {ors}))\n", "ctrl_4d", "unsat")
    counts = np.bincount(net.forward(rng.uniform(lo, hi, size=(20000, 5))).argmin(1), minlength=5)
    k = int(np.argmin(np.where(counts > 0, counts, counts.max() + 1)))  # the output least often the minimum
    mins = "".join(f"(assert (<= Y_{k} Y_{j}))\n" for j in range(5) if j != k)
    prop("4d_minimum_violated", head + mins, "ctrl_4d", "sat")

    # mlp_batch1: several input boxes (disjunction of boxes), one violated, one holding
    net = from_onnx(HERE / "onnx" / "mlp_batch1.onnx")
    boxes = [(np.full(4, a), np.full(4, a + 0.4)) for a in (-1.0, -0.2, 0.6)]
    ranges = [_range(net, b[0], b[1], rng) for b in boxes]
    top = max(float(e[1]) for e, _ in ranges)
    hold = rounded(top + 0.05 * (abs(top) + 1))
    disj = " ".join(f"(and {_box_terms(a, b)} (>= Y_1 {hold}))" for a, b in boxes)
    prop("batch1_boxes_holds", _declare(4, 2) + f"(assert (or {disj}))\n", "mlp_batch1", "unsat")
    best = int(np.argmax([s[1] for _, s in ranges]))
    reach = rounded(float(ranges[best][1][1]) - 0.05 * (abs(float(ranges[best][1][1])) + 1))
    above = [k for k, (e, _) in enumerate(ranges) if e[1] < reach]
    assert above, "every box reaches the threshold: pick other boxes"
    disj = " ".join(f"(and {_box_terms(a, b)} (>= Y_1 {reach}))" for a, b in boxes)
    prop("batch1_boxes_violated", _declare(4, 2) + f"(assert (or {disj}))\n", "mlp_batch1", "sat")

    (HERE / "instances.csv").write_text("".join(f"{o},{v},{TIMEOUT}\n" for o, v, _ in rows))
    (HERE / "expected.csv").write_text("onnx,vnnlib,expected\n" + "".join(f"{o},{v},{e}\n" for o, v, e in rows))
    print(f"{len(rows)} instances -> {HERE / 'instances.csv'}")


if __name__ == "__main__":
    main()
