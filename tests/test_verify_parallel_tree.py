"""The input branch-and-bound across worker processes (mipnet.verify.parallel_tree): the same verdicts with
processes=2 as with processes=1 and as dense sampling, on small random nets with a planted counterexample just
inside or just outside the box; a counterexample found in a worker counts only once the parent re-checks it; no
worker is left running after the call returns, raises or is interrupted."""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from click.testing import CliRunner

import mipnet.verify.parallel_tree as pt
from mipnet import Dense, Domain, Network, ReLU, interrupt
from mipnet.cli import cli
from mipnet.deadline import Deadline
from mipnet.io import save_model
from mipnet.layers import Layer
from mipnet.verify.batch_tree import Frontier, batched_tree
from mipnet.verify.batched_bounds import batch_plan
from mipnet.verify.input_split import box_network
from mipnet.verify.vnnlib import check_property, parse_vnnlib, some_disjunct_holds


def net_of(seed: int, sizes: list[int]) -> Network:
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(rng.normal(0, 1.2 / np.sqrt(a), (b, a)), rng.normal(0, 0.2, b)))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Network(layers, domain=Domain.box(sizes[0], -1.0, 1.0))


def prop_text(lo: np.ndarray, hi: np.ndarray, thr: float) -> str:
    n = lo.size
    text = "".join(f"(declare-const X_{i} Real)" for i in range(n)) + "(declare-const Y_0 Real)"
    text += "".join(f"(assert (>= X_{i} {float(lo[i])!r}))(assert (<= X_{i} {float(hi[i])!r}))" for i in range(n))
    return text + f"(assert (>= Y_0 {thr!r}))"


def grid(lo: np.ndarray, hi: np.ndarray, k: int = 201) -> np.ndarray:
    return np.stack(np.meshgrid(*[np.linspace(a, b, k) for a, b in zip(lo, hi)]), -1).reshape(-1, lo.size)


def gone(pid: int) -> bool:
    """The process has ended and was reaped (no entry), or is a zombie about to be."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


Pids = Callable[[], list[int]]


@pytest.fixture
def worker_pids(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Pids:
    """The pids of the workers started during the test: each writes its pid to tmp_path when it starts (the
    patched initializer is inherited by fork)."""
    orig, where = pt._init, tmp_path / "pids"
    where.mkdir()

    def init(*args: Any) -> None:
        (where / str(os.getpid())).touch()
        orig(*args)

    monkeypatch.setattr(pt, "_init", init)
    return lambda: [int(f.name) for f in where.iterdir()]


@pytest.mark.parametrize("seed", [0, 1, 3, 5])  # seeds whose boxes need the tree (not closed by the bounds)
@pytest.mark.parametrize("planted", ["inside", "outside"])
def test_verdicts_equal_across_processes_and_dense_sampling(
    monkeypatch: pytest.MonkeyPatch, worker_pids: Pids, seed: int, planted: str
) -> None:
    monkeypatch.setattr("mipnet.verify.input_split.LEAF_UNSTABLE", -1)  # split (MILP only at the depth cap)
    monkeypatch.setattr("mipnet.verify.input_split.BOX_SAMPLES", 16)  # leave the counterexample to the tree
    monkeypatch.setattr(pt, "BOXES_PER_PROCESS", 1)  # the workers take over once the root is split
    net = net_of(seed, [2, 12, 12, 1])
    G = grid(np.full(2, -1.0), np.ones(2), 401)
    ys = net.forward(G)[:, 0]
    p = G[int(np.argmax(ys))]  # the planted point: the net's largest sampled output
    spread = float(ys.max() - ys.min())
    fp = float(net.forward(p[None])[0, 0])
    lo, hi = np.maximum(p - 0.6, -1.0), np.minimum(p + 0.6, 1.0)
    if planted == "inside":  # p just inside the box, at the edge of input 0
        lo[0] = p[0] - 0.004
        thr = fp - 1e-3 * spread
    else:  # p just outside: the nearest edge (of either input, on either side) that keeps the box's sampled
        # maximum 1 % of the spread below f(p)
        for gap, d, side in itertools.product((0.004, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4), (0, 1), (-1, 1)):
            blo, bhi = lo.copy(), hi.copy()
            if side > 0:
                blo[d] = p[d] + gap
            else:
                bhi[d] = p[d] - gap
            if blo[d] >= bhi[d]:
                continue
            box_max = float(net.forward(grid(blo, bhi, 401))[:, 0].max())
            if fp - box_max >= 0.01 * spread:
                break
        lo, hi = blo, bhi
        thr = box_max + 0.005 * spread
        assert fp >= thr and not np.all((p >= lo) & (p <= hi))  # the counterexample outside the box
    prop = parse_vnnlib(prop_text(lo, hi, thr))
    r1 = check_property(net, prop, time_limit=30, processes=1)
    r2 = check_property(net, prop, time_limit=30, processes=2)
    expected = "violated" if planted == "inside" else "holds"
    assert r1.verdict == r2.verdict == expected
    if expected == "holds":
        assert "parallel" in r2.seconds and worker_pids()  # the tree ran in worker processes
    else:
        assert r2.x is not None and r2.y is not None
        assert np.all(r2.x >= lo) and np.all(r2.x <= hi)
        np.testing.assert_allclose(r2.y, net.forward(r2.x[None])[0])
        assert r2.y[0] >= thr
    assert all(gone(pid) for pid in worker_pids())


class ParentCheck:
    """The re-check of the property; in the parent process it accepts only once ``armed`` (the workers, forked
    after the parent grew the tree, accept as usual); counts the calls in the parent after arming."""

    def __init__(self, whole: Any, armed: bool) -> None:
        self.whole, self.pid, self.armed, self.parent_calls = whole, os.getpid(), armed, 0

    def __call__(self, x: np.ndarray, y: np.ndarray) -> bool:
        if os.getpid() == self.pid:
            if not self.armed:
                return False
            self.parent_calls += 1
        return some_disjunct_holds(self.whole, x, y)


def _tree_query(seed: int, above: float) -> tuple[Network, np.ndarray, np.ndarray, Any]:
    net = net_of(seed, [3, 16, 16, 1])
    lo, hi = np.full(3, -0.8), np.full(3, 0.8)
    ys = net.forward(grid(lo, hi, 41))[:, 0]
    thr = float(ys.max() + above * (ys.max() - ys.min()))
    (g,) = parse_vnnlib(prop_text(lo, hi, thr)).box_groups()
    return box_network(net, g.lower, g.upper), g.lower, g.upper, g


@pytest.mark.parametrize("parent_accepts", [True, False])
def test_a_workers_counterexample_counts_only_when_the_parent_rechecks_it(
    monkeypatch: pytest.MonkeyPatch, worker_pids: Pids, parent_accepts: bool
) -> None:
    net, lo, hi, g = _tree_query(3, -0.01)
    chk = ParentCheck(g.whole, armed=False)
    orig = pt.batched_tree

    def head(*args: Any, **kw: Any) -> Any:  # the parent's part of the tree: nothing accepted there
        r = orig(*args, **kw)
        chk.armed = parent_accepts
        return r

    monkeypatch.setattr(pt, "batched_tree", head)
    out, _ = pt.parallel_tree(net, lo, hi, g.rest, chk, lambda *a: ("unknown", None), 0.0, Deadline(30), 2)
    assert worker_pids()
    if parent_accepts:
        assert out.status == "violated" and out.x is not None
        assert chk.parent_calls >= 1  # re-checked in the parent
        assert some_disjunct_holds(g.whole, out.x, net.forward(out.x[None])[0])
    else:  # a worker's claim that the parent's re-check refuses is never a counterexample
        assert out.status == "unknown" and out.x is None
    assert all(gone(pid) for pid in worker_pids())


def test_no_worker_is_left_after_an_exception_in_a_worker(monkeypatch: pytest.MonkeyPatch, worker_pids: Pids) -> None:
    monkeypatch.setattr("mipnet.verify.input_split.LEAF_UNSTABLE", 10_000)  # every box may go to the MILP
    net, lo, hi, g = _tree_query(4, 0.02)
    parent = os.getpid()

    def leaf(*a: Any) -> tuple[str, None]:
        if os.getpid() != parent:
            raise RuntimeError("a leaf failed in a worker")
        return "unknown", None  # in the parent: undecided, the box is split

    with pytest.raises(RuntimeError, match="in a worker"):
        pt.parallel_tree(
            net, lo, hi, g.rest, lambda x, y: some_disjunct_holds(g.whole, x, y), leaf, 0.0, Deadline(30), 2
        )
    assert worker_pids() and all(gone(pid) for pid in worker_pids())


def _slow_in_workers(parent: int) -> Callable[..., tuple[str, None]]:
    """A MILP leaf that is undecided at once in the parent and takes a minute in a worker."""

    def leaf(*a: Any) -> tuple[str, None]:
        if os.getpid() != parent:
            time.sleep(60)
        return "unknown", None

    return leaf


def test_ctrl_c_stops_every_worker(monkeypatch: pytest.MonkeyPatch, worker_pids: Pids) -> None:
    monkeypatch.setattr("mipnet.verify.input_split.LEAF_UNSTABLE", 10_000)
    net, lo, hi, g = _tree_query(5, 0.05)
    leaf = _slow_in_workers(os.getpid())
    timer = threading.Timer(1.0, interrupt.request)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            pt.parallel_tree(
                net, lo, hi, g.rest, lambda x, y: some_disjunct_holds(g.whole, x, y), leaf, 0.0, Deadline(60), 2
            )
    finally:
        timer.cancel()
        interrupt.clear()
    assert worker_pids() and all(gone(pid) for pid in worker_pids())


def test_the_deadline_leaves_an_unfinished_tree_unknown(monkeypatch: pytest.MonkeyPatch, worker_pids: Pids) -> None:
    monkeypatch.setattr("mipnet.verify.input_split.LEAF_UNSTABLE", 10_000)
    monkeypatch.setattr(pt, "GRACE", 0.3)  # workers stuck in a leaf past the deadline are killed after this
    net, lo, hi, g = _tree_query(5, 0.05)
    leaf = _slow_in_workers(os.getpid())
    out, _ = pt.parallel_tree(
        net, lo, hi, g.rest, lambda x, y: some_disjunct_holds(g.whole, x, y), leaf, 0.0, Deadline(1.0), 2
    )
    assert out.status == "unknown" and out.open_leaves > 0 and out.x is None
    assert worker_pids() and all(gone(pid) for pid in worker_pids())


def test_a_paused_tree_resumed_from_its_frontier_decides_as_the_whole_tree() -> None:
    net, lo, hi, g = _tree_query(6, 0.01)
    maps = batch_plan(net)
    assert maps is not None
    args = (net, lo, hi, g.rest, lambda x, y: some_disjunct_holds(g.whole, x, y), lambda *a: ("unknown", None), 0.0)
    whole = batched_tree(*args, Deadline(30), 40, maps, 16)
    head = batched_tree(*args, Deadline(30), 40, maps, 16, frontier=6)
    if whole.status != "infeasible" or head.frontier is None:
        pytest.skip("this instance closes before the frontier is reached")
    fr: Frontier = head.frontier
    assert head.status == "paused" and len(fr) >= 6
    parts = fr.parts(3)
    assert sorted(np.concatenate([p.lo for p in parts]).tolist()) == sorted(fr.lo.tolist())  # every box once
    for part in parts:
        r = batched_tree(*args, Deadline(30), 40, maps, 16, start=part)
        assert r.status == whole.status


@pytest.mark.parametrize("planted", ["inside", "outside"])
def test_cli_processes_option_gives_the_same_verdict(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, worker_pids: Pids, planted: str
) -> None:
    monkeypatch.setattr("mipnet.verify.input_split.LEAF_UNSTABLE", -1)
    monkeypatch.setattr(pt, "BOXES_PER_PROCESS", 1)
    net = net_of(1, [2, 12, 12, 1])
    lo, hi = np.full(2, -0.7), np.full(2, 0.7)
    ys = net.forward(grid(lo, hi, 401))[:, 0]
    thr = float(ys.max() + (0.005 if planted == "outside" else -0.001) * (ys.max() - ys.min()))
    save_model(net, tmp_path / "net.json")
    (tmp_path / "p.vnnlib").write_text(prop_text(lo, hi, thr))
    args = ["verify", "vnnlib", str(tmp_path / "net.json"), str(tmp_path / "p.vnnlib"), "--time-limit", "30"]
    r1 = CliRunner().invoke(cli, args)
    r2 = CliRunner().invoke(cli, [*args, "--processes", "2"])
    verdict = "holds" if planted == "outside" else "violated"
    assert r1.stdout.splitlines()[0] == r2.stdout.splitlines()[0] == verdict
    assert r1.exit_code == r2.exit_code
    assert all(gone(pid) for pid in worker_pids())
    bad = CliRunner().invoke(cli, [*args, "--processes", "0"])
    assert bad.exit_code == 2
