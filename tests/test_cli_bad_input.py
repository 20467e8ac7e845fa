"""Bad input to every command: exit 2, exactly one line on stderr starting with "error:", no traceback,
no output file, and no work started (no solver run, no training, no verification) - the command fails
while it reads its options and files, not after minutes of solving.

One row per (command, bad option or input). The checks run in-process (click's CliRunner); the
subprocess cases (Ctrl-C, a closed pipe) are in test_interrupt.py.
"""

from __future__ import annotations

import json
import os
import time

import highspy
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import random_dense_net

from mipnet.cli import cli
from mipnet.domain import Domain
from mipnet.io import save_model
from mipnet.network import Network

# ------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """Input files, good and bad, in a directory of their own (outputs go to each test's tmp_path)."""
    d = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    names = ["a", "b", "c"]
    binary = random_dense_net(np.random.default_rng(3), [3, 4, 1])
    binary = Network(binary.layers, domain=Domain.box(names, -1.0, 1.0), class_names=["no", "yes"])
    three = random_dense_net(np.random.default_rng(0), [3, 5, 3])
    three = Network(three.layers, domain=Domain.box(names, -1.0, 1.0))
    save_model(binary, d / "model.json")
    save_model(three, d / "model3.json")
    save_model(binary, d / "model.onnx")
    onnx = (d / "model.onnx").read_bytes()
    (d / "trunc.onnx").write_bytes(onnx[: len(onnx) // 2])
    (d / "bad.json").write_text('{"format": "mipnet", "version": 1, "layers": [')
    doc = json.loads((d / "model.json").read_text())
    unknown = json.loads(json.dumps(doc))
    unknown["layers"][1] = {"type": "Swish"}
    (d / "unknown_layer.json").write_text(json.dumps(unknown))
    shapes = json.loads(json.dumps(doc))
    shapes["layers"][2]["weight"] = [[1.0, 2.0]]  # 2 inputs after a 4-wide hidden layer
    (d / "shapes.json").write_text(json.dumps(shapes))
    (d / "model.txt").write_text("not a model")

    X = rng.uniform(-1, 1, (30, 3))
    df = pd.DataFrame(X, columns=names)
    df["label"] = (X[:, 0] > 0).astype(int)
    df.to_csv(d / "data.csv", index=False)
    text = df.astype(object)
    text.loc[3, "b"] = "abc"  # one typo in a numeric column (row 4 below the header)
    text.to_csv(d / "str.csv", index=False)
    nan = df.copy()
    nan.loc[[5, 7], "b"] = np.nan
    nan.to_csv(d / "nan.csv", index=False)
    tnan = df.astype({"label": float})
    tnan.loc[2, "label"] = np.nan
    tnan.to_csv(d / "target_nan.csv", index=False)
    df.assign(label=np.where(df["label"] == 1, "yes", "no")).to_csv(d / "text_target.csv", index=False)
    df.assign(label=X[:, 0] * 7.5).to_csv(d / "real_target.csv", index=False)  # a numeric target, classify asked
    (d / "empty.csv").write_text("")
    (d / "header.csv").write_text("a,b,c,label\n")
    (d / "shifted.csv").write_text("a,b,c\n9,1,2,3\n9,4,5,6\n")  # one field more than the header: pandas indexed
    (d / "dup_col.csv").write_text("a,b,c,a\n1,2,3,4\n")  # by the first field and read every column one to the right

    (d / "junk_cert.json").write_text("{")
    from mipnet.report.certificates import robustness_certificate, save_certificate
    from mipnet.verify.robustness import verify_robustness

    res = verify_robustness(binary, X[:2], 0.05, "inf", time_limit=5)
    save_certificate(robustness_certificate(binary, X[:2], res, eps=0.05), d / "cert.json")

    (d / "prop.vnnlib").write_text(
        "".join(f"(declare-const X_{i} Real)\n" for i in range(3))
        + "(declare-const Y_0 Real)\n"
        + "".join(f"(assert (<= X_{i} 0.1))\n(assert (>= X_{i} -0.1))\n" for i in range(3))
        + "(assert (>= Y_0 100))\n"
    )
    (d / "badprop.vnnlib").write_text("(assert (<= X_0")
    out = {p.stem: str(p) for p in d.iterdir() if p.suffix in (".csv", ".json", ".vnnlib")}
    return out | {
        "onnx_model": str(d / "model.onnx"),
        "trunc": str(d / "trunc.onnx"),
        "model_txt": str(d / "model.txt"),
        "dir": str(d),
    }


# ---------------------------------------------------------------------------------------------- cases
# argv with {placeholders}: files by stem ({data}, {nan}, {str}, ...), {out}: this test's tmp_path

CASES: list[tuple[str, str, str]] = [
    # --- train
    ("train-suffix", "train {data} --target label -o {out}/m.txt", "cannot write model files of type '.txt'"),
    ("train-suffix-html", "train {data} --target label -o {out}/m.html", "'.html'"),
    ("train-out-dir", "train {data} --target label -o {out}", "is a directory"),
    ("train-out-under-file", "train {data} --target label -o {data}/m.json", "is a file"),
    ("train-time-neg", "train {data} --target label --time-limit -1 -o {out}/m.json", "--time-limit"),
    ("train-time-zero", "train {data} --target label --time-limit 0 -o {out}/m.json", "--time-limit"),
    ("train-time-nan", "train {data} --target label --time-limit nan -o {out}/m.json", "--time-limit"),
    ("train-time-inf", "train {data} --target label --time-limit inf -o {out}/m.json", "--time-limit"),
    ("train-samples-neg", "train {data} --target label --samples -5 -o {out}/m.json", "--samples"),
    ("train-samples-zero", "train {data} --target label --samples 0 -o {out}/m.json", "--samples"),
    ("train-l2-neg", "train {data} --target label --l2 -1 -o {out}/m.json", "--l2"),
    ("train-l0-nan", "train {data} --target label --l0 nan -o {out}/m.json", "--l0"),
    ("train-neuron-penalty", "train {data} --target label --neuron-penalty -0.5 -o {out}/m.json", "--neuron-penalty"),
    ("train-layer-penalty-inf", "train {data} --target label --layer-penalty inf -o {out}/m.json", "--layer-penalty"),
    ("train-channel-penalty", "train {data} --target label --channel-penalty -2 -o {out}/m.json", "--channel-penalty"),
    ("train-max-nonzeros", "train {data} --target label --max-nonzeros -1 -o {out}/m.json", "--max-nonzeros"),
    ("train-seed", "train {data} --target label --seed -1 -o {out}/m.json", "--seed"),
    ("train-downsample", "train {data} --target label --downsample 0 -o {out}/m.json", "--downsample"),
    (  # 3 does not divide 8: the pooling dropped two rows and columns of pixels unannounced
        "train-downsample-divides",
        "train {data} --target label --architecture conv1x2-dense1 --input-shape 1,8,8 --downsample 3 -o {out}/m.json",
        "--downsample 3 does not divide the 8x8 images",
    ),
    ("train-l1-neg", "train {data} --target label --l1 -0.1 -o {out}/m.json", "--l1"),
    ("train-l1-nan", "train {data} --target label --l1 nan -o {out}/m.json", "--l1"),
    ("train-hidden-zero", "train {data} --target label --hidden 0 -o {out}/m.json", "--hidden"),
    ("train-hidden-text", "train {data} --target label --hidden a,b -o {out}/m.json", "--hidden"),
    ("train-loss-task", "train {data} --target label --loss squared -o {out}/m.json", "--loss squared"),
    ("train-loss-unknown", "train {data} --target label --loss bogus -o {out}/m.json", "--loss"),
    ("train-solver", "train {data} --target label --solver nosuch -o {out}/m.json", "nosuch"),
    (
        "train-string-cell",
        "train {str} --target label -o {out}/m.json",
        "column 'b' holds numbers but 1 cell is not a number: row 4 'abc'",
    ),
    ("train-nan-feature", "train {nan} --target label -o {out}/m.json", "column 'b' has 2 empty"),
    ("train-nan-target", "train {target_nan} --target label -o {out}/m.json", "target column 'label' has 1"),
    ("train-regress-text", "train {text_target} --target label --task regress -o {out}/m.json", "numeric target"),
    ("train-real-target", "train {real_target} --target label -o {out}/m.json", "pass --task regress"),
    ("train-empty-csv", "train {empty} --target label -o {out}/m.json", "not a readable CSV"),
    ("train-header-only", "train {header} --target label -o {out}/m.json", "has no data rows"),
    ("train-no-target", "train {data} --target nope -o {out}/m.json", "'nope'"),
    ("train-missing-file", "train {out}/none.csv --target label -o {out}/m.json", "file not found"),
    (
        "train-architecture",
        "train {data} --target label --architecture conv4x3-bogus --input-shape 1,1,3 -o {out}/m.json",
        "bogus",
    ),
    ("train-monotone-feature", "train {data} --target label --monotone-increasing zz -o {out}/m.json", "zz"),
    ("train-unknown-option", "train {data} --target label --tim 3 -o {out}/m.json", "--tim"),
    # --- demo
    ("demo-time", "demo --time-limit 0 --report ''", "--time-limit"),
    ("demo-samples", "demo --samples -1 --report ''", "--samples"),
    ("demo-seed", "demo --seed -3 --report ''", "--seed"),
    ("demo-report-suffix", "demo --report {out}/r.txt", "cannot write reports of type '.txt'"),
    ("demo-model-suffix", "demo -o {out}/m.txt --report ''", "cannot write model files of type '.txt'"),
    # --- verify robustness
    ("rob-eps-huge", "verify robustness {model} {data} --eps 1e308", "--eps"),
    ("rob-eps-nan", "verify robustness {model} {data} --eps nan", "--eps"),
    ("rob-eps-inf", "verify robustness {model} {data} --eps inf", "--eps"),
    ("rob-eps-neg", "verify robustness {model} {data} --eps -0.1", "--eps"),
    ("rob-time", "verify robustness {model} {data} --eps 0.1 --time-limit -5", "--time-limit"),
    ("rob-solver", "verify robustness {model} {data} --eps 0.1 --solver nosuch", "nosuch"),
    ("rob-nan", "verify robustness {model} {nan} --eps 0.1", "column 'b' has 2 empty"),
    ("rob-string", "verify robustness {model} {str} --eps 0.1", "row 4 'abc'"),
    ("rob-label-nan", "verify robustness {model} {target_nan} --eps 0.1 --label label", "label column 'label'"),
    ("rob-bad-json", "verify robustness {bad} {data} --eps 0.1", "not valid JSON"),
    ("rob-trunc-onnx", "verify robustness {trunc} {data} --eps 0.1", "trunc.onnx"),
    ("rob-unknown-layer", "verify robustness {unknown_layer} {data} --eps 0.1", "Swish"),
    ("rob-shapes", "verify robustness {shapes} {data} --eps 0.1", "shape"),
    ("rob-columns", "verify robustness {model3} {header} --eps 0.1", "no data rows"),
    # --- verify vnnlib
    ("vnnlib-time", "verify vnnlib {onnx_model} {prop} --time-limit -1", "--time-limit"),
    ("vnnlib-timeout-nan", "verify vnnlib {onnx_model} {prop} --timeout nan", "--timeout"),
    ("vnnlib-both", "verify vnnlib {onnx_model} {prop} --time-limit 5 --timeout 5", "--time-limit only"),
    ("vnnlib-solver", "verify vnnlib {onnx_model} {prop} --solver nosuch", "nosuch"),
    ("vnnlib-bad-prop", "verify vnnlib {onnx_model} {badprop}", ""),
    ("vnnlib-trunc-onnx", "verify vnnlib {trunc} {prop}", "trunc.onnx"),
    # --- verify monotonic
    ("mono-time", "verify monotonic {model} --increasing a --time-limit 0", "--time-limit"),
    ("mono-no-features", "verify monotonic {model}", "--increasing"),
    ("mono-unknown-feature", "verify monotonic {model} --increasing zz", "zz"),
    ("mono-nan-data", "verify monotonic {model} --increasing a --data {nan}", "column 'b' has 2 empty"),
    ("mono-solver", "verify monotonic {model} --increasing a --solver nosuch", "nosuch"),
    ("mono-output", "verify monotonic {model3} --increasing a --output nosuch", "nosuch"),
    # --- verify resilience
    ("res-alpha-zero", "verify resilience {model3} --alpha 0 --k 1", "--alpha"),
    ("res-alpha-neg", "verify resilience {model3} --alpha -1 --k 1", "--alpha"),
    ("res-alpha-nan", "verify resilience {model3} --alpha nan --k 1", "--alpha"),
    ("res-k-zero", "verify resilience {model3} --k 0", "--k"),
    ("res-k-large", "verify resilience {model3} --k 5", "--k 5"),
    ("res-threads", "verify resilience {model3} --threads 0", "--threads"),
    ("res-time-inf", "verify resilience {model3} --time-limit inf", "--time-limit"),
    ("res-delta-neg", "verify resilience {model3} --input 0,0,0 --delta -1", "--delta"),
    ("res-input-nan", "verify resilience {model3} --input 0,nan,0", "NaN"),
    ("res-heuristics", "verify resilience {model3} --heuristics bogus", "bogus"),
    ("res-class", "verify resilience {model3} --class 7", "class"),
    ("res-k-binary", "verify resilience {model} --k 2", "--k 2"),
    # --- explain (OpenBox) and explain polytope
    ("explain-top", "explain {model} {data} --top -1", "--top"),
    ("explain-boundaries", "explain {model} {data} --max-boundaries -3", "--max-boundaries"),
    ("explain-figures", "explain {model} {data} --figures x", "--figures"),
    ("explain-nan", "explain {model} {nan} -o {out}/ex", "column 'b' has 2 empty"),
    ("explain-string", "explain {model} {str} -o {out}/ex", "row 4 'abc'"),
    ("explain-out-file", "explain {model} {data} -o {data}", "not a directory"),
    ("explain-instance", "explain {model} --instance 1,2", "--instance"),
    ("explain-instance-nan", "explain {model} --instance 1,nan,2", "NaN"),
    ("explain-label-nan", "explain {model} {target_nan} --label label -o {out}/ex", "label column 'label'"),
    ("polytope-eps-huge", "explain polytope {model} {data} --eps 1e308 -o {out}/p", "--eps"),
    ("polytope-eps-nan", "explain polytope {model} {data} --eps 0.1,nan -o {out}/p", "--eps"),
    ("polytope-limit", "explain polytope {model} {data} --eps 0.1 --limit 0 -o {out}/p", "--limit"),
    ("polytope-out-file", "explain polytope {model} {data} --eps 0.1 -o {data}", "is a file"),
    ("polytope-nan", "explain polytope {model} {nan} --eps 0.1 -o {out}/p", "column 'b' has 2 empty"),
    ("polytope-target-nan", "explain polytope {model} {target_nan} --eps 0.1 -o {out}/p", "target column 'label'"),
    # --- audit
    ("audit-suffix", "audit {model} {data} --eps 0.1 -o {out}/r.txt", "cannot write reports of type '.txt'"),
    ("audit-eps-huge", "audit {model} {data} --eps 1e308 -o {out}/r.html", "--eps"),
    ("audit-rows", "audit {model} {data} --eps 0.1 --rows 0 -o {out}/r.html", "--rows"),
    ("audit-alpha", "audit {model} {data} --alpha 0 --k 1 -o {out}/r.html", "--alpha"),
    ("audit-k-large", "audit {model} {data} --alpha 2 --k 9 -o {out}/r.html", "--k 9"),
    ("audit-workers", "audit {model} {data} --eps 0.1 --workers -1 -o {out}/r.html", "--workers"),
    ("audit-time-nan", "audit {model} {data} --eps 0.1 --time-limit nan -o {out}/r.html", "--time-limit"),
    ("audit-solver", "audit {model} {data} --eps 0.1 --solver nosuch -o {out}/r.html", "nosuch"),
    ("audit-nan", "audit {model} {nan} --eps 0.1 -o {out}/r.html", "column 'b' has 2 empty"),
    ("audit-string", "audit {model} {str} --eps 0.1 -o {out}/r.html", "row 4 'abc'"),
    ("audit-target-nan", "audit {model} {target_nan} --eps 0.1 -o {out}/r.html", "target column 'label'"),
    ("audit-unknown-layer", "audit {unknown_layer} {data} --eps 0.1 -o {out}/r.html", "Swish"),
    # --- recheck
    ("recheck-junk", "recheck {junk_cert} {model}", "not valid JSON"),
    ("recheck-time", "recheck {cert} {model} --time-limit -1", "--time-limit"),
    ("recheck-solver", "recheck {cert} {model} --second-solver nosuch", "nosuch"),
    ("recheck-nan-data", "recheck {cert} {model} {nan}", "column 'b' has 2 empty"),
    ("recheck-string-data", "recheck {cert} {model} {str}", "row 4 'abc'"),
    ("recheck-bad-model", "recheck {cert} {bad}", "not valid JSON"),
    # --- info
    ("info-bad-json", "info {bad}", "not valid JSON"),
    ("info-trunc-onnx", "info {trunc}", "trunc.onnx"),
    ("info-unknown-layer", "info {unknown_layer}", "Swish"),
    ("info-shapes", "info {shapes}", "shape"),
    ("info-missing", "info {out}/none.json", "file not found"),
    ("info-suffix", "info {model_txt}", "'.txt'"),
    # --- predict
    ("predict-nan", "predict {model} {nan}", "column 'b' has 2 empty"),
    ("predict-string", "predict {model} {str} -o {out}/p.csv", "row 4 'abc'"),
    ("predict-empty", "predict {model} {empty} -o {out}/p.csv", "not a readable CSV"),
    ("predict-out-dir", "predict {model} {data} -o {out}", "is a directory"),
    ("predict-shifted-rows", "predict {model} {shifted}", "more fields than the header"),
    ("predict-duplicate-column", "predict {model} {dup_col}", "names 'a' more than once"),
    # --- convert
    ("convert-suffix", "convert {model} -o {out}/m.txt", "cannot write model files of type '.txt'"),
    ("convert-trunc-onnx", "convert {trunc} -o {out}/m.json", "trunc.onnx"),
    ("convert-unknown-layer", "convert {unknown_layer} -o {out}/m.onnx", "Swish"),
    # --- datasets
    ("datasets-unknown", "datasets nosuch", "nosuch"),
    ("datasets-set", "datasets compas --set junk", "KEY=VALUE"),
    ("datasets-out-under-file", "datasets compas -o {data}/x.csv", "is a file"),
    # --- the command line itself
    ("root-option", "--bogus", "--bogus"),
    ("root-command", "nosuch", "nosuch"),
    ("verify-subcommand", "verify nosuch", "nosuch"),
    # --- --domain / --domain-json (verify resilience, monotonic, robustness, audit, convert)
    ("res-domain-both", "verify resilience {model3} --domain {data} --domain-json {model}", "not both"),
    ("res-domain-margin-neg", "verify resilience {model3} --domain {data} --domain-margin -0.1", "--domain-margin"),
    ("res-domain-margin-nan", "verify resilience {model3} --domain {data} --domain-margin nan", "--domain-margin"),
    ("res-domain-margin-alone", "verify resilience {model3} --domain-margin 0.1", "needs --domain"),
    ("res-domain-nan", "verify resilience {model3} --domain {nan}", "column 'b' has 2 empty"),
    ("res-domain-missing", "verify resilience {model3} --domain {out}/none.csv", "file not found"),
    ("res-domain-header", "verify resilience {model3} --domain {header}", "has no data rows"),
    ("mono-domain-string", "verify monotonic {model} --increasing a --domain {str}", "row 4 'abc'"),
    ("mono-domain-json-bad", "verify monotonic {model} --increasing a --domain-json {bad}", "not valid JSON"),
    ("mono-domain-json-shape", "verify monotonic {model} --increasing a --domain-json {model}", "expected"),
    ("rob-domain-nan", "verify robustness {model} {data} --eps 0.1 --domain {nan}", "column 'b' has 2 empty"),
    (
        "audit-domain-both",
        "audit {model} {data} --eps 0.1 --domain {data} --domain-json {model} -o {out}/r.html",
        "not both",
    ),
    ("audit-domain-nan", "audit {model} {data} --eps 0.1 --domain {nan} -o {out}/r.html", "column 'b' has 2 empty"),
    ("convert-domain-nan", "convert {model} --domain {nan} -o {out}/m.json", "column 'b' has 2 empty"),
    (
        "convert-domain-margin-neg",
        "convert {model} --domain {data} --domain-margin -1 -o {out}/m.json",
        "--domain-margin",
    ),
    ("convert-domain-json-missing", "convert {model} --domain-json {out}/none.json -o {out}/m.json", "not found"),
]


@pytest.fixture
def no_work(monkeypatch):
    """Record any start of real work: a HiGHS run, a fit, a verification, an audit, a re-check."""
    started: list[str] = []

    def mark(name):
        def f(*args, **kwargs):
            started.append(name)
            raise RuntimeError(f"work started: {name}")

        return f

    monkeypatch.setattr(highspy.Highs, "run", mark("HiGHS run"))
    from mipnet.train import estimators, monotone

    for cls in (estimators.MIPNetClassifier, estimators.MIPNetRegressor):
        monkeypatch.setattr(cls, "fit", mark(f"{cls.__name__}.fit"))
    monkeypatch.setattr(monotone, "train_monotone_milp", mark("train_monotone_milp"))
    monkeypatch.setattr(monotone, "train_monotone_gradient", mark("train_monotone_gradient"))
    import importlib

    import mipnet.datasets
    import mipnet.explain.openbox
    import mipnet.report.audit
    import mipnet.verify.polytope
    import mipnet.verify.robustness

    monkeypatch.setattr(mipnet.verify.robustness, "verify_robustness", mark("verify_robustness"))
    monkeypatch.setattr(mipnet.report.audit, "run_audit", mark("run_audit"))
    monkeypatch.setattr(importlib.import_module("mipnet.report.recheck"), "recheck", mark("recheck"))
    monkeypatch.setattr(mipnet.explain.openbox, "interpret", mark("interpret"))
    monkeypatch.setattr(mipnet.verify.polytope, "analyse", mark("analyse"))
    monkeypatch.setattr(mipnet.datasets, "load_compas", mark("load_compas"))
    return started


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_at_once_with_one_line(case, files, tmp_path, no_work):
    name, template, fragment = case
    out = tmp_path / "out"
    out.mkdir()
    argv = [a.format(**files, out=out) if a != "''" else "" for a in template.split()]
    t0 = time.perf_counter()
    r = CliRunner().invoke(cli, argv)
    elapsed = time.perf_counter() - t0
    assert r.exit_code == 2, (r.exit_code, r.output, r.exception)
    assert isinstance(r.exception, SystemExit), repr(r.exception)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in r.output
    assert no_work == [], f"work started before the input was checked: {no_work}"
    assert os.listdir(out) == [], "an output file was created"
    assert sorted(os.listdir(files["dir"])) == sorted(_INPUTS), "an input directory file was created"
    assert elapsed < 10.0, f"took {elapsed:.1f} s"


_INPUTS = [
    "model.json",
    "model3.json",
    "model.onnx",
    "trunc.onnx",
    "bad.json",
    "unknown_layer.json",
    "shapes.json",
    "model.txt",
    "data.csv",
    "str.csv",
    "nan.csv",
    "target_nan.csv",
    "text_target.csv",
    "real_target.csv",
    "empty.csv",
    "header.csv",
    "shifted.csv",
    "dup_col.csv",
    "junk_cert.json",
    "cert.json",
    "prop.vnnlib",
    "badprop.vnnlib",
]


def test_vnnlib_time_limit_is_the_main_flag_and_timeout_a_hidden_alias(files):
    r = CliRunner().invoke(cli, ["verify", "vnnlib", "-h"])
    assert "--time-limit" in r.output and "--timeout" not in r.output
    r = CliRunner().invoke(cli, ["verify", "vnnlib", files["onnx_model"], files["prop"], "--timeout", "20"])
    assert r.exit_code == 0 and r.stdout.splitlines()[0] == "holds", r.output


def test_every_time_limit_says_what_it_covers():
    """Every --time-limit of every command has a help text naming what the seconds cover."""
    import click

    def walk(cmd, path):
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, cmd

    seen = 0
    for path, cmd in walk(cli, []):
        for p in cmd.params:
            if "--time-limit" in getattr(p, "opts", []):
                seen += 1
                assert p.help and ("second" in p.help.lower()), (path, p.help)
                assert any(w in p.help.lower() for w in ("whole", "per ", "training")), (path, p.help)
    assert seen >= 8


def test_outputs_get_the_usual_permissions(files, tmp_path):
    """Written files are 0o666 minus the umask (0644 under the usual umask), not mkstemp's 0600."""
    old = os.umask(0o022)
    try:
        for argv, path in (
            (["predict", files["model"], files["data"], "-o", str(tmp_path / "p.csv")], "p.csv"),
            (["convert", files["model"], "-o", str(tmp_path / "m.onnx")], "m.onnx"),
            (["convert", files["model"], "-o", str(tmp_path / "sub" / "m.json")], "sub/m.json"),
        ):
            r = CliRunner().invoke(cli, argv)
            assert r.exit_code == 0, r.output
            assert (tmp_path / path).stat().st_mode & 0o777 == 0o644, (path, oct((tmp_path / path).stat().st_mode))
        os.umask(0o027)
        r = CliRunner().invoke(cli, ["predict", files["model"], files["data"], "-o", str(tmp_path / "q.csv")])
        assert r.exit_code == 0 and (tmp_path / "q.csv").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
