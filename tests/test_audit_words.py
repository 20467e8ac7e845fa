"""The audit page for a non-programmer: a glossary, class names (not 0/1), eps explained per feature in the
features' own units (and when it can flip a yes/no feature such as ``male``), the statement that the robustness
ball is cut to the model's domain, which rows the accuracy is measured on, witnesses printed at a precision that
shows the change, bars for violated rows; and ``mipnet demo``'s report and summary in the same words."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner

from mipnet import Dense, Domain, Network, ReLU
from mipnet.cli import cli
from mipnet.report.audit import render_html, run_audit
from mipnet.report.audit.words import GLOSSARY, eps_meaning, feature_kinds, flippable, pair

NAMES = ["age", "priors", "male", "race=a", "race=b", "score"]


def _net() -> Network:
    rng = np.random.default_rng(7)
    dom = Domain(
        NAMES,
        lower=[18, 0, 0, 0, 0, 0.0],
        upper=[90, 20, 1, 1, 1, 1.0],
        integer=[True, True, True, True, True, False],
        onehot_groups=[[3, 4]],
    )
    w1 = rng.normal(0, 1, (4, 6)) / np.array([30.0, 5.0, 1.0, 1.0, 1.0, 1.0])
    return Network(
        [Dense(w1, rng.normal(0, 0.3, 4)), ReLU(), Dense(rng.normal(0, 1, (1, 4)), np.zeros(1))],
        domain=dom,
        class_names=["benign", "malignant"],
    )


def _data(net: Network, n: int = 30) -> np.ndarray:
    rng = np.random.default_rng(1)
    race = rng.integers(0, 2, n)
    return np.column_stack(
        [rng.integers(18, 91, n), rng.integers(0, 21, n), rng.integers(0, 2, n), race, 1 - race, rng.uniform(0, 1, n)]
    ).astype(np.float64)


@pytest.fixture(scope="module")
def page() -> tuple[Network, str, object]:
    net = _net()
    X = _data(net)
    y = net.predict(X)
    a = run_audit(
        net, X, y, increasing=["priors"], eps=1.0, rows=6, time_limit=5, model_name="net.json", data_name="data.csv"
    )
    return net, render_html(a), a


def test_glossary_explains_every_term(page):
    _, text, _ = page
    assert "Words used on this page" in text and 'id="glossary"' in text
    terms = [t for t, _ in GLOSSARY]
    for term in ["layer", "hinge loss", "logit (score)", "bound", "L-inf distance", "gap", "domain", "eps (radius)"]:
        assert term in terms
        assert f"<dt>{term}</dt>" in text, term
    assert 'href="#glossary"' in text  # the summary points to it
    assert "stages of arithmetic" in text and "what it does" in text  # layers explained inline


def test_class_names_are_used_not_indices(page):
    net, text, a = page
    assert "<b>benign</b>" in text and "<b>malignant</b>" in text
    rob = next(p for p in a.properties if p.key == "robustness")
    assert {r["class"] for r in rob.rows} <= {"benign", "malignant"}
    assert "above 0 means malignant, below 0 means benign" in text  # the monitored score in class names


def test_eps_is_explained_per_feature_and_flips_are_named(page):
    net, text, a = page
    assert "What eps = 1 (L-inf distance) allows for each feature" in text
    rows = {r["feature"]: r["what eps = 1 allows"] for r in eps_meaning(net, 1.0, "inf")}
    assert rows["male"].startswith("can flip")
    assert rows["race=a"].startswith("can flip") and "category" in rows["race=a"]
    assert "up to 1 step" in rows["age"] and "of its range" in rows["age"]
    assert "up to 1 in its own units" in rows["score"]
    assert "may flip yes/no features such as <code>male</code>" in text
    below = {r["feature"]: r["what eps = 0.5 allows"] for r in eps_meaning(net, 0.5, "inf")}
    assert below["male"].startswith("cannot change") and below["age"].startswith("cannot change")
    assert below["score"].startswith("may move by up to 0.5")
    assert flippable(net, 0.5, "inf") == [] and flippable(net, 1.0, "1") == ["male"]  # a category costs 2 in L1
    assert feature_kinds(net) == ["whole number", "whole number", "indicator", "category", "category", "number"]


def test_domain_statement_and_accuracy_rows(page):
    _, text, a = page
    assert "The robustness ball is cut to the model's domain" in text
    assert "around the sample, intersected with the model" in text  # the results' own region field
    assert "The model's domain: the inputs it is meant for" in text
    assert "Measured on all 30 rows of data.csv" in text and "cannot tell whether the model was trained" in text


def test_violated_rows_have_bars_and_witnesses_show_the_change(page):
    _, text, a = page
    rob = next(p for p in a.properties if p.key == "robustness")
    assert all("bar" in r["margin"] or r["margin"] == "-" for r in rob.rows)
    if any(r["verdict"] == "violated" for r in rob.rows):
        assert '<tr class="bad">' in text and 'class="bar violated"' in text
        for r in rob.rows:
            if r["verdict"] == "violated":
                for a_, b_ in re.findall(r" ([-0-9.e]+) &rarr; ([-0-9.e]+)", r["witness"]):
                    assert a_ != b_, r["witness"]  # every printed change is visible
    assert pair(31.0, 30.9999999) == ("31", "30.9999999")
    assert pair(0.5, 0.5) == ("0.5", "0.5") and pair(2.0, 3.0) == ("2", "3")


def test_demo_report_speaks_plainly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    r = CliRunner().invoke(cli, ["demo", "--time-limit", "20", "--samples", "12"])
    assert r.exit_code in (0, 1, 3), (r.stdout[-2000:], r.exception)
    text = (tmp_path / "compas_audit.html").read_text()
    assert "held out before training" in text and "never saw them" in text
    assert "<b>recidivism</b>" in text and "<b>no_recidivism</b>" in text
    assert "certified monotonic learning on 12 COMPAS rows" in text  # the training, in words
    assert "gap 0" in text or "without proving it the best" in text
    rows = re.findall(r"<tr><td>(male|age|race=Caucasian)</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", text)
    said = dict(rows)
    assert said["male"].startswith("cannot change") and said["race=Caucasian"].startswith("cannot change")
    assert said["age"].startswith("may move by up to 0.5")  # half a year of age
    assert "may flip yes/no features" not in text
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("proved: ") and "year(s) of age" in last and last.endswith("model: compas_model.json")


def test_a_constant_indicator_cannot_flip_and_a_still_whole_number_has_no_share() -> None:
    """A 0/1 feature whose domain is 0..0 (a constant column) was listed as "can flip" and in the flip warning;
    a whole number that cannot move at eps < 1 was still "2.5 % of its range"."""
    d = Domain(["age", "male", "count"], [18, 0, 0], [90, 0, 20], integer=[False, True, True])
    net = Network([Dense(np.array([[0.1, 5.0, 0.0]]), np.array([-4.0]))], domain=d, class_names=["no", "yes"])
    assert feature_kinds(net) == ["number", "constant", "whole number"]
    assert flippable(net, 1.0, "inf") == []
    rows = {r["feature"]: r for r in eps_meaning(net, 0.5, "inf")}
    assert rows["male"]["what eps = 0.5 allows"].startswith("cannot change")
    assert "% of its range" not in rows["count"]["what eps = 0.5 allows"]
    assert "% of its range" in rows["age"]["what eps = 0.5 allows"]


def test_page_words_for_several_classes_dotted_file_names_and_escaped_headers() -> None:
    d = Domain(["x", "y"], [0, 0], [1, 1])
    net = Network(
        [Dense(np.eye(2), np.zeros(2)), ReLU(), Dense(np.array([[1.0, 1.0], [0.0, 0.0], [-1.0, -1.0]]), [1, 0, -1])],
        domain=d,
        class_names=["a<b", "c&d", "hi"],
    )
    X = np.random.default_rng(1).uniform(size=(6, 2))
    y = np.array(["a<b"] * 3 + ["c&d"] * 3)
    a = run_audit(net, X, y, eps=0.01, rows=1, data_name="my.data.csv", workers=0, time_limit=10)
    page = render_html(a)
    assert "a positive score means class <b>hi</b>" not in page  # three classes: no single "positive" class
    assert "<th>predicted a&lt;b</th>" in page and "&amp;lt;" not in page
    assert "all 6 rows of my.data.csv" in page
