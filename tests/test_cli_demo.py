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
    # the held-out rows the audit's certificates are about are written, and the robustness certificate re-checks
    # against them with the command line alone (it could not: no file held those rows)
    held = tmp_path / "compas_model_heldout.csv"
    cert = tmp_path / "compas_audit-certificates" / "robustness.json"
    rc = CliRunner().invoke(cli, ["recheck", str(cert), str(tmp_path / "compas_model.json"), str(held)])
    assert rc.exit_code in (0, 3) and "data do not match" not in rc.output, rc.output[-1500:]
    assert "each sample bound to its data row" in rc.output, rc.output[-1500:]


def test_demo_without_report_still_saves_the_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["demo", "--time-limit", "3", "--samples", "20", "--report", "", "-o", "sub/m.json"])
    assert r.exit_code == 0, (r.stdout[-1000:], r.exception)
    assert (tmp_path / "sub" / "m.json").exists() and not (tmp_path / "compas_model.json").exists()
    assert not list(tmp_path.rglob("*_heldout.csv"))  # no audit, no certificates to re-check against them
    assert r.stdout.strip().splitlines()[-1].endswith("model: sub/m.json")


def test_demo_model_path():
    assert demo_model_path("compas_audit.html", None) == "compas_model.json"
    assert demo_model_path("out/r.html", None) == "out/r_model.json"
    assert demo_model_path("", None) == "compas_model.json"
    assert demo_model_path("r.html", "m.onnx") == "m.onnx"


def test_demo_words_say_the_ball_and_the_gap_that_were_proved():
    """With eps >= 1 the robustness verdicts speak of a ball that also moves counts and flips yes/no features: the
    last line said "+-1 year(s) of age" beside counterexamples that flip male or felony. A final MILP stopped at
    HiGHS's gap 7.7e-5 was "gap 0"; the class's weight box was not named."""
    from mipnet.cli.demo import DemoTraining, demo_summary

    small = DemoTraining(20, True, 1, 0.24, [("priors_count", "holds")], 0.5, gap=0.0)
    assert small.robustness_words == "robustness to +-0.5 year(s) of age" and small.gap_words == "gap 0"
    wide = DemoTraining(18, True, 2, 0.2436, [("priors_count", "holds")], 1.0, gap=7.7e-5)
    assert wide.robustness_words.startswith("robustness in the L-inf ball of radius 1 (")
    assert "counts and yes/no features by up to 1" in wide.robustness_words
    assert wide.gap_words == "gap 7.7e-05" and "gap 0" not in wide.words()
    assert "weights and biases in [-1, 1]" in wide.words()
    line = demo_summary(None, None, "m.json", wide)
    assert "training optimal on its 18 rows (gap 7.7e-05)" in line


def test_demo_needs_two_training_rows():
    r = CliRunner().invoke(cli, ["demo", "--samples", "1"])
    assert r.exit_code == 2 and "--samples" in r.output and "train_size" not in r.output


def test_demo_model_may_not_be_one_of_the_reports_files(tmp_path, monkeypatch):
    """-o compas_audit-certificates/monotonicity.json was overwritten by the certificate, and the demo said OK."""
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["demo", "-o", "compas_audit-certificates/monotonicity.json"])
    assert r.exit_code == 2 and "one of the report's own files" in r.output
    assert not any(tmp_path.iterdir())


def test_a_demo_stopped_during_its_audit_leaves_the_earlier_model(tmp_path, monkeypatch):
    """Ctrl-C during the audit left the new model beside the earlier run's report and certificates (a re-check of
    those then failed: "certificate for another model")."""
    import mipnet.report.audit as audit

    monkeypatch.chdir(tmp_path)
    (tmp_path / "compas_model.json").write_text("earlier model\n")

    def stopped(*args, **kwargs):
        raise RuntimeError("stopped")

    monkeypatch.setattr(audit, "run_demo_audit", stopped)
    r = CliRunner().invoke(cli, ["demo", "--time-limit", "3", "--samples", "20"])
    assert r.exit_code != 0 and isinstance(r.exception, RuntimeError)
    assert (tmp_path / "compas_model.json").read_text() == "earlier model\n"
    # its "wrote compas_model.json" line no longer held, unsaid: the command now says the files were not kept
    if "wrote compas_model.json" in r.output:  # (a loaded machine can stop the 3 s training before it writes)
        assert "not kept: compas_model.json and compas_model_heldout.csv" in r.output, r.output
