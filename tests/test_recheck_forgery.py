"""Forged certificates: each is edited by a careful forger (content re-sealed with the project's own seal
function), so only a re-check that re-derives the claims from the model (and the data) can catch it.

1. a violated robustness row flipped to holds, re-checked with no second solver (HiGHS re-proves it afresh);
2. a certified sample swapped for another data row's values, the data file untouched;
3. a training certificate edited from feasible (with a gap) to optimal, gap 0;
4. a monotonicity item whose direction disagrees with its question;
5. a training certificate of a random subsample (--samples), re-checked on the full data file.
Plus the honest paths (exit 0) and the time limit of the whole re-check (claims not re-proved: exit 3).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import forged as _forged

from mipnet.cli import cli
from mipnet.cli.audit import COMMANDS
from mipnet.domain import Domain
from mipnet.io import save_model
from mipnet.layers import Dense, ReLU
from mipnet.network import Network
from mipnet.report.certificates import (
    monotonicity_certificate,
    robustness_certificate,
    save_certificate,
    training_certificate,
)
from mipnet.report.recheck import recheck
from mipnet.train.certificate import data_hash, row_hash
from mipnet.verify.monotonic import verify_global
from mipnet.verify.robustness import verify_robustness, verify_sample

for _cmd in COMMANDS:
    if _cmd.name not in cli.commands:
        cli.add_command(_cmd)

EXIT_PARTIAL = 3


def _cli(tmp_path, cert, net, df=None, *extra):
    model, path = tmp_path / "model.json", tmp_path / "cert.json"
    save_model(net, model)
    save_certificate(cert, path)
    args = ["recheck", str(path), str(model)]
    if df is not None:
        data = tmp_path / "data.csv"
        df.to_csv(data, index=False)
        args.append(str(data))
    r = CliRunner().invoke(cli, args + ["--json", *extra])
    out = json.loads(r.output) if r.output.strip().startswith("{") else {"status": None, "raw": r.output}
    return r.exit_code, out


# ============================================================================ robustness: rows of a data file
@pytest.fixture(scope="module")
def rob():
    from helpers import random_dense_net

    net = random_dense_net(np.random.default_rng(3), [4, 5, 3, 1])
    X = np.random.default_rng(1).uniform(-1, 1, (12, 4))
    df = pd.DataFrame(X, columns=net.feature_names)
    df["label"] = net.predict(X)
    rows = [0, 2, 4, 6, 8, 10]
    res = verify_robustness(net, X[rows], 0.1, "inf", time_limit=5)
    for j, r in enumerate(res):
        r.index = j
    cert = robustness_certificate(net, X[rows], res, eps=0.1, rows=rows, target="label")
    assert {"holds", "violated"} <= {r.verdict for r in res}
    return net, X, df, rows, res, cert


def _flip_violated(res):
    j = next(i for i, r in enumerate(res) if r.verdict == "violated" and r.margin_forward is not None)

    def edit(d):  # claim robustness for a row with a counterexample, hide it, keep everything tidy
        it = d["answer"]["items"][j]
        it.update(verdict="holds", counterexample=None, adversarial_class=None, bound=0.0, status="optimal")
        d["answer"]["status"] = "holds" if all(i["verdict"] == "holds" for i in d["answer"]["items"]) else "violated"
        d["answer"]["counts"] = {"holds": sum(i["verdict"] == "holds" for i in d["answer"]["items"])}

    return j, edit


def test_honest_robustness_certificate_is_ok_with_highs_alone(rob, tmp_path):
    net, X, df, rows, res, cert = rob
    rep = recheck(cert, net, df, second_solver=None, time_limit=30)
    assert rep.status == "ok" and rep.exit_code == 0, rep.lines()
    n_holds = sum(r.verdict == "holds" for r in res)
    reproved = [c for c in rep.checks if c.category == "solver" and c.outcome == "pass"]
    assert len(reproved) == n_holds  # every holds row re-proved by a fresh solve
    assert any("bound to its data row" in c.name and c.outcome == "pass" for c in rep.checks)
    code, out = _cli(tmp_path, cert, net, df, "--second-solver", "none")
    assert code == 0 and out["status"] == "ok", out


def test_forgery_1_flipped_row_without_second_solver(rob, tmp_path, monkeypatch):
    net, X, df, rows, res, cert = rob
    j, edit = _flip_violated(res)
    forged = _forged(cert, edit)
    rep = recheck(forged, net, second_solver=None, time_limit=30)
    assert rep.status == "failed" and rep.exit_code == 1, rep.lines()
    assert any(
        c.outcome == "fail" and c.name.startswith(f"sample {j}:") and c.category == "solver" for c in rep.checks
    ), rep.lines()
    code, out = _cli(tmp_path, forged, net, None, "--second-solver", "none")
    assert code == 1 and out["status"] == "failed", out
    # "auto" with only HiGHS installed: the fresh HiGHS build re-proves (here: refutes) the claim
    monkeypatch.setattr("mipnet.solve.available_solvers", lambda: ["highs"])
    rep2 = recheck(forged, net, second_solver="auto", time_limit=30)
    assert rep2.status == "failed" and rep2.exit_code == 1, rep2.lines()


def test_claims_not_reproved_are_partial_never_ok(rob, tmp_path):
    net, X, df, rows, res, cert = rob
    rep = recheck(cert, net, df, second_solver=None, time_limit=30, reprove=False)
    n_holds = sum(r.verdict == "holds" for r in res)
    assert rep.status == "partial" and rep.exit_code == EXIT_PARTIAL, rep.lines()
    assert len(rep.not_reproved()) == n_holds
    assert f"{n_holds} claims not re-proved" in rep.lines()[-1]
    # the time limit covers the whole re-check: none left, nothing re-proved, exit 3
    code, out = _cli(tmp_path, cert, net, df, "--second-solver", "none", "--time-limit", "0.001")
    assert code == EXIT_PARTIAL and out["status"] == "partial" and out["not_reproved"] == n_holds, out


def test_forgery_2_sample_swapped_for_another_row(rob, tmp_path):
    net, X, df, rows, res, cert = rob
    j, k = 1, 11  # certified row 2 now carries the values of row 11 (not certified); the file is untouched
    rk = verify_sample(net, X[k], 0.1, "inf", time_limit=5, index=j)

    def swap(d):  # the data hash is left alone: it is the file's, and the file is untouched
        d["question"]["samples"][j] = X[k].tolist()
        if "data_row_sha256" in d["answer"]["items"][j]:
            d["answer"]["items"][j]["data_row_sha256"] = row_hash(X[k])
        d["question"]["sample_classes"][j] = int(rk.cls)
        it = d["answer"]["items"][j]
        it.update(
            verdict=rk.verdict,
            bound=rk.bound,
            counterexample=None if rk.counterexample is None else rk.counterexample.tolist(),
            **{"class": int(rk.cls)},
        )
        d["answer"]["status"] = "violated" if any(i["verdict"] == "violated" for i in d["answer"]["items"]) else "holds"
        d["result"][j].update(verdict=rk.verdict, bound=rk.bound)  # the verifier's record, kept consistent too
        ans = d["answer"]
        proved = [i["bound"] for i in ans["items"] if i["bound"] is not None]
        ans["bound"] = min(proved) if proved else None
        ans["counts"] = {v: sum(i["verdict"] == v for i in ans["items"]) for v in ("holds", "violated", "unknown")}
        d["question"]["sample_classes"] = [i["class"] for i in ans["items"]]

    forged = _forged(cert, swap)
    rep = recheck(forged, net, df, second_solver=None, time_limit=30)
    assert rep.status == "failed" and rep.exit_code == 1, rep.lines()
    assert "the data do not match" in rep.problems(), rep.lines()
    assert any(c.name == "each sample bound to its data row" and c.outcome == "fail" for c in rep.checks)

    def rehash(d):  # the most careful forger also makes the data hash that of the new samples
        swap(d)
        d["data"]["sha256"] = data_hash(
            np.asarray(d["question"]["samples"], dtype=np.float64), np.asarray([], dtype=object)
        )

    rep1 = recheck(_forged(cert, rehash), net, df, second_solver=None, time_limit=30)
    assert rep1.problems() == ["the data do not match"], rep1.lines()  # the file itself is consistent
    code, out = _cli(tmp_path, forged, net, df, "--second-solver", "none")
    assert code == 1 and out["status"] == "failed", out
    # without the data file the binding cannot be checked, and the report says so: partial, never OK (README)
    rep2 = recheck(forged, net, None, second_solver=None, time_limit=30)
    assert any("data row" in c.name and c.outcome == "undecided" and "not checked" in c.detail for c in rep2.checks)
    assert rep2.status != "ok" and rep2.exit_code != 0, rep2.lines()


# ============================================================================ monotonicity
@pytest.fixture(scope="module")
def monotone_net():
    """f increasing in x0 (every path from x0 has positive weights), not monotone in x1."""
    W1 = np.array([[1.0, 0.5], [0.5, -1.0]])
    net = Network(
        [Dense(W1, np.array([0.1, 0.0])), ReLU(), Dense(np.array([[1.0, 1.0]]), np.array([0.0]))],
        domain=Domain.box(2, -1.0, 1.0),
    )
    return net


def test_forgery_4_monotonicity_direction_disagrees(monotone_net, tmp_path):
    net = monotone_net
    rep0 = verify_global(net, increasing=["x0"], time_limit=10)
    assert rep0.features[0].status == "holds"
    cert = monotonicity_certificate(net, rep0, increasing=["x0"])
    honest = recheck(cert, net, second_solver=None, time_limit=20)
    assert honest.status == "ok", honest.lines()

    def direction(d):  # the question asks "increasing", the item answers for "decreasing"
        d["answer"]["items"][0]["direction"] = "decreasing"

    rep = recheck(_forged(cert, direction), net, second_solver=None, time_limit=20)
    assert rep.status == "failed" and rep.exit_code == 1, rep.lines()
    code, out = _cli(tmp_path, _forged(cert, direction), net, None, "--second-solver", "none")
    assert code == 1, out

    def question(d):  # the question now asks "decreasing in x0", the item still proves "increasing"
        d["question"]["increasing"], d["question"]["decreasing"] = [], ["x0"]

    rep2 = recheck(_forged(cert, question), net, second_solver=None, time_limit=20)
    assert rep2.status == "failed", rep2.lines()


def test_forgery_4_witness_pair_shows_the_other_direction(dense_net):
    rep0 = verify_global(dense_net, increasing=["x0"], time_limit=10)
    assert rep0.features[0].status == "violated"
    cert = monotonicity_certificate(dense_net, rep0, increasing=["x0"])

    def direction_only(d):  # the item answers for "decreasing" with the pair that violates "increasing"
        d["answer"]["items"][0]["direction"] = "decreasing"

    rep0 = recheck(_forged(cert, direction_only), dense_net, second_solver=None, time_limit=10)
    assert rep0.status == "failed", rep0.lines()

    def other_way(d):  # claim a violation of "decreasing" with the pair that violates "increasing"
        d["question"]["increasing"], d["question"]["decreasing"] = [], ["x0"]
        d["answer"]["items"][0]["direction"] = "decreasing"

    rep = recheck(_forged(cert, other_way), dense_net, second_solver=None, time_limit=10)
    assert rep.status == "failed", rep.lines()
    assert any(c.outcome == "fail" and "witness pair" in c.name for c in rep.checks)


# ============================================================================ training
@pytest.fixture(scope="module")
def trained_feasible():
    """A training certificate with an open gap (stopped by a short time limit), on all 40 rows."""
    from mipnet.train.estimators import MIPNetClassifier

    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] - 0.3 * X[:, 2] + 0.4 * rng.normal(size=40) > 0).astype(int)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    # On a loaded machine 2 s can end before the solver proves any bound; this instance's gap stays
    # above 4 % even after 30 s, so a longer retry still gives an open gap.
    for limit in (2, 6, 15):
        est = MIPNetClassifier((3,), l1=0.01, time_limit=limit, random_state=0, threads=1)
        est.fit(df, y)
        if est.network_.metadata["certificate"].get("gap") is not None:
            break
    df["y"] = y
    net = est.network_
    return net, df, training_certificate(net, net.metadata["certificate"], target="y")


@pytest.fixture(scope="module")
def trained_small():
    """A small training certificate proved optimal, on 12 of 30 rows (--samples 12)."""
    from mipnet.train.estimators import MIPNetClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    est = MIPNetClassifier((2,), l1=0.01, time_limit=10, max_samples=12, random_state=1, threads=1)
    est.fit(df, y)
    df["y"] = y
    net = est.network_
    return net, df, training_certificate(net, net.metadata["certificate"], target="y")


def test_forgery_5_subsample_rows_recorded_and_rechecked_on_the_full_file(trained_small, tmp_path):
    net, df, cert = trained_small
    rows = cert.data.get("rows")
    assert rows is not None and len(rows) == 12 and cert.data.get("source_rows") == 30
    assert cert.status == "optimal"
    rep = recheck(cert, net, df, second_solver=None, time_limit=30)
    assert rep.status == "ok" and rep.exit_code == 0, rep.lines()
    assert any(c.name.startswith("training bound re-proved") and c.outcome == "pass" for c in rep.checks)
    code, out = _cli(tmp_path, cert, net, df, "--second-solver", "none")
    assert code == 0 and out["status"] == "ok", out

    def other_rows(d):  # point the certificate at other rows of the same file
        free = sorted(set(range(30)) - set(rows))
        d["data"]["rows"] = sorted(rows[1:] + free[:1])
        d["result"]["rows"] = d["data"]["rows"]

    bad = recheck(_forged(cert, other_rows), net, df, second_solver=None, time_limit=10)
    assert bad.status == "failed" and "the data do not match" in bad.problems(), bad.lines()
    # without the data the bound and the loss cannot be re-proved: partial, exit 3
    nodata = recheck(cert, net, None, second_solver=None, time_limit=10)
    assert nodata.status == "partial" and nodata.exit_code == EXIT_PARTIAL, nodata.lines()


def test_forgery_3_feasible_edited_to_optimal(trained_feasible, tmp_path):
    net, df, cert = trained_feasible
    a = cert.answer
    assert a["status"] == "feasible" and a["gap"] > 1e-3, cert.answer

    def optimal(d):
        ans = d["answer"]
        ans.update(status="optimal", bound=ans["incumbent"], gap=0.0)
        d["result"].update(status="optimal", bound=ans["incumbent"], gap=0.0)

    forged = _forged(cert, optimal)
    rep = recheck(forged, net, df, second_solver=None, time_limit=4)
    assert rep.status != "ok" and rep.exit_code != 0, rep.lines()
    code, out = _cli(tmp_path, forged, net, df, "--second-solver", "none", "--time-limit", "4")
    assert code in (1, EXIT_PARTIAL) and out["status"] in ("failed", "partial"), out

    def optimal_with_gap(d):  # the lazier forger: status only
        d["answer"]["status"] = "optimal"

    rep2 = recheck(_forged(cert, optimal_with_gap), net, df, second_solver=None, time_limit=1, reprove=False)
    assert rep2.status == "failed" and any(p.startswith("tampered") for p in rep2.problems()), rep2.lines()

    def optimal_without_bound(d):
        d["answer"].update(status="optimal", bound=None, gap=None)

    rep3 = recheck(_forged(cert, optimal_without_bound), net, df, second_solver=None, time_limit=1, reprove=False)
    assert rep3.status == "failed", rep3.lines()


# ============================================================================ individual monotonicity
def test_individual_monotonicity_rows_bound_and_flipped_row_refuted(rob, tmp_path):
    from mipnet.report.certificates import individual_monotonicity_certificate
    from mipnet.verify.monotonic import verify_individual

    net, X, df, _, _, _ = rob
    rows = [1, 3, 5, 7, 9]
    r = verify_individual(net, X[rows], increasing=["x0"], time_limit=5)
    cert = individual_monotonicity_certificate(net, X[rows], r, increasing=["x0"], rows=rows)
    assert [it["data_row"] for it in cert.answer["items"]] == rows
    honest = recheck(cert, net, df, second_solver=None, time_limit=20)
    assert honest.status == "ok", honest.lines()
    j = next(i for i, p in enumerate(r.points) if p.status == "counterexample")

    def flip(d):
        d["answer"]["items"][j].update(verdict="holds", x_prime=None, f_best=None, bound=None)
        d["answer"]["status"] = "violated" if any(i["verdict"] == "violated" for i in d["answer"]["items"]) else "holds"

    rep = recheck(_forged(cert, flip), net, df, second_solver=None, time_limit=20)
    assert rep.status == "failed" and any(
        c.outcome == "fail" and c.name.startswith(f"row {j}: holds") for c in rep.checks
    ), rep.lines()


# ============================================================================ edits a careful forger makes
def _violated_row(cert):
    return next(i for i, it in enumerate(cert.answer["items"]) if it["verdict"] == "violated")


@pytest.mark.parametrize("word", ["Holds", "holds ", "proved"])
def test_an_unknown_verdict_word_never_passes_as_holds(rob, word):
    """The aggregate reads anything but violated / unknown as holds: a violated row relabelled with another word
    (and the certificate's status with it) must fail, not pass as holds."""
    net, X, df, rows, res, cert = rob
    j = _violated_row(cert)

    def edit(d):
        d["answer"]["items"][j]["verdict"] = word
        d["answer"]["status"] = "holds" if word != "proved" else "proved"

    rep = recheck(_forged(cert, edit), net, df, second_solver=None, time_limit=20)
    assert rep.status == "failed" and rep.exit_code == 1, rep.lines()
    assert any(c.name == "verdict words" and c.outcome == "fail" for c in rep.checks), rep.lines()


def _answer_bound_up(d):
    d["answer"]["bound"] = 5.0


def _classes_swapped(d):
    d["question"]["sample_classes"] = [1 - int(c) for c in d["question"]["sample_classes"]]


def _result_flipped(d):
    for r in d["result"]:
        r["verdict"] = "holds"


def _domain_widened(d):
    dom = d["question"]["domain"]
    key = next(k for k in ("lower", "lo", "low") if k in dom)
    dom[key] = [v - 1.0 for v in dom[key]]


@pytest.mark.parametrize("edit", [_answer_bound_up, _classes_swapped, _result_flipped, _domain_widened])
def test_summary_figures_records_and_the_domain_are_bound(rob, edit):
    net, X, df, rows, res, cert = rob
    rep = recheck(_forged(cert, edit), net, df, second_solver=None, time_limit=20)
    assert rep.status == "failed" and rep.exit_code == 1, (edit.__name__, rep.lines())


def test_malformed_items_are_a_failed_check_not_a_traceback(rob):
    net, X, df, rows, res, cert = rob

    def strings(d):
        d["answer"]["items"] = ["x" for _ in d["answer"]["items"]]

    rep = recheck(_forged(cert, strings), net, df, second_solver=None, time_limit=20)
    assert rep.status == "failed", rep.lines()


def _norm_unknown(d):
    d["question"]["norm"] = "l7"


def _sample_short(d):
    d["question"]["samples"][0] = d["question"]["samples"][0][:2]


def _samples_dropped(d):
    d["question"]["samples"] = []


def _gap_set(d):
    d["answer"]["gap"] = -1.0  # robustness and monotonicity answers carry no incumbent and no gap


def _counterexample_short(d):
    it = d["answer"]["items"][0]
    it["verdict"], it["counterexample"] = "violated", [0.0]


@pytest.mark.parametrize("edit", [_norm_unknown, _sample_short, _samples_dropped, _counterexample_short, _gap_set])
def test_an_unreadable_field_refutes_the_certificate_with_exit_1(rob, tmp_path, edit):
    """A field edited into something the re-check cannot read (an unknown norm, a sample of the wrong length) is a
    refuted certificate (exit 1), not a usage error of the command (exit 2)."""
    net, X, df, rows, res, cert = rob
    rep = recheck(_forged(cert, edit), net, df, second_solver=None, time_limit=20)
    assert rep.status == "failed" and rep.exit_code == 1, (edit.__name__, rep.lines())
    code, out = _cli(tmp_path, _forged(cert, edit), net, df)
    assert code == 1 and out["status"] == "failed", (edit.__name__, out)


def test_monotonicity_summary_bound_and_worst_derivative_are_bound(dense_net):
    rep0 = verify_global(dense_net, increasing=["x0"], time_limit=10)
    assert rep0.features[0].status == "violated"
    cert = monotonicity_certificate(dense_net, rep0, increasing=["x0"])
    assert recheck(cert, dense_net, second_solver=None, time_limit=20).status in ("ok", "partial")

    def bound_up(d):
        d["answer"]["bound"] = 3.0

    def positive_worst(d):
        d["answer"]["items"][0]["min_derivative"] = 0.3

    for edit in (bound_up, positive_worst):
        rep = recheck(_forged(cert, edit), dense_net, second_solver=None, time_limit=20)
        assert rep.status == "failed", (edit.__name__, rep.lines())


def test_a_violated_claim_for_a_class_the_sample_does_not_have_is_refuted(rob):
    """A robust row relabelled violated by defending the other class, with the sample itself as the "counterexample"
    (distance 0), re-checked OK: the defended class is the model's prediction at the sample."""
    net, X, df, rows, res, cert = rob
    j = next(i for i, it in enumerate(cert.answer["items"]) if it["verdict"] == "holds")

    def edit(d):
        it = d["answer"]["items"][j]
        other = 1 - int(it["class"])
        it.update(
            verdict="violated", bound=None, counterexample=d["question"]["samples"][j], adversarial_class=it["class"]
        )
        it["class"] = other
        d["question"]["sample_classes"][j] = other
        d["result"][j].update(verdict="violated", bound=None, cls=other)
        items = d["answer"]["items"]
        d["answer"]["status"] = "violated"
        d["answer"]["counts"] = {v: sum(i["verdict"] == v for i in items) for v in ("holds", "violated", "unknown")}
        d["answer"]["bound"] = min((i["bound"] for i in items if i["bound"] is not None), default=None)

    rep = recheck(_forged(cert, edit), net, df, second_solver=None, time_limit=20, reprove=False)
    assert rep.status == "failed", rep.lines()
    assert any("defended class" in c.name and c.outcome == "fail" for c in rep.checks), rep.lines()


def test_the_title_names_the_norm_the_re_check_checks(rob):
    """ "norm": "Linf" was checked as the L-inf ball but titled "robustness, L1 eps = ..."."""
    from mipnet.certificates.robustness import _title

    net, X, df, rows, res, cert = rob
    for spelled in ("Linf", "inf", "linf"):
        assert _title(dict(cert.question, norm=spelled)).startswith("robustness, L-inf")
    assert _title(dict(cert.question, norm="1")).startswith("robustness, L1")


def test_huge_integers_and_deep_nesting_are_one_clear_refusal_not_a_traceback(rob, tmp_path):
    """An eps of 400 digits was an OverflowError traceback with exit 1; arrays nested 100 000 deep a RecursionError;
    an integer of 5000 digits Python's own message."""
    from mipnet.certificates.format import CertificateError, load_certificate

    net, X, df, rows, res, cert = rob
    rep = recheck(
        _forged(cert, lambda d: d["question"].update(eps=10**400)), net, df, second_solver=None, reprove=False
    )
    assert rep.status == "failed" and any("expected a number" in c.detail for c in rep.checks), rep.lines()
    for name, text, words in [
        ("deep.json", "[" * 100_000 + "]" * 100_000, "too deeply"),
        ("long.json", "1" * 5000, "too long"),
    ]:
        (tmp_path / name).write_text(text)
        with pytest.raises(CertificateError, match=words):
            load_certificate(tmp_path / name)


def test_a_field_outside_the_seal_is_refused(rob, tmp_path):
    """A top-level "verdict": "all rows violated" (or a <script> note) re-checked OK without a word about it."""
    from mipnet.certificates.format import CertificateError, certificate_from_dict

    net, X, df, rows, res, cert = rob
    d = cert.to_dict()
    d["verdict"] = "all rows violated"
    with pytest.raises(CertificateError, match="field.*verdict"):
        certificate_from_dict(d)


def test_the_rows_named_without_item_bindings_must_be_the_samples(rob):
    """With data.rows kept but every item's data_row deleted, a violated row's sample swapped for a robust row's
    (and its answer) re-checked OK: the binding check skipped itself."""
    net, X, df, rows, res, cert = rob
    j = _violated_row(cert)
    k = next(i for i, it in enumerate(cert.answer["items"]) if it["verdict"] == "holds")

    def edit(d):
        items = d["answer"]["items"]
        for it in items:
            it.pop("data_row", None)
            it.pop("data_row_sha256", None)
        d["question"]["samples"][j] = d["question"]["samples"][k]
        items[j] = dict(items[k])
        d["result"][j] = dict(d["result"][k])
        d["question"]["sample_classes"][j] = d["question"]["sample_classes"][k]
        d["answer"]["status"] = "holds" if all(i["verdict"] == "holds" for i in items) else d["answer"]["status"]
        d["answer"]["counts"] = {v: sum(i["verdict"] == v for i in items) for v in ("holds", "violated", "unknown")}

    rep = recheck(_forged(cert, edit), net, df, second_solver=None, reprove=False)
    assert any(c.name == "each sample bound to its data row" and c.outcome == "fail" for c in rep.checks), rep.lines()
    assert rep.status == "failed"


def test_a_defended_label_must_be_its_row_s_label_in_the_data(rob):
    """Labels defended: an item's label rewritten to the other class, verdict violated with the sample itself as
    the witness, re-checked OK while the data file still gave the row its own label."""
    net, X, df, rows, res, _ = rob
    labels = df["label"].to_numpy()[rows]
    cert = robustness_certificate(net, X[rows], res, eps=0.1, rows=rows, target="label", labels=labels)
    k = next(i for i, it in enumerate(cert.answer["items"]) if it["verdict"] == "holds")

    def edit(d):
        it = d["answer"]["items"][k]
        other = 1 - int(it["class"])
        it.update(label=other, verdict="violated", bound=None, counterexample=d["question"]["samples"][k])
        it["class"] = other
        d["question"]["sample_classes"][k] = other
        d["result"][k].update(verdict="violated", bound=None, cls=other, label=other)
        items = d["answer"]["items"]
        d["answer"]["status"] = "violated"
        d["answer"]["counts"] = {v: sum(i["verdict"] == v for i in items) for v in ("holds", "violated", "unknown")}
        d["answer"]["bound"] = min((i["bound"] for i in items if i["bound"] is not None), default=None)

    rep = recheck(_forged(cert, edit), net, df, second_solver=None, reprove=False)
    assert rep.status == "failed", rep.lines()
    assert any("row's label in the data" in c.detail for c in rep.checks), rep.lines()


def test_forgery_3b_a_slightly_worse_network_claimed_optimal(tmp_path):
    """An optimal network's first weight moved by 8e-5 (objective 7.8e-6 above the optimum, 2.7e-5 relative) and
    claimed optimal with bound = its own objective re-checked OK: the fresh solve's bound was accepted 1e-5 below
    the claim (absolute). The fresh solve's network, below the claimed bound, now refutes it."""
    import copy

    from mipnet.train import TrainConfig, train
    from mipnet.train.objective_check import Certificate, recompute_terms

    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 2))
    y = (X[:, 0] + 0.3 * rng.normal(size=8) > 0).astype(int)
    res = train(X, y, config=TrainConfig(hidden=(2,), l1=0.05), time_limit=20)
    assert res.certificate.status == "optimal"
    net = res.network
    df = pd.DataFrame({"x0": X[:, 0], "x1": X[:, 1], "y": y})
    meta = copy.deepcopy(net.metadata["certificate"])
    tc = Certificate.from_dict(meta)
    best = float(sum(recompute_terms(net, X, y, tc).values()))
    first = next(layer for layer in net.layers if layer.kind == "Dense")
    W = np.array(first.weight, dtype=float)
    W[0, 1] += 8e-5 if W[0, 1] < 0.5 else -8e-5
    first.weight = W
    terms = recompute_terms(net, X, y, tc)
    inc = float(sum(terms.values()))
    assert 0 < inc - best < 1e-4  # a worse network of the same class, by a hair
    meta.update(terms=terms, incumbent=inc, bound=inc, gap=0.0, status="optimal", solver_incumbent=inc)
    meta["model_terms"] = dict(terms)
    net.metadata = {**net.metadata, "certificate": meta}
    cert = training_certificate(net, meta, target="y")
    rep = recheck(cert, net, df, second_solver=None, time_limit=30)
    assert rep.status == "failed" and rep.exit_code == 1, rep.lines()


def test_holds_for_predicted_classes_rewritten_as_defending_the_labels_is_refuted(rob):
    """classes_defended "predicted" -> "labels" (the items' labels set to the data's) re-checked OK for a row whose
    label the model gets wrong: the "holds" branch never asked which class the certificate defends."""
    net, X, df, rows, res, cert = rob
    k = next(j for j, r in enumerate(res) if r.verdict == "holds")
    wrong = df.copy()
    wrong.loc[rows[k], "label"] = 1 - int(wrong.loc[rows[k], "label"])  # the model misclassifies this row now
    honest = robustness_certificate(net, X[rows], res, eps=0.1, rows=rows, target="label")
    labels = wrong["label"].to_numpy()[rows]

    def edit(d):
        d["question"]["classes_defended"] = "labels"
        for it, lab in zip(d["answer"]["items"], labels):
            it["label"] = int(lab)

    rep = recheck(_forged(honest, edit), net, wrong, second_solver=None, reprove=False)
    assert rep.status == "failed", rep.lines()
    assert any(c.outcome == "fail" and f"sample {k}: the defended class" in c.name for c in rep.checks), rep.lines()


def test_a_bound_on_a_violated_or_unknown_item_is_a_claim_and_is_checked(rob):
    """Bounds of violated and unknown items were never checked: 100 on both re-checked OK, and the answer's bound
    (the audit table's) with them."""
    net, X, df, rows, res, cert = rob
    j = next(i for i, r in enumerate(res) if r.verdict == "violated")
    h = next(i for i, r in enumerate(res) if r.verdict == "holds")

    def violated_bound(d):
        d["answer"]["items"][j]["bound"] = 100.0
        d["answer"]["bound"] = min(i["bound"] for i in d["answer"]["items"] if i["bound"] is not None)

    rep = recheck(_forged(cert, violated_bound), net, df, second_solver=None, reprove=False)
    assert any(c.outcome == "fail" and "margin at the counterexample" in c.name for c in rep.checks), rep.lines()

    def unknown_bound(d):
        it = d["answer"]["items"][h]
        it.update(verdict="unknown", bound=float(it["bound"] or 0.0) + 0.5)
        items = d["answer"]["items"]
        d["answer"]["counts"] = {v: sum(i["verdict"] == v for i in items) for v in ("holds", "violated", "unknown")}
        d["answer"]["bound"] = min(i["bound"] for i in items if i["bound"] is not None)

    rep = recheck(_forged(cert, unknown_bound), net, df, second_solver=None, time_limit=30)
    assert rep.status == "failed", rep.lines()
    # an honest bound of a violated item is re-proved, not only compared
    rep = recheck(cert, net, df, second_solver=None, time_limit=30)
    assert rep.status == "ok", rep.lines()


def test_an_honest_labels_certificate_with_whole_float_labels_rechecks_ok():
    """Labels 0.0 / 1.0 (a CSV's float column) are the classes 0 / 1 to the verifier: the re-check compared them as
    strings ("0" against "0.0") and refuted an honest certificate."""
    from helpers import random_dense_net

    net = random_dense_net(np.random.default_rng(3), [4, 5, 3, 1])
    X = np.random.default_rng(1).uniform(-0.9, 0.9, (4, 4))
    y = [float(net.class_names[p]) for p in net.predict_index(net.forward(X))]
    res = verify_robustness(net, X, 0.01, labels=y, time_limit=10)
    cert = robustness_certificate(net, X, res, eps=0.01, labels=y, target="y", rows=list(range(4)))
    df = pd.DataFrame(X, columns=net.feature_names)
    df["y"] = y
    rep = recheck(cert, net, df, second_solver=None, time_limit=30)
    assert rep.status == "ok", rep.lines()


def test_the_audit_rechecks_a_training_certificate_with_its_training_rows(trained_feasible, tmp_path):
    """`mipnet audit MODEL DATA` never gave the training certificate its data: a model whose certificate was edited
    to "optimal" (bound = incumbent, loss lowered) passed the audit on its own training rows with exit 0, the page
    saying "proved bound ... gap 0.00 %" and "proved the best network of its class". With the rows the certificate's
    data hash records, the re-check has the data and refutes it (exit 1); on other rows it stays a claim, said as
    one."""
    import copy

    net, df, cert = trained_feasible
    forged = copy.deepcopy(net)
    c = forged.metadata["certificate"]  # a tenth off the loss (only the data can show it), proved optimal
    assert "loss" in c["terms"], c["terms"]
    c["terms"]["loss"] *= 0.9
    c["incumbent"] = sum(c["terms"].values())
    c["status"], c["bound"], c["gap"] = "optimal", c["incumbent"], 0.0
    if isinstance(c.get("dual_bound"), dict):
        c["dual_bound"]["bound"] = c["incumbent"]
    data, held = tmp_path / "train.csv", tmp_path / "held.csv"
    df.to_csv(data, index=False)
    df.iloc[:25].to_csv(held, index=False)
    runner = CliRunner()
    for name, model in (("forged", forged), ("true", net)):
        save_model(model, tmp_path / f"{name}.json")

    def audit(name, csv):
        args = ["audit", str(tmp_path / f"{name}.json"), str(csv), "-o", str(tmp_path / f"{name}_{csv.stem}.html")]
        r = runner.invoke(cli, args + ["--eps", "0.05", "--rows", "1", "--time-limit", "10", "--workers", "0"])
        return r.exit_code, r.output, (tmp_path / f"{name}_{csv.stem}.html").read_text()

    code, out, page = audit("forged", data)
    assert code == 1 and "re-check with the training rows" in out and "FAILED" in out, out
    assert "proved the best network" not in page and not re.search(r"objective [0-9.]+, proved bound", page)
    code, out, page = audit("true", data)
    line = next(t for t in out.splitlines() if t.startswith("training certificate"))
    assert code == 0 and "re-check with the training rows (the data's hash is the certificate's)" in line, out
    assert "FAILED" not in line  # OK, or PARTIAL where the fresh solve could not re-prove the bound in the time left
    assert bool(re.search(r"objective [0-9.]+, proved bound", page)) == line.endswith(" OK"), line
    code, out, page = audit("forged", held)  # not the training rows: re-checked without them, a claim
    assert code == 0 and "re-check without the data partial" in out, out
    assert "claimed bound (not re-proved here)" in page and "the trainer claims the best network" in page
    assert "proved the best network" not in page
    # `mipnet recheck MODEL MODEL DATA`: the certificate a trained model carries (docs/training.md; it was "not a
    # mipnet certificate", exit 2)
    for name, codes in (("forged", (1,)), ("true", (0, 3))):
        model = str(tmp_path / f"{name}.json")
        r = runner.invoke(cli, ["recheck", model, model, str(data), "--time-limit", "10", "--second-solver", "none"])
        assert r.exit_code in codes and "certificate: training" in r.output, (name, r.output)
    broken = json.loads((tmp_path / "true.json").read_text())  # a model file that no longer loads: its own error
    broken["input_shape"] = [2]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    r = runner.invoke(cli, ["recheck", str(tmp_path / "broken.json"), str(tmp_path / "true.json"), str(data)])
    assert r.exit_code == 2 and "not a mipnet certificate" not in r.output and "input shape" in r.output, r.output
