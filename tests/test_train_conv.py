"""Conv nets: training MILP (certificate recomputed, channel pruning, warm start), estimator, CLI, verification."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from mipnet.errors import DataError, UnsupportedError
from mipnet.layers import AvgPool2D, Conv2D, MaxPool2D
from mipnet.train import TrainConfig, train
from mipnet.train.architecture import architecture_string, parse_architecture
from mipnet.train.conv import ConvTrainingProblem, channel_activity
from mipnet.train.conv_trainer import prepare_images
from mipnet.train.convstart import gradient_conv_weights, map_conv_to_class
from mipnet.train.trainer import encode_targets
from mipnet.train.warmstart import fixed_lp, snapshot


def _images(n: int = 8, seed: int = 0, size: int = 6):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 1, size, size))
    y = (X[:, 0, : size // 2].mean(axis=(1, 2)) > X[:, 0, size // 2 :].mean(axis=(1, 2))).astype(int)
    return X, y


def _max_violation(model: pyo.ConcreteModel) -> float:
    worst = 0.0
    for c in model.component_data_objects(pyo.Constraint, active=True):
        v = pyo.value(c.body)
        if c.has_lb():
            worst = max(worst, pyo.value(c.lower) - v)
        if c.has_ub():
            worst = max(worst, v - pyo.value(c.upper))
    return worst


def test_architecture_spec_forms():
    a = parse_architecture("conv4x3p1-maxpool2-dense8")
    b = parse_architecture([("conv", 4, 3, {"stride": 1, "padding": 1}), ("maxpool", 2), ("flatten",), ("dense", 8)])
    assert a[0] == b[0] == ("conv", 4, 3, {"stride": 1, "padding": 1})
    assert architecture_string(a) == "conv4x3p1-maxpool2-dense8"
    assert parse_architecture("conv2x3s2")[0][3] == {"stride": 2, "padding": 0}
    with pytest.raises(DataError):
        parse_architecture("conv4-dense2")
    with pytest.raises(DataError):
        parse_architecture("dense4-conv2x3")
    with pytest.raises(UnsupportedError):
        train(*_images(), config=TrainConfig(architecture="conv2x3", hypothesis="sign"), time_limit=2)


def test_conv_certificate_recomputed_matches():
    X, y = _images(8)
    cfg = TrainConfig(architecture="conv2x3-maxpool2-dense2", l1=0.01, channel_penalty=0.05, neuron_penalty=0.01)
    r = train(X, y, config=cfg, time_limit=4, lp_heuristic_rounds=1)
    c = r.certificate
    assert r.check["ok"], r.check
    assert set(c.terms) == {"loss", "l1", "channels", "neurons"}
    for k, v in c.model_terms.items():
        assert abs(v - c.terms[k]) <= 1e-6, (k, v, c.terms[k])
    assert abs(c.incumbent - sum(c.terms.values())) <= 1e-9
    assert c.bound is None or c.bound <= c.incumbent + 1e-6
    # channel term recomputed from the saved filters
    act = channel_activity(r.network_full)
    assert c.terms["channels"] == pytest.approx(0.05 * sum(int(a.sum()) for a in act), abs=1e-12)
    # the saved network reads raw images and agrees with the full one
    np.testing.assert_allclose(r.network.forward(X.reshape(8, -1)), r.network_full.forward(X.reshape(8, -1)), atol=1e-9)
    assert any(isinstance(l, MaxPool2D) for l in r.network.layers)


def test_channel_switches_prune_whole_filters():
    X, y = _images(8, seed=1)
    cfg = TrainConfig(architecture="conv3x3-maxpool2", l1=0.01, channel_penalty=0.2, max_channels=1)
    r = train(X, y, config=cfg, time_limit=4, lp_heuristic_rounds=1)
    assert r.check["ok"], r.check
    full = r.network_full
    conv = [l for l in full.layers if isinstance(l, Conv2D)][0]
    active = channel_activity(full)[0]
    assert active.sum() <= 1
    for c in np.flatnonzero(~active):  # a pruned channel: filter and bias exactly zero
        assert np.all(conv.weight[c] == 0.0) and conv.bias[c] == 0.0
    pruned_conv = [l for l in r.network.layers if isinstance(l, Conv2D)][0]
    assert pruned_conv.out_channels == max(int(active.sum()), 1)
    np.testing.assert_allclose(r.network.forward(X.reshape(8, -1)), full.forward(X.reshape(8, -1)), atol=1e-9)


def test_warm_start_is_feasible_and_consistent():
    X, y = _images(6, seed=2)
    Xf, shape, front, Xs, small = prepare_images(X, None, 1)
    target, *_ = encode_targets(y, "classify")
    cfg = TrainConfig(architecture="conv2x3-maxpool2", l1=0.01, channel_penalty=0.02)
    from mipnet.train.formulation import resolve_config

    problem = ConvTrainingProblem(Xs, target, "classify", 2, resolve_config(cfg, "classify", 2), small)
    w = map_conv_to_class(gradient_conv_weights(problem, seed=0, epochs=100), problem)
    assert np.all(np.isin(np.round(w[1][0] / cfg.scale), [-1, 0, 1]))  # the later layer on its grid
    obj = fixed_lp(problem, w, free_weights=False)
    assert obj is not None
    start = snapshot(problem)
    assert _max_violation(problem.model) <= 1e-6
    # every ReLU binary equals the numpy pattern, every max-pool selects a window maximum
    net = problem.network_with(w)
    trace = net.forward_trace(Xs)
    for n in range(problem.N):
        for bins, z in zip(problem.relu_binaries(n), problem.pre_activations(w)[0]):
            for j, a in enumerate(bins.ravel()):
                if a is not None and abs(z[n, j]) > 1e-9:
                    assert round(a.value) == int(z[n, j] > 0)
    pool_i = [i for i, l in enumerate(net.layers) if isinstance(l, MaxPool2D)][0]
    for n, enc in enumerate(problem.encodings):
        out = enc.terms[pool_i + 1].values().ravel()
        np.testing.assert_allclose(out, trace[pool_i + 1][n].ravel(), atol=1e-6)
    from mipnet.solve import solve

    res = solve(problem.model, "highs", time_limit=1, warm_start=start)
    assert res.has_solution and res.incumbent <= obj + 1e-6


def test_estimator_images_and_flat_rows_with_downsampling():
    from mipnet.train.estimators import MIPNetClassifier

    X, y = _images(8, seed=3, size=8)
    est = MIPNetClassifier(architecture="conv2x3-maxpool2", downsample=2, time_limit=3, lp_heuristic_rounds=0, l1=0.01)
    est.fit(X, y)
    assert isinstance(est.network_.layers[0], AvgPool2D) and est.network_.input_shape == (1, 8, 8)
    p4 = est.predict(X)
    assert p4.shape == (8,) and est.certificate_check_["ok"]
    np.testing.assert_array_equal(p4, est.predict(X.reshape(8, -1)))
    est2 = MIPNetClassifier(
        architecture=[("conv", 2, 3), ("maxpool", 2)],
        input_shape=(1, 8, 8),
        downsample=2,
        time_limit=3,
        lp_heuristic_rounds=0,
        l1=0.01,
    ).fit(X.reshape(8, -1), y)
    assert est2.network_.input_shape == (1, 8, 8) and isinstance(est2.network_.layers[0], AvgPool2D)
    assert est2.certificate_check_["ok"]
    np.testing.assert_array_equal(est2.predict(X), est2.predict(X.reshape(8, -1)))
    with pytest.raises(DataError):
        MIPNetClassifier(architecture="conv2x3", time_limit=2).fit(X.reshape(8, -1), y)


def test_cli_train_with_architecture(tmp_path):
    import pandas as pd
    from click.testing import CliRunner

    from mipnet.cli import cli as main
    from mipnet.io import load_model

    X, y = _images(8, seed=4)
    df = pd.DataFrame(X.reshape(8, -1), columns=[f"p{i}" for i in range(36)])
    df["label"] = y
    df.to_csv(tmp_path / "img.csv", index=False)
    out = tmp_path / "m.json"
    r = CliRunner().invoke(
        main,
        [
            "train",
            str(tmp_path / "img.csv"),
            "--target",
            "label",
            "--architecture",
            "conv2x3-maxpool2",
            "--input-shape",
            "1,6,6",
            "--time-limit",
            "3",
            "--channel-penalty",
            "0.01",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "re-check with numpy: ok" in r.output
    net = load_model(str(out))
    assert net.input_shape == (1, 6, 6) and any(isinstance(l, Conv2D) for l in net.layers)
    bad = CliRunner().invoke(
        main, ["train", str(tmp_path / "img.csv"), "--target", "label", "--architecture", "conv2x3", "-o", str(out)]
    )
    assert bad.exit_code == 2 and "--input-shape" in bad.output


def _torch_cnn(seed: int = 0):
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(8, 3)
    )
    X = torch.tensor(np.random.default_rng(seed).uniform(0, 1, size=(60, 1, 6, 6)), dtype=torch.float32)
    y = torch.stack([X[:, 0, :2].mean((1, 2)), X[:, 0, 2:4].mean((1, 2)), X[:, 0, 4:].mean((1, 2))], 1).argmax(1)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return model.eval()


def _check_verdicts(net, forward, X, eps, results):
    rng = np.random.default_rng(0)
    for x, r in zip(X, results):
        c = r.cls
        if r.verdict == "violated":
            xc = r.counterexample
            assert np.max(np.abs(xc - x)) <= eps + 1e-9 and xc.min() >= 0 and xc.max() <= 1
            assert int(np.argmax(forward(xc[None]))) != c
        elif r.verdict == "holds":
            pts = np.clip(x + rng.uniform(-eps, eps, size=(300, x.size)), 0, 1)
            assert np.all(np.argmax(forward(pts), axis=1) == c)


def test_verify_torch_and_onnx_conv_nets_end_to_end():
    import onnxruntime as ort
    import torch

    from mipnet.domain import Domain
    from mipnet.io.onnx_io import from_onnx, to_onnx
    from mipnet.io.torch_io import from_torch
    from mipnet.verify.robustness import verify_robustness

    model = _torch_cnn()
    net = from_torch(model, (1, 6, 6), domain=Domain.box(36, 0.0, 1.0))
    X = np.random.default_rng(5).uniform(0, 1, size=(4, 36))
    with torch.no_grad():
        ref = model(torch.tensor(X.reshape(-1, 1, 6, 6), dtype=torch.float32)).numpy()
    np.testing.assert_allclose(net.forward(X), ref, atol=1e-5)

    def tforward(Z):
        with torch.no_grad():
            return model(torch.tensor(Z.reshape(-1, 1, 6, 6), dtype=torch.float32)).double().numpy()

    verdicts = []
    for eps in (0.01, 1.0):  # MILP verdicts only (no attack): proofs and MILP counterexamples
        res = verify_robustness(net, X, eps, time_limit=10, bounds="interval", use_attack=False)
        _check_verdicts(net, tforward, X, eps, res)
        verdicts += [r.verdict for r in res]
    assert "unknown" not in verdicts and "holds" in verdicts and "violated" in verdicts
    onet = from_onnx(to_onnx(net), domain=Domain.box(36, 0.0, 1.0))
    sess = ort.InferenceSession(to_onnx(net).SerializeToString())
    name = sess.get_inputs()[0].name

    def oforward(Z):
        return sess.run(None, {name: Z.reshape((-1,) + tuple(onet.input_shape)).astype(np.float64)})[0]

    res = verify_robustness(onet, X, 1.0, time_limit=10, bounds="lp", use_attack=False)
    _check_verdicts(onet, oforward, X, 1.0, res)
    assert [r.verdict for r in res] == verdicts[4:]


def test_recheck_binds_a_conv_net_to_its_recorded_architecture_and_scale():
    """A conv certificate re-checked OK for a net of another class: a 3x3 stride-2 filter in place of the recorded
    2x2 (its terms recomputed and the certificate rebuilt), or the front Normalize scaled x 50 (every conv weight
    50 times outside its box). Both are now refuted; the honest net passes both checks."""
    import copy

    from mipnet.certificates import training_certificate
    from mipnet.layers import Normalize
    from mipnet.network import Network
    from mipnet.report.recheck import recheck
    from mipnet.train.objective_check import Certificate, recompute_terms

    X, y = _images(6, size=4)
    Xf = X.reshape(6, -1)
    r = train(X, y, config=TrainConfig(architecture="conv2x2-maxpool2", l1=0.01), time_limit=5, lp_heuristic_rounds=1)
    net = r.network

    def outcome(candidate: Network, edited: bool) -> dict[str, str]:
        d = copy.deepcopy(net.metadata["certificate"])
        if edited:
            fields = Certificate.__dataclass_fields__
            terms = recompute_terms(candidate, Xf, y, Certificate(**{k: d[k] for k in fields if k in d}))
            d.update(
                terms=terms, model_terms=terms, incumbent=sum(terms.values()), status="feasible", bound=None, gap=None
            )
            d.update(solver_incumbent=sum(terms.values()), bound_source=None, trace=[])
        rep = recheck(training_certificate(candidate, d, target="y"), candidate, (Xf, y))
        names = ("weights in the recorded class's boxes", "input standardisation is the training data's")
        return {c.name: c.outcome for c in rep.checks if c.name in names}

    assert set(outcome(net, False).values()) == {"pass"}, outcome(net, False)
    i = next(k for k, layer in enumerate(net.layers) if layer.kind == "Conv2D")
    old = net.layers[i]
    w = np.zeros((old.weight.shape[0], old.weight.shape[1], 3, 3))
    w[:, :, 1:, 1:] = old.weight
    wider = Network(
        net.layers[:i] + [Conv2D(w, old.bias.copy(), stride=(2, 2), padding=(1, 1))] + net.layers[i + 1 :],
        domain=net.domain, input_shape=net.input_shape, class_names=net.class_names, metadata=net.metadata,
    )  # fmt: skip
    assert outcome(wider, True)["weights in the recorded class's boxes"] == "fail"
    n0 = net.layers[0]
    scaled = Network(
        [Normalize(n0.scale * 50, n0.offset * 50)] + net.layers[1:],
        domain=net.domain, input_shape=net.input_shape, class_names=net.class_names, metadata=net.metadata,
    )  # fmt: skip
    assert outcome(scaled, True)["input standardisation is the training data's"] == "fail"
