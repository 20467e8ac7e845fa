"""Wall-clock budgets: one :class:`Deadline` per command, every stage gets only what is left.

A time limit in mipnet is a promise about the wall-clock time of the whole call: bounds, model building,
translation to the solver, attacks, warm starts, heuristics, every round and every re-check count against it,
not only the solver's own clock. The promise, checked by the tests and ``benchmarks/time_limits.py``:

    wall time <= limit * (1 + OVERSHOOT_SHARE) + OVERSHOOT_SECONDS

(the overshoot covers what cannot be interrupted midway: one Pyomo model build or translation to the solver
that was started with time to spare, the solver's own reaction to its limit, and writing the result).

Usage: a public function takes ``time_limit`` as seconds (a float) or as a :class:`Deadline` (a caller that
started the clock earlier, e.g. the command line before it read the data) and calls ``Deadline.of``; each
stage takes a sub-budget (:meth:`Deadline.sub`) or asks what is left (:meth:`Deadline.remaining`), a solve
gets ``deadline.solver_limit()``. ``Deadline(None)`` is no limit at all (``remaining()`` is ``inf``).

The clock is :func:`time.monotonic` (system-wide on Linux and macOS), so a deadline can be passed to worker
processes on the same machine.

Work that cannot be interrupted (one Pyomo model build, one translation to HiGHS) is started only when
:meth:`Deadline.allows` says the estimate of its cost fits in what is left; :class:`Rate` keeps such
estimates (seconds per unit of work, measured as the work goes).
"""

from __future__ import annotations

import math
import time
from typing import Any

#: the documented allowance over a time limit: limit * (1 + OVERSHOOT_SHARE) + OVERSHOOT_SECONDS
OVERSHOOT_SHARE = 0.10
OVERSHOOT_SECONDS = 5.0
#: the least time limit handed to a solver: a solve asked to run for 0 s may mean "no limit" to some
MIN_SOLVER_SECONDS = 0.05


def promised(limit: float) -> float:
    """The most wall time a call with time limit ``limit`` may take (the module docstring's promise)."""
    return float(limit) * (1.0 + OVERSHOOT_SHARE) + OVERSHOOT_SECONDS


class Deadline:
    """A point on the monotonic clock by which the work must be done (``None``: no limit).

    ``Deadline(seconds)`` starts now. ``remaining()`` is the time left (>= 0, ``inf`` without a limit),
    ``expired()`` whether none is left, ``sub(seconds)`` / ``sub(fraction=f)`` a sub-budget that ends no
    later than this one, ``solver_limit()`` the value to pass as a solver's ``time_limit``.
    """

    __slots__ = ("at", "seconds", "started")

    def __init__(self, seconds: float | None = None, *, at: float | None = None) -> None:
        now = time.monotonic()
        self.started = now
        if at is not None:
            self.at: float | None = float(at)
            self.seconds: float | None = max(0.0, self.at - now)
        elif seconds is None or (isinstance(seconds, float) and math.isinf(seconds) and seconds > 0):
            self.at, self.seconds = None, None
        else:
            s = float(seconds)
            if math.isnan(s):
                raise ValueError("a time limit must be a number of seconds, got NaN")
            s = max(0.0, s)
            self.at, self.seconds = now + s, s

    # ------------------------------------------------------------------ construction
    @classmethod
    def of(cls, limit: "Deadline | float | int | None") -> "Deadline":
        """``limit`` itself if it is a Deadline, else a new one of ``limit`` seconds starting now."""
        if isinstance(limit, Deadline):
            return limit
        return cls(limit)

    @classmethod
    def none(cls) -> "Deadline":
        """No limit."""
        return cls(None)

    def sub(self, seconds: float | None = None, *, fraction: float | None = None) -> "Deadline":
        """A sub-budget starting now: ``seconds``, or ``fraction`` of the time left; never past this deadline.

        Without a limit, ``sub(seconds)`` is a plain budget of ``seconds`` and ``sub(fraction=f)`` no limit."""
        if (seconds is None) == (fraction is None):
            raise ValueError("give the sub-budget as seconds or as a fraction, not both")
        now = time.monotonic()
        if seconds is not None:
            end = now + max(0.0, float(seconds))
        elif self.at is None:
            return Deadline(None)
        else:
            end = now + max(0.0, float(fraction)) * max(0.0, self.at - now)  # type: ignore[arg-type]
        if self.at is not None:
            end = min(end, self.at)
        return Deadline(at=end)

    def share(self, parts: int) -> "Deadline":
        """An equal share of what is left among ``parts`` stages still to run (this one included)."""
        return self.sub(fraction=1.0 / max(1, int(parts)))

    # ------------------------------------------------------------------ queries
    @property
    def unlimited(self) -> bool:
        return self.at is None

    def remaining(self) -> float:
        """Seconds left (0 once expired; ``inf`` without a limit)."""
        if self.at is None:
            return math.inf
        return max(0.0, self.at - time.monotonic())

    def elapsed(self) -> float:
        """Seconds since this deadline was made."""
        return time.monotonic() - self.started

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def allows(self, seconds: float) -> bool:
        """Whether work estimated at ``seconds`` fits in what is left."""
        return self.remaining() >= float(seconds)

    def solver_limit(self, cap: float | None = None, floor: float = MIN_SOLVER_SECONDS) -> float | None:
        """The ``time_limit`` for a solve: what is left (at most ``cap``, at least ``floor``); None = no limit."""
        left = self.remaining()
        if cap is not None:
            left = min(left, float(cap))
        if math.isinf(left):
            return None
        return max(float(floor), left)

    def __repr__(self) -> str:
        if self.at is None:
            return "Deadline(None)"
        return f"Deadline({self.remaining():.2f} s left of {self.seconds:.2f} s)"

    def __getstate__(self) -> dict[str, Any]:
        return {"at": self.at, "seconds": self.seconds, "started": self.started}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.at, self.seconds, self.started = state["at"], state["seconds"], state["started"]


def limit_seconds(limit: "Deadline | float | int | None") -> float | None:
    """The limit in seconds for messages and records (a Deadline: its full budget)."""
    if isinstance(limit, Deadline):
        return limit.seconds
    return None if limit is None else float(limit)


class OutOfTime(Exception):
    """Raised inside a stage that cannot finish within its deadline (e.g. a model whose building would not
    end in time); the caller catches it and returns what it has, without any proof."""


class Rate:
    """Seconds per unit of work, measured as the work goes (a running mean, seeded by a prior guess).

    Used to decide whether an uninterruptible step (building N more samples' constraints, translating a model
    of R rows to HiGHS) fits in what is left: ``estimate(units)``."""

    __slots__ = ("seconds", "units", "prior")

    def __init__(self, prior: float) -> None:
        self.prior = float(prior)
        self.seconds = 0.0
        self.units = 0.0

    def add(self, seconds: float, units: float) -> None:
        self.seconds += max(0.0, float(seconds))
        self.units += max(0.0, float(units))

    @property
    def per_unit(self) -> float:
        return self.seconds / self.units if self.units > 0 else self.prior

    def estimate(self, units: float) -> float:
        return self.per_unit * max(0.0, float(units))


__all__ = [
    "Deadline",
    "OutOfTime",
    "Rate",
    "promised",
    "limit_seconds",
    "OVERSHOOT_SHARE",
    "OVERSHOOT_SECONDS",
    "MIN_SOLVER_SECONDS",
]
