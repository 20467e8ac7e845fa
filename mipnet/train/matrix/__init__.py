"""The sign-class training MILP as sparse matrices handed straight to HiGHS: :class:`MatrixTrainingModel`
(:mod:`.model`, the formulation in its docstring) and its pieces (:mod:`.rows`). The Pyomo model
(:class:`~mipnet.train.formulation.TrainingProblem`) stays for the user-facing embedding and every other config."""

from .model import MatrixTrainingModel, SolveOutcome
from .rows import check_supported, lipschitz_pairs

__all__ = ["MatrixTrainingModel", "SolveOutcome", "check_supported", "lipschitz_pairs"]
