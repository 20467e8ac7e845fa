"""The solver layer: time limits honoured on a hard instance, clear errors for what cannot be solved."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from helpers import random_dense_net
from pyomo.common.collections import ComponentMap

from mipnet.bounds import interval_bounds
from mipnet.encode import encode_network, input_terms
from mipnet.errors import SolverError
from mipnet.solve import available_solvers, solve
from mipnet.verify.robustness import encode_margin


def hard_margin_model() -> pyo.ConcreteModel:
    """Worst-case margin of a 12-40-40-10 ReLU net over its whole domain, interval big-M, no early stop."""
    net = random_dense_net(np.random.default_rng(11), [12, 40, 40, 10])
    m = pyo.ConcreteModel()
    x = input_terms(m, net.domain)
    enc = encode_network(m, net, x, bounds=interval_bounds(net))
    c = int(net.predict_index(net.forward(np.zeros((1, 12))))[0])
    mg = encode_margin(m, "M", enc.outputs, c)
    m.obj = pyo.Objective(expr=mg.expr, sense=pyo.minimize)
    return m


@pytest.mark.parametrize("solver", ["highs", "scip"])
def test_time_limit_honoured(solver: str) -> None:
    if solver not in available_solvers():
        pytest.skip(f"{solver} not installed")
    m = hard_margin_model()
    r = solve(m, solver, time_limit=2.0, threads=1)
    assert r.wall_time < 2.0 + 4.0
    assert r.status in ("feasible", "unknown")
    assert r.status != "optimal" and r.solver == solver
    if r.status == "feasible":  # an incumbent without proof: a gap and a bound below it
        assert r.bound is None or r.bound <= r.incumbent + 1e-9
        assert r.gap is not None and r.gap > 0


def test_small_milp_optimal_with_bound_and_warm_start() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(4), domain=pyo.Binary)
    w = [3.0, 4.0, 5.0, 6.0]
    m.cap = pyo.Constraint(expr=sum(w[i] * m.x[i] for i in range(4)) <= 9.5)
    m.obj = pyo.Objective(expr=sum((i + 1) * m.x[i] for i in range(4)), sense=pyo.maximize)
    start = ComponentMap([(m.x[0], 1), (m.x[1], 0), (m.x[2], 0), (m.x[3], 1)])  # Pyomo vars are not hashable
    r = solve(m, warm_start=start)
    assert r.status == "optimal" and r.incumbent == pytest.approx(5.0) and r.bound == pytest.approx(5.0)
    assert r.gap == 0.0 and r.solver_version != "unknown"
    assert [round(pyo.value(m.x[i])) for i in range(4)] in ([1, 0, 0, 1], [0, 1, 1, 0])


def test_infeasible_status() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.Binary)
    m.c = pyo.Constraint(expr=m.x >= 2)
    m.obj = pyo.Objective(expr=m.x)
    assert solve(m).status == "infeasible"


def test_gurobi_size_limit_is_a_clear_error() -> None:
    if "gurobi" not in available_solvers():
        pytest.skip("gurobipy not installed")
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2100), bounds=(0, 1))
    m.c = pyo.Constraint(expr=sum(m.x[i] for i in range(2100)) >= 1)
    m.obj = pyo.Objective(expr=sum(m.x[i] for i in range(2100)))
    with pytest.raises(SolverError, match="size-limited"):
        solve(m, "gurobi", time_limit=5)


def test_bilinear_model_to_highs_is_a_clear_error() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1))
    m.y = pyo.Var(bounds=(0, 1))
    m.c = pyo.Constraint(expr=m.x * m.y >= 0.2)
    m.obj = pyo.Objective(expr=m.x + m.y)
    with pytest.raises(SolverError, match="HiGHS solves linear models only"):
        solve(m, "highs")
    if "scip" in available_solvers():  # the nonconvex solver takes it: optimum 2 sqrt(0.2)
        r = solve(m, "scip", time_limit=10)
        assert r.status == "optimal" and r.incumbent == pytest.approx(2 * np.sqrt(0.2), abs=1e-5)


@pytest.mark.parametrize("name", ["no_such_solver", "cplex_direct_missing"])
def test_unknown_solver_is_a_clear_error(name: str) -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1))
    m.obj = pyo.Objective(expr=m.x)
    with pytest.raises(SolverError, match="solver"):
        solve(m, name)


def test_one_objective_required() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1))
    with pytest.raises(SolverError, match="exactly one active objective"):
        solve(m)


def test_highs_option_probe():
    from mipnet.solve import highs_has_option

    assert highs_has_option("time_limit") and highs_has_option("mip_rel_gap")
    assert not highs_has_option("no_such_option_anywhere")


def test_batched_constraint_removal_leaves_the_instance_as_pyomo_would():
    """mipnet.solve.remove_constraints does Pyomo's persistent bookkeeping once for a batch: the HiGHS rows go,
    the instance keeps working (new rows, a re-solve) and gives the fresh model's optimum."""
    from mipnet.solve import _contrib, remove_constraints

    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(3), bounds=(0, 4))
    m.only_in_cuts = pyo.Var(bounds=(0, 1))
    m.obj = pyo.Objective(expr=-sum(m.x.values()), sense=pyo.minimize)
    m.base = pyo.Constraint(expr=m.x[0] + m.x[1] + m.x[2] <= 9)
    opt = _contrib("highs")
    opt.set_instance(m)
    rows = opt._solver_model.getNumRow()
    m.cuts = pyo.ConstraintList()
    new = [m.cuts.add(m.x[i] + m.only_in_cuts <= 1 + i) for i in range(3)]
    opt.add_constraints(new)
    assert opt._solver_model.getNumRow() == rows + 3
    assert solve(m, "highs", instance=opt).incumbent == pytest.approx(-6.0)  # x <= (1, 2, 3)
    remove_constraints(opt, new)
    m.del_component(m.cuts)
    assert opt._solver_model.getNumRow() == rows
    assert id(m.only_in_cuts) not in opt._pyomo_var_to_solver_var_map  # no row uses it any more
    m.more = pyo.Constraint(expr=m.x[0] <= 0.5)
    opt.add_constraints([m.more])
    shared = solve(m, "highs", instance=opt)
    fresh = solve(m, "highs")
    assert shared.incumbent == pytest.approx(fresh.incumbent) == pytest.approx(-8.5)


def test_check_licence_refuses_a_model_too_large_for_the_size_limited_licence(monkeypatch) -> None:
    """The training MILP's size is known once it is built: refused there, not after the warm start and the bounds."""
    import mipnet.solve as solve_mod
    from mipnet.errors import LicenceError

    monkeypatch.setattr(solve_mod, "_gurobi_restricted", lambda: True)
    with pytest.raises(LicenceError, match="--solver highs"):
        solve_mod.check_licence("gurobi", 10876, 28931)
    solve_mod.check_licence("gurobi", 2000, 2000)  # at the limit: allowed
    solve_mod.check_licence("highs", 10**6, 10**6)  # no licence to check
    monkeypatch.setattr(solve_mod, "_gurobi_restricted", lambda: False)
    solve_mod.check_licence("gurobi", 10876, 28931)  # a full licence


def test_a_dense_highs_model_runs_without_the_presolve_rule_that_ignores_the_time_limit(monkeypatch) -> None:
    """A robustness MILP of 310 k non-zeros spent 37 s of a 4.5 s limit in one presolve rule (HiGHS polls neither
    its time limit nor its callbacks there): dense models run without it; sparse ones keep every rule."""
    from pyomo.contrib.solver.solvers.highs import Highs

    import mipnet.solve as solve_mod

    seen: list[dict] = []
    real = Highs.solve

    def spy(self, model, **kw):
        seen.append(dict(kw.get("solver_options") or {}))
        return real(self, model, **kw)

    monkeypatch.setattr(Highs, "solve", spy)
    rng = np.random.default_rng(0)
    for rows, cols in ((60, 2000), (5, 20)):
        A = rng.uniform(0.1, 1.0, (rows, cols))
        m = pyo.ConcreteModel()
        m.x = pyo.Var(range(cols), bounds=(0, 1))
        m.c = pyo.ConstraintList()
        for i in range(rows):
            m.c.add(sum(float(A[i, j]) * m.x[j] for j in range(cols)) >= 1)
        m.obj = pyo.Objective(expr=sum(m.x[j] for j in range(cols)))
        assert solve_mod.solve(m, "highs", time_limit=10).status == "optimal"
    assert seen[0].get("presolve_rule_off") == solve_mod.DENSE_PRESOLVE_RULES_OFF
    assert "presolve_rule_off" not in seen[1]


def test_a_process_whose_highs_pool_has_another_thread_count_still_gets_verdicts() -> None:
    """The user's own HiGHS run with threads=2 first: HiGHS then refuses every run asking for 1 thread, and each
    of mipnet's MILPs ended "unknown" (solver stopped, no proof). mipnet now uses the pool there is. In a child
    process: HiGHS's thread pool lives as long as the process."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import numpy as np, highspy
        from helpers import random_dense_net
        from mipnet.highs import new_highs
        from mipnet.verify.robustness import verify_sample
        h = new_highs()
        h.setOptionValue("threads", 2)
        h.addVar(0, 1)
        assert h.run() == highspy.HighsStatus.kOk
        net = random_dense_net(np.random.default_rng(1), [4, 12, 12, 3])
        for eps in (0.05, 2.0):
            r = verify_sample(net, np.zeros(4), eps, time_limit=20, threads=1, use_attack=False,
                              spec_bound=False, relu_split=False, bounds="interval", tighten="none")
            print(r.verdict)
        """
    )
    import pathlib

    tests_dir = str(pathlib.Path(__file__).parent)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tests_dir)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["holds", "violated"], out.stdout


def test_coefficients_below_highs_default_drop_size_reach_the_solver() -> None:
    """Pyomo's HiGHS interface loads the rows into its own Highs() at once, with HiGHS's default small_matrix_value of
    1e-9: a weight of 5e-10 on an input of range 1e9 (a term of 0.5) was dropped before any option reached the solver.
    mipnet.solve then maximised z = 5e-10 x - 0.25 to -0.25, and the LP / MIP bound tightening proved [-0.5, -0.5]
    for a pre-activation that reaches 0.5."""
    from mipnet import Dense, Domain, Network, ReLU
    from mipnet.bounds import compute_bounds

    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1e9))
    m.z = pyo.Var(bounds=(-1, 1))
    m.c = pyo.Constraint(expr=m.z == 5e-10 * m.x - 0.25)
    m.o = pyo.Objective(expr=m.z, sense=pyo.maximize)
    r = solve(m)
    assert r.status == "optimal" and abs(pyo.value(m.z) - 0.25) < 1e-6

    net = Network(
        [Dense([[5e-10]], [-0.25]), ReLU(), Dense([[4.0]], [-0.5]), ReLU()],
        input_shape=(1,),
        task="regress",
        domain=Domain(["x"], np.array([0.0]), np.array([1e9])),
    )
    for method in ("lp", "mip"):
        lo, hi = compute_bounds(net, net.domain.lower, net.domain.upper, method=method)[2]
        assert lo.ravel()[0] <= -0.5 + 1e-6 and hi.ravel()[0] >= 0.5 - 1e-6, (method, lo, hi)
