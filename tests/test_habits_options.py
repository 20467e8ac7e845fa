"""Typed options: SolveOptions checks its values once (one message naming the field, the command line's rules);
train() builds one TrainOptions from its keywords and the result is the same through either path; the conv
trainer's keyword interface still works; distributed tasks are typed objects."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import click
import numpy as np
import pyomo.environ as pyo
import pytest

from mipnet.cli.options import SOLVER
from mipnet.distributed import Submission, Task, run_serial, run_task, run_tasks
from mipnet.errors import MipnetError, SolverError
from mipnet.solve import OptionError, SolveOptions, solve
from mipnet.train import TrainConfig, train
from mipnet.train.options import TRAIN_MIP_GAP, TrainOptions, solve_seconds
from mipnet.train.trainer import train_with_options


# ---------------------------------------------------------------------------- SolveOptions
def test_solve_options_defaults_and_values():
    o = SolveOptions()
    assert (o.solver, o.time_limit, o.threads, o.mip_gap, o.seed, o.progress) == ("highs", None, None, None, None, None)
    o = SolveOptions(time_limit=5, threads=2, mip_gap=0.01, seed=3)
    assert o.time_limit == 5.0 and isinstance(o.time_limit, float) and o.gap == 0.01 and o.seed == 3
    assert SolveOptions(time_limit=0).time_limit == 0.0  # zero: stop at once (what a spent Deadline gives)
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.time_limit = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs, field, text",
    [
        (dict(time_limit=-1.0), "time_limit", ">= 0"),
        (dict(time_limit=math.nan), "time_limit", "NaN"),
        (dict(time_limit=math.inf), "time_limit", "None for no limit"),
        (dict(time_limit="10"), "time_limit", "must be a number"),
        (dict(time_limit=True), "time_limit", "must be a number"),
        (dict(mip_gap=-0.1), "mip_gap", ">= 0"),
        (dict(mip_gap=math.nan), "mip_gap", "NaN"),
        (dict(mip_gap=math.inf), "mip_gap", "finite"),
        (dict(threads=0), "threads", ">= 1"),
        (dict(threads=1.5), "threads", "integer"),
        (dict(seed=-1), "seed", "[0, 4294967295]"),
        (dict(seed=2**32), "seed", "[0, 4294967295]"),
        (dict(progress=3), "progress", "callable"),
        (dict(solver=""), "solver", "solver name"),
    ],
)
def test_solve_options_bad_values_fail_with_one_clear_message(kwargs: dict[str, Any], field: str, text: str):
    with pytest.raises(OptionError) as info:
        SolveOptions(**kwargs)
    msg = str(info.value)
    assert msg.startswith(field) and text in msg and "\n" not in msg
    assert isinstance(info.value, ValueError) and isinstance(info.value, MipnetError)


def test_solve_options_unknown_solver_fails_as_the_command_line_does():
    with pytest.raises(SolverError) as info:
        SolveOptions(solver="no-such-solver")
    with pytest.raises(click.BadParameter) as cli:
        SOLVER.convert("no-such-solver", None, None)
    assert str(info.value) == cli.value.message and "unknown solver 'no-such-solver'" in str(info.value)


def _tiny_milp() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(within=pyo.Integers, bounds=(0, 10))
    m.y = pyo.Var(within=pyo.Integers, bounds=(0, 10))
    m.c = pyo.Constraint(expr=2 * m.x + 3 * m.y >= 7)
    m.obj = pyo.Objective(expr=3 * m.x + 4 * m.y)
    return m


def test_solve_takes_solve_options():
    seen: list[Any] = []
    a = solve(_tiny_milp(), "highs", time_limit=5, mip_gap=1e-6)
    b = solve(_tiny_milp(), solve_options=SolveOptions(time_limit=5, mip_gap=1e-6, progress=lambda *p: seen.append(p)))
    assert (
        (a.status, a.incumbent, a.bound, a.solver)
        == (b.status, b.incumbent, b.bound, b.solver)
        == ("optimal", 10.0, 10.0, "highs")
    )
    with pytest.raises(TypeError, match="time_limit"):
        solve(_tiny_milp(), time_limit=5, solve_options=SolveOptions())


# ---------------------------------------------------------------------------- TrainOptions and train()
def test_train_options_build_mirrors_train_keywords():
    o = TrainOptions.build(
        config=TrainConfig(hidden=(2,)),
        time_limit=7,
        threads=1,
        l1_grid=[0.1, 0.01],
        lp_heuristic_rounds=3,
        sign_patterns=True,
    )
    assert o.solve == SolveOptions(solver="highs", time_limit=7.0, threads=1, mip_gap=TRAIN_MIP_GAP, seed=0)
    assert o.l1_grid == (0.1, 0.01) and o.lp_heuristic_rounds == 3 and o.sign_patterns and o.time_limit == 7
    assert o.record() == dict(solver="highs", time_limit=7.0, threads=1, mip_gap=TRAIN_MIP_GAP)
    # the whole fit's limit: +inf (and None) is no limit, as Deadline reads it; negative and NaN fail
    assert solve_seconds(math.inf) is None and TrainOptions.build(time_limit=math.inf).solve.time_limit is None
    with pytest.raises(OptionError, match="time_limit"):
        TrainOptions.build(time_limit=-1)
    with pytest.raises(OptionError, match="time_limit"):
        TrainOptions(time_limit=math.nan)


def _strip(d: Any) -> Any:
    """A certificate's record without the clock readings (wall times differ between two runs)."""
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k not in ("wall_time", "solve_time", "seconds", "trace")}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


def _data(n: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)


def test_train_gives_the_same_result_through_the_options_path():
    X, y = _data()
    kw: dict[str, Any] = dict(
        config=TrainConfig(hidden=(1,), l1=0.01), time_limit=30, threads=1, seed=0, lp_heuristic_rounds=2
    )
    a = train(X, y, **kw)
    b = train_with_options(X, y, TrainOptions.build(**kw))
    assert a.certificate.status == b.certificate.status == "optimal"
    assert _strip(a.certificate.to_dict()) == _strip(b.certificate.to_dict())
    assert a.check == b.check and a.check["ok"]
    for na, nb in ((a.network, b.network), (a.network_full, b.network_full)):
        np.testing.assert_array_equal(na.forward(X), nb.forward(X))
        assert repr(na) == repr(nb)
    assert (a.result.status, a.result.incumbent, a.result.bound) == (
        b.result.status,
        b.result.incumbent,
        b.result.bound,
    )


def test_train_records_the_solve_settings_as_before():
    X, y = _data(10, seed=1)
    r = train(X, y, config=TrainConfig(hidden=(1,), l1=0.01), time_limit=30, threads=1, mip_gap=1e-4, warm_start=False)
    assert r.result.solver == "highs" and r.certificate.solver == "highs" and r.check["ok"]
    assert r.certificate.warm_start_objective is None  # warm_start=False: no start
    with pytest.raises(SolverError, match="unknown solver"):
        train(X, y, solver="no-such-solver", time_limit=5)
    with pytest.raises(OptionError, match="threads"):
        train(X, y, threads=0, time_limit=5)


def test_train_conv_keyword_interface_and_options_path_agree():
    from mipnet.train.conv_trainer import train_conv

    rng = np.random.default_rng(3)
    X = rng.uniform(0, 1, (6, 1, 4, 4))
    y = np.array([0, 1] * 3)
    cfg = TrainConfig(architecture="conv1x2-maxpool2", l1=0.01)
    kw: dict[str, Any] = dict(config=cfg, time_limit=20, threads=1, lp_heuristic_rounds=0, gradient_epochs=20)
    a = train_conv(X, y, **kw)
    b = train_conv(X, y, config=cfg, options=TrainOptions.build(**kw))
    # the conv warm start's gradient epochs run against the clock, so the solver's path (nodes) may differ:
    # the same problem, settings and optimum
    ca, cb = a.certificate.to_dict(), b.certificate.to_dict()
    assert ca["status"] == cb["status"] == "optimal" and a.check["ok"] and b.check["ok"]
    assert ca["incumbent"] == pytest.approx(cb["incumbent"], rel=1e-9, abs=1e-9)
    for key in ("formulation", "coefficients", "hypothesis", "loss", "n_samples", "data_sha256", "solver"):
        assert _strip(ca[key]) == _strip(cb[key]), key
    assert a.network.input_shape == b.network.input_shape == (1, 4, 4)


# ---------------------------------------------------------------------------- distributed tasks
def _square(x: int) -> int:
    return x * x


def _negate(x: int) -> int:
    return -x


def test_typed_tasks_run_in_order():
    tasks = [Task(_square, 3, "sq"), Task(_negate, 4, "neg"), Task(_square, 5)]
    assert [t() for t in tasks] == [9, -4, 25] == run_serial(run_task, tasks)
    assert run_tasks(tasks, scheduler="serial", progress=False) == [9, -4, 25]
    s = Submission("abcd1234", 7)
    assert s.key == "mipnet-abcd1234-7-0" and s.retry().key == "mipnet-abcd1234-7-1" and s.retry().index == 7
