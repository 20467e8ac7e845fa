"""VNN-LIB: parsing, both verdicts, disjunctions, several input boxes, errors, and the CLI on ONNX."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import random_dense_net

from mipnet.cli import cli
from mipnet.cli.verify import verify
from mipnet.errors import DataError, ModelFormatError
from mipnet.io import save_model
from mipnet.verify.vnnlib import CHECK_TOL, check_property, parse_vnnlib

if "verify" not in cli.commands:
    cli.add_command(verify)

NET = random_dense_net(np.random.default_rng(1), [3, 8, 8, 3])


def header(n_in: int = 3, n_out: int = 3) -> str:
    return "".join(f"(declare-const X_{i} Real)\n" for i in range(n_in)) + "".join(
        f"(declare-const Y_{j} Real)\n" for j in range(n_out)
    )


def box(r: float, center: float = 0.0) -> str:
    return "".join(f"(assert (<= X_{i} {center + r}))\n(assert (>= X_{i} {center - r}))\n" for i in range(3))


def sampled_unsafe(lo: float, hi: float, pred) -> bool:
    X = np.random.default_rng(0).uniform(lo, hi, (20000, 3))
    Y = NET.forward(X)
    return bool(np.any(pred(Y)))


def test_parse_structure() -> None:
    p = parse_vnnlib(
        header()
        + "; comment\n"
        + box(0.1)
        + "(assert (or (and (>= Y_0 Y_2) (<= (+ Y_1 (* 2 Y_0)) 0.5)) (and (< Y_1 (- Y_2 1)))))"
    )
    assert (p.n_inputs, p.n_outputs, len(p.disjuncts)) == (3, 3, 2)
    ((lo, hi, conjs),) = p.boxes()
    np.testing.assert_allclose(lo, -0.1)
    np.testing.assert_allclose(hi, 0.1)
    a = conjs[0][1]  # Y_1 + 2 Y_0 - 0.5 <= 0
    assert a.b == {1: 1.0, 0: 2.0} and a.c == pytest.approx(-0.5) and not a.strict
    s = conjs[1][0]  # Y_1 - Y_2 + 1 < 0
    assert s.b == {1: 1.0, 2: -1.0} and s.c == pytest.approx(1.0) and s.strict


def test_holds_and_violated_agree_with_sampling() -> None:
    # class at the origin's neighbourhood: the largest output there
    y0 = NET.forward(np.zeros((1, 3)))[0]
    c = int(np.argmax(y0))
    k = int(np.argmin(y0))
    safe = header() + box(0.05) + f"(assert (>= Y_{k} Y_{c}))"
    r = check_property(NET, parse_vnnlib(safe))
    assert r.verdict == "holds"
    assert not sampled_unsafe(-0.05, 0.05, lambda Y: Y[:, k] >= Y[:, c])
    unsafe = header() + box(1.0) + f"(assert (>= Y_{k} Y_{c}))"
    assert sampled_unsafe(-1, 1, lambda Y: Y[:, k] >= Y[:, c])
    r = check_property(NET, parse_vnnlib(unsafe))
    assert r.verdict == "violated"
    assert np.all(np.abs(r.x) <= 1.0) and r.y[k] >= r.y[c] - CHECK_TOL  # a boundary witness is allowed
    np.testing.assert_allclose(r.y, NET.forward(r.x[None])[0])


def test_disjunction_needs_the_violated_branch() -> None:
    y0 = NET.forward(np.zeros((1, 3)))[0]
    c, k = int(np.argmax(y0)), int(np.argmin(y0))
    impossible = f"(and (>= Y_{k} Y_{c}) (<= Y_{c} -1000))"
    reachable = f"(and (<= Y_{k} Y_{c}) (>= Y_{c} {y0[c] - 0.01}))"  # true at the origin
    r = check_property(NET, parse_vnnlib(header() + box(0.05) + f"(assert (or {impossible} {reachable}))"))
    assert r.verdict == "violated"
    assert r.y[k] <= r.y[c] and r.y[c] >= y0[c] - 0.01 - 1e-9
    r = check_property(NET, parse_vnnlib(header() + box(0.05) + f"(assert (or {impossible} {impossible}))"))
    assert r.verdict == "holds"


def test_input_disjunction_is_several_boxes() -> None:
    y0 = NET.forward(np.zeros((1, 3)))[0]
    c, k = int(np.argmax(y0)), int(np.argmin(y0))
    far = "(and " + " ".join(f"(<= X_{i} 1.0) (>= X_{i} -1.0)" for i in range(3)) + ")"
    near = "(and " + " ".join(f"(<= X_{i} 0.05) (>= X_{i} -0.05)" for i in range(3)) + ")"
    text = header() + f"(assert (or {near} {far}))\n(assert (>= Y_{k} Y_{c}))"
    p = parse_vnnlib(text)
    assert len(p.boxes()) == 2
    assert check_property(NET, p).verdict == "violated"
    assert (
        check_property(NET, parse_vnnlib(header() + f"(assert (or {near} {near}))\n(assert (>= Y_{k} Y_{c}))")).verdict
        == "holds"
    )


@pytest.mark.parametrize(
    "text,match",
    [
        ("(declare-const X_0 Real)\n(assert (<= X_0 1)", "unbalanced"),
        ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= Z 1))", "undeclared"),
        ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= (* X_0 Y_0) 1))", "nonlinear"),
        ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (xor Y_0 1))", "unsupported operator"),
        ("(declare-const X_1 Real)(declare-const Y_0 Real)", "numbered"),
        ("(declare-const A Real)", "named X_i or Y_j"),
        ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= X_0 1_000))", "not a number"),
        (
            "(declare-const X_0 Real)(declare-const Y_0 Real)(assert " + "(and " * 600 + "(<= X_0 1)" + ")" * 601,
            "nested too deeply",
        ),
        ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= Y_0 (-)))", "without operands"),
        ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= Y_0 (+)))", "without operands"),
        ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= Y_0 (*)))", "without operands"),
        ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= Y_0 \u0660.\u0669))", "ASCII"),
        ("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= Y_0 \uff11e\uff10))", "ASCII"),
        ("(declare-const X_0 Real)(declare-const X_0 Real)(declare-const Y_0 Real)", "declared twice"),
    ],
)
def test_parse_errors(text: str, match: str) -> None:
    with pytest.raises(ModelFormatError, match=match):
        parse_vnnlib(text)


def test_shape_and_box_errors() -> None:
    with pytest.raises(DataError, match="inputs"):
        check_property(NET, parse_vnnlib(header(2, 3) + "(assert (<= Y_0 Y_1))"))
    with pytest.raises(DataError, match="unbounded"):  # NET's domain is [-1, 1]^3, so widen it
        wide = NET.with_domain(type(NET.domain).box(3, -np.inf, np.inf))
        check_property(wide, parse_vnnlib(header() + "(assert (<= X_0 1))(assert (<= Y_0 Y_1))"))


def test_cli_on_onnx(tmp_path) -> None:
    save_model(NET, tmp_path / "net.onnx")
    y0 = NET.forward(np.zeros((1, 3)))[0]
    c, k = int(np.argmax(y0)), int(np.argmin(y0))
    (tmp_path / "safe.vnnlib").write_text(header() + box(0.05) + f"(assert (>= Y_{k} Y_{c}))")
    (tmp_path / "unsafe.vnnlib").write_text(header() + box(1.0) + f"(assert (>= Y_{k} Y_{c}))")
    (tmp_path / "bad.vnnlib").write_text("(assert (<= X_0")
    run = CliRunner().invoke
    r = run(cli, ["verify", "vnnlib", str(tmp_path / "net.onnx"), str(tmp_path / "safe.vnnlib")])
    assert r.exit_code == 0 and r.output.splitlines()[0] == "holds"
    r = run(cli, ["verify", "vnnlib", str(tmp_path / "net.onnx"), str(tmp_path / "unsafe.vnnlib"), "--timeout", "20"])
    assert r.exit_code == 1 and r.output.splitlines()[0] == "violated"
    assert "(X_0 " in r.output and "(Y_2 " in r.output
    r = run(cli, ["verify", "vnnlib", str(tmp_path / "net.onnx"), str(tmp_path / "bad.vnnlib")])
    assert r.exit_code == 2 and r.output.splitlines()[0] == "error"


# ----------------------------------------------------------------------------- soundness: the box as given


def toy_net():
    """The issue's toy net: domain age in [18, 90], score in [0, 1]; f(0, 10) = -18.9."""
    from mipnet import Dense, Domain, Network, ReLU

    return Network(
        [
            Dense(np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0.0, -1.0])),
            ReLU(),
            Dense(np.array([[1.0, -1.0]]), np.array([0.1])),
        ],
        domain=Domain(["age", "score"], lower=[18, 0], upper=[90, 1]),
    )


TOY_PROP = (
    "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)"
    "(assert (>= X_0 0)) (assert (<= X_0 1)) (assert (>= X_1 5)) (assert (<= X_1 10)) (assert (<= Y_0 0))"
)


def test_box_outside_the_domain_is_verified_as_given() -> None:
    net = toy_net()
    assert net.forward(np.array([[0.0, 10.0]]))[0, 0] == pytest.approx(-18.9)
    r = check_property(net, parse_vnnlib(TOY_PROP))
    assert r.verdict == "violated"
    assert 0 <= r.x[0] <= 1 and 5 <= r.x[1] <= 10 and r.y[0] <= CHECK_TOL
    np.testing.assert_allclose(r.y, net.forward(r.x[None])[0])
    assert r.warnings and "domain" in r.warnings[0]


@pytest.mark.parametrize("suffix", [".onnx", ".json"])
def test_cli_box_outside_the_domain(tmp_path, suffix: str) -> None:
    save_model(toy_net(), tmp_path / f"toy{suffix}")
    (tmp_path / "p.vnnlib").write_text(TOY_PROP)
    r = CliRunner().invoke(cli, ["verify", "vnnlib", str(tmp_path / f"toy{suffix}"), str(tmp_path / "p.vnnlib")])
    assert r.exit_code == 1 and r.stdout.splitlines()[0] == "violated"
    assert "warning:" in r.stderr and "domain" in r.stderr


def test_integer_features_and_onehot_groups_are_not_imposed() -> None:
    from mipnet import Dense, Domain, Network, ReLU

    # f(x) = 1 - |x_0| on an integer feature in [-2, 2]: the integers of the box [0.2, 1] have f <= 0.2,
    # the reals reach f = 0.8
    dom = Domain(["n"], [-2.0], [2.0], integer=[True])
    net = Network(
        [Dense(np.array([[1.0], [-1.0]]), np.zeros(2)), ReLU(), Dense(np.array([[-1.0, -1.0]]), [1.0])], domain=dom
    )
    prop = (
        "(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= X_0 0.2))(assert (<= X_0 1))(assert (>= Y_0 0.5))"
    )
    r = check_property(net, parse_vnnlib(prop))
    assert r.verdict == "violated" and 0.2 <= r.x[0] <= 0.5
    # f(x) = x_0 + x_1 on a one-hot pair: the box [0.4, 0.6]^2 holds no one-hot point, f = 1.2 at its corner
    dom = Domain(["a", "b"], [0.0, 0.0], [1.0, 1.0], onehot_groups=[[0, 1]])
    net = Network([Dense(np.eye(2), np.zeros(2)), ReLU(), Dense(np.array([[1.0, 1.0]]), [0.0])], domain=dom)
    prop = (
        "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)"
        "(assert (>= X_0 0.4))(assert (<= X_0 0.6))(assert (>= X_1 0.4))(assert (<= X_1 0.6))(assert (>= Y_0 1.1))"
    )
    r = check_property(net, parse_vnnlib(prop))
    assert r.verdict == "violated" and r.y[0] >= 1.1 - CHECK_TOL and np.all((r.x >= 0.4) & (r.x <= 0.6))


@pytest.mark.parametrize("num", ["nan", "NaN", "inf", "-inf", "+inf", "infinity", "1e400"])
def test_non_finite_numbers_are_input_errors(tmp_path, num: str) -> None:
    text = TOY_PROP.replace("(>= X_0 0)", f"(>= X_0 {num})")
    with pytest.raises(ModelFormatError, match="finite"):
        parse_vnnlib(text)
    save_model(toy_net(), tmp_path / "toy.onnx")
    (tmp_path / "p.vnnlib").write_text(text)
    r = CliRunner().invoke(cli, ["verify", "vnnlib", str(tmp_path / "toy.onnx"), str(tmp_path / "p.vnnlib")])
    assert r.exit_code == 2 and r.stdout.splitlines()[0] == "error"
    assert len(r.stderr.splitlines()) == 1 and "finite" in r.stderr


@pytest.mark.parametrize("suffix", [".onnx", ".json"])
@pytest.mark.parametrize(
    "bounds",
    [
        "(assert (<= X_0 1)) (assert (>= X_1 5)) (assert (<= X_1 10))",
        "(assert (>= X_1 5)) (assert (<= X_1 10))",
        "(assert (>= X_0 0)) (assert (<= X_0 1)) (assert (>= X_1 5))",
    ],
)
def test_unbounded_box_is_refused_for_every_format(tmp_path, suffix: str, bounds: str) -> None:
    text = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)" + bounds + "(assert (<= Y_0 0))"
    net = toy_net()  # a finite domain: it must not bound the property's box
    with pytest.raises(DataError, match="unbounded"):
        check_property(net, parse_vnnlib(text))
    save_model(net, tmp_path / f"toy{suffix}")
    (tmp_path / "p.vnnlib").write_text(text)
    r = CliRunner().invoke(cli, ["verify", "vnnlib", str(tmp_path / f"toy{suffix}"), str(tmp_path / "p.vnnlib")])
    assert r.exit_code == 2 and r.stdout.splitlines()[0] == "error"
    assert len(r.stderr.splitlines()) == 1 and "unbounded" in r.stderr


def test_strict_input_bound_is_respected_by_the_witness() -> None:
    from mipnet import Dense, Domain, Network, ReLU

    # f(x) = ReLU(x_0): with X_0 > 0.5 no input gives Y_0 <= 0.5 (only X_0 = 0.5, outside the open box)
    net = Network(
        [Dense(np.array([[1.0]]), [0.0]), ReLU(), Dense(np.array([[1.0]]), [0.0])], domain=Domain.box(1, -1.0, 1.0)
    )
    prop = (
        "(declare-const X_0 Real)(declare-const Y_0 Real)(assert (> X_0 0.5))(assert (<= X_0 1))(assert (<= Y_0 0.5))"
    )
    r = check_property(net, parse_vnnlib(prop))
    assert r.verdict != "violated" or r.x[0] > 0.5


def test_empty_input_set_holds_vacuously_with_a_warning() -> None:
    text = header() + box(1.0) + "(assert (>= X_0 0.5))(assert (<= X_0 0))(assert (<= Y_0 Y_1))"
    r = check_property(NET, parse_vnnlib(text))
    assert r.verdict == "holds" and any("vacuously" in w for w in r.warnings)


def test_every_box_attacked_before_any_is_proved(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two input boxes: a counterexample the attack finds in the second box is found even when the first box
    would take the whole limit to prove."""
    from mipnet.verify import vnnlib as vnn

    y0 = NET.forward(np.zeros((1, 3)))[0]
    c, k = int(np.argmax(y0)), int(np.argmin(y0))
    far = "(and " + " ".join(f"(<= X_{i} 1.0) (>= X_{i} -1.0)" for i in range(3)) + ")"
    near = "(and " + " ".join(f"(<= X_{i} 0.05) (>= X_{i} -0.05)" for i in range(3)) + ")"
    p = parse_vnnlib(header() + f"(assert (or {near} {far}))\n(assert (>= Y_{k} Y_{c}))")

    def no_solve(*args, **kwargs):
        raise AssertionError("a box was solved before every box was attacked")

    monkeypatch.setattr(vnn, "_solve_box", no_solve)
    r = check_property(NET, p, time_limit=20)
    assert r.verdict == "violated" and r.prover == "attack"
    assert np.all(np.abs(r.x) <= 1.0) and r.y[k] >= r.y[c] - CHECK_TOL
    np.testing.assert_allclose(r.y, NET.forward(r.x[None])[0])


def test_a_witness_just_outside_the_unsafe_region_is_not_a_violation() -> None:
    """y = -0.9 x_1 on x_1 in [0.5, 1]: min y = -0.9, so "y <= -0.9000005" is unreachable and the property holds.
    The witness x_1 = 1 (y = -0.9) is 5e-7 outside: with a 1e-6 tolerance it was reported violated (and "sat")."""
    from mipnet.layers import Dense
    from mipnet.network import Network

    net = Network([Dense(np.array([[0.0, -0.9]]), np.zeros(1))])
    text = (
        "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n"
        "(assert (>= X_0 0.0))\n(assert (<= X_0 0.0))\n(assert (>= X_1 0.5))\n(assert (<= X_1 1.0))\n"
    )
    r = check_property(net, parse_vnnlib(text + "(assert (<= Y_0 -0.9000005))\n"))
    assert r.verdict != "violated", r
    r = check_property(net, parse_vnnlib(text + "(assert (<= Y_0 -0.8999995))\n"))
    assert r.verdict == "violated" and r.y[0] <= -0.8999995  # reachable: a real witness, checked exactly


def test_witness_sampling_stops_at_the_deadline_between_points() -> None:
    """find_witness checks the deadline every 32 points, not only between chunks of 2048: a Python check over many
    atoms (9 disjuncts of 784 input bounds) took 35 s per chunk, past a 2 s limit."""
    from mipnet.verify.input_split import find_witness

    class Expires:  # not expired at the chunk's start, expired at the first check inside it
        calls = 0

        def expired(self) -> bool:
            self.calls += 1
            return self.calls > 1

    seen: list[int] = []

    def never(x, y) -> bool:
        seen.append(1)
        return False

    out = find_witness(NET, -np.ones(3), np.ones(3), never, n=4096, deadline=Expires())  # type: ignore[arg-type]
    assert out is None and len(seen) == 31


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_a_final_softmax_is_never_verified_through_the_logits_for_values(tmp_path, op: str) -> None:
    """The import drops a final Softmax; "Y_0 <= 0" (never true of probabilities) was reported violated with a logit
    of -0.9, and a reachable property "holds". Order-only properties stay exact and decided; their Y are the graph's
    outputs (probabilities), as onnxruntime gives them."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from mipnet.errors import UnsupportedError
    from mipnet.io import load_model

    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(3, 2)), rng.normal(size=3)
    nodes = [
        helper.make_node("Gemm", ["input", "W", "b"], ["z"], transB=1),
        helper.make_node(op, ["z"], ["output"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("input", TensorProto.DOUBLE, ["N", 2])],
        [helper.make_tensor_value_info("output", TensorProto.DOUBLE, ["N", 3])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    net = load_model(path)
    box2 = "".join(f"(assert (<= X_{i} 1.0))\n(assert (>= X_{i} -1.0))\n" for i in range(2))
    with pytest.raises(UnsupportedError, match="bounds output values"):
        check_property(net, parse_vnnlib(header(2) + box2 + "(assert (<= Y_0 0.0))\n"), time_limit=10)
    res = check_property(net, parse_vnnlib(header(2) + box2 + "(assert (>= Y_0 Y_1))\n"), time_limit=10)
    X = rng.uniform(-1, 1, (4000, 2))
    Z = X @ W.T + b
    assert (res.verdict == "violated") == bool(np.any(Z[:, 0] >= Z[:, 1]))
    if res.verdict == "violated":
        sess = ort.InferenceSession(str(path))
        got = sess.run(None, {"input": np.asarray(res.x, dtype=np.float64)[None]})[0][0]
        np.testing.assert_allclose(res.y, got, rtol=1e-9, atol=1e-12)


def test_the_attack_screen_keeps_every_point_the_exact_check_accepts() -> None:
    """find_witness runs the atom-by-atom check only on the rows a vectorised screen passes (the Python check over
    9 disjuncts of 784 input bounds used up a 30 s limit): the screen must pass every row the check accepts,
    including points exactly on an atom's boundary (v = 0) and both strict and non-strict atoms."""
    from mipnet.verify.vnnlib import _Check
    from mipnet.verify.vnnlib_format import Atom

    rng = np.random.default_rng(3)
    for trial in range(30):
        n_in, n_out = 3, 3
        disjuncts = [
            [
                Atom(
                    {i: float(rng.normal()) for i in rng.choice(n_in, rng.integers(0, 2), replace=False)},
                    {j: float(rng.normal()) for j in rng.choice(n_out, rng.integers(1, 3), replace=False)},
                    float(rng.normal()),
                    strict=bool(rng.integers(2)),
                )
                for _ in range(rng.integers(1, 3))
            ]
            for _ in range(rng.integers(1, 4))
        ]
        X = rng.uniform(-1, 1, (400, n_in))
        Y = NET.forward(X)
        at = disjuncts[0][0]  # plant points on the first atom's boundary: move Y_j so that the value is 0
        j, v = next(iter(at.b.items()))
        for n in range(0, 400, 7):
            Y[n, j] -= at.value(X[n], Y[n]) / v
        chk = _Check(disjuncts, disjuncts, n_in, n_out)
        exact = np.array([chk(x, y) for x, y in zip(X, Y)])
        assert not np.any(exact & ~chk.screen(X, Y)), trial


def test_a_failed_witness_is_retried_closer_to_the_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    """A violation with a margin of 1e-6: the MILP's first witness failed the re-check, the one retry 1e-5 inside
    the unsafe region was infeasible, and the answer was "unknown: the only witnesses lie on the boundary" with 29 s
    of the limit left. The retries now go down to 1e-9."""
    import mipnet.verify.vnnlib as V

    prop = parse_vnnlib(header() + box(1.0) + "(assert (>= Y_0 Y_1))\n")
    g = prop.box_groups()[0]
    good = next(
        x
        for x in np.random.default_rng(0).uniform(-1, 1, (5000, 3))
        if V.some_disjunct_holds(g.whole, x, NET.forward(x[None])[0])
    )
    bad = np.full(3, 5.0)  # outside the box: fails the re-check
    tried = []

    def fake(net, lo, hi, rest, solver, dl, bounds, threads, delta, res, pipeline, processes):
        tried.append(delta)
        return {0.0: ("feasible", bad), V.RETRY_DELTAS[0]: ("infeasible", None)}.get(delta, ("feasible", good))

    monkeypatch.setattr(V, "_solve_box", fake)
    out = V.decide_box(NET, g, "highs", V.Deadline.of(30), "linear", None, V.VnnResult(verdict="unknown"))
    assert out.verdict == "violated" and tried == [0.0, V.RETRY_DELTAS[0], V.RETRY_DELTAS[1]]


def test_the_milp_witness_lies_deep_in_the_unsafe_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """The MILP minimises how deep its point lies inside the unsafe region (all atoms <= t, t minimised, stop at
    STOP_DEPTH): a feasibility MILP returned a point on the region's boundary (a tie the forward-pass re-check can
    refute), and a second MILP had to follow. Here the attack is switched off so that the MILP answers: one MILP,
    and its witness is at least about STOP_DEPTH inside every atom of one disjunct."""
    from mipnet.domain import Domain
    from mipnet.layers import Dense, ReLU
    from mipnet.network import Network
    from mipnet.verify import vnnlib as vnn

    rng = np.random.default_rng(3)
    for seed in range(4):
        net = Network(
            [
                Dense(rng.normal(size=(6, 3)), rng.normal(size=6) * 0.3),
                ReLU(),
                Dense(rng.normal(size=(3, 6)), [0, 0, 0]),
            ],
            domain=Domain.box(3, -1.0, 1.0),
        )
        y0 = net.forward(np.zeros((1, 3)))[0]
        c = int(np.argmax(y0))
        rivals = " ".join(f"(and (>= Y_{j} Y_{c}))" for j in range(3) if j != c)
        p = parse_vnnlib(header() + box(1.0) + f"(assert (or {rivals}))")
        monkeypatch.setattr(vnn, "find_witness", lambda *a, **k: None)
        monkeypatch.setattr(vnn, "SPLIT_INPUTS", 0)  # the one MILP over the box, no input branch-and-bound
        r = check_property(net, p, time_limit=30, pipeline="milp")
        X = rng.uniform(-1, 1, (20000, 3))
        Y = net.forward(X)
        reachable = bool(np.any(np.delete(Y, c, axis=1).max(axis=1) >= Y[:, c]))
        if r.verdict == "violated":
            assert r.statuses[-1] != "infeasible" and len(r.statuses) == 1, r.statuses
            y = net.forward(r.x[None])[0]
            assert max(y[j] - y[c] for j in range(3) if j != c) >= 0.5 * vnn.STOP_DEPTH
        else:
            assert r.verdict == "holds" and not reachable, (seed, r.verdict)


def test_counts_names_and_numerals_are_read_exactly() -> None:
    """64 assertions of 2 disjuncts: the count wrapped to 0 in int64, passed the cap and exhausted memory; X_01 was
    read as X_1 (its own bounds emptied the box: a vacuous "holds"); 3e-322 * X_0 <= 1e-322 became X_0 <= 0.33 in
    subnormal arithmetic."""
    two = "".join(f"(assert (or (>= X_0 {i}.0) (<= X_1 {i}.0)))\n" for i in range(64))
    with pytest.raises(ModelFormatError, match="18446744073709551616 disjuncts"):
        parse_vnnlib(header() + box(0.1) + two)
    with pytest.raises(ModelFormatError, match="'X_01'"):
        parse_vnnlib(header() + "(declare-const X_01 Real)\n" + box(0.1) + "(assert (>= Y_0 Y_1))")
    with pytest.raises(ModelFormatError, match="smallest normal float"):
        parse_vnnlib(header() + box(0.1) + "(assert (<= (* 3e-322 Y_0) 1e-322))")
    with pytest.raises(ModelFormatError, match="underflows to 0"):
        parse_vnnlib(header() + box(0.1) + "(assert (<= Y_0 1e-400))")
    assert parse_vnnlib(header() + box(0.1) + "(assert (<= Y_0 0.0e5))").n_outputs == 3


def test_a_max_pool_net_with_terms_of_1e9_is_not_proved_by_an_infeasible_milp() -> None:
    """Normalize(x1000) -> MaxPool2D(1x2) -> Flatten -> Dense on a box of +-2e5: HiGHS called the MILP infeasible
    ("holds") where a point lies 21 772 deep in the unsafe region (SCIP and Gurobi find it); two windows tie there."""
    from mipnet import Dense, Domain, Flatten, MaxPool2D, Network, Normalize

    lo = [-106734.258489, -10929.161602, -124361.665622, -196317.75835, -134423.926004, -192765.164874,
          -51247.270301, -15466.940828, -58196.97874, -62371.414365, -111264.124459, -70993.629059, -182117.999161,
          -104572.018643, -4333.454311, -186785.992933]  # fmt: skip
    hi = [93265.741511, 189070.838398, 75638.334378, 3682.24165, 65576.073996, 7234.835126, 148752.729699,
          184533.059172, 141803.02126, 137628.585635, 88735.875541, 129006.370941, 17882.000839, 95427.981357,
          195666.545689, 13214.007067]  # fmt: skip
    W = np.array([[-1.0, 0, 0, -2, -1, -1, 1, 2, -2, 2, 0, 1], [-2, 0, 0, 2, 2, 2, -2, 2, 2, 0, 1, -1],
                  [0, 1, 0, 2, 0, -2, 0, -1, 0, 0, 1, -1]])  # fmt: skip
    layers = [Normalize(np.full((1, 1, 1), 1000.0), np.full((1, 1, 1), 0.5)), MaxPool2D((1, 2), (1, 1)), Flatten()]
    dom = Domain([f"x{i}" for i in range(16)], np.full(16, -3e5), np.full(16, 3e5))
    net = Network([*layers, Dense(W, np.array([0.25, 0.25, 0.5]))], input_shape=(1, 4, 4), domain=dom)
    xw = np.clip([-10929.161602, -10929.161602, -124361.665622, -196317.75835, 65576.073996, -192765.164874,
                  148752.729699, 184533.059172, -58196.97874, -62371.414365, 88735.875541, 129006.370941,
                  -182117.999161, -104572.018643, -4333.454311, -4333.454311], lo, hi)  # fmt: skip
    y = net.forward(xw[None])[0]
    t = float(y[1] - y[0]) * (1 - 1e-5)
    text = "".join(f"(declare-const X_{k} Real)" for k in range(16)) + "".join(
        f"(declare-const Y_{k} Real)" for k in range(3)
    )
    text += "".join(f"(assert (>= X_{k} {lo[k]!r}))(assert (<= X_{k} {hi[k]!r}))" for k in range(16))
    text += f"(assert (>= (- Y_1 Y_0) {t!r}))"
    r = check_property(net, parse_vnnlib(text), time_limit=20)
    assert r.verdict != "holds", r.reason
    if r.verdict == "violated":
        y = net.forward(np.asarray(r.counterexample)[None])[0]
        assert y[1] - y[0] >= t


def test_coefficients_are_summed_exactly() -> None:
    """0.1 Y + 0.2 Y - 0.3 Y is 0 Y: summed in floats it left 5.6e-17 Y, so "0 <= 0" (every point) became "Y <= 0"
    and a net with Y >= 1 "held"."""
    head = "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (>= X_0 0))\n(assert (<= X_0 1))\n"
    prop = parse_vnnlib(head + "(assert (<= (+ (* 0.1 Y_0) (* 0.2 Y_0) (* -0.3 Y_0)) 0))\n")
    atom = prop.disjuncts[0][-1]
    assert atom.b == {} and atom.a == {} and atom.c == 0.0
    prop = parse_vnnlib(head + "(assert (<= (+ Y_0 0.1 0.2) 0.3))\n")  # Y <= 0 exactly, not Y <= -5.6e-17
    atom = prop.disjuncts[0][-1]
    assert atom.b == {0: 1.0} and atom.c == 0.0


def test_the_milp_s_infeasible_is_no_proof_where_the_unsafe_region_is_thinner_than_its_tolerances():
    """A box 1e-9 wide near 1e-6: the bounds leave the unsafe region 6.5e-8 deep, a point reaches it (exactly, in
    rationals), and HiGHS called the MILP infeasible: pipeline "milp" said "holds". It stays undecided now."""
    from fractions import Fraction as F

    from mipnet.domain import Domain
    from mipnet.layers import Dense, ReLU
    from mipnet.network import Network

    W1 = np.array([[307.9147511017051, -1138.316431992075], [-380.2709577038866, 1621.8776809364435],
                   [259.15072701133806, 176.55934930486896], [199.82912315515762, -893.2506387698469],
                   [801.8594196522781, -428.69289868940683], [1187.4488180975413, -224.15130848621567]])  # fmt: skip
    b1 = np.array([0.0008308598649593584, -0.0012430052272398725, -0.0004354501386050354, 0.0006929424595440295,
                   -0.0003729847149647705, -0.0009635697827605192])  # fmt: skip
    W2 = np.array([[0.4044628380296772, 1.322906217942813, 0.11647645186627, 0.10874282406953742,
                    -0.046308371821261574, 1.3963209450034426]])  # fmt: skip
    b2, thr = np.array([0.8880722436748965]), 0.8880733245405023
    lo, hi, xb = 9.995e-07, 1.0005e-06, [1.0004972416459931e-06, 9.995034013546703e-07]
    net = Network([Dense(W1, b1), ReLU(), Dense(W2, b2)], domain=Domain(["x0", "x1"], [-1e9] * 2, [1e9] * 2),
                  task="regress")  # fmt: skip
    hidden = [max(F(0), sum((F(w) * F(v) for w, v in zip(W1[j], xb)), F(b1[j]))) for j in range(6)]
    assert sum((F(W2[0, j]) * hidden[j] for j in range(6)), F(b2[0])) >= F(thr)  # the witness is one, exactly
    text = "\n".join(
        ["(declare-const X_0 Real)", "(declare-const X_1 Real)", "(declare-const Y_0 Real)"]
        + [f"(assert (>= X_{i} {lo!r}))\n(assert (<= X_{i} {hi!r}))" for i in range(2)]
        + [f"(assert (>= Y_0 {thr!r}))"]
    )
    r = check_property(net, parse_vnnlib(text), time_limit=10, solver="highs", pipeline="milp")
    assert r.verdict in ("violated", "unknown"), (r.verdict, r.reason)
    assert check_property(net, parse_vnnlib(text), time_limit=10).verdict == "violated"


def test_a_witness_is_checked_in_exact_arithmetic_on_the_numerals_as_written() -> None:
    """3 X_0 >= 1 and Y_0 = X_0 <= 0.3333333333333333 (a decimal below 1/3): no real point lies in the unsafe region.
    At X_0 = 0.3333333333333333 the triple rounds to 1.0 in floats, so the float test accepted the point: a
    "violated" whose witness is outside the property's input set."""
    from mipnet.layers import Dense
    from mipnet.network import Network

    text = (
        "(declare-const X_0 Real)(declare-const Y_0 Real)"
        "(assert (>= (* 3 X_0) 1))(assert (<= X_0 1))(assert (<= Y_0 0.3333333333333333))"
    )
    prop = parse_vnnlib(text)
    x = np.array([0.3333333333333333])
    assert 3 * x[0] == 1.0  # the float test's error
    (conj,) = prop.disjuncts
    assert not all(a.holds_at(x, x) for a in conj)  # 3 x < 1 exactly
    assert all(a.holds_at(np.array([0.5]), np.array([0.3])) for a in conj[1:])  # the others decided as before
    (g,) = prop.box_groups()  # the face 1/3: outward for proofs, inward for witnesses, one float apart
    assert Fraction(g.lower[0]) < Fraction(1, 3) < Fraction(g.inner_lower[0])
    assert g.inner_lower[0] == np.nextafter(g.lower[0], 1.0) and g.upper[0] == g.inner_upper[0] == 1.0
    net = Network([Dense(np.eye(1), np.zeros(1))])
    assert check_property(net, prop, time_limit=30).verdict != "violated"
    # planted just inside (the unsafe region [1/3, 1/3 + 1e-9]): a witness, in the region exactly
    inside = text.replace("0.3333333333333333)", "0.3333333343333333)")
    r = check_property(net, parse_vnnlib(inside), time_limit=30)
    assert r.verdict == "violated"
    assert 3 * Fraction(float(r.x[0])) >= 1 and Fraction(float(r.y[0])) <= Fraction("0.3333333343333333")


def test_the_property_parser_imports_no_solver_layer() -> None:
    """`vnncomp run` parses the property before the MILP encoders are imported (Pyomo took 4.4 s on a loaded machine,
    and a malformed property then ended as "timeout" instead of "error"): the parser's import leaves them out."""
    import subprocess
    import sys

    code = "import sys, mipnet.verify.vnnlib_format; print('pyomo' in sys.modules, 'mipnet.encode' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"], out
