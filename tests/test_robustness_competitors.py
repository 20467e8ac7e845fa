"""benchmarks/robustness_competitors.py: its summary and targets on a tiny fake table, the skip reasons when
auto_LiRPA's venv is missing, the counterexample re-check and bound soundness check, and a one-query run."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from mipnet.domain import Domain
from mipnet.layers import Dense, ReLU
from mipnet.layers.hardtanh import HardTanh
from mipnet.network import Network

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.fixture(scope="module")
def summary() -> ModuleType:
    return importlib.import_module("robustness.competitors_summary")


def _row(model: str, eps: float, image: int, tool: str, verdict: str, seconds: float) -> dict[str, object]:
    return {"model": model, "eps": eps, "image": image, "tool": tool, "verdict": verdict, "seconds": seconds}


def _fake() -> pd.DataFrame:
    rows = [
        # image 1: robust for all; mipnet 0.2 s, Gurobi ML 1 s, CROWN proves in 0.05 s (4x)
        _row("m", 0.1, 1, "mipnet", "holds", 0.2),
        _row("m", 0.1, 1, "gurobi_ml", "holds", 1.0),
        _row("m", 0.1, 1, "crown", "holds", 0.05),
        _row("m", 0.1, 1, "alpha_crown", "holds", 0.5),
        # image 2: robust, mipnet 3 s against Gurobi ML 2 s; CROWN open
        _row("m", 0.1, 2, "mipnet", "holds", 3.0),
        _row("m", 0.1, 2, "gurobi_ml", "holds", 2.0),
        _row("m", 0.1, 2, "crown", "unknown", 0.01),
        _row("m", 0.1, 2, "alpha_crown", "unknown", 0.4),
        # image 3: violated, mipnet 40 s (over 30 s)
        _row("m", 0.1, 3, "mipnet", "violated", 40.0),
        _row("m", 0.1, 3, "gurobi_ml", "violated", 4.0),
        _row("m", 0.1, 3, "crown", "unknown", 0.01),
        _row("m", 0.1, 3, "alpha_crown", "unknown", 0.3),
    ]
    return pd.DataFrame(rows)


def test_summary_ratios_and_targets(summary: ModuleType) -> None:
    s = summary.summarise(_fake())
    assert len(s) == 1
    r = s.iloc[0]
    assert r.mipnet_hvue == "2/1/0/0" and r.crown_hvue == "1/0/2/0"
    assert r.robust_queries == 2
    assert r.ratio_gurobi_median == pytest.approx(np.median([0.2, 1.5]))
    assert r.ratio_gurobi_min == pytest.approx(0.2) and r.ratio_gurobi_max == pytest.approx(1.5)
    assert r.ratio_gurobi_all_median == pytest.approx(1.5)  # 0.2, 1.5, 10
    assert r.crown_proves == 1 and r.ratio_crown_max == pytest.approx(4.0) and r.crown_over_2x == 1
    assert r.alpha_crown_proves == 1 and r.ratio_alpha_crown_max == pytest.approx(0.4)
    assert r.mipnet_decided_30s == 2
    lines = "\n".join(summary.target_lines(s, crown_ran=True))
    assert r.hard_robust_queries == 1 and r.ratio_gurobi_hard_median == pytest.approx(1.5)
    assert "on 1 hard robust queries = 1.50 (target <= 0.5): **not reached**" in lines
    assert "= 4.00 (target <= 2): **not reached** (1 of 1 over 2x)" in lines
    assert "2 of 3: **not reached**" in lines
    md = "\n".join(summary.table(s))
    assert "| m | 0.1 | 2/1/0/0 | 2/1/0/0 | 1/2 | 1/2 |" in md
    assert summary.disagreements(_fake()).empty


def test_targets_reached_and_disagreement(summary: ModuleType) -> None:
    df = _fake()
    df.loc[(df.image == 2) & (df.tool == "mipnet"), "seconds"] = 0.4
    df.loc[(df.image == 1) & (df.tool == "crown"), "seconds"] = 0.15
    s = summary.summarise(df)
    lines = "\n".join(summary.target_lines(s, crown_ran=True))
    assert "hard robust queries = 0.20 (target <= 0.5): reached" in lines
    assert "max mipnet / CROWN on 1 queries CROWN proves = 1.33 (target <= 2): reached" in lines
    # without auto_LiRPA, the hard queries are those mipnet's own bound stage did not decide
    no_lirpa = df[~df.tool.isin(["crown", "alpha_crown"])].assign(detail="milp")
    no_lirpa.loc[(no_lirpa.image == 1) & (no_lirpa.tool == "mipnet"), "detail"] = "crown"
    s2 = summary.summarise(no_lirpa)
    assert s2.iloc[0].hard_robust_queries == 1
    lines = "\n".join(summary.target_lines(s2, crown_ran=False))
    assert "hard robust queries = 0.20 (target <= 0.5): reached" in lines and "CROWN" not in lines
    df.loc[(df.image == 3) & (df.tool == "gurobi_ml"), "verdict"] = "holds"
    bad = summary.disagreements(df)
    assert list(bad.image) == [3]
    df.loc[(df.image == 3) & (df.tool == "gurobi_ml"), "verdict"] = "unknown"
    assert summary.disagreements(df).empty  # unknown never disagrees


def test_lirpa_skip_reasons(summary: ModuleType, tmp_path: Path) -> None:
    py, why = summary.lirpa_python(None)
    assert py is None and "--lirpa-python" in why
    missing = tmp_path / "no-venv" / "python"
    py, why = summary.lirpa_python(str(missing))
    assert py is None and str(missing) in why and "does not exist" in why
    exe = tmp_path / "python"
    exe.write_text("")
    assert summary.lirpa_python(str(exe)) == (str(exe), "")


def _net() -> Network:
    W1 = np.array([[1.0, -1.0], [0.5, 1.0], [-1.0, 0.3]])
    W2 = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]])
    return Network([Dense(W1, np.zeros(3)), ReLU(), Dense(W2, np.array([0.1, 0.0]))], domain=Domain.box(2, 0.0, 1.0))


def test_recheck_and_bound_check() -> None:
    bench = importlib.import_module("robustness_competitors")
    net = _net()
    lo, hi = np.zeros(2), np.ones(2)
    x = np.array([0.9, 0.1])
    c = int(net.predict_index(net.forward(x[None]))[0])
    P = np.random.default_rng(0).uniform(lo, hi, (200, 2))
    other = P[net.predict_index(net.forward(P)) != c][0]
    assert bench.recheck(net, other, lo, hi, c) is True
    assert bench.recheck(net, x, lo, hi, c) is False  # keeps the class
    assert bench.recheck(net, other, lo, lo + 1e-3, c) is False  # outside the box
    assert bench.recheck(net, None, lo, hi, c) is None
    z = net.forward(P)
    true_min = np.min(z[:, c] - z[:, 1 - c])
    assert bench.bound_violations(net, np.array([true_min - 1.0]), c, [x], lo, hi, seed=0) == 0
    assert bench.bound_violations(net, np.array([true_min + 1.0]), c, [x], lo, hi, seed=0) > 0


def test_gurobi_ml_refuses_other_layers() -> None:
    gq = importlib.import_module("robustness.gurobi_ml_query")
    net = Network([Dense(np.eye(2), np.zeros(2)), HardTanh(), Dense(np.eye(2), np.zeros(2))], domain=Domain.box(2))
    with pytest.raises(ValueError, match="Dense-ReLU"):
        gq.weights(net)
    assert len(gq.weights(_net())) == 2


def test_one_query_run_without_lirpa(tmp_path: Path) -> None:
    pytest.importorskip("gurobi_ml")
    bench = importlib.import_module("robustness_competitors")
    args = ["--models", "digits", "--images", "1", "--eps", "0.05", "--time-limit", "20"]
    df = bench.main([*args, "--lirpa-python", str(tmp_path / "none"), "--out", str(tmp_path)])
    assert sorted(df.tool) == ["gurobi_ml", "mipnet"]
    assert set(df.verdict) <= {"holds", "violated"} and df.verdict.nunique() == 1
    md = (tmp_path / "competitors.md").read_text()
    assert "not run: auto_LiRPA's venv interpreter" in md and "**all agree**" in md
    assert "digits: 274 vars" in md  # Gurobi ML's model size, under the pip licence's limits
    notes = bench.NOTES + "\n\n## Findings\n\nwritten by hand\n"
    (tmp_path / "competitors.md").write_text(md + "\n" + notes)
    bench.main(["--report-only", "--out", str(tmp_path)])
    again = (tmp_path / "competitors.md").read_text()
    assert again.startswith(md) and again.endswith(notes)


def test_lirpa_worker_reports_a_missing_package() -> None:
    """The worker started where auto_LiRPA is not installed answers with the reason, and the column is skipped."""
    if importlib.util.find_spec("auto_LiRPA") is not None:
        pytest.skip("auto_LiRPA is installed in this interpreter")
    bench = importlib.import_module("robustness_competitors")
    w = bench.Lirpa(sys.executable, _net())
    try:
        assert not w.ready and "auto_LiRPA" in w.error
    finally:
        w.close()
