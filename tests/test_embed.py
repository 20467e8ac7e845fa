"""mipnet.add_network: a trained net inside the user's own Pyomo model, exact over the input variables' box."""

import numpy as np
import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipnet import GELU, Dense, Domain, LeakyReLU, Network, ReLU, add_network
from mipnet.errors import DataError, UnsupportedError

SOLVER = "appsi_highs"


#: HiGHS's feasibility tolerance (1e-7 .. 1e-6) times the big-M constants of these small nets
SOLVER_TOL = 1e-5


def _net(seed: int, widths=(3, 5, 4, 2), leaky: bool = False) -> Network:
    rng = np.random.default_rng(seed)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(Dense(rng.normal(size=(widths[i + 1], widths[i])), rng.normal(size=widths[i + 1]) * 0.5))
        if i < len(widths) - 2:
            layers.append(LeakyReLU(0.1) if leaky else ReLU())
    return Network(layers)


def _model(n: int, lo: np.ndarray, hi: np.ndarray) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(n), bounds=lambda m, i: (float(lo[i]), float(hi[i])))
    return m


def _solve(m: pyo.ConcreteModel) -> None:
    res = pyo.SolverFactory(SOLVER).solve(m, load_solutions=True)
    assert str(res.solver.termination_condition) == "optimal", res.solver.termination_condition


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), leaky=st.booleans(), method=st.sampled_from(["interval", "linear", "lp"]))
def test_fixed_inputs_give_the_forward_pass(seed, leaky, method):
    """Every point of the box: fix the inputs there, the encoded outputs equal net.forward (corners included)."""
    net = _net(seed, leaky=leaky)
    rng = np.random.default_rng(seed + 1)
    lo = rng.uniform(-2, 0, size=3)
    hi = lo + rng.uniform(0.1, 3, size=3)
    points = [rng.uniform(lo, hi), lo.copy(), hi.copy(), np.where(rng.random(3) < 0.5, lo, hi)]
    for x in points:
        m = _model(3, lo, hi)
        h = add_network(m, net, m.x, bounds=method)
        for i in range(3):
            m.x[i].fix(float(x[i]))
        m.obj = pyo.Objective(expr=0.0)
        _solve(m)
        np.testing.assert_allclose(h.values(), net.forward(x[None])[0], rtol=1e-6, atol=SOLVER_TOL)
        assert h.error() < SOLVER_TOL * max(1.0, float(np.abs(h.values()).max()))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_maximum_over_the_box_beats_dense_sampling(seed):
    """max y_0 over the variables' box: never below any sampled value, and its argmax re-checks."""
    net = _net(seed)
    rng = np.random.default_rng(seed)
    lo, hi = -np.ones(3), np.ones(3)
    m = _model(3, lo, hi)
    h = add_network(m, net, m.x)
    m.obj = pyo.Objective(expr=h.outputs[0], sense=pyo.maximize)
    _solve(m)
    best = float(h.values()[0])
    sampled = net.forward(rng.uniform(lo, hi, size=(20_000, 3)))[:, 0]
    corners = net.forward(np.array(np.meshgrid(*[[-1, 1]] * 3)).reshape(3, -1).T)[:, 0]
    tol = 1e-5 * max(1.0, abs(best))  # the solver's feasibility tolerance, scaled by the big-M constants
    assert best >= max(sampled.max(), corners.max()) - tol
    assert abs(net.forward(h.input_values()[None])[0, 0] - best) < tol


def test_the_networks_stored_domain_never_cuts_the_users_box():
    """The trap: a network whose stored domain is [0, 0.1]^3, embedded over variables in [-3, 3]^3. Points far
    outside the stored domain must still be encoded exactly (bounds come from the variables, not the domain)."""
    net = _net(7)
    net.domain = Domain(net.domain.names, np.zeros(3), np.full(3, 0.1), integer=np.array([True, False, False]))
    x = np.array([2.5, -2.9, 1.7])
    m = _model(3, np.full(3, -3.0), np.full(3, 3.0))
    h = add_network(m, net, m.x)
    for i in range(3):
        m.x[i].fix(float(x[i]))
    m.obj = pyo.Objective(expr=0.0)
    _solve(m)
    np.testing.assert_allclose(h.values(), net.forward(x[None])[0], rtol=1e-6, atol=SOLVER_TOL)
    # nor does it impose its integer feature on the user's variable
    assert not m.x[0].is_integer()


def test_output_variables_are_tied_and_remove_deletes_the_formulation():
    net = _net(3)
    m = _model(3, -np.ones(3), np.ones(3))
    m.y = pyo.Var(range(2), bounds=(-1e3, 1e3))
    h = add_network(m, net, m.x, outputs=m.y, name="credit_net")
    assert m.component("credit_net") is h.block
    m.obj = pyo.Objective(expr=m.y[1] - m.y[0], sense=pyo.maximize)
    _solve(m)
    y = np.array([pyo.value(m.y[0]), pyo.value(m.y[1])])
    np.testing.assert_allclose(y, net.forward(h.input_values()[None])[0], rtol=1e-6, atol=SOLVER_TOL)
    h.remove()
    assert m.component("credit_net") is None
    assert m.component("x") is not None and m.component("y") is not None


def test_check_bounds_says_when_a_variable_was_widened_after_the_call():
    net = _net(1)
    m = _model(3, -np.ones(3), np.ones(3))
    h = add_network(m, net, m.x)
    assert h.check_bounds()
    m.x[1].setub(0.5)  # tightening keeps the formulation valid
    assert h.check_bounds()
    m.x[2].setub(5.0)
    assert not h.check_bounds()


def test_sequences_of_scalar_variables_are_accepted():
    net = _net(2)
    m = pyo.ConcreteModel()
    m.a = pyo.Var(bounds=(0, 1))
    m.b = pyo.Var(bounds=(0, 1))
    m.c = pyo.Var(bounds=(0, 1))
    h = add_network(m, net, [m.a, m.b, m.c])
    assert h.outputs.shape == (2,)


@pytest.mark.parametrize(
    ("make", "error", "text"),
    [
        (lambda m: pyo.Var(range(3), bounds=(None, 1)), DataError, "finite lower and upper bounds"),
        (lambda m: pyo.Var(range(4), bounds=(0, 1)), DataError, "3 inputs, 4 input variables"),
        (lambda m: pyo.Var(range(3), bounds=(1, 0)), DataError, "lower bound above"),
    ],
)
def test_bad_inputs_are_refused_before_anything_is_added(make, error, text):
    net = _net(0)
    m = pyo.ConcreteModel()
    m.x = make(m)
    n_before = len(list(m.component_objects()))
    with pytest.raises(error, match=text):
        add_network(m, net, m.x)
    assert len(list(m.component_objects())) == n_before


def test_smooth_activations_and_unknown_bound_methods_are_refused():
    rng = np.random.default_rng(0)
    net = Network([Dense(rng.normal(size=(2, 2)), np.zeros(2)), GELU(), Dense(rng.normal(size=(1, 2)), np.zeros(1))])
    m = _model(2, -np.ones(2), np.ones(2))
    with pytest.raises(UnsupportedError, match="smooth"):
        add_network(m, net, m.x)
    with pytest.raises(UnsupportedError, match="unknown bounds method"):
        add_network(m, _net(0, widths=(2, 3, 1)), m.x, bounds="magic")


def test_a_pruned_input_does_not_stop_the_check_after_a_solve():
    """An input with all-zero weights appears in no row, so the solver left it without a value, and error() /
    forward() said "solve the model first" after an optimal solve."""
    net = Network(
        [Dense(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.zeros(2)), ReLU(), Dense(np.array([[1.0, 1.0]]), np.zeros(1))],
        domain=Domain(["used", "pruned"], [0, 0], [1, 1]),
    )
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), bounds=(0, 1))
    h = add_network(m, net, m.x)
    for before_the_solve in (h.error, h.values):  # (values() gave the outputs' initial values)
        with pytest.raises(DataError, match="solve the model first"):
            before_the_solve()
    m.obj = pyo.Objective(expr=h.outputs[0], sense=pyo.maximize)
    pyo.SolverFactory(SOLVER).solve(m)
    assert h.values()[0] == pytest.approx(1.0) and h.error() <= 1e-9
    # inputs declared with initial values have values before any solve: the outputs' bound midpoints were returned
    m2 = pyo.ConcreteModel()
    m2.x = pyo.Var(range(2), bounds=(0, 1), initialize=0.0)
    h2 = add_network(m2, net, m2.x)
    for before_the_solve in (h2.error, h2.values):
        with pytest.raises(DataError, match="output variables have no value: solve the model first"):
            before_the_solve()


def test_a_slice_of_a_variable_is_its_variables_in_index_order():
    """m.x[:] was read as one variable ("2 inputs, 1 input variables were given")."""
    net = _net(2)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), range(3), bounds=(-1, 1))
    h = add_network(m, net, m.x[1, :])
    assert [v.name for v in h.inputs] == ["x[1,0]", "x[1,1]", "x[1,2]"]


def test_swapped_arguments_and_weights_edited_to_nan_are_one_clear_error():
    """add_network(net, m, ...) ended in an AttributeError; a weight set to NaN after construction was embedded with
    NaN big-M constants."""
    net = _net(0)
    m = _model(3, -np.ones(3), np.ones(3))
    with pytest.raises(DataError, match="net must be a mipnet Network"):
        add_network(net, m, m.x)
    with pytest.raises(DataError, match="block must be a Pyomo Block"):
        add_network(None, net, m.x)
    net.layers[0].weight[1, 2] = np.nan
    n_before = len(list(m.component_objects()))
    with pytest.raises(DataError, match="layer 0 .Dense. has NaN or inf in its weight"):
        add_network(m, net, m.x)
    assert len(list(m.component_objects())) == n_before


@pytest.mark.parametrize("limit", [-1.0, float("nan"), "5"])
def test_a_bound_time_limit_is_seconds(limit):
    m = _model(3, -np.ones(3), np.ones(3))
    with pytest.raises(DataError, match="time_limit must be"):
        add_network(m, _net(0), m.x, bounds="mip", time_limit=limit)


def test_mip_bounds_keep_their_time_limit_and_stay_sound():
    """bounds="mip" solved one MILP per neuron with no limit on the whole; with time_limit=0 the linear bounds are
    kept (looser, sound): the maximum over the box still matches dense sampling from above."""
    net = _net(5, widths=(3, 8, 8, 1))
    m = _model(3, -np.ones(3), np.ones(3))
    h = add_network(m, net, m.x, bounds="mip", time_limit=0.0)
    m.obj = pyo.Objective(expr=h.outputs[0], sense=pyo.maximize)
    _solve(m)
    X = np.random.default_rng(0).uniform(-1, 1, (20000, 3))
    assert pyo.value(m.obj) >= net.forward(X).max() - SOLVER_TOL
    assert h.error() <= SOLVER_TOL
