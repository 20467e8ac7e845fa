"""The options of one training run, typed and built once: :class:`TrainOptions`.

:func:`mipnet.train.train` takes its options as keyword arguments (its interface is unchanged); it builds one
:class:`TrainOptions` from them and hands it whole to the pipeline (:func:`.trainer.train_with_options`), the conv
trainer (:func:`.conv_trainer.train_conv`) and their helpers. What the run optimises is the
:class:`~.formulation.TrainConfig` (hypothesis class, loss, penalties, budgets); how it is solved is a
:class:`~mipnet.solve.SolveOptions` (solver, threads, MIP gap, seed, progress, checked when built); the rest is
the pipeline's own switches and the whole fit's time limit.

The time limit stays what ``train(time_limit=...)`` takes: seconds or a :class:`~mipnet.deadline.Deadline`
started by the caller, for the whole fit (``+inf`` or None: no limit). ``solve.time_limit`` holds the same limit
in seconds (None without one), as the certificate records it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..deadline import Deadline, limit_seconds
from ..solve import OptionError, Progress, SolveOptions
from .formulation import TrainConfig
from .scale_policy import ScalePolicy

#: train()'s default MIP gap (relative): the trainer proves optimality, not a 1e-4 gap
TRAIN_MIP_GAP = 1e-6


@dataclass(frozen=True)
class TrainOptions:
    """Everything :func:`~mipnet.train.train` needs besides the data (``X``, ``y``, ``task``, ``domain``,
    ``classes``).

    * ``config``: the optimisation problem (hypothesis, loss, penalties, budgets; None: ``TrainConfig()``).
    * ``solve``: solver, threads, ``mip_gap``, ``seed`` (the gradient net, the surrogate, cross-validation
      splits), ``progress``; ``solve.time_limit`` is ``time_limit`` in seconds.
    * ``time_limit``: the whole fit's budget, seconds or a running :class:`~mipnet.deadline.Deadline`.
    * ``warm_start``: start from the gradient-trained net mapped into the class (and the surrogate's net in
      the sign class); ``lp_heuristic_rounds``: rounds of the LP heuristic on that start (0: none).
    * ``sign_patterns``, ``hull_cuts``: solve the sign class pattern by pattern, with convex-combination cuts.
    * ``l1_grid``, ``cv_folds``: choose l1 from the grid by ``cv_folds``-fold cross-validation (None: no).
    * ``group_bound``, ``group_processes``: the sample-group lower bound (number of groups, processes).
    * ``merge_duplicates``: one weighted row per distinct (standardised x, label).
    * ``linear``: the linear (skip) term w0 x (:mod:`.linear_term`); ``constraints``: domain constraints
      (:mod:`.constraints`, objects or JSON-style dicts).
    * conv nets: ``input_shape``, ``downsample``, ``gradient_epochs``, ``initial_weights``.
    * ``scale_policy``: build the training MILP only if it fits the time left and memory (:mod:`.scale_policy`).
    * ``cutting_planes``: the linear term alone with a convex loss by cutting planes (:mod:`.linear_cuts`).
    * ``tee``: the solver's log; ``log``: the pipeline's stage lines.
    """

    config: TrainConfig | None = None
    solve: SolveOptions = field(default_factory=SolveOptions)
    time_limit: float | Deadline | None = 60.0
    warm_start: bool = True
    lp_heuristic_rounds: int = 10
    tee: bool = False
    log: Callable[[str], None] | None = field(default=None, compare=False)
    group_bound: int | None = None
    group_processes: int = 1
    sign_patterns: bool = False
    hull_cuts: bool = True
    l1_grid: tuple[float, ...] | None = None
    cv_folds: int = 5
    merge_duplicates: bool = True
    input_shape: tuple[int, ...] | None = None
    downsample: int = 1
    gradient_epochs: int = 300
    initial_weights: Any = field(default=None, compare=False)
    #: the linear (skip) term (:mod:`.linear_term`) and the domain constraints as given (:mod:`.constraints`)
    linear: bool = False
    constraints: tuple[Any, ...] = ()
    #: whether the training MILP is built at all (:class:`~.scale_policy.ScalePolicy`; None: defaults + environment)
    scale_policy: ScalePolicy | None = None
    #: the linear term alone by cutting planes on its convex loss (:mod:`.linear_cuts`) where that applies
    cutting_planes: bool = True

    def __post_init__(self) -> None:
        tl = self.time_limit
        if tl is not None and not isinstance(tl, Deadline):
            if isinstance(tl, bool) or not isinstance(tl, (int, float)):
                raise OptionError(f"time_limit must be a number of seconds or a Deadline, got {tl!r}")
            if math.isnan(tl) or tl < 0:
                raise OptionError(f"time_limit must be a number of seconds >= 0, got {tl!r}")
        if self.l1_grid is not None and not isinstance(self.l1_grid, tuple):
            object.__setattr__(self, "l1_grid", tuple(self.l1_grid))
        if self.input_shape is not None and not isinstance(self.input_shape, tuple):
            object.__setattr__(self, "input_shape", tuple(self.input_shape))
        if not isinstance(self.constraints, tuple):
            from .constraints import as_constraints

            object.__setattr__(self, "constraints", tuple(as_constraints(self.constraints)))

    @classmethod
    def build(
        cls,
        *,
        config: TrainConfig | None = None,
        solver: str = "highs",
        time_limit: float | Deadline | None = 60.0,
        threads: int | None = None,
        mip_gap: float = TRAIN_MIP_GAP,
        seed: int | None = 0,
        progress: Progress | None = None,
        l1_grid: Sequence[float] | None = None,
        input_shape: Sequence[int] | None = None,
        **switches: Any,
    ) -> "TrainOptions":
        """The options of :func:`~mipnet.train.train`'s keyword arguments (same names, same defaults); the
        solver's part becomes one checked :class:`~mipnet.solve.SolveOptions`."""
        solve = SolveOptions(
            solver=solver,
            time_limit=solve_seconds(time_limit),
            threads=threads,
            mip_gap=mip_gap,
            seed=seed,
            progress=progress,
        )
        return cls(
            config=config,
            solve=solve,
            time_limit=time_limit,
            l1_grid=None if l1_grid is None else tuple(float(v) for v in l1_grid),
            input_shape=None if input_shape is None else tuple(int(s) for s in input_shape),
            **switches,
        )

    # ------------------------------------------------------------------ views used by the pipeline
    @property
    def deadline(self) -> Deadline:
        """A :class:`~mipnet.deadline.Deadline` of ``time_limit`` (the caller's own if it gave one; else started
        now: call once per run)."""
        return Deadline.of(self.time_limit)

    @property
    def limit_seconds(self) -> float | None:
        """``time_limit`` in seconds for messages and records (a Deadline: its full budget)."""
        return limit_seconds(self.time_limit)

    @property
    def solver(self) -> str:
        return self.solve.solver

    @property
    def threads(self) -> int | None:
        return self.solve.threads

    @property
    def mip_gap(self) -> float:
        """The MILP's relative gap (:data:`TRAIN_MIP_GAP` when ``solve.mip_gap`` is None)."""
        return TRAIN_MIP_GAP if self.solve.mip_gap is None else self.solve.mip_gap

    @property
    def seed(self) -> int | None:
        return self.solve.seed

    @property
    def progress(self) -> Progress | None:
        return self.solve.progress

    def say(self) -> Callable[[str], None]:
        """``log`` or a function that drops the line."""
        return self.log or (lambda s: None)

    def record(self) -> dict[str, Any]:
        """The solve settings :func:`~.outcome.finish` records in the certificate."""
        return dict(solver=self.solver, time_limit=self.limit_seconds, threads=self.threads, mip_gap=self.mip_gap)


def solve_seconds(time_limit: float | Deadline | None) -> float | None:
    """A fit's time limit as :class:`~mipnet.solve.SolveOptions` takes it: seconds, None for no limit (a
    Deadline: its full budget; ``+inf``: no limit). A negative or NaN limit is an
    :class:`~mipnet.solve.OptionError`."""
    seconds = limit_seconds(time_limit)
    if seconds is not None and math.isinf(seconds) and seconds > 0:
        return None
    return seconds


__all__ = ["TrainOptions", "SolveOptions", "TRAIN_MIP_GAP", "solve_seconds"]
