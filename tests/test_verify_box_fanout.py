"""The input boxes of one VNN-LIB property on Dask (mipnet.verify.box_fanout): the same verdict as the serial
loop and as dense sampling, with a counterexample planted just inside or just outside one of the boxes; a worker's
counterexample counts only after the parent re-checks it; bad --scheduler values are refused before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import mipnet.verify.box_fanout as bf
from mipnet import Dense, Domain, Network, ReLU
from mipnet.cli import cli
from mipnet.io import save_model
from mipnet.verify.vnnlib import BoxOutcome, check_property, parse_vnnlib

pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install mipnet[dask])")

BOXES = [(np.array([-0.9, -0.9]), np.array([-0.2, -0.1])), (np.array([0.1, -0.5]), np.array([0.8, 0.6]))]


def net_of(seed: int) -> Network:
    rng = np.random.default_rng(seed)
    layers = [
        Dense(rng.normal(0, 0.9, (10, 2)), rng.normal(0, 0.2, 10)),
        ReLU(),
        Dense(rng.normal(0, 0.4, (1, 10)), np.zeros(1)),
    ]
    return Network(layers, domain=Domain.box(2, -1.0, 1.0))


def grid(lo: np.ndarray, hi: np.ndarray, k: int = 301) -> np.ndarray:
    return np.stack(np.meshgrid(*[np.linspace(a, b, k) for a, b in zip(lo, hi)]), -1).reshape(-1, lo.size)


def prop_text(thr: float) -> str:
    """Unsafe: Y_0 >= thr on either box (a disjunction of two boxes)."""
    box = "".join(
        "(and "
        + "".join(f"(>= X_{i} {float(lo[i])!r})(<= X_{i} {float(hi[i])!r})" for i in range(2))
        + f"(>= Y_0 {thr!r}))"
        for lo, hi in BOXES
    )
    return "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)" + f"(assert (or {box}))"


def threshold(net: Network, planted: str) -> float:
    """Just above the largest output on the boxes (holds) or just below it (violated, in the second box only
    when the second box has the larger maximum)."""
    top = max(float(net.forward(grid(lo, hi))[:, 0].max()) for lo, hi in BOXES)
    span = top - min(float(net.forward(grid(lo, hi))[:, 0].min()) for lo, hi in BOXES)
    return top + (0.01 if planted == "outside" else -0.002) * span


@pytest.mark.parametrize("planted", ["inside", "outside"])
def test_boxes_on_a_local_cluster_decide_as_the_serial_loop_and_sampling(planted: str) -> None:
    net = net_of(1)
    prop = parse_vnnlib(prop_text(threshold(net, planted)))
    assert len(prop.box_groups()) == 2
    serial = check_property(net, prop, time_limit=60)
    fanned = check_property(net, prop, time_limit=60, scheduler="local")
    expected = "violated" if planted == "inside" else "holds"
    assert serial.verdict == fanned.verdict == expected
    assert "fan-out" in fanned.seconds and fanned.prover != "attack"  # decided by the boxes' tasks, not the attack
    if expected == "violated":
        assert fanned.x is not None and fanned.y is not None
        np.testing.assert_allclose(fanned.y, net.forward(fanned.x[None])[0])  # re-run through the forward pass
        assert fanned.y[0] >= threshold(net, planted)
        assert any(np.all(lo <= fanned.x) and np.all(fanned.x <= hi) for lo, hi in BOXES)


def test_a_workers_counterexample_counts_only_after_the_parents_recheck(monkeypatch: pytest.MonkeyPatch) -> None:
    net = net_of(1)
    prop = parse_vnnlib(prop_text(threshold(net, "outside")))
    bogus = np.array([0.5, 0.0])  # inside box 2, but its output is below the threshold: not a counterexample
    part = {"seconds": {}, "nodes": 0, "open_leaves": 0, "statuses": [], "n_binaries": 0}

    def forged(fn, tasks, stop, **kwargs):  # a worker that claims a counterexample
        return [(BoxOutcome("holds", prover="crown"), part), (BoxOutcome("violated", prover="split", x=bogus), part)]

    monkeypatch.setattr(bf, "run_until", forged)
    r = check_property(net, prop, time_limit=30, scheduler="local")
    assert r.verdict == "unknown"
    assert "re-check" in r.reason


def test_cli_scheduler_option(tmp_path: Path) -> None:
    net = net_of(1)
    save_model(net, tmp_path / "net.json")
    (tmp_path / "p.vnnlib").write_text(prop_text(threshold(net, "inside")))
    args = ["verify", "vnnlib", str(tmp_path / "net.json"), str(tmp_path / "p.vnnlib"), "--time-limit", "60"]
    # in a fresh interpreter: multiprocessing's resource tracker said "There appear to be 2 leaked semaphore objects
    # to clean up at shutdown" on stderr after every local cluster (each worker's Pyomo lock)
    r = subprocess.run(
        [sys.executable, "-m", "mipnet.cli", *args, "--scheduler", "local"], capture_output=True, text=True, timeout=300
    )
    assert r.stdout.splitlines()[0] == "violated", r.stdout + r.stderr
    assert "leaked" not in r.stderr and "Warning" not in r.stderr, r.stderr
    assert r.returncode == CliRunner().invoke(cli, args).exit_code
    bad = CliRunner().invoke(cli, [*args, "--scheduler", " "])
    assert bad.exit_code == 2 and "--scheduler" in bad.output
    with pytest.raises(ValueError, match="scheduler"):
        check_property(net, parse_vnnlib(prop_text(0.0)), scheduler="")


def _decide_in_a_daemon(q, args) -> None:  # (module level: the child process unpickles it)
    try:
        out, _ = bf._decide_one(args)
        q.put(out.verdict)
    except Exception as exc:  # noqa: BLE001 - the test reads it
        q.put(f"{type(exc).__name__}: {exc}")


def test_a_box_on_a_daemonic_worker_runs_its_tree_serially() -> None:
    """Dask's workers are daemonic processes: --processes 2 made the input split start a process pool inside one,
    an AssertionError ("daemonic processes are not allowed to have children")."""
    import multiprocessing
    import time as _time

    rng = np.random.default_rng(3)
    sizes, layers = [8, 40, 40, 1], []
    for a, b in zip(sizes, sizes[1:]):
        layers += [Dense(rng.normal(0, 1 / np.sqrt(a), (b, a)), rng.normal(0, 0.3, b)), ReLU()]
    net = Network(layers[:-1], domain=Domain.box(8, -1.0, 1.0))
    top = float(net.forward(rng.uniform(-1, 1, (20000, 8))).max())
    decl = "".join(f"(declare-const X_{i} Real)(assert (>= X_{i} -1))(assert (<= X_{i} 1))" for i in range(8))
    prop = parse_vnnlib(decl + f"(declare-const Y_0 Real)(assert (>= Y_0 {top * 1.01!r}))")  # the split runs
    g = prop.box_groups()[0]
    args = (net, g, "highs", 4.0, _time.time() + 4.0, "linear", 1, "auto", 2)
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_decide_in_a_daemon, args=(q, args), daemon=True)
    p.start()
    got = q.get(timeout=120)
    p.join(30)
    assert got in ("holds", "unknown", "violated"), got


def test_a_short_limit_decides_the_boxes_here_not_on_a_local_cluster() -> None:
    """--time-limit 2 --scheduler local started a cluster anyway: 7.7 s for a promise of 7.2 s."""
    net = net_of(1)
    prop = parse_vnnlib(prop_text(threshold(net, "outside")))
    r = check_property(net, prop, time_limit=2, scheduler="local")
    assert "fan-out" not in r.seconds and r.verdict in ("holds", "unknown")  # (tests assert no wall time)
