"""Exact interpretation (OpenBox): local linear classifiers, polytope facets, consistency, CLI."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from mipnet.cli import _Group
from mipnet.cli.explain import explain
from mipnet.domain import Domain
from mipnet.errors import DataError, UnsupportedError
from mipnet.explain import affine_maps, configurations, interpret, nonredundant, piece_layers
from mipnet.explain.consistency import consistency, cosine, gradients, nearest_neighbours
from mipnet.io import save_model
from mipnet.layers import (
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    LeakyReLU,
    MaxPool2D,
    Normalize,
    ReLU,
    Tanh,
)
from mipnet.network import Network


def _dense(rng: np.random.Generator, i: int, o: int) -> Dense:
    return Dense(rng.normal(size=(o, i)) / np.sqrt(i), rng.normal(size=o) * 0.3)


def _act(rng: np.random.Generator, leaky: bool):
    return LeakyReLU(float(rng.uniform(0.01, 0.3))) if leaky else ReLU()


def _dense_net(seed: int, widths: list[int], leaky: bool, n_out: int) -> Network:
    rng = np.random.default_rng(seed)
    layers = [Normalize(rng.uniform(0.5, 2, widths[0]), rng.normal(size=widths[0]) * 0.1)]
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [_dense(rng, a, b), _act(rng, leaky)]
    layers.append(_dense(rng, widths[-1], n_out))
    return Network(layers, domain=Domain.box(widths[0], -1.0, 1.0))


def _conv_net(seed: int, leaky: bool, pad: int, pool: str) -> Network:
    rng = np.random.default_rng(seed)
    layers = [
        Conv2D(rng.normal(size=(3, 2, 3, 3)) * 0.4, rng.normal(size=3) * 0.1, stride=1, padding=pad),
        _act(rng, leaky),
    ]
    if pool == "max":
        layers.append(MaxPool2D(kernel=2, stride=2, padding=1))
    else:
        layers.append(AvgPool2D(kernel=2, stride=2))
    net = Network(layers + [Flatten()], input_shape=(2, 6, 6), domain=Domain.box(72, 0.0, 1.0))
    n_flat = net.shapes[-1][0]
    return Network(
        layers + [Flatten(), _dense(rng, n_flat, 5), _act(rng, leaky), _dense(rng, 5, 3)],
        input_shape=(2, 6, 6),
        domain=Domain.box(72, 0.0, 1.0),
    )


# ----------------------------------------------------------------------------- exactness


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    widths=st.lists(st.integers(1, 7), min_size=2, max_size=4),
    leaky=st.booleans(),
    n_out=st.integers(1, 3),
)
def test_local_classifiers_reproduce_dense_nets(seed: int, widths: list[int], leaky: bool, n_out: int) -> None:
    net = _dense_net(seed, widths, leaky, n_out)
    X = np.random.default_rng(seed + 1).uniform(-1, 1, size=(300, widths[0]))
    interp = interpret(net, X)
    ex = interp.exactness(X)
    assert ex["exact_fraction"] == 1.0
    assert ex["max_rel_error"] <= 1e-9
    np.testing.assert_allclose(interp.local_outputs(X), net.forward(X), rtol=1e-10, atol=1e-12)
    assert interp.counts.sum() == 300
    assert np.all(np.diff(interp.counts) <= 0)  # regions sorted by size
    # every instance satisfies its region's inequalities
    for k in range(interp.n_regions):
        P = interp.polytope(k)
        assert np.all(X[interp.region == k] @ P.G.T <= P.h + 1e-9)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), leaky=st.booleans(), pad=st.integers(0, 1), pool=st.sampled_from(["max", "avg"]))
def test_local_classifiers_reproduce_conv_nets(seed: int, leaky: bool, pad: int, pool: str) -> None:
    net = _conv_net(seed, leaky, pad, pool)
    X = np.random.default_rng(seed).uniform(0, 1, size=(60, 72))
    interp = interpret(net, X)
    ex = interp.exactness(X)
    assert ex["exact_fraction"] == 1.0 and ex["max_rel_error"] <= 1e-9
    # max-pool argmax constraints hold at the instances too
    for k in range(min(5, interp.n_regions)):
        P = interp.polytope(k)
        assert np.all(X[interp.region == k] @ P.G.T <= P.h + 1e-9)
    if pool == "max":
        assert any(lab.startswith("L2.p") for lab in interp.polytope(0).labels)


def test_gradients_match_finite_differences() -> None:
    net = _dense_net(3, [4, 6, 5], True, 2)
    X = np.random.default_rng(0).uniform(-1, 1, size=(20, 4))
    J = gradients(net, X)
    h = 1e-6
    for j in range(4):
        E = np.zeros(4)
        E[j] = h
        fd = (net.forward(X + E) - net.forward(X - E)) / (2 * h)
        np.testing.assert_allclose(J[:, :, j], fd, atol=1e-5)


def test_smooth_activation_is_refused() -> None:
    net = Network([Dense(np.eye(2), np.zeros(2)), Tanh(), Dense(np.ones((1, 2)), np.zeros(1))])
    with pytest.raises(UnsupportedError, match="not piecewise linear"):
        piece_layers(net)


def test_bad_codes_are_refused() -> None:
    net = _dense_net(0, [2, 3], False, 1)
    with pytest.raises(DataError):
        affine_maps(net, np.array([[0, 2, 1]]))


# ----------------------------------------------------------------------------- redundancy


def _grid(lo: float, hi: float, n: int) -> np.ndarray:
    g = np.linspace(lo, hi, n)
    return np.array(list(itertools.product(g, g)))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_redundancy_lp_matches_dense_sampling_in_2d(seed: int) -> None:
    net = _dense_net(seed, [2, 5, 4], False, 2)
    lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    grid = _grid(-1, 1, 401)
    interp = interpret(net, grid, box=(lo, hi))
    checked = 0
    for k in range(min(interp.n_regions, 12)):
        P = interp.polytope(k)
        keep, excess = nonredundant(P.G, P.h, lo, hi)
        norms = np.linalg.norm(P.G, axis=1)
        slack = (grid @ P.G.T - P.h) / np.where(norms > 0, norms, 1.0)  # signed distance, > 0 = violated
        for i in range(P.G.shape[0]):
            others = np.delete(np.arange(P.G.shape[0]), i)
            feas = np.all(slack[:, others] <= 1e-12, axis=1)  # grid points satisfying the other rows
            grid_max = slack[feas, i].max(initial=-np.inf)
            if keep[i]:
                # a facet: some grid point satisfying the others violates it (when not razor-thin)
                if excess[i] > 0.02:
                    assert grid_max > 0, (k, i)
                    checked += 1
            elif norms[i] > 0:
                # redundant: no grid point satisfying the others violates it
                assert grid_max <= 1e-7, (k, i, grid_max)
                checked += 1
        # every facet is tight somewhere on the polytope: the LP over the region reaches h_i
        for i in np.flatnonzero(keep):
            res = linprog(-P.G[i], A_ub=P.G, b_ub=P.h, bounds=np.column_stack([lo, hi]), method="highs")
            assert res.status == 0 and -res.fun == pytest.approx(P.h[i], abs=1e-7)
    assert checked > 10


def test_duplicate_and_zero_rows() -> None:
    G = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    h = np.array([0.5, 1.0, 1.0, 0.5, 5.0])
    keep, _ = nonredundant(G, h, np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    # x <= 0.5 twice (one kept), the zero row and x + y <= 5 (never binding in the box) redundant
    assert keep.tolist() == [True, False, False, True, False]


def test_nearly_parallel_rows_keep_one_of_the_pair() -> None:
    """Two units with weights (1, 1) and (1, 1 + 1e-9): each alone makes the other redundant; tested against all
    the others, both were dropped and the region was reported with no boundary at all."""
    G = np.array([[1.0, 1.0], [1.0, 1.0 + 1e-9], [-1.0, 0.0]])
    h = np.array([0.0, 0.0, 3.0])
    keep, _ = nonredundant(G, h, np.array([-5.0, -5.0]), np.array([5.0, 5.0]))
    assert keep[:2].any() and keep[2]


@pytest.mark.parametrize(
    "lo, hi",
    [((0.0, 0.0), (1e-6, 1e6)), ((0.0, 0.0), (1e-8, 1e-8)), ((-3e9, 0.0), (3e9, 1e-3))],
)
def test_facets_of_features_in_very_different_units_are_kept(lo, hi) -> None:
    """The test runs in the box's units: a row of norm 2e-6 beside one of 2e6 (income in dollars beside a
    concentration), or inputs in [0, 1e-8] against the absolute tolerance, were dropped as zero or redundant."""
    lo, hi = np.array(lo), np.array(hi)
    mid = (lo + hi) / 2
    G = np.array([[1.0 / (hi[0] - lo[0]), 0.0], [0.0, 1.0 / (hi[1] - lo[1])], [1.0, 0.0]])
    h = np.array([mid[0] / (hi[0] - lo[0]), mid[1] / (hi[1] - lo[1]), hi[0] * 2 + 1.0])
    keep, _ = nonredundant(G, h, lo, hi)
    assert keep.tolist() == [True, True, False]


@given(st.integers(0, 10_000), st.integers(-6, 6), st.integers(-6, 6))
@settings(max_examples=40, deadline=None)
def test_kept_rows_describe_the_same_region_as_all_rows(seed: int, e0: int, e1: int) -> None:
    """On a dense grid of a box with features in units 10^e0 and 10^e1, the region of the kept rows is the region
    of all rows (up to points within 1e-6 of the box's width of a hyperplane)."""
    rng = np.random.default_rng(seed)
    scale = np.array([10.0**e0, 10.0**e1])
    lo, hi = -scale, scale
    G = rng.normal(size=(7, 2)) / scale
    h = rng.normal(size=7) * 0.7
    U = _grid(-1, 1, 201) * scale
    inside_all = np.all(U @ G.T <= h, axis=1)
    if not inside_all.any():
        return  # an empty region is refused (a configuration met by an instance is never empty)
    keep, _ = nonredundant(G, h, lo, hi)
    dist = np.abs(U @ G.T - h) / np.linalg.norm(G * scale, axis=1)  # in units of the box's half-width
    clear = np.all(dist > 1e-6, axis=1)
    inside_kept = np.all(U @ G[keep].T <= h[keep], axis=1)
    assert np.array_equal(inside_kept[clear], inside_all[clear])


# ----------------------------------------------------------------------------- configurations


def test_configuration_count_matches_enumeration() -> None:
    """All 2^N patterns of a tiny net: those with a full-dimensional region in the box are the ones met."""
    rng = np.random.default_rng(7)
    net = Network(
        [_dense(rng, 2, 3), ReLU(), _dense(rng, 3, 2), ReLU(), _dense(rng, 2, 1)], domain=Domain.box(2, -1.0, 1.0)
    )
    lo, hi = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    pieces = piece_layers(net)
    all_codes = np.array(list(itertools.product([0, 1], repeat=5)), dtype=np.int16)
    maps = affine_maps(net, all_codes, pieces)
    from mipnet.explain import polytope

    radius = np.empty(len(all_codes))
    for k in range(len(all_codes)):
        P = polytope(pieces, all_codes[k], [w[k] for w in maps.pre_weight], [c[k] for c in maps.pre_bias])
        A = np.vstack([P.G, np.eye(2), -np.eye(2)])
        b = np.concatenate([P.h, hi, -lo])
        norms = np.linalg.norm(A, axis=1)
        # Chebyshev ball: max r s.t. A x + r ||A_i|| <= b
        res = linprog(
            np.r_[0, 0, -1.0],
            A_ub=np.column_stack([A, norms]),
            b_ub=b,
            bounds=[(None, None), (None, None), (0, None)],
            method="highs",
        )
        radius[k] = -res.fun if res.status == 0 else -1.0
    grid = _grid(-1, 1, 601)
    codes, _ = configurations(net, grid, pieces)
    met = {tuple(c) for c in np.unique(codes, axis=0)}
    step = 2 / 600
    big = {tuple(c) for c, r in zip(all_codes, radius) if r > 2 * step}
    some = {tuple(c) for c, r in zip(all_codes, radius) if r > 1e-9}
    assert big <= met <= some
    assert len(big) >= 4
    # the interpretation finds the same configurations as direct enumeration on the grid
    assert interpret(net, grid).n_regions == len(met)


# ----------------------------------------------------------------------------- consistency


def test_consistency_openbox_is_one_within_a_region() -> None:
    net = _dense_net(5, [3, 6], False, 2)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(400, 3))
    interp = interpret(net, X)
    res = consistency(interp, X, methods=("openbox", "smoothgrad"))
    nbr = nearest_neighbours(X, np.arange(400))
    assert np.all(nbr != np.arange(400))
    same = interp.region == interp.region[nbr]
    vals = np.array(res["methods"]["openbox"]["values"])
    np.testing.assert_allclose(vals[same], 1.0, atol=1e-12)
    assert res["same_region"] == pytest.approx(same.mean())
    assert -1.0 <= res["methods"]["smoothgrad"]["mean"] <= 1.0
    assert cosine(np.array([[1.0, 0.0]]), np.array([[0.0, 0.0]]))[0] == 0.0
    assert cosine(np.zeros((1, 2)), np.zeros((1, 2)))[0] == 1.0


# ----------------------------------------------------------------------------- CLI


@pytest.fixture()
def cli_files(tmp_path):
    rng = np.random.default_rng(0)
    net = Network(
        [_dense(rng, 3, 6), ReLU(), _dense(rng, 6, 2)],
        domain=Domain.box(["a", "b", "c"], -1, 1),
        class_names=["no", "yes"],
    )
    model = tmp_path / "m.json"
    save_model(net, model)
    X = rng.uniform(-1, 1, size=(200, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["y"] = np.where(X[:, 0] > 0, "yes", "no")
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    group = _Group("mipnet")
    group.add_command(explain)
    return group, str(model), str(data), net, X


def test_cli_writes_files(cli_files, tmp_path) -> None:
    group, model, data, net, X = cli_files
    out = tmp_path / "out"
    res = CliRunner().invoke(group, ["explain", model, data, "-o", str(out), "--label", "y", "--figures", "2"])
    assert res.exit_code == 0, res.output
    assert "100.00 %" in res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["interpretation.json", "local_classifiers.csv", "region_0.png", "region_1.png", "summary.csv"]
    doc = json.loads((out / "interpretation.json").read_text())
    interp = interpret(net, X)
    assert doc["n_regions"] == interp.n_regions
    assert doc["exactness"]["exact_fraction"] == 1.0
    lc = pd.read_csv(out / "local_classifiers.csv")
    assert len(lc) == 2 * interp.n_regions
    row = lc[(lc.region == 0) & (lc.output == net.output_names[1])].iloc[0]
    np.testing.assert_allclose(row[["a", "b", "c"]].to_numpy(float), interp.weight[0, 1])
    summary = pd.read_csv(out / "summary.csv")
    assert summary["instances"].sum() == 200


def test_cli_single_instance(cli_files, tmp_path) -> None:
    group, model, data, net, X = cli_files
    out = tmp_path / "one"
    res = CliRunner().invoke(group, ["explain", model, "--instance", "a=0.1,b=-0.2,c=0.3", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "non-redundant" in res.output
    assert (out / "instance.json").is_file()
    res = CliRunner().invoke(group, ["explain", model, data, "--instance", "5"])
    assert res.exit_code == 0 and f"{net.predict(X[5:6])[0]}" in res.output
    # -1 is the last row (it was an empty slice and a numpy error)
    last = CliRunner().invoke(group, ["explain", model, data, "--instance=-1"])
    assert last.exit_code == 0 and f"{net.predict(X[-1:])[0]}" in last.output, last.output


@pytest.mark.parametrize(
    "args",
    [
        ["{model}", "{data}", "--instance", "1,2"],
        ["{model}", "{data}", "--instance", "999"],
        ["{model}", "{data}", "--instance", "\u00b2"],
        ["{model}", "--instance", "a=0.1,a=0.2,b=0,c=0"],
        ["{model}", "{data}", "--label", "nope"],
        ["{model}", "{tmp}/missing.csv"],
        ["{tmp}/missing.json", "{data}"],
        ["{model}"],
    ],
)
def test_cli_bad_input_exit_2_without_output(cli_files, tmp_path, args) -> None:
    group, model, data, _, _ = cli_files
    out = tmp_path / "bad"
    argv = [a.format(model=model, data=data, tmp=tmp_path) for a in args] + ["-o", str(out)]
    res = CliRunner().invoke(group, ["explain", *argv])
    assert res.exit_code == 2, res.output
    assert "error:" in res.output and "invalid literal" not in res.output  # (python's words for "²")
    assert not out.exists()


def test_an_empty_output_directory_name_is_refused(cli_files) -> None:
    """`-o ""` was read as no output: nothing written, exit 0."""
    group, model, data, _, _ = cli_files
    res = CliRunner().invoke(group, ["explain", model, data, "-o", ""])
    assert res.exit_code == 2 and "an empty directory name" in res.output, res.output


@pytest.mark.parametrize("big", [1e200, 1e160])
def test_overflowing_weights_are_refused_not_called_exact(big: float) -> None:
    """Weights near the float64 limit: the local classifiers were NaN and exactness() counted NaN errors as 0, so
    the CLI printed "exactness: 100.00 %"."""
    net = Network(
        [
            Dense(np.array([[big, -big], [1.0, 1.0]]), np.zeros(2)),
            ReLU(),
            Dense(np.array([[big, -big]]), np.zeros(1)),
        ],
        domain=Domain.box(2, -1.0, 1.0),
    )
    X = np.array([[0.5, 0.1], [0.1, 0.5], [0.3, 0.3]])
    with pytest.raises(DataError, match="overflow"):
        interpret(net, X)


def test_an_unbounded_domain_keeps_its_boundaries_and_says_so(tmp_path) -> None:
    """The box of an unbounded model was the data's range (one instance: a point, "0 non-redundant in the box");
    now the redundancy test runs over the domain as it is, and the JSON records the open sides as null."""
    net = Network(
        [
            Dense(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0, -1.0])),
            ReLU(),
            Dense(np.array([[1.0, -1.0, 0.5]]), np.array([0.1])),
        ],
        domain=Domain.box(2, -np.inf, np.inf),
    )
    model = str(tmp_path / "m.json")
    save_model(net, model)
    out = tmp_path / "o"
    res = CliRunner().invoke(
        _Group(commands={"explain": explain}), ["explain", model, "--instance", "0.5,0.2", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "3 inequalities, 3 non-redundant in the box" in res.output
    box = json.loads((out / "instance.json").read_text())["box"]
    assert box == {"lower": [None, None], "upper": [None, None]}


def test_multiclass_instance_names_the_margin_it_prints(tmp_path) -> None:
    """With three classes the printed "local logit" was the winner's margin over the runner-up."""
    net = Network(
        [
            Dense(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2)),
            ReLU(),
            Dense(np.array([[0.0, 0.0], [1.0, 2.0], [1.0, 1.0]]), np.array([2.0, 0.0, 5.0])),
        ],
        domain=Domain.box(2, -3.0, 3.0),
        class_names=["A", "B", "C"],
    )
    model = str(tmp_path / "m.json")
    save_model(net, model)
    res = CliRunner().invoke(_Group(commands={"explain": explain}), ["explain", model, "--instance", "1,1"])
    assert res.exit_code == 0, res.output
    assert "local margin (output" in res.output and "local logit" not in res.output


def test_output_directory_is_one_output(tmp_path) -> None:
    """A failure part-way left summary.csv and local_classifiers.csv behind; a second run left the first run's
    region figures beside its own."""
    rng = np.random.default_rng(3)
    net = _dense_net(3, [2, 4, 3], False, 2)
    model, data = str(tmp_path / "m.json"), str(tmp_path / "d.csv")
    save_model(net, model)
    pd.DataFrame(rng.uniform(-1, 1, (60, 2)), columns=net.feature_names).to_csv(data, index=False)
    group = _Group(commands={"explain": explain})
    blocked = tmp_path / "blocked"
    (blocked / "interpretation.json").mkdir(parents=True)
    res = CliRunner().invoke(group, ["explain", model, data, "-o", str(blocked)])
    assert res.exit_code == 2 and sorted(p.name for p in blocked.iterdir()) == ["interpretation.json"]
    out = tmp_path / "o"
    assert CliRunner().invoke(group, ["explain", model, data, "-o", str(out), "--figures", "3"]).exit_code == 0
    assert {"region_1.png", "region_2.png"} <= {p.name for p in out.iterdir()}
    assert CliRunner().invoke(group, ["explain", model, data, "-o", str(out), "--figures", "1"]).exit_code == 0
    figures = sorted(p.name for p in out.iterdir() if p.name.startswith("region_"))
    assert figures == ["region_0.png"]
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]


def test_instance_of_a_network_without_hidden_units(tmp_path) -> None:
    """A linear model: --instance printed half its answer, then a numpy matmul error (G of shape (0, 0))."""
    net = Network([Dense(np.array([[1.0, -2.0, 0.5]]), np.array([0.1]))], domain=Domain.box(3, -1.0, 1.0))
    model = str(tmp_path / "m.json")
    save_model(net, model)
    res = CliRunner().invoke(_Group(commands={"explain": explain}), ["explain", model, "--instance", "0.5,0.1,0.2"])
    assert res.exit_code == 0, res.output
    assert "0 inequalities" in res.output


def test_cli_multi_output_regression_prints_each_outputs_local_model(tmp_path) -> None:
    """It printed "local model: +2*x2 -1*x0 +0.5", the difference of the two predictions."""
    net = Network(
        [Dense(np.eye(3), np.zeros(3)), ReLU(), Dense(np.array([[1.0, 0, 0], [0, 0, 2.0]]), np.array([0.5, 1.0]))],
        domain=Domain.box(3, 0, 1),
        task="regress",
    )
    model = tmp_path / "r.json"
    save_model(net, model)
    group = _Group("mipnet")
    group.add_command(explain)
    res = CliRunner().invoke(group, ["explain", str(model), "--instance", "0.1,0.2,0.3"])
    assert res.exit_code == 0, res.output
    assert "local model of y0: +1*x0 +0.5" in res.output and "local model of y1: +2*x2 +1" in res.output
    interp = interpret(net, np.array([[0.1, 0.2, 0.3]]))
    w, b = interp.margin(0)
    assert np.array_equal(w, [1.0, 0, 0]) and b == 0.5 and interp.margin_label(0) == "model of y0"


def test_cli_instance_at_zero_lists_the_largest_weights(tmp_path) -> None:
    """At an all-zero instance every |w_j x_j| is 0: the terms are then ordered by |w_j| (it printed none)."""
    w = np.arange(1, 21, dtype=float) * 0.5
    net = Network([Dense(w[None, :], np.array([0.5]))], domain=Domain.box(20, -1, 1))
    model = tmp_path / "t.json"
    save_model(net, model)
    group = _Group("mipnet")
    group.add_command(explain)
    res = CliRunner().invoke(group, ["explain", str(model), "--instance", ",".join(["0"] * 20)])
    assert res.exit_code == 0, res.output
    assert "local logit: +10*x19 +9.5*x18" in res.output and "(+8 more terms)" in res.output


def test_cli_one_run_per_output_directory(cli_files, tmp_path) -> None:
    """An --instance run then a DATA run into one DIR left the first run's instance files beside the second's."""
    group, model, data, _, _ = cli_files
    out = tmp_path / "mix"
    assert CliRunner().invoke(group, ["explain", model, "--instance", "0.1,0.2,0.3", "-o", str(out)]).exit_code == 0
    assert (out / "instance.json").is_file()
    res = CliRunner().invoke(group, ["explain", model, data, "-o", str(out), "--figures", "1"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [
        "interpretation.json",
        "local_classifiers.csv",
        "region_0.png",
        "summary.csv",
    ]


def test_an_output_directory_holding_the_inputs_under_output_names_is_refused(cli_files, tmp_path) -> None:
    """`explain interpretation.json summary.csv -o .` replaced the model and the data by its outputs (exit 0)."""
    group, model, data, _, _ = cli_files
    d = tmp_path / "here"
    d.mkdir()
    m, x = d / "interpretation.json", d / "summary.csv"
    m.write_bytes(Path(model).read_bytes())
    x.write_bytes(Path(data).read_bytes())
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    res = CliRunner().invoke(group, ["explain", str(m), str(x), "-o", str(d)])
    assert res.exit_code == 2 and "is also an input of this command" in res.output, res.output
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before
    res = CliRunner().invoke(group, ["explain", str(m), "--instance", "0.1,0.2,0.3", "-o", str(d)])
    assert res.exit_code == 2 and "is also an input" in res.output, res.output  # (interpretation.json is owned)
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before


def test_a_domain_wider_than_the_largest_float_is_explained(tmp_path) -> None:
    """[-1e308, 1e308]: the box's width overflowed to inf in the redundancy LPs (scipy refused them)."""
    net = Network(
        [
            Dense(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0, -0.5])),
            ReLU(),
            Dense(np.array([[1.0, -1.0, 2.0]]), [0.1]),
        ],
        domain=Domain(["a", "b"], [-1e308, -1e308], [1e308, 1e308]),
    )
    X = np.array([[0.3, 0.4], [-0.2, 0.1], [0.9, -0.5]])
    interp = interpret(net, X)
    for k in range(interp.n_regions):
        P, idx = interp.facets(k)
        assert idx.size >= 1
    model, data = tmp_path / "w.json", tmp_path / "w.csv"
    save_model(net, model)
    pd.DataFrame(X, columns=["a", "b"]).to_csv(data, index=False)
    group = _Group("mipnet")
    group.add_command(explain)
    res = CliRunner().invoke(group, ["explain", str(model), str(data), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output


def test_classifier_table_keeps_bias_and_output_when_features_share_their_names():
    """Features named bias and output overwrote the CSV's fixed columns: the table described another classifier."""
    net = Network(
        [Dense(np.array([[-2.0, 3.0]]), np.array([7.75]))],
        domain=Domain(["bias", "output"], [0, 0], [1, 1]),
        task="regress",
    )
    (row,) = interpret(net, np.array([[0.5, 0.5]])).classifier_table()
    assert row["bias"] == 7.75 and row["output"] == net.output_names[0]
    assert row["weight bias"] == -2.0 and row["weight output"] == 3.0


def test_the_local_margin_of_tied_outputs_is_the_predicted_class_s():
    """Outputs (1, 0, 1): the prediction is class 0 (first of the tie), the margin named class 2 first."""
    net = Network([Dense(np.zeros((3, 1)), np.array([1.0, 0.0, 1.0]))], domain=Domain(["p"], [0], [1]))
    interp = interpret(net, np.array([[0.5]]))
    top, _ = interp.margin_classes(0)
    assert top == int(net.predict_index(net.forward(np.array([[0.5]])))[0]) == 0


def test_a_row_cutting_the_region_by_less_than_the_solver_s_tolerance_is_kept():
    """A row dropped as redundant with a margin of 1e-9 (below HiGHS's 1e-7) cut the described region by 1.5e-8."""
    G = np.array([[1.0, 0.0], [1.0, 1e-8]])  # x <= 0.5 and x + 1e-8 y <= 0.5 + 1e-8 * 0.5 - 2e-9: both needed
    h = np.array([0.5, 0.5 + 0.5e-8 - 2e-9])
    keep, _ = nonredundant(G, h, np.zeros(2), np.ones(2))
    assert keep.all()


def test_cli_instance_by_name_with_one_hot_names(tmp_path) -> None:
    """--instance 'age=30,race=A=1,race=B=0' said "names race more than once": the name was cut at the first '='
    (every one-hot column of the bundled data sets is named "column=level")."""
    dom = Domain(["age", "race=A", "race=B"], [18, 0, 0], [80, 1, 1], [True, True, True], [[1, 2]])
    net = Network(
        [Dense(np.array([[0.1, 1.0, -1.0]]), np.array([-3.0])), ReLU(), Dense(np.array([[1.0]]), np.array([-0.5]))],
        domain=dom,
    )
    model = str(tmp_path / "m.json")
    save_model(net, model)
    group = _Group(commands={"explain": explain})
    named = CliRunner().invoke(group, ["explain", model, "--instance", "race=B=0,age=30,race=A=1"])
    plain = CliRunner().invoke(group, ["explain", model, "--instance", "30,1,0"])
    assert named.exit_code == 0 and named.output == plain.output, named.output
    assert "outputs: 0.5" in named.output


def test_exactness_is_measured_against_the_forward_pass_sums() -> None:
    """A pre-activation whose local map cancels to 0 ((x + 0.5) - (x + 0.25) - 0.25) while the forward pass leaves
    1e-16 of round-off: "79 % exact, max relative error 5e291" (the round-off divided by the float floor)."""
    net = Network(
        [
            Dense(np.array([[1.0], [1.0]]), np.array([0.5, 0.25])),
            Dense(np.array([[1.0, -1.0], [0.0, 1.0]]), np.array([-0.25, -0.25])),
            ReLU(),
            Dense(np.array([[1.0, 1.0]]), np.array([0.0])),
        ],
        domain=Domain.box(["x"], 0, 1),
        task="regress",
    )
    X = np.linspace(0, 1, 101)[:, None]
    assert np.abs(net.forward_trace(X)[2][:, 0]).max() > 0  # the round-off this is about
    ex = interpret(net, X).exactness(X)
    assert ex["exact_fraction"] == 1.0 and ex["max_rel_error"] < 1e-15, ex
    wrong = Network([*net.layers[:3], Dense(np.array([[1.0, 1.0 + 1e-6]]), np.array([0.0]))], domain=net.domain)
    it = interpret(net, X)
    it.net = wrong  # the local maps no longer describe this network: the measure must say so
    assert interpret(net, X).exactness(X)["exact_fraction"] == 1.0 and it.exactness(X)["exact_fraction"] < 1.0


def test_the_linear_term_s_unit_pairs_split_no_region() -> None:
    """f = relu(x0 - 1) + 0.5 x0 + x1 with the linear part written as the unit pairs of train(linear=True): 4
    configurations for 2 local classifiers, and the pair's plane listed as a region boundary."""
    W1 = np.array([[1.0, 0.0], [0.5, 1.0], [-0.5, -1.0]])
    net = Network(
        [Dense(W1, np.array([-1.0, 0.0, 0.0])), ReLU(), Dense(np.array([[1.0, 1.0, -1.0]]), np.zeros(1))],
        domain=Domain.box(2, -3.0, 3.0),
    )
    X = np.random.default_rng(0).uniform(-3, 3, (200, 2))
    it = interpret(net, X)
    assert it.n_regions == 2 and it.exactness(X)["exact_fraction"] == 1.0
    for k in range(it.n_regions):
        assert all(label.startswith("L1.u0") for label in it.polytope(k).labels)


def test_exactness_is_not_blinded_by_units_that_are_off() -> None:
    """A ReLU unit off at -1e12 adds nothing to the forward pass, but counted in the sums' size it made a local
    classifier 100 off (on outputs of about 1) look "100 % exact" (relative error 9e-11)."""
    net = Network(
        [
            Dense(np.array([[1.0, 0.0], [0.0, 1.0], [-1e12, 0.0]]), np.array([0.0, 0.0, -1e12])),
            ReLU(),
            Dense(np.array([[1.0, -1.0, 1.0], [0.0, 0.0, 0.0]]), np.zeros(2)),
        ],
        domain=Domain.box(2, 0.0, 1.0),
    )
    X = np.random.default_rng(0).uniform(0, 1, size=(5, 2))
    it = interpret(net, X)
    assert it.exactness(X)["exact_fraction"] == 1.0
    it.bias[:, 0] += 100.0  # the local maps of output 0 are now wrong by 100
    assert it.exactness(X)["exact_fraction"] == 0.0


def test_cli_instance_refuses_the_options_of_the_data_s_regions(tmp_path) -> None:
    """--instance with --figures 0 or --max-boundaries 0 wrote its figure anyway (the options were ignored)."""
    net = Network([Dense(np.array([[1.0, -2.0]]), np.array([0.1]))], domain=Domain.box(2, -1.0, 1.0))
    model = str(tmp_path / "m.json")
    save_model(net, model)
    group = _Group(commands={"explain": explain})
    res = CliRunner().invoke(
        group, ["explain", model, "--instance", "0.5,0.1", "--figures", "0", "-o", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "--figures applies to the regions of DATA" in res.output, res.output
    assert not (tmp_path / "o").exists()


def test_a_boundary_whose_normal_underflows_in_the_norm_is_kept():
    """Weights of 1e-170 square to 0: the row was dropped as a zero row, and two regions claimed the whole box."""
    dom = Domain(["x0", "x1"], lower=[0, 0], upper=[1, 1])
    net = Network(
        [Dense(np.array([[1e-170, 0.0], [0.0, 1.0]]), np.array([-0.5e-170, -0.5])), ReLU(),
         Dense(np.array([[1e170, 1.0]]), np.array([-0.1]))],
        domain=dom,
    )  # fmt: skip
    X = np.array([[0.2, 0.2], [0.8, 0.2], [0.2, 0.8], [0.8, 0.8]])
    it = interpret(net, X)
    assert it.exactness(X)["exact_fraction"] == 1.0
    for k in range(it.n_regions):
        _, labels = it.boundary_features(k)
        assert sorted(lab[:-1] for lab in labels) == ["L1.u0", "L1.u1"], labels


def test_a_box_whose_units_overflow_is_tested_in_the_features_units():
    dom = Domain(["a", "b"], lower=[-1e300, -1e300], upper=[1e300, 1e300])
    net = Network(
        [Dense(np.array([[1e10, -1.0], [0.5, 2.0]]), np.array([0.0, -1.0])), ReLU(),
         Dense(np.array([[1.0, -1.0]]), np.array([0.1]))],
        domain=dom,
    )  # fmt: skip
    X = np.random.default_rng(0).uniform(0, 1, (20, 2))
    it = interpret(net, X)
    for k in range(it.n_regions):
        G, labels = it.boundary_features(k)
        assert len(labels) >= 1 and np.all(np.isfinite(G))


def test_a_pre_activation_that_overflows_is_one_clear_error(tmp_path):
    """The unit is off at -inf and the output finite: the exactness read 'inf' and the JSON failed after the
    summary. Now one line, exit 2, before any output."""
    net = Network(
        [
            Dense(np.array([[-1e200], [1.0]]), np.array([0.0, 0.0])),
            ReLU(),
            Dense(np.array([[1.0, 1.0]]), np.array([-0.5])),
        ],
        domain=Domain(["a"], lower=[-np.inf], upper=[np.inf]),
    )
    with pytest.raises(DataError, match="pre-activation of layer 1 is not finite at row 0"):
        interpret(net, np.array([[1e200], [2.0]]))
    save_model(net, tmp_path / "m.json")
    (tmp_path / "d.csv").write_text("a\n1e200\n2\n")
    args = ["explain", str(tmp_path / "m.json"), str(tmp_path / "d.csv"), "-o", str(tmp_path / "o")]
    r = CliRunner().invoke(_Group(commands={"explain": explain}), args)
    assert r.exit_code == 2 and "pre-activation" in r.output and "instances" not in r.output, r.output
    assert not (tmp_path / "o").exists()


def test_region_indices_are_checked():
    """assign() gives -1 for a configuration not met: numpy read it as the last region's classifier."""
    rng = np.random.default_rng(3)
    net = Network([_dense(rng, 2, 4), ReLU(), _dense(rng, 4, 2)], domain=Domain.box(2, -1, 1))
    X = rng.uniform(-1, 1, (30, 2))
    it = interpret(net, X)
    assert it.n_regions >= 2
    np.testing.assert_allclose(it.local_outputs(X, it.region), net.forward(X), atol=1e-9)
    with pytest.raises(DataError, match="region indices"):
        it.local_outputs(X[:1], np.array([-1]))
    with pytest.raises(DataError, match="region indices"):
        it.margin(it.n_regions)
    with pytest.raises(DataError, match="region indices"):
        it.decision_features(-1)


def test_the_time_limit_stops_the_boundary_lps(tmp_path):
    """A deadline already passed: no LP runs, every region says so, the classifiers are still written."""
    from mipnet.deadline import Deadline

    rng = np.random.default_rng(4)
    net = Network([_dense(rng, 3, 6), ReLU(), _dense(rng, 6, 2)], domain=Domain.box(3, -1, 1))
    X = rng.uniform(-1, 1, (40, 3))
    it = interpret(net, X)
    it.deadline = Deadline(1e-9)
    rows = it.summary()
    assert rows and all(r["boundaries"] is None and r["boundaries_cut"] == "time limit" for r in rows)
    doc = it.to_dict()
    assert all("boundary_rows" not in r for r in doc["regions"])
    it.deadline = None
    assert all(r["boundaries"] is not None for r in it.summary())
