"""Robustness verification: the MILP's worst margin against dense sampling, verdict soundness and
stability under looser bounds, minimal perturbations, and the CLI's exit codes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import random_dense_net
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet.cli import cli
from mipnet.cli.verify import verify
from mipnet.errors import DataError, UnsupportedError
from mipnet.io import save_model
from mipnet.network import Network
from mipnet.solve import Result
from mipnet.verify import robustness as rob
from mipnet.verify.robustness import margins, minimal_perturbation, verify_robustness, verify_sample

if "verify" not in cli.commands:
    cli.add_command(verify)


def sample_ball(net: Network, x: np.ndarray, eps: float, norm: str, n: int, seed: int) -> np.ndarray:
    """Uniform points of the L-inf ball, or of the L1 ball (random directions, random radii), in the domain."""
    rng = np.random.default_rng(seed)
    if norm == "inf":
        S = x + rng.uniform(-eps, eps, (n, x.size))
        S = np.vstack([S, x + eps * np.sign(rng.normal(size=(n, x.size)))])  # corners
    else:
        d = rng.laplace(size=(2 * n, x.size))
        d /= np.abs(d).sum(axis=1, keepdims=True)
        S = x + d * eps * rng.uniform(0, 1, (2 * n, 1)) ** (1 / x.size)
        E = np.eye(x.size)
        S = np.vstack([S, x + eps * E, x - eps * E])  # the L1 ball's vertices
    return np.clip(S, net.domain.lower, net.domain.upper)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    st.integers(0, 100_000),
    st.sampled_from([[3, 6, 6, 3], [2, 5, 4, 1], [3, 8, 4]]),
    st.sampled_from(["inf", "1"]),
    st.floats(0.05, 0.5),
)
def test_worst_margin_against_sampling(seed: int, sizes: list[int], norm: str, eps: float) -> None:
    rng = np.random.default_rng(seed)
    net = random_dense_net(rng, sizes)
    x = rng.uniform(-0.8, 0.8, sizes[0])
    exact = verify_sample(net, x, eps, norm, early_stop=False, bounds="lp", time_limit=20)
    assert exact.status == "optimal"
    S = sample_ball(net, x, eps, norm, 3000, seed)
    sampled = margins(net, net.forward(S), np.array([exact.cls]))
    # the MILP's optimum is a lower bound of every sampled margin ...
    assert exact.margin <= sampled.min() + 1e-6
    # ... and is attained by its own witness (forward pass), which lies in the ball
    assert exact.margin == pytest.approx(exact.margin_forward, abs=1e-6)
    dist = np.abs(exact.witness - x).max() if norm == "inf" else np.abs(exact.witness - x).sum()
    assert dist <= eps + 1e-7
    violated_by_sampling = bool(np.any(net.predict_index(net.forward(S)) != exact.cls))
    verdicts = {exact.verdict}
    for method in ("interval", "lp", "mip"):
        r = verify_sample(net, x, eps, norm, bounds=method, time_limit=20)
        verdicts.add(r.verdict)
        if r.verdict == "violated":  # a re-checked counterexample in the ball
            assert net.predict_index(net.forward(r.counterexample[None]))[0] != r.cls
            d = np.abs(r.counterexample - x)
            assert (d.max() if norm == "inf" else d.sum()) <= eps + 1e-9
        r2 = verify_sample(net, x, eps, norm, bounds=method, time_limit=20, use_attack=False)
        verdicts.add(r2.verdict)
    # loosening or tightening bounds, early stop or exact: one verdict
    assert len(verdicts) == 1, verdicts
    if violated_by_sampling:
        assert verdicts == {"violated"}
    assert (exact.margin > 0) == (exact.verdict == "holds")


def test_label_that_is_not_predicted_is_its_own_counterexample() -> None:
    net = random_dense_net(np.random.default_rng(1), [3, 8, 8, 3])
    x = np.array([[0.1, -0.2, 0.3]])
    pred = int(net.predict_index(net.forward(x))[0])
    other = (pred + 1) % 3
    (r,) = verify_robustness(net, x, 0.0, labels=[other])
    assert r.verdict == "violated" and r.cls == other
    np.testing.assert_array_equal(r.counterexample, x[0])
    with pytest.raises(DataError, match="not one of the model's classes"):
        verify_robustness(net, x, 0.1, labels=["cat"])
    with pytest.raises(UnsupportedError, match="norm"):
        verify_robustness(net, x, 0.1, norm="2")


@pytest.mark.parametrize("norm", ["inf", "1"])
def test_minimal_perturbation_is_the_robustness_threshold(norm: str) -> None:
    from mipnet.verify.robustness.perturbation import distance_up

    net = random_dense_net(np.random.default_rng(1), [3, 8, 8, 3])
    x = np.array([0.2, -0.1, 0.4])
    p = minimal_perturbation(net, x, norm)
    assert p.status == "optimal" and p.checked
    d = np.abs(p.counterexample - x)
    assert (d.max() if norm == "inf" else d.sum()) == pytest.approx(p.eps, abs=1e-6)
    assert distance_up(p.counterexample, x, norm) <= p.eps  # the witness lies in the ball of the radius reported
    assert verify_sample(net, x, p.eps * 0.99, norm).verdict == "holds"
    assert verify_sample(net, x, p.eps * 1.01, norm).verdict == "violated"
    # the same optimum with bounds over a smaller box that still contains it
    q = minimal_perturbation(net, x, norm, eps_max=p.eps * 1.5)
    assert q.eps == pytest.approx(p.eps, abs=1e-6)
    r = minimal_perturbation(net, x, norm, eps_max=p.eps * 0.9)
    assert r.eps is None and r.status == "infeasible"


def test_binary_classifier_margin_sign() -> None:
    net = random_dense_net(np.random.default_rng(5), [2, 6, 1])
    X = np.random.default_rng(6).uniform(-1, 1, (6, 2))
    for r in verify_robustness(net, X, 0.3, early_stop=False):
        z = net.forward(r.witness[None])[0, 0]
        assert r.margin == pytest.approx(z if r.cls == 1 else -z, abs=1e-6)


# ----------------------------------------------------------------------------- CLI


@pytest.fixture
def model_and_data(tmp_path):
    net = random_dense_net(np.random.default_rng(1), [3, 8, 8, 3])
    save_model(net, tmp_path / "net.json")
    X = np.random.default_rng(0).uniform(-1, 1, (5, 3))
    df = pd.DataFrame(X, columns=net.feature_names)
    df["y"] = net.predict(X)
    df.to_csv(tmp_path / "all.csv", index=False)
    df.iloc[[0, 3]].to_csv(tmp_path / "robust.csv", index=False)
    return tmp_path


def test_cli_exit_codes(model_and_data, monkeypatch) -> None:
    d = model_and_data
    run = CliRunner().invoke
    r = run(cli, ["verify", "robustness", str(d / "net.json"), str(d / "robust.csv"), "--eps", "0.2", "--label", "y"])
    assert r.exit_code == 0, r.output
    assert "2 hold, 0 violated, 0 unknown" in r.output
    r = run(cli, ["verify", "robustness", str(d / "net.json"), str(d / "all.csv"), "--eps", "0.2", "--json"])
    assert r.exit_code == 1
    out = json.loads(r.output)
    assert out["summary"] == {"holds": 2, "violated": 3, "unknown": 0}
    assert all(len(x["counterexample"]) == 3 for x in out["results"] if x["verdict"] == "violated")
    r = run(
        cli, ["verify", "robustness", str(d / "net.json"), str(d / "all.csv"), "--eps", "0.2", "--norm", "1", "--exact"]
    )
    assert r.exit_code == 1
    for bad in (["--eps", "0.2", "--label", "nope"], ["--eps", "-1"]):
        r = run(cli, ["verify", "robustness", str(d / "net.json"), str(d / "all.csv"), *bad])
        assert r.exit_code == 2 and "error" in r.output
    r = run(cli, ["verify", "robustness", str(d / "missing.json"), str(d / "all.csv"), "--eps", "0.1"])
    assert r.exit_code == 2

    def timed_out(*args, **kwargs):  # a solver that hits its time limit with nothing in hand
        return Result("unknown", None, -1.0, None, 1.0, 10, "highs", "1", "maxTimeLimit")

    monkeypatch.setattr(rob, "solve", timed_out)
    # and bound propagation that proves nothing, so that the query reaches the (timed-out) MILP
    import types

    from mipnet.verify.robustness import margin_milp

    def no_proof(net, C, **kwargs):
        return types.SimpleNamespace(lower=np.full(C.shape[0], -np.inf), seconds={}, stage=lambda: None)

    monkeypatch.setattr(margin_milp, "spec_bounds", no_proof)
    r = run(cli, ["verify", "robustness", str(d / "net.json"), str(d / "robust.csv"), "--eps", "0.2"])
    assert r.exit_code == 3 and "0 hold, 0 violated, 2 unknown" in r.output


def test_cli_threads_option(model_and_data, monkeypatch) -> None:
    """--threads reaches every row's query (solver and BLAS cap); nonsense is refused before any work."""
    from mipnet.verify import robustness as rob_pkg

    d = model_and_data
    run = CliRunner().invoke
    seen: list[int | None] = []
    real = rob_pkg.verify_robustness

    def spy(*args, **kwargs):
        seen.append(kwargs.get("threads"))
        return real(*args, **kwargs)

    monkeypatch.setattr(rob_pkg, "verify_robustness", spy)
    argv = ["verify", "robustness", str(d / "net.json"), str(d / "robust.csv"), "--eps", "0.2", "--label", "y"]
    r = run(cli, [*argv, "--threads", "1"])
    assert r.exit_code == 0 and "2 hold, 0 violated, 0 unknown" in r.output, r.output
    assert seen == [1]
    r = run(cli, [*argv, "--threads", "0"])
    assert r.exit_code == 2 and seen == [1], r.output


def test_exact_margin_of_a_smooth_net_is_a_margin_of_the_ball() -> None:
    """With smooth activations the MILP is a relaxation: its optimum is a lower bound, not the margin of any point.
    ``--exact`` printed that optimum as the worst margin (-0.19 where the true worst is -0.14); the margin reported
    is now the witness's own (forward pass), and the relaxation's value is at most it."""
    from mipnet.domain import Domain
    from mipnet.layers import Dense, Tanh

    rng = np.random.default_rng(3)
    net = Network(
        [Dense(rng.normal(size=(4, 2)) * 2, rng.normal(size=4)), Tanh(), Dense(rng.normal(size=(2, 4)), [0.5, 0])],
        domain=Domain(["a", "b"], [-1, -1], [1, 1]),
    )
    g = np.linspace(-1, 1, 201)
    for x in rng.uniform(-1, 1, (4, 2)):
        r = verify_sample(net, x, 0.3, "inf", early_stop=False, time_limit=20)
        if r.margin is None or r.witness is None:
            continue
        c = int(net.predict_index(net.forward(x[None]))[0])
        P = np.array([[a, b] for a in g for b in g if abs(a - x[0]) <= 0.3 and abs(b - x[1]) <= 0.3])
        L = net.forward(P)
        worst = float((L[:, c] - L[:, 1 - c]).min())
        xw = np.asarray(r.witness)
        assert np.abs(xw - x).max() <= 0.3 + 1e-9
        lw = net.forward(xw[None])[0]
        assert r.margin == pytest.approx(lw[c] - lw[1 - c])  # a margin some point of the ball has
        if r.bound is not None:
            assert r.bound <= worst + 1e-6


def test_minimal_perturbation_of_a_class_the_model_lacks_or_a_tie() -> None:
    """cls=5 of a two-class net was "optimal, radius 0"; a tie at x (logits 0.5, 0.5) with cls=1 too, although no
    point at distance 0 has margin <= -tau."""
    from mipnet import Dense, Domain

    net = random_dense_net(np.random.default_rng(1), [3, 8, 8, 3])
    with pytest.raises(DataError, match="not a class"):
        minimal_perturbation(net, np.array([0.2, -0.1, 0.4]), cls=5)
    tie = Network([Dense(np.zeros((2, 1)), np.array([0.5, 0.5]))], domain=Domain.box(1, -1.0, 1.0))
    r = minimal_perturbation(tie, np.array([0.0]), cls=1, time_limit=5)
    assert not (r.status == "optimal" and r.eps == 0.0), (r.status, r.eps)


def test_one_row_s_solver_failure_is_that_row_s_unknown_and_a_licence_error_stops_the_command(monkeypatch):
    """SCIP's "error in LP solver" on one row ended the whole command with exit 2 (an input error) and lost every
    other row's verdict; a model too large for the solver's licence still stops the command."""
    import mipnet.verify.robustness.rows as rows_mod
    from mipnet.errors import LicenceError, SolverError

    net = random_dense_net(np.random.default_rng(0), [3, 4, 2])
    X = np.random.default_rng(1).uniform(-1, 1, (3, 3))
    real = rows_mod.verify_sample

    def flaky(net, x, *a, index=0, **k):
        if index == 1:
            raise SolverError("scip failed: SCIP: error in LP solver!")
        return real(net, x, *a, index=index, **k)

    monkeypatch.setattr(rows_mod, "verify_sample", flaky)
    out = verify_robustness(net, X, 0.05, "inf", time_limit=5)
    assert [r.index for r in out] == [0, 1, 2]
    assert out[1].verdict == "unknown" and "error in LP solver" in out[1].reason
    assert out[0].verdict in ("holds", "violated") and out[2].verdict in ("holds", "violated")

    def licence(*a, **k):
        raise LicenceError("the model has 2825 variables and 900 constraints; the size-limited Gurobi licence")

    monkeypatch.setattr(rows_mod, "verify_sample", licence)
    with pytest.raises(LicenceError):
        verify_robustness(net, X, 0.05, "inf", time_limit=5)
