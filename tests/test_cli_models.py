"""`mipnet info` and `mipnet predict` on good and bad input (bad model files: test_native_format.py)."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mipnet.cli import cli
from mipnet.domain import Domain
from mipnet.io import load_model, save_model
from mipnet.network import Network


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_input_error(result, pattern: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert pattern in lines[0], lines[0]
    assert "Traceback" not in result.output


@pytest.fixture
def model_file(tmp_path, dense_net):
    net = Network(
        dense_net.layers,
        domain=Domain.box(["age", "income", "debt", "score"], -1.0, 1.0),
        class_names=["deny", "grant"],
        metadata={"trainer": "test"},
    )
    path = tmp_path / "model.json"
    save_model(net, path)
    return path, net


@pytest.fixture
def data(rng):
    return pd.DataFrame(rng.uniform(-1, 1, size=(25, 4)), columns=["age", "income", "debt", "score"])


# ----------------------------------------------------------------------------- info


def test_info_text(model_file):
    path, net = model_file
    r = run("info", path)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "task: classify   input shape: (4,)   outputs: 1" in out
    assert "classes: deny, grant" in out
    assert "Dense(weight=(5, 4), bias=(5,))" in out and "-> (5,)" in out
    assert f"parameters: {net.n_params()}   non-zero weights (no biases): {net.n_nonzero()}" in out
    assert "layer 0: 5/5 active neurons" in out
    assert "income" in out and "[-1, 1]" in out
    assert "metadata: trainer" in out
    assert r.stderr == ""


def test_info_json(model_file, tmp_path, conv_net):
    path, net = model_file
    r = run("info", "--json", path)
    assert r.exit_code == 0
    s = json.loads(r.stdout)
    assert s["n_params"] == net.n_params() == 47
    assert s["shapes"] == [[4], [5], [5], [3], [3], [1]]
    assert s["domain"]["names"] == ["age", "income", "debt", "score"]
    assert s["units"] == [
        {"layer": 0, "kind": "neurons", "total": 5, "active": 5},
        {"layer": 2, "kind": "neurons", "total": 3, "active": 3},
    ]
    save_model(conv_net, tmp_path / "conv.json")
    s = json.loads(run("info", "--json", tmp_path / "conv.json").stdout)
    assert s["input_shape"] == [1, 6, 6] and s["units"][0]["kind"] == "channels"


def test_info_shows_integer_and_onehot_features(tmp_path):
    d = Domain(["n", "a", "b", "z"], [0, 0, 0, -np.inf], [5, 1, 1, np.inf], np.array([1, 1, 1, 0], bool), [[1, 2]])
    net = Network([Network.from_dict(_tiny_dict(4)).layers[0]], domain=d)
    save_model(net, tmp_path / "m.json")
    out = run("info", tmp_path / "m.json").stdout
    assert "[0, 5] integer" in out and "one-hot group: a, b" in out and "[-inf, inf]" in out


def _tiny_dict(n: int) -> dict:
    from mipnet.layers import Dense

    return Network([Dense(np.ones((1, n)), np.zeros(1))]).to_dict()


# ----------------------------------------------------------------------------- predict


def test_predict_to_stdout(model_file, data, tmp_path):
    path, net = model_file
    csv = tmp_path / "data.csv"
    data.to_csv(csv, index=False)
    r = run("predict", path, csv)
    assert r.exit_code == 0, r.output
    out = pd.read_csv(io.StringIO(r.stdout))
    assert list(out.columns) == ["prediction", "y0"]
    X = data.to_numpy()
    assert out["prediction"].tolist() == net.predict(X).tolist()
    np.testing.assert_allclose(out["y0"], net.forward(X)[:, 0], rtol=1e-15, atol=0)
    assert set(out["prediction"]) == {"deny", "grant"}


def test_predict_with_an_output_named_prediction(model_file, data, tmp_path):
    """A classifier whose output is named "prediction": it stopped with "cannot insert prediction, already exists"."""
    path, net = model_file
    named = Network(net.layers, domain=net.domain, class_names=net.class_names, output_names=["prediction"])
    save_model(named, tmp_path / "named.json")
    csv = tmp_path / "data.csv"
    data.to_csv(csv, index=False)
    r = run("predict", str(tmp_path / "named.json"), str(csv))
    assert r.exit_code == 0, r.output
    out = pd.read_csv(io.StringIO(r.stdout))
    assert list(out.columns) == ["predicted_class", "prediction"]
    assert out["predicted_class"].tolist() == net.predict(data.to_numpy()).tolist()


def test_predict_writes_file_with_reordered_and_extra_columns(model_file, data, tmp_path):
    path, net = model_file
    csv = tmp_path / "data.csv"
    shuffled = data[["score", "debt", "age", "income"]].assign(id=range(len(data)), note="x")
    shuffled.to_csv(csv, index=False)
    target = tmp_path / "out" / "pred.csv"
    r = run("predict", path, csv, "-o", target)
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == f"wrote 25 predictions to {target}"
    out = pd.read_csv(target)
    assert out["prediction"].tolist() == net.predict(data.to_numpy()).tolist()
    np.testing.assert_allclose(out["y0"], net.forward(data.to_numpy())[:, 0], rtol=1e-15, atol=0)


def test_predict_multiclass_and_regression_outputs(tmp_path, multiclass_net, data):
    path = tmp_path / "m.json"
    save_model(multiclass_net, path)
    csv = tmp_path / "d.csv"
    data.iloc[:, :3].set_axis(["x0", "x1", "x2"], axis=1).to_csv(csv, index=False)
    out = pd.read_csv(io.StringIO(run("predict", path, csv).stdout))
    assert list(out.columns) == ["prediction", "y0", "y1", "y2"]
    np.testing.assert_array_equal(out["prediction"], np.argmax(out[["y0", "y1", "y2"]].to_numpy(), axis=1))
    reg = Network(multiclass_net.layers, task="regress", output_names=["a", "b", "c"])
    save_model(reg, path)
    out = pd.read_csv(io.StringIO(run("predict", path, csv).stdout))
    assert list(out.columns) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "make_csv, pattern",
    [
        (lambda df: df.rename(columns={"income": "salary"}), "the CSV lacks the model's feature columns ['income']"),
        (lambda df: df.drop(columns=["age", "debt"]), "lacks the model's feature columns ['age', 'debt']"),
        (lambda df: df.set_axis(["a", "b", "c", "d"], axis=1), "lacks the model's feature columns"),
        (
            lambda df: df.assign(debt=np.where(np.arange(len(df)) == 3, np.nan, df["debt"])),
            "column 'debt' has 1 empty, NaN or infinite cell (row 4, ",
        ),
        (lambda df: df.assign(age=np.inf), "column 'age' has 25 empty, NaN or infinite cells (rows 1, 2, 3, 4, 5,"),
        (lambda df: df.assign(score=["high"] * len(df)), "column 'score' must hold numbers, it holds text"),
        (lambda df: df.iloc[:0], "has no data rows"),
    ],
    ids=["renamed", "missing-two", "all-wrong", "nan", "inf", "text", "header-only"],
)
def test_predict_bad_csv(model_file, data, tmp_path, make_csv, pattern):
    path, _ = model_file
    csv = tmp_path / "data.csv"
    make_csv(data).to_csv(csv, index=False)
    out = tmp_path / "pred.csv"
    r = run("predict", path, csv, "-o", out)
    assert_input_error(r, pattern)
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["data.csv", "model.json"]  # no partial output either
    assert_input_error(run("predict", path, csv), pattern)  # same without -o


def test_predict_failure_keeps_existing_output(model_file, data, tmp_path):
    path, _ = model_file
    out = tmp_path / "pred.csv"
    out.write_text("previous results\n")
    csv = tmp_path / "bad.csv"
    data.rename(columns={"age": "AGE"}).to_csv(csv, index=False)
    assert_input_error(run("predict", path, csv, "-o", out), "['age']")
    assert out.read_text() == "previous results\n"


@pytest.mark.parametrize(
    "content, pattern",
    [(None, "file not found"), ("", "is not a readable CSV file"), ('a,b\n"1,2\n', "is not a readable CSV file")],
    ids=["missing", "empty", "unterminated-quote"],
)
def test_predict_unreadable_csv(model_file, tmp_path, content, pattern):
    path, _ = model_file
    csv = tmp_path / "data.csv"
    if content is not None:
        csv.write_text(content)
    assert_input_error(run("predict", path, csv), pattern)


def test_predict_with_bad_model(tmp_path, data):
    csv = tmp_path / "data.csv"
    data.to_csv(csv, index=False)
    model = tmp_path / "model.json"
    model.write_text('{"format": "mipnet", "version": 2}')
    assert_input_error(run("predict", model, csv, "-o", tmp_path / "p.csv"), "version 2 is newer")
    assert not (tmp_path / "p.csv").exists()


def test_convert_json_to_json(model_file, tmp_path):
    path, net = model_file
    r = run("convert", path, "-o", tmp_path / "copy.json")
    assert r.exit_code == 0, r.output
    assert load_model(tmp_path / "copy.json").fingerprint() == net.fingerprint()
    assert_input_error(run("convert", path, "-o", tmp_path / "copy.txt"), "cannot write model files of type '.txt'")
