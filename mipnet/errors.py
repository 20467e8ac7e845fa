"""Exception types. Every error a user can cause is a :class:`MipnetError` with a one-line message."""

from __future__ import annotations


class MipnetError(Exception):
    """Base class of every user-facing error (bad input, unsupported feature, missing solver)."""


class ModelFormatError(MipnetError):
    """A model file or object is malformed: bad JSON, wrong version, NaN weights, shapes that do not chain."""


class UnsupportedError(MipnetError):
    """A layer type, operator, solver or option that mipnet does not support (the message names it)."""


class DataError(MipnetError):
    """Input data do not fit the model: wrong columns, wrong shape, NaN or inf values."""


class CertificateFieldError(DataError):
    """A field of a certificate file does not read as what it claims (a sample that is not a list of numbers, an
    unknown norm): the file was edited or is corrupt, so a re-check counts it as a failed check (exit 1), not as a
    usage error."""


class SolverError(MipnetError):
    """A solver is missing, refused the model (licence size, bilinear terms) or failed."""


class BoundWarning(UserWarning):
    """A fitted parameter sits at its box (``bias_bound`` / ``--bias-bound``): the certificate holds for that box,
    and a larger box may fit better."""


class LimitError(SolverError):
    """A limit (time) ended the work before it had a result the user required (a network meeting the training
    constraints): not an input error. The command line exits 3 (unknown), as when a proof is cut short."""


class LicenceError(SolverError):
    """The model is larger than the solver's licence allows (the size-limited pip licence of Gurobi): an error of
    the whole command (exit 2), never one robustness row's "unknown" (:func:`mipnet.verify.robustness.rows`)."""
