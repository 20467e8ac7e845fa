"""`mipnet demo`: exit code follows the audit's verdicts, the model is saved beside the report, and the last
line says what was proved and what was not (short --time-limit and --samples 30: a few seconds)."""

from __future__ import annotations

import re

from click.testing import CliRunner

from mipnet.cli import cli
from mipnet.cli.train import demo_model_path
from mipnet.io import load_model


def _verdicts(stdout: str) -> list[str]:
    return re.findall(
        r"^(?:Monotonicity|Robustness|Maximum resilience)[^\n]*: (holds|violated|unknown)$", stdout, flags=re.M
    )


def test_demo_exit_code_follows_verdicts_and_model_is_saved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    r = CliRunner().invoke(cli, ["demo", "--time-limit", "5", "--samples", "30"])
    verdicts = _verdicts(r.stdout)
    assert len(verdicts) == 2, r.stdout[-2000:]
    want = 1 if "violated" in verdicts else 3 if "unknown" in verdicts else 0
    assert r.exit_code == want, (r.exit_code, verdicts, r.stdout[-1000:], r.exception)
    assert (tmp_path / "compas_audit.html").exists() and (tmp_path / "compas_model.json").exists()
    net = load_model(tmp_path / "compas_model.json")
    assert net.domain.is_finite()
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("proved: ") and last.endswith("model: compas_model.json"), last
    assert ("violated: " in last) == ("violated" in verdicts), last


def test_demo_without_report_still_saves_the_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["demo", "--time-limit", "3", "--samples", "20", "--report", "", "-o", "sub/m.json"])
    assert r.exit_code == 0, (r.stdout[-1000:], r.exception)
    assert (tmp_path / "sub" / "m.json").exists() and not (tmp_path / "compas_model.json").exists()
    assert r.stdout.strip().splitlines()[-1].endswith("model: sub/m.json")


def test_demo_model_path():
    assert demo_model_path("compas_audit.html", None) == "compas_model.json"
    assert demo_model_path("out/r.html", None) == "out/r_model.json"
    assert demo_model_path("", None) == "compas_model.json"
    assert demo_model_path("r.html", "m.onnx") == "m.onnx"
