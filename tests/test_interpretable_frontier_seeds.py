"""benchmarks/interpretable/summary.py over several seeds: means and standard errors per setting, the target
verdict within error bars, and the paired frontier by size (no solver, hand-made rows)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from interpretable import summary  # noqa: E402


def row(method: str, seed: int, size: int, acc: float, gap: float | None = 0.0, setting: str = "") -> dict[str, Any]:
    r: dict[str, Any] = {"dataset": "d", "N": 100, "n_train": 100, "n_test": 400, "seed": seed, "method": method}
    r.update(setting=setting, size=size, acc=acc, auc=0.7, time=1.0)
    if method in summary.MIPNET:
        r.update(gap=gap, status="optimal" if gap == 0.0 else "feasible")
    return r


def test_standard_error_over_seeds() -> None:
    assert summary.se([0.7]) == 0.0 and summary.se([]) == 0.0
    assert summary.se([29 / 171] * 3) == 0.0  # np.std of equal floats is about 1e-16, not 0
    v = np.array([0.70, 0.72, 0.77])
    assert summary.se(v) == pytest.approx(np.std(v, ddof=1) / np.sqrt(3))


def test_aggregate_three_seeds() -> None:
    rows = [
        row("mipnet", s, size, acc, gap)
        for s, size, acc, gap in ((0, 3, 0.70, 0.0), (1, 4, 0.72, 0.1), (2, 5, 0.77, None))
    ]
    rows += [row("l1lr", s, 2, 0.71) for s in range(3)]
    rows.append({"dataset": "d", "N": 100, "n_train": 100, "n_test": 400, "seed": 0, "method": "ebm", "setting": ""})
    rows[-1]["status"] = "skipped: not installed (interpret)"
    agg = {e["method"]: e for e in summary.aggregate(rows)}
    m = agg["mipnet"]
    assert m["seeds"] == 3 and m["acc"] == pytest.approx(0.73)
    assert m["acc_se"] == pytest.approx(np.std([0.70, 0.72, 0.77], ddof=1) / np.sqrt(3))
    assert (m["size"], m["size_min"], m["size_max"]) == (4.0, 3.0, 5.0)
    assert m["gap"] is None and m["bounded"] == 2  # one seed without a proved bound: the setting has none
    assert agg["l1lr"]["acc_se"] == pytest.approx(0.0, abs=1e-12)
    assert "acc" not in agg["ebm"]
    lines = summary.table(summary.aggregate(rows))
    assert "SE over seeds" in lines[0]
    mline = next(line for line in lines if "| mipnet |" in line)
    assert "| 4.0 (3-5) |" in mline and "0.730 ± 0.021" in mline and "no bound (2 of 3 seeds bounded)" in mline
    assert "skipped: not installed" in next(line for line in lines if "| ebm |" in line)


def test_verdict_within_error_bars() -> None:
    base = [row("l1lr", s, 5, a) for s, a in enumerate((0.70, 0.74, 0.72))]  # 0.72 ± 0.0115
    close = [row("mipnet", s, 4, a, 0.1) for s, a in enumerate((0.70, 0.72, 0.71))]  # 0.71 ± 0.0058
    v = summary.verdict(summary.aggregate(base + close))
    assert "**reached**" in v[0]  # 0.71 + 0.006 >= 0.72 - 0.012
    assert "proved gap on every seed: 1 of 1" in v[1]
    far = [row("mipnet", s, 4, a, 0.1) for s, a in enumerate((0.65, 0.66, 0.67))]
    v = summary.verdict(summary.aggregate(base + far))
    assert "**not reached**" in v[0] and "x the summed error bars" in v[0]
    # the same mean with one seed has no error bar: strict
    one = [row("l1lr", 0, 5, 0.72), row("mipnet", 0, 4, 0.71, 0.1)]
    assert "**not reached**" in summary.verdict(summary.aggregate(one))[0]
    # within the error bars but without a proved bound on one seed: no claim
    nob = [row("mipnet", s, 4, a, None if s == 2 else 0.1) for s, a in enumerate((0.70, 0.72, 0.71))]
    v = summary.verdict(summary.aggregate(base + nob))
    assert "**not reached**" in v[0] and "best certified mipnet at size <= 5: none" in v[0]
    assert "0 of 1 mipnet settings" in v[1] and "no bound (2 of 3 seeds bounded)" in v[1]


def test_frontier_paired_over_seeds() -> None:
    rows = []
    for s, (fm, fb, unproved) in enumerate(((0.70, 0.68, 0.99), (0.71, 0.70, 0.99), (0.69, 0.70, 0.99))):
        rows.append(row("mipnet_small", s, 2, fm, 0.05, "K=2"))
        rows.append(row("mipnet", s, 1, unproved, None))  # no proved bound: never on the frontier
        rows.append(row("fasterrisk", s, 3, fb, setting="k=3"))
        rows.append(row("gosdt", s, 8, 0.75, setting="reg"))
    fr = {e["S"]: e for e in summary.frontier(rows, sizes=(1, 2, 3, 5))}
    assert sorted(fr) == [1, 2, 3, 5, 8]  # the budgets up to the largest size, and that size
    assert fr[1]["F"] is None and fr[1]["B"] is None and fr[1]["at_or_above"] is None
    assert fr[2]["F"][0] == pytest.approx(0.70) and fr[2]["B"] is None and fr[2]["D"] is None
    d = np.array([0.02, 0.01, -0.01])
    assert fr[3]["D"][0] == pytest.approx(d.mean()) and fr[3]["D"][1] == pytest.approx(np.std(d, ddof=1) / np.sqrt(3))
    assert fr[3]["D"][2] == 3 and fr[3]["B_method"] == "fasterrisk" and fr[3]["at_or_above"] is True
    assert fr[8]["B"][0] == pytest.approx(0.75) and fr[8]["B_method"] == "gosdt" and fr[8]["at_or_above"] is False
    md = summary.frontier_md(list(fr.values()))
    assert md[0].startswith("| data set | N | size <=") and "| **no** |" in md[-1] and "(gosdt)" in md[-1]
    assert "| none | none | none | - |" in md[2]


def test_difference_plot_written(tmp_path: Path) -> None:
    rows = [row("mipnet_small", s, 2, 0.70 + 0.01 * s, 0.05) for s in range(3)]
    rows += [row("l1lr", s, 2, 0.69, setting="C") for s in range(3)]
    fr = summary.frontier(rows, sizes=(1, 2))
    paths = summary.plot_difference(fr, tmp_path)
    assert paths == [tmp_path / "frontier_difference_100.png"] and paths[0].stat().st_size > 1000
    assert summary.plot_difference([e for e in fr if e["D"] is None], tmp_path / "none") == []


def test_cross_validated_settings_group_over_seeds() -> None:
    assert summary.setting_key("C=0.433 (cv)") == ("C by cv", "0.433")
    assert summary.setting_key("4 hidden, l1=cv (chose 0.01)") == ("4 hidden, l1=cv", "0.01")
    assert summary.setting_key("C=0.01") == ("C=0.01", None)
    rows = [row("l1lr", s, 7, a, setting=f"C={c} (cv)") for s, (a, c) in enumerate(((0.68, 0.43), (0.69, 0.08)))]
    (e,) = summary.aggregate(rows)
    assert e["seeds"] == 2 and e["setting"] == "C by cv (chose 0.43, 0.08)" and e["acc"] == pytest.approx(0.685)
