"""The audit: verdicts, certificate files, a self-contained HTML page that renders in headless Chromium,
clear errors for properties the model cannot have."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mipnet.cli import cli
from mipnet.cli.audit import COMMANDS
from mipnet.errors import DataError
from mipnet.io import load_model, save_model
from mipnet.report import load_certificate, recheck
from mipnet.report.audit import render_html, run_audit, run_demo_audit, write_report

for _cmd in COMMANDS:
    if _cmd.name not in cli.commands:
        cli.add_command(_cmd)


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    from helpers import random_dense_net

    net = random_dense_net(np.random.default_rng(3), [4, 5, 3, 1])
    X = np.random.default_rng(1).uniform(-1, 1, (40, 4))
    y = net.predict(X)
    y[:4] = 1 - y[:4]  # four wrong labels: accuracy 90 %
    d = tmp_path_factory.mktemp("audit")
    a = run_audit(
        net,
        X,
        y,
        increasing=["x0"],
        decreasing=["x1"],
        eps=0.1,
        rows=6,
        time_limit=5,
        cert_dir=d / "certs",
        model_name="net.json",
        data_name="data.csv",
    )
    page = d / "report.html"
    write_report(a, page)
    return net, X, y, a, page


def test_audit_verdicts_quality_and_certificates(audited):
    net, X, y, a, page = audited
    assert [p.key for p in a.properties] == ["monotonicity", "robustness"]
    assert a.properties[0].verdict == "violated"  # both monotone features have forward-checked witness pairs
    assert a.quality["accuracy"] == pytest.approx(0.9)
    assert sum(map(sum, a.quality["confusion"])) == 40
    assert a.explanation["exactness"]["exact_fraction"] == 1.0
    for p in a.properties:
        assert p.recheck.status == "ok", p.recheck.lines()
        cert = load_certificate(p.cert_path)
        assert cert.sealed() and cert.model_sha256 == net.fingerprint()
        assert recheck(cert, net, (X, None), second_solver=None).status == "ok"
        if p.key == "robustness":  # without the data its rows' binding is left open: partial, never ok
            assert recheck(cert, net, second_solver=None, reprove=False).status == "partial"
    rob = a.properties[1]
    assert len(rob.rows) == 6 and [r["row"] for r in rob.rows] == ["0", "8", "16", "23", "31", "39"]


def test_page_is_self_contained_and_complete(audited):
    net, X, y, a, page = audited
    text = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:|//|file:)""", text)  # nothing fetched from outside
    assert "<script" not in text
    imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(imgs) >= 5  # sparsity diagram, two monotonicity profiles, robustness, region rules
    for h in [
        "The model",
        "Training certificate",
        "Accuracy on the data",
        "Properties",
        "local linear rules",
        "Certificate files",
        "monotonicity.json",
        "robustness.json",
        net.fingerprint(),
        "90.0 %",
    ]:
        assert h in text, h
    assert text == render_html(a)  # written atomically as rendered


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_page_renders_in_headless_chromium(audited, tmp_path):
    net, X, y, a, page = audited
    flags = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    shot = tmp_path / "page.png"
    r = subprocess.run(
        flags + ["--window-size=1200,3000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shot.exists() and shot.stat().st_size > 20_000, r.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("MIPNET_SCREENSHOT_DIR")  # e.g. results/: keep the screenshot to show it
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / "audit_report.png").write_bytes(png)
    dom = subprocess.run(flags + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60)
    assert "At a glance" in dom.stdout and dom.stdout.count("<img") >= 5
    errors = [
        ln
        for ln in (r.stderr + dom.stderr).splitlines()
        if "CONSOLE" in ln or "Uncaught" in ln or "Failed to load resource" in ln
    ]
    assert not errors, errors


def test_unknown_feature_is_refused_before_any_solve(dense_net):
    X = np.zeros((3, 4))
    with pytest.raises(DataError, match="no feature.*'income'"):
        run_audit(dense_net, X, increasing=["income"])
    with pytest.raises(DataError, match="both --alpha and --k"):
        run_audit(dense_net, X, alpha=2.0)
    with pytest.raises(DataError, match="at least one property"):
        run_audit(dense_net, X)


def test_audit_command(audited, tmp_path):
    net, X, y, a, page = audited
    model = tmp_path / "net.json"
    save_model(net, model)
    df = pd.DataFrame(X, columns=net.feature_names)
    df["label"] = y
    data = tmp_path / "data.csv"
    df.to_csv(data, index=False)
    out = tmp_path / "r.html"
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "audit",
            str(model),
            str(data),
            "--monotone-increasing",
            "x0",
            "--eps",
            "0.02",
            "--rows",
            "3",
            "--workers",
            "0",
            "--time-limit",
            "5",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 1, res.output  # monotonicity in x0 is violated
    assert out.exists() and "accuracy on data.csv (labels: column " in res.output and ": 90.0 %" in res.output
    cert = tmp_path / "r-certificates" / "robustness.json"
    ok = runner.invoke(cli, ["recheck", str(cert), str(model), str(data), "--second-solver", "none"])
    assert ok.exit_code == 0, ok.output
    assert "[PASS     ] data sha256" in ok.output  # the audited rows of the CSV hash as recorded
    bad = runner.invoke(
        cli, ["audit", str(model), str(data), "--monotone-increasing", "x0,income", "-o", str(tmp_path / "x.html")]
    )
    assert bad.exit_code == 2 and "no feature(s) 'income'" in bad.output
    assert not (tmp_path / "x.html").exists()


def test_run_demo_audit(audited, tmp_path):
    net, X, y, a, page = audited
    df = pd.DataFrame(X[:12], columns=net.feature_names)
    lines = []
    out = tmp_path / "demo.html"
    demo = run_demo_audit(net, df, y[:12], out, increasing=["x2"], eps=0.05, rows=3, time_limit=5, log=lines.append)
    assert out.exists() and (tmp_path / "demo-certificates" / "monotonicity.json").exists()
    assert [p.key for p in demo.properties] == ["monotonicity", "robustness"]
    assert lines[-1].startswith("wrote ")


def test_rows_outside_the_domain_are_not_audited(dense_net):
    X = np.random.default_rng(2).uniform(-1, 1, (8, 4))
    X[[1, 4], 0] = 3.0  # outside the model's box [-1, 1]
    a = run_audit(dense_net, X, eps=0.01, rows=8, time_limit=5)
    rob = a.properties[0]
    assert [r["row"] for r in rob.rows] == ["0", "2", "3", "5", "6", "7"]
    assert "2 data row(s) lie outside" in rob.sentence
    with pytest.raises(DataError, match="no row of the data lies inside"):
        run_audit(dense_net, X[[1, 4]], eps=0.01)


def test_audit_that_stops_before_its_report_leaves_no_certificate_files(audited, tmp_path, monkeypatch):
    """The report and its certificates are one output: an error after the certificates were written (here in the
    report's writing) removes them and the folder the audit made; a folder that existed keeps its other files."""
    import mipnet.report.audit as report_audit

    net, X, y, a, page = audited
    model, data = tmp_path / "net.json", tmp_path / "data.csv"
    save_model(net, model)
    pd.DataFrame(X, columns=net.feature_names).assign(label=y).to_csv(data, index=False)

    def broken(*args, **kwargs):
        raise DataError("the report could not be written")

    monkeypatch.setattr(report_audit, "write_report", broken)
    args = ["audit", str(model), str(data), "--eps", "0.02", "--rows", "2", "--workers", "0", "--time-limit", "5"]
    res = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 2 and "could not be written" in res.output, res.output
    assert not (tmp_path / "r-certificates").exists() and not (tmp_path / "r.html").exists()
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    res = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "s.html"), "--cert-dir", str(keep)])
    assert res.exit_code == 2 and "could not be written" in res.output, res.output
    assert sorted(p.name for p in keep.iterdir()) == ["notes.txt"]


def test_explanation_words_of_a_regression() -> None:
    """A 2-output regression's page said "score (the logit of output 1 minus the logit of output 0)"; the score
    is the first output's prediction, and a 1-output regression's is "the prediction" (not "the logit")."""
    from mipnet.domain import Domain
    from mipnet.layers import Dense, ReLU
    from mipnet.network import Network
    from mipnet.report.audit.summaries import _explanation

    two = Network(
        [Dense(np.eye(3), np.zeros(3)), ReLU(), Dense(np.array([[1.0, 0, 0], [0, 0, 2.0]]), np.array([0.5, 1.0]))],
        domain=Domain.box(3, 0, 1),
        task="regress",
    )
    X = np.random.default_rng(0).uniform(0, 1, size=(20, 3))
    e = _explanation(two, X, 2)
    assert e is not None and e["score"] == "the prediction of y0 (the first of the model's 2 outputs)"
    assert e["regions"][0]["terms"][0][:2] == ("x0", 1.0) and e["regions"][0]["bias"] == 0.5
    one = Network(two.layers[:2] + [Dense(np.array([[1.0, 0, 0]]), np.zeros(1))], domain=two.domain, task="regress")
    e1 = _explanation(one, X, 1)
    assert e1 is not None and e1["score"] == "the prediction"


@pytest.mark.parametrize(
    "field, value", [("n_samples", '<script>alert("n")</script>'), ("gap", "abc"), ("rows", ["x"]), ("bound", "nan")]
)
def test_a_malformed_training_certificate_in_the_model_is_refused_before_any_work(dense_net, monkeypatch, field, value):
    """The model file's metadata is the attacker's: n_samples went into the report's HTML unescaped (a live script)
    and a gap of "abc" failed with Python's message after every verification had run."""
    import mipnet.report.audit.run as run

    net = dense_net.copy()
    cert = {"data_sha256": "ab" * 32, "n_samples": 10, "status": "optimal", "hypothesis": "sign", "loss": "hinge"}
    cert.update(incumbent=1.0, bound=1.0, gap=0.0, terms={"loss": 1.0})
    cert[field] = value
    net.metadata = dict(net.metadata or {}, certificate=cert)

    def no_work(*a, **k):
        raise AssertionError("a verification problem ran before the certificate was read")

    monkeypatch.setattr(run, "_call", no_work)
    X = np.zeros((2, net.n_inputs))
    with pytest.raises(DataError, match=f"training certificate .* malformed: .*{field}|malformed: (could not|invalid)"):
        run_audit(net, X, eps=0.01, rows=1, time_limit=2, scheduler="serial")


def test_certificate_files_never_overwrite_an_input_and_the_directory_is_checked_first(dense_net, tmp_path):
    """--cert-dir . beside a model named robustness.json overwrote the model with a certificate; a default
    certificate directory that was a regular file failed with [Errno 20] after the verification."""
    model = tmp_path / "robustness.json"
    save_model(dense_net, model)
    pd.DataFrame(np.zeros((2, dense_net.n_inputs)), columns=dense_net.feature_names).to_csv(tmp_path / "d.csv")
    before = model.read_bytes()
    args = ["audit", str(model), str(tmp_path / "d.csv"), "--eps", "0.01", "--rows", "1", "--workers", "0"]
    r = CliRunner().invoke(cli, [*args, "--cert-dir", str(tmp_path), "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 2 and "would overwrite an input" in r.output, r.output
    assert model.read_bytes() == before and not (tmp_path / "r.html").exists()
    (tmp_path / "s-certificates").write_text("a file, not a directory")
    r = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "s.html")])
    assert r.exit_code == 2 and "is not a directory" in r.output, r.output
    # the report's own path as the certificate directory: refused before any work (it failed after the solves)
    r = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "t.html"), "--cert-dir", str(tmp_path / "t.html")])
    assert r.exit_code == 2 and "is an input or the report" in r.output, r.output
    assert not (tmp_path / "t.html").exists()


def test_a_second_audit_into_the_same_bundle_leaves_no_certificate_of_the_first(dense_net, tmp_path):
    """Audit A (monotonicity and robustness), then B (robustness only) into the same folder: A's monotonicity.json
    ("holds") stayed beside B's certificates, and B's page listed only its own."""
    X = np.random.default_rng(2).uniform(-1, 1, (8, 4))
    certs = tmp_path / "certs"
    run_audit(dense_net, X, increasing=["x0"], eps=0.01, rows=2, time_limit=5, cert_dir=certs)
    assert {p.name for p in certs.iterdir()} == {"monotonicity.json", "robustness.json"}
    b = run_audit(dense_net, X, eps=0.02, rows=2, time_limit=5, cert_dir=certs)
    assert {p.name for p in certs.iterdir()} == {"robustness.json"}
    assert [Path(p.cert_path).name for p in b.properties] == ["robustness.json"]


def test_requests_the_model_cannot_have_are_refused_before_any_solve(dense_net) -> None:
    """A Tanh net asked for resilience ran every robustness problem first, then failed; monotonicity over an
    unbounded domain ran and ended "unknown" (verify monotonic refuses it before any work)."""
    from mipnet import Dense, Domain, Network, Tanh
    from mipnet.errors import UnsupportedError

    X = np.zeros((3, 4))
    smooth = Network([Dense(np.ones((3, 4)), np.zeros(3)), Tanh(), Dense(np.ones((2, 3)), np.zeros(2))],
                     domain=Domain.box(4, -1.0, 1.0))  # fmt: skip
    with pytest.raises(UnsupportedError, match="piecewise-linear"):
        run_audit(smooth, X, eps=0.1, alpha=2.0, k=1, rows=3)
    open_net = Network(list(dense_net.layers), domain=Domain.box(4, -np.inf, np.inf))
    with pytest.raises(DataError, match="unbounded"):
        run_audit(open_net, X, increasing=["x0"])


def test_an_audit_with_a_replaced_domain_writes_the_model_its_certificates_are_of(dense_net, tmp_path):
    """--domain-json: the certificates are of the re-domained model, and re-checked against the model file they
    FAILED ("certificate for another model"); the page told the reader to do exactly that."""
    model = tmp_path / "m.json"
    save_model(dense_net, model)
    pd.DataFrame(np.zeros((2, dense_net.n_inputs)), columns=dense_net.feature_names).to_csv(tmp_path / "d.csv")
    (tmp_path / "dom.json").write_text('{"features": {"x0": [-0.5, 0.5]}}')
    args = ["audit", str(model), str(tmp_path / "d.csv"), "--eps", "0.01", "--rows", "1", "--workers", "0"]
    out = tmp_path / "r.html"
    r = CliRunner().invoke(cli, [*args, "-o", str(out), "--domain-json", str(tmp_path / "dom.json")])
    assert r.exit_code == 0, r.output
    certs = tmp_path / "r-certificates"
    audited = certs / "model.json"
    assert audited.is_file() and "r-certificates/model.json" in out.read_text()
    rep = recheck(load_certificate(certs / "robustness.json"), load_model(audited), None, second_solver=None)
    assert rep.status != "failed", rep.lines()
    r = CliRunner().invoke(cli, [*args, "-o", str(out)])  # the same bundle, the model's own domain: no copy left
    assert r.exit_code == 0 and not audited.exists(), r.output


def test_rows_dropped_from_an_audit_s_robustness_certificate_are_refuted(audited):
    """Two rows deleted from the certificate and the rest re-sealed re-checked OK (every claim left was true, but
    the audit's verdict over its rows was rewritten): the rows are now the recorded rule's rows of the data."""
    from helpers import forged

    net, X, y, a, _ = audited
    cert = load_certificate(a.properties[1].cert_path)
    assert cert.question["selection"] == {"rule": "spread", "rows": 6}

    def drop_two(d):
        for key in ("items",):
            d["answer"][key] = [it for k, it in enumerate(d["answer"][key]) if k not in (1, 3)]
        d["question"]["samples"] = [s for k, s in enumerate(d["question"]["samples"]) if k not in (1, 3)]
        d["question"]["sample_classes"] = [c for k, c in enumerate(d["question"]["sample_classes"]) if k not in (1, 3)]
        d["question"]["selection"]["rows"] = 4
        d["answer"]["counts"] = {
            v: sum(it["verdict"] == v for it in d["answer"]["items"]) for v in d["answer"]["counts"]
        }

    fake = forged(cert, drop_two)
    rep = recheck(fake, net, (X, None), second_solver=None, reprove=False)
    assert rep.status == "failed" and any("selection" in c.name and c.outcome == "fail" for c in rep.checks), (
        rep.lines()
    )
    # the record deleted too: a claim about the 4 samples left, and the re-check names them as that
    fake = forged(cert, lambda d: (drop_two(d), d["question"].pop("selection")))
    rep = recheck(fake, net, (X, None), second_solver=None, reprove=False)
    (covers,) = [c for c in rep.checks if c.name == "the rows the claim covers"]
    assert "covers only the 4 listed samples" in covers.detail, rep.lines()


def test_the_summary_names_the_norm_and_a_lone_output_name_is_refused(audited, dense_net, tmp_path):
    """With --norm 1 the summary said only "Robustness (eps = 0.1)"; --output-name without a monotone feature was
    ignored without a word."""
    a = audited[3]
    assert a.properties[1].name == "Robustness (eps = 0.1, Linf norm)"
    model = tmp_path / "m.json"
    save_model(dense_net, model)
    pd.DataFrame(np.zeros((2, dense_net.n_inputs)), columns=dense_net.feature_names).to_csv(tmp_path / "d.csv")
    args = ["audit", str(model), str(tmp_path / "d.csv"), "--eps", "0.01", "--output-name", "bogus"]
    r = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 2 and "--output-name" in r.output and not (tmp_path / "r.html").exists(), r.output


def test_the_explanation_fits_the_time_left_on_a_spread_sample_of_rows():
    """The exact explanation ran over every row outside the audit's budget (50 000 rows: 19 s of a 1 s audit)."""
    from helpers import random_dense_net

    from mipnet.report.audit.summaries import EXPLAIN_PROBE_ROWS, _explanation, explained_rows

    assert explained_rows(400, 1.0, 0.0).size == 400  # below the probe: all rows
    assert explained_rows(10_000, 1e-4, 5.0).size == 10_000  # all fit
    some = explained_rows(10_000, 1e-3, 2.0)
    assert some.size == 2000 and some[0] == 0 and some[-1] == 9999 and np.all(np.diff(some) > 0)
    assert explained_rows(10_000, 1.0, 0.0).size == EXPLAIN_PROBE_ROWS
    net = random_dense_net(np.random.default_rng(0), [3, 5, 2])
    X = np.random.default_rng(1).normal(size=(3000, 3))
    cut = _explanation(net, X, 2, seconds=0.0)
    assert "sample" in cut and sum(r["count"] for r in cut["regions"]) <= EXPLAIN_PROBE_ROWS
    whole = _explanation(net, X, 2, seconds=None)
    assert "sample" not in whole


def test_an_audit_never_overwrites_or_removes_files_it_did_not_write(dense_net, tmp_path):
    """--cert-dir . deleted the user's own model.json (another model, not an input) and notes named training.json
    and resilience.json. Files of those names that are no audit's are now refused before any work, untouched."""
    work = tmp_path / "work"
    work.mkdir()
    model = work / "audited.json"
    save_model(dense_net, model)
    save_model(dense_net, work / "model.json")  # the user's other model
    (work / "training.json").write_text('{"my": "notes"}\n')
    pd.DataFrame(np.zeros((2, dense_net.n_inputs)), columns=dense_net.feature_names).to_csv(work / "d.csv")
    before = {p.name: p.read_bytes() for p in work.iterdir()}
    args = ["audit", str(model), str(work / "d.csv"), "--eps", "0.01", "--rows", "1", "--workers", "0"]
    r = CliRunner().invoke(cli, [*args, "--cert-dir", str(work), "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 2 and "not a file an audit wrote" in r.output, r.output
    assert {p.name: p.read_bytes() for p in work.iterdir()} == before and not (tmp_path / "r.html").exists()
    # the API never removes them either: only an earlier audit's own certificates go
    (work / "model.json").unlink()
    run_audit(dense_net, np.zeros((2, 4)), eps=0.01, rows=1, time_limit=5, cert_dir=work)
    assert (work / "training.json").read_text() == '{"my": "notes"}\n'


def test_a_serial_audit_s_problem_starts_only_within_the_whole_budget(dense_net):
    """Each problem ran its own limit even after the audit's whole budget was spent (40 monotone features of 0.22 s
    each at 0.1 s): a serial problem now gets what is left, and none once it has passed (unknown, "not run")."""
    from mipnet.deadline import Deadline
    from mipnet.report.audit.run import MonotonicityTask, ResilienceTask, RobustnessTask, _call

    spent = Deadline(0.0)
    mono = _call(MonotonicityTask(dense_net, "x0", 1, None, None, "highs", 5.0, audit_deadline=spent))
    assert mono.features[0].status == "unknown" and mono.features[0].note.startswith("not run"), mono.features
    rob = _call(RobustnessTask(dense_net, np.zeros(4), 0.1, "inf", None, "highs", 5.0, 0, audit_deadline=spent))
    assert rob.verdict == "unknown" and rob.reason.startswith("not run"), rob
    res = _call(ResilienceTask(dense_net, 0, 1.0, 1, "1", "highs", 5.0, audit_deadline=spent))
    assert res.status == "unknown" and res.notes[0].startswith("not run"), res.notes
    fresh = _call(MonotonicityTask(dense_net, "x0", 1, None, None, "highs", 5.0, audit_deadline=Deadline(30.0)))
    assert fresh.features[0].status in ("holds", "violated"), fresh.features


def test_a_multiclass_page_names_the_classes_each_rule_compares_and_the_label_column(tmp_path):
    """Section 5 said "the region's top class wins over the runner-up" without naming either; the accuracy never
    named the column the labels came from (an unrelated 0/1 column was taken silently)."""
    from helpers import random_dense_net

    net = random_dense_net(np.random.default_rng(5), [2, 6, 3])
    net.class_names = ["c0", "c1", "c2"]
    X = np.random.default_rng(6).uniform(-1, 1, (60, 2))
    y = [net.class_names[i] for i in net.predict_index(net.forward(X))]
    a = run_audit(net, X, y, eps=0.01, rows=2, time_limit=5, target="smoker")
    page = render_html(a)
    for r in a.explanation["regions"]:
        top, second = r["classes"]
        assert f"score = logit of {top} minus logit of {second}" in page
    assert "the labels are column <code>smoker</code>" in page


def test_an_earlier_audit_s_unmarked_model_copy_is_still_its_own(dense_net, tmp_path):
    """Model copies written before they were marked: a certificate beside the copy is of that model, so the copy is
    an audit's (a second audit into the same directory was refused)."""
    import json as _json

    model = tmp_path / "m.json"
    save_model(dense_net, model)
    pd.DataFrame(np.zeros((2, dense_net.n_inputs)), columns=dense_net.feature_names).to_csv(tmp_path / "d.csv")
    (tmp_path / "dom.json").write_text('{"features": {"x0": [-0.5, 0.5]}}')
    args = ["audit", str(model), str(tmp_path / "d.csv"), "--eps", "0.01", "--rows", "1", "--workers", "0"]
    args += [
        "--domain-json",
        str(tmp_path / "dom.json"),
        "--cert-dir",
        str(tmp_path / "c"),
        "-o",
        str(tmp_path / "r.html"),
    ]
    assert CliRunner().invoke(cli, args).exit_code == 0
    copy = tmp_path / "c" / "model.json"
    doc = _json.loads(copy.read_text())
    doc["metadata"].pop("audit_copy_of")  # as an older audit wrote it
    copy.write_text(_json.dumps(doc))
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
