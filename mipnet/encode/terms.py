"""Terms: the values of one layer inside a Pyomo model, with sound elementwise bounds.

A :class:`Terms` holds an object array (the layer's shape) whose entries are Pyomo variables,
linear expressions, or plain floats (constants, e.g. a training sample or a stable-off ReLU), and
float arrays ``lower`` <= value <= ``upper`` valid for every point the model admits. Every layer
encoder maps input Terms to output Terms; the bounds travel with the values so that big-M
constants are always derived from sound bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo


@dataclass
class Terms:
    expr: np.ndarray  # object array of Pyomo components/expressions or floats
    lower: np.ndarray
    upper: np.ndarray

    def __post_init__(self) -> None:
        self.lower = np.asarray(self.lower, dtype=np.float64)
        self.upper = np.asarray(self.upper, dtype=np.float64)
        if self.expr.shape != self.lower.shape or self.expr.shape != self.upper.shape:
            raise ValueError(f"Terms shapes differ: {self.expr.shape}, {self.lower.shape}, {self.upper.shape}")

    @property
    def shape(self) -> tuple[int, ...]:
        return self.expr.shape

    def reshape(self, shape: tuple[int, ...]) -> "Terms":
        return Terms(self.expr.reshape(shape), self.lower.reshape(shape), self.upper.reshape(shape))

    def flat(self) -> "Terms":
        return self.reshape((-1,))

    def is_constant(self) -> np.ndarray:
        """Elementwise: True where the entry is a plain number (not a Pyomo object)."""
        return np.vectorize(is_number, otypes=[bool])(self.expr)

    def values(self) -> np.ndarray:
        """Current numeric values (after a solve): floats for constants, ``pyo.value`` for the rest.

        A variable that occurs in no constraint or objective (an input whose weights are all zero)
        gets no value from the solver; any value within its bounds is then equally optimal, and we
        return the midpoint of its bounds (rounded for integer variables).
        """
        vals = np.vectorize(_value, otypes=[np.float64])(self.expr)
        missing = np.isnan(vals)
        if missing.any():
            mid = np.where(
                np.isfinite(self.lower) & np.isfinite(self.upper),
                0.5 * (self.lower + self.upper),
                np.where(np.isfinite(self.lower), self.lower, np.where(np.isfinite(self.upper), self.upper, 0.0)),
            )
            is_int = np.vectorize(lambda e: hasattr(e, "is_integer") and e.is_integer(), otypes=[bool])(self.expr)
            mid = np.where(is_int, np.clip(np.round(mid), np.ceil(self.lower), np.floor(self.upper)), mid)
            vals = np.where(missing, mid, vals)
        return vals

    @classmethod
    def constant(cls, values: np.ndarray) -> "Terms":
        values = np.asarray(values, dtype=np.float64)
        expr = np.empty(values.shape, dtype=object)
        expr.flat[:] = [float(v) for v in values.ravel()]
        return cls(expr, values.copy(), values.copy())


def is_number(e: Any) -> bool:
    """Whether a Terms entry is a plain number (a constant) rather than a Pyomo variable or expression."""
    return isinstance(e, (int, float, np.floating, np.integer))


def _value(e: Any) -> float:
    if is_number(e):
        return float(e)
    v = pyo.value(e, exception=False)
    return float("nan") if v is None else float(v)


def new_vars(block: pyo.Block, name: str, lower: np.ndarray, upper: np.ndarray, domain: Any = pyo.Reals) -> np.ndarray:
    """An indexed Var named ``name`` on ``block`` with elementwise bounds, as an object array."""
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    n = lower.size
    lo, hi = lower.ravel(), upper.ravel()

    def _bounds(_m: Any, i: int) -> tuple[float | None, float | None]:
        return (float(lo[i]) if np.isfinite(lo[i]) else None, float(hi[i]) if np.isfinite(hi[i]) else None)

    var = pyo.Var(range(n), domain=domain, bounds=_bounds)
    block.add_component(name, var)
    out = np.empty(n, dtype=object)
    out[:] = [var[i] for i in range(n)]
    return out.reshape(lower.shape)


def new_binaries(block: pyo.Block, name: str, shape: tuple[int, ...], relax: bool = False) -> np.ndarray:
    """Binary indicators (continuous in [0, 1] when ``relax``), as an object array of ``shape``."""
    zeros = np.zeros(shape)
    return new_vars(block, name, zeros, zeros + 1.0, pyo.UnitInterval if relax else pyo.Binary)


def constraint_list(block: pyo.Block, name: str) -> pyo.ConstraintList:
    cl = pyo.ConstraintList()
    block.add_component(name, cl)
    return cl


def linear_sum(coefs: np.ndarray, items: np.ndarray, constant: float = 0.0) -> Any:
    """sum_i coefs_i * items_i + constant, skipping zero coefficients; a float if nothing is variable."""
    total = float(constant)
    parts = []
    for c, e in zip(coefs, items):
        if c == 0.0:
            continue
        if isinstance(e, (int, float, np.floating)):
            total += float(c) * float(e)
        else:
            parts.append(float(c) * e)
    if not parts:
        return total
    return pyo.quicksum(parts, linear=True) + total if total != 0.0 else pyo.quicksum(parts, linear=True)
