"""User data in names and columns: figures draw feature names as written (no mathtext); a text column the model
reads one-hot is not taken for the target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mipnet.cli import cli
from mipnet.domain import Domain
from mipnet.io import save_model
from mipnet.layers import Dense, ReLU
from mipnet.network import Network


def test_feature_names_with_dollar_signs_are_drawn_as_written(tmp_path) -> None:
    """A feature named "$\\frac$" is legal in a model and a CSV; matplotlib read it as mathtext and every figure,
    so the whole audit and explain, failed after all the work (exit 2, no report)."""
    names = ["x1", "$\\frac$"]
    rng = np.random.default_rng(0)
    net = Network(
        [Dense(rng.normal(size=(3, 2)), rng.normal(size=3)), ReLU(), Dense(rng.normal(size=(1, 3)), np.zeros(1))],
        domain=Domain(names, [0, 0], [1, 1]),
        class_names=["no", "yes"],
    )
    save_model(net, tmp_path / "m.json")
    pd.DataFrame(rng.uniform(size=(6, 2)), columns=names).to_csv(tmp_path / "d.csv", index=False)
    m, d = str(tmp_path / "m.json"), str(tmp_path / "d.csv")
    r = CliRunner().invoke(cli, ["explain", m, d, "-o", str(tmp_path / "ex")])
    assert r.exit_code == 0, r.output
    out = tmp_path / "a.html"
    r = CliRunner().invoke(cli, ["audit", m, d, "--eps", "0.05", "--rows", "2", "--workers", "0", "-o", str(out)])
    assert r.exit_code in (0, 1, 3), r.output
    assert out.is_file()


def test_a_text_column_is_not_taken_for_the_target(tmp_path) -> None:
    """A model trained on a CSV with a text column reads it one-hot ("color=red", ...): the training certificate's
    re-check with that CSV, and the audit's accuracy, took "color" for a second target candidate ("name the target
    column", exit 2; "the data have no target column")."""
    rng = np.random.default_rng(0)
    n = 30
    df = pd.DataFrame(
        {"age": rng.integers(18, 60, n), "score": rng.normal(size=n), "color": rng.choice(["red", "green", "blue"], n)}
    )
    df["label"] = np.where((df.score > 0) | (df.color == "red"), "yes", "no")
    data, model = str(tmp_path / "t.csv"), str(tmp_path / "t.json")
    df.to_csv(data, index=False)
    r = CliRunner().invoke(
        cli, ["train", data, "--target", "label", "--hidden", "1", "--time-limit", "10", "-o", model]
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "a.html"
    r = CliRunner().invoke(cli, ["audit", model, data, "--eps", "0.1", "--rows", "2", "--workers", "0", "-o", str(out)])
    assert r.exit_code in (0, 1, 3), r.output
    assert "accuracy on" in r.output
    r = CliRunner().invoke(cli, ["recheck", str(tmp_path / "a-certificates" / "training.json"), model, data])
    assert r.exit_code in (0, 3), r.output
    assert "name the target column" not in r.output


def test_datasets_options_and_unwritable_directories(tmp_path) -> None:
    """A yes/no loader option took any word ("dropna=maybe" ran as True); a directory that takes no files reported
    a missing temporary '.part' file."""
    r = CliRunner().invoke(cli, ["datasets", "heart", "--set", "dropna=maybe", "-o", str(tmp_path / "h.csv")])
    assert r.exit_code == 2 and "true or false" in r.output and not (tmp_path / "h.csv").exists()
    r = CliRunner().invoke(cli, ["datasets", "heart", "--set", "dropna=false", "-o", str(tmp_path / "h.csv")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["datasets", "heart", "-o", "/proc/h.csv"])
    assert r.exit_code == 2 and ".part" not in r.output and "cannot write" in r.output


def test_an_output_that_is_an_input_is_refused_before_any_work(tmp_path) -> None:
    """predict -o DATA replaced the data with predictions, -o MODEL the model with CSV text; vnncomp's result file
    equal to the network replaced it with "error". Each is one line, exit 2, and the input is kept."""
    net = Network([Dense(np.array([[1.0, 2.0]]), np.array([0.0]))], domain=Domain(["a", "b"], [0, 0], [1, 1]))
    m, o, d = tmp_path / "m.json", tmp_path / "m.onnx", tmp_path / "d.csv"
    save_model(net, m)
    save_model(net, o)
    pd.DataFrame({"a": [0.1], "b": [0.2]}).to_csv(d, index=False)
    prop = tmp_path / "p.vnnlib"
    prop.write_text(
        "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)"
        "(assert (>= X_0 0))(assert (<= X_0 1))(assert (>= X_1 0))(assert (<= X_1 1))(assert (>= Y_0 5))"
    )
    before = {p: p.read_bytes() for p in (m, o, d, prop)}
    for args in (
        ["predict", str(m), str(d), "-o", str(d)],
        ["predict", str(m), str(d), "-o", str(m)],
        ["vnncomp", "run", str(o), str(prop), "--result-file", str(o), "--timeout", "5"],
        ["vnncomp", "run", str(o), str(prop), "--result-file", str(prop), "--timeout", "5"],
        ["convert", str(m), "-o", str(m)],
    ):
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 2 and "would destroy that input" in r.output, (args, r.output)
    assert all(p.read_bytes() == b for p, b in before.items())
    r = CliRunner().invoke(cli, ["predict", str(m), str(d), "-o", str(tmp_path / "out.csv")])
    assert r.exit_code == 0, r.output


def test_ctrl_c_inside_the_gradient_warm_start_is_not_swallowed() -> None:
    """scikit-learn's MLP catches KeyboardInterrupt (Ctrl-C) and returns: the training went on, exit 0 and the
    model written. The flag Ctrl-C sets is checked right after the fit."""
    import pytest

    from mipnet import interrupt
    from mipnet.deadline import Deadline
    from mipnet.train.warmstart_map import gradient_weights

    rng = np.random.default_rng(0)
    X, t = rng.normal(size=(60, 3)), np.sign(rng.normal(size=60))
    interrupt.request()
    try:
        with pytest.raises(interrupt.Interrupted):
            gradient_weights(X, t, "classify", 2, (3,), seed=0)
    finally:
        interrupt.clear()
    # a deadline already past: the fit stops at once with what it has (its initial weights), no error
    w = gradient_weights(X, t, "classify", 2, (3,), seed=0, deadline=Deadline(0.0))
    assert w is None or [W.shape for W, _ in w] == [(3, 3), (1, 3)]


def test_a_directory_written_file_by_file_is_restored_when_the_block_stops(tmp_path) -> None:
    """An audit stopped part-way removed only the certificates it added: one it had overwritten kept the new run's
    claim (eps 0.002) beside the old report (eps 0.01). Now the old contents come back, new files go."""
    import pytest

    from mipnet.io.atomic import restored_on_failure

    names = ("robustness.json", "monotonicity.json", "a.json")
    d = tmp_path / "certs"
    d.mkdir()
    (d / "robustness.json").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with restored_on_failure(d, names):
            (d / "robustness.json").write_text("new")
            (d / "monotonicity.json").write_text("new")
            (d / "theirs.txt").write_text("another program's file")  # never the block's to remove
            raise KeyboardInterrupt
    assert sorted(p.name for p in d.iterdir()) == ["robustness.json", "theirs.txt"]
    assert (d / "robustness.json").read_text() == "old"
    fresh = tmp_path / "fresh"
    with pytest.raises(ValueError):
        with restored_on_failure(fresh, names):
            fresh.mkdir()
            (fresh / "a.json").write_text("x")
            raise ValueError
    assert not fresh.exists()
    with restored_on_failure(d, names):  # no error: what the block wrote stays
        (d / "robustness.json").write_text("newer")
    assert (d / "robustness.json").read_text() == "newer"


@pytest.mark.parametrize(
    "args",
    [
        ["train", "DATA", "--target", "y", "--hidden", "4,,3", "-o", "OUT.json"],
        ["train", "DATA", "--target", "y", "--l1", "cv", "--l1-grid", "0.01,", "-o", "OUT.json"],
        ["verify", "resilience", "MODEL", "--alpha", "1.5", "--heuristics", "dataflow,,"],
        ["explain", "polytope", "MODEL", "DATA", "--eps", "0.1,,0.2", "-o", "OUTDIR"],
        ["audit", "MODEL", "DATA", "--monotone-increasing", "a,,b", "-o", "OUT.html"],
    ],
)
def test_an_empty_item_of_a_comma_list_is_refused(tmp_path, args) -> None:
    """``--hidden 4,,3`` trained a 4,3 net, ``--eps 0.1,,0.2`` and ``--heuristics dataflow,,`` ran: an empty item
    is a typo, one line, exit 2, nothing written."""
    net = Network([Dense(np.array([[1.0, 2.0]]), np.array([0.0]))], domain=Domain(["a", "b"], [0, 0], [1, 1]))
    save_model(net, tmp_path / "m.json")
    pd.DataFrame({"a": [0.1, 0.9], "b": [0.2, 0.3], "y": [0, 1]}).to_csv(tmp_path / "d.csv", index=False)
    where = {"DATA": tmp_path / "d.csv", "MODEL": tmp_path / "m.json", "OUT.json": tmp_path / "o.json"}
    where |= {"OUTDIR": tmp_path / "od", "OUT.html": tmp_path / "o.html"}
    r = CliRunner().invoke(cli, [str(where.get(a, a)) for a in args])
    assert r.exit_code == 2 and "empty item" in r.output, r.output
    assert not any(p.exists() for k, p in where.items() if k.startswith("OUT"))


def test_an_unknown_monitored_output_is_refused_before_any_work(tmp_path, monkeypatch) -> None:
    import mipnet.report.audit.run as run

    net = Network(
        [Dense(np.eye(3, 2), np.zeros(3))], domain=Domain(["a", "b"], [0, 0], [1, 1]), class_names=["x", "y", "z"]
    )
    save_model(net, tmp_path / "m.json")
    pd.DataFrame({"a": [0.1, 0.5], "b": [0.2, 0.3], "t": ["x", "y"]}).to_csv(tmp_path / "d.csv", index=False)

    def no_work(*a, **k):
        raise AssertionError("a verification problem ran before the output name was checked")

    monkeypatch.setattr(run, "_call", no_work)
    args = ["audit", str(tmp_path / "m.json"), str(tmp_path / "d.csv"), "--monotone-increasing", "a"]
    r = CliRunner().invoke(
        cli, [*args, "--output-name", "nosuch", "--eps", "0.01", "--workers", "0", "-o", str(tmp_path / "r.html")]
    )
    assert r.exit_code == 2 and "unknown output 'nosuch'" in r.output, r.output
    assert not (tmp_path / "r.html").exists()


def test_verifiers_decline_a_build_that_cannot_fit_in_the_time_left() -> None:
    """The MILP of a verifier is built in one uninterruptible step: it started after the deadline and ran on for
    5-10 s on a 2-M-weight net. With less time left than the build's lower estimate, each says unknown at once."""
    from mipnet.deadline import Deadline
    from mipnet.encode import build_estimate
    from mipnet.layers import ReLU
    from mipnet.verify.monotonic import verify_global
    from mipnet.verify.resilience import class_resilience
    from mipnet.verify.robustness import verify_sample

    rng = np.random.default_rng(0)
    net = Network(
        [Dense(rng.normal(size=(40, 3)), rng.normal(size=40)), ReLU(), Dense(rng.normal(size=(2, 40)), [0, 0])],
        domain=Domain(["a", "b", "c"], [0, 0, 0], [1, 1, 1]),
    )
    assert build_estimate(net) > 0 and build_estimate(net, copies=2) == pytest.approx(2 * build_estimate(net))
    tiny = Deadline(build_estimate(net) / 10)
    r = verify_sample(net, np.full(3, 0.5), 0.3, "inf", time_limit=tiny, use_attack=False, spec_bound=False)
    assert r.verdict == "unknown"
    rep = verify_global(net, ["a"], output=0, versus=1, time_limit=build_estimate(net) / 10, presample=0)
    assert rep.features[0].status == "unknown" and "while the model is built" in (rep.features[0].note or "")
    assert class_resilience(net, 0, alpha=1.1, time_limit=tiny).bound is None


def test_a_result_file_that_is_a_directory_is_named_not_its_temporary_file(tmp_path) -> None:
    net = Network([Dense(np.array([[1.0, 2.0]]), np.array([0.0]))], domain=Domain(["a", "b"], [0, 0], [1, 1]))
    save_model(net, tmp_path / "m.onnx")
    prop = tmp_path / "p.vnnlib"
    prop.write_text(
        "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)"
        "(assert (>= X_0 0))(assert (<= X_0 1))(assert (>= X_1 0))(assert (<= X_1 1))(assert (>= Y_0 5))"
    )
    (tmp_path / "out").mkdir()
    args = ["vnncomp", "run", str(tmp_path / "m.onnx"), str(prop), "--result-file", str(tmp_path / "out")]
    r = CliRunner().invoke(cli, [*args, "--timeout", "5"])
    assert r.exit_code == 2 and ".part" not in r.output and "cannot write" in r.output, r.output
