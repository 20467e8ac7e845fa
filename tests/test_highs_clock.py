"""HiGHS keeps one clock per instance across runs: an LP run stops once that clock passes ``time_limit``. Every
time limit mipnet gives a highspy instance goes through :func:`mipnet.highs.set_time_limit`, which moves an LP's
limit by the time already on the clock (a reused master of the cutting planes reached 6 s on its clock after
15 758 solves, and every later solve with less than 6 s left stopped at once with no solution)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from mipnet.highs import highs_is_mip, new_highs, set_time_limit

ROOT = Path(__file__).resolve().parents[1] / "mipnet"


def _option(h, name: str) -> float:
    out = h.getOptionValue(name)
    return float(out[1] if isinstance(out, tuple) else out)  # (highspy returns (status, value))


def _instance(integer: bool):
    h = new_highs()
    for _ in range(3):
        h.addCol(1.0, 0.0, 10.0, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
    h.addRow(1.0, np.inf, 3, np.arange(3, dtype=np.int32), np.ones(3))
    if integer:
        h.changeColsIntegrality(3, np.arange(3, dtype=np.int32), np.ones(3, dtype=np.uint8))
    return h


@pytest.mark.parametrize("integer", [False, True])
def test_set_time_limit_moves_an_lp_limit_by_the_clock_not_a_mip_one(integer):
    h = _instance(integer)
    assert highs_is_mip(h) == integer
    for _ in range(20):
        h.run()
    on_clock = h.getRunTime()
    assert on_clock > 0
    set_time_limit(h, 5.0)
    expected = 5.0 if integer else 5.0 + on_clock
    assert _option(h, "time_limit") == pytest.approx(expected, abs=1e-9)
    set_time_limit(h, float("inf"))
    assert _option(h, "time_limit") == float("inf")


def test_no_time_limit_is_set_around_the_clock():
    """Every ``setOptionValue("time_limit", ...)`` of the package is in mipnet/highs.py (the Pyomo path moves its
    limit with :func:`~mipnet.highs.highs_time_limit`)."""
    pattern = re.compile(r"setOptionValue\(\s*[\"']time_limit[\"']")
    direct = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if p.name != "highs.py" and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert direct == [], direct
