"""The vendored data sets: row counts, encodings, domains, loader options and the `mipnet datasets` CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mipnet import datasets as ds
from mipnet.errors import DataError, MipnetError

NAMES = [info.name for info in ds.available()]


@pytest.fixture(scope="module")
def cli():
    from mipnet.cli import cli as group
    from mipnet.cli.datasets import COMMANDS

    for c in COMMANDS:
        if c.name not in group.commands:
            group.add_command(c)
    return group


# ---------------------------------------------------------------------------------------- every data set
@pytest.mark.parametrize("name", NAMES)
def test_every_dataset_matches_its_listing_and_lies_in_its_domain(name):
    info = next(i for i in ds.available() if i.name == name)
    d = ds.load(name)
    X, names = d.X_numeric()
    assert d.n_rows == info.rows == len(d.y) == X.shape[0]
    assert X.shape[1] == info.features == d.n_inputs
    assert d.task == info.task
    assert X.dtype == np.float64 and np.all(np.isfinite(X))
    assert not d.frame[d.target].isna().any()
    dom = d.domain
    assert dom.names == names == d.numeric_names
    assert dom.is_finite()
    assert dom.contains(X).all()
    assert int(np.prod(d.input_shape)) == dom.n_features
    # one-hot groups are exactly the categorical blocks, and each row picks one level per block
    assert [[dom.names[i] for i in g] for g in dom.onehot_groups] == list(d.categorical.values())
    for g in dom.onehot_groups:
        np.testing.assert_array_equal(X[:, g].sum(axis=1), 1.0)
    # every bound is attained or is a known range wider than the data
    assert np.all(X.min(axis=0) >= dom.lower) and np.all(X.max(axis=0) <= dom.upper)
    for f in d.monotone_increasing + d.monotone_decreasing:
        assert f in names
    if d.task == "classify":
        counts = d.y.value_counts()
        assert len(d.class_names) == d.y.nunique() == int(d.y.max()) + 1
        assert counts.min() / counts.sum() > 0.09  # no degenerate class


def test_loaders_return_independent_copies():
    a = ds.load_compas()
    a.frame.loc[0, "priors_count"] = -999
    b = ds.load_compas()
    assert b.frame.loc[0, "priors_count"] != -999


# ---------------------------------------------------------------------------------------- tabular specifics
def test_compas_propublica_filter_and_13_inputs():
    d = ds.load("compas")
    assert d.n_rows == 6172
    assert int(d.y.sum()) == 2809  # 45.5 % re-offended
    assert d.monotone_increasing == ["priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"]
    assert d.categorical["race"] == [
        "race=African-American",
        "race=Asian",
        "race=Caucasian",
        "race=Hispanic",
        "race=Native American",
        "race=Other",
    ]
    assert d.n_inputs == 13
    assert int(d.frame["male"].sum()) == 4997 and int(d.frame["felony"].sum()) == 3970
    dom = d.domain
    assert dom.integer.all()  # counts, age, flags and one-hot: every input is integral
    assert (dom.lower[dom.index("age")], dom.upper[dom.index("age")]) == (18.0, 96.0)


def test_adult_official_split_and_labels():
    tr, te, al = ds.load_adult(split="train"), ds.load_adult(split="test"), ds.load("adult")
    assert (tr.n_rows, te.n_rows, al.n_rows) == (30162, 15060, 45222)
    assert (int(tr.y.sum()), int(te.y.sum())) == (7508, 3700)  # test labels ">50K." counted after stripping '.'
    assert tr.numeric_names == te.numeric_names == al.numeric_names
    np.testing.assert_array_equal(tr.domain.lower, te.domain.lower)
    np.testing.assert_array_equal(tr.domain.upper, te.domain.upper)
    # 'Holand-Netherlands' occurs only in the training file, yet the test encoding has its column
    assert "native_country=Holand-Netherlands" in te.numeric_names
    Xte, _ = te.X_numeric()
    assert Xte[:, te.numeric_names.index("native_country=Holand-Netherlands")].sum() == 0
    full = ds.load_adult(drop_redundant=False)
    assert full.n_inputs == 103 and "fnlwgt" in full.feature_types and "education" in full.categorical
    with pytest.raises(DataError, match="split"):
        ds.load_adult(split="validation")


def test_german_codes_target_and_labels():
    d = ds.load_german()
    assert d.n_rows == 1000 and int(d.y.sum()) == 300 and d.class_names == ["good", "bad"]
    assert d.frame["status"].iloc[0] == "A11" and d.value_labels["status"]["A11"].startswith("...")
    assert d.feature_types["credit_amount"] == "integer" and d.feature_types["telephone"] == "binary"
    assert len(d.categorical) == 11  # 13 A-coded attributes, of which telephone and foreign_worker are binary


def test_heart_missing_rows_and_monotone_features():
    d = ds.load_heart()
    assert (d.n_rows, int(d.y.sum())) == (297, 137)
    filled = ds.load_heart(dropna=False)
    assert (filled.n_rows, int(filled.y.sum())) == (303, 139)
    assert filled.domain.contains(filled.X_numeric()[0]).all()
    assert d.monotone_increasing == ["rest_sbp", "cholesterol"]
    assert len(d.feature_types) == 13 and d.n_inputs == 22


def test_autompg_regression():
    d = ds.load_autompg()
    assert d.task == "regress" and d.n_rows == 392 and "car_name" not in d.frame.columns
    assert d.y.mean() == pytest.approx(23.445918, abs=1e-5)
    assert d.categorical["origin"] == ["origin=usa", "origin=europe", "origin=japan"]
    assert d.monotone_decreasing == ["weight", "displacement", "horsepower"]
    X, names = d.X_numeric()
    assert X[:, names.index("origin=usa")].sum() == 245


def test_sklearn_bundled_sets():
    bc = ds.load_breast_cancer()
    assert bc.X.shape == (569, 30) and int(bc.y.sum()) == 357 and bc.class_names == ["malignant", "benign"]
    dg = ds.load_digits()
    assert dg.X.shape == (1797, 64) and dg.input_shape == (1, 8, 8)
    assert dg.domain.integer.all() and dg.domain.upper.max() == 16
    scaled = ds.load("digits", scale=True)
    assert scaled.X.to_numpy().max() == 1.0 and not scaled.domain.integer.any()


# ---------------------------------------------------------------------------------------- images
def test_mnist_subset_is_fast_scaled_and_balanced():
    ds._npz.cache_clear()
    d = ds.load_mnist_subset()  # (its load time is measured in benchmarks, not asserted here)
    X, _ = d.X_numeric()
    assert X.shape == (5000, 784) and d.input_shape == (1, 28, 28)
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(np.round(X * 255, 9))) <= set(range(256))
    assert d.y.value_counts().eq(500).all() and d.y.nunique() == 10
    np.testing.assert_array_equal(d.domain.lower, 0.0)
    np.testing.assert_array_equal(d.domain.upper, 1.0)
    raw = ds.load("mnist", scale=False)
    np.testing.assert_array_equal(raw.X_numeric()[0], np.round(X * 255))
    assert raw.domain.integer.all() and raw.domain.upper.max() == 255


def test_fashion_pairs_official_split():
    tr = ds.load_fashion_pair("ankle_boot_vs_bag", split="train")
    te = ds.load_fashion_pair("ankle_boot_vs_bag", split="test")
    assert (tr.n_rows, te.n_rows) == (12000, 2000)
    assert tr.y.value_counts().to_dict() == {0: 6000, 1: 6000}
    assert te.class_names == ["bag", "ankle_boot"] and te.input_shape == (1, 28, 28)
    # train and test images are different images
    a = {r.tobytes() for r in tr.X_numeric()[0][:500]}
    assert not a.intersection(r.tobytes() for r in te.X_numeric()[0])
    cp = ds.load("coat_vs_pullover", split="test")
    assert cp.class_names == ["pullover", "coat"] and cp.n_rows == 2000
    with pytest.raises(DataError, match="pair"):
        ds.load_fashion_pair("shirt_vs_sneaker")


# ---------------------------------------------------------------------------------------- API errors, subsets
def test_load_errors_are_mipnet_errors():
    with pytest.raises(MipnetError, match="unknown dataset"):
        ds.load("iris")
    with pytest.raises(DataError, match="no option 'foo'"):
        ds.load("compas", foo=1)
    with pytest.raises(DataError, match="no option 'pair'"):
        ds.load("fashion_coat_vs_pullover", pair="ankle_boot_vs_bag")
    assert ds.canonical_name("Auto-MPG") == "autompg"


def test_sample_and_split_keep_domain_and_balance():
    d = ds.load("german")
    s = d.sample(100, random_state=3)
    assert s.n_rows == 100 and int(s.y.sum()) == 30  # stratified: 30 % bad
    assert s.domain.to_dict() == d.domain.to_dict()
    tr, te = d.train_test_split(test_size=0.2, random_state=1)
    assert (tr.n_rows, te.n_rows) == (800, 200) and int(te.y.sum()) == 60
    assert tr.domain.contains(tr.X_numeric()[0]).all() and te.domain.contains(te.X_numeric()[0]).all()
    assert d.sample(100, random_state=3).frame.equals(s.frame)  # deterministic
    with pytest.raises(DataError):
        d.sample(5000)


# ---------------------------------------------------------------------------------------- CLI
def test_cli_lists_every_dataset(cli):
    res = CliRunner().invoke(cli, ["datasets"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 + len(NAMES)
    assert lines[1].split()[:4] == ["compas", "6172", "13", "classify"]
    assert any(line.split()[:4] == ["autompg", "392", "9", "regress"] for line in lines)


def test_cli_exports_numeric_frame(cli, tmp_path: Path):
    out = tmp_path / "compas.csv"
    res = CliRunner().invoke(cli, ["datasets", "compas", "-o", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    d = ds.load_compas()
    X, names = d.X_numeric()
    assert df.shape == (6172, 14)
    assert list(df.columns) == names + ["two_year_recid"]
    np.testing.assert_array_equal(df[names].to_numpy(dtype=float), X)
    np.testing.assert_array_equal(df["two_year_recid"].to_numpy(), d.y.to_numpy())
    assert [p.name for p in tmp_path.iterdir()] == ["compas.csv"]  # no temporary file left behind


def test_cli_options_describe_and_raw_export(cli, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "adult_test.csv"
    res = runner.invoke(cli, ["datasets", "adult", "--set", "split=test", "--raw", "-o", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    assert len(df) == 15060 and not pd.api.types.is_numeric_dtype(df["workclass"])
    assert set(df["workclass"]) >= {"Private", "State-gov"}
    res = runner.invoke(cli, ["datasets", "heart"])
    assert res.exit_code == 0 and "monotone increasing in: rest_sbp, cholesterol" in res.output
    assert "rows: 297" in res.output


def test_cli_unknown_name_or_option_exits_2(cli, tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "x.csv"
    res = runner.invoke(cli, ["datasets", "blogfeedback", "-o", str(out)])
    assert res.exit_code == 2 and "unknown dataset" in res.output
    assert not out.exists()
    res = runner.invoke(cli, ["datasets", "compas", "--set", "split"])
    assert res.exit_code == 2 and "KEY=VALUE" in res.output
    res = runner.invoke(cli, ["datasets", "heart", "--set", "split=train", "--set", "split=test", "-o", str(out)])
    assert res.exit_code == 2 and "more than once" in res.output and not out.exists()  # (the last one was kept)


# ---------------------------------------------------------------------------------------- vendored files
def test_vendored_files_match_provenance_checksums():
    import hashlib
    import re

    data = Path(ds.__file__).parents[1] / "data"  # mipnet/data (ds is the package mipnet/datasets/)
    text = (data / "PROVENANCE.md").read_text(encoding="utf-8")
    sums = dict((f, h) for h, f in re.findall(r"^([0-9a-f]{64})  (\S+)$", text, flags=re.M))
    assert len(sums) == 9
    for fname, digest in sums.items():
        assert hashlib.sha256((data / fname).read_bytes()).hexdigest() == digest, fname
    total = sum(p.stat().st_size for p in data.iterdir())
    assert total < 20 * 2**20


def test_loaders_never_open_a_network_connection(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("a data set loader tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for fn in (ds._compas_raw, ds._adult_raw, ds._german_raw, ds._heart_raw, ds._autompg_raw, ds._sklearn_raw, ds._npz):
        fn.cache_clear()
    for name in (
        "compas",
        "adult",
        "german",
        "heart",
        "autompg",
        "breast_cancer",
        "digits",
        "mnist_subset",
        "fashion_coat_vs_pullover",
    ):
        assert ds.load(name).n_rows > 0
