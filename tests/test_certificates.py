"""Certificate files: contents, round trip, atomic writes, clear errors for bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mipnet.report.certificates import (
    CertificateError,
    load_certificate,
    monotonicity_certificate,
    resilience_certificate,
    robustness_certificate,
    save_certificate,
)
from mipnet.train.certificate import data_hash, row_hash
from mipnet.verify.monotonic import verify_global
from mipnet.verify.resilience import class_resilience
from mipnet.verify.robustness import verify_robustness


@pytest.fixture
def samples() -> np.ndarray:
    return np.random.default_rng(1).uniform(-1, 1, (6, 4))


def test_robustness_certificate_contents_and_round_trip(dense_net, samples, tmp_path):
    res = verify_robustness(dense_net, samples, 0.1, "inf", time_limit=5)
    cert = robustness_certificate(dense_net, samples, res, eps=0.1, rows=[0, 1, 2, 3, 4, 5], target="y")
    path = save_certificate(cert, tmp_path / "sub" / "rob.json")
    assert [p.name for p in path.parent.iterdir()] == ["rob.json"]  # no temporary file left behind
    d = json.loads(path.read_text())
    assert d["format"] == "mipnet-certificate" and d["version"] == 1 and d["kind"] == "robustness"
    assert d["model"]["sha256"] == dense_net.fingerprint()
    assert d["data"]["sha256"] == data_hash(samples, np.asarray([], dtype=object))
    assert d["data"]["rows"] == [0, 1, 2, 3, 4, 5] and d["data"]["target"] == "y"
    for i, it in enumerate(d["answer"]["items"]):  # each sample bound to its row: index + hash of its values
        assert it["data_row"] == i and it["data_row_sha256"] == row_hash(samples[i])
    assert d["question"]["eps"] == 0.1 and d["question"]["norm"] == "inf"
    assert d["question"]["domain"]["names"] == ["x0", "x1", "x2", "x3"]
    assert np.allclose(d["question"]["samples"], samples)
    assert d["solver"]["name"] == "highs" and d["solver"]["version"] not in ("", "unknown")
    verdicts = [r.verdict for r in res]
    assert [it["verdict"] for it in d["answer"]["items"]] == verdicts
    assert d["answer"]["status"] == ("violated" if "violated" in verdicts else "holds")
    assert "violated" in verdicts  # this fixture has counterexamples at eps 0.1: witnesses are recorded
    for it, r in zip(d["answer"]["items"], res):
        if r.verdict == "violated":
            assert np.allclose(it["counterexample"], r.counterexample)
    back = load_certificate(path)
    assert back.sealed() and back.to_dict() == d


def test_monotonicity_and_resilience_certificates(dense_net, multiclass_net):
    rep = verify_global(dense_net, increasing=["x0"], decreasing=["x1"], time_limit=10)
    cert = monotonicity_certificate(dense_net, rep, increasing=["x0"], decreasing=["x1"])
    items = cert.answer["items"]
    assert [it["feature"] for it in items] == ["x0", "x1"]
    assert cert.status == rep.status
    for it, f in zip(items, rep.features):
        assert it["verdict"] == f.status
        if f.witness is not None:
            assert it["witness"]["x"] == pytest.approx(f.witness.x)
    r = class_resilience(multiclass_net, 0, alpha=1.5, k=1, time_limit=10)
    rc = resilience_certificate(multiclass_net, [r])
    assert rc.question["alpha"] == 1.5 and rc.question["k"] == 1
    assert rc.answer["items"][0]["phi"] == pytest.approx(r.phi)
    assert rc.answer["items"][0]["a"] == pytest.approx(list(r.a))


def test_non_finite_numbers_are_strings(dense_net, samples, tmp_path):
    res = verify_robustness(dense_net, samples[:1], 0.01, time_limit=5)
    res[0].bound = float("inf")
    cert = robustness_certificate(dense_net, samples[:1], res, eps=0.01)
    path = save_certificate(cert, tmp_path / "c.json")
    d = json.loads(path.read_text())
    assert d["answer"]["items"][0]["bound"] == "inf"
    assert load_certificate(path).sealed()


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "not found"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"format": "other"}', "not a mipnet certificate"),
        ('{"format": "mipnet-certificate", "version": 99}', "newer than this mipnet"),
        ('{"format": "mipnet-certificate", "version": 1, "kind": "robustness"}', "lacks the field"),
        (
            '{"format": "mipnet-certificate", "version": 1, "kind": "magic", "question": {}, "model": {}, "solver": {},'
            ' "answer": {}}',
            "unknown kind",
        ),
        (
            '{"format": "mipnet-certificate", "version": 1, "kind": "robustness", "question": {}, "model": {}, '
            '"solver": {}, "answer": {}}',
            "model's sha256",
        ),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CertificateError, match=message) as exc:
        load_certificate(path)
    assert "\n" not in str(exc.value)


def test_a_monotonicity_certificate_naming_a_foreign_feature_is_refuted(dense_net):
    """An edit adding a feature the model does not have stopped the re-check with exit 2 (an input error), and one
    naming one level of a one-hot group was only "partial": both are edits of the certificate, refuted."""
    from helpers import forged

    from mipnet.domain import Domain
    from mipnet.report.recheck import recheck

    rep = verify_global(dense_net, increasing=["x0"], time_limit=10)
    cert = monotonicity_certificate(dense_net, rep, increasing=["x0"])

    def add(name):
        def edit(d):
            d["question"]["increasing"].append(name)
            item = json.loads(json.dumps(d["answer"]["items"][0]))
            item["feature"] = name
            d["answer"]["items"].append(item)

        return edit

    bad = recheck(forged(cert, add("nonexistent")), dense_net, None)
    failed = [c for c in bad.checks if c.name.startswith("features asked are the model's") and c.outcome == "fail"]
    assert bad.status == "failed" and failed, bad.lines()
    grouped = dense_net.with_domain(
        Domain(["x0", "x1", "x2", "x3"], [-1, -1, 0, 0], [1, 1, 1, 1], onehot_groups=[[2, 3]])
    )
    g_rep = verify_global(grouped, increasing=["x0"], time_limit=10)
    g_cert = monotonicity_certificate(grouped, g_rep, increasing=["x0"])
    level = recheck(forged(g_cert, add("x2")), grouped, None)
    assert level.status == "failed", level.lines()


def test_the_data_hash_reads_a_whole_float_target_as_the_integer_a_csv_holds(tmp_path):
    """A regression target of whole numbers: the trainer hashed 1.0, the re-check the CSV's 1, and refuted the
    genuine certificate as "other data". Certificates hashed before still match (the legacy text)."""
    import pandas as pd
    from click.testing import CliRunner

    from mipnet.cli import cli
    from mipnet.io import load_model
    from mipnet.report.certificates import save_certificate, training_certificate
    from mipnet.train.objective_check import data_hash

    X = np.arange(6.0).reshape(3, 2)
    assert data_hash(X, np.array([1.0, 0.0, 2.0])) == data_hash(X, np.array([1, 0, 2]))
    assert data_hash(X, np.array([1.5, 0.0, 2.0])) != data_hash(X, np.array([1, 0, 2]))
    assert data_hash(X, np.array([1.0, 0.0, 2.0]), legacy=True) != data_hash(X, np.array([1, 0, 2]))
    rows = [[3, 2, 2, 1, 0], [1, 0, 0, 0, 1], [0, 3, 2, 3, 1], [2, 2, 3, 2, 0], [2, 2, 2, 3, 1], [1, 3, 2, 0, 1]]
    data, model, cert = tmp_path / "d.csv", tmp_path / "m.json", tmp_path / "c.json"
    pd.DataFrame(rows, columns=["p0", "p1", "p2", "p3", "t"]).to_csv(data, index=False)
    args = ["train", str(data), "--target", "t", "--task", "regress", "--hidden", "1", "--time-limit", "10"]
    r = CliRunner().invoke(cli, [*args, "-o", str(model)])
    assert r.exit_code == 0, r.output
    net = load_model(model)
    save_certificate(training_certificate(net, net.metadata["certificate"]), cert)
    r = CliRunner().invoke(cli, ["recheck", str(cert), str(model), str(data), "--second-solver", "none"])
    assert "data sha256" in r.output and "the data differ" not in r.output, r.output
    assert r.exit_code == 0, r.output
