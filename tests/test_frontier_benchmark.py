"""benchmarks/interpretable_frontier.py in its smallest mode (mipnet + L1-LR, tiny N), its skip rows, its size
count of the linear term and its target verdict."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "interpretable_frontier.py"


def _module() -> Any:
    spec = importlib.util.spec_from_file_location("interpretable_frontier", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def bench() -> Any:
    return _module()


def test_smallest_mode_table(bench: Any, tmp_path: Path) -> None:
    bench.main(
        [
            "--datasets",
            "breast_cancer",
            "--n",
            "30",
            "--seeds",
            "0",
            "--methods",
            "mipnet,l1lr,fasterrisk",
            "--hidden",
            "1",
            "--l1",
            "0.01",
            "--time-limit",
            "3",
            "--fasterrisk-python",
            str(tmp_path / "no-such-python"),
            "--out",
            str(tmp_path),
        ]
    )
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    by = {r["method"]: r for r in rows}
    assert set(by) == {"mipnet", "l1lr", "fasterrisk"}
    for meth in ("mipnet", "l1lr"):
        r = by[meth]
        assert r["n_train"] == 30 and r["n_test"] > 100
        assert 0.5 < r["acc"] <= 1.0 and 0.5 < r["auc"] <= 1.0
        assert isinstance(r["size"], int) and 0 <= r["size"] <= 30 * 2
    m = by["mipnet"]
    assert m["status"] in ("optimal", "feasible")
    assert m["gap"] is None or 0.0 <= m["gap"] <= 1.0 + 1e-9
    # the baseline that cannot run says why, with no number
    assert by["fasterrisk"]["status"].startswith("skipped: ") and "acc" not in by["fasterrisk"]
    table = (tmp_path / "table.md").read_text()
    header = next(line for line in table.splitlines() if line.startswith("| data set"))
    for col in ("size", "test acc", "AUC", "certificate gap"):
        assert col in header
    assert "skipped: " in table and "Target:" in table
    assert (tmp_path / "frontier_breast_cancer_30.png").stat().st_size > 1000


def test_linear_units_counted_once(bench: Any) -> None:
    # 2 hidden units + the linear term's two exact units (rows 2, 3: w0 and -w0; out-weights +1, -1)
    W1 = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, -1.0], [0.5, 0.0, -0.25], [-0.5, 0.0, 0.25]])
    W2 = np.array([[1.0, -1.0, 1.0, -1.0]])
    net = SimpleNamespace(
        layers=[SimpleNamespace(weight=W1), SimpleNamespace(), SimpleNamespace(weight=W2)],
        metadata={"linear_units": [[2, 3, 0]]},
    )
    assert bench.mipnet_size(net) == 3 + 2 + 2
    net.metadata = {}
    assert bench.mipnet_size(net) == int(np.count_nonzero(W1) + np.count_nonzero(W2))


def test_verdict_needs_a_certified_point_of_equal_size() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from interpretable import summary

    def row(method: str, size: int, acc: float, gap: float | None = None) -> dict[str, Any]:
        return {
            "dataset": "d",
            "N": 10,
            "n_train": 10,
            "n_test": 5,
            "seed": 0,
            "method": method,
            "setting": "",
            "size": size,
            "acc": acc,
            "auc": 0.5,
            "gap": gap,
            "status": "feasible",
            "time": 1.0,
        }

    agg = summary.aggregate([row("l1lr", 5, 0.70), row("mipnet", 4, 0.71, 0.2)])
    assert "**reached**" in summary.verdict(agg)[0]
    agg = summary.aggregate([row("l1lr", 5, 0.70), row("mipnet", 6, 0.75, 0.2)])
    assert "**not reached**" in summary.verdict(agg)[0]
    agg = summary.aggregate([row("l1lr", 5, 0.70), row("mipnet", 4, 0.75, None)])  # no proved bound: no claim
    assert "**not reached**" in summary.verdict(agg)[0]


def test_constraints_table_marks_a_violated_constraint() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from interpretable import summary

    def row(text: str, acc: float, holds: bool | None) -> dict[str, Any]:
        checks = [] if holds is None else [{"holds": holds, "measured": 0.3, "required": "|rate A - rate B| <= 0.1"}]
        return {
            "constraint": text,
            "acc": acc,
            "train_acc": acc,
            "size": 5,
            "features_used": 3,
            "test_parity_gap": 0.2,
            "checks": checks,
            "status": "feasible",
            "gap": None,
        }

    lines = summary.constraints_md([row("none", 0.70, None), row("a", 0.68, True), row("|b|", 0.71, False)])
    assert "| -0.020 |" in lines[3]
    assert "violates" in lines[4] and "+0.010" not in lines[4] and "\\|b\\|" in lines[4]
    assert all(line.count("|") - line.count("\\|") == lines[0].count("|") for line in lines)


def test_small_end_rows(bench: Any, tmp_path: Path) -> None:
    """mipnet_small: the linear term alone (no hidden unit left), with a feature budget K, and with a hidden unit;
    each row with its certificate's status and gap, sizes counted as for mipnet_linear."""
    bench.main(
        [
            *("--datasets", "breast_cancer", "--n", "30", "--seeds", "0", "--methods", "mipnet_small"),
            *("--small-l1", "0.1", "--small-k", "1", "--small-hidden", "1", "--time-limit", "3"),
            *("--no-plots", "--out", str(tmp_path)),
        ]
    )
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    by = {r["setting"]: r for r in rows}
    assert set(by) == {"linear only, l1=0.1", "linear only, K=1 features, l1=0.001", "linear + 1 hidden, l1=0.03"}
    for r in rows:
        assert r["method"] == "mipnet_small" and r["status"] in ("optimal", "feasible")
        assert r["gap"] is None or 0.0 <= r["gap"] <= 1.0 + 1e-9
    for setting in ("linear only, l1=0.1", "linear only, K=1 features, l1=0.001"):
        assert by[setting]["size"] == by[setting]["features_used"]  # the linear weights alone, each once
    assert by["linear only, K=1 features, l1=0.001"]["features_used"] <= 1
    assert "linear only, K=1 features" in (tmp_path / "table.md").read_text()
    with pytest.raises(ValueError, match="needs the linear term"):
        bench.fit_mipnet(
            np.zeros((4, 2)),
            np.array([0, 1, 0, 1]),
            np.zeros((2, 2)),
            np.array([0, 1]),
            hidden=0,
            l1=0.1,
            linear=False,
            time_limit=1.0,
            seed=0,
        )


def test_logistic_rows(bench: Any, tmp_path: Path) -> None:
    """mipnet_logistic: the linear term alone under the logistic loss, with a budget K and without; each row with its
    certificate's gap, the budget held."""
    bench.main(
        [
            *("--datasets", "breast_cancer", "--n", "30", "--seeds", "0", "--methods", "mipnet_logistic"),
            *("--small-k", "1", "--logistic-l1", "0.1", "--time-limit", "5", "--no-plots", "--out", str(tmp_path)),
        ]
    )
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    by = {r["setting"]: r for r in rows}
    assert set(by) == {"logistic, linear only, K=1 features, l1=0.001", "logistic, linear only, l1=0.1"}
    for r in rows:
        assert r["method"] == "mipnet_logistic" and r["status"] in ("optimal", "feasible")
        assert r["gap"] is None or 0.0 <= r["gap"] <= 1.0 + 1e-9
        assert r["size"] == r["features_used"]
    assert by["logistic, linear only, K=1 features, l1=0.001"]["features_used"] <= 1


def test_from_rows_merges_several_runs(bench: Any, tmp_path: Path) -> None:
    def run(ds: str, acc: float) -> Path:
        row = {"dataset": ds, "N": 10, "n_train": 10, "n_test": 5, "seed": 0, "method": "l1lr", "setting": "C=1"}
        row.update(acc=acc, auc=0.6, size=2, time=0.1)
        path = tmp_path / f"{ds}.json"
        path.write_text(
            json.dumps({"started": f"2026-01-0{len(ds) % 9 + 1}", "argv": ["--datasets", ds], "rows": [row]})
        )
        return path

    a, b = run("aa", 0.7), run("bbb", 0.8)
    bench.main(["--from-rows", f"{a},{b}", "--no-plots", "--out", str(tmp_path / "out")])
    saved = json.loads((tmp_path / "out" / "rows.json").read_text())
    assert [r["dataset"] for r in saved["rows"]] == ["aa", "bbb"] and saved["started"] == "2026-01-03"
    table = (tmp_path / "out" / "table.md").read_text()
    assert "| aa | 10 (10 / 5) | l1lr |" in table and "| bbb | 10 (10 / 5) | l1lr |" in table
    assert "--datasets aa;" in table and "--datasets bbb;" in table
