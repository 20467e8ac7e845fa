"""Native JSON model files: bit-for-bit round trip, atomic saving, and every kind of bad file
(through the library and through ``mipnet info``: exit 2, one ``error:`` line, no traceback)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import random_dense_net

from mipnet.cli import cli
from mipnet.domain import Domain
from mipnet.errors import MipnetError, ModelFormatError, UnsupportedError
from mipnet.io import atomic, load_json, load_model, save_json, save_model
from mipnet.layers import (
    GELU,
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    Identity,
    LeakyReLU,
    MaxPool2D,
    Normalize,
    Sigmoid,
    Tanh,
)
from mipnet.network import Network


def _wild(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Full-precision floats over many magnitudes."""
    return rng.normal(size=shape) * 10.0 ** rng.uniform(-8, 2, size=shape)


def full_net() -> Network:
    """Every layer type, an image input, a domain with inf bounds, integers and a one-hot group."""
    rng = np.random.default_rng(2024)
    layers = [
        Normalize(_wild(rng, (2, 1, 1)), _wild(rng, (2, 1, 1))),
        Conv2D(_wild(rng, (3, 2, 3, 2)), _wild(rng, (3,)), stride=(2, 1), padding=(1, 0)),  # -> (3, 3, 4)
        LeakyReLU(alpha=0.05),
        AvgPool2D(kernel=2, stride=1, padding=1, count_include_pad=False),  # -> (3, 4, 5)
        MaxPool2D(kernel=(2, 2), stride=(2, 2)),  # -> (3, 2, 2)
        Flatten(),
        # the awkward values: -0.0, the smallest subnormal, the smallest normal, 0.1, 1/3
        Dense(_wild(rng, (5, 12)), np.array([-0.0, 5e-324, -2.2250738585072014e-308, 0.1, 1 / 3])),
        GELU(),
        Dense(_wild(rng, (4, 5)), _wild(rng, (4,))),
        Tanh(),
        Identity(),
        Sigmoid(),
        Dense(_wild(rng, (3, 4)), np.array([1.7976931348623157e308, -1e-300, 2.5])),  # the largest float
    ]
    n = 60
    lower = rng.normal(size=n) - 5
    upper = lower + rng.uniform(0.1, 10, size=n)
    lower[[0, 5]] = -np.inf
    upper[[0, 7]] = np.inf
    integer = np.zeros(n, dtype=bool)
    integer[[20, 21, 22, 30]] = True
    lower[[20, 21, 22]], upper[[20, 21, 22]] = 0.0, 1.0
    lower[30], upper[30] = -3.0, 12.0
    domain = Domain([f"pixel {i} é" for i in range(n)], lower, upper, integer, [[20, 21, 22]])
    metadata = {
        "trainer": "test",
        "seed": 7,
        "gap": 0.1,
        "tiny": 5e-324,
        "ok": True,
        "none": None,
        "history": [{"t": 1.5, "bound": -1e300}],
        "unicode": "naïve ∀x",
    }
    return Network(
        layers,
        domain=domain,
        input_shape=(2, 6, 5),
        class_names=["cat", "dog", "eel"],
        output_names=["l_cat", "l_dog", "l_eel"],
        metadata=metadata,
    )


def assert_identical(a: Network, b: Network) -> None:
    assert [type(l) for l in a.layers] == [type(l) for l in b.layers]
    for la, lb in zip(a.layers, b.layers):
        assert la.config() == lb.config()
        pa, pb = la.parameters(), lb.parameters()
        assert pa.keys() == pb.keys()
        for k in pa:
            assert pa[k].dtype == pb[k].dtype == np.float64
            assert np.array_equal(pa[k], pb[k]) and pa[k].tobytes() == pb[k].tobytes(), k  # -0.0 included
    da, db = a.domain, b.domain
    assert da.names == db.names and da.onehot_groups == db.onehot_groups
    assert np.array_equal(da.lower, db.lower) and np.array_equal(da.upper, db.upper)
    assert np.array_equal(da.integer, db.integer)
    assert (a.input_shape, a.task, a.class_names, a.output_names) == (
        b.input_shape,
        b.task,
        b.class_names,
        b.output_names,
    )
    assert a.metadata == b.metadata
    assert a.fingerprint() == b.fingerprint()


# ----------------------------------------------------------------------------- round trip


def test_round_trip_bit_for_bit(tmp_path):
    net = full_net()
    path = tmp_path / "model.json"
    save_json(net, path)
    back = load_json(path)
    assert_identical(net, back)
    X = net.domain.clip(np.random.default_rng(0).uniform(-1, 1, size=(8, 60)))
    np.testing.assert_array_equal(back.forward(X), net.forward(X))
    # saving the loaded model writes the same bytes
    save_json(back, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()
    text = path.read_text(encoding="utf-8")
    d = json.loads(text)
    assert (d["format"], d["version"]) == ("mipnet", 1)
    assert d["domain"]["lower"][0] == "-inf" and d["domain"]["upper"][7] == "inf"
    assert "NaN" not in text and "Infinity" not in text


def test_round_trip_through_load_model_and_regression(tmp_path, dense_net):
    for net in (dense_net, Network(dense_net.layers, task="regress", output_names=["price"])):
        save_model(net, tmp_path / "m.json")
        assert_identical(net, load_model(tmp_path / "m.json"))


def test_numpy_values_in_metadata_and_class_names_are_saved(tmp_path):
    net = Network(
        [Dense(np.ones((1, 2)), np.zeros(1))],
        class_names=[np.int64(0), np.int64(1)],
        metadata={"n": np.int64(3), "w": np.array([1.5, 2.0]), "f": np.float32(0.5)},
    )
    save_json(net, tmp_path / "m.json")
    back = load_json(tmp_path / "m.json")
    assert back.metadata == {"n": 3, "w": [1.5, 2.0], "f": 0.5}
    assert back.class_names == [0, 1]


# ----------------------------------------------------------------------------- atomic save


def test_save_creates_directories_and_replaces(tmp_path, dense_net, multiclass_net):
    path = tmp_path / "a" / "b" / "m.json"
    save_json(dense_net, path)
    save_json(multiclass_net, path)
    assert_identical(load_json(path), multiclass_net)
    assert os.listdir(path.parent) == ["m.json"]


@pytest.mark.parametrize(
    "metadata, msg",
    [({"bad": float("nan")}, "cannot save the model as JSON"), ({"obj": object()}, "not JSON serialisable")],
)
def test_failed_save_leaves_the_old_file(tmp_path, dense_net, metadata, msg):
    path = tmp_path / "m.json"
    save_json(dense_net, path)
    before = path.read_bytes()
    bad = dense_net.copy()
    bad.metadata.update(metadata)
    with pytest.raises(ModelFormatError, match=msg):
        save_json(bad, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.json"]


def test_crash_while_writing_leaves_no_partial_file(tmp_path, dense_net, multiclass_net, monkeypatch):
    path = tmp_path / "m.json"
    save_json(dense_net, path)
    before = path.read_bytes()

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_json(multiclass_net, path)
    with pytest.raises(OSError, match="disk full"):
        save_json(multiclass_net, tmp_path / "new.json")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.json"]


# ----------------------------------------------------------------------------- bad files


def _good() -> dict[str, Any]:
    return random_dense_net(np.random.default_rng(5), [3, 4, 2]).to_dict()


def _edit(fn: Callable[[dict[str, Any]], Any], allow_nan: bool = False) -> Callable[[], str]:
    def make() -> str:
        d = _good()
        fn(d)
        return json.dumps(d, allow_nan=allow_nan)

    return make


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def fn(d: dict[str, Any]) -> None:
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value

    return fn


def _del(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def fn(d: dict[str, Any]) -> None:
        for k in path[:-1]:
            d = d[k]
        del d[path[-1]]

    return fn


def _truncated() -> str:
    text = json.dumps(_good(), indent=1)
    return text[: len(text) // 2]


def _first_weight(value: Any) -> Callable[[dict[str, Any]], None]:
    def fn(d: dict[str, Any]) -> None:
        d["layers"][0]["weight"][0][0] = value

    return fn


def _wrong_width(d: dict[str, Any]) -> None:
    for row in d["layers"][2]["weight"]:
        row.append(0.5)


BAD_FILES: dict[str, tuple[Callable[[], Any], type[Exception], str]] = {
    "malformed": (lambda: '{"format": "mipnet", version: 1}', ModelFormatError, r"is not valid JSON \(line 1"),
    "truncated": (_truncated, ModelFormatError, "is not valid JSON"),
    "empty": (lambda: "", ModelFormatError, "is not valid JSON"),
    "binary": (lambda: b"\xff\xfe\x00\x81garbage", ModelFormatError, "is not a UTF-8 JSON file"),
    "deeply-nested": (lambda: "[" * 200_000 + "]" * 200_000, ModelFormatError, "nested too deeply"),
    "not-an-object": (lambda: "[1, 2, 3]", ModelFormatError, "must be a JSON object"),
    "not-mipnet": (lambda: '{"format": "onnx", "version": 1}', ModelFormatError, "not a mipnet model file"),
    "version-2": (
        _edit(_set(["version"], 2)),
        ModelFormatError,
        "model format version 2 is newer than this mipnet reads \\(1\\); upgrade mipnet",
    ),
    "version-string": (_edit(_set(["version"], "1")), ModelFormatError, "invalid model format version '1'"),
    "version-missing": (_edit(_del(["version"])), ModelFormatError, "invalid model format version None"),
    "nan-constant": (
        _edit(_first_weight(float("nan")), allow_nan=True),
        ModelFormatError,
        "NaN is not allowed in a model file",
    ),
    "inf-constant": (_edit(_first_weight(float("inf")), allow_nan=True), ModelFormatError, "Infinity is not allowed"),
    "minus-inf-constant": (
        _edit(_set(["layers", 0, "bias", 1], float("-inf")), allow_nan=True),
        ModelFormatError,
        "-Infinity is not allowed",
    ),
    "nan-string": (_edit(_first_weight("nan")), ModelFormatError, "layer 0: Dense weight contains NaN or inf"),
    "inf-string-bias": (
        _edit(_set(["layers", 2, "bias", 0], "-inf")),
        ModelFormatError,
        "layer 2: Dense bias contains NaN or inf",
    ),
    "overflowing-number": (
        lambda: _edit(_first_weight(12345.5))().replace("12345.5", "1e999"),
        ModelFormatError,
        "layer 0: Dense weight contains NaN or inf",
    ),
    "string-weight": (_edit(_first_weight("heavy")), ModelFormatError, "layer 0: Dense weight is not a numeric"),
    "shapes-do-not-chain": (
        _edit(_wrong_width),
        ModelFormatError,
        r"layer 2 \(Dense\): Dense layer expects 5 inputs but receives shape \(4,\)",
    ),
    "bias-length": (_edit(_set(["layers", 0, "bias"], [0.0])), ModelFormatError, "layer 0: Dense bias has 1 entries"),
    "unknown-layer-type": (
        _edit(_set(["layers", 1, "type"], "Swish")),
        UnsupportedError,
        "layer 1: unknown layer type 'Swish'",
    ),
    "missing-layers": (_edit(_del(["layers"])), ModelFormatError, "missing field 'layers'"),
    "missing-domain": (_edit(_del(["domain"])), ModelFormatError, "missing field 'domain'"),
    "missing-bias": (
        _edit(_del(["layers", 0, "bias"])),
        ModelFormatError,
        r"layer 0: Dense layer is missing field\(s\) \['bias'\]",
    ),
    "missing-layer-type": (_edit(_del(["layers", 1, "type"])), ModelFormatError, "'type' field"),
    "missing-domain-lower": (_edit(_del(["domain", "lower"])), ModelFormatError, "domain is missing field 'lower'"),
    "layers-not-a-list": (_edit(_set(["layers"], {"0": {}})), ModelFormatError, "'layers' must be a list"),
    "bad-input-shape": (_edit(_set(["input_shape"], [0])), ModelFormatError, "'input_shape' must list positive"),
    "domain-nan": (_edit(_set(["domain", "upper", 0], "nan")), ModelFormatError, "domain upper contains NaN"),
    "domain-size": (_edit(_set(["domain", "names"], ["a", "b"])), ModelFormatError, "2 feature names"),
    "class-names": (_edit(_set(["class_names"], ["a"])), ModelFormatError, "1 class names"),
    "task": (_edit(_set(["task"], "rank")), ModelFormatError, "task must be one of"),
}


def _write_bad(tmp_path: Path, name: str) -> Path:
    content = BAD_FILES[name][0]()
    path = tmp_path / f"{name}.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_good_base_file_loads(tmp_path):
    path = tmp_path / "good.json"
    path.write_text(json.dumps(_good()), encoding="utf-8")
    assert load_json(path).shapes == [(3,), (4,), (4,), (2,)]


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_raises_clear_error(tmp_path, name):
    _, exc, msg = BAD_FILES[name]
    path = _write_bad(tmp_path, name)
    for loader in (load_json, load_model):
        with pytest.raises(exc, match=msg) as info:
            loader(path)
        text = str(info.value)
        assert "\n" not in text and len(text) < 400
        assert isinstance(info.value, MipnetError)


def test_missing_file(tmp_path):
    for loader in (load_json, load_model):
        with pytest.raises(MipnetError, match="file not found: .*nothing.json"):
            loader(tmp_path / "nothing.json")


def _assert_cli_input_error(result: Any, msg: str | None = None) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # not an uncaught exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    if msg is not None:
        import re

        assert re.search(msg, lines[0]), lines[0]


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_cli_info_on_bad_file(tmp_path, name):
    path = _write_bad(tmp_path, name)
    result = CliRunner().invoke(cli, ["info", str(path)])
    _assert_cli_input_error(result, BAD_FILES[name][2])


@pytest.mark.parametrize("args", [["nothing.json"], ["model.txt"], ["--json", "nothing.json"]])
def test_cli_info_on_missing_or_unknown_file(tmp_path, args):
    (tmp_path / "model.txt").write_text("{}")
    args = [a if a.startswith("-") else str(tmp_path / a) for a in args]
    result = CliRunner().invoke(cli, ["info", *args])
    _assert_cli_input_error(result, "file not found|unknown model file type '.txt'")


def test_a_dense_layer_without_units_is_refused_at_construction():
    """A 0-unit layer saved without complaint, and its file ([] for the weight) did not load back."""
    import numpy as np
    import pytest

    from mipnet.errors import ModelFormatError
    from mipnet.layers import Dense

    with pytest.raises(ModelFormatError, match="no units or no inputs"):
        Dense(np.zeros((0, 3)), np.zeros(0))
    with pytest.raises(ModelFormatError, match="no units or no inputs"):
        Dense(np.zeros((2, 0)), np.zeros(2))


def test_a_model_declaring_gigabytes_per_row_is_refused_before_any_allocation(tmp_path):
    """A few hundred bytes declaring a padding of 30 000 (3.6e9 outputs) or an input of 1e9 features ended in a
    MemoryError traceback after asking for gigabytes: now one ModelFormatError before any allocation."""
    from mipnet.errors import ModelFormatError
    from mipnet.layers import Conv2D, Dense
    from mipnet.network import Network

    with pytest.raises(ModelFormatError, match="values per row"):
        Network([Conv2D(np.ones((1, 1, 1, 1)), np.zeros(1), padding=(30000, 30000))], input_shape=(1, 1, 1))
    with pytest.raises(ModelFormatError, match="the input has 1e\\+09 values per row"):
        Network([Dense(np.ones((1, 1)), np.zeros(1))], input_shape=(10**9,))
