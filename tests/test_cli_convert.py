"""`mipnet convert` between ONNX, torch, sklearn pickles and native JSON."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import torch
from click.testing import CliRunner
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from mipnet.cli import cli
from mipnet.io import load_model
from mipnet.io.native import save_json


def _tiny_net():
    from mipnet.layers import Dense
    from mipnet.network import Network

    return Network([Dense(np.ones((1, 2)), np.zeros(1))])


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_json_to_onnx_and_back(tmp_path, conv_net, rng):
    conv_net.class_names = ["no", "yes"]
    save_json(conv_net, tmp_path / "m.json")
    res = _run("convert", str(tmp_path / "m.json"), "-o", str(tmp_path / "m.onnx"))
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and (tmp_path / "m.onnx").is_file()
    res = _run("convert", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "back.json"))
    assert res.exit_code == 0, res.output
    back = json.loads((tmp_path / "back.json").read_text())
    assert back["class_names"] == ["no", "yes"] and back["domain"]["upper"] == [1.0] * 36
    X = rng.uniform(0, 1, size=(10, 36))
    np.testing.assert_allclose(load_model(tmp_path / "back.json").forward(X), conv_net.forward(X), atol=1e-6)


def test_torch_file_to_json(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 1)).double().eval()
    torch.save(model, tmp_path / "model.pt")
    res = _run("convert", str(tmp_path / "model.pt"), "-o", str(tmp_path / "m.json"))
    assert res.exit_code == 0, res.output
    X = torch.randn(7, 3, dtype=torch.float64)
    with torch.no_grad():
        want = model(X).numpy()
    np.testing.assert_allclose(load_model(tmp_path / "m.json").forward(X.numpy()), want, atol=1e-12)


def test_sklearn_pickle_to_json(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) * [1, 50, 0.1]
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(4,), max_iter=100, random_state=0))
        est.fit(X, y)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(est))
    res = _run("convert", str(tmp_path / "model.pkl"), "-o", str(tmp_path / "m.json"))
    assert res.exit_code == 0, res.output
    net = load_model(tmp_path / "m.json")
    assert np.array_equal(net.predict(X), est.predict(X))


def test_failing_convert_exits_2_with_one_line_and_no_output(tmp_path):
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 1))
    torch.save(conv, tmp_path / "conv.pt")  # no input_shape attribute: cannot be read
    (tmp_path / "bad.onnx").write_bytes(b"garbage")
    (tmp_path / "lr.pkl").write_bytes(pickle.dumps({"not": "a model"}))
    cases = [
        ("conv.pt", "m.json", "input shape"),
        ("bad.onnx", "m.json", "not a readable ONNX model"),
        ("lr.pkl", "m.json", "dict"),
        ("missing.onnx", "m.json", "file not found"),
    ]
    for src, dst, message in cases:
        res = _run("convert", str(tmp_path / src), "-o", str(tmp_path / dst))
        assert res.exit_code == 2, (src, res.output)
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], res.output
        assert not (tmp_path / dst).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.onnx", "conv.pt", "lr.pkl"]
    save_json(_tiny_net(), tmp_path / "ok.json")
    res = _run("convert", str(tmp_path / "ok.json"), "-o", str(tmp_path / "out.pt"))
    assert res.exit_code == 2 and "cannot write" in res.output and not (tmp_path / "out.pt").exists()
